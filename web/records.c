/*
 * records.c - records as the pages show them: a table of chosen fields, each value in the
 * clerk's words (web_value_word: 男 for male), a field that names a person as a link to its page,
 * personal text masked by the ledger's one rule (hm_ledger_mask) unless the page may reveal it.
 */
#include "web_int.h"

#include <inttypes.h>
#include <string.h>

void web_records_head(web_req *r, const char *const *cols, size_t n)
{
	web_raw(r, "<table><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		web_raw(r, "<th>");
		web_esc(r, web_t(r, web_field_label(cols[i])));
		web_raw(r, "</th>");
	}
	web_raw(r, "</tr></thead><tbody>\n");
}

void web_records_end(web_req *r)
{
	web_raw(r, "</tbody></table>\n");
}

void web_person_link(web_req *r, const char *id, const char *text)
{
	web_raw(r, "<a href=\"/person/");
	web_esc_query(r, id);
	web_raw(r, "\">");
	web_esc(r, text ? text : id);
	web_raw(r, "</a>");
}

/* text, the value of field in a record of coll (a string when str), as a page shows it. */
static void text_write(web_req *r, const char *coll, const char *field, const char *text, bool str,
                       bool mask)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	const hm_field_def *d = cd ? hm_schema_field(cd, field) : NULL;
	char masked[4 * HM_STR_MAX + 1];

	if (str && mask && d && (d->flags & HM_F_PII)) {
		hm_ledger_mask(text, strlen(text), masked, sizeof(masked));
		web_esc(r, masked);
	} else if (str && d && hm_ledger_field_refers(cd, d))
		web_person_link(r, text, NULL);
	else if (d && d->help && strchr(d->help, '|'))
		web_esc(r, web_value_word(r, coll, field, text));
	else if (d && d->type == HM_T_TIME && strlen(text) > 10 && strlen(text) < sizeof(masked)) {
		/* 2026-12-06 08:30, as people write a time */
		snprintf(masked, sizeof(masked), "%s", text);
		if (masked[10] == 'T')
			masked[10] = ' ';
		web_esc(r, masked);
	} else
		web_esc(r, text);
}

void web_value_write(web_req *r, const hm_record *rec, const char *field, bool mask)
{
	const hm_field *f = hm_record_field(rec, field);
	const hm_value *v = f ? &f->value : NULL;
	char buf[HM_STR_MAX + 1];

	if (!strcmp(field, "id")) {
		web_esc(r, rec->id);
		return;
	}
	if (!v || v->kind == HM_V_NIL)
		return;
	if (v->kind == HM_V_INT)
		snprintf(buf, sizeof(buf), "%" PRId64, v->u.i);
	else if (v->kind == HM_V_FLOAT)
		snprintf(buf, sizeof(buf), "%.1f", v->u.f);
	else if (v->kind == HM_V_BOOL)
		snprintf(buf, sizeof(buf), "%s", v->u.b ? "true" : "false");
	else
		snprintf(buf, sizeof(buf), "%.*s", (int)v->u.s.n, v->u.s.p);
	text_write(r, rec->collection, field, buf, v->kind == HM_V_STR, mask);
}

void web_json_value_write(web_req *r, const char *coll, const char *field, const json_t *v,
                          bool mask)
{
	char buf[64];

	if (json_is_string(v))
		text_write(r, coll, field, json_string_value(v), true, mask);
	else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text_write(r, coll, field, buf, false, mask);
	} else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.1f", json_real_value(v));
		text_write(r, coll, field, buf, false, mask);
	} else if (json_is_boolean(v))
		web_esc(r, json_is_true(v) ? "true" : "false");
}

void web_records_row(web_req *r, const hm_record *rec, const char *const *cols, size_t n, bool mask)
{
	web_raw(r, "<tr>");
	for (size_t i = 0; i < n; i++) {
		web_raw(r, "<td>");
		web_value_write(r, rec, cols[i], mask);
		web_raw(r, "</td>");
	}
	web_raw(r, "</tr>\n");
}

void web_json_row(web_req *r, const json_t *rec, const char *const *cols, size_t n, bool mask)
{
	const char *coll = json_string_value(json_object_get(rec, "collection"));
	const json_t *fields = json_object_get(rec, "fields");

	web_raw(r, "<tr>");
	for (size_t i = 0; i < n; i++) {
		web_raw(r, "<td>");
		if (!strcmp(cols[i], "id"))
			web_esc(r, json_string_value(json_object_get(rec, "id")));
		else if (coll)
			web_json_value_write(r, coll, cols[i], json_object_get(fields, cols[i]),
			                     mask);
		web_raw(r, "</td>");
	}
	web_raw(r, "</tr>\n");
}

typedef struct table_run {
	web_req *r;
	const char *const *cols;
	size_t n, rows, max;
	bool mask;
} table_run;

static int table_one(void *arg, const hm_record *rec)
{
	table_run *t = arg;

	if (t->rows == t->max)
		return 1;
	if (!t->rows)
		web_records_head(t->r, t->cols, t->n);
	web_records_row(t->r, rec, t->cols, t->n, t->mask);
	t->rows++;
	return 0;
}

hm_err web_records_table(web_req *r, const char *coll, const char *const *cols, size_t n,
                         size_t max, bool mask)
{
	table_run t = {r, cols, n, 0, max, mask};
	hm_err err = hm_node_list(r->led.node, coll, table_one, &t);

	if (err)
		return err;
	if (t.rows)
		web_records_end(r);
	else {
		web_raw(r, "<p class=\"empty\">");
		web_esc(r, web_t(r, "None yet."));
		web_raw(r, "</p>\n");
	}
	return HM_OK;
}
