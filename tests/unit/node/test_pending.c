/*
 * test_pending.c - change sets beyond a gap wait in pending, capped per origin and in all
 * (issue #9, section 4; node_int.h HM_PENDING_*). A change set beyond a cap is refused and not
 * kept (no pending entry, no evidence), counted in stats.refused and stats.deferred, with the
 * cap named in the node's message; sent again once the gap has closed, it applies.
 */
#include "node_test.h"

#include <stdlib.h>
#include <string.h>

/* A keyless change set of origin at seq, one put, crafted by hand (the pending path never
 * decodes the body). */
static void craft(const hm_node_id *origin, uint64_t seq, test_envs *out)
{
	msgpack_sbuffer body, env;
	msgpack_packer pk;
	hm_header h = {0};

	msgpack_sbuffer_init(&body);
	msgpack_sbuffer_init(&env);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, HM_OP_PUT);
	hm_mp_pack_cstr(&pk, "person");
	hm_mp_pack_cstr(&pk, "p1");
	msgpack_pack_map(&pk, 1);
	hm_mp_pack_cstr(&pk, "name");
	hm_mp_pack_cstr(&pk, "Pending");
	h.origin = *origin;
	h.seq = seq;
	h.hlc = (TEST_T0_MS << 16) | seq;
	snprintf(h.region, sizeof(h.region), "%s", TEST_REGION);
	h.nops = 1;
	assert_int_equal(hm_envelope_encode(&h, body.data, body.size, NULL, &env), HM_OK);
	test_envs_push(out, env.data, env.size);
	msgpack_sbuffer_destroy(&body);
	msgpack_sbuffer_destroy(&env);
}

static size_t pending_of(hm_node *n)
{
	hm_node_info info;
	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.pending;
}

static size_t evidence_of(hm_node *n)
{
	hm_node_info info;
	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.refused + info.forks;
}

/* With the shipped caps: an unknown origin's change sets beyond a gap, one more than
 * HM_PENDING_ORIGIN_MAX, in one batch: the last one is not kept. */
static void test_default_cap_per_origin(void **state)
{
	test_node r;
	test_envs e = {0};
	hm_node_id origin;
	hm_apply_stats st = {0};
	hm_apply_outcome *out;
	(void)state;

	test_node_init(&r, "pending_default", 0, NULL);
	memset(origin.b, 0x5a, sizeof(origin.b));
	for (uint64_t seq = 2; seq <= HM_PENDING_ORIGIN_MAX + 2; seq++)
		craft(&origin, seq, &e);
	assert_non_null(out = calloc(e.n, sizeof(*out)));
	assert_int_equal(hm_node_apply(r.n, e.v, e.n, &st, out), HM_OK);
	assert_int_equal(out[0], HM_APPLY_PENDING);
	assert_int_equal(out[e.n - 2], HM_APPLY_PENDING);
	assert_int_equal(out[e.n - 1], HM_APPLY_REFUSED);
	assert_int_equal(st.pending, HM_PENDING_ORIGIN_MAX);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(pending_of(r.n), HM_PENDING_ORIGIN_MAX);
	assert_int_equal(evidence_of(r.n), 0); /* not kept as evidence either */
	free(out);
	test_envs_release(&e);
	test_node_release(&r);
}

/* Lowered caps, one at a time; then the gap closes and what was deferred applies when sent
 * again. */
static void test_each_cap_and_resend(void **state)
{
	test_node w, r;
	test_envs e = {0}, junk = {0};
	hm_node_id other;
	hm_apply_stats st = {0};
	hm_changeset_info info;
	const hm_pending_caps shipped = {HM_PENDING_ORIGIN_MAX, HM_PENDING_ORIGIN_BYTES,
	                                 HM_PENDING_MAX, HM_PENDING_BYTES};
	char buf[64];
	(void)state;

	test_node_init(&w, "pending_writer", 0, NULL);
	test_node_init(&r, "pending_reader", 0, NULL);
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		test_person(w.n, id, "Waiting", &info);
	}
	test_envs_collect(w.n, NULL, &e);
	assert_int_equal(e.n, 6);

	/* per origin, by count: seqs 2..4 wait, 5 is deferred */
	r.n->pending_caps = shipped;
	r.n->pending_caps.origin_count = 3;
	for (int i = 1; i <= 3; i++)
		assert_int_equal(test_apply1(r.n, &e.v[i]), HM_APPLY_PENDING);
	assert_int_equal(test_apply1(r.n, &e.v[4]), HM_APPLY_REFUSED);
	assert_non_null(strstr(hm_node_errmsg(r.n), "change sets of its origin"));
	assert_non_null(strstr(hm_node_errmsg(r.n), "not kept"));
	assert_int_equal(pending_of(r.n), 3);
	assert_int_equal(evidence_of(r.n), 0);

	/* per origin, by bytes: the three waiting already fill it */
	r.n->pending_caps = shipped;
	r.n->pending_caps.origin_bytes = e.v[1].n + e.v[2].n + e.v[3].n;
	assert_int_equal(test_apply1(r.n, &e.v[4]), HM_APPLY_REFUSED);
	assert_non_null(strstr(hm_node_errmsg(r.n), "bytes of its origin"));

	/* in all, by count: another origin finds no room */
	memset(other.b, 0x77, sizeof(other.b));
	craft(&other, 5, &junk);
	r.n->pending_caps = shipped;
	r.n->pending_caps.count = 3;
	assert_int_equal(hm_node_apply(r.n, junk.v, 1, &st, NULL), HM_OK);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.deferred, 1);
	assert_non_null(strstr(hm_node_errmsg(r.n), "change sets of all origins"));

	/* in all, by bytes (the table's pages) */
	r.n->pending_caps = shipped;
	r.n->pending_caps.bytes = 1;
	assert_int_equal(test_apply1(r.n, &junk.v[0]), HM_APPLY_REFUSED);
	assert_non_null(strstr(hm_node_errmsg(r.n), "bytes of all origins"));
	assert_int_equal(pending_of(r.n), 3);
	assert_int_equal(evidence_of(r.n), 0);

	/* the gap closes: 1 applies and releases 2..4; 5 and 6, sent again, apply */
	r.n->pending_caps = shipped;
	r.n->pending_caps.origin_count = 3;
	assert_int_equal(test_apply1(r.n, &e.v[0]), HM_APPLY_NEW);
	assert_int_equal(pending_of(r.n), 0);
	assert_int_equal(test_apply1(r.n, &e.v[4]), HM_APPLY_NEW);
	assert_int_equal(test_apply1(r.n, &e.v[5]), HM_APPLY_NEW);
	assert_string_equal(test_get_str(r.n, "person", "p5", "name", buf, sizeof(buf)), "Waiting");
	assert_int_equal(hm_node_check(r.n), HM_OK);

	test_envs_release(&junk);
	test_envs_release(&e);
	test_node_release(&w);
	test_node_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_cap_per_origin),
	    cmocka_unit_test(test_each_cap_and_resend),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
