/*
 * test_codec.c - compressed change-set bodies: a write of many records travels compressed and
 * applies to the same state; small bodies stay plain; a compressed body that lies about its
 * size (a zip bomb) or is not zstd at all is refused before anything is allocated for it, and
 * the receiving node is unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node_int.h"
#include "node_test.h"

static void test_round_trip_and_threshold(void **state)
{
	msgpack_sbuffer z, back;
	char body[4096];
	bool compressed;
	const char *why = NULL;
	(void)state;

	msgpack_sbuffer_init(&z);
	msgpack_sbuffer_init(&back);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = "person name village phone "[i % 26];
	assert_int_equal(hm_body_compress(body, sizeof(body), &z, &compressed), HM_OK);
	assert_true(compressed);
	assert_true(z.size < sizeof(body) / 4);
	assert_int_equal(
	    hm_body_decompress((const uint8_t *)z.data, z.size, HM_ENVELOPE_MAX, &back, &why),
	    HM_OK);
	assert_int_equal(back.size, sizeof(body));
	assert_memory_equal(back.data, body, sizeof(body));
	/* Too small to gain: left plain. */
	assert_int_equal(hm_body_compress(body, 100, &z, &compressed), HM_OK);
	assert_false(compressed);
	msgpack_sbuffer_destroy(&z);
	msgpack_sbuffer_destroy(&back);
}

static void test_bomb_and_garbage_refused(void **state)
{
	msgpack_sbuffer out;
	const char *why = NULL;
	(void)state;

	msgpack_sbuffer_init(&out);
	{
		/* A zstd frame header declaring 1 GiB (magic; descriptor 0xa0: single segment,
		 * 4-byte content size; the size 0x40000000), refused from the header alone. */
		uint8_t bomb[] = {0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00,
		                  0x00, 0x40, 0x01, 0x00, 0x00, 0x00};
		assert_int_equal(
		    hm_body_decompress(bomb, sizeof(bomb), HM_ENVELOPE_MAX, &out, &why),
		    HM_ERR_TOO_BIG);
		assert_non_null(why);
		assert_true(out.alloc < (1u << 20)); /* nothing was allocated for it */
	}
	{
		uint8_t junk[] = "not a zstd frame at all";
		assert_int_equal(
		    hm_body_decompress(junk, sizeof(junk), HM_ENVELOPE_MAX, &out, &why),
		    HM_ERR_CORRUPT);
	}
	msgpack_sbuffer_destroy(&out);
}

/* A write of many records is stored compressed, and a replica applies it to the same state. */
static void test_compressed_write_replicates(void **state)
{
	test_node a, b;
	test_envs e = {0};
	hm_write *w;
	hm_envelope env;
	msgpack_zone zone;
	const char *why;
	(void)state;

	test_node_init(&a, "codec_a", 0, NULL);
	test_node_init(&b, "codec_b", 0, NULL);
	assert_int_equal(hm_write_begin(a.n, &w), HM_OK);
	for (int i = 0; i < 200; i++) {
		char id[16];
		hm_value v = test_str("Wang Fang of Elm village, returnee");
		snprintf(id, sizeof(id), "p%03d", i);
		assert_int_equal(hm_write_set(w, "person", id, "name", &v), HM_OK);
	}
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	test_envs_collect(a.n, NULL, &e);
	assert_int_equal(e.n, 1);
	assert_true(msgpack_zone_init(&zone, 1024));
	assert_int_equal(hm_envelope_open(e.v[0].p, e.v[0].n, &zone, &env, &why), HM_OK);
	assert_true(env.h.codec & HM_CODEC_ZSTD);
	assert_true(e.v[0].n < 200 * 20);
	msgpack_zone_destroy(&zone);
	assert_int_equal(test_apply1(b.n, &e.v[0]), HM_APPLY_NEW);
	{
		hm_hash da, db;
		assert_int_equal(hm_node_digest(a.n, NULL, &da), HM_OK);
		assert_int_equal(hm_node_digest(b.n, NULL, &db), HM_OK);
		assert_true(hm_hash_equal(&da, &db));
	}
	test_envs_release(&e);
	test_node_release(&a);
	test_node_release(&b);
}

/* An envelope whose compressed body is a bomb is refused whole and changes nothing. */
static void test_bomb_envelope_refused(void **state)
{
	test_node r;
	test_state before;
	hm_header h = {0};
	msgpack_sbuffer env;
	uint8_t bomb[] = {0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00,
	                  0x00, 0x40, 0x01, 0x00, 0x00, 0x00};
	(void)state;

	test_node_init(&r, "codec_r", 0, NULL);
	test_state_take(r.n, &before);
	h.origin.b[0] = 0xb0;
	h.seq = 1;
	h.hlc = TEST_T0_MS << 16;
	strcpy(h.region, TEST_REGION);
	h.nops = 1;
	h.codec = HM_CODEC_ZSTD;
	msgpack_sbuffer_init(&env);
	assert_int_equal(hm_envelope_encode(&h, bomb, sizeof(bomb), NULL, &env), HM_OK);
	{
		hm_bytes b = {(const uint8_t *)env.data, env.size};
		assert_int_equal(test_apply1(r.n, &b), HM_APPLY_REFUSED);
	}
	test_state_assert_same(r.n, &before);
	test_state_release(&before);
	msgpack_sbuffer_destroy(&env);
	test_node_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_and_threshold),
	    cmocka_unit_test(test_bomb_and_garbage_refused),
	    cmocka_unit_test(test_compressed_write_replicates),
	    cmocka_unit_test(test_bomb_envelope_refused),
	};
	if (hm_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
