/*
 * mp.c - msgpack-c helpers: the bounds check that guards every decode, and small pack/read
 * conveniences. This is the only file besides changeset.c and merge.c that touches msgpack types.
 */
#include "node_int.h"

#include <string.h>

typedef struct mp_cursor {
	const uint8_t *p, *end;
} mp_cursor;

static hm_err mp_need(const mp_cursor *c, uint64_t n)
{
	return (uint64_t)(c->end - c->p) < n ? HM_ERR_TRUNCATED : HM_OK;
}

static uint64_t mp_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Read one header byte and its length fields: how many raw bytes follow (*skip) and how many
 * child objects follow (*children). */
static hm_err mp_head(mp_cursor *c, uint64_t *skip, uint64_t *children)
{
	static const struct {
		uint8_t lenbytes, fixed, kids; /* kids: 0 none, 1 array, 2 map */
	} ext[32] = {
	    /* 0xc0..0xdf */
	    [0x00] = {0, 0, 0},  [0x01] = {0, 0, 0}, [0x02] = {0, 0, 0}, [0x03] = {0, 0, 0},
	    [0x04] = {1, 0, 0},  [0x05] = {2, 0, 0}, [0x06] = {4, 0, 0}, /* bin */
	    [0x07] = {1, 1, 0},  [0x08] = {2, 1, 0}, [0x09] = {4, 1, 0}, /* ext: +1 type byte */
	    [0x0a] = {0, 4, 0},  [0x0b] = {0, 8, 0},                     /* float */
	    [0x0c] = {0, 1, 0},  [0x0d] = {0, 2, 0}, [0x0e] = {0, 4, 0}, [0x0f] = {0, 8, 0},
	    [0x10] = {0, 1, 0},  [0x11] = {0, 2, 0}, [0x12] = {0, 4, 0}, [0x13] = {0, 8, 0},
	    [0x14] = {0, 2, 0},  [0x15] = {0, 3, 0}, [0x16] = {0, 5, 0}, [0x17] = {0, 9, 0},
	    [0x18] = {0, 17, 0},                                         /* fixext */
	    [0x19] = {1, 0, 0},  [0x1a] = {2, 0, 0}, [0x1b] = {4, 0, 0}, /* str */
	    [0x1c] = {2, 0, 1},  [0x1d] = {4, 0, 1},                     /* array */
	    [0x1e] = {2, 0, 2},  [0x1f] = {4, 0, 2},                     /* map */
	};
	uint8_t b;
	hm_err err;

	if ((err = mp_need(c, 1)))
		return err;
	b = *c->p++;
	*skip = 0;
	*children = 0;
	if (b <= 0x7f || b >= 0xe0)
		return HM_OK; /* fixint */
	if (b >= 0x80 && b <= 0x8f) {
		*children = 2u * (b & 0x0f);
		return HM_OK;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*children = b & 0x0f;
		return HM_OK;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		*skip = b & 0x1f;
		return HM_OK;
	}
	if (b == 0xc1)
		return HM_ERR_CORRUPT; /* never used */
	{
		unsigned lb = ext[b - 0xc0].lenbytes, kids = ext[b - 0xc0].kids;
		uint64_t len = 0;
		if ((err = mp_need(c, lb)))
			return err;
		len = mp_be(c->p, lb);
		c->p += lb;
		if (kids == 1)
			*children = len;
		else if (kids == 2)
			*children = 2 * len;
		else
			*skip = len + ext[b - 0xc0].fixed;
	}
	return HM_OK;
}

hm_err hm_mp_check_caps(const uint8_t *buf, size_t len, const hm_mp_caps *caps)
{
	/* remaining[d]: objects still to read at depth d. */
	uint64_t remaining[HM_DEPTH_MAX + 2], objects = 0;
	unsigned depth = 0, max_depth = caps->depth;
	mp_cursor c = {buf, buf + len};
	hm_err err;

	if (max_depth > HM_DEPTH_MAX)
		max_depth = HM_DEPTH_MAX;
	remaining[0] = 1;
	while (1) {
		uint64_t skip, kids;
		while (depth > 0 && remaining[depth] == 0)
			depth--;
		if (depth == 0 && remaining[0] == 0)
			break;
		remaining[depth]--;
		if ((err = mp_head(&c, &skip, &kids)))
			return err;
		if ((err = mp_need(&c, skip)))
			return err;
		c.p += skip;
		if (kids == 0)
			continue;
		/* Each child needs at least one byte: a count beyond the bytes left is a lie. */
		if ((err = mp_need(&c, kids)))
			return err == HM_ERR_TRUNCATED ? HM_ERR_TOO_BIG : err;
		if (depth + 1 > max_depth)
			return HM_ERR_TOO_BIG;
		/* What msgpack-c will allocate: one object per child, before it reads any of them.
		 * A nil is one byte, so bytes alone do not bound this. */
		if (kids > (depth == 0 ? caps->root_items : caps->items) ||
		    kids > caps->objects - objects)
			return HM_ERR_TOO_BIG;
		objects += kids;
		remaining[++depth] = kids;
	}
	return c.p == c.end ? HM_OK : HM_ERR_CORRUPT;
}

hm_err hm_mp_check(const uint8_t *buf, size_t len, unsigned max_depth)
{
	hm_mp_caps caps = {max_depth, UINT64_MAX, UINT64_MAX, HM_DECODED_OBJECTS_MAX};
	return hm_mp_check_caps(buf, len, &caps);
}

hm_err hm_mp_decode_caps(const uint8_t *buf, size_t len, const hm_mp_caps *caps, msgpack_zone *zone,
                         msgpack_object *out)
{
	size_t off = 0;
	hm_err err = hm_mp_check_caps(buf, len, caps);

	if (err)
		return err;
	switch (msgpack_unpack((const char *)buf, len, &off, zone, out)) {
	case MSGPACK_UNPACK_SUCCESS:
		return off == len ? HM_OK : HM_ERR_CORRUPT;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return HM_ERR_NOMEM;
	case MSGPACK_UNPACK_CONTINUE:
		return HM_ERR_TRUNCATED;
	default:
		return HM_ERR_CORRUPT;
	}
}

hm_err hm_mp_decode(const uint8_t *buf, size_t len, msgpack_zone *zone, msgpack_object *out)
{
	hm_mp_caps caps = {HM_DEPTH_MAX, UINT64_MAX, UINT64_MAX, HM_DECODED_OBJECTS_MAX};
	return hm_mp_decode_caps(buf, len, &caps, zone, out);
}

static int sink_write(void *data, const char *buf, size_t len)
{
	hm_mp_sink *s = data;

	if (msgpack_sbuffer_write(s->sb, buf, len)) {
		s->failed = true;
		return -1;
	}
	return 0;
}

void hm_mp_sink_init(hm_mp_sink *s, msgpack_packer *pk, msgpack_sbuffer *sb)
{
	s->sb = sb;
	s->failed = false;
	msgpack_packer_init(pk, s, sink_write);
}

void hm_mp_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void hm_mp_pack_cstr(msgpack_packer *pk, const char *s)
{
	hm_mp_pack_str(pk, s, strlen(s));
}

void hm_mp_pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

void hm_mp_pack_value(msgpack_packer *pk, const hm_value *v)
{
	switch (v->kind) {
	case HM_V_BOOL:
		if (v->u.b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case HM_V_INT:
		msgpack_pack_int64(pk, v->u.i);
		break;
	case HM_V_FLOAT:
		msgpack_pack_double(pk, v->u.f);
		break;
	case HM_V_STR:
		hm_mp_pack_str(pk, v->u.s.p, v->u.s.n);
		break;
	case HM_V_NIL:
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

hm_err hm_mp_to_value(const msgpack_object *o, hm_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		v->kind = HM_V_NIL;
		return HM_OK;
	case MSGPACK_OBJECT_BOOLEAN:
		v->kind = HM_V_BOOL;
		v->u.b = o->via.boolean;
		return HM_OK;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return HM_ERR_TYPE;
		v->kind = HM_V_INT;
		v->u.i = (int64_t)o->via.u64;
		return HM_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		v->kind = HM_V_INT;
		v->u.i = o->via.i64;
		return HM_OK;
	case MSGPACK_OBJECT_FLOAT64:
	case MSGPACK_OBJECT_FLOAT32:
		v->kind = HM_V_FLOAT;
		v->u.f = o->via.f64;
		return HM_OK;
	case MSGPACK_OBJECT_STR:
		if (o->via.str.size > HM_STR_MAX)
			return HM_ERR_TYPE;
		v->kind = HM_V_STR;
		v->u.s.p = o->via.str.ptr;
		v->u.s.n = o->via.str.size;
		return HM_OK;
	default:
		return HM_ERR_TYPE;
	}
}

bool hm_mp_uint(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

bool hm_mp_int(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return true;
	}
	return false;
}

bool hm_mp_bin(const msgpack_object *o, const uint8_t **p, size_t *n)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return false;
	*p = (const uint8_t *)o->via.bin.ptr;
	*n = o->via.bin.size;
	return true;
}

bool hm_mp_str_eq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

bool hm_mp_str_copy(const msgpack_object *o, char *buf, size_t cap)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap)
		return false;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return true;
}
