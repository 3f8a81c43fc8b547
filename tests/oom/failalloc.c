/*
 * failalloc.c - fails the N-th allocation, for the out-of-memory loops (tests/oom/,
 * docs/reliability.md "Out of memory").
 *
 * One interposer of the C allocator rather than a hook per library: hamlet's own code, LMDB,
 * msgpack-c (whose zone and sbuffer call malloc directly: it has no allocator hook), zstd
 * (ZSTD_compress makes its context with malloc), jansson, nanomsg and libsodium all allocate
 * through malloc, calloc, realloc or posix_memalign, so defining these here (and forwarding to
 * glibc's __libc_* functions) puts every one of them behind one counter without touching library
 * code. sodium_malloc (guarded pages from mmap) is not used by hamlet.
 *
 * Two ways to use it:
 * - linked into a test (tests/oom/test_oom.c), which arms it around one operation with
 *   hm_failalloc_arm: only the arming thread's allocations count, so nanomsg's worker threads
 *   cannot make the count vary between runs; blocks allocated while armed are remembered until
 *   freed, so that hm_failalloc_disarm tells how many are still live (a leak check that works
 *   where LeakSanitizer cannot: the sanitizer's allocator and this one cannot both be malloc);
 * - preloaded into a process (LD_PRELOAD), driven by the environment, read at load:
 *     HM_FAILALLOC_N        fail the N-th allocation of the main thread (1-based; 0: only count)
 *     HM_FAILALLOC_FOREVER  1: that one and every later one fail
 *     HM_FAILALLOC_COUNT    a file to which "CALLS FAILED" is appended at exit
 *     HM_FAILALLOC_BT       1: print the stack of the first allocation failed to stderr
 *                           (in process too: where a loop's problem comes from)
 *
 * A failed allocation returns NULL (posix_memalign ENOMEM) with errno ENOMEM, as glibc's does.
 */
#define _GNU_SOURCE
#include "failalloc.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

#define TRACK_SLOTS (1u << 18) /* blocks remembered while armed; beyond: overflow */
#define TOMBSTONE   ((uintptr_t)1)

static _Thread_local int on_armed_thread;
static atomic_int armed, failing;
static unsigned long fail_at, calls, failed;
static int forever, print_stack;
static const char *count_path;

static uintptr_t slots[TRACK_SLOTS];
static size_t live, used;
static int overflow;
static atomic_flag lock = ATOMIC_FLAG_INIT;

static void lock_take(void)
{
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
}

static void lock_give(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

static size_t slot_of(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9e3779b97f4a7c15ull >> 46) & (TRACK_SLOTS - 1);
}

/* Remember p, allocated while armed (lock held). */
static void track_add(void *p)
{
	size_t i = slot_of((uintptr_t)p);

	if (used >= TRACK_SLOTS / 4 * 3) {
		overflow = 1;
		return;
	}
	while (slots[i] > TOMBSTONE)
		i = (i + 1) & (TRACK_SLOTS - 1);
	if (slots[i] == 0)
		used++;
	slots[i] = (uintptr_t)p;
	live++;
}

/* Forget p if it was remembered (lock held). */
static void track_del(void *p)
{
	size_t i = slot_of((uintptr_t)p);

	for (; slots[i] != 0; i = (i + 1) & (TRACK_SLOTS - 1))
		if (slots[i] == (uintptr_t)p) {
			slots[i] = TOMBSTONE;
			live--;
			return;
		}
}

/* Whether this allocation is to fail; counts it. */
static int should_fail(void)
{
	if (!atomic_load_explicit(&failing, memory_order_relaxed) || !on_armed_thread)
		return 0;
	calls++;
	if (fail_at == 0 || calls < fail_at || (calls > fail_at && !forever))
		return 0;
	if (failed++ == 0 && print_stack) {
		void *frames[32];
		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	}
	return 1;
}

static void *fail_null(void)
{
	errno = ENOMEM;
	return NULL;
}

static void note_new(void *p)
{
	if (p && atomic_load_explicit(&armed, memory_order_relaxed)) {
		lock_take();
		track_add(p);
		lock_give();
	}
}

static void note_gone(void *p)
{
	if (p && atomic_load_explicit(&armed, memory_order_relaxed)) {
		lock_take();
		track_del(p);
		lock_give();
	}
}

void *malloc(size_t n)
{
	void *p;

	if (should_fail())
		return fail_null();
	p = __libc_malloc(n);
	note_new(p);
	return p;
}

void *calloc(size_t k, size_t n)
{
	void *p;

	if (should_fail())
		return fail_null();
	p = __libc_calloc(k, n);
	note_new(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	if (!old)
		return malloc(n);
	if (n == 0) {
		free(old);
		return NULL;
	}
	if (should_fail())
		return fail_null(); /* old stays as it was */
	if (!(p = __libc_realloc(old, n)))
		return NULL;
	note_gone(old);
	note_new(p);
	return p;
}

void *reallocarray(void *old, size_t k, size_t n)
{
	if (n && k > SIZE_MAX / n)
		return fail_null();
	return realloc(old, k * n);
}

void free(void *p)
{
	if (!p)
		return;
	note_gone(p);
	__libc_free(p);
}

static void *aligned(size_t align, size_t n)
{
	void *p;

	if (should_fail())
		return fail_null();
	p = __libc_memalign(align, n);
	note_new(p);
	return p;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	if (!(p = aligned(align, n)))
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
	return aligned(align, n);
}

void *memalign(size_t align, size_t n)
{
	return aligned(align, n);
}

void *valloc(size_t n)
{
	return aligned((size_t)sysconf(_SC_PAGESIZE), n);
}

void hm_failalloc_arm(unsigned long n, int fail_forever)
{
	const char *bt = getenv("HM_FAILALLOC_BT");

	if ((print_stack = bt && *bt == '1')) {
		void *frame;
		backtrace(&frame, 1); /* loads libgcc_s now, not while failing */
	}
	lock_take();
	memset(slots, 0, sizeof(slots));
	live = used = 0;
	overflow = 0;
	lock_give();
	fail_at = n;
	forever = fail_forever;
	calls = failed = 0;
	on_armed_thread = 1;
	atomic_store(&armed, 1);
	atomic_store(&failing, 1);
}

void hm_failalloc_stop(hm_failalloc_stats *st)
{
	atomic_store(&failing, 0);
	if (st) {
		st->calls = calls;
		st->failed = failed;
	}
}

void hm_failalloc_disarm(hm_failalloc_stats *st)
{
	hm_failalloc_stop(st);
	atomic_store(&armed, 0);
	on_armed_thread = 0;
	if (st) {
		lock_take();
		st->live = live;
		st->overflow = overflow;
		lock_give();
	}
}

/* The preloaded use: armed from the environment, counts written at exit. */
__attribute__((constructor)) static void failalloc_load(void)
{
	const char *v = getenv("HM_FAILALLOC_N");

	count_path = getenv("HM_FAILALLOC_COUNT");
	if (!v && !count_path)
		return;
	fail_at = v ? strtoul(v, NULL, 10) : 0;
	forever = (v = getenv("HM_FAILALLOC_FOREVER")) && *v == '1';
	if ((print_stack = (v = getenv("HM_FAILALLOC_BT")) && *v == '1')) {
		void *frame;
		backtrace(&frame, 1);
	}
	on_armed_thread = 1;
	atomic_store(&failing, 1);
}

__attribute__((destructor)) static void failalloc_unload(void)
{
	char line[64];
	int fd, len;

	if (!count_path)
		return;
	len = snprintf(line, sizeof(line), "%lu %lu\n", calls, failed);
	if ((fd = open(count_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return;
	if (write(fd, line, (size_t)len) < 0) {
		/* a test's bookkeeping: nothing to do */
	}
	close(fd);
}
