/*
 * peers.h - the peers of a node (DIR/peers, DIR/peers.state), shared by peers.c (`hamlet peer`,
 * the peers' lines of `status`) and net_cmds.c (`sync`, `serve`).
 */
#ifndef HM_CLI_PEERS_H
#define HM_CLI_PEERS_H

#include "cli.h"

#include <sys/types.h>

#define PEERS_MAX    64
#define NAME_MAX_LEN 32
#define URL_MAX      256

typedef struct peer {
	char name[NAME_MAX_LEN + 1];
	char url[URL_MAX + 1];
	uint64_t last_ok, last_err, next_try;
	unsigned failures;
	pid_t child;              /* serve: the sync running now, 0 if none */
	int child_out, child_err; /* its stdout (the --json summary) and stderr, non-blocking */
	char out[2048];           /* what it printed on stdout so far */
	size_t out_len;
	char err_tail[512];     /* the last line it printed on stderr */
	uint64_t free_at_start; /* the disk's free bytes when it started */
	size_t sent, received;
	char reason[200];
} peer;

typedef struct peers {
	peer p[PEERS_MAX];
	size_t n;
} peers;

/* Milliseconds since the epoch, by the system clock. */
uint64_t now_ms(void);
/* b bytes as "12.3 MB" into out. */
void fmt_bytes(char *out, size_t cap, uint64_t b);
/* Whether u is tcp://HOST:PORT or ipc://PATH. */
bool url_valid(const char *u);
/* The peers of c->dir and their state into ps: EXIT_OK or a reported failure. */
int peers_load(cli *c, peers *ps);
/* Write ps back: the peers (state false) or their state (state true), each file whole. */
int peers_save(cli *c, const peers *ps, bool state);
/* The peer named name, or NULL. */
peer *peer_find(peers *ps, const char *name);
/* After a successful sync with p: remember our version vector and its region (peer-NAME.vv), so
 * that status can count what has been written since. EXIT_OK or a reported failure. */
int remember_peer(cli *c, hm_node *n, const peer *p, const hm_sync_stats *st);

#endif
