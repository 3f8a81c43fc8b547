/* scratch.h - where unit tests put their files: under $HAMLET_TEST_TMP (ctest sets it per test
 * folder), else /tmp/hamlet-test-SUITE-PID. */
#ifndef HAMLET_TESTS_SCRATCH_H
#define HAMLET_TESTS_SCRATCH_H

#include <stddef.h>

/* out = that directory (created if missing) / name, with nothing left at out from an earlier
 * run: a file or a whole tree there is removed. Fails the test when it cannot. */
void test_scratch_path(char *out, size_t cap, const char *suite, const char *name);

#endif
