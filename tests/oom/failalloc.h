/* failalloc.h - the allocation-failure interposer's controls (failalloc.c), for tests linked
 * with it. Only the thread that arms it has allocations counted and failed. */
#ifndef HM_TEST_FAILALLOC_H
#define HM_TEST_FAILALLOC_H

#include <stddef.h>

typedef struct hm_failalloc_stats {
	unsigned long calls;  /* allocations the arming thread made while failing was on */
	unsigned long failed; /* of which failed */
	size_t live;          /* blocks allocated while armed and not freed yet */
	int overflow;         /* too many blocks to remember: live is a lower bound */
} hm_failalloc_stats;

/* Count this thread's allocations from now on and fail the n-th (1-based; 0: none), and with
 * forever every one after it too; remember every block allocated (by any thread) until freed. */
void hm_failalloc_arm(unsigned long n, int forever);
/* Stop failing and counting; blocks are still remembered. st (may be NULL): calls and failed. */
void hm_failalloc_stop(hm_failalloc_stats *st);
/* Stop everything. st (may be NULL): calls, failed, and the blocks still live. */
void hm_failalloc_disarm(hm_failalloc_stats *st);

#endif
