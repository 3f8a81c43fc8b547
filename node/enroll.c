/*
 * enroll.c - joining the county's network by files carried by hand, and leaving it by
 * revocation.
 *
 *   request = "HMREQ\0\0\1" role(1) region_len(1) region name_len(1) name
 *             sign_pub(32) box_pub(32) signature(64)
 *     signed (hm_sign) by the requesting node's own key over every byte before the signature.
 *
 *   answer  = "HMENR\0\0\1" root_pub(32) ncerts(1) { len(2) certificate }*
 *             nkeys(1) { scope_len(1) scope epoch(4) sealed_key(80) }* signature(64)
 *     the chain runs from the root's certificate to the new node's; each data key (the newest
 *     ENROLL_EPOCHS epochs of each scope) is sealed to the new node's X25519 key; the issuer
 *     (the chain's second-to-last certificate) signs the BLAKE2b-256 of every byte before the
 *     signature (hm_sign_hash).
 *
 * A township that issues a certificate records it first in its own log (an `_issued` record:
 * the certificate's hash and the node it is for), so that once it is revoked receivers can tell
 * what it issued before (trust.c).
 *
 * Every length is checked against what remains before it is used.
 */
#include "node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_MAGIC "HMREQ\0\0\1"
#define ANS_MAGIC "HMENR\0\0\1"
#define MAGIC_LEN 8
#define ANSWER_MAX                                                                                 \
	(MAGIC_LEN + 32 + 1 + HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES) + 1 +                    \
	 8 * (1 + HM_REGION_MAX + 4 + HM_BOX_SEALED_BYTES) + HM_SIGNATURE_BYTES)

typedef struct reader {
	const uint8_t *p;
	size_t left;
	bool bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
	const uint8_t *at = r->p;
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n, r->left -= n;
	return at;
}

static unsigned take_u8(reader *r)
{
	const uint8_t *b = take(r, 1);
	return b ? b[0] : 0;
}

static bool take_str(reader *r, char *out, size_t cap)
{
	unsigned n = take_u8(r);
	const uint8_t *b = take(r, n);
	if (!b || n >= cap)
		return false;
	memcpy(out, b, n);
	out[n] = 0;
	return true;
}

/* ---- request ---- */

hm_err hm_enroll_request(hm_node *n, uint8_t **out, size_t *len)
{
	size_t rn = strlen(n->region), nn = strlen(n->name), off = 0;
	uint8_t *buf;
	hm_signature sig;
	hm_err err;

	*out = NULL;
	if (!n->trust)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no keys");
	if (n->enrolled)
		return hm_node_fail(n, HM_ERR_EXISTS, "this node is already enrolled");
	if (!(buf = malloc(MAGIC_LEN + 3 + rn + nn + 64 + HM_SIGNATURE_BYTES)))
		return HM_ERR_NOMEM;
	memcpy(buf, REQ_MAGIC, MAGIC_LEN), off = MAGIC_LEN;
	buf[off++] = (uint8_t)n->role;
	buf[off++] = (uint8_t)rn, memcpy(buf + off, n->region, rn), off += rn;
	buf[off++] = (uint8_t)nn, memcpy(buf + off, n->name, nn), off += nn;
	memcpy(buf + off, n->ident.sign_pub.b, 32), off += 32;
	memcpy(buf + off, n->ident.box_pub.b, 32), off += 32;
	if ((err = hm_sign(&sig, &n->ident, buf, off))) {
		free(buf);
		return err;
	}
	memcpy(buf + off, sig.b, HM_SIGNATURE_BYTES), off += HM_SIGNATURE_BYTES;
	*out = buf; /* owned by the caller */
	*len = off;
	return HM_OK;
}

typedef struct request {
	hm_enroll_info info;
	hm_sign_pub sign_pub;
	hm_box_pub box_pub;
} request;

static hm_err request_parse(const uint8_t *req, size_t len, request *q)
{
	reader r = {req, len, false};
	const uint8_t *magic = take(&r, MAGIC_LEN), *pub, *box, *sigp;
	size_t signed_len;
	hm_signature sig;

	memset(q, 0, sizeof(*q));
	if (!magic || memcmp(magic, REQ_MAGIC, MAGIC_LEN) != 0)
		return len < MAGIC_LEN ? HM_ERR_TRUNCATED : HM_ERR_CORRUPT;
	q->info.role = (hm_role)take_u8(&r);
	if (!take_str(&r, q->info.region, sizeof(q->info.region)) ||
	    !take_str(&r, q->info.name, sizeof(q->info.name)))
		return r.bad ? HM_ERR_TRUNCATED : HM_ERR_CORRUPT;
	pub = take(&r, 32), box = take(&r, 32);
	signed_len = len - r.left;
	sigp = take(&r, HM_SIGNATURE_BYTES);
	if (r.bad)
		return HM_ERR_TRUNCATED;
	if (r.left)
		return HM_ERR_CORRUPT;
	if (q->info.role < HM_ROLE_COUNTY || q->info.role > HM_ROLE_VILLAGE ||
	    !hm_region_valid(q->info.region) || !q->info.name[0])
		return HM_ERR_CORRUPT;
	memcpy(q->sign_pub.b, pub, 32);
	memcpy(q->box_pub.b, box, 32);
	memcpy(sig.b, sigp, HM_SIGNATURE_BYTES);
	if (hm_verify(&sig, &q->sign_pub, req, signed_len))
		return HM_ERR_CRYPTO;
	hm_node_id_from_pub(&q->info.node, &q->sign_pub);
	return HM_OK;
}

hm_err hm_enroll_request_inspect(const uint8_t *req, size_t len, hm_enroll_info *info)
{
	request q;
	hm_err err = request_parse(req, len, &q);
	if (!err)
		*info = q.info;
	return err;
}

/* ---- answer ---- */

typedef struct sign_ctx {
	const request *q;
	uint32_t valid_days;
	bool may_enroll;
	uint8_t *out;
	size_t len;
	hm_enroll_info info;
	hm_cert cert; /* the certificate issued */
} sign_ctx;

#define ENROLL_EPOCHS 4 /* epochs per scope in an answer: 2 scopes fit the 8 keys it holds */

/* One data key (wiped here) sealed to the new node, appended at *off. */
static hm_err append_key(uint8_t *buf, size_t *off, const char *scope, size_t sn, uint32_t epoch,
                         uint8_t key[HM_DATA_KEY_BYTES], const request *q)
{
	hm_err err;

	buf[(*off)++] = (uint8_t)sn;
	memcpy(buf + *off, scope, sn), *off += sn;
	buf[(*off)++] = (uint8_t)(epoch >> 24), buf[(*off)++] = (uint8_t)(epoch >> 16);
	buf[(*off)++] = (uint8_t)(epoch >> 8), buf[(*off)++] = (uint8_t)epoch;
	err = hm_box_seal(buf + *off, &q->box_pub, key);
	hm_wipe(key, HM_DATA_KEY_BYTES);
	if (!err)
		*off += HM_BOX_SEALED_BYTES;
	return err;
}

/* The data keys the new node is entitled to: the county-wide one and its township's (created
 * on first need by the county; a township issuer holds both). Sealed to its X25519 key, appended to
 * the answer at *off. */
static hm_err append_keys(hm_node *n, MDB_txn *txn, const request *q, uint8_t *buf, size_t *off)
{
	char scopes[2][HM_REGION_MAX + 1];
	size_t count_at = (*off)++, count = 0;
	hm_err err;

	/* The county-wide scope is the first segment of any region in the county. */
	snprintf(scopes[0], sizeof(scopes[0]), "%.*s", (int)strcspn(q->info.region, "/"),
	         q->info.region);
	hm_trust_key_scope(q->info.region, scopes[1]);
	for (int i = 0; i < 2; i++) {
		uint8_t key[HM_DATA_KEY_BYTES];
		uint32_t epoch = 0, newest;
		size_t sn = strlen(scopes[i]);

		if (i == 1 && !strcmp(scopes[0], scopes[1]))
			break;
		err = hm_trust_data_key(n, txn, scopes[i], &epoch, key);
		if (err == HM_ERR_NOT_FOUND && n->role == HM_ROLE_COUNTY) {
			hm_random_bytes(key, sizeof(key));
			epoch = 1;
			err = hm_trust_key_store(n, txn, scopes[i], epoch, key);
		}
		if (err) {
			hm_wipe(key, sizeof(key));
			if (err != HM_ERR_NOT_FOUND)
				return hm_node_fail(n, err, "reading the data key for %s: %s",
				                    scopes[i], hm_strerror(err));
			return hm_node_fail(n, HM_ERR_CRYPTO, "this node holds no data key for %s",
			                    scopes[i]);
		}
		/* The newest epochs held (at most ENROLL_EPOCHS): a node enrolled after a
		 * revocation, such as a station re-enrolled under a new township key, still reads
		 * what its scope wrote before it. */
		for (newest = epoch; epoch >= 1 && epoch + ENROLL_EPOCHS > newest; epoch--) {
			uint32_t at = epoch;
			if (at != newest && hm_trust_data_key(n, txn, scopes[i], &at, key))
				continue;
			if ((err = append_key(buf, off, scopes[i], sn, at, key, q)))
				return err;
			count++;
		}
	}
	buf[count_at] = (uint8_t)count;
	return HM_OK;
}

/* The clock tolerance of enrollment (docs/data-model.md, "Hybrid logical clock"): two drifts, as
 * a station's clock and its issuer's may each be off by one, in opposite directions. */
static uint64_t enroll_slack_s(hm_node *n, MDB_txn *txn)
{
	return 2 * hm_drift_ms(n, txn) / 1000;
}

/* An answer's chain, checked at this station's clock. Its certificate starts two drifts before
 * its issuer's clock (sign_txn), so a station behind by up to that accepts it; one further behind
 * is told by how much at least. */
static hm_err verify_answer_chain(hm_node *n, MDB_txn *txn, const hm_sign_pub *root,
                                  const hm_cert *chain, size_t nc)
{
	uint64_t now = hm_now_ms(n) / 1000;
	hm_cert_fault fault;
	size_t at = 0;

	if (!hm_cert_chain_verify(root, chain, nc, now, &fault, &at))
		return HM_OK;
	if (fault != HM_CERT_FAULT_NOT_YET)
		return hm_node_fail(n, HM_ERR_CRYPTO, "the certificate chain does not verify: %s",
		                    hm_cert_fault_str(fault));
	return hm_node_fail(n, HM_ERR_CRYPTO,
	                    "the certificate chain does not verify: %s: this station's clock is "
	                    "more than twice the allowed drift (%llu minutes) behind its issuer's, "
	                    "by at least %llu minutes more: set the clock right and accept again",
	                    hm_cert_fault_str(HM_CERT_FAULT_NOT_YET),
	                    (unsigned long long)(hm_drift_ms(n, txn) / 60000),
	                    (unsigned long long)((chain[at].not_before - now + 59) / 60));
}

static hm_err sign_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	sign_ctx *s = arg;
	const request *q = s->q;
	hm_cert chain[HM_CERT_CHAIN_MAX + 1], *cert;
	hm_identity subject = {0};
	size_t nc, off = 0;
	uint64_t now = hm_now_ms(n) / 1000, serial;
	hm_cert_fault fault;
	hm_signature sig;
	hm_hash h;
	uint8_t *buf;
	hm_err err;

	free(s->out);
	s->out = NULL;
	if ((err = hm_trust_own_chain(n, txn, chain, &nc)))
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no certificate to issue from");
	if (nc >= HM_CERT_CHAIN_MAX)
		return hm_node_fail(n, HM_ERR_CRYPTO, "a %s cannot enroll other nodes",
		                    hm_role_name(n->role));
	cert = &chain[nc];
	subject.id = q->info.node, subject.sign_pub = q->sign_pub, subject.box_pub = q->box_pub;
	hm_random_bytes(&serial, sizeof(serial));
	if ((err = hm_cert_init(cert, &subject, serial >> 1, q->info.role, q->info.region,
	                        now - enroll_slack_s(n, txn), now + (uint64_t)s->valid_days * 86400,
	                        s->may_enroll ? HM_CERT_MAY_ENROLL : 0)) ||
	    (err = hm_cert_sign(cert, &n->ident)))
		return hm_node_fail(n, err,
		                    "the request's role and region do not make a certificate");
	if (hm_cert_chain_verify(&n->root, chain, nc + 1, now, &fault, NULL))
		return hm_node_fail(
		    n, fault == HM_CERT_FAULT_REGION ? HM_ERR_SCHEMA : HM_ERR_CRYPTO,
		    "cannot enroll a %s of %s from here: %s", hm_role_name(q->info.role),
		    q->info.region, hm_cert_fault_str(fault));
	if (!(buf = malloc(ANSWER_MAX)))
		return HM_ERR_NOMEM;
	memcpy(buf, ANS_MAGIC, MAGIC_LEN), off = MAGIC_LEN;
	memcpy(buf + off, n->root.b, 32), off += 32;
	buf[off++] = (uint8_t)(nc + 1);
	for (size_t i = 0; i <= nc; i++) {
		size_t cl;
		if ((err = hm_cert_encode(buf + off + 2, ANSWER_MAX - off - 2, &cl, &chain[i])))
			goto fail;
		buf[off] = (uint8_t)(cl >> 8), buf[off + 1] = (uint8_t)cl;
		off += 2 + cl;
	}
	if ((err = append_keys(n, txn, q, buf, &off)) || (err = hm_trust_cert_store(n, txn, cert)))
		goto fail;
	hm_hash_buf(buf, off, &h);
	if ((err = hm_sign_hash(&sig, &n->ident, &h)))
		goto fail;
	memcpy(buf + off, sig.b, HM_SIGNATURE_BYTES), off += HM_SIGNATURE_BYTES;
	s->out = buf, s->len = off;
	s->cert = *cert;
	s->info = q->info;
	s->info.serial = cert->serial, s->info.not_before = cert->not_before;
	s->info.not_after = cert->not_after, s->info.root = n->root;
	return HM_OK;
fail:
	free(buf);
	return err;
}

/* A township records the certificate it issued in its own log (`_issued`, in its own region so
 * every node that hears from it hears of this): once it is revoked after seq N, receivers honour
 * the certificate only if this record came at a seq <= N (trust.c). The root is never revoked
 * and records nothing. */
static hm_err record_issued(hm_node *n, const hm_cert *c)
{
	char node_hex[2 * HM_NODE_ID_BYTES + 1], hash_hex[2 * HM_HASH_BYTES + 1];
	uint8_t buf[HM_CERT_MAX_BYTES];
	hm_write *w = NULL;
	hm_hash h;
	hm_value v;
	size_t len;
	hm_err err;

	if (n->role == HM_ROLE_COUNTY)
		return HM_OK;
	if ((err = hm_cert_encode(buf, sizeof(buf), &len, c)))
		return err;
	hm_hash_buf(buf, len, &h);
	hm_hex_encode(hash_hex, h.b, sizeof(h.b));
	hm_node_id_hex(&c->node, node_hex);
	if ((err = hm_write_begin_system(n, &w)))
		return err;
	v.kind = HM_V_STR, v.u.s.p = node_hex, v.u.s.n = (uint32_t)strlen(node_hex);
	if ((err = hm_write_set(w, "_issued", hash_hex, "node", &v)))
		goto out;
	v.u.s.p = hash_hex, v.u.s.n = (uint32_t)strlen(hash_hex);
	if ((err = hm_write_set(w, "_issued", hash_hex, "cert", &v)))
		goto out;
	err = hm_write_commit(w, NULL);
	w = NULL;
out:
	hm_write_abort(w);
	return err;
}

hm_err hm_enroll_sign(hm_node *n, const uint8_t *req, size_t len, uint32_t valid_days,
                      bool may_enroll, uint8_t **out, size_t *out_len, hm_enroll_info *info)
{
	request q;
	sign_ctx s = {.q = &q, .valid_days = valid_days, .may_enroll = may_enroll};
	hm_err err;

	*out = NULL;
	if (!n->trust || !n->enrolled)
		return hm_node_fail(n, HM_ERR_CRYPTO,
		                    "only an enrolled county or township enrolls");
	if ((err = request_parse(req, len, &q)))
		return hm_node_fail(n, err, "the request is %s",
		                    err == HM_ERR_CRYPTO
		                        ? _("not signed by the key it carries")
		                        : _("not a well-formed enrollment request"));
	if (valid_days == 0 || valid_days > 3650)
		return hm_node_fail(n, HM_ERR_INVALID, "validity must be 1 to 3650 days");
	if ((err = hm_store_write(n, sign_txn, &s)))
		return err;
	/* No answer leaves without its record: a certificate it does not prove is refused once
	 * this issuer is revoked. */
	if ((err = record_issued(n, &s.cert))) {
		free(s.out);
		return err; /* the write said why */
	}
	*out = s.out; /* owned by the caller */
	*out_len = s.len;
	if (info)
		*info = s.info;
	return HM_OK;
}

typedef struct accept_ctx {
	const uint8_t *ans;
	size_t len;
	const hm_sign_pub *pin;
	hm_enroll_info info;
} accept_ctx;

static hm_err cut_short(hm_node *n)
{
	return hm_node_fail(n, HM_ERR_TRUNCATED, "the enrollment answer is cut short");
}

/* The answer's chain, root first: a count, then each certificate after its length (2 bytes). */
static hm_err take_chain(hm_node *n, reader *r, hm_cert chain[HM_CERT_CHAIN_MAX], size_t *nc)
{
	*nc = take_u8(r);
	if (*nc < 2 || *nc > HM_CERT_CHAIN_MAX)
		return hm_node_fail(n, HM_ERR_CORRUPT, "the answer's chain has %zu certificates",
		                    *nc);
	for (size_t i = 0; i < *nc; i++) {
		size_t cl = (size_t)take_u8(r) << 8;
		const uint8_t *cb;
		cl |= take_u8(r);
		if (!(cb = take(r, cl)))
			return cut_short(n);
		if (hm_cert_decode(&chain[i], cb, cl))
			return hm_node_fail(n, HM_ERR_CORRUPT, "certificate %zu does not decode",
			                    i);
	}
	return HM_OK;
}

/* The answer's nk data keys, each scope, epoch (4 bytes) and key sealed to this node: opened
 * and stored in txn. */
static hm_err take_keys(hm_node *n, MDB_txn *txn, reader *r, size_t nk)
{
	for (size_t i = 0; i < nk; i++) {
		char scope[HM_REGION_MAX + 1];
		const uint8_t *ep, *sealed;
		uint8_t key[HM_DATA_KEY_BYTES];
		uint32_t epoch;
		hm_err err;
		if (!take_str(r, scope, sizeof(scope)) || !(ep = take(r, 4)) ||
		    !(sealed = take(r, HM_BOX_SEALED_BYTES)))
			return cut_short(n);
		epoch =
		    (uint32_t)ep[0] << 24 | (uint32_t)ep[1] << 16 | (uint32_t)ep[2] << 8 | ep[3];
		if (!hm_region_valid(scope) || !epoch || !hm_region_contains(scope, n->region))
			return hm_node_fail(n, HM_ERR_CORRUPT, "a data key is for a foreign scope");
		if (hm_box_seal_open(key, &n->ident, sealed))
			return hm_node_fail(n, HM_ERR_CRYPTO,
			                    "a data key was not sealed to this node");
		err = hm_trust_key_store(n, txn, scope, epoch, key);
		hm_wipe(key, sizeof(key));
		if (err)
			return err;
	}
	return HM_OK;
}

static hm_err accept_txn(hm_node *n, MDB_txn *txn, void *arg)
{
	accept_ctx *a = arg;
	reader r = {a->ans, a->len, false};
	const uint8_t *magic = take(&r, MAGIC_LEN), *rootp, *sigp;
	hm_cert chain[HM_CERT_CHAIN_MAX];
	hm_sign_pub root;
	hm_signature sig;
	hm_hash h;
	size_t nc, nk, signed_len;
	hm_err err;

	if (!magic || memcmp(magic, ANS_MAGIC, MAGIC_LEN) != 0)
		return hm_node_fail(n, HM_ERR_CORRUPT, "not an enrollment answer (bad magic)");
	if (!(rootp = take(&r, 32)))
		goto truncated;
	memcpy(root.b, rootp, 32);
	if ((err = take_chain(n, &r, chain, &nc)))
		return err;
	nk = take_u8(&r);
	if (r.bad)
		goto truncated;
	if (a->pin && !hm_sign_pub_equal(a->pin, &root))
		return hm_node_fail(n, HM_ERR_CRYPTO,
		                    "the answer's root key is not the expected one");
	if ((err = verify_answer_chain(n, txn, &root, chain, nc)))
		return err;
	if (!hm_node_id_equal(&chain[nc - 1].node, &n->self) ||
	    !hm_sign_pub_equal(&chain[nc - 1].sign_pub, &n->ident.sign_pub) ||
	    chain[nc - 1].role != n->role || strcmp(chain[nc - 1].region, n->region) != 0)
		return hm_node_fail(n, HM_ERR_CRYPTO,
		                    "the certificate is not this node's (id, key, role or region)");
	if ((err = take_keys(n, txn, &r, nk)))
		return err;
	signed_len = a->len - r.left;
	if (!(sigp = take(&r, HM_SIGNATURE_BYTES)))
		goto truncated;
	if (r.left)
		return hm_node_fail(n, HM_ERR_CORRUPT, "bytes after the answer's signature");
	memcpy(sig.b, sigp, HM_SIGNATURE_BYTES);
	hm_hash_buf(a->ans, signed_len, &h);
	if (hm_verify_hash(&sig, &chain[nc - 2].sign_pub, &h))
		return hm_node_fail(n, HM_ERR_CRYPTO, "the answer is not signed by its issuer");
	for (size_t i = 0; i < nc; i++)
		if ((err = hm_trust_cert_store(n, txn, &chain[i])))
			return err;
	if ((err = hm_store_put(n, txn, HM_DB_META, "root", 4, root.b, HM_SIGN_PUB_BYTES)))
		return err;
	memset(&a->info, 0, sizeof(a->info));
	a->info.node = n->self, a->info.role = n->role, a->info.root = root;
	snprintf(a->info.region, sizeof(a->info.region), "%s", n->region);
	snprintf(a->info.name, sizeof(a->info.name), "%s", n->name);
	a->info.serial = chain[nc - 1].serial;
	a->info.not_before = chain[nc - 1].not_before, a->info.not_after = chain[nc - 1].not_after;
	return HM_OK;
truncated:
	return cut_short(n);
}

hm_err hm_enroll_accept(hm_node *n, const uint8_t *answer, size_t len, const hm_sign_pub *pin,
                        hm_enroll_info *info)
{
	accept_ctx a = {.ans = answer, .len = len, .pin = pin};
	hm_err err;

	if (!n->trust)
		return hm_node_fail(n, HM_ERR_CRYPTO, "this node has no keys");
	if (n->enrolled)
		return hm_node_fail(n, HM_ERR_EXISTS, "this node is already enrolled");
	if (len > ANSWER_MAX)
		return hm_node_fail(n, HM_ERR_TOO_BIG, "the enrollment answer is too large");
	if ((err = hm_store_write(n, accept_txn, &a)))
		return err;
	n->root = a.info.root;
	n->enrolled = true;
	if (info)
		*info = a.info;
	return HM_OK;
}

/* ---- revocation ---- */

typedef struct entitled {
	hm_node_id id[512];
	hm_box_pub box[512];
	size_t n;
} entitled;

/* Every certified node whose region lies in scope, except the revoked one, and this node (the
 * county holds every key, whatever the scope). */
static hm_err collect_entitled(hm_node *n, const char *scope, const hm_node_id *revoked,
                               entitled *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	hm_err err;

	e->id[0] = n->self, e->box[0] = n->ident.box_pub, e->n = 1;
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur))) {
		mdb_txn_abort(txn);
		return hm_store_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && e->n < 512;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		MDB_val rv;
		bool honoured;
		if (hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    hm_node_id_equal(&c.node, revoked) || hm_node_id_equal(&c.node, &n->self) ||
		    !hm_region_contains(scope, c.region))
			continue;
		if (hm_store_get(n, txn, HM_DB_REVOKED, c.node.b, HM_NODE_ID_BYTES, &rv) == HM_OK)
			continue; /* revoked earlier */
		if (hm_trust_cert_honoured(n, txn, &c, &honoured) || !honoured)
			continue; /* enrolled by a revoked issuer's stolen keys: no new keys for it
			           */
		e->id[e->n] = c.node, e->box[e->n] = c.box_pub, e->n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return HM_OK;
}

/* New epochs for scope: a fresh key, one _datakey record per entitled node (the county itself
 * included, so it learns the key by applying its own change set). */
static hm_err rekey(hm_node *n, hm_write *w, const char *scope, const hm_node_id *revoked)
{
	entitled *e = malloc(sizeof(*e));
	uint8_t key[HM_DATA_KEY_BYTES];
	uint32_t epoch = 0;
	MDB_txn *txn;
	hm_err err;

	if (!e)
		return HM_ERR_NOMEM;
	if ((err = hm_store_read_begin(n, &txn)))
		goto out;
	err = hm_trust_data_key(n, txn, scope, &epoch, key);
	mdb_txn_abort(txn);
	if (err == HM_ERR_NOT_FOUND) {
		err = HM_OK; /* no key for this scope was ever issued: nothing to rotate */
		goto out;
	}
	if (err || (err = collect_entitled(n, scope, revoked, e)))
		goto out;
	hm_random_bytes(key, sizeof(key));
	epoch++;
	for (size_t i = 0; i < e->n && !err; i++) {
		char id[HM_ID_MAX + 1], hex[2 * HM_NODE_ID_BYTES + 1];
		char whex[2 * HM_BOX_SEALED_BYTES + 1];
		uint8_t wrapped[HM_BOX_SEALED_BYTES];
		hm_value v;

		hm_node_id_hex(&e->id[i], hex);
		snprintf(id, sizeof(id), "%s:%u:%s", scope, epoch, hex);
		if ((err = hm_box_seal(wrapped, &e->box[i], key)))
			break;
		hm_hex_encode(whex, wrapped, sizeof(wrapped));
		v.kind = HM_V_STR, v.u.s.p = hex, v.u.s.n = (uint32_t)strlen(hex);
		err = hm_write_set(w, "_datakey", id, "node", &v);
		v.u.s.p = scope, v.u.s.n = (uint32_t)strlen(scope);
		if (!err)
			err = hm_write_set(w, "_datakey", id, "scope", &v);
		v.kind = HM_V_INT, v.u.i = epoch;
		if (!err)
			err = hm_write_set(w, "_datakey", id, "epoch", &v);
		v.kind = HM_V_STR, v.u.s.p = whex, v.u.s.n = (uint32_t)strlen(whex);
		if (!err)
			err = hm_write_set(w, "_datakey", id, "wrapped", &v);
	}
out:
	hm_wipe(key, sizeof(key));
	free(e);
	return err;
}

/* The node's streams for regions other than its own that this county holds, as version-vector
 * text "STREAM:SEQ,...": their certificates are stored under the stream ids (trust.c). */
static hm_err node_streams(hm_node *n, const hm_node_id *node, char out[HM_STR_MAX + 1])
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t off = 0;
	int rc;
	hm_err err;

	out[0] = 0;
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	if ((rc = mdb_cursor_open(txn, n->dbi[HM_DB_CERTS], &cur))) {
		mdb_txn_abort(txn);
		return hm_store_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hm_cert c;
		hm_node_id stream;
		hm_vv_entry head;
		uint64_t fork_seq;
		char hex[2 * HM_NODE_ID_BYTES + 1];
		if (k.mv_size != HM_NODE_ID_BYTES || hm_cert_decode(&c, v.mv_data, v.mv_size) ||
		    !hm_node_id_equal(&c.node, node) ||
		    !memcmp(k.mv_data, node->b, HM_NODE_ID_BYTES))
			continue;
		memcpy(stream.b, k.mv_data, HM_NODE_ID_BYTES);
		if (hm_head_get(n, txn, &stream, &head, &fork_seq) ||
		    off + 2 * HM_NODE_ID_BYTES + 24 > HM_STR_MAX)
			continue;
		hm_node_id_hex(&stream, hex);
		off += (size_t)snprintf(out + off, HM_STR_MAX + 1 - off, "%s%s:%llu",
		                        off ? "," : "", hex, (unsigned long long)head.seq);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return HM_OK;
}

hm_err hm_node_revoke(hm_node *n, const hm_node_id *node, uint64_t after_seq, const char *reason,
                      hm_changeset_info *info)
{
	char streams[HM_STR_MAX + 1];
	char hex[2 * HM_NODE_ID_BYTES + 1], id[HM_ID_MAX + 1], township[HM_REGION_MAX + 1];
	hm_write *w = NULL;
	hm_cert c;
	MDB_txn *txn;
	hm_value v;
	hm_err err;

	if (!n->trust || n->role != HM_ROLE_COUNTY || !n->enrolled)
		return hm_node_fail(n, HM_ERR_CRYPTO, "only the county revokes");
	if (hm_node_id_equal(node, &n->self))
		return hm_node_fail(n, HM_ERR_INVALID, "the county cannot revoke itself");
	if ((err = hm_store_read_begin(n, &txn)))
		return err;
	err = hm_trust_cert_get(n, txn, node, &c);
	mdb_txn_abort(txn);
	if (err)
		return hm_node_fail(n, HM_ERR_NOT_FOUND, "no certificate is known for that node");
	hm_node_id_hex(node, hex);
	snprintf(id, sizeof(id), "%s", hex);
	if ((err = hm_write_begin_system(n, &w)))
		return err;
	v.kind = HM_V_STR, v.u.s.p = hex, v.u.s.n = (uint32_t)strlen(hex);
	if ((err = hm_write_set(w, "_revocation", id, "node", &v)))
		goto out;
	v.kind = HM_V_INT, v.u.i = (int64_t)after_seq;
	if ((err = hm_write_set(w, "_revocation", id, "after_seq", &v)))
		goto out;
	v.kind = HM_V_STR, v.u.s.p = reason, v.u.s.n = (uint32_t)strlen(reason);
	if ((err = hm_write_set(w, "_revocation", id, "reason", &v)))
		goto out;
	if ((err = node_streams(n, node, streams)))
		goto out;
	if (streams[0]) {
		v.u.s.p = streams, v.u.s.n = (uint32_t)strlen(streams);
		if ((err = hm_write_set(w, "_revocation", id, "streams", &v)))
			goto out;
	}
	/* What the revoked node could read, it may have kept: what is written from now on goes
	 * under new keys it never receives. */
	hm_trust_key_scope(c.region, township);
	if ((err = rekey(n, w, township, node)) ||
	    (strcmp(township, n->region) != 0 && (err = rekey(n, w, n->region, node))))
		goto out;
	err = hm_write_commit(w, info);
	w = NULL;
out:
	hm_write_abort(w);
	return err;
}
