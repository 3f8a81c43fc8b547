/*
 * sync.h - moving change sets between nodes. For now: bundle files, the USB-stick link.
 *
 * A bundle is a file of change-set envelopes with a header naming its exporter and an explicit
 * end frame carrying the count and a BLAKE2b-256 of every byte before it, so a file cut short
 * (a USB stick pulled mid-copy) or altered is detected before anything is applied. Between
 * nodes with keys it is sealed: each envelope encrypted under a bundle key wrapped for the
 * recipient (a node, or the holders of a scope's data key), and the end signed by the exporter,
 * whose certificate chain the header carries. Import reads the file twice - first to verify,
 * then to apply in bounded batches - so memory stays flat however large the bundle is, and a
 * bad bundle changes nothing.
 */
#ifndef HM_SYNC_H
#define HM_SYNC_H

#include <stdio.h>

#include "node.h"

#define HM_BUNDLE_MAGIC       "HMBUNDL1"
#define HM_BUNDLE_BATCH_BYTES (4u << 20) /* envelopes applied per transaction, at most */
#define HM_BUNDLE_BATCH_COUNT 4096u

typedef struct hm_bundle_stats {
	size_t changesets; /* written or read */
	size_t bytes;
	hm_apply_stats apply; /* import only */
} hm_bundle_stats;

/* Progress callback for long work: done and total in change sets (total 0 when unknown). */
typedef void (*hm_progress_fn)(void *ctx, size_t done, size_t total);

/* Write every change set of node beyond since (NULL: all) to path, atomically: a temporary file
 * is fsynced and renamed into place. A node with keys writes a sealed bundle (format 2) that
 * only rcpt can open (NULL: every node of its county) and signs it; a node without keys writes a
 * plain one (format 1; rcpt ignored). Errors: HM_ERR_IO (with errno's reason in
 * hm_bundle_errmsg), HM_ERR_EXISTS if path exists and !overwrite, HM_ERR_NOT_FOUND (no key for
 * the recipient). */
hm_err hm_bundle_export(hm_node *node, const hm_vv *since, const char *path, bool overwrite,
                        const hm_recipient *rcpt, hm_bundle_stats *stats) HM_MUST_CHECK;

/* Verify the whole bundle at path, then apply it. Errors, with nothing applied:
 * HM_ERR_IO, HM_ERR_CORRUPT (bad magic, frame or hash), HM_ERR_TRUNCATED (no end frame),
 * HM_ERR_TOO_BIG (a frame beyond the cap), HM_ERR_VERSION. A change set inside a good bundle that
 * the node refuses is counted in stats->apply, not an error. */
hm_err hm_bundle_import(hm_node *node, const char *path, hm_progress_fn progress, void *pctx,
                        hm_bundle_stats *stats) HM_MUST_CHECK;

/* The reason for the last bundle error (never NULL). */
const char *hm_bundle_errmsg(void);

#endif
