/*
 * page_today.c - the clerk's and doctor's day (hm_today_build over the station's village):
 * /today, who is due this morning and this evening, who is overdue, who had a fever, whose
 * isolation ends today, grouped per compound or per worker; the due list of one slot is also
 * the form (POST /today: every row typed saved in one write by hm_followup_batch, or nothing,
 * each bad row's reason beside it and every value typed kept); /today/print, the same persons
 * on A4 sheets, one group a sheet, with boxes to write temperatures in.
 *
 * Names are shown in clear to a user with HM_RIGHT_NAMES, the reveal recorded in the access log
 * under the user's name before anything is shown (as hm_today_build asks).
 *
 * The form's fields are named by the person: t:ID (temperature), m:ID (method), s:ID
 * (symptoms); a row is sent when its temperature or symptoms are typed. At most TODAY_FORM_MAX
 * rows are in one form (a POST takes WEB_FIELDS_MAX fields): once they are saved they are no
 * longer due and the next ones come.
 */
#include "web_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TODAY_FORM_MAX 150

/* Today as the page shows it: the rows in the order of the grouping. */
typedef struct today_view {
	const hm_today *t;          /* the cache's (web/cache.c), or own */
	hm_today *own;              /* when the cache could not keep it */
	const hm_today_row **order; /* t.n rows, grouped */
	bool by_worker;             /* grouped per worker, else per compound */
	const char *slot;           /* "morning" | "evening": the form's */
} today_view;

/* What a POST sent and what the batch said of each row. */
typedef struct today_post {
	hm_check_row *rows;
	char (*errs)[HM_CHECK_WHY];
	size_t n, bad;
} today_post;

static const char *group_of(const today_view *v, const hm_today_row *row)
{
	return v->by_worker ? row->worker : row->compound;
}

/* Per worker: by worker (the unknown last), then in Today's order (compound, household,
 * name): the rows' own addresses keep it, qsort being unstable. */
static int worker_cmp(const void *a, const void *b)
{
	const hm_today_row *x = *(const hm_today_row *const *)a;
	const hm_today_row *y = *(const hm_today_row *const *)b;
	int c = (x->worker[0] == 0) - (y->worker[0] == 0);

	if (!c)
		c = strcmp(x->worker, y->worker);
	return c ? c : (x > y) - (x < y);
}

/* Whether row waits for a check in slot: one check a day (checks_per_day 1) is due in either
 * slot until it is taken (Today's due_morning says so). */
static bool due_in(const hm_today_row *row, const char *slot)
{
	if (!strcmp(slot, "morning"))
		return row->due_morning;
	return row->due_evening || (row->checks_per_day == 1 && row->due_morning);
}

/* The slot asked for, or the one of now, as `followup add` sets a check's slot. */
static const char *slot_of(web_req *r, const char *asked)
{
	if (asked && (!strcmp(asked, "morning") || !strcmp(asked, "evening")))
		return !strcmp(asked, "morning") ? "morning" : "evening";
	return hm_ledger_slot_now(&r->led);
}

static void today_release(void *t)
{
	hm_today_free(t);
	free(t);
}

/* Today over the station's own region on today's date, built once for each state of the store
 * (web/cache.c): *out the cache's, or *own (then the caller's) when the cache cannot keep it. */
static hm_err today_get(web_req *r, bool reveal, const hm_today **out, hm_today **own)
{
	uint64_t stamp = hm_node_stamp(r->led.node);
	char key[48], date[11];
	hm_today *t;
	hm_err err;

	hm_ledger_today(&r->led, date);
	snprintf(key, sizeof(key), "today %s %d", date, reveal);
	if ((*out = web_cache_get(web_cache_of(r), key, stamp)))
		return HM_OK;
	if (!(t = calloc(1, sizeof(*t))))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if ((err = hm_today_build(&r->led, NULL, date, reveal, t))) {
		free(t);
		return err;
	}
	if (!web_cache_put(web_cache_of(r), key, stamp, t, sizeof(*t) + t->n * sizeof(*t->rows),
	                   true, today_release))
		*own = t;
	*out = t;
	return HM_OK;
}

/* Today over the station's own region, its names revealed to who may see them (the access log
 * first), in the grouping's order. Release with view_release, also on failure. */
static hm_err view_load(web_req *r, const char *by, const char *slot, today_view *v)
{
	bool reveal = web_may(r, HM_RIGHT_NAMES);
	char what[HM_REGION_MAX + 32];
	hm_err err;

	memset(v, 0, sizeof(*v));
	v->by_worker = by && !strcmp(by, "worker");
	v->slot = slot_of(r, slot);
	if ((err = today_get(r, reveal, &v->t, &v->own)))
		return err;
	if (reveal && v->t->n) {
		snprintf(what, sizeof(what), "today %s %s", v->t->region, v->t->date);
		if ((err = web_record_access(r, "reveal", what, v->t->n)))
			return err;
	}
	if (!(v->order = calloc(v->t->n ? v->t->n : 1, sizeof(*v->order))))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < v->t->n; i++)
		v->order[i] = &v->t->rows[i];
	if (v->by_worker)
		qsort(v->order, v->t->n, sizeof(*v->order), worker_cmp);
	return HM_OK;
}

static void view_release(today_view *v)
{
	if (v->own)
		today_release(v->own);
	free(v->order);
}

/* The link to path with the view's grouping and slot, by and slot replaced when not NULL. */
static void view_link(web_req *r, const today_view *v, const char *path, const char *by,
                      const char *slot)
{
	web_raw(r, path);
	web_raw(r, "?by=");
	web_raw(r, by ? by : v->by_worker ? "worker" : "compound");
	web_raw(r, "&amp;slot=");
	web_raw(r, slot ? slot : v->slot);
}

/* A switch link: bold and not a link when it is the current choice. */
static void switch_link(web_req *r, const today_view *v, const char *path, const char *by,
                        const char *slot, bool on, const char *label)
{
	if (on) {
		web_raw(r, "<strong>");
		web_esc(r, web_t(r, label));
		web_raw(r, "</strong>");
		return;
	}
	web_raw(r, "<a href=\"");
	view_link(r, v, path, by, slot);
	web_raw(r, "\">");
	web_esc(r, web_t(r, label));
	web_raw(r, "</a>");
}

/* The grouping switch (per compound, per worker): on /today and /today/print. */
static void group_switch(web_req *r, const today_view *v, const char *path)
{
	web_raw(r, "<span>");
	web_esc(r, web_t(r, "Group"));
	web_raw(r, ": ");
	switch_link(r, v, path, "compound", NULL, !v->by_worker, N_("per compound"));
	web_raw(r, " | ");
	switch_link(r, v, path, "worker", NULL, v->by_worker, N_("per worker"));
	web_raw(r, "</span>");
}

/* The heading of a group: its compound or worker, or that none is known. */
static void group_name(web_req *r, const today_view *v, const char *g)
{
	web_esc(r, web_t(r, v->by_worker ? "Worker" : "Compound"));
	web_raw(r, ": ");
	if (g[0])
		web_esc(r, g);
	else
		web_esc(r, web_t(r, v->by_worker ? "no worker named" : N_("no compound given")));
}

/* The marks of a row: overdue (with the checks missed), fever, isolation ends today. */
static void flags(web_req *r, const hm_today_row *row)
{
	if (row->overdue) {
		web_raw(r, "<span class=\"flag overdue\">");
		web_esc(r, web_t(r, "Overdue"));
		web_rawf(r, " %d</span> ", row->missed);
	}
	if (row->fever) {
		web_raw(r, "<span class=\"flag fever\">");
		web_esc(r, web_t(r, "Fever"));
		web_raw(r, "</span> ");
	}
	if (row->ends_today) {
		web_raw(r, "<span class=\"flag ends\">");
		web_esc(r, web_t(r, "Isolation ends today"));
		web_raw(r, "</span>");
	}
}

/* The last temperature and when: the hour alone when it is of date, else "MM-DD HH:MM". */
static void last_temp(web_req *r, const hm_today_row *row, const char *date)
{
	char when[sizeof(row->last_time)];
	const char *t = row->last_time;

	if (isnan(row->last_temp)) {
		web_raw(r, "-");
		return;
	}
	if (strlen(t) >= 16 && t[10] == 'T')
		snprintf(when, sizeof(when), "%.5s%s%.5s", strncmp(t, date, 10) ? t + 5 : "",
		         strncmp(t, date, 10) ? " " : "", t + 11);
	else
		snprintf(when, sizeof(when), "%s", t);
	web_rawf(r, "%.1f <small>", row->last_temp);
	web_esc(r, when);
	web_raw(r, "</small>");
}

/* The row's name, a link to the person's page. */
static void person_link(web_req *r, const hm_today_row *row)
{
	web_raw(r, "<a href=\"/person/");
	web_esc_query(r, row->person);
	web_raw(r, "\">");
	web_esc(r, row->name);
	web_raw(r, "</a>");
}

/* The value POSTed in field PREFIX:ID, or NULL (a GET, or none). */
static const char *posted(const web_req *r, const char *prefix, const char *person)
{
	char key[HM_ID_MAX + 8];

	if (snprintf(key, sizeof(key), "%s:%s", prefix, person) >= (int)sizeof(key))
		return NULL;
	return web_field_get(r, key);
}

/* An input or select of the form's row for person: name PREFIX:ID. */
static void field_name(web_req *r, const char *prefix, const char *person)
{
	web_raw(r, " name=\"");
	web_esc(r, prefix);
	web_raw(r, ":");
	web_esc(r, person);
	web_raw(r, "\"");
}

/* The reason the batch gave for person's row, or NULL. */
static const char *row_error(const today_post *p, const char *person)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->errs[i][0] && !strcmp(p->rows[i].person, person))
			return p->errs[i];
	return NULL;
}

/* One row of the form: the person, then temperature, method and symptoms, the values typed
 * kept, the row's reason beside it when the batch refused it. */
static void form_row(web_req *r, const today_view *v, const hm_today_row *row, const today_post *p)
{
	const char *why = row_error(p, row->person);
	char key[HM_ID_MAX + 8];

	web_raw(r, why ? "<tr class=\"bad\"><td>" : "<tr><td>");
	person_link(r, row);
	web_raw(r, "</td><td>");
	if (v->by_worker) {
		web_esc(r, row->compound);
		web_raw(r, " ");
	}
	web_esc(r, row->household);
	web_raw(r, "</td><td>");
	web_esc(r, web_word(r, "episode", "kind", row->kind));
	web_raw(r, "</td><td>");
	flags(r, row);
	web_raw(r, "</td><td class=\"num\">");
	last_temp(r, row, v->t->date);
	web_raw(r, "</td><td><input class=\"temp\" inputmode=\"decimal\" size=\"5\"");
	field_name(r, "t", row->person);
	web_raw(r, " value=\"");
	web_esc(r, posted(r, "t", row->person));
	web_raw(r, "\"></td><td>");
	snprintf(key, sizeof(key), "m:%s", row->person);
	web_word_select(r, key, "followup", "method", NULL, posted(r, "m", row->person), false);
	web_raw(r, "</td><td><input size=\"12\"");
	field_name(r, "s", row->person);
	web_raw(r, " value=\"");
	web_esc(r, posted(r, "s", row->person));
	web_raw(r, "\"></td><td class=\"row-error\">");
	if (why) { /* beside its row, the field's name goes without saying */
		const char *rest;
		char word[HM_NAME_MAX + 1];
		web_reason_field(why, word, sizeof(word), &rest);
		web_esc(r, rest);
	}
	web_raw(r, "</td></tr>\n");
}

static void form_head(web_req *r, const today_view *v)
{
	static const char *const cols[] = {
	    N_("Isolation"), N_("Marks"), N_("Last temp"), "Temperature", "Method", "Symptoms", ""};

	web_raw(r, "<table class=\"due\"><thead><tr><th>");
	web_esc(r, web_t(r, "Name"));
	web_raw(r, "</th><th>");
	web_esc(r, web_t(r, v->by_worker ? "Compound and household" : "Household"));
	web_raw(r, "</th>");
	web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
	web_raw(r, "</tr></thead><tbody>\n");
}

/* The due list of the view's slot, as the form: a heading row per group. */
static void due_form(web_req *r, const today_view *v, const today_post *p)
{
	const char *group = NULL;
	size_t shown = 0;

	web_form_begin(r, "/today");
	web_raw(r, "<input type=\"hidden\" name=\"slot\" value=\"");
	web_raw(r, v->slot);
	web_raw(r, "\"><input type=\"hidden\" name=\"by\" value=\"");
	web_raw(r, v->by_worker ? "worker" : "compound");
	web_raw(r, "\">");
	form_head(r, v);
	for (size_t i = 0; i < v->t->n && shown < TODAY_FORM_MAX; i++) {
		const hm_today_row *row = v->order[i];

		if (!due_in(row, v->slot))
			continue;
		if (!group || strcmp(group, group_of(v, row))) {
			group = group_of(v, row);
			web_raw(r, "<tr class=\"group\"><th colspan=\"9\">");
			group_name(r, v, group);
			web_raw(r, "</th></tr>\n");
		}
		form_row(r, v, row, p);
		shown++;
	}
	web_raw(r, "</tbody></table>\n<p><button type=\"submit\">");
	web_esc(r, web_t(r, "Save all"));
	web_raw(r, "</button> ");
	web_esc(r,
	        web_t(r, "Rows left empty are not saved; if any row is wrong, nothing is saved."));
	web_raw(r, "</p>");
	web_form_end(r);
}

/* How many rows of v mark what (0 due in the morning, 1 in the evening, 2 overdue, 3 fever,
 * 4 ends today). */
static size_t count(const today_view *v, int what)
{
	size_t n = 0;

	for (size_t i = 0; i < v->t->n; i++) {
		const hm_today_row *row = &v->t->rows[i];
		n += what == 0   ? due_in(row, "morning")
		     : what == 1 ? due_in(row, "evening")
		     : what == 2 ? row->overdue
		     : what == 3 ? row->fever
		                 : row->ends_today;
	}
	return n;
}

/* The day in figures, and the switches: the slot of the form, the grouping, print, register. */
static void summary(web_req *r, const today_view *v)
{
	static const char *const what[] = {N_("Due this morning"), "Due this evening", "Overdue",
	                                   "Fever", "Isolation ends today"};

	web_raw(r, "<p class=\"counts\">");
	web_esc(r, v->t->date);
	web_raw(r, " &middot; ");
	web_esc(r, web_t(r, "Under monitoring"));
	web_rawf(r, " <b>%zu</b>", v->t->n);
	for (int i = 0; i < 5; i++) {
		web_raw(r, " &middot; ");
		web_esc(r, web_t(r, what[i]));
		web_rawf(r, " <b>%zu</b>", count(v, i));
	}
	web_raw(r, "</p>\n<p class=\"today-switch noprint\"><span>");
	web_esc(r, web_t(r, "Enter the checks of"));
	web_raw(r, ": ");
	switch_link(r, v, "/today", NULL, "morning", !strcmp(v->slot, "morning"),
	            N_("this morning"));
	web_raw(r, " | ");
	switch_link(r, v, "/today", NULL, "evening", !strcmp(v->slot, "evening"),
	            N_("this evening"));
	web_raw(r, "</span>");
	group_switch(r, v, "/today");
	web_raw(r, "<a href=\"");
	view_link(r, v, "/today/print", NULL, NULL);
	web_raw(r, "\">");
	web_esc(r, web_t(r, "Print the list"));
	web_raw(r, "</a>");
	if (web_may(r, HM_RIGHT_REGISTER)) {
		web_raw(r, "<a href=\"/register\">");
		web_esc(r, web_t(r, "Register a returnee"));
		web_raw(r, "</a>");
	}
	web_raw(r, "</p>\n");
}

/* A short list of the rows that mark what (2 overdue, 3 fever, 4 ends today), if any. */
static void mark_list(web_req *r, const today_view *v, int what, const char *title)
{
	if (!count(v, what))
		return;
	web_raw(r, "<section class=\"marks\"><h2>");
	web_esc(r, web_t(r, title));
	web_raw(r, "</h2><ul>");
	for (size_t i = 0; i < v->t->n; i++) {
		const hm_today_row *row = v->order[i];

		if (!(what == 2 ? row->overdue : what == 3 ? row->fever : row->ends_today))
			continue;
		web_raw(r, "<li>");
		person_link(r, row);
		web_raw(r, " <small>");
		web_esc(r, row->compound);
		web_raw(r, " ");
		web_esc(r, row->household);
		web_raw(r, "</small> &middot; ");
		if (what == 2) {
			web_rawf(r, "%d ", row->missed);
			web_esc(r, web_t(r, "checks missed"));
		} else if (what == 3)
			last_temp(r, row, v->t->date);
		else
			web_esc(r, web_word(r, "episode", "kind", row->kind));
		web_raw(r, "</li>");
	}
	web_raw(r, "</ul></section>\n");
}

/* Whether person has a row in the form of v (then its reason is shown beside it). */
static bool in_form(const today_view *v, const char *person)
{
	for (size_t i = 0; i < v->t->n; i++)
		if (!strcmp(v->t->rows[i].person, person))
			return due_in(&v->t->rows[i], v->slot);
	return false;
}

/* The reasons of refused rows that have no row in the form (a person no longer due). */
static void other_errors(web_req *r, const today_view *v, const today_post *p)
{
	bool open = false;

	for (size_t i = 0; p && i < p->n; i++) {
		if (!p->errs[i][0] || in_form(v, p->rows[i].person))
			continue;
		web_raw(r, open ? "<li>" : "<ul class=\"row-error\"><li>");
		open = true;
		web_esc(r, p->rows[i].person);
		web_raw(r, ": ");
		web_esc(r, p->errs[i]);
		web_raw(r, "</li>");
	}
	if (open)
		web_raw(r, "</ul>\n");
}

/* /today: the outcome of what was just done (kind "ok" or "error", may be NULL), the day in
 * figures, the form of the slot's due list (p: what a POST typed and the batch's reasons, or
 * NULL), then who is overdue, who had a fever, whose isolation ends today. */
static hm_err today_page(web_req *r, const char *by, const char *slot, const today_post *p,
                         const char *kind, const char *outcome)
{
	today_view v;
	size_t due;
	hm_err err;

	if ((err = view_load(r, by, slot, &v)))
		goto out;
	web_page_begin(r, "Today");
	if (outcome)
		web_notice(r, kind, outcome);
	other_errors(r, &v, p);
	summary(r, &v);
	due = count(&v, strcmp(v.slot, "morning") ? 1 : 0);
	web_raw(r, "<h2>");
	web_esc(r,
	        web_t(r, strcmp(v.slot, "morning") ? "Due this evening" : N_("Due this morning")));
	web_raw(r, "</h2>\n");
	if (!due) {
		web_raw(r, "<p>");
		web_esc(r, web_t(r, "No one waits for a check in this part of the day."));
		web_raw(r, "</p>\n");
	} else {
		due_form(r, &v, p);
	}
	if (due > TODAY_FORM_MAX) {
		web_raw(r, "<p>");
		web_rawf(r, "%zu ", due - TODAY_FORM_MAX);
		web_esc(r,
		        web_t(r, "more are due: save these first, then the next ones are shown."));
		web_raw(r, "</p>\n");
	}
	mark_list(r, &v, 2, "Overdue");
	mark_list(r, &v, 3, "Fever");
	mark_list(r, &v, 4, "Isolation ends today");
	web_page_end(r);
out:
	view_release(&v);
	return err;
}

hm_err web_page_today(web_req *r)
{
	const char *saved = web_arg(r, "saved");
	char msg[200];

	if (saved && *saved && strlen(saved) < 6 && strspn(saved, "0123456789") == strlen(saved)) {
		snprintf(msg, sizeof(msg), "%s %s", web_t(r, "Checks saved:"), saved);
		return today_page(r, web_arg(r, "by"), web_arg(r, "slot"), NULL, "ok", msg);
	}
	return today_page(r, web_arg(r, "by"), web_arg(r, "slot"), NULL, NULL, NULL);
}

/* The rows the form sent (p->rows, p->errs: room for each): every t:ID whose temperature or
 * symptoms were typed, in slot. The values are borrowed from the request. */
static hm_err post_rows(web_req *r, const char *slot, today_post *p)
{
	p->rows = calloc(r->nfields + 1, sizeof(*p->rows));
	p->errs = calloc(r->nfields + 1, sizeof(*p->errs));
	if (!p->rows || !p->errs)
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < r->nfields; i++) {
		const char *name = r->fields[i].name, *t = r->fields[i].value, *s, *m;

		if (strncmp(name, "t:", 2))
			continue;
		s = posted(r, "s", name + 2), m = posted(r, "m", name + 2);
		if (!*t && !(s && *s))
			continue;
		p->rows[p->n++] = (hm_check_row){
		    .person = name + 2,
		    .slot = slot,
		    .temperature = *t ? t : NULL,
		    .method = m && *m ? m : NULL,
		    .symptoms = s && *s ? s : NULL,
		};
	}
	return HM_OK;
}

/* Back to /today after a save (303: a reload sends nothing twice), with how many were saved. */
static void saved(web_req *r, const char *by, const char *slot, size_t n)
{
	char to[96];

	snprintf(to, sizeof(to), "/today?by=%s&slot=%s&saved=%zu",
	         by && !strcmp(by, "worker") ? "worker" : "compound", slot, n);
	web_redirect(r, to);
	web_log(r, "info", "%s saved %zu checks (%s)", r->user->name, n, slot);
}

hm_err web_page_today_post(web_req *r)
{
	const char *slot = web_field_get(r, "slot"), *by = web_field_get(r, "by");
	today_post p = {0};
	char msg[300];
	hm_err err;

	if (!slot || (strcmp(slot, "morning") && strcmp(slot, "evening"))) {
		web_error(r, 400, "Choose the morning or the evening.", NULL);
		return HM_OK;
	}
	if ((err = post_rows(r, slot, &p)))
		goto out;
	if (!p.n) {
		err = today_page(r, by, slot, NULL, "error",
		                 web_t(r, "Nothing to save: type a temperature first."));
		goto out;
	}
	if (!(err = hm_followup_batch(&r->led, p.rows, p.n, p.errs, NULL))) {
		saved(r, by, slot, p.n);
		goto out;
	}
	for (size_t i = 0; i < p.n; i++)
		p.bad += p.errs[i][0] != 0;
	if (!p.bad) /* no row's fault (the store): a 500 page with the reason */
		goto out;
	web_log(r, "info", "%s: %s", r->user->name, hm_node_errmsg(r->led.node));
	snprintf(
	    msg, sizeof(msg), "%zu %s", p.bad,
	    web_t(r, "rows are not right, so nothing was saved: correct them and save again."));
	web_status(r, 400);
	err = today_page(r, by, slot, &p, "error", msg);
out:
	free(p.rows);
	free(p.errs);
	return err;
}

/* ---- /today/print ---- */

static void sheet_begin(web_req *r, const today_view *v, const char *group)
{
	static const char *const cols[] = {"Name",
	                                   "Compound and household",
	                                   N_("Isolation"),
	                                   N_("Ends"),
	                                   N_("Marks"),
	                                   N_("Morning temperature"),
	                                   N_("Evening temperature"),
	                                   N_("Symptoms, notes")};

	web_raw(r, "<section class=\"sheet\"><h2>");
	group_name(r, v, group);
	web_raw(r, "</h2><p class=\"sheet-meta\">");
	web_esc(r, v->t->region);
	web_raw(r, " &middot; ");
	web_esc(r, web_t(r, "Date"));
	web_raw(r, ": ");
	web_esc(r, v->t->date);
	web_raw(r, " &middot; ");
	web_esc(r, web_t(r, "Checked by"));
	web_raw(r, ": <span class=\"box wide\"></span></p>\n<table class=\"sheet\"><thead><tr>"
	           "<th class=\"num\">#</th>");
	web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
	web_raw(r, "</tr></thead><tbody>\n");
}

static void sheet_row(web_req *r, const hm_today_row *row, const char *date, size_t k)
{
	web_rawf(r, "<tr class=\"person\"><td class=\"num\">%zu</td><td>", k);
	web_esc(r, row->name);
	web_raw(r, "</td><td>");
	web_esc(r, row->compound);
	web_raw(r, " ");
	web_esc(r, row->household);
	web_raw(r, "</td><td>");
	web_esc(r, web_word(r, "episode", "kind", row->kind));
	web_raw(r, "</td><td>");
	/* the month and day, the year too when it is not this one's */
	web_esc(r, strncmp(row->planned_end, date, 5) ? row->planned_end : row->planned_end + 5);
	web_raw(r, "</td><td>");
	flags(r, row);
	web_raw(r, "</td><td><span class=\"box am\"></span></td>"
	           "<td><span class=\"box pm\"></span></td>"
	           "<td><span class=\"box wide\"></span></td></tr>\n");
}

/* The bar above the sheets, not printed: print, the grouping, back to Today. */
static void print_bar(web_req *r, const today_view *v)
{
	web_raw(r, "<p class=\"today-switch noprint\"><button type=\"button\" data-print>");
	web_esc(r, web_t(r, "Print"));
	web_raw(r, "</button>");
	group_switch(r, v, "/today/print");
	web_raw(r, "<a href=\"");
	view_link(r, v, "/today", NULL, NULL);
	web_raw(r, "\">");
	web_esc(r, web_t(r, "Back to Today"));
	web_raw(r, "</a></p>\n");
}

hm_err web_page_today_print(web_req *r)
{
	const char *group = NULL;
	today_view v;
	size_t k = 0;
	hm_err err;

	if ((err = view_load(r, web_arg(r, "by"), web_arg(r, "slot"), &v)))
		goto out;
	web_page_begin(r, "Temperature list");
	print_bar(r, &v);
	if (!v.t->n) {
		web_raw(r, "<p>");
		web_esc(r, web_t(r, "No one is under monitoring today."));
		web_raw(r, "</p>\n");
	}
	for (size_t i = 0; i < v.t->n; i++) {
		const hm_today_row *row = v.order[i];

		if (!group || strcmp(group, group_of(&v, row))) {
			if (group)
				web_raw(r, "</tbody></table></section>\n");
			group = group_of(&v, row);
			sheet_begin(r, &v, group);
			k = 0;
		}
		sheet_row(r, row, v.t->date, ++k);
	}
	if (group)
		web_raw(r, "</tbody></table></section>\n");
	web_page_end(r);
out:
	view_release(&v);
	return err;
}
