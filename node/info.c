/*
 * info.c - what a node holds, counted: its own seq and clock, the change sets held, pending,
 * quarantined and refused, the conflicts, and the live records (one walk of the store, which
 * also counts each collection's for `status`).
 */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

typedef struct live_count {
	size_t total, *by_coll, n;
	const hm_collection_def *defs;
} live_count;

static int count_live(void *arg, const hm_collection_def *c, const MDB_val *k, const MDB_val *v,
                      const hm_rec *r)
{
	live_count *lc = arg;
	size_t i = c ? (size_t)(c - lc->defs) : lc->n;
	bool live = hm_rec_live(r);
	(void)k, (void)v;
	lc->total += live;
	if (i < lc->n)
		lc->by_coll[i] += live;
	return 0;
}

size_t hm_db_entries(hm_node *n, MDB_txn *txn, enum hm_db db)
{
	MDB_stat st;
	return mdb_stat(txn, n->dbi[db], &st) ? 0 : st.ms_entries;
}

void hm_node_ident(const hm_node *n, hm_node_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = n->self, out->role = n->role, out->created_ms = n->created_ms;
	out->trust = n->trust, out->enrolled = n->enrolled, out->root = n->root;
	snprintf(out->region, sizeof(out->region), "%s", n->region);
	snprintf(out->name, sizeof(out->name), "%s", n->name);
}

hm_err hm_node_info_get(hm_node *n, hm_node_info *out)
{
	return hm_node_info_counts(n, out, NULL, 0);
}

hm_err hm_node_info_counts(hm_node *n, hm_node_info *out, size_t *by_coll, size_t nc)
{
	size_t ncoll;
	const hm_collection_def *defs = hm_schema_collections(&ncoll);
	live_count lc = {0, by_coll, nc < ncoll ? nc : ncoll, defs};
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	hm_vv_entry head;
	uint64_t fork_seq;
	int rc;
	hm_err err;

	hm_node_ident(n, out);
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((err = hm_head_get(n, txn, &n->self, &head, &fork_seq)) ||
	    (err = hm_hlc_load(n, txn, &out->hlc)))
		goto out;
	out->seq = head.seq;
	out->changesets = hm_db_entries(n, txn, HM_DB_OPLOG);
	out->pending = hm_db_entries(n, txn, HM_DB_PENDING);
	out->quarantined = hm_db_entries(n, txn, HM_DB_QUARANTINE);
	out->conflicts = hm_db_entries(n, txn, HM_DB_CONFLICTS);
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_EVIDENCE], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* value: [kind, reason, envelope]; kind is the second byte (fixarray, fixint) */
		const uint8_t *b = v.mv_data;
		if (v.mv_size > 1 && b[1] == HM_EVIDENCE_FORK)
			out->forks++;
		else
			out->refused++;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	for (size_t i = 0; i < lc.n; i++)
		by_coll[i] = 0;
	if (!err)
		err = hm_walk_records(n, NULL, NULL, true, count_live, &lc);
	out->records = lc.total;
	return err;
}
