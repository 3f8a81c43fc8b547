/*
 * session_int.h - what the three files of a sync session share: session.c (errors, sealed
 * frames, msgpack bodies, batches to send, the transcripts), server.c and client.c. Included
 * only by those three.
 */
#ifndef HM_SESSION_INT_H
#define HM_SESSION_INT_H

#include "sync_int.h"

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#define HELLO_MAGIC "HMSYNC01"
#define SID_BYTES   16
#define HEAD_BYTES  (1 + SID_BYTES)
#define SEALED_HEAD (HEAD_BYTES + 8)

static inline void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static inline unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* ---- errors ---- */

/* err, with "out of memory" set as the reason when err is HM_ERR_NOMEM and none says it. */
hm_err hm_sess_said(hm_err err);
/* Why a node call failed, for a message (never NULL; borrowed from node or static). */
const char *hm_sess_node_why(hm_node *node, hm_err err);

/* ---- the keys and counters of one session ---- */

typedef struct channel {
	uint8_t sid[SID_BYTES];
	uint8_t rx[32], tx[32];
	uint64_t rx_next, tx_next;
} channel;

void hm_sess_channel_wipe(channel *c);
/* Seal plain into a new 'S' message (*out owned by the caller). */
hm_err hm_sess_seal(channel *c, const void *plain, size_t n, uint8_t **out, size_t *out_len);
/* Open an 'S' message: *plain (owned by the caller) and its length. */
hm_err hm_sess_open_sealed(channel *c, const uint8_t *m, size_t n, uint8_t **plain, size_t *len);

/* ---- msgpack bodies ---- */

/* A body being packed. msgpack-c's packer goes on after a write that found no memory, leaving
 * a hole in the message: failed remembers it, and such a body is never sent. */
typedef struct body {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool failed;
} body;

void hm_sess_body_init(body *b);
void hm_sess_pack_str(msgpack_packer *pk, const char *s);
void hm_sess_pack_bin(msgpack_packer *pk, const void *p, size_t n);
void hm_sess_pack_vv(msgpack_packer *pk, const hm_vv *vv);

/* A decoded body: checked against the caps first, then unpacked. Before a session is
 * authenticated the only request is ["auth", chain, signature]: three elements, so that nobody
 * makes the server allocate for a frame before proving who they are. */
#define UNAUTHED_OBJECTS 3
typedef struct parsed {
	msgpack_unpacked u;
	const msgpack_object *a; /* the array's items */
	uint32_t n;
} parsed;

/* Decode [verb, ...] of at most max_objects objects into out (released with
 * msgpack_unpacked_destroy(&out->u) whatever the result). */
hm_err hm_sess_parse(const uint8_t *p, size_t n, uint64_t max_objects, parsed *out);
bool hm_sess_is_verb(const parsed *p, const char *verb);
bool hm_sess_get_bin(const msgpack_object *o, const uint8_t **p, size_t *n);
bool hm_sess_get_uint(const msgpack_object *o, uint64_t *v);
/* A version vector from o into vv (owned by the caller: hm_vv_release). */
hm_err hm_sess_parse_vv(const msgpack_object *o, hm_vv *vv);
void hm_sess_vv_advance(hm_vv *vv, const hm_node_id *origin, uint64_t seq);

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

void hm_sess_batcher_release(batcher *bt);
uint64_t hm_sess_count_visible(hm_node *node, const hm_vv *since, const char *holder);
hm_err hm_sess_apply_capped(hm_node *node, const hm_bytes *envs, size_t n, hm_apply_stats *st);
hm_err hm_sess_next_batch(hm_node *node, const hm_vv *since, const char *holder, size_t max,
                          batcher *bt);

/* ---- the transcripts both sides sign ---- */

void hm_sess_transcript1(const uint8_t *hello, size_t hn, const uint8_t *accept, size_t an,
                         hm_hash *t1);
void hm_sess_transcript2(const hm_hash *t1, const hm_signature *server_sig, hm_hash *t2);

#endif
