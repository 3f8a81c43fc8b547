/*
 * bench_reports.c - the six reports built from records kept in memory (hm_node_cache_records,
 * as the web interface keeps them), on an existing node: how long reading every record into
 * memory takes, how much memory it holds, and each report's build for each region asked, the
 * median of N, cold for the report (nothing of it kept) and warm for the records. What a report
 * page of the web interface costs the first time after a write, without HTTP and HTML. With
 * --keep, as the web interface builds them (a report keep, hm_report_keep), each build after a
 * write: a new follow-up on DATE in the first village of REGION's records (--write check, the
 * default) or a person's name (--write person). With --rows N, each list holds its first N rows
 * and counts the rest, as a report page builds it (hm_report_params.rows; 400 for a page of 200
 * rows); without, every row, as the CSV and the command line.
 *
 *   HAMLET_PASSPHRASE=... bench_reports DIR DATE [--reps N] [--only NAME] [--keep]
 *                         [--write check|person] [--rows N] REGION...
 *
 * DIR is a node folder with its node.key (bench/web.py's county: bench/ledger.sh's data). Figures
 * in docs/performance.md; nothing is asserted about time.
 */
#include "bench_common.h"
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_node(const char *dir, hm_node **out, hm_keyfile_secrets *keys)
{
	char path[4096];
	static uint8_t buf[HM_KEYFILE_MAX_BYTES];
	const char *pass = getenv("HAMLET_PASSPHRASE");
	hm_node_opts o = {0};
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/node.key", dir);
	if (!pass || !(f = fopen(path, "rb"))) {
		fprintf(stderr, "bench_reports: %s and HAMLET_PASSPHRASE are needed\n", path);
		return 1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (hm_keyfile_decode(keys, buf, len, pass, strlen(pass))) {
		fprintf(stderr, "bench_reports: the key file does not open with that passphrase\n");
		return 1;
	}
	o.identity = &keys->ident;
	o.storage_key = keys->has_storage_key ? keys->storage_key : NULL;
	if (hm_node_open(dir, &o, out)) {
		fprintf(stderr, "bench_reports: cannot open %s\n", dir);
		return 1;
	}
	return 0;
}

static int count_one(void *ctx, const hm_record *r)
{
	size_t *n = ctx;
	*n += r->nfields;
	return 0;
}

/* A list from memory with nothing done per record: the floor under a report's reading. */
static void time_lists(hm_node *n)
{
	static const char *const colls[] = {"person", "episode", "followup", "exposure"};
	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++) {
		size_t fields = 0;
		double t0 = now_secs();
		if (hm_node_list(n, colls[i], count_one, &fields) == HM_OK)
			printf("list %-10s from memory %9.1f ms (%zu fields)\n", colls[i],
			       (now_secs() - t0) * 1000, fields);
	}
}

static const char *write_kind; /* --keep: "check" or "person" */
static size_t rows_max;        /* --rows */

static void put(hm_node *n, hm_write *w, const char *coll, const char *id, const char *field,
                const char *text)
{
	const hm_collection_def *c = hm_schema_collection(coll);
	hm_field_def def;
	char name[HM_NAME_MAX + 1];
	const char *why;
	hm_value v;

	if (hm_node_field(n, c, field, &def, name) || hm_value_parse(&def, text, &v, &why) ||
	    hm_write_set(w, coll, id, field, &v))
		fprintf(stderr, "bench_reports: %s.%s=%s refused\n", coll, field, text);
}

/* One write by the station between two builds, as a clerk's. */
static int touch(hm_ledger *l, const char *date, int i)
{
	char id[64], t[32];
	hm_write *w;

	if (hm_write_begin(l->node, &w))
		return 1;
	snprintf(id, sizeof(id), "fu-bench-%d-%d", (int)getpid(), i);
	snprintf(t, sizeof(t), "%sT08:00", date);
	if (!strcmp(write_kind, "person")) {
		put(l->node, w, "person", "p-bench-touch", "name", id);
	} else {
		put(l->node, w, "followup", id, "person", "p-bench-touch");
		put(l->node, w, "followup", id, "village", "lin/t1/v1");
		put(l->node, w, "followup", id, "time", t);
		put(l->node, w, "followup", id, "temperature", "36.6");
	}
	return hm_write_commit(w, NULL) ? 1 : 0;
}

static int time_report(hm_ledger *l, const char *name, const char *region, const char *date,
                       int reps)
{
	double *ms = calloc((size_t)reps, sizeof(*ms));
	hm_report_params p = {.name = name, .region = region, .date = date, .rows = rows_max};
	size_t rows = 0, held = 0;

	if (!ms)
		return 1;
	if (l->keep) { /* what the report reads, kept: the first build reads it all */
		hm_report first = {0};
		hm_err err = hm_report_build(l, &p, &first);
		hm_report_release(&first);
		if (err)
			reps = 0;
	}
	for (int i = 0; i < reps; i++) {
		hm_report rep = {0};
		double t0;
		static int touches;
		if (l->keep && touch(l, date, touches++)) {
			fprintf(stderr, "bench_reports: writing: %s\n", hm_node_errmsg(l->node));
			free(ms);
			return 1;
		}
		t0 = now_secs();
		if (hm_report_build(l, &p, &rep)) {
			fprintf(stderr, "bench_reports: %s: %s\n", name, hm_node_errmsg(l->node));
			free(ms);
			return 1;
		}
		ms[i] = (now_secs() - t0) * 1000;
		rows = held = 0;
		for (size_t t = 0; t < rep.ntables; t++) {
			held += rep.tables[t]->nrows;
			rows += rep.tables[t]->nrows + rep.tables[t]->rows_more;
		}
		hm_report_release(&rep);
	}
	{
		double best = reps ? ms[0] : 0;
		for (int i = 1; i < reps; i++)
			best = ms[i] < best ? ms[i] : best;
		printf("%-12s %-12s %9.1f ms  best %7.1f ms  (%zu rows, %zu held, median of %d)\n",
		       name, region, median(ms, reps), best, rows, held, reps);
	}
	free(ms);
	return 0;
}

int main(int argc, char **argv)
{
	hm_keyfile_secrets keys;
	hm_node *n = NULL;
	hm_ledger l;
	hm_cache_stats st;
	const char *const *names;
	const char *only = NULL;
	bool keep = false;
	hm_report_keep *k = NULL;
	int reps = 5, first = 3, rc = 1;
	double t0;

	write_kind = "check";
	for (; first + 1 < argc && !strncmp(argv[first], "--", 2); first += 2)
		if (!strcmp(argv[first], "--keep"))
			keep = true, first--;
		else if (!strcmp(argv[first], "--reps"))
			reps = atoi(argv[first + 1]);
		else if (!strcmp(argv[first], "--only"))
			only = argv[first + 1];
		else if (!strcmp(argv[first], "--write"))
			write_kind = argv[first + 1];
		else if (!strcmp(argv[first], "--rows"))
			rows_max = (size_t)strtoul(argv[first + 1], NULL, 10);
		else
			reps = 0;
	if (argc <= first || reps < 1) {
		fprintf(stderr, "usage: bench_reports DIR DATE [--reps N] [--only NAME] [--keep] "
		                "[--write check|person] [--rows N] REGION...\n");
		return 2;
	}
	setenv("TZ", "UTC", 1);
	if (open_node(argv[1], &n, &keys))
		goto out;
	hm_ledger_init(&l, n);
	t0 = now_secs();
	if (hm_node_cache_records(n, (size_t)8 << 30) || hm_node_cache_warm(n)) {
		fprintf(stderr, "bench_reports: reading the records: %s\n", hm_node_errmsg(n));
		goto out;
	}
	hm_node_cache_stats(n, &st);
	printf("%zu records read into memory in %.2f s: %zu MB\n", st.records, now_secs() - t0,
	       st.bytes >> 20);
	time_lists(n);
	if (keep && hm_report_keep_new((size_t)8 << 30, &k)) {
		rc = 1;
		goto out;
	}
	l.keep = k;
	names = hm_report_names();
	rc = 0;
	for (int r = first; r < argc && !rc; r++)
		for (size_t i = 0; names[i] && !rc; i++)
			if (!only || !strcmp(only, names[i]))
				rc = time_report(&l, names[i], argv[r], argv[2], reps);
out:
	hm_report_keep_free(k);
	hm_node_close(n);
	hm_keyfile_secrets_release(&keys);
	return rc;
}
