/*
 * test_schedule.c - the daemon's schedule (sync/schedule.c): the backoff of docs/protocol.md
 * ("retry n comes after a delay drawn uniformly from [d/2, d], d = 5 s x 2^(n-1), at most 10
 * minutes"), the outcome of a sync child, when a peer is due, and what a full disk changes,
 * measured on the real file system of a scratch folder.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "sync.h"

#define T0 1765000000000ull

/* The bounds of each retry, at both ends of the random draw. */
static void test_backoff_bounds(void **state)
{
	(void)state;
	assert_int_equal(hm_retry_delay_ms(1, 0), 2500);
	assert_int_equal(hm_retry_delay_ms(1, UINT32_MAX), 5000);
	assert_int_equal(hm_retry_delay_ms(0, UINT32_MAX), 5000);
	assert_int_equal(hm_retry_delay_ms(2, 0), 5000);
	assert_int_equal(hm_retry_delay_ms(2, UINT32_MAX), 10000);
	assert_int_equal(hm_retry_delay_ms(3, UINT32_MAX), 20000);
	assert_int_equal(hm_retry_delay_ms(3, UINT32_MAX / 2), 14999); /* the middle, truncated */
	/* doubling up to 5 s << 6 = 320 s; the next would be 640 s: the cap, 10 minutes */
	for (unsigned n = 1; n <= 7; n++)
		assert_int_equal(hm_retry_delay_ms(n, UINT32_MAX), 5000ull << (n - 1));
	assert_int_equal(hm_retry_delay_ms(7, 0), 160000);
	assert_int_equal(hm_retry_delay_ms(8, UINT32_MAX), 600000);
	assert_int_equal(hm_retry_delay_ms(8, 0), 300000);
	assert_int_equal(hm_retry_delay_ms(1000, UINT32_MAX), 600000);
	assert_int_equal(hm_retry_delay_ms(UINT32_MAX, 0), 300000);
}

/* Random draws stay in [d/2, d] and spread over it: villages do not come back in step. */
static void test_jitter(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 9; n++) {
		uint64_t d = n >= 8 ? 600000 : 5000ull << (n - 1), lo = UINT64_MAX, hi = 0;
		for (int i = 0; i < 400; i++) {
			uint64_t x = hm_retry_draw_ms(n);
			assert_true(x >= d / 2 && x <= d);
			lo = x < lo ? x : lo, hi = x > hi ? x : hi;
		}
		assert_true(lo < d / 2 + d / 8); /* 400 draws all in one quarter: not uniform */
		assert_true(hi > d - d / 8);
	}
}

static void scratch_dir(char *dir, size_t cap, const char *name)
{
	test_scratch_path(dir, cap, "schedule", name);
	assert_int_equal(mkdir(dir, 0700), 0);
}

/* One peer, "hub", scheduled every minute from a fresh scratch folder named name. */
static hm_link *one_peer(char *dir, size_t cap, const char *name, hm_peers *ps, hm_schedule *s)
{
	scratch_dir(dir, cap, name);
	memset(ps, 0, sizeof(*ps));
	assert_int_equal(hm_peers_add(ps, "hub", "tcp://127.0.0.1:1"), HM_OK);
	hm_schedule_init(s, dir, ps, 60);
	return &ps->p[0];
}

/* Due at once, not while running, then after the backoff or the period. */
static void test_due_and_outcome(void **state)
{
	char dir[1024];
	hm_peers ps;
	hm_schedule s;
	hm_link *l;
	hm_sync_result died = {.exit_ok = false, .last_line = "hamlet: killed"};
	hm_sync_result ok = {
	    .summary = true, .exit_ok = true, .sent = 2, .received = 3, .peer_region = "lin"};
	(void)state;

	l = one_peer(dir, sizeof(dir), "due", &ps, &s);
	assert_true(hm_schedule_due(&s, l, T0));
	hm_schedule_started(&s, l);
	assert_false(hm_schedule_due(&s, l, T0 + 3600000));
	for (unsigned n = 1; n <= 9; n++) {
		uint64_t d = n >= 8 ? 600000 : 5000ull << (n - 1), now = T0 + n * 1000000;
		assert_int_equal(hm_schedule_finished(&s, l, now, &died), HM_SYNC_FAILED);
		assert_int_equal(l->failures, n);
		assert_string_equal(l->reason, "hamlet: killed");
		assert_true(l->next_try >= now + d / 2 && l->next_try <= now + d);
		assert_false(hm_schedule_due(&s, l, now + d / 2 - 1));
		assert_true(hm_schedule_due(&s, l, now + d));
		hm_schedule_started(&s, l);
	}
	assert_int_equal(hm_schedule_finished(&s, l, T0 + 20000000, &ok), HM_SYNC_BACK);
	assert_int_equal(l->failures, 0);
	assert_string_equal(l->reason, "");
	assert_int_equal(l->next_try, T0 + 20000000 + 60000);
	hm_schedule_started(&s, l);
	assert_int_equal(hm_schedule_finished(&s, l, T0 + 20060000, &ok), HM_SYNC_DONE);
	assert_int_equal(l->sent, 4);
	assert_int_equal(l->received, 6);
}

/* Which reason a failed child leaves: its own report, else its last log line, else a default. */
static void test_reason(void **state)
{
	char dir[1024];
	hm_peers ps;
	hm_schedule s;
	hm_link *l;
	(void)state;

	l = one_peer(dir, sizeof(dir), "reason", &ps, &s);
	const struct {
		hm_sync_result r;
		const char *reason;
	} cases[] = {
	    {{.error = "the peer accepts no connection", .last_line = "x"},
	     "the peer accepts no connection"},
	    {{.error = "the sync process failed", .last_line = "hamlet: sync: out of memory"},
	     "hamlet: sync: out of memory"},
	    {{.summary = true, .exit_ok = false, .last_line = "hamlet: sync: record not saved"},
	     "hamlet: sync: record not saved"},
	    {{.summary = true, .exit_ok = false}, "the sync process failed"},
	    {{.exit_ok = true}, "the sync process failed"},
	    {{.exit_ok = true, .last_line = "segfault"}, "segfault"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hm_schedule_started(&s, l);
		assert_int_equal(hm_schedule_finished(&s, l, T0, &cases[i].r), HM_SYNC_FAILED);
		assert_string_equal(l->reason, cases[i].reason);
	}
}

/* size bytes of real blocks in dir/name (fsynced, so the file system counts them). */
static void fill(const char *dir, const char *name, size_t size)
{
	char path[1200], block[65536];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(block, 'x', sizeof(block));
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	for (size_t off = 0; off < size; off += sizeof(block))
		assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(close(fd), 0);
}

static void unfill(const char *dir, const char *name)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
	sync();
}

#define BIG                                                                                        \
	((size_t)32 << 20) /* far more than HM_DISK_LOW, and than what others write meanwhile      \
	                    */

/* A sync that failed on a full disk: with no space freed since, the disk counts as full (said
 * once) until space is freed, and then the peers that failed are due at once; with space freed
 * while it ran, it is due again at once. */
static void test_disk_full(void **state)
{
	char dir[1024];
	hm_sync_result full = {.error = "cannot apply: the disk is full"};
	uint64_t free_bytes, now = T0;
	hm_peers ps;
	hm_schedule s;
	hm_link *l;
	(void)state;

	l = one_peer(dir, sizeof(dir), "disk", &ps, &s);
	assert_int_equal(hm_schedule_disk(&s, now, &free_bytes), HM_DISK_SAME);
	assert_true(free_bytes != UINT64_MAX);
	assert_int_equal(hm_schedule_disk(&s, now + 10, &free_bytes), HM_DISK_SAME);

	hm_schedule_started(&s, l);
	fill(dir, "ballast", BIG); /* the disk fills while the sync runs */
	assert_int_equal(hm_schedule_finished(&s, l, now, &full), HM_SYNC_FAILED);
	assert_true(l->next_try > now); /* the backoff stands */
	assert_int_equal(hm_schedule_disk(&s, now, &free_bytes), HM_DISK_FULL);
	assert_int_equal(hm_schedule_disk(&s, now + 1000, &free_bytes), HM_DISK_SAME);
	unfill(dir, "ballast");
	now += 2000;
	assert_int_equal(hm_schedule_disk(&s, now, &free_bytes), HM_DISK_ROOM);
	assert_int_equal(l->next_try, now);
	assert_true(hm_schedule_due(&s, l, now));

	fill(dir, "ballast", BIG);
	hm_schedule_started(&s, l);
	unfill(dir, "ballast"); /* space freed while it ran */
	assert_int_equal(hm_schedule_finished(&s, l, now, &full), HM_SYNC_FAILED);
	assert_int_equal(l->next_try, now);
	assert_int_equal(hm_schedule_disk(&s, now + 5000, &free_bytes), HM_DISK_SAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_bounds),  cmocka_unit_test(test_jitter),
	    cmocka_unit_test(test_due_and_outcome), cmocka_unit_test(test_reason),
	    cmocka_unit_test(test_disk_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
