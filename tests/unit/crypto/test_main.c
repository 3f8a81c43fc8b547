/* test_main.c - runs every crypto/ test group. */
#include "test_util.h"

int main(void)
{
	int failed = 0;

	if (hm_crypto_init() != HM_OK)
		return 1;
	failed += test_region_group();
	failed += test_sign_group();
	failed += test_aead_group();
	failed += test_keyfile_group();
	failed += test_cert_group();
	failed += test_golden_group();
	return failed ? 1 : 0;
}
