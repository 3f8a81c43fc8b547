/*
 * sync.h - moving change sets between nodes. For now: bundle files, the USB-stick link.
 *
 * A bundle is a file of change-set envelopes with a header naming its exporter and an explicit
 * end frame carrying the count and a BLAKE2b-256 of every byte before it, so a file cut short
 * (a USB stick pulled mid-copy) or altered is detected before anything is applied. Between
 * nodes with keys it is sealed: each envelope encrypted under a bundle key wrapped for the
 * recipient (a node, or the holders of a scope's data key), and the end signed by the exporter,
 * whose certificate chain the header carries. Import reads the file twice - first to verify,
 * then to apply in bounded batches - so memory stays flat however large the bundle is, and a
 * bad bundle changes nothing.
 */
#ifndef HM_SYNC_H
#define HM_SYNC_H

#include <stdio.h>

#include "node.h"

#define HM_BUNDLE_MAGIC_PLAIN  "HMBUNDL1" /* format 1, between nodes without keys */
#define HM_BUNDLE_MAGIC_SEALED "HMBUNDL2" /* format 2, sealed */
#define HM_BUNDLE_BATCH_BYTES  (4u << 20) /* envelopes applied per transaction, at most */
#define HM_BUNDLE_BATCH_COUNT  4096u

typedef struct hm_bundle_stats {
	size_t changesets; /* written or read */
	size_t bytes;
	hm_apply_stats apply; /* import only */
	size_t out_of_scope;  /* import: change sets this node's region may not hold, not kept */
	size_t certs;         /* import: certificates of other nodes newly learnt */
} hm_bundle_stats;

/* Progress callback for long work: done and total in change sets (total 0 when unknown). */
typedef void (*hm_progress_fn)(void *ctx, size_t done, size_t total);

/* Write every change set of node beyond since (NULL: all) to path, atomically: a temporary file
 * is fsynced and renamed into place. A node with keys writes a sealed bundle (format 2) that
 * only rcpt can open (NULL: every node of its county) and signs it; a node without keys writes a
 * plain one (format 1; rcpt ignored). Errors: HM_ERR_IO (with errno's reason in
 * hm_bundle_errmsg), HM_ERR_EXISTS if path exists and !overwrite, HM_ERR_NOT_FOUND (no key for
 * the recipient). */
hm_err hm_bundle_export(hm_node *node, const hm_vv *since, const char *path, bool overwrite,
                        const hm_recipient *rcpt, hm_bundle_stats *stats) HM_MUST_CHECK;

/* Verify the whole bundle at path, then apply what this node's region may hold (the rest is
 * counted in stats->out_of_scope), and learn the certificates it carries. Errors, with nothing
 * applied:
 * HM_ERR_IO, HM_ERR_CORRUPT (bad magic, frame or hash), HM_ERR_TRUNCATED (no end frame),
 * HM_ERR_TOO_BIG (a frame beyond the cap), HM_ERR_VERSION. A change set inside a good bundle that
 * the node refuses is counted in stats->apply, not an error. */
hm_err hm_bundle_import(hm_node *node, const char *path, hm_progress_fn progress, void *pctx,
                        hm_bundle_stats *stats) HM_MUST_CHECK;

/* The reason for the last bundle error (never NULL). */
const char *hm_bundle_errmsg(void);

/* ---- Sync sessions (session.c, proto.c, net.c): docs/protocol.md ---- */

#define HM_PROTOCOL_VERSION 1
#define HM_PROTOCOL_MIN     1 /* the oldest version this build accepts */

/* A message transport: request/reply. The client sends a request and receives its reply; the
 * server receives a request and sends its reply. Messages from recv are owned by the transport:
 * give them back with free_msg. Passed in so a session can run over an in-memory pipe. */
typedef struct hm_transport {
	void *ctx;
	hm_err (*send)(void *ctx, const uint8_t *p, size_t n, int timeout_ms);
	hm_err (*recv)(void *ctx, uint8_t **p, size_t *n, int timeout_ms);
	void (*free_msg)(void *ctx, uint8_t *p);
	void (*close)(void *ctx);
	const char *(*why)(void *ctx); /* the last transport error, for messages */
} hm_transport;

/* nanomsg transports: a server (REP, bound) or a client (REQ, connected) on url
 * (tcp://HOST:PORT, ipc://PATH). *why gets nanomsg's reason on error. Close with t->close. */
hm_err hm_net_listen(const char *url, hm_transport *t, const char **why) HM_MUST_CHECK;
hm_err hm_net_connect(const char *url, hm_transport *t, const char **why) HM_MUST_CHECK;

/* A client as hm_net_connect, that waits until the connection is made: a peer that refuses it
 * or cannot be reached fails at once (HM_ERR_NET), one that does not answer within timeout_ms
 * (<= 0: HM_CONNECT_TIMEOUT_MS) fails then (HM_ERR_BUSY). Separate from the per-message timeout
 * of a session, which a slow link needs long. *why says which. */
#define HM_CONNECT_TIMEOUT_MS 5000
hm_err hm_net_connect_within(const char *url, int timeout_ms, hm_transport *t,
                             const char **why) HM_MUST_CHECK;

typedef struct hm_sync_stats {
	hm_peer peer;          /* who the other side proved to be */
	size_t sent, received; /* change sets */
	size_t bytes_sent, bytes_received;
	size_t messages;
	hm_apply_stats applied;  /* what we applied of what we received */
	hm_apply_stats remote;   /* what the peer reported applying of what we sent */
	bool clock_known;        /* the peer told its wall clock in the handshake */
	int64_t clock_offset_ms; /* the peer's clock minus ours (> 0: ours is behind) */
	/* The link as measured so far (docs/protocol.md, "Slow links"): */
	double rate;        /* bytes per second, smoothed over the batches; 0 until measured */
	unsigned rtt_ms;    /* the round trip of a small message, smoothed */
	size_t batch_bytes; /* the size of the next batch, chosen from the two */
} hm_sync_stats;

/* Progress of a sync: change sets and bytes so far, and the estimated total still to move
 * (0 when unknown). */
typedef void (*hm_sync_progress_fn)(void *ctx, const hm_sync_stats *st, size_t todo);

typedef struct hm_sync_opts {
	int timeout_ms;     /* per message until the link is measured, and at least; 0: 30 s */
	size_t batch_bytes; /* the largest batch of change sets per message; 0: 1 MiB */
	size_t limit_rate;  /* bytes per second, both ways together, on average; 0: no cap */
	hm_sync_progress_fn progress;
	void *progress_ctx;
} hm_sync_opts;

/* One sync as the client: handshake, exchange version vectors, push what the peer lacks and
 * may hold, pull what we lack and may hold, in bounded batches, each applied durably before it
 * is acknowledged. A dropped link loses nothing: the next sync starts from the version vectors,
 * so what was cut off is at most the batch in flight. Batches fit the link: each is sized from
 * the measured round trip and rate to take a few seconds, and each message's timeout follows
 * from the same measures (never below opts->timeout_ms). With opts->limit_rate the client waits
 * between messages so that the bytes moved stay under the cap on average.
 * Errors: HM_ERR_CRYPTO (the peer is not who it must be), HM_ERR_VERSION, HM_ERR_NET,
 * HM_ERR_BUSY (timeout), HM_ERR_CORRUPT (a malformed reply); reason in hm_sync_errmsg. */
hm_err hm_sync_run(hm_node *node, hm_transport *t, const hm_sync_opts *opts,
                   hm_sync_stats *st) HM_MUST_CHECK;

/* Ask a peer, without moving anything, how many change sets wait each way: what we hold that it
 * may hold and lacks (*to_send), and what it holds that we may hold and lack (*to_receive).
 * Errors: those of hm_sync_run. */
hm_err hm_sync_probe(hm_node *node, hm_transport *t, const hm_sync_opts *opts, uint64_t *to_send,
                     uint64_t *to_receive, hm_sync_stats *st) HM_MUST_CHECK;

/* The server side: sessions of many clients at once, one request at a time. */
typedef struct hm_server hm_server;
hm_err hm_server_new(hm_node *node, hm_server **out) HM_MUST_CHECK;
void hm_server_free(hm_server *s);
/* Answer one request. *reply is owned (free). Never fails on bad input: a bad request gets an
 * error reply and is logged. Errors: HM_ERR_NOMEM only. */
hm_err hm_server_handle(hm_server *s, const uint8_t *req, size_t n, uint8_t **reply,
                        size_t *reply_len) HM_MUST_CHECK;
/* Serve on t until *stop becomes nonzero, calling tick (may be NULL) about every tick_ms. */
hm_err hm_server_serve(hm_server *s, hm_transport *t, volatile int *stop, void (*tick)(void *ctx),
                       void *tick_ctx, int tick_ms) HM_MUST_CHECK;

/* The reason for the last sync or server error (never NULL). */
const char *hm_sync_errmsg(void);

#endif
