/*
 * ledger_int.h - what the files of ledger/ share and no front end sees.
 */
#ifndef HM_LEDGER_INT_H
#define HM_LEDGER_INT_H

#include "ledger.h"

/* ---- Field work (field.c, field_rules.c, stock.c) ---- */

#include <stdarg.h>

/* One value of a verb being run: its field and its text (borrowed from the request, the table
 * or the run's own buffers). */
typedef struct verb_val {
	const hm_field_def *def;
	const char *text;
} verb_val;

#define VERB_BUFS 6

struct hm_verb_run {
	hm_ledger *l;
	const hm_verb *v;
	const hm_collection_def *cd;
	const hm_verb_req *req;
	hm_verb_result *out;
	char id[HM_ID_MAX + 1];
	verb_val vals[HM_VERB_VALUES_MAX];
	int nvals;
	char bufs[VERB_BUFS][HM_STR_MAX + 1]; /* text the rules derive */
	int nbufs;
	struct {
		hm_field_def def;
		char name[HM_NAME_MAX + 1];
	} added[8]; /* fields the county added, as resolved */
	int nadded;
};

/* The text given for field, or NULL. */
const char *verb_text(const struct hm_verb_run *x, const char *field);
/* Set (or replace) field to text (which must outlive the run). */
hm_err verb_set(struct hm_verb_run *x, const char *field, const char *text);
/* verb_set unless field has a value already. */
hm_err verb_default(struct hm_verb_run *x, const char *field, const char *text);
/* A buffer of HM_STR_MAX + 1 bytes for derived text; a rule takes VERB_BUFS at most. */
char *verb_scratch(struct hm_verb_run *x);
/* Refuse: the reason through hm_node_fail; usage marks a malformed request. Returns err. */
hm_err verb_fail(struct hm_verb_run *x, hm_err err, bool usage, const char *fmt, ...)
    HM_PRINTF(4, 5);
/* The note the clerk sees with the result. */
void verb_note(struct hm_verb_run *x, const char *fmt, ...) HM_PRINTF(2, 3);
/* The record coll/id, or HM_ERR_NOT_FOUND saying "unknown WHAT 'id'". *out owned. */
hm_err verb_need(struct hm_verb_run *x, const char *coll, const char *id, const char *what,
                 hm_record **out);

/* The verb table (field_rules.c). */
extern const hm_verb hm_verb_table[];
extern const size_t hm_verb_table_len;

#endif
