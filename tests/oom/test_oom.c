/*
 * test_oom.c - the out-of-memory loop in process (issue #10 section 1, docs/reliability.md).
 *
 * For each operation - a local write, hm_node_apply of a batch, bundle export and import, the
 * sync handshake (hm_sync_probe) and a sync round (hm_sync_run pushing and pulling) - and in two
 * modes, "once" (only the N-th allocation fails) and "forever" (the N-th and every later one
 * fail), the allocation interposer (failalloc.c) fails the N-th allocation for N = 1, 2, 3, ...
 * until the operation runs through without reaching N. Every allocation counts: ours, LMDB's,
 * msgpack-c's, zstd's, libsodium's, and in the sync cases the server's as well as the client's
 * (the client talks to a real hm_server in the same thread through an in-memory hm_transport).
 *
 * Each N must end in one of two ways:
 * - an error: HM_ERR_NOMEM, or a message that says "out of memory"; the state of every node
 *   (digest, change sets, refused, pending, quarantined, forks, conflicts) is the one before,
 *   or, for the operations that may be repeated (all but a write), the one after; an export left
 *   neither the bundle nor its temporary file;
 * - success, with the state after.
 * In both, no block allocated during the operation is still live once the nodes are closed (the
 * interposer's own leak count: LeakSanitizer cannot run beside an interposer of malloc), and the
 * operation run again without failures succeeds and reaches the state after.
 *
 * Nodes are real LMDB stores in trust mode (a county, a township and a village enrolled by it),
 * copied afresh from a pristine set for every N. HAMLET_OOM_STRIDE=K tries every K-th N only.
 */
#define _GNU_SOURCE
#include "trust_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "failalloc.h"
#include "scratch.h"
#include "sync.h"

/* ---- the world an operation runs in: a village and its township, opened from copies ---- */

typedef struct world {
	tnode v, t;        /* the village (who acts) and the township (peer, server, receiver) */
	hm_server *srv;    /* the sync cases' server, on t */
	char out[1024];    /* the export's bundle */
	char bundle[1024]; /* the bundle to import (made by the village) */
	test_envs envs;    /* the batch to apply (the village's change sets) */
	const char *msg;   /* the failed operation's reason */
} world;

/* What is compared: the records' digest and the counts of what was kept. */
typedef struct nstate {
	hm_hash digest;
	size_t changesets, records, pending, quarantined, refused, forks, conflicts;
} nstate;

static tt_mesh pristine;
static char pristine_v[1024], pristine_t[1024], bundle_path[1024];
static test_envs batch;

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* A node's directory (files only) copied to a fresh to. */
static void copy_node(const char *from, const char *to)
{
	char a[2048], b[2048];
	struct dirent *e;
	DIR *d;

	assert_int_equal(mkdir(to, 0700), 0);
	assert_non_null(d = opendir(from));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "lock.mdb") == 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
		copy_file(a, b);
	}
	closedir(d);
}

static void node_open_copy(tnode *t, const tnode *model, const char *from, const char *name)
{
	*t = *model;
	t->n = NULL;
	t->opts.identity = &t->ident;
	t->opts.storage_key = t->storage_key;
	t->opts.clock_ctx = &t->clock;
	test_scratch_path(t->dir, sizeof(t->dir), "oom", name);
	copy_node(from, t->dir);
	assert_int_equal(hm_node_open(t->dir, &t->opts, &t->n), HM_OK);
}

static void world_open(world *w)
{
	memset(w, 0, sizeof(*w));
	node_open_copy(&w->v, &pristine.v1, pristine_v, "work_v");
	node_open_copy(&w->t, &pristine.t1, pristine_t, "work_t");
	test_scratch_path(w->out, sizeof(w->out), "oom", "work_out.bundle");
	snprintf(w->bundle, sizeof(w->bundle), "%s", bundle_path);
	w->envs = batch;
}

/* Closes what the operation may have left open (the server) and the nodes. */
static void world_close(world *w)
{
	hm_server_free(w->srv);
	w->srv = NULL;
	hm_node_close(w->v.n);
	hm_node_close(w->t.n);
	w->v.n = w->t.n = NULL;
}

static void world_reopen(world *w)
{
	assert_int_equal(hm_node_open(w->v.dir, &w->v.opts, &w->v.n), HM_OK);
	assert_int_equal(hm_node_open(w->t.dir, &w->t.opts, &w->t.n), HM_OK);
}

static void state_take(hm_node *n, nstate *s)
{
	hm_node_info i;

	memset(s, 0, sizeof(*s));
	assert_int_equal(hm_node_digest(n, NULL, &s->digest), HM_OK);
	assert_int_equal(hm_node_info_get(n, &i), HM_OK);
	s->changesets = i.changesets, s->records = i.records, s->pending = i.pending;
	s->quarantined = i.quarantined, s->refused = i.refused, s->forks = i.forks;
	s->conflicts = i.conflicts;
}

static bool state_eq(const nstate *a, const nstate *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* ---- the operations ---- */

#define LONG_TEXT                                                                                  \
	"Room 3, Building 5, the compound by the old grain station, east of the river; ask at "    \
	"the gate for the duty clerk, who keeps the keys of the north stair and the register of "  \
	"visitors; deliveries before noon only, the afternoon goes to follow-up visits, and the "  \
	"lane floods after rain"

static hm_err op_write(world *w)
{
	/* the address makes the body over 256 bytes: zstd compresses it */
	static const char *fields[][2] = {{"name", "Zhao Lei"},
	                                  {"phone", "13800000000"},
	                                  {"village", TT_V1},
	                                  {"address", LONG_TEXT}};
	hm_write *wr;
	hm_value v;
	hm_err err;

	if ((err = hm_write_begin(w->v.n, &wr)))
		goto out;
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		v = test_str(fields[i][1]);
		if ((err = hm_write_set(wr, "person", "oom-p1", fields[i][0], &v))) {
			hm_write_abort(wr);
			goto out;
		}
	}
	err = hm_write_commit(wr, NULL);
out:
	w->msg = hm_node_errmsg(w->v.n);
	return err;
}

static hm_err op_apply(world *w)
{
	hm_apply_stats st = {0};
	hm_err err = hm_node_apply(w->t.n, w->envs.v, w->envs.n, &st, NULL);

	w->msg = hm_node_errmsg(w->t.n);
	return err;
}

static hm_err op_export(world *w)
{
	hm_err err = hm_bundle_export(w->v.n, NULL, w->out, false, NULL, NULL);

	w->msg = hm_bundle_errmsg();
	return err;
}

static hm_err op_import(world *w)
{
	hm_bundle_stats st;
	hm_err err = hm_bundle_import(w->t.n, w->bundle, NULL, NULL, &st);

	w->msg = hm_bundle_errmsg();
	return err;
}

/* An in-memory transport: each request goes to the world's server, in this thread. */
typedef struct pipe_tx {
	world *w;
	uint8_t *reply;
	size_t rn;
} pipe_tx;

static hm_err tx_send(void *ctx, const uint8_t *p, size_t n, int timeout_ms)
{
	pipe_tx *t = ctx;
	(void)timeout_ms;
	return hm_server_handle(t->w->srv, p, n, &t->reply, &t->rn);
}

static hm_err tx_recv(void *ctx, uint8_t **p, size_t *n, int timeout_ms)
{
	pipe_tx *t = ctx;
	(void)timeout_ms;
	*p = t->reply, *n = t->rn;
	t->reply = NULL;
	return *p ? HM_OK : HM_ERR_NET;
}

static void tx_free(void *ctx, uint8_t *p)
{
	(void)ctx;
	free(p);
}

static void tx_close(void *ctx)
{
	(void)ctx;
}

static const char *tx_why(void *ctx)
{
	(void)ctx;
	return "the server failed";
}

static hm_err op_sync(world *w, bool probe)
{
	pipe_tx p = {.w = w};
	hm_transport t = {&p, tx_send, tx_recv, tx_free, tx_close, tx_why};
	hm_sync_stats st;
	uint64_t to_send, to_receive;
	hm_err err;

	if ((err = hm_server_new(w->t.n, &w->srv))) {
		w->msg = hm_sync_errmsg();
		return err;
	}
	if (probe)
		err = hm_sync_probe(w->v.n, &t, NULL, &to_send, &to_receive, &st);
	else
		err = hm_sync_run(w->v.n, &t, NULL, &st);
	free(p.reply);
	w->msg = hm_sync_errmsg();
	return err;
}

static hm_err op_handshake(world *w)
{
	return op_sync(w, true);
}

static hm_err op_round(world *w)
{
	return op_sync(w, false);
}

/* An export that failed left neither its bundle nor a temporary file; one that succeeded, its
 * bundle. */
static bool export_files_ok(world *w, bool done)
{
	char tmp[1100];

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", w->out, (long)getpid());
	return access(tmp, F_OK) != 0 && (access(w->out, F_OK) == 0) == done;
}

typedef struct oom_case {
	const char *name;
	hm_err (*run)(world *w);
	bool repeatable; /* may fail after it took effect (running it again changes nothing) */
	bool (*files_ok)(world *w, bool done);
} oom_case;

static const oom_case cases[] = {
    {"write", op_write, false, NULL},
    {"apply", op_apply, true, NULL},
    {"export", op_export, true, export_files_ok},
    {"import", op_import, true, NULL},
    {"handshake", op_handshake, true, NULL},
    {"sync round", op_round, true, NULL},
};

/* ---- the loop ---- */

typedef struct tally {
	unsigned long tried, errors, absorbed, calls;
	unsigned problems;
	double seconds;
} tally;

/* Fails the test at the end of the loop, not at once, so that one run names every problem. */
static void problem(tally *t, const oom_case *c, int forever, unsigned long n, const char *what,
                    const char *msg)
{
	if (t->problems++ < 40)
		print_message("oom %s (%s) N=%lu: %s%s%s\n", c->name, forever ? "forever" : "once",
		              n, what, msg ? ": " : "", msg ? msg : "");
}

static bool is_oom_message(hm_err err, const char *msg)
{
	return err == HM_ERR_NOMEM || (msg && strstr(msg, "out of memory"));
}

typedef struct refs {
	nstate v0, t0, v1, t1; /* before and after, of each node */
} refs;

/* Where each node stands: 0 before, 1 after (when the two are equal: after), -1 neither. A sync
 * commits on each side apart (the push on the server, the pull on the client), so each node is
 * judged on its own. */
static int node_where(hm_node *n, const nstate *before, const nstate *after)
{
	nstate s;

	state_take(n, &s);
	if (state_eq(&s, after))
		return 1;
	if (state_eq(&s, before))
		return 0;
	if (getenv("HAMLET_OOM_DEBUG"))
		print_message(
		    "  changesets %zu records %zu refused %zu pending %zu quarantined %zu "
		    "(before %zu %zu, after %zu %zu)\n",
		    s.changesets, s.records, s.refused, s.pending, s.quarantined,
		    before->changesets, before->records, after->changesets, after->records);
	return -1;
}

/* 1 when both nodes are after, 0 when each is before or after and one is before, -1 when one
 * is neither. */
static int world_where(world *w, const refs *r)
{
	int v = node_where(w->v.n, &r->v0, &r->v1), t = node_where(w->t.n, &r->t0, &r->t1);

	return v < 0 || t < 0 ? -1 : v && t;
}

/* A clean run: the states before and after, and how many allocations it makes. */
static void reference_run(const oom_case *c, refs *r, unsigned long *calls)
{
	hm_failalloc_stats st;
	world w;
	hm_err err;

	world_open(&w);
	state_take(w.v.n, &r->v0);
	state_take(w.t.n, &r->t0);
	hm_failalloc_arm(0, 0);
	err = c->run(&w);
	hm_failalloc_stop(&st);
	if (err)
		fail_msg("oom %s: the clean run failed: %s (%s)", c->name, hm_strerror(err), w.msg);
	world_close(&w);
	hm_failalloc_disarm(NULL);
	world_reopen(&w);
	state_take(w.v.n, &r->v1);
	state_take(w.t.n, &r->t1);
	world_close(&w);
	*calls = st.calls;
}

/* One N: fail it, check the outcome, the leak count, the nstate, and a retry. Returns false when
 * the operation never reached N (the loop is done). */
static bool try_n(const oom_case *c, int forever, unsigned long n, const refs *r, tally *t)
{
	hm_failalloc_stats st, after;
	world w;
	hm_err err;
	int where;

	world_open(&w);
	hm_failalloc_arm(n, forever);
	err = c->run(&w);
	hm_failalloc_stop(&st);
	if (st.failed == 0) {
		world_close(&w);
		hm_failalloc_disarm(NULL);
		if (err)
			problem(t, c, forever, n, "failed with no allocation failing", w.msg);
		return false;
	}
	t->tried++;
	if (err)
		t->errors++;
	else
		t->absorbed++;
	if (err && !is_oom_message(err, w.msg))
		problem(t, c, forever, n, hm_strerror(err), w.msg);
	world_close(&w);
	hm_failalloc_disarm(&after);
	if (after.live || after.overflow) {
		char what[96];
		snprintf(what, sizeof(what), "%zu blocks leaked%s", after.live,
		         after.overflow ? " (at least)" : "");
		problem(t, c, forever, n, what, err ? w.msg : "(the operation succeeded)");
	}
	world_reopen(&w);
	where = world_where(&w, r);
	if (where < 0 || (err && where == 1 && !c->repeatable) || (!err && where != 1))
		problem(t, c, forever, n, where < 0 ? "partial state" : "wrong nstate",
		        err ? w.msg : "(the operation succeeded)");
	if (c->files_ok && !c->files_ok(&w, !err))
		problem(t, c, forever, n, "files left behind or missing", w.msg);
	if (err && (where == 0 || c->repeatable)) {
		if (c->files_ok)
			unlink(w.out);
		if ((err = c->run(&w)))
			problem(t, c, forever, n, "the retry failed", w.msg);
		else if (world_where(&w, r) != 1)
			problem(t, c, forever, n, "the retry did not reach the state after", NULL);
	}
	world_close(&w);
	return true;
}

static unsigned long stride(void)
{
	const char *v = getenv("HAMLET_OOM_STRIDE");
	unsigned long k = v ? strtoul(v, NULL, 10) : 1;

	return k ? k : 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_case(const oom_case *c)
{
	const char *only = getenv("HAMLET_OOM_ONLY"); /* "N" or "N forever": one N, to debug */
	unsigned long k = stride(), calls;
	unsigned problems = 0;
	refs r;

	reference_run(c, &r, &calls);
	if (c->run == op_apply) /* the data's concurrent edit: the merge logs a conflict */
		assert_true(r.t1.conflicts > r.t0.conflicts);
	for (int forever = 0; forever < 2; forever++) {
		tally t = {.calls = calls};
		double t0 = now_s();
		unsigned long n = 1;

		if (only) {
			if ((strstr(only, "forever") != NULL) == forever)
				try_n(c, forever, strtoul(only, NULL, 10), &r, &t);
			continue;
		}
		while (try_n(c, forever, n, &r, &t))
			n += k;
		t.seconds = now_s() - t0;
		print_message("oom %-10s %-7s allocations %5lu, N tried %5lu: %lu errors, %lu "
		              "succeeded anyway, %u problems, %.1f s\n",
		              c->name, forever ? "forever" : "once", t.calls, t.tried, t.errors,
		              t.absorbed, t.problems, t.seconds);
		problems += t.problems;
	}
	if (problems)
		fail_msg("oom %s: %u problems", c->name, problems);
}

/* ---- the pristine nodes ---- */

static void pristine_close(tnode *t, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s", t->dir);
	hm_node_close(t->n);
	t->n = NULL;
}

static int setup(void **state)
{
	hm_changeset_info info;
	hm_value v = test_str("a township notice");
	char address[600];
	hm_write *wr;
	(void)state;

	tt_mesh_init(&pristine, "oom_pristine");
	test_person(pristine.v1.n, "oom-v1", "Li Na", NULL);
	test_person(pristine.v1.n, "oom-v2", "Wang Fang", NULL);
	test_person(pristine.v1.n, "oom-v3", "Chen Jie", NULL);
	/* a body of more than 256 bytes: compressed with zstd, so decompressed by every apply */
	memset(address, 'a', sizeof(address) - 1);
	address[sizeof(address) - 1] = '\0';
	assert_int_equal(test_set_str(pristine.v1.n, "person", "oom-v3", "address", address, NULL),
	                 HM_OK);
	/* the township writes something the village may hold: a sync round moves both ways; and
	 * it edits a person of the village at the same time: applying the village's batch logs
	 * a conflict */
	assert_int_equal(hm_write_begin(pristine.t1.n, &wr), HM_OK);
	assert_int_equal(hm_write_set(wr, "person", "oom-t1", "name", &v), HM_OK);
	assert_int_equal(hm_write_commit(wr, &info), HM_OK);
	pristine.t1.clock.now_ms += 1000; /* after the village's: the village's name loses */
	v = test_str(TT_V1);
	assert_int_equal(hm_write_begin(pristine.t1.n, &wr), HM_OK);
	assert_int_equal(hm_write_set(wr, "person", "oom-v2", "village", &v), HM_OK);
	v = test_str("Wang Fang (corrected)");
	assert_int_equal(hm_write_set(wr, "person", "oom-v2", "name", &v), HM_OK);
	assert_int_equal(hm_write_commit(wr, &info), HM_OK);
	test_envs_collect(pristine.v1.n, NULL, &batch);
	test_scratch_path(bundle_path, sizeof(bundle_path), "oom", "pristine.bundle");
	assert_int_equal(hm_bundle_export(pristine.v1.n, NULL, bundle_path, false, NULL, NULL),
	                 HM_OK);
	pristine_close(&pristine.v1, pristine_v, sizeof(pristine_v));
	pristine_close(&pristine.t1, pristine_t, sizeof(pristine_t));
	return 0;
}

static int teardown(void **state)
{
	static const char *const made[] = {"work_v",          "work_t",         "work_out.bundle",
	                                   "pristine.bundle", "oom_pristine_c", "oom_pristine_t1",
	                                   "oom_pristine_v1", "oom_pristine_v2"};
	char path[1024];
	(void)state;

	test_envs_release(&batch);
	tt_mesh_release(&pristine);
	for (size_t i = 0; i < sizeof(made) / sizeof(*made); i++) /* scratch space given back */
		test_scratch_path(path, sizeof(path), "oom", made[i]);
	return 0;
}

#define CASE_TEST(fn, i)                                                                           \
	static void fn(void **state)                                                               \
	{                                                                                          \
		(void)state;                                                                       \
		run_case(&cases[i]);                                                               \
	}
CASE_TEST(test_oom_write, 0)
CASE_TEST(test_oom_apply, 1)
CASE_TEST(test_oom_export, 2)
CASE_TEST(test_oom_import, 3)
CASE_TEST(test_oom_handshake, 4)
CASE_TEST(test_oom_round, 5)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oom_write),     cmocka_unit_test(test_oom_apply),
	    cmocka_unit_test(test_oom_export),    cmocka_unit_test(test_oom_import),
	    cmocka_unit_test(test_oom_handshake), cmocka_unit_test(test_oom_round),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
