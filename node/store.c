/*
 * store.c - the LMDB environment of a node: open and create, named databases, write
 * transactions that grow the map when it fills, and LMDB error translation. The only file of
 * node/ that calls mdb_env_* and mdb_txn_begin/commit.
 */
#include "node_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define MAP_INITIAL_DEFAULT ((size_t)64 << 20)
#define MAP_MAX_DEFAULT     ((size_t)64 << 30)

static const char *const db_names[HM_DB__COUNT] = {
    [HM_DB_META] = "meta",         [HM_DB_RECORDS] = "records",
    [HM_DB_OPLOG] = "oplog",       [HM_DB_HEADS] = "heads",
    [HM_DB_PENDING] = "pending",   [HM_DB_QUARANTINE] = "quarantine",
    [HM_DB_EVIDENCE] = "evidence", [HM_DB_CONFLICTS] = "conflicts",
    [HM_DB_CERTS] = "certs",       [HM_DB_REVOKED] = "revoked",
    [HM_DB_KEYS] = "keys",         [HM_DB_ISSUED] = "issued",
    [HM_DB_CHANGED] = "changed",
};

bool hm_store_tree_known(const char *name)
{
	for (int i = 0; i < HM_DB__COUNT; i++)
		if (!strcmp(name, db_names[i]))
			return true;
	return false;
}

/* LMDB's assertions (mdb_assert: a page it read makes no sense) call this, then abort. */
static atomic_int lmdb_asserted;
static_assert(ATOMIC_INT_LOCK_FREE == 2, "read from a signal handler");

static void on_lmdb_assert(MDB_env *env, const char *msg)
{
	(void)env, (void)msg; /* LMDB prints msg itself */
	atomic_store_explicit(&lmdb_asserted, 1, memory_order_relaxed);
}

bool hm_node_lmdb_asserted(void)
{
	return atomic_load_explicit(&lmdb_asserted, memory_order_relaxed) != 0;
}

hm_err hm_node_fail(hm_node *n, hm_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->errmsg, sizeof(n->errmsg), _(fmt),
	          ap); /* the reason in the reader's language */
	va_end(ap);
	return err;
}

const char *hm_node_errmsg(const hm_node *n)
{
	return n->errmsg;
}

/* LMDB's own codes are negative; a positive one is the errno of a file operation, said plainly
 * ("the disk is full", "I/O error"). */
static const char *store_strerror(int rc)
{
	return rc > 0 ? hm_strerrno(rc) : mdb_strerror(rc);
}

hm_err hm_store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return HM_OK;
	case MDB_NOTFOUND:
		return HM_ERR_NOT_FOUND;
	case MDB_MAP_FULL:
	case ENOSPC:
		return HM_ERR_FULL;
	case ENOMEM:
		return HM_ERR_NOMEM;
	case EIO:
	case EACCES:
	case EROFS:
		return HM_ERR_IO;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return HM_ERR_VERSION;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return HM_ERR_CORRUPT;
	default:
		return HM_ERR_STORE;
	}
}

static uint64_t system_clock_ms(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hm_now_ms(hm_node *n)
{
	return n->clock(n->clock_ctx);
}

void hm_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t hm_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void hm_opkey(uint8_t key[HM_OPKEY_BYTES], const hm_node_id *origin, uint64_t seq)
{
	memcpy(key, origin->b, HM_NODE_ID_BYTES);
	hm_be64_put(key + HM_NODE_ID_BYTES, seq);
}

void hm_pending_key(uint8_t key[HM_PENDING_KEY_BYTES], const hm_node_id *origin, uint64_t seq,
                    const hm_hash *id)
{
	hm_opkey(key, origin, seq);
	memcpy(key + HM_OPKEY_BYTES, id->b, HM_HASH_BYTES);
}

hm_err hm_store_get(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn, MDB_val *v)
{
	MDB_val key = {kn, (void *)k};
	return hm_store_err(mdb_get(txn, n->dbi[db], &key, v));
}

hm_err hm_store_put(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn,
                    const void *v, size_t vn)
{
	MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
	int rc = mdb_put(txn, n->dbi[db], &key, &val, 0);
	if (rc)
		return hm_node_fail(n, hm_store_err(rc), "writing %s: %s", db_names[db],
		                    store_strerror(rc));
	return HM_OK;
}

hm_err hm_store_del(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn)
{
	MDB_val key = {kn, (void *)k};
	int rc = mdb_del(txn, n->dbi[db], &key, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return hm_node_fail(n, hm_store_err(rc), "deleting from %s: %s", db_names[db],
		                    store_strerror(rc));
	return HM_OK;
}

hm_err hm_store_damage(hm_node *n, hm_err err, const char *what)
{
	if (err && !n->errmsg[0])
		hm_node_fail(n, err,
		             "%s: %s: the store is damaged (`hamlet check` names the damage; "
		             "docs/reliability.md, \"Damaged media\")",
		             what, hm_strerror(err));
	return err;
}

uint64_t hm_node_stamp(hm_node *n)
{
	MDB_envinfo info;

	mdb_env_info(n->env, &info);
	return (uint64_t)info.me_last_txnid;
}

/* Another process grew the map: adopt its size. */
static hm_err adopt_map_size(hm_node *n)
{
	MDB_envinfo info;
	int rc = mdb_env_set_mapsize(n->env, 0);
	if (rc)
		return hm_store_err(rc);
	mdb_env_info(n->env, &info);
	n->map_size = info.me_mapsize;
	return HM_OK;
}

static hm_err grow_map(hm_node *n)
{
	size_t next = n->map_size * 2;
	int rc;

	if (n->map_size >= n->map_max) {
		bool kib = n->map_max < ((size_t)1 << 20);
		return hm_node_fail(n, HM_ERR_FULL,
		                    "the store reached its size cap of %zu %s; nothing was written",
		                    kib ? n->map_max >> 10 : n->map_max >> 20, kib ? "KiB" : "MiB");
	}
	if (next > n->map_max)
		next = n->map_max;
	rc = mdb_env_set_mapsize(n->env, next);
	if (rc)
		return hm_node_fail(n, hm_store_err(rc), "growing the map: %s", store_strerror(rc));
	hm_logf(&n->log, HM_LOG_INFO, "store map grown to %zu %s",
	        next >= (1u << 20) ? next >> 20 : next >> 10, next >= (1u << 20) ? "MiB" : "KiB");
	n->map_size = next;
	return HM_OK;
}

hm_err hm_store_read_begin(hm_node *n, MDB_txn **txn)
{
	int rc = mdb_txn_begin(n->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED && adopt_map_size(n) == HM_OK)
		rc = mdb_txn_begin(n->env, NULL, MDB_RDONLY, txn);
	if (rc)
		return hm_node_fail(n, hm_store_err(rc), "opening a read transaction: %s",
		                    store_strerror(rc));
	return HM_OK;
}

/* A failed commit wrote nothing the next reader sees. A full disk shows up as ENOSPC, or as
 * EIO from some file systems: say which, so a clerk knows to free space. */
static hm_err commit_failed(hm_node *n, int rc)
{
	struct statvfs vfs;
	mdb_filehandle_t fd;
	bool full = rc == ENOSPC;

	if (!full && rc == EIO && mdb_env_get_fd(n->env, &fd) == 0 && fstatvfs(fd, &vfs) == 0)
		full = (uint64_t)vfs.f_bavail * vfs.f_frsize < (uint64_t)1 << 20;
	if (full)
		return hm_node_fail(
		    n, HM_ERR_FULL,
		    "the disk is full; nothing was written (free some space and retry)");
	return hm_node_fail(n, hm_store_err(rc), "committing: %s; nothing was written",
	                    store_strerror(rc));
}

/* hm_store_write, or (commit false) the same with every transaction aborted: a trial. */
static hm_err store_txn(hm_node *n, hm_txn_fn fn, void *ctx, bool commit)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		MDB_txn *txn = NULL;
		hm_err err;
		int rc = mdb_txn_begin(n->env, NULL, 0, &txn);

		if (rc == MDB_MAP_RESIZED) {
			if ((err = adopt_map_size(n)))
				return err;
			continue;
		}
		if (rc)
			return hm_node_fail(n, hm_store_err(rc), "opening a write transaction: %s",
			                    store_strerror(rc));
		n->errmsg[0] = '\0';
		n->changed_all = n->changed_known =
		    false; /* of this transaction only (changed.c) */
		err = fn(n, txn, ctx);
		if (err || !commit) {
			mdb_txn_abort(txn);
			if (err != HM_ERR_FULL)
				return err;
		} else {
			rc = mdb_txn_commit(txn); /* frees txn, success or not */
			if (rc == MDB_SUCCESS)
				return HM_OK;
			if (rc != MDB_MAP_FULL)
				return commit_failed(n, rc);
		}
		/* The map is full. No transaction is open now, so it may grow. */
		if ((err = grow_map(n)))
			return err;
	}
	return hm_node_fail(n, HM_ERR_FULL, "the store stayed full after growing");
}

hm_err hm_store_write(hm_node *n, hm_txn_fn fn, void *ctx)
{
	return store_txn(n, fn, ctx, true);
}

hm_err hm_store_trial(hm_node *n, hm_txn_fn fn, void *ctx)
{
	return store_txn(n, fn, ctx, false);
}

static hm_err meta_get_str(hm_node *n, MDB_txn *txn, const char *key, char *buf, size_t cap)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_META, key, strlen(key), &v);
	if (err)
		return err;
	if (v.mv_size >= cap)
		return HM_ERR_CORRUPT;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return HM_OK;
}

static hm_err meta_get_u64(hm_node *n, MDB_txn *txn, const char *key, uint64_t *out)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_META, key, strlen(key), &v);
	if (err)
		return err;
	if (v.mv_size != 8)
		return HM_ERR_CORRUPT;
	*out = hm_be64_get(v.mv_data);
	return HM_OK;
}

static hm_err meta_put_u64(hm_node *n, MDB_txn *txn, const char *key, uint64_t val)
{
	uint8_t b[8];
	hm_be64_put(b, val);
	return hm_store_put(n, txn, HM_DB_META, key, strlen(key), b, 8);
}

static hm_err meta_put_str(hm_node *n, MDB_txn *txn, const char *key, const char *val)
{
	return hm_store_put(n, txn, HM_DB_META, key, strlen(key), val, strlen(val));
}

hm_err hm_hlc_load(hm_node *n, MDB_txn *txn, hm_hlc *out)
{
	hm_err err = meta_get_u64(n, txn, "hlc", out);
	if (err == HM_ERR_NOT_FOUND) {
		*out = 0;
		return HM_OK;
	}
	return err;
}

hm_err hm_hlc_store(hm_node *n, MDB_txn *txn, hm_hlc h)
{
	return meta_put_u64(n, txn, "hlc", h);
}

hm_hlc hm_hlc_tick(hm_hlc last, uint64_t now_ms)
{
	uint64_t ms = now_ms & 0xffffffffffffull;
	if (ms > HM_HLC_MS(last))
		return ms << 16;
	return last +
	       1; /* same or earlier millisecond: count; a full counter rolls into the next ms */
}

/* mkdir -p: create dir and any missing parents, private to the user. */
static int mkdir_parents(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return errno = EINVAL, -1;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static hm_err env_open(hm_node *n, const char *dir, bool create)
{
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	hm_err err;
	int rc;
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
		return hm_node_fail(n, HM_ERR_INVALID, "directory path too long");
	if (!create && access(path, F_OK) != 0)
		return hm_node_fail(n, HM_ERR_NOT_FOUND,
		                    "no hamlet node in '%s' (create one with `hamlet -d %s init`)",
		                    dir, dir);
	if (create && access(path, F_OK) == 0)
		return hm_node_fail(n, HM_ERR_EXISTS,
		                    "'%s' already holds a hamlet node; nothing was changed", dir);
	if (!create && (err = hm_store_guard(n, dir)))
		return err;
	if (create && mkdir_parents(dir) != 0)
		return hm_node_fail(n, HM_ERR_IO, "creating %s: %s", dir, hm_strerrno(errno));
	if ((rc = mdb_env_create(&n->env)) || (rc = mdb_env_set_assert(n->env, on_lmdb_assert)) ||
	    (rc = mdb_env_set_maxdbs(n->env, HM_DB__COUNT)) ||
	    (rc = mdb_env_set_maxreaders(n->env, 126)) ||
	    (rc = mdb_env_set_mapsize(n->env, n->map_size)))
		goto fail;
	/* Durable by default: no MDB_NOSYNC, no MDB_NOMETASYNC. */
	if ((rc = mdb_env_open(n->env, dir, MDB_NOTLS, 0600)))
		goto fail;
	{
		int dead = 0;
		mdb_reader_check(n->env, &dead); /* clear slots of crashed readers */
		if (dead)
			hm_logf(&n->log, HM_LOG_INFO, "cleared %d stale reader slot(s)", dead);
	}
	mdb_env_info(n->env, &info);
	if (info.me_mapsize > n->map_size)
		n->map_size = info.me_mapsize;
	/* The databases of a store that has them all open in a read transaction: a reader (status,
	 * get, export) never waits for a daemon that holds a long write. Only a new store, or one
	 * that lacks a database, takes the writer's lock to create it. */
	if (!create) {
		if ((rc = mdb_txn_begin(n->env, NULL, MDB_RDONLY, &txn)))
			goto fail;
		for (int i = 0; i < HM_DB__COUNT && !rc; i++)
			rc = mdb_dbi_open(txn, db_names[i], 0, &n->dbi[i]);
		if (rc == 0) {
			rc =
			    mdb_txn_commit(txn); /* a read transaction's commit keeps the handles */
			txn = NULL;
			if (rc)
				goto fail;
			return HM_OK;
		}
		mdb_txn_abort(txn);
		txn = NULL;
		if (rc != MDB_NOTFOUND)
			goto fail;
	}
	if ((rc = mdb_txn_begin(n->env, NULL, 0, &txn)))
		goto fail;
	for (int i = 0; i < HM_DB__COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &n->dbi[i])))
			goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto fail;
	return HM_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	return hm_node_fail(n, hm_store_err(rc), "opening the store in %s: %s", dir,
	                    store_strerror(rc));
}

static hm_node *node_alloc(const hm_node_opts *opts)
{
	hm_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->clock = opts && opts->clock ? opts->clock : system_clock_ms;
	n->clock_ctx = opts ? opts->clock_ctx : NULL;
	n->max_drift_ms = opts ? opts->max_drift_ms : 0; /* 0: the county's bound (hm_drift_ms) */
	n->pending_caps = (hm_pending_caps){HM_PENDING_ORIGIN_MAX, HM_PENDING_ORIGIN_BYTES,
	                                    HM_PENDING_MAX, HM_PENDING_BYTES};
	n->changed_keep = HM_CHANGED_KEEP;
	n->map_size = opts && opts->map_initial ? opts->map_initial : MAP_INITIAL_DEFAULT;
	n->map_max = opts && opts->map_max ? opts->map_max : MAP_MAX_DEFAULT;
	if (n->map_size > n->map_max)
		n->map_size = n->map_max;
	if (opts)
		n->log = opts->log;
	if (opts && opts->identity && opts->storage_key) {
		/* kept out of swap where the system allows; wiped at close */
		n->ident_locked = hm_secret_lock(&n->ident, sizeof(n->ident));
		n->storage_key_locked = hm_secret_lock(n->storage_key, sizeof(n->storage_key));
		n->ident = *opts->identity;
		memcpy(n->storage_key, opts->storage_key, HM_STORAGE_KEY_BYTES);
		hm_random_bytes(n->seal_prefix, sizeof(n->seal_prefix));
		n->trust = true;
	}
	return n;
}

typedef struct create_ctx {
	hm_role role;
	const char *region, *name;
	hm_node_id id;
} create_ctx;

static hm_err create_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	create_ctx *c = arg;
	hm_err err;

	if ((err = meta_put_u64(n, txn, "format", HM_STORE_FORMAT)) ||
	    (err = hm_store_put(n, txn, HM_DB_META, "id", 2, c->id.b, HM_NODE_ID_BYTES)) ||
	    (err = meta_put_u64(n, txn, "role", (uint64_t)c->role)) ||
	    (err = meta_put_str(n, txn, "region", c->region)) ||
	    (err = meta_put_str(n, txn, "name", c->name)) ||
	    (err = meta_put_u64(n, txn, "created", hm_now_ms(n))) ||
	    (err = meta_put_u64(n, txn, "trust", n->trust)))
		return err;
	n->self = c->id, n->role = c->role;
	snprintf(n->region, sizeof(n->region), "%s", c->region);
	snprintf(n->name, sizeof(n->name), "%s", c->name);
	return n->trust ? hm_trust_create(n, txn) : HM_OK;
}

static bool name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > HM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

hm_err hm_node_create(const char *dir, hm_role role, const char *region, const char *name,
                      const hm_node_opts *opts, hm_node_id *id_out)
{
	hm_node *n = node_alloc(opts);
	create_ctx c = {role, region, name, {{0}}};
	hm_err err;

	if (!n)
		return HM_ERR_NOMEM;
	if (!hm_region_valid(region)) {
		err = hm_node_fail(n, HM_ERR_INVALID, "'%s' is not a region path", region);
		goto out;
	}
	if (!name_valid(name) || role < HM_ROLE_COUNTY || role > HM_ROLE_VILLAGE) {
		err = hm_node_fail(n, HM_ERR_INVALID, "the name must be 1 to %u printable bytes",
		                   HM_NAME_MAX);
		goto out;
	}
	if (opts && (opts->identity != NULL) != (opts->storage_key != NULL)) {
		err = hm_node_fail(n, HM_ERR_INVALID, "an identity needs a storage key, and back");
		goto out;
	}
	if (n->trust)
		c.id = n->ident.id;
	else
		hm_random_bytes(c.id.b, sizeof(c.id.b));
	if ((err = env_open(n, dir, true)))
		goto out;
	if ((err = hm_store_write(n, create_txn, &c)))
		goto out;
	if (id_out)
		*id_out = c.id;
out:
	if (err)
		hm_logf(&n->log, HM_LOG_ERROR, "%s", n->errmsg[0] ? n->errmsg : hm_strerror(err));
	hm_node_close(n);
	return err;
}

static hm_err load_meta(hm_node *n)
{
	MDB_txn *txn;
	MDB_val v;
	uint64_t format = 0, role = 0, trust = 0;
	hm_err err;

	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((err = meta_get_u64(n, txn, "format", &format)))
		goto out;
	/* 2: records keyed without their region, rebuilt at open; 3: no log of changed records,
	 * created at open (env_open) */
	n->upgrade = format == 2 || format == 3;
	if (format != HM_STORE_FORMAT && !n->upgrade) {
		err = hm_node_fail(n, HM_ERR_VERSION, "store format %llu is not %d",
		                   (unsigned long long)format, HM_STORE_FORMAT);
		goto out;
	}
	if ((err = hm_store_get(n, txn, HM_DB_META, "id", 2, &v)))
		goto out;
	if (v.mv_size != HM_NODE_ID_BYTES) {
		err = HM_ERR_CORRUPT;
		goto out;
	}
	memcpy(n->self.b, v.mv_data, HM_NODE_ID_BYTES);
	if ((err = meta_get_u64(n, txn, "role", &role)) ||
	    (err = meta_get_str(n, txn, "region", n->region, sizeof(n->region))) ||
	    (err = meta_get_str(n, txn, "name", n->name, sizeof(n->name))) ||
	    (err = meta_get_u64(n, txn, "created", &n->created_ms)) ||
	    (err = meta_get_u64(n, txn, "trust", &trust)))
		goto out;
	n->role = (hm_role)role;
	if (trust && !n->trust) {
		err = hm_node_fail(n, HM_ERR_CRYPTO,
		                   "this node's records are sealed and its key file was not "
		                   "given: is node.key missing from the node directory?");
		goto out;
	}
	if (!trust && n->trust) {
		err = hm_node_fail(n, HM_ERR_INVALID, "this node was created without keys");
		goto out;
	}
	if (trust && !hm_node_id_equal(&n->ident.id, &n->self)) {
		err = hm_node_fail(n, HM_ERR_CRYPTO, "the key file belongs to another node");
		goto out;
	}
	if (trust)
		err = hm_trust_load(n, txn);
out:
	mdb_txn_abort(txn);
	if (err && !n->errmsg[0])
		hm_node_fail(n, err, "reading the node's identity: %s", hm_strerror(err));
	return err;
}

/* Store format 2 keyed records by collection and id alone: rebuild them (and the conflict log)
 * from the oplog under format 3's keys, which hold the record's region. Format 3 lacked the log
 * of changed records, which env_open has created (empty: nothing written since). */
static hm_err upgrade_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	uint64_t format = 0;
	hm_err err = meta_get_u64(n, txn, "format", &format);

	(void)arg;
	if (!err && format == 2)
		err = hm_records_rebuild(n, txn);
	return err ? err : meta_put_u64(n, txn, "format", HM_STORE_FORMAT);
}

hm_err hm_node_open(const char *dir, const hm_node_opts *opts, hm_node **out)
{
	hm_node *n = node_alloc(opts);
	hm_err err;

	*out = NULL;
	if (!n) { /* no node to hold the reason: the logger says it */
		hm_logf(opts ? &opts->log : NULL, HM_LOG_ERROR,
		        "opening the node in %s: out of memory", dir);
		return HM_ERR_NOMEM;
	}
	if ((err = env_open(n, dir, false)) || (err = load_meta(n)) ||
	    (n->upgrade && (err = hm_store_write(n, upgrade_txn, NULL)))) {
		hm_logf(&n->log, HM_LOG_ERROR, "%s", n->errmsg);
		hm_node_close(n);
		return err;
	}
	*out = n; /* ownership passes to the caller */
	return HM_OK;
}

void hm_node_close(hm_node *n)
{
	if (!n)
		return;
	hm_reccache_free(n);
	hm_audit_memo_free(n);
	if (n->env)
		mdb_env_close(n->env);
	hm_identity_release(&n->ident);
	hm_wipe(n->storage_key, sizeof(n->storage_key));
	if (n->ident_locked)
		hm_secret_unlock(&n->ident, sizeof(n->ident));
	if (n->storage_key_locked)
		hm_secret_unlock(n->storage_key, sizeof(n->storage_key));
	free(n);
}

const hm_node_id *hm_node_self(const hm_node *n)
{
	return &n->self;
}

void hm_node_id_hex(const hm_node_id *id, char out[2 * HM_NODE_ID_BYTES + 1])
{
	hm_hex_encode(out, id->b, HM_NODE_ID_BYTES);
}

hm_err hm_node_id_parse(const char *hex, hm_node_id *out)
{
	return hm_hex_decode(out->b, HM_NODE_ID_BYTES, hex);
}
