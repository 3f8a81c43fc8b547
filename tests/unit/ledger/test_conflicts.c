/* test_conflicts.c - the values that lost a merge and blame (ledger/conflicts.c), as `conflicts`,
 * `blame` and the web's questions page show them: two stations of one village change a person's
 * name at once; the one that hears of the other holds the lost name (and its name_seen
 * bookkeeping), masked unless asked. The log of the change sets it holds. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

typedef struct fixture {
	field_env a, b;
} fixture;

static void ship(field_env *from, field_env *to)
{
	char path[1100];
	hm_bundle_stats st;

	snprintf(path, sizeof(path), "%s.bundle", from->dir);
	assert_int_equal(hm_bundle_export(from->n, NULL, path, true, NULL, &st), HM_OK);
	assert_int_equal(hm_bundle_import(to->n, path, NULL, NULL, &st), HM_OK);
}

/* Both stations rename p1 at once; a hears of b's: a holds one lost value. */
static void fixture_open(fixture *fx)
{
	field_env_open(&fx->a, "conf-a", HM_ROLE_VILLAGE, "lin/east/elm");
	field_env_open(&fx->b, "conf-b", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(&fx->a, "person", "add", "p1", NULL,
	                           V("name=Li Wei", "village=lin/east/elm")),
	                 HM_OK);
	ship(&fx->a, &fx->b);
	assert_int_equal(field_run(&fx->a, "person", "edit", "p1", NULL, V("name=Li Na")), HM_OK);
	fx->b.now_ms += 1000; /* b's is the later write: it wins */
	assert_int_equal(field_run(&fx->b, "person", "edit", "p1", NULL, V("name=Li Ming")), HM_OK);
	ship(&fx->b, &fx->a);
}

static void fixture_close(fixture *fx)
{
	field_env_close(&fx->b);
	field_env_close(&fx->a);
}

static char *conflicts_text(field_env *e, bool mask, size_t *count)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(hm_conflicts_write(&e->l, NULL, NULL, mask, f, count), HM_OK);
	fclose(f);
	return buf;
}

static void test_conflicts(void **state)
{
	fixture fx;
	size_t count = 0, len;
	json_t *arr;
	char *t;
	FILE *f;
	(void)state;

	fixture_open(&fx);
	t = conflicts_text(&fx.a, true, &count);
	assert_int_equal(count, 2); /* the name, and its bookkeeping for identity questions */
	assert_true(strncmp(t, "person/p1 name: lost 'L****' (", 30) == 0);
	assert_non_null(strstr(t, ") to "));
	free(t);
	t = conflicts_text(&fx.a, false, &count);
	assert_true(strncmp(t, "person/p1 name: lost 'Li Na' (", 30) == 0);
	free(t);
	assert_int_equal(hm_conflicts_write(&fx.a.l, "person", "p1", true, NULL, &count), HM_OK);
	assert_int_equal(count, 2); /* counted only */
	assert_int_equal(hm_conflicts_json(&fx.a.l, "person", "p1", true, &arr, &count), HM_OK);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "lost")),
	                    "L****");
	assert_false(json_is_true(json_object_get(json_array_get(arr, 0), "by_delete")));
	json_decref(arr);
	/* A record without conflicts: said so. */
	assert_int_equal(field_run(&fx.a, "person", "add", "p2", NULL, V("name=Zhao Lei")), HM_OK);
	assert_non_null(f = open_memstream(&t, &len));
	assert_int_equal(hm_conflicts_write(&fx.a.l, "person", "p2", true, f, &count), HM_OK);
	fclose(f);
	assert_int_equal(count, 0);
	assert_string_equal(t, "no conflicts\n");
	free(t);
	fixture_close(&fx);
}

static void test_blame(void **state)
{
	fixture fx;
	hm_record *r = NULL;
	json_t *doc, *name = NULL, *fields;
	char *buf = NULL;
	size_t len;
	FILE *f;
	(void)state;

	fixture_open(&fx);
	assert_int_equal(hm_node_get(fx.a.n, "person", "p1", &r), HM_OK);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_blame_write(&fx.a.l, r, false, f), HM_OK);
	fclose(f);
	assert_true(strncmp(buf, "person/p1\n", 10) == 0);
	assert_non_null(strstr(buf, "\n  name           Li Ming\n      set by "));
	assert_non_null(strstr(buf, "\n      lost 'Li Na' ("));
	free(buf);
	assert_int_equal(hm_blame_json(&fx.a.l, r, true, &doc), HM_OK);
	fields = json_object_get(doc, "fields");
	for (size_t i = 0; i < json_array_size(fields); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(fields, i), "field")),
		            "name"))
			name = json_array_get(fields, i);
	assert_non_null(name);
	assert_string_equal(json_string_value(json_object_get(name, "value")), "L******");
	assert_int_equal(json_array_size(json_object_get(name, "lost")), 1);
	json_decref(doc);
	hm_record_free(r);
	fixture_close(&fx);
}

static void test_log(void **state)
{
	fixture fx;
	char *buf = NULL, want[128];
	size_t len;
	json_t *arr, *cs;
	FILE *f;
	(void)state;

	fixture_open(&fx);
	assert_int_equal(hm_log_json(&fx.a.l, NULL, &arr), HM_OK);
	assert_int_equal(json_array_size(arr), 3); /* a's add and edit, b's edit */
	cs = json_array_get(arr, 0);
	assert_int_equal(json_integer_value(json_object_get(cs, "seq")), 1);
	assert_int_equal(json_integer_value(json_object_get(cs, "ops")), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(cs, "id"))), 64);
	/* the origins come in the order of their (random) ids: the first may be a's or b's */
	snprintf(want, sizeof(want), ":1      %s     1 op   %6d B  %.16s\n",
	         json_string_value(json_object_get(cs, "time")),
	         (int)json_integer_value(json_object_get(cs, "bytes")),
	         json_string_value(json_object_get(cs, "id")));
	json_decref(arr);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_log_write(&fx.a.l, NULL, f), HM_OK);
	fclose(f);
	assert_non_null(
	    strstr(buf, want)); /* origin:seq, time, ops, bytes, the id's first 8 bytes */
	free(buf);
	fixture_close(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conflicts),
	    cmocka_unit_test(test_blame),
	    cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
