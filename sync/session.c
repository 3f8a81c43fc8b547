/*
 * session.c - sync sessions, what both sides share: the messages, sealed frames, msgpack bodies,
 * the batches of change sets to send and the transcripts. The server is in server.c, the client
 * in client.c (session_int.h joins the three). docs/protocol.md has every message.
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
#include "session_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

static _Thread_local char errmsg[512];

const char *hm_sync_errmsg(void)
{
	return errmsg;
}

hm_err hm_sync_fail(hm_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), _(fmt), ap);
	va_end(ap);
	return err;
}

/* A session's error, with out of memory said: some allocations fail where no reason is set, and
 * an earlier reason (or none) would stand for them. */
hm_err hm_sess_said(hm_err err)
{
	if (err == HM_ERR_NOMEM && !strstr(errmsg, _("out of memory")))
		return hm_sync_fail(err, "out of memory");
	return err;
}

/* Why a node call failed, for a message: its own reason, or the error's name when it gave none.
 * Out of memory is said as such: a reason left from an earlier error must not stand for it. */
const char *hm_sess_node_why(hm_node *node, hm_err err)
{
	const char *m = hm_node_errmsg(node);

	if (err == HM_ERR_NOMEM && !strstr(m, _("out of memory")))
		return _("out of memory");
	return m[0] ? m : hm_strerror(err);
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

void hm_sess_channel_wipe(channel *c)
{
	hm_wipe(c, sizeof(*c));
}

/* Seal plain into a new 'S' message (owned by the caller). */
hm_err hm_sess_seal(channel *c, const void *plain, size_t n, uint8_t **out, size_t *out_len)
{
	uint8_t *m = malloc(SEALED_HEAD + n + 16);
	hm_err err;

	if (!m)
		return HM_ERR_NOMEM;
	m[0] = 'S';
	memcpy(m + 1, c->sid, SID_BYTES);
	put64(m + HEAD_BYTES, c->tx_next);
	if ((err = hm_aead_seal_n(m + SEALED_HEAD, c->tx, c->tx_next, plain, n, m, SEALED_HEAD))) {
		free(m);
		return err;
	}
	c->tx_next++;
	*out = m;
	*out_len = SEALED_HEAD + n + 16;
	return HM_OK;
}

/* Open an 'S' message whose head was checked: its counter must be the next one. *plain is
 * owned by the caller. */
hm_err hm_sess_open_sealed(channel *c, const uint8_t *m, size_t n, uint8_t **plain, size_t *len)
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
	*plain = b;
	*len = n - SEALED_HEAD - 16;
	return HM_OK;
}

/* ---- msgpack bodies ---- */

static int body_write(void *data, const char *buf, size_t len)
{
	body *b = data;

	if (msgpack_sbuffer_write(&b->sb, buf, len)) {
		b->failed = true;
		return -1;
	}
	return 0;
}

void hm_sess_body_init(body *b)
{
	msgpack_sbuffer_init(&b->sb);
	b->failed = false;
	msgpack_packer_init(&b->pk, b, body_write);
}

void hm_sess_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void hm_sess_pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

void hm_sess_pack_vv(msgpack_packer *pk, const hm_vv *vv)
{
	msgpack_pack_array(pk, vv->n);
	for (size_t i = 0; i < vv->n; i++) {
		msgpack_pack_array(pk, 2);
		hm_sess_pack_bin(pk, vv->v[i].origin.b, HM_NODE_ID_BYTES);
		msgpack_pack_uint64(pk, vv->v[i].seq);
	}
}

hm_err hm_sess_parse(const uint8_t *p, size_t n, uint64_t max_objects, parsed *out)
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

bool hm_sess_is_verb(const parsed *p, const char *verb)
{
	size_t n = strlen(verb);
	return p->a[0].via.str.size == n && memcmp(p->a[0].via.str.ptr, verb, n) == 0;
}

bool hm_sess_get_bin(const msgpack_object *o, const uint8_t **p, size_t *n)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return false;
	*p = (const uint8_t *)o->via.bin.ptr;
	*n = o->via.bin.size;
	return true;
}

bool hm_sess_get_uint(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*v = o->via.u64;
	return true;
}

hm_err hm_sess_parse_vv(const msgpack_object *o, hm_vv *vv)
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
		    !hm_sess_get_bin(&e->via.array.ptr[0], &b, &bn) || bn != HM_NODE_ID_BYTES ||
		    !hm_sess_get_uint(&e->via.array.ptr[1], &vv->v[i].seq)) {
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
void hm_sess_vv_advance(hm_vv *vv, const hm_node_id *origin, uint64_t seq)
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

void hm_sess_batcher_release(batcher *bt)
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
uint64_t hm_sess_count_visible(hm_node *node, const hm_vv *since, const char *holder)
{
	counter k = {holder, 0};
	return hm_node_changesets(node, since, count_one, &k) ? 0 : k.n;
}

/* Apply envs in transactions of at most APPLY_OPS operations (a change set is never split), so
 * what one transaction dirties, and so a node's memory, stays bounded however large the batch
 * or the ledger: a village machine has little. Each transaction is durable on its own. */
#define APPLY_OPS 1024

hm_err hm_sess_apply_capped(hm_node *node, const hm_bytes *envs, size_t n, hm_apply_stats *st)
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
hm_err hm_sess_next_batch(hm_node *node, const hm_vv *since, const char *holder, size_t max,
                          batcher *bt)
{
	hm_err err;

	memset(bt, 0, sizeof(*bt));
	bt->holder = holder;
	bt->max_bytes = max;
	if ((err = hm_node_changesets(node, since, batch_one, bt)) ||
	    (!bt->full && !bt->nomem && (err = hm_node_fork_proofs(node, since, batch_one, bt))))
		return hm_sync_fail(err, "reading change sets: %s", hm_sess_node_why(node, err));
	if (bt->nomem)
		return hm_sync_fail(HM_ERR_NOMEM, "collecting change sets to send: out of memory");
	return HM_OK;
}

/* ---- the transcripts both sides sign ---- */

void hm_sess_transcript1(const uint8_t *hello, size_t hn, const uint8_t *accept, size_t an,
                         hm_hash *t1)
{
	hm_hash_state st;
	hm_hash_init(&st);
	hm_hash_update(&st, "hamlet-sync-v1", 14);
	hm_hash_update(&st, hello, hn);
	hm_hash_update(&st, accept, an);
	hm_hash_final(&st, t1);
}

void hm_sess_transcript2(const hm_hash *t1, const hm_signature *server_sig, hm_hash *t2)
{
	hm_hash_state st;
	hm_hash_init(&st);
	hm_hash_update(&st, t1->b, HM_HASH_BYTES);
	hm_hash_update(&st, "client", 6);
	hm_hash_update(&st, server_sig->b, HM_SIGNATURE_BYTES);
	hm_hash_final(&st, t2);
}
