/* test_enroll.c - enrollment by files. A request with any byte flipped is refused by inspect and
 * by sign, and the issuer learns nothing; an answer meant for another node, one under another
 * root than the pinned one, or one with any byte flipped is refused and the node stays
 * unenrolled (and can still accept its own). A township without may_enroll cannot enroll; one
 * with it enrolls villages of its own township only, and those villages' change sets verify up
 * a chain of three on the county. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool knows_cert(tnode *t, const hm_node_id *id)
{
	MDB_txn *txn;
	hm_cert c;
	hm_err err;

	assert_int_equal(hm_store_read_begin(t->n, &txn), HM_OK);
	err = hm_trust_cert_get(t->n, txn, id, &c);
	mdb_txn_abort(txn);
	assert_true(err == HM_OK || err == HM_ERR_NOT_FOUND);
	return err == HM_OK;
}

static bool enrolled(hm_node *n)
{
	hm_node_info info;
	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.enrolled;
}

static void test_request_flipped(void **state)
{
	tnode c, v;
	uint8_t *req, *ans = NULL;
	size_t rl, al;
	hm_enroll_info info;
	test_state s;
	(void)state;

	tnode_init(&c, "enroll_req_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&v, "enroll_req_v", HM_ROLE_VILLAGE, TT_V1, 0x01);
	assert_int_equal(hm_enroll_request(v.n, &req, &rl), HM_OK);
	assert_int_equal(hm_enroll_request_inspect(req, rl, &info), HM_OK);
	assert_true(hm_node_id_equal(&info.node, &v.ident.id));
	assert_string_equal(info.region, TT_V1);
	assert_int_equal(info.role, HM_ROLE_VILLAGE);
	test_state_take(c.n, &s);
	for (size_t i = 0; i < rl; i++) {
		for (int f = 0; f < 2; f++) {
			uint8_t mask = f ? 0x80 : 0x01;
			req[i] ^= mask;
			if (hm_enroll_request_inspect(req, rl, &info) == HM_OK)
				fail_msg("request byte %zu ^ 0x%02x inspected OK", i, mask);
			if (hm_enroll_sign(c.n, req, rl, 365, false, &ans, &al, &info) == HM_OK)
				fail_msg("request byte %zu ^ 0x%02x was signed", i, mask);
			assert_null(ans);
			req[i] ^= mask;
		}
	}
	/* Cut short, or with a byte more. */
	assert_int_not_equal(hm_enroll_request_inspect(req, rl - 1, &info), HM_OK);
	assert_int_not_equal(hm_enroll_sign(c.n, req, rl - 1, 365, false, &ans, &al, NULL), HM_OK);
	test_state_assert_same(c.n, &s);
	test_state_release(&s);
	assert_false(knows_cert(&c, &v.ident.id));
	assert_int_equal(hm_node_revoke(c.n, &v.ident.id, 0, "x", NULL), HM_ERR_NOT_FOUND);
	free(req);
	tnode_release(&c);
	tnode_release(&v);
}

static void sign_for(tnode *issuer, tnode *t, uint8_t **ans, size_t *al)
{
	uint8_t *req;
	size_t rl;

	assert_int_equal(hm_enroll_request(t->n, &req, &rl), HM_OK);
	assert_int_equal(hm_enroll_sign(issuer->n, req, rl, 365, false, ans, al, NULL), HM_OK);
	free(req);
}

static void test_answer_refused(void **state)
{
	tnode c, other_c, v1, v2;
	uint8_t *a1, *a2, *foreign;
	size_t l1, l2, lf;
	hm_node_info ci, oi;
	test_state s;
	(void)state;

	tnode_init(&c, "enroll_ans_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&other_c, "enroll_ans_oc", HM_ROLE_COUNTY, TT_COUNTY, 0xb0);
	tnode_init(&v1, "enroll_ans_v1", HM_ROLE_VILLAGE, TT_V1, 0x01);
	tnode_init(&v2, "enroll_ans_v2", HM_ROLE_VILLAGE, TT_V2, 0x02);
	assert_int_equal(hm_node_info_get(c.n, &ci), HM_OK);
	assert_int_equal(hm_node_info_get(other_c.n, &oi), HM_OK);
	sign_for(&c, &v1, &a1, &l1);
	sign_for(&c, &v2, &a2, &l2);
	sign_for(&other_c, &v2, &foreign, &lf);
	test_state_take(v2.n, &s);

	/* v1's answer at v2: not its certificate. */
	assert_int_equal(hm_enroll_accept(v2.n, a1, l1, &ci.root, NULL), HM_ERR_CRYPTO);
	assert_int_equal(hm_enroll_accept(v2.n, a1, l1, NULL, NULL), HM_ERR_CRYPTO);
	/* Another county's answer, against the pinned root. */
	assert_int_equal(hm_enroll_accept(v2.n, foreign, lf, &ci.root, NULL), HM_ERR_CRYPTO);
	assert_non_null(strstr(hm_node_errmsg(v2.n), "root"));
	/* Its own answer, against a pin that differs. */
	assert_int_equal(hm_enroll_accept(v2.n, a2, l2, &oi.root, NULL), HM_ERR_CRYPTO);
	/* Every byte of its own answer flipped. */
	for (size_t i = 0; i < l2; i++) {
		for (int f = 0; f < 2; f++) {
			uint8_t mask = f ? 0x80 : 0x01;
			a2[i] ^= mask;
			if (hm_enroll_accept(v2.n, a2, l2, &ci.root, NULL) == HM_OK)
				fail_msg("answer byte %zu ^ 0x%02x was accepted", i, mask);
			a2[i] ^= mask;
		}
	}
	assert_int_not_equal(hm_enroll_accept(v2.n, a2, l2 - 1, &ci.root, NULL), HM_OK);
	assert_false(enrolled(v2.n));
	test_state_assert_same(v2.n, &s);
	test_state_release(&s);
	assert_int_equal(test_set_str(v2.n, "person", "p", "name", "x", NULL), HM_ERR_CRYPTO);

	/* Its own, unaltered, under the right pin: accepted, once. */
	assert_int_equal(hm_enroll_accept(v2.n, a2, l2, &ci.root, NULL), HM_OK);
	assert_true(enrolled(v2.n));
	assert_int_equal(hm_enroll_accept(v2.n, a2, l2, &ci.root, NULL), HM_ERR_EXISTS);
	test_person(v2.n, "v2-p1", "Zhao Lei", NULL);
	free(a1), free(a2), free(foreign);
	tnode_release(&c);
	tnode_release(&other_c);
	tnode_release(&v1);
	tnode_release(&v2);
}

static void test_township_enrollment(void **state)
{
	tnode c, t1, t2, v1, v3, vx;
	uint8_t *req, *ans = NULL;
	size_t rl, al;
	test_envs e = {0};
	test_state s;
	(void)state;

	tnode_init(&c, "enroll_tw_c", HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	tnode_init(&t1, "enroll_tw_t1", HM_ROLE_TOWNSHIP, TT_T1, 0x71);
	tnode_init(&t2, "enroll_tw_t2", HM_ROLE_TOWNSHIP, TT_T2, 0x72);
	tnode_init(&v1, "enroll_tw_v1", HM_ROLE_VILLAGE, TT_V1, 0x01);
	tnode_init(&v3, "enroll_tw_v3", HM_ROLE_VILLAGE, "hexi/t2/v3", 0x03);
	tnode_init(&vx, "enroll_tw_vx", HM_ROLE_VILLAGE, "hexi/t1/vx", 0x0e);
	tnode_enroll(&c, &t1, 365, true);
	tnode_enroll(&c, &t2, 365, false);

	/* t2 may not enroll at all. */
	assert_int_equal(hm_enroll_request(v3.n, &req, &rl), HM_OK);
	test_state_take(t2.n, &s);
	assert_int_equal(hm_enroll_sign(t2.n, req, rl, 365, false, &ans, &al, NULL), HM_ERR_CRYPTO);
	assert_null(ans);
	test_state_assert_same(t2.n, &s);
	test_state_release(&s);
	/* t1 may, but not a village of t2. */
	test_state_take(t1.n, &s);
	assert_int_equal(hm_enroll_sign(t1.n, req, rl, 365, false, &ans, &al, NULL), HM_ERR_SCHEMA);
	assert_null(ans);
	test_state_assert_same(t1.n, &s);
	test_state_release(&s);
	assert_false(knows_cert(&t1, &v3.ident.id));
	free(req);
	/* Nor a township, nor a village that asks for may_enroll rights beyond its role. */
	assert_int_equal(hm_enroll_request(t2.n, &req, &rl), HM_ERR_EXISTS);
	{
		tnode t3;
		tnode_init(&t3, "enroll_tw_t3", HM_ROLE_TOWNSHIP, "hexi/t3", 0x73);
		assert_int_equal(hm_enroll_request(t3.n, &req, &rl), HM_OK);
		assert_int_not_equal(hm_enroll_sign(t1.n, req, rl, 365, true, &ans, &al, NULL),
		                     HM_OK);
		assert_null(ans);
		free(req);
		tnode_release(&t3);
	}
	/* A village of its own township: yes, and the county verifies the chain of three. */
	tnode_enroll(&t1, &v1, 30, false);
	/* ... but a village enrolled by t1 cannot enroll in turn. */
	assert_int_equal(hm_enroll_request(vx.n, &req, &rl), HM_OK);
	assert_int_equal(hm_enroll_sign(v1.n, req, rl, 30, false, &ans, &al, NULL), HM_ERR_CRYPTO);
	assert_null(ans);
	free(req);
	test_person(v1.n, "v1-p1", "Li Wei", NULL);
	test_envs_collect(v1.n, NULL, &e);
	assert_int_equal(test_apply1(c.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(t2.n, &e.v[0]), HM_APPLY_QUARANTINE); /* no hexi/t1 key */
	test_envs_release(&e);
	tnode_release(&c);
	tnode_release(&t1);
	tnode_release(&t2);
	tnode_release(&v1);
	tnode_release(&v3);
	tnode_release(&vx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_flipped),
	    cmocka_unit_test(test_answer_refused),
	    cmocka_unit_test(test_township_enrollment),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/enroll", tests, NULL, NULL);
}
