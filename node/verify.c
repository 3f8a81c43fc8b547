/*
 * verify.c - a change set checked before anything is done with it (hm_trust_verify): its origin's
 * certificate found or learnt from the chain it carries, the signature, validity, revocation and
 * region; then its body opened with the data key it names (hm_trust_open_body). Also the
 * certificates carried apart from change sets (hm_node_certs_export, hm_node_certs_learn).
 * trust.c has the keys, certificates and chain verdicts these rest on.
 */
#include "trust_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hm_err refuse(bool *ok, enum hm_evidence_kind *kind, const char **why,
                     enum hm_evidence_kind k, const char *reason)
{
	*ok = false;
	*kind = k;
	*why = reason;
	return HM_OK;
}

/* ---- certificates carried apart from change sets ---- */

hm_err hm_node_certs_export(hm_node *n, uint8_t **out, size_t *len, size_t cap)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t *buf = NULL;
	size_t off = 0, have = 0, count = 0;
	int rc;
	hm_err err;

	*out = NULL, *len = 0;
	if (!n->trust || !n->enrolled)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no enrolled keys");
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur))) {
		mdb_txn_abort(txn);
		return hm_store_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		bool ok;
		if (k.mv_size != HM_NODE_ID_BYTES || v.mv_size > HM_CERT_MAX_BYTES ||
		    hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    memcmp(k.mv_data, c.node.b, HM_NODE_ID_BYTES) != 0 ||
		    hm_node_id_equal(&c.issuer, &c.node))
			continue; /* a stream's entry, or the root's (every node holds it) */
		if ((err = hm_trust_cert_honoured(n, txn, &c, &ok)) || !ok)
			continue;
		if (off + 2 + v.mv_size > cap || count == HM_CERTS_MAX)
			break;
		count++;
		if (off + 2 + v.mv_size > have) {
			uint8_t *p = realloc(buf, have = have ? have * 2 : 4096);
			if (!p) {
				err = HM_ERR_NOMEM;
				break;
			}
			buf = p;
		}
		buf[off] = (uint8_t)(v.mv_size >> 8), buf[off + 1] = (uint8_t)v.mv_size;
		memcpy(buf + off + 2, v.mv_data, v.mv_size);
		off += 2 + v.mv_size;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (err || !off) {
		free(buf);
		return err;
	}
	*out = buf; /* owned by the caller */
	*len = off;
	return HM_OK;
}

typedef struct learn_ctx {
	hm_cert *certs;
	size_t n;
	size_t learned;
} learn_ctx;

/* Store c if not held, when its chain verifies now and is honoured. *stored says whether. */
static hm_err learn_one(hm_node *n, MDB_txn *txn, const hm_cert *c, bool *stored)
{
	hm_cert chain[HM_CERT_CHAIN_MAX], held;
	size_t nc;
	hm_cert_fault fault;
	bool ok;
	hm_err err = hm_trust_cert_get(n, txn, &c->node, &held);

	*stored = false;
	if (err != HM_ERR_NOT_FOUND)
		return err == HM_OK ? HM_OK : err;
	if (hm_node_id_equal(&c->issuer, &c->node) || hm_trust_cert_get(n, txn, &c->issuer, &held))
		return HM_OK; /* a second root, or its issuer not (yet) known */
	err = hm_trust_stored_chain(n, txn, &held, chain, &nc);
	if (err == HM_ERR_NOT_FOUND || err == HM_ERR_CORRUPT || nc == HM_CERT_CHAIN_MAX)
		return HM_OK;
	if (err)
		return err;
	chain[nc++] = *c;
	if (hm_cert_chain_verify(&n->root, chain, nc, hm_now_ms(n) / 1000, &fault, NULL))
		return HM_OK;
	if ((err = hm_trust_chain_honoured(n, txn, chain, nc, &ok, &(const char *){NULL})) || !ok)
		return err;
	if ((err = hm_trust_cert_store(n, txn, c)))
		return err;
	*stored = true;
	return HM_OK;
}

static hm_err learn_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	learn_ctx *l = arg;
	bool more = true;
	hm_err err = HM_OK;

	l->learned = 0;
	/* Issuers before the nodes they issued, whatever the order of the list. */
	for (size_t pass = 0; pass < HM_CERT_CHAIN_MAX && more && !err; pass++) {
		more = false;
		for (size_t i = 0; i < l->n && !err; i++) {
			bool stored;
			if (!(err = learn_one(n, txn, &l->certs[i], &stored)) && stored)
				l->learned++, more = true;
		}
	}
	return err;
}

hm_err hm_node_certs_learn(hm_node *n, const uint8_t *p, size_t len, size_t *learned)
{
	learn_ctx l = {0};
	size_t off = 0, cap = len / (2 + HM_CERT_FIXED_BYTES) + 1;
	hm_err err;

	*learned = 0;
	if (!n->trust || !n->enrolled)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no enrolled keys");
	if (cap > HM_CERTS_MAX)
		cap = HM_CERTS_MAX; /* bounded before allocating; a longer list is refused below */
	if (!(l.certs = calloc(cap, sizeof(*l.certs))))
		return HM_ERR_NOMEM;
	while (off < len) {
		size_t cl;
		if (l.n == cap) {
			free(l.certs);
			return hm_node_fail(n, HM_ERR_TOO_BIG,
			                    "a certificate list holds more than %u certificates",
			                    HM_CERTS_MAX);
		}
		if (len - off < 2 || (cl = (size_t)p[off] << 8 | p[off + 1]) > len - off - 2 ||
		    hm_cert_decode(&l.certs[l.n], p + off + 2, cl)) {
			free(l.certs);
			return hm_node_fail(n, HM_ERR_CORRUPT,
			                    "a certificate list does not decode");
		}
		l.n++, off += 2 + cl;
	}
	if (!(err = hm_store_write(n, learn_txn, &l)))
		*learned = l.learned;
	free(l.certs);
	return err;
}

/* The certificate of env's origin: stored, or from the chain in its header (verified, then
 * stored). *found false when neither has one. */
/* The certificate of env's origin: stored, or from the chain in its header (verified to the
 * root; *fresh its length, stored by store_chain only once the change set's signature verifies
 * with it, so a chain that came with a forgery never takes a node's slot). A held certificate
 * whose chain is no longer honoured (a revoked issuer) gives way to a header chain that is
 * (*replace): the slot then holds the same on every replica once both have been seen, whatever
 * came first. *found false when neither has one. */
static hm_err origin_cert(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_cert *c, bool *found,
                          const char **bad, hm_cert *chain, size_t *fresh, bool *replace)
{
	size_t nc;
	hm_cert_fault fault;
	hm_node_id stream;
	enum hm_verdict held_vd, new_vd;
	hm_err err = hm_trust_cert_get(n, txn, &env->h.origin, c);

	*found = err == HM_OK;
	*bad = NULL;
	*fresh = 0;
	*replace = false;
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!env->h.certs.n)
		return HM_OK;
	if (hm_trust_chain_decode(env->h.certs.p, env->h.certs.n, chain, &nc)) {
		*bad = *found ? NULL : "the certificate chain in the header does not decode";
		return HM_OK;
	}
	if (hm_cert_chain_verify(&n->root, chain, nc, HM_HLC_MS(env->h.hlc) / 1000, &fault, NULL)) {
		*bad = *found ? NULL : hm_cert_fault_str(fault);
		return HM_OK;
	}
	hm_stream_id(&chain[nc - 1].node, chain[nc - 1].region, env->h.region, &stream);
	if (!hm_node_id_equal(&stream, &env->h.origin)) {
		*bad = *found ? NULL : "the certificate chain in the header is another node's";
		return HM_OK;
	}
	if (*found) {
		if (!memcmp(c->sign_pub.b, chain[nc - 1].sign_pub.b, HM_SIGN_PUB_BYTES))
			return HM_OK; /* the one held */
		if ((err = hm_trust_cert_verdict(n, txn, c, &held_vd)) || held_vd == HM_HONOURED ||
		    (err = hm_trust_chain_verdict(n, txn, chain, nc, &new_vd)) ||
		    new_vd != HM_HONOURED)
			return err;
		*replace = true;
	}
	*c = chain[nc - 1];
	*found = true;
	*fresh = nc;
	return HM_OK;
}

/* Store a header's chain, verified to the root, once the change set it came with verified whole
 * (signature, validity, revocation, issuers honoured, region): a chain that came with a change
 * set that failed never takes a node's certificate slot. */
static hm_err store_chain(hm_node *n, MDB_txn *txn, const hm_envelope *env, const hm_cert *chain,
                          size_t nc, bool replace)
{
	hm_err err;

	for (size_t i = 0; i < nc; i++) {
		hm_cert held;
		err = hm_trust_cert_get(n, txn, &chain[i].node, &held);
		if (err == HM_ERR_NOT_FOUND || (replace && i == nc - 1))
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
	return HM_OK;
}

const char hm_trust_unknown_origin[] = "unknown origin: no certificate for it is known";

/* A change set of an origin whose certificate is not held. Beyond a revoked origin's seq it is
 * refused now, not kept in pending for good: a replica that heard of the revocation later
 * withdrew it from there (but for the seq just after, whose prev is judged when the seq before
 * is held). */
static hm_err refuse_unknown(hm_node *n, MDB_txn *txn, const hm_envelope *env, bool *ok,
                             enum hm_evidence_kind *kind, const char **why)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &v);

	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!err && v.mv_size >= 8 && env->h.seq > hm_be64_get(v.mv_data) + 1)
		return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
		              "written after the origin's revocation");
	return refuse(ok, kind, why, HM_EVIDENCE_FORGED, hm_trust_unknown_origin);
}

/* Refuse a change set written after its origin's revocation: a stream's own entry, else its
 * writer's (c): a stream the revocation did not list was not vouched for by the county, and
 * nothing of it is taken. */
static hm_err check_revoked(hm_node *n, MDB_txn *txn, const hm_envelope *env, const hm_cert *c,
                            bool *ok, enum hm_evidence_kind *kind, const char **why)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &v);

	if (err == HM_ERR_NOT_FOUND && !hm_node_id_equal(&c->node, &env->h.origin) &&
	    (err = hm_store_get(n, txn, HM_DB_REVOKED, c->node.b, HM_NODE_ID_BYTES, &v)) == HM_OK)
		return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
		              "written after the origin's revocation");
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!err && v.mv_size >= 8 && env->h.seq > hm_be64_get(v.mv_data))
		return refuse(ok, kind, why, HM_EVIDENCE_REVOKED,
		              "written after the origin's revocation");
	return HM_OK;
}

hm_err hm_trust_verify(hm_node *n, MDB_txn *txn, hm_envelope *env, bool *ok,
                       enum hm_evidence_kind *kind, const char **why)
{
	hm_cert c, chain[HM_CERT_CHAIN_MAX];
	hm_hash signed_hash;
	hm_signature sig;
	bool found;
	const char *bad;
	size_t fresh;
	bool replace;
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
	if ((err = origin_cert(n, txn, env, &c, &found, &bad, chain, &fresh, &replace)))
		return err;
	if (bad)
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED, bad);
	if (!found)
		return refuse_unknown(n, txn, env, ok, kind, why);
	hm_envelope_signed_hash(&env->header_bytes, &env->body_bytes, &signed_hash);
	memcpy(sig.b, env->sig.p, HM_SIGNATURE_BYTES);
	if (hm_verify_hash(&sig, &c.sign_pub, &signed_hash))
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED,
		              "the signature does not verify with the origin's certified key");
	if (t < c.not_before || t > c.not_after)
		return refuse(ok, kind, why, HM_EVIDENCE_FORGED,
		              "the origin's certificate is not valid at the change set's clock");
	if (fresh && (err = store_chain(n, txn, env, chain, fresh, replace)))
		return err;
	if ((err = check_revoked(n, txn, env, &c, ok, kind, why)) || !*ok)
		return err;
	{
		enum hm_verdict vd;
		if ((err = hm_trust_cert_verdict(n, txn, &c, &vd)))
			return err;
		if (vd != HM_HONOURED) /* HM_UNPROVEN waits in pending (apply.c) */
			return refuse(ok, kind, why, HM_EVIDENCE_ISSUER,
			              vd == HM_UNPROVEN ? hm_trust_unproven_issuer
			                                : hm_trust_refused_issuer);
	}
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
		err = epoch ? hm_trust_data_key(n, txn, env->h.key_scope, &epoch, key) : HM_OK;
		if (err && err != HM_ERR_NOT_FOUND) {
			*why = "reading the data key failed (out of memory or a store fault)";
			return err; /* not a missing key: nothing is quarantined */
		}
		if (epoch == 0 || err) {
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
		if ((err = hm_body_decompress(env->body_bytes.p, env->body_bytes.n,
		                              hm_body_max(&env->h), &m->unz, why)))
			return err == HM_ERR_NOMEM ? err : HM_ERR_CORRUPT;
		env->body_bytes.p = (const uint8_t *)m->unz.data;
		env->body_bytes.n = m->unz.size;
	}
	return hm_envelope_open_body(env, &m->envzone, why);
}
