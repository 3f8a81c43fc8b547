/* test_cache.c - the cache of what pages built (web/cache.c): a value comes back only at the
 * stamp it was built at, a newer stamp drops it, the least recently used gives way, a value
 * that cannot be kept stays the caller's, and a restamp carries entries over only one write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web_int.h"

static int released;

static void release(void *v)
{
	released++;
	free(v);
}

static void *val(void)
{
	void *v = malloc(8);
	assert_non_null(v);
	return v;
}

static void test_stamp(void **state)
{
	web_cache *c;
	void *a = val();
	(void)state;

	released = 0;
	assert_int_equal(web_cache_new(&c), HM_OK);
	assert_null(web_cache_get(c, "today elm", 7));
	assert_true(web_cache_put(c, "today elm", 7, a, 8, true, release));
	assert_ptr_equal(web_cache_get(c, "today elm", 7), a);
	assert_null(web_cache_get(c, "today oak", 7));
	/* the store moved: the entry is dropped, not kept for a later stamp */
	assert_null(web_cache_get(c, "today elm", 8));
	assert_int_equal(released, 1);
	assert_null(web_cache_get(c, "today elm", 7));
	/* a put under a key already kept replaces it */
	assert_true(web_cache_put(c, "k", 1, val(), 8, true, release));
	assert_true(web_cache_put(c, "k", 2, val(), 8, true, release));
	assert_int_equal(released, 2);
	web_cache_free(c);
	assert_int_equal(released, 3);
}

static void test_least_recent_goes(void **state)
{
	web_cache *c;
	char key[16], longkey[300];
	(void)state;

	released = 0;
	assert_int_equal(web_cache_new(&c), HM_OK);
	for (int i = 0; i < 32; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(web_cache_put(c, key, 1, val(), 8, true, release));
	}
	assert_non_null(web_cache_get(c, "k0", 1)); /* k0 used: k1 is now the oldest */
	assert_true(web_cache_put(c, "new", 1, val(), 8, true, release));
	assert_int_equal(released, 1);
	assert_null(web_cache_get(c, "k1", 1));
	assert_non_null(web_cache_get(c, "k0", 1));
	assert_non_null(web_cache_get(c, "new", 1));
	/* too heavy or too long a key: not kept, left to the caller, nothing else lost */
	void *heavy = val();
	assert_false(web_cache_put(c, "heavy", 1, heavy, (size_t)1 << 40, true, release));
	memset(longkey, 'x', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	assert_false(web_cache_put(c, longkey, 1, heavy, 8, true, release));
	assert_int_equal(released, 1);
	free(heavy);
	assert_non_null(web_cache_get(c, "k0", 1));
	/* weight: two values of half the cap each cannot both stay */
	assert_true(web_cache_put(c, "half1", 1, val(), (size_t)200 << 20, true, release));
	assert_true(web_cache_put(c, "half2", 1, val(), (size_t)200 << 20, true, release));
	assert_null(web_cache_get(c, "half1", 1));
	assert_non_null(web_cache_get(c, "half2", 1));
	web_cache_free(c);
}

static void test_restamp(void **state)
{
	web_cache *c;
	(void)state;

	assert_int_equal(web_cache_new(&c), HM_OK);
	assert_true(web_cache_put(c, "a", 10, val(), 8, true, release));
	assert_true(web_cache_put(c, "b", 9, val(), 8, true, release));
	web_cache_restamp(c, 10, 11); /* our own access record, nothing between */
	assert_non_null(web_cache_get(c, "a", 11));
	assert_null(web_cache_get(c, "b", 11));
	web_cache_restamp(c, 11, 13); /* another write landed between: stale */
	assert_null(web_cache_get(c, "a", 13));
	web_cache_free(c);
}

/* A value that shows the station's own change sets (the audit) is put without restamp: an
 * access-log record makes it stale, while Today's, put with restamp, stays. */
static void test_restamp_flag(void **state)
{
	web_cache *c;
	(void)state;

	assert_int_equal(web_cache_new(&c), HM_OK);
	assert_true(web_cache_put(c, "today", 10, val(), 8, true, release));
	assert_true(web_cache_put(c, "audit", 10, val(), 8, false, release));
	web_cache_restamp(c, 10, 11);
	assert_non_null(web_cache_get(c, "today", 11));
	assert_null(web_cache_get(c, "audit", 11));
	/* put again over a restampable entry: the flag is the new put's */
	assert_true(web_cache_put(c, "today", 11, val(), 8, false, release));
	web_cache_restamp(c, 11, 12);
	assert_null(web_cache_get(c, "today", 12));
	web_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stamp),
	    cmocka_unit_test(test_least_recent_goes),
	    cmocka_unit_test(test_restamp),
	    cmocka_unit_test(test_restamp_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
