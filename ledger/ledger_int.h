/*
 * ledger_int.h - what the files of ledger/ share and no front end sees.
 */
#ifndef HM_LEDGER_INT_H
#define HM_LEDGER_INT_H

#include "i18n.h"
#include "ledger.h"

/* ==== JSON (json.c) ==== */

/* The end of a function that builds a JSON value v for the caller: *out = v and HM_OK, or when
 * err is set, nomem (a part could not be made) or v is NULL, v released, *out NULL and the error
 * (HM_ERR_NOMEM said through hm_node_fail). */
hm_err lj_give(hm_node *n, hm_err err, bool nomem, json_t *v, json_t **out);

/* ==== Reports (report*.c): the records a report reads, held in memory, and its figures ==== */

/* The records a report needs are read once into memory (strings in one arena per collection), a
 * person registered twice is mapped onto the record kept by its merge before anything is counted,
 * and rows are grouped by the region field of the record counted. Names here start rp_. */

#define RP_FIELDS_MAX 8 /* of a collection, as many as the report_data.c's lists name */
#define RP_GROUP_VALS 24

/* A record as reports read it: small, since a report walks hundreds of thousands of them (the
 * arena's offsets in 32 bits: an arena stops at 4 GiB, out of memory). */
typedef struct rp_rec {
	uint32_t id;               /* offset of the id in the arena */
	uint32_t f[RP_FIELDS_MAX]; /* offsets of the fields asked for; 0: absent (the arena's "") */
	double x[RP_FIELDS_MAX];   /* the same fields as numbers, when they are numbers */
	const char *region;        /* the record's region field; set once loading is over */
	uint32_t region_off;
	bool in;      /* its region lies inside the region asked */
	uint16_t cut; /* bit i: field i is a text with a NUL in it, held up to the NUL */
} rp_rec;

#define RP_HIX_TWICE 0x80000000u

typedef struct rp_recs {
	const char *coll;
	const char *region_field;  /* the collection's (hm_collection_def.region_field) */
	const char *const *fields; /* NULL-terminated, at most RP_FIELDS_MAX */
	rp_rec *v;                 /* in id order, as hm_node_list gives them */
	size_t n, cap;
	char *arena;
	size_t alen, acap;
	size_t moves; /* times the arena moved (pointers into it set before are stale) */
	/* The regions in the arena, each once: offsets of them by a hash of the text, open
	 * addressing (records of one region share its text, and a pointer to it). Owned with the
	 * arena. */
	size_t *regions;
	size_t rcap, nregions;
	const char *scope;
	bool nomem;
	bool borrowed; /* v and arena belong to the report keep (report_keep.c): not freed here */
	/* By id: index + 1 of a record, open addressing (rp_recs_index); NULL: none made.
	 * RP_HIX_TWICE set: the id is held twice (two regions), which only bisection answers. */
	uint32_t *hix;
	size_t hcap;
	bool borrowed_arena; /* only the arena does (v, a window of follow-ups, is ours) */
	/* When set, a record is held only when keep says so (it may fold it into a tally). */
	bool (*keep)(void *ctx, const hm_record *r);
	void *keep_ctx;
} rp_recs;

/* The fields each report reads, by index into rp_rec.f (report_data.c lists their names). */
enum { RP_P_NAME, RP_P_VILLAGE, RP_P_CATEGORY, RP_P_COMPOUND, RP_P_HOUSEHOLD };
enum {
	RP_E_PERSON,
	RP_E_KIND,
	RP_E_REASON,
	RP_E_START,
	RP_E_END,
	RP_E_CPD,
	RP_E_PLANNED,
	RP_E_WORKER
};
enum { RP_F_PERSON, RP_F_TIME, RP_F_TEMP, RP_F_METHOD, RP_F_ACTION, RP_F_SLOT };
enum { RP_R_PERSON, RP_R_FROM, RP_R_REGISTERED };
enum { RP_X_SOURCE, RP_X_CONTACT, RP_X_DEGREE };
enum { RP_T_DATE, RP_T_FEVER };
enum { RP_S_ITEM, RP_S_STORE, RP_S_MOVEMENT, RP_S_QTY, RP_S_DATE, RP_S_TO, RP_S_SHIPMENT };
enum { RP_H_FROM, RP_H_TO, RP_H_LINES, RP_H_STATUS };
enum { RP_I_STATE, RP_I_REWARD, RP_I_PAID };
enum { RP_N_AMOUNT, RP_N_STATE, RP_N_DATE };
enum { RP_O_COMPOUND, RP_O_AUDIENCE, RP_O_DATE };
enum { RP_M_KEEP, RP_M_DROP, RP_M_STATE };

/* The collections a report reads (rp_load). */
enum {
	RP_NEED_PERSON = 1 << 0,
	RP_NEED_EPISODE = 1 << 1,
	RP_NEED_FOLLOWUP = 1 << 2,
	RP_NEED_RETURN = 1 << 3,
	RP_NEED_EXPOSURE = 1 << 4,
	RP_NEED_TALLY = 1 << 5,
	RP_NEED_TXN = 1 << 6,
	RP_NEED_SHIPMENT = 1 << 7,
	RP_NEED_TIP = 1 << 8,
	RP_NEED_PENALTY = 1 << 9,
	RP_NEED_NOTICE = 1 << 10,
};

typedef struct rp_monitored {
	const char *pid;   /* the person, through merges */
	const char *start; /* of ep */
	const rp_rec *ep;  /* the active episode it counts under */
} rp_monitored;

/* Where a follow-up's date lies against the report's date D and window (from, D]. */
enum {
	RP_FU_LE_DATE = 1 << 0, /* dated, on or before D */
	RP_FU_WINDOW = 1 << 1,  /* in the window (D included) */
	RP_FU_TODAY = 1 << 2,   /* on D */
	RP_FU_IN = 1 << 3,      /* its region lies inside the region asked (rp_rec.in) */
	RP_FU_PHONE = 1 << 4,   /* method "phone" */
	RP_FU_TEMP = 1 << 5,    /* a temperature taken: temp */
	RP_FU_TAIL = 1 << 6,    /* its time has more than tk says (seconds, a zone) */
};

/* A follow-up as the reports walk it: what they ask of it read once, in one place. */
typedef struct rp_fu_ix {
	const char *pid, *time; /* the person through merges; the time as written */
	const rp_rec *r;
	const char *region; /* r->region */
	uint64_t tk;        /* rp_time_key(time) */
	double temp;
	uint32_t run; /* in a person's first: how many follow-ups are theirs */
	uint8_t when; /* RP_FU_* */
} rp_fu_ix;

/* Strings to places: index + 1 of the first place of each key, open addressing (rp_index_*). */
typedef struct rp_index {
	uint32_t *h;
	size_t cap;
} rp_index;

typedef struct rp_strs {
	const char **v;
	size_t n, cap;
	rp_index ix; /* made by rp_strs_sort_unique, dropped by rp_strs_add */
} rp_strs;

/* A tally of one person's follow-ups, and a table of them: open addressing, power-of-two
 * capacity. */
struct rp_fold {
	char *person; /* owned */
	size_t hash;  /* of person: most probes end without a strcmp */
	char last[11];
	bool temp;
};
typedef struct rp_folds {
	struct rp_fold *v;
	size_t n, cap;
} rp_folds;

/* The collections rp_load can read: what a report needs of each, and where it goes in rp_ctx. */
typedef struct rp_coll_def {
	unsigned need; /* RP_NEED_*; 0: always (the merges) */
	const char *coll;
	const char *const *fields;
	size_t off; /* of its rp_recs in rp_ctx */
} rp_coll_def;
extern const rp_coll_def rp_colls[];
extern const size_t rp_ncolls;

typedef struct rp_ctx {
	hm_ledger *l;
	hm_node *n;
	char date[11], from[11]; /* D, and D - N: the window is (from, date] */
	/* Set from to the day before the earliest start of an episode active on D (or before D -
	 * 1), once the episodes are read: Today's window. */
	bool window_from_episodes;
	char region[HM_REGION_MAX + 1];
	long days, depth;
	const char *start; /* contacts --person */
	double threshold;
	long long reward_tip, penalty_before, penalty_after;
	char cutoff[32];
	hm_report *rep; /* borrowed: what is built */

	rp_recs person, episode, followup, ret, exposure, tally, txn, shipment, tip, penalty,
	    notice, merge;
	const char **merge_drop, **merge_keep; /* sorted by drop */
	size_t nmerge;
	rp_monitored *mon; /* sorted by pid, one per person */
	size_t nmon;
	rp_fu_ix *fu;   /* followups by person (persons in no order), each one's by time */
	rp_index fu_ix; /* each person's first in fu */
	/* Follow-ups before the window are not held: each person's are folded into one tally
	 * (the last date, whether a temperature was taken), keyed by the person as written, then
	 * by the person through merges (before_build). */
	rp_folds fold; /* borrowed from the report keep when fold_borrowed */
	bool fold_borrowed;
	struct rp_fold *before; /* by person */
	size_t nbefore;
	rp_index before_ix;
	size_t nfu;
	/* From the report keep: the person each of followup.v names (as written) as a number
	 * below npnum (equal texts, equal numbers); NULL: none given (fu is made by a hash). */
	uint32_t *fu_pnum;
	size_t npnum;
	rp_strs keys; /* key persons (category case or close), through merges */
	rp_strs cases;
} rp_ctx;

typedef struct rp_group {
	const char *region;
	double v[RP_GROUP_VALS];
} rp_group;

typedef struct rp_groups {
	rp_group *v; /* as first added; rp_groups_emit writes them in tree order */
	size_t n, cap;
	uint32_t *ix; /* by region: index + 1 in v, open addressing */
	size_t ixcap;
	/* by the region's pointer, the last seen in each of its slots (records of one region in
	 * one collection share it: rp_recs.regions) */
	struct {
		const char *region;
		uint32_t at; /* index + 1 in v */
	} seen[64];
} rp_groups;

/* Writes one row of a per-village table from its figures; level is village, township or county
 * for a data row (by the depth of its region), subtotal or total. */
typedef void (*rp_row_fn)(rp_ctx *x, hm_report_table *t, hm_report_row_kind kind,
                          const char *region, const char *level, const double *v);

/* report_data.c: the records in memory, persons through merges, monitoring, follow-ups. */
/* The text of field i of r ("" when absent), r's id, whether it has field i. */
const char *rp_fs(const rp_recs *rs, const rp_rec *r, int i);
const char *rp_rid(const rp_recs *rs, const rp_rec *r);
bool rp_has(const rp_rec *r, int i);
/* Read the collections of needs (and the merges) and index them: from the store, or through the
 * ledger's report keep (l->keep) when it has one. */
hm_err rp_load(rp_ctx *x, unsigned needs);
/* Read coll whole into rs (cleared first): fields of each record, its region, in = inside scope
 * (scope NULL: in not set); keep (may be NULL) decides which records are held. Errors: those of
 * hm_node_list, HM_ERR_NOMEM. */
hm_err rp_recs_load(hm_node *n, rp_recs *rs, const char *coll, const char *const *fields,
                    const char *scope, bool (*keep)(void *ctx, const hm_record *r), void *keep_ctx);
/* rs empty, for coll's fields (NULL-terminated, at most RP_FIELDS_MAX). Errors: HM_ERR_NOMEM. */
hm_err rp_recs_init(rp_recs *rs, const char *coll, const char *const *fields);
/* Append r to rs (rs->nomem when memory runs out); the region pointers of rs move with its arena:
 * rp_recs_regions sets them again. */
void rp_recs_append(rp_recs *rs, const hm_record *r);
void rp_recs_regions(rp_recs *rs);
/* Index rs (in id order) by id, for rp_person_find; without memory, rp_person_find bisects. */
void rp_recs_index(rp_recs *rs);
void rp_recs_release(rp_recs *rs);
/* Set each record's in: its region inside scope. */
void rp_recs_set_in(rp_recs *rs, const char *scope);
/* The tally of person in fs, made empty when new; NULL when memory runs out. */
struct rp_fold *rp_fold_slot(rp_folds *fs, const char *person);
void rp_folds_release(rp_folds *fs);
/* Follow-ups from the day before the earliest start of an episode active on D (Today's window):
 * x->from, once the episodes are read. */
void rp_window_from_episodes(rp_ctx *x);
/* report_keep.c: rp_load's reading through the ledger's report keep. */
hm_err rp_keep_load(rp_ctx *x, unsigned needs);
/* The report keep's number of the person a follow-up names as p (rp_ctx.fu_pnum), or -1. */
int64_t rp_keep_pnum_of(const hm_report_keep *k, const char *p);
/* Whether any record read lies in the region asked. */
bool rp_any_in(const rp_ctx *x);
void rp_release(rp_ctx *x);
void rp_nomem(rp_ctx *x);
int rp_cmp_str(const void *a, const void *b);
void rp_strs_add(rp_ctx *x, rp_strs *s, const char *v);
void rp_strs_sort_unique(rp_strs *s);
bool rp_strs_has(const rp_strs *s, const char *v);
size_t rp_strs_index(const rp_strs *s, const char *v);
void rp_strs_release(rp_strs *s);
/* A hash of a text (FNV-1a): the slot of an id or a region in an index. */
size_t rp_hash(const char *s);
/* A time written YYYY-MM-DDTHH:MM... as the number YYYYMMDDHHMM, which orders as the text does;
 * 0 for a time written otherwise (compare the text). */
uint64_t rp_time_key(const char *t);
/* The date of a followup's time (its first 10 characters), "" when it has none. */
void rp_time_date(const char *t, char out[11]);
/* Whether date lies in the window (D-N, D]. */
bool rp_in_window(const rp_ctx *x, const char *date);
/* The person a reference means, through merges. */
const char *rp_pid(const rp_ctx *x, const char *id);
const rp_rec *rp_person_find(const rp_ctx *x, const char *id);
/* hm_report_row_wanted for a list whose rows name a person: one not held is counted among the
 * persons the report lists (hm_report.persons_listed) all the same. */
bool rp_person_row_wanted(rp_ctx *x, hm_report_table *t);
/* The name of person id as the report may show it (masked unless show_pii); counts it. */
const char *rp_person_name(rp_ctx *x, const char *id, char *buf, size_t cap);
const char *rp_person_village(const rp_ctx *x, const char *id);
const rp_monitored *rp_monitored_find(const rp_ctx *x, const char *p);
/* Person p's follow-ups before the window, folded; NULL when none. */
const struct rp_fold *rp_before_of(const rp_ctx *x, const char *p);
/* report_data.c: an index of strings, places 0..n-1 of key(ctx, i), the first of equal keys;
 * without memory, none (false: finds then say absent). rp_index_find: the first place of k, or
 * (size_t)-1. */
bool rp_index_build(rp_index *ix, size_t n, const char *(*key)(const void *, size_t),
                    const void *ctx);
size_t rp_index_find(const rp_index *ix, const char *k, const char *(*key)(const void *, size_t),
                     const void *ctx);
/* report_followups.c, once the records are read (rp_load): fu and fu_ix; before and
 * before_ix. */
void rp_followups_index(rp_ctx *x);
void rp_before_build(rp_ctx *x);
/* Follow-ups (rp_fu_ix) by time, then as listed. */
int rp_fu_cmp_time(const void *a, const void *b);
/* The followups of person p: fu[*lo .. *hi). */
void rp_followups_of(const rp_ctx *x, const char *p, size_t *lo, size_t *hi);

/* report.c: figures per village, rolled up per township and for the region asked. */
void rp_group_add(rp_ctx *x, rp_groups *g, const char *r, int i, double v);
void rp_groups_emit(rp_ctx *x, const rp_groups *g, hm_report_table *t, rp_row_fn fn);
void rp_groups_release(rp_groups *g);
/* a / b as a percentage (NaN when b is 0); a sum kept in a double, rounded. */
double rp_pct(double a, double b);
long long rp_ll(double v);
/* The index of w in words[0..n), or other. */
int rp_word_index(const char *w, const char *const *words, int n, int other);
/* The index in the n items of size bytes at base, sorted by cmp(item, key), where key stands
 * (*found) or would go. */
size_t rp_sorted_find(const void *base, size_t n, size_t size, const void *key,
                      int (*cmp)(const void *item, const void *key), bool *found);
/* Room for one item more in v, an array of *cap items of size bytes holding n: v, or v grown
 * (*cap updated). NULL when memory ran out (v untouched; the report fails out of memory). */
void *rp_grow(rp_ctx *x, void *v, size_t n, size_t *cap, size_t size);

/* The county's setting name as a number into *out (dflt when never set); HM_ERR_SCHEMA when it
 * is not one. */
hm_err rp_setting_number(rp_ctx *x, const char *name, const char *dflt, double *out);

/* Each report (report_daily.c, report_contacts.c, report_stock.c). */
hm_err rp_daily(rp_ctx *x);
hm_err rp_monitoring(rp_ctx *x);
hm_err rp_contacts(rp_ctx *x);
hm_err rp_supplies(rp_ctx *x);
hm_err rp_compounds(rp_ctx *x);
hm_err rp_rewards(rp_ctx *x);

/* (end of reports) */
/* ---- CSV (csv.c, csv_header.c, import.c) ---- */

#define HM_CSV_KNOWN_SLOTS 4096
#define HM_CSV_KNOWN_KEY   (HM_ID_MAX + 24)

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
	size_t problems;  /* found so far, listed or not */
	size_t row_first; /* problems before the row being checked */
	bool row_exists;  /* the row's record is in the store already (check_row read it) */
	/* References found to exist ("person:ID", "store:ID"), so 400,000 follow-ups of 50,000
	 * persons read each person about once: direct-mapped, a miss only costs a lookup. NULL
	 * until the first reference; HM_CSV_KNOWN_SLOTS slots. */
	char (*known)[HM_CSV_KNOWN_KEY];
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
	/* The runs staged earlier in the same write, latest first (NULL: none): the records they
	 * make count as existing for this run's rules (a returnee's person for their return). */
	const struct hm_verb_run *before;
	/* The episodes read once for a batch (NULL: the rule reads them) */
	const struct verb_episodes *episodes;
};

/* Every episode's person, start, end and id, read once for many runs of a rule that looks for
 * the episode running (a batch of follow-ups), sorted by person. */
typedef struct verb_episodes {
	struct verb_ep *v; /* owned */
	size_t n, cap;
	bool nomem;
} verb_episodes;

/* Read them (one hm_node_list). Release with verb_episodes_release, also on failure. Errors:
 * HM_ERR_NOMEM, those of hm_node_list. */
hm_err verb_episodes_load(hm_ledger *l, verb_episodes *out) HM_MUST_CHECK;
void verb_episodes_release(verb_episodes *e);

/* Run verb v as hm_verb_run does, into w, a write under way, without committing it: values
 * taken, the rule run, every value checked, then set in w (which copies them). before: the
 * runs staged earlier in the same write (may be NULL). episodes: read once for many runs (may
 * be NULL: the rule reads them when it needs them). keep (may be NULL): on success the run,
 * for a later stage's before; release with free after the write is over (its values borrow
 * req). Errors as hm_verb_run (reason in hm_node_errmsg); then w may hold part of this run and
 * must be aborted unless the caller only collects reasons. */
hm_err verb_stage(hm_ledger *l, const hm_verb *v, const hm_verb_req *req, hm_write *w,
                  const struct hm_verb_run *before, const verb_episodes *episodes,
                  hm_verb_result *out, struct hm_verb_run **keep) HM_MUST_CHECK;

/* text for field as the ledger stores it (a clerk's date or word made canonical), valid for the
 * run; text itself when it already is, or is not a value of field. */
const char *verb_canonical(struct hm_verb_run *x, const char *field, const char *text);
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

/* ==== Persons (merge.c) ==== */

/* Whether a person merge whose state field says state (NULL or "": none) holds: the one rule
 * for dups, merge/unmerge and the reports' mapping of a dropped registration onto the kept. */
bool hm_merge_holds(const char *state);

#endif
