/* scratch.c - see scratch.h. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "scratch.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void mkdir_p(const char *dir)
{
	char buf[1024];
	size_t n = strlen(dir);

	assert_true(n < sizeof(buf));
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		char c = buf[i];
		if (c != '/' && c != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		buf[i] = c;
	}
}

void test_scratch_path(char *out, size_t cap, const char *suite, const char *name)
{
	const char *dir = getenv("HAMLET_TEST_TMP");
	char fallback[64];

	if (!dir || !*dir) {
		snprintf(fallback, sizeof(fallback), "/tmp/hamlet-test-%s-%ld", suite,
		         (long)getpid());
		dir = fallback;
	}
	mkdir_p(dir);
	assert_true(snprintf(out, cap, "%s/%s", dir, name) < (int)cap);
	if (nftw(out, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		fail_msg("cannot clear %s: %s", out, strerror(errno));
}
