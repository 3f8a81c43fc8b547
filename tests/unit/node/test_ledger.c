/* test_ledger.c - the resident ID number's check, the keyed ID hash, county settings and the
 * words a field allows. */
#include "node_test.h"

#include <string.h>

static void test_idnum(void **state)
{
	const char *why = NULL;
	(void)state;

	assert_int_equal(hm_idnum_check("11010519491231002X", &why), HM_OK);
	assert_int_equal(hm_idnum_check("11010519491231002x", &why), HM_OK);
	assert_int_equal(hm_idnum_check("110105194912310021", &why), HM_ERR_INVALID);
	assert_non_null(strstr(why, "check character"));
	assert_int_equal(hm_idnum_check("1101051949123100", &why), HM_ERR_INVALID);
	assert_non_null(strstr(why, "18 characters"));
	assert_int_equal(hm_idnum_check("11010519491231A02X", &why), HM_ERR_INVALID);
	assert_non_null(strstr(why, "digits"));
	/* 1949-02-30 is no date (the check character is right for these digits). */
	assert_int_equal(hm_idnum_check("110105194902300027", &why), HM_ERR_INVALID);
	assert_non_null(strstr(why, "birth date"));
}

static void test_id_hash(void **state)
{
	test_node a, b;
	char ha[2 * HM_ID_HASH_BYTES + 1], hb[2 * HM_ID_HASH_BYTES + 1],
	    hc[2 * HM_ID_HASH_BYTES + 1];
	(void)state;

	test_node_init(&a, "ledger_a", 0, NULL);
	test_node_init(&b, "ledger_b", 0, NULL);
	assert_int_equal(hm_node_id_hash(a.n, "11010519491231002X", ha), HM_OK);
	assert_int_equal(hm_node_id_hash(b.n, "11010519491231002x", hb), HM_OK);
	assert_string_equal(ha, hb); /* one person, whoever registers them, however typed */
	assert_int_equal(hm_node_id_hash(a.n, "110105194912310038", hc), HM_OK);
	assert_string_not_equal(ha, hc);
	assert_null(strstr(ha, "1101051949")); /* no trace of the number itself */
	test_node_release(&a);
	test_node_release(&b);
}

static void test_words(void **state)
{
	const hm_collection_def *c = hm_schema_collection("followup");
	(void)state;

	assert_true(hm_field_word_ok(hm_schema_field(c, "method"), "phone"));
	assert_false(hm_field_word_ok(hm_schema_field(c, "method"), "pho"));
	assert_false(hm_field_word_ok(hm_schema_field(c, "method"), "phone|visit"));
	assert_true(hm_field_word_ok(hm_schema_field(c, "result"), "anything"));
}

static void test_ledger_check(void **state)
{
	const hm_collection_def *fu = hm_schema_collection("followup"),
	                        *pe = hm_schema_collection("person"),
	                        *ex = hm_schema_collection("exposure"),
	                        *st = hm_schema_collection("stock_txn");
	hm_value v = {HM_V_FLOAT, {.f = 37.4}};
	const char *why = NULL;
	(void)state;

	assert_int_equal(hm_ledger_check(fu, hm_schema_field(fu, "temperature"), &v, &why), HM_OK);
	v.u.f = 45.0;
	assert_int_equal(hm_ledger_check(fu, hm_schema_field(fu, "temperature"), &v, &why),
	                 HM_ERR_TYPE);
	assert_non_null(strstr(why, "34 and 43"));
	v.u.f = 33.9;
	assert_int_equal(hm_ledger_check(fu, hm_schema_field(fu, "temperature"), &v, &why),
	                 HM_ERR_TYPE);
	v = (hm_value){HM_V_STR, {.s = {"110105194912310021", 18}}};
	assert_int_equal(hm_ledger_check(pe, hm_schema_field(pe, "id_number"), &v, &why),
	                 HM_ERR_TYPE);
	assert_non_null(strstr(why, "check character"));
	v = (hm_value){HM_V_STR, {.s = {"contact", 7}}};
	assert_int_equal(hm_ledger_check(pe, hm_schema_field(pe, "category"), &v, &why),
	                 HM_ERR_TYPE);
	assert_non_null(strstr(why, "returnee|close"));
	v = (hm_value){HM_V_INT, {.i = 3}};
	assert_int_equal(hm_ledger_check(ex, hm_schema_field(ex, "degree"), &v, &why), HM_ERR_TYPE);
	v.u.i = 2;
	assert_int_equal(hm_ledger_check(ex, hm_schema_field(ex, "degree"), &v, &why), HM_OK);
	v.u.i = -5;
	assert_int_equal(hm_ledger_check(st, hm_schema_field(st, "quantity"), &v, &why), HM_OK);
	assert_int_equal(hm_ledger_check(pe, hm_schema_field(pe, "birth_year"), &v, &why),
	                 HM_ERR_TYPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idnum),
	    cmocka_unit_test(test_id_hash),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_ledger_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
