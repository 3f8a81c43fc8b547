/* test_values.c - typed values from text, and every way a local write is refused: each refusal
 * returns its error and leaves the node's digest and version vector as they were. */
#include "node_test.h"

#include <string.h>

static const hm_field_def *field(const char *coll, const char *name)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	const hm_field_def *f;

	assert_non_null(c);
	f = hm_schema_field(c, name);
	assert_non_null(f);
	return f;
}

static void parse_ok(const char *coll, const char *name, const char *text, hm_value *out)
{
	const char *why = NULL;
	hm_err err = hm_value_parse(field(coll, name), text, out, &why);

	if (err)
		fail_msg("%s.%s = '%s' refused: %s", coll, name, text, why ? why : "?");
}

static void parse_bad(const char *coll, const char *name, const char *text)
{
	const char *why = NULL;
	hm_value v;
	hm_err err = hm_value_parse(field(coll, name), text, &v, &why);

	if (err != HM_ERR_TYPE)
		fail_msg("%s.%s = '%s' gave %s, not a type error", coll, name, text,
		         hm_strerror(err));
	assert_non_null(why);
}

static void test_parse_ints_floats_bools(void **state)
{
	hm_value v;
	(void)state;

	parse_ok("person", "birth_year", "1980", &v);
	assert_int_equal(v.kind, HM_V_INT);
	assert_int_equal(v.u.i, 1980);
	parse_ok("person", "birth_year", "-9223372036854775808", &v);
	assert_true(v.u.i == INT64_MIN);
	parse_bad("person", "birth_year", "");
	parse_bad("person", "birth_year", "12x");
	parse_bad("person", "birth_year", "1.5");
	parse_bad("person", "birth_year", "9223372036854775808"); /* overflows int64 */

	parse_ok("followup", "temperature", "37.4", &v);
	assert_int_equal(v.kind, HM_V_FLOAT);
	assert_true(v.u.f > 37.39 && v.u.f < 37.41);
	parse_ok("followup", "temperature", "-3", &v);
	parse_bad("followup", "temperature", "");
	parse_bad("followup", "temperature", "37,4");
	parse_bad("followup", "temperature", "nan");
	parse_bad("followup", "temperature", "inf");
	parse_bad("followup", "temperature", "1e999");

	/* The schema has no bool field yet: check the rules on a field definition of our own. */
	{
		const hm_field_def b = {"flag", HM_T_BOOL, HM_MERGE_LWW, false, 0, NULL};
		const char *why;
		const char *yes[] = {"true", "yes", "1"}, *no[] = {"false", "no", "0"};
		for (int i = 0; i < 3; i++) {
			assert_int_equal(hm_value_parse(&b, yes[i], &v, &why), HM_OK);
			assert_true(v.kind == HM_V_BOOL && v.u.b);
			assert_int_equal(hm_value_parse(&b, no[i], &v, &why), HM_OK);
			assert_true(v.kind == HM_V_BOOL && !v.u.b);
		}
		assert_int_equal(hm_value_parse(&b, "TRUE", &v, &why), HM_ERR_TYPE);
		assert_int_equal(hm_value_parse(&b, "", &v, &why), HM_ERR_TYPE);
		assert_int_equal(hm_value_parse(&b, "2", &v, &why), HM_ERR_TYPE);
	}
}

static void test_parse_dates_times(void **state)
{
	hm_value v;
	(void)state;

	parse_ok("person", "arrival_date", "2026-11-29", &v);
	assert_int_equal(v.kind, HM_V_STR);
	assert_int_equal(v.u.s.n, 10);
	/* Feb 29: every 4th year, not every 100th, but every 400th. */
	parse_ok("person", "arrival_date", "2024-02-29", &v);
	parse_ok("person", "arrival_date", "2000-02-29", &v);
	parse_bad("person", "arrival_date", "2023-02-29");
	parse_bad("person", "arrival_date", "1900-02-29");
	parse_bad("person", "arrival_date", "2100-02-29");
	parse_ok("person", "arrival_date", "2023-02-28", &v);
	parse_bad("person", "arrival_date", "2024-02-30");
	parse_bad("person", "arrival_date", "2026-04-31");
	parse_ok("person", "arrival_date", "2026-12-31", &v);
	parse_bad("person", "arrival_date", "2026-13-01");
	parse_bad("person", "arrival_date", "2026-00-10");
	parse_bad("person", "arrival_date", "2026-01-00");
	parse_bad("person", "arrival_date", "2026-1-10");
	parse_bad("person", "arrival_date", "2026/01/10");
	parse_bad("person", "arrival_date", "1899-12-31");
	parse_bad("person", "arrival_date", "2026-01-10 ");
	parse_bad("person", "arrival_date", "");

	parse_ok("followup", "time", "2026-11-29T08:30", &v);
	parse_ok("followup", "time", "2026-11-29T23:59:59", &v);
	parse_ok("followup", "time", "2024-02-29T00:00", &v);
	parse_bad("followup", "time", "2023-02-29T00:00");
	parse_bad("followup", "time", "2026-11-29T24:00");
	parse_bad("followup", "time", "2026-11-29T08:60");
	parse_bad("followup", "time", "2026-11-29T08:30:60");
	parse_bad("followup", "time", "2026-11-29 08:30");
	parse_bad("followup", "time", "2026-11-29T8:30");
	parse_bad("followup", "time", "2026-11-29T08:30:5");
	parse_bad("followup", "time", "2026-11-29");
}

static void test_parse_regions_text(void **state)
{
	hm_value v;
	(void)state;

	parse_ok("person", "village", "hexi", &v);
	parse_ok("person", "village", "hexi/t1", &v);
	parse_ok("person", "village", "hexi/t1/v_2-b", &v);
	parse_bad("person", "village", "");
	parse_bad("person", "village", "Hexi/t1");
	parse_bad("person", "village", "hexi//v1");
	parse_bad("person", "village", "/hexi");
	parse_bad("person", "village", "hexi/t1/v1/");
	parse_bad("person", "village", "a/b/c/d");
	parse_bad("person", "village", "hexi/t 1");

	parse_ok("person", "name", "李雷", &v);
	parse_bad("person", "name", "\xff\xfe");
	parse_bad("person", "name", "\xc0\x80"); /* overlong NUL */
	{
		char big[HM_STR_MAX + 2];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		parse_bad("person", "name", big);
		big[HM_STR_MAX] = 0;
		parse_ok("person", "name", big, &v);
	}
}

/* ---- refused writes ---- */

typedef struct fixture {
	test_node t;
	test_state before;
} fixture;

static int setup(void **state)
{
	static fixture f;

	test_node_init(&f.t, "values_node", 0, NULL);
	test_person(f.t.n, "p1", "Han Meimei", NULL);
	{
		hm_write *w;
		hm_value item = test_str("masks"), p = test_str("p1"),
		         t = test_str("2026-05-28T09:00");
		assert_int_equal(hm_write_begin(f.t.n, &w), HM_OK);
		assert_int_equal(hm_write_set(w, "stock", "s1", "item", &item), HM_OK);
		assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", 10), HM_OK);
		assert_int_equal(hm_write_set(w, "followup", "f1", "person", &p), HM_OK);
		assert_int_equal(hm_write_set(w, "followup", "f1", "time", &t), HM_OK);
		assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	}
	test_state_take(f.t.n, &f.before);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_state_assert_same(f->t.n, &f->before);
	test_state_release(&f->before);
	test_node_release(&f->t);
	return 0;
}

/* Refused at hm_write_set/add/del: the error, a message, and the write can still be aborted. */
static void expect_set(hm_node *n, const char *coll, const char *id, const char *fname,
                       const hm_value *v, hm_err want)
{
	hm_write *w;
	hm_err err;

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	err = hm_write_set(w, coll, id, fname, v);
	if (err != want)
		fail_msg("set %s/%s.%s gave %s, want %s", coll, id, fname, hm_strerror(err),
		         hm_strerror(want));
	assert_true(hm_node_errmsg(n)[0] != '\0');
	/* Committing what is left (nothing) changes nothing either. */
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_INVALID);
}

static void test_unknown_names(void **state)
{
	fixture *f = *state;
	hm_value v = test_str("x");
	hm_write *w;

	expect_set(f->t.n, "people", "p1", "name", &v, HM_ERR_SCHEMA);
	expect_set(f->t.n, "person", "p1", "nickname", &v, HM_ERR_SCHEMA);
	expect_set(f->t.n, "", "p1", "name", &v, HM_ERR_SCHEMA);
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "weight", 1), HM_ERR_SCHEMA);
	assert_int_equal(hm_write_del(w, "people", "p1"), HM_ERR_SCHEMA);
	hm_write_abort(w);
}

static void test_wrong_types(void **state)
{
	fixture *f = *state;
	hm_value i = {.kind = HM_V_INT, .u.i = 5}, s = test_str("five"),
	         fl = {.kind = HM_V_FLOAT, .u.f = 1.5}, nil = {.kind = HM_V_NIL},
	         nan = {.kind = HM_V_FLOAT, .u.f = 0.0 / 0.0}, date = test_str("2023-02-29");

	expect_set(f->t.n, "person", "p1", "name", &i, HM_ERR_TYPE);
	expect_set(f->t.n, "person", "p1", "birth_year", &s, HM_ERR_TYPE);
	expect_set(f->t.n, "person", "p1", "birth_year", &fl, HM_ERR_TYPE);
	expect_set(f->t.n, "person", "p1", "arrival_date", &date, HM_ERR_TYPE);
	expect_set(f->t.n, "person", "p1", "village", &i, HM_ERR_TYPE);
	{
		hm_value upper = test_str("Hexi/T1");
		expect_set(f->t.n, "person", "p1", "village", &upper, HM_ERR_TYPE);
	}
	expect_set(f->t.n, "followup", "f2", "temperature", &i, HM_ERR_TYPE);
	expect_set(f->t.n, "followup", "f2", "temperature", &nan, HM_ERR_TYPE);
	/* nil clears an optional field but never a required one, unless it is personal data,
	 * which may always be cleared (a new record still needs it: hm_write_commit). */
	expect_set(f->t.n, "followup", "f2", "person", &nil, HM_ERR_TYPE);
	{
		hm_write *w;
		assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
		assert_int_equal(hm_write_set(w, "person", "p-new", "name", &nil), HM_OK);
		assert_int_equal(hm_write_commit(w, NULL), HM_ERR_SCHEMA);
	}
}

static void test_counter_lww_misuse(void **state)
{
	fixture *f = *state;
	hm_value q = {.kind = HM_V_INT, .u.i = 3};
	hm_write *w;

	expect_set(f->t.n, "stock", "s1", "quantity", &q, HM_ERR_SCHEMA);
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "item", 1), HM_ERR_SCHEMA);
	assert_int_equal(hm_write_add(w, "person", "p1", "birth_year", 1), HM_ERR_SCHEMA);
	hm_write_abort(w);
}

static void test_bad_ids(void **state)
{
	fixture *f = *state;
	hm_value v = test_str("x");
	char longid[HM_ID_MAX + 2];

	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	expect_set(f->t.n, "person", "", "name", &v, HM_ERR_INVALID);
	expect_set(f->t.n, "person", "a\nb", "name", &v, HM_ERR_INVALID);
	expect_set(f->t.n, "person", longid, "name", &v, HM_ERR_INVALID);
}

static void test_append_only(void **state)
{
	fixture *f = *state;
	hm_write *w;
	hm_value p = test_str("p1"), t = test_str("2026-05-28T10:00");

	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_del(w, "followup", "f1"), HM_ERR_SCHEMA);
	hm_write_abort(w);
	assert_int_equal(test_del(f->t.n, "followup", "f1", NULL), HM_ERR_SCHEMA);

	/* Inserting f1 again, or editing it, is refused at commit. */
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "followup", "f1", "person", &p), HM_OK);
	assert_int_equal(hm_write_set(w, "followup", "f1", "time", &t), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_EXISTS);
	assert_int_equal(test_set_str(f->t.n, "followup", "f1", "result", "ok", NULL),
	                 HM_ERR_EXISTS);
}

static void test_commit_refusals(void **state)
{
	fixture *f = *state;
	hm_write *w;
	hm_value name = test_str("Wang"), unit = test_str("box");

	/* Delete of a record that is not there, or already deleted elsewhere in history. */
	assert_int_equal(test_del(f->t.n, "person", "nobody", NULL), HM_ERR_NOT_FOUND);
	/* A new record without its required field. */
	assert_int_equal(test_set_str(f->t.n, "person", "p2", "phone", "123", NULL), HM_ERR_SCHEMA);
	assert_int_equal(test_add(f->t.n, "stock", "s2", "quantity", 5, NULL), HM_ERR_SCHEMA);
	assert_int_equal(test_set_str(f->t.n, "followup", "f9", "person", "p1", NULL),
	                 HM_ERR_SCHEMA);
	/* One bad op spoils the whole write: the good op before it is not written either. */
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "p3", "name", &name), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s3", "unit", &unit), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_SCHEMA);
	/* Written and deleted in one change set. */
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "p1", "phone", &unit), HM_OK);
	assert_int_equal(hm_write_del(w, "person", "p1"), HM_ERR_INVALID);
	hm_write_abort(w);
	/* An empty write. */
	assert_int_equal(hm_write_begin(f->t.n, &w), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_ERR_INVALID);
}

/* A value set then overwritten in one write: the last one counts; counters add up. */
static void test_write_accumulates(void **state)
{
	test_node t;
	hm_write *w;
	hm_value a = test_str("a"), b = test_str("b");
	hm_record *r;
	char buf[16];
	(void)state;

	test_node_init(&t, "values_acc", 0, NULL);
	assert_int_equal(hm_write_begin(t.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s1", "item", &a), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", 7), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s1", "item", &b), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", -2), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	assert_string_equal(test_get_str(t.n, "stock", "s1", "item", buf, sizeof(buf)), "b");
	/* The site was filled from the node's region. */
	assert_string_equal(test_get_str(t.n, "stock", "s1", "site", buf, sizeof(buf)),
	                    TEST_REGION);
	assert_int_equal(hm_node_get(t.n, "stock", "s1", &r), HM_OK);
	assert_int_equal(hm_record_field(r, "quantity")->value.u.i, 5);
	hm_record_free(r);
	test_node_release(&t);
}

int main(void)
{
	const struct CMUnitTest parse[] = {
	    cmocka_unit_test(test_parse_ints_floats_bools),
	    cmocka_unit_test(test_parse_dates_times),
	    cmocka_unit_test(test_parse_regions_text),
	    cmocka_unit_test(test_write_accumulates),
	};
	const struct CMUnitTest refusals[] = {
	    cmocka_unit_test_setup_teardown(test_unknown_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counter_lww_misuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_refusals, setup, teardown),
	};
	int failed = 0;

	if (hm_crypto_init() != HM_OK)
		return 1;
	failed += cmocka_run_group_tests_name("node/values", parse, NULL, NULL);
	failed += cmocka_run_group_tests_name("node/refusals", refusals, NULL, NULL);
	return failed ? 1 : 0;
}
