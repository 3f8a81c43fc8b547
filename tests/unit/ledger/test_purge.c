/* test_purge.c - purge: who (every episode ended before the date, personal data still held),
 * what (exactly the fields the schema marks personal, HM_F_PII), and again for personal data
 * written after a purge; what purge says it did or would do, as text and JSON. */
#include "support_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

static void person_ep(field_env *e, const char *id, const char *start, const char *end)
{
	char p[64], s[64], en[64], eid[64];
	snprintf(p, sizeof(p), "person=%s", id);
	snprintf(s, sizeof(s), "start=%s", start);
	snprintf(en, sizeof(en), "end=%s", end);
	snprintf(eid, sizeof(eid), "e-%s", id);
	assert_int_equal(
	    field_run(e, "person", "add", id, NULL,
	              V("name=Li Wei", "phone=13800000000", "address=Elm Lane 7",
	                "id_number=11010519491231002X", "category=close", "compound=Riverside 3")),
	    HM_OK);
	assert_int_equal(field_run(e, "episode", "start", eid, NULL, V(p, "kind=home", s)), HM_OK);
	if (end)
		assert_int_equal(field_run(e, "episode", "end", eid, NULL, V(en)), HM_OK);
}

static void test_purge(void **state)
{
	const hm_collection_def *cd = hm_schema_collection("person");
	field_env e;
	hm_purge_plan plan;
	size_t writes, npii = 0;
	char buf[128];
	(void)state;

	field_env_open(&e, "purge", HM_ROLE_VILLAGE, "lin/east/elm");
	person_ep(&e, "p1", "2026-09-01", "2026-09-15"); /* ended before: purged */
	person_ep(&e, "p2", "2026-09-01", NULL);         /* still running */
	person_ep(&e, "p3", "2026-10-20", "2026-11-05"); /* ended after the date */
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-12-01", &plan), HM_ERR_INVALID);
	field_assert_msg(&e, "in the future");
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-13-01", &plan), HM_ERR_INVALID);
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-11-01", &plan), HM_OK);
	assert_int_equal(plan.n, 1);
	assert_string_equal(plan.v[0].id, "p1");
	assert_string_equal(plan.v[0].village, "lin/east/elm");
	assert_int_equal(hm_purge_apply(&e.l, &plan, &writes), HM_OK);
	assert_int_equal(writes, 1);
	hm_purge_plan_release(&plan);
	/* every field the schema marks personal is gone, and nothing else */
	for (size_t i = 0; i < cd->nfields; i++) {
		const hm_field_def *f = &cd->fields[i];
		if (!(f->flags & HM_F_PII))
			continue;
		npii++;
		assert_string_equal(field_get(&e, "person", "p1", f->name, buf, sizeof(buf)), "");
		assert_string_not_equal(field_get(&e, "person", "p2", f->name, buf, sizeof(buf)),
		                        "");
	}
	assert_true(npii >= 5); /* name, phone, id_number, address, id_hash */
	assert_string_equal(field_get(&e, "person", "p1", "category", buf, sizeof(buf)), "close");
	assert_string_equal(field_get(&e, "person", "p1", "compound", buf, sizeof(buf)),
	                    "Riverside 3");
	assert_string_equal(field_get(&e, "person", "p1", "purged", buf, sizeof(buf)),
	                    "2026-11-26");
	/* nothing left to do; personal data written since is purged again */
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-11-01", &plan), HM_OK);
	assert_int_equal(plan.n, 0);
	assert_int_equal(hm_purge_apply(&e.l, &plan, &writes), HM_OK);
	assert_int_equal(writes, 0);
	hm_purge_plan_release(&plan);
	assert_int_equal(field_run(&e, "person", "edit", "p1", NULL, V("phone=13900000000")),
	                 HM_OK);
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-11-01", &plan), HM_OK);
	assert_int_equal(plan.n, 1);
	hm_purge_plan_release(&plan);
	field_env_close(&e);
}

static char *purge_text(const hm_purge_plan *p, bool dry, size_t writes)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	hm_purge_write(p, dry, writes, f);
	fclose(f);
	return buf;
}

/* What purge says it did or would do (hm_purge_write, hm_purge_json). */
static void test_purge_said(void **state)
{
	field_env e;
	hm_purge_plan plan;
	char *t;
	json_t *j;
	(void)state;

	field_env_open(&e, "purge-said", HM_ROLE_VILLAGE, "lin/east/elm");
	person_ep(&e, "p1", "2026-09-01", "2026-09-15");
	person_ep(&e, "p4", "2026-09-01", "2026-09-16");
	assert_int_equal(hm_purge_plan_make(&e.l, "2026-11-01", &plan), HM_OK);
	t = purge_text(&plan, true, 0);
	assert_string_equal(t, "would purge p1\nwould purge p4\n2 persons would be purged\n");
	free(t);
	t = purge_text(&plan, false, 1);
	assert_string_equal(t, "purged the personal fields of 2 persons (1 write)\n");
	free(t);
	j = hm_purge_json(&plan, true, 0);
	assert_int_equal(json_array_size(json_object_get(j, "persons")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "purged")), 0);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	json_decref(j);
	plan.n = 0;
	t = purge_text(&plan, false, 0);
	assert_string_equal(t, "nobody to purge: no monitoring ended before 2026-11-01 left "
	                       "personal data\n");
	free(t);
	plan.n = 2;
	hm_purge_plan_release(&plan);
	field_env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_purge),
	    cmocka_unit_test(test_purge_said),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
