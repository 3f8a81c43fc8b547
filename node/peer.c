/*
 * peer.c - a node's keys at the service of bundles and sessions, without handing them out:
 * wrap a key for a node or a scope, unwrap one, sign a hash, present the certificate chain, and
 * verify another node's chain and signature against this node's root.
 *
 *   wrapped for a node   = crypto_box_seal of the key to the node's certified X25519 key (80 B)
 *   wrapped for a scope  = count(1) { epoch(4, BE) || XChaCha20-Poly1305(data key of scope at
 *                          epoch, key, ad = "hamlet-wrap" || scope) (72 B) }, for the newest
 *                          WRAP_EPOCHS epochs held: a node that has not yet learnt the newest
 *                          (it may be in this very bundle, after a revocation) still opens it
 */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

#define WRAP_EPOCHS 3
#define WRAP_ONE    (4 + 32 + HM_AEAD_OVERHEAD)

static hm_err need_trust(hm_node *n)
{
	if (!n->trust || !n->enrolled)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no enrolled keys");
	return HM_OK;
}

static void wrap_ad(const char *scope, uint8_t *ad, size_t *len)
{
	size_t sn = strlen(scope);
	memcpy(ad, "hamlet-wrap", 11);
	memcpy(ad + 11, scope, sn);
	*len = 11 + sn;
}

hm_err hm_node_wrap_key(hm_node *n, const hm_recipient *rcpt, const uint8_t key[32], uint8_t *out,
                        size_t *len)
{
	MDB_txn *txn;
	hm_err err;

	if ((err = need_trust(n)) || (err = hm_store_read_begin(n, &txn)))
		return err;
	if (rcpt->to_node) {
		hm_cert c;
		if ((err = hm_trust_cert_get(n, txn, &rcpt->node, &c)))
			err = hm_node_fail(n, HM_ERR_NOT_FOUND,
			                   "no certificate is known for the recipient node");
		else if (!(err = hm_box_seal(out, &c.box_pub, key)))
			*len = HM_BOX_SEALED_BYTES;
	} else {
		uint8_t dk[HM_DATA_KEY_BYTES], ad[11 + HM_REGION_MAX];
		uint32_t newest = 0;
		size_t adn, sealed, off = 1;
		wrap_ad(rcpt->scope, ad, &adn);
		out[0] = 0;
		if ((err = hm_trust_data_key(n, txn, rcpt->scope, &newest, dk)) == HM_ERR_NOT_FOUND)
			err = hm_node_fail(n, HM_ERR_NOT_FOUND,
			                   "this node holds no data key for %s", rcpt->scope);
		else if (err) /* out of memory, a store fault: not a missing key */
			err = hm_node_fail(n, err, "reading the data key for %s: %s", rcpt->scope,
			                   hm_strerror(err));
		for (uint32_t e = newest; !err && e > 0 && out[0] < WRAP_EPOCHS; e--) {
			uint32_t epoch = e;
			if (hm_trust_data_key(n, txn, rcpt->scope, &epoch, dk))
				continue;
			out[off] = (uint8_t)(e >> 24), out[off + 1] = (uint8_t)(e >> 16);
			out[off + 2] = (uint8_t)(e >> 8), out[off + 3] = (uint8_t)e;
			err = hm_aead_seal(out + off + 4, HM_WRAPPED_MAX - off - 4, &sealed, dk,
			                   key, 32, ad, adn);
			off += 4 + sealed;
			out[0]++;
		}
		*len = off;
		hm_wipe(dk, sizeof(dk));
	}
	mdb_txn_abort(txn);
	return err;
}

hm_err hm_node_unwrap_key(hm_node *n, const hm_recipient *rcpt, const uint8_t *wrapped, size_t len,
                          uint8_t key[32])
{
	MDB_txn *txn;
	hm_err err;

	if ((err = need_trust(n)))
		return err;
	if (rcpt->to_node) {
		if (!hm_node_id_equal(&rcpt->node, &n->self) || len != HM_BOX_SEALED_BYTES)
			return hm_node_fail(n, HM_ERR_CRYPTO, "sealed for another node");
		if (hm_box_seal_open(key, &n->ident, wrapped))
			return hm_node_fail(n, HM_ERR_CRYPTO, "the sealed key does not open");
		return HM_OK;
	}
	if (len < 1 || wrapped[0] == 0 || wrapped[0] > WRAP_EPOCHS ||
	    len != 1 + (size_t)wrapped[0] * WRAP_ONE)
		return hm_node_fail(n, HM_ERR_CRYPTO, "a wrapped key has the wrong size");
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	err = hm_node_fail(n, HM_ERR_NOT_FOUND,
	                   "this node holds no data key for %s at the epochs it was sealed under",
	                   rcpt->scope);
	for (size_t i = 0; i < wrapped[0] && err == HM_ERR_NOT_FOUND; i++) {
		const uint8_t *w = wrapped + 1 + i * WRAP_ONE;
		uint8_t dk[HM_DATA_KEY_BYTES], ad[11 + HM_REGION_MAX];
		uint32_t epoch =
		    (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3];
		size_t adn, out;
		hm_err kerr;
		if (!epoch)
			continue;
		if ((kerr = hm_trust_data_key(n, txn, rcpt->scope, &epoch, dk))) {
			if (kerr != HM_ERR_NOT_FOUND) /* out of memory, a store fault */
				err = hm_node_fail(n, kerr, "reading the data key for %s: %s",
				                   rcpt->scope, hm_strerror(kerr));
			continue;
		}
		wrap_ad(rcpt->scope, ad, &adn);
		if (hm_aead_open(key, 32, &out, dk, w + 4, WRAP_ONE - 4, ad, adn) || out != 32)
			err = hm_node_fail(n, HM_ERR_CRYPTO, "the wrapped key does not open");
		else
			err = HM_OK;
		hm_wipe(dk, sizeof(dk));
	}
	mdb_txn_abort(txn);
	return err;
}

hm_err hm_node_peer_region(hm_node *n, const hm_node_id *id, char region[HM_REGION_MAX + 1])
{
	MDB_txn *txn;
	hm_cert c;
	hm_err err;

	if ((err = need_trust(n)) || (err = hm_store_read_begin(n, &txn)))
		return err;
	err = hm_trust_cert_get(n, txn, id, &c);
	mdb_txn_abort(txn);
	if (err)
		return hm_node_fail(n, HM_ERR_NOT_FOUND, "no certificate is known for that node");
	snprintf(region, HM_REGION_MAX + 1, "%s", c.region);
	return HM_OK;
}

hm_err hm_node_chain(hm_node *n, uint8_t *out, size_t cap, size_t *len)
{
	MDB_txn *txn;
	hm_err err;

	if ((err = need_trust(n)) || (err = hm_store_read_begin(n, &txn)))
		return err;
	n->errmsg[0] = '\0';
	err = hm_trust_own_chain_bytes(n, txn, out, cap, len);
	mdb_txn_abort(txn);
	if (err == HM_ERR_NOT_FOUND && !n->errmsg[0])
		return hm_node_fail(
		    n, err,
		    "no certificate of this node is stored: is it enrolled? If it "
		    "was, the store is damaged (`hamlet check`; docs/reliability.md, "
		    "\"Damaged media\")");
	return hm_store_damage(n, err, "reading this node's certificates");
}

hm_err hm_node_sign(hm_node *n, const hm_hash *h, hm_signature *sig)
{
	hm_err err = need_trust(n);
	return err ? err : hm_sign_hash(sig, &n->ident, h);
}

typedef struct refusal {
	const hm_node_id *id;
	const uint8_t *chain;
	size_t len;
	const char *why;
} refusal;

static hm_err keep_refusal(hm_node *n, MDB_txn *txn, void *arg)
{
	const refusal *r = arg;
	hm_envelope env;

	memset(&env, 0, sizeof(env));
	env.h.origin = *r->id; /* seq 0: not a change set, the chain the peer showed */
	return hm_evidence_put(n, txn, &env, r->chain, r->len, HM_EVIDENCE_ISSUER, r->why);
}

hm_err hm_node_verify_peer(hm_node *n, const uint8_t *chain, size_t chain_len, const hm_hash *h,
                           const hm_signature *sig, hm_peer *peer)
{
	hm_cert certs[HM_CERT_CHAIN_MAX];
	size_t nc = 0, off = 0;
	uint64_t now = hm_now_ms(n) / 1000;
	hm_cert_fault fault;
	MDB_txn *txn;
	MDB_val v;
	const hm_cert *last;
	const char *why = NULL;
	bool honoured = true, revoked = false;
	hm_err err;

	if ((err = need_trust(n)))
		return err;
	while (off < chain_len) {
		size_t cl;
		if (nc == HM_CERT_CHAIN_MAX || chain_len - off < 2)
			return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's chain does not decode");
		cl = (size_t)chain[off] << 8 | chain[off + 1];
		if (cl > chain_len - off - 2 || hm_cert_decode(&certs[nc], chain + off + 2, cl))
			return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's chain does not decode");
		nc++, off += 2 + cl;
	}
	if (!nc)
		return hm_node_fail(n, HM_ERR_CRYPTO,
		                    "the peer's certificate chain is refused: empty");
	last = &certs[nc - 1];
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	/* A certificate that starts later than our clock is taken within two drifts: the peer's
	 * issuer and we may each be off by the bound (docs/data-model.md). */
	if (hm_cert_chain_verify(&n->root, certs, nc, now, &fault, NULL) &&
	    (fault != HM_CERT_FAULT_NOT_YET ||
	     hm_cert_chain_verify(&n->root, certs, nc, now + 2 * hm_drift_ms(n, txn) / 1000, &fault,
	                          NULL))) {
		mdb_txn_abort(txn);
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's certificate chain is refused: %s",
		                    hm_cert_fault_str(fault));
	}
	err = hm_store_get(n, txn, HM_DB_REVOKED, last->node.b, HM_NODE_ID_BYTES, &v);
	if (err == HM_ERR_NOT_FOUND)
		err = hm_trust_chain_honoured(n, txn, certs, nc, &honoured, &why);
	else if (err == HM_OK)
		revoked = true;
	mdb_txn_abort(txn);
	if (err)
		return err;
	if (revoked)
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer is revoked");
	if (hm_verify_hash(sig, &last->sign_pub, h))
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's signature does not verify");
	if (!honoured) {
		/* A node the stolen keys of its issuer enrolled, and it shows itself: kept as
		 * evidence (one entry per certificate chain), so the audit names it. */
		refusal r = {&last->node, chain, chain_len, why};
		if ((err = hm_store_write(n, keep_refusal, &r)))
			return err;
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer is refused: %s", why);
	}
	peer->id = last->node;
	peer->role = (hm_role)last->role;
	snprintf(peer->region, sizeof(peer->region), "%s", last->region);
	peer->sign_pub = last->sign_pub;
	peer->box_pub = last->box_pub;
	return HM_OK;
}

hm_err hm_node_derive_key(hm_node *n, const char *context, uint8_t out[32])
{
	uint8_t msg[64] = "hamlet-derive-v1";
	size_t len = strlen(context);
	hm_hash h;

	if (!n->trust)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node was opened without its keys");
	if (len == 0 || len > sizeof(msg) - 17)
		return hm_node_fail(n, HM_ERR_INVALID, "a key context of %zu bytes", len);
	/* The storage key never leaves the node: a key for another use is its keyed BLAKE2b of a
	 * fixed prefix and the use's name, so uses never share a key and none reveals another. */
	memcpy(msg + 17, context, len);
	hm_hash_keyed(n->storage_key, msg, 17 + len, &h);
	memcpy(out, h.b, sizeof(h.b));
	hm_wipe(&h, sizeof(h));
	hm_wipe(msg, sizeof(msg));
	return HM_OK;
}
