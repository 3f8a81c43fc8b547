/* test_sign.c - identities, node ids and signatures. */
#include "test_util.h"

#include <string.h>

static const char msg_text[] = "changeset 42 from origin 7: set field crop=millet";

static void identity_from_seed_is_deterministic(void **state)
{
	hm_identity a, b, c;
	hm_node_id id;
	hm_hash h;
	(void)state;
	test_identity(&a, 1);
	test_identity(&b, 1);
	test_identity(&c, 2);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_not_equal(a.sign_pub.b, c.sign_pub.b, HM_SIGN_PUB_BYTES);
	/* The two key pairs are independent: no key material is shared between them. */
	assert_memory_not_equal(a.sign_pub.b, a.box_pub.b, 32);
	assert_memory_not_equal(a.sign_secret, a.box_secret, 32);
	hm_hash_buf(a.sign_pub.b, HM_SIGN_PUB_BYTES, &h);
	assert_memory_equal(a.id.b, h.b, HM_NODE_ID_BYTES);
	hm_node_id_from_pub(&id, &a.sign_pub);
	assert_true(hm_node_id_equal(&id, &a.id));
	assert_false(hm_node_id_equal(&id, &c.id));
	hm_identity_release(&a);
	hm_identity_release(&b);
	hm_identity_release(&c);
}

static void identity_random_differs_and_releases(void **state)
{
	hm_identity a, b, zero;
	(void)state;
	assert_int_equal(hm_identity_init(&a), HM_OK);
	assert_int_equal(hm_identity_init(&b), HM_OK);
	assert_memory_not_equal(a.sign_pub.b, b.sign_pub.b, HM_SIGN_PUB_BYTES);
	hm_identity_release(&a);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&a, &zero, sizeof(a));
	hm_identity_release(&b);
}

static void sign_verify_round_trip(void **state)
{
	hm_identity ident, other;
	hm_signature sig;
	(void)state;
	test_identity(&ident, 10);
	test_identity(&other, 11);
	assert_int_equal(hm_sign(&sig, &ident, msg_text, sizeof(msg_text)), HM_OK);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, msg_text, sizeof(msg_text)), HM_OK);
	assert_int_equal(hm_verify(&sig, &other.sign_pub, msg_text, sizeof(msg_text)),
	                 HM_ERR_CRYPTO);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, msg_text, sizeof(msg_text) - 1),
	                 HM_ERR_CRYPTO);
	assert_int_equal(hm_sign(&sig, &ident, NULL, 0), HM_OK);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, NULL, 0), HM_OK);
	hm_identity_release(&ident);
	hm_identity_release(&other);
}

static void sign_any_flipped_byte_fails(void **state)
{
	hm_identity ident;
	hm_signature sig, bad;
	uint8_t msg[sizeof(msg_text)];
	(void)state;
	test_identity(&ident, 12);
	memcpy(msg, msg_text, sizeof(msg));
	assert_int_equal(hm_sign(&sig, &ident, msg, sizeof(msg)), HM_OK);
	for (size_t i = 0; i < sizeof(sig.b); i++) {
		for (int bit = 0; bit < 8; bit++) {
			bad = sig;
			bad.b[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(hm_verify(&bad, &ident.sign_pub, msg, sizeof(msg)),
			                 HM_ERR_CRYPTO);
		}
	}
	for (size_t i = 0; i < sizeof(msg); i++) {
		msg[i] ^= 0x01;
		assert_int_equal(hm_verify(&sig, &ident.sign_pub, msg, sizeof(msg)), HM_ERR_CRYPTO);
		msg[i] ^= 0x01;
	}
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, msg, sizeof(msg)), HM_OK);
	hm_identity_release(&ident);
}

static void sign_hash_of_large_message(void **state)
{
	enum { BIG = 1 << 20 };
	static uint8_t big[BIG];
	hm_identity ident;
	hm_hash_state st;
	hm_hash h;
	hm_signature sig, bad;
	(void)state;
	test_identity(&ident, 13);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 31);
	hm_hash_init(&st);
	hm_hash_update(&st, big, BIG / 2);
	hm_hash_update(&st, big + BIG / 2, BIG - BIG / 2);
	hm_hash_final(&st, &h);
	assert_int_equal(hm_sign_hash(&sig, &ident, &h), HM_OK);
	assert_int_equal(hm_verify_hash(&sig, &ident.sign_pub, &h), HM_OK);
	for (size_t i = 0; i < HM_HASH_BYTES; i++) {
		h.b[i] ^= 0x80;
		assert_int_equal(hm_verify_hash(&sig, &ident.sign_pub, &h), HM_ERR_CRYPTO);
		h.b[i] ^= 0x80;
	}
	for (size_t i = 0; i < sizeof(sig.b); i++) {
		bad = sig;
		bad.b[i] ^= 0x01;
		assert_int_equal(hm_verify_hash(&bad, &ident.sign_pub, &h), HM_ERR_CRYPTO);
	}
	hm_identity_release(&ident);
}

/* A signature made for one purpose must not verify for another. */
static void sign_contexts_are_separate(void **state)
{
	hm_identity ident;
	hm_signature sig;
	hm_hash h;
	(void)state;
	test_identity(&ident, 14);
	hm_hash_buf(msg_text, sizeof(msg_text), &h);
	assert_int_equal(hm_sign(&sig, &ident, h.b, sizeof(h.b)), HM_OK);
	assert_int_equal(hm_verify_hash(&sig, &ident.sign_pub, &h), HM_ERR_CRYPTO);
	assert_int_equal(hm_sign_hash(&sig, &ident, &h), HM_OK);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, h.b, sizeof(h.b)), HM_ERR_CRYPTO);
	assert_int_equal(hm_verify_ctx(&sig, &ident.sign_pub, HM_SIGN_CTX_CERT, h.b, sizeof(h.b)),
	                 HM_ERR_CRYPTO);
	hm_identity_release(&ident);
}

static void sign_refuses_long_messages(void **state)
{
	static uint8_t buf[HM_SIGN_MSG_MAX + 1];
	hm_identity ident;
	hm_signature sig;
	(void)state;
	test_identity(&ident, 15);
	assert_int_equal(hm_sign(&sig, &ident, buf, HM_SIGN_MSG_MAX), HM_OK);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, buf, HM_SIGN_MSG_MAX), HM_OK);
	assert_int_equal(hm_sign(&sig, &ident, buf, HM_SIGN_MSG_MAX + 1), HM_ERR_TOO_BIG);
	assert_int_equal(hm_verify(&sig, &ident.sign_pub, buf, HM_SIGN_MSG_MAX + 1),
	                 HM_ERR_TOO_BIG);
	hm_identity_release(&ident);
}

int test_sign_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(identity_from_seed_is_deterministic),
	    cmocka_unit_test(identity_random_differs_and_releases),
	    cmocka_unit_test(sign_verify_round_trip),
	    cmocka_unit_test(sign_any_flipped_byte_fails),
	    cmocka_unit_test(sign_hash_of_large_message),
	    cmocka_unit_test(sign_contexts_are_separate),
	    cmocka_unit_test(sign_refuses_long_messages),
	};
	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
