/*
 * node_int.h - internals shared by the files of node/. Never included outside node/.
 *
 * The LMDB environment of a node holds these named databases (docs/formats.md has the bytes):
 *
 *   meta        text key -> value         format, id, role, region, name, created, hlc,
 *                                          clock_peer (clock.c)
 *   records     coll 0x00 id 0x00 region -> record    canonical msgpack, see merge.c
 *   oplog       origin(16) seq(8 BE) -> envelope, exactly as received or written
 *   heads       origin(16) -> [seq, hash, hlc, fork_seq]   the version vector
 *   pending     origin(16) seq(8 BE) id(32) -> envelope beyond a gap, every version
 *   quarantine  origin(16) seq(8 BE) id(32) -> envelope whose clock is too far ahead (or no
 *                                         data key yet), every version
 *   evidence    origin(16) seq(8 BE) id(32) -> [kind, reason, envelope]   refused and forks
 *   conflicts   coll 0 id 0 region 0 field 0 hlc(8 BE) origin(16)
 *                                         -> [loser, seq, winner stamp, by_delete]
 *   certs       node(16) -> certificate bytes (verified up to the root when stored)
 *   revoked     node(16) -> after_seq(8 BE) reason
 *   keys        scope 0x00 epoch(4 BE) -> data key (sealed under the storage key)
 *   changed     counter(8 BE) -> record key   each write of a record, in order (changed.c)
 *
 * In trust mode the values of records and conflicts are sealed (hm_seal_put/hm_seal_get).
 */
#ifndef HM_NODE_INT_H
#define HM_NODE_INT_H

#include <lmdb.h>
#include <msgpack.h>
#include <stdatomic.h>
#include <time.h>

#include "i18n.h"
#include "node.h"

#define HM_STORE_FORMAT      4 /* 3: a record key holds its region; 4: the changed log */
#define HM_ENVELOPE_FORMAT   2
#define HM_CODEC_SEALED      1u /* body encrypted under a data key, header as associated data */
#define HM_CODEC_ZSTD        2u /* body compressed (before sealing) */
#define HM_DATA_KEY_BYTES    32
#define HM_REGIONS_PER_WRITE 64 /* change sets one local write may become */

/* The origin a node writes under in region: itself in its own region, else a stream of its own
 * for that region (first 16 bytes of BLAKE2b("hamlet-stream" || node || region)), so that every
 * origin's change sets share one region and route whole. */
void hm_stream_id(const hm_node_id *node, const char *own_region, const char *region,
                  hm_node_id *out);
#define HM_OPKEY_BYTES (HM_NODE_ID_BYTES + 8)

enum hm_db {
	HM_DB_META,
	HM_DB_RECORDS,
	HM_DB_OPLOG,
	HM_DB_HEADS,
	HM_DB_PENDING,
	HM_DB_QUARANTINE,
	HM_DB_EVIDENCE,
	HM_DB_CONFLICTS,
	HM_DB_CERTS,
	HM_DB_REVOKED,
	HM_DB_KEYS,
	HM_DB_ISSUED, /* issuer(16) subject(16) cert hash(32) -> seq(8) of its `_issued` record */
	HM_DB_CHANGED,
	HM_DB__COUNT
};

enum hm_op_kind {
	HM_OP_PUT = 0, /* set lww fields, add to counters, or insert an append-only record */
	HM_OP_DEL = 1, /* delete a record */
};

enum hm_evidence_kind {
	HM_EVIDENCE_REFUSED = 1,
	HM_EVIDENCE_FORK = 2,
	HM_EVIDENCE_FORGED = 3,  /* bad signature, unknown or invalid certificate */
	HM_EVIDENCE_SCOPE = 4,   /* an operation outside the origin's region */
	HM_EVIDENCE_REVOKED = 5, /* written after the origin's revocation */
	HM_EVIDENCE_ISSUER = 6,  /* enrolled by a revoked issuer, not provably before it */
};

/* Change sets beyond a gap wait in pending until the gap closes; those of an origin not known
 * yet wait unverified (its certificate comes with its seq 1), so anyone can fill pending. It is
 * capped per origin and in all; a change set beyond a cap is not kept (no evidence either): it
 * is refused with the cap named in the node's message and counted in hm_apply_stats.refused and
 * .deferred, and its sender sends it again at a later sync or import, once the gap has closed
 * and pending has drained. */
#define HM_PENDING_ORIGIN_MAX   1024u        /* change sets of one origin */
#define HM_PENDING_ORIGIN_BYTES (64u << 20)  /* their envelopes' bytes */
#define HM_PENDING_MAX          16384u       /* change sets of all origins */
#define HM_PENDING_BYTES        (512u << 20) /* bytes of the pending table (its pages) */
typedef struct hm_pending_caps {
	uint64_t origin_count, origin_bytes, count, bytes;
} hm_pending_caps;

struct hm_node {
	MDB_env *env;
	MDB_dbi dbi[HM_DB__COUNT];
	hm_node_id self;
	hm_role role;
	char region[HM_REGION_MAX + 1];
	char name[HM_NAME_MAX + 1];
	uint64_t created_ms;
	hm_clock_fn clock;
	void *clock_ctx;
	uint64_t max_drift_ms;
	hm_pending_caps pending_caps; /* HM_PENDING_*; lowered by tests only */
	uint64_t changed_keep;        /* HM_CHANGED_KEEP; lowered by tests only */
	bool changed_all;             /* the write transaction open has logged HM_CHANGED_ALL */
	bool changed_known; /* changed_last is the log's last counter in that transaction */
	uint64_t changed_last;
	struct hm_reccache *cache;        /* records kept decoded (recache.c), NULL when off */
	struct hm_audit_memo *audit_memo; /* each origin's audit kept (audit.c), NULL when off */
	size_t map_size, map_max;
	bool upgrade; /* an older store format, brought up to date at open */
	hm_logger log;
	char errmsg[512];
	/* trust (trust.c) */
	bool trust, enrolled;
	hm_identity ident;                         /* secret parts wiped at close */
	uint8_t storage_key[HM_STORAGE_KEY_BYTES]; /* secret */
	bool ident_locked, storage_key_locked;     /* kept out of swap (hm_secret_lock) */
	/* Nonces for sealing values: a random prefix drawn at open and a counter, so each seal
	 * needs no system call and no two processes or opens share a nonce. */
	uint8_t seal_prefix[16];
	uint64_t seal_counter;
	hm_sign_pub root;
};

/* ---- store.c ---- */
hm_err hm_store_err(int mdb_rc);
/* Before LMDB maps DIR/data.mdb: both meta pages and the roots the current one names look
 * sound (guard.c). Errors: HM_ERR_CORRUPT with a message naming the damage and the way back. */
hm_err hm_store_guard(hm_node *n, const char *dir);
/* Every page of every tree read from the file as LMDB lays it out, at the commit of a read
 * transaction held meanwhile (guard.c): what LMDB would trust blindly (a page's kind, bounds,
 * records, keys' order, children, large values' pages, the counts a tree's record keeps) before
 * check and repair read the trees through LMDB, which can stop on a damaged page (an assertion)
 * or read outside its map. HM_ERR_CORRUPT names the tree, the page and the damage. */
hm_err hm_store_pages_check(hm_node *n);
/* Take a lock on DIR/lock.mdb (made when gone, as LMDB would) that no process holding the store
 * open lets be taken (guard.c): *lfd holds it (close it to let go). Errors: HM_ERR_BUSY (another
 * process has the store open), HM_ERR_IO; why (cap bytes) says which. */
hm_err hm_store_lock_alone(const char *dir, int *lfd, char *why, size_t cap);
/* The salvage's last look before it puts the new file in place (pages.c): the lock on
 * dir/lock.mdb held by lfd (hm_store_lock_alone, let go meanwhile) taken back whole, so no other
 * process has the store open, and the file's newest commit still txnid, the one copied. Errors:
 * HM_ERR_BUSY (why says which), HM_ERR_IO. */
hm_err hm_store_still_alone(const char *dir, int lfd, uint64_t txnid, uint32_t psize, char *why,
                            size_t cap);
/* Whether name is one of hamlet's trees (store.c). */
bool hm_store_tree_known(const char *name);
/* err, after giving it a message when nothing has said why: what failed, that the store looks
 * damaged, and the way to learn more. For reads of what the node itself wrote. */
hm_err hm_store_damage(hm_node *n, hm_err err, const char *what);
typedef hm_err (*hm_txn_fn)(hm_node *n, MDB_txn *txn, void *ctx);
/* Run fn in a write transaction and commit it durably. On a full map: abort, grow the map
 * (no transaction open), run fn again from scratch; fn must only change ctx in ways a rerun
 * resets. On any other error the transaction is aborted. */
hm_err hm_store_write(hm_node *n, hm_txn_fn fn, void *ctx) HM_MUST_CHECK;
/* Run fn in a write transaction and abort it, whatever fn did (a map that fills grows as for
 * hm_store_write): what fn computes is the result, the store is unchanged. */
hm_err hm_store_trial(hm_node *n, hm_txn_fn fn, void *ctx) HM_MUST_CHECK;
hm_err hm_store_read_begin(hm_node *n, MDB_txn **txn) HM_MUST_CHECK;
hm_err hm_store_get(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn,
                    MDB_val *v) HM_MUST_CHECK;
hm_err hm_store_put(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn,
                    const void *v, size_t vn) HM_MUST_CHECK;
hm_err hm_store_del(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k,
                    size_t kn) HM_MUST_CHECK;
uint64_t hm_now_ms(hm_node *n);

void hm_opkey(uint8_t key[HM_OPKEY_BYTES], const hm_node_id *origin, uint64_t seq);
/* A pending key: the opkey and the envelope's id, so that every version of a seq waits (keys of
 * HM_OPKEY_BYTES alone, written before, are read as well). */
#define HM_PENDING_KEY_BYTES (HM_OPKEY_BYTES + HM_HASH_BYTES)
void hm_pending_key(uint8_t key[HM_PENDING_KEY_BYTES], const hm_node_id *origin, uint64_t seq,
                    const hm_hash *id);
void hm_be64_put(uint8_t *p, uint64_t v);
uint64_t hm_be64_get(const uint8_t *p);

/* ---- mp.c: msgpack helpers ---- */
/* What one decode may allocate. msgpack-c allocates one msgpack_object (24 bytes) per element of
 * every array and two per map entry, before it reads them; strings and byte strings point into
 * the input. A nil is one byte, so a count that fits the bytes can still ask for 24 times them:
 * 2.5 KB of zstd become 16 MiB of nils and 390 MB of objects. So every decode is capped in
 * objects as well as in bytes: HM_DECODED_MAX bytes of objects at most (about 1.4 million), and
 * each decoder states tighter caps of its own format (hm_mp_caps). */
#define HM_DECODED_MAX         (32u << 20)
#define HM_DECODED_OBJECTS_MAX ((uint64_t)HM_DECODED_MAX / sizeof(msgpack_object))
typedef struct hm_mp_caps {
	unsigned depth;      /* nesting, at most HM_DEPTH_MAX */
	uint64_t root_items; /* elements (map: entries x 2) of the outermost array or map */
	uint64_t items;      /* elements of any array or map inside it */
	uint64_t objects;    /* elements in all (the root itself not counted) */
} hm_mp_caps;
/* Check that buf holds exactly one msgpack object, every declared length and count fits in the
 * bytes that remain and within caps, and nesting stays within caps->depth. Run before
 * msgpack_unpack, so that a few bytes that declare a 4 GiB array, or a few KB of compressed nils,
 * are refused before anything is allocated.
 * Errors: HM_ERR_TRUNCATED, HM_ERR_TOO_BIG (depth or count), HM_ERR_CORRUPT. */
hm_err hm_mp_check_caps(const uint8_t *buf, size_t len, const hm_mp_caps *caps) HM_MUST_CHECK;
/* hm_mp_check_caps with max_depth and the general caps (HM_DECODED_OBJECTS_MAX in all). */
hm_err hm_mp_check(const uint8_t *buf, size_t len, unsigned max_depth) HM_MUST_CHECK;
/* hm_mp_check_caps, then unpack into zone (cleared by the caller). */
hm_err hm_mp_decode_caps(const uint8_t *buf, size_t len, const hm_mp_caps *caps, msgpack_zone *zone,
                         msgpack_object *out) HM_MUST_CHECK;
/* hm_mp_decode_caps with the general caps (HM_DEPTH_MAX, HM_DECODED_OBJECTS_MAX). */
hm_err hm_mp_decode(const uint8_t *buf, size_t len, msgpack_zone *zone,
                    msgpack_object *out) HM_MUST_CHECK;
/* A packer's sink that remembers a write that found no memory: msgpack-c's packer goes on after
 * one, leaving a hole in what it packs. Pack through pk, then check failed. */
typedef struct hm_mp_sink {
	msgpack_sbuffer *sb;
	bool failed;
} hm_mp_sink;
void hm_mp_sink_init(hm_mp_sink *s, msgpack_packer *pk, msgpack_sbuffer *sb);
void hm_mp_pack_str(msgpack_packer *pk, const char *s, size_t n);
void hm_mp_pack_cstr(msgpack_packer *pk, const char *s);
void hm_mp_pack_bin(msgpack_packer *pk, const void *p, size_t n);
void hm_mp_pack_value(msgpack_packer *pk, const hm_value *v);
/* Convert an object to a value (strings borrow the object). Errors: HM_ERR_TYPE. */
hm_err hm_mp_to_value(const msgpack_object *o, hm_value *v) HM_MUST_CHECK;
bool hm_mp_uint(const msgpack_object *o, uint64_t *out);
bool hm_mp_int(const msgpack_object *o, int64_t *out);
bool hm_mp_bin(const msgpack_object *o, const uint8_t **p, size_t *n);
bool hm_mp_str_eq(const msgpack_object *o, const char *s);
/* Copy a str object into a NUL-terminated buffer of cap bytes. */
bool hm_mp_str_copy(const msgpack_object *o, char *buf, size_t cap);

/* ---- changeset.c: envelopes ---- */
typedef struct hm_header {
	hm_node_id origin;
	uint64_t seq;
	hm_hash prev;
	hm_hlc hlc;
	uint32_t epoch;
	char region[HM_REGION_MAX + 1];
	uint32_t nops;
	uint32_t codec;                    /* HM_CODEC_* bits; 0: body is plain msgpack */
	char key_scope[HM_REGION_MAX + 1]; /* whose data key sealed the body ("" when plain) */
	hm_bytes certs; /* the origin's certificate chain (seq 1), borrowed; n = 0 when absent */
} hm_header;

/* A decoded envelope. Objects and byte ranges borrow the envelope bytes and the zone. */
typedef struct hm_envelope {
	hm_header h;
	hm_hash id;
	hm_bytes header_bytes, body_bytes, sig;
	msgpack_object ops;                    /* array of ops, valid after hm_envelope_open_body */
	char origin_region[HM_REGION_MAX + 1]; /* where the origin may write (its certificate's) */
	hm_role origin_role;
} hm_envelope;

/* The header's bytes (what the AEAD and the signature cover). */
/* Errors: HM_ERR_NOMEM (out is then not a header). */
hm_err hm_header_encode(const hm_header *h, msgpack_sbuffer *out);
/* Encode header and body (already-packed ops array) into a new envelope in out (cleared first),
 * signed with ident when not NULL. */
hm_err hm_envelope_encode(const hm_header *h, const void *body, size_t body_len,
                          const hm_identity *ident, msgpack_sbuffer *out) HM_MUST_CHECK;
/* The hash an envelope's signature covers. */
void hm_envelope_signed_hash(const hm_bytes *header, const hm_bytes *body, hm_hash *out);
/* Decode the outer frame and header, hash the bytes. Errors: HM_ERR_TOO_BIG, HM_ERR_CORRUPT,
 * HM_ERR_TRUNCATED, HM_ERR_VERSION; reason in *why. */
hm_err hm_envelope_open(const uint8_t *p, size_t n, msgpack_zone *zone, hm_envelope *env,
                        const char **why) HM_MUST_CHECK;
/* The same without the hash (env->id is left zero): for a reader of headers only. */
hm_err hm_envelope_header(const uint8_t *p, size_t n, msgpack_zone *zone, hm_envelope *env,
                          const char **why) HM_MUST_CHECK;
/* The most bytes and decoded objects a body of h->nops operations can need (each operation
 * [kind, coll, id, {field: value} of at most HM_FIELDS_MAX]): what a body may decompress to, and
 * what hm_envelope_open_body lets msgpack-c allocate (never above HM_DECODED_OBJECTS_MAX). */
#define HM_OP_BYTES_MAX                                                                            \
	(5u + 9u + (5u + HM_NAME_MAX) + (5u + HM_ID_MAX) + 5u +                                    \
	 HM_FIELDS_MAX * ((5u + HM_NAME_MAX) + (5u + HM_STR_MAX)))
#define HM_OP_OBJECTS_MAX (1u + 4u + 2u * HM_FIELDS_MAX)
size_t hm_body_max(const hm_header *h);
/* Decode the body into env->ops and check the ops' shape and schema. The body is checked against
 * the caps of its format before msgpack-c allocates anything: exactly nops operations, nesting 3,
 * at most 4 parts to an operation and HM_FIELDS_MAX fields, HM_OP_OBJECTS_MAX objects an
 * operation. Errors: HM_ERR_TOO_BIG, HM_ERR_CORRUPT, HM_ERR_TYPE, HM_ERR_SCHEMA; *why says. */
hm_err hm_envelope_open_body(hm_envelope *env, msgpack_zone *zone, const char **why) HM_MUST_CHECK;

/* ---- merge.c: records and the CRDT rules ---- */
typedef struct hm_rfield {
	const char *name;
	uint32_t name_len;
	hm_value value;
	hm_stamp stamp;
	bool counter; /* merged by the schema's rule for it: from the definition, not stored */
	bool max;
	bool pii; /* personal (HM_F_PII): a nil that wins clears its logged losers */
} hm_rfield;

typedef struct hm_rec {
	hm_stamp tomb; /* hlc 0: never deleted */
	size_t nf;
	hm_rfield f[HM_FIELDS_MAX];
} hm_rec;

/* Decode a stored record (strings borrow buf). Errors: HM_ERR_CORRUPT. */
hm_err hm_rec_decode(const uint8_t *buf, size_t len, msgpack_zone *zone, hm_rec *r) HM_MUST_CHECK;
/* Encode a record (fields sorted by name) into out, replacing its contents. Errors: HM_ERR_NOMEM.
 */
hm_err hm_rec_encode(const hm_rec *r, msgpack_sbuffer *out) HM_MUST_CHECK;
bool hm_rec_live(const hm_rec *r);
const hm_rfield *hm_rec_find(const hm_rec *r, const char *name, size_t len);

/* Reusable buffers for merging, so a batch allocates once. */
typedef struct hm_merge_ctx {
	msgpack_zone envzone;    /* the envelope being applied; cleared per envelope */
	msgpack_zone zone;       /* decoded records; cleared per op */
	msgpack_sbuffer rec;     /* the record being written */
	msgpack_sbuffer confs;   /* conflict entries of one op: [u16 klen][key][u32 vlen][val]... */
	bool confs_nomem;        /* a write to confs found no memory: the op fails */
	msgpack_sbuffer plain;   /* a decrypted body */
	msgpack_sbuffer unz;     /* a decompressed body */
	msgpack_sbuffer sealbuf; /* a value being sealed or opened */
	hm_rec cur;
	size_t conflicts; /* entries written by this ctx, for stats */
	/* personal fields the op being merged cleared: their logged losers go (merge.c) */
	struct {
		const char *name;
		uint32_t len;
	} cleared[HM_FIELDS_MAX];
	size_t ncleared;
} hm_merge_ctx;

hm_err hm_merge_ctx_init(hm_merge_ctx *m) HM_MUST_CHECK;
void hm_merge_ctx_release(hm_merge_ctx *m);

/* Apply one decoded op of env to the records database. */
hm_err hm_merge_op(hm_node *n, MDB_txn *txn, const hm_envelope *env, const msgpack_object *op,
                   hm_merge_ctx *m) HM_MUST_CHECK;
/* Apply every op of env, all or nothing: in trust mode every op's region is checked before
 * any op merges, so one outside the origin's region (HM_ERR_SCHEMA) leaves nothing of the change
 * set behind. */
hm_err hm_merge_changeset(hm_node *n, MDB_txn *txn, const hm_envelope *env,
                          hm_merge_ctx *m) HM_MUST_CHECK;
/* The scope check of hm_merge_changeset alone (it reads no record): HM_ERR_SCHEMA, with the
 * node's message, when an op lies outside the origin's region; HM_OK without keys. */
hm_err hm_merge_scope_check(hm_node *n, const hm_envelope *env) HM_MUST_CHECK;

#define HM_RECORD_KEY_MAX      (HM_NAME_MAX + 1 + HM_ID_MAX + 1 + HM_REGION_MAX)
#define HM_CONFLICT_PREFIX_MAX (HM_RECORD_KEY_MAX + 1 + HM_NAME_MAX + 1)

/* The drift bound in force for checks made inside txn (ledger.c): the override of the node's
 * options, else the county's clock.max_drift as txn sees it, else HM_DRIFT_DEFAULT_MS. */
uint64_t hm_drift_ms(hm_node *n, MDB_txn *txn);

/* Record key: coll 0x00 id 0x00 region. A record's identity includes the region it lives in,
 * so a write in one region can never reach a record of another, whatever id it names. Returns
 * its length, or 0 if it does not fit cap. */
size_t hm_record_key(uint8_t *key, size_t cap, const char *coll, size_t cn, const char *id,
                     size_t idn, const char *region, size_t rn);
/* Find where the live record coll/id lives, for a reader or writer that did not name its region:
 * the one live record of that id, else the one in this node's own region, else the one inside
 * its region. *found false (region
 * "") when none is live. Errors: HM_ERR_AMBIGUOUS (message lists the regions), store errors. */
hm_err hm_record_locate(hm_node *n, MDB_txn *txn, const hm_collection_def *c, const char *id,
                        char region[HM_REGION_MAX + 1], bool *found,
                        msgpack_sbuffer *scratch) HM_MUST_CHECK;
/* Split a record key into its parts (pointers into key). false when it is not one. */
bool hm_record_key_split(const uint8_t *key, size_t kn, size_t *cn, const char **id, size_t *idn,
                         const char **region, size_t *rn);

/* ---- apply.c ---- */
/* Apply one envelope inside txn, then any pending successors it unblocks; local marks our own
 * write (no drift check). Data faults become an outcome; only store faults are errors. */
hm_err hm_apply_one(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, const uint8_t *p, size_t len,
                    bool local, hm_apply_stats *st, hm_apply_outcome *outcome) HM_MUST_CHECK;
/* Head record layout in the heads database: seq(8) hash(32) hlc(8) fork_seq(8), big-endian. */
#define HM_HEAD_BYTES 56
/* The head of origin: seq 0 and a zero hash when none. fork_seq 0 when none. */
hm_err hm_head_get(hm_node *n, MDB_txn *txn, const hm_node_id *origin, hm_vv_entry *e,
                   uint64_t *fork_seq) HM_MUST_CHECK;
hm_err hm_head_set(hm_node *n, MDB_txn *txn, const hm_vv_entry *e, uint64_t fork_seq) HM_MUST_CHECK;
hm_err hm_hlc_load(hm_node *n, MDB_txn *txn, hm_hlc *out) HM_MUST_CHECK;
hm_err hm_hlc_store(hm_node *n, MDB_txn *txn, hm_hlc h) HM_MUST_CHECK;
hm_hlc hm_hlc_tick(hm_hlc last, uint64_t now_ms);

const char *hm_rec_region(const hm_collection_def *c, const hm_rec *r, char *buf, size_t cap);

/* *known: the highest seq of origin (one of this node's own) that a peer claimed to hold beyond
 * head, or 0 when none did (hm_node_note_peer_vv). */
hm_err hm_own_log_behind(hm_node *n, MDB_txn *txn, const hm_node_id *origin, uint64_t head,
                         uint64_t *known) HM_MUST_CHECK;

/* ---- query.c: reading the oplog, shared with check.c ---- */
/* The change set stored at k/v, its envelope opened in zone (cleared first): cs borrows v. */
hm_err hm_oplog_view(const MDB_val *k, const MDB_val *v, msgpack_zone *zone,
                     hm_changeset_view *cs) HM_MUST_CHECK;
/* Reading the oplog origin by origin: the version vector, a read transaction, a cursor. */
typedef struct hm_oplog_walk {
	hm_vv heads;
	MDB_txn *txn;
	MDB_cursor *cur;
	msgpack_zone zone;
} hm_oplog_walk;

/* The version vector, a read transaction and a cursor on the oplog. On error nothing is left
 * to release; else hm_oplog_walk_end releases all. */
hm_err hm_oplog_walk_begin(hm_node *n, hm_oplog_walk *w) HM_MUST_CHECK;
void hm_oplog_walk_end(hm_oplog_walk *w);
/* How many entries db holds (0 on error). */
size_t hm_db_entries(hm_node *n, MDB_txn *txn, enum hm_db db);
/* The digest of the records within scope (all when NULL) in txn (a read transaction of its own
 * when NULL). */
hm_err hm_digest_in(hm_node *n, MDB_txn *txn, const char *scope, hm_hash *out) HM_MUST_CHECK;

/* ---- schema.c ---- */
/* hm_schema_collection and hm_schema_field for a name that is not NUL-terminated (a msgpack
 * string): no copy. NULL when unknown. */
const hm_collection_def *hm_schema_collection_n(const char *name, size_t len);
/* A field name hamlet can carry: 1..HM_NAME_MAX bytes, no space, control character or '='. */
bool hm_field_name_valid(const char *name, size_t len);
const hm_field_def *hm_schema_field_n(const hm_collection_def *c, const char *name, size_t len);

/* A write that may touch system collections (revocations, data keys): trust.c only. */
hm_err hm_write_begin_system(hm_node *n, hm_write **out) HM_MUST_CHECK;

/* ---- codec.c: compressed bodies ---- */
/* Compress body into out when that makes it smaller (*compressed says whether it did). */
hm_err hm_body_compress(const void *body, size_t n, msgpack_sbuffer *out,
                        bool *compressed) HM_MUST_CHECK;
/* Decompress a body of at most max bytes (and HM_ENVELOPE_MAX) into out: the size the zstd frame
 * declares is checked before anything is allocated. Errors: HM_ERR_CORRUPT, HM_ERR_TOO_BIG, with
 * the reason in *why. */
hm_err hm_body_decompress(const uint8_t *z, size_t n, size_t max, msgpack_sbuffer *out,
                          const char **why) HM_MUST_CHECK;

/* ---- changed.c: the log of changed record keys ----
 * Every write of a record (merge.c) appends its key under the next counter; a rebuild of every
 * record appends HM_CHANGED_ALL. A process that keeps records in memory (recache.c) reads the
 * entries after the last it took and reads those records again. Only the last changed_keep
 * entries are kept (pruned a block at a time): a reader further behind reads everything. */
#define HM_CHANGED_KEEP  (256u << 10)
#define HM_CHANGED_BLOCK 1024u
#define HM_CHANGED_ALL   ((const uint8_t *)"") /* with length 1: every record may have changed */
/* Append key (kn bytes; HM_CHANGED_ALL, 1) to the log in txn. Errors: store errors. */
hm_err hm_changed_note(hm_node *n, MDB_txn *txn, const uint8_t *key, size_t kn) HM_MUST_CHECK;
/* The counter of the log's last entry (0: none). Errors: HM_ERR_CORRUPT, store errors. */
hm_err hm_changed_last(hm_node *n, MDB_txn *txn, uint64_t *last) HM_MUST_CHECK;
/* Call fn for each entry after counter after, in order, until it returns nonzero. *whole is set
 * when the entries after after are not all there (pruned) or one is HM_CHANGED_ALL: the reader
 * must read everything (fn may have been called for some). Errors: HM_ERR_CORRUPT, store errors. */
typedef int (*hm_changed_fn)(void *ctx, const uint8_t *key, size_t kn);
hm_err hm_changed_read(hm_node *n, MDB_txn *txn, uint64_t after, hm_changed_fn fn, void *ctx,
                       bool *whole) HM_MUST_CHECK;

/* ---- query.c, for recache.c ---- */
typedef int (*hm_raw_cb)(void *ctx, const hm_collection_def *c, const MDB_val *k, const MDB_val *v,
                         const hm_rec *r);
/* Walk the records of only (NULL: all) in txn (NULL: a read transaction of its own), opened and,
 * when decode, decoded into r; cb returns nonzero to stop. Errors: store errors, HM_ERR_CORRUPT,
 * HM_ERR_CRYPTO, HM_ERR_NOMEM. */
hm_err hm_walk_records(hm_node *n, MDB_txn *in, const hm_collection_def *only, bool decode,
                       hm_raw_cb cb, void *ctx) HM_MUST_CHECK;
/* A decoded record copied into one heap block that owns every string (*size: its bytes).
 * Errors: HM_ERR_NOMEM. */
hm_err hm_record_build(const hm_collection_def *c, const char *id, size_t idn, const char *region,
                       size_t rn, const hm_rec *r, hm_record **out, size_t *size) HM_MUST_CHECK;
/* The record hm_walk_records gives (key k, decoded r) as hm_node_list gives it: *out NULL when
 * it is not live (deleted). Errors: HM_ERR_CORRUPT (a key that is not a record's), those of
 * hm_record_build. */
hm_err hm_record_walked(const hm_collection_def *c, const MDB_val *k, const hm_rec *r,
                        hm_record **out, size_t *size) HM_MUST_CHECK;

/* ---- recache.c ---- */
/* hm_node_list from memory when the cache is on and free (not in use by a caller up the stack
 * or another thread): *served says whether it answered. Errors: those of hm_node_list. */
hm_err hm_reccache_list(hm_node *n, const hm_collection_def *c, hm_record_cb cb, void *ctx,
                        bool *served) HM_MUST_CHECK;
void hm_reccache_free(hm_node *n);
/* ---- audit.c: what an audit found of each origin's change sets, kept (hm_node_audit_keep) ---- */
typedef struct memo_finding {
	hm_finding_kind kind;
	hm_node_id origin; /* as said (a change set that no longer decodes: its certificate's) */
	uint64_t seq;
	hm_hash id;
	char *reason; /* owned */
} memo_finding;

typedef struct memo_origin {
	hm_node_id origin;
	uint64_t seq; /* its change sets 1..seq verified; 0: nothing kept */
	hm_hash top;  /* the id (the hash of the bytes) of change set seq: the chain's prev */
	hm_hlc last;  /* and its clock */
	hm_hash cert; /* of its certificate's bytes as stored; zero: none */
	bool revoked;
	uint64_t revoked_after;
	memo_finding *f; /* what its change sets 1..seq were found, in order */
	size_t nf, capf;
	bool nomem; /* a finding could not be kept: the origin is not */
} memo_origin;

struct hm_audit_memo {
	memo_origin *v;
	size_t n, cap;
	hm_hash keys;     /* of the node's data keys as they stood */
	time_t made;      /* CLOCK_MONOTONIC: dropped HM_AUDIT_KEEP_SECONDS after */
	atomic_flag busy; /* an audit is using it */
};

void hm_audit_memo_free(hm_node *n);

/* ---- seal.c: values at rest ---- */
/* Put value under key in db, sealed under the storage key in trust mode (plain otherwise). */
hm_err hm_seal_put(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn, const void *v,
                   size_t vn, msgpack_sbuffer *scratch) HM_MUST_CHECK;
/* Get and open a value; *v points into LMDB memory or into scratch, valid until either
 * changes. Errors: HM_ERR_NOT_FOUND, HM_ERR_CRYPTO (sealed value altered). */
hm_err hm_seal_get(hm_node *n, MDB_txn *txn, enum hm_db db, const void *k, size_t kn, MDB_val *v,
                   msgpack_sbuffer *scratch) HM_MUST_CHECK;
/* Open a value already read with a cursor (same contract as hm_seal_get). */
hm_err hm_seal_open(hm_node *n, enum hm_db db, const MDB_val *k, MDB_val *v,
                    msgpack_sbuffer *scratch) HM_MUST_CHECK;

/* ---- trust.c ---- */
/* Load the trust state at open (root, enrolled). */
hm_err hm_trust_load(hm_node *n, MDB_txn *txn) HM_MUST_CHECK;
/* Set up trust at create: a county becomes a root of trust. */
hm_err hm_trust_create(hm_node *n, MDB_txn *txn) HM_MUST_CHECK;
/* Verify an envelope's origin before anything else is done with it: certificate (from the
 * certs table, or the chain in the header, verified to the root and stored), signature,
 * validity at its clock, revocation at its seq. Fills env->origin_region/role.
 * HM_OK: verified. Otherwise *kind and *why say why it is refused (data fault, not an error);
 * a store fault returns its error. */
extern const char hm_trust_unknown_origin[];
/* The reason given for a change set whose origin's issuer is revoked while this node does not
 * yet hold the issuer's log up to its revocation: it waits in pending (apply.c). */
extern const char hm_trust_unproven_issuer[];
hm_err hm_trust_verify(hm_node *n, MDB_txn *txn, hm_envelope *env, bool *ok,
                       enum hm_evidence_kind *kind, const char **why) HM_MUST_CHECK;
/* The data key for (scope, epoch), epoch 0: the newest. Errors: HM_ERR_NOT_FOUND. */
hm_err hm_trust_data_key(hm_node *n, MDB_txn *txn, const char *scope, uint32_t *epoch,
                         uint8_t key[HM_DATA_KEY_BYTES]) HM_MUST_CHECK;
/* The scope whose key seals a change set of region r: its township, or the county. */
void hm_trust_key_scope(const char *region, char out[HM_REGION_MAX + 1]);
/* Side effects of system records (_revocation, _datakey) in an applied change set. */
hm_err hm_trust_after_apply(hm_node *n, MDB_txn *txn, const hm_envelope *env,
                            hm_merge_ctx *m) HM_MUST_CHECK;
/* Withdraw what node wrote after after_seq: out of the oplog, pending and quarantine, into the
 * evidence as kind with reason; the head goes back to after_seq (its fork_seq kept). *rebuild
 * says whether applied change sets were withdrawn (the records must then be rebuilt). A
 * revocation (kind HM_EVIDENCE_REVOKED) leaves pending change sets at after_seq + 1: their prev
 * may prove a fork of after_seq, judged when it is held. */
hm_err hm_withdraw(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                   enum hm_evidence_kind kind, const char *reason, bool *rebuild) HM_MUST_CHECK;
/* Re-derive every record from the oplog (after change sets were withdrawn). */
hm_err hm_rebuild_records(hm_node *n, MDB_txn *txn, hm_merge_ctx *m) HM_MUST_CHECK;
/* The same with merge buffers of its own. */
hm_err hm_records_rebuild(hm_node *n, MDB_txn *txn) HM_MUST_CHECK;
/* Open the body of a verified envelope: decrypt (trust mode) and decode. */
hm_err hm_trust_open_body(hm_node *n, MDB_txn *txn, hm_envelope *env, hm_merge_ctx *m, bool *no_key,
                          const char **why) HM_MUST_CHECK;
hm_err hm_trust_key_store(hm_node *n, MDB_txn *txn, const char *scope, uint32_t epoch,
                          const uint8_t key[HM_DATA_KEY_BYTES]) HM_MUST_CHECK;
hm_err hm_trust_cert_store(hm_node *n, MDB_txn *txn, const hm_cert *c) HM_MUST_CHECK;
hm_err hm_trust_cert_get(hm_node *n, MDB_txn *txn, const hm_node_id *id, hm_cert *c) HM_MUST_CHECK;
/* This node's chain, root first, and as bytes for its first change set. */
hm_err hm_trust_own_chain(hm_node *n, MDB_txn *txn, hm_cert *chain, size_t *nc) HM_MUST_CHECK;
hm_err hm_trust_own_chain_bytes(hm_node *n, MDB_txn *txn, uint8_t *out, size_t cap,
                                size_t *len) HM_MUST_CHECK;
/* Whether a certificate chain (root first, nc certificates) is honoured: every issuer below the
 * root is either not revoked, or recorded issuing the next certificate (an `_issued` record in
 * its own log) at a seq no later than its revocation, and that change set is still held.
 * *ok false and *why set when not. Errors: store faults. */
hm_err hm_trust_chain_honoured(hm_node *n, MDB_txn *txn, const hm_cert *chain, size_t nc, bool *ok,
                               const char **why) HM_MUST_CHECK;
/* hm_trust_chain_honoured for a certificate held, its issuers from the certs table. */
hm_err hm_trust_cert_honoured(hm_node *n, MDB_txn *txn, const hm_cert *c, bool *ok) HM_MUST_CHECK;
hm_err hm_evidence_put(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                       size_t len, enum hm_evidence_kind kind, const char *reason) HM_MUST_CHECK;

#endif
