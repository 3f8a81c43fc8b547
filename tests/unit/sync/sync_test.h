/*
 * sync_test.h - helpers of the sync/ tests, on top of the node/ trust helpers (trust_test.h: a
 * county mesh of real nodes with keys, in LMDB under HAMLET_TEST_TMP):
 *
 * - a real server (hm_server_serve on the server end of an in-memory pair, mempipe.h) that
 *   answers whenever the client end waits for a reply, in the test's own thread;
 * - a client spoken by hand with a real node's key: the handshake of sync/session.c, then frames
 *   sealed with whatever counter a test chooses (docs/protocol.md has the format);
 * - change sets of a chosen size, and the sizes of what a node would send.
 */
#ifndef HM_TEST_SYNC_H
#define HM_TEST_SYNC_H

#include "mempipe.h"
#include "sync.h"
#include "trust_test.h"

/* The frame layout of sync/session.c: type(1) session(16), then a sealed frame's counter(8). */
#define ST_SID         16
#define ST_HEAD        (1 + ST_SID)
#define ST_SEALED_HEAD (ST_HEAD + 8)
#define ST_TAG         16
#define ST_HELLO_LEN   (ST_HEAD + 8 + 4 + 32 + 32)

/* ---- a server at the far end of a pair ---- */

typedef struct st_server {
	hm_server *s;
	mp_pair *pair;
	volatile int stop;
} st_server;

/* node serves at pair's MP_SERVER end: whenever the MP_CLIENT end waits on an empty queue, the
 * server answers every request waiting for it. */
void st_server_init(st_server *sv, hm_node *node, mp_pair *pair);
void st_server_release(st_server *sv);

/* One hm_sync_run of client against server over pair (its faults set by the caller); returns
 * the sync's result. */
hm_err st_sync(hm_node *client, hm_node *server, mp_pair *pair, const hm_sync_opts *opts,
               hm_sync_stats *st);
/* The same over a fresh pair without faults; the sync must succeed. *frames (may be NULL) gets
 * the number of messages the client sent. */
void st_sync_ok(hm_node *client, hm_node *server, const hm_sync_opts *opts, hm_sync_stats *st,
                size_t *frames);

/* ---- a client spoken by hand ---- */

typedef struct st_raw {
	hm_transport *t;
	uint8_t hello[ST_HELLO_LEN];
	uint8_t sid[ST_SID], rx[32], tx[32];
	uint64_t tx_next, rx_next;
	hm_hash t1;
	hm_signature server_sig;
} st_raw;

/* A hello of protocol 1..1 with ephemeral key pub and a random nonce. */
void st_hello_make(uint8_t *h, const uint8_t pub[32]);
/* Hello and accept over t: the session's id and keys (the server's key is not checked here). */
void st_raw_hello(st_raw *c, hm_transport *t);
/* ["auth", chain, signature] with node's key; the server must answer "ok". */
void st_raw_auth(st_raw *c, hm_node *node);
/* The same, whatever the answer: its type and text as st_raw_reply. */
char st_raw_auth_try(st_raw *c, hm_node *node, char *text, size_t cap);
/* body sealed in c's session as counter: a frame of *n bytes, owned by the caller. */
uint8_t *st_raw_seal(const st_raw *c, uint64_t counter, const void *body, size_t len, size_t *n);
/* Send a frame without waiting for its reply. */
void st_raw_post(st_raw *c, const uint8_t *m, size_t n);
/* The next reply: 'E' and its text, or 'S' and its opened body's printable bytes (cut to cap). */
char st_raw_reply(st_raw *c, char *text, size_t cap);
/* body sealed with the next counter, sent, and its reply (as st_raw_reply). */
char st_raw_call(st_raw *c, const void *body, size_t len, char *text, size_t cap);
/* ["vv"], sealed as counter. */
uint8_t *st_raw_vv(const st_raw *c, uint64_t counter, size_t *n);

/* ---- change sets ---- */

/* Write person/<id> whose name is len pseudo-random letters (seeded by id): one change set of
 * about len bytes whatever compression does. */
void st_person_sized(hm_node *n, const char *id, size_t len);
/* The envelope sizes of node's change sets that a node of holder's region may hold, in the order
 * a sync sends them (the batch edges are in these bytes). Returns how many, at most cap. */
size_t st_envelope_sizes(hm_node *n, const char *holder, size_t *sizes, size_t cap);

#endif
