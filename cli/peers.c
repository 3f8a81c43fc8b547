/*
 * peers.c - `hamlet peer`, and the peers' state that `status`, `sync` and `serve` share.
 *
 * Peers are kept in DIR/peers, one "NAME URL" per line; what happened on the last syncs with each
 * in DIR/peers.state, one "NAME last_ok_ms last_error_ms failures sent received reason" per
 * line, written whole to a temporary file and renamed.
 */
#include "peers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void path_of(const cli *c, const char *file, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", c->dir, file);
}

bool url_valid(const char *u)
{
	return (!strncmp(u, "tcp://", 6) || !strncmp(u, "ipc://", 6)) && strlen(u) <= URL_MAX &&
	       !strpbrk(u, " \t\n");
}

static bool name_valid(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-' ||
		      n[i] == '_'))
			return false;
	return true;
}

int peers_load(cli *c, peers *ps)
{
	char path[4200], line[600];
	FILE *f;

	memset(ps, 0, sizeof(*ps));
	path_of(c, "peers", path, sizeof(path));
	if (!(f = fopen(path, "r")))
		return errno == ENOENT
		           ? EXIT_OK
		           : cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, hm_strerrno(errno));
	while (fgets(line, sizeof(line), f) && ps->n < PEERS_MAX) {
		peer *p = &ps->p[ps->n];
		if (sscanf(line, "%32s %256s", p->name, p->url) == 2 && name_valid(p->name) &&
		    url_valid(p->url))
			ps->n++;
	}
	fclose(f);
	path_of(c, "peers.state", path, sizeof(path));
	if ((f = fopen(path, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			char name[NAME_MAX_LEN + 1];
			uint64_t ok, er;
			unsigned fails;
			size_t sent, recv;
			int used = 0;
			if (sscanf(line, "%32s %" SCNu64 " %" SCNu64 " %u %zu %zu %n", name, &ok,
			           &er, &fails, &sent, &recv, &used) < 6)
				continue;
			for (size_t i = 0; i < ps->n; i++)
				if (!strcmp(ps->p[i].name, name)) {
					peer *p = &ps->p[i];
					p->last_ok = ok, p->last_err = er, p->failures = fails;
					p->sent = sent, p->received = recv;
					snprintf(p->reason, sizeof(p->reason), "%s", line + used);
					p->reason[strcspn(p->reason, "\n")] = 0;
				}
		}
		fclose(f);
	} else if (errno != ENOENT) {
		/* unread, it would be saved over as if no sync had happened yet */
		return cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, hm_strerrno(errno));
	}
	return EXIT_OK;
}

/* Write DIR/<file> whole (peer addresses: 0600), replacing it. */
static int write_atomic(cli *c, const char *file, const char *text)
{
	char path[4200];

	path_of(c, file, path, sizeof(path));
	return cli_write_file(c, path, text, strlen(text), true);
}

int peers_save(cli *c, const peers *ps, bool state)
{
	char *text;
	size_t len;
	FILE *m = open_memstream(&text, &len);
	int rc;

	if (!m)
		return cli_fail(c, EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < ps->n; i++) {
		const peer *p = &ps->p[i];
		if (state)
			fprintf(m, "%s %" PRIu64 " %" PRIu64 " %u %zu %zu %s\n", p->name,
			        p->last_ok, p->last_err, p->failures, p->sent, p->received,
			        p->reason);
		else
			fprintf(m, "%s %s\n", p->name, p->url);
	}
	fclose(m);
	rc = write_atomic(c, state ? "peers.state" : "peers", text);
	free(text);
	return rc;
}

bool cli_disk_full(const cli *c, uint64_t *free_bytes)
{
	struct statvfs vfs;

	*free_bytes = UINT64_MAX;
	if (statvfs(c->dir, &vfs) != 0)
		return false;
	*free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return *free_bytes < CLI_DISK_LOW;
}

/* "12.5 MiB", "300 KiB" */
void fmt_bytes(char *out, size_t cap, uint64_t b)
{
	if (b >= (uint64_t)10 << 30)
		snprintf(out, cap, "%.1f GiB", (double)b / (double)(1u << 30));
	else if (b >= (uint64_t)1 << 20)
		snprintf(out, cap, "%.1f MiB", (double)b / (double)(1u << 20));
	else
		snprintf(out, cap, "%" PRIu64 " KiB", b >> 10);
}

json_t *cli_disk_json(const cli *c)
{
	uint64_t free_bytes;
	/* Free bytes stay out of the JSON: they change with every file written anywhere on the
	 * disk, and status --json is compared before and after to tell "nothing changed". */
	return json_pack("{s:b}", "full", cli_disk_full(c, &free_bytes));
}

void cli_disk_status(const cli *c)
{
	uint64_t free_bytes;
	bool full = cli_disk_full(c, &free_bytes);
	char text[32];

	if (free_bytes == UINT64_MAX)
		return;
	fmt_bytes(text, sizeof(text), free_bytes);
	if (full)
		printf("disk      full: %s free; writes fail until space is freed (reads and syncs "
		       "that only pull go on)\n",
		       text);
	else
		printf("disk      %s free\n", text);
}

peer *peer_find(peers *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->p[i].name, name))
			return &ps->p[i];
	return NULL;
}

static void fmt_ago(char *out, size_t cap, uint64_t then)
{
	uint64_t now = now_ms(), s = then && now > then ? (now - then) / 1000 : 0;
	if (!then)
		snprintf(out, cap, "never");
	else if (s < 120)
		snprintf(out, cap, "%llu s ago", (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, cap, "%llu min ago", (unsigned long long)s / 60);
	else
		snprintf(out, cap, "%llu h ago", (unsigned long long)s / 3600);
}

/* After a successful sync the peer holds everything we hold that it may hold: remember our
 * version vector and its region, so that status can count what has been written since. */
int remember_peer(cli *c, hm_node *n, const peer *p, const hm_sync_stats *st)
{
	char file[64 + NAME_MAX_LEN], *vvs = NULL, *text = NULL;
	hm_vv vv;
	int rc = EXIT_OK;

	if (hm_node_version_vector(n, &vv))
		return EXIT_OK; /* a count for status, not worth failing over */
	if (!hm_vv_format(&vv, &vvs) &&
	    (text = malloc(strlen(vvs) + strlen(st->peer.region) + 3))) {
		sprintf(text, "%s\n%s\n", st->peer.region, vvs);
		snprintf(file, sizeof(file), "peer-%s.vv", p->name);
		rc = write_atomic(c, file, text);
	}
	free(text);
	free(vvs);
	hm_vv_release(&vv);
	return rc;
}

typedef struct waiting {
	const char *region;
	size_t n;
} waiting;

static int count_waiting(void *ctx, const hm_changeset_view *cs)
{
	waiting *w = ctx;
	w->n += hm_region_visible(w->region, cs->region);
	return 0;
}

/* Change sets written or received here since the last sync with p that p may hold; -1 when no
 * sync with p has succeeded yet. */
static long waiting_to_send(cli *c, hm_node *n, const peer *p)
{
	char path[4200], region[HM_REGION_MAX + 2], *vvtext = NULL;
	size_t cap = 0;
	waiting w = {region, 0};
	hm_vv vv;
	FILE *f;
	long result = -1;

	snprintf(path, sizeof(path), "%s/peer-%s.vv", c->dir, p->name);
	if (!n || !(f = fopen(path, "r")))
		return -1;
	if (fgets(region, sizeof(region), f) && getline(&vvtext, &cap, f) > 0) {
		region[strcspn(region, "\n")] = 0;
		vvtext[strcspn(vvtext, "\n")] = 0;
		if (hm_region_valid(region) && !hm_vv_parse(vvtext, &vv)) {
			if (!hm_node_changesets(n, &vv, count_waiting, &w))
				result = (long)w.n;
			hm_vv_release(&vv);
		}
	}
	free(vvtext);
	fclose(f);
	return result;
}

/* Contact p and ask how many change sets wait each way; *why on failure. */
static hm_err probe_peer(hm_node *n, const peer *p, uint64_t *to_send, uint64_t *to_receive,
                         const char **why)
{
	hm_transport t;
	hm_sync_opts o = {.timeout_ms = 3000};
	hm_err err;

	if ((err = hm_net_connect_within(p->url, 3000, &t, why)))
		return err;
	if ((err = hm_sync_probe(n, &t, &o, to_send, to_receive, NULL)))
		*why = hm_sync_errmsg();
	t.close(t.ctx);
	return err;
}

static json_t *peer_json(cli *c, hm_node *n, const peer *p, bool probe)
{
	json_t *o = json_pack(
	    "{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name", hm_json_cstr(p->name), "url",
	    hm_json_cstr(p->url), "last_ok_ms", (json_int_t)p->last_ok, "last_error_ms",
	    (json_int_t)p->last_err, "failures", (json_int_t)p->failures, "sent",
	    (json_int_t)p->sent, "received", (json_int_t)p->received, "waiting_to_send",
	    (json_int_t)waiting_to_send(c, n, p), "last_error", hm_json_cstr(p->reason));
	if (probe) {
		uint64_t out = 0, in = 0;
		const char *why = NULL;
		if (probe_peer(n, p, &out, &in, &why))
			json_object_set_new(
			    o, "probe",
			    json_pack("{s:o}", "error", hm_json_cstr(why ? why : "unreachable")));
		else
			json_object_set_new(o, "probe",
			                    json_pack("{s:I, s:I}", "to_send", (json_int_t)out,
			                              "to_receive", (json_int_t)in));
	}
	return o;
}

json_t *cli_peers_json(cli *c, hm_node *n, bool probe)
{
	json_t *arr = json_array();
	peers ps;

	if (peers_load(c, &ps) == EXIT_OK)
		for (size_t i = 0; i < ps.n; i++)
			json_array_append_new(arr, peer_json(c, n, &ps.p[i], probe));
	return arr;
}

void cli_peers_status(cli *c, hm_node *n, bool probe)
{
	peers ps;

	if (peers_load(c, &ps) != EXIT_OK)
		return;
	printf("peers (%zu):\n", ps.n);
	for (size_t i = 0; i < ps.n; i++) {
		const peer *p = &ps.p[i];
		char ok[32], er[32];
		fmt_ago(ok, sizeof(ok), p->last_ok);
		fmt_ago(er, sizeof(er), p->last_err);
		long todo = waiting_to_send(c, n, p);
		printf("  %-12s ", p->name);
		out_text_pad(stdout, p->url, 28);
		printf(" last ok %-12s sent %zu, received %zu", ok, p->sent, p->received);
		if (todo >= 0)
			printf(", %ld waiting to send", todo);
		if (p->failures) {
			printf("; %u failure%s, last %s: ", p->failures,
			       p->failures == 1 ? "" : "s", er);
			out_text_cstr(stdout, p->reason);
		}
		putchar('\n');
		if (probe) {
			uint64_t out = 0, in = 0;
			const char *why = NULL;
			if (probe_peer(n, p, &out, &in, &why)) {
				fputs("               now: unreachable: ", stdout);
				out_text_cstr(stdout, why ? why : "?");
				fputc('\n', stdout);
			} else
				printf("               now: %" PRIu64 " waiting to send, %" PRIu64
				       " waiting to receive\n",
				       out, in);
		}
	}
}

/* ---- hamlet peer ---- */

/* The peers of c->dir into ps, or a reported failure. */
static int peers_open(cli *c, peers *ps)
{
	if (access(c->dir, F_OK) != 0)
		return cli_fail(c, EXIT_FAIL, "no hamlet node in '%s'", c->dir);
	return peers_load(c, ps);
}

static int peer_add(cli *c, int argc, char **argv)
{
	const cli_spec spec = {"peer add",
	                       "NAME tcp://HOST:PORT|ipc://PATH",
	                       "remember a peer to sync with (serve syncs with each)",
	                       NULL,
	                       NULL,
	                       2,
	                       2};
	char *pos[2];
	int npos, rc;
	peers ps;
	peer *p;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!name_valid(pos[0]))
		return cli_fail(c, EXIT_USAGE, "a peer name is 1-32 of a-z, 0-9, - and _");
	if (!url_valid(pos[1]))
		return cli_fail(c, EXIT_USAGE, "'%s' is not tcp://HOST:PORT or ipc://PATH", pos[1]);
	if ((rc = peers_open(c, &ps)))
		return rc;
	if (peer_find(&ps, pos[0]))
		return cli_fail(c, EXIT_FAIL, "a peer named '%s' exists (remove it first)", pos[0]);
	if (ps.n == PEERS_MAX)
		return cli_fail(c, EXIT_FAIL, "at most %d peers", PEERS_MAX);
	p = &ps.p[ps.n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", pos[0]);
	snprintf(p->url, sizeof(p->url), "%s", pos[1]);
	return peers_save(c, &ps, false);
}

static int peer_remove(cli *c, int argc, char **argv)
{
	const cli_spec spec = {"peer remove", "NAME", "forget a peer", NULL, NULL, 1, 1};
	char *pos[1];
	int npos, rc;
	peers ps;
	peer *p;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = peers_open(c, &ps)))
		return rc;
	if (!(p = peer_find(&ps, pos[0])))
		return cli_fail(c, EXIT_FAIL, "no peer named '%s'", pos[0]);
	memmove(p, p + 1, (size_t)(&ps.p[ps.n] - (p + 1)) * sizeof(*p));
	ps.n--;
	return peers_save(c, &ps, false);
}

static int peer_list(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, "print the list as JSON"}, {NULL}};
	const cli_spec spec = {
	    "peer list", NULL, "the peers, with the last success and failure of each", opts, NULL,
	    0,           0};
	char *pos[1];
	int npos, rc;
	json_t *arr;
	peers ps;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = peers_open(c, &ps)))
		return rc;
	arr = json ? json_array() : NULL;
	for (size_t i = 0; i < ps.n; i++) {
		const peer *p = &ps.p[i];
		if (json)
			json_array_append_new(
			    arr,
			    json_pack("{s:o, s:o, s:I, s:I, s:I, s:o}", "name",
			              hm_json_cstr(p->name), "url", hm_json_cstr(p->url),
			              "last_ok_ms", (json_int_t)p->last_ok, "last_error_ms",
			              (json_int_t)p->last_err, "failures", (json_int_t)p->failures,
			              "last_error", hm_json_cstr(p->reason)));
		else
			printf("%-16s ", p->name), out_text_cstr(stdout, p->url),
			    fputc('\n', stdout);
	}
	if (json && cj_print(stdout, arr))
		return cli_fail(c, EXIT_FAIL, "writing the list failed");
	return EXIT_OK;
}

int cmd_peer(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"add", peer_add, "remember a peer to sync with"},
	    {"list", peer_list, "the peers and how their last syncs went"},
	    {"remove", peer_remove, "forget a peer"},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}
