/* hold_write: hold a node's LMDB write transaction, as a daemon in a long write would.
 *
 *   HAMLET_PASSPHRASE=... hold_write DIR
 *
 * Opens the node in DIR, begins a write, prints "holding" on stdout once it holds the writer's
 * lock, and lets go (aborting nothing: the write changes nothing) when stdin reaches EOF. Used by
 * tests/net/clocks.sh: `hamlet status` must answer meanwhile. */
#include "open_node.h"
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static hm_err hold(hm_node *n, MDB_txn *txn, void *arg)
{
	char buf[64];
	(void)n, (void)txn, (void)arg;
	fputs("holding\n", stdout);
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return HM_OK;
}

int main(int argc, char **argv)
{
	const char *pass = getenv("HAMLET_PASSPHRASE");
	hm_node *n = NULL;
	hm_err err;

	if (argc != 2 || !pass) {
		fprintf(stderr, "usage: HAMLET_PASSPHRASE=... hold_write DIR\n");
		return 2;
	}
	if (hm_crypto_init())
		return 2;
	if (!(n = test_open_node("hold_write", argv[1], pass)))
		return 1;
	err = hm_store_write(n, hold, NULL);
	hm_node_close(n);
	return err ? 1 : 0;
}
