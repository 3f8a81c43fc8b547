/* bench_common.h - what the benchmarks share: a clock, a seeded generator, the person record
 * they all write, and a buffer of collected envelopes to apply in bundle-sized batches. */
#ifndef HAMLET_BENCH_COMMON_H
#define HAMLET_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define FIELDS_PER_RECORD 8

/* Monotonic seconds. */
double now_secs(void);
/* splitmix64: the next value of the sequence seeded by *s. */
uint64_t splitmix(uint64_t *s);
/* rm -r: a node directory, a bundle or the whole data directory; complains, never fails. */
void remove_tree(const char *path);
/* A string value viewing s (not copied). */
hm_value str_value(const char *s);
/* The 8 field operations of one person, with values of realistic sizes. */
hm_err write_person(hm_write *w, const char *id, uint64_t *rng);
/* The median of v[0..n) (sorts v). */
double median(double *v, int n);

/* Envelopes copied out of hm_node_changesets, back to back in data. */
typedef struct envs {
	uint8_t *data;
	size_t used, cap;
	size_t *off, *len;
	size_t n, ncap;
} envs;

/* hm_node_changesets callback: appends the envelope to ctx (an envs); 1 when out of memory. */
int collect_one(void *ctx, const hm_changeset_view *cs);
void envs_release(envs *e);
/* The end of the batch starting at from, cut as hm_bundle_import cuts them. */
size_t batch_end(const envs *e, size_t from);

#endif
