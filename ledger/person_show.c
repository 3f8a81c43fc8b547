/* person_show.c - a person's page, as `hamlet person show` and the web's person page show it:
 * the person, the records that name them (journeys, contacts both ways, episodes, follow-ups)
 * and the open questions about their identity, as JSON or as text. */
#include "ledger_int.h"

#include <string.h>

static const struct {
	const char *coll, *title;
} show_rel[] = {
    {"return", "journeys"},
    {"exposure", "contacts"},
    {"episode", "episodes"},
    {"followup", "follow-ups"},
};

typedef struct show_out {
	FILE *f;      /* text, or NULL */
	json_t *list; /* JSON, or NULL */
	bool mask;
} show_out;

static int show_related(void *arg, const hm_record *r)
{
	show_out *s = arg;
	if (s->list)
		return json_array_append_new(s->list, hm_json_record(r, s->mask)), 0;
	fputs("  ", s->f);
	hm_text_record(s->f, r, s->mask);
	return 0;
}

static void write_question(FILE *f, const hm_identity_question *q, const char *other,
                           const char *from_hex)
{
	fputs("  ", f);
	hm_text_cstr(f, q->field);
	fputs(": '", f);
	hm_text_cstr(f, other);
	fprintf(f,
	        "', written by node %s at the same time as the value shown, lost to it: decide "
	        "with `hamlet person edit ",
	        from_hex);
	hm_text_cstr(f, q->id);
	fprintf(f, " --%s ...`\n", !strcmp(q->field, "id_number") ? "id-number" : q->field);
}

static int show_question(void *arg, const hm_identity_question *q)
{
	show_out *s = arg;
	char buf[4 * HM_STR_MAX + 1], hex[2 * HM_NODE_ID_BYTES + 1];
	const hm_value *v = q->other;

	if (v->kind == HM_V_STR && s->mask)
		hm_ledger_mask(v->u.s.p, v->u.s.n, buf, sizeof(buf));
	else if (v->kind == HM_V_STR)
		snprintf(buf, sizeof(buf), "%.*s", (int)v->u.s.n, v->u.s.p);
	else
		snprintf(buf, sizeof(buf), "?");
	hm_node_id_hex(&q->from, hex);
	if (s->list)
		return json_array_append_new(
		           s->list, json_pack("{s:o, s:o, s:s}", "field", hm_json_cstr(q->field),
		                              "other_value", hm_json_cstr(buf), "from", hex)),
		       0;
	write_question(s->f, q, buf, hex);
	return 0;
}

/* The records that name the person, then the open identity questions: into doc (JSON) or to f
 * (text). */
static hm_err show_parts(hm_ledger *l, const char *id, json_t *doc, FILE *f, bool mask)
{
	show_out s = {f, NULL, mask};
	size_t count;
	hm_err err;

	for (size_t i = 0; i < sizeof(show_rel) / sizeof(show_rel[0]); i++) {
		if (doc)
			json_object_set_new(doc, show_rel[i].coll, s.list = json_array());
		else if (f)
			fprintf(f, "%s:\n", show_rel[i].title);
		if ((err = hm_person_related(l, id, show_rel[i].coll, show_related, &s, &count)))
			return err;
		if (!doc && f && !count)
			fprintf(f, "  (none)\n");
	}
	if (doc)
		json_object_set_new(doc, "open_identity_questions", s.list = json_array());
	else if (f)
		fprintf(f, "open identity questions:\n");
	if ((err = hm_person_questions(l, id, show_question, &s, &count)))
		return err;
	if (!doc && f && !count)
		fprintf(f, "  (none)\n");
	return HM_OK;
}

hm_err hm_person_show_json(hm_ledger *l, const hm_record *p, bool mask, json_t **out)
{
	json_t *doc = json_pack("{s:o}", "person", hm_json_record(p, mask));
	hm_err err;

	*out = NULL;
	if (!doc)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	if ((err = show_parts(l, p->id, doc, NULL, mask))) {
		json_decref(doc);
		return err;
	}
	*out = doc; /* the caller's */
	return HM_OK;
}

hm_err hm_person_show_write(hm_ledger *l, const hm_record *p, bool mask, FILE *f)
{
	hm_text_record(f, p, mask);
	return show_parts(l, p->id, NULL, f, mask);
}

/* ---- a search's rows (person find) ---- */

static const char *const find_cols[] = {"name", "category", "status", "village", "compound"};
#define NCOLS (sizeof(find_cols) / sizeof(find_cols[0]))

typedef struct find_out {
	FILE *f;      /* text, or NULL */
	json_t *list; /* JSON, or NULL */
	bool mask, nomem;
} find_out;

/* A text field of r, masked when personal and mask is set; "-" when it has none. */
static void put_text(FILE *f, const hm_record *r, const char *field, bool mask)
{
	const hm_field *fd = hm_record_field(r, field);

	if (fd && fd->value.kind == HM_V_STR)
		hm_text_value_of(f, r->collection, field, &fd->value, mask);
	else
		fputs("-", f);
}

static int find_one(void *arg, const hm_record *r)
{
	find_out *o = arg;

	if (o->list) {
		json_t *row = json_pack("{s:o}", "id", hm_json_cstr(r->id));
		for (size_t i = 0; row && i < NCOLS; i++) {
			const hm_field *fd = hm_record_field(r, find_cols[i]);
			json_object_set_new(
			    row, find_cols[i],
			    fd ? hm_json_value_of(r->collection, find_cols[i], &fd->value, o->mask)
			       : json_null());
		}
		if (json_array_append_new(o->list, row))
			o->nomem = true;
		return o->nomem ? -1 : 0;
	}
	hm_text_pad(o->f, r->id, 22);
	fputc(' ', o->f);
	for (size_t i = 0; i < NCOLS; i++) {
		put_text(o->f, r, find_cols[i], o->mask);
		fputs(i + 1 < NCOLS ? "  " : "\n", o->f);
	}
	return 0;
}

hm_err hm_person_find_json(hm_ledger *l, const hm_person_query *q, bool mask, json_t **out,
                           size_t *count)
{
	find_out o = {NULL, json_array(), mask, false};
	hm_err err = o.list ? hm_person_find(l, q, find_one, &o, count) : HM_OK;

	return lj_give(l->node, err, o.nomem, o.list, out);
}

hm_err hm_person_find_write(hm_ledger *l, const hm_person_query *q, bool mask, FILE *f,
                            size_t *count)
{
	find_out o = {f, NULL, mask, false};
	return hm_person_find(l, q, find_one, &o, count);
}

/* ---- persons registered twice (person dups) ---- */

typedef struct dups_out {
	FILE *f;      /* text, or NULL */
	json_t *list; /* JSON, or NULL */
	bool nomem;
} dups_out;

static void write_group(FILE *f, const hm_person_key *m, size_t n)
{
	fputs(_("same ID number:"), f);
	for (size_t k = 0; k < n; k++) {
		fputc(' ', f);
		hm_text_cstr(f, m[k].id);
		fputs(" (", f);
		hm_text_cstr(f, m[k].village);
		fputc(')', f);
	}
	fputc('\n', f);
	for (size_t k = 1; k < n; k++) {
		fprintf(f, "  %s hamlet person merge ", _("proposal:"));
		hm_text_cstr(f, m[0].id);
		fputc(' ', f);
		hm_text_cstr(f, m[k].id);
		fputc('\n', f);
	}
}

static int dups_one(void *arg, const hm_person_key *m, size_t n)
{
	dups_out *d = arg;
	json_t *g;

	if (!d->list) {
		write_group(d->f, m, n);
		return 0;
	}
	g = json_array();
	for (size_t k = 0; g && k < n; k++)
		if (json_array_append_new(g, json_pack("{s:o, s:o}", "id", hm_json_cstr(m[k].id),
		                                       "village", hm_json_cstr(m[k].village))))
			d->nomem = true;
	if (json_array_append_new(d->list, g))
		d->nomem = true;
	return d->nomem ? -1 : 0;
}

hm_err hm_person_dups_json(hm_ledger *l, json_t **out, size_t *groups)
{
	dups_out d = {NULL, json_array(), false};
	hm_err err = d.list ? hm_person_dups(l, dups_one, &d, groups) : HM_OK;

	return lj_give(l->node, err, d.nomem, d.list, out);
}

hm_err hm_person_dups_write(hm_ledger *l, FILE *f, size_t *groups)
{
	dups_out d = {f, NULL, false};
	hm_err err = hm_person_dups(l, dups_one, &d, groups);

	if (!err && !*groups)
		fputs(_("no person is registered twice\n"), f);
	return err;
}
