/*
 * report_keep.c - what reports read, kept between reports for a front end that builds many (the
 * web interface): each collection's records as rp_load reads them, brought up to date at each
 * report by the store's log of changed records (hm_node_changes) instead of read again whole.
 *
 * A record of a collection that changed is read again alone and put in its place (a new one
 * where the order of ids puts it; the persons' index made again); a record gone, or more than
 * KEEP_EDITS of a collection at once, or edits that left a quarter of its texts unused: the
 * collection is read again whole at its next use. The follow-ups, by far the most numerous and
 * append-only (written once, never edited), are added to the kept ones, which are also indexed
 * by date, so that a report takes its window (from, D] by bisection, and each person's
 * follow-ups up to a day (the fold of rp_load) are kept per day asked for and grow with the new
 * ones. A follow-up that changes all the same (two stations' versions of one id), a log that
 * cannot say what changed (pruned, every record rebuilt), or a new one that cannot be placed:
 * the follow-ups are read again whole.
 *
 * What a report gets is what rp_load would read from the store (tests/unit/ledger/
 * test_report_keep.c compares every report both ways): the same records in the same order
 * (the window's follow-ups in id order), the same fields, the same in flags for its region and
 * the same folds.
 */
#include "ledger_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_FOLDS 2   /* days kept a fold for: the reports' and Today's */
#define KEEP_EDITS 256 /* records of a collection put in place at once; more: read whole */

typedef struct keep_coll {
	rp_recs rs;
	bool loaded;
	bool dirty;          /* to be read whole: a record gone, or too many changed */
	size_t stale;        /* bytes of its arena no record uses any more (records put in place) */
	size_t edits, added; /* records the log named, and those new, while brought up to date */
	size_t moves_was, n_was; /* rs.moves and rs.n before: the records' region pointers
	                          * hold while the arena stays where it was */
	bool in_set;
	char in_for[HM_REGION_MAX + 1]; /* the region rs's in flags were set for */
} keep_coll;

/* The follow-ups a fold holds: those dated on or before day, or before it when strict. */
typedef struct fold_bound {
	char day[11];
	bool strict;
} fold_bound;

typedef struct keep_fold {
	bool valid;
	fold_bound b;
	unsigned used; /* for the least recently used */
	rp_folds f;
} keep_fold;

typedef struct keep_change {
	size_t coll; /* its index in rp_colls */
	char id[HM_ID_MAX + 1], region[HM_REGION_MAX + 1];
} keep_change;

struct hm_report_keep {
	bool started;
	uint64_t counter; /* the store's changed log, as far as taken */
	keep_coll *c;     /* one per rp_colls */
	size_t fu;        /* the follow-ups' index in rp_colls */
	/* follow-ups: c[fu].rs.v[0 .. sorted) are in id order (as read), the rest added since */
	size_t sorted;
	size_t *by_date; /* indexes into c[fu].rs.v by the date of their time ("" first) */
	size_t nby, capby;
	/* follow-ups: the person each names (as written) as a number, pnum[i] of c[fu].rs.v[i], so
	 * that a report groups them by it; pix: 1 + the number of a text, by a hash of it; pone:
	 * of each number, a follow-up that names it (where its text is) */
	uint32_t *pnum, *pix, *pone;
	size_t npnum, cappnum, capone, pcap;
	keep_fold folds[KEEP_FOLDS];
	unsigned clock;
	keep_change *ch; /* records the log names, while bringing the keep up to date */
	size_t nch, capch;
	bool ch_nomem;
	size_t max_bytes; /* past it, the keep turns itself off (st.off) */
	hm_report_keep_stats st;
};

hm_err hm_report_keep_new(size_t max_bytes, hm_report_keep **out)
{
	hm_report_keep *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!k || !(k->c = calloc(rp_ncolls, sizeof(*k->c)))) {
		free(k);
		return HM_ERR_NOMEM;
	}
	for (size_t i = 0; i < rp_ncolls; i++)
		if (rp_colls[i].need == RP_NEED_FOLLOWUP)
			k->fu = i;
	k->max_bytes = max_bytes;
	*out = k;
	return HM_OK;
}

static void fu_forget(hm_report_keep *k)
{
	free(k->by_date);
	k->by_date = NULL, k->nby = k->capby = 0;
	free(k->pnum), free(k->pix), free(k->pone);
	k->pnum = k->pix = k->pone = NULL;
	k->npnum = k->cappnum = k->capone = k->pcap = 0;
	k->sorted = 0;
	for (size_t i = 0; i < KEEP_FOLDS; i++) {
		rp_folds_release(&k->folds[i].f);
		k->folds[i].valid = false;
	}
}

static void coll_forget(hm_report_keep *k, size_t i)
{
	rp_recs_release(&k->c[i].rs);
	k->c[i].loaded = k->c[i].dirty = k->c[i].in_set = false;
	k->c[i].stale = 0;
	if (i == k->fu)
		fu_forget(k);
}

void hm_report_keep_stats_get(const hm_report_keep *k, hm_report_keep_stats *out)
{
	*out = k->st;
}

void hm_report_keep_regions(const hm_report_keep *k, void (*cb)(void *ctx, const char *region),
                            void *ctx)
{
	for (size_t i = 0; k && i < rp_ncolls; i++) {
		const rp_recs *rs = &k->c[i].rs;
		if (!k->c[i].loaded)
			continue;
		for (size_t s = 0; s < rs->rcap; s++) /* each region once per collection */
			if (rs->regions[s])
				cb(ctx, rs->arena + rs->regions[s]);
	}
}

void hm_report_keep_free(hm_report_keep *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < rp_ncolls; i++)
		coll_forget(k, i);
	free(k->c);
	free(k->ch);
	free(k);
}

/* ---- the follow-ups by date ---- */

/* The date of follow-up i ("" when its time has none), as rp_load's window reads it. */
static void fu_date(const hm_report_keep *k, size_t i, char d[11])
{
	const rp_recs *rs = &k->c[k->fu].rs;
	rp_time_date(rp_fs(rs, &rs->v[i], RP_F_TIME), d);
}

/* qsort has no context: the keep being sorted, one per thread */
static _Thread_local const hm_report_keep *sort_keep;

static int cmp_by_date(const void *a, const void *b)
{
	char da[11], db[11];
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c;

	fu_date(sort_keep, i, da), fu_date(sort_keep, j, db);
	c = strcmp(da, db);
	return c ? c : (i < j ? -1 : i > j);
}

/* The first place in by_date whose date is after d (from it on, when strict). */
static size_t by_date_bound(const hm_report_keep *k, const char *d, bool strict)
{
	size_t lo = 0, hi = k->nby;
	char m[11];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c;
		fu_date(k, k->by_date[mid], m);
		c = strcmp(m, d);
		if (strict ? c < 0 : c <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t by_date_after(const hm_report_keep *k, const char *d)
{
	return by_date_bound(k, d, false);
}

/* rp_load's split of the follow-ups dated on or before D (keep_followup): those after from, and
 * those of D, are held; the others are folded. So the fold holds those dated on or before from,
 * or before D when from is not before it. */
static fold_bound fold_bound_of(const rp_ctx *x)
{
	fold_bound b = {.strict = strcmp(x->from, x->date) >= 0};
	memcpy(b.day, b.strict ? x->date : x->from, sizeof(b.day));
	return b;
}

static bool in_fold(const fold_bound *b, const char *d)
{
	int c = strcmp(d, b->day);
	return *d && (b->strict ? c < 0 : c <= 0);
}

static bool by_date_build(hm_report_keep *k)
{
	size_t n = k->c[k->fu].rs.n;

	free(k->by_date);
	k->nby = k->capby = 0;
	if (!(k->by_date = malloc((n ? n : 1) * sizeof(*k->by_date))))
		return false;
	for (size_t i = 0; i < n; i++)
		k->by_date[i] = i;
	k->capby = n ? n : 1;
	k->nby = n;
	sort_keep = k;
	qsort(k->by_date, n, sizeof(*k->by_date), cmp_by_date);
	k->sorted = n;
	return true;
}

/* The person follow-up i names, as written. */
static const char *fu_person(const hm_report_keep *k, size_t i)
{
	const rp_recs *rs = &k->c[k->fu].rs;
	return rp_fs(rs, &rs->v[i], RP_F_PERSON);
}

static bool grow32(uint32_t **v, size_t *cap, size_t want)
{
	size_t c = *cap ? *cap : 1024;
	uint32_t *nv;

	if (want <= *cap)
		return true;
	while (c < want)
		c *= 2;
	if (!(nv = realloc(*v, c * sizeof(*nv))))
		return false;
	*v = nv, *cap = c;
	return true;
}

/* Number the person follow-up i names: the number of the same text, or the next one. */
static bool pnum_put(hm_report_keep *k, size_t i)
{
	const char *p = fu_person(k, i);
	size_t h;

	if (k->npnum >= UINT32_MAX - 1 || !grow32(&k->pnum, &k->cappnum, i + 1) ||
	    !grow32(&k->pone, &k->capone, k->npnum + 1))
		return false;
	if (2 * (k->npnum + 1) > k->pcap) { /* a larger table, made again */
		size_t cap = k->pcap ? 2 * k->pcap : 1024;
		uint32_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return false;
		for (uint32_t q = 0; q < k->npnum; q++) {
			for (h = rp_hash(fu_person(k, k->pone[q])); t[h & (cap - 1)]; h++)
				;
			t[h & (cap - 1)] = q + 1;
		}
		free(k->pix);
		k->pix = t, k->pcap = cap;
	}
	for (h = rp_hash(p); k->pix[h & (k->pcap - 1)]; h++) {
		uint32_t q = k->pix[h & (k->pcap - 1)] - 1;
		if (!strcmp(fu_person(k, k->pone[q]), p)) {
			k->pnum[i] = q;
			return true;
		}
	}
	k->pone[k->npnum] = (uint32_t)i;
	k->pix[h & (k->pcap - 1)] = (uint32_t)k->npnum + 1;
	k->pnum[i] = (uint32_t)k->npnum++;
	return true;
}

int64_t rp_keep_pnum_of(const hm_report_keep *k, const char *p)
{
	if (!k->pcap)
		return -1;
	for (size_t h = rp_hash(p);; h++) {
		uint32_t q = k->pix[h & (k->pcap - 1)];
		if (!q)
			return -1;
		if (!strcmp(fu_person(k, k->pone[q - 1]), p))
			return q - 1;
	}
}

/* Place the follow-up just added (the last) in by_date. */
static bool by_date_insert(hm_report_keep *k)
{
	size_t i = k->c[k->fu].rs.n - 1, at;
	char d[11];

	if (k->nby == k->capby) {
		size_t cap = k->capby ? 2 * k->capby : 256;
		size_t *v = realloc(k->by_date, cap * sizeof(*v));
		if (!v)
			return false;
		k->by_date = v, k->capby = cap;
	}
	fu_date(k, i, d);
	at = by_date_after(k, d); /* after every one of its date: they all came before */
	memmove(&k->by_date[at + 1], &k->by_date[at], (k->nby - at) * sizeof(*k->by_date));
	k->by_date[at] = i;
	k->nby++;
	return true;
}

/* ---- folds: each person's follow-ups dated on or before a day ---- */

/* Fold follow-up i into f, as keep_followup (report_data.c) does with one before the window. */
static bool fold_add(const hm_report_keep *k, rp_folds *f, size_t i)
{
	const rp_recs *rs = &k->c[k->fu].rs;
	const rp_rec *r = &rs->v[i];
	const char *person = rp_fs(rs, r, RP_F_PERSON), *why;
	struct rp_fold *t;
	char d[11];

	fu_date(k, i, d);
	/* as keep_followup: a person that is an id whole (hm_rec_id), not cut at a NUL */
	if (!*d || !rp_has(r, RP_F_PERSON) || (r->cut & (1u << RP_F_PERSON)) ||
	    hm_id_check(person, &why))
		return true;
	if (!(t = rp_fold_slot(f, person)))
		return false;
	if (strcmp(d, t->last) > 0)
		memcpy(t->last, d, sizeof(t->last));
	t->temp |= rp_has(r, RP_F_TEMP);
	return true;
}

/* The fold of bound b: kept, or made. NULL when memory runs out. */
static keep_fold *fold_for(hm_report_keep *k, const fold_bound *b)
{
	keep_fold *f = &k->folds[0];
	size_t end;

	for (size_t i = 0; i < KEEP_FOLDS; i++) {
		if (k->folds[i].valid && !strcmp(k->folds[i].b.day, b->day) &&
		    k->folds[i].b.strict == b->strict) {
			k->folds[i].used = ++k->clock;
			return &k->folds[i];
		}
		if (!k->folds[i].valid || k->folds[i].used < f->used)
			f = &k->folds[i];
	}
	rp_folds_release(&f->f);
	f->valid = false;
	end = by_date_bound(k, b->day, b->strict);
	for (size_t i = 0; i < end; i++)
		if (!fold_add(k, &f->f, k->by_date[i])) {
			rp_folds_release(&f->f);
			return NULL;
		}
	f->b = *b;
	k->st.folds++;
	f->valid = true;
	f->used = ++k->clock;
	return f;
}

/* ---- bringing the keep up to date ---- */

static int note_change(void *ctx, const char *coll, const char *id, const char *region)
{
	hm_report_keep *k = ctx;

	for (size_t i = 0; i < rp_ncolls; i++) {
		if (strcmp(coll, rp_colls[i].coll) != 0)
			continue;
		if (!k->c[i].loaded || k->c[i].dirty)
			return 0; /* read whole at its next use */
		if (k->nch == k->capch) {
			size_t cap = k->capch ? 2 * k->capch : 64;
			keep_change *v = realloc(k->ch, cap * sizeof(*v));
			if (!v) {
				k->ch_nomem = true;
				return 1;
			}
			k->ch = v, k->capch = cap;
		}
		k->ch[k->nch].coll = i;
		snprintf(k->ch[k->nch].id, sizeof(k->ch[0].id), "%s", id);
		snprintf(k->ch[k->nch].region, sizeof(k->ch[0].region), "%s", region);
		k->nch++;
		return 0;
	}
	return 0;
}

/* r's region, from its offset: while follow-ups are being added the arena may move, and the
 * region pointers are set again only once they all are (refresh). */
static const char *rec_region(const rp_recs *rs, const rp_rec *r)
{
	return rs->arena + r->region_off;
}

/* The place of record id of region among rs->v[0 .. n) (in hm_node_list's order: id, then
 * region), or -1 and *at where it would go. */
static ptrdiff_t rec_find(const rp_recs *rs, size_t n, const char *id, const char *region,
                          size_t *at)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const rp_rec *r = &rs->v[mid];
		int c = strcmp(rp_rid(rs, r), id);
		if (!c)
			c = strcmp(rec_region(rs, r), region);
		if (!c)
			return (ptrdiff_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return -1;
}

/* The kept follow-up id of region, or -1. */
static ptrdiff_t fu_find(const hm_report_keep *k, const char *id, const char *region)
{
	const rp_recs *rs = &k->c[k->fu].rs;
	size_t at;
	ptrdiff_t found = rec_find(rs, k->sorted, id, region, &at);

	if (found >= 0)
		return found;
	for (size_t i = k->sorted; i < rs->n; i++)
		if (!strcmp(rp_rid(rs, &rs->v[i]), id) &&
		    !strcmp(rec_region(rs, &rs->v[i]), region))
			return (ptrdiff_t)i;
	return -1;
}

static bool rec_same(const rp_recs *a, const rp_rec *x, const rp_recs *b, const rp_rec *y)
{
	if (x->cut != y->cut)
		return false;
	for (int i = 0; a->fields[i] && i < RP_FIELDS_MAX; i++)
		if (strcmp(rp_fs(a, x, i), rp_fs(b, y, i)) != 0)
			return false;
	return !strcmp(rec_region(a, x), rec_region(b, y));
}

/* Add the follow-up the log named, or say (*again) that the follow-ups must be read whole. */
static hm_err fu_add(hm_node *n, hm_report_keep *k, const keep_change *ch, bool *again)
{
	rp_recs *rs = &k->c[k->fu].rs;
	ptrdiff_t at = fu_find(k, ch->id, ch->region);
	hm_record *rec;
	hm_err err = hm_node_get_at(n, "followup", ch->id, ch->region, &rec);

	if (err == HM_ERR_NOT_FOUND) { /* gone: only a rebuild removes one, and it said so */
		*again = at >= 0;
		return HM_OK;
	}
	if (err)
		return err;
	if (at >= 0) { /* read already (the log runs ahead of a read), or changed after all */
		rp_recs one;
		if ((err = rp_recs_init(&one, rs->coll, rs->fields))) {
			hm_record_free(rec);
			return err;
		}
		rp_recs_append(&one, rec);
		rp_recs_regions(&one);
		*again = one.nomem || !one.n || !rec_same(rs, &rs->v[at], &one, &one.v[0]);
		rp_recs_release(&one);
		hm_record_free(rec);
		return HM_OK;
	}
	rp_recs_append(rs, rec);
	hm_record_free(rec);
	if (rs->nomem || !by_date_insert(k) || !pnum_put(k, rs->n - 1))
		return HM_ERR_NOMEM;
	k->st.added++;
	for (size_t i = 0; i < KEEP_FOLDS; i++) {
		char d[11];
		fu_date(k, rs->n - 1, d);
		if (k->folds[i].valid && in_fold(&k->folds[i].b, d) &&
		    !fold_add(k, &k->folds[i].f, rs->n - 1))
			return HM_ERR_NOMEM;
	}
	return HM_OK;
}

/* Put the record the log named of collection c (not the follow-ups) in its place: read again,
 * added where the order of ids puts it, or (gone, or too much of the arena left unused) the
 * collection marked to be read whole. */
static hm_err rec_put(hm_node *n, keep_coll *c, const keep_change *ch)
{
	rp_recs *rs = &c->rs;
	size_t to = 0, a0 = rs->alen;
	ptrdiff_t at = rec_find(rs, rs->n, ch->id, ch->region, &to);
	hm_record *rec;
	rp_rec r;
	hm_err err = hm_node_get_at(n, rs->coll, ch->id, ch->region, &rec);

	if (err == HM_ERR_NOT_FOUND) { /* gone (or never here): as a whole read would say */
		c->dirty = at >= 0;
		return HM_OK;
	}
	if (err)
		return err;
	rp_recs_append(rs, rec);
	hm_record_free(rec);
	if (rs->nomem)
		return HM_ERR_NOMEM;
	r = rs->v[--rs->n];
	r.region = rs->arena + r.region_off; /* (all set again if the arena moves later) */
	if (at >= 0) {
		rs->v[at] = r;
		c->stale += rs->alen - a0; /* about what the record it replaces held */
	} else {
		memmove(&rs->v[to + 1], &rs->v[to], (rs->n - to) * sizeof(*rs->v));
		rs->v[to] = r;
		rs->n++;
	}
	if (c->stale > rs->alen / 4)
		c->dirty = true;
	return HM_OK;
}

/* Bring the records the log named into the kept collections (the follow-ups apart): each put
 * in place, their regions' pointers and in flags set again, the persons' index made again
 * when one came. */
static hm_err recs_put(hm_node *n, hm_report_keep *k)
{
	hm_err err = HM_OK;

	for (size_t i = 0; i < rp_ncolls; i++)
		k->c[i].edits = k->c[i].added = 0;
	for (size_t i = 0; i < k->nch; i++)
		k->c[k->ch[i].coll].edits++;
	for (size_t i = 0; i < rp_ncolls; i++)
		if (i != k->fu && k->c[i].edits > KEEP_EDITS)
			k->c[i].dirty = true;
	for (size_t i = 0; !err && i < k->nch; i++) {
		keep_coll *c = &k->c[k->ch[i].coll];
		size_t n0 = c->rs.n;
		if (k->ch[i].coll == k->fu || c->dirty)
			continue;
		err = rec_put(n, c, &k->ch[i]);
		c->added += c->rs.n - n0;
		c->in_set = false;
	}
	for (size_t i = 0; !err && i < rp_ncolls; i++) {
		keep_coll *c = &k->c[i];
		if (i == k->fu || !c->edits || c->dirty || !c->loaded)
			continue;
		if (c->added && c->rs.hix) /* (without one, persons are found by bisection) */
			rp_recs_index(&c->rs);
		k->st.put += c->edits;
	}
	return err;
}

static hm_err refresh(hm_node *n, hm_report_keep *k)
{
	uint64_t last;
	bool whole = false, again = false;
	hm_err err;

	k->nch = 0;
	k->ch_nomem = false;
	for (size_t i = 0; i < rp_ncolls; i++)
		k->c[i].moves_was = k->c[i].rs.moves, k->c[i].n_was = k->c[i].rs.n;
	err = hm_node_changes(n, k->counter, k->started ? note_change : NULL, k, &last, &whole);
	if (!err && k->ch_nomem)
		err = HM_ERR_NOMEM;
	if (!err && !whole)
		err = recs_put(n, k);
	/* a sync that brought many, or many taken since the last read: reading them all whole is
	 * cheaper than one at a time (each found by a walk of those added, placed by a memmove) */
	again = k->c[k->fu].edits > 4096 || k->c[k->fu].rs.n - k->sorted > 4096;
	for (size_t i = 0; !err && !whole && i < k->nch && !again; i++)
		if (k->ch[i].coll == k->fu)
			err = fu_add(n, k, &k->ch[i], &again);
	for (size_t i = 0; i < rp_ncolls; i++)
		if (err || !k->started || whole || k->c[i].dirty || (i == k->fu && again))
			coll_forget(k, i);
	for (size_t i = 0; i < rp_ncolls; i++) { /* the new ones', and all if the arena moved */
		rp_recs *rs = &k->c[i].rs;
		if (!k->c[i].loaded)
			continue;
		if (rs->moves != k->c[i].moves_was)
			rp_recs_regions(rs);
		else if (i == k->fu)
			for (size_t j = k->c[i].n_was; j < rs->n; j++)
				rs->v[j].region = rs->arena + rs->v[j].region_off;
	}
	if (err)
		return err;
	k->counter = last;
	k->started = true;
	return HM_OK;
}

/* ---- a report's view ---- */

static hm_err coll_load(hm_node *n, hm_report_keep *k, size_t i)
{
	keep_coll *c = &k->c[i];
	hm_err err =
	    rp_recs_load(n, &c->rs, rp_colls[i].coll, rp_colls[i].fields, NULL, NULL, NULL);

	if (!err && i == k->fu && !by_date_build(k))
		err = HM_ERR_NOMEM;
	for (size_t j = 0; !err && i == k->fu && j < c->rs.n; j++)
		if (!pnum_put(k, j))
			err = HM_ERR_NOMEM;
	if (!err && rp_colls[i].need == RP_NEED_PERSON)
		rp_recs_index(&c->rs);
	if (err) {
		coll_forget(k, i);
		return err;
	}
	c->loaded = true;
	k->st.loads++;
	return HM_OK;
}

/* x's records of collection i: the kept ones, their in flags set for x's region. */
static void view(rp_ctx *x, keep_coll *c, size_t i)
{
	rp_recs *rs = (rp_recs *)((char *)x + rp_colls[i].off);

	if (!c->in_set || strcmp(c->in_for, x->region) != 0) {
		rp_recs_set_in(&c->rs, x->region);
		snprintf(c->in_for, sizeof(c->in_for), "%s", x->region);
		c->in_set = true;
	}
	*rs = c->rs;
	rs->scope = x->region;
	rs->borrowed = true;
}

/* hm_node_list's order of follow-ups i and j: id, then region; those read whole are in it by
 * their index. */
static int cmp_id(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const rp_recs *rs = &sort_keep->c[sort_keep->fu].rs;
	int c;

	if (i < sort_keep->sorted && j < sort_keep->sorted)
		return i < j ? -1 : i > j;
	c = strcmp(rp_rid(rs, &rs->v[i]), rp_rid(rs, &rs->v[j]));
	return c ? c : strcmp(rec_region(rs, &rs->v[i]), rec_region(rs, &rs->v[j]));
}

/* x's follow-ups: those of the window, copied, in id order; those before, the fold. */
static hm_err fu_view(rp_ctx *x, hm_report_keep *k)
{
	const rp_recs *all = &k->c[k->fu].rs;
	rp_recs *rs = &x->followup;
	fold_bound b = fold_bound_of(x);
	size_t lo = by_date_bound(k, b.day, b.strict), hi = by_date_after(k, x->date);
	size_t w = hi > lo ? hi - lo : 0;
	keep_fold *f = fold_for(k, &b);
	size_t *ix = malloc((w ? w : 1) * sizeof(*ix));

	*rs = *all;
	rs->scope = x->region;
	rs->borrowed = false;
	rs->borrowed_arena = true;
	rs->n = rs->cap = 0;
	if (!f || !ix || !(rs->v = malloc((w ? w : 1) * sizeof(*rs->v)))) {
		rs->v = NULL;
		free(ix);
		return HM_ERR_NOMEM;
	}
	memcpy(ix, k->by_date + lo, w * sizeof(*ix));
	sort_keep = k;
	qsort(ix, w, sizeof(*ix), cmp_id);
	if (!(x->fu_pnum = malloc((w ? w : 1) * sizeof(*x->fu_pnum)))) {
		free(ix);
		return HM_ERR_NOMEM;
	}
	for (size_t i = 0; i < w; i++) {
		x->fu_pnum[i] = k->pnum[ix[i]];
		rs->v[rs->n++] = all->v[ix[i]];
	}
	x->npnum = k->npnum;
	rs->cap = w;
	free(ix);
	rp_recs_set_in(rs, x->region);
	x->fold = f->f;
	x->fold_borrowed = true;
	return HM_OK;
}

/* The bytes the keep holds: each collection's rows and texts, the index by date, the folds. */
static size_t keep_bytes(const hm_report_keep *k)
{
	size_t b =
	    k->capby * sizeof(*k->by_date) + (k->cappnum + k->capone + k->pcap) * sizeof(uint32_t);

	for (size_t i = 0; i < rp_ncolls; i++)
		b += k->c[i].rs.cap * sizeof(rp_rec) + k->c[i].rs.acap +
		     k->c[i].rs.hcap * sizeof(*k->c[i].rs.hix);
	for (size_t i = 0; i < KEEP_FOLDS; i++)
		b += k->folds[i].f.cap * sizeof(*k->folds[i].f.v) + k->folds[i].f.n * 16;
	return b;
}

hm_err rp_keep_load(rp_ctx *x, unsigned needs)
{
	hm_report_keep *k = x->l->keep;
	hm_err err = refresh(x->n, k);

	/* In rp_colls' order, as the store is read: the episodes before the follow-ups. */
	for (size_t i = 0; !err && i < rp_ncolls; i++) {
		if (rp_colls[i].need && !(needs & rp_colls[i].need))
			continue;
		if (!k->c[i].loaded && (err = coll_load(x->n, k, i)))
			break;
		if (keep_bytes(k) > k->max_bytes) { /* too much to keep: read as without it */
			for (size_t j = 0; j < rp_ncolls; j++)
				coll_forget(k, j);
			k->st.off = true;
			return HM_ERR_FULL;
		}
		if (i != k->fu) {
			view(x, &k->c[i], i);
			continue;
		}
		if (x->window_from_episodes)
			rp_window_from_episodes(x);
		err = fu_view(x, k);
	}
	if (err == HM_ERR_NOMEM)
		err = hm_node_fail(x->n, err, "reading the records of a report: out of memory");
	return err;
}
