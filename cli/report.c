/*
 * report.c - `hamlet report NAME`: the six reports that answer the county's four gaps (daily,
 * monitoring, contacts, supplies, compounds, rewards), computed from the records this node holds
 * into the table model of report.h and printed by render.c.
 *
 * Every figure follows docs/reports.md, which is the definition; the comments here only say how.
 * The records a report needs are read once into memory (strings in one arena per collection), a
 * person registered twice is mapped onto the record kept by its merge before anything is counted,
 * and rows are grouped by the region field of the record counted.
 */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELDS_MAX 12
#define MERGE_HOPS 32 /* a merge chain longer than this is a loop */
#define GROUP_VALS 24

/* ---- records in memory ---- */

typedef struct rec {
	size_t id;            /* offset of the id in the arena */
	size_t f[FIELDS_MAX]; /* offsets of the fields asked for; 0: absent (the arena's "") */
	double x[FIELDS_MAX]; /* the same fields as numbers, when they are numbers */
	const char *region;   /* the record's region field; set once loading is over */
	size_t region_off;
	bool in; /* its region lies inside the region asked */
} rec;

typedef struct recs {
	const char *coll;
	const char *const *fields; /* NULL-terminated, at most FIELDS_MAX */
	rec *v;                    /* in id order, as hm_node_list gives them */
	size_t n, cap;
	char *arena;
	size_t alen, acap;
	const char *scope;
	bool nomem;
	/* When set, a record is held only when keep says so (it may fold it into a tally). */
	bool (*keep)(void *ctx, const hm_record *r);
	void *keep_ctx;
} recs;

/* The text of field i of r ("" when absent). */
static const char *fs(const recs *rs, const rec *r, int i)
{
	return rs->arena + r->f[i];
}

static const char *rid(const recs *rs, const rec *r)
{
	return rs->arena + r->id;
}

static bool has(const rec *r, int i)
{
	return r->f[i] != 0;
}

static size_t arena_put(recs *rs, const char *s, size_t n)
{
	size_t off = rs->alen;

	if (n == 0)
		return 0;
	if (rs->alen + n + 1 > rs->acap) {
		size_t cap = rs->acap ? rs->acap : 4096;
		char *a;
		while (cap < rs->alen + n + 1)
			cap *= 2;
		if (!(a = realloc(rs->arena, cap))) {
			rs->nomem = true;
			return 0;
		}
		rs->arena = a, rs->acap = cap;
	}
	memcpy(rs->arena + off, s, n);
	rs->arena[off + n] = '\0';
	rs->alen += n + 1;
	return off;
}

static size_t put_value(recs *rs, const hm_value *v, double *num)
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

static int load_one(void *ctx, const hm_record *r)
{
	recs *rs = ctx;
	const hm_collection_def *cd = hm_schema_collection(rs->coll);
	const hm_field *reg = cd ? hm_record_field(r, cd->region_field) : NULL;
	rec *e;

	if (rs->keep && !rs->keep(rs->keep_ctx, r))
		return rs->nomem ? 1 : 0;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		rec *v = realloc(rs->v, cap * sizeof(*v));
		if (!v) {
			rs->nomem = true;
			return 1;
		}
		rs->v = v, rs->cap = cap;
	}
	e = &rs->v[rs->n];
	memset(e, 0, sizeof(*e));
	e->id = arena_put(rs, r->id, strlen(r->id));
	for (int i = 0; rs->fields[i] && i < FIELDS_MAX; i++) {
		const hm_field *f = hm_record_field(r, rs->fields[i]);
		if (f)
			e->f[i] = put_value(rs, &f->value, &e->x[i]);
	}
	if (reg && reg->value.kind == HM_V_STR)
		e->region_off = put_value(rs, &reg->value, NULL);
	if (rs->nomem)
		return 1;
	rs->n++;
	return 0;
}

/* The arena has "" at offset 0, so an absent field reads as the empty string. */
static hm_err recs_load(hm_node *n, recs *rs, const char *coll, const char *const *fields,
                        const char *scope, bool (*keep)(void *ctx, const hm_record *r),
                        void *keep_ctx)
{
	hm_err err;

	memset(rs, 0, sizeof(*rs));
	rs->coll = coll, rs->fields = fields, rs->scope = scope;
	rs->keep = keep, rs->keep_ctx = keep_ctx;
	if (!(rs->arena = malloc(4096)))
		return HM_ERR_NOMEM;
	rs->arena[0] = '\0';
	rs->alen = 1, rs->acap = 4096;
	err = hm_node_list(n, coll, load_one, rs);
	if (!err && rs->nomem)
		err = HM_ERR_NOMEM;
	/* The arena no longer moves: pointers into it are stable from here on. */
	for (size_t i = 0; i < rs->n; i++) {
		rec *e = &rs->v[i];
		e->region = rs->arena + e->region_off;
		e->in = e->region_off && hm_region_contains(scope, e->region);
	}
	return err;
}

static void recs_release(recs *rs)
{
	free(rs->v);
	free(rs->arena);
	memset(rs, 0, sizeof(*rs));
}

/* ---- the fields each report reads ---- */

enum { P_NAME, P_VILLAGE, P_CATEGORY, P_COMPOUND };
static const char *const person_f[] = {"name", "village", "category", "compound", NULL};
enum { E_PERSON, E_KIND, E_REASON, E_START, E_END, E_CPD };
static const char *const episode_f[] = {"person", "kind",           "reason", "start",
                                        "end",    "checks_per_day", NULL};
enum { F_PERSON, F_TIME, F_TEMP, F_METHOD, F_ACTION };
static const char *const followup_f[] = {"person", "time", "temperature", "method", "action", NULL};
enum { R_PERSON, R_FROM, R_REGISTERED };
static const char *const return_f[] = {"person", "from_area", "registered", NULL};
enum { X_SOURCE, X_CONTACT, X_DEGREE };
static const char *const exposure_f[] = {"source", "contact", "degree", NULL};
enum { T_DATE, T_FEVER };
static const char *const tally_f[] = {"date", "fever", NULL};
enum { S_ITEM, S_STORE, S_MOVEMENT, S_QTY, S_DATE, S_TO, S_SHIPMENT };
static const char *const txn_f[] = {"item", "store",    "movement", "quantity",
                                    "date", "to_store", "shipment", NULL};
enum { H_FROM, H_TO, H_LINES, H_STATUS };
static const char *const shipment_f[] = {"from", "to", "lines", "status", NULL};
enum { I_STATE, I_REWARD, I_PAID };
static const char *const tip_f[] = {"state", "reward", "paid", NULL};
enum { N_AMOUNT, N_STATE, N_DATE };
static const char *const penalty_f[] = {"amount", "state", "date", NULL};
enum { O_COMPOUND, O_AUDIENCE, O_DATE };
static const char *const notice_f[] = {"compound", "audience", "date", NULL};
enum { M_KEEP, M_DROP, M_STATE };
static const char *const merge_f[] = {"keep", "drop", "state", NULL};

/* ---- one run of a report ---- */

typedef struct monitored {
	const char *pid;   /* the person, through merges */
	const char *start; /* of ep */
	const rec *ep;     /* the active episode it counts under */
} monitored;

typedef struct fu_ix {
	const char *pid, *time;
	const rec *r;
} fu_ix;

typedef struct strs {
	const char **v;
	size_t n, cap;
} strs;

typedef struct rctx {
	cli *c;
	hm_node *n;
	char date[11], from[11]; /* D, and D - N: the window is (from, date] */
	char region[HM_REGION_MAX + 1];
	long days, depth;
	const char *start; /* contacts --person */
	bool show_pii;
	double threshold;
	long long reward_tip, penalty_before, penalty_after;
	char cutoff[32];
	size_t persons_listed; /* name cells put in the report */
	rp_report rep;

	recs person, episode, followup, ret, exposure, tally, txn, shipment, tip, penalty, notice,
	    merge;
	const char **merge_drop, **merge_keep; /* sorted by drop */
	size_t nmerge;
	monitored *mon; /* sorted by pid, one per person */
	size_t nmon;
	fu_ix *fu; /* followups sorted by person and time */
	/* Follow-ups before the window are not held: each person's are folded into one tally
	 * (the last date, whether a temperature was taken), keyed by the person as written, then
	 * by the person through merges (before_build). */
	struct fold {
		char *person; /* owned */
		char last[11];
		bool temp;
	} * fold, *before; /* fold: open addressing, power-of-two capacity; before: by person */
	size_t nfold, capfold, nbefore;
	size_t nfu;
	strs keys; /* key persons (category case or close), through merges */
	strs cases;
} rctx;

static void nomem(rctx *x)
{
	x->rep.nomem = true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void strs_add(rctx *x, strs *s, const char *v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		const char **nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			nomem(x);
			return;
		}
		s->v = nv, s->cap = cap;
	}
	s->v[s->n++] = v;
}

static void strs_sort_unique(strs *s)
{
	size_t o = 0;
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->v[i], s->v[o]) != 0)
			s->v[++o] = s->v[i];
	s->n = o + 1;
}

static bool strs_has(const strs *s, const char *v)
{
	return s->n && bsearch(&v, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static size_t strs_index(const strs *s, const char *v)
{
	const char **p = s->n ? bsearch(&v, s->v, s->n, sizeof(*s->v), cmp_str) : NULL;
	return p ? (size_t)(p - s->v) : (size_t)-1;
}

static void strs_release(strs *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- dates ---- */

static void date_minus(const char *d, long days, char out[11])
{
	if (!hm_date_add(d, -days, out))
		snprintf(out, 11, "%s", d);
}

/* The date of a followup's time (its first 10 characters), "" when it has none. */
static void time_date(const char *t, char out[11])
{
	size_t n = strnlen(t, 10);
	memcpy(out, t, n);
	out[n == 10 ? 10 : 0] = '\0';
}

static bool in_window(const rctx *x, const char *date)
{
	return *date && strcmp(date, x->from) > 0 && strcmp(date, x->date) <= 0;
}

/* ---- persons: merges, names, monitoring ---- */

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const char *const *)a)[0], ((const char *const *)b)[0]);
}

/* Merge records that hold: drop -> keep, sorted by drop. */
static void merges_build(rctx *x)
{
	const char **pairs = calloc(x->merge.n ? x->merge.n * 2 : 1, sizeof(*pairs));
	size_t k = 0;

	if (!pairs) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->merge.n; i++) {
		const rec *r = &x->merge.v[i];
		const char *state = fs(&x->merge, r, M_STATE);
		if (*state && strcmp(state, "merged") != 0)
			continue; /* undone */
		if (!has(r, M_DROP) || !has(r, M_KEEP))
			continue;
		pairs[2 * k] = fs(&x->merge, r, M_DROP);
		pairs[2 * k + 1] = fs(&x->merge, r, M_KEEP);
		k++;
	}
	qsort(pairs, k, 2 * sizeof(*pairs), cmp_pair);
	x->merge_drop = pairs, x->nmerge = k;
}

/* The person a reference means: followed through merges (drop -> keep). */
static const char *pid(const rctx *x, const char *id)
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

static const rec *person_find(const rctx *x, const char *id)
{
	size_t lo = 0, hi = x->person.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(rid(&x->person, &x->person.v[mid]), id);
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
static const char *person_name(rctx *x, const char *id, char *buf, size_t cap)
{
	const rec *p = person_find(x, id);
	const char *name = p ? fs(&x->person, p, P_NAME) : "";

	x->persons_listed++;
	if (x->show_pii)
		return name;
	out_mask(name, strlen(name), buf, cap);
	return buf;
}

static const char *person_village(const rctx *x, const char *id)
{
	const rec *p = person_find(x, id);
	return p && has(p, P_VILLAGE) ? fs(&x->person, p, P_VILLAGE) : NULL;
}

/* Key persons (case or close) and cases: any record of the person says so. */
static void categories_build(rctx *x)
{
	for (size_t i = 0; i < x->person.n; i++) {
		const rec *r = &x->person.v[i];
		const char *cat = fs(&x->person, r, P_CATEGORY);
		if (!strcmp(cat, "case") || !strcmp(cat, "close"))
			strs_add(x, &x->keys, pid(x, rid(&x->person, r)));
		if (!strcmp(cat, "case"))
			strs_add(x, &x->cases, pid(x, rid(&x->person, r)));
	}
	strs_sort_unique(&x->keys);
	strs_sort_unique(&x->cases);
}

static bool episode_active(const rctx *x, const rec *e)
{
	const char *start = fs(&x->episode, e, E_START), *end = fs(&x->episode, e, E_END);
	return *start && strcmp(start, x->date) <= 0 && (!*end || strcmp(end, x->date) > 0);
}

static int cmp_monitored(const void *a, const void *b)
{
	const monitored *p = a, *q = b;
	int c = strcmp(p->pid, q->pid);
	/* Earliest start first, then id (records are in id order): the one a person counts
	 * under. */
	if (!c)
		c = strcmp(p->start, q->start);
	return c ? c : (p->ep < q->ep ? -1 : p->ep > q->ep);
}

/* Persons under monitoring on D, once each, under their active episode that started first. */
static void monitored_build(rctx *x)
{
	size_t k = 0, o = 0;

	if (!(x->mon = calloc(x->episode.n ? x->episode.n : 1, sizeof(*x->mon)))) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->episode.n; i++) {
		const rec *e = &x->episode.v[i];
		if (!episode_active(x, e) || !has(e, E_PERSON))
			continue;
		x->mon[k].pid = pid(x, fs(&x->episode, e, E_PERSON));
		x->mon[k].start = fs(&x->episode, e, E_START);
		x->mon[k].ep = e;
		k++;
	}
	qsort(x->mon, k, sizeof(*x->mon), cmp_monitored);
	for (size_t i = 0; i < k; i++)
		if (!o || strcmp(x->mon[o - 1].pid, x->mon[i].pid) != 0)
			x->mon[o++] = x->mon[i];
	x->nmon = o;
}

static const monitored *monitored_find(const rctx *x, const char *p)
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

static int cmp_fu(const void *a, const void *b)
{
	const fu_ix *p = a, *q = b;
	int c = strcmp(p->pid, q->pid);
	if (!c)
		c = strcmp(p->time, q->time);
	return c ? c : (p->r < q->r ? -1 : p->r > q->r);
}

static size_t fold_hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct fold *fold_slot(rctx *x, const char *person)
{
	if (2 * (x->nfold + 1) > x->capfold) {
		size_t cap = x->capfold ? 2 * x->capfold : 1024;
		struct fold *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; i < x->capfold; i++) {
			size_t h = fold_hash(x->fold[i].person ? x->fold[i].person : "");
			if (!x->fold[i].person)
				continue;
			while (v[h & (cap - 1)].person)
				h++;
			v[h & (cap - 1)] = x->fold[i];
		}
		free(x->fold);
		x->fold = v, x->capfold = cap;
	}
	for (size_t h = fold_hash(person);; h++) {
		struct fold *f = &x->fold[h & (x->capfold - 1)];
		if (!f->person) {
			if (!(f->person = strdup(person)))
				return NULL;
			x->nfold++;
			return f;
		}
		if (!strcmp(f->person, person))
			return f;
	}
}

/* Which follow-ups a report holds: those of the window (and of D). One after D counts for
 * nothing; one before the window only for its person's last date and whether a temperature
 * was ever taken, so it is folded into a tally and not held. */
static bool keep_followup(void *ctx, const hm_record *r)
{
	rctx *x = ctx;
	char t[32], d[11], person[HM_ID_MAX + 1];
	struct fold *f;

	time_date(hm_rec_text(r, "time", t, sizeof(t)) ? t : "", d);
	if (!*d || strcmp(d, x->date) > 0)
		return false;
	if (strcmp(d, x->from) > 0 || !strcmp(d, x->date))
		return true;
	if (!hm_rec_id(r, "person", person))
		return false;
	if (!(f = fold_slot(x, person))) {
		x->followup.nomem = true;
		return false;
	}
	if (strcmp(d, f->last) > 0)
		memcpy(f->last, d, sizeof(f->last));
	{
		const hm_field *temp = hm_record_field(r, "temperature");
		f->temp |= temp && temp->value.kind != HM_V_NIL; /* as has(F_TEMP) when held */
	}
	return false;
}

static int cmp_before(const void *a, const void *b)
{
	return strcmp(((const struct fold *)a)->person, ((const struct fold *)b)->person);
}

/* The folded tallies by person through merges: one per person, sorted. */
static void before_build(rctx *x)
{
	size_t k = 0;

	if (!x->nfold)
		return;
	if (!(x->before = calloc(x->nfold, sizeof(*x->before)))) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->capfold; i++)
		if (x->fold[i].person) {
			x->before[k] = x->fold[i];
			x->before[k++].person = (char *)pid(x, x->fold[i].person); /* borrowed */
		}
	qsort(x->before, k, sizeof(*x->before), cmp_before);
	x->nbefore = 0;
	for (size_t i = 0; i < k; i++) {
		struct fold *last = x->nbefore ? &x->before[x->nbefore - 1] : NULL;
		if (last && !strcmp(last->person, x->before[i].person)) {
			if (strcmp(x->before[i].last, last->last) > 0)
				memcpy(last->last, x->before[i].last, sizeof(last->last));
			last->temp |= x->before[i].temp;
		} else {
			x->before[x->nbefore++] = x->before[i];
		}
	}
}

/* Person p's follow-ups before the window, folded; NULL when none. */
static const struct fold *before_of(const rctx *x, const char *p)
{
	struct fold key = {(char *)p, "", false};
	return x->nbefore ? bsearch(&key, x->before, x->nbefore, sizeof(key), cmp_before) : NULL;
}

/* Every followup by person (through merges) and time, whatever its region. */
static void followups_index(rctx *x)
{
	if (!(x->fu = calloc(x->followup.n ? x->followup.n : 1, sizeof(*x->fu)))) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->followup.n; i++) {
		x->fu[i].pid = pid(x, fs(&x->followup, &x->followup.v[i], F_PERSON));
		x->fu[i].time = fs(&x->followup, &x->followup.v[i], F_TIME);
		x->fu[i].r = &x->followup.v[i];
	}
	x->nfu = x->followup.n;
	qsort(x->fu, x->nfu, sizeof(*x->fu), cmp_fu);
}

/* The followups of person p: fu[*lo .. *hi). */
static void followups_of(const rctx *x, const char *p, size_t *lo, size_t *hi)
{
	size_t a = 0, b = x->nfu;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (strcmp(x->fu[mid].pid, p) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < x->nfu && !strcmp(x->fu[a].pid, p))
		a++;
	*hi = a;
}

/* ---- groups: figures per village, rolled up per township and for the region asked ---- */

typedef struct group {
	const char *region;
	double v[GROUP_VALS];
} group;

typedef struct groups {
	group *v;
	size_t n, cap;
} groups;

/* Regions in tree order: a region, then everything inside it ('/' before any other byte), so a
 * township's villages come right after it even when another region's name extends its name. */
static int region_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1 : (unsigned char)*a,
		         cb = *b == '/' ? 1 : (unsigned char)*b;
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!ca)
			return 0;
	}
}

/* The figures of region r (created at zero). NULL only when memory ran out. */
static double *group_at(rctx *x, groups *g, const char *r)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = region_cmp(g->v[mid].region, r);
		if (c == 0)
			return g->v[mid].v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 32;
		group *v = realloc(g->v, cap * sizeof(*v));
		if (!v) {
			nomem(x);
			return NULL;
		}
		g->v = v, g->cap = cap;
	}
	memmove(&g->v[lo + 1], &g->v[lo], (g->n - lo) * sizeof(*g->v));
	memset(&g->v[lo], 0, sizeof(*g->v));
	g->v[lo].region = r;
	g->n++;
	return g->v[lo].v;
}

static void group_add(rctx *x, groups *g, const char *r, int i, double v)
{
	double *p = group_at(x, g, r);
	if (p)
		p[i] += v;
}

/* Writes one row of a per-village table from its figures; level is village, township or county
 * for a data row (by the depth of its region), subtotal or total. */
typedef void (*group_row_fn)(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                             const char *level, const double *v);

static void township_of(const char *r, char out[HM_REGION_MAX + 1])
{
	const char *slash = strchr(r, '/');
	if (slash)
		slash = strchr(slash + 1, '/');
	snprintf(out, HM_REGION_MAX + 1, "%.*s", (int)(slash ? (size_t)(slash - r) : strlen(r)), r);
}

static void sums_add(double *to, const double *v)
{
	for (int i = 0; i < GROUP_VALS; i++)
		to[i] += v[i];
}

static void groups_emit(rctx *x, const groups *g, rp_table *t, group_row_fn fn)
{
	static const char *const level[] = {"", "county", "township", "village"};
	double total[GROUP_VALS] = {0}, sub[GROUP_VALS] = {0};
	char town[HM_REGION_MAX + 1] = "", t2[HM_REGION_MAX + 1];
	bool subtotals = hm_region_depth(x->region) < 2, open = false;

	for (size_t i = 0; i < g->n; i++) {
		const group *gr = &g->v[i];
		int depth = hm_region_depth(gr->region);
		township_of(gr->region, t2);
		if (subtotals && open && strcmp(t2, town) != 0) {
			fn(x, t, RP_ROW_SUBTOTAL, town, "subtotal", sub);
			memset(sub, 0, sizeof(sub));
			open = false;
		}
		fn(x, t, RP_ROW_DATA, gr->region, level[depth < 0 || depth > 3 ? 0 : depth], gr->v);
		sums_add(total, gr->v);
		if (depth >= 2) {
			if (!open)
				memcpy(town, t2, sizeof(town));
			sums_add(sub, gr->v);
			open = true;
		}
	}
	if (subtotals && open)
		fn(x, t, RP_ROW_SUBTOTAL, town, "subtotal", sub);
	fn(x, t, RP_ROW_TOTAL, x->region, "total", total);
}

/* a / b as a percentage with one decimal; no figure when b is 0. */
static double pct(double a, double b)
{
	return b > 0 ? a * 100 / b : NAN;
}

/* Figures are sums of whole numbers kept in doubles: round, do not truncate. */
static long long ll(double v)
{
	return (long long)(v < 0 ? v - 0.5 : v + 0.5);
}

/* ---- daily ---- */

enum {
	D_MON,
	D_HOME,
	D_CENTRAL,
	D_MONITORING, /* kinds */
	D_RETURNEE,
	D_CLOSE,
	D_SECOND,
	D_CASE,
	D_FEVER,
	D_OTHER, /* reasons */
	D_NEW,
	D_RELEASED,
	D_RET_NEW,
	D_RET_CUM,
	D_RET_WUHAN,
	D_RET_HUBEI,
	D_RET_OTHER,
	D_FEV_FU,
	D_FEV_CP,
};

static int word_index(const char *w, const char *const *words, int n, int other)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(w, words[i]))
			return i;
	return other;
}

static void daily_monitored_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                                const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssdddddddddddd", region, level, ll(v[D_MON]), ll(v[D_HOME]),
	           ll(v[D_CENTRAL]), ll(v[D_MONITORING]), ll(v[D_RETURNEE]), ll(v[D_CLOSE]),
	           ll(v[D_SECOND]), ll(v[D_CASE]), ll(v[D_FEVER]), ll(v[D_OTHER]), ll(v[D_NEW]),
	           ll(v[D_RELEASED]));
}

static void daily_returnee_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                               const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssddddd", region, level, ll(v[D_RET_NEW]), ll(v[D_RET_CUM]),
	           ll(v[D_RET_WUHAN]), ll(v[D_RET_HUBEI]), ll(v[D_RET_OTHER]));
}

static void daily_fever_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                            const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssddd", region, level, ll(v[D_FEV_FU]), ll(v[D_FEV_CP]),
	           ll(v[D_FEV_FU] + v[D_FEV_CP]));
}

typedef struct ret_ix {
	const char *pid, *registered;
	const rec *r;
} ret_ix;

static int cmp_ret(const void *a, const void *b)
{
	const ret_ix *p = a, *q = b;
	int c = strcmp(p->pid, q->pid);
	if (!c)
		c = strcmp(p->registered, q->registered);
	return c ? c : (p->r < q->r ? -1 : p->r > q->r);
}

/* A returnee counts once, from the first of its return records to be registered. */
static void daily_returnees(rctx *x, groups *g)
{
	static const char *const areas[] = {"wuhan", "hubei"};
	ret_ix *v = calloc(x->ret.n ? x->ret.n : 1, sizeof(*v));
	size_t k = 0;

	if (!v) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->ret.n; i++) {
		const rec *r = &x->ret.v[i];
		if (!has(r, R_REGISTERED) || !has(r, R_PERSON))
			continue;
		v[k].pid = pid(x, fs(&x->ret, r, R_PERSON));
		v[k].registered = fs(&x->ret, r, R_REGISTERED);
		v[k++].r = r;
	}
	qsort(v, k, sizeof(*v), cmp_ret);
	for (size_t i = 0; i < k; i++) {
		const rec *r = v[i].r;
		int area;
		if ((i && !strcmp(v[i - 1].pid, v[i].pid)) || !r->in ||
		    strcmp(v[i].registered, x->date) > 0)
			continue;
		area = word_index(fs(&x->ret, r, R_FROM), areas, 2, 2);
		group_add(x, g, r->region, D_RET_CUM, 1);
		group_add(x, g, r->region, D_RET_WUHAN + area, 1);
		if (!strcmp(v[i].registered, x->date))
			group_add(x, g, r->region, D_RET_NEW, 1);
	}
	free(v);
}

static void daily_compute(rctx *x, groups *g)
{
	static const char *const kinds[] = {"home", "central", "monitoring"};
	static const char *const reasons[] = {"returnee", "close", "second", "case", "fever"};
	char d[11];

	for (size_t i = 0; i < x->nmon; i++) {
		const rec *e = x->mon[i].ep;
		int kind = word_index(fs(&x->episode, e, E_KIND), kinds, 3, -1);
		if (!e->in)
			continue;
		group_add(x, g, e->region, D_MON, 1);
		if (kind >= 0)
			group_add(x, g, e->region, D_HOME + kind, 1);
		group_add(x, g, e->region,
		          D_RETURNEE + word_index(fs(&x->episode, e, E_REASON), reasons, 5, 5), 1);
	}
	for (size_t i = 0; i < x->episode.n; i++) {
		const rec *e = &x->episode.v[i];
		if (!e->in)
			continue;
		if (!strcmp(fs(&x->episode, e, E_START), x->date))
			group_add(x, g, e->region, D_NEW, 1);
		if (!strcmp(fs(&x->episode, e, E_END), x->date))
			group_add(x, g, e->region, D_RELEASED, 1);
	}
	daily_returnees(x, g);
	for (size_t i = 0; i < x->followup.n; i++) {
		const rec *f = &x->followup.v[i];
		time_date(fs(&x->followup, f, F_TIME), d);
		if (f->in && !strcmp(d, x->date) && has(f, F_TEMP) && f->x[F_TEMP] >= x->threshold)
			group_add(x, g, f->region, D_FEV_FU, 1);
	}
	for (size_t i = 0; i < x->tally.n; i++) {
		const rec *r = &x->tally.v[i];
		if (r->in && !strcmp(fs(&x->tally, r, T_DATE), x->date))
			group_add(x, g, r->region, D_FEV_CP, r->x[T_FEVER]);
	}
}

static int report_daily(rctx *x)
{
	static const char *const mon_cols[] = {
	    "region", "level", "monitored", "home",  "central", "monitoring", "returnee", "close",
	    "second", "case",  "fever",     "other", "new",     "released",   NULL};
	static const char *const ret_cols[] = {"region", "level", "new",   "cumulative",
	                                       "wuhan",  "hubei", "other", NULL};
	static const char *const fev_cols[] = {"region",      "level", "followups",
	                                       "checkpoints", "total", NULL};
	groups g = {0};
	rp_table *t;

	daily_compute(x, &g);
	t = rp_table_add(&x->rep, "under_monitoring",
	                 "Under monitoring by kind and reason; episodes started and ended today",
	                 mon_cols);
	if (t)
		t->chart = 2, t->chart_label = 0;
	groups_emit(x, &g, t, daily_monitored_row);
	t = rp_table_add(&x->rep, "returnees",
	                 "Returnees registered: today, to date, and by where they came from",
	                 ret_cols);
	groups_emit(x, &g, t, daily_returnee_row);
	t = rp_table_add(&x->rep, "fevers",
	                 "Fevers found today: at followups (at or above the threshold) and at "
	                 "checkpoints",
	                 fev_cols);
	groups_emit(x, &g, t, daily_fever_row);
	free(g.v);
	return EXIT_OK;
}

/* ---- monitoring (gap 3) ---- */

enum { M_EXPECTED, M_DONE, M_FOLLOWUPS, M_PHONE };

static void monitoring_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                           const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssddfddf", region, level, ll(v[M_EXPECTED]), ll(v[M_DONE]),
	           pct(v[M_DONE], v[M_EXPECTED]), ll(v[M_FOLLOWUPS]), ll(v[M_PHONE]),
	           pct(v[M_PHONE], v[M_FOLLOWUPS]));
}

static long checks_per_day(const rec *e)
{
	return has(e, E_CPD) && e->x[E_CPD] >= 0 ? (long)e->x[E_CPD] : 2;
}

static void monitoring_compliance(rctx *x, groups *g)
{
	char d[11];

	for (size_t i = 0; i < x->nmon; i++) {
		const rec *e = x->mon[i].ep;
		long cpd = checks_per_day(e), today = 0;
		size_t lo, hi;
		if (!e->in)
			continue;
		followups_of(x, x->mon[i].pid, &lo, &hi);
		for (size_t j = lo; j < hi; j++) {
			time_date(x->fu[j].time, d);
			today += !strcmp(d, x->date);
		}
		group_add(x, g, e->region, M_EXPECTED, (double)cpd);
		group_add(x, g, e->region, M_DONE, (double)(today < cpd ? today : cpd));
	}
	for (size_t i = 0; i < x->followup.n; i++) {
		const rec *f = &x->followup.v[i];
		time_date(fs(&x->followup, f, F_TIME), d);
		if (!f->in || strcmp(d, x->date) != 0)
			continue;
		group_add(x, g, f->region, M_FOLLOWUPS, 1);
		if (!strcmp(fs(&x->followup, f, F_METHOD), "phone"))
			group_add(x, g, f->region, M_PHONE, 1);
	}
}

/* Persons under monitoring not seen in the window, and those only phoned in it. */
static void monitoring_lists(rctx *x, rp_table *unseen, rp_table *phone)
{
	char d[11], last[11], name[512];

	for (size_t i = 0; i < x->nmon; i++) {
		const rec *e = x->mon[i].ep;
		const char *p = x->mon[i].pid;
		long in_win = 0, phoned = 0;
		size_t lo, hi;
		if (!e->in)
			continue;
		last[0] = '\0';
		{
			const struct fold *t = before_of(x, p);
			if (t)
				memcpy(last, t->last, sizeof(last));
		}
		followups_of(x, p, &lo, &hi);
		for (size_t j = lo; j < hi; j++) {
			time_date(x->fu[j].time, d);
			if (!*d || strcmp(d, x->date) > 0)
				continue;
			memcpy(last, d, sizeof(last)); /* sorted by time: the last one stays */
			if (in_window(x, d)) {
				in_win++;
				phoned += !strcmp(fs(&x->followup, x->fu[j].r, F_METHOD), "phone");
			}
		}
		if (in_win == 0)
			rp_row_add(&x->rep, unseen, RP_ROW_DATA, "ssss", p,
			           person_name(x, p, name, sizeof(name)), e->region,
			           *last ? last : "never");
		else if (phoned == in_win)
			rp_row_add(&x->rep, phone, RP_ROW_DATA, "sssd", p,
			           person_name(x, p, name, sizeof(name)), e->region,
			           (long long)in_win);
	}
}

static int cmp_fu_time(const void *a, const void *b)
{
	const fu_ix *p = a, *q = b;
	int c = strcmp(p->time, q->time);
	return c ? c : (p->r < q->r ? -1 : p->r > q->r);
}

static void monitoring_fevers(rctx *x, rp_table *t)
{
	fu_ix *v = calloc(x->nfu ? x->nfu : 1, sizeof(*v));
	size_t k = 0;
	char d[11], name[512];

	if (!v) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->nfu; i++) {
		const rec *f = x->fu[i].r;
		time_date(x->fu[i].time, d);
		if (f->in && in_window(x, d) && has(f, F_TEMP) && f->x[F_TEMP] >= x->threshold)
			v[k++] = x->fu[i];
	}
	qsort(v, k, sizeof(*v), cmp_fu_time);
	for (size_t i = 0; i < k; i++) {
		const rec *f = v[i].r;
		const char *action = fs(&x->followup, f, F_ACTION);
		rp_row_add(&x->rep, t, RP_ROW_DATA, "ssssfss", v[i].pid,
		           person_name(x, v[i].pid, name, sizeof(name)), f->region, v[i].time,
		           f->x[F_TEMP], *action ? action : NULL, *action ? "yes" : "no");
	}
	free(v);
}

/* Whether person p had a temperature taken on or before D. */
static bool temperature_taken(const rctx *x, const char *p)
{
	const struct fold *t = before_of(x, p);
	size_t lo, hi;
	char d[11];

	if (t && t->temp)
		return true;
	followups_of(x, p, &lo, &hi);
	for (size_t j = lo; j < hi; j++) {
		time_date(x->fu[j].time, d);
		if (*d && strcmp(d, x->date) <= 0 && has(x->fu[j].r, F_TEMP))
			return true;
	}
	return false;
}

static void monitoring_contacts(rctx *x, rp_table *t)
{
	strs seen = {0};
	char name[512];

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rec *r = &x->exposure.v[i];
		const char *src = pid(x, fs(&x->exposure, r, X_SOURCE));
		const char *p = pid(x, fs(&x->exposure, r, X_CONTACT));
		if (!r->in || !strs_has(&x->keys, src) || !strcmp(src, p))
			continue;
		strs_add(x, &seen, p);
	}
	strs_sort_unique(&seen);
	for (size_t i = 0; i < seen.n; i++) {
		const char *p = seen.v[i];
		if (temperature_taken(x, p))
			continue;
		rp_row_add(&x->rep, t, RP_ROW_DATA, "sss", p, person_name(x, p, name, sizeof(name)),
		           person_village(x, p));
	}
	strs_release(&seen);
}

static int report_monitoring(rctx *x)
{
	static const char *const cols[] = {"region", "level",          "expected",
	                                   "done",   "compliance_pct", "followups",
	                                   "phone",  "phone_pct",      NULL};
	static const char *const unseen_cols[] = {"person", "name", "village", "last_followup",
	                                          NULL};
	static const char *const phone_cols[] = {"person", "name", "village", "followups", NULL};
	static const char *const fever_cols[] = {"person",      "name",   "village", "time",
	                                         "temperature", "action", "acted",   NULL};
	static const char *const contact_cols[] = {"person", "name", "village", NULL};
	groups g = {0};
	rp_table *t, *unseen, *phone;

	monitoring_compliance(x, &g);
	t = rp_table_add(&x->rep, "compliance",
	                 "Temperature checks today against checks due (compliance %), and the "
	                 "share done by phone",
	                 cols);
	if (t)
		t->chart = 4, t->chart_label = 0;
	groups_emit(x, &g, t, monitoring_row);
	free(g.v);
	unseen = rp_table_add(&x->rep, "not_seen", "Under monitoring, not seen in the last N days",
	                      unseen_cols);
	phone = rp_table_add(&x->rep, "phone_only",
	                     "Under monitoring, only phoned in the last N days", phone_cols);
	monitoring_lists(x, unseen, phone);
	t = rp_table_add(&x->rep, "fever_alerts",
	                 "Fever alerts in the last N days, and whether anyone acted", fever_cols);
	monitoring_fevers(x, t);
	t = rp_table_add(
	    &x->rep, "contacts_no_temperature",
	    "Contacts of key persons (cases, close contacts) with no temperature taken",
	    contact_cols);
	monitoring_contacts(x, t);
	return EXIT_OK;
}

/* ---- contacts (gap 2) ---- */

enum { C_EXPOSURES, C_CLOSE, C_SECOND };

static void contacts_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                         const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssddd", region, level, ll(v[C_EXPOSURES]), ll(v[C_CLOSE]),
	           ll(v[C_SECOND]));
}

/* The exposure graph, undirected, over persons through merges: nodes sorted by id, and each
 * node's neighbours adj[off[i] .. off[i + 1]) in id order. */
typedef struct graph {
	strs nodes;
	size_t *off, *adj;
} graph;

typedef struct edge {
	size_t a, b;
} edge;

static int cmp_edge(const void *p, const void *q)
{
	const edge *a = p, *b = q;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static void graph_build(rctx *x, graph *gr)
{
	edge *e = calloc(x->exposure.n ? 2 * x->exposure.n : 1, sizeof(*e));
	size_t k = 0;

	memset(gr, 0, sizeof(*gr));
	if (!e) {
		nomem(x);
		return;
	}
	for (size_t i = 0; i < x->exposure.n; i++) {
		const rec *r = &x->exposure.v[i];
		if (!r->in)
			continue;
		strs_add(x, &gr->nodes, pid(x, fs(&x->exposure, r, X_SOURCE)));
		strs_add(x, &gr->nodes, pid(x, fs(&x->exposure, r, X_CONTACT)));
	}
	strs_sort_unique(&gr->nodes);
	for (size_t i = 0; i < x->exposure.n; i++) {
		const rec *r = &x->exposure.v[i];
		size_t a, b;
		if (!r->in)
			continue;
		a = strs_index(&gr->nodes, pid(x, fs(&x->exposure, r, X_SOURCE)));
		b = strs_index(&gr->nodes, pid(x, fs(&x->exposure, r, X_CONTACT)));
		if (a == (size_t)-1 || b == (size_t)-1 || a == b)
			continue;
		e[k++] = (edge){a, b};
		e[k++] = (edge){b, a};
	}
	qsort(e, k, sizeof(*e), cmp_edge);
	gr->off = calloc(gr->nodes.n + 1, sizeof(*gr->off));
	gr->adj = calloc(k ? k : 1, sizeof(*gr->adj));
	if (!gr->off || !gr->adj) {
		nomem(x);
		free(e);
		free(gr->off), free(gr->adj);
		gr->off = NULL, gr->adj = NULL;
		strs_release(&gr->nodes); /* an empty graph: nothing walks it */
		return;
	}
	for (size_t i = 0; i < k; i++) {
		gr->off[e[i].a + 1]++;
		gr->adj[i] = e[i].b;
	}
	for (size_t i = 0; i < gr->nodes.n; i++)
		gr->off[i + 1] += gr->off[i];
	free(e);
}

static void graph_release(graph *gr)
{
	strs_release(&gr->nodes);
	free(gr->off);
	free(gr->adj);
}

/* "a > b > c": the path from the start to node i, through the BFS parents. */
static void path_text(const graph *gr, const size_t *parent, size_t i, char *buf, size_t cap)
{
	size_t chain[4096], n = 0, o = 0;

	for (size_t j = i; n < 4096; j = parent[j]) {
		chain[n++] = j;
		if (parent[j] == j)
			break;
	}
	buf[0] = '\0';
	while (n-- && o < cap)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? " > " : "",
		                      gr->nodes.v[chain[n]]);
}

static int contacts_walk(rctx *x, const graph *gr, rp_table *t)
{
	const char *start = pid(x, x->start);
	size_t s = strs_index(&gr->nodes, start), head = 0, tail = 0;
	size_t *parent = NULL, *dist = NULL, *queue = NULL;
	char name[512], *path = NULL;
	int rc = EXIT_OK;

	if (s == (size_t)-1) {
		/* A person with no exposure is a graph of one; an unknown id is a mistake. */
		if (!person_find(x, start) && !person_find(x, x->start))
			return cli_fail(x->c, EXIT_FAIL, "no person '%s' on this node", x->start);
		rp_row_add(&x->rep, t, RP_ROW_DATA, "ssds", start,
		           person_name(x, start, name, sizeof(name)), 0LL, start);
		return EXIT_OK;
	}
	parent = malloc(gr->nodes.n * sizeof(*parent));
	dist = malloc(gr->nodes.n * sizeof(*dist));
	queue = malloc(gr->nodes.n * sizeof(*queue));
	path = malloc(HM_STR_MAX);
	if (!parent || !dist || !queue || !path) {
		nomem(x);
		goto out;
	}
	for (size_t i = 0; i < gr->nodes.n; i++)
		dist[i] = (size_t)-1;
	dist[s] = 0, parent[s] = s, queue[tail++] = s;
	while (head < tail) {
		size_t u = queue[head++];
		path_text(gr, parent, u, path, HM_STR_MAX);
		rp_row_add(&x->rep, t, RP_ROW_DATA, "ssds", gr->nodes.v[u],
		           person_name(x, gr->nodes.v[u], name, sizeof(name)), (long long)dist[u],
		           path);
		if (x->depth >= 0 && dist[u] >= (size_t)x->depth)
			continue;
		for (size_t j = gr->off[u]; j < gr->off[u + 1]; j++) {
			size_t v = gr->adj[j];
			if (dist[v] != (size_t)-1)
				continue;
			dist[v] = dist[u] + 1, parent[v] = u, queue[tail++] = v;
		}
	}
out:
	free(parent);
	free(dist);
	free(queue);
	free(path);
	return rc;
}

typedef struct chain {
	size_t first, size; /* first: its smallest node, so equal sizes keep id order */
	bool has_case;
} chain;

static int cmp_chain(const void *p, const void *q)
{
	const chain *a = p, *b = q;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Connected groups of the graph, largest first, each with its persons in id order. */
static void contacts_chains(rctx *x, const graph *gr, rp_table *t)
{
	size_t n = gr->nodes.n, nchains = 0, *comp = malloc((n ? n : 1) * sizeof(size_t));
	size_t *queue = malloc((n ? n : 1) * sizeof(size_t));
	chain *chains = calloc(n ? n : 1, sizeof(*chains));
	char *persons = NULL;

	if (!comp || !queue || !chains || !(persons = malloc(HM_STR_MAX * 4))) {
		nomem(x);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		comp[i] = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t head = 0, tail = 0;
		chain *c = &chains[nchains];
		if (comp[i] != (size_t)-1)
			continue;
		c->first = i;
		comp[i] = nchains, queue[tail++] = i;
		while (head < tail) {
			size_t u = queue[head++];
			c->size++;
			c->has_case |= strs_has(&x->cases, gr->nodes.v[u]);
			for (size_t j = gr->off[u]; j < gr->off[u + 1]; j++)
				if (comp[gr->adj[j]] == (size_t)-1)
					comp[gr->adj[j]] = nchains, queue[tail++] = gr->adj[j];
		}
		nchains++;
	}
	qsort(chains, nchains, sizeof(*chains), cmp_chain);
	for (size_t k = 0; k < nchains; k++) {
		size_t o = 0, id = comp[chains[k].first];
		persons[0] = '\0';
		/* Nodes are in id order, so a walk over them lists each chain's persons sorted. */
		size_t listed = 0;
		for (size_t i = chains[k].first; i < n; i++) {
			size_t len;
			if (comp[i] != id)
				continue;
			len = strlen(gr->nodes.v[i]) + 1;
			if (o + len + 32 >= HM_STR_MAX * 4) {
				/* a whole id or none, and say how many are left out */
				snprintf(persons + o, HM_STR_MAX * 4 - o, " (and %zu more)",
				         chains[k].size - listed);
				break;
			}
			o += (size_t)snprintf(persons + o, HM_STR_MAX * 4 - o, "%s%s", o ? " " : "",
			                      gr->nodes.v[i]);
			listed++;
		}
		rp_row_add(&x->rep, t, RP_ROW_DATA, "ddss", (long long)(k + 1),
		           (long long)chains[k].size, persons, chains[k].has_case ? "yes" : "no");
	}
out:
	free(comp);
	free(queue);
	free(chains);
	free(persons);
}

static void contacts_lists(rctx *x, rp_table *unlisted, rp_table *second)
{
	strs sources = {0}, close = {0}, far = {0};
	char name[512];

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rec *r = &x->exposure.v[i];
		const char *p = pid(x, fs(&x->exposure, r, X_CONTACT));
		if (!r->in)
			continue;
		strs_add(x, &sources, pid(x, fs(&x->exposure, r, X_SOURCE)));
		if (has(r, X_DEGREE) && r->x[X_DEGREE] == 1)
			strs_add(x, &close, p);
		else if (has(r, X_DEGREE) && r->x[X_DEGREE] == 2)
			strs_add(x, &far, p);
	}
	strs_sort_unique(&sources);
	strs_sort_unique(&close);
	strs_sort_unique(&far);
	for (size_t i = 0; i < close.n; i++)
		if (!strs_has(&sources, close.v[i]))
			rp_row_add(&x->rep, unlisted, RP_ROW_DATA, "sss", close.v[i],
			           person_name(x, close.v[i], name, sizeof(name)),
			           person_village(x, close.v[i]));
	for (size_t i = 0; i < far.n; i++)
		if (!monitored_find(x, far.v[i]))
			rp_row_add(&x->rep, second, RP_ROW_DATA, "sss", far.v[i],
			           person_name(x, far.v[i], name, sizeof(name)),
			           person_village(x, far.v[i]));
	strs_release(&sources);
	strs_release(&close);
	strs_release(&far);
}

static int report_contacts(rctx *x)
{
	static const char *const cols[] = {"region", "level", "exposures", "close", "second", NULL};
	static const char *const walk_cols[] = {"person", "name", "distance", "path", NULL};
	static const char *const list_cols[] = {"person", "name", "village", NULL};
	static const char *const chain_cols[] = {"chain", "size", "persons", "case", NULL};
	groups g = {0};
	graph gr;
	rp_table *t, *t2;
	int rc = EXIT_OK;

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rec *r = &x->exposure.v[i];
		if (!r->in)
			continue;
		group_add(x, &g, r->region, C_EXPOSURES, 1);
		if (has(r, X_DEGREE) && (r->x[X_DEGREE] == 1 || r->x[X_DEGREE] == 2))
			group_add(x, &g, r->region, r->x[X_DEGREE] == 1 ? C_CLOSE : C_SECOND, 1);
	}
	t = rp_table_add(&x->rep, "exposures",
	                 "Exposures listed: close (degree 1) and second-degree (degree 2)", cols);
	if (t)
		t->chart = 2, t->chart_label = 0;
	groups_emit(x, &g, t, contacts_row);
	free(g.v);
	graph_build(x, &gr);
	if (x->start) {
		t = rp_table_add(&x->rep, "graph",
		                 "The contact graph from the person asked: each person reached, "
		                 "its distance and the path",
		                 walk_cols);
		if ((rc = contacts_walk(x, &gr, t)))
			goto out;
	}
	t = rp_table_add(&x->rep, "close_unlisted",
	                 "Close contacts whose own contacts have not been listed", list_cols);
	t2 = rp_table_add(&x->rep, "second_unmonitored",
	                  "Second-degree contacts not under monitoring", list_cols);
	contacts_lists(x, t, t2);
	t = rp_table_add(&x->rep, "chains",
	                 "Chains: connected groups of contacts, largest first, and whether they "
	                 "hold a case",
	                 chain_cols);
	contacts_chains(x, &gr, t);
out:
	graph_release(&gr);
	return rc;
}

/* ---- supplies (gap 1) ---- */

enum {
	U_RECEIVED,
	U_TRANSFER_IN,
	U_ISSUED,
	U_TRANSFER_OUT,
	U_CONSUMED,
	U_COUNTED,
	U_USE, /* issued and consumed within the window */
	U_REQUESTED,
	U_INTERCEPTED,
	U_VALS
};

typedef struct stock_key {
	const char *item, *store;
	double v[U_VALS];
} stock_key;

typedef struct stock {
	stock_key *v;
	size_t n, cap;
} stock;

static int cmp_stock(const void *p, const void *q)
{
	const stock_key *a = p, *b = q;
	int c = strcmp(a->item, b->item);
	return c ? c : strcmp(a->store, b->store);
}

static double *stock_at(rctx *x, stock *s, const char *item, const char *store)
{
	stock_key key = {.item = item, .store = store};
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_stock(&s->v[mid], &key);
		if (c == 0)
			return s->v[mid].v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		stock_key *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			nomem(x);
			return NULL;
		}
		s->v = v, s->cap = cap;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*s->v));
	s->v[lo] = key;
	s->n++;
	return s->v[lo].v;
}

static void stock_add(rctx *x, stock *s, const char *item, const char *store, int i, double q)
{
	double *v = stock_at(x, s, item, store);
	if (v)
		v[i] += q;
}

static bool txn_counts(const rctx *x, const rec *r)
{
	return strcmp(fs(&x->txn, r, S_DATE), x->date) <= 0;
}

static void supplies_stock(rctx *x, stock *s)
{
	static const char *const moves[] = {"received", "transfer",  "issued",     "consumed",
	                                    "counted",  "requested", "intercepted"};
	for (size_t i = 0; i < x->txn.n; i++) {
		const rec *r = &x->txn.v[i];
		const char *item = fs(&x->txn, r, S_ITEM), *store = fs(&x->txn, r, S_STORE);
		double q = r->x[S_QTY];
		if (!r->in || !txn_counts(x, r))
			continue;
		switch (word_index(fs(&x->txn, r, S_MOVEMENT), moves, 7, -1)) {
		case 0:
			stock_add(x, s, item, store, U_RECEIVED, q);
			break;
		case 1:
			stock_add(x, s, item, store, U_TRANSFER_OUT, q);
			if (has(r, S_TO))
				stock_add(x, s, item, fs(&x->txn, r, S_TO), U_TRANSFER_IN, q);
			break;
		case 2:
		case 3:
			stock_add(x, s, item, store,
			          !strcmp(fs(&x->txn, r, S_MOVEMENT), "issued") ? U_ISSUED
			                                                        : U_CONSUMED,
			          q);
			if (in_window(x, fs(&x->txn, r, S_DATE)))
				stock_add(x, s, item, store, U_USE, q);
			break;
		case 4:
			stock_add(x, s, item, store, U_COUNTED, q);
			break;
		case 5:
			stock_add(x, s, item, store, U_REQUESTED, q);
			break;
		case 6: /* never reached the store: not on hand */
			stock_add(x, s, item, store, U_INTERCEPTED, q);
			break;
		default: /* a movement of a newer version */
			break;
		}
	}
}

static void supplies_stock_rows(rctx *x, const stock *s, rp_table *t)
{
	for (size_t i = 0; i < s->n; i++) {
		const double *v = s->v[i].v;
		double on_hand = v[U_RECEIVED] + v[U_TRANSFER_IN] - v[U_ISSUED] -
		                 v[U_TRANSFER_OUT] - v[U_CONSUMED] + v[U_COUNTED];
		double use = v[U_USE] / (double)x->days;
		double gap = v[U_REQUESTED] - v[U_RECEIVED];
		rp_row_add(&x->rep, t, RP_ROW_DATA, "ssdddddddffdd", s->v[i].item, s->v[i].store,
		           ll(v[U_RECEIVED]), ll(v[U_TRANSFER_IN]), ll(v[U_ISSUED]),
		           ll(v[U_TRANSFER_OUT]), ll(v[U_CONSUMED]), ll(v[U_COUNTED]), ll(on_hand),
		           use, use > 0 ? on_hand / use : NAN, ll(v[U_REQUESTED]),
		           ll(gap > 0 ? gap : 0));
	}
}

/* Intercepted quantities per item, over every store. */
static void supplies_intercepted(rctx *x, const stock *s, rp_table *t)
{
	for (size_t i = 0; i < s->n;) {
		size_t j = i;
		double q = 0;
		for (; j < s->n && !strcmp(s->v[j].item, s->v[i].item); j++)
			q += s->v[j].v[U_INTERCEPTED];
		if (q != 0)
			rp_row_add(&x->rep, t, RP_ROW_DATA, "sd", s->v[i].item, ll(q));
		i = j;
	}
}

/* One row per item a shipment carried: dispatched (its lines), received and intercepted (the
 * movements that name it). */
static void supplies_shipment(rctx *x, const rec *sh, rp_table *t)
{
	const char *id = rid(&x->shipment, sh);
	stock per = {0}; /* item -> {dispatched, received, intercepted} in v[0..2] */
	char *lines = strdup(fs(&x->shipment, sh, H_LINES)), *save = NULL;

	if (!lines) {
		nomem(x);
		return;
	}
	for (char *tok = strtok_r(lines, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		while (*tok == ' ')
			tok++;
		if (!colon || colon == tok)
			continue;
		*colon = '\0';
		stock_add(x, &per, tok, "", 0, strtod(colon + 1, NULL));
	}
	for (size_t i = 0; i < x->txn.n; i++) {
		const rec *r = &x->txn.v[i];
		const char *m = fs(&x->txn, r, S_MOVEMENT);
		if (strcmp(fs(&x->txn, r, S_SHIPMENT), id) != 0 || !txn_counts(x, r))
			continue;
		if (!strcmp(m, "received"))
			stock_add(x, &per, fs(&x->txn, r, S_ITEM), "", 1, r->x[S_QTY]);
		else if (!strcmp(m, "intercepted"))
			stock_add(x, &per, fs(&x->txn, r, S_ITEM), "", 2, r->x[S_QTY]);
	}
	if (per.n == 0)
		rp_row_add(&x->rep, t, RP_ROW_DATA, "sssssnnn", id, fs(&x->shipment, sh, H_FROM),
		           fs(&x->shipment, sh, H_TO), fs(&x->shipment, sh, H_STATUS), NULL);
	for (size_t i = 0; i < per.n; i++)
		rp_row_add(&x->rep, t, RP_ROW_DATA, "sssssddd", id, fs(&x->shipment, sh, H_FROM),
		           fs(&x->shipment, sh, H_TO), fs(&x->shipment, sh, H_STATUS),
		           per.v[i].item, ll(per.v[i].v[0]), ll(per.v[i].v[1]), ll(per.v[i].v[2]));
	free(per.v);
	free(lines);
}

static int report_supplies(rctx *x)
{
	static const char *const cols[] = {
	    "item",          "store",     "received", "transfer_in", "issued",
	    "transfer_out",  "consumed",  "counted",  "on_hand",     "daily_use",
	    "days_of_cover", "requested", "gap",      NULL};
	static const char *const ship_cols[] = {"shipment", "from",        "to",
	                                        "status",   "item",        "dispatched",
	                                        "received", "intercepted", NULL};
	static const char *const int_cols[] = {"item", "intercepted", NULL};
	stock s = {0};
	rp_table *t;

	supplies_stock(x, &s);
	t = rp_table_add(&x->rep, "stock",
	                 "Stock on hand per item and store, daily use over the last N days, days "
	                 "of cover, and the gap against requests",
	                 cols);
	if (t)
		t->chart = 8, t->chart_label = 0, t->chart_label2 = 1;
	supplies_stock_rows(x, &s, t);
	t = rp_table_add(&x->rep, "shipments",
	                 "Shipments: quantities dispatched, received and intercepted", ship_cols);
	for (size_t i = 0; i < x->shipment.n; i++)
		if (x->shipment.v[i].in)
			supplies_shipment(x, &x->shipment.v[i], t);
	t = rp_table_add(&x->rep, "intercepted", "Intercepted quantities per item", int_cols);
	supplies_intercepted(x, &s, t);
	free(s.v);
	return EXIT_OK;
}

/* ---- compounds (gap 4) ---- */

enum { K_COMPOUNDS, K_MONITORED, K_PROPERTY_NOT_TOLD, K_RESIDENTS_NOT_TOLD };

static void compounds_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                          const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssdddd", region, level, ll(v[K_COMPOUNDS]),
	           ll(v[K_MONITORED]), ll(v[K_PROPERTY_NOT_TOLD]), ll(v[K_RESIDENTS_NOT_TOLD]));
}

/* Whether a notice with audience reached compound (of village) on or before D. */
static bool told(const rctx *x, const char *village, const char *compound, const char *audience)
{
	for (size_t i = 0; i < x->notice.n; i++) {
		const rec *r = &x->notice.v[i];
		if (!strcmp(r->region, village) &&
		    !strcmp(fs(&x->notice, r, O_COMPOUND), compound) &&
		    !strcmp(fs(&x->notice, r, O_AUDIENCE), audience) &&
		    strcmp(fs(&x->notice, r, O_DATE), x->date) <= 0)
			return true;
	}
	return false;
}

/* Compounds as stock keys: item = village, store = compound, v[0] = persons monitored. */
static int report_compounds(rctx *x)
{
	static const char *const cols[] = {
	    "region", "level", "compounds", "monitored", "property_not_told", "residents_not_told",
	    NULL};
	static const char *const comp_cols[] = {"village",       "compound",       "monitored",
	                                        "property_told", "residents_told", NULL};
	static const char *const list_cols[] = {"village", "compound", "monitored", NULL};
	stock s = {0};
	groups g = {0};
	rp_table *t, *tc, *tp, *tr;

	for (size_t i = 0; i < x->nmon; i++) {
		const rec *p = person_find(x, x->mon[i].pid);
		if (!p || !p->in || !has(p, P_COMPOUND))
			continue;
		stock_add(x, &s, p->region, fs(&x->person, p, P_COMPOUND), 0, 1);
	}
	t = rp_table_add(&x->rep, "villages",
	                 "Compounds with someone under monitoring, and those not told", cols);
	if (t)
		t->chart = 3, t->chart_label = 0;
	tc = rp_table_add(&x->rep, "compounds", "Persons under monitoring per compound", comp_cols);
	tp = rp_table_add(&x->rep, "property_not_told",
	                  "Compounds whose property management has not been told", list_cols);
	tr = rp_table_add(&x->rep, "residents_not_told",
	                  "Compounds whose residents have not been told", list_cols);
	for (size_t i = 0; i < s.n; i++) {
		const stock_key *k = &s.v[i];
		bool prop = told(x, k->item, k->store, "property");
		bool res = told(x, k->item, k->store, "residents");
		group_add(x, &g, k->item, K_COMPOUNDS, 1);
		group_add(x, &g, k->item, K_MONITORED, k->v[0]);
		group_add(x, &g, k->item, K_PROPERTY_NOT_TOLD, !prop);
		group_add(x, &g, k->item, K_RESIDENTS_NOT_TOLD, !res);
		rp_row_add(&x->rep, tc, RP_ROW_DATA, "ssdss", k->item, k->store, ll(k->v[0]),
		           prop ? "yes" : "no", res ? "yes" : "no");
		if (!prop)
			rp_row_add(&x->rep, tp, RP_ROW_DATA, "ssd", k->item, k->store, ll(k->v[0]));
		if (!res)
			rp_row_add(&x->rep, tr, RP_ROW_DATA, "ssd", k->item, k->store, ll(k->v[0]));
	}
	groups_emit(x, &g, t, compounds_row);
	free(g.v);
	free(s.v);
	return EXIT_OK;
}

/* ---- rewards ---- */

enum {
	W_RECEIVED,
	W_VERIFIED,
	W_REJECTED,
	W_OWED,
	W_PAID,
	W_PAID_AMOUNT,
	W_PENALTIES,
	W_AMOUNT,
	W_STATE, /* count and amount per state, in the order of penalty_states */
};

static const char *const penalty_states[] = {"proposed", "imposed", "paid", "waived"};

static void tips_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region, const char *level,
                     const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssddddddd", region, level, ll(v[W_RECEIVED]),
	           ll(v[W_VERIFIED]), ll(v[W_REJECTED]), ll(v[W_OWED]), ll(v[W_PAID]),
	           ll(v[W_PAID_AMOUNT]), ll(v[W_OWED] - v[W_PAID_AMOUNT]));
}

static void penalties_row(rctx *x, rp_table *t, rp_row_kind kind, const char *region,
                          const char *level, const double *v)
{
	rp_row_add(&x->rep, t, kind, "ssdddddddddd", region, level, ll(v[W_PENALTIES]),
	           ll(v[W_AMOUNT]), ll(v[W_STATE]), ll(v[W_STATE + 1]), ll(v[W_STATE + 2]),
	           ll(v[W_STATE + 3]), ll(v[W_STATE + 4]), ll(v[W_STATE + 5]), ll(v[W_STATE + 6]),
	           ll(v[W_STATE + 7]));
}

static long long penalty_amount(const rctx *x, const rec *r)
{
	const char *date = fs(&x->penalty, r, N_DATE);
	if (has(r, N_AMOUNT))
		return ll(r->x[N_AMOUNT]);
	/* The county's rule: the lower amount for a miss before the cutoff date. */
	return *date && strcmp(date, x->cutoff) < 0 ? x->penalty_before : x->penalty_after;
}

static int report_rewards(rctx *x)
{
	static const char *const tip_cols[] = {"region",      "level", "received", "verified",
	                                       "rejected",    "owed",  "paid",     "paid_amount",
	                                       "outstanding", NULL};
	static const char *const pen_cols[] = {
	    "region",  "level",          "penalties", "amount",      "proposed", "proposed_amount",
	    "imposed", "imposed_amount", "paid",      "paid_amount", "waived",   "waived_amount",
	    NULL};
	groups tips = {0}, pens = {0};
	rp_table *t;

	for (size_t i = 0; i < x->tip.n; i++) {
		const rec *r = &x->tip.v[i];
		const char *state = fs(&x->tip, r, I_STATE);
		if (!r->in)
			continue;
		group_add(x, &tips, r->region, W_RECEIVED, 1);
		if (!strcmp(state, "rejected"))
			group_add(x, &tips, r->region, W_REJECTED, 1);
		if (strcmp(state, "verified") != 0)
			continue;
		double owed = has(r, I_REWARD) ? r->x[I_REWARD] : (double)x->reward_tip;
		group_add(x, &tips, r->region, W_VERIFIED, 1);
		group_add(x, &tips, r->region, W_OWED, owed);
		if (has(r, I_PAID)) {
			group_add(x, &tips, r->region, W_PAID, 1);
			group_add(x, &tips, r->region, W_PAID_AMOUNT, owed);
		}
	}
	for (size_t i = 0; i < x->penalty.n; i++) {
		const rec *r = &x->penalty.v[i];
		double amount;
		int st;
		if (!r->in)
			continue;
		amount = (double)penalty_amount(x, r);
		st = word_index(fs(&x->penalty, r, N_STATE), penalty_states, 4, -1);
		group_add(x, &pens, r->region, W_PENALTIES, 1);
		group_add(x, &pens, r->region, W_AMOUNT, amount);
		if (st >= 0) {
			group_add(x, &pens, r->region, W_STATE + 2 * st, 1);
			group_add(x, &pens, r->region, W_STATE + 2 * st + 1, amount);
		}
	}
	t = rp_table_add(&x->rep, "penalties",
	                 "Penalties per village under the county's rule, by state", pen_cols);
	if (t)
		t->chart = 3, t->chart_label = 0;
	groups_emit(x, &pens, t, penalties_row);
	t = rp_table_add(&x->rep, "tips", "Tips: verified, rewards owed and paid", tip_cols);
	groups_emit(x, &tips, t, tips_row);
	free(tips.v);
	free(pens.v);
	return EXIT_OK;
}

/* ---- the command ---- */

enum {
	NEED_PERSON = 1 << 0,
	NEED_EPISODE = 1 << 1,
	NEED_FOLLOWUP = 1 << 2,
	NEED_RETURN = 1 << 3,
	NEED_EXPOSURE = 1 << 4,
	NEED_TALLY = 1 << 5,
	NEED_TXN = 1 << 6,
	NEED_SHIPMENT = 1 << 7,
	NEED_TIP = 1 << 8,
	NEED_PENALTY = 1 << 9,
	NEED_NOTICE = 1 << 10,
};

typedef struct report_def {
	const char *name, *title;
	int (*run)(rctx *x);
	unsigned needs;
	long days; /* default --days; 0 when the report takes none */
	bool threshold, by_person, money;
} report_def;

static const report_def reports[] = {
    {"daily", "Daily report", report_daily, NEED_EPISODE | NEED_FOLLOWUP | NEED_RETURN | NEED_TALLY,
     0, true, false, false},
    {"monitoring", "Monitoring report", report_monitoring,
     NEED_PERSON | NEED_EPISODE | NEED_FOLLOWUP | NEED_EXPOSURE, 2, true, false, false},
    {"contacts", "Contacts report", report_contacts, NEED_PERSON | NEED_EPISODE | NEED_EXPOSURE, 0,
     false, true, false},
    {"supplies", "Supplies report", report_supplies, NEED_TXN | NEED_SHIPMENT, 7, false, false,
     false},
    {"compounds", "Compounds report", report_compounds, NEED_PERSON | NEED_EPISODE | NEED_NOTICE, 0,
     false, false, false},
    {"rewards", "Rewards and penalties report", report_rewards, NEED_TIP | NEED_PENALTY, 0, false,
     false, true},
    {NULL, NULL, NULL, 0, 0, false, false, false},
};

typedef struct report_args {
	const char *name, *date, *region, *days, *person, *depth, *out;
	bool csv, json, html, show_pii, force;
} report_args;

static int report_parse(cli *c, const command *self, int argc, char **argv, report_args *a)
{
	struct {
		const char *name;
		const char **val;
		bool *flag;
	} opts[] = {
	    {"--date", &a->date, NULL},
	    {"--region", &a->region, NULL},
	    {"--days", &a->days, NULL},
	    {"--person", &a->person, NULL},
	    {"--depth", &a->depth, NULL},
	    {"--output", &a->out, NULL},
	    {"-o", &a->out, NULL},
	    {"--csv", NULL, &a->csv},
	    {"--json", NULL, &a->json},
	    {"--html", NULL, &a->html},
	    {"--show-pii", NULL, &a->show_pii},
	    {"--force", NULL, &a->force},
	};

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		size_t k, nopts = sizeof(opts) / sizeof(opts[0]);
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			fputs(self->usage, stdout);
			return -1;
		}
		if (arg[0] != '-' || !arg[1]) {
			if (a->name)
				return cli_fail(c, EXIT_USAGE, "unexpected '%s'; usage:\n%s", arg,
				                self->usage);
			a->name = arg;
			continue;
		}
		for (k = 0; k < nopts; k++) {
			size_t n = strlen(opts[k].name);
			if (strncmp(arg, opts[k].name, n) != 0 ||
			    (arg[n] && (arg[n] != '=' || !opts[k].val)))
				continue;
			if (opts[k].flag) {
				*opts[k].flag = true;
			} else if (arg[n] == '=') {
				*opts[k].val = arg + n + 1;
			} else if (i + 1 < argc) {
				*opts[k].val = argv[++i];
			} else {
				return cli_fail(c, EXIT_USAGE, "option '%s' needs a value", arg);
			}
			break;
		}
		if (k == nopts)
			return cli_fail(c, EXIT_USAGE,
			                "unknown option '%s' (see `hamlet report --help`)", arg);
	}
	if (!a->name)
		return cli_fail(c, EXIT_USAGE, "which report? usage:\n%s", self->usage);
	if (a->csv + a->json + a->html > 1)
		return cli_fail(c, EXIT_USAGE, "--csv, --json and --html are alternatives");
	return EXIT_OK;
}

static bool parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Check the options against the report; fill x. */
static int report_options(rctx *x, const report_def *def, const report_args *a)
{
	if (a->date && !hm_date_valid(a->date))
		return cli_fail(x->c, EXIT_USAGE, "--date '%s' is not a date YYYY-MM-DD", a->date);
	if (a->region && !hm_region_valid(a->region))
		return cli_fail(x->c, EXIT_USAGE,
		                "--region '%s' is not a region path like county/township/village",
		                a->region);
	if (a->days && !def->days)
		return cli_fail(x->c, EXIT_USAGE, "report %s takes no --days", def->name);
	if ((a->person || a->depth) && !def->by_person)
		return cli_fail(x->c, EXIT_USAGE,
		                "--person and --depth are for the contacts report, not %s",
		                def->name);
	if (a->depth && !a->person)
		return cli_fail(x->c, EXIT_USAGE, "--depth needs --person");
	x->days = def->days;
	if (a->days && !parse_count(a->days, 1, 3660, &x->days))
		return cli_fail(x->c, EXIT_USAGE, "--days must be a whole number from 1 to 3660");
	x->depth = -1;
	if (a->depth && !parse_count(a->depth, 0, 1000000, &x->depth))
		return cli_fail(x->c, EXIT_USAGE, "--depth must be a whole number, 0 or more");
	if (a->person && cli_id_arg(x->c, "--person", a->person))
		return EXIT_USAGE;
	x->start = a->person;
	x->show_pii = a->show_pii;
	return EXIT_OK;
}

static int setting_number(rctx *x, const char *name, const char *dflt, double *out)
{
	char buf[64], *end;

	hm_ledger_setting(&x->c->led, name, dflt, buf, sizeof(buf));
	errno = 0;
	*out = strtod(buf, &end);
	if (errno || end == buf || *end || !isfinite(*out))
		return cli_fail(x->c, EXIT_FAIL, "the county setting %s is '%s', not a number",
		                name, buf);
	return EXIT_OK;
}

static int report_settings(rctx *x, const report_def *def)
{
	double v;
	int rc;

	if ((rc = setting_number(x, "fever.threshold", "37.3", &x->threshold)))
		return rc;
	if (def->threshold)
		rp_param_add(&x->rep, "fever.threshold", "%g", x->threshold);
	if (def->days)
		rp_param_add(&x->rep, "days", "%ld", x->days);
	if (def->by_person && x->start) {
		rp_param_add(&x->rep, "person", "%s", x->start);
		if (x->depth >= 0)
			rp_param_add(&x->rep, "depth", "%ld", x->depth);
		else
			rp_param_add(&x->rep, "depth", "unlimited");
	}
	if (!def->money)
		return EXIT_OK;
	if ((rc = setting_number(x, "reward.tip", "500", &v)))
		return rc;
	x->reward_tip = ll(v);
	if ((rc = setting_number(x, "penalty.before", "2000", &v)))
		return rc;
	x->penalty_before = ll(v);
	if ((rc = setting_number(x, "penalty.after", "5000", &v)))
		return rc;
	x->penalty_after = ll(v);
	hm_ledger_setting(&x->c->led, "penalty.cutoff", "1970-01-01", x->cutoff, sizeof(x->cutoff));
	rp_param_add(&x->rep, "reward.tip", "%lld", x->reward_tip);
	rp_param_add(&x->rep, "penalty.before", "%lld", x->penalty_before);
	rp_param_add(&x->rep, "penalty.after", "%lld", x->penalty_after);
	rp_param_add(&x->rep, "penalty.cutoff", "%s", x->cutoff);
	return EXIT_OK;
}

static int report_load(rctx *x, unsigned needs)
{
	static const struct {
		unsigned need;
		const char *coll;
		const char *const *fields;
		size_t off;
	} what[] = {
	    {NEED_PERSON, "person", person_f, offsetof(rctx, person)},
	    {NEED_EPISODE, "episode", episode_f, offsetof(rctx, episode)},
	    {NEED_FOLLOWUP, "followup", followup_f, offsetof(rctx, followup)},
	    {NEED_RETURN, "return", return_f, offsetof(rctx, ret)},
	    {NEED_EXPOSURE, "exposure", exposure_f, offsetof(rctx, exposure)},
	    {NEED_TALLY, "checkpoint_tally", tally_f, offsetof(rctx, tally)},
	    {NEED_TXN, "stock_txn", txn_f, offsetof(rctx, txn)},
	    {NEED_SHIPMENT, "shipment", shipment_f, offsetof(rctx, shipment)},
	    {NEED_TIP, "tip", tip_f, offsetof(rctx, tip)},
	    {NEED_PENALTY, "penalty", penalty_f, offsetof(rctx, penalty)},
	    {NEED_NOTICE, "notice", notice_f, offsetof(rctx, notice)},
	};
	hm_err err;

	/* Merges first: every person reference goes through them. */
	if ((err = recs_load(x->n, &x->merge, "merge", merge_f, x->region, NULL, NULL)))
		return cli_node_fail(x->c, x->n, err);
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		recs *rs = (recs *)((char *)x + what[i].off);
		if (!(needs & what[i].need))
			continue;
		if ((err = recs_load(x->n, rs, what[i].coll, what[i].fields, x->region,
		                     what[i].need == NEED_FOLLOWUP ? keep_followup : NULL, x)))
			return cli_node_fail(x->c, x->n, err);
	}
	merges_build(x);
	categories_build(x);
	monitored_build(x);
	followups_index(x);
	before_build(x);
	return EXIT_OK;
}

static void report_release(rctx *x)
{
	recs *all[] = {&x->person,   &x->episode, &x->followup, &x->ret,
	               &x->exposure, &x->tally,   &x->txn,      &x->shipment,
	               &x->tip,      &x->penalty, &x->notice,   &x->merge};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		recs_release(all[i]);
	free(x->merge_drop);
	free(x->mon);
	free(x->fu);
	for (size_t i = 0; i < x->capfold; i++)
		free(x->fold[i].person);
	free(x->fold);
	free(x->before);
	strs_release(&x->keys);
	strs_release(&x->cases);
	rp_report_release(&x->rep);
}

/* Record what is about to be shown or written, once: an "export" for -o FILE (with
 * --show-pii in its words when names are in clear), else a "reveal" when --show-pii shows
 * names on the terminal. Nothing to record for a masked report on the terminal. */
static int report_access(rctx *x, const report_args *a)
{
	char what[512];

	snprintf(what, sizeof(what), "report %s --region %s --date %s%s%s%s", x->rep.name,
	         x->region, x->date, a->person ? " --person " : "", a->person ? a->person : "",
	         a->out && a->show_pii ? " --show-pii" : "");
	if (a->out) {
		size_t n = strlen(what);
		snprintf(what + n, sizeof(what) - n, " -o %s", a->out);
		return cli_record_access(x->c, x->n, "export", what, x->persons_listed);
	}
	if (a->show_pii)
		return cli_record_access(x->c, x->n, "reveal", what, x->persons_listed);
	return EXIT_OK;
}

/* The output file is created first (a missing folder or a file already there fails here, with
 * nothing recorded), then the access is recorded (if that fails the file is removed and nothing
 * is shown), then the report is written. So the access log never lacks a reveal that happened,
 * and holds one only for a report that was at least begun on the way to its reader. */
static int report_write(rctx *x, const report_args *a)
{
	rp_format fmt = a->csv    ? RP_FMT_CSV
	                : a->json ? RP_FMT_JSON
	                : a->html ? RP_FMT_HTML
	                          : RP_FMT_TEXT;
	cli_outfile o = {0};
	int rc;

	if (a->out && (rc = cli_outfile_open(x->c, &o, a->out, a->force)))
		return rc;
	if ((rc = report_access(x, a))) {
		cli_outfile_close(x->c, &o, false);
		return rc;
	}
	if (!a->out) {
		if (rp_render(&x->rep, fmt, stdout) != 0)
			return cli_fail(x->c, EXIT_FAIL, "cannot write the report: %s",
			                hm_strerrno(errno));
		return EXIT_OK;
	}
	if (rp_render(&x->rep, fmt, o.f) != 0) {
		int e = errno;
		cli_outfile_close(x->c, &o, false);
		return cli_fail(x->c, EXIT_FAIL, "cannot write %s: %s", a->out, hm_strerrno(e));
	}
	return cli_outfile_close(x->c, &o, true);
}

int cmd_report(cli *c, int argc, char **argv)
{
	const command *self = hm_command("report");
	report_args a = {0};
	const report_def *def = NULL;
	rctx x = {0};
	hm_node_info info;
	int rc;

	if ((rc = report_parse(c, self, argc, argv, &a)))
		return rc < 0 ? EXIT_OK : rc;
	for (def = reports; def->name && strcmp(def->name, a.name) != 0; def++)
		;
	if (!def->name)
		return cli_fail(
		    c, EXIT_USAGE,
		    "no report '%s': daily, monitoring, contacts, supplies, compounds or "
		    "rewards",
		    a.name);
	x.c = c;
	if ((rc = report_options(&x, def, &a)))
		return rc;
	if ((rc = cli_open(c, &x.n)))
		return rc;
	hm_node_ident(x.n, &info);
	snprintf(x.region, sizeof(x.region), "%s", a.region ? a.region : info.region);
	if (a.date)
		snprintf(x.date, sizeof(x.date), "%s", a.date);
	else
		hm_ledger_today(&c->led, x.date);
	date_minus(x.date, x.days, x.from);
	rp_report_init(&x.rep, def->name, def->title, x.region, x.date);
	if ((rc = report_settings(&x, def)) || (rc = report_load(&x, def->needs)) ||
	    (rc = def->run(&x)))
		goto out;
	if (x.rep.nomem) {
		rc = cli_fail(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	rc = report_write(&x, &a);
out:
	report_release(&x);
	hm_node_close(x.n);
	return rc;
}
