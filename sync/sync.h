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

#include <pthread.h>
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
	unsigned open_ms; /* a client's connection: how long TCP took to make it, about one round
	                     trip (hm_net_connect_within); 0: not known */
} hm_transport;

/* nanomsg transports: a server (REP, bound) or a client (REQ, connected) on url
 * (tcp://HOST:PORT, ws://HOST:PORT, ipc://PATH). ws:// is nanomsg's WebSocket transport: its
 * opening exchange may take 5 s where tcp://'s may take 1 s, so it connects over round trips
 * of a second or more (docs/protocol.md, "Slow links"). A server may answer on several URLs at
 * once: urls is one, or several separated by commas. *why gets the reason on error (nanomsg's,
 * with the URL it concerns). Close with t->close. */
hm_err hm_net_listen(const char *urls, hm_transport *t, const char **why) HM_MUST_CHECK;
hm_err hm_net_connect(const char *url, hm_transport *t, const char **why) HM_MUST_CHECK;

/* How many nanomsg sockets this process has open or is opening; async-signal-safe. A crash
 * handler's clue: nanomsg aborts the process when it cannot allocate memory (its design: a line
 * naming one of its files, then SIGABRT), on the caller's thread or its own. */
int hm_net_socket_count(void);

/* TCP waits before sending a lost segment again, and doubles the wait each time it is lost
 * again, up to two minutes: on a link that loses a third of its packets (and as many of the
 * acknowledgements), a lost segment then stalls a connection for minutes (docs/reliability.md,
 * "Links"). Every TCP socket of this process is given a ceiling of HM_NET_RTO_MAX_MS on that
 * wait (Linux 6.15's TCP_RTO_MAX_MS): a server's listening sockets (those it accepts inherit
 * it) by hm_net_listen, a client's connection by hm_net_connect_within once it is made (the
 * opening exchange's first segments have gone by then; what is sent again is bounded). Returns
 * how many sockets were given it (0: the process holds none); -1 when the kernel has no such
 * setting (older than 6.15: nothing changes) or /proc/self/fd cannot be read. */
#define HM_NET_RTO_MAX_MS 6000
int hm_net_cap_retransmit(void);

/* A client as hm_net_connect, that waits until the connection is made: a peer that refuses it
 * or cannot be reached fails at once (HM_ERR_NET), one that does not answer within timeout_ms
 * (<= 0: HM_CONNECT_TIMEOUT_MS) fails then (HM_ERR_BUSY). Once a peer took the TCP connection,
 * the wait lasts at least its transport's opening exchange's time after that (1.5 s over tcp://
 * and ipc://, 5.5 s over ws://), even past timeout_ms; when that exchange did not end, *why says
 * so: over tcp://, after a connection slow to open, that the round trip is too long for tcp://
 * and ws:// is the way; after a quick one, that the address is not a hamlet sync port. Separate
 * from the per-message timeout of a session, which a slow link needs long. *why says which. */
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
/* Share s's node with another thread (the web interface): lock (borrowed for s's life; NULL:
 * none) is held around every request hm_server_serve answers and every tick it calls, and
 * nowhere else. Never fails. */
void hm_server_set_lock(hm_server *s, pthread_mutex_t *lock);
/* Serve on t until *stop becomes nonzero, calling tick (may be NULL) about every tick_ms; each
 * request and each tick under the lock of hm_server_set_lock. */
hm_err hm_server_serve(hm_server *s, hm_transport *t, volatile int *stop, void (*tick)(void *ctx),
                       void *tick_ctx, int tick_ms) HM_MUST_CHECK;

/* The reason for the last sync or server error (never NULL). */
const char *hm_sync_errmsg(void);

/* ---- Peers (peers.c): the peers of a node and how the syncs with each went ----
 *
 * DIR/peers holds one "NAME URL" per line; DIR/peers.state one
 * "NAME LAST_OK_MS LAST_ERROR_MS FAILURES SENT RECEIVED REASON" per line, the reason being the
 * rest of the line (spaces kept; the caller keeps it to one line, escaped). Both are written
 * whole to a temporary file (0600, exclusive) that is fsynced and renamed over the old one, so a
 * reader sees the old file or the new one. Reading skips what it cannot use: a line of peers
 * that is not a valid name and URL, a line of peers.state that lacks one of its six numbers or
 * names no peer. DIR/peer-NAME.vv holds the region the peer proved and our version vector after
 * the last sync that succeeded with it, to count what has been written since. Paths come from
 * the caller; nothing here prints. Reasons of errors are in hm_sync_errmsg. */

#define HM_PEERS_MAX       64
#define HM_PEER_NAME_MAX   32  /* 1 to 32 of a-z, 0-9, - and _ */
#define HM_PEER_URL_MAX    256 /* tcp://HOST:PORT, ws://HOST:PORT or ipc://PATH, no blank */
#define HM_PEER_REASON_MAX 199

/* One peer: its name and URL (DIR/peers), the outcome of the syncs with it (DIR/peers.state),
 * and the daemon's schedule of it (hm_schedule_*; never saved). */
typedef struct hm_link {
	char name[HM_PEER_NAME_MAX + 1];
	char url[HM_PEER_URL_MAX + 1];
	uint64_t last_ok, last_err;          /* ms since the epoch; 0: never */
	unsigned failures;                   /* in a row since the last success */
	size_t sent, received;               /* change sets, over every sync that succeeded */
	char reason[HM_PEER_REASON_MAX + 1]; /* why the last sync failed; "" after a success */
	uint64_t next_try;                   /* the schedule: when the next sync is due (ms) */
	bool running;                        /* the schedule: a sync with it is under way */
	uint64_t free_at_start; /* the schedule: free bytes of the disk when it began */
} hm_link;

typedef struct hm_peers {
	hm_link p[HM_PEERS_MAX];
	size_t n;
} hm_peers;

/* Which file hm_peers_save writes. */
typedef enum hm_peers_file {
	HM_PEERS_LIST,  /* DIR/peers: names and URLs */
	HM_PEERS_STATE, /* DIR/peers.state: the outcomes */
} hm_peers_file;

/* Whether name is 1 to HM_PEER_NAME_MAX of a-z, 0-9, - and _. name must not be NULL. */
bool hm_peer_name_valid(const char *name);
/* Whether url is tcp://..., ws://... or ipc://..., at most HM_PEER_URL_MAX bytes, without blanks.
 * url must not be NULL. */
bool hm_peer_url_valid(const char *url);
/* Whether urls is one to HM_LISTEN_URLS_MAX valid URLs separated by commas (hm_net_listen). A
 * peer is one URL: hm_peers_add refuses one with a comma (a peers file written before, with one,
 * still loads and is used as one URL). */
#define HM_LISTEN_URLS_MAX 8
bool hm_listen_urls_valid(const char *urls);

/* Read the peers of the node in dir (borrowed) and their state into *ps (caller's storage,
 * overwritten; it owns nothing). A missing DIR/peers or DIR/peers.state is no peer or no state
 * yet. Errors: HM_ERR_IO when either exists and cannot be read (an unread state would be saved
 * over as if no sync had happened), with the path in hm_sync_errmsg. */
hm_err hm_peers_load(const char *dir, hm_peers *ps) HM_MUST_CHECK;

/* Write one file of ps (borrowed) into dir, whole, replacing it (see above). Errors: HM_ERR_NOMEM,
 * HM_ERR_IO (the old file is left as it was; the reason names the file), in hm_sync_errmsg. */
hm_err hm_peers_save(const char *dir, const hm_peers *ps, hm_peers_file which) HM_MUST_CHECK;

/* The peer named name in ps, or NULL. Borrowed: valid until ps changes. */
hm_link *hm_peers_find(hm_peers *ps, const char *name);

/* Add a peer with no outcome yet. name and url are copied. Errors (ps unchanged): HM_ERR_INVALID
 * (a name or URL that is not valid), HM_ERR_EXISTS (a peer of that name), HM_ERR_FULL
 * (HM_PEERS_MAX peers already). */
hm_err hm_peers_add(hm_peers *ps, const char *name, const char *url) HM_MUST_CHECK;

/* Forget the peer named name. Errors: HM_ERR_NOT_FOUND (ps unchanged). */
hm_err hm_peers_remove(hm_peers *ps, const char *name) HM_MUST_CHECK;

/* After a sync with l that succeeded, in which the peer proved region peer_region (borrowed):
 * the peer now holds everything we hold that it may hold, so write DIR/peer-NAME.vv (as
 * hm_peers_save writes) with our version vector. Nothing is written when the node cannot give
 * its version vector (a count for status, not worth failing over). Errors: HM_ERR_INVALID
 * (peer_region is not a region), HM_ERR_NOMEM, HM_ERR_IO, reason in hm_sync_errmsg. */
hm_err hm_link_remember(const char *dir, hm_node *node, const hm_link *l,
                        const char *peer_region) HM_MUST_CHECK;

/* How many change sets written or received here since the last sync with l that succeeded the
 * peer may hold: *count. Errors: HM_ERR_NOT_FOUND (no sync with l has succeeded, or node is
 * NULL), HM_ERR_CORRUPT (DIR/peer-NAME.vv is damaged), those of hm_node_changesets. */
hm_err hm_link_waiting(const char *dir, hm_node *node, const hm_link *l,
                       uint64_t *count) HM_MUST_CHECK;

/* Contact l within timeout_ms and ask how many change sets wait each way (hm_sync_probe), moving
 * nothing. Errors: those of hm_net_connect_within and hm_sync_probe, reason in hm_sync_errmsg. */
hm_err hm_link_probe(hm_node *node, const hm_link *l, int timeout_ms, uint64_t *to_send,
                     uint64_t *to_receive) HM_MUST_CHECK;

/* The outcome of one sync with l, at now (ms): a failure counts one more in a row, keeps the
 * first line of reason (NULL: "") and schedules the next try after hm_retry_delay_ms of the
 * failures so far; a success resets the failures and the reason, adds sent and received, and
 * schedules the next try every_ms later. */
void hm_link_failed(hm_link *l, uint64_t now, const char *reason);
void hm_link_succeeded(hm_link *l, uint64_t now, size_t sent, size_t received, uint64_t every_ms);
/* Another process synced some links meanwhile (the web interface's "sync now" beside `serve`):
 * for each link of ps but except (may be NULL), take the outcome of the same link in disk (as
 * hm_peers_load read it) when it is newer (a later last success or failure): last_ok, last_err,
 * failures, sent, received, reason. The schedule's own fields stay. Never fails. */
void hm_peers_adopt(hm_peers *ps, const hm_peers *disk, const hm_link *except);

/* ---- The daemon's schedule (schedule.c): docs/protocol.md, "The daemon" ----
 *
 * When each peer's next sync is due, the backoff after failures, and what a full disk changes.
 * The caller runs the syncs (a child process each, say) and reports their results; nothing
 * here forks, waits or prints. */

#define HM_RETRY_FIRST_MS 5000u   /* d of the first retry */
#define HM_RETRY_MAX_MS   600000u /* d never exceeds this */
/* The disk counts as full below this many free bytes: a commit is likely to fail there. */
#define HM_DISK_LOW ((uint64_t)1 << 20)

/* The delay before retry n (1 for the first) of a link that is down, "equal jitter": with
 * d = HM_RETRY_FIRST_MS << (n - 1), at most HM_RETRY_MAX_MS, d/2 + (d/2) * r / UINT32_MAX, so
 * r uniform in 0..UINT32_MAX draws it uniformly from [d/2, d]. n = 0 counts as 1. */
uint64_t hm_retry_delay_ms(unsigned n, uint32_t r);
/* The same with r drawn at random. */
uint64_t hm_retry_draw_ms(unsigned n);

/* The free bytes of the file system holding dir: *free_bytes, and true when below HM_DISK_LOW.
 * False, with *free_bytes UINT64_MAX, when it cannot be measured. */
bool hm_disk_full(const char *dir, uint64_t *free_bytes);

typedef struct hm_schedule {
	const char *dir;    /* the node's folder: borrowed for the schedule's life */
	hm_peers *peers;    /* borrowed likewise */
	uint64_t every_ms;  /* between the syncs with a peer that answers */
	bool disk_full;     /* as last said by hm_schedule_disk */
	bool failed_full;   /* a sync failed on a full disk, and no space was freed since */
	uint64_t full_free; /* the free bytes then */
	uint64_t disk_checked;
} hm_schedule;

/* A schedule of the peers ps in dir (both borrowed), every peer due at once. */
void hm_schedule_init(hm_schedule *s, const char *dir, hm_peers *ps, unsigned every_s);

/* Whether a sync with l should start at now: none is running and its next try is due. */
bool hm_schedule_due(const hm_schedule *s, const hm_link *l, uint64_t now);

/* A sync with l has started: it runs until hm_schedule_finished. The disk's free bytes now are
 * noted, to tell later whether space was freed while it ran. */
void hm_schedule_started(hm_schedule *s, hm_link *l);

/* What a sync child reported (all borrowed; NULL strings read as ""). */
typedef struct hm_sync_result {
	bool summary;          /* it reported a success, with sent, received and peer_region */
	bool exit_ok;          /* it exited with status 0 */
	const char *error;     /* the reason it reported for a failure, NULL: none */
	const char *last_line; /* the last line it wrote on its log, NULL: none */
	size_t sent, received;
	const char *peer_region; /* the region the peer proved */
} hm_sync_result;

typedef enum hm_sync_outcome {
	HM_SYNC_DONE,   /* it succeeded */
	HM_SYNC_BACK,   /* it succeeded after failures: the link is back */
	HM_SYNC_FAILED, /* it failed: l->reason says why, l->next_try when it is retried */
} hm_sync_outcome;

/* The sync with l that hm_schedule_started is over, at now, with r: record its outcome in l
 * (hm_link_failed or hm_link_succeeded). It failed unless it reported a summary and exited 0;
 * its reason is the one it reported, else its last log line, else "the sync process failed".
 * A failure on a full disk ("the disk is full") is not the link's: if space was freed while it
 * ran it is retried at once, otherwise the disk counts as full (hm_schedule_disk) until space is
 * freed. */
hm_sync_outcome hm_schedule_finished(hm_schedule *s, hm_link *l, uint64_t now,
                                     const hm_sync_result *r);

/* What hm_schedule_disk found. */
typedef enum hm_disk_change {
	HM_DISK_SAME, /* as before, or not measured (at most once a second) */
	HM_DISK_FULL, /* the disk became full */
	HM_DISK_ROOM, /* it has room again: every peer that failed is due at once */
} hm_disk_change;

/* About once a second: is the disk full? Full is less than HM_DISK_LOW free, or a sync that failed
 * on a full disk with no space freed since. *free_bytes gets what was measured. */
hm_disk_change hm_schedule_disk(hm_schedule *s, uint64_t now, uint64_t *free_bytes);

#endif
