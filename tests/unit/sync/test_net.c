/*
 * test_net.c - sync/net.c's TCP sockets, over real nanomsg sockets on 127.0.0.1: every one a
 * server listens, accepts or a client connects on waits at most HM_NET_RTO_MAX_MS before
 * sending a lost segment again (docs/reliability.md, "Links"), where Linux's default is two
 * minutes; a connection accepted from a client that is not hamlet's has it from the listening
 * socket. Skipped on a kernel without the setting (older than Linux 6.15).
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync.h"

#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44
#endif

typedef struct tcp_count {
	int listening, connected; /* TCP sockets of this process */
	int capped;               /* of those, with the ceiling at HM_NET_RTO_MAX_MS */
	int other;                /* with any other ceiling */
} tcp_count;

/* Every TCP socket of this process, by what it is and its ceiling; skips the test when the
 * kernel does not know the setting. */
static tcp_count count_tcp(void)
{
	tcp_count n = {0};
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	assert_non_null(d);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), proto = 0, listening = 0, ceiling = 0;
		socklen_t len = sizeof(int);
		if (e->d_name[0] == '.' || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) || proto != IPPROTO_TCP)
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len))
			continue; /* closed by nanomsg's thread meanwhile */
		len = sizeof(int);
		if (getsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &ceiling, &len)) {
			if (errno != ENOPROTOOPT)
				continue; /* closed meanwhile */
			closedir(d);
			skip(); /* Linux before 6.15 */
		}
		*(listening ? &n.listening : &n.connected) += 1;
		*(ceiling == HM_NET_RTO_MAX_MS ? &n.capped : &n.other) += 1;
	}
	closedir(d);
	return n;
}

/* A TCP port on 127.0.0.1 nobody listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

/* What a test opened, closed by teardown even when an assertion ended the test early. */
static hm_transport server, client;
static int plain = -1;

static int teardown(void **state)
{
	(void)state;
	if (client.close)
		client.close(client.ctx);
	if (server.close)
		server.close(server.ctx);
	memset(&client, 0, sizeof(client));
	memset(&server, 0, sizeof(server));
	if (plain >= 0)
		close(plain);
	plain = -1;
	return 0;
}

/* Waits until the process holds `connected` connected TCP sockets (nanomsg's thread accepts
 * them), at most 5 s. */
static tcp_count wait_connected(int connected)
{
	tcp_count n = count_tcp();
	for (int i = 0; i < 500 && n.connected < connected; i++) {
		struct timespec nap = {0, 10 * 1000000L};
		nanosleep(&nap, NULL);
		n = count_tcp();
	}
	return n;
}

/* A server on scheme://127.0.0.1 (its URL in url): its listening socket has the ceiling before
 * anyone connects. */
static void listen_on(const char *scheme, char *url, size_t cap)
{
	const char *why = NULL;
	tcp_count n;

	snprintf(url, cap, "%s://127.0.0.1:%d", scheme, free_port());
	assert_int_equal(hm_net_listen(url, &server, &why), HM_OK);
	n = count_tcp();
	assert_int_equal(n.listening, 1);
	assert_int_equal(n.connected, 0);
	assert_int_equal(n.capped, 1);
}

/* And a client connected to it: the client's connection and the one the server accepted have
 * it once the client is connected. */
static void ceiling_over(const char *scheme)
{
	char url[64];
	const char *why = NULL;
	tcp_count n;

	listen_on(scheme, url, sizeof(url));
	assert_int_equal(hm_net_connect_within(url, 5000, &client, &why), HM_OK);
	n = wait_connected(2);
	assert_int_equal(n.connected, 2); /* the client's end and the server's */
	assert_int_equal(n.capped, 3);
	assert_int_equal(n.other, 0);
}

static void test_ceiling_tcp(void **state)
{
	(void)state;
	ceiling_over("tcp");
}

static void test_ceiling_ws(void **state)
{
	(void)state;
	ceiling_over("ws");
}

/* A connection the server accepts from a client that is not hamlet's, in this process (nothing
 * scans after it): the accepted end has the ceiling from its listening socket, the client's end
 * has Linux's own. */
static void test_ceiling_inherited(void **state)
{
	char url[64];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	tcp_count n;

	(void)state;
	listen_on("tcp", url, sizeof(url));
	a.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
	assert_true((plain = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(plain, (struct sockaddr *)&a, sizeof(a)), 0);
	n = wait_connected(2);
	assert_int_equal(n.connected, 2);
	assert_int_equal(n.capped, 2); /* the listening socket and the accepted one */
	assert_int_equal(n.other, 1);  /* the plain client */
}

/* The call itself: it says how many it set, and a socket it did not make gets it too. */
static void test_cap_counts(void **state)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), ceiling = 0;
	socklen_t len = sizeof(ceiling);

	(void)state;
	assert_true(s >= 0);
	if (getsockopt(s, IPPROTO_TCP, TCP_RTO_MAX_MS, &ceiling, &len)) {
		close(s);
		skip();
	}
	assert_int_not_equal(ceiling, HM_NET_RTO_MAX_MS); /* Linux's own: 120 s */
	assert_int_equal(hm_net_cap_retransmit(), 1);
	len = sizeof(ceiling);
	assert_int_equal(getsockopt(s, IPPROTO_TCP, TCP_RTO_MAX_MS, &ceiling, &len), 0);
	assert_int_equal(ceiling, HM_NET_RTO_MAX_MS);
	close(s);
	assert_int_equal(hm_net_cap_retransmit(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_counts),
	    cmocka_unit_test_teardown(test_ceiling_tcp, teardown),
	    cmocka_unit_test_teardown(test_ceiling_ws, teardown),
	    cmocka_unit_test_teardown(test_ceiling_inherited, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
