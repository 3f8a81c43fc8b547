/* crypto_fuzz_keyfile.c - libFuzzer target for hm_keyfile_inspect and hm_keyfile_decode.
 * Properties: no crash or sanitizer report on any input; decode fails exactly when inspect
 * does, with the same error; a file that unlocks re-encodes (same salt, nonce and cost) to the
 * very same bytes. Inputs asking for more than a cheap Argon2id cost are only inspected, so the
 * fuzzer spends its time on parsing, not on hashing. The corpus uses GOLDEN_PASS below. */
#include "crypto_int.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_PASS         "hamlet golden passphrase"
#define FUZZ_MEMLIMIT_MAX (64u << 10)
#define FUZZ_OPSLIMIT_MAX 1
#define FUZZ_SALT_OFFSET  28
#define FUZZ_NONCE_OFFSET 44

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reencode(const hm_keyfile_secrets *s, const hm_keyfile_info *info,
                           const uint8_t *data, size_t size)
{
	uint8_t again[HM_KEYFILE_MAX_BYTES];
	size_t len = 0;

	if (hm_keyfile_encode_fixed(again, sizeof(again), &len, &s->ident,
	                            s->has_storage_key ? s->storage_key : NULL, FUZZ_PASS,
	                            strlen(FUZZ_PASS), &info->params, data + FUZZ_SALT_OFFSET,
	                            data + FUZZ_NONCE_OFFSET) != HM_OK ||
	    len != size || memcmp(again, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hm_keyfile_info info;
	hm_keyfile_secrets s;
	hm_err inspect_err, decode_err;

	if (hm_crypto_init() != HM_OK)
		abort();
	inspect_err = hm_keyfile_inspect(&info, data, size);
	if (inspect_err == HM_OK &&
	    (info.params.opslimit > FUZZ_OPSLIMIT_MAX || info.params.memlimit > FUZZ_MEMLIMIT_MAX))
		return 0;
	decode_err = hm_keyfile_decode(&s, data, size, FUZZ_PASS, strlen(FUZZ_PASS));
	if (inspect_err != HM_OK && decode_err != inspect_err)
		abort();
	if (decode_err == HM_OK)
		check_reencode(&s, &info, data, size);
	hm_keyfile_secrets_release(&s);
	return 0;
}
