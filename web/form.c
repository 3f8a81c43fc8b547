/*
 * form.c - a form over one verb of the ledger's field work (hm_verb, ledger.h): its inputs
 * come from the verb's table entry and the schema's fields, a POST runs the verb through
 * hm_verb_run with the values as typed. Each value is checked first, by the ledger's own
 * functions (hm_verb_check, hm_ledger_need_record, a page's check such as
 * hm_stock_store_check), so that every error can stand beside its field; what the verb then
 * refuses goes beside the field it names, or above the form. Nothing is written when anything
 * is refused, and the values stay in the form.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- words ---- */

static const struct {
	const char *field, *label;
} labels[] = {
    {"id", N_("Number")},
    {"item", N_("Item")},
    {"quantity", N_("Quantity")},
    {"store", N_("Store")},
    {"to_store", N_("To store")},
    {N_("date"), N_("Date")},
    {"unit", N_("Unit")},
    {"shipment", N_("Shipment")},
    {"counterparty", N_("Given to / received from")},
    {"worker", N_("Worker")},
    {"subject", N_("What the tip says")},
    {N_("person"), N_("Person (id)")},
    {"received", N_("Received on")},
    {"reward", N_("Reward (yuan)")},
    {"verified", N_("Verified on")},
    {"paid", N_("Paid on")},
    {"state", N_("State")},
    {N_("village"), N_("Village")},
    {"compound", N_("Compound")},
    {"audience", N_("Who was told")},
    {"source", N_("Source (person id)")},
    {"contact", N_("Contact (person id)")},
    {"degree", N_("Degree")},
    {"mode", N_("How they met")},
    {"first_date", N_("First contact")},
    {"last_date", N_("Last contact")},
    {"temperature", N_("Temperature")},
    {"method", N_("Method")},
    {"time", N_("Time")},
    {"slot", N_("Slot")},
    {"symptoms", N_("Symptoms")},
    {"result", N_("Result (when there was no reading)")},
    {"action", N_("Action taken")},
    {"tip", N_("Tip")},
    {"reject", N_("Reject the tip (not true)")},
    {"name", N_("Name")},
    {"phone", N_("Phone")},
    {"id_number", N_("ID number")},
    {"sex", N_("Sex")},
    {"birth_year", N_("Year of birth")},
    {"address", N_("Address")},
    {"travel_origin", N_("Came from")},
    {"arrival_date", N_("Arrived on")},
    {"category", N_("Category")},
    {"status", N_("Status")},
    {"code", N_("Health code")},
    {"household", N_("Household")},
    {"from_area", N_("From")},
    {"departure_date", N_("Left on")},
    {"transport", N_("Transport")},
    {"vehicle", N_("Train, flight or vehicle")},
    {"route", N_("Route")},
    {"activities", N_("Activities since")},
    {"found_by", N_("Found by")},
    {"registered", N_("Registered on")},
    {"kind", N_("Kind")},
    {"reason", N_("Reason")},
    {"start", N_("Started on")},
    {"planned_end", N_("Planned end")},
    {"end", N_("End")},
    {"end_reason", N_("Why it ended")},
    {"episode", N_("Episode")},
};

const char *web_field_label(const char *field)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(labels[i].field, field))
			return labels[i].label;
	return field;
}

/* Words of a number field ("1|2" of an exposure's degree), which the ledger's table of
 * Chinese words does not hold: msgids. */
static const struct {
	const char *field, *word, *msgid;
} number_words[] = {
    {"degree", "1", N_("1: close contact")},
    {"degree", "2", N_("2: second-degree contact")},
};

const char *web_value_word(const web_req *r, const char *coll, const char *field, const char *word)
{
	for (size_t i = 0; i < sizeof(number_words) / sizeof(number_words[0]); i++)
		if (!strcmp(number_words[i].field, field) && !strcmp(number_words[i].word, word))
			return web_t(r, number_words[i].msgid);
	return web_word(r, coll, field, word);
}

/* ---- the stores ---- */

typedef struct store_list {
	web_choice *v;
	size_t n, cap;
} store_list;

static int store_one(void *arg, const hm_record *r)
{
	store_list *s = arg;
	char kind[32], name[128];

	if (!hm_rec_text(r, "kind", kind, sizeof(kind)) || strcmp(kind, "store"))
		return 0;
	if (s->n == s->cap)
		return 1;
	snprintf(s->v[s->n].value, sizeof(s->v[0].value), "%s", r->id);
	if (hm_rec_text(r, "name", name, sizeof(name)))
		snprintf(s->v[s->n].label, sizeof(s->v[0].label), "%s (%s)", name, r->id);
	else
		snprintf(s->v[s->n].label, sizeof(s->v[0].label), "%s", r->id);
	s->n++;
	return 0;
}

hm_err web_stores(web_req *r, web_choice *out, size_t cap, size_t *n)
{
	store_list s = {out, 0, cap};
	hm_err err = hm_node_list(r->led.node, "site", store_one, &s);

	*n = s.n;
	return err;
}

/* How near a person lives to another: their household (in their compound), their compound,
 * their village, elsewhere. */
enum { NEAR_HOUSEHOLD, NEAR_COMPOUND, NEAR_VILLAGE, NEAR_ELSE, NEAR_RANKS };

typedef struct person_list {
	const char *except;
	char village[HM_REGION_MAX + 1], compound[128], household[128]; /* of the one near */
	bool near;
	web_choice *rank[NEAR_RANKS]; /* the first WEB_PERSONS_MAX of each, by id */
	size_t n[NEAR_RANKS];
} person_list;

static int near_rank(const person_list *s, const hm_record *rec)
{
	char v[HM_REGION_MAX + 1], c[128], h[128];

	if (!s->near)
		return NEAR_ELSE;
	hm_rec_text(rec, "village", v, sizeof(v));
	if (!hm_rec_text(rec, "compound", c, sizeof(c)) || !c[0] || strcmp(c, s->compound) ||
	    strcmp(v, s->village))
		return strcmp(v, s->village) ? NEAR_ELSE : NEAR_VILLAGE;
	return hm_rec_text(rec, "household", h, sizeof(h)) && h[0] && !strcmp(h, s->household)
	           ? NEAR_HOUSEHOLD
	           : NEAR_COMPOUND;
}

static int person_one(void *arg, const hm_record *rec)
{
	person_list *s = arg;
	char name[120];
	int k;
	web_choice *c;

	if (s->except && !strcmp(rec->id, s->except))
		return 0;
	k = near_rank(s, rec);
	if (s->n[k] == WEB_PERSONS_MAX) /* stop when none can come nearer */
		return !s->near || s->n[NEAR_HOUSEHOLD] == WEB_PERSONS_MAX;
	c = &s->rank[k][s->n[k]++];
	snprintf(c->value, sizeof(c->value), "%s", rec->id);
	snprintf(c->label, sizeof(c->label), "%s",
	         hm_rec_text(rec, "name", name, sizeof(name)) ? name : rec->id);
	return 0;
}

hm_err web_persons(web_req *r, const hm_record *near, web_choice *out, size_t *n)
{
	person_list s = {near ? near->id : NULL, "", "", "", near != NULL, {NULL}, {0}};
	hm_err err = HM_OK;

	*n = 0;
	if (near) {
		hm_rec_text(near, "village", s.village, sizeof(s.village));
		hm_rec_text(near, "compound", s.compound, sizeof(s.compound));
		hm_rec_text(near, "household", s.household, sizeof(s.household));
	}
	for (int k = 0; k < NEAR_RANKS && !err; k++)
		if ((k == NEAR_ELSE || near) &&
		    !(s.rank[k] = calloc(WEB_PERSONS_MAX, sizeof(web_choice))))
			err = hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if (!err)
		err = hm_node_list(r->led.node, N_("person"), person_one, &s);
	for (int k = 0; k < NEAR_RANKS; k++) { /* the nearest first, as many as a list holds */
		for (size_t i = 0; !err && i < s.n[k] && *n < WEB_PERSONS_MAX; i++)
			out[(*n)++] = s.rank[k][i];
		free(s.rank[k]);
	}
	return err;
}

typedef struct distinct_list {
	const char *field;
	web_choice *v;
	size_t n, cap;
} distinct_list;

static int distinct_one(void *arg, const hm_record *rec)
{
	distinct_list *s = arg;
	char text[sizeof(s->v[0].value) + 1];

	if (!hm_rec_text(rec, s->field, text, sizeof(text)) || !text[0] ||
	    strlen(text) >= sizeof(s->v[0].value))
		return 0; /* none, or too long to suggest whole */
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].value, text))
			return 0;
	if (s->n == s->cap)
		return 1;
	memcpy(s->v[s->n].value, text, strlen(text) + 1);
	memcpy(s->v[s->n].label, text, strlen(text) + 1);
	s->n++;
	return 0;
}

hm_err web_distinct(web_req *r, const char *coll, const char *field, web_choice *out, size_t cap,
                    size_t *n)
{
	distinct_list s = {field, out, 0, cap};
	hm_err err = hm_node_list(r->led.node, coll, distinct_one, &s);

	*n = s.n;
	return err;
}

/* ---- a POST ---- */

bool web_form_is(const web_req *r, const web_form *f)
{
	const char *verb = web_field_get(r, "verb");
	size_t n = strlen(f->v->cmd);

	return verb && !strncmp(verb, f->v->cmd, n) && verb[n] == ' ' &&
	       !strcmp(verb + n + 1, f->v->sub);
}

void web_form_release(web_form *f)
{
	for (size_t i = 0; i < WEB_FORM_FIELDS; i++) {
		free(f->vals[i]), f->vals[i] = NULL;
		free(f->errs[i]), f->errs[i] = NULL;
	}
}

static size_t nfields(const web_form *f)
{
	size_t n = 0;

	while (n < WEB_FORM_FIELDS && f->fields[n].field)
		n++;
	return n;
}

static bool is_pos(const hm_verb *v, const char *field)
{
	for (int i = 0; i < v->npos; i++)
		if (!strcmp(v->pos[i], field))
			return true;
	return false;
}

static bool required(const web_form *f, size_t i)
{
	const char *field = f->fields[i].field;

	return (f->fields[i].flags & WEB_FF_REQUIRED) || is_pos(f->v, field) ||
	       (!strcmp(field, "id") && !f->v->prefix);
}

/* The posted values, trimmed of the spaces around them (as the CSV import trims a cell). */
static hm_err take_values(web_req *r, web_form *f)
{
	for (size_t i = 0; i < nfields(f); i++) {
		const char *s = web_field_get(r, f->fields[i].field);
		size_t n;

		if (!s)
			s = "";
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		n = strlen(s);
		while (n && strchr(" \t\r\n", s[n - 1]))
			n--;
		if (!(f->vals[i] = strndup(s, n)))
			return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	}
	return HM_OK;
}

static hm_err set_err(web_req *r, web_form *f, size_t i, const char *why)
{
	const char *field = f->fields[i].field, *rest;
	char word[HM_NAME_MAX + 1];

	if (f->errs[i])
		return HM_OK; /* the first reason stands */
	if (web_reason_field(why, word, sizeof(word), &rest) && !strcmp(word, field))
		why = rest; /* beside the field, its name goes without saying */
	if (!(f->errs[i] = strdup(why)))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	f->refused = true;
	return HM_OK;
}

static const web_pick *pick_of(const web_form *f, const char *field)
{
	for (size_t k = 0; k < 2; k++)
		if (f->picks[k].field && !strcmp(f->picks[k].field, field))
			return &f->picks[k];
	return NULL;
}

/* Whether the record value names exists: a picked one by the page's check (a store is a site
 * of kind store) or its list, a person or the record a verb edits by the ledger's rule. */
static hm_err check_ref(web_req *r, web_form *f, size_t i, const char *coll)
{
	const web_pick *p = pick_of(f, f->fields[i].field);
	const char *value = f->vals[i];
	bool listed = false;
	hm_err err;

	if (p && p->check)
		err = p->check(&r->led, value);
	else if (coll)
		err = hm_ledger_need_record(&r->led, coll, value, NULL);
	else if (p && !p->suggest) {
		for (size_t k = 0; k < p->n && !listed; k++)
			listed = !strcmp(p->v[k].value, value);
		return listed ? HM_OK : set_err(r, f, i, web_t(r, "Choose one from the list."));
	} else
		return HM_OK;
	if (err == HM_ERR_NOT_FOUND || err == HM_ERR_INVALID)
		return set_err(r, f, i, hm_node_errmsg(r->led.node));
	return err;
}

/* Each value alone: given when it must be, of its field's type and words, naming what exists. */
static hm_err check_values(web_req *r, web_form *f)
{
	const hm_collection_def *cd = hm_schema_collection(f->v->collection);
	char why[1024];
	hm_err err;

	for (size_t i = 0; i < nfields(f); i++) {
		const char *field = f->fields[i].field, *coll = NULL;
		const hm_field_def *d = hm_schema_field(cd, field);
		hm_verb_value one = {field, f->vals[i]};
		hm_verb_req req = {.values = &one, .nvalues = 1};

		if (!f->vals[i][0] && required(f, i))
			err = set_err(r, f, i, web_t(r, "Fill this in."));
		else if (!f->vals[i][0] || !strcmp(field, "reject"))
			err = HM_OK;
		else if (d && hm_verb_check(f->v, &req, why, sizeof(why)))
			err = set_err(r, f, i, why);
		else {
			if (!strcmp(field, "id"))
				coll = f->v->collection;
			else if (d)
				coll = hm_ledger_field_refers(cd, d);
			err = check_ref(r, f, i, coll);
		}
		if (err)
			return err;
	}
	return HM_OK;
}

static void make_req(web_form *f, hm_verb_value *vals, hm_verb_req *req)
{
	size_t n = 0;

	memset(req, 0, sizeof(*req));
	req->values = vals;
	for (size_t k = 0; k < 2 && f->fixed[k][0]; k++)
		vals[n++] = (hm_verb_value){f->fixed[k][0], f->fixed[k][1]};
	for (size_t i = 0; i < nfields(f); i++) {
		const char *field = f->fields[i].field;
		if (!f->vals[i][0])
			continue; /* not given: the verb's default */
		if (!strcmp(field, "id"))
			req->id = f->vals[i];
		else if (!strcmp(field, "reject"))
			req->reject = true;
		else
			vals[n++] = (hm_verb_value){field, f->vals[i]};
	}
	req->nvalues = n;
}

/* Whether msg names field as a word ("a new notice needs its audience"). */
static bool names_field(const char *msg, const char *field)
{
	size_t n = strlen(field);

	for (const char *p = strstr(msg, field); p; p = strstr(p + 1, field))
		if ((p == msg || p[-1] == ' ') && (!p[n] || strchr(" ,.;:)", p[n])))
			return true;
	return false;
}

/* The field a refusal of the verb is about: the one it names first ("quantity: ..."), the one
 * whose value it quotes ("unknown store 's-x'"), or an empty one it names ("needs its
 * audience"); -1 when none. */
static int refused_field(const web_form *f, const char *msg)
{
	char quoted[HM_STR_MAX + 8], word[HM_NAME_MAX + 1];
	const char *rest;

	if (web_reason_field(msg, word, sizeof(word), &rest) && rest != msg)
		for (size_t i = 0; i < nfields(f); i++)
			if (!strcmp(word, f->fields[i].field))
				return (int)i;
	for (size_t i = 0; i < nfields(f); i++) {
		size_t n = strlen(f->fields[i].field);
		if (!strncmp(msg, f->fields[i].field, n) && msg[n] == ':')
			return (int)i;
	}
	for (size_t i = 0; i < nfields(f); i++) {
		if (!f->vals[i][0])
			continue;
		snprintf(quoted, sizeof(quoted), "'%s'", f->vals[i]);
		if (strstr(msg, quoted))
			return (int)i;
		/* a Chinese reason quotes as “...” */
		snprintf(quoted, sizeof(quoted), "\xe2\x80\x9c%s\xe2\x80\x9d", f->vals[i]);
		if (strstr(msg, quoted))
			return (int)i;
	}
	for (size_t i = 0; i < nfields(f); i++)
		if (!f->vals[i][0] && names_field(msg, f->fields[i].field))
			return (int)i;
	return -1;
}

hm_err web_form_post(web_req *r, web_form *f)
{
	hm_verb_value vals[WEB_FORM_FIELDS + 2];
	const char *msg;
	hm_verb_req req;
	hm_err err;
	int at;

	f->posted = true;
	if ((err = take_values(r, f)) || (err = check_values(r, f)) || f->refused)
		return err;
	make_req(f, vals, &req);
	err = hm_verb_run(&r->led, f->v, &req, &f->res);
	if (!err) /* written: the form is empty again for the next one */
		for (size_t i = 0; i < WEB_FORM_FIELDS; i++)
			free(f->vals[i]), f->vals[i] = NULL;
	if (err != HM_ERR_NOT_FOUND && err != HM_ERR_EXISTS && err != HM_ERR_TYPE &&
	    err != HM_ERR_INVALID && err != HM_ERR_SCHEMA)
		return err; /* written, or the store failed: the server's error page */
	f->refused = true;
	msg = hm_node_errmsg(r->led.node);
	if ((at = refused_field(f, msg)) >= 0)
		return set_err(r, f, (size_t)at, msg);
	snprintf(f->error, sizeof(f->error), "%s", msg);
	return HM_OK;
}

/* ---- writing the form ---- */

static void input_id(web_req *r, const web_form *f, const char *field)
{
	web_raw(r, "f-");
	web_esc(r, f->v->cmd);
	web_raw(r, "-");
	web_esc(r, f->v->sub);
	web_raw(r, "-");
	web_esc(r, field);
}

/* name="FIELD" id="..." and, when set, required and the error's marks. */
static void input_attrs(web_req *r, const web_form *f, size_t i)
{
	web_raw(r, " name=\"");
	web_esc(r, f->fields[i].field);
	web_raw(r, "\" id=\"");
	input_id(r, f, f->fields[i].field);
	web_raw(r, "\"");
	if (required(f, i))
		web_raw(r, " required");
	if (f->errs[i]) {
		web_raw(r, " class=\"invalid\" aria-invalid=\"true\" aria-describedby=\"");
		input_id(r, f, f->fields[i].field);
		web_raw(r, "-err\"");
	}
}

static void option(web_req *r, const char *value, const char *label, bool selected)
{
	web_raw(r, "<option value=\"");
	web_esc(r, value);
	web_raw(r, selected ? "\" selected>" : "\">");
	web_esc(r, label);
	web_raw(r, "</option>");
}

/* A <select> of the choices of a pick, or of a field's words ("a|b|c"); a value posted that is
 * none of them stays, as its own option. */
static void select_write(web_req *r, const web_form *f, size_t i, const web_pick *p,
                         const hm_field_def *d)
{
	const char *val = f->vals[i] ? f->vals[i] : "", *field = f->fields[i].field;
	bool found = !val[0];

	web_raw(r, "<select");
	input_attrs(r, f, i);
	web_raw(r, ">");
	option(r, "", web_t(r, "(choose)"), !val[0]);
	for (size_t k = 0; p && k < p->n; k++) {
		bool sel = !strcmp(val, p->v[k].value);
		option(r, p->v[k].value, p->v[k].label, sel), found |= sel;
	}
	for (const char *w = p ? NULL : d->help; w && *w;) {
		char word[64];
		size_t n = strcspn(w, "|");
		snprintf(word, sizeof(word), "%.*s", (int)n, w);
		const char *shown = web_value_word(r, f->v->collection, field, word);
		bool sel =
		    !strcmp(val, word) || !strcmp(val, shown) ||
		    (d && hm_ledger_word_zh(d, word) && !strcmp(val, hm_ledger_word_zh(d, word)));
		option(r, word, shown, sel), found |= sel;
		w = w[n] ? w + n + 1 : NULL;
	}
	if (!found)
		option(r, val, val, true);
	web_raw(r, "</select>");
}

/* Whether val is a time as the browser's picker writes it: YYYY-MM-DDTHH:MM. */
static bool picker_time(const char *val)
{
	char date[11];

	if (strlen(val) != 16 || val[10] != 'T' || val[13] != ':')
		return false;
	memcpy(date, val, 10), date[10] = 0;
	return hm_date_valid(date);
}

/* The input of a date or time as the browser's picker, unless the value kept is written as a
 * clerk may type it (2026/12/6): then as text, so it stays as typed. */
static const char *input_type(const hm_field_def *d, const char *val)
{
	if (d && d->type == HM_T_DATE && (!val[0] || hm_date_valid(val)))
		return N_("date");
	if (d && d->type == HM_T_TIME && (!val[0] || picker_time(val)))
		return "datetime-local";
	if (d && (d->type == HM_T_INT || d->type == HM_T_FLOAT))
		return d->type == HM_T_INT ? "text\" inputmode=\"numeric"
		                           : "text\" inputmode=\"decimal";
	return "text";
}

static void input_write(web_req *r, const web_form *f, size_t i, const hm_field_def *d)
{
	const char *val = f->vals[i] ? f->vals[i] : "";

	if (!strcmp(f->fields[i].field, "reject")) {
		web_raw(r, "<input type=\"checkbox\" value=\"1\"");
		input_attrs(r, f, i);
		web_raw(r, val[0] ? " checked>" : ">");
	} else if (f->fields[i].flags & WEB_FF_TEXTAREA) {
		web_raw(r, "<textarea rows=\"3\" cols=\"40\"");
		input_attrs(r, f, i);
		web_raw(r, ">");
		web_esc(r, val);
		web_raw(r, "</textarea>");
	} else {
		web_raw(r, "<input type=\"");
		web_raw(r, input_type(d, val));
		web_raw(r, "\"");
		input_attrs(r, f, i);
		if (pick_of(f, f->fields[i].field)) {
			web_raw(r, " list=\"");
			input_id(r, f, f->fields[i].field);
			web_raw(r, "-list\"");
		}
		web_raw(r, " value=\"");
		web_esc(r, val);
		web_raw(r, "\">");
	}
}

/* The suggestions of a pick as a <datalist> for its input. */
static void datalist_write(web_req *r, const web_form *f, const web_pick *p)
{
	web_raw(r, "<datalist id=\"");
	input_id(r, f, p->field);
	web_raw(r, "-list\">");
	for (size_t k = 0; k < p->n; k++)
		option(r, p->v[k].value, p->v[k].label, false);
	web_raw(r, "</datalist>");
}

static void field_write(web_req *r, const web_form *f, size_t i)
{
	const hm_collection_def *cd = hm_schema_collection(f->v->collection);
	const char *field = f->fields[i].field;
	const hm_field_def *d = hm_schema_field(cd, field);
	const web_pick *p = pick_of(f, field);

	web_raw(r, "<p class=\"field\"><label for=\"");
	input_id(r, f, field);
	web_raw(r, "\">");
	web_esc(r, web_t(r, web_field_label(strcmp(field, "id") ? field : f->v->collection)));
	web_raw(r, required(f, i) ? " *</label><br>" : "</label><br>");
	if ((p && !p->suggest) || (!p && d && d->help && strchr(d->help, '|')))
		select_write(r, f, i, p, d);
	else
		input_write(r, f, i, d);
	if (p && p->suggest)
		datalist_write(r, f, p);
	if (f->errs[i]) {
		web_raw(r, " <span class=\"row-error\" id=\"");
		input_id(r, f, field);
		web_raw(r, "-err\">");
		web_esc(r, f->errs[i]);
		web_raw(r, "</span>");
	}
	web_raw(r, "</p>\n");
}

static void outcome_write(web_req *r, const web_form *f)
{
	char msg[1200];

	if (f->saved[0]) {
		snprintf(msg, sizeof(msg), "%s %s%s%s", web_t(r, "Saved:"), f->saved,
		         f->res.note[0] ? ". " : "", f->res.note);
		web_notice(r, "ok", msg);
		if (f->res.warning[0])
			web_notice(r, "error", f->res.warning);
	}
	if (!f->posted)
		return;
	if (!f->refused) {
		snprintf(msg, sizeof(msg), "%s %s%s%s", web_t(r, "Saved:"), f->res.id,
		         f->res.note[0] ? ". " : "", f->res.note);
		web_notice(r, "ok", msg);
		if (f->res.warning[0])
			web_notice(r, "error", f->res.warning);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s", web_t(r, "Nothing was saved:"),
	         f->error[0] ? f->error : web_t(r, "see the fields marked below."));
	web_notice(r, "error", msg);
}

void web_form_write(web_req *r, const web_form *f)
{
	web_raw(r, "<section class=\"verb noprint\">");
	if (f->title) {
		web_raw(r, "<h2>");
		web_esc(r, web_t(r, f->title));
		web_raw(r, "</h2>");
	}
	outcome_write(r, f);
	web_form_begin(r, f->action);
	web_raw(r, "<input type=\"hidden\" name=\"verb\" value=\"");
	web_esc(r, f->v->cmd);
	web_raw(r, " ");
	web_esc(r, f->v->sub);
	web_raw(r, "\">\n");
	for (size_t i = 0; i < nfields(f); i++)
		field_write(r, f, i);
	web_raw(r, "<p><button type=\"submit\">");
	web_esc(r, web_t(r, f->button));
	web_raw(r, "</button></p>");
	web_form_end(r);
	web_raw(r, "</section>\n");
}

/* ---- after a save: 303 to the page, the outcome named in words ---- */

bool web_form_done(web_req *r, const web_form *f, const char *page)
{
	char to[1024], id[3 * HM_ID_MAX + 1];

	if (!f->posted || f->refused || !web_query_encode(f->res.id, id, sizeof(id)))
		return false;
	snprintf(to, sizeof(to), "%s?saved=%s-%s&id=%s", page, f->v->cmd, f->v->sub, id);
	if (r->sess && (f->res.note[0] || f->res.warning[0])) {
		char key[sizeof(id) + 96];
		snprintf(key, sizeof(key), "%s-%s %s", f->v->cmd, f->v->sub, f->res.id);
		web_session_flash_set(r->sess, key, f->res.note, f->res.warning);
	}
	web_redirect(r, to);
	web_log(r, "info", "%s: %s %s %s", r->user ? r->user->name : "-", f->v->cmd, f->v->sub,
	        f->res.id);
	return true;
}

/* Appends the words to out (cap bytes), a space before them unless out is empty. */
static void say(char *out, size_t cap, const char *words)
{
	size_t n = strlen(out), w = words ? strlen(words) : 0;

	if (!w || n + 1 >= cap)
		return;
	if (n)
		out[n++] = ' ';
	if (w > cap - n - 1) { /* cut to fit, at a character's start */
		w = cap - n - 1;
		while (w && ((unsigned char)words[w] & 0xC0) == 0x80)
			w--;
	}
	memcpy(out + n, words, w);
	out[n + w] = '\0';
}

/* The name of the person id names (read from the store), or the id. */
static void person_name(web_req *r, const char *id, char *out, size_t cap)
{
	hm_record *p = NULL;

	if (hm_node_get(r->led.node, N_("person"), id, &p) || !hm_rec_text(p, "name", out, cap))
		snprintf(out, cap, "%s", id);
	hm_record_free(p);
}

/* A movement of stock: the item, the quantity and its unit; a count also the correction. */
static void stock_words(web_req *r, const hm_record *rec, char *out, size_t cap)
{
	char item[HM_STR_MAX + 1], unit[64], mv[32], num[64];
	int64_t q = hm_rec_int(rec, "quantity", 0);

	hm_rec_text(rec, "item", item, sizeof(item));
	hm_rec_text(rec, "unit", unit, sizeof(unit));
	hm_rec_text(rec, "movement", mv, sizeof(mv));
	say(out, cap, web_value_word(r, "stock_txn", "movement", mv));
	say(out, cap, item);
	if (!strcmp(mv, "counted")) {
		snprintf(num, sizeof(num), "%lld", (long long)hm_rec_int(rec, "counted_as", 0));
		say(out, cap, num);
		say(out, cap, web_t(r, "corrected by"));
		snprintf(num, sizeof(num), "%+lld", (long long)q);
	} else
		snprintf(num, sizeof(num), "%lld", (long long)q);
	say(out, cap, num);
	if (unit[0])
		say(out, cap, web_value_word(r, "stock_txn", "unit", unit));
}

/* The record rec of coll in words: who or what it is about, never its id alone. */
static void record_words(web_req *r, const char *coll, const hm_record *rec, char *out, size_t cap)
{
	char a[HM_STR_MAX + 1], b[HM_ID_MAX + 1];

	out[0] = 0;
	if (!strcmp(coll, "stock_txn")) {
		stock_words(r, rec, out, cap);
	} else if (!strcmp(coll, "followup") && hm_rec_text(rec, N_("person"), b, sizeof(b))) {
		say(out, cap, web_t(r, "a follow-up of"));
		person_name(r, b, a, sizeof(a));
		say(out, cap, a);
	} else if (!strcmp(coll, "exposure") && hm_rec_text(rec, "contact", b, sizeof(b))) {
		say(out, cap, web_t(r, "a contact:"));
		person_name(r, b, a, sizeof(a));
		say(out, cap, a);
	} else if (!strcmp(coll, "tip")) {
		say(out, cap, web_t(r, "the tip"));
		say(out, cap, hm_rec_text(rec, "subject", a, sizeof(a)));
		snprintf(a, sizeof(a), "(%s)", rec->id); /* its number, for verifying and paying */
		say(out, cap, a);
	} else if (!strcmp(coll, "notice") && hm_rec_text(rec, "compound", a, sizeof(a))) {
		say(out, cap, web_t(r, "a notice to"));
		say(out, cap, a);
	}
	if (!out[0])
		snprintf(out, cap, "%s", rec->id);
}

/* The warning a movement out gave when it was written, said again from the books as they are
 * now (the redirect carries no message): the item below zero at its store. */
static void stock_warning(web_req *r, const hm_record *rec, char *out, size_t cap)
{
	char item[HM_STR_MAX + 1], store[HM_ID_MAX + 1], mv[32];
	int64_t q;

	hm_rec_text(rec, "movement", mv, sizeof(mv));
	if (strcmp(mv, "issued") && strcmp(mv, "consumed") && strcmp(mv, "transfer"))
		return;
	if (!hm_rec_text(rec, "item", item, sizeof(item)) ||
	    !hm_rec_text(rec, "store", store, sizeof(store)) ||
	    hm_stock_on_hand(&r->led, item, store, &q) || q >= 0)
		return;
	snprintf(out, cap, web_t(r, "%s at %s: the books now hold %lld, below zero; count it."),
	         item, store, (long long)q);
}

/* What the save said that its record does not (kept in the session by web_form_done): its note,
 * and its warning unless the page made one of its own. */
static void flash_take(web_req *r, web_form *f, const char *saved, const char *id)
{
	char key[HM_ID_MAX + 160], warning[sizeof(f->res.warning)];

	if (!r->sess)
		return;
	snprintf(key, sizeof(key), "%s %s", saved, id);
	if (web_session_flash_take(r->sess, key, f->res.note, sizeof(f->res.note), warning,
	                           sizeof(warning)) &&
	    !f->res.warning[0])
		memcpy(f->res.warning, warning, sizeof(warning));
}

void web_form_outcome(web_req *r, web_form *forms, size_t n)
{
	const char *saved = web_arg(r, "saved"), *id = web_arg(r, "id"), *why;
	char verb[64];
	hm_record *rec = NULL;

	if (!saved || !id || hm_id_check(id, &why))
		return;
	for (size_t i = 0; i < n; i++) {
		web_form *f = &forms[i];
		snprintf(verb, sizeof(verb), "%s-%s", f->v->cmd, f->v->sub);
		if (strcmp(verb, saved) || hm_node_get(r->led.node, f->v->collection, id, &rec))
			continue;
		record_words(r, f->v->collection, rec, f->saved, sizeof(f->saved));
		if (!strcmp(f->v->collection, "stock_txn"))
			stock_warning(r, rec, f->res.warning, sizeof(f->res.warning));
		hm_record_free(rec);
		flash_take(r, f, saved, id);
		return;
	}
}
