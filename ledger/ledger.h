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
#include <stdio.h>

#include <jansson.h>

#include "node.h"
#include "sync.h"

/* ---- The ledger's context ---- */

#define HM_LEDGER_NORM_SLOTS 64 /* rewritten values a ledger keeps (hm_ledger_value_parse) */

/* The clock of a ledger: milliseconds since the Unix epoch. */
typedef uint64_t (*hm_ledger_clock)(void *arg);

/* What reports read, kept between reports (report_keep.c): for a front end that builds many
 * over one node (the web interface), each report then reads only what changed since the last.
 * One per node, used by one thread at a time. Past max_bytes of what it holds, it turns itself
 * off (stats: off) and reports read the store again. Errors: HM_ERR_NOMEM. */
typedef struct hm_report_keep hm_report_keep;
hm_err hm_report_keep_new(size_t max_bytes, hm_report_keep **out) HM_MUST_CHECK;
void hm_report_keep_free(hm_report_keep *keep);
typedef struct hm_report_keep_stats {
	size_t loads; /* collections read whole */
	size_t added; /* follow-ups taken one by one */
	size_t put;   /* records of the other collections read again one by one */
	size_t folds; /* folds of old follow-ups made (one per day asked, while kept) */
	bool off;     /* turned off past its bytes */
} hm_report_keep_stats;
void hm_report_keep_stats_get(const hm_report_keep *keep, hm_report_keep_stats *out);
/* Each region a record the keep holds is placed in (every village with a record, once the
 * reports have read their collections) to cb, in no order, a region maybe more than once (one
 * per collection). keep may be NULL: none. */
void hm_report_keep_regions(const hm_report_keep *keep, void (*cb)(void *ctx, const char *region),
                            void *ctx);

typedef struct hm_ledger {
	hm_node *node;         /* borrowed; open for as long as the ledger is used */
	hm_report_keep *keep;  /* may be NULL (every report reads the store); borrowed */
	hm_ledger_clock clock; /* may be NULL: the system clock plus clock_offset_ms */
	void *clock_arg;
	int64_t clock_offset_ms; /* added to the system clock (tests, a station's known skew) */
	/* Who reads and exports, for the access log: a person's name in the web interface; may
	 * be NULL (the station itself, as the command line does). */
	const char *actor;
	/* Storage for values hm_ledger_value_parse rewrites (CSV section). */
	char norm[HM_LEDGER_NORM_SLOTS][24];
	unsigned nnorm;
} hm_ledger;

/* A ledger over node with the system clock. Never fails. */
void hm_ledger_init(hm_ledger *l, hm_node *node);

/* ---- Time, dates and new ids ---- */

/* Now, by the ledger's clock. Never fails. */
uint64_t hm_ledger_now_ms(const hm_ledger *l);
/* Today as YYYY-MM-DD in the station's local time. Never fails. */
void hm_ledger_today(const hm_ledger *l, char out[11]);
/* The slot of a check taken at time t (YYYY-MM-DDTHH:MM...): "morning" before 12:00, else
 * "evening"; NULL when t holds no hour. hm_ledger_slot_now: of a check taken now, by the
 * ledger's clock in the station's time zone. */
const char *hm_followup_slot(const char *t);
const char *hm_ledger_slot_now(const hm_ledger *l);
/* The longest window a report takes (--days), and the longest a period of isolation or
 * monitoring is given by its days (episode start --days). */
#define HM_REPORT_DAYS_MAX  3660
#define HM_EPISODE_DAYS_MAX 365
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
/* Whether f is a field the ledger writes itself (counters, id_hash, purged, counted_as, the
 * *_seen stamps): no verb and no import takes it from a clerk. The one list. */
bool hm_ledger_field_derived(const hm_field_def *f);
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
	/* person add and edit: a person this node holds already with the same keyed ID hash (a
	 * possible duplicate, also said in note), or "" */
	char same_person[HM_ID_MAX + 1];
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
/* How a movement changes stock on hand: +1, -1 or 0 per unit, at its store, or (at_to_store)
 * at the store a transfer goes to. The one rule hm_stock_on_hand and the supplies report sum by.
 * Never fails; an unknown movement counts nothing. */
int hm_stock_sign(const char *movement, bool at_to_store);
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
/* Each open identity question about person (NULL: about every person), to cb; *count (may be
 * NULL) set. Errors: those of hm_node_conflicts and hm_node_get, HM_ERR_NOMEM. */
hm_err hm_person_questions(hm_ledger *l, const char *person, hm_identity_cb cb, void *arg,
                           size_t *count) HM_MUST_CHECK;

/* A person's page (person_show.c): the person p (read by the caller, so that it can say "unknown
 * person" and log a reveal first), the records that name them in the order journeys (return),
 * contacts both ways (exposure), episodes (episode), follow-ups (followup), and the open
 * identity questions, personal fields masked when mask is set. hm_person_show_json: one
 * document {person, return: [...], exposure, episode, followup, open_identity_questions:
 * [{field, other_value, from}]} into *out (release with json_decref; NULL on failure).
 * hm_person_show_write: the text of `hamlet person show` to f (borrowed; each part under its
 * title, "(none)" for an empty one). p is borrowed. Errors: those of hm_person_related and
 * hm_person_questions, HM_ERR_NOMEM; the reason in hm_node_errmsg(l->node). */
hm_err hm_person_show_json(hm_ledger *l, const hm_record *p, bool mask, json_t **out) HM_MUST_CHECK;
hm_err hm_person_show_write(hm_ledger *l, const hm_record *p, bool mask, FILE *f) HM_MUST_CHECK;
/* The persons hm_person_find finds for q, as a search's rows: id, name, category, status, village,
 * compound (personal fields masked when mask is set); their number into *count.
 * hm_person_find_json: a JSON array of {id, name, category, status, village, compound} (null for
 * a field the person lacks) into *out (release with json_decref; NULL on failure).
 * hm_person_find_write: one line each to f, the id padded to 22 columns, the fields two spaces
 * apart, "-" for one the person lacks. Errors: those of hm_person_find, HM_ERR_NOMEM. */
hm_err hm_person_find_json(hm_ledger *l, const hm_person_query *q, bool mask, json_t **out,
                           size_t *count) HM_MUST_CHECK;
hm_err hm_person_find_write(hm_ledger *l, const hm_person_query *q, bool mask, FILE *f,
                            size_t *count) HM_MUST_CHECK;

/* A person as duplicates are found: id, keyed ID hash, village. */
typedef struct hm_person_key {
	char id[HM_ID_MAX + 1];
	char hash[2 * HM_ID_HASH_BYTES + 1];
	char village[HM_REGION_MAX + 1];
} hm_person_key;

/* Called for each group of persons registered more than once (the same keyed ID hash, none
 * merged away; the first with those not kept apart from it, hm_person_apart, then the same of
 * those kept apart from it), members[0..n) in id order (n >= 2; borrowed for the call). The
 * first is the one to keep in a merge proposal. */
typedef int (*hm_dups_cb)(void *arg, const hm_person_key *members, size_t n);
/* Every group of duplicates, ordered by hash; *groups (may be NULL) set. Errors: HM_ERR_NOMEM,
 * those of hm_node_list. */
hm_err hm_person_dups(hm_ledger *l, hm_dups_cb cb, void *arg, size_t *groups) HM_MUST_CHECK;
/* The groups of hm_person_dups as merge proposals; their number into *groups.
 * hm_person_dups_json: a JSON array of groups, each an array of {id, village}, into *out
 * (release with json_decref; NULL on failure). hm_person_dups_write: per group "same ID number:
 * ID (VILLAGE) ..." and a line "  proposal: hamlet person merge KEEP DROP" for each other
 * member, to f; "no person is registered twice" when there is no group. Errors: those of
 * hm_person_dups, HM_ERR_NOMEM. */
hm_err hm_person_dups_json(hm_ledger *l, json_t **out, size_t *groups) HM_MUST_CHECK;
hm_err hm_person_dups_write(hm_ledger *l, FILE *f, size_t *groups) HM_MUST_CHECK;

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
/* Record that keep and drop, proposed as one person, are two: the pair is no longer proposed by
 * hm_person_dups (in either order), and a merge of them in force is undone: their record
 * m-KEEP-DROP (or m-DROP-KEEP when only that one exists; out->id names it) says apart, and so
 * does the one named the other way round when both exist. A later merge says merged (the
 * other way round's record undone, as an unmerge undoes both), so the pair's records never say
 * two things. A station whose hamlet predates
 * "apart" reads it as no merge and still proposes the pair. reason may be NULL. Errors:
 * HM_ERR_INVALID (the same person, ids too long), HM_ERR_NOT_FOUND (an unknown person), and
 * those of a write. */
hm_err hm_person_apart(hm_ledger *l, const char *keep, const char *drop, const char *reason,
                       hm_merge_result *out) HM_MUST_CHECK;

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
/* What a purge of plan p did (writes made by hm_purge_apply), or with dry would do: JSON
 * {persons: [ID...], purged, dry_run, writes} (a new reference; NULL when memory ran out), or
 * text to f: "would purge ID" per person and the count, "nobody to purge: ...", or "purged the
 * personal fields of N persons (N writes)". p and f are borrowed. */
json_t *hm_purge_json(const hm_purge_plan *p, bool dry, size_t writes);
void hm_purge_write(const hm_purge_plan *p, bool dry, size_t writes, FILE *f);
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
/* The settings the county changed, as the front ends show them: a JSON object {NAME: VALUE}
 * into *out (release with json_decref; NULL on failure), or a line "NAME VALUE" each (the name
 * padded to 20 columns) to f, "(no setting changed: every default applies)" when none was.
 * Errors: those of hm_ledger_setting_list, HM_ERR_NOMEM. */
hm_err hm_ledger_settings_json(hm_ledger *l, json_t **out) HM_MUST_CHECK;
hm_err hm_ledger_settings_write(hm_ledger *l, FILE *f) HM_MUST_CHECK;

/* (end of persons) */

/* ==== CSV: the reader (bytes to rows) and import (csv.c, import.c) ==== */

/*
 * The clerk's own words (words.c). A clerk types, and a spreadsheet exports, what the schema
 * stores in its own words: 男 for male, 上门 for visit, 2026/12/6 for 2026-12-06. One table
 * (docs/ledger.md lists it) gives each allowed word of a field its Chinese words and each
 * importable field its Chinese column header; every front end reads and shows the same.
 */

/* Values hm_ledger_value_parse rewrote are kept in the ledger for this many calls. */
#define HM_LEDGER_NORM_MAX HM_LEDGER_NORM_SLOTS

/* Text a clerk typed for field f into out, as hm_value_parse does and with the same
 * parameters, plus: a Chinese word of the field's allowed words (男, 上门, 返乡人员) becomes the
 * stored word (male, visit, returnee); a date as a spreadsheet writes it (2026/12/6, 2026-12-6,
 * 2026.12.6, 2026年12月6日, with or without a time after it) becomes YYYY-MM-DD for a date field;
 * the same with a time (2026/12/6 8:00, 2026-12-06 08:00:30) becomes YYYY-MM-DDTHH:MM[:SS] for a
 * time field. Words are not checked against the field's list: hm_ledger_check does that.
 * out's string borrows text, a static word, or l's storage for a rewritten value (valid for the
 * next HM_LEDGER_NORM_MAX calls on l; l may then not be shared between threads).
 * Errors: HM_ERR_TYPE with what is expected in *why (static), as hm_value_parse;
 * HM_ERR_INVALID with a whole sentence in *why when the text is something a spreadsheet did to
 * the value (an ID number turned into a number, 1.10105E+17). l->node is not used and may be
 * NULL. */
hm_err hm_ledger_value_parse(hm_ledger *l, const hm_field_def *f, const char *text, hm_value *out,
                             const char **why) HM_MUST_CHECK;
/* The first Chinese word of word, an allowed word of field f ("male" of sex: "男"), or NULL
 * when the table has none. Static. */
const char *hm_ledger_word_zh(const hm_field_def *f, const char *word);
/* hm_ledger_word_zh of the first field named field (of any collection) that allows word: for a
 * report's column, which names a field but not its collection ("status" of a shipment:
 * "on_road" is "在途"). NULL when no field of that name allows word. Static. */
const char *hm_ledger_field_word_zh(const char *field, const char *word);
/* The Chinese column header of field in collection cd ("姓名" for person.name; "编号" for
 * field "id", the record id), or NULL when the table has none. Static. */
const char *hm_ledger_header_zh(const hm_collection_def *cd, const char *field);
/* The collection whose record field f of cd names by id ("person" for followup.person,
 * exposure.source), or NULL when it names none. Static. */
const char *hm_ledger_field_refers(const hm_collection_def *cd, const hm_field_def *f);
/* The record coll/id, which a new record is about to name (a follow-up's person): HM_OK with
 * the record in *out (release with hm_record_free; out may be NULL to check only).
 * Errors: HM_ERR_NOT_FOUND when it does not exist, with a reason a clerk can act on ("unknown
 * person 'ghost' (register them ...)"); HM_ERR_INVALID when id is not an id (hm_id_check);
 * store errors. */
hm_err hm_ledger_need_record(hm_ledger *l, const char *coll, const char *id,
                             hm_record **out) HM_MUST_CHECK;

/* Personal text s[0..n) masked into buf (NUL-terminated, cap > 0; its length returned): a phone
 * or ID number keeps its first 3 and last 2 characters, other text its first character, then a
 * star per character. Never fails. */
size_t hm_ledger_mask(const char *s, size_t n, char *buf, size_t cap);

/*
 * The CSV reader (csv.c): RFC 4180 text to rows, a pure function over a buffer the caller owns,
 * decoded in place. Quoted fields may hold separators, doubled quotes and line ends (kept as
 * "\n"); a row ends at CRLF, LF or a lone CR; a UTF-8 BOM is skipped; spaces and tabs around a
 * value are dropped. Each row says the physical line it starts on, so a problem is named by the
 * line a person sees in an editor.
 */
#define HM_CSV_COLS_MAX HM_FIELDS_MAX

typedef struct hm_csv_reader {
	char *buf; /* borrowed, written in place; buf[len] must be writable */
	size_t len, pos;
	size_t line; /* the physical line of pos, from 1 */
} hm_csv_reader;

typedef struct hm_csv_row {
	size_t line;                 /* the physical line the row starts on */
	size_t ncols;                /* cells in the row, counted past HM_CSV_COLS_MAX */
	char *cell[HM_CSV_COLS_MAX]; /* the first ones, NUL-terminated and trimmed, in buf */
	const char *malformed;       /* why the row is not well-formed CSV (static), or NULL */
} hm_csv_row;

/* What the bytes of a file are, before they are read as rows. */
typedef enum hm_csv_text {
	HM_CSV_UTF8 = 0, /* UTF-8 text (with or without a BOM): readable */
	HM_CSV_UTF16,    /* a UTF-16 BOM */
	HM_CSV_BINARY,   /* a NUL byte */
	HM_CSV_NOT_UTF8, /* bytes that are not UTF-8: a local code page such as GBK */
} hm_csv_text;

/* What buf[0..len) holds; *line (may be NULL) is the line of the first bad byte (0 for
 * HM_CSV_UTF16 and HM_CSV_UTF8). Never fails. */
hm_csv_text hm_csv_check(const char *buf, size_t len, size_t *line);
/* Start reading buf[0..len) (buf[len] must be writable: the last cell's NUL may go there),
 * skipping a UTF-8 BOM. buf is borrowed and written by hm_csv_next; it must outlive the rows.
 * The text is not checked: call hm_csv_check first. Never fails. */
void hm_csv_reader_init(hm_csv_reader *r, char *buf, size_t len);
/* The next row into row: 1 with a row, 0 at the end of the text, -1 when the text ends inside a
 * quoted field (row->line says where that row starts). row's cells point into the buffer and
 * stay valid while it does. Never fails otherwise. */
int hm_csv_next(hm_csv_reader *r, hm_csv_row *row);
/* Whether row is a blank line or a spreadsheet's row of empty cells: not a row of a register. */
bool hm_csv_row_blank(const hm_csv_row *row);

/* GBK (read as GB18030, its superset) to UTF-8: *out (release with free) and *outlen, with one
 * spare byte at (*out)[*outlen]. Errors: HM_ERR_INVALID when a byte sequence is not GBK, its
 * line in *bad_line; HM_ERR_NOMEM. */
hm_err hm_csv_from_gbk(const char *buf, size_t len, char **out, size_t *outlen,
                       size_t *bad_line) HM_MUST_CHECK;
/* Whether s[0..n), valid UTF-8, looks like GBK bytes read as UTF-8 (谢伟 read as "лΰ"): it holds
 * characters a Chinese register never does (Greek, Cyrillic, Latin letters but those of pinyin,
 * private use) and its bytes are good GBK. as_gbk (may be NULL) gets the text as GBK reads it,
 * cut to cap. */
bool hm_csv_looks_gbk(const char *s, size_t n, char *as_gbk, size_t cap);

/*
 * Import (import.c): a station's register in CSV into a collection. The header row names the
 * columns: a field of the collection by its name or its Chinese header (hm_ledger_header_zh), a
 * --map alias, "id" for the record id, or "-" (skipped). Every row is checked by the ledger's
 * rules (hm_ledger_value_parse, hm_ledger_check, required fields of a new record, valid unique
 * ids, append-only records, the node's region, an episode's end not before its start, the
 * persons a record names existing) before anything is written; the good rows go into one write
 * (one change set, or consecutive ones when it is large), committed only when no row is bad or
 * with skip_bad. A person's id_number also sets id_hash.
 */
typedef struct hm_csv_map {
	const char *from, *to; /* a column and the field it is ("-": skipped); borrowed */
} hm_csv_map;

/* Progress while rows are checked: rows so far; done once at the end when it was called. */
typedef void (*hm_csv_progress)(void *arg, size_t rows, bool done);
#define HM_CSV_PROGRESS 10000u /* rows between progress calls */

typedef struct hm_csv_import_opts {
	const char *name;      /* the file, as messages name it; may be NULL ("the file") */
	const hm_csv_map *map; /* may be NULL when nmap is 0 */
	size_t nmap;
	const char *id_column;    /* the column of the record id; may be NULL ("id" or mapped) */
	bool dry_run;             /* check only: nothing is written */
	bool skip_bad;            /* write the good rows even when some are bad */
	bool utf8_known;          /* the text is known to be UTF-8: no GBK look check */
	hm_csv_progress progress; /* may be NULL */
	void *progress_arg;
} hm_csv_import_opts;

typedef struct hm_csv_bad {
	size_t line;  /* the physical line of the row */
	char *field;  /* the field, or NULL for the row as a whole */
	char *column; /* the header's name for field when it differs, else NULL */
	char *reason; /* what is wrong, with the value quoted (personal values masked) */
} hm_csv_bad;

/* The problems an import lists, at most: a file of a million bad lines is counted, not kept. */
#define HM_CSV_BAD_MAX 1000

/* What an import found and did. */
typedef enum hm_csv_verdict {
	HM_CSV_WRITTEN = 1, /* the good rows were committed */
	HM_CSV_CHECKED,     /* a dry run: nothing written */
	HM_CSV_REFUSED,     /* some rows are bad and no skip_bad: nothing written */
	HM_CSV_NOTHING,     /* no row gives a value: nothing to write */
	HM_CSV_TOO_LARGE,   /* the good rows exceed one write: nothing written */
} hm_csv_verdict;

typedef struct hm_csv_result {
	const hm_collection_def *cd; /* static */
	hm_csv_verdict verdict;      /* 0 when the import failed before every row was checked */
	size_t rows, good, bad_rows; /* rows read (not blank), good and bad */
	size_t written;              /* good rows that set a value (an id alone changes nothing) */
	hm_csv_bad *bad; /* owned: the problems, in line order, HM_CSV_BAD_MAX at most */
	size_t nbad;
	size_t bad_more;              /* problems found beyond those listed */
	uint64_t first_seq, last_seq; /* the change sets written (HM_CSV_WRITTEN) */
	hm_hash last_id;
	uint64_t body;           /* bytes the good rows take in a change set, at most */
	uint64_t rows_per_write; /* HM_CSV_TOO_LARGE: at most this many rows in one file */
	/* A note for the clerk, or "": the node lacks the key of person.id_hash, so those rows
	 * went in without it. */
	char note[256];
	bool gbk; /* the import failed because the text looks like GBK read as UTF-8 */
} hm_csv_result;

/* Import buf[0..len), CSV text (hm_csv_check is applied), into collection coll of l's node.
 * buf is borrowed and written in place; buf[len] must be writable. res is filled as far as the
 * import got, also on failure; release it with hm_csv_result_release. HM_OK means every row was
 * checked: res->verdict says what happened. Errors (nothing was written, the reason in
 * hm_node_errmsg(l->node)): HM_ERR_SCHEMA (an unknown or system collection, a column that is no
 * importable field), HM_ERR_INVALID (text that is not UTF-8, looks like GBK (res->gbk), a
 * header or --map that does not fit, a quoted field never closed), HM_ERR_TOO_BIG (more rows
 * than one write takes), HM_ERR_NOMEM, store errors and those of hm_write_commit. */
hm_err hm_csv_import(hm_ledger *l, const char *coll, char *buf, size_t len,
                     const hm_csv_import_opts *o, hm_csv_result *res) HM_MUST_CHECK;
/* Free what res owns; accepts a zeroed result. */
void hm_csv_result_release(hm_csv_result *res);
/* res as one JSON object (a new reference; NULL when memory ran out): collection, rows, written
 * (0 unless written), bad_rows, bad [{line, field, column, reason}], bad_not_listed, dry_run
 * (true for a checked result, and for one too large when dry_run was asked), changesets (the
 * seqs written). res is borrowed. */
json_t *hm_csv_result_json(const hm_csv_result *res, bool dry_run);
/* Whether res is a failure to report (too large, bad rows refused, a dry run that found bad
 * rows, an import that stopped before every row was checked), and then its words into buf (cap
 * bytes, NUL-terminated): "3 of 10 rows are bad: nothing was written (fix them, ...)". */
bool hm_csv_result_failure(const hm_csv_result *res, char *buf, size_t cap);
/* The summary of res as import-csv prints it to f: "dry run: 10 rows read, 9 good, 1 bad; ...",
 * "... nothing to write", or the rows written and their change sets. Nothing for a failure. */
void hm_csv_result_write(const hm_csv_result *res, FILE *f);

/* The importable fields of cd in schema order: not counters (sums of movements), not what
 * hamlet makes itself (person.id_hash, purged, the *_seen stamps). */
bool hm_csv_importable(const hm_collection_def *cd, const hm_field_def *f);
/* The header row of an empty CSV file for cd that hm_csv_import takes back as it is: a UTF-8
 * BOM (so a spreadsheet opens it as UTF-8), the id column, then each importable field, by its
 * Chinese header where the table has one, and a CRLF. Into buf (cut to cap, NUL-terminated);
 * returns the length it needs, as snprintf. */
size_t hm_csv_template(const hm_collection_def *cd, char *buf, size_t cap);

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
	hm_report_cell *cells; /* the table's ncols, owned by the report */
} hm_report_row;

typedef struct hm_report_table {
	const char *name, *title; /* static */
	const char *cols[HM_REPORT_COLS_MAX];
	size_t ncols;
	hm_report_row *rows; /* owned */
	size_t nrows, cap;
	size_t rows_more; /* data rows counted but not held (hm_report.rows_max) */
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
	size_t rows_max;               /* hm_report_params.rows: 0, every row held */
	struct hm_report_chunk *texts; /* cells and their texts, in large blocks (report_model.c) */
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
/* The bytes r holds on the heap (its tables, rows and texts): what keeping it costs. */
size_t hm_report_bytes(const hm_report *r);
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
/* Whether the next data row of a list t is held (r->rows_max): when not, it is counted in
 * t->rows_more and the caller makes nothing of it. A table whose rows are figures per region
 * (with subtotals and a total) never asks: every row is held; so is every row of a table drawn
 * as a chart (t->chart, set before its rows), whose bars are scaled against the largest. */
bool hm_report_row_wanted(hm_report *r, hm_report_table *t);
/* Whether list t holds all the rows r->rows_max lets it (a caller that knows how many rows a
 * part would make counts them in t->rows_more instead of making them). */
bool hm_report_rows_full(const hm_report *r, const hm_report_table *t);

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
	/* At most this many data rows held in each table that lists persons or events (0: all):
	 * the rest only counted (hm_report_table.rows_more), not made. For a screen that shows a
	 * window of rows; a file or a figure wants them all. */
	size_t rows;
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

/* ---- Rendering a report (report_render.c) ---- */

/* The forms a report is rendered in; each says the same figures (docs/reports.md, Formats):
 * - TEXT: aligned columns for a terminal, every value escaped as hm_text_write does;
 * - CSV: RFC 4180, one block per table headed "# NAME"; a text cell that a spreadsheet would
 *   run as a formula (= + - @ first) gets a leading '; no figure is an empty cell;
 * - JSON: one compact document and a newline, {report, region, date, parameters, tables};
 *   DEL, C1, bidi controls and line separators written as \uXXXX (hm_text_json_write); bytes
 *   that are not UTF-8 as U+FFFD; no figure is null;
 * - HTML: one self-contained page (inline CSS and SVG bars, nothing fetched), lang="zh-CN" on
 *   each element that holds Chinese, bars of a percentage drawn against 100%. */
typedef enum hm_report_format {
	HM_REPORT_FMT_TEXT = 0,
	HM_REPORT_FMT_CSV,
	HM_REPORT_FMT_JSON,
	HM_REPORT_FMT_HTML,
} hm_report_format;

/* Flags of hm_report_render. */
enum {
	/* CSV for a spreadsheet in China (Excel): a UTF-8 BOM first, so Excel reads the file as
	 * UTF-8 and not in the local code page, and each column's Chinese header where the ledger
	 * has one (the English name otherwise). With HM_REPORT_HTML_BODY, the same Chinese
	 * headers on the page; ignored by the other formats. */
	HM_REPORT_CSV_ZH = 1,
	/* HTML only (another format with it: HM_ERR_INVALID): the page's body alone, for a page
	 * that brings its own head and style sheet (the web interface, whose Content-Security-
	 * Policy refuses inline style): the parameters (<dl class="params">) and one <section>
	 * per table, with its SVG bar chart (class "chart"), its table or its tree (class
	 * "tree"); no <html>, <head>, <style>, <body> or <h1>. The classes are those of the whole
	 * page's style sheet. hm_report_render_body adds links and the caller's words. */
	HM_REPORT_HTML_BODY = 2,
	/* TEXT and HTML in the reader's words: titles and sentences through the gettext catalogue
	 * (the calling thread's locale); when that catalogue is Chinese, the columns' Chinese
	 * headers (as HM_REPORT_CSV_ZH) and the stored words of cells (returnee, home, a row's
	 * level) in Chinese, and lang="zh-CN" on the page. Without it, English as the model says
	 * it, whatever the locale. Ignored by CSV and JSON, which are data. In
	 * hm_report_html.flags (with HM_REPORT_CSV_ZH): the stored words of cells in Chinese. */
	HM_REPORT_LOCAL = 4,
};

/* Write r to f in form fmt, then flush f. r and f are borrowed for the call; nothing else is
 * written anywhere (the caller says where: a terminal, a file, a buffer). flags: 0,
 * HM_REPORT_CSV_ZH, HM_REPORT_HTML_BODY, HM_REPORT_LOCAL. Errors: HM_ERR_INVALID (an unknown fmt
 * or flag, HM_REPORT_HTML_BODY with another format than HTML, or a report that does not hold
 * all its rows (built with hm_report_params.rows: only hm_report_render_body writes a window
 * of one); nothing written),
 * HM_ERR_NOMEM (the JSON document could not be built; nothing written), HM_ERR_IO (writing to f
 * failed, errno says why; part of the report may have been written). */
hm_err hm_report_render(const hm_report *r, hm_report_format fmt, unsigned flags,
                        FILE *f) HM_MUST_CHECK;
/* How hm_report_render_body writes a report's body (HM_REPORT_HTML_BODY). Every member may be
 * zero or NULL: then the body is as HM_REPORT_HTML_BODY writes it. */
typedef struct hm_report_html {
	unsigned flags; /* 0, HM_REPORT_CSV_ZH (the columns' Chinese headers); with HM_REPORT_LOCAL
	                 * too, the stored words of cells in Chinese (on_road: 在途) */
	/* The words of the body in the page's language: a table's title, the parameters' names
	 * ("report", "region", "date", "days", ...), "none", "(a full bar is 100%)", and the
	 * ledger's own words in a cell (a row's level: "village", "township", "county",
	 * "subtotal", "total"; "yes" and "no"). Returns the word for the English text en
	 * (borrowed, valid for the call), or NULL: en as it is. */
	const char *(*word)(void *arg, const char *en);
	/* The link of text cell row, col of table t (the rows' order; a tree's label too): true
	 * with a local URL written into href (cap bytes, NUL-terminated; escaped here), or false
	 * for none. */
	bool (*link)(void *arg, const hm_report_table *t, size_t row, size_t col, char *href,
	             size_t cap);
	void *arg; /* given to word, link, first and page */
	/* A window of each table's rows, for a page that shows a long table a part at a time.
	 * rows_max 0: every row, as HM_REPORT_HTML_BODY writes them. Otherwise, of a table's rows
	 * that are not its total (HM_REPORT_ROW_TOTAL), counted in the model's order with the
	 * subtotals among them, at most rows_max from number first(arg, t) (0-based; 0 when first
	 * is NULL; past the last row: the last window). The total row is written on every window,
	 * in its place, since it sums every row of the table and not only those shown. A chart
	 * draws the data rows of the window, a full bar worth what it is worth for the whole
	 * table (so windows compare); a tree, the rows of the window. A table with more rows than
	 * rows_max gets, above and below its rows, <p class="pager"> with the word "rows %s-%s of
	 * %s" (each %s replaced: the first and last row shown, counted from 1, and how many, in
	 * groups of three digits: "rows 1-200 of 12,345") and links to the previous and next
	 * windows ("previous", "next") when page gives one: true with the local URL of the window
	 * that starts at row first written into href (cap bytes, NUL-terminated; escaped here).
	 * page NULL: no links. */
	size_t rows_max;
	size_t (*first)(void *arg, const hm_report_table *t);
	bool (*page)(void *arg, const hm_report_table *t, size_t first, char *href, size_t cap);
} hm_report_html;

/* The body of r as HM_REPORT_HTML_BODY writes it, with h's words, Chinese headers and links
 * (h may be NULL: none), to f, then flush f. Errors: HM_ERR_INVALID (an unknown flag in h, or
 * no window (h->rows_max) of a report that does not hold all its rows; nothing written),
 * HM_ERR_IO (writing to f failed). */
hm_err hm_report_render_body(const hm_report *r, const hm_report_html *h, FILE *f) HM_MUST_CHECK;
/* The ledger's Chinese for a word of a report: a column of table (NULL or "": any table), a
 * parameter's name ("depth", "fever.threshold"), a row's level ("township", "subtotal"), or
 * NULL when it has none. The same words the Chinese CSV headers and HM_REPORT_LOCAL use. Static. */
const char *hm_report_word_zh(const char *table, const char *word);
/* hm_report_render into memory: *out (NUL-terminated; release with free) and *len (may be
 * NULL) its length without the NUL, for a page or a download of known size. *out is NULL on
 * failure. Errors: as hm_report_render. */
hm_err hm_report_render_mem(const hm_report *r, hm_report_format fmt, unsigned flags, char **out,
                            size_t *len) HM_MUST_CHECK;

/* ---- Text shown to people (text.c) ----
 *
 * Every value that came from outside (a record, a change set, a peer) is escaped by one rule
 * before it reaches a terminal or a JSON document, so it can neither act on a terminal nor forge
 * a line: C0 controls, DEL, the C1 controls U+0080-U+009F, the bidi embeddings, overrides and
 * isolates U+202A-U+202E and U+2066-U+2069, the line and paragraph separators U+2028-U+2029,
 * and every byte that is not part of valid UTF-8. None of these fails. */

/* The character at s[0..n) (n > 0): its length in bytes into *len, its code point into *cp (-1
 * for a byte that starts no valid UTF-8 sequence, taken alone), and whether it is escaped. */
bool hm_text_next(const char *s, size_t n, size_t *len, int32_t *cp);
/* How text shows the escaped character at s (code point cp, from hm_text_next): \n \t \r,
 * \xHH for other C0 controls, DEL and bytes that are not UTF-8, \uHHHH for the rest. Into out
 * (NUL-terminated); returns its length. */
size_t hm_text_escape(const char *s, int32_t cp, char out[8]);
/* s[0..n) to f, each escaped character as hm_text_escape shows it. */
void hm_text_write(FILE *f, const char *s, size_t n);
/* The columns s takes on a terminal as hm_text_write writes it (East Asian wide characters take
 * two). */
size_t hm_text_width(const char *s);
/* A copy of s[0..n) with each byte that is not UTF-8 replaced by U+FFFD: NUL-terminated, its
 * length in *outlen; release with free. NULL when memory ran out. */
char *hm_text_utf8_dup(const char *s, size_t n, size_t *outlen);
/* JSON text json[0..n) (as a JSON library writes it: C0 already escaped) to f, with DEL, C1,
 * bidi controls and line separators as \uXXXX: valid JSON as they are, but never raw on a
 * terminal. */
void hm_text_json_write(FILE *f, const char *json, size_t n);
/* s[0..n) as HTML text (an element's content or a quoted attribute's value) to f: & < > " '
 * as entities, and each character hm_text_next escapes as hm_text_escape shows it, so a value
 * can neither open markup nor reorder or forge the page. The one HTML escaping of every front
 * end (the reports' HTML, the web interface). */
void hm_text_html_write(FILE *f, const char *s, size_t n);
/* s (NUL-terminated) as hm_text_write writes it. */
void hm_text_cstr(FILE *f, const char *s);
/* s as hm_text_cstr writes it, then spaces up to width columns (hm_text_width). */
void hm_text_pad(FILE *f, const char *s, size_t width);
/* p[0..n) as lower-case hex (a key, a hash); a node id's 16 bytes. */
void hm_text_hex(FILE *f, const void *p, size_t n);
void hm_text_node_id(FILE *f, const hm_node_id *id);
/* An HLC as hm_json_hlc writes it ("2026-12-06T08:00:00.000Z", "+N" for a logical count; "?"
 * when memory ran out). */
void hm_text_hlc(FILE *f, hm_hlc h);
/* COLLECTION/ID, escaped. */
void hm_text_ref(FILE *f, const char *collection, const char *id);
/* v, the value of coll.field: "(empty)" for nil, true/false, numbers as %.15g, text escaped,
 * and masked as hm_ledger_mask does when mask is set and the field is personal (HM_F_PII). */
void hm_text_value_of(FILE *f, const char *coll, const char *field, const hm_value *v, bool mask);
/* A record as the command line shows it: "COLLECTION/ID", then one line per field ("  NAME
 * VALUE", the name padded to 14 columns; the *_seen bookkeeping of identity questions left out),
 * personal fields masked when mask is set. */
void hm_text_record(FILE *f, const hm_record *r, bool mask);

/* (end of reports) */

/* ==== JSON (json.c): what the front ends show, built with jansson ==== */

/* A new JSON value (a reference the caller owns: json_decref), or NULL when memory ran out
 * (every jansson call that steals a reference takes NULL and fails). Text that is not UTF-8
 * has its bad bytes as U+FFFD; hm_json_cstr(NULL) is null. hm_json_value_of and hm_json_record
 * mask personal fields (HM_F_PII) as hm_ledger_mask does when mask is set. A node id, a hash
 * or a key is lower-case hex (hm_json_hex: at most 64 bytes); an HLC is
 * "2026-12-06T08:00:00.000Z", "+N" for a logical count; a stamp {origin, seq, hlc, time}. */
json_t *hm_json_str(const char *s, size_t n);
json_t *hm_json_cstr(const char *s);
json_t *hm_json_value(const hm_value *v);
json_t *hm_json_value_of(const char *coll, const char *field, const hm_value *v, bool mask);
json_t *hm_json_record(const hm_record *r, bool mask);
json_t *hm_json_hex(const void *p, size_t n);
json_t *hm_json_hlc(hm_hlc h);
json_t *hm_json_stamp(const hm_stamp *s);
/* v written to f compact on one line, then a newline, as every front end writes its JSON: with
 * DEL, C1, bidi controls and line separators as \uXXXX (hm_text_json_write). v is consumed (a
 * reference released) whatever the result; NULL is taken for a document that could not be made.
 * Errors: HM_ERR_NOMEM (v NULL, or the text could not be made; nothing written, errno ENOMEM),
 * HM_ERR_IO (f's error indicator is set after writing). */
hm_err hm_json_write(FILE *f, json_t *v) HM_MUST_CHECK;
/* json_dumps(v, flags), but NULL whenever an allocation failed on the way: jansson 2.14's
 * json_dumps can return a text with an object's key missing instead (it does not check one
 * append; akheron/jansson#655). Free the text with free. */
char *hm_json_dumps(const json_t *v, size_t flags);

/* What the front ends show of a node (status, records, schema, conflicts, log, audit): */
#include "ledger_show.h"

/* The station's people and their day (users.c, today.c, register.c): */
#include "ledger_station.h"

#endif
