/* node_fuzz_enroll.c - libFuzzer target for the enrollment decoders: the request
 * (hm_enroll_request_inspect) and the answer (hm_enroll_accept on a fresh, unenrolled trust node
 * whose identity comes from the fixed seed 32 x 0xf1, village hexi/t1/v1, clock frozen at
 * 2026-05-28 plus an hour, so the answers in tests/data/corpus/enroll/ are genuinely accepted).
 * Properties: no crash, leak or sanitizer report; an inspected request has a valid role and
 * region and names the node of its key; a refused answer leaves the node unenrolled with no
 * change set, record or certificate root; an accepted one enrolls it under the answer's root,
 * after which the node is made afresh for the next input. */
#define _XOPEN_SOURCE 700
#include "node_int.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_T0_MS (1780000000000ull + 3600000ull)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[256];
static hm_node *fuzz_node;
static hm_identity fuzz_ident;
static uint8_t fuzz_storage_key[HM_STORAGE_KEY_BYTES];
static uint64_t fuzz_now = FUZZ_T0_MS;
static unsigned fuzz_generation;

static uint64_t fuzz_clock(void *ctx)
{
	return *(uint64_t *)ctx;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void fuzz_cleanup(void)
{
	hm_node_close(fuzz_node);
	fuzz_node = NULL;
	if (fuzz_dir[0])
		nftw(fuzz_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	hm_identity_release(&fuzz_ident);
}

/* A fresh, unenrolled node in a new subdirectory. */
static hm_node *fuzz_fresh(void)
{
	hm_node_opts opts = {0};
	char dir[300];

	if (!fuzz_dir[0]) {
		const char *tmp = getenv("TMPDIR");
		uint8_t seed[HM_SEED_BYTES];
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/hm-fuzz-enroll-XXXXXX",
		         tmp && *tmp ? tmp : "/tmp");
		if (hm_crypto_init() || !mkdtemp(fuzz_dir))
			abort();
		memset(seed, 0xf1, sizeof(seed));
		memset(fuzz_storage_key, 0x1f, sizeof(fuzz_storage_key));
		if (hm_identity_init_seed(&fuzz_ident, seed))
			abort();
		atexit(fuzz_cleanup);
	}
	hm_node_close(fuzz_node);
	fuzz_node = NULL;
	snprintf(dir, sizeof(dir), "%s/n%u", fuzz_dir, fuzz_generation++);
	opts.identity = &fuzz_ident;
	opts.storage_key = fuzz_storage_key;
	opts.clock = fuzz_clock;
	opts.clock_ctx = &fuzz_now;
	opts.map_initial = 1u << 20;
	if (hm_node_create(dir, HM_ROLE_VILLAGE, "hexi/t1/v1", "fuzz", &opts, NULL) ||
	    hm_node_open(dir, &opts, &fuzz_node))
		abort();
	return fuzz_node;
}

static void check_request(const uint8_t *data, size_t size)
{
	hm_enroll_info info;
	hm_node_id none = {{0}};

	memset(&info, 0xa5, sizeof(info));
	if (hm_enroll_request_inspect(data, size, &info) != HM_OK)
		return;
	if (info.role < HM_ROLE_COUNTY || info.role > HM_ROLE_VILLAGE ||
	    !hm_region_valid(info.region) || !info.name[0] || hm_node_id_equal(&info.node, &none))
		abort();
}

static void check_answer(const uint8_t *data, size_t size)
{
	hm_node *n = fuzz_node ? fuzz_node : fuzz_fresh();
	hm_enroll_info info;
	hm_node_info ni;
	hm_err err = hm_enroll_accept(n, data, size, NULL, &info);

	if (hm_node_info_get(n, &ni))
		abort();
	if (err != HM_OK) {
		if (ni.enrolled || ni.changesets || ni.records || !hm_node_errmsg(n)[0])
			abort();
		return;
	}
	if (!ni.enrolled || !hm_sign_pub_equal(&ni.root, &info.root) ||
	    !hm_node_id_equal(&info.node, &fuzz_ident.id) || hm_node_check(n))
		abort();
	fuzz_fresh(); /* the next input meets an unenrolled node again */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_answer(data, size);
	return 0;
}
