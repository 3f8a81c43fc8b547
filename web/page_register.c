/*
 * page_register.c - /register: a returnee's person, journey and isolation in one form, written
 * in one change set by hm_register_returnee (person add, return add, episode start: each by its
 * verb's rule). The ID number is checked as it is typed (app.js, data-check="id-number") and
 * again by the ledger when the form is sent; a refused value is named beside its field with the
 * values typed kept. A person here with the same keyed ID hash is a possible duplicate: the
 * first send writes nothing and names them (a link to their page) with a second button,
 * "register anyway", that writes. Once written: 303 to the new person's page, /person/ID.
 */
#include "web_int.h"

#include <string.h>

enum { RF_TEXT, RF_DATE, RF_NUM, RF_IDNUM, RF_TEL, RF_WORDS };

/* A field of the form: its name is the member of hm_returnee it fills. */
typedef struct reg_field {
	const char *name;                 /* the form's field */
	const char *label;                /* msgid */
	int kind;                         /* RF_* */
	const char *coll, *field, *words; /* RF_WORDS: the schema's field; the words offered (NULL:
	                                   * all of the field's) */
} reg_field;

static const reg_field fields[] = {
    {"name", "Name", RF_TEXT, NULL, NULL, NULL},
    {"id_number", "ID number", RF_IDNUM, NULL, NULL, NULL},
    {"phone", "Phone", RF_TEL, NULL, NULL, NULL},
    {"sex", "Sex", RF_WORDS, N_("person"), "sex", NULL},
    {N_("village"), "Village", RF_TEXT, NULL, NULL, NULL},
    {"compound", "Compound", RF_TEXT, NULL, NULL, NULL},
    {"household", "Household", RF_TEXT, NULL, NULL, NULL},
    {"from_area", N_("Coming from"), RF_WORDS, "return", "from_area", NULL},
    {"departure_date", N_("Departure date"), RF_DATE, NULL, NULL, NULL},
    {"arrival_date", N_("Arrival date"), RF_DATE, NULL, NULL, NULL},
    {"transport", "Transport", RF_WORDS, "return", "transport", NULL},
    {"route", "Route", RF_TEXT, NULL, NULL, NULL},
    {"kind", N_("Isolation"), RF_WORDS, "episode", "kind", "home|central"},
    {N_("days"), N_("Days of isolation"), RF_NUM, NULL, NULL, NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* The form's three parts: fields [from, to) under a heading. */
static const struct {
	size_t from, to;
	const char *title;
} parts[] = {
    {0, 7, N_("The person")}, {7, 12, N_("The journey")}, {12, NFIELDS, N_("The isolation")}};

/* What the form says when it is shown again: a field's reason, a possible duplicate. */
typedef struct reg_state {
	const char *bad_field; /* the field named by the reason, or NULL */
	const char *why;       /* the reason, or NULL */
	const char *dup;       /* the person with the same ID number, or NULL */
} reg_state;

/* The value to show in field f: what was sent, else its default on a new form. */
static const char *value_of(web_req *r, const reg_field *f, const char *village)
{
	const char *v = web_field_get(r, f->name);

	if (v || !strcmp(r->method, "POST"))
		return v;
	if (!strcmp(f->name, N_("village")))
		return village;
	if (!strcmp(f->name, N_("days")))
		return HM_RETURNEE_DAYS;
	return !strcmp(f->name, "kind") ? "home" : NULL;
}

static void input(web_req *r, const reg_field *f, const char *value)
{
	static const char *const attrs[] = {
	    [RF_TEXT] = " size=\"30\"",
	    [RF_DATE] = " type=\"date\"",
	    [RF_NUM] =
	        " type=\"number\" min=\"1\" max=\"" WEB_STR(HM_EPISODE_DAYS_MAX) "\" size=\"4\"",
	    [RF_IDNUM] = " size=\"22\" maxlength=\"18\" autocomplete=\"off\" "
	                 "data-check=\"id-number\"",
	    [RF_TEL] = " type=\"tel\" size=\"16\"",
	};

	web_raw(r, "<input name=\"");
	web_raw(r, f->name);
	web_raw(r, "\"");
	web_raw(r, attrs[f->kind]);
	if (f->kind == RF_IDNUM) {
		web_raw(r, " data-message=\"");
		web_esc(r, web_t(r, "This ID number cannot be right: check its 18 characters."));
		web_raw(r, "\"");
	}
	if (!strcmp(f->name, "name"))
		web_raw(r, " required");
	web_raw(r, " value=\"");
	web_esc(r, value);
	web_raw(r, "\">");
}

/* One field: its label, its input or select, and the reason beside it when it is the bad one. */
static void field_row(web_req *r, const reg_field *f, const char *value, const reg_state *st)
{
	bool bad = st->bad_field && !strcmp(st->bad_field, f->name);

	web_raw(r, bad ? "<p class=\"field bad\"><label>" : "<p class=\"field\"><label>");
	web_esc(r, web_t(r, f->label));
	web_raw(r, "<br>");
	if (f->kind == RF_WORDS)
		web_word_select(r, f->name, f->coll, f->field, f->words, value,
		                strcmp(f->name, "kind") != 0);
	else
		input(r, f, value);
	web_raw(r, "</label>");
	if (bad) {
		web_raw(r, " <span class=\"row-error\">");
		web_esc(r, st->why);
		web_raw(r, "</span>");
	}
	web_raw(r, "</p>\n");
}

/* The warning of a possible duplicate, above the form (its button "register anyway" is the
 * form's second: Enter in a field sends the first, which asks again). */
static void dup_warning(web_req *r, const char *dup)
{
	web_raw(r, "<div class=\"notice error dup\" role=\"status\">");
	web_esc(r, web_t(r, "A person with the same ID number is registered here already:"));
	web_raw(r, " <a href=\"/person/");
	web_esc_query(r, dup);
	web_raw(r, "\">");
	web_esc(r, dup);
	web_raw(r, "</a>. ");
	web_esc(r, web_t(r, "Nothing was written. If this is another person, or the same person "
	                    "coming back again, register anyway."));
	web_raw(r, "</div>\n");
}

static void register_page(web_req *r, const reg_state *st)
{
	hm_node_info self;

	hm_node_ident(r->led.node, &self);
	web_page_begin(r, "Register a returnee");
	if (st->why && !st->bad_field)
		web_notice(r, "error", st->why);
	else if (st->why)
		web_notice(r, "error", web_t(r, "Nothing was written: correct the field marked."));
	if (st->dup)
		dup_warning(r, st->dup);
	web_form_begin(r, "/register");
	for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
		web_raw(r, "<fieldset><legend>");
		web_esc(r, web_t(r, parts[k].title));
		web_raw(r, "</legend>\n");
		for (size_t i = parts[k].from; i < parts[k].to; i++)
			field_row(r, &fields[i], value_of(r, &fields[i], self.region), st);
		web_raw(r, "</fieldset>\n");
	}
	web_raw(r, "<p><button type=\"submit\">");
	web_esc(r, web_t(r, "Register"));
	web_raw(r, "</button> ");
	if (st->dup) {
		web_raw(r, "<button type=\"submit\" class=\"plain\" name=\"anyway\" value=\"1\">");
		web_esc(r, web_t(r, "Register anyway"));
		web_raw(r, "</button> ");
	}
	web_raw(r, "<a href=\"/today\">");
	web_esc(r, web_t(r, "Back to Today"));
	web_raw(r, "</a></p>");
	web_form_end(r);
	web_page_end(r);
}

hm_err web_page_register(web_req *r)
{
	reg_state st = {0};

	register_page(r, &st);
	return HM_OK;
}

/* The form's field a ledger reason names ("id_number: must be ...", "--days must be ...", in
 * either language: web_reason_field), or NULL. */
static const char *field_named(const char *why)
{
	char word[32];
	const char *rest;

	if (!web_reason_field(why, word, sizeof(word), &rest))
		return NULL;
	if (!strcmp(word, "travel_origin"))
		return "from_area";
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].name, word))
			return fields[i].name;
	return NULL;
}

/* Whether err is the station's trouble rather than a value of the form. */
static bool station_err(hm_err err)
{
	return err == HM_ERR_NOMEM || err == HM_ERR_IO || err == HM_ERR_CORRUPT ||
	       err == HM_ERR_FULL || err == HM_ERR_STORE || err == HM_ERR_BUSY ||
	       err == HM_ERR_CRYPTO;
}

/* The form's value of name: NULL when empty (not given: the verb's default). */
static const char *given(const web_req *r, const char *name)
{
	const char *v = web_field_get(r, name);

	return v && *v ? v : NULL;
}

hm_err web_page_register_post(web_req *r)
{
	hm_returnee q = {
	    .name = given(r, "name"),
	    .id_number = given(r, "id_number"),
	    .phone = given(r, "phone"),
	    .sex = given(r, "sex"),
	    .village = given(r, N_("village")),
	    .compound = given(r, "compound"),
	    .household = given(r, "household"),
	    .from_area = given(r, "from_area"),
	    .departure_date = given(r, "departure_date"),
	    .arrival_date = given(r, "arrival_date"),
	    .transport = given(r, "transport"),
	    .route = given(r, "route"),
	    .kind = given(r, "kind"),
	    .days = given(r, N_("days")),
	};
	bool anyway = given(r, "anyway") != NULL;
	reg_state st = {0};
	hm_register_result res;
	char to[3 * HM_ID_MAX + 16];
	hm_err err;

	err = hm_register_returnee(&r->led, &q, !anyway, &res);
	if (!err) {
		web_log(r, "info", "%s registered the returnee %s%s%s", r->user->name, res.person,
		        res.dup[0] ? ", possibly the same as " : "", res.dup);
		memcpy(to, "/person/", 8);
		if (!web_query_encode(res.person, to + 8, sizeof(to) - 8))
			return hm_node_fail(r->led.node, HM_ERR_NOMEM,
			                    "no room for the person's id");
		web_redirect(r, to);
		return HM_OK;
	}
	if (err == HM_ERR_EXISTS && res.dup[0]) {
		st.dup = res.dup;
	} else if (station_err(err)) {
		return err; /* the station's, not the form's: a 500 page with the reason */
	} else {
		st.why = hm_node_errmsg(r->led.node);
		st.bad_field = field_named(st.why);
		web_status(r, 400);
	}
	register_page(r, &st);
	return HM_OK;
}
