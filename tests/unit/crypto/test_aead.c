/* test_aead.c - XChaCha20-Poly1305 seal/open and sealed boxes for data keys. */
#include "test_util.h"

#include <string.h>

static const char ad_text[] = "origin 7 seq 42";

static void aead_round_trip_and_tamper(void **state)
{
	uint8_t key[HM_AEAD_KEY_BYTES], sealed[64 + HM_AEAD_OVERHEAD], plain[64];
	const char msg[] = "thirty two bags of millet seed";
	size_t sealed_len = 0, plain_len = 0;
	(void)state;
	hm_random_bytes(key, sizeof(key));
	assert_int_equal(hm_aead_seal(sealed, sizeof(sealed), &sealed_len, key, msg, sizeof(msg),
	                              ad_text, sizeof(ad_text)),
	                 HM_OK);
	assert_int_equal(sealed_len, sizeof(msg) + HM_AEAD_OVERHEAD);
	assert_int_equal(hm_aead_open(plain, sizeof(plain), &plain_len, key, sealed, sealed_len,
	                              ad_text, sizeof(ad_text)),
	                 HM_OK);
	assert_int_equal(plain_len, sizeof(msg));
	assert_memory_equal(plain, msg, sizeof(msg));
	for (size_t i = 0; i < sealed_len; i++) {
		sealed[i] ^= 0x04;
		assert_int_equal(hm_aead_open(plain, sizeof(plain), &plain_len, key, sealed,
		                              sealed_len, ad_text, sizeof(ad_text)),
		                 HM_ERR_CRYPTO);
		sealed[i] ^= 0x04;
	}
	assert_int_equal(hm_aead_open(plain, sizeof(plain), &plain_len, key, sealed, sealed_len,
	                              ad_text, sizeof(ad_text) - 1),
	                 HM_ERR_CRYPTO);
	key[0] ^= 1;
	assert_int_equal(hm_aead_open(plain, sizeof(plain), &plain_len, key, sealed, sealed_len,
	                              ad_text, sizeof(ad_text)),
	                 HM_ERR_CRYPTO);
	for (size_t n = 0; n < HM_AEAD_OVERHEAD; n++)
		assert_int_equal(
		    hm_aead_open(plain, sizeof(plain), &plain_len, key, sealed, n, NULL, 0),
		    HM_ERR_TRUNCATED);
}

static void aead_nonces_differ_and_caps_hold(void **state)
{
	uint8_t key[HM_AEAD_KEY_BYTES] = {0}, a[HM_AEAD_OVERHEAD + 4], b[HM_AEAD_OVERHEAD + 4];
	uint8_t out[4];
	size_t la = 0, lb = 0, lo = 0;
	(void)state;
	assert_int_equal(hm_aead_seal(a, sizeof(a), &la, key, "abcd", 4, NULL, 0), HM_OK);
	assert_int_equal(hm_aead_seal(b, sizeof(b), &lb, key, "abcd", 4, NULL, 0), HM_OK);
	assert_memory_not_equal(a, b, HM_AEAD_NONCE_BYTES);
	assert_int_equal(hm_aead_seal(a, sizeof(a) - 1, &la, key, "abcd", 4, NULL, 0),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_aead_open(out, 3, &lo, key, b, lb, NULL, 0), HM_ERR_INVALID);
	assert_int_equal(hm_aead_open(out, 4, &lo, key, b, lb, NULL, 0), HM_OK);
	assert_memory_equal(out, "abcd", 4);
	/* An empty message seals to just nonce and tag. */
	assert_int_equal(hm_aead_seal(a, sizeof(a), &la, key, NULL, 0, NULL, 0), HM_OK);
	assert_int_equal(la, HM_AEAD_OVERHEAD);
	assert_int_equal(hm_aead_open(out, 0, &lo, key, a, la, NULL, 0), HM_OK);
	assert_int_equal(lo, 0);
}

static void box_seal_wraps_data_key(void **state)
{
	hm_identity to, other;
	uint8_t key[32], sealed[HM_BOX_SEALED_BYTES], got[32];
	(void)state;
	test_identity(&to, 20);
	test_identity(&other, 21);
	hm_random_bytes(key, sizeof(key));
	assert_int_equal(hm_box_seal(sealed, &to.box_pub, key), HM_OK);
	assert_int_equal(hm_box_seal_open(got, &to, sealed), HM_OK);
	assert_memory_equal(got, key, 32);
	assert_int_equal(hm_box_seal_open(got, &other, sealed), HM_ERR_CRYPTO);
	for (size_t i = 0; i < sizeof(sealed); i++) {
		sealed[i] ^= 0x10;
		assert_int_equal(hm_box_seal_open(got, &to, sealed), HM_ERR_CRYPTO);
		sealed[i] ^= 0x10;
	}
	hm_identity_release(&to);
	hm_identity_release(&other);
}

int test_aead_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(aead_round_trip_and_tamper),
	    cmocka_unit_test(aead_nonces_differ_and_caps_hold),
	    cmocka_unit_test(box_seal_wraps_data_key),
	};
	return cmocka_run_group_tests_name("aead", tests, NULL, NULL);
}
