/* golden.c - builds the golden key file and certificates from fixed seeds. */
#include "golden.h"

#include <string.h>

static void fill(uint8_t *p, size_t len, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(tag + i);
}

hm_err golden_identity(hm_identity *ident, uint8_t tag)
{
	uint8_t seed[HM_SEED_BYTES];

	fill(seed, sizeof(seed), tag);
	return hm_identity_init_seed(ident, seed);
}

void golden_storage_key(uint8_t key[HM_STORAGE_KEY_BYTES])
{
	fill(key, HM_STORAGE_KEY_BYTES, 0xa0);
}

hm_err golden_keyfile(uint8_t *out, size_t cap, size_t *len)
{
	const hm_pwhash_params params = {HM_PWHASH_OPSLIMIT_MIN, HM_PWHASH_MEMLIMIT_MIN};
	uint8_t salt[HM_KEYFILE_SALT_BYTES], nonce[HM_KEYFILE_NONCE_BYTES];
	uint8_t storage[HM_STORAGE_KEY_BYTES];
	hm_identity root;
	hm_err err;

	fill(salt, sizeof(salt), 0xc0);
	fill(nonce, sizeof(nonce), 0xd0);
	golden_storage_key(storage);
	err = golden_identity(&root, GOLDEN_ROOT_TAG);
	if (err == HM_OK)
		err = hm_keyfile_encode_fixed(out, cap, len, &root, storage, GOLDEN_PASS,
		                              strlen(GOLDEN_PASS), &params, salt, nonce);
	hm_identity_release(&root);
	hm_wipe(storage, sizeof(storage));
	return err;
}

hm_err golden_chain(hm_cert chain[3])
{
	hm_identity root, town, village;
	hm_err err;

	memset(&root, 0, sizeof(root));
	memset(&town, 0, sizeof(town));
	memset(&village, 0, sizeof(village));
	if ((err = golden_identity(&root, GOLDEN_ROOT_TAG)) != HM_OK ||
	    (err = golden_identity(&town, GOLDEN_TOWNSHIP_TAG)) != HM_OK ||
	    (err = golden_identity(&village, GOLDEN_VILLAGE_TAG)) != HM_OK)
		goto out;
	if ((err = hm_cert_init(&chain[0], &root, 1, HM_ROLE_COUNTY, "hexi", GOLDEN_NOT_BEFORE,
	                        GOLDEN_NOT_AFTER, HM_CERT_MAY_ENROLL)) != HM_OK ||
	    (err = hm_cert_sign(&chain[0], &root)) != HM_OK)
		goto out;
	if ((err = hm_cert_init(&chain[1], &town, 2, HM_ROLE_TOWNSHIP, "hexi/shandan",
	                        GOLDEN_NOT_BEFORE, GOLDEN_NOT_AFTER, HM_CERT_MAY_ENROLL)) !=
	        HM_OK ||
	    (err = hm_cert_sign(&chain[1], &root)) != HM_OK)
		goto out;
	if ((err = hm_cert_init(&chain[2], &village, 3, HM_ROLE_VILLAGE, "hexi/shandan/dongle",
	                        GOLDEN_NOT_BEFORE, GOLDEN_NOT_AFTER, 0)) != HM_OK ||
	    (err = hm_cert_sign(&chain[2], &town)) != HM_OK)
		goto out;
out:
	hm_identity_release(&root);
	hm_identity_release(&town);
	hm_identity_release(&village);
	return err;
}
