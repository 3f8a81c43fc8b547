/*
 * changed.c - the log of changed record keys: counter(8 BE) -> the key of a record written in
 * that transaction (or HM_CHANGED_ALL after a rebuild of every record). It lets a process that
 * keeps records in memory (recache.c) learn what another process, or a sync, wrote since it last
 * looked, without reading every record again. The log is not part of the digest nor of anything
 * sent: it describes this store's own history and is pruned to its last changed_keep entries.
 */
#include "node_int.h"

#include <string.h>

static hm_err changed_key(hm_node *n, const MDB_val *k, uint64_t *counter)
{
	if (k->mv_size != 8)
		return hm_node_fail(n, HM_ERR_CORRUPT, "the log of changed records is damaged");
	*counter = hm_be64_get(k->mv_data);
	return HM_OK;
}

hm_err hm_changed_last(hm_node *n, MDB_txn *txn, uint64_t *last)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_CHANGED], &cur);
	hm_err err = HM_OK;

	*last = 0;
	if (rc)
		return hm_store_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0)
		err = changed_key(n, &k, last);
	else if (rc != MDB_NOTFOUND)
		err = hm_store_err(rc);
	mdb_cursor_close(cur);
	return err;
}

/* Delete the entries below counter below, oldest first. */
static hm_err changed_prune(hm_node *n, MDB_txn *txn, uint64_t below)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t at = 0;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_CHANGED], &cur);
	hm_err err = HM_OK;

	if (rc)
		return hm_store_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if ((err = changed_key(n, &k, &at)) || at >= below)
			break;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
	}
	mdb_cursor_close(cur);
	if (!err && rc && rc != MDB_NOTFOUND)
		err = hm_store_err(rc);
	return err;
}

hm_err hm_changed_note(hm_node *n, MDB_txn *txn, const uint8_t *key, size_t kn)
{
	uint8_t at[8];
	uint64_t last = 0;
	MDB_val k = {sizeof(at), at}, v = {kn, (void *)key};
	hm_err err;
	int rc;

	/* After the mark that every record changed, the transaction's other writes (the rebuild's
	 * own, by the million on a large store) say nothing more. */
	if (n->changed_all)
		return HM_OK;
	/* the last counter read once a transaction: a batch writes thousands of records */
	if (!n->changed_known && (err = hm_changed_last(n, txn, &n->changed_last)))
		return err;
	n->changed_known = true;
	last = n->changed_last + 1;
	hm_be64_put(at, last);
	if ((rc = mdb_put(txn, n->dbi[HM_DB_CHANGED], &k, &v, MDB_APPEND)))
		return hm_store_err(rc);
	n->changed_last = last;
	n->changed_all = kn == 1 && key[0] == 0;
	if (last % HM_CHANGED_BLOCK == 0 && last > n->changed_keep)
		return changed_prune(n, txn, last - n->changed_keep + 1);
	return HM_OK;
}

hm_err hm_changed_read(hm_node *n, MDB_txn *txn, uint64_t after, hm_changed_fn fn, void *ctx,
                       bool *whole)
{
	MDB_cursor *cur;
	uint8_t from[8];
	MDB_val k = {sizeof(from), from}, v;
	uint64_t at = 0, want = after + 1;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_CHANGED], &cur);
	hm_err err = HM_OK;

	*whole = false;
	if (rc)
		return hm_store_err(rc);
	hm_be64_put(from, want);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), want++) {
		if ((err = changed_key(n, &k, &at)))
			break;
		/* a gap is what pruning took; the rebuild's mark says every record */
		if (at != want || (v.mv_size == 1 && *(const uint8_t *)v.mv_data == 0)) {
			*whole = true;
			break;
		}
		if (fn(ctx, v.mv_data, v.mv_size))
			break;
	}
	mdb_cursor_close(cur);
	if (!err && rc && rc != MDB_NOTFOUND)
		err = hm_store_err(rc);
	return err;
}

typedef struct changes_ctx {
	hm_change_cb fn;
	void *ctx;
	char coll[HM_NAME_MAX + 1], id[HM_ID_MAX + 1], region[HM_REGION_MAX + 1];
} changes_ctx;

static int change_one(void *arg, const uint8_t *key, size_t kn)
{
	changes_ctx *c = arg;
	size_t cn, idn, rn;
	const char *id, *region;

	if (!hm_record_key_split(key, kn, &cn, &id, &idn, &region, &rn) || cn > HM_NAME_MAX ||
	    idn > HM_ID_MAX || rn > HM_REGION_MAX)
		return 0; /* names no record: nothing to read again */
	memcpy(c->coll, key, cn), c->coll[cn] = 0;
	memcpy(c->id, id, idn), c->id[idn] = 0;
	memcpy(c->region, region, rn), c->region[rn] = 0;
	return c->fn(c->ctx, c->coll, c->id, c->region);
}

hm_err hm_node_changes(hm_node *n, uint64_t after, hm_change_cb fn, void *ctx, uint64_t *last,
                       bool *whole)
{
	changes_ctx c = {.fn = fn, .ctx = ctx};
	MDB_txn *txn;
	hm_err err;

	*whole = false;
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if (!(err = hm_changed_last(n, txn, last))) {
		if (after > *last)
			*whole = true; /* the log went back: another store in this place */
		else if (after < *last && fn)
			err = hm_changed_read(n, txn, after, change_one, &c, whole);
	}
	mdb_txn_abort(txn);
	return err;
}
