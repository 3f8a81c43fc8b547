/*
 * sync_int.h - internals shared by the files of sync/. Never included outside sync/.
 */
#ifndef HM_SYNC_INT_H
#define HM_SYNC_INT_H

#include "i18n.h"
#include "sync.h"

/* The largest message: one envelope at its cap, sealed and framed, with room to spare. */
#define HM_FRAME_MAX ((size_t)HM_ENVELOPE_MAX + (64u << 10))

hm_err hm_sync_fail(hm_err err, const char *fmt, ...) HM_PRINTF(2, 3);

#endif
