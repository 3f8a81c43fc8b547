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
 *
 * This file holds the keys, the certificates and the verdicts on chains; verify.c checks and
 * opens a change set, withdraw.c applies the system records and withdraws (trust_int.h joins
 * the three).
 */
#include "trust_int.h"

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

hm_err hm_trust_chain_decode(const uint8_t *p, size_t len, hm_cert *chain, size_t *nc)
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

/* ---- chains through revoked issuers ---- */

size_t hm_trust_issued_key(uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES],
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
const char hm_trust_refused_issuer[] =
    "its certificate was issued by a revoked issuer after that revocation (or not provably "
    "before it)";

/* Whether issuer, revoked after seq after_seq, recorded issuing c at a seq <= after_seq in a
 * change set this node still holds (see enum hm_verdict). */

static hm_err issued_before(hm_node *n, MDB_txn *txn, const hm_cert *issuer, uint64_t after_seq,
                            const hm_cert *c, enum hm_verdict *out)
{
	uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES], op[HM_OPKEY_BYTES];
	hm_vv_entry head;
	uint64_t fork_seq, seq;
	hm_hash h;
	MDB_val v;
	hm_err err;

	*out = HM_REFUSED;
	if ((err = cert_hash(c, &h)))
		return HM_OK; /* a certificate that does not encode is not honoured */
	err = hm_store_get(n, txn, HM_DB_ISSUED, key,
	                   hm_trust_issued_key(key, &issuer->node, &c->node, &h), &v);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (!err && v.mv_size == 8 && (seq = hm_be64_get(v.mv_data)) <= after_seq) {
		hm_opkey(op, &issuer->node, seq);
		err = hm_store_get(n, txn, HM_DB_OPLOG, op, sizeof(op), &v);
		if (err == HM_OK) {
			*out = HM_HONOURED;
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
		*out = HM_UNPROVEN;
	return HM_OK;
}

hm_err hm_trust_chain_verdict(hm_node *n, MDB_txn *txn, const hm_cert *chain, size_t nc,
                              enum hm_verdict *out)
{
	*out = HM_HONOURED;
	/* chain[0] is the root: never revoked. Each issuer below it vouches for the next. */
	for (size_t i = 1; i + 1 < nc; i++) {
		MDB_val v;
		enum hm_verdict one;
		hm_err err =
		    hm_store_get(n, txn, HM_DB_REVOKED, chain[i].node.b, HM_NODE_ID_BYTES, &v);
		if (err == HM_ERR_NOT_FOUND)
			continue;
		if (err)
			return err;
		if (v.mv_size < 8)
			one = HM_REFUSED;
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
	enum hm_verdict v;
	hm_err err = hm_trust_chain_verdict(n, txn, chain, nc, &v);

	*ok = !err && v == HM_HONOURED;
	if (!*ok)
		*why = v == HM_UNPROVEN ? hm_trust_unproven_issuer : hm_trust_refused_issuer;
	return err;
}

/* The chain of a stored certificate, root first, from the certs table. HM_ERR_NOT_FOUND when an
 * issuer's certificate is not held. */
hm_err hm_trust_stored_chain(hm_node *n, MDB_txn *txn, const hm_cert *leaf, hm_cert *chain,
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

hm_err hm_trust_cert_verdict(hm_node *n, MDB_txn *txn, const hm_cert *c, enum hm_verdict *out)
{
	hm_cert chain[HM_CERT_CHAIN_MAX];
	size_t nc;
	hm_err err = hm_trust_stored_chain(n, txn, c, chain, &nc);

	if (err == HM_ERR_NOT_FOUND || err == HM_ERR_CORRUPT) {
		*out = HM_REFUSED; /* an issuer's certificate is not held: it was never verified */
		return HM_OK;
	}
	return err ? err : hm_trust_chain_verdict(n, txn, chain, nc, out);
}

hm_err hm_trust_cert_honoured(hm_node *n, MDB_txn *txn, const hm_cert *c, bool *ok)
{
	enum hm_verdict vd;
	hm_err err = hm_trust_cert_verdict(n, txn, c, &vd);

	*ok = !err && vd == HM_HONOURED;
	return err;
}
