/*
 * test_golden_bundle.c - the sealed bundle (format 2, "HMBUNDL2") pinned by tests/data/trust/.
 *
 * bundle-v2.hmb was exported (hm_bundle_export, sealed --to one node) by a county node of region
 * "gold" with the identity of the seed 32 x 0x51, to a village "gold/t1/v1" with the identity
 * of the seed 32 x 0x52 (hm_identity_init_seed), both at the test clock's TEST_T0_MS. The
 * county wrote five change sets: a person, a conflict-free edit of her phone, a stock item with
 * a counter, a second count, and a followup. village.ans is the county's enrollment answer for
 * that village (hm_enroll_sign, 3650 days; the county's self-signed root is valid 10 years
 * from TEST_T0_MS, and every clock here stays there). bundle-v2.digest is the county's state
 * digest in hex.
 *
 * A bundle's key and nonces are random, so the file is not re-made; the decode side is pinned:
 * a fresh village from the same seed accepts the answer pinned to the county seed's key,
 * imports the bundle (every change set new, none refused) and reaches the golden digest. The
 * frames are also walked here without bundle.c: the bundle key is unwrapped with the village's
 * key, every envelope frame opened with associated data "E" || index, the end frame's count,
 * hash and the county's signature checked. bundle-v2.txt documents the frames (offsets, types,
 * lengths) and is re-derived from the .hmb and compared. Copies of the file with one byte
 * altered in each part are refused and change nothing.
 *
 * HAMLET_UPDATE_GOLDEN=1 writes all four files anew; say so in the commit.
 */
#include "sync.h"
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNTY_SEED    0x51
#define VILLAGE_SEED   0x52
#define COUNTY_REGION  "gold"
#define VILLAGE_REGION "gold/t1/v1"
#define GOLDEN_DAYS    3650
#define GOLDEN_COUNT   5 /* change sets in the bundle */
#define MAGIC          "HMBUNDL2"
#define FRAMES_MAX     16
#define TEXT_MAX       32768

#define BUNDLE_FILE "trust/bundle-v2.hmb"
#define TEXT_FILE   "trust/bundle-v2.txt"
#define DIGEST_FILE "trust/bundle-v2.digest"
#define ANSWER_FILE "trust/village.ans"

static const char *data_dir(void)
{
	const char *d = getenv("HAMLET_TEST_DATA");
	assert_non_null(d);
	return d;
}

static void data_path(char *out, size_t cap, const char *rel)
{
	assert_true(snprintf(out, cap, "%s/%s", data_dir(), rel) < (int)cap);
}

static uint8_t *read_all(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long n;

	data_path(path, sizeof(path), rel);
	if (!(f = fopen(path, "rb")))
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

static void write_path(const char *path, const void *p, size_t n)
{
	FILE *f;

	if (!(f = fopen(path, "wb")))
		fail_msg("cannot write %s", path);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void write_all(const char *rel, const void *p, size_t n)
{
	char path[1024];

	data_path(path, sizeof(path), rel);
	write_path(path, p, n);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* ---- the frames, walked without bundle.c ---- */

/* Where each part of the golden file lies: frame payload offsets and lengths. */
typedef struct layout {
	size_t h_off, h_len;
	size_t e_off[FRAMES_MAX], e_len[FRAMES_MAX], ne;
	size_t z_off, z_len;
	size_t rcpt_off, wrapped_off, wrapped_len, chain_off, chain_len;
} layout;

/* A frame's type and payload at *off (its header at *off), checked to fit in n bytes. */
static char take_frame(const uint8_t *p, size_t n, size_t *off, size_t *pay, size_t *len)
{
	char type;

	assert_true(n - *off >= 5);
	type = (char)p[*off];
	*len = be32(p + *off + 1);
	*pay = *off + 5;
	assert_true(*len <= n - *pay);
	*off = *pay + *len;
	return type;
}

/* The documentation of the golden bundle, frame by frame, into a new string (owned), its parts
 * into *l. Every check a reader must make is made here, with the seeds' keys. */
static char *describe(const uint8_t *p, size_t n, layout *l)
{
	hm_identity county, village;
	hm_node_id exporter, to;
	uint8_t key[32], plain[4096], ad[9];
	char *out = malloc(TEXT_MAX), hex[2 * 128 + 1];
	size_t off = 8, pay, len, q, text = 0;
	hm_hash_state hs;
	hm_hash want;
	hm_signature sig;
	char type;

#define PUT(...) (text += (size_t)snprintf(out + text, TEXT_MAX - text, __VA_ARGS__))
	assert_non_null(out);
	memset(l, 0, sizeof(*l));
	tt_identity(&county, COUNTY_SEED);
	tt_identity(&village, VILLAGE_SEED);
	assert_true(n > 8);
	assert_memory_equal(p, MAGIC, 8);
	PUT("# hamlet sealed bundle, format 2 (tests/unit/sync/test_golden_bundle.c)\n");
	PUT("# exported by a county (region %s, seed 32 x 0x%02x) sealed to one village\n",
	    COUNTY_REGION, COUNTY_SEED);
	PUT("# (region %s, seed 32 x 0x%02x). A frame's line gives the offset of its type byte\n",
	    VILLAGE_REGION, VILLAGE_SEED);
	PUT("# and the length of its payload, which follows type (1) and length (4, BE).\n");
	hm_node_id_hex(&county.id, hex);
	PUT("county node id           %s\n", hex);
	hm_hex_encode(hex, county.sign_pub.b, HM_SIGN_PUB_BYTES);
	PUT("county ed25519 key       %s\n", hex);
	hm_node_id_hex(&village.id, hex);
	PUT("village node id          %s\n", hex);
	PUT("total                    %zu bytes\n", n);
	PUT("\n%6s %-4s %6s  %s\n", "offset", "type", "length", "contents");
	PUT("%6u %-4s %6u  magic \"%s\"\n", 0u, "-", 8u, MAGIC);

	/* 'H': format, exporter, created, recipient, wrapped key, chain. */
	assert_int_equal(take_frame(p, n, &off, &pay, &len), 'H');
	l->h_off = pay, l->h_len = len;
	assert_true(len >= 1 + 16 + 8 + 1 + 16 + 1 + 2);
	assert_int_equal(p[pay], 2);
	memcpy(exporter.b, p + pay + 1, HM_NODE_ID_BYTES);
	assert_true(hm_node_id_equal(&exporter, &county.id));
	assert_int_equal(p[pay + 25], 1); /* to_node */
	l->rcpt_off = pay + 26;
	memcpy(to.b, p + l->rcpt_off, HM_NODE_ID_BYTES);
	assert_true(hm_node_id_equal(&to, &village.id));
	l->wrapped_len = p[pay + 42];
	l->wrapped_off = pay + 43;
	assert_int_equal(l->wrapped_len, HM_BOX_SEALED_BYTES);
	assert_int_equal(hm_box_seal_open(key, &village, p + l->wrapped_off), HM_OK);
	q = l->wrapped_off + l->wrapped_len;
	l->chain_len = (size_t)p[q] << 8 | p[q + 1];
	l->chain_off = q + 2;
	assert_int_equal(l->chain_off + l->chain_len, pay + len);
	PUT("%6zu %-4c %6zu  header:\n", pay - 5, 'H', len);
	PUT("%6zu %-4s %6u    format 2\n", pay, "", 1u);
	hm_node_id_hex(&exporter, hex);
	PUT("%6zu %-4s %6u    exporter %s (the county)\n", pay + 1, "", 16u, hex);
	PUT("%6zu %-4s %6u    created_ms (when it was written, not checked on import)\n", pay + 17,
	    "", 8u);
	PUT("%6zu %-4s %6u    to_node 1\n", pay + 25, "", 1u);
	hm_node_id_hex(&to, hex);
	PUT("%6zu %-4s %6u    recipient %s (the village)\n", l->rcpt_off, "", 16u, hex);
	PUT("%6zu %-4s %6u    wrapped_len %zu\n", l->wrapped_off - 1, "", 1u, l->wrapped_len);
	PUT("%6zu %-4s %6zu    bundle key, crypto_box_seal to the village's X25519 key\n",
	    l->wrapped_off, "", l->wrapped_len);
	PUT("%6zu %-4s %6u    chain_len %zu\n", l->chain_off - 2, "", 2u, l->chain_len);
	for (size_t c = l->chain_off, i = 0; c < l->chain_off + l->chain_len; i++) {
		size_t cl = (size_t)p[c] << 8 | p[c + 1];
		hm_cert cert;
		assert_true(cl <= l->chain_off + l->chain_len - c - 2);
		assert_int_equal(hm_cert_decode(&cert, p + c + 2, cl), HM_OK);
		hm_node_id_hex(&cert.node, hex);
		PUT("%6zu %-4s %6zu    certificate %zu (len 2 + %zu): %s %s %s\n", c, "", 2 + cl, i,
		    cl, hm_role_name((hm_role)cert.role), cert.region, hex);
		c += 2 + cl;
	}

	/* 'E' frames, each opened with the bundle key and its index; the envelope inside. */
	while ((type = take_frame(p, n, &off, &pay, &len)) == 'E') {
		hm_changeset_view v;
		size_t pn;
		assert_true(l->ne < FRAMES_MAX);
		ad[0] = 'E';
		for (int i = 0; i < 8; i++)
			ad[1 + i] = (uint8_t)((uint64_t)l->ne >> (56 - 8 * i));
		assert_int_equal(
		    hm_aead_open(plain, sizeof(plain), &pn, key, p + pay, len, ad, sizeof(ad)),
		    HM_OK);
		assert_int_equal(hm_envelope_peek(plain, pn, &v), HM_OK);
		assert_true(hm_node_id_equal(&v.origin, &county.id));
		assert_int_equal(v.seq, l->ne + 1);
		PUT("%6zu %-4c %6zu  envelope %zu: nonce 24, sealed envelope %zu, tag 16;"
		    " inside: county seq %llu, %zu op(s), region %s\n",
		    pay - 5, 'E', len, l->ne, len - HM_AEAD_OVERHEAD, (unsigned long long)v.seq,
		    v.nops, v.region);
		l->e_off[l->ne] = pay, l->e_len[l->ne] = len;
		l->ne++;
	}

	/* 'Z': count, hash of every byte before it, the county's signature; nothing after. */
	assert_int_equal(type, 'Z');
	assert_int_equal(len, 8 + HM_HASH_BYTES + HM_SIGNATURE_BYTES);
	assert_int_equal(off, n);
	l->z_off = pay, l->z_len = len;
	assert_int_equal(be64(p + pay), l->ne);
	hm_hash_init(&hs);
	hm_hash_update(&hs, p, pay - 5);
	hm_hash_final(&hs, &want);
	assert_memory_equal(p + pay + 8, want.b, HM_HASH_BYTES);
	memcpy(sig.b, p + pay + 8 + HM_HASH_BYTES, HM_SIGNATURE_BYTES);
	assert_int_equal(hm_verify_hash(&sig, &county.sign_pub, &want), HM_OK);
	PUT("%6zu %-4c %6zu  end:\n", pay - 5, 'Z', len);
	PUT("%6zu %-4s %6u    count %zu\n", pay, "", 8u, l->ne);
	hm_hex_encode(hex, want.b, HM_HASH_BYTES);
	PUT("%6zu %-4s %6u    BLAKE2b-256 of bytes 0..%zu: %s\n", pay + 8, "", HM_HASH_BYTES,
	    pay - 6, hex);
	PUT("%6zu %-4s %6u    Ed25519 signature of that hash by the county key\n",
	    pay + 8 + HM_HASH_BYTES, "", HM_SIGNATURE_BYTES);
	PUT("%6zu end of file\n", n);
#undef PUT
	assert_true(text < TEXT_MAX - 1);
	hm_wipe(key, sizeof(key));
	hm_wipe(plain, sizeof(plain));
	hm_identity_release(&county);
	hm_identity_release(&village);
	return out;
}

/* ---- HAMLET_UPDATE_GOLDEN=1 ---- */

static void set_str(hm_write *w, const char *coll, const char *id, const char *field,
                    const char *text)
{
	hm_value v = test_str(text);
	assert_int_equal(hm_write_set(w, coll, id, field, &v), HM_OK);
}

/* The county's five change sets. */
static void county_writes(tnode *c)
{
	hm_write *w;

	test_person(c->n, "gold-p1", "Zhao Min", NULL);
	c->clock.now_ms += 60000;
	assert_int_equal(test_set_str(c->n, "person", "gold-p1", "phone", "13900000001", NULL),
	                 HM_OK);
	c->clock.now_ms += 60000;
	assert_int_equal(hm_write_begin(c->n, &w), HM_OK);
	set_str(w, "stock", "gold-masks", "item", "masks");
	assert_int_equal(hm_write_add(w, "stock", "gold-masks", "quantity", 200), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	c->clock.now_ms += 60000;
	assert_int_equal(test_add(c->n, "stock", "gold-masks", "quantity", -35, NULL), HM_OK);
	c->clock.now_ms += 60000;
	assert_int_equal(hm_write_begin(c->n, &w), HM_OK);
	set_str(w, "followup", "gold-f1", "person", "gold-p1");
	set_str(w, "followup", "gold-f1", "time", "2026-05-28T09:30");
	set_str(w, "followup", "gold-f1", "result", "normal");
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
}

static void make_golden(void)
{
	tnode c, v;
	uint8_t *req = NULL, *ans = NULL;
	size_t rl, al, n;
	hm_recipient to = {.to_node = true};
	hm_bundle_stats st;
	hm_hash digest;
	char path[1024], hex[2 * HM_HASH_BYTES + 2];
	uint8_t *bytes;
	char *text;
	layout l;
	hm_err err;

	tnode_init(&c, "gbundle_make_c", HM_ROLE_COUNTY, COUNTY_REGION, COUNTY_SEED);
	tnode_init(&v, "gbundle_make_v", HM_ROLE_VILLAGE, VILLAGE_REGION, VILLAGE_SEED);
	assert_int_equal(hm_enroll_request(v.n, &req, &rl), HM_OK);
	if ((err = hm_enroll_sign(c.n, req, rl, GOLDEN_DAYS, false, &ans, &al, NULL)))
		fail_msg("enrolling: %s (%s)", hm_strerror(err), hm_node_errmsg(c.n));
	write_all(ANSWER_FILE, ans, al);
	county_writes(&c);
	to.node = v.ident.id;
	data_path(path, sizeof(path), BUNDLE_FILE);
	if ((err = hm_bundle_export(c.n, NULL, path, true, &to, &st)))
		fail_msg("exporting: %s (%s)", hm_strerror(err), hm_bundle_errmsg());
	assert_int_equal(st.changesets, GOLDEN_COUNT);
	assert_int_equal(hm_node_digest(c.n, NULL, &digest), HM_OK);
	hm_hex_encode(hex, digest.b, HM_HASH_BYTES);
	strcat(hex, "\n");
	write_all(DIGEST_FILE, hex, strlen(hex));
	bytes = read_all(BUNDLE_FILE, &n);
	text = describe(bytes, n, &l);
	write_all(TEXT_FILE, text, strlen(text));
	free(text);
	free(bytes);
	free(req);
	free(ans);
	tnode_release(&v);
	tnode_release(&c);
}

/* ---- the decode side ---- */

static void golden_digest(hm_hash *out)
{
	size_t n;
	char *hex = (char *)read_all(DIGEST_FILE, &n);

	assert_int_equal(n, 2 * HM_HASH_BYTES + 1);
	assert_int_equal(hex[2 * HM_HASH_BYTES], '\n');
	hex[2 * HM_HASH_BYTES] = 0;
	assert_int_equal(hm_hex_decode(out->b, HM_HASH_BYTES, hex), HM_OK);
	free(hex);
}

/* A fresh village from the fixed seed (its own storage key), enrolled by the golden answer. */
static void village_enrolled(tnode *v)
{
	hm_identity county, other;
	hm_enroll_info info;
	uint8_t *ans;
	size_t al;
	hm_err err;

	tnode_init(v, "gbundle_v", HM_ROLE_VILLAGE, VILLAGE_REGION, VILLAGE_SEED);
	tt_identity(&county, COUNTY_SEED);
	tt_identity(&other, VILLAGE_SEED);
	ans = read_all(ANSWER_FILE, &al);
	/* Pinned to another root, the answer is refused. */
	assert_int_equal(hm_enroll_accept(v->n, ans, al, &other.sign_pub, NULL), HM_ERR_CRYPTO);
	if ((err = hm_enroll_accept(v->n, ans, al, &county.sign_pub, &info)))
		fail_msg("accepting the golden answer: %s (%s)", hm_strerror(err),
		         hm_node_errmsg(v->n));
	assert_true(hm_sign_pub_equal(&info.root, &county.sign_pub));
	assert_true(hm_node_id_equal(&info.node, &v->ident.id));
	assert_string_equal(info.region, VILLAGE_REGION);
	free(ans);
	hm_identity_release(&county);
	hm_identity_release(&other);
}

/* A copy of the golden bundle with byte at flipped must be refused and change nothing. */
static void assert_altered_refused(tnode *v, const uint8_t *bytes, size_t n, size_t at,
                                   const char *what)
{
	char path[1024];
	uint8_t *copy = malloc(n);
	hm_bundle_stats st;
	test_state s;
	size_t refused = tt_refused(v->n);
	hm_err err;

	assert_non_null(copy);
	assert_true(at < n);
	memcpy(copy, bytes, n);
	copy[at] ^= 0x01;
	test_scratch_dir(path, sizeof(path), "gbundle-altered.hmb");
	write_path(path, copy, n);
	test_state_take(v->n, &s);
	err = hm_bundle_import(v->n, path, NULL, NULL, &st);
	if (err == HM_OK)
		fail_msg("a byte flipped in %s (offset %zu) was imported", what, at);
	assert_int_equal(st.changesets, 0);
	assert_int_equal(st.apply.new_, 0);
	test_state_assert_same(v->n, &s);
	assert_int_equal(tt_refused(v->n), refused);
	test_state_release(&s);
	free(copy);
}

static void test_golden_bundle(void **state)
{
	tnode v;
	size_t n, tn;
	uint8_t *bytes;
	char *text, *again, path[1024], buf[64];
	layout l;
	hm_bundle_stats st;
	hm_hash want, got;
	hm_record *r;
	const hm_field *f;
	hm_err err;
	(void)state;

	if (getenv("HAMLET_UPDATE_GOLDEN"))
		make_golden();
	bytes = read_all(BUNDLE_FILE, &n);
	text = (char *)read_all(TEXT_FILE, &tn);
	golden_digest(&want);
	assert_true(n > 8);
	assert_memory_equal(bytes, "HMBUNDL2", 8);

	/* Its documentation still describes it, and its frames check without bundle.c. */
	again = describe(bytes, n, &l);
	assert_string_equal(again, text);
	assert_int_equal(l.ne, GOLDEN_COUNT);
	free(again);

	village_enrolled(&v);

	/* Altered anywhere, it is refused whole. */
	assert_altered_refused(&v, bytes, n, 3, "the magic");
	assert_altered_refused(&v, bytes, n, l.h_off - 1, "the header frame's length");
	assert_altered_refused(&v, bytes, n, l.h_off, "the header frame's format");
	assert_altered_refused(&v, bytes, n, l.h_off + 20, "the header frame's created time");
	assert_altered_refused(&v, bytes, n, l.rcpt_off + 5, "the header frame's recipient");
	assert_altered_refused(&v, bytes, n, l.wrapped_off + 40, "the header frame's wrapped key");
	assert_altered_refused(&v, bytes, n, l.chain_off + l.chain_len / 2,
	                       "the header frame's chain");
	assert_altered_refused(&v, bytes, n, l.e_off[0] - 5, "an envelope frame's type");
	assert_altered_refused(&v, bytes, n, l.e_off[1] + 3, "an envelope frame's nonce");
	assert_altered_refused(&v, bytes, n, l.e_off[2] + l.e_len[2] / 2,
	                       "an envelope frame's ciphertext");
	assert_altered_refused(&v, bytes, n,
	                       l.e_off[GOLDEN_COUNT - 1] + l.e_len[GOLDEN_COUNT - 1] - 1,
	                       "the last envelope frame's tag");
	assert_altered_refused(&v, bytes, n, l.z_off + 7, "the end frame's count");
	assert_altered_refused(&v, bytes, n, l.z_off + 8 + 10, "the end frame's hash");
	assert_altered_refused(&v, bytes, n, l.z_off + 8 + HM_HASH_BYTES + 1,
	                       "the end frame's signature");
	assert_altered_refused(&v, bytes, n, n - 1, "the signature's last byte");

	/* As written, every change set is new and the village reaches the county's digest. */
	data_path(path, sizeof(path), BUNDLE_FILE);
	if ((err = hm_bundle_import(v.n, path, NULL, NULL, &st)))
		fail_msg("importing the golden bundle: %s (%s)", hm_strerror(err),
		         hm_bundle_errmsg());
	assert_int_equal(st.changesets, GOLDEN_COUNT);
	assert_int_equal(st.apply.new_, GOLDEN_COUNT);
	assert_int_equal(st.apply.duplicate, 0);
	assert_int_equal(st.apply.pending, 0);
	assert_int_equal(st.apply.quarantined, 0);
	assert_int_equal(st.apply.refused, 0);
	assert_int_equal(st.apply.forks, 0);
	assert_int_equal(tt_refused(v.n), 0);
	assert_int_equal(hm_node_digest(v.n, NULL, &got), HM_OK);
	if (!hm_hash_equal(&got, &want)) {
		char g[2 * HM_HASH_BYTES + 1], w[2 * HM_HASH_BYTES + 1];
		hm_hex_encode(g, got.b, HM_HASH_BYTES);
		hm_hex_encode(w, want.b, HM_HASH_BYTES);
		fail_msg("the village's digest is %s, the golden one %s (%s)", g, w, DIGEST_FILE);
	}
	assert_int_equal(hm_node_check(v.n), HM_OK);

	/* What the digest stands for, readably. */
	assert_string_equal(test_get_str(v.n, "person", "gold-p1", "phone", buf, sizeof(buf)),
	                    "13900000001");
	assert_string_equal(test_get_str(v.n, "followup", "gold-f1", "result", buf, sizeof(buf)),
	                    "normal");
	assert_int_equal(hm_node_get(v.n, "stock", "gold-masks", &r), HM_OK);
	assert_non_null(f = hm_record_field(r, "quantity"));
	assert_int_equal(f->value.kind, HM_V_INT);
	assert_int_equal(f->value.u.i, 165);
	hm_record_free(r);

	/* Again: all duplicates, nothing changes. */
	assert_int_equal(hm_bundle_import(v.n, path, NULL, NULL, &st), HM_OK);
	assert_int_equal(st.apply.duplicate, GOLDEN_COUNT);
	assert_int_equal(st.apply.new_, 0);
	assert_int_equal(hm_node_digest(v.n, NULL, &got), HM_OK);
	assert_memory_equal(got.b, want.b, HM_HASH_BYTES);

	tnode_release(&v);
	free(bytes);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_bundle),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/golden_bundle", tests, NULL, NULL);
}
