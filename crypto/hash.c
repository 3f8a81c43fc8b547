/* hash.c - BLAKE2b, randomness and wiping, from libsodium. */
#include "crypto.h"

#include <sodium.h>

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((hm_hash_state *)0)->opaque),
               "hm_hash_state too small for crypto_generichash_state");
_Static_assert(HM_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
                   HM_HASH_BYTES <= crypto_generichash_BYTES_MAX,
               "BLAKE2b output size out of range");

hm_err hm_crypto_init(void)
{
	return sodium_init() < 0 ? HM_ERR_CRYPTO : HM_OK;
}

void hm_hash_init(hm_hash_state *st)
{
	crypto_generichash_init((crypto_generichash_state *)st->opaque, NULL, 0, HM_HASH_BYTES);
}

void hm_hash_update(hm_hash_state *st, const void *data, size_t len)
{
	crypto_generichash_update((crypto_generichash_state *)st->opaque, data, len);
}

void hm_hash_final(hm_hash_state *st, hm_hash *out)
{
	crypto_generichash_final((crypto_generichash_state *)st->opaque, out->b, HM_HASH_BYTES);
	sodium_memzero(st, sizeof(*st));
}

void hm_hash_buf(const void *data, size_t len, hm_hash *out)
{
	crypto_generichash(out->b, HM_HASH_BYTES, data, len, NULL, 0);
}

void hm_hash_keyed(const uint8_t key[HM_HASH_BYTES], const void *data, size_t len, hm_hash *out)
{
	crypto_generichash(out->b, HM_HASH_BYTES, data, len, key, HM_HASH_BYTES);
}

int hm_hash_equal(const hm_hash *a, const hm_hash *b)
{
	return sodium_memcmp(a->b, b->b, HM_HASH_BYTES) == 0;
}

int hm_hash_is_zero(const hm_hash *h)
{
	return sodium_is_zero(h->b, HM_HASH_BYTES);
}

void hm_random_bytes(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void hm_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

bool hm_secret_lock(void *p, size_t len)
{
	return sodium_mlock(p, len) == 0;
}

void hm_secret_unlock(void *p, size_t len)
{
	(void)sodium_munlock(p, len); /* wipes first, whether munlock succeeds or not */
}
