/*
 * routes.c - the route table: each page's method, path, the right its user needs (hm_right,
 * ledger.h; 0: any logged-in user) and its handler (page_*.c). server.c checks the session,
 * the CSRF token of a POST and the right before it runs the handler; a page adds a line here
 * (and, to be in the top bar and on the start page, its label in nav.c).
 */
#include "web_int.h"

#include <string.h>

static const web_route routes[] = {
    {"GET", "/login", 0, WEB_PUBLIC, web_page_login},
    {"POST", "/login", 0, WEB_PUBLIC, web_page_login_post},
    {"POST", "/logout", 0, 0, web_page_logout},
    {"GET", "/lang", 0, WEB_PUBLIC, web_page_lang},
    {"GET", "/", 0, 0, web_page_home},
    {"GET", "/sync", HM_RIGHT_SYNC, 0, web_page_sync},
    {"POST", "/sync/now", HM_RIGHT_SYNC, 0, web_page_sync_now},
    {"POST", "/sync/bundle", HM_RIGHT_SYNC, 0, web_page_sync_bundle},
    /* the field-work forms (form.c): stock, tips, notices, a person */
    {"GET", "/stock", HM_RIGHT_STOCK, 0, web_page_stock},
    {"POST", "/stock", HM_RIGHT_STOCK, 0, web_page_stock_post},
    {"GET", "/tips", HM_RIGHT_TIPS, 0, web_page_tips},
    {"POST", "/tips", HM_RIGHT_TIPS, 0, web_page_tips_post},
    {"GET", "/notices", HM_RIGHT_TIPS, 0, web_page_notices},
    {"POST", "/notices", HM_RIGHT_TIPS, 0, web_page_notices_post},
    /* POST /person/ID/reveal|contact|followup: each checks its own right (page_person.c) */
    {"GET", "/person/", HM_RIGHT_NAMES, WEB_PREFIX, web_page_person},
    {"POST", "/person/", HM_RIGHT_NAMES, WEB_PREFIX, web_page_person_post},
    {"GET", "/today", HM_RIGHT_FOLLOWUP, 0, web_page_today},
    {"POST", "/today", HM_RIGHT_FOLLOWUP, 0, web_page_today_post},
    {"GET", "/today/print", HM_RIGHT_FOLLOWUP, 0, web_page_today_print},
    {"GET", "/register", HM_RIGHT_REGISTER, 0, web_page_register},
    {"POST", "/register", HM_RIGHT_REGISTER, 0, web_page_register_post},
    {"GET", "/reports", HM_RIGHT_REPORTS, 0, web_page_reports},
    {"GET", "/reports/", HM_RIGHT_REPORTS, WEB_PREFIX, web_page_report},
    {"GET", "/questions", HM_RIGHT_QUESTIONS, 0, web_page_questions},
    {"POST", "/questions/merge", HM_RIGHT_QUESTIONS, 0, web_page_questions_merge},
    {"POST", "/questions/apart", HM_RIGHT_QUESTIONS, 0, web_page_questions_apart},
    {"GET", "/audit", HM_RIGHT_AUDIT, 0, web_page_audit},
    {"GET", "/audit.json", HM_RIGHT_EXPORT, 0, web_page_audit_json},
    {"GET", "/audit/report", HM_RIGHT_EXPORT, 0, web_page_audit_report},
    {"GET", "/peers", HM_RIGHT_AUDIT, 0, web_page_peers},
    /* the pages of /today, /register, /person/, ... go here */
};

static bool path_matches(const web_route *rt, const char *path)
{
	size_t n = strlen(rt->path);

	if (rt->flags & WEB_PREFIX)
		return !strncmp(path, rt->path, n) && path[n];
	return !strcmp(path, rt->path);
}

const web_route *web_route_find(const char *method, const char *path, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], path))
			continue;
		if (!strcmp(routes[i].method, method))
			return &routes[i];
		*path_known = true;
	}
	return NULL;
}
