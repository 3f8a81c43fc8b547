/*
 * bomb.c - a modified client for tests/net/amplify.sh: a station that signs what it likes.
 *
 *   bomb DIR KIND     (HAMLET_PASSPHRASE unlocks DIR's key, as for `hamlet`)
 *
 * Opens the enrolled node in DIR, crafts its next change set as KIND - validly signed with the
 * node's own key, its body compressed and sealed under the data key of its region exactly as
 * `hamlet` seals one - and stores it in the node's oplog as its newest change set, so that
 * `hamlet export` and `hamlet sync` carry it like any other. KIND:
 *
 *   nils     1 operation; the body is one array of ~16 Mi nils (16 MiB decompressed, ~2 KB
 *            compressed): within the envelope cap, but 390 MB once msgpack-c unpacks it
 *   shaped   120000 operations, each [nil, nil, nil, {nil: nil x 64}]: the header's count is
 *            honest and each part within its own cap, but 16 Mi objects in all
 *   under    10000 operations of that shape: 1.33 Mi objects, just under what a body may decode
 *            to, so it is decoded (at most 32 MiB) and then refused for its contents
 *
 * Prints "KIND: N bytes on the wire, M bytes decompressed, K operations". Exit 0 when stored,
 * 1 on a node error, 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_int.h"

#define NILS_N   ((uint32_t)HM_ENVELOPE_MAX - 64)
#define SHAPED_N 120000u
#define UNDER_N  10000u

typedef struct bomb {
	const char *kind;
	msgpack_sbuffer body, z, env;
	size_t plain_len;
	uint32_t nops;
} bomb;

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The hostile body in b->body (plain msgpack). */
static int make_body(bomb *b)
{
	uint8_t head[5] = {0xdd};
	size_t len;
	uint8_t *p;

	if (!strcmp(b->kind, "nils")) {
		b->nops = 1;
		len = 5 + NILS_N;
		be32(head + 1, NILS_N);
	} else if (!strcmp(b->kind, "shaped") || !strcmp(b->kind, "under")) {
		b->nops = b->kind[0] == 's' ? SHAPED_N : UNDER_N;
		len = 5 + (size_t)b->nops * (4 + 3 + 2 * HM_FIELDS_MAX);
		be32(head + 1, b->nops);
	} else
		return -1;
	if (!(p = malloc(len)))
		return -1;
	memcpy(p, head, 5);
	if (b->kind[0] == 'n')
		memset(p + 5, 0xc0, NILS_N);
	else
		for (uint32_t i = 0; i < b->nops; i++) {
			uint8_t *o = p + 5 + (size_t)i * (4 + 3 + 2 * HM_FIELDS_MAX);
			o[0] = 0x94, o[1] = o[2] = o[3] = 0xc0;      /* [nil, nil, nil, */
			o[4] = 0xde, o[5] = 0, o[6] = HM_FIELDS_MAX; /*  {64 entries: */
			memset(o + 7, 0xc0, 2 * HM_FIELDS_MAX);      /*   nil: nil}] */
		}
	b->body.data = (char *)p, b->body.size = b->body.alloc = len;
	b->plain_len = len;
	return 0;
}

/* Seal and sign b's compressed body as n's next change set, store it as n's newest. */
static hm_err store_next(hm_node *n, MDB_txn *txn, void *ctx)
{
	bomb *b = ctx;
	uint8_t chain[HM_CHAIN_MAX], key[HM_DATA_KEY_BYTES], opkey[HM_OPKEY_BYTES], *sealed = NULL;
	msgpack_sbuffer hb;
	hm_header h = {0};
	hm_vv_entry head;
	uint64_t fork_seq;
	hm_hlc last;
	size_t slen;
	hm_err err;

	msgpack_sbuffer_init(&hb);
	if ((err = hm_head_get(n, txn, &n->self, &head, &fork_seq)) ||
	    (err = hm_hlc_load(n, txn, &last)))
		goto out;
	h.origin = n->self;
	h.seq = head.seq + 1;
	h.prev = head.hash;
	h.hlc = hm_hlc_tick(last, hm_now_ms(n));
	snprintf(h.region, sizeof(h.region), "%s", n->region);
	h.nops = b->nops;
	h.codec = HM_CODEC_SEALED | HM_CODEC_ZSTD;
	hm_trust_key_scope(n->region, h.key_scope);
	if (h.seq == 1 &&
	    (err = hm_trust_own_chain_bytes(n, txn, chain, sizeof(chain), &h.certs.n)))
		goto out;
	h.certs.p = chain;
	if ((err = hm_trust_data_key(n, txn, h.key_scope, &h.epoch, key)))
		goto out;
	hm_header_encode(&h, &hb);
	err = HM_ERR_NOMEM;
	if (!(sealed = malloc(b->z.size + HM_AEAD_OVERHEAD)))
		goto out;
	if ((err = hm_aead_seal(sealed, b->z.size + HM_AEAD_OVERHEAD, &slen, key, b->z.data,
	                        b->z.size, hb.data, hb.size)) ||
	    (err = hm_envelope_encode(&h, sealed, slen, &n->ident, &b->env)))
		goto out;
	hm_opkey(opkey, &h.origin, h.seq);
	head.origin = h.origin, head.seq = h.seq, head.hlc = h.hlc;
	hm_hash_buf(b->env.data, b->env.size, &head.hash);
	if ((err = hm_store_put(n, txn, HM_DB_OPLOG, opkey, sizeof(opkey), b->env.data,
	                        b->env.size)) ||
	    (err = hm_head_set(n, txn, &head, 0)) || (err = hm_hlc_store(n, txn, h.hlc)))
		goto out;
out:
	hm_wipe(key, sizeof(key));
	free(sealed);
	msgpack_sbuffer_destroy(&hb);
	return err;
}

int main(int argc, char **argv)
{
	const char *pass = getenv("HAMLET_PASSPHRASE");
	hm_keyfile_secrets keys;
	hm_node_opts opts = {0};
	hm_node *n = NULL;
	bomb b = {0};
	char path[4200];
	bool compressed;
	hm_err err;
	int rc = 1;

	if (argc != 3 || !pass) {
		fprintf(stderr, "usage: HAMLET_PASSPHRASE=... bomb DIR nils|shaped|under\n");
		return 2;
	}
	b.kind = argv[2];
	msgpack_sbuffer_init(&b.z);
	msgpack_sbuffer_init(&b.env);
	if (hm_crypto_init() || make_body(&b))
		return 2;
	if ((err = hm_body_compress(b.body.data, b.body.size, &b.z, &compressed)) || !compressed) {
		fprintf(stderr, "bomb: the body does not compress\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/node.key", argv[1]);
	if ((err = hm_keyfile_read(&keys, path, pass, strlen(pass)))) {
		fprintf(stderr, "bomb: cannot unlock %s: %s\n", path, hm_strerror(err));
		goto out;
	}
	opts.identity = &keys.ident;
	opts.storage_key = keys.storage_key;
	err = hm_node_open(argv[1], &opts, &n);
	hm_keyfile_secrets_release(&keys);
	if (err) {
		fprintf(stderr, "bomb: cannot open %s: %s\n", argv[1], hm_strerror(err));
		goto out;
	}
	if ((err = hm_store_write(n, store_next, &b))) {
		fprintf(stderr, "bomb: %s (%s)\n", hm_strerror(err), hm_node_errmsg(n));
		goto out;
	}
	printf("%s: %zu bytes on the wire, %zu bytes decompressed, %u operations\n", b.kind,
	       b.env.size, b.plain_len, b.nops);
	rc = 0;
out:
	hm_node_close(n);
	msgpack_sbuffer_destroy(&b.body);
	msgpack_sbuffer_destroy(&b.z);
	msgpack_sbuffer_destroy(&b.env);
	return rc;
}
