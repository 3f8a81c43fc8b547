/* test_ledger.c - the keyed ID hash (the ID number's check and the ledger's rules for values
 * are tested with the ledger: tests/unit/ledger/test_field_check.c). */
#include "node_test.h"

#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
