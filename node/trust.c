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
 *
 * A certificate is honoured only while its whole chain is (hm_trust_chain_honoured). A township
 * records every certificate it issues in its own log (`_issued`, indexed in HM_DB_ISSUED by
 * issuer, subject and certificate hash, with the seq that carried it). Once the township is
 * revoked after seq N, a certificate it issued is honoured only if that record is held at a seq
 * <= N: what its stolen keys sign afterwards is refused everywhere, and a replica that took
 * change sets of such a node before it heard of the revocation withdraws them and rebuilds, so
 * that the verdict depends only on the change sets held, not on the order they came in.
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
	if (err == HM_ERR_NOMEM) /* not a wrong key */
		return hm_node_fail(n, err, "checking the storage key: out of memory");
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

/* ---- chains through revoked issuers ---- */

static size_t issued_key(uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES],
                         const hm_node_id *issuer, const hm_node_id *subject,
                         const hm_hash *cert_hash)
{
	memcpy(key, issuer->b, HM_NODE_ID_BYTES);
	memcpy(key + HM_NODE_ID_BYTES, subject->b, HM_NODE_ID_BYTES);
	memcpy(key + 2 * HM_NODE_ID_BYTES, cert_hash->b, HM_HASH_BYTES);
	return 2 * HM_NODE_ID_BYTES + HM_HASH_BYTES;
}

static hm_err cert_hash(const hm_cert *c, hm_hash *out)
{
	uint8_t buf[HM_CERT_MAX_BYTES];
	size_t len;
	hm_err err = hm_cert_encode(buf, sizeof(buf), &len, c);

	if (!err)
		hm_hash_buf(buf, len, out);
	return err;
}

const char hm_trust_unproven_issuer[] =
    "its certificate was issued by a revoked issuer, and nothing held yet proves it was before "
    "that revocation";
static const char refused_issuer[] =
    "its certificate was issued by a revoked issuer after that revocation (or not provably "
    "before it)";

/* Whether issuer, revoked after seq after_seq, recorded issuing c at a seq <= after_seq in a
 * change set this node still holds: HONOURED; REFUSED when this node holds the issuer's log up
 * to after_seq without such a record; UNPROVEN while part of that log is still missing. */
enum verdict { HONOURED, UNPROVEN, REFUSED };

static hm_err issued_before(hm_node *n, MDB_txn *txn, const hm_cert *issuer, uint64_t after_seq,
                            const hm_cert *c, enum verdict *out)
{
	uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES], op[HM_OPKEY_BYTES];
	hm_vv_entry head;
	uint64_t fork_seq, seq;
	hm_hash h;
	MDB_val v;
	hm_err err;

	*out = REFUSED;
	if ((err = cert_hash(c, &h)))
		return HM_OK; /* a certificate that does not encode is not honoured */
	err = hm_store_get(n, txn, HM_DB_ISSUED, key, issued_key(key, &issuer->node, &c->node, &h),
	                   &v);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!err && v.mv_size == 8 && (seq = hm_be64_get(v.mv_data)) <= after_seq) {
		hm_opkey(op, &issuer->node, seq);
		err = hm_store_get(n, txn, HM_DB_OPLOG, op, sizeof(op), &v);
		if (err == HM_OK) {
			*out = HONOURED;
			return HM_OK;
		}
		if (err != HM_ERR_NOT_FOUND)
			return err;
	}
	if ((err = hm_head_get(n, txn, &issuer->node, &head, &fork_seq)))
		return err;
	/* An issuer frozen at a fork at or below its revocation will never hold seqs up to it:
	 * what it did not record below the fork is refused, not left waiting for good. */
	if (head.seq < after_seq && !(fork_seq && fork_seq <= after_seq))
		*out = UNPROVEN;
	return HM_OK;
}

static hm_err chain_verdict(hm_node *n, MDB_txn *txn, const hm_cert *chain, size_t nc,
                            enum verdict *out)
{
	*out = HONOURED;
	/* chain[0] is the root: never revoked. Each issuer below it vouches for the next. */
	for (size_t i = 1; i + 1 < nc; i++) {
		MDB_val v;
		enum verdict one;
		hm_err err =
		    hm_store_get(n, txn, HM_DB_REVOKED, chain[i].node.b, HM_NODE_ID_BYTES, &v);
		if (err == HM_ERR_NOT_FOUND)
			continue;
		if (err)
			return err;
		if (v.mv_size < 8)
			one = REFUSED;
		else if ((err = issued_before(n, txn, &chain[i], hm_be64_get(v.mv_data),
		                              &chain[i + 1], &one)))
			return err;
		if (one > *out)
			*out = one;
	}
	return HM_OK;
}

hm_err hm_trust_chain_honoured(hm_node *n, MDB_txn *txn, const hm_cert *chain, size_t nc, bool *ok,
                               const char **why)
{
	enum verdict v;
	hm_err err = chain_verdict(n, txn, chain, nc, &v);

	*ok = !err && v == HONOURED;
	if (!*ok)
		*why = v == UNPROVEN ? hm_trust_unproven_issuer : refused_issuer;
	return err;
}

/* The chain of a stored certificate, root first, from the certs table. HM_ERR_NOT_FOUND when an
 * issuer's certificate is not held. */
static hm_err stored_chain(hm_node *n, MDB_txn *txn, const hm_cert *leaf, hm_cert *chain,
                           size_t *nc)
{
	hm_cert tmp[HM_CERT_CHAIN_MAX];
	size_t k = 0;
	hm_err err;

	tmp[k++] = *leaf;
	while (!hm_node_id_equal(&tmp[k - 1].issuer, &tmp[k - 1].node)) {
		if (k == HM_CERT_CHAIN_MAX)
			return HM_ERR_CORRUPT;
		if ((err = hm_trust_cert_get(n, txn, &tmp[k - 1].issuer, &tmp[k])))
			return err;
		k++;
	}
	for (size_t i = 0; i < k; i++)
		chain[i] = tmp[k - 1 - i];
	*nc = k;
	return HM_OK;
}

static hm_err cert_verdict(hm_node *n, MDB_txn *txn, const hm_cert *c, enum verdict *out)
{
	hm_cert chain[HM_CERT_CHAIN_MAX];
	size_t nc;
	hm_err err = stored_chain(n, txn, c, chain, &nc);

	if (err == HM_ERR_NOT_FOUND || err == HM_ERR_CORRUPT) {
		*out = REFUSED; /* an issuer's certificate is not held: it was never verified */
		return HM_OK;
	}
	return err ? err : chain_verdict(n, txn, chain, nc, out);
}

hm_err hm_trust_cert_honoured(hm_node *n, MDB_txn *txn, const hm_cert *c, bool *ok)
{
	enum verdict vd;
	hm_err err = cert_verdict(n, txn, c, &vd);

	*ok = !err && vd == HONOURED;
	return err;
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
	err = stored_chain(n, txn, &held, chain, &nc);
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
	enum verdict held_vd, new_vd;
	hm_err err = hm_trust_cert_get(n, txn, &env->h.origin, c);

	*found = err == HM_OK;
	*bad = NULL;
	*fresh = 0;
	*replace = false;
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!env->h.certs.n)
		return HM_OK;
	if (chain_decode(env->h.certs.p, env->h.certs.n, chain, &nc)) {
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
		if ((err = cert_verdict(n, txn, c, &held_vd)) || held_vd == HONOURED ||
		    (err = chain_verdict(n, txn, chain, nc, &new_vd)) || new_vd != HONOURED)
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

hm_err hm_trust_verify(hm_node *n, MDB_txn *txn, hm_envelope *env, bool *ok,
                       enum hm_evidence_kind *kind, const char **why)
{
	hm_cert c, chain[HM_CERT_CHAIN_MAX];
	hm_hash signed_hash;
	hm_signature sig;
	MDB_val v;
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
	if (fresh && (err = store_chain(n, txn, env, chain, fresh, replace)))
		return err;
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
		enum verdict vd;
		if ((err = cert_verdict(n, txn, &c, &vd)))
			return err;
		if (vd != HONOURED) /* UNPROVEN waits in pending (apply.c) */
			return refuse(ok, kind, why, HM_EVIDENCE_ISSUER,
			              vd == UNPROVEN ? hm_trust_unproven_issuer : refused_issuer);
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

static const char withdrawn_issuer[] =
    "withdrawn: enrolled by a revoked issuer, and not provably before that revocation";

/* Withdraw what node wrote after after_seq: out of the oplog, pending and quarantine, into the
 * evidence (as kind, with reason), or back into pending (to_pending: verified again when it is
 * released). Returns whether applied change sets were withdrawn (the records must be rebuilt). */
static hm_err withdraw_to(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                          enum hm_evidence_kind kind, const char *reason, bool to_pending,
                          bool *rebuild)
{
	static const enum hm_db dbs[] = {HM_DB_OPLOG, HM_DB_PENDING, HM_DB_QUARANTINE};
	hm_vv_entry head;
	uint64_t fork_seq;
	hm_err err;

	*rebuild = false;
	for (size_t d = 0; d < (to_pending ? 1 : sizeof(dbs) / sizeof(dbs[0])); d++) {
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
			if (to_pending) { /* back to waiting, verified again when it is released */
				uint8_t pkey[HM_PENDING_KEY_BYTES];
				hm_hash id;
				hm_hash_buf(copy, len, &id);
				hm_pending_key(pkey, node, env.h.seq, &id);
				err = hm_store_put(n, txn, HM_DB_PENDING, pkey, sizeof(pkey), copy,
				                   len);
			} else
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

hm_err hm_withdraw(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                   enum hm_evidence_kind kind, const char *reason, bool *rebuild)
{
	return withdraw_to(n, txn, node, after_seq, kind, reason, false, rebuild);
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
/* After a revocation: every node (or stream) whose certificate chain is no longer honoured
 * loses everything it wrote, as if it had never been heard from; one not proven yet (the
 * issuer's log up to its revocation is not all here) goes back to pending, to be released when
 * the issuer's record of it arrives. Either way the verdict is the one a replica that heard of
 * the revocation first reaches at arrival. */
static hm_err withdraw_unhonoured(hm_node *n, MDB_txn *txn, bool *rebuild)
{
	hm_node_id *drop = NULL;
	bool *wait = NULL;
	size_t ndrop = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	hm_err err = HM_OK;

	*rebuild = false;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		enum verdict vd;
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    hm_node_id_equal(&c.issuer, &c.node))
			continue;
		if ((err = cert_verdict(n, txn, &c, &vd)) || vd == HONOURED)
			continue;
		if (ndrop == cap) {
			hm_node_id *p = realloc(drop, (cap ? cap * 2 : 8) * sizeof(*p));
			bool *w = p ? realloc(wait, (cap ? cap * 2 : 8) * sizeof(*w)) : NULL;
			if (p)
				drop = p;
			if (!w) {
				err = HM_ERR_NOMEM;
				break;
			}
			wait = w, cap = cap ? cap * 2 : 8;
		}
		wait[ndrop] = vd == UNPROVEN;
		memcpy(drop[ndrop++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	for (size_t i = 0; i < ndrop && !err; i++) {
		bool more;
		err = withdraw_to(n, txn, &drop[i], 0, HM_EVIDENCE_ISSUER, withdrawn_issuer,
		                  wait[i], &more);
		*rebuild |= more;
	}
	free(drop);
	free(wait);
	return err;
}

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
		if (!err)
			err = withdraw_unhonoured(n, txn, &more);
		rebuild |= more;
		if (err)
			return err;
	}
	hm_logf(&n->log, HM_LOG_WARN, "node %s revoked after seq %llu: %s", hex,
	        (unsigned long long)after_seq, reason);
	return rebuild ? hm_records_rebuild(n, txn) : HM_OK;
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

/* A certificate the origin issued: indexed by (origin, subject, certificate hash) with the
 * lowest seq that recorded it, so "issued before the origin's revocation" is one lookup. */
static hm_err apply_issued(hm_node *n, MDB_txn *txn, const hm_envelope *env,
                           const msgpack_object *fields)
{
	char node_hex[2 * HM_NODE_ID_BYTES + 1], cert_hex[2 * HM_HASH_BYTES + 1];
	uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES], seq[8];
	hm_node_id subject;
	hm_hash h;
	MDB_val v;
	size_t kn;
	hm_err err;

	if (!op_field_str(fields, "node", node_hex, sizeof(node_hex)) ||
	    hm_node_id_parse(node_hex, &subject) ||
	    !op_field_str(fields, "cert", cert_hex, sizeof(cert_hex)) ||
	    hm_hex_decode(h.b, sizeof(h.b), cert_hex))
		return HM_OK; /* malformed: records nothing, so vouches for nothing */
	kn = issued_key(key, &env->h.origin, &subject, &h);
	err = hm_store_get(n, txn, HM_DB_ISSUED, key, kn, &v);
	if (err == HM_OK && v.mv_size == 8 && hm_be64_get(v.mv_data) <= env->h.seq)
		return HM_OK;
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	hm_be64_put(seq, env->h.seq);
	return hm_store_put(n, txn, HM_DB_ISSUED, key, kn, seq, sizeof(seq));
}

/* Change sets of nodes certified by issuer that wait in pending at the seq they need next
 * (their verdict may have waited on the issuer's log, which just grew): applied again now,
 * each verified afresh; one still unproven goes back to pending, one refused to the evidence. */
static hm_err release_issued_by(hm_node *n, MDB_txn *txn, const hm_node_id *issuer)
{
	hm_node_id *ids = NULL;
	size_t nids = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	hm_merge_ctx fresh;
	int rc;
	hm_err err = HM_OK;

	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    !hm_node_id_equal(&c.issuer, issuer) || hm_node_id_equal(&c.node, issuer))
			continue;
		if (nids == cap) {
			hm_node_id *p = realloc(ids, (cap = cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				err = HM_ERR_NOMEM;
				break;
			}
			ids = p;
		}
		memcpy(ids[nids++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	if (err || !nids || (err = hm_merge_ctx_init(&fresh))) {
		free(ids);
		return err;
	}
	for (size_t i = 0; i < nids && !err; i++) {
		/* pending keys: opkey, then the version's id */
		uint8_t key[HM_PENDING_KEY_BYTES], *copy;
		hm_vv_entry head;
		uint64_t fork_seq;
		hm_apply_stats st = {0};
		hm_apply_outcome out;
		MDB_cursor *pc;
		MDB_val pk = {HM_OPKEY_BYTES, key};
		size_t len, kn;

		if ((err = hm_head_get(n, txn, &ids[i], &head, &fork_seq)))
			break;
		hm_opkey(key, &ids[i], head.seq + 1);
		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_PENDING], &pc))) {
			err = hm_store_err(rc);
			break;
		}
		rc = mdb_cursor_get(pc, &pk, &v, MDB_SET_RANGE);
		mdb_cursor_close(pc);
		if (rc || pk.mv_size < HM_OPKEY_BYTES || pk.mv_size > sizeof(key) ||
		    memcmp(pk.mv_data, key, HM_OPKEY_BYTES) != 0) {
			err = rc && rc != MDB_NOTFOUND ? hm_store_err(rc) : HM_OK;
			continue;
		}
		memcpy(key, pk.mv_data, kn = pk.mv_size);
		/* LMDB memory dies at the next write: copy before deleting and applying. */
		if (!(copy = malloc(len = v.mv_size))) {
			err = HM_ERR_NOMEM;
			break;
		}
		memcpy(copy, v.mv_data, len);
		if (!(err = hm_store_del(n, txn, HM_DB_PENDING, key, kn)))
			err = hm_apply_one(n, txn, &fresh, copy, len, false, &st, &out);
		free(copy);
	}
	hm_merge_ctx_release(&fresh);
	free(ids);
	return err;
}

hm_err hm_trust_after_apply(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_merge_ctx *m)
{
	bool issued = false;
	MDB_val rv;
	hm_err err;

	(void)m;
	if (!n->trust)
		return HM_OK;
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *a = env->ops.via.array.ptr[i].via.array.ptr;
		err = HM_OK;
		if (a[0].via.u64 != HM_OP_PUT)
			continue;
		if (hm_mp_str_eq(&a[1], "_revocation"))
			err = apply_revocation(n, txn, &a[3]);
		else if (hm_mp_str_eq(&a[1], "_datakey"))
			err = apply_datakey(n, txn, &a[3]);
		else if (hm_mp_str_eq(&a[1], "_issued") && (issued = true))
			err = apply_issued(n, txn, env, &a[3]);
		if (err)
			return err;
	}
	/* The issuer's log grew: what waited on it may be decided now (after the loop: applying
	 * them reuses the zones env lives in). */
	err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &rv);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (issued || err == HM_OK)
		return release_issued_by(n, txn, &env->h.origin);
	return HM_OK;
}

hm_err hm_records_rebuild(hm_node *n, MDB_txn *txn)
{
	hm_merge_ctx fresh;
	hm_err err = hm_merge_ctx_init(&fresh);

	if (err)
		return err;
	err = hm_rebuild_records(n, txn, &fresh);
	hm_merge_ctx_release(&fresh);
	return err;
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
