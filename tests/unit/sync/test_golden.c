/*
 * test_golden.c - the change-set and bundle formats, pinned by files in tests/data/golden/.
 *
 * changeset-v2.bin is the envelope of a fixed change set: encoding it again must give the same
 * bytes, and decoding it must give back every field. bundle-v2.hmb is a bundle written by the
 * demo (two villages, nine change sets): importing it into an empty node must give the digest in
 * bundle-v2.digest, which pins the record encoding and merge rules too, and exporting from that
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
	assert_int_equal(hm_envelope_encode(&h, body.data, body.size, NULL, env), HM_OK);
	msgpack_sbuffer_destroy(&body);
}

static void test_changeset_encoding_is_stable(void **state)
{
	msgpack_sbuffer env;
	char *path = path_join(data_dir(), "golden/changeset-v2.bin");
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
	char *path = path_join(data_dir(), "golden/changeset-v2.bin");
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

static void put_text(hm_node *n, const char *coll, const char *id, const char *field,
                     const char *text)
{
	hm_write *w;
	hm_value v = {HM_V_STR, {.s = {text, (uint32_t)strlen(text)}}};
	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, coll, id, field, &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
}

/* HAMLET_UPDATE_GOLDEN=1: write the golden bundle and its digest anew. */
static void make_golden_bundle(const char *tmp, const char *bundle, const char *digest_path)
{
	char a_dir[512], b_dir[512], hex[2 * HM_HASH_BYTES + 2];
	hm_node *a, *b;
	hm_write *w;
	hm_hash d;
	FILE *f;

	snprintf(a_dir, sizeof(a_dir), "%s/golden-a-%d", tmp, (int)getpid());
	snprintf(b_dir, sizeof(b_dir), "%s/golden-b-%d", tmp, (int)getpid());
	assert_int_equal(hm_node_create(a_dir, HM_ROLE_VILLAGE, "linhe/east/elm", "a", NULL, NULL),
	                 HM_OK);
	assert_int_equal(hm_node_create(b_dir, HM_ROLE_VILLAGE, "linhe/east/oak", "b", NULL, NULL),
	                 HM_OK);
	assert_int_equal(hm_node_open(a_dir, NULL, &a), HM_OK);
	assert_int_equal(hm_node_open(b_dir, NULL, &b), HM_OK);
	put_text(a, "person", "elm-001", "name", "Wang Fang");
	put_text(a, "person", "elm-001", "status", "home-isolation");
	put_text(b, "person", "elm-001", "name", "Wang Fang");
	put_text(b, "person", "elm-001", "status", "central-isolation");
	put_text(a, "person", "elm-001", "status", "released");
	put_text(a, "stock", "masks", "item", "N95");
	assert_int_equal(hm_write_begin(b, &w), HM_OK);
	{
		hm_value item = {HM_V_STR, {.s = {"N95", 3}}};
		assert_int_equal(hm_write_set(w, "stock", "masks", "item", &item), HM_OK);
	}
	assert_int_equal(hm_write_add(w, "stock", "masks", "quantity", -150), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	put_text(b, "person", "oak-001", "name", "Zhao Lei");
	assert_int_equal(hm_write_begin(b, &w), HM_OK);
	assert_int_equal(hm_write_del(w, "person", "oak-001"), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	{
		char b_bundle[600];
		hm_bundle_stats st;
		snprintf(b_bundle, sizeof(b_bundle), "%s/b.hmb", b_dir);
		assert_int_equal(hm_bundle_export(b, NULL, b_bundle, true, NULL, &st), HM_OK);
		assert_int_equal(hm_bundle_import(a, b_bundle, NULL, NULL, &st), HM_OK);
	}
	{
		hm_bundle_stats st;
		assert_int_equal(hm_bundle_export(a, NULL, bundle, true, NULL, &st), HM_OK);
		assert_int_equal(st.changesets, 9);
	}
	assert_int_equal(hm_node_digest(a, NULL, &d), HM_OK);
	hm_hex_encode(hex, d.b, HM_HASH_BYTES);
	assert_non_null(f = fopen(digest_path, "w"));
	fprintf(f, "%s\n", hex);
	fclose(f);
	hm_node_close(a);
	hm_node_close(b);
}

static void test_bundle_imports_to_golden_digest(void **state)
{
	const char *tmp = getenv("HAMLET_TEST_TMP");
	char *bundle = path_join(data_dir(), "golden/bundle-v2.hmb");
	char *digest_path = path_join(data_dir(), "golden/bundle-v2.digest");
	char dir[512], out[600], hex[2 * HM_HASH_BYTES + 1];
	hm_node *n;
	hm_bundle_stats st;
	hm_hash d;
	size_t want_len, got_len, dn;
	uint8_t *want, *got, *digest;
	uint8_t *fa, *fb;

	(void)state;
	assert_non_null(tmp);
	snprintf(dir, sizeof(dir), "%s/golden-%d", tmp, (int)getpid());
	if (getenv("HAMLET_UPDATE_GOLDEN"))
		make_golden_bundle(tmp, bundle, digest_path);
	want = read_all(bundle, &want_len);
	digest = read_all(digest_path, &dn);
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

	assert_int_equal(hm_bundle_export(n, NULL, out, false, NULL, &st), HM_OK);
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
