/*
 * peers.h - what peers.c (`hamlet peer`) shares with net_cmds.c (`sync`, `serve`) and
 * node_cmds.c (`status`). The peers themselves are the sync library's (sync.h: hm_peers, hm_link).
 */
#ifndef HM_CLI_PEERS_H
#define HM_CLI_PEERS_H

#include "cli.h"

/* Milliseconds since the epoch, by the system clock. */
uint64_t now_ms(void);
/* b bytes as "12.3 MiB" into out. */
void fmt_bytes(char *out, size_t cap, uint64_t b);
/* hm_peers_load and hm_peers_save for c->dir: EXIT_OK or a reported failure. */
int cli_peers_load(cli *c, hm_peers *ps);
int cli_peers_save(cli *c, const hm_peers *ps, hm_peers_file which);

#endif
