/* mempipe.c - the in-memory transport pair (mempipe.h). */
#include "mempipe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint8_t *copy_of(const void *m, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	memcpy(c, m, n);
	return c;
}

/* Queue an owned message at side. */
static void queue_put(mp_pair *p, int side, uint8_t *m, size_t n)
{
	mp_queue *q = &p->inbox[side];
	if (q->n == MP_QUEUE_MAX)
		fail_msg("mempipe: %d messages wait at end %d: a test that never reads",
		         MP_QUEUE_MAX, side);
	q->v[(q->head + q->n) % MP_QUEUE_MAX] = (mp_msg){m, n};
	q->n++;
}

static void log_put(mp_pair *p, int side, const uint8_t *m, size_t n)
{
	if (p->nlog[side] == p->caplog[side]) {
		size_t cap = p->caplog[side] ? 2 * p->caplog[side] : 16;
		mp_msg *grown = realloc(p->log[side], cap * sizeof(*grown));
		assert_non_null(grown);
		p->log[side] = grown;
		p->caplog[side] = cap;
	}
	p->log[side][p->nlog[side]++] = (mp_msg){copy_of(m, n), n};
}

/* The rule for the message side is about to send, if any. */
static const mp_rule *rule_for(const mp_pair *p, int side)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].side == side && p->rules[i].nth == p->nlog[side])
			return &p->rules[i];
	return NULL;
}

/* Deliver an owned message of side as rule r says (NULL: as sent). A message held back follows
 * the next one its sender delivers to the peer. */
static void deliver(mp_pair *p, int side, uint8_t *m, size_t n, const mp_rule *r)
{
	int to = !side;
	size_t at;

	switch (r ? r->what : MP_PASS) {
	case MP_DROP:
		free(m);
		return;
	case MP_CUT:
		free(m);
		p->down = true;
		return;
	case MP_HOLD:
		assert_null(p->held[side].p);
		p->held[side] = (mp_msg){m, n};
		return;
	case MP_REFLECT:
		queue_put(p, side, m, n);
		return;
	case MP_DUPLICATE:
		queue_put(p, to, copy_of(m, n), n);
		break;
	case MP_TAMPER:
		at = r->arg < 0 ? n - (size_t)(-r->arg) : (size_t)r->arg;
		assert_true(at < n);
		m[at] ^= 0x01;
		break;
	case MP_PASS:
		break;
	}
	queue_put(p, to, m, n);
	if (p->held[side].p) {
		queue_put(p, to, p->held[side].p, p->held[side].n);
		p->held[side] = (mp_msg){NULL, 0};
	}
}

static hm_err mp_send(void *ctx, const uint8_t *m, size_t n, int timeout_ms)
{
	mp_end *e = ctx;
	mp_pair *p = e->pair;
	const mp_rule *r;

	(void)timeout_ms;
	if (p->down) {
		p->why[e->side] = "the link dropped";
		return HM_ERR_NET;
	}
	r = rule_for(p, e->side);
	log_put(p, e->side, m, n);
	deliver(p, e->side, copy_of(m, n), n, r);
	return HM_OK;
}

static hm_err mp_recv(void *ctx, uint8_t **m, size_t *n, int timeout_ms)
{
	mp_end *e = ctx;
	mp_pair *p = e->pair;
	mp_queue *q = &p->inbox[e->side];

	if (p->nrecv[e->side] < MP_RECV_LOG)
		p->recv_timeout[e->side][p->nrecv[e->side]] = timeout_ms;
	p->nrecv[e->side]++;
	if (!q->n && !p->down && p->pump[e->side])
		p->pump[e->side](p->pump_ctx[e->side]);
	if (!q->n) {
		p->why[e->side] = p->down ? "the link dropped" : "nothing came";
		return p->down ? HM_ERR_NET : HM_ERR_BUSY;
	}
	*m = q->v[q->head].p; /* owned by the caller until free_msg */
	*n = q->v[q->head].n;
	q->head = (q->head + 1) % MP_QUEUE_MAX;
	q->n--;
	return HM_OK;
}

static void mp_free_msg(void *ctx, uint8_t *m)
{
	(void)ctx;
	free(m);
}

/* The pair outlives its ends: mp_pair_release frees. */
static void mp_close(void *ctx)
{
	(void)ctx;
}

static const char *mp_why(void *ctx)
{
	mp_end *e = ctx;
	return e->pair->why[e->side] ? e->pair->why[e->side] : "no error";
}

void mp_pair_init(mp_pair *p)
{
	memset(p, 0, sizeof(*p));
	for (int side = 0; side < 2; side++) {
		p->end[side] = (mp_end){p, side};
		p->t[side] =
		    (hm_transport){&p->end[side], mp_send, mp_recv, mp_free_msg, mp_close, mp_why};
	}
}

void mp_pair_release(mp_pair *p)
{
	for (int side = 0; side < 2; side++) {
		mp_queue *q = &p->inbox[side];
		for (size_t i = 0; i < q->n; i++)
			free(q->v[(q->head + i) % MP_QUEUE_MAX].p);
		for (size_t i = 0; i < p->nlog[side]; i++)
			free(p->log[side][i].p);
		free(p->log[side]);
		free(p->held[side].p);
	}
	memset(p, 0, sizeof(*p));
}

void mp_pair_pump(mp_pair *p, int side, void (*fn)(void *ctx), void *ctx)
{
	p->pump[side] = fn;
	p->pump_ctx[side] = ctx;
}

void mp_pair_fault(mp_pair *p, int side, size_t nth, mp_fault what, long arg)
{
	assert_true(p->nrules < MP_FAULTS_MAX);
	p->rules[p->nrules++] = (mp_rule){side, nth, what, arg};
}

void mp_pair_inject(mp_pair *p, int side, const void *m, size_t n)
{
	queue_put(p, side, copy_of(m, n), n);
}

size_t mp_pair_pending(const mp_pair *p, int side)
{
	return p->inbox[side].n;
}

const mp_msg *mp_pair_sent(const mp_pair *p, int side, size_t i)
{
	return i < p->nlog[side] ? &p->log[side][i] : NULL;
}

size_t mp_pair_nsent(const mp_pair *p, int side)
{
	return p->nlog[side];
}
