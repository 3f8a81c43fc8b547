/* test_stock.c - stock on hand as the sum of movements (once, for the verbs and the supplies
 * report), a count stored as the correction, and stores that are sites: an unknown store is
 * refused with the known ones. */
#include "support_field.h"

#include <string.h>

#define V(...) __VA_ARGS__, NULL

static void store(field_env *e, const char *id)
{
	assert_int_equal(field_run(e, "site", "add", id, NULL, V("name=a store", "kind=store")),
	                 HM_OK);
}

static int64_t on_hand(field_env *e, const char *item, const char *where)
{
	int64_t n = -1;
	assert_int_equal(hm_stock_on_hand(&e->l, item, where, &n), HM_OK);
	return n;
}

static void test_on_hand(void **state)
{
	field_env e;
	hm_verb_result r;
	char buf[64];
	(void)state;

	field_env_open(&e, "stock", HM_ROLE_VILLAGE, "lin/east/elm");
	store(&e, "depot");
	store(&e, "clinic");
	assert_int_equal(on_hand(&e, "N95", "depot"), 0);
	assert_int_equal(field_run(&e, "stock", "receive", NULL, &r,
	                           V("item=N95", "quantity=500", "store=depot", "shipment=sh1")),
	                 HM_OK);
	assert_int_equal(
	    field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=120", "store=depot")),
	    HM_OK);
	assert_int_equal(field_run(&e, "stock", "transfer", NULL, &r,
	                           V("item=N95", "quantity=50", "store=depot", "to_store=clinic")),
	                 HM_OK);
	assert_int_equal(field_run(&e, "stock", "consume", NULL, &r,
	                           V("item=N95", "quantity=5", "store=clinic")),
	                 HM_OK);
	/* requests and interceptions move nothing; other items do not count */
	assert_int_equal(field_run(&e, "stock", "request", NULL, &r,
	                           V("item=N95", "quantity=1000", "store=depot")),
	                 HM_OK);
	assert_int_equal(field_run(&e, "stock", "intercept", NULL, &r,
	                           V("item=N95", "quantity=70", "store=depot", "shipment=sh2")),
	                 HM_OK);
	assert_int_equal(field_run(&e, "stock", "receive", NULL, &r,
	                           V("item=suit", "quantity=9", "store=depot")),
	                 HM_OK);
	assert_int_equal(on_hand(&e, "N95", "depot"), 330);
	assert_int_equal(on_hand(&e, "N95", "clinic"), 45);
	/* a count is the correction against the books */
	assert_int_equal(field_run(&e, "stock", "count", "t-count", &r,
	                           V("item=N95", "quantity=320", "store=depot")),
	                 HM_OK);
	assert_non_null(strstr(r.note, "the books said 330, corrected by -10"));
	assert_string_equal(field_get(&e, "stock_txn", "t-count", "quantity", buf, sizeof(buf)),
	                    "-10");
	assert_string_equal(field_get(&e, "stock_txn", "t-count", "counted_as", buf, sizeof(buf)),
	                    "320");
	assert_string_equal(field_get(&e, "stock_txn", "t-count", "date", buf, sizeof(buf)),
	                    "2026-11-26");
	assert_int_equal(on_hand(&e, "N95", "depot"), 320);
	/* issuing more than the books hold is recorded, with a warning */
	assert_int_equal(
	    field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=400", "store=depot")),
	    HM_OK);
	assert_non_null(strstr(r.note, "warning: N95 at depot goes below zero"));
	assert_int_equal(on_hand(&e, "N95", "depot"), -80);
	field_env_close(&e);
}

static void test_stores(void **state)
{
	field_env e;
	hm_verb_result r;
	hm_node_info before, after;
	(void)state;

	field_env_open(&e, "stores", HM_ROLE_VILLAGE, "lin/east/elm");
	/* the fix: a store nobody added is refused, and nothing is written */
	assert_int_equal(
	    field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=5", "store=nowhere")),
	    HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown store 'nowhere' (no store is known here");
	assert_int_equal(
	    field_run(&e, "site", "add", "s-gate", NULL, V("name=Gate", "kind=checkpoint")), HM_OK);
	store(&e, "depot");
	store(&e, "clinic");
	assert_int_equal(hm_node_info_get(e.n, &before), HM_OK);
	assert_int_equal(
	    field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=5", "store=nowhere")),
	    HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown store 'nowhere' (known: clinic, depot;");
	/* a site of another kind is no store; a transfer's destination is checked too */
	assert_int_equal(field_run(&e, "stock", "receive", NULL, &r,
	                           V("item=N95", "quantity=5", "store=s-gate")),
	                 HM_ERR_NOT_FOUND);
	assert_int_equal(field_run(&e, "stock", "transfer", NULL, &r,
	                           V("item=N95", "quantity=5", "store=depot", "to_store=nowhere")),
	                 HM_ERR_NOT_FOUND);
	assert_int_equal(hm_node_info_get(e.n, &after), HM_OK);
	assert_int_equal(after.changesets, before.changesets);
	assert_int_equal(hm_stock_store_check(&e.l, "depot"), HM_OK);
	/* malformed requests: no store, no destination, no shipment; a quantity of zero */
	assert_int_equal(field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=5")),
	                 HM_ERR_INVALID);
	assert_true(r.usage);
	assert_int_equal(field_run(&e, "stock", "transfer", NULL, &r,
	                           V("item=N95", "quantity=5", "store=depot")),
	                 HM_ERR_INVALID);
	assert_true(r.usage);
	assert_int_equal(field_run(&e, "stock", "intercept", NULL, &r,
	                           V("item=N95", "quantity=5", "store=depot")),
	                 HM_ERR_INVALID);
	assert_int_equal(
	    field_run(&e, "stock", "issue", NULL, &r, V("item=N95", "quantity=0", "store=depot")),
	    HM_ERR_INVALID);
	assert_false(r.usage);
	field_env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_on_hand),
	    cmocka_unit_test(test_stores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
