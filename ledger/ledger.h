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

/* A verb of field work (`stock issue`, `followup add`): one row of a table that says which
 * collection it writes, which fields its positional arguments fill, which values it fixes (a
 * stock movement's kind), and which rule runs before the write (an episode's end may not precede
 * its start; a count becomes the correction against the stock on hand). Any other field of the
 * collection that hm_verb_accepts may be given too. The table is static: every pointer borrowed
 * for the life of the program. */
struct hm_verb_run; /* the state of one verb being run (field.c) */
enum {
	HM_VERB_DAYS = 1,   /* takes a number of days (episode start, episode extend) */
	HM_VERB_TO = 2,     /* takes a new planned end (episode extend) */
	HM_VERB_REJECT = 4, /* takes a rejection (tip verify) */
};
typedef struct hm_verb {
	const char *cmd, *sub;  /* "stock", "issue" */
	const char *collection; /* what it writes */
	const char *prefix;     /* id prefix of a new record; NULL: edits the record req->id */
	const char *pos[3];     /* fields the positional arguments fill, in order */
	int npos;
	const char *fixed[2][2]; /* {field, value} the verb sets itself */
	unsigned flags;          /* HM_VERB_* */
	hm_err (*rule)(struct hm_verb_run *run);
	const char *summary; /* one line */
	const char *args;    /* its positionals as a usage line shows them ("ITEM QUANTITY") */
	const char *more;    /* what it does, in a few lines ending in "\n"; may be NULL */
} hm_verb;

/* Every verb, in the table's order (*count set). Never fails. */
const hm_verb *hm_verbs(size_t *count);
/* The verb cmd sub ("stock", "issue"), or NULL. */
const hm_verb *hm_verb_find(const char *cmd, const char *sub);
/* Whether v takes f from its caller: not a counter, not a value v fixes, not one the ledger
 * derives (id_hash, name_seen, id_number_seen). */
bool hm_verb_accepts(const hm_verb *v, const hm_field_def *f);

/* One value given to a verb: a field of its collection (or one the county added) and its text,
 * as typed. Both borrowed. */
typedef struct hm_verb_value {
	const char *field;
	const char *text;
} hm_verb_value;

/* What a caller asks of a verb. Every pointer borrowed for the call; any may be NULL. */
typedef struct hm_verb_req {
	const char *id; /* the record to edit (verbs without a prefix; required), or the id of the
	                 * new record (NULL: a new time-ordered id) */
	const hm_verb_value *values; /* the positionals' and the options' values */
	size_t nvalues;
	const char *days; /* HM_VERB_DAYS: a whole number of days, 1 to 365 */
	const char *to;   /* HM_VERB_TO: the new planned end */
	bool reject;      /* HM_VERB_REJECT */
} hm_verb_req;

/* What a verb did, or why it refused. */
typedef struct hm_verb_result {
	char id[HM_ID_MAX + 1]; /* the record written */
	hm_changeset_info info; /* its change set */
	char note[512];    /* one line to show the clerk ("note: ...", "warning: ..."), or "" */
	char warning[512]; /* a warning that is not part of the output ("" when none) */
	bool usage;        /* on a refusal: the request itself is malformed (a missing or
	                    * ill-formed argument), not refused by a rule of the ledger */
} hm_verb_result;

#define HM_VERB_VALUES_MAX 48

/* Check each value of req against its field's type and the ledger's rules (hm_ledger_check),
 * without a node: what can be said before anything is opened. Fields the schema does not name
 * are left to hm_verb_run (they may be fields the county added). Errors: HM_ERR_TYPE (a value),
 * HM_ERR_INVALID (too many values), with the reason in why (cut to cap). */
hm_err hm_verb_check(const hm_verb *v, const hm_verb_req *req, char *why, size_t cap) HM_MUST_CHECK;

/* Run verb v on l: resolve the values (fields the county added included), apply the verb's rule
 * (defaults such as today's date, the person's village, the active episode; the checks of
 * field work), check every value, and write them as one change set. *out says what was written
 * and the note the clerk should see. Errors (nothing written; reason in
 * hm_node_errmsg(l->node), out->usage set when the request is malformed): HM_ERR_NOT_FOUND (an
 * unknown person, episode, tip, site or store), HM_ERR_EXISTS (the new id is taken),
 * HM_ERR_TYPE (a value), HM_ERR_INVALID (a missing or bad argument, a rule refused it),
 * HM_ERR_SCHEMA (no such field), and those of hm_write_commit. */
hm_err hm_verb_run(hm_ledger *l, const hm_verb *v, const hm_verb_req *req,
                   hm_verb_result *out) HM_MUST_CHECK;

/* The ledger's one rule for a reference to a person: HM_OK when person/id exists on this node
 * (then *out, when out is not NULL, is the record: release with hm_record_free), else
 * HM_ERR_NOT_FOUND saying so with how to register or find them, or the read's error. */
hm_err hm_ledger_need_person(hm_ledger *l, const char *id, hm_record **out) HM_MUST_CHECK;

/* Stock on hand of item at store: the sum of every movement (received, counted corrections
 * and transfers in, less issued, consumed and transfers out; requests and interceptions count
 * nothing). The one computation the verbs and the supplies report share. Errors: those of
 * hm_node_list. */
hm_err hm_stock_on_hand(hm_ledger *l, const char *item, const char *store,
                        int64_t *out) HM_MUST_CHECK;
/* Whether store names a site of kind store on this node: HM_OK, or HM_ERR_NOT_FOUND with the
 * known stores listed in the reason ("unknown store 'x' (known: a, b; add one with `hamlet
 * site add --kind store`)"), or a read's error. */
hm_err hm_stock_store_check(hm_ledger *l, const char *store) HM_MUST_CHECK;

/* The resident ID number's check (GB 11643): 18 characters, digits, a birth date and the check
 * character. Errors: HM_ERR_INVALID, the reason in *why (static). */
hm_err hm_idnum_check(const char *s, const char **why) HM_MUST_CHECK;

/* The ledger's rules for a value a person enters, beyond its type: one of the field's words,
 * a valid resident ID number, a body temperature within HM_TEMP_MIN..HM_TEMP_MAX, no negative
 * counts (a stock movement's quantity may be negative: a count's correction). Enforced where
 * people type (the verbs, CSV import, `put`), never on change sets received: a newer version's
 * words must not be refused. Errors: HM_ERR_TYPE, what is expected in *why (static or the
 * field's help). */
#define HM_AMOUNT_MAX 1000000000000LL /* counts, quantities, amounts: 10^12 */
#define HM_TEMP_MIN   34.0
#define HM_TEMP_MAX   43.0
hm_err hm_ledger_check(const hm_collection_def *c, const hm_field_def *f, const hm_value *v,
                       const char **why) HM_MUST_CHECK;
/* Whether text is one of the words a text field allows (its help is "a|b|c"); true for a field
 * with no list. */
bool hm_field_word_ok(const hm_field_def *f, const char *text);

/* (end of field work) */

/* ==== Persons: find, show, duplicates, merge and unmerge; purge (person.c, purge.c) ==== */

/* Whether region may filter this node's persons: HM_OK when it is a region (else
 * HM_ERR_INVALID), overlaps the node's own region (else HM_ERR_NOT_FOUND: "outside this node's
 * region"), and, when it lies below the node's region, holds the village of at least one person
 * here (else HM_ERR_NOT_FOUND: "no village in it is known here"). Reason in hm_node_errmsg. */
hm_err hm_person_region_check(hm_ledger *l, const char *region) HM_MUST_CHECK;

/* What `person find` asks; every member may be NULL (no condition). All borrowed. */
typedef struct hm_person_query {
	const char *text;    /* held in the id, code, name or phone */
	const char *village; /* a region that holds the person's village (hm_person_region_check) */
	const char *category;  /* exactly */
	const char *compound;  /* exactly */
	const char *id_number; /* found by the keyed hash of the number, never compared in clear */
} hm_person_query;

/* Called for each person found, in the node's order; the record is borrowed for the call. A
 * non-zero return stops the search (and is not an error). */
typedef int (*hm_person_cb)(void *arg, const hm_record *person);

/* Find persons matching every condition of q; *count (may be NULL) says how many were passed
 * to cb (cb may be NULL: count only). Errors: HM_ERR_INVALID (a malformed ID number or region),
 * HM_ERR_NOT_FOUND (a region outside this node or unknown here), HM_ERR_NOT_FOUND from
 * hm_node_id_hash (the node lacks the county's key), those of hm_node_list. */
hm_err hm_person_find(hm_ledger *l, const hm_person_query *q, hm_person_cb cb, void *arg,
                      size_t *count) HM_MUST_CHECK;

/* The records of collection coll ("return", "exposure", "episode" or "followup") that name
 * person (an exposure as its source or its contact), each passed to cb (borrowed for the call).
 * *count (may be NULL) set. Errors: HM_ERR_SCHEMA for another collection, those of
 * hm_node_list. */
hm_err hm_person_related(hm_ledger *l, const char *person, const char *coll, hm_person_cb cb,
                         void *arg, size_t *count) HM_MUST_CHECK;

/* An open question about a person's identity: a name or ID number two stations wrote at once,
 * whose loser nobody has decided yet (nobody wrote the field since knowing both values). The
 * question of a station that wrote again since is its latest value only. */
typedef struct hm_identity_question {
	const char *id;        /* the person; borrowed for the callback */
	const char *field;     /* "name" or "id_number"; borrowed for the callback */
	const hm_value *other; /* the value that lost; borrowed for the callback */
	hm_node_id from;       /* the station that wrote it */
} hm_identity_question;

typedef int (*hm_identity_cb)(void *arg, const hm_identity_question *q);
/* Each open identity question about person, to cb; *count (may be NULL) set. Errors: those of
 * hm_node_conflicts and hm_node_get, HM_ERR_NOMEM. */
hm_err hm_person_questions(hm_ledger *l, const char *person, hm_identity_cb cb, void *arg,
                           size_t *count) HM_MUST_CHECK;

/* A person as duplicates are found: id, keyed ID hash, village. */
typedef struct hm_person_key {
	char id[HM_ID_MAX + 1];
	char hash[2 * HM_ID_HASH_BYTES + 1];
	char village[HM_REGION_MAX + 1];
} hm_person_key;

/* Called for each group of persons registered more than once (the same keyed ID hash, none
 * merged away), members[0..n) in id order (n >= 2; borrowed for the call). The first is the
 * one to keep in a merge proposal. */
typedef int (*hm_dups_cb)(void *arg, const hm_person_key *members, size_t n);
/* Every group of duplicates, ordered by hash; *groups (may be NULL) set. Errors: HM_ERR_NOMEM,
 * those of hm_node_list. */
hm_err hm_person_dups(hm_ledger *l, hm_dups_cb cb, void *arg, size_t *groups) HM_MUST_CHECK;

/* What a merge or unmerge wrote. */
typedef struct hm_merge_result {
	char id[HM_ID_MAX + 1]; /* the merge record: "m-KEEP-DROP" */
	hm_changeset_info info;
} hm_merge_result;

/* Record that person drop is the same person as keep (undo: that they are not, after all),
 * placed in the smallest region holding both villages; nothing is deleted. A person is merged
 * into one other at most, and never into someone merged away. reason may be NULL. Errors:
 * HM_ERR_INVALID (keep and drop the same, ids too long, drop already merged elsewhere, keep
 * merged away), HM_ERR_NOT_FOUND (an unknown person; an unmerge of persons never merged), and
 * those of a write. */
hm_err hm_person_merge(hm_ledger *l, const char *keep, const char *drop, const char *reason,
                       bool undo, hm_merge_result *out) HM_MUST_CHECK;

/* A purge: the persons whose monitoring ended before a date (every episode of theirs has an end,
 * before it) and who still hold personal data. Release with hm_purge_plan_release. */
typedef struct hm_purge_person {
	char id[HM_ID_MAX + 1];
	char village[HM_REGION_MAX + 1];
} hm_purge_person;

typedef struct hm_purge_plan {
	char before[11];
	hm_purge_person *v; /* owned; ordered by village, then id */
	size_t n;
} hm_purge_plan;

/* Who a purge before date would clear. Errors: HM_ERR_INVALID (not a date YYYY-MM-DD; a date
 * after today), HM_ERR_NOMEM, those of hm_node_list. */
hm_err hm_purge_plan_make(hm_ledger *l, const char *before, hm_purge_plan *out) HM_MUST_CHECK;
/* Clear every personal field (those the schema marks HM_F_PII) of each person of plan and set
 * their `purged` date: in writes of at most HM_PURGE_REGIONS villages each, each all or
 * nothing. *writes is how many were made (also on failure: those stand; run the purge again to
 * finish). Errors: those of a write. */
#define HM_PURGE_REGIONS 32
hm_err hm_purge_apply(hm_ledger *l, const hm_purge_plan *plan, size_t *writes) HM_MUST_CHECK;
/* Frees plan->v; accepts a zeroed plan. */
void hm_purge_plan_release(hm_purge_plan *plan);

/* ---- The county's settings (settings.c) ---- */

/* A setting the county may set: its name, its default and what it means. Static. */
typedef struct hm_setting_def {
	const char *name, *dflt, *meaning;
} hm_setting_def;

/* Every known setting (*count set). Never fails. */
const hm_setting_def *hm_ledger_settings(size_t *count);
/* Whether value is good for setting name. Errors: HM_ERR_SCHEMA (no such setting),
 * HM_ERR_INVALID (a bad value); the reason in why (cut to cap). */
hm_err hm_ledger_setting_check(const char *name, const char *value, char *why,
                               size_t cap) HM_MUST_CHECK;
/* Check and set one (on the county: one change set that reaches every node). info may be NULL.
 * Errors: those of hm_ledger_setting_check (reason in hm_node_errmsg), of hm_node_set_setting. */
hm_err hm_ledger_setting_set(hm_ledger *l, const char *name, const char *value,
                             hm_changeset_info *info) HM_MUST_CHECK;
/* Each setting the county changed, as (name, value) to cb (borrowed for the call); *count (may
 * be NULL) set. Errors: those of hm_node_list. */
typedef int (*hm_setting_cb)(void *arg, const char *name, const char *value);
hm_err hm_ledger_setting_list(hm_ledger *l, hm_setting_cb cb, void *arg,
                              size_t *count) HM_MUST_CHECK;

/* (end of persons) */

/* ==== CSV: the reader (bytes to rows) and import (csv.c, import.c) ==== */

/* (end of CSV) */

/* ==== Reports: each report as a data model the front ends render (report*.c) ==== */

/* (end of reports) */

#endif
