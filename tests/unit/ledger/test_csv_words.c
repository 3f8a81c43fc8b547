/* test_csv_words.c - the clerk's words and formats (hm_ledger_value_parse), the Chinese words and
 * headers of the table, the template and which fields are importable. No node needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"

/* field of coll parsed from text by the ledger: its stored text, or "!" + why on failure. */
static const char *parsed(hm_ledger *l, const char *coll, const char *field, const char *text,
                          char *buf, size_t cap)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	const hm_field_def *f = cd ? hm_schema_field(cd, field) : NULL;
	const char *why = NULL;
	hm_value v;

	assert_non_null(f);
	if (hm_ledger_value_parse(l, f, text, &v, &why)) {
		snprintf(buf, cap, "!%s", why);
		return buf;
	}
	if (v.kind == HM_V_STR)
		snprintf(buf, cap, "%.*s", (int)v.u.s.n, v.u.s.p);
	else if (v.kind == HM_V_INT)
		snprintf(buf, cap, "%lld", (long long)v.u.i);
	else
		snprintf(buf, cap, "?");
	return buf;
}

#define PARSED(coll, field, text) parsed(&l, coll, field, text, buf, sizeof(buf))

static void test_words(void **state)
{
	hm_ledger l = {0};
	char buf[256];
	(void)state;

	assert_string_equal(PARSED("person", "sex", "男"), "male");
	assert_string_equal(PARSED("person", "sex", "女"), "female");
	assert_string_equal(PARSED("person", "sex", "male"), "male");
	assert_string_equal(PARSED("person", "category", "返乡人员"), "returnee");
	assert_string_equal(PARSED("person", "category", "密切接触者"), "close");
	assert_string_equal(PARSED("followup", "method", "上门"), "visit");
	assert_string_equal(PARSED("followup", "method", "电话"), "phone");
	assert_string_equal(PARSED("episode", "kind", "居家隔离"), "home");
	assert_string_equal(PARSED("site", "kind", "卡口"), "checkpoint");
	assert_string_equal(PARSED("return", "found_by", "卡口"), "checkpoint");
	/* a word of another field is left as it is (hm_ledger_check refuses it) */
	assert_string_equal(PARSED("person", "sex", "上门"), "上门");
	assert_string_equal(PARSED("person", "name", "男"), "男");
	/* every Chinese word of the table turns into a word its field allows */
	for (size_t c = 0, nc; c < (hm_schema_collections(&nc), nc); c++) {
		const hm_collection_def *cd = &hm_schema_collections(&nc)[c];
		for (size_t i = 0; i < cd->nfields; i++) {
			const hm_field_def *f = &cd->fields[i];
			const char *why;
			hm_value v;
			for (const char *p = f->help; f->type == HM_T_STR && p && *p;) {
				char word[64];
				size_t n = strcspn(p, "|");
				const char *zh;
				snprintf(word, sizeof(word), "%.*s", (int)n, p);
				if ((zh = hm_ledger_word_zh(f, word))) {
					assert_int_equal(hm_ledger_value_parse(&l, f, zh, &v, &why),
					                 HM_OK);
					assert_int_equal(hm_ledger_check(cd, f, &v, &why), HM_OK);
					assert_int_equal(v.u.s.n, strlen(word));
					assert_memory_equal(v.u.s.p, word, v.u.s.n);
				}
				p = p[n] ? p + n + 1 : NULL;
			}
		}
	}
	assert_string_equal(
	    hm_ledger_word_zh(hm_schema_field(hm_schema_collection("person"), "sex"), "male"),
	    "男");
}

static void test_dates(void **state)
{
	hm_ledger l = {0};
	char buf[256], keep[32];
	(void)state;

	assert_string_equal(PARSED("person", "arrival_date", "2026-12-06"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026/12/6"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026/1/06"), "2026-01-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026-12-6"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026.12.6"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026年12月6日"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026-12-06 08:00"), "2026-12-06");
	assert_string_equal(PARSED("person", "arrival_date", "2026/12/06 8:00"), "2026-12-06");
	assert_string_equal(PARSED("followup", "time", "2026/12/6 8:00"), "2026-12-06T08:00");
	assert_string_equal(PARSED("followup", "time", "2026-12-06 08:00:30"),
	                    "2026-12-06T08:00:30");
	assert_string_equal(PARSED("followup", "time", "2026-12-06T08:00"), "2026-12-06T08:00");
	assert_int_equal(PARSED("followup", "time", "2026/12/6")[0], '!'); /* a time needs one */
	assert_int_equal(PARSED("person", "arrival_date", "2026/2/30")[0], '!');
	assert_int_equal(PARSED("person", "arrival_date", "2026/12-6")[0], '!');
	assert_int_equal(PARSED("person", "arrival_date", "2026/13/1")[0], '!');
	assert_int_equal(PARSED("person", "arrival_date", "26/12/6")[0], '!');
	assert_int_equal(PARSED("person", "arrival_date", "2026/12/6 25:00")[0], '!');
	assert_int_equal(PARSED("person", "arrival_date", "2026/12/6 8:")[0], '!');
	/* a rewritten value lives in the ledger for HM_LEDGER_NORM_MAX calls */
	{
		const hm_field_def *f =
		    hm_schema_field(hm_schema_collection("person"), "arrival_date");
		hm_value v;
		const char *why;
		assert_int_equal(hm_ledger_value_parse(&l, f, "2026/3/4", &v, &why), HM_OK);
		for (int i = 0; i < HM_LEDGER_NORM_MAX - 1; i++)
			PARSED("person", "arrival_date", "2027/5/6");
		snprintf(keep, sizeof(keep), "%.*s", (int)v.u.s.n, v.u.s.p);
		assert_string_equal(keep, "2026-03-04");
	}
}

static void test_spreadsheet_id_number(void **state)
{
	hm_ledger l = {0};
	const hm_field_def *f = hm_schema_field(hm_schema_collection("person"), "id_number");
	const char *why = NULL;
	hm_value v;
	(void)state;

	assert_int_equal(hm_ledger_value_parse(&l, f, "1.10105E+17", &v, &why), HM_ERR_INVALID);
	assert_non_null(strstr(why, "turned into a number by a spreadsheet: format the column as "
	                            "text and export again"));
	assert_int_equal(hm_ledger_value_parse(&l, f, "4.20106e17", &v, &why), HM_ERR_INVALID);
	assert_int_equal(hm_ledger_value_parse(&l, f, "11010519491231002X", &v, &why), HM_OK);
	/* a name that looks like a number is not an ID number */
	f = hm_schema_field(hm_schema_collection("person"), "name");
	assert_int_equal(hm_ledger_value_parse(&l, f, "1.10105E+17", &v, &why), HM_OK);
}

static void test_headers_and_template(void **state)
{
	const hm_collection_def *person = hm_schema_collection("person");
	char buf[2048];
	(void)state;

	assert_string_equal(hm_ledger_header_zh(person, "name"), "姓名");
	assert_string_equal(hm_ledger_header_zh(person, "id"), "编号");
	assert_null(hm_ledger_header_zh(person, "purged"));
	assert_false(hm_csv_importable(person, hm_schema_field(person, "purged")));
	assert_false(hm_csv_importable(person, hm_schema_field(person, "name_seen")));
	assert_false(hm_csv_importable(person, hm_schema_field(person, "id_hash")));
	assert_true(hm_csv_importable(person, hm_schema_field(person, "village")));
	size_t n = hm_csv_template(person, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "\xef\xbb\xbf编号,姓名,村,电话,身份证号,性别,出生年份,住址,来源地,"
	                         "到达日期,类别,状态,健康码,小区,户\r\n");
	/* cut short, it says how much it needs */
	assert_int_equal(hm_csv_template(person, buf, 8),
	                 strlen("\xef\xbb\xbf编号,姓名,村,电话,"
	                        "身份证号,性别,出生年份,住址,来源地,"
	                        "到达日期,类别,状态,健康码,小区,户"
	                        "\r\n"));
	/* no two columns of a collection share a Chinese header */
	for (size_t c = 0, nc; c < (hm_schema_collections(&nc), nc); c++) {
		const hm_collection_def *cd = &hm_schema_collections(&nc)[c];
		for (size_t i = 0; i < cd->nfields; i++)
			for (size_t j = 0; j < i; j++) {
				const char *a = hm_ledger_header_zh(cd, cd->fields[i].name),
				           *b = hm_ledger_header_zh(cd, cd->fields[j].name);
				assert_false(a && b && !strcmp(a, b));
			}
	}
}

static void test_refers_and_mask(void **state)
{
	const hm_collection_def *fu = hm_schema_collection("followup"),
	                        *ex = hm_schema_collection("exposure");
	char buf[64];
	(void)state;

	assert_string_equal(hm_ledger_field_refers(fu, hm_schema_field(fu, "person")), "person");
	assert_string_equal(hm_ledger_field_refers(ex, hm_schema_field(ex, "contact")), "person");
	assert_null(hm_ledger_field_refers(fu, hm_schema_field(fu, "worker")));
	hm_ledger_mask("110105194912310021", 18, buf, sizeof(buf));
	assert_string_equal(buf, "110*************21");
	hm_ledger_mask("王小明", strlen("王小明"), buf, sizeof(buf));
	assert_string_equal(buf, "王**");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_spreadsheet_id_number),
	    cmocka_unit_test(test_headers_and_template),
	    cmocka_unit_test(test_refers_and_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
