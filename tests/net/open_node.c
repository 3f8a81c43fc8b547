/* open_node.c - see open_node.h. */
#include "open_node.h"

#include <stdio.h>
#include <string.h>

hm_node *test_open_node(const char *prog, const char *dir, const char *pass)
{
	hm_keyfile_secrets keys;
	hm_node_opts opts = {0};
	hm_node *n = NULL;
	char path[4200];
	hm_err err;

	snprintf(path, sizeof(path), "%s/node.key", dir);
	if ((err = hm_keyfile_read(&keys, path, pass, strlen(pass)))) {
		fprintf(stderr, "%s: cannot unlock %s: %s\n", prog, path, hm_strerror(err));
		return NULL;
	}
	opts.identity = &keys.ident;
	opts.storage_key = keys.storage_key;
	err = hm_node_open(dir, &opts, &n);
	hm_keyfile_secrets_release(&keys);
	if (err) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, dir, hm_strerror(err));
		return NULL;
	}
	return n; /* owned by the caller */
}
