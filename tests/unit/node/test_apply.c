/* test_apply.c - the hybrid logical clock and exactly-once, in-order application of change
 * sets: duplicates, gaps, forks, quarantine of clocks from the future, refused bodies. */
#include "node_test.h"

#include <string.h>

#define MINUTE_MS 60000ull
#define DAY_MS    86400000ull

static hm_hlc node_hlc(hm_node *n)
{
	hm_node_info info;

	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.hlc;
}

static void test_hlc_monotonic_across_reopen(void **state)
{
	test_node t;
	hm_changeset_info a, b, c;
	(void)state;

	test_node_init(&t, "apply_hlc", 0, NULL);
	test_person(t.n, "p1", "A", &a);
	assert_int_equal(HM_HLC_MS(a.hlc), TEST_T0_MS);
	/* Same millisecond: the counter moves. */
	assert_int_equal(test_set_str(t.n, "person", "p1", "phone", "1", &b), HM_OK);
	assert_true(b.hlc == a.hlc + 1);
	/* The clock jumps back an hour, and the node restarts: stamps still grow. */
	t.clock.now_ms -= 60 * MINUTE_MS;
	test_node_reopen(&t);
	assert_int_equal(node_hlc(t.n), b.hlc);
	assert_int_equal(test_set_str(t.n, "person", "p1", "phone", "2", &c), HM_OK);
	assert_true(c.hlc > b.hlc);
	/* The clock comes back ahead: stamps follow it. */
	t.clock.now_ms += 120 * MINUTE_MS;
	assert_int_equal(test_set_str(t.n, "person", "p1", "phone", "3", &a), HM_OK);
	assert_int_equal(HM_HLC_MS(a.hlc), TEST_T0_MS + 60 * MINUTE_MS);
	test_node_release(&t);
}

static void test_hlc_receive_rule(void **state)
{
	test_node a, b;
	hm_changeset_info ib, ia;
	char buf[16];
	(void)state;

	test_node_init(&a, "apply_rr_a", 0, NULL);
	test_node_init(&b, "apply_rr_b", 10 * MINUTE_MS, NULL);
	test_person(b.n, "p1", "ahead", &ib);
	test_sync(a.n, b.n);
	assert_int_equal(node_hlc(a.n), ib.hlc);
	/* a's clock is ten minutes behind, yet its next stamp follows what it saw. */
	assert_int_equal(test_set_str(a.n, "person", "p1", "name", "after", &ia), HM_OK);
	assert_true(ia.hlc > ib.hlc);
	test_sync(b.n, a.n);
	assert_string_equal(test_get_str(b.n, "person", "p1", "name", buf, sizeof(buf)), "after");
	test_node_release(&a);
	test_node_release(&b);
}

static void test_duplicate_is_noop(void **state)
{
	test_node w, r;
	test_envs e = {0};
	test_state s;
	hm_apply_stats st = {0};
	(void)state;

	test_node_init(&w, "apply_dup_w", 0, NULL);
	test_node_init(&r, "apply_dup_r", 0, NULL);
	test_person(w.n, "p1", "A", NULL);
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	test_state_take(r.n, &s);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_DUPLICATE);
	/* Our own change set coming back is a duplicate too. */
	assert_int_equal(test_apply1(w.n, &e.v[0]), HM_APPLY_DUPLICATE);
	{
		hm_bytes three[3] = {e.v[0], e.v[0], e.v[0]};
		assert_int_equal(hm_node_apply(r.n, three, 3, &st, NULL), HM_OK);
		assert_int_equal(st.duplicate, 3);
		assert_int_equal(st.new_, 0);
	}
	test_state_assert_same(r.n, &s);
	test_state_release(&s);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

static void test_gap_then_chain_of_pending(void **state)
{
	test_node w, r;
	test_envs e = {0};
	hm_apply_stats st = {0};
	hm_hash dw, dr;
	hm_node_info info;
	(void)state;

	test_node_init(&w, "apply_gap_w", 0, NULL);
	test_node_init(&r, "apply_gap_r", 0, NULL);
	test_person(w.n, "p1", "v1", NULL);
	for (int i = 2; i <= 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(test_set_str(w.n, "person", "p1", "name", name, NULL), HM_OK);
	}
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(e.n, 5);
	/* seq 5, 3, 4, 2 wait; 3 again is a duplicate of the pending one. */
	assert_int_equal(test_apply1(r.n, &e.v[4]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[2]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[2]), HM_APPLY_DUPLICATE);
	assert_int_equal(test_apply1(r.n, &e.v[3]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[1]), HM_APPLY_PENDING);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.pending, 4);
	assert_int_equal(info.records, 0);
	assert_int_equal(hm_node_check(r.n), HM_OK);
	/* seq 1 fills the gap and releases the whole chain in order. */
	assert_int_equal(hm_node_apply(r.n, &e.v[0], 1, &st, NULL), HM_OK);
	assert_int_equal(st.new_, 5);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.pending, 0);
	assert_int_equal(info.changesets, 5);
	assert_int_equal(hm_node_digest(w.n, NULL, &dw), HM_OK);
	assert_int_equal(hm_node_digest(r.n, NULL, &dr), HM_OK);
	assert_true(hm_hash_equal(&dw, &dr));
	assert_int_equal(hm_node_check(r.n), HM_OK);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

/* A copy of env with a different clock: same origin and seq, different bytes. */
static void forge(const hm_bytes *env, uint64_t hlc_delta, test_envs *out)
{
	msgpack_zone zone;
	msgpack_sbuffer sb;
	hm_envelope e;
	const char *why;

	assert_true(msgpack_zone_init(&zone, 1024));
	assert_int_equal(hm_envelope_open(env->p, env->n, &zone, &e, &why), HM_OK);
	e.h.hlc += hlc_delta;
	msgpack_sbuffer_init(&sb);
	assert_int_equal(hm_envelope_encode(&e.h, e.body_bytes.p, e.body_bytes.n, NULL, &sb),
	                 HM_OK);
	test_envs_push(out, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
}

/* A fork converges: a replica that took one version of seq 2 and one that took the other both
 * withdraw it on learning of the second, and hold the same records (seq 1 only) after. */
static void test_fork_held(void **state)
{
	test_node w, r, r2;
	test_envs e = {0}, f = {0};
	hm_node_info info;
	hm_hash d1, d2;
	char buf[16];
	(void)state;

	test_node_init(&w, "apply_fork_w", 0, NULL);
	test_node_init(&r, "apply_fork_r", 0, NULL);
	test_node_init(&r2, "apply_fork_r2", 0, NULL);
	test_person(w.n, "p1", "one", NULL);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "two", NULL), HM_OK);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "three", NULL), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	forge(&e.v[1], 1, &f);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(r.n, &e.v[1]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(r.n, "person", "p1", "name", buf, sizeof(buf)), "two");
	/* Same (origin, seq 2), other bytes: a fork; the held seq 2 is withdrawn too. */
	assert_int_equal(test_apply1(r.n, &f.v[0]), HM_APPLY_FORK);
	assert_int_equal(test_apply1(r.n, &e.v[2]), HM_APPLY_FORK);
	assert_string_equal(test_get_str(r.n, "person", "p1", "name", buf, sizeof(buf)), "one");
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.changesets, 1);
	assert_int_equal(info.forks, 3); /* both versions of seq 2 and seq 3, kept as evidence */
	assert_int_equal(hm_node_check(r.n), HM_OK);
	/* The original seq 2 again is refused: the origin is frozen at its fork. */
	assert_int_equal(test_apply1(r.n, &e.v[1]), HM_APPLY_FORK);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.forks, 3);
	/* A key that signs without end after its fork: a few versions of the forked seq are kept
	 * (the fork's proof), no more, and nothing beyond the seq after it. */
	for (uint64_t d = 2; d < 40; d++) {
		test_envs g = {0};
		forge(&e.v[d % 2 ? 2 : 1], d, &g);
		assert_int_equal(test_apply1(r.n, &g.v[0]), HM_APPLY_FORK);
		test_envs_release(&g);
	}
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_true(info.forks <= 8);

	/* The other order: the forged version first, then the original chain. */
	assert_int_equal(test_apply1(r2.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(r2.n, &f.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(r2.n, &e.v[2]), HM_APPLY_FORK); /* prev is not f's seq 2 */
	assert_int_equal(test_apply1(r2.n, &e.v[1]), HM_APPLY_FORK);
	assert_int_equal(hm_node_digest(r.n, NULL, &d1), HM_OK);
	assert_int_equal(hm_node_digest(r2.n, NULL, &d2), HM_OK);
	assert_memory_equal(d1.b, d2.b, sizeof(d1.b));
	assert_int_equal(hm_node_check(r2.n), HM_OK);
	test_envs_release(&e);
	test_envs_release(&f);
	test_node_release(&w);
	test_node_release(&r);
	test_node_release(&r2);
}

/* A fork among pending change sets, beyond a gap: both versions wait (which is the origin's
 * can only be judged when the seq is next), the change sets before the fork still apply when
 * the gap fills (other replicas applied them before learning of the fork), and nothing from
 * the forked seq on. */
static void test_fork_pending(void **state)
{
	test_node w, r;
	test_envs e = {0}, f = {0};
	hm_node_info info;
	hm_vv vv;
	char buf[16];
	(void)state;

	test_node_init(&w, "apply_forkp_w", 0, NULL);
	test_node_init(&r, "apply_forkp_r", 0, NULL);
	test_person(w.n, "p1", "one", NULL);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "two", NULL), HM_OK);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "three", NULL), HM_OK);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "four", NULL), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	forge(&e.v[2], 1, &f);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(r.n, &e.v[2]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &f.v[0]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[3]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[1]), HM_APPLY_NEW); /* then 3, then the fork */
	assert_string_equal(test_get_str(r.n, "person", "p1", "name", buf, sizeof(buf)), "two");
	assert_int_equal(hm_node_version_vector(r.n, &vv), HM_OK);
	assert_int_equal(hm_vv_get(&vv, hm_node_self(w.n)), 2);
	hm_vv_release(&vv);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.changesets, 2);
	assert_int_equal(info.pending, 0);
	assert_int_equal(info.forks, 3); /* both seq 3 and seq 4 */
	assert_int_equal(hm_node_check(r.n), HM_OK);
	test_envs_release(&e);
	test_envs_release(&f);
	test_node_release(&w);
	test_node_release(&r);
}

static void test_quarantine(void **state)
{
	test_node w, r;
	test_envs e = {0};
	hm_apply_stats st = {0};
	hm_node_info info;
	hm_hash dw, dr;
	hm_changeset_info mine;
	test_state s;
	(void)state;

	test_node_init(&w, "apply_q_w", 3 * DAY_MS, NULL); /* three days ahead: beyond two drifts */
	test_node_init(&r, "apply_q_r", 0, NULL);
	test_person(w.n, "p1", "future", NULL);
	assert_int_equal(test_set_str(w.n, "person", "p1", "phone", "1", NULL), HM_OK);
	test_envs_collect(w.n, NULL, &e);
	test_state_take(r.n, &s);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_QUARANTINE);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_DUPLICATE);
	assert_int_equal(test_apply1(r.n, &e.v[1]), HM_APPLY_PENDING);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.quarantined, 1);
	assert_int_equal(info.hlc,
	                 s.info.hlc); /* a stamp from the future does not move our clock */
	/* Still too early: nothing is released. */
	assert_int_equal(hm_node_release_quarantine(r.n, &st), HM_OK);
	assert_int_equal(st.new_, 0);
	r.clock.now_ms += DAY_MS / 2;
	assert_int_equal(hm_node_release_quarantine(r.n, &st), HM_OK);
	assert_int_equal(st.new_, 0);
	assert_int_equal(hm_node_digest(r.n, NULL, &dr), HM_OK);
	assert_true(hm_hash_equal(&dr, &s.digest));
	/* The clock catches up to within the drift: both apply, in order. */
	r.clock.now_ms = TEST_T0_MS + DAY_MS + MINUTE_MS;
	assert_int_equal(hm_node_release_quarantine(r.n, &st), HM_OK);
	assert_int_equal(st.new_, 2);
	assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
	assert_int_equal(info.quarantined, 0);
	assert_int_equal(info.pending, 0);
	assert_int_equal(hm_node_digest(w.n, NULL, &dw), HM_OK);
	assert_int_equal(hm_node_digest(r.n, NULL, &dr), HM_OK);
	assert_true(hm_hash_equal(&dw, &dr));
	assert_int_equal(hm_node_check(r.n), HM_OK);
	/* Applied, it moves our clock: our next write orders after it. */
	assert_int_equal(test_set_str(r.n, "person", "p1", "phone", "2", &mine), HM_OK);
	{
		char buf[8];
		assert_string_equal(test_get_str(r.n, "person", "p1", "phone", buf, sizeof(buf)),
		                    "2");
	}
	test_state_release(&s);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

/* ---- hand-made change sets ---- */

static hm_node_id forged_origin = {{0xf0, 0x0d}};

/* An envelope of forged_origin, seq 1, whose body is ops packed by fn. */
typedef void (*body_fn)(msgpack_packer *pk);

static void craft(body_fn fn, uint32_t nops, test_envs *out)
{
	msgpack_sbuffer body, env;
	msgpack_packer pk;
	hm_header h = {0};

	h.origin = forged_origin;
	h.seq = 1;
	h.hlc = TEST_T0_MS << 16;
	strcpy(h.region, TEST_REGION);
	h.nops = nops;
	msgpack_sbuffer_init(&body);
	msgpack_sbuffer_init(&env);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	fn(&pk);
	assert_int_equal(hm_envelope_encode(&h, body.data, body.size, NULL, &env), HM_OK);
	test_envs_push(out, env.data, env.size);
	msgpack_sbuffer_destroy(&body);
	msgpack_sbuffer_destroy(&env);
}

/* [0, coll, id, {k: v}] with v a string. */
static void put_str(msgpack_packer *pk, const char *coll, const char *id, const char *k,
                    const char *v)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, HM_OP_PUT);
	hm_mp_pack_cstr(pk, coll);
	hm_mp_pack_cstr(pk, id);
	msgpack_pack_map(pk, 1);
	hm_mp_pack_cstr(pk, k);
	hm_mp_pack_cstr(pk, v);
}

/* Each bad body starts with a good op that must not be applied either. */
static void good_first(msgpack_packer *pk, uint32_t n)
{
	msgpack_pack_array(pk, n + 1);
	put_str(pk, "person", "good", "name", "Good");
}

static void body_good(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	put_str(pk, "person", "good", "name", "Good");
}

static void body_unknown_coll(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "people", "x", "name", "X");
}

static void body_unknown_field(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "person", "x", "nickname", "X");
}

static void body_bad_field_name(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "person", "x", "nick name", "X");
}

static void body_wrong_type(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "person", "x", "birth_year", "1980");
}

static void body_bad_date(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "person", "x", "arrival_date", "2023-02-29");
}

static void body_counter_not_int(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "stock", "x", "quantity", "5");
}

static void body_delete_append_only(msgpack_packer *pk)
{
	good_first(pk, 1);
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, HM_OP_DEL);
	hm_mp_pack_cstr(pk, "followup");
	hm_mp_pack_cstr(pk, "f1");
}

static void body_bad_kind(msgpack_packer *pk)
{
	good_first(pk, 1);
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, 7);
	hm_mp_pack_cstr(pk, "person");
	hm_mp_pack_cstr(pk, "x");
}

static void body_bad_id(msgpack_packer *pk)
{
	good_first(pk, 1);
	put_str(pk, "person", "a\001b", "name", "X");
}

static void body_value_map(msgpack_packer *pk)
{
	good_first(pk, 1);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, HM_OP_PUT);
	hm_mp_pack_cstr(pk, "person");
	hm_mp_pack_cstr(pk, "x");
	msgpack_pack_map(pk, 1);
	hm_mp_pack_cstr(pk, "name");
	msgpack_pack_map(pk, 0);
}

static void body_not_array(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 0);
}

static void test_refused_bodies(void **state)
{
	static const struct {
		body_fn fn;
		uint32_t nops;
		const char *what;
	} bad[] = {
	    {body_unknown_coll, 2, "unknown collection"},
	    {body_bad_field_name, 2, "a space in a field name"},
	    {body_wrong_type, 2, "text in an int field"},
	    {body_bad_date, 2, "Feb 29 of 2023"},
	    {body_counter_not_int, 2, "text as a counter delta"},
	    {body_delete_append_only, 2, "delete in an append-only collection"},
	    {body_bad_kind, 2, "op kind 7"},
	    {body_bad_id, 2, "control character in an id"},
	    {body_value_map, 2, "a map as a value"},
	    {body_not_array, 1, "body not an array"},
	    {body_good, 2, "op count differs from the header"},
	};
	test_node r;
	test_state s;
	(void)state;

	test_node_init(&r, "apply_refused", 0, NULL);
	test_person(r.n, "mine", "Mine", NULL);
	test_state_take(r.n, &s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_envs e = {0};
		hm_apply_stats st = {0};
		hm_apply_outcome out;
		hm_node_info info;
		hm_record *rec;

		craft(bad[i].fn, bad[i].nops, &e);
		assert_int_equal(hm_node_apply(r.n, e.v, 1, &st, &out), HM_OK);
		if (out != HM_APPLY_REFUSED)
			fail_msg("%s: outcome %d, not refused", bad[i].what, (int)out);
		assert_int_equal(st.refused, 1);
		assert_int_equal(st.ops, 0);
		assert_int_equal(hm_node_get(r.n, "person", "good", &rec), HM_ERR_NOT_FOUND);
		assert_int_equal(hm_node_info_get(r.n, &info), HM_OK);
		assert_int_equal(info.refused, i + 1);
		test_state_assert_same(r.n, &s);
		test_envs_release(&e);
	}
	/* The good body from the same origin and seq still applies. */
	{
		test_envs e = {0};
		craft(body_good, 1, &e);
		assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
		test_envs_release(&e);
	}
	test_state_release(&s);
	test_node_release(&r);
}

/* A field a newer schema added is kept, merged as lww and passed on unchanged. */
static void test_unknown_field_kept(void **state)
{
	test_node r, r2;
	test_envs e = {0}, out = {0};
	hm_hash d1, d2;
	char buf[64];
	(void)state;

	test_node_init(&r, "apply_unknown_r", 0, NULL);
	test_node_init(&r2, "apply_unknown_r2", 0, NULL);
	craft(body_unknown_field, 2, &e);
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(r.n, "person", "x", "nickname", buf, sizeof(buf)), "X");
	/* r passes on the envelope as it came; a second replica holds the same state. */
	test_envs_collect(r.n, NULL, &out);
	assert_int_equal(out.n, 1);
	assert_memory_equal(out.v[0].p, e.v[0].p, e.v[0].n);
	assert_int_equal(test_apply1(r2.n, &out.v[0]), HM_APPLY_NEW);
	assert_int_equal(hm_node_digest(r.n, NULL, &d1), HM_OK);
	assert_int_equal(hm_node_digest(r2.n, NULL, &d2), HM_OK);
	assert_memory_equal(d1.b, d2.b, HM_HASH_BYTES);
	test_envs_release(&e);
	test_envs_release(&out);
	test_node_release(&r);
	test_node_release(&r2);
}

/* A bad envelope in a batch is refused alone. */
static void test_batch_refuses_alone(void **state)
{
	test_node w, r;
	test_envs e = {0};
	hm_apply_stats st = {0};
	hm_apply_outcome out[3];
	hm_bytes batch[3];
	(void)state;

	test_node_init(&w, "apply_batch_w", 0, NULL);
	test_node_init(&r, "apply_batch_r", 0, NULL);
	test_person(w.n, "p1", "A", NULL);
	test_person(w.n, "p2", "B", NULL);
	test_envs_collect(w.n, NULL, &e);
	craft(body_bad_field_name, 2, &e);
	batch[0] = e.v[0], batch[1] = e.v[2], batch[2] = e.v[1];
	assert_int_equal(hm_node_apply(r.n, batch, 3, &st, out), HM_OK);
	assert_int_equal(out[0], HM_APPLY_NEW);
	assert_int_equal(out[1], HM_APPLY_REFUSED);
	assert_int_equal(out[2], HM_APPLY_NEW);
	assert_int_equal(st.new_, 2);
	assert_int_equal(st.refused, 1);
	assert_int_equal(hm_node_check(r.n), HM_OK);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

/* A peer claiming more of this node's own log than it holds blocks its writes (a restored
 * backup would fork), but only until a full sync with that peer ends: a false claim cannot keep
 * the node from writing for good (issue #9, the review of the restore guard). */
static void test_behind_claim_is_not_proof(void **state)
{
	test_node w;
	hm_node_id liar = {{0x11}}, honest = {{0x22}};
	hm_vv claim = {0};
	size_t behind;
	(void)state;

	test_node_init(&w, "apply_behind", 0, NULL);
	test_person(w.n, "p1", "one", NULL);
	/* another origin first in the vector: it must not end the look at the rest */
	claim.n = 2;
	claim.v = calloc(2, sizeof(*claim.v));
	assert_non_null(claim.v);
	claim.v[0].origin = honest, claim.v[0].seq = 5;
	claim.v[1].origin = *hm_node_self(w.n);
	claim.v[1].seq = 1ull << 62;
	assert_int_equal(hm_node_note_peer_vv(w.n, &liar, &claim, &behind), HM_OK);
	assert_int_equal(behind, 1);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "two", NULL), HM_ERR_FORK);
	assert_non_null(strstr(hm_node_errmsg(w.n), "behind its own log"));
	/* the same claim again writes nothing new */
	assert_int_equal(hm_node_note_peer_vv(w.n, &liar, &claim, &behind), HM_OK);
	assert_int_equal(behind, 0);
	/* another peer's sync does not lift the liar's claim; the liar's own does */
	assert_int_equal(hm_node_peer_synced(w.n, &honest), HM_OK);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "two", NULL), HM_ERR_FORK);
	assert_int_equal(hm_node_peer_synced(w.n, &liar), HM_OK);
	assert_int_equal(test_set_str(w.n, "person", "p1", "name", "two", NULL), HM_OK);
	hm_vv_release(&claim);
	test_node_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hlc_monotonic_across_reopen),
	    cmocka_unit_test(test_behind_claim_is_not_proof),
	    cmocka_unit_test(test_hlc_receive_rule),
	    cmocka_unit_test(test_duplicate_is_noop),
	    cmocka_unit_test(test_gap_then_chain_of_pending),
	    cmocka_unit_test(test_fork_held),
	    cmocka_unit_test(test_fork_pending),
	    cmocka_unit_test(test_quarantine),
	    cmocka_unit_test(test_refused_bodies),
	    cmocka_unit_test(test_unknown_field_kept),
	    cmocka_unit_test(test_batch_refuses_alone),
	};

	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("node/apply", tests, NULL, NULL);
}
