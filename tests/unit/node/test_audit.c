/* test_audit.c - the county's audit. A mesh where every node wrote and everyone holds
 * everything audits clean on every node: zero findings. Then the county is fed one of each
 * fault, and each shows as its own finding kind: a tampered change set (bad signature), a write
 * outside the origin's region, an equivocation (fork), a change set after a revocation, bytes
 * that are no change set at all (refused), a seq beyond a gap, a clock from the future. The
 * county keeps its audits (hm_node_audit_keep): after each step, what it says is what an audit
 * without it says, also when a change set is altered in place under it. */
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

static int say_finding(void *ctx, const hm_audit_finding *f)
{
	char o[2 * HM_NODE_ID_BYTES + 1], id[2 * HM_HASH_BYTES + 1];
	hm_node_id_hex(&f->origin, o);
	hm_hex_encode(id, f->id.b, HM_HASH_BYTES);
	fprintf(ctx, "finding %d %s %llu %s %s\n", (int)f->kind, o, (unsigned long long)f->seq, id,
	        f->reason ? f->reason : "");
	return 0;
}

static int say_origin(void *ctx, const hm_audit_origin *a)
{
	char o[2 * HM_NODE_ID_BYTES + 1];
	hm_node_id_hex(&a->origin, o);
	fprintf(ctx, "origin %s %llu %llu %d %s %d %llu %zu\n", o, (unsigned long long)a->seq,
	        (unsigned long long)a->pending_from, a->has_cert, a->region, a->revoked,
	        (unsigned long long)a->revoked_after, a->findings);
	return 0;
}

/* Everything an audit of n says, in its order. */
static char *audit_said(hm_node *n)
{
	char *text = NULL;
	size_t len = 0, nf = 0;
	FILE *f = open_memstream(&text, &len);
	hm_audit_cb cb = {say_origin, say_finding, f};

	assert_non_null(f);
	assert_int_equal(hm_node_audit(n, &cb, &nf), HM_OK);
	fprintf(f, "findings %zu\n", nf);
	fclose(f);
	return text;
}

/* The audit with what it kept (hm_node_audit_keep) says what one without it says, twice. */
static void kept_says_the_same(hm_node *n, const char *after)
{
	struct hm_audit_memo *kept = n->audit_memo;
	char *with, *without, *again;

	assert_non_null(kept);
	with = audit_said(n);
	n->audit_memo = NULL;
	without = audit_said(n);
	n->audit_memo = kept;
	again = audit_said(n);
	if (strcmp(with, without) != 0 || strcmp(again, without) != 0) {
		fprintf(stderr,
		        "after %s: the kept audit differs:\nwithout:\n%s\nkept:\n%s\nagain:\n%s",
		        after, without, with, again);
		fail();
	}
	free(with), free(without), free(again);
}

/* Flip the last byte of the oplog's change set at key, under n's running process. */
static void flip_last_byte(hm_node *n, const uint8_t key[HM_OPKEY_BYTES])
{
	MDB_txn *txn;
	MDB_val k = {HM_OPKEY_BYTES, (void *)key}, v;
	uint8_t *copy;

	assert_int_equal(mdb_txn_begin(n->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_get(txn, n->dbi[HM_DB_OPLOG], &k, &v), 0);
	assert_non_null(copy = malloc(v.mv_size));
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - 1] ^= 1;
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, n->dbi[HM_DB_OPLOG], &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	free(copy);
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
	assert_int_equal(hm_node_audit_keep(m.c.n), HM_OK); /* each audit below checked against one
	                                                     * made without it */
	kept_says_the_same(m.c.n, "nothing written");
	test_person(m.v1.n, "v1-p1", "Li Wei", NULL);
	test_person(m.v2.n, "v2-p1", "Zhao Lei", NULL);
	assert_int_equal(test_set_str(m.t1.n, "stock", "t1-masks", "item", "N95", NULL), HM_OK);
	assert_int_equal(test_set_str(m.c.n, "stock", "c-masks", "item", "N95", NULL), HM_OK);
	sync_all(&m);
	kept_says_the_same(m.c.n, "a mesh in sync");
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
	kept_says_the_same(m.c.n, "a bad signature");
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
	kept_says_the_same(m.c.n, "out of scope and refused");
	b = tt_bytes(&env2);
	assert_int_equal(test_apply1(m.c.n, &b), HM_APPLY_FORK);
	kept_says_the_same(m.c.n, "a new change set and a fork");
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
	kept_says_the_same(m.c.n, "a gap");
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
	kept_says_the_same(m.c.n, "a revocation");
	{ /* kept too long: made again whole, the same */
		m.c.n->audit_memo->made -= HM_AUDIT_KEEP_SECONDS;
		kept_says_the_same(m.c.n, "ten minutes");
	}
	{ /* the last change set of an origin altered in place, under the running process: the
	   * kept audit sees it as a fresh one does (its bytes are compared) */
		hm_vv heads = {0};
		uint8_t key[HM_OPKEY_BYTES];
		const hm_vv_entry *last = NULL;
		assert_int_equal(hm_node_version_vector(m.c.n, &heads), HM_OK);
		for (size_t i = 0; i < heads.n; i++)
			if (hm_node_id_equal(&heads.v[i].origin, &m.t1.ident.id))
				last = &heads.v[i];
		assert_non_null(last);
		hm_opkey(key, &last->origin, last->seq);
		hm_vv_release(&heads);
		flip_last_byte(m.c.n, key); /* a signature byte */
		kept_says_the_same(m.c.n, "a change set altered in place");
		tt_audit_run(m.c.n, &a);
		assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 2);
		flip_last_byte(m.c.n, key); /* put back as it was, for the figures below */
		kept_says_the_same(m.c.n, "the change set put back");
	}

	tt_audit_run(m.c.n, &a);
	assert_int_equal(a.kind[HM_FINDING_BAD_SIGNATURE], 1);
	assert_int_equal(a.kind[HM_FINDING_OUT_OF_SCOPE], 1);
	assert_int_equal(a.kind[HM_FINDING_REFUSED], 1);
	assert_int_equal(a.kind[HM_FINDING_FORK], 2); /* both versions of v2's seq 2 */
	assert_int_equal(a.kind[HM_FINDING_GAP], 1);
	assert_int_equal(a.kind[HM_FINDING_CLOCK], 1);
	assert_int_equal(a.kind[HM_FINDING_AFTER_REVOCATION], 1);
	assert_int_equal(a.total, 8);
	/* v2 revoked after its seq 1 while its seq 2 is held: the kept audit of v2 is not used */
	assert_int_equal(hm_node_revoke(m.c.n, &m.v2.ident.id, 1, "audit", NULL), HM_OK);
	kept_says_the_same(m.c.n, "a revocation of an origin already audited");
	{ /* a revocation of t1 recorded under the running process, its change sets left held (a
	   * store altered by hand): each is found held after it, kept or not */
		MDB_txn *txn;
		uint8_t after[8 + 5] = {0, 0, 0, 0, 0, 0, 0, 0, 'h', 'a', 'n', 'd', 0};
		MDB_val k = {HM_NODE_ID_BYTES, m.t1.ident.id.b}, v = {sizeof(after), after};
		assert_int_equal(mdb_txn_begin(m.c.n->env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_put(txn, m.c.n->dbi[HM_DB_REVOKED], &k, &v, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		kept_says_the_same(m.c.n, "a revocation recorded by hand");
		tt_audit_run(m.c.n, &a);
		assert_true(a.kind[HM_FINDING_AFTER_REVOCATION] >= 2);
		assert_int_equal(mdb_txn_begin(m.c.n->env, NULL, 0, &txn), 0); /* taken back */
		assert_int_equal(mdb_del(txn, m.c.n->dbi[HM_DB_REVOKED], &k, NULL), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		kept_says_the_same(m.c.n, "the revocation by hand taken back");
	}
	assert_int_equal(hm_node_check(m.c.n), HM_OK);
	tt_mesh_release(&m);
}

/* A node without keys whose first change set no longer decodes: the finding names no origin
 * (none is certified), and the kept audit says it so again; a callback that stops at the first
 * finding leaves a count of every finding kept (what was looked at). */
static void test_audit_kept_undecodable(void **state)
{
	test_node t;
	uint8_t key[HM_OPKEY_BYTES];
	MDB_txn *txn;
	MDB_val k = {HM_OPKEY_BYTES, key}, v = {4, "junk"};
	char *fresh, *kept;
	(void)state;

	test_node_init(&t, "audit_junk", 0, NULL);
	test_person(t.n, "p1", "Li Wei", NULL);
	test_person(t.n, "p2", "Wang Fang", NULL);
	{ /* the node's one origin */
		hm_vv heads = {0};
		assert_int_equal(hm_node_version_vector(t.n, &heads), HM_OK);
		assert_int_equal(heads.n, 1);
		hm_opkey(key, &heads.v[0].origin, 1);
		hm_vv_release(&heads);
	}
	assert_int_equal(mdb_txn_begin(t.n->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, t.n->dbi[HM_DB_OPLOG], &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	fresh = audit_said(t.n);
	assert_non_null(strstr(fresh, "finding 7 00000000000000000000000000000000 1 "));
	assert_int_equal(hm_node_audit_keep(t.n), HM_OK);
	free(audit_said(t.n));  /* kept */
	kept = audit_said(t.n); /* said again from what was kept */
	assert_string_equal(kept, fresh);
	free(fresh), free(kept);
	test_node_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_audit_clean_then_each_kind),
	    cmocka_unit_test(test_audit_kept_undecodable),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/audit", tests, NULL, NULL);
}
