/*
 * changeset.c - the envelope: how a change set is laid out in bytes.
 *
 *   envelope = [2, header: bin, body: bin, signature: bin]
 *   header   = [origin: bin16, seq, prev: bin32, hlc, epoch, region, nops, codec, key_scope,
 *               certs: bin | nil]
 *   body     = [op...]   op = [0, coll, id, {field: value|delta}] | [1, coll, id]
 *                                   | [1, coll, id, {region field: region}]
 *
 * The header travels as its own bytes so that the signature and the AEAD cover exactly them.
 * In trust mode the body is XChaCha20-Poly1305 ciphertext under the data key (key_scope, epoch)
 * with the header as associated data, and the signature is Ed25519 over
 * BLAKE2b-256("hamlet-envelope-v2" || len(header) || header || body). The id of a change set is
 * BLAKE2b-256 of the whole envelope.
 */
#include "node_int.h"

#include <string.h>

void hm_envelope_signed_hash(const hm_bytes *header, const hm_bytes *body, hm_hash *out)
{
	hm_hash_state st;
	uint8_t len[4];

	len[0] = (uint8_t)(header->n >> 24), len[1] = (uint8_t)(header->n >> 16);
	len[2] = (uint8_t)(header->n >> 8), len[3] = (uint8_t)header->n;
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-envelope-v2", 18);
	hm_hash_update(&st, len, 4);
	hm_hash_update(&st, header->p, header->n);
	hm_hash_update(&st, body->p, body->n);
	hm_hash_final(&st, out);
}

hm_err hm_header_encode(const hm_header *h, msgpack_sbuffer *out)
{
	msgpack_packer pk;
	hm_mp_sink sink;

	msgpack_sbuffer_clear(out);
	hm_mp_sink_init(&sink, &pk, out);
	msgpack_pack_array(&pk, 10);
	hm_mp_pack_bin(&pk, h->origin.b, HM_NODE_ID_BYTES);
	msgpack_pack_uint64(&pk, h->seq);
	hm_mp_pack_bin(&pk, h->prev.b, HM_HASH_BYTES);
	msgpack_pack_uint64(&pk, h->hlc);
	msgpack_pack_uint32(&pk, h->epoch);
	hm_mp_pack_cstr(&pk, h->region);
	msgpack_pack_uint32(&pk, h->nops);
	msgpack_pack_uint32(&pk, h->codec);
	hm_mp_pack_cstr(&pk, h->key_scope);
	if (h->certs.n)
		hm_mp_pack_bin(&pk, h->certs.p, h->certs.n);
	else
		msgpack_pack_nil(&pk);
	return sink.failed ? HM_ERR_NOMEM : HM_OK;
}

hm_err hm_envelope_encode(const hm_header *h, const void *body, size_t body_len,
                          const hm_identity *ident, msgpack_sbuffer *out)
{
	msgpack_sbuffer hb;
	msgpack_packer pk;
	hm_mp_sink sink;
	hm_signature sig;
	hm_hash signed_hash;
	hm_err err;

	msgpack_sbuffer_init(&hb);
	if ((err = hm_header_encode(h, &hb))) {
		msgpack_sbuffer_destroy(&hb);
		return err;
	}
	if (ident) {
		hm_bytes hbytes = {(const uint8_t *)hb.data, hb.size}, bbytes = {body, body_len};
		hm_envelope_signed_hash(&hbytes, &bbytes, &signed_hash);
		err = hm_sign_hash(&sig, ident, &signed_hash);
	}
	msgpack_sbuffer_clear(out);
	hm_mp_sink_init(&sink, &pk, out);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, HM_ENVELOPE_FORMAT);
	hm_mp_pack_bin(&pk, hb.data, hb.size);
	hm_mp_pack_bin(&pk, body, body_len);
	hm_mp_pack_bin(&pk, sig.b, ident ? HM_SIGNATURE_BYTES : 0);
	msgpack_sbuffer_destroy(&hb);
	return err ? err : sink.failed ? HM_ERR_NOMEM : HM_OK;
}

#define BAD(code, text)                                                                            \
	do {                                                                                       \
		*why = (text);                                                                     \
		return (code);                                                                     \
	} while (0)

/* The caps of each part's format (hm_mp_caps): an envelope and a header are flat arrays. */
static const hm_mp_caps envelope_caps = {1, 4, 0, 4}, header_caps = {1, 10, 0, 10};

static hm_err header_decode(const uint8_t *p, size_t n, msgpack_zone *zone, hm_header *h,
                            const char **why)
{
	msgpack_object o;
	const msgpack_object *a;
	const uint8_t *b;
	size_t bn;
	uint64_t u;
	hm_err err;

	if ((err = hm_mp_decode_caps(p, n, &header_caps, zone, &o)))
		BAD(err, "header is not well-formed msgpack, or not an array of 10");
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 10)
		BAD(HM_ERR_CORRUPT, "header is not an array of 10");
	a = o.via.array.ptr;
	if (!hm_mp_bin(&a[0], &b, &bn) || bn != HM_NODE_ID_BYTES)
		BAD(HM_ERR_CORRUPT, "header origin is not 16 bytes");
	memcpy(h->origin.b, b, bn);
	if (!hm_mp_uint(&a[1], &h->seq) || h->seq == 0)
		BAD(HM_ERR_CORRUPT, "header seq is not a positive integer");
	if (!hm_mp_bin(&a[2], &b, &bn) || bn != HM_HASH_BYTES)
		BAD(HM_ERR_CORRUPT, "header prev is not 32 bytes");
	memcpy(h->prev.b, b, bn);
	if (!hm_mp_uint(&a[3], &h->hlc) || h->hlc == 0)
		BAD(HM_ERR_CORRUPT, "header clock is not a positive integer");
	if (!hm_mp_uint(&a[4], &u) || u > UINT32_MAX)
		BAD(HM_ERR_CORRUPT, "header key epoch is not a 32-bit integer");
	h->epoch = (uint32_t)u;
	if (!hm_mp_str_copy(&a[5], h->region, sizeof(h->region)) || !hm_region_valid(h->region))
		BAD(HM_ERR_CORRUPT, "header region is not a valid region path");
	if (!hm_mp_uint(&a[6], &u) || u == 0 || u > HM_OPS_MAX)
		BAD(HM_ERR_TOO_BIG, "header operation count is 0 or above the cap");
	h->nops = (uint32_t)u;
	if (!hm_mp_uint(&a[7], &u) || (u & ~(uint64_t)(HM_CODEC_SEALED | HM_CODEC_ZSTD)))
		BAD(HM_ERR_VERSION, "body codec is not supported");
	h->codec = (uint32_t)u;
	if (!hm_mp_str_copy(&a[8], h->key_scope, sizeof(h->key_scope)) ||
	    (h->key_scope[0] && !hm_region_valid(h->key_scope)) ||
	    (h->key_scope[0] != 0) != ((h->codec & HM_CODEC_SEALED) != 0))
		BAD(HM_ERR_CORRUPT,
		    "header key scope is not a region, or disagrees with the codec");
	h->certs.p = NULL, h->certs.n = 0;
	if (a[9].type != MSGPACK_OBJECT_NIL &&
	    (!hm_mp_bin(&a[9], &h->certs.p, &h->certs.n) || h->certs.n == 0 ||
	     h->certs.n > HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)))
		BAD(HM_ERR_CORRUPT, "header certificates are not a byte string of a chain's size");
	return HM_OK;
}

hm_err hm_envelope_open(const uint8_t *p, size_t n, msgpack_zone *zone, hm_envelope *env,
                        const char **why)
{
	hm_err err = hm_envelope_header(p, n, zone, env, why);

	if (!err)
		hm_hash_buf(p, n, &env->id);
	return err;
}

hm_err hm_envelope_header(const uint8_t *p, size_t n, msgpack_zone *zone, hm_envelope *env,
                          const char **why)
{
	msgpack_object o;
	const msgpack_object *a;
	uint64_t format;
	hm_err err;

	memset(env, 0, sizeof(*env));
	if (n > HM_ENVELOPE_MAX)
		BAD(HM_ERR_TOO_BIG, "envelope larger than 16 MiB");
	if ((err = hm_mp_decode_caps(p, n, &envelope_caps, zone, &o)))
		BAD(err, "envelope is not well-formed msgpack, or not an array of 4");
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 4)
		BAD(HM_ERR_CORRUPT, "envelope is not an array of 4");
	a = o.via.array.ptr;
	if (!hm_mp_uint(&a[0], &format))
		BAD(HM_ERR_CORRUPT, "envelope format is not an integer");
	if (format != HM_ENVELOPE_FORMAT)
		BAD(HM_ERR_VERSION, "envelope format version is not supported");
	if (!hm_mp_bin(&a[1], &env->header_bytes.p, &env->header_bytes.n) ||
	    !hm_mp_bin(&a[2], &env->body_bytes.p, &env->body_bytes.n) ||
	    !hm_mp_bin(&a[3], &env->sig.p, &env->sig.n))
		BAD(HM_ERR_CORRUPT, "envelope parts are not byte strings");
	if (env->sig.n != 0 && env->sig.n != HM_SIGNATURE_BYTES)
		BAD(HM_ERR_CORRUPT, "envelope signature is neither absent nor 64 bytes");
	return header_decode(env->header_bytes.p, env->header_bytes.n, zone, &env->h, why);
}

/* A received id: 1 to HM_ID_MAX bytes, no C0 control (so no NUL, the record key's separator).
 * Writers apply the stricter rule of hm_id_check; a receiver keeps to the rule change sets were
 * signed under since format 2, so that what older stations signed and others hold is taken
 * alike everywhere (and rebuilt alike): such ids are escaped wherever they are shown. */
static bool id_valid(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 || o->via.str.size > HM_ID_MAX)
		return false;
	for (uint32_t i = 0; i < o->via.str.size; i++)
		if ((unsigned char)o->via.str.ptr[i] < 0x20)
			return false;
	return true;
}

static const hm_collection_def *op_collection(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > HM_NAME_MAX)
		return NULL;
	return hm_schema_collection_n(o->via.str.ptr, o->via.str.size);
}

static const hm_field_def any_text = {"", HM_T_STR, HM_MERGE_LWW, false, 0, NULL};

static hm_err op_check_fields(const hm_collection_def *c, const msgpack_object *m, const char **why)
{
	if (m->type != MSGPACK_OBJECT_MAP || m->via.map.size == 0 ||
	    m->via.map.size > HM_FIELDS_MAX)
		BAD(HM_ERR_CORRUPT, "operation fields are not a map of 1 to 64 entries");
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];
		const hm_field_def *f;
		hm_value v;
		const char *reason;

		if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size > HM_NAME_MAX)
			BAD(HM_ERR_CORRUPT, "a field name is not text");
		if (hm_mp_to_value(&kv->val, &v))
			BAD(HM_ERR_TYPE, "a field value has an unsupported type");
		if (!(f = hm_schema_field_n(c, kv->key.via.str.ptr, kv->key.via.str.size))) {
			/* A field a newer schema added: kept, merged as lww, passed on. */
			if (!hm_field_name_valid(kv->key.via.str.ptr, kv->key.via.str.size))
				BAD(HM_ERR_CORRUPT,
				    "a field name is empty or has control characters");
			if (v.kind == HM_V_STR &&
			    (v.u.s.n > HM_STR_MAX || hm_value_check(&any_text, &v, &reason)))
				BAD(HM_ERR_TYPE, "a field value is not text of at most 4096 bytes");
			continue;
		}
		if (f->merge == HM_MERGE_COUNTER) {
			if (v.kind != HM_V_INT)
				BAD(HM_ERR_TYPE, "a counter delta is not an integer");
			continue;
		}
		if (hm_value_check(f, &v, &reason) && !(v.kind == HM_V_NIL))
			BAD(HM_ERR_TYPE, "a field value does not have its field's type");
	}
	return HM_OK;
}

size_t hm_body_max(const hm_header *h)
{
	uint64_t max = 5 + (uint64_t)h->nops * HM_OP_BYTES_MAX;
	return max < HM_ENVELOPE_MAX ? (size_t)max : HM_ENVELOPE_MAX;
}

hm_err hm_envelope_open_body(hm_envelope *env, msgpack_zone *zone, const char **why)
{
	uint64_t objects = (uint64_t)env->h.nops * HM_OP_OBJECTS_MAX;
	hm_mp_caps caps = {3, env->h.nops, 2 * HM_FIELDS_MAX,
	                   objects < HM_DECODED_OBJECTS_MAX ? objects : HM_DECODED_OBJECTS_MAX};
	msgpack_object o;
	hm_err err;

	if (env->body_bytes.n > hm_body_max(&env->h))
		BAD(HM_ERR_TOO_BIG, "body larger than its operation count can take");
	if ((err = hm_mp_decode_caps(env->body_bytes.p, env->body_bytes.n, &caps, zone, &o)))
		BAD(err, err == HM_ERR_TOO_BIG
		             ? "body holds more elements than its operation count can take, or "
		               "more than a change set may decode to (32 MiB)"
		             : "body is not well-formed msgpack");
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != env->h.nops)
		BAD(HM_ERR_CORRUPT, "body is not an array of the header's operation count");
	for (uint32_t i = 0; i < o.via.array.size; i++) {
		const msgpack_object *op = &o.via.array.ptr[i], *a;
		const hm_collection_def *c;
		uint64_t kind;

		if (op->type != MSGPACK_OBJECT_ARRAY || op->via.array.size < 3)
			BAD(HM_ERR_CORRUPT, "an operation is not an array");
		a = op->via.array.ptr;
		if (!hm_mp_uint(&a[0], &kind) || kind > HM_OP_DEL)
			BAD(HM_ERR_CORRUPT, "an operation kind is unknown");
		if (!(c = op_collection(&a[1])))
			BAD(HM_ERR_SCHEMA,
			    "an operation names a collection the schema does not know");
		if (!id_valid(&a[2]))
			BAD(HM_ERR_CORRUPT, "an operation's record id is empty, too long or has "
			                    "control characters");
		if (kind == HM_OP_DEL) {
			/* [1, coll, id] or, with keys, [1, coll, id, {region field: region}] */
			if (op->via.array.size != 3 &&
			    (op->via.array.size != 4 || a[3].type != MSGPACK_OBJECT_MAP ||
			     a[3].via.map.size != 1 ||
			     !hm_mp_str_eq(&a[3].via.map.ptr[0].key, c->region_field)))
				BAD(HM_ERR_CORRUPT, "a delete operation has extra parts");
			if (c->append_only)
				BAD(HM_ERR_SCHEMA, "a delete in an append-only collection");
			if (op->via.array.size == 4 && (err = op_check_fields(c, &a[3], why)))
				return err;
			continue;
		}
		if (op->via.array.size != 4)
			BAD(HM_ERR_CORRUPT,
			    "a put operation is not [kind, collection, id, fields]");
		if ((err = op_check_fields(c, &a[3], why)))
			return err;
	}
	env->ops = o;
	return HM_OK;
}
