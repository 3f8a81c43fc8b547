/*
 * bundle.c - bundle files: change sets carried on a USB stick.
 *
 *   bundle = magic frame*         frame = type(1) length(4, big-endian) payload
 *
 * Format 2, sealed (nodes with keys), magic "HMBUNDL2":
 *   'H' format(1)=2 exporter(16) created_ms(8) to_node(1) recipient wrapped_len(1) wrapped
 *       chain_len(2) chain          recipient = node id(16) | scope_len(1) scope
 *       A bundle for one node holds only the change sets that node may hold (by its certified
 *       region); one for a scope, only what a node of that region may hold.
 *       A fresh bundle key is wrapped for the recipient (hm_node_wrap_key); the chain is the
 *       exporter's certificate chain.
 *   'E' XChaCha20-Poly1305(bundle key, envelope, ad = "E" || index(8)): one change set
 *   'C' certificates (at most once, after the envelopes): { len(2) certificate }*, every other
 *       node's certificate the exporter holds and honours (hm_node_certs_export), so a node that
 *       keeps only what its scope may hold still learns every node's certificate.
 *   'Z' count(8) hash(32) signature(64): BLAKE2b-256 of every byte from the magic to the first
 *       byte of this frame, signed by the exporter.
 * Format 1, plain (nodes without keys: unit tests, benchmarks), magic "HMBUNDL1":
 *   'H' format(1)=1 exporter(16) created_ms(8);  'E' envelope;  'Z' count(8) hash(32).
 *
 * Nothing may follow the end frame. Lengths are checked against caps before any allocation.
 * Import reads the file twice: first to check every frame (and in format 2 to open every
 * envelope and check the exporter's chain and signature), then to apply in bounded batches.
 * Like a sync session, import keeps only the change sets the node's region may hold
 * (hm_region_visible); the others are counted, not kept, and never enter its version vector.
 */
#include "sync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC_PLAIN        HM_BUNDLE_MAGIC_PLAIN
#define MAGIC_SEALED       HM_BUNDLE_MAGIC_SEALED
#define FRAME_HEADER       'H'
#define FRAME_ENVELOPE     'E'
#define FRAME_END          'Z'
#define FRAME_CERTS        'C'
#define PLAIN_HEADER_BYTES (1 + HM_NODE_ID_BYTES + 8)
#define HEADER_MAX         (PLAIN_HEADER_BYTES + 2 + HM_REGION_MAX + 1 + HM_WRAPPED_MAX + 2 + HM_CHAIN_MAX)
#define PLAIN_END_BYTES    (8 + HM_HASH_BYTES)
#define SEALED_END_BYTES   (8 + HM_HASH_BYTES + HM_SIGNATURE_BYTES)
#define FRAME_MAX          (HM_ENVELOPE_MAX + HM_AEAD_OVERHEAD)

/* Bundles and sessions share one message slot (session.c). */
#define fail hm_sync_fail

const char *hm_bundle_errmsg(void)
{
	return hm_sync_errmsg();
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

/* Associated data of envelope frame i: its type and index, so frames cannot be reordered. */
static void frame_ad(uint64_t i, uint8_t ad[9])
{
	ad[0] = FRAME_ENVELOPE;
	put64(ad + 1, i);
}

/* ---- export ---- */

typedef struct writer {
	FILE *f;
	hm_hash_state hs;
	hm_bundle_stats *stats;
	bool failed, sealed;
	const char *holder; /* only what a node of this region may hold; NULL: everything */
	uint8_t key[32];
	uint8_t *buf; /* a sealed envelope */
	size_t cap;
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
	const void *payload = cs->envelope.p;
	size_t n = cs->envelope.n;

	if (w->holder && !hm_region_visible(w->holder, cs->region))
		return 0; /* not for the recipient: a village never receives another's records */

	if (w->sealed) {
		uint8_t ad[9];
		if (w->cap < n + HM_AEAD_OVERHEAD) {
			uint8_t *p = realloc(w->buf, n + HM_AEAD_OVERHEAD);
			if (!p)
				return w->failed = true;
			w->buf = p, w->cap = n + HM_AEAD_OVERHEAD;
		}
		frame_ad(w->stats->changesets, ad);
		if (hm_aead_seal(w->buf, w->cap, &n, w->key, cs->envelope.p, cs->envelope.n, ad,
		                 sizeof(ad)))
			return w->failed = true;
		payload = w->buf;
	}
	emit_frame(w, FRAME_ENVELOPE, payload, n);
	w->stats->changesets++;
	return w->failed;
}

/* The sealed header: a fresh bundle key wrapped for the recipient, and our chain. */
static hm_err sealed_header(hm_node *node, writer *w, const hm_recipient *rcpt, uint8_t *h,
                            size_t *len)
{
	size_t off = PLAIN_HEADER_BYTES, wl, cl;
	uint8_t wrapped[HM_WRAPPED_MAX];
	hm_err err;

	hm_random_bytes(w->key, sizeof(w->key));
	if ((err = hm_node_wrap_key(node, rcpt, w->key, wrapped, &wl)))
		return fail(err, "cannot seal the bundle for its recipient: %s",
		            hm_node_errmsg(node));
	h[off++] = rcpt->to_node;
	if (rcpt->to_node) {
		memcpy(h + off, rcpt->node.b, HM_NODE_ID_BYTES);
		off += HM_NODE_ID_BYTES;
	} else {
		size_t sn = strlen(rcpt->scope);
		h[off++] = (uint8_t)sn;
		memcpy(h + off, rcpt->scope, sn);
		off += sn;
	}
	h[off++] = (uint8_t)wl;
	memcpy(h + off, wrapped, wl);
	off += wl;
	if ((err = hm_node_chain(node, h + off + 2, HEADER_MAX - off - 2, &cl)))
		return fail(err, "this node's certificate chain: %s", hm_node_errmsg(node));
	h[off] = (uint8_t)(cl >> 8), h[off + 1] = (uint8_t)cl;
	*len = off + 2 + cl;
	return HM_OK;
}

/* The certificates of every other node the exporter knows, apart from the change sets. */
static hm_err write_certs(hm_node *node, writer *w)
{
	uint8_t *certs = NULL;
	size_t len = 0;
	hm_err err = hm_node_certs_export(node, &certs, &len, FRAME_MAX);

	if (err)
		return fail(err, "reading certificates: %s", hm_node_errmsg(node));
	if (len)
		emit_frame(w, FRAME_CERTS, certs, len);
	free(certs);
	return HM_OK;
}

static hm_err write_end(hm_node *node, writer *w)
{
	uint8_t end[5 + SEALED_END_BYTES];
	size_t n = w->sealed ? SEALED_END_BYTES : PLAIN_END_BYTES;
	hm_hash digest;
	hm_err err;

	hm_hash_final(&w->hs, &digest);
	end[0] = FRAME_END;
	put32(end + 1, (uint32_t)n);
	put64(end + 5, w->stats->changesets);
	memcpy(end + 13, digest.b, HM_HASH_BYTES);
	if (w->sealed) {
		hm_signature sig;
		if ((err = hm_node_sign(node, &digest, &sig)))
			return fail(err, "cannot sign the bundle: %s", hm_node_errmsg(node));
		memcpy(end + 13 + HM_HASH_BYTES, sig.b, HM_SIGNATURE_BYTES);
	}
	if (!w->failed && fwrite(end, 1, 5 + n, w->f) != 5 + n)
		w->failed = true;
	w->stats->bytes += 5 + n;
	return HM_OK;
}

hm_err hm_bundle_export(hm_node *node, const hm_vv *since, const char *path, bool overwrite,
                        const hm_recipient *rcpt, hm_bundle_stats *stats)
{
	char tmp[4096];
	uint8_t header[HEADER_MAX];
	size_t hlen = PLAIN_HEADER_BYTES;
	hm_bundle_stats local = {0};
	writer w = {.stats = stats ? stats : &local};
	hm_recipient county = {0};
	char holder[HM_REGION_MAX + 1];
	hm_node_info info;
	hm_err err;
	int fd;

	memset(w.stats, 0, sizeof(*w.stats));
	hm_node_ident(node, &info);
	w.sealed = info.trust;
	if (w.sealed && !rcpt) {
		/* By default any node of this county can open it; nobody outside can. */
		snprintf(county.scope, sizeof(county.scope), "%.*s", (int)strcspn(info.region, "/"),
		         info.region);
		rcpt = &county;
	}
	if (!overwrite && access(path, F_OK) == 0)
		return fail(HM_ERR_EXISTS, "%s already exists (use --force to replace it)", path);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return fail(HM_ERR_INVALID, "path too long");
	header[0] = w.sealed ? 2 : 1;
	memcpy(header + 1, info.id.b, HM_NODE_ID_BYTES);
	put64(header + 1 + HM_NODE_ID_BYTES, (uint64_t)time(NULL) * 1000u);
	if (w.sealed && (err = sealed_header(node, &w, rcpt, header, &hlen)))
		return err;
	if (w.sealed && rcpt->to_node) {
		if ((err = hm_node_peer_region(node, &rcpt->node, holder)))
			return fail(err, "the recipient: %s", hm_node_errmsg(node));
		w.holder = holder;
	} else if (w.sealed && rcpt != &county) {
		w.holder = rcpt->scope;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 || !(w.f = fdopen(fd, "wb"))) {
		err = fail(HM_ERR_IO, "creating %s: %s", tmp, hm_strerrno(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp); /* fdopen failed (out of memory): the file is ours */
		}
		goto out_nofile;
	}
	hm_hash_init(&w.hs);
	emit(&w, w.sealed ? MAGIC_SEALED : MAGIC_PLAIN, 8);
	emit_frame(&w, FRAME_HEADER, header, hlen);
	if ((err = hm_node_changesets(node, since, export_one, &w)) ||
	    (err = hm_node_fork_proofs(node, since, export_one, &w))) {
		fail(err, "reading change sets: %s", hm_node_errmsg(node));
		goto out;
	}
	if (w.sealed && (err = write_certs(node, &w)))
		goto out;
	if ((err = write_end(node, &w)))
		goto out;
	if (w.failed || fflush(w.f) || fsync(fileno(w.f))) {
		err = fail(HM_ERR_IO, "writing %s: %s", tmp, hm_strerrno(errno));
		goto out;
	}
out:
	if (fclose(w.f) && !err)
		err = fail(HM_ERR_IO, "closing %s: %s", tmp, hm_strerrno(errno));
	if (!err && rename(tmp, path) != 0)
		err = fail(HM_ERR_IO, "renaming %s to %s: %s", tmp, path, hm_strerrno(errno));
	/* Without its folder synced, a power cut may take the new name back: the export would
	 * have said "exported" of a file that is not there (tests/io/powerloss.sh). */
	else if (!err && (err = hm_file_sync_parent(path))) {
		err = fail(err, "syncing the folder of %s: %s", path, hm_strerror(err));
		unlink(path);
	}
	if (err)
		unlink(tmp);
out_nofile:
	hm_wipe(w.key, sizeof(w.key));
	free(w.buf);
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
	bool sealed;
	uint8_t key[32];
	uint8_t chain[HM_CHAIN_MAX];
	size_t chain_len;
	uint8_t *plain; /* an opened envelope */
	size_t plain_cap;
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
		            "%s ends at byte %llu without an end frame: the file is incomplete "
		            "(copied before it was finished?)",
		            r->path, (unsigned long long)r->off);
	if (got != sizeof(head))
		return fail(HM_ERR_TRUNCATED, "%s is cut short inside a frame at byte %llu",
		            r->path, (unsigned long long)r->off);
	n = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
	*type = (char)head[0];
	if (*type != FRAME_HEADER && *type != FRAME_ENVELOPE && *type != FRAME_END &&
	    (*type != FRAME_CERTS || !r->sealed))
		return fail(HM_ERR_CORRUPT, "%s: unknown frame type 0x%02x at byte %llu", r->path,
		            head[0], (unsigned long long)r->off);
	if (n > FRAME_MAX)
		return fail(HM_ERR_TOO_BIG, "%s: a frame at byte %llu declares %u bytes (cap %u)",
		            r->path, (unsigned long long)r->off, n, (unsigned)FRAME_MAX);
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

/* The sealed header: recipient, wrapped bundle key (opened here) and the exporter's chain. */
static hm_err open_sealed_header(hm_node *node, reader *r, size_t len)
{
	const uint8_t *p = r->buf + PLAIN_HEADER_BYTES, *end = r->buf + len;
	hm_recipient rcpt = {0};
	size_t wl, cl;

	if (len < PLAIN_HEADER_BYTES + 1)
		goto bad;
	rcpt.to_node = *p++ != 0;
	if (rcpt.to_node) {
		if (end - p < HM_NODE_ID_BYTES)
			goto bad;
		memcpy(rcpt.node.b, p, HM_NODE_ID_BYTES);
		p += HM_NODE_ID_BYTES;
	} else {
		size_t sn = p < end ? *p++ : 0;
		if (!sn || sn > HM_REGION_MAX || (size_t)(end - p) < sn)
			goto bad;
		memcpy(rcpt.scope, p, sn);
		p += sn;
		if (!hm_region_valid(rcpt.scope))
			goto bad; /* and never printed: it came from the file */
	}
	if (p >= end)
		goto bad;
	wl = *p++;
	if (wl > (size_t)(end - p))
		goto bad;
	if (hm_node_unwrap_key(node, &rcpt, p, wl, r->key)) {
		char who[2 * HM_NODE_ID_BYTES + 1];
		hm_node_id_hex(&rcpt.node, who);
		return fail(HM_ERR_CRYPTO,
		            "%s is sealed for %s %s, and this node cannot open it (%s)", r->path,
		            rcpt.to_node ? "node" : "scope", rcpt.to_node ? who : rcpt.scope,
		            hm_node_errmsg(node));
	}
	p += wl;
	if (end - p < 2)
		goto bad;
	cl = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (cl != (size_t)(end - p) || cl > sizeof(r->chain))
		goto bad;
	memcpy(r->chain, p, cl);
	r->chain_len = cl;
	return HM_OK;
bad:
	return fail(HM_ERR_CORRUPT, "%s: the bundle header is malformed", r->path);
}

static hm_err reader_open(hm_node *node, reader *r, const char *path)
{
	uint8_t magic[8];
	char type;
	size_t len;
	hm_node_info info;
	hm_err err;

	memset(r, 0, sizeof(*r));
	r->path = path;
	hm_node_ident(node, &info);
	if (!(r->f = fopen(path, "rb")))
		return fail(errno == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO, "opening %s: %s", path,
		            hm_strerrno(errno));
	hm_hash_init(&r->hs);
	if (fread(magic, 1, 8, r->f) != 8 ||
	    (memcmp(magic, MAGIC_PLAIN, 8) != 0 && memcmp(magic, MAGIC_SEALED, 8) != 0))
		return fail(HM_ERR_CORRUPT, "%s is not a hamlet bundle (bad magic)", path);
	r->sealed = memcmp(magic, MAGIC_SEALED, 8) == 0;
	if (r->sealed != info.trust)
		return fail(HM_ERR_VERSION,
		            r->sealed
		                ? "%s is sealed: only a node with keys can import it"
		                : "%s is an unsealed bundle: nodes with keys take only sealed "
		                  "bundles (from enrolled nodes)",
		            path);
	hm_hash_update(&r->hs, magic, 8);
	r->off = 8;
	if ((err = read_frame(r, &type, &len)))
		return err;
	if (type != FRAME_HEADER || len < PLAIN_HEADER_BYTES || len > HEADER_MAX ||
	    (!r->sealed && len != PLAIN_HEADER_BYTES))
		return fail(HM_ERR_CORRUPT, "%s: the first frame is not a bundle header", path);
	if (r->buf[0] != (r->sealed ? 2 : 1))
		return fail(HM_ERR_VERSION, "%s: bundle format %u is not supported", path,
		            r->buf[0]);
	return r->sealed ? open_sealed_header(node, r, len) : HM_OK;
}

static void reader_close(reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	if (r->plain)
		hm_wipe(r->plain, r->plain_cap);
	free(r->plain);
	hm_wipe(r->key, sizeof(r->key));
}

/* The envelope in the frame just read (index i): r->buf itself, or opened into r->plain. */
static hm_err frame_envelope(reader *r, uint64_t i, size_t len, const uint8_t **env, size_t *n)
{
	uint8_t ad[9];

	if (!r->sealed) {
		*env = r->buf, *n = len;
		return HM_OK;
	}
	if (r->plain_cap < len) {
		uint8_t *p = realloc(r->plain, len);
		if (!p)
			return fail(HM_ERR_NOMEM, "out of memory");
		r->plain = p, r->plain_cap = len;
	}
	frame_ad(i, ad);
	if (hm_aead_open(r->plain, r->plain_cap, n, r->key, r->buf, len, ad, sizeof(ad)))
		return fail(HM_ERR_CORRUPT,
		            "%s: change set %llu does not open: the file was altered or damaged",
		            r->path, (unsigned long long)i + 1);
	*env = r->plain;
	return HM_OK;
}

/* A certificate frame's shape: { length (2) certificate }*, each one decoding. */
static hm_err certs_decode(const uint8_t *p, size_t len, const char *path)
{
	size_t off = 0, n = 0;

	while (off < len) {
		hm_cert c;
		size_t cl = len - off < 2 ? 0 : (size_t)p[off] << 8 | p[off + 1];
		if (!cl || cl > len - off - 2 || hm_cert_decode(&c, p + off + 2, cl) ||
		    ++n > HM_CERTS_MAX)
			return fail(HM_ERR_CORRUPT, "%s: the certificate frame is malformed", path);
		off += 2 + cl;
	}
	return HM_OK;
}

/* The end frame in r.buf, after n change sets: their count and the hash of the frames before
 * it, when sealed the exporter's chain and signature over that hash, and nothing after it. */
static hm_err end_frame_check(hm_node *node, reader *r, uint64_t n, const char *path)
{
	hm_hash want;

	hm_hash_final(&r->hs, &want);
	if (get64(r->buf) != n || memcmp(r->buf + 8, want.b, HM_HASH_BYTES) != 0)
		return fail(HM_ERR_CORRUPT,
		            "%s: the end frame does not match the contents: the file was altered "
		            "or damaged",
		            path);
	if (r->sealed) {
		hm_signature sig;
		hm_peer exporter;
		memcpy(sig.b, r->buf + 8 + HM_HASH_BYTES, HM_SIGNATURE_BYTES);
		if (hm_node_verify_peer(node, r->chain, r->chain_len, &want, &sig, &exporter))
			return fail(HM_ERR_CRYPTO, "%s: the exporter is not trusted: %s", path,
			            hm_node_errmsg(node));
	}
	if (fgetc(r->f) != EOF)
		return fail(HM_ERR_CORRUPT, "%s: bytes after the end frame", path);
	return HM_OK;
}

/* Pass 1: every frame well formed (and opened), the end frame present, count, hash and, when
 * sealed, the exporter's chain and signature right. */
static hm_err verify(hm_node *node, const char *path, size_t *count)
{
	reader r;
	uint64_t n = 0;
	bool certs = false;
	hm_err err;

	if ((err = reader_open(node, &r, path)))
		goto out;
	while (1) {
		char type;
		size_t len, elen;
		const uint8_t *env;
		if ((err = read_frame(&r, &type, &len)))
			goto out;
		if (type == FRAME_CERTS && !certs) {
			certs = true; /* each verified to the root and honoured when imported */
			if ((err = certs_decode(r.buf, len, path)))
				goto out;
			continue;
		}
		if (type == FRAME_ENVELOPE && certs) {
			err = fail(HM_ERR_CORRUPT, "%s: a change set after the certificates", path);
			goto out;
		}
		if (type == FRAME_ENVELOPE) {
			if ((err = frame_envelope(&r, n, len, &env, &elen)))
				goto out;
			if (elen > HM_ENVELOPE_MAX) {
				err = fail(HM_ERR_TOO_BIG, "%s: an envelope above the cap", path);
				goto out;
			}
			n++;
			continue;
		}
		if (type != FRAME_END || len != (r.sealed ? SEALED_END_BYTES : PLAIN_END_BYTES)) {
			err = fail(HM_ERR_CORRUPT, "%s: unexpected frame at byte %llu", path,
			           (unsigned long long)r.off);
			goto out;
		}
		if ((err = end_frame_check(node, &r, n, path)))
			goto out;
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

static hm_err batch_flush(hm_node *node, batch *b, hm_bundle_stats *st, const char *path)
{
	hm_err err;

	if (!b->n)
		return HM_OK;
	for (size_t i = 0; i < b->n; i++)
		b->views[i].p = b->data + b->offs[i], b->views[i].n = b->lens[i];
	if ((err = hm_node_apply(node, b->views, b->n, &st->apply, NULL))) {
		if (st->changesets)
			return fail(err,
			            "%s; the first %zu change sets of %s were applied and kept "
			            "(importing it again skips them)",
			            hm_node_errmsg(node), st->changesets, path);
		return fail(err, "%s; nothing was imported", hm_node_errmsg(node));
	}
	st->changesets += b->n;
	b->n = 0, b->used = 0;
	return HM_OK;
}

static hm_err batch_add(batch *b, const uint8_t *env, size_t len)
{
	if (b->used + len > b->cap) {
		size_t cap =
		    b->used + len > HM_BUNDLE_BATCH_BYTES ? b->used + len : HM_BUNDLE_BATCH_BYTES;
		uint8_t *p = realloc(b->data, cap);
		if (!p)
			return fail(HM_ERR_NOMEM, "out of memory");
		b->data = p, b->cap = cap;
	}
	memcpy(b->data + b->used, env, len);
	b->offs[b->n] = b->used, b->lens[b->n] = len;
	b->used += len, b->n++;
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
	uint64_t index = 0;
	hm_node_info info;
	hm_err err;

	memset(st, 0, sizeof(*st));
	hm_node_ident(node, &info);
	if ((err = verify(node, path, &total)))
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
	if ((err = reader_open(node, &r, path)))
		goto out;
	while (1) {
		char type;
		size_t len, elen;
		const uint8_t *env;
		hm_changeset_view view;
		if ((err = read_frame(&r, &type, &len)))
			goto out;
		if (type == FRAME_END)
			break;
		if (type == FRAME_CERTS) {
			/* After every change set: their issuers' records are held by now. */
			if ((err = batch_flush(node, &b, st, path)))
				goto out;
			if ((err = hm_node_certs_learn(node, r.buf, len, &st->certs))) {
				err = fail(err, "%s: storing certificates: %s", path,
				           hm_node_errmsg(node));
				goto out;
			}
			continue;
		}
		if ((err = frame_envelope(&r, index++, len, &env, &elen)))
			goto out;
		/* Only what this node may hold, exactly as a sync session keeps: another
		 * village's records never land here, nor leave in this node's bundles. */
		if (hm_envelope_peek(env, elen, &view) == HM_OK &&
		    !hm_region_visible(info.region, view.region)) {
			st->out_of_scope++;
			st->bytes += len;
			continue;
		}
		if (b.n == HM_BUNDLE_BATCH_COUNT ||
		    (b.used && b.used + elen > HM_BUNDLE_BATCH_BYTES)) {
			if ((err = batch_flush(node, &b, st, path)))
				goto out;
			if (progress)
				progress(pctx, st->changesets + st->out_of_scope, total);
		}
		if ((err = batch_add(&b, env, elen)))
			goto out;
		st->bytes += len;
	}
	err = batch_flush(node, &b, st, path);
	if (!err && progress)
		progress(pctx, st->changesets + st->out_of_scope, total);
out:
	reader_close(&r);
	if (b.data)
		hm_wipe(b.data, b.cap);
	free(b.data), free(b.offs), free(b.lens), free(b.views);
	return err;
}
