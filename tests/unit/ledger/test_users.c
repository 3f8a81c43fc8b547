/* test_users.c - the people of the station (ledger/users.c): roles and the permissions table,
 * names and passwords refused, accounts added, listed, logged in with, changed and removed on a
 * real node with keys in a scratch folder, and the users file refused whole when it was edited
 * by hand, cut short or comes from another station (labelled security). crypto_pwhash costs
 * about 0.1 s a call: each test hashes a few times, not more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ledger.h"
#include "scratch.h"

#define T0_MS 1796540400000ull /* 2026-12-06 */
#define PW    "hills-of-tea9"
#define PW2   "山高水长月明风清"

typedef struct env {
	char dir[4096], path[4200];
	hm_identity ident;
	uint8_t storage_key[HM_STORAGE_KEY_BYTES];
	hm_node *n;
	hm_ledger l;
	uint64_t now_ms;
} env;

static uint64_t test_clock(void *arg)
{
	return *(uint64_t *)arg;
}

/* A station in the scratch folder NAME, with its own keys when keys (else a node made without
 * keys, as the merge engine's tests make them). */
static void env_open(env *e, const char *name, bool keys)
{
	hm_node_opts opts = {0};

	memset(e, 0, sizeof(*e));
	test_scratch_path(e->dir, sizeof(e->dir), "users", name);
	snprintf(e->path, sizeof(e->path), "%s/users", e->dir);
	assert_int_equal(hm_identity_init(&e->ident), HM_OK);
	hm_random_bytes(e->storage_key, sizeof(e->storage_key));
	opts.identity = keys ? &e->ident : NULL;
	opts.storage_key = keys ? e->storage_key : NULL;
	assert_int_equal(hm_node_create(e->dir, HM_ROLE_VILLAGE, "lin/east/elm", name, &opts, NULL),
	                 HM_OK);
	assert_int_equal(hm_node_open(e->dir, &opts, &e->n), HM_OK);
	hm_ledger_init(&e->l, e->n);
	e->now_ms = T0_MS;
	e->l.clock = test_clock;
	e->l.clock_arg = &e->now_ms;
}

static void env_close(env *e)
{
	hm_node_close(e->n);
	hm_identity_release(&e->ident);
	hm_wipe(e->storage_key, sizeof(e->storage_key));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void assert_msg(env *e, const char *part)
{
	const char *msg = hm_node_errmsg(e->n);
	if (!strstr(msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Roles and the table ---- */

static void test_roles(void **state)
{
	/* rows: clerk, doctor, officer, auditor; columns: HM_RIGHT_FOLLOWUP .. HM_RIGHT_EXPORT */
	static const char *const table[] = {"11111010010", "11001000000", "00011111111",
	                                    "00001111111"};
	hm_user_role r;
	(void)state;

	for (int role = HM_ROLE_CLERK; role <= HM_ROLE_AUDITOR; role++)
		for (int right = HM_RIGHT_FOLLOWUP; right <= HM_RIGHT_EXPORT; right++)
			if (hm_role_may((hm_user_role)role, (hm_right)right) !=
			    (table[role - 1][right - 1] == '1'))
				fail_msg("%s, right %d: the table says %c",
				         hm_user_role_name((hm_user_role)role), right,
				         table[role - 1][right - 1]);
	assert_false(hm_role_may((hm_user_role)0, HM_RIGHT_NAMES));
	assert_false(hm_role_may((hm_user_role)5, HM_RIGHT_NAMES));
	assert_false(hm_role_may(HM_ROLE_AUDITOR, (hm_right)12));
	assert_true(hm_user_role_parse("doctor", &r) && r == HM_ROLE_DOCTOR);
	assert_true(hm_user_role_parse("审计", &r) && r == HM_ROLE_AUDITOR);
	assert_false(hm_user_role_parse("Clerk", &r));
	assert_false(hm_user_role_parse("", &r));
	assert_string_equal(hm_user_role_name(HM_ROLE_OFFICER), "officer");
	assert_string_equal(hm_user_role_zh(HM_ROLE_CLERK), "文书");
	assert_string_equal(hm_user_role_name((hm_user_role)9), "unknown");
}

/* ---- Names and passwords ---- */

static void test_names(void **state)
{
	static const char *const good[] = {
	    "王小明", "Li Wei", "li", "欧阳 娜娜",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	static const char *const bad[] = {
	    "",
	    " li",
	    "li ",
	    "li\t",
	    "l\ni",
	    "\xe3\x80\x80王",
	    "王\xe3\x80\x80",
	    "a\x1b[31m",
	    "\xff",
	    "a\xe2\x80\xae"
	    "b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	const char *why;
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (hm_user_name_check(good[i], &why))
			fail_msg("'%s' refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!hm_user_name_check(bad[i], &why))
			fail_msg("bad name %zu accepted", i);
}

static void test_passwords(void **state)
{
	static const char *const good[] = {PW, PW2, "correct horse", "Tz9!kq2#"};
	static const char *const bad[] = {"short1!",      "12345678",  "87654321", "qwertyuiop",
	                                  "password2026", "Hamlet123", "aaaaaaaa", "abababab",
	                                  "good pw\n1",   ""};
	char big[HM_PASSWORD_MAX_BYTES + 2];
	const char *why;
	env e;
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (hm_password_check(good[i], strlen(good[i]), &why))
			fail_msg("'%s' refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!hm_password_check(bad[i], strlen(bad[i]), &why))
			fail_msg("'%s' accepted", bad[i]);
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(hm_password_check(big, strlen(big), &why), HM_ERR_INVALID);

	/* Refused before anything is written: no users file appears. */
	env_open(&e, "weak", true);
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_CLERK, "12345678"), HM_ERR_INVALID);
	assert_msg(&e, "the password is refused");
	assert_int_equal(hm_user_add(&e.l, e.dir, " li", HM_ROLE_CLERK, PW), HM_ERR_INVALID);
	assert_msg(&e, "the name begins with a space");
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", (hm_user_role)7, PW), HM_ERR_INVALID);
	assert_int_not_equal(access(e.path, F_OK), 0);
	env_close(&e);
}

/* ---- Accounts ---- */

static void test_accounts(void **state)
{
	hm_user *us = NULL, u;
	size_t n = 99;
	env e;
	(void)state;

	env_open(&e, "accounts", true);
	/* No file yet: no accounts, and no one logs in. */
	assert_int_equal(hm_user_list(&e.l, e.dir, &us, &n), HM_OK);
	assert_int_equal(n, 0);
	assert_null(us);
	assert_int_equal(hm_user_login(&e.l, e.dir, "王小明", PW, &u), HM_ERR_CRYPTO);

	assert_int_equal(hm_user_add(&e.l, e.dir, "王小明", HM_ROLE_CLERK, PW), HM_OK);
	e.now_ms += 1000;
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_DOCTOR, PW2), HM_OK);
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_AUDITOR, PW), HM_ERR_EXISTS);
	assert_msg(&e, "li already has an account");

	assert_int_equal(hm_user_list(&e.l, e.dir, &us, &n), HM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(us[0].name, "li"); /* by name, byte order */
	assert_int_equal(us[0].role, HM_ROLE_DOCTOR);
	assert_int_equal(us[0].created_ms, T0_MS + 1000);
	assert_string_equal(us[1].name, "王小明");
	assert_int_equal(us[1].role, HM_ROLE_CLERK);
	assert_int_equal(us[1].created_ms, T0_MS);
	free(us);

	assert_int_equal(hm_user_login(&e.l, e.dir, "王小明", PW, &u), HM_OK);
	assert_string_equal(u.name, "王小明");
	assert_int_equal(u.role, HM_ROLE_CLERK);
	assert_int_equal(hm_user_login(&e.l, e.dir, "王小明", PW2, &u), HM_ERR_CRYPTO);
	assert_msg(&e, "wrong name or password");
	assert_int_equal(hm_user_login(&e.l, e.dir, "zhao", PW, NULL), HM_ERR_CRYPTO);
	assert_msg(&e, "wrong name or password");

	/* A new password: the old one no longer opens, the new one does. */
	e.now_ms += 5000;
	assert_int_equal(hm_user_passwd(&e.l, e.dir, "li", PW), HM_OK);
	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW2, NULL), HM_ERR_CRYPTO);
	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW, &u), HM_OK);
	assert_int_equal(u.changed_ms, T0_MS + 6000);
	assert_int_equal(u.created_ms, T0_MS + 1000);
	assert_int_equal(hm_user_passwd(&e.l, e.dir, "zhao", PW), HM_ERR_NOT_FOUND);
	assert_int_equal(hm_user_set_role(&e.l, e.dir, "li", HM_ROLE_OFFICER), HM_OK);

	/* Removed: gone from the list, and its password opens nothing. */
	assert_int_equal(hm_user_remove(&e.l, e.dir, "王小明"), HM_OK);
	assert_int_equal(hm_user_remove(&e.l, e.dir, "王小明"), HM_ERR_NOT_FOUND);
	assert_msg(&e, "no account is named");
	assert_int_equal(hm_user_login(&e.l, e.dir, "王小明", PW, NULL), HM_ERR_CRYPTO);
	assert_int_equal(hm_user_list(&e.l, e.dir, &us, &n), HM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(us[0].name, "li");
	assert_int_equal(us[0].role, HM_ROLE_OFFICER);
	free(us);
	env_close(&e);
}

/* An unknown name costs what a wrong password costs (a dummy hash is checked): measured
 * loosely, so a loaded machine does not fail it, but a skipped hash (about 1000 times
 * faster) does. */
static void test_login_time(void **state)
{
	double t0, wrong, unknown;
	env e;
	(void)state;

	env_open(&e, "timing", true);
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_CLERK, PW), HM_OK);
	t0 = secs();
	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW2, NULL), HM_ERR_CRYPTO);
	wrong = secs() - t0;
	t0 = secs();
	assert_int_equal(hm_user_login(&e.l, e.dir, "nobody", PW2, NULL), HM_ERR_CRYPTO);
	unknown = secs() - t0;
	if (unknown < wrong / 3 || unknown > wrong * 3)
		fail_msg("wrong password %.3f s, unknown name %.3f s", wrong, unknown);
	env_close(&e);
}

/* A hash made at lower costs (an older hamlet) is made again at the next login. The file is
 * written here by its documented format, with its MAC from the node's derived key. */
static void test_rehash(void **state)
{
	char hash[crypto_pwhash_STRBYTES], text[512], hex[65];
	uint8_t key[32];
	hm_hash mac;
	size_t len;
	char *after;
	env e;
	(void)state;

	env_open(&e, "rehash", true);
	assert_int_equal(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                                   crypto_pwhash_MEMLIMIT_MIN),
	                 0);
	len = (size_t)snprintf(text, sizeof(text), "hamlet users 1\nli\tauditor\t5\t6\t%s\n", hash);
	assert_int_equal(hm_node_derive_key(e.n, "hm-users", key), HM_OK);
	hm_hash_keyed(key, text, len, &mac);
	hm_hex_encode(hex, mac.b, sizeof(mac.b));
	len += (size_t)snprintf(text + len, sizeof(text) - len, "mac %s\n", hex);
	spit(e.path, text, len);

	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW, NULL), HM_OK);
	after = slurp(e.path, &len);
	assert_null(strstr(after, hash));
	assert_non_null(strstr(after, "$argon2id$v=19$m=65536,t=2,p=1$"));
	free(after);
	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW, NULL), HM_OK);
	env_close(&e);
}

/* ---- The users file refused (security) ---- */

/* Each altered copy of good is refused whole, by list, login and add, and left as it is. */
static void expect_refused(env *e, const char *text, size_t len)
{
	hm_user *us = NULL;
	size_t n, got_len;
	char *got;

	spit(e->path, text, len);
	assert_int_equal(hm_user_list(&e->l, e->dir, &us, &n), HM_ERR_CORRUPT);
	assert_msg(e, "the users file");
	assert_msg(e, "was altered");
	assert_null(us);
	assert_int_equal(hm_user_login(&e->l, e->dir, "eve", PW, NULL), HM_ERR_CORRUPT);
	assert_int_equal(hm_user_remove(&e->l, e->dir, "li"), HM_ERR_CORRUPT);
	got = slurp(e->path, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, text, len);
	free(got);
}

/* out = in (len bytes) with cut bytes at at replaced by ins; returns its length. */
static size_t splice(char *out, const char *in, size_t len, size_t at, size_t cut, const char *ins)
{
	size_t k = strlen(ins);
	memcpy(out, in, at);
	memcpy(out + at, ins, k);
	memcpy(out + at + k, in + at + cut, len - at - cut);
	return len - cut + k;
}

static void test_tampered(void **state)
{
	char *good, *bad, line[256], hash[crypto_pwhash_STRBYTES];
	size_t len, blen, at;
	env e, other;
	(void)state;

	env_open(&e, "tampered", true);
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_DOCTOR, PW), HM_OK);
	good = slurp(e.path, &len);
	bad = calloc(1, len + 512);
	assert_non_null(bad);

	/* A line added by hand, with a hash of a password the intruder knows. */
	assert_int_equal(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                                   crypto_pwhash_MEMLIMIT_MIN),
	                 0);
	snprintf(line, sizeof(line), "eve\tauditor\t1\t1\t%s\n", hash);
	at = (size_t)(strstr(good, "\nli\t") + 1 - good);
	expect_refused(&e, bad, splice(bad, good, len, at, 0, line));
	/* A role changed: doctor to auditor; a time changed. */
	at = (size_t)(strstr(good, "\tdoctor\t") + 1 - good);
	expect_refused(&e, bad, splice(bad, good, len, at, 6, "auditor"));
	expect_refused(&e, bad, splice(bad, good, len, at + 7, 1, "2"));

	/* Cut short: in the MAC line, before it, down to the first line, empty. */
	expect_refused(&e, good, len - 10);
	expect_refused(&e, good, (size_t)(strstr(good, "mac ") - good));
	expect_refused(&e, good, strlen("hamlet users 1\n"));
	expect_refused(&e, good, 0);

	/* The file of another station, whole and with a right MAC for that station. */
	env_open(&other, "tampered-other", true);
	assert_int_equal(hm_user_add(&other.l, other.dir, "eve", HM_ROLE_AUDITOR, PW), HM_OK);
	free(bad);
	bad = slurp(other.path, &blen);
	assert_int_equal(hm_user_login(&other.l, other.dir, "eve", PW, NULL), HM_OK);
	expect_refused(&e, bad, blen);
	env_close(&other);

	/* Put back as it was: accepted again. */
	spit(e.path, good, len);
	assert_int_equal(hm_user_login(&e.l, e.dir, "li", PW, NULL), HM_OK);
	free(good);
	free(bad);
	env_close(&e);
}

/* A node without keys has no accounts: the MAC cannot be made or checked. */
static void test_without_keys(void **state)
{
	hm_user *us = NULL;
	size_t n;
	env e;
	(void)state;

	env_open(&e, "nokeys", false);
	assert_int_equal(hm_user_list(&e.l, e.dir, &us, &n), HM_ERR_CRYPTO);
	assert_msg(&e, "the node's keys");
	assert_int_equal(hm_user_add(&e.l, e.dir, "li", HM_ROLE_CLERK, PW), HM_ERR_CRYPTO);
	assert_int_not_equal(access(e.path, F_OK), 0);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),      cmocka_unit_test(test_names),
	    cmocka_unit_test(test_passwords),  cmocka_unit_test(test_accounts),
	    cmocka_unit_test(test_login_time), cmocka_unit_test(test_rehash),
	    cmocka_unit_test(test_tampered),   cmocka_unit_test(test_without_keys),
	};
	if (hm_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
