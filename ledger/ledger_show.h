/*
 * ledger_show.h - what every front end (the `hamlet` command, the web interface) shows of a node,
 * built by the ledger: a node's status and its peers, a collection's records, the schema's
 * fields, conflicts, blame and the log of change sets, the audit and signed audit reports, a
 * certificate. Each is a JSON value (json_t, the caller's to release) or text written to a FILE *
 * the caller gives (a terminal, a file, a buffer), so that two front ends show the same figures
 * in the same words. Part of ledger.h, which includes it (include ledger.h, not this file); its
 * conventions are ledger.h's.
 */
#ifndef HM_LEDGER_SHOW_H
#define HM_LEDGER_SHOW_H

#include "ledger.h"

/* ==== A node's status (status.c): who it is, what it holds, its clock, its disk and each
 * peer's last exchanges, as `hamlet status` and the web's sync page show them ==== */

#define HM_STATUS_COLLS 16 /* collections counted (the schema has fewer) */

/* A peer (sync.h's hm_link: name, URL, last success and failure, change sets sent and
 * received), what waits to be sent to it, and with a probe what waits each way now. */
typedef struct hm_status_peer {
	hm_link link;
	long waiting;          /* change sets written or received here since the last sync with it
	                          that it may hold; -1: no sync has succeeded yet (or unknown) */
	bool probed;           /* a probe was asked for */
	bool reachable;        /* with probed: the peer answered within 3 s */
	uint64_t to_send;      /* with reachable: change sets waiting to send */
	uint64_t to_receive;   /* with reachable: change sets waiting to receive */
	char probe_error[256]; /* with probed and !reachable: why */
} hm_status_peer;

typedef struct hm_status {
	hm_node_info info;
	hm_vv vv;                       /* the version vector */
	char *vv_text;                  /* the same as text (hm_vv_format) */
	hm_clock_report clock;          /* against the peer of the last sync */
	const hm_collection_def *colls; /* the schema's collections (borrowed, static) */
	size_t ncoll;                   /* at most HM_STATUS_COLLS */
	size_t counts[HM_STATUS_COLLS]; /* records held in colls[i] */
	bool disk_full;                 /* below HM_DISK_LOW (sync.h) */
	uint64_t disk_free;             /* free bytes; UINT64_MAX when they cannot be measured */
	bool peers_loaded;              /* false: the peers' files could not be read */
	char peers_error[512];          /* then why (the rest of the status stands) */
	hm_status_peer *peers;
	size_t npeers;
} hm_status;

/* Read the status of l's node, whose directory is dir (its peers' files and its disk) into
 * *out, which the caller releases with hm_status_release (also after a failure). With probe,
 * each peer is contacted (3 s at most each) and asked what waits each way. Unreadable peers'
 * files are no error: out->peers_loaded is false and out->peers_error says why. Errors (out
 * released): those of hm_node_info_get, hm_node_version_vector, hm_vv_format,
 * hm_node_clock_get, hm_node_list, and HM_ERR_NOMEM; the reason in hm_node_errmsg(l->node). */
hm_err hm_status_read(hm_ledger *l, const char *dir, bool probe, hm_status *out) HM_MUST_CHECK;
/* As hm_status_read without counting what the node holds (out->counts and the counts of
 * out->info stay zero; out->info has the node's identity as hm_node_ident gives it): the
 * station's links, clock and disk at a cost that does not grow with the ledger (the web's
 * /sync and /peers). Errors as hm_status_read's. */
hm_err hm_status_read_links(hm_ledger *l, const char *dir, bool probe,
                            hm_status *out) HM_MUST_CHECK;
/* Release what s holds; s may be NULL. Never fails. */
void hm_status_release(hm_status *s);
/* s as one JSON document (a new reference; NULL when memory ran out): node_id, role, region,
 * name, trust, enrolled, root, seq, records {COLLECTION: N}, changesets, pending, quarantined,
 * refused, forks, conflicts, version_vector [{origin, seq, hash}], version_vector_text, clock
 * {max_drift_ms, off, offset_ms, peer, measured_ms}, disk {full}, peers [as
 * hm_status_peer_json]. s is borrowed. */
json_t *hm_status_json(const hm_status *s);
/* One peer: {name, url, last_ok_ms, last_error_ms, failures, sent, received, waiting_to_send,
 * last_error} and with a probe "probe": {to_send, to_receive} or {error}. A new reference, or
 * NULL when memory ran out. */
json_t *hm_status_peer_json(const hm_status_peer *p);
/* s as the text of `hamlet status` to f (borrowed), its peers' "ago" counted from now_ms (the
 * clock that stamped their exchanges), then flush f. Errors: HM_ERR_IO (writing failed). */
hm_err hm_status_write(const hm_status *s, uint64_t now_ms, FILE *f) HM_MUST_CHECK;
/* When the clock report k says this station's clock is off: the warning a front end shows
 * ("this station's clock is 3 days behind its peer's, ...: set it right (docs/running.md)")
 * into buf (cap bytes, NUL-terminated), and true. False (buf untouched) when it is right. */
bool hm_status_clock_warning(const hm_clock_report *k, char *buf, size_t cap);
/* b bytes as "12.3 MiB", "1.5 GiB" or "300 KiB" into out (cap bytes). Never fails. */
void hm_status_bytes_text(char *out, size_t cap, uint64_t b);

/* ==== The records of a collection (records.c) ==== */

/* The records of collection coll, or with where (may be NULL) only those whose field equals
 * *where (a record without the field holds nil), to f: as text (hm_text_record each) or with
 * json as one JSON array, "[" the records (hm_json_record) ",\n " apart "]" and a newline;
 * personal fields masked when mask is set. f may be NULL: they are counted only (what a reveal
 * will show). Their number into *count. A failure halfway leaves part of the list written: give
 * a buffer and print it when the call succeeded. Errors: those of hm_node_list, HM_ERR_NOMEM. */
hm_err hm_records_write(hm_ledger *l, const char *coll, const char *field, const hm_value *where,
                        bool mask, bool json, FILE *f, size_t *count) HM_MUST_CHECK;

/* ==== The schema as a node knows it (schema_list.c) ==== */

/* The fields of collection coll (NULL: of every collection but the system ones), the built-in
 * ones (without those hamlet writes itself: *_seen, id_hash) then those the county added.
 * hm_schema_fields_json: a JSON array of {collection, field, type, merge, required, personal,
 * identity, added_by_county, words} into *out (release with json_decref; NULL on failure).
 * hm_schema_fields_write: per collection "NAME: what it holds" and a line per field ("  NAME
 * TYPE MERGE required personal identity  words"), then "added by the county:" and theirs, or
 * "  (none)", to f. Errors: HM_ERR_SCHEMA (no collection coll: "no collection '...'"), those of
 * hm_node_list, HM_ERR_NOMEM; the reason in hm_node_errmsg(l->node). */
hm_err hm_schema_fields_json(hm_ledger *l, const char *coll, json_t **out) HM_MUST_CHECK;
hm_err hm_schema_fields_write(hm_ledger *l, const char *coll, FILE *f) HM_MUST_CHECK;

/* ==== Conflicts, blame and the log (conflicts.c): the values that lost a merge, who set each
 * field of a record, the change sets held, as `hamlet conflicts`, `blame`, `log` and the web's
 * questions page show them ==== */

/* The conflicts (hm_node_conflicts) of coll/id, or of every record when both are NULL, personal
 * values masked when mask is set; their number into *count. hm_conflicts_json: a JSON array of
 * {collection, id, field, lost, lost_stamp, winner_stamp, by_delete} into *out (release with
 * json_decref; NULL on failure, never an array with a value missing). hm_conflicts_write: one
 * line each to f ("COLL/ID FIELD: lost 'VALUE' (ORIGIN:SEQ at TIME) to ORIGIN:SEQ at TIME"),
 * "no conflicts" when there is none; f may be NULL to count them only (what a reveal will show).
 * Errors: those of hm_node_conflicts, HM_ERR_NOMEM; the reason in hm_node_errmsg(l->node). */
hm_err hm_conflicts_json(hm_ledger *l, const char *coll, const char *id, bool mask, json_t **out,
                         size_t *count) HM_MUST_CHECK;
hm_err hm_conflicts_write(hm_ledger *l, const char *coll, const char *id, bool mask, FILE *f,
                          size_t *count) HM_MUST_CHECK;
/* Blame: record r (borrowed, read by the caller) field by field, with the stamp that set each
 * value and the values that lost to it. hm_blame_json: {collection, id, fields: [{field, value,
 * set_by, lost: [as hm_conflicts_json]}]} into *out (release with json_decref; NULL on
 * failure). hm_blame_write: "COLL/ID", then per field "  NAME VALUE", "      set by ORIGIN:SEQ at
 * TIME" and its lost values, to f. Errors: as hm_conflicts_json. */
hm_err hm_blame_json(hm_ledger *l, const hm_record *r, bool mask, json_t **out) HM_MUST_CHECK;
hm_err hm_blame_write(hm_ledger *l, const hm_record *r, bool mask, FILE *f) HM_MUST_CHECK;
/* The change sets l's node holds beyond since (NULL: all), in the order hm_node_changesets gives
 * them. hm_log_json: a JSON array of {origin, seq, id, prev, hlc, time, ops, bytes} into *out
 * (release with json_decref; NULL on failure). hm_log_write: one line each to f ("ORIGIN:SEQ
 * TIME  N ops  BYTES B  ID16"). since and f are borrowed. Errors: those of hm_node_changesets,
 * HM_ERR_NOMEM. */
hm_err hm_log_json(hm_ledger *l, const hm_vv *since, json_t **out) HM_MUST_CHECK;
hm_err hm_log_write(hm_ledger *l, const hm_vv *since, FILE *f) HM_MUST_CHECK;

/* ==== The audit (audit.c): a node's origins and findings, as the audit page and `hamlet
 * audit` show them ==== */

/* The name of a finding's kind, as the audit writes it ("equivocation", "gap", ...). Never
 * NULL: "other" for a kind it does not know. */
const char *hm_audit_finding_name(hm_finding_kind k);
/* The audit of l's node (hm_node_audit) written to f: fmt HM_REPORT_FMT_TEXT (a head naming the
 * auditor, one line per origin, one per finding, and "clean" or "NOT CLEAN" with the count) or
 * HM_REPORT_FMT_JSON (one document {auditor, region, at, origins, findings, clean} on one line,
 * "at" in seconds by the ledger's clock). The number of findings into *nfindings (0 on an
 * error). f is borrowed and flushed. Errors: HM_ERR_INVALID (another fmt; nothing written),
 * those of hm_node_audit, HM_ERR_NOMEM, HM_ERR_IO (writing to f failed; part of the document
 * may have been written); the reason in hm_node_errmsg(l->node). */
hm_err hm_audit_render(hm_ledger *l, hm_report_format fmt, FILE *f,
                       size_t *nfindings) HM_MUST_CHECK;
/* The JSON document of hm_audit_render as a value: *out (release with json_decref; NULL on
 * failure), the findings into *nfindings. Errors: those of hm_node_audit, HM_ERR_NOMEM (a part
 * of the document could not be made: never a document with a part missing). */
hm_err hm_audit_json(hm_ledger *l, json_t **out, size_t *nfindings) HM_MUST_CHECK;
/* The signed audit report of a county: "hamlet audit report v1", the JSON document of
 * hm_audit_render, and "signature HEX by PUBKEY" (ident's Ed25519 signature of the BLAKE2b hash
 * of all that precedes it) into *out (release with free; NULL on failure), its length into
 * *len, the findings into *nfindings. ident is borrowed (the county's identity, unlocked from
 * its key file), or NULL: signed by the node itself with the keys it was opened with
 * (hm_node_sign; a county's key is its root), for a front end that holds no copy of them.
 * Errors: HM_ERR_INVALID (the node is not the county: "only the county signs audit reports"),
 * HM_ERR_CRYPTO (signing failed; with NULL, a node opened without keys), those of
 * hm_audit_render. A report with findings is still a report: HM_OK. */
hm_err hm_audit_sign(hm_ledger *l, const hm_identity *ident, char **out, size_t *len,
                     size_t *nfindings) HM_MUST_CHECK;
/* What a signed audit report (doc[0..len), NUL-terminated, as hm_audit_sign wrote it) says
 * when checked against the county's root key root: */
typedef enum hm_audit_verdict {
	HM_AUDIT_INTACT = 0,   /* signed by root, contents as signed */
	HM_AUDIT_NOT_REPORT,   /* not a signed hamlet audit report at all */
	HM_AUDIT_MALFORMED,    /* its signature line is malformed */
	HM_AUDIT_OTHER_SIGNER, /* signed by another key than root */
	HM_AUDIT_ALTERED,      /* the signature does not verify: the report was altered */
} hm_audit_verdict;
/* Check doc against root (both borrowed). Never fails: the verdict says what is wrong. */
hm_audit_verdict hm_audit_verify(const char *doc, size_t len, const hm_sign_pub *root);

/* A certificate as `enroll sign` and `enroll accept` show it (and the web's peers page): JSON
 * {node_id, role, region, name, serial, not_before, not_after, root} (a new reference; NULL when
 * memory ran out), or text lines (node, role, region, name, and when it has an end, its
 * validity and root key) to f. i and f are borrowed. */
json_t *hm_enroll_info_json(const hm_enroll_info *i);
void hm_enroll_info_write(const hm_enroll_info *i, FILE *f);

#endif
