/* conflicts.c - the values that lost a merge (hm_node_conflicts), who set each field of a record
 * (blame) and the change sets held (log), as `hamlet conflicts`, `blame`, `log` and the web's
 * questions page show them: JSON values or text lines, personal values masked on request. */
#include "ledger_int.h"

#include <inttypes.h>
#include <string.h>

typedef struct conflict_out {
	FILE *f;           /* text, or NULL */
	json_t *arr;       /* JSON, or NULL; neither: count only */
	const char *field; /* only this field, when set */
	const char *indent;
	bool mask, nomem;
	size_t count;
} conflict_out;

/* ORIGIN:SEQ at HLC */
static void write_stamp(FILE *f, const hm_stamp *s)
{
	hm_text_node_id(f, &s->origin);
	fprintf(f, ":%" PRIu64 " at ", s->seq);
	hm_text_hlc(f, s->hlc);
}

static void write_conflict(const conflict_out *x, const hm_conflict *cf)
{
	fputs(x->indent, x->f);
	if (!x->field) {
		hm_text_ref(x->f, cf->collection, cf->id);
		fputc(' ', x->f);
		hm_text_cstr(x->f, cf->field);
		fputs(": ", x->f);
	}
	fputs("lost '", x->f);
	hm_text_value_of(x->f, cf->collection, cf->field, &cf->loser, x->mask);
	fputs("' (", x->f);
	write_stamp(x->f, &cf->loser_stamp);
	fprintf(x->f, ") to %s", cf->by_delete ? "a delete by " : "");
	write_stamp(x->f, &cf->winner_stamp);
	fputc('\n', x->f);
}

static int conflict_one(void *arg, const hm_conflict *cf)
{
	conflict_out *x = arg;

	if (x->field && strcmp(x->field, cf->field) != 0)
		return 0;
	if (x->arr &&
	    json_array_append_new(
	        x->arr, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "collection",
	                          hm_json_cstr(cf->collection), "id", hm_json_cstr(cf->id), "field",
	                          hm_json_cstr(cf->field), "lost",
	                          hm_json_value_of(cf->collection, cf->field, &cf->loser, x->mask),
	                          "lost_stamp", hm_json_stamp(&cf->loser_stamp), "winner_stamp",
	                          hm_json_stamp(&cf->winner_stamp), "by_delete", cf->by_delete))) {
		x->nomem = true;
		return -1;
	}
	if (x->f)
		write_conflict(x, cf);
	x->count++;
	return 0;
}

static hm_err run(hm_ledger *l, const char *coll, const char *id, conflict_out *x)
{
	hm_err err = hm_node_conflicts(l->node, coll, id, conflict_one, x);
	if (!err && x->nomem)
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	return err;
}

hm_err hm_conflicts_json(hm_ledger *l, const char *coll, const char *id, bool mask, json_t **out,
                         size_t *count)
{
	conflict_out x = {NULL, json_array(), NULL, "", mask, false, 0};
	hm_err err = x.arr ? hm_node_conflicts(l->node, coll, id, conflict_one, &x) : HM_OK;

	*count = x.count;
	return lj_give(l->node, err, x.nomem, x.arr, out);
}

hm_err hm_conflicts_write(hm_ledger *l, const char *coll, const char *id, bool mask, FILE *f,
                          size_t *count)
{
	conflict_out x = {f, NULL, NULL, "", mask, false, 0};
	hm_err err = run(l, coll, id, &x);

	*count = x.count;
	if (!err && !x.count && f)
		fputs("no conflicts\n", f);
	return err;
}

/* ---- blame ---- */

static hm_err blame_field(hm_ledger *l, const hm_record *r, const hm_field *fd, bool mask,
                          json_t *fields, FILE *f)
{
	conflict_out x = {f, NULL, fd->name, "      ", mask, false, 0};

	if (fields) {
		x.arr = json_array();
		if (json_array_append_new(
		        fields,
		        json_pack("{s:o, s:o, s:o, s:O}", "field", hm_json_cstr(fd->name), "value",
		                  hm_json_value_of(r->collection, fd->name, &fd->value, mask),
		                  "set_by", hm_json_stamp(&fd->stamp), "lost", x.arr)))
			x.nomem = true;
		json_decref(x.arr); /* the document holds it */
		if (x.nomem)
			return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	} else if (f) {
		fputs("  ", f);
		hm_text_pad(f, fd->name, 14);
		fputc(' ', f);
		hm_text_value_of(f, r->collection, fd->name, &fd->value, mask);
		fputs("\n      set by ", f);
		write_stamp(f, &fd->stamp);
		fputc('\n', f);
	}
	return run(l, r->collection, r->id, &x);
}

hm_err hm_blame_json(hm_ledger *l, const hm_record *r, bool mask, json_t **out)
{
	json_t *fields = json_array();
	json_t *doc = json_pack("{s:o, s:o, s:O}", "collection", hm_json_cstr(r->collection), "id",
	                        hm_json_cstr(r->id), "fields", fields);
	hm_err err = HM_OK;

	for (size_t i = 0; doc && i < r->nfields && !err; i++)
		err = blame_field(l, r, &r->fields[i], mask, fields, NULL);
	json_decref(fields);
	return lj_give(l->node, err, false, doc, out);
}

hm_err hm_blame_write(hm_ledger *l, const hm_record *r, bool mask, FILE *f)
{
	hm_err err = HM_OK;

	hm_text_ref(f, r->collection, r->id);
	fputc('\n', f);
	for (size_t i = 0; i < r->nfields && !err; i++)
		err = blame_field(l, r, &r->fields[i], mask, NULL, f);
	return err;
}

/* ---- the log of change sets ---- */

typedef struct log_out {
	FILE *f;     /* text, or NULL */
	json_t *arr; /* JSON, or NULL */
	bool nomem;
} log_out;

static int log_one(void *arg, const hm_changeset_view *cs)
{
	log_out *o = arg;

	if (o->arr) {
		if (json_array_append_new(
		        o->arr,
		        json_pack("{s:o, s:I, s:o, s:o, s:I, s:o, s:I, s:I}", "origin",
		                  hm_json_hex(cs->origin.b, HM_NODE_ID_BYTES), "seq",
		                  (json_int_t)cs->seq, "id", hm_json_hex(cs->id.b, HM_HASH_BYTES),
		                  "prev", hm_json_hex(cs->prev.b, HM_HASH_BYTES), "hlc",
		                  (json_int_t)cs->hlc, "time", hm_json_hlc(cs->hlc), "ops",
		                  (json_int_t)cs->nops, "bytes", (json_int_t)cs->envelope.n)))
			o->nomem = true;
		return o->nomem ? -1 : 0;
	}
	hm_text_node_id(o->f, &cs->origin);
	fprintf(o->f, ":%-6" PRIu64 " ", cs->seq);
	hm_text_hlc(o->f, cs->hlc);
	fprintf(o->f, "  %4zu op%s  %6zu B  ", cs->nops, cs->nops == 1 ? " " : "s", cs->envelope.n);
	hm_text_hex(o->f, cs->id.b, 8);
	fputc('\n', o->f);
	return 0;
}

hm_err hm_log_json(hm_ledger *l, const hm_vv *since, json_t **out)
{
	log_out o = {NULL, json_array(), false};
	hm_err err = o.arr ? hm_node_changesets(l->node, since, log_one, &o) : HM_OK;

	return lj_give(l->node, err, o.nomem, o.arr, out);
}

hm_err hm_log_write(hm_ledger *l, const hm_vv *since, FILE *f)
{
	log_out o = {f, NULL, false};
	return hm_node_changesets(l->node, since, log_one, &o);
}
