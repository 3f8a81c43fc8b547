/*
 * client.c - the client side of a sync session (hm_sync_run, hm_sync_probe): the handshake, the
 * link estimate that sizes batches and timeouts, push and pull. The messages are in session.c
 * and docs/protocol.md.
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_DEFAULT   ((size_t)1 << 20)
#define TIMEOUT_DEFAULT 30000

/* ---- the client ---- */

/* The link as the client measures it. A batch is sized to take about BATCH_TARGET_MS (or three
 * round trips, if longer) at the measured rate, so a 9.6 kbit/s link moves a few KB at a time
 * and a LAN a megabyte; it grows at most fourfold from one batch to the next. A message's
 * timeout is TIMEOUT_FACTOR times what it should take, plus TIMEOUT_SLACK_MS for TCP to recover
 * a lost segment, and never less than the caller's timeout. Before anything is measured, the
 * first message may take TIMEOUT_OPEN_RTTS times the time the connection took to open (about
 * one round trip): its request or reply lost twice over, each resent after TCP's first timeout
 * of three round trips, then six, still fits. No timeout is stretched past these on a link
 * that loses much: losing a third of its packets, TCP's own timer backs off (to minutes where
 * the kernel cannot bound it: hm_net_cap_retransmit), and a new connection (whose timer starts
 * afresh) is then sooner than waiting (docs/reliability.md, "Links"). */
#define BATCH_MIN         ((size_t)2 << 10)
#define BATCH_TARGET_MS   3000.0
#define TIMEOUT_FACTOR    4.0
#define TIMEOUT_OPEN_RTTS 10.0
#define TIMEOUT_SLACK_MS  2000.0
#define TIMEOUT_MAX_MS    600000.0
#define RATE_SAMPLE_MIN   ((size_t)4 << 10) /* smaller messages measure the round trip only */

typedef struct link_est {
	double open_ms; /* how long the connection took to open; 0: not known */
	double rtt_ms;  /* smoothed round trip of a small message; 0 until measured */
	double rtt_min; /* the smallest round trip seen */
	double rate;    /* bytes/s, smoothed; 0 until measured */
	bool measured;  /* rate comes from a batch, not only from small messages */
	size_t batch;   /* the next batch, bytes */
	size_t max;     /* the caller's largest batch */
	size_t limit;   /* bytes/s on average, 0: none */
	uint64_t t0_ms; /* when the sync began (for limit) */
	size_t expect;  /* bytes the next round trip should move both ways */
} link_est;

typedef struct client {
	hm_node *node;
	hm_transport *t;
	channel ch;
	int timeout;
	hm_sync_stats *st;
	char region[HM_REGION_MAX + 1]; /* ours: what we may hold */
	link_est ln;
} client;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void link_init(link_est *l, const hm_sync_opts *o, const hm_transport *t)
{
	memset(l, 0, sizeof(*l));
	l->open_ms = t->open_ms;
	l->max = o->batch_bytes ? o->batch_bytes : BATCH_DEFAULT;
	if (l->max < BATCH_MIN)
		l->max = BATCH_MIN;
	l->limit = o->limit_rate;
	l->batch = BATCH_MIN * 4 < l->max ? BATCH_MIN * 4 : l->max;
	l->t0_ms = mono_ms();
}

/* How long a round trip moving bytes should take at most before the link is called down. */
static int link_timeout(const client *c, size_t bytes)
{
	const link_est *l = &c->ln;
	double ms;

	if (l->rate <= 0)
		ms = l->open_ms > 0 ? TIMEOUT_OPEN_RTTS * l->open_ms + TIMEOUT_SLACK_MS : 0;
	else
		ms = TIMEOUT_FACTOR * (l->rtt_ms + (double)bytes * 1000.0 / l->rate) +
		     TIMEOUT_SLACK_MS;
	if (ms > TIMEOUT_MAX_MS)
		ms = TIMEOUT_MAX_MS;
	return ms > c->timeout ? (int)ms : c->timeout;
}

/* Learn from a round trip of bytes (both ways) in ms, and size the next batch. */
static void link_learn(client *c, size_t bytes, double ms)
{
	link_est *l = &c->ln;
	double sample, target, next;

	if (ms < 1)
		ms = 1;
	if (!l->rtt_min || ms < l->rtt_min)
		l->rtt_min = ms;
	if (bytes < RATE_SAMPLE_MIN) {
		l->rtt_ms = l->rtt_ms ? 0.75 * l->rtt_ms + 0.25 * ms : ms;
		/* Until a batch is measured, the rate is judged from small messages: the best of
		 * them, which is still low (their time is mostly the round trip). */
		sample = (double)bytes * 1000.0 / ms;
		if (!l->measured && sample > l->rate)
			l->rate = sample;
	} else {
		/* What is beyond the shortest round trip is the time the bytes took. */
		double xfer = ms - l->rtt_min * 0.5;
		sample = (double)bytes * 1000.0 / (xfer > 1 ? xfer : 1);
		l->rate = l->measured ? 0.5 * l->rate + 0.5 * sample : sample;
		l->measured = true;
	}
	target = BATCH_TARGET_MS > 3 * l->rtt_ms ? BATCH_TARGET_MS : 3 * l->rtt_ms;
	next = l->rate * target / 1000.0;
	if (l->limit && next > (double)l->limit * target / 1000.0)
		next = (double)l->limit * target / 1000.0;
	if (next > 4.0 * (double)l->batch)
		next = 4.0 * (double)l->batch;
	l->batch = next < (double)BATCH_MIN ? BATCH_MIN
	           : next > (double)l->max  ? l->max
	                                    : (size_t)next;
	c->st->rate = l->rate;
	c->st->rtt_ms = (unsigned)l->rtt_ms;
	c->st->batch_bytes = l->batch;
}

/* With a rate limit: wait until the bytes moved so far fit under it, on average. */
static void link_pace(client *c)
{
	const link_est *l = &c->ln;
	uint64_t due, now = mono_ms();

	if (!l->limit)
		return;
	due = l->t0_ms + (uint64_t)((double)(c->st->bytes_sent + c->st->bytes_received) * 1000.0 /
	                            (double)l->limit);
	if (due > now) {
		struct timespec ts = {(time_t)((due - now) / 1000),
		                      (long)((due - now) % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Send a request, receive its reply: a copy owned by the caller. */
static hm_err roundtrip(client *c, const uint8_t *req, size_t n, uint8_t **reply, size_t *rn)
{
	uint8_t *m;
	size_t expect = n + (c->ln.expect ? c->ln.expect : 512);
	int timeout = link_timeout(c, expect);
	uint64_t t0 = mono_ms();
	hm_err err;

	c->ln.expect = 0;
	if ((err = c->t->send(c->t->ctx, req, n, timeout)))
		return hm_sync_fail(err, "sending: %s",
		                    err == HM_ERR_BUSY ? "timed out" : c->t->why(c->t->ctx));
	if ((err = c->t->recv(c->t->ctx, &m, rn, timeout)))
		return hm_sync_fail(err, "waiting for the peer: %s",
		                    err == HM_ERR_BUSY ? "no answer in time"
		                                       : c->t->why(c->t->ctx));
	c->st->messages++;
	c->st->bytes_sent += n;
	c->st->bytes_received += *rn;
	link_learn(c, n + *rn, (double)(mono_ms() - t0));
	link_pace(c);
	if (!(*reply = malloc(*rn ? *rn : 1))) {
		c->t->free_msg(c->t->ctx, m);
		return HM_ERR_NOMEM;
	}
	memcpy(*reply, m, *rn);
	c->t->free_msg(c->t->ctx, m);
	return HM_OK;
}

static hm_err plain_error(const uint8_t *m, size_t n)
{
	return hm_sync_fail(HM_ERR_NET, "the peer refused: %.*s", (int)(n - HEAD_BYTES),
	                    (const char *)m + HEAD_BYTES);
}

/* A sealed request and its sealed reply, parsed. */
static hm_err call(client *c, body *b, parsed *p, uint8_t **plain, size_t *pn)
{
	uint8_t *req = NULL, *reply = NULL;
	size_t rn, qn;
	hm_err err = b->failed ? hm_sync_fail(HM_ERR_NOMEM, "packing a message: out of memory")
	                       : hm_sess_seal(&c->ch, b->sb.data, b->sb.size, &req, &qn);

	msgpack_sbuffer_destroy(&b->sb);
	*plain = NULL;
	msgpack_unpacked_init(&p->u);
	if (err || (err = roundtrip(c, req, qn, &reply, &rn)))
		goto out;
	if (rn >= HEAD_BYTES && reply[0] == 'E') {
		err = plain_error(reply, rn);
		goto out;
	}
	if (rn < HEAD_BYTES || reply[0] != 'S' || memcmp(reply + 1, c->ch.sid, SID_BYTES) != 0) {
		err = hm_sync_fail(HM_ERR_CORRUPT, "the peer's reply is not of this session");
		goto out;
	}
	if ((err = hm_sess_open_sealed(&c->ch, reply, rn, plain, pn)))
		goto out;
	msgpack_unpacked_destroy(&p->u);
	if ((err = hm_sess_parse(*plain, *pn, UINT64_MAX, p)))
		goto out;
	if (hm_sess_is_verb(p, "err")) {
		err = hm_sync_fail(
		    HM_ERR_NET, "the peer refused: %.*s",
		    p->n > 1 && p->a[1].type == MSGPACK_OBJECT_STR ? (int)p->a[1].via.str.size : 0,
		    p->n > 1 && p->a[1].type == MSGPACK_OBJECT_STR ? p->a[1].via.str.ptr : "");
		goto out;
	}
out:
	free(req);
	free(reply);
	return err;
}

static void call_done(parsed *p, uint8_t *plain, size_t pn)
{
	msgpack_unpacked_destroy(&p->u);
	if (plain)
		hm_wipe(plain, pn);
	free(plain);
}

/* Hello and accept: the server's version, its certified key over T1, and the session keys
 * from kx. On success c->ch is keyed and *t1 and *ssig are what the auth must cover. */
static hm_err client_hello(client *c, hm_kx *kx, hm_hash *t1, hm_signature *ssig)
{
	uint8_t hello[HEAD_BYTES + 8 + 4 + 32 + 32], *reply = NULL;
	size_t rn, acl;
	const uint8_t *a;
	unsigned version;
	hm_err err;

	hello[0] = 'H';
	memset(hello + 1, 0, SID_BYTES);
	memcpy(hello + HEAD_BYTES, HELLO_MAGIC, 8);
	put16(hello + HEAD_BYTES + 8, HM_PROTOCOL_MIN);
	put16(hello + HEAD_BYTES + 10, HM_PROTOCOL_VERSION);
	memcpy(hello + HEAD_BYTES + 12, kx->pub, 32);
	hm_random_bytes(hello + HEAD_BYTES + 44, 32);
	if ((err = roundtrip(c, hello, sizeof(hello), &reply, &rn)))
		goto out;
	if (rn >= HEAD_BYTES && reply[0] == 'E') {
		err = plain_error(reply, rn);
		goto out;
	}
	a = reply + HEAD_BYTES;
	if (rn < HEAD_BYTES + 68 + HM_SIGNATURE_BYTES || reply[0] != 'A' ||
	    (acl = get16(a + 66)) != rn - HEAD_BYTES - 68 - HM_SIGNATURE_BYTES) {
		err = hm_sync_fail(HM_ERR_CORRUPT, "the peer does not speak hamlet sync");
		goto out;
	}
	version = get16(a);
	if (version < HM_PROTOCOL_MIN || version > HM_PROTOCOL_VERSION) {
		err = hm_sync_fail(HM_ERR_VERSION, "the peer chose protocol version %u", version);
		goto out;
	}
	memcpy(c->ch.sid, reply + 1, SID_BYTES);
	hm_sess_transcript1(hello, sizeof(hello), reply, rn - HM_SIGNATURE_BYTES, t1);
	memcpy(ssig->b, reply + rn - HM_SIGNATURE_BYTES, HM_SIGNATURE_BYTES);
	if (hm_node_verify_peer(c->node, a + 68, acl, t1, ssig, &c->st->peer)) {
		err = hm_sync_fail(HM_ERR_CRYPTO, "the server is not trusted: %s",
		                   hm_node_errmsg(c->node));
		goto out;
	}
	err = hm_kx_session(kx, a + 2, 1, c->ch.rx, c->ch.tx);
out:
	free(reply);
	return err;
}

/* ["ok", region, wall clock]: the peer's clock against ours at the middle of the round trip
 * (a server before this field sends none). */
static hm_err client_clock(client *c, const parsed *p, uint64_t sent_ms)
{
	uint64_t server_ms, mid;
	hm_err err;

	if (p->n < 3 || !hm_sess_get_uint(&p->a[2], &server_ms))
		return HM_OK;
	mid = sent_ms + (hm_node_now_ms(c->node) - sent_ms) / 2;
	c->st->clock_known = true;
	c->st->clock_offset_ms = (int64_t)(server_ms - mid);
	if ((err = hm_node_clock_note(c->node, &c->st->peer.id, c->st->clock_offset_ms)))
		return hm_sync_fail(err, "%s", hm_sess_node_why(c->node, err));
	return HM_OK;
}

/* ["auth", chain, signature over T2]: the client's certified key, answered "ok". */
static hm_err client_auth(client *c, const hm_hash *t1, const hm_signature *ssig)
{
	uint8_t chain[HM_CHAIN_MAX], *plain = NULL;
	size_t cl, pn = 0;
	hm_hash t2;
	hm_signature csig;
	uint64_t sent_ms;
	body b;
	parsed p;
	hm_err err;

	hm_sess_transcript2(t1, ssig, &t2);
	if ((err = hm_node_sign(c->node, &t2, &csig)) ||
	    (err = hm_node_chain(c->node, chain, sizeof(chain), &cl)))
		return err;
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 3);
	hm_sess_pack_str(&b.pk, "auth");
	hm_sess_pack_bin(&b.pk, chain, cl);
	hm_sess_pack_bin(&b.pk, csig.b, HM_SIGNATURE_BYTES);
	sent_ms = hm_node_now_ms(c->node);
	if ((err = call(c, &b, &p, &plain, &pn)))
		goto out;
	if (!hm_sess_is_verb(&p, "ok"))
		err = hm_sync_fail(HM_ERR_CORRUPT, "the peer did not accept the session");
	else
		err = client_clock(c, &p, sent_ms);
out:
	call_done(&p, plain, pn);
	return err;
}

static hm_err client_handshake(client *c)
{
	hm_kx kx;
	hm_hash t1;
	hm_signature ssig;
	hm_err err;

	if ((err = hm_kx_init(&kx)))
		return err;
	if (!(err = client_hello(c, &kx, &t1, &ssig)))
		err = client_auth(c, &t1, &ssig);
	hm_kx_release(&kx);
	return err;
}

static hm_err client_vv(client *c, hm_vv *peer_vv)
{
	body b;
	parsed p;
	uint8_t *plain;
	size_t pn = 0;
	hm_err err;

	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	hm_sess_pack_str(&b.pk, "vv");
	msgpack_pack_uint64(&b.pk, hm_node_now_ms(c->node)); /* our wall clock, for the server */
	if (!(err = call(c, &b, &p, &plain, &pn)) &&
	    (!hm_sess_is_verb(&p, "vv") || p.n != 2 || (err = hm_sess_parse_vv(&p.a[1], peer_vv))))
		err =
		    err == HM_ERR_NOMEM
		        ? hm_sync_fail(err, "reading the peer's version vector: out of memory")
		        : hm_sync_fail(HM_ERR_CORRUPT, "a malformed version vector from the peer");
	call_done(&p, plain, pn);
	return err;
}

/* Push what the peer lacks and may hold, batch by batch, each acknowledged after its commit. */
static hm_err client_push(client *c, hm_vv *peer_vv, const hm_sync_opts *o)
{
	uint64_t todo =
	    o->progress ? hm_sess_count_visible(c->node, peer_vv, c->st->peer.region) : 0;

	while (1) {
		batcher bt;
		body b;
		parsed p;
		uint8_t *plain;
		size_t pn = 0;
		hm_err err =
		    hm_sess_next_batch(c->node, peer_vv, c->st->peer.region, c->ln.batch, &bt);

		if (err || bt.ncopies == 0) {
			hm_sess_batcher_release(&bt);
			return err;
		}
		hm_sess_body_init(&b);
		msgpack_pack_array(&b.pk, 2);
		hm_sess_pack_str(&b.pk, "push");
		msgpack_pack_array(&b.pk, bt.ncopies);
		for (size_t i = 0; i < bt.ncopies; i++)
			hm_sess_pack_bin(&b.pk, bt.list[i].p, bt.list[i].n);
		err = call(c, &b, &p, &plain, &pn);
		if (!err && (!hm_sess_is_verb(&p, "ack") || p.n != 7))
			err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed acknowledgement");
		if (!err) {
			uint64_t v[6] = {0};
			for (int i = 0; i < 6; i++)
				hm_sess_get_uint(&p.a[1 + i], &v[i]);
			c->st->remote.new_ += v[0], c->st->remote.duplicate += v[1];
			c->st->remote.pending += v[2], c->st->remote.refused += v[3];
			c->st->remote.quarantined += v[4], c->st->remote.forks += v[5];
			c->st->sent += bt.ncopies;
			todo -= bt.ncopies < todo ? bt.ncopies : todo;
			if (o->progress)
				o->progress(o->progress_ctx, c->st, (size_t)todo);
			/* What was sent is now the peer's: advance our view of its vector. */
			for (size_t i = 0; i < bt.ncopies; i++) {
				hm_changeset_view view;
				if (hm_envelope_peek(bt.list[i].p, bt.list[i].n, &view) == HM_OK)
					hm_sess_vv_advance(peer_vv, &view.origin, view.seq);
			}
		}
		call_done(&p, plain, pn);
		bool more = bt.full;
		hm_sess_batcher_release(&bt);
		if (err)
			return err;
		if (!more)
			return HM_OK;
	}
}

static hm_err client_pull(client *c, const hm_sync_opts *o)
{
	while (1) {
		hm_vv mine;
		body b;
		parsed p;
		uint8_t *plain;
		size_t pn = 0;
		bool more = false;
		uint64_t remaining = 0;
		hm_err err;

		if ((err = hm_node_version_vector(c->node, &mine)))
			return hm_sync_fail(err, "%s", hm_sess_node_why(c->node, err));
		hm_sess_body_init(&b);
		msgpack_pack_array(&b.pk, 3);
		hm_sess_pack_str(&b.pk, "pull");
		hm_sess_pack_vv(&b.pk, &mine);
		msgpack_pack_uint64(&b.pk, c->ln.batch);
		c->ln.expect = c->ln.batch; /* the reply: a batch of at most that */
		hm_vv_release(&mine);
		err = call(c, &b, &p, &plain, &pn);
		if (!err &&
		    (!hm_sess_is_verb(&p, "cs") || p.n < 3 || p.n > 4 ||
		     p.a[1].type != MSGPACK_OBJECT_ARRAY || p.a[2].type != MSGPACK_OBJECT_BOOLEAN))
			err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed batch of change sets");
		if (!err) {
			const msgpack_object *list = &p.a[1];
			hm_bytes *envs = list->via.array.size
			                     ? calloc(list->via.array.size, sizeof(*envs))
			                     : NULL;
			size_t n = 0;
			more = p.a[2].via.boolean;
			if (p.n == 4 && !hm_sess_get_uint(&p.a[3], &remaining))
				remaining = 0;
			if (list->via.array.size && !envs)
				err = HM_ERR_NOMEM;
			for (uint32_t i = 0; !err && i < list->via.array.size; i++) {
				hm_changeset_view view;
				if (!hm_sess_get_bin(&list->via.array.ptr[i], &envs[n].p,
				                     &envs[n].n)) {
					err =
					    hm_sync_fail(HM_ERR_CORRUPT, "a malformed change set");
					continue;
				}
				/* A peer that sends what we may not hold (another village's
				 * records) is not obeyed: dropped, counted as refused. */
				if (hm_envelope_peek(envs[n].p, envs[n].n, &view) == HM_OK &&
				    !hm_region_visible(c->region, view.region)) {
					c->st->applied.refused++;
					continue;
				}
				n++;
			}
			/* Durable before the next pull asks for more. */
			if (!err && n &&
			    (err = hm_sess_apply_capped(c->node, envs, n, &c->st->applied)))
				hm_sync_fail(err, "applying: %s", hm_sess_node_why(c->node, err));
			if (!err)
				c->st->received += n;
			free(envs);
			if (!err && n == 0)
				more = false;
		}
		call_done(&p, plain, pn);
		if (err)
			return err;
		if (o->progress)
			o->progress(o->progress_ctx, c->st, (size_t)remaining);
		if (!more)
			return HM_OK;
	}
}

static void client_bye(client *c)
{
	body b;
	parsed p;
	uint8_t *plain;
	size_t pn = 0;

	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 1);
	hm_sess_pack_str(&b.pk, "bye");
	if (call(c, &b, &p, &plain, &pn) == HM_OK)
		(void)hm_sess_is_verb(&p, "bye");
	call_done(&p, plain, pn);
}

/* The peer's claims on this node's own logs (hm_node_note_peer_vv), and dropping them once a
 * full sync has ended; a store fault is the sync's, with the node's words. */
static hm_err note_peer(hm_node *node, const hm_node_id *peer, const hm_vv *vv)
{
	hm_err err = hm_node_note_peer_vv(node, peer, vv, NULL);
	return err ? hm_sync_fail(err, "%s", hm_sess_node_why(node, err)) : HM_OK;
}

static hm_err peer_synced(hm_node *node, const hm_node_id *peer)
{
	hm_err err = hm_node_peer_synced(node, peer);
	return err ? hm_sync_fail(err, "%s", hm_sess_node_why(node, err)) : HM_OK;
}

/* The start of every session as a client (a sync, a probe): our identity checked, the
 * handshake, the peer's version vector into *peer_vv (the caller releases it, also on failure),
 * the peer noted. */
static hm_err client_begin(client *c, const hm_sync_opts *o, hm_vv *peer_vv)
{
	hm_node_info info;
	hm_err err;

	memset(c->st, 0, sizeof(*c->st));
	link_init(&c->ln, o, c->t);
	hm_node_ident(c->node, &info);
	if (!info.trust || !info.enrolled)
		return hm_sync_fail(HM_ERR_CRYPTO, "only an enrolled node with keys can sync");
	snprintf(c->region, sizeof(c->region), "%s", info.region);
	if ((err = client_handshake(c)) || (err = client_vv(c, peer_vv)))
		return err;
	return note_peer(c->node, &c->st->peer.id, peer_vv);
}

hm_err hm_sync_run(hm_node *node, hm_transport *t, const hm_sync_opts *opts, hm_sync_stats *st)
{
	hm_sync_opts o = opts ? *opts : (hm_sync_opts){0};
	hm_sync_stats local;
	client c = {
	    node, t, {{0}}, o.timeout_ms ? o.timeout_ms : TIMEOUT_DEFAULT, st ? st : &local};
	hm_vv peer_vv = {0};
	hm_err err;

	if ((err = client_begin(&c, &o, &peer_vv)) || (err = client_push(&c, &peer_vv, &o)))
		goto out;
	if (o.progress)
		o.progress(o.progress_ctx, c.st, 0);
	if ((err = client_pull(&c, &o)) || (err = peer_synced(node, &c.st->peer.id)))
		goto out;
	client_bye(&c);
out:
	hm_vv_release(&peer_vv);
	hm_sess_channel_wipe(&c.ch);
	return hm_sess_said(err);
}

hm_err hm_sync_probe(hm_node *node, hm_transport *t, const hm_sync_opts *opts, uint64_t *to_send,
                     uint64_t *to_receive, hm_sync_stats *st)
{
	hm_sync_opts o = opts ? *opts : (hm_sync_opts){0};
	hm_sync_stats local;
	/* A probe keeps to the caller's timeout (a page waits on it): the first reply is given no
	 * more for a connection slow to open. */
	hm_transport bounded = *t;
	client c = {
	    node, &bounded, {{0}}, o.timeout_ms ? o.timeout_ms : TIMEOUT_DEFAULT, st ? st : &local};
	hm_vv peer_vv = {0}, mine = {0};
	body b;
	parsed p;
	uint8_t *plain = NULL;
	size_t pn = 0;
	hm_err err;

	bounded.open_ms = 0;
	if ((err = client_begin(&c, &o, &peer_vv)))
		goto out;
	*to_send = hm_sess_count_visible(node, &peer_vv, c.st->peer.region);
	if ((err = hm_node_version_vector(node, &mine)))
		goto out;
	hm_sess_body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	hm_sess_pack_str(&b.pk, "count");
	hm_sess_pack_vv(&b.pk, &mine);
	if (!(err = call(&c, &b, &p, &plain, &pn)) &&
	    (!hm_sess_is_verb(&p, "count") || p.n != 2 || !hm_sess_get_uint(&p.a[1], to_receive)))
		err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed count from the peer");
	call_done(&p, plain, pn);
	if (!err)
		client_bye(&c);
out:
	hm_vv_release(&mine);
	hm_vv_release(&peer_vv);
	hm_sess_channel_wipe(&c.ch);
	return hm_sess_said(err);
}
