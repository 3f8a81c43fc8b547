/*
 * merge.c - records and the CRDT rules that merge operations into them.
 *
 * A record is stored as canonical msgpack, identical on every replica that applied the same
 * change sets:
 *
 *   record = [tomb_hlc, tomb_origin: bin16 | nil, tomb_seq, {field: [value, hlc, origin, seq]}]
 *
 * with fields in byte order of their names. For a counter, value is the wrapping 64-bit sum of
 * every delta (addition mod 2^64 commutes, so arrival order cannot matter) and the stamp is the
 * greatest delta's.
 *
 * Rules, for an incoming write with stamp s (see node.h for the summary):
 *   lww field   s < tombstone: the write lost to a delete. Otherwise the greater of s and the
 *               held stamp wins; equal stamps only come from one change set, whose later op wins.
 *   counter     the delta is added, always.
 *   max         the greater value wins (values of one kind: numbers, or text such as dates, by
 *               bytes); equal values, the greater stamp. A max field outlives deletes as a
 *               counter does: a delete clearing it could drop a value a later write had lost
 *               to, and the result would depend on arrival order.
 *   unknown     a field this version's schema does not name (added by a newer one) merges as
 *               lww and is kept and passed on.
 *   delete D    the tombstone becomes max(tombstone, D); lww fields with stamp <= D are cleared,
 *               except the region field, which says where the record (and its tombstone) lives
 *               and merges as plain lww.
 *   append-only the insert with the smallest stamp wins the id; the other is a conflict.
 * A value that loses to a write of another origin goes to the conflict log (an equal value too);
 * so does any value of another origin cleared by a delete. Personal fields (HM_F_PII) are the
 * exception that privacy makes: when one is cleared (set to nil, as `hamlet purge` does), the
 * values it held are not logged, and those logged before are removed, so clearing personal data
 * leaves no copy of it in the conflict log of any replica that applies the clearing write; a
 * write that sets a record's purge date forgets its personal fields' logged losers, and while
 * the date is set none are logged, so after a purge no replica keeps one, whatever the order
 * writes arrived in (a value written after the purge wins or waits for the next purge). (A
 * delete still logs what it cleared: that is the delete's provenance; `purge` is the privacy
 * tool, docs/privacy.md.)
 */
#include "node_int.h"

#include <stdlib.h>
#include <string.h>

int hm_stamp_cmp(const hm_stamp *a, const hm_stamp *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	return memcmp(a->origin.b, b->origin.b, HM_NODE_ID_BYTES);
}

hm_err hm_merge_ctx_init(hm_merge_ctx *m)
{
	memset(m, 0, sizeof(*m));
	if (!msgpack_zone_init(&m->zone, 4096))
		return HM_ERR_NOMEM;
	if (!msgpack_zone_init(&m->envzone, 65536)) {
		msgpack_zone_destroy(&m->zone);
		return HM_ERR_NOMEM;
	}
	msgpack_sbuffer_init(&m->rec);
	msgpack_sbuffer_init(&m->confs);
	m->confs_nomem = false;
	msgpack_sbuffer_init(&m->plain);
	msgpack_sbuffer_init(&m->unz);
	msgpack_sbuffer_init(&m->sealbuf);
	return HM_OK;
}

void hm_merge_ctx_release(hm_merge_ctx *m)
{
	msgpack_zone_destroy(&m->zone);
	msgpack_zone_destroy(&m->envzone);
	msgpack_sbuffer_destroy(&m->rec);
	msgpack_sbuffer_destroy(&m->confs);
	hm_wipe(m->plain.data, m->plain.alloc); /* decrypted bodies hold personal data */
	msgpack_sbuffer_destroy(&m->plain);
	hm_wipe(m->unz.data, m->unz.alloc);
	msgpack_sbuffer_destroy(&m->unz);
	hm_wipe(m->sealbuf.data, m->sealbuf.alloc);
	msgpack_sbuffer_destroy(&m->sealbuf);
}

size_t hm_record_key(uint8_t *key, size_t cap, const char *coll, size_t cn, const char *id,
                     size_t idn, const char *region, size_t rn)
{
	if (cn + 1 + idn + 1 + rn > cap)
		return 0;
	memcpy(key, coll, cn);
	key[cn] = 0;
	memcpy(key + cn + 1, id, idn);
	key[cn + 1 + idn] = 0;
	memcpy(key + cn + 2 + idn, region, rn);
	return cn + 2 + idn + rn;
}

bool hm_record_key_split(const uint8_t *key, size_t kn, size_t *cn, const char **id, size_t *idn,
                         const char **region, size_t *rn)
{
	const uint8_t *z1 = memchr(key, 0, kn), *z2;

	if (!z1 || !(z2 = memchr(z1 + 1, 0, kn - (size_t)(z1 + 1 - key))))
		return false;
	*cn = (size_t)(z1 - key);
	*id = (const char *)z1 + 1, *idn = (size_t)(z2 - z1 - 1);
	*region = (const char *)z2 + 1, *rn = kn - (size_t)(z2 + 1 - key);
	return true;
}

static bool stamp_decode(const msgpack_object *hlc, const msgpack_object *origin,
                         const msgpack_object *seq, hm_stamp *s)
{
	const uint8_t *b;
	size_t n;

	if (!hm_mp_uint(hlc, &s->hlc) || !hm_mp_uint(seq, &s->seq))
		return false;
	if (origin->type == MSGPACK_OBJECT_NIL) {
		memset(s->origin.b, 0, HM_NODE_ID_BYTES);
		return true;
	}
	if (!hm_mp_bin(origin, &b, &n) || n != HM_NODE_ID_BYTES)
		return false;
	memcpy(s->origin.b, b, n);
	return true;
}

static int field_cmp(const void *a, const void *b)
{
	const hm_rfield *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = n ? memcmp(x->name, y->name, n) : 0; /* an empty name may have no pointer */
	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

hm_err hm_rec_decode(const uint8_t *buf, size_t len, msgpack_zone *zone, hm_rec *r)
{
	msgpack_object o;
	const msgpack_object *a;
	bool sorted = true;
	hm_err err;

	memset(&r->tomb, 0, sizeof(r->tomb));
	r->nf = 0;
	if ((err = hm_mp_decode(buf, len, zone, &o)) == HM_ERR_NOMEM)
		return err; /* the record may be whole: not for the callers to call it corrupt */
	if (err || o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 4)
		return HM_ERR_CORRUPT;
	a = o.via.array.ptr;
	if (!stamp_decode(&a[0], &a[1], &a[2], &r->tomb) || a[3].type != MSGPACK_OBJECT_MAP ||
	    a[3].via.map.size > HM_FIELDS_MAX)
		return HM_ERR_CORRUPT;
	for (uint32_t i = 0; i < a[3].via.map.size; i++) {
		const msgpack_object_kv *kv = &a[3].via.map.ptr[i];
		hm_rfield *f = &r->f[r->nf++];
		const msgpack_object *e = kv->val.via.array.ptr;

		if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_ARRAY ||
		    kv->val.via.array.size != 4)
			return HM_ERR_CORRUPT;
		f->name = kv->key.via.str.ptr;
		f->name_len = kv->key.via.str.size;
		f->counter = f->max = false;
		if (hm_mp_to_value(&e[0], &f->value) ||
		    !stamp_decode(&e[1], &e[2], &e[3], &f->stamp))
			return HM_ERR_CORRUPT;
		if (r->nf > 1 && field_cmp(f - 1, f) > 0)
			sorted = false;
	}
	if (!sorted) /* never written by hamlet; sorted so lookups can bisect */
		qsort(r->f, r->nf, sizeof(r->f[0]), field_cmp);
	return HM_OK;
}

static void stamp_pack(msgpack_packer *pk, const hm_stamp *s)
{
	msgpack_pack_uint64(pk, s->hlc);
	hm_mp_pack_bin(pk, s->origin.b, HM_NODE_ID_BYTES);
	msgpack_pack_uint64(pk, s->seq);
}

/* A record is encoded on every op, so it is written straight into a buffer reserved once, not
 * through msgpack_packer's per-element callback. The bytes are exactly msgpack-c's: the
 * smallest form of each integer and length, str8 for strings of 32 to 255 bytes. */
static uint8_t *put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
	return p + n;
}

static uint8_t *put_uint(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		*p++ = (uint8_t)v;
		return p;
	}
	if (v < 0x100)
		return *p++ = 0xcc, put_be(p, v, 1);
	if (v < 0x10000)
		return *p++ = 0xcd, put_be(p, v, 2);
	if (v < 0x100000000ull)
		return *p++ = 0xce, put_be(p, v, 4);
	return *p++ = 0xcf, put_be(p, v, 8);
}

static uint8_t *put_int(uint8_t *p, int64_t v)
{
	if (v >= -32)
		return v < 0 ? (*p++ = (uint8_t)v, p) : put_uint(p, (uint64_t)v);
	if (v >= -128)
		return *p++ = 0xd0, put_be(p, (uint64_t)v, 1);
	if (v >= -32768)
		return *p++ = 0xd1, put_be(p, (uint64_t)v, 2);
	if (v >= -2147483648ll)
		return *p++ = 0xd2, put_be(p, (uint64_t)v, 4);
	return *p++ = 0xd3, put_be(p, (uint64_t)v, 8);
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
	if (n < 32)
		*p++ = (uint8_t)(0xa0 | n);
	else if (n < 0x100)
		*p++ = 0xd9, p = put_be(p, n, 1);
	else if (n < 0x10000)
		*p++ = 0xda, p = put_be(p, n, 2);
	else
		*p++ = 0xdb, p = put_be(p, n, 4);
	if (n) /* an empty string may have no pointer */
		memcpy(p, s, n);
	return p + n;
}

static uint8_t *put_stamp(uint8_t *p, const hm_stamp *s)
{
	p = put_uint(p, s->hlc);
	*p++ = 0xc4, *p++ = HM_NODE_ID_BYTES;
	memcpy(p, s->origin.b, HM_NODE_ID_BYTES);
	return put_uint(p + HM_NODE_ID_BYTES, s->seq);
}

static uint8_t *put_value(uint8_t *p, const hm_value *v)
{
	double f;
	uint64_t bits;

	switch (v->kind) {
	case HM_V_BOOL:
		*p++ = v->u.b ? 0xc3 : 0xc2;
		return p;
	case HM_V_INT:
		return put_int(p, v->u.i);
	case HM_V_FLOAT:
		f = v->u.f;
		memcpy(&bits, &f, sizeof(bits));
		return *p++ = 0xcb, put_be(p, bits, 8);
	case HM_V_STR:
		return put_str(p, v->u.s.p, v->u.s.n);
	case HM_V_NIL:
	default:
		*p++ = 0xc0;
		return p;
	}
}

/* The largest encoding of one stamp: uint64, bin8 of 16 bytes, uint64. */
#define STAMP_MAX (9 + 2 + HM_NODE_ID_BYTES + 9)

hm_err hm_rec_encode(const hm_rec *r, msgpack_sbuffer *out)
{
	size_t cap = 1 + STAMP_MAX + 5;
	uint8_t *p;

	for (size_t i = 0; i < r->nf; i++)
		cap += 5 + r->f[i].name_len + 1 + 9 + STAMP_MAX +
		       (r->f[i].value.kind == HM_V_STR ? 5 + r->f[i].value.u.s.n : 0);
	if (out->alloc < cap) {
		char *d = realloc(out->data, cap);
		if (!d)
			return HM_ERR_NOMEM;
		out->data = d, out->alloc = cap;
	}
	p = (uint8_t *)out->data;
	*p++ = 0x94;
	if (r->tomb.hlc) {
		p = put_stamp(p, &r->tomb);
	} else {
		*p++ = 0, *p++ = 0xc0, *p++ = 0;
	}
	if (r->nf < 16)
		*p++ = (uint8_t)(0x80 | r->nf);
	else
		*p++ = 0xde, p = put_be(p, r->nf, 2); /* nf <= HM_FIELDS_MAX */
	for (size_t i = 0; i < r->nf; i++) {
		p = put_str(p, r->f[i].name, r->f[i].name_len);
		*p++ = 0x94;
		p = put_value(p, &r->f[i].value);
		p = put_stamp(p, &r->f[i].stamp);
	}
	out->size = (size_t)(p - (uint8_t *)out->data);
	return HM_OK;
}

bool hm_rec_live(const hm_rec *r)
{
	if (!r->tomb.hlc)
		return r->nf > 0;
	for (size_t i = 0; i < r->nf; i++)
		if (hm_stamp_cmp(&r->f[i].stamp, &r->tomb) >= 0)
			return true;
	return false;
}

static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

/* Fields stay sorted by name (a decoded record is; every insert keeps it): the index of name,
 * or where it would be inserted. */
static size_t rec_pos(const hm_rec *r, const char *name, size_t len, bool *found)
{
	size_t lo = 0, hi = r->nf;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(r->f[mid].name, r->f[mid].name_len, name, len);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const hm_rfield *hm_rec_find(const hm_rec *r, const char *name, size_t len)
{
	bool found;
	size_t i = rec_pos(r, name, len, &found);
	return found ? &r->f[i] : NULL;
}

static void rec_insert(hm_rec *r, size_t at, const hm_rfield *f)
{
	memmove(&r->f[at + 1], &r->f[at], (r->nf - at) * sizeof(r->f[0]));
	r->f[at] = *f;
	r->nf++;
}

typedef struct op_ref {
	const hm_collection_def *c;
	const char *coll, *id, *region;
	size_t cn, idn, rn;
	hm_stamp s;
	bool special; /* the collection has counter, max or personal fields */
} op_ref;

/* The conflict-log key of a record's field up to the loser's stamp:
 * coll 0 id 0 region 0 field 0. Returns its length. */
static size_t conflict_prefix(uint8_t *key, const op_ref *op, const char *field, size_t fn)
{
	size_t kn = 0;

	memcpy(key, op->coll, op->cn), kn = op->cn, key[kn++] = 0;
	memcpy(key + kn, op->id, op->idn), kn += op->idn, key[kn++] = 0;
	memcpy(key + kn, op->region, op->rn), kn += op->rn, key[kn++] = 0;
	memcpy(key + kn, field, fn), kn += fn, key[kn++] = 0;
	return kn;
}

/* Queue a conflict-log entry; it is written after the record, because values borrow pages of
 * the current transaction that a write may move. */
static void conflict_queue(hm_merge_ctx *m, const op_ref *op, const hm_rfield *loser,
                           const hm_stamp *winner, bool by_delete)
{
	uint8_t key[HM_CONFLICT_PREFIX_MAX + 8 + HM_NODE_ID_BYTES];
	size_t kn = conflict_prefix(key, op, loser->name, loser->name_len);
	msgpack_sbuffer val;
	msgpack_packer pk;
	hm_mp_sink sink;
	uint8_t len4[4];
	uint16_t klen;

	hm_be64_put(key + kn, loser->stamp.hlc), kn += 8;
	memcpy(key + kn, loser->stamp.origin.b, HM_NODE_ID_BYTES), kn += HM_NODE_ID_BYTES;

	msgpack_sbuffer_init(&val);
	hm_mp_sink_init(&sink, &pk, &val);
	msgpack_pack_array(&pk, 4);
	hm_mp_pack_value(&pk, &loser->value);
	msgpack_pack_uint64(&pk, loser->stamp.seq);
	msgpack_pack_array(&pk, 3);
	stamp_pack(&pk, winner);
	if (by_delete)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);

	klen = (uint16_t)kn;
	len4[0] = (uint8_t)(val.size >> 24), len4[1] = (uint8_t)(val.size >> 16);
	len4[2] = (uint8_t)(val.size >> 8), len4[3] = (uint8_t)val.size;
	/* A queue with a hole would be read back wrong: one failed write fails the op. */
	if (sink.failed || msgpack_sbuffer_write(&m->confs, (const char *)&klen, sizeof(klen)) ||
	    msgpack_sbuffer_write(&m->confs, (const char *)key, kn) ||
	    msgpack_sbuffer_write(&m->confs, (const char *)len4, 4) ||
	    msgpack_sbuffer_write(&m->confs, val.data, val.size))
		m->confs_nomem = true;
	msgpack_sbuffer_destroy(&val);
}

static hm_err conflicts_flush(hm_node *n, MDB_txn *txn, hm_merge_ctx *m)
{
	size_t off = 0;
	hm_err err;

	if (m->confs_nomem) {
		m->confs_nomem = false;
		return hm_node_fail(n, HM_ERR_NOMEM, "logging a conflict: out of memory");
	}
	while (off < m->confs.size) {
		const uint8_t *p = (const uint8_t *)m->confs.data + off;
		uint16_t klen;
		uint32_t vlen;
		memcpy(&klen, p, 2);
		vlen = (uint32_t)p[2 + klen] << 24 | (uint32_t)p[3 + klen] << 16 |
		       (uint32_t)p[4 + klen] << 8 | p[5 + klen];
		if ((err = hm_seal_put(n, txn, HM_DB_CONFLICTS, p + 2, klen, p + 6 + klen, vlen,
		                       &m->sealbuf)))
			return err;
		m->conflicts++;
		off += 6u + klen + vlen;
	}
	msgpack_sbuffer_clear(&m->confs);
	return HM_OK;
}

/* Remove the logged losers of one field of one record. */
static hm_err conflicts_forget(hm_node *n, MDB_txn *txn, const op_ref *op, const char *field,
                               size_t fn)
{
	uint8_t prefix[HM_CONFLICT_PREFIX_MAX];
	size_t pn = conflict_prefix(prefix, op, field, fn);
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CONFLICTS], &cur)))
		return hm_store_err(rc);
	do {
		k.mv_size = pn, k.mv_data = prefix;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc || k.mv_size < pn || memcmp(k.mv_data, prefix, pn) != 0)
			break;
	} while ((rc = mdb_cursor_del(cur, 0)) == 0);
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

static bool same_origin(const hm_stamp *a, const hm_stamp *b)
{
	return memcmp(a->origin.b, b->origin.b, HM_NODE_ID_BYTES) == 0;
}

/* A value is lost when another origin's write displaces it, even with an equal value: that
 * write may itself be replaced later by its own origin, which logs nothing, and the first value
 * would vanish without a trace. A node's own later write is its history, kept in the oplog. */
static bool lost(const hm_rfield *loser, const hm_rfield *winner)
{
	return !same_origin(&loser->stamp, &winner->stamp);
}

/* Whether r holds a purge date (`hamlet purge`): its personal fields' losers are never logged. */
static bool rec_purged(const hm_rec *r)
{
	const hm_rfield *f = hm_rec_find(r, "purged", 6);
	return f && f->value.kind != HM_V_NIL;
}

/* A write that purges a record (sets its purge date) forgets the logged losers of every
 * personal field, whatever they lost to and whenever they were logged. */
static void forget_personal(hm_merge_ctx *m, const hm_collection_def *c)
{
	for (size_t i = 0; i < c->nfields && m->ncleared < HM_FIELDS_MAX; i++)
		if (c->fields[i].flags & HM_F_PII) {
			m->cleared[m->ncleared].name = c->fields[i].name;
			m->cleared[m->ncleared++].len = (uint32_t)strlen(c->fields[i].name);
		}
}

static void put_lww(hm_merge_ctx *m, const op_ref *op, const hm_rfield *in)
{
	hm_rec *r = &m->cur;
	bool found;
	size_t at = rec_pos(r, in->name, in->name_len, &found);
	hm_rfield *held = found ? &r->f[at] : NULL;

	/* The region field says where a record lives, deleted or not: plain lww, so that where a
	 * tombstone lives does not depend on arrival order. */
	bool region = in->name_len == strlen(op->c->region_field) &&
	              memcmp(in->name, op->c->region_field, in->name_len) == 0;

	if (!region && r->tomb.hlc && hm_stamp_cmp(&in->stamp, &r->tomb) < 0) {
		if (!same_origin(&in->stamp, &r->tomb))
			conflict_queue(m, op, in, &r->tomb, true);
		return;
	}
	if (!held) {
		rec_insert(r, at, in);
		return;
	}
	if (region && hm_value_equal(&in->value, &held->value)) {
		/* Writers restate a record's region in every op: the same region is no conflict. */
		if (hm_stamp_cmp(&in->stamp, &held->stamp) > 0)
			*held = *in;
		return;
	}
	/* A personal value that loses to a nil, or on a purged record, is not logged. */
	bool quiet = in->pii && rec_purged(r);
	if (hm_stamp_cmp(&in->stamp, &held->stamp) >= 0) {
		if (lost(held, in) && !(in->pii && in->value.kind == HM_V_NIL) && !quiet)
			conflict_queue(m, op, held, &in->stamp, false);
		*held = *in;
	} else if (lost(in, held) && !(in->pii && held->value.kind == HM_V_NIL) && !quiet) {
		conflict_queue(m, op, in, &held->stamp, false);
	}
	if (in->pii && held->value.kind == HM_V_NIL && m->ncleared < HM_FIELDS_MAX) {
		m->cleared[m->ncleared].name = in->name;
		m->cleared[m->ncleared++].len = in->name_len;
	}
}

static void put_counter(hm_rec *r, const hm_rfield *in)
{
	bool found;
	size_t at = rec_pos(r, in->name, in->name_len, &found);
	hm_rfield *held = &r->f[at];

	if (!found) {
		rec_insert(r, at, in);
		return;
	}
	/* Wrapping addition commutes; saturating would make the sum depend on arrival order. */
	held->value.u.i = (int64_t)((uint64_t)held->value.u.i + (uint64_t)in->value.u.i);
	if (hm_stamp_cmp(&in->stamp, &held->stamp) > 0)
		held->stamp = in->stamp;
}

/* <0, 0, >0 as a is less than, equal to, greater than b for a max field. Values of different kinds
 * (only a malformed write makes them) order by kind, so the rule stays total. */
static int max_cmp(const hm_value *a, const hm_value *b)
{
	size_t n;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case HM_V_INT:
		return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
	case HM_V_FLOAT:
		return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
	case HM_V_STR:
		n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
		if ((c = memcmp(a->u.s.p, b->u.s.p, n)))
			return c;
		return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
	case HM_V_BOOL:
		return (int)a->u.b - (int)b->u.b;
	case HM_V_NIL:
		return 0;
	}
	return 0;
}

static void put_max(hm_rec *r, const hm_rfield *in)
{
	bool found;
	size_t at = rec_pos(r, in->name, in->name_len, &found);
	hm_rfield *held = &r->f[at];
	int c;

	if (!found) {
		rec_insert(r, at, in);
		return;
	}
	c = max_cmp(&in->value, &held->value);
	if (c > 0 || (c == 0 && hm_stamp_cmp(&in->stamp, &held->stamp) > 0))
		*held = *in;
}

static hm_err merge_put(hm_merge_ctx *m, const op_ref *op, const msgpack_object *fields,
                        bool existed)
{
	hm_rec *r = &m->cur;

	if (op->c->append_only && existed && hm_rec_live(r)) {
		/* The insert with the smallest stamp owns the id. */
		const hm_stamp *held = &r->f[0].stamp;
		if (hm_stamp_cmp(&op->s, held) == 0)
			return HM_OK;
		if (hm_stamp_cmp(&op->s, held) > 0) {
			for (uint32_t i = 0; i < fields->via.map.size; i++) {
				hm_rfield lost = {0};
				lost.name = fields->via.map.ptr[i].key.via.str.ptr;
				lost.name_len = fields->via.map.ptr[i].key.via.str.size;
				lost.stamp = op->s;
				if (hm_mp_to_value(&fields->via.map.ptr[i].val, &lost.value))
					return HM_ERR_CORRUPT;
				conflict_queue(m, op, &lost, held, false);
			}
			return HM_OK;
		}
		for (size_t i = 0; i < r->nf; i++)
			conflict_queue(m, op, &r->f[i], &op->s, false);
		r->nf = 0;
	}
	for (uint32_t i = 0; i < fields->via.map.size; i++) {
		const msgpack_object_kv *kv = &fields->via.map.ptr[i];
		const hm_field_def *def;
		hm_rfield in = {0};

		/* hm_envelope_open_body checked all of this; only counter and max fields need their
		 * definition */
		if (kv->key.type != MSGPACK_OBJECT_STR || hm_mp_to_value(&kv->val, &in.value))
			return HM_ERR_CORRUPT;
		in.name = kv->key.via.str.ptr;
		in.name_len = kv->key.via.str.size;
		in.stamp = op->s;
		if (op->special && (def = hm_schema_field_n(op->c, in.name, in.name_len))) {
			in.counter = def->merge == HM_MERGE_COUNTER;
			in.max = def->merge == HM_MERGE_MAX;
			in.pii = (def->flags & HM_F_PII) != 0;
		}
		if (r->nf >= HM_FIELDS_MAX && !hm_rec_find(r, in.name, in.name_len))
			return HM_ERR_TOO_BIG;
		if (in.counter)
			put_counter(r, &in);
		else if (in.max)
			put_max(r, &in);
		else
			put_lww(m, op, &in);
		if (in.name_len == 6 && !memcmp(in.name, "purged", 6) && in.value.kind != HM_V_NIL)
			forget_personal(m, op->c);
	}
	return HM_OK;
}

static void merge_del(hm_merge_ctx *m, const op_ref *op)
{
	hm_rec *r = &m->cur;
	size_t kept = 0;

	if (r->tomb.hlc && hm_stamp_cmp(&op->s, &r->tomb) <= 0)
		return; /* an older delete: the newer one already cleared more */
	r->tomb = op->s;
	for (size_t i = 0; i < r->nf; i++) {
		hm_rfield *f = &r->f[i];
		bool region = f->name_len == strlen(op->c->region_field) &&
		              memcmp(f->name, op->c->region_field, f->name_len) == 0;
		if (f->counter || f->max || region || hm_stamp_cmp(&f->stamp, &op->s) > 0) {
			r->f[kept++] = *f;
			continue;
		}
		if (!same_origin(&f->stamp, &op->s))
			conflict_queue(m, op, f, &op->s, true);
	}
	r->nf = kept;
}

/* With keys, every op names its record's region (writers always include the region field,
 * in a delete too), and it must be the change set's region. The check depends on the change set
 * alone, never on what the receiver holds, so every replica judges it alike whatever the order
 * of arrival. HM_ERR_SCHEMA when not. */
static hm_err check_scope(hm_node *n, const hm_envelope *env, const op_ref *op,
                          const msgpack_object *fields)
{
	char r[HM_REGION_MAX + 1];
	bool found = false;

	for (uint32_t i = 0; fields && i < fields->via.map.size; i++)
		if (hm_mp_str_eq(&fields->via.map.ptr[i].key, op->c->region_field))
			found = hm_mp_str_copy(&fields->via.map.ptr[i].val, r, sizeof(r));
	if (!found)
		return hm_node_fail(
		    n, HM_ERR_SCHEMA,
		    "%s/%.*s: the operation does not name the record's region ('%s')", op->c->name,
		    (int)op->idn, op->id, op->c->region_field);
	if (!hm_region_contains(env->origin_region, r))
		return hm_node_fail(n, HM_ERR_SCHEMA,
		                    "%s/%.*s lies in %s, outside the writer's region %s",
		                    op->c->name, (int)op->idn, op->id, r, env->origin_region);
	if (strcmp(r, env->h.region) != 0)
		return hm_node_fail(
		    n, HM_ERR_SCHEMA,
		    "%s/%.*s lies in %s, not in this change set's region %s (a change "
		    "set holds the records of one region)",
		    op->c->name, (int)op->idn, op->id, r, env->h.region);
	return HM_OK;
}

static bool has_special(const hm_collection_def *c)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (c->fields[i].merge != HM_MERGE_LWW || (c->fields[i].flags & HM_F_PII))
			return true;
	return false;
}

/* The region an op's record lives in, part of the record's identity: the region field it
 * names (with keys always, and always the change set's region), else the change set's. */
static bool op_region(const hm_envelope *env, const msgpack_object *opo, op_ref *op)
{
	const msgpack_object *a = opo->via.array.ptr;

	op->region = env->h.region, op->rn = strlen(env->h.region);
	for (uint32_t i = 0; opo->via.array.size == 4 && i < a[3].via.map.size; i++) {
		const msgpack_object *v = &a[3].via.map.ptr[i].val;
		if (!hm_mp_str_eq(&a[3].via.map.ptr[i].key, op->c->region_field))
			continue;
		if (v->type != MSGPACK_OBJECT_STR || v->via.str.size > HM_REGION_MAX ||
		    memchr(v->via.str.ptr, 0, v->via.str.size))
			return false;
		op->region = v->via.str.ptr, op->rn = v->via.str.size;
	}
	return true;
}

/* The op's record, collection and stamp; key is its record key. */
static hm_err op_decode(const hm_envelope *env, const msgpack_object *opo, op_ref *op,
                        uint8_t key[HM_RECORD_KEY_MAX], size_t *kn)
{
	const msgpack_object *a = opo->via.array.ptr;

	op->coll = a[1].via.str.ptr, op->cn = a[1].via.str.size;
	op->id = a[2].via.str.ptr, op->idn = a[2].via.str.size;
	if (a[1].type != MSGPACK_OBJECT_STR || op->cn > HM_NAME_MAX ||
	    !(op->c = hm_schema_collection_n(op->coll, op->cn)))
		return HM_ERR_SCHEMA;
	if (!op_region(env, opo, op))
		return HM_ERR_SCHEMA;
	op->s.hlc = env->h.hlc, op->s.origin = env->h.origin, op->s.seq = env->h.seq;
	if (!(*kn = hm_record_key(key, HM_RECORD_KEY_MAX, op->coll, op->cn, op->id, op->idn,
	                          op->region, op->rn)))
		return HM_ERR_TOO_BIG;
	return HM_OK;
}

/* Merge one op into its record, encoded into m->rec under key; conflicts are queued in
 * m->confs. Reads the store, writes nothing. */
static hm_err merge_one(hm_node *n, MDB_txn *txn, const hm_envelope *env, const msgpack_object *opo,
                        hm_merge_ctx *m, bool scope, op_ref *opr, uint8_t key[HM_RECORD_KEY_MAX],
                        size_t *kn)
{
	const msgpack_object *a = opo->via.array.ptr;
	op_ref op;
	MDB_val cur;
	bool existed;
	uint64_t kind = a[0].via.u64;
	hm_err err;

	if ((err = op_decode(env, opo, &op, key, kn)))
		return err;
	*opr = op;

	msgpack_zone_clear(&m->zone);
	err = hm_seal_get(n, txn, HM_DB_RECORDS, key, *kn, &cur, &m->sealbuf);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	existed = err == HM_OK;
	m->cur.nf = 0;
	memset(&m->cur.tomb, 0, sizeof(m->cur.tomb));
	if (existed && (err = hm_rec_decode(cur.mv_data, cur.mv_size, &m->zone, &m->cur)))
		return err == HM_ERR_NOMEM
		           ? hm_node_fail(n, err, "reading a record: out of memory")
		           : hm_node_fail(n, HM_ERR_CORRUPT, "stored record %s/%.*s is corrupt",
		                          op.c->name, (int)op.idn, op.id);
	op.special = has_special(op.c);
	if (op.special) {
		for (size_t i = 0; i < m->cur.nf; i++) {
			const hm_field_def *def =
			    hm_schema_field_n(op.c, m->cur.f[i].name, m->cur.f[i].name_len);
			m->cur.f[i].counter = def && def->merge == HM_MERGE_COUNTER;
			m->cur.f[i].max = def && def->merge == HM_MERGE_MAX;
			m->cur.f[i].pii = def && (def->flags & HM_F_PII);
		}
	}

	if (scope && n->trust &&
	    (err = check_scope(n, env, &op, opo->via.array.size == 4 ? &a[3] : NULL)))
		return err;
	if (kind == HM_OP_DEL)
		merge_del(m, &op);
	else if ((err = merge_put(m, &op, &a[3], existed)))
		return err;
	return hm_rec_encode(&m->cur, &m->rec);
}

/* One op, written. scope: check it (not already checked for its whole change set). */
static hm_err merge_op(hm_node *n, MDB_txn *txn, const hm_envelope *env, const msgpack_object *opo,
                       hm_merge_ctx *m, bool scope)
{
	uint8_t key[HM_RECORD_KEY_MAX];
	size_t kn;
	op_ref op;
	hm_err err;

	msgpack_sbuffer_clear(&m->confs); /* what a failed op (or a failed rerun) left */
	m->confs_nomem = false;
	m->ncleared = 0;
	if ((err = merge_one(n, txn, env, opo, m, scope, &op, key, &kn)))
		return err;
	if ((err = hm_seal_put(n, txn, HM_DB_RECORDS, key, kn, m->rec.data, m->rec.size,
	                       &m->sealbuf)) ||
	    (err = hm_changed_note(n, txn, key, kn)))
		return err;
	if ((err = conflicts_flush(n, txn, m)))
		return err;
	for (size_t i = 0; i < m->ncleared; i++)
		if ((err = conflicts_forget(n, txn, &op, m->cleared[i].name, m->cleared[i].len)))
			return err;
	return HM_OK;
}

hm_err hm_merge_op(hm_node *n, MDB_txn *txn, const hm_envelope *env, const msgpack_object *opo,
                   hm_merge_ctx *m)
{
	return merge_op(n, txn, env, opo, m, true);
}

/* ---- a change set's ops, all or nothing ---- */

/* An op's scope depends on the change set alone (check_scope reads no record), so every op is
 * checked before any merges: a refused change set has written nothing, with no nested
 * transaction to undo it. */
static hm_err scope_all(hm_node *n, const hm_envelope *env)
{
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *o = &env->ops.via.array.ptr[i], *a = o->via.array.ptr;
		op_ref op = {0};
		hm_err err;

		op.coll = a[1].via.str.ptr, op.cn = a[1].via.str.size;
		op.id = a[2].via.str.ptr, op.idn = a[2].via.str.size;
		if (!(op.c = hm_schema_collection_n(op.coll, op.cn)))
			return HM_ERR_SCHEMA; /* hm_envelope_open_body checked it */
		if ((err = check_scope(n, env, &op, o->via.array.size == 4 ? &a[3] : NULL)))
			return err;
	}
	return HM_OK;
}

hm_err hm_merge_scope_check(hm_node *n, const hm_envelope *env)
{
	return n->trust ? scope_all(n, env) : HM_OK;
}

hm_err hm_merge_changeset(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_merge_ctx *m)
{
	hm_err err;

	if (n->trust && (err = scope_all(n, env)))
		return err;
	for (uint32_t i = 0; i < env->ops.via.array.size; i++)
		if ((err = merge_op(n, txn, env, &env->ops.via.array.ptr[i], m, false)))
			return err;
	return HM_OK;
}
