/*
 * today.c - Today (ledger.h, The clerk's day): who is under monitoring in a village on a date
 * and what the day asks of each: the morning's and evening's checks, checks missed on earlier
 * days, a fever, an isolation that ends. The records are read once each, as a report reads them
 * (report_data.c: persons through merges, who is monitored on D under which episode, each
 * person's follow-ups in time order), so a village's Today costs one pass over its records.
 */
#include "ledger_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one person's follow-ups say about the date. */
typedef struct day_marks {
	bool morning, evening; /* a check in that slot of the date */
	int missed;            /* checks the earlier days of the episode lack */
} day_marks;

/* The slot of a follow-up: its own, or by its time as `followup add` sets it (before 12:00:
 * morning), for records written without one. */
static bool is_morning(const rp_ctx *x, const rp_rec *f)
{
	const char *slot = rp_fs(&x->followup, f, RP_F_SLOT),
	           *t = rp_fs(&x->followup, f, RP_F_TIME);

	if (*slot)
		return strcmp(slot, "morning") == 0;
	return hm_followup_slot(t) && !strcmp(hm_followup_slot(t), "morning");
}

/* Checks a day lacks: with one check a day any slot does; else each slot needs its own. */
static int lacking(int per_day, bool morning, bool evening)
{
	if (per_day <= 1)
		return morning || evening ? 0 : 1;
	return !morning + !evening;
}

/* Walk the person's follow-ups fu[lo..hi) (in time order) beside the days of the episode from
 * start to the date: the date's slots, the checks earlier days lack, the last temperature of the
 * episode and a fever on the date or the day before. */
static void person_days(const rp_ctx *x, size_t lo, size_t hi, const char *start, int per_day,
                        hm_today_row *row, day_marks *m)
{
	char day[11], d[11], yesterday[11];
	size_t k = lo;

	memset(m, 0, sizeof(*m));
	if (!hm_date_add(x->date, -1, yesterday))
		yesterday[0] = '\0';
	snprintf(day, sizeof(day), "%s", hm_date_valid(start) ? start : x->date);
	for (; strcmp(day, x->date) < 0; hm_date_add(day, 1, day)) { /* day is a date */
		bool am = false, pm = false;
		for (; k < hi; k++) {
			rp_time_date(x->fu[k].time, d);
			if (strcmp(d, day) > 0)
				break;
			if (!strcmp(d, day))
				*(is_morning(x, x->fu[k].r) ? &am : &pm) = true;
		}
		m->missed += lacking(per_day, am, pm);
	}
	for (k = lo; k < hi; k++) {
		const rp_rec *f = x->fu[k].r;
		rp_time_date(x->fu[k].time, d);
		if (!strcmp(d, x->date))
			*(is_morning(x, f) ? &m->morning : &m->evening) = true;
		if (!rp_has(f, RP_F_TEMP) || strcmp(d, x->date) > 0)
			continue;
		if ((!strcmp(d, x->date) || !strcmp(d, yesterday)) &&
		    f->x[RP_F_TEMP] >= x->threshold)
			row->fever = true;
		if (strcmp(d, start) < 0)
			continue; /* before this episode */
		row->last_temp = f->x[RP_F_TEMP];
		snprintf(row->last_time, sizeof(row->last_time), "%s", x->fu[k].time);
	}
}

/* The row of person pid monitored under episode e. */
static void row_fill(const rp_ctx *x, const char *pid, const rp_rec *e, const rp_rec *p,
                     hm_today_row *row)
{
	const rp_recs *E = &x->episode;
	int per_day = rp_has(e, RP_E_CPD) ? (int)e->x[RP_E_CPD] : 2;
	size_t lo, hi;
	day_marks m;

	memset(row, 0, sizeof(*row));
	row->last_temp = NAN;
	snprintf(row->person, sizeof(row->person), "%s", pid);
	if (p) {
		snprintf(row->name, sizeof(row->name), "%s", rp_fs(&x->person, p, RP_P_NAME));
		snprintf(row->compound, sizeof(row->compound), "%s",
		         rp_fs(&x->person, p, RP_P_COMPOUND));
		snprintf(row->household, sizeof(row->household), "%s",
		         rp_fs(&x->person, p, RP_P_HOUSEHOLD));
		snprintf(row->village, sizeof(row->village), "%s",
		         rp_fs(&x->person, p, RP_P_VILLAGE));
	} else {
		snprintf(row->village, sizeof(row->village), "%s", e->region);
	}
	snprintf(row->episode, sizeof(row->episode), "%s", rp_rid(E, e));
	snprintf(row->worker, sizeof(row->worker), "%s", rp_fs(E, e, RP_E_WORKER));
	snprintf(row->kind, sizeof(row->kind), "%s", rp_fs(E, e, RP_E_KIND));
	snprintf(row->start, sizeof(row->start), "%s", rp_fs(E, e, RP_E_START));
	snprintf(row->planned_end, sizeof(row->planned_end), "%s", rp_fs(E, e, RP_E_PLANNED));
	row->checks_per_day = per_day < 1 ? 2 : per_day;
	rp_followups_of(x, pid, &lo, &hi);
	person_days(x, lo, hi, row->start, row->checks_per_day, row, &m);
	row->due_morning = row->checks_per_day <= 1 ? !m.morning && !m.evening : !m.morning;
	row->due_evening = row->checks_per_day > 1 && !m.evening;
	row->missed = m.missed;
	row->overdue = m.missed > 0;
	row->ends_today = !strcmp(row->planned_end, x->date);
}

static int row_cmp(const void *a, const void *b)
{
	const hm_today_row *p = a, *q = b;
	int c = strcmp(p->compound, q->compound);

	if (!c)
		c = strcmp(p->household, q->household);
	if (!c)
		c = strcmp(p->name, q->name);
	return c ? c : strcmp(p->person, q->person);
}

/* Every person monitored on the date whose village lies in the region asked. */
static hm_err rows_build(const rp_ctx *x, hm_today *out)
{
	if (!(out->rows = calloc(x->nmon ? x->nmon : 1, sizeof(*out->rows))))
		return HM_ERR_NOMEM;
	for (size_t i = 0; i < x->nmon; i++) {
		const rp_monitored *mo = &x->mon[i];
		const rp_rec *p = rp_person_find(x, mo->pid);
		bool in = p && rp_has(p, RP_P_VILLAGE)
		              ? hm_region_contains(x->region, rp_fs(&x->person, p, RP_P_VILLAGE))
		              : mo->ep->in;
		if (in)
			row_fill(x, mo->pid, mo->ep, p, &out->rows[out->n++]);
	}
	/* sorted by the names in clear, then masked: the order is the register's */
	qsort(out->rows, out->n, sizeof(*out->rows), row_cmp);
	for (size_t i = 0; i < out->n && !out->revealed; i++) {
		char masked[sizeof(out->rows[i].name)];
		hm_ledger_mask(out->rows[i].name, strlen(out->rows[i].name), masked,
		               sizeof(masked));
		memcpy(out->rows[i].name, masked, sizeof(masked));
	}
	return HM_OK;
}

/* The date and region asked, checked, into x. */
static hm_err today_params(hm_ledger *l, const char *region, const char *date, rp_ctx *x)
{
	hm_node_info self;
	hm_err err;

	if (date && !hm_date_valid(date))
		return hm_node_fail(l->node, HM_ERR_INVALID, "'%s' is not a date YYYY-MM-DD", date);
	if (region && (err = hm_person_region_check(l, region)))
		return err;
	hm_node_ident(l->node, &self);
	snprintf(x->region, sizeof(x->region), "%s", region ? region : self.region);
	if (date)
		snprintf(x->date, sizeof(x->date), "%s", date);
	else
		hm_ledger_today(l, x->date);
	if (!hm_date_add(x->date, -1, x->from))
		return hm_node_fail(l->node, HM_ERR_INVALID, "'%s' is not a date", x->date);
	x->window_from_episodes = true; /* follow-ups from the earliest episode running */
	x->l = l, x->n = l->node;
	return HM_OK;
}

hm_err hm_today_build(hm_ledger *l, const char *region, const char *date, bool reveal,
                      hm_today *out)
{
	rp_ctx *x = calloc(1, sizeof(*x));
	hm_report rep; /* the loader reports running out of memory through it */
	hm_err err;

	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	if (!x)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	if ((err = today_params(l, region, date, x)))
		goto out;
	hm_report_init(&rep, "today", "Today", x->region, x->date);
	x->rep = &rep;
	if ((err = rp_setting_number(x, "fever.threshold", "37.3", &x->threshold)) ||
	    (err = rp_load(x, RP_NEED_PERSON | RP_NEED_EPISODE | RP_NEED_FOLLOWUP)))
		goto out;
	snprintf(out->date, sizeof(out->date), "%s", x->date);
	snprintf(out->region, sizeof(out->region), "%s", x->region);
	out->threshold = x->threshold;
	out->revealed = reveal;
	err = rows_build(x, out);
out:
	if (err == HM_ERR_NOMEM)
		hm_node_fail(l->node, err, "out of memory");
	rp_release(x);
	hm_report_release(&rep);
	free(x);
	return err;
}

void hm_today_free(hm_today *t)
{
	if (!t)
		return;
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
