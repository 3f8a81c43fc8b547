/* test_field.c - the rules of the field verbs on a real node with a frozen clock: episodes
 * (default dates, planned ends, never shortened, no end before the start), follow-ups (a result
 * is required; slot and episode derived), contacts, checkpoints, returns, tips (the reward from
 * the county's settings), the person's identity bookkeeping, and what a verb refuses. */
#include "support_field.h"

#include <stdio.h>
#include <string.h>

#define V(...) __VA_ARGS__, NULL

static void person(field_env *e, const char *id, const char *category)
{
	char idarg[64], cat[64];
	snprintf(idarg, sizeof(idarg), "%s", id);
	snprintf(cat, sizeof(cat), "category=%s", category);
	assert_int_equal(field_run(e, "person", "add", idarg, NULL, V("name=Li Wei", cat)), HM_OK);
}

static void test_episode_dates(void **state)
{
	field_env e;
	hm_verb_result r;
	char buf[64];
	(void)state;

	field_env_open(&e, "ep", HM_ROLE_VILLAGE, "lin/east/elm");
	person(&e, "p1", "close");
	/* start: today; checks per day: 2; --days sets the planned end */
	assert_int_equal(field_run_opts(&e, "episode", "start",
	                                &(hm_verb_req){.id = "e1", .days = "14"}, &r,
	                                V("person=p1", "kind=home")),
	                 HM_OK);
	assert_string_equal(field_get(&e, "episode", "e1", "start", buf, sizeof(buf)),
	                    "2026-11-26");
	assert_string_equal(field_get(&e, "episode", "e1", "planned_end", buf, sizeof(buf)),
	                    "2026-12-10");
	assert_string_equal(field_get(&e, "episode", "e1", "checks_per_day", buf, sizeof(buf)),
	                    "2");
	assert_string_equal(field_get(&e, "episode", "e1", "village", buf, sizeof(buf)),
	                    "lin/east/elm");
	/* a second one while the first runs: written, with a note */
	assert_int_equal(field_run(&e, "episode", "start", "e2", &r,
	                           V("person=p1", "kind=monitoring", "start=2026-11-27")),
	                 HM_OK);
	assert_non_null(strstr(r.note, "already has episode e1 running"));
	/* a planned end before the start */
	assert_int_equal(field_run(&e, "episode", "start", "e3", &r,
	                           V("person=p1", "kind=home", "planned_end=2026-11-01")),
	                 HM_ERR_INVALID);
	field_assert_msg(&e, "planned end 2026-11-01 is before the start 2026-11-26");
	/* --days out of range is a malformed request */
	assert_int_equal(field_run_opts(&e, "episode", "start", &(hm_verb_req){.days = "0"}, &r,
	                                V("person=p1", "kind=home")),
	                 HM_ERR_INVALID);
	assert_true(r.usage);
	/* extend: later only; --days from the planned end */
	assert_int_equal(field_run_opts(&e, "episode", "extend",
	                                &(hm_verb_req){.id = "e1", .to = "2026-12-01"}, &r, NULL),
	                 HM_ERR_INVALID);
	field_assert_msg(&e, "never shortened");
	assert_int_equal(field_run_opts(&e, "episode", "extend",
	                                &(hm_verb_req){.id = "e1", .days = "3"}, &r, NULL),
	                 HM_OK);
	assert_string_equal(field_get(&e, "episode", "e1", "planned_end", buf, sizeof(buf)),
	                    "2026-12-13");
	assert_int_equal(field_run(&e, "episode", "extend", "e1", &r, NULL), HM_ERR_INVALID);
	assert_true(r.usage); /* say the new planned end */
	/* end: not before the start; today and "completed" by default */
	assert_int_equal(field_run(&e, "episode", "end", "e1", &r, V("end=2026-11-20")),
	                 HM_ERR_INVALID);
	field_assert_msg(&e, "end: 2026-11-20 is before the episode's start 2026-11-26");
	/* the rules judge a date as stored, whatever way the clerk wrote it (review: a spreadsheet
	 * date compared as text slipped past "not before the start") */
	assert_int_equal(field_run(&e, "episode", "end", "e1", &r, V("end=2026/11/20")),
	                 HM_ERR_INVALID);
	field_assert_msg(&e, "end: 2026-11-20 is before the episode's start 2026-11-26");
	assert_int_equal(field_run_opts(&e, "episode", "extend",
	                                &(hm_verb_req){.id = "e1", .to = "2026/12/1"}, &r, NULL),
	                 HM_ERR_INVALID);
	field_assert_msg(&e, "never shortened");
	assert_int_equal(field_run(&e, "episode", "start", "e4", &r,
	                           V("person=p1", "kind=home", "start=2026/11/27")),
	                 HM_OK);
	assert_string_equal(field_get(&e, "episode", "e4", "start", buf, sizeof(buf)),
	                    "2026-11-27");
	assert_int_equal(field_run(&e, "episode", "end", "e1", &r, NULL), HM_OK);
	assert_string_equal(field_get(&e, "episode", "e1", "end", buf, sizeof(buf)), "2026-11-26");
	assert_string_equal(field_get(&e, "episode", "e1", "end_reason", buf, sizeof(buf)),
	                    "completed");
	assert_int_equal(field_run(&e, "episode", "end", "nope", &r, NULL), HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown episode 'nope'");
	field_env_close(&e);
}

static void test_followup(void **state)
{
	field_env e;
	hm_verb_result r;
	hm_node_info before, after;
	char buf[64];
	(void)state;

	field_env_open(&e, "fu", HM_ROLE_VILLAGE, "lin/east/elm");
	person(&e, "p1", "close");
	assert_int_equal(field_run(&e, "episode", "start", "e1", NULL,
	                           V("person=p1", "kind=home", "start=2026-11-20")),
	                 HM_OK);
	/* the fix: neither a reading nor a result is no check at all, and nothing is written */
	assert_int_equal(hm_node_info_get(e.n, &before), HM_OK);
	assert_int_equal(field_run(&e, "followup", "add", NULL, &r, V("person=p1")),
	                 HM_ERR_INVALID);
	assert_true(r.usage);
	field_assert_msg(&e, "a follow-up needs its result");
	assert_int_equal(field_run(&e, "followup", "add", NULL, &r, V("person=p1", "method=visit")),
	                 HM_ERR_INVALID);
	assert_int_equal(field_run(&e, "followup", "add", NULL, &r, V("person=p1", "temperature=")),
	                 HM_ERR_INVALID); /* an empty reading is none (review) */
	assert_int_equal(hm_node_info_get(e.n, &after), HM_OK);
	assert_int_equal(after.changesets, before.changesets);
	/* a reading: the slot from the time, the episode the one running, now by default */
	assert_int_equal(field_run(&e, "followup", "add", "f1", &r,
	                           V("person=p1", "temp=ignored=no", "temperature=37.4",
	                             "method=visit", "time=2026-11-22T19:10")),
	                 HM_ERR_SCHEMA); /* "temp" is the command line's word, not a field */
	assert_int_equal(
	    field_run(&e, "followup", "add", "f1", &r,
	              V("person=p1", "temperature=37.4", "method=visit", "time=2026-11-22T19:10")),
	    HM_OK);
	assert_string_equal(field_get(&e, "followup", "f1", "slot", buf, sizeof(buf)), "evening");
	assert_string_equal(field_get(&e, "followup", "f1", "episode", buf, sizeof(buf)), "e1");
	assert_int_equal(
	    field_run(&e, "followup", "add", "f2", &r, V("person=p1", "result=not at home")),
	    HM_OK);
	assert_string_equal(field_get(&e, "followup", "f2", "time", buf, sizeof(buf)),
	                    "2026-11-26T12:00");
	assert_string_equal(field_get(&e, "followup", "f2", "slot", buf, sizeof(buf)), "evening");
	/* a mistyped temperature; an unknown person */
	assert_int_equal(
	    field_run(&e, "followup", "add", NULL, &r, V("person=p1", "temperature=45.2")),
	    HM_ERR_TYPE);
	field_assert_msg(&e, "temperature: must be a body temperature between 34 and 43");
	assert_int_equal(
	    field_run(&e, "followup", "add", NULL, &r, V("person=ghost", "temperature=37")),
	    HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown person 'ghost'");
	/* no episode that day: written, with a note */
	assert_int_equal(field_run(&e, "followup", "add", NULL, &r,
	                           V("person=p1", "temperature=36.6", "time=2026-11-01T08:00")),
	                 HM_OK);
	assert_non_null(strstr(r.note, "no episode running on 2026-11-01"));
	field_env_close(&e);
}

static void test_contact_checkpoint_return(void **state)
{
	field_env e;
	hm_verb_result r;
	char buf[64];
	(void)state;

	field_env_open(&e, "cx", HM_ROLE_VILLAGE, "lin/east/elm");
	person(&e, "p1", "close");
	person(&e, "p2", "returnee");
	person(&e, "p3", "other");
	/* a contact of a close contact is second-degree; of anyone else, close */
	assert_int_equal(field_run(&e, "contact", "add", "x1", &r, V("source=p1", "contact=p3")),
	                 HM_OK);
	assert_string_equal(field_get(&e, "exposure", "x1", "degree", buf, sizeof(buf)), "2");
	assert_int_equal(field_run(&e, "contact", "add", "x2", &r, V("source=p2", "contact=p3")),
	                 HM_OK);
	assert_string_equal(field_get(&e, "exposure", "x2", "degree", buf, sizeof(buf)), "1");
	assert_int_equal(field_run(&e, "contact", "add", NULL, &r, V("source=p2", "contact=p2")),
	                 HM_ERR_INVALID);
	/* a tally only at a checkpoint */
	assert_int_equal(
	    field_run(&e, "site", "add", "s-clinic", &r, V("name=Clinic", "kind=clinic")), HM_OK);
	assert_int_equal(
	    field_run(&e, "checkpoint", "tally", NULL, &r, V("checkpoint=s-clinic", "shift=1")),
	    HM_ERR_INVALID);
	field_assert_msg(&e, "site s-clinic is a clinic, not a checkpoint");
	/* a journey: arrival not before departure; registered today */
	assert_int_equal(
	    field_run(&e, "return", "add", NULL, &r,
	              V("person=p2", "departure_date=2026-11-20", "arrival_date=2026-11-19")),
	    HM_ERR_INVALID);
	assert_int_equal(
	    field_run(&e, "return", "add", "r1", &r, V("person=p2", "from_area=wuhan")), HM_OK);
	assert_string_equal(field_get(&e, "return", "r1", "registered", buf, sizeof(buf)),
	                    "2026-11-26");
	/* an id taken; a field the ledger sets itself */
	assert_int_equal(field_run(&e, "return", "add", "r1", &r, V("person=p2")), HM_ERR_EXISTS);
	assert_int_equal(field_run(&e, "person", "add", NULL, &r, V("name=X", "id_hash=00")),
	                 HM_ERR_SCHEMA);
	/* nothing given for a new person: what is missing, as a malformed request */
	assert_int_equal(field_run(&e, "person", "add", NULL, &r, NULL), HM_ERR_INVALID);
	assert_true(r.usage);
	field_assert_msg(&e, "a new person needs its name");
	field_env_close(&e);
}

static void test_tips(void **state)
{
	field_env e;
	hm_verb_result r;
	char buf[64];
	(void)state;

	/* the county's node: where settings are set */
	field_env_open(&e, "tip", HM_ROLE_COUNTY, "lin");
	assert_int_equal(field_run(&e, "tip", "add", "t1", &r, V("subject=lights on")), HM_OK);
	assert_string_equal(field_get(&e, "tip", "t1", "state", buf, sizeof(buf)), "new");
	assert_int_equal(field_run(&e, "tip", "pay", "t1", &r, NULL), HM_ERR_INVALID);
	field_assert_msg(&e, "not verified");
	assert_int_equal(field_run(&e, "tip", "verify", "t1", &r, NULL), HM_OK);
	assert_string_equal(field_get(&e, "tip", "t1", "reward", buf, sizeof(buf)), "500");
	assert_int_equal(hm_ledger_setting_set(&e.l, "reward.tip", "800", NULL), HM_OK);
	assert_int_equal(field_run(&e, "tip", "add", "t2", &r, V("subject=a car")), HM_OK);
	assert_int_equal(field_run(&e, "tip", "verify", "t2", &r, NULL), HM_OK);
	assert_string_equal(field_get(&e, "tip", "t2", "reward", buf, sizeof(buf)), "800");
	assert_string_equal(field_get(&e, "tip", "t2", "verified", buf, sizeof(buf)), "2026-11-26");
	assert_int_equal(field_run_opts(&e, "tip", "verify",
	                                &(hm_verb_req){.id = "t1", .reject = true}, &r, NULL),
	                 HM_OK);
	assert_string_equal(field_get(&e, "tip", "t1", "state", buf, sizeof(buf)), "rejected");
	assert_int_equal(field_run(&e, "tip", "pay", "t2", &r, NULL), HM_OK);
	assert_string_equal(field_get(&e, "tip", "t2", "paid", buf, sizeof(buf)), "2026-11-26");
	assert_int_equal(field_run(&e, "tip", "add", NULL, &r, V("person=nobody")),
	                 HM_ERR_NOT_FOUND);
	field_env_close(&e);
}

static void test_identity(void **state)
{
	field_env e;
	hm_verb_result r;
	char h1[64], h2[64], seen[128];
	(void)state;

	field_env_open(&e, "idn", HM_ROLE_VILLAGE, "lin/east/elm");
	assert_int_equal(field_run(&e, "person", "add", "p1", &r,
	                           V("name=Wang Fang", "id_number=11010519491231002X")),
	                 HM_OK);
	field_get(&e, "person", "p1", "id_hash", h1, sizeof(h1));
	assert_int_equal(strlen(h1), 32);
	assert_int_equal(field_run(&e, "person", "add", "p2", &r,
	                           V("name=Wang F.", "id_number=11010519491231002x")),
	                 HM_OK);
	assert_string_equal(field_get(&e, "person", "p2", "id_hash", h2, sizeof(h2)), h1);
	assert_non_null(strstr(r.note, "p1 has the same ID number"));
	/* a wrong check character names the field and masks the number */
	assert_int_equal(
	    field_run(&e, "person", "add", NULL, &r, V("name=X", "id_number=110105194912310021")),
	    HM_ERR_TYPE);
	field_assert_msg(&e, "id_number: must be an ID number with the right check character");
	field_assert_msg(&e, "'110*************21'");
	/* an edit of the name records which value it replaced; clearing the number clears the hash
	 */
	assert_int_equal(field_run(&e, "person", "edit", "p2", &r, V("name=Wang Fang")), HM_OK);
	field_get(&e, "person", "p2", "name_seen", seen, sizeof(seen));
	assert_non_null(strchr(seen, ':'));
	assert_int_equal(field_run(&e, "person", "edit", "p2", &r, V("id_number=")), HM_OK);
	assert_string_equal(field_get(&e, "person", "p2", "id_hash", h2, sizeof(h2)), "");
	assert_int_equal(field_run(&e, "person", "edit", "nobody", &r, V("status=x")),
	                 HM_ERR_NOT_FOUND);
	field_assert_msg(&e, "unknown person 'nobody'");
	field_env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_episode_dates),
	    cmocka_unit_test(test_followup),
	    cmocka_unit_test(test_contact_checkpoint_return),
	    cmocka_unit_test(test_tips),
	    cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
