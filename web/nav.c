/*
 * nav.c - the pages a user may open, as the top bar's links and as the start page's large
 * buttons. The list is the route table's (routes.c): a page appears when a GET route of its
 * path exists and the user's role has that route's right (hm_role_may), in the order and with
 * the label below. A page added later appears by adding its line here; a line whose route does
 * not exist yet shows nothing.
 */
#include "web_int.h"

#include <string.h>

typedef struct nav_item {
	const char *path, *label; /* label: an English msgid (web_t) */
} nav_item;

static const nav_item nav[] = {
    {"/today", "Today"},
    {"/register", "Register"},
    {"/stock", "Stock"},
    {"/tips", "Tips"},
    {"/notices", "Notices"},
    {"/reports", "Reports"},
    {"/questions", "Questions to answer"},
    {"/audit", "Audit"},
    {"/peers", "Peers"},
    {"/sync", "Sync"},
};

/* Whether r's user may open the page at path: a GET route of that path exists and the user has
 * its right. */
static bool nav_open(const web_req *r, const char *path)
{
	bool known;
	const web_route *rt = web_route_find("GET", path, &known);

	return rt && r->user && (!rt->right || web_may(r, rt->right));
}

/* Whether r is at the page of path, or at one below it (/today/print, /reports/daily). */
static bool nav_here(const web_req *r, const char *path)
{
	size_t n = strlen(path);

	return r->path && !strncmp(r->path, path, n) &&
	       (r->path[n] == 0 || r->path[n] == '/' || r->path[n] == '.');
}

/* The links, each <a href="PATH" class="CLS">, the current page's aria-current. */
static size_t nav_links(web_req *r, const char *cls)
{
	size_t shown = 0;

	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
		if (!nav_open(r, nav[i].path))
			continue;
		web_raw(r, "<a class=\"");
		web_raw(r, cls);
		web_raw(r, "\" href=\"");
		web_esc(r, nav[i].path);
		web_raw(r, nav_here(r, nav[i].path) ? "\" aria-current=\"page\">" : "\">");
		web_esc(r, web_t(r, nav[i].label));
		web_raw(r, "</a>");
		shown++;
	}
	return shown;
}

void web_nav(web_req *r)
{
	web_raw(r, "<span class=\"pages\">");
	nav_links(r, "nav");
	web_raw(r, "</span>");
}

/* The start page: every page the user may open as a large button. */
hm_err web_page_home(web_req *r)
{
	web_page_begin(r, "Start");
	web_raw(r, "<p>");
	web_esc(r, web_t(r, "Choose what to do:"));
	web_raw(r, "</p>\n<nav class=\"buttons\">");
	if (!nav_links(r, "button")) {
		web_raw(r, "<p>");
		web_esc(r, web_t(r, "Your role has no page here."));
		web_raw(r, "</p>");
	}
	web_raw(r, "</nav>\n");
	web_page_end(r);
	return HM_OK;
}
