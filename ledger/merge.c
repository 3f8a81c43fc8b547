/*
 * merge.c - one person registered twice: finding them (the same keyed ID hash, not merged yet
 * nor kept apart) and recording that two registrations are one person, or undoing it, or that
 * they are two persons (kept apart). Nothing is deleted. A pair's one record (m-KEEP-DROP)
 * holds its latest answer: merged, undone or apart.
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
	char (*apart)[2][HM_ID_MAX + 1]; /* pairs kept apart */
	size_t napart, acap;
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

/* A pair kept apart: (keep, drop) as written. */
static int dup_apart(dup_ctx *d, const hm_record *r)
{
	if (d->napart == d->acap) {
		size_t cap = d->acap ? 2 * d->acap : 16;
		char(*p)[2][HM_ID_MAX + 1] = realloc(d->apart, cap * sizeof(*p));
		if (!p) {
			d->nomem = true;
			return 1;
		}
		d->apart = p, d->acap = cap;
	}
	if (hm_rec_id(r, "keep", d->apart[d->napart][0]) &&
	    hm_rec_id(r, "drop", d->apart[d->napart][1]))
		d->napart++;
	return 0;
}

static int dup_merge(void *arg, const hm_record *r)
{
	dup_ctx *d = arg;
	char state[16];
	const char *s = hm_rec_text(r, "state", state, sizeof(state));

	if (s && !strcmp(s, "apart"))
		return dup_apart(d, r);
	if (!hm_merge_holds(s))
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

/* Whether a and b were kept apart (in either order). */
static bool is_apart(const dup_ctx *d, const char *a, const char *b)
{
	for (size_t i = 0; i < d->napart; i++)
		if ((!strcmp(d->apart[i][0], a) && !strcmp(d->apart[i][1], b)) ||
		    (!strcmp(d->apart[i][0], b) && !strcmp(d->apart[i][1], a)))
			return true;
	return false;
}

/* The persons of one hash, v[h .. end), none merged away, as groups: the first with every
 * other not kept apart from it, then (in place, each part in id order) the same again of those
 * kept apart from it. Each of two or more to cb; false when cb said stop. */
static bool apart_groups(dup_ctx *d, size_t h, size_t end, hm_dups_cb cb, void *arg, size_t *groups)
{
	while (h < end) {
		size_t g = h + 1; /* the group is v[h .. g) */
		for (size_t k = h + 1; k < end; k++) {
			hm_person_key m;
			if (is_apart(d, d->v[h].id, d->v[k].id))
				continue;
			m = d->v[k];
			memmove(&d->v[g + 1], &d->v[g], (k - g) * sizeof(m));
			d->v[g++] = m;
		}
		if (g - h >= 2) {
			++*groups;
			if (cb(arg, &d->v[h], g - h))
				return false;
		}
		h = g;
	}
	return true;
}

/* Each group of one hash with two or more live members (merged away: not live), split where
 * two were kept apart; members compacted in place. */
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
		if (!apart_groups(d, i, i + live, cb, arg, &groups))
			break;
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
	free(d.apart);
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

/* Write the pair's answer: record id (keep, drop, state, region, reason); and, when the pair
 * also has a record named the other way round (other, else ""), its state other_state in the
 * same change set, so that the pair's two records never say two things. */
static hm_err write_merge(hm_ledger *l, const char *id, const char *keep, const char *drop,
                          const char *region, const char *reason, const char *state,
                          const char *other, const char *other_state, hm_changeset_info *info)
{
	hm_write *w;
	hm_err err;

	if ((err = hm_write_begin(l->node, &w)))
		return err;
	if ((err = set_str(w, id, "keep", keep)) || (err = set_str(w, id, "drop", drop)) ||
	    (err = set_str(w, id, "state", state)) ||
	    (region[0] && (err = set_str(w, id, "region", region))) ||
	    (reason && (err = set_str(w, id, "reason", reason))) ||
	    (other[0] && (err = set_str(w, other, "state", other_state)))) {
		hm_write_abort(w);
		return err;
	}
	return hm_write_commit(w, info);
}

/* Whether merge record id exists. */
static hm_err merge_exists(hm_ledger *l, const char *id, bool *exists)
{
	hm_record *m = NULL;
	hm_err err = hm_node_get(l->node, "merge", id, &m);

	hm_record_free(m);
	*exists = err == HM_OK;
	return err == HM_ERR_NOT_FOUND ? HM_OK : err;
}

/* The pair's record named the other way round (m-DROP-KEEP) into other when it exists, else
 * "". */
static hm_err reverse_of(hm_ledger *l, const char *keep, const char *drop,
                         char other[HM_ID_MAX + 1])
{
	bool exists;
	hm_err err;

	snprintf(other, HM_ID_MAX + 1, "m-%s-%s", drop, keep);
	if ((err = merge_exists(l, other, &exists)))
		return err;
	if (!exists)
		other[0] = '\0';
	return HM_OK;
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

/* The pair's merge record id, and the region holding both persons' villages. */
static hm_err pair_of(hm_ledger *l, const char *keep, const char *drop, hm_merge_result *out,
                      char region[HM_REGION_MAX + 1])
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(keep, drop))
		return hm_node_fail(l->node, HM_ERR_INVALID, "KEEP and DROP are the same person");
	if (strlen(keep) + strlen(drop) + 4 > HM_ID_MAX ||
	    snprintf(out->id, sizeof(out->id), "m-%s-%s", keep, drop) >= (int)sizeof(out->id))
		return hm_node_fail(l->node, HM_ERR_INVALID, "person ids too long to merge");
	return merge_villages(l, keep, drop, region);
}

hm_err hm_person_apart(hm_ledger *l, const char *keep, const char *drop, const char *reason,
                       hm_merge_result *out)
{
	char region[HM_REGION_MAX + 1], other[HM_ID_MAX + 1];
	bool exists;
	hm_err err;

	if ((err = pair_of(l, keep, drop, out, region)) ||
	    (err = reverse_of(l, keep, drop, other)) || (err = merge_exists(l, out->id, &exists)))
		return err;
	if (!exists && other[0]) { /* only the other way round: that one */
		const char *was_keep = keep;
		memcpy(out->id, other, sizeof(other));
		keep = drop, drop = was_keep;
		other[0] = '\0';
	}
	return write_merge(l, out->id, keep, drop, region, reason, "apart", other, "apart",
	                   &out->info);
}

hm_err hm_person_merge(hm_ledger *l, const char *keep, const char *drop, const char *reason,
                       bool undo, hm_merge_result *out)
{
	char region[HM_REGION_MAX + 1], other[HM_ID_MAX + 1];
	bool exists;
	hm_err err;

	if ((err = pair_of(l, keep, drop, out, region)))
		return err;
	if (!undo && (err = merge_allowed(l, keep, drop)))
		return err;
	if (undo && (err = merge_exists(l, out->id, &exists)))
		return err;
	if (undo && !exists)
		return hm_node_fail(l->node, HM_ERR_NOT_FOUND, "%s and %s were never merged", keep,
		                    drop);
	/* the pair named the other way round (kept apart, or merged the other way): undone */
	if ((err = reverse_of(l, keep, drop, other)))
		return err;
	return write_merge(l, out->id, keep, drop, region, reason, undo ? "undone" : "merged",
	                   other, "undone", &out->info);
}
