/*
 * clock.c - how far this station's wall clock is from its peers'.
 *
 * A sync client learns its server's wall clock in the handshake (docs/protocol.md) and notes the
 * offset here: the last one is kept in meta "clock_peer" = peer(16) offset(8, two's complement)
 * measured_at(8), big-endian, so `hamlet status` can say it; one beyond the drift bound is also
 * said in the node's log at once. A server only logs a client whose clock is that far from its
 * own: one pair cannot tell which of the two is wrong, and the client's own status says it.
 */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

#define CLOCK_KEY "clock_peer"

uint64_t hm_node_now_ms(hm_node *n)
{
	return hm_now_ms(n);
}

void hm_clock_span(char *out, size_t cap, uint64_t ms)
{
	/* Rounded to the smaller unit shown: 2 days less a few milliseconds reads "2 d 0 h". */
	if (ms >= 86400000 - 1800000) {
		uint64_t h = (ms + 1800000) / 3600000;
		snprintf(out, cap, "%llu d %llu h", (unsigned long long)(h / 24),
		         (unsigned long long)(h % 24));
	} else if (ms >= 3600000 - 30000) {
		uint64_t m = (ms + 30000) / 60000;
		snprintf(out, cap, "%llu h %llu min", (unsigned long long)(m / 60),
		         (unsigned long long)(m % 60));
	} else if (ms >= 60000 - 500) {
		uint64_t s = (ms + 500) / 1000;
		snprintf(out, cap, "%llu min %llu s", (unsigned long long)(s / 60),
		         (unsigned long long)(s % 60));
	} else {
		snprintf(out, cap, "%llu.%03llu s", (unsigned long long)(ms / 1000),
		         (unsigned long long)(ms % 1000));
	}
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

typedef struct note_ctx {
	const hm_node_id *peer;
	int64_t offset_ms;
	uint64_t drift_ms;
} note_ctx;

static hm_err note_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	note_ctx *c = arg;
	uint8_t b[HM_NODE_ID_BYTES + 16];

	c->drift_ms = hm_drift_ms(n, txn);
	memcpy(b, c->peer->b, HM_NODE_ID_BYTES);
	hm_be64_put(b + HM_NODE_ID_BYTES, (uint64_t)c->offset_ms);
	hm_be64_put(b + HM_NODE_ID_BYTES + 8, hm_now_ms(n));
	return hm_store_put(n, txn, HM_DB_META, CLOCK_KEY, strlen(CLOCK_KEY), b, sizeof(b));
}

hm_err hm_node_clock_note(hm_node *n, const hm_node_id *peer, int64_t offset_ms)
{
	note_ctx c = {peer, offset_ms, 0};
	char span[48], bound[48], hex[2 * HM_NODE_ID_BYTES + 1];
	hm_err err;

	if ((err = hm_store_write(n, note_txn, &c)))
		return err;
	if (magnitude(offset_ms) <= c.drift_ms)
		return HM_OK;
	hm_clock_span(span, sizeof(span), magnitude(offset_ms));
	hm_clock_span(bound, sizeof(bound), c.drift_ms);
	hm_node_id_hex(peer, hex);
	/* offset_ms is the peer's clock minus ours: a peer ahead means we are behind. */
	hm_logf(&n->log, HM_LOG_WARN,
	        "this station's clock is %s %s that of peer %.16s, more than the allowed drift "
	        "(%s): set it right (docs/running.md). Until then %s",
	        span, offset_ms > 0 ? "behind" : "ahead of", hex, bound,
	        offset_ms > 0 ? "it may hold back change sets from right clocks in quarantine"
	                      : "its writes wait in quarantine at stations whose clocks are right");
	return HM_OK;
}

void hm_node_clock_check_peer(hm_node *n, const hm_node_id *peer, int64_t offset_ms)
{
	char span[48], bound[48], hex[2 * HM_NODE_ID_BYTES + 1];
	uint64_t drift = HM_DRIFT_DEFAULT_MS;
	MDB_txn *txn;

	if (!hm_store_read_begin(n, &txn)) {
		drift = hm_drift_ms(n, txn);
		mdb_txn_abort(txn);
	}
	if (magnitude(offset_ms) <= drift)
		return;
	hm_clock_span(span, sizeof(span), magnitude(offset_ms));
	hm_clock_span(bound, sizeof(bound), drift);
	hm_node_id_hex(peer, hex);
	hm_logf(&n->log, HM_LOG_WARN,
	        "peer %.16s's clock is %s %s this station's, more than the allowed drift (%s): one "
	        "of the two is wrong (`hamlet status` on each says how far it is from its peers)",
	        hex, span, offset_ms > 0 ? "ahead of" : "behind", bound);
}

hm_err hm_node_clock_get(hm_node *n, hm_clock_report *out)
{
	MDB_txn *txn;
	MDB_val v;
	hm_err err;

	memset(out, 0, sizeof(*out));
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	out->max_drift_ms = hm_drift_ms(n, txn);
	err = hm_store_get(n, txn, HM_DB_META, CLOCK_KEY, strlen(CLOCK_KEY), &v);
	if (err == HM_OK && v.mv_size == HM_NODE_ID_BYTES + 16) {
		const uint8_t *b = v.mv_data;
		out->known = true;
		memcpy(out->peer.b, b, HM_NODE_ID_BYTES);
		out->offset_ms = (int64_t)hm_be64_get(b + HM_NODE_ID_BYTES);
		out->measured_ms = hm_be64_get(b + HM_NODE_ID_BYTES + 8);
		out->off = magnitude(out->offset_ms) > out->max_drift_ms;
	}
	if (err == HM_ERR_NOT_FOUND || (err == HM_OK && !out->known))
		err = HM_OK;
	mdb_txn_abort(txn);
	return err;
}
