/* kx.c - session keys for sync sessions: ephemeral X25519 (crypto_kx, so forward secret), and
 * counter-nonce XChaCha20-Poly1305 for the frames of a session. */
#include "crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(crypto_kx_PUBLICKEYBYTES == HM_KX_PUB_BYTES, "kx public key size");
_Static_assert(crypto_kx_SESSIONKEYBYTES == HM_KX_SESSION_KEY_BYTES, "kx session key size");

hm_err hm_kx_init(hm_kx *kx)
{
	return crypto_kx_keypair(kx->pub, kx->secret) == 0 ? HM_OK : HM_ERR_CRYPTO;
}

void hm_kx_release(hm_kx *kx)
{
	sodium_memzero(kx, sizeof(*kx));
}

hm_err hm_kx_session(const hm_kx *kx, const uint8_t peer_pub[HM_KX_PUB_BYTES], int initiator,
                     uint8_t rx[HM_KX_SESSION_KEY_BYTES], uint8_t tx[HM_KX_SESSION_KEY_BYTES])
{
	int rc = initiator ? crypto_kx_client_session_keys(rx, tx, kx->pub, kx->secret, peer_pub)
	                   : crypto_kx_server_session_keys(rx, tx, kx->pub, kx->secret, peer_pub);
	return rc == 0 ? HM_OK : HM_ERR_CRYPTO;
}

static void counter_nonce(uint64_t counter, uint8_t nonce[24])
{
	memset(nonce, 0, 24);
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(counter >> (8 * i));
}

hm_err hm_aead_seal_n(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *msg,
                      size_t len, const void *ad, size_t ad_len)
{
	uint8_t nonce[24];
	counter_nonce(counter, nonce);
	return crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, msg, len, ad, ad_len, NULL,
	                                                  nonce, key) == 0
	           ? HM_OK
	           : HM_ERR_CRYPTO;
}

hm_err hm_aead_open_n(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *sealed,
                      size_t sealed_len, const void *ad, size_t ad_len)
{
	uint8_t nonce[24];
	if (sealed_len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return HM_ERR_TRUNCATED;
	counter_nonce(counter, nonce);
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, sealed, sealed_len, ad,
	                                                  ad_len, nonce, key) == 0
	           ? HM_OK
	           : HM_ERR_CRYPTO;
}
