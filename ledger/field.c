/*
 * field.c - running a verb of field work: the values a clerk gave (field name -> text), the
 * verb's rule (field_rules.c), the ledger's checks of every value, and one change set.
 */
#include "ledger_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const hm_verb *hm_verbs(size_t *count)
{
	*count = hm_verb_table_len;
	return hm_verb_table;
}

const hm_verb *hm_verb_find(const char *cmd, const char *sub)
{
	for (size_t i = 0; i < hm_verb_table_len; i++)
		if (!strcmp(hm_verb_table[i].cmd, cmd) && !strcmp(hm_verb_table[i].sub, sub))
			return &hm_verb_table[i];
	return NULL;
}

bool hm_ledger_field_derived(const hm_field_def *f)
{
	size_t n = strlen(f->name);

	return f->merge == HM_MERGE_COUNTER ||               /* a sum of movements */
	       !strcmp(f->name, "id_hash") ||                /* from the ID number */
	       !strcmp(f->name, "purged") ||                 /* set by purge */
	       !strcmp(f->name, "counted_as") ||             /* set by stock count */
	       (n > 5 && !strcmp(f->name + n - 5, "_seen")); /* a write's own stamps */
}

bool hm_verb_accepts(const hm_verb *v, const hm_field_def *f)
{
	if (hm_ledger_field_derived(f))
		return false;
	for (int i = 0; i < 2 && v->fixed[i][0]; i++)
		if (!strcmp(v->fixed[i][0], f->name))
			return false;
	return true;
}

/* ---- the values of a run ---- */

const char *verb_text(const struct hm_verb_run *x, const char *field)
{
	for (int i = 0; i < x->nvals; i++)
		if (!strcmp(x->vals[i].def->name, field))
			return x->vals[i].text;
	return NULL;
}

static hm_err set_def(struct hm_verb_run *x, const hm_field_def *d, const char *text)
{
	for (int i = 0; i < x->nvals; i++)
		if (x->vals[i].def == d) {
			x->vals[i].text = text;
			return HM_OK;
		}
	if (x->nvals == HM_VERB_VALUES_MAX)
		return verb_fail(x, HM_ERR_INVALID, true, "too many fields");
	x->vals[x->nvals++] = (verb_val){d, text};
	return HM_OK;
}

hm_err verb_set(struct hm_verb_run *x, const char *field, const char *text)
{
	const hm_field_def *d = hm_schema_field(x->cd, field);
	if (!d)
		return verb_fail(x, HM_ERR_SCHEMA, false, "%s has no field '%s'", x->cd->name,
		                 field);
	return set_def(x, d, text);
}

hm_err verb_default(struct hm_verb_run *x, const char *field, const char *text)
{
	return verb_text(x, field) ? HM_OK : verb_set(x, field, text);
}

char *verb_scratch(struct hm_verb_run *x)
{
	assert(x->nbufs < VERB_BUFS);
	return x->bufs[x->nbufs++];
}

hm_err verb_fail(struct hm_verb_run *x, hm_err err, bool usage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	x->out->usage = usage;
	return hm_node_fail(x->l->node, err, "%s", msg);
}

void verb_note(struct hm_verb_run *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->out->note, sizeof(x->out->note), _(fmt), ap);
	va_end(ap);
}

hm_err verb_need(struct hm_verb_run *x, const char *coll, const char *id, const char *what,
                 hm_record **out)
{
	hm_err err = hm_node_get(x->l->node, coll, id, out);
	if (err == HM_ERR_NOT_FOUND)
		return verb_fail(x, err, false, "unknown %s '%s'", _(what), id);
	return err;
}

/* ---- checking values ---- */

/* The field as a message names it: its name as the clerk types it (--id-number, id_number),
 * and in a Chinese message its Chinese header too ("id_number（身份证号）"), into buf. */
static const char *field_label(const hm_collection_def *cd, const char *field, char *buf,
                               size_t cap)
{
	const char *zh = hm_i18n_zh() ? hm_ledger_header_zh(cd, field) : NULL;
	if (!zh)
		return field;
	/* TRANSLATORS: a field's name and its Chinese header from the ledger's table. */
	snprintf(buf, cap, _("%s (%s)"), field, zh);
	return buf;
}

/* Why text is no good as a value of d, into why; HM_OK when it is. */
static hm_err check_one(const hm_collection_def *cd, const hm_field_def *d, const char *text,
                        char *why, size_t cap)
{
	char shown[4 * HM_STR_MAX + 1], label[128];
	const char *reason, *name = field_label(cd, d->name, label, sizeof(label));
	hm_value v;

	if (!text[0]) {
		if (!d->required)
			return HM_OK;
		snprintf(why, cap, _("%s: is required, not empty"), name);
		return HM_ERR_TYPE;
	}
	/* the clerk's words and dates (男, 2026/12/6) as the import takes them */
	hm_ledger words = {0};
	hm_err err = hm_ledger_value_parse(&words, d, text, &v, &reason);

	if (!err && !hm_ledger_check(cd, d, &v, &reason))
		return HM_OK;
	if (err == HM_ERR_INVALID) { /* a whole sentence: a spreadsheet's number for an ID */
		snprintf(why, cap, "%s: %s", name, reason);
		return HM_ERR_TYPE;
	}
	if (d->flags & HM_F_PII)
		hm_ledger_mask(text, strlen(text), shown, sizeof(shown)), text = shown;
	snprintf(why, cap, _("%s: must be %s, not '%s'"), name, reason, text);
	return HM_ERR_TYPE;
}

hm_err hm_verb_check(const hm_verb *v, const hm_verb_req *req, char *why, size_t cap)
{
	const hm_collection_def *cd = hm_schema_collection(v->collection);
	hm_err err;

	if (req->nvalues > HM_VERB_VALUES_MAX) {
		snprintf(why, cap, "%s", _("too many fields"));
		return HM_ERR_INVALID;
	}
	for (size_t i = 0; i < req->nvalues; i++) {
		const hm_field_def *d = hm_schema_field(cd, req->values[i].field);
		if (d && (err = check_one(cd, d, req->values[i].text, why, cap)))
			return err;
	}
	return HM_OK;
}

static hm_err check_all(struct hm_verb_run *x)
{
	char why[1024];

	for (int i = 0; i < x->nvals; i++)
		if (check_one(x->cd, x->vals[i].def, x->vals[i].text, why, sizeof(why)))
			return verb_fail(x, HM_ERR_TYPE, false, "%s", why);
	return HM_OK;
}

/* ---- running a verb ---- */

/* text as the ledger stores it, when the clerk wrote it otherwise (男, 2026/12/6, a time
 * "2026/12/6 8:00"): the rules compare the stored form. The canonical text lives in the
 * ledger's storage or the words table, for the rest of the run; text itself when it is already
 * canonical or is not a value of d at all (hm_verb_check has said why). */
static const char *canonical(struct hm_verb_run *x, const hm_field_def *d, const char *text)
{
	const char *why;
	hm_value v;

	if (hm_ledger_value_parse(x->l, d, text, &v, &why) || v.kind != HM_V_STR ||
	    v.u.s.p == text || v.u.s.p[v.u.s.n] != '\0')
		return text;
	return v.u.s.p;
}

/* A field the schema does not name: perhaps one the county added. */
static hm_err resolve_added(struct hm_verb_run *x, const hm_verb_value *val)
{
	int k = x->nadded;

	if (k == (int)(sizeof(x->added) / sizeof(x->added[0])) ||
	    hm_node_field(x->l->node, x->cd, val->field, &x->added[k].def, x->added[k].name))
		return verb_fail(x, HM_ERR_SCHEMA, true, "a %s has no field '%s'", x->cd->name,
		                 val->field);
	x->nadded++;
	return set_def(x, &x->added[k].def, canonical(x, &x->added[k].def, val->text));
}

const char *verb_canonical(struct hm_verb_run *x, const char *field, const char *text)
{
	const hm_field_def *d = hm_schema_field(x->cd, field);
	return d ? canonical(x, d, text) : text;
}

static hm_err take_values(struct hm_verb_run *x)
{
	const hm_verb *v = x->v;
	hm_err err;

	for (int i = 0; i < 2 && v->fixed[i][0]; i++)
		if ((err = verb_set(x, v->fixed[i][0], v->fixed[i][1])))
			return err;
	for (size_t i = 0; i < x->req->nvalues; i++) {
		const hm_verb_value *val = &x->req->values[i];
		const hm_field_def *d = hm_schema_field(x->cd, val->field);
		if (d && !hm_verb_accepts(v, d))
			return verb_fail(x, HM_ERR_SCHEMA, true,
			                 "%s is not given: the ledger sets it", val->field);
		if ((err = d ? set_def(x, d, canonical(x, d, val->text)) : resolve_added(x, val)))
			return err;
	}
	return HM_OK;
}

/* The id of the record: the one to edit, the one asked for, or a new one (not yet taken). */
static hm_err take_id(struct hm_verb_run *x)
{
	const char *why;
	hm_record *r = NULL;
	hm_err err;

	if (!x->v->prefix && !x->req->id)
		return verb_fail(x, HM_ERR_INVALID, true, "say which %s", x->cd->name);
	if (x->req->id && hm_id_check(x->req->id, &why))
		return verb_fail(x, HM_ERR_INVALID, true, "the record id %s", why);
	if (!x->v->prefix) {
		snprintf(x->id, sizeof(x->id), "%s", x->req->id);
		return HM_OK;
	}
	if (x->req->id)
		snprintf(x->id, sizeof(x->id), "%s", x->req->id);
	else
		hm_ledger_new_id(x->l, x->v->prefix, x->id, sizeof(x->id));
	err = hm_node_get(x->l->node, x->cd->name, x->id, &r);
	hm_record_free(r);
	if (err == HM_OK)
		return verb_fail(x, HM_ERR_EXISTS, false, "%s %s already exists", x->cd->name,
		                 x->id);
	return err == HM_ERR_NOT_FOUND ? HM_OK : err;
}

/* Set every value of the run in w (which copies them). On an error w may hold part of them. */
static hm_err write_values(struct hm_verb_run *x, hm_write *w)
{
	hm_err err;

	for (int i = 0; i < x->nvals; i++) {
		const hm_field_def *d = x->vals[i].def;
		const char *why;
		hm_value v = {HM_V_NIL};

		if (x->vals[i].text[0] && hm_ledger_value_parse(x->l, d, x->vals[i].text, &v, &why))
			return verb_fail(x, HM_ERR_TYPE, false, "%s: must be %s", d->name, why);
		if ((err = hm_write_set(w, x->cd->name, x->id, d->name, &v)))
			return err;
	}
	return HM_OK;
}

/* A new record has every field its collection requires. */
static hm_err check_required(struct hm_verb_run *x)
{
	char label[128];

	for (size_t i = 0; x->v->prefix && i < x->cd->nfields; i++) {
		const hm_field_def *d = &x->cd->fields[i];
		if (d->required && !verb_text(x, d->name))
			return verb_fail(x, HM_ERR_INVALID, true, "a new %s needs its %s",
			                 x->cd->name,
			                 field_label(x->cd, d->name, label, sizeof(label)));
	}
	return HM_OK;
}

hm_err verb_stage(hm_ledger *l, const hm_verb *v, const hm_verb_req *req, hm_write *w,
                  const struct hm_verb_run *before, const verb_episodes *episodes,
                  hm_verb_result *out, struct hm_verb_run **keep)
{
	struct hm_verb_run *x = calloc(1, sizeof(*x));
	hm_err err;

	memset(out, 0, sizeof(*out));
	if (keep)
		*keep = NULL;
	if (!x)
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	x->l = l, x->v = v, x->req = req, x->out = out, x->before = before;
	x->episodes = episodes;
	x->cd = hm_schema_collection(v->collection);
	if ((err = take_values(x)) || (err = take_id(x)))
		goto out;
	if (v->rule && (err = v->rule(x)))
		goto out;
	if ((err = check_all(x)) || (err = check_required(x)))
		goto out;
	if (x->nvals == 0) {
		err = verb_fail(x, HM_ERR_INVALID, true, "nothing to change");
		goto out;
	}
	if (!(err = write_values(x, w)))
		snprintf(out->id, sizeof(out->id), "%s", x->id);
out:
	if (!err && keep)
		*keep = x, x = NULL; /* ownership passes to the caller */
	free(x);
	return err;
}

hm_err hm_verb_run(hm_ledger *l, const hm_verb *v, const hm_verb_req *req, hm_verb_result *out)
{
	hm_write *w = NULL;
	hm_err err;

	memset(out, 0, sizeof(*out));
	if ((err = hm_write_begin(l->node, &w)))
		return hm_node_fail(l->node, err, "out of memory");
	if ((err = verb_stage(l, v, req, w, NULL, NULL, out, NULL))) {
		hm_write_abort(w);
		return err;
	}
	if ((err = hm_write_commit(w, &out->info)))
		out->id[0] = '\0';
	return err;
}
