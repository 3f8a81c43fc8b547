/*
 * test_frames.c - frames that must not be taken, over the in-memory pair (mempipe.h) between a
 * real village (the client, hm_sync_run, or a client spoken by hand) and its real township
 * (hm_server_serve at the pair's far end):
 *
 * - a request delivered twice: the copy is refused as replayed and ends the session; a reply
 *   delivered twice is refused by the client the same way;
 * - counters: a sealed frame that skips a counter, one that uses a counter again (a new body
 *   sealed under it) and two frames that arrive in the wrong order are refused, each ending the
 *   session, although each decrypts under the session's key;
 * - a frame reflected to its sender is refused: each direction has its own key;
 * - a bit flipped in the type, session id, counter, ciphertext or tag of a push is refused and
 *   nothing of the push is applied; an altered reply fails the client, and the next sync loses
 *   nothing.
 *
 * A sync from the village to the township sends, in order: hello, auth, vv, push, pull, bye
 * (frames 0 to 5 each way), when the village holds what the township lacks.
 */
#include "sync_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_AUTH 1
#define F_VV   2
#define F_PUSH 3

/* A mesh where the village holds two persons the township lacks. */
static void mesh_with_news(tt_mesh *m, const char *name)
{
	tt_mesh_init(m, name);
	test_person(m->v1.n, "v1-a", "Li Na", NULL);
	test_person(m->v1.n, "v1-b", "Zhao Lei", NULL);
}

/* The text of the plain error a side sent as its i-th message. */
static void error_text(const mp_pair *pair, int side, size_t i, char *text, size_t cap)
{
	const mp_msg *f = mp_pair_sent(pair, side, i);
	assert_non_null(f);
	assert_int_equal(f->p[0], 'E');
	snprintf(text, cap, "%.*s", (int)(f->n - ST_HEAD), (const char *)f->p + ST_HEAD);
}

/* A sync with one fault must fail with err and a reason holding why, changing neither node. */
static void sync_refused(tt_mesh *m, mp_pair *pair, hm_err err, const char *why)
{
	test_state v1, t1;
	hm_sync_stats st;
	hm_err got;

	test_state_take(m->v1.n, &v1);
	test_state_take(m->t1.n, &t1);
	got = st_sync(m->v1.n, m->t1.n, pair, NULL, &st);
	if (got != err || !strstr(hm_sync_errmsg(), why))
		fail_msg("expected %s and \"%s\", got %s: %s", hm_strerror(err), why,
		         hm_strerror(got), hm_sync_errmsg());
	test_state_assert_same(m->v1.n, &v1);
	test_state_assert_same(m->t1.n, &t1);
	test_state_release(&v1);
	test_state_release(&t1);
}

static void test_replayed_request(void **state)
{
	tt_mesh m;
	mp_pair pair;
	char text[256];
	(void)state;

	mesh_with_news(&m, "fr_replay_req");
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_CLIENT, F_VV, MP_DUPLICATE, 0);
	/* the copy's error reaches the client at its next request */
	sync_refused(&m, &pair, HM_ERR_NET, "replayed");
	/* the server answered the vv, then refused its copy in clear */
	assert_int_equal(mp_pair_sent(&pair, MP_SERVER, F_VV)->p[0], 'S');
	error_text(&pair, MP_SERVER, F_VV + 1, text, sizeof(text));
	assert_non_null(strstr(text, "out of order or replayed (counter 1, expected 2)"));
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

static void test_replayed_reply(void **state)
{
	tt_mesh m;
	mp_pair pair;
	(void)state;

	mesh_with_news(&m, "fr_replay_rep");
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_SERVER, F_AUTH, MP_DUPLICATE, 0);
	sync_refused(&m, &pair, HM_ERR_CRYPTO, "out of order or replayed (counter 0, expected 1)");
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

/* A client by hand, authenticated as the village in a session with the township. */
typedef struct raw_session {
	tt_mesh m;
	mp_pair pair;
	st_server sv;
	st_raw c;
} raw_session;

static void raw_open(raw_session *r, const char *name)
{
	mesh_with_news(&r->m, name);
	mp_pair_init(&r->pair);
	st_server_init(&r->sv, r->m.t1.n, &r->pair);
	st_raw_hello(&r->c, &r->pair.t[MP_CLIENT]);
	st_raw_auth(&r->c, r->m.v1.n);
}

static void raw_close(raw_session *r)
{
	st_server_release(&r->sv);
	mp_pair_release(&r->pair);
	tt_mesh_release(&r->m);
}

/* Post the vv sealed as counter; the reply must be an error holding why. */
static void raw_vv_refused(raw_session *r, uint64_t counter, const char *why)
{
	size_t n;
	uint8_t *f = st_raw_vv(&r->c, counter, &n);
	char text[256];

	st_raw_post(&r->c, f, n);
	free(f);
	if (st_raw_reply(&r->c, text, sizeof(text)) != 'E' || !strstr(text, why))
		fail_msg("vv sealed as counter %llu: expected \"%s\", got \"%s\"",
		         (unsigned long long)counter, why, text);
}

static void test_counter_gap(void **state)
{
	raw_session r;
	(void)state;

	raw_open(&r, "fr_gap"); /* auth was counter 0 */
	raw_vv_refused(&r, 2, "out of order or replayed (counter 2, expected 1)");
	/* the session is gone: the right counter comes too late */
	raw_vv_refused(&r, 1, "no such session");
	raw_close(&r);
}

static void test_counter_reuse(void **state)
{
	static const uint8_t count[] = {0x92, 0xa5, 'c', 'o', 'u', 'n', 't', 0x90};
	raw_session r;
	uint8_t *f;
	size_t n;
	char text[256];
	(void)state;

	raw_open(&r, "fr_reuse");
	assert_int_equal(st_raw_call(&r.c, count, sizeof(count), text, sizeof(text)), 'S');
	assert_non_null(strstr(text, "count")); /* counter 1 taken */
	/* another body sealed under counter 1: it decrypts, and is refused */
	f = st_raw_vv(&r.c, 1, &n);
	st_raw_post(&r.c, f, n);
	free(f);
	assert_int_equal(st_raw_reply(&r.c, text, sizeof(text)), 'E');
	assert_non_null(strstr(text, "out of order or replayed (counter 1, expected 2)"));
	raw_vv_refused(&r, 2, "no such session");
	raw_close(&r);
}

static void test_reordered(void **state)
{
	raw_session r;
	uint8_t *f1, *f2;
	size_t n1, n2;
	char text[256];
	(void)state;

	raw_open(&r, "fr_reorder");
	/* the client's third message (counter 1) is held back until its fourth (counter 2) */
	mp_pair_fault(&r.pair, MP_CLIENT, 2, MP_HOLD, 0);
	f1 = st_raw_vv(&r.c, 1, &n1);
	f2 = st_raw_vv(&r.c, 2, &n2);
	st_raw_post(&r.c, f1, n1);
	st_raw_post(&r.c, f2, n2);
	free(f1);
	free(f2);
	assert_int_equal(mp_pair_pending(&r.pair, MP_SERVER), 2);
	assert_int_equal(st_raw_reply(&r.c, text, sizeof(text)), 'E');
	assert_non_null(strstr(text, "out of order or replayed (counter 2, expected 1)"));
	assert_int_equal(st_raw_reply(&r.c, text, sizeof(text)), 'E');
	assert_non_null(strstr(text, "no such session"));
	raw_close(&r);
}

static void test_reflected(void **state)
{
	tt_mesh m;
	mp_pair pair;
	(void)state;

	mesh_with_news(&m, "fr_reflect");
	/* The auth comes back to the client as if it were the reply: same session, and its
	 * counter (0) is the one the client expects; only the direction's key tells it apart. */
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_CLIENT, F_AUTH, MP_REFLECT, 0);
	sync_refused(&m, &pair, HM_ERR_CRYPTO, "does not decrypt");
	assert_int_equal(mp_pair_nsent(&pair, MP_SERVER), 1); /* the accept only */
	mp_pair_release(&pair);

	/* The server's answer to the vv comes back to the server. */
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_SERVER, F_VV, MP_REFLECT, 0);
	sync_refused(&m, &pair, HM_ERR_NET, "the peer refused");
	mp_pair_release(&pair);
	tt_mesh_release(&m);
}

static void test_tampered_push(void **state)
{
	static const struct {
		long at;
		const char *why;
	} cases[] = {
	    {0, "not a hamlet sync message"},
	    {5, "no such session"},
	    {ST_SEALED_HEAD - 1, "out of order or replayed"},
	    {ST_SEALED_HEAD, "altered in transit"},
	    {-1, "altered in transit"},
	};
	tt_mesh m;
	(void)state;

	mesh_with_news(&m, "fr_tamper");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mp_pair pair;
		mp_pair_init(&pair);
		mp_pair_fault(&pair, MP_CLIENT, F_PUSH, MP_TAMPER, cases[i].at);
		sync_refused(&m, &pair, HM_ERR_NET, cases[i].why);
		mp_pair_release(&pair);
	}
	tt_mesh_release(&m);
}

static void test_tampered_reply(void **state)
{
	tt_mesh m;
	mp_pair pair;
	hm_sync_stats st;
	char buf[64];
	(void)state;

	mesh_with_news(&m, "fr_tamper_rep");
	mp_pair_init(&pair);
	mp_pair_fault(&pair, MP_SERVER, F_PUSH, MP_TAMPER, -1); /* the push's acknowledgement */
	assert_int_equal(st_sync(m.v1.n, m.t1.n, &pair, NULL, &st), HM_ERR_CRYPTO);
	assert_non_null(strstr(hm_sync_errmsg(), "does not decrypt"));
	mp_pair_release(&pair);
	/* the push was committed before its acknowledgement left: the next sync sends nothing */
	assert_non_null(test_get_str(m.t1.n, "person", "v1-b", "name", buf, sizeof(buf)));
	st_sync_ok(m.v1.n, m.t1.n, NULL, &st, NULL);
	assert_int_equal(st.sent, 0);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replayed_request), cmocka_unit_test(test_replayed_reply),
	    cmocka_unit_test(test_counter_gap),      cmocka_unit_test(test_counter_reuse),
	    cmocka_unit_test(test_reordered),        cmocka_unit_test(test_reflected),
	    cmocka_unit_test(test_tampered_push),    cmocka_unit_test(test_tampered_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
