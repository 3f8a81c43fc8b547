/* test_scope.c - who may write what, and change sets seen twice. A village's validly signed
 * change set that touches another village's record (by its header region, by the region it
 * sets, or by editing a record that lies elsewhere) is refused as out of scope; so is a village
 * writing the system collection _revocation. Locally, a write outside the node's region fails
 * with HM_ERR_SCHEMA. A change set applied twice is a duplicate, a no-op; two validly signed
 * change sets for one (origin, seq) are a fork: both kept, nothing beyond applied. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An op outside the origin's region is refused with the merge's reason (node/apply.c formatted
 * it into its own buffer and lost it until 8d77fc4; test_scope_reason_kept pins the fix). */
#define OP_SCOPE_WHY "outside the writer's region"

static void craft_refused(tnode *author, const char *header_region, const tt_body *body,
                          hm_node *receiver, const char *why)
{
	uint8_t chain[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	msgpack_sbuffer env;
	hm_header h;
	hm_bytes b;

	tt_header_next(author, &h, chain, sizeof(chain));
	if (header_region)
		snprintf(h.region, sizeof(h.region), "%s", header_region);
	tt_seal_sign(author, &h, body, NULL, &author->ident, &env);
	b = tt_bytes(&env);
	tt_assert_refused_why(receiver, &b, why);
	msgpack_sbuffer_destroy(&env);
}

static void test_write_outside_scope(void **state)
{
	tt_mesh m;
	test_envs e = {0};
	tt_body body;
	tt_audit a;
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "scope");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_person(m.v2.n, "v2-p1", "Zhao Lei", NULL);
	test_envs_collect(m.v1.n, NULL, &e);
	test_envs_collect(m.v2.n, NULL, &e);
	assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(m.c.n, &e.v[1]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(m.v2.n, &e.v[0]), HM_APPLY_NEW);

	/* 1. A header claiming v2's region: outside v1's certificate. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-new", 2, "name", "Planted", "village", TT_V2);
	craft_refused(&m.v1, TT_V2, &body, m.c.n, "outside the origin's certified region");
	/* 2. Its own region in the header, a record placed in v2. Same key (the township's). */
	craft_refused(&m.v1, NULL, &body, m.c.n, OP_SCOPE_WHY);
	craft_refused(&m.v1, NULL, &body, m.v2.n, OP_SCOPE_WHY);
	/* ... or in the township, above the village. */
	tt_body_release(&body);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "t1-new", 2, "name", "Planted", "village", TT_T1);
	craft_refused(&m.v1, NULL, &body, m.c.n, OP_SCOPE_WHY);
	tt_body_release(&body);
	/* 3. An edit of v2's record, naming its region (as every op must): v2 is not v1's. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-p1", 2, "status", "released", "village", TT_V2);
	craft_refused(&m.v1, NULL, &body, m.c.n, OP_SCOPE_WHY);
	tt_body_release(&body);
	/* 4. An edit that names no region at all: judged from the change set alone, refused. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-p1", 1, "status", "released");
	craft_refused(&m.v1, NULL, &body, m.c.n, "does not name the record's region");
	tt_body_release(&body);
	/* 5. A legitimate op and a foreign one in one change set: all or nothing. */
	tt_body_init(&body, 2);
	tt_body_put(&body, "person", "v1-p1", 2, "phone", "139", "village", TT_V1);
	tt_body_put(&body, "person", "v2-p1", 2, "phone", "139", "village", TT_V2);
	craft_refused(&m.v1, NULL, &body, m.c.n, OP_SCOPE_WHY);
	tt_body_release(&body);
	assert_null(test_get_str(m.c.n, "person", "v1-p1", "phone", buf, sizeof(buf)));
	assert_null(test_get_str(m.c.n, "person", "v2-new", "name", buf, sizeof(buf)));

	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.total, 6);
	assert_int_equal(a.kind[HM_FINDING_OUT_OF_SCOPE], 6);
	test_envs_release(&e);
	tt_mesh_release(&m);
}

static void test_village_writes_system_collection(void **state)
{
	tt_mesh m;
	tt_body body;
	hm_write *w;
	hm_value v;
	char hex[2 * HM_NODE_ID_BYTES + 1];
	test_state s;
	tt_audit a;
	(void)state;

	tt_mesh_init(&m, "scope_system");
	hm_node_id_hex(&m.v2.ident.id, hex);
	/* A village revoking its neighbour after seq 0. */
	tt_body_init(&body, 1);
	msgpack_pack_array(&body.pk, 4);
	msgpack_pack_uint8(&body.pk, HM_OP_PUT);
	hm_mp_pack_cstr(&body.pk, "_revocation");
	hm_mp_pack_cstr(&body.pk, hex);
	msgpack_pack_map(&body.pk, 3);
	hm_mp_pack_cstr(&body.pk, "node");
	hm_mp_pack_cstr(&body.pk, hex);
	hm_mp_pack_cstr(&body.pk, "after_seq");
	msgpack_pack_int64(&body.pk, 0);
	hm_mp_pack_cstr(&body.pk, "region");
	hm_mp_pack_cstr(&body.pk, TT_V1);
	craft_refused(&m.v1, NULL, &body, m.c.n, "only the county writes");
	craft_refused(&m.v1, NULL, &body, m.t1.n, "only the county writes");
	tt_body_release(&body);
	/* The neighbour is not revoked anywhere. */
	test_person(m.v2.n, "v2-p1", "Zhao Lei", NULL);
	{
		test_envs e = {0};
		test_envs_collect(m.v2.n, NULL, &e);
		assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_NEW);
		test_envs_release(&e);
	}
	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.total, 1);
	assert_int_equal(a.kind[HM_FINDING_OUT_OF_SCOPE], 1);

	/* Locally, the write API refuses system collections outright. */
	test_state_take(m.v1.n, &s);
	assert_int_equal(hm_write_begin(m.v1.n, &w), HM_OK);
	v = test_str(hex);
	assert_int_equal(hm_write_set(w, "_revocation", hex, "node", &v), HM_ERR_SCHEMA);
	assert_int_equal(hm_write_set(w, "_datakey", hex, "node", &v), HM_ERR_SCHEMA);
	hm_write_abort(w);
	test_state_assert_same(m.v1.n, &s);
	test_state_release(&s);
	tt_mesh_release(&m);
}

static void test_local_write_outside_region(void **state)
{
	tt_mesh m;
	hm_write *w;
	hm_value v;
	test_state s;
	(void)state;

	tt_mesh_init(&m, "scope_local");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_state_take(m.v1.n, &s);
	assert_int_equal(hm_write_begin(m.v1.n, &w), HM_OK);
	v = test_str("Elsewhere");
	assert_int_equal(hm_write_set(w, "person", "v2-x", "name", &v), HM_OK);
	v = test_str(TT_V2);
	assert_int_equal(hm_write_set(w, "person", "v2-x", "village", &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_SCHEMA);
	/* Moving its own record out is the same. */
	assert_int_equal(test_set_str(m.v1.n, "person", "v1-p1", "village", TT_V2, NULL),
	                 HM_ERR_SCHEMA);
	test_state_assert_same(m.v1.n, &s);
	test_state_release(&s);
	/* A township may write in its villages, not in another township. */
	assert_int_equal(test_set_str(m.t1.n, "stock", "t1-masks", "item", "N95", NULL), HM_OK);
	test_state_take(m.t1.n, &s);
	assert_int_equal(hm_write_begin(m.t1.n, &w), HM_OK);
	v = test_str("N95");
	assert_int_equal(hm_write_set(w, "stock", "t2-masks", "item", &v), HM_OK);
	v = test_str("hexi/t2/v1");
	assert_int_equal(hm_write_set(w, "stock", "t2-masks", "site", &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_SCHEMA);
	test_state_assert_same(m.t1.n, &s);
	test_state_release(&s);
	tt_mesh_release(&m);
}

static void test_duplicate_and_equivocation(void **state)
{
	tt_mesh m;
	test_envs e = {0};
	msgpack_sbuffer a2, b2, c3;
	uint8_t chain[8];
	tt_body body;
	hm_header h;
	hm_hash id_a2;
	test_state s;
	tt_audit a;
	hm_node_info info;
	hm_bytes b;
	char buf[32];
	(void)state;

	tt_mesh_init(&m, "scope_replay");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_NEW);
	/* Replayed: a no-op, not even evidence. */
	test_state_take(m.c.n, &s);
	assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_DUPLICATE);
	{
		hm_apply_stats st = {0};
		hm_bytes twice[2] = {e.v[0], e.v[0]};
		assert_int_equal(hm_node_apply(m.c.n, twice, 2, &st, NULL), HM_OK);
		assert_int_equal(st.duplicate, 2);
	}
	test_state_assert_same(m.c.n, &s);
	assert_int_equal(tt_refused(m.c.n) + tt_forks(m.c.n), 0);
	test_state_release(&s);

	/* v1 signs two different seq-2 change sets. */
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v1-p1", 2, "status", "home-isolation", "village", TT_V1);
	tt_header_next(&m.v1, &h, chain, sizeof(chain));
	assert_int_equal(h.seq, 2);
	tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &a2);
	tt_body_release(&body);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v1-p1", 2, "status", "released", "village", TT_V1);
	h.key_scope[0] = 0;
	tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &b2);
	tt_body_release(&body);
	/* ... and a seq 3 following the first. */
	hm_hash_buf(a2.data, a2.size, &id_a2);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v1-p1", 2, "phone", "139", "village", TT_V1);
	h.seq = 3, h.prev = id_a2, h.hlc += 5, h.key_scope[0] = 0;
	tt_seal_sign(&m.v1, &h, &body, NULL, &m.v1.ident, &c3);
	tt_body_release(&body);

	test_state_take(m.c.n, &s); /* v1's seq 1 only */
	b = tt_bytes(&a2);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_NEW);
	b = tt_bytes(&b2);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_FORK);
	b = tt_bytes(&c3);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_FORK);
	/* Both versions of seq 2 are withdrawn: the county holds v1's seq 1, as every replica
	 * that learns of the fork does, whichever version it saw first. */
	{
		test_state now;
		test_state_take(m.c.n, &now);
		assert_true(hm_hash_equal(&now.digest, &s.digest));
		assert_string_equal(now.vv, s.vv);
		assert_int_equal(now.info.changesets, s.info.changesets);
		assert_int_equal(now.info.conflicts, s.info.conflicts);
		assert_int_equal(hm_node_check(m.c.n), HM_OK);
		test_state_release(&now);
	}
	test_state_release(&s);
	assert_null(test_get_str(m.c.n, "person", "v1-p1", "status", buf, sizeof(buf)));
	assert_string_equal(test_get_str(m.c.n, "person", "v1-p1", "name", buf, sizeof(buf)),
	                    "Li Wei");
	assert_null(test_get_str(m.c.n, "person", "v1-p1", "phone", buf, sizeof(buf)));
	/* Both versions are kept as evidence, and what followed. */
	assert_int_equal(hm_node_info_get(m.c.n, &info), HM_OK);
	assert_int_equal(info.forks, 3);
	assert_int_equal(info.refused, 0);
	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_FORK], 3);
	assert_int_equal(a.total, 3);
	assert_true(hm_node_id_equal(&a.last_origin[HM_FINDING_FORK], &m.v1.ident.id));

	msgpack_sbuffer_destroy(&a2);
	msgpack_sbuffer_destroy(&b2);
	msgpack_sbuffer_destroy(&c3);
	test_envs_release(&e);
	tt_mesh_release(&m);
}

static void test_scope_reason_kept(void **state)
{
	tt_mesh m;
	tt_body body;
	tt_audit a;
	(void)state;

	tt_mesh_init(&m, "scope_reason");
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "v2-new", 2, "name", "Planted", "village", TT_V2);
	craft_refused(&m.v1, NULL, &body, m.c.n, "outside the writer's region");
	tt_body_release(&body);
	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_OUT_OF_SCOPE], 1);
	assert_non_null(strstr(a.last_reason[HM_FINDING_OUT_OF_SCOPE], "outside"));
	tt_mesh_release(&m);
}

/* Change sets of made-up origins wait unverified beyond a gap, and nothing can clear them: the
 * caps in all count against them only, so junk that fills pending never keeps out a certified
 * village's change sets (bounded by that village's own caps). */
static void test_junk_keeps_no_certified_out(void **state)
{
	tt_mesh m;
	test_envs e = {0};
	hm_header h;
	tt_body body;
	(void)state;

	tt_mesh_init(&m, "scope_junk");
	m.c.n->pending_caps.count = 2;
	for (int i = 0; i < 3; i++) {
		msgpack_sbuffer env;
		hm_bytes b;
		tt_body_init(&body, 1);
		tt_body_put(&body, "person", "junk", 2, "name", "Junk", "village", TT_V2);
		tt_header_next(&m.v2, &h, NULL, 0);
		memset(h.origin.b, 0x40 + i, sizeof(h.origin.b)); /* nobody's */
		h.seq = 5;
		tt_seal_sign(&m.v2, &h, &body, NULL, &m.v2.ident, &env);
		tt_body_release(&body);
		b = tt_bytes(&env);
		assert_int_equal(test_apply1(m.c.n, &b),
		                 i < 2 ? HM_APPLY_PENDING : HM_APPLY_REFUSED); /* the cap in all */
		msgpack_sbuffer_destroy(&env);
	}
	/* v1's seq 2 before its seq 1: it waits, whatever the junk */
	test_person(m.v1.n, "v1-a", "One", NULL);
	test_person(m.v1.n, "v1-b", "Two", NULL);
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(test_apply1(m.c.n, &e.v[0]), HM_APPLY_NEW);
	test_person(m.v1.n, "v1-c", "Three", NULL);
	test_envs_release(&e);
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(test_apply1(m.c.n, &e.v[2]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(m.c.n, &e.v[1]), HM_APPLY_NEW);
	test_envs_release(&e);
	tt_mesh_release(&m);
}

/* A township restored from a backup taken before it first wrote in a village: its stream for
 * that village is not among its certificates, yet a peer's claim on it is a claim on the
 * township's own log, and writing there waits (the review of issue #9). */
static void test_behind_in_a_stream_written_after_backup(void **state)
{
	tt_mesh m;
	test_envs e = {0};
	hm_vv claim = {0};
	hm_node_id peer = {{0x33}};
	size_t behind;
	hm_value v = test_str("Late");
	hm_write *w;
	(void)state;

	tt_mesh_init(&m, "scope_behind_stream");
	test_person(m.v1.n, "v1-a", "One", NULL); /* t1 learns of v1 (and its region) */
	test_envs_collect(m.v1.n, NULL, &e);
	assert_int_equal(test_apply1(m.t1.n, &e.v[0]), HM_APPLY_NEW);
	test_envs_release(&e);
	claim.n = 1;
	claim.v = calloc(1, sizeof(*claim.v));
	assert_non_null(claim.v);
	hm_stream_id(hm_node_self(m.t1.n), TT_T1, TT_V1, &claim.v[0].origin);
	claim.v[0].seq = 3;
	assert_int_equal(hm_node_note_peer_vv(m.t1.n, &peer, &claim, &behind), HM_OK);
	assert_int_equal(behind, 1);
	assert_int_equal(hm_write_begin(m.t1.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "t1-x", "name", &v), HM_OK);
	v = test_str(TT_V1);
	assert_int_equal(hm_write_set(w, "person", "t1-x", "village", &v), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_FORK);
	hm_vv_release(&claim);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_outside_scope),
	    cmocka_unit_test(test_village_writes_system_collection),
	    cmocka_unit_test(test_local_write_outside_region),
	    cmocka_unit_test(test_duplicate_and_equivocation),
	    cmocka_unit_test(test_scope_reason_kept),
	    cmocka_unit_test(test_junk_keeps_no_certified_out),
	    cmocka_unit_test(test_behind_in_a_stream_written_after_backup),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/scope", tests, NULL, NULL);
}
