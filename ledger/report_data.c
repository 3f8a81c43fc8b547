/*
 * report_data.c - the records a report reads, held in memory: one arena of strings per
 * collection, persons mapped through their merges, who is under monitoring on D, and the
 * follow-ups before the window folded into one tally per person (each person's follow-ups:
 * report_followups.c).
 */
#include "ledger_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERGE_HOPS 32 /* a merge chain longer than this is a loop */

/* ---- records in memory ---- */

/* The text of field i of r ("" when absent). */
const char *rp_fs(const rp_recs *rs, const rp_rec *r, int i)
{
	return rs->arena + r->f[i];
}

const char *rp_rid(const rp_recs *rs, const rp_rec *r)
{
	return rs->arena + r->id;
}

bool rp_has(const rp_rec *r, int i)
{
	return r->f[i] != 0;
}

/* FNV-1a of s[0 .. n). */
static size_t text_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

size_t rp_hash(const char *s)
{
	return text_hash(s, strlen(s));
}

static size_t arena_put(rp_recs *rs, const char *s, size_t n)
{
	size_t off = rs->alen;

	if (n == 0)
		return 0;
	if (n >= UINT32_MAX - rs->alen) { /* offsets are 32 bits (rp_rec) */
		rs->nomem = true;
		return 0;
	}
	if (rs->alen + n + 1 > rs->acap) {
		size_t cap = rs->acap ? rs->acap : 4096;
		char *a;
		while (cap < rs->alen + n + 1)
			cap *= 2;
		if (!(a = realloc(rs->arena, cap))) {
			rs->nomem = true;
			return 0;
		}
		rs->moves += a != rs->arena;
		rs->arena = a, rs->acap = cap;
	}
	memcpy(rs->arena + off, s, n);
	rs->arena[off + n] = '\0';
	rs->alen += n + 1;
	return off;
}

static size_t put_value(rp_recs *rs, const hm_value *v, double *num)
{
	char buf[40];

	switch (v->kind) {
	case HM_V_STR:
		return arena_put(rs, v->u.s.p, strnlen(v->u.s.p, v->u.s.n));
	case HM_V_INT:
		*num = (double)v->u.i;
		snprintf(buf, sizeof(buf), "%lld", (long long)v->u.i);
		break;
	case HM_V_FLOAT:
		*num = v->u.f;
		snprintf(buf, sizeof(buf), "%.15g", v->u.f);
		break;
	case HM_V_BOOL:
		snprintf(buf, sizeof(buf), "%s", v->u.b ? "true" : "false");
		break;
	default:
		return 0;
	}
	return arena_put(rs, buf, strlen(buf));
}

/* The offset of region text s (n bytes, no NUL) in the arena, put there the first time. */
static size_t region_put(rp_recs *rs, const char *s, size_t n)
{
	size_t h, off;

	if (n == 0)
		return 0;
	if (2 * (rs->nregions + 1) > rs->rcap) { /* a larger table, made again */
		size_t cap = rs->rcap ? 2 * rs->rcap : 64;
		size_t *t = calloc(cap, sizeof(*t));
		if (!t) {
			rs->nomem = true;
			return 0;
		}
		for (size_t i = 0; i < rs->rcap; i++) {
			const char *r;
			if (!rs->regions[i])
				continue;
			r = rs->arena + rs->regions[i];
			for (h = rp_hash(r); t[h & (cap - 1)]; h++)
				;
			t[h & (cap - 1)] = rs->regions[i];
		}
		free(rs->regions);
		rs->regions = t, rs->rcap = cap;
	}
	for (h = text_hash(s, n); rs->regions[h & (rs->rcap - 1)]; h++) {
		const char *r = rs->arena + rs->regions[h & (rs->rcap - 1)];
		if (!strncmp(r, s, n) && r[n] == '\0')
			return rs->regions[h & (rs->rcap - 1)];
	}
	if ((off = arena_put(rs, s, n)))
		rs->regions[h & (rs->rcap - 1)] = off, rs->nregions++;
	return off;
}

hm_err rp_recs_init(rp_recs *rs, const char *coll, const char *const *fields)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	size_t nf = 0;

	memset(rs, 0, sizeof(*rs));
	while (fields[nf])
		nf++;
	if (nf > RP_FIELDS_MAX) /* a list of report_data.c too long for rp_rec: a mistake of ours */
		return HM_ERR_INVALID;
	rs->coll = coll, rs->fields = fields;
	rs->region_field = cd ? cd->region_field : NULL;
	if (!(rs->arena = malloc(4096)))
		return HM_ERR_NOMEM;
	rs->arena[0] = '\0'; /* offset 0: an absent field reads as "" */
	rs->alen = 1, rs->acap = 4096;
	return HM_OK;
}

void rp_recs_append(rp_recs *rs, const hm_record *r)
{
	const hm_field *reg = rs->region_field ? hm_record_field(r, rs->region_field) : NULL;
	rp_rec *e;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		rp_rec *v = realloc(rs->v, cap * sizeof(*v));
		if (!v) {
			rs->nomem = true;
			return;
		}
		rs->v = v, rs->cap = cap;
	}
	e = &rs->v[rs->n];
	memset(e, 0, sizeof(*e));
	e->id = (uint32_t)arena_put(rs, r->id, strlen(r->id));
	for (int i = 0; rs->fields[i] && i < RP_FIELDS_MAX; i++) {
		const hm_field *f = hm_record_field(r, rs->fields[i]);
		if (f)
			e->f[i] = (uint32_t)put_value(rs, &f->value, &e->x[i]);
		if (f && f->value.kind == HM_V_STR &&
		    strnlen(f->value.u.s.p, f->value.u.s.n) < f->value.u.s.n)
			e->cut |= 1u << i; /* held only up to the NUL in it */
	}
	if (reg && reg->value.kind == HM_V_STR)
		e->region_off = (uint32_t)region_put(rs, reg->value.u.s.p,
		                                     strnlen(reg->value.u.s.p, reg->value.u.s.n));
	if (!rs->nomem)
		rs->n++;
}

static int load_one(void *ctx, const hm_record *r)
{
	rp_recs *rs = ctx;

	if (rs->keep && !rs->keep(rs->keep_ctx, r))
		return rs->nomem ? 1 : 0;
	rp_recs_append(rs, r);
	return rs->nomem ? 1 : 0;
}

void rp_recs_regions(rp_recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rs->v[i].region = rs->arena + rs->v[i].region_off;
}

void rp_recs_set_in(rp_recs *rs, const char *scope)
{
	struct {
		size_t off;
		bool in;
	} seen[64] = {{0, false}}; /* by region: records of one region share its offset */

	for (size_t i = 0; i < rs->n; i++) {
		size_t off = rs->v[i].region_off, s = (off >> 3) & 63;
		if (!off) {
			rs->v[i].in = false;
			continue;
		}
		if (seen[s].off != off)
			seen[s].off = off, seen[s].in = hm_region_contains(scope, rs->v[i].region);
		rs->v[i].in = seen[s].in;
	}
}

/* The arena has "" at offset 0, so an absent field reads as the empty string. */
hm_err rp_recs_load(hm_node *n, rp_recs *rs, const char *coll, const char *const *fields,
                    const char *scope, bool (*keep)(void *ctx, const hm_record *r), void *keep_ctx)
{
	hm_err err = rp_recs_init(rs, coll, fields);

	if (err)
		return err;
	rs->scope = scope;
	rs->keep = keep, rs->keep_ctx = keep_ctx;
	err = hm_node_list(n, coll, load_one, rs);
	if (!err && rs->nomem)
		err = HM_ERR_NOMEM;
	/* The arena no longer moves: pointers into it are stable from here on. */
	rp_recs_regions(rs);
	if (scope)
		rp_recs_set_in(rs, scope);
	return err;
}

void rp_recs_release(rp_recs *rs)
{
	if (!rs->borrowed)
		free(rs->v), free(rs->hix);
	if (!rs->borrowed && !rs->borrowed_arena)
		free(rs->arena), free(rs->regions);
	memset(rs, 0, sizeof(*rs));
}

/* ---- the fields each report reads (their indexes: ledger_int.h) ---- */

static const char *const person_f[] = {"name",     "village",   "category",
                                       "compound", "household", NULL};
static const char *const episode_f[] = {"person",         "kind",        "reason", "start", "end",
                                        "checks_per_day", "planned_end", "worker", NULL};
static const char *const followup_f[] = {"person", "time", "temperature", "method",
                                         "action", "slot", NULL};
static const char *const return_f[] = {"person", "from_area", "registered", NULL};
static const char *const exposure_f[] = {"source", "contact", "degree", NULL};
static const char *const tally_f[] = {"date", "fever", NULL};
static const char *const txn_f[] = {"item", "store",    "movement", "quantity",
                                    "date", "to_store", "shipment", NULL};
static const char *const shipment_f[] = {"from", "to", "lines", "status", NULL};
static const char *const tip_f[] = {"state", "reward", "paid", NULL};
static const char *const penalty_f[] = {"amount", "state", "date", NULL};
static const char *const notice_f[] = {"compound", "audience", "date", NULL};
static const char *const merge_f[] = {"keep", "drop", "state", NULL};
void rp_nomem(rp_ctx *x)
{
	x->rep->nomem = true;
}

int rp_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- an index of strings ---- */

/* Index places 0..n-1 of key(ctx, i), the first of equal keys; without memory, none (finds then
 * say absent: callers index only what they can also search without it). */
bool rp_index_build(rp_index *ix, size_t n, const char *(*key)(const void *, size_t),
                    const void *ctx)
{
	size_t cap = 64;

	ix->h = NULL, ix->cap = 0;
	while (cap < 2 * n)
		cap *= 2;
	if (n >= UINT32_MAX || !(ix->h = calloc(cap, sizeof(*ix->h))))
		return false;
	ix->cap = cap;
	for (size_t i = 0; i < n; i++) {
		const char *k = key(ctx, i);
		size_t s = rp_hash(k);
		for (; ix->h[s & (cap - 1)]; s++)
			if (!strcmp(key(ctx, ix->h[s & (cap - 1)] - 1), k))
				break;
		if (!ix->h[s & (cap - 1)])
			ix->h[s & (cap - 1)] = (uint32_t)i + 1;
	}
	return true;
}

/* The first place of k, or (size_t)-1. */
size_t rp_index_find(const rp_index *ix, const char *k, const char *(*key)(const void *, size_t),
                     const void *ctx)
{
	for (size_t s = rp_hash(k);; s++) {
		uint32_t at = ix->h[s & (ix->cap - 1)];
		if (!at)
			return (size_t)-1;
		if (!strcmp(key(ctx, at - 1), k))
			return at - 1;
	}
}

static const char *strs_key(const void *ctx, size_t i)
{
	return ((const rp_strs *)ctx)->v[i];
}

void rp_strs_add(rp_ctx *x, rp_strs *s, const char *v)
{
	free(s->ix.h);
	s->ix.h = NULL, s->ix.cap = 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		const char **nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			rp_nomem(x);
			return;
		}
		s->v = nv, s->cap = cap;
	}
	s->v[s->n++] = v;
}

void rp_strs_sort_unique(rp_strs *s)
{
	size_t o = 0, sorted = 1;

	if (!s->n)
		return;
	while (sorted < s->n && strcmp(s->v[sorted - 1], s->v[sorted]) <= 0)
		sorted++;
	if (sorted < s->n) /* (persons are added in the order of their ids: most often sorted) */
		qsort(s->v, s->n, sizeof(*s->v), rp_cmp_str);
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->v[i], s->v[o]) != 0)
			s->v[++o] = s->v[i];
	s->n = o + 1;
	rp_index_build(&s->ix, s->n, strs_key, s); /* without memory, none: bisected */
}

bool rp_strs_has(const rp_strs *s, const char *v)
{
	return rp_strs_index(s, v) != (size_t)-1;
}

size_t rp_strs_index(const rp_strs *s, const char *v)
{
	const char **p;

	if (s->ix.h)
		return rp_index_find(&s->ix, v, strs_key, s);
	p = s->n ? bsearch(&v, s->v, s->n, sizeof(*s->v), rp_cmp_str) : NULL;
	return p ? (size_t)(p - s->v) : (size_t)-1;
}

void rp_strs_release(rp_strs *s)
{
	free(s->ix.h);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- dates ---- */

/* The date of a followup's time (its first 10 characters), "" when it has none. */
void rp_time_date(const char *t, char out[11])
{
	size_t n = strnlen(t, 10);
	memcpy(out, t, n);
	out[n == 10 ? 10 : 0] = '\0';
}

bool rp_in_window(const rp_ctx *x, const char *date)
{
	return *date && strcmp(date, x->from) > 0 && strcmp(date, x->date) <= 0;
}

/* ---- persons: merges, names, monitoring ---- */

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const char *const *)a)[0], ((const char *const *)b)[0]);
}

/* Merge records that hold (hm_merge_holds, the persons' own rule): drop -> keep, sorted by
 * drop. */
static void merges_build(rp_ctx *x)
{
	const char **pairs = calloc(x->merge.n ? x->merge.n * 2 : 1, sizeof(*pairs));
	size_t k = 0;

	if (!pairs) {
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < x->merge.n; i++) {
		const rp_rec *r = &x->merge.v[i];
		const char *state = rp_fs(&x->merge, r, RP_M_STATE);
		if (!hm_merge_holds(state))
			continue; /* undone */
		if (!rp_has(r, RP_M_DROP) || !rp_has(r, RP_M_KEEP))
			continue;
		pairs[2 * k] = rp_fs(&x->merge, r, RP_M_DROP);
		pairs[2 * k + 1] = rp_fs(&x->merge, r, RP_M_KEEP);
		k++;
	}
	qsort(pairs, k, 2 * sizeof(*pairs), cmp_pair);
	x->merge_drop = pairs, x->nmerge = k;
}

/* The person a reference means: followed through merges (drop -> keep). */
const char *rp_pid(const rp_ctx *x, const char *id)
{
	const char *least = id;

	for (int hop = 0; hop < MERGE_HOPS && x->nmerge; hop++) {
		const char *key[2] = {id, NULL};
		const char **p = bsearch(key, x->merge_drop, x->nmerge, 2 * sizeof(*p), cmp_pair);
		if (!p || strcmp(p[1], id) == 0)
			return id;
		id = p[1];
		least = strcmp(id, least) < 0 ? id : least;
	}
	/* A loop (two stations merged each into the other): every member is its smallest id, so
	 * the person still counts once. */
	return x->nmerge ? least : id;
}

void rp_recs_index(rp_recs *rs)
{
	size_t cap = 1024;
	uint32_t *h;

	free(rs->hix);
	rs->hix = NULL, rs->hcap = 0;
	while (cap < 2 * rs->n)
		cap *= 2;
	if (rs->n >= RP_HIX_TWICE || !(h = calloc(cap, sizeof(*h))))
		return;
	for (size_t i = 0, s = 0; i < rs->n; i++) {
		const char *id = rp_rid(rs, &rs->v[i]);
		if (i && !strcmp(id, rp_rid(rs, &rs->v[i - 1]))) { /* v is in id order */
			h[s & (cap - 1)] |= RP_HIX_TWICE;
			continue;
		}
		for (s = rp_hash(id); h[s & (cap - 1)]; s++)
			;
		h[s & (cap - 1)] = (uint32_t)i + 1;
	}
	rs->hix = h, rs->hcap = cap;
}

/* The person of id by the index: its place, or n when absent; (size_t)-1 when the id is held
 * twice (two regions), which only bisection answers as it always has. */
static size_t person_hashed(const rp_recs *rs, const char *id)
{
	for (size_t s = rp_hash(id);; s++) {
		uint32_t at = rs->hix[s & (rs->hcap - 1)];
		if (!at)
			return rs->n;
		if (!strcmp(rp_rid(rs, &rs->v[(at & ~RP_HIX_TWICE) - 1]), id))
			return at & RP_HIX_TWICE ? (size_t)-1 : at - 1;
	}
}

const rp_rec *rp_person_find(const rp_ctx *x, const char *id)
{
	size_t lo = 0, hi = x->person.n;

	if (x->person.hix) {
		size_t at = person_hashed(&x->person, id);
		if (at != (size_t)-1)
			return at < x->person.n ? &x->person.v[at] : NULL;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(rp_rid(&x->person, &x->person.v[mid]), id);
		if (c == 0)
			return &x->person.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool rp_person_row_wanted(rp_ctx *x, hm_report_table *t)
{
	if (hm_report_row_wanted(x->rep, t))
		return true;
	x->rep->persons_listed++; /* listed all the same: the access log counts every one */
	return false;
}

/* The name of person id as the report may show it: masked unless --show-pii. */
const char *rp_person_name(rp_ctx *x, const char *id, char *buf, size_t cap)
{
	const rp_rec *p = rp_person_find(x, id);
	const char *name = p ? rp_fs(&x->person, p, RP_P_NAME) : "";

	x->rep->persons_listed++;
	if (x->rep->show_pii)
		return name;
	hm_ledger_mask(name, strlen(name), buf, cap);
	return buf;
}

const char *rp_person_village(const rp_ctx *x, const char *id)
{
	const rp_rec *p = rp_person_find(x, id);
	return p && rp_has(p, RP_P_VILLAGE) ? rp_fs(&x->person, p, RP_P_VILLAGE) : NULL;
}

/* Key persons (case or close) and cases: any record of the person says so. */
static void categories_build(rp_ctx *x)
{
	for (size_t i = 0; i < x->person.n; i++) {
		const rp_rec *r = &x->person.v[i];
		const char *cat = rp_fs(&x->person, r, RP_P_CATEGORY);
		if (!strcmp(cat, "case") || !strcmp(cat, "close"))
			rp_strs_add(x, &x->keys, rp_pid(x, rp_rid(&x->person, r)));
		if (!strcmp(cat, "case"))
			rp_strs_add(x, &x->cases, rp_pid(x, rp_rid(&x->person, r)));
	}
	rp_strs_sort_unique(&x->keys);
	rp_strs_sort_unique(&x->cases);
}

static bool episode_active(const rp_ctx *x, const rp_rec *e)
{
	const char *start = rp_fs(&x->episode, e, RP_E_START),
	           *end = rp_fs(&x->episode, e, RP_E_END);
	return *start && strcmp(start, x->date) <= 0 && (!*end || strcmp(end, x->date) > 0);
}

static int cmp_monitored(const void *a, const void *b)
{
	const rp_monitored *p = a, *q = b;
	int c = strcmp(p->pid, q->pid);
	/* Earliest start first, then id (records are in id order): the one a person counts
	 * under. */
	if (!c)
		c = strcmp(p->start, q->start);
	return c ? c : (p->ep < q->ep ? -1 : p->ep > q->ep);
}

/* Persons under monitoring on D, once each, under their active episode that started first. */
static void monitored_build(rp_ctx *x)
{
	size_t k = 0, o = 0;

	if (!(x->mon = calloc(x->episode.n ? x->episode.n : 1, sizeof(*x->mon)))) {
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < x->episode.n; i++) {
		const rp_rec *e = &x->episode.v[i];
		if (!episode_active(x, e) || !rp_has(e, RP_E_PERSON))
			continue;
		x->mon[k].pid = rp_pid(x, rp_fs(&x->episode, e, RP_E_PERSON));
		x->mon[k].start = rp_fs(&x->episode, e, RP_E_START);
		x->mon[k].ep = e;
		k++;
	}
	qsort(x->mon, k, sizeof(*x->mon), cmp_monitored);
	for (size_t i = 0; i < k; i++)
		if (!o || strcmp(x->mon[o - 1].pid, x->mon[i].pid) != 0)
			x->mon[o++] = x->mon[i];
	x->nmon = o;
}

const rp_monitored *rp_monitored_find(const rp_ctx *x, const char *p)
{
	size_t lo = 0, hi = x->nmon;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(x->mon[mid].pid, p);
		if (c == 0)
			return &x->mon[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct rp_fold *rp_fold_slot(rp_folds *fs, const char *person)
{
	if (2 * (fs->n + 1) > fs->cap) {
		size_t cap = fs->cap ? 2 * fs->cap : 1024;
		struct rp_fold *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; i < fs->cap; i++) {
			size_t h = fs->v[i].hash;
			if (!fs->v[i].person)
				continue;
			while (v[h & (cap - 1)].person)
				h++;
			v[h & (cap - 1)] = fs->v[i];
		}
		free(fs->v);
		fs->v = v, fs->cap = cap;
	}
	for (size_t hash = rp_hash(person), h = hash;; h++) {
		struct rp_fold *f = &fs->v[h & (fs->cap - 1)];
		if (!f->person) {
			if (!(f->person = strdup(person)))
				return NULL;
			f->hash = hash;
			fs->n++;
			return f;
		}
		if (f->hash == hash && !strcmp(f->person, person))
			return f;
	}
}

void rp_folds_release(rp_folds *fs)
{
	for (size_t i = 0; i < fs->cap; i++)
		free(fs->v[i].person);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* Which follow-ups a report holds: those of the window (and of D). One after D counts for
 * nothing; one before the window only for its person's last date and whether a temperature
 * was ever taken, so it is folded into a tally and not held. */
static bool keep_followup(void *ctx, const hm_record *r)
{
	rp_ctx *x = ctx;
	char t[32], d[11], person[HM_ID_MAX + 1];
	struct rp_fold *f;

	rp_time_date(hm_rec_text(r, "time", t, sizeof(t)) ? t : "", d);
	if (!*d || strcmp(d, x->date) > 0)
		return false;
	if (strcmp(d, x->from) > 0 || !strcmp(d, x->date))
		return true;
	if (!hm_rec_id(r, "person", person))
		return false;
	if (!(f = rp_fold_slot(&x->fold, person))) {
		x->followup.nomem = true;
		return false;
	}
	if (strcmp(d, f->last) > 0)
		memcpy(f->last, d, sizeof(f->last));
	{
		const hm_field *temp = hm_record_field(r, "temperature");
		f->temp |= temp && temp->value.kind != HM_V_NIL; /* as has(RP_F_TEMP) when held */
	}
	return false;
}

/* Follow-ups held from the earliest start of an episode active on D (or from the day before D),
 * when x->window_from_episodes: what Today needs of them. */
void rp_window_from_episodes(rp_ctx *x)
{
	const char *least = NULL;
	char yesterday[11];

	for (size_t i = 0; i < x->episode.n; i++) {
		const rp_rec *e = &x->episode.v[i];
		const char *s = rp_fs(&x->episode, e, RP_E_START);
		if (episode_active(x, e) && (!least || strcmp(s, least) < 0))
			least = s;
	}
	if (!hm_date_add(x->date, -1, yesterday))
		return;
	if (!least || strcmp(yesterday, least) < 0)
		least = yesterday;
	if (!hm_date_add(least, -1, x->from))
		hm_date_add(yesterday, -1, x->from);
}

const rp_coll_def rp_colls[] = {
    {RP_NEED_PERSON, "person", person_f, offsetof(rp_ctx, person)},
    {RP_NEED_EPISODE, "episode", episode_f, offsetof(rp_ctx, episode)},
    {RP_NEED_FOLLOWUP, "followup", followup_f, offsetof(rp_ctx, followup)},
    {RP_NEED_RETURN, "return", return_f, offsetof(rp_ctx, ret)},
    {RP_NEED_EXPOSURE, "exposure", exposure_f, offsetof(rp_ctx, exposure)},
    {RP_NEED_TALLY, "checkpoint_tally", tally_f, offsetof(rp_ctx, tally)},
    {RP_NEED_TXN, "stock_txn", txn_f, offsetof(rp_ctx, txn)},
    {RP_NEED_SHIPMENT, "shipment", shipment_f, offsetof(rp_ctx, shipment)},
    {RP_NEED_TIP, "tip", tip_f, offsetof(rp_ctx, tip)},
    {RP_NEED_PENALTY, "penalty", penalty_f, offsetof(rp_ctx, penalty)},
    {RP_NEED_NOTICE, "notice", notice_f, offsetof(rp_ctx, notice)},
    {0, "merge", merge_f, offsetof(rp_ctx, merge)},
};
const size_t rp_ncolls = sizeof(rp_colls) / sizeof(rp_colls[0]);

/* Every collection of needs from the store; follow-ups through keep_followup. */
static hm_err load_plain(rp_ctx *x, unsigned needs)
{
	hm_err err;

	/* Merges first: every person reference goes through them. */
	if ((err = rp_recs_load(x->n, &x->merge, "merge", merge_f, x->region, NULL, NULL)))
		return err;
	for (size_t i = 0; i < rp_ncolls; i++) {
		rp_recs *rs = (rp_recs *)((char *)x + rp_colls[i].off);
		if (!(needs & rp_colls[i].need))
			continue;
		if (rp_colls[i].need == RP_NEED_FOLLOWUP && x->window_from_episodes)
			rp_window_from_episodes(x); /* the episodes are read by now */
		if ((err = rp_recs_load(x->n, rs, rp_colls[i].coll, rp_colls[i].fields, x->region,
		                        rp_colls[i].need == RP_NEED_FOLLOWUP ? keep_followup : NULL,
		                        x)))
			return err;
	}
	return HM_OK;
}

hm_err rp_load(rp_ctx *x, unsigned needs)
{
	hm_report_keep_stats ks = {0};
	hm_err err;

	if (x->l->keep)
		hm_report_keep_stats_get(x->l->keep, &ks);
	err = x->l->keep && !ks.off ? rp_keep_load(x, needs) : HM_ERR_FULL;
	if (err == HM_ERR_FULL) { /* no keep, or one past its bytes: from the store */
		for (size_t i = 0; i < rp_ncolls; i++)
			rp_recs_release((rp_recs *)((char *)x + rp_colls[i].off));
		if (!x->fold_borrowed)
			rp_folds_release(&x->fold);
		memset(&x->fold, 0, sizeof(x->fold));
		x->fold_borrowed = false;
		free(x->fu_pnum);
		x->fu_pnum = NULL, x->npnum = 0;
		err = load_plain(x, needs);
	}
	if (err)
		return err;
	if (!x->person.hix && !x->person.borrowed && x->person.n > 1024) /* else the keep's */
		rp_recs_index(&x->person);
	merges_build(x);
	categories_build(x);
	monitored_build(x);
	rp_followups_index(x);
	rp_before_build(x);
	return x->rep->nomem ? HM_ERR_NOMEM : HM_OK;
}

bool rp_any_in(const rp_ctx *x)
{
	const rp_recs *all[] = {&x->person,   &x->episode, &x->followup, &x->ret,
	                        &x->exposure, &x->tally,   &x->txn,      &x->shipment,
	                        &x->tip,      &x->penalty, &x->notice,   &x->merge};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (size_t j = 0; j < all[i]->n; j++)
			if (all[i]->v[j].in)
				return true;
	return false;
}

void rp_release(rp_ctx *x)
{
	rp_recs *all[] = {&x->person,   &x->episode, &x->followup, &x->ret,
	                  &x->exposure, &x->tally,   &x->txn,      &x->shipment,
	                  &x->tip,      &x->penalty, &x->notice,   &x->merge};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		rp_recs_release(all[i]);
	free(x->merge_drop);
	free(x->mon);
	free(x->fu);
	free(x->fu_pnum);
	free(x->fu_ix.h);
	free(x->before_ix.h);
	if (!x->fold_borrowed)
		rp_folds_release(&x->fold);
	free(x->before);
	rp_strs_release(&x->keys);
	rp_strs_release(&x->cases);
}
