/* test_report_contacts.c - the contacts report's figures on the county of support_report.c,
 * cell by cell: exposures per village, close contacts whose contacts are not listed,
 * second-degree contacts not under monitoring, the chains and each chain as a tree of who
 * infected whom, the graph from a person (through a merge, to a depth), and an unknown person. */
#include "support_report.h"

#include <string.h>

RPT_COUNTY_FIXTURE("contacts")

static void test_contacts_tables(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "contacts", NULL, &r);
	/* Exposures by their village: elm x1 (1) x2 (2); oak x3 (1) x4 (2) x6 (1); ash x5 (1). */
	rpt_table_is(&r, "exposures",
	             "lin/east/elm|village|2|1|1\n"
	             "lin/east/oak|village|3|2|1\n"
	             "lin/east|subtotal|5|3|2\n"
	             "lin/west/ash|village|1|1|0\n"
	             "lin/west|subtotal|1|1|0\n"
	             "lin|total|6|4|2\n");
	/* Degree-1 contacts p2 p5 p8 p1 (x6); p2, p5 and p1 listed contacts of their own. */
	rpt_table_is(&r, "close_unlisted", "p8|Z********|lin/west/ash\n");
	/* Degree-2 contacts p3 (episode ended on D) and p7 (none): neither under monitoring. */
	rpt_table_is(&r, "second_unmonitored",
	             "p3|W******|lin/east/elm\n"
	             "p7|W*****|lin/west/ash\n");
	/* p1-p2-p3, p1-p4 (x6, p1dup is p1), p4-p5-p7: one chain of 6 holding a case (p4);
	 * p6-p8: 2. */
	rpt_table_is(&r, "chains",
	             "1|6|p1 p2 p3 p4 p5 p7|yes\n"
	             "2|2|p6 p8|no\n");
	hm_report_release(&r);
}

/* Who infected whom: x6 says p4 exposed p1 (p1dup), so p4, whom nobody exposed, is the root;
 * p1 -> p2 -> p3 and p4 -> p5 -> p7 hang under it. p6 exposed p8. */
static void test_contacts_chain_trees(void **state)
{
	hm_report r;
	(void)state;

	rpt_build(&county, "contacts", NULL, &r);
	rpt_table_is(&r, "chain_trees",
	             "1|p4|-|0|yes\n"
	             "1|p1|p4|1|no\n"
	             "1|p2|p1|2|no\n"
	             "1|p3|p2|3|no\n"
	             "1|p5|p4|1|no\n"
	             "1|p7|p5|2|no\n"
	             "2|p6|-|0|no\n"
	             "2|p8|p6|1|no\n");
	assert_int_equal(r.tables[r.ntables - 1]->tree_depth, 3);
	hm_report_release(&r);
}

/* A ring of exposures (nobody first) starts from its smallest id; two sources of one person
 * keep it under the first reached, once. */
static void test_contacts_tree_ring(void **state)
{
	rpt_node t;
	hm_report r;
	(void)state;

	rpt_node_open(&t, "contacts-ring", HM_ROLE_COUNTY, "lin");
	rpt_put(&t, "exposure", "y1", "source=b", "contact=c", "degree=1", "village=lin/e/v", NULL);
	rpt_put(&t, "exposure", "y2", "source=c", "contact=b", "degree=1", "village=lin/e/v", NULL);
	rpt_put(&t, "exposure", "y3", "source=c", "contact=d", "degree=1", "village=lin/e/v", NULL);
	rpt_put(&t, "exposure", "y4", "source=b", "contact=d", "degree=1", "village=lin/e/v", NULL);
	rpt_put(&t, "exposure", "y5", "source=b", "contact=c", "degree=2", "village=lin/e/v", NULL);
	rpt_build(&t, "contacts", NULL, &r);
	rpt_table_is(&r, "chain_trees",
	             "1|b|-|0|no\n"
	             "1|c|b|1|no\n"
	             "1|d|b|1|no\n");
	hm_report_release(&r);
	rpt_node_close(&t);
}

static void test_contacts_graph(void **state)
{
	hm_report r;
	hm_report_params p = {.name = "contacts", .date = RPT_D, .person = "p3"};
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	rpt_table_is(&r, "graph",
	             "p3|W******|0|p3\n"
	             "p2|Z********|1|p3 > p2\n"
	             "p1|L*****|2|p3 > p2 > p1\n"
	             "p4|Z*******|3|p3 > p2 > p1 > p4\n"
	             "p5|S*****|4|p3 > p2 > p1 > p4 > p5\n"
	             "p7|W*****|5|p3 > p2 > p1 > p4 > p5 > p7\n");
	assert_string_equal(r.person, "p3");
	hm_report_release(&r);

	p.person = "p1dup", p.depth = 1, p.depth_set = true;
	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	rpt_table_is(&r, "graph",
	             "p1|L*****|0|p1\n"
	             "p2|Z********|1|p1 > p2\n"
	             "p4|Z*******|1|p1 > p4\n");
	hm_report_release(&r);

	p.person = "nobody", p.depth_set = false;
	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_ERR_NOT_FOUND);
	assert_string_equal(hm_node_errmsg(county.n), "no person 'nobody' on this node");
	hm_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contacts_tables),
	    cmocka_unit_test(test_contacts_chain_trees),
	    cmocka_unit_test(test_contacts_tree_ring),
	    cmocka_unit_test(test_contacts_graph),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
