/* test_clock.c - clocks that lie (issue #10, part 5): every station's wall clock may be wrong by
 * up to the drift bound, bumped by seconds to days and strobed back and forth, and change sets
 * relayed village -> hub -> county -> other hub -> other village in any order must still be
 * applied everywhere (none quarantined) and every replica end equal. And a reader never waits
 * for a writer: a node opens and answers while another process holds a long write.
 *
 * Real LMDB nodes in one process, each with its own injected clock (test_clock), driven by a
 * fixed-seed xorshift PRNG; HAMLET_SEED overrides the first seed and is printed on failure. */
#include "node_test.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MINUTE_MS 60000ull
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)
#define DRIFT_MS  DAY_MS /* the default bound: no node here holds clock.max_drift */

static hm_hash digest_of(hm_node *n)
{
	hm_hash h;
	assert_int_equal(hm_node_digest(n, NULL, &h), HM_OK);
	return h;
}

static size_t quarantined(hm_node *n)
{
	hm_node_info info;
	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.quarantined;
}

/* Apply everything src holds to dst in one batch; returns how many were quarantined. */
static size_t relay(hm_node *dst, hm_node *src)
{
	test_envs e = {0};
	hm_apply_stats st = {0};

	test_envs_collect(src, NULL, &e);
	assert_int_equal(hm_node_apply(dst, e.v, e.n, &st, NULL), HM_OK);
	test_envs_release(&e);
	return st.quarantined;
}

/* The case: a village 23 h 50 min ahead (inside the one-day bound) pushes to its hub,
 * whose clock follows it; the hub's next write reaches a village 20 minutes behind. It was
 * quarantined there (more than a day ahead of that village's wall clock), and so was everything
 * after it, for as long as the fast village kept writing: that village never converged. */
static void test_relay_23h50(void **state)
{
	test_node ahead, hub, behind;
	char buf[32];
	(void)state;

	test_node_init(&ahead, "clock_ahead", (int64_t)(23 * HOUR_MS + 50 * MINUTE_MS), NULL);
	test_node_init(&hub, "clock_hub", 0, NULL);
	test_node_init(&behind, "clock_behind", -(int64_t)(20 * MINUTE_MS), NULL);

	test_person(ahead.n, "p1", "from the fast village", NULL);
	assert_int_equal(relay(hub.n, ahead.n), 0);
	test_person(hub.n, "p2", "from the hub", NULL); /* stamped after the fast village's */
	assert_int_equal(relay(behind.n, hub.n), 0);
	assert_int_equal(quarantined(behind.n), 0);
	assert_non_null(test_get_str(behind.n, "person", "p2", "name", buf, sizeof(buf)));
	/* The fast village keeps writing, the clocks keep running: it keeps flowing. */
	for (int i = 0; i < 5; i++) {
		ahead.clock.now_ms += 7 * MINUTE_MS, hub.clock.now_ms += 7 * MINUTE_MS;
		behind.clock.now_ms += 7 * MINUTE_MS;
		assert_int_equal(
		    test_set_str(ahead.n, "person", "p1", "phone", i % 2 ? "1" : "2", NULL), HM_OK);
		assert_int_equal(relay(hub.n, ahead.n), 0);
		assert_int_equal(
		    test_set_str(hub.n, "person", "p2", "phone", i % 2 ? "3" : "4", NULL), HM_OK);
		assert_int_equal(relay(behind.n, hub.n), 0);
		/* and the slow village's own writes go back up */
		assert_int_equal(
		    test_set_str(behind.n, "person", "p3", "name", i % 2 ? "b1" : "b2", NULL),
		    HM_OK);
		assert_int_equal(relay(hub.n, behind.n), 0);
		assert_int_equal(relay(ahead.n, hub.n), 0);
	}
	assert_int_equal(quarantined(behind.n), 0);
	assert_int_equal(quarantined(hub.n), 0);
	assert_int_equal(quarantined(ahead.n), 0);
	{
		hm_hash a = digest_of(ahead.n), h = digest_of(hub.n), b = digest_of(behind.n);
		assert_true(hm_hash_equal(&a, &h));
		assert_true(hm_hash_equal(&h, &b));
	}
	test_node_release(&ahead);
	test_node_release(&hub);
	test_node_release(&behind);
}

/* A clock beyond the bound is still held: twice the bound ahead of the receiver plus a minute
 * waits in quarantine, and a stamp no later than what the receiver already holds does not (it
 * moves the receiver's clock nowhere). */
static void test_beyond_bound_held(void **state)
{
	test_node wild, r, w2;
	test_envs e = {0};
	(void)state;

	test_node_init(&wild, "clock_wild", (int64_t)(2 * DRIFT_MS + MINUTE_MS), NULL);
	test_node_init(&r, "clock_recv", 0, NULL);
	test_node_init(&w2, "clock_w2", 0, NULL);
	test_person(wild.n, "p1", "too far", NULL);
	test_envs_collect(wild.n, NULL, &e);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_QUARANTINE);
	test_envs_release(&e);
	/* A receiver whose own clock already holds a later stamp takes it. */
	w2.clock.now_ms += 3 * DRIFT_MS;
	test_person(w2.n, "p9", "own write far ahead", NULL);
	w2.clock.now_ms = TEST_T0_MS; /* its wall clock set right again; its own clock stays */
	test_envs_collect(wild.n, NULL, &e);
	assert_int_equal(test_apply1(w2.n, &e.v[0]), HM_APPLY_NEW);
	test_envs_release(&e);
	test_node_release(&wild);
	test_node_release(&r);
	test_node_release(&w2);
}

/* ---- the property: bumps and strobes per station, relay chains, random orders ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* Stations: 0 county, 1-2 hubs, 3-4 villages of hub 1, 5-6 villages of hub 2. */
#define NST    7
#define ROUNDS 120
#define SEEDS  6
static const int parent_of[NST] = {-1, 0, 0, 1, 1, 2, 2};

typedef struct mesh {
	test_node st[NST];
	int64_t offset[NST]; /* each within [-DRIFT_MS, +DRIFT_MS] */
	uint64_t now;        /* true time */
} mesh;

static void mesh_clocks(mesh *m)
{
	for (int i = 0; i < NST; i++)
		m->st[i].clock.now_ms = (uint64_t)((int64_t)m->now + m->offset[i]);
}

/* A new offset for station i: a bump by seconds to days, a strobe to the other side, or the
 * bound itself; always within it. */
static void nemesis(mesh *m, int i)
{
	static const uint64_t scale[] = {1000, MINUTE_MS, HOUR_MS, 6 * HOUR_MS, DRIFT_MS};
	int64_t off;

	switch (rng_below(4)) {
	case 0: /* strobe */
		off = -m->offset[i];
		break;
	case 1: /* to the edge of the bound, either side */
		off = rng_below(2) ? (int64_t)DRIFT_MS : -(int64_t)DRIFT_MS;
		break;
	default: /* bump */
		off = m->offset[i] +
		      (rng_below(2) ? 1 : -1) * (int64_t)rng_below(scale[rng_below(5)]);
		break;
	}
	if (off > (int64_t)DRIFT_MS)
		off = (int64_t)DRIFT_MS;
	if (off < -(int64_t)DRIFT_MS)
		off = -(int64_t)DRIFT_MS;
	m->offset[i] = off;
}

/* Deliver what src holds to dst: all in one batch, or (unless full) a random part one by one in
 * a shuffled order (gaps wait in pending). None may be quarantined. */
static void deliver(mesh *m, int dst, int src, bool full)
{
	test_envs e = {0};
	hm_apply_stats st = {0};

	test_envs_collect(m->st[src].n, NULL, &e);
	if (full || rng_below(2)) {
		assert_int_equal(hm_node_apply(m->st[dst].n, e.v, e.n, &st, NULL), HM_OK);
	} else {
		for (size_t i = e.n; i > 1; i--) {
			size_t j = (size_t)rng_below(i);
			hm_bytes t = e.v[i - 1];
			e.v[i - 1] = e.v[j], e.v[j] = t;
		}
		for (size_t i = 0; i < e.n; i++)
			if (rng_below(3))
				assert_int_equal(hm_node_apply(m->st[dst].n, &e.v[i], 1, &st, NULL),
				                 HM_OK);
	}
	test_envs_release(&e);
	if (st.quarantined)
		fail_msg("station %d quarantined %zu change set(s) from %d (offsets %" PRId64
		         " and %" PRId64 " ms)",
		         dst, (size_t)st.quarantined, src, m->offset[dst], m->offset[src]);
}

static void write_at(mesh *m, int i)
{
	char id[8], val[32];
	hm_err err;

	snprintf(id, sizeof(id), "p%u", (unsigned)rng_below(4));
	snprintf(val, sizeof(val), "s%d-%" PRIx64, i, rng_next() & 0xffff);
	err = test_set_str(m->st[i].n, "person", id, "name", val, NULL);
	if (err)
		fail_msg("station %d could not write at offset %" PRId64 " ms: %s (%s)", i,
		         m->offset[i], hm_strerror(err), hm_node_errmsg(m->st[i].n));
}

static void run_seed(uint64_t seed, unsigned run)
{
	mesh m;
	char name[64];

	memset(&m, 0, sizeof(m));
	rng_state = seed ? seed : 1;
	m.now = TEST_T0_MS;
	for (int i = 0; i < NST; i++) {
		snprintf(name, sizeof(name), "clock_p%u_%d", run, i);
		test_node_init(&m.st[i], name, 0, NULL);
		m.offset[i] = (int64_t)rng_below(2 * DRIFT_MS + 1) - (int64_t)DRIFT_MS;
	}
	for (unsigned r = 0; r < ROUNDS; r++) {
		int i = (int)rng_below(NST), p;
		m.now += rng_below(rng_below(2) ? 2000 : 6 * HOUR_MS) + 1;
		if (rng_below(3) == 0)
			nemesis(&m, (int)rng_below(NST));
		mesh_clocks(&m);
		if (rng_below(3) == 0) {
			write_at(&m, i);
			continue;
		}
		if (i == 0) /* the county talks to a hub */
			i = 1 + (int)rng_below(2);
		p = parent_of[i];
		if (rng_below(2))
			deliver(&m, p, i, false); /* up the chain */
		else
			deliver(&m, i, p, false); /* down */
	}
	/* Heal, clocks left as they are: twice up and down every link. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = NST - 1; i > 0; i--)
			deliver(&m, parent_of[i], i, true);
		for (int i = 1; i < NST; i++)
			deliver(&m, i, parent_of[i], true);
	}
	{
		hm_hash d0 = digest_of(m.st[0].n);
		for (int i = 0; i < NST; i++) {
			hm_hash d = digest_of(m.st[i].n);
			if (quarantined(m.st[i].n) || !hm_hash_equal(&d, &d0))
				fail_msg("seed 0x%016" PRIx64
				         ": station %d differs from the county "
				         "(%zu quarantined)",
				         seed, i, quarantined(m.st[i].n));
			assert_int_equal(hm_node_check(m.st[i].n), HM_OK);
		}
	}
	for (int i = 0; i < NST; i++)
		test_node_release(&m.st[i]);
}

static void test_clock_nemesis_property(void **state)
{
	const char *s = getenv("HAMLET_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 0xc10c4b0b5eedull;
	(void)state;

	for (unsigned run = 0; run < SEEDS; run++, seed = seed * 6364136223846793005ull + 1) {
		print_message("clock nemesis: seed 0x%016" PRIx64 "\n", seed);
		run_seed(seed, run);
	}
}

/* ---- readers never wait for the writer ---- */

static hm_err hold_write(hm_node *n, MDB_txn *txn, void *arg)
{
	int *fds = arg; /* [0]: told when held, [1]: read to let go */
	char c = 'h';
	(void)n, (void)txn;
	if (write(fds[0], &c, 1) != 1)
		return HM_ERR_IO;
	(void)!read(fds[1], &c, 1);
	return HM_OK;
}

/* `hamlet status` at a hub whose daemon holds a long write: the store opens, and the identity,
 * counts, version vector and records read, while another process holds LMDB's write lock. */
static void test_reader_during_long_write(void **state)
{
	test_node t;
	int held[2], go[2];
	pid_t child;
	char c;
	hm_node_info info;
	hm_vv vv = {0};
	(void)state;

	test_node_init(&t, "clock_held", 0, NULL);
	test_person(t.n, "p1", "before", NULL);
	test_node_release(&t); /* nothing of LMDB crosses the fork */
	assert_int_equal(pipe(held), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fds[2] = {held[1], go[0]};
		hm_node *n;
		close(held[0]), close(go[1]); /* let go when the parent dies, too */
		if (hm_node_open(t.dir, &t.opts, &n))
			_exit(2);
		_exit(hm_store_write(n, hold_write, fds) ? 3 : 0);
	}
	close(held[1]), close(go[0]);
	assert_int_equal(read(held[0], &c, 1), 1); /* the child holds the write */
	alarm(10); /* on the old code the open below waited for the writer forever */
	assert_int_equal(hm_node_open(t.dir, &t.opts, &t.n), HM_OK);
	assert_int_equal(hm_node_info_get(t.n, &info), HM_OK);
	assert_int_equal(info.changesets, 1);
	assert_int_equal(hm_node_version_vector(t.n, &vv), HM_OK);
	assert_int_equal(vv.n, 1);
	{
		char buf[16];
		assert_string_equal(test_get_str(t.n, "person", "p1", "name", buf, sizeof(buf)),
		                    "before");
	}
	alarm(0);
	hm_vv_release(&vv);
	assert_int_equal(write(go[1], "g", 1), 1);
	{
		int status;
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(held[0]), close(go[1]);
	test_node_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relay_23h50),
	    cmocka_unit_test(test_beyond_bound_held),
	    cmocka_unit_test(test_clock_nemesis_property),
	    cmocka_unit_test(test_reader_during_long_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
