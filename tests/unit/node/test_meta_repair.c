/* test_meta_repair.c - an older LMDB meta page damaged in place (issue #10 part 3): the store is
 * refused, saying `check --repair` writes it again; hm_store_meta_repair does, and the store
 * opens with the digest it had; it refuses while another process has the store open, and
 * leaves alone a store whose damaged meta page is the newer one (or cannot be told). */
#include "node_test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define META_TXNID (16 + 24 + 2 * 48 + 8) /* LMDB 0.9's MDB_meta.mm_txnid in its page */

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The page size and the commit number of each meta page of dir's data.mdb. */
static void metas(const char *dir, uint64_t *psize, uint64_t txnid[2])
{
	char path[4200];
	uint8_t p[200];
	int fd;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(pread(fd, p, sizeof(p), 0), (ssize_t)sizeof(p));
	*psize = p[16 + 24] | (uint64_t)p[16 + 25] << 8 | (uint64_t)p[16 + 26] << 16;
	txnid[0] = le64(p + META_TXNID);
	assert_int_equal(pread(fd, p, sizeof(p), (off_t)*psize), (ssize_t)sizeof(p));
	txnid[1] = le64(p + META_TXNID);
	close(fd);
}

/* XOR a byte of dir's data.mdb at off. */
static void flip(const char *dir, uint64_t off, uint8_t x)
{
	char path[4200];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_true((fd = open(path, O_RDWR)) >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= x;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void write_some(test_node *t)
{
	for (int i = 0; i < 20; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%02d", i);
		test_person(t->n, id, "Li Wei", NULL);
	}
}

/* A node of twenty persons, closed; its meta pages' page size and commit numbers. */
static void made(test_node *t, const char *name, uint64_t *psize, uint64_t tx[2])
{
	test_node_init(t, name, 0, NULL);
	write_some(t);
	test_node_release(t);
	metas(t->dir, psize, tx);
}

static void test_older_meta_repaired(void **state)
{
	test_node t;
	hm_hash before, after;
	uint64_t psize, tx[2];
	char why[300];
	bool fixed;
	hm_node *n = NULL;
	int older;
	(void)state;

	made(&t, "meta_older", &psize, tx);
	test_node_reopen(&t);
	assert_int_equal(hm_node_digest(t.n, NULL, &before), HM_OK);
	test_node_release(&t);
	metas(t.dir, &psize, tx); /* as the store is now */
	older = tx[0] < tx[1] ? 0 : 1;
	flip(t.dir, (uint64_t)older * psize + 16, 0x5a); /* its magic */
	assert_int_equal(hm_node_open(t.dir, &t.opts, &n), HM_ERR_CORRUPT);
	hm_node_close(n);
	n = NULL;
	{ /* its lock file gone (no process has the store open): made again, as LMDB would */
		char lock[4200];
		snprintf(lock, sizeof(lock), "%s/lock.mdb", t.dir);
		assert_int_equal(unlink(lock), 0);
	}
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_OK);
	assert_true(fixed);
	assert_non_null(strstr(why, "written again"));
	assert_int_equal(hm_node_open(t.dir, &t.opts, &t.n), HM_OK);
	assert_int_equal(hm_node_digest(t.n, NULL, &after), HM_OK);
	assert_true(hm_hash_equal(&before, &after));
	test_person(t.n, "p99", "Zhao Lei", NULL); /* and it writes on */
	test_node_release(&t);
	/* a second repair finds nothing to do */
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_OK);
	assert_false(fixed);
	assert_non_null(strstr(why, "both meta pages are whole"));
}

static void test_newer_meta_left_alone(void **state)
{
	test_node t;
	uint64_t psize, tx[2];
	char why[300];
	bool fixed;
	hm_node *n = NULL;
	int newer;
	(void)state;

	made(&t, "meta_newer", &psize, tx);
	newer = tx[0] > tx[1] ? 0 : 1;
	flip(t.dir, (uint64_t)newer * psize + 16, 0x5a);
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_OK);
	assert_false(fixed); /* rewriting it from the older would lose the last commit */
	assert_non_null(strstr(why, "cannot be told"));
	assert_int_equal(hm_node_open(t.dir, &t.opts, &n), HM_ERR_CORRUPT);
	hm_node_close(n);
	n = NULL;
	/* the older one's commit number gone too: nothing tells which is older */
	flip(t.dir, (uint64_t)newer * psize + 16, 0x5a); /* put back */
	flip(t.dir, (uint64_t)!newer * psize + 16, 0x5a);
	flip(t.dir, (uint64_t)!newer * psize + META_TXNID + 3, 0x01);
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_OK);
	assert_false(fixed);
}

static void test_refused_while_open(void **state)
{
	test_node t;
	uint64_t psize, tx[2];
	char why[300], c;
	bool fixed;
	int pipefd[2];
	pid_t child;
	(void)state;

	made(&t, "meta_busy", &psize, tx);
	assert_int_equal(pipe(pipefd), 0);
	if ((child = fork()) == 0) { /* another process with the store open */
		hm_node *n = NULL;
		close(pipefd[0]);
		if (hm_node_open(t.dir, &t.opts, &n) != HM_OK)
			_exit(1);
		if (write(pipefd[1], "o", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	flip(t.dir, (uint64_t)(tx[0] < tx[1] ? 0 : 1) * psize + 16, 0x5a);
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_ERR_BUSY);
	assert_false(fixed);
	assert_non_null(strstr(why, "another process"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pipefd[0]);
	assert_int_equal(hm_store_meta_repair(t.dir, &fixed, why, sizeof(why)), HM_OK);
	assert_true(fixed); /* once it is gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_older_meta_repaired),
	    cmocka_unit_test(test_newer_meta_left_alone),
	    cmocka_unit_test(test_refused_while_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
