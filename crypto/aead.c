/* aead.c - XChaCha20-Poly1305 with a random prepended nonce, and sealed boxes for data keys. */
#include "crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(HM_AEAD_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(HM_AEAD_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "AEAD nonce size");
_Static_assert(HM_AEAD_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "AEAD tag size");
_Static_assert(HM_BOX_SEALED_BYTES == 32 + crypto_box_SEALBYTES, "sealed box size");

hm_err hm_aead_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[HM_AEAD_KEY_BYTES],
                    const void *msg, size_t len, const void *ad, size_t ad_len)
{
	uint8_t nonce[HM_AEAD_NONCE_BYTES];

	randombytes_buf(nonce, sizeof(nonce));
	return hm_aead_seal_nonce(out, cap, out_len, key, nonce, msg, len, ad, ad_len);
}

hm_err hm_aead_seal_nonce(uint8_t *out, size_t cap, size_t *out_len,
                          const uint8_t key[HM_AEAD_KEY_BYTES],
                          const uint8_t nonce[HM_AEAD_NONCE_BYTES], const void *msg, size_t len,
                          const void *ad, size_t ad_len)
{
	unsigned long long clen = 0;

	if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    len > SIZE_MAX - HM_AEAD_OVERHEAD)
		return HM_ERR_TOO_BIG;
	if (cap < len + HM_AEAD_OVERHEAD)
		return HM_ERR_INVALID;
	memmove(out, nonce, HM_AEAD_NONCE_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + HM_AEAD_NONCE_BYTES, &clen, msg, len,
	                                               ad, ad_len, NULL, out, key) != 0) {
		sodium_memzero(out, len + HM_AEAD_OVERHEAD);
		return HM_ERR_CRYPTO;
	}
	*out_len = HM_AEAD_NONCE_BYTES + (size_t)clen;
	return HM_OK;
}

hm_err hm_aead_open(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[HM_AEAD_KEY_BYTES],
                    const void *sealed, size_t sealed_len, const void *ad, size_t ad_len)
{
	const uint8_t *nonce = sealed;
	unsigned long long mlen = 0;
	size_t plain_len;

	if (sealed_len < HM_AEAD_OVERHEAD)
		return HM_ERR_TRUNCATED;
	plain_len = sealed_len - HM_AEAD_OVERHEAD;
	if (cap < plain_len)
		return HM_ERR_INVALID;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	        out, &mlen, NULL, nonce + HM_AEAD_NONCE_BYTES, sealed_len - HM_AEAD_NONCE_BYTES, ad,
	        ad_len, nonce, key) != 0) {
		sodium_memzero(out, plain_len);
		return HM_ERR_CRYPTO;
	}
	*out_len = (size_t)mlen;
	return HM_OK;
}

hm_err hm_box_seal(uint8_t out[HM_BOX_SEALED_BYTES], const hm_box_pub *to, const uint8_t key[32])
{
	if (crypto_box_seal(out, key, 32, to->b) != 0)
		return HM_ERR_CRYPTO;
	return HM_OK;
}

hm_err hm_box_seal_open(uint8_t key_out[32], const hm_identity *ident,
                        const uint8_t sealed[HM_BOX_SEALED_BYTES])
{
	if (crypto_box_seal_open(key_out, sealed, HM_BOX_SEALED_BYTES, ident->box_pub.b,
	                         ident->box_secret) != 0) {
		sodium_memzero(key_out, 32);
		return HM_ERR_CRYPTO;
	}
	return HM_OK;
}
