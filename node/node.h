/*
 * node.h - a hamlet replica: the ledger in LMDB, change sets, and their CRDT merge.
 *
 * A node directory holds one LMDB environment. Every local write transaction becomes one change
 * set {origin, seq, prev, hlc, ops}, encoded with msgpack and stored unchanged in the oplog under
 * (origin, seq); its id is the BLAKE2b-256 hash of its exact bytes (the envelope). Change sets
 * from other nodes are applied exactly once and in per-origin order; one LMDB write transaction
 * applies a change set and advances the version vector together, so a crash leaves each change
 * set whole or absent.
 *
 * Merge rules come from the schema (schema.c): `lww` fields take the value with the greatest
 * stamp (hlc, origin); `counter` fields sum every delta; append-only collections insert once.
 * A delete is a record-level stamp: it clears the lww fields written before it, and a field
 * written after it brings the record back. Counters are never reset by a delete, so no
 * increment is lost. Values that lose to a write of another origin go to the conflict log.
 *
 * The guarantee: two replicas that applied the same set of change sets, in any order, hold
 * byte-identical records, and so the same digest (hm_node_digest).
 *
 * Threads: an hm_node may be used from one thread at a time. Several processes may open the
 * same directory; LMDB serialises their writers.
 */
#ifndef HM_NODE_H
#define HM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* ---- Limits on what hamlet accepts from outside (checked before any allocation). ---- */
#define HM_ENVELOPE_MAX     (16u << 20) /* bytes in one change-set envelope */
#define HM_OPS_MAX          200000u     /* operations in one change set */
#define HM_FIELDS_MAX       64u         /* fields in one operation or record */
#define HM_NAME_MAX         64u         /* collection and field names */
#define HM_ID_MAX           128u        /* record ids */
#define HM_STR_MAX          4096u       /* string values */
#define HM_DEPTH_MAX        8u          /* msgpack nesting */
#define HM_DRIFT_DEFAULT_MS 86400000u   /* 1 day */

/* "county", "township", "village"; "unknown" otherwise. */
const char *hm_role_name(hm_role role);
/* Errors: HM_ERR_INVALID for any other word. */
hm_err hm_role_parse(const char *text, hm_role *out) HM_MUST_CHECK;

/* ---- Hybrid logical clock: 48-bit milliseconds << 16 | 16-bit counter. ---- */
typedef uint64_t hm_hlc;
#define HM_HLC_MS(h) ((h) >> 16)

/* The physical clock, passed in so tests can freeze or skew it. Returns unix milliseconds. */
typedef uint64_t (*hm_clock_fn)(void *ctx);

/* A stamp orders writes: greater hlc wins, ties broken by origin bytes. Unique per write. */
typedef struct hm_stamp {
	hm_hlc hlc;
	hm_node_id origin;
	uint64_t seq; /* the change set that carried the write; provenance, not ordering */
} hm_stamp;

/* <0, 0, >0 as a orders before, equal to, after b (by hlc, then origin). */
int hm_stamp_cmp(const hm_stamp *a, const hm_stamp *b);

/* ---- Values ---- */
typedef enum hm_type {
	HM_T_STR = 1, /* UTF-8 text */
	HM_T_INT,     /* signed 64-bit */
	HM_T_FLOAT,   /* IEEE double */
	HM_T_BOOL,
	HM_T_DATE,   /* text YYYY-MM-DD */
	HM_T_TIME,   /* text YYYY-MM-DDTHH:MM */
	HM_T_REGION, /* text county/township/village */
} hm_type;

typedef enum hm_vkind {
	HM_V_NIL = 0,
	HM_V_BOOL,
	HM_V_INT,
	HM_V_FLOAT,
	HM_V_STR,
} hm_vkind;

/* A value. Strings are borrowed: s.p points into memory owned by whoever produced the value
 * (the caller for writes; the hm_record for reads) and is not NUL-terminated. */
typedef struct hm_value {
	hm_vkind kind;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			const char *p;
			uint32_t n;
		} s;
	} u;
} hm_value;

/* ---- Schema (static, schema.c) ---- */
typedef enum hm_merge {
	HM_MERGE_LWW = 1, /* the write with the greatest stamp wins */
	HM_MERGE_COUNTER, /* the sum of every delta */
	HM_MERGE_MAX,     /* the greatest value wins (a date that may move later, never earlier);
	                   * like a counter, it outlives a delete of its record */
} hm_merge;

/* Field flags. */
enum {
	HM_F_PII = 1u << 0,      /* personal: masked unless asked for, cleared by `purge` */
	HM_F_IDENTITY = 1u << 1, /* a concurrent change is put to a person, not settled silently */
};

typedef struct hm_field_def {
	const char *name;
	hm_type type;
	hm_merge merge;
	bool required;    /* must be set when the record is created */
	unsigned flags;   /* HM_F_* */
	const char *help; /* allowed words or meaning, for --help and docs */
} hm_field_def;

typedef struct hm_collection_def {
	const char *name;
	bool append_only;         /* inserted once, never edited or deleted */
	const char *region_field; /* the field that places a record in a region */
	const hm_field_def *fields;
	size_t nfields;
	const char *help;
} hm_collection_def;

/* The collections hamlet knows, and one by name (NULL when unknown). Borrowed, static. */
const hm_collection_def *hm_schema_collections(size_t *count);
const hm_collection_def *hm_schema_collection(const char *name);
const hm_field_def *hm_schema_field(const hm_collection_def *c, const char *name);

/* Parse text into a value of the field's type ("37.4" for a float, "2026-11-29" for a date).
 * The value's string (if any) borrows text. Errors: HM_ERR_TYPE with a reason in why. */
hm_err hm_value_parse(const hm_field_def *f, const char *text, hm_value *out,
                      const char **why) HM_MUST_CHECK;
/* Check a value against a field's type. Errors: HM_ERR_TYPE, reason in why. */
hm_err hm_value_check(const hm_field_def *f, const hm_value *v, const char **why) HM_MUST_CHECK;
/* The length of the longest prefix of s[0..n) that is valid UTF-8 (no overlong forms,
 * surrogates or code points beyond U+10FFFF): n when all of it is. */
size_t hm_utf8_prefix(const char *s, size_t n);
/* 1 when the two values are equal in kind and content. */
int hm_value_equal(const hm_value *a, const hm_value *b);

/* The one rule for record ids, applied to every id a node writes or receives and to every id
 * a command is given: 1 to HM_ID_MAX bytes of UTF-8 text with no control character (C0, DEL,
 * C1), no bidi embedding, override or isolate (U+202A-U+202E, U+2066-U+2069) and no line or
 * paragraph separator. An id is never cut to fit. hm_id_check takes a NUL-terminated id,
 * hm_id_check_n n bytes (a NUL among them is refused). Errors: HM_ERR_INVALID with why set to a
 * static reason that follows the words "the record id" ("is longer than 128 bytes"). */
hm_err hm_id_check(const char *id, const char **why) HM_MUST_CHECK;
hm_err hm_id_check_n(const char *id, size_t n, const char **why) HM_MUST_CHECK;

/* ---- Version vectors ---- */
typedef struct hm_vv_entry {
	hm_node_id origin;
	uint64_t seq; /* highest seq held with nothing missing below it */
	hm_hash hash; /* id of that change set */
	hm_hlc hlc;   /* its clock */
} hm_vv_entry;

typedef struct hm_vv {
	hm_vv_entry *v; /* owned; sorted by origin */
	size_t n;
} hm_vv;

void hm_vv_release(hm_vv *vv);
/* The seq held for origin, 0 if none. */
uint64_t hm_vv_get(const hm_vv *vv, const hm_node_id *origin);
/* Text form "ORIGINHEX:SEQ,ORIGINHEX:SEQ" (hash and hlc are not part of it). out is owned by the
 * caller (free). Errors: HM_ERR_NOMEM. */
hm_err hm_vv_format(const hm_vv *vv, char **out) HM_MUST_CHECK;
/* Parse that text form; the empty string is the empty vector. Errors: HM_ERR_INVALID. */
hm_err hm_vv_parse(const char *text, hm_vv *out) HM_MUST_CHECK;

/* ---- The node ---- */
typedef struct hm_node hm_node;

typedef struct hm_node_opts {
	/* The node's keys, from its key file. Borrowed: the node copies what it needs and wipes
	 * it at close. A node created with an identity runs in trust mode for life: its change
	 * sets are signed and encrypted, it accepts only verified ones, and its records are sealed
	 * at rest under storage_key. A node created without (unit tests and benchmarks of the merge
	 * engine) writes plain, unsigned change sets and never accepts signed ones. */
	const hm_identity *identity;
	const uint8_t *storage_key; /* HM_STORAGE_KEY_BYTES */
	hm_clock_fn clock;          /* NULL: the system clock */
	void *clock_ctx;
	uint64_t max_drift_ms; /* 0: the county's clock.max_drift (HM_SETTING_MAX_DRIFT) */
	size_t map_max;        /* cap on the LMDB map in bytes; 0: 64 GiB */
	size_t map_initial;    /* first map size; 0: 64 MiB */
	/* The Argon2id cost of the key file hm_node_init writes; NULL: the defaults
	 * (HM_PWHASH_*_DEFAULT). A key file keeps its own cost: opening reads it from the file. */
	const hm_pwhash_params *key_cost;
	hm_logger log;
} hm_node_opts;

typedef struct hm_node_info {
	hm_node_id id;
	bool trust;    /* signed, encrypted change sets; records sealed at rest */
	bool enrolled; /* holds a certificate chain to a root of trust */
	hm_sign_pub root;
	hm_role role;
	char region[HM_REGION_MAX + 1];
	char name[HM_NAME_MAX + 1];
	uint64_t created_ms;
	uint64_t seq;      /* this node's own last seq */
	hm_hlc hlc;        /* the clock's persisted bound */
	size_t records;    /* live records, all collections */
	size_t changesets; /* in the oplog */
	size_t pending, quarantined, refused, forks;
	size_t conflicts;
} hm_node_info;

/* Create a new node in dir (created if missing; must hold no node yet). With opts->identity the
 * id is that of its public key, and a county node becomes a root of trust (a self-signed
 * certificate and the county's first data key); without, the id is random.
 * Errors: HM_ERR_EXISTS when dir already holds a node, HM_ERR_INVALID for a bad region or name,
 * HM_ERR_IO/HM_ERR_STORE from the file system. */
hm_err hm_node_create(const char *dir, hm_role role, const char *region, const char *name,
                      const hm_node_opts *opts, hm_node_id *id_out) HM_MUST_CHECK;
/* A new station: mkdir -p dir (0700), new keys sealed into dir/node.key under pass (pass_len
 * bytes; refused when hm_passphrase_check finds it weak), then hm_node_create with them
 * (opts as for it; its identity and storage key are the new ones). Made together or not at all:
 * on failure what this call made is taken away (a dir that was there keeps what it held).
 * *out is the node's id. Errors, with a reason in why (cut to cap) unless hm_node_create said it
 * through opts->log: HM_ERR_EXISTS (dir holds a node), HM_ERR_INVALID (an empty or long dir, or
 * hm_node_create's), HM_ERR_IO / HM_ERR_FULL, those of hm_keyfile_write and hm_node_create. */
hm_err hm_node_init(const char *dir, hm_role role, const char *region, const char *name,
                    const char *pass, size_t pass_len, const hm_node_opts *opts, hm_node_id *out,
                    char *why, size_t cap) HM_MUST_CHECK;

/* Open the node in dir. *out is owned by the caller: hm_node_close it.
 * Errors: HM_ERR_NOT_FOUND when dir holds no node, HM_ERR_VERSION for a newer store format,
 * HM_ERR_STORE/HM_ERR_IO otherwise. */
hm_err hm_node_open(const char *dir, const hm_node_opts *opts, hm_node **out) HM_MUST_CHECK;
void hm_node_close(hm_node *node);

hm_err hm_node_info_get(hm_node *node, hm_node_info *out) HM_MUST_CHECK;
/* hm_node_info_get, and the live records of each collection of hm_schema_collections in
 * by_coll[0 .. n) (n at most their count), counted in the same one walk of the store. */
hm_err hm_node_info_counts(hm_node *node, hm_node_info *out, size_t *by_coll,
                           size_t n) HM_MUST_CHECK;
/* Who the node is, without counting anything: id, role, region, name, created, trust, enrolled,
 * root; the counts of *out are zero. Never fails and costs nothing: for every sync and bundle. */
void hm_node_ident(const hm_node *node, hm_node_info *out);
const hm_node_id *hm_node_self(const hm_node *node);
/* A number that grows whenever anything is written to the store, by this process or another
 * (LMDB's last transaction id): equal stamps mean the same records, so a front end may keep what
 * it built from the store (a report, a page) until the stamp moves. Never fails. */
uint64_t hm_node_stamp(hm_node *node);

/* Whether LMDB has failed one of its assertions in this process (it calls back, then aborts):
 * what a crash handler reads to tell a store LMDB found damaged from another abort (nanomsg's
 * out of memory, a bug). Async-signal-safe. */
bool hm_node_lmdb_asserted(void);

/* A human-readable reason for the last error returned on this node (never NULL; "" if none).
 * Borrowed, valid until the next call on the node. */
const char *hm_node_errmsg(const hm_node *node);
/* Record the reason for the error being returned, for hm_node_errmsg; returns err for tail
 * calls. For the libraries above node (the ledger) that report through the same node. */
hm_err hm_node_fail(hm_node *n, hm_err err, const char *fmt, ...) HM_PRINTF(3, 4);

/* ---- Local writes: one write is one change set ---- */
typedef struct hm_write hm_write;

typedef struct hm_changeset_info {
	hm_node_id origin;
	uint64_t seq;
	hm_hash id;
	hm_hlc hlc;
	size_t nops;
	size_t bytes;
} hm_changeset_info;

/* Start a local write. *out is owned: commit or abort it. Errors: HM_ERR_NOMEM. */
hm_err hm_write_begin(hm_node *node, hm_write **out) HM_MUST_CHECK;
/* Set an lww field (or a field of a new append-only record). The value is copied.
 * Errors: HM_ERR_SCHEMA (unknown collection/field, counter field), HM_ERR_TYPE, HM_ERR_INVALID
 * (bad id), HM_ERR_TOO_BIG. A failed call leaves the write as it was. */
hm_err hm_write_set(hm_write *w, const char *coll, const char *id, const char *field,
                    const hm_value *v) HM_MUST_CHECK;
/* Add delta to a counter field. Errors as hm_write_set. */
hm_err hm_write_add(hm_write *w, const char *coll, const char *id, const char *field,
                    int64_t delta) HM_MUST_CHECK;
/* Delete a record. Errors: HM_ERR_SCHEMA for an append-only collection. */
hm_err hm_write_del(hm_write *w, const char *coll, const char *id) HM_MUST_CHECK;
/* Delete the record coll/id of region (NULL: as hm_write_del, the record hm_node_get finds). */
hm_err hm_write_del_at(hm_write *w, const char *coll, const char *id,
                       const char *region) HM_MUST_CHECK;
/* Move the live record coll/id from region from (NULL: where hm_node_get finds it) to region
 * to: a new record at to with its current values (a counter's sum; personal fields too) and a
 * delete of the old one, in one write. Only a node whose region holds both may move a record;
 * a village asks its township (docs/ledger.md). The records that refer to it (follow-ups,
 * episodes) stay where they were written. Errors: HM_ERR_NOT_FOUND, HM_ERR_AMBIGUOUS,
 * HM_ERR_SCHEMA (append-only, or outside this node's region), HM_ERR_INVALID. */
hm_err hm_write_move(hm_write *w, const char *coll, const char *id, const char *from,
                     const char *to) HM_MUST_CHECK;
/* Seal the write into a change set (signed and encrypted in trust mode), apply it and store it,
 * durably, in one transaction; w is consumed whatever the result. Errors: HM_ERR_NOT_FOUND (delete
 * of a missing record), HM_ERR_EXISTS (append-only record already there), HM_ERR_SCHEMA (required
 * field missing), HM_ERR_INVALID (empty write), HM_ERR_FULL, HM_ERR_STORE. On error nothing is
 * written. */
hm_err hm_write_commit(hm_write *w, hm_changeset_info *info) HM_MUST_CHECK;
void hm_write_abort(hm_write *w);

/* ---- Applying change sets from elsewhere ---- */
typedef enum hm_apply_outcome {
	HM_APPLY_NEW = 0,    /* applied now (possibly with waiting successors) */
	HM_APPLY_DUPLICATE,  /* already held: no-op */
	HM_APPLY_PENDING,    /* beyond a gap: waits in the pending table */
	HM_APPLY_QUARANTINE, /* clock too far ahead: held in quarantine */
	HM_APPLY_REFUSED,    /* malformed or not allowed: kept as evidence, never applied */
	HM_APPLY_FORK,       /* equivocation: both versions kept as evidence */
} hm_apply_outcome;

typedef struct hm_apply_stats {
	size_t new_; /* includes pending change sets released by this batch */
	size_t duplicate, pending, quarantined, refused, forks;
	size_t deferred; /* of refused: beyond a gap while pending is full; not kept, sent again
	                    later */
	size_t ops;      /* operations applied */
} hm_apply_stats;

/* A borrowed byte range. */
typedef struct hm_bytes {
	const uint8_t *p;
	size_t n;
} hm_bytes;

/* Apply n envelopes in one durable transaction (retried after growing the map if it fills).
 * Outcomes are added to *stats; outcomes[i] (may be NULL) receives each one. A bad envelope is
 * refused alone; the others still apply. Errors (nothing applied): HM_ERR_FULL, HM_ERR_STORE,
 * HM_ERR_NOMEM. */
hm_err hm_node_apply(hm_node *node, const hm_bytes *envs, size_t n, hm_apply_stats *stats,
                     hm_apply_outcome *outcomes) HM_MUST_CHECK;

/* Retry quarantined change sets whose clock the node now takes (within two drifts of its wall
 * clock, or not beyond its own clock: docs/data-model.md). */
hm_err hm_node_release_quarantine(hm_node *node, hm_apply_stats *stats) HM_MUST_CHECK;

/* ---- Reading ---- */
typedef struct hm_field {
	const char *name; /* borrowed from the record */
	hm_value value;   /* for a counter: HM_V_INT, the sum */
	hm_stamp stamp;   /* the write that set it (for a counter, the latest delta) */
} hm_field;

typedef struct hm_record {
	const char *collection;
	const char *id;
	const char *region; /* where it lives: part of its identity, with its id */
	bool deleted;
	hm_stamp tombstone; /* valid when tombstone.hlc != 0 */
	hm_field *fields;   /* sorted by name */
	size_t nfields;
} hm_record;

/* Decode-owned record. Errors: HM_ERR_NOT_FOUND (absent or deleted), HM_ERR_SCHEMA. *out owned:
 * hm_record_free. */
hm_err hm_node_get(hm_node *node, const char *coll, const char *id, hm_record **out) HM_MUST_CHECK;
/* A record is identified by its collection, id and region: two regions may use one id for two
 * records, and no write of one region reaches the other's. hm_node_get finds the one live
 * record of that id (or the one inside this node's region); HM_ERR_AMBIGUOUS when several
 * qualify, with the regions in hm_node_errmsg. hm_node_get_at names the region (NULL: as
 * hm_node_get). Errors as hm_node_get, and HM_ERR_INVALID for a region that is not a path. */
hm_err hm_node_get_at(hm_node *node, const char *coll, const char *id, const char *region,
                      hm_record **out) HM_MUST_CHECK;
void hm_record_free(hm_record *r);
/* The field of r named name, or NULL. */
const hm_field *hm_record_field(const hm_record *r, const char *name);

/* Called for each live record of a collection in id order; r is borrowed for the call.
 * Return nonzero to stop. */
typedef int (*hm_record_cb)(void *ctx, const hm_record *r);
hm_err hm_node_list(hm_node *node, const char *coll, hm_record_cb cb, void *ctx) HM_MUST_CHECK;

/* Keep the live records of each collection hm_node_list is asked for decoded in memory, for a
 * process that reads them again and again (the web interface): the first list of a collection
 * reads it whole, each later one first reads again only the records written since, by this
 * process or any other (the store's log of changed records), so it answers what the store holds
 * now. A list made while another is running (from its callback, or another thread) reads the
 * store as without the cache. When the records kept pass max_bytes the cache turns itself off
 * (said in the node's log) and every list reads the store. Errors: HM_ERR_NOMEM. */
hm_err hm_node_cache_records(hm_node *node, size_t max_bytes) HM_MUST_CHECK;
/* Read every collection into the cache now (at a front end's start), so that the first page
 * does not wait for it. Errors: those of hm_node_list. */
hm_err hm_node_cache_warm(hm_node *node) HM_MUST_CHECK;
/* The store's log of changed records (docs/formats.md, `changed`), for a front end that keeps
 * what it derives from records (the ledger's reports): *last, the counter of its last entry;
 * fn (may be NULL) called for each record written after counter after, oldest first, until it
 * returns nonzero (a record written twice comes twice). *whole is set when the log cannot say
 * (pruned past after, every record rebuilt since, or a log that went back): read everything
 * again; with fn NULL only a log that went back is said (nothing else is read). One read
 * transaction. Errors: HM_ERR_CORRUPT, store errors. */
typedef int (*hm_change_cb)(void *ctx, const char *coll, const char *id, const char *region);
hm_err hm_node_changes(hm_node *node, uint64_t after, hm_change_cb fn, void *ctx, uint64_t *last,
                       bool *whole) HM_MUST_CHECK;
typedef struct hm_cache_stats {
	bool on;         /* kept (false: never asked, or turned off past its bytes) */
	size_t records;  /* held now */
	size_t bytes;    /* their heap blocks */
	uint64_t loads;  /* collections read whole */
	uint64_t reread; /* records read again after a write */
	uint64_t lists;  /* lists answered from memory */
} hm_cache_stats;
void hm_node_cache_stats(hm_node *node, hm_cache_stats *out);

/* The version vector. out owned: hm_vv_release. */
hm_err hm_node_version_vector(hm_node *node, hm_vv *out) HM_MUST_CHECK;
/* Compare the version vector of peer with this node's own logs: a peer holding more of this
 * node's own change sets than it does suggests it was restored from a backup (or its directory
 * copied). The claim is kept for that peer, and until the node's head reaches it the node
 * refuses to write in that log (HM_ERR_FORK from hm_write_commit) rather than sign a second
 * version of a seq. It is a claim, not proof: hm_node_peer_synced drops the peer's claims once
 * a full sync with it has ended (what it held has arrived by then; a claim still unmet was
 * false), so no peer can keep a node from writing beyond its next sync with it. Writes (one
 * transaction) only when something is new. *behind (may be NULL): how many of its logs the peer
 * claims are behind. Errors: store errors. */
hm_err hm_node_note_peer_vv(hm_node *node, const hm_node_id *peer, const hm_vv *vv,
                            size_t *behind) HM_MUST_CHECK;
/* Drop peer's claims (hm_node_note_peer_vv): a full sync with it has ended. Errors: store
 * errors. */
hm_err hm_node_peer_synced(hm_node *node, const hm_node_id *peer) HM_MUST_CHECK;

/* The state digest: BLAKE2b-256 over every record (tombstones included) in key order. When
 * scope is not NULL, only the records a node of that region holds (hm_region_visible): those of
 * its region and below, and those of its township and county. */
hm_err hm_node_digest(hm_node *node, const char *scope, hm_hash *out) HM_MUST_CHECK;

/* Change sets, as listed by `log` and exported by bundles. */
typedef struct hm_changeset_view {
	hm_node_id origin;
	uint64_t seq;
	hm_hash id;
	hm_hash prev;
	hm_hlc hlc;
	size_t nops;
	char region[HM_REGION_MAX + 1]; /* the region of every record it touches */
	hm_bytes envelope;              /* borrowed for the callback */
} hm_changeset_view;

/* Read an envelope's header without applying it (for routing). view->envelope borrows p.
 * Errors: those of a malformed envelope (HM_ERR_CORRUPT, HM_ERR_TRUNCATED, HM_ERR_TOO_BIG,
 * HM_ERR_VERSION). */
hm_err hm_envelope_peek(const uint8_t *p, size_t n, hm_changeset_view *view) HM_MUST_CHECK;

/* Whether a node of region holder may hold records of region r: r is one of its ancestors
 * (county-wide, its township's) or itself, or lies inside it. */
bool hm_region_visible(const char *holder, const char *r);

/* Check that buf holds exactly one msgpack object whose every length and count fits the bytes
 * there are, nested at most depth deep, with at most max_objects elements in all (and never more
 * than 32 MiB of decoded objects: msgpack-c allocates 24 bytes for each, a nil takes one byte):
 * run before msgpack-c allocates for a declared count.
 * Errors: HM_ERR_TRUNCATED, HM_ERR_TOO_BIG, HM_ERR_CORRUPT. */
hm_err hm_msgpack_check(const uint8_t *buf, size_t len, unsigned depth,
                        uint64_t max_objects) HM_MUST_CHECK;

typedef int (*hm_changeset_cb)(void *ctx, const hm_changeset_view *cs);

/* Every change set in the oplog beyond since (NULL: all), per origin in seq order. */
hm_err hm_node_changesets(hm_node *node, const hm_vv *since, hm_changeset_cb cb,
                          void *ctx) HM_MUST_CHECK;
/* The proofs of every fork this node knows that a peer holding since has not seen (its
 * version vector reaches the forked seq; NULL: every fork): the two signed versions of the
 * forked seq, and a successor proving one, as change sets for cb. Senders add them to bundles
 * and sync batches so that every replica freezes the origin at the same seq. */
hm_err hm_node_fork_proofs(hm_node *node, const hm_vv *since, hm_changeset_cb cb,
                           void *ctx) HM_MUST_CHECK;

/* Provenance: for each field of a record, the stamp that set it (blame) and the values that
 * lost to it (from the conflict log). */
typedef struct hm_conflict {
	const char *collection, *id, *region, *field; /* borrowed for the callback */
	hm_value loser; /* the value that lost (HM_V_NIL for a deleted record) */
	hm_stamp loser_stamp;
	hm_stamp winner_stamp;
	bool by_delete; /* lost to a delete */
} hm_conflict;

typedef int (*hm_conflict_cb)(void *ctx, const hm_conflict *c);
/* Conflicts of one record (coll and id given) or of all (both NULL). */
hm_err hm_node_conflicts(hm_node *node, const char *coll, const char *id, hm_conflict_cb cb,
                         void *ctx) HM_MUST_CHECK;

/* Verify a store end to end: every page of every tree as LMDB lays them out (before any tree is
 * read through LMDB, which would stop on a damaged page); hm_node_check_log; every stored change
 * set verifies again (signature, certificate, revocation, region); every record opens, and the
 * records equal a rebuild from the oplog (done in a transaction that is then aborted: nothing
 * changes).
 * Errors: HM_ERR_CORRUPT or HM_ERR_CRYPTO (a value altered at rest), reason in
 * hm_node_errmsg; HM_ERR_FULL when the store cannot grow for the trial rebuild. */
hm_err hm_node_check(hm_node *node) HM_MUST_CHECK;
/* The oplog alone: every origin's oplog runs 1..seq with an unbroken hash chain matching the
 * version vector. Errors: HM_ERR_CORRUPT, reason in hm_node_errmsg. */
hm_err hm_node_check_log(hm_node *node) HM_MUST_CHECK;
/* Rebuild the records and the conflict log from the oplog, once the walk of every page and
 * hm_node_check_log pass: the way back from a record damaged at rest. Errors: HM_ERR_CORRUPT
 * (a damaged page: not repaired, the message says to restore from the hub), those of
 * hm_node_check_log, store errors. */
hm_err hm_node_repair(hm_node *node) HM_MUST_CHECK;

/* ---- Trust: enrollment, revocation, audit (trust.c, audit.c) ---- */

/* A request to join the county's network: role, region, name and public keys, signed by the
 * requesting node. *out is owned (free). Errors: HM_ERR_CRYPTO when the node has no identity,
 * HM_ERR_EXISTS when it is already enrolled. */
hm_err hm_enroll_request(hm_node *node, uint8_t **out, size_t *len) HM_MUST_CHECK;

typedef struct hm_enroll_info {
	hm_node_id node;
	hm_role role;
	char region[HM_REGION_MAX + 1];
	char name[HM_NAME_MAX + 1];
	uint64_t serial, not_before, not_after;
	hm_sign_pub root;
} hm_enroll_info;

/* Look inside a request without acting on it. Errors: HM_ERR_CORRUPT, HM_ERR_TRUNCATED,
 * HM_ERR_CRYPTO (its signature does not verify). */
hm_err hm_enroll_request_inspect(const uint8_t *req, size_t len,
                                 hm_enroll_info *info) HM_MUST_CHECK;

/* On the county (or a township allowed to enroll villages of its township): check the request,
 * issue a certificate valid for valid_days, and answer with the certificate chain, the root key
 * and the data keys the new node is entitled to, wrapped for it. *out is owned (free).
 * Errors: HM_ERR_CRYPTO (bad request signature, issuer not allowed), HM_ERR_SCHEMA (region
 * outside the issuer's, or role and region depth disagree), HM_ERR_CORRUPT. */
hm_err hm_enroll_sign(hm_node *issuer, const uint8_t *req, size_t len, uint32_t valid_days,
                      bool may_enroll, uint8_t **out, size_t *out_len,
                      hm_enroll_info *info) HM_MUST_CHECK;

/* On the new node: verify the answer (chain up to its root, which must equal *pin when pin is
 * not NULL; the certificate is this node's; the issuer signed the answer) and install it.
 * Errors: HM_ERR_CRYPTO (any verification), HM_ERR_CORRUPT, HM_ERR_EXISTS (already enrolled).
 * On error nothing changes. */
hm_err hm_enroll_accept(hm_node *node, const uint8_t *answer, size_t len, const hm_sign_pub *pin,
                        hm_enroll_info *info) HM_MUST_CHECK;

/* On the county: revoke node from after_seq on. Writes one change set holding the signed
 * revocation and new data-key epochs for the node's township and the county, wrapped for every
 * other node entitled to them. Errors: HM_ERR_CRYPTO (not the county), HM_ERR_NOT_FOUND (no
 * certificate known for node), HM_ERR_INVALID. */
hm_err hm_node_revoke(hm_node *county, const hm_node_id *node, uint64_t after_seq,
                      const char *reason, hm_changeset_info *info) HM_MUST_CHECK;

/* The audit: every stored change set verified again. */
typedef struct hm_audit_origin {
	hm_node_id origin;
	bool has_cert;
	hm_role role;
	char region[HM_REGION_MAX + 1];
	uint64_t seq;          /* held 1..seq */
	uint64_t pending_from; /* lowest pending seq, 0 if none: seq+1..pending_from-1 missing */
	hm_hlc last;           /* clock of the last change set held */
	bool revoked;
	uint64_t revoked_after;
	size_t findings;
} hm_audit_origin;

typedef enum hm_finding_kind {
	HM_FINDING_BAD_SIGNATURE = 1,
	HM_FINDING_BROKEN_CHAIN,
	HM_FINDING_FORK,
	HM_FINDING_OUT_OF_SCOPE,
	HM_FINDING_AFTER_REVOCATION,
	HM_FINDING_CLOCK,
	HM_FINDING_REFUSED,
	HM_FINDING_GAP,
	HM_FINDING_UNKNOWN_ORIGIN,
	HM_FINDING_REVOKED_ISSUER, /* a node's certificate chain runs through a revoked issuer */
} hm_finding_kind;

typedef struct hm_audit_finding {
	hm_finding_kind kind;
	hm_node_id origin;
	uint64_t seq;
	hm_hash id;         /* the envelope in question (zero for a gap) */
	const char *reason; /* borrowed for the callback */
} hm_audit_finding;

typedef struct hm_audit_cb {
	int (*origin)(void *ctx, const hm_audit_origin *o);
	int (*finding)(void *ctx, const hm_audit_finding *f);
	void *ctx;
} hm_audit_cb;

/* Re-verify every envelope in the oplog (signature, certificate, hash chain, revocation, scope,
 * clock) and report the evidence kept at arrival. Findings are counted into *nfindings (after
 * a callback asked to stop, the count covers what was looked at, which a kept audit may make
 * more than a whole one would). */
hm_err hm_node_audit(hm_node *node, const hm_audit_cb *cb, size_t *nfindings) HM_MUST_CHECK;
/* Repair data.mdb in dir before it is opened, in the one case that is safe in place: only its
 * older meta page is damaged (LMDB refuses the file for it), and the other is whole and names
 * the commit right after it (the damaged page's commit number survived): the older page is
 * written again from the current one, as the commit before it (LMDB writes its next commit
 * there anyway). *repaired says whether it wrote; why (cap bytes) what it did, or why it did
 * not (any other damage is left for opening the store to name). Only with the store closed by
 * every process (LMDB's lock on lock.mdb); the calling process must not have it open at all
 * (closing lock.mdb here would drop the locks LMDB holds for it). Errors: HM_ERR_BUSY (another
 * process has the store open), HM_ERR_NOT_FOUND (no data.mdb), HM_ERR_IO. */
hm_err hm_store_meta_repair(const char *dir, bool *repaired, char *why, size_t cap) HM_MUST_CHECK;
/* Salvage data.mdb in dir before it is opened, when the only damaged pages (a walk of every
 * page of every tree) are those of trees the oplog rebuilds (the records, the conflict log, the
 * changed log) or of LMDB's free-page tree: every other tree is copied, record by record, into
 * a new store beside it, opened with opts (the node's keys) and its records rebuilt from the
 * oplog (hm_node_repair); then its data.mdb is put in the old one's place, the old one kept
 * beside it as data.mdb.damaged-TIME. *salvaged says whether it did;
 * why (cap bytes) what it did, or why it did not (every page whole, or a damaged tree the oplog
 * does not rebuild: the store is left as it was). The same conditions as hm_store_meta_repair.
 * Errors: HM_ERR_BUSY, HM_ERR_NOT_FOUND, HM_ERR_FULL (no room for the new file: nothing
 * changed), HM_ERR_IO, store errors. */
hm_err hm_store_salvage(const char *dir, const hm_node_opts *opts, bool *salvaged, char *why,
                        size_t cap) HM_MUST_CHECK;
/* Every page of every tree of data.mdb in dir walked (as hm_node_check does first), before any
 * tree is opened through LMDB (opening a node reads the main tree and the meta tree): the open
 * guard's look at the meta pages, then the walk. HM_OK when the guard refuses too (opening the
 * store says why); HM_ERR_CORRUPT with why (cap bytes) naming the damage and the way back;
 * HM_ERR_NOT_FOUND without data.mdb; store errors. */
hm_err hm_store_pages_check_dir(const char *dir, char *why, size_t cap) HM_MUST_CHECK;

/* Keep, in this process, what hm_node_audit found of each origin's change sets, so that the
 * next audit verifies only those that came since (a front end that audits again after every
 * write: the web's audit page). An origin's kept result is used only while its certificate as
 * stored, its revocation, the node's data keys and the bytes of the last change set it covered
 * are the same (anything else: that origin verified whole again), and the whole is dropped
 * HM_AUDIT_KEEP_SECONDS after it was first made, so that every envelope is verified from its
 * bytes again at least that often. Everything else (gaps, evidence, revoked issuers) is read
 * at each audit. An audit made while another runs (another thread) keeps nothing. Off by
 * default; hm_node_close frees it. Errors: HM_ERR_NOMEM. */
#define HM_AUDIT_KEEP_SECONDS 600
hm_err hm_node_audit_keep(hm_node *node) HM_MUST_CHECK;

/* ---- Peer services (peer.c): what sealed bundles and sync sessions need of a node's keys,
 * without handing the keys out. Trust mode only (HM_ERR_CRYPTO otherwise). ---- */

/* Who may open something this node seals: one node (its X25519 key, from its certificate) or
 * every holder of a scope's data key (a township or the county). */
typedef struct hm_recipient {
	bool to_node;
	hm_node_id node;
	char scope[HM_REGION_MAX + 1];
} hm_recipient;

#define HM_WRAPPED_MAX 240

/* Seal key (32 bytes) for rcpt into out (at most HM_WRAPPED_MAX bytes). Errors: HM_ERR_NOT_FOUND
 * (no certificate known for the node, or no data key held for the scope), HM_ERR_CRYPTO. */
hm_err hm_node_wrap_key(hm_node *node, const hm_recipient *rcpt, const uint8_t key[32],
                        uint8_t *out, size_t *len) HM_MUST_CHECK;
/* Open a key sealed by hm_node_wrap_key for rcpt (this node, or a scope it holds).
 * Errors: HM_ERR_CRYPTO (not for this node, or altered), HM_ERR_NOT_FOUND (no key). */
hm_err hm_node_unwrap_key(hm_node *node, const hm_recipient *rcpt, const uint8_t *wrapped,
                          size_t len, uint8_t key[32]) HM_MUST_CHECK;
/* The certified region of another node, from its certificate. Errors: HM_ERR_NOT_FOUND. */
hm_err hm_node_peer_region(hm_node *node, const hm_node_id *id,
                           char region[HM_REGION_MAX + 1]) HM_MUST_CHECK;
/* This node's certificate chain (root first) as bytes; cap HM_CHAIN_MAX is always enough. */
#define HM_CHAIN_MAX (HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES))
hm_err hm_node_chain(hm_node *node, uint8_t *out, size_t cap, size_t *len) HM_MUST_CHECK;
/* Certificates carried apart from change sets (bundles), so a node that keeps only what its
 * region may hold still knows every node. Encoding: { length (2, BE) certificate }*.
 * hm_node_certs_export: every other node's certificate this node holds and honours (not the
 * root's, not its streams'), at most cap bytes and HM_CERTS_MAX of them; *out owned by the caller
 * (free), NULL when there are none. hm_node_certs_learn: store each certificate not yet held whose
 * chain (issuers from the same list or already held) verifies to this node's root now and is
 * honoured (no revoked issuer in it, unless provably before); others are skipped. *learned receives
 * how many were stored. Errors: HM_ERR_CRYPTO (no enrolled keys), HM_ERR_CORRUPT (the list does not
 * decode), HM_ERR_TOO_BIG (more than HM_CERTS_MAX), store faults. */
#define HM_CERTS_MAX 16384u /* certificates in one list (a county has hundreds of nodes) */
hm_err hm_node_certs_export(hm_node *node, uint8_t **out, size_t *len, size_t cap) HM_MUST_CHECK;
hm_err hm_node_certs_learn(hm_node *node, const uint8_t *p, size_t len,
                           size_t *learned) HM_MUST_CHECK;
/* A 32-byte key for one use of this node's own (the users file's MAC: context "hm-users"),
 * derived from its storage key, which never leaves the node: the same node and context give
 * the same key at every open; another node or context, an unrelated one. context: 1 to 47
 * bytes. out is secret: wipe it (hm_wipe). Needs the node opened with its keys, enrolled or
 * not. Errors: HM_ERR_CRYPTO (opened without keys), HM_ERR_INVALID (context length). */
hm_err hm_node_derive_key(hm_node *node, const char *context, uint8_t out[32]) HM_MUST_CHECK;
/* Sign h with this node's key. */
hm_err hm_node_sign(hm_node *node, const hm_hash *h, hm_signature *sig) HM_MUST_CHECK;
/* Check a peer: its chain verifies to this node's root now, it is not revoked, every issuer in
 * its chain that is revoked provably issued the next certificate before its revocation, and sig
 * is its signature of h. *peer receives its id, role and region. Errors: HM_ERR_CRYPTO with the
 * reason in hm_node_errmsg. */
typedef struct hm_peer {
	hm_node_id id;
	hm_role role;
	char region[HM_REGION_MAX + 1];
	hm_sign_pub sign_pub;
	hm_box_pub box_pub;
} hm_peer;
hm_err hm_node_verify_peer(hm_node *node, const uint8_t *chain, size_t chain_len, const hm_hash *h,
                           const hm_signature *sig, hm_peer *peer) HM_MUST_CHECK;

/* ---- The prevention ledger (ledger.c) ---- */

/* The keyed hash of an ID number that finds one person registered twice (person.id_hash): equal
 * on every node of a county, computable only with the county's first data key. Errors:
 * HM_ERR_NOT_FOUND when this node lacks that key, HM_ERR_INVALID for a malformed number. */
#define HM_ID_HASH_BYTES 16
hm_err hm_node_id_hash(hm_node *node, const char *idnum,
                       char out[2 * HM_ID_HASH_BYTES + 1]) HM_MUST_CHECK;

/* The bound on every station's wall clock, from true time (docs/data-model.md says why a
 * receiver takes a change set up to twice this ahead of its clock): the county's setting
 * clock.max_drift, in whole minutes from 1 to
 * HM_DRIFT_MAX_MINUTES, read by every node when it checks a clock; HM_DRIFT_DEFAULT_MS while the
 * county has not set it. hm_node_opts.max_drift_ms, when set, overrides both (tests). */
#define HM_SETTING_MAX_DRIFT "clock.max_drift"
#define HM_DRIFT_MAX_MINUTES 10080u /* 7 days */
/* Parse a clock.max_drift value into milliseconds. Errors: HM_ERR_INVALID (not a whole number
 * of minutes from 1 to HM_DRIFT_MAX_MINUTES). */
hm_err hm_drift_parse(const char *text, size_t len, uint64_t *ms) HM_MUST_CHECK;

/* ---- How far this station's clock is from its peers' (node/clock.c) ---- */

/* The last offset measured against a peer (a sync handshake carries the server's wall clock). */
typedef struct hm_clock_report {
	bool known;            /* an offset was measured */
	hm_node_id peer;       /* against whom */
	int64_t offset_ms;     /* the peer's clock minus this station's: > 0, we are behind */
	uint64_t measured_ms;  /* when, by this station's clock */
	uint64_t max_drift_ms; /* the bound in force (clock.max_drift) */
	bool off;              /* |offset_ms| > max_drift_ms: this station's clock is wrong */
} hm_clock_report;

/* The node's clock (the injected one, or the system's): unix milliseconds. */
uint64_t hm_node_now_ms(hm_node *n);
/* Record the offset just measured against peer (its clock minus ours), for status; beyond the
 * drift bound, say so in the node's log (a warning). Errors: those of a write. */
hm_err hm_node_clock_note(hm_node *n, const hm_node_id *peer, int64_t offset_ms) HM_MUST_CHECK;
/* A server's view of a client's clock (its clock minus ours): logged when beyond the bound,
 * naming neither as the wrong one; nothing is recorded. */
void hm_node_clock_check_peer(hm_node *n, const hm_node_id *peer, int64_t offset_ms);
/* The last offset recorded and the bound. Errors: those of a read. */
hm_err hm_node_clock_get(hm_node *n, hm_clock_report *out) HM_MUST_CHECK;
/* A duration in words ("3 h 10 min", "2 d 4 h", "12.004 s") into out (cap >= 32). */
void hm_clock_span(char *out, size_t cap, uint64_t ms);

/* A county setting (reward.tip, fever.threshold, ...) into buf. Errors: HM_ERR_NOT_FOUND when the
 * county never set it. */
hm_err hm_node_setting(hm_node *node, const char *name, char *buf, size_t cap) HM_MUST_CHECK;
/* Set one, on the county (HM_ERR_SCHEMA elsewhere): one change set that reaches every node. */
hm_err hm_node_set_setting(hm_node *node, const char *name, const char *value,
                           hm_changeset_info *info) HM_MUST_CHECK;
/* The definition of field in collection c: the schema's own, or one the county added (the
 * `_field` collection, received like any record). An added field merges as lww; out->name
 * borrows name. Errors: HM_ERR_SCHEMA when neither knows the field. */
hm_err hm_node_field(hm_node *node, const hm_collection_def *c, const char *field,
                     hm_field_def *out, char name[HM_NAME_MAX + 1]) HM_MUST_CHECK;
/* On the county (HM_ERR_SCHEMA elsewhere): add field to collection coll, of type text, int,
 * number, bool, date or time; one change set that reaches every node. Errors: HM_ERR_EXISTS,
 * HM_ERR_INVALID (name or type). */
hm_err hm_node_add_field(hm_node *node, const char *coll, const char *field, const char *type,
                         const char *help, hm_changeset_info *info) HM_MUST_CHECK;
/* The word for a type in `_field` records ("text", "int", ...). */
const char *hm_type_word(hm_type t);
/* Formatting helpers used by every front end. */
void hm_node_id_hex(const hm_node_id *id, char out[2 * HM_NODE_ID_BYTES + 1]);
hm_err hm_node_id_parse(const char *hex, hm_node_id *out) HM_MUST_CHECK;

#endif
