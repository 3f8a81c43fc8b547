/* trust_test.h - shared helpers of the trust tests: nodes with keys from fixed seeds, enrollment,
 * a small county mesh, change sets crafted by hand (signed and sealed as a node would, or not),
 * and the audit counted by finding kind. Built on the node/ test helpers (node_test.h). */
#ifndef HM_TEST_TRUST_H
#define HM_TEST_TRUST_H

#include "node_test.h"

#define TT_COUNTY  "hexi"
#define TT_T1      "hexi/t1"
#define TT_T2      "hexi/t2"
#define TT_V1      "hexi/t1/v1"
#define TT_V2      "hexi/t1/v2"
#define TT_DAY_MS  86400000ull
#define TT_HOUR_MS 3600000ull

/* A node in trust mode in a scratch directory: keys from a fixed seed, its own clock. */
typedef struct tnode {
	hm_node *n;
	hm_identity ident;
	uint8_t storage_key[HM_STORAGE_KEY_BYTES];
	test_clock clock;
	hm_node_opts opts;
	char dir[1024];
	char region[HM_REGION_MAX + 1];
	hm_role role;
} tnode;

/* Create and open name (a scratch directory) with the identity of seed (32 bytes of seed_byte),
 * its clock at TEST_T0_MS. A county becomes a root of trust. */
void tnode_init(tnode *t, const char *name, hm_role role, const char *region, uint8_t seed_byte);
void tnode_reopen(tnode *t);
void tnode_release(tnode *t);
/* The identity of a seed of 32 seed_byte bytes. */
void tt_identity(hm_identity *id, uint8_t seed_byte);

/* issuer enrolls t (request, sign, accept pinned to the issuer's root); fails the test on error. */
void tnode_enroll(tnode *issuer, tnode *t, uint32_t days, bool may_enroll);

/* The county, a township allowed to enroll, and two villages of it enrolled by the county. */
typedef struct tt_mesh {
	tnode c, t1, v1, v2;
} tt_mesh;

/* Scratch directories are prefix_c, prefix_t1, prefix_v1, prefix_v2. */
void tt_mesh_init(tt_mesh *m, const char *prefix);
void tt_mesh_release(tt_mesh *m);

/* ---- crafted change sets ---- */

/* A body of ops being packed by hand. */
typedef struct tt_body {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t nops;
} tt_body;

void tt_body_init(tt_body *b, uint32_t nops);
void tt_body_release(tt_body *b);
/* One put op of string fields: nfields pairs of (name, value) strings follow. */
void tt_body_put(tt_body *b, const char *coll, const char *id, size_t nfields, ...);

/* The header of author's next change set as author would write it: origin, seq and prev from
 * its head, hlc from its clock, region its own, its chain (into chain, cap bytes) at seq 1. */
void tt_header_next(tnode *author, hm_header *h, uint8_t *chain, size_t cap);
/* The newest data key author holds for scope, and its epoch. */
void tt_data_key(tnode *author, const char *scope, uint32_t *epoch, uint8_t key[32]);
/* Seal body under key (h->key_scope, h->epoch and h->codec are set by the caller, or here when
 * key_scope is empty: the scope of h->region, with key from author), sign with signer (NULL:
 * unsigned), into out (initialised here). */
void tt_seal_sign(tnode *author, hm_header *h, const tt_body *body, const uint8_t *key,
                  const hm_identity *signer, msgpack_sbuffer *out);
/* tt_header_next + tt_seal_sign with author's own key and identity. */
void tt_craft_next(tnode *author, const tt_body *body, msgpack_sbuffer *out);

static inline hm_bytes tt_bytes(const msgpack_sbuffer *sb)
{
	hm_bytes b = {(const uint8_t *)sb->data, sb->size};
	return b;
}

/* ---- outcomes and evidence ---- */

/* Audit findings of a node counted by kind. */
typedef struct tt_audit {
	size_t total;
	size_t kind[16];
	char last_reason[16][256]; /* the last reason seen per kind */
	hm_node_id last_origin[16];
} tt_audit;

void tt_audit_run(hm_node *n, tt_audit *a);
size_t tt_refused(hm_node *n);
size_t tt_forks(hm_node *n);

/* Apply env to n: it must be refused, leave digest, version vector and counts as they were
 * (hm_node_check passing), and add exactly one piece of evidence. */
void tt_assert_refused(hm_node *n, const hm_bytes *env);
/* The same, and the node's reason (hm_node_errmsg) contains why. */
void tt_assert_refused_why(hm_node *n, const hm_bytes *env, const char *why);

#endif
