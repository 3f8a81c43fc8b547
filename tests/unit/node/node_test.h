/* node_test.h - shared helpers of the node/ unit tests: scratch directories, an injected clock,
 * nodes in temporary directories, envelopes moved between nodes, and state snapshots. */
#ifndef HM_TEST_NODE_H
#define HM_TEST_NODE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node_int.h"

#define TEST_REGION "hexi/t1/v1"
#define TEST_T0_MS  1780000000000ull /* a fixed "now": 2026-05-28 */

/* The injected clock: now_ms, frozen until a test moves it. */
typedef struct test_clock {
	uint64_t now_ms;
} test_clock;

uint64_t test_clock_fn(void *ctx);

/* A node in a scratch directory, with its own clock. */
typedef struct test_node {
	hm_node *n;
	test_clock clock;
	hm_node_opts opts;
	char dir[1024];
} test_node;

/* "$HAMLET_TEST_TMP/<name>" (a /tmp fallback), removed with all it holds. */
void test_scratch_dir(char *out, size_t cap, const char *name);
/* Create and open a node in the scratch directory name, its clock at TEST_T0_MS + skew. opts may
 * be NULL; its clock fields are replaced by the test clock. */
void test_node_init(test_node *t, const char *name, int64_t skew_ms, const hm_node_opts *opts);
/* Close and open the node again (the clock stays as it is). */
void test_node_reopen(test_node *t);
void test_node_release(test_node *t);

/* Owned copies of envelopes. */
typedef struct test_envs {
	hm_bytes *v; /* each v[i].p owned */
	size_t n, cap;
} test_envs;

void test_envs_push(test_envs *e, const void *p, size_t n);
void test_envs_release(test_envs *e);
/* Every change set of node beyond since (NULL: all), copied. */
void test_envs_collect(hm_node *n, const hm_vv *since, test_envs *out);
/* The envelope of the last change set origin wrote (seq == that origin's head on n). */
void test_envs_last(hm_node *n, const hm_node_id *origin, test_envs *out);

/* Apply one envelope and return its outcome (the call itself must succeed). */
hm_apply_outcome test_apply1(hm_node *n, const hm_bytes *env);
/* Apply every envelope of src's oplog to dst, in one batch. */
void test_sync(hm_node *dst, hm_node *src);

/* One-write helpers: each commits one change set and returns the commit's result. */
hm_err test_set_str(hm_node *n, const char *coll, const char *id, const char *field,
                    const char *text, hm_changeset_info *info);
hm_err test_add(hm_node *n, const char *coll, const char *id, const char *field, int64_t delta,
                hm_changeset_info *info);
hm_err test_del(hm_node *n, const char *coll, const char *id, hm_changeset_info *info);
/* Create person/<id> with name (and the node's village). */
void test_person(hm_node *n, const char *id, const char *name, hm_changeset_info *info);
/* A string value borrowing text. */
hm_value test_str(const char *text);

/* The string value of field of coll/id as a NUL-terminated copy in buf; NULL when the record
 * is absent, deleted or the field is not set. */
const char *test_get_str(hm_node *n, const char *coll, const char *id, const char *field, char *buf,
                         size_t cap);
/* The same, of the record of that id in region (NULL: the one hm_node_get finds). */
const char *test_get_str_at(hm_node *n, const char *coll, const char *id, const char *region,
                            const char *field, char *buf, size_t cap);

/* Everything a refused operation must leave unchanged. */
typedef struct test_state {
	hm_hash digest;
	char *vv; /* owned */
	hm_node_info info;
} test_state;

void test_state_take(hm_node *n, test_state *s);
/* Fails unless n's digest, version vector and change-set, record and conflict counts equal s. */
void test_state_assert_same(hm_node *n, const test_state *s);
void test_state_release(test_state *s);

/* Conflict-log entries of one record, counted with a matching loser value (NULL: any). */
size_t test_conflicts_count(hm_node *n, const char *coll, const char *id, const char *field,
                            const char *loser, int by_delete);

/* A fixed-seed xorshift64* generator for property tests: set test_rng_state, then draw. */
extern uint64_t test_rng_state;
uint64_t test_rng_next(void);
unsigned test_rng_below(unsigned n);

/* The seq n's version vector holds for origin (0: none). */
uint64_t test_vv_seq(hm_node *n, const hm_node_id *origin);

#endif
