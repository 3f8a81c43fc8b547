/* test_converge_trust.c - the convergence property in trust mode: replicas that hold the same
 * change sets hold the same state, whatever the arrival order, when the pool holds forks, a
 * revoked origin that writes on, forgeries and validly signed change sets out of their writer's
 * scope (issue #9 part 3).
 *
 * A county mesh (tt_mesh_init) writes a pool with a fixed-seed xorshift PRNG:
 *   - honest writes by v1, v2 and t1 (t1 also in v1's region, its stream there): creates,
 *     edits and deletes of a few person ids, so one id lives in two villages;
 *   - FORKS: v1 and v2 (a stolen key) each sign two different change sets for one seq, with
 *     successors chained on both branches (the honest node writes on, the thief too); half the
 *     time the thief's first change set never reaches anyone, and only its successors' prev
 *     proves the fork;
 *   - REVOKED: the county revokes v2 after some seq (the revocation travels in the county's log)
 *     and v2 keeps writing;
 *   - OUT-OF-SCOPE: v1 signs change sets for seqs its honest log also holds, one with an op on
 *     a record of v2's region and one with v2's region in its header;
 *   - FORGERIES: change sets claiming v1's and t1's next seqs, signed with keys not theirs.
 * Four township replicas enrolled by the county get the whole pool, each in other random orders,
 * in random batches with duplicates: replica 0 once (as a hub hears each change set once), the
 * others again and again, 30 orders in all, and now and then one syncs another's oplog; one
 * replica's clock lags beyond the drift for a while (quarantine, then release). At the
 * end every replica has the same digest and version vector, passes hm_node_check, holds nothing
 * pending, and each forked origin holds exactly its seqs below the fork (v2 none beyond its
 * revocation either). A fifth replica, given only what the others should keep (every honest
 * change set below those bounds, no fork, no forgery), has the same digest: freezing withdrew
 * exactly the right change sets.
 *
 * Then the arrival orders found while writing it, each pinned by a test of its own (the commits
 * that fixed node/apply.c and node/trust.c for them name each).
 *
 * HAMLET_SEED overrides the seed, which is printed so a failure can be replayed. */
#include "trust_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NREP         4
#define SEED_DEFAULT 0x7e57c0de2026f0cbull
#define NSTEPS       70 /* honest writes */
#define NIDS         5
#define MAX_BATCH    16

static const unsigned perms_of[NREP] = {1, 3, 8, 18}; /* 30 orders in all */

typedef struct world {
	tt_mesh m;
	tnode rep[NREP + 1]; /* rep[NREP]: the reference, given only what should stay */
	uint64_t now;
	test_envs crafted;    /* forks and forgeries: never in an honest node's log */
	uint64_t fork_v1;     /* the first seq v1 signed twice (0: not yet) */
	uint64_t fork_v2;     /* the same of v2 */
	uint64_t revoked_n;   /* v2 revoked after this seq (0: not yet) */
	hm_identity stranger; /* a key no certificate names */
	size_t honest_writes, deletes, withheld, relays, released;
} world;

static tnode *world_node(world *w, unsigned i)
{
	tnode *mesh[] = {&w->m.c, &w->m.t1, &w->m.v1, &w->m.v2};
	return i < 4 ? mesh[i] : &w->rep[i - 4];
}

/* Every node's clock at now: nothing is beyond anyone's drift. */
static void clocks_tick(world *w)
{
	w->now += 1000 + test_rng_below(60000);
	for (unsigned i = 0; i < 4 + NREP + 1; i++)
		world_node(w, i)->clock.now_ms = w->now;
}

static uint64_t own_head(tnode *t)
{
	hm_node_info info;

	assert_int_equal(hm_node_info_get(t->n, &info), HM_OK);
	return info.seq;
}

static bool is_live(hm_node *n, const char *id, const char *region)
{
	hm_record *r = NULL;
	hm_err err = hm_node_get_at(n, "person", id, region, &r);

	assert_true(err == HM_OK || err == HM_ERR_NOT_FOUND);
	hm_record_free(r);
	return err == HM_OK;
}

/* One honest write by t: create, edit or delete a person of its region (t1: its own or v1's). */
static void honest_write(world *w, tnode *t)
{
	const char *region = t == &w->m.t1 && test_rng_below(3) == 0 ? TT_V1 : t->region;
	static const char *const fields[] = {"name", "status", "phone"};
	char id[16], val[16];
	hm_write *wr;
	hm_value v;
	hm_err err;

	snprintf(id, sizeof(id), "p%u", test_rng_below(NIDS));
	assert_int_equal(hm_write_begin(t->n, &wr), HM_OK);
	if (is_live(t->n, id, region) && test_rng_below(100) < 25) {
		assert_int_equal(hm_write_del_at(wr, "person", id, region), HM_OK);
		w->deletes++;
	} else {
		const char *field = fields[test_rng_below(3)];
		if (!is_live(t->n, id, region))
			field = "name";
		snprintf(val, sizeof(val), "%s%u", field, test_rng_below(4));
		v = test_str(val);
		assert_int_equal(hm_write_set(wr, "person", id, field, &v), HM_OK);
		v = test_str(region);
		assert_int_equal(hm_write_set(wr, "person", id, "village", &v), HM_OK);
	}
	if ((err = hm_write_commit(wr, NULL)))
		fail_msg("%s: an honest write failed: %s (%s)", t->region, hm_strerror(err),
		         hm_node_errmsg(t->n));
	w->honest_writes++;
}

/* One put of a person in region by author, sealed with the author's key and signed by it, for
 * the seq after *h (h->seq 0: after the author's head, as tt_header_next makes it); *h is then
 * the header written, for a successor. */
static void craft(test_envs *into, tnode *author, hm_header *h, const char *header_region,
                  const char *id, const char *record_region, const char *status)
{
	uint8_t chain[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	msgpack_sbuffer out;
	tt_body body;

	if (h->seq == 0) {
		tt_header_next(author, h, chain, sizeof(chain));
	} else {
		h->seq++;
		h->hlc++;
		h->certs.n = 0;
	}
	h->key_scope[0] = 0; /* sealed anew, under the key of its region's scope */
	snprintf(h->region, sizeof(h->region), "%s",
	         header_region ? header_region : author->region);
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", id, 3, "name", "Planted", "status", status, "village",
	            record_region);
	tt_seal_sign(author, h, &body, NULL, &author->ident, &out);
	test_envs_push(into, out.data, out.size);
	hm_hash_buf(out.data, out.size, &h->prev);
	msgpack_sbuffer_destroy(&out);
	tt_body_release(&body);
}

/* The thief's branch: a second version of author's next seq and nsucc successors chained on
 * it; half the time its first change set never reaches the replicas, and only the successors'
 * prev proves the fork. The honest node then writes its own version of that seq and one
 * successor. */
static uint64_t fork_origin(world *w, tnode *author, unsigned nsucc)
{
	test_envs branch = {0};
	hm_header h = {0};
	char id[16];
	uint64_t at;
	bool withhold;

	snprintf(id, sizeof(id), "p%u", test_rng_below(NIDS));
	craft(&branch, author, &h, NULL, id, author->region, "thief");
	at = h.seq;
	for (unsigned i = 0; i < nsucc; i++) {
		snprintf(id, sizeof(id), "p%u", test_rng_below(NIDS));
		craft(&branch, author, &h, NULL, id, author->region, "thief");
	}
	withhold = test_rng_below(2);
	for (size_t i = withhold ? 1 : 0; i < branch.n; i++)
		test_envs_push(&w->crafted, branch.v[i].p, branch.v[i].n);
	w->withheld += withhold;
	test_envs_release(&branch);
	honest_write(w, author);
	honest_write(w, author);
	return at;
}

/* A change set claiming to be author's next, signed with signer's key (not author's): anyone
 * can make one. */
static void forge_next(tnode *author, const hm_identity *signer, test_envs *into)
{
	uint8_t chain[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	msgpack_sbuffer out;
	tt_body body;
	hm_header h;

	tt_header_next(author, &h, chain, sizeof(chain));
	tt_body_init(&body, 1);
	tt_body_put(&body, "person", "p0", 2, "name", "Forged", "village", author->region);
	tt_seal_sign(author, &h, &body, NULL, signer, &out);
	test_envs_push(into, out.data, out.size);
	msgpack_sbuffer_destroy(&out);
	tt_body_release(&body);
}

/* v1 signs, for the seq its next honest write takes, a change set that reaches into v2: by an
 * op on a record of v2's region, or by v2's region in its header. Each is then a second signed
 * version of a seq v1 also writes honestly. */
static void out_of_scope(world *w, bool header)
{
	hm_header h = {0};
	char id[16];

	snprintf(id, sizeof(id), "p%u", test_rng_below(NIDS));
	craft(&w->crafted, &w->m.v1, &h, header ? TT_V2 : NULL, id, TT_V2, "planted");
	honest_write(w, &w->m.v1);
}

static void revoke_v2(world *w)
{
	uint64_t head = own_head(&w->m.v2);
	hm_changeset_info info;

	/* Some of what v2 already wrote lies beyond: replicas that applied it withdraw it. */
	w->revoked_n = head > 2 ? head - test_rng_below(3) : head;
	assert_int_equal(
	    hm_node_revoke(w->m.c.n, &w->m.v2.ident.id, w->revoked_n, "key stolen", &info), HM_OK);
}

static void build_pool(world *w)
{
	unsigned fork1_at = 15 + test_rng_below(30), fork2_at = 15 + test_rng_below(40);
	unsigned revoke_at = 15 + test_rng_below(40), oos_at = 5 + test_rng_below(10);
	unsigned forge1_at = test_rng_below(NSTEPS), forge2_at = test_rng_below(NSTEPS);

	honest_write(w, &w->m.v1);
	honest_write(w, &w->m.v2);
	honest_write(w, &w->m.t1);
	for (unsigned step = 0; step < NSTEPS; step++) {
		unsigned who = test_rng_below(3);
		clocks_tick(w);
		honest_write(w, who == 0 ? &w->m.v1 : who == 1 ? &w->m.v2 : &w->m.t1);
		if (step == oos_at) {
			out_of_scope(w, false);
			out_of_scope(w, true);
		}
		if (step == fork1_at)
			w->fork_v1 = fork_origin(w, &w->m.v1, 1 + test_rng_below(3));
		if (step == fork2_at)
			w->fork_v2 = fork_origin(w, &w->m.v2, 1 + test_rng_below(3));
		if (step == revoke_at)
			revoke_v2(w);
		/* Forgeries of v1's and t1's next seqs (which they mostly write themselves later).
		 */
		if (step == forge1_at)
			forge_next(&w->m.v1, &w->stranger, &w->crafted);
		if (step == forge2_at)
			forge_next(&w->m.t1, &w->m.v2.ident, &w->crafted);
	}
	print_message("converge_trust: %zu honest writes (%zu deletes), %zu crafted; v1 forked at "
	              "seq %" PRIu64 " of %" PRIu64 ", v2 forked at %" PRIu64 " of %" PRIu64
	              ", revoked after %" PRIu64 "; %zu thief's first change sets withheld\n",
	              w->honest_writes, w->deletes, w->crafted.n, w->fork_v1, own_head(&w->m.v1),
	              w->fork_v2, own_head(&w->m.v2), w->revoked_n, w->withheld);
}

/* ---- delivery ---- */

static void shuffle(hm_bytes *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = test_rng_below((unsigned)i);
		hm_bytes b = v[i - 1];
		v[i - 1] = v[j], v[j] = b;
	}
}

/* The whole pool to r in one random order, an eighth of it twice, in batches of 1..MAX_BATCH. */
static size_t deliver_all(hm_node *r, const test_envs *pool)
{
	size_t extra = pool->n / 8 + 1, n = pool->n + extra;
	hm_bytes *order = malloc(n * sizeof(*order));

	assert_non_null(order);
	memcpy(order, pool->v, pool->n * sizeof(*order));
	for (size_t i = 0; i < extra; i++)
		order[pool->n + i] = pool->v[test_rng_below((unsigned)pool->n)];
	shuffle(order, n);
	for (size_t i = 0; i < n;) {
		size_t k = 1 + test_rng_below(MAX_BATCH);
		hm_apply_stats st = {0};
		if (k > n - i)
			k = n - i;
		if (hm_node_apply(r, order + i, k, &st, NULL))
			fail_msg("apply: %s", hm_node_errmsg(r));
		i += k;
	}
	free(order);
	return n;
}

/* As a hub relays in a sync: everything from's oplog holds beyond what to holds, in order. */
static void relay(world *w, hm_node *to, hm_node *from)
{
	test_envs e = {0};
	hm_apply_stats st = {0};
	hm_vv vv;

	assert_int_equal(hm_node_version_vector(to, &vv), HM_OK);
	test_envs_collect(from, &vv, &e);
	hm_vv_release(&vv);
	if (e.n && hm_node_apply(to, e.v, e.n, &st, NULL))
		fail_msg("relay: %s", hm_node_errmsg(to));
	w->relays += e.n;
	test_envs_release(&e);
}

/* Replicas from..to-1 with their clocks right, their quarantine released. */
static void release_all(world *w, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		hm_apply_stats st = {0};
		w->rep[i].clock.now_ms = w->now;
		assert_int_equal(hm_node_release_quarantine(w->rep[i].n, &st), HM_OK);
		w->released += st.new_ + st.duplicate + st.refused + st.forks;
	}
}

/* What the replicas should keep: every honest change set but v1's from its fork on and v2's
 * from its fork or beyond its revocation. */
static void expected_pool(world *w, const test_envs *honest, test_envs *out)
{
	uint64_t v2_keep = w->fork_v2 - 1 < w->revoked_n ? w->fork_v2 - 1 : w->revoked_n;

	for (size_t i = 0; i < honest->n; i++) {
		hm_changeset_view cs;
		assert_int_equal(hm_envelope_peek(honest->v[i].p, honest->v[i].n, &cs), HM_OK);
		if (hm_node_id_equal(&cs.origin, &w->m.v1.ident.id) && cs.seq >= w->fork_v1)
			continue;
		if (hm_node_id_equal(&cs.origin, &w->m.v2.ident.id) && cs.seq > v2_keep)
			continue;
		test_envs_push(out, honest->v[i].p, honest->v[i].n);
	}
}

/* ---- the checks ---- */

static void assert_same_vv(hm_node *a, hm_node *b, unsigned which)
{
	hm_vv va, vb;

	assert_int_equal(hm_node_version_vector(a, &va), HM_OK);
	assert_int_equal(hm_node_version_vector(b, &vb), HM_OK);
	if (va.n != vb.n)
		fail_msg("replica %u's version vector has %zu origins, replica 0's %zu", which,
		         vb.n, va.n);
	for (size_t i = 0; i < va.n; i++) {
		char hex[2 * HM_NODE_ID_BYTES + 1];
		hm_node_id_hex(&va.v[i].origin, hex);
		if (!hm_node_id_equal(&va.v[i].origin, &vb.v[i].origin) ||
		    va.v[i].seq != vb.v[i].seq || !hm_hash_equal(&va.v[i].hash, &vb.v[i].hash))
			fail_msg("replica %u's version vector differs from replica 0's at origin "
			         "%.12s (seq %" PRIu64 " against %" PRIu64 ")",
			         which, hex, vb.v[i].seq, va.v[i].seq);
	}
	hm_vv_release(&va);
	hm_vv_release(&vb);
}

/* Every replica equal to replica 0 (digest, version vector, consistent store), the reference
 * too; then what each holds of the forked and revoked origins, and nothing left waiting. */
static void check_converged(world *w)
{
	uint64_t v2_keep = w->fork_v2 - 1 < w->revoked_n ? w->fork_v2 - 1 : w->revoked_n;
	hm_hash d0;

	assert_int_equal(hm_node_digest(w->rep[0].n, NULL, &d0), HM_OK);
	for (unsigned i = 0; i <= NREP; i++) {
		hm_node *n = w->rep[i].n;
		hm_hash d;
		if (hm_node_check(n))
			fail_msg("replica %u: hm_node_check: %s", i, hm_node_errmsg(n));
		assert_int_equal(hm_node_digest(n, NULL, &d), HM_OK);
		if (!hm_hash_equal(&d, &d0))
			fail_msg("%s %u's digest differs from replica 0's",
			         i == NREP ? "the reference" : "replica", i);
		assert_same_vv(w->rep[0].n, n, i);
	}
	for (unsigned i = 0; i <= NREP; i++) {
		hm_node *n = w->rep[i].n;
		hm_node_info info;
		if (test_vv_seq(n, &w->m.v1.ident.id) != w->fork_v1 - 1)
			fail_msg("replica %u holds v1 up to seq %" PRIu64 ", not %" PRIu64
			         " (it forked at %" PRIu64 ")",
			         i, test_vv_seq(n, &w->m.v1.ident.id), w->fork_v1 - 1, w->fork_v1);
		if (test_vv_seq(n, &w->m.v2.ident.id) != v2_keep)
			fail_msg("replica %u holds v2 up to seq %" PRIu64 ", not %" PRIu64
			         " (it forked at %" PRIu64 ", was revoked after %" PRIu64 ")",
			         i, test_vv_seq(n, &w->m.v2.ident.id), v2_keep, w->fork_v2,
			         w->revoked_n);
		assert_int_equal(hm_node_info_get(n, &info), HM_OK);
		if (info.pending || info.quarantined)
			fail_msg("replica %u: %zu pending, %zu quarantined", i, info.pending,
			         info.quarantined);
		if (i < NREP && (info.forks == 0 || info.refused == 0))
			fail_msg("replica %u saw %zu forks and refused %zu: the pool lost its "
			         "attacks",
			         i, info.forks, info.refused);
	}
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void test_converge_trust(void **state)
{
	static world w;
	uint64_t seed = env_u64("HAMLET_SEED", SEED_DEFAULT);
	test_envs honest = {0}, pool = {0}, keep = {0};
	size_t deliveries = 0, orders = 0;
	struct timespec t0, t1;
	(void)state;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	print_message("converge_trust: seed 0x%016" PRIx64 " (HAMLET_SEED)\n", seed);
	test_rng_state = seed ? seed : 1;
	memset(&w, 0, sizeof(w));
	w.now = TEST_T0_MS;
	tt_mesh_init(&w.m, "ctrust");
	tt_identity(&w.stranger, 0xee);
	/* Enrolled before the revocation: entitled to the keys it rotates. */
	for (unsigned i = 0; i <= NREP; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ctrust_r%u", i);
		tnode_init(&w.rep[i], name, HM_ROLE_TOWNSHIP, TT_T1, (uint8_t)(0x90 + i));
		tnode_enroll(&w.m.c, &w.rep[i], 365, false);
	}
	build_pool(&w);
	assert_true(w.fork_v1 > 1 && w.fork_v2 > 1 && w.revoked_n > 0);

	/* The honest logs (the county's holds its revocation), then the crafted change sets. */
	test_envs_collect(w.m.c.n, NULL, &honest);
	test_envs_collect(w.m.t1.n, NULL, &honest);
	test_envs_collect(w.m.v1.n, NULL, &honest);
	test_envs_collect(w.m.v2.n, NULL, &honest);
	for (size_t i = 0; i < honest.n; i++)
		test_envs_push(&pool, honest.v[i].p, honest.v[i].n);
	for (size_t i = 0; i < w.crafted.n; i++)
		test_envs_push(&pool, w.crafted.v[i].p, w.crafted.v[i].n);

	/* Interleaved: each order goes to a replica that still has orders to hear. The last
	 * replica's clock lags by more than the drift for its first half: what it hears of the
	 * pool's last half hour waits in quarantine until its clock catches up. */
	w.rep[NREP - 1].clock.now_ms = w.now - TT_DAY_MS - TT_HOUR_MS / 2;
	{
		unsigned left[NREP], total = 0;
		for (unsigned i = 0; i < NREP; i++)
			total += left[i] = perms_of[i];
		while (total) {
			unsigned r;
			do
				r = test_rng_below(NREP);
			while (!left[r]);
			deliveries += deliver_all(w.rep[r].n, &pool);
			left[r]--, total--, orders++;
			if (r == NREP - 1 && left[r] == perms_of[r] / 2)
				release_all(&w, NREP - 1, NREP);
			/* Now and then another replica syncs from this one. */
			if (test_rng_below(2)) {
				unsigned to = test_rng_below(NREP);
				if (to != r)
					relay(&w, w.rep[to].n, w.rep[r].n);
			}
		}
	}
	release_all(&w, 0, NREP);
	expected_pool(&w, &honest, &keep);
	{
		hm_apply_stats st = {0};
		assert_int_equal(hm_node_apply(w.rep[NREP].n, keep.v, keep.n, &st, NULL), HM_OK);
		assert_int_equal(st.refused + st.forks + st.quarantined + st.pending, 0);
	}
	check_converged(&w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("converge_trust: pool of %zu change sets (%zu kept), %zu deliveries in %zu "
	              "orders, %zu relayed between replicas, %zu released from quarantine; "
	              "%.1f s\n",
	              pool.n, keep.n, deliveries, orders, w.relays, w.released,
	              (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);

	for (unsigned i = 0; i <= NREP; i++)
		tnode_release(&w.rep[i]);
	tt_mesh_release(&w.m);
	hm_identity_release(&w.stranger);
	test_envs_release(&honest);
	test_envs_release(&pool);
	test_envs_release(&keep);
	test_envs_release(&w.crafted);
}

/* ---- arrival orders the property test found, pinned ---- */

/* Two receivers enrolled by the county (a hub and its county, say), in a mesh of prefix. */
typedef struct pair {
	tt_mesh m;
	tnode x, y;
} pair;

static void pair_init(pair *p, const char *prefix)
{
	char name[64];

	tt_mesh_init(&p->m, prefix);
	snprintf(name, sizeof(name), "%s_x", prefix);
	tnode_init(&p->x, name, HM_ROLE_TOWNSHIP, TT_T1, 0xa1);
	snprintf(name, sizeof(name), "%s_y", prefix);
	tnode_init(&p->y, name, HM_ROLE_TOWNSHIP, TT_T1, 0xa2);
	tnode_enroll(&p->m.c, &p->x, 365, false);
	tnode_enroll(&p->m.c, &p->y, 365, false);
}

static void pair_release(pair *p)
{
	tnode_release(&p->x);
	tnode_release(&p->y);
	tt_mesh_release(&p->m);
}

/* Apply envs[order[0]], envs[order[1]], ... one at a time (order ends at -1). */
static void apply_order(hm_node *n, const test_envs *e, const int *order)
{
	for (; *order >= 0; order++)
		(void)test_apply1(n, &e->v[*order]);
}

static void assert_pair_same(pair *p, const hm_node_id *origin, uint64_t want)
{
	hm_hash dx, dy;

	assert_int_equal(hm_node_check(p->x.n), HM_OK);
	assert_int_equal(hm_node_check(p->y.n), HM_OK);
	if (test_vv_seq(p->x.n, origin) != want || test_vv_seq(p->y.n, origin) != want)
		fail_msg("the origin is held up to seq %" PRIu64 " by one and %" PRIu64
		         " by the other, not %" PRIu64,
		         test_vv_seq(p->x.n, origin), test_vv_seq(p->y.n, origin), want);
	assert_int_equal(hm_node_digest(p->x.n, NULL, &dx), HM_OK);
	assert_int_equal(hm_node_digest(p->y.n, NULL, &dy), HM_OK);
	assert_true(hm_hash_equal(&dx, &dy));
	assert_same_vv(p->x.n, p->y.n, 1);
}

/* v1 signs, for its seq 3, a change set with an op on a record of v2 (refused wherever it is
 * judged) and also writes its honest seq 3. Whichever of the two arrives first, both replicas
 * end the same. e: H1 H2 OOS3 H3 H4. */
static void test_order_refused_version(void **state)
{
	pair p;
	test_envs e = {0};
	hm_header h = {0};
	(void)state;

	pair_init(&p, "ord_oos");
	test_person(p.m.v1.n, "a", "One", NULL);
	test_person(p.m.v1.n, "b", "Two", NULL);
	test_envs_collect(p.m.v1.n, NULL, &e);
	craft(&e, &p.m.v1, &h, NULL, "c", TT_V2, "planted"); /* OOS3 */
	test_person(p.m.v1.n, "c", "Three", NULL);
	test_person(p.m.v1.n, "d", "Four", NULL);
	test_envs_last(p.m.v1.n, &p.m.v1.ident.id, &e); /* H4 */
	{
		test_envs all = {0};
		test_envs_collect(p.m.v1.n, NULL, &all);
		test_envs_push(&e, all.v[2].p, all.v[2].n); /* H3 at 4 */
		test_envs_release(&all);
	}
	{
		static const int x[] = {0, 1, 2, 4, 3, -1}; /* OOS3 first: refused */
		static const int y[] = {0, 1, 4, 3, 2, -1}; /* H3 first */
		apply_order(p.x.n, &e, x);
		apply_order(p.y.n, &e, y);
	}
	assert_pair_same(&p, &p.m.v1.ident.id, 4); /* OOS3 refused, not a fork */
	test_envs_release(&e);
	pair_release(&p);
}

/* A forgery of v1's seq 3 (signed with another key) that arrives before any replica can check
 * it, because v1's certificate comes with its seq 1, waits in pending. v1's real seq 3 must
 * still apply, and must not be taken for a fork. e: H1 H2 J3 H3 H4. */
static void test_order_forgery_pending(void **state)
{
	pair p;
	test_envs e = {0};
	(void)state;

	pair_init(&p, "ord_junk");
	test_person(p.m.v1.n, "a", "One", NULL);
	test_person(p.m.v1.n, "b", "Two", NULL);
	test_envs_collect(p.m.v1.n, NULL, &e);
	forge_next(&p.m.v1, &p.m.v2.ident, &e); /* J3 */
	test_person(p.m.v1.n, "c", "Three", NULL);
	test_envs_last(p.m.v1.n, &p.m.v1.ident.id, &e);
	test_person(p.m.v1.n, "d", "Four", NULL);
	test_envs_last(p.m.v1.n, &p.m.v1.ident.id, &e);
	{
		static const int x[] = {2, 3, 0, 1, 4, -1}; /* J3 and H3 before v1's certificate */
		static const int y[] = {0, 1, 3, 4, 2, -1}; /* in order, the forgery last */
		apply_order(p.x.n, &e, x);
		apply_order(p.y.n, &e, y);
		assert_pair_same(&p, &p.m.v1.ident.id, 4);
	}
	{
		/* J3, then the certificate, then H3 still beyond the gap: not a fork. */
		static const int x[] = {2, 0, 3, 1, 4, -1};
		tnode_release(&p.x);
		tnode_release(&p.y);
		tnode_init(&p.x, "ord_junk_x2", HM_ROLE_TOWNSHIP, TT_T1, 0xa3);
		tnode_init(&p.y, "ord_junk_y2", HM_ROLE_TOWNSHIP, TT_T1, 0xa4);
		tnode_enroll(&p.m.c, &p.x, 365, false);
		tnode_enroll(&p.m.c, &p.y, 365, false);
		apply_order(p.x.n, &e, x);
		apply_order(p.y.n, &e, (const int[]){0, 1, 2, 3, 4, -1});
		assert_pair_same(&p, &p.m.v1.ident.id, 4);
	}
	test_envs_release(&e);
	pair_release(&p);
}

/* The thief signs v1's seq 2 and 3; only its seq 3 reaches the replicas, whose prev proves the
 * fork at 2. One replica holds v1's honest 2 and 3 when it arrives, the other only 2. Both
 * freeze v1 at 2. e: H1 H2 H3 B3. */
static void test_order_fork_proved_by_prev(void **state)
{
	pair p;
	test_envs e = {0}, thief = {0};
	hm_header h = {0};
	(void)state;

	pair_init(&p, "ord_prev");
	test_person(p.m.v1.n, "a", "One", NULL);
	craft(&thief, &p.m.v1, &h, NULL, "b", TT_V1, "thief"); /* B2, withheld */
	craft(&thief, &p.m.v1, &h, NULL, "c", TT_V1, "thief"); /* B3 */
	test_person(p.m.v1.n, "b", "Two", NULL);
	test_person(p.m.v1.n, "c", "Three", NULL);
	test_envs_collect(p.m.v1.n, NULL, &e);
	test_envs_push(&e, thief.v[1].p, thief.v[1].n);
	apply_order(p.x.n, &e, (const int[]){0, 1, 2, 3, -1});
	apply_order(p.y.n, &e, (const int[]){0, 1, 3, 2, -1});
	assert_pair_same(&p, &p.m.v1.ident.id, 1);
	test_envs_release(&e);
	test_envs_release(&thief);
	pair_release(&p);
}

/* The thief signs v1's seq 2, 3 and 4 (B2 withheld). One replica holds H1 H2 H3 when B4 comes:
 * its prev proves a fork at 3, and v1 is frozen there; then B3, at the frozen seq, proves one at
 * 2 by its prev. The other replica gets B3 first. Both freeze v1 at 2. e: H1 H2 H3 B3 B4. */
static void test_order_fork_proved_at_frozen_seq(void **state)
{
	pair p;
	test_envs e = {0}, thief = {0};
	hm_header h = {0};
	(void)state;

	pair_init(&p, "ord_frozen");
	test_person(p.m.v1.n, "a", "One", NULL);
	craft(&thief, &p.m.v1, &h, NULL, "b", TT_V1, "thief"); /* B2, withheld */
	craft(&thief, &p.m.v1, &h, NULL, "c", TT_V1, "thief"); /* B3 */
	craft(&thief, &p.m.v1, &h, NULL, "d", TT_V1, "thief"); /* B4 */
	test_person(p.m.v1.n, "b", "Two", NULL);
	test_person(p.m.v1.n, "c", "Three", NULL);
	test_envs_collect(p.m.v1.n, NULL, &e);
	test_envs_push(&e, thief.v[1].p, thief.v[1].n);
	test_envs_push(&e, thief.v[2].p, thief.v[2].n);
	apply_order(p.x.n, &e, (const int[]){0, 1, 2, 4, 3, -1});
	apply_order(p.y.n, &e, (const int[]){0, 1, 3, 2, 4, -1});
	assert_pair_same(&p, &p.m.v1.ident.id, 1);
	test_envs_release(&e);
	test_envs_release(&thief);
	pair_release(&p);
}

/* The county revokes v2 after its seq 1; v2 wrote 3. A replica that hears of the revocation
 * before v2's certificate (its seq 1) refuses v2's seq 3 then, as it would later: nothing of v2
 * waits in pending for good. The other hears it all in order and withdraws seqs 2 and 3.
 * e: V1 V2 V3 R. */
static void test_order_revoked_before_certificate(void **state)
{
	pair p;
	test_envs e = {0};
	hm_node_info ix, iy;
	(void)state;

	pair_init(&p, "ord_rev");
	test_person(p.m.v2.n, "a", "One", NULL);
	test_person(p.m.v2.n, "b", "Two", NULL);
	test_person(p.m.v2.n, "c", "Three", NULL);
	test_envs_collect(p.m.v2.n, NULL, &e);
	assert_int_equal(hm_node_revoke(p.m.c.n, &p.m.v2.ident.id, 1, "key stolen", NULL), HM_OK);
	test_envs_last(p.m.c.n, &p.m.c.ident.id, &e);
	apply_order(p.x.n, &e, (const int[]){3, 2, 0, 1, -1});
	apply_order(p.y.n, &e, (const int[]){0, 1, 2, 3, -1});
	assert_pair_same(&p, &p.m.v2.ident.id, 1);
	assert_int_equal(hm_node_info_get(p.x.n, &ix), HM_OK);
	assert_int_equal(hm_node_info_get(p.y.n, &iy), HM_OK);
	assert_int_equal(ix.pending, 0);
	assert_int_equal(iy.pending, 0);
	test_envs_release(&e);
	pair_release(&p);
}

/* The thief signs v2's seq 2 (withheld) and 3 (B3, chained on it); v2 writes H1 H2 and the
 * county revokes it after 2 (R). B3 lies beyond the revocation and is never applied, but its
 * prev proves a fork of seq 2, which the revocation vouched for: where B3 is judged before the
 * revocation, v2 freezes at 2. Every order ends there. e: H1 H2 R B3. */
static void test_order_fork_proved_beyond_revocation(void **state)
{
	static const int orders[][5] = {
	    {0, 1, 3, 2, -1}, /* B3 judged with H2 held, then R */
	    {2, 0, 1, 3, -1}, /* R first: B3 judged beyond it */
	    {2, 0, 3, 1, -1}, /* R, then B3 before H2 */
	    {0, 3, 2, 1, -1}, /* B3 waits, R, then H2 */
	    {3, 2, 0, 1, -1}, /* B3 before v2's certificate and R */
	};
	enum { NORDERS = sizeof(orders) / sizeof(orders[0]) };
	pair p;
	tnode r[NORDERS];
	test_envs e = {0}, thief = {0};
	hm_header h = {0};
	hm_hash d0;
	(void)state;

	pair_init(&p, "ord_revfork");
	/* Enrolled before the revocation: they hold the key epoch v2 wrote under. */
	for (size_t i = 0; i < NORDERS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ord_revfork_r%zu", i);
		tnode_init(&r[i], name, HM_ROLE_TOWNSHIP, TT_T1, (uint8_t)(0xb0 + i));
		tnode_enroll(&p.m.c, &r[i], 365, false);
	}
	test_person(p.m.v2.n, "a", "One", NULL);
	craft(&thief, &p.m.v2, &h, NULL, "b", TT_V2, "thief"); /* B2, withheld */
	craft(&thief, &p.m.v2, &h, NULL, "c", TT_V2, "thief"); /* B3 */
	test_person(p.m.v2.n, "b", "Two", NULL);
	test_envs_collect(p.m.v2.n, NULL, &e);
	assert_int_equal(hm_node_revoke(p.m.c.n, &p.m.v2.ident.id, 2, "key stolen", NULL), HM_OK);
	test_envs_last(p.m.c.n, &p.m.c.ident.id, &e);
	test_envs_push(&e, thief.v[1].p, thief.v[1].n);
	for (size_t i = 0; i < NORDERS; i++) {
		hm_hash d;
		hm_node_info info;
		apply_order(r[i].n, &e, orders[i]);
		assert_int_equal(hm_node_check(r[i].n), HM_OK);
		if (test_vv_seq(r[i].n, &p.m.v2.ident.id) != 1)
			fail_msg("order %zu holds v2 up to seq %" PRIu64 ", not 1", i,
			         test_vv_seq(r[i].n, &p.m.v2.ident.id));
		assert_int_equal(hm_node_info_get(r[i].n, &info), HM_OK);
		assert_int_equal(info.pending, 0);
		assert_int_equal(hm_node_digest(r[i].n, NULL, &d), HM_OK);
		if (i == 0)
			d0 = d;
		assert_true(hm_hash_equal(&d, &d0));
	}
	for (size_t i = 0; i < NORDERS; i++)
		tnode_release(&r[i]);
	test_envs_release(&e);
	test_envs_release(&thief);
	pair_release(&p);
}

/* v1's clock runs three days ahead when it signs OOS3 (an op on a record of v2) and its honest
 * H3. A replica whose clock is behind quarantines both and releases them when its clock catches
 * up; one whose clock was right applies H3 and refuses OOS3. Both hold v1 up to 3.
 * e: H1 H2 OOS3 H3. */
static void test_order_quarantined_versions(void **state)
{
	pair p;
	test_envs e = {0};
	hm_header h = {0};
	hm_apply_stats st = {0};
	hm_node_info info;
	(void)state;

	pair_init(&p, "ord_quar");
	test_person(p.m.v1.n, "a", "One", NULL);
	test_person(p.m.v1.n, "b", "Two", NULL);
	test_envs_collect(p.m.v1.n, NULL, &e);
	p.m.v1.clock.now_ms += 3 * TT_DAY_MS;
	craft(&e, &p.m.v1, &h, NULL, "c", TT_V2, "planted"); /* OOS3 */
	test_person(p.m.v1.n, "c", "Three", NULL);
	test_envs_last(p.m.v1.n, &p.m.v1.ident.id, &e);        /* H3 */
	apply_order(p.x.n, &e, (const int[]){0, 1, 2, 3, -1}); /* both wait in quarantine */
	p.x.clock.now_ms += 3 * TT_DAY_MS;
	assert_int_equal(hm_node_release_quarantine(p.x.n, &st), HM_OK);
	p.y.clock.now_ms += 3 * TT_DAY_MS;
	apply_order(p.y.n, &e, (const int[]){0, 1, 2, 3, -1});
	assert_pair_same(&p, &p.m.v1.ident.id, 3);
	assert_int_equal(hm_node_info_get(p.x.n, &info), HM_OK);
	assert_int_equal(info.quarantined, 0);
	test_envs_release(&e);
	pair_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_converge_trust),
	    cmocka_unit_test(test_order_refused_version),
	    cmocka_unit_test(test_order_forgery_pending),
	    cmocka_unit_test(test_order_fork_proved_by_prev),
	    cmocka_unit_test(test_order_fork_proved_at_frozen_seq),
	    cmocka_unit_test(test_order_revoked_before_certificate),
	    cmocka_unit_test(test_order_fork_proved_beyond_revocation),
	    cmocka_unit_test(test_order_quarantined_versions),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/converge", tests, NULL, NULL);
}
