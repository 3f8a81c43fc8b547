/*
 * report_daily.c - the daily report (who is under monitoring, returnees, fevers found) and the
 * monitoring report (gap 3: check compliance, persons not seen or only phoned, fever alerts,
 * contacts of key persons never checked). docs/reports.md defines every figure.
 */
#include "ledger_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void daily_monitored_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                                const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssdddddddddddd", region, level, rp_ll(v[D_MON]),
	                  rp_ll(v[D_HOME]), rp_ll(v[D_CENTRAL]), rp_ll(v[D_MONITORING]),
	                  rp_ll(v[D_RETURNEE]), rp_ll(v[D_CLOSE]), rp_ll(v[D_SECOND]),
	                  rp_ll(v[D_CASE]), rp_ll(v[D_FEVER]), rp_ll(v[D_OTHER]), rp_ll(v[D_NEW]),
	                  rp_ll(v[D_RELEASED]));
}

static void daily_returnee_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                               const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssddddd", region, level, rp_ll(v[D_RET_NEW]),
	                  rp_ll(v[D_RET_CUM]), rp_ll(v[D_RET_WUHAN]), rp_ll(v[D_RET_HUBEI]),
	                  rp_ll(v[D_RET_OTHER]));
}

static void daily_fever_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                            const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssddd", region, level, rp_ll(v[D_FEV_FU]),
	                  rp_ll(v[D_FEV_CP]), rp_ll(v[D_FEV_FU] + v[D_FEV_CP]));
}

typedef struct ret_ix {
	const char *pid, *registered;
	const rp_rec *r;
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
static void daily_returnees(rp_ctx *x, rp_groups *g)
{
	static const char *const areas[] = {"wuhan", "hubei"};
	ret_ix *v = calloc(x->ret.n ? x->ret.n : 1, sizeof(*v));
	size_t k = 0;

	if (!v) {
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < x->ret.n; i++) {
		const rp_rec *r = &x->ret.v[i];
		if (!rp_has(r, RP_R_REGISTERED) || !rp_has(r, RP_R_PERSON))
			continue;
		v[k].pid = rp_pid(x, rp_fs(&x->ret, r, RP_R_PERSON));
		v[k].registered = rp_fs(&x->ret, r, RP_R_REGISTERED);
		v[k++].r = r;
	}
	qsort(v, k, sizeof(*v), cmp_ret);
	for (size_t i = 0; i < k; i++) {
		const rp_rec *r = v[i].r;
		int area;
		if ((i && !strcmp(v[i - 1].pid, v[i].pid)) || !r->in ||
		    strcmp(v[i].registered, x->date) > 0)
			continue;
		area = rp_word_index(rp_fs(&x->ret, r, RP_R_FROM), areas, 2, 2);
		rp_group_add(x, g, r->region, D_RET_CUM, 1);
		rp_group_add(x, g, r->region, D_RET_WUHAN + area, 1);
		if (!strcmp(v[i].registered, x->date))
			rp_group_add(x, g, r->region, D_RET_NEW, 1);
	}
	free(v);
}

static void daily_compute(rp_ctx *x, rp_groups *g)
{
	static const char *const kinds[] = {"home", "central", "monitoring"};
	static const char *const reasons[] = {"returnee", "close", "second", "case", "fever"};
	char d[11];

	for (size_t i = 0; i < x->nmon; i++) {
		const rp_rec *e = x->mon[i].ep;
		int kind = rp_word_index(rp_fs(&x->episode, e, RP_E_KIND), kinds, 3, -1);
		if (!e->in)
			continue;
		rp_group_add(x, g, e->region, D_MON, 1);
		if (kind >= 0)
			rp_group_add(x, g, e->region, D_HOME + kind, 1);
		rp_group_add(x, g, e->region,
		             D_RETURNEE +
		                 rp_word_index(rp_fs(&x->episode, e, RP_E_REASON), reasons, 5, 5),
		             1);
	}
	for (size_t i = 0; i < x->episode.n; i++) {
		const rp_rec *e = &x->episode.v[i];
		if (!e->in)
			continue;
		if (!strcmp(rp_fs(&x->episode, e, RP_E_START), x->date))
			rp_group_add(x, g, e->region, D_NEW, 1);
		if (!strcmp(rp_fs(&x->episode, e, RP_E_END), x->date))
			rp_group_add(x, g, e->region, D_RELEASED, 1);
	}
	daily_returnees(x, g);
	for (size_t i = 0; i < x->followup.n; i++) {
		const rp_rec *f = &x->followup.v[i];
		rp_time_date(rp_fs(&x->followup, f, RP_F_TIME), d);
		if (f->in && !strcmp(d, x->date) && rp_has(f, RP_F_TEMP) &&
		    f->x[RP_F_TEMP] >= x->threshold)
			rp_group_add(x, g, f->region, D_FEV_FU, 1);
	}
	for (size_t i = 0; i < x->tally.n; i++) {
		const rp_rec *r = &x->tally.v[i];
		if (r->in && !strcmp(rp_fs(&x->tally, r, RP_T_DATE), x->date))
			rp_group_add(x, g, r->region, D_FEV_CP, r->x[RP_T_FEVER]);
	}
}

hm_err rp_daily(rp_ctx *x)
{
	static const char *const mon_cols[] = {
	    "region", "level", "monitored", "home",  "central", "monitoring", "returnee", "close",
	    "second", "case",  "fever",     "other", "new",     "released",   NULL};
	static const char *const ret_cols[] = {"region", "level", "new",   "cumulative",
	                                       "wuhan",  "hubei", "other", NULL};
	static const char *const fev_cols[] = {"region",      "level", "followups",
	                                       "checkpoints", "total", NULL};
	rp_groups g = {0};
	hm_report_table *t;

	daily_compute(x, &g);
	t = hm_report_table_add(
	    x->rep, "under_monitoring",
	    "Under monitoring by kind and reason; episodes started and ended today", mon_cols);
	if (t)
		t->chart = 2, t->chart_label = 0;
	rp_groups_emit(x, &g, t, daily_monitored_row);
	t = hm_report_table_add(x->rep, "returnees",
	                        "Returnees registered: today, to date, and by where they came from",
	                        ret_cols);
	rp_groups_emit(x, &g, t, daily_returnee_row);
	t = hm_report_table_add(
	    x->rep, "fevers",
	    "Fevers found today: at followups (at or above the threshold) and at "
	    "checkpoints",
	    fev_cols);
	rp_groups_emit(x, &g, t, daily_fever_row);
	rp_groups_release(&g);
	return HM_OK;
}

/* ---- monitoring (gap 3) ---- */

enum { M_EXPECTED, M_DONE, M_FOLLOWUPS, M_PHONE };

static void monitoring_row(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                           const char *region, const char *level, const double *v)
{
	hm_report_row_add(x->rep, t, kind, "ssddfddf", region, level, rp_ll(v[M_EXPECTED]),
	                  rp_ll(v[M_DONE]), rp_pct(v[M_DONE], v[M_EXPECTED]), rp_ll(v[M_FOLLOWUPS]),
	                  rp_ll(v[M_PHONE]), rp_pct(v[M_PHONE], v[M_FOLLOWUPS]));
}

static long checks_per_day(const rp_rec *e)
{
	return rp_has(e, RP_E_CPD) && e->x[RP_E_CPD] >= 0 ? (long)e->x[RP_E_CPD] : 2;
}

static void monitoring_compliance(rp_ctx *x, rp_groups *g)
{
	for (size_t i = 0; i < x->nmon; i++) {
		const rp_rec *e = x->mon[i].ep;
		long cpd = checks_per_day(e), today = 0;
		size_t lo, hi;
		if (!e->in)
			continue;
		rp_followups_of(x, x->mon[i].pid, &lo, &hi);
		for (size_t j = lo; j < hi; j++)
			today += (x->fu[j].when & RP_FU_TODAY) != 0;
		rp_group_add(x, g, e->region, M_EXPECTED, (double)cpd);
		rp_group_add(x, g, e->region, M_DONE, (double)(today < cpd ? today : cpd));
	}
	for (size_t i = 0; i < x->nfu; i++) {
		const rp_fu_ix *f = &x->fu[i];
		if ((f->when & (RP_FU_IN | RP_FU_TODAY)) != (RP_FU_IN | RP_FU_TODAY))
			continue;
		rp_group_add(x, g, f->region, M_FOLLOWUPS, 1);
		if (f->when & RP_FU_PHONE)
			rp_group_add(x, g, f->region, M_PHONE, 1);
	}
}

/* Persons under monitoring not seen in the window, and those only phoned in it. */
static void monitoring_lists(rp_ctx *x, hm_report_table *unseen, hm_report_table *phone)
{
	char last[11], name[512];

	for (size_t i = 0; i < x->nmon; i++) {
		const rp_rec *e = x->mon[i].ep;
		const char *p = x->mon[i].pid, *last_time = NULL;
		long in_win = 0, phoned = 0;
		size_t lo, hi;
		if (!e->in)
			continue;
		rp_followups_of(x, p, &lo, &hi);
		for (size_t j = lo; j < hi; j++) {
			const rp_fu_ix *f = &x->fu[j];
			if (!(f->when & RP_FU_LE_DATE))
				continue;
			last_time = f->time; /* sorted by time: the last one stays */
			if (f->when & RP_FU_WINDOW) {
				in_win++;
				phoned += (f->when & RP_FU_PHONE) != 0;
			}
		}
		if (in_win == 0) {
			const struct rp_fold *t;
			if (!rp_person_row_wanted(x, unseen))
				continue;
			t = rp_before_of(x, p);
			last[0] = '\0';
			if (last_time)
				rp_time_date(last_time, last);
			else if (t)
				memcpy(last, t->last, sizeof(last));
			hm_report_row_add(x->rep, unseen, HM_REPORT_ROW_DATA, "ssss", p,
			                  rp_person_name(x, p, name, sizeof(name)), e->region,
			                  *last ? last : N_("never"));
		} else if (phoned == in_win && rp_person_row_wanted(x, phone)) {
			hm_report_row_add(x->rep, phone, HM_REPORT_ROW_DATA, "sssd", p,
			                  rp_person_name(x, p, name, sizeof(name)), e->region,
			                  (long long)in_win);
		}
	}
}

static int cmp_fu_at(const void *a, const void *b)
{
	return rp_fu_cmp_time(*(const rp_fu_ix *const *)a, *(const rp_fu_ix *const *)b);
}

static void monitoring_fevers(rp_ctx *x, hm_report_table *t)
{
	const unsigned want = RP_FU_IN | RP_FU_WINDOW | RP_FU_TEMP;
	const rp_fu_ix **v = malloc((x->nfu ? x->nfu : 1) * sizeof(*v));
	size_t k = 0;
	char name[512];

	if (!v) {
		rp_nomem(x);
		return;
	}
	for (size_t i = 0; i < x->nfu; i++)
		if ((x->fu[i].when & want) == want && x->fu[i].temp >= x->threshold)
			v[k++] = &x->fu[i];
	qsort(v, k, sizeof(*v), cmp_fu_at);
	for (size_t i = 0; i < k; i++) {
		const rp_fu_ix *f = v[i];
		const char *action;
		if (!rp_person_row_wanted(x, t))
			continue; /* counted */
		action = rp_fs(&x->followup, f->r, RP_F_ACTION);
		hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "ssssfss", f->pid,
		                  rp_person_name(x, f->pid, name, sizeof(name)), f->region, f->time,
		                  f->temp, *action ? action : NULL, *action ? "yes" : "no");
	}
	free(v);
}

/* Whether person p had a temperature taken on or before D. */
static bool temperature_taken(const rp_ctx *x, const char *p)
{
	const struct rp_fold *t = rp_before_of(x, p);
	size_t lo, hi;

	if (t && t->temp)
		return true;
	rp_followups_of(x, p, &lo, &hi);
	for (size_t j = lo; j < hi; j++)
		if ((x->fu[j].when & (RP_FU_LE_DATE | RP_FU_TEMP)) == (RP_FU_LE_DATE | RP_FU_TEMP))
			return true;
	return false;
}

static void monitoring_contacts(rp_ctx *x, hm_report_table *t)
{
	rp_strs seen = {0};
	char name[512];

	for (size_t i = 0; i < x->exposure.n; i++) {
		const rp_rec *r = &x->exposure.v[i];
		const char *src = rp_pid(x, rp_fs(&x->exposure, r, RP_X_SOURCE));
		const char *p = rp_pid(x, rp_fs(&x->exposure, r, RP_X_CONTACT));
		if (!r->in || !rp_strs_has(&x->keys, src) || !strcmp(src, p))
			continue;
		rp_strs_add(x, &seen, p);
	}
	rp_strs_sort_unique(&seen);
	for (size_t i = 0; i < seen.n; i++) {
		const char *p = seen.v[i];
		if (temperature_taken(x, p) || !rp_person_row_wanted(x, t))
			continue;
		hm_report_row_add(x->rep, t, HM_REPORT_ROW_DATA, "sss", p,
		                  rp_person_name(x, p, name, sizeof(name)),
		                  rp_person_village(x, p));
	}
	rp_strs_release(&seen);
}

hm_err rp_monitoring(rp_ctx *x)
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
	rp_groups g = {0};
	hm_report_table *t, *unseen, *phone;

	monitoring_compliance(x, &g);
	t = hm_report_table_add(
	    x->rep, "compliance",
	    "Temperature checks today against checks due (compliance %), and the "
	    "share done by phone",
	    cols);
	if (t)
		t->chart = 4, t->chart_label = 0, t->chart_max = 100;
	rp_groups_emit(x, &g, t, monitoring_row);
	rp_groups_release(&g);
	unseen = hm_report_table_add(x->rep, "not_seen",
	                             "Under monitoring, not seen in the last N days", unseen_cols);
	phone = hm_report_table_add(x->rep, "phone_only",
	                            "Under monitoring, only phoned in the last N days", phone_cols);
	monitoring_lists(x, unseen, phone);
	t = hm_report_table_add(x->rep, "fever_alerts",
	                        "Fever alerts in the last N days, and whether anyone acted",
	                        fever_cols);
	monitoring_fevers(x, t);
	t = hm_report_table_add(
	    x->rep, "contacts_no_temperature",
	    "Contacts of key persons (cases, close contacts) with no temperature taken",
	    contact_cols);
	monitoring_contacts(x, t);
	return HM_OK;
}
