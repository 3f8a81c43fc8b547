/* test_region.c - region paths: validity, depth, segment-wise containment. */
#include "test_util.h"

#include <string.h>

static void region_valid_accepts(void **state)
{
	(void)state;
	assert_true(hm_region_valid("a"));
	assert_true(hm_region_valid("lanzhou"));
	assert_true(hm_region_valid("county-1/town_2/village-03"));
	assert_true(hm_region_valid("0/1/2"));
	assert_true(hm_region_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 chars */
	assert_int_equal(hm_region_depth("a"), 1);
	assert_int_equal(hm_region_depth("a/b"), 2);
	assert_int_equal(hm_region_depth("a/b/c"), 3);
}

static void region_valid_refuses(void **state)
{
	static const char *const bad[] = {
	    "",
	    "/",
	    "/a",
	    "a/",
	    "a//b",
	    "a/b/c/d",
	    "A",
	    "a b",
	    "a.b",
	    "a/B",
	    "\xc3\xa9",
	    "a\\b",
	    "a/b/",
	    "../a",
	    "a/./b",
	    "a:b",
	    "abcdefghijklmnopqrstuvwxyz0123456", /* 33 chars */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(hm_region_valid(bad[i]));
		assert_int_equal(hm_region_depth(bad[i]), 0);
	}
	assert_false(hm_region_valid(NULL));
}

static void region_longest_is_region_max(void **state)
{
	char r[HM_REGION_MAX + 2];
	(void)state;
	memset(r, 'x', HM_REGION_MAX);
	r[32] = r[65] = '/';
	r[HM_REGION_MAX] = '\0';
	assert_true(hm_region_valid(r));
	r[HM_REGION_MAX] = 'x';
	r[HM_REGION_MAX + 1] = '\0';
	assert_false(hm_region_valid(r));
}

static void region_contains_segmentwise(void **state)
{
	(void)state;
	assert_true(hm_region_contains("a", "a"));
	assert_true(hm_region_contains("a", "a/b"));
	assert_true(hm_region_contains("a", "a/b/c"));
	assert_true(hm_region_contains("a/b", "a/b/c"));
	assert_false(hm_region_contains("a/b", "a"));
	assert_false(hm_region_contains("a/b", "a/bc"));
	assert_false(hm_region_contains("a/b", "a/bc/d"));
	assert_false(hm_region_contains("ab", "a/b"));
	assert_false(hm_region_contains("a", "b/a"));
	assert_false(hm_region_contains("a/", "a/b"));
	assert_false(hm_region_contains("a", "a//b"));
	assert_false(hm_region_contains("", "a"));
}

int test_region_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(region_valid_accepts),
	    cmocka_unit_test(region_valid_refuses),
	    cmocka_unit_test(region_longest_is_region_max),
	    cmocka_unit_test(region_contains_segmentwise),
	};
	return cmocka_run_group_tests_name("region", tests, NULL, NULL);
}
