/* crypto_fuzz_cert.c - libFuzzer target for hm_cert_decode.
 * Properties: no crash or sanitizer report on any input; whatever decodes re-encodes to the
 * very same bytes; a chain the verifier accepts has a valid signature. */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[HM_CERT_MAX_BYTES];
	size_t len = 0;
	hm_cert cert;
	hm_cert_fault fault;
	size_t idx;
	hm_err self, chain;

	if (hm_crypto_init() != HM_OK)
		abort();
	if (hm_cert_decode(&cert, data, size) != HM_OK)
		return 0;
	if (hm_cert_encode(again, sizeof(again), &len, &cert) != HM_OK || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	/* Treat it as a root certificate: exercises the self-signature and policy checks. A
	 * chain the verifier accepts must have a signature that verifies on its own. */
	self = hm_cert_verify(&cert, &cert.sign_pub);
	chain = hm_cert_chain_verify(&cert.sign_pub, &cert, 1, cert.not_before, &fault, &idx);
	if (chain == HM_OK && (self != HM_OK || fault != HM_CERT_FAULT_NONE))
		abort();
	return 0;
}
