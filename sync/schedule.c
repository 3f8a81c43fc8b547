/*
 * schedule.c - the daemon's schedule: when each peer's next sync is due, the backoff after
 * failures (docs/protocol.md, "The daemon"), and what a full disk changes. The daemon runs the
 * syncs; this file only decides.
 */
#include "sync_int.h"

#include <string.h>
#include <sys/statvfs.h>

#define DISK_EVERY_MS 1000
#define SYNC_FAILED   "the sync process failed"

/* Equal jitter: thirty villages that lost their hub together do not come back in step, and the
 * first retry still comes within HM_RETRY_FIRST_MS of the failure. */
uint64_t hm_retry_delay_ms(unsigned n, uint32_t r)
{
	unsigned shift = n > 1 ? (n - 1 > 7 ? 7 : n - 1) : 0;
	uint64_t d = (uint64_t)HM_RETRY_FIRST_MS << shift;

	if (d > HM_RETRY_MAX_MS)
		d = HM_RETRY_MAX_MS;
	return d / 2 + (uint64_t)((double)(d / 2) * ((double)r / 4294967295.0));
}

uint64_t hm_retry_draw_ms(unsigned n)
{
	uint32_t r;

	hm_random_bytes(&r, sizeof(r));
	return hm_retry_delay_ms(n, r);
}

bool hm_disk_full(const char *dir, uint64_t *free_bytes)
{
	struct statvfs vfs;

	*free_bytes = UINT64_MAX;
	if (statvfs(dir, &vfs) != 0)
		return false;
	*free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return *free_bytes < HM_DISK_LOW;
}

void hm_schedule_init(hm_schedule *s, const char *dir, hm_peers *ps, unsigned every_s)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->peers = ps;
	s->every_ms = (uint64_t)every_s * 1000;
	for (size_t i = 0; i < ps->n; i++)
		ps->p[i].next_try = 0, ps->p[i].running = false;
}

bool hm_schedule_due(const hm_schedule *s, const hm_link *l, uint64_t now)
{
	(void)s;
	return !l->running && now >= l->next_try;
}

void hm_schedule_started(hm_schedule *s, hm_link *l)
{
	l->running = true;
	hm_disk_full(s->dir, &l->free_at_start);
}

/* A sync with l failed on a full disk. If space was freed while it ran, it is tried again at
 * once; otherwise the disk counts as full until space is freed (hm_schedule_disk). */
static void disk_failed(hm_schedule *s, hm_link *l, uint64_t now)
{
	uint64_t free_bytes;

	hm_disk_full(s->dir, &free_bytes);
	if (free_bytes == UINT64_MAX || l->free_at_start == UINT64_MAX)
		return; /* not measurable: the backoff stands */
	if (free_bytes > l->free_at_start + HM_DISK_LOW) {
		l->next_try = now;
		return;
	}
	s->failed_full = true, s->full_free = free_bytes;
	s->disk_checked = 0; /* say so now */
}

/* Why a sync that did not succeed failed: the reason it reported, else its last log line
 * (no report: it died; or a summary with a failing exit: the record of the sync was not
 * saved), else that it failed. */
static const char *failure_reason(const hm_sync_result *r)
{
	const char *why = !r->summary && r->error ? r->error : SYNC_FAILED;

	if (!strcmp(why, SYNC_FAILED) && r->last_line && *r->last_line)
		why = r->last_line;
	return why;
}

hm_sync_outcome hm_schedule_finished(hm_schedule *s, hm_link *l, uint64_t now,
                                     const hm_sync_result *r)
{
	bool was_down = l->failures > 0;

	l->running = false;
	if (!r->summary || !r->exit_ok) {
		hm_link_failed(l, now, failure_reason(r));
		if (strstr(l->reason, "the disk is full")) /* ours, not the link's */
			disk_failed(s, l, now);
		return HM_SYNC_FAILED;
	}
	hm_link_succeeded(l, now, r->sent, r->received, s->every_ms);
	return was_down ? HM_SYNC_BACK : HM_SYNC_DONE;
}

hm_disk_change hm_schedule_disk(hm_schedule *s, uint64_t now, uint64_t *free_bytes)
{
	bool full;

	*free_bytes = UINT64_MAX;
	if (s->disk_checked && now - s->disk_checked < DISK_EVERY_MS)
		return HM_DISK_SAME;
	s->disk_checked = now;
	full = hm_disk_full(s->dir, free_bytes);
	if (s->failed_full && *free_bytes <= s->full_free + HM_DISK_LOW)
		full = true;
	else
		s->failed_full = false;
	if (full == s->disk_full)
		return HM_DISK_SAME;
	s->disk_full = full;
	if (full)
		return HM_DISK_FULL;
	for (size_t i = 0; i < s->peers->n; i++)
		if (s->peers->p[i].failures && !s->peers->p[i].running)
			s->peers->p[i].next_try = now;
	return HM_DISK_ROOM;
}
