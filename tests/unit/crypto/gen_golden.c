/* gen_golden.c - rewrites the golden files and fuzz seeds: crypto_gen_golden <tests/data/crypto>.
 * Run it only when a format changes on purpose, and commit the new files with that change. */
#include "golden.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "crypto_gen_golden: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const cert_names[3] = {
	    "golden_cert_root.bin", "golden_cert_township.bin", "golden_cert_village.bin"};
	uint8_t buf[HM_KEYFILE_MAX_BYTES];
	hm_cert chain[3];
	char sub[1024];
	size_t len = 0;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: crypto_gen_golden <tests/data/crypto>\n");
		return 2;
	}
	if (hm_crypto_init() != HM_OK || golden_keyfile(buf, sizeof(buf), &len) != HM_OK ||
	    golden_chain(chain) != HM_OK) {
		fprintf(stderr, "crypto_gen_golden: building fixtures failed\n");
		return 1;
	}
	bad |= write_file(argv[1], "golden_keyfile.bin", buf, len);
	snprintf(sub, sizeof(sub), "%s/corpus_keyfile", argv[1]);
	mkdir(sub, 0755);
	bad |= write_file(sub, "golden_keyfile.bin", buf, len);
	bad |= write_file(sub, "truncated_header.bin", buf, 40);
	snprintf(sub, sizeof(sub), "%s/corpus_cert", argv[1]);
	mkdir(sub, 0755);
	for (int i = 0; i < 3; i++) {
		if (hm_cert_encode(buf, sizeof(buf), &len, &chain[i]) != HM_OK) {
			fprintf(stderr, "crypto_gen_golden: encoding %s failed\n", cert_names[i]);
			return 1;
		}
		bad |= write_file(argv[1], cert_names[i], buf, len);
		bad |= write_file(sub, cert_names[i], buf, len);
	}
	return bad;
}
