/* test_field_check.c - the ledger's rules for what people type (moved with the code from
 * node/ledger.c): the resident ID number's check, the words a field allows, hm_ledger_check;
 * and hm_verb_check, which applies them before a node is opened. */
#include "support_field.h"

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
	v.u.i = HM_AMOUNT_MAX + 1;
	assert_int_equal(hm_ledger_check(st, hm_schema_field(st, "quantity"), &v, &why),
	                 HM_ERR_TYPE);
}

static void test_verb_check(void **state)
{
	const hm_verb *v = hm_verb_find("person", "add");
	hm_verb_value vals[] = {{"name", "Li"}, {"phone", "13800000000"}, {"sex", "m"}};
	hm_verb_req req = {.values = vals, .nvalues = 2};
	char why[256];
	size_t n;
	(void)state;

	assert_non_null(v);
	assert_int_equal(hm_verb_check(v, &req, why, sizeof(why)), HM_OK);
	req.nvalues = 3;
	assert_int_equal(hm_verb_check(v, &req, why, sizeof(why)), HM_ERR_TYPE);
	assert_string_equal(why, "sex: must be male|female, not 'm'");
	vals[1].text = "";
	vals[0].text = "";
	req.nvalues = 1;
	assert_int_equal(hm_verb_check(v, &req, why, sizeof(why)), HM_ERR_TYPE);
	assert_string_equal(why, "name: is required, not empty");
	/* the table: every verb writes a collection the schema knows, its positionals are fields */
	const hm_verb *all = hm_verbs(&n);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		const hm_collection_def *cd = hm_schema_collection(all[i].collection);
		assert_non_null(cd);
		for (int k = 0; k < all[i].npos; k++)
			assert_non_null(hm_schema_field(cd, all[i].pos[k]));
		assert_ptr_equal(hm_verb_find(all[i].cmd, all[i].sub), &all[i]);
	}
	assert_null(hm_verb_find("stock", "steal"));
	assert_false(
	    hm_verb_accepts(hm_verb_find("stock", "issue"),
	                    hm_schema_field(hm_schema_collection("stock_txn"), "movement")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idnum),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_ledger_check),
	    cmocka_unit_test(test_verb_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
