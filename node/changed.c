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
	uint64_t last;
	MDB_val k = {sizeof(at), at}, v = {kn, (void *)key};
	hm_err err = hm_changed_last(n, txn, &last);
	int rc;

	if (err)
		return err;
	hm_be64_put(at, ++last);
	if ((rc = mdb_put(txn, n->dbi[HM_DB_CHANGED], &k, &v, MDB_APPEND)))
		return hm_store_err(rc);
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
