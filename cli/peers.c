/*
 * peers.c - `hamlet peer`. The peers, their files and their state are the sync library's
 * (sync/peers.c, sync.h); their lines in `status` are the ledger's (hm_status_*); this file
 * prints them.
 */
#include "peers.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* "12.5 MiB", "300 KiB" */
void fmt_bytes(char *out, size_t cap, uint64_t b)
{
	hm_status_bytes_text(out, cap, b);
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
	                       "NAME tcp://HOST:PORT|ws://HOST:PORT|ipc://PATH",
	                       N_("remember a peer to sync with (serve syncs with each)"),
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
	const cli_spec spec = {"peer remove", "NAME", N_("forget a peer"), NULL, NULL, 1, 1};
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
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the list as JSON")},
	                        {NULL}};
	const cli_spec spec = {"peer list",
	                       NULL,
	                       N_("the peers, with the last success and failure of each"),
	                       opts,
	                       NULL,
	                       0,
	                       0};
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
			printf("%-16s ", p->name), hm_text_cstr(stdout, p->url),
			    fputc('\n', stdout);
	}
	if (json && cj_print(stdout, arr))
		return cli_fail(c, EXIT_FAIL, "writing the list failed");
	return EXIT_OK;
}

int cmd_peer(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"add", peer_add, N_("remember a peer to sync with")},
	    {"list", peer_list, N_("the peers and how their last syncs went")},
	    {"remove", peer_remove, N_("forget a peer")},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}
