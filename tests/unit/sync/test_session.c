/*
 * test_session.c - the sync server's session table and what it decodes before a client has
 * authenticated (issue #9, section 4), in process: a township serves (hm_server_handle) and
 * hand-made clients speak the protocol of sync/session.c with a real village's key.
 *
 * - hellos, however many, never evict an authenticated session;
 * - one peer holds at most 4 authenticated sessions: its fifth displaces its own oldest;
 * - before auth, a frame of more than 3 elements is refused before msgpack-c unpacks it;
 * - a hello whose ephemeral key gives no session key is answered with an error, and the server
 *   goes on (hm_server_handle used to return the error, which stops `hamlet serve`).
 */
#include "trust_test.h"

#include <stdlib.h>
#include <string.h>

#include "sync.h"

#define SID         16
#define HEAD        (1 + SID)
#define SEALED_HEAD (HEAD + 8)
#define HELLO_LEN   (HEAD + 8 + 4 + 32 + 32)

/* One client session, spoken by hand. */
typedef struct cl {
	hm_server *srv;
	uint8_t hello[HELLO_LEN];
	uint8_t sid[SID], rx[32], tx[32];
	uint64_t tx_next, rx_next;
	hm_hash t1;
	hm_signature server_sig;
} cl;

static uint8_t *ask(hm_server *s, const uint8_t *m, size_t n, size_t *rn)
{
	uint8_t *r = NULL;
	assert_int_equal(hm_server_handle(s, m, n, &r, rn), HM_OK);
	assert_non_null(r);
	return r;
}

static void make_hello(uint8_t *h, const uint8_t pub[32])
{
	h[0] = 'H';
	memset(h + 1, 0, SID);
	memcpy(h + HEAD, "HMSYNC01", 8);
	h[HEAD + 8] = 0, h[HEAD + 9] = 1, h[HEAD + 10] = 0, h[HEAD + 11] = 1;
	memcpy(h + HEAD + 12, pub, 32);
	hm_random_bytes(h + HEAD + 44, 32);
}

/* Hello and accept: the session's id and keys. */
static void cl_hello(cl *c, hm_server *s)
{
	hm_kx kx;
	hm_hash_state st;
	uint8_t *r;
	size_t rn;

	memset(c, 0, sizeof(*c));
	c->srv = s;
	assert_int_equal(hm_kx_init(&kx), HM_OK);
	make_hello(c->hello, kx.pub);
	r = ask(s, c->hello, sizeof(c->hello), &rn);
	assert_int_equal(r[0], 'A');
	memcpy(c->sid, r + 1, SID);
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-sync-v1", 14);
	hm_hash_update(&st, c->hello, sizeof(c->hello));
	hm_hash_update(&st, r, rn - HM_SIGNATURE_BYTES);
	hm_hash_final(&st, &c->t1);
	memcpy(c->server_sig.b, r + rn - HM_SIGNATURE_BYTES, HM_SIGNATURE_BYTES);
	assert_int_equal(hm_kx_session(&kx, r + HEAD + 2, 1, c->rx, c->tx), HM_OK);
	hm_kx_release(&kx);
	free(r);
}

/* Send body (msgpack) sealed in c's session; the reply: 'E' and its text, or 'S' and the opened
 * body's bytes (in text, cut to cap). */
static char cl_call(cl *c, const void *body, size_t n, char *text, size_t cap)
{
	uint8_t *m = malloc(SEALED_HEAD + n + 16), *r, *plain;
	size_t rn;
	char t;

	assert_non_null(m);
	m[0] = 'S';
	memcpy(m + 1, c->sid, SID);
	for (int i = 7; i >= 0; i--)
		m[HEAD + 7 - i] = (uint8_t)(c->tx_next >> (8 * i));
	assert_int_equal(
	    hm_aead_seal_n(m + SEALED_HEAD, c->tx, c->tx_next, body, n, m, SEALED_HEAD), HM_OK);
	c->tx_next++;
	r = ask(c->srv, m, SEALED_HEAD + n + 16, &rn);
	free(m);
	t = (char)r[0];
	text[0] = 0;
	if (t == 'E') {
		snprintf(text, cap, "%.*s", (int)(rn - HEAD), (const char *)r + HEAD);
	} else {
		assert_int_equal(t, 'S');
		assert_non_null(plain = malloc(rn));
		assert_int_equal(hm_aead_open_n(plain, c->rx, c->rx_next, r + SEALED_HEAD,
		                                rn - SEALED_HEAD, r, SEALED_HEAD),
		                 HM_OK);
		c->rx_next++;
		/* the reply's strings, printable bytes only, for matching */
		size_t k = 0;
		for (size_t i = 0; i < rn - SEALED_HEAD - 16 && k + 1 < cap; i++)
			if (plain[i] >= 0x20 && plain[i] < 0x7f)
				text[k++] = (char)plain[i];
		text[k] = 0;
		free(plain);
	}
	free(r);
	return t;
}

/* ["auth", chain, signature] with node's key: "ok" expected. */
static void cl_auth(cl *c, hm_node *node)
{
	uint8_t chain[HM_CHAIN_MAX];
	hm_hash_state st;
	hm_hash t2;
	hm_signature sig;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t cn;
	char text[256];

	hm_hash_init(&st);
	hm_hash_update(&st, c->t1.b, HM_HASH_BYTES);
	hm_hash_update(&st, "client", 6);
	hm_hash_update(&st, c->server_sig.b, HM_SIGNATURE_BYTES);
	hm_hash_final(&st, &t2);
	assert_int_equal(hm_node_sign(node, &t2, &sig), HM_OK);
	assert_int_equal(hm_node_chain(node, chain, sizeof(chain), &cn), HM_OK);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	hm_mp_pack_cstr(&pk, "auth");
	hm_mp_pack_bin(&pk, chain, cn);
	hm_mp_pack_bin(&pk, sig.b, HM_SIGNATURE_BYTES);
	assert_int_equal(cl_call(c, sb.data, sb.size, text, sizeof(text)), 'S');
	if (strncmp(text, "ok", 2) != 0)
		fail_msg("auth: %s", text);
	msgpack_sbuffer_destroy(&sb);
}

/* ["vv"] in c's session: 'S' while the session lives, 'E' once it is gone. */
static char cl_vv(cl *c, char *text, size_t cap)
{
	static const uint8_t vv[] = {0x91, 0xa2, 'v', 'v'};
	return cl_call(c, vv, sizeof(vv), text, cap);
}

static void test_hellos_never_evict_authenticated(void **state)
{
	tt_mesh m;
	hm_server *s;
	cl a, flood;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_flood");
	assert_int_equal(hm_server_new(m.t1.n, &s), HM_OK);
	cl_hello(&a, s);
	cl_auth(&a, m.v1.n);
	for (int i = 0; i < 600; i++)
		cl_hello(&flood, s);
	if (cl_vv(&a, text, sizeof(text)) != 'S')
		fail_msg("600 hellos evicted an authenticated session: %s", text);
	/* the flood's own last handshake still stands, the first ones gave way */
	cl_auth(&flood, m.v2.n);
	hm_server_free(s);
	tt_mesh_release(&m);
}

static void test_per_peer_cap(void **state)
{
	tt_mesh m;
	hm_server *s;
	cl c[5], other;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_peer");
	assert_int_equal(hm_server_new(m.t1.n, &s), HM_OK);
	cl_hello(&other, s);
	cl_auth(&other, m.v2.n);
	for (int i = 0; i < 5; i++) {
		cl_hello(&c[i], s);
		cl_auth(&c[i], m.v1.n);
	}
	/* v1's fifth session displaced its own first; v2's is untouched */
	assert_int_equal(cl_vv(&c[0], text, sizeof(text)), 'E');
	assert_non_null(strstr(text, "no such session"));
	for (int i = 1; i < 5; i++)
		assert_int_equal(cl_vv(&c[i], text, sizeof(text)), 'S');
	assert_int_equal(cl_vv(&other, text, sizeof(text)), 'S');
	hm_server_free(s);
	tt_mesh_release(&m);
}

static void test_before_auth(void **state)
{
	tt_mesh m;
	hm_server *s;
	cl c;
	uint8_t hello[HELLO_LEN], zero[32] = {0}, *r, *big;
	size_t rn, n = 3 + 5 + 59999;
	char text[256];
	(void)state;

	tt_mesh_init(&m, "session_unauth");
	assert_int_equal(hm_server_new(m.t1.n, &s), HM_OK);
	/* ["auth", nil x 59999]: 60000 elements before the client proved anything */
	assert_non_null(big = malloc(n));
	big[0] = 0xdc, big[1] = (uint8_t)(60000 >> 8), big[2] = (uint8_t)60000;
	big[3] = 0xa4, memcpy(big + 4, "auth", 4);
	memset(big + 8, 0xc0, n - 8);
	cl_hello(&c, s);
	assert_int_equal(cl_call(&c, big, n, text, sizeof(text)), 'S');
	if (!strstr(text, "not well-formed"))
		fail_msg("a 60000-element frame before auth was decoded: %s", text);
	free(big);
	/* the session goes on: a proper auth still works */
	cl_auth(&c, m.v1.n);
	assert_int_equal(cl_vv(&c, text, sizeof(text)), 'S');

	/* a hello with an all-zero key: an error reply, not an error of the server */
	make_hello(hello, zero);
	r = ask(s, hello, sizeof(hello), &rn);
	assert_int_equal(r[0], 'E');
	free(r);
	assert_int_equal(cl_vv(&c, text, sizeof(text)), 'S');
	hm_server_free(s);
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
