/*
 * seal.c - values at rest. In trust mode the values of records and conflicts (the only places
 * that hold personal data in the clear once decoded) are sealed with XChaCha20-Poly1305 under
 * the node's storage key, which only the key file (and so the passphrase) unlocks. The
 * associated data is the database's name and the key, so a sealed value cannot be moved to
 * another record. Envelopes need nothing more: their bodies are already ciphertext.
 */
#include "node_int.h"

#include <stdlib.h>
#include <string.h>

/* The associated data: the database's number, then the key itself (LMDB keys are at most 511
 * bytes). Poly1305 takes it as it is; hashing it first would cost more than it saves. */
static size_t seal_ad(enum hm_db db, const void *k, size_t kn, uint8_t ad[1 + 511])
{
	if (kn > 511)
		kn = 511;
	ad[0] = (uint8_t)db;
	memcpy(ad + 1, k, kn);
	return 1 + kn;
}

/* Make scratch hold at least n bytes (msgpack_sbuffer's memory is plain malloc'd). */
static hm_err reserve(msgpack_sbuffer *b, size_t n)
{
	char *p;

	if (b->alloc >= n)
		return HM_OK;
	if (!(p = realloc(b->data, n)))
		return HM_ERR_NOMEM;
	b->data = p;
	b->alloc = n;
	return HM_OK;
}

hm_err hm_seal_put(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn, const void *v,
                   size_t vn, msgpack_sbuffer *scratch)
{
	uint8_t ad[1 + 511], nonce[HM_AEAD_NONCE_BYTES];
	size_t adn;
	size_t len;
	hm_err err;

	if (!n->trust)
		return hm_store_put(n, txn, db, k, kn, v, vn);
	if ((err = reserve(scratch, vn + HM_AEAD_OVERHEAD)))
		return err;
	adn = seal_ad(db, k, kn, ad);
	memcpy(nonce, n->seal_prefix, sizeof(n->seal_prefix));
	hm_be64_put(nonce + sizeof(n->seal_prefix), ++n->seal_counter);
	if ((err = hm_aead_seal_nonce((uint8_t *)scratch->data, scratch->alloc, &len,
	                              n->storage_key, nonce, v, vn, ad, adn)))
		return hm_node_fail(n, err, "sealing a value: %s", hm_strerror(err));
	return hm_store_put(n, txn, db, k, kn, scratch->data, len);
}

hm_err hm_seal_open(hm_node *n, enum hm_db db, const MDB_val *k, MDB_val *v,
                    msgpack_sbuffer *scratch)
{
	uint8_t ad[1 + 511];
	size_t len, adn;
	hm_err err;

	if (!n->trust)
		return HM_OK;
	if (v->mv_size < HM_AEAD_OVERHEAD)
		return hm_node_fail(n, HM_ERR_CORRUPT, "a sealed value is too short");
	if ((err = reserve(scratch, v->mv_size)))
		return err;
	adn = seal_ad(db, k->mv_data, k->mv_size, ad);
	if ((err = hm_aead_open((uint8_t *)scratch->data, scratch->alloc, &len, n->storage_key,
	                        v->mv_data, v->mv_size, ad, adn)))
		/* The command looks for "the store was altered at rest", in any language. */
		return hm_node_fail(
		    n, err,
		    "a sealed value does not open: %s (the storage key opened it at "
		    "open)",
		    _("the store was altered at rest"));
	v->mv_data = scratch->data;
	v->mv_size = len;
	return HM_OK;
}

hm_err hm_seal_get(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn, MDB_val *v,
                   msgpack_sbuffer *scratch)
{
	MDB_val key = {kn, (void *)k};
	hm_err err = hm_store_get(n, txn, db, k, kn, v);

	if (err)
		return err;
	return hm_seal_open(n, db, &key, v, scratch);
}
