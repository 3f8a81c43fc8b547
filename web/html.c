/*
 * html.c - the page builder: a page is written into the request's buffer, its own markup as
 * is and every other text through web_esc, the ledger's one HTML escaping
 * (hm_text_html_write). No inline script or style anywhere: the CSP forbids them; the page
 * links /static/style.css and /static/app.js, compiled into the binary.
 */
#include "web_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void web_esc(web_req *r, const char *text)
{
	if (text && r->out)
		hm_text_html_write(r->out, text, strlen(text));
}

void web_raw(web_req *r, const char *html)
{
	if (r->out)
		fputs(html, r->out);
}

void web_rawf(web_req *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->out)
		return;
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
}

bool web_query_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 4 > cap)
			return false;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			out[o++] = (char)*p;
		else
			out[o++] = '%', out[o++] = hex[*p >> 4], out[o++] = hex[*p & 15];
	}
	if (cap)
		out[o] = 0;
	return cap > 0;
}

void web_esc_query(web_req *r, const char *text)
{
	size_t cap = 3 * (text ? strlen(text) : 0) + 1;
	char *buf = text ? malloc(cap) : NULL;

	if (buf && web_query_encode(text, buf, cap))
		web_raw(r, buf);
	free(buf);
}

/* The top bar (not printed): the station's name for the page, who is logged in, the pages the
 * user may open (nav.c), the other language, logout. */
static void top_bar(web_req *r)
{
	web_raw(r, "<header class=\"top noprint\"><a class=\"home\" href=\"/\">");
	web_esc(r, web_t(r, "hamlet station"));
	web_raw(r, "</a><nav>");
	if (r->user) {
		web_raw(r, "<span class=\"who\">");
		web_esc(r, r->user->name);
		web_raw(r, " (");
		web_esc(r,
		        r->en ? hm_user_role_name(r->user->role) : hm_user_role_zh(r->user->role));
		web_raw(r, ")</span>");
		web_nav(r);
	}
	web_raw(r, "<a href=\"/lang?to=");
	web_raw(r, r->en ? "zh" : "en");
	if (web_local_path(r->path)) {
		web_raw(r, "&amp;back=");
		web_esc_query(r, r->path);
	}
	web_raw(r, "\">");
	web_raw(r, r->en ? "中文" : "English");
	web_raw(r, "</a>");
	if (r->user && r->sess) {
		web_form_begin(r, "/logout");
		web_raw(r, "<button type=\"submit\">");
		web_esc(r, web_t(r, "Log out"));
		web_raw(r, "</button>");
		web_form_end(r);
	}
	web_raw(r, "</nav></header>\n");
}

void web_page_begin(web_req *r, const char *title)
{
	web_raw(r, "<!DOCTYPE html>\n<html lang=\"");
	web_raw(r, r->en ? "en" : "zh-CN");
	web_raw(r, "\"><head><meta charset=\"utf-8\">"
	           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	           "<title>");
	web_esc(r, web_t(r, title));
	web_raw(r, " - ");
	web_esc(r, web_t(r, "hamlet station"));
	web_raw(r, "</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
	           "<script src=\"/static/app.js\" defer></script></head>\n<body>\n");
	top_bar(r);
	web_raw(r, "<main>\n<h1>");
	web_esc(r, web_t(r, title));
	web_raw(r, "</h1>\n");
}

void web_page_end(web_req *r)
{
	web_raw(r, "</main>\n</body>\n</html>\n");
}

void web_form_begin(web_req *r, const char *action)
{
	web_raw(r, "<form method=\"post\" action=\"");
	web_esc(r, action);
	web_raw(r, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	if (r->sess)
		web_esc(r, web_session_csrf(r->sess));
	web_raw(r, "\">");
}

void web_form_end(web_req *r)
{
	web_raw(r, "</form>\n");
}

void web_notice(web_req *r, const char *kind, const char *text)
{
	web_raw(r, "<p class=\"notice ");
	web_raw(r, strcmp(kind, "ok") ? "error" : "ok");
	web_raw(r, "\" role=\"status\">");
	web_esc(r, text);
	web_raw(r, "</p>\n");
}

void web_when(char *out, size_t cap, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, cap, "-");
}

/* "（" and "）" and "：" in UTF-8: how a Chinese reason names its field, "id_number（身份证号）："
 */
#define ZH_OPEN  "\xef\xbc\x88"
#define ZH_CLOSE "\xef\xbc\x89"
#define ZH_COLON "\xef\xbc\x9a"

bool web_reason_field(const char *why, char *word, size_t cap, const char **rest)
{
	const char *p = why, *q, *close;
	size_t n;

	*rest = why;
	word[0] = 0;
	if (!strncmp(p, "--", 2))
		p += 2;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		word[i] = p[i] == '-' ? '_' : p[i];
	word[n] = 0;
	q = p + n;
	if (!strncmp(q, ZH_OPEN, 3) && (close = strstr(q, ZH_CLOSE)))
		q = close + 3;
	if (!strncmp(q, ": ", 2))
		*rest = q + 2;
	else if (!strncmp(q, ZH_COLON, 3))
		*rest = q + 3;
	return true;
}

void web_th(web_req *r, const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		web_raw(r, "<th>");
		web_esc(r, web_t(r, cols[i]));
		web_raw(r, "</th>");
	}
}
