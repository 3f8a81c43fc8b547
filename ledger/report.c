/*
 * report.c - building a report (ledger.h, Reports): the parameters checked, the county's
 * settings read, the records loaded (report_data.c), the figures of the report asked computed
 * into the model, and the access log entry of a report shown or exported. Also the rows per
 * village, rolled up per township and for the region asked, that every report shares.
 *
 * Every figure follows docs/reports.md, which is the definition; the comments here only say how.
 */
#include "ledger_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- groups: figures per village, rolled up per township and for the region asked ---- */

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

size_t rp_sorted_find(const void *base, size_t n, size_t size, const void *key,
                      int (*cmp)(const void *item, const void *key), bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp((const char *)base + mid * size, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *rp_grow(rp_ctx *x, void *v, size_t n, size_t *cap, size_t size)
{
	size_t want;
	void *p;

	if (n < *cap)
		return v;
	want = *cap ? *cap * 2 : 32;
	if (!(p = realloc(v, want * size))) {
		rp_nomem(x);
		return NULL;
	}
	*cap = want;
	return p;
}

/* The figures of region r (created at zero). NULL only when memory ran out. */
static double *group_at(rp_ctx *x, rp_groups *g, const char *r)
{
	size_t s, seen = ((uintptr_t)r >> 3) & 63;
	rp_group *v;

	if (g->seen[seen].region == r) /* the same text: most often, and found without reading it */
		return g->v[g->seen[seen].at - 1].v;

	if (2 * (g->n + 1) > g->ixcap) { /* a larger index, made again */
		size_t cap = g->ixcap ? 2 * g->ixcap : 64;
		uint32_t *ix = calloc(cap, sizeof(*ix));
		if (!ix) {
			rp_nomem(x);
			return NULL;
		}
		for (size_t i = 0; i < g->n; i++) {
			for (s = rp_hash(g->v[i].region); ix[s & (cap - 1)]; s++)
				;
			ix[s & (cap - 1)] = (uint32_t)i + 1;
		}
		free(g->ix);
		g->ix = ix, g->ixcap = cap;
	}
	for (s = rp_hash(r); g->ix[s & (g->ixcap - 1)]; s++) {
		uint32_t at = g->ix[s & (g->ixcap - 1)];
		if (!strcmp(g->v[at - 1].region, r)) {
			g->seen[seen].region = r, g->seen[seen].at = at;
			return g->v[at - 1].v;
		}
	}
	if (!(v = rp_grow(x, g->v, g->n, &g->cap, sizeof(*v))))
		return NULL;
	g->v = v;
	memset(&v[g->n], 0, sizeof(*v));
	v[g->n].region = r;
	g->ix[s & (g->ixcap - 1)] = (uint32_t)++g->n;
	g->seen[seen].region = r, g->seen[seen].at = (uint32_t)g->n;
	return v[g->n - 1].v;
}

void rp_groups_release(rp_groups *g)
{
	free(g->v);
	free(g->ix);
	memset(g, 0, sizeof(*g));
}

static int group_order(const void *a, const void *b)
{
	const rp_group *p = *(const rp_group *const *)a, *q = *(const rp_group *const *)b;
	int c = region_cmp(p->region, q->region);

	return c ? c : strcmp(p->region, q->region);
}

void rp_group_add(rp_ctx *x, rp_groups *g, const char *r, int i, double v)
{
	double *p = group_at(x, g, r);
	if (p)
		p[i] += v;
}

static void township_of(const char *r, char out[HM_REGION_MAX + 1])
{
	const char *slash = strchr(r, '/');
	if (slash)
		slash = strchr(slash + 1, '/');
	snprintf(out, HM_REGION_MAX + 1, "%.*s", (int)(slash ? (size_t)(slash - r) : strlen(r)), r);
}

static void sums_add(double *to, const double *v)
{
	for (int i = 0; i < RP_GROUP_VALS; i++)
		to[i] += v[i];
}

void rp_groups_emit(rp_ctx *x, const rp_groups *g, hm_report_table *t, rp_row_fn fn)
{
	static const char *const level[] = {"", "county", "township", "village"};
	double total[RP_GROUP_VALS] = {0}, sub[RP_GROUP_VALS] = {0};
	char town[HM_REGION_MAX + 1] = "", t2[HM_REGION_MAX + 1];
	bool subtotals = hm_region_depth(x->region) < 2, open = false;
	const rp_group **order = malloc((g->n ? g->n : 1) * sizeof(*order));

	if (!order) {
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < g->n; i++)
		order[i] = &g->v[i];
	qsort(order, g->n, sizeof(*order), group_order);
	for (size_t i = 0; i < g->n; i++) {
		const rp_group *gr = order[i];
		int depth = hm_region_depth(gr->region);
		township_of(gr->region, t2);
		if (subtotals && open && strcmp(t2, town) != 0) {
			fn(x, t, HM_REPORT_ROW_SUBTOTAL, town, "subtotal", sub);
			memset(sub, 0, sizeof(sub));
			open = false;
		}
		fn(x, t, HM_REPORT_ROW_DATA, gr->region, level[depth < 0 || depth > 3 ? 0 : depth],
		   gr->v);
		sums_add(total, gr->v);
		if (depth >= 2) {
			if (!open)
				memcpy(town, t2, sizeof(town));
			sums_add(sub, gr->v);
			open = true;
		}
	}
	free(order);
	if (subtotals && open)
		fn(x, t, HM_REPORT_ROW_SUBTOTAL, town, "subtotal", sub);
	fn(x, t, HM_REPORT_ROW_TOTAL, x->region, "total", total);
}

/* a / b as a percentage with one decimal; no figure when b is 0. */
double rp_pct(double a, double b)
{
	return b > 0 ? a * 100 / b : NAN;
}

/* Figures are sums of whole numbers kept in doubles: round, do not truncate. */
long long rp_ll(double v)
{
	return (long long)(v < 0 ? v - 0.5 : v + 0.5);
}

int rp_word_index(const char *w, const char *const *words, int n, int other)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(w, words[i]))
			return i;
	return other;
}

/* ---- the reports ---- */

typedef struct report_def {
	const char *name, *title;
	hm_err (*run)(rp_ctx *x);
	unsigned needs;
	long days; /* default days; 0 when the report takes none */
	bool threshold, by_person, money;
} report_def;

static const report_def reports[] = {
    {"daily", N_("Daily report"), rp_daily,
     RP_NEED_EPISODE | RP_NEED_FOLLOWUP | RP_NEED_RETURN | RP_NEED_TALLY, 0, true, false, false},
    {"monitoring", N_("Monitoring report"), rp_monitoring,
     RP_NEED_PERSON | RP_NEED_EPISODE | RP_NEED_FOLLOWUP | RP_NEED_EXPOSURE, 2, true, false, false},
    {"contacts", N_("Contacts report"), rp_contacts,
     RP_NEED_PERSON | RP_NEED_EPISODE | RP_NEED_EXPOSURE, 0, false, true, false},
    {"supplies", N_("Supplies report"), rp_supplies, RP_NEED_TXN | RP_NEED_SHIPMENT, 7, false,
     false, false},
    {"compounds", N_("Compounds report"), rp_compounds,
     RP_NEED_PERSON | RP_NEED_EPISODE | RP_NEED_NOTICE, 0, false, false, false},
    {"rewards", N_("Rewards and penalties report"), rp_rewards, RP_NEED_TIP | RP_NEED_PENALTY, 0,
     false, false, true},
    {NULL, NULL, NULL, 0, 0, false, false, false},
};

const char *const *hm_report_names(void)
{
	static const char *const names[] = {"daily",     "monitoring", "contacts", "supplies",
	                                    "compounds", "rewards",    NULL};
	return names;
}

/* Check the parameters against the report; fill x. Messages name the options of `hamlet
 * report`, which the parameters mirror. */
static hm_err report_options(rp_ctx *x, const report_def *def, const hm_report_params *p)
{
	const char *why;

	if (p->date && !hm_date_valid(p->date))
		return hm_node_fail(x->n, HM_ERR_INVALID, "--date '%s' is not a date YYYY-MM-DD",
		                    p->date);
	if (p->region && !hm_region_valid(p->region))
		return hm_node_fail(
		    x->n, HM_ERR_INVALID,
		    "--region '%s' is not a region path like county/township/village", p->region);
	if (p->days && !def->days)
		return hm_node_fail(x->n, HM_ERR_INVALID, "report %s takes no --days", def->name);
	if ((p->person || p->depth_set) && !def->by_person)
		return hm_node_fail(x->n, HM_ERR_INVALID,
		                    "--person and --depth are for the contacts report, not %s",
		                    def->name);
	if (p->depth_set && !p->person)
		return hm_node_fail(x->n, HM_ERR_INVALID, "--depth needs --person");
	if (p->days < 0 || p->days > HM_REPORT_DAYS_MAX)
		return hm_node_fail(x->n, HM_ERR_INVALID,
		                    "--days must be a whole number from 1 to 3660");
	if (p->depth_set && p->depth < 0)
		return hm_node_fail(x->n, HM_ERR_INVALID,
		                    "--depth must be a whole number, 0 or more");
	if (p->person && hm_id_check(p->person, &why))
		return hm_node_fail(x->n, HM_ERR_INVALID, "--person: the record id %s", why);
	x->days = p->days ? p->days : def->days;
	x->depth = p->depth_set ? p->depth : -1;
	x->start = p->person;
	return HM_OK;
}

hm_err rp_setting_number(rp_ctx *x, const char *name, const char *dflt, double *out)
{
	char buf[64], *end;

	hm_ledger_setting(x->l, name, dflt, buf, sizeof(buf));
	errno = 0;
	*out = strtod(buf, &end);
	if (errno || end == buf || *end || !isfinite(*out))
		return hm_node_fail(x->n, HM_ERR_SCHEMA,
		                    "the county setting %s is '%s', not a number", name, buf);
	return HM_OK;
}

static void report_params(rp_ctx *x, const report_def *def)
{
	if (def->threshold)
		hm_report_param_add(x->rep, "fever.threshold", "%g", x->threshold);
	if (def->days)
		hm_report_param_add(x->rep, "days", "%ld", x->days);
	if (def->by_person && x->start) {
		hm_report_param_add(x->rep, "person", "%s", x->start);
		if (x->depth >= 0)
			hm_report_param_add(x->rep, "depth", "%ld", x->depth);
		else
			hm_report_param_add(x->rep, "depth", "unlimited");
	}
}

static hm_err report_settings(rp_ctx *x, const report_def *def)
{
	double v;
	hm_err err;

	if ((err = rp_setting_number(x, "fever.threshold", "37.3", &x->threshold)))
		return err;
	report_params(x, def);
	if (!def->money)
		return HM_OK;
	if ((err = rp_setting_number(x, "reward.tip", "500", &v)))
		return err;
	x->reward_tip = rp_ll(v);
	if ((err = rp_setting_number(x, "penalty.before", "2000", &v)))
		return err;
	x->penalty_before = rp_ll(v);
	if ((err = rp_setting_number(x, "penalty.after", "5000", &v)))
		return err;
	x->penalty_after = rp_ll(v);
	hm_ledger_setting(x->l, "penalty.cutoff", "1970-01-01", x->cutoff, sizeof(x->cutoff));
	hm_report_param_add(x->rep, "reward.tip", "%lld", x->reward_tip);
	hm_report_param_add(x->rep, "penalty.before", "%lld", x->penalty_before);
	hm_report_param_add(x->rep, "penalty.after", "%lld", x->penalty_after);
	hm_report_param_add(x->rep, "penalty.cutoff", "%s", x->cutoff);
	return HM_OK;
}

/* ---- the region asked ---- */

typedef struct region_probe {
	const char *coll, *field, *region;
	bool found;
} region_probe;

static int probe_one(void *ctx, const hm_record *r)
{
	region_probe *p = ctx;
	const hm_field *f = hm_record_field(r, p->field);
	char buf[HM_REGION_MAX + 1];

	if (!f || f->value.kind != HM_V_STR || f->value.u.s.n > HM_REGION_MAX)
		return 0;
	snprintf(buf, sizeof(buf), "%.*s", (int)f->value.u.s.n, f->value.u.s.p);
	p->found = hm_region_contains(p->region, buf);
	return p->found; /* stop at the first */
}

/* Whether the node holds any record placed in region, in any collection. */
static hm_err region_has_records(rp_ctx *x, bool *found)
{
	size_t n;
	const hm_collection_def *c = hm_schema_collections(&n);
	region_probe p = {.region = x->region};
	hm_err err;

	*found = rp_any_in(x); /* what the report read already says so, most often */
	for (size_t i = 0; i < n && !*found; i++) {
		if (!c[i].region_field)
			continue;
		p.coll = c[i].name, p.field = c[i].region_field;
		if ((err = hm_node_list(x->n, c[i].name, probe_one, &p)))
			return err;
		*found = p.found;
	}
	return HM_OK;
}

/* A region the node cannot hold is refused; one inside the node's own region with no record
 * placed in it is a mistake (a region that does not exist), not a report of zeros. The node's
 * own region and those above it always exist. */
static hm_err region_check(rp_ctx *x, const char *scope)
{
	bool found;
	hm_err err;

	if (!hm_region_visible(scope, x->region))
		return hm_node_fail(x->n, HM_ERR_SCHEMA,
		                    "region %s is outside this node's scope (%s)", x->region,
		                    scope);
	if (hm_region_contains(x->region, scope))
		return HM_OK;
	if ((err = region_has_records(x, &found)))
		return err;
	if (!found)
		return hm_node_fail(x->n, HM_ERR_NOT_FOUND, "no records in region %s", x->region);
	return HM_OK;
}

/* ---- building ---- */

static hm_err report_run(rp_ctx *x, const report_def *def, const char *scope)
{
	hm_err err;

	if ((err = report_settings(x, def)) || (err = rp_load(x, def->needs)) ||
	    (err = region_check(x, scope)) || (err = def->run(x)))
		return err == HM_ERR_NOMEM ? hm_node_fail(x->n, err, "out of memory") : err;
	if (x->rep->nomem)
		return hm_node_fail(x->n, HM_ERR_NOMEM, "out of memory");
	return HM_OK;
}

hm_err hm_report_build(hm_ledger *l, const hm_report_params *p, hm_report *out)
{
	const report_def *def = reports;
	rp_ctx *x;
	hm_node_info info;
	hm_err err;

	hm_report_init(out, "", "", "", "");
	while (def->name && (!p->name || strcmp(def->name, p->name) != 0))
		def++;
	if (!def->name)
		return hm_node_fail(
		    l->node, HM_ERR_INVALID,
		    "no report '%s': daily, monitoring, contacts, supplies, compounds "
		    "or rewards",
		    p->name ? p->name : "");
	if (!(x = calloc(1, sizeof(*x))))
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	x->l = l, x->n = l->node, x->rep = out;
	if ((err = report_options(x, def, p)))
		goto out;
	hm_node_ident(l->node, &info);
	snprintf(x->region, sizeof(x->region), "%s", p->region ? p->region : info.region);
	if (p->date)
		snprintf(x->date, sizeof(x->date), "%s", p->date);
	else
		hm_ledger_today(l, x->date);
	if (!hm_date_add(x->date, -x->days, x->from))
		snprintf(x->from, sizeof(x->from), "%s", x->date);
	hm_report_init(out, def->name, def->title, x->region, x->date);
	out->show_pii = p->show_pii;
	out->rows_max = p->rows;
	snprintf(out->person, sizeof(out->person), "%s", p->person ? p->person : "");
	err = report_run(x, def, info.region);
out:
	rp_release(x);
	free(x);
	return err;
}

/* ---- the access log ---- */

hm_err hm_report_record_access(hm_ledger *l, const hm_report *r, const char *output)
{
	char what[HM_STR_MAX];
	int n;

	if (!output && !r->show_pii)
		return HM_OK; /* a masked report on the screen reveals nobody */
	n = snprintf(what, sizeof(what), "report %s --region %s --date %s%s%s%s", r->name,
	             r->region, r->date, *r->person ? " --person " : "", r->person,
	             output && r->show_pii ? " --show-pii" : "");
	if (output)
		snprintf(what + n, sizeof(what) - (size_t)n, " -o %s", output);
	return hm_ledger_record_access(l, output ? "export" : "reveal", what, r->persons_listed);
}
