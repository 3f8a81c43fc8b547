/* test_keyfile.c - passphrase-sealed key files in memory and on disk. */
#include "test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char pass[] = "correct horse battery staple";
#define PASS_LEN (sizeof(pass) - 1)

static void keyfile_encode_fast(uint8_t *buf, size_t *len, const hm_identity *ident,
                                const uint8_t *storage_key)
{
	assert_int_equal(hm_keyfile_encode(buf, HM_KEYFILE_MAX_BYTES, len, ident, storage_key, pass,
	                                   PASS_LEN, &test_fast_params),
	                 HM_OK);
}

static int all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

static void assert_same_identity(const hm_identity *a, const hm_identity *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static void keyfile_round_trip_in_memory(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES], storage[HM_STORAGE_KEY_BYTES];
	hm_identity ident;
	hm_keyfile_secrets got;
	hm_keyfile_info info;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 30);
	keyfile_encode_fast(buf, &len, &ident, NULL);
	assert_int_equal(len, 148);
	assert_int_equal(hm_keyfile_inspect(&info, buf, len), HM_OK);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.has_storage_key, 0);
	assert_int_equal(info.params.opslimit, test_fast_params.opslimit);
	assert_int_equal(info.params.memlimit, test_fast_params.memlimit);
	assert_int_equal(hm_keyfile_decode(&got, buf, len, pass, PASS_LEN), HM_OK);
	assert_same_identity(&got.ident, &ident);
	assert_int_equal(got.has_storage_key, 0);
	hm_keyfile_secrets_release(&got);

	hm_random_bytes(storage, sizeof(storage));
	keyfile_encode_fast(buf, &len, &ident, storage);
	assert_int_equal(len, 180);
	assert_int_equal(hm_keyfile_decode(&got, buf, len, pass, PASS_LEN), HM_OK);
	assert_same_identity(&got.ident, &ident);
	assert_int_equal(got.has_storage_key, 1);
	assert_memory_equal(got.storage_key, storage, sizeof(storage));
	hm_keyfile_secrets_release(&got);
	hm_identity_release(&ident);
}

static void keyfile_wrong_passphrase_is_crypto_error(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	hm_identity ident;
	hm_keyfile_secrets got;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 31);
	keyfile_encode_fast(buf, &len, &ident, NULL);
	assert_int_equal(hm_keyfile_decode(&got, buf, len, pass, PASS_LEN - 1), HM_ERR_CRYPTO);
	assert_int_equal(
	    hm_keyfile_decode(&got, buf, len, "Correct horse battery staple", PASS_LEN),
	    HM_ERR_CRYPTO);
	assert_int_equal(hm_keyfile_decode(&got, buf, len, "", 0), HM_ERR_CRYPTO);
	assert_true(all_zero(&got, sizeof(got)));
	hm_identity_release(&ident);
}

static void keyfile_truncated_at_every_length(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	hm_identity ident;
	hm_keyfile_secrets got;
	hm_keyfile_info info;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 32);
	keyfile_encode_fast(buf, &len, &ident, (const uint8_t *)"0123456789abcdef0123456789abcdef");
	for (size_t n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so ASan sees any read past the end. */
		uint8_t *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, buf, n);
		assert_int_equal(hm_keyfile_decode(&got, cut, n, pass, PASS_LEN), HM_ERR_TRUNCATED);
		assert_int_equal(hm_keyfile_inspect(&info, cut, n), HM_ERR_TRUNCATED);
		free(cut);
	}
	hm_identity_release(&ident);
}

static void keyfile_any_flipped_byte_is_refused(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	hm_identity ident;
	hm_keyfile_secrets got;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 33);
	keyfile_encode_fast(buf, &len, &ident, NULL);
	for (size_t i = 0; i < len; i++) {
		hm_err err;
		buf[i] ^= 0x01;
		err = hm_keyfile_decode(&got, buf, len, pass, PASS_LEN);
		buf[i] ^= 0x01;
		assert_int_not_equal(err, HM_OK);
		if (i >= 28) /* salt, nonce, ciphertext: only the tag can tell */
			assert_int_equal(err, HM_ERR_CRYPTO);
	}
	assert_int_equal(hm_keyfile_decode(&got, buf, len, pass, PASS_LEN), HM_OK);
	hm_keyfile_secrets_release(&got);
	hm_identity_release(&ident);
}

static void keyfile_header_errors_are_specific(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES + 1], save[8];
	hm_identity ident;
	hm_keyfile_secrets got;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 34);
	keyfile_encode_fast(buf, &len, &ident, NULL);
#define DECODE(n) hm_keyfile_decode(&got, buf, (n), pass, PASS_LEN)
	buf[0] = 'X';
	assert_int_equal(DECODE(len), HM_ERR_CORRUPT);
	buf[0] = 'H';
	buf[7] = 2;
	assert_int_equal(DECODE(len), HM_ERR_VERSION);
	buf[7] = 1;
	buf[8] = 2;
	assert_int_equal(DECODE(len), HM_ERR_VERSION);
	buf[8] = 1;
	buf[9] = 7;
	assert_int_equal(DECODE(len), HM_ERR_VERSION);
	buf[9] = 1;
	buf[10] = 0x80;
	assert_int_equal(DECODE(len), HM_ERR_CORRUPT);
	buf[10] = 0;
	buf[11] = 1;
	assert_int_equal(DECODE(len), HM_ERR_CORRUPT);
	buf[11] = 0;
	/* A hostile cost must not make unlocking take unbounded memory or time. */
	memcpy(save, buf + 20, 8);
	hm_put_u64le(buf + 20, (uint64_t)HM_PWHASH_MEMLIMIT_MAX + 1);
	assert_int_equal(DECODE(len), HM_ERR_TOO_BIG);
	hm_put_u64le(buf + 20, UINT64_MAX);
	assert_int_equal(DECODE(len), HM_ERR_TOO_BIG);
	hm_put_u64le(buf + 20, 1024);
	assert_int_equal(DECODE(len), HM_ERR_CORRUPT);
	memcpy(buf + 20, save, 8);
	memcpy(save, buf + 12, 8);
	hm_put_u64le(buf + 12, HM_PWHASH_OPSLIMIT_MAX + 1);
	assert_int_equal(DECODE(len), HM_ERR_TOO_BIG);
	hm_put_u64le(buf + 12, 0);
	assert_int_equal(DECODE(len), HM_ERR_CORRUPT);
	memcpy(buf + 12, save, 8);
	/* The storage-key flag changes the expected length: refused before decryption. */
	buf[10] = 1;
	assert_int_equal(DECODE(len), HM_ERR_TRUNCATED);
	buf[10] = 0;
	buf[len] = 0;
	assert_int_equal(DECODE(len + 1), HM_ERR_CORRUPT);
	assert_int_equal(DECODE(HM_KEYFILE_MAX_BYTES + 1), HM_ERR_TOO_BIG);
	assert_int_equal(DECODE(len), HM_OK);
#undef DECODE
	hm_keyfile_secrets_release(&got);
	hm_identity_release(&ident);
}

static void keyfile_encode_refuses_bad_params(void **state)
{
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	hm_identity ident;
	hm_pwhash_params p;
	size_t len = 0;
	(void)state;
	test_identity(&ident, 35);
	p = (hm_pwhash_params){0, HM_PWHASH_MEMLIMIT_MIN};
	assert_int_equal(
	    hm_keyfile_encode(buf, sizeof(buf), &len, &ident, NULL, pass, PASS_LEN, &p),
	    HM_ERR_INVALID);
	p = (hm_pwhash_params){1, (uint64_t)HM_PWHASH_MEMLIMIT_MAX + 1};
	assert_int_equal(
	    hm_keyfile_encode(buf, sizeof(buf), &len, &ident, NULL, pass, PASS_LEN, &p),
	    HM_ERR_INVALID);
	assert_int_equal(
	    hm_keyfile_encode(buf, 147, &len, &ident, NULL, pass, PASS_LEN, &test_fast_params),
	    HM_ERR_INVALID);
	hm_identity_release(&ident);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void keyfile_file_round_trip_mode_0600(void **state)
{
	char path[1024];
	uint8_t storage[HM_STORAGE_KEY_BYTES];
	hm_identity ident;
	hm_keyfile_secrets got;
	struct stat st;
	mode_t old_mask;
	double t;
	(void)state;
	test_identity(&ident, 36);
	hm_random_bytes(storage, sizeof(storage));
	test_tmp_path(path, sizeof(path), "node.key");
	/* A permissive umask must not widen the mode; the default parameters are the ones used. */
	old_mask = umask(0);
	assert_int_equal(hm_keyfile_write(path, &ident, storage, pass, PASS_LEN, NULL), HM_OK);
	umask(old_mask);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 180);
	t = now_seconds();
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_OK);
	t = now_seconds() - t;
	print_message("key file unlock with default Argon2id cost: %.3f s\n", t);
	assert_true(t < 2.0); /* generous: the budget is 0.2 s, the machine is shared */
	assert_same_identity(&got.ident, &ident);
	assert_memory_equal(got.storage_key, storage, sizeof(storage));
	hm_keyfile_secrets_release(&got);
	assert_int_equal(hm_keyfile_read(&got, path, "nope", 4), HM_ERR_CRYPTO);
	hm_identity_release(&ident);
	unlink(path);
}

static void keyfile_write_refuses_existing(void **state)
{
	char path[1024];
	uint8_t before[HM_KEYFILE_MAX_BYTES];
	uint8_t *after;
	hm_identity ident, other;
	hm_keyfile_secrets got;
	size_t before_len, after_len;
	uint8_t *tmp;
	(void)state;
	test_identity(&ident, 37);
	test_identity(&other, 38);
	test_tmp_path(path, sizeof(path), "exists.key");
	assert_int_equal(hm_keyfile_write(path, &ident, NULL, pass, PASS_LEN, &test_fast_params),
	                 HM_OK);
	tmp = test_read_file(path, &before_len);
	memcpy(before, tmp, before_len);
	free(tmp);
	assert_int_equal(hm_keyfile_write(path, &other, NULL, pass, PASS_LEN, &test_fast_params),
	                 HM_ERR_EXISTS);
	after = test_read_file(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_OK);
	assert_same_identity(&got.ident, &ident);
	hm_keyfile_secrets_release(&got);
	/* A dangling symlink is not followed either. */
	test_tmp_path(path, sizeof(path), "link.key");
	assert_int_equal(symlink("link-target-that-does-not-exist.key", path), 0);
	assert_int_equal(hm_keyfile_write(path, &other, NULL, pass, PASS_LEN, &test_fast_params),
	                 HM_ERR_EXISTS);
	unlink(path);
	hm_identity_release(&ident);
	hm_identity_release(&other);
}

static void keyfile_write_bad_params_leaves_nothing(void **state)
{
	char path[1024];
	hm_identity ident;
	hm_pwhash_params p = {0, 0};
	struct stat st;
	(void)state;
	test_identity(&ident, 39);
	test_tmp_path(path, sizeof(path), "bad-params.key");
	assert_int_equal(hm_keyfile_write(path, &ident, NULL, pass, PASS_LEN, &p), HM_ERR_INVALID);
	assert_int_not_equal(stat(path, &st), 0);
	hm_identity_release(&ident);
}

static void write_bytes(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void keyfile_read_errors(void **state)
{
	char path[1024];
	uint8_t buf[HM_KEYFILE_MAX_BYTES + 1] = {0};
	hm_keyfile_secrets got;
	hm_identity ident;
	size_t len = 0;
	(void)state;
	test_tmp_path(path, sizeof(path), "missing.key");
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_ERR_NOT_FOUND);
	test_tmp_path(path, sizeof(path), "big.key");
	write_bytes(path, buf, sizeof(buf));
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_ERR_TOO_BIG);
	test_tmp_path(path, sizeof(path), "empty.key");
	write_bytes(path, buf, 0);
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_ERR_TRUNCATED);
	test_tmp_path(path, sizeof(path), "dir.key");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_ERR_IO);
	rmdir(path);
	test_tmp_path(path, sizeof(path), "half.key");
	test_identity(&ident, 40);
	keyfile_encode_fast(buf, &len, &ident, NULL);
	write_bytes(path, buf, len / 2);
	assert_int_equal(hm_keyfile_read(&got, path, pass, PASS_LEN), HM_ERR_TRUNCATED);
	hm_identity_release(&ident);
}

int test_keyfile_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keyfile_round_trip_in_memory),
	    cmocka_unit_test(keyfile_wrong_passphrase_is_crypto_error),
	    cmocka_unit_test(keyfile_truncated_at_every_length),
	    cmocka_unit_test(keyfile_any_flipped_byte_is_refused),
	    cmocka_unit_test(keyfile_header_errors_are_specific),
	    cmocka_unit_test(keyfile_encode_refuses_bad_params),
	    cmocka_unit_test(keyfile_file_round_trip_mode_0600),
	    cmocka_unit_test(keyfile_write_refuses_existing),
	    cmocka_unit_test(keyfile_write_bad_params_leaves_nothing),
	    cmocka_unit_test(keyfile_read_errors),
	};
	return cmocka_run_group_tests_name("keyfile", tests, NULL, NULL);
}
