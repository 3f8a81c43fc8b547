/* schema_list.c - the collections and fields a node knows (the built-in schema and the fields
 * the county added), as `hamlet schema list` and the web's import page show them. */
#include "ledger_int.h"

#include <string.h>

static const char *merge_word(const hm_field_def *f)
{
	return f->merge == HM_MERGE_COUNTER ? "counter" : f->merge == HM_MERGE_MAX ? "max" : "lww";
}

typedef struct fields_out {
	const char *coll; /* only this collection, or all */
	FILE *f;          /* text, or NULL */
	json_t *arr;      /* JSON, or NULL */
	size_t count;
	bool nomem;
} fields_out;

typedef struct field_row {
	const char *coll, *name, *type, *merge;
	bool required;
	unsigned flags;
	const char *help; /* may be NULL */
	bool added;
} field_row;

static void field_line(fields_out *a, const field_row *r)
{
	a->count++;
	if (a->arr) {
		if (json_array_append_new(
		        a->arr,
		        json_pack("{s:o, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:o}", "collection",
		                  hm_json_cstr(r->coll), "field", hm_json_cstr(r->name), "type",
		                  r->type, "merge", r->merge, "required", r->required, "personal",
		                  !!(r->flags & HM_F_PII), "identity", !!(r->flags & HM_F_IDENTITY),
		                  "added_by_county", r->added, "words", hm_json_cstr(r->help))))
			a->nomem = true;
		return;
	}
	fprintf(a->f, "  %-16s %-6s %-7s%s%s%s%s", r->name, r->type, r->merge,
	        r->required ? " required" : "", r->flags & HM_F_PII ? " personal" : "",
	        r->flags & HM_F_IDENTITY ? " identity" : "",
	        r->added ? " (added by the county)" : "");
	if (r->help) {
		fputs("  ", a->f);
		hm_text_cstr(a->f, r->help);
	}
	fputc('\n', a->f);
}

static int added_one(void *arg, const hm_record *r)
{
	fields_out *a = arg;
	char coll[HM_NAME_MAX + 1], name[HM_NAME_MAX + 1], type[16], help[HM_STR_MAX + 1];

	hm_rec_text(r, "collection", coll, sizeof(coll));
	hm_rec_text(r, "name", name, sizeof(name));
	hm_rec_text(r, "type", type, sizeof(type));
	hm_rec_text(r, "help", help, sizeof(help));
	if (!a->coll || !strcmp(a->coll, coll))
		field_line(a, &(field_row){coll, name, type, "lww", false, 0, help[0] ? help : NULL,
		                           true});
	return a->nomem ? -1 : 0;
}

static void builtin_fields(fields_out *a)
{
	size_t ncoll;
	const hm_collection_def *cs = hm_schema_collections(&ncoll);

	for (size_t i = 0; i < ncoll; i++) {
		if (a->coll ? strcmp(a->coll, cs[i].name) != 0 : cs[i].name[0] == '_')
			continue;
		if (a->f)
			fprintf(a->f, "%s: %s\n", cs[i].name, cs[i].help);
		for (size_t k = 0; k < cs[i].nfields; k++) {
			const hm_field_def *d = &cs[i].fields[k];
			if (strstr(d->name, "_seen") || !strcmp(d->name, "id_hash"))
				continue; /* written by hamlet itself */
			field_line(a, &(field_row){
			                  cs[i].name, d->name,
			                  d->type == HM_T_REGION ? "region" : hm_type_word(d->type),
			                  merge_word(d), d->required, d->flags, d->help, false});
		}
	}
}

/* Both lists: the built-in fields, then those the county added. */
static hm_err list_fields(hm_ledger *l, fields_out *a)
{
	size_t builtin;
	hm_err err;

	if (a->coll && !hm_schema_collection(a->coll))
		return hm_node_fail(l->node, HM_ERR_SCHEMA,
		                    "no collection '%s' (`hamlet schema list` names them)",
		                    a->coll);
	builtin_fields(a);
	builtin = a->count;
	if (a->f)
		fputs("added by the county:\n", a->f);
	if ((err = hm_node_list(l->node, "_field", added_one, a)))
		return err;
	if (a->f && a->count == builtin)
		fputs("  (none)\n", a->f);
	return HM_OK;
}

hm_err hm_schema_fields_json(hm_ledger *l, const char *coll, json_t **out)
{
	fields_out a = {coll, NULL, json_array(), 0, false};
	hm_err err = a.arr ? list_fields(l, &a) : HM_OK;

	return lj_give(l->node, err, a.nomem, a.arr, out);
}

hm_err hm_schema_fields_write(hm_ledger *l, const char *coll, FILE *f)
{
	fields_out a = {coll, f, NULL, 0, false};
	return list_fields(l, &a);
}
