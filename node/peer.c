/*
 * peer.c - a node's keys at the service of bundles and sessions, without handing them out:
 * wrap a key for a node or a scope, unwrap one, sign a hash, present the certificate chain, and
 * verify another node's chain and signature against this node's root.
 *
 *   wrapped for a node   = crypto_box_seal of the key to the node's certified X25519 key (80 B)
 *   wrapped for a scope  = epoch(4, BE) || XChaCha20-Poly1305(data key of scope at epoch, key,
 *                          ad = "hamlet-wrap" || scope)                                  (76 B)
 */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

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
		uint32_t epoch = 0;
		size_t adn, sealed;
		if ((err = hm_trust_data_key(n, txn, rcpt->scope, &epoch, dk))) {
			err = hm_node_fail(n, HM_ERR_NOT_FOUND,
			                   "this node holds no data key for %s", rcpt->scope);
		} else {
			out[0] = (uint8_t)(epoch >> 24), out[1] = (uint8_t)(epoch >> 16);
			out[2] = (uint8_t)(epoch >> 8), out[3] = (uint8_t)epoch;
			wrap_ad(rcpt->scope, ad, &adn);
			err = hm_aead_seal(out + 4, HM_WRAPPED_MAX - 4, &sealed, dk, key, 32, ad,
			                   adn);
			*len = 4 + sealed;
		}
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
	if (len != 4 + 32 + HM_AEAD_OVERHEAD)
		return hm_node_fail(n, HM_ERR_CRYPTO, "a wrapped key has the wrong size");
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	{
		uint8_t dk[HM_DATA_KEY_BYTES], ad[11 + HM_REGION_MAX];
		uint32_t epoch = (uint32_t)wrapped[0] << 24 | (uint32_t)wrapped[1] << 16 |
		                 (uint32_t)wrapped[2] << 8 | wrapped[3];
		size_t adn, out;
		if (!epoch || (err = hm_trust_data_key(n, txn, rcpt->scope, &epoch, dk))) {
			err = hm_node_fail(n, HM_ERR_NOT_FOUND,
			                   "this node holds no data key for %s at that epoch",
			                   rcpt->scope);
		} else {
			wrap_ad(rcpt->scope, ad, &adn);
			if (hm_aead_open(key, 32, &out, dk, wrapped + 4, len - 4, ad, adn) ||
			    out != 32)
				err =
				    hm_node_fail(n, HM_ERR_CRYPTO, "the wrapped key does not open");
		}
		hm_wipe(dk, sizeof(dk));
	}
	mdb_txn_abort(txn);
	return err;
}

hm_err hm_node_chain(hm_node *n, uint8_t *out, size_t cap, size_t *len)
{
	MDB_txn *txn;
	hm_err err;

	if ((err = need_trust(n)) || (err = hm_store_read_begin(n, &txn)))
		return err;
	err = hm_trust_own_chain_bytes(n, txn, out, cap, len);
	mdb_txn_abort(txn);
	return err;
}

hm_err hm_node_sign(hm_node *n, const hm_hash *h, hm_signature *sig)
{
	hm_err err = need_trust(n);
	return err ? err : hm_sign_hash(sig, &n->ident, h);
}

hm_err hm_node_verify_peer(hm_node *n, const uint8_t *chain, size_t chain_len, const hm_hash *h,
                           const hm_signature *sig, hm_peer *peer)
{
	hm_cert certs[HM_CERT_CHAIN_MAX];
	size_t nc = 0, off = 0;
	hm_cert_fault fault;
	MDB_txn *txn;
	MDB_val v;
	const hm_cert *last;
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
	if (!nc || hm_cert_chain_verify(&n->root, certs, nc, hm_now_ms(n) / 1000, &fault, NULL))
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's certificate chain is refused: %s",
		                    nc ? hm_cert_fault_str(fault) : "empty");
	last = &certs[nc - 1];
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	err = hm_store_get(n, txn, HM_DB_REVOKED, last->node.b, HM_NODE_ID_BYTES, &v);
	mdb_txn_abort(txn);
	if (err == HM_OK)
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer is revoked");
	if (err != HM_ERR_NOT_FOUND)
		return err;
	if (hm_verify_hash(sig, &last->sign_pub, h))
		return hm_node_fail(n, HM_ERR_CRYPTO, "the peer's signature does not verify");
	peer->id = last->node;
	peer->role = (hm_role)last->role;
	snprintf(peer->region, sizeof(peer->region), "%s", last->region);
	peer->sign_pub = last->sign_pub;
	peer->box_pub = last->box_pub;
	return HM_OK;
}
