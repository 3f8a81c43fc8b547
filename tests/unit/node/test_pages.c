/* test_pages.c - the walk of every tree's pages (hm_store_pages_check, issue #10 part 3). LMDB
 * keeps no checksums and trusts its pages: a branch page left with one key stops it on an
 * assertion, a child number out of range sends it outside its map. Here each such damage is made
 * by hand on a closed node's data.mdb (read as LMDB 0.9 lays it out, independently of
 * node/guard.c), and the walk names it, as check and repair do before they read any tree through
 * LMDB; a whole store passes, also while another process writes to it. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "node_test.h"
#include "node_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PSIZE   4096
#define DB_SIZE 48

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

typedef struct file {
	uint8_t *b;
	size_t size;
	char path[4200];
} file;

/* The whole of the file at path into f (its size returned). */
static size_t read_whole(const char *path, file *f)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	f->size = (size_t)ftell(fp);
	rewind(fp);
	assert_non_null(f->b = malloc(f->size));
	assert_int_equal(fread(f->b, 1, f->size, fp), f->size);
	fclose(fp);
	return f->size;
}

static void file_read(file *f, const char *dir)
{
	snprintf(f->path, sizeof(f->path), "%s/data.mdb", dir);
	read_whole(f->path, f);
	assert_int_equal(le(f->b + 16 + 24, 4), PSIZE); /* the free tree's record keeps it */
}

static void file_write(file *f)
{
	FILE *fp;

	assert_non_null(fp = fopen(f->path, "r+b"));
	assert_int_equal(fwrite(f->b, 1, f->size, fp), f->size);
	fclose(fp);
	free(f->b);
}

static uint8_t *page(file *f, uint64_t pg)
{
	assert_true((pg + 1) * PSIZE <= f->size);
	return f->b + pg * PSIZE;
}

static uint8_t *node_at(uint8_t *p, unsigned i)
{
	assert_true(i < (le(p + 12, 2) - 16) / 2);
	return p + le(p + 16 + 2 * i, 2);
}

/* The newer meta page (the larger commit number), whose trees LMDB reads. */
static uint8_t *newer_meta(file *f)
{
	uint64_t t0 = le(f->b + 16 + 24 + 96 + 8, 8), t1 = le(f->b + PSIZE + 16 + 24 + 96 + 8, 8);
	return f->b + (t1 > t0 ? PSIZE : 0);
}

/* The record (LMDB's MDB_db) of the named tree, in the main tree of the newer meta page. */
static uint8_t *tree_record(file *f, const char *name)
{
	uint8_t *p = page(f, le(newer_meta(f) + 16 + 24 + DB_SIZE + 40, 8));
	unsigned keys = (unsigned)(le(p + 12, 2) - 16) / 2;

	assert_int_equal(le(p + 10, 2) & 0x02, 0x02); /* hamlet's dozen trees fit one leaf */
	for (unsigned i = 0; i < keys; i++) {
		uint8_t *nd = node_at(p, i);
		size_t ks = le(nd + 6, 2);
		if (ks == strlen(name) && !memcmp(nd + 8, name, ks))
			return nd + 8 + ks;
	}
	fail_msg("no tree %s", name);
	return NULL;
}

static uint64_t child(uint8_t *nd)
{
	return le(nd, 4) | le(nd + 4, 2) << 32;
}

static void set_child(uint8_t *nd, uint64_t pg)
{
	le_put(nd, pg, 4);
	le_put(nd + 4, pg >> 32, 2);
}

/* A node of 60 persons (their records and oplog trees two levels deep) and one of a long
 * value (a record on pages of its own), closed. */
static void made(test_node *t, const char *name)
{
	static char text[3000];

	test_node_init(t, name, 0, NULL);
	for (int i = 0; i < 60; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%02d", i);
		test_person(t->n, id, "Li Wei of the east village, by the river", NULL);
	}
	memset(text, 'x', sizeof(text) - 1);
	assert_int_equal(test_set_str(t->n, "person", "p00", "address", text, NULL), HM_OK);
	test_node_release(t);
}

/* The walk's verdict on the store now, and check's and repair's: none reaches LMDB's pages. */
static void expect_damage(test_node *t, const char *tree, const char *what, const char *way)
{
	char want[64];

	test_node_reopen(t);
	assert_int_equal(hm_store_pages_check(t->n), HM_ERR_CORRUPT);
	snprintf(want, sizeof(want), "the %s tree, page ", tree);
	if (!strstr(hm_node_errmsg(t->n), want) || !strstr(hm_node_errmsg(t->n), what) ||
	    !strstr(hm_node_errmsg(t->n), way))
		fail_msg("wanted \"%s\", \"%s\" and \"%s\", got: %s", want, what, way,
		         hm_node_errmsg(t->n));
	assert_int_equal(hm_node_check(t->n), HM_ERR_CORRUPT);
	assert_int_equal(hm_node_repair(t->n), HM_ERR_CORRUPT);
	test_node_release(t);
}

/* The records' digest of the closed node in t. */
static void digest_of(test_node *t, hm_hash *h)
{
	test_node_reopen(t);
	assert_int_equal(hm_node_digest(t->n, NULL, h), HM_OK);
	test_node_release(t);
}

/* Salvaged: the digest it had, check passes, and it writes on. */
static void expect_salvaged(test_node *t, const hm_hash *before)
{
	char why[600], *kept;
	bool done;
	hm_hash after;
	file damaged, k;
	DIR *d;
	struct dirent *e;

	file_read(&damaged, t->dir);
	assert_int_equal(hm_store_salvage(t->dir, &t->opts, &done, why, sizeof(why)), HM_OK);
	if (!done)
		fail_msg("not salvaged: %s", why);
	/* the damaged file kept, byte for byte; no folder of the salvage left */
	assert_non_null(kept = strstr(why, "data.mdb.damaged-"));
	snprintf(k.path, sizeof(k.path), "%s/%s", t->dir, kept);
	assert_int_equal(read_whole(k.path, &k), damaged.size);
	assert_memory_equal(k.b, damaged.b, damaged.size);
	free(k.b);
	free(damaged.b);
	assert_non_null(d = opendir(t->dir));
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "salvage.", 8) &&
		    e->d_type != DT_LNK) /* (one made below) */
			fail_msg("left %s", e->d_name);
	closedir(d);
	test_node_reopen(t); /* its records rebuilt before it was put in place */
	assert_int_equal(hm_store_pages_check(t->n), HM_OK);
	assert_int_equal(hm_node_digest(t->n, NULL, &after), HM_OK);
	assert_true(hm_hash_equal(before, &after));
	assert_int_equal(hm_node_check(t->n), HM_OK);
	test_person(t->n, "after", "Written after the salvage", NULL);
	test_node_release(t);
}

static void test_whole(void **state)
{
	test_node t;
	(void)state;

	made(&t, "pages_whole");
	test_node_reopen(&t);
	assert_int_equal(hm_store_pages_check(t.n), HM_OK);
	assert_int_equal(hm_node_check(t.n), HM_OK);
	test_node_release(&t);
}

enum damage { ONE_KEY, ORDER, OUT_OF_RANGE, TWICE, COUNTS, LARGE, KEY_SIZE, KIND, BOUND, POINTER };

static void damage(file *f, enum damage d)
{
	uint8_t *rec = tree_record(f, "records"), *root, *leaf;
	uint64_t pg;

	assert_true(le(rec + 6, 2) >= 2); /* a branch page at the root */
	root = page(f, le(rec + 40, 8));
	leaf = page(f, child(node_at(root, 0)));
	switch (d) {
	case ONE_KEY: /* the page's bounds say one key: LMDB asserts on it */
		le_put(root + 12, 16 + 2, 2);
		break;
	case ORDER: /* two records' places swapped */
		pg = le(leaf + 16, 2);
		memcpy(leaf + 16, leaf + 18, 2);
		le_put(leaf + 18, pg, 2);
		break;
	case OUT_OF_RANGE:
		set_child(node_at(root, 1), f->size / PSIZE + 100);
		break;
	case TWICE: /* a second child is the first one */
		set_child(node_at(root, 1), child(node_at(root, 0)));
		break;
	case COUNTS: /* the tree's record says one entry more */
		le_put(rec + 32, le(rec + 32, 8) + 1, 8);
		break;
	case LARGE: /* p00's record (the long note) on pages that are another leaf's */
		pg = 0;
		for (unsigned i = 0; i < (le(leaf + 12, 2) - 16) / 2; i++)
			if (le(node_at(leaf, i) + 4, 2) & 0x01) { /* F_BIGDATA */
				le_put(node_at(leaf, i) + 8 + le(node_at(leaf, i) + 6, 2),
				       child(node_at(root, 1)), 8);
				pg++;
			}
		assert_int_equal(pg, 1);
		break;
	case KEY_SIZE:
		le_put(node_at(leaf, 0) + 6, PSIZE, 2);
		break;
	case KIND: /* a leaf marked as a branch */
		leaf[10] = 0x01;
		break;
	case BOUND: /* the root's key for its second child made larger than that child's keys: a
	             * search for them goes to the first child (each page is in order itself) */
		pg = le(node_at(root, 1) + 6, 2);
		node_at(root, 1)[8 + pg - 1] = 0xff;
		break;
	case POINTER: /* a leaf's last record's place moved 30 bytes into it, where a record of
	               * the key "zzzz" is read: the first leaf seems to end its collection */
		pg = (le(leaf + 12, 2) - 16) / 2 - 1;
		le_put(leaf + 16 + 2 * pg, le(leaf + 16 + 2 * pg, 2) + 30, 2);
		memcpy(node_at(leaf, (unsigned)pg), "\x08\0\0\0\0\0\x04\0zzzz", 12);
		break;
	}
}

static int count_one(void *ctx, const hm_record *r)
{
	(void)r;
	++*(size_t *)ctx;
	return 0;
}

static void test_damaged(void **state)
{
	static const struct {
		enum damage d;
		const char *what;
	} cases[] = {
	    {ONE_KEY, "a branch page has one key"},
	    {ORDER, "keys are out of order"},
	    {OUT_OF_RANGE, "a page number is out of range"},
	    {TWICE, "a page is reached twice"},
	    {COUNTS, "other counts than its record says"},
	    {LARGE, "a large value's page is not one"},
	    {KEY_SIZE, "a key runs past its page"},
	    {KIND, "not a tree page of its level"},
	    {BOUND, "outside the range its parent page gives"},
	    {POINTER, "out of order with the page before"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_node t;
		char name[32];
		file f;

		hm_hash before;

		snprintf(name, sizeof(name), "pages_damage%zu", i);
		made(&t, name);
		digest_of(&t, &before);
		file_read(&f, t.dir);
		damage(&f, cases[i].d);
		file_write(&f);
		expect_damage(&t, "records", cases[i].what, "check --repair");
		if (cases[i].d == POINTER) { /* a listing refuses rather than stop short */
			size_t listed = 0;
			test_node_reopen(&t);
			assert_int_equal(hm_node_list(t.n, "person", count_one, &listed),
			                 HM_ERR_CORRUPT);
			assert_non_null(strstr(hm_node_errmsg(t.n), "out of order"));
			test_node_release(&t);
		}
		expect_salvaged(&t, &before);
	}
}

/* A damaged page of a tree the oplog does not rebuild: not salvaged, the file left as it was. */
static void test_oplog_not_salvaged(void **state)
{
	test_node t;
	file f;
	uint8_t *rec, *copy;
	size_t size;
	char why[600];
	bool done;
	(void)state;

	made(&t, "pages_oplog");
	file_read(&f, t.dir);
	rec = tree_record(&f, "oplog");
	assert_true(le(rec + 6, 2) >= 2);
	le_put(page(&f, le(rec + 40, 8)) + 12, 16 + 2, 2);
	assert_non_null(copy = malloc(f.size));
	memcpy(copy, f.b, size = f.size);
	file_write(&f);
	expect_damage(&t, "oplog", "a branch page has one key", "restore it from the hub");
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_OK);
	assert_false(done);
	assert_non_null(strstr(why, "the oplog does not rebuild it"));
	file_read(&f, t.dir);
	assert_int_equal(f.size, size);
	assert_memory_equal(f.b, copy, size);
	free(f.b);
	free(copy);
}

/* The oplog root's last key made larger than the keys of the child it leads to: a search
 * goes astray (check would go round in circles), but the oplog reads in order: it is copied
 * so into the new file, and nothing is lost. */
static void test_oplog_bound_salvaged(void **state)
{
	test_node t;
	file f;
	hm_hash before;
	uint8_t *rec, *root;
	(void)state;

	made(&t, "pages_oplog_bound");
	digest_of(&t, &before);
	file_read(&f, t.dir);
	rec = tree_record(&f, "oplog");
	assert_true(le(rec + 6, 2) >= 2);
	root = page(&f, le(rec + 40, 8));
	/* the last key: a byte of the seq (origin, 16 bytes, then the seq's 8, big-endian) */
	node_at(root, (unsigned)(le(root + 12, 2) - 16) / 2 - 1)[8 + 20] ^= 0xf0;
	file_write(&f);
	expect_damage(&t, "oplog", "outside the range its parent page gives", "nothing is lost");
	expect_salvaged(&t, &before);
}

/* LMDB's free-page tree damaged: left behind too, nothing of the node's is in it. */
static void test_free_tree_salvaged(void **state)
{
	test_node t;
	file f;
	hm_hash before;
	uint8_t *meta, *root;
	char why[600];
	bool done, leaf;
	(void)state;

	made(&t, "pages_free");
	digest_of(&t, &before);
	file_read(&f, t.dir);
	meta = newer_meta(&f);
	assert_true(le(meta + 16 + 24 + 40, 8) != UINT64_MAX); /* sixty commits freed pages */
	root = page(&f, le(meta + 16 + 24 + 40, 8));
	le_put(root + 12, 16, 2); /* no keys */
	leaf = root[10] == 0x02;
	file_write(&f);
	expect_damage(&t, "free-page", leaf ? "a leaf page is empty" : "no key", "check --repair");
	expect_salvaged(&t, &before);
	/* and then, a whole store, nothing more to salvage */
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_OK);
	assert_false(done);
	assert_non_null(strstr(why, "every page is whole"));
}

/* Another process that opens the store in t->dir and holds it open: returned once it has. */
static pid_t holder_start(const test_node *t)
{
	int pipefd[2];
	char c;
	pid_t child;

	assert_int_equal(pipe(pipefd), 0);
	if ((child = fork()) == 0) {
		hm_node *n = NULL;
		close(pipefd[0]);
		if (hm_node_open(t->dir, &t->opts, &n) != HM_OK || write(pipefd[1], "o", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	return child;
}

static void holder_end(pid_t child)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* Not while another process has the store open: its writes would go to the file left behind. */
static void test_salvage_alone(void **state)
{
	test_node t;
	file f;
	char why[600];
	bool done;
	pid_t child;
	(void)state;

	made(&t, "pages_alone");
	file_read(&f, t.dir);
	damage(&f, ONE_KEY);
	file_write(&f);
	child = holder_start(&t);
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_ERR_BUSY);
	assert_false(done);
	assert_non_null(strstr(why, "another process"));
	holder_end(child);
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_OK);
	assert_true(done);
}

/* The record of the named tree in the main tree's leaf, and that leaf's root page. */
static uint8_t *meta_root_of(file *f, const char *name)
{
	return page(f, le(tree_record(f, name) + 40, 8));
}

/* A tree kept (not rebuilt from the oplog: the heads) whose root is sent to a page of the
 * records: its counts say so; and when they are made to agree, the records reach the page a
 * second time. Either tree may be the one that lost its own page: nothing is salvaged. */
static void test_kept_tree_on_records(void **state)
{
	test_node t;
	file f;
	uint8_t *meta, *records_root;
	char why[600];
	bool done;
	(void)state;

	made(&t, "pages_claim");
	file_read(&f, t.dir);
	records_root = meta_root_of(&f, "records");
	meta = tree_record(&f, "heads");
	le_put(meta + 40, child(node_at(records_root, 0)), 8); /* heads' root: a records leaf */
	file_write(&f);
	expect_damage(&t, "heads", "other counts than its record says", "restore it from the hub");
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_OK);
	assert_false(done);
	/* and the same root made one that counts like the leaf: the records reach it twice */
	file_read(&f, t.dir);
	meta = tree_record(&f, "heads");
	{
		uint8_t *leaf = page(&f, le(meta + 40, 8));
		le_put(meta + 32, (le(leaf + 12, 2) - 16) / 2, 8); /* entries */
		le_put(meta + 24, 0, 8);                           /* no large values' pages */
		for (unsigned i = 0; i < (le(leaf + 12, 2) - 16) / 2; i++)
			if (le(node_at(leaf, i) + 4, 2) & 0x01)
				le_put(meta + 24, le(meta + 24, 8) + 1, 8);
	}
	file_write(&f);
	expect_damage(&t, "records", "a page is reached twice", "restore it from the hub");
}

/* LMDB's list of free pages naming a page a tree holds: LMDB would write over it. Nothing of
 * the node's is in the list: the store is written again without it. */
static void test_free_list_names_live_page(void **state)
{
	test_node t;
	file f;
	hm_hash before;
	uint8_t *meta, *leaf, *nd;
	(void)state;

	made(&t, "pages_freelist");
	digest_of(&t, &before);
	file_read(&f, t.dir);
	meta = newer_meta(&f);
	assert_true(le(meta + 16 + 24 + 6, 2) == 1); /* the free tree: one leaf */
	leaf = page(&f, le(meta + 16 + 24 + 40, 8));
	nd = node_at(leaf, 0);
	assert_int_equal(le(nd + 4, 2), 0); /* its list in the page */
	assert_true(le(nd + 8 + 8, 8) >= 1);
	/* the last page it lists (the smallest) made the oplog's root */
	le_put(nd + 8 + 8 + 8 * le(nd + 8 + 8, 8), le(tree_record(&f, "oplog") + 40, 8), 8);
	file_write(&f);
	expect_damage(&t, "free-page", "", "check --repair");
	expect_salvaged(&t, &before);
}

/* A list of free pages under the key of commit 0: LMDB reads it twice and asserts (the pages
 * seem freed twice). The list is LMDB's: the store is written again without it. */
static void test_free_list_key(void **state)
{
	test_node t;
	file f;
	hm_hash before;
	uint8_t *leaf;
	(void)state;

	made(&t, "pages_freekey");
	digest_of(&t, &before);
	file_read(&f, t.dir);
	leaf = page(&f, le(newer_meta(&f) + 16 + 24 + 40, 8));
	assert_int_equal(le(node_at(leaf, 0) + 6, 2), 8);
	le_put(node_at(leaf, 0) + 8, 0, 8);
	file_write(&f);
	expect_damage(&t, "free-page", "a list of free pages names a commit it cannot",
	              "check --repair");
	expect_salvaged(&t, &before);
}

/* The main tree's last records cut off (its page's bounds say two fewer keys): the trees they
 * named (the revocations ...) would be made again empty. Lost, whatever else reads whole. */
static void test_main_tree_cut(void **state)
{
	test_node t;
	file f;
	uint8_t *main_root;
	char why[1024];
	bool done;
	(void)state;

	made(&t, "pages_maincut");
	file_read(&f, t.dir);
	main_root = page(&f, le(newer_meta(&f) + 16 + 24 + DB_SIZE + 40, 8));
	le_put(main_root + 12, le(main_root + 12, 2) - 2, 2);
	file_write(&f);
	assert_int_equal(hm_store_pages_check_dir(t.dir, why, sizeof(why)), HM_ERR_CORRUPT);
	assert_non_null(strstr(why, "the main tree, page"));
	assert_non_null(strstr(why, "restore it from the hub"));
	assert_int_equal(hm_store_salvage(t.dir, &t.opts, &done, why, sizeof(why)), HM_OK);
	assert_false(done);
}

/* A named tree's flags changed: LMDB would order its keys otherwise. */
static void test_tree_flags(void **state)
{
	test_node t;
	file f;
	(void)state;

	made(&t, "pages_flags");
	file_read(&f, t.dir);
	le_put(tree_record(&f, "oplog") + 4, 0x08, 2); /* MDB_INTEGERKEY */
	file_write(&f);
	expect_damage(&t, "oplog", "a tree's flags are not those hamlet gives it",
	              "restore it from the hub");
}

/* Damage in the trees opening a node reads (the main tree, the meta tree): the walk from the
 * directory names it before LMDB opens a tree, where LMDB would assert or fault. */
static void test_before_open(void **state)
{
	test_node t;
	file f, copy;
	char why[1024];
	(void)state;

	made(&t, "pages_open");
	file_read(&copy, t.dir);
	assert_int_equal(hm_store_pages_check_dir(t.dir, why, sizeof(why)), HM_OK);
	file_read(&f, t.dir); /* the main tree's root: its bounds' high byte */
	page(&f, le(newer_meta(&f) + 16 + 24 + DB_SIZE + 40, 8))[13] = 0x93;
	file_write(&f);
	assert_int_equal(hm_store_pages_check_dir(t.dir, why, sizeof(why)), HM_ERR_CORRUPT);
	assert_non_null(strstr(why, "the main tree, page"));
	assert_non_null(strstr(why, "restore it from the hub"));
	memcpy(f.b = malloc(copy.size), copy.b, f.size = copy.size);
	snprintf(f.path, sizeof(f.path), "%s/data.mdb", t.dir);
	le_put(meta_root_of(&f, "meta") + 12, 0, 2); /* the meta tree's root: no bounds */
	file_write(&f);
	assert_int_equal(hm_store_pages_check_dir(t.dir, why, sizeof(why)), HM_ERR_CORRUPT);
	assert_non_null(strstr(why, "the meta tree, page"));
	free(copy.b);
}

/* No node in the folder: nothing made there; a folder of the salvage's name that leads elsewhere
 * is never used. */
static void test_salvage_folder(void **state)
{
	test_node t;
	file f;
	hm_hash before;
	char dir[4200], why[600], link_path[4300], other[4300];
	bool done;
	DIR *d;
	FILE *fp;
	(void)state;

	test_scratch_dir(dir, sizeof(dir), "pages_empty");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(hm_store_salvage(dir, NULL, &done, why, sizeof(why)), HM_ERR_NOT_FOUND);
	assert_int_equal(hm_store_pages_check_dir(dir, why, sizeof(why)), HM_ERR_NOT_FOUND);
	assert_non_null(d = opendir(dir));
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			fail_msg("made %s in a folder with no node", e->d_name);
	closedir(d);
	made(&t, "pages_link");
	digest_of(&t, &before);
	snprintf(other, sizeof(other), "%s/data.mdb", dir); /* another store's, say */
	assert_non_null(fp = fopen(other, "w"));
	fclose(fp);
	snprintf(link_path, sizeof(link_path), "%s/salvage.tmp", t.dir);
	assert_int_equal(symlink(dir, link_path), 0);
	file_read(&f, t.dir);
	damage(&f, ONE_KEY);
	file_write(&f);
	expect_salvaged(&t, &before);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(access(link_path, F_OK), 0);
}

/* The newest commit of dir's data.mdb, as its meta pages say. */
static uint64_t newest_commit(const char *dir)
{
	file f;
	uint64_t t;

	file_read(&f, dir);
	t = le(newer_meta(&f) + 16 + 24 + 96 + 8, 8);
	free(f.b);
	return t;
}

/* Let go of the lock hm_store_lock_alone took on lfd. */
static void let_go(int lfd)
{
	struct flock un = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	assert_int_equal(fcntl(lfd, F_OFD_SETLK, &un), 0);
}

/* The salvage's last look before the new file goes in place: another process that opened the
 * store meanwhile, or wrote to it, stops it (its write would go to the file left behind). */
static void test_still_alone(void **state)
{
	test_node t;
	char why[600];
	int lfd;
	uint64_t copied;
	pid_t child;
	(void)state;

	made(&t, "pages_still");
	copied = newest_commit(t.dir);
	assert_int_equal(hm_store_lock_alone(t.dir, &lfd, why, sizeof(why)), HM_OK);
	assert_int_equal(hm_store_still_alone(t.dir, lfd, copied, PSIZE, why, sizeof(why)), HM_OK);
	let_go(lfd); /* as the salvage does while it copies */
	/* another process opens the store meanwhile, and holds it */
	child = holder_start(&t);
	assert_int_equal(hm_store_still_alone(t.dir, lfd, copied, PSIZE, why, sizeof(why)),
	                 HM_ERR_BUSY);
	assert_non_null(strstr(why, "opened the store meanwhile"));
	holder_end(child);
	/* or it wrote and went */
	let_go(lfd);
	if ((child = fork()) == 0) {
		test_node_reopen(&t);
		test_person(t.n, "meanwhile", "Written during the salvage", NULL);
		test_node_release(&t);
		_exit(0);
	}
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(newest_commit(t.dir) > copied);
	assert_int_equal(hm_store_still_alone(t.dir, lfd, copied, PSIZE, why, sizeof(why)),
	                 HM_ERR_BUSY);
	assert_non_null(strstr(why, "written meanwhile"));
	close(lfd);
}

/* The walk reads the file beside LMDB: it must see one commit whole while another process
 * commits, never a mix of two. */
static void test_while_written(void **state)
{
	test_node t;
	pid_t writer;
	int status, walks, whole;
	(void)state;

	made(&t, "pages_busy");
	if ((writer = fork()) == 0) {
		test_node_reopen(&t);
		for (int i = 0; i < 400; i++) {
			char id[16];
			snprintf(id, sizeof(id), "w%03d", i);
			test_person(t.n, id, "Zhao Lei, a writer of many records", NULL);
		}
		test_node_release(&t);
		_exit(0);
	}
	test_node_reopen(&t);
	for (walks = whole = 0; waitpid(writer, &status, WNOHANG) == 0; walks++) {
		hm_err err = hm_store_pages_check(t.n);
		if (err != HM_OK && err != HM_ERR_BUSY)
			fail_msg("walk %d while written: %s", walks, hm_node_errmsg(t.n));
		whole += err == HM_OK;
	}
	print_message("%d walks while 400 commits were made, %d of them whole\n", walks, whole);
	assert_true(whole > 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(hm_store_pages_check(t.n), HM_OK);
	test_node_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_oplog_not_salvaged),
	    cmocka_unit_test(test_oplog_bound_salvaged),
	    cmocka_unit_test(test_free_tree_salvaged),
	    cmocka_unit_test(test_salvage_alone),
	    cmocka_unit_test(test_kept_tree_on_records),
	    cmocka_unit_test(test_free_list_names_live_page),
	    cmocka_unit_test(test_tree_flags),
	    cmocka_unit_test(test_free_list_key),
	    cmocka_unit_test(test_main_tree_cut),
	    cmocka_unit_test(test_before_open),
	    cmocka_unit_test(test_salvage_folder),
	    cmocka_unit_test(test_still_alone),
	    cmocka_unit_test(test_while_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
