/* test_cert.c - certificate encoding, signatures and chain verification. */
#include "test_util.h"
#include "golden.h"

#include <stdlib.h>
#include <string.h>

#define NB  GOLDEN_NOT_BEFORE
#define NA  GOLDEN_NOT_AFTER
#define NOW GOLDEN_NOW

/* Identities shared by the tests below: a root county, a township, a village, a stranger. */
static hm_identity root, town, village, stranger;

static int setup(void **state)
{
	(void)state;
	if (golden_identity(&root, 1) != HM_OK || golden_identity(&town, 2) != HM_OK ||
	    golden_identity(&village, 3) != HM_OK || golden_identity(&stranger, 4) != HM_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hm_identity_release(&root);
	hm_identity_release(&town);
	hm_identity_release(&village);
	hm_identity_release(&stranger);
	return 0;
}

static void make_cert(hm_cert *c, const hm_identity *subject, const hm_identity *issuer,
                      hm_role role, const char *region, uint8_t flags)
{
	assert_int_equal(hm_cert_init(c, subject, 7, role, region, NB, NA, flags), HM_OK);
	assert_int_equal(hm_cert_sign(c, issuer), HM_OK);
}

/* The good chain: county "c1" -> township "c1/t1" (may enroll) -> village "c1/t1/v1". */
static void good_chain(hm_cert chain[3])
{
	make_cert(&chain[0], &root, &root, HM_ROLE_COUNTY, "c1", 0);
	make_cert(&chain[1], &town, &root, HM_ROLE_TOWNSHIP, "c1/t1", HM_CERT_MAY_ENROLL);
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c1/t1/v1", 0);
}

static void expect_fault(const hm_cert *chain, size_t n, uint64_t now, hm_cert_fault want,
                         size_t want_index)
{
	hm_cert_fault f = HM_CERT_FAULT_NONE;
	size_t idx = 99;

	assert_int_equal(hm_cert_chain_verify(&root.sign_pub, chain, n, now, &f, &idx),
	                 want == HM_CERT_FAULT_NONE ? HM_OK : HM_ERR_CRYPTO);
	if (f != want)
		fail_msg("fault %d (%s), wanted %d (%s)", f, hm_cert_fault_str(f), want,
		         hm_cert_fault_str(want));
	if (want != HM_CERT_FAULT_NONE)
		assert_int_equal(idx, want_index);
}

static void cert_round_trip(void **state)
{
	hm_cert c, d;
	uint8_t buf[HM_CERT_MAX_BYTES], again[HM_CERT_MAX_BYTES];
	size_t len = 0, len2 = 0;
	(void)state;
	make_cert(&c, &town, &root, HM_ROLE_TOWNSHIP, "c1/t1", HM_CERT_MAY_ENROLL);
	assert_int_equal(hm_cert_encode(buf, sizeof(buf), &len, &c), HM_OK);
	assert_int_equal(len, HM_CERT_FIXED_BYTES + strlen("c1/t1"));
	assert_int_equal(hm_cert_decode(&d, buf, len), HM_OK);
	assert_int_equal(d.version, HM_CERT_VERSION);
	assert_int_equal(d.serial, 7);
	assert_true(hm_node_id_equal(&d.node, &town.id));
	assert_int_equal(d.role, HM_ROLE_TOWNSHIP);
	assert_string_equal(d.region, "c1/t1");
	assert_memory_equal(d.sign_pub.b, town.sign_pub.b, HM_SIGN_PUB_BYTES);
	assert_memory_equal(d.box_pub.b, town.box_pub.b, HM_BOX_PUB_BYTES);
	assert_int_equal(d.not_before, NB);
	assert_int_equal(d.not_after, NA);
	assert_true(hm_node_id_equal(&d.issuer, &root.id));
	assert_int_equal(d.flags, HM_CERT_MAY_ENROLL);
	assert_memory_equal(d.sig.b, c.sig.b, HM_SIGNATURE_BYTES);
	assert_int_equal(hm_cert_verify(&d, &root.sign_pub), HM_OK);
	assert_int_equal(hm_cert_verify(&d, &stranger.sign_pub), HM_ERR_CRYPTO);
	assert_int_equal(hm_cert_encode(again, sizeof(again), &len2, &d), HM_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
	assert_int_equal(hm_cert_encode(again, len - 1, &len2, &d), HM_ERR_INVALID);
}

/* Any flipped bit anywhere: either the decoder refuses the bytes or the signature fails. */
static void cert_forgery_refused(void **state)
{
	hm_cert chain[3], d;
	uint8_t buf[HM_CERT_MAX_BYTES];
	size_t len = 0;
	(void)state;
	good_chain(chain);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_NONE, 0);
	assert_int_equal(hm_cert_encode(buf, sizeof(buf), &len, &chain[2]), HM_OK);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			if (hm_cert_decode(&d, buf, len) == HM_OK) {
				chain[2] = d;
				assert_int_not_equal(hm_cert_verify(&d, &town.sign_pub), HM_OK);
				assert_int_equal(
				    hm_cert_chain_verify(&root.sign_pub, chain, 3, NOW, NULL, NULL),
				    HM_ERR_CRYPTO);
			}
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(hm_cert_decode(&chain[2], buf, len), HM_OK);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_NONE, 0);
}

static void cert_signed_by_wrong_key_refused(void **state)
{
	hm_cert chain[3];
	(void)state;
	good_chain(chain);
	/* Right issuer id, wrong key: keep the township's id but sign with the stranger. */
	make_cert(&chain[2], &village, &stranger, HM_ROLE_VILLAGE, "c1/t1/v1", 0);
	chain[2].issuer = town.id;
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_SIGNATURE, 2);
	/* Signed by the root but presented under the township: issuer mismatch. */
	make_cert(&chain[2], &village, &root, HM_ROLE_VILLAGE, "c1/t1/v1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_ISSUER, 2);
	/* ... yet a county may enroll a village directly. */
	chain[1] = chain[2];
	expect_fault(chain, 2, NOW, HM_CERT_FAULT_NONE, 0);
}

static void cert_foreign_root_refused(void **state)
{
	hm_cert chain[3];
	(void)state;
	good_chain(chain);
	assert_int_equal(hm_cert_chain_verify(&stranger.sign_pub, chain, 3, NOW, NULL, NULL),
	                 HM_ERR_CRYPTO);
	/* A stranger's own self-signed county cert is not the root either. */
	make_cert(&chain[0], &stranger, &stranger, HM_ROLE_COUNTY, "c1", 0);
	make_cert(&chain[1], &town, &stranger, HM_ROLE_TOWNSHIP, "c1/t1", HM_CERT_MAY_ENROLL);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_ROOT, 0);
	/* The root key, but a root cert not self-signed. */
	make_cert(&chain[0], &root, &stranger, HM_ROLE_COUNTY, "c1", 0);
	expect_fault(chain, 1, NOW, HM_CERT_FAULT_ROOT, 0);
	/* The root key as a township is not a root. */
	make_cert(&chain[0], &root, &root, HM_ROLE_TOWNSHIP, "c1/t1", 0);
	expect_fault(chain, 1, NOW, HM_CERT_FAULT_ROOT, 0);
}

static void cert_validity_window(void **state)
{
	hm_cert chain[3];
	(void)state;
	good_chain(chain);
	expect_fault(chain, 3, NB, HM_CERT_FAULT_NONE, 0);
	expect_fault(chain, 3, NA, HM_CERT_FAULT_NONE, 0);
	expect_fault(chain, 3, NA + 1, HM_CERT_FAULT_EXPIRED, 0);
	expect_fault(chain, 3, NB - 1, HM_CERT_FAULT_NOT_YET, 0);
	/* Only the village expired. */
	assert_int_equal(
	    hm_cert_init(&chain[2], &village, 8, HM_ROLE_VILLAGE, "c1/t1/v1", NB, NOW - 1, 0),
	    HM_OK);
	assert_int_equal(hm_cert_sign(&chain[2], &town), HM_OK);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_EXPIRED, 2);
	expect_fault(chain, 2, NOW, HM_CERT_FAULT_NONE, 0);
}

static void cert_region_outside_issuer_refused(void **state)
{
	hm_cert chain[3];
	(void)state;
	good_chain(chain);
	make_cert(&chain[1], &town, &root, HM_ROLE_TOWNSHIP, "c2/t1", HM_CERT_MAY_ENROLL);
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c2/t1/v1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_REGION, 1);
	good_chain(chain);
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c1/t2/v1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_REGION, 2);
	/* A prefix that is not a whole segment does not count. */
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c1/t10/v1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_REGION, 2);
	/* Depth must match role. */
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c1/t1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_REGION, 2);
	make_cert(&chain[0], &root, &root, HM_ROLE_COUNTY, "c1/t1", 0);
	expect_fault(chain, 1, NOW, HM_CERT_FAULT_REGION, 0);
}

static void cert_roles_descend(void **state)
{
	hm_cert chain[3];
	(void)state;
	good_chain(chain);
	/* A township without the enroll flag cannot enroll villages. */
	make_cert(&chain[1], &town, &root, HM_ROLE_TOWNSHIP, "c1/t1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_ROLE, 2);
	/* A county cannot enroll another county. */
	make_cert(&chain[1], &town, &root, HM_ROLE_COUNTY, "c1", HM_CERT_MAY_ENROLL);
	expect_fault(chain, 2, NOW, HM_CERT_FAULT_ROLE, 1);
	/* A village cannot enroll anything, flag or not. */
	make_cert(&chain[1], &town, &root, HM_ROLE_VILLAGE, "c1/t1/v1", HM_CERT_MAY_ENROLL);
	make_cert(&chain[2], &village, &town, HM_ROLE_VILLAGE, "c1/t1/v1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_ROLE, 2);
	/* A township cannot enroll a township. */
	good_chain(chain);
	make_cert(&chain[2], &village, &town, HM_ROLE_TOWNSHIP, "c1/t1", 0);
	expect_fault(chain, 3, NOW, HM_CERT_FAULT_ROLE, 2);
}

static void cert_chain_length(void **state)
{
	hm_cert chain[4];
	(void)state;
	good_chain(chain);
	chain[3] = chain[2];
	expect_fault(chain, 0, NOW, HM_CERT_FAULT_LENGTH, 0);
	expect_fault(chain, 4, NOW, HM_CERT_FAULT_LENGTH, 0);
	expect_fault(chain, 1, NOW, HM_CERT_FAULT_NONE, 0);
}

static void cert_decode_is_strict(void **state)
{
	hm_cert c, d;
	uint8_t buf[HM_CERT_MAX_BYTES + 8];
	size_t len = 0;
	hm_identity other;
	(void)state;
	make_cert(&c, &village, &town, HM_ROLE_VILLAGE, "c1/t1/v1", 0);
	assert_int_equal(hm_cert_encode(buf, sizeof(buf), &len, &c), HM_OK);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, buf, n);
		assert_int_equal(hm_cert_decode(&d, cut, n), HM_ERR_TRUNCATED);
		free(cut);
	}
	buf[len] = 0;
	assert_int_equal(hm_cert_decode(&d, buf, len + 1), HM_ERR_CORRUPT);
	assert_int_equal(hm_cert_decode(&d, buf, HM_CERT_MAX_BYTES + 1), HM_ERR_TOO_BIG);
#define FLIP_EXPECT(off, val, want)                                                                \
	do {                                                                                       \
		uint8_t save_ = buf[off];                                                          \
		buf[off] = (val);                                                                  \
		assert_int_equal(hm_cert_decode(&d, buf, len), (want));                            \
		buf[off] = save_;                                                                  \
	} while (0)
	FLIP_EXPECT(0, 2, HM_ERR_VERSION);
	FLIP_EXPECT(0, 0, HM_ERR_VERSION);
	FLIP_EXPECT(9, buf[9] ^ 1, HM_ERR_CORRUPT); /* node id no longer matches the key */
	FLIP_EXPECT(25, 0, HM_ERR_CORRUPT);         /* role */
	FLIP_EXPECT(25, 4, HM_ERR_CORRUPT);
	FLIP_EXPECT(26, 0, HM_ERR_CORRUPT); /* empty region */
	FLIP_EXPECT(26, HM_REGION_MAX + 1, HM_ERR_TOO_BIG);
	FLIP_EXPECT(26, 7, HM_ERR_CORRUPT);      /* length no longer adds up */
	FLIP_EXPECT(27, 'C', HM_ERR_CORRUPT);    /* region character */
	FLIP_EXPECT(28, '\0', HM_ERR_CORRUPT);   /* NUL inside the region */
	FLIP_EXPECT(123 + 8, 2, HM_ERR_CORRUPT); /* unknown flag */
	/* not_before (at 91 + L) after not_after. */
	hm_put_u64le(buf + 91 + 8, NA + 1);
	assert_int_equal(hm_cert_decode(&d, buf, len), HM_ERR_CORRUPT);
	hm_put_u64le(buf + 91 + 8, NB);
	assert_int_equal(hm_cert_decode(&d, buf, len), HM_OK);
	/* The encoder refuses what the decoder would. */
	d.role = 9;
	assert_int_equal(hm_cert_encode(buf, sizeof(buf), &len, &d), HM_ERR_INVALID);
	test_identity(&other, 99);
	assert_int_equal(hm_cert_init(&d, &other, 1, HM_ROLE_VILLAGE, "C1", NB, NA, 0),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_cert_init(&d, &other, 1, HM_ROLE_VILLAGE, "c1", NA, NB, 0),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_cert_init(&d, &other, 1, HM_ROLE_VILLAGE, "c1", NB, NA, 0x80),
	                 HM_ERR_INVALID);
	assert_int_equal(hm_cert_init(&d, &other, 1, (hm_role)0, "c1", NB, NA, 0), HM_ERR_INVALID);
	hm_identity_release(&other);
#undef FLIP_EXPECT
}

static void cert_fault_strings(void **state)
{
	(void)state;
	for (int f = 0; f <= HM_CERT_FAULT_ROLE + 1; f++)
		assert_non_null(hm_cert_fault_str((hm_cert_fault)f));
}

int test_cert_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cert_round_trip),
	    cmocka_unit_test(cert_forgery_refused),
	    cmocka_unit_test(cert_signed_by_wrong_key_refused),
	    cmocka_unit_test(cert_foreign_root_refused),
	    cmocka_unit_test(cert_validity_window),
	    cmocka_unit_test(cert_region_outside_issuer_refused),
	    cmocka_unit_test(cert_roles_descend),
	    cmocka_unit_test(cert_chain_length),
	    cmocka_unit_test(cert_decode_is_strict),
	    cmocka_unit_test(cert_fault_strings),
	};
	return cmocka_run_group_tests_name("cert", tests, setup, teardown);
}
