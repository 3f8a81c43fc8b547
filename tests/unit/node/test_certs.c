/* test_certs.c - change sets whose origin cannot be proven are refused before anything is
 * decrypted or merged, kept as evidence, and change nothing: a certificate chain not rooted in
 * this county's key (a forged root, a forged issuer signature, another county's root), a
 * certificate expired or not yet valid at the change set's clock, an unknown origin's seq 1
 * without a chain, and a valid chain under a signature by another key. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_S (TEST_T0_MS / 1000)

/* A chain as the header carries it: per certificate its length (2 bytes BE), then its bytes. */
static size_t chain_bytes(const hm_cert *chain, size_t nc, uint8_t *out, size_t cap)
{
	size_t off = 0;
	for (size_t i = 0; i < nc; i++) {
		size_t cl;
		assert_true(off + 2 < cap);
		assert_int_equal(hm_cert_encode(out + off + 2, cap - off - 2, &cl, &chain[i]),
		                 HM_OK);
		out[off] = (uint8_t)(cl >> 8), out[off + 1] = (uint8_t)cl;
		off += 2 + cl;
	}
	return off;
}

/* A seq-1 change set of subject (origin) in region, carrying chain, sealed under a random key
 * for (its township, epoch 1) and signed by signer. */
static void forged_first(const hm_identity *subject, const char *region, const uint8_t *chain,
                         size_t chain_len, const hm_identity *signer, msgpack_sbuffer *out)
{
	uint8_t key[HM_DATA_KEY_BYTES];
	hm_header h = {0};
	tt_body body;

	hm_random_bytes(key, sizeof(key));
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "forged-1", 1, "name", "Forged Person");
	h.origin = subject->id;
	h.seq = 1;
	h.hlc = TEST_T0_MS << 16;
	snprintf(h.region, sizeof(h.region), "%s", region);
	h.epoch = 1;
	h.certs.p = chain, h.certs.n = chain_len;
	tt_seal_sign(NULL, &h, &body, key, signer, out);
	tt_body_release(&body);
}

static void refused_with(hm_node *n, const msgpack_sbuffer *env, const char *why)
{
	hm_bytes b = tt_bytes(env);
	tt_assert_refused_why(n, &b, why);
}

static void test_forged_chains(void **state)
{
	tt_mesh m;
	hm_identity rogue, x;
	hm_cert chain[3];
	uint8_t cb[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	msgpack_sbuffer env;
	MDB_txn *txn;
	tt_audit a;
	size_t n;
	(void)state;

	tt_mesh_init(&m, "certs_forged");
	tt_identity(&rogue, 0xee);
	tt_identity(&x, 0x0f);

	/* 1. A whole chain under a rogue root that calls itself the county "hexi". */
	assert_int_equal(hm_cert_init(&chain[0], &rogue, 1, HM_ROLE_COUNTY, TT_COUNTY, T0_S - 86400,
	                              T0_S + 86400, HM_CERT_MAY_ENROLL),
	                 HM_OK);
	assert_int_equal(hm_cert_sign(&chain[0], &rogue), HM_OK);
	assert_int_equal(
	    hm_cert_init(&chain[1], &x, 2, HM_ROLE_VILLAGE, TT_V1, T0_S - 86400, T0_S + 86400, 0),
	    HM_OK);
	assert_int_equal(hm_cert_sign(&chain[1], &rogue), HM_OK);
	n = chain_bytes(chain, 2, cb, sizeof(cb));
	forged_first(&x, TT_V1, cb, n, &x, &env);
	refused_with(m.v2.n, &env, "not the root's self-signed county certificate");
	refused_with(m.c.n, &env, "not the root's self-signed county certificate");
	msgpack_sbuffer_destroy(&env);

	/* 2. The real county certificate first, then one the rogue issued. */
	assert_int_equal(hm_store_read_begin(m.c.n, &txn), HM_OK);
	assert_int_equal(hm_trust_cert_get(m.c.n, txn, hm_node_self(m.c.n), &chain[0]), HM_OK);
	mdb_txn_abort(txn);
	n = chain_bytes(chain, 2, cb, sizeof(cb));
	forged_first(&x, TT_V1, cb, n, &x, &env);
	refused_with(m.v2.n, &env, "not issued by the certificate before it");
	msgpack_sbuffer_destroy(&env);

	/* 3. ... the rogue's certificate claiming the county as its issuer. */
	chain[1].issuer = *hm_node_self(m.c.n);
	n = chain_bytes(chain, 2, cb, sizeof(cb));
	forged_first(&x, TT_V1, cb, n, &x, &env);
	refused_with(m.v2.n, &env, "certificate signature does not verify");
	msgpack_sbuffer_destroy(&env);

	/* 4. v1's own, valid chain, on a change set signed by another key. */
	{
		tt_body body;
		hm_header h;
		uint8_t own[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
		tt_body_init(&body, 1);
		tt_body_put(&body, "person", "v1-x", 1, "name", "Not By V1");
		tt_header_next(&m.v1, &h, own, sizeof(own));
		assert_true(h.certs.n > 0);
		tt_seal_sign(&m.v1, &h, &body, NULL, &x, &env);
		refused_with(m.v2.n, &env,
		             "signature does not verify with the origin's certified key");
		msgpack_sbuffer_destroy(&env);
		tt_body_release(&body);
	}

	tt_audit_run(m.v2.n, &a);
	assert_int_equal(a.total, 4);
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 4);
	/* Nothing of x was learnt. */
	assert_int_equal(hm_store_read_begin(m.v2.n, &txn), HM_OK);
	assert_int_equal(hm_trust_cert_get(m.v2.n, txn, &x.id, &chain[2]), HM_ERR_NOT_FOUND);
	mdb_txn_abort(txn);
	hm_identity_release(&rogue);
	hm_identity_release(&x);
	tt_mesh_release(&m);
}

static void test_foreign_county(void **state)
{
	tt_mesh m;
	tnode b, vb;
	test_envs e = {0}, eb = {0};
	tt_audit a;
	(void)state;

	tt_mesh_init(&m, "certs_foreign");
	/* Another county, under the same name, with a village of the same region as v1. */
	tnode_init(&b, "certs_foreign_b", HM_ROLE_COUNTY, TT_COUNTY, 0xb0);
	tnode_init(&vb, "certs_foreign_vb", HM_ROLE_VILLAGE, TT_V1, 0x0b);
	tnode_enroll(&b, &vb, 365, false);
	test_person(vb.n, "v1-p1", "Impostor", NULL);
	assert_int_equal(test_set_str(b.n, "stock", "masks", "item", "N95", NULL), HM_OK);
	test_envs_collect(vb.n, NULL, &e);
	test_envs_collect(b.n, NULL, &eb);
	assert_int_equal(e.n, 1);
	tt_assert_refused_why(m.v2.n, &e.v[0], "not the root's");
	tt_assert_refused_why(m.c.n, &e.v[0], "not the root's");
	tt_assert_refused_why(m.v1.n, &e.v[0], "not the root's");
	tt_assert_refused_why(m.v2.n, &eb.v[0], "not the root's");
	/* ... and the other way round. */
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_envs_release(&e);
	test_envs_collect(m.v1.n, NULL, &e);
	tt_assert_refused_why(vb.n, &e.v[0], "not the root's");

	tt_audit_run(m.v2.n, &a);
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 2);
	assert_int_equal(a.total, 2);
	test_envs_release(&e);
	test_envs_release(&eb);
	tnode_release(&b);
	tnode_release(&vb);
	tt_mesh_release(&m);
}

static void test_expired_and_not_yet_valid(void **state)
{
	tt_mesh m;
	tnode v3, v4;
	test_envs e = {0};
	msgpack_sbuffer env;
	tt_body body;
	test_state s;
	tt_audit a;
	hm_err err;
	(void)state;

	tt_mesh_init(&m, "certs_expired");
	tnode_init(&v3, "certs_expired_v3", HM_ROLE_VILLAGE, "hexi/t1/v3", 0x03);
	tnode_init(&v4, "certs_expired_v4", HM_ROLE_VILLAGE, "hexi/t1/v4", 0x04);
	tnode_enroll(&m.c, &v3, 1, false);
	tnode_enroll(&m.c, &v4, 1, false);
	test_person(v3.n, "v3-p1", "Early", NULL);
	test_envs_collect(v3.n, NULL, &e);
	assert_int_equal(test_apply1(m.v2.n, &e.v[0]), HM_APPLY_NEW);

	/* Two days on: the certificate (valid one day) has expired. */
	v3.clock.now_ms += 2 * TT_DAY_MS;
	v4.clock.now_ms += 2 * TT_DAY_MS;
	m.v2.clock.now_ms += 2 * TT_DAY_MS;
	test_state_take(v3.n, &s);
	err = test_set_str(v3.n, "person", "v3-p1", "status", "late", NULL);
	assert_int_not_equal(err, HM_OK);
	test_state_assert_same(v3.n, &s);
	test_state_release(&s);

	/* Crafted as v3 would have: signed with its key, sealed with its data key. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v3-p1", 1, "status", "late");
	tt_craft_next(&v3, &body, &env);
	refused_with(m.v2.n, &env, "not valid at the change set's clock");
	msgpack_sbuffer_destroy(&env);
	/* A first change set with its chain, after expiry: the chain does not verify then. */
	tt_craft_next(&v4, &body, &env);
	refused_with(m.v2.n, &env, "certificate has expired");
	msgpack_sbuffer_destroy(&env);
	/* Before not_before (two drifts, two days, before enrollment): not yet valid. */
	v4.clock.now_ms = TEST_T0_MS - 2 * TT_DAY_MS - 3 * TT_HOUR_MS;
	tt_craft_next(&v4, &body, &env);
	refused_with(m.v2.n, &env, "certificate is not yet valid");
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);

	tt_audit_run(m.v2.n, &a);
	assert_int_equal(a.total, 3);
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 3);
	test_envs_release(&e);
	tnode_release(&v3);
	tnode_release(&v4);
	tt_mesh_release(&m);
}

static void test_unknown_origin_without_chain(void **state)
{
	tt_mesh m;
	msgpack_sbuffer env;
	tt_body body;
	hm_header h;
	test_envs e = {0};
	tt_audit a;
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "certs_unknown");
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v1-p1", 1, "name", "No Chain");
	tt_header_next(&m.v1, &h, NULL, 0);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.certs.n, 0);
	tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &env);
	refused_with(m.v2.n, &env, "unknown origin");
	tt_audit_run(m.v2.n, &a);
	assert_int_equal(a.total, 1);
	/* Kept as forged evidence: the audit reports it as a bad signature whose reason names the
	 * unknown origin (HM_FINDING_UNKNOWN_ORIGIN is only for held change sets). */
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 1);
	assert_non_null(strstr(a.last_reason[HM_FINDING_BAD_SIGNATURE], "unknown origin"));
	assert_true(hm_node_id_equal(&a.last_origin[HM_FINDING_BAD_SIGNATURE], &m.v1.ident.id));
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);

	/* v1's real seq 1, with its chain, still applies. */
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(test_apply1(m.v2.n, &e.v[0]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(m.v2.n, "person", "v1-p1", "name", buf, sizeof(buf)),
	                    "Li Wei");
	test_envs_release(&e);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forged_chains),
	    cmocka_unit_test(test_foreign_county),
	    cmocka_unit_test(test_expired_and_not_yet_valid),
	    cmocka_unit_test(test_unknown_origin_without_chain),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/certs", tests, NULL, NULL);
}
