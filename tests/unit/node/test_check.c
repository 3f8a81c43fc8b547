/* test_check.c - `hamlet check` end to end, and the way back (issue #10, part 3). A county holds
 * a village's records; then bytes at rest are damaged the way a failing disk or a tool run by
 * hand would: a record replaced by another (validly sealed) value, a byte of a sealed record
 * flipped, a record gone, a change set of the oplog altered. check names each problem (the
 * records differ from a rebuild, a value altered at rest, a broken chain) and changes nothing;
 * `check --repair` (hm_node_repair) brings the records back to the digest they had whenever the
 * oplog is whole, and refuses when it is not, or when the data key its records were merged with
 * is gone. */
#include "trust_test.h"

#include <stdlib.h>
#include <string.h>

enum damage { D_SWAP, D_FLIP, D_DROP, D_OPLOG, D_KEYS, D_KEY_MOVED };

/* The record key of person id in TT_V1. */
static size_t person_key(uint8_t *key, const char *id)
{
	return hm_record_key(key, HM_RECORD_KEY_MAX, "person", 6, id, strlen(id), TT_V1,
	                     strlen(TT_V1));
}

/* Replace v1-a's record by v1-b's, sealed under v1-a's key (so it opens). */
static hm_err swap_record(hm_node *n, MDB_txn *txn)
{
	uint8_t k1[HM_RECORD_KEY_MAX], k2[HM_RECORD_KEY_MAX];
	size_t n1 = person_key(k1, "v1-a"), n2 = person_key(k2, "v1-b");
	msgpack_sbuffer sb;
	uint8_t *copy;
	MDB_val v;
	hm_err err;

	msgpack_sbuffer_init(&sb);
	if ((err = hm_seal_get(n, txn, HM_DB_RECORDS, k2, n2, &v, &sb)))
		goto out;
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	err = hm_seal_put(n, txn, HM_DB_RECORDS, k1, n1, copy, v.mv_size, &sb);
	free(copy);
out:
	msgpack_sbuffer_destroy(&sb);
	return err;
}

/* Flip one byte in the middle of the stored value at key in db. */
static hm_err flip_value(hm_node *n, MDB_txn *txn, enum hm_db db, const uint8_t *key, size_t kn)
{
	uint8_t *copy;
	MDB_val v;
	hm_err err = hm_store_get(n, txn, db, key, kn, &v);

	if (err)
		return err;
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size / 2] ^= 0x20;
	err = hm_store_put(n, txn, db, key, kn, copy, v.mv_size);
	free(copy);
	return err;
}

/* A newer epoch of the records' key held (5), and the stored record of the epoch they were
 * sealed under (1) moved to epoch 3, as one flipped bit of its key does: a lookup of epoch 1
 * finds nothing, and the newest opens. */
static hm_err move_key(hm_node *n, MDB_txn *txn)
{
	uint8_t key[HM_DATA_KEY_BYTES] = {5}, id[sizeof(TT_T1) + 4];
	MDB_val k = {sizeof(id), id}, v;
	uint8_t *copy;
	int rc;
	hm_err err;

	if ((err = hm_trust_key_store(n, txn, TT_T1, 5, key)))
		return err;
	memcpy(id, TT_T1, sizeof(TT_T1)); /* scope, 0, epoch (4 bytes, big-endian): 1 */
	memcpy(id + sizeof(TT_T1), "\0\0\0\1", 4);
	if ((rc = mdb_get(txn, n->dbi[HM_DB_KEYS], &k, &v)))
		return hm_store_err(rc);
	assert_non_null(copy = malloc(v.mv_size));
	memcpy(copy, v.mv_data, v.mv_size);
	if (!(rc = mdb_del(txn, n->dbi[HM_DB_KEYS], &k, NULL))) {
		id[sizeof(id) - 1] ^= 0x02;
		v.mv_data = copy;
		rc = mdb_put(txn, n->dbi[HM_DB_KEYS], &k, &v, 0);
	}
	free(copy);
	return rc ? hm_store_err(rc) : HM_OK;
}

/* A hash of every stored byte of the records, oplog and heads: what a check must not change. */
static void raw_state(hm_node *n, hm_hash *out)
{
	static const enum hm_db dbs[] = {HM_DB_RECORDS, HM_DB_OPLOG, HM_DB_HEADS, HM_DB_CONFLICTS};
	hm_hash_state st;
	MDB_txn *txn;

	hm_hash_init(&st);
	assert_int_equal(hm_store_read_begin(n, &txn), HM_OK);
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_cursor *cur;
		MDB_val k, v;
		assert_int_equal(mdb_cursor_open(txn, n->dbi[dbs[i]], &cur), 0);
		for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			hm_hash_update(&st, k.mv_data, k.mv_size);
			hm_hash_update(&st, v.mv_data, v.mv_size);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	hm_hash_final(&st, out);
}

typedef struct damage_ctx {
	enum damage kind;
	hm_node_id origin; /* D_OPLOG: whose seq 1 */
} damage_ctx;

static hm_err damage_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	const damage_ctx *d = arg;
	uint8_t key[HM_RECORD_KEY_MAX];
	size_t kn = person_key(key, "v1-a");

	switch (d->kind) {
	case D_SWAP:
		return swap_record(n, txn);
	case D_FLIP:
		return flip_value(n, txn, HM_DB_RECORDS, key, kn);
	case D_DROP:
		return hm_store_del(n, txn, HM_DB_RECORDS, key, kn);
	case D_OPLOG:
		hm_opkey(key, &d->origin, 1);
		return flip_value(n, txn, HM_DB_OPLOG, key, HM_OPKEY_BYTES);
	case D_KEYS: /* every data key gone (a damaged keys tree reads so: no key found) */
		return mdb_drop(txn, n->dbi[HM_DB_KEYS], 0) ? HM_ERR_STORE : HM_OK;
	case D_KEY_MOVED:
		return move_key(n, txn);
	}
	return HM_ERR_INVALID;
}

static void damage_and_check(enum damage kind, hm_err want, const char *why, bool repairable)
{
	static int round;
	char prefix[32];
	tt_mesh m;
	test_envs e = {0};
	damage_ctx d = {kind};
	hm_hash before, after, damaged, checked;

	snprintf(prefix, sizeof(prefix), "check%d", round++);
	tt_mesh_init(&m, prefix);
	test_person(m.v1.n, "v1-a", "Li Wei", NULL);
	test_person(m.v1.n, "v1-b", "Wang Fang", NULL);
	assert_int_equal(test_set_str(m.v1.n, "person", "v1-a", "phone", "13800000000", NULL),
	                 HM_OK);
	test_envs_collect(m.v1.n, NULL, &e);
	for (size_t i = 0; i < e.n; i++)
		assert_int_equal(test_apply1(m.c.n, &e.v[i]), HM_APPLY_NEW);
	assert_int_equal(hm_node_check(m.c.n), HM_OK);
	assert_int_equal(hm_node_digest(m.c.n, NULL, &before), HM_OK);

	d.origin = m.v1.ident.id;
	assert_int_equal(hm_store_write(m.c.n, damage_txn, &d), HM_OK);
	raw_state(m.c.n, &damaged);
	if (hm_node_check(m.c.n) != want)
		fail_msg("check after damage %d: want %s, got: %s", kind, hm_strerror(want),
		         hm_node_errmsg(m.c.n));
	assert_non_null(strstr(hm_node_errmsg(m.c.n), why));
	raw_state(m.c.n, &checked);
	assert_memory_equal(damaged.b, checked.b, sizeof(damaged.b)); /* check changed nothing */

	if (repairable) {
		assert_int_equal(hm_node_repair(m.c.n), HM_OK);
		assert_int_equal(hm_node_check(m.c.n), HM_OK);
		assert_int_equal(hm_node_digest(m.c.n, NULL, &after), HM_OK);
		assert_memory_equal(before.b, after.b, sizeof(before.b));
	} else {
		assert_int_not_equal(hm_node_repair(m.c.n), HM_OK);
	}
	test_envs_release(&e);
	tt_mesh_release(&m);
}

static void test_record_swapped(void **state)
{
	(void)state;
	damage_and_check(D_SWAP, HM_ERR_CORRUPT, "differ from a rebuild from the oplog", true);
}

static void test_record_flipped(void **state)
{
	(void)state;
	damage_and_check(D_FLIP, HM_ERR_CRYPTO, "check --repair", true);
}

static void test_record_dropped(void **state)
{
	(void)state;
	damage_and_check(D_DROP, HM_ERR_CORRUPT, "differ from a rebuild from the oplog", true);
}

static void test_oplog_altered(void **state)
{
	(void)state;
	damage_and_check(D_OPLOG, HM_ERR_CORRUPT, "hash chain is broken", false);
}

/* The data key of the records' region gone: a rebuild would skip every change set of it (as a
 * hub skips what it only relays) and empty the records. check says the key is gone, and repair
 * refuses rather than empty them. */
static void test_data_key_gone(void **state)
{
	(void)state;
	damage_and_check(D_KEYS, HM_ERR_CORRUPT, "is gone from its store", false);
}

/* One data key among others damaged where no lookup reaches it: before, the rebuild skipped its
 * epoch's change sets as not yet given, and repair dropped their records. check says a key does
 * not open, and repair refuses. */
static void test_data_key_moved(void **state)
{
	(void)state;
	damage_and_check(D_KEY_MOVED, HM_ERR_CORRUPT, "a data key of this node does not open",
	                 false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_swapped), cmocka_unit_test(test_record_flipped),
	    cmocka_unit_test(test_record_dropped), cmocka_unit_test(test_oplog_altered),
	    cmocka_unit_test(test_data_key_gone),  cmocka_unit_test(test_data_key_moved),
	};
	if (hm_crypto_init() != HM_OK)
		return 1;
	return cmocka_run_group_tests_name("trust/check", tests, NULL, NULL);
}
