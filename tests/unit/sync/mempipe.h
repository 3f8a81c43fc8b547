/*
 * mempipe.h - an in-memory transport pair for the sync tests: two hm_transport ends joined by a
 * queue of messages each way, in one thread, no sockets. What one end sends waits in the other
 * end's queue. A recv on an empty queue first runs that end's pump (for a client: the test's
 * server, which answers whatever waits for it), and reports a timeout (HM_ERR_BUSY) when still
 * nothing came, at once: time never passes in a pipe.
 *
 * On demand the pair drops, duplicates, reflects (hands back to its sender), alters one bit of,
 * or holds back (delivers after the sender's next) the n-th message one end sends, or cuts the
 * link there. Every message is logged as its end sent it, before any fault, so a test can look
 * at the frames or replay one. This is test support, not a mock: the sessions, the nodes, LMDB
 * and libsodium on either side are the real ones; only the wire is in memory.
 */
#ifndef HM_TEST_MEMPIPE_H
#define HM_TEST_MEMPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync.h"

#define MP_CLIENT     0
#define MP_SERVER     1
#define MP_QUEUE_MAX  64 /* messages waiting at one end: far beyond request/reply's one */
#define MP_FAULTS_MAX 8
#define MP_RECV_LOG   64 /* recv timeouts remembered per end */

typedef enum mp_fault {
	MP_PASS,      /* delivered as sent */
	MP_DROP,      /* lost on the way */
	MP_DUPLICATE, /* delivered twice */
	MP_REFLECT,   /* delivered to its sender instead of its peer */
	MP_TAMPER,    /* delivered with one bit flipped, at byte arg (from the end when arg < 0) */
	MP_HOLD,      /* delivered right after the sender's next message */
	MP_CUT,       /* lost, and the link is down from then on: every send and recv fails */
} mp_fault;

typedef struct mp_msg {
	uint8_t *p; /* owned by the pair */
	size_t n;
} mp_msg;

typedef struct mp_queue {
	mp_msg v[MP_QUEUE_MAX];
	size_t head, n;
} mp_queue;

typedef struct mp_pair mp_pair;

/* One end: the ctx of its hm_transport. */
typedef struct mp_end {
	mp_pair *pair;
	int side;
} mp_end;

typedef struct mp_rule {
	int side;
	size_t nth; /* 0: the first message side sends */
	mp_fault what;
	long arg;
} mp_rule;

struct mp_pair {
	hm_transport t[2]; /* t[MP_CLIENT], t[MP_SERVER]: pass &t[side] to the sessions */
	mp_end end[2];
	mp_queue inbox[2];
	mp_msg held[2]; /* MP_HOLD: waiting for the sender's next message */
	mp_msg *log[2]; /* every message each end sent, as sent */
	size_t nlog[2], caplog[2];
	mp_rule rules[MP_FAULTS_MAX];
	size_t nrules;
	bool down;
	void (*pump[2])(void *ctx);
	void *pump_ctx[2];
	const char *why[2];
	/* The timeout each recv of an end was given (the first MP_RECV_LOG), and how many. */
	int recv_timeout[2][MP_RECV_LOG];
	size_t nrecv[2];
};

/* A pair with empty queues, no faults, no pumps. Release with mp_pair_release. */
void mp_pair_init(mp_pair *p);
/* Frees every message waiting, held or logged. Accepts a zeroed pair. */
void mp_pair_release(mp_pair *p);

/* Run fn(ctx) when side's recv finds its queue empty (NULL: none). */
void mp_pair_pump(mp_pair *p, int side, void (*fn)(void *ctx), void *ctx);

/* The nth message side sends (counted from 0 over the pair's life) gets what (arg: MP_TAMPER's
 * byte). Several rules may name different messages. */
void mp_pair_fault(mp_pair *p, int side, size_t nth, mp_fault what, long arg);

/* Put a copy of m into side's queue, as if its peer had sent it (not logged). */
void mp_pair_inject(mp_pair *p, int side, const void *m, size_t n);

/* Messages waiting in side's queue. */
size_t mp_pair_pending(const mp_pair *p, int side);

/* The i-th message side sent, as sent (borrowed until mp_pair_release); NULL beyond the last. */
const mp_msg *mp_pair_sent(const mp_pair *p, int side, size_t i);
size_t mp_pair_nsent(const mp_pair *p, int side);

#endif
