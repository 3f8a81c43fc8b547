/*
 * check.c - the consistency check of a node's store (hm_node_check, hm_node_check_log) and its
 * repair (hm_node_repair): every origin's oplog whole and chained, the version vector agreeing
 * with it, every change set verified again (trust mode), and the records equal to a rebuild from
 * the oplog.
 */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

/* Check one origin's oplog: seqs 1..head with each prev the id of the one before. */
static hm_err check_origin(hm_node *n, MDB_txn *txn, MDB_cursor *cur, const hm_vv_entry *h,
                           msgpack_zone *zone)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	hm_hash prev = {{0}};
	uint64_t want = 1;
	char hex[2 * HM_NODE_ID_BYTES + 1];
	int rc;

	(void)txn;
	hm_node_id_hex(&h->origin, hex);
	hm_opkey(key, &h->origin, 1);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), want++) {
		hm_changeset_view cs;
		if (memcmp(k.mv_data, h->origin.b, HM_NODE_ID_BYTES) != 0)
			break;
		if (hm_oplog_view(&k, &v, zone, &cs))
			return hm_node_fail(n, HM_ERR_CORRUPT,
			                    "%s:%llu: stored envelope is corrupt", hex,
			                    (unsigned long long)want);
		if (cs.seq != want || hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES) != want)
			return hm_node_fail(n, HM_ERR_CORRUPT,
			                    "%s: oplog has a gap before seq %llu", hex,
			                    (unsigned long long)want);
		if (!hm_hash_equal(&cs.prev, &prev))
			return hm_node_fail(n, HM_ERR_CORRUPT, "%s:%llu: hash chain is broken", hex,
			                    (unsigned long long)want);
		prev = cs.id;
	}
	if (want - 1 != h->seq)
		return hm_node_fail(n, HM_ERR_CORRUPT,
		                    "%s: oplog holds seq 1..%llu but the version vector says %llu",
		                    hex, (unsigned long long)(want - 1),
		                    (unsigned long long)h->seq);
	if (h->seq && !hm_hash_equal(&prev, &h->hash))
		return hm_node_fail(n, HM_ERR_CORRUPT, "%s: version vector hash differs from oplog",
		                    hex);
	return HM_OK;
}

/* Every envelope of the oplog verified again (trust mode): signature, certificate, revocation,
 * region. */
static hm_err check_signatures(hm_node *n, MDB_txn *txn)
{
	uint8_t key[HM_OPKEY_BYTES] = {0};
	msgpack_zone zone;
	hm_err err = HM_OK;

	if (!n->trust)
		return HM_OK;
	if (!msgpack_zone_init(&zone, 4096))
		return HM_ERR_NOMEM;
	while (!err) {
		MDB_cursor *cur;
		MDB_val k = {sizeof(key), key}, v;
		hm_envelope env;
		enum hm_evidence_kind kind;
		const char *why = NULL;
		char hex[2 * HM_NODE_ID_BYTES + 1];
		bool ok = true;
		int rc;

		/* verify may store a certificate: no cursor stays open across it */
		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_OPLOG], &cur))) {
			err = hm_store_err(rc);
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == sizeof(key) && !memcmp(k.mv_data, key, sizeof(key)))
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			break;
		if (rc || k.mv_size != sizeof(key)) {
			err = rc ? hm_store_err(rc) : HM_ERR_CORRUPT;
			break;
		}
		/* not after the one before: a search misled by a damaged page */
		if (memcmp(k.mv_data, key, sizeof(key)) <= 0) {
			err = hm_node_fail(n, HM_ERR_CORRUPT, "the oplog is stored out of order");
			break;
		}
		memcpy(key, k.mv_data, sizeof(key));
		msgpack_zone_clear(&zone);
		hm_node_id_hex((const hm_node_id *)key, hex);
		if (hm_envelope_open(v.mv_data, v.mv_size, &zone, &env, &why) ||
		    (err = hm_trust_verify(n, txn, &env, &ok, &kind, &why)) || !ok)
			err = hm_node_fail(n, err ? err : HM_ERR_CORRUPT,
			                   "%s:%llu: a stored change set does not verify: %s", hex,
			                   (unsigned long long)hm_be64_get(key + HM_NODE_ID_BYTES),
			                   why ? why : "");
	}
	msgpack_zone_destroy(&zone);
	return err;
}

typedef struct rebuild_check {
	hm_hash held, rebuilt;
} rebuild_check;

/* In a trial transaction: the records' digest as held, then as rebuilt from the oplog. */
static hm_err check_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	rebuild_check *rc = arg;
	hm_err err;

	if ((err = hm_digest_in(n, txn, NULL, &rc->held))) {
		char why[sizeof(n->errmsg)]; /* n->errmsg is rewritten below */
		snprintf(why, sizeof(why), "%s", n->errmsg[0] ? n->errmsg : hm_strerror(err));
		return hm_node_fail(n, err, "reading the records: %s%s", why,
		                    strstr(why, "check --repair") ? ""
		                                                  : " (`hamlet check --repair`)");
	}
	if ((err = check_signatures(n, txn)) || (err = hm_records_rebuild(n, txn)) ||
	    (err = hm_digest_in(n, txn, NULL, &rc->rebuilt)))
		return err;
	return HM_OK;
}

hm_err hm_node_check(hm_node *n)
{
	rebuild_check rc;
	hm_err err;

	/* the pages first: LMDB would stop on a damaged one rather than say so */
	if ((err = hm_store_pages_check(n)) || (err = hm_node_check_log(n)))
		return err;
	if ((err = hm_store_trial(n, check_txn, &rc)) == HM_ERR_FULL) {
		/* A store at its cap has no room for a trial rebuild: every record still opens. */
		if ((err = hm_digest_in(n, NULL, NULL, &rc.held)))
			return err;
		hm_logf(
		    &n->log, HM_LOG_WARN,
		    "the store is at its size cap: the change sets' signatures and a rebuild of "
		    "the records were not checked (free space, or raise HAMLET_MAP_MAX)");
		return HM_OK;
	}
	if (err)
		return err;
	if (!hm_hash_equal(&rc.held, &rc.rebuilt))
		return hm_node_fail(n, HM_ERR_CORRUPT,
		                    "the records differ from a rebuild from the oplog: run `hamlet "
		                    "check --repair`");
	return HM_OK;
}

static hm_err repair_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	(void)arg;
	return hm_records_rebuild(n, txn);
}

hm_err hm_node_repair(hm_node *n)
{
	hm_err err;

	if ((err = hm_store_pages_check(n)) || (err = hm_node_check_log(n)))
		return err;
	return hm_store_write(n, repair_txn, NULL);
}

hm_err hm_node_check_log(hm_node *n)
{
	hm_oplog_walk w;
	size_t total = 0;
	hm_err err;

	if ((err = hm_oplog_walk_begin(n, &w)))
		return err;
	for (size_t i = 0; i < w.heads.n && !err; i++) {
		err = check_origin(n, w.txn, w.cur, &w.heads.v[i], &w.zone);
		total += w.heads.v[i].seq;
	}
	if (!err && total != hm_db_entries(n, w.txn, HM_DB_OPLOG))
		err =
		    hm_node_fail(n, HM_ERR_CORRUPT,
		                 "the oplog holds change sets of no origin in the version vector");
	hm_oplog_walk_end(&w);
	return err;
}
