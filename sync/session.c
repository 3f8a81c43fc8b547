/*
 * session.c - sync sessions: the handshake, sealed frames, and the server's session table.
 * docs/protocol.md has every message.
 *
 * Every message is  type(1) session(16) body.
 *   'H' hello     client -> server, in clear: "HMSYNC01" min_version(2) max_version(2)
 *                 ephemeral X25519 key(32) nonce(32)
 *   'A' accept    server -> client, in clear: version(2) ephemeral key(32) nonce(32)
 *                 chain_len(2) chain signature(64): the server's certified key signs
 *                 T1 = BLAKE2b("hamlet-sync-v1" || hello || accept-without-signature)
 *   'S' sealed    either way: counter(8) XChaCha20-Poly1305(session key, msgpack body, nonce =
 *                 counter, ad = type || session || counter); counters start at 0 each way and
 *                 only go up, so a replayed or reordered frame is refused
 *   'E' error     server -> client, in clear: a reason
 * The first sealed request is ["auth", chain, signature]: the client's certified key signs
 * T2 = BLAKE2b(T1 || "client" || server signature). The server's ["ok", region, wall clock]
 * and the client's ["vv", wall clock] tell each side the other's clock (a missing one is
 * ignored): the client records the offset, and either side logs one beyond the drift bound. Session
 * keys come from the two ephemeral keys (crypto_kx), so a session's traffic stays secret even if a
 * node key leaks later; a replayed hello gets a fresh session, a replayed auth fails (it signed
 * another transcript).
 */
#include "sync_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#define HELLO_MAGIC "HMSYNC01"
#define SID_BYTES   16
#define HEAD_BYTES  (1 + SID_BYTES)
#define SEALED_HEAD (HEAD_BYTES + 8)
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
#define BATCH_DEFAULT     ((size_t)1 << 20)
#define TIMEOUT_DEFAULT   30000

static _Thread_local char errmsg[512];

const char *hm_sync_errmsg(void)
{
	return errmsg;
}

hm_err hm_sync_fail(hm_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* A session's error, with out of memory said: some allocations fail where no reason is set, and
 * an earlier reason (or none) would stand for them. */
static hm_err said(hm_err err)
{
	if (err == HM_ERR_NOMEM && !strstr(errmsg, "out of memory"))
		return hm_sync_fail(err, "out of memory");
	return err;
}

/* Why a node call failed, for a message: its own reason, or the error's name when it gave none.
 * Out of memory is said as such: a reason left from an earlier error must not stand for it. */
static const char *node_why(hm_node *node, hm_err err)
{
	const char *m = hm_node_errmsg(node);

	if (err == HM_ERR_NOMEM && !strstr(m, "out of memory"))
		return "out of memory";
	return m[0] ? m : hm_strerror(err);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- the keys and counters of one session ---- */

typedef struct channel {
	uint8_t sid[SID_BYTES];
	uint8_t rx[32], tx[32];
	uint64_t rx_next, tx_next;
} channel;

static void channel_wipe(channel *c)
{
	hm_wipe(c, sizeof(*c));
}

/* Seal body into a new 'S' message (owned by the caller). */
static hm_err seal(channel *c, const void *body, size_t n, uint8_t **out, size_t *out_len)
{
	uint8_t *m = malloc(SEALED_HEAD + n + 16);
	hm_err err;

	if (!m)
		return HM_ERR_NOMEM;
	m[0] = 'S';
	memcpy(m + 1, c->sid, SID_BYTES);
	put64(m + HEAD_BYTES, c->tx_next);
	if ((err = hm_aead_seal_n(m + SEALED_HEAD, c->tx, c->tx_next, body, n, m, SEALED_HEAD))) {
		free(m);
		return err;
	}
	c->tx_next++;
	*out = m;
	*out_len = SEALED_HEAD + n + 16;
	return HM_OK;
}

/* Open an 'S' message whose head was checked: its counter must be the next one. *body is
 * owned by the caller. */
static hm_err open_sealed(channel *c, const uint8_t *m, size_t n, uint8_t **body, size_t *len)
{
	uint64_t counter;
	uint8_t *b;

	if (n < SEALED_HEAD + 16)
		return hm_sync_fail(HM_ERR_TRUNCATED, "a sealed message is too short");
	counter = get64(m + HEAD_BYTES);
	if (counter != c->rx_next)
		return hm_sync_fail(
		    HM_ERR_CRYPTO,
		    "a message out of order or replayed (counter %llu, expected %llu)",
		    (unsigned long long)counter, (unsigned long long)c->rx_next);
	if (!(b = malloc(n - SEALED_HEAD - 16 + 1)))
		return HM_ERR_NOMEM;
	if (hm_aead_open_n(b, c->rx, counter, m + SEALED_HEAD, n - SEALED_HEAD, m, SEALED_HEAD)) {
		free(b);
		return hm_sync_fail(HM_ERR_CRYPTO,
		                    "a message does not decrypt: altered in transit");
	}
	c->rx_next++;
	*body = b;
	*len = n - SEALED_HEAD - 16;
	return HM_OK;
}

/* ---- msgpack bodies ---- */

/* A body being packed. msgpack-c's packer goes on after a write that found no memory, leaving
 * a hole in the message: failed remembers it, and such a body is never sent. */
typedef struct body {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool failed;
} body;

static int body_write(void *data, const char *buf, size_t len)
{
	body *b = data;

	if (msgpack_sbuffer_write(&b->sb, buf, len)) {
		b->failed = true;
		return -1;
	}
	return 0;
}

static void body_init(body *b)
{
	msgpack_sbuffer_init(&b->sb);
	b->failed = false;
	msgpack_packer_init(&b->pk, b, body_write);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

static void pack_vv(msgpack_packer *pk, const hm_vv *vv)
{
	msgpack_pack_array(pk, vv->n);
	for (size_t i = 0; i < vv->n; i++) {
		msgpack_pack_array(pk, 2);
		pack_bin(pk, vv->v[i].origin.b, HM_NODE_ID_BYTES);
		msgpack_pack_uint64(pk, vv->v[i].seq);
	}
}

/* A decoded body: checked against the caps first, then unpacked. Before a session is
 * authenticated the only request is ["auth", chain, signature]: three elements, so that nobody
 * makes the server allocate for a frame before proving who they are. */
#define UNAUTHED_OBJECTS 3
typedef struct parsed {
	msgpack_unpacked u;
	const msgpack_object *a; /* the array's items */
	uint32_t n;
} parsed;

static hm_err parse(const uint8_t *p, size_t n, uint64_t max_objects, parsed *out)
{
	size_t off = 0;
	msgpack_unpack_return rc;
	hm_err err;

	msgpack_unpacked_init(&out->u);
	if ((err = hm_msgpack_check(p, n, 6, max_objects)))
		return hm_sync_fail(err, "a message body is not well-formed msgpack");
	rc = msgpack_unpack_next(&out->u, (const char *)p, n, &off);
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
		return hm_sync_fail(HM_ERR_NOMEM, "decoding a message: out of memory");
	if (rc != MSGPACK_UNPACK_SUCCESS || out->u.data.type != MSGPACK_OBJECT_ARRAY ||
	    out->u.data.via.array.size == 0 ||
	    out->u.data.via.array.ptr[0].type != MSGPACK_OBJECT_STR)
		return hm_sync_fail(HM_ERR_CORRUPT, "a message body is not [verb, ...]");
	out->a = out->u.data.via.array.ptr;
	out->n = out->u.data.via.array.size;
	return HM_OK;
}

static bool is_verb(const parsed *p, const char *verb)
{
	size_t n = strlen(verb);
	return p->a[0].via.str.size == n && memcmp(p->a[0].via.str.ptr, verb, n) == 0;
}

static bool get_bin(const msgpack_object *o, const uint8_t **p, size_t *n)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return false;
	*p = (const uint8_t *)o->via.bin.ptr;
	*n = o->via.bin.size;
	return true;
}

static bool get_uint(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*v = o->via.u64;
	return true;
}

static hm_err parse_vv(const msgpack_object *o, hm_vv *vv)
{
	vv->v = NULL, vv->n = 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return HM_ERR_CORRUPT;
	if (o->via.array.size && !(vv->v = calloc(o->via.array.size, sizeof(*vv->v))))
		return HM_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *e = &o->via.array.ptr[i];
		const uint8_t *b;
		size_t bn;
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    !get_bin(&e->via.array.ptr[0], &b, &bn) || bn != HM_NODE_ID_BYTES ||
		    !get_uint(&e->via.array.ptr[1], &vv->v[i].seq)) {
			hm_vv_release(vv);
			return HM_ERR_CORRUPT;
		}
		memcpy(vv->v[i].origin.b, b, HM_NODE_ID_BYTES);
		vv->n++;
	}
	return HM_OK;
}

/* Raise vv's entry for origin to seq (adding it). Best effort: on no memory the next batch
 * merely starts lower, and duplicates are no-ops. */
static void vv_advance(hm_vv *vv, const hm_node_id *origin, uint64_t seq)
{
	hm_vv_entry *grown;

	for (size_t i = 0; i < vv->n; i++)
		if (memcmp(vv->v[i].origin.b, origin->b, HM_NODE_ID_BYTES) == 0) {
			if (seq > vv->v[i].seq)
				vv->v[i].seq = seq;
			return;
		}
	if (!(grown = realloc(vv->v, (vv->n + 1) * sizeof(*grown))))
		return;
	vv->v = grown;
	memset(&vv->v[vv->n], 0, sizeof(vv->v[0]));
	vv->v[vv->n].origin = *origin;
	vv->v[vv->n].seq = seq;
	vv->n++;
}

/* ---- what to send: change sets the other side lacks and may hold ---- */

typedef struct batcher {
	const char *holder; /* the receiver's region */
	size_t max_bytes, bytes, count, skipped;
	body b;
	size_t items_at; /* where the array header goes */
	hm_bytes *list;  /* envelopes collected (borrowed copies in b) */
	bool full;
	bool nomem; /* stopped for want of memory: the batch is not whole */
	uint8_t **copies;
	size_t ncopies, cap;
} batcher;

static int batch_one(void *ctx, const hm_changeset_view *cs)
{
	batcher *bt = ctx;
	uint8_t *copy;

	if (!hm_region_visible(bt->holder, cs->region)) {
		bt->skipped++;
		return 0; /* not for this receiver: it never sees another village's records */
	}
	if (bt->count && bt->bytes + cs->envelope.n > bt->max_bytes) {
		bt->full = true;
		return 1;
	}
	if (bt->ncopies == bt->cap) {
		size_t cap = bt->cap ? bt->cap * 2 : 64;
		uint8_t **p = realloc(bt->copies, cap * sizeof(*p));
		hm_bytes *l = realloc(bt->list, cap * sizeof(*l));
		if (p)
			bt->copies = p;
		if (l)
			bt->list = l;
		if (!p || !l) {
			bt->nomem = true;
			return 1;
		}
		bt->cap = cap;
	}
	if (!(copy = malloc(cs->envelope.n))) {
		bt->nomem = true;
		return 1;
	}
	memcpy(copy, cs->envelope.p, cs->envelope.n);
	bt->copies[bt->ncopies] = copy;
	bt->list[bt->ncopies].p = copy;
	bt->list[bt->ncopies].n = cs->envelope.n;
	bt->ncopies++;
	bt->bytes += cs->envelope.n;
	bt->count++;
	return 0;
}

static void batcher_release(batcher *bt)
{
	for (size_t i = 0; i < bt->ncopies; i++)
		free(bt->copies[i]);
	free(bt->copies);
	free(bt->list);
	memset(bt, 0, sizeof(*bt));
}

typedef struct counter {
	const char *holder;
	uint64_t n;
} counter;

static int count_one(void *ctx, const hm_changeset_view *cs)
{
	counter *k = ctx;
	k->n += hm_region_visible(k->holder, cs->region);
	return 0;
}

/* How many change sets beyond since a node of holder's region may receive (for time left). */
static uint64_t count_visible(hm_node *node, const hm_vv *since, const char *holder)
{
	counter k = {holder, 0};
	return hm_node_changesets(node, since, count_one, &k) ? 0 : k.n;
}

/* Apply envs in transactions of at most APPLY_OPS operations (a change set is never split), so
 * what one transaction dirties, and so a node's memory, stays bounded however large the batch
 * or the ledger: a village machine has little. Each transaction is durable on its own. */
#define APPLY_OPS 1024

static hm_err apply_capped(hm_node *node, const hm_bytes *envs, size_t n, hm_apply_stats *st)
{
	size_t from = 0;

	while (from < n) {
		size_t to = from, ops = 0;
		hm_err err;
		while (to < n) {
			hm_changeset_view v;
			size_t k =
			    hm_envelope_peek(envs[to].p, envs[to].n, &v) == HM_OK ? v.nops : 1;
			if (to > from && ops + k > APPLY_OPS)
				break;
			ops += k, to++;
		}
		if ((err = hm_node_apply(node, envs + from, to - from, st, NULL)))
			return err;
		from = to;
	}
	return HM_OK;
}

/* The next batch beyond since, visible to holder, at most max bytes (at least one). */
static hm_err next_batch(hm_node *node, const hm_vv *since, const char *holder, size_t max,
                         batcher *bt)
{
	hm_err err;

	memset(bt, 0, sizeof(*bt));
	bt->holder = holder;
	bt->max_bytes = max;
	if ((err = hm_node_changesets(node, since, batch_one, bt)) ||
	    (!bt->full && !bt->nomem && (err = hm_node_fork_proofs(node, since, batch_one, bt))))
		return hm_sync_fail(err, "reading change sets: %s", node_why(node, err));
	if (bt->nomem)
		return hm_sync_fail(HM_ERR_NOMEM, "collecting change sets to send: out of memory");
	return HM_OK;
}

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
		channel_wipe(&s->sessions[i].ch);
	for (int i = 0; i < HANDSHAKES_MAX; i++)
		channel_wipe(&s->handshakes[i].ch);
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
	channel_wipe(&x->ch);
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

static void transcript1(const uint8_t *hello, size_t hn, const uint8_t *accept, size_t an,
                        hm_hash *t1)
{
	hm_hash_state st;
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-sync-v1", 14);
	hm_hash_update(&st, hello, hn);
	hm_hash_update(&st, accept, an);
	hm_hash_final(&st, t1);
}

static void transcript2(const hm_hash *t1, const hm_signature *server_sig, hm_hash *t2)
{
	hm_hash_state st;
	hm_hash_init(&st);
	hm_hash_update(&st, t1->b, HM_HASH_BYTES);
	hm_hash_update(&st, "client", 6);
	hm_hash_update(&st, server_sig->b, HM_SIGNATURE_BYTES);
	hm_hash_final(&st, t2);
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
		transcript1(m, n, head, HEAD_BYTES + an, &x->t1);
	}
	if (hm_kx_session(&kx, h + 12, 0, x->ch.rx, x->ch.tx)) {
		/* A key of low order gives no session key: the client's fault, not the server's. */
		channel_wipe(&x->ch);
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
		channel_wipe(&x->ch);
	return err;
}

static hm_err sealed_reply(session *x, body *b, uint8_t **out, size_t *ol)
{
	hm_err err = b->failed ? HM_ERR_NOMEM : seal(&x->ch, b->sb.data, b->sb.size, out, ol);
	msgpack_sbuffer_destroy(&b->sb);
	return err;
}

static hm_err sealed_error(session *x, const char *why, uint8_t **out, size_t *ol)
{
	body b;
	body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_str(&b.pk, "err");
	pack_str(&b.pk, why);
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

	if (p->n != 3 || !get_bin(&p->a[1], &chain, &cl) || !get_bin(&p->a[2], &sigp, &sl) ||
	    sl != HM_SIGNATURE_BYTES)
		return sealed_error(x, "malformed auth", out, ol);
	memcpy(sig.b, sigp, sl);
	transcript2(&x->t1, &x->server_sig, &t2);
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
	body_init(&b);
	msgpack_pack_array(&b.pk, 3);
	pack_str(&b.pk, "ok");
	pack_str(&b.pk, s->info.region);
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
	if (p->n >= 2 && get_uint(&p->a[1], &client_ms))
		hm_node_clock_check_peer(s->node, &x->peer.id,
		                         (int64_t)(client_ms - hm_node_now_ms(s->node)));

	if ((err = hm_node_version_vector(s->node, &vv)))
		return sealed_error(x, node_why(s->node, err), out, ol);
	body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_str(&b.pk, "vv");
	pack_vv(&b.pk, &vv);
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
		if (!get_bin(&list->via.array.ptr[i], &e, &en)) {
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
	err = n ? apply_capped(s->node, envs, n, &st) : HM_OK;
	free(envs);
	if (err)
		return sealed_error(x, node_why(s->node, err), out, ol);
	st.refused += skipped;
	body_init(&b);
	msgpack_pack_array(&b.pk, 7); /* acknowledged after the durable commit above */
	pack_str(&b.pk, "ack");
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
	if (p->n != 3 || (err = parse_vv(&p->a[1], &since)))
		return sealed_error(x, err == HM_ERR_NOMEM ? "out of memory" : "malformed pull",
		                    out, ol);
	if (!get_uint(&p->a[2], &max)) {
		hm_vv_release(&since);
		return sealed_error(x, "malformed pull", out, ol);
	}

	if (max > (8u << 20))
		max = 8u << 20;
	if (!x->counted) { /* once a session: later pulls count down */
		x->remaining = count_visible(s->node, &since, x->peer.region);
		x->counted = true;
	}
	err = next_batch(s->node, &since, x->peer.region, (size_t)max, &bt);
	hm_vv_release(&since);
	if (err) {
		batcher_release(&bt);
		return sealed_error(x, hm_sync_errmsg(), out, ol);
	}
	x->remaining -= bt.ncopies < x->remaining ? bt.ncopies : x->remaining;
	body_init(&b);
	msgpack_pack_array(&b.pk, 4);
	pack_str(&b.pk, "cs");
	msgpack_pack_array(&b.pk, bt.ncopies);
	for (size_t i = 0; i < bt.ncopies; i++)
		pack_bin(&b.pk, bt.list[i].p, bt.list[i].n);
	if (bt.full)
		msgpack_pack_true(&b.pk);
	else
		msgpack_pack_false(&b.pk);
	msgpack_pack_uint64(&b.pk, x->remaining);
	batcher_release(&bt);
	return sealed_reply(x, &b, out, ol);
}

/* ["count", vv]: how many change sets beyond vv the client may receive, without sending them. */
static hm_err server_count(hm_server *s, session *x, const parsed *p, uint8_t **out, size_t *ol)
{
	hm_vv since;
	uint64_t n;
	body b;

	hm_err err = HM_ERR_CORRUPT;

	if (p->n != 2 || (err = parse_vv(&p->a[1], &since)))
		return sealed_error(x, err == HM_ERR_NOMEM ? "out of memory" : "malformed count",
		                    out, ol);
	n = count_visible(s->node, &since, x->peer.region);
	hm_vv_release(&since);
	body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_str(&b.pk, "count");
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
	if ((err = open_sealed(&x->ch, m, n, &plain, &pn))) {
		/* A frame that does not open ends the session: its keys are not to be probed. */
		session_drop(x);
		return err == HM_ERR_NOMEM ? err : reply_error(hm_sync_errmsg(), out, ol);
	}
	x->last = time(NULL);
	err = parse(plain, pn, x->authed ? UINT64_MAX : UNAUTHED_OBJECTS, &p);
	if (err)
		err = sealed_error(x, hm_sync_errmsg(), out, ol);
	else if (!x->authed)
		err = is_verb(&p, "auth") ? server_auth(s, x, &p, out, ol)
		                          : sealed_error(x, "authenticate first", out, ol);
	else if (is_verb(&p, "vv"))
		err = server_vv(s, x, &p, out, ol);
	else if (is_verb(&p, "push"))
		err = server_push(s, x, &p, out, ol);
	else if (is_verb(&p, "pull"))
		err = server_pull(s, x, &p, out, ol);
	else if (is_verb(&p, "count"))
		err = server_count(s, x, &p, out, ol);
	else if (is_verb(&p, "bye")) {
		body b;
		body_init(&b);
		msgpack_pack_array(&b.pk, 1);
		pack_str(&b.pk, "bye");
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

hm_err hm_server_serve(hm_server *s, hm_transport *t, volatile int *stop, void (*tick)(void *),
                       void *tick_ctx, int tick_ms)
{
	while (!*stop) {
		uint8_t *req = NULL, *reply = NULL;
		size_t n, rn;
		hm_err err = t->recv(t->ctx, &req, &n, tick_ms > 0 ? tick_ms : 1000);

		if (err == HM_ERR_BUSY) { /* a quiet moment */
			if (tick)
				tick(tick_ctx);
			continue;
		}
		if (err) {
			if (*stop)
				break;
			return hm_sync_fail(err, "receiving: %s", t->why(t->ctx));
		}
		err = hm_server_handle(s, req, n, &reply, &rn);
		t->free_msg(t->ctx, req);
		if (err) {
			free(reply);
			return hm_sync_fail(err, "answering: %s", hm_strerror(err));
		}
		err = t->send(t->ctx, reply, rn, 5000);
		free(reply);
		if (err && err != HM_ERR_BUSY)
			return hm_sync_fail(err, "replying: %s", t->why(t->ctx));
		if (tick)
			tick(tick_ctx);
	}
	return HM_OK;
}

/* ---- the client ---- */

/* The link as the client measures it. A batch is sized to take about BATCH_TARGET_MS (or three
 * round trips, if longer) at the measured rate, so a 9.6 kbit/s link moves a few KB at a time
 * and a LAN a megabyte; it grows at most fourfold from one batch to the next. A message's
 * timeout is TIMEOUT_FACTOR times what it should take, plus TIMEOUT_SLACK_MS for TCP to recover
 * a lost segment, and never less than the caller's timeout. */
#define BATCH_MIN        ((size_t)2 << 10)
#define BATCH_TARGET_MS  3000.0
#define TIMEOUT_FACTOR   4.0
#define TIMEOUT_SLACK_MS 2000.0
#define TIMEOUT_MAX_MS   600000.0
#define RATE_SAMPLE_MIN  ((size_t)4 << 10) /* smaller messages measure the round trip only */

typedef struct link_est {
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

static void link_init(link_est *l, const hm_sync_opts *o)
{
	memset(l, 0, sizeof(*l));
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
		return c->timeout;
	ms = TIMEOUT_FACTOR * (l->rtt_ms + (double)bytes * 1000.0 / l->rate) + TIMEOUT_SLACK_MS;
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
	                       : seal(&c->ch, b->sb.data, b->sb.size, &req, &qn);

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
	if ((err = open_sealed(&c->ch, reply, rn, plain, pn)))
		goto out;
	msgpack_unpacked_destroy(&p->u);
	if ((err = parse(*plain, *pn, UINT64_MAX, p)))
		goto out;
	if (is_verb(p, "err")) {
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

static hm_err client_handshake(client *c)
{
	uint8_t hello[HEAD_BYTES + 8 + 4 + 32 + 32], *reply = NULL, chain[HM_CHAIN_MAX];
	size_t rn, cl, acl;
	hm_kx kx;
	hm_hash t1, t2;
	hm_signature ssig, csig;
	const uint8_t *a;
	body b;
	parsed p;
	uint8_t *plain = NULL;
	size_t pn = 0;
	unsigned version;
	uint64_t sent_ms, server_ms;
	hm_err err;

	if ((err = hm_kx_init(&kx)))
		return err;
	hello[0] = 'H';
	memset(hello + 1, 0, SID_BYTES);
	memcpy(hello + HEAD_BYTES, HELLO_MAGIC, 8);
	put16(hello + HEAD_BYTES + 8, HM_PROTOCOL_MIN);
	put16(hello + HEAD_BYTES + 10, HM_PROTOCOL_VERSION);
	memcpy(hello + HEAD_BYTES + 12, kx.pub, 32);
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
	transcript1(hello, sizeof(hello), reply, rn - HM_SIGNATURE_BYTES, &t1);
	memcpy(ssig.b, reply + rn - HM_SIGNATURE_BYTES, HM_SIGNATURE_BYTES);
	if (hm_node_verify_peer(c->node, a + 68, acl, &t1, &ssig, &c->st->peer)) {
		err = hm_sync_fail(HM_ERR_CRYPTO, "the server is not trusted: %s",
		                   hm_node_errmsg(c->node));
		goto out;
	}
	if ((err = hm_kx_session(&kx, a + 2, 1, c->ch.rx, c->ch.tx)))
		goto out;
	transcript2(&t1, &ssig, &t2);
	if ((err = hm_node_sign(c->node, &t2, &csig)) ||
	    (err = hm_node_chain(c->node, chain, sizeof(chain), &cl)))
		goto out;
	body_init(&b);
	msgpack_pack_array(&b.pk, 3);
	pack_str(&b.pk, "auth");
	pack_bin(&b.pk, chain, cl);
	pack_bin(&b.pk, csig.b, HM_SIGNATURE_BYTES);
	sent_ms = hm_node_now_ms(c->node);
	if ((err = call(c, &b, &p, &plain, &pn)))
		goto done;
	if (!is_verb(&p, "ok")) {
		err = hm_sync_fail(HM_ERR_CORRUPT, "the peer did not accept the session");
		goto done;
	}
	/* ["ok", region, wall clock]: the peer's clock against ours at the middle of the round
	 * trip (a server before this field sends none). */
	if (p.n >= 3 && get_uint(&p.a[2], &server_ms)) {
		uint64_t mid = sent_ms + (hm_node_now_ms(c->node) - sent_ms) / 2;
		c->st->clock_known = true;
		c->st->clock_offset_ms = (int64_t)(server_ms - mid);
		if ((err = hm_node_clock_note(c->node, &c->st->peer.id, c->st->clock_offset_ms)))
			err = hm_sync_fail(err, "%s", node_why(c->node, err));
	}
done:
	call_done(&p, plain, pn);
out:
	hm_kx_release(&kx);
	free(reply);
	return err;
}

static hm_err client_vv(client *c, hm_vv *peer_vv)
{
	body b;
	parsed p;
	uint8_t *plain;
	size_t pn = 0;
	hm_err err;

	body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_str(&b.pk, "vv");
	msgpack_pack_uint64(&b.pk, hm_node_now_ms(c->node)); /* our wall clock, for the server */
	if (!(err = call(c, &b, &p, &plain, &pn)) &&
	    (!is_verb(&p, "vv") || p.n != 2 || (err = parse_vv(&p.a[1], peer_vv))))
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
	uint64_t todo = o->progress ? count_visible(c->node, peer_vv, c->st->peer.region) : 0;

	while (1) {
		batcher bt;
		body b;
		parsed p;
		uint8_t *plain;
		size_t pn = 0;
		hm_err err = next_batch(c->node, peer_vv, c->st->peer.region, c->ln.batch, &bt);

		if (err || bt.ncopies == 0) {
			batcher_release(&bt);
			return err;
		}
		body_init(&b);
		msgpack_pack_array(&b.pk, 2);
		pack_str(&b.pk, "push");
		msgpack_pack_array(&b.pk, bt.ncopies);
		for (size_t i = 0; i < bt.ncopies; i++)
			pack_bin(&b.pk, bt.list[i].p, bt.list[i].n);
		err = call(c, &b, &p, &plain, &pn);
		if (!err && (!is_verb(&p, "ack") || p.n != 7))
			err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed acknowledgement");
		if (!err) {
			uint64_t v[6] = {0};
			for (int i = 0; i < 6; i++)
				get_uint(&p.a[1 + i], &v[i]);
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
					vv_advance(peer_vv, &view.origin, view.seq);
			}
		}
		call_done(&p, plain, pn);
		bool more = bt.full;
		batcher_release(&bt);
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
			return hm_sync_fail(err, "%s", node_why(c->node, err));
		body_init(&b);
		msgpack_pack_array(&b.pk, 3);
		pack_str(&b.pk, "pull");
		pack_vv(&b.pk, &mine);
		msgpack_pack_uint64(&b.pk, c->ln.batch);
		c->ln.expect = c->ln.batch; /* the reply: a batch of at most that */
		hm_vv_release(&mine);
		err = call(c, &b, &p, &plain, &pn);
		if (!err &&
		    (!is_verb(&p, "cs") || p.n < 3 || p.n > 4 ||
		     p.a[1].type != MSGPACK_OBJECT_ARRAY || p.a[2].type != MSGPACK_OBJECT_BOOLEAN))
			err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed batch of change sets");
		if (!err) {
			const msgpack_object *list = &p.a[1];
			hm_bytes *envs = list->via.array.size
			                     ? calloc(list->via.array.size, sizeof(*envs))
			                     : NULL;
			size_t n = 0;
			more = p.a[2].via.boolean;
			if (p.n == 4 && !get_uint(&p.a[3], &remaining))
				remaining = 0;
			if (list->via.array.size && !envs)
				err = HM_ERR_NOMEM;
			for (uint32_t i = 0; !err && i < list->via.array.size; i++) {
				hm_changeset_view view;
				if (!get_bin(&list->via.array.ptr[i], &envs[n].p, &envs[n].n)) {
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
			if (!err && n && (err = apply_capped(c->node, envs, n, &c->st->applied)))
				hm_sync_fail(err, "applying: %s", node_why(c->node, err));
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

	body_init(&b);
	msgpack_pack_array(&b.pk, 1);
	pack_str(&b.pk, "bye");
	if (call(c, &b, &p, &plain, &pn) == HM_OK)
		(void)is_verb(&p, "bye");
	call_done(&p, plain, pn);
}

/* The peer's claims on this node's own logs (hm_node_note_peer_vv), and dropping them once a
 * full sync has ended; a store fault is the sync's, with the node's words. */
static hm_err note_peer(hm_node *node, const hm_node_id *peer, const hm_vv *vv)
{
	hm_err err = hm_node_note_peer_vv(node, peer, vv, NULL);
	return err ? hm_sync_fail(err, "%s", node_why(node, err)) : HM_OK;
}

static hm_err peer_synced(hm_node *node, const hm_node_id *peer)
{
	hm_err err = hm_node_peer_synced(node, peer);
	return err ? hm_sync_fail(err, "%s", node_why(node, err)) : HM_OK;
}

hm_err hm_sync_run(hm_node *node, hm_transport *t, const hm_sync_opts *opts, hm_sync_stats *st)
{
	hm_sync_opts o = opts ? *opts : (hm_sync_opts){0};
	hm_sync_stats local;
	client c = {
	    node, t, {{0}}, o.timeout_ms ? o.timeout_ms : TIMEOUT_DEFAULT, st ? st : &local};
	hm_vv peer_vv = {0};
	hm_node_info info;
	hm_err err;

	memset(c.st, 0, sizeof(*c.st));
	link_init(&c.ln, &o);
	hm_node_ident(node, &info);
	if (!info.trust || !info.enrolled)
		return hm_sync_fail(HM_ERR_CRYPTO, "only an enrolled node with keys can sync");
	snprintf(c.region, sizeof(c.region), "%s", info.region);
	if ((err = client_handshake(&c)) || (err = client_vv(&c, &peer_vv)) ||
	    (err = note_peer(node, &c.st->peer.id, &peer_vv)) ||
	    (err = client_push(&c, &peer_vv, &o)))
		goto out;
	if (o.progress)
		o.progress(o.progress_ctx, c.st, 0);
	if ((err = client_pull(&c, &o)) || (err = peer_synced(node, &c.st->peer.id)))
		goto out;
	client_bye(&c);
out:
	hm_vv_release(&peer_vv);
	channel_wipe(&c.ch);
	return said(err);
}

hm_err hm_sync_probe(hm_node *node, hm_transport *t, const hm_sync_opts *opts, uint64_t *to_send,
                     uint64_t *to_receive, hm_sync_stats *st)
{
	hm_sync_opts o = opts ? *opts : (hm_sync_opts){0};
	hm_sync_stats local;
	client c = {
	    node, t, {{0}}, o.timeout_ms ? o.timeout_ms : TIMEOUT_DEFAULT, st ? st : &local};
	hm_vv peer_vv = {0}, mine = {0};
	hm_node_info info;
	body b;
	parsed p;
	uint8_t *plain = NULL;
	size_t pn = 0;
	hm_err err;

	memset(c.st, 0, sizeof(*c.st));
	link_init(&c.ln, &o);
	hm_node_ident(node, &info);
	if (!info.trust || !info.enrolled)
		return hm_sync_fail(HM_ERR_CRYPTO, "only an enrolled node with keys can sync");
	snprintf(c.region, sizeof(c.region), "%s", info.region);
	if ((err = client_handshake(&c)) || (err = client_vv(&c, &peer_vv)) ||
	    (err = note_peer(node, &c.st->peer.id, &peer_vv)))
		goto out;
	*to_send = count_visible(node, &peer_vv, c.st->peer.region);
	if ((err = hm_node_version_vector(node, &mine)))
		goto out;
	body_init(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_str(&b.pk, "count");
	pack_vv(&b.pk, &mine);
	if (!(err = call(&c, &b, &p, &plain, &pn)) &&
	    (!is_verb(&p, "count") || p.n != 2 || !get_uint(&p.a[1], to_receive)))
		err = hm_sync_fail(HM_ERR_CORRUPT, "a malformed count from the peer");
	call_done(&p, plain, pn);
	if (!err)
		client_bye(&c);
out:
	hm_vv_release(&mine);
	hm_vv_release(&peer_vv);
	channel_wipe(&c.ch);
	return said(err);
}
