/*
 * behind.c - a node behind its own log (hm_own_log_behind, hm_node_note_peer_vv,
 * hm_node_peer_synced).
 *
 * A peer's version vector that holds more of this node's own log than the node does is a claim,
 * not proof: it is kept per peer (meta "behind:" origin peer -> seq), blocks writing in that log
 * while the node's head is below it, and is dropped when a full sync with that peer ends (what
 * the peer really held has then arrived; a claim still unmet was false).
 */
#include "node_int.h"

#include <string.h>

#define BEHIND_KEY  "behind:"
#define BEHIND_KLEN (sizeof(BEHIND_KEY) - 1)

static size_t behind_key(uint8_t *k, const hm_node_id *origin, const hm_node_id *peer)
{
	memcpy(k, BEHIND_KEY, BEHIND_KLEN);
	memcpy(k + BEHIND_KLEN, origin->b, HM_NODE_ID_BYTES);
	if (!peer)
		return BEHIND_KLEN + HM_NODE_ID_BYTES;
	memcpy(k + BEHIND_KLEN + HM_NODE_ID_BYTES, peer->b, HM_NODE_ID_BYTES);
	return BEHIND_KLEN + 2 * HM_NODE_ID_BYTES;
}

hm_err hm_own_log_behind(hm_node *n, MDB_txn *txn, const hm_node_id *origin, uint64_t head,
                         uint64_t *known)
{
	uint8_t prefix[BEHIND_KLEN + HM_NODE_ID_BYTES];
	size_t pn = behind_key(prefix, origin, NULL);
	MDB_cursor *cur;
	MDB_val k = {pn, prefix}, v;
	int rc;

	*known = 0;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_META], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == pn + HM_NODE_ID_BYTES && !memcmp(k.mv_data, prefix, pn);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (v.mv_size == 8 && hm_be64_get(v.mv_data) > head &&
		    hm_be64_get(v.mv_data) > *known)
			*known = hm_be64_get(v.mv_data);
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* Whether origin is one of this node's streams for a region inside its own: the region of
 * some certificate it holds (a village it wrote for may be one it has not written since a
 * backup was taken, so its own stream's certificate need not be held). */
static hm_err is_own_stream(hm_node *n, MDB_txn *txn, const hm_node_id *origin, bool *own)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !*own;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		hm_node_id stream;
		if (hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    !hm_region_contains(n->region, c.region))
			continue;
		hm_stream_id(&n->self, n->region, c.region, &stream);
		*own = hm_node_id_equal(&stream, origin);
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* Whether origin is this node's own: itself, or one of its streams (a stored certificate of
 * this node under another id, or the stream for a region it knows). */
static hm_err is_own(hm_node *n, MDB_txn *txn, const hm_node_id *origin, bool *own)
{
	hm_cert c;
	hm_err err;

	*own = hm_node_id_equal(origin, &n->self);
	if (*own || !n->trust)
		return HM_OK;
	err = hm_trust_cert_get(n, txn, origin, &c);
	if (err && err != HM_ERR_NOT_FOUND && err != HM_ERR_CORRUPT)
		return err;
	if (!err && hm_node_id_equal(&c.node, &n->self)) {
		*own = true;
		return HM_OK;
	}
	/* a village writes only its own region: its one stream is itself */
	return n->role == HM_ROLE_VILLAGE ? HM_OK : is_own_stream(n, txn, origin, own);
}

typedef struct behind_ctx {
	const hm_node_id *peer;
	const hm_vv *vv;
	bool write; /* false: only count what would be written */
	size_t behind;
} behind_ctx;

static hm_err behind_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	behind_ctx *b = arg;

	b->behind = 0;
	for (size_t i = 0; i < b->vv->n; i++) {
		const hm_vv_entry *e = &b->vv->v[i];
		uint8_t k[BEHIND_KLEN + 2 * HM_NODE_ID_BYTES], val[8];
		size_t kn = behind_key(k, &e->origin, b->peer);
		hm_vv_entry head;
		uint64_t fork_seq;
		MDB_val held;
		bool own;
		hm_err err;

		if ((err = hm_head_get(n, txn, &e->origin, &head, &fork_seq)))
			return err;
		if (e->seq <= head.seq)
			continue; /* the peer is not ahead: whose it is does not matter */
		if ((err = is_own(n, txn, &e->origin, &own)))
			return err;
		if (!own)
			continue;
		err = hm_store_get(n, txn, HM_DB_META, k, kn, &held);
		if (err && err != HM_ERR_NOT_FOUND)
			return err;
		if (!err && held.mv_size == 8 && hm_be64_get(held.mv_data) == e->seq)
			continue; /* known already */
		b->behind++;
		if (!b->write)
			continue;
		hm_be64_put(val, e->seq);
		if ((err = hm_store_put(n, txn, HM_DB_META, k, kn, val, 8)))
			return err;
		hm_logf(
		    &n->log, HM_LOG_WARN,
		    "a peer holds this node's own change sets up to seq %llu and this node only "
		    "to %llu (restored from a backup?): it writes again once it has caught up",
		    (unsigned long long)e->seq, (unsigned long long)head.seq);
	}
	return HM_OK;
}

static hm_err behind_read(hm_node *n, behind_ctx *b)
{
	MDB_txn *txn;
	hm_err err = hm_store_read_begin(n, &txn);

	if (err)
		return err;
	err = behind_txn(n, txn, b);
	mdb_txn_abort(txn);
	return err;
}

hm_err hm_node_note_peer_vv(hm_node *n, const hm_node_id *peer, const hm_vv *vv, size_t *behind)
{
	behind_ctx b = {peer, vv, false, 0};
	hm_err err = behind_read(n, &b); /* most sessions find nothing new: no write */

	if (!err && b.behind) {
		b.write = true;
		err = hm_store_write(n, behind_txn, &b);
	}
	if (behind)
		*behind = b.behind;
	return err;
}

static hm_err synced_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	const hm_node_id *peer = arg;
	MDB_cursor *cur;
	MDB_val k = {BEHIND_KLEN, (void *)BEHIND_KEY}, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_META], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == BEHIND_KLEN + 2 * HM_NODE_ID_BYTES &&
	     !memcmp(k.mv_data, BEHIND_KEY, BEHIND_KLEN);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (memcmp((uint8_t *)k.mv_data + BEHIND_KLEN + HM_NODE_ID_BYTES, peer->b,
		           HM_NODE_ID_BYTES))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

hm_err hm_node_peer_synced(hm_node *n, const hm_node_id *peer)
{
	return hm_store_write(n, synced_txn, (void *)peer);
}
