/* test_report_params.c - what hm_report_build refuses (each with its reason) and what
 * hm_report_record_access writes: one access record per report shown in clear or exported,
 * none for a masked report on the screen. */
#include "support_report.h"

#include <stdio.h>
#include <string.h>

RPT_COUNTY_FIXTURE("params")

static void refused(hm_report_params p, hm_err want, const char *msg)
{
	hm_report r;
	hm_err err = hm_report_build(&county.l, &p, &r);
	if (err != want || strcmp(hm_node_errmsg(county.n), msg) != 0)
		fail_msg("report %s: got %s '%s', want %s '%s'", p.name ? p.name : "(null)",
		         hm_strerror(err), hm_node_errmsg(county.n), hm_strerror(want), msg);
	assert_int_equal(r.ntables, 0);
	hm_report_release(&r);
}

static void test_params_refused(void **state)
{
	(void)state;
	refused((hm_report_params){.name = "weekly"}, HM_ERR_INVALID,
	        "no report 'weekly': daily, monitoring, contacts, supplies, compounds or rewards");
	refused((hm_report_params){.name = "daily", .date = "2026-02-30"}, HM_ERR_INVALID,
	        "--date '2026-02-30' is not a date YYYY-MM-DD");
	refused((hm_report_params){.name = "daily", .region = "lin//x"}, HM_ERR_INVALID,
	        "--region 'lin//x' is not a region path like county/township/village");
	refused((hm_report_params){.name = "daily", .days = 3}, HM_ERR_INVALID,
	        "report daily takes no --days");
	refused((hm_report_params){.name = "monitoring", .days = 3661}, HM_ERR_INVALID,
	        "--days must be a whole number from 1 to 3660");
	refused((hm_report_params){.name = "daily", .person = "p1"}, HM_ERR_INVALID,
	        "--person and --depth are for the contacts report, not daily");
	refused((hm_report_params){.name = "contacts", .depth_set = true}, HM_ERR_INVALID,
	        "--depth needs --person");
	refused(
	    (hm_report_params){.name = "contacts", .person = "p1", .depth = -1, .depth_set = true},
	    HM_ERR_INVALID, "--depth must be a whole number, 0 or more");
}

typedef struct access_seen {
	size_t n;
	char action[16], what[256];
	int64_t records;
} access_seen;

static int access_one(void *ctx, const hm_record *r)
{
	access_seen *a = ctx;
	a->n++;
	hm_rec_text(r, "action", a->action, sizeof(a->action));
	hm_rec_text(r, "what", a->what, sizeof(a->what));
	a->records = hm_rec_int(r, "records", -1);
	return 0;
}

static access_seen access_log(void)
{
	access_seen a = {0};
	assert_int_equal(hm_node_list(county.n, "access", access_one, &a), HM_OK);
	return a;
}

static void test_record_access(void **state)
{
	hm_report r;
	hm_report_params p = {.name = "monitoring", .date = RPT_D};
	size_t before = access_log().n;
	access_seen a;
	(void)state;

	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	assert_int_equal(hm_report_record_access(&county.l, &r, NULL), HM_OK);
	assert_int_equal(access_log().n, before); /* masked, on the screen: nothing revealed */
	hm_report_release(&r);

	p.show_pii = true;
	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	assert_int_equal(hm_report_record_access(&county.l, &r, NULL), HM_OK);
	a = access_log();
	assert_int_equal(a.n, before + 1);
	assert_string_equal(a.action, "reveal");
	assert_string_equal(a.what, "report monitoring --region lin --date 2026-02-03");
	assert_int_equal(a.records, 10);
	hm_report_release(&r);

	p.name = "contacts", p.person = "p3";
	assert_int_equal(hm_report_build(&county.l, &p, &r), HM_OK);
	county.now_ms += 1000; /* a later access record, so the log lists it last */
	assert_int_equal(hm_report_record_access(&county.l, &r, "c.html"), HM_OK);
	a = access_log();
	assert_int_equal(a.n, before + 2);
	assert_string_equal(a.action, "export");
	assert_string_equal(a.what, "report contacts --region lin --date 2026-02-03 --person p3 "
	                            "--show-pii -o c.html");
	assert_int_equal(a.records, (int64_t)r.persons_listed);
	hm_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params_refused),
	    cmocka_unit_test(test_record_access),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
