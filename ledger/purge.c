/*
 * purge.c - clearing the personal data of persons whose monitoring ended: which fields are
 * personal is the schema's word (HM_F_PII in node/schema.c), never a second list here.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ended {
	hm_purge_person p;
	bool open; /* an episode without an end, or ending on or after the date */
} ended;

typedef struct ended_ctx {
	const char *before;
	ended *v; /* one entry an episode while listing; one a person after ended_fold */
	size_t n, cap;
	bool nomem;
} ended_ctx;

static int ended_one(void *arg, const hm_record *r)
{
	ended_ctx *e = arg;
	char person[HM_ID_MAX + 1], end[16];
	ended *p;

	if (!hm_rec_id(r, "person", person))
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		if (!(p = realloc(e->v, cap * sizeof(*p)))) {
			e->nomem = true;
			return 1; /* stops the listing */
		}
		e->v = p, e->cap = cap;
	}
	p = memset(&e->v[e->n++], 0, sizeof(e->v[0]));
	snprintf(p->p.id, sizeof(p->p.id), "%s", person);
	p->open = !hm_rec_text(r, "end", end, sizeof(end)) || strcmp(end, e->before) >= 0;
	return 0;
}

static int ended_cmp(const void *a, const void *b)
{
	return strcmp(((const ended *)a)->p.id, ((const ended *)b)->p.id);
}

/* One entry a person, open when any of its episodes is: sorted, then folded (n log n, not a
 * search of every person for every episode). */
static void ended_fold(ended_ctx *e)
{
	size_t o = 0;

	if (!e->n)
		return;
	qsort(e->v, e->n, sizeof(e->v[0]), ended_cmp);
	for (size_t i = 1; i < e->n; i++) {
		if (!strcmp(e->v[i].p.id, e->v[o].p.id))
			e->v[o].open |= e->v[i].open;
		else
			e->v[++o] = e->v[i];
	}
	e->n = o + 1;
}

/* Whether r holds a personal value (one written after a purge, by a node that had not heard of
 * it yet, counts too). */
static bool holds_personal(const hm_record *r)
{
	const hm_collection_def *cd = hm_schema_collection(r->collection);
	for (size_t i = 0; i < r->nfields; i++) {
		const hm_field_def *d = hm_schema_field(cd, r->fields[i].name);
		if (d && (d->flags & HM_F_PII) && r->fields[i].value.kind != HM_V_NIL)
			return true;
	}
	return false;
}

static int purge_cmp(const void *a, const void *b)
{
	const hm_purge_person *x = a, *y = b;
	int c = strcmp(x->village, y->village);
	return c ? c : strcmp(x->id, y->id);
}

/* Keep those whose episodes all ended and who still hold personal data. A person not held
 * here (the dropped side of a merge, another station's) is skipped; a read that fails is not. */
static hm_err plan_keep(hm_ledger *l, ended_ctx *e, hm_purge_plan *out)
{
	for (size_t i = 0; i < e->n; i++) {
		hm_record *p;
		char purged[16];
		bool keep;
		hm_err err;
		if (e->v[i].open)
			continue;
		if ((err = hm_node_get(l->node, "person", e->v[i].p.id, &p)) == HM_ERR_NOT_FOUND)
			continue;
		if (err)
			return err;
		hm_rec_text(p, "purged", purged, sizeof(purged));
		hm_rec_text(p, "village", e->v[i].p.village, sizeof(e->v[i].p.village));
		keep = !purged[0] || holds_personal(p);
		hm_record_free(p);
		if (keep)
			out->v[out->n++] = e->v[i].p;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(out->v[0]), purge_cmp);
	return HM_OK;
}

hm_err hm_purge_plan_make(hm_ledger *l, const char *before, hm_purge_plan *out)
{
	ended_ctx e = {before, NULL, 0, 0, false};
	char today[11];
	hm_err err;

	memset(out, 0, sizeof(*out));
	if (!hm_date_valid(before))
		return hm_node_fail(l->node, HM_ERR_INVALID, "'%s' is not a date YYYY-MM-DD",
		                    before);
	hm_ledger_today(l, today);
	if (strcmp(before, today) > 0)
		return hm_node_fail(l->node, HM_ERR_INVALID, "%s is in the future", before);
	snprintf(out->before, sizeof(out->before), "%s", before);
	if ((err = hm_node_list(l->node, "episode", ended_one, &e)))
		goto out;
	if (e.nomem) {
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	ended_fold(&e);
	if (e.n && !(out->v = calloc(e.n, sizeof(*out->v)))) {
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	err = plan_keep(l, &e, out);
out:
	free(e.v);
	return err;
}

void hm_purge_plan_release(hm_purge_plan *plan)
{
	free(plan->v);
	plan->v = NULL;
	plan->n = 0;
}

/* Clear person id: its purged date, and nil for every field the schema marks personal. */
static hm_err purge_one(hm_write *w, const char *id, const char *today)
{
	const hm_collection_def *cd = hm_schema_collection("person");
	hm_value nil = {HM_V_NIL}, when = {HM_V_STR, {.s = {today, 10}}};
	hm_err err;

	if ((err = hm_write_set(w, "person", id, "purged", &when)))
		return err;
	for (size_t f = 0; f < cd->nfields; f++)
		if ((cd->fields[f].flags & HM_F_PII) &&
		    (err = hm_write_set(w, "person", id, cd->fields[f].name, &nil)))
			return err;
	return HM_OK;
}

/* One write of the persons plan->v[*next..] within HM_PURGE_REGIONS villages. */
static hm_err purge_batch(hm_ledger *l, const hm_purge_plan *plan, size_t *next, const char *today)
{
	char last[HM_REGION_MAX + 1] = "";
	size_t nvillages = 0, i = *next;
	hm_write *w;
	hm_err err;

	if ((err = hm_write_begin(l->node, &w)))
		return err;
	for (; i < plan->n; i++) {
		if (strcmp(plan->v[i].village, last) != 0) {
			if (nvillages == HM_PURGE_REGIONS)
				break;
			nvillages++;
			snprintf(last, sizeof(last), "%s", plan->v[i].village);
		}
		if ((err = purge_one(w, plan->v[i].id, today))) {
			hm_write_abort(w);
			return err;
		}
	}
	if ((err = hm_write_commit(w, NULL)))
		return err;
	*next = i;
	return HM_OK;
}

hm_err hm_purge_apply(hm_ledger *l, const hm_purge_plan *plan, size_t *writes)
{
	char today[11];
	size_t next = 0;
	hm_err err = HM_OK;

	*writes = 0;
	hm_ledger_today(l, today);
	while (next < plan->n && !(err = purge_batch(l, plan, &next, today)))
		(*writes)++;
	return err;
}

/* ---- what a purge did, or would do ---- */

json_t *hm_purge_json(const hm_purge_plan *p, bool dry, size_t writes)
{
	json_t *ids = json_array();

	for (size_t i = 0; ids && i < p->n; i++)
		if (json_array_append_new(ids, hm_json_cstr(p->v[i].id))) {
			json_decref(ids);
			return NULL;
		}
	return json_pack("{s:o, s:I, s:b, s:I}", "persons", ids, "purged",
	                 (json_int_t)(dry ? 0 : p->n), "dry_run", dry, "writes",
	                 (json_int_t)writes);
}

void hm_purge_write(const hm_purge_plan *p, bool dry, size_t writes, FILE *f)
{
	if (dry) {
		for (size_t i = 0; i < p->n; i++) {
			fputs("would purge ", f);
			hm_text_cstr(f, p->v[i].id);
			fputc('\n', f);
		}
		fprintf(f, _("%zu person%s would be purged\n"), p->n, p->n == 1 ? "" : "s");
	} else if (!p->n) {
		fprintf(f, _("nobody to purge: no monitoring ended before %s left personal data\n"),
		        p->before);
	} else {
		fprintf(f, _("purged the personal fields of %zu person%s (%zu write%s)\n"), p->n,
		        p->n == 1 ? "" : "s", writes, writes == 1 ? "" : "s");
	}
}
