/*
 * ledger_int.h - what the files of ledger/ share and no front end sees.
 */
#ifndef HM_LEDGER_INT_H
#define HM_LEDGER_INT_H

#include "ledger.h"

/* ---- CSV (csv.c, csv_header.c, import.c) ---- */

/* One import under way: the header's columns, the ids seen, the good rows' write. */
typedef struct hm_csv_seen {
	const char *id; /* borrowed from the text or im->made; NULL: an empty slot */
	size_t line;
} hm_csv_seen;

typedef struct hm_csv_import_ctx {
	hm_ledger *l;
	hm_node *n;
	const hm_csv_import_opts *o;
	hm_csv_result *res;
	const char *name; /* the file, for messages */
	const hm_collection_def *cd;
	hm_node_info self;
	hm_write *w; /* NULL in a dry run */
	size_t ncols;
	const char *header[HM_CSV_COLS_MAX];
	const hm_field_def *field[HM_CSV_COLS_MAX]; /* NULL: the id column, or skipped */
	int id_col;                                 /* -1: every row gets a new id */
	char prefix[8];
	hm_csv_seen *seen; /* the file's ids: open addressing, a power of two slots */
	size_t nseen, seencap;
	char **made; /* owned: the ids made for rows without one */
	size_t nmade, madecap;
	size_t badcap;
	bool hash_off; /* the node lacks the key of person.id_hash: noted once */
} hm_csv_import_ctx;

/* Read the header row of r and map its columns (csv_header.c). Errors as hm_csv_import. */
hm_err hm_csv_read_header(hm_csv_import_ctx *im, hm_csv_reader *r) HM_MUST_CHECK;
/* The column of field f, or -1. */
int hm_csv_column_of(const hm_csv_import_ctx *im, const hm_field_def *f);
/* s[0..n) refused when it looks like GBK read as UTF-8 (res->gbk), on line, in column. */
hm_err hm_csv_gbk_check(hm_csv_import_ctx *im, const char *s, size_t line, const char *column);

#endif
