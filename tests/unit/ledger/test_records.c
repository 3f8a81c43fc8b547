/* test_records.c - what `list`, `schema list` and `setting list` show, built by the ledger: the
 * records of a collection (all, by a field's value, counted only; text and a JSON array), the
 * fields a node knows (built-in and added by the county), the settings the county changed. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

/* Run fn's writing into a buffer (free). */
#define IN_MEMORY(buf, call)                                                                       \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *f = open_memstream(&(buf), &len_);                                           \
		assert_non_null(f);                                                                \
		assert_int_equal((call), HM_OK);                                                   \
		fclose(f);                                                                         \
	} while (0)

static void test_records(void **state)
{
	field_env e;
	hm_value close = {HM_V_STR, .u.s = {"close", 5}};
	size_t count = 0;
	char *buf = NULL;
	json_error_t jerr;
	json_t *arr;
	(void)state;

	field_env_open(&e, "records", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(&e, "person", "add", "p1", NULL,
	                           V("name=Li Wei", "category=close", "village=lin/east/elm")),
	                 HM_OK);
	assert_int_equal(field_run(&e, "person", "add", "p2", NULL,
	                           V("name=Zhao Lei", "category=returnee", "village=lin/east/elm")),
	                 HM_OK);
	IN_MEMORY(buf, hm_records_write(&e.l, "person", NULL, NULL, true, false, f, &count));
	assert_int_equal(count, 2);
	assert_true(strncmp(buf, "person/p1\n", 10) == 0);
	assert_non_null(strstr(buf, "\n  name           L*****\n"));
	assert_non_null(strstr(buf, "\nperson/p2\n"));
	free(buf);
	IN_MEMORY(buf,
	          hm_records_write(&e.l, "person", "category", &close, false, true, f, &count));
	assert_int_equal(count, 1);
	assert_true(strncmp(buf, "[{\"collection\":\"person\",\"id\":\"p1\"", 33) == 0);
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	arr = json_loads(buf, 0, &jerr);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(arr, 0), "fields"), "name")),
	                    "Li Wei");
	json_decref(arr);
	free(buf);
	IN_MEMORY(buf, hm_records_write(&e.l, "person", NULL, NULL, true, true, f, &count));
	assert_non_null(strstr(buf, "},\n {\"collection\":\"person\",\"id\":\"p2\""));
	free(buf);
	assert_int_equal(hm_records_write(&e.l, "person", NULL, NULL, true, false, NULL, &count),
	                 HM_OK);
	assert_int_equal(count, 2); /* counted only */
	field_env_close(&e);
}

static void test_schema_fields(void **state)
{
	field_env e;
	char *buf = NULL;
	json_t *arr;
	(void)state;

	field_env_open(&e, "schema", HM_ROLE_COUNTY, "lin");
	IN_MEMORY(buf, hm_schema_fields_write(&e.l, "person", f));
	assert_true(strncmp(buf, "person: ", 8) == 0);
	assert_non_null(strstr(buf, "\n  name             text   lww     required personal"));
	assert_null(strstr(buf, "id_hash"));
	assert_null(strstr(buf, "_seen"));
	assert_non_null(strstr(buf, "\nadded by the county:\n  (none)\n"));
	free(buf);
	assert_int_equal(hm_schema_fields_write(&e.l, "nowhere", stdout), HM_ERR_SCHEMA);
	field_assert_msg(&e, "no collection 'nowhere'");
	assert_int_equal(hm_schema_fields_json(&e.l, "person", &arr), HM_OK);
	assert_true(json_array_size(arr) > 5);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(arr, 0), "collection")), "person");
	json_decref(arr);
	field_env_close(&e);
}

static void test_settings(void **state)
{
	field_env e;
	hm_changeset_info info;
	char *buf = NULL;
	json_t *o;
	(void)state;

	field_env_open(&e, "settings", HM_ROLE_COUNTY, "lin");
	IN_MEMORY(buf, hm_ledger_settings_write(&e.l, f));
	assert_string_equal(buf, "(no setting changed: every default applies)\n");
	free(buf);
	assert_int_equal(hm_ledger_setting_set(&e.l, "reward.tip", "50", &info), HM_OK);
	IN_MEMORY(buf, hm_ledger_settings_write(&e.l, f));
	assert_string_equal(buf, "reward.tip           50\n");
	free(buf);
	assert_int_equal(hm_ledger_settings_json(&e.l, &o), HM_OK);
	assert_string_equal(json_string_value(json_object_get(o, "reward.tip")), "50");
	json_decref(o);
	field_env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_schema_fields),
	    cmocka_unit_test(test_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
