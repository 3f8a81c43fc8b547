/*
 * init.c - a new station: its directory, its key file sealed under a passphrase, and its
 * store, made together or not at all (a refused init leaves nothing behind).
 */
#include "node_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HM_PATH_MAX 4096

/* mkdir -p dir. The first directory it had to make goes into made ("" when dir was there), so
 * that a refused init can take away what it made. */
static hm_err make_dir(const char *dir, char made[HM_PATH_MAX], const char **why)
{
	char path[HM_PATH_MAX];
	size_t len = strlen(dir);

	made[0] = '\0';
	if (len == 0 || len >= sizeof(path)) {
		*why = "the directory name is empty or too long";
		return HM_ERR_INVALID;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char was = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			if (!made[0])
				memcpy(made, path, strlen(path) + 1);
		} else if (errno != EEXIST) {
			*why = hm_strerrno(errno);
			return errno == ENOSPC ? HM_ERR_FULL : HM_ERR_IO;
		}
		if (!(*p = was))
			break;
	}
	return HM_OK;
}

/* Take away what a refused init made: when make_dir made dir (made is the first directory it
 * made), everything in it is ours: the key file, the store's files, the directories from dir up
 * to made. A dir that was there keeps all but the key file this init wrote. */
static void init_undo(const char *dir, const char *made, bool key_written)
{
	static const char *const files[] = {"node.key", "data.mdb", "lock.mdb"};
	char path[HM_PATH_MAX + 16];
	size_t top = strlen(made), len;

	if (key_written) {
		snprintf(path, sizeof(path), "%s/node.key", dir);
		unlink(path);
	}
	if (!top)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s", dir);
	while ((len = strlen(path)) > top && path[len - 1] == '/')
		path[len - 1] = '\0';
	for (len = strlen(path); len >= top; len = strlen(path)) {
		char *slash;
		if (rmdir(path) != 0 || len == top || !(slash = strrchr(path, '/')))
			break;
		*slash = '\0';
	}
}

hm_err hm_node_init(const char *dir, hm_role role, const char *region, const char *name,
                    const char *pass, size_t pass_len, const hm_node_opts *opts, hm_node_id *out,
                    char *why, size_t cap)
{
	char made[HM_PATH_MAX], path[HM_PATH_MAX + 16];
	hm_keyfile_secrets keys = {0};
	hm_node_opts o = *opts;
	const char *reason = NULL;
	hm_err err;

	why[0] = '\0';
	if (hm_passphrase_check(pass, pass_len, &reason)) { /* every front end, not just one */
		snprintf(why, cap, "the passphrase is too weak: %s; nothing was created", reason);
		return HM_ERR_INVALID;
	}
	if ((err = make_dir(dir, made, &reason))) {
		snprintf(why, cap, "cannot create %s: %s", dir, reason);
		return err;
	}
	snprintf(path, sizeof(path), "%s/node.key", dir);
	if (access(path, F_OK) == 0) {
		snprintf(why, cap, "'%s' already holds a hamlet node; nothing was changed", dir);
		return HM_ERR_EXISTS;
	}
	if ((err = hm_identity_init(&keys.ident))) {
		snprintf(why, cap, "cannot make keys: %s", hm_strerror(err));
		init_undo(dir, made, false);
		return err;
	}
	hm_random_bytes(keys.storage_key, sizeof(keys.storage_key));
	keys.has_storage_key = 1;
	if ((err = hm_keyfile_write(path, &keys.ident, keys.storage_key, pass, pass_len,
	                            opts->key_cost))) {
		snprintf(why, cap, "cannot write the key file %s: %s", path, hm_strerror(err));
		hm_keyfile_secrets_release(&keys);
		init_undo(dir, made, false);
		return err;
	}
	o.identity = &keys.ident;
	o.storage_key = keys.storage_key;
	/* hm_node_create says why through opts->log */
	if ((err = hm_node_create(dir, role, region, name, &o, out)))
		init_undo(dir, made, true);
	hm_keyfile_secrets_release(&keys);
	return err;
}
