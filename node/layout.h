/*
 * layout.h - LMDB 0.9's file layout (mdb.c: MDB_page, MDB_meta, MDB_db, MDB_node) on a 64-bit
 * machine, for what reads data.mdb beside LMDB: the open guard and the meta repair (guard.c),
 * the walk of every page and the salvage (pages.c). Private to node/.
 */
#ifndef HM_NODE_LAYOUT_H
#define HM_NODE_LAYOUT_H

#include "node_int.h"

#include <stdint.h>

#define PAGE_HDR     16
#define PAGE_FLAGS   10
#define P_BRANCH     0x01
#define P_LEAF       0x02
#define P_META       0x08
#define META_MAGIC   0xBEEFC0DEu
#define META_VERSION 1u
#define META_DBS     (PAGE_HDR + 24)
#define DB_BYTES     48
#define META_LAST_PG (META_DBS + 2 * DB_BYTES)
#define META_TXNID   (META_LAST_PG + 8)
#define META_END     (META_TXNID + 8)
#define P_INVALID    UINT64_MAX
#define FREE_FLAGS   0x08 /* MDB_INTEGERKEY: LMDB's free-page tree */
#define MAIN_FLAGS   0x00 /* hamlet opens its named trees with no flags */
#define DEPTH_MAX    32   /* LMDB's CURSOR_STACK */
#define PSIZE_MIN    512
#define PSIZE_MAX    65536

_Static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "the layout above is LMDB's on LP64");

typedef struct meta_db {
	uint32_t pad; /* the page size, in the free-page tree's record */
	uint16_t flags, depth;
	uint64_t branch, leaf, overflow, entries, root;
} meta_db;

typedef struct meta {
	uint16_t page_flags;
	uint32_t magic, version;
	meta_db db[2]; /* the free-page tree, the main tree */
	uint64_t last_pg, txnid;
} meta;

static inline uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The meta record at p (a meta page's first META_END bytes). */
void hm_meta_decode(const uint8_t *p, meta *m);
/* NULL when m could be a meta page of a file of `pages` pages, else what is wrong. */
const char *hm_meta_fault(const meta *m, uint64_t pages);

#endif
