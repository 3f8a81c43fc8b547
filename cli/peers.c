/*
 * peers.c - `hamlet peer`, and the peers' and the disk's lines of `status`. The peers, their
 * files and their state are the sync library's (sync/peers.c, sync.h); this file prints them.
 */
#include "peers.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MS 3000

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cli_peers_load(cli *c, hm_peers *ps)
{
	if (hm_peers_load(c->dir, ps))
		return cli_fail(c, EXIT_FAIL, "%s", hm_sync_errmsg());
	return EXIT_OK;
}

int cli_peers_save(cli *c, const hm_peers *ps, hm_peers_file which)
{
	if (hm_peers_save(c->dir, ps, which))
		return cli_fail(c, EXIT_FAIL, "%s", hm_sync_errmsg());
	return EXIT_OK;
}

bool cli_disk_full(const cli *c, uint64_t *free_bytes)
{
	return hm_disk_full(c->dir, free_bytes);
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

/* Change sets written or received here since the last sync with l that it may hold; -1 when
 * no sync with l has succeeded yet (or the count cannot be made). */
static long waiting_to_send(cli *c, hm_node *n, const hm_link *l)
{
	uint64_t count;

	return hm_link_waiting(c->dir, n, l, &count) ? -1 : (long)count;
}

static json_t *peer_json(cli *c, hm_node *n, const hm_link *p, bool probe)
{
	json_t *o = json_pack(
	    "{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name", hm_json_cstr(p->name), "url",
	    hm_json_cstr(p->url), "last_ok_ms", (json_int_t)p->last_ok, "last_error_ms",
	    (json_int_t)p->last_err, "failures", (json_int_t)p->failures, "sent",
	    (json_int_t)p->sent, "received", (json_int_t)p->received, "waiting_to_send",
	    (json_int_t)waiting_to_send(c, n, p), "last_error", hm_json_cstr(p->reason));
	if (probe) {
		uint64_t out = 0, in = 0;
		if (hm_link_probe(n, p, PROBE_MS, &out, &in))
			json_object_set_new(
			    o, "probe",
			    json_pack("{s:o}", "error", hm_json_cstr(hm_sync_errmsg())));
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
	hm_peers ps;

	if (cli_peers_load(c, &ps) == EXIT_OK)
		for (size_t i = 0; i < ps.n; i++)
			json_array_append_new(arr, peer_json(c, n, &ps.p[i], probe));
	return arr;
}

void cli_peers_status(cli *c, hm_node *n, bool probe)
{
	hm_peers ps;

	if (cli_peers_load(c, &ps) != EXIT_OK)
		return;
	printf("peers (%zu):\n", ps.n);
	for (size_t i = 0; i < ps.n; i++) {
		const hm_link *p = &ps.p[i];
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
			if (hm_link_probe(n, p, PROBE_MS, &out, &in)) {
				fputs("               now: unreachable: ", stdout);
				out_text_cstr(stdout, hm_sync_errmsg());
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
static int peers_open(cli *c, hm_peers *ps)
{
	if (access(c->dir, F_OK) != 0)
		return cli_fail(c, EXIT_FAIL, "no hamlet node in '%s'", c->dir);
	return cli_peers_load(c, ps);
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
	hm_peers ps = {.n = 0};

	CLI_PARSE_SPEC(&spec, pos, &npos);
	/* A malformed name or URL is refused before the node is looked for (exit 2). */
	if (hm_peers_add(&ps, pos[0], pos[1]) == HM_ERR_INVALID)
		return cli_fail(c, EXIT_USAGE, "%s", hm_sync_errmsg());
	if ((rc = peers_open(c, &ps)))
		return rc;
	switch (hm_peers_add(&ps, pos[0], pos[1])) {
	case HM_OK:
		return cli_peers_save(c, &ps, HM_PEERS_LIST);
	case HM_ERR_EXISTS:
		return cli_fail(c, EXIT_FAIL, "%s (remove it first)", hm_sync_errmsg());
	default:
		return cli_fail(c, EXIT_FAIL, "%s", hm_sync_errmsg());
	}
}

static int peer_remove(cli *c, int argc, char **argv)
{
	const cli_spec spec = {"peer remove", "NAME", "forget a peer", NULL, NULL, 1, 1};
	char *pos[1];
	int npos, rc;
	hm_peers ps;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = peers_open(c, &ps)))
		return rc;
	if (hm_peers_remove(&ps, pos[0]))
		return cli_fail(c, EXIT_FAIL, "%s", hm_sync_errmsg());
	return cli_peers_save(c, &ps, HM_PEERS_LIST);
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
	hm_peers ps;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = peers_open(c, &ps)))
		return rc;
	arr = json ? json_array() : NULL;
	for (size_t i = 0; i < ps.n; i++) {
		const hm_link *p = &ps.p[i];
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
