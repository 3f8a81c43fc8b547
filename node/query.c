/*
 * query.c - reading a node: records, version vector, digest, change sets and conflicts (its
 * counts: info.c). Every function here runs in one read transaction and copies what it returns
 * out of LMDB's memory before the transaction ends. The consistency check is in check.c.
 */
#include "node_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- records ---- */

hm_err hm_record_build(const hm_collection_def *c, const char *id, size_t idn, const char *region,
                       size_t rn, const hm_rec *r, hm_record **out, size_t *bytes)
{
	size_t size =
	    sizeof(hm_record) + r->nf * sizeof(hm_field) + strlen(c->name) + 1 + idn + 1 + rn + 1;
	hm_record *rec;
	char *s;
	size_t nf = 0;
	bool live = hm_rec_live(r);

	for (size_t i = 0; i < r->nf; i++)
		size += r->f[i].name_len + 1 +
		        (r->f[i].value.kind == HM_V_STR ? r->f[i].value.u.s.n + 1 : 0);
	if (!(rec = calloc(1, size)))
		return HM_ERR_NOMEM;
	rec->fields = (hm_field *)(rec + 1);
	s = (char *)(rec->fields + r->nf);
	rec->collection = s;
	s += sprintf(s, "%s", c->name) + 1;
	memcpy(s, id, idn), s[idn] = 0;
	rec->id = s;
	s += idn + 1;
	memcpy(s, region, rn), s[rn] = 0;
	rec->region = s;
	s += rn + 1;
	rec->deleted = !live;
	rec->tombstone = r->tomb;
	for (size_t i = 0; i < r->nf; i++) {
		hm_field *f = &rec->fields[nf++];
		memcpy(s, r->f[i].name, r->f[i].name_len), s[r->f[i].name_len] = 0;
		f->name = s;
		s += r->f[i].name_len + 1;
		f->value = r->f[i].value;
		f->stamp = r->f[i].stamp;
		if (f->value.kind == HM_V_STR) {
			memcpy(s, f->value.u.s.p, f->value.u.s.n), s[f->value.u.s.n] = 0;
			f->value.u.s.p = s;
			s += f->value.u.s.n + 1;
		}
	}
	rec->nfields = nf;
	if (bytes)
		*bytes = size;
	*out = rec; /* owned by the caller: hm_record_free */
	return HM_OK;
}

void hm_record_free(hm_record *r)
{
	free(r);
}

/* Bisected: a record's fields are sorted by name (hm_rec_decode sees to it). */
const hm_field *hm_record_field(const hm_record *r, const char *name)
{
	size_t lo = 0, hi = r->nfields;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->fields[mid].name, name);
		if (c == 0)
			return &r->fields[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether the stored record at k/v is live (v opened with scratch). */
/* Whether the stored record at k/v is live (v opened with scratch, decoded into r in zone). */
static hm_err rec_is_live(hm_node *n, const MDB_val *k, MDB_val v, msgpack_sbuffer *scratch,
                          msgpack_zone *zone, hm_rec *r, bool *live)
{
	hm_err err;

	msgpack_zone_clear(zone);
	if (!(err = hm_seal_open(n, HM_DB_RECORDS, k, &v, scratch)) &&
	    (err = hm_rec_decode(v.mv_data, v.mv_size, zone, r)))
		err = err == HM_ERR_NOMEM
		          ? hm_node_fail(n, err, "reading a record: out of memory")
		          : hm_node_fail(n, HM_ERR_CORRUPT, "a stored record is corrupt");
	*live = !err && hm_rec_live(r);
	return err;
}

/* Append region to a ", "-separated list in buf (cut short when full). */
static void list_region(char *buf, size_t cap, const char *region, size_t rn)
{
	size_t at = strlen(buf);
	if (at + 2 + rn < cap)
		snprintf(buf + at, cap - at, "%s%.*s", at ? ", " : "", (int)rn, region);
}

hm_err hm_record_locate(hm_node *n, MDB_txn *txn, const hm_collection_def *c, const char *id,
                        char region[HM_REGION_MAX + 1], bool *found, msgpack_sbuffer *scratch)
{
	uint8_t prefix[HM_RECORD_KEY_MAX];
	size_t pn, cn, idn, rn, live_n = 0, inside_n = 0, own_n = 0;
	char live_at[HM_REGION_MAX + 1] = "", inside_at[HM_REGION_MAX + 1] = "", all[512] = "";
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	msgpack_zone zone;
	hm_rec *r = NULL; /* one for every key scanned: a record holds up to HM_FIELDS_MAX fields */
	const char *kid, *kreg;
	int rc = 0;
	hm_err err = HM_OK;

	*found = false;
	region[0] = 0;
	if (!(pn = hm_record_key(prefix, sizeof(prefix), c->name, strlen(c->name), id, strlen(id),
	                         "", 0)))
		return hm_node_fail(n, HM_ERR_INVALID, "record id too long");
	if (!msgpack_zone_init(&zone, 1024))
		return HM_ERR_NOMEM;
	if (!(r = malloc(sizeof(*r)))) {
		err = HM_ERR_NOMEM;
		goto out;
	}
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_RECORDS], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	k.mv_size = pn, k.mv_data = prefix;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		bool live;
		if (k.mv_size < pn || memcmp(k.mv_data, prefix, pn) != 0 ||
		    !hm_record_key_split(k.mv_data, k.mv_size, &cn, &kid, &idn, &kreg, &rn) ||
		    rn > HM_REGION_MAX)
			break;
		if ((err = rec_is_live(n, &k, v, scratch, &zone, r, &live)))
			break;
		if (!live)
			continue;
		live_n++;
		memcpy(live_at, kreg, rn), live_at[rn] = 0;
		list_region(all, sizeof(all), kreg, rn);
		own_n += strcmp(live_at, n->region) == 0;
		if (hm_region_contains(n->region, live_at)) {
			inside_n++;
			memcpy(inside_at, live_at, rn + 1);
		}
	}
	if (!err && rc && rc != MDB_NOTFOUND)
		err = hm_store_err(rc);
	if (err || live_n == 0)
		goto out;
	if (live_n == 1 || own_n == 1 || inside_n == 1) {
		snprintf(region, HM_REGION_MAX + 1, "%s",
		         live_n == 1  ? live_at
		         : own_n == 1 ? n->region
		                      : inside_at);
		*found = true;
	} else {
		err = hm_node_fail(n, HM_ERR_AMBIGUOUS,
		                   "%s/%s names records in %zu regions (%s): name the region",
		                   c->name, id, live_n, all);
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	free(r);
	msgpack_zone_destroy(&zone);
	return err;
}

hm_err hm_node_get(hm_node *n, const char *coll, const char *id, hm_record **out)
{
	return hm_node_get_at(n, coll, id, NULL, out);
}

hm_err hm_node_get_at(hm_node *n, const char *coll, const char *id, const char *region,
                      hm_record **out)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	uint8_t key[HM_RECORD_KEY_MAX];
	char at[HM_REGION_MAX + 1];
	size_t kn;
	MDB_txn *txn = NULL;
	MDB_val v;
	msgpack_zone zone;
	msgpack_sbuffer scratch;
	hm_rec *r = NULL;
	bool found = true;
	hm_err err;

	*out = NULL;
	if (!c)
		return hm_node_fail(n, HM_ERR_SCHEMA, "unknown collection '%s'", coll);
	if (region && (!hm_region_valid(region) || strlen(region) > HM_REGION_MAX))
		return hm_node_fail(n, HM_ERR_INVALID, "'%s' is not a region path", region);
	if (!msgpack_zone_init(&zone, 1024))
		return hm_node_fail(n, HM_ERR_NOMEM, "reading %s/%s: out of memory", coll, id);
	msgpack_sbuffer_init(&scratch);
	if (!(r = malloc(sizeof(*r)))) {
		err = HM_ERR_NOMEM;
		goto out;
	}
	if ((err = hm_store_read_begin(n, &txn)))
		goto out;
	if (region)
		snprintf(at, sizeof(at), "%s", region);
	else if ((err = hm_record_locate(n, txn, c, id, at, &found, &scratch)))
		goto out;
	if (!found || !(kn = hm_record_key(key, sizeof(key), coll, strlen(coll), id, strlen(id), at,
	                                   strlen(at)))) {
		err = found ? hm_node_fail(n, HM_ERR_INVALID, "record id too long")
		            : hm_node_fail(n, HM_ERR_NOT_FOUND, "no record %s/%s", coll, id);
		goto out;
	}
	if ((err = hm_seal_get(n, txn, HM_DB_RECORDS, key, kn, &v, &scratch))) {
		if (err == HM_ERR_NOT_FOUND)
			hm_node_fail(n, err, "no record %s/%s in %s", coll, id, at);
		goto out;
	}
	if ((err = hm_rec_decode(v.mv_data, v.mv_size, &zone, r))) {
		if (err == HM_ERR_NOMEM)
			hm_node_fail(n, err, "reading %s/%s: out of memory", coll, id);
		else
			hm_node_fail(n, err, "stored record %s/%s is corrupt", coll, id);
		goto out;
	}
	if (!hm_rec_live(r)) {
		err = hm_node_fail(n, HM_ERR_NOT_FOUND, "%s/%s was deleted", coll, id);
		goto out;
	}
	err = hm_record_build(c, id, strlen(id), at, strlen(at), r, out, NULL);
out:
	if (txn)
		mdb_txn_abort(txn);
	free(r);
	msgpack_zone_destroy(&zone);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	if (err == HM_ERR_NOMEM && !strstr(n->errmsg, _("out of memory")))
		err = hm_node_fail(n, err, "reading %s/%s: out of memory", coll, id);
	return err;
}

#define HM_KEY_SIZE_MAX 511 /* LMDB's (mdb_env_get_maxkeysize) */

/* LMDB's order of keys: bytes, then length. */
static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : an < bn ? -1 : an > bn;
}

static hm_err out_of_order(hm_node *n)
{
	return hm_node_fail(n, HM_ERR_CORRUPT,
	                    "the records are stored out of order: the store is damaged (`hamlet "
	                    "check --repair` rebuilds them from the oplog)");
}

/* A range scan starts at the first key at or after the prefix, found by a binary search that
 * a damaged key can misdirect past records of the range. The two keys before the start must
 * run in order below the prefix (one damaged key is then seen: it is out of order with its
 * neighbour). */
static hm_err range_start_sound(hm_node *n, MDB_txn *txn, const void *p, size_t pn)
{
	MDB_cursor *cur;
	MDB_val k = {pn, (void *)p}, v, k1;
	hm_err err = HM_OK;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_RECORDS], &cur);

	if (rc)
		return hm_store_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = mdb_cursor_get(cur, &k1, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && key_cmp(k1.mv_data, k1.mv_size, p, pn) >= 0)
		err = out_of_order(n);
	else if (rc == 0 && mdb_cursor_get(cur, &k, &v, MDB_PREV) == 0 &&
	         key_cmp(k.mv_data, k.mv_size, k1.mv_data, k1.mv_size) >= 0)
		err = out_of_order(n);
	mdb_cursor_close(cur);
	return err;
}

/* The key at the cursor in a walk of only's range (NULL: every record): *end when it ends the
 * range. LMDB walks keys in order: a key not after the one before (prev), longer than LMDB
 * allows, or that seems to end the range while the key after it runs back (a record's place
 * damaged into the middle of another) is a damaged page. */
static hm_err range_key(hm_node *n, MDB_cursor *cur, const MDB_val *k, const char *prev,
                        size_t prev_n, const hm_collection_def *only, size_t pn, bool *end)
{
	MDB_val k2, v;

	*end = false;
	if ((prev_n && key_cmp(k->mv_data, k->mv_size, prev, prev_n) <= 0) ||
	    k->mv_size > HM_KEY_SIZE_MAX)
		return out_of_order(n);
	if (only && (k->mv_size < pn || memcmp(k->mv_data, only->name, pn) != 0)) {
		*end = true;
		if (mdb_cursor_get(cur, &k2, &v, MDB_NEXT) == 0 &&
		    key_cmp(k2.mv_data, k2.mv_size, k->mv_data, k->mv_size) <= 0)
			return out_of_order(n);
	}
	return HM_OK;
}

hm_err hm_walk_records(hm_node *n, MDB_txn *in, const hm_collection_def *only, bool decode,
                       hm_raw_cb cb, void *ctx)
{
	MDB_txn *txn = in;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	msgpack_zone zone;
	msgpack_sbuffer scratch;
	hm_rec *r = malloc(sizeof(*r));
	size_t pn = only ? strlen(only->name) + 1 : 0, prev_n = 0;
	char prev[HM_KEY_SIZE_MAX + 1]; /* the key before */
	int rc;
	hm_err err = HM_OK;

	msgpack_sbuffer_init(&scratch);
	if (!r || !msgpack_zone_init(&zone, 4096)) {
		free(r);
		return hm_node_fail(n, HM_ERR_NOMEM, "reading records: out of memory");
	}
	if (!in && (err = hm_store_read_begin(n, &txn)))
		goto out;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_RECORDS], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	if (pn && (err = range_start_sound(n, txn, only->name, pn)))
		goto out;
	k.mv_size = pn;
	k.mv_data = (void *)(only ? only->name : "");
	for (rc = mdb_cursor_get(cur, &k, &v, pn ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const hm_collection_def *c = only;
		const char *key = k.mv_data;
		size_t cn = strnlen(key, k.mv_size);
		bool end;
		if ((err = range_key(n, cur, &k, prev, prev_n, only, pn, &end)) || end)
			break;
		memcpy(prev, key, prev_n = k.mv_size); /* shorter than prev: range_key says so */
		if (!c) {
			char name[HM_NAME_MAX + 1];
			if (cn > HM_NAME_MAX)
				continue;
			memcpy(name, key, cn), name[cn] = 0;
			c = hm_schema_collection(name);
		}
		if ((err = hm_seal_open(n, HM_DB_RECORDS, &k, &v, &scratch)))
			goto out;
		if (decode) {
			msgpack_zone_clear(&zone);
			if ((err = hm_rec_decode(v.mv_data, v.mv_size, &zone, r))) {
				if (err != HM_ERR_NOMEM) /* out of memory is said below */
					err = hm_node_fail(n, HM_ERR_CORRUPT,
					                   "a stored record is corrupt");
				goto out;
			}
		}
		if (cb(ctx, c, &k, &v, decode ? r : NULL))
			break;
	}
	if (rc && rc != MDB_NOTFOUND)
		err = hm_store_err(rc);
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn && !in)
		mdb_txn_abort(txn);
	msgpack_zone_destroy(&zone);
	free(r);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	if (err == HM_ERR_NOMEM && !strstr(n->errmsg, _("out of memory")))
		err = hm_node_fail(n, err, "reading records: out of memory");
	return err;
}

hm_err hm_record_walked(const hm_collection_def *c, const MDB_val *k, const hm_rec *r,
                        hm_record **out, size_t *size)
{
	size_t cn, idn, rn;
	const char *id, *region;

	*out = NULL;
	if (!hm_rec_live(r))
		return HM_OK;
	if (!hm_record_key_split(k->mv_data, k->mv_size, &cn, &id, &idn, &region, &rn))
		return HM_ERR_CORRUPT;
	return hm_record_build(c, id, idn, region, rn, r, out, size);
}

typedef struct list_ctx {
	hm_record_cb cb;
	void *ctx;
	hm_err err;
} list_ctx;

static int list_one(void *arg, const hm_collection_def *c, const MDB_val *k, const MDB_val *v,
                    const hm_rec *r)
{
	list_ctx *l = arg;
	hm_record *rec;
	int stop;
	(void)v;

	if ((l->err = hm_record_walked(c, k, r, &rec, NULL)) || !rec)
		return l->err ? 1 : 0;
	stop = l->cb(l->ctx, rec);
	hm_record_free(rec);
	return stop;
}

hm_err hm_node_list(hm_node *n, const char *coll, hm_record_cb cb, void *ctx)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	list_ctx l = {cb, ctx, HM_OK};
	bool served = false;
	hm_err err;

	if (!c)
		return hm_node_fail(n, HM_ERR_SCHEMA, "unknown collection '%s'", coll);
	if (n->cache && ((err = hm_reccache_list(n, c, cb, ctx, &served)) || served))
		return err;
	err = hm_walk_records(n, NULL, c, true, list_one, &l);
	return err ? err : l.err;
}

/* ---- digest ---- */

const char *hm_rec_region(const hm_collection_def *c, const hm_rec *r, char *buf, size_t cap)
{
	const hm_rfield *f;

	if (!c || !(f = hm_rec_find(r, c->region_field, strlen(c->region_field))) ||
	    f->value.kind != HM_V_STR || f->value.u.s.n >= cap)
		return NULL;
	memcpy(buf, f->value.u.s.p, f->value.u.s.n);
	buf[f->value.u.s.n] = 0;
	return buf;
}

typedef struct digest_ctx {
	hm_hash_state st;
	const char *scope;
} digest_ctx;

static int digest_one(void *arg, const hm_collection_def *c, const MDB_val *k, const MDB_val *v,
                      const hm_rec *r)
{
	digest_ctx *d = arg;
	uint8_t len[8];

	if (d->scope) {
		char region[HM_REGION_MAX + 1];
		const char *at = hm_rec_region(c, r, region, sizeof(region));
		if (!at || !hm_region_visible(d->scope, at))
			return 0;
	}
	hm_be64_put(len, k->mv_size);
	hm_hash_update(&d->st, len, 8);
	hm_hash_update(&d->st, k->mv_data, k->mv_size);
	hm_be64_put(len, v->mv_size);
	hm_hash_update(&d->st, len, 8);
	hm_hash_update(&d->st, v->mv_data, v->mv_size);
	return 0;
}

hm_err hm_digest_in(hm_node *n, MDB_txn *txn, const char *scope, hm_hash *out)
{
	digest_ctx d = {.scope = scope};
	hm_err err;

	hm_hash_init(&d.st);
	hm_hash_update(&d.st, "hamlet-digest-v1", 16);
	err = hm_walk_records(n, txn, NULL, scope != NULL, digest_one, &d);
	hm_hash_final(&d.st, out);
	return err;
}

hm_err hm_node_digest(hm_node *n, const char *scope, hm_hash *out)
{
	if (scope && !hm_region_valid(scope))
		return hm_node_fail(n, HM_ERR_INVALID, "'%s' is not a region path", scope);
	return hm_digest_in(n, NULL, scope, out);
}

/* ---- version vector ---- */

void hm_vv_release(hm_vv *vv)
{
	free(vv->v);
	vv->v = NULL;
	vv->n = 0;
}

uint64_t hm_vv_get(const hm_vv *vv, const hm_node_id *origin)
{
	if (!vv)
		return 0;
	for (size_t i = 0; i < vv->n; i++)
		if (memcmp(vv->v[i].origin.b, origin->b, HM_NODE_ID_BYTES) == 0)
			return vv->v[i].seq;
	return 0;
}

hm_err hm_vv_format(const hm_vv *vv, char **out)
{
	size_t cap = vv->n * (2 * HM_NODE_ID_BYTES + 22) + 1, off = 0;
	char *s = malloc(cap);

	if (!s)
		return HM_ERR_NOMEM;
	s[0] = 0;
	for (size_t i = 0; i < vv->n; i++) {
		char hex[2 * HM_NODE_ID_BYTES + 1];
		hm_node_id_hex(&vv->v[i].origin, hex);
		off += (size_t)snprintf(s + off, cap - off, "%s%s:%llu", i ? "," : "", hex,
		                        (unsigned long long)vv->v[i].seq);
	}
	*out = s; /* owned by the caller */
	return HM_OK;
}

hm_err hm_vv_parse(const char *text, hm_vv *out)
{
	size_t n = *text ? 1 : 0;
	const char *p = text;

	out->v = NULL, out->n = 0;
	for (const char *c = text; *c; c++)
		n += *c == ',';
	if (n && !(out->v = calloc(n, sizeof(*out->v))))
		return HM_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		char hex[2 * HM_NODE_ID_BYTES + 1];
		char *end;
		const char *colon = strchr(p, ':');
		unsigned long long seq;
		if (!colon || colon - p != 2 * HM_NODE_ID_BYTES)
			goto bad;
		memcpy(hex, p, 2 * HM_NODE_ID_BYTES), hex[2 * HM_NODE_ID_BYTES] = 0;
		if (hm_node_id_parse(hex, &out->v[i].origin) || colon[1] < '0' || colon[1] > '9')
			goto bad;
		errno = 0;
		seq = strtoull(colon + 1, &end, 10);
		if (errno == ERANGE || (*end != ',' && *end != 0))
			goto bad; /* strtoull saturates: a seq beyond 2^64-1 would read as the
			             maximum */
		out->v[i].seq = seq;
		p = end + (*end == ',');
	}
	out->n = n;
	return HM_OK;
bad:
	hm_vv_release(out);
	return HM_ERR_INVALID;
}

hm_err hm_node_version_vector(hm_node *n, hm_vv *out)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_stat st;
	int rc;
	hm_err err;

	out->v = NULL, out->n = 0;
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((rc = mdb_stat(txn, n->dbi[HM_DB_HEADS], &st)) ||
	    (rc = mdb_cursor_open(txn, n->dbi[HM_DB_HEADS], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	if (st.ms_entries && !(out->v = calloc(st.ms_entries, sizeof(*out->v)))) {
		err = HM_ERR_NOMEM;
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && out->n < st.ms_entries;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_vv_entry *e = &out->v[out->n];
		if (k.mv_size != HM_NODE_ID_BYTES || v.mv_size != HM_HEAD_BYTES) {
			err = hm_node_fail(n, HM_ERR_CORRUPT, "a version vector entry is corrupt");
			goto out;
		}
		memcpy(e->origin.b, k.mv_data, HM_NODE_ID_BYTES);
		e->seq = hm_be64_get(v.mv_data);
		memcpy(e->hash.b, (uint8_t *)v.mv_data + 8, HM_HASH_BYTES);
		e->hlc = hm_be64_get((uint8_t *)v.mv_data + 40);
		if (e->seq)
			out->n++;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (err)
		hm_vv_release(out);
	return err;
}

/* ---- change sets ---- */

hm_err hm_oplog_view(const MDB_val *k, const MDB_val *v, msgpack_zone *zone, hm_changeset_view *cs)
{
	hm_envelope env;
	const char *why;
	hm_err err;

	(void)k;
	msgpack_zone_clear(zone);
	if ((err = hm_envelope_open(v->mv_data, v->mv_size, zone, &env, &why)))
		return err;
	cs->origin = env.h.origin;
	cs->seq = env.h.seq;
	cs->id = env.id;
	cs->prev = env.h.prev;
	cs->hlc = env.h.hlc;
	cs->nops = env.h.nops;
	snprintf(cs->region, sizeof(cs->region), "%s", env.h.region);
	cs->envelope.p = v->mv_data;
	cs->envelope.n = v->mv_size;
	return HM_OK;
}

void hm_oplog_walk_end(hm_oplog_walk *w)
{
	if (w->cur)
		mdb_cursor_close(w->cur);
	if (w->txn)
		mdb_txn_abort(w->txn);
	msgpack_zone_destroy(&w->zone);
	hm_vv_release(&w->heads);
}

/* On error nothing is left to release. */
hm_err hm_oplog_walk_begin(hm_node *n, hm_oplog_walk *w)
{
	int rc;
	hm_err err;

	memset(w, 0, sizeof(*w));
	if ((err = hm_node_version_vector(n, &w->heads)))
		return err;
	if (!msgpack_zone_init(&w->zone, 4096)) {
		hm_vv_release(&w->heads);
		return HM_ERR_NOMEM;
	}
	if ((err = hm_store_read_begin(n, &w->txn)))
		goto fail;
	if ((rc = mdb_cursor_open(w->txn, n->dbi[HM_DB_OPLOG], &w->cur))) {
		err = hm_store_err(rc);
		goto fail;
	}
	return HM_OK;
fail:
	hm_oplog_walk_end(w);
	return err;
}

/* A stored change set that is not what its successor (or the version vector) says it is. */
static hm_err stored_damaged(hm_node *n, const hm_node_id *origin, uint64_t seq, const char *why)
{
	char hex[2 * HM_NODE_ID_BYTES + 1];
	hm_node_id_hex(origin, hex);
	return hm_node_fail(n, HM_ERR_CORRUPT,
	                    "%s:%llu: a stored change set is damaged (%s): it is not sent; "
	                    "`hamlet check` names the damage (docs/reliability.md, \"Damaged "
	                    "media\")",
	                    hex, (unsigned long long)seq, why);
}

/* One origin's change sets from..h->seq, each passed to cb once it is known whole: its id is
 * the prev its successor names, or, for the last, the hash in the version vector. A damaged
 * envelope is refused before it is sent or written to a bundle. *stop: cb asked to stop. */
static hm_err changesets_of(hm_node *n, hm_oplog_walk *w, const hm_vv_entry *h, uint64_t from,
                            hm_changeset_cb cb, void *ctx, bool *stop)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	hm_changeset_view cs, held;
	uint64_t want = from;
	int rc;

	hm_opkey(key, &h->origin, from);
	/* The oplog is keyed (origin, seq): one range scan per origin, in seq order. */
	for (rc = mdb_cursor_get(w->cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(w->cur, &k, &v, MDB_NEXT), want++) {
		if (k.mv_size != HM_OPKEY_BYTES ||
		    memcmp(k.mv_data, h->origin.b, HM_NODE_ID_BYTES) ||
		    hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES) > h->seq)
			break;
		if (hm_oplog_view(&k, &v, &w->zone, &cs))
			return stored_damaged(n, &h->origin, want, "it does not decode");
		if (cs.seq != want || hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES) != want)
			return stored_damaged(n, &h->origin, want, "the oplog has a gap before it");
		if (want > from && !hm_hash_equal(&cs.prev, &held.id))
			return stored_damaged(n, &h->origin, want - 1,
			                      "its hash is not the one its successor names");
		if (want > from && cb(ctx, &held)) {
			*stop = true;
			return HM_OK;
		}
		held = cs;
	}
	if (rc && rc != MDB_NOTFOUND)
		return hm_store_err(rc);
	if (want - 1 != h->seq)
		return stored_damaged(n, &h->origin, want,
		                      "the oplog ends before the version vector");
	if (!hm_hash_equal(&held.id, &h->hash))
		return stored_damaged(n, &h->origin, h->seq,
		                      "its hash is not the one the version vector holds");
	*stop = cb(ctx, &held) != 0;
	return HM_OK;
}

hm_err hm_node_changesets(hm_node *n, const hm_vv *since, hm_changeset_cb cb, void *ctx)
{
	hm_oplog_walk w;
	hm_err err;
	bool stop = false;

	n->errmsg[0] = '\0';
	if ((err = hm_oplog_walk_begin(n, &w)))
		return hm_store_damage(n, err, "reading the oplog");
	for (size_t i = 0; i < w.heads.n && !err && !stop; i++) {
		uint64_t from = hm_vv_get(since, &w.heads.v[i].origin) + 1;
		if (from <= w.heads.v[i].seq)
			err = changesets_of(n, &w, &w.heads.v[i], from, cb, ctx, &stop);
	}
	hm_oplog_walk_end(&w);
	return hm_store_damage(n, err, "reading the oplog");
}

/* ---- fork proofs ---- */

/* The evidence of origin's fork at fork_seq (both versions of that seq, and a successor that
 * proves one), each passed to cb. */
static hm_err proofs_of(MDB_cursor *cur, const hm_node_id *origin, uint64_t fork_seq,
                        msgpack_zone *zone, hm_changeset_cb cb, void *ctx, bool *stop)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	unsigned sent = 0;
	int rc;

	hm_opkey(key, origin, fork_seq);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !*stop;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		msgpack_object o;
		const uint8_t *env;
		size_t envn;
		MDB_val ev;
		hm_changeset_view cs;

		if (k.mv_size < HM_OPKEY_BYTES || memcmp(k.mv_data, origin->b, HM_NODE_ID_BYTES) ||
		    hm_be64_get((const uint8_t *)k.mv_data + HM_NODE_ID_BYTES) > fork_seq + 1)
			break;
		msgpack_zone_clear(zone);
		if (hm_mp_decode(v.mv_data, v.mv_size, zone, &o) ||
		    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 3 ||
		    o.via.array.ptr[0].via.u64 != HM_EVIDENCE_FORK ||
		    !hm_mp_bin(&o.via.array.ptr[2], &env, &envn) || !envn)
			continue; /* another kind of evidence, or one kept without its bytes */
		ev.mv_data = (void *)env, ev.mv_size = envn;
		if (hm_oplog_view(&k, &ev, zone, &cs) || !hm_node_id_equal(&cs.origin, origin))
			continue;
		*stop = cb(ctx, &cs) != 0;
		if (++sent == 2 * 2) /* two versions of the forked seq and of the next prove it */
			break;
	}
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

hm_err hm_node_fork_proofs(hm_node *n, const hm_vv *since, hm_changeset_cb cb, void *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *heads = NULL, *ev = NULL;
	MDB_val k, v;
	msgpack_zone zone;
	bool stop = false;
	int rc;
	hm_err err;

	if (!msgpack_zone_init(&zone, 4096))
		return HM_ERR_NOMEM;
	if ((err = hm_store_read_begin(n, &txn)))
		goto out;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_HEADS], &heads)) ||
	    (rc = mdb_cursor_open(txn, n->dbi[HM_DB_EVIDENCE], &ev))) {
		err = hm_store_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(heads, &k, &v, MDB_FIRST); rc == 0 && !err && !stop;
	     rc = mdb_cursor_get(heads, &k, &v, MDB_NEXT)) {
		hm_node_id origin;
		uint64_t fork_seq;
		if (k.mv_size != HM_NODE_ID_BYTES || v.mv_size != HM_HEAD_BYTES)
			continue;
		memcpy(origin.b, k.mv_data, HM_NODE_ID_BYTES);
		fork_seq = hm_be64_get((const uint8_t *)v.mv_data + 48);
		if (fork_seq && (!since || hm_vv_get(since, &origin) >= fork_seq))
			err = proofs_of(ev, &origin, fork_seq, &zone, cb, ctx, &stop);
	}
out:
	if (ev)
		mdb_cursor_close(ev);
	if (heads)
		mdb_cursor_close(heads);
	if (txn)
		mdb_txn_abort(txn);
	msgpack_zone_destroy(&zone);
	return err;
}

/* ---- conflicts ---- */

/* A conflict log key: collection, id, region and field, each ending in 0, then the loser's
 * hlc(8) and origin. c's strings point into kc. false when it is not one. */
static bool conflict_key(const MDB_val *k, char kc[HM_CONFLICT_PREFIX_MAX], hm_conflict *c)
{
	const uint8_t *kb = k->mv_data;
	size_t tail = 8 + HM_NODE_ID_BYTES, textn = k->mv_size - tail;
	char *p1, *p2, *p3;

	if (k->mv_size <= tail || textn >= HM_CONFLICT_PREFIX_MAX)
		return false;
	memcpy(kc, kb, textn), kc[textn] = 0;
	if (kc[textn - 1] != 0 || !(p1 = memchr(kc, 0, textn)) ||
	    !(p2 = memchr(p1 + 1, 0, textn - (size_t)(p1 + 1 - kc))) ||
	    !(p3 = memchr(p2 + 1, 0, textn - (size_t)(p2 + 1 - kc))))
		return false;
	c->collection = kc, c->id = p1 + 1, c->region = p2 + 1, c->field = p3 + 1;
	c->loser_stamp.hlc = hm_be64_get(kb + textn);
	memcpy(c->loser_stamp.origin.b, kb + textn + 8, HM_NODE_ID_BYTES);
	return true;
}

/* A conflict log value (opened): [loser value, loser seq, [winner hlc, winner origin, winner
 * seq], by delete]. c's value lives in zone. false when it is not one. */
static bool conflict_value(const MDB_val *v, msgpack_zone *zone, hm_conflict *c)
{
	msgpack_object o;
	const msgpack_object *a, *w;
	const uint8_t *b;
	size_t bn;

	if (hm_mp_decode(v->mv_data, v->mv_size, zone, &o) || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 4)
		return false;
	a = o.via.array.ptr;
	if (a[2].type != MSGPACK_OBJECT_ARRAY || a[2].via.array.size != 3)
		return false;
	w = a[2].via.array.ptr;
	if (hm_mp_to_value(&a[0], &c->loser) || !hm_mp_uint(&a[1], &c->loser_stamp.seq) ||
	    !hm_mp_uint(&w[0], &c->winner_stamp.hlc) || !hm_mp_bin(&w[1], &b, &bn) ||
	    bn != HM_NODE_ID_BYTES || !hm_mp_uint(&w[2], &c->winner_stamp.seq) ||
	    a[3].type != MSGPACK_OBJECT_BOOLEAN)
		return false;
	memcpy(c->winner_stamp.origin.b, b, bn);
	c->by_delete = a[3].via.boolean;
	return true;
}

hm_err hm_node_conflicts(hm_node *n, const char *coll, const char *id, hm_conflict_cb cb, void *ctx)
{
	uint8_t prefix[HM_RECORD_KEY_MAX];
	size_t pn = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	msgpack_zone zone;
	msgpack_sbuffer scratch;
	int rc;
	hm_err err;

	msgpack_sbuffer_init(&scratch);
	if (coll && id) {
		if (!(pn = hm_record_key(prefix, sizeof(prefix), coll, strlen(coll), id, strlen(id),
		                         "", 0)))
			return hm_node_fail(n, HM_ERR_INVALID, "record id too long");
	}
	if (!msgpack_zone_init(&zone, 1024)) {
		msgpack_sbuffer_destroy(&scratch);
		return HM_ERR_NOMEM;
	}
	if ((err = hm_store_read_begin(n, &txn)))
		goto out;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CONFLICTS], &cur))) {
		err = hm_store_err(rc);
		goto out;
	}
	k.mv_size = pn, k.mv_data = prefix;
	for (rc = mdb_cursor_get(cur, &k, &v, pn ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char kc[HM_CONFLICT_PREFIX_MAX];
		hm_conflict c = {0};

		if (pn && (k.mv_size < pn || memcmp(k.mv_data, prefix, pn) != 0))
			break;
		if (!conflict_key(&k, kc, &c))
			goto corrupt;
		msgpack_zone_clear(&zone);
		if ((err = hm_seal_open(n, HM_DB_CONFLICTS, &k, &v, &scratch)))
			goto out;
		if (!conflict_value(&v, &zone, &c))
			goto corrupt;
		if (cb(ctx, &c))
			break;
	}
	goto out;
corrupt:
	err = hm_node_fail(n, HM_ERR_CORRUPT, "a conflict log entry is corrupt");
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	msgpack_zone_destroy(&zone);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return err;
}
