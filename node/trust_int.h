/*
 * trust_int.h - what the three files of trust share: trust.c (keys, certificates, chains and
 * their verdicts), verify.c (a change set checked and opened) and withdraw.c (revocations,
 * data keys and withdrawal). Included only by those three.
 */
#ifndef HM_TRUST_INT_H
#define HM_TRUST_INT_H

#include "node_int.h"

/* A chain's verdict: HM_HONOURED; HM_REFUSED when a revoked issuer in it provably issued the
 * next certificate after its revocation (this node holds the issuer's log up to the revocation
 * without the record); HM_UNPROVEN while part of that log is still missing. Ordered: the worst
 * link decides. */
enum hm_verdict { HM_HONOURED, HM_UNPROVEN, HM_REFUSED };

extern const char hm_trust_refused_issuer[];

/* Decode a chain of at most HM_CERT_CHAIN_MAX certificates, root first, into chain and *nc. */
hm_err hm_trust_chain_decode(const uint8_t *p, size_t len, hm_cert *chain,
                             size_t *nc) HM_MUST_CHECK;
/* The verdict of chain (root first, nc certificates) into *out. */
hm_err hm_trust_chain_verdict(hm_node *n, MDB_txn *txn, const hm_cert *chain, size_t nc,
                              enum hm_verdict *out) HM_MUST_CHECK;
/* The chain of a stored certificate, root first, from the certs table. HM_ERR_NOT_FOUND when an
 * issuer's certificate is not held. */
hm_err hm_trust_stored_chain(hm_node *n, MDB_txn *txn, const hm_cert *leaf, hm_cert *chain,
                             size_t *nc) HM_MUST_CHECK;
/* The verdict of a stored certificate's chain; HM_REFUSED when an issuer is not held. */
hm_err hm_trust_cert_verdict(hm_node *n, MDB_txn *txn, const hm_cert *c,
                             enum hm_verdict *out) HM_MUST_CHECK;
/* The HM_DB_ISSUED key of (issuer, subject, certificate hash) into key; returns its length. */
size_t hm_trust_issued_key(uint8_t key[2 * HM_NODE_ID_BYTES + HM_HASH_BYTES],
                           const hm_node_id *issuer, const hm_node_id *subject,
                           const hm_hash *cert_hash);

#endif
