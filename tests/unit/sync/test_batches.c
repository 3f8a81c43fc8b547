/*
 * test_batches.c - the edges of batching, over the in-memory pair (mempipe.h) between a real
 * village and its real township. The pair's log shows every batch: a push (client) or a "cs"
 * reply (server) is sealed msgpack whose length gives exactly which envelopes it carries.
 *
 * - an empty round: nothing either way is a hello, auth, vv, one pull and bye, no push;
 * - version vectors already equal after a sync: the next moves nothing and changes nothing;
 * - exactly one batch: three change sets under a limit of their sum go in one push (or one
 *   pull's reply) that says no more follows;
 * - a boundary at the size limit: a limit of the first two envelopes' bytes takes both; one
 *   byte less takes the first alone;
 * - a dropped link: a push or pull cut after some batches were committed resumes from there: the
 *   next sync moves only what was missing, nothing twice.
 *
 * Batches of the sync client follow opts->batch_bytes here: a pipe is fast, so the measured link
 * would allow far more, and the limit caps it.
 */
#include "sync_test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG 2400 /* letters in a name: an envelope of about 1.5 KB after zstd */

/* The sealed frame of a push of envelopes of sizes s[0..n) (bin 16 each: 256..65535 bytes):
 * ["push", [bin...]] */
static size_t push_len(const size_t *s, size_t n)
{
	size_t len = ST_SEALED_HEAD + ST_TAG + 1 + 5 + 1;
	for (size_t i = 0; i < n; i++) {
		assert_true(s[i] >= 256 && s[i] <= 65535);
		len += 3 + s[i];
	}
	return len;
}

/* A pull's reply ["cs", [bin...], more, remaining] with remaining under 128. */
static size_t cs_len(const size_t *s, size_t n)
{
	return push_len(s, n) - 5 + 3 + 1 + 1;
}

/* A mesh where the township already holds the village's first change set (which carries the
 * village's certificate chain, so is larger than the next ones). */
static void mesh_primed(tt_mesh *m, const char *name)
{
	hm_sync_stats st;

	tt_mesh_init(m, name);
	test_person(m->v1.n, "first", "Li Na", NULL);
	st_sync_ok(m->v1.n, m->t1.n, NULL, &st, NULL);
	assert_int_equal(st.sent, 1);
}

/* The village writes n persons of BIG letters; sizes gets their envelopes' bytes, in order. */
static void write_big(tt_mesh *m, size_t n, size_t *sizes)
{
	static unsigned serial;
	size_t all[64], k;
	char id[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "big-%u", serial++);
		st_person_sized(m->v1.n, id, BIG);
	}
	k = st_envelope_sizes(m->v1.n, TT_T1, all, 64);
	assert_true(k >= n);
	memcpy(sizes, all + k - n, n * sizeof(*sizes));
}

/* A limit that no two of the n envelopes fit under, and each one does. */
static size_t one_each(const size_t *s, size_t n)
{
	size_t min = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (s[i] + s[j] < min)
				min = s[i] + s[j];
	return min - 1;
}

static hm_sync_opts limit(size_t bytes)
{
	hm_sync_opts o = {0};
	o.batch_bytes = bytes;
	return o;
}

static void test_empty_round(void **state)
{
	tt_mesh m;
	hm_sync_stats st;
	test_state v1, t1;
	size_t frames, sizes[4];
	(void)state;

	tt_mesh_init(&m, "ba_empty");
	assert_int_equal(st_envelope_sizes(m.v1.n, TT_T1, sizes, 4), 0);
	assert_int_equal(st_envelope_sizes(m.t1.n, TT_V1, sizes, 4), 0);
	test_state_take(m.v1.n, &v1);
	test_state_take(m.t1.n, &t1);
	st_sync_ok(m.v1.n, m.t1.n, NULL, &st, &frames);
	assert_int_equal(frames, 5); /* hello, auth, vv, pull, bye */
	assert_int_equal(st.sent + st.received, 0);
	test_state_assert_same(m.v1.n, &v1);
	test_state_assert_same(m.t1.n, &t1);
	test_state_release(&v1);
	test_state_release(&t1);
	tt_mesh_release(&m);
}

static void test_equal_vectors(void **state)
{
	tt_mesh m;
	hm_sync_stats st;
	test_state v1, t1;
	size_t frames;
	(void)state;

	tt_mesh_init(&m, "ba_equal");
	test_person(m.v1.n, "v1-a", "Li Na", NULL);
	test_person(m.v1.n, "v1-b", "Zhao Lei", NULL);
	test_person(m.t1.n, "t1-a", "Wang Fang", NULL);
	st_sync_ok(m.v1.n, m.t1.n, NULL, &st, NULL);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.received, 1);
	test_state_take(m.v1.n, &v1);
	test_state_take(m.t1.n, &t1);
	assert_string_equal(v1.vv, t1.vv);
	assert_memory_equal(v1.digest.b, t1.digest.b, HM_HASH_BYTES);

	st_sync_ok(m.v1.n, m.t1.n, NULL, &st, &frames);
	assert_int_equal(frames, 5);
	assert_int_equal(st.sent + st.received, 0);
	test_state_assert_same(m.v1.n, &v1);
	test_state_assert_same(m.t1.n, &t1);
	test_state_release(&v1);
	test_state_release(&t1);
	tt_mesh_release(&m);
}

/* The client frames of a sync of v1 to t1 with a limit of bytes: its pushes from frame 3 on. */
static void push_with_limit(tt_mesh *m, size_t bytes, mp_pair *pair, hm_sync_stats *st)
{
	hm_sync_opts o = limit(bytes);

	mp_pair_init(pair);
	if (st_sync(m->v1.n, m->t1.n, pair, &o, st))
		fail_msg("sync: %s", hm_sync_errmsg());
}

/* The same of t1 pulling from v1 (which serves): its pull replies from frame 3 on. */
static void pull_with_limit(tt_mesh *m, size_t bytes, mp_pair *pair, hm_sync_stats *st)
{
	hm_sync_opts o = limit(bytes);

	mp_pair_init(pair);
	if (st_sync(m->t1.n, m->v1.n, pair, &o, st))
		fail_msg("sync: %s", hm_sync_errmsg());
}

static size_t sent_len(const mp_pair *pair, int side, size_t i)
{
	const mp_msg *f = mp_pair_sent(pair, side, i);
	assert_non_null(f);
	return f->n;
}

static void test_one_batch(void **state)
{
	tt_mesh m;
	mp_pair pair;
	hm_sync_stats st;
	size_t s[3];
	(void)state;

	mesh_primed(&m, "ba_one");
	write_big(&m, 3, s);
	push_with_limit(&m, s[0] + s[1] + s[2], &pair, &st);
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 6); /* hello auth vv push pull bye */
	assert_int_equal(sent_len(&pair, MP_CLIENT, 3), push_len(s, 3));
	assert_int_equal(st.remote.new_, 3);
	mp_pair_release(&pair);

	write_big(&m, 3, s);
	pull_with_limit(&m, s[0] + s[1] + s[2], &pair, &st);
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 5); /* hello auth vv pull bye */
	assert_int_equal(sent_len(&pair, MP_SERVER, 3), cs_len(s, 3));
	assert_int_equal(st.applied.new_, 3);
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

static void test_boundary_at_limit(void **state)
{
	tt_mesh m;
	mp_pair pair;
	hm_sync_stats st;
	size_t s[3];
	(void)state;

	mesh_primed(&m, "ba_edge");
	/* exactly the first two: they go together, the third alone */
	write_big(&m, 3, s);
	push_with_limit(&m, s[0] + s[1], &pair, &st);
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 7);
	assert_int_equal(sent_len(&pair, MP_CLIENT, 3), push_len(s, 2));
	assert_int_equal(sent_len(&pair, MP_CLIENT, 4), push_len(s + 2, 1));
	assert_int_equal(st.remote.new_, 3);
	mp_pair_release(&pair);

	/* one byte less: the first alone; the same at the server's end of a pull */
	write_big(&m, 3, s);
	pull_with_limit(&m, s[0] + s[1] - 1, &pair, &st);
	assert_int_equal(sent_len(&pair, MP_SERVER, 3), cs_len(s, 1));
	assert_int_equal(st.applied.new_, 3);
	assert_int_equal(st.applied.duplicate, 0);
	mp_pair_release(&pair);

	write_big(&m, 3, s);
	pull_with_limit(&m, s[0] + s[1], &pair, &st);
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 6); /* hello auth vv pull pull bye */
	assert_int_equal(sent_len(&pair, MP_SERVER, 3), cs_len(s, 2));
	assert_int_equal(sent_len(&pair, MP_SERVER, 4), cs_len(s + 2, 1));
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

/* One envelope per batch; the link is cut after some batches were committed. What was
 * committed stays, and the next sync moves only the rest. */
static void test_resume_after_drop(void **state)
{
	tt_mesh m;
	mp_pair pair;
	hm_sync_stats st;
	hm_sync_opts o;
	size_t s[6];
	(void)state;

	mesh_primed(&m, "ba_resume");
	write_big(&m, 6, s);
	o = limit(one_each(s, 6));

	/* push: the link drops with the acknowledgement of the third push (client frame 5), which
	 * was committed before it left */
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_SERVER, 5, MP_CUT, 0);
	assert_int_equal(st_sync(m.v1.n, m.t1.n, &pair, &o, &st), HM_ERR_NET);
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 6);
	assert_int_equal(test_vv_seq(m.t1.n, hm_node_self(m.v1.n)), 1 + 3);
	mp_pair_release(&pair);
	st_sync_ok(m.v1.n, m.t1.n, &o, &st, NULL);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.remote.new_, 3);
	assert_int_equal(st.remote.duplicate, 0);
	assert_int_equal(test_vv_seq(m.t1.n, hm_node_self(m.v1.n)), 1 + 6);

	/* pull: the township pulls six more; its fourth pull (client frame 6) is lost with the
	 * link, after three batches were applied */
	write_big(&m, 6, s);
	o = limit(one_each(s, 6));
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_CLIENT, 6, MP_CUT, 0);
	assert_int_equal(st_sync(m.t1.n, m.v1.n, &pair, &o, &st), HM_ERR_NET);
	assert_int_equal(st.received, 3);
	assert_int_equal(test_vv_seq(m.t1.n, hm_node_self(m.v1.n)), 7 + 3);
	mp_pair_release(&pair);
	st_sync_ok(m.t1.n, m.v1.n, &o, &st, NULL);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.applied.new_, 3);
	assert_int_equal(st.applied.duplicate, 0);
	assert_int_equal(test_vv_seq(m.t1.n, hm_node_self(m.v1.n)), 7 + 6);
	tt_mesh_release(&m);
}

/* Before anything is measured, the first reply may take ten times what the connection took to
 * open (its request or reply lost twice over on a long round trip still fits), and never less
 * than the caller's timeout; before, a first reply over a 2 s round trip had the caller's 10 s,
 * and one lost segment on a lossy link ended the sync. */
static void test_first_timeout_from_opening(void **state)
{
	static const struct {
		unsigned open_ms;
		int want;
	} cases[] = {{0, 10000}, {500, 10000}, {2000, 22000}, {3000, 32000}};
	tt_mesh m;
	(void)state;

	mesh_primed(&m, "ba_open");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mp_pair pair;
		hm_sync_opts o = {.timeout_ms = 10000};
		hm_sync_stats st;

		mp_pair_init(&pair);
		pair.t[MP_CLIENT].open_ms = cases[i].open_ms;
		assert_int_equal(st_sync(m.v1.n, m.t1.n, &pair, &o, &st), HM_OK);
		assert_true(pair.nrecv[MP_CLIENT] >= 4);
		assert_int_equal(pair.recv_timeout[MP_CLIENT][0], cases[i].want);
		mp_pair_release(&pair);
	}
	tt_mesh_release(&m);
}

/* A probe (status --probe, a web page's) keeps to its caller's timeout, however slowly the
 * connection opened: the page promises so many seconds a peer. */
static void test_probe_keeps_its_timeout(void **state)
{
	tt_mesh m;
	mp_pair pair;
	st_server sv;
	hm_sync_opts o = {.timeout_ms = 3000};
	uint64_t to_send, to_receive;
	(void)state;

	mesh_primed(&m, "ba_probe");
	mp_pair_init(&pair);
	pair.t[MP_CLIENT].open_ms = 3000;
	st_server_init(&sv, m.t1.n, &pair);
	assert_int_equal(hm_sync_probe(m.v1.n, &pair.t[MP_CLIENT], &o, &to_send, &to_receive, NULL),
	                 HM_OK);
	st_server_release(&sv);
	assert_true(pair.nrecv[MP_CLIENT] >= 1);
	assert_int_equal(pair.recv_timeout[MP_CLIENT][0], 3000);
	assert_int_equal(pair.t[MP_CLIENT].open_ms, 3000); /* the caller's transport as it was */
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_round),
	    cmocka_unit_test(test_equal_vectors),
	    cmocka_unit_test(test_one_batch),
	    cmocka_unit_test(test_boundary_at_limit),
	    cmocka_unit_test(test_resume_after_drop),
	    cmocka_unit_test(test_first_timeout_from_opening),
	    cmocka_unit_test(test_probe_keeps_its_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
