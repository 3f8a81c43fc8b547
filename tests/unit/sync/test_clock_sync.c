/* test_clock_sync.c - a station learns how far its clock is from its peers' (issue #10, part 5).
 * A sync handshake carries the server's wall clock to the client (and the client's to the
 * server): the client records the offset for `hamlet status`, and one beyond the drift bound is
 * said in both nodes' logs. A full sync runs in process over an in-memory pair (mempipe.h: the
 * real server code at its far end), between real LMDB nodes with injected clocks. */
#include "sync_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	st_sync_ok(m.v1.n, m.c.n, NULL, &st, NULL);
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
	st_sync_ok(m.v1.n, m.c.n, NULL, &st, NULL);
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
	st_sync_ok(m.v1.n, m.c.n, NULL, &st, NULL);
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
