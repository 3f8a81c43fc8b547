/* golden.h - the fixed fixtures behind tests/data/crypto/ (seeds, salt, nonce, times). */
#ifndef HM_TEST_CRYPTO_GOLDEN_H
#define HM_TEST_CRYPTO_GOLDEN_H

#include "crypto_int.h"

#define GOLDEN_PASS       "hamlet golden passphrase"
#define GOLDEN_NOT_BEFORE 1767225600u /* 2026-01-01T00:00:00Z */
#define GOLDEN_NOT_AFTER  2082758400u /* 2036-01-01T00:00:00Z */
#define GOLDEN_NOW        1800000000u /* 2027-01-15, inside the window */

/* Seed tags of the fixture identities (seed bytes are tag, tag+1, ...). */
enum { GOLDEN_ROOT_TAG = 0x10, GOLDEN_TOWNSHIP_TAG = 0x40, GOLDEN_VILLAGE_TAG = 0x70 };

/* The identity of a fixture tag. Returns HM_OK or the failure. */
hm_err golden_identity(hm_identity *ident, uint8_t tag);

/* The golden key file (root identity + storage key, cheapest Argon2id, fixed salt/nonce). */
hm_err golden_keyfile(uint8_t *out, size_t cap, size_t *len);

/* The fixed storage key in the golden key file. */
void golden_storage_key(uint8_t key[HM_STORAGE_KEY_BYTES]);

/* The golden chain: [0] root county "hexi" self-signed, [1] township "hexi/shandan" with
 * HM_CERT_MAY_ENROLL, [2] village "hexi/shandan/dongle" issued by the township. */
hm_err golden_chain(hm_cert chain[3]);

#endif
