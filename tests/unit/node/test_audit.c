/* test_audit.c - the county's audit. A mesh where every node wrote and everyone holds
 * everything audits clean on every node: zero findings. Then the county is fed one of each
 * fault, and each shows as its own finding kind: a tampered change set (bad signature), a write
 * outside the origin's region, an equivocation (fork), a change set after a revocation, bytes
 * that are no change set at all (refused), a seq beyond a gap, a clock from the future. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sync_all(tt_mesh *m)
{
	tnode *all[] = {&m->c, &m->t1, &m->v1, &m->v2};
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				if (i != j)
					test_sync(all[i]->n, all[j]->n);
}

static void test_audit_clean_then_each_kind(void **state)
{
	tt_mesh m;
	tnode *all[] = {&m.c, &m.t1, &m.v1, &m.v2};
	test_envs e = {0};
	msgpack_sbuffer env, env2;
	tt_body body;
	hm_header h;
	uint8_t chain[8];
	tt_audit a;
	hm_bytes b;
	hm_hash d0, d;
	(void)state;

	tt_mesh_init(&m, "audit");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_person(m.v2.n, "v2-p1", "Zhao Lei", NULL);
	assert_int_equal(test_set_str(m.t1.n, "stock", "t1-masks", "item", "N95", NULL), HM_OK);
	assert_int_equal(test_set_str(m.c.n, "stock", "c-masks", "item", "N95", NULL), HM_OK);
	sync_all(&m);
	assert_int_equal(hm_node_digest(m.c.n, NULL, &d0), HM_OK);
	for (int i = 0; i < 4; i++) {
		tt_audit_run(all[i]->n, &a);
		assert_int_equal(a.total, 0);
		assert_int_equal(hm_node_digest(all[i]->n, NULL, &d), HM_OK);
		assert_true(hm_hash_equal(&d, &d0));
	}

	/* Bad signature: v1's next change set with one signature byte flipped. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v1-p1", 2, "status", "released", "village", TT_V1);
	tt_craft_next(&m.v1, &body, &env);
	((uint8_t *)env.data)[env.size - 1] ^= 1;
	b = tt_bytes(&env);
	tt_assert_refused(m.c.n, &b);
	msgpack_sbuffer_destroy(&env);
	/* Out of scope: v1 writing in v2. */
	tt_body_release(&body);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-p1", 2, "status", "released", "village", TT_V2);
	tt_craft_next(&m.v1, &body, &env);
	b = tt_bytes(&env);
	tt_assert_refused(m.c.n, &b);
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);
	/* Refused: not a change set. */
	{
		static const uint8_t junk[] = {0x94, 0x02, 0xc4, 0x01, 0x00,
		                               0xc4, 0x00, 0xc4, 0x00};
		hm_bytes jb = {junk, sizeof(junk)};
		tt_assert_refused(m.c.n, &jb);
	}
	/* Fork: v2 signs two seq 2. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-p1", 2, "status", "a", "village", TT_V2);
	tt_craft_next(&m.v2, &body, &env);
	tt_body_release(&body);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-p1", 2, "status", "b", "village", TT_V2);
	tt_craft_next(&m.v2, &body, &env2);
	b = tt_bytes(&env);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_NEW);
	b = tt_bytes(&env2);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_FORK);
	msgpack_sbuffer_destroy(&env);
	msgpack_sbuffer_destroy(&env2);
	tt_body_release(&body);
	/* Gap: t1's seq 3 without its seq 2. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "stock", "t1-masks", 2, "unit", "box", "site", TT_T1);
	tt_header_next(&m.t1, &h, chain, sizeof(chain));
	h.seq += 1;
	tt_seal_sign(&m.t1, &h, &body, NULL, &m.t1.ident, &env);
	b = tt_bytes(&env);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_PENDING);
	msgpack_sbuffer_destroy(&env);
	/* Clock: t1's seq 2 three days ahead (beyond two drifts). */
	m.t1.clock.now_ms += 3 * TT_DAY_MS;
	tt_header_next(&m.t1, &h, chain, sizeof(chain));
	tt_seal_sign(&m.t1, &h, &body, NULL, &m.t1.ident, &env);
	b = tt_bytes(&env);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_QUARANTINE);
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);
	/* After revocation: v1 revoked after seq 1, its seq 2 arrives. */
	assert_int_equal(hm_node_revoke(m.c.n, &m.v1.ident.id, 1, "audit", NULL), HM_OK);
	test_person(m.v1.n, "v1-p2", "Late", NULL);
	test_envs_last(m.v1.n, &m.v1.ident.id, &e);
	tt_assert_refused(m.c.n, &e.v[0]);
	test_envs_release(&e);

	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 1);
	assert_int_equal(a.kind[HM_FINDING_OUT_OF_SCOPE], 1);
	assert_int_equal(a.kind[HM_FINDING_REFUSED], 1);
	assert_int_equal(a.kind[HM_FINDING_FORK], 2); /* both versions of v2's seq 2 */
	assert_int_equal(a.kind[HM_FINDING_GAP], 1);
	assert_int_equal(a.kind[HM_FINDING_CLOCK], 1);
	assert_int_equal(a.kind[HM_FINDING_AFTER_REVOCATION], 1);
	assert_int_equal(a.total, 8);
	assert_int_equal(hm_node_check(m.c.n), HM_OK);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_audit_clean_then_each_kind),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/audit", tests, NULL, NULL);
}
