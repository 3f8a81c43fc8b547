/*
 * test_golden.c - the signed, sealed envelope (format 2) pinned by tests/data/trust/.
 *
 * envelope-v2.bin is a change set made from fixed inputs: the identity of the seed 32 x 0x42
 * (hm_identity_init_seed), data key 32 x 0x24 for scope "hexi/t1" epoch 1, one op putting
 * person/golden-1 {name: "Wang Fang", phone: "13800000000"}. Its nonce was random when it was
 * written, so it is not re-made; instead the test decodes it, checks every header field, that
 * its header re-encodes to the same bytes, that its signature verifies with the fixed-seed key
 * (and that signing again gives the same 64 bytes: Ed25519 is deterministic), and that its body
 * decrypts with the fixed data key, the header as associated data, to the expected ops.
 * envelope-v2.txt documents its exact bytes, part by part; the test re-derives that text from
 * the .bin and compares. HAMLET_UPDATE_GOLDEN=1 writes both anew, and also the fuzz seeds of
 * signed change sets (tests/data/corpus/changeset/trust-*) and of enrollment requests and
 * answers (tests/data/corpus/enroll/) from fixed seeds; say so in the commit.
 */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SEED 0x42
#define GOLDEN_KEY  0x24
#define FUZZ_SEED   0xf1 /* the identity of the node in tests/fuzz/node_fuzz_enroll.c */
#define GOLDEN_HLC  ((TEST_T0_MS << 16) | 1)

static const char *data_dir(void)
{
	const char *d = getenv("HAMLET_TEST_DATA");
	assert_non_null(d);
	return d;
}

static uint8_t *read_all(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void write_all(const char *rel, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), rel);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void golden_body(tt_body *b)
{
	tt_body_init(b, 1);
	tt_body_put(b, "person", "golden-1", 2, "name", "Wang Fang", "phone", "13800000000");
}

static void golden_header(const hm_identity *id, hm_header *h)
{
	memset(h, 0, sizeof(*h));
	h->origin = id->id;
	h->seq = 1;
	h->hlc = GOLDEN_HLC;
	h->epoch = 1;
	snprintf(h->region, sizeof(h->region), "%s", TT_V1);
	h->nops = 1;
	h->codec = HM_CODEC_SEALED;
	snprintf(h->key_scope, sizeof(h->key_scope), "%s", TT_T1);
}

/* The documentation of an envelope's bytes, part by part (hex). */
static char *describe(const uint8_t *p, size_t n)
{
	msgpack_zone zone;
	hm_envelope env;
	const char *why;
	hm_identity id;
	char *out = malloc(16384), hex[2 * 1024 + 1];
	size_t off = 0, h0, b0, s0;

#define PUT(...) (off += (size_t)snprintf(out + off, 16384 - off, __VA_ARGS__))
#define HEXPART(label, q, len)                                                                     \
	do {                                                                                       \
		hm_hex_encode(hex, (q), (len));                                                    \
		PUT("%-24s %4zu bytes at %4zu: %s\n", label, (size_t)(len),                        \
		    (size_t)((const uint8_t *)(q)-p), hex);                                        \
	} while (0)

	assert_non_null(out);
	assert_true(msgpack_zone_init(&zone, 4096));
	assert_int_equal(hm_envelope_open(p, n, &zone, &env, &why), HM_OK);
	tt_identity(&id, GOLDEN_SEED);
	PUT("# hamlet signed envelope, format 2 (tests/unit/node/test_golden.c)\n");
	PUT("seed                     32 x 0x%02x\n", GOLDEN_SEED);
	hm_hex_encode(hex, id.sign_pub.b, HM_SIGN_PUB_BYTES);
	PUT("ed25519 public key       %s\n", hex);
	hm_hex_encode(hex, id.id.b, HM_NODE_ID_BYTES);
	PUT("node id (origin)         %s\n", hex);
	PUT("data key                 32 x 0x%02x, scope %s epoch 1\n", GOLDEN_KEY, TT_T1);
	hm_hex_encode(hex, env.id.b, HM_HASH_BYTES);
	PUT("change set id (blake2b)  %s\n", hex);
	PUT("total                    %zu bytes\n", n);
	h0 = (size_t)(env.header_bytes.p - p);
	b0 = (size_t)(env.body_bytes.p - p);
	s0 = (size_t)(env.sig.p - p);
	HEXPART("frame [2, bin header..", p, h0);
	HEXPART("header (signed, AAD)", env.header_bytes.p, env.header_bytes.n);
	HEXPART("frame bin body..", p + h0 + env.header_bytes.n, b0 - h0 - env.header_bytes.n);
	HEXPART("body nonce", env.body_bytes.p, HM_AEAD_NONCE_BYTES);
	HEXPART("body ciphertext", env.body_bytes.p + HM_AEAD_NONCE_BYTES,
	        env.body_bytes.n - HM_AEAD_OVERHEAD);
	HEXPART("body tag", env.body_bytes.p + env.body_bytes.n - HM_AEAD_TAG_BYTES,
	        HM_AEAD_TAG_BYTES);
	HEXPART("frame bin signature..", p + b0 + env.body_bytes.n, s0 - b0 - env.body_bytes.n);
	HEXPART("signature (ed25519)", env.sig.p, env.sig.n);
	PUT("signed message           BLAKE2b-256(\"hamlet-envelope-v2\" || u32be(len header) || "
	    "header || body)\n");
#undef HEXPART
#undef PUT
	hm_identity_release(&id);
	msgpack_zone_destroy(&zone);
	return out;
}

static void make_golden(void)
{
	hm_identity id;
	uint8_t key[HM_DATA_KEY_BYTES];
	hm_header h;
	tt_body body;
	msgpack_sbuffer env;
	char *text;

	tt_identity(&id, GOLDEN_SEED);
	memset(key, GOLDEN_KEY, sizeof(key));
	golden_header(&id, &h);
	golden_body(&body);
	tt_seal_sign(NULL, &h, &body, key, &id, &env);
	write_all("trust/envelope-v2.bin", env.data, env.size);
	write_all("corpus/changeset/trust-golden.bin", env.data, env.size);
	text = describe((const uint8_t *)env.data, env.size);
	write_all("trust/envelope-v2.txt", text, strlen(text));
	free(text);
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);
	hm_identity_release(&id);
}

static void test_golden_envelope(void **state)
{
	size_t n, tn;
	uint8_t *bytes, *text;
	char *again;
	msgpack_zone zone;
	msgpack_sbuffer hb;
	hm_envelope env;
	hm_identity id;
	hm_header want;
	hm_hash signed_hash;
	hm_signature sig, resig;
	uint8_t key[HM_DATA_KEY_BYTES], plain[512];
	size_t plen;
	tt_body body;
	const char *why;
	(void)state;

	if (getenv("HAMLET_UPDATE_GOLDEN"))
		make_golden();
	bytes = read_all("trust/envelope-v2.bin", &n);
	text = read_all("trust/envelope-v2.txt", &tn);
	tt_identity(&id, GOLDEN_SEED);
	golden_header(&id, &want);

	/* Its documentation still describes it. */
	again = describe(bytes, n);
	assert_string_equal(again, (char *)text);
	free(again);

	assert_true(msgpack_zone_init(&zone, 4096));
	assert_int_equal(hm_envelope_open(bytes, n, &zone, &env, &why), HM_OK);
	assert_true(hm_node_id_equal(&env.h.origin, &id.id));
	assert_int_equal(env.h.seq, 1);
	assert_true(hm_hash_is_zero(&env.h.prev));
	assert_int_equal(env.h.hlc, GOLDEN_HLC);
	assert_int_equal(env.h.epoch, 1);
	assert_string_equal(env.h.region, TT_V1);
	assert_int_equal(env.h.nops, 1);
	assert_int_equal(env.h.codec, HM_CODEC_SEALED);
	assert_string_equal(env.h.key_scope, TT_T1);
	assert_int_equal(env.h.certs.n, 0);
	assert_int_equal(env.sig.n, HM_SIGNATURE_BYTES);
	/* The header is canonical: encoding its fields gives its bytes. */
	msgpack_sbuffer_init(&hb);
	hm_header_encode(&want, &hb);
	assert_int_equal(hb.size, env.header_bytes.n);
	assert_memory_equal(hb.data, env.header_bytes.p, hb.size);
	msgpack_sbuffer_destroy(&hb);

	/* The signature verifies with the fixed-seed key, and only over these bytes. */
	hm_envelope_signed_hash(&env.header_bytes, &env.body_bytes, &signed_hash);
	memcpy(sig.b, env.sig.p, HM_SIGNATURE_BYTES);
	assert_int_equal(hm_verify_hash(&sig, &id.sign_pub, &signed_hash), HM_OK);
	assert_int_equal(hm_sign_hash(&resig, &id, &signed_hash), HM_OK);
	assert_memory_equal(resig.b, sig.b, HM_SIGNATURE_BYTES);
	{
		hm_identity other;
		tt_identity(&other, GOLDEN_SEED + 1);
		assert_int_equal(hm_verify_hash(&sig, &other.sign_pub, &signed_hash),
		                 HM_ERR_CRYPTO);
		hm_identity_release(&other);
	}

	/* The body decrypts with the fixed data key, the header as associated data. */
	memset(key, GOLDEN_KEY, sizeof(key));
	assert_int_equal(hm_aead_open(plain, sizeof(plain), &plen, key, env.body_bytes.p,
	                              env.body_bytes.n, env.header_bytes.p, env.header_bytes.n),
	                 HM_OK);
	golden_body(&body);
	assert_int_equal(plen, body.sb.size);
	assert_memory_equal(plain, body.sb.data, plen);
	tt_body_release(&body);
	assert_int_not_equal(hm_aead_open(plain, sizeof(plain), &plen, key, env.body_bytes.p,
	                                  env.body_bytes.n, NULL, 0),
	                     HM_OK);
	key[0] ^= 1;
	assert_int_not_equal(hm_aead_open(plain, sizeof(plain), &plen, key, env.body_bytes.p,
	                                  env.body_bytes.n, env.header_bytes.p, env.header_bytes.n),
	                     HM_OK);
	/* And the plain ops decode as a body of the header's count. */
	memset(key, GOLDEN_KEY, sizeof(key));
	assert_int_equal(hm_aead_open(plain, sizeof(plain), &plen, key, env.body_bytes.p,
	                              env.body_bytes.n, env.header_bytes.p, env.header_bytes.n),
	                 HM_OK);
	env.body_bytes.p = plain;
	env.body_bytes.n = plen;
	assert_int_equal(hm_envelope_open_body(&env, &zone, &why), HM_OK);
	assert_true(hm_mp_str_eq(&env.ops.via.array.ptr[0].via.array.ptr[2], "golden-1"));
	msgpack_zone_destroy(&zone);
	hm_identity_release(&id);
	free(bytes);
	free(text);
}

/* HAMLET_UPDATE_GOLDEN=1: the fuzz seeds, from fixed seeds at the fixed clock. */
static void test_fuzz_seeds(void **state)
{
	tt_mesh m;
	tnode f, t1f;
	test_envs e = {0};
	uint8_t *req, *ans;
	size_t rl, al;
	(void)state;

	if (!getenv("HAMLET_UPDATE_GOLDEN"))
		skip();
	tt_mesh_init(&m, "golden_seeds");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	assert_int_equal(test_set_str(m.v1.n, "person", "v1-p1", "phone", "139", NULL), HM_OK);
	test_envs_collect(m.v1.n, NULL, &e);
	write_all("corpus/changeset/trust-seq1-chain.bin", e.v[0].p, e.v[0].n);
	write_all("corpus/changeset/trust-seq2.bin", e.v[1].p, e.v[1].n);
	test_envs_release(&e);
	assert_int_equal(hm_node_revoke(m.c.n, &m.v1.ident.id, 1, "seed", NULL), HM_OK);
	test_envs_last(m.c.n, &m.c.ident.id, &e);
	write_all("corpus/changeset/trust-revocation.bin", e.v[0].p, e.v[0].n);
	test_envs_release(&e);

	/* Requests of each role; answers for the fuzz node's identity, by the county and by t1. */
	assert_int_equal(hm_enroll_request(m.c.n, &req, &rl), HM_ERR_EXISTS);
	tnode_init(&f, "golden_seeds_f", HM_ROLE_VILLAGE, TT_V1, FUZZ_SEED);
	tnode_init(&t1f, "golden_seeds_t", HM_ROLE_TOWNSHIP, "hexi/t9", 0x79);
	assert_int_equal(hm_enroll_request(f.n, &req, &rl), HM_OK);
	write_all("corpus/enroll/request-village.bin", req, rl);
	assert_int_equal(hm_enroll_sign(m.c.n, req, rl, 3650, false, &ans, &al, NULL), HM_OK);
	write_all("corpus/enroll/answer-county.bin", ans, al);
	write_all("corpus/enroll/answer-truncated.bin", ans, al / 2);
	free(ans);
	assert_int_equal(hm_enroll_sign(m.t1.n, req, rl, 3650, false, &ans, &al, NULL), HM_OK);
	write_all("corpus/enroll/answer-township.bin", ans, al);
	free(ans);
	free(req);
	assert_int_equal(hm_enroll_request(t1f.n, &req, &rl), HM_OK);
	write_all("corpus/enroll/request-township.bin", req, rl);
	write_all("corpus/enroll/request-truncated.bin", req, rl - 1);
	free(req);
	tnode_release(&f);
	tnode_release(&t1f);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_envelope),
	    cmocka_unit_test(test_fuzz_seeds),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/golden", tests, NULL, NULL);
}
