/* sync_fuzz_bundle.c - libFuzzer target for bundle import. Each input is written to a file and
 * imported into one node kept for the whole run. Properties: no crash or sanitizer report; an
 * import that fails changes nothing (same digest and version vector before and after); the node
 * stays consistent (hm_node_check) after every input. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hm_node *node;
static char bundle_path[256];

static void setup(void)
{
	char dir[] = "/tmp/hamlet-fuzz-XXXXXX";
	char nodedir[300];

	if (hm_crypto_init() || !mkdtemp(dir))
		abort();
	snprintf(nodedir, sizeof(nodedir), "%s/node", dir);
	snprintf(bundle_path, sizeof(bundle_path), "%s/input.hmb", dir);
	if (hm_node_create(nodedir, HM_ROLE_COUNTY, "fuzz", "fuzz", NULL, NULL) ||
	    hm_node_open(nodedir, NULL, &node))
		abort();
}

static void state(hm_hash *digest, char **vv)
{
	hm_vv v;
	if (hm_node_digest(node, NULL, digest) || hm_node_version_vector(node, &v) ||
	    hm_vv_format(&v, vv))
		abort();
	hm_vv_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;
	hm_hash before, after;
	char *vv_before, *vv_after;
	hm_bundle_stats st;

	if (!node)
		setup();
	if (!(f = fopen(bundle_path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	state(&before, &vv_before);
	if (hm_bundle_import(node, bundle_path, NULL, NULL, &st) != HM_OK) {
		state(&after, &vv_after);
		if (!hm_hash_equal(&before, &after) || strcmp(vv_before, vv_after) != 0)
			abort(); /* a refused bundle changed the node */
		free(vv_after);
	}
	if (hm_node_check(node))
		abort();
	free(vv_before);
	unlink(bundle_path);
	return 0;
}
