/* test_report_daily.c - the daily report's figures on the county of support_report.c, cell by
 * cell: under monitoring by kind and reason, returnees, fevers; a region and its neighbour whose
 * name extends it; a merge undone; the county's fever threshold; an empty village; the date from
 * the ledger's clock; and a region that does not exist or that the node does not hold. */
#include "support_report.h"

#include <string.h>

RPT_COUNTY_FIXTURE("daily")

/* Under monitoring on D, once per person (p1 and p1dup are one, under e1, which started first):
 * elm p1 (home, returnee), p2 (central, close), p9 (home, returnee); oak p4 (central, case); pine
 * p10 (monitoring, fever); ash p6 (home, returnee), p8 (monitoring, other). New on D: e2 (elm);
 * released on D: e3 (elm). */
static const char under_monitoring[] = "lin/east/elm|village|3|2|1|0|2|1|0|0|0|0|1|1\n"
                                       "lin/east/oak|village|1|0|1|0|0|0|0|1|0|0|0|0\n"
                                       "lin/east|subtotal|4|2|2|0|2|1|0|1|0|0|1|1\n"
                                       "lin/eastern/pine|village|1|0|0|1|0|0|0|0|1|0|0|0\n"
                                       "lin/eastern|subtotal|1|0|0|1|0|0|0|0|1|0|0|0\n"
                                       "lin/west/ash|village|2|1|0|1|1|0|0|0|0|1|0|0\n"
                                       "lin/west|subtotal|2|1|0|1|1|0|0|0|0|1|0|0\n"
                                       "lin|total|7|3|2|2|3|1|0|1|1|1|1|1\n";

static void test_daily_county(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "daily", NULL, &r);
	assert_string_equal(r.region, "lin");
	assert_string_equal(r.date, RPT_D);
	rpt_table_is(&r, "under_monitoring", under_monitoring);
	/* Returnees by their first registration: p1 in elm on 02-01 (r1dup is the same person,
	 * later), p5 in oak 01-15 (no origin: other), p6 in ash on D (new); p7 after D. */
	rpt_table_is(&r, "returnees",
	             "lin/east/elm|village|0|1|1|0|0\n"
	             "lin/east/oak|village|0|1|0|0|1\n"
	             "lin/east|subtotal|0|2|1|0|1\n"
	             "lin/eastern/pine|village|0|0|0|0|0\n"
	             "lin/eastern|subtotal|0|0|0|0|0\n"
	             "lin/west/ash|village|1|1|0|1|0\n"
	             "lin/west|subtotal|1|1|0|1|0\n"
	             "lin|total|1|3|1|1|1\n");
	/* Fevers on D at or above 37.3: f2 (elm 37.5), f7 (ash 38.0); checkpoint k1 found 2 on D
	 * in oak (and 5 the day before, not counted). */
	rpt_table_is(&r, "fevers",
	             "lin/east/elm|village|1|0|1\n"
	             "lin/east/oak|village|0|2|2\n"
	             "lin/east|subtotal|1|2|3\n"
	             "lin/eastern/pine|village|0|0|0\n"
	             "lin/eastern|subtotal|0|0|0\n"
	             "lin/west/ash|village|1|0|1\n"
	             "lin/west|subtotal|1|0|1\n"
	             "lin|total|2|2|4\n");
	assert_int_equal(r.nparams, 1);
	assert_string_equal(r.params[0].name, "fever.threshold");
	assert_string_equal(r.params[0].value, "37.3");
	hm_report_release(&r);
}

/* A region keeps its own records and those below it: lin/east is not lin/eastern. */
static void test_daily_region(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "daily", "lin/east", &r);
	rpt_table_is(&r, "under_monitoring",
	             "lin/east/elm|village|3|2|1|0|2|1|0|0|0|0|1|1\n"
	             "lin/east/oak|village|1|0|1|0|0|0|0|1|0|0|0|0\n"
	             "lin/east|total|4|2|2|0|2|1|0|1|0|0|1|1\n");
	hm_report_release(&r);
}

/* Without the merge, p1dup is a second person under monitoring in oak and a second returnee;
 * and with a fever threshold of 37.6, f2 (37.5) is no fever. On a node of its own. */
static void test_daily_merge_undone_and_threshold(void **state)
{
	rpt_node t;
	hm_report r;
	(void)state;

	rpt_node_open(&t, "daily-nomerge", HM_ROLE_COUNTY, "lin");
	rpt_county(&t);
	rpt_put(&t, "merge", "m1", "state=undone", NULL);
	rpt_setting(&t, "fever.threshold", "37.6");
	rpt_build(&t, "daily", NULL, &r);
	rpt_table_is(&r, "under_monitoring",
	             "lin/east/elm|village|3|2|1|0|2|1|0|0|0|0|1|1\n"
	             "lin/east/oak|village|2|1|1|0|1|0|0|1|0|0|0|0\n"
	             "lin/east|subtotal|5|3|2|0|3|1|0|1|0|0|1|1\n"
	             "lin/eastern/pine|village|1|0|0|1|0|0|0|0|1|0|0|0\n"
	             "lin/eastern|subtotal|1|0|0|1|0|0|0|0|1|0|0|0\n"
	             "lin/west/ash|village|2|1|0|1|1|0|0|0|0|1|0|0\n"
	             "lin/west|subtotal|2|1|0|1|1|0|0|0|0|1|0|0\n"
	             "lin|total|8|4|2|2|4|1|0|1|1|1|1|1\n");
	rpt_table_is(&r, "returnees",
	             "lin/east/elm|village|0|1|1|0|0\n"
	             "lin/east/oak|village|1|2|1|0|1\n"
	             "lin/east|subtotal|1|3|2|0|1\n"
	             "lin/eastern/pine|village|0|0|0|0|0\n"
	             "lin/eastern|subtotal|0|0|0|0|0\n"
	             "lin/west/ash|village|1|1|0|1|0\n"
	             "lin/west|subtotal|1|1|0|1|0\n"
	             "lin|total|2|4|2|1|1\n");
	rpt_table_is(&r, "fevers",
	             "lin/east/elm|village|0|0|0\n"
	             "lin/east/oak|village|0|2|2\n"
	             "lin/east|subtotal|0|2|2\n"
	             "lin/eastern/pine|village|0|0|0\n"
	             "lin/eastern|subtotal|0|0|0\n"
	             "lin/west/ash|village|1|0|1\n"
	             "lin/west|subtotal|1|0|1\n"
	             "lin|total|1|2|3\n");
	assert_string_equal(r.params[0].value, "37.6");
	hm_report_release(&r);
	rpt_node_close(&t);
}

/* A township whose name extends another's (lin/east-x) keeps its rows apart. */
static void test_daily_region_order(void **state)
{
	rpt_node t;
	hm_report r;
	(void)state;

	rpt_node_open(&t, "daily-order", HM_ROLE_COUNTY, "lin");
	rpt_put(&t, "episode", "a", "person=pa", "village=lin/east/v1", "kind=home", "start=" RPT_D,
	        NULL);
	rpt_put(&t, "episode", "b", "person=pb", "village=lin/east-x/v1", "kind=home",
	        "start=" RPT_D, NULL);
	rpt_put(&t, "episode", "c", "person=pc", "village=lin/east/v2", "kind=home", "start=" RPT_D,
	        NULL);
	rpt_build(&t, "daily", NULL, &r);
	rpt_table_is(&r, "under_monitoring",
	             "lin/east/v1|village|1|1|0|0|0|0|0|0|0|1|1|0\n"
	             "lin/east/v2|village|1|1|0|0|0|0|0|0|0|1|1|0\n"
	             "lin/east|subtotal|2|2|0|0|0|0|0|0|0|2|2|0\n"
	             "lin/east-x/v1|village|1|1|0|0|0|0|0|0|0|1|1|0\n"
	             "lin/east-x|subtotal|1|1|0|0|0|0|0|0|0|1|1|0\n"
	             "lin|total|3|3|0|0|0|0|0|0|0|3|3|0\n");
	hm_report_release(&r);
	rpt_node_close(&t);
}

/* Empty data is no error: on a village with nothing, the total alone, at zero; and the day is
 * today by the ledger's clock when no date is given. */
static void test_daily_empty_village_today(void **state)
{
	rpt_node t;
	hm_report r;
	hm_report_params p = {.name = "daily"};
	(void)state;

	rpt_node_open(&t, "daily-empty", HM_ROLE_VILLAGE, "lin/east/elm");
	t.now_ms = RPT_NOW_MS + 86400000ull; /* the day after D */
	assert_int_equal(hm_report_build(&t.l, &p, &r), HM_OK);
	assert_string_equal(r.date, "2026-02-04");
	assert_string_equal(r.region, "lin/east/elm");
	rpt_table_is(&r, "under_monitoring", "lin/east/elm|total|0|0|0|0|0|0|0|0|0|0|0|0\n");
	hm_report_release(&r);
	rpt_node_close(&t);
}

/* A region with no record in the ledger, or one the node does not hold, is said so (it was a
 * report of zeros). */
static void test_daily_region_unknown(void **state)
{
	rpt_node t;
	hm_report r;
	hm_report_params p = {.name = "daily", .date = RPT_D, .region = "lin/north"};
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_ERR_NOT_FOUND);
	assert_string_equal(hm_node_errmsg(county.n), "no records in region lin/north");
	hm_report_release(&r);
	p.region = "lin/east/birch"; /* a village of a township that exists */
	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_ERR_NOT_FOUND);
	hm_report_release(&r);

	rpt_node_open(&t, "daily-scope", HM_ROLE_VILLAGE, "lin/east/elm");
	p.region = "lin/west";
	assert_int_equal(hm_report_build(&t.l, &p, &r), HM_ERR_SCHEMA);
	assert_string_equal(hm_node_errmsg(t.n),
	                    "region lin/west is outside this node's scope (lin/east/elm)");
	hm_report_release(&r);
	p.region = "lin/east"; /* its township, above it: what it holds of it */
	assert_int_equal(hm_report_build(&t.l, &p, &r), HM_OK);
	hm_report_release(&r);
	rpt_node_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_daily_county),
	    cmocka_unit_test(test_daily_region),
	    cmocka_unit_test(test_daily_merge_undone_and_threshold),
	    cmocka_unit_test(test_daily_region_order),
	    cmocka_unit_test(test_daily_empty_village_today),
	    cmocka_unit_test(test_daily_region_unknown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
