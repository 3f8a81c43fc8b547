/* open_node.h - the network tests' C helpers open a node as `hamlet` does: its key file
 * unlocked with HAMLET_PASSPHRASE. */
#ifndef HM_TEST_OPEN_NODE_H
#define HM_TEST_OPEN_NODE_H

#include "node.h"

/* Open the node in dir with its key file unlocked by pass; NULL (said on stderr under prog's
 * name) when the key file or the store will not open. Owned: hm_node_close. */
hm_node *test_open_node(const char *prog, const char *dir, const char *pass);

#endif
