/*
 * net_cmds.c - `hamlet sync` (one session with a peer, progress on the terminal) and `hamlet
 * serve` (the daemon: answers sessions, syncs with each peer on a schedule in child processes,
 * retries with backoff, watches the disk).
 */
#include "peers.h"
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- progress ---- */

typedef struct progress {
	bool tty;
	uint64_t start, last;
} progress;

/* The rate shown is what the link truly carried since the sync began (bytes both ways over
 * the time so far), and the time left is what is still to move at that rate, at the size the
 * change sets moved so far had on average. */
static void show_progress(void *ctx, const hm_sync_stats *st, size_t todo)
{
	progress *pg = ctx;
	uint64_t now = now_ms();
	double secs = (double)(now - pg->start) / 1000.0;
	size_t moved = st->sent + st->received, bytes = st->bytes_sent + st->bytes_received;
	double rate = secs > 0 ? (double)bytes / secs : 0.0;

	if (!pg->tty && now - pg->last < 1000)
		return; /* plain lines at most once a second */
	pg->last = now;
	fprintf(stderr,
	        "%shamlet: sync: %zu change sets (%zu sent, %zu received), %.1f KiB, %.1f KiB/s",
	        pg->tty ? "\r" : "", moved, st->sent, st->received, (double)bytes / 1024.0,
	        rate / 1024.0);
	if (todo && rate > 0 && moved)
		fprintf(stderr, ", %zu to go, about %.0f s left", todo,
		        (double)todo * ((double)bytes / (double)moved) / rate);
	if (st->rtt_ms)
		fprintf(stderr, " (round trip %u ms, batches of %.0f KiB)", st->rtt_ms,
		        (double)st->batch_bytes / 1024.0);
	fputs(pg->tty ? "   " : "\n", stderr);
}

/* One sync with url; fills st. A peer that accepts no connection fails at once, one that does
 * not answer within connect_ms then: the daemon retries with backoff. limit: bytes/s, 0 none. */
static hm_err sync_once(hm_node *n, const char *url, bool show, size_t limit, hm_sync_stats *st,
                        const char **why)
{
	hm_transport t;
	progress pg = {cli_is_tty(stderr), now_ms(), 0};
	hm_sync_opts o = {.timeout_ms = 10000,
	                  .limit_rate = limit,
	                  .progress = show ? show_progress : NULL,
	                  .progress_ctx = &pg};
	hm_err err;

	if ((err = hm_net_connect_within(url, HM_CONNECT_TIMEOUT_MS, &t, why)))
		return err;
	err = hm_sync_run(n, &t, &o, st);
	if (err)
		*why = hm_sync_errmsg();
	if (show && pg.tty)
		fputc('\n', stderr);
	t.close(t.ctx);
	return err;
}

static void print_sync(const char *target, const hm_sync_stats *st, uint64_t ms, bool json)
{
	char id[2 * HM_NODE_ID_BYTES + 1];

	hm_node_id_hex(&st->peer.id, id);
	if (json) {
		json_t *o = json_pack(
		    "{s:o, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "peer", hm_json_cstr(target), "peer_id", id, "peer_region",
		    hm_json_cstr(st->peer.region), "sent", (json_int_t)st->sent, "received",
		    (json_int_t)st->received, "new", (json_int_t)st->applied.new_, "duplicate",
		    (json_int_t)st->applied.duplicate, "pending", (json_int_t)st->applied.pending,
		    "refused", (json_int_t)st->applied.refused, "peer_new",
		    (json_int_t)st->remote.new_, "peer_refused", (json_int_t)st->remote.refused,
		    "bytes_sent", (json_int_t)st->bytes_sent, "bytes_received",
		    (json_int_t)st->bytes_received, "messages", (json_int_t)st->messages, "ms",
		    (json_int_t)ms);
		/* the peer's clock minus ours, from the handshake (null: the peer did not say) */
		json_object_set_new(o, "clock_offset_ms",
		                    st->clock_known ? json_integer(st->clock_offset_ms)
		                                    : json_null());
		cj_print(stdout, o);
		return;
	}
	printf("synced with ");
	hm_text_cstr(stdout, target);
	printf(" (");
	hm_text_cstr(stdout, st->peer.region);
	printf(", %s): sent %zu change set%s (%zu new there), received %zu (%zu new here), "
	       "%zu byte%s in %zu message%s, %.2f s\n",
	       id, st->sent, st->sent == 1 ? "" : "s", st->remote.new_, st->received,
	       st->applied.new_, st->bytes_sent + st->bytes_received,
	       st->bytes_sent + st->bytes_received == 1 ? "" : "s", st->messages,
	       st->messages == 1 ? "" : "s", (double)ms / 1000.0);
}

/* "BYTES", "Nk" (KiB) or "Nm" (MiB) per second, at least 1 KiB/s. */
static bool parse_rate(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return false;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || v < 1024 || v > (1ull << 40))
		return false;
	*out = (size_t)v;
	return true;
}

int cmd_sync(cli *c, int argc, char **argv)
{
	const char *target = NULL, *why = NULL, *url;
	char why_buf[600];
	bool json = false;
	hm_peers ps;
	hm_link *p = NULL;
	hm_node *n;
	hm_sync_stats st;
	size_t limit = 0;
	uint64_t t0;
	hm_err err;
	int rc, saved = EXIT_OK;

	const char *rate = NULL;
	const cli_opt opts[] = {
	    {"limit-rate", 0, &rate, NULL, "BYTES_PER_S",
	     N_("cap the bytes moved both ways (suffix k: KiB, m: MiB; at least 1024)")},
	    {"json", 0, NULL, &json, NULL, N_("print a summary as JSON")},
	    {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 1, 1);
	target = pos[0];
	if (rate && !parse_rate(rate, &limit))
		return cli_fail(c, EXIT_USAGE,
		                "--limit-rate takes bytes per second "
		                "(at least 1024; a suffix k or m: KiB, MiB)");
	if ((rc = cli_peers_load(c, &ps)))
		return rc;
	if ((p = hm_peers_find(&ps, target)))
		url = p->url;
	else if (hm_peer_url_valid(target) && strchr(target, ','))
		return cli_fail(c, EXIT_USAGE,
		                "'%s' is a list: sync with one URL (one of those the peer's daemon "
		                "listens on)",
		                target);
	else if (hm_peer_url_valid(target))
		url = target;
	else
		return cli_fail(c, EXIT_USAGE,
		                "'%s' is neither a peer (hamlet peer list) nor a URL", target);
	if ((rc = cli_open(c, &n)))
		return rc;
	t0 = now_ms();
	err = sync_once(n, url, !json, limit, &st, &why);
	if (err) /* it may quote the peer: one line, escaped, in peers.state and on stderr */
		why = out_text_str(why ? why : hm_strerror(err), why_buf, sizeof(why_buf));
	if (p) { /* remember the outcome for status */
		if (err)
			hm_link_failed(p, now_ms(), why);
		else
			hm_link_succeeded(p, now_ms(), st.sent, st.received, 0);
		if (!err && hm_link_remember(c->dir, n, p, st.peer.region))
			saved = cli_fail(c, EXIT_FAIL, "%s", hm_sync_errmsg());
		if (cli_peers_save(c, &ps, HM_PEERS_STATE))
			saved = EXIT_FAIL;
	}
	/* Batches before the failure were committed: say so, or "nothing was written" misleads. */
	if (err && st.applied.new_ + st.applied.pending)
		rc = cli_fail(c, EXIT_FAIL,
		              "with %s: %s; the %zu change sets received before it were kept "
		              "(syncing again goes on from there)",
		              target, why, st.applied.new_ + st.applied.pending);
	else if (err)
		rc = cli_fail(c, EXIT_FAIL, "with %s: %s", target, why);
	else
		print_sync(target, &st, now_ms() - t0, json);
	/* The sync went through but its record (peers.state, peer-NAME.vv) did not: a full disk
	 * still fails the command, so a script sees it; syncing again is harmless. */
	if (!err && saved != EXIT_OK)
		rc = cli_fail(c, EXIT_FAIL,
		              "with %s: the change sets moved are kept, but this node's record of "
		              "the sync was not saved (status shows the last one saved)",
		              target);
	hm_node_close(n);
	return rc;
}

/* ---- hamlet serve ---- */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t daemon_pid; /* in serve: the daemon child, passed a stop at once */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (daemon_pid > 0)
		kill((pid_t)daemon_pid, SIGTERM);
}

/* A scheduled sync, run as a child process (`hamlet sync URL --json`): its pipes and what it
 * wrote on them so far. */
typedef struct sync_child {
	pid_t pid;          /* 0: none running */
	int out_fd, err_fd; /* its stdout (the --json summary) and stderr, non-blocking */
	char out[2048];     /* what it printed on stdout so far */
	size_t out_len;
	char err_tail[512]; /* the last line it printed on stderr */
} sync_child;

typedef struct daemon_ctx {
	cli *c;
	hm_node *n;
	hm_peers ps;
	hm_peers disk;                 /* peers.state as read before saving (finish_sync) */
	hm_schedule sched;             /* when each peer is due, the backoff, the disk */
	sync_child kids[HM_PEERS_MAX]; /* kids[i] runs the sync with ps.p[i] */
	const char *limit_rate;        /* handed to each sync child, NULL: none */
	char pass[1024];               /* handed to each sync child over a pipe; wiped at exit */
	bool pass_locked;              /* pass is kept out of swap (hm_secret_lock) */
} daemon_ctx;

/* The passphrase, kept for the sync children and a restart: out of swap where the system allows
 * (docs/security.md, "Secrets in memory"). fork passes no lock on: the daemon takes its own. */
static void pass_keep(daemon_ctx *d)
{
	d->pass_locked = hm_secret_lock(d->pass, sizeof(d->pass));
}

static void pass_forget(daemon_ctx *d)
{
	hm_wipe(d->pass, sizeof(d->pass));
	if (d->pass_locked)
		hm_secret_unlock(d->pass, sizeof(d->pass));
	d->pass_locked = false;
}

static void logline(const char *level, const char *fmt, ...) HM_PRINTF(2, 3);
static void logline(const char *level, const char *fmt, ...)
{
	char ts[32], msg[2048];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s hamlet serve %s: ", ts, level);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A peer's name, a reason a sync failed: one line each, whatever they hold. */
	out_text_cstr(stderr, msg);
	fputc('\n', stderr);
}

/* Take what a sync child has written so far, without waiting: its summary (stdout) is kept;
 * its log lines (stderr) go on to our log, the last one kept as the reason of a failure. A
 * child's pipes must never fill, or it would block writing and never exit. */
static void pump(sync_child *k)
{
	char buf[4096];
	ssize_t r;

	while ((r = read(k->out_fd, buf, sizeof(buf))) > 0) {
		size_t room = sizeof(k->out) - 1 - k->out_len,
		       n = (size_t)r < room ? (size_t)r : room;
		memcpy(k->out + k->out_len, buf, n);
		k->out_len += n;
		k->out[k->out_len] = 0;
	}
	while ((r = read(k->err_fd, buf, sizeof(buf) - 1)) > 0) {
		char *last, *end;
		buf[r] = 0;
		/* The child's lines go on to our log one by one, escaped like every log line. */
		for (char *line = buf, *nl; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			out_text(stderr, line, nl ? (size_t)(nl - line) : strlen(line));
			if (!nl)
				break;
			fputc('\n', stderr);
		}
		end = buf + r;
		while (end > buf && end[-1] == '\n')
			*--end = 0;
		last = strrchr(buf, '\n');
		snprintf(k->err_tail, sizeof(k->err_tail), "%.*s", (int)sizeof(k->err_tail) - 1,
		         last ? last + 1 : buf);
	}
}

/* What the child said: the one JSON document `sync --json` prints on stdout, a summary or
 * {"error", "exit"} (its "with URL: " taken off), and its last line on stderr. The strings of
 * *r point into doc (the caller's, to json_decref), into k, or into url. */
static void child_result(sync_child *k, const char *url, json_t **doc, hm_sync_result *r)
{
	const char *msg, *region = NULL;
	json_int_t sent = 0, received = 0;
	size_t ulen = strlen(url);
	json_t *e;

	r->last_line = k->err_tail;
	*doc = json_loads(k->out, JSON_DISABLE_EOF_CHECK, NULL);
	if (*doc && (e = json_object_get(*doc, "error")) && (msg = json_string_value(e))) {
		char with[512]; /* "with URL: " as the child said it, in its language or not */
		int n = snprintf(with, sizeof(with), _("with %s: %s"), url, "");
		if (!strncmp(msg, "with ", 5) && !strncmp(msg + 5, url, ulen) &&
		    !strncmp(msg + 5 + ulen, ": ", 2))
			msg += 7 + ulen;
		else if (n > 0 && (size_t)n < sizeof(with) && !strncmp(msg, with, (size_t)n))
			msg += n;
		r->error = msg;
	} else if (*doc && !json_unpack(*doc, "{s:I, s:I, s:s}", "sent", &sent, "received",
	                                &received, "peer_region", &region)) {
		r->summary = true;
		r->sent = (size_t)sent, r->received = (size_t)received;
		r->peer_region = region;
	}
}

/* A scheduled sync runs as a child process (`hamlet sync URL --json`), so this process keeps
 * answering other peers while it waits on one that is down. The passphrase goes over a pipe. */
static void start_sync(daemon_ctx *d, hm_link *p, sync_child *k)
{
	int in[2], out[2], err[2];
	pid_t pid;

	if (pipe(in) || pipe(out) || pipe(err)) {
		logline("error", "cannot start a sync with %s: %s", p->name, strerror(errno));
		return;
	}
	if ((pid = fork()) == 0) {
		char fdpath[32], self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		/* Only the child's ends stay open, or the passphrase pipe never reaches EOF. */
		close(in[1]), close(out[0]), close(err[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* a daemon that stops takes its syncs along */
		dup2(in[0], 3);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		snprintf(fdpath, sizeof(fdpath), "/dev/fd/3");
		self[n > 0 ? n : 0] = 0;
		if (d->limit_rate)
			execl(self, "hamlet", "-d", d->c->dir, "--passphrase-file", fdpath, "sync",
			      p->url, "--json", "--limit-rate", d->limit_rate, (char *)NULL);
		else
			execl(self, "hamlet", "-d", d->c->dir, "--passphrase-file", fdpath, "sync",
			      p->url, "--json", (char *)NULL);
		_exit(127);
	}
	close(in[0]), close(out[1]), close(err[1]);
	if (pid < 0) {
		close(in[1]), close(out[0]), close(err[0]);
		logline("error", "cannot start a sync with %s: %s", p->name, strerror(errno));
		return;
	}
	if (write(in[1], d->pass, strlen(d->pass)) < 0 || write(in[1], "\n", 1) < 0)
		logline("warning", "could not hand the passphrase to the sync with %s", p->name);
	close(in[1]);
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	fcntl(err[0], F_SETFL, fcntl(err[0], F_GETFL) | O_NONBLOCK);
	k->pid = pid, k->out_fd = out[0], k->err_fd = err[0];
	k->out_len = 0, k->out[0] = 0, k->err_tail[0] = 0;
	hm_schedule_started(&d->sched, p);
}

/* A sync child is done: the schedule records what it did; we log it and save the state. */
static void finish_sync(daemon_ctx *d, hm_link *p, sync_child *k, int status)
{
	hm_sync_result r = {.exit_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0};
	uint64_t now = now_ms();
	json_t *doc;

	pump(k); /* the child has exited: the rest is there */
	close(k->out_fd), close(k->err_fd);
	k->pid = 0;
	child_result(k, p->url, &doc, &r);
	switch (hm_schedule_finished(&d->sched, p, now, &r)) {
	case HM_SYNC_FAILED:
		logline("warning", "sync with %s (%s) failed (%u in a row): %s; next try in %.1f s",
		        p->name, p->url, p->failures, p->reason,
		        (double)(p->next_try - now) / 1000.0);
		break;
	case HM_SYNC_BACK:
		logline("info", "link to %s is back", p->name);
		/* fall through */
	case HM_SYNC_DONE:
		if (hm_region_valid(r.peer_region) &&
		    hm_link_remember(d->c->dir, d->n, p, r.peer_region))
			cli_fail(d->c, EXIT_FAIL, "%s", hm_sync_errmsg());
		if (r.sent || r.received)
			logline("info", "synced with %s: sent %zu, received %zu", p->name, r.sent,
			        r.received);
		break;
	}
	json_decref(doc);
	/* the web interface beside us may have synced other links meanwhile: keep its outcomes */
	if (!hm_peers_load(d->c->dir, &d->disk))
		hm_peers_adopt(&d->ps, &d->disk, p);
	cli_peers_save(d->c, &d->ps, HM_PEERS_STATE);
}

/* Once a second the schedule looks at the disk; a change is said in the log once each way. */
static void disk_watch(daemon_ctx *d, uint64_t now)
{
	uint64_t free_bytes;
	char text[32];

	switch (hm_schedule_disk(&d->sched, now, &free_bytes)) {
	case HM_DISK_SAME:
		return;
	case HM_DISK_FULL:
		fmt_bytes(text, sizeof(text), free_bytes);
		logline("error",
		        "the disk holding %s is full (%s free): answering status and syncs that "
		        "pull; writes and syncs that bring change sets wait for space",
		        d->c->dir, text);
		return;
	case HM_DISK_ROOM:
		fmt_bytes(text, sizeof(text), free_bytes);
		logline("info", "the disk holding %s has room again (%s free): writes resume",
		        d->c->dir, text);
		return;
	}
}

static void tick(void *arg)
{
	daemon_ctx *d = arg;
	uint64_t now = now_ms();

	disk_watch(d, now);

	for (size_t i = 0; i < d->ps.n && !stop_flag; i++) {
		hm_link *p = &d->ps.p[i];
		sync_child *k = &d->kids[i];
		int status;

		if (k->pid) {
			pump(k);
			if (waitpid(k->pid, &status, WNOHANG) == k->pid)
				finish_sync(d, p, k, status);
			continue;
		}
		if (hm_schedule_due(&d->sched, p, now))
			start_sync(d, p, k);
	}
}

/* On the way out: stop the syncs still running and reap them. */
static void stop_syncs(daemon_ctx *d)
{
	for (size_t i = 0; i < d->ps.n; i++) {
		sync_child *k = &d->kids[i];
		int status;
		if (!k->pid)
			continue;
		kill(k->pid, SIGTERM);
		waitpid(k->pid, &status, 0);
		close(k->out_fd), close(k->err_fd);
		k->pid = 0;
	}
}

/* serve's options, checked: EXIT_OK or a usage error reported. */
/* ---- the daemon kept going ----
 * `hamlet serve` runs the daemon in a child process and starts it again when it stops on its
 * own after it started: nanomsg ends the process when it cannot allocate memory (its design;
 * docs/reliability.md, "Out of memory"), and any other crash would end the station's serving
 * too. A stop asked for (SIGTERM, SIGINT), a failure to start (a port taken, a damaged store),
 * or a clean exit ends serve with the daemon's status. The child ends with its parent
 * (PR_SET_PDEATHSIG), so a serve killed outright leaves no daemon behind. Every commit is
 * durable before it is acknowledged: a daemon started again loses nothing. */

static int ready_fd = -1; /* the child's end of the pipe it says "started" on */

/* In the child, once it listens: the parent may start it again from now on. */
static void serve_started(void)
{
	bool told;

	if (ready_fd < 0)
		return;
	told = write(ready_fd, "s", 1) == 1; /* if not, serve is gone: PR_SET_PDEATHSIG ends us */
	(void)told;
	close(ready_fd);
	ready_fd = -1;
}

/* Wait for the daemon child: whether it said it started, and how it ended (a stop signal to
 * serve reaches it from on_signal). */
static bool serve_wait(pid_t pid, int ready, int *status)
{
	char b;
	ssize_t got;

	while ((got = read(ready, &b, 1)) < 0 && errno == EINTR)
		;
	close(ready);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	daemon_pid = 0;
	return got == 1;
}

/* SIGTERM and SIGINT ask for a stop (stop_flag); no SA_RESTART: a wait sees them. */
static void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Fork the daemon child with stop signals held until its pid is known (a stop between the
 * fork and then would reach neither). The child: 0, its ready_fd set. */
static pid_t serve_fork(int fds[2])
{
	sigset_t stops, old;
	pid_t pid;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &old);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		daemon_pid = 0; /* the daemon stops itself */
		close(fds[0]);
		ready_fd = fds[1];
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	} else if (pid > 0) {
		daemon_pid = pid;
		close(fds[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == 0 && getppid() == 1)
		raise(SIGTERM); /* serve died before PR_SET_PDEATHSIG was set */
	return pid;
}

/* The parent: returns serve's exit status; the child: -1, and goes on to be the daemon. */
static int serve_keep_going(void)
{
	unsigned delay = 1;
	bool ever = false; /* a daemon started once: later failures to start are retried too */

	catch_stop_signals();
	for (;;) {
		int fds[2], status = 0;
		time_t began = time(NULL);
		pid_t pid;
		bool started;

		if (pipe(fds) != 0)
			return -1; /* no child: this process is the daemon */
		if ((pid = serve_fork(fds)) < 0) {
			close(fds[0]), close(fds[1]);
			return -1;
		}
		if (pid == 0)
			return -1;
		started = serve_wait(pid, fds[0], &status);
		if ((!started && !ever) || stop_flag ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 0))
			return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
		ever = true;
		if (time(NULL) - began > 120)
			delay = 1; /* it ran a while: not a loop of failures */
		if (WIFSIGNALED(status))
			logline("error", "the daemon stopped on signal %d; started again in %u s",
			        WTERMSIG(status), delay);
		else
			logline("error", "the daemon %s (exit %d); started again in %u s",
			        started ? "stopped" : "did not start", WEXITSTATUS(status), delay);
		for (unsigned s = 0; s < delay && !stop_flag; s++)
			sleep(1);
		if (stop_flag)
			return EXIT_OK;
		delay = delay < 32 ? delay * 2 : 60;
	}
}

/* The passphrase, asked once and kept for the sync children and a restart; then serve keeps its
 * daemon going. True in the daemon, its node open; false: *rc is the exit status. */
static bool serve_begin(cli *c, daemon_ctx *d, int *rc)
{
	pass_keep(d);
	if ((*rc = cli_passphrase(c, false, d->pass, sizeof(d->pass)))) {
		pass_forget(d);
		return false;
	}
	c->kept_passphrase = d->pass;
	if ((*rc = serve_keep_going()) < 0) {
		pass_keep(d); /* the daemon */
		if (!(*rc = cli_open(c, &d->n)))
			return true;
	}
	pass_forget(d);
	c->kept_passphrase = NULL;
	return false;
}

static int serve_args(cli *c, const char *listen, const char *every_s, const char *limit_rate,
                      unsigned *every)
{
	size_t rate;

	if (every_s) {
		char *end;
		unsigned long v = strtoul(every_s, &end, 10);
		if (*end || !*every_s || v == 0 || v > 86400)
			return cli_fail(c, EXIT_USAGE, "--every takes 1 to 86400 seconds");
		*every = (unsigned)v;
	}
	if (limit_rate && !parse_rate(limit_rate, &rate))
		return cli_fail(c, EXIT_USAGE,
		                "--limit-rate takes bytes per second (at least 1024; "
		                "a suffix k or m: KiB, MiB)");
	if (listen && !hm_listen_urls_valid(listen))
		return cli_fail(
		    c, EXIT_USAGE,
		    "--listen '%s': each URL is tcp://ADDR:PORT, ws://ADDR:PORT or "
		    "ipc://PATH (a path without commas), at most %d, separated by commas",
		    listen, HM_LISTEN_URLS_MAX);
	if (!listen)
		return cli_fail(
		    c, EXIT_USAGE,
		    "--listen tcp://ADDR:PORT, ws://ADDR:PORT or ipc://PATH is required "
		    "(several separated by commas)");
	return EXIT_OK;
}

int cmd_serve(cli *c, int argc, char **argv)
{
	const char *listen = NULL, *why = NULL, *ui = NULL;
	unsigned every = 60;
	daemon_ctx d = {.c = c};
	hm_transport t = {0};
	hm_server *srv = NULL;
	static pthread_mutex_t node_lock = PTHREAD_MUTEX_INITIALIZER;
	struct hm_web *web = NULL;
	bool ui_any = false;
	hm_err err;
	int rc;

	const char *every_s = NULL, *ui_idle_s = NULL;
	uint64_t ui_idle_ms;
	const cli_opt opts[] = {
	    {"listen", 0, &listen, NULL, "URL[,URL...]",
	     N_("tcp://ADDR:PORT, ws://ADDR:PORT or ipc://PATH to answer on (required)")},
	    {"every", 0, &every_s, NULL, "SECONDS",
	     N_("sync with each peer this often (default 60)")},
	    {"limit-rate", 0, &d.limit_rate, NULL, "BYTES_PER_S",
	     N_("cap each scheduled sync as `sync --limit-rate` does")},
	    {"ui", 0, &ui, NULL, "ADDR:PORT",
	     N_("serve the web interface too, as `hamlet ui` does")},
	    {"ui-any", 0, NULL, &ui_any, NULL, N_("as `ui --any-address`")},
	    {"ui-session-idle", 0, &ui_idle_s, NULL, "SECONDS", N_("as `ui --session-idle`")},
	    {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = serve_args(c, listen, every_s, d.limit_rate, &every)) ||
	    (rc = cli_ui_idle(c, "--ui-session-idle", ui_idle_s, &ui_idle_ms)))
		return rc;
	if ((rc = cli_peers_load(c, &d.ps)))
		return rc;
	hm_schedule_init(&d.sched, c->dir, &d.ps, every);
	if (!serve_begin(c, &d, &rc))
		return rc;
	if ((err = hm_server_new(d.n, &srv))) {
		char why_buf[600];
		rc = cli_fail(c, EXIT_FAIL, "%s",
		              out_text_str(hm_sync_errmsg(), why_buf, sizeof(why_buf)));
		goto out;
	}
	if ((err = hm_net_listen(listen, &t, &why))) {
		rc = cli_fail(c, EXIT_FAIL, "cannot listen on %s: %s", listen, why);
		goto out;
	}
	hm_server_set_lock(srv, &node_lock); /* the web and the sync server take turns */
	if (ui && (rc = cli_ui_start(c, d.n, ui, ui_any, ui_idle_ms, &node_lock, &web)))
		goto out;
	catch_stop_signals();
	serve_started();
	logline("info", "serving %s on %s; %zu peer%s, every %u s", c->dir, listen, d.ps.n,
	        d.ps.n == 1 ? "" : "s", every);
	err = hm_server_serve(srv, &t, &stop_flag, tick, &d, 500);
	stop_syncs(&d);
	if (err) {
		logline("error", "%s", hm_sync_errmsg());
		rc = EXIT_FAIL;
	} else {
		logline("info", "stopped cleanly");
	}
out:
	hm_web_stop(web);
	if (t.close)
		t.close(t.ctx);
	hm_server_free(srv);
	hm_node_close(d.n);
	pass_forget(&d);
	c->kept_passphrase = NULL;
	return rc;
}
