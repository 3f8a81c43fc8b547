/*
 * guard.c - a look at data.mdb before LMDB maps it: LMDB trusts its two meta pages (the
 * records of the last two commits: where each tree's root is, how many pages the file holds)
 * and keeps no checksums, so a damaged meta page can send it outside its map (a crash) or to
 * the wrong pages. The guard checks both meta pages the way LMDB 0.9 reads them, and the root
 * page of each tree the meta that LMDB will use points at, and refuses a store that fails with
 * a message naming the damage and the way back (docs/reliability.md, "Damaged media").
 *
 * What it cannot see: a meta page damaged into another valid one (a txnid changed into that
 * of the next commit, a root moved to another page of the right kind), and damage to any page
 * below a root. Those are for hamlet check (pages.c's walk of every page, records against a
 * rebuild, the oplog's hash chains) and for cli/main.c's guard against a crash inside the
 * store.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "layout.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hm_meta_decode(const uint8_t *p, meta *m)
{
	m->page_flags = (uint16_t)le(p + PAGE_FLAGS, 2);
	m->magic = (uint32_t)le(p + PAGE_HDR, 4);
	m->version = (uint32_t)le(p + PAGE_HDR + 4, 4);
	for (int i = 0; i < 2; i++) {
		const uint8_t *d = p + META_DBS + i * DB_BYTES;
		m->db[i] =
		    (meta_db){(uint32_t)le(d, 4), (uint16_t)le(d + 4, 2), (uint16_t)le(d + 6, 2),
		              le(d + 8, 8),       le(d + 16, 8),          le(d + 24, 8),
		              le(d + 32, 8),      le(d + 40, 8)};
	}
	m->last_pg = le(p + META_LAST_PG, 8);
	m->txnid = le(p + META_TXNID, 8);
}

/* NULL when m could be a meta page of a file of `pages` pages, else what is wrong. */
const char *hm_meta_fault(const meta *m, uint64_t pages)
{
	if (!(m->page_flags & P_META) || m->magic != META_MAGIC)
		return "it is not an LMDB meta page";
	if (m->version != META_VERSION)
		return "its format version is not LMDB's";
	if (m->last_pg < 1 || m->last_pg >= pages)
		return "it counts more pages than the file holds";
	for (int i = 0; i < 2; i++) {
		const meta_db *d = &m->db[i];
		if (d->root == P_INVALID ? d->depth != 0 || d->entries != 0
		                         : d->root < 2 || d->root > m->last_pg || d->depth == 0 ||
		                               d->depth > DEPTH_MAX)
			return i ? "its main tree's root is out of range"
			         : "its free-page tree's root is out of range";
		if (d->flags != (i ? MAIN_FLAGS : FREE_FLAGS))
			return "a tree's flags are not those LMDB and hamlet give it";
		if (d->branch > m->last_pg || d->leaf > m->last_pg || d->overflow > m->last_pg ||
		    d->branch + d->leaf + d->overflow > m->last_pg)
			return "its page counts exceed the file";
	}
	return NULL;
}

/* NULL when the page at pgno looks like the root of a tree of the given depth. */
static const char *root_fault(int fd, uint32_t psize, const meta_db *d)
{
	uint8_t hdr[PAGE_HDR];
	uint16_t flags;

	if (d->root == P_INVALID)
		return NULL;
	if (pread(fd, hdr, sizeof(hdr), (off_t)(d->root * psize)) != (ssize_t)sizeof(hdr))
		return "a root page cannot be read";
	flags = (uint16_t)le(hdr + PAGE_FLAGS, 2);
	if (le(hdr, 8) != d->root)
		return "a root page does not carry its own number";
	if ((flags & (P_BRANCH | P_LEAF)) != (d->depth == 1 ? P_LEAF : P_BRANCH))
		return "a root page is not a tree page of the tree's depth";
	return NULL;
}

static hm_err damaged(hm_node *n, const char *dir, const char *what)
{
	return hm_node_fail(n, HM_ERR_CORRUPT,
	                    "the store in %s is damaged (data.mdb: %s) and is not opened: see "
	                    "docs/reliability.md, \"Damaged media\": make a new node and restore "
	                    "it from the hub, or from a copy",
	                    dir, what);
}

/* Whether meta page k, damaged, is provably the older of the two, the other (j) whole and
 * naming the commit right after k's (k's commit number survived the damage): then it is
 * rewritten from j safely (hm_store_meta_repair), LMDB's next commit going there anyway. */
static bool older_repairable(const meta m[2], int k, uint64_t pages)
{
	int j = !k;

	return !hm_meta_fault(&m[j], pages) && m[j].txnid >= 1 && (m[j].txnid & 1) == (uint64_t)j &&
	       m[k].txnid == m[j].txnid - 1;
}

/* Which meta LMDB uses: the one with the larger txnid (the first when equal). The two hold
 * the last two commits: page (txnid & 1), txnids one apart (both 0 only in a store no commit
 * has reached). */
static hm_err metas_check(hm_node *n, const char *dir, const meta m[2], uint64_t pages, int *use)
{
	char what[200];
	const char *f[2] = {hm_meta_fault(&m[0], pages), hm_meta_fault(&m[1], pages)};
	uint64_t t0 = m[0].txnid, t1 = m[1].txnid;

	*use = t1 > t0 ? 1 : 0;
	for (int i = 0; i < 2; i++) {
		/* LMDB refuses a store either of whose meta pages is not one */
		if (f[i] && (i == *use || !(m[i].page_flags & P_META) || m[i].magic != META_MAGIC ||
		             m[i].version != META_VERSION)) {
			if (older_repairable(m, i, pages))
				return hm_node_fail(
				    n, HM_ERR_CORRUPT,
				    "the store in %s is damaged (data.mdb: meta page "
				    "%d, the older: %s) and is not opened; the last "
				    "commit is whole: `hamlet -d %s check --repair` "
				    "writes the older meta page again from it "
				    "(docs/reliability.md, \"Damaged media\")",
				    dir, i, f[i], dir);
			snprintf(what, sizeof(what), "meta page %d: %s", i, f[i]);
			return damaged(n, dir, what);
		}
	}
	if (m[0].db[0].pad != m[1].db[0].pad || m[0].db[0].pad < PSIZE_MIN ||
	    m[0].db[0].pad > PSIZE_MAX || (m[0].db[0].pad & (m[0].db[0].pad - 1)))
		return damaged(n, dir, "the meta pages disagree on the page size");
	if ((t0 || t1) && ((t0 & 1) != 0 || (t1 & 1) != 1 || (t0 > t1 ? t0 - t1 : t1 - t0) != 1)) {
		snprintf(what, sizeof(what),
		         "the meta pages name commits %" PRIu64 " and %" PRIu64
		         ", not two in a row",
		         t0, t1);
		return damaged(n, dir, what);
	}
	return HM_OK;
}

hm_err hm_store_guard(hm_node *n, const char *dir)
{
	char path[4096], what[128];
	uint8_t page[2][META_END];
	meta m[2];
	struct stat st;
	uint64_t psize, pages;
	const char *f;
	hm_err err = HM_OK;
	int fd, use;

	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
		return hm_node_fail(n, HM_ERR_INVALID, "directory path too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		return hm_node_fail(n, hm_store_err(e), "opening the store in %s: %s", dir,
		                    hm_strerrno(e));
	}
	if (fstat(fd, &st) != 0 || st.st_size < 2 * PSIZE_MIN ||
	    pread(fd, page[0], META_END, 0) != META_END) {
		err = damaged(n, dir, "shorter than its two meta pages");
		goto out;
	}
	hm_meta_decode(page[0], &m[0]);
	psize = m[0].db[0].pad;
	if (psize < PSIZE_MIN || psize > PSIZE_MAX || (psize & (psize - 1)) ||
	    (uint64_t)st.st_size < 2 * psize ||
	    pread(fd, page[1], META_END, (off_t)psize) != META_END) {
		err = damaged(n, dir, "meta page 0 has no valid page size");
		goto out;
	}
	hm_meta_decode(page[1], &m[1]);
	pages = (uint64_t)st.st_size / psize;
	if ((err = metas_check(n, dir, m, pages, &use)))
		goto out;
	for (int i = 0; i < 2 && !err; i++)
		if ((f = root_fault(fd, (uint32_t)psize, &m[use].db[i]))) {
			snprintf(what, sizeof(what), "%s tree: %s",
			         i ? "the main" : "the free-page", f);
			err = damaged(n, dir, what);
		}
	if (!err && hm_meta_fault(&m[!use], pages))
		hm_logf(&n->log, HM_LOG_WARN,
		        "data.mdb's older meta page is damaged (%s); the next write replaces it",
		        hm_meta_fault(&m[!use], pages));
out:
	close(fd);
	return err;
}

static void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The page size of data.mdb: meta page 0's, or (page 0 damaged) the first size at which meta
 * page 1 is a meta page saying it; 0 when none. */
static uint64_t page_size_of(int fd, const uint8_t *page0)
{
	uint8_t p[META_END];
	meta m;

	hm_meta_decode(page0, &m);
	if ((m.page_flags & P_META) && m.magic == META_MAGIC && m.db[0].pad >= PSIZE_MIN &&
	    m.db[0].pad <= PSIZE_MAX && !(m.db[0].pad & (m.db[0].pad - 1)))
		return m.db[0].pad;
	for (uint64_t s = PSIZE_MIN; s <= PSIZE_MAX; s *= 2) {
		if (pread(fd, p, META_END, (off_t)s) != META_END)
			break;
		hm_meta_decode(p, &m);
		if ((m.page_flags & P_META) && m.magic == META_MAGIC && m.db[0].pad == s)
			return s;
	}
	return 0;
}

hm_err hm_store_lock_alone(const char *dir, int *lfd, char *why, size_t cap)
{
	char lpath[4096];
	/* an open file description's lock: it conflicts with LMDB's record locks of any process,
	 * this one's too, where a record lock of this process would not */
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};

	*lfd = -1;
	if ((size_t)snprintf(lpath, sizeof(lpath), "%s/lock.mdb", dir) >= sizeof(lpath))
		return HM_ERR_INVALID;
	/* LMDB holds a lock on lock.mdb's first byte in every process that has the store open (a
	 * lock.mdb made here, as LMDB would, if it is gone) */
	if ((*lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(why, cap, _("opening %s: %s"), lpath, hm_strerrno(errno));
		return HM_ERR_IO;
	}
	if (fcntl(*lfd, F_OFD_SETLK, &lock) != 0) {
		snprintf(why, cap, "%s",
		         _("another process has the store open (serve, ui, a command): stop it "
		           "first"));
		close(*lfd);
		*lfd = -1;
		return HM_ERR_BUSY;
	}
	return HM_OK;
}

hm_err hm_store_meta_repair(const char *dir, bool *repaired, char *why, size_t cap)
{
	char path[4096];
	uint8_t page[2][META_END];
	struct stat st;
	meta m[2];
	uint64_t psize, pages;
	hm_err err = HM_OK;
	int fd, lfd = -1, k;

	*repaired = false;
	snprintf(why, cap, "%s", "");
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
		return HM_ERR_INVALID;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(why, cap, _("opening %s: %s"), path, hm_strerrno(errno));
		return errno == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO;
	}
	if ((err = hm_store_lock_alone(dir, &lfd, why, cap)))
		goto out;
	if (fstat(fd, &st) != 0 || pread(fd, page[0], META_END, 0) != META_END ||
	    !(psize = page_size_of(fd, page[0])) || (uint64_t)st.st_size < 2 * psize ||
	    pread(fd, page[1], META_END, (off_t)psize) != META_END) {
		snprintf(why, cap, "%s", _("its meta pages cannot be read: not repaired here"));
		goto out;
	}
	hm_meta_decode(page[0], &m[0]);
	hm_meta_decode(page[1], &m[1]);
	pages = (uint64_t)st.st_size / psize;
	if (!hm_meta_fault(&m[0], pages) == !hm_meta_fault(&m[1], pages)) {
		snprintf(why, cap, "%s",
		         hm_meta_fault(&m[0], pages) ? _("both meta pages are damaged")
		                                     : _("both meta pages are whole"));
		goto out;
	}
	k = hm_meta_fault(&m[0], pages) ? 0 : 1;
	if (!older_repairable(m, k, pages) || root_fault(fd, (uint32_t)psize, &m[!k].db[0]) ||
	    root_fault(fd, (uint32_t)psize, &m[!k].db[1])) {
		snprintf(
		    why, cap,
		    _("meta page %d is damaged, but it cannot be told to be the older commit of a "
		      "whole store: not repaired here"),
		    k);
		goto out;
	}
	memcpy(page[k], page[!k], META_END); /* the last commit's record, as the one before it */
	le_put(page[k], (uint64_t)k, 8);     /* the page's own number */
	le_put(page[k] + META_TXNID, m[!k].txnid - 1, 8);
	if (pwrite(fd, page[k], META_END, (off_t)((uint64_t)k * psize)) != META_END ||
	    fdatasync(fd) != 0) {
		snprintf(why, cap, _("writing meta page %d: %s"), k, hm_strerrno(errno));
		err = HM_ERR_IO;
		goto out;
	}
	*repaired = true;
	snprintf(why, cap,
	         _("meta page %d (the older) written again from meta page %d (commit %llu)"), k, !k,
	         (unsigned long long)m[!k].txnid);
out:
	if (lfd >= 0)
		close(lfd); /* and the lock with it */
	close(fd);
	return err;
}
