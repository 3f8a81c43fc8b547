/*
 * trust.c - who may write what, and proof of it.
 *
 * A node in trust mode holds the county's root public key, its own certificate chain, the
 * certificates of every origin it has heard from (each verified up to the root when first seen,
 * from the chain an origin puts in its first change set), revocations, and the data keys it is
 * entitled to: one per township subtree and one county-wide, each with an epoch.
 *
 * Every change set is verified before anything else is done with it (hm_trust_verify):
 * signature by the origin's certified key, certificate valid at the change set's clock, not
 * revoked at its seq, header region inside the certificate's. Its body is then decrypted with
 * the data key it names (hm_trust_open_body), and apply.c checks each operation's record lies in
 * the origin's region.
 *
 * Revocations and new data-key epochs are records of the system collections `_revocation` and
 * `_datakey`, written only by the county, so they travel like any data; their effects are
 * applied by hm_trust_after_apply.
 */
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_VALID_DAYS 3650u

void hm_stream_id(const hm_node_id *node, const char *own_region, const char *region,
                  hm_node_id *out)
{
	hm_hash_state st;
	hm_hash h;

	if (!strcmp(own_region, region)) {
		*out = *node;
		return;
	}
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-stream", 13);
	hm_hash_update(&st, node->b, HM_NODE_ID_BYTES);
	hm_hash_update(&st, region, strlen(region));
	hm_hash_final(&st, &h);
	memcpy(out->b, h.b, HM_NODE_ID_BYTES);
}

/* ---- keys ---- */

void hm_trust_key_scope(const char *region, char out[HM_REGION_MAX + 1])
{
	const char *slash = strchr(region, '/');
	size_t n = strlen(region);

	if (slash && (slash = strchr(slash + 1, '/')))
		n = (size_t)(slash - region); /* a village's key is its township's */
	memcpy(out, region, n);
	out[n] = '\0';
}

static size_t key_id(uint8_t *out, const char *scope, uint32_t epoch)
{
	size_t n = strlen(scope);
	memcpy(out, scope, n);
	out[n] = 0;
	out[n + 1] = (uint8_t)(epoch >> 24), out[n + 2] = (uint8_t)(epoch >> 16);
	out[n + 3] = (uint8_t)(epoch >> 8), out[n + 4] = (uint8_t)epoch;
	return n + 5;
}

hm_err hm_trust_key_store(hm_node *n, MDB_txn *txn, const char *scope, uint32_t epoch,
                          const uint8_t key[HM_DATA_KEY_BYTES])
{
	uint8_t id[HM_REGION_MAX + 6];
	msgpack_sbuffer scratch;
	hm_err err;

	msgpack_sbuffer_init(&scratch);
	err = hm_seal_put(n, txn, HM_DB_KEYS, id, key_id(id, scope, epoch), key, HM_DATA_KEY_BYTES,
	                  &scratch);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return err;
}

hm_err hm_trust_data_key(hm_node *n, MDB_txn *txn, const char *scope, uint32_t *epoch,
                         uint8_t key[HM_DATA_KEY_BYTES])
{
	uint8_t id[HM_REGION_MAX + 6];
	size_t pn = strlen(scope) + 1, kn = key_id(id, scope, *epoch ? *epoch : 0xffffffffu);
	MDB_cursor *cur = NULL;
	MDB_val k = {kn, id}, v;
	msgpack_sbuffer scratch;
	int rc;
	hm_err err = HM_OK;

	msgpack_sbuffer_init(&scratch);
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_KEYS], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (*epoch == 0) {
		/* The newest epoch: the entry just before (scope, 0xffffffff). */
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
		             : mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	if (rc || k.mv_size != pn + 4 || memcmp(k.mv_data, id, pn) != 0 ||
	    (*epoch && memcmp(k.mv_data, id, kn) != 0)) {
		err = HM_ERR_NOT_FOUND;
		goto out;
	}
	if ((err = hm_seal_open(n, HM_DB_KEYS, &k, &v, &scratch)))
		goto out;
	if (v.mv_size != HM_DATA_KEY_BYTES) {
		err = hm_node_fail(n, HM_ERR_CORRUPT, "a stored data key is corrupt");
		goto out;
	}
	memcpy(key, v.mv_data, HM_DATA_KEY_BYTES);
	*epoch = hm_be64_get((const uint8_t *)k.mv_data + pn - 4) & 0xffffffffu;
out:
	if (cur)
		mdb_cursor_close(cur);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return err;
}

/* ---- certificates ---- */

hm_err hm_trust_cert_store(hm_node *n, MDB_txn *txn, const hm_cert *c)
{
	uint8_t buf[HM_CERT_MAX_BYTES];
	size_t len;
	hm_err err;

	if ((err = hm_cert_encode(buf, sizeof(buf), &len, c)))
		return err;
	return hm_store_put(n, txn, HM_DB_CERTS, c->node.b, HM_NODE_ID_BYTES, buf, len);
}

hm_err hm_trust_cert_get(hm_node *n, MDB_txn *txn, const hm_node_id *id, hm_cert *c)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_CERTS, id->b, HM_NODE_ID_BYTES, &v);
	if (err)
		return err;
	if (hm_cert_decode(c, v.mv_data, v.mv_size))
		return hm_node_fail(n, HM_ERR_CORRUPT, "a stored certificate is corrupt");
	return HM_OK;
}

/* A chain as bytes: per certificate, its length (2 bytes) then its bytes. */
static hm_err chain_encode(const hm_cert *chain, size_t nc, uint8_t *out, size_t cap, size_t *len)
{
	size_t off = 0;
	for (size_t i = 0; i < nc; i++) {
		size_t cl;
		hm_err err;
		if (off + 2 > cap ||
		    (err = hm_cert_encode(out + off + 2, cap - off - 2, &cl, &chain[i])))
			return HM_ERR_INVALID;
		out[off] = (uint8_t)(cl >> 8), out[off + 1] = (uint8_t)cl;
		off += 2 + cl;
	}
	*len = off;
	return HM_OK;
}

static hm_err chain_decode(const uint8_t *p, size_t len, hm_cert *chain, size_t *nc)
{
	size_t off = 0;
	*nc = 0;
	while (off < len) {
		size_t cl;
		if (*nc == HM_CERT_CHAIN_MAX || len - off < 2)
			return HM_ERR_CORRUPT;
		cl = (size_t)p[off] << 8 | p[off + 1];
		if (cl > len - off - 2 || hm_cert_decode(&chain[*nc], p + off + 2, cl))
			return HM_ERR_CORRUPT;
		(*nc)++;
		off += 2 + cl;
	}
	return *nc ? HM_OK : HM_ERR_CORRUPT;
}

/* This node's own chain, root first: walk issuers up from its certificate. */
hm_err hm_trust_own_chain(hm_node *n, MDB_txn *txn, hm_cert *chain, size_t *nc)
{
	hm_cert tmp[HM_CERT_CHAIN_MAX];
	hm_node_id at = n->self;
	size_t k = 0;
	hm_err err;

	while (k < HM_CERT_CHAIN_MAX) {
		if ((err = hm_trust_cert_get(n, txn, &at, &tmp[k])))
			return err;
		if (hm_node_id_equal(&tmp[k].issuer, &tmp[k].node)) {
			k++;
			break; /* the root's self-signed certificate */
		}
		at = tmp[k++].issuer;
	}
	for (size_t i = 0; i < k; i++)
		chain[i] = tmp[k - 1 - i];
	*nc = k;
	return HM_OK;
}

hm_err hm_trust_own_chain_bytes(hm_node *n, MDB_txn *txn, uint8_t *out, size_t cap, size_t *len)
{
	hm_cert chain[HM_CERT_CHAIN_MAX];
	size_t nc;
	hm_err err = hm_trust_own_chain(n, txn, chain, &nc);
	return err ? err : chain_encode(chain, nc, out, cap, len);
}

/* ---- load and create ---- */

#define SEAL_CHECK "hamlet storage key check"

/* A known value sealed at create: opening it proves the storage key is this node's. */
static hm_err seal_check_put(hm_node *n, MDB_txn *txn)
{
	msgpack_sbuffer scratch;
	hm_err err;

	msgpack_sbuffer_init(&scratch);
	err = hm_seal_put(n, txn, HM_DB_META, "sealcheck", 9, SEAL_CHECK, strlen(SEAL_CHECK),
	                  &scratch);
	msgpack_sbuffer_destroy(&scratch);
	return err;
}

static hm_err seal_check(hm_node *n, MDB_txn *txn)
{
	msgpack_sbuffer scratch;
	MDB_val v;
	hm_err err;

	msgpack_sbuffer_init(&scratch);
	err = hm_seal_get(n, txn, HM_DB_META, "sealcheck", 9, &v, &scratch);
	if (!err && (v.mv_size != strlen(SEAL_CHECK) || memcmp(v.mv_data, SEAL_CHECK, v.mv_size)))
		err = HM_ERR_CRYPTO;
	msgpack_sbuffer_destroy(&scratch);
	if (err)
		return hm_node_fail(
		    n, HM_ERR_CRYPTO,
		    "the storage key does not open this node's store: wrong key file");
	return HM_OK;
}

hm_err hm_trust_load(hm_node *n, MDB_txn *txn)
{
	MDB_val v;
	hm_err err = seal_check(n, txn);

	if (err)
		return err;
	err = hm_store_get(n, txn, HM_DB_META, "root", 4, &v);

	if (err == HM_ERR_NOT_FOUND)
		return HM_OK; /* not enrolled yet */
	if (err)
		return err;
	if (v.mv_size != HM_SIGN_PUB_BYTES)
		return hm_node_fail(n, HM_ERR_CORRUPT, "the stored root key is corrupt");
	memcpy(n->root.b, v.mv_data, HM_SIGN_PUB_BYTES);
	n->enrolled = true;
	return HM_OK;
}

static hm_err new_data_key(hm_node *n, MDB_txn *txn, const char *scope, uint32_t epoch)
{
	uint8_t key[HM_DATA_KEY_BYTES];
	hm_err err;

	hm_random_bytes(key, sizeof(key));
	err = hm_trust_key_store(n, txn, scope, epoch, key);
	hm_wipe(key, sizeof(key));
	return err;
}

hm_err hm_trust_create(hm_node *n, MDB_txn *txn)
{
	hm_cert root;
	uint64_t now = hm_now_ms(n) / 1000;
	hm_err err;

	if ((err = seal_check_put(n, txn)))
		return err;
	if (n->role != HM_ROLE_COUNTY)
		return HM_OK; /* townships and villages wait for enrollment */
	if ((err = hm_cert_init(&root, &n->ident, 1, HM_ROLE_COUNTY, n->region, now - 86400,
	                        now + ROOT_VALID_DAYS * 86400ull, HM_CERT_MAY_ENROLL)) ||
	    (err = hm_cert_sign(&root, &n->ident)) || (err = hm_trust_cert_store(n, txn, &root)) ||
	    (err = hm_store_put(n, txn, HM_DB_META, "root", 4, n->ident.sign_pub.b,
	                        HM_SIGN_PUB_BYTES)) ||
	    (err = new_data_key(n, txn, n->region, 1)))
		return err;
	n->root = n->ident.sign_pub;
	n->enrolled = true;
	return HM_OK;
}

/* ---- verification ---- */

static hm_err refuse(bool *ok, enum hm_evidence_kind *kind, const char **why,
                     enum hm_evidence_kind k, const char *reason)
{
	*ok = false;
	*kind = k;
	*why = reason;
	return HM_OK;
}

/* The certificate of env's origin: stored, or from the chain in its header (verified, then
 * stored). *found false when neither has one. */
static hm_err origin_cert(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_cert *c, bool *found,
                          const char **bad)
{
	hm_cert chain[HM_CERT_CHAIN_MAX];
	size_t nc;
	hm_cert_fault fault;
	hm_err err = hm_trust_cert_get(n, txn, &env->h.origin, c);

	*found = err == HM_OK;
	*bad = NULL;
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (*found || !env->h.certs.n)
		return HM_OK;
	if (chain_decode(env->h.certs.p, env->h.certs.n, chain, &nc)) {
		*bad = "the certificate chain in the header does not decode";
		return HM_OK;
	}
	if (hm_cert_chain_verify(&n->root, chain, nc, HM_HLC_MS(env->h.hlc) / 1000, &fault, NULL)) {
		*bad = hm_cert_fault_str(fault);
		return HM_OK;
	}
	{
		hm_node_id stream;
		hm_stream_id(&chain[nc - 1].node, chain[nc - 1].region, env->h.region, &stream);
		if (!hm_node_id_equal(&stream, &env->h.origin)) {
			*bad = "the certificate chain in the header is another node's";
			return HM_OK;
		}
	}
	for (size_t i = 0; i < nc; i++) {
		hm_cert held;
		err = hm_trust_cert_get(n, txn, &chain[i].node, &held);
		if (err == HM_ERR_NOT_FOUND)
			err = hm_trust_cert_store(n, txn, &chain[i]);
		if (err)
			return err;
	}
	/* A stream of the writer for another region: its certificate under the stream's id too. */
	if (!hm_node_id_equal(&chain[nc - 1].node, &env->h.origin)) {
		uint8_t buf[HM_CERT_MAX_BYTES];
		size_t len;
		if ((err = hm_cert_encode(buf, sizeof(buf), &len, &chain[nc - 1])) ||
		    (err = hm_store_put(n, txn, HM_DB_CERTS, env->h.origin.b, HM_NODE_ID_BYTES, buf,
		                        len)))
			return err;
	}
	*c = chain[nc - 1];
	*found = true;
	return HM_OK;
}

const char hm_trust_unknown_origin[] = "unknown origin: no certificate for it is known";

hm_err hm_trust_verify(hm_node *n, MDB_txn *txn, hm_envelope *env, bool *ok,
                       enum hm_evidence_kind *kind, const char **why)
{
	hm_cert c;
	hm_hash signed_hash;
	hm_signature sig;
	MDB_val v;
	bool found;
	const char *bad;
	uint64_t t = HM_HLC_MS(env->h.hlc) / 1000;
	hm_err err;

	*ok = true;
	snprintf(env->origin_region, sizeof(env->origin_region), "%s", env->h.region);
	env->origin_role = (hm_role)hm_region_depth(env->h.region);
	if (!n->trust)
		return env->sig.n || (env->h.codec & HM_CODEC_SEALED)
		           ? refuse(ok, kind, why, HM_EVIDENCE_FORGED,
		                    "a signed change set on a node without keys")
		           : HM_OK;
	if (env->sig.n != HM_SIGNATURE_BYTES)
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED, "the change set is not signed");
	if (!(env->h.codec & HM_CODEC_SEALED))
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED, "the change set is not encrypted");
	if ((err = origin_cert(n, txn, env, &c, &found, &bad)))
		return err;
	if (bad)
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED, bad);
	if (!found) {
		/* Beyond a revoked origin's seq it is refused now, not kept in pending for good:
		 * a replica that heard of the revocation later withdrew it from there (but for the
		 * seq just after, whose prev is judged when the seq before is held). */
		err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &v);
		if (err && err != HM_ERR_NOT_FOUND)
			return err;
		if (!err && v.mv_size >= 8 && env->h.seq > hm_be64_get(v.mv_data) + 1)
			return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
			              "written after the origin's revocation");
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED, hm_trust_unknown_origin);
	}
	hm_envelope_signed_hash(&env->header_bytes, &env->body_bytes, &signed_hash);
	memcpy(sig.b, env->sig.p, HM_SIGNATURE_BYTES);
	if (hm_verify_hash(&sig, &c.sign_pub, &signed_hash))
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED,
		              "the signature does not verify with the origin's certified key");
	if (t < c.not_before || t > c.not_after)
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED,
		              "the origin's certificate is not valid at the change set's clock");
	/* A stream's own entry, else its writer's: a stream the revocation did not list was not
	 * vouched for by the county, and nothing of it is taken. */
	err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &v);
	if (err == HM_ERR_NOT_FOUND && !hm_node_id_equal(&c.node, &env->h.origin) &&
	    (err = hm_store_get(n, txn, HM_DB_REVOKED, c.node.b, HM_NODE_ID_BYTES, &v)) == HM_OK)
		return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
		              "written after the origin's revocation");
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!err && v.mv_size >= 8 && env->h.seq > hm_be64_get(v.mv_data))
		return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
		              "written after the origin's revocation");
	{
		hm_node_id stream;
		hm_stream_id(&c.node, c.region, env->h.region, &stream);
		if (!hm_region_contains(c.region, env->h.region) ||
		    !hm_node_id_equal(&stream, &env->h.origin))
			return refuse(ok, kind, why, HM_EVIDENCE_SCOPE,
			              "the header region lies outside the origin's certified "
			              "region, or is not its stream's");
	}
	snprintf(env->origin_region, sizeof(env->origin_region), "%s", c.region);
	env->origin_role = (hm_role)c.role;
	return HM_OK;
}

hm_err hm_trust_open_body(hm_node *n, MDB_txn *txn, hm_envelope *env, hm_merge_ctx *m, bool *no_key,
                          const char **why)
{
	uint8_t key[HM_DATA_KEY_BYTES];
	uint32_t epoch = env->h.epoch;
	size_t len;
	hm_err err;

	*no_key = false;
	if (env->h.codec & HM_CODEC_SEALED) {
		char want[HM_REGION_MAX + 1];
		hm_trust_key_scope(env->h.region, want);
		if (strcmp(want, env->h.key_scope) != 0) {
			*why = "the body is sealed under another scope's key than its region's";
			return HM_ERR_CRYPTO;
		}
		if (epoch == 0 ||
		    (err = hm_trust_data_key(n, txn, env->h.key_scope, &epoch, key))) {
			*no_key = true;
			*why = "no data key for this scope and epoch (yet)";
			return HM_ERR_NOT_FOUND;
		}
		msgpack_sbuffer_clear(&m->plain);
		if (m->plain.alloc < env->body_bytes.n) {
			char *p = realloc(m->plain.data, env->body_bytes.n);
			if (!p) {
				hm_wipe(key, sizeof(key));
				return HM_ERR_NOMEM;
			}
			m->plain.data = p, m->plain.alloc = env->body_bytes.n;
		}
		err = hm_aead_open((uint8_t *)m->plain.data, m->plain.alloc, &len, key,
		                   env->body_bytes.p, env->body_bytes.n, env->header_bytes.p,
		                   env->header_bytes.n);
		hm_wipe(key, sizeof(key));
		if (err) {
			*why = "the body does not decrypt: altered in transit or a wrong key";
			return HM_ERR_CRYPTO;
		}
		env->body_bytes.p = (const uint8_t *)m->plain.data;
		env->body_bytes.n = len;
	}
	if (env->h.codec & HM_CODEC_ZSTD) {
		if ((err = hm_body_decompress(env->body_bytes.p, env->body_bytes.n, &m->unz, why)))
			return err == HM_ERR_NOMEM ? err : HM_ERR_CORRUPT;
		env->body_bytes.p = (const uint8_t *)m->unz.data;
		env->body_bytes.n = m->unz.size;
	}
	return hm_envelope_open_body(env, &m->envzone, why);
}

/* ---- system records: revocations and data keys ---- */

static bool op_field_str(const msgpack_object *fields, const char *name, char *buf, size_t cap)
{
	for (uint32_t i = 0; i < fields->via.map.size; i++)
		if (hm_mp_str_eq(&fields->via.map.ptr[i].key, name))
			return hm_mp_str_copy(&fields->via.map.ptr[i].val, buf, cap);
	return false;
}

static bool op_field_u64(const msgpack_object *fields, const char *name, uint64_t *out)
{
	for (uint32_t i = 0; i < fields->via.map.size; i++)
		if (hm_mp_str_eq(&fields->via.map.ptr[i].key, name))
			return hm_mp_uint(&fields->via.map.ptr[i].val, out);
	return false;
}

hm_err hm_withdraw(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                   enum hm_evidence_kind kind, const char *reason, bool *rebuild)
{
	static const enum hm_db dbs[] = {HM_DB_OPLOG, HM_DB_PENDING, HM_DB_QUARANTINE};
	hm_vv_entry head;
	uint64_t fork_seq;
	hm_err err;

	*rebuild = false;
	for (size_t d = 0; d < sizeof(dbs) / sizeof(dbs[0]); d++) {
		/* A revocation leaves what waits at after_seq + 1: never applied, but its prev is
		 * judged when after_seq is held (apply.c), as where it came first. */
		uint64_t from =
		    after_seq + 1 +
		    (dbs[d] == HM_DB_PENDING && kind == HM_EVIDENCE_REVOKED && after_seq);
		while (1) {
			/* pending keys hold the envelope's id after the opkey */
			uint8_t key[HM_PENDING_KEY_BYTES], *copy;
			MDB_cursor *cur;
			MDB_val k = {HM_OPKEY_BYTES, key}, v;
			hm_envelope env = {0};
			size_t len, kn;
			int rc;

			hm_opkey(key, node, from);
			if ((rc = mdb_cursor_open(txn, n->dbi[dbs[d]], &cur)))
				return hm_store_err(rc);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			mdb_cursor_close(cur);
			if (rc || k.mv_size < HM_OPKEY_BYTES ||
			    memcmp(k.mv_data, node->b, HM_NODE_ID_BYTES) != 0)
				break;
			if (k.mv_size > sizeof(key))
				return hm_node_fail(n, HM_ERR_CORRUPT,
				                    "a change set key is corrupt");
			memcpy(key, k.mv_data, kn = k.mv_size);
			len = v.mv_size;
			if (!(copy = malloc(len ? len : 1)))
				return HM_ERR_NOMEM;
			memcpy(copy, v.mv_data, len);
			env.h.origin = *node;
			env.h.seq = hm_be64_get(key + HM_NODE_ID_BYTES);
			err = hm_evidence_put(n, txn, &env, copy, len, kind, reason);
			free(copy);
			if (err || (err = hm_store_del(n, txn, dbs[d], key, kn)))
				return err;
			*rebuild |= dbs[d] == HM_DB_OPLOG;
		}
	}
	if (!*rebuild)
		return HM_OK;
	if ((err = hm_head_get(n, txn, node, &head, &fork_seq)))
		return err;
	head.seq = after_seq;
	memset(head.hash.b, 0, HM_HASH_BYTES);
	head.hlc = 0;
	if (after_seq) {
		uint8_t key[HM_OPKEY_BYTES];
		MDB_val v;
		hm_opkey(key, node, after_seq);
		hm_envelope env;
		const char *why;
		msgpack_zone zone;
		if ((err = hm_store_get(n, txn, HM_DB_OPLOG, key, sizeof(key), &v)))
			return err;
		hm_hash_buf(v.mv_data, v.mv_size, &head.hash);
		if (!msgpack_zone_init(&zone, 1024))
			return HM_ERR_NOMEM;
		if (hm_envelope_open(v.mv_data, v.mv_size, &zone, &env, &why) == HM_OK)
			head.hlc = env.h.hlc;
		msgpack_zone_destroy(&zone);
	}
	return hm_head_set(n, txn, &head, fork_seq);
}

/* The streams of writer this node knows: certificates stored under an id that is not the
 * writer's own. *out owned (free). */
static hm_err writer_streams(hm_node *n, MDB_txn *txn, const hm_node_id *writer, hm_node_id **out,
                             size_t *count)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t cap = 0;
	int rc;

	*out = NULL, *count = 0;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		if (k.mv_size != HM_NODE_ID_BYTES ||
		    !memcmp(k.mv_data, writer->b, HM_NODE_ID_BYTES) ||
		    hm_cert_decode(&c, v.mv_data, v.mv_size) || !hm_node_id_equal(&c.node, writer))
			continue;
		if (*count == cap) {
			hm_node_id *p = realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				mdb_cursor_close(cur);
				return HM_ERR_NOMEM;
			}
			*out = p;
		}
		memcpy((*out)[(*count)++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	return HM_OK;
}

static const char withdrawn_revoked[] = "withdrawn: written after the origin's revocation";

static hm_err apply_revocation(hm_node *n, MDB_txn *txn, const msgpack_object *fields)
{
	char hex[2 * HM_NODE_ID_BYTES + 1], reason[HM_STR_MAX + 1];
	uint8_t val[8 + 256];
	hm_node_id node;
	uint64_t after_seq;
	bool rebuild;
	size_t rn;
	hm_err err;

	if (!op_field_str(fields, "node", hex, sizeof(hex)) || hm_node_id_parse(hex, &node) ||
	    !op_field_u64(fields, "after_seq", &after_seq))
		return HM_OK; /* the schema check let a malformed one through: nothing to do */
	if (!op_field_str(fields, "reason", reason, sizeof(reason)))
		reason[0] = 0;
	rn = strlen(reason) < 256 ? strlen(reason) : 256;
	hm_be64_put(val, after_seq);
	memcpy(val + 8, reason, rn);
	if ((err = hm_store_put(n, txn, HM_DB_REVOKED, node.b, HM_NODE_ID_BYTES, val, 8 + rn)) ||
	    (err = hm_withdraw(n, txn, &node, after_seq, HM_EVIDENCE_REVOKED, withdrawn_revoked,
	                       &rebuild)))
		return err;
	/* The node's streams for other regions: each listed one from the seq the county vouched
	 * for, and any other this node knows from 0 (the county did not vouch for it, and every
	 * replica must take the same of it: nothing). */
	{
		char list[HM_STR_MAX + 1];
		hm_vv streams = {0};
		hm_node_id *known = NULL;
		size_t nknown = 0;
		bool more = false;
		if (op_field_str(fields, "streams", list, sizeof(list)) &&
		    hm_vv_parse(list, &streams) != HM_OK)
			streams.n = 0;
		for (size_t i = 0; i < streams.n && !err; i++) {
			hm_be64_put(val, streams.v[i].seq);
			if (!(err = hm_store_put(n, txn, HM_DB_REVOKED, streams.v[i].origin.b,
			                         HM_NODE_ID_BYTES, val, 8 + rn)))
				err = hm_withdraw(n, txn, &streams.v[i].origin, streams.v[i].seq,
				                  HM_EVIDENCE_REVOKED, withdrawn_revoked, &more);
			rebuild |= more;
		}
		if (!err)
			err = writer_streams(n, txn, &node, &known, &nknown);
		for (size_t i = 0; i < nknown && !err; i++) {
			bool listed = false;
			for (size_t j = 0; j < streams.n && !listed; j++)
				listed = hm_node_id_equal(&streams.v[j].origin, &known[i]);
			if (listed)
				continue;
			err = hm_withdraw(n, txn, &known[i], 0, HM_EVIDENCE_REVOKED,
			                  withdrawn_revoked, &more);
			rebuild |= more;
		}
		free(known);
		hm_vv_release(&streams);
		if (err)
			return err;
	}
	hm_logf(&n->log, HM_LOG_WARN, "node %s revoked after seq %llu: %s", hex,
	        (unsigned long long)after_seq, reason);
	if (!rebuild)
		return HM_OK;
	{
		hm_merge_ctx fresh;
		if ((err = hm_merge_ctx_init(&fresh)))
			return err;
		err = hm_rebuild_records(n, txn, &fresh);
		hm_merge_ctx_release(&fresh);
	}
	return err;
}

static hm_err apply_datakey(hm_node *n, MDB_txn *txn, const msgpack_object *fields)
{
	char hex[2 * HM_NODE_ID_BYTES + 1], scope[HM_REGION_MAX + 1];
	char wrapped_hex[2 * HM_BOX_SEALED_BYTES + 1];
	uint8_t wrapped[HM_BOX_SEALED_BYTES], key[HM_DATA_KEY_BYTES];
	hm_node_id node;
	uint64_t epoch;
	hm_err err;

	if (!op_field_str(fields, "node", hex, sizeof(hex)) || hm_node_id_parse(hex, &node) ||
	    !hm_node_id_equal(&node, &n->self))
		return HM_OK; /* another node's key */
	if (!op_field_str(fields, "scope", scope, sizeof(scope)) ||
	    !op_field_u64(fields, "epoch", &epoch) || epoch == 0 || epoch > UINT32_MAX ||
	    !op_field_str(fields, "wrapped", wrapped_hex, sizeof(wrapped_hex)) ||
	    hm_hex_decode(wrapped, sizeof(wrapped), wrapped_hex))
		return HM_OK;
	if (hm_box_seal_open(key, &n->ident, wrapped)) {
		hm_logf(&n->log, HM_LOG_WARN, "a data key for %s epoch %llu does not open", scope,
		        (unsigned long long)epoch);
		return HM_OK;
	}
	err = hm_trust_key_store(n, txn, scope, (uint32_t)epoch, key);
	hm_wipe(key, sizeof(key));
	return err;
}

hm_err hm_trust_after_apply(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_merge_ctx *m)
{
	(void)m;
	if (!n->trust)
		return HM_OK;
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *a = env->ops.via.array.ptr[i].via.array.ptr;
		hm_err err = HM_OK;
		if (a[0].via.u64 != HM_OP_PUT)
			continue;
		if (hm_mp_str_eq(&a[1], "_revocation"))
			err = apply_revocation(n, txn, &a[3]);
		else if (hm_mp_str_eq(&a[1], "_datakey"))
			err = apply_datakey(n, txn, &a[3]);
		if (err)
			return err;
	}
	return HM_OK;
}

hm_err hm_rebuild_records(hm_node *n, MDB_txn *txn, hm_merge_ctx *m)
{
	uint8_t key[HM_OPKEY_BYTES] = {0};
	int rc;
	hm_err err = HM_OK;

	if ((rc = mdb_drop(txn, n->dbi[HM_DB_RECORDS], 0)) ||
	    (rc = mdb_drop(txn, n->dbi[HM_DB_CONFLICTS], 0)))
		return hm_store_err(rc);
	/* Every held change set again, one at a time (merging writes records, which may move the
	 * oplog's pages under a cursor: copy each out and seek past it). */
	while (!err) {
		MDB_cursor *cur;
		MDB_val k = {sizeof(key), key}, v;
		uint8_t *copy;
		size_t len;
		hm_envelope env;
		const char *why;
		bool no_key;

		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_OPLOG], &cur)))
			return hm_store_err(rc);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == sizeof(key) && memcmp(k.mv_data, key, sizeof(key)) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			break;
		if (rc)
			return hm_store_err(rc);
		memcpy(key, k.mv_data, sizeof(key));
		if (!(copy = malloc(v.mv_size)))
			return HM_ERR_NOMEM;
		memcpy(copy, v.mv_data, len = v.mv_size);
		msgpack_zone_clear(&m->envzone);
		err = hm_envelope_open(copy, len, &m->envzone, &env, &why);
		if (!err) {
			bool ok;
			enum hm_evidence_kind kind;
			/* Verified at arrival; verify again only to learn the origin's region. */
			err = hm_trust_verify(n, txn, &env, &ok, &kind, &why);
		}
		if (!err)
			err = hm_trust_open_body(n, txn, &env, m, &no_key, &why);
		if (err == HM_ERR_NOT_FOUND && no_key)
			err = HM_OK; /* held for relaying only */
		else
			for (uint32_t i = 0; !err && i < env.ops.via.array.size; i++)
				err = hm_merge_op(n, txn, &env, &env.ops.via.array.ptr[i], m);
		free(copy);
	}
	return err;
}
