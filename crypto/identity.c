/* identity.c - node identities (Ed25519 + X25519), node ids and domain-separated signatures. */
#include "crypto_int.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

_Static_assert(HM_SIGN_PUB_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(HM_SIGN_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(HM_SIGNATURE_BYTES == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(HM_SEED_BYTES == crypto_sign_SEEDBYTES, "Ed25519 seed size");
_Static_assert(HM_BOX_PUB_BYTES == crypto_box_PUBLICKEYBYTES, "X25519 public key size");
_Static_assert(HM_BOX_SECRET_BYTES == crypto_box_SECRETKEYBYTES, "X25519 secret key size");
_Static_assert(HM_SEED_BYTES == crypto_kdf_KEYBYTES, "KDF master key size");

/* crypto_kdf context (8 bytes) and subkey ids deriving the two key pairs from one seed. */
static const char identity_kdf_ctx[crypto_kdf_CONTEXTBYTES + 1] = "hmident1";
enum { IDENTITY_SUBKEY_SIGN = 1, IDENTITY_SUBKEY_BOX = 2 };

/* Longest context tag, with its NUL. */
#define SIGN_CTX_MAX 16

hm_err hm_identity_init(hm_identity *ident)
{
	uint8_t seed[HM_SEED_BYTES];
	hm_err err;

	randombytes_buf(seed, sizeof(seed));
	err = hm_identity_init_seed(ident, seed);
	sodium_memzero(seed, sizeof(seed));
	return err;
}

hm_err hm_identity_init_seed(hm_identity *ident, const uint8_t seed[HM_SEED_BYTES])
{
	uint8_t sign_seed[crypto_sign_SEEDBYTES], box_seed[crypto_box_SEEDBYTES];
	hm_err err = HM_ERR_CRYPTO;

	memset(ident, 0, sizeof(*ident));
	if (crypto_kdf_derive_from_key(sign_seed, sizeof(sign_seed), IDENTITY_SUBKEY_SIGN,
	                               identity_kdf_ctx, seed) != 0 ||
	    crypto_kdf_derive_from_key(box_seed, sizeof(box_seed), IDENTITY_SUBKEY_BOX,
	                               identity_kdf_ctx, seed) != 0)
		goto out;
	if (crypto_sign_seed_keypair(ident->sign_pub.b, ident->sign_secret, sign_seed) != 0)
		goto out;
	if (crypto_box_seed_keypair(ident->box_pub.b, ident->box_secret, box_seed) != 0)
		goto out;
	hm_node_id_from_pub(&ident->id, &ident->sign_pub);
	err = HM_OK;
out:
	sodium_memzero(sign_seed, sizeof(sign_seed));
	sodium_memzero(box_seed, sizeof(box_seed));
	if (err != HM_OK)
		hm_identity_release(ident);
	return err;
}

void hm_identity_release(hm_identity *ident)
{
	sodium_memzero(ident, sizeof(*ident));
}

void hm_node_id_from_pub(hm_node_id *out, const hm_sign_pub *pub)
{
	hm_hash h;

	hm_hash_buf(pub->b, sizeof(pub->b), &h);
	memcpy(out->b, h.b, sizeof(out->b));
}

int hm_node_id_equal(const hm_node_id *a, const hm_node_id *b)
{
	return sodium_memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

int hm_sign_pub_equal(const hm_sign_pub *a, const hm_sign_pub *b)
{
	return sodium_memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* Lay out ctx || NUL || msg in buf (which holds SIGN_CTX_MAX + HM_SIGN_MSG_MAX bytes) and
 * return its length, or 0 when msg is too long. */
static size_t sign_input(uint8_t *buf, const char *ctx, const void *msg, size_t len)
{
	size_t ctx_len = strlen(ctx) + 1;

	assert(ctx_len <= SIGN_CTX_MAX);
	if (len > HM_SIGN_MSG_MAX)
		return 0;
	memcpy(buf, ctx, ctx_len);
	if (len)
		memcpy(buf + ctx_len, msg, len);
	return ctx_len + len;
}

hm_err hm_sign_ctx(hm_signature *sig, const hm_identity *ident, const char *ctx, const void *msg,
                   size_t len)
{
	uint8_t buf[SIGN_CTX_MAX + HM_SIGN_MSG_MAX];
	size_t n = sign_input(buf, ctx, msg, len);

	if (n == 0)
		return HM_ERR_TOO_BIG;
	if (crypto_sign_detached(sig->b, NULL, buf, n, ident->sign_secret) != 0)
		return HM_ERR_CRYPTO;
	return HM_OK;
}

hm_err hm_verify_ctx(const hm_signature *sig, const hm_sign_pub *pub, const char *ctx,
                     const void *msg, size_t len)
{
	uint8_t buf[SIGN_CTX_MAX + HM_SIGN_MSG_MAX];
	size_t n = sign_input(buf, ctx, msg, len);

	if (n == 0)
		return HM_ERR_TOO_BIG;
	if (crypto_sign_verify_detached(sig->b, buf, n, pub->b) != 0)
		return HM_ERR_CRYPTO;
	return HM_OK;
}

_Static_assert(sizeof(HM_SIGN_CTX_MSG) <= SIGN_CTX_MAX &&
                   sizeof(HM_SIGN_CTX_HASH) <= SIGN_CTX_MAX &&
                   sizeof(HM_SIGN_CTX_CERT) <= SIGN_CTX_MAX,
               "signing context tag too long");

hm_err hm_sign(hm_signature *sig, const hm_identity *ident, const void *msg, size_t len)
{
	return hm_sign_ctx(sig, ident, HM_SIGN_CTX_MSG, msg, len);
}

hm_err hm_verify(const hm_signature *sig, const hm_sign_pub *pub, const void *msg, size_t len)
{
	return hm_verify_ctx(sig, pub, HM_SIGN_CTX_MSG, msg, len);
}

hm_err hm_sign_hash(hm_signature *sig, const hm_identity *ident, const hm_hash *h)
{
	return hm_sign_ctx(sig, ident, HM_SIGN_CTX_HASH, h->b, sizeof(h->b));
}

hm_err hm_verify_hash(const hm_signature *sig, const hm_sign_pub *pub, const hm_hash *h)
{
	return hm_verify_ctx(sig, pub, HM_SIGN_CTX_HASH, h->b, sizeof(h->b));
}
