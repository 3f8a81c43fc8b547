/* test_person.c - persons: the one rule for a reference to a person, find (with a region this
 * node holds, else an error), the records that name a person, duplicates by the keyed ID hash,
 * merge and unmerge, and the county's settings. */
#include "support_field.h"

#include <stdio.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL
#define IDN    "11010519491231002X"

static void add(field_env *e, const char *id, const char *village, const char *idnum)
{
	char vil[64], num[64];
	snprintf(vil, sizeof(vil), "village=%s", village);
	snprintf(num, sizeof(num), "id_number=%s", idnum ? idnum : "");
	if (idnum)
		assert_int_equal(field_run(e, "person", "add", id, NULL,
		                           V("name=Li Wei", "category=close", vil, num)),
		                 HM_OK);
	else
		assert_int_equal(field_run(e, "person", "add", id, NULL,
		                           V("name=Zhao Min", "category=returnee", vil)),
		                 HM_OK);
}

typedef struct ids {
	char v[8][HM_ID_MAX + 1];
	size_t n;
} ids;

static int collect(void *arg, const hm_record *r)
{
	ids *s = arg;
	if (s->n < 8)
		snprintf(s->v[s->n++], HM_ID_MAX + 1, "%s", r->id);
	return 0;
}

static void test_find(void **state)
{
	field_env e;
	ids s = {0};
	size_t count;
	hm_person_query q = {0};
	(void)state;

	field_env_open(&e, "find", HM_ROLE_TOWNSHIP, "lin/east");
	add(&e, "p1", "lin/east/elm", IDN);
	add(&e, "p2", "lin/east/oak", NULL);
	assert_int_equal(hm_ledger_need_person(&e.l, "p1", NULL), HM_OK);
	assert_int_equal(hm_ledger_need_person(&e.l, "p9", NULL), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown person 'p9' (register them with `hamlet person add`");
	q.text = "Li";
	assert_int_equal(hm_person_find(&e.l, &q, collect, &s, &count), HM_OK);
	assert_int_equal(count, 1);
	assert_string_equal(s.v[0], "p1");
	q = (hm_person_query){.id_number = "11010519491231002x"};
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_OK);
	assert_int_equal(count, 1);
	q.id_number = "110105194912310021";
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_ERR_INVALID);
	/* villages: the node's region or wider holds all; a village below it must be known */
	q = (hm_person_query){.village = "lin/east/oak"};
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_OK);
	assert_int_equal(count, 1);
	q.village = "lin";
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_OK);
	assert_int_equal(count, 2);
	/* the fix: a region that does not exist here, or lies outside the node, is an error */
	q.village = "lin/east/nowhere";
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "no village in lin/east/nowhere is known to this node");
	q.village = "lin/west";
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "outside this node's region lin/east");
	q.village = "Lin/East";
	assert_int_equal(hm_person_find(&e.l, &q, NULL, NULL, &count), HM_ERR_INVALID);
	field_env_close(&e);
}

static void test_related(void **state)
{
	field_env e;
	ids s = {0};
	size_t count;
	(void)state;

	field_env_open(&e, "rel", HM_ROLE_VILLAGE, "lin/east/elm");
	add(&e, "p1", "lin/east/elm", NULL);
	add(&e, "p2", "lin/east/elm", NULL);
	assert_int_equal(field_run(&e, "contact", "add", "x1", NULL, V("source=p2", "contact=p1")),
	                 HM_OK);
	assert_int_equal(field_run(&e, "episode", "start", "e1", NULL, V("person=p1", "kind=home")),
	                 HM_OK);
	assert_int_equal(
	    field_run(&e, "followup", "add", "f1", NULL, V("person=p1", "temperature=36.6")),
	    HM_OK);
	assert_int_equal(hm_person_related(&e.l, "p1", "exposure", collect, &s, &count), HM_OK);
	assert_int_equal(count, 1); /* as the contact */
	assert_int_equal(hm_person_related(&e.l, "p2", "exposure", collect, &s, &count), HM_OK);
	assert_int_equal(count, 1); /* as the source */
	assert_int_equal(hm_person_related(&e.l, "p1", "followup", collect, &s, &count), HM_OK);
	assert_int_equal(count, 1);
	assert_int_equal(hm_person_related(&e.l, "p2", "episode", collect, &s, &count), HM_OK);
	assert_int_equal(count, 0);
	assert_int_equal(hm_person_related(&e.l, "p1", "site", collect, &s, &count), HM_ERR_SCHEMA);
	assert_int_equal(hm_person_questions(&e.l, "p1", NULL, NULL, &count), HM_OK);
	assert_int_equal(count, 0); /* one station: no identity written at once elsewhere */
	field_env_close(&e);
}

typedef struct groups {
	char first[4][2][HM_ID_MAX + 1];
	size_t sizes[4], n;
} groups;

static int on_group(void *arg, const hm_person_key *m, size_t n)
{
	groups *g = arg;
	if (g->n < 4) {
		snprintf(g->first[g->n][0], HM_ID_MAX + 1, "%s", m[0].id);
		snprintf(g->first[g->n][1], HM_ID_MAX + 1, "%s", m[1].id);
		g->sizes[g->n++] = n;
	}
	return 0;
}

static size_t dups(field_env *e, groups *g)
{
	size_t n = 99;
	memset(g, 0, sizeof(*g));
	assert_int_equal(hm_person_dups(&e->l, on_group, g, &n), HM_OK);
	return n;
}

static void test_merge(void **state)
{
	field_env e;
	groups g;
	hm_merge_result m;
	char buf[64];
	(void)state;

	field_env_open(&e, "merge", HM_ROLE_TOWNSHIP, "lin/east");
	add(&e, "e1", "lin/east/elm", IDN);
	add(&e, "o3", "lin/east/oak", "11010519491231002x");
	add(&e, "o4", "lin/east/oak", NULL);
	assert_int_equal(dups(&e, &g), 1);
	assert_int_equal(g.sizes[0], 2);
	assert_string_equal(g.first[0][0], "e1");
	assert_string_equal(g.first[0][1], "o3");
	assert_int_equal(hm_person_merge(&e.l, "e1", "o3", "same ID number", false, &m), HM_OK);
	assert_string_equal(m.id, "m-e1-o3");
	assert_string_equal(field_get(&e, "merge", "m-e1-o3", "state", buf, sizeof(buf)), "merged");
	{
		hm_record *r;
		assert_int_equal(hm_node_get(e.n, "merge", "m-e1-o3", &r), HM_OK);
		assert_string_equal(r->region, "lin/east"); /* where both villages are */
		hm_record_free(r);
	}
	assert_int_equal(dups(&e, &g), 0);
	/* never into someone merged away; never merged twice */
	assert_int_equal(hm_person_merge(&e.l, "o3", "o4", NULL, false, &m), HM_ERR_INVALID);
	field_assert_msg(&e, "o3 is itself merged into e1: merge into e1");
	assert_int_equal(hm_person_merge(&e.l, "o4", "o3", NULL, false, &m), HM_ERR_INVALID);
	field_assert_msg(&e, "o3 is already merged into e1");
	assert_int_equal(hm_person_merge(&e.l, "e1", "e1", NULL, false, &m), HM_ERR_INVALID);
	assert_int_equal(hm_person_merge(&e.l, "e1", "zz", NULL, false, &m), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown person 'zz'");
	/* unmerge: the proposal is back */
	assert_int_equal(hm_person_merge(&e.l, "e1", "o4", NULL, true, &m), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "e1 and o4 were never merged");
	assert_int_equal(hm_person_merge(&e.l, "e1", "o3", NULL, true, &m), HM_OK);
	assert_string_equal(field_get(&e, "merge", "m-e1-o3", "state", buf, sizeof(buf)), "undone");
	assert_int_equal(dups(&e, &g), 1);
	field_env_close(&e);
}

/* Kept apart: the pair is no longer proposed (in either order), a merge of it is undone, a
 * merge after merges it again; a third registration of the number is still proposed. */
static void test_apart(void **state)
{
	field_env e;
	groups g;
	hm_merge_result m;
	char buf[64];
	(void)state;

	field_env_open(&e, "apart", HM_ROLE_TOWNSHIP, "lin/east");
	add(&e, "e1", "lin/east/elm", IDN);
	add(&e, "o3", "lin/east/oak", IDN);
	assert_int_equal(dups(&e, &g), 1);
	assert_int_equal(hm_person_apart(&e.l, "e1", "o3", "two sisters", &m), HM_OK);
	assert_string_equal(m.id, "m-e1-o3");
	assert_string_equal(field_get(&e, "merge", "m-e1-o3", "state", buf, sizeof(buf)), "apart");
	assert_string_equal(field_get(&e, "merge", "m-e1-o3", "reason", buf, sizeof(buf)),
	                    "two sisters");
	assert_int_equal(dups(&e, &g), 0);
	/* a third with the number: proposed with the first, not the pair kept apart */
	add(&e, "o5", "lin/east/oak", IDN);
	assert_int_equal(dups(&e, &g), 1);
	assert_int_equal(g.sizes[0], 2);
	assert_string_equal(g.first[0][0], "e1");
	assert_string_equal(g.first[0][1], "o5");
	/* merged after all: merged, and o3 no longer a person of its own */
	assert_int_equal(hm_person_merge(&e.l, "e1", "o3", NULL, false, &m), HM_OK);
	assert_string_equal(field_get(&e, "merge", "m-e1-o3", "state", buf, sizeof(buf)), "merged");
	/* kept apart again: the merge is undone; in the other order it is the same pair */
	assert_int_equal(hm_person_apart(&e.l, "o5", "e1", NULL, &m), HM_OK);
	assert_int_equal(hm_person_apart(&e.l, "e1", "o3", NULL, &m), HM_OK);
	assert_int_equal(dups(&e, &g), 1); /* o3 and o5: neither kept apart from the other */
	assert_int_equal(g.sizes[0], 2);
	assert_string_equal(g.first[0][0], "o3");
	assert_string_equal(g.first[0][1], "o5");
	assert_int_equal(hm_person_apart(&e.l, "o3", "o5", NULL, &m), HM_OK);
	assert_int_equal(dups(&e, &g), 0);
	/* the pair's two records (one each way) never say two things: merged the other way
	 * round after being kept apart, then kept apart the first way, then unmerged */
	assert_int_equal(hm_person_merge(&e.l, "o5", "o3", NULL, false, &m), HM_OK);
	assert_string_equal(field_get(&e, "merge", "m-o3-o5", "state", buf, sizeof(buf)), "undone");
	assert_int_equal(hm_person_apart(&e.l, "o3", "o5", NULL, &m), HM_OK);
	assert_string_equal(m.id, "m-o3-o5");
	assert_string_equal(field_get(&e, "merge", "m-o5-o3", "state", buf, sizeof(buf)), "apart");
	assert_int_equal(dups(&e, &g), 0); /* o3 a person of its own, kept apart from o5 */
	assert_int_equal(hm_person_merge(&e.l, "o5", "o3", NULL, true, &m), HM_OK);
	assert_string_equal(field_get(&e, "merge", "m-o3-o5", "state", buf, sizeof(buf)), "undone");
	assert_int_equal(dups(&e, &g), 1); /* proposed again, as an unmerge says */
	assert_int_equal(hm_person_apart(&e.l, "o3", "o3", NULL, &m), HM_ERR_INVALID);
	assert_int_equal(hm_person_apart(&e.l, "o3", "zz", NULL, &m), HM_ERR_NOT_FOUND);
	field_env_close(&e);
}

static void test_settings(void **state)
{
	field_env e, v;
	char why[256], buf[32];
	size_t n;
	const hm_setting_def *defs = hm_ledger_settings(&n);
	(void)state;

	assert_true(n >= 6);
	assert_string_equal(defs[0].name, "reward.tip");
	assert_int_equal(hm_ledger_setting_check("reward.tip", "800", why, sizeof(why)), HM_OK);
	assert_int_equal(hm_ledger_setting_check("reward.tip", "-1", why, sizeof(why)),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_ledger_setting_check("fever.threshold", "45", why, sizeof(why)),
	                 HM_ERR_INVALID);
	assert_non_null(strstr(why, "between 35 and 42"));
	assert_int_equal(hm_ledger_setting_check("penalty.cutoff", "2026-13-01", why, sizeof(why)),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_ledger_setting_check(HM_SETTING_MAX_DRIFT, "0", why, sizeof(why)),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_ledger_setting_check("reward.typo", "1", why, sizeof(why)),
	                 HM_ERR_SCHEMA);
	field_env_open(&e, "county", HM_ROLE_COUNTY, "lin");
	assert_int_equal(hm_ledger_setting_list(&e.l, NULL, NULL, &n), HM_OK);
	assert_int_equal(n, 0);
	assert_string_equal(hm_ledger_setting(&e.l, "reward.tip", "500", buf, sizeof(buf)), "500");
	assert_int_equal(hm_ledger_setting_set(&e.l, "reward.tip", "x", NULL), HM_ERR_INVALID);
	assert_int_equal(hm_ledger_setting_set(&e.l, "reward.tip", "800", NULL), HM_OK);
	assert_string_equal(hm_ledger_setting(&e.l, "reward.tip", "500", buf, sizeof(buf)), "800");
	field_env_close(&e);
	/* settings are the county's */
	field_env_open(&v, "village", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(hm_ledger_setting_set(&v.l, "reward.tip", "800", NULL), HM_ERR_SCHEMA);
	field_env_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),     cmocka_unit_test(test_related),
	    cmocka_unit_test(test_merge),    cmocka_unit_test(test_apart),
	    cmocka_unit_test(test_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
