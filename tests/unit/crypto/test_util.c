/* test_util.c - helpers for the crypto/ unit tests. */
#include "test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"

const hm_pwhash_params test_fast_params = {HM_PWHASH_OPSLIMIT_MIN, HM_PWHASH_MEMLIMIT_MIN};

void test_seed(uint8_t seed[HM_SEED_BYTES], uint8_t tag)
{
	for (int i = 0; i < HM_SEED_BYTES; i++)
		seed[i] = (uint8_t)(tag + i);
}

void test_identity(hm_identity *ident, uint8_t tag)
{
	uint8_t seed[HM_SEED_BYTES];

	test_seed(seed, tag);
	assert_int_equal(hm_identity_init_seed(ident, seed), HM_OK);
}

void test_tmp_path(char *out, size_t cap, const char *name)
{
	test_scratch_path(out, cap, "crypto", name);
}

void test_data_path(char *out, size_t cap, const char *name)
{
	const char *dir = getenv("HAMLET_TEST_DATA");

	if (!dir || !*dir)
		dir = HM_TEST_DATA_FALLBACK;
	assert_true(snprintf(out, cap, "%s/crypto/%s", dir, name) < (int)cap);
}

uint8_t *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0 && n < (1 << 20));
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}
