/* test_revoke.c - revocation. The county revokes v1 after seq N; the revocation travels as a
 * change set like any data. Everywhere: v1's change sets at seq <= N still apply, those beyond
 * are refused (a backdated clock does not help), and one applied before the revocation arrived
 * is withdrawn, the records rebuilt so that the replica's digest equals one that never saw it.
 * What the county writes afterwards is sealed under new key epochs v1 never receives. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hm_hash digest_of(hm_node *n)
{
	hm_hash d;
	assert_int_equal(hm_node_digest(n, NULL, &d), HM_OK);
	return d;
}

static void apply_all(hm_node *n, const test_envs *e, size_t from, size_t to, hm_apply_outcome want)
{
	for (size_t i = from; i < to; i++)
		assert_int_equal(test_apply1(n, &e->v[i]), want);
}

static void test_revoked_after_seq(void **state)
{
	tt_mesh m;
	test_envs v1e = {0}, ce = {0};
	hm_changeset_info rev;
	msgpack_sbuffer env;
	tt_body body;
	tt_audit a;
	hm_hlc seq2_hlc;
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "revoke");
	test_person(m.v1.n, "v1-a", "Before One", NULL);
	test_person(m.v1.n, "v1-b", "Before Two", NULL);
	m.v1.clock.now_ms += TT_HOUR_MS;
	test_person(m.v1.n, "v1-c", "After Three", NULL);
	test_envs_collect(m.v1.n, NULL, &v1e);
	assert_int_equal(v1e.n, 3);

	/* v2 applied all three before the revocation; the county only the first two. */
	apply_all(m.v2.n, &v1e, 0, 3, HM_APPLY_NEW);
	apply_all(m.c.n, &v1e, 0, 2, HM_APPLY_NEW);
	m.c.clock.now_ms += 2 * TT_HOUR_MS;
	assert_int_equal(hm_node_revoke(m.c.n, &m.v1.ident.id, 2, "laptop stolen", &rev), HM_OK);
	assert_int_equal(rev.seq, 1);
	test_envs_last(m.c.n, &m.c.ident.id, &ce);

	/* The county refuses seq 3 now. */
	tt_assert_refused_why(m.c.n, &v1e.v[2], "revocation");

	/* t1 hears of the revocation first, then of v1: seqs 1 and 2 apply, 3 is refused. */
	assert_int_equal(test_apply1(m.t1.n, &ce.v[0]), HM_APPLY_NEW);
	apply_all(m.t1.n, &v1e, 0, 2, HM_APPLY_NEW);
	tt_assert_refused_why(m.t1.n, &v1e.v[2], "revocation");
	assert_string_equal(test_get_str(m.t1.n, "person", "v1-b", "name", buf, sizeof(buf)),
	                    "Before Two");
	assert_null(test_get_str(m.t1.n, "person", "v1-c", "name", buf, sizeof(buf)));

	/* v2 learns of it after: seq 3 is withdrawn and the records rebuilt. */
	assert_string_equal(test_get_str(m.v2.n, "person", "v1-c", "name", buf, sizeof(buf)),
	                    "After Three");
	assert_int_equal(test_apply1(m.v2.n, &ce.v[0]), HM_APPLY_NEW);
	assert_null(test_get_str(m.v2.n, "person", "v1-c", "name", buf, sizeof(buf)));
	assert_string_equal(test_get_str(m.v2.n, "person", "v1-a", "name", buf, sizeof(buf)),
	                    "Before One");
	assert_int_equal(test_vv_seq(m.v2.n, &m.v1.ident.id), 2);
	assert_int_equal(hm_node_check(m.v2.n), HM_OK);
	{
		hm_hash d2 = digest_of(m.v2.n), dt = digest_of(m.t1.n), dc = digest_of(m.c.n);
		assert_true(hm_hash_equal(&d2, &dt));
		assert_true(hm_hash_equal(&d2, &dc));
	}
	/* The withdrawn change set is kept as evidence, and the audit says so. */
	assert_int_equal(tt_refused(m.v2.n), 1);
	tt_audit_run(m.v2.n, &a);
	assert_int_equal(a.total, 1);
	assert_int_equal(a.kind[HM_FINDING_AFTER_REVOCATION], 1);
	/* Sent again, it is refused, not applied again; the evidence is the same entry. */
	{
		test_state s;
		test_state_take(m.v2.n, &s);
		assert_int_equal(test_apply1(m.v2.n, &v1e.v[2]), HM_APPLY_REFUSED);
		test_state_assert_same(m.v2.n, &s);
		assert_int_equal(tt_refused(m.v2.n), 1);
		test_state_release(&s);
	}

	/* A seq-3 change set with a clock from before the revocation: still refused. */
	{
		msgpack_zone z;
		hm_envelope e2;
		const char *why;
		assert_true(msgpack_zone_init(&z, 4096));
		assert_int_equal(hm_envelope_open(v1e.v[1].p, v1e.v[1].n, &z, &e2, &why), HM_OK);
		seq2_hlc = e2.h.hlc;
		msgpack_zone_destroy(&z);
	}
	{
		uint8_t chain[8];
		hm_header h;
		/* v1's own head is back at 2 once it applies its revocation; craft from there. */
		assert_int_equal(test_apply1(m.v1.n, &ce.v[0]), HM_APPLY_NEW);
		assert_int_equal(test_vv_seq(m.v1.n, &m.v1.ident.id), 2);
		tt_body_init(&body, 1);
		tt_body_put(&body, "person", "v1-d", 2, "name", "Backdated", "village", TT_V1);
		tt_header_next(&m.v1, &h, chain, sizeof(chain));
		assert_int_equal(h.seq, 3);
		h.hlc = seq2_hlc + 1;
		tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &env);
		{
			hm_bytes b = tt_bytes(&env);
			tt_assert_refused_why(m.t1.n, &b, "revocation");
			tt_assert_refused_why(m.v2.n, &b, "revocation");
			tt_assert_refused_why(m.c.n, &b, "revocation");
		}
		msgpack_sbuffer_destroy(&env);
		/* ... and a seq far beyond, which could otherwise wait as pending. */
		h.seq = 9;
		h.key_scope[0] = 0;
		tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &env);
		{
			hm_bytes b = tt_bytes(&env);
			tt_assert_refused_why(m.v2.n, &b, "revocation");
		}
		msgpack_sbuffer_destroy(&env);
		tt_body_release(&body);
		/* v1 itself cannot write on: its own change set is refused by its own rule. */
		{
			test_state s;
			test_state_take(m.v1.n, &s);
			assert_int_not_equal(
			    test_set_str(m.v1.n, "person", "v1-a", "phone", "1", NULL), HM_OK);
			test_state_assert_same(m.v1.n, &s);
			test_state_release(&s);
		}
	}
	tt_audit_run(m.t1.n, &a);
	assert_int_equal(a.kind[HM_FINDING_AFTER_REVOCATION], a.total);
	assert_int_equal(a.total, 2);
	test_envs_release(&v1e);
	test_envs_release(&ce);
	tt_mesh_release(&m);
}

/* After revoking v1, what the county writes is sealed under a key epoch v1 never gets. */
static void revoked_cannot_read(const char *prefix, const char *coll, const char *id,
                                const char *field, const char *region_field, const char *region)
{
	tt_mesh m;
	test_envs ce = {0};
	hm_write *w;
	hm_value v;
	hm_node_info info;
	char buf[64];

	tt_mesh_init(&m, prefix);
	test_person(m.v1.n, "v1-a", "Before", NULL);
	assert_int_equal(hm_node_revoke(m.c.n, &m.v1.ident.id, 1, "left the service", NULL), HM_OK);
	assert_int_equal(hm_write_begin(m.c.n, &w), HM_OK);
	v = test_str("Secret After");
	assert_int_equal(hm_write_set(w, coll, id, field, &v), HM_OK);
	v = test_str(region);
	assert_int_equal(hm_write_set(w, coll, id, region_field, &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	test_envs_collect(m.c.n, NULL, &ce);
	assert_int_equal(ce.n, 2);
	/* The revocation is in the county's own stream; a record of a village goes in the county's
	 * stream for that village's region. Put the revocation first, as the county sends it. */
	{
		hm_changeset_view first;
		assert_int_equal(hm_envelope_peek(ce.v[0].p, ce.v[0].n, &first), HM_OK);
		if (!hm_node_id_equal(&first.origin, &m.c.ident.id)) {
			hm_bytes t = ce.v[0];
			ce.v[0] = ce.v[1], ce.v[1] = t;
		}
	}

	/* v2, still trusted, reads it. */
	assert_int_equal(test_apply1(m.v2.n, &ce.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(m.v2.n, &ce.v[1]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(m.v2.n, coll, id, field, buf, sizeof(buf)),
	                    "Secret After");
	/* v1 applies its revocation (sealed under the old epoch), but not what follows. */
	assert_int_equal(test_apply1(m.v1.n, &ce.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(m.v1.n, &ce.v[1]), HM_APPLY_QUARANTINE);
	assert_null(test_get_str(m.v1.n, coll, id, field, buf, sizeof(buf)));
	assert_int_equal(hm_node_info_get(m.v1.n, &info), HM_OK);
	assert_int_equal(info.quarantined, 1);
	assert_int_equal(hm_node_release_quarantine(m.v1.n, NULL), HM_OK);
	assert_null(test_get_str(m.v1.n, coll, id, field, buf, sizeof(buf)));
	test_envs_release(&ce);
	tt_mesh_release(&m);
}

static void test_revoked_cannot_read_county_scope(void **state)
{
	(void)state;
	revoked_cannot_read("revoke_read_c", "stock", "county-masks", "item", "site", TT_COUNTY);
}

/* The county seals the township's new epoch for itself too (fixed in node/ by 6986022: before,
 * only nodes inside the township got it, so the county kept sealing township-scope change sets
 * under the old epoch, which the revoked node could read). */
static void test_revoked_cannot_read_township_scope(void **state)
{
	(void)state;
	revoked_cannot_read("revoke_read_t", "person", "v2-new", "name", "village", TT_V2);
}

/* After revoking v1, v2 writes under hexi/t1 epoch 2: the county holds that epoch too, and
 * reads (and can audit) what its township writes. */
static void test_county_reads_township_after_revocation(void **state)
{
	tt_mesh m;
	test_envs e = {0};
	uint32_t epoch;
	uint8_t key[HM_DATA_KEY_BYTES];
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "revoke_county_reads");
	assert_int_equal(hm_node_revoke(m.c.n, &m.v1.ident.id, 0, "never used", NULL), HM_OK);
	test_envs_last(m.c.n, &m.c.ident.id, &e);
	assert_int_equal(test_apply1(m.v2.n, &e.v[0]), HM_APPLY_NEW);
	tt_data_key(&m.v2, TT_T1, &epoch, key);
	assert_int_equal(epoch, 2);
	tt_data_key(&m.c, TT_T1, &epoch, key);
	assert_int_equal(epoch, 2);
	test_person(m.v2.n, "v2-a", "After Rekey", NULL);
	test_envs_release(&e);
	test_envs_last(m.v2.n, &m.v2.ident.id, &e);
	assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(m.c.n, "person", "v2-a", "name", buf, sizeof(buf)),
	                    "After Rekey");
	test_envs_release(&e);
	tt_mesh_release(&m);
}

/* t1 wrote in its stream for v2 and v2 applied it, but the county never saw that stream, so its
 * revocation of t1 cannot list it: v2 withdraws the whole stream, as the county would refuse it. */
static void test_unlisted_stream_withdrawn(void **state)
{
	tt_mesh m;
	test_envs te = {0}, ce = {0};
	hm_write *w;
	hm_value v;
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "revoke_unlisted");
	assert_int_equal(hm_write_begin(m.t1.n, &w), HM_OK);
	v = test_str("Hub Wrote");
	assert_int_equal(hm_write_set(w, "person", "t1-in-v2", "name", &v), HM_OK);
	v = test_str(TT_V2);
	assert_int_equal(hm_write_set(w, "person", "t1-in-v2", "village", &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	test_envs_collect(m.t1.n, NULL, &te);
	assert_int_equal(te.n, 1);
	assert_int_equal(test_apply1(m.v2.n, &te.v[0]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(m.v2.n, "person", "t1-in-v2", "name", buf, sizeof(buf)),
	                    "Hub Wrote");

	assert_int_equal(hm_node_revoke(m.c.n, &m.t1.ident.id, 0, "hub gone", NULL), HM_OK);
	test_envs_last(m.c.n, &m.c.ident.id, &ce);
	assert_int_equal(test_apply1(m.v2.n, &ce.v[0]), HM_APPLY_NEW);
	assert_null(test_get_str(m.v2.n, "person", "t1-in-v2", "name", buf, sizeof(buf)));
	assert_int_equal(hm_node_check(m.v2.n), HM_OK);
	assert_int_equal(tt_refused(m.v2.n), 1);
	tt_assert_refused_why(m.c.n, &te.v[0], "revocation");
	{
		hm_hash d2 = digest_of(m.v2.n), dc = digest_of(m.c.n);
		assert_true(hm_hash_equal(&d2, &dc));
	}
	test_envs_release(&te);
	test_envs_release(&ce);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revoked_after_seq),
	    cmocka_unit_test(test_revoked_cannot_read_county_scope),
	    cmocka_unit_test(test_revoked_cannot_read_township_scope),
	    cmocka_unit_test(test_county_reads_township_after_revocation),
	    cmocka_unit_test(test_unlisted_stream_withdrawn),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/revoke", tests, NULL, NULL);
}
