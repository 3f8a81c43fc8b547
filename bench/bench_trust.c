/*
 * bench_trust.c - what trust mode costs: signing, encrypting, verifying and applying batched
 * change sets (issue #3), against the same workload on keyless nodes.
 *
 *   bench_trust [--quick] [--ops N] [--changesets N] [--reps N] [--mode both|trust|keyless]
 *               [--dir DIR]
 *
 * A county (the root of trust) and a village enrolled by it, both in trust mode, as `hamlet
 * init` and `hamlet enroll` make them. The village writes --changesets change sets of --ops
 * person records each (8 field operations per record); the county applies them in batches cut
 * as hm_bundle_import cuts them. The same workload runs on a keyless village and county. Each
 * repetition uses fresh nodes: a fresh village enrolled by the county, and a copy of the
 * county's store taken after enrollment. Timings are medians.
 *
 * The crypto primitives are also timed alone, on buffers of the size of this workload's
 * change-set bodies: the signature (BLAKE2b of header and body, then Ed25519), the body's
 * XChaCha20-Poly1305 seal and open, and the signature's verification.
 *
 * The goal (docs/performance.md): trust-mode apply throughput >= 0.8 x keyless apply throughput
 * for change sets of a few hundred operations. Every run checks counts and digests; the exit
 * status never depends on time.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "sync.h"

#include "bench_common.h"

#define COUNTY   "county1"
#define VILLAGE  "county1/township1/village1"
#define MAX_REPS 15

typedef struct keys {
	hm_identity ident;
	uint8_t storage_key[HM_STORAGE_KEY_BYTES];
} keys;

typedef struct run {
	double write_s, apply_s;
	uint64_t bytes; /* envelope bytes */
} run;

static const char *g_dir = "/tmp/hamlet-bench-trust";

static int die(const char *what, hm_err err, hm_node *n)
{
	fprintf(stderr, "bench_trust: %s: %s%s%s\n", what, hm_strerror(err), n ? ": " : "",
	        n ? hm_node_errmsg(n) : "");
	return 1;
}

/* Copy a closed node's store (data.mdb; LMDB makes a new lock file) into a new directory. */
static int store_copy(const char *from, const char *to)
{
	char src[4300], dst[4300], buf[1 << 16];
	int in = -1, out = -1, rc = 1;
	ssize_t got;

	remove_tree(to);
	if (mkdir(to, 0700) != 0)
		return 1;
	snprintf(src, sizeof(src), "%s/data.mdb", from);
	snprintf(dst, sizeof(dst), "%s/data.mdb", to);
	if ((in = open(src, O_RDONLY)) < 0 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		goto out;
	while ((got = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)got) != got)
			goto out;
	rc = got < 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static hm_err keys_init(keys *k)
{
	hm_random_bytes(k->storage_key, sizeof(k->storage_key));
	return hm_identity_init(&k->ident);
}

static hm_err node_make(const char *dir, hm_role role, const char *region, const keys *k,
                        hm_node **out)
{
	hm_node_opts o = {0};
	hm_err err;

	*out = NULL;
	if (k)
		o.identity = &k->ident, o.storage_key = k->storage_key;
	remove_tree(dir);
	if ((err = hm_node_create(dir, role, region, "bench", k ? &o : NULL, NULL)))
		return err;
	return hm_node_open(dir, k ? &o : NULL, out);
}

static hm_err node_reopen(const char *dir, const keys *k, hm_node **out)
{
	hm_node_opts o = {0};
	if (k)
		o.identity = &k->ident, o.storage_key = k->storage_key;
	return hm_node_open(dir, k ? &o : NULL, out);
}

/* A new village enrolled by the county (closed, in county_dir), as `hamlet enroll` does it. */
static hm_err village_enrolled(const char *county_dir, const keys *county, const char *dir,
                               keys *vk, hm_node **out)
{
	hm_node *c = NULL;
	uint8_t *req = NULL, *ans = NULL;
	size_t rlen, alen;
	hm_enroll_info info;
	hm_err err;

	if ((err = keys_init(vk)) || (err = node_make(dir, HM_ROLE_VILLAGE, VILLAGE, vk, out)) ||
	    (err = hm_enroll_request(*out, &req, &rlen)) ||
	    (err = node_reopen(county_dir, county, &c)) ||
	    (err = hm_enroll_sign(c, req, rlen, 365, false, &ans, &alen, &info)))
		goto out;
	err = hm_enroll_accept(*out, ans, alen, NULL, &info);
out:
	hm_node_close(c);
	free(req), free(ans);
	return err;
}

/* The workload: nops records per change set, each a durable commit. */
static hm_err write_all(hm_node *n, int ncs, int nops, uint64_t seed)
{
	uint64_t rng = seed, idrng = seed * 31 + 7;
	hm_err err;

	for (int c = 0; c < ncs; c++) {
		hm_write *w;
		if ((err = hm_write_begin(n, &w)))
			return err;
		for (int k = 0; k < nops; k++) {
			char id[32];
			uint64_t a = splitmix(&idrng);
			snprintf(id, sizeof(id), "%016" PRIx64 "%04x", a, (unsigned)(k & 0xffff));
			if ((err = write_person(w, id, &rng))) {
				hm_write_abort(w);
				return err;
			}
		}
		if ((err = hm_write_commit(w, NULL)))
			return err;
	}
	return HM_OK;
}

static hm_err apply_all(hm_node *n, const envs *e, hm_apply_stats *st)
{
	hm_bytes *views = malloc((e->n ? e->n : 1) * sizeof(*views));
	hm_err err = HM_OK;

	if (!views)
		return HM_ERR_NOMEM;
	for (size_t i = 0; i < e->n; i++)
		views[i].p = e->data + e->off[i], views[i].n = e->len[i];
	for (size_t i = 0; i < e->n && !err;) {
		size_t to = batch_end(e, i);
		err = hm_node_apply(n, views + i, to - i, st, NULL);
		i = to;
	}
	free(views);
	return err;
}

/* One repetition: write the workload on a fresh village, apply it on a fresh county.
 * trust: county_dir holds the enrolled county's store (closed). */
static int run_once(bool trust, const char *county_dir, const keys *county, int ncs, int nops,
                    int rep, run *out)
{
	char vdir[4096], cdir[4096];
	hm_node *v = NULL, *c = NULL;
	keys vk;
	envs e = {0};
	hm_apply_stats st = {0};
	hm_hash dv, dc;
	double t0;
	hm_err err;
	int rc = 1;

	snprintf(vdir, sizeof(vdir), "%s/village-%s", g_dir, trust ? "trust" : "plain");
	snprintf(cdir, sizeof(cdir), "%s/county-%s", g_dir, trust ? "trust" : "plain");
	if (trust)
		err = village_enrolled(county_dir, county, vdir, &vk, &v);
	else
		err = node_make(vdir, HM_ROLE_VILLAGE, VILLAGE, NULL, &v);
	if (err) {
		rc = die("making the village", err, v);
		goto out;
	}
	t0 = now_secs();
	if ((err = write_all(v, ncs, nops, 1000 + (uint64_t)rep))) {
		rc = die("writing", err, v);
		goto out;
	}
	out->write_s = now_secs() - t0;
	if ((err = hm_node_changesets(v, NULL, collect_one, &e)) ||
	    (err = hm_node_digest(v, NULL, &dv))) {
		rc = die("reading the village's change sets", err, v);
		goto out;
	}
	out->bytes = e.used;
	if (trust) {
		if (store_copy(county_dir, cdir) || (err = node_reopen(cdir, county, &c))) {
			rc = die("copying the county", err, c);
			goto out;
		}
	} else if ((err = node_make(cdir, HM_ROLE_COUNTY, COUNTY, NULL, &c))) {
		rc = die("making the county", err, c);
		goto out;
	}
	t0 = now_secs();
	if ((err = apply_all(c, &e, &st))) {
		rc = die("applying", err, c);
		goto out;
	}
	out->apply_s = now_secs() - t0;
	if (st.new_ != e.n || st.ops != (size_t)ncs * (size_t)nops) {
		fprintf(stderr, "bench_trust: applied %zu of %zu change sets (%zu refused)\n",
		        st.new_, e.n, st.refused);
		goto out;
	}
	if ((err = hm_node_digest(c, NULL, &dc))) {
		rc = die("digest", err, c);
		goto out;
	}
	if (!hm_hash_equal(&dv, &dc)) {
		fprintf(stderr, "bench_trust: the county's digest differs from the village's\n");
		goto out;
	}
	rc = 0;
out:
	if (trust)
		hm_identity_release(&vk.ident), hm_wipe(vk.storage_key, sizeof(vk.storage_key));
	hm_node_close(v);
	hm_node_close(c);
	envs_release(&e);
	return rc;
}

static hm_err sign_sealed(const keys *k, const uint8_t *hdr, size_t hn, const uint8_t *body,
                          size_t bn, hm_signature *sig)
{
	hm_hash_state hs;
	hm_hash h;

	hm_hash_init(&hs);
	hm_hash_update(&hs, hdr, hn);
	hm_hash_update(&hs, body, bn);
	hm_hash_final(&hs, &h);
	return hm_sign_hash(sig, &k->ident, &h);
}

/* The primitives alone, per change set of body_len bytes. */
static int bench_crypto(size_t body_len, int reps)
{
	enum { N = 200 };
	keys k;
	uint8_t key[HM_AEAD_KEY_BYTES], hdr[120];
	uint8_t *body = malloc(body_len), *sealed = malloc(body_len + HM_AEAD_OVERHEAD),
	        *plain = malloc(body_len + HM_AEAD_OVERHEAD);
	double t[4][MAX_REPS];
	hm_signature sig;
	size_t len = 0;
	int rc = 1;

	if (!body || !sealed || !plain || keys_init(&k))
		goto out;
	hm_random_bytes(body, body_len);
	hm_random_bytes(hdr, sizeof(hdr));
	hm_random_bytes(key, sizeof(key));
	for (int r = 0; r < reps; r++) {
		double t0 = now_secs();
		for (int i = 0; i < N; i++) {
			hm_hash_state hs;
			hm_hash h;
			hm_hash_init(&hs);
			hm_hash_update(&hs, hdr, sizeof(hdr));
			hm_hash_update(&hs, body, body_len);
			hm_hash_final(&hs, &h);
			if (hm_sign_hash(&sig, &k.ident, &h))
				goto out;
		}
		t[0][r] = now_secs() - t0, t0 = now_secs();
		for (int i = 0; i < N; i++)
			if (hm_aead_seal(sealed, body_len + HM_AEAD_OVERHEAD, &len, key, body,
			                 body_len, hdr, sizeof(hdr)))
				goto out;
		t[1][r] = now_secs() - t0;
		if (sign_sealed(&k, hdr, sizeof(hdr), sealed, len, &sig))
			goto out;
		t0 = now_secs();
		for (int i = 0; i < N; i++) {
			hm_hash_state hs;
			hm_hash h;
			hm_hash_init(&hs);
			hm_hash_update(&hs, hdr, sizeof(hdr));
			hm_hash_update(&hs, sealed, len);
			hm_hash_final(&hs, &h);
			if (hm_verify_hash(&sig, &k.ident.sign_pub, &h))
				goto out;
		}
		t[2][r] = now_secs() - t0, t0 = now_secs();
		for (int i = 0; i < N; i++) {
			size_t pl;
			if (hm_aead_open(plain, body_len + HM_AEAD_OVERHEAD, &pl, key, sealed, len,
			                 hdr, sizeof(hdr)))
				goto out;
		}
		t[3][r] = now_secs() - t0;
	}
	{
		static const char *const what[4] = {"sign (hash + Ed25519)",
		                                    "encrypt (XChaCha20-Poly1305)",
		                                    "verify (hash + Ed25519)", "decrypt"};
		printf("crypto per change set, body %zu bytes (median of %d x %d):\n", body_len,
		       reps, N);
		for (int i = 0; i < 4; i++) {
			double s = median(t[i], reps) / N;
			printf("  %-30s %8.1f us  %8.1f MB/s\n", what[i], s * 1e6,
			       (double)body_len / s / 1e6);
		}
	}
	rc = 0;
out:
	hm_identity_release(&k.ident);
	free(body), free(sealed), free(plain);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_trust [--quick] [--ops N] [--changesets N] [--reps N] "
	                "[--mode both|trust|keyless] [--dir DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int ops = 300, ncs = 100, reps = 5, mode_from = 0, mode_to = 1;
	char county_dir[4200];
	keys county;
	hm_node *c = NULL;
	run res[2][MAX_REPS];
	double w[2][MAX_REPS], a[2][MAX_REPS], med_w[2], med_a[2];
	hm_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			ops = 300, ncs = 10, reps = 1;
		else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
			ops = atoi(argv[++i]);
		else if (strcmp(argv[i], "--changesets") == 0 && i + 1 < argc)
			ncs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			i++;
			mode_from = strcmp(argv[i], "keyless") == 0 ? 0 : 1;
			mode_to = strcmp(argv[i], "trust") == 0 ? 1 : 0;
			if (strcmp(argv[i], "both") == 0)
				mode_from = 0, mode_to = 1;
			else if (strcmp(argv[i], "keyless") && strcmp(argv[i], "trust"))
				return usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			g_dir = argv[++i];
		else
			return usage();
	}
	if (ops < 1 || ops > (int)HM_OPS_MAX || ncs < 1 || reps < 1 || reps > MAX_REPS)
		return usage();
	/* As `hamlet` does: libsodium picks its fastest implementations for this CPU. */
	if (hm_crypto_init())
		return die("initialising libsodium", HM_ERR_CRYPTO, NULL);
	remove_tree(g_dir);
	if (mkdir(g_dir, 0700) != 0) {
		fprintf(stderr, "bench_trust: cannot create %s: %s\n", g_dir, strerror(errno));
		return 1;
	}
	/* The county, a root of trust, closed: each repetition enrolls a village with it and
	 * applies on a copy of its store. */
	snprintf(county_dir, sizeof(county_dir), "%s/county-root", g_dir);
	if ((err = keys_init(&county)) ||
	    (err = node_make(county_dir, HM_ROLE_COUNTY, COUNTY, &county, &c)))
		return die("making the county", err, c);
	hm_node_close(c);

	printf("bench_trust: %d change sets of %d records (%d field ops each), median of %d, "
	       "data in %s\n",
	       ncs, ops, ops * FIELDS_PER_RECORD, reps, g_dir);
	for (int r = 0; r < reps; r++)
		for (int t = mode_from; t <= mode_to; t++) {
			if (run_once(t == 1, county_dir, &county, ncs, ops, r, &res[t][r]))
				return 1;
			w[t][r] = res[t][r].write_s, a[t][r] = res[t][r].apply_s;
		}
	printf("\n%-8s %10s %12s %14s %12s %14s %10s\n", "mode", "env bytes", "write s",
	       "write fops/s", "apply s", "apply fops/s", "us/cs");
	for (int t = mode_from; t <= mode_to; t++) {
		double fops = (double)ncs * ops * FIELDS_PER_RECORD;
		med_w[t] = median(w[t], reps), med_a[t] = median(a[t], reps);
		printf("%-8s %10" PRIu64 " %12.3f %14.0f %12.3f %14.0f %10.1f\n",
		       t ? "trust" : "keyless", res[t][0].bytes, med_w[t], fops / med_w[t],
		       med_a[t], fops / med_a[t], med_a[t] / ncs * 1e6);
	}
	if (mode_from == 0 && mode_to == 1)
		printf("\ntrust / keyless throughput: apply %.2f (goal >= 0.80), write %.2f\n",
		       med_a[0] / med_a[1], med_w[0] / med_w[1]);
	putchar('\n');
	if (bench_crypto(res[mode_to][0].bytes / (size_t)ncs, reps > 3 ? reps : 3))
		return 1;
	hm_identity_release(&county.ident);
	hm_wipe(county.storage_key, sizeof(county.storage_key));
	remove_tree(g_dir);
	return 0;
}
