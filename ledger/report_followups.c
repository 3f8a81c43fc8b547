/*
 * report_followups.c - each person's follow-ups as a report walks them: grouped by person
 * through the merges (by the report keep's numbers of the persons, or by a hash) and ordered by
 * time, what the reports ask of each read once (rp_fu_ix), and the tallies of those before the
 * window, one per person.
 */
#include "ledger_int.h"

#include <stdlib.h>
#include <string.h>

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
void rp_before_build(rp_ctx *x)
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
	at = rp_index_find(&x->before_ix, p, before_key, x);
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
	size_t n = x->followup.n, cap = 64, *hash = NULL;
	rp_fu_ix *tmp = NULL;
	uint32_t *slot = NULL, *at = NULL, *ix = NULL;

	while (cap < 2 * n)
		cap *= 2;
	if (!(tmp = malloc((n ? n : 1) * sizeof(*tmp))) ||
	    !(hash = malloc((n ? n : 1) * sizeof(*hash))) ||
	    !(slot = malloc((n ? n : 1) * sizeof(*slot))) || !(ix = calloc(cap, sizeof(*ix))) ||
	    !(at = calloc(cap, sizeof(*at)))) {
		free(tmp), free(hash), free(slot), free(ix), free(at);
		rp_nomem(x);
		return;
	}
	/* ix[s]: 1 + the first follow-up of slot s's person, while counting in at[s] */
	for (size_t i = 0; i < n; i++) {
		size_t s;
		fu_entry(x, i, &tmp[i]);
		hash[i] = rp_hash(tmp[i].pid);
		for (s = hash[i]; ix[s & (cap - 1)]; s++) {
			uint32_t o = ix[s & (cap - 1)] - 1;
			if (hash[o] == hash[i] && !strcmp(tmp[o].pid, tmp[i].pid))
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
	free(tmp), free(hash), free(slot), free(at);
	x->nfu = n;
	x->fu_ix.h = ix, x->fu_ix.cap = cap;
}

/* Every followup by person (through merges) and time, whatever its region: each person's
 * together, found by fu_ix. */
void rp_followups_index(rp_ctx *x)
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
	size_t a = x->fu_ix.h ? rp_index_find(&x->fu_ix, p, fu_key, x) : (size_t)-1;

	if (a == (size_t)-1) {
		*lo = *hi = 0;
		return;
	}
	*lo = a;
	*hi = a + x->fu[a].run;
}
