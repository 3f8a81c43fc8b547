/*
 * bench_node.c - how fast a node writes, applies, bundles and digests, and how that grows.
 *
 * Sizes are counted in field operations: a person record of 8 fields (name, phone, id_number,
 * sex, birth_year, address, travel_origin, status) is 8 field operations; the node fills the
 * ninth, its region field, itself. Every measurement runs in a fresh process (this program,
 * re-executed with --child), so each peak-memory figure (ru_maxrss) is its own and not the
 * high-water mark of an earlier step. The parent only forks, waits and prints.
 *
 *   bench_node [--quick] [--sizes 10000,100000,1000000] [--reps N] [--dir DIR] [--keep]
 *
 * --quick runs 10k field operations once (the ctest smoke run). Timings are medians over the
 * repetitions; memory is the largest over them. Every run checks its own result (counts and
 * digests) and exits non-zero when a node refused or lost anything, never because of time.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "sync.h"

#include "bench_common.h"

#define RECORDS_PER_BATCH 1000
#define REGION            "county1/township1/village1"
#define MAX_SIZES         8
#define MAX_REPS          15

/* ---- what a child reports to the parent ---- */

typedef struct result {
	int ok;
	double secs;       /* the timed part */
	double secs2;      /* a second timed part (import after export; warm digest) */
	uint64_t fieldops; /* field operations in the timed part */
	uint64_t commits;  /* durable transactions in the timed part */
	uint64_t changesets;
	uint64_t bytes;    /* store or bundle size */
	long maxrss_kb;    /* getrusage ru_maxrss of the child */
	long anon_peak_kb; /* largest RssAnon sampled between batches */
	char note[96];
} result;

typedef enum bench_kind {
	B_WRITE_SINGLE,  /* one change set (one durable commit) per record */
	B_WRITE_BATCHED, /* RECORDS_PER_BATCH records per change set */
	B_APPLY_BATCHED, /* apply the batched writer's change sets to a fresh node */
	B_APPLY_SINGLE,  /* apply the one-record change sets to a fresh node */
	B_BUNDLE,        /* export the batched writer's oplog, import it into a fresh node */
	B_DIGEST,        /* digest of the imported node */
	B__COUNT
} bench_kind;

static const char *const bench_names[B__COUNT] = {
    "write 1 rec/changeset",  "write 1000 rec/changeset", "apply 1000-rec changesets",
    "apply 1-rec changesets", "bundle export+import",     "digest",
};

/* Short names for --only. */
static const char *const bench_short[B__COUNT] = {"write1", "writeN", "applyN",
                                                  "apply1", "bundle", "digest"};

typedef enum id_kind { ID_RANDOM, ID_ORDERED } id_kind;
static const char *const id_names[] = {"random", "ordered"};

/* ---- small helpers ---- */

/* RssAnon of this process in KiB: private memory, without LMDB's file-backed map pages. */
static long rss_anon_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void sample_anon(result *r)
{
	long kb = rss_anon_kb();
	if (kb > r->anon_peak_kb)
		r->anon_peak_kb = kb;
}

static int fail(result *r, const char *what, hm_err err, hm_node *n)
{
	snprintf(r->note, sizeof(r->note), "%s: %s%s%s", what, hm_strerror(err), n ? ": " : "",
	         n ? hm_node_errmsg(n) : "");
	r->ok = 0;
	return 1;
}

static uint64_t dir_bytes(const char *dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512u : 0;
}

/* ---- records ---- */

/* A record id: 20 characters either way, so only their order differs. Random ids scatter
 * inserts over the whole B-tree; time-ordered ids (ULID-like: milliseconds then a counter)
 * always append at its right edge. */
static void record_id(id_kind kind, uint64_t i, uint64_t *rng, char out[32])
{
	if (kind == ID_RANDOM) {
		uint64_t a = splitmix(rng), b = splitmix(rng);
		snprintf(out, 32, "%012" PRIx64 "%08" PRIx32, (uint64_t)(a & 0xffffffffffffull),
		         (uint32_t)b);
	} else {
		uint64_t ms = 1764400000000ull + i / 8; /* about 8 records per millisecond */
		snprintf(out, 32, "%012" PRIx64 "%08" PRIx32, ms, (uint32_t)i);
	}
}

static hm_err node_fresh(const char *dir, hm_node **out)
{
	hm_err err;

	remove_tree(dir);
	if ((err = hm_node_create(dir, HM_ROLE_VILLAGE, REGION, "bench", NULL, NULL)))
		return err;
	return hm_node_open(dir, NULL, out);
}

/* Write nrec records, per_cs of them in each change set (each one a durable commit). */
static int run_write(const char *dir, id_kind ids, uint64_t nrec, uint64_t per_cs, result *r)
{
	hm_node *n = NULL;
	uint64_t rng = 42, idrng = 7;
	double t0;
	hm_err err;

	if ((err = node_fresh(dir, &n)))
		return fail(r, "creating the writer", err, n);
	t0 = now_secs();
	for (uint64_t i = 0; i < nrec;) {
		hm_write *w;
		if ((err = hm_write_begin(n, &w)))
			goto out;
		for (uint64_t k = 0; k < per_cs && i < nrec; k++, i++) {
			char id[32];
			record_id(ids, i, &idrng, id);
			if ((err = write_person(w, id, &rng))) {
				hm_write_abort(w);
				goto out;
			}
		}
		if ((err = hm_write_commit(w, NULL)))
			goto out;
		r->commits++;
		if (r->commits % 64 == 0)
			sample_anon(r);
	}
	r->secs = now_secs() - t0;
	r->fieldops = nrec * FIELDS_PER_RECORD;
	r->changesets = r->commits;
	r->bytes = dir_bytes(dir);
out:
	if (err)
		fail(r, "writing", err, n);
	hm_node_close(n);
	return err != HM_OK;
}

/* ---- apply: envelopes collected from a writer, applied in bundle-sized batches ---- */

static hm_err source_load(const char *src, envs *e, hm_hash *digest, hm_node **keep)
{
	hm_node *n = NULL;
	hm_err err;

	if ((err = hm_node_open(src, NULL, &n)))
		return err;
	if (!(err = hm_node_changesets(n, NULL, collect_one, e)))
		err = hm_node_digest(n, NULL, digest);
	*keep = n;
	return err;
}

static int check_digest(hm_node *n, const hm_hash *want, result *r)
{
	hm_hash got;
	hm_err err;

	if ((err = hm_node_digest(n, NULL, &got)))
		return fail(r, "digest", err, n);
	if (!hm_hash_equal(&got, want)) {
		snprintf(r->note, sizeof(r->note),
		         "the replica's digest differs from the source's");
		r->ok = 0;
		return 1;
	}
	return 0;
}

static int run_apply(const char *src, const char *dir, result *r)
{
	envs e = {0};
	hm_node *from = NULL, *n = NULL;
	hm_apply_stats st = {0};
	hm_bytes *views = NULL;
	hm_hash want;
	double t0;
	hm_err err;
	int rc = 1;

	if ((err = source_load(src, &e, &want, &from))) {
		fail(r, "reading the writer's change sets", err, from);
		goto out;
	}
	hm_node_close(from);
	if (!(views = malloc((e.n ? e.n : 1) * sizeof(*views))) || (err = node_fresh(dir, &n))) {
		fail(r, "creating the replica", views ? err : HM_ERR_NOMEM, n);
		goto out;
	}
	for (size_t i = 0; i < e.n; i++)
		views[i].p = e.data + e.off[i], views[i].n = e.len[i];
	sample_anon(r);
	t0 = now_secs();
	for (size_t i = 0; i < e.n;) {
		size_t to = batch_end(&e, i);
		if ((err = hm_node_apply(n, views + i, to - i, &st, NULL))) {
			fail(r, "applying", err, n);
			goto out;
		}
		r->commits++;
		i = to;
		sample_anon(r);
	}
	r->secs = now_secs() - t0;
	r->changesets = st.new_;
	if (st.new_ != e.n || st.refused || st.forks || st.pending || st.quarantined) {
		snprintf(r->note, sizeof(r->note), "applied %zu of %zu change sets", st.new_, e.n);
		goto out;
	}
	r->bytes = dir_bytes(dir);
	rc = check_digest(n, &want, r);
out:
	hm_node_close(n);
	free(views);
	envs_release(&e);
	return rc;
}

/* ---- bundles ---- */

static int run_bundle(const char *src, const char *dir, const char *file, result *r)
{
	hm_node *from = NULL, *n = NULL;
	hm_bundle_stats xs, is;
	hm_hash want;
	double t0;
	hm_err err;
	int rc = 1;

	if ((err = hm_node_open(src, NULL, &from)) || (err = hm_node_digest(from, NULL, &want))) {
		fail(r, "opening the writer", err, from);
		goto out;
	}
	t0 = now_secs();
	if ((err = hm_bundle_export(from, NULL, file, true, NULL, &xs))) {
		snprintf(r->note, sizeof(r->note), "export: %s", hm_bundle_errmsg());
		goto out;
	}
	r->secs = now_secs() - t0;
	hm_node_close(from);
	from = NULL;
	if ((err = node_fresh(dir, &n))) {
		fail(r, "creating the replica", err, n);
		goto out;
	}
	sample_anon(r);
	t0 = now_secs();
	if ((err = hm_bundle_import(n, file, NULL, NULL, &is))) {
		snprintf(r->note, sizeof(r->note), "import: %s", hm_bundle_errmsg());
		goto out;
	}
	r->secs2 = now_secs() - t0;
	sample_anon(r);
	r->changesets = is.changesets;
	r->bytes = xs.bytes;
	if (is.apply.new_ != xs.changesets) {
		snprintf(r->note, sizeof(r->note), "imported %zu of %zu change sets", is.apply.new_,
		         xs.changesets);
		goto out;
	}
	rc = check_digest(n, &want, r);
out:
	hm_node_close(from);
	hm_node_close(n);
	return rc;
}

/* The first digest after opening (file pages in the page cache, not yet in this process), then
 * the median-free minimum of three warm ones in secs2. */
static int run_digest(const char *dir, result *r)
{
	hm_node *n = NULL;
	hm_hash h;
	double t0;
	hm_err err;

	if ((err = hm_node_open(dir, NULL, &n)))
		return fail(r, "opening", err, n);
	t0 = now_secs();
	err = hm_node_digest(n, NULL, &h);
	r->secs = now_secs() - t0;
	r->secs2 = 1e9;
	for (int i = 0; i < 3 && !err; i++) {
		double t = now_secs(), d;
		err = hm_node_digest(n, NULL, &h);
		d = now_secs() - t;
		if (d < r->secs2)
			r->secs2 = d;
	}
	if (err)
		fail(r, "digest", err, n);
	r->bytes = dir_bytes(dir);
	hm_node_close(n);
	return err != HM_OK;
}

/* ---- child: one measurement in its own process ---- */

typedef struct paths {
	char single[4096], batched[4096], replica[4096], bundle[4096];
} paths;

static void paths_init(paths *p, const char *dir, id_kind ids, uint64_t size)
{
	snprintf(p->single, sizeof(p->single), "%s/w1-%s-%" PRIu64, dir, id_names[ids], size);
	snprintf(p->batched, sizeof(p->batched), "%s/wb-%s-%" PRIu64, dir, id_names[ids], size);
	snprintf(p->replica, sizeof(p->replica), "%s/replica", dir);
	snprintf(p->bundle, sizeof(p->bundle), "%s/bundle-%s-%" PRIu64, dir, id_names[ids], size);
}

static int child_main(bench_kind b, id_kind ids, uint64_t size, const char *dir, result *r)
{
	uint64_t nrec = size / FIELDS_PER_RECORD;
	paths p;
	hm_err err;

	paths_init(&p, dir, ids, size);
	r->ok = 1;
	if ((err = hm_crypto_init()))
		return fail(r, "crypto init", err, NULL);
	switch (b) {
	case B_WRITE_SINGLE:
		return run_write(p.single, ids, nrec, 1, r);
	case B_WRITE_BATCHED:
		return run_write(p.batched, ids, nrec, RECORDS_PER_BATCH, r);
	case B_APPLY_BATCHED:
		return run_apply(p.batched, p.replica, r);
	case B_APPLY_SINGLE:
		return run_apply(p.single, p.replica, r);
	case B_BUNDLE:
		return run_bundle(p.batched, p.replica, p.bundle, r);
	case B_DIGEST:
		return run_digest(p.batched, r);
	default:
		return 1;
	}
}

static int child_entry(int argc, char **argv)
{
	/* --child BENCH IDS SIZE DIR FD */
	result r = {0};
	struct rusage ru;
	int b, ids, fd, rc;
	uint64_t size;

	if (argc != 7)
		return 2;
	b = atoi(argv[2]), ids = atoi(argv[3]), size = strtoull(argv[4], NULL, 10);
	fd = atoi(argv[6]);
	if (b < 0 || b >= B__COUNT || ids < 0 || ids > 1)
		return 2;
	rc = child_main((bench_kind)b, (id_kind)ids, size, argv[5], &r);
	if (rc)
		r.ok = 0;
	r.fieldops = r.fieldops ? r.fieldops : size / FIELDS_PER_RECORD * FIELDS_PER_RECORD;
	getrusage(RUSAGE_SELF, &ru);
	r.maxrss_kb = ru.ru_maxrss;
	sample_anon(&r);
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		return 3;
	return rc;
}

/* ---- parent: run children, take medians, print tables ---- */

static int spawn(bench_kind b, id_kind ids, uint64_t size, const char *dir, result *out)
{
	int pfd[2];
	pid_t pid;
	int status;
	ssize_t got;

	if (pipe(pfd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		char sb[16], si[16], ssz[32], sfd[16];
		close(pfd[0]);
		snprintf(sb, sizeof(sb), "%d", (int)b), snprintf(si, sizeof(si), "%d", (int)ids);
		snprintf(ssz, sizeof(ssz), "%" PRIu64, size),
		    snprintf(sfd, sizeof(sfd), "%d", pfd[1]);
		execl("/proc/self/exe", "bench_node", "--child", sb, si, ssz, dir, sfd,
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	got = read(pfd[0], out, sizeof(*out));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (got != (ssize_t)sizeof(*out))
		snprintf(out->note, sizeof(out->note), "child died (status %d)", status);
	return got == (ssize_t)sizeof(*out) && out->ok ? 0 : -1;
}

/* Run one measurement reps times; the median time, the largest memory. */
static int measure(bench_kind b, id_kind ids, uint64_t size, const char *dir, int reps, result *out)
{
	double s1[MAX_REPS], s2[MAX_REPS];
	result r;

	for (int i = 0; i < reps; i++) {
		if (spawn(b, ids, size, dir, &r) != 0) {
			fprintf(stderr, "bench_node: %s (%s ids, %" PRIu64 "): %s\n",
			        bench_names[b], id_names[ids], size, r.note[0] ? r.note : "failed");
			return -1;
		}
		s1[i] = r.secs, s2[i] = r.secs2;
		if (i == 0 || r.maxrss_kb > out->maxrss_kb)
			out->maxrss_kb = r.maxrss_kb;
		if (i == 0 || r.anon_peak_kb > out->anon_peak_kb)
			out->anon_peak_kb = r.anon_peak_kb;
		if (i == 0) {
			long m = out->maxrss_kb, a = out->anon_peak_kb;
			*out = r;
			out->maxrss_kb = m, out->anon_peak_kb = a;
		}
	}
	out->secs = median(s1, reps), out->secs2 = median(s2, reps);
	return 0;
}

typedef struct row {
	bool have;
	result r;
} row;

static void print_row(bench_kind b, id_kind ids, uint64_t size, const result *r)
{
	double secs = b == B_BUNDLE ? r->secs + r->secs2 : r->secs;
	double ops = (double)r->fieldops;

	if (b == B_DIGEST) {
		printf("%-26s %-7s %8" PRIu64
		       " %9.4f %12s %8.3f %9s %9.1f %8.1f %8.1f  warm %.4f s\n",
		       bench_names[b], id_names[ids], size, secs, "-", secs * 1e6 / ops * 8, "-",
		       r->bytes / 1048576.0, r->maxrss_kb / 1024.0, r->anon_peak_kb / 1024.0,
		       r->secs2);
		return;
	}
	char commits[24] = "-"; /* hm_bundle_import does not report its transactions */

	if (b != B_BUNDLE)
		snprintf(commits, sizeof(commits), "%" PRIu64, r->commits);
	printf("%-26s %-7s %8" PRIu64 " %9.3f %12.0f %8.3f %9s %9.1f %8.1f %8.1f", bench_names[b],
	       id_names[ids], size, secs, ops / secs, secs * 1e6 / ops, commits,
	       r->bytes / 1048576.0, r->maxrss_kb / 1024.0, r->anon_peak_kb / 1024.0);
	if (b == B_WRITE_SINGLE)
		printf("  %.0f commits/s", (double)r->commits / secs);
	if (b == B_BUNDLE)
		printf("  export %.3f s, import %.3f s (%.0f ops/s)", r->secs, r->secs2,
		       ops / r->secs2);
	printf("\n");
	fflush(stdout);
}

static double per_op_us(bench_kind b, const result *r)
{
	double secs = b == B_BUNDLE ? r->secs + r->secs2 : r->secs;
	/* The digest is per record (8 field ops), so its column reads us per record. */
	return secs * 1e6 / (double)r->fieldops * (b == B_DIGEST ? 8 : 1);
}

static void print_growth(row tab[B__COUNT][2][MAX_SIZES], const uint64_t *sizes, int nsizes)
{
	printf("\nGrowth: microseconds per field operation (digest: per record) at each size\n");
	printf("%-26s %-7s", "benchmark", "ids");
	for (int s = 0; s < nsizes; s++)
		printf(" %10" PRIu64, sizes[s]);
	printf(" %10s\n", "last/first");
	for (int b = 0; b < B__COUNT; b++)
		for (int i = 0; i < 2; i++) {
			double first = 0, last = 0;
			bool any = false;
			for (int s = 0; s < nsizes; s++)
				any |= tab[b][i][s].have;
			if (!any)
				continue;
			printf("%-26s %-7s", bench_names[b], id_names[i]);
			for (int s = 0; s < nsizes; s++) {
				if (!tab[b][i][s].have) {
					printf(" %10s", "-");
					continue;
				}
				last = per_op_us((bench_kind)b, &tab[b][i][s].r);
				if (first == 0)
					first = last;
				printf(" %10.3f", last);
			}
			printf(" %9.2fx\n", first > 0 ? last / first : 0);
		}
}

static int parse_sizes(const char *s, uint64_t *sizes, int *n)
{
	char *end;

	*n = 0;
	while (*s && *n < MAX_SIZES) {
		uint64_t v = strtoull(s, &end, 10);
		if (end == s || v < FIELDS_PER_RECORD * 2)
			return -1;
		sizes[(*n)++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *n ? 0 : -1;
}

/* --only write1,bundle,...: the named benchmarks and the writers they read from. */
static int parse_only(char *list, bool *on)
{
	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		int b = 0;
		while (b < B__COUNT && strcmp(t, bench_short[b]) != 0)
			b++;
		if (b == B__COUNT)
			return -1;
		on[b] = true;
	}
	on[B_WRITE_BATCHED] |= on[B_APPLY_BATCHED] || on[B_BUNDLE] || on[B_DIGEST];
	on[B_WRITE_SINGLE] |= on[B_APPLY_SINGLE];
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_node [--quick] [--sizes N,N,...] [--reps N] [--dir DIR] "
	                "[--keep]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static row tab[B__COUNT][2][MAX_SIZES];
	uint64_t sizes[MAX_SIZES] = {10000, 100000, 1000000};
	int nsizes = 3, reps = 3, failed = 0;
	bool keep = false, own_dir = false, on[B__COUNT] = {0}, only = false;
	int id_first = 0, id_last = 1;
	char dir[4096] = "";

	/* As `hamlet` does: libsodium picks its fastest implementations (BLAKE2b) for this CPU. */
	if (hm_crypto_init()) {
		fprintf(stderr, "bench_node: libsodium does not initialise\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_entry(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			sizes[0] = 10000, nsizes = 1, reps = 1;
		} else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
			if (parse_sizes(argv[++i], sizes, &nsizes))
				return usage();
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > MAX_REPS)
				return usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			if (parse_only(argv[++i], on))
				return usage();
			only = true;
		} else if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "random") == 0)
				id_last = 0;
			else if (strcmp(argv[i], "ordered") == 0)
				id_first = 1;
			else
				return usage();
		} else {
			return usage();
		}
	}
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/hamlet-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("bench_node: mkdtemp");
			return 1;
		}
		own_dir = true;
	} else if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		perror("bench_node: mkdir");
		return 1;
	}
	printf("hamlet bench_node: %d field ops per record, %d records per batched change set, "
	       "median of %d, data in %s\n\n",
	       FIELDS_PER_RECORD, RECORDS_PER_BATCH, reps, dir);
	printf("%-26s %-7s %8s %9s %12s %8s %9s %9s %8s %8s\n", "benchmark", "ids", "fieldops",
	       "secs", "fieldops/s", "us/op", "commits", "MiB disk", "maxrss", "anon");
	for (int s = 0; s < nsizes; s++)
		for (int i = id_first; i <= id_last; i++)
			for (int b = 0; b < B__COUNT; b++) {
				row *rw = &tab[b][i][s];
				if (only && !on[b])
					continue;
				if (measure((bench_kind)b, (id_kind)i, sizes[s], dir, reps,
				            &rw->r)) {
					failed = 1;
					continue;
				}
				rw->have = true;
				print_row((bench_kind)b, (id_kind)i, sizes[s], &rw->r);
			}
	print_growth(tab, sizes, nsizes);
	if (!keep && own_dir)
		remove_tree(dir);
	else if (!keep)
		for (int s = 0; s < nsizes; s++)
			for (int i = 0; i < 2; i++) {
				paths p;
				paths_init(&p, dir, (id_kind)i, sizes[s]);
				remove_tree(p.single), remove_tree(p.batched),
				    remove_tree(p.replica);
				remove(p.bundle);
			}
	return failed;
}
