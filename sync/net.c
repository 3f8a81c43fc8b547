/*
 * net.c - the one file that talks to nanomsg. A server is a REP socket bound to a URL; a client
 * is a REQ socket connected to one. Both are hm_transport tables, so sessions and the protocol
 * never see a socket. Every socket refuses messages above HM_FRAME_MAX (NN_RCVMAXSIZE) before
 * our own decoding ever sees them; REQ's automatic resend is pushed far out, since a sync
 * request must not be replayed behind our back (we time out and reconnect instead).
 */
#include "sync_int.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nn_ctx {
	int sock;
	int endpoint;
	bool watch;      /* a client: a connection that breaks fails the message in hand */
	uint64_t broken; /* NN_STAT_BROKEN_CONNECTIONS when the connection was made */
	const char *why; /* our own reason for the last error, NULL: nanomsg's */
} nn_ctx;

/* A client waits for a reply in slices this long, to notice a connection that broke. */
#define WATCH_SLICE_MS 200

static hm_err net_err(int e)
{
	switch (e) {
	case ENOMEM:
		return HM_ERR_NOMEM;
	case ETIMEDOUT:
	case EAGAIN:
		return HM_ERR_BUSY;
	case EINVAL:
	case EADDRINUSE:
	case EADDRNOTAVAIL:
	case ENAMETOOLONG:
	case EPROTONOSUPPORT:
		return HM_ERR_INVALID;
	default:
		return HM_ERR_NET;
	}
}

/* nanomsg's reason for e, with out of memory in our words. */
static const char *net_strerror(int e)
{
	return e == ENOMEM ? "out of memory" : nn_strerror(e);
}

static hm_err nn_send_msg(void *ctx, const uint8_t *p, size_t n, int timeout_ms)
{
	nn_ctx *c = ctx;
	if (nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms)) <
	        0 ||
	    nn_send(c->sock, p, n, 0) < 0)
		return net_err(nn_errno());
	return HM_OK;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A REQ socket reconnects by itself when its connection breaks, but the request in flight is
 * gone (we never let nanomsg resend it): waiting out the timeout would only lose time. */
static hm_err nn_recv_msg(void *ctx, uint8_t **p, size_t *n, int timeout_ms)
{
	nn_ctx *c = ctx;
	void *buf = NULL;
	uint64_t until = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int got;

	c->why = NULL;
	while (1) {
		uint64_t now = mono_ms();
		int slice = (int)(until > now ? until - now : 0);
		if (c->watch && slice > WATCH_SLICE_MS)
			slice = WATCH_SLICE_MS;
		if (nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &slice, sizeof(slice)) < 0)
			return net_err(nn_errno());
		if ((got = nn_recv(c->sock, &buf, NN_MSG, 0)) >= 0)
			break;
		if (nn_errno() != ETIMEDOUT || !c->watch || mono_ms() >= until)
			return net_err(nn_errno());
		if (nn_get_statistic(c->sock, NN_STAT_BROKEN_CONNECTIONS) > c->broken) {
			c->why = "the connection dropped";
			return HM_ERR_NET;
		}
	}
	*p = buf; /* owned by nanomsg: give back with free_msg */
	*n = (size_t)got;
	return HM_OK;
}

static void nn_free_msg(void *ctx, uint8_t *p)
{
	(void)ctx;
	if (p)
		nn_freemsg(p);
}

static void nn_close_ctx(void *ctx)
{
	nn_ctx *c = ctx;
	if (!c)
		return;
	if (c->sock >= 0)
		nn_close(c->sock);
	free(c);
}

static const char *nn_why(void *ctx)
{
	nn_ctx *c = ctx;
	return c && c->why ? c->why : net_strerror(nn_errno());
}

static hm_err open_socket(int proto, const char *url, bool bind, hm_transport *t, const char **why)
{
	nn_ctx *c = calloc(1, sizeof(*c));
	int maxsize = (int)HM_FRAME_MAX, resend = 24 * 3600 * 1000, linger = 1000;
	hm_err err;

	*why = NULL;
	if (!c) {
		*why = "out of memory";
		return HM_ERR_NOMEM;
	}
	if ((c->sock = nn_socket(AF_SP, proto)) < 0)
		goto fail;
	if (nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_LINGER, &linger, sizeof(linger)) < 0)
		goto fail;
	if (proto == NN_REQ &&
	    nn_setsockopt(c->sock, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof(resend)) < 0)
		goto fail;
	if ((c->endpoint = bind ? nn_bind(c->sock, url) : nn_connect(c->sock, url)) < 0)
		goto fail;
	t->ctx = c;
	t->send = nn_send_msg;
	t->recv = nn_recv_msg;
	t->free_msg = nn_free_msg;
	t->close = nn_close_ctx;
	t->why = nn_why;
	return HM_OK;
fail:
	err = net_err(nn_errno());
	*why = net_strerror(nn_errno());
	nn_close_ctx(c);
	return err;
}

hm_err hm_net_listen(const char *url, hm_transport *t, const char **why)
{
	return open_socket(NN_REP, url, true, t, why);
}

hm_err hm_net_connect(const char *url, hm_transport *t, const char **why)
{
	return open_socket(NN_REQ, url, false, t, why);
}

/* nanomsg connects in the background and never says why it cannot; its statistics do: a
 * connection made, or an attempt that failed (refused, unreachable, a name that does not
 * resolve). One failed attempt is enough to call the peer down: the daemon retries later. */
hm_err hm_net_connect_within(const char *url, int timeout_ms, hm_transport *t, const char **why)
{
	uint64_t until;
	nn_ctx *c;
	hm_err err;

	if ((err = open_socket(NN_REQ, url, false, t, why)))
		return err;
	c = t->ctx;
	until = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : HM_CONNECT_TIMEOUT_MS);
	while (1) {
		struct timespec nap = {0, 10 * 1000000L};
		if (nn_get_statistic(c->sock, NN_STAT_CURRENT_CONNECTIONS) > 0) {
			c->broken = nn_get_statistic(c->sock, NN_STAT_BROKEN_CONNECTIONS);
			c->watch = true;
			return HM_OK;
		}
		if (nn_get_statistic(c->sock, NN_STAT_CONNECT_ERRORS) > 0) {
			*why = "the peer accepts no connection (refused or unreachable)";
			err = HM_ERR_NET;
			break;
		}
		if (mono_ms() >= until) {
			*why = "no connection to the peer in time";
			err = HM_ERR_BUSY;
			break;
		}
		nanosleep(&nap, NULL);
	}
	t->close(t->ctx);
	memset(t, 0, sizeof(*t));
	return err;
}
