/*
 * test_peers.c - the peers of a node in real files (sync/peers.c): DIR/peers and
 * DIR/peers.state written and read back, byte for byte as before the move out of cli/, what a
 * damaged line does, and the outcome of one sync on a peer's state.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "scratch.h"
#include "sync.h"

/* A reason as `hamlet sync` leaves it: one line, its control bytes escaped, spaces kept. */
#define REASON "with tcp://10.0.0.9:7000: the peer said \"no\"\\n\\x1b[31m  twice\\\\"

static void fresh_dir(char *dir, size_t cap, const char *name)
{
	test_scratch_path(dir, cap, "peers", name);
	assert_int_equal(mkdir(dir, 0700), 0);
}

static void write_text(const char *dir, const char *file, const char *text)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void read_text(const char *dir, const char *file, char *out, size_t cap)
{
	char path[1200];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_non_null(f = fopen(path, "r"));
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	fclose(f);
}

static void file_mode_is_0600(const char *dir, const char *file)
{
	char path[1200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void two_peers(hm_peers *ps)
{
	memset(ps, 0, sizeof(*ps));
	assert_int_equal(hm_peers_add(ps, "hub-east", "tcp://10.0.0.9:7000"), HM_OK);
	assert_int_equal(hm_peers_add(ps, "v_2", "ipc:///run/hamlet/v2.sock"), HM_OK);
	ps->p[0].last_ok = 1765000000123ull, ps->p[0].last_err = 1765000009999ull;
	ps->p[0].failures = 3, ps->p[0].sent = 41, ps->p[0].received = 7;
	snprintf(ps->p[0].reason, sizeof(ps->p[0].reason), "%s", REASON);
	ps->p[1].last_ok = 5, ps->p[1].sent = 1;
}

/* Both files as they were written before the move, read back whole, 0600 whatever the umask. */
static void test_round_trip(void **state)
{
	char dir[1024], text[2048];
	hm_peers ps, back;
	(void)state;

	fresh_dir(dir, sizeof(dir), "round");
	two_peers(&ps);
	umask(022);
	assert_int_equal(hm_peers_save(dir, &ps, HM_PEERS_LIST), HM_OK);
	assert_int_equal(hm_peers_save(dir, &ps, HM_PEERS_STATE), HM_OK);
	read_text(dir, "peers", text, sizeof(text));
	assert_string_equal(text, "hub-east tcp://10.0.0.9:7000\nv_2 ipc:///run/hamlet/v2.sock\n");
	read_text(dir, "peers.state", text, sizeof(text));
	assert_string_equal(text, "hub-east 1765000000123 1765000009999 3 41 7 " REASON "\n"
	                          "v_2 5 0 0 1 0 \n");
	file_mode_is_0600(dir, "peers");
	file_mode_is_0600(dir, "peers.state");

	assert_int_equal(hm_peers_load(dir, &back), HM_OK);
	assert_int_equal(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.p[i].name, ps.p[i].name);
		assert_string_equal(back.p[i].url, ps.p[i].url);
		assert_int_equal(back.p[i].last_ok, ps.p[i].last_ok);
		assert_int_equal(back.p[i].last_err, ps.p[i].last_err);
		assert_int_equal(back.p[i].failures, ps.p[i].failures);
		assert_int_equal(back.p[i].sent, ps.p[i].sent);
		assert_int_equal(back.p[i].received, ps.p[i].received);
		assert_string_equal(back.p[i].reason, ps.p[i].reason);
	}
	assert_ptr_equal(hm_peers_find(&back, "v_2"), &back.p[1]);
	assert_null(hm_peers_find(&back, "v_3"));
}

/* No files yet: no peers, no error. A folder that is not there cannot be written. */
static void test_missing(void **state)
{
	char dir[1024], gone[1100];
	hm_peers ps;
	(void)state;

	fresh_dir(dir, sizeof(dir), "missing");
	assert_int_equal(hm_peers_load(dir, &ps), HM_OK);
	assert_int_equal(ps.n, 0);
	two_peers(&ps);
	snprintf(gone, sizeof(gone), "%s/nowhere", dir);
	assert_int_equal(hm_peers_save(gone, &ps, HM_PEERS_STATE), HM_ERR_IO);
	assert_non_null(strstr(hm_sync_errmsg(), "peers.state"));
	/* a state without the list of peers: no peers */
	write_text(dir, "peers.state", "a 1 2 3 4 5 x\n");
	assert_int_equal(hm_peers_load(dir, &ps), HM_OK);
	assert_int_equal(ps.n, 0);
}

/* Damaged lines are skipped, as they always were: the rest of each file still counts. */
static void test_damaged_lines(void **state)
{
	char dir[1024];
	hm_peers ps;
	(void)state;

	fresh_dir(dir, sizeof(dir), "damaged");
	write_text(dir, "peers",
	           "good tcp://10.0.0.1:7000\n"
	           "Bad-Name tcp://10.0.0.2:7000\n"
	           "nourl\n"
	           "web http://10.0.0.3/\n"
	           "other ipc:///tmp/o.sock\n"
	           "old ipc:///tmp/a,b.sock\n"); /* a comma, from before lists: still one URL */
	write_text(dir, "peers.state",
	           "good 1 2 x 4 5 cut short\n" /* a number that is not one */
	           "other 10 20 2 30 40 fine\n"
	           "stranger 1 1 1 1 1 names no peer\n"
	           "good 7 8\n"); /* too few numbers */
	assert_int_equal(hm_peers_load(dir, &ps), HM_OK);
	assert_int_equal(ps.n, 3);
	assert_string_equal(ps.p[2].url, "ipc:///tmp/a,b.sock");
	assert_string_equal(ps.p[0].name, "good");
	assert_int_equal(ps.p[0].last_ok, 0);
	assert_int_equal(ps.p[0].failures, 0);
	assert_string_equal(ps.p[0].reason, "");
	assert_string_equal(ps.p[1].name, "other");
	assert_int_equal(ps.p[1].last_ok, 10);
	assert_int_equal(ps.p[1].last_err, 20);
	assert_int_equal(ps.p[1].failures, 2);
	assert_int_equal(ps.p[1].sent, 30);
	assert_int_equal(ps.p[1].received, 40);
	assert_string_equal(ps.p[1].reason, "fine");
}

static void test_add_remove(void **state)
{
	char name[16];
	hm_peers ps;
	(void)state;

	memset(&ps, 0, sizeof(ps));
	assert_int_equal(hm_peers_add(&ps, "", "tcp://h:1"), HM_ERR_INVALID);
	assert_int_equal(hm_peers_add(&ps, "UPPER", "tcp://h:1"), HM_ERR_INVALID);
	assert_int_equal(hm_peers_add(&ps, "a23456789012345678901234567890123", "tcp://h:1"),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_peers_add(&ps, "a", "http://h/"), HM_ERR_INVALID);
	assert_int_equal(hm_peers_add(&ps, "a", "tcp://h :1"), HM_ERR_INVALID);
	assert_int_equal(ps.n, 0);
	assert_int_equal(hm_peers_add(&ps, "a", "tcp://h:1"), HM_OK);
	assert_int_equal(hm_peers_add(&ps, "a", "tcp://h:2"), HM_ERR_EXISTS);
	for (int i = 1; i < HM_PEERS_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(hm_peers_add(&ps, name, "tcp://h:1"), HM_OK);
	}
	assert_int_equal(hm_peers_add(&ps, "onemore", "tcp://h:1"), HM_ERR_FULL);
	assert_int_equal(hm_peers_remove(&ps, "p5"), HM_OK);
	assert_int_equal(ps.n, HM_PEERS_MAX - 1);
	assert_null(hm_peers_find(&ps, "p5"));
	assert_string_equal(ps.p[5].name, "p6");
	assert_int_equal(hm_peers_remove(&ps, "p5"), HM_ERR_NOT_FOUND);
}

/* URLs: the three transports a peer is reached by; a listen list of up to 8, comma-separated. */
static void test_urls(void **state)
{
	char many[1024] = "";
	(void)state;

	assert_true(hm_peer_url_valid("tcp://10.0.0.1:7440"));
	assert_true(hm_peer_url_valid("ws://10.0.0.1:7441"));
	assert_true(hm_peer_url_valid("ipc:///run/hamlet/v.sock"));
	assert_false(hm_peer_url_valid("wss://10.0.0.1:7441"));
	assert_false(hm_peer_url_valid("http://10.0.0.1/"));
	assert_false(hm_peer_url_valid("ws:/10.0.0.1:7441"));
	assert_false(hm_peer_url_valid("ws://h :1"));

	assert_true(hm_listen_urls_valid("tcp://0.0.0.0:7440"));
	assert_true(hm_listen_urls_valid("tcp://0.0.0.0:7440,ws://0.0.0.0:7441"));
	assert_true(hm_listen_urls_valid("ws://0.0.0.0:7441,ipc:///tmp/h.sock,tcp://[::1]:1"));
	assert_false(hm_listen_urls_valid(""));
	assert_false(hm_listen_urls_valid(","));
	assert_false(hm_listen_urls_valid("tcp://0.0.0.0:7440,"));
	assert_false(hm_listen_urls_valid(",tcp://0.0.0.0:7440"));
	assert_false(hm_listen_urls_valid("tcp://0.0.0.0:7440,,ws://0.0.0.0:7441"));
	assert_false(hm_listen_urls_valid("tcp://0.0.0.0:7440,http://0.0.0.0:80"));
	for (int i = 0; i < HM_LISTEN_URLS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%stcp://h:%d",
		         i ? "," : "", 7000 + i);
	assert_true(hm_listen_urls_valid(many));
	strcat(many, ",tcp://h:1");
	assert_false(hm_listen_urls_valid(many));

	/* a peer is one URL: a hub's list is refused when added, yet loads from an older file */
	{
		hm_peers ps;
		memset(&ps, 0, sizeof(ps));
		assert_int_equal(hm_peers_add(&ps, "hub", "tcp://h:1,ws://h:2"), HM_ERR_INVALID);
		assert_int_equal(ps.n, 0);
		assert_int_equal(hm_peers_add(&ps, "hub", "ws://h:2"), HM_OK);
	}
}

/* One sync's outcome: a failure counts, keeps one line and waits its backoff; a success resets. */
static void test_outcome(void **state)
{
	hm_peers ps;
	hm_link *l;
	(void)state;

	two_peers(&ps);
	l = &ps.p[1];
	hm_link_failed(l, 1000000, "refused\nand more");
	assert_int_equal(l->failures, 1);
	assert_int_equal(l->last_err, 1000000);
	assert_string_equal(l->reason, "refused");
	assert_true(l->next_try >= 1000000 + HM_RETRY_FIRST_MS / 2);
	assert_true(l->next_try <= 1000000 + HM_RETRY_FIRST_MS);
	hm_link_failed(l, 2000000, NULL);
	assert_int_equal(l->failures, 2);
	assert_string_equal(l->reason, "");
	assert_true(l->next_try >= 2000000 + HM_RETRY_FIRST_MS);
	assert_true(l->next_try <= 2000000 + 2 * HM_RETRY_FIRST_MS);
	hm_link_succeeded(l, 3000000, 4, 6, 60000);
	assert_int_equal(l->failures, 0);
	assert_int_equal(l->last_ok, 3000000);
	assert_int_equal(l->last_err, 2000000);
	assert_int_equal(l->sent, 5);
	assert_int_equal(l->received, 6);
	assert_int_equal(l->next_try, 3060000);
}

/* The daemon takes what another process (the web's "sync now") wrote of other links. */
static void test_adopt(void **state)
{
	hm_peers mine, disk;
	(void)state;

	memset(&mine, 0, sizeof(mine));
	assert_int_equal(hm_peers_add(&mine, "hub-east", "tcp://10.0.0.9:7000"), HM_OK);
	assert_int_equal(hm_peers_add(&mine, "v_2", "ipc:///run/hamlet/v2.sock"), HM_OK);
	disk = mine;
	hm_link_succeeded(&mine.p[0], 5000, 1, 1, 60000); /* the daemon's own, just done */
	hm_link_failed(&mine.p[1], 1000, "refused");
	mine.p[1].next_try = 7777;
	hm_link_succeeded(&disk.p[0], 4000, 9, 9, 0); /* older than the daemon's */
	hm_link_succeeded(&disk.p[1], 3000, 2, 3, 0); /* the web synced it after the failure */
	hm_peers_adopt(&mine, &disk, &mine.p[0]);
	assert_int_equal(mine.p[0].last_ok, 5000); /* except: kept */
	assert_int_equal(mine.p[0].sent, 1);
	assert_int_equal(mine.p[1].last_ok, 3000);
	assert_int_equal(mine.p[1].failures, 0);
	assert_int_equal(mine.p[1].received, 3);
	assert_string_equal(mine.p[1].reason, "");
	assert_int_equal(mine.p[1].next_try, 7777); /* the schedule's own */
	/* an older outcome on disk changes nothing */
	hm_link_failed(&disk.p[1], 2000, "late");
	hm_peers_adopt(&mine, &disk, NULL);
	assert_int_equal(mine.p[1].last_ok, 3000);
	assert_int_equal(mine.p[1].failures, 0);
	assert_int_equal(mine.p[0].sent, 1); /* disk's older success of p[0] not taken either */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_damaged_lines), cmocka_unit_test(test_add_remove),
	    cmocka_unit_test(test_outcome),       cmocka_unit_test(test_adopt),
	    cmocka_unit_test(test_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
