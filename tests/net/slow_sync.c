/*
 * slow_sync.c - a real sync over a slow link, for tests/net/flood.sh.
 *
 *   slow_sync DIR URL DELAY_MS BATCH_BYTES     (HAMLET_PASSPHRASE unlocks DIR's key)
 *
 * Runs hm_sync_run from the enrolled node in DIR to the daemon at URL, as `hamlet sync` does,
 * over a nanomsg transport that waits DELAY_MS before every request after the handshake (hello
 * and auth): a village link where each round trip takes seconds, so that the authenticated
 * session sits idle on the server while others talk to it. Batches of BATCH_BYTES make a push of
 * a few hundred KB several requests.
 * Prints "sent N received M messages K" and exits 0 when the sync completed; 1 with the reason
 * otherwise; 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "open_node.h"
#include "sync.h"

typedef struct slow {
	hm_transport inner;
	unsigned sent;
	long delay_ms;
} slow;

static hm_err slow_send(void *ctx, const uint8_t *p, size_t n, int timeout_ms)
{
	slow *s = ctx;

	if (++s->sent > 2) {
		struct timespec ts = {s->delay_ms / 1000, (s->delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return s->inner.send(s->inner.ctx, p, n, timeout_ms);
}

static hm_err slow_recv(void *ctx, uint8_t **p, size_t *n, int timeout_ms)
{
	slow *s = ctx;
	return s->inner.recv(s->inner.ctx, p, n, timeout_ms);
}

static void slow_free_msg(void *ctx, uint8_t *p)
{
	slow *s = ctx;
	s->inner.free_msg(s->inner.ctx, p);
}

static void slow_close(void *ctx)
{
	slow *s = ctx;
	s->inner.close(s->inner.ctx);
}

static const char *slow_why(void *ctx)
{
	slow *s = ctx;
	return s->inner.why(s->inner.ctx);
}

int main(int argc, char **argv)
{
	const char *pass = getenv("HAMLET_PASSPHRASE"), *why;
	hm_sync_opts so = {0};
	hm_sync_stats st = {0};
	hm_transport t = {0};
	hm_node *n = NULL;
	slow s = {0};
	hm_err err;
	int rc = 1;

	if (argc != 5 || !pass) {
		fprintf(stderr, "usage: HAMLET_PASSPHRASE=... slow_sync DIR URL DELAY_MS BATCH\n");
		return 2;
	}
	s.delay_ms = strtol(argv[3], NULL, 10);
	so.batch_bytes = (size_t)strtoul(argv[4], NULL, 10);
	if (hm_crypto_init())
		return 2;
	if (!(n = test_open_node("slow_sync", argv[1], pass)))
		return 1;
	if ((err = hm_net_connect(argv[2], &s.inner, &why))) {
		fprintf(stderr, "slow_sync: %s: %s\n", argv[2], why ? why : hm_strerror(err));
		goto out;
	}
	t.ctx = &s;
	t.send = slow_send, t.recv = slow_recv, t.free_msg = slow_free_msg;
	t.close = slow_close, t.why = slow_why;
	if ((err = hm_sync_run(n, &t, &so, &st))) {
		fprintf(stderr, "slow_sync: %s: %s\n", hm_strerror(err), hm_sync_errmsg());
		goto out;
	}
	printf("sent %zu received %zu messages %zu\n", st.sent, st.received, st.messages);
	rc = 0;
out:
	if (t.close)
		t.close(t.ctx);
	hm_node_close(n);
	return rc;
}
