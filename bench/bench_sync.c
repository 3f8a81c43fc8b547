/*
 * bench_sync.c - sync over the network (issue #4): a village's records to its township and on
 * to the county, over loopback TCP, in trust mode.
 *
 *   bench_sync [--quick] [--full] [--sizes N,N,...] [--reps N] [--edits N] [--ids ordered|random]
 *              [--dir DIR]
 *
 * Three trust-mode nodes enrolled under one county: a county, a township and a village of that
 * township (hm_identity_init, a storage key, hm_node_create, hm_enroll_request/sign/accept, as
 * `hamlet init` and `hamlet enroll` make them). Each run is its own process (forked from a main
 * process that opens nothing), which forks before it opens any node or socket:
 *
 *   - a setup process creates and enrolls the three nodes, and exits;
 *   - the county and the township each run in their own process: open the node, bind
 *     tcp://127.0.0.1:PORT (a port the kernel picked free), hm_server_serve. The serve loop's
 *     tick reads commands from a pipe: the township syncs to the county as a client
 *     (hm_sync_run), either server edits records or reports digests, and at the end each
 *     reports its getrusage and exits;
 *   - the run process itself is the village: it writes N person records of 8 fields in change
 *     sets of 1000 (a bulk import), then syncs with hm_sync_run over hm_net_connect.
 *
 * Measured: one hop (village -> township), the second hop (township -> county, timed in the
 * township), bytes on the wire per record (bytes_sent + bytes_received / N), --edits records
 * edited on both the village and the township while apart (the same records, a conflicting
 * field), then a sync both ways and on to the county; an idle sync (nothing changed); the peak
 * memory of each process: ru_maxrss, and the private memory (RssAnon) sampled between requests.
 *
 * Checked every run, whatever the timings: the county's digest of the village's scope, the
 * township's and the village's own are equal and every record arrived, after the first sync and
 * after the conflicts; the idle sync moves no change set. Exit status 1 otherwise.
 */
#define _GNU_SOURCE /* prctl */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "sync.h"

#include "bench_common.h"

#define PER_WRITE       1000 /* records per change set, as a bulk import writes them */
#define COUNTY          "county1"
#define TOWNSHIP        "county1/township1"
#define VILLAGE         "county1/township1/village1"
#define MAX_REPS        9
#define MAX_SIZES       8
#define SYNC_TIMEOUT_MS 300000

typedef struct keys {
	hm_identity ident;
	uint8_t storage_key[HM_STORAGE_KEY_BYTES];
} keys;

/* What the records are called: ordered (ULID-like: a millisecond stamp, then a counter) or
 * random (like a UUID). Both sides derive the same id from (scheme, seed, index). */
typedef struct idgen {
	int random;
	uint64_t seed;
} idgen;

enum { CMD_SYNC = 'S', CMD_EDIT = 'E', CMD_DIGEST = 'D', CMD_QUIT = 'Q' };

typedef struct cmd {
	int op;
	size_t n, total; /* CMD_EDIT: edit n records spread over total */
	idgen ids;
} cmd;

typedef struct resp {
	int rc;
	double secs;
	hm_sync_stats st;
	hm_hash digest; /* of VILLAGE's scope */
	size_t records, conflicts;
	long maxrss_kb, anon_kb;
	char why[256];
} resp;

typedef struct proc {
	pid_t pid;
	int cmd_fd, resp_fd;
} proc;

/* What one run measured. */
typedef struct result {
	double write_s, hop1_s, hop2_s, edit_s, conflict_s, conflict_up_s, idle_s;
	size_t hop1_bytes, hop2_bytes, conflict_bytes, conflict_up_bytes, idle_bytes;
	size_t hop1_msgs, conflict_sent, conflict_received, idle_msgs, idle_up_msgs, idle_up_bytes;
	double idle_up_s;
	double info_s;    /* one hm_node_info_get on the village, which every hm_sync_run calls */
	size_t conflicts; /* in the village's conflict log after the conflict sync */
	long rss_kb[3], anon_kb[3]; /* village, township, county */
	int ok;
} result;

static const char *g_dir = "/tmp/hamlet-bench-sync";

static void make_id(const idgen *g, size_t i, char out[32])
{
	if (g->random) {
		uint64_t s = g->seed ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
		uint64_t a = splitmix(&s);
		snprintf(out, 32, "%016" PRIx64 "%04x", a, (unsigned)(i & 0xffff));
	} else /* 48-bit milliseconds, then a counter */
		snprintf(out, 32, "%012" PRIx64 "%08zx", (uint64_t)(g->seed & 0xffffffffffffull),
		         i);
}

/* Peak private memory seen so far (kB), sampled by the callers between requests. */
static long g_anon_peak;

static void sample_anon(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long kb;
		if (sscanf(line, "RssAnon: %ld", &kb) == 1 && kb > g_anon_peak)
			g_anon_peak = kb;
	}
	fclose(f);
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int fail(const char *what, hm_err err, hm_node *n)
{
	fprintf(stderr, "bench_sync: %s: %s%s%s\n", what, hm_strerror(err), n ? ": " : "",
	        n ? hm_node_errmsg(n) : "");
	return 1;
}

static int write_full(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w, n -= (size_t)w;
	}
	return 0;
}

static int read_full(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r, n -= (size_t)r;
	}
	return 0;
}

/* A TCP port on 127.0.0.1 that the kernel picked free (bind port 0). It is closed again before
 * the server binds it, so another program could take it in between: the server then fails to
 * listen and the run fails, loudly. */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (s < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* The bulk import: n records in change sets of PER_WRITE, each a durable commit. */
static hm_err write_records(hm_node *n, const idgen *ids, size_t count)
{
	uint64_t rng = ids->seed * 31 + 7;
	hm_err err;

	for (size_t from = 0; from < count; from += PER_WRITE) {
		hm_write *w;
		if ((err = hm_write_begin(n, &w)))
			return err;
		for (size_t i = from; i < count && i < from + PER_WRITE; i++) {
			char id[32];
			make_id(ids, i, id);
			if ((err = write_person(w, id, &rng))) {
				hm_write_abort(w);
				return err;
			}
		}
		if ((err = hm_write_commit(w, NULL)))
			return err;
	}
	return HM_OK;
}

/* Edit n of total records, spread evenly, in change sets of PER_WRITE: the status field (the
 * conflict: each side writes another value) and one field of each side's own. */
static hm_err edit_records(hm_node *node, const idgen *ids, size_t n, size_t total, bool township)
{
	size_t step = total / n ? total / n : 1;
	hm_value st = str_value(township ? "referred" : "cleared");
	hm_value other = str_value(township ? "12 Township Office Road" : "13800000000");
	const char *other_field = township ? "address" : "phone";
	hm_err err;

	for (size_t from = 0; from < n; from += PER_WRITE) {
		hm_write *w;
		if ((err = hm_write_begin(node, &w)))
			return err;
		for (size_t j = from; j < n && j < from + PER_WRITE; j++) {
			char id[32];
			make_id(ids, j * step, id);
			if ((err = hm_write_set(w, "person", id, "status", &st)) ||
			    (err = hm_write_set(w, "person", id, other_field, &other))) {
				hm_write_abort(w);
				return err;
			}
		}
		if ((err = hm_write_commit(w, NULL)))
			return err;
	}
	return HM_OK;
}

static hm_err node_open(const char *dir, const keys *k, hm_node **out)
{
	hm_node_opts o = {.identity = &k->ident, .storage_key = k->storage_key};
	return hm_node_open(dir, &o, out);
}

static hm_err node_make(const char *dir, hm_role role, const char *region, const keys *k,
                        hm_node **out)
{
	hm_node_opts o = {.identity = &k->ident, .storage_key = k->storage_key};
	hm_err err;

	*out = NULL;
	remove_tree(dir);
	if ((err = hm_node_create(dir, role, region, "bench", &o, NULL)))
		return err;
	return hm_node_open(dir, &o, out);
}

/* Enroll the node n with the county c, as `hamlet enroll` does it. */
static hm_err enroll(hm_node *c, hm_node *n)
{
	uint8_t *req = NULL, *ans = NULL;
	size_t rlen, alen;
	hm_enroll_info info;
	hm_err err;

	if (!(err = hm_enroll_request(n, &req, &rlen)) &&
	    !(err = hm_enroll_sign(c, req, rlen, 365, false, &ans, &alen, &info)))
		err = hm_enroll_accept(n, ans, alen, NULL, &info);
	free(req), free(ans);
	return err;
}

static void dirs(char c[4200], char t[4200], char v[4200])
{
	snprintf(c, 4200, "%s/county", g_dir);
	snprintf(t, 4200, "%s/township", g_dir);
	snprintf(v, 4200, "%s/village", g_dir);
}

/* The setup process: the county (the root of trust), the township and the village enrolled by
 * it. Every node is closed again before it exits. */
static int setup_nodes(const keys k[3])
{
	char cd[4200], td[4200], vd[4200];
	hm_node *c = NULL, *t = NULL, *v = NULL;
	hm_err err;
	int rc = 1;

	dirs(cd, td, vd);
	if ((err = node_make(cd, HM_ROLE_COUNTY, COUNTY, &k[2], &c)) ||
	    (err = node_make(td, HM_ROLE_TOWNSHIP, TOWNSHIP, &k[1], &t)) ||
	    (err = node_make(vd, HM_ROLE_VILLAGE, VILLAGE, &k[0], &v)) || (err = enroll(c, t)) ||
	    (err = enroll(c, v)))
		fail("making and enrolling the nodes", err, NULL);
	else
		rc = 0;
	hm_node_close(c), hm_node_close(t), hm_node_close(v);
	return rc;
}

/* ---- the server processes ---- */

typedef struct server {
	hm_node *node;
	const char *upstream; /* the township's county, NULL for the county */
	int cmd_fd, resp_fd;
	volatile int stop;
	int failed;
} server;

static hm_err sync_to(hm_node *n, const char *url, hm_sync_stats *st, const char **why)
{
	hm_transport t;
	hm_sync_opts o = {.timeout_ms = SYNC_TIMEOUT_MS};
	hm_err err;

	memset(st, 0, sizeof(*st));
	*why = "";
	if ((err = hm_net_connect(url, &t, why)))
		return err;
	if ((err = hm_sync_run(n, &t, &o, st)))
		*why = hm_sync_errmsg();
	t.close(t.ctx);
	return err;
}

static hm_err digest_of(hm_node *n, resp *r)
{
	hm_node_info info;
	hm_err err;

	if ((err = hm_node_digest(n, VILLAGE, &r->digest)) || (err = hm_node_info_get(n, &info)))
		return err;
	r->records = info.records, r->conflicts = info.conflicts;
	return HM_OK;
}

static void server_tick(void *ctx)
{
	server *s = ctx;
	struct pollfd p = {.fd = s->cmd_fd, .events = POLLIN};
	resp r;
	cmd c;
	double t0;
	hm_err err = HM_OK;

	sample_anon();
	if (poll(&p, 1, 0) != 1)
		return;
	if (read_full(s->cmd_fd, &c, sizeof(c))) { /* the run process is gone */
		s->stop = 1, s->failed = 1;
		return;
	}
	memset(&r, 0, sizeof(r));
	t0 = now_secs();
	switch (c.op) {
	case CMD_SYNC: {
		const char *why = "";
		if (!s->upstream) {
			err = HM_ERR_INVALID;
			break;
		}
		if ((err = sync_to(s->node, s->upstream, &r.st, &why)))
			snprintf(r.why, sizeof(r.why), "%s", why);
		break;
	}
	case CMD_EDIT:
		if ((err = edit_records(s->node, &c.ids, c.n, c.total, true)))
			snprintf(r.why, sizeof(r.why), "%s", hm_node_errmsg(s->node));
		break;
	case CMD_DIGEST:
		err = digest_of(s->node, &r);
		break;
	case CMD_QUIT:
		s->stop = 1;
		return; /* answered when the loop has ended */
	default:
		err = HM_ERR_INVALID;
	}
	r.secs = now_secs() - t0;
	r.rc = (int)err;
	sample_anon();
	if (write_full(s->resp_fd, &r, sizeof(r)))
		s->stop = 1, s->failed = 1;
}

/* A server process: never returns. Answers one resp when listening (or failing to), one per
 * command, and one with its memory when it quits. */
static void server_main(const char *dir, const keys *k, int port, const char *upstream, int cmd_fd,
                        int resp_fd)
{
	server s = {.upstream = upstream, .cmd_fd = cmd_fd, .resp_fd = resp_fd};
	hm_server *srv = NULL;
	hm_transport t;
	const char *why = "";
	char url[64];
	resp r = {0};
	hm_err err;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the run */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	if ((err = node_open(dir, k, &s.node)) || (err = hm_server_new(s.node, &srv)) ||
	    (err = hm_net_listen(url, &t, &why))) {
		r.rc = err ? (int)err : 1;
		snprintf(r.why, sizeof(r.why), "%s %s: %s", dir, url,
		         *why     ? why
		         : s.node ? hm_node_errmsg(s.node)
		                  : "");
		(void)write_full(resp_fd, &r, sizeof(r));
		_exit(1);
	}
	(void)write_full(resp_fd, &r, sizeof(r)); /* listening */
	err = hm_server_serve(srv, &t, &s.stop, server_tick, &s, 2);
	memset(&r, 0, sizeof(r));
	if (err) {
		r.rc = (int)err;
		snprintf(r.why, sizeof(r.why), "serving: %s", hm_sync_errmsg());
	}
	t.close(t.ctx);
	hm_server_free(srv);
	hm_node_close(s.node);
	sample_anon();
	r.maxrss_kb = maxrss_kb(), r.anon_kb = g_anon_peak;
	(void)write_full(resp_fd, &r, sizeof(r));
	_exit(err || s.failed ? 1 : 0);
}

static int start_server(proc *p, const char *dir, const keys *k, int port, const char *upstream)
{
	int to_child[2], from_child[2];
	resp r;

	if (pipe(to_child) || pipe(from_child))
		return 1;
	if ((p->pid = fork()) < 0)
		return 1;
	if (p->pid == 0) {
		close(to_child[1]), close(from_child[0]);
		server_main(dir, k, port, upstream, to_child[0], from_child[1]);
	}
	close(to_child[0]), close(from_child[1]);
	p->cmd_fd = to_child[1], p->resp_fd = from_child[0];
	if (read_full(p->resp_fd, &r, sizeof(r)) || r.rc) {
		fprintf(stderr, "bench_sync: the server in %s did not start: %s\n", dir, r.why);
		return 1;
	}
	return 0;
}

static int command(proc *p, const cmd *c, resp *r)
{
	if (write_full(p->cmd_fd, c, sizeof(*c)) || read_full(p->resp_fd, r, sizeof(*r))) {
		fprintf(stderr, "bench_sync: a server process stopped answering\n");
		return 1;
	}
	if (r->rc) {
		fprintf(stderr, "bench_sync: command %c: %s: %s\n", c->op, hm_strerror(r->rc),
		        r->why);
		return 1;
	}
	return 0;
}

/* Stop a server and collect its memory; kill it if it does not end. */
static void stop_server(proc *p, long *rss, long *anon)
{
	cmd c = {.op = CMD_QUIT};
	resp r;
	int status;

	if (p->pid <= 0)
		return;
	if (!write_full(p->cmd_fd, &c, sizeof(c)) && !read_full(p->resp_fd, &r, sizeof(r)))
		*rss = r.maxrss_kb, *anon = r.anon_kb;
	for (int i = 0; i < 100 && waitpid(p->pid, &status, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(p->pid, &status, WNOHANG) == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
	}
	close(p->cmd_fd), close(p->resp_fd);
	p->pid = 0;
}

/* ---- the run process: the village ---- */

static int village_progress_dummy;

static void on_progress(void *ctx, const hm_sync_stats *st, size_t todo)
{
	(void)ctx, (void)st, (void)todo;
	sample_anon();
}

static hm_err village_sync(hm_node *v, const char *url, hm_sync_stats *st, double *secs)
{
	hm_transport t;
	hm_sync_opts o = {.timeout_ms = SYNC_TIMEOUT_MS,
	                  .progress = on_progress,
	                  .progress_ctx = &village_progress_dummy};
	const char *why = "";
	double t0 = now_secs();
	hm_err err;

	memset(st, 0, sizeof(*st));
	if ((err = hm_net_connect(url, &t, &why))) {
		fprintf(stderr, "bench_sync: connecting to %s: %s\n", url, why);
		return err;
	}
	if ((err = hm_sync_run(v, &t, &o, st)))
		fprintf(stderr, "bench_sync: sync with %s: %s\n", url, hm_sync_errmsg());
	t.close(t.ctx);
	*secs = now_secs() - t0;
	sample_anon();
	return err;
}

/* The village's, the township's and the county's views of the village agree, and hold all
 * n records. */
static int check_views(hm_node *v, proc *township, proc *county, size_t n, const char *when)
{
	cmd c = {.op = CMD_DIGEST};
	resp rt, rc;
	hm_hash dv;
	hm_node_info info;
	hm_err err;

	if ((err = hm_node_digest(v, VILLAGE, &dv)) || (err = hm_node_info_get(v, &info)))
		return fail("the village's digest", err, v);
	if (command(township, &c, &rt) || command(county, &c, &rc))
		return 1;
	if (!hm_hash_equal(&dv, &rt.digest) || !hm_hash_equal(&dv, &rc.digest)) {
		fprintf(stderr,
		        "bench_sync: %s: digests differ (village/township %s, village/county "
		        "%s)\n",
		        when, hm_hash_equal(&dv, &rt.digest) ? "equal" : "DIFFER",
		        hm_hash_equal(&dv, &rc.digest) ? "equal" : "DIFFER");
		return 1;
	}
	if (info.records != n || rt.records != n || rc.records != n) {
		fprintf(stderr,
		        "bench_sync: %s: records village %zu, township %zu, county %zu, "
		        "expected %zu\n",
		        when, info.records, rt.records, rc.records, n);
		return 1;
	}
	return 0;
}

static int run_once(size_t n, size_t edits, int random_ids, uint64_t seed, result *out)
{
	char cd[4200], td[4200], vd[4200], county_url[64], township_url[64];
	keys k[3]; /* village, township, county */
	proc township = {0}, county = {0};
	hm_node *v = NULL;
	idgen ids = {.random = random_ids, .seed = seed};
	hm_sync_stats st;
	cmd c;
	resp r;
	pid_t pid;
	int status, rc = 1, cport, tport;
	double t0;
	hm_err err;

	memset(out, 0, sizeof(*out));
	dirs(cd, td, vd);
	for (int i = 0; i < 3; i++) {
		hm_random_bytes(k[i].storage_key, sizeof(k[i].storage_key));
		if ((err = hm_identity_init(&k[i].ident)))
			return fail("making keys", err, NULL);
	}
	/* Every node is made, enrolled and closed in a process of its own. */
	if ((pid = fork()) == 0)
		_exit(setup_nodes(k));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		goto out;
	if ((cport = free_port()) < 0 || (tport = free_port()) < 0 || cport == tport) {
		fprintf(stderr, "bench_sync: no free port on 127.0.0.1\n");
		goto out;
	}
	snprintf(county_url, sizeof(county_url), "tcp://127.0.0.1:%d", cport);
	snprintf(township_url, sizeof(township_url), "tcp://127.0.0.1:%d", tport);
	if (start_server(&county, cd, &k[2], cport, NULL) ||
	    start_server(&township, td, &k[1], tport, county_url))
		goto out;

	/* The village: open it only now, after every fork. */
	if ((err = node_open(vd, &k[0], &v))) {
		fail("opening the village", err, v);
		goto out;
	}
	t0 = now_secs();
	if ((err = write_records(v, &ids, n))) {
		fail("writing", err, v);
		goto out;
	}
	out->write_s = now_secs() - t0;
	sample_anon();

	/* Hop 1: village -> township. Hop 2: township -> county. */
	if (village_sync(v, township_url, &st, &out->hop1_s))
		goto out;
	out->hop1_bytes = st.bytes_sent + st.bytes_received, out->hop1_msgs = st.messages;
	if (st.remote.new_ != st.sent || st.remote.refused) {
		fprintf(stderr,
		        "bench_sync: the township took %zu of %zu change sets (%zu refused)\n",
		        st.remote.new_, st.sent, st.remote.refused);
		goto out;
	}
	c = (cmd){.op = CMD_SYNC};
	if (command(&township, &c, &r))
		goto out;
	out->hop2_s = r.secs, out->hop2_bytes = r.st.bytes_sent + r.st.bytes_received;
	if (check_views(v, &township, &county, n, "after two hops"))
		goto out;

	/* Conflicts: both sides edit the same records while apart, then sync both ways, and the
	 * township passes it all on to the county. */
	if (edits) {
		t0 = now_secs();
		if ((err = edit_records(v, &ids, edits, n, false))) {
			fail("editing on the village", err, v);
			goto out;
		}
		out->edit_s = now_secs() - t0;
		c = (cmd){.op = CMD_EDIT, .n = edits, .total = n, .ids = ids};
		if (command(&township, &c, &r))
			goto out;
		if (village_sync(v, township_url, &st, &out->conflict_s))
			goto out;
		out->conflict_bytes = st.bytes_sent + st.bytes_received;
		out->conflict_sent = st.sent, out->conflict_received = st.received;
		c = (cmd){.op = CMD_SYNC};
		if (command(&township, &c, &r))
			goto out;
		out->conflict_up_s = r.secs;
		out->conflict_up_bytes = r.st.bytes_sent + r.st.bytes_received;
		if (check_views(v, &township, &county, n, "after the conflicts"))
			goto out;
		{
			hm_node_info info;
			if ((err = hm_node_info_get(v, &info))) {
				fail("info", err, v);
				goto out;
			}
			out->conflicts = info.conflicts;
		}
	}

	/* Idle: nothing changed anywhere. */
	if (village_sync(v, township_url, &st, &out->idle_s))
		goto out;
	out->idle_bytes = st.bytes_sent + st.bytes_received, out->idle_msgs = st.messages;
	if (st.sent || st.received) {
		fprintf(stderr, "bench_sync: the idle sync moved %zu and %zu change sets\n",
		        st.sent, st.received);
		goto out;
	}
	c = (cmd){.op = CMD_SYNC};
	if (command(&township, &c, &r))
		goto out;
	out->idle_up_s = r.secs, out->idle_up_msgs = r.st.messages;
	out->idle_up_bytes = r.st.bytes_sent + r.st.bytes_received;
	if (r.st.sent || r.st.received) {
		fprintf(stderr, "bench_sync: the idle township sync moved change sets\n");
		goto out;
	}
	/* hm_sync_run begins with hm_node_info_get, which counts the live records: time it alone.
	 */
	{
		hm_node_info info;
		t0 = now_secs();
		if ((err = hm_node_info_get(v, &info))) {
			fail("info", err, v);
			goto out;
		}
		out->info_s = now_secs() - t0;
	}
	rc = 0;
out:
	hm_node_close(v);
	stop_server(&township, &out->rss_kb[1], &out->anon_kb[1]);
	stop_server(&county, &out->rss_kb[2], &out->anon_kb[2]);
	out->rss_kb[0] = maxrss_kb(), out->anon_kb[0] = g_anon_peak;
	for (int i = 0; i < 3; i++) {
		hm_identity_release(&k[i].ident);
		hm_wipe(k[i].storage_key, sizeof(k[i].storage_key));
	}
	remove_tree(g_dir);
	out->ok = rc == 0;
	return rc;
}

/* Each run in a fresh process, so that each ru_maxrss is that run's alone. */
static int run_child(size_t n, size_t edits, int random_ids, uint64_t seed, result *res)
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return 1;
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		result r;
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int rc = run_once(n, edits, random_ids, seed, &r);
		(void)write_full(fds[1], &r, sizeof(r));
		_exit(rc);
	}
	close(fds[1]);
	memset(res, 0, sizeof(*res));
	if (read_full(fds[0], res, sizeof(*res)))
		res->ok = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0 && res->ok);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_at(const result *r, int n, size_t off)
{
	double v[MAX_REPS];
	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long max_long(const result *r, int n, int who, int anon)
{
	long m = 0;
	for (int i = 0; i < n; i++) {
		long x = anon ? r[i].anon_kb[who] : r[i].rss_kb[who];
		if (x > m)
			m = x;
	}
	return m;
}

#define MED(field) median_at(res, reps, offsetof(result, field))

static void report(size_t n, size_t edits, const result *res, int reps)
{
	const result *r0 = &res[0];
	double hop1 = MED(hop1_s), hop2 = MED(hop2_s);

	printf("\n== %zu records (%zu field ops), median of %d ==\n", n, n * FIELDS_PER_RECORD,
	       reps);
	printf("  write, village (change sets of %d)   %8.3f s  %9.0f records/s\n", PER_WRITE,
	       MED(write_s), (double)n / MED(write_s));
	printf("  hop 1 village -> township         %8.3f s  %9.0f records/s  %6.1f B/record  "
	       "%zu messages   (goal < 2 s at 100k)\n",
	       hop1, (double)n / hop1, (double)r0->hop1_bytes / (double)n, r0->hop1_msgs);
	printf("  hop 2 township -> county          %8.3f s  %9.0f records/s  %6.1f B/record\n",
	       hop2, (double)n / hop2, (double)r0->hop2_bytes / (double)n);
	printf("  village -> county, two hops       %8.3f s                        "
	       "(goal < 4 s at 100k)\n",
	       MED(hop1_s) + MED(hop2_s));
	if (edits) {
		printf(
		    "  %zu conflicting edits: write on the village %.3f s; sync both ways %.3f s, "
		    "%zu bytes (%.1f B/edited record), %zu change sets sent, %zu received, %zu "
		    "conflicts logged\n",
		    edits, MED(edit_s), MED(conflict_s), r0->conflict_bytes,
		    (double)r0->conflict_bytes / (double)edits, r0->conflict_sent,
		    r0->conflict_received, r0->conflicts);
		printf("    then township -> county %.3f s, %zu bytes\n", MED(conflict_up_s),
		       r0->conflict_up_bytes);
	}
	printf("  idle sync village -> township     %8.4f s  %zu messages, %zu bytes\n",
	       MED(idle_s), r0->idle_msgs, r0->idle_bytes);
	printf("  idle sync township -> county      %8.4f s  %zu messages, %zu bytes\n",
	       MED(idle_up_s), r0->idle_up_msgs, r0->idle_up_bytes);
	printf("  hm_node_info_get alone (counts every record, as status does; sync does not) "
	       "%.4f s on the village\n",
	       MED(info_s));
	printf(
	    "  peak memory, MiB (max over runs): ru_maxrss / RssAnon sampled between requests\n");
	static const char *const who[3] = {"village (client)", "township (server)",
	                                   "county (server)"};
	for (int i = 0; i < 3; i++)
		printf("    %-20s %7.1f / %6.1f\n", who[i], max_long(res, reps, i, 0) / 1024.0,
		       max_long(res, reps, i, 1) / 1024.0);
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_sync [--quick] [--full] [--sizes N,N,...] [--reps N] "
	                "[--edits N] [--ids ordered|random] [--dir DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = {10000, 100000}, edits = 10000;
	int nsizes = 2, reps = 3, random_ids = 0;
	char *dir = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			sizes[0] = 2000, nsizes = 1, reps = 1, edits = 2000;
		else if (strcmp(argv[i], "--full") == 0)
			sizes[0] = 10000, sizes[1] = 100000, sizes[2] = 1000000, nsizes = 3;
		else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
			char *p = argv[++i];
			nsizes = 0;
			while (*p && nsizes < MAX_SIZES) {
				sizes[nsizes++] = strtoull(p, &p, 10);
				if (*p == ',')
					p++;
			}
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--edits") == 0 && i + 1 < argc)
			edits = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "random") == 0)
				random_ids = 1;
			else if (strcmp(argv[i], "ordered"))
				return usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else
			return usage();
	}
	if (nsizes < 1 || reps < 1 || reps > MAX_REPS)
		return usage();
	for (int s = 0; s < nsizes; s++)
		if (sizes[s] < 1)
			return usage();
	if (dir)
		g_dir = dir;
	/* As `hamlet` does: libsodium picks its fastest implementations for this CPU. */
	if (hm_crypto_init())
		return fail("initialising libsodium", HM_ERR_CRYPTO, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("bench_sync: trust mode, village %s -> township -> county over tcp://127.0.0.1, "
	       "%s ids, data in %s\n",
	       VILLAGE, random_ids ? "random" : "ordered", g_dir);
	for (int s = 0; s < nsizes; s++) {
		result res[MAX_REPS];
		size_t e = edits < sizes[s] ? edits : sizes[s];
		for (int r = 0; r < reps; r++) {
			uint64_t seed = (uint64_t)time(NULL) * 1000 + (uint64_t)r;
			if (run_child(sizes[s], e, random_ids, seed, &res[r])) {
				fprintf(stderr, "bench_sync: FAILED at %zu records, run %d\n",
				        sizes[s], r + 1);
				return 1;
			}
		}
		report(sizes[s], e, res, reps);
	}
	return 0;
}
