/* test_converge.c - the convergence property: replicas that write concurrently to a few records
 * and exchange change sets in any order, with duplicates and gaps, end byte-identical once each
 * holds every change set; no counter increment is lost; every value that lost is accounted for.
 *
 * Five real LMDB nodes in one process, each with its own skewed clock, driven by a fixed-seed
 * xorshift PRNG. HAMLET_SEED and HAMLET_CONVERGE_ROUNDS override the seed and the length; the
 * seed is printed so a failure can be replayed. */
#include "node_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NREP           5
#define ROUNDS_DEFAULT 1000
#define EPOCH_ROUNDS   25 /* then everything is delivered everywhere and checked */
#define OPS_PER_ROUND  10
#define SEED_DEFAULT   0x5eed2026c0ffee01ull
#define NVALUES        4

/* ---- the records and fields the replicas fight over ---- */
enum { F_REQUIRED, F_REGION, F_LWW1, F_LWW2, F_COUNTER, NFIELDS };

typedef struct target {
	const char *coll, *id, *region; /* a record is its collection, id and region */
	const char *fields[NFIELDS];    /* NULL: the collection has no such field */
} target;

/* p0 and s0 are two records each: one id in two regions, which never touch. */
static const target targets[] = {
    {"person", "p0", "hexi/t1/v1", {"name", "village", "status", "phone", NULL}},
    {"person", "p0", "hexi/t1/v2", {"name", "village", "status", "phone", NULL}},
    {"person", "p1", "hexi/t1/v2", {"name", "village", "status", "phone", NULL}},
    {"person", "p2", "hexi/t2", {"name", "village", "status", "phone", NULL}},
    {"stock", "s0", "hexi/t1/v1", {"item", "site", "unit", NULL, "quantity"}},
    {"stock", "s0", "hexi/t2", {"item", "site", "unit", NULL, "quantity"}},
    {"stock", "s1", "hexi", {"item", "site", "unit", NULL, "quantity"}},
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

/* One operation as the model sees it. */
typedef struct mop {
	unsigned target, field; /* field unused for a delete */
	bool del;
	hm_stamp stamp;
	unsigned origin; /* replica index */
	char value[16];  /* lww */
	int64_t delta;   /* counter */
} mop;

typedef struct model {
	mop *ops;
	size_t n, cap;
	size_t writes, deletes, adds, deliveries, batches;
} model;

static void model_push(model *m, const mop *op)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		mop *p = realloc(m->ops, cap * sizeof(*p));
		assert_non_null(p);
		m->ops = p, m->cap = cap;
	}
	m->ops[m->n++] = *op;
}

/* Every change set ever written, by anyone, with its origin and seq. */
typedef struct pool {
	test_envs envs;
	hm_node_id *origin;
	uint64_t *seq;
	size_t cap;
} pool;

static void pool_note(pool *p, const hm_changeset_info *info)
{
	size_t i = p->envs.n - 1;

	if (i >= p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		p->origin = realloc(p->origin, cap * sizeof(*p->origin));
		p->seq = realloc(p->seq, cap * sizeof(*p->seq));
		assert_true(p->origin && p->seq);
		p->cap = cap;
	}
	p->origin[i] = info->origin;
	p->seq[i] = info->seq;
}

typedef struct world {
	test_node rep[NREP];
	int64_t skew[NREP];
	uint64_t now;
	model m;
	pool p;
} world;

static void clocks_tick(world *w)
{
	w->now += test_rng_below(40);
	for (int i = 0; i < NREP; i++)
		w->rep[i].clock.now_ms = (uint64_t)((int64_t)w->now + w->skew[i]);
}

static bool is_live(hm_node *n, const target *t)
{
	hm_record *r = NULL;
	hm_err err = hm_node_get_at(n, t->coll, t->id, t->region, &r);

	assert_true(err == HM_OK || err == HM_ERR_NOT_FOUND);
	hm_record_free(r);
	return err == HM_OK;
}

static void value_pick(char *out, size_t cap, const target *t, unsigned field)
{
	if (field == F_REGION)
		snprintf(out, cap, "%s", t->region);
	else
		snprintf(out, cap, "v%u", test_rng_below(NVALUES));
}

/* Queue one field change in w and in pend (stamps filled in after the commit). */
static void plan_field(hm_write *wr, unsigned ti, unsigned field, mop *pend, size_t *np)
{
	const target *t = &targets[ti];
	mop op = {.target = ti, .field = field};

	for (size_t i = 0; i < *np; i++)
		if (pend[i].field == field && field != F_COUNTER)
			return; /* one value per field and write keeps the model simple */
	if (field == F_COUNTER) {
		op.delta = (int64_t)test_rng_below(15) - 5;
		assert_int_equal(hm_write_add(wr, t->coll, t->id, t->fields[field], op.delta),
		                 HM_OK);
	} else {
		hm_value v;
		value_pick(op.value, sizeof(op.value), t, field);
		v = test_str(op.value);
		assert_int_equal(hm_write_set(wr, t->coll, t->id, t->fields[field], &v), HM_OK);
	}
	pend[(*np)++] = op;
}

static void random_write(world *w, unsigned r)
{
	hm_node *n = w->rep[r].n;
	unsigned ti = test_rng_below(NTARGETS);
	const target *t = &targets[ti];
	bool live = is_live(n, t);
	hm_changeset_info info;
	hm_write *wr;
	mop pend[8];
	size_t np = 0;

	assert_int_equal(hm_write_begin(n, &wr), HM_OK);
	if (live && test_rng_below(100) < 18) {
		mop op = {.target = ti, .del = true};
		assert_int_equal(hm_write_del_at(wr, t->coll, t->id, t->region), HM_OK);
		pend[np++] = op;
		w->m.deletes++;
	} else {
		if (!live)
			plan_field(wr, ti, F_REQUIRED, pend, &np);
		plan_field(wr, ti, F_REGION, pend, &np); /* names which of the id's records */
		for (unsigned k = 1 + test_rng_below(2); k > 0; k--) {
			unsigned f;
			do
				f = test_rng_below(NFIELDS);
			while (!t->fields[f]);
			plan_field(wr, ti, f, pend, &np);
		}
		w->m.writes++;
	}
	if (hm_write_commit(wr, &info) != HM_OK)
		fail_msg("replica %u: commit refused: %s", r, hm_node_errmsg(n));
	for (size_t i = 0; i < np; i++) {
		pend[i].stamp.hlc = info.hlc;
		pend[i].stamp.origin = info.origin;
		pend[i].stamp.seq = info.seq;
		pend[i].origin = r;
		w->m.adds += pend[i].field == F_COUNTER && !pend[i].del;
		model_push(&w->m, &pend[i]);
	}
	test_envs_last(n, &info.origin, &w->p.envs);
	pool_note(&w->p, &info);
}

/* A random batch of change sets from the pool, in random order, duplicates and gaps included. */
static void random_delivery(world *w)
{
	unsigned r = test_rng_below(NREP);
	size_t k = 1 + test_rng_below(12);
	hm_bytes batch[12];
	hm_apply_stats st = {0};

	if (w->p.envs.n == 0)
		return;
	if (test_rng_below(100) < 20) {
		/* An in-order sync from one peer: everything it has beyond what r holds. */
		unsigned from = test_rng_below(NREP);
		test_envs e = {0};
		hm_vv vv;
		assert_int_equal(hm_node_version_vector(w->rep[r].n, &vv), HM_OK);
		test_envs_collect(w->rep[from].n, &vv, &e);
		hm_vv_release(&vv);
		if (e.n)
			assert_int_equal(hm_node_apply(w->rep[r].n, e.v, e.n, &st, NULL), HM_OK);
		w->m.deliveries += e.n;
		test_envs_release(&e);
	} else {
		for (size_t i = 0; i < k; i++)
			batch[i] = w->p.envs.v[test_rng_below((unsigned)w->p.envs.n)];
		assert_int_equal(hm_node_apply(w->rep[r].n, batch, k, &st, NULL), HM_OK);
		w->m.deliveries += k;
	}
	assert_int_equal(st.refused + st.forks + st.quarantined, 0);
	w->m.batches++;
}

/* To every replica, in one shuffled batch: every change set it lacks, and some it holds. */
static void deliver_everything(world *w)
{
	size_t n = w->p.envs.n, k;
	hm_bytes *all = malloc(n * sizeof(*all));

	assert_non_null(all);
	for (int r = 0; r < NREP; r++) {
		hm_apply_stats st = {0};
		hm_node_info info;
		hm_vv vv;

		assert_int_equal(hm_node_version_vector(w->rep[r].n, &vv), HM_OK);
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (w->p.seq[i] > hm_vv_get(&vv, &w->p.origin[i]) ||
			    test_rng_below(50) == 0)
				all[k++] = w->p.envs.v[i];
		hm_vv_release(&vv);
		for (size_t i = k; i > 1; i--) {
			size_t j = test_rng_below((unsigned)i);
			hm_bytes b = all[i - 1];
			all[i - 1] = all[j], all[j] = b;
		}
		assert_int_equal(hm_node_apply(w->rep[r].n, all, k, &st, NULL), HM_OK);
		assert_int_equal(st.refused + st.forks + st.quarantined, 0);
		assert_int_equal(hm_node_info_get(w->rep[r].n, &info), HM_OK);
		assert_int_equal(info.pending, 0);
		assert_int_equal(info.quarantined, 0);
		assert_int_equal(info.changesets, n);
		w->m.deliveries += k;
	}
	free(all);
}

/* ---- the checks ---- */

/* The stored record of t on n (live or not), decoded into r; false when never written. */
static bool raw_record(hm_node *n, const target *t, msgpack_zone *zone, uint8_t **buf, hm_rec *r)
{
	uint8_t key[HM_RECORD_KEY_MAX];
	size_t kn = hm_record_key(key, sizeof(key), t->coll, strlen(t->coll), t->id, strlen(t->id),
	                          t->region, strlen(t->region));
	MDB_txn *txn;
	MDB_val v;
	hm_err err;

	assert_int_equal(hm_store_read_begin(n, &txn), HM_OK);
	err = hm_store_get(n, txn, HM_DB_RECORDS, key, kn, &v);
	if (err == HM_ERR_NOT_FOUND) {
		mdb_txn_abort(txn);
		return false;
	}
	assert_int_equal(err, HM_OK);
	*buf = malloc(v.mv_size);
	assert_non_null(*buf);
	memcpy(*buf, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	assert_int_equal(hm_rec_decode(*buf, v.mv_size, zone, r), HM_OK);
	return true;
}

static const mop *max_delete(const model *m, unsigned ti)
{
	const mop *best = NULL;

	for (size_t i = 0; i < m->n; i++)
		if (m->ops[i].target == ti && m->ops[i].del &&
		    (!best || hm_stamp_cmp(&m->ops[i].stamp, &best->stamp) > 0))
			best = &m->ops[i];
	return best;
}

/* The record must be exactly what the model says: lww fields the greatest write not cleared by
 * the greatest delete, counters the sum of every delta. */
static void check_record(world *w, unsigned ti)
{
	const target *t = &targets[ti];
	const mop *del = max_delete(&w->m, ti);
	msgpack_zone zone;
	uint8_t *buf = NULL;
	hm_rec *r = calloc(1, sizeof(*r));
	bool exists, live_want = false;
	size_t nf_want = 0;

	assert_non_null(r);
	assert_true(msgpack_zone_init(&zone, 4096));
	exists = raw_record(w->rep[0].n, t, &zone, &buf, r);
	if (del) {
		assert_true(exists);
		assert_int_equal(hm_stamp_cmp(&r->tomb, &del->stamp), 0);
	} else if (exists) {
		assert_int_equal(r->tomb.hlc, 0);
	}
	for (unsigned f = 0; f < NFIELDS; f++) {
		const mop *top = NULL;
		uint64_t sum = 0;
		const hm_rfield *got;
		bool is_region;
		if (!t->fields[f])
			continue;
		for (size_t i = 0; i < w->m.n; i++) {
			const mop *op = &w->m.ops[i];
			if (op->target != ti || op->del || op->field != f)
				continue;
			sum += (uint64_t)op->delta;
			if (!top || hm_stamp_cmp(&op->stamp, &top->stamp) > 0)
				top = op;
		}
		got = exists ? hm_rec_find(r, t->fields[f], strlen(t->fields[f])) : NULL;
		if (!top) {
			assert_null(got);
			continue;
		}
		if (f == F_COUNTER) {
			if (!got)
				fail_msg("%s/%s: counter lost", t->coll, t->id);
			if ((uint64_t)got->value.u.i != sum)
				fail_msg("%s/%s.%s = %" PRId64 ", the deltas sum to %" PRId64,
				         t->coll, t->id, t->fields[f], got->value.u.i,
				         (int64_t)sum);
			assert_int_equal(hm_stamp_cmp(&got->stamp, &top->stamp), 0);
			nf_want++;
			live_want |= !del || hm_stamp_cmp(&top->stamp, &del->stamp) >= 0;
			continue;
		}
		/* The region field says where the record lives, deleted or not: a delete keeps it,
		 * and it merges as plain lww. */
		is_region = !strcmp(t->fields[f], hm_schema_collection(t->coll)->region_field);
		if (del && hm_stamp_cmp(&top->stamp, &del->stamp) < 0 && !is_region) {
			if (got)
				fail_msg("%s/%s.%s survived a later delete", t->coll, t->id,
				         t->fields[f]);
			continue;
		}
		if (!got)
			fail_msg("%s/%s.%s missing", t->coll, t->id, t->fields[f]);
		{
			hm_value want = test_str(top->value);
			if (!hm_value_equal(&got->value, &want) ||
			    hm_stamp_cmp(&got->stamp, &top->stamp) != 0)
				fail_msg("%s/%s.%s = '%.*s', the greatest write was '%s'", t->coll,
				         t->id, t->fields[f], (int)got->value.u.s.n,
				         got->value.u.s.p, top->value);
		}
		nf_want++;
		live_want |= !del || hm_stamp_cmp(&top->stamp, &del->stamp) >= 0;
	}
	if (exists)
		assert_int_equal(r->nf, nf_want);
	for (int i = 0; i < NREP; i++)
		assert_int_equal(is_live(w->rep[i].n, t), live_want);
	free(buf);
	free(r);
	msgpack_zone_destroy(&zone);
}

typedef struct find_ctx {
	const char *field, *region, *value;
	bool found;
} find_ctx;

static int find_loser(void *arg, const hm_conflict *c)
{
	find_ctx *f = arg;
	hm_value want = test_str(f->value);

	if (strcmp(c->field, f->field) == 0 && strcmp(c->region, f->region) == 0 &&
	    hm_value_equal(&c->loser, &want)) {
		f->found = true;
		return 1;
	}
	return 0;
}

/* The last value each origin wrote to a field is the final value, equal to it, or in the
 * conflict log of every replica - unless that origin itself deleted the record after it (its
 * own history). */
static size_t check_losers(world *w, unsigned ti)
{
	const target *t = &targets[ti];
	size_t checked = 0;

	for (unsigned f = 0; f < NFIELDS; f++) {
		char final[32];
		const char *fin;
		if (!t->fields[f] || f == F_COUNTER || f == F_REGION) /* the region: identity */
			continue;
		fin = test_get_str_at(w->rep[0].n, t->coll, t->id, t->region, t->fields[f], final,
		                      sizeof(final));
		for (unsigned o = 0; o < NREP; o++) {
			const mop *last = NULL;
			bool own_delete = false;
			for (size_t i = 0; i < w->m.n; i++) {
				const mop *op = &w->m.ops[i];
				if (op->target == ti && !op->del && op->field == f &&
				    op->origin == o &&
				    (!last || hm_stamp_cmp(&op->stamp, &last->stamp) > 0))
					last = op;
			}
			if (!last || (fin && strcmp(fin, last->value) == 0))
				continue;
			for (size_t i = 0; i < w->m.n; i++) {
				const mop *op = &w->m.ops[i];
				own_delete |= op->target == ti && op->del && op->origin == o &&
				              hm_stamp_cmp(&op->stamp, &last->stamp) > 0;
			}
			if (own_delete)
				continue;
			for (int r = 0; r < NREP; r++) {
				find_ctx fc = {t->fields[f], t->region, last->value, false};
				assert_int_equal(
				    hm_node_conflicts(w->rep[r].n, t->coll, t->id, find_loser, &fc),
				    HM_OK);
				if (!fc.found)
					fail_msg(
					    "%s/%s.%s: replica %u's last value '%s' lost to '%s' "
					    "and is not in replica %d's conflict log",
					    t->coll, t->id, t->fields[f], o, last->value,
					    fin ? fin : "(cleared)", r);
			}
			checked++;
		}
	}
	return checked;
}

/* Every replica holds every change set: same digest, consistent stores, and each record as the
 * model computes it. Returns how many lost values were traced to the conflict logs. */
static size_t check_converged(world *w, unsigned round)
{
	hm_hash d0;
	size_t losers = 0;

	assert_int_equal(hm_node_digest(w->rep[0].n, NULL, &d0), HM_OK);
	for (int i = 0; i < NREP; i++) {
		hm_hash d;
		assert_int_equal(hm_node_check(w->rep[i].n), HM_OK);
		assert_int_equal(hm_node_digest(w->rep[i].n, NULL, &d), HM_OK);
		if (!hm_hash_equal(&d, &d0))
			fail_msg("round %u: replica %d's digest differs from replica 0's", round,
			         i);
	}
	for (unsigned ti = 0; ti < NTARGETS; ti++) {
		check_record(w, ti);
		losers += check_losers(w, ti);
	}
	return losers;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void test_converge(void **state)
{
	static world w;
	uint64_t seed = env_u64("HAMLET_SEED", SEED_DEFAULT);
	unsigned rounds = (unsigned)env_u64("HAMLET_CONVERGE_ROUNDS", ROUNDS_DEFAULT);
	static const int64_t skews[NREP] = {0, 180000, -120000, 420000, -300000};
	struct timespec t0, t1;
	size_t losers = 0, epochs = 0;
	(void)state;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	print_message("converge: seed 0x%016" PRIx64 " (HAMLET_SEED), %u rounds of %d operations\n",
	              seed, rounds, OPS_PER_ROUND);
	test_rng_state = seed ? seed : 1;
	memset(&w, 0, sizeof(w));
	w.now = TEST_T0_MS;
	for (int i = 0; i < NREP; i++) {
		char name[32];
		snprintf(name, sizeof(name), "converge_%d", i);
		w.skew[i] = skews[i];
		test_node_init(&w.rep[i], name, skews[i], NULL);
	}
	for (unsigned round = 1; round <= rounds; round++) {
		for (int k = 0; k < OPS_PER_ROUND; k++) {
			clocks_tick(&w);
			if (test_rng_below(100) < 55)
				random_write(&w, test_rng_below(NREP));
			else
				random_delivery(&w);
		}
		if (round % EPOCH_ROUNDS == 0 || round == rounds) {
			deliver_everything(&w);
			losers += check_converged(&w, round);
			epochs++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("converge: %zu change sets (%zu writes, %zu deletes, %zu counter deltas), "
	              "%zu deliveries in %zu batches, %zu checkpoints, %zu lost values traced; "
	              "%.1f s\n",
	              w.p.envs.n, w.m.writes, w.m.deletes, w.m.adds, w.m.deliveries, w.m.batches,
	              epochs, losers,
	              (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (int i = 0; i < NREP; i++)
		test_node_release(&w.rep[i]);
	test_envs_release(&w.p.envs);
	free(w.p.origin);
	free(w.p.seq);
	free(w.m.ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_converge),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("node/converge", tests, NULL, NULL);
}
