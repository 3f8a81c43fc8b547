/*
 * csv_header.c - the header row of an import: which column is the record id, which field each
 * other one is (by name, by its Chinese header, or by a --map alias), which are skipped; and the
 * header of an empty template the import takes back as it is.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <string.h>

bool hm_csv_importable(const hm_collection_def *cd, const hm_field_def *f)
{
	(void)cd;
	return !hm_ledger_field_derived(f); /* the one list the verbs use too */
}

size_t hm_csv_template(const hm_collection_def *cd, char *buf, size_t cap)
{
	const char *zh = hm_ledger_header_zh(cd, "id");
	/* A BOM: a spreadsheet opens the file as UTF-8, not in the local code page. */
	size_t o = (size_t)snprintf(buf, cap, "\xef\xbb\xbf%s", zh ? zh : "id");

	for (size_t i = 0; i < cd->nfields; i++) {
		const hm_field_def *f = &cd->fields[i];
		if (!hm_csv_importable(cd, f))
			continue;
		zh = hm_ledger_header_zh(cd, f->name);
		o += (size_t)snprintf(o < cap ? buf + o : NULL, o < cap ? cap - o : 0, ",%s",
		                      zh ? zh : f->name);
	}
	o += (size_t)snprintf(o < cap ? buf + o : NULL, o < cap ? cap - o : 0, "\r\n");
	return o;
}

int hm_csv_column_of(const hm_csv_import_ctx *im, const hm_field_def *f)
{
	for (size_t i = 0; i < im->ncols; i++)
		if (im->field[i] == f)
			return (int)i;
	return -1;
}

static const char *field_names(const hm_collection_def *cd, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cd->nfields && o < cap; i++)
		if (hm_csv_importable(cd, &cd->fields[i]))
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "",
			                      cd->fields[i].name);
	return buf;
}

/* What column is: its --map target, else its own name when that is a field or "id", else the
 * field whose Chinese header it is, else its own name (refused later). */
static const char *target_of(const hm_csv_import_ctx *im, const char *column)
{
	const hm_collection_def *cd = im->cd;
	const char *zh;

	for (size_t i = 0; i < im->o->nmap; i++)
		if (!strcmp(im->o->map[i].from, column))
			return im->o->map[i].to;
	if (!strcmp(column, "id") || hm_schema_field(cd, column))
		return column;
	if ((zh = hm_ledger_header_zh(cd, "id")) && !strcmp(zh, column))
		return "id";
	for (size_t i = 0; i < cd->nfields; i++)
		if (hm_csv_importable(cd, &cd->fields[i]) &&
		    (zh = hm_ledger_header_zh(cd, cd->fields[i].name)) && !strcmp(zh, column))
			return cd->fields[i].name;
	return column;
}

/* One column of the header: the id, skipped ("-"), or a field of the collection. */
static hm_err header_column(hm_csv_import_ctx *im, size_t i, const char *to)
{
	const hm_collection_def *cd = im->cd;
	const char *col = im->header[i];
	const hm_field_def *f;
	char names[1024];

	if (!strcmp(to, "-"))
		return HM_OK;
	if (!strcmp(to, "id")) {
		if (im->id_col >= 0)
			return hm_node_fail(im->n, HM_ERR_INVALID,
			                    "%s: columns '%s' and '%s' both give the id", im->name,
			                    im->header[im->id_col], col);
		im->id_col = (int)i;
		return HM_OK;
	}
	if (!(f = hm_schema_field(cd, to))) {
		if (strcmp(to, col) != 0)
			return hm_node_fail(im->n, HM_ERR_SCHEMA,
			                    "--map %s=%s: %s has no field '%s' (its fields: %s)",
			                    col, to, cd->name, to,
			                    field_names(cd, names, sizeof(names)));
		return hm_node_fail(
		    im->n, HM_ERR_SCHEMA,
		    "%s: column '%s' is not a field of %s (its fields: %s); name its "
		    "field with --map '%s=FIELD', or skip it with --map '%s=-'",
		    im->name, col, cd->name, field_names(cd, names, sizeof(names)), col, col);
	}
	if (!hm_csv_importable(cd, f))
		return hm_node_fail(
		    im->n, HM_ERR_SCHEMA, "%s: column '%s': %s.%s is %s, not imported", im->name,
		    col, cd->name, f->name,
		    f->merge == HM_MERGE_COUNTER
		        ? _("a counter (change it with `hamlet put ... FIELD+=N`)")
		    : !strcmp(f->name, "id_hash") ? _("made by hamlet from id_number")
		                                  : _("written by hamlet itself"));
	for (size_t j = 0; j < i; j++)
		if (im->field[j] == f)
			return hm_node_fail(im->n, HM_ERR_INVALID,
			                    "%s: columns '%s' and '%s' are both %s.%s", im->name,
			                    im->header[j], col, cd->name, f->name);
	im->field[i] = f;
	return HM_OK;
}

/* The first row that is not blank, as the header: well-formed, every column named once. */
static hm_err header_row(hm_csv_import_ctx *im, hm_csv_reader *r, hm_csv_row *row)
{
	int got;
	hm_err err;

	while ((got = hm_csv_next(r, row)) == 1 && hm_csv_row_blank(row))
		;
	if (got < 0)
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s: line %zu: a quoted field is never closed", im->name,
		                    row->line);
	if (got == 0)
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s is empty: its first row must name the columns", im->name);
	if (row->malformed)
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s: line %zu: the header is not well-formed: %s", im->name,
		                    row->line, row->malformed);
	if (row->ncols > HM_CSV_COLS_MAX)
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s: the header has %zu columns; import-csv reads at most %u",
		                    im->name, row->ncols, HM_CSV_COLS_MAX);
	for (size_t i = 0; i < row->ncols; i++) {
		if (!row->cell[i][0])
			return hm_node_fail(im->n, HM_ERR_INVALID,
			                    "%s: column %zu of the header has no name: name it, or "
			                    "delete the column",
			                    im->name, i + 1);
		if ((err = hm_csv_gbk_check(im, row->cell[i], row->line, NULL)))
			return err;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(row->cell[j], row->cell[i]))
				return hm_node_fail(im->n, HM_ERR_INVALID,
				                    "%s: two columns are named '%s'", im->name,
				                    row->cell[i]);
	}
	return HM_OK;
}

/* Every --map names a column of the header, and not the --id-column; the --id-column is one. */
static hm_err check_maps(hm_csv_import_ctx *im, const hm_csv_row *row)
{
	const hm_csv_import_opts *o = im->o;

	for (size_t m = 0; m < o->nmap; m++) {
		bool used = false;
		for (size_t i = 0; i < row->ncols; i++)
			used |= !strcmp(o->map[m].from, row->cell[i]);
		if (!used)
			return hm_node_fail(im->n, HM_ERR_INVALID,
			                    "--map %s=%s: %s has no column '%s'", o->map[m].from,
			                    o->map[m].to, im->name, o->map[m].from);
		if (o->id_column && !strcmp(o->map[m].from, o->id_column))
			return hm_node_fail(im->n, HM_ERR_INVALID,
			                    "--map %s=%s: '%s' is the id column (--id-column)",
			                    o->map[m].from, o->map[m].to, o->id_column);
	}
	if (!o->id_column)
		return HM_OK;
	for (size_t i = 0; i < row->ncols; i++)
		if (!strcmp(row->cell[i], o->id_column))
			im->id_col = (int)i;
	if (im->id_col < 0)
		return hm_node_fail(im->n, HM_ERR_INVALID, "--id-column %s: %s has no column '%s'",
		                    o->id_column, im->name, o->id_column);
	return HM_OK;
}

hm_err hm_csv_read_header(hm_csv_import_ctx *im, hm_csv_reader *r)
{
	hm_csv_row row;
	hm_err err;

	im->id_col = -1;
	if ((err = header_row(im, r, &row)))
		return err;
	im->ncols = row.ncols;
	for (size_t i = 0; i < row.ncols; i++)
		im->header[i] = row.cell[i];
	if ((err = check_maps(im, &row)))
		return err;
	for (size_t i = 0; i < row.ncols; i++)
		if ((int)i != im->id_col &&
		    (err = header_column(im, i, target_of(im, row.cell[i]))))
			return err;
	/* Every row is a new record then: a required field without a column fails them all. */
	for (size_t f = 0; im->id_col < 0 && f < im->cd->nfields; f++)
		if (im->cd->fields[f].required && hm_csv_column_of(im, &im->cd->fields[f]) < 0)
			return hm_node_fail(
			    im->n, HM_ERR_INVALID,
			    "%s: a new %s needs the field '%s', and no column is it "
			    "(name one with --map COLUMN=%s)",
			    im->name, im->cd->name, im->cd->fields[f].name, im->cd->fields[f].name);
	return HM_OK;
}
