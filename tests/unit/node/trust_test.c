/* trust_test.c - helpers of the trust tests. */
#include "trust_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tt_identity(hm_identity *id, uint8_t seed_byte)
{
	uint8_t seed[HM_SEED_BYTES];

	memset(seed, seed_byte, sizeof(seed));
	assert_int_equal(hm_identity_init_seed(id, seed), HM_OK);
}

void tnode_init(tnode *t, const char *name, hm_role role, const char *region, uint8_t seed_byte)
{
	hm_err err;

	memset(t, 0, sizeof(*t));
	tt_identity(&t->ident, seed_byte);
	memset(t->storage_key, (uint8_t)(seed_byte ^ 0x5a), sizeof(t->storage_key));
	t->clock.now_ms = TEST_T0_MS;
	t->opts.identity = &t->ident;
	t->opts.storage_key = t->storage_key;
	t->opts.clock = test_clock_fn;
	t->opts.clock_ctx = &t->clock;
	t->opts.map_initial = 1u << 20;
	t->role = role;
	snprintf(t->region, sizeof(t->region), "%s", region);
	test_scratch_dir(t->dir, sizeof(t->dir), name);
	if ((err = hm_node_create(t->dir, role, region, name, &t->opts, NULL)))
		fail_msg("creating node %s: %s", name, hm_strerror(err));
	if ((err = hm_node_open(t->dir, &t->opts, &t->n)))
		fail_msg("opening node %s: %s", name, hm_strerror(err));
}

void tnode_reopen(tnode *t)
{
	hm_node_close(t->n);
	t->n = NULL;
	assert_int_equal(hm_node_open(t->dir, &t->opts, &t->n), HM_OK);
}

void tnode_release(tnode *t)
{
	hm_node_close(t->n);
	t->n = NULL;
	hm_identity_release(&t->ident);
}

void tnode_enroll(tnode *issuer, tnode *t, uint32_t days, bool may_enroll)
{
	uint8_t *req = NULL, *ans = NULL;
	size_t rl = 0, al = 0;
	hm_enroll_info info;
	hm_node_info ii;
	hm_err err;

	assert_int_equal(hm_enroll_request(t->n, &req, &rl), HM_OK);
	if ((err = hm_enroll_sign(issuer->n, req, rl, days, may_enroll, &ans, &al, &info)))
		fail_msg("enrolling %s: %s (%s)", t->region, hm_strerror(err),
		         hm_node_errmsg(issuer->n));
	assert_int_equal(hm_node_info_get(issuer->n, &ii), HM_OK);
	if ((err = hm_enroll_accept(t->n, ans, al, &ii.root, &info)))
		fail_msg("accepting for %s: %s (%s)", t->region, hm_strerror(err),
		         hm_node_errmsg(t->n));
	free(req);
	free(ans);
}

void tt_mesh_init(tt_mesh *m, const char *prefix)
{
	char name[128];

	snprintf(name, sizeof(name), "%s_c", prefix);
	tnode_init(&m->c, name, HM_ROLE_COUNTY, TT_COUNTY, 0xc0);
	snprintf(name, sizeof(name), "%s_t1", prefix);
	tnode_init(&m->t1, name, HM_ROLE_TOWNSHIP, TT_T1, 0x71);
	snprintf(name, sizeof(name), "%s_v1", prefix);
	tnode_init(&m->v1, name, HM_ROLE_VILLAGE, TT_V1, 0x01);
	snprintf(name, sizeof(name), "%s_v2", prefix);
	tnode_init(&m->v2, name, HM_ROLE_VILLAGE, TT_V2, 0x02);
	tnode_enroll(&m->c, &m->t1, 365, true);
	tnode_enroll(&m->c, &m->v1, 365, false);
	tnode_enroll(&m->c, &m->v2, 365, false);
}

void tt_mesh_release(tt_mesh *m)
{
	tnode_release(&m->c);
	tnode_release(&m->t1);
	tnode_release(&m->v1);
	tnode_release(&m->v2);
}

void tt_body_init(tt_body *b, uint32_t nops)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
	msgpack_pack_array(&b->pk, nops);
	b->nops = nops;
}

void tt_body_release(tt_body *b)
{
	msgpack_sbuffer_destroy(&b->sb);
}

void tt_body_put(tt_body *b, const char *coll, const char *id, size_t nfields, ...)
{
	va_list ap;

	msgpack_pack_array(&b->pk, 4);
	msgpack_pack_uint8(&b->pk, HM_OP_PUT);
	hm_mp_pack_cstr(&b->pk, coll);
	hm_mp_pack_cstr(&b->pk, id);
	msgpack_pack_map(&b->pk, nfields);
	va_start(ap, nfields);
	for (size_t i = 0; i < nfields; i++) {
		const char *name = va_arg(ap, const char *);
		const char *value = va_arg(ap, const char *);
		hm_mp_pack_cstr(&b->pk, name);
		hm_mp_pack_cstr(&b->pk, value);
	}
	va_end(ap);
}

void tt_header_next(tnode *author, hm_header *h, uint8_t *chain, size_t cap)
{
	MDB_txn *txn;
	hm_vv_entry head;
	uint64_t fork_seq;

	memset(h, 0, sizeof(*h));
	assert_int_equal(hm_store_read_begin(author->n, &txn), HM_OK);
	assert_int_equal(hm_head_get(author->n, txn, hm_node_self(author->n), &head, &fork_seq),
	                 HM_OK);
	h->origin = *hm_node_self(author->n);
	h->seq = head.seq + 1;
	h->prev = head.hash;
	h->hlc = (author->clock.now_ms << 16) | 1;
	if (h->hlc <= head.hlc)
		h->hlc = head.hlc + 1;
	snprintf(h->region, sizeof(h->region), "%s", author->region);
	if (h->seq == 1 && chain)
		assert_int_equal(hm_trust_own_chain_bytes(author->n, txn, chain, cap, &h->certs.n),
		                 HM_OK);
	h->certs.p = chain;
	mdb_txn_abort(txn);
}

void tt_data_key(tnode *author, const char *scope, uint32_t *epoch, uint8_t key[32])
{
	MDB_txn *txn;

	*epoch = 0;
	assert_int_equal(hm_store_read_begin(author->n, &txn), HM_OK);
	assert_int_equal(hm_trust_data_key(author->n, txn, scope, epoch, key), HM_OK);
	mdb_txn_abort(txn);
}

void tt_seal_sign(tnode *author, hm_header *h, const tt_body *body, const uint8_t *key,
                  const hm_identity *signer, msgpack_sbuffer *out)
{
	uint8_t own[HM_DATA_KEY_BYTES];
	msgpack_sbuffer hb;
	uint8_t *sealed;
	size_t len;

	if (!h->key_scope[0]) {
		hm_trust_key_scope(h->region, h->key_scope);
		h->codec = HM_CODEC_SEALED;
		if (!key) {
			tt_data_key(author, h->key_scope, &h->epoch, own);
			key = own;
		}
	}
	h->nops = body->nops;
	msgpack_sbuffer_init(&hb);
	hm_header_encode(h, &hb);
	sealed = malloc(body->sb.size + HM_AEAD_OVERHEAD);
	assert_non_null(sealed);
	assert_int_equal(hm_aead_seal(sealed, body->sb.size + HM_AEAD_OVERHEAD, &len, key,
	                              body->sb.data, body->sb.size, hb.data, hb.size),
	                 HM_OK);
	msgpack_sbuffer_init(out);
	assert_int_equal(hm_envelope_encode(h, sealed, len, signer, out), HM_OK);
	free(sealed);
	msgpack_sbuffer_destroy(&hb);
	hm_wipe(own, sizeof(own));
}

void tt_craft_next(tnode *author, const tt_body *body, msgpack_sbuffer *out)
{
	uint8_t chain[HM_CERT_CHAIN_MAX * (2 + HM_CERT_MAX_BYTES)];
	hm_header h;

	tt_header_next(author, &h, chain, sizeof(chain));
	tt_seal_sign(author, &h, body, NULL, &author->ident, out);
}

static int audit_finding(void *ctx, const hm_audit_finding *f)
{
	tt_audit *a = ctx;
	unsigned k = (unsigned)f->kind < 16 ? (unsigned)f->kind : 0;

	a->total++;
	a->kind[k]++;
	snprintf(a->last_reason[k], sizeof(a->last_reason[k]), "%s", f->reason ? f->reason : "");
	a->last_origin[k] = f->origin;
	return 0;
}

void tt_audit_run(hm_node *n, tt_audit *a)
{
	hm_audit_cb cb = {NULL, audit_finding, a};
	size_t nf = 0;

	memset(a, 0, sizeof(*a));
	assert_int_equal(hm_node_audit(n, &cb, &nf), HM_OK);
	assert_int_equal(nf, a->total);
}

size_t tt_refused(hm_node *n)
{
	hm_node_info info;

	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.refused;
}

size_t tt_forks(hm_node *n)
{
	hm_node_info info;

	assert_int_equal(hm_node_info_get(n, &info), HM_OK);
	return info.forks;
}

void tt_assert_refused(hm_node *n, const hm_bytes *env)
{
	tt_assert_refused_why(n, env, "");
}

void tt_assert_refused_why(hm_node *n, const hm_bytes *env, const char *why)
{
	test_state s;
	size_t before = tt_refused(n);

	test_state_take(n, &s);
	assert_int_equal(test_apply1(n, env), HM_APPLY_REFUSED);
	if (!strstr(hm_node_errmsg(n), why))
		fail_msg("refused because \"%s\", not \"%s\"", hm_node_errmsg(n), why);
	test_state_assert_same(n, &s);
	assert_int_equal(tt_refused(n), before + 1);
	test_state_release(&s);
}
