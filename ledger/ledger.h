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

/* (end of reports) */

#endif
