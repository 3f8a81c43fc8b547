/* node_test.c - helpers for the node/ unit tests. */
#define _XOPEN_SOURCE 700
#include "node_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"

uint64_t test_clock_fn(void *ctx)
{
	return ((test_clock *)ctx)->now_ms;
}

void test_scratch_dir(char *out, size_t cap, const char *name)
{
	test_scratch_path(out, cap, "node", name);
}

void test_node_init(test_node *t, const char *name, int64_t skew_ms, const hm_node_opts *opts)
{
	hm_err err;

	memset(t, 0, sizeof(*t));
	if (opts)
		t->opts = *opts;
	t->clock.now_ms = (uint64_t)((int64_t)TEST_T0_MS + skew_ms);
	t->opts.clock = test_clock_fn;
	t->opts.clock_ctx = &t->clock;
	test_scratch_dir(t->dir, sizeof(t->dir), name);
	err = hm_node_create(t->dir, HM_ROLE_VILLAGE, TEST_REGION, name, &t->opts, NULL);
	if (err)
		fail_msg("creating node %s: %s", name, hm_strerror(err));
	err = hm_node_open(t->dir, &t->opts, &t->n);
	if (err)
		fail_msg("opening node %s: %s", name, hm_strerror(err));
}

void test_node_reopen(test_node *t)
{
	hm_node_close(t->n);
	t->n = NULL;
	assert_int_equal(hm_node_open(t->dir, &t->opts, &t->n), HM_OK);
}

void test_node_release(test_node *t)
{
	hm_node_close(t->n);
	t->n = NULL;
}

void test_envs_push(test_envs *e, const void *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	memcpy(copy, p, n);
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		hm_bytes *v = realloc(e->v, cap * sizeof(*v));
		assert_non_null(v);
		e->v = v, e->cap = cap;
	}
	e->v[e->n].p = copy;
	e->v[e->n].n = n;
	e->n++;
}

void test_envs_release(test_envs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free((void *)e->v[i].p);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static int collect_one(void *ctx, const hm_changeset_view *cs)
{
	test_envs_push(ctx, cs->envelope.p, cs->envelope.n);
	return 0;
}

void test_envs_collect(hm_node *n, const hm_vv *since, test_envs *out)
{
	assert_int_equal(hm_node_changesets(n, since, collect_one, out), HM_OK);
}

void test_envs_last(hm_node *n, const hm_node_id *origin, test_envs *out)
{
	hm_vv vv;
	size_t before = out->n;

	/* Ask for what lies beyond (head - 1) of origin and beyond the head of everyone else. */
	assert_int_equal(hm_node_version_vector(n, &vv), HM_OK);
	for (size_t i = 0; i < vv.n; i++)
		if (memcmp(vv.v[i].origin.b, origin->b, HM_NODE_ID_BYTES) == 0)
			vv.v[i].seq--;
	test_envs_collect(n, &vv, out);
	hm_vv_release(&vv);
	assert_int_equal(out->n, before + 1);
}

hm_apply_outcome test_apply1(hm_node *n, const hm_bytes *env)
{
	hm_apply_outcome out = (hm_apply_outcome)-1;
	hm_apply_stats st = {0};

	assert_int_equal(hm_node_apply(n, env, 1, &st, &out), HM_OK);
	return out;
}

void test_sync(hm_node *dst, hm_node *src)
{
	test_envs e = {0};
	hm_apply_stats st = {0};

	test_envs_collect(src, NULL, &e);
	assert_int_equal(hm_node_apply(dst, e.v, e.n, &st, NULL), HM_OK);
	test_envs_release(&e);
}

hm_value test_str(const char *text)
{
	hm_value v = {.kind = HM_V_STR};

	v.u.s.p = text;
	v.u.s.n = (uint32_t)strlen(text);
	return v;
}

hm_err test_set_str(hm_node *n, const char *coll, const char *id, const char *field,
                    const char *text, hm_changeset_info *info)
{
	hm_write *w;
	hm_value v = test_str(text);
	hm_err err;

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	if ((err = hm_write_set(w, coll, id, field, &v))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

hm_err test_add(hm_node *n, const char *coll, const char *id, const char *field, int64_t delta,
                hm_changeset_info *info)
{
	hm_write *w;
	hm_err err;

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	if ((err = hm_write_add(w, coll, id, field, delta))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

hm_err test_del(hm_node *n, const char *coll, const char *id, hm_changeset_info *info)
{
	hm_write *w;
	hm_err err;

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	if ((err = hm_write_del(w, coll, id))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

void test_person(hm_node *n, const char *id, const char *name, hm_changeset_info *info)
{
	hm_err err = test_set_str(n, "person", id, "name", name, info);
	if (err)
		fail_msg("creating person/%s: %s (%s)", id, hm_strerror(err), hm_node_errmsg(n));
}

const char *test_get_str(hm_node *n, const char *coll, const char *id, const char *field, char *buf,
                         size_t cap)
{
	return test_get_str_at(n, coll, id, NULL, field, buf, cap);
}

const char *test_get_str_at(hm_node *n, const char *coll, const char *id, const char *region,
                            const char *field, char *buf, size_t cap)
{
	hm_record *r = NULL;
	const hm_field *f;
	const char *out = NULL;
	hm_err err = hm_node_get_at(n, coll, id, region, &r);

	if (err == HM_ERR_NOT_FOUND)
		return NULL;
	assert_int_equal(err, HM_OK);
	f = hm_record_field(r, field);
	if (f && f->value.kind == HM_V_STR) {
		assert_true(f->value.u.s.n < cap);
		memcpy(buf, f->value.u.s.p, f->value.u.s.n);
		buf[f->value.u.s.n] = 0;
		out = buf;
	}
	hm_record_free(r);
	return out;
}

void test_state_take(hm_node *n, test_state *s)
{
	hm_vv vv;

	memset(s, 0, sizeof(*s));
	assert_int_equal(hm_node_digest(n, NULL, &s->digest), HM_OK);
	assert_int_equal(hm_node_version_vector(n, &vv), HM_OK);
	assert_int_equal(hm_vv_format(&vv, &s->vv), HM_OK);
	hm_vv_release(&vv);
	assert_int_equal(hm_node_info_get(n, &s->info), HM_OK);
}

void test_state_assert_same(hm_node *n, const test_state *s)
{
	test_state now;

	test_state_take(n, &now);
	assert_true(hm_hash_equal(&now.digest, &s->digest));
	assert_string_equal(now.vv, s->vv);
	assert_int_equal(now.info.seq, s->info.seq);
	assert_int_equal(now.info.hlc, s->info.hlc);
	assert_int_equal(now.info.records, s->info.records);
	assert_int_equal(now.info.changesets, s->info.changesets);
	assert_int_equal(now.info.pending, s->info.pending);
	assert_int_equal(now.info.conflicts, s->info.conflicts);
	assert_int_equal(hm_node_check(n), HM_OK);
	test_state_release(&now);
}

void test_state_release(test_state *s)
{
	free(s->vv);
	s->vv = NULL;
}

typedef struct count_ctx {
	const char *field, *loser;
	int by_delete;
	size_t n;
} count_ctx;

static int count_one(void *arg, const hm_conflict *c)
{
	count_ctx *k = arg;

	if (k->field && strcmp(c->field, k->field) != 0)
		return 0;
	if (k->by_delete >= 0 && c->by_delete != (k->by_delete != 0))
		return 0;
	if (k->loser) {
		hm_value want = test_str(k->loser);
		if (!hm_value_equal(&c->loser, &want))
			return 0;
	}
	k->n++;
	return 0;
}

size_t test_conflicts_count(hm_node *n, const char *coll, const char *id, const char *field,
                            const char *loser, int by_delete)
{
	count_ctx k = {field, loser, by_delete, 0};

	assert_int_equal(hm_node_conflicts(n, coll, id, count_one, &k), HM_OK);
	return k.n;
}

uint64_t test_rng_state;

uint64_t test_rng_next(void)
{
	uint64_t x = test_rng_state; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	test_rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

unsigned test_rng_below(unsigned n)
{
	return (unsigned)(test_rng_next() % n);
}

uint64_t test_vv_seq(hm_node *n, const hm_node_id *origin)
{
	hm_vv vv;
	uint64_t seq;

	assert_int_equal(hm_node_version_vector(n, &vv), HM_OK);
	seq = hm_vv_get(&vv, origin);
	hm_vv_release(&vv);
	return seq;
}
