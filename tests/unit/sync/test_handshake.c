/*
 * test_handshake.c - whole syncs between real nodes (a village and its township, LMDB in scratch
 * directories, keys from fixed seeds) over the in-memory pair (mempipe.h), the real server at
 * its far end:
 *
 * - a full sync: the peer proved to be the township, the records cross both ways, and the wire
 *   holds a hello and an accept in clear, then sealed frames of that one session whose counters
 *   run 0, 1, 2, ... each way;
 * - a server of another county (another root of trust) is refused after its accept, and nothing
 *   but the hello left the client; a client of another county is refused at its auth, and the
 *   session it opened answers nothing else;
 * - a probe counts what waits each way, and moves nothing.
 */
#include "sync_test.h"

#include <stdlib.h>
#include <string.h>

static uint64_t counter_of(const mp_msg *m)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | m->p[ST_HEAD + i];
	return v;
}

/* Every client message has its reply; after hello and accept, every frame is sealed in the
 * accepted session and counts from 0 each way. */
static void assert_wire(const mp_pair *pair)
{
	size_t n = mp_pair_nsent(pair, MP_CLIENT);
	const mp_msg *hello = mp_pair_sent(pair, MP_CLIENT, 0);
	const mp_msg *accept = mp_pair_sent(pair, MP_SERVER, 0);

	assert_int_equal(mp_pair_nsent(pair, MP_SERVER), n);
	assert_int_equal(hello->p[0], 'H');
	assert_int_equal(hello->n, ST_HELLO_LEN);
	assert_int_equal(accept->p[0], 'A');
	for (size_t i = 1; i < n; i++)
		for (int side = 0; side < 2; side++) {
			const mp_msg *f = mp_pair_sent(pair, side, i);
			assert_int_equal(f->p[0], 'S');
			assert_memory_equal(f->p + 1, accept->p + 1, ST_SID);
			assert_int_equal(counter_of(f), i - 1);
		}
}

static void test_full_sync(void **state)
{
	tt_mesh m;
	mp_pair pair;
	hm_sync_stats st;
	size_t sizes[16], to_t1, to_v1;
	char buf[64];
	(void)state;

	tt_mesh_init(&m, "hs_full");
	test_person(m.v1.n, "v1-a", "Li Na", NULL);
	test_person(m.v1.n, "v1-b", "Zhao Lei", NULL);
	test_person(m.t1.n, "t1-a", "Wang Fang", NULL);
	to_t1 = st_envelope_sizes(m.v1.n, TT_T1, sizes, 16);
	to_v1 = st_envelope_sizes(m.t1.n, TT_V1, sizes, 16);
	assert_true(to_t1 >= 2 && to_v1 >= 1);

	mp_pair_init(&pair);
	assert_int_equal(st_sync(m.v1.n, m.t1.n, &pair, NULL, &st), HM_OK);
	assert_memory_equal(st.peer.id.b, m.t1.ident.id.b, HM_NODE_ID_BYTES);
	assert_string_equal(st.peer.region, TT_T1);
	assert_int_equal(st.sent, to_t1);
	assert_int_equal(st.remote.new_, to_t1);
	assert_int_equal(st.received, to_v1);
	assert_int_equal(st.applied.new_, to_v1);
	assert_string_equal(test_get_str(m.t1.n, "person", "v1-b", "name", buf, sizeof(buf)),
	                    "Zhao Lei");
	assert_string_equal(test_get_str(m.v1.n, "person", "t1-a", "name", buf, sizeof(buf)),
	                    "Wang Fang");
	assert_wire(&pair);
	assert_int_equal(st.messages, mp_pair_nsent(&pair, MP_CLIENT));
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

static void test_other_county_refused(void **state)
{
	tt_mesh m;
	tnode other;
	mp_pair pair;
	st_server sv;
	st_raw c;
	hm_sync_stats st;
	test_state before;
	char text[256];
	hm_err err;
	(void)state;

	tt_mesh_init(&m, "hs_other");
	tnode_init(&other, "hs_other_root", HM_ROLE_COUNTY, "lin", 0xd0);
	test_person(m.v1.n, "v1-a", "Li Na", NULL);
	test_person(other.n, "o-a", "Sun Li", NULL);

	/* as client: the accept is signed by a key no root of ours certified */
	test_state_take(m.v1.n, &before);
	mp_pair_init(&pair);
	err = st_sync(m.v1.n, other.n, &pair, NULL, &st);
	assert_int_equal(err, HM_ERR_CRYPTO);
	assert_non_null(strstr(hm_sync_errmsg(), "the server is not trusted"));
	assert_int_equal(mp_pair_nsent(&pair, MP_CLIENT), 1); /* the hello only */
	test_state_assert_same(m.v1.n, &before);
	test_state_release(&before);
	mp_pair_release(&pair);

	/* as server: the other county's auth is refused, and its session answers nothing */
	test_state_take(m.t1.n, &before);
	mp_pair_init(&pair);
	st_server_init(&sv, m.t1.n, &pair);
	st_raw_hello(&c, &pair.t[MP_CLIENT]);
	assert_int_equal(st_raw_auth_try(&c, other.n, text, sizeof(text)), 'S');
	if (strncmp(text, "err", 3) != 0 || !strstr(text, "refused"))
		fail_msg("a client of another county was let in: %s", text);
	{
		static const uint8_t vv[] = {0x91, 0xa2, 'v', 'v'};
		assert_int_equal(st_raw_call(&c, vv, sizeof(vv), text, sizeof(text)), 'S');
		assert_non_null(strstr(text, "authenticate first"));
	}
	test_state_assert_same(m.t1.n, &before);
	test_state_release(&before);
	st_server_release(&sv);
	mp_pair_release(&pair);
	tnode_release(&other);
	tt_mesh_release(&m);
}

static void test_probe_moves_nothing(void **state)
{
	tt_mesh m;
	mp_pair pair;
	st_server sv;
	hm_sync_stats st;
	test_state v1, t1;
	size_t sizes[16];
	uint64_t to_send = 0, to_receive = 0;
	(void)state;

	tt_mesh_init(&m, "hs_probe");
	test_person(m.v1.n, "v1-a", "Li Na", NULL);
	test_person(m.v1.n, "v1-b", "Zhao Lei", NULL);
	test_person(m.t1.n, "t1-a", "Wang Fang", NULL);
	test_state_take(m.v1.n, &v1);
	test_state_take(m.t1.n, &t1);
	mp_pair_init(&pair);
	st_server_init(&sv, m.t1.n, &pair);
	assert_int_equal(
	    hm_sync_probe(m.v1.n, &pair.t[MP_CLIENT], NULL, &to_send, &to_receive, &st), HM_OK);
	assert_int_equal(to_send, st_envelope_sizes(m.v1.n, TT_T1, sizes, 16));
	assert_int_equal(to_receive, st_envelope_sizes(m.t1.n, TT_V1, sizes, 16));
	assert_wire(&pair);
	test_state_assert_same(m.v1.n, &v1);
	test_state_assert_same(m.t1.n, &t1);
	test_state_release(&v1);
	test_state_release(&t1);
	st_server_release(&sv);
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_sync),
	    cmocka_unit_test(test_other_county_refused),
	    cmocka_unit_test(test_probe_moves_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
