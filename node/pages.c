/*
 * pages.c - every page of every tree of data.mdb, read from the file as LMDB 0.9 lays them out
 * (hm_store_pages_check), and the way back from a damaged tree that the oplog rebuilds
 * (hm_store_salvage).
 *
 * LMDB keeps no checksums and trusts every page it reaches: a branch page left with one key
 * stops it on an assertion, a child's number out of range sends it outside its map. The open
 * guard (guard.c) looks only at the meta pages and the roots; check and repair read every tree,
 * so before they do, the walk reads each page itself: its own number, its kind at its level, its
 * bounds, its records inside it and in order, its children and large values in range and reached
 * once, and the counts of pages and entries each tree's record keeps. It reads at the commit of
 * a read transaction it holds meanwhile, so a writer in another process changes nothing it reads.
 *
 * Some damage loses nothing: any in a tree that is rebuilt from the oplog (the records, the
 * conflict log, the changed log) or in LMDB's free-page tree, and in any tree, damage that only
 * misguides a search (a branch page's keys out of order or outside its parent's range, a tree's
 * counts) while its leaves read whole and in order, as a cursor reads them. hm_store_salvage then
 * copies every other tree, record by record in order through LMDB, into a new store, rebuilds
 * its records, and puts its data.mdb in the old one's place (kept beside it). Any other damage
 * is not repaired here: the node is restored from its hub.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "layout.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define P_OVERFLOW 0x04
#define P_LEAF2    0x20
#define PAGE_LOWER 12 /* and upper at 14; an overflow page's count of pages at 12 */
#define NODE_HDR   8  /* mn_lo, mn_hi, mn_flags, mn_ksize */
#define F_BIGDATA  0x01
#define F_SUBDATA  0x02
#define INTEGERKEY 0x08
#define TREES_MAX  32 /* hamlet has 13 */

typedef struct named_tree {
	char name[24];
	uint8_t db[DB_BYTES];
} named_tree;

typedef struct page_walk {
	int fd;
	uint32_t psize;
	uint64_t last_pg;
	uint8_t *buf;   /* a page a level */
	uint8_t *owner; /* a byte a page: the tree that reached it (OWNER_*, or a named tree's
	                 * index + 1): none is reached twice */
	uint8_t me;     /* the owner of the tree walked */
	uint8_t clash;  /* the owner of the page the tree walked reached a second time, or 0 */
	uint16_t flags;
	bool free_tree, main_tree, kept; /* kept: a tree not rebuilt from the oplog */
	uint64_t count[4];               /* branch, leaf and overflow pages, entries */
	named_tree trees[TREES_MAX];
	size_t ntrees;
	const char *fault; /* the damage found in the tree walked, and where */
	uint64_t at;
	const char *bound; /* a key outside its parent's range (the tree is read in order still) */
	uint64_t bound_at;
	uint8_t last[512]; /* the last key of the leaf before, in the tree walked */
	size_t last_n;
	bool have_last;
	uint64_t txnid;      /* the commit walked */
	char fault_tree[24]; /* the damage reported: the first that loses something, else the first
	                      */
	const char *first;
	uint64_t first_at;
	bool lost; /* a damaged tree that is neither rebuilt from the oplog nor read in order */
} page_walk;

static bool walk_fault(page_walk *w, uint64_t pg, const char *why)
{
	w->fault = why;
	w->at = pg;
	return false;
}

#define OWNER_FREE_LIST 253 /* a page LMDB's free-page tree lists as free */
#define OWNER_MAIN      254
#define OWNER_FREE_TREE 255

/* The tree walked takes page pg; false when another (or it) had it. */
static bool claim(page_walk *w, uint64_t pg)
{
	if (w->owner[pg]) {
		w->clash = w->owner[pg];
		return false;
	}
	w->owner[pg] = w->me;
	return true;
}

/* LMDB's order: memcmp then the shorter first; the free-page tree's keys as integers. */
static int key_order(const page_walk *w, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c;

	if ((w->flags & INTEGERKEY) && an == 8 && bn == 8)
		return (le(a, 8) > le(b, 8)) - (le(a, 8) < le(b, 8));
	c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static bool walk_large(page_walk *w, uint64_t pg, uint64_t size)
{
	uint8_t hdr[PAGE_HDR];
	uint64_t pages;

	if (pg < 2 || pg > w->last_pg ||
	    pread(w->fd, hdr, sizeof(hdr), (off_t)(pg * w->psize)) != (ssize_t)sizeof(hdr))
		return walk_fault(w, pg, N_("a large value's page is out of range"));
	pages = le(hdr + PAGE_LOWER, 4);
	if (le(hdr, 8) != pg || !(le(hdr + PAGE_FLAGS, 2) & P_OVERFLOW))
		return walk_fault(w, pg, N_("a large value's page is not one"));
	if (pages == 0 || pages > w->last_pg - pg + 1 || size + PAGE_HDR > pages * w->psize)
		return walk_fault(w, pg, N_("a large value's pages do not hold it"));
	for (uint64_t i = 0; i < pages; i++)
		if (!claim(w, pg + i))
			return walk_fault(w, pg + i, N_("a page is used twice"));
	w->count[2] += pages;
	return true;
}

/* A record of LMDB's free-page tree: the pages a commit freed (a count, then the page numbers,
 * descending), which LMDB writes over without a look. Each must be a page no tree holds, listed
 * once: the free-page tree is walked after every other tree. v: the value in its page, or NULL
 * when it is on pages of its own from large. */
static bool free_list(page_walk *w, uint64_t pg, const uint8_t *v, uint64_t large, uint64_t size)
{
	uint8_t *ids = NULL;
	uint64_t n, prev = UINT64_MAX;
	bool ok = true;

	if (size < 8 || size % 8)
		return walk_fault(w, pg, N_("a list of free pages is not one"));
	if (!v) {
		if (!(ids = malloc(size)) ||
		    pread(w->fd, ids, size, (off_t)(large * w->psize + PAGE_HDR)) !=
		        (ssize_t)size) {
			free(ids);
			return walk_fault(w, large, N_("a list of free pages cannot be read"));
		}
		v = ids;
	}
	if ((n = le(v, 8)) > size / 8 - 1) /* LMDB may reserve more than it fills */
		ok = walk_fault(w, pg, N_("a list of free pages is not one"));
	for (uint64_t i = 1; ok && i <= n; i++) {
		uint64_t id = le(v + 8 * i, 8);
		if (id >= prev || id < 2 || id > w->last_pg)
			ok = walk_fault(w, pg, N_("a list of free pages names pages it cannot"));
		else if (w->owner[id])
			ok = walk_fault(w, id, N_("a page in use is listed as free"));
		else
			w->owner[id] = OWNER_FREE_LIST, prev = id;
	}
	free(ids);
	return ok;
}

/* A leaf's value: in the page, on pages of its own, or (the main tree) a named tree's record. */
static bool walk_value(page_walk *w, uint64_t pg, const uint8_t *nd, unsigned end)
{
	uint64_t size = le(nd, 4);
	unsigned flags = (unsigned)le(nd + 4, 2), ks = (unsigned)le(nd + 6, 2);
	const uint8_t *v = nd + NODE_HDR + ks;

	w->count[3]++;
	/* the free-page tree's keys: the commits that freed the pages, 1 to the one walked */
	if (w->free_tree &&
	    (ks != 8 || le(nd + NODE_HDR, 8) == 0 || le(nd + NODE_HDR, 8) > w->txnid))
		return walk_fault(w, pg, N_("a list of free pages names a commit it cannot"));
	if (flags & ~(unsigned)(w->main_tree ? F_SUBDATA : F_BIGDATA) ||
	    (w->main_tree && (flags != F_SUBDATA || size != DB_BYTES)))
		return walk_fault(w, pg, N_("a record's flags are not those hamlet's trees have"));
	if (end + ((flags & F_BIGDATA) ? 8 : size) > w->psize)
		return walk_fault(w, pg, N_("a value runs past its page"));
	if (w->main_tree) {
		named_tree *t = &w->trees[w->ntrees];
		if (w->ntrees == TREES_MAX || ks >= sizeof(t->name))
			return walk_fault(w, pg,
			                  N_("the main tree names trees hamlet does not have"));
		for (unsigned i = 0; i < ks; i++)
			t->name[i] = (char)(nd[NODE_HDR + i] >= 'a' && nd[NODE_HDR + i] <= 'z'
			                        ? nd[NODE_HDR + i]
			                        : '?');
		t->name[ks] = '\0';
		memcpy(t->db, v, DB_BYTES);
		w->ntrees++;
	}
	if ((flags & F_BIGDATA) && !walk_large(w, le(v, 8), size))
		return false;
	return !w->free_tree || free_list(w, pg, (flags & F_BIGDATA) ? NULL : v, le(v, 8), size);
}

/* A branch page's keys only guide a search: damaged, a search goes astray but reading in order
 * does not (the leaves' order is checked apart), and a copy can be made so. */
static void bound_fault(page_walk *w, uint64_t pg, const char *why)
{
	if (!w->bound)
		w->bound = why, w->bound_at = pg;
}

/* A key: its bytes in a page that was read whole, and its length. */
typedef struct key_ref {
	const uint8_t *p;
	size_t n;
} key_ref;

static key_ref node_key(const uint8_t *page, unsigned i)
{
	const uint8_t *nd = page + le(page + PAGE_HDR + 2 * i, 2);
	return (key_ref){nd + NODE_HDR, (size_t)le(nd + 6, 2)};
}

/* The page's records lie inside it, their keys in order and within [lo, hi) (lo.p NULL: no
 * bound), the bounds its parent's keys set: a search for a key reaches the page it is on. */
static bool page_keys(page_walk *w, uint64_t pg, const uint8_t *p, bool leaf, key_ref lo,
                      key_ref hi)
{
	unsigned upper = (unsigned)le(p + PAGE_LOWER + 2, 2);
	unsigned keys = ((unsigned)le(p + PAGE_LOWER, 2) - PAGE_HDR) / 2;

	for (unsigned i = 0; i < keys; i++) {
		unsigned off = (unsigned)le(p + PAGE_HDR + 2 * i, 2);
		key_ref k;

		if (off < upper || off + NODE_HDR > w->psize)
			return walk_fault(w, pg, N_("a record lies outside its page"));
		k = node_key(p, i);
		if (off + NODE_HDR + k.n > w->psize)
			return walk_fault(w, pg, N_("a key runs past its page"));
		if (i == 0 && !leaf)
			continue; /* a branch page's first key is not used */
		if (i > (leaf ? 0u : 1u) &&
		    key_order(w, node_key(p, i - 1).p, node_key(p, i - 1).n, k.p, k.n) >= 0) {
			if (leaf)
				return walk_fault(w, pg, N_("a page's keys are out of order"));
			bound_fault(w, pg, N_("a branch page's keys are out of order"));
		}
		if ((lo.p && key_order(w, k.p, k.n, lo.p, lo.n) < 0) ||
		    (hi.p && key_order(w, k.p, k.n, hi.p, hi.n) >= 0))
			bound_fault(w, pg,
			            N_("a key lies outside the range its parent page gives"));
	}
	if (leaf) { /* in order with the leaf before: the tree reads in order */
		key_ref first = node_key(p, 0), last = node_key(p, keys - 1);
		if (w->have_last && key_order(w, w->last, w->last_n, first.p, first.n) >= 0)
			return walk_fault(
			    w, pg, N_("a page's keys are out of order with the page before"));
		if (last.n > sizeof(w->last))
			return walk_fault(w, pg, N_("a key is longer than LMDB allows"));
		memcpy(w->last, last.p, w->last_n = last.n);
		w->have_last = true;
	}
	return true;
}

static bool walk_page(page_walk *w, uint64_t pg, unsigned level, unsigned depth, key_ref lo,
                      key_ref hi)
{
	uint8_t *p = w->buf + (size_t)level * w->psize;
	bool leaf = level + 1 == depth;
	unsigned lower, upper, keys;

	if (pg < 2 || pg > w->last_pg)
		return walk_fault(w, pg, N_("a page number is out of range"));
	if (!claim(w, pg))
		return walk_fault(w, pg, N_("a page is reached twice"));
	if (pread(w->fd, p, w->psize, (off_t)(pg * w->psize)) != (ssize_t)w->psize)
		return walk_fault(w, pg, N_("a page cannot be read"));
	lower = (unsigned)le(p + PAGE_LOWER, 2);
	upper = (unsigned)le(p + PAGE_LOWER + 2, 2);
	if (le(p, 8) != pg)
		return walk_fault(w, pg, N_("a page does not carry its own number"));
	if ((le(p + PAGE_FLAGS, 2) & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2)) !=
	    (leaf ? P_LEAF : P_BRANCH))
		return walk_fault(w, pg, N_("a page is not a tree page of its level"));
	if (lower < PAGE_HDR || lower > upper || upper > w->psize || (lower - PAGE_HDR) % 2)
		return walk_fault(w, pg, N_("a page's bounds are impossible"));
	keys = (lower - PAGE_HDR) / 2;
	/* LMDB stops (an assertion) on a branch page of one key outside the free-page tree */
	if (keys < (leaf || w->free_tree ? 1u : 2u))
		return walk_fault(w, pg,
		                  leaf   ? N_("a leaf page is empty")
		                  : keys ? N_("a branch page has one key")
		                         : N_("a branch page has no key"));
	if (!page_keys(w, pg, p, leaf, lo, hi))
		return false;
	w->count[leaf ? 1 : 0]++;
	for (unsigned i = 0; i < keys; i++) {
		const uint8_t *nd = p + le(p + PAGE_HDR + 2 * i, 2);
		key_ref k = node_key(p, i);

		/* child i holds the keys from this page's key i (the first: from lo) to key i+1 */
		if (leaf ? !walk_value(w, pg, nd, (unsigned)(k.p + k.n - p))
		         : !walk_page(w, le(nd, 4) | le(nd + 4, 2) << 32, level + 1, depth,
		                      i ? k : lo, i + 1 < keys ? node_key(p, i + 1) : hi))
			return false;
	}
	return true;
}

/* One tree from its record (LMDB's MDB_db): every page, and the counts the record keeps. */
static bool walk_tree(page_walk *w, const uint8_t *db, uint8_t me, bool kept)
{
	uint16_t depth = (uint16_t)le(db + 6, 2);
	uint64_t root = le(db + 40, 8);

	w->flags = (uint16_t)le(db + 4, 2);
	w->me = me, w->kept = kept, w->clash = 0;
	w->free_tree = me == OWNER_FREE_TREE;
	w->main_tree = me == OWNER_MAIN;
	memset(w->count, 0, sizeof(w->count));
	w->bound = NULL;
	w->have_last = false;
	/* hamlet opens every named tree with no flags: LMDB would read another with another order
	 */
	if (!w->free_tree && !w->main_tree && (w->flags || le(db, 4)))
		return walk_fault(w, root, N_("a tree's flags are not those hamlet gives it"));
	if (root == P_INVALID) {
		if (depth || le(db + 8, 8) || le(db + 16, 8) || le(db + 24, 8) || le(db + 32, 8))
			return walk_fault(w, root, N_("an empty tree's record counts pages"));
		return true;
	}
	if (depth == 0 || depth > DEPTH_MAX)
		return walk_fault(w, root, N_("a tree's depth is impossible"));
	if (!walk_page(w, root, 0, depth, (key_ref){NULL, 0}, (key_ref){NULL, 0}))
		return false;
	/* the counts alone: a copy counts again; but a kept tree whose pages are not those its
	 * record counts may have been sent to another tree's, or lost some of its own */
	for (int i = 0; i < 4; i++)
		if (w->count[i] != le(db + 8 + 8 * i, 8)) {
			if (kept) /* the main tree's too: a tree it no longer names is lost */
				return walk_fault(
				    w, root, N_("a tree holds other counts than its record says"));
			bound_fault(w, root, N_("a tree holds other counts than its record says"));
		}
	return true;
}

/* The meta page of commit txnid, read from the file (false: no page holds it now). */
static bool meta_of(int fd, uint32_t psize, uint64_t txnid, uint8_t page[META_END], meta *m)
{
	for (uint64_t i = 0; i < 2; i++)
		if (pread(fd, page, META_END, (off_t)(i * psize)) == META_END &&
		    (hm_meta_decode(page, m), m->txnid == txnid) &&
		    !hm_meta_fault(m, m->last_pg + 1))
			return true;
	return false;
}

/* Trees hamlet rebuilds from the oplog (hm_records_rebuild) or keeps only for this store's own
 * readers: a damaged page of one of these, or of the free-page tree, loses nothing. */
static bool rebuilt_tree(const char *name)
{
	return !strcmp(name, "records") || !strcmp(name, "conflicts") || !strcmp(name, "changed");
}

/* What walk_tree found: nothing, damage that misguides a search only (keys of branch pages,
 * counts: every record is read in order, so a copy can be made), or damage. */
enum verdict { WHOLE, IN_ORDER, DAMAGED };

static enum verdict tree_verdict(page_walk *w, const uint8_t *db, uint8_t me, bool kept)
{
	if (!walk_tree(w, db, me, kept))
		return DAMAGED;
	if (!w->bound)
		return WHOLE;
	w->fault = w->bound, w->at = w->bound_at;
	return IN_ORDER;
}

/* Whether the tree that owner names is kept (not rebuilt from the oplog). */
static bool owner_kept(const page_walk *w, uint8_t owner)
{
	return owner == OWNER_MAIN ||
	       (owner >= 1 && owner <= w->ntrees && !rebuilt_tree(w->trees[owner - 1].name));
}

/* Report the damage of tree: the first found, unless a later one loses something. A page
 * reached twice is both trees' damage: either may be the one that lost its own. */
static void walk_mark(page_walk *w, const char *tree, bool lost)
{
	lost = lost || (w->clash && owner_kept(w, w->clash));
	if (!w->fault_tree[0] || (lost && !w->lost)) {
		snprintf(w->fault_tree, sizeof(w->fault_tree), "%s", tree);
		w->first = w->fault, w->first_at = w->at;
	}
	w->lost |= lost;
}

/* The main tree names hamlet's trees only, and every kept one that every store format hamlet
 * opens has (store format 2 on; opening makes the others, "issued" and the rebuilt "changed"):
 * a kept tree gone would be made again empty, and a copy would leave it out. */
static bool names_sound(page_walk *w)
{
	static const char *const kept[] = {"certs", "evidence", "heads",      "keys",   "meta",
	                                   "oplog", "pending",  "quarantine", "revoked"};
	size_t found = 0;

	for (size_t i = 0; i < w->ntrees; i++) {
		if (!hm_store_tree_known(w->trees[i].name))
			return walk_fault(w, 0,
			                  N_("the main tree names trees hamlet does not have"));
		for (size_t j = 0; j < sizeof(kept) / sizeof(kept[0]); j++)
			found += !strcmp(w->trees[i].name, kept[j]);
	}
	if (found != sizeof(kept) / sizeof(kept[0]))
		return walk_fault(w, 0, N_("the main tree lacks trees hamlet cannot do without"));
	return true;
}

/* Every tree: the main one (whose records name the others), the named ones (those rebuilt
 * from the oplog last), then the free-page tree and the pages it lists (none any tree holds).
 * It stops at damage that loses something. */
static void walk_trees(page_walk *w, const uint8_t *meta_page)
{
	enum verdict v = tree_verdict(w, meta_page + META_DBS + DB_BYTES, OWNER_MAIN, true);

	if (v == DAMAGED || !names_sound(w)) {
		walk_mark(w, "main", true);
		return;
	}
	if (v == IN_ORDER)
		walk_mark(w, "main", false);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < w->ntrees; i++) {
			bool rebuilt = rebuilt_tree(w->trees[i].name);
			if (rebuilt != (pass == 1) ||
			    (v = tree_verdict(w, w->trees[i].db, (uint8_t)(i + 1), !rebuilt)) ==
			        WHOLE)
				continue;
			walk_mark(w, w->trees[i].name, !rebuilt && v == DAMAGED);
			if (w->lost)
				return;
		}
	if (tree_verdict(w, meta_page + META_DBS, OWNER_FREE_TREE, false) != WHOLE)
		walk_mark(w, "free-page", false);
}

/* Walk env's trees at the commit of a read transaction held meanwhile (a reader holds its
 * commit's pages: none is written again until it ends). HM_OK with w->fault_tree[0] set when a
 * page is damaged. */
static hm_err walk_env(MDB_env *env, page_walk *w)
{
	uint8_t page[META_END];
	MDB_stat st;
	MDB_txn *txn = NULL;
	meta m;
	hm_err err = HM_OK;
	int rc, tries = 0;

	if ((rc = mdb_env_get_fd(env, &w->fd)) || (rc = mdb_env_stat(env, &st)))
		return hm_store_err(rc);
	w->psize = st.ms_psize;
	do {
		if (txn)
			mdb_txn_abort(txn);
		if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)))
			return hm_store_err(rc);
	} while (!meta_of(w->fd, w->psize, (uint64_t)mdb_txn_id(txn), page, &m) && ++tries < 5);
	if (tries == 5) {
		err = HM_ERR_BUSY;
		goto out;
	}
	w->last_pg = m.last_pg;
	w->txnid = m.txnid;
	w->buf = malloc((size_t)DEPTH_MAX * w->psize);
	w->owner = calloc((size_t)m.last_pg + 1, 1);
	if (!w->buf || !w->owner) {
		err = HM_ERR_NOMEM;
		goto out;
	}
	walk_trees(w, page);
out:
	free(w->buf);
	free(w->owner);
	w->buf = w->owner = NULL;
	mdb_txn_abort(txn);
	return err;
}

/* What the walk found, and the way back, in why. */
static void walk_report(const page_walk *w, const char *dir, char *why, size_t cap)
{
	if (!w->lost)
		snprintf(
		    why, cap,
		    _("the store in %s is damaged (data.mdb, the %s tree, page %llu: %s), and "
		      "nothing is lost yet: stop serve and ui, and run `hamlet -d %s check "
		      "--repair` before anything writes (a write may lose what is not lost): it "
		      "writes the store again into a new file from the trees that read in order, "
		      "and rebuilds the records from the oplog (docs/reliability.md, \"Damaged "
		      "media\")"),
		    dir, w->fault_tree, (unsigned long long)w->first_at, _(w->first), dir);
	else
		snprintf(why, cap,
		         _("the store in %s is damaged (data.mdb, the %s tree, page %llu: %s): see "
		           "docs/reliability.md, \"Damaged media\": make a new node and restore it "
		           "from the hub, or from a copy"),
		         dir, w->fault_tree, (unsigned long long)w->first_at, _(w->first));
}

hm_err hm_store_pages_check(hm_node *n)
{
	page_walk w = {0};
	const char *dir = "";
	char why[1024];
	hm_err err;
	int rc;

	if ((rc = mdb_env_get_path(n->env, &dir)))
		return hm_store_err(rc);
	if ((err = walk_env(n->env, &w)) == HM_ERR_BUSY)
		return hm_node_fail(
		    n, err, "the store is written too fast to look at its pages: try again");
	if (err || !w.fault_tree[0])
		return err;
	walk_report(&w, dir, why, sizeof(why));
	return hm_node_fail(n, HM_ERR_CORRUPT, "%s", why);
}

/* Open dir's store read-only, without opening a tree, and walk it: the guard's look at the meta
 * pages first (LMDB must not map a file they would send it outside of). *env stays open for the
 * caller (NULL when the guard refused: why then holds its word, and the result is HM_OK, for
 * opening the store to say). */
static hm_err open_walk(const char *dir, MDB_env **env, page_walk *w, char *why, size_t cap)
{
	char path[4200];
	struct stat st;
	hm_node *probe = calloc(1, sizeof(*probe));
	hm_err err;
	int rc;

	*env = NULL;
	if (!probe)
		return HM_ERR_NOMEM;
	if ((err = hm_store_guard(probe, dir))) {
		if (err == HM_ERR_CORRUPT)
			snprintf(why, cap, "%s", probe->errmsg), err = HM_OK;
		else
			snprintf(why, cap, "%s (%s)", hm_strerror(err), probe->errmsg);
		free(probe);
		return err;
	}
	free(probe);
	/* the map the file needs, not the one its meta page says (damaged, it may ask for more
	 * than the machine has; LMDB takes what the pages need if that is more) */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) != 0)
		st.st_size = 0;
	if ((rc = mdb_env_create(env)) || (rc = mdb_env_set_maxdbs(*env, TREES_MAX)) ||
	    (rc = mdb_env_set_mapsize(*env, (size_t)st.st_size)) ||
	    (rc = mdb_env_open(*env, dir, MDB_RDONLY | MDB_NOTLS, 0600))) {
		snprintf(why, cap, _("opening the store: %s (%s)"), hm_strerror(hm_store_err(rc)),
		         mdb_strerror(rc));
		if (*env)
			mdb_env_close(*env);
		*env = NULL;
		return hm_store_err(rc);
	}
	if ((err = walk_env(*env, w)))
		snprintf(why, cap, _("reading its pages: %s"), hm_strerror(err));
	return err;
}

static bool store_exists(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return access(path, F_OK) == 0;
}

hm_err hm_store_pages_check_dir(const char *dir, char *why, size_t cap)
{
	page_walk w = {0};
	MDB_env *env = NULL;
	hm_err err;

	snprintf(why, cap, "%s", "");
	if (!store_exists(dir))
		return HM_ERR_NOT_FOUND;
	err = open_walk(dir, &env, &w, why, cap);
	if (env)
		mdb_env_close(env);
	if (!env && !err) /* the guard's refusal: for opening the store to say */
		snprintf(why, cap, "%s", "");
	else if (!err && w.fault_tree[0])
		walk_report(&w, dir, why, cap), err = HM_ERR_CORRUPT;
	return err;
}

/* ---- hm_store_salvage ---- */

/* Copy the tree `name` of from into to, record by record in order. */
static int copy_tree(MDB_txn *from, MDB_txn *to, const char *name)
{
	MDB_dbi a, b;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_dbi_open(from, name, 0, &a)) ||
	    (rc = mdb_dbi_open(to, name, MDB_CREATE, &b)) || (rc = mdb_cursor_open(from, a, &cur)))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if ((rc = mdb_put(to, b, &k, &v, MDB_APPEND)))
			break;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Every tree of old that the walk found whole and the oplog does not rebuild, into a new store
 * in the directory tmp. */
static int copy_trees(MDB_env *old, const page_walk *w, const char *tmp)
{
	MDB_envinfo info;
	MDB_env *env = NULL;
	MDB_txn *from = NULL, *to = NULL;
	int rc;

	if ((rc = mdb_env_info(old, &info)) || (rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_maxdbs(env, TREES_MAX)) ||
	    (rc = mdb_env_set_mapsize(env, 2 * info.me_mapsize + ((size_t)64 << 20))) ||
	    (rc = mdb_env_open(env, tmp, MDB_NOTLS, 0600)) ||
	    (rc = mdb_txn_begin(old, NULL, MDB_RDONLY, &from)) ||
	    (rc = mdb_txn_begin(env, NULL, 0, &to)))
		goto out;
	if (mdb_txn_id(from) != w->txnid) {
		rc = MDB_BAD_TXN; /* written since the walk: the copy would not be of what was
		                     walked */
		goto out;
	}
	for (size_t i = 0; i < w->ntrees && !rc; i++)
		if (!rebuilt_tree(w->trees[i].name))
			rc = copy_tree(from, to, w->trees[i].name);
	if (!rc) {
		rc = mdb_txn_commit(to); /* durable: the store opens with no MDB_NOSYNC */
		to = NULL;
	}
out:
	if (to)
		mdb_txn_abort(to);
	if (from)
		mdb_txn_abort(from);
	if (env)
		mdb_env_close(env);
	return rc;
}

static void remove_tmp(const char *tmp)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/data.mdb", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", tmp);
	unlink(p);
	rmdir(tmp);
}

/* The new data.mdb in the old one's place, the old one kept as kept: data.mdb is at every
 * moment one or the other, whole. */
static hm_err put_in_place(const char *dir, const char *tmp, char *kept, size_t kcap, char *why,
                           size_t cap)
{
	char path[4200], fresh[4200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int dfd, rc = -1, e;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	snprintf(fresh, sizeof(fresh), "%s/data.mdb", tmp);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	for (int i = 1; i < 100 && rc != 0; i++) { /* a name no earlier salvage took */
		snprintf(kept, kcap,
		         i == 1 ? "%s/data.mdb.damaged-%s" : "%s/data.mdb.damaged-%s-%d", dir,
		         stamp, i);
		if ((rc = link(path, kept)) != 0 && errno != EEXIST)
			break;
	}
	if (rc != 0 || rename(fresh, path) != 0) {
		e = errno;
		if (rc == 0)
			unlink(kept);
		snprintf(why, cap, _("putting the new data.mdb in place: %s (%s)"),
		         hm_strerror(hm_store_err(e)), hm_strerrno(e));
		return hm_store_err(e);
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return HM_OK;
}

/* Whether the walk of old lets a salvage go on: why says why not. */
static void salvage_verdict(const page_walk *w, char *why, size_t cap)
{
	if (!w->fault_tree[0])
		snprintf(why, cap, "%s", _("every page is whole"));
	else if (w->lost)
		snprintf(why, cap,
		         _("the %s tree is damaged (page %llu: %s), and the oplog does not rebuild "
		           "it: not repaired here"),
		         w->fault_tree, (unsigned long long)w->first_at, _(w->first));
}

/* The records of the new store in tmp rebuilt from its oplog, before it takes the old one's
 * place: a store is never served without them. */
static hm_err rebuild_in(const char *tmp, const hm_node_opts *opts, char *why, size_t cap)
{
	hm_node *n = NULL;
	hm_err err = hm_node_open(tmp, opts, &n);

	if (!err)
		err = hm_node_repair(n);
	if (err)
		snprintf(why, cap, _("rebuilding the records in the new file: %s"),
		         n && hm_node_errmsg(n)[0] ? hm_node_errmsg(n) : hm_strerror(err));
	hm_node_close(n);
	return err;
}

static int lock_byte(int lfd, short type)
{
	struct flock lock = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	return fcntl(lfd, F_OFD_SETLK, &lock);
}

/* No other process has the store open now, and none wrote to it after the commit copied. */
hm_err hm_store_still_alone(const char *dir, int lfd, uint64_t txnid, uint32_t psize, char *why,
                            size_t cap)
{
	char path[4200];
	uint8_t page[META_END];
	uint64_t last = 0;
	meta m;
	int fd;

	if (lock_byte(lfd, F_WRLCK) != 0) {
		snprintf(
		    why, cap, "%s",
		    _("another process opened the store meanwhile (serve, ui, a command): stop "
		      "it, and run this again"));
		return HM_ERR_BUSY;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		snprintf(why, cap, _("opening %s: %s (%s)"), path, hm_strerror(hm_store_err(e)),
		         hm_strerrno(e));
		return hm_store_err(e);
	}
	for (uint64_t i = 0; i < 2; i++)
		if (pread(fd, page, META_END, (off_t)(i * psize)) == META_END &&
		    (hm_meta_decode(page, &m), m.txnid > last))
			last = m.txnid;
	close(fd);
	if (last != txnid) {
		snprintf(why, cap, "%s",
		         _("the store was written meanwhile: run this again once nothing writes"));
		return HM_ERR_BUSY;
	}
	return HM_OK;
}

hm_err hm_store_salvage(const char *dir, const hm_node_opts *opts, bool *salvaged, char *why,
                        size_t cap)
{
	char tmp[4096], kept[4200];
	page_walk w = {0};
	MDB_env *old = NULL;
	hm_err err;
	int lfd = -1, rc;

	*salvaged = false;
	snprintf(why, cap, "%s", "");
	tmp[0] = '\0';
	if (!store_exists(dir))
		return HM_ERR_NOT_FOUND;
	if ((err = hm_store_lock_alone(dir, &lfd, why, cap)))
		return err;
	/* let go while LMDB opens the store here (it would wait for it, and must be free to set up
	 * a lock.mdb just made), taken back before the new file is put in place */
	if (lock_byte(lfd, F_UNLCK) != 0) {
		err = HM_ERR_IO;
		goto out;
	}
	if ((err = open_walk(dir, &old, &w, why, cap)) || !old)
		goto out;
	if (salvage_verdict(&w, why, cap), why[0])
		goto out;
	/* a folder of its own, made here (never one that was there: it could lead elsewhere) */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/salvage.XXXXXX", dir) >= sizeof(tmp) ||
	    !mkdtemp(tmp)) {
		rc = errno;
		tmp[0] = '\0';
		err = hm_store_err(rc);
		snprintf(why, cap, _("making a folder for the new file in %s: %s (%s)"), dir,
		         hm_strerror(err), hm_strerrno(rc));
		goto out;
	}
	if ((rc = copy_trees(old, &w, tmp))) {
		err = hm_store_err(rc);
		snprintf(why, cap, _("copying the whole trees to %s: %s (%s)"), tmp,
		         hm_strerror(err), mdb_strerror(rc));
		goto out;
	}
	mdb_env_close(old);
	old = NULL;
	if ((err = rebuild_in(tmp, opts, why, cap)))
		goto out;
	if ((err = hm_store_still_alone(dir, lfd, w.txnid, w.psize, why, cap)) ||
	    (err = put_in_place(dir, tmp, kept, sizeof(kept), why, cap)))
		goto out;
	*salvaged = true;
	snprintf(why, cap,
	         _("data.mdb written again without its damaged pages (the %s tree, page %llu: "
	           "%s), its records rebuilt from the oplog; the damaged file kept as %s"),
	         w.fault_tree, (unsigned long long)w.first_at, _(w.first), kept);
out:
	if (old)
		mdb_env_close(old);
	if (tmp[0])
		remove_tmp(tmp);
	if (lfd >= 0)
		close(lfd);
	return err;
}
