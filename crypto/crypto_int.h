/*
 * crypto_int.h - internals shared inside crypto/ (and by its own unit tests). Not part of the
 * public API: nothing outside crypto/ and tests/unit/crypto/ includes this header.
 */
#ifndef HM_CRYPTO_INT_H
#define HM_CRYPTO_INT_H

#include "crypto.h"
#include "i18n.h"

/* Signing contexts: each purpose signs "hamlet/<purpose>\0" || payload, so a signature made
 * for one purpose never verifies for another. */
#define HM_SIGN_CTX_MSG  "hamlet/msg"
#define HM_SIGN_CTX_HASH "hamlet/hash"
#define HM_SIGN_CTX_CERT "hamlet/cert"

/* Sign or verify len bytes of msg (len <= HM_SIGN_MSG_MAX) under the context ctx. */
hm_err hm_sign_ctx(hm_signature *sig, const hm_identity *ident, const char *ctx, const void *msg,
                   size_t len) HM_MUST_CHECK;
hm_err hm_verify_ctx(const hm_signature *sig, const hm_sign_pub *pub, const char *ctx,
                     const void *msg, size_t len) HM_MUST_CHECK;

#define HM_KEYFILE_SALT_BYTES  16
#define HM_KEYFILE_NONCE_BYTES 24

/* hm_keyfile_encode with a caller-chosen salt and nonce: deterministic output for golden
 * files. Never use it for a real key file (a repeated nonce under one passphrase-derived key
 * breaks the encryption). */
hm_err hm_keyfile_encode_fixed(uint8_t *out, size_t cap, size_t *out_len, const hm_identity *ident,
                               const uint8_t *storage_key, const char *pass, size_t pass_len,
                               const hm_pwhash_params *params,
                               const uint8_t salt[HM_KEYFILE_SALT_BYTES],
                               const uint8_t nonce[HM_KEYFILE_NONCE_BYTES]) HM_MUST_CHECK;

/* Little-endian integers in wire and file formats. */
static inline void hm_put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t hm_get_u64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
