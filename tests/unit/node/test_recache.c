/* test_recache.c - records kept decoded in memory (node/recache.c) and the log of changed
 * records that keeps them current (node/changed.c). A node with the cache must list exactly what
 * a node without it lists, after writes here, change sets from elsewhere, writes by another
 * process, a log pruned past the cache and a rebuild of every record; and it must read again
 * only what changed (its counters say which path it took). */
#include "node_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const colls[] = {"person", "stock"};

typedef struct dump {
	char *p;
	size_t n, cap;
} dump;

static void dump_add(dump *d, const char *fmt, ...) HM_PRINTF(2, 3);
/* An empty text, so that a dump of nothing is "" rather than NULL. */
static void dump_start(dump *d)
{
	d->cap = 64;
	assert_non_null(d->p = calloc(1, d->cap));
}
static void dump_add(dump *d, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(d->p ? d->p + d->n : NULL, d->p ? d->cap - d->n : 0, fmt, ap);
		va_end(ap);
		assert_true(k >= 0);
		if (d->p && d->n + (size_t)k < d->cap)
			break;
		d->cap = 2 * (d->cap + (size_t)k + 64);
		assert_non_null(d->p = realloc(d->p, d->cap));
	}
	d->n += (size_t)k;
}

static int dump_one(void *arg, const hm_record *r)
{
	dump *d = arg;

	dump_add(d, "%s/%s@%s:", r->collection, r->id, r->region);
	for (size_t i = 0; i < r->nfields; i++) {
		const hm_field *f = &r->fields[i];
		dump_add(d, " %s=", f->name);
		if (f->value.kind == HM_V_STR)
			dump_add(d, "'%.*s'", (int)f->value.u.s.n, f->value.u.s.p);
		else if (f->value.kind == HM_V_INT)
			dump_add(d, "%lld", (long long)f->value.u.i);
		else
			dump_add(d, "<%d>", (int)f->value.kind);
		dump_add(d, "@%llu", (unsigned long long)f->stamp.hlc);
	}
	dump_add(d, "\n");
	return 0;
}

/* Every listed collection of n, as text (owned). */
static char *dump_node(hm_node *n)
{
	dump d = {0};

	dump_start(&d);
	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		assert_int_equal(hm_node_list(n, colls[i], dump_one, &d), HM_OK);
	return d.p;
}

static void assert_same_lists(hm_node *cached, hm_node *plain)
{
	char *a = dump_node(cached), *b = dump_node(plain);

	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* A stock (created with its item when new) added to. */
static void stock_add(hm_node *n, const char *id, int64_t delta)
{
	hm_write *w;
	hm_value item = test_str("masks");

	assert_int_equal(hm_write_begin(n, &w), HM_OK);
	assert_int_equal(hm_write_set(w, "stock", id, "item", &item), HM_OK);
	assert_int_equal(hm_write_add(w, "stock", id, "quantity", delta), HM_OK);
	assert_int_equal(hm_write_commit(w, NULL), HM_OK);
}

/* One random write at w: a name set, a stock added to, or a person deleted. */
static void random_write(hm_node *w, unsigned step)
{
	char id[16], name[32];
	hm_err err;

	snprintf(id, sizeof(id), "p%u", test_rng_below(40));
	switch (test_rng_below(4)) {
	case 0:
		err = test_del(w, "person", id, NULL);
		assert_true(err == HM_OK || err == HM_ERR_NOT_FOUND);
		break;
	case 1:
		snprintf(id, sizeof(id), "s%u", test_rng_below(5));
		stock_add(w, id, (int64_t)step % 7 - 3);
		break;
	default:
		snprintf(name, sizeof(name), "n%u", step);
		assert_int_equal(test_set_str(w, "person", id, "name", name, NULL), HM_OK);
	}
}

static void test_cache_lists_what_the_store_holds(void **state)
{
	test_node w1, w2, c, d;
	hm_cache_stats st;
	(void)state;

	test_rng_state = 0x5eed0001;
	test_node_init(&w1, "rc_w1", 0, NULL);
	test_node_init(&w2, "rc_w2", 1, NULL);
	test_node_init(&c, "rc_cached", 2, NULL);
	test_node_init(&d, "rc_plain", 3, NULL);
	assert_int_equal(hm_node_cache_records(c.n, 64u << 20), HM_OK);
	assert_same_lists(c.n, d.n); /* both empty; the cache has read each collection once */
	for (unsigned step = 0; step < 300; step++) {
		random_write(test_rng_below(2) ? w1.n : w2.n, step);
		if (step % 7 == 0) /* the cached node's own writes go through the log too */
			random_write(c.n, 1000 + step), test_sync(d.n, c.n);
		if (step % 5 == 4) {
			test_sync(d.n, w1.n), test_sync(d.n, w2.n);
			test_sync(c.n, w1.n), test_sync(c.n, w2.n);
			assert_same_lists(c.n, d.n);
		}
	}
	hm_node_cache_stats(c.n, &st);
	assert_true(st.on);
	assert_int_equal(st.loads, 2); /* each collection read whole once, then kept current */
	assert_true(st.reread > 100);
	assert_true(st.lists >= 2 * 61);
	assert_true(st.records > 0 && st.bytes > st.records * sizeof(hm_record));
	test_node_release(&d);
	test_node_release(&c);
	test_node_release(&w2);
	test_node_release(&w1);
}

/* A write by another process (a CLI command beside the web interface) is seen at the next list. */
static void test_cache_sees_another_process(void **state)
{
	test_node c;
	hm_cache_stats before, after;
	char *text;
	pid_t pid;
	int status;
	(void)state;

	test_node_init(&c, "rc_other", 0, NULL);
	test_person(c.n, "p1", "one", NULL);
	assert_int_equal(hm_node_cache_records(c.n, 64u << 20), HM_OK);
	assert_int_equal(hm_node_cache_warm(c.n), HM_OK);
	hm_node_cache_stats(c.n, &before);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* a process of its own, its own LMDB environment */
		hm_node *o;
		hm_node_opts opts = {.clock = test_clock_fn, .clock_ctx = &c.clock};
		_exit(hm_node_open(c.dir, &opts, &o) ||
		      test_set_str(o, "person", "p2", "name", "two", NULL) ||
		      test_set_str(o, "person", "p1", "name", "uno", NULL) ||
		      (hm_node_close(o), 0));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = dump_node(c.n);
	assert_non_null(strstr(text, "person/p1@" TEST_REGION ": name='uno'"));
	assert_non_null(strstr(text, "person/p2@" TEST_REGION ": name='two'"));
	free(text);
	hm_node_cache_stats(c.n, &after);
	assert_int_equal(after.loads, before.loads);
	assert_int_equal(after.reread, before.reread + 2);
	test_node_release(&c);
}

/* The counter of the changed log's last entry. */
static uint64_t log_last(hm_node *n)
{
	uint64_t last = 0;
	bool whole;

	assert_int_equal(hm_node_changes(n, 0, NULL, NULL, &last, &whole), HM_OK);
	return last;
}

static hm_err rebuild_txn(hm_node *n, MDB_txn *txn, void *ctx)
{
	(void)ctx;
	return hm_records_rebuild(n, txn);
}

/* The log pruned past what the cache took, and a rebuild of every record: read whole again. */
static void test_cache_reads_whole_when_the_log_cannot_say(void **state)
{
	test_node w, c, d;
	hm_cache_stats st;
	char id[16];
	(void)state;

	test_node_init(&w, "rc_prune_w", 0, NULL);
	test_node_init(&c, "rc_prune_c", 1, NULL);
	test_node_init(&d, "rc_prune_d", 2, NULL);
	c.n->changed_keep = 16;
	assert_int_equal(hm_node_cache_records(c.n, 64u << 20), HM_OK);
	test_person(w.n, "p0", "zero", NULL);
	test_sync(c.n, w.n), test_sync(d.n, w.n);
	assert_same_lists(c.n, d.n);
	for (unsigned i = 0; i < HM_CHANGED_BLOCK + 8; i++) { /* one batch: pruned to 16 */
		snprintf(id, sizeof(id), "q%u", i % 50);
		assert_int_equal(test_set_str(w.n, "person", id, "name", i % 2 ? "a" : "b", NULL),
		                 HM_OK);
	}
	test_sync(c.n, w.n), test_sync(d.n, w.n);
	assert_same_lists(c.n, d.n);
	hm_node_cache_stats(c.n, &st);
	assert_int_equal(st.loads, 4); /* twice each collection: the log no longer went back */
	assert_int_equal(st.reread, 0);

	{ /* the rebuild logs its mark and nothing more, however many records it writes */
		uint64_t before = log_last(c.n);
		assert_int_equal(hm_store_write(c.n, rebuild_txn, NULL), HM_OK);
		assert_int_equal(log_last(c.n), before + 1);
	}
	assert_same_lists(c.n, d.n);
	hm_node_cache_stats(c.n, &st);
	assert_int_equal(st.loads, 6);
	test_person(w.n, "p9", "nine", NULL); /* and then kept current again */
	test_sync(c.n, w.n), test_sync(d.n, w.n);
	assert_same_lists(c.n, d.n);
	hm_node_cache_stats(c.n, &st);
	assert_int_equal(st.loads, 6);
	assert_int_equal(st.reread, 1);
	test_node_release(&d);
	test_node_release(&c);
	test_node_release(&w);
}

/* Make the store as format 3 left it: no log of changed records. */
static hm_err to_format_3(hm_node *n, MDB_txn *txn, void *ctx)
{
	uint8_t three[8];
	int rc = mdb_drop(txn, n->dbi[HM_DB_CHANGED], 1);
	(void)ctx;
	if (rc)
		return hm_store_err(rc);
	hm_be64_put(three, 3);
	return hm_store_put(n, txn, HM_DB_META, "format", 6, three, 8);
}

/* A store of format 3 (before the log) gains it when opened, and then keeps the cache current. */
static void test_format_3_gains_the_log(void **state)
{
	test_node c;
	hm_cache_stats st;
	MDB_txn *txn;
	MDB_val v;
	char *text;
	(void)state;

	test_node_init(&c, "rc_format3", 0, NULL);
	test_person(c.n, "p1", "one", NULL);
	assert_int_equal(hm_store_write(c.n, to_format_3, NULL), HM_OK);
	test_node_reopen(&c);
	assert_int_equal(hm_store_read_begin(c.n, &txn), HM_OK);
	assert_int_equal(hm_store_get(c.n, txn, HM_DB_META, "format", 6, &v), HM_OK);
	assert_int_equal(hm_be64_get(v.mv_data), HM_STORE_FORMAT);
	mdb_txn_abort(txn);
	assert_int_equal(hm_node_cache_records(c.n, 64u << 20), HM_OK);
	assert_int_equal(hm_node_cache_warm(c.n), HM_OK);
	test_person(c.n, "p2", "two", NULL);
	text = dump_node(c.n);
	assert_non_null(strstr(text, "person/p1@"));
	assert_non_null(strstr(text, "person/p2@"));
	free(text);
	hm_node_cache_stats(c.n, &st);
	assert_int_equal(st.reread, 1);
	assert_int_equal(hm_node_check(c.n), HM_OK);
	test_node_release(&c);
}

typedef struct nested {
	hm_node *n;
	dump inner;
	size_t outer;
} nested;

static int list_inside(void *arg, const hm_record *r)
{
	nested *x = arg;
	(void)r;
	if (x->outer++ == 0) /* a list from inside a list reads the store, unhurried */
		assert_int_equal(hm_node_list(x->n, "person", dump_one, &x->inner), HM_OK);
	return 0;
}

/* A list inside a list's callback, and a cache past its bytes: both read the store. */
static void test_cache_steps_aside(void **state)
{
	test_node c;
	nested x = {0};
	hm_cache_stats st;
	char *whole;
	(void)state;

	test_node_init(&c, "rc_aside", 0, NULL);
	for (unsigned i = 0; i < 20; i++) {
		char id[8];
		snprintf(id, sizeof(id), "p%u", i);
		test_person(c.n, id, "someone", NULL);
	}
	assert_int_equal(hm_node_cache_records(c.n, 64u << 20), HM_OK);
	x.n = c.n;
	dump_start(&x.inner);
	assert_int_equal(hm_node_list(c.n, "person", list_inside, &x), HM_OK);
	assert_int_equal(x.outer, 20);
	whole = dump_node(c.n);
	assert_non_null(strstr(whole, x.inner.p)); /* the inner list saw every person too */
	hm_node_cache_stats(c.n, &st);
	assert_int_equal(st.lists, 1 + 2);
	free(whole);
	free(x.inner.p);
	test_node_release(&c);

	test_node_init(&c, "rc_small", 0, NULL);
	test_person(c.n, "p1", "one", NULL);
	assert_int_equal(hm_node_cache_records(c.n, 16), HM_OK);
	whole = dump_node(c.n);
	assert_non_null(strstr(whole, "name='one'"));
	hm_node_cache_stats(c.n, &st);
	assert_false(st.on);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.lists, 0);
	free(whole);
	test_node_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache_lists_what_the_store_holds),
	    cmocka_unit_test(test_cache_sees_another_process),
	    cmocka_unit_test(test_cache_reads_whole_when_the_log_cannot_say),
	    cmocka_unit_test(test_cache_steps_aside),
	    cmocka_unit_test(test_format_3_gains_the_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
