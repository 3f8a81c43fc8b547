/*
 * bench_today.c - the clerk's Today page of a village (issue #12: under 20 ms for a village of
 * about 2,000 persons), and the morning's checks entered in one write.
 *
 *   bench_today [--quick] [--persons N] [--monitored N] [--closed N] [--reps N] [--dir DIR]
 *
 * One node in trust mode (records sealed at rest, as every station's are) holding one village's
 * records: N persons (default 2000), each with a return; --monitored of them (default 300) in
 * an open episode of 14 days now on its 10th day with two checks a day so far (the last few
 * missed by some); --closed more (default 500) with a finished episode and its 28 checks. Then
 * what reading each collection alone costs (the floor), hm_today_build for the village, masked,
 * timed as the median of --reps runs (default 20), and
 * hm_followup_batch of the morning's checks of every monitored person (one change set), each row
 * naming its episode, then again with the rule finding it (the evening's slot taken twice). Every
 * run checks counts; the exit status never depends on time. Today is timed again with the
 * records kept in memory (hm_node_cache_records), as the web interface reads them. Figures in
 * docs/performance.md.
 */
#define _XOPEN_SOURCE 700

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

#include "bench_common.h"

/* The records are placed in the county's own region: a county holds the data key of its region
 * from its creation (a village's records are sealed under its township's key, which only
 * enrollment makes); sealing and reading cost the same. */
#define VILLAGE "lin"
#define TODAY   "2026-11-26"
#define T0_MS   1795694400000ull /* 2026-11-26 12:00 UTC */

typedef struct opts {
	int persons, monitored, closed, reps;
	const char *dir;
} opts;

static uint64_t frozen(void *arg)
{
	(void)arg;
	return T0_MS;
}

static hm_err set(hm_write *w, const char *coll, const char *id, const char *f, const char *v)
{
	hm_value val = str_value(v);
	return hm_write_set(w, coll, id, f, &val);
}

static hm_err set_int(hm_write *w, const char *coll, const char *id, const char *f, int64_t i)
{
	hm_value val = {.kind = HM_V_INT, .u.i = i};
	return hm_write_set(w, coll, id, f, &val);
}

static hm_err person(hm_write *w, int i)
{
	static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵"};
	char id[32], name[32], compound[32], household[16], rid[32];
	hm_err err;

	snprintf(id, sizeof(id), "p-%06d", i);
	snprintf(rid, sizeof(rid), "r-%06d", i);
	snprintf(name, sizeof(name), "%s%d", surnames[i % 8], i);
	snprintf(compound, sizeof(compound), "compound %d", i / 40);
	snprintf(household, sizeof(household), "%d", (i / 4) % 10);
	if ((err = set(w, "person", id, "name", name)) ||
	    (err = set(w, "person", id, "village", VILLAGE)) ||
	    (err = set(w, "person", id, "compound", compound)) ||
	    (err = set(w, "person", id, "household", household)) ||
	    (err = set(w, "person", id, "category", "returnee")) ||
	    (err = set(w, "person", id, "phone", "13800000000")) ||
	    (err = set(w, "return", rid, "person", id)) ||
	    (err = set(w, "return", rid, "village", VILLAGE)) ||
	    (err = set(w, "return", rid, "from_area", "wuhan")))
		return err;
	return set(w, "return", rid, "registered", "2026-11-16");
}

/* Person i's episode from start for 14 days (ended when end is not NULL), with two checks a
 * day on the days before last (the last few missed when i is odd). */
static hm_err episode(hm_write *w, int i, const char *start, const char *end, const char *last)
{
	char id[32], pid[32], plan[11], day[11], fid[48], t[20];
	hm_err err;

	snprintf(id, sizeof(id), "e-%06d", i);
	snprintf(pid, sizeof(pid), "p-%06d", i);
	if (!hm_date_add(start, 14, plan))
		return HM_ERR_INVALID;
	if ((err = set(w, "episode", id, "person", pid)) ||
	    (err = set(w, "episode", id, "village", VILLAGE)) ||
	    (err = set(w, "episode", id, "kind", "home")) ||
	    (err = set(w, "episode", id, "start", start)) ||
	    (err = set(w, "episode", id, "planned_end", plan)) ||
	    (err = set_int(w, "episode", id, "checks_per_day", 2)) ||
	    (err = set(w, "episode", id, "worker", i % 2 ? "Wang" : "Li")) ||
	    (end && (err = set(w, "episode", id, "end", end))))
		return err;
	memcpy(day, start, sizeof(day));
	for (int d = 0; strcmp(day, last) < 0 && !(i % 2 && d > 6); d++) {
		for (int s = 0; s < 2; s++) {
			hm_value temp = {.kind = HM_V_FLOAT, .u.f = 36.2 + (i % 13) / 10.0};
			snprintf(fid, sizeof(fid), "f-%06d-%02d-%d", i, d, s);
			snprintf(t, sizeof(t), "%sT%s", day, s ? "17:30" : "08:10");
			if ((err = set(w, "followup", fid, "person", pid)) ||
			    (err = set(w, "followup", fid, "time", t)) ||
			    (err = set(w, "followup", fid, "village", VILLAGE)) ||
			    (err = set(w, "followup", fid, "slot", s ? "evening" : "morning")) ||
			    (err = set(w, "followup", fid, "method", "visit")) ||
			    (err = set(w, "followup", fid, "episode", id)) ||
			    (err = hm_write_set(w, "followup", fid, "temperature", &temp)))
				return err;
		}
		if (!hm_date_add(day, 1, day))
			return HM_ERR_INVALID;
	}
	return HM_OK;
}

/* The village's records, 100 persons a change set. */
static hm_err fill(hm_node *n, const opts *o)
{
	hm_write *w = NULL;
	hm_changeset_info info;
	hm_err err = HM_OK;

	for (int i = 0; i < o->persons && !err; i++) {
		if (!w && (err = hm_write_begin(n, &w)))
			return err;
		err = person(w, i);
		if (!err && i < o->monitored)
			err = episode(w, i, "2026-11-17", NULL, TODAY);
		else if (!err && i < o->monitored + o->closed)
			err = episode(w, i, "2026-10-20", "2026-11-03", "2026-11-03");
		if (!err && (i % 100 == 99 || i == o->persons - 1)) {
			err = hm_write_commit(w, &info);
			w = NULL;
		}
	}
	if (w)
		hm_write_abort(w);
	return err;
}

static int parse(int argc, char **argv, opts *o)
{
	*o = (opts){2000, 300, 500, 20, "/tmp/hamlet-bench-today"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quick"))
			*o = (opts){200, 30, 50, 3, o->dir};
		else if (v && !strcmp(a, "--persons"))
			o->persons = atoi(v), i++;
		else if (v && !strcmp(a, "--monitored"))
			o->monitored = atoi(v), i++;
		else if (v && !strcmp(a, "--closed"))
			o->closed = atoi(v), i++;
		else if (v && !strcmp(a, "--reps"))
			o->reps = atoi(v), i++;
		else if (v && !strcmp(a, "--dir"))
			o->dir = v, i++;
		else
			return -1;
	}
	if (o->persons < 1 || o->monitored + o->closed > o->persons || o->reps < 1 ||
	    o->reps > 1000)
		return -1;
	return 0;
}

static int count_one(void *arg, const hm_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/* What reading the records alone costs (hm_node_list with a callback that only counts): the
 * floor under Today, which reads persons, episodes and follow-ups once each. */
static void time_reading(hm_node *n, int reps)
{
	static const char *const colls[] = {"person", "episode", "followup"};
	double v[1000];

	for (size_t c = 0; c < 3; c++) {
		size_t k = 0;
		for (int r = 0; r < reps; r++) {
			double t0 = now_secs();
			k = 0;
			if (hm_node_list(n, colls[c], count_one, &k))
				return;
			v[r] = (now_secs() - t0) * 1000;
		}
		printf("%-44s %8.2f ms (%zu records)\n", colls[c], median(v, reps), k);
	}
}

/* Today, reps times: the median in ms into *ms; the rows and their flags checked. */
static int time_today(hm_ledger *l, const opts *o, double *ms)
{
	double *v = calloc((size_t)o->reps, sizeof(*v));
	size_t due = 0;
	int rc = 0;

	for (int r = 0; r < o->reps && v && !rc; r++) {
		hm_today t;
		double t0 = now_secs();
		hm_err err = hm_today_build(l, VILLAGE, NULL, false, &t);
		v[r] = (now_secs() - t0) * 1000;
		if (err || t.n != (size_t)o->monitored) {
			fprintf(stderr, "bench_today: Today: %s, %zu rows (expected %d): %s\n",
			        hm_strerror(err), t.n, o->monitored, hm_node_errmsg(l->node));
			rc = 1;
		}
		for (size_t i = 0; i < t.n; i++)
			due += t.rows[i].due_morning;
		hm_today_free(&t);
	}
	if (!v || (!rc && due != (size_t)o->monitored * (size_t)o->reps)) {
		fprintf(stderr, "bench_today: %zu rows due this morning, expected %d a run\n", due,
		        o->monitored);
		rc = 1;
	}
	*ms = v && !rc ? median(v, o->reps) : 0;
	free(v);
	return rc;
}

/* The morning's checks of every monitored person in one write; with_episode: each row names
 * its episode (as Today's rows have it), else the rule finds the one running. */
static int time_batch(hm_ledger *l, const opts *o, bool with_episode, double *ms)
{
	hm_check_row *rows = calloc((size_t)o->monitored, sizeof(*rows));
	char(*errs)[HM_CHECK_WHY] = calloc((size_t)o->monitored, sizeof(*errs));
	char(*ids)[2][32] = calloc((size_t)o->monitored, sizeof(*ids));
	hm_changeset_info info;
	hm_err err = HM_ERR_NOMEM;
	double t0;

	for (int i = 0; rows && errs && ids && i < o->monitored; i++) {
		snprintf(ids[i][0], sizeof(ids[i][0]), "p-%06d", i);
		snprintf(ids[i][1], sizeof(ids[i][1]), "e-%06d", i);
		rows[i] = (hm_check_row){.person = ids[i][0],
		                         .episode = with_episode ? ids[i][1] : NULL,
		                         .slot = "上午",
		                         .temperature = "36.6",
		                         .method = "上门"};
	}
	t0 = now_secs();
	if (rows && errs && ids)
		err = hm_followup_batch(l, rows, (size_t)o->monitored, errs, &info);
	*ms = (now_secs() - t0) * 1000;
	if (err)
		fprintf(stderr, "bench_today: batch: %s: %s\n", hm_strerror(err),
		        hm_node_errmsg(l->node));
	free(rows), free(errs), free(ids);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	hm_identity ident;
	uint8_t skey[HM_STORAGE_KEY_BYTES];
	hm_node_opts no = {.identity = &ident, .storage_key = skey};
	hm_node *n = NULL;
	hm_ledger l;
	opts o;
	double fill_s, today_ms = 0, batch_ms = 0;
	int rc = 1;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: bench_today [--quick] [--persons N] [--monitored N] "
		                "[--closed N] [--reps N] [--dir DIR]\n");
		return 2;
	}
	setenv("TZ", "UTC", 1); /* the station's day, the same everywhere */
	hm_random_bytes(skey, sizeof(skey));
	if (hm_identity_init(&ident))
		return 1;
	remove_tree(o.dir);
	if (hm_node_create(o.dir, HM_ROLE_COUNTY, "lin", "bench", &no, NULL) ||
	    hm_node_open(o.dir, &no, &n)) {
		fprintf(stderr, "bench_today: cannot make a node in %s\n", o.dir);
		goto out;
	}
	hm_ledger_init(&l, n);
	l.clock = frozen;
	fill_s = now_secs();
	if (fill(n, &o)) {
		fprintf(stderr, "bench_today: filling the village: %s\n", hm_node_errmsg(n));
		goto out;
	}
	fill_s = now_secs() - fill_s;
	printf("village of %d persons, %d monitored, %d done: written in %.2f s\n", o.persons,
	       o.monitored, o.closed, fill_s);
	printf("reading alone (hm_node_list, median of %d):\n", o.reps);
	time_reading(n, o.reps);
	if ((rc = time_today(&l, &o, &today_ms)))
		goto out;
	printf("%-44s %8.2f ms (median of %d)\n", "Today of the village (hm_today_build)", today_ms,
	       o.reps);
	/* As the web interface reads them: kept in memory, current at each call. */
	if (hm_node_cache_records(n, (size_t)1 << 30) || hm_node_cache_warm(n)) {
		fprintf(stderr, "bench_today: keeping the records: %s\n", hm_node_errmsg(n));
		goto out;
	}
	if ((rc = time_today(&l, &o, &today_ms)))
		goto out;
	printf("%-44s %8.2f ms (median of %d)\n", "the same, records kept in memory", today_ms,
	       o.reps);
	if ((rc = time_batch(&l, &o, true, &batch_ms)))
		goto out;
	printf("%-44s %8.2f ms (%d rows, one change set)\n",
	       "the morning's checks (hm_followup_batch)", batch_ms, o.monitored);
	if ((rc = time_batch(&l, &o, false, &batch_ms)))
		goto out;
	printf("%-44s %8.2f ms (%d rows, one change set)\n", "the same, episodes found by the rule",
	       batch_ms, o.monitored);
out:
	hm_node_close(n);
	hm_identity_release(&ident);
	hm_wipe(skey, sizeof(skey));
	remove_tree(o.dir);
	return rc;
}
