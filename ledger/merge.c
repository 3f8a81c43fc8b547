/*
 * merge.c - one person registered twice: finding them (the same keyed ID hash, not merged yet)
 * and recording that two registrations are one person, or undoing it. Nothing is deleted.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dup_ctx {
	hm_person_key *v;
	size_t n, cap;
	char (*merged)[HM_ID_MAX + 1]; /* persons dropped by a merge in force */
	size_t nmerged, mcap;
	bool nomem;
} dup_ctx;

static int dup_person(void *arg, const hm_record *r)
{
	dup_ctx *d = arg;
	hm_person_key k = {0};

	if (!hm_rec_text(r, "id_hash", k.hash, sizeof(k.hash)))
		return 0;
	snprintf(k.id, sizeof(k.id), "%s", r->id);
	hm_rec_text(r, "village", k.village, sizeof(k.village));
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		hm_person_key *p = realloc(d->v, cap * sizeof(*p));
		if (!p) {
			d->nomem = true;
			return 1;
		}
		d->v = p, d->cap = cap;
	}
	d->v[d->n++] = k;
	return 0;
}

bool hm_merge_holds(const char *state)
{
	return !state || !*state || !strcmp(state, "merged");
}

static int dup_merge(void *arg, const hm_record *r)
{
	dup_ctx *d = arg;
	char state[16];

	if (!hm_merge_holds(hm_rec_text(r, "state", state, sizeof(state))))
		return 0;
	if (d->nmerged == d->mcap) {
		size_t cap = d->mcap ? 2 * d->mcap : 16;
		char(*p)[HM_ID_MAX + 1] = realloc(d->merged, cap * sizeof(*p));
		if (!p) {
			d->nomem = true;
			return 1;
		}
		d->merged = p, d->mcap = cap;
	}
	hm_rec_id(r, "drop", d->merged[d->nmerged++]);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const hm_person_key *x = a, *y = b;
	int c = strcmp(x->hash, y->hash);
	return c ? c : strcmp(x->id, y->id);
}

static bool is_merged(const dup_ctx *d, const char *id)
{
	for (size_t i = 0; i < d->nmerged; i++)
		if (!strcmp(d->merged[i], id))
			return true;
	return false;
}

/* Each group of one hash with two or more live members, members compacted in place. */
static size_t dup_groups(dup_ctx *d, hm_dups_cb cb, void *arg)
{
	size_t groups = 0;

	for (size_t i = 0; i < d->n;) {
		size_t j = i, live = 0;
		while (j < d->n && !strcmp(d->v[j].hash, d->v[i].hash)) {
			if (!is_merged(d, d->v[j].id))
				d->v[i + live++] = d->v[j];
			j++;
		}
		if (live >= 2) {
			groups++;
			if (cb(arg, &d->v[i], live))
				break;
		}
		i = j;
	}
	return groups;
}

hm_err hm_person_dups(hm_ledger *l, hm_dups_cb cb, void *arg, size_t *groups)
{
	dup_ctx d = {0};
	hm_err err;

	if (!(err = hm_node_list(l->node, "person", dup_person, &d)) &&
	    !(err = hm_node_list(l->node, "merge", dup_merge, &d)) && d.nomem)
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	if (!err) {
		if (d.n) /* no person: d.v is NULL, which qsort must not be given */
			qsort(d.v, d.n, sizeof(*d.v), key_cmp);
		size_t g = dup_groups(&d, cb, arg);
		if (groups)
			*groups = g;
	}
	free(d.v);
	free(d.merged);
	return err;
}

/* ---- merge and unmerge ---- */

/* The smallest region holding both a and b (their common leading path segments). */
static void common_region(const char *a, const char *b, char out[HM_REGION_MAX + 1])
{
	size_t i = 0, cut = 0;

	while (a[i] && a[i] == b[i]) {
		i++;
		if (a[i] == '/' || (!a[i] && !b[i]) || (!a[i] && b[i] == '/') ||
		    (a[i] == '/' && !b[i]))
			cut = i;
	}
	if (!a[i] && !b[i])
		cut = i;
	snprintf(out, HM_REGION_MAX + 1, "%.*s", (int)cut, a);
}

typedef struct merged_ctx {
	const char *keep, *drop;
	char drop_into[HM_ID_MAX + 1]; /* the person drop is merged into already, if any */
	char keep_into[HM_ID_MAX + 1]; /* the person keep is merged into, if any */
} merged_ctx;

static int merged_one(void *arg, const hm_record *r)
{
	merged_ctx *m = arg;
	char state[16], k[HM_ID_MAX + 1], d[HM_ID_MAX + 1];

	if (!hm_merge_holds(hm_rec_text(r, "state", state, sizeof(state))))
		return 0;
	if (!hm_rec_id(r, "keep", k) || !hm_rec_id(r, "drop", d))
		return 0;
	if (!strcmp(d, m->drop))
		snprintf(m->drop_into, sizeof(m->drop_into), "%s", k);
	if (!strcmp(d, m->keep))
		snprintf(m->keep_into, sizeof(m->keep_into), "%s", k);
	return 0;
}

/* A person is merged into one other at most, and never into someone merged away: that keeps
 * every chain of merges short and free of loops. */
static hm_err merge_allowed(hm_ledger *l, const char *keep, const char *drop)
{
	merged_ctx m = {keep, drop, "", ""};
	hm_err err = hm_node_list(l->node, "merge", merged_one, &m);

	if (err)
		return err;
	if (m.drop_into[0] && strcmp(m.drop_into, keep))
		return hm_node_fail(l->node, HM_ERR_INVALID,
		                    "%s is already merged into %s: unmerge that first, or merge %s "
		                    "and %s",
		                    drop, m.drop_into, keep, m.drop_into);
	if (m.keep_into[0])
		return hm_node_fail(l->node, HM_ERR_INVALID,
		                    "%s is itself merged into %s: merge into %s", keep, m.keep_into,
		                    m.keep_into);
	return HM_OK;
}

static hm_err set_str(hm_write *w, const char *id, const char *field, const char *s)
{
	hm_value v = {HM_V_STR, {.s = {s, (uint32_t)strlen(s)}}};
	return hm_write_set(w, "merge", id, field, &v);
}

static hm_err write_merge(hm_ledger *l, const char *id, const char *keep, const char *drop,
                          const char *region, const char *reason, bool undo,
                          hm_changeset_info *info)
{
	hm_write *w;
	hm_err err;

	if ((err = hm_write_begin(l->node, &w)))
		return err;
	if ((err = set_str(w, id, "keep", keep)) || (err = set_str(w, id, "drop", drop)) ||
	    (err = set_str(w, id, "state", undo ? "undone" : "merged")) ||
	    (region[0] && (err = set_str(w, id, "region", region))) ||
	    (reason && (err = set_str(w, id, "reason", reason)))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

static hm_err merge_villages(hm_ledger *l, const char *keep, const char *drop,
                             char region[HM_REGION_MAX + 1])
{
	hm_record *a = NULL, *b = NULL;
	char va[HM_REGION_MAX + 1], vb[HM_REGION_MAX + 1];
	hm_err err;

	if ((err = hm_node_get(l->node, "person", keep, &a)) ||
	    (err = hm_node_get(l->node, "person", drop, &b))) {
		if (err == HM_ERR_NOT_FOUND)
			hm_node_fail(l->node, err, "unknown person '%s'", a ? drop : keep);
		goto out;
	}
	hm_rec_text(a, "village", va, sizeof(va));
	hm_rec_text(b, "village", vb, sizeof(vb));
	common_region(va, vb, region);
out:
	hm_record_free(a);
	hm_record_free(b);
	return err;
}

hm_err hm_person_merge(hm_ledger *l, const char *keep, const char *drop, const char *reason,
                       bool undo, hm_merge_result *out)
{
	char region[HM_REGION_MAX + 1];
	hm_record *m;
	hm_err err;

	memset(out, 0, sizeof(*out));
	if (!strcmp(keep, drop))
		return hm_node_fail(l->node, HM_ERR_INVALID, "KEEP and DROP are the same person");
	if (strlen(keep) + strlen(drop) + 4 > HM_ID_MAX ||
	    snprintf(out->id, sizeof(out->id), "m-%s-%s", keep, drop) >= (int)sizeof(out->id))
		return hm_node_fail(l->node, HM_ERR_INVALID, "person ids too long to merge");
	if ((err = merge_villages(l, keep, drop, region)))
		return err;
	if (!undo && (err = merge_allowed(l, keep, drop)))
		return err;
	if (undo) {
		if ((err = hm_node_get(l->node, "merge", out->id, &m)))
			return err == HM_ERR_NOT_FOUND
			           ? hm_node_fail(l->node, err, "%s and %s were never merged", keep,
			                          drop)
			           : err;
		hm_record_free(m);
	}
	return write_merge(l, out->id, keep, drop, region, reason, undo, &out->info);
}
