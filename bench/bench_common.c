/* bench_common.c - see bench_common.h. */
#define _XOPEN_SOURCE 700 /* nftw */

#include "bench_common.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sync.h"

double now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) != 0 && errno != ENOENT;
}

void remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		fprintf(stderr, "bench: could not remove %s: %s\n", path, strerror(errno));
}

hm_value str_value(const char *s)
{
	hm_value v = {.kind = HM_V_STR};
	v.u.s.p = s;
	v.u.s.n = (uint32_t)strlen(s);
	return v;
}

hm_err write_person(hm_write *w, const char *id, uint64_t *rng)
{
	static const char *const origins[] = {"wuhan",   "shanghai", "guangzhou", "beijing",
	                                      "chengdu", "xian",     "nanjing",   "hangzhou"};
	static const char *const status[] = {"home_quarantine", "cleared", "under_observation",
	                                     "referred"};
	char name[48], phone[16], idnum[24], addr[64];
	uint64_t r = splitmix(rng);
	hm_value birth = {.kind = HM_V_INT};
	hm_value v[FIELDS_PER_RECORD];
	static const char *const fields[FIELDS_PER_RECORD] = {
	    "name",       "phone",   "id_number",     "sex",
	    "birth_year", "address", "travel_origin", "status"};
	hm_err err;

	snprintf(name, sizeof(name), "Person %" PRIu64 " Family%u", r % 1000000u,
	         (unsigned)(r >> 20) % 500u);
	snprintf(phone, sizeof(phone), "13%09" PRIu64, (r >> 8) % 1000000000u);
	snprintf(idnum, sizeof(idnum), "42010%013" PRIu64,
	         (uint64_t)(splitmix(rng) % 10000000000000ull));
	snprintf(addr, sizeof(addr), "%u Riverside Road, Building %u, Unit %u",
	         (unsigned)(r >> 32) % 400u, (unsigned)(r >> 40) % 30u, (unsigned)(r >> 48) % 12u);
	birth.u.i = 1930 + (int64_t)((r >> 12) % 90u);
	v[0] = str_value(name), v[1] = str_value(phone), v[2] = str_value(idnum);
	v[3] = str_value((r & 1) ? "F" : "M"), v[4] = birth, v[5] = str_value(addr);
	v[6] = str_value(origins[(r >> 4) % 8]), v[7] = str_value(status[(r >> 7) % 4]);
	for (int f = 0; f < FIELDS_PER_RECORD; f++)
		if ((err = hm_write_set(w, "person", id, fields[f], &v[f])))
			return err;
	return HM_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int collect_one(void *ctx, const hm_changeset_view *cs)
{
	envs *e = ctx;

	if (e->n == e->ncap) {
		size_t cap = e->ncap ? e->ncap * 2 : 1024;
		size_t *o = realloc(e->off, cap * sizeof(*o)), *l;
		if (!o)
			return 1;
		e->off = o;
		if (!(l = realloc(e->len, cap * sizeof(*l))))
			return 1;
		e->len = l, e->ncap = cap;
	}
	if (e->used + cs->envelope.n > e->cap) {
		size_t cap = e->cap ? e->cap : 1 << 20;
		uint8_t *p;
		while (cap < e->used + cs->envelope.n)
			cap *= 2;
		if (!(p = realloc(e->data, cap)))
			return 1;
		e->data = p, e->cap = cap;
	}
	memcpy(e->data + e->used, cs->envelope.p, cs->envelope.n);
	e->off[e->n] = e->used, e->len[e->n] = cs->envelope.n;
	e->used += cs->envelope.n, e->n++;
	return 0;
}

void envs_release(envs *e)
{
	free(e->data), free(e->off), free(e->len);
	memset(e, 0, sizeof(*e));
}

size_t batch_end(const envs *e, size_t from)
{
	size_t to = from, bytes = 0;
	while (to < e->n && to - from < HM_BUNDLE_BATCH_COUNT &&
	       (to == from || bytes + e->len[to] <= HM_BUNDLE_BATCH_BYTES))
		bytes += e->len[to++];
	return to;
}
