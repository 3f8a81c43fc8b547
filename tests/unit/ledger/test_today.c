/* test_today.c - Today (hm_today_build): every flag of a row on records made by hand on a
 * township node of two villages, on 2026-11-26 (the frozen clock): the morning done and the
 * evening due, checks missed on earlier days, a fever today or yesterday, an isolation ending
 * today, one check a day, a person registered twice and merged counted once, a closed episode
 * and a person of the other village absent, the order
 * by compound, household and name, names masked unless revealed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support_field.h"

#define VA "c/t/a"
#define VB "c/t/b"

static char ids[8][HM_ID_MAX + 1];

static const char *person(field_env *e, int k, const char *name, const char *village,
                          const char *compound, const char *household)
{
	char n[64], v[64], c[64], h[64];
	hm_verb_result res;

	snprintf(n, sizeof(n), "name=%s", name);
	snprintf(v, sizeof(v), "village=%s", village);
	snprintf(c, sizeof(c), "compound=%s", compound);
	snprintf(h, sizeof(h), "household=%s", household);
	assert_int_equal(field_run(e, "person", "add", NULL, &res, n, v, c, h, NULL), HM_OK);
	snprintf(ids[k], sizeof(ids[k]), "%s", res.id);
	return ids[k];
}

static void episode(field_env *e, const char *pid, const char *start, const char *planned,
                    const char *end, const char *per_day)
{
	char p[160], s[32], pl[32], cpd[32];
	hm_verb_result res;

	snprintf(p, sizeof(p), "person=%s", pid);
	snprintf(s, sizeof(s), "start=%s", start);
	snprintf(pl, sizeof(pl), "planned_end=%s", planned);
	snprintf(cpd, sizeof(cpd), "checks_per_day=%s", per_day);
	assert_int_equal(field_run(e, "episode", "start", NULL, &res, p, s, pl, cpd, "kind=home",
	                           "worker=Wang", NULL),
	                 HM_OK);
	if (end) {
		char en[32];
		snprintf(en, sizeof(en), "end=%s", end);
		assert_int_equal(field_run(e, "episode", "end", res.id, NULL, en, NULL), HM_OK);
	}
}

static void check(field_env *e, const char *pid, const char *time, const char *temp)
{
	char p[160], t[32], tt[32];

	snprintf(p, sizeof(p), "person=%s", pid);
	snprintf(t, sizeof(t), "time=%s", time);
	snprintf(tt, sizeof(tt), "temperature=%s", temp);
	assert_int_equal(field_run(e, "followup", "add", NULL, NULL, p, t, tt, NULL), HM_OK);
}

/* The village of the scripted day:
 *   0 Zhao  A1/1  since yesterday, both checks yesterday, this morning's done (36.5)
 *   1 Qian  A1/1  since yesterday, yesterday morning only, 37.5: a fever yesterday
 *   2 Sun   A0/1  since today, 37.8 this morning: a fever today
 *   3 Li    A1/0  one check a day since 11-20, ends today, a check on 11-22 only
 *   4 Zhou  A0/0  an episode ended yesterday: absent
 *   5 Wu    (village b) monitored: absent from village a */
static int setup(void **state)
{
	static field_env env;
	field_env *e = &env;

	field_env_open(e, "today", HM_ROLE_TOWNSHIP, "c/t");
	person(e, 0, "Zhao", VA, "A1", "1");
	person(e, 1, "Qian", VA, "A1", "1");
	person(e, 2, "Sun", VA, "A0", "1");
	person(e, 3, "Li", VA, "A1", "0");
	person(e, 4, "Zhou", VA, "A0", "0");
	person(e, 5, "Wu", VB, "B1", "1");
	episode(e, ids[0], "2026-11-25", "2026-12-09", NULL, "2");
	episode(e, ids[1], "2026-11-25", "2026-12-09", NULL, "2");
	episode(e, ids[2], "2026-11-26", "2026-12-10", NULL, "2");
	episode(e, ids[3], "2026-11-20", "2026-11-26", NULL, "1");
	episode(e, ids[4], "2026-11-20", "2026-12-04", "2026-11-25", "2");
	episode(e, ids[5], "2026-11-25", "2026-12-09", NULL, "2");
	check(e, ids[0], "2026-11-25T08:00", "36.4");
	check(e, ids[0], "2026-11-25T18:00", "36.6");
	check(e, ids[0], "2026-11-26T08:00", "36.5");
	check(e, ids[1], "2026-11-25T08:30", "37.5");
	check(e, ids[2], "2026-11-26T07:50", "37.8");
	check(e, ids[3], "2026-11-22T14:00", "36.2");
	check(e, ids[4], "2026-11-24T08:00", "36.2");
	/* Li registered twice: the second registration, merged into the first, has an episode and
	 * a check of its own, which count for Li */
	{
		hm_merge_result mr;
		person(e, 6, "Li", VA, "A1", "0");
		episode(e, ids[6], "2026-11-23", "2026-12-07", NULL, "2");
		check(e, ids[6], "2026-11-23T09:00", "36.3");
		assert_int_equal(hm_person_merge(&e->l, ids[3], ids[6], NULL, false, &mr), HM_OK);
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	field_env_close(*state);
	return 0;
}

static const hm_today_row *row_of(const hm_today *t, const char *pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].person, pid))
			return &t->rows[i];
	return NULL;
}

static void test_flags(void **state)
{
	field_env *e = *state;
	hm_today t;
	const hm_today_row *r;

	assert_int_equal(hm_today_build(&e->l, VA, NULL, false, &t), HM_OK);
	assert_string_equal(t.date, "2026-11-26");
	assert_int_equal(t.n, 4);
	/* the morning done, the evening due, nothing missed */
	assert_non_null(r = row_of(&t, ids[0]));
	assert_false(r->due_morning);
	assert_true(r->due_evening);
	assert_false(r->overdue);
	assert_false(r->fever);
	assert_false(r->ends_today);
	assert_true(fabs(r->last_temp - 36.5) < 1e-9);
	assert_string_equal(r->last_time, "2026-11-26T08:00");
	assert_string_equal(r->worker, "Wang");
	assert_string_equal(r->kind, "home");
	assert_int_equal(r->checks_per_day, 2);
	/* yesterday's evening missed; yesterday's 37.5 is a fever */
	assert_non_null(r = row_of(&t, ids[1]));
	assert_true(r->due_morning && r->due_evening);
	assert_true(r->overdue);
	assert_int_equal(r->missed, 1);
	assert_true(r->fever);
	/* a fever this morning, on the first day */
	assert_non_null(r = row_of(&t, ids[2]));
	assert_true(r->fever);
	assert_false(r->due_morning);
	assert_false(r->overdue);
	/* one check a day: four days without one (the 23rd's was taken under the registration
	 * merged into Li's), the isolation ends today; the merged registration has no row */
	assert_non_null(r = row_of(&t, ids[3]));
	assert_true(r->due_morning);
	assert_false(r->due_evening);
	assert_true(r->overdue);
	assert_int_equal(r->missed, 4);
	assert_string_equal(r->start, "2026-11-20"); /* the episode that started first */
	assert_null(row_of(&t, ids[6]));
	assert_true(r->ends_today);
	assert_false(r->fever);
	/* a closed episode and a person of the other village are absent */
	assert_null(row_of(&t, ids[4]));
	assert_null(row_of(&t, ids[5]));
	hm_today_free(&t);
}

static void test_order_and_masking(void **state)
{
	field_env *e = *state;
	hm_today t;

	assert_int_equal(hm_today_build(&e->l, VA, "2026-11-26", false, &t), HM_OK);
	assert_int_equal(t.n, 4);
	/* compound A0 first; in A1, household 0 before 1; in A1/1, Qian before Zhao */
	assert_string_equal(t.rows[0].person, ids[2]);
	assert_string_equal(t.rows[1].person, ids[3]);
	assert_string_equal(t.rows[2].person, ids[1]);
	assert_string_equal(t.rows[3].person, ids[0]);
	assert_false(t.revealed);
	assert_string_equal(t.rows[0].name, "S**");
	assert_string_equal(t.rows[3].name, "Z***");
	hm_today_free(&t);
	assert_int_equal(hm_today_build(&e->l, VA, "2026-11-26", true, &t), HM_OK);
	assert_true(t.revealed);
	assert_string_equal(t.rows[0].name, "Sun");
	assert_string_equal(t.rows[3].name, "Zhao");
	hm_today_free(&t);
}

static void test_scope_and_dates(void **state)
{
	field_env *e = *state;
	hm_today t;

	/* the node's own region: both villages */
	assert_int_equal(hm_today_build(&e->l, NULL, NULL, false, &t), HM_OK);
	assert_int_equal(t.n, 5);
	assert_non_null(row_of(&t, ids[5]));
	assert_string_equal(t.region, "c/t");
	hm_today_free(&t);
	/* the day before: Zhou's episode ended that day, Sun's had not begun; Zhao missed
	 * nothing (the checks after it do not count) */
	assert_int_equal(hm_today_build(&e->l, VA, "2026-11-25", false, &t), HM_OK);
	assert_null(row_of(&t, ids[4]));
	assert_null(row_of(&t, ids[2]));
	assert_false(row_of(&t, ids[0])->due_evening);
	assert_false(row_of(&t, ids[0])->overdue);
	assert_false(row_of(&t, ids[3])->ends_today);
	hm_today_free(&t);
	/* two days before: Zhou's episode ran then, with a check on the 24th */
	assert_int_equal(hm_today_build(&e->l, VA, "2026-11-24", false, &t), HM_OK);
	assert_non_null(row_of(&t, ids[4]));
	assert_false(row_of(&t, ids[4])->due_morning);
	assert_true(row_of(&t, ids[4])->due_evening);
	assert_int_equal(row_of(&t, ids[4])->missed, 8); /* 11-20 .. 11-23, two a day */
	hm_today_free(&t);
	assert_int_equal(hm_today_build(&e->l, VA, "26/11/2026", false, &t), HM_ERR_INVALID);
	assert_int_equal(t.n, 0);
	hm_today_free(&t);
	assert_int_equal(hm_today_build(&e->l, "c/elsewhere", NULL, false, &t), HM_ERR_NOT_FOUND);
	hm_today_free(&t);
	hm_today_free(NULL);
}

/* The slot of a check: before 12:00 the morning's, as `followup add` and the Today page say. */
static void test_slot(void **state)
{
	field_env *e = *state;
	uint64_t was = e->now_ms;

	assert_string_equal(hm_followup_slot("2026-11-26T00:00"), "morning");
	assert_string_equal(hm_followup_slot("2026-11-26T11:59"), "morning");
	assert_string_equal(hm_followup_slot("2026-11-26T12:00"), "evening");
	assert_string_equal(hm_followup_slot("2026-11-26T23:59:59+08:00"), "evening");
	assert_null(hm_followup_slot("2026-11-26"));
	assert_null(hm_followup_slot(""));
	e->now_ms =
	    1795694400000ull - (1795694400000ull % 86400000ull) + 11 * 3600000ull; /* 11:00 */
	assert_string_equal(hm_ledger_slot_now(&e->l), "morning");
	e->now_ms += 3600000ull; /* 12:00 UTC, the station's zone here */
	assert_string_equal(hm_ledger_slot_now(&e->l), "evening");
	e->now_ms = was;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slot),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_order_and_masking),
	    cmocka_unit_test(test_scope_and_dates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
