/* test_merge.c - the CRDT rules, each on two or three replicas that exchange change sets in
 * both orders: lww with ties, counters, deletes racing edits, append-only inserts, and the
 * conflict log that keeps what lost. */
#include "node_test.h"

#include <string.h>

typedef struct trio {
	test_node a, b, c;
} trio;

static int setup(void **state)
{
	static trio t;

	test_node_init(&t.a, "merge_a", 0, NULL);
	test_node_init(&t.b, "merge_b", 0, NULL);
	test_node_init(&t.c, "merge_c", 0, NULL);
	*state = &t;
	return 0;
}

static int teardown(void **state)
{
	trio *t = *state;

	test_node_release(&t->a);
	test_node_release(&t->b);
	test_node_release(&t->c);
	return 0;
}

static void sync_all(trio *t)
{
	test_node *all[3] = {&t->a, &t->b, &t->c};

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				test_sync(all[i]->n, all[j]->n);
}

static void assert_converged(trio *t)
{
	hm_hash da, db, dc;

	assert_int_equal(hm_node_digest(t->a.n, NULL, &da), HM_OK);
	assert_int_equal(hm_node_digest(t->b.n, NULL, &db), HM_OK);
	assert_int_equal(hm_node_digest(t->c.n, NULL, &dc), HM_OK);
	assert_true(hm_hash_equal(&da, &db));
	assert_true(hm_hash_equal(&da, &dc));
	assert_int_equal(hm_node_check(t->a.n), HM_OK);
	assert_int_equal(hm_node_check(t->b.n), HM_OK);
	assert_int_equal(hm_node_check(t->c.n), HM_OK);
}

static void set_clocks(trio *t, uint64_t ms)
{
	t->a.clock.now_ms = t->b.clock.now_ms = t->c.clock.now_ms = ms;
}

/* Two writes with the very same hlc: the greater origin wins on every replica. */
static void test_lww_tie_broken_by_origin(void **state)
{
	trio *t = *state;
	hm_changeset_info ia, ib;
	const char *want, *lose;
	char buf[16];

	test_person(t->a.n, "p1", "base", NULL);
	sync_all(t);
	set_clocks(t, TEST_T0_MS + 1000);
	assert_int_equal(test_set_str(t->a.n, "person", "p1", "status", "from-a", &ia), HM_OK);
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "status", "from-b", &ib), HM_OK);
	assert_int_equal(ia.hlc, ib.hlc);
	want = memcmp(ia.origin.b, ib.origin.b, HM_NODE_ID_BYTES) > 0 ? "from-a" : "from-b";
	lose = want[5] == 'a' ? "from-b" : "from-a";
	/* c hears b first, a hears b after its own write: both orders. */
	test_sync(t->c.n, t->b.n);
	test_sync(t->c.n, t->a.n);
	sync_all(t);
	assert_converged(t);
	assert_string_equal(test_get_str(t->a.n, "person", "p1", "status", buf, sizeof(buf)), want);
	assert_string_equal(test_get_str(t->c.n, "person", "p1", "status", buf, sizeof(buf)), want);
	assert_int_equal(test_conflicts_count(t->a.n, "person", "p1", "status", lose, 0), 1);
	assert_int_equal(test_conflicts_count(t->b.n, "person", "p1", "status", lose, 0), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "status", lose, 0), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "status", want, -1), 0);
}

typedef struct stamp_check {
	hm_node_id loser, winner;
	size_t n;
} stamp_check;

static int check_stamps(void *ctx, const hm_conflict *c)
{
	stamp_check *s = ctx;

	assert_memory_equal(c->loser_stamp.origin.b, s->loser.b, HM_NODE_ID_BYTES);
	assert_memory_equal(c->winner_stamp.origin.b, s->winner.b, HM_NODE_ID_BYTES);
	assert_true(hm_stamp_cmp(&c->loser_stamp, &c->winner_stamp) < 0);
	assert_false(c->by_delete);
	s->n++;
	return 0;
}

/* The greater hlc wins whatever the origins; the conflict log names both stamps. */
static void test_lww_greater_clock_wins(void **state)
{
	trio *t = *state;
	stamp_check s = {{{0}}, {{0}}, 0};
	char buf[16];

	test_person(t->a.n, "p1", "base", NULL);
	sync_all(t);
	t->a.clock.now_ms += 5000; /* a is five seconds ahead */
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "b-first", NULL), HM_OK);
	assert_int_equal(test_set_str(t->a.n, "person", "p1", "phone", "a-ahead", NULL), HM_OK);
	sync_all(t);
	assert_converged(t);
	assert_string_equal(test_get_str(t->b.n, "person", "p1", "phone", buf, sizeof(buf)),
	                    "a-ahead");
	s.loser = *hm_node_self(t->b.n), s.winner = *hm_node_self(t->a.n);
	assert_int_equal(hm_node_conflicts(t->b.n, "person", "p1", check_stamps, &s), HM_OK);
	assert_int_equal(s.n, 1);
	/* All conflicts (no record given) include it too. */
	s.n = 0;
	assert_int_equal(hm_node_conflicts(t->c.n, NULL, NULL, check_stamps, &s), HM_OK);
	assert_int_equal(s.n, 1);
}

static void test_counters_sum(void **state)
{
	trio *t = *state;
	hm_write *w;
	hm_value item = test_str("masks");
	hm_record *r;

	assert_int_equal(hm_write_begin(t->a.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s1", "item", &item), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", 100), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	sync_all(t);
	/* Concurrent deltas, two with the same clock. */
	assert_int_equal(test_add(t->a.n, "stock", "s1", "quantity", -30, NULL), HM_OK);
	assert_int_equal(test_add(t->b.n, "stock", "s1", "quantity", -25, NULL), HM_OK);
	assert_int_equal(test_add(t->c.n, "stock", "s1", "quantity", 7, NULL), HM_OK);
	assert_int_equal(test_add(t->c.n, "stock", "s1", "quantity", INT64_MAX, NULL), HM_OK);
	assert_int_equal(test_add(t->c.n, "stock", "s1", "quantity", INT64_MIN + 1, NULL), HM_OK);
	test_sync(t->b.n, t->c.n);
	sync_all(t);
	assert_converged(t);
	assert_int_equal(hm_node_get(t->b.n, "stock", "s1", &r), HM_OK);
	assert_int_equal(hm_record_field(r, "quantity")->value.u.i, 100 - 30 - 25 + 7);
	hm_record_free(r);
	assert_int_equal(test_conflicts_count(t->a.n, "stock", "s1", NULL, NULL, -1), 0);
}

/* An edit stamped after a delete brings the record back with only what was written after;
 * what the delete cleared is logged (by_delete) when another origin wrote it. */
static void test_edit_after_delete_revives(void **state)
{
	trio *t = *state;
	hm_record *r;
	char buf[16];

	test_person(t->c.n, "p1", "by-c", NULL);
	sync_all(t);
	t->a.clock.now_ms += 1000;
	t->b.clock.now_ms += 2000;
	assert_int_equal(test_del(t->a.n, "person", "p1", NULL), HM_OK);
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "after", NULL), HM_OK);
	test_sync(t->a.n, t->b.n); /* delete first, then the edit */
	test_sync(t->b.n, t->a.n); /* edit first, then the delete */
	sync_all(t);
	assert_converged(t);
	assert_int_equal(hm_node_get(t->a.n, "person", "p1", &r), HM_OK);
	assert_false(r->deleted);
	assert_null(hm_record_field(r, "name"));
	assert_non_null(hm_record_field(r, "phone"));
	assert_true(r->tombstone.hlc != 0);
	hm_record_free(r);
	assert_string_equal(test_get_str(t->c.n, "person", "p1", "phone", buf, sizeof(buf)),
	                    "after");
	assert_int_equal(test_conflicts_count(t->a.n, "person", "p1", "name", "by-c", 1), 1);
	assert_int_equal(test_conflicts_count(t->b.n, "person", "p1", "name", "by-c", 1), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "name", "by-c", 1), 1);
}

static void test_edit_before_delete_cleared(void **state)
{
	trio *t = *state;
	hm_record *r;
	hm_node_info info;

	test_person(t->a.n, "p1", "by-a", NULL);
	sync_all(t);
	t->b.clock.now_ms += 1000;
	t->a.clock.now_ms += 2000;
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "before", NULL), HM_OK);
	assert_int_equal(test_del(t->a.n, "person", "p1", NULL), HM_OK);
	test_sync(t->c.n, t->a.n); /* c: delete, then the older edit */
	sync_all(t);
	assert_converged(t);
	assert_int_equal(hm_node_get(t->b.n, "person", "p1", &r), HM_ERR_NOT_FOUND);
	assert_int_equal(hm_node_info_get(t->b.n, &info), HM_OK);
	assert_int_equal(info.records, 0);
	/* b's edit lost to a's delete; a's own name is a's history, not a conflict. */
	assert_int_equal(test_conflicts_count(t->a.n, "person", "p1", "phone", "before", 1), 1);
	assert_int_equal(test_conflicts_count(t->b.n, "person", "p1", "phone", "before", 1), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "phone", "before", 1), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "name", NULL, -1), 0);
	/* Deleted everywhere: deleting again is refused, writing the name again recreates it. */
	assert_int_equal(test_del(t->c.n, "person", "p1", NULL), HM_ERR_NOT_FOUND);
	test_person(t->c.n, "p1", "again", NULL);
	sync_all(t);
	assert_converged(t);
}

/* A counter survives a delete: no increment is ever lost. */
static void test_delete_keeps_counter(void **state)
{
	trio *t = *state;
	hm_write *w;
	hm_value item = test_str("gloves");
	hm_record *r;

	assert_int_equal(hm_write_begin(t->a.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s1", "item", &item), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", 5), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	sync_all(t);
	t->a.clock.now_ms += 1000;
	assert_int_equal(test_del(t->a.n, "stock", "s1", NULL), HM_OK);
	assert_int_equal(test_add(t->b.n, "stock", "s1", "quantity", 3, NULL), HM_OK);
	sync_all(t);
	assert_converged(t);
	assert_int_equal(hm_node_get(t->c.n, "stock", "s1", &r), HM_ERR_NOT_FOUND);
	/* A later add (with the required item) brings it back with every delta. */
	t->c.clock.now_ms += 5000;
	assert_int_equal(hm_write_begin(t->c.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", "s1", "item", &item), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", "s1", "quantity", 1), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	sync_all(t);
	assert_converged(t);
	assert_int_equal(hm_node_get(t->a.n, "stock", "s1", &r), HM_OK);
	assert_int_equal(hm_record_field(r, "quantity")->value.u.i, 9);
	hm_record_free(r);
}

static hm_err insert_followup(hm_node *n, const char *id, const char *result)
{
	hm_write *w;
	hm_value p = test_str("p1"), t = test_str("2026-05-28T08:00"), res = test_str(result);

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "followup", id, "person", &p), HM_OK);
	assert_int_equal(hm_write_set(w, "followup", id, "time", &t), HM_OK);
	assert_int_equal(hm_write_set(w, "followup", id, "result", &res), HM_OK);
	return hm_write_commit(w, NULL);
}

/* Two inserts of one append-only id: the smallest stamp owns it on every replica. */
static void test_append_only_first_insert_wins(void **state)
{
	trio *t = *state;
	char buf[16];

	t->a.clock.now_ms += 2000;
	t->b.clock.now_ms += 1000;
	t->c.clock.now_ms += 3000;
	assert_int_equal(insert_followup(t->a.n, "f1", "second"), HM_OK);
	assert_int_equal(insert_followup(t->b.n, "f1", "first"), HM_OK);
	assert_int_equal(insert_followup(t->c.n, "f1", "third"), HM_OK);
	test_sync(t->a.n, t->c.n); /* a: second, third, first */
	test_sync(t->a.n, t->b.n);
	sync_all(t);
	assert_converged(t);
	assert_string_equal(test_get_str(t->a.n, "followup", "f1", "result", buf, sizeof(buf)),
	                    "first");
	assert_string_equal(test_get_str(t->c.n, "followup", "f1", "result", buf, sizeof(buf)),
	                    "first");
	assert_int_equal(test_conflicts_count(t->a.n, "followup", "f1", "result", "second", 0), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "followup", "f1", "result", "third", 0), 1);
	assert_int_equal(test_conflicts_count(t->b.n, "followup", "f1", "result", "first", -1), 0);
}

/* a writes v; b writes the same v later, then u. a's v lost to b's u: it must be in the
 * conflict log, whatever the order b's writes arrive in relative to a's. */
static void test_equal_value_then_overwrite_logged(void **state)
{
	trio *t = *state;
	char buf[16];

	test_person(t->c.n, "p1", "base", NULL);
	sync_all(t);
	t->b.clock.now_ms += 1000;
	assert_int_equal(test_set_str(t->a.n, "person", "p1", "status", "v", NULL), HM_OK);
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "status", "v", NULL), HM_OK);
	test_sync(t->c.n, t->b.n); /* c: b's v first, then a's older v */
	test_sync(t->c.n, t->a.n);
	test_sync(t->a.n, t->b.n); /* a: its own v, then b's */
	t->b.clock.now_ms += 1000;
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "status", "u", NULL), HM_OK);
	sync_all(t);
	assert_converged(t);
	assert_string_equal(test_get_str(t->a.n, "person", "p1", "status", buf, sizeof(buf)), "u");
	assert_int_equal(test_conflicts_count(t->a.n, "person", "p1", "status", "v", 0), 1);
	assert_int_equal(test_conflicts_count(t->b.n, "person", "p1", "status", "v", 0), 1);
	assert_int_equal(test_conflicts_count(t->c.n, "person", "p1", "status", "v", 0), 1);
}

/* planned_end merges by max: the later date wins whichever write is newer and in any order, and
 * a delete of the episode does not clear it (as it does not clear a counter). */
static void test_max_keeps_later_date(void **state)
{
	trio *t = *state;
	hm_write *w;
	char buf[16];

	assert_int_equal(hm_write_begin(t->a.n, &w), HM_OK);
	{
		hm_value v = {HM_V_STR, {.s = {"p1", 2}}};
		assert_int_equal(hm_write_set(w, "episode", "e1", "person", &v), HM_OK);
		v.u.s.p = "home", v.u.s.n = 4;
		assert_int_equal(hm_write_set(w, "episode", "e1", "kind", &v), HM_OK);
		v.u.s.p = "2026-11-01", v.u.s.n = 10;
		assert_int_equal(hm_write_set(w, "episode", "e1", "start", &v), HM_OK);
		v.u.s.p = "2026-11-15", v.u.s.n = 10;
		assert_int_equal(hm_write_set(w, "episode", "e1", "planned_end", &v), HM_OK);
	}
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	sync_all(t);
	/* b extends to the 20th; later, a writes the 18th (an attempt to shorten). */
	set_clocks(t, TEST_T0_MS + 1000);
	assert_int_equal(test_set_str(t->b.n, "episode", "e1", "planned_end", "2026-11-20", NULL),
	                 HM_OK);
	set_clocks(t, TEST_T0_MS + 2000);
	assert_int_equal(test_set_str(t->a.n, "episode", "e1", "planned_end", "2026-11-18", NULL),
	                 HM_OK);
	assert_string_equal(test_get_str(t->a.n, "episode", "e1", "planned_end", buf, sizeof(buf)),
	                    "2026-11-18");
	test_sync(t->c.n, t->a.n);
	test_sync(t->c.n, t->b.n);
	sync_all(t);
	assert_converged(t);
	assert_string_equal(test_get_str(t->c.n, "episode", "e1", "planned_end", buf, sizeof(buf)),
	                    "2026-11-20");
	assert_string_equal(test_get_str(t->a.n, "episode", "e1", "planned_end", buf, sizeof(buf)),
	                    "2026-11-20");
	/* A delete clears the lww fields, not the max. */
	set_clocks(t, TEST_T0_MS + 3000);
	assert_int_equal(hm_write_begin(t->b.n, &w), HM_OK);
	assert_int_equal(hm_write_del(w, "episode", "e1"), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	sync_all(t);
	assert_converged(t);
	{
		hm_record *r;
		assert_int_equal(hm_node_get(t->a.n, "episode", "e1", &r), HM_ERR_NOT_FOUND);
	}
}

static int count_phone(void *ctx, const hm_conflict *c)
{
	size_t *n = ctx;
	if (!strcmp(c->field, "phone"))
		(*n)++;
	return 0;
}

static size_t phone_conflicts(hm_node *n)
{
	size_t count = 0;
	assert_int_equal(hm_node_conflicts(n, "person", "p1", count_phone, &count), HM_OK);
	return count;
}

/* Clearing a personal field (as `hamlet purge` does) leaves no copy of what it held in the
 * conflict log: the losers logged before go, and an older write arriving later is not logged. */
static void test_cleared_personal_field_forgets_losers(void **state)
{
	trio *t = *state;
	hm_write *w;
	hm_value nil = {HM_V_NIL};

	test_person(t->a.n, "p1", "base", NULL);
	sync_all(t);
	set_clocks(t, TEST_T0_MS + 1000);
	assert_int_equal(test_set_str(t->a.n, "person", "p1", "phone", "13800000001", NULL), HM_OK);
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "13800000002", NULL), HM_OK);
	test_sync(t->a.n, t->b.n);
	test_sync(t->b.n, t->a.n);
	assert_int_equal(phone_conflicts(t->a.n), 1);
	assert_int_equal(phone_conflicts(t->b.n), 1);
	/* c writes a phone it will deliver late. */
	set_clocks(t, TEST_T0_MS + 1500);
	assert_int_equal(test_set_str(t->c.n, "person", "p1", "phone", "13800000003", NULL), HM_OK);
	set_clocks(t, TEST_T0_MS + 2000);
	assert_int_equal(hm_write_begin(t->a.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "p1", "phone", &nil), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	assert_int_equal(phone_conflicts(t->a.n), 0);
	test_sync(t->b.n, t->a.n);
	assert_int_equal(phone_conflicts(t->b.n), 0);
	sync_all(t);
	assert_converged(t);
	assert_int_equal(phone_conflicts(t->a.n), 0);
	assert_int_equal(phone_conflicts(t->b.n), 0);
	assert_int_equal(phone_conflicts(t->c.n), 0);
}

/* After a purge (a purge date and nil personal fields), no replica keeps an old personal value in
 * its conflict log, whatever order the writes arrive in, even with a value written after the
 * purge by a node that had not heard of it. */
static void test_purge_leaves_no_loser_any_order(void **state)
{
	trio *t = *state;
	hm_write *w;
	hm_value nil = {HM_V_NIL}, date = {HM_V_STR, {.s = {"2026-11-29", 10}}};

	test_person(t->a.n, "p1", "base", NULL);
	assert_int_equal(test_set_str(t->a.n, "person", "p1", "phone", "13800000001", NULL), HM_OK);
	sync_all(t);
	set_clocks(t, TEST_T0_MS + 1000);
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "13800000002", NULL), HM_OK);
	test_sync(t->c.n, t->b.n); /* c purges knowing b's phone */
	set_clocks(t, TEST_T0_MS + 2000);
	assert_int_equal(hm_write_begin(t->c.n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "p1", "purged", &date), HM_OK);
	assert_int_equal(hm_write_set(w, "person", "p1", "phone", &nil), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
	set_clocks(t, TEST_T0_MS + 3000); /* b writes again, not knowing of the purge */
	assert_int_equal(test_set_str(t->b.n, "person", "p1", "phone", "13800000004", NULL), HM_OK);
	/* a hears b (both phones) first, then the purge; c hears b's later phone after its purge */
	test_sync(t->a.n, t->b.n);
	assert_int_equal(phone_conflicts(t->a.n), 1); /* a's own first phone, lost to b */
	test_sync(t->a.n, t->c.n);
	test_sync(t->c.n, t->b.n);
	sync_all(t);
	assert_converged(t);
	assert_int_equal(phone_conflicts(t->a.n), 0);
	assert_int_equal(phone_conflicts(t->b.n), 0);
	assert_int_equal(phone_conflicts(t->c.n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lww_tie_broken_by_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lww_greater_clock_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters_sum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_after_delete_revives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_before_delete_cleared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_keeps_counter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_only_first_insert_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_keeps_later_date, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cleared_personal_field_forgets_losers, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_purge_leaves_no_loser_any_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_equal_value_then_overwrite_logged, setup,
	                                    teardown),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("node/merge", tests, NULL, NULL);
}
