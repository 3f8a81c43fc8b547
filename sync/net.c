/*
 * net.c - the one file that talks to nanomsg. A server is a REP socket bound to a URL; a client
 * is a REQ socket connected to one, over TCP (tcp://), WebSocket (ws://: an opening exchange
 * that may take 5 s where tcp://'s is cut at 1 s) or a local socket. Both are hm_transport tables,
 * so sessions and the protocol never see a socket. Every socket refuses messages above HM_FRAME_MAX
 * (NN_RCVMAXSIZE) before our own decoding ever sees them; REQ's automatic resend is pushed far out,
 * since a sync request must not be replayed behind our back (we time out and reconnect instead).
 * Every TCP socket under them waits at most HM_NET_RTO_MAX_MS to send a lost segment again.
 */
#include "sync_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/ws.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Linux 6.15's per-socket ceiling of TCP's retransmission timer (uapi linux/tcp.h), newer than
 * Debian 12's headers. */
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44
#endif

typedef struct nn_ctx {
	int sock;
	int endpoint;
	bool watch;      /* a client: a connection that breaks fails the message in hand */
	uint64_t broken; /* NN_STAT_BROKEN_CONNECTIONS when the connection was made */
	const char *why; /* our own reason for the last error, NULL: nanomsg's */
} nn_ctx;

/* A client waits for a reply in slices this long, to notice a connection that broke. */
#define WATCH_SLICE_MS 200

/* How long nanomsg gives the opening exchange after the TCP connection is made (streamhdr.c,
 * ws_handshake.c: fixed), with a margin: a client that has its TCP connection waits at least
 * that long after it for the opening exchange, even past its connect timeout. */
#define TCP_OPENING_MS 1500
#define WS_OPENING_MS  5500

/* A connection that takes longer than this to be made says the round trip is long. */
#define SLOW_CONNECT_MS 400

/* Why no connection was made, though the peer took the TCP connection. Each fits a peer's
 * stored reason (HM_PEER_REASON_MAX). */
#define WHY_TCP_SLOW                                                                               \
	"the connection was slow to open and nanomsg's tcp:// opening exchange did not end "       \
	"within its 1 s: the round trip is too long for tcp://; use the peer's ws:// address"
#define WHY_WS_SLOW                                                                                \
	"the connection was slow to open and its ws:// opening exchange did not end within "       \
	"5 s: the link is too slow, or this is not a hamlet sync port"
#define WHY_NOT_HAMLET                                                                             \
	"the address takes connections but does not answer as a hamlet sync port: check its "      \
	"address and port (or the link loses too much)"

/* nanomsg sockets open or being opened in this process (hm_net_socket_count). */
static atomic_int sockets_open;

static_assert(ATOMIC_INT_LOCK_FREE == 2, "read from a signal handler");

int hm_net_socket_count(void)
{
	return atomic_load_explicit(&sockets_open, memory_order_relaxed);
}

/* A reason naming the URL it concerns, for the thread that asked. */
static _Thread_local char why_buf[HM_PEER_URL_MAX + 160];

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
	atomic_fetch_sub_explicit(&sockets_open, 1, memory_order_relaxed);
}

static const char *nn_why(void *ctx)
{
	nn_ctx *c = ctx;
	return c && c->why ? c->why : net_strerror(nn_errno());
}

/* Over ws://, our messages go in binary frames, never text (which a peer could refuse as not
 * UTF-8): nanomsg's default, said all the same. Other transports are left alone. */
static int ws_binary(int sock, const char *url)
{
	int binary = NN_WS_MSG_TYPE_BINARY;
	if (strncmp(url, "ws://", 5))
		return 0;
	return nn_setsockopt(sock, NN_WS, NN_WS_MSG_TYPE, &binary, sizeof(binary));
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
	atomic_fetch_add_explicit(&sockets_open, 1, memory_order_relaxed);
	if ((c->sock = nn_socket(AF_SP, proto)) < 0)
		goto fail;
	if (nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_LINGER, &linger, sizeof(linger)) < 0)
		goto fail;
	if (proto == NN_REQ &&
	    nn_setsockopt(c->sock, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof(resend)) < 0)
		goto fail;
	if (ws_binary(c->sock, url) < 0 ||
	    (c->endpoint = bind ? nn_bind(c->sock, url) : nn_connect(c->sock, url)) < 0)
		goto fail;
	t->ctx = c;
	t->send = nn_send_msg;
	t->recv = nn_recv_msg;
	t->free_msg = nn_free_msg;
	t->close = nn_close_ctx;
	t->why = nn_why;
	t->open_ms = 0;
	return HM_OK;
fail:
	err = net_err(nn_errno());
	*why = net_strerror(nn_errno());
	nn_close_ctx(c);
	return err;
}

/* nanomsg makes its TCP sockets on its own threads and never hands them out, so the ceiling is
 * set on every TCP socket the process holds, found in /proc/self/fd: hamlet's links, and the web
 * interface's (on 127.0.0.1 unless told otherwise: bounding its timer is harmless). A descriptor
 * closed and reused meanwhile is at worst another of ours, or not a TCP socket and refused. */
int hm_net_cap_retransmit(void)
{
	int cap = HM_NET_RTO_MAX_MS, capped = 0;
	bool old = false; /* a kernel without the setting refused it */
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int proto = 0;
		socklen_t len = sizeof(proto);
		if (*end || end == e->d_name || fd == dirfd(d) ||
		    getsockopt((int)fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
		    proto != IPPROTO_TCP)
			continue;
		if (!setsockopt((int)fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &cap, sizeof(cap)))
			capped++;
		else if (errno == ENOPROTOOPT)
			old = true;
	}
	closedir(d);
	return old && !capped ? -1 : capped;
}

/* The first URL of a list by open_socket, the others bound to the same socket. */
hm_err hm_net_listen(const char *urls, hm_transport *t, const char **why)
{
	char url[HM_PEER_URL_MAX + 1];
	const char *p = urls;
	hm_err err = HM_OK;

	*why = NULL;
	memset(t, 0, sizeof(*t));
	while (!err) {
		size_t len = strcspn(p, ",");
		if (len > HM_PEER_URL_MAX) {
			*why = "a URL is too long";
			err = HM_ERR_INVALID;
			break;
		}
		memcpy(url, p, len);
		url[len] = '\0';
		if (!t->ctx) {
			err = open_socket(NN_REP, url, true, t, why);
		} else if (ws_binary(((nn_ctx *)t->ctx)->sock, url) < 0 ||
		           nn_bind(((nn_ctx *)t->ctx)->sock, url) < 0) {
			err = net_err(nn_errno());
			*why = net_strerror(nn_errno());
		}
		if (err && *why && strchr(urls, ',')) {
			snprintf(why_buf, sizeof(why_buf), "%s: %s", url, *why);
			*why = why_buf;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	if (err && t->ctx) {
		t->close(t->ctx);
		memset(t, 0, sizeof(*t));
	}
	if (!err)
		hm_net_cap_retransmit(); /* its listening sockets: those accepted inherit it */
	return err;
}

hm_err hm_net_connect(const char *url, hm_transport *t, const char **why)
{
	return open_socket(NN_REQ, url, false, t, why);
}

/* nanomsg connects in the background and never says why it cannot; its statistics do: a
 * connection made (its opening exchange done), or an attempt that failed (refused,
 * unreachable, a name that does not resolve). One failed attempt is enough to call the peer
 * down: the daemon retries later. A peer that took the TCP connection is alive: the wait lasts
 * until the connect timeout or until the opening exchange's time after the TCP connection was
 * made, whichever is later; when that exchange does not end (nanomsg closes the connection and
 * tries again, or waits), the reason says so, and how long the TCP connection took tells a long
 * round trip from an address that is not a hamlet sync port. */
hm_err hm_net_connect_within(const char *url, int timeout_ms, hm_transport *t, const char **why)
{
	uint64_t start = mono_ms(), until, took = 0;
	bool ws = !strncmp(url, "ws://", 5), taken = false;
	nn_ctx *c;
	hm_err err;

	if ((err = open_socket(NN_REQ, url, false, t, why)))
		return err;
	c = t->ctx;
	until = start + (uint64_t)(timeout_ms > 0 ? timeout_ms : HM_CONNECT_TIMEOUT_MS);
	while (1) {
		struct timespec nap = {0, 10 * 1000000L};
		uint64_t now = mono_ms();
		if (nn_get_statistic(c->sock, NN_STAT_CURRENT_CONNECTIONS) > 0) {
			c->broken = nn_get_statistic(c->sock, NN_STAT_BROKEN_CONNECTIONS);
			c->watch = true;
			t->open_ms = (unsigned)(taken ? took : now - start);
			hm_net_cap_retransmit();
			return HM_OK;
		}
		if (nn_get_statistic(c->sock, NN_STAT_CONNECT_ERRORS) > 0) {
			*why = "the peer accepts no connection (refused or unreachable)";
			err = HM_ERR_NET;
			break;
		}
		if (!taken && nn_get_statistic(c->sock, NN_STAT_ESTABLISHED_CONNECTIONS) > 0) {
			uint64_t opening = now + (ws ? WS_OPENING_MS : TCP_OPENING_MS);
			taken = true;
			took = now - start;
			until = opening > until ? opening : until;
		}
		if (now >= until) {
			if (!taken)
				*why = "no connection to the peer in time";
			else if (took < SLOW_CONNECT_MS)
				*why = WHY_NOT_HAMLET;
			else
				*why = ws                           ? WHY_WS_SLOW
				       : !strncmp(url, "tcp://", 6) ? WHY_TCP_SLOW
				                                    : WHY_NOT_HAMLET;
			err = HM_ERR_BUSY;
			break;
		}
		nanosleep(&nap, NULL);
	}
	t->close(t->ctx);
	memset(t, 0, sizeof(*t));
	return err;
}
