/*
 * page_person.c - /person/ID: a person with their journeys, episodes, follow-ups, contacts and
 * open identity questions (the ledger's model of `hamlet person show`, hm_person_show_json, read
 * unmasked and masked here field by field). Names show to every role; the other
 * personal fields (phone, ID number, address) are masked by the ledger's rule unless the user
 * may reveal them (HM_RIGHT_REVEAL) and asks to: POST /person/ID/reveal records the access
 * under the user's name (hm_ledger_record_access, r->led.actor) before anything is shown, and
 * shows nothing when it cannot. From the page: a contact (`contact add`: this person the source,
 * the degree 1 or 2) and a follow-up (`followup add`), forms over the ledger's verbs (form.c).
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct person_page {
	char id[HM_ID_MAX + 1];
	char action_contact[HM_ID_MAX * 3 + 32], action_followup[HM_ID_MAX * 3 + 32];
	char action_reveal[HM_ID_MAX * 3 + 32], page[HM_ID_MAX * 3 + 16];
	hm_record *p;
	bool reveal;
	web_form contact, followup;
	web_choice *others; /* persons to suggest as a contact */
	size_t nothers;
} person_page;

/* ---- the person and what names them: the ledger's model of a person's page ---- */

/* The model is read unmasked: every role sees names (HM_RIGHT_NAMES); the other personal
 * fields are masked here, by the ledger's rule, unless revealed. */
static bool masked(const person_page *pg, const char *field)
{
	return !pg->reveal && strcmp(field, "name");
}

static void person_fields(web_req *r, const person_page *pg, const json_t *doc)
{
	const hm_collection_def *cd = hm_schema_collection(N_("person"));
	const json_t *fields = json_object_get(json_object_get(doc, N_("person")), "fields");

	web_raw(r, "<table class=\"person\"><tbody>\n");
	for (size_t i = 0; i < cd->nfields; i++) {
		const hm_field_def *d = &cd->fields[i];
		const json_t *v = json_object_get(fields, d->name);
		if (hm_ledger_field_derived(d) || !v || json_is_null(v))
			continue;
		web_raw(r, "<tr><th>");
		web_esc(r, web_t(r, web_field_label(d->name)));
		web_raw(r, "</th><td>");
		web_json_value_write(r, N_("person"), d->name, v, masked(pg, d->name));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

static void none_yet(web_req *r)
{
	web_raw(r, "<p class=\"empty\">");
	web_esc(r, web_t(r, "None yet."));
	web_raw(r, "</p>\n");
}

static void related_write(web_req *r, const person_page *pg, const json_t *doc, const char *coll,
                          const char *title, const char *const *cols, size_t n)
{
	const json_t *rows = json_object_get(doc, coll);

	web_raw(r, "<h2>");
	web_esc(r, web_t(r, title));
	web_raw(r, "</h2>\n");
	if (!json_array_size(rows)) {
		none_yet(r);
		return;
	}
	web_records_head(r, cols, n);
	for (size_t i = 0; i < json_array_size(rows); i++)
		web_json_row(r, json_array_get(rows, i), cols, n, !pg->reveal);
	web_records_end(r);
}

/* One contact, either way: the other person named (read from the store), how they are related. */
static void contact_write(web_req *r, const person_page *pg, const json_t *rec)
{
	const json_t *f = json_object_get(rec, "fields");
	const char *src = json_string_value(json_object_get(f, "source"));
	bool is_source = src && !strcmp(src, pg->id);
	const char *other = json_string_value(json_object_get(f, is_source ? "contact" : "source"));
	static const char *const cols[] = {"degree", "mode", "first_date", "last_date"};
	char name[HM_STR_MAX + 1];
	hm_record *o = NULL;

	if (!other)
		return;
	if (hm_node_get(r->led.node, N_("person"), other, &o) ||
	    !hm_rec_text(o, "name", name, sizeof(name)))
		snprintf(name, sizeof(name), "%s", other);
	hm_record_free(o);
	web_raw(r, "<tr><td>");
	web_person_link(r, other, name);
	web_raw(r, "</td><td>");
	web_esc(
	    r, web_t(r, is_source ? "Contact of this person" : N_("This person is their contact")));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		web_raw(r, "</td><td>");
		web_json_value_write(r, "exposure", cols[i], json_object_get(f, cols[i]),
		                     !pg->reveal);
	}
	web_raw(r, "</td></tr>\n");
}

static void contacts_write(web_req *r, const person_page *pg, const json_t *doc)
{
	static const char *const cols[] = {N_("Other person"), N_("Relation"), "degree", "mode",
	                                   "first_date",       "last_date"};
	const json_t *rows = json_object_get(doc, "exposure");

	web_raw(r, "<h2>");
	web_esc(r, web_t(r, "Contacts"));
	web_raw(r, "</h2>\n");
	if (!json_array_size(rows)) {
		none_yet(r);
		return;
	}
	web_records_head(r, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < json_array_size(rows); i++)
		contact_write(r, pg, json_array_get(rows, i));
	web_records_end(r);
}

/* A name or ID number two stations wrote at once, whose loser nobody has decided yet. */
static void questions_write(web_req *r, const person_page *pg, const json_t *doc)
{
	const json_t *qs = json_object_get(doc, "open_identity_questions");

	if (!json_array_size(qs))
		return;
	web_raw(r, "<h2>");
	web_esc(r, web_t(r, "Open questions about this person's identity"));
	web_raw(r, "</h2>\n<p>");
	web_esc(r, web_t(r, "Two stations wrote these at the same time; the value above won. "
	                    "Correct the person to decide."));
	web_raw(r, "</p><table><tbody>\n");
	for (size_t i = 0; i < json_array_size(qs); i++) {
		const json_t *q = json_array_get(qs, i);
		const char *field = json_string_value(json_object_get(q, "field"));
		if (!field)
			continue;
		web_raw(r, "<tr><th>");
		web_esc(r, web_t(r, web_field_label(field)));
		web_raw(r, "</th><td>");
		web_json_value_write(r, N_("person"), field, json_object_get(q, "other_value"),
		                     masked(pg, field));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

static void related_all(web_req *r, const person_page *pg, const json_t *doc)
{
	static const char *const ret[] = {"arrival_date", "from_area", "departure_date",
	                                  "transport",    "vehicle",   "found_by"};
	static const char *const ep[] = {"kind", "reason",     "start", "planned_end",
	                                 "end",  "end_reason", "worker"};
	static const char *const fu[] = {"time",   "slot",     "temperature", "method",
	                                 "result", "symptoms", "worker"};

	related_write(r, pg, doc, "return", N_("Journeys"), ret, sizeof(ret) / sizeof(ret[0]));
	related_write(r, pg, doc, "episode", N_("Episodes"), ep, sizeof(ep) / sizeof(ep[0]));
	related_write(r, pg, doc, "followup", N_("Follow-ups"), fu, sizeof(fu) / sizeof(fu[0]));
	contacts_write(r, pg, doc);
	questions_write(r, pg, doc);
}

/* ---- the page ---- */

static void reveal_form(web_req *r, const person_page *pg)
{
	web_form_begin(r, pg->action_reveal);
	web_raw(r, "<p><button type=\"submit\" class=\"plain\" name=\"reveal\" value=\"1\">");
	web_esc(r, web_t(r, "Show phone and ID number (recorded in the access log)"));
	web_raw(r, "</button></p>");
	web_form_end(r);
}

/* The person's name and their contacts' are shown in clear (the route's HM_RIGHT_NAMES): the
 * reveal is recorded under the user's name first, as Today's is; nothing is shown when it
 * cannot be (the server's error page). A reveal of the numbers records its own. */
static hm_err names_recorded(web_req *r, const person_page *pg)
{
	char what[HM_ID_MAX + 32];

	snprintf(what, sizeof(what), "person names %s", pg->id);
	return web_record_access(r, "reveal", what, 1);
}

static hm_err person_write(web_req *r, person_page *pg)
{
	char name[HM_STR_MAX + 1];
	json_t *doc = NULL;
	hm_err err;

	/* read whole before anything is written: a failure is the server's error page */
	if ((err = hm_person_show_json(&r->led, pg->p, false, &doc)))
		return err;
	if (!pg->reveal && (err = names_recorded(r, pg))) {
		json_decref(doc);
		return err;
	}
	web_page_begin(r, "Person");
	web_raw(r, "<h2>");
	web_esc(r, hm_rec_text(pg->p, "name", name, sizeof(name)) ? name : pg->id);
	web_raw(r, " <code>");
	web_esc(r, pg->id);
	web_raw(r, "</code></h2>\n");
	if (pg->reveal)
		web_notice(r, "ok",
		           web_t(r, "Shown in full: this was recorded in the access log."));
	person_fields(r, pg, doc);
	if (!pg->reveal && web_may(r, HM_RIGHT_REVEAL))
		reveal_form(r, pg);
	related_all(r, pg, doc);
	json_decref(doc);
	if (web_may(r, HM_RIGHT_REGISTER))
		web_form_write(r, &pg->contact);
	if (web_may(r, HM_RIGHT_FOLLOWUP))
		web_form_write(r, &pg->followup);
	web_page_end(r);
	return HM_OK;
}

/* The persons of this node a contact may be, as suggestions (those living nearest first): any
 * other id is taken too, and checked by the ledger. */
static hm_err contact_suggest(web_req *r, person_page *pg)
{
	hm_err err;

	if (!web_may(r, HM_RIGHT_REGISTER))
		return HM_OK;
	if (!(pg->others = calloc(WEB_PERSONS_MAX, sizeof(web_choice))))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if ((err = web_persons(r, pg->p, pg->others, &pg->nothers)))
		return err;
	pg->contact.picks[0] = (web_pick){"contact", pg->others, pg->nothers, NULL, true};
	return HM_OK;
}

static void person_forms(person_page *pg)
{
	static const web_ff contact[] = {{"contact", 0},    {"degree", 0},    {"mode", 0},
	                                 {"first_date", 0}, {"last_date", 0}, {NULL, 0}};
	static const web_ff followup[] = {{"temperature", 0}, {"method", 0}, {"time", 0},
	                                  {"slot", 0},        {"result", 0}, {"symptoms", 0},
	                                  {"worker", 0},      {NULL, 0}};
	web_form *c = &pg->contact, *f = &pg->followup;

	c->v = hm_verb_find("contact", "add");
	c->action = pg->action_contact;
	c->title = N_("Add a contact of this person");
	c->button = N_("Save the contact");
	memcpy(c->fields, contact, sizeof(contact));
	c->fixed[0][0] = "source", c->fixed[0][1] = pg->id;
	f->v = hm_verb_find("followup", "add");
	f->action = pg->action_followup;
	f->title = N_("Add a follow-up");
	f->button = N_("Save the follow-up");
	memcpy(f->fields, followup, sizeof(followup));
	f->fixed[0][0] = N_("person"), f->fixed[0][1] = pg->id;
}

/* The person of path /person/ID[/what] into pg (*what: the rest, "" for none); false (and a 404
 * page) when there is no such person. */
static bool person_open(web_req *r, person_page *pg, const char **what, hm_err *err)
{
	const char *id = r->path + strlen("/person/"), *slash = strchr(id, '/'), *why;
	size_t n = slash ? (size_t)(slash - id) : strlen(id);
	char enc[HM_ID_MAX * 3 + 1];

	*what = slash ? slash + 1 : "";
	*err = HM_OK;
	if (n <= HM_ID_MAX) {
		memcpy(pg->id, id, n), pg->id[n] = 0;
		if (!hm_id_check(pg->id, &why))
			*err = hm_node_get(r->led.node, N_("person"), pg->id, &pg->p);
	}
	if (!pg->p && (!*err || *err == HM_ERR_NOT_FOUND)) {
		web_error(r, 404, "There is no such person.", NULL);
		*err = HM_OK;
		return false;
	}
	if (*err || !web_query_encode(pg->id, enc, sizeof(enc)))
		return false;
	snprintf(pg->page, sizeof(pg->page), "/person/%s", enc);
	snprintf(pg->action_reveal, sizeof(pg->action_reveal), "/person/%s/reveal", enc);
	snprintf(pg->action_contact, sizeof(pg->action_contact), "/person/%s/contact", enc);
	snprintf(pg->action_followup, sizeof(pg->action_followup), "/person/%s/followup", enc);
	person_forms(pg);
	return !(*err = contact_suggest(r, pg));
}

static void person_close(person_page *pg)
{
	if (!pg)
		return;
	hm_record_free(pg->p);
	web_form_release(&pg->contact);
	web_form_release(&pg->followup);
	free(pg->others);
	free(pg);
}

hm_err web_page_person(web_req *r)
{
	person_page *pg = calloc(1, sizeof(*pg));
	const char *what;
	hm_err err = HM_OK;

	if (!pg)
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if (person_open(r, pg, &what, &err)) {
		if (what[0])
			web_error(r, 404, "There is no such page.", NULL);
		else {
			web_form_outcome(r, &pg->contact, 1);
			web_form_outcome(r, &pg->followup, 1);
			err = person_write(r, pg);
		}
	}
	person_close(pg);
	return err;
}

/* A reveal: recorded under the user's name first; nothing is shown when it cannot be. */
static hm_err person_reveal(web_req *r, person_page *pg)
{
	char what[HM_ID_MAX + 32];

	snprintf(what, sizeof(what), "person show %s", pg->id);
	if (web_record_access(r, "reveal", what, 1)) { /* hm_ledger_record_access, r->led */
		web_error(r, 500, "The access could not be recorded: nothing is shown.",
		          hm_node_errmsg(r->led.node));
		return HM_OK;
	}
	web_log(r, "info", "%s revealed person %s", r->user->name, pg->id);
	pg->reveal = true;
	return person_write(r, pg);
}

hm_err web_page_person_post(web_req *r)
{
	static const struct {
		const char *what;
		hm_right right;
	} acts[] = {{"reveal", HM_RIGHT_REVEAL},
	            {"contact", HM_RIGHT_REGISTER},
	            {"followup", HM_RIGHT_FOLLOWUP}};
	person_page *pg = calloc(1, sizeof(*pg));
	const char *what;
	hm_err err = HM_OK;
	size_t i = 0;

	if (!pg)
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if (!person_open(r, pg, &what, &err))
		goto out;
	while (i < 3 && strcmp(acts[i].what, what))
		i++;
	if (i == 3)
		web_error(r, 404, "There is no such page.", NULL);
	else if (!web_may(r, acts[i].right))
		web_error(r, 403, "Your role cannot open this page.", NULL);
	else if (i == 0)
		err = person_reveal(r, pg);
	else {
		web_form *f = i == 1 ? &pg->contact : &pg->followup;
		if (!(err = web_form_post(r, f)) && !web_form_done(r, f, pg->page)) {
			if (f->refused)
				web_status(r, 400);
			err = person_write(r, pg);
		}
	}
out:
	person_close(pg);
	return err;
}
