/*
 * recache.c - live records kept decoded in memory, for a process that lists them again and
 * again (the web interface: a county's report reads 600,000 records, and unsealing and decoding
 * them is nearly all of its time).
 *
 * Per collection, the records hm_node_list would give, in its order (the key's id, then region),
 * each one heap block as hm_record_build makes it. The cache is as of one LMDB snapshot (its
 * transaction id) and one entry of the store's log of changed records (changed.c). A list opens
 * a read transaction; when its snapshot is newer, the entries written since are read, and the
 * records they name are read again from that snapshot and merged into the arrays in one pass;
 * when the log cannot say (pruned past the cache, or every record rebuilt), the collections are
 * read whole again. The records then answer the list with the transaction closed.
 *
 * One mutex, taken with trylock: a list from inside another's callback, or from another thread
 * while one runs, reads the store as if there were no cache, so nothing here waits and no array
 * changes under a caller.
 */
#include "node_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct rc_ent {
	hm_record *r;
	size_t bytes; /* of its heap block */
} rc_ent;

typedef struct rc_coll {
	rc_ent *v; /* sorted as hm_node_list gives them */
	size_t n;
	bool loaded;
} rc_coll;

typedef struct hm_reccache {
	pthread_mutex_t mu;
	size_t max_bytes;
	bool off;         /* turned off: past max_bytes */
	uint64_t txnid;   /* the snapshot the arrays are as of (0: none yet) */
	uint64_t counter; /* the last entry of the changed log taken */
	hm_cache_stats st;
	const hm_collection_def *defs;
	size_t ncoll;
	rc_coll coll[];
} hm_reccache;

/* One changed key of a kept collection. */
typedef struct rc_change {
	size_t coll;
	char id[HM_ID_MAX + 1];
	char region[HM_REGION_MAX + 1];
} rc_change;

typedef struct rc_changes {
	hm_reccache *rc;
	rc_change *v;
	size_t n, cap;
	bool nomem;
} rc_changes;

static int rec_cmp(const char *ida, const char *ra, const char *idb, const char *rb)
{
	int c = strcmp(ida, idb);
	return c ? c : strcmp(ra, rb);
}

static void coll_drop(hm_reccache *rc, rc_coll *c)
{
	for (size_t i = 0; i < c->n; i++) {
		rc->st.bytes -= c->v[i].bytes;
		hm_record_free(c->v[i].r);
	}
	rc->st.records -= c->n;
	free(c->v);
	c->v = NULL;
	c->n = 0;
	c->loaded = false;
}

static void drop_all(hm_reccache *rc)
{
	for (size_t i = 0; i < rc->ncoll; i++)
		coll_drop(rc, &rc->coll[i]);
	rc->txnid = 0;
	rc->counter = 0;
}

/* ---- reading a collection whole ---- */

typedef struct rc_load {
	hm_reccache *rc;
	rc_coll *c;
	size_t cap;
	hm_err err;
} rc_load;

static int load_one(void *arg, const hm_collection_def *def, const MDB_val *k, const MDB_val *v,
                    const hm_rec *r)
{
	rc_load *l = arg;
	hm_record *rec;
	rc_ent *grown;
	size_t bytes;
	(void)v;

	if ((l->err = hm_record_walked(def, k, r, &rec, &bytes)) || !rec)
		return l->err ? 1 : 0;
	if (l->c->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		if (!(grown = realloc(l->c->v, cap * sizeof(*grown)))) {
			hm_record_free(rec);
			l->err = HM_ERR_NOMEM;
			return 1;
		}
		l->c->v = grown;
		l->cap = cap;
	}
	l->c->v[l->c->n++] = (rc_ent){rec, bytes};
	l->rc->st.records++;
	l->rc->st.bytes += bytes;
	if (l->rc->st.bytes > l->rc->max_bytes) { /* past its bytes: stop here, not at the end */
		l->err = HM_ERR_FULL;
		return 1;
	}
	return 0;
}

static hm_err coll_load(hm_node *n, hm_reccache *rc, MDB_txn *txn, size_t ci)
{
	rc_load l = {rc, &rc->coll[ci], 0, HM_OK};
	hm_err err = hm_walk_records(n, txn, &rc->defs[ci], true, load_one, &l);

	if (!err)
		err = l.err;
	if (err) {
		coll_drop(rc, l.c);
		return err == HM_ERR_CORRUPT && !n->errmsg[0]
		           ? hm_node_fail(n, err, "a stored record's key is corrupt")
		           : err;
	}
	l.c->loaded = true;
	rc->st.loads++;
	return HM_OK;
}

/* ---- reading again what the changed log names ---- */

static int change_cmp(const void *a, const void *b)
{
	const rc_change *x = a, *y = b;
	if (x->coll != y->coll)
		return x->coll < y->coll ? -1 : 1;
	return rec_cmp(x->id, x->region, y->id, y->region);
}

static int collect_one(void *arg, const uint8_t *key, size_t kn)
{
	rc_changes *ch = arg;
	size_t cn, idn, rn;
	const char *id, *region;
	const hm_collection_def *def;
	rc_change *c;

	if (!hm_record_key_split(key, kn, &cn, &id, &idn, &region, &rn) || idn > HM_ID_MAX ||
	    rn > HM_REGION_MAX || !(def = hm_schema_collection_n((const char *)key, cn)))
		return 0; /* names no record this build knows: nothing kept to read again */
	if (!ch->rc->coll[def - ch->rc->defs].loaded)
		return 0;
	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? 2 * ch->cap : 256;
		rc_change *grown = realloc(ch->v, cap * sizeof(*grown));
		if (!grown) {
			ch->nomem = true;
			return 1;
		}
		ch->v = grown;
		ch->cap = cap;
	}
	c = &ch->v[ch->n++];
	c->coll = (size_t)(def - ch->rc->defs);
	memcpy(c->id, id, idn), c->id[idn] = 0;
	memcpy(c->region, region, rn), c->region[rn] = 0;
	return 0;
}

/* The live record the change names, as of txn, or NULL when there is none. */
static hm_err reread(hm_node *n, MDB_txn *txn, const hm_collection_def *def, const rc_change *c,
                     msgpack_sbuffer *scratch, msgpack_zone *zone, hm_rec *r, hm_record **out,
                     size_t *bytes)
{
	uint8_t key[HM_RECORD_KEY_MAX];
	size_t idn = strlen(c->id), rn = strlen(c->region);
	size_t kn = hm_record_key(key, sizeof(key), def->name, strlen(def->name), c->id, idn,
	                          c->region, rn);
	MDB_val v;
	hm_err err;

	*out = NULL;
	if (!kn)
		return HM_OK;
	if ((err = hm_seal_get(n, txn, HM_DB_RECORDS, key, kn, &v, scratch)))
		return err == HM_ERR_NOT_FOUND ? HM_OK : err;
	msgpack_zone_clear(zone);
	if ((err = hm_rec_decode(v.mv_data, v.mv_size, zone, r)))
		return err == HM_ERR_NOMEM
		           ? err
		           : hm_node_fail(n, HM_ERR_CORRUPT, "a stored record is corrupt");
	if (!hm_rec_live(r))
		return HM_OK;
	return hm_record_build(def, c->id, idn, c->region, rn, r, out, bytes);
}

/* Merge the sorted changes ch[0..k) of collection ci into its array: each one's place found by
 * bisection, the kept ones between them moved at once. */
static hm_err coll_merge(hm_node *n, hm_reccache *rc, MDB_txn *txn, size_t ci, const rc_change *ch,
                         size_t k, msgpack_sbuffer *scratch, msgpack_zone *zone, hm_rec *r)
{
	rc_coll *c = &rc->coll[ci];
	rc_ent *v = malloc((c->n + k) * sizeof(*v));
	hm_record *rec;
	size_t i = 0, j = 0, m = 0, bytes;
	hm_err err = HM_OK;

	if (!v)
		return HM_ERR_NOMEM;
	while (j < k) {
		/* (a few changes among hundreds of thousands: a walk comparing each kept one was
		 * most of a page's time after a write) */
		size_t lo = i, hi = c->n;
		int cmp;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (rec_cmp(c->v[mid].r->id, c->v[mid].r->region, ch[j].id, ch[j].region) <
			    0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > i)
			memcpy(v + m, c->v + i, (lo - i) * sizeof(*v));
		m += lo - i, i = lo;
		cmp = i == c->n ? 1
		                : rec_cmp(c->v[i].r->id, c->v[i].r->region, ch[j].id, ch[j].region);
		if (cmp == 0) { /* the kept version goes; what the store holds now replaces it */
			rc->st.bytes -= c->v[i].bytes;
			rc->st.records--;
			hm_record_free(c->v[i++].r);
		}
		if (j > 0 && change_cmp(&ch[j - 1], &ch[j]) == 0) { /* written twice: read once */
			j++;
			continue;
		}
		if ((err = reread(n, txn, &rc->defs[ci], &ch[j++], scratch, zone, r, &rec, &bytes)))
			break;
		if (rec) {
			v[m++] = (rc_ent){rec, bytes};
			rc->st.records++;
			rc->st.bytes += bytes;
			rc->st.reread++;
		}
	}
	if (c->n > i) /* the rest (all dropped on an error) */
		memcpy(v + m, c->v + i, (c->n - i) * sizeof(*v));
	m += c->n - i;
	free(c->v);
	c->v = v;
	c->n = m;
	if (err)
		coll_drop(rc, c);
	return err;
}

static hm_err apply_changes(hm_node *n, hm_reccache *rc, MDB_txn *txn, rc_changes *ch)
{
	msgpack_sbuffer scratch;
	msgpack_zone zone;
	hm_rec *r = malloc(sizeof(*r));
	hm_err err = HM_OK;

	msgpack_sbuffer_init(&scratch);
	if (!r || !msgpack_zone_init(&zone, 4096)) {
		free(r);
		return HM_ERR_NOMEM;
	}
	qsort(ch->v, ch->n, sizeof(*ch->v), change_cmp);
	for (size_t at = 0, end; at < ch->n && !err; at = end) {
		for (end = at; end < ch->n && ch->v[end].coll == ch->v[at].coll; end++)
			;
		err = coll_merge(n, rc, txn, ch->v[at].coll, ch->v + at, end - at, &scratch, &zone,
		                 r);
	}
	msgpack_zone_destroy(&zone);
	free(r);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return err;
}

/* Bring the kept collections to txn's snapshot. */
static hm_err refresh(hm_node *n, hm_reccache *rc, MDB_txn *txn)
{
	uint64_t id = (uint64_t)mdb_txn_id(txn), last;
	rc_changes ch = {.rc = rc};
	bool whole = false;
	hm_err err;

	if (id == rc->txnid)
		return HM_OK;
	if ((err = hm_changed_last(n, txn, &last)))
		return err;
	if (rc->txnid && last > rc->counter)
		err = hm_changed_read(n, txn, rc->counter, collect_one, &ch, &whole);
	if (!err && ch.nomem)
		err = HM_ERR_NOMEM;
	if (!err && rc->txnid && (whole || last < rc->counter))
		drop_all(rc); /* the log cannot say what changed: read what is asked whole */
	else if (!err && ch.n)
		err = apply_changes(n, rc, txn, &ch);
	free(ch.v);
	if (err) {
		drop_all(rc);
		return err;
	}
	rc->txnid = id;
	rc->counter = last;
	return HM_OK;
}

static void turn_off(hm_node *n, hm_reccache *rc)
{
	hm_logf(&n->log, HM_LOG_WARN,
	        "the records kept in memory passed %zu MB: each page now reads them from the store",
	        rc->max_bytes >> 20);
	drop_all(rc);
	rc->off = true;
}

hm_err hm_reccache_list(hm_node *n, const hm_collection_def *def, hm_record_cb cb, void *ctx,
                        bool *served)
{
	hm_reccache *rc = n->cache;
	size_t ci = (size_t)(def - rc->defs);
	MDB_txn *txn;
	hm_err err;

	*served = false;
	if (pthread_mutex_trylock(&rc->mu))
		return HM_OK;
	if (rc->off) {
		pthread_mutex_unlock(&rc->mu);
		return HM_OK;
	}
	if (!(err = hm_store_read_begin(n, &txn))) {
		err = refresh(n, rc, txn);
		if (!err && !rc->coll[ci].loaded)
			err = coll_load(n, rc, txn, ci);
		mdb_txn_abort(txn);
	}
	if (err == HM_ERR_FULL || (!err && rc->st.bytes > rc->max_bytes)) {
		turn_off(n, rc);
		err = HM_OK; /* the caller reads the store */
	} else if (!err) {
		*served = true;
		rc->st.lists++;
		for (size_t i = 0; i < rc->coll[ci].n; i++)
			if (cb(ctx, rc->coll[ci].v[i].r))
				break;
	} else if (err == HM_ERR_NOMEM && !n->errmsg[0]) {
		err = hm_node_fail(n, err, "reading records: out of memory");
	}
	*served = *served || err;
	pthread_mutex_unlock(&rc->mu);
	return err;
}

hm_err hm_node_cache_records(hm_node *n, size_t max_bytes)
{
	size_t ncoll;
	const hm_collection_def *defs = hm_schema_collections(&ncoll);
	hm_reccache *rc;

	if (n->cache)
		return HM_OK;
	if (!(rc = calloc(1, sizeof(*rc) + ncoll * sizeof(rc_coll))))
		return hm_node_fail(n, HM_ERR_NOMEM, "keeping records in memory: out of memory");
	if (pthread_mutex_init(&rc->mu, NULL)) {
		free(rc);
		return hm_node_fail(n, HM_ERR_NOMEM, "keeping records in memory: no mutex");
	}
	rc->max_bytes = max_bytes;
	rc->defs = defs;
	rc->ncoll = ncoll;
	n->cache = rc;
	return HM_OK;
}

static int count_none(void *ctx, const hm_record *r)
{
	(void)ctx, (void)r;
	return 1; /* the list has read the collection into memory: nothing more wanted */
}

hm_err hm_node_cache_warm(hm_node *n)
{
	hm_err err = HM_OK;

	for (size_t i = 0; n->cache && !n->cache->off && i < n->cache->ncoll && !err; i++)
		err = hm_node_list(n, n->cache->defs[i].name, count_none, NULL);
	return err;
}

void hm_node_cache_stats(hm_node *n, hm_cache_stats *out)
{
	hm_reccache *rc = n->cache;

	memset(out, 0, sizeof(*out));
	if (!rc)
		return;
	pthread_mutex_lock(&rc->mu);
	*out = rc->st;
	out->on = !rc->off;
	pthread_mutex_unlock(&rc->mu);
}

void hm_reccache_free(hm_node *n)
{
	hm_reccache *rc = n->cache;

	if (!rc)
		return;
	drop_all(rc);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
	n->cache = NULL;
}
