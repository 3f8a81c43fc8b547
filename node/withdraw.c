/*
 * withdraw.c - the system records and what they do once applied (hm_trust_after_apply):
 * revocations withdraw what a revoked node wrote after its revocation (and what a revoked
 * issuer enrolled, not provably before it), new data-key epochs are stored, issued certificates
 * logged; then the records are rebuilt from the change sets left (hm_rebuild_records).
 */
#include "trust_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- system records: revocations and data keys ---- */

static bool op_field_str(const msgpack_object *fields, const char *name, char *buf, size_t cap)
{
	for (uint32_t i = 0; i < fields->via.map.size; i++)
		if (hm_mp_str_eq(&fields->via.map.ptr[i].key, name))
			return hm_mp_str_copy(&fields->via.map.ptr[i].val, buf, cap);
	return false;
}

static bool op_field_u64(const msgpack_object *fields, const char *name, uint64_t *out)
{
	for (uint32_t i = 0; i < fields->via.map.size; i++)
		if (hm_mp_str_eq(&fields->via.map.ptr[i].key, name))
			return hm_mp_uint(&fields->via.map.ptr[i].val, out);
	return false;
}

static const char withdrawn_issuer[] =
    "withdrawn: enrolled by a revoked issuer, and not provably before that revocation";

/* Withdraw what node wrote after after_seq: out of the oplog, pending and quarantine, into the
 * evidence (as kind, with reason), or back into pending (to_pending: verified again when it is
 * released). Returns whether applied change sets were withdrawn (the records must be rebuilt). */
static hm_err withdraw_to(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                          enum hm_evidence_kind kind, const char *reason, bool to_pending,
                          bool *rebuild)
{
	static const enum hm_db dbs[] = {HM_DB_OPLOG, HM_DB_PENDING, HM_DB_QUARANTINE};
	hm_vv_entry head;
	uint64_t fork_seq;
	hm_err err;

	*rebuild = false;
	for (size_t d = 0; d < (to_pending ? 1 : sizeof(dbs) / sizeof(dbs[0])); d++) {
		/* A revocation leaves what waits at after_seq + 1: never applied, but its prev is
		 * judged when after_seq is held (apply.c), as where it came first. */
		uint64_t from =
		    after_seq + 1 +
		    (dbs[d] == HM_DB_PENDING && kind == HM_EVIDENCE_REVOKED && after_seq);
		while (1) {
			/* pending keys hold the envelope's id after the opkey */
			uint8_t key[HM_PENDING_KEY_BYTES], *copy;
			MDB_cursor *cur;
			MDB_val k = {HM_OPKEY_BYTES, key}, v;
			hm_envelope env = {0};
			size_t len, kn;
			int rc;

			hm_opkey(key, node, from);
			if ((rc = mdb_cursor_open(txn, n->dbi[dbs[d]], &cur)))
				return hm_store_err(rc);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			mdb_cursor_close(cur);
			if (rc || k.mv_size < HM_OPKEY_BYTES ||
			    memcmp(k.mv_data, node->b, HM_NODE_ID_BYTES) != 0)
				break;
			if (k.mv_size > sizeof(key))
				return hm_node_fail(n, HM_ERR_CORRUPT,
				                    "a change set key is corrupt");
			memcpy(key, k.mv_data, kn = k.mv_size);
			len = v.mv_size;
			if (!(copy = malloc(len ? len : 1)))
				return HM_ERR_NOMEM;
			memcpy(copy, v.mv_data, len);
			env.h.origin = *node;
			env.h.seq = hm_be64_get(key + HM_NODE_ID_BYTES);
			if (to_pending) { /* back to waiting, verified again when it is released */
				uint8_t pkey[HM_PENDING_KEY_BYTES];
				hm_hash id;
				hm_hash_buf(copy, len, &id);
				hm_pending_key(pkey, node, env.h.seq, &id);
				err = hm_store_put(n, txn, HM_DB_PENDING, pkey, sizeof(pkey), copy,
				                   len);
			} else
				err = hm_evidence_put(n, txn, &env, copy, len, kind, reason);
			free(copy);
			if (err || (err = hm_store_del(n, txn, dbs[d], key, kn)))
				return err;
			*rebuild |= dbs[d] == HM_DB_OPLOG;
		}
	}
	if (!*rebuild)
		return HM_OK;
	if ((err = hm_head_get(n, txn, node, &head, &fork_seq)))
		return err;
	head.seq = after_seq;
	memset(head.hash.b, 0, HM_HASH_BYTES);
	head.hlc = 0;
	if (after_seq) {
		uint8_t key[HM_OPKEY_BYTES];
		MDB_val v;
		hm_opkey(key, node, after_seq);
		hm_envelope env;
		const char *why;
		msgpack_zone zone;
		if ((err = hm_store_get(n, txn, HM_DB_OPLOG, key, sizeof(key), &v)))
			return err;
		hm_hash_buf(v.mv_data, v.mv_size, &head.hash);
		if (!msgpack_zone_init(&zone, 1024))
			return HM_ERR_NOMEM;
		if (hm_envelope_open(v.mv_data, v.mv_size, &zone, &env, &why) == HM_OK)
			head.hlc = env.h.hlc;
		msgpack_zone_destroy(&zone);
	}
	return hm_head_set(n, txn, &head, fork_seq);
}

hm_err hm_withdraw(hm_node *n, MDB_txn *txn, const hm_node_id *node, uint64_t after_seq,
                   enum hm_evidence_kind kind, const char *reason, bool *rebuild)
{
	return withdraw_to(n, txn, node, after_seq, kind, reason, false, rebuild);
}

/* The streams of writer this node knows: certificates stored under an id that is not the
 * writer's own. *out owned (free). */
static hm_err writer_streams(hm_node *n, MDB_txn *txn, const hm_node_id *writer, hm_node_id **out,
                             size_t *count)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t cap = 0;
	int rc;

	*out = NULL, *count = 0;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		if (k.mv_size != HM_NODE_ID_BYTES ||
		    !memcmp(k.mv_data, writer->b, HM_NODE_ID_BYTES) ||
		    hm_cert_decode(&c, v.mv_data, v.mv_size) || !hm_node_id_equal(&c.node, writer))
			continue;
		if (*count == cap) {
			hm_node_id *p = realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				mdb_cursor_close(cur);
				return HM_ERR_NOMEM;
			}
			*out = p;
		}
		memcpy((*out)[(*count)++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	return HM_OK;
}

static const char withdrawn_revoked[] = "withdrawn: written after the origin's revocation";
/* After a revocation: every node (or stream) whose certificate chain is no longer honoured
 * loses everything it wrote, as if it had never been heard from; one not proven yet (the
 * issuer's log up to its revocation is not all here) goes back to pending, to be released when
 * the issuer's record of it arrives. Either way the verdict is the one a replica that heard of
 * the revocation first reaches at arrival. */
static hm_err withdraw_unhonoured(hm_node *n, MDB_txn *txn, bool *rebuild)
{
	hm_node_id *drop = NULL;
	bool *wait = NULL;
	size_t ndrop = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	hm_err err = HM_OK;

	*rebuild = false;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		enum hm_verdict vd;
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    hm_node_id_equal(&c.issuer, &c.node))
			continue;
		if ((err = hm_trust_cert_verdict(n, txn, &c, &vd)) || vd == HM_HONOURED)
			continue;
		if (ndrop == cap) {
			hm_node_id *p = realloc(drop, (cap ? cap * 2 : 8) * sizeof(*p));
			bool *w = p ? realloc(wait, (cap ? cap * 2 : 8) * sizeof(*w)) : NULL;
			if (p)
				drop = p;
			if (!w) {
				err = HM_ERR_NOMEM;
				break;
			}
			wait = w, cap = cap ? cap * 2 : 8;
		}
		wait[ndrop] = vd == HM_UNPROVEN;
		memcpy(drop[ndrop++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	for (size_t i = 0; i < ndrop && !err; i++) {
		bool more;
		err = withdraw_to(n, txn, &drop[i], 0, HM_EVIDENCE_ISSUER, withdrawn_issuer,
		                  wait[i], &more);
		*rebuild |= more;
	}
	free(drop);
	free(wait);
	return err;
}

static hm_err apply_revocation(hm_node *n, MDB_txn *txn, const msgpack_object *fields)
{
	char hex[2 * HM_NODE_ID_BYTES + 1], reason[HM_STR_MAX + 1];
	uint8_t val[8 + 256];
	hm_node_id node;
	uint64_t after_seq;
	bool rebuild;
	size_t rn;
	hm_err err;

	if (!op_field_str(fields, "node", hex, sizeof(hex)) || hm_node_id_parse(hex, &node) ||
	    !op_field_u64(fields, "after_seq", &after_seq))
		return HM_OK; /* the schema check let a malformed one through: nothing to do */
	if (!op_field_str(fields, "reason", reason, sizeof(reason)))
		reason[0] = 0;
	rn = strlen(reason) < 256 ? strlen(reason) : 256;
	hm_be64_put(val, after_seq);
	memcpy(val + 8, reason, rn);
	if ((err = hm_store_put(n, txn, HM_DB_REVOKED, node.b, HM_NODE_ID_BYTES, val, 8 + rn)) ||
	    (err = hm_withdraw(n, txn, &node, after_seq, HM_EVIDENCE_REVOKED, withdrawn_revoked,
	                       &rebuild)))
		return err;
	/* The node's streams for other regions: each listed one from the seq the county vouched
	 * for, and any other this node knows from 0 (the county did not vouch for it, and every
	 * replica must take the same of it: nothing). */
	{
		char list[HM_STR_MAX + 1];
		hm_vv streams = {0};
		hm_node_id *known = NULL;
		size_t nknown = 0;
		bool more = false;
		if (op_field_str(fields, "streams", list, sizeof(list)) &&
		    hm_vv_parse(list, &streams) != HM_OK)
			streams.n = 0;
		for (size_t i = 0; i < streams.n && !err; i++) {
			hm_be64_put(val, streams.v[i].seq);
			if (!(err = hm_store_put(n, txn, HM_DB_REVOKED, streams.v[i].origin.b,
			                         HM_NODE_ID_BYTES, val, 8 + rn)))
				err = hm_withdraw(n, txn, &streams.v[i].origin, streams.v[i].seq,
				                  HM_EVIDENCE_REVOKED, withdrawn_revoked, &more);
			rebuild |= more;
		}
		if (!err)
			err = writer_streams(n, txn, &node, &known, &nknown);
		for (size_t i = 0; i < nknown && !err; i++) {
			bool listed = false;
			for (size_t j = 0; j < streams.n && !listed; j++)
				listed = hm_node_id_equal(&streams.v[j].origin, &known[i]);
			if (listed)
				continue;
			err = hm_withdraw(n, txn, &known[i], 0, HM_EVIDENCE_REVOKED,
			                  withdrawn_revoked, &more);
			rebuild |= more;
		}
		free(known);
		hm_vv_release(&streams);
		if (!err)
			err = withdraw_unhonoured(n, txn, &more);
		rebuild |= more;
		if (err)
			return err;
	}
	hm_logf(&n->log, HM_LOG_WARN, "node %s revoked after seq %llu: %s", hex,
	        (unsigned long long)after_seq, reason);
	return rebuild ? hm_records_rebuild(n, txn) : HM_OK;
}

static hm_err apply_datakey(hm_node *n, MDB_txn *txn, const msgpack_object *fields)
{
	char hex[2 * HM_NODE_ID_BYTES + 1], scope[HM_REGION_MAX + 1];
	char wrapped_hex[2 * HM_BOX_SEALED_BYTES + 1];
	uint8_t wrapped[HM_BOX_SEALED_BYTES], key[HM_DATA_KEY_BYTES];
	hm_node_id node;
	uint64_t epoch;
	hm_err err;

	if (!op_field_str(fields, "node", hex, sizeof(hex)) || hm_node_id_parse(hex, &node) ||
	    !hm_node_id_equal(&node, &n->self))
		return HM_OK; /* another node's key */
	if (!op_field_str(fields, "scope", scope, sizeof(scope)) ||
	    !op_field_u64(fields, "epoch", &epoch) || epoch == 0 || epoch > UINT32_MAX ||
	    !op_field_str(fields, "wrapped", wrapped_hex, sizeof(wrapped_hex)) ||
	    hm_hex_decode(wrapped, sizeof(wrapped), wrapped_hex))
		return HM_OK;
	if (hm_box_seal_open(key, &n->ident, wrapped)) {
		hm_logf(&n->log, HM_LOG_WARN, "a data key for %s epoch %llu does not open", scope,
		        (unsigned long long)epoch);
		return HM_OK;
	}
	err = hm_trust_key_store(n, txn, scope, (uint32_t)epoch, key);
	hm_wipe(key, sizeof(key));
	return err;
}

/* A certificate the origin issued: indexed by (origin, subject, certificate hash) with the
 * lowest seq that recorded it, so "issued before the origin's revocation" is one lookup. */
static hm_err apply_issued(hm_node *n, MDB_txn *txn, const hm_envelope *env,
                           const msgpack_object *fields)
{
	char node_hex[2 * HM_NODE_ID_BYTES + 1], cert_hex[2 * HM_HASH_BYTES + 1];
	uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES], seq[8];
	hm_node_id subject;
	hm_hash h;
	MDB_val v;
	size_t kn;
	hm_err err;

	if (!op_field_str(fields, "node", node_hex, sizeof(node_hex)) ||
	    hm_node_id_parse(node_hex, &subject) ||
	    !op_field_str(fields, "cert", cert_hex, sizeof(cert_hex)) ||
	    hm_hex_decode(h.b, sizeof(h.b), cert_hex))
		return HM_OK; /* malformed: records nothing, so vouches for nothing */
	kn = hm_trust_issued_key(key, &env->h.origin, &subject, &h);
	err = hm_store_get(n, txn, HM_DB_ISSUED, key, kn, &v);
	if (err == HM_OK && v.mv_size == 8 && hm_be64_get(v.mv_data) <= env->h.seq)
		return HM_OK;
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	hm_be64_put(seq, env->h.seq);
	return hm_store_put(n, txn, HM_DB_ISSUED, key, kn, seq, sizeof(seq));
}

/* Change sets of nodes certified by issuer that wait in pending at the seq they need next
 * (their verdict may have waited on the issuer's log, which just grew): applied again now,
 * each verified afresh; one still unproven goes back to pending, one refused to the evidence. */
static hm_err release_issued_by(hm_node *n, MDB_txn *txn, const hm_node_id *issuer)
{
	hm_node_id *ids = NULL;
	size_t nids = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	hm_merge_ctx fresh;
	int rc;
	hm_err err = HM_OK;

	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur)))
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    !hm_node_id_equal(&c.issuer, issuer) || hm_node_id_equal(&c.node, issuer))
			continue;
		if (nids == cap) {
			hm_node_id *p = realloc(ids, (cap = cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				err = HM_ERR_NOMEM;
				break;
			}
			ids = p;
		}
		memcpy(ids[nids++].b, k.mv_data, HM_NODE_ID_BYTES);
	}
	mdb_cursor_close(cur);
	if (err || !nids || (err = hm_merge_ctx_init(&fresh))) {
		free(ids);
		return err;
	}
	for (size_t i = 0; i < nids && !err; i++) {
		/* pending keys: opkey, then the version's id */
		uint8_t key[HM_PENDING_KEY_BYTES], *copy;
		hm_vv_entry head;
		uint64_t fork_seq;
		hm_apply_stats st = {0};
		hm_apply_outcome out;
		MDB_cursor *pc;
		MDB_val pk = {HM_OPKEY_BYTES, key};
		size_t len, kn;

		if ((err = hm_head_get(n, txn, &ids[i], &head, &fork_seq)))
			break;
		hm_opkey(key, &ids[i], head.seq + 1);
		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_PENDING], &pc))) {
			err = hm_store_err(rc);
			break;
		}
		rc = mdb_cursor_get(pc, &pk, &v, MDB_SET_RANGE);
		mdb_cursor_close(pc);
		if (rc || pk.mv_size < HM_OPKEY_BYTES || pk.mv_size > sizeof(key) ||
		    memcmp(pk.mv_data, key, HM_OPKEY_BYTES) != 0) {
			err = rc && rc != MDB_NOTFOUND ? hm_store_err(rc) : HM_OK;
			continue;
		}
		memcpy(key, pk.mv_data, kn = pk.mv_size);
		/* LMDB memory dies at the next write: copy before deleting and applying. */
		if (!(copy = malloc(len = v.mv_size))) {
			err = HM_ERR_NOMEM;
			break;
		}
		memcpy(copy, v.mv_data, len);
		if (!(err = hm_store_del(n, txn, HM_DB_PENDING, key, kn)))
			err = hm_apply_one(n, txn, &fresh, copy, len, false, &st, &out);
		free(copy);
	}
	hm_merge_ctx_release(&fresh);
	free(ids);
	return err;
}

hm_err hm_trust_after_apply(hm_node *n, MDB_txn *txn, const hm_envelope *env, hm_merge_ctx *m)
{
	bool issued = false;
	MDB_val rv;
	hm_err err;

	(void)m;
	if (!n->trust)
		return HM_OK;
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *a = env->ops.via.array.ptr[i].via.array.ptr;
		err = HM_OK;
		if (a[0].via.u64 != HM_OP_PUT)
			continue;
		if (hm_mp_str_eq(&a[1], "_revocation"))
			err = apply_revocation(n, txn, &a[3]);
		else if (hm_mp_str_eq(&a[1], "_datakey"))
			err = apply_datakey(n, txn, &a[3]);
		else if (hm_mp_str_eq(&a[1], "_issued") && (issued = true))
			err = apply_issued(n, txn, env, &a[3]);
		if (err)
			return err;
	}
	/* The issuer's log grew: what waited on it may be decided now (after the loop: applying
	 * them reuses the zones env lives in). */
	err = hm_store_get(n, txn, HM_DB_REVOKED, env->h.origin.b, HM_NODE_ID_BYTES, &rv);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	if (issued || err == HM_OK)
		return release_issued_by(n, txn, &env->h.origin);
	return HM_OK;
}

hm_err hm_records_rebuild(hm_node *n, MDB_txn *txn)
{
	hm_merge_ctx fresh;
	hm_err err = hm_merge_ctx_init(&fresh);

	if (err)
		return err;
	err = hm_rebuild_records(n, txn, &fresh);
	hm_merge_ctx_release(&fresh);
	return err;
}

#define KEY_SCOPES_MAX 64

/* The regions of the oplog's sealed change sets of a scope this node holds no data key of at
 * all. Not a scope it holds another epoch of: enrollment hands over only the newest epochs (a
 * station enrolled late lacks the old ones), and a newer one may not have come yet; nor, for
 * the caller, a scope of no region it holds records of (a hub relays what it cannot read). Up
 * to KEY_SCOPES_MAX regions; *many when there are more. */
typedef struct keyless {
	char region[KEY_SCOPES_MAX][HM_REGION_MAX + 1];
	size_t n;
	bool many;
	char held[KEY_SCOPES_MAX][HM_REGION_MAX + 1]; /* scopes and epochs seen held */
	uint32_t held_epoch[KEY_SCOPES_MAX];
	size_t nheld;
} keyless;

static bool seen_held(const keyless *kl, const char *scope, uint32_t epoch)
{
	for (size_t i = 0; i < kl->nheld; i++)
		if (kl->held_epoch[i] == epoch && !strcmp(kl->held[i], scope))
			return true;
	return false;
}

static hm_err keyless_regions(hm_node *n, MDB_txn *txn, msgpack_zone *zone, keyless *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	hm_err err = HM_OK;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_OPLOG], &cur);

	if (rc)
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_envelope env;
		const char *why;
		uint8_t dk[HM_DATA_KEY_BYTES];
		uint32_t epoch;
		size_t i;

		msgpack_zone_clear(zone);
		if (hm_envelope_header(v.mv_data, v.mv_size, zone, &env, &why) ||
		    !(env.h.codec & HM_CODEC_SEALED) || !(epoch = env.h.epoch) ||
		    seen_held(out, env.h.key_scope, epoch))
			continue;
		for (i = 0; i < out->n && strcmp(out->region[i], env.h.region); i++)
			;
		if (i < out->n)
			continue; /* known keyless already */
		err = hm_trust_data_key(n, txn, env.h.key_scope, &epoch, dk);
		if (err == HM_ERR_NOT_FOUND) {
			uint32_t newest = 0;
			hm_err e2 = hm_trust_data_key(n, txn, env.h.key_scope, &newest, dk);
			if (e2 == HM_OK)
				err = HM_OK; /* another epoch held: not given, or not come yet */
			else if (e2 && e2 != HM_ERR_NOT_FOUND)
				err = e2;
		}
		hm_wipe(dk, sizeof(dk));
		if (!err && out->nheld < KEY_SCOPES_MAX) {
			snprintf(out->held[out->nheld], HM_REGION_MAX + 1, "%s", env.h.key_scope);
			out->held_epoch[out->nheld++] = env.h.epoch;
		}
		if (err == HM_ERR_NOT_FOUND && out->n == KEY_SCOPES_MAX)
			out->many = true, err = HM_OK;
		else if (err == HM_ERR_NOT_FOUND)
			snprintf(out->region[out->n++], HM_REGION_MAX + 1, "%s", env.h.region),
			    err = HM_OK;
	}
	mdb_cursor_close(cur);
	return err ? err : rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* Every data key record opens: each is sealed with its own key (scope and epoch) bound in, so a
 * record whose value or key was damaged does not, even one a lookup would never reach (a flipped
 * epoch moves it where nothing asks; the rebuild would then skip its epoch's change sets as not
 * yet given, and drop their records). */
static hm_err keys_open(hm_node *n, MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val k, v;
	msgpack_sbuffer scratch;
	hm_err err = HM_OK;
	int rc = mdb_cursor_open(txn, n->dbi[HM_DB_KEYS], &cur);

	if (rc)
		return hm_store_err(rc);
	msgpack_sbuffer_init(&scratch);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if ((err = hm_seal_open(n, HM_DB_KEYS, &k, &v, &scratch)) && err != HM_ERR_NOMEM)
			err = hm_node_fail(
			    n, HM_ERR_CORRUPT,
			    "a data key of this node does not open: the store is damaged "
			    "and its records are not rebuilt (see docs/reliability.md, "
			    "\"Damaged media\": make a new node and restore it from the "
			    "hub)");
	mdb_cursor_close(cur);
	hm_wipe(scratch.data, scratch.alloc);
	msgpack_sbuffer_destroy(&scratch);
	return err ? err : rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* Before the records go: every data key opens (keys_open), and a change set the rebuild would
 * skip for want of any data key of its scope must not be of a region whose records this node
 * holds. Held, they were merged with a key of that scope: every key of it is gone from a
 * damaged store, and a rebuild would empty them. */
static hm_err keys_still_held(hm_node *n, MDB_txn *txn, hm_merge_ctx *m)
{
	keyless *kl;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	hm_err err;
	int rc = 0;

	if ((err = keys_open(n, txn)))
		return err;
	if (!(kl = calloc(1, sizeof(*kl))))
		return HM_ERR_NOMEM;
	if ((err = keyless_regions(n, txn, &m->envzone, kl)) || (!kl->n && !kl->many))
		goto out;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_RECORDS], &cur)))
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t cn, idn, rn;
		const char *id, *reg;
		if (!hm_record_key_split(k.mv_data, k.mv_size, &cn, &id, &idn, &reg, &rn))
			continue;
		for (size_t i = 0; i < kl->n && !err; i++)
			if (strlen(kl->region[i]) == rn && !memcmp(kl->region[i], reg, rn))
				err = hm_node_fail(n, HM_ERR_CORRUPT,
				                   "the data key of %s, whose records this node "
				                   "holds, is gone from its store: the store is "
				                   "damaged and its records are not rebuilt (see "
				                   "docs/reliability.md, \"Damaged media\": make a "
				                   "new node and restore it from the hub)",
				                   kl->region[i]);
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	free(kl);
	return err ? err : rc && rc != MDB_NOTFOUND ? hm_store_err(rc) : HM_OK;
}

hm_err hm_rebuild_records(hm_node *n, MDB_txn *txn, hm_merge_ctx *m)
{
	uint8_t key[HM_OPKEY_BYTES] = {0};
	int rc;
	hm_err err = HM_OK;

	if (n->trust && (err = keys_still_held(n, txn, m)))
		return err;
	if ((rc = mdb_drop(txn, n->dbi[HM_DB_RECORDS], 0)) ||
	    (rc = mdb_drop(txn, n->dbi[HM_DB_CONFLICTS], 0)))
		return hm_store_err(rc);
	if ((err = hm_changed_note(n, txn, HM_CHANGED_ALL, 1)))
		return err;
	/* Every held change set again, one at a time (merging writes records, which may move the
	 * oplog's pages under a cursor: copy each out and seek past it). */
	while (!err) {
		MDB_cursor *cur;
		MDB_val k = {sizeof(key), key}, v;
		uint8_t *copy;
		size_t len;
		hm_envelope env;
		const char *why;
		bool no_key;

		if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_OPLOG], &cur)))
			return hm_store_err(rc);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == sizeof(key) && memcmp(k.mv_data, key, sizeof(key)) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			break;
		if (rc)
			return hm_store_err(rc);
		if (k.mv_size != sizeof(key) || memcmp(k.mv_data, key, sizeof(key)) <= 0)
			return hm_node_fail(n, HM_ERR_CORRUPT, "the oplog is stored out of order");
		memcpy(key, k.mv_data, sizeof(key));
		if (!(copy = malloc(v.mv_size)))
			return HM_ERR_NOMEM;
		memcpy(copy, v.mv_data, len = v.mv_size);
		msgpack_zone_clear(&m->envzone);
		err = hm_envelope_open(copy, len, &m->envzone, &env, &why);
		if (!err) {
			bool ok;
			enum hm_evidence_kind kind;
			/* Verified at arrival; verify again only to learn the origin's region. */
			err = hm_trust_verify(n, txn, &env, &ok, &kind, &why);
		}
		if (!err)
			err = hm_trust_open_body(n, txn, &env, m, &no_key, &why);
		if (err == HM_ERR_NOT_FOUND && no_key)
			err = HM_OK; /* held for relaying only */
		else
			for (uint32_t i = 0; !err && i < env.ops.via.array.size; i++)
				err = hm_merge_op(n, txn, &env, &env.ops.via.array.ptr[i], m);
		free(copy);
	}
	return err;
}
