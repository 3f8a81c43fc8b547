/*
 * test_session.c - the sync server's session table and what it decodes before a client has
 * authenticated (issue #9, section 4), in process: a township serves (hm_server_serve at the
 * far end of an in-memory pair, mempipe.h) and hand-made clients (sync_test.h) speak the
 * protocol of sync/session.c with a real village's key.
 *
 * - hellos, however many, never evict an authenticated session;
 * - one peer holds at most 4 authenticated sessions: its fifth displaces its own oldest;
 * - before auth, a frame of more than 3 elements is refused before msgpack-c unpacks it;
 * - a hello whose ephemeral key gives no session key is answered with an error, and the server
 *   goes on (hm_server_handle used to return the error, which stops `hamlet serve`).
 */
#include "sync_test.h"

#include <stdlib.h>
#include <string.h>

/* A server (t1 of the mesh) at the far end of an in-memory pair, and the clients' end. */
typedef struct srv {
	mp_pair pair;
	st_server sv;
} srv;

static void srv_init(srv *s, hm_node *node)
{
	mp_pair_init(&s->pair);
	st_server_init(&s->sv, node, &s->pair);
}

static void srv_release(srv *s)
{
	st_server_release(&s->sv);
	mp_pair_release(&s->pair);
}

/* ["vv"] in c's session: 'S' while the session lives, 'E' once it is gone. */
static char cl_vv(st_raw *c, char *text, size_t cap)
{
	static const uint8_t vv[] = {0x91, 0xa2, 'v', 'v'};
	return st_raw_call(c, vv, sizeof(vv), text, cap);
}

static void test_hellos_never_evict_authenticated(void **state)
{
	tt_mesh m;
	srv s;
	st_raw a, flood;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_flood");
	srv_init(&s, m.t1.n);
	st_raw_hello(&a, &s.pair.t[MP_CLIENT]);
	st_raw_auth(&a, m.v1.n);
	for (int i = 0; i < 600; i++)
		st_raw_hello(&flood, &s.pair.t[MP_CLIENT]);
	if (cl_vv(&a, text, sizeof(text)) != 'S')
		fail_msg("600 hellos evicted an authenticated session: %s", text);
	/* the flood's own last handshake still stands, the first ones gave way */
	st_raw_auth(&flood, m.v2.n);
	srv_release(&s);
	tt_mesh_release(&m);
}

static void test_per_peer_cap(void **state)
{
	tt_mesh m;
	srv s;
	st_raw c[5], other;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_peer");
	srv_init(&s, m.t1.n);
	st_raw_hello(&other, &s.pair.t[MP_CLIENT]);
	st_raw_auth(&other, m.v2.n);
	for (int i = 0; i < 5; i++) {
		st_raw_hello(&c[i], &s.pair.t[MP_CLIENT]);
		st_raw_auth(&c[i], m.v1.n);
	}
	/* v1's fifth session displaced its own first; v2's is untouched */
	assert_int_equal(cl_vv(&c[0], text, sizeof(text)), 'E');
	assert_non_null(strstr(text, "no such session"));
	for (int i = 1; i < 5; i++)
		assert_int_equal(cl_vv(&c[i], text, sizeof(text)), 'S');
	assert_int_equal(cl_vv(&other, text, sizeof(text)), 'S');
	srv_release(&s);
	tt_mesh_release(&m);
}

static void test_before_auth(void **state)
{
	tt_mesh m;
	srv s;
	st_raw c;
	uint8_t hello[ST_HELLO_LEN], zero[32] = {0}, *big;
	size_t n = 3 + 5 + 59999;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_unauth");
	srv_init(&s, m.t1.n);
	/* ["auth", nil x 59999]: 60000 elements before the client proved anything */
	assert_non_null(big = malloc(n));
	big[0] = 0xdc, big[1] = (uint8_t)(60000 >> 8), big[2] = (uint8_t)60000;
	big[3] = 0xa4, memcpy(big + 4, "auth", 4);
	memset(big + 8, 0xc0, n - 8);
	st_raw_hello(&c, &s.pair.t[MP_CLIENT]);
	assert_int_equal(st_raw_call(&c, big, n, text, sizeof(text)), 'S');
	if (!strstr(text, "not well-formed"))
		fail_msg("a 60000-element frame before auth was decoded: %s", text);
	free(big);
	/* the session goes on: a proper auth still works */
	st_raw_auth(&c, m.v1.n);
	assert_int_equal(cl_vv(&c, text, sizeof(text)), 'S');

	/* a hello with an all-zero key: an error reply, not an error of the server */
	st_hello_make(hello, zero);
	st_raw_post(&c, hello, sizeof(hello));
	assert_int_equal(st_raw_reply(&c, text, sizeof(text)), 'E');
	assert_int_equal(cl_vv(&c, text, sizeof(text)), 'S');
	srv_release(&s);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hellos_never_evict_authenticated),
	    cmocka_unit_test(test_per_peer_cap),
	    cmocka_unit_test(test_before_auth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
