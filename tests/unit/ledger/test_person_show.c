/* test_person_show.c - a person's page (ledger/person_show.c) as `person show` and the web's
 * person page show it: the person masked or in clear, their contact, episode and follow-up under
 * their titles, "(none)" for journeys and identity questions; the same as one JSON document. A
 * search's rows (person find) and the persons registered twice (person dups), text and JSON. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

static hm_record *open_person(field_env *e)
{
	hm_record *p = NULL;

	field_env_open(e, "show", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(e, "person", "add", "p1", NULL,
	                           V("name=Li Wei", "phone=13800138000", "village=lin/east/elm")),
	                 HM_OK);
	assert_int_equal(
	    field_run(e, "person", "add", "p2", NULL, V("name=Zhao Lei", "village=lin/east/elm")),
	    HM_OK);
	assert_int_equal(field_run(e, "contact", "add", "x1", NULL, V("source=p2", "contact=p1")),
	                 HM_OK);
	assert_int_equal(field_run(e, "episode", "start", "e1", NULL, V("person=p1", "kind=home")),
	                 HM_OK);
	assert_int_equal(
	    field_run(e, "followup", "add", "f1", NULL, V("person=p1", "temperature=36.6")), HM_OK);
	assert_int_equal(hm_node_get(e->n, "person", "p1", &p), HM_OK);
	return p;
}

static char *show_text(field_env *e, const hm_record *p, bool mask)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(hm_person_show_write(&e->l, p, mask, f), HM_OK);
	fclose(f);
	return buf;
}

static void test_show_text(void **state)
{
	field_env e;
	hm_record *p;
	char *t;
	(void)state;

	p = open_person(&e);
	t = show_text(&e, p, true);
	assert_true(strncmp(t, "person/p1\n", 10) == 0);
	assert_non_null(strstr(t, "\n  name           L*****\n"));
	assert_non_null(strstr(t, "\n  phone          138******00\n"));
	assert_non_null(strstr(t, "\njourneys:\n  (none)\ncontacts:\n  exposure/x1\n"));
	assert_non_null(strstr(t, "\nepisodes:\n  episode/e1\n"));
	assert_non_null(strstr(t, "\nfollow-ups:\n  followup/f1\n"));
	assert_non_null(strstr(t, "\n  temperature    36.6\n"));
	assert_int_equal(
	    strcmp(strstr(t, "open identity questions:\n"), "open identity questions:\n  (none)\n"),
	    0);
	free(t);
	t = show_text(&e, p, false);
	assert_non_null(strstr(t, "\n  name           Li Wei\n"));
	free(t);
	hm_record_free(p);
	field_env_close(&e);
}

static void test_show_json(void **state)
{
	field_env e;
	hm_record *p;
	json_t *doc = NULL, *fields;
	(void)state;

	p = open_person(&e);
	assert_int_equal(hm_person_show_json(&e.l, p, true, &doc), HM_OK);
	fields = json_object_get(json_object_get(doc, "person"), "fields");
	assert_string_equal(json_string_value(json_object_get(fields, "name")), "L*****");
	assert_int_equal(json_array_size(json_object_get(doc, "return")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "exposure")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "episode")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "followup")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(doc, "exposure"), 0), "id")),
	                    "x1");
	assert_int_equal(json_array_size(json_object_get(doc, "open_identity_questions")), 0);
	json_decref(doc);
	hm_record_free(p);
	field_env_close(&e);
}

static void test_find_rows(void **state)
{
	field_env e;
	hm_record *p;
	hm_person_query q = {.category = NULL};
	char *buf = NULL;
	size_t len, count = 0;
	json_t *arr, *row;
	FILE *f;
	(void)state;

	p = open_person(&e);
	hm_record_free(p);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_person_find_write(&e.l, &q, true, f, &count), HM_OK);
	fclose(f);
	assert_int_equal(count, 2);
	/* no category, status or compound: "-" */
	assert_non_null(strstr(buf, "p1                     L*****  -  -  lin/east/elm  -\n"));
	assert_non_null(strstr(buf, "p2                     Z*******  -  -  lin/east/elm  -\n"));
	free(buf);
	q.text = "Zhao";
	assert_int_equal(hm_person_find_json(&e.l, &q, false, &arr, &count), HM_OK);
	assert_int_equal(count, 1);
	row = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(row, "id")), "p2");
	assert_string_equal(json_string_value(json_object_get(row, "name")), "Zhao Lei");
	assert_true(json_is_null(json_object_get(row, "compound")));
	json_decref(arr);
	field_env_close(&e);
}

static void test_dups(void **state)
{
	field_env e;
	char *buf = NULL;
	size_t len, groups = 9;
	json_t *arr;
	FILE *f;
	(void)state;

	field_env_open(&e, "show-dups", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_person_dups_write(&e.l, f, &groups), HM_OK);
	fclose(f);
	assert_int_equal(groups, 0);
	assert_string_equal(buf, "no person is registered twice\n");
	free(buf);
	for (int i = 1; i <= 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "d%d", i);
		assert_int_equal(field_run(&e, "person", "add", id, NULL,
		                           V("name=Li Wei", "village=lin/east/elm",
		                             "id_number=11010519491231002X")),
		                 HM_OK);
	}
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(hm_person_dups_write(&e.l, f, &groups), HM_OK);
	fclose(f);
	assert_int_equal(groups, 1);
	assert_string_equal(buf, "same ID number: d1 (lin/east/elm) d2 (lin/east/elm)\n"
	                         "  proposal: hamlet person merge d1 d2\n");
	free(buf);
	assert_int_equal(hm_person_dups_json(&e.l, &arr, &groups), HM_OK);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(json_array_get(arr, 0), 1), "id")),
	    "d2");
	json_decref(arr);
	field_env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_show_text),
	    cmocka_unit_test(test_show_json),
	    cmocka_unit_test(test_find_rows),
	    cmocka_unit_test(test_dups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
