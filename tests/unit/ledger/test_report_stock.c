/* test_report_stock.c - the supplies, compounds and rewards reports' figures on the county of
 * support_report.c, cell by cell: stock on hand, daily use, days of cover and gap; shipments and
 * interceptions; compounds told or not; tips and penalties under the county's rule, at the
 * settings' defaults and as the county set them. */
#include "support_report.h"

#include <string.h>

RPT_COUNTY_FIXTURE("stock")

/* N = 7: 01-28 .. 02-03. n95@east-depot: 1000 received - 140 issued - 200 transferred out - 10
 * counted = 650; use 140/7 = 20.0 a day; 32.5 days; requested 3000, gap 2000. n95@elm-store:
 * 200 in - 70 consumed = 130; 10.0 a day; 13.0 days. suits: 50 received after D; 100 requested.
 * thermometers: 20. */
static void test_supplies(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "supplies", NULL, &r);
	rpt_table_is(&r, "stock",
	             "n95|east-depot|1000|0|140|200|0|-10|650|20.0|32.5|3000|2000\n"
	             "n95|elm-store|0|200|0|0|70|0|130|10.0|13.0|0|0\n"
	             "suits|east-depot|0|0|0|0|0|0|0|0.0|-|100|100\n"
	             "thermometer|ash-store|20|0|0|0|0|0|20|0.0|-|0|0\n");
	rpt_table_is(&r, "shipments",
	             "sh1|county-depot|east-depot|intercepted|n95|1500|1000|500\n"
	             "sh1|county-depot|east-depot|intercepted|suits|100|0|0\n");
	rpt_table_is(&r, "intercepted", "n95|500\n");
	assert_string_equal(r.params[0].name, "days");
	assert_string_equal(r.params[0].value, "7");
	hm_report_release(&r);
}

static void test_supplies_region_days(void **state)
{
	hm_report r;
	hm_report_params p = {.name = "supplies", .date = RPT_D, .region = "lin/west", .days = 4};
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	rpt_table_is(&r, "stock", "thermometer|ash-store|20|0|0|0|0|0|20|0.0|-|0|0\n");
	rpt_table_is(&r, "shipments", "");
	assert_string_equal(r.params[0].value, "4");
	hm_report_release(&r);
}

/* Under monitoring with a compound: elm c1 p1 p2, elm c2 p9, oak c9 p4, ash c5 p6 (p8 and p10
 * have none). Told by D: c1 property (02-02; its residents only on 02-04), c9 residents; n4
 * tells c2 of oak, not c2 of elm. */
static void test_compounds(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "compounds", NULL, &r);
	rpt_table_is(&r, "villages",
	             "lin/east/elm|village|2|3|1|2\n"
	             "lin/east/oak|village|1|1|1|0\n"
	             "lin/east|subtotal|3|4|2|2\n"
	             "lin/west/ash|village|1|1|1|1\n"
	             "lin/west|subtotal|1|1|1|1\n"
	             "lin|total|4|5|3|3\n");
	rpt_table_is(&r, "compounds",
	             "lin/east/elm|c1|2|yes|no\n"
	             "lin/east/elm|c2|1|no|no\n"
	             "lin/east/oak|c9|1|no|yes\n"
	             "lin/west/ash|c5|1|no|no\n");
	rpt_table_is(&r, "property_not_told",
	             "lin/east/elm|c2|1\n"
	             "lin/east/oak|c9|1\n"
	             "lin/west/ash|c5|1\n");
	rpt_table_is(&r, "residents_not_told",
	             "lin/east/elm|c1|2\n"
	             "lin/east/elm|c2|1\n"
	             "lin/west/ash|c5|1\n");
	hm_report_release(&r);
}

/* Settings at their defaults: 500 a tip; 5000 a penalty after 1970-01-01. Tips: elm t1 verified
 * 500 (default, paid), t2 verified 800 (unpaid); oak t3 rejected; ash t4 new. Penalties: oak pen1
 * imposed 5000 (the rule), pen2 paid 1000 (its amount); ash pen3 proposed 5000. */
static void test_rewards_defaults(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "rewards", NULL, &r);
	rpt_table_is(&r, "tips",
	             "lin/east/elm|village|2|2|0|1300|1|500|800\n"
	             "lin/east/oak|village|1|0|1|0|0|0|0\n"
	             "lin/east|subtotal|3|2|1|1300|1|500|800\n"
	             "lin/west/ash|village|1|0|0|0|0|0|0\n"
	             "lin/west|subtotal|1|0|0|0|0|0|0\n"
	             "lin|total|4|2|1|1300|1|500|800\n");
	rpt_table_is(&r, "penalties",
	             "lin/east/oak|village|2|6000|0|0|1|5000|1|1000|0|0\n"
	             "lin/east|subtotal|2|6000|0|0|1|5000|1|1000|0|0\n"
	             "lin/west/ash|village|1|5000|1|5000|0|0|0|0|0|0\n"
	             "lin/west|subtotal|1|5000|1|5000|0|0|0|0|0|0\n"
	             "lin|total|3|11000|1|5000|1|5000|1|1000|0|0\n");
	assert_string_equal(r.params[0].name, "reward.tip");
	assert_string_equal(r.params[0].value, "500");
	assert_string_equal(r.params[2].name, "penalty.after");
	assert_string_equal(r.params[2].value, "5000");
	hm_report_release(&r);
}

/* 600 a tip, and penalties before 2026-01-30 at the lower amount: elm owes 600 + 800 = 1400 and
 * paid 600; pen1 (01-28) is 2000, pen3 (02-01) still 5000. A setting that is no number is
 * refused, not read as zero. */
static void test_rewards_settings(void **state)
{
	rpt_node t;
	hm_report r;
	hm_report_params p = {.name = "rewards", .date = RPT_D};
	(void)state;

	rpt_node_open(&t, "rewards-settings", HM_ROLE_COUNTY, "lin");
	rpt_county(&t);
	rpt_setting(&t, "reward.tip", "600");
	rpt_setting(&t, "penalty.cutoff", "2026-01-30");
	rpt_build(&t, "rewards", NULL, &r);
	rpt_table_is(&r, "tips",
	             "lin/east/elm|village|2|2|0|1400|1|600|800\n"
	             "lin/east/oak|village|1|0|1|0|0|0|0\n"
	             "lin/east|subtotal|3|2|1|1400|1|600|800\n"
	             "lin/west/ash|village|1|0|0|0|0|0|0\n"
	             "lin/west|subtotal|1|0|0|0|0|0|0\n"
	             "lin|total|4|2|1|1400|1|600|800\n");
	rpt_table_is(&r, "penalties",
	             "lin/east/oak|village|2|3000|0|0|1|2000|1|1000|0|0\n"
	             "lin/east|subtotal|2|3000|0|0|1|2000|1|1000|0|0\n"
	             "lin/west/ash|village|1|5000|1|5000|0|0|0|0|0|0\n"
	             "lin/west|subtotal|1|5000|1|5000|0|0|0|0|0|0\n"
	             "lin|total|3|8000|1|5000|1|2000|1|1000|0|0\n");
	hm_report_release(&r);
	rpt_setting(&t, "reward.tip", "many");
	assert_int_equal(hm_report_build(&t.l, &p, &r), HM_ERR_SCHEMA);
	assert_string_equal(hm_node_errmsg(t.n),
	                    "the county setting reward.tip is 'many', not a number");
	hm_report_release(&r);
	rpt_node_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supplies),         cmocka_unit_test(test_supplies_region_days),
	    cmocka_unit_test(test_compounds),        cmocka_unit_test(test_rewards_defaults),
	    cmocka_unit_test(test_rewards_settings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
