/*
 * apply.c - exactly-once, in-order application of change sets.
 *
 * For an envelope from origin O with seq s, against our head (O, h):
 *   s <= h            same bytes as the oplog's: duplicate; different: a fork (evidence).
 *   O forked at f     nothing of O from seq f on is applied; the envelope is kept as evidence.
 *                     Seqs below f still apply: other replicas applied them before they
 *                     learnt of the fork.
 *   s >  h + 1        waits in pending until the gap closes.
 *   s == h + 1        prev must be our head's id (else a fork); a clock the receiver may not
 *                     take yet (clock_ripe) goes to quarantine; a body the schema refuses is kept
 * as evidence; otherwise the ops merge, the oplog and the head advance, in the caller's
 * transaction, and pending s + 1 follows.
 *
 * What a node learns of its own log from its peers (it is behind it) is in behind.c.
 */
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void head_encode(uint8_t b[HM_HEAD_BYTES], const hm_vv_entry *e, uint64_t fork_seq)
{
	hm_be64_put(b, e->seq);
	memcpy(b + 8, e->hash.b, HM_HASH_BYTES);
	hm_be64_put(b + 40, e->hlc);
	hm_be64_put(b + 48, fork_seq);
}

hm_err hm_head_get(hm_node *n, MDB_txn *txn, const hm_node_id *origin, hm_vv_entry *e,
                   uint64_t *fork_seq)
{
	MDB_val v;
	hm_err err = hm_store_get(n, txn, HM_DB_HEADS, origin->b, HM_NODE_ID_BYTES, &v);

	memset(e, 0, sizeof(*e));
	e->origin = *origin;
	*fork_seq = 0;
	if (err == HM_ERR_NOT_FOUND)
		return HM_OK;
	if (err)
		return err;
	if (v.mv_size != HM_HEAD_BYTES)
		return hm_node_fail(n, HM_ERR_CORRUPT, "a version vector entry is corrupt");
	e->seq = hm_be64_get(v.mv_data);
	memcpy(e->hash.b, (uint8_t *)v.mv_data + 8, HM_HASH_BYTES);
	e->hlc = hm_be64_get((uint8_t *)v.mv_data + 40);
	*fork_seq = hm_be64_get((uint8_t *)v.mv_data + 48);
	return HM_OK;
}

hm_err hm_head_set(hm_node *n, MDB_txn *txn, const hm_vv_entry *e, uint64_t fork_seq)
{
	uint8_t b[HM_HEAD_BYTES];
	head_encode(b, e, fork_seq);
	return hm_store_put(n, txn, HM_DB_HEADS, e->origin.b, HM_NODE_ID_BYTES, b, sizeof(b));
}

hm_err hm_evidence_put(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                       size_t len, enum hm_evidence_kind kind, const char *reason)
{
	uint8_t key[HM_OPKEY_BYTES + HM_HASH_BYTES];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	hm_mp_sink sink;
	hm_hash id;
	hm_err err;

	hm_hash_buf(p, len, &id);
	hm_opkey(key, &env->h.origin, env->h.seq); /* zero origin and seq when the header is bad */
	memcpy(key + HM_OPKEY_BYTES, id.b, HM_HASH_BYTES);
	msgpack_sbuffer_init(&sb);
	hm_mp_sink_init(&sink, &pk, &sb);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, (uint8_t)kind);
	hm_mp_pack_cstr(&pk, reason);
	hm_mp_pack_bin(&pk, p, len > HM_ENVELOPE_MAX ? 0 : len);
	err = sink.failed
	          ? hm_node_fail(n, HM_ERR_NOMEM, "keeping evidence: out of memory")
	          : hm_store_put(n, txn, HM_DB_EVIDENCE, key, sizeof(key), sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	{
		char hex[2 * HM_NODE_ID_BYTES + 1];
		hm_node_id_hex(&env->h.origin, hex);
		hm_logf(&n->log, HM_LOG_WARN, "%s change set %s:%llu: %s",
		        kind == HM_EVIDENCE_FORK ? "forked" : "refused", hex,
		        (unsigned long long)env->h.seq, reason);
	}
	return err;
}

/* Same bytes as held at (origin, seq) in db? */
static hm_err held_same(hm_node *n, MDB_txn *txn, enum hm_db db, const hm_envelope *env,
                        bool *found, bool *same)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val v;
	hm_hash id;
	hm_err err;

	hm_opkey(key, &env->h.origin, env->h.seq);
	err = hm_store_get(n, txn, db, key, sizeof(key), &v);
	*found = err == HM_OK;
	*same = false;
	if (err == HM_ERR_NOT_FOUND)
		return HM_OK;
	if (err)
		return err;
	hm_hash_buf(v.mv_data, v.mv_size, &id);
	*same = hm_hash_equal(&id, &env->id);
	return HM_OK;
}

/* Does env name another change set as its seq - 1 than the one held? Then the origin signed two
 * versions of seq - 1 (held: seq - 1 <= our head). */
static hm_err prev_differs(hm_node *n, MDB_txn *txn, const hm_envelope *env, bool *differs)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val v;
	hm_hash held;
	hm_err err;

	*differs = false;
	if (env->h.seq <= 1)
		return HM_OK;
	hm_opkey(key, &env->h.origin, env->h.seq - 1);
	if ((err = hm_store_get(n, txn, HM_DB_OPLOG, key, sizeof(key), &v)))
		return err == HM_ERR_NOT_FOUND ? HM_OK : err;
	hm_hash_buf(v.mv_data, v.mv_size, &held);
	*differs = !hm_hash_equal(&held, &env->h.prev);
	return HM_OK;
}

/* Freeze origin at fork_at: everything it wrote from that seq on is withdrawn into the evidence
 * and never applied again, and the records are rebuilt without it. Every replica that learns of
 * a fork at the same seq holds the same of that origin (seqs below fork_at), whichever version
 * it saw first, so forks converge; an earlier fork found later moves the freeze down. */
static hm_err freeze_origin(hm_node *n, MDB_txn *txn, const hm_node_id *origin, uint64_t fork_at)
{
	char reason[96];
	hm_vv_entry e;
	uint64_t fork_seq;
	bool rebuild;
	hm_err err;

	if ((err = hm_head_get(n, txn, origin, &e, &fork_seq)))
		return err;
	if (fork_seq && fork_seq <= fork_at)
		return HM_OK; /* already frozen there or before */
	snprintf(reason, sizeof(reason), "withdrawn: its origin forked at seq %llu",
	         (unsigned long long)fork_at);
	if ((err = hm_withdraw(n, txn, origin, fork_at - 1, HM_EVIDENCE_FORK, reason, &rebuild)) ||
	    (err = hm_head_get(n, txn, origin, &e, &fork_seq)) ||
	    (err = hm_head_set(n, txn, &e, fork_at)))
		return err;
	hm_logf(&n->log, HM_LOG_WARN, "origin forked at seq %llu: %s", (unsigned long long)fork_at,
	        rebuild ? "its change sets from there on are withdrawn and the records rebuilt"
	                : "nothing of it from there on is applied");
	return rebuild ? hm_records_rebuild(n, txn) : HM_OK;
}

#define FORK_VERSIONS_KEPT 4 /* per (origin, seq) at and just after a fork */

/* How many pieces of evidence are kept for (origin, seq). */
static hm_err evidence_count(hm_node *n, MDB_txn *txn, const hm_node_id *origin, uint64_t seq,
                             size_t *count)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_cursor *cur;
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	*count = 0;
	hm_opkey(key, origin, seq);
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_EVIDENCE], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && *count < FORK_VERSIONS_KEPT && k.mv_size >= HM_OPKEY_BYTES &&
	     !memcmp(k.mv_data, key, HM_OPKEY_BYTES);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		(*count)++;
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* A change set of an origin frozen at fork_seq: never applied. The few versions of the forked
 * seq and the one after it are kept (they are the fork's proof, sent on to peers); past those,
 * and beyond, a stolen key could sign without end: nothing more is kept. */
static hm_err frozen_evidence(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                              size_t len, uint64_t fork_seq)
{
	size_t count;
	hm_err err;

	if (env->h.seq > fork_seq + 1)
		return HM_OK;
	if ((err = evidence_count(n, txn, &env->h.origin, env->h.seq, &count)))
		return err;
	if (count >= FORK_VERSIONS_KEPT)
		return HM_OK;
	return hm_evidence_put(n, txn, env, p, len, HM_EVIDENCE_FORK,
	                       "the origin equivocated earlier; nothing beyond is applied");
}

/* env is a second signed version of its origin's seq fork_at (or proves one, as a successor
 * whose prev is not the held change set's): keep it as evidence, freeze the origin there and
 * count a fork. */
static hm_err mark_fork(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                        size_t len, uint64_t fork_at, const char *reason, hm_apply_stats *st,
                        hm_apply_outcome *outcome)
{
	hm_err err;

	st->forks++;
	*outcome = HM_APPLY_FORK;
	err = hm_evidence_put(n, txn, env, p, len, HM_EVIDENCE_FORK, reason);
	return err ? err : freeze_origin(n, txn, &env->h.origin, fork_at);
}

static hm_err refused(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                      size_t len, enum hm_evidence_kind kind, const char *why, hm_apply_stats *st,
                      hm_apply_outcome *outcome)
{
	char reason[sizeof(n->errmsg)];

	/* why may be the node's own message: copy it before formatting it back into place. */
	snprintf(reason, sizeof(reason), "%s", why);
	why = reason;
	hm_node_fail(n, kind == HM_EVIDENCE_SCOPE ? HM_ERR_SCHEMA : HM_ERR_CRYPTO, "%s", why);
	st->refused++;
	*outcome = HM_APPLY_REFUSED;
	return hm_evidence_put(n, txn, env, p, len, kind, why);
}

/* Every distinct version waits in quarantine under its id, as in pending: whether two of them
 * are a fork is judged when each is released, as if it had come then (judged here, a version
 * that will be refused would pass for a fork, on a replica whose clock is behind only). */
static hm_err quarantine(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                         size_t len, const char *why, hm_apply_stats *st, hm_apply_outcome *outcome)
{
	uint8_t key[HM_PENDING_KEY_BYTES];
	MDB_val v;
	hm_err err;

	hm_pending_key(key, &env->h.origin, env->h.seq, &env->id);
	err = hm_store_get(n, txn, HM_DB_QUARANTINE, key, sizeof(key), &v);
	if (err == HM_OK) {
		st->duplicate++;
		*outcome = HM_APPLY_DUPLICATE;
		return HM_OK;
	}
	if (err != HM_ERR_NOT_FOUND ||
	    (err = hm_store_put(n, txn, HM_DB_QUARANTINE, key, sizeof(key), p, len)))
		return err;
	hm_logf(&n->log, HM_LOG_WARN, "quarantined change set %llu: %s",
	        (unsigned long long)env->h.seq, why);
	st->quarantined++;
	*outcome = HM_APPLY_QUARANTINE;
	return HM_OK;
}

/* Which of n->pending_caps (node_int.h) one more change set of origin, len bytes, would pass:
 * *cap names it, NULL when there is room. The caps in all count against change sets not
 * verified yet (origins not known here) only: a certified origin's are bounded by its own caps,
 * so junk under made-up origins, which no one can clear, never keeps them out. */
static hm_err pending_cap_reached(hm_node *n, MDB_txn *txn, const hm_node_id *origin, size_t len,
                                  bool verified, const char **cap)
{
	const hm_pending_caps *c = &n->pending_caps;
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	MDB_cursor *cur;
	MDB_stat ms;
	uint64_t count = 0, bytes = len, table;
	int rc;

	*cap = NULL;
	if ((rc = mdb_stat(txn, n->dbi[HM_DB_PENDING], &ms)))
		return hm_store_err(rc);
	table =
	    (uint64_t)(ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages) * ms.ms_psize;
	if (verified && n->trust)
		; /* a certified origin's: see above (without keys, nothing is certified) */
	else if (ms.ms_entries >= c->count)
		*cap = "change sets of all origins";
	else if (table + len > c->bytes)
		*cap = "bytes of all origins";
	if (*cap)
		return HM_OK;
	/* The origin's entries are one key range; the scan stops at the cap. */
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_PENDING], &cur)))
		return hm_store_err(rc);
	hm_opkey(key, origin, 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && count < c->origin_count && bytes <= c->origin_bytes &&
	     k.mv_size >= HM_OPKEY_BYTES && memcmp(k.mv_data, origin->b, HM_NODE_ID_BYTES) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		count++, bytes += v.mv_size;
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return hm_store_err(rc);
	if (count >= c->origin_count)
		*cap = "change sets of its origin";
	else if (bytes > c->origin_bytes)
		*cap = "bytes of its origin";
	return HM_OK;
}

/* Whether env (len bytes) may wait in pending. When a cap is reached, *admitted is false and the
 * change set is refused without being kept (no evidence: that would be unbounded as well): the
 * node's message names the cap, stats count it, and its sender sends it again later. */
static hm_err pending_admit(hm_node *n, MDB_txn *txn, const hm_envelope *env, size_t len,
                            bool verified, hm_apply_stats *st, hm_apply_outcome *outcome,
                            bool *admitted)
{
	char hex[2 * HM_NODE_ID_BYTES + 1];
	const char *cap;
	hm_err err;

	*admitted = true;
	if ((err = pending_cap_reached(n, txn, &env->h.origin, len, verified, &cap)) || !cap)
		return err;
	*admitted = false;
	hm_node_id_hex(&env->h.origin, hex);
	hm_node_fail(n, HM_ERR_FULL,
	             "deferred change set %s:%llu: it lies beyond a gap and pending is full (the "
	             "cap on %s); not kept: send it again once the gap has closed",
	             hex, (unsigned long long)env->h.seq, cap);
	hm_logf(&n->log, HM_LOG_WARN, "%s", n->errmsg);
	st->refused++;
	st->deferred++;
	*outcome = HM_APPLY_REFUSED;
	return HM_OK;
}

/* env waits in pending, under its id (a duplicate of one waiting is only counted), if the caps
 * let it (pending_admit). */
static hm_err pending_put(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                          size_t len, bool verified, hm_apply_stats *st, hm_apply_outcome *outcome)
{
	uint8_t key[HM_PENDING_KEY_BYTES];
	MDB_val v;
	bool admitted;
	hm_err err;

	hm_pending_key(key, &env->h.origin, env->h.seq, &env->id);
	err = hm_store_get(n, txn, HM_DB_PENDING, key, sizeof(key), &v);
	if (err == HM_OK) {
		st->duplicate++;
		*outcome = HM_APPLY_DUPLICATE;
		return HM_OK;
	}
	if (err != HM_ERR_NOT_FOUND)
		return err;
	if ((err = pending_admit(n, txn, env, len, verified, st, outcome, &admitted)) || !admitted)
		return err;
	if ((err = hm_store_put(n, txn, HM_DB_PENDING, key, sizeof(key), p, len)))
		return err;
	st->pending++;
	*outcome = HM_APPLY_PENDING;
	return HM_OK;
}

/* System collections (names starting with '_') carry revocations and data keys: only the
 * county writes them. A township writes one: `_issued`, the certificates it issued. */
static bool system_ops_allowed(const hm_node *n, const hm_envelope *env)
{
	if (!n->trust || env->origin_role == HM_ROLE_COUNTY)
		return true;
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *coll = &env->ops.via.array.ptr[i].via.array.ptr[1];
		if (env->origin_role == HM_ROLE_TOWNSHIP && hm_mp_str_eq(coll, "_issued"))
			continue;
		if (coll->via.str.size && coll->via.str.ptr[0] == '_')
			return false;
	}
	return true;
}

/* Whether a received change set's clock may be applied now (docs/data-model.md, "Hybrid
 * logical clock"): within twice the drift of our wall clock (each station's wall clock is within
 * the drift of true time, and a stamp never runs ahead of the latest wall clock in its causal past,
 * so an honest stamp is at most two drifts ahead of any honest receiver, however many relays it
 * crossed), or not beyond the clock we already hold (taking it moves our clock nowhere). */
static hm_err clock_ripe(hm_node *n, MDB_txn *txn, hm_hlc hlc, bool *ripe)
{
	uint64_t limit = hm_now_ms(n) + 2 * hm_drift_ms(n, txn);
	hm_hlc held;
	hm_err err;

	*ripe = HM_HLC_MS(hlc) <= limit;
	if (*ripe)
		return HM_OK;
	if ((err = hm_hlc_load(n, txn, &held)))
		return err;
	*ripe = hlc <= held;
	return HM_OK;
}

/* Open env's body and judge it as apply_next does, without merging: *done false when it may be
 * applied (or, at a seq already held, taken as a second version); otherwise it went to
 * quarantine (no data key yet) or was refused, and *outcome says so. scope: check every op's
 * scope here too (apply_next leaves it to the merge, which checks before writing). */
static hm_err judge_body(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, hm_envelope *env,
                         const uint8_t *p, size_t len, bool scope, hm_apply_stats *st,
                         hm_apply_outcome *outcome, bool *done)
{
	const char *why = NULL;
	bool no_key;
	hm_err err;

	*done = true;
	if ((err = hm_trust_open_body(n, txn, env, m, &no_key, &why))) {
		if (no_key)
			return quarantine(n, txn, env, p, len, why, st, outcome);
		if (err == HM_ERR_NOMEM) /* not the change set's fault: nothing is kept */
			return hm_node_fail(n, err, "opening a change set: out of memory");
		return refused(n, txn, env, p, len,
		               err == HM_ERR_CRYPTO ? HM_EVIDENCE_FORGED : HM_EVIDENCE_REFUSED, why,
		               st, outcome);
	}
	if (!system_ops_allowed(n, env))
		return refused(n, txn, env, p, len, HM_EVIDENCE_SCOPE,
		               "only the county writes revocations and data keys", st, outcome);
	if (scope && (err = hm_merge_scope_check(n, env))) {
		if (err != HM_ERR_SCHEMA)
			return err;
		return refused(n, txn, env, p, len, HM_EVIDENCE_SCOPE, hm_node_errmsg(n), st,
		               outcome);
	}
	*done = false;
	return HM_OK;
}

/* Apply a change set known to be next in its origin's order. */
static hm_err apply_next(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, hm_envelope *env,
                         const uint8_t *p, size_t len, bool local, uint64_t fork_seq,
                         hm_apply_stats *st, hm_apply_outcome *outcome)
{
	uint8_t key[HM_OPKEY_BYTES];
	hm_vv_entry e = {0};
	bool done;
	hm_hlc clock;
	hm_err err;

	bool ripe = true;

	if (!local && (err = clock_ripe(n, txn, env->h.hlc, &ripe)))
		return err;
	if (!ripe)
		return quarantine(n, txn, env, p, len, "its clock is beyond the allowed drift", st,
		                  outcome);
	if ((err = judge_body(n, txn, m, env, p, len, false, st, outcome, &done)) || done)
		return err;
	/* Nothing of the change set stays when an op lies outside the origin's region. */
	if ((err = hm_merge_changeset(n, txn, env, m))) {
		if (err != HM_ERR_SCHEMA)
			return err;
		return refused(n, txn, env, p, len, HM_EVIDENCE_SCOPE, hm_node_errmsg(n), st,
		               outcome);
	}
	hm_opkey(key, &env->h.origin, env->h.seq);
	if ((err = hm_store_put(n, txn, HM_DB_OPLOG, key, sizeof(key), p, len)))
		return err;
	e.origin = env->h.origin, e.seq = env->h.seq, e.hash = env->id, e.hlc = env->h.hlc;
	if ((err = hm_head_set(n, txn, &e, fork_seq)) || (err = hm_hlc_load(n, txn, &clock)))
		return err;
	if (env->h.hlc > clock && (err = hm_hlc_store(n, txn, env->h.hlc)))
		return err; /* the receive rule: our next stamp follows everything we have seen */
	if ((err = hm_trust_after_apply(n, txn, env, m)))
		return err;
	st->new_++;
	st->ops += env->h.nops;
	*outcome = HM_APPLY_NEW;
	return HM_OK;
}

/* env, validly signed, is beyond its origin's revocation: never applied. But its prev is the
 * origin's word on its seq - 1, which the revocation vouches for when it is the revoked seq: a
 * prev that is not the held one proves a fork there, as it does where env came before the
 * revocation. Beyond a gap it waits for that seq. */
static hm_err revoked(hm_node *n, MDB_txn *txn, const hm_envelope *env, const uint8_t *p,
                      size_t len, const hm_vv_entry *head, uint64_t fork_seq, const char *why,
                      hm_apply_stats *st, hm_apply_outcome *outcome)
{
	MDB_val v;
	uint64_t cut;
	bool earlier;
	hm_err err;

	err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &v);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	cut = !err && v.mv_size >= 8 ? hm_be64_get(v.mv_data) : 0;
	/* Frozen at the revoked seq or before: it is never held, and nothing here can matter. */
	if (err || !cut || env->h.seq != cut + 1 || (fork_seq && fork_seq <= cut))
		return refused(n, txn, env, p, len, HM_EVIDENCE_REVOKED, why, st, outcome);
	if (head->seq < cut)
		return pending_put(n, txn, env, p, len, true, st, outcome);
	if ((err = prev_differs(n, txn, env, &earlier)))
		return err;
	if (!earlier)
		return refused(n, txn, env, p, len, HM_EVIDENCE_REVOKED, why, st, outcome);
	return mark_fork(
	    n, txn, env, p, len, cut,
	    "beyond the origin's revocation, its prev proves a fork of the revoked seq", st,
	    outcome);
}

/* *origin: the envelope's origin, when its header decoded. */
static const char prev_forked[] =
    "prev does not match the change set held before it (a forked chain)";

/* env, verified (or waiting), is another version of a seq already held: a fork at that seq, or
 * at the one before when its prev proves an earlier fork (the freeze must not depend on how far
 * this replica had got when it arrived). */
static hm_err second_version(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, hm_envelope *env,
                             const uint8_t *p, size_t len, hm_apply_stats *st,
                             hm_apply_outcome *outcome)
{
	bool earlier, done = false;
	hm_err err;

	if ((err = prev_differs(n, txn, env, &earlier)))
		return err;
	/* A second version that would itself be refused (out of scope, a bad body) is refused
	 * here too, not a fork: where it came first it was refused as the next change set, and
	 * the held version applied after it. */
	if (!earlier &&
	    ((err = judge_body(n, txn, m, env, p, len, true, st, outcome, &done)) || done))
		return err;
	if (earlier)
		return mark_fork(n, txn, env, p, len, env->h.seq - 1, prev_forked, st, outcome);
	return mark_fork(n, txn, env, p, len, env->h.seq,
	                 "a different change set for a seq already held", st, outcome);
}

static hm_err apply_env(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, const uint8_t *p, size_t len,
                        bool local, hm_apply_stats *st, hm_apply_outcome *outcome,
                        hm_node_id *origin)
{
	hm_envelope env;
	hm_vv_entry head;
	uint64_t fork_seq;
	const char *why = NULL;
	bool found, same, verified, wait;
	enum hm_evidence_kind kind;
	hm_err err;

	msgpack_zone_clear(&m->envzone);
	if ((err = hm_envelope_open(p, len, &m->envzone, &env, &why))) {
		if (err == HM_ERR_NOMEM) /* not the envelope's fault: nothing is kept */
			return hm_node_fail(n, err, "decoding a change set: out of memory");
		memset(&env, 0, sizeof(env));
		return refused(n, txn, &env, p, len, HM_EVIDENCE_REFUSED, why, st, outcome);
	}
	*origin = env.h.origin;
	if ((err = hm_head_get(n, txn, &env.h.origin, &head, &fork_seq)))
		return err;
	if (env.h.seq <= head.seq) {
		if ((err = held_same(n, txn, HM_DB_OPLOG, &env, &found, &same)))
			return err;
		if (same) {
			st->duplicate++;
			*outcome = HM_APPLY_DUPLICATE;
			return HM_OK;
		}
	}
	if ((err = hm_trust_verify(n, txn, &env, &verified, &kind, &why)))
		return err;
	/* An origin first heard of beyond a gap: its certificate comes with its seq 1, so the
	 * change set waits, unverified, and is verified when the gap closes. One whose issuer is
	 * revoked waits too while the issuer's log up to its revocation is incomplete (trust.c
	 * releases it when that log grows). */
	if (!verified && kind == HM_EVIDENCE_REVOKED)
		return revoked(n, txn, &env, p, len, &head, fork_seq, why, st, outcome);
	wait = !verified && env.h.seq > head.seq &&
	       ((why == hm_trust_unknown_origin && env.h.seq > head.seq + 1) ||
	        why == hm_trust_unproven_issuer);
	if (!verified && !wait)
		return refused(n, txn, &env, p, len, kind, why, st, outcome);
	if (env.h.seq <= head.seq)
		return second_version(n, txn, m, &env, p, len, st, outcome);
	/* At the frozen seq itself, a version's prev may still prove an earlier fork: judged
	 * against the held seq - 1, or waiting for it beyond a gap like any other. */
	if (fork_seq && env.h.seq == fork_seq && env.h.seq > 1 && env.h.seq - 1 <= head.seq) {
		bool earlier;
		if ((err = prev_differs(n, txn, &env, &earlier)))
			return err;
		if (earlier)
			return mark_fork(n, txn, &env, p, len, env.h.seq - 1, prev_forked, st,
			                 outcome);
	}
	if (fork_seq && env.h.seq >= fork_seq &&
	    !(env.h.seq == fork_seq && env.h.seq > head.seq + 1)) {
		st->forks++;
		*outcome = HM_APPLY_FORK;
		return frozen_evidence(n, txn, &env, p, len, fork_seq);
	}
	if (env.h.seq > head.seq + 1 || wait) {
		/* Every distinct version waits, under its id: which are the origin's, and whether
		 * two of them are a fork, is judged when the seq is next, one version after the
		 * other, as if they had come then. Judged now, a version whose origin is not known
		 * yet could not be told from a forgery (anyone can make one), and what was kept
		 * would depend on the order. */
		return pending_put(n, txn, &env, p, len, verified, st, outcome);
	}
	if (!hm_hash_equal(&env.h.prev, &head.hash)) {
		/* Signed by the origin, it names another change set as its seq - 1 than the one
		 * held: proof that the origin signed two versions of seq - 1. */
		return mark_fork(n, txn, &env, p, len, env.h.seq > 1 ? env.h.seq - 1 : 1,
		                 prev_forked, st, outcome);
	}
	return apply_next(n, txn, m, &env, p, len, local, fork_seq, st, outcome);
}

hm_err hm_apply_one(hm_node *n, MDB_txn *txn, hm_merge_ctx *m, const uint8_t *p, size_t len,
                    bool local, hm_apply_stats *st, hm_apply_outcome *outcome)
{
	uint8_t *copy = NULL;
	hm_node_id origin;
	uint64_t seq;
	hm_err err;

	err = apply_env(n, txn, m, p, len, local, st, outcome, &origin);
	/* Release what waits for the next seq, one version at a time, while any waits: the
	 * first that applies advances the head, the others are then judged as versions of a held
	 * seq; one refused leaves the next version its turn. Each turn takes one entry out of
	 * pending, so this ends. */
	while (!err && *outcome == HM_APPLY_NEW) {
		uint8_t key[HM_PENDING_KEY_BYTES];
		hm_apply_outcome next;
		MDB_cursor *cur;
		MDB_val k = {HM_OPKEY_BYTES, key}, v;
		hm_vv_entry head;
		uint64_t fork_seq;
		size_t kn;
		int rc;

		if ((err = hm_head_get(n, txn, &origin, &head, &fork_seq)))
			break;
		seq = head.seq ? head.seq : 1; /* other versions of the head's seq, then the next */
		hm_opkey(key, &origin, seq);
		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_PENDING], &cur))) {
			err = hm_store_err(rc);
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND ||
		    (rc == 0 &&
		     (k.mv_size < HM_OPKEY_BYTES || k.mv_size > sizeof(key) ||
		      memcmp(k.mv_data, origin.b, HM_NODE_ID_BYTES) ||
		      hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES) > head.seq + 1))) {
			err = HM_OK;
			break;
		}
		if (rc) {
			err = hm_store_err(rc);
			break;
		}
		free(copy);
		/* LMDB memory dies at the next write: copy before deleting and applying. */
		if (!(copy = malloc(v.mv_size ? v.mv_size : 1))) {
			err = HM_ERR_NOMEM;
			break;
		}
		memcpy(copy, v.mv_data, v.mv_size);
		p = copy, len = v.mv_size;
		memcpy(key, k.mv_data, kn = k.mv_size);
		if ((err = hm_store_del(n, txn, HM_DB_PENDING, key, kn)))
			break;
		err = apply_env(n, txn, m, p, len, false, st, &next, &origin);
	}
	free(copy);
	return err;
}

typedef struct apply_ctx {
	const hm_bytes *envs;
	size_t n;
	hm_apply_stats st;
	hm_apply_outcome *outcomes;
	hm_merge_ctx m;
} apply_ctx;

static hm_err apply_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	apply_ctx *a = arg;
	hm_err err;

	memset(&a->st, 0, sizeof(a->st)); /* a rerun after the map grew starts over */
	for (size_t i = 0; i < a->n; i++) {
		hm_apply_outcome out;
		if ((err = hm_apply_one(n, txn, &a->m, a->envs[i].p, a->envs[i].n, false, &a->st,
		                        &out)))
			return err;
		if (a->outcomes)
			a->outcomes[i] = out;
	}
	return HM_OK;
}

static void stats_add(hm_apply_stats *to, const hm_apply_stats *from)
{
	to->new_ += from->new_;
	to->duplicate += from->duplicate;
	to->pending += from->pending;
	to->quarantined += from->quarantined;
	to->refused += from->refused;
	to->forks += from->forks;
	to->deferred += from->deferred;
	to->ops += from->ops;
}

hm_err hm_node_apply(hm_node *n, const hm_bytes *envs, size_t count, hm_apply_stats *stats,
                     hm_apply_outcome *outcomes)
{
	apply_ctx a = {.envs = envs, .n = count, .outcomes = outcomes};
	hm_err err;

	if (n->trust && !n->enrolled)
		return hm_node_fail(
		    n, HM_ERR_CRYPTO,
		    "this node is not enrolled yet: it has no root of trust to verify "
		    "change sets against (run `hamlet enroll accept` first)");
	if ((err = hm_merge_ctx_init(&a.m)))
		return err;
	err = hm_store_write(n, apply_txn, &a);
	if (!err && stats)
		stats_add(stats, &a.st);
	hm_merge_ctx_release(&a.m);
	return err;
}

typedef struct release_ctx {
	hm_apply_stats st;
	hm_merge_ctx m;
} release_ctx;

static hm_err release_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	release_ctx *r = arg;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t key[HM_PENDING_KEY_BYTES]; /* opkey and id; an opkey alone from before */
	size_t kn = 0;
	uint8_t *copy = NULL;
	int rc;
	hm_err err = HM_OK;

	bool started = false;

	memset(&r->st, 0, sizeof(r->st));
	/* One at a time, in key order: find the next ripe entry after the last one tried, copy it
	 * out, close the cursor, apply it. One that goes back to quarantine (still no data key)
	 * is not tried again in this pass. */
	while (1) {
		size_t len = 0;
		bool ripe = false;
		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_QUARANTINE], &cur)))
			return hm_store_err(rc);
		k.mv_size = kn, k.mv_data = key;
		rc = mdb_cursor_get(cur, &k, &v, started ? MDB_SET_RANGE : MDB_FIRST);
		if (started && rc == 0 && k.mv_size == kn && memcmp(k.mv_data, key, kn) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			hm_envelope env;
			const char *why;
			msgpack_zone_clear(&r->m.envzone);
			if ((k.mv_size != HM_OPKEY_BYTES && k.mv_size != HM_PENDING_KEY_BYTES) ||
			    hm_envelope_open(v.mv_data, v.mv_size, &r->m.envzone, &env, &why))
				continue;
			bool clock_ok;
			if ((err = clock_ripe(n, txn, env.h.hlc, &clock_ok))) {
				mdb_cursor_close(cur);
				return err;
			}
			if (clock_ok) {
				ripe = started = true;
				memcpy(key, k.mv_data, kn = k.mv_size);
				len = v.mv_size;
				if ((copy = malloc(len ? len : 1)))
					memcpy(copy, v.mv_data, len);
				break;
			}
		}
		mdb_cursor_close(cur);
		if (!ripe)
			break;
		if (!copy)
			return HM_ERR_NOMEM;
		{
			hm_apply_outcome out;
			if (!(err = hm_store_del(n, txn, HM_DB_QUARANTINE, key, kn)))
				err = hm_apply_one(n, txn, &r->m, copy, len, false, &r->st, &out);
		}
		free(copy);
		copy = NULL;
		if (err)
			return err;
	}
	return HM_OK;
}

hm_err hm_node_release_quarantine(hm_node *n, hm_apply_stats *stats)
{
	release_ctx r;
	memset(&r, 0, sizeof(r));
	hm_err err;

	if ((err = hm_merge_ctx_init(&r.m)))
		return err;
	err = hm_store_write(n, release_txn, &r);
	if (!err && stats)
		stats_add(stats, &r.st);
	hm_merge_ctx_release(&r.m);
	return err;
}
