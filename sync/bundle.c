/*
 * bundle.c - bundle files.
 *
 *   bundle = magic "HMBUNDL1" frame*    frame = type(1) length(4, big-endian) payload
 *   'H' header  msgpack-free fixed layout: format(1)=1, exporter node id(16), created ms(8 BE)
 *   'E' one change-set envelope, exactly as stored in the oplog
 *   'Z' end: count(8 BE) then BLAKE2b-256 of every byte from the magic to the start of 'Z'
 *
 * Nothing may follow the end frame. Lengths are checked against caps before any allocation.
 */
#include "sync.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FRAME_HEADER   'H'
#define FRAME_ENVELOPE 'E'
#define FRAME_END      'Z'
#define HEADER_BYTES   (1 + HM_NODE_ID_BYTES + 8)
#define END_BYTES      (8 + HM_HASH_BYTES)

static _Thread_local char errmsg[512];

const char *hm_bundle_errmsg(void)
{
	return errmsg;
}

static hm_err fail(hm_err err, const char *fmt, ...) HM_PRINTF(2, 3);
static hm_err fail(hm_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- export ---- */

typedef struct writer {
	FILE *f;
	hm_hash_state hs;
	hm_bundle_stats *stats;
	bool failed;
} writer;

static void emit(writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		w->failed = true;
	hm_hash_update(&w->hs, p, n);
	w->stats->bytes += n;
}

static void emit_frame(writer *w, char type, const void *p, size_t n)
{
	uint8_t head[5];
	head[0] = (uint8_t)type;
	put32(head + 1, (uint32_t)n);
	emit(w, head, sizeof(head));
	emit(w, p, n);
}

static int export_one(void *ctx, const hm_changeset_view *cs)
{
	writer *w = ctx;
	emit_frame(w, FRAME_ENVELOPE, cs->envelope.p, cs->envelope.n);
	w->stats->changesets++;
	return w->failed;
}

hm_err hm_bundle_export(hm_node *node, const hm_vv *since, const char *path, bool overwrite,
                        hm_bundle_stats *stats)
{
	char tmp[4096];
	uint8_t header[HEADER_BYTES], end[END_BYTES + 5];
	hm_bundle_stats local = {0};
	writer w = {.stats = stats ? stats : &local};
	hm_hash digest;
	hm_err err = HM_OK;
	int fd = -1;

	memset(w.stats, 0, sizeof(*w.stats));
	if (!overwrite && access(path, F_OK) == 0)
		return fail(HM_ERR_EXISTS, "%s already exists (use --force to replace it)", path);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return fail(HM_ERR_INVALID, "path too long");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 || !(w.f = fdopen(fd, "wb"))) {
		err = fail(HM_ERR_IO, "creating %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	hm_hash_init(&w.hs);
	emit(&w, HM_BUNDLE_MAGIC, 8);
	header[0] = 1;
	memcpy(header + 1, hm_node_self(node)->b, HM_NODE_ID_BYTES);
	{
		hm_node_info info;
		if ((err = hm_node_info_get(node, &info)))
			goto out;
	}
	put64(header + 1 + HM_NODE_ID_BYTES, (uint64_t)time(NULL) * 1000u);
	emit_frame(&w, FRAME_HEADER, header, sizeof(header));
	if ((err = hm_node_changesets(node, since, export_one, &w))) {
		fail(err, "reading change sets: %s", hm_node_errmsg(node));
		goto out;
	}
	hm_hash_final(&w.hs, &digest);
	end[0] = FRAME_END;
	put32(end + 1, END_BYTES);
	put64(end + 5, w.stats->changesets);
	memcpy(end + 13, digest.b, HM_HASH_BYTES);
	if (!w.failed && fwrite(end, 1, sizeof(end), w.f) != sizeof(end))
		w.failed = true;
	w.stats->bytes += sizeof(end);
	if (w.failed || fflush(w.f) || fsync(fileno(w.f))) {
		err = fail(HM_ERR_IO, "writing %s: %s", tmp, strerror(errno));
		goto out;
	}
out:
	if (fclose(w.f) && !err)
		err = fail(HM_ERR_IO, "closing %s: %s", tmp, strerror(errno));
	if (!err && rename(tmp, path) != 0)
		err = fail(HM_ERR_IO, "renaming %s to %s: %s", tmp, path, strerror(errno));
	if (err)
		unlink(tmp);
	return err;
}

/* ---- import ---- */

typedef struct reader {
	FILE *f;
	const char *path;
	uint64_t off;
	hm_hash_state hs;
	uint8_t *buf;
	size_t cap;
} reader;

/* Read one frame: its type and payload (in r->buf). The hash covers every byte read before
 * the end frame. */
static hm_err read_frame(reader *r, char *type, size_t *len)
{
	uint8_t head[5];
	size_t got = fread(head, 1, sizeof(head), r->f);
	uint32_t n;

	if (got == 0 && feof(r->f))
		return fail(HM_ERR_TRUNCATED,
		            "%s ends at byte %llu without an end frame: the file "
		            "is incomplete (copied before it was finished?)",
		            r->path, (unsigned long long)r->off);
	if (got != sizeof(head))
		return fail(HM_ERR_TRUNCATED, "%s is cut short inside a frame at byte %llu",
		            r->path, (unsigned long long)r->off);
	n = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
	*type = (char)head[0];
	if (*type != FRAME_HEADER && *type != FRAME_ENVELOPE && *type != FRAME_END)
		return fail(HM_ERR_CORRUPT, "%s: unknown frame type 0x%02x at byte %llu", r->path,
		            head[0], (unsigned long long)r->off);
	if (n > HM_ENVELOPE_MAX)
		return fail(HM_ERR_TOO_BIG, "%s: a frame at byte %llu declares %u bytes (cap %u)",
		            r->path, (unsigned long long)r->off, n, HM_ENVELOPE_MAX);
	if (*type != FRAME_END)
		hm_hash_update(&r->hs, head, sizeof(head));
	if (n > r->cap) {
		uint8_t *p = realloc(r->buf, n);
		if (!p)
			return fail(HM_ERR_NOMEM, "out of memory reading %s", r->path);
		r->buf = p, r->cap = n;
	}
	if (fread(r->buf, 1, n, r->f) != n)
		return fail(HM_ERR_TRUNCATED, "%s is cut short inside a frame at byte %llu",
		            r->path, (unsigned long long)r->off);
	if (*type != FRAME_END)
		hm_hash_update(&r->hs, r->buf, n);
	r->off += 5u + n;
	*len = n;
	return HM_OK;
}

static hm_err reader_open(reader *r, const char *path)
{
	uint8_t magic[8];
	char type;
	size_t len;
	hm_err err;

	memset(r, 0, sizeof(*r));
	r->path = path;
	if (!(r->f = fopen(path, "rb")))
		return fail(errno == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO, "opening %s: %s", path,
		            strerror(errno));
	hm_hash_init(&r->hs);
	if (fread(magic, 1, 8, r->f) != 8 || memcmp(magic, HM_BUNDLE_MAGIC, 8) != 0)
		return fail(HM_ERR_CORRUPT, "%s is not a hamlet bundle (bad magic)", path);
	hm_hash_update(&r->hs, magic, 8);
	r->off = 8;
	if ((err = read_frame(r, &type, &len)))
		return err;
	if (type != FRAME_HEADER || len != HEADER_BYTES)
		return fail(HM_ERR_CORRUPT, "%s: the first frame is not a bundle header", path);
	if (r->buf[0] != 1)
		return fail(HM_ERR_VERSION, "%s: bundle format %u is not supported", path,
		            r->buf[0]);
	return HM_OK;
}

static void reader_close(reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
}

/* Pass 1: every frame well formed, the end frame present, count and hash right. */
static hm_err verify(const char *path, size_t *count)
{
	reader r;
	uint64_t n = 0;
	hm_err err;

	if ((err = reader_open(&r, path)))
		goto out;
	while (1) {
		char type;
		size_t len;
		hm_hash want;
		if ((err = read_frame(&r, &type, &len)))
			goto out;
		if (type == FRAME_ENVELOPE) {
			n++;
			continue;
		}
		if (type != FRAME_END || len != END_BYTES) {
			err = fail(HM_ERR_CORRUPT, "%s: unexpected frame at byte %llu", path,
			           (unsigned long long)r.off);
			goto out;
		}
		hm_hash_final(&r.hs, &want);
		if (get64(r.buf) != n || memcmp(r.buf + 8, want.b, HM_HASH_BYTES) != 0) {
			err = fail(HM_ERR_CORRUPT,
			           "%s: the end frame does not match the contents: the file was "
			           "altered or damaged",
			           path);
			goto out;
		}
		if (fgetc(r.f) != EOF) {
			err = fail(HM_ERR_CORRUPT, "%s: bytes after the end frame", path);
			goto out;
		}
		break;
	}
	*count = n;
out:
	reader_close(&r);
	return err;
}

/* A batch of envelopes read from the file, applied in one transaction. */
typedef struct batch {
	uint8_t *data;
	size_t used, cap;
	size_t *offs, *lens;
	size_t n;
	hm_bytes *views;
} batch;

static hm_err batch_flush(hm_node *node, batch *b, hm_bundle_stats *st)
{
	hm_err err;

	if (!b->n)
		return HM_OK;
	for (size_t i = 0; i < b->n; i++)
		b->views[i].p = b->data + b->offs[i], b->views[i].n = b->lens[i];
	if ((err = hm_node_apply(node, b->views, b->n, &st->apply, NULL)))
		return fail(err, "applying: %s", hm_node_errmsg(node));
	st->changesets += b->n;
	b->n = 0, b->used = 0;
	return HM_OK;
}

hm_err hm_bundle_import(hm_node *node, const char *path, hm_progress_fn progress, void *pctx,
                        hm_bundle_stats *stats)
{
	hm_bundle_stats local = {0};
	hm_bundle_stats *st = stats ? stats : &local;
	batch b = {0};
	reader r = {0};
	size_t total = 0;
	hm_err err;

	memset(st, 0, sizeof(*st));
	if ((err = verify(path, &total)))
		return err;
	if ((err = hm_node_release_quarantine(node, &st->apply)))
		return fail(err, "%s", hm_node_errmsg(node));
	b.offs = malloc(HM_BUNDLE_BATCH_COUNT * sizeof(size_t));
	b.lens = malloc(HM_BUNDLE_BATCH_COUNT * sizeof(size_t));
	b.views = malloc(HM_BUNDLE_BATCH_COUNT * sizeof(hm_bytes));
	if (!b.offs || !b.lens || !b.views) {
		err = fail(HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = reader_open(&r, path)))
		goto out;
	while (1) {
		char type;
		size_t len;
		if ((err = read_frame(&r, &type, &len)))
			goto out;
		if (type == FRAME_END)
			break;
		if (b.n == HM_BUNDLE_BATCH_COUNT ||
		    (b.used && b.used + len > HM_BUNDLE_BATCH_BYTES)) {
			if ((err = batch_flush(node, &b, st)))
				goto out;
			if (progress)
				progress(pctx, st->changesets, total);
		}
		if (b.used + len > b.cap) {
			size_t cap = b.used + len > HM_BUNDLE_BATCH_BYTES ? b.used + len
			                                                  : HM_BUNDLE_BATCH_BYTES;
			uint8_t *p = realloc(b.data, cap);
			if (!p) {
				err = fail(HM_ERR_NOMEM, "out of memory");
				goto out;
			}
			b.data = p, b.cap = cap;
		}
		memcpy(b.data + b.used, r.buf, len);
		b.offs[b.n] = b.used, b.lens[b.n] = len;
		b.used += len, b.n++;
		st->bytes += len;
	}
	err = batch_flush(node, &b, st);
	if (!err && progress)
		progress(pctx, st->changesets, total);
out:
	reader_close(&r);
	free(b.data), free(b.offs), free(b.lens), free(b.views);
	return err;
}
