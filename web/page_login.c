/*
 * page_login.c - /login (the form, and the password checked by hm_user_login), /logout, /lang
 * (the language cookie) and / (the start page of each role).
 */
#include "web_int.h"

#include <string.h>

/* A session for the login form itself (its CSRF token), unless the browser has one. */
static void ensure_session(web_req *r)
{
	char id[WEB_TOKEN_HEX + 1], cookie[160];

	if (r->sess)
		return;
	r->sess = web_session_new(web_sessions_of(r), NULL, id);
	web_session_cookie(cookie, sizeof(cookie), id);
	web_header(r, "Set-Cookie", cookie);
	hm_wipe(id, sizeof(id));
}

static void login_form(web_req *r, const char *name, const char *next, const char *error)
{
	ensure_session(r);
	web_page_begin(r, "Log in");
	if (error)
		web_notice(r, "error", error);
	web_form_begin(r, "/login");
	web_raw(r, "<input type=\"hidden\" name=\"next\" value=\"");
	web_esc(r, web_local_path(next) ? next : "/");
	web_raw(r, "\"><p><label>");
	web_esc(r, web_t(r, "Name"));
	web_raw(r, "<br><input name=\"name\" required autocomplete=\"username\" value=\"");
	web_esc(r, name);
	web_raw(r, "\"></label></p><p><label>");
	web_esc(r, web_t(r, "Password"));
	web_raw(r, "<br><input name=\"password\" type=\"password\" required "
	           "autocomplete=\"current-password\"></label></p><p><button type=\"submit\">");
	web_esc(r, web_t(r, "Log in"));
	web_raw(r, "</button></p>");
	web_form_end(r);
	web_page_end(r);
}

hm_err web_page_login(web_req *r)
{
	if (r->user) {
		const char *next = web_arg(r, "next");
		web_redirect(r, web_local_path(next) ? next : "/");
		return HM_OK;
	}
	login_form(r, NULL, web_arg(r, "next"), NULL);
	return HM_OK;
}

/* A new session for the user (a new id: the one of the login form is never promoted). */
static void logged_in(web_req *r, const hm_user *u, const char *next)
{
	char id[WEB_TOKEN_HEX + 1], cookie[160];

	web_session_end(web_sessions_of(r), r->sess);
	r->sess = web_session_new(web_sessions_of(r), u, id);
	web_redirect(r, web_local_path(next) ? next : "/");
	web_session_cookie(cookie, sizeof(cookie), id);
	web_header(r, "Set-Cookie", cookie);
	hm_wipe(id, sizeof(id));
}

hm_err web_page_login_post(web_req *r)
{
	const char *name = web_field_get(r, "name"), *pass = web_field_get(r, "password");
	const char *next = web_field_get(r, "next");
	web_sessions *t = web_sessions_of(r);
	unsigned wait_s;
	hm_user u;
	hm_err err;

	if (!name || !pass || !*name) {
		login_form(r, name, next, web_t(r, "Give your name and password."));
		return HM_OK;
	}
	if (web_login_wait(t, name, &wait_s)) {
		char msg[200];
		web_error(r, 429, "Too many wrong passwords: wait a moment before trying again.",
		          NULL);
		snprintf(msg, sizeof(msg), "%u", wait_s);
		web_header(r, "Retry-After", msg);
		return HM_OK;
	}
	err = hm_user_login(&r->led, web_dir(r), name, pass, &u);
	if (err == HM_ERR_CRYPTO) {
		web_login_failed(t, name);
		web_log(r, "warning", "a wrong password for '%s'", name);
		web_status(r, 200);
		login_form(r, name, next, web_t(r, "Wrong name or password."));
		return HM_OK;
	}
	if (err)
		return err;
	web_login_ok(t, name);
	web_log(r, "info", "%s logged in", u.name);
	logged_in(r, &u, next);
	return HM_OK;
}

hm_err web_page_logout(web_req *r)
{
	char cookie[160];

	web_session_end(web_sessions_of(r), r->sess);
	r->sess = NULL, r->user = NULL;
	web_redirect(r, "/login");
	web_session_cookie(cookie, sizeof(cookie), NULL);
	web_header(r, "Set-Cookie", cookie);
	return HM_OK;
}

hm_err web_page_lang(web_req *r)
{
	const char *to = web_arg(r, "to"), *back = web_arg(r, "back");

	web_redirect(r, web_local_path(back) ? back : "/");
	web_header(r, "Set-Cookie",
	           to && !strcmp(to, "en") ? WEB_COOKIE_LANG
	               "=en; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly"
	                                   : WEB_COOKIE_LANG
	               "=zh; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly");
	return HM_OK;
}
