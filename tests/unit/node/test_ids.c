/* test_ids.c - the one id rule (hm_id_check): what it refuses, that a write refuses the same ids
 * and never cuts one to fit, and that a change set from outside naming an id empty, too long or
 * holding a C0 control is refused with nothing of it applied (a receiver keeps to the rule
 * change sets were signed under since format 2: ids with DEL, C1 or bidi controls that older
 * stations signed are taken, and escaped wherever shown); and the drift setting's parser. */
#include "node_test.h"

#include <string.h>

static const struct {
	const char *id;
	const char *why; /* NULL: a good id */
} ids[] = {
    {"p1", NULL},
    {"elm-0001", NULL},
    {"\xe6\x9d\x8e\xe5\x9b\x9b", NULL}, /* Chinese text */
    {"", "is empty"},
    {"a\x1b[2Jb", "holds a control character or a bidi control"},
    {"a\nb", "holds a control character or a bidi control"},
    {"a\x7f", "holds a control character or a bidi control"},
    {"a\xc2\x9b"
     "b",
     "holds a control character or a bidi control"}, /* C1 CSI */
    {"p\xe2\x80\xae"
     "exe.txt",
     "holds a control character or a bidi control"}, /* RLO */
    {"p\xe2\x81\xa6"
     "x",
     "holds a control character or a bidi control"}, /* LRI */
    {"p\xe2\x80\xa8"
     "x",
     "holds a control character or a bidi control"}, /* LS */
    {"a\xff", "is not UTF-8 text"},
    {"a\xc0\xaf", "is not UTF-8 text"}, /* overlong '/' */
};

static void long_id(char *buf, size_t n)
{
	memset(buf, 'q', n);
	buf[n] = '\0';
}

static void test_rule(void **state)
{
	char id[HM_ID_MAX + 2];
	const char *why;
	(void)state;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		hm_err err = hm_id_check(ids[i].id, &why);
		if (!ids[i].why) {
			assert_int_equal(err, HM_OK);
			continue;
		}
		if (err != HM_ERR_INVALID)
			fail_msg("id %zu accepted", i);
		assert_string_equal(why, ids[i].why);
	}
	long_id(id, HM_ID_MAX);
	assert_int_equal(hm_id_check(id, &why), HM_OK);
	long_id(id, HM_ID_MAX + 1);
	assert_int_equal(hm_id_check(id, &why), HM_ERR_INVALID);
	assert_string_equal(why, "is longer than 128 bytes");
	/* a NUL inside (the record key's separator) */
	assert_int_equal(hm_id_check_n("a\0b", 3, &why), HM_ERR_INVALID);
}

/* A write refuses every id the rule refuses, and a long id is never cut to an existing one. */
static void test_write_refuses(void **state)
{
	test_node t;
	test_state s;
	char id[HM_ID_MAX + 2], buf[16];
	(void)state;

	test_node_init(&t, "ids_write", 0, NULL);
	long_id(id, HM_ID_MAX);
	test_person(t.n, id, "Long", NULL);
	test_state_take(t.n, &s);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].why && ids[i].id[0])
			assert_int_equal(test_set_str(t.n, "person", ids[i].id, "name", "X", NULL),
			                 HM_ERR_INVALID);
	long_id(id, HM_ID_MAX + 1);
	assert_int_equal(test_set_str(t.n, "person", id, "name", "Cut", NULL), HM_ERR_INVALID);
	test_state_assert_same(t.n, &s);
	long_id(id, HM_ID_MAX);
	assert_string_equal(test_get_str(t.n, "person", id, "name", buf, sizeof(buf)), "Long");
	test_state_release(&s);
	test_node_release(&t);
}

/* An envelope of a forged origin, seq 1, with one put of person/<id> and one of person/good. */
static void craft(const char *id, size_t idn, test_envs *out)
{
	static const hm_node_id origin = {{0xf0, 0x1d}};
	msgpack_sbuffer body, env;
	msgpack_packer pk;
	hm_header h = {0};

	h.origin = origin;
	h.seq = 1;
	h.hlc = TEST_T0_MS << 16;
	strcpy(h.region, TEST_REGION);
	h.nops = 2;
	msgpack_sbuffer_init(&body);
	msgpack_sbuffer_init(&env);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	for (int i = 0; i < 2; i++) {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, HM_OP_PUT);
		hm_mp_pack_cstr(&pk, "person");
		if (i == 0)
			hm_mp_pack_cstr(&pk, "good");
		else
			msgpack_pack_str(&pk, idn), msgpack_pack_str_body(&pk, id, idn);
		msgpack_pack_map(&pk, 1);
		hm_mp_pack_cstr(&pk, "name");
		hm_mp_pack_cstr(&pk, "X");
	}
	assert_int_equal(hm_envelope_encode(&h, body.data, body.size, NULL, &env), HM_OK);
	test_envs_push(out, env.data, env.size);
	msgpack_sbuffer_destroy(&body);
	msgpack_sbuffer_destroy(&env);
}

static void test_received_refused(void **state)
{
	test_node r;
	test_state s;
	char id[HM_ID_MAX + 2];
	(void)state;

	test_node_init(&r, "ids_received", 0, NULL);
	test_state_take(r.n, &s);
	for (size_t i = 0; i <= sizeof(ids) / sizeof(ids[0]); i++) {
		test_envs e = {0};
		hm_apply_stats st = {0};
		hm_apply_outcome out;
		hm_record *rec;
		const char *p = i < sizeof(ids) / sizeof(ids[0]) ? ids[i].id : id;

		if (i < sizeof(ids) / sizeof(ids[0]) && !ids[i].why)
			continue;
		if (i < sizeof(ids) / sizeof(ids[0]) && *p) {
			bool c0 = false;
			for (const char *q = p; *q; q++)
				c0 |= (unsigned char)*q < 0x20;
			if (!c0)
				continue; /* refused by writers, taken from others (see above) */
		}
		if (i == sizeof(ids) / sizeof(ids[0]))
			long_id(id, HM_ID_MAX + 1);
		craft(p, strlen(p), &e);
		assert_int_equal(hm_node_apply(r.n, e.v, 1, &st, &out), HM_OK);
		if (out != HM_APPLY_REFUSED)
			fail_msg("id %zu: outcome %d, not refused", i, (int)out);
		assert_int_equal(st.ops, 0);
		assert_int_equal(hm_node_get(r.n, "person", "good", &rec), HM_ERR_NOT_FOUND);
		test_envs_release(&e);
	}
	test_state_release(&s);
	test_node_release(&r);
}

static void test_drift_parse(void **state)
{
	uint64_t ms = 0;
	(void)state;

	assert_int_equal(hm_drift_parse("60", 2, &ms), HM_OK);
	assert_int_equal(ms, 3600000);
	assert_int_equal(hm_drift_parse("10080", 5, &ms), HM_OK);
	assert_int_equal(ms, 10080ull * 60000);
	assert_int_equal(hm_drift_parse("0", 1, &ms), HM_ERR_INVALID);
	assert_int_equal(hm_drift_parse("10081", 5, &ms), HM_ERR_INVALID);
	assert_int_equal(hm_drift_parse("-5", 2, &ms), HM_ERR_INVALID);
	assert_int_equal(hm_drift_parse("5m", 2, &ms), HM_ERR_INVALID);
	assert_int_equal(hm_drift_parse("", 0, &ms), HM_ERR_INVALID);
	assert_int_equal(hm_drift_parse("999999", 6, &ms), HM_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule),
	    cmocka_unit_test(test_write_refuses),
	    cmocka_unit_test(test_received_refused),
	    cmocka_unit_test(test_drift_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
