/* test_csv_result.c - what an import found and did, as import-csv and the web's import page show
 * it (ledger/csv_result.c): the JSON document, the summary line of each verdict, the words of
 * each failure. Results as hm_csv_import leaves them, written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"

static char *summary(const hm_csv_result *res)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	hm_csv_result_write(res, f);
	fclose(f);
	return buf;
}

static hm_csv_result written(void)
{
	hm_csv_result r = {.cd = hm_schema_collection("person"),
	                   .verdict = HM_CSV_WRITTEN,
	                   .rows = 4,
	                   .good = 3,
	                   .bad_rows = 1,
	                   .written = 2,
	                   .first_seq = 7,
	                   .last_seq = 8};
	memset(r.last_id.b, 0xab, sizeof(r.last_id.b));
	return r;
}

static void test_written(void **state)
{
	hm_csv_result r = written();
	char *t, msg[512];
	json_t *j;
	(void)state;

	assert_non_null(r.cd);
	t = summary(&r);
	assert_string_equal(t, "4 rows read: 2 written to person, 1 with nothing but an id "
	                       "(unchanged), 1 bad (skipped, listed on stderr)\nchange sets 7-8 "
	                       "(last abababababababab)\n");
	free(t);
	assert_false(hm_csv_result_failure(&r, msg, sizeof(msg)));
	j = hm_csv_result_json(&r, false);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "written")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "changesets")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "changesets"), 1)),
	                 8);
	assert_false(json_is_true(json_object_get(j, "dry_run")));
	json_decref(j);
}

static void test_refused_and_dry_run(void **state)
{
	char line[] = "name", reason[] = "is required", *t, msg[512];
	hm_csv_bad bad = {3, line, NULL, reason};
	hm_csv_result r = {.cd = hm_schema_collection("person"),
	                   .verdict = HM_CSV_REFUSED,
	                   .rows = 10,
	                   .good = 1,
	                   .bad_rows = 9,
	                   .bad = &bad,
	                   .nbad = 1,
	                   .bad_more = 8};
	json_t *j, *b;
	(void)state;

	assert_true(hm_csv_result_failure(&r, msg, sizeof(msg)));
	assert_string_equal(msg, "9 of 10 rows are bad: nothing was written (fix them, or "
	                         "--skip-bad writes the 1 good one)");
	t = summary(&r);
	assert_string_equal(t, ""); /* a failure says itself through its words */
	free(t);
	j = hm_csv_result_json(&r, false);
	b = json_array_get(json_object_get(j, "bad"), 0);
	assert_int_equal(json_integer_value(json_object_get(b, "line")), 3);
	assert_string_equal(json_string_value(json_object_get(b, "column")), "name");
	assert_int_equal(json_integer_value(json_object_get(j, "bad_not_listed")), 8);
	assert_int_equal(json_integer_value(json_object_get(j, "written")), 0);
	json_decref(j);

	r.verdict = HM_CSV_CHECKED;
	t = summary(&r);
	assert_string_equal(t, "dry run: 10 rows read, 1 good, 9 bad; nothing written\n");
	free(t);
	assert_true(hm_csv_result_failure(&r, msg, sizeof(msg)));
	assert_string_equal(msg, "dry run: 9 of 10 rows are bad");
	j = hm_csv_result_json(&r, false);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	json_decref(j);
	r.bad_rows = 0;
	assert_false(hm_csv_result_failure(&r, msg, sizeof(msg)));
}

static void test_too_large_nothing_stopped(void **state)
{
	hm_csv_result r = {.cd = hm_schema_collection("followup"),
	                   .verdict = HM_CSV_TOO_LARGE,
	                   .rows = 90000,
	                   .good = 90000,
	                   .body = 3u << 21,
	                   .rows_per_write = 40000};
	char msg[512], *t;
	json_t *j;
	(void)state;

	assert_true(hm_csv_result_failure(&r, msg, sizeof(msg)));
	assert_non_null(
	    strstr(msg, "the 90000 good rows would make a change set of about 6.0 MiB"));
	assert_non_null(strstr(msg, "parts of at most 40000 rows; nothing was written"));
	j = hm_csv_result_json(&r, true);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	json_decref(j);
	r.verdict = HM_CSV_NOTHING;
	r.good = 2;
	r.rows = 3;
	r.bad_rows = 1;
	t = summary(&r);
	assert_string_equal(t, "3 rows read, 1 bad, 2 with nothing but an id: nothing to write\n");
	free(t);
	j = hm_csv_result_json(&r, true); /* found nothing to write: not shown as a dry run */
	assert_false(json_is_true(json_object_get(j, "dry_run")));
	json_decref(j);
	r.verdict = 0;
	assert_true(hm_csv_result_failure(&r, msg, sizeof(msg)));
	assert_string_equal(msg, "the import stopped before every row was checked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_written),
	    cmocka_unit_test(test_refused_and_dry_run),
	    cmocka_unit_test(test_too_large_nothing_stopped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
