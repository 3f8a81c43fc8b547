/*
 * raw_client.c - a hostile peer for tests/net/hostile.sh: sends hand-made messages to a
 * `hamlet serve` daemon over nanomsg REQ, and relays real sessions to capture their frames.
 *
 *   raw_client send URL KIND         one crafted request; prints the reply (see below)
 *   raw_client proxy LISTEN URL DIR  relays requests from LISTEN (REP) to URL (REQ) and back,
 *                                    saving each as DIR/c2s-N and DIR/s2c-N, until 8 s idle
 *   raw_client replay URL DIR        replays a captured session's hello and auth (below)
 *   raw_client flood URL SECONDS     sends well-formed hellos (fresh random keys) as fast as
 *                                    the server answers, for SECONDS; prints how many were
 *                                    sent and accepted (exit 0 when at least 256 were)
 *   raw_client refuse LISTEN         a hostile server: answers every request with an error in
 *                                    clear holding terminal escapes, a newline and a bidi
 *                                    override (what a peer may say), until 8 s idle
 *
 * KIND: garbage (random bytes), short (3 bytes), hello-truncated, hello-bad-magic,
 * oversized (17 MiB, above NN_RCVMAXSIZE), unknown-session (a sealed frame under a session id
 * the server never gave), sealed-short (a sealed frame too short to hold its tag),
 * hello-zero-key (a well-formed hello whose ephemeral key is all zeros: no session key can be
 * derived from it).
 *
 * A reply prints as one line: "E <reason>" (an error in clear), "A <bytes>" (an accept),
 * "S <bytes>" (a sealed frame: the server took the request as part of a session), "X <type>",
 * or "none" when no reply came within 3 s (nanomsg drops a message above the size cap and
 * closes the connection, so the request is never answered).
 *
 * replay: sends DIR/c2s-0 (the recorded hello) and gets a fresh accept and session id; then
 * the recorded auth DIR/c2s-1 byte for byte (its session is over: must be refused), and the
 * same auth with the new session id spliced in (signed for another transcript and sealed
 * under other keys: must be refused). Prints one line per step; exit 0 when every step was
 * refused with 'E', 1 when the server answered any replayed auth with a sealed frame.
 *
 * Exit 2 on a usage or local error.
 */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SID_BYTES   16
#define HEAD_BYTES  (1 + SID_BYTES)
#define OVERSIZED   ((size_t)17 << 20)
#define REPLY_MS    3000
#define PROXY_IDLE  8000
#define CAPTURE_MAX 64

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint8_t rnd8(void)
{
	rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
	return (uint8_t)((rng * 2685821657736338717ull) >> 56);
}

static int sock_open(int proto, const char *url, int bind, int timeout_ms)
{
	int s = nn_socket(AF_SP, proto), resend = 3600 * 1000, max = -1;

	if (s < 0)
		return -1;
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof(max));
	if (proto == NN_REQ)
		nn_setsockopt(s, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof(resend));
	if ((bind ? nn_bind(s, url) : nn_connect(s, url)) < 0) {
		fprintf(stderr, "raw_client: %s: %s\n", url, nn_strerror(nn_errno()));
		nn_close(s);
		return -1;
	}
	return s;
}

/* Send m (n bytes) and wait for the reply: a nanomsg message in *reply, or NULL. */
static int exchange(int s, const uint8_t *m, size_t n, uint8_t **reply, size_t *rn)
{
	int got;

	*reply = NULL, *rn = 0;
	if (nn_send(s, m, n, 0) < 0) {
		fprintf(stderr, "raw_client: send: %s\n", nn_strerror(nn_errno()));
		return -1;
	}
	if ((got = nn_recv(s, reply, NN_MSG, 0)) < 0) {
		*reply = NULL;
		return 0; /* no answer in time */
	}
	*rn = (size_t)got;
	return 0;
}

static char describe(const uint8_t *r, size_t rn)
{
	if (!r) {
		printf("none\n");
		return 0;
	}
	if (rn >= HEAD_BYTES && r[0] == 'E') {
		printf("E %.*s\n", (int)(rn - HEAD_BYTES), (const char *)r + HEAD_BYTES);
		return 'E';
	}
	if (rn >= 1 && (r[0] == 'A' || r[0] == 'S')) {
		printf("%c %zu\n", r[0], rn);
		return (char)r[0];
	}
	printf("X %d\n", rn ? r[0] : -1);
	return 'X';
}

/* A crafted request of the given kind; *m owned by the caller. */
static int craft(const char *kind, uint8_t **m, size_t *n)
{
	size_t len;
	uint8_t *b;

	if (!strcmp(kind, "garbage") || !strcmp(kind, "short"))
		len = kind[0] == 'g' ? 300 : 3;
	else if (!strcmp(kind, "hello-truncated"))
		len = HEAD_BYTES + 8 + 4 + 20;
	else if (!strcmp(kind, "hello-bad-magic") || !strcmp(kind, "hello-zero-key"))
		len = HEAD_BYTES + 8 + 4 + 64;
	else if (!strcmp(kind, "oversized"))
		len = OVERSIZED;
	else if (!strcmp(kind, "unknown-session"))
		len = HEAD_BYTES + 8 + 64 + 16;
	else if (!strcmp(kind, "sealed-short"))
		len = HEAD_BYTES + 4;
	else
		return -1;
	if (!(b = malloc(len)))
		return -1;
	for (size_t i = 0; i < len; i++)
		b[i] = rnd8();
	if (kind[0] == 'g' && (b[0] == 'H' || b[0] == 'S'))
		b[0] = 'Z';
	if (!strncmp(kind, "hello", 5)) {
		b[0] = 'H';
		memset(b + 1, 0, SID_BYTES);
		memcpy(b + HEAD_BYTES, kind[6] == 'b' ? "HMSYNC99" : "HMSYNC01", 8);
		b[HEAD_BYTES + 8] = 0, b[HEAD_BYTES + 9] = 1, b[HEAD_BYTES + 10] = 0,
		               b[HEAD_BYTES + 11] = 1;
		if (kind[6] == 'z')
			memset(b + HEAD_BYTES + 12, 0, 32);
	} else if (kind[0] == 'o') {
		b[0] = 'H'; /* would be a hello, were it not far too big */
	} else if (kind[0] == 'u' || kind[1] == 'e') {
		b[0] = 'S';
		memset(b + HEAD_BYTES, 0, kind[0] == 'u' ? 8 : 4); /* counter 0 */
	}
	*m = b, *n = len;
	return 0;
}

static int cmd_send(const char *url, const char *kind)
{
	uint8_t *m, *r;
	size_t n, rn;
	int s, rc = 2;

	if (craft(kind, &m, &n))
		return 2;
	if ((s = sock_open(NN_REQ, url, 0, REPLY_MS)) < 0)
		goto out;
	if (exchange(s, m, n, &r, &rn) == 0) {
		describe(r, rn);
		if (r)
			nn_freemsg(r);
		rc = 0;
	}
	nn_close(s);
out:
	free(m);
	return rc;
}

static int save(const char *dir, const char *what, int i, const void *p, size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%d", dir, what, i);
	if (!(f = fopen(path, "wb")))
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static int cmd_proxy(const char *listen, const char *url, const char *dir)
{
	int front = sock_open(NN_REP, listen, 1, PROXY_IDLE), back, rc = 2;

	if (front < 0)
		return 2;
	if ((back = sock_open(NN_REQ, url, 0, PROXY_IDLE)) < 0) {
		nn_close(front);
		return 2;
	}
	printf("proxying\n");
	fflush(stdout);
	for (int i = 0; i < CAPTURE_MAX; i++) {
		uint8_t *req = NULL, *rep = NULL;
		int n = nn_recv(front, &req, NN_MSG, 0), rn;
		if (n < 0) {
			rc = 0; /* idle: the session is over */
			break;
		}
		if (save(dir, "c2s", i, req, (size_t)n) || nn_send(back, req, (size_t)n, 0) < 0 ||
		    (rn = nn_recv(back, &rep, NN_MSG, 0)) < 0 ||
		    save(dir, "s2c", i, rep, (size_t)rn) ||
		    nn_send(front, rep, (size_t)rn, 0) < 0) {
			fprintf(stderr, "raw_client: proxy: %s\n", nn_strerror(nn_errno()));
			nn_freemsg(req);
			if (rep)
				nn_freemsg(rep);
			break;
		}
		nn_freemsg(req);
		nn_freemsg(rep);
	}
	nn_close(back);
	nn_close(front);
	return rc;
}

static uint8_t *load(const char *dir, const char *name, size_t *n)
{
	char path[4200];
	FILE *f;
	uint8_t *b = NULL;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)len)) && fread(b, 1, (size_t)len, f) != (size_t)len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*n = b ? (size_t)len : 0;
	return b;
}

/* One replay step: send m, describe the reply; 1 when the server answered with a sealed
 * frame (it accepted the replayed frame into a session). */
static int replay_step(int s, const char *what, const uint8_t *m, size_t n, uint8_t *sid_out)
{
	uint8_t *r;
	size_t rn;
	char t;

	printf("%s: ", what);
	if (exchange(s, m, n, &r, &rn))
		return 2;
	t = describe(r, rn);
	if (sid_out && r && t == 'A')
		memcpy(sid_out, r + 1, SID_BYTES);
	if (r)
		nn_freemsg(r);
	return t == 'S' ? 1 : 0;
}

static int cmd_replay(const char *url, const char *dir)
{
	size_t hn, an;
	uint8_t *hello = load(dir, "c2s-0", &hn), *auth = load(dir, "c2s-1", &an);
	uint8_t sid[SID_BYTES] = {0};
	int s = -1, bad = 0, r;

	if (!hello || !auth || hello[0] != 'H' || an < HEAD_BYTES || auth[0] != 'S') {
		fprintf(stderr, "raw_client: replay: no captured hello and auth in %s\n", dir);
		bad = 2;
		goto out;
	}
	if ((s = sock_open(NN_REQ, url, 0, REPLY_MS)) < 0) {
		bad = 2;
		goto out;
	}
	/* The recorded auth, exactly: its session ended with the recorded bye. */
	if ((r = replay_step(s, "auth as recorded", auth, an, NULL)))
		bad = r;
	/* The recorded hello: the server must answer with a new session. */
	if ((r = replay_step(s, "hello as recorded", hello, hn, sid)))
		bad = r;
	/* The recorded auth in that new session: signed for another T1, sealed under other keys. */
	memcpy(auth + 1, sid, SID_BYTES);
	if ((r = replay_step(s, "auth in the new session", auth, an, NULL)))
		bad = r;
out:
	if (s >= 0)
		nn_close(s);
	free(hello);
	free(auth);
	return bad;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_flood(const char *url, const char *seconds)
{
	double until = now_s() + strtod(seconds, NULL);
	unsigned long sent = 0, accepted = 0;
	uint8_t m[HEAD_BYTES + 8 + 4 + 64];
	int s;

	if ((s = sock_open(NN_REQ, url, 0, REPLY_MS)) < 0)
		return 2;
	m[0] = 'H';
	memset(m + 1, 0, SID_BYTES);
	memcpy(m + HEAD_BYTES, "HMSYNC01", 8);
	m[HEAD_BYTES + 8] = 0, m[HEAD_BYTES + 9] = 1, m[HEAD_BYTES + 10] = 0,
	               m[HEAD_BYTES + 11] = 1;
	while (now_s() < until) {
		uint8_t *r;
		size_t rn;
		for (size_t i = HEAD_BYTES + 12; i < sizeof(m); i++)
			m[i] = rnd8();
		if (exchange(s, m, sizeof(m), &r, &rn))
			break;
		sent++;
		if (r && rn > 0 && r[0] == 'A')
			accepted++;
		if (r)
			nn_freemsg(r);
	}
	nn_close(s);
	printf("flood: %lu hellos sent, %lu accepted\n", sent, accepted);
	return sent >= 256 ? 0 : 1;
}

/* The words of a hostile peer's refusal: an ESC sequence that clears the screen, a C1 CSI, a
 * newline that would forge a log line, a bidi override, DEL and a byte that is not UTF-8. */
static const char hostile_text[] = "no\x1b[2J\xc2\x9b"
                                   "31m\nstatus  released\xe2\x80\xae"
                                   "\x7f\xff";

static int cmd_refuse(const char *listen)
{
	int s = sock_open(NN_REP, listen, 1, PROXY_IDLE);
	uint8_t m[HEAD_BYTES + sizeof(hostile_text)] = {'E'};

	if (s < 0)
		return 2;
	memcpy(m + HEAD_BYTES, hostile_text, sizeof(hostile_text) - 1);
	printf("refusing\n");
	fflush(stdout);
	for (int i = 0; i < CAPTURE_MAX; i++) {
		uint8_t *req = NULL;
		if (nn_recv(s, &req, NN_MSG, 0) < 0)
			break; /* idle */
		nn_freemsg(req);
		if (nn_send(s, m, sizeof(m) - 1, 0) < 0)
			break;
	}
	nn_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "flood"))
		return cmd_flood(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "proxy"))
		return cmd_proxy(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "replay"))
		return cmd_replay(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "refuse"))
		return cmd_refuse(argv[2]);
	fprintf(stderr, "usage: raw_client send URL KIND | proxy LISTEN URL DIR | replay URL DIR | "
	                "flood URL SECONDS | refuse LISTEN\n");
	return 2;
}
