/*
 * report.h - the model `hamlet report` fills and render.c prints.
 *
 * A report is a title, its parameters and a list of tables; a table is a name, a title, its
 * columns and rows of cells (text, a number, or nothing). report.c computes the figures into this
 * model and render.c writes it as text, CSV, JSON or one HTML page, so the four formats always
 * say the same thing.
 *
 * Building never fails halfway: an allocation that fails sets rp_report.nomem and later calls do
 * nothing, so the caller checks once, before rendering.
 */
#ifndef HM_CLI_REPORT_H
#define HM_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RP_COLS_MAX   16
#define RP_PARAMS_MAX 8

typedef enum rp_cell_kind {
	RP_NULL = 0, /* no figure: "-" in text, empty in CSV, null in JSON */
	RP_TEXT,
	RP_NUM,
} rp_cell_kind;

typedef struct rp_cell {
	rp_cell_kind kind;
	int decimals; /* RP_NUM: digits after the point */
	double num;
	char *text; /* RP_TEXT: owned */
} rp_cell;

/* A row is data, a township's subtotal or the total of the region asked; charts draw data rows. */
typedef enum rp_row_kind {
	RP_ROW_DATA = 0,
	RP_ROW_SUBTOTAL,
	RP_ROW_TOTAL,
} rp_row_kind;

typedef struct rp_row {
	rp_row_kind kind;
	rp_cell cells[RP_COLS_MAX];
} rp_row;

typedef struct rp_table {
	const char *name, *title; /* static */
	const char *cols[RP_COLS_MAX];
	size_t ncols;
	rp_row *rows; /* owned */
	size_t nrows, cap;
	/* The HTML page draws a bar chart of column chart, one bar per data row labelled by
	 * column chart_label (and chart_label2, when not -1); chart -1: no chart. */
	int chart, chart_label, chart_label2;
} rp_table;

typedef struct rp_param {
	const char *name; /* static */
	char value[128];
} rp_param;

typedef struct rp_report {
	const char *name; /* daily, monitoring, ... */
	const char *title;
	char region[100], date[11]; /* region: HM_REGION_MAX + 1 */
	rp_param params[RP_PARAMS_MAX];
	size_t nparams;
	rp_table **tables; /* owned, each and the array */
	size_t ntables, cap;
	bool nomem;
} rp_report;

typedef enum rp_format {
	RP_FMT_TEXT = 0,
	RP_FMT_CSV,
	RP_FMT_JSON,
	RP_FMT_HTML,
} rp_format;

void rp_report_init(rp_report *r, const char *name, const char *title, const char *region,
                    const char *date);
void rp_report_release(rp_report *r);
void rp_param_add(rp_report *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A new table with the columns given as a NULL-terminated list (at most RP_COLS_MAX). Borrowed
 * from r, valid until rp_report_release. NULL when memory ran out (r->nomem set); rp_row_add
 * takes NULL and does nothing. */
rp_table *rp_table_add(rp_report *r, const char *name, const char *title, const char *const *cols);

/* Add a row. spec says what each following argument is, one letter per cell:
 *   s  const char *, text (NULL: no figure)
 *   d  long long, a whole number
 *   f  double, one decimal (NaN: no figure)
 *   n  no argument, no figure */
void rp_row_add(rp_report *r, rp_table *t, rp_row_kind kind, const char *spec, ...);

/* Write r to f in the format. Returns 0, or -1 when writing failed (errno says why). */
int rp_render(const rp_report *r, rp_format fmt, FILE *f);

/* `hamlet report NAME ...` (report.c). */
struct cli;
int cmd_report(struct cli *c, int argc, char **argv);

#endif
