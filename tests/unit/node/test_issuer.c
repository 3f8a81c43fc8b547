/* test_issuer.c - a certificate is honoured only while its whole chain is (issue #9, section 1).
 *
 * Township t1 enrolls village v1 honestly, then the county revokes t1 after seq N. A copy of t1's
 * keys (t1's own directory, which has not heard of the revocation) then enrolls v3; v3 writes.
 * In every arrival order of t1's log, the revocation and the villages' change sets, every replica
 * ends with v1's records and none of v3's, and the same digest: a replica that took v3 before it
 * heard of the revocation withdraws it and rebuilds. v3 is refused as a peer (the sync handshake
 * and a bundle's exporter); the audit names both villages (v3 refused, v1 to re-enroll); v1
 * re-enrolled as a new node under a new township key works, and once the old v1 is retired the
 * audit names only v3. Each check fails on the code before the fix, where nothing looked past
 * the last certificate of a chain. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TT_V3 "hexi/t1/v3"

typedef struct fixture {
	tnode c, t1, v1, v3, hub;
	test_envs t1_before; /* t1's log up to its revocation (seq N): v1's _issued record */
	test_envs t1_after;  /* written with t1's keys after it: v3's _issued record */
	test_envs v1e, v3e, rev;
	uint64_t n; /* t1 revoked after this seq */
} fixture;

static void collect_beyond(hm_node *n, const hm_node_id *origin, uint64_t seq, test_envs *out)
{
	hm_vv vv;
	test_envs all = {0};

	assert_int_equal(hm_node_version_vector(n, &vv), HM_OK);
	for (size_t i = 0; i < vv.n; i++)
		vv.v[i].seq = hm_node_id_equal(&vv.v[i].origin, origin) ? seq : UINT64_MAX;
	test_envs_collect(n, &vv, &all);
	for (size_t i = 0; i < all.n; i++)
		test_envs_push(out, all.v[i].p, all.v[i].n);
	test_envs_release(&all);
	hm_vv_release(&vv);
}

static void fixture_init(fixture *f, const char *prefix)
{
	char name[128];
	hm_changeset_info info;

	memset(f, 0, sizeof(*f));
	snprintf(name, sizeof(name), "%s_c", prefix);
	tnode_init(&f->c, name, HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	snprintf(name, sizeof(name), "%s_t1", prefix);
	tnode_init(&f->t1, name, HM_ROLE_TOWNSHIP, TT_T1, 0x71);
	snprintf(name, sizeof(name), "%s_v1", prefix);
	tnode_init(&f->v1, name, HM_ROLE_VILLAGE, TT_V1, 0x01);
	snprintf(name, sizeof(name), "%s_v3", prefix);
	tnode_init(&f->v3, name, HM_ROLE_VILLAGE, TT_V3, 0x03);
	/* A second node of the township's region, enrolled by the county: a hub that relays. */
	snprintf(name, sizeof(name), "%s_hub", prefix);
	tnode_init(&f->hub, name, HM_ROLE_TOWNSHIP, TT_T1, 0x7a);
	tnode_enroll(&f->c, &f->t1, 365, true);
	tnode_enroll(&f->c, &f->hub, 365, false);

	/* Honest: t1 enrolls v1 (and records it in its log), v1 writes. */
	tnode_enroll(&f->t1, &f->v1, 365, false);
	test_person(f->v1.n, "v1-a", "Honest One", NULL);
	test_envs_collect(f->v1.n, NULL, &f->v1e);
	collect_beyond(f->t1.n, &f->t1.ident.id, 0, &f->t1_before);
	assert_int_equal(f->t1_before.n, 1);
	f->n = f->t1_before.n;

	/* The county hears t1's log, then revokes it after seq N. */
	for (size_t i = 0; i < f->t1_before.n; i++)
		assert_int_equal(test_apply1(f->c.n, &f->t1_before.v[i]), HM_APPLY_NEW);
	f->c.clock.now_ms += TT_HOUR_MS;
	assert_int_equal(hm_node_revoke(f->c.n, &f->t1.ident.id, f->n, "keys stolen", &info),
	                 HM_OK);
	test_envs_last(f->c.n, &f->c.ident.id, &f->rev);

	/* The thief's copy of t1 has not heard: it enrolls v3, which writes. */
	f->t1.clock.now_ms += 2 * TT_HOUR_MS;
	f->v3.clock.now_ms += 2 * TT_HOUR_MS;
	tnode_enroll(&f->t1, &f->v3, 365, false);
	collect_beyond(f->t1.n, &f->t1.ident.id, f->n, &f->t1_after);
	assert_int_equal(f->t1_after.n, 1);
	test_person(f->v3.n, "v3-x", "Planted", NULL);
	test_envs_collect(f->v3.n, NULL, &f->v3e);
	f->c.clock.now_ms = f->hub.clock.now_ms = f->v1.clock.now_ms = f->t1.clock.now_ms;
}

static void fixture_release(fixture *f)
{
	test_envs_release(&f->t1_before);
	test_envs_release(&f->t1_after);
	test_envs_release(&f->v1e);
	test_envs_release(&f->v3e);
	test_envs_release(&f->rev);
	tnode_release(&f->c);
	tnode_release(&f->t1);
	tnode_release(&f->v1);
	tnode_release(&f->v3);
	tnode_release(&f->hub);
}

static void apply_all(hm_node *n, const test_envs *e, hm_apply_outcome want)
{
	for (size_t i = 0; i < e->n; i++)
		assert_int_equal(test_apply1(n, &e->v[i]), want);
}

/* v1's record held, v3's not, v3 not in the version vector, and the store consistent. */
static void assert_verdict(fixture *f, tnode *r)
{
	char buf[32];

	assert_string_equal(test_get_str(r->n, "person", "v1-a", "name", buf, sizeof(buf)),
	                    "Honest One");
	assert_null(test_get_str(r->n, "person", "v3-x", "name", buf, sizeof(buf)));
	assert_int_equal(test_vv_seq(r->n, &f->v3.ident.id), 0);
	assert_int_equal(test_vv_seq(r->n, &f->v1.ident.id), f->v1e.n);
	assert_int_equal(test_vv_seq(r->n, &f->t1.ident.id), f->n);
	assert_int_equal(hm_node_check(r->n), HM_OK);
}

static void assert_same_digest(hm_node *a, hm_node *b)
{
	hm_hash da, db;
	assert_int_equal(hm_node_digest(a, NULL, &da), HM_OK);
	assert_int_equal(hm_node_digest(b, NULL, &db), HM_OK);
	assert_true(hm_hash_equal(&da, &db));
}

/* The county heard of the revocation first (it wrote it): the stolen keys' _issued record and
 * v3's change sets are refused at arrival, v1's apply. */
static void county_first(fixture *f)
{
	apply_all(f->c.n, &f->t1_after, HM_APPLY_REFUSED);
	apply_all(f->c.n, &f->v1e, HM_APPLY_NEW);
	tt_assert_refused_why(f->c.n, &f->v3e.v[0], "revoked issuer");
	assert_verdict(f, &f->c);
}

static void test_revocation_first(void **state)
{
	fixture f;
	(void)state;

	fixture_init(&f, "issuer_first");
	county_first(&f);
	/* The hub: revocation, then t1's whole log, then both villages. */
	apply_all(f.hub.n, &f.rev, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_after, HM_APPLY_REFUSED);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_REFUSED);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_NEW);
	assert_verdict(&f, &f.hub);
	assert_same_digest(f.c.n, f.hub.n);
	fixture_release(&f);
}

/* A hub that took everything before it heard of the revocation withdraws v3 (and t1's record of
 * issuing it) when the revocation arrives, and ends where the county is. */
static void test_revocation_last(void **state)
{
	fixture f;
	char buf[32];
	tt_audit a;
	(void)state;

	fixture_init(&f, "issuer_last");
	county_first(&f);
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_after, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_NEW);
	assert_string_equal(test_get_str(f.hub.n, "person", "v3-x", "name", buf, sizeof(buf)),
	                    "Planted");
	apply_all(f.hub.n, &f.rev, HM_APPLY_NEW);
	assert_verdict(&f, &f.hub);
	assert_same_digest(f.c.n, f.hub.n);
	/* Sent again, v3 is refused (its evidence is the entry kept at the withdrawal). */
	assert_int_equal(test_apply1(f.hub.n, &f.v3e.v[0]), HM_APPLY_REFUSED);
	assert_non_null(strstr(hm_node_errmsg(f.hub.n), "revoked issuer"));
	assert_verdict(&f, &f.hub);
	/* The audit names v3 (its withdrawn and refused change sets, and its chain). */
	tt_audit_run(f.hub.n, &a);
	assert_int_equal(a.kind[HM_FINDING_AFTER_REVOCATION], 1); /* t1's seq N+1 */
	assert_int_equal(a.kind[HM_FINDING_REVOKED_ISSUER], 3);   /* v3's change set, v3, v1 */
	assert_true(hm_node_id_equal(&a.last_origin[HM_FINDING_AFTER_REVOCATION], &f.t1.ident.id));
	fixture_release(&f);
}

/* v1's change sets came before t1's log, and the revocation before t1's log: when it arrives,
 * nothing yet proves v1 was enrolled before it, so v1's change sets go back to waiting; once
 * t1's log up to N arrives they apply again, and the hub ends where the county is. */
static void test_village_before_issuer_log(void **state)
{
	fixture f;
	char buf[32];
	(void)state;

	fixture_init(&f, "issuer_village_first");
	county_first(&f);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.rev, HM_APPLY_NEW);
	assert_null(test_get_str(f.hub.n, "person", "v1-a", "name", buf, sizeof(buf)));
	assert_null(test_get_str(f.hub.n, "person", "v3-x", "name", buf, sizeof(buf)));
	assert_int_equal(test_vv_seq(f.hub.n, &f.v1.ident.id), 0);
	/* Sent again meanwhile, v1 waits with what is already waiting. */
	assert_int_equal(test_apply1(f.hub.n, &f.v1e.v[0]), HM_APPLY_DUPLICATE);
	assert_int_equal(test_apply1(f.hub.n, &f.v3e.v[0]), HM_APPLY_DUPLICATE);
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_after, HM_APPLY_REFUSED);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_DUPLICATE);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_REFUSED);
	{
		hm_node_info info;
		assert_int_equal(hm_node_info_get(f.hub.n, &info), HM_OK);
		assert_int_equal(info.pending, 0);
	}
	assert_verdict(&f, &f.hub);
	assert_same_digest(f.c.n, f.hub.n);
	fixture_release(&f);
}

/* The revocation first, then the villages, then t1's log: both villages wait (nothing proves
 * either yet), and t1's log up to N releases v1 and refuses v3. */
static void test_villages_wait_for_issuer_log(void **state)
{
	fixture f;
	hm_node_info info;
	(void)state;

	fixture_init(&f, "issuer_wait");
	county_first(&f);
	apply_all(f.hub.n, &f.rev, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_PENDING);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_PENDING);
	assert_int_equal(hm_node_info_get(f.hub.n, &info), HM_OK);
	assert_int_equal(info.pending, 2);
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_after, HM_APPLY_REFUSED);
	assert_int_equal(hm_node_info_get(f.hub.n, &info), HM_OK);
	assert_int_equal(info.pending, 0);
	assert_verdict(&f, &f.hub);
	assert_same_digest(f.c.n, f.hub.n);
	fixture_release(&f);
}

/* The sync handshake (as client and as server both go through hm_node_verify_peer) and a bundle's
 * exporter: v3 is accepted by a hub that has not heard of the revocation, refused once it has;
 * v1 stays accepted. */
static void peer_check(tnode *verifier, tnode *peer, hm_err want)
{
	uint8_t chain[HM_CHAIN_MAX];
	size_t cl;
	hm_hash h;
	hm_signature sig;
	hm_peer p;

	memset(h.b, 0x5c, sizeof(h.b));
	assert_int_equal(hm_node_chain(peer->n, chain, sizeof(chain), &cl), HM_OK);
	assert_int_equal(hm_node_sign(peer->n, &h, &sig), HM_OK);
	assert_int_equal(hm_node_verify_peer(verifier->n, chain, cl, &h, &sig, &p), want);
	if (want != HM_OK) {
		tt_audit a;
		assert_non_null(strstr(hm_node_errmsg(verifier->n), "revoked issuer"));
		/* The refusal is kept: the audit names the peer even if nothing of it is held. */
		tt_audit_run(verifier->n, &a);
		assert_true(a.kind[HM_FINDING_REVOKED_ISSUER] >= 1);
	}
}

static void test_peer_refused(void **state)
{
	fixture f;
	(void)state;

	fixture_init(&f, "issuer_peer");
	peer_check(&f.hub, &f.v3, HM_OK); /* not heard yet */
	peer_check(&f.hub, &f.v1, HM_OK);
	peer_check(&f.c, &f.v3, HM_ERR_CRYPTO);
	peer_check(&f.c, &f.v1, HM_OK); /* the county holds t1's record of enrolling v1 */
	apply_all(f.hub.n, &f.rev, HM_APPLY_NEW);
	peer_check(&f.hub, &f.v3, HM_ERR_CRYPTO);
	peer_check(&f.hub, &f.v1, HM_ERR_CRYPTO); /* nothing proves v1 here yet */
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	peer_check(&f.hub, &f.v1, HM_OK);
	peer_check(&f.hub, &f.v3, HM_ERR_CRYPTO);
	fixture_release(&f);
}

/* The audit names every node whose chain runs through the revoked township. v1 re-enrolls as a new
 * node under a new township key; once the county retires the old v1 (revoked after its last
 * seq, its records standing), only v3 is named. */
static void test_audit_and_reenroll(void **state)
{
	fixture f;
	tnode t1b, v1b;
	test_envs e = {0};
	tt_audit a;
	char buf[32];
	(void)state;

	fixture_init(&f, "issuer_reenroll");
	county_first(&f);
	tt_audit_run(f.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_REVOKED_ISSUER], 3); /* v3's change set, v3, v1 */

	/* A new township machine and key, and the village re-enrolled under it. */
	tnode_init(&t1b, "issuer_reenroll_t1b", HM_ROLE_TOWNSHIP, TT_T1, 0x7b);
	tnode_init(&v1b, "issuer_reenroll_v1b", HM_ROLE_VILLAGE, TT_V1, 0x0b);
	t1b.clock.now_ms = v1b.clock.now_ms = f.c.clock.now_ms;
	tnode_enroll(&f.c, &t1b, 365, true);
	tnode_enroll(&t1b, &v1b, 365, false);
	/* The new village node catches up on the village's records from the county. */
	test_sync(v1b.n, f.c.n);
	assert_string_equal(test_get_str(v1b.n, "person", "v1-a", "name", buf, sizeof(buf)),
	                    "Honest One");
	test_person(v1b.n, "v1-b", "After Re-enrollment", NULL);
	test_envs_collect(t1b.n, NULL, &e);
	apply_all(f.c.n, &e, HM_APPLY_NEW);
	test_envs_release(&e);
	test_envs_last(v1b.n, &v1b.ident.id, &e);
	assert_int_equal(test_apply1(f.c.n, &e.v[0]), HM_APPLY_NEW);
	test_envs_release(&e);
	assert_string_equal(test_get_str(f.c.n, "person", "v1-b", "name", buf, sizeof(buf)),
	                    "After Re-enrollment");
	peer_check(&f.c, &v1b, HM_OK);

	/* Retire the old v1 after its last change set: what it wrote stands. */
	assert_int_equal(hm_node_revoke(f.c.n, &f.v1.ident.id, f.v1e.n, "re-enrolled", NULL),
	                 HM_OK);
	assert_string_equal(test_get_str(f.c.n, "person", "v1-a", "name", buf, sizeof(buf)),
	                    "Honest One");
	tt_audit_run(f.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_REVOKED_ISSUER], 2); /* v3's change set, v3 */
	assert_true(hm_node_id_equal(&a.last_origin[HM_FINDING_REVOKED_ISSUER], &f.v3.ident.id));
	tnode_release(&t1b);
	tnode_release(&v1b);
	fixture_release(&f);
}

/* The county holds v3's certificate (it came in v3's refused seq 1), but seals no new data key
 * to it when it rotates keys; and a certificate list from a hub that took v3 before it heard of
 * the revocation does not teach v3's certificate to a node that has heard. */
static void test_no_keys_or_certs_for_refused(void **state)
{
	fixture f;
	uint8_t *certs = NULL;
	size_t len = 0, learned = 0;
	char region[HM_REGION_MAX + 1], want[2 * HM_NODE_ID_BYTES + 1];
	(void)state;

	fixture_init(&f, "issuer_nokeys");
	county_first(&f);
	assert_int_equal(hm_node_peer_region(f.c.n, &f.v3.ident.id, region), HM_OK);
	/* Rotate the township's keys (revoking the hub): the new epoch (3) goes to v1, not v3. */
	assert_int_equal(hm_node_revoke(f.c.n, &f.hub.ident.id, 0, "rotate", NULL), HM_OK);
	{
		char id[HM_ID_MAX + 1], buf[64];
		hm_node_id_hex(&f.v1.ident.id, want);
		snprintf(id, sizeof(id), "%s:3:%s", TT_T1, want);
		assert_non_null(test_get_str(f.c.n, "_datakey", id, "node", buf, sizeof(buf)));
		hm_node_id_hex(&f.v3.ident.id, want);
		snprintf(id, sizeof(id), "%s:3:%s", TT_T1, want);
		assert_null(test_get_str(f.c.n, "_datakey", id, "node", buf, sizeof(buf)));
	}

	/* A hub not told yet honours v3 and lists its certificate; the county, told, learns
	 * nothing of it from that list, nor does a fresh hub that heard of the revocation. */
	apply_all(f.hub.n, &f.t1_before, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.t1_after, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v3e, HM_APPLY_NEW);
	apply_all(f.hub.n, &f.v1e, HM_APPLY_NEW);
	assert_int_equal(hm_node_certs_export(f.hub.n, &certs, &len, 1u << 20), HM_OK);
	assert_non_null(certs);
	{
		tnode fresh;
		tnode_init(&fresh, "issuer_nokeys_fresh", HM_ROLE_TOWNSHIP, TT_T1, 0x7c);
		fresh.clock.now_ms = f.c.clock.now_ms;
		tnode_enroll(&f.c, &fresh, 365, false);
		apply_all(fresh.n, &f.rev, HM_APPLY_NEW);
		/* Without t1's log up to N nothing proves v1 either: not learnt yet. */
		assert_int_equal(hm_node_certs_learn(fresh.n, certs, len, &learned), HM_OK);
		assert_int_equal(hm_node_peer_region(fresh.n, &f.v1.ident.id, region),
		                 HM_ERR_NOT_FOUND);
		apply_all(fresh.n, &f.t1_before, HM_APPLY_NEW);
		assert_int_equal(hm_node_certs_learn(fresh.n, certs, len, &learned), HM_OK);
		assert_true(learned >= 1);
		assert_int_equal(hm_node_peer_region(fresh.n, &f.v1.ident.id, region), HM_OK);
		assert_int_equal(hm_node_peer_region(fresh.n, &f.v3.ident.id, region),
		                 HM_ERR_NOT_FOUND);
		tnode_release(&fresh);
	}
	free(certs);
	fixture_release(&f);
}

/* Only the township's own `_issued` records are taken from it: a township may not write the
 * county's system collections, and a village writes none. */
static void test_issued_only_from_township(void **state)
{
	tt_mesh m;
	msgpack_sbuffer env;
	tt_body body;
	(void)state;

	tt_mesh_init(&m, "issuer_sys");
	tt_body_init(&body, 1);
	tt_body_put(&body, "_setting", "x", 2, "value", "1", "region", TT_T1);
	tt_craft_next(&m.t1, &body, &env);
	{
		hm_bytes b = tt_bytes(&env);
		tt_assert_refused_why(m.c.n, &b, "only the county");
	}
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);
	tt_body_init(&body, 1);
	tt_body_put(&body, "_issued", "x", 3, "node", "00", "cert", "00", "region", TT_V1);
	tt_craft_next(&m.v1, &body, &env);
	{
		hm_bytes b = tt_bytes(&env);
		tt_assert_refused_why(m.c.n, &b, "only the county");
	}
	msgpack_sbuffer_destroy(&env);
	tt_body_release(&body);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revocation_first),
	    cmocka_unit_test(test_revocation_last),
	    cmocka_unit_test(test_village_before_issuer_log),
	    cmocka_unit_test(test_villages_wait_for_issuer_log),
	    cmocka_unit_test(test_peer_refused),
	    cmocka_unit_test(test_audit_and_reenroll),
	    cmocka_unit_test(test_no_keys_or_certs_for_refused),
	    cmocka_unit_test(test_issued_only_from_township),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/issuer", tests, NULL, NULL);
}
