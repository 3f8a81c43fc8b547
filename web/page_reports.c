/*
 * page_reports.c - /reports: the six reports of the ledger (hm_report_names) for a township
 * officer and a county auditor (and a clerk, for the village), and /reports/NAME?region=...
 * &date=...: one report built by hm_report_build and written by the ledger itself
 * (hm_report_render_body: the body alone, the page's own style sheet), with a region picker
 * (the node's region, and its townships and villages as the report's rows name them),
 * drill-down links (a township or village row opens the same report for it; a person opens
 * /person/ID) and the names masked unless a user who may reveal asks (names=1, recorded in the
 * access log first). /reports/NAME.csv: the same report as a CSV file for Excel (a BOM and
 * Chinese headers, HM_REPORT_CSV_ZH), for a user who may export, recorded in the access log
 * under the user's name before a byte is sent.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#define REPORTS_PREFIX "/reports/"
#define REGIONS_MAX    4096 /* regions a picker lists */
/* Rows of each table a page shows (rows=N asks for another number, from ROWS_MIN to ROWS_MAX);
 * a table of more has pages (table=NAME&page=K); the CSV has every row. */
#define ROWS_DEFAULT 200
#define ROWS_MIN     10
#define ROWS_MAX     1000
#define PAGE_MAX     100000000L
/* A page's report holds the rows of this many windows at a time (hm_report_params.rows): a
 * county's lists run to tens of thousands of rows, which only the CSV wants whole. */
#define WINDOWS_HELD 2

/* What one report page asks, from its query. */
typedef struct report_ask {
	char name[16];
	const char *region, *date, *person;
	long days; /* 0: the report's default */
	bool names, csv;
	size_t rows;       /* rows of each table on a page */
	bool rows_asked;   /* rows= was given: the page's links keep it */
	const char *table; /* the table paged (table=), or NULL: each shows its first rows */
	size_t page;       /* that table's page, from 1 */
} report_ask;

/* What each report answers, for the index (English msgids). */
static const char *report_about(const char *name)
{
	static const char *const about[][2] = {
	    {"daily",
	     N_("Who is under monitoring, who started and ended today, returnees, fevers.")},
	    {"monitoring",
	     N_("Twice-daily checks done, phone-only checks, persons not seen, fevers.")},
	    {"contacts", N_("The contacts of each person, contacts not listed, chains.")},
	    {"supplies", N_("Stock on hand, daily use, days of cover, shipments, interceptions.")},
	    {"compounds",
	     N_("Persons per compound; compounds whose property or residents were not told.")},
	    {"rewards", N_("Penalties per village; tips verified, rewards owed and paid.")},
	};
	for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++)
		if (!strcmp(about[i][0], name))
			return about[i][1];
	return "";
}

/* The report's title as the ledger names it (English msgid), without building it. */
static const char *report_title(const char *name)
{
	static const char *const titles[][2] = {
	    {"daily", "Daily report"},         {"monitoring", "Monitoring report"},
	    {"contacts", "Contacts report"},   {"supplies", "Supplies report"},
	    {"compounds", "Compounds report"}, {"rewards", "Rewards and penalties report"},
	};
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (!strcmp(titles[i][0], name))
			return titles[i][1];
	return name;
}

hm_err web_page_reports(web_req *r)
{
	const char *const *names = hm_report_names();

	web_page_begin(r, "Reports");
	web_raw(r, "<ul class=\"reports\">\n");
	for (size_t i = 0; names[i]; i++) {
		web_raw(r, "<li><a href=\"" REPORTS_PREFIX);
		web_esc_query(r, names[i]);
		web_raw(r, "\">");
		web_esc(r, web_t(r, report_title(names[i])));
		web_raw(r, "</a><br><span class=\"about\">");
		web_esc(r, web_t(r, report_about(names[i])));
		web_raw(r, "</span></li>\n");
	}
	web_raw(r, "</ul>\n");
	if (web_may(r, HM_RIGHT_QUESTIONS)) {
		web_raw(r, "<p><a href=\"/questions\">");
		web_esc(r, web_t(r, "Questions to answer: identities, duplicates, conflicts"));
		web_raw(r, "</a></p>\n");
	}
	web_page_end(r);
	return HM_OK;
}

/* ---- the region picker ---- */

/* The regions a picker lists, sorted, each once. */
typedef struct regions {
	const char *scope;
	char (*v)[HM_REGION_MAX + 1];
	size_t n, cap;
	bool nomem;
} regions;

static bool region_within(const char *scope, const char *region)
{
	size_t n = strlen(scope);
	return !strncmp(region, scope, n) && (region[n] == '/' || region[n] == 0);
}

/* region[0..len) in its place in the sorted list, unless it is there (a binary search: a
 * report's rows name few villages, many times over). Past REGIONS_MAX, no more. */
static void regions_add(regions *g, const char *region, size_t len)
{
	char r[HM_REGION_MAX + 1];
	size_t lo = 0, hi = g->n;

	snprintf(r, sizeof(r), "%.*s", (int)len, region);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->v[mid], r);
		if (!c)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 32;
		void *p = g->n < REGIONS_MAX ? realloc(g->v, cap * sizeof(*g->v)) : NULL;
		if (!p) {
			g->nomem = g->n < REGIONS_MAX;
			return;
		}
		g->v = p, g->cap = cap;
	}
	memmove(g->v + lo + 1, g->v + lo, (g->n - lo) * sizeof(*g->v));
	memcpy(g->v[lo], r, sizeof(r));
	g->n++;
}

/* path and each region between the node's and it (its township), when it lies within the
 * node's region. */
static void regions_path(regions *g, const char *path)
{
	size_t base = strlen(g->scope), n = strlen(path);

	if (!region_within(g->scope, path))
		return;
	for (size_t i = base + 1; i <= n; i++)
		if (path[i] == '/' || path[i] == 0)
			regions_add(g, path, i);
}

/* Whether cell (j, k) of t is no text, or the text of the row above: a list's rows name one
 * village many times in a row, and a county's lists have rows by the hundred thousand. */
static bool same_above(const hm_report_table *t, size_t j, size_t k)
{
	const hm_report_cell *c = &t->rows[j].cells[k], *up = j ? &t->rows[j - 1].cells[k] : NULL;

	return c->kind != HM_REPORT_TEXT ||
	       (up && up->kind == HM_REPORT_TEXT && !strcmp(up->text, c->text));
}

static void region_kept(void *ctx, const char *region)
{
	regions_path(ctx, region);
}

/* The picker's regions, from the report itself (costing nothing more than the report): the
 * node's region, the report's and those above it, and every township and village the report's
 * rows name; and those of every record the report keep holds (a list's rows past the windows
 * held are not in the report). */
static hm_err regions_load(web_req *r, const hm_report *rep, regions *g, hm_node_info *self)
{
	hm_node_ident(r->led.node, self);
	memset(g, 0, sizeof(*g));
	g->scope = self->region;
	regions_add(g, self->region, strlen(self->region));
	regions_path(g, rep->region);
	for (size_t i = 0; i < rep->ntables; i++) {
		const hm_report_table *t = rep->tables[i];
		for (size_t k = 0; k < t->ncols; k++) {
			if (strcmp(t->cols[k], N_("region")) && strcmp(t->cols[k], N_("village")))
				continue;
			for (size_t j = 0; j < t->nrows; j++)
				if (!same_above(t, j, k))
					regions_path(g, t->rows[j].cells[k].text);
		}
	}
	hm_report_keep_regions(r->led.keep, region_kept, g);
	if (g->nomem)
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	return HM_OK;
}

/* The picker: a GET form to the report's own page (region, date, days, person, names). */
static void picker(web_req *r, const report_ask *a, const hm_report *rep, const regions *g)
{
	web_raw(r, "<form method=\"get\" class=\"picker noprint\" action=\"" REPORTS_PREFIX);
	web_esc_query(r, a->name);
	web_raw(r, "\"><label>");
	web_esc(r, web_t(r, "Region"));
	web_raw(r, " <select name=\"region\">");
	for (size_t i = 0; i < g->n; i++) {
		web_raw(r, "<option value=\"");
		web_esc(r, g->v[i]);
		web_raw(r, strcmp(g->v[i], rep->region) ? "\">" : "\" selected>");
		web_esc(r, g->v[i]);
		web_raw(r, "</option>");
	}
	web_raw(r, "</select></label> <label>");
	web_esc(r, web_t(r, "Date"));
	web_raw(r, " <input type=\"date\" name=\"date\" value=\"");
	web_esc(r, rep->date);
	web_raw(r, "\"></label>");
	if (!strcmp(a->name, "monitoring") || !strcmp(a->name, "supplies")) {
		web_raw(r, " <label>");
		web_esc(r, web_t(r, "Days"));
		web_rawf(r, " <input type=\"number\" name=\"days\" min=\"1\" max=\"%d\" size=\"4\"",
		         HM_REPORT_DAYS_MAX);
		if (a->days)
			web_rawf(r, " value=\"%ld\"", a->days);
		web_raw(r, "></label>");
	}
	if (!strcmp(a->name, "contacts")) {
		web_raw(r, " <label>");
		web_esc(r, web_t(r, "Contacts of person (id)"));
		web_raw(r, " <input name=\"person\" size=\"20\" value=\"");
		web_esc(r, a->person);
		web_raw(r, "\"></label>");
	}
	if (web_may(r, HM_RIGHT_REVEAL)) {
		web_raw(r,
		        a->names
		            ? " <label><input type=\"checkbox\" name=\"names\" value=\"1\" checked>"
		            : " <label><input type=\"checkbox\" name=\"names\" value=\"1\">");
		web_esc(r, web_t(r, "Show names (recorded in the access log)"));
		web_raw(r, "</label>");
	}
	if (a->rows_asked)
		web_rawf(r, "<input type=\"hidden\" name=\"rows\" value=\"%zu\">", a->rows);
	web_raw(r, " <button type=\"submit\">");
	web_esc(r, web_t(r, "Show"));
	web_raw(r, "</button></form>\n");
}

/* ---- links ---- */

/* The query of a, for region (NULL: a's): region, date, days, person, names, percent-encoded;
 * false when it does not fit. */
static bool ask_query(const report_ask *a, const hm_report *rep, const char *region, bool names,
                      char *out, size_t cap)
{
	char enc[3 * HM_REGION_MAX + 1], person[3 * HM_ID_MAX + 1];
	size_t n;

	if (!web_query_encode(region ? region : rep->region, enc, sizeof(enc)) ||
	    !web_query_encode(a->person && !region ? a->person : "", person, sizeof(person)))
		return false;
	n = (size_t)snprintf(out, cap, "?region=%s&date=%s", enc, rep->date);
	if (n < cap && a->days)
		n += (size_t)snprintf(out + n, cap - n, "&days=%ld", a->days);
	if (n < cap && person[0])
		n += (size_t)snprintf(out + n, cap - n, "&person=%s", person);
	if (n < cap && names)
		n += (size_t)snprintf(out + n, cap - n, "&names=1");
	return n < cap;
}

typedef struct link_ctx {
	web_req *r;
	const report_ask *a;
	const hm_report *rep;
} link_ctx;

/* A word of the report's body: the ledger's own Chinese for its words (a parameter, a row's
 * level), else the catalogue's (a title, "none", "yes"). */
static const char *body_word(void *arg, const char *en)
{
	web_req *r = ((link_ctx *)arg)->r;
	const char *zh = r->en ? NULL : hm_report_word_zh(NULL, en);

	return zh ? zh : web_t(r, en);
}

/* A township or village below the report's region opens the same report for it; a person
 * (a row's person, who infected whom) opens the person's page. */
static bool body_link(void *arg, const hm_report_table *t, size_t row, size_t col, char *href,
                      size_t cap)
{
	link_ctx *x = arg;
	const char *c = t->cols[col], *v = t->rows[row].cells[col].text;
	size_t n;

	if (!strcmp(c, N_("region")) || !strcmp(c, N_("village"))) {
		if (!strcmp(v, x->rep->region) || !region_within(x->rep->region, v))
			return false;
		n = (size_t)snprintf(href, cap, REPORTS_PREFIX "%s", x->a->name);
		return n < cap && ask_query(x->a, x->rep, v, false, href + n, cap - n);
	}
	if (!strcmp(c, N_("person")) || !strcmp(c, "infected_by")) {
		const char *why;
		if (hm_id_check(v, &why) != HM_OK)
			return false;
		n = (size_t)snprintf(href, cap, "/person/");
		return web_query_encode(v, href + n, cap - n);
	}
	return false;
}

/* The first row of table t on this page: its page's when it is the table paged. */
static size_t body_first(void *arg, const hm_report_table *t)
{
	const report_ask *a = ((link_ctx *)arg)->a;

	return a->table && !strcmp(a->table, t->name) ? (a->page - 1) * a->rows : 0;
}

/* The page of table t that starts at row first: the same report and query (region, date, days,
 * person, names, rows), that table at that page. */
static bool body_page(void *arg, const hm_report_table *t, size_t first, char *href, size_t cap)
{
	link_ctx *x = arg;
	size_t n = (size_t)snprintf(href, cap, REPORTS_PREFIX "%s", x->a->name);

	if (n >= cap || !ask_query(x->a, x->rep, NULL, x->a->names, href + n, cap - n))
		return false;
	n += strlen(href + n);
	if (n < cap && x->a->rows_asked)
		n += (size_t)snprintf(href + n, cap - n, "&rows=%zu", x->a->rows);
	if (n < cap)
		n += (size_t)snprintf(href + n, cap - n, "&table=%s&page=%zu", t->name,
		                      first / x->a->rows + 1);
	return n < cap;
}

/* ---- the page, the CSV ---- */

/* The links above the report: the index, the CSV (a user who may export), the region above. */
static void report_links(web_req *r, const report_ask *a, const hm_report *rep, const char *scope)
{
	char q[2048];

	web_raw(r, "<p class=\"links noprint\"><a href=\"/reports\">");
	web_esc(r, web_t(r, "All reports"));
	web_raw(r, "</a>");
	if (strcmp(rep->region, scope) && strchr(rep->region, '/')) {
		char up[HM_REGION_MAX + 1];
		snprintf(up, sizeof(up), "%.*s", (int)(strrchr(rep->region, '/') - rep->region),
		         rep->region);
		if (ask_query(a, rep, up, a->names, q, sizeof(q))) {
			web_raw(r, " · <a href=\"" REPORTS_PREFIX);
			web_esc_query(r, a->name);
			web_esc(r, q);
			web_raw(r, "\">");
			web_esc(r, web_t(r, "Up to"));
			web_raw(r, " ");
			web_esc(r, up);
			web_raw(r, "</a>");
		}
	}
	if (web_may(r, HM_RIGHT_EXPORT) && ask_query(a, rep, NULL, a->names, q, sizeof(q))) {
		web_raw(r, " · <a href=\"" REPORTS_PREFIX);
		web_esc_query(r, a->name);
		web_raw(r, ".csv");
		web_esc(r, q);
		web_raw(r, "\" download>");
		web_esc(r, web_t(r, "Download CSV (for Excel)"));
		web_raw(r, "</a>");
	}
	web_raw(r, "</p>\n");
}

static hm_err report_page(web_req *r, const report_ask *a, const hm_report *rep, const regions *g)
{
	link_ctx x = {r, a, rep};
	hm_report_html h = {r->en ? 0 : HM_REPORT_CSV_ZH, body_word, body_link, &x};
	hm_err err;

	h.rows_max = a->rows, h.first = body_first, h.page = body_page;
	web_page_begin(r, rep->title);
	report_links(r, a, rep, g->scope);
	picker(r, a, rep, g);
	if (rep->show_pii)
		web_notice(r, "ok",
		           web_t(r, "Names are shown: this was recorded in the access log "
		                    "under your name."));
	web_raw(r, "<div class=\"report\">\n");
	if ((err = hm_report_render_body(rep, &h, r->out)))
		err = hm_node_fail(r->led.node, err, "the report could not be written");
	web_raw(r, "</div>\n");
	web_page_end(r);
	return err;
}

/* The file's name: NAME-REGION-DATE.csv, the region's '/' as '-'. */
static void csv_name(const hm_report *rep, char *out, size_t cap)
{
	snprintf(out, cap, "%s-%s-%s.csv", rep->name, rep->region, rep->date);
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
}

static hm_err report_csv(web_req *r, const hm_report *rep, const char *file)
{
	char disp[HM_REGION_MAX + 96];
	hm_err err;

	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", file);
	web_type(r, "text/csv; charset=utf-8");
	if (!web_header(r, "Content-Disposition", disp))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	if ((err = hm_report_render(rep, HM_REPORT_FMT_CSV, HM_REPORT_CSV_ZH, r->out)))
		return hm_node_fail(r->led.node, err, "the report could not be written");
	return HM_OK;
}

/* arg as a whole number from min to max into *v; an absent or empty arg leaves *v. */
static bool arg_number(const char *arg, long min, long max, size_t *v)
{
	char *end;
	long n;

	if (!arg || !*arg)
		return true;
	n = strtol(arg, &end, 10);
	if (*end || n < min || n > max)
		return false;
	*v = (size_t)n;
	return true;
}

/* Which rows of the tables the page shows: rows= of each (ROWS_DEFAULT), and page= of table=. */
static bool ask_window(web_req *r, report_ask *a)
{
	const char *rows = web_arg(r, "rows");

	a->rows = ROWS_DEFAULT, a->page = 1;
	a->rows_asked = rows && *rows;
	if (!arg_number(rows, ROWS_MIN, ROWS_MAX, &a->rows)) {
		web_error(r, 400, "Rows must be a whole number from 10 to 1000.", NULL);
		return false;
	}
	if (!arg_number(web_arg(r, "page"), 1, PAGE_MAX, &a->page)) {
		web_error(r, 400, "Page must be a whole number from 1.", NULL);
		return false;
	}
	a->table = web_arg(r, "table");
	return true;
}

/* The report's name and what the query asks; false when the answer (an error page) is
 * given. */
static bool ask_parse(web_req *r, report_ask *a)
{
	const char *name = r->path + strlen(REPORTS_PREFIX), *days = web_arg(r, N_("days"));
	const char *const *names = hm_report_names();
	size_t n = strlen(name);
	char *end;

	memset(a, 0, sizeof(*a));
	a->csv = n > 4 && !strcmp(name + n - 4, ".csv");
	if (n < sizeof(a->name) + 4)
		snprintf(a->name, sizeof(a->name), "%.*s", (int)(a->csv ? n - 4 : n), name);
	for (n = 0; names[n] && strcmp(names[n], a->name); n++)
		;
	if (!names[n]) {
		web_error(r, 404, "There is no such report.", NULL);
		return false;
	}
	if (a->csv && !web_may(r, HM_RIGHT_EXPORT)) {
		web_error(r, 403, "Your role cannot download reports.", NULL);
		return false;
	}
	a->names = web_arg(r, "names") && !strcmp(web_arg(r, "names"), "1");
	if (a->names && !web_may(r, HM_RIGHT_REVEAL)) {
		web_error(r, 403, "Your role cannot see names in clear.", NULL);
		return false;
	}
	a->region = web_arg(r, N_("region")), a->date = web_arg(r, N_("date"));
	a->person = web_arg(r, N_("person"));
	if (days && *days &&
	    ((a->days = strtol(days, &end, 10)) < 1 || *end || a->days > HM_REPORT_DAYS_MAX)) {
		web_error(r, 400, "Days must be a whole number from 1 to 3660.", NULL);
		return false;
	}
	return ask_window(r, a);
}

static void report_free(void *rep)
{
	hm_report_release(rep);
	free(rep);
}

/* The rows each list of the report must hold for what is asked: every row for a CSV, else
 * up to the window of the table paged (the first window of the others), rounded up to
 * WINDOWS_HELD windows so that the next page is held too. */
static size_t rows_held(const report_ask *a)
{
	size_t batch = WINDOWS_HELD * a->rows, page = a->table ? a->page : 1;

	if (a->csv || page > SIZE_MAX / a->rows - batch)
		return 0; /* or a page past what a size holds: every row */
	return (page * a->rows + batch - 1) / batch * batch;
}

/* The report asked for, built once for each state of the store and day (web/cache.c), with
 * the rows rows_held says (one built for a window gives way to one that holds more): *out the
 * cache's, or *own (then the caller's) when the cache cannot keep it. false when the answer (an
 * error page) is given or err is set. */
static bool report_build(web_req *r, const report_ask *a, const hm_report **out, hm_report **own,
                         hm_err *err)
{
	uint64_t stamp = hm_node_stamp(r->led.node);
	hm_report_params p = {0};
	char key[256], today[11];
	hm_report *rep;
	unsigned status;

	p.name = a->name, p.days = a->days, p.show_pii = a->names;
	p.region = a->region && *a->region ? a->region : NULL;
	p.date = a->date && *a->date ? a->date : NULL;
	p.person = a->person && *a->person ? a->person : NULL;
	p.rows = rows_held(a);
	hm_ledger_today(&r->led, today);
	snprintf(key, sizeof(key), "report %s %s|%s|%s|%s|%ld|%d", today, p.name,
	         p.region ? p.region : "", p.date ? p.date : "", p.person ? p.person : "", p.days,
	         p.show_pii);
	if ((*out = web_cache_get(web_cache_of(r), key, stamp)) &&
	    (!(*out)->rows_max || (p.rows && (*out)->rows_max >= p.rows)))
		return true;
	*out = NULL;
	if (!(rep = calloc(1, sizeof(*rep)))) {
		*err = hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
		return false;
	}
	if (!(*err = hm_report_build(&r->led, &p, rep))) {
		if (!web_cache_put(web_cache_of(r), key, stamp, rep, hm_report_bytes(rep), true,
		                   report_free))
			*own = rep;
		*out = rep;
		return true;
	}
	free(rep);
	status = *err == HM_ERR_INVALID                              ? 400
	         : *err == HM_ERR_NOT_FOUND || *err == HM_ERR_SCHEMA ? 404
	                                                             : 0;
	if (status) {
		web_error(r, status, "This report cannot be shown.", hm_node_errmsg(r->led.node));
		*err = HM_OK;
	}
	return false;
}

/* The access is recorded once what is shown is ready and before it is shown (a failure to
 * record shows nothing): a reveal when names are in clear, an export for every CSV. */
hm_err web_page_report(web_req *r)
{
	char file[HM_REGION_MAX + 64];
	regions g = {0};
	hm_node_info self;
	const hm_report *rep = NULL;
	hm_report *own = NULL;
	uint64_t before;
	report_ask a;
	hm_err err = HM_OK;

	if (!ask_parse(r, &a) || !report_build(r, &a, &rep, &own, &err))
		goto out;
	if (!a.csv && (err = regions_load(r, rep, &g, &self)))
		goto out;
	csv_name(rep, file, sizeof(file));
	before = hm_node_stamp(r->led.node);
	if ((err = hm_report_record_access(&r->led, rep, a.csv ? file : NULL)))
		goto out; /* nothing shown: the access log must not lack it */
	web_cache_restamp(web_cache_of(r), before, hm_node_stamp(r->led.node));
	err = a.csv ? report_csv(r, rep, file) : report_page(r, &a, rep, &g);
out:
	free(g.v);
	if (own)
		report_free(own);
	return err;
}
