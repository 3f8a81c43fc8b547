/* crypto_fuzz_replay.c - runs a libFuzzer target over files without libFuzzer, so a corpus
 * can be replayed under ctest with any compiler: crypto_fuzz_*_replay <file-or-dir>...
 * Exits 0 when every input ran (a failing property aborts), 1 if an input cannot be read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_BYTES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	uint8_t *buf = malloc(REPLAY_MAX_BYTES);
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 1;

	if (!buf || !f) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto out;
	}
	n = fread(buf, 1, REPLAY_MAX_BYTES, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, n);
	rc = 0;
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

static int replay_path(const char *path, int *count)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: no such file or directory: %s\n", path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		++*count;
		return replay_file(path);
	}
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((e = readdir(dir)) != NULL) {
		char sub[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rc |= replay_path(sub, count);
	}
	closedir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, count = 0;

	for (int i = 1; i < argc; i++)
		rc |= replay_path(argv[i], &count);
	printf("replayed %d input(s)\n", count);
	return rc || count == 0;
}
