/* test_register.c - the clerk's writes of many records at once: a batch of checks is one change
 * set, or nothing at all with each bad row's reason on its row (the digest unchanged); a
 * returnee's person, journey and isolation are one change set; a possible duplicate is named,
 * and refused when asked; a bad ID number writes nothing. */
#include <stdio.h>
#include <string.h>

#include "support_field.h"

#define VA "c/t/a"

static char pids[3][HM_ID_MAX + 1];

static int setup(void **state)
{
	static field_env env;
	field_env *e = &env;
	static const char *const names[] = {"name=Zhao", "name=Qian", "name=Sun"};

	field_env_open(e, "register", HM_ROLE_VILLAGE, VA);
	for (int i = 0; i < 3; i++) {
		hm_verb_result res;
		char p[160];
		assert_int_equal(field_run(e, "person", "add", NULL, &res, names[i], NULL), HM_OK);
		snprintf(pids[i], sizeof(pids[i]), "%s", res.id);
		snprintf(p, sizeof(p), "person=%s", res.id);
		assert_int_equal(field_run(e, "episode", "start", NULL, NULL, p, "kind=home",
		                           "start=2026-11-25", NULL),
		                 HM_OK);
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	field_env_close(*state);
	return 0;
}

static uint64_t seq(field_env *e)
{
	hm_node_info info;
	assert_int_equal(hm_node_info_get(e->n, &info), HM_OK);
	return info.seq;
}

static void digest(field_env *e, hm_hash *out)
{
	assert_int_equal(hm_node_digest(e->n, NULL, out), HM_OK);
}

static int count_one(void *arg, const hm_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count(field_env *e, const char *coll)
{
	size_t n = 0;
	assert_int_equal(hm_node_list(e->n, coll, count_one, &n), HM_OK);
	return n;
}

static int no_episode_one(void *arg, const hm_record *r)
{
	char ep[HM_ID_MAX + 1];
	if (!hm_rec_id(r, "episode", ep))
		(*(size_t *)arg)++;
	return 0;
}

static void test_batch_one_bad_row(void **state)
{
	field_env *e = *state;
	hm_check_row rows[3] = {
	    {.person = pids[0], .slot = "morning", .temperature = "36.5", .method = "visit"},
	    {.person = pids[1], .slot = "morning", .temperature = "73.5", .method = "visit"},
	    {.person = pids[2], .slot = "上午", .temperature = "36.8", .method = "上门"},
	};
	char errs[3][HM_CHECK_WHY];
	hm_hash before, after;
	uint64_t s0 = seq(e);
	size_t f0 = count(e, "followup");

	digest(e, &before);
	assert_int_equal(hm_followup_batch(&e->l, rows, 3, errs, NULL), HM_ERR_TYPE);
	assert_string_equal(errs[0], "");
	assert_non_null(strstr(errs[1], "temperature"));
	assert_non_null(strstr(errs[1], "73.5"));
	assert_string_equal(errs[2], "");
	field_assert_msg(e, "row 2: ");
	field_assert_msg(e, "nothing written");
	digest(e, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(seq(e), s0);
	assert_int_equal(count(e, "followup"), f0);

	/* a row without a result, and a person nobody registered: each on its own row */
	rows[1].temperature = "36.9";
	rows[0].temperature = NULL;
	rows[2].person = "p-nobody";
	assert_int_equal(hm_followup_batch(&e->l, rows, 3, errs, NULL), HM_ERR_INVALID);
	assert_non_null(strstr(errs[0], "needs its result"));
	assert_string_equal(errs[1], "");
	assert_non_null(strstr(errs[2], "p-nobody"));
	field_assert_msg(e, "2 of 3 rows refused");
	assert_int_equal(seq(e), s0);
	assert_int_equal(count(e, "followup"), f0);
}

static void test_batch_written(void **state)
{
	field_env *e = *state;
	hm_check_row rows[3] = {
	    {.person = pids[0], .slot = "evening", .temperature = "36.5", .method = "visit"},
	    {.person = pids[1],
	     .slot = "evening",
	     .temperature = "37.9",
	     .method = "phone",
	     .symptoms = "cough"},
	    {.person = pids[2], .slot = "下午", .result = "not at home", .worker = "Wang"},
	};
	char errs[3][HM_CHECK_WHY];
	hm_changeset_info info;
	uint64_t s0 = seq(e);
	size_t f0 = count(e, "followup");
	hm_today t;

	assert_int_equal(hm_followup_batch(&e->l, rows, 3, errs, &info), HM_OK);
	assert_int_equal(seq(e), s0 + 1); /* one change set */
	assert_int_equal(info.seq, s0 + 1);
	assert_int_equal(count(e, "followup"), f0 + 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(errs[i], "");
	{ /* each check names the episode running, found from the episodes read once */
		size_t without = 0;
		assert_int_equal(hm_node_list(e->n, "followup", no_episode_one, &without), HM_OK);
		assert_int_equal(without, 0);
	}
	/* Today sees the evening done; the rule filled in the episode and the village */
	assert_int_equal(hm_today_build(&e->l, NULL, NULL, false, &t), HM_OK);
	assert_int_equal(t.n, 3);
	for (size_t i = 0; i < t.n; i++)
		assert_false(t.rows[i].due_evening);
	hm_today_free(&t);
	assert_int_equal(hm_followup_batch(&e->l, rows, 0, errs, NULL), HM_ERR_INVALID);
}

/* The clock is frozen: every row of a batch is made in the same millisecond, and 600 ids of 16
 * random bits would share one about 19 times in 20 unless the batch keeps them apart. */
static void test_batch_ids_unique(void **state)
{
	field_env *e = *state;
	enum { N = 600 };
	static hm_check_row rows[N];
	static char errs[N][HM_CHECK_WHY];
	size_t f0 = count(e, "followup");
	uint64_t s0 = seq(e);

	for (int i = 0; i < N; i++)
		rows[i] = (hm_check_row){
		    .person = pids[i % 3], .temperature = "36.6", .time = "2026-11-26T08:00"};
	assert_int_equal(hm_followup_batch(&e->l, rows, N, errs, NULL), HM_OK);
	assert_int_equal(count(e, "followup"), f0 + N);
	assert_int_equal(seq(e), s0 + 1);
}

static hm_returnee returnee(const char *name, const char *idnum)
{
	return (hm_returnee){.name = name,
	                     .id_number = idnum,
	                     .sex = "男",
	                     .compound = "A1",
	                     .household = "3",
	                     .from_area = "wuhan",
	                     .departure_date = "2026-11-24",
	                     .arrival_date = "2026-11-25",
	                     .transport = "train"};
}

static void test_returnee_one_write(void **state)
{
	field_env *e = *state;
	hm_returnee r = returnee("Li Wei", "11010519491231002X");
	hm_register_result out;
	uint64_t s0 = seq(e);
	char buf[64];

	assert_int_equal(hm_register_returnee(&e->l, &r, true, &out), HM_OK);
	assert_int_equal(seq(e), s0 + 1); /* person, return and episode: one change set */
	assert_int_equal(out.info.seq, s0 + 1);
	assert_string_equal(out.dup, "");
	assert_string_equal(field_get(e, "person", out.person, "category", buf, sizeof(buf)),
	                    "returnee");
	assert_string_equal(field_get(e, "person", out.person, "sex", buf, sizeof(buf)), "male");
	assert_string_equal(field_get(e, "person", out.person, "village", buf, sizeof(buf)), VA);
	assert_true(field_get(e, "person", out.person, "id_hash", buf, sizeof(buf))[0]);
	assert_string_equal(field_get(e, "return", out.ret, "person", buf, sizeof(buf)),
	                    out.person);
	assert_string_equal(field_get(e, "return", out.ret, "village", buf, sizeof(buf)), VA);
	assert_string_equal(field_get(e, "return", out.ret, "registered", buf, sizeof(buf)),
	                    "2026-11-26");
	assert_string_equal(field_get(e, "episode", out.episode, "person", buf, sizeof(buf)),
	                    out.person);
	assert_string_equal(field_get(e, "episode", out.episode, "village", buf, sizeof(buf)), VA);
	assert_string_equal(field_get(e, "episode", out.episode, "reason", buf, sizeof(buf)),
	                    "returnee");
	assert_string_equal(field_get(e, "episode", out.episode, "kind", buf, sizeof(buf)), "home");
	assert_string_equal(field_get(e, "episode", out.episode, "start", buf, sizeof(buf)),
	                    "2026-11-26");
	assert_string_equal(field_get(e, "episode", out.episode, "planned_end", buf, sizeof(buf)),
	                    "2026-12-10");
}

static void test_returnee_duplicate(void **state)
{
	field_env *e = *state;
	hm_returnee r = returnee("Li W.", "11010519491231002x"); /* the same number, lower case */
	hm_register_result first, out;
	hm_hash before, after;
	uint64_t s0;

	r.name = "Li Wei";
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &first), HM_OK);
	s0 = seq(e);
	digest(e, &before);
	r.name = "Li W.";
	/* refused: the duplicate named, nothing written */
	assert_int_equal(hm_register_returnee(&e->l, &r, true, &out), HM_ERR_EXISTS);
	assert_true(out.dup[0]);
	assert_string_equal(out.person, "");
	field_assert_msg(e, "same ID number");
	field_assert_msg(e, out.dup);
	digest(e, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(seq(e), s0);
	/* warned: the duplicate named, written anyway */
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &out), HM_OK);
	assert_true(out.dup[0]);
	assert_string_not_equal(out.dup, out.person);
	assert_non_null(strstr(out.note, out.dup));
	assert_int_equal(seq(e), s0 + 1);
}

static void test_returnee_refused(void **state)
{
	field_env *e = *state;
	hm_returnee r = returnee("Bad Number", "110105194912310021"); /* wrong check character */
	hm_register_result out;
	hm_hash before, after;
	uint64_t s0 = seq(e);
	size_t p0 = count(e, "person"), e0 = count(e, "episode"), r0 = count(e, "return");

	digest(e, &before);
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &out), HM_ERR_TYPE);
	field_assert_msg(e, "id_number");
	/* an arrival before the departure: the return's rule, after the person was staged */
	r = returnee("Late", NULL);
	r.arrival_date = "2026-11-20";
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &out), HM_ERR_INVALID);
	field_assert_msg(e, "before departure_date");
	/* too many days: the episode's rule, last of the three */
	r = returnee("Long", NULL);
	r.days = "400";
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &out), HM_ERR_INVALID);
	assert_string_equal(out.person, "");
	digest(e, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(seq(e), s0);
	assert_int_equal(count(e, "person"), p0);
	assert_int_equal(count(e, "episode"), e0);
	assert_int_equal(count(e, "return"), r0);
}

static void test_contact_of_returnee(void **state)
{
	field_env *e = *state;
	hm_returnee r = returnee("Zhang", NULL);
	hm_register_result out;
	hm_verb_result res;
	char src[160], con[160], buf[16];

	/* contacts need no call of their own: `contact add` gives the degree in one call */
	assert_int_equal(hm_register_returnee(&e->l, &r, false, &out), HM_OK);
	snprintf(src, sizeof(src), "source=%s", out.person);
	snprintf(con, sizeof(con), "contact=%s", pids[0]);
	assert_int_equal(field_run(e, "contact", "add", NULL, &res, src, con, NULL), HM_OK);
	assert_string_equal(field_get(e, "exposure", res.id, "degree", buf, sizeof(buf)), "1");
	assert_string_equal(field_get(e, "exposure", res.id, "village", buf, sizeof(buf)), VA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_one_bad_row),   cmocka_unit_test(test_batch_written),
	    cmocka_unit_test(test_batch_ids_unique),    cmocka_unit_test(test_returnee_one_write),
	    cmocka_unit_test(test_returnee_duplicate),  cmocka_unit_test(test_returnee_refused),
	    cmocka_unit_test(test_contact_of_returnee),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
