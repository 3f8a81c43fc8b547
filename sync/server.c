/*
 * server.c - the server side of a sync session (hm_server): the session table, the answer to a
 * hello, then auth, vv, push, pull and count requests. The messages are in session.c and
 * docs/protocol.md.
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The session table (hm_server). nanomsg does not tell a REP socket who sent a message, so
 * sessions cannot be capped per source address. Instead the two kinds are kept apart: a hello
 * takes a slot among HANDSHAKES_MAX handshakes, where only another handshake can take it (the
 * least recently used gives way) and which expires after HANDSHAKE_IDLE_S; a session whose
 * client proved its certified key moves to the SESSIONS_MAX authenticated slots, which nothing
 * unauthenticated ever touches, at most SESSIONS_PER_PEER of them for one peer node (its own
 * least recently used gives way). When every authenticated slot is busy a new auth is refused,
 * and the client tries again later. */
#define SESSIONS_MAX      256
#define SESSION_IDLE_S    300
#define HANDSHAKES_MAX    32
#define HANDSHAKE_IDLE_S  30
#define SESSIONS_PER_PEER 4

/* ---- the server ---- */

typedef struct session {
	bool used, authed;
	channel ch;
	hm_hash t1;
	hm_signature server_sig;
	hm_peer peer;
	time_t last;
	bool counted; /* remaining: change sets this session's pulls still have to send */
	uint64_t remaining;
} session;

struct hm_server {
	hm_node *node;
	pthread_mutex_t *lock; /* NULL: the node is this thread's alone */
	hm_node_info info;
	session sessions[SESSIONS_MAX];     /* authenticated */
	session handshakes[HANDSHAKES_MAX]; /* hello answered, auth not yet */
};

hm_err hm_server_new(hm_node *node, hm_server **out)
{
	hm_server *s = calloc(1, sizeof(*s));

	if (!s)
		return HM_ERR_NOMEM;
	s->node = node;
	hm_node_ident(node, &s->info);
	if (!s->info.trust || !s->info.enrolled) {
		free(s);
		return hm_sync_fail(HM_ERR_CRYPTO, "only an enrolled node with keys can serve");
	}
	*out = s; /* owned by the caller */
	return HM_OK;
}

void hm_server_free(hm_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < SESSIONS_MAX; i++)
		hm_sess_channel_wipe(&s->sessions[i].ch);
	for (int i = 0; i < HANDSHAKES_MAX; i++)
		hm_sess_channel_wipe(&s->handshakes[i].ch);
	free(s);
}

static hm_err reply_plain(char type, const uint8_t *sid, const void *p, size_t n, uint8_t **out,
                          size_t *out_len)
{
	uint8_t *m = malloc(HEAD_BYTES + n);
	if (!m)
		return HM_ERR_NOMEM;
	m[0] = (uint8_t)type;
	if (sid)
		memcpy(m + 1, sid, SID_BYTES);
	else
		memset(m + 1, 0, SID_BYTES);
	memcpy(m + HEAD_BYTES, p, n);
	*out = m;
	*out_len = HEAD_BYTES + n;
	return HM_OK;
}

static hm_err reply_error(const char *why, uint8_t **out, size_t *out_len)
{
	return reply_plain('E', NULL, why, strlen(why), out, out_len);
}

static void session_drop(session *x)
{
	hm_sess_channel_wipe(&x->ch);
	memset(x, 0, sizeof(*x));
}

/* The session sid in table t of n slots, dropping those idle beyond idle_s on the way. */
static session *table_find(session *t, int n, time_t idle_s, const uint8_t *sid, time_t now)
{
	session *found = NULL;
	for (int i = 0; i < n; i++) {
		session *x = &t[i];
		if (x->used && now - x->last > idle_s)
			session_drop(x);
		if (x->used && memcmp(x->ch.sid, sid, SID_BYTES) == 0)
			found = x;
	}
	return found;
}

static session *session_find(hm_server *s, const uint8_t *sid)
{
	time_t now = time(NULL);
	session *x = table_find(s->sessions, SESSIONS_MAX, SESSION_IDLE_S, sid, now);
	return x ? x : table_find(s->handshakes, HANDSHAKES_MAX, HANDSHAKE_IDLE_S, sid, now);
}

/* A slot for a new handshake: a free one, else the least recently used handshake's. */
static session *handshake_new(hm_server *s)
{
	session *oldest = &s->handshakes[0];
	for (int i = 0; i < HANDSHAKES_MAX; i++) {
		if (!s->handshakes[i].used)
			return &s->handshakes[i];
		if (s->handshakes[i].last < oldest->last)
			oldest = &s->handshakes[i];
	}
	session_drop(oldest); /* only another handshake ever gives way to a hello */
	return oldest;
}

/* A slot among the authenticated for a session of peer: the peer's own least recently used
 * when it holds SESSIONS_PER_PEER already, else a free (or expired) one; NULL when all are
 * busy with sessions of other peers. */
static session *session_new_authed(hm_server *s, const hm_node_id *peer)
{
	session *free_slot = NULL, *own_oldest = NULL;
	time_t now = time(NULL);
	int own = 0;

	for (int i = 0; i < SESSIONS_MAX; i++) {
		session *x = &s->sessions[i];
		if (x->used && now - x->last > SESSION_IDLE_S)
			session_drop(x);
		if (!x->used) {
			if (!free_slot)
				free_slot = x;
			continue;
		}
		if (memcmp(x->peer.id.b, peer->b, HM_NODE_ID_BYTES) == 0) {
			own++;
			if (!own_oldest || x->last < own_oldest->last)
				own_oldest = x;
		}
	}
	if (own >= SESSIONS_PER_PEER) {
		session_drop(own_oldest);
		return own_oldest;
	}
	return free_slot;
}

/* 'H': a new session. */
static hm_err server_hello(hm_server *s, const uint8_t *m, size_t n, uint8_t **out, size_t *ol)
{
	const uint8_t *h = m + HEAD_BYTES;
	uint8_t accept[2 + 32 + 32 + 2 + HM_CHAIN_MAX + HM_SIGNATURE_BYTES], *reply;
	unsigned vmin, vmax, version;
	size_t cl, an;
	hm_kx kx;
	session *x;
	hm_err err;

	if (n != HEAD_BYTES + 8 + 4 + 32 + 32 || memcmp(h, HELLO_MAGIC, 8) != 0)
		return reply_error("not a hamlet sync hello", out, ol);
	vmin = get16(h + 8), vmax = get16(h + 10);
	version = vmax < HM_PROTOCOL_VERSION ? vmax : HM_PROTOCOL_VERSION;
	if (version < vmin || version < HM_PROTOCOL_MIN) {
		char why[160];
		snprintf(why, sizeof(why),
		         "protocol versions %u..%u are not spoken here (this node: %u..%u)", vmin,
		         vmax, HM_PROTOCOL_MIN, HM_PROTOCOL_VERSION);
		return reply_error(why, out, ol);
	}
	if ((err = hm_kx_init(&kx)))
		return err;
	x = handshake_new(s);
	hm_random_bytes(x->ch.sid, SID_BYTES);
	put16(accept, version);
	memcpy(accept + 2, kx.pub, 32);
	hm_random_bytes(accept + 34, 32);
	if ((err = hm_node_chain(s->node, accept + 68, HM_CHAIN_MAX, &cl)))
		goto out;
	put16(accept + 66, (unsigned)cl);
	an = 68 + cl;
	/* T1 covers the hello as sent and the accept up to its signature, session id included. */
	{
		uint8_t head[HEAD_BYTES + sizeof(accept)];
		head[0] = 'A';
		memcpy(head + 1, x->ch.sid, SID_BYTES);
		memcpy(head + HEAD_BYTES, accept, an);
		hm_sess_transcript1(m, n, head, HEAD_BYTES + an, &x->t1);
	}
	if (hm_kx_session(&kx, h + 12, 0, x->ch.rx, x->ch.tx)) {
		/* A key of low order gives no session key: the client's fault, not the server's. */
		hm_sess_channel_wipe(&x->ch);
		err = reply_error("the hello's ephemeral key is not usable", out, ol);
		goto out;
	}
	if ((err = hm_node_sign(s->node, &x->t1, &x->server_sig)))
		goto out;
	memcpy(accept + an, x->server_sig.b, HM_SIGNATURE_BYTES);
	an += HM_SIGNATURE_BYTES;
	if ((err = reply_plain('A', x->ch.sid, accept, an, &reply, ol)))
		goto out;
	x->used = true;
	x->last = time(NULL);
	*out = reply;
out:
	hm_kx_release(&kx);
	if (err && !x->used)
		hm_sess_channel_wipe(&x->ch);
	return err;
}

static hm_err sealed_reply(session *x, body *b, uint8_t **out, size_t *ol)
{
	hm_err err =
	    b->failed ? HM_ERR_NOMEM : hm_sess_seal(&x->ch, b->sb.data, b->sb.size, out, ol);
	msgpack_sbuffer_destroy(&b->sb);
	return err;
}

static hm_err sealed_error(session *x, const char *why, uint8_t **out, size_t *ol)
{
	body b;
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	hm_sess_pack_str(&b.pk, "err");
	hm_sess_pack_str(&b.pk, why);
	return sealed_reply(x, &b, out, ol);
}

/* ["auth", chain, signature] in handshake x: on success the session moves to the authenticated
 * table (x is dropped) and the reply is sealed there. */
static hm_err server_auth(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	const uint8_t *chain, *sigp;
	size_t cl, sl;
	hm_signature sig;
	hm_hash t2;
	session *y;
	body b;

	if (p->n != 3 || !hm_sess_get_bin(&p->a[1], &chain, &cl) ||
	    !hm_sess_get_bin(&p->a[2], &sigp, &sl) || sl != HM_SIGNATURE_BYTES)
		return sealed_error(x, "malformed auth", out, ol);
	memcpy(sig.b, sigp, sl);
	hm_sess_transcript2(&x->t1, &x->server_sig, &t2);
	if (hm_node_verify_peer(s->node, chain, cl, &t2, &sig, &x->peer)) {
		char why[600];
		snprintf(why, sizeof(why), "refused: %s", hm_node_errmsg(s->node));
		return sealed_error(x, why, out, ol);
	}
	if (!(y = session_new_authed(s, &x->peer.id)))
		return sealed_error(
		    x, "busy: every session is in use by other peers; try again later", out, ol);
	*y = *x;
	y->authed = true;
	session_drop(x);
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 3);
	hm_sess_pack_str(&b.pk, "ok");
	hm_sess_pack_str(&b.pk, s->info.region);
	msgpack_pack_uint64(&b.pk, hm_node_now_ms(s->node)); /* our wall clock, for the client */
	return sealed_reply(y, &b, out, ol);
}

static hm_err server_vv(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	hm_vv vv;
	body b;
	uint64_t client_ms;
	hm_err err;

	/* ["vv", wall clock]: a client's clock far from ours goes to the log. */
	if (p->n >= 2 && hm_sess_get_uint(&p->a[1], &client_ms))
		hm_node_clock_check_peer(s->node, &x->peer.id,
		                         (int64_t)(client_ms - hm_node_now_ms(s->node)));

	if ((err = hm_node_version_vector(s->node, &vv)))
		return sealed_error(x, hm_sess_node_why(s->node, err), out, ol);
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	hm_sess_pack_str(&b.pk, "vv");
	hm_sess_pack_vv(&b.pk, &vv);
	hm_vv_release(&vv);
	return sealed_reply(x, &b, out, ol);
}

static hm_err server_push(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	const msgpack_object *list;
	hm_bytes *envs = NULL;
	size_t n = 0, skipped = 0;
	hm_apply_stats st = {0};
	body b;
	hm_err err;

	if (p->n != 2 || p->a[1].type != MSGPACK_OBJECT_ARRAY)
		return sealed_error(x, "malformed push", out, ol);
	list = &p->a[1];
	if (list->via.array.size && !(envs = calloc(list->via.array.size, sizeof(*envs))))
		return HM_ERR_NOMEM;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		hm_changeset_view v;
		const uint8_t *e;
		size_t en;
		if (!hm_sess_get_bin(&list->via.array.ptr[i], &e, &en)) {
			free(envs);
			return sealed_error(x, "malformed push", out, ol);
		}
		/* Keep only what this node may hold; a malformed one is refused by apply. */
		if (hm_envelope_peek(e, en, &v) == HM_OK &&
		    !hm_region_visible(s->info.region, v.region)) {
			skipped++;
			continue;
		}
		envs[n].p = e, envs[n].n = en, n++;
	}
	err = n ? hm_sess_apply_capped(s->node, envs, n, &st) : HM_OK;
	free(envs);
	if (err)
		return sealed_error(x, hm_sess_node_why(s->node, err), out, ol);
	st.refused += skipped;
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 7); /* acknowledged after the durable commit above */
	hm_sess_pack_str(&b.pk, "ack");
	msgpack_pack_uint64(&b.pk, st.new_);
	msgpack_pack_uint64(&b.pk, st.duplicate);
	msgpack_pack_uint64(&b.pk, st.pending);
	msgpack_pack_uint64(&b.pk, st.refused);
	msgpack_pack_uint64(&b.pk, st.quarantined);
	msgpack_pack_uint64(&b.pk, st.forks);
	return sealed_reply(x, &b, out, ol);
}

static hm_err server_pull(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	hm_vv since;
	uint64_t max;
	batcher bt;
	body b;
	hm_err err;

	err = HM_ERR_CORRUPT;
	if (p->n != 3 || (err = hm_sess_parse_vv(&p->a[1], &since)))
		return sealed_error(x, err == HM_ERR_NOMEM ? "out of memory" : "malformed pull",
		                    out, ol);
	if (!hm_sess_get_uint(&p->a[2], &max)) {
		hm_vv_release(&since);
		return sealed_error(x, "malformed pull", out, ol);
	}

	if (max > (8u << 20))
		max = 8u << 20;
	if (!x->counted) { /* once a session: later pulls count down */
		x->remaining = hm_sess_count_visible(s->node, &since, x->peer.region);
		x->counted = true;
	}
	err = hm_sess_next_batch(s->node, &since, x->peer.region, (size_t)max, &bt);
	hm_vv_release(&since);
	if (err) {
		hm_sess_batcher_release(&bt);
		return sealed_error(x, hm_sync_errmsg(), out, ol);
	}
	x->remaining -= bt.ncopies < x->remaining ? bt.ncopies : x->remaining;
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 4);
	hm_sess_pack_str(&b.pk, "cs");
	msgpack_pack_array(&b.pk, bt.ncopies);
	for (size_t i = 0; i < bt.ncopies; i++)
		hm_sess_pack_bin(&b.pk, bt.list[i].p, bt.list[i].n);
	if (bt.full)
		msgpack_pack_true(&b.pk);
	else
		msgpack_pack_false(&b.pk);
	msgpack_pack_uint64(&b.pk, x->remaining);
	hm_sess_batcher_release(&bt);
	return sealed_reply(x, &b, out, ol);
}

/* ["count", vv]: how many change sets beyond vv the client may receive, without sending them. */
static hm_err server_count(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	hm_vv since;
	uint64_t n;
	body b;

	hm_err err = HM_ERR_CORRUPT;

	if (p->n != 2 || (err = hm_sess_parse_vv(&p->a[1], &since)))
		return sealed_error(x, err == HM_ERR_NOMEM ? "out of memory" : "malformed count",
		                    out, ol);
	n = hm_sess_count_visible(s->node, &since, x->peer.region);
	hm_vv_release(&since);
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	hm_sess_pack_str(&b.pk, "count");
	msgpack_pack_uint64(&b.pk, n);
	return sealed_reply(x, &b, out, ol);
}

hm_err hm_server_handle(hm_server *s, const uint8_t *m, size_t n, uint8_t **out, size_t *ol)
{
	session *x;
	uint8_t *plain = NULL;
	size_t pn;
	parsed p;
	hm_err err;

	*out = NULL;
	if (n < HEAD_BYTES)
		return reply_error("a message too short to be hamlet's", out, ol);
	if (m[0] == 'H')
		return server_hello(s, m, n, out, ol);
	if (m[0] != 'S')
		return reply_error("not a hamlet sync message", out, ol);
	if (!(x = session_find(s, m + 1)))
		return reply_error(
		    "no such session (expired, or the server restarted): start again", out, ol);
	if ((err = hm_sess_open_sealed(&x->ch, m, n, &plain, &pn))) {
		/* A frame that does not open ends the session: its keys are not to be probed. */
		session_drop(x);
		return err == HM_ERR_NOMEM ? err : reply_error(hm_sync_errmsg(), out, ol);
	}
	x->last = time(NULL);
	err = hm_sess_parse(plain, pn, x->authed ? UINT64_MAX : UNAUTHED_OBJECTS, &p);
	if (err)
		err = sealed_error(x, hm_sync_errmsg(), out, ol);
	else if (!x->authed)
		err = hm_sess_is_verb(&p, "auth") ? server_auth(s, x, &p, out, ol)
		                                  : sealed_error(x, "authenticate first", out, ol);
	else if (hm_sess_is_verb(&p, "vv"))
		err = server_vv(s, x, &p, out, ol);
	else if (hm_sess_is_verb(&p, "push"))
		err = server_push(s, x, &p, out, ol);
	else if (hm_sess_is_verb(&p, "pull"))
		err = server_pull(s, x, &p, out, ol);
	else if (hm_sess_is_verb(&p, "count"))
		err = server_count(s, x, &p, out, ol);
	else if (hm_sess_is_verb(&p, "bye")) {
		body b;
		hm_sess_body_init(&b);
		msgpack_pack_array(&b.pk, 1);
		hm_sess_pack_str(&b.pk, "bye");
		err = sealed_reply(x, &b, out, ol);
		session_drop(x);
	} else
		err = sealed_error(x, "unknown request", out, ol);
	msgpack_unpacked_destroy(&p.u);
	if (plain)
		hm_wipe(plain, pn);
	free(plain);
	return err;
}

void hm_server_set_lock(hm_server *s, pthread_mutex_t *lock)
{
	s->lock = lock;
}

static void server_tick(hm_server *s, void (*tick)(void *), void *tick_ctx)
{
	if (!tick)
		return;
	if (s->lock)
		pthread_mutex_lock(s->lock);
	tick(tick_ctx);
	if (s->lock)
		pthread_mutex_unlock(s->lock);
}

hm_err hm_server_serve(hm_server *s, hm_transport *t, volatile int *stop, void (*tick)(void *),
                       void *tick_ctx, int tick_ms)
{
	while (!*stop) {
		uint8_t *req = NULL, *reply = NULL;
		size_t n, rn;
		hm_err err = t->recv(t->ctx, &req, &n, tick_ms > 0 ? tick_ms : 1000);

		if (err == HM_ERR_BUSY) { /* a quiet moment */
			server_tick(s, tick, tick_ctx);
			continue;
		}
		if (err) {
			if (*stop)
				break;
			return hm_sync_fail(err, "receiving: %s", t->why(t->ctx));
		}
		if (s->lock)
			pthread_mutex_lock(s->lock);
		err = hm_server_handle(s, req, n, &reply, &rn);
		if (s->lock)
			pthread_mutex_unlock(s->lock);
		t->free_msg(t->ctx, req);
		if (err) {
			free(reply);
			return hm_sync_fail(err, "answering: %s", hm_strerror(err));
		}
		err = t->send(t->ctx, reply, rn, 5000);
		free(reply);
		if (err && err != HM_ERR_BUSY)
			return hm_sync_fail(err, "replying: %s", t->why(t->ctx));
		server_tick(s, tick, tick_ctx);
	}
	return HM_OK;
}
