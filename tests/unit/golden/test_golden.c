/*
 * test_golden.c - the change-set and bundle formats, pinned by files in tests/data/golden/.
 *
 * changeset-v1.bin is the envelope of a fixed change set: encoding it again must give the same
 * bytes, and decoding it must give back every field. bundle-v1.hmb is a bundle written by the
 * demo (two villages, nine change sets): importing it into an empty node must give the digest in
 * bundle-v1.digest, which pins the record encoding and merge rules too, and exporting from that
 * node must give the same envelope frames. A deliberate format change regenerates the files with
 * HAMLET_UPDATE_GOLDEN=1 (changeset) or by re-running the demo (bundle), and says so in the
 * commit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node_int.h"
#include "sync.h"

static char *path_join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", a, b);
	return p;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *data_dir(void)
{
	const char *d = getenv("HAMLET_TEST_DATA");
	assert_non_null(d);
	return d;
}

static void golden_changeset(msgpack_sbuffer *env)
{
	hm_header h = {0};
	msgpack_sbuffer body;
	msgpack_packer pk;

	for (int i = 0; i < HM_NODE_ID_BYTES; i++)
		h.origin.b[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < HM_HASH_BYTES; i++)
		h.prev.b[i] = (uint8_t)i;
	h.seq = 7;
	h.hlc = (UINT64_C(1795000000000) << 16) | 3;
	snprintf(h.region, sizeof(h.region), "linhe/east/elm");
	h.nops = 2;
	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, HM_OP_PUT);
	hm_mp_pack_cstr(&pk, "person");
	hm_mp_pack_cstr(&pk, "elm-001");
	msgpack_pack_map(&pk, 3);
	hm_mp_pack_cstr(&pk, "name");
	hm_mp_pack_cstr(&pk, "Wang Fang");
	hm_mp_pack_cstr(&pk, "birth_year");
	msgpack_pack_int64(&pk, 1984);
	hm_mp_pack_cstr(&pk, "arrival_date");
	hm_mp_pack_cstr(&pk, "2026-11-20");
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, HM_OP_PUT);
	hm_mp_pack_cstr(&pk, "stock");
	hm_mp_pack_cstr(&pk, "elm-masks");
	msgpack_pack_map(&pk, 1);
	hm_mp_pack_cstr(&pk, "quantity");
	msgpack_pack_int64(&pk, -150);
	msgpack_sbuffer_init(env);
	hm_envelope_encode(&h, body.data, body.size, env);
	msgpack_sbuffer_destroy(&body);
}

static void test_changeset_encoding_is_stable(void **state)
{
	msgpack_sbuffer env;
	char *path = path_join(data_dir(), "golden/changeset-v1.bin");
	uint8_t *want;
	size_t n;

	(void)state;
	golden_changeset(&env);
	if (getenv("HAMLET_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(env.data, 1, env.size, f), env.size);
		fclose(f);
	}
	want = read_all(path, &n);
	assert_int_equal(n, env.size);
	assert_memory_equal(want, env.data, n);
	free(want);
	free(path);
	msgpack_sbuffer_destroy(&env);
}

static void test_changeset_decodes(void **state)
{
	char *path = path_join(data_dir(), "golden/changeset-v1.bin");
	size_t n;
	uint8_t *bytes = read_all(path, &n);
	msgpack_zone zone;
	hm_envelope env;
	const char *why = NULL;
	const msgpack_object *op;

	(void)state;
	assert_true(msgpack_zone_init(&zone, 1024));
	assert_int_equal(hm_envelope_open(bytes, n, &zone, &env, &why), HM_OK);
	assert_int_equal(env.h.seq, 7);
	assert_int_equal(env.h.origin.b[0], 0xa0);
	assert_int_equal(env.h.origin.b[15], 0xaf);
	assert_int_equal(env.h.prev.b[31], 31);
	assert_int_equal(HM_HLC_MS(env.h.hlc), UINT64_C(1795000000000));
	assert_int_equal(env.h.hlc & 0xffff, 3);
	assert_string_equal(env.h.region, "linhe/east/elm");
	assert_int_equal(env.h.nops, 2);
	assert_int_equal(env.sig.n, 0);
	assert_int_equal(hm_envelope_open_body(&env, &zone, &why), HM_OK);
	op = &env.ops.via.array.ptr[1];
	assert_true(hm_mp_str_eq(&op->via.array.ptr[1], "stock"));
	assert_int_equal(op->via.array.ptr[3].via.map.ptr[0].val.via.i64, -150);
	{
		hm_hash id;
		hm_hash_buf(bytes, n, &id);
		assert_true(hm_hash_equal(&id, &env.id));
	}
	msgpack_zone_destroy(&zone);
	free(bytes);
	free(path);
}

/* The E frames of a bundle, concatenated: what must survive import and export unchanged. */
static size_t envelope_frames(const uint8_t *b, size_t n, uint8_t *out)
{
	size_t off = 8, used = 0;
	while (off + 5 <= n) {
		size_t len = (size_t)b[off + 1] << 24 | (size_t)b[off + 2] << 16 |
		             (size_t)b[off + 3] << 8 | b[off + 4];
		if (b[off] == 'E') {
			memcpy(out + used, b + off, 5 + len);
			used += 5 + len;
		}
		off += 5 + len;
	}
	return used;
}

static void test_bundle_imports_to_golden_digest(void **state)
{
	const char *tmp = getenv("HAMLET_TEST_TMP");
	char *bundle = path_join(data_dir(), "golden/bundle-v1.hmb");
	char *digest_path = path_join(data_dir(), "golden/bundle-v1.digest");
	char dir[512], out[600], hex[2 * HM_HASH_BYTES + 1];
	hm_node *n;
	hm_bundle_stats st;
	hm_hash d;
	size_t want_len, got_len, dn;
	uint8_t *want = read_all(bundle, &want_len), *got, *digest = read_all(digest_path, &dn);
	uint8_t *fa, *fb;

	(void)state;
	assert_non_null(tmp);
	snprintf(dir, sizeof(dir), "%s/golden-%d", tmp, (int)getpid());
	snprintf(out, sizeof(out), "%s/again.hmb", dir);
	assert_int_equal(hm_node_create(dir, HM_ROLE_COUNTY, "linhe", "golden", NULL, NULL), HM_OK);
	assert_int_equal(hm_node_open(dir, NULL, &n), HM_OK);
	assert_int_equal(hm_bundle_import(n, bundle, NULL, NULL, &st), HM_OK);
	assert_int_equal(st.apply.new_, 9);
	assert_int_equal(st.apply.refused + st.apply.pending + st.apply.forks, 0);
	assert_int_equal(hm_node_digest(n, NULL, &d), HM_OK);
	hm_hex_encode(hex, d.b, HM_HASH_BYTES);
	assert_true(dn >= 64);
	assert_memory_equal(hex, digest, 64);
	assert_int_equal(hm_node_check(n), HM_OK);

	assert_int_equal(hm_bundle_export(n, NULL, out, false, &st), HM_OK);
	got = read_all(out, &got_len);
	fa = malloc(want_len), fb = malloc(got_len);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_int_equal(envelope_frames(want, want_len, fa), envelope_frames(got, got_len, fb));
	assert_memory_equal(fa, fb, envelope_frames(want, want_len, fa));
	hm_node_close(n);
	free(fa), free(fb), free(want), free(got), free(digest), free(bundle), free(digest_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_changeset_encoding_is_stable),
	    cmocka_unit_test(test_changeset_decodes),
	    cmocka_unit_test(test_bundle_imports_to_golden_digest),
	};
	if (hm_crypto_init())
		return 1;
	{
		const char *tmp = getenv("HAMLET_TEST_TMP");
		char cmd[600];
		if (tmp) {
			snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmp);
			if (system(cmd) != 0)
				return 1;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
