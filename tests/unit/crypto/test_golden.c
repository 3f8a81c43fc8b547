/* test_golden.c - the committed key file and certificates still decode to the same fields,
 * and rebuilding them from their seeds gives the same bytes. A failure here means a format
 * changed: bump its version instead of regenerating the files. */
#include "test_util.h"
#include "golden.h"

#include <stdlib.h>
#include <string.h>

/* Node ids of the fixture identities, as printed by hm_hex_encode. */
#define ROOT_NODE_ID    "2f57063bddc4cd47b05f15af1cbb924e"
#define VILLAGE_NODE_ID "e4a886a9b4f1f2fd207fbc1ad0b921cd"

static void assert_node_id_hex(const hm_node_id *id, const char *hex)
{
	char got[2 * HM_NODE_ID_BYTES + 1];

	hm_hex_encode(got, id->b, sizeof(id->b));
	assert_string_equal(got, hex);
}

static void golden_keyfile_decodes(void **state)
{
	char path[1024];
	uint8_t *file, rebuilt[HM_KEYFILE_MAX_BYTES], storage[HM_STORAGE_KEY_BYTES];
	size_t len = 0, rebuilt_len = 0;
	hm_keyfile_secrets got;
	hm_keyfile_info info;
	hm_identity root;
	(void)state;
	test_data_path(path, sizeof(path), "golden_keyfile.bin");
	file = test_read_file(path, &len);
	assert_int_equal(len, 180);
	assert_memory_equal(file, "HMKEY\x00\x01\x01\x01\x01\x01\x00", 12);
	assert_int_equal(hm_keyfile_inspect(&info, file, len), HM_OK);
	assert_int_equal(info.params.opslimit, HM_PWHASH_OPSLIMIT_MIN);
	assert_int_equal(info.params.memlimit, HM_PWHASH_MEMLIMIT_MIN);
	assert_int_equal(info.has_storage_key, 1);
	assert_int_equal(hm_keyfile_decode(&got, file, len, GOLDEN_PASS, strlen(GOLDEN_PASS)),
	                 HM_OK);
	assert_int_equal(golden_identity(&root, GOLDEN_ROOT_TAG), HM_OK);
	assert_memory_equal(&got.ident, &root, sizeof(root));
	assert_node_id_hex(&got.ident.id, ROOT_NODE_ID);
	golden_storage_key(storage);
	assert_int_equal(got.has_storage_key, 1);
	assert_memory_equal(got.storage_key, storage, sizeof(storage));
	assert_int_equal(golden_keyfile(rebuilt, sizeof(rebuilt), &rebuilt_len), HM_OK);
	assert_int_equal(rebuilt_len, len);
	assert_memory_equal(rebuilt, file, len);
	hm_keyfile_secrets_release(&got);
	hm_identity_release(&root);
	free(file);
}

static void golden_certs_decode_and_reencode(void **state)
{
	static const char *const names[3] = {"golden_cert_root.bin", "golden_cert_township.bin",
	                                     "golden_cert_village.bin"};
	static const char *const regions[3] = {"hexi", "hexi/shandan", "hexi/shandan/dongle"};
	static const uint8_t flags[3] = {HM_CERT_MAY_ENROLL, HM_CERT_MAY_ENROLL, 0};
	hm_cert decoded[3], rebuilt[3];
	hm_cert_fault fault;
	size_t idx;
	(void)state;
	assert_int_equal(golden_chain(rebuilt), HM_OK);
	for (int i = 0; i < 3; i++) {
		char path[1024];
		uint8_t again[HM_CERT_MAX_BYTES], fresh[HM_CERT_MAX_BYTES];
		size_t len = 0, again_len = 0, fresh_len = 0;
		uint8_t *file;

		test_data_path(path, sizeof(path), names[i]);
		file = test_read_file(path, &len);
		assert_int_equal(hm_cert_decode(&decoded[i], file, len), HM_OK);
		assert_int_equal(decoded[i].version, 1);
		assert_int_equal(decoded[i].serial, (uint64_t)(i + 1));
		assert_int_equal(decoded[i].role, i + 1);
		assert_string_equal(decoded[i].region, regions[i]);
		assert_int_equal(decoded[i].not_before, GOLDEN_NOT_BEFORE);
		assert_int_equal(decoded[i].not_after, GOLDEN_NOT_AFTER);
		assert_int_equal(decoded[i].flags, flags[i]);
		assert_int_equal(hm_cert_encode(again, sizeof(again), &again_len, &decoded[i]),
		                 HM_OK);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, file, len);
		/* Ed25519 is deterministic: the same seeds sign to the same bytes. */
		assert_int_equal(hm_cert_encode(fresh, sizeof(fresh), &fresh_len, &rebuilt[i]),
		                 HM_OK);
		assert_int_equal(fresh_len, len);
		assert_memory_equal(fresh, file, len);
		free(file);
	}
	assert_node_id_hex(&decoded[0].node, ROOT_NODE_ID);
	assert_node_id_hex(&decoded[0].issuer, ROOT_NODE_ID);
	assert_node_id_hex(&decoded[2].node, VILLAGE_NODE_ID);
	assert_true(hm_node_id_equal(&decoded[2].issuer, &decoded[1].node));
	assert_int_equal(
	    hm_cert_chain_verify(&decoded[0].sign_pub, decoded, 3, GOLDEN_NOW, &fault, &idx),
	    HM_OK);
	assert_int_equal(hm_cert_chain_verify(&decoded[0].sign_pub, decoded, 3,
	                                      GOLDEN_NOT_AFTER + 1, &fault, &idx),
	                 HM_ERR_CRYPTO);
	assert_int_equal(fault, HM_CERT_FAULT_EXPIRED);
}

int test_golden_group(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(golden_keyfile_decodes),
	    cmocka_unit_test(golden_certs_decode_and_reencode),
	};
	return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
