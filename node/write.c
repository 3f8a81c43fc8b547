/*
 * write.c - local writes. A write collects operations, then hm_write_commit turns them into one
 * change set and applies it through the very path remote change sets take (hm_apply_one), in one
 * durable transaction: what a node writes and what it receives merge by the same rules.
 */
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wfield {
	const hm_field_def *def;
	hm_value v; /* a string value points at sbuf */
	char *sbuf; /* owned */
} wfield;

typedef struct wop {
	const hm_collection_def *c;
	char *id; /* owned */
	enum hm_op_kind kind;
	size_t first, nf;   /* fields[first .. first+nf) of the write */
	bool fill_region;   /* a new record without its region field: the node's region */
	uint16_t region_ix; /* which change set of the write: see commit_ctx.regions */
	char region[HM_REGION_MAX + 1]; /* where the record lives (check_state) */
	bool region_named;              /* region was given by the caller (hm_write_del_at, move) */
	char lives_elsewhere[HM_REGION_MAX + 1]; /* the one live record of this id, elsewhere */
} wop;

/* A field the county added (hm_node_field): owned by the write, so wfield.def stays valid. */
typedef struct xdef {
	const hm_collection_def *c;
	hm_field_def def;
	char name[HM_NAME_MAX + 1];
	struct xdef *next;
} xdef;

struct hm_write {
	hm_node *n;
	xdef *xdefs;
	wop *ops;
	size_t nops, opcap;
	wfield *fields;
	size_t nfields, fieldcap;
	bool has_del;
	bool system; /* may write system collections (trust.c) */
};

hm_err hm_write_begin(hm_node *n, hm_write **out)
{
	hm_write *w = calloc(1, sizeof(*w));
	if (!w)
		return HM_ERR_NOMEM;
	w->n = n;
	*out = w; /* owned by the caller until commit or abort */
	return HM_OK;
}

hm_err hm_write_begin_system(hm_node *n, hm_write **out)
{
	hm_err err = hm_write_begin(n, out);
	if (!err)
		(*out)->system = true;
	return err;
}

void hm_write_abort(hm_write *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nops; i++)
		free(w->ops[i].id);
	for (size_t i = 0; i < w->nfields; i++)
		free(w->fields[i].sbuf);
	free(w->ops);
	free(w->fields);
	while (w->xdefs) {
		xdef *next = w->xdefs->next;
		free(w->xdefs);
		w->xdefs = next;
	}
	free(w);
}

static hm_err check_id(hm_write *w, const char *id)
{
	const char *why;
	if (hm_id_check(id, &why))
		return hm_node_fail(w->n, HM_ERR_INVALID, "the record id %s", why);
	return HM_OK;
}

static wop *find_op(hm_write *w, const hm_collection_def *c, const char *id, bool any)
{
	if (any) {
		for (size_t i = w->nops; i-- > 0;)
			if (w->ops[i].c == c && strcmp(w->ops[i].id, id) == 0)
				return &w->ops[i];
		return NULL;
	}
	if (w->nops && w->ops[w->nops - 1].c == c && strcmp(w->ops[w->nops - 1].id, id) == 0)
		return &w->ops[w->nops - 1];
	return NULL;
}

static hm_err new_op(hm_write *w, const hm_collection_def *c, const char *id, enum hm_op_kind kind,
                     wop **out)
{
	wop *op;

	if (w->nops >= HM_OPS_MAX)
		return hm_node_fail(w->n, HM_ERR_TOO_BIG, "more than %u operations in one write",
		                    HM_OPS_MAX);
	if (w->nops == w->opcap) {
		size_t cap = w->opcap ? w->opcap * 2 : 8;
		wop *p = realloc(w->ops, cap * sizeof(*p));
		if (!p)
			return HM_ERR_NOMEM;
		w->ops = p, w->opcap = cap;
	}
	op = &w->ops[w->nops];
	if (!(op->id = strdup(id)))
		return HM_ERR_NOMEM;
	op->c = c, op->kind = kind, op->first = w->nfields, op->nf = 0;
	op->fill_region = false;
	op->region_named = false;
	op->region[0] = 0;
	w->nops++;
	*out = op;
	return HM_OK;
}

/* The last op, if it is for this record, else a new one. A record deleted and written in the
 * same change set would make the outcome depend on op order within it: refused. */
static hm_err op_for(hm_write *w, const hm_collection_def *c, const char *id, enum hm_op_kind kind,
                     wop **out)
{
	wop *op = find_op(w, c, id, w->has_del || kind == HM_OP_DEL);
	hm_err err;

	if ((err = check_id(w, id)))
		return err;
	if (op && (op->kind != kind || kind == HM_OP_DEL))
		return hm_node_fail(w->n, HM_ERR_INVALID,
		                    "%s/%s is both written and deleted in one change", c->name, id);
	if (op && op != &w->ops[w->nops - 1])
		op = NULL; /* only the last op can grow: its fields are at the end */
	if (op) {
		*out = op;
		return HM_OK;
	}
	if (kind == HM_OP_DEL)
		w->has_del = true;
	return new_op(w, c, id, kind, out);
}

static hm_err added_field(hm_write *w, const hm_collection_def *c, const char *field,
                          const hm_field_def **f)
{
	xdef *x;
	hm_err err;

	for (x = w->xdefs; x; x = x->next)
		if (x->c == c && !strcmp(x->name, field)) {
			*f = &x->def;
			return HM_OK;
		}
	if (!(x = calloc(1, sizeof(*x))))
		return HM_ERR_NOMEM;
	err = w->system ? HM_ERR_SCHEMA : hm_node_field(w->n, c, field, &x->def, x->name);
	if (err) {
		free(x);
		return err == HM_ERR_SCHEMA
		           ? hm_node_fail(w->n, HM_ERR_SCHEMA, "collection '%s' has no field '%s'",
		                          c->name, field)
		           : err;
	}
	x->c = c;
	x->next = w->xdefs;
	w->xdefs = x;
	*f = &x->def;
	return HM_OK;
}

static hm_err lookup(hm_write *w, const char *coll, const char *field, const hm_collection_def **c,
                     const hm_field_def **f)
{
	if (!(*c = hm_schema_collection(coll)))
		return hm_node_fail(w->n, HM_ERR_SCHEMA, "unknown collection '%s'", coll);
	if (coll[0] == '_' && !w->system)
		return hm_node_fail(w->n, HM_ERR_SCHEMA,
		                    "'%s' is a system collection, written only by hamlet itself",
		                    coll);
	if (field && !(*f = hm_schema_field(*c, field)))
		return added_field(w, *c, field, f);
	return HM_OK;
}

static hm_err field_slot(hm_write *w, wop *op, const hm_field_def *def, wfield **out)
{
	for (size_t i = op->first; i < op->first + op->nf; i++)
		if (w->fields[i].def == def) {
			*out = &w->fields[i];
			return HM_OK;
		}
	if (w->nfields == w->fieldcap) {
		size_t cap = w->fieldcap ? w->fieldcap * 2 : 16;
		wfield *p = realloc(w->fields, cap * sizeof(*p));
		if (!p)
			return HM_ERR_NOMEM;
		w->fields = p, w->fieldcap = cap;
	}
	*out = &w->fields[w->nfields++];
	memset(*out, 0, sizeof(**out));
	(*out)->def = def;
	op->nf++;
	return HM_OK;
}

static hm_err set_field(hm_write *w, const char *coll, const char *id, const char *field,
                        const hm_value *v)
{
	const hm_collection_def *c;
	const hm_field_def *f = NULL;
	const char *why;
	wop *op;
	wfield *slot;
	char *copy = NULL;
	hm_err err;

	if ((err = lookup(w, coll, field, &c, &f)))
		return err;
	if (f->merge == HM_MERGE_COUNTER)
		return hm_node_fail(w->n, HM_ERR_SCHEMA, "%s.%s is a counter: add to it with %s+=N",
		                    coll, field, field);
	if ((err = hm_value_check(f, v, &why)))
		return hm_node_fail(w->n, err, "%s.%s must be %s", coll, field, why);
	if (v->kind == HM_V_STR && !(copy = malloc(v->u.s.n + 1)))
		return HM_ERR_NOMEM;
	if ((err = op_for(w, c, id, HM_OP_PUT, &op)) || (err = field_slot(w, op, f, &slot))) {
		free(copy);
		return err;
	}
	free(slot->sbuf);
	slot->sbuf = copy;
	slot->v = *v;
	if (copy) {
		memcpy(copy, v->u.s.p, v->u.s.n);
		copy[v->u.s.n] = '\0';
		slot->v.u.s.p = copy;
	}
	return HM_OK;
}

static hm_err add_delta(hm_write *w, const char *coll, const char *id, const char *field,
                        int64_t delta)
{
	const hm_collection_def *c;
	const hm_field_def *f = NULL;
	wop *op;
	wfield *slot;
	hm_err err;

	if ((err = lookup(w, coll, field, &c, &f)))
		return err;
	if (f->merge != HM_MERGE_COUNTER)
		return hm_node_fail(w->n, HM_ERR_SCHEMA,
		                    "%s.%s is not a counter: set it with %s=VALUE", coll, field,
		                    field);
	if ((err = op_for(w, c, id, HM_OP_PUT, &op)) || (err = field_slot(w, op, f, &slot)))
		return err;
	if (slot->v.kind != HM_V_INT)
		slot->v.kind = HM_V_INT, slot->v.u.i = 0;
	slot->v.u.i = (int64_t)((uint64_t)slot->v.u.i + (uint64_t)delta);
	return HM_OK;
}

static hm_err del_record(hm_write *w, const char *coll, const char *id)
{
	const hm_collection_def *c;
	wop *op;
	hm_err err;

	if ((err = lookup(w, coll, NULL, &c, NULL)))
		return err;
	if (c->append_only)
		return hm_node_fail(
		    w->n, HM_ERR_SCHEMA,
		    "'%s' is append-only: records are never deleted; add a correction", coll);
	return op_for(w, c, id, HM_OP_DEL, &op);
}

/* Name the region of the op just made for id (a region path, at most HM_REGION_MAX). */
static hm_err name_region(hm_write *w, wop *op, const char *region)
{
	if (!hm_region_valid(region) || strlen(region) > HM_REGION_MAX)
		return hm_node_fail(w->n, HM_ERR_INVALID, "'%s' is not a region path", region);
	snprintf(op->region, sizeof(op->region), "%s", region);
	op->region_named = true;
	return HM_OK;
}

static hm_err del_record_at(hm_write *w, const char *coll, const char *id, const char *region)
{
	wop *op;
	hm_err err;

	if (!region)
		return del_record(w, coll, id);
	if ((err = del_record(w, coll, id)))
		return err;
	op = &w->ops[w->nops - 1];
	return name_region(w, op, region);
}

/* The record coll/id of region at (live or not), decoded into *dest (strings in *buf, owned:
 * free). *exists false when never written there. */
static hm_err dest_record(hm_node *n, const hm_collection_def *c, const char *id, const char *at,
                          hm_rec *dest, msgpack_zone *zone, uint8_t **buf, bool *exists)
{
	uint8_t key[HM_RECORD_KEY_MAX];
	size_t kn = hm_record_key(key, sizeof(key), c->name, strlen(c->name), id, strlen(id), at,
	                          strlen(at));
	msgpack_sbuffer scratch;
	MDB_txn *txn;
	MDB_val v;
	hm_err err;

	*exists = false, *buf = NULL;
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	msgpack_sbuffer_init(&scratch);
	err = hm_seal_get(n, txn, HM_DB_RECORDS, key, kn, &v, &scratch);
	if (!err && !(*buf = malloc(v.mv_size ? v.mv_size : 1)))
		err = HM_ERR_NOMEM;
	if (!err) {
		memcpy(*buf, v.mv_data, v.mv_size);
		if ((err = hm_rec_decode(*buf, v.mv_size, zone, dest)))
			err = err == HM_ERR_NOMEM
			          ? hm_node_fail(n, err, "reading a record: out of memory")
			          : hm_node_fail(n, HM_ERR_CORRUPT,
			                         "stored record %s/%s is corrupt", c->name, id);
	}
	mdb_txn_abort(txn);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	if (err == HM_ERR_NOT_FOUND)
		return HM_OK;
	*exists = !err;
	return err;
}

/* Copy one field of a live record into op. A counter is written as the delta that brings the
 * destination to the record's sum: a record once deleted there keeps its counter. */
static hm_err move_field(hm_write *w, wop *op, const hm_rec *dest, const hm_field *f)
{
	const hm_field_def *def;
	wfield *slot;
	hm_err err;

	if (!strcmp(f->name, op->c->region_field) || f->value.kind == HM_V_NIL)
		return HM_OK;
	if (!(def = hm_schema_field(op->c, f->name)) &&
	    (err = added_field(w, op->c, f->name, &def)))
		return err;
	if ((err = field_slot(w, op, def, &slot)))
		return err;
	slot->v = f->value;
	if (def->merge == HM_MERGE_COUNTER && f->value.kind == HM_V_INT) {
		const hm_rfield *held = hm_rec_find(dest, f->name, strlen(f->name));
		if (held && held->value.kind == HM_V_INT)
			slot->v.u.i = (int64_t)((uint64_t)f->value.u.i - (uint64_t)held->value.u.i);
	}
	if (f->value.kind == HM_V_STR) {
		if (!(slot->sbuf = malloc(f->value.u.s.n + 1)))
			return HM_ERR_NOMEM;
		memcpy(slot->sbuf, f->value.u.s.p, f->value.u.s.n);
		slot->sbuf[f->value.u.s.n] = 0;
		slot->v.u.s.p = slot->sbuf;
	}
	return HM_OK;
}

/* Undo the ops and fields added since (nops, nfields): a move that failed half way. */
static void write_truncate(hm_write *w, size_t nops, size_t nfields, bool has_del)
{
	while (w->nops > nops)
		free(w->ops[--w->nops].id);
	while (w->nfields > nfields)
		free(w->fields[--w->nfields].sbuf);
	w->has_del = has_del;
}

static hm_err move_check(hm_write *w, const hm_record *r, const char *coll, const char *id,
                         const char *to, const hm_rec *dest, bool dest_exists)
{
	if (!strcmp(r->region, to))
		return hm_node_fail(w->n, HM_ERR_INVALID, "%s/%s already lives in %s", coll, id,
		                    to);
	if (!hm_region_contains(w->n->region, r->region) || !hm_region_contains(w->n->region, to))
		return hm_node_fail(w->n, HM_ERR_SCHEMA,
		                    "moving %s/%s from %s to %s takes a node whose region holds "
		                    "both (their township's or the county's); this node's is %s",
		                    coll, id, r->region, to, w->n->region);
	if (dest_exists && hm_rec_live(dest))
		return hm_node_fail(w->n, HM_ERR_EXISTS,
		                    "%s/%s already names a record in %s: a move would merge two "
		                    "records (merge them, or give one another id)",
		                    coll, id, to);
	return HM_OK;
}

static hm_err move_record(hm_write *w, const char *coll, const char *id, const char *from,
                          const char *to)
{
	const hm_collection_def *c;
	hm_record *r = NULL;
	hm_rec *dest = NULL;
	msgpack_zone zone;
	uint8_t *buf = NULL;
	size_t nops = w->nops, nfields = w->nfields;
	bool has_del = w->has_del, dest_exists;
	wop *put, *del;
	hm_err err;

	if ((err = lookup(w, coll, NULL, &c, NULL)) || (err = check_id(w, id)))
		return err;
	if (c->append_only)
		return hm_node_fail(w->n, HM_ERR_SCHEMA,
		                    "'%s' is append-only: its records stay where they were written",
		                    coll);
	if (!hm_region_valid(to) || strlen(to) > HM_REGION_MAX)
		return hm_node_fail(w->n, HM_ERR_INVALID, "'%s' is not a region path", to);
	if (!msgpack_zone_init(&zone, 1024))
		return HM_ERR_NOMEM;
	if (!(dest = calloc(1, sizeof(*dest)))) {
		err = HM_ERR_NOMEM;
		goto out;
	}
	if ((err = hm_node_get_at(w->n, coll, id, from, &r)) ||
	    (err = dest_record(w->n, c, id, to, dest, &zone, &buf, &dest_exists)) ||
	    (err = move_check(w, r, coll, id, to, dest, dest_exists)))
		goto out;
	if ((err = new_op(w, c, id, HM_OP_PUT, &put)) || (err = name_region(w, put, to)))
		goto out;
	for (size_t i = 0; i < r->nfields && !err; i++)
		err = move_field(w, put, dest, &r->fields[i]);
	if (err || (err = new_op(w, c, id, HM_OP_DEL, &del)) ||
	    (err = name_region(w, del, r->region)))
		goto out;
	w->has_del = true;
out:
	if (err)
		write_truncate(w, nops, nfields, has_del); /* nothing of a failed move stays */
	hm_record_free(r);
	free(dest);
	free(buf);
	msgpack_zone_destroy(&zone);
	return err;
}

typedef struct commit_ctx {
	hm_write *w;
	hm_merge_ctx m;
	msgpack_sbuffer body, env, header, sealed, zbody;
	/* One change set per region. With keys, a change set's records all live in exactly its
	 * region, so that sync can route it whole to the nodes that may hold it; without keys, one
	 * change set under the narrowest region holding them all. */
	char regions[HM_REGIONS_PER_WRITE][HM_REGION_MAX + 1];
	size_t nregions;
	hm_changeset_info info;
} commit_ctx;

/* Narrow acc to the segments it shares with r ("" accepts r whole). */
static void common_region(char *acc, const char *r)
{
	size_t i = 0, last_cut = 0;

	if (!acc[0]) {
		snprintf(acc, HM_REGION_MAX + 1, "%s", r);
		return;
	}
	while (acc[i] && acc[i] == r[i]) {
		i++;
		if (acc[i] == '/' || acc[i] == 0)
			last_cut = (r[i] == '/' || r[i] == 0) ? i : last_cut;
	}
	acc[last_cut] = 0;
}

/* The region the write names for op's record (its region field), or NULL. */
static const char *op_named_region(const hm_write *w, const wop *op, char *buf)
{
	for (size_t j = op->first; j < op->first + op->nf; j++)
		if (strcmp(w->fields[j].def->name, op->c->region_field) == 0 &&
		    w->fields[j].v.kind == HM_V_STR) {
			snprintf(buf, HM_REGION_MAX + 1, "%.*s", (int)w->fields[j].v.u.s.n,
			         w->fields[j].v.u.s.p);
			return buf;
		}
	return NULL;
}

/* Whether the write deletes op's record in region from (a move, hm_write_move). */
static bool moved_from(const hm_write *w, const wop *op, const char *from)
{
	for (size_t i = 0; i < w->nops; i++)
		if (w->ops[i].kind == HM_OP_DEL && w->ops[i].region_named && w->ops[i].c == op->c &&
		    !strcmp(w->ops[i].id, op->id) && !strcmp(w->ops[i].region, from))
			return true;
	return false;
}

/* Where op's record lives: the region the write names, else where the record of that id lives
 * now (hm_record_locate), else this node's region for a new record. A write naming another
 * region than the one the record lives in would make a second record, not move it: refused,
 * with the way to move it. */
static hm_err op_place(hm_node *n, MDB_txn *txn, commit_ctx *cc, wop *op)
{
	char named[HM_REGION_MAX + 1], now[HM_REGION_MAX + 1];
	const char *want = op->region_named ? op->region : op_named_region(cc->w, op, named);
	bool found;
	hm_err err = hm_record_locate(n, txn, op->c, op->id, now, &found, &cc->m.sealbuf);

	if (err == HM_ERR_AMBIGUOUS && want)
		err = HM_OK, found = false; /* the write names which */
	if (err)
		return err;
	op->lives_elsewhere[0] = 0;
	if (want && found && strcmp(want, now) != 0 && !moved_from(cc->w, op, now))
		snprintf(op->lives_elsewhere, sizeof(op->lives_elsewhere), "%s", now);
	if (!op->region_named) /* else want is op->region already */
		snprintf(op->region, sizeof(op->region), "%s",
		         want    ? want
		         : found ? now
		                 : n->region);
	return HM_OK;
}

/* Put op in the change set of region r (trust), or widen the one change set (no keys). */
static hm_err assign_region(hm_node *n, commit_ctx *cc, wop *op, const char *r)
{
	size_t i;

	op->region_ix = 0;
	if (!n->trust) {
		common_region(cc->regions[0], r);
		return HM_OK;
	}
	if (!cc->regions[0][0]) {
		snprintf(cc->regions[0], sizeof(cc->regions[0]), "%s", r);
		return HM_OK;
	}
	for (i = 0; i < cc->nregions; i++)
		if (!strcmp(cc->regions[i], r)) {
			op->region_ix = (uint16_t)i;
			return HM_OK;
		}
	if (cc->nregions == HM_REGIONS_PER_WRITE)
		return hm_node_fail(n, HM_ERR_TOO_BIG, "one write touches more than %d regions",
		                    HM_REGIONS_PER_WRITE);
	snprintf(cc->regions[i], sizeof(cc->regions[i]), "%s", r);
	op->region_ix = (uint16_t)i;
	cc->nregions++;
	return HM_OK;
}

/* Check each op against the records as they are, and fill a new record's region field. */
static hm_err check_state(hm_node *n, MDB_txn *txn, commit_ctx *cc)
{
	hm_write *w = cc->w;

	cc->nregions = 1;
	cc->regions[0][0] = 0;
	for (size_t i = 0; i < w->nops; i++) {
		wop *op = &w->ops[i];
		uint8_t key[HM_RECORD_KEY_MAX];
		size_t kn;
		MDB_val v;
		bool live = false;
		hm_err err;

		if ((err = op_place(n, txn, cc, op)))
			return err;
		kn = hm_record_key(key, sizeof(key), op->c->name, strlen(op->c->name), op->id,
		                   strlen(op->id), op->region, strlen(op->region));
		err = hm_seal_get(n, txn, HM_DB_RECORDS, key, kn, &v, &cc->m.sealbuf);
		if (err && err != HM_ERR_NOT_FOUND)
			return err;
		if (!err) {
			msgpack_zone_clear(&cc->m.zone);
			if ((err = hm_rec_decode(v.mv_data, v.mv_size, &cc->m.zone, &cc->m.cur)))
				return err == HM_ERR_NOMEM
				           ? hm_node_fail(n, err, "reading a record: out of memory")
				           : hm_node_fail(n, HM_ERR_CORRUPT,
				                          "stored record %s/%s is corrupt",
				                          op->c->name, op->id);
			live = hm_rec_live(&cc->m.cur);
		}
		if (n->trust && !hm_region_contains(n->region, op->region))
			return hm_node_fail(n, HM_ERR_SCHEMA,
			                    "%s/%s lies in %s, outside this node's region %s",
			                    op->c->name, op->id, op->region, n->region);
		if ((err = assign_region(n, cc, op, op->region)))
			return err;
		if (op->kind == HM_OP_DEL && !live)
			return hm_node_fail(n, HM_ERR_NOT_FOUND, "no record %s/%s to delete",
			                    op->c->name, op->id);
		if (op->kind == HM_OP_DEL)
			continue;
		if (live && op->c->append_only)
			return hm_node_fail(
			    n, HM_ERR_EXISTS,
			    "%s/%s exists and '%s' is append-only: add a new record", op->c->name,
			    op->id, op->c->name);
		op->fill_region = false;
		if (live)
			continue;
		for (size_t f = 0; f < op->c->nfields; f++) {
			const hm_field_def *def = &op->c->fields[f];
			bool set = false;
			for (size_t j = op->first; j < op->first + op->nf; j++)
				set |= w->fields[j].def == def && w->fields[j].v.kind != HM_V_NIL;
			if (def->required && !set && op->lives_elsewhere[0])
				return hm_node_fail(n, HM_ERR_SCHEMA,
				                    "%s/%s lives in %s, not %s: a record does not "
				                    "move by a new %s; "
				                    "a node whose region holds both moves it "
				                    "(`hamlet move %s %s --to "
				                    "%s`)",
				                    op->c->name, op->id, op->lives_elsewhere,
				                    op->region, op->c->region_field, op->c->name,
				                    op->id, op->region);
			if (def->required && !set)
				return hm_node_fail(n, HM_ERR_SCHEMA,
				                    "a new %s needs the field '%s'", op->c->name,
				                    def->name);
			if (!set && strcmp(def->name, op->c->region_field) == 0)
				op->fill_region = true;
		}
	}
	return HM_OK;
}

static bool op_sets_region(const hm_write *w, const wop *op)
{
	for (size_t j = op->first; j < op->first + op->nf; j++)
		if (!strcmp(w->fields[j].def->name, op->c->region_field))
			return true;
	return false;
}

/* The ops of change set ix, packed; returns how many. Every op names its record's region (in a
 * delete too): it is part of the record's identity, and receivers judge its scope from the
 * change set alone. */
static uint32_t pack_body(hm_write *w, uint16_t ix, msgpack_sbuffer *out, bool *nomem)
{
	msgpack_packer pk;
	hm_mp_sink sink;
	uint32_t n = 0;

	for (size_t i = 0; i < w->nops; i++)
		n += w->ops[i].region_ix == ix;
	msgpack_sbuffer_clear(out);
	hm_mp_sink_init(&sink, &pk, out);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < w->nops; i++) {
		const wop *op = &w->ops[i];
		bool add_region;

		if (op->region_ix != ix)
			continue;
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, (uint8_t)op->kind);
		hm_mp_pack_cstr(&pk, op->c->name);
		hm_mp_pack_cstr(&pk, op->id);
		if (op->kind == HM_OP_DEL) {
			msgpack_pack_map(&pk, 1);
			hm_mp_pack_cstr(&pk, op->c->region_field);
			hm_mp_pack_cstr(&pk, op->region);
			continue;
		}
		add_region = !op_sets_region(w, op);
		msgpack_pack_map(&pk, op->nf + add_region);
		for (size_t j = op->first; j < op->first + op->nf; j++) {
			hm_mp_pack_cstr(&pk, w->fields[j].def->name);
			hm_mp_pack_value(&pk, &w->fields[j].v);
		}
		if (add_region) {
			hm_mp_pack_cstr(&pk, op->c->region_field);
			hm_mp_pack_cstr(&pk, op->region);
		}
	}
	*nomem = sink.failed;
	return n;
}

/* Trust mode: the body sealed under the data key of the change set's scope, the header as
 * associated data; the origin's certificate chain rides along in its first change set. */
static hm_err seal_body(hm_node *n, MDB_txn *txn, commit_ctx *cc, hm_header *h, uint8_t *chain,
                        size_t chain_cap)
{
	uint8_t key[HM_DATA_KEY_BYTES];
	size_t len;
	hm_err err;

	if (h->seq == 1 && (err = hm_trust_own_chain_bytes(n, txn, chain, chain_cap, &h->certs.n)))
		return hm_node_fail(n, err, "this node's certificate chain is not in its store");
	h->certs.p = chain;
	hm_trust_key_scope(h->region, h->key_scope);
	h->epoch = 0;
	if ((err = hm_trust_data_key(n, txn, h->key_scope, &h->epoch, key)) &&
	    err != HM_ERR_NOT_FOUND)
		return hm_node_fail(n, err, "reading the data key for %s: %s", h->key_scope,
		                    hm_strerror(err));
	if (err)
		return hm_node_fail(n, HM_ERR_CRYPTO,
		                    "this node holds no data key for %s: it cannot write there",
		                    h->key_scope);
	h->codec |= HM_CODEC_SEALED;
	if ((err = hm_header_encode(h, &cc->header))) {
		hm_wipe(key, sizeof(key));
		return hm_node_fail(n, err, "packing the change set: out of memory");
	}
	msgpack_sbuffer_clear(&cc->sealed);
	if (cc->sealed.alloc < cc->body.size + HM_AEAD_OVERHEAD) {
		char *p = realloc(cc->sealed.data, cc->body.size + HM_AEAD_OVERHEAD);
		if (!p) {
			hm_wipe(key, sizeof(key));
			return HM_ERR_NOMEM;
		}
		cc->sealed.data = p, cc->sealed.alloc = cc->body.size + HM_AEAD_OVERHEAD;
	}
	err = hm_aead_seal((uint8_t *)cc->sealed.data, cc->sealed.alloc, &len, key, cc->body.data,
	                   cc->body.size, cc->header.data, cc->header.size);
	hm_wipe(key, sizeof(key));
	cc->sealed.size = len;
	return err;
}

/* A stamp is never earlier than this node's certificate's not_before: receivers (and this node)
 * check the certificate at the change set's clock, so a wall clock set back before enrollment
 * would otherwise stop every write. Raising the stamp there is the receive rule applied to the
 * certificate, which the node holds like any change set it has seen. */
static hm_err stamp_after_cert(hm_node *n, MDB_txn *txn, hm_hlc *hlc)
{
	hm_cert own;
	hm_err err;

	if (!n->trust)
		return HM_OK;
	if ((err = hm_trust_cert_get(n, txn, &n->self, &own)))
		return err == HM_ERR_NOT_FOUND ? HM_OK : err; /* not enrolled: refused elsewhere */
	if (HM_HLC_MS(*hlc) < own.not_before * 1000)
		*hlc = (own.not_before * 1000) << 16;
	return HM_OK;
}

/* The body of the change set for region ix in cc->body, compressed when that is smaller;
 * h->nops and h->codec set. */
static hm_err body_make(hm_node *n, commit_ctx *cc, uint16_t ix, hm_header *h)
{
	bool compressed, nomem;
	hm_err err;

	h->nops = pack_body(cc->w, ix, &cc->body, &nomem);
	if (nomem)
		return hm_node_fail(n, HM_ERR_NOMEM, "packing the change set: out of memory");
	if ((err = hm_body_compress(cc->body.data, cc->body.size, &cc->zbody, &compressed)))
		return err;
	if (compressed) { /* the compressed body takes the plain one's place */
		msgpack_sbuffer t = cc->body;
		cc->body = cc->zbody, cc->zbody = t;
		h->codec |= HM_CODEC_ZSTD;
	}
	return HM_OK;
}

/* Seal, sign and apply change set ix of the write, in its region's stream. */
static hm_err commit_one(hm_node *n, MDB_txn *txn, commit_ctx *cc, uint16_t ix)
{
	hm_header h = {0};
	hm_vv_entry head;
	uint64_t fork_seq;
	hm_hlc last;
	hm_apply_stats st = {0};
	hm_apply_outcome out;
	uint8_t chain[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	const msgpack_sbuffer *body = &cc->body;
	const char *region = cc->regions[ix][0] ? cc->regions[ix] : n->region;
	hm_err err;

	/* Without keys there is one change set, under the node's own origin, whatever its region.
	 */
	if (n->trust)
		hm_stream_id(&n->self, n->region, region, &h.origin);
	else
		h.origin = n->self;
	if ((err = hm_head_get(n, txn, &h.origin, &head, &fork_seq)) ||
	    (err = hm_hlc_load(n, txn, &last)))
		return err;
	{
		uint64_t known;
		if ((err = hm_own_log_behind(n, txn, &h.origin, head.seq, &known)))
			return err;
		if (known)
			return hm_node_fail(
			    n, HM_ERR_FORK,
			    "this node is behind its own log for %s: a peer holds its change sets "
			    "up to seq %llu, it only to %llu (restored from a backup?). Writing "
			    "now "
			    "would fork it: sync with (or import a bundle from) the hub first "
			    "(docs/running.md)",
			    region, (unsigned long long)known, (unsigned long long)head.seq);
	}
	if (fork_seq)
		return hm_node_fail(
		    n, HM_ERR_FORK,
		    "this node's log for %s forked at seq %llu (two different change "
		    "sets were signed with its key): it cannot write there until it "
		    "is re-enrolled (docs/running.md)",
		    region, (unsigned long long)fork_seq);
	h.seq = head.seq + 1;
	h.prev = head.hash;
	h.hlc = hm_hlc_tick(last, hm_now_ms(n));
	if ((err = stamp_after_cert(n, txn, &h.hlc)))
		return err;
	snprintf(h.region, sizeof(h.region), "%s", region);
	if ((err = body_make(n, cc, ix, &h)))
		return err;
	if (n->trust) {
		if ((err = seal_body(n, txn, cc, &h, chain, sizeof(chain))))
			return err;
		body = &cc->sealed;
	}
	if ((err = hm_envelope_encode(&h, body->data, body->size, n->trust ? &n->ident : NULL,
	                              &cc->env)))
		return hm_node_fail(n, err, "sealing the change set: %s", hm_strerror(err));
	if (cc->env.size > HM_ENVELOPE_MAX)
		return hm_node_fail(n, HM_ERR_TOO_BIG,
		                    "the change set is larger than 16 MiB; split it");
	if ((err = hm_hlc_store(n, txn, h.hlc)) ||
	    (err = hm_apply_one(n, txn, &cc->m, (const uint8_t *)cc->env.data, cc->env.size, true,
	                        &st, &out)))
		return err;
	if (out == HM_APPLY_REFUSED)
		return HM_ERR_SCHEMA; /* apply said why, in the node's message */
	if (out != HM_APPLY_NEW)
		return hm_node_fail(n, HM_ERR_CORRUPT, "own change set %llu was not applied (%d)",
		                    (unsigned long long)h.seq, (int)out);
	cc->info.origin = h.origin;
	cc->info.seq = h.seq;
	hm_hash_buf(cc->env.data, cc->env.size, &cc->info.id);
	cc->info.hlc = h.hlc;
	cc->info.nops += h.nops;
	cc->info.bytes += cc->env.size;
	return HM_OK;
}

static hm_err commit_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	commit_ctx *cc = arg;
	hm_err err;

	if (n->trust && !n->enrolled)
		return hm_node_fail(
		    n, HM_ERR_CRYPTO,
		    "this node is not enrolled yet: run `hamlet enroll request`, have "
		    "the county sign it, then `hamlet enroll accept`");
	memset(&cc->info, 0, sizeof(cc->info));
	if ((err = check_state(n, txn, cc)))
		return err;
	for (size_t ix = 0; ix < cc->nregions; ix++)
		if ((err = commit_one(n, txn, cc, (uint16_t)ix)))
			return err;
	return HM_OK;
}

/* The builders' errors, with out of memory said: some allocations fail where no reason is set,
 * and the node's last reason would stand for them. */
static hm_err said(hm_node *n, hm_err err)
{
	if (err == HM_ERR_NOMEM && !strstr(hm_node_errmsg(n), _("out of memory")))
		return hm_node_fail(n, err, "writing: out of memory");
	return err;
}

hm_err hm_write_del(hm_write *w, const char *coll, const char *id)
{
	return said(w->n, del_record(w, coll, id));
}

hm_err hm_write_set(hm_write *w, const char *coll, const char *id, const char *field,
                    const hm_value *v)
{
	return said(w->n, set_field(w, coll, id, field, v));
}

hm_err hm_write_add(hm_write *w, const char *coll, const char *id, const char *field, int64_t delta)
{
	return said(w->n, add_delta(w, coll, id, field, delta));
}

hm_err hm_write_del_at(hm_write *w, const char *coll, const char *id, const char *region)
{
	return said(w->n, del_record_at(w, coll, id, region));
}

hm_err hm_write_move(hm_write *w, const char *coll, const char *id, const char *from,
                     const char *to)
{
	return said(w->n, move_record(w, coll, id, from, to));
}

hm_err hm_write_commit(hm_write *w, hm_changeset_info *info)
{
	commit_ctx cc = {w};
	hm_err err;

	if (w->nops == 0) {
		err = hm_node_fail(w->n, HM_ERR_INVALID, "nothing to write");
		goto out;
	}
	if ((err = hm_merge_ctx_init(&cc.m)))
		goto out;
	msgpack_sbuffer_init(&cc.body);
	msgpack_sbuffer_init(&cc.env);
	msgpack_sbuffer_init(&cc.header);
	msgpack_sbuffer_init(&cc.sealed);
	msgpack_sbuffer_init(&cc.zbody);
	err = hm_store_write(w->n, commit_txn, &cc);
	if (!err && info)
		*info = cc.info;
	hm_wipe(cc.body.data, cc.body.alloc); /* plaintext operations */
	msgpack_sbuffer_destroy(&cc.body);
	msgpack_sbuffer_destroy(&cc.env);
	msgpack_sbuffer_destroy(&cc.header);
	msgpack_sbuffer_destroy(&cc.sealed);
	hm_wipe(cc.zbody.data, cc.zbody.alloc);
	msgpack_sbuffer_destroy(&cc.zbody);
	hm_merge_ctx_release(&cc.m);
out:
	err = said(w->n, err);
	hm_write_abort(w); /* consumed */
	return err;
}
