/* test_oom_keep.c - out of memory in the web interface's way of building reports (issue #10
 * section 1, "report building"): records kept in memory (hm_node_cache_records) and what
 * reports read kept between reports (hm_report_keep), on the county of the report tests. Before
 * each try a new check is written, or every third try a person's name, so that the build
 * brings both up to date (the changed log, the record read again, the follow-up added to the
 * keep or the person put in its place); then the N-th allocation of the
 * build fails (N = 1..300, then every eighth more), once, or for good when N is a multiple of 5.
 * Each try: the build fails saying out of memory, or succeeds with the figures of a report read
 * from the store; a build right after, with nothing failing, gives those figures; and once the
 * caches are freed, no block allocated while failing is left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "support_report.h"

static rpt_node county;
static hm_report_keep *keep;

static char *render(hm_ledger *l, const char *name, hm_err *err)
{
	hm_report_params p = {.name = name, .date = RPT_D, .show_pii = true};
	hm_report r;
	char *text = NULL;

	*err = hm_report_build(l, &p, &r);
	if (!*err && hm_report_render_mem(&r, HM_REPORT_FMT_JSON, 0, &text, NULL))
		*err = HM_ERR_NOMEM;
	hm_report_release(&r);
	return text;
}

static void write_one(unsigned i)
{
	static unsigned written; /* ids across the loops */
	char id[32], t[48];

	if (i % 3 == 0) {
		snprintf(t, sizeof(t), "name=Li Wei %u", i);
		rpt_put(&county, "person", "p1", t, NULL);
		return;
	}
	snprintf(id, sizeof(id), "oom%u", ++written);
	snprintf(t, sizeof(t), "time=2026-02-0%uT%02u:00", 1 + i % 3, 8 + i % 10);
	rpt_put(&county, "followup", id, i % 2 ? "person=p1" : "person=p6",
	        i % 2 ? "village=lin/east/elm" : "village=lin/west/ash", t,
	        i % 4 ? "temperature=36.6" : "temperature=38.9", NULL);
}

static void loop(const char *name)
{
	hm_ledger kept = county.l, plain = county.l;
	unsigned long tried = 0, errors = 0;
	unsigned problems = 0;
	hm_err err;

	kept.keep = keep, plain.keep = NULL;
	free(render(&kept, name, &err)); /* everything read once, clean */
	assert_int_equal(err, HM_OK);
	/* Every N up to 300, where the records and the keep are brought up to date; past it, every
	 * eighth more (the reports' own work, long in monitoring). HAMLET_OOM_FROM=N: start there
	 * (to look at one N in a debugger). */
	for (unsigned long n = getenv("HAMLET_OOM_FROM") ? strtoul(getenv("HAMLET_OOM_FROM"), 0, 10)
	                                                 : 1;
	     ; n += n < 300 ? 1 : n / 8) {
		hm_failalloc_stats st;
		int forever = n % 5 == 0;
		char *got, *want, *again;
		hm_err e2, e3;

		write_one((unsigned)n);
		hm_failalloc_arm(n, forever);
		got = render(&kept, name, &err);
		hm_failalloc_stop(&st);
		if (st.failed == 0) { /* the build never reached n */
			free(got);
			break;
		}
		tried++;
		errors += err != HM_OK;
		want = render(&plain, name, &e2);
		again = render(&kept, name, &e3);
		assert_int_equal(e2, HM_OK);
		if (err && err != HM_ERR_NOMEM && problems++ < 20)
			print_message("oom keep %s N=%lu: %s (%s)\n", name, n, hm_strerror(err),
			              hm_node_errmsg(county.n));
		if (!err && (!got || strcmp(got, want) != 0) && problems++ < 20)
			print_message("oom keep %s N=%lu: succeeded with other figures\n", name, n);
		if ((e3 || !again || strcmp(again, want) != 0) && problems++ < 20)
			print_message("oom keep %s N=%lu: the build after it: %s\n", name, n,
			              e3 ? hm_strerror(e3) : "other figures");
		free(got), free(want), free(again);
	}
	print_message("oom keep %s: %lu tries, %lu failed out of memory, the others absorbed it\n",
	              name, tried, errors);
	assert_true(tried > 100);
	assert_int_equal(problems, 0);
}

static void test_reports_out_of_memory(void **state)
{
	hm_failalloc_stats st;
	(void)state;

	assert_int_equal(hm_node_cache_records(county.n, (size_t)1 << 30), HM_OK);
	assert_int_equal(hm_report_keep_new((size_t)1 << 30, &keep), HM_OK);
	loop("daily");
	loop("monitoring");
	/* and without a merge that holds (the keep's numbers of persons, not mapped) */
	rpt_put(&county, "merge", "m1", "state=undone", NULL);
	loop("monitoring");
	hm_report_keep_free(keep);
	keep = NULL;
	rpt_node_close(&county); /* and the records kept with it */
	hm_failalloc_disarm(&st);
	if (st.live || st.overflow)
		fail_msg("%zu blocks allocated while failing are still held%s", st.live,
		         st.overflow ? " (at least)" : "");
}

static int setup(void **state)
{
	(void)state;
	rpt_node_open(&county, "oom_keep", HM_ROLE_COUNTY, "lin");
	rpt_county(&county);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reports_out_of_memory),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
