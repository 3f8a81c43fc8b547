/* sync_test.c - helpers of the sync/ tests (sync_test.h). */
#include "sync_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a server at the far end of a pair ---- */

/* hm_server_serve's tick: stop once nothing waits (or the link is gone), so the client's recv
 * gets back what was answered. */
static void serve_idle(void *ctx)
{
	st_server *sv = ctx;
	sv->stop = sv->pair->down || mp_pair_pending(sv->pair, MP_SERVER) == 0;
}

static void serve_pump(void *ctx)
{
	st_server *sv = ctx;
	hm_err err;

	serve_idle(sv);
	err = hm_server_serve(sv->s, &sv->pair->t[MP_SERVER], &sv->stop, serve_idle, sv, 1);
	if (err)
		fail_msg("the server stopped: %s (%s)", hm_strerror(err), hm_sync_errmsg());
}

void st_server_init(st_server *sv, hm_node *node, mp_pair *pair)
{
	memset(sv, 0, sizeof(*sv));
	sv->pair = pair;
	if (hm_server_new(node, &sv->s))
		fail_msg("hm_server_new: %s", hm_sync_errmsg());
	mp_pair_pump(pair, MP_CLIENT, serve_pump, sv);
}

void st_server_release(st_server *sv)
{
	hm_server_free(sv->s);
	sv->s = NULL;
}

hm_err st_sync(hm_node *client, hm_node *server, mp_pair *pair, const hm_sync_opts *opts,
               hm_sync_stats *st)
{
	st_server sv;
	hm_err err;

	st_server_init(&sv, server, pair);
	err = hm_sync_run(client, &pair->t[MP_CLIENT], opts, st);
	st_server_release(&sv);
	return err;
}

void st_sync_ok(hm_node *client, hm_node *server, const hm_sync_opts *opts, hm_sync_stats *st,
                size_t *frames)
{
	mp_pair pair;
	hm_err err;

	mp_pair_init(&pair);
	if ((err = st_sync(client, server, &pair, opts, st)))
		fail_msg("sync: %s (%s)", hm_strerror(err), hm_sync_errmsg());
	if (frames)
		*frames = mp_pair_nsent(&pair, MP_CLIENT);
	mp_pair_release(&pair);
}

/* ---- a client spoken by hand ---- */

void st_hello_make(uint8_t *h, const uint8_t pub[32])
{
	h[0] = 'H';
	memset(h + 1, 0, ST_SID);
	memcpy(h + ST_HEAD, "HMSYNC01", 8);
	h[ST_HEAD + 8] = 0, h[ST_HEAD + 9] = 1, h[ST_HEAD + 10] = 0, h[ST_HEAD + 11] = 1;
	memcpy(h + ST_HEAD + 12, pub, 32);
	hm_random_bytes(h + ST_HEAD + 44, 32);
}

/* The next message at the client end (owned: free). */
static uint8_t *raw_recv(st_raw *c, size_t *n)
{
	uint8_t *m, *copy;
	hm_err err = c->t->recv(c->t->ctx, &m, n, 1000);

	if (err)
		fail_msg("no reply: %s (%s)", hm_strerror(err), c->t->why(c->t->ctx));
	assert_non_null(copy = malloc(*n ? *n : 1));
	memcpy(copy, m, *n);
	c->t->free_msg(c->t->ctx, m);
	return copy;
}

void st_raw_hello(st_raw *c, hm_transport *t)
{
	hm_kx kx;
	hm_hash_state st;
	uint8_t *r;
	size_t rn;

	memset(c, 0, sizeof(*c));
	c->t = t;
	assert_int_equal(hm_kx_init(&kx), HM_OK);
	st_hello_make(c->hello, kx.pub);
	st_raw_post(c, c->hello, sizeof(c->hello));
	r = raw_recv(c, &rn);
	assert_int_equal(r[0], 'A');
	memcpy(c->sid, r + 1, ST_SID);
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-sync-v1", 14);
	hm_hash_update(&st, c->hello, sizeof(c->hello));
	hm_hash_update(&st, r, rn - HM_SIGNATURE_BYTES);
	hm_hash_final(&st, &c->t1);
	memcpy(c->server_sig.b, r + rn - HM_SIGNATURE_BYTES, HM_SIGNATURE_BYTES);
	assert_int_equal(hm_kx_session(&kx, r + ST_HEAD + 2, 1, c->rx, c->tx), HM_OK);
	hm_kx_release(&kx);
	free(r);
}

uint8_t *st_raw_seal(const st_raw *c, uint64_t counter, const void *body, size_t len, size_t *n)
{
	uint8_t *m = malloc(ST_SEALED_HEAD + len + ST_TAG);

	assert_non_null(m);
	m[0] = 'S';
	memcpy(m + 1, c->sid, ST_SID);
	for (int i = 0; i < 8; i++)
		m[ST_HEAD + i] = (uint8_t)(counter >> (8 * (7 - i)));
	assert_int_equal(
	    hm_aead_seal_n(m + ST_SEALED_HEAD, c->tx, counter, body, len, m, ST_SEALED_HEAD),
	    HM_OK);
	*n = ST_SEALED_HEAD + len + ST_TAG;
	return m;
}

void st_raw_post(st_raw *c, const uint8_t *m, size_t n)
{
	assert_int_equal(c->t->send(c->t->ctx, m, n, 1000), HM_OK);
}

char st_raw_reply(st_raw *c, char *text, size_t cap)
{
	size_t rn, k = 0;
	uint8_t *r = raw_recv(c, &rn), *plain;
	char t = (char)r[0];

	text[0] = 0;
	if (t == 'E') {
		snprintf(text, cap, "%.*s", (int)(rn - ST_HEAD), (const char *)r + ST_HEAD);
		free(r);
		return t;
	}
	assert_int_equal(t, 'S');
	assert_true(rn >= ST_SEALED_HEAD + ST_TAG);
	assert_non_null(plain = malloc(rn));
	assert_int_equal(hm_aead_open_n(plain, c->rx, c->rx_next, r + ST_SEALED_HEAD,
	                                rn - ST_SEALED_HEAD, r, ST_SEALED_HEAD),
	                 HM_OK);
	c->rx_next++;
	/* the reply's strings, printable bytes only, for matching */
	for (size_t i = 0; i < rn - ST_SEALED_HEAD - ST_TAG && k + 1 < cap; i++)
		if (plain[i] >= 0x20 && plain[i] < 0x7f)
			text[k++] = (char)plain[i];
	text[k] = 0;
	free(plain);
	free(r);
	return t;
}

char st_raw_call(st_raw *c, const void *body, size_t len, char *text, size_t cap)
{
	size_t n;
	uint8_t *m = st_raw_seal(c, c->tx_next++, body, len, &n);

	st_raw_post(c, m, n);
	free(m);
	return st_raw_reply(c, text, cap);
}

uint8_t *st_raw_vv(const st_raw *c, uint64_t counter, size_t *n)
{
	static const uint8_t vv[] = {0x91, 0xa2, 'v', 'v'};
	return st_raw_seal(c, counter, vv, sizeof(vv), n);
}

char st_raw_auth_try(st_raw *c, hm_node *node, char *text, size_t cap)
{
	uint8_t chain[HM_CHAIN_MAX];
	hm_hash_state st;
	hm_hash t2;
	hm_signature sig;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t cn;
	char t;

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
	t = st_raw_call(c, sb.data, sb.size, text, cap);
	msgpack_sbuffer_destroy(&sb);
	return t;
}

void st_raw_auth(st_raw *c, hm_node *node)
{
	char text[256];

	if (st_raw_auth_try(c, node, text, sizeof(text)) != 'S' || strncmp(text, "ok", 2) != 0)
		fail_msg("auth: %s", text);
}

/* ---- change sets ---- */

void st_person_sized(hm_node *n, const char *id, size_t len)
{
	char *name = malloc(len + 1);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	hm_err err;

	assert_non_null(name);
	for (const char *p = id; *p; p++)
		x = (x ^ (uint8_t)*p) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		name[i] = (char)('a' + x % 26);
	}
	name[len] = 0;
	if ((err = test_set_str(n, "person", id, "name", name, NULL)))
		fail_msg("person/%s: %s (%s)", id, hm_strerror(err), hm_node_errmsg(n));
	free(name);
}

typedef struct sizes_ctx {
	const char *holder;
	size_t *sizes, n, cap;
} sizes_ctx;

static int size_one(void *ctx, const hm_changeset_view *cs)
{
	sizes_ctx *k = ctx;
	if (hm_region_visible(k->holder, cs->region) && k->n < k->cap)
		k->sizes[k->n++] = cs->envelope.n;
	return 0;
}

size_t st_envelope_sizes(hm_node *n, const char *holder, size_t *sizes, size_t cap)
{
	sizes_ctx k = {holder, sizes, 0, cap};
	assert_int_equal(hm_node_changesets(n, NULL, size_one, &k), HM_OK);
	return k.n;
}
