/* test_report_monitoring.c - the monitoring report's figures on the county of support_report.c,
 * cell by cell (N = 2: follow-ups dated 02-02 and 02-03): compliance, persons not seen, only
 * phoned, fever alerts, contacts of key persons with no temperature; --days 1; names masked or
 * in clear, and the persons named counted for the access log. */
#include "support_report.h"

#include <string.h>

RPT_COUNTY_FIXTURE("monitoring")

/* Checks due on D per person under monitoring (checks_per_day, 2 when empty) and done
 * (follow-ups on D, at most that many): elm p1 2/2 (f1 f2 f6: 3, capped), p2 2/1 (f3), p9 2/0
 * -> 6/3 = 50.0; oak p4 3/0; pine p10 1/1; ash p6 2/0, p8 2/1 -> 4/1. Follow-ups on D by their
 * own village and phone among them: elm f1 f2 f3 (f3 phone), oak f6 (phone), pine f8, ash f7. */
static void test_monitoring_compliance(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "monitoring", NULL, &r);
	rpt_table_is(&r, "compliance",
	             "lin/east/elm|village|6|3|50.0|3|1|33.3\n"
	             "lin/east/oak|village|3|0|0.0|1|1|100.0\n"
	             "lin/east|subtotal|9|3|33.3|4|2|50.0\n"
	             "lin/eastern/pine|village|1|1|100.0|1|0|0.0\n"
	             "lin/eastern|subtotal|1|1|100.0|1|0|0.0\n"
	             "lin/west/ash|village|4|1|25.0|1|0|0.0\n"
	             "lin/west|subtotal|4|1|25.0|1|0|0.0\n"
	             "lin|total|14|5|35.7|6|2|33.3\n");
	/* the chart of a percentage is drawn against 100%, not against the largest value */
	assert_int_equal(r.tables[0]->chart, 4);
	assert_true(r.tables[0]->chart_max == 100);
	hm_report_release(&r);
}

static void test_monitoring_lists(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "monitoring", NULL, &r);
	/* Not seen on 02-02 or 02-03: p6 (last seen 02-01), p9 (never). Masked names. */
	rpt_table_is(&r, "not_seen",
	             "p6|Z******|lin/west/ash|2026-02-01\n"
	             "p9|F*********|lin/east/elm|never\n");
	/* Only phoned in the window: p2 (f3), p4 (f4). p1 was visited too (f1, f2). */
	rpt_table_is(&r, "phone_only",
	             "p2|Z********|lin/east/elm|1\n"
	             "p4|Z*******|lin/east/oak|1\n");
	/* Fevers at or above 37.3 in the window, by time: f4 (37.3, no action), f7, f2 (acted). */
	rpt_table_is(&r, "fever_alerts",
	             "p4|Z*******|lin/east/oak|2026-02-02T09:00|37.3|-|no\n"
	             "p8|Z********|lin/west/ash|2026-02-03T07:00|38.0|-|no\n"
	             "p1|L*****|lin/east/elm|2026-02-03T18:00|37.5|sent to clinic|yes\n");
	/* Key persons p2 (close), p4 (case), p5 (close); their contacts p3 (x2), p5 (x3), p7 (x4)
	 * and p1 (x6, through p1dup): p1 has temperatures, the others none. */
	rpt_table_is(&r, "contacts_no_temperature",
	             "p3|W******|lin/east/elm\n"
	             "p5|S*****|lin/east/oak\n"
	             "p7|W*****|lin/west/ash\n");
	assert_int_equal(r.persons_listed, 10);
	assert_false(r.show_pii);
	hm_report_release(&r);
}

static void test_monitoring_days_1(void **state)
{
	hm_report r;
	hm_report_params p = {.name = "monitoring", .date = RPT_D, .days = 1};
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	rpt_table_is(&r, "not_seen",
	             "p4|Z*******|lin/east/oak|2026-02-02\n"
	             "p6|Z******|lin/west/ash|2026-02-01\n"
	             "p9|F*********|lin/east/elm|never\n");
	assert_string_equal(r.params[1].name, "days");
	assert_string_equal(r.params[1].value, "1");
	hm_report_release(&r);
}

static void test_monitoring_show_pii(void **state)
{
	hm_report r;
	hm_report_params p = {.name = "monitoring", .date = RPT_D, .show_pii = true};
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	rpt_table_is(&r, "not_seen",
	             "p6|Zhou Ba|lin/west/ash|2026-02-01\n"
	             "p9|Feng Shiyi|lin/east/elm|never\n");
	assert_true(r.show_pii);
	hm_report_release(&r);
}

/* The county's threshold moves the alerts: at 37.6, f2 (37.5) and f4 (37.3) are none. */
static void test_monitoring_threshold(void **state)
{
	rpt_node t;
	hm_report r;
	(void)state;

	rpt_node_open(&t, "monitoring-threshold", HM_ROLE_COUNTY, "lin");
	rpt_county(&t);
	rpt_setting(&t, "fever.threshold", "37.6");
	rpt_build(&t, "monitoring", NULL, &r);
	rpt_table_is(&r, "fever_alerts", "p8|Z********|lin/west/ash|2026-02-03T07:00|38.0|-|no\n");
	hm_report_release(&r);
	rpt_node_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_monitoring_compliance),
	    cmocka_unit_test(test_monitoring_lists),
	    cmocka_unit_test(test_monitoring_days_1),
	    cmocka_unit_test(test_monitoring_show_pii),
	    cmocka_unit_test(test_monitoring_threshold),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
