/*
 * report_data.c - the records a report reads, held in memory: one arena of strings per
 * collection, persons mapped through their merges, who is under monitoring on D, and each
 * person's follow-ups (those before the window folded into one tally).
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

size_t rp_hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
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

static size_t text_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
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
			for (h = text_hash(r, strlen(r)); t[h & (cap - 1)]; h++)
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
static bool index_build(rp_index *ix, size_t n, const char *(*key)(const void *, size_t),
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
static size_t index_find(const rp_index *ix, const char *k,
                         const char *(*key)(const void *, size_t), const void *ctx)
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
	index_build(&s->ix, s->n, strs_key, s); /* without memory, none: bisected */
}

bool rp_strs_has(const rp_strs *s, const char *v)
{
	return rp_strs_index(s, v) != (size_t)-1;
}

size_t rp_strs_index(const rp_strs *s, const char *v)
{
	const char **p;

	if (s->ix.h)
		return index_find(&s->ix, v, strs_key, s);
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

uint64_t rp_time_key(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd";
	uint64_t k = 0;

	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] != 'd' ? t[i] != shape[i] : !(t[i] >= '0' && t[i] <= '9'))
			return 0;
		if (shape[i] == 'd')
			k = k * 10 + (uint64_t)(t[i] - '0');
	}
	return k;
}

/* By time (the numbers order as the texts they come from), then as listed. */
int rp_fu_cmp_time(const void *a, const void *b)
{
	const rp_fu_ix *p = a, *q = b;
	int c;

	if (p->tk && q->tk) {
		if (p->tk != q->tk)
			return p->tk < q->tk ? -1 : 1;
		if (!((p->when | q->when) & RP_FU_TAIL)) /* the same text */
			return p->r < q->r ? -1 : p->r > q->r;
	}
	c = strcmp(p->time, q->time);
	return c ? c : (p->r < q->r ? -1 : p->r > q->r);
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

static const char *before_key(const void *ctx, size_t i)
{
	return ((const rp_ctx *)ctx)->before[i].person;
}

static const char *fu_key(const void *ctx, size_t i)
{
	return ((const rp_ctx *)ctx)->fu[i].pid;
}

/* The folded tallies by person through merges, one per person (two persons merged fold
 * together), found by before_ix. */
static void before_build(rp_ctx *x)
{
	size_t cap = 64;
	uint32_t *ix;

	if (!x->fold.n)
		return;
	while (cap < 2 * x->fold.n)
		cap *= 2;
	if (x->fold.n >= UINT32_MAX || !(x->before = calloc(x->fold.n, sizeof(*x->before))) ||
	    !(ix = calloc(cap, sizeof(*ix)))) {
		rp_nomem(x);
		return;
	}
	x->nbefore = 0;
	for (size_t i = 0; i < x->fold.cap; i++) {
		const struct rp_fold *f = &x->fold.v[i];
		const char *p;
		size_t s, h;
		if (!f->person)
			continue;
		p = rp_pid(x, f->person);
		h = p == f->person ? f->hash : rp_hash(p);
		for (s = h; ix[s & (cap - 1)]; s++) {
			struct rp_fold *b = &x->before[ix[s & (cap - 1)] - 1];
			if (b->hash == h && !strcmp(b->person, p))
				break;
		}
		if (ix[s & (cap - 1)]) { /* a person merged into another: one tally */
			struct rp_fold *b = &x->before[ix[s & (cap - 1)] - 1];
			if (strcmp(f->last, b->last) > 0)
				memcpy(b->last, f->last, sizeof(b->last));
			b->temp |= f->temp;
			continue;
		}
		x->before[x->nbefore] = *f;
		x->before[x->nbefore].person = (char *)p; /* borrowed */
		x->before[x->nbefore].hash = h;
		ix[s & (cap - 1)] = (uint32_t)++x->nbefore;
	}
	x->before_ix.h = ix, x->before_ix.cap = cap;
}

/* Person p's follow-ups before the window, folded; NULL when none. */
const struct rp_fold *rp_before_of(const rp_ctx *x, const char *p)
{
	size_t at;

	if (!x->before_ix.h)
		return NULL;
	at = index_find(&x->before_ix, p, before_key, x);
	return at != (size_t)-1 ? &x->before[at] : NULL;
}

/* Follow-up i as the reports walk it (rp_fu_ix). */
static void fu_entry(const rp_ctx *x, size_t i, rp_fu_ix *e)
{
	const rp_recs *F = &x->followup;
	const rp_rec *f = &F->v[i];
	char d[11];

	e->pid = rp_pid(x, rp_fs(F, f, RP_F_PERSON));
	e->time = rp_fs(F, f, RP_F_TIME);
	e->r = f;
	e->region = f->region;
	e->h = 0; /* (the hash path sets it) */
	e->tk = rp_time_key(e->time);
	e->when = e->tk && e->time[16] ? RP_FU_TAIL : 0;
	e->temp = f->x[RP_F_TEMP];
	e->run = 0;
	rp_time_date(e->time, d);
	if (*d && strcmp(d, x->date) <= 0) {
		e->when |= RP_FU_LE_DATE;
		if (!strcmp(d, x->date))
			e->when |= RP_FU_TODAY | RP_FU_WINDOW;
		else if (strcmp(d, x->from) > 0)
			e->when |= RP_FU_WINDOW;
	}
	if (f->in)
		e->when |= RP_FU_IN;
	if (!strcmp(rp_fs(F, f, RP_F_METHOD), "phone"))
		e->when |= RP_FU_PHONE;
	if (rp_has(f, RP_F_TEMP))
		e->when |= RP_FU_TEMP;
}

/* A person's follow-ups in time; most have a few, so by insertion. */
static void fu_sort_run(rp_fu_ix *v, size_t n)
{
	if (n > 32) {
		qsort(v, n, sizeof(*v), rp_fu_cmp_time);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		rp_fu_ix e = v[i];
		size_t j = i;
		for (; j > 0 && rp_fu_cmp_time(&v[j - 1], &e) > 0; j--)
			v[j] = v[j - 1];
		v[j] = e;
	}
}

/* Sort each person's follow-ups fu[first .. first + count) by time, and say its count in its
 * first. */
static void fu_runs_sort(rp_ctx *x, size_t first, uint32_t count)
{
	fu_sort_run(&x->fu[first], count);
	x->fu[first].run = count;
}

/* fu_ix: each person's first place in fu, as index_find looks (no two runs are of one person,
 * so none is compared on the way in). */
static void runs_index(rp_ctx *x)
{
	size_t cap = 64, runs = 0;
	uint32_t *ix;

	for (size_t p = 0; p < x->nfu; p += x->fu[p].run)
		runs++;
	while (cap < 2 * runs)
		cap *= 2;
	if (!(ix = calloc(cap, sizeof(*ix)))) {
		rp_nomem(x);
		return;
	}
	for (size_t p = 0; p < x->nfu; p += x->fu[p].run) {
		size_t h = rp_hash(x->fu[p].pid);
		while (ix[h & (cap - 1)])
			h++;
		ix[h & (cap - 1)] = (uint32_t)p + 1;
	}
	x->fu_ix.h = ix, x->fu_ix.cap = cap;
}

/* canon[q]: the number of the person number q means through the merges (q itself but for the
 * dropped ones; persons no follow-up names as written numbered past the keep's), and *n the
 * numbers there are. canon holds npnum + nmerge. */
static void numbers_merged(rp_ctx *x, uint32_t *canon, size_t *n)
{
	rp_strs unnamed = {0}; /* persons kept by a merge whom no follow-up names as written */

	for (size_t q = 0; q < x->npnum; q++)
		canon[q] = (uint32_t)q;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < x->nmerge; i++) {
			const char *drop = x->merge_drop[2 * i], *c;
			int64_t q = rp_keep_pnum_of(x->l->keep, drop), cq;
			if (q < 0)
				continue; /* no follow-up names it */
			c = rp_pid(x, drop);
			if ((cq = rp_keep_pnum_of(x->l->keep, c)) >= 0)
				canon[q] = (uint32_t)cq;
			else if (pass == 0)
				rp_strs_add(x, &unnamed, c);
			else
				canon[q] = (uint32_t)(x->npnum + rp_strs_index(&unnamed, c));
		}
		if (pass == 0)
			rp_strs_sort_unique(&unnamed);
	}
	*n = x->npnum + unnamed.n;
	rp_strs_release(&unnamed);
}

static uint32_t group_of(const rp_ctx *x, const uint32_t *canon, size_t i)
{
	return canon ? canon[x->fu_pnum[i]] : x->fu_pnum[i];
}

/* The follow-ups into fu, each person's together, by the number the keep gave the person
 * (x->fu_pnum) through the merges: counted, placed, each sorted by time, then indexed by
 * person. */
static void followups_by_number(rp_ctx *x)
{
	size_t n = x->followup.n, groups = x->npnum;
	uint32_t *canon = NULL, *at;

	if (x->nmerge) {
		if (!(canon = malloc((x->npnum + x->nmerge) * sizeof(*canon)))) {
			rp_nomem(x);
			return;
		}
		numbers_merged(x, canon, &groups);
		if (x->rep->nomem) {
			free(canon);
			return;
		}
	}
	if (!(at = calloc(groups ? groups : 1, sizeof(*at)))) {
		free(canon);
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < n; i++)
		at[group_of(x, canon, i)]++;
	for (size_t q = 0, k = 0; q < groups; q++) { /* at[q]: the next place to fill */
		uint32_t c = at[q];
		at[q] = (uint32_t)k;
		k += c;
	}
	for (size_t i = 0; i < n; i++)
		fu_entry(x, i, &x->fu[at[group_of(x, canon, i)]++]);
	for (size_t q = 0, first = 0; q < groups; q++) { /* at[q]: the end of q's */
		if (at[q] > first)
			fu_runs_sort(x, first, (uint32_t)(at[q] - first));
		first = at[q];
	}
	free(at);
	free(canon);
	x->nfu = n;
	runs_index(x);
}

/* The same by a hash of each person's text through the merges (without the keep's numbers):
 * a slot for each person, then each person's follow-ups counted, placed and
 * sorted by time; the slots are the index. */
static void followups_by_hash(rp_ctx *x)
{
	size_t n = x->followup.n, cap = 64;
	rp_fu_ix *tmp = NULL;
	uint32_t *slot = NULL, *at = NULL, *ix = NULL;

	while (cap < 2 * n)
		cap *= 2;
	if (!(tmp = malloc((n ? n : 1) * sizeof(*tmp))) ||
	    !(slot = malloc((n ? n : 1) * sizeof(*slot))) || !(ix = calloc(cap, sizeof(*ix))) ||
	    !(at = calloc(cap, sizeof(*at)))) {
		free(tmp), free(slot), free(ix), free(at);
		rp_nomem(x);
		return;
	}
	/* ix[s]: 1 + the first follow-up of slot s's person, while counting in at[s] */
	for (size_t i = 0; i < n; i++) {
		size_t s;
		fu_entry(x, i, &tmp[i]);
		tmp[i].h = rp_hash(tmp[i].pid);
		for (s = tmp[i].h; ix[s & (cap - 1)]; s++) {
			const rp_fu_ix *o = &tmp[ix[s & (cap - 1)] - 1];
			if (o->h == tmp[i].h && !strcmp(o->pid, tmp[i].pid))
				break;
		}
		s &= cap - 1;
		if (!ix[s])
			ix[s] = (uint32_t)i + 1;
		slot[i] = (uint32_t)s;
		at[s]++;
	}
	/* then ix[s]: 1 + the place of its first in fu, and at[s] the next place to fill */
	for (size_t s = 0, k = 0; s < cap; s++)
		if (ix[s]) {
			uint32_t c = at[s];
			ix[s] = (uint32_t)k + 1, at[s] = (uint32_t)k;
			k += c;
		}
	for (size_t i = 0; i < n; i++)
		x->fu[at[slot[i]]++] = tmp[i];
	for (size_t s = 0; s < cap; s++)
		if (ix[s])
			fu_runs_sort(x, ix[s] - 1, at[s] - (ix[s] - 1));
	free(tmp), free(slot), free(at);
	x->nfu = n;
	x->fu_ix.h = ix, x->fu_ix.cap = cap;
}

/* Every followup by person (through merges) and time, whatever its region: each person's
 * together, found by fu_ix. */
static void followups_index(rp_ctx *x)
{
	size_t n = x->followup.n;

	if (n >= UINT32_MAX || !(x->fu = malloc((n ? n : 1) * sizeof(*x->fu)))) {
		rp_nomem(x);
		return;
	}
	if (x->fu_pnum)
		followups_by_number(x);
	else
		followups_by_hash(x);
}

/* The followups of person p: fu[*lo .. *hi). */
void rp_followups_of(const rp_ctx *x, const char *p, size_t *lo, size_t *hi)
{
	size_t a = x->fu_ix.h ? index_find(&x->fu_ix, p, fu_key, x) : (size_t)-1;

	if (a == (size_t)-1) {
		*lo = *hi = 0;
		return;
	}
	*lo = a;
	*hi = a + x->fu[a].run;
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
	followups_index(x);
	before_build(x);
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
