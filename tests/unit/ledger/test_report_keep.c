/* test_report_keep.c - reports built through a report keep (hm_report_keep, as the web interface
 * builds them) say exactly what reports read from the store say: every report, for the county,
 * a township and a village, on D and on days around it, and Today, on the county of the report
 * tests, then after each of a series of writes: follow-ups in the window, before it and far
 * back, a check of weeks ago of a contact never checked, two checks at one time, one follow-up
 * id written at two stations, new persons,
 * an episode ended, a merge, a person moved, many follow-ups at once and a rebuild of every
 * record. The keep's counters show which writes it took one by one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_report.h"

static rpt_node county;
static hm_report_keep *keep;

static const char *const regions[] = {"lin", "lin/east", "lin/east/elm", "lin/west/ash"};
static const char *const dates[] = {"2026-02-01", RPT_D, "2026-02-05"};

/* Report name for region on date as text, through l. */
static char *render(hm_ledger *l, const char *name, const char *region, const char *date, long days)
{
	hm_report_params p = {
	    .name = name, .region = region, .date = date, .days = days, .show_pii = true};
	hm_report r;
	char *text = NULL;
	hm_err err = hm_report_build(l, &p, &r);

	if (err == HM_ERR_NOT_FOUND) { /* a region with nothing in it: the same both ways */
		hm_report_release(&r);
		return strdup(hm_node_errmsg(l->node));
	}
	if (err)
		fail_msg("%s %s %s: %s", name, region, date, hm_node_errmsg(l->node));
	assert_int_equal(hm_report_render_mem(&r, HM_REPORT_FMT_JSON, 0, &text, NULL), HM_OK);
	hm_report_release(&r);
	return text;
}

static char *today_text(hm_ledger *l, const char *region, const char *date)
{
	hm_today t;
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	hm_err err = hm_today_build(l, region, date, true, &t);

	assert_non_null(f);
	fprintf(f, "%d %s\n", (int)err, err ? hm_node_errmsg(l->node) : "");
	for (size_t i = 0; !err && i < t.n; i++) {
		const hm_today_row *r = &t.rows[i];
		fprintf(f, "%s %s %s %s %s %d%d%d%d%d %d %g %s\n", r->person, r->name, r->episode,
		        r->village, r->start, r->due_morning, r->due_evening, r->overdue, r->fever,
		        r->ends_today, r->missed, r->last_temp, r->last_time);
	}
	hm_today_free(&t);
	fclose(f);
	return text;
}

/* a and b equal, or the test fails showing both. */
static void same(const char *after, const char *what, const char *region, const char *date, char *a,
                 char *b)
{
	if (strcmp(a, b) != 0) {
		fprintf(stderr,
		        "after %s: %s %s %s differs:\nfrom the store:\n%s\nthrough the keep:\n%s\n",
		        after, what, region, date, a, b);
		fail();
	}
	free(a), free(b);
}

/* Every report, region and date, and Today, the same through the keep and from the store. */
static void assert_same(const char *after)
{
	hm_ledger plain = county.l, kept = county.l;
	const char *const *names = hm_report_names();

	plain.keep = NULL;
	kept.keep = keep;
	/* first what was built last: its fold, kept, must have taken what came since */
	same(after, "monitoring --days 9", "lin", RPT_D,
	     render(&plain, "monitoring", "lin", RPT_D, 9),
	     render(&kept, "monitoring", "lin", RPT_D, 9));
	for (size_t d = 0; d < sizeof(dates) / sizeof(dates[0]); d++)
		for (size_t g = 0; g < sizeof(regions) / sizeof(regions[0]); g++) {
			for (size_t i = 0; names[i]; i++)
				same(after, names[i], regions[g], dates[d],
				     render(&plain, names[i], regions[g], dates[d], 0),
				     render(&kept, names[i], regions[g], dates[d], 0));
			same(after, "Today", regions[g], dates[d],
			     today_text(&plain, regions[g], dates[d]),
			     today_text(&kept, regions[g], dates[d]));
		}
	/* and a wider window than the default */
	same(after, "monitoring --days 9", "lin", RPT_D,
	     render(&plain, "monitoring", "lin", RPT_D, 9),
	     render(&kept, "monitoring", "lin", RPT_D, 9));
}

static void check(const char *person, const char *village, const char *id, const char *time,
                  const char *temp)
{
	char p[64], v[64], t[64], tt[64];
	snprintf(p, sizeof(p), "person=%s", person);
	snprintf(v, sizeof(v), "village=%s", village);
	snprintf(t, sizeof(t), "time=%s", time);
	snprintf(tt, sizeof(tt), "temperature=%s", temp);
	rpt_put(&county, "followup", id, p, v, t, tt, "method=visit", NULL);
}

/* Apply to county every change set of other: one batch, as a sync would. */
static int apply_one(void *ctx, const hm_changeset_view *cs)
{
	hm_apply_stats st = {0};
	hm_bytes b = cs->envelope;
	assert_int_equal(hm_node_apply(ctx, &b, 1, &st, NULL), HM_OK);
	return 0;
}

/* Another station (of no keys, as the county here) wrote follow-up id too, of person at time
 * with temperature temp (as check() writes one): its change set reaches the county. */
static void same_id_elsewhere(const char *id, const char *person, const char *time,
                              const char *temp)
{
	char p[64], t[64], tt[64];
	rpt_node other;

	snprintf(p, sizeof(p), "person=%s", person);
	snprintf(t, sizeof(t), "time=%s", time);
	snprintf(tt, sizeof(tt), "temperature=%s", temp);
	rpt_node_open(&other, "report_keep_other", HM_ROLE_COUNTY, "lin");
	rpt_put(&other, "followup", id, p, "village=lin/east/elm", t, tt, "method=visit", NULL);
	assert_int_equal(hm_node_changesets(other.n, NULL, apply_one, county.n), HM_OK);
	rpt_node_close(&other);
}

static void region_seen(void *ctx, const char *region)
{
	char *seen = ctx;
	if (strlen(seen) + strlen(region) + 2 < 1024)
		strcat(strcat(seen, region), " ");
}

static void test_the_same_through_every_write(void **state)
{
	hm_report_keep_stats st;
	(void)state;

	assert_int_equal(hm_report_keep_new((size_t)1 << 30, &keep), HM_OK);
	/* A report through the keep groups the follow-ups by the keep's numbers of the persons,
	 * mapped through the merges that hold (numbers_merged); one from the store, by a hash of
	 * each person through them. The first writes here come without a merge, those after the
	 * merge made again below with one, then with merges into persons no follow-up names. */
	rpt_put(&county, "merge", "m1", "state=undone", NULL);
	assert_same("the county as made");
	{ /* the regions of the records kept: every village of the county (the report pages'
	   * region picker) */
		char seen[1024] = "";
		hm_report_keep_regions(keep, region_seen, seen);
		for (size_t g = 0; g < 4; g++) {
			static const char *const villages[] = {"lin/east/elm", "lin/east/oak",
			                                       "lin/eastern/pine", "lin/west/ash"};
			assert_non_null(strstr(seen, villages[g]));
		}
		hm_report_keep_regions(NULL, region_seen, seen); /* none, and no fault */
	}
	hm_report_keep_stats_get(keep, &st);
	assert_true(st.loads > 0);
	size_t loads = st.loads;

	check("p1", "lin/east/elm", "k1", "2026-02-03T19:00", "38.4"); /* in the window, a fever */
	check("p2", "lin/east/elm", "k2", "2026-01-20T08:00", "36.5"); /* long before */
	check("p6", "lin/west/ash", "k3", "2026-02-02T08:00", "36.9"); /* the day before D */
	check("p1dup", "lin/east/oak", "k4", "2026-02-04T08:00", "39.0"); /* after D, merged */
	assert_same("four follow-ups");
	hm_report_keep_stats_get(keep, &st);
	assert_int_equal(st.loads, loads); /* taken one by one: nothing read again whole */
	assert_int_equal(st.added, 4);

	rpt_put(&county, "person", "p20", "name=Ma Liu", "village=lin/west/ash", "category=close",
	        NULL);
	rpt_put(&county, "episode", "e20", "person=p20", "village=lin/west/ash", "kind=home",
	        "start=2026-02-01", "planned_end=2026-02-14", NULL);
	check("p20", "lin/west/ash", "k5", "2026-02-03T08:00", "37.9");
	assert_same("a new person, episode and check");
	hm_report_keep_stats_get(keep, &st);
	assert_int_equal(st.loads, loads); /* each read alone and put in its place */
	assert_int_equal(st.put, 2);
	assert_int_equal(st.added, 5);

	/* A person edited: read again alone, in place (its name in every list, its category in
	 * the key persons), found by the persons' index as before */
	rpt_put(&county, "person", "p20", "name=Ma Liuliu", "category=case", NULL);
	assert_same("a person's name and category edited");
	hm_report_keep_stats_get(keep, &st);
	assert_int_equal(st.loads, loads);
	assert_int_equal(st.put, 3);
	{ /* edited again and again: past a quarter of the persons' texts left unused, they are
	   * read whole again (the arena does not grow without end) */
		char name[600];
		memset(name, 'x', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		for (int i = 0; i < 12; i++) {
			char field[640];
			name[0] = (char)('a' + i);
			snprintf(field, sizeof(field), "name=%s", name);
			rpt_put(&county, "person", "p20", field, NULL);
			assert_same("a person's long name edited");
		}
		hm_report_keep_stats_get(keep, &st);
		assert_true(st.loads > loads);
		loads = st.loads;
		/* read whole, its texts all used again: a short edit is put in place */
		rpt_put(&county, "person", "p20", "name=Ma Liu", NULL);
		assert_same("a person's name edited back");
		hm_report_keep_stats_get(keep, &st);
		assert_int_equal(st.loads, loads);
		assert_int_equal(st.put, 4);
	}
	{ /* more than a keep puts in place at once (256): read whole */
		hm_write *w;
		hm_value v = {.kind = HM_V_STR, .u.s = {"lin/west/ash", 12}};
		assert_int_equal(hm_write_begin(county.n, &w), HM_OK);
		for (int i = 0; i < 300; i++) {
			char id[16], name[24];
			hm_value nv = {.kind = HM_V_STR};
			snprintf(id, sizeof(id), "q%03d", i);
			snprintf(name, sizeof(name), "Qian %d", i);
			nv.u.s.p = name, nv.u.s.n = (uint32_t)strlen(name);
			assert_int_equal(hm_write_set(w, "person", id, "name", &nv), HM_OK);
			assert_int_equal(hm_write_set(w, "person", id, "village", &v), HM_OK);
		}
		assert_int_equal(hm_write_commit(w, NULL), HM_OK);
		hm_report_keep_stats_get(keep, &st);
		size_t put = st.put;
		assert_same("300 persons in one change set");
		hm_report_keep_stats_get(keep, &st);
		assert_true(st.loads > loads);
		assert_int_equal(st.put, put);
		loads = st.loads;
	}

	/* A contact of a close contact, never checked: listed as such; then a check of weeks ago
	 * comes (the fold of old follow-ups, kept, takes it) */
	rpt_put(&county, "person", "p21", "name=Gao Qi", "village=lin/west/ash", "category=second",
	        NULL);
	rpt_put(&county, "exposure", "x21", "source=p2", "contact=p21", "degree=2",
	        "village=lin/west/ash", NULL);
	rpt_put(&county, "episode", "e21", "person=p21", "village=lin/west/ash", "kind=monitoring",
	        "start=2026-01-20", "planned_end=2026-02-20", NULL);
	assert_same("a contact never checked");
	check("p21", "lin/west/ash", "k21", "2026-01-25T08:00", "36.4");
	assert_same("the contact's check of weeks ago");
	/* Two checks of one person at one time: the one of the lower id comes first, as the store
	 * lists them, whichever came last */
	check("p1", "lin/east/elm", "a1", "2026-02-03T18:00", "39.5");
	assert_same("a second check at the same time");
	/* The same follow-up id written at another station: whatever the merge keeps of it, the
	 * keep says the same (it reads the follow-ups again when one it holds changes) */
	same_id_elsewhere("k1", "p2", "2026-02-03T07:00", "39.9");
	assert_same("a follow-up id written elsewhere too");
	/* the same check written elsewhere too: the follow-up the log names again holds what the
	 * keep holds (it has no action nor slot), so nothing is read again */
	check("p3", "lin/east/elm", "k9", "2026-02-03T10:00", "36.2");
	assert_same("a follow-up of p3");
	hm_report_keep_stats_get(keep, &st);
	loads = st.loads;
	same_id_elsewhere("k9", "p3", "2026-02-03T10:00", "36.2");
	assert_same("the same follow-up written elsewhere");
	hm_report_keep_stats_get(keep, &st);
	assert_int_equal(st.loads, loads);
	/* a person's id with a NUL in it (any peer may write one): the store's reading folds it
	 * under no one, and so does the keep */
	{
		hm_write *w;
		hm_value p = {.kind = HM_V_STR, .u.s = {"p9\0x", 4}};
		hm_value v = {.kind = HM_V_STR, .u.s = {"lin/east/elm", 12}};
		hm_value t = {.kind = HM_V_STR, .u.s = {"2026-01-15T08:00", 16}};
		assert_int_equal(hm_write_begin(county.n, &w), HM_OK);
		assert_int_equal(hm_write_set(w, "followup", "knul", "person", &p), HM_OK);
		assert_int_equal(hm_write_set(w, "followup", "knul", "village", &v), HM_OK);
		assert_int_equal(hm_write_set(w, "followup", "knul", "time", &t), HM_OK);
		assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	}
	assert_same("a follow-up whose person has a NUL");

	rpt_put(&county, "merge", "m1", "state=merged", NULL);
	assert_same("a merge made again");
	/* kept as a person no follow-up names: its number is made for the report, one for both
	 * persons dropped into it */
	rpt_put(&county, "person", "p22", "name=Lu Yi", "village=lin/east/elm", NULL);
	rpt_put(&county, "merge", "m4", "keep=p22", "drop=p3", "state=merged", "region=lin", NULL);
	rpt_put(&county, "merge", "m5", "keep=p22", "drop=p4", "state=merged", "region=lin", NULL);
	assert_same("two merges into a person with no follow-up");
	for (int i = 0; i < 70; i++) { /* many such */
		char id[16], keep_p[24], drop_p[24], m[16];
		snprintf(id, sizeof(id), "v%d", i);
		check(id, "lin/west/ash", id, "2026-02-03T09:00", i % 2 ? "36.5" : "38.1");
		snprintf(keep_p, sizeof(keep_p), "keep=w%d", i);
		snprintf(drop_p, sizeof(drop_p), "drop=%s", id);
		snprintf(m, sizeof(m), "mv%d", i);
		rpt_put(&county, "merge", m, keep_p, drop_p, "state=merged", "region=lin", NULL);
	}
	assert_same("seventy merges into persons with no follow-up");
	rpt_put(&county, "episode", "e20", "end=2026-02-03", NULL);
	rpt_put(&county, "merge", "m3", "keep=p20", "drop=p6", "state=merged", "region=lin", NULL);
	{
		hm_write *w;
		assert_int_equal(hm_write_begin(county.n, &w), HM_OK);
		assert_int_equal(hm_write_move(w, "person", "p2", NULL, "lin/west/ash"), HM_OK);
		assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	}
	assert_same("an episode ended, a merge, a person moved");
	hm_report_keep_stats_get(keep, &st);
	assert_true(st.loads > loads); /* the person moved is gone from its old place: read whole */

	for (int i = 0; i < 40; i++) { /* many at once, some days back */
		char id[16], t[32];
		snprintf(id, sizeof(id), "m%d", i);
		snprintf(t, sizeof(t), "2026-01-%02dT%02d:00", 10 + i % 20, 8 + i % 10);
		check(i % 2 ? "p1" : "p20", i % 2 ? "lin/east/elm" : "lin/west/ash", id, t,
		      i % 3 ? "36.6" : "38.2");
	}
	assert_same("forty follow-ups");

	{ /* a sync that brings more than 4096 at once: read whole, not one at a time */
		hm_write *w;
		hm_value v = {.kind = HM_V_STR, .u.s = {"lin/east/elm", 12}};
		hm_value p = {.kind = HM_V_STR, .u.s = {"p1", 2}};
		size_t added;
		hm_report_keep_stats_get(keep, &st);
		loads = st.loads, added = st.added;
		assert_int_equal(hm_write_begin(county.n, &w), HM_OK);
		for (int i = 0; i < 4200; i++) {
			char id[16], t[24];
			hm_value tv = {.kind = HM_V_STR};
			snprintf(id, sizeof(id), "bulk%d", i);
			snprintf(t, sizeof(t), "2026-01-%02dT%02d:%02d", 1 + i % 28, i % 24,
			         i % 60);
			tv.u.s.p = t, tv.u.s.n = (uint32_t)strlen(t);
			assert_int_equal(hm_write_set(w, "followup", id, "person", &p), HM_OK);
			assert_int_equal(hm_write_set(w, "followup", id, "village", &v), HM_OK);
			assert_int_equal(hm_write_set(w, "followup", id, "time", &tv), HM_OK);
		}
		assert_int_equal(hm_write_commit(w, NULL), HM_OK);
		assert_same("4200 follow-ups in one change set");
		hm_report_keep_stats_get(keep, &st);
		assert_true(st.loads > loads);
		assert_int_equal(st.added, added);
	}

	assert_int_equal(hm_node_repair(county.n), HM_OK); /* every record rebuilt */
	hm_report_keep_stats_get(keep, &st);
	loads = st.loads;
	assert_same("a rebuild of every record");
	hm_report_keep_stats_get(keep, &st);
	assert_true(st.loads > loads);
	hm_report_keep_free(keep);
	keep = NULL;

	/* a keep past its bytes turns itself off: the reports read the store, the same */
	assert_int_equal(hm_report_keep_new(64, &keep), HM_OK);
	assert_same("a keep of 64 bytes");
	hm_report_keep_stats_get(keep, &st);
	assert_true(st.off);
	hm_report_keep_free(keep);
	keep = NULL;
}

static int setup(void **state)
{
	(void)state;
	rpt_node_open(&county, "report_keep", HM_ROLE_COUNTY, "lin");
	rpt_county(&county);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hm_report_keep_free(keep);
	rpt_node_close(&county);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_same_through_every_write),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
