/* test_seal.c - records sealed at rest. After a trust node writes a person, the bytes of its
 * data.mdb hold neither the name nor the phone (a node without keys, as a control, holds both).
 * A trust node does not open without its keys or with another node's; with a wrong storage key,
 * nothing sealed can be read or written. */
#define _GNU_SOURCE /* memmem */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME  "Ouyang Qiaoxiu-Distinct"
#define PHONE "13987654321"

static uint8_t *read_file(const char *dir, size_t *len)
{
	char path[1100];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool file_holds(const char *dir, const char *text)
{
	size_t n;
	uint8_t *buf = read_file(dir, &n);
	bool found = memmem(buf, n, text, strlen(text)) != NULL;
	free(buf);
	return found;
}

static void write_person(hm_node *n)
{
	test_person(n, "p1", NAME, NULL);
	assert_int_equal(test_set_str(n, "person", "p1", "phone", PHONE, NULL), HM_OK);
	/* A value that loses goes to the conflict log: sealed too. */
	assert_int_equal(test_set_str(n, "person", "p1", "status", "home-isolation", NULL), HM_OK);
}

static void test_records_sealed_at_rest(void **state)
{
	tt_mesh m;
	test_node plain;
	test_envs e = {0};
	char buf[64];
	(void)state;

	tt_mesh_init(&m, "seal");
	write_person(m.v1.n);
	/* v2 receives it: its replica is sealed under its own storage key. */
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(hm_node_apply(m.v2.n, e.v, e.n, NULL, NULL), HM_OK);
	assert_string_equal(test_get_str(m.v2.n, "person", "p1", "name", buf, sizeof(buf)), NAME);
	tnode_reopen(&m.v1);
	tnode_reopen(&m.v2);
	assert_string_equal(test_get_str(m.v1.n, "person", "p1", "phone", buf, sizeof(buf)), PHONE);
	assert_false(file_holds(m.v1.dir, NAME));
	assert_false(file_holds(m.v1.dir, PHONE));
	assert_false(file_holds(m.v2.dir, NAME));
	assert_false(file_holds(m.v2.dir, PHONE));
	assert_false(file_holds(m.v1.dir, "home-isolation"));

	/* The control: the same writes on a node without keys are there in the clear. */
	test_node_init(&plain, "seal_plain", 0, NULL);
	write_person(plain.n);
	test_node_release(&plain);
	assert_true(file_holds(plain.dir, NAME));
	assert_true(file_holds(plain.dir, PHONE));
	test_envs_release(&e);
	tt_mesh_release(&m);
}

static void test_open_needs_its_keys(void **state)
{
	tnode t;
	hm_identity other;
	uint8_t other_key[HM_STORAGE_KEY_BYTES];
	hm_node_opts opts;
	hm_node *n = NULL;
	(void)state;

	tnode_init(&t, "seal_open", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	write_person(t.n);
	hm_node_close(t.n);
	t.n = NULL;

	/* No keys at all. */
	assert_int_equal(hm_node_open(t.dir, NULL, &n), HM_ERR_CRYPTO);
	assert_null(n);
	/* An identity without a storage key, or the other way round. */
	opts = t.opts;
	opts.storage_key = NULL;
	assert_int_not_equal(hm_node_open(t.dir, &opts, &n), HM_OK);
	assert_null(n);
	opts = t.opts;
	opts.identity = NULL;
	assert_int_not_equal(hm_node_open(t.dir, &opts, &n), HM_OK);
	assert_null(n);
	/* Another node's key file. */
	tt_identity(&other, 0x99);
	memset(other_key, 0x99, sizeof(other_key));
	opts = t.opts;
	opts.identity = &other, opts.storage_key = other_key;
	assert_int_equal(hm_node_open(t.dir, &opts, &n), HM_ERR_CRYPTO);
	assert_null(n);
	hm_identity_release(&other);
	/* Its own keys still open it, with everything there. */
	tnode_reopen(&t);
	{
		char buf[64];
		assert_string_equal(test_get_str(t.n, "person", "p1", "name", buf, sizeof(buf)),
		                    NAME);
		assert_int_equal(hm_node_check(t.n), HM_OK);
	}
	tnode_release(&t);
}

/* With a wrong storage key, nothing sealed opens: reads fail with HM_ERR_CRYPTO, and so do
 * writes (the data key is sealed too); nothing changes on disk. */
static void test_wrong_storage_key_reads_nothing(void **state)
{
	tnode t;
	uint8_t wrong[HM_STORAGE_KEY_BYTES];
	hm_node_opts opts;
	hm_node *n = NULL;
	hm_record *r = NULL;
	hm_err err;
	(void)state;

	tnode_init(&t, "seal_wrong", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	write_person(t.n);
	hm_node_close(t.n);
	t.n = NULL;
	memcpy(wrong, t.storage_key, sizeof(wrong));
	wrong[0] ^= 1;
	opts = t.opts;
	opts.storage_key = wrong;
	err = hm_node_open(t.dir, &opts, &n);
	if (err == HM_OK) {
		hm_hash d;
		assert_int_equal(hm_node_get(n, "person", "p1", &r), HM_ERR_CRYPTO);
		assert_null(r);
		assert_int_not_equal(test_set_str(n, "person", "p2", "name", "X", NULL), HM_OK);
		assert_int_not_equal(hm_node_digest(n, NULL, &d), HM_OK);
		hm_node_close(n);
	}
	tnode_reopen(&t);
	{
		char buf[64];
		assert_string_equal(test_get_str(t.n, "person", "p1", "name", buf, sizeof(buf)),
		                    NAME);
		assert_null(test_get_str(t.n, "person", "p2", "name", buf, sizeof(buf)));
		assert_int_equal(hm_node_check(t.n), HM_OK);
	}
	tnode_release(&t);
}

/* Opening with a wrong storage key fails at once (a value sealed at create must open), not at
 * the first sealed read. */
static void test_open_with_wrong_storage_key_fails(void **state)
{
	tnode t;
	uint8_t wrong[HM_STORAGE_KEY_BYTES];
	hm_node_opts opts;
	hm_node *n = NULL;
	(void)state;

	tnode_init(&t, "seal_wrong_open", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	write_person(t.n);
	hm_node_close(t.n);
	t.n = NULL;
	memset(wrong, 0x77, sizeof(wrong));
	opts = t.opts;
	opts.storage_key = wrong;
	assert_int_equal(hm_node_open(t.dir, &opts, &n), HM_ERR_CRYPTO);
	assert_null(n);
	hm_node_close(n);
	tnode_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_sealed_at_rest),
	    cmocka_unit_test(test_open_needs_its_keys),
	    cmocka_unit_test(test_wrong_storage_key_reads_nothing),
	    cmocka_unit_test(test_open_with_wrong_storage_key_fails),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/seal", tests, NULL, NULL);
}
