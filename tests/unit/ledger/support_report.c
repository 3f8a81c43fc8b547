/* support_report.c - see support_report.h. */
#define _XOPEN_SOURCE 700
#include "support_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"

static uint64_t rpt_clock(void *arg)
{
	return ((rpt_node *)arg)->now_ms;
}

void rpt_node_open(rpt_node *t, const char *name, hm_role role, const char *region)
{
	hm_node_opts opts = {0};
	hm_err err;

	setenv("TZ", "UTC", 1); /* the station's day is the UTC day here */
	memset(t, 0, sizeof(*t));
	t->now_ms = RPT_NOW_MS;
	opts.clock = rpt_clock;
	opts.clock_ctx = t;
	test_scratch_path(t->dir, sizeof(t->dir), "ledger_report", name);
	if ((err = hm_node_create(t->dir, role, region, name, &opts, NULL)))
		fail_msg("creating node %s: %s", name, hm_strerror(err));
	if ((err = hm_node_open(t->dir, &opts, &t->n)))
		fail_msg("opening node %s: %s", name, hm_strerror(err));
	hm_ledger_init(&t->l, t->n);
	t->l.clock = rpt_clock;
	t->l.clock_arg = t;
}

void rpt_node_close(rpt_node *t)
{
	hm_node_close(t->n);
	t->n = NULL;
}

static void put_field(rpt_node *t, hm_write *w, const char *coll, const char *id, const char *fv)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	const char *eq = strchr(fv, '='), *why = "";
	char field[64], fname[HM_NAME_MAX + 1];
	hm_field_def def;
	hm_value v;
	hm_err err;

	assert_non_null(c);
	assert_non_null(eq);
	snprintf(field, sizeof(field), "%.*s", (int)(eq - fv), fv);
	if ((err = hm_node_field(t->n, c, field, &def, fname)))
		fail_msg("%s.%s: %s", coll, field, hm_strerror(err));
	if ((err = hm_value_parse(&def, eq + 1, &v, &why)))
		fail_msg("%s/%s %s: %s", coll, id, fv, why);
	if ((err = hm_write_set(w, coll, id, field, &v)))
		fail_msg("%s/%s %s: %s", coll, id, fv, hm_strerror(err));
}

void rpt_put(rpt_node *t, const char *coll, const char *id, ...)
{
	hm_write *w;
	hm_err err;
	va_list ap;

	assert_int_equal(hm_write_begin(t->n, &w), HM_OK);
	va_start(ap, id);
	for (const char *fv; (fv = va_arg(ap, const char *));)
		put_field(t, w, coll, id, fv);
	va_end(ap);
	if ((err = hm_write_commit(w, NULL)))
		fail_msg("%s/%s: %s (%s)", coll, id, hm_strerror(err), hm_node_errmsg(t->n));
}

void rpt_setting(rpt_node *t, const char *name, const char *value)
{
	assert_int_equal(hm_node_set_setting(t->n, name, value, NULL), HM_OK);
}

/* The county of cli_report.sh, as its records say on D = 2026-02-03 (the comments there and in
 * the tests give the arithmetic). */
static void county_persons(rpt_node *t)
{
	/* Persons. p1dup is p1 registered again in oak (merged into p1); p8 was merged into p7 and
	 * the merge undone, so p8 stays a person of its own. p10 lives in lin/eastern, not
	 * lin/east. */
	rpt_put(t, "person", "p1", "name=Li Wei", "village=lin/east/elm", "category=returnee",
	        "compound=c1", NULL);
	rpt_put(t, "person", "p2", "name=Zhang San", "village=lin/east/elm", "category=close",
	        "compound=c1", NULL);
	rpt_put(t, "person", "p3", "name=Wang Wu", "village=lin/east/elm", "category=second",
	        "compound=c2", NULL);
	rpt_put(t, "person", "p4", "name=Zhao Liu", "village=lin/east/oak", "category=case",
	        "compound=c9", NULL);
	rpt_put(t, "person", "p5", "name=Sun Qi", "village=lin/east/oak", "category=close", NULL);
	rpt_put(t, "person", "p6", "name=Zhou Ba", "village=lin/west/ash", "category=returnee",
	        "compound=c5", NULL);
	rpt_put(t, "person", "p7", "name=Wu Jiu", "village=lin/west/ash", "category=second", NULL);
	rpt_put(t, "person", "p8", "name=Zheng Shi", "village=lin/west/ash", "category=other",
	        NULL);
	rpt_put(t, "person", "p9", "name=Feng Shiyi", "village=lin/east/elm", "category=returnee",
	        "compound=c2", NULL);
	rpt_put(t, "person", "p10", "name=Chen Er", "village=lin/eastern/pine", "category=other",
	        NULL);
	rpt_put(t, "person", "p1dup", "name=Li Wei", "village=lin/east/oak", "category=returnee",
	        NULL);
	rpt_put(t, "merge", "m1", "keep=p1", "drop=p1dup", "state=merged", "region=lin", NULL);
	rpt_put(t, "merge", "m2", "keep=p7", "drop=p8", "state=undone", "region=lin", NULL);

	/* Episodes. Active on D: start <= D and (no end or end > D). */
	rpt_put(t, "episode", "e1", "person=p1", "village=lin/east/elm", "kind=home",
	        "reason=returnee", "start=2026-02-01", "checks_per_day=2", NULL);
	rpt_put(t, "episode", "e1dup", "person=p1dup", "village=lin/east/oak", "kind=home",
	        "reason=returnee", "start=2026-02-02", NULL);
	rpt_put(t, "episode", "e2", "person=p2", "village=lin/east/elm", "kind=central",
	        "reason=close", "start=2026-02-03", NULL);
	rpt_put(t, "episode", "e3", "person=p3", "village=lin/east/elm", "kind=monitoring",
	        "reason=second", "start=2026-01-20", "end=2026-02-03", NULL);
	rpt_put(t, "episode", "e4", "person=p4", "village=lin/east/oak", "kind=central",
	        "reason=case", "start=2026-01-30", "checks_per_day=3", NULL);
	rpt_put(t, "episode", "e5", "person=p6", "village=lin/west/ash", "kind=home",
	        "reason=returnee", "start=2026-02-02", "end=2026-02-10", NULL);
	rpt_put(t, "episode", "e6", "person=p5", "village=lin/east/oak", "kind=home",
	        "reason=close", "start=2026-02-04", NULL);
	rpt_put(t, "episode", "e7", "person=p8", "village=lin/west/ash", "kind=monitoring",
	        "reason=other", "start=2026-01-25", NULL);
	rpt_put(t, "episode", "e8", "person=p9", "village=lin/east/elm", "kind=home",
	        "reason=returnee", "start=2026-01-28", NULL);
	rpt_put(t, "episode", "e9", "person=p10", "village=lin/eastern/pine", "kind=monitoring",
	        "reason=fever", "start=2026-01-31", "checks_per_day=1", NULL);

	/* Returns. */
	rpt_put(t, "return", "r1", "person=p1", "village=lin/east/elm", "from_area=wuhan",
	        "registered=2026-02-01", NULL);
	rpt_put(t, "return", "r1dup", "person=p1dup", "village=lin/east/oak", "from_area=wuhan",
	        "registered=2026-02-03", NULL);
	rpt_put(t, "return", "r2", "person=p6", "village=lin/west/ash", "from_area=hubei",
	        "registered=2026-02-03", NULL);
	rpt_put(t, "return", "r3", "person=p7", "village=lin/west/ash", "from_area=other",
	        "registered=2026-02-05", NULL);
	rpt_put(t, "return", "r4", "person=p5", "village=lin/east/oak", "registered=2026-01-15",
	        NULL);

	/* Followups. */
	rpt_put(t, "followup", "f1", "person=p1", "village=lin/east/elm", "time=2026-02-03T08:00",
	        "temperature=36.5", "method=visit", NULL);
	rpt_put(t, "followup", "f2", "person=p1", "village=lin/east/elm", "time=2026-02-03T18:00",
	        "temperature=37.5", "method=visit", "action=sent to clinic", NULL);
	rpt_put(t, "followup", "f3", "person=p2", "village=lin/east/elm", "time=2026-02-03T09:00",
	        "temperature=36.8", "method=phone", NULL);
	rpt_put(t, "followup", "f4", "person=p4", "village=lin/east/oak", "time=2026-02-02T09:00",
	        "temperature=37.3", "method=phone", NULL);
	rpt_put(t, "followup", "f5", "person=p6", "village=lin/west/ash", "time=2026-02-01T10:00",
	        "temperature=36.6", "method=visit", NULL);
	rpt_put(t, "followup", "f6", "person=p1dup", "village=lin/east/oak",
	        "time=2026-02-03T12:00", "temperature=36.7", "method=phone", NULL);
	rpt_put(t, "followup", "f7", "person=p8", "village=lin/west/ash", "time=2026-02-03T07:00",
	        "temperature=38.0", "method=self", NULL);
	rpt_put(t, "followup", "f8", "person=p10", "village=lin/eastern/pine",
	        "time=2026-02-03T10:00", "temperature=36.9", "method=visit", NULL);
}

/* Checkpoints, exposures, supplies, notices, tips and penalties. */
static void county_rest(rpt_node *t)
{
	/* Checkpoints. */
	rpt_put(t, "checkpoint_tally", "t1", "checkpoint=k1", "date=2026-02-03", "shift=1",
	        "fever=2", "region=lin/east/oak", NULL);
	rpt_put(t, "checkpoint_tally", "t2", "checkpoint=k1", "date=2026-02-02", "shift=1",
	        "fever=5", "region=lin/east/oak", NULL);

	/* Exposures. */
	rpt_put(t, "exposure", "x1", "source=p1", "contact=p2", "degree=1", "village=lin/east/elm",
	        NULL);
	rpt_put(t, "exposure", "x2", "source=p2", "contact=p3", "degree=2", "village=lin/east/elm",
	        NULL);
	rpt_put(t, "exposure", "x3", "source=p4", "contact=p5", "degree=1", "village=lin/east/oak",
	        NULL);
	rpt_put(t, "exposure", "x4", "source=p5", "contact=p7", "degree=2", "village=lin/east/oak",
	        NULL);
	rpt_put(t, "exposure", "x5", "source=p6", "contact=p8", "degree=1", "village=lin/west/ash",
	        NULL);
	rpt_put(t, "exposure", "x6", "source=p4", "contact=p1dup", "degree=1",
	        "village=lin/east/oak", NULL);

	/* Supplies. */
	rpt_put(t, "stock_txn", "s1", "item=n95", "store=east-depot", "movement=received",
	        "quantity=1000", "date=2026-01-20", "region=lin/east", "shipment=sh1", NULL);
	rpt_put(t, "stock_txn", "s2", "item=n95", "store=east-depot", "movement=issued",
	        "quantity=140", "date=2026-02-01", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s3", "item=n95", "store=east-depot", "movement=transfer",
	        "quantity=200", "to_store=elm-store", "date=2026-02-02", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s4", "item=n95", "store=elm-store", "movement=consumed",
	        "quantity=70", "date=2026-02-03", "region=lin/east/elm", NULL);
	rpt_put(t, "stock_txn", "s5", "item=n95", "store=east-depot", "movement=counted",
	        "quantity=-10", "date=2026-02-03", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s6", "item=n95", "store=east-depot", "movement=requested",
	        "quantity=3000", "date=2026-01-18", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s7", "item=n95", "store=east-depot", "movement=intercepted",
	        "quantity=500", "date=2026-01-25", "region=lin/east", "shipment=sh1", NULL);
	rpt_put(t, "stock_txn", "s8", "item=suits", "store=east-depot", "movement=received",
	        "quantity=50", "date=2026-02-04", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s9", "item=suits", "store=east-depot", "movement=requested",
	        "quantity=100", "date=2026-01-30", "region=lin/east", NULL);
	rpt_put(t, "stock_txn", "s10", "item=thermometer", "store=ash-store", "movement=received",
	        "quantity=20", "date=2026-01-10", "region=lin/west/ash", NULL);
	rpt_put(t, "shipment", "sh1", "from=county-depot", "to=east-depot", "region=lin/east",
	        "lines=n95:1500,suits:100", "status=intercepted", NULL);

	/* Notices. */
	rpt_put(t, "notice", "n1", "compound=c1", "audience=property", "date=2026-02-02",
	        "village=lin/east/elm", NULL);
	rpt_put(t, "notice", "n2", "compound=c1", "audience=residents", "date=2026-02-04",
	        "village=lin/east/elm", NULL);
	rpt_put(t, "notice", "n3", "compound=c9", "audience=residents", "date=2026-02-01",
	        "village=lin/east/oak", NULL);
	rpt_put(t, "notice", "n4", "compound=c2", "audience=property", "date=2026-02-01",
	        "village=lin/east/oak", NULL);

	/* Tips and penalties. */
	rpt_put(t, "tip", "t1", "village=lin/east/elm", "received=2026-01-20", "state=verified",
	        "paid=2026-01-25", NULL);
	rpt_put(t, "tip", "t2", "village=lin/east/elm", "received=2026-01-22", "state=verified",
	        "reward=800", NULL);
	rpt_put(t, "tip", "t3", "village=lin/east/oak", "received=2026-01-23", "state=rejected",
	        NULL);
	rpt_put(t, "tip", "t4", "village=lin/west/ash", "received=2026-01-24", "state=new", NULL);
	rpt_put(t, "penalty", "pen1", "village=lin/east/oak", "person=p5", "state=imposed",
	        "date=2026-01-28", NULL);
	rpt_put(t, "penalty", "pen2", "village=lin/east/oak", "person=p4", "amount=1000",
	        "state=paid", "date=2026-01-29", NULL);
	rpt_put(t, "penalty", "pen3", "village=lin/west/ash", "person=p7", "state=proposed",
	        "date=2026-02-01", NULL);
}

void rpt_county(rpt_node *t)
{
	county_persons(t);
	county_rest(t);
}

void rpt_build(rpt_node *t, const char *name, const char *region, hm_report *out)
{
	hm_report_params p = {.name = name, .date = RPT_D, .region = region};
	hm_err err = hm_report_build(&t->l, &p, out);
	if (err)
		fail_msg("report %s: %s (%s)", name, hm_strerror(err), hm_node_errmsg(t->n));
}

/* Cell c as the tests write it: text, a number with its decimals, "-" for no figure. */
static void cell_str(const hm_report_cell *c, char *buf, size_t cap)
{
	if (c->kind == HM_REPORT_TEXT)
		snprintf(buf, cap, "%s", c->text);
	else if (c->kind == HM_REPORT_NUM)
		snprintf(buf, cap, "%.*f", c->decimals,
		         c->num > -0.05 && c->num < 0.05 ? 0 : c->num);
	else
		snprintf(buf, cap, "-");
}

static const hm_report_table *find_table(const hm_report *r, const char *name)
{
	for (size_t i = 0; i < r->ntables; i++)
		if (!strcmp(r->tables[i]->name, name))
			return r->tables[i];
	return NULL;
}

/* The cell text of want's row j, column k into buf; false when want has no such cell. */
static bool want_cell(const char *want, size_t j, size_t k, char *buf, size_t cap)
{
	const char *p = want, *end;
	size_t n;

	for (size_t i = 0; i < j; i++) {
		if (!(p = strchr(p, '\n')))
			return false;
		p++;
	}
	end = strchr(p, '\n');
	if (!*p || p == end)
		return false;
	for (size_t i = 0; i < k; i++) {
		const char *bar = strchr(p, '|');
		if (!bar || (end && bar > end))
			return false;
		p = bar + 1;
	}
	n = strcspn(p, "|\n");
	snprintf(buf, cap, "%.*s", (int)n, p);
	return true;
}

static size_t want_rows(const char *want)
{
	size_t n = 0;
	for (const char *p = want; *p; p++)
		n += *p == '\n';
	return n;
}

void rpt_table_is_at(const hm_report *r, const char *name, const char *want, const char *file,
                     int line)
{
	const hm_report_table *t = find_table(r, name);
	char got[512], exp[512];

	if (!t)
		fail_msg("%s:%d: report %s has no table %s", file, line, r->name, name);
	if (t->nrows != want_rows(want))
		fail_msg("%s:%d: table %s: %zu rows, want %zu", file, line, name, t->nrows,
		         want_rows(want));
	for (size_t j = 0; j < t->nrows; j++)
		for (size_t k = 0; k < t->ncols; k++) {
			cell_str(&t->rows[j].cells[k], got, sizeof(got));
			if (!want_cell(want, j, k, exp, sizeof(exp)))
				fail_msg("%s:%d: table %s row %zu: more cells than wanted (%s %s)",
				         file, line, name, j + 1, t->cols[k], got);
			if (strcmp(got, exp) != 0)
				fail_msg("%s:%d: table %s row %zu, %s: got '%s', want '%s'", file,
				         line, name, j + 1, t->cols[k], got, exp);
			if (k + 1 == t->ncols && want_cell(want, j, k + 1, exp, sizeof(exp)))
				fail_msg("%s:%d: table %s row %zu: fewer cells than wanted", file,
				         line, name, j + 1);
		}
}
