/*
 * audit.c - the county's audit: every envelope the node holds is verified again from its bytes
 * (signature by the origin's certified key, certificate validity at its clock, the hash chain,
 * revocation, each operation's region against the origin's), and everything refused at arrival
 * and kept as evidence is reported, with gaps (a station's change sets that never arrived),
 * clocks out of line, and every node whose certificate chain runs through a revoked issuer.
 * Read-only: one read transaction.
 */
#include "node_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- what an audit found of each origin's change sets, kept (hm_node_audit_keep) ---- */

typedef struct audit {
	hm_node *n;
	MDB_txn *txn;
	const hm_audit_cb *cb;
	size_t findings;
	hm_merge_ctx m;
	int stop;
	struct hm_audit_memo *memo; /* NULL: nothing kept */
	memo_origin *rec;           /* the origin whose findings are being kept */
} audit;

static void memo_clear(memo_origin *o)
{
	for (size_t i = 0; i < o->nf; i++)
		free(o->f[i].reason);
	o->nf = 0, o->seq = 0, o->nomem = false;
}

static void memo_keep(memo_origin *o, const hm_audit_finding *a)
{
	memo_finding *f;

	if (o->nomem)
		return;
	if (o->nf == o->capf) {
		size_t cap = o->capf ? 2 * o->capf : 8;
		memo_finding *v = realloc(o->f, cap * sizeof(*v));
		if (!v) {
			o->nomem = true;
			return;
		}
		o->f = v, o->capf = cap;
	}
	f = &o->f[o->nf];
	f->kind = a->kind, f->origin = a->origin, f->seq = a->seq, f->id = a->id;
	if (!(f->reason = strdup(a->reason))) {
		o->nomem = true;
		return;
	}
	o->nf++;
}

static void report(audit *a, hm_finding_kind kind, const hm_node_id *origin, uint64_t seq,
                   const hm_hash *id, const char *reason)
{
	hm_audit_finding f = {kind, *origin, seq, {{0}}, reason};
	if (id)
		f.id = *id;
	if (a->rec)
		memo_keep(a->rec, &f);
	a->findings++;
	if (a->cb && a->cb->finding && !a->stop)
		a->stop = a->cb->finding(a->cb->ctx, &f);
}

/* Every op that names its record's region must name one inside the origin's. */
static const char *scope_fault(const hm_envelope *env, const char *region)
{
	for (uint32_t i = 0; i < env->ops.via.array.size; i++) {
		const msgpack_object *a = env->ops.via.array.ptr[i].via.array.ptr;
		const hm_collection_def *c;
		char coll[HM_NAME_MAX + 1], r[HM_REGION_MAX + 1];

		if (a[0].via.u64 != HM_OP_PUT || !hm_mp_str_copy(&a[1], coll, sizeof(coll)) ||
		    !(c = hm_schema_collection(coll)))
			continue;
		for (uint32_t j = 0; j < a[3].via.map.size; j++)
			if (hm_mp_str_eq(&a[3].via.map.ptr[j].key, c->region_field) &&
			    hm_mp_str_copy(&a[3].via.map.ptr[j].val, r, sizeof(r)) &&
			    !hm_region_contains(region, r))
				return "an operation writes a record outside the origin's region";
	}
	return NULL;
}

/* Verify one held envelope; *prev and *last_hlc carry the chain along the origin's seqs. */
static hm_err check_envelope(audit *a, const hm_cert *cert, bool has_cert, uint64_t revoked_after,
                             bool revoked, const MDB_val *v, uint64_t want_seq, hm_hash *prev,
                             hm_hlc *last_hlc)
{
	hm_node *n = a->n;
	hm_envelope env;
	const char *why;
	bool no_key;
	hm_err err;

	msgpack_zone_clear(&a->m.envzone);
	if (hm_envelope_open(v->mv_data, v->mv_size, &a->m.envzone, &env, &why)) {
		hm_node_id zero = {{0}};
		report(a, HM_FINDING_REFUSED, cert ? &cert->node : &zero, want_seq, NULL,
		       "a held envelope no longer decodes");
		return HM_OK;
	}
	if (env.h.seq != want_seq || !hm_hash_equal(&env.h.prev, prev))
		report(a, HM_FINDING_BROKEN_CHAIN, &env.h.origin, env.h.seq, &env.id,
		       "seq or prev does not follow the change set before it");
	if (env.h.hlc <= *last_hlc)
		report(a, HM_FINDING_CLOCK, &env.h.origin, env.h.seq, &env.id,
		       "its clock is not after the previous change set's");
	*prev = env.id;
	*last_hlc = env.h.hlc;
	if (!n->trust)
		return HM_OK;
	if (!has_cert) {
		report(a, HM_FINDING_UNKNOWN_ORIGIN, &env.h.origin, env.h.seq, &env.id,
		       "no certificate is known for the origin");
		return HM_OK;
	}
	{
		hm_hash h;
		hm_signature sig;
		uint64_t t = HM_HLC_MS(env.h.hlc) / 1000;
		hm_envelope_signed_hash(&env.header_bytes, &env.body_bytes, &h);
		if (env.sig.n != HM_SIGNATURE_BYTES)
			return report(a, HM_FINDING_BAD_SIGNATURE, &env.h.origin, env.h.seq,
			              &env.id, "unsigned"),
			       HM_OK;
		memcpy(sig.b, env.sig.p, HM_SIGNATURE_BYTES);
		if (hm_verify_hash(&sig, &cert->sign_pub, &h))
			report(a, HM_FINDING_BAD_SIGNATURE, &env.h.origin, env.h.seq, &env.id,
			       "the signature does not verify with the origin's certified key");
		if (t < cert->not_before || t > cert->not_after)
			report(a, HM_FINDING_BAD_SIGNATURE, &env.h.origin, env.h.seq, &env.id,
			       "written outside its certificate's validity");
	}
	if (revoked && env.h.seq > revoked_after)
		report(a, HM_FINDING_AFTER_REVOCATION, &env.h.origin, env.h.seq, &env.id,
		       "held although written after the origin's revocation");
	snprintf(env.origin_region, sizeof(env.origin_region), "%s", cert->region);
	err = hm_trust_open_body(n, a->txn, &env, &a->m, &no_key, &why);
	if (err == HM_ERR_NOT_FOUND && no_key)
		return HM_OK; /* held for relaying; this node cannot read it */
	if (err) {
		report(a, HM_FINDING_BAD_SIGNATURE, &env.h.origin, env.h.seq, &env.id, why);
		return err == HM_ERR_NOMEM ? err : HM_OK;
	}
	if (!hm_region_contains(cert->region, env.h.region) ||
	    (why = scope_fault(&env, cert->region)))
		report(a, HM_FINDING_OUT_OF_SCOPE, &env.h.origin, env.h.seq, &env.id,
		       why ? why : "its region lies outside the origin's");
	return HM_OK;
}

static uint64_t lowest_pending(audit *a, const hm_node_id *origin)
{
	MDB_cursor *cur;
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	uint64_t seq = 0;

	hm_opkey(key, origin, 0);
	if (mdb_cursor_open(a->txn, a->n->dbi[HM_DB_PENDING], &cur))
		return 0;
	if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size >= HM_OPKEY_BYTES &&
	    memcmp(k.mv_data, origin->b, HM_NODE_ID_BYTES) == 0)
		seq = hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES);
	mdb_cursor_close(cur);
	return seq;
}

static memo_origin *memo_of(struct hm_audit_memo *m, const hm_node_id *origin)
{
	for (size_t i = 0; i < m->n; i++)
		if (hm_node_id_equal(&m->v[i].origin, origin))
			return &m->v[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		memo_origin *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		m->v = v, m->cap = cap;
	}
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	m->v[m->n].origin = *origin;
	return &m->v[m->n++];
}

/* The hash of origin's certificate as stored; zero when none is. */
static void cert_hash(audit *a, const hm_node_id *origin, hm_hash *out)
{
	MDB_val v;

	memset(out, 0, sizeof(*out));
	if (hm_store_get(a->n, a->txn, HM_DB_CERTS, origin->b, HM_NODE_ID_BYTES, &v) == HM_OK)
		hm_hash_buf(v.mv_data, v.mv_size, out);
}

/* Whether what is kept of origin o still holds: the same certificate and revocation, and the
 * change set it ended with still held, byte for byte. hamlet replaces a change set only with all
 * those after it (a withdrawal, the chain), so that one changes too; one altered on the disk
 * under the running process, the last one apart, is seen by the next whole audit, at most
 * HM_AUDIT_KEEP_SECONDS later (docs/security.md). */
static bool memo_holds(audit *a, const memo_origin *o, const hm_vv_entry *head, const hm_hash *cert,
                       const hm_audit_origin *now)
{
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val v;
	hm_hash h;

	if (!o->seq || o->nomem || o->seq > head->seq || !hm_hash_equal(&o->cert, cert) ||
	    o->revoked != now->revoked || o->revoked_after != now->revoked_after)
		return false;
	hm_opkey(key, &head->origin, o->seq);
	if (hm_store_get(a->n, a->txn, HM_DB_OPLOG, key, sizeof(key), &v))
		return false;
	hm_hash_buf(v.mv_data, v.mv_size, &h);
	return hm_hash_equal(&h, &o->top);
}

static hm_err audit_origin(audit *a, const hm_vv_entry *head, MDB_cursor *oplog)
{
	hm_audit_origin o = {0};
	hm_cert cert;
	hm_hash prev = {{0}};
	hm_hlc last = 0;
	uint8_t key[HM_OPKEY_BYTES];
	MDB_val k = {sizeof(key), key}, v, rv;
	uint64_t want = 1;
	size_t before = a->findings;
	memo_origin *kept = NULL;
	int rc;
	hm_err err;

	o.origin = head->origin;
	o.seq = head->seq;
	o.last = head->hlc;
	err = hm_trust_cert_get(a->n, a->txn, &head->origin, &cert);
	if (err && err != HM_ERR_NOT_FOUND)
		return err;
	o.has_cert = err == HM_OK;
	if (o.has_cert) {
		o.role = (hm_role)cert.role;
		snprintf(o.region, sizeof(o.region), "%s", cert.region);
	}
	if (hm_store_get(a->n, a->txn, HM_DB_REVOKED, head->origin.b, HM_NODE_ID_BYTES, &rv) ==
	        HM_OK &&
	    rv.mv_size >= 8) {
		o.revoked = true;
		o.revoked_after = hm_be64_get(rv.mv_data);
	}
	if (a->memo && (kept = memo_of(a->memo, &head->origin))) {
		hm_hash ch;
		cert_hash(a, &head->origin, &ch);
		if (memo_holds(a, kept, head, &ch,
		               &o)) { /* what it found, said again, all counted */
			for (size_t i = 0; i < kept->nf; i++)
				report(a, kept->f[i].kind, &kept->f[i].origin, kept->f[i].seq,
				       &kept->f[i].id, kept->f[i].reason);
			want = kept->seq + 1, prev = kept->top, last = kept->last;
		} else {
			memo_clear(kept);
		}
		kept->cert = ch, kept->revoked = o.revoked, kept->revoked_after = o.revoked_after;
		a->rec = kept;
	}
	hm_opkey(key, &head->origin, want);
	for (rc = mdb_cursor_get(oplog, &k, &v, MDB_SET_RANGE); rc == 0 && !a->stop;
	     rc = mdb_cursor_get(oplog, &k, &v, MDB_NEXT), want++) {
		if (memcmp(k.mv_data, head->origin.b, HM_NODE_ID_BYTES) != 0)
			break;
		if ((err = check_envelope(a, o.has_cert ? &cert : NULL, o.has_cert, o.revoked_after,
		                          o.revoked, &v, want, &prev, &last))) {
			if (kept)
				memo_clear(kept);
			a->rec = NULL;
			return err;
		}
	}
	a->rec = NULL;
	if (kept) { /* kept up to the last change set verified, if the walk ran to its end */
		if (a->stop || want - 1 != head->seq || want == 1) {
			memo_clear(kept);
		} else {
			kept->seq = want - 1, kept->top = prev, kept->last = last;
		}
	}
	if (want - 1 != head->seq)
		report(a, HM_FINDING_BROKEN_CHAIN, &head->origin, want, NULL,
		       "the oplog and the version vector disagree");
	if ((o.pending_from = lowest_pending(a, &head->origin))) {
		char why[128];
		snprintf(why, sizeof(why), "seq %llu to %llu never arrived; later ones wait",
		         (unsigned long long)head->seq + 1, (unsigned long long)o.pending_from - 1);
		report(a, HM_FINDING_GAP, &head->origin, head->seq + 1, NULL, why);
	}
	o.findings = a->findings - before;
	if (a->cb && a->cb->origin && !a->stop)
		a->stop = a->cb->origin(a->cb->ctx, &o);
	return HM_OK;
}

static hm_finding_kind evidence_finding(unsigned kind)
{
	switch (kind) {
	case HM_EVIDENCE_FORK:
		return HM_FINDING_FORK;
	case HM_EVIDENCE_FORGED:
		return HM_FINDING_BAD_SIGNATURE;
	case HM_EVIDENCE_SCOPE:
		return HM_FINDING_OUT_OF_SCOPE;
	case HM_EVIDENCE_REVOKED:
		return HM_FINDING_AFTER_REVOCATION;
	case HM_EVIDENCE_ISSUER:
		return HM_FINDING_REVOKED_ISSUER;
	default:
		return HM_FINDING_REFUSED;
	}
}

/* What was refused at arrival, from the evidence table; and what waits in quarantine. */
static hm_err audit_evidence(audit *a)
{
	static const enum hm_db dbs[] = {HM_DB_EVIDENCE, HM_DB_QUARANTINE};
	msgpack_zone zone;

	if (!msgpack_zone_init(&zone, 1024))
		return HM_ERR_NOMEM;
	for (size_t d = 0; d < 2 && !a->stop; d++) {
		MDB_cursor *cur;
		MDB_val k, v;
		int rc = mdb_cursor_open(a->txn, a->n->dbi[dbs[d]], &cur);
		if (rc) {
			msgpack_zone_destroy(&zone);
			return hm_store_err(rc);
		}
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !a->stop;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			hm_node_id origin;
			hm_hash id = {{0}};
			msgpack_object o;
			char reason[256] = "kept as evidence";
			unsigned kind = HM_EVIDENCE_REFUSED;

			if (k.mv_size < HM_OPKEY_BYTES)
				continue;
			memcpy(origin.b, k.mv_data, HM_NODE_ID_BYTES);
			if (dbs[d] == HM_DB_QUARANTINE) {
				hm_hash_buf(v.mv_data, v.mv_size, &id);
				report(
				    a, HM_FINDING_CLOCK, &origin,
				    hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES), &id,
				    "held in quarantine: clock too far ahead, or no data key yet");
				continue;
			}
			if (k.mv_size == HM_OPKEY_BYTES + HM_HASH_BYTES)
				memcpy(id.b, (uint8_t *)k.mv_data + HM_OPKEY_BYTES, HM_HASH_BYTES);
			msgpack_zone_clear(&zone);
			if (hm_mp_decode(v.mv_data, v.mv_size, &zone, &o) == HM_OK &&
			    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 3) {
				uint64_t kk;
				if (hm_mp_uint(&o.via.array.ptr[0], &kk))
					kind = (unsigned)kk;
				hm_mp_str_copy(&o.via.array.ptr[1], reason, sizeof(reason));
			}
			report(a, evidence_finding(kind), &origin,
			       hm_be64_get((uint8_t *)k.mv_data + HM_NODE_ID_BYTES), &id, reason);
		}
		mdb_cursor_close(cur);
	}
	msgpack_zone_destroy(&zone);
	return HM_OK;
}

/* Every node (or stream) whose certificate chain runs through a revoked issuer: one enrolled
 * before the revocation keeps working but is to be re-enrolled under a new issuer key (and, once
 * replaced, retired by its own revocation, after which it is no longer named); one not provably
 * enrolled before it is refused everywhere. */
static hm_err audit_issuers(audit *a)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(a->txn, a->n->dbi[HM_DB_CERTS], &cur);
	hm_err err = HM_OK;

	if (rc)
		return hm_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !a->stop && !err;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c, issuer;
		hm_node_id id;
		MDB_val rv;
		bool ok;
		const char *why;
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    hm_node_id_equal(&c.issuer, &c.node) ||
		    hm_trust_cert_get(a->n, a->txn, &c.issuer, &issuer) ||
		    hm_node_id_equal(&issuer.issuer, &issuer.node))
			continue; /* issued by the root (never revoked) */
		if (hm_store_get(a->n, a->txn, HM_DB_REVOKED, c.issuer.b, HM_NODE_ID_BYTES, &rv))
			continue;
		{
			hm_cert chain[3] = {{0}, issuer, c};
			if (hm_trust_cert_get(a->n, a->txn, &issuer.issuer, &chain[0]))
				continue;
			if ((err = hm_trust_chain_honoured(a->n, a->txn, chain, 3, &ok, &why)))
				break;
		}
		if (ok &&
		    !hm_store_get(a->n, a->txn, HM_DB_REVOKED, c.node.b, HM_NODE_ID_BYTES, &rv))
			continue; /* retired itself: its revocation is the finding */
		memcpy(id.b, k.mv_data, HM_NODE_ID_BYTES);
		report(a, HM_FINDING_REVOKED_ISSUER, &id, 0, NULL,
		       ok ? "enrolled by a revoked issuer before its revocation: re-enroll it "
		            "under a new key of its township"
		          : "enrolled by a revoked issuer, not provably before its revocation: "
		            "refused everywhere");
	}
	mdb_cursor_close(cur);
	return err;
}

static time_t monotonic_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

static void memo_drop(struct hm_audit_memo *m)
{
	for (size_t i = 0; i < m->n; i++) {
		memo_clear(&m->v[i]);
		free(m->v[i].f);
	}
	free(m->v);
	m->v = NULL, m->n = m->cap = 0;
}

void hm_audit_memo_free(hm_node *n)
{
	if (!n->audit_memo)
		return;
	memo_drop(n->audit_memo);
	free(n->audit_memo);
	n->audit_memo = NULL;
}

hm_err hm_node_audit_keep(hm_node *n)
{
	if (n->audit_memo)
		return HM_OK;
	if (!(n->audit_memo = calloc(1, sizeof(*n->audit_memo))))
		return HM_ERR_NOMEM;
	return HM_OK;
}

/* A hash of the node's data keys (what opens a change set's body). */
static hm_err keys_hash(audit *a, hm_hash *out)
{
	hm_hash_state st;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(a->txn, a->n->dbi[HM_DB_KEYS], &cur);

	if (rc)
		return hm_store_err(rc);
	hm_hash_init(&st);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t len[16];
		hm_be64_put(len, k.mv_size), hm_be64_put(len + 8, v.mv_size);
		hm_hash_update(&st, len, sizeof(len));
		hm_hash_update(&st, k.mv_data, k.mv_size);
		hm_hash_update(&st, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	hm_hash_final(&st, out);
	return rc == MDB_NOTFOUND ? HM_OK : hm_store_err(rc);
}

/* The kept audit for this one, if on and not in use: dropped whole when too old or made with
 * other data keys. */
static hm_err memo_take(audit *a)
{
	struct hm_audit_memo *m = a->n->audit_memo;
	hm_hash keys;
	hm_err err;

	if (!m || atomic_flag_test_and_set(&m->busy))
		return HM_OK;
	if ((err = keys_hash(a, &keys))) {
		atomic_flag_clear(&m->busy);
		return err;
	}
	if (m->n && (monotonic_seconds() - m->made >= HM_AUDIT_KEEP_SECONDS ||
	             !hm_hash_equal(&keys, &m->keys)))
		memo_drop(m);
	if (!m->n)
		m->made = monotonic_seconds(), m->keys = keys;
	a->memo = m;
	return HM_OK;
}

hm_err hm_node_audit(hm_node *n, const hm_audit_cb *cb, size_t *nfindings)
{
	audit a = {.n = n, .cb = cb};
	hm_vv heads = {0};
	MDB_cursor *oplog = NULL;
	int rc;
	hm_err err;

	if ((err = hm_node_version_vector(n, &heads)))
		return err;
	if ((err = hm_merge_ctx_init(&a.m))) {
		hm_vv_release(&heads);
		return err;
	}
	if ((err = hm_store_read_begin(n, &a.txn)))
		goto out;
	if ((rc = mdb_cursor_open(a.txn, n->dbi[HM_DB_OPLOG], &oplog))) {
		err = hm_store_err(rc);
		goto out;
	}
	if ((err = memo_take(&a)))
		goto out;
	for (size_t i = 0; i < heads.n && !err && !a.stop; i++)
		err = audit_origin(&a, &heads.v[i], oplog);
	if (!err)
		err = audit_evidence(&a);
	if (!err && n->trust)
		err = audit_issuers(&a);
	if (nfindings)
		*nfindings = a.findings;
out:
	if (a.memo)
		atomic_flag_clear(&a.memo->busy);
	if (oplog)
		mdb_cursor_close(oplog);
	if (a.txn)
		mdb_txn_abort(a.txn);
	hm_merge_ctx_release(&a.m);
	hm_vv_release(&heads);
	return err;
}
