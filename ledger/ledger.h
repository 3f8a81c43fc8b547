/*
 * ledger.h - the prevention ledger: the rules of field work, persons, stock, purge, the access
 * log, CSV import and the reports, over a node (node.h). Every front end (the `hamlet` command,
 * the web interface) calls these functions and adds no rule of its own.
 *
 * Conventions, as in lmdb.h:
 * - A function that can fail returns hm_err (HM_OK is 0); the reason, in words a clerk can act
 *   on, is then in hm_node_errmsg(l->node). Functions marked "never fails" return a value.
 * - Pointer parameters must not be NULL unless the comment says "may be NULL".
 * - What a function returns through a pointer is owned by the caller when the comment says
 *   "release with ..."; otherwise it is borrowed and valid as the comment says.
 * - Nothing here prints, exits, reads the environment or the terminal. Dates are the station's
 *   local dates (localtime_r, so the TZ of the process) and times come from the ledger's clock.
 */
#ifndef HM_LEDGER_H
#define HM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* ---- The ledger's context ---- */

/* The clock of a ledger: milliseconds since the Unix epoch. */
typedef uint64_t (*hm_ledger_clock)(void *arg);

typedef struct hm_ledger {
	hm_node *node;         /* borrowed; open for as long as the ledger is used */
	hm_ledger_clock clock; /* may be NULL: the system clock plus clock_offset_ms */
	void *clock_arg;
	int64_t clock_offset_ms; /* added to the system clock (tests, a station's known skew) */
	/* Who reads and exports, for the access log: a person's name in the web interface; may
	 * be NULL (the station itself, as the command line does). */
	const char *actor;
} hm_ledger;

/* A ledger over node with the system clock. Never fails. */
void hm_ledger_init(hm_ledger *l, hm_node *node);

/* ---- Time, dates and new ids ---- */

/* Now, by the ledger's clock. Never fails. */
uint64_t hm_ledger_now_ms(const hm_ledger *l);
/* Today as YYYY-MM-DD in the station's local time. Never fails. */
void hm_ledger_today(const hm_ledger *l, char out[11]);
/* Whether s is a date YYYY-MM-DD. */
bool hm_date_valid(const char *s);
/* date + days (negative: earlier) into out; false (out untouched) when date is not a date. */
bool hm_date_add(const char *date, long days, char out[11]);
/* A new record id PREFIX-<time base36><writer 4 hex><random 4 hex>, ordered by time so new
 * records append to their table, unique across writers. cap >= 32 holds any of ours. */
void hm_ledger_new_id(const hm_ledger *l, const char *prefix, char *out, size_t cap);

/* ---- Reading fields of a record ---- */

/* The text field of r copied into buf (cut to cap), or NULL (buf "") when r has none. */
const char *hm_rec_text(const hm_record *r, const char *field, char *buf, size_t cap);
/* The integer field of r, or dflt when r has none. */
int64_t hm_rec_int(const hm_record *r, const char *field, int64_t dflt);
/* The text field of r that names a record by id, into buf (HM_ID_MAX + 1 bytes), or NULL (buf
 * "") when r has none or it is not an id (hm_id_check): a longer value never matches a cut id. */
const char *hm_rec_id(const hm_record *r, const char *field, char *buf);

/* ---- Settings ---- */

/* The county's setting name into buf, or dflt when it never set it; returns buf. */
const char *hm_ledger_setting(const hm_ledger *l, const char *name, const char *dflt, char *buf,
                              size_t cap);

/* ---- The access log ---- */

/* Record that personal data was revealed or exported: action "reveal" or "export", what (a
 * report, a collection, a person), how many records, who (l->actor, or this station) and when.
 * One change set. On failure the caller must not show the data; errors as hm_write_commit. */
hm_err hm_ledger_record_access(hm_ledger *l, const char *action, const char *what,
                               size_t records) HM_MUST_CHECK;

/* ==== Field work: the verbs and their rules, stock on hand (field.c, stock.c) ==== */

/* (end of field work) */

/* ==== Persons: find, show, duplicates, merge and unmerge; purge (person.c, purge.c) ==== */

/* (end of persons) */

/* ==== CSV: the reader (bytes to rows) and import (csv.c, import.c) ==== */

/* (end of CSV) */

/* ==== Reports: each report as a data model the front ends render (report*.c) ==== */

/* A report is a title, its parameters and a list of tables; a table is a name, a title, its
 * columns and rows of cells (text, a number, or nothing). hm_report_build computes the figures
 * of one report (docs/reports.md defines every one) into this model; a front end renders it
 * (text, CSV, JSON, HTML in the command line; pages in the web interface), so every format says
 * the same thing. The model owns its strings.
 *
 * Building never fails halfway: an allocation that fails sets hm_report.nomem and later calls do
 * nothing, so whoever builds one checks once (hm_report_build does, and returns HM_ERR_NOMEM). */

#define HM_REPORT_COLS_MAX   16
#define HM_REPORT_PARAMS_MAX 8

typedef enum hm_report_cell_kind {
	HM_REPORT_NULL = 0, /* no figure: "-" in text, empty in CSV, null in JSON */
	HM_REPORT_TEXT,
	HM_REPORT_NUM,
} hm_report_cell_kind;

typedef struct hm_report_cell {
	hm_report_cell_kind kind;
	int decimals; /* HM_REPORT_NUM: digits after the point */
	double num;
	char *text; /* HM_REPORT_TEXT: owned by the report */
} hm_report_cell;

/* A row is data, a township's subtotal or the total of the region asked; charts draw data rows. */
typedef enum hm_report_row_kind {
	HM_REPORT_ROW_DATA = 0,
	HM_REPORT_ROW_SUBTOTAL,
	HM_REPORT_ROW_TOTAL,
} hm_report_row_kind;

typedef struct hm_report_row {
	hm_report_row_kind kind;
	hm_report_cell cells[HM_REPORT_COLS_MAX];
} hm_report_row;

typedef struct hm_report_table {
	const char *name, *title; /* static */
	const char *cols[HM_REPORT_COLS_MAX];
	size_t ncols;
	hm_report_row *rows; /* owned */
	size_t nrows, cap;
	/* A bar chart of column chart, one bar per data row labelled by column chart_label (and
	 * chart_label2, when not -1); chart -1: no chart. chart_max: the value of a full bar (100
	 * for a percentage), 0: the largest value drawn. */
	int chart, chart_label, chart_label2;
	double chart_max;
	/* A tree (who infected whom): tree_depth is the column of each row's depth, rows in
	 * pre-order (a row's children follow it, one deeper); -1: not a tree. */
	int tree_depth;
} hm_report_table;

typedef struct hm_report_param {
	const char *name; /* static */
	char value[128];
} hm_report_param;

typedef struct hm_report {
	const char *name; /* daily, monitoring, ... (static) */
	const char *title;
	char region[HM_REGION_MAX + 1], date[11];
	hm_report_param params[HM_REPORT_PARAMS_MAX];
	size_t nparams;
	hm_report_table **tables; /* owned, each and the array */
	size_t ntables, cap;
	bool nomem;
	/* For the access log (hm_report_record_access): the persons named in the report, whether
	 * their names are in clear, and the person a contacts graph starts from ("" if none). */
	size_t persons_listed;
	bool show_pii;
	char person[HM_ID_MAX + 1];
} hm_report;

/* Building a model by hand (the report files use these; a front end may build its own). */
/* An empty report; name and title static. Never fails. */
void hm_report_init(hm_report *r, const char *name, const char *title, const char *region,
                    const char *date);
/* Release everything r owns and zero it; accepts a zeroed report. */
void hm_report_release(hm_report *r);
/* Add a parameter shown with the report (at most HM_REPORT_PARAMS_MAX; more are dropped). */
void hm_report_param_add(hm_report *r, const char *name, const char *fmt, ...) HM_PRINTF(3, 4);
/* A new table with the columns given as a NULL-terminated list (at most HM_REPORT_COLS_MAX).
 * Borrowed from r, valid until hm_report_release. NULL when memory ran out (r->nomem set);
 * hm_report_row_add takes NULL and does nothing. */
hm_report_table *hm_report_table_add(hm_report *r, const char *name, const char *title,
                                     const char *const *cols);
/* Add a row. spec says what each following argument is, one letter per cell:
 *   s  const char *, text, copied (NULL: no figure)
 *   d  long long, a whole number
 *   f  double, one decimal (NaN: no figure)
 *   n  no argument, no figure */
void hm_report_row_add(hm_report *r, hm_report_table *t, hm_report_row_kind kind, const char *spec,
                       ...);

/* What to build. Zero it, then set what you need: every field has its default at zero. */
typedef struct hm_report_params {
	const char *name;   /* daily, monitoring, contacts, supplies, compounds or rewards */
	const char *date;   /* YYYY-MM-DD; NULL: today by the ledger's clock */
	const char *region; /* a region path; NULL: the node's own region */
	long days;          /* monitoring (default 2) and supplies (default 7); 0: the default */
	const char *person; /* contacts: the graph from this person; NULL: no graph */
	long depth;     /* contacts with person: how far (0: the person alone), when depth_set */
	bool depth_set; /* false: unlimited */
	bool show_pii;  /* names in clear; masked otherwise */
} hm_report_params;

/* The names of the reports, in the order of docs/reports.md: a NULL-terminated static list. */
const char *const *hm_report_names(void);

/* Build report p->name of the records l's node holds into *out (initialized here; release with
 * hm_report_release, also on failure). l and p are borrowed for the call; out's strings are
 * copies, owned by out. Reads only; writes nothing, not even the access log
 * (see hm_report_record_access).
 * Errors, each with its reason in hm_node_errmsg(l->node):
 * - HM_ERR_INVALID: a parameter is wrong (unknown report, a date that is not one, a region
 *   that is not a path, days or depth out of range or given to a report that takes none, a
 *   person that is not a record id);
 * - HM_ERR_NOT_FOUND: the contacts graph's person is no person and in no exposure; or the
 *   region lies inside the node's region and no record of the node is placed in it ("no
 *   records in region X");
 * - HM_ERR_SCHEMA: the region is outside what the node holds ("region X is outside this
 *   node's scope (SCOPE)"), or a county setting the report needs is not a number;
 * - HM_ERR_NOMEM, and the errors of reading the store (hm_node_list). */
hm_err hm_report_build(hm_ledger *l, const hm_report_params *p, hm_report *out) HM_MUST_CHECK;

/* Record in the access log, once, that report r is about to be shown or written (call it after
 * the destination is ready and before anything is shown): with output (a file name) an
 * "export", what "report NAME --region R --date D [--person P] [--show-pii] -o FILE"; without,
 * a "reveal" when r shows names in clear (--show-pii), and nothing for a masked report on the
 * screen. records: the persons named in r. output may be NULL. Errors as
 * hm_ledger_record_access: then nothing must be shown. */
hm_err hm_report_record_access(hm_ledger *l, const hm_report *r, const char *output) HM_MUST_CHECK;

/* (end of reports) */

#endif
