/* test_mp.c - the msgpack bounds check that guards every decode, and envelope decoding of
 * hostile bytes: huge declared lengths, deep nesting, trailing bytes, truncations. */
#include "node_test.h"

#include <stdlib.h>
#include <string.h>

/* A few bytes that declare a 4 GiB container or string must be refused by the pre-check, before
 * msgpack-c could allocate for them. */
static void test_huge_declared_lengths(void **state)
{
	static const struct {
		uint8_t head;
		const char *what;
	} cases[] = {
	    {0xdd, "array32"}, {0xdf, "map32"}, {0xdb, "str32"}, {0xc6, "bin32"}, {0xc9, "ext32"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16] = {cases[i].head, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0};
		msgpack_zone zone;
		msgpack_object o;
		hm_err err = hm_mp_check(buf, 8, HM_DEPTH_MAX);

		if (err != HM_ERR_TOO_BIG && err != HM_ERR_TRUNCATED)
			fail_msg("%s of 4 GiB: %s", cases[i].what, hm_strerror(err));
		assert_true(msgpack_zone_init(&zone, 256));
		err = hm_mp_decode(buf, 8, &zone, &o);
		assert_true(err == HM_ERR_TOO_BIG || err == HM_ERR_TRUNCATED);
		msgpack_zone_destroy(&zone);
	}
	/* Counts need one byte per element, lengths every byte: one short is refused. */
	{
		uint8_t arr[] = {0x93, 0x01, 0x02};
		uint8_t str[] = {0xa4, 'a', 'b', 'c'};
		uint8_t map[] = {0x81, 0x01};
		assert_int_equal(hm_mp_check(arr, sizeof(arr), HM_DEPTH_MAX), HM_ERR_TOO_BIG);
		assert_int_equal(hm_mp_check(str, sizeof(str), HM_DEPTH_MAX), HM_ERR_TRUNCATED);
		assert_int_not_equal(hm_mp_check(map, sizeof(map), HM_DEPTH_MAX), HM_OK);
	}
}

static void test_nesting_depth(void **state)
{
	uint8_t buf[HM_DEPTH_MAX + 4];
	(void)state;

	/* HM_DEPTH_MAX arrays around a nil are accepted; one more level is refused. */
	memset(buf, 0x91, HM_DEPTH_MAX);
	buf[HM_DEPTH_MAX] = 0xc0;
	assert_int_equal(hm_mp_check(buf, HM_DEPTH_MAX + 1, HM_DEPTH_MAX), HM_OK);
	memset(buf, 0x91, HM_DEPTH_MAX + 1);
	buf[HM_DEPTH_MAX + 1] = 0xc0;
	assert_int_equal(hm_mp_check(buf, HM_DEPTH_MAX + 2, HM_DEPTH_MAX), HM_ERR_TOO_BIG);
	/* A caller's larger limit is capped at HM_DEPTH_MAX. */
	assert_int_equal(hm_mp_check(buf, HM_DEPTH_MAX + 2, 100), HM_ERR_TOO_BIG);
	/* Maps count too. */
	{
		uint8_t m[2 * (HM_DEPTH_MAX + 1) + 1];
		for (unsigned i = 0; i <= HM_DEPTH_MAX; i++)
			m[2 * i] = 0x81, m[2 * i + 1] = 0x01;
		m[2 * (HM_DEPTH_MAX + 1)] = 0xc0;
		/* 0x81 0x01 <value>: each map's value is the next map. */
		assert_int_equal(hm_mp_check(m, sizeof(m), HM_DEPTH_MAX), HM_ERR_TOO_BIG);
	}
}

/* A nil is one byte and costs msgpack-c a 24-byte object: counts that fit the bytes are capped
 * too, in all (HM_DECODED_OBJECTS_MAX) and by each format's own caps, before anything is
 * allocated (issue #9: 2.5 KB of zstd made 390 MB of objects). */
static void test_element_caps(void **state)
{
	size_t n = (size_t)HM_DECODED_OBJECTS_MAX + 1;
	uint8_t *buf = malloc(5 + n), wide[8 + 2 * 65535];
	hm_mp_caps flat = {1, 4, 0, 4};
	(void)state;

	assert_non_null(buf);
	buf[0] = 0xdd, buf[1] = (uint8_t)(n >> 24), buf[2] = (uint8_t)(n >> 16);
	buf[3] = (uint8_t)(n >> 8), buf[4] = (uint8_t)n;
	memset(buf + 5, 0xc0, n);
	/* one more nil than a decode may allocate for: refused; one fewer: accepted */
	assert_int_equal(hm_mp_check(buf, 5 + n, HM_DEPTH_MAX), HM_ERR_TOO_BIG);
	buf[4] = (uint8_t)(n - 1), buf[3] = (uint8_t)((n - 1) >> 8);
	buf[2] = (uint8_t)((n - 1) >> 16), buf[1] = (uint8_t)((n - 1) >> 24);
	assert_int_equal(hm_mp_check(buf, 4 + n, HM_DEPTH_MAX), HM_OK);
	/* an envelope is an array of 4: five nils are refused by its caps */
	buf[1] = buf[2] = buf[3] = 0, buf[4] = 5;
	assert_int_equal(hm_mp_check_caps(buf, 5 + 5, &flat), HM_ERR_TOO_BIG);
	buf[4] = 4;
	assert_int_equal(hm_mp_check_caps(buf, 5 + 4, &flat), HM_OK);
	{
		msgpack_zone zone;
		hm_envelope env;
		const char *why = NULL;
		assert_true(msgpack_zone_init(&zone, 1024));
		buf[4] = 200;
		assert_int_equal(hm_envelope_open(buf, 5 + 200, &zone, &env, &why), HM_ERR_TOO_BIG);
		assert_non_null(why);
		msgpack_zone_destroy(&zone);
	}
	/* per container below the root: a map of 65535 entries where 64 fields may be */
	{
		hm_mp_caps body = {3, 1, 2 * HM_FIELDS_MAX, 1000000};
		uint8_t one[] = {0x91, 0x94, 0, 0xc0, 0xc0, 0xde, 0xff, 0xff};
		memcpy(wide, one, sizeof(one));
		memset(wide + sizeof(one), 0xc0, sizeof(wide) - sizeof(one));
		assert_int_equal(hm_mp_check(wide, sizeof(wide), HM_DEPTH_MAX), HM_OK);
		assert_int_equal(hm_mp_check_caps(wide, sizeof(wide), &body), HM_ERR_TOO_BIG);
	}
	free(buf);
}

static void test_trailing_and_reserved(void **state)
{
	uint8_t two[] = {0x01, 0x02};
	uint8_t reserved[] = {0xc1};
	uint8_t empty[1];
	(void)state;

	assert_int_equal(hm_mp_check(two, 1, HM_DEPTH_MAX), HM_OK);
	assert_int_equal(hm_mp_check(two, 2, HM_DEPTH_MAX), HM_ERR_CORRUPT);
	assert_int_equal(hm_mp_check(reserved, 1, HM_DEPTH_MAX), HM_ERR_CORRUPT);
	assert_int_equal(hm_mp_check(empty, 0, HM_DEPTH_MAX), HM_ERR_TRUNCATED);
}

/* A real envelope: every proper prefix is refused by the check, by the envelope decoder and by
 * hm_node_apply, which changes nothing but the refused count. */
static void test_every_truncation_refused(void **state)
{
	test_node w, r;
	test_envs e = {0};
	test_state before;
	hm_value t = test_str("2026-05-28T08:30");
	hm_write *wr;
	(void)state;

	test_node_init(&w, "mp_writer", 0, NULL);
	test_node_init(&r, "mp_reader", 0, NULL);
	assert_int_equal(hm_write_begin(w.n, &wr), HM_OK);
	{
		hm_value p = test_str("p1"), temp = {.kind = HM_V_FLOAT, .u.f = 37.4};
		assert_int_equal(hm_write_set(wr, "followup", "f1", "person", &p), HM_OK);
		assert_int_equal(hm_write_set(wr, "followup", "f1", "time", &t), HM_OK);
		assert_int_equal(hm_write_set(wr, "followup", "f1", "temperature", &temp), HM_OK);
	}
	assert_int_equal(hm_write_commit(wr, NULL), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(e.n, 1);
	assert_int_equal(hm_mp_check(e.v[0].p, e.v[0].n, HM_DEPTH_MAX), HM_OK);

	test_state_take(r.n, &before);
	for (size_t len = 0; len < e.v[0].n; len++) {
		msgpack_zone zone;
		hm_envelope env;
		const char *why = NULL;
		hm_bytes cut = {e.v[0].p, len};

		if (hm_mp_check(cut.p, len, HM_DEPTH_MAX) == HM_OK)
			fail_msg("a %zu-byte prefix of a %zu-byte envelope passed the check", len,
			         e.v[0].n);
		assert_true(msgpack_zone_init(&zone, 1024));
		assert_int_not_equal(hm_envelope_open(cut.p, len, &zone, &env, &why), HM_OK);
		assert_non_null(why);
		msgpack_zone_destroy(&zone);
		assert_int_equal(test_apply1(r.n, &cut), HM_APPLY_REFUSED);
	}
	test_state_assert_same(r.n, &before);
	/* The whole envelope still applies. */
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(hm_node_check(r.n), HM_OK);

	test_state_release(&before);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

/* An envelope with trailing garbage, a wrong format, or a lying header is refused. */
static void test_bad_envelopes_refused(void **state)
{
	test_node w, r;
	test_envs e = {0};
	hm_apply_stats st = {0};
	uint8_t *buf;
	(void)state;

	test_node_init(&w, "mp_w2", 0, NULL);
	test_node_init(&r, "mp_r2", 0, NULL);
	test_person(w.n, "p1", "Li Lei", NULL);
	test_envs_collect(w.n, NULL, &e);
	buf = malloc(e.v[0].n + 1);
	assert_non_null(buf);
	memcpy(buf, e.v[0].p, e.v[0].n);
	buf[e.v[0].n] = 0xc0;
	{
		hm_bytes longer = {buf, e.v[0].n + 1};
		assert_int_equal(test_apply1(r.n, &longer), HM_APPLY_REFUSED);
	}
	buf[1] = 0x03; /* envelope format 3 */
	{
		hm_bytes v2 = {buf, e.v[0].n};
		assert_int_equal(test_apply1(r.n, &v2), HM_APPLY_REFUSED);
	}
	free(buf);
	assert_int_equal(hm_node_apply(r.n, e.v, 1, &st, NULL), HM_OK);
	assert_int_equal(st.new_, 1);
	{
		hm_node_info info;
		assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
		assert_int_equal(info.refused, 2);
		assert_int_equal(info.records, 1);
	}
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_huge_declared_lengths),
	    cmocka_unit_test(test_nesting_depth),
	    cmocka_unit_test(test_element_caps),
	    cmocka_unit_test(test_trailing_and_reserved),
	    cmocka_unit_test(test_every_truncation_refused),
	    cmocka_unit_test(test_bad_envelopes_refused),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("node/mp", tests, NULL, NULL);
}
