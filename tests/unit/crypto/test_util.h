/* test_util.h - shared helpers and the test groups of the crypto/ unit tests. */
#ifndef HM_TEST_CRYPTO_UTIL_H
#define HM_TEST_CRYPTO_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "crypto_int.h"

/* Cheapest Argon2id cost, so loops over many key files stay fast. */
extern const hm_pwhash_params test_fast_params;

/* A seed whose bytes are tag, tag+1, ... */
void test_seed(uint8_t seed[HM_SEED_BYTES], uint8_t tag);

/* An identity from test_seed(tag); fails the test on error. */
void test_identity(hm_identity *ident, uint8_t tag);

/* Fill out (cap bytes) with "$HAMLET_TEST_TMP/name" (or a /tmp fallback), creating the
 * directory and removing any file left there by an earlier run. */
void test_tmp_path(char *out, size_t cap, const char *name);

/* Fill out with "$HAMLET_TEST_DATA/crypto/name" (or the source tree's tests/data). */
void test_data_path(char *out, size_t cap, const char *name);

/* Read a whole (small) file into a malloc'd buffer; fails the test on error. Caller frees. */
uint8_t *test_read_file(const char *path, size_t *len);

int test_sign_group(void);
int test_aead_group(void);
int test_keyfile_group(void);
int test_region_group(void);
int test_cert_group(void);
int test_golden_group(void);

#endif
