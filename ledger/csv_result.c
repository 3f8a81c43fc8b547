/* csv_result.c - what a CSV import found and did (hm_csv_result), as the import-csv command and
 * the web's import page show it: one JSON document, the summary lines, the failure's words. */
#include "ledger_int.h"

#include <inttypes.h>
#include <string.h>

static json_t *bad_json(const hm_csv_result *res)
{
	json_t *a = json_array();
	for (size_t i = 0; i < res->nbad; i++) {
		const hm_csv_bad *b = &res->bad[i];
		json_array_append_new(a,
		                      json_pack("{s:I, s:o, s:o, s:o}", "line", (json_int_t)b->line,
		                                "field", hm_json_cstr(b->field), "column",
		                                hm_json_cstr(b->column ? b->column : b->field),
		                                "reason", hm_json_cstr(b->reason)));
	}
	return a;
}

json_t *hm_csv_result_json(const hm_csv_result *res, bool dry_run)
{
	json_t *seqs = json_array();
	bool wrote = res->verdict == HM_CSV_WRITTEN;

	/* A dry run says so when it checked; a dry run that found nothing to write did not. */
	dry_run = res->verdict == HM_CSV_CHECKED || (dry_run && res->verdict == HM_CSV_TOO_LARGE);
	for (uint64_t s = res->first_seq; wrote && s <= res->last_seq; s++)
		json_array_append_new(seqs, json_integer((json_int_t)s));
	return json_pack("{s:o, s:I, s:I, s:I, s:o, s:I, s:b, s:o}", "collection",
	                 hm_json_cstr(res->cd ? res->cd->name : NULL), "rows",
	                 (json_int_t)res->rows, "written", (json_int_t)(wrote ? res->written : 0),
	                 "bad_rows", (json_int_t)res->bad_rows, "bad", bad_json(res),
	                 "bad_not_listed", (json_int_t)res->bad_more, "dry_run", dry_run,
	                 "changesets", seqs);
}

bool hm_csv_result_failure(const hm_csv_result *res, char *buf, size_t cap)
{
	switch (res->verdict) {
	case HM_CSV_TOO_LARGE:
		snprintf(buf, cap,
		         "the %zu good rows would make a change set of about %.1f MiB, more than "
		         "the %u MiB one write holds: split the file into parts of at most %" PRIu64
		         " rows; nothing was written",
		         res->good, (double)res->body / (1u << 20), HM_ENVELOPE_MAX >> 20,
		         res->rows_per_write);
		return true;
	case HM_CSV_CHECKED:
		if (!res->bad_rows)
			return false;
		snprintf(buf, cap, "dry run: %zu of %zu rows are bad", res->bad_rows, res->rows);
		return true;
	case HM_CSV_REFUSED:
		snprintf(buf, cap,
		         "%zu of %zu rows are bad: nothing was written (fix them, or --skip-bad "
		         "writes the %zu good one%s)",
		         res->bad_rows, res->rows, res->good, res->good == 1 ? "" : "s");
		return true;
	case HM_CSV_NOTHING:
	case HM_CSV_WRITTEN:
		return false;
	}
	snprintf(buf, cap, "the import stopped before every row was checked");
	return true;
}

static void write_written(const hm_csv_result *res, FILE *f)
{
	fprintf(f, "%zu row%s read: %zu written to %s", res->rows, res->rows == 1 ? "" : "s",
	        res->written, res->cd->name);
	if (res->good > res->written)
		fprintf(f, ", %zu with nothing but an id (unchanged)", res->good - res->written);
	if (res->bad_rows)
		fprintf(f, ", %zu bad (skipped, listed on stderr)", res->bad_rows);
	if (res->last_seq > res->first_seq)
		fprintf(f, "\nchange sets %" PRIu64 "-%" PRIu64 " (last ", res->first_seq,
		        res->last_seq);
	else
		fprintf(f, "\nchange set %" PRIu64 " (", res->last_seq);
	hm_text_hex(f, res->last_id.b, 8);
	fprintf(f, ")\n");
}

void hm_csv_result_write(const hm_csv_result *res, FILE *f)
{
	switch (res->verdict) {
	case HM_CSV_CHECKED:
		fprintf(f, _("dry run: %zu row%s read, %zu good, %zu bad; nothing written\n"),
		        res->rows, res->rows == 1 ? "" : "s", res->good, res->bad_rows);
		break;
	case HM_CSV_NOTHING:
		fprintf(
		    f, _("%zu row%s read, %zu bad, %zu with nothing but an id: nothing to write\n"),
		    res->rows, res->rows == 1 ? "" : "s", res->bad_rows, res->good);
		break;
	case HM_CSV_WRITTEN:
		write_written(res, f);
		break;
	default:
		break; /* a failure: its words are hm_csv_result_failure's */
	}
}
