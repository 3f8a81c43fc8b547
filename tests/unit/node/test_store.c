/* test_store.c - the LMDB map: a node capped at a small size refuses the write that does not
 * fit and is exactly as before it; an uncapped node grows its map as it fills. Also the version
 * vector's text form and the consistency check. */
#include "node_test.h"

#include <stdlib.h>
#include <string.h>

static char big_name[3001];

static hm_err write_big(hm_node *n, unsigned i)
{
	char id[16];

	snprintf(id, sizeof(id), "p%u", i);
	big_name[0] = (char)('a' + i % 26);
	return test_set_str(n, "person", id, "name", big_name, NULL);
}

static void test_full_map_changes_nothing(void **state)
{
	hm_node_opts opts = {.map_max = 1u << 20};
	test_node t, w;
	test_state before;
	test_envs e = {0};
	unsigned i;
	hm_err err = HM_OK;
	char buf[8];
	(void)state;

	memset(big_name, 'x', sizeof(big_name) - 1);
	test_node_init(&t, "store_full", 0, &opts);
	for (i = 0; i < 10000; i++) {
		test_state_take(t.n, &before);
		if ((err = write_big(t.n, i)))
			break;
		test_state_release(&before);
	}
	assert_int_equal(err, HM_ERR_FULL);
	assert_true(i > 10); /* some writes fitted before */
	assert_non_null(strstr(hm_node_errmsg(t.n), "cap"));
	test_state_assert_same(t.n, &before);
	/* Change sets from elsewhere do not fit either, and change nothing. */
	test_node_init(&w, "store_full_w", 0, NULL);
	for (unsigned j = 0; j < 40; j++)
		assert_int_equal(write_big(w.n, 100000 + j), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(hm_node_apply(t.n, e.v, e.n, NULL, NULL), HM_ERR_FULL);
	test_state_assert_same(t.n, &before);
	/* Smaller writes may still fit; reads work; the node reopens whole. */
	test_node_reopen(&t);
	test_state_assert_same(t.n, &before);
	assert_non_null(test_get_str(t.n, "person", "p0", "name", big_name, sizeof(big_name)));
	assert_int_equal(hm_node_check(t.n), HM_OK);
	assert_null(test_get_str(t.n, "person", "nobody", "name", buf, sizeof(buf)));
	test_state_release(&before);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&t);
}

static void count_grown(void *ctx, hm_log_level level, const char *msg)
{
	(void)level;
	if (strstr(msg, "map grown"))
		(*(int *)ctx)++;
}

static void test_map_grows(void **state)
{
	int grown = 0;
	hm_node_opts opts = {.map_initial = 256u << 10, .map_max = 256u << 20};
	test_node t;
	hm_node_info info;
	(void)state;

	memset(big_name, 'y', sizeof(big_name) - 1);
	opts.log.fn = count_grown;
	opts.log.ctx = &grown;
	test_node_init(&t, "store_grow", 0, &opts);
	for (unsigned i = 0; i < 600; i++)
		if (write_big(t.n, i) != HM_OK)
			fail_msg("write %u: %s", i, hm_node_errmsg(t.n));
	assert_true(grown >= 2);
	assert_int_equal(hm_node_info_get(t.n, &info), HM_OK);
	assert_int_equal(info.records, 600);
	assert_int_equal(hm_node_check(t.n), HM_OK);
	test_node_reopen(&t);
	assert_int_equal(write_big(t.n, 600), HM_OK);
	test_node_release(&t);
}

/* hm_node_stamp moves with every write that lands (local or applied) and with nothing else. */
static void test_stamp(void **state)
{
	test_node t, w;
	test_envs e = {0};
	uint64_t s0, s1, s2;
	char buf[8];
	(void)state;

	test_node_init(&t, "store_stamp", 0, NULL);
	test_node_init(&w, "store_stamp_w", 0, NULL);
	s0 = hm_node_stamp(t.n);
	assert_null(test_get_str(t.n, "person", "p1", "name", buf, sizeof(buf)));
	assert_int_equal(hm_node_stamp(t.n), s0); /* a read is not a write */
	assert_int_equal(test_set_str(t.n, "person", "p1", "name", "Li", NULL), HM_OK);
	s1 = hm_node_stamp(t.n);
	assert_true(s1 > s0);
	/* a write refused by the schema lands nothing */
	assert_int_not_equal(test_set_str(t.n, "nosuch", "x", "name", "Li", NULL), HM_OK);
	assert_int_equal(hm_node_stamp(t.n), s1);
	assert_int_equal(test_set_str(w.n, "person", "p2", "name", "Wu", NULL), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(hm_node_apply(t.n, e.v, e.n, NULL, NULL), HM_OK);
	s2 = hm_node_stamp(t.n);
	assert_true(s2 > s1);
	test_node_reopen(&t); /* the stamp is the store's, not the handle's */
	assert_int_equal(hm_node_stamp(t.n), s2);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&t);
}

static void test_vv_round_trip(void **state)
{
	test_node a, b;
	hm_vv vv, back;
	char *text, *again;
	(void)state;

	test_node_init(&a, "store_vv_a", 0, NULL);
	test_node_init(&b, "store_vv_b", 0, NULL);
	assert_int_equal(hm_node_version_vector(a.n, &vv), HM_OK);
	assert_int_equal(vv.n, 0);
	assert_int_equal(hm_vv_format(&vv, &text), HM_OK);
	assert_string_equal(text, "");
	free(text);
	hm_vv_release(&vv);
	test_person(a.n, "p1", "A", NULL);
	test_person(a.n, "p2", "B", NULL);
	test_person(b.n, "p3", "C", NULL);
	test_sync(a.n, b.n);
	assert_int_equal(hm_node_version_vector(a.n, &vv), HM_OK);
	assert_int_equal(vv.n, 2);
	assert_int_equal(hm_vv_get(&vv, hm_node_self(a.n)), 2);
	assert_int_equal(hm_vv_get(&vv, hm_node_self(b.n)), 1);
	assert_int_equal(hm_vv_format(&vv, &text), HM_OK);
	assert_int_equal(hm_vv_parse(text, &back), HM_OK);
	assert_int_equal(back.n, 2);
	assert_int_equal(hm_vv_get(&back, hm_node_self(a.n)), 2);
	assert_int_equal(hm_vv_get(&back, hm_node_self(b.n)), 1);
	assert_int_equal(hm_vv_format(&back, &again), HM_OK);
	assert_string_equal(text, again);
	/* A parsed vector works as `since`: only what lies beyond it. */
	{
		test_envs e = {0};
		back.v[0].seq = back.v[1].seq = 0;
		for (size_t i = 0; i < back.n; i++)
			if (memcmp(back.v[i].origin.b, hm_node_self(a.n)->b, HM_NODE_ID_BYTES) == 0)
				back.v[i].seq = 1;
		test_envs_collect(a.n, &back, &e);
		assert_int_equal(e.n, 2); /* a's seq 2 and b's seq 1 */
		test_envs_release(&e);
	}
	hm_vv_release(&back);
	assert_int_equal(hm_vv_parse("", &back), HM_OK);
	assert_int_equal(back.n, 0);
	hm_vv_release(&back);
	free(text);
	free(again);
	hm_vv_release(&vv);
	assert_int_equal(hm_node_check(a.n), HM_OK);
	assert_int_equal(hm_node_check(b.n), HM_OK);
	test_node_release(&a);
	test_node_release(&b);
}

static void test_vv_parse_refuses(void **state)
{
	static const char *const bad[] = {
	    ",",
	    "xyz",
	    "00112233445566778899aabbccddeeff",
	    "00112233445566778899aabbccddeeff:",
	    "00112233445566778899aabbccddeeff:-1",
	    "00112233445566778899aabbccddeeff:+1",
	    "00112233445566778899aabbccddeeff: 1",
	    "00112233445566778899aabbccddeeff:1x",
	    "00112233445566778899aabbccddeeff:1,",
	    ",00112233445566778899aabbccddeeff:1",
	    "00112233445566778899aabbccddeeff:1,,",
	    "00112233445566778899aabbccddeef:1",
	    "00112233445566778899aabbccddeeffa:1",
	    "0011223344556677889zaabbccddeeff:1",
	    "00112233445566778899aabbccddeeff:18446744073709551616",
	    "00112233445566778899aabbccddeeff:99999999999999999999999",
	};
	hm_vv vv;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hm_err err = hm_vv_parse(bad[i], &vv);
		if (err != HM_ERR_INVALID)
			fail_msg("'%s' gave %s", bad[i], hm_strerror(err));
		assert_null(vv.v);
		assert_int_equal(vv.n, 0);
	}
	assert_int_equal(hm_vv_parse("00112233445566778899aabbccddeeff:18446744073709551615,"
	                             "ff112233445566778899aabbccddeeff:0",
	                             &vv),
	                 HM_OK);
	assert_int_equal(vv.n, 2);
	assert_true(vv.v[0].seq == UINT64_MAX);
	hm_vv_release(&vv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_map_changes_nothing),
	    cmocka_unit_test(test_map_grows),
	    cmocka_unit_test(test_stamp),
	    cmocka_unit_test(test_vv_round_trip),
	    cmocka_unit_test(test_vv_parse_refuses),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("node/store", tests, NULL, NULL);
}
