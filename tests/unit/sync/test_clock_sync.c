/* test_clock_sync.c - a station learns how far its clock is from its peers' (issue #10, part 5).
 * A sync handshake carries the server's wall clock to the client (and the client's to the
 * server): the client records the offset for `hamlet status`, and one beyond the drift bound is
 * said in both nodes' logs. A full sync runs in process over an in-memory transport (the real
 * server code, hm_server_handle), between real LMDB nodes with injected clocks. */
#include "trust_test.h"
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a transport that hands each request to a server in the same process ---- */
typedef struct pipe_tx {
	hm_server *s;
	uint8_t *reply;
	size_t rn;
} pipe_tx;

static hm_err tx_send(void *ctx, const uint8_t *p, size_t n, int timeout_ms)
{
	pipe_tx *t = ctx;
	(void)timeout_ms;
	return hm_server_handle(t->s, p, n, &t->reply, &t->rn);
}

static hm_err tx_recv(void *ctx, uint8_t **p, size_t *n, int timeout_ms)
{
	pipe_tx *t = ctx;
	(void)timeout_ms;
	*p = t->reply, *n = t->rn;
	t->reply = NULL;
	return *p ? HM_OK : HM_ERR_NET;
}

static void tx_free(void *ctx, uint8_t *p)
{
	(void)ctx;
	free(p);
}

static void tx_close(void *ctx)
{
	(void)ctx;
}

/* ---- the log lines of each node ---- */
typedef struct log_seen {
	char text[4][1024];
	size_t n;
} log_seen;

static void keep_log(void *ctx, hm_log_level level, const char *msg)
{
	log_seen *l = ctx;
	if (level == HM_LOG_WARN && strstr(msg, "clock") && l->n < 4)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", msg);
}

static bool logged(const log_seen *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->text[i], what))
			return true;
	return false;
}

/* One sync of client to server (both opened again with the loggers). */
static void sync_once(tnode *client, tnode *server, hm_sync_stats *st)
{
	pipe_tx p = {0};
	hm_transport t = {&p, tx_send, tx_recv, tx_free, tx_close, NULL};
	hm_err err;

	assert_int_equal(hm_server_new(server->n, &p.s), HM_OK);
	if ((err = hm_sync_run(client->n, &t, NULL, st)))
		fail_msg("sync: %s (%s)", hm_strerror(err), hm_sync_errmsg());
	hm_server_free(p.s);
	free(p.reply);
}

static void with_log(tnode *t, log_seen *l)
{
	t->opts.log.fn = keep_log;
	t->opts.log.ctx = l;
	tnode_reopen(t);
}

static void test_offset_measured_and_told(void **state)
{
	tt_mesh m;
	log_seen lc = {0}, lv = {0};
	hm_sync_stats st;
	hm_clock_report k;
	(void)state;

	tt_mesh_init(&m, "clksync");
	with_log(&m.c, &lc);
	with_log(&m.v1, &lv);
	assert_int_equal(hm_node_clock_get(m.v1.n, &k), HM_OK);
	assert_false(k.known);
	assert_int_equal(k.max_drift_ms, TT_DAY_MS);

	/* Within the bound: measured (the county 3 hours ahead), recorded, nothing logged. */
	m.c.clock.now_ms = m.v1.clock.now_ms + 3 * TT_HOUR_MS;
	sync_once(&m.v1, &m.c, &st);
	assert_true(st.clock_known);
	assert_int_equal(st.clock_offset_ms, (int64_t)(3 * TT_HOUR_MS));
	assert_int_equal(hm_node_clock_get(m.v1.n, &k), HM_OK);
	assert_true(k.known);
	assert_false(k.off);
	assert_int_equal(k.offset_ms, (int64_t)(3 * TT_HOUR_MS));
	assert_memory_equal(k.peer.b, m.c.ident.id.b, HM_NODE_ID_BYTES);
	assert_int_equal(k.measured_ms, m.v1.clock.now_ms);
	assert_int_equal(lv.n + lc.n, 0);

	/* The village's clock two days ahead: beyond the bound. Told in its log and status, and
	 * the county's log names the peer; the sync itself still runs. */
	m.v1.clock.now_ms = m.c.clock.now_ms + 2 * TT_DAY_MS;
	test_person(m.v1.n, "v1-p1", "written ahead", NULL);
	sync_once(&m.v1, &m.c, &st);
	assert_int_equal(st.clock_offset_ms, -(int64_t)(2 * TT_DAY_MS));
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.remote.quarantined, 0); /* two days: within two drifts */
	assert_int_equal(hm_node_clock_get(m.v1.n, &k), HM_OK);
	assert_true(k.off);
	assert_true(logged(&lv, "this station's clock is 2 d 0 h ahead of that of peer"));
	assert_true(logged(&lv, "more than the allowed drift (1 d 0 h)"));
	assert_true(logged(&lc, "'s clock is 2 d 0 h ahead of this station's"));

	/* Set right: the next sync clears it. */
	m.v1.clock.now_ms = m.c.clock.now_ms - 1000;
	sync_once(&m.v1, &m.c, &st);
	assert_int_equal(hm_node_clock_get(m.v1.n, &k), HM_OK);
	assert_false(k.off);
	assert_int_equal(k.offset_ms, 1000);
	tt_mesh_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offset_measured_and_told),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
