/*
 * test_crash.c - kill -9 loop over the paths that write.
 *
 * A child process (forked, linked with hm_node and hm_sync) opens one node directory and writes
 * without pause: local change sets of several operations each (person fields, a stock counter,
 * followup inserts, deletes) and imports of bundles cut from another node's chain, sometimes
 * out of order so that they wait in pending. The parent SIGKILLs it after a random delay (fixed
 * seed), then reopens the node and checks that:
 *
 *   - hm_node_check passes: every origin's oplog runs 1..seq with an unbroken hash chain that
 *     matches the version vector;
 *   - every change set is whole or absent: the node's own seq is the last one the child saw
 *     committed, or one more when the kill landed inside hm_write_commit; the other origin's
 *     seq is a multiple of the bundle size (a bundle is applied in one transaction);
 *   - the digest equals that of a fresh replica rebuilt from the crashed node's change sets
 *     (hm_bundle_export of everything, hm_bundle_import into a new empty node).
 *
 * The child marks in shared memory when it is inside a commit or an import, so the test can
 * tell how many kills landed mid-write. HAMLET_CRASH_KILLS and HAMLET_CRASH_SEED override the
 * defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"

#define KILLS_DEFAULT 300
#define SEED_DEFAULT  20261129u
#define DELAY_MAX_US  25000u /* the kill lands 0..25 ms after the fork */
#define OTHER_SEQS    1200u  /* change sets of the other node, cut into bundles */
#define BUNDLE_SEQS   4u     /* change sets per bundle */
#define NBUNDLES      (OTHER_SEQS / BUNDLE_SEQS)
#define PEOPLE        40 /* both nodes write the same records, so merges and conflicts happen */

enum phase { PHASE_IDLE = 0, PHASE_COMMIT, PHASE_IMPORT };

/* Shared between the parent and the child it kills. */
typedef struct shared {
	volatile int phase;
	volatile uint64_t own_seq;     /* the node's own seq after the last commit that returned */
	volatile uint64_t next_bundle; /* the first bundle not yet applied */
	volatile uint64_t commits;     /* local commits that returned, all children */
	volatile uint64_t imports;     /* imports that returned, all children */
	volatile int failed;           /* the child hit an unexpected error */
	char why[256];
} shared;

typedef struct crash_env {
	char root[1024];
	char node_dir[1100], other_dir[1100], fresh_dir[1100], rebuild[1100];
	char bundles[NBUNDLES][1100];
	hm_node_id other_id;
	shared *sh;
	uint64_t rng;
} crash_env;

/* xorshift64*: the same sequence of delays and choices on every machine. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static hm_value str_value(const char *s)
{
	hm_value v = {.kind = HM_V_STR};
	v.u.s.p = s;
	v.u.s.n = (uint32_t)strlen(s);
	return v;
}

static hm_value int_value(int64_t i)
{
	hm_value v = {.kind = HM_V_INT};
	v.u.i = i;
	return v;
}

static void rm_node_dir(const char *dir)
{
	char path[1200];
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ---- the child: writes until it is killed ---- */

static void child_fail(shared *sh, const char *what, hm_node *n, hm_err err)
{
	snprintf(sh->why, sizeof(sh->why), "%s: %s (%s)", what, hm_strerror(err),
	         n ? hm_node_errmsg(n) : hm_bundle_errmsg());
	sh->failed = 1;
	_exit(3);
}

/* One change set of several operations on a person, a stock item and maybe a followup. */
static void child_local_write(hm_node *n, shared *sh, uint64_t *rng, unsigned serial)
{
	hm_write *w;
	hm_changeset_info info;
	char id[32], name[32], fid[48], when[32];
	hm_value v;
	hm_err err;
	uint64_t r = rnd(rng);

	snprintf(id, sizeof(id), "p-%02u", (unsigned)(r % PEOPLE));
	if ((err = hm_write_begin(n, &w)))
		child_fail(sh, "hm_write_begin", n, err);
	if (r % 11 == 0) {
		err = hm_write_del(w, "person", id);
	} else {
		snprintf(name, sizeof(name), "Name %u-%u", (unsigned)getpid(), serial);
		v = str_value(name);
		if (!(err = hm_write_set(w, "person", id, "name", &v))) {
			v = int_value(1940 + (int64_t)(r >> 8) % 80);
			err = hm_write_set(w, "person", id, "birth_year", &v);
		}
		if (!err)
			err = hm_write_add(w, "stock", "masks", "quantity",
			                   (int64_t)(r >> 16) % 50 - 10);
		if (!err) {
			v = str_value("N95");
			err = hm_write_set(w, "stock", "masks", "item", &v);
		}
		if (!err && r % 3 == 0) {
			snprintf(fid, sizeof(fid), "f-%u-%u", (unsigned)getpid(), serial);
			snprintf(when, sizeof(when), "2026-11-%02uT08:%02u", 1 + serial % 28,
			         serial % 60);
			v = str_value(id);
			if (!(err = hm_write_set(w, "followup", fid, "person", &v))) {
				v = str_value(when);
				err = hm_write_set(w, "followup", fid, "time", &v);
			}
		}
	}
	if (err) {
		hm_write_abort(w);
		child_fail(sh, "building a write", n, err);
	}
	sh->phase = PHASE_COMMIT;
	err = hm_write_commit(w, &info);
	if (err == HM_OK) {
		sh->own_seq = info.seq;
		sh->commits++;
	}
	sh->phase = PHASE_IDLE;
	if (err && err != HM_ERR_NOT_FOUND) /* a delete of a record already gone is fine */
		child_fail(sh, "hm_write_commit", n, err);
}

static void child_import(hm_node *n, crash_env *e, uint64_t *rng)
{
	uint64_t next = e->sh->next_bundle, r = rnd(rng), k;
	hm_bundle_stats st;
	hm_err err;

	if (next >= NBUNDLES)
		k = r % NBUNDLES; /* all applied: an old bundle, all duplicates */
	else if (r % 4 == 0 && next + 1 < NBUNDLES)
		k = next + 1; /* out of order: waits in pending until `next` arrives */
	else
		k = next;
	e->sh->phase = PHASE_IMPORT;
	err = hm_bundle_import(n, e->bundles[k], NULL, NULL, &st);
	if (err == HM_OK)
		e->sh->imports++;
	e->sh->phase = PHASE_IDLE;
	if (err)
		child_fail(e->sh, "hm_bundle_import", NULL, err);
}

static void child_run(crash_env *e, uint64_t seed)
{
	hm_node *n;
	hm_vv vv;
	hm_err err;
	uint64_t rng = seed | 1;

	if ((err = hm_node_open(e->node_dir, NULL, &n)))
		child_fail(e->sh, "hm_node_open", NULL, err);
	for (unsigned serial = 0;; serial++) {
		if (rnd(&rng) % 4 == 0) {
			child_import(n, e, &rng);
			/* Where the other origin stands now decides the next bundle to send. */
			if ((err = hm_node_version_vector(n, &vv)))
				child_fail(e->sh, "hm_node_version_vector", n, err);
			e->sh->next_bundle = hm_vv_get(&vv, &e->other_id) / BUNDLE_SEQS;
			hm_vv_release(&vv);
		} else {
			child_local_write(n, e->sh, &rng, serial);
		}
	}
}

/* ---- the parent: setup, kill, verify ---- */

static void die_on(hm_err err, const char *what, hm_node *n)
{
	if (err)
		fail_msg("%s: %s (%s)", what, hm_strerror(err), n ? hm_node_errmsg(n) : "");
}

/* The other node writes OTHER_SEQS change sets on the same people; bundle k holds its seqs
 * k*BUNDLE_SEQS+1 .. (k+1)*BUNDLE_SEQS. */
static void make_other_bundles(crash_env *e)
{
	hm_node *o;
	hm_vv_entry since_e = {0};
	hm_vv since = {&since_e, 1};

	die_on(hm_node_create(e->other_dir, HM_ROLE_VILLAGE, "lin/east/oak", "oak", NULL,
	                      &e->other_id),
	       "creating the other node", NULL);
	die_on(hm_node_open(e->other_dir, NULL, &o), "opening the other node", NULL);
	since_e.origin = e->other_id;
	for (unsigned s = 1; s <= OTHER_SEQS; s++) {
		hm_write *w;
		char id[16], name[32];
		hm_value v;
		snprintf(id, sizeof(id), "p-%02u", s % PEOPLE);
		snprintf(name, sizeof(name), "Oak %u", s);
		v = str_value(name);
		die_on(hm_write_begin(o, &w), "hm_write_begin", o);
		die_on(hm_write_set(w, "person", id, "name", &v), "hm_write_set", o);
		v = str_value("oak-return");
		die_on(hm_write_set(w, "person", id, "category", &v), "hm_write_set", o);
		die_on(hm_write_add(w, "stock", "masks", "quantity", 7), "hm_write_add", o);
		v = str_value("N95");
		die_on(hm_write_set(w, "stock", "masks", "item", &v), "hm_write_set", o);
		die_on(hm_write_commit(w, NULL), "hm_write_commit", o);
		if (s % BUNDLE_SEQS == 0) {
			unsigned k = s / BUNDLE_SEQS - 1;
			hm_bundle_stats st;
			since_e.seq = (uint64_t)k * BUNDLE_SEQS;
			die_on(hm_bundle_export(o, &since, e->bundles[k], true, NULL, &st),
			       "export", o);
			assert_int_equal(st.changesets, BUNDLE_SEQS);
		}
	}
	hm_node_close(o);
}

typedef struct crash_counts {
	unsigned kills, in_commit, in_import, commit_landed, child_started;
} crash_counts;

/* After a kill: the node is consistent, each change set whole or absent, and its state is
 * exactly what its own change sets rebuild. */
static void verify_after_kill(crash_env *e, int phase, crash_counts *cc)
{
	hm_node *n, *f;
	hm_node_info info, finfo;
	hm_vv vv;
	hm_hash d1, d2;
	hm_bundle_stats st;
	uint64_t other_seq;

	die_on(hm_node_open(e->node_dir, NULL, &n), "reopening the crashed node", NULL);
	die_on(hm_node_check_log(n), "hm_node_check_log after a kill", n); /* the records: below */
	die_on(hm_node_info_get(n, &info), "hm_node_info_get", n);
	if (phase == PHASE_COMMIT && info.seq == e->sh->own_seq + 1) {
		cc->commit_landed++; /* durable, though the child never saw it return */
	} else if (info.seq != e->sh->own_seq) {
		fail_msg("own seq %" PRIu64 " after a kill, child had committed %" PRIu64 " (%s)",
		         info.seq, e->sh->own_seq, phase == PHASE_COMMIT ? "in commit" : "idle");
	}
	e->sh->own_seq = info.seq;

	die_on(hm_node_version_vector(n, &vv), "hm_node_version_vector", n);
	other_seq = hm_vv_get(&vv, &e->other_id);
	hm_vv_release(&vv);
	if (other_seq % BUNDLE_SEQS != 0)
		fail_msg("the other origin stands at seq %" PRIu64 ": a bundle was half applied",
		         other_seq);
	e->sh->next_bundle = other_seq / BUNDLE_SEQS;

	die_on(hm_node_digest(n, NULL, &d1), "hm_node_digest", n);
	die_on(hm_bundle_export(n, NULL, e->rebuild, true, NULL, &st), "hm_bundle_export", n);
	assert_int_equal(st.changesets, info.changesets);
	hm_node_close(n);

	rm_node_dir(e->fresh_dir);
	/* A township: a bundle import keeps only what the importer's region may hold. */
	die_on(hm_node_create(e->fresh_dir, HM_ROLE_TOWNSHIP, "lin/east", "fresh", NULL, NULL),
	       "creating the fresh replica", NULL);
	die_on(hm_node_open(e->fresh_dir, NULL, &f), "opening the fresh replica", NULL);
	if (hm_bundle_import(f, e->rebuild, NULL, NULL, &st))
		fail_msg("importing the rebuild bundle: %s", hm_bundle_errmsg());
	assert_int_equal(st.apply.new_, info.changesets);
	die_on(hm_node_check_log(f), "hm_node_check_log on the fresh replica", f);
	die_on(hm_node_digest(f, NULL, &d2), "hm_node_digest", f);
	die_on(hm_node_info_get(f, &finfo), "hm_node_info_get", f);
	hm_node_close(f);
	assert_int_equal(finfo.records, info.records);
	if (!hm_hash_equal(&d1, &d2))
		fail_msg(
		    "digest of the crashed node differs from its rebuilt replica after kill %u",
		    cc->kills);
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	return s && *s ? (unsigned)strtoul(s, NULL, 10) : def;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_kill_loop(void **state)
{
	crash_env *e = calloc(1, sizeof(*e));
	const char *tmp = getenv("HAMLET_TEST_TMP");
	unsigned kills = env_uint("HAMLET_CRASH_KILLS", KILLS_DEFAULT);
	crash_counts cc = {0};
	double t0 = now_s();
	char cmd[2200];

	(void)state;
	assert_non_null(e);
	e->rng = env_uint("HAMLET_CRASH_SEED", SEED_DEFAULT) | 1;
	snprintf(e->root, sizeof(e->root), "%s/crash", tmp && *tmp ? tmp : "/tmp/hamlet-test");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", e->root, e->root);
	assert_int_equal(system(cmd), 0);
	snprintf(e->node_dir, sizeof(e->node_dir), "%s/node", e->root);
	snprintf(e->other_dir, sizeof(e->other_dir), "%s/other", e->root);
	snprintf(e->fresh_dir, sizeof(e->fresh_dir), "%s/fresh", e->root);
	snprintf(e->rebuild, sizeof(e->rebuild), "%s/rebuild.bundle", e->root);
	for (unsigned k = 0; k < NBUNDLES; k++)
		snprintf(e->bundles[k], sizeof(e->bundles[k]), "%s/other-%03u.bundle", e->root, k);
	e->sh =
	    mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(e->sh != MAP_FAILED);
	memset(e->sh, 0, sizeof(shared));

	make_other_bundles(e);
	/* A township, so that it may hold the other origin's (a village's) change sets. */
	die_on(hm_node_create(e->node_dir, HM_ROLE_TOWNSHIP, "lin/east", "elm", NULL, NULL),
	       "creating the node", NULL);
	printf("setup: %.2f s\n", now_s() - t0);

	for (cc.kills = 0; cc.kills < kills; cc.kills++) {
		uint64_t r = rnd(&e->rng);
		useconds_t delay = (useconds_t)(r % DELAY_MAX_US);
		int status, phase;
		pid_t pid;

		e->sh->phase = PHASE_IDLE;
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child_run(e, r >> 7); /* never returns */
		usleep(delay);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0)
			assert_int_equal(errno, EINTR);
		if (e->sh->failed)
			fail_msg("the writer failed by itself: %s", e->sh->why);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		phase = e->sh->phase;
		cc.in_commit += phase == PHASE_COMMIT;
		cc.in_import += phase == PHASE_IMPORT;
		verify_after_kill(e, phase, &cc);
	}
	printf("kills: %u in %.1f s; %u inside hm_write_commit (%u of them had committed), %u "
	       "inside hm_bundle_import; %" PRIu64 " local commits and %" PRIu64
	       " imports returned; other origin at bundle %" PRIu64 "/%u\n",
	       cc.kills, now_s() - t0, cc.in_commit, cc.commit_landed, cc.in_import, e->sh->commits,
	       e->sh->imports, e->sh->next_bundle, NBUNDLES);
	assert_true(cc.in_commit > 0);
	munmap(e->sh, sizeof(shared));
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_loop),
	};
	if (hm_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
