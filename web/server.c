/*
 * server.c - the HTTP side of the web interface (GNU libmicrohttpd): the address, the Host
 * check, the request's body, the session and CSRF checks, the route's right, the security
 * headers of every response, and the error pages. One thread of libmicrohttpd's answers every
 * request, each under the node lock.
 */
#include "web_int.h"

#include <locale.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <microhttpd.h>

#define FORM_TYPE  "application/x-www-form-urlencoded"
#define WEB_PER_IP 16u /* connections from one address, when served to other machines */
#define CSP                                                                                        \
	"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "          \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

struct hm_web {
	hm_web_opts o;
	struct MHD_Daemon *d;
	web_sessions *sessions;
	struct stat users_seen; /* of DIR/users when the sessions were last checked against it */
	bool users_known; /* users_seen is: false until the first request, and after a failure */
	web_cache *cache;
	hm_report_keep *keep; /* what reports read, kept between pages (report_keep.c) */
	locale_t zh, en;      /* the messages of each language; (locale_t)0 when not installed */
	char host[72];        /* the address as listen gives it: "127.0.0.1", "[::1]" */
	unsigned port;
	char url[112];
};

/* ---- the address ---- */

typedef struct listen_addr {
	struct sockaddr_storage ss;
	bool v6, loopback;
	char host[72];
	unsigned port;
} listen_addr;

static bool parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

/* "A.B.C.D:PORT" or "[V6]:PORT" into a. */
static bool parse_listen(const char *s, listen_addr *a)
{
	const char *colon;
	char ip[64];
	size_t n;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
		if (!close || close[1] != ':' || (n = (size_t)(close - s - 1)) >= sizeof(ip))
			return false;
		memcpy(ip, s + 1, n), ip[n] = 0;
		if (inet_pton(AF_INET6, ip, &in6->sin6_addr) != 1 ||
		    !parse_port(close + 2, &a->port))
			return false;
		in6->sin6_family = AF_INET6, in6->sin6_port = htons((uint16_t)a->port);
		a->v6 = true, a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		snprintf(a->host, sizeof(a->host), "[%s]", ip);
		return true;
	}
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	if (!(colon = strrchr(s, ':')) || (n = (size_t)(colon - s)) >= sizeof(ip))
		return false;
	memcpy(ip, s, n), ip[n] = 0;
	if (inet_pton(AF_INET, ip, &in4->sin_addr) != 1 || !parse_port(colon + 1, &a->port))
		return false;
	in4->sin_family = AF_INET, in4->sin_port = htons((uint16_t)a->port);
	a->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	snprintf(a->host, sizeof(a->host), "%s", ip);
	return true;
}

/* Whether host (without its port) is an IP literal: "1.2.3.4" or "[::1]". No DNS name can be
 * made to point at it, so it cannot be rebound. */
static bool ip_literal(const char *host, size_t n)
{
	char ip[64];
	unsigned char bin[16];

	if (n < 2 || n >= sizeof(ip))
		return false;
	if (host[0] == '[' && host[n - 1] == ']') {
		memcpy(ip, host + 1, n - 2), ip[n - 2] = 0;
		return inet_pton(AF_INET6, ip, bin) == 1;
	}
	memcpy(ip, host, n), ip[n] = 0;
	return inet_pton(AF_INET, ip, bin) == 1;
}

/* The Host header names this server: our address or a loopback name, with our port (none for
 * port 80); with any_address, any IP literal with our port. Else the request could come from
 * a page of another site whose name was pointed at us (DNS rebinding). */
static bool host_ok(const hm_web *w, const char *h)
{
	static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};
	const char *colon = h ? strrchr(h, ':') : NULL, *close = h ? strchr(h, ']') : NULL;
	unsigned port = 80;
	size_t n;

	if (!h || !*h || (h[0] == '[' && !close))
		return false;
	if (colon && (h[0] != '[' || colon > close)) {
		if (!parse_port(colon + 1, &port))
			return false;
		n = (size_t)(colon - h);
	} else {
		n = strlen(h);
	}
	if (port != w->port)
		return false;
	if (strlen(w->host) == n && !strncasecmp(h, w->host, n))
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncasecmp(h, names[i], n))
			return true;
	return w->o.any_address && ip_literal(h, n);
}

/* ---- the request ---- */

static web_req *req_new(hm_web *w, struct MHD_Connection *conn, const char *method, const char *url)
{
	web_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->w = w, r->conn = conn, r->method = method, r->path = url;
	r->status = 200;
	if (!(r->out = open_memstream(&r->buf, &r->len))) {
		free(r);
		return NULL;
	}
	return r;
}

static void req_free(web_req *r)
{
	if (!r)
		return;
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->out)
		fclose(r->out);
	free(r->buf);
	for (size_t i = 0; i < r->nfields; i++) {
		hm_wipe(r->fields[i].value, r->fields[i].len); /* passwords among them */
		free(r->fields[i].name), free(r->fields[i].value);
	}
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i][0]), free(r->headers[i][1]);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)conn, (void)why;
	req_free(*con_cls);
	*con_cls = NULL;
}

/* A piece of a POST field (MHD hands a long value over in pieces, off its offset). */
static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *ctype, const char *enc,
                                  const char *data, uint64_t off, size_t size)
{
	web_req *r = cls;
	web_field *f = r->nfields ? &r->fields[r->nfields - 1] : NULL;
	char *v;

	(void)kind, (void)filename, (void)ctype, (void)enc;
	if (!f || off == 0 || strcmp(f->name, key)) {
		if (r->nfields == WEB_FIELDS_MAX) {
			r->body_too_big = true;
			return MHD_NO;
		}
		f = &r->fields[r->nfields];
		if (!(f->name = strdup(key)) || !(f->value = calloc(1, 1))) {
			free(f->name);
			r->fields_failed = true;
			return MHD_NO;
		}
		f->len = 0;
		r->nfields++;
	}
	if (!(v = realloc(f->value, f->len + size + 1))) {
		r->fields_failed = true;
		return MHD_NO;
	}
	memcpy(v + f->len, data, size);
	f->len += size, v[f->len] = 0;
	f->value = v;
	return MHD_YES;
}

const char *web_field_get(const web_req *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcmp(r->fields[i].name, name))
			return r->fields[i].value;
	return NULL;
}

const char *web_arg(web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool web_may(const web_req *r, hm_right what)
{
	return r->user && hm_role_may(r->user->role, what);
}

const char *web_dir(const web_req *r)
{
	return r->w->o.dir;
}

web_sessions *web_sessions_of(const web_req *r)
{
	return r->w->sessions;
}

web_cache *web_cache_of(const web_req *r)
{
	return r->w->cache;
}

void web_speak(const web_req *r)
{
	locale_t l = r->en ? r->w->en : r->w->zh;

	/* without the language's locale, the process's own (never the last request's) */
	uselocale(l ? l : LC_GLOBAL_LOCALE);
}

/* The messages locales of the two languages, once. Chinese wants zh_CN.UTF-8 (scripts/install-deps
 * generates it); without it the pages speak the process's language, which the log says. */
static void languages(hm_web *w)
{
	static const char *const zh[] = {"zh_CN.UTF-8", "zh_CN.utf8"};

	w->en = newlocale(LC_MESSAGES_MASK, "C", (locale_t)0);
	for (size_t i = 0; i < 2 && !w->zh; i++)
		w->zh = newlocale(LC_MESSAGES_MASK, zh[i], (locale_t)0);
	if (!w->zh && w->o.log)
		w->o.log(w->o.log_arg, "warning",
		         "the zh_CN.UTF-8 locale is not installed: the pages speak the process's "
		         "language (scripts/install-deps generates it)");
}

void web_log(const web_req *r, const char *level, const char *fmt, ...)
{
	char msg[1024], *shown = NULL;
	size_t n = 0;
	va_list ap;
	FILE *f;

	if (!r->w->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A name typed into the login form is one line of the log, whatever it holds. */
	if (!(f = open_memstream(&shown, &n)))
		return;
	hm_text_write(f, msg, strlen(msg));
	if (hm_stream_close(f) == 0 && shown)
		r->w->o.log(r->w->o.log_arg, level, shown);
	free(shown);
}

/* ---- the response ---- */

void web_status(web_req *r, unsigned status)
{
	r->status = status;
}

void web_type(web_req *r, const char *type)
{
	r->type = type;
}

bool web_header(web_req *r, const char *name, const char *value)
{
	char *n, *v;

	if (r->nheaders == WEB_HEADERS_MAX)
		return false;
	n = strdup(name), v = strdup(value);
	if (!n || !v) {
		free(n), free(v);
		return false;
	}
	r->headers[r->nheaders][0] = n, r->headers[r->nheaders][1] = v;
	r->nheaders++;
	return true;
}

/* Drop what was written so far (an error page or a redirect replaces it). */
static void reset_body(web_req *r)
{
	if (r->out)
		fclose(r->out);
	free(r->buf);
	r->buf = NULL, r->len = 0;
	r->out = open_memstream(&r->buf, &r->len); /* NULL: answered 500 by send_response */
}

bool web_local_path(const char *p)
{
	if (!p || p[0] != '/' || p[1] == '/' || p[1] == '\\')
		return false;
	for (; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return false;
	return true;
}

void web_redirect(web_req *r, const char *location)
{
	reset_body(r);
	r->status = 303;
	r->done = true;
	if (!web_local_path(location))
		location = "/";
	web_header(r, "Location", location);
}

void web_error(web_req *r, unsigned status, const char *msgid, const char *detail)
{
	reset_body(r);
	r->status = status;
	r->type = NULL;
	r->done = true;
	if (!r->out)
		return;
	web_page_begin(r, "Not possible");
	web_raw(r, "<p class=\"error\">");
	web_esc(r, web_t(r, msgid));
	web_raw(r, "</p>");
	if (detail) {
		web_raw(r, "<p>");
		web_esc(r, detail);
		web_raw(r, "</p>");
	}
	web_raw(r, "<p><a href=\"/\">");
	web_esc(r, web_t(r, "Back to the start page"));
	web_raw(r, "</a></p>");
	web_page_end(r);
}

static enum MHD_Result send_response(web_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = r->status;

	if (!r->out || hm_stream_close(r->out) != 0 || !r->buf) {
		r->out = NULL;
		free(r->buf), r->buf = NULL, r->len = 0;
		status = 500;
	}
	r->out = NULL;
	resp = MHD_create_response_from_buffer(r->len, r->buf, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	r->buf = NULL; /* the response frees it */
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Type",
	                        r->type ? r->type : "text/html; charset=utf-8");
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- dispatch ---- */

static bool serve_asset(web_req *r)
{
	for (size_t i = 0; i < web_nassets; i++) {
		if (strcmp(r->path, web_assets[i].path))
			continue;
		fwrite(web_assets[i].data, 1, web_assets[i].len, r->out);
		r->type = web_assets[i].type;
		r->done = true;
		return true;
	}
	return false;
}

/* Whether a and b are the same version of a file (its identity, size and times; a rename
 * over it, as the users file is saved, gives another inode). */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* When DIR/users changed since the last look (only then: a stat per request), end the
 * sessions of accounts removed or given a new password or role since their login. A file that
 * cannot be read ends every user's session (no one logs in either) and is read again at the
 * next request. */
static void users_recheck(web_req *r)
{
	hm_web *w = r->w;
	char path[4096];
	struct stat st;
	hm_user *users = NULL;
	size_t n = 0;
	hm_ledger led;
	hm_err err;

	memset(&st, 0, sizeof(st));
	if ((size_t)snprintf(path, sizeof(path), "%s/users", w->o.dir) >= sizeof(path) ||
	    (stat(path, &st) != 0 && errno != ENOENT))
		memset(&st, 0xff, sizeof(st)); /* unknown: never the same as the last look */
	if (w->users_known && same_file(&st, &w->users_seen))
		return;
	hm_ledger_init(&led, w->o.node);
	if (w->o.lock)
		pthread_mutex_lock(w->o.lock);
	err = hm_user_list(&led, w->o.dir, &users, &n);
	if (err)
		web_log(r, "warning", "the users file cannot be read: %s",
		        hm_node_errmsg(w->o.node));
	if (w->o.lock)
		pthread_mutex_unlock(w->o.lock);
	web_sessions_recheck(w->sessions, err ? NULL : users, err ? 0 : n);
	w->users_seen = st;
	w->users_known = !err;
	free(users);
}

/* The session of the cookie, and the checks every route shares: a POST carries
 * its session's CSRF token; a page that needs a user has one, with the route's right. False
 * when the request was answered here. */
static bool admit(web_req *r, const web_route *rt)
{
	const char *cookie =
	    MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, WEB_COOKIE_SESSION);
	char next[16 + 3 * 200];

	users_recheck(r);
	r->sess = cookie ? web_session_find(r->w->sessions, cookie) : NULL;
	r->user = r->sess ? web_session_user(r->sess) : NULL;
	if (!strcmp(r->method, "POST") &&
	    !(r->sess && web_session_csrf_ok(r->sess, web_field_get(r, "csrf")))) {
		web_error(r, 403, "This form has expired or did not come from this station.",
		          web_t(r, "Open the page again and send it once more."));
		return false;
	}
	if (!(rt->flags & WEB_PUBLIC) && !r->user) {
		memcpy(next, "/login?next=", 13);
		web_redirect(r, web_local_path(r->path) &&
		                        web_query_encode(r->path, next + 12, sizeof(next) - 12)
		                    ? next
		                    : "/login");
		return false;
	}
	if (rt->right && !web_may(r, rt->right)) {
		web_error(r, 403, "Your role cannot open this page.", NULL);
		return false;
	}
	return true;
}

static void run_route(web_req *r, const web_route *rt)
{
	const hm_web_opts *o = &r->w->o;
	hm_err err;

	hm_ledger_init(&r->led, o->node);
	r->led.clock = o->clock, r->led.clock_arg = o->clock_arg;
	r->led.clock_offset_ms = o->clock_offset_ms;
	r->led.actor = r->user ? r->user->name : NULL;
	r->led.keep = r->w->keep;
	if (o->lock)
		pthread_mutex_lock(o->lock);
	err = rt->run(r);
	if (err) {
		char why[600];
		snprintf(why, sizeof(why), "%s", hm_node_errmsg(o->node));
		if (o->lock)
			pthread_mutex_unlock(o->lock);
		web_log(r, "error", "%s %s: %s", r->method, r->path, why);
		web_error(r, 500, "The station could not do this.", why);
		return;
	}
	if (o->lock)
		pthread_mutex_unlock(o->lock);
}

static void dispatch(web_req *r)
{
	const web_route *rt;
	bool known;

	if (r->body_too_big)
		web_error(r, 413, "What was sent is too large.", NULL);
	else if (r->fields_failed)
		web_error(r, 503, "The station ran out of memory.", NULL);
	else if (!strcmp(r->method, "GET") && serve_asset(r))
		;
	else if (!(rt = web_route_find(r->method, r->path, &known))) {
		if (known)
			web_header(r, "Allow", "GET, POST");
		web_error(r, known ? 405 : 404,
		          known ? "This page does not take that method." : "There is no such page.",
		          NULL);
	} else if (admit(r, rt))
		run_route(r, rt);
}

/* Whether a GET writes the access log or exports: a report with names (names=1), any CSV, the
 * audit's downloads, and the pages that record a reveal of their names (Today, a person). */
static bool writes_log(const web_req *r)
{
	const char *names = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "names");
	size_t n = strlen(r->path);

	return (names && *names) || (n >= 4 && !strcmp(r->path + n - 4, ".csv")) ||
	       !strcmp(r->path, "/audit.json") || !strcmp(r->path, "/audit/report") ||
	       !strcmp(r->path, "/today") || !strncmp(r->path, "/today/", 7) ||
	       !strncmp(r->path, "/person/", 8);
}

/* Whether the browser says that another site made this request (Sec-Fetch-Site), when it
 * is anything but the user following a link (a GET navigation of the whole window, not of a
 * frame). "same-site" counts as another: every port of 127.0.0.1 is the same site, so
 * SameSite=Strict sends the cookie to the page of any other program serving on this machine;
 * its <img> or <iframe> of a page that records a reveal would record it under the user's name.
 * A navigation that writes the access log or exports must also be the user's own click
 * (Sec-Fetch-User: ?1): that page's script setting location= sends none. A browser that sends
 * no such header is left to the CSRF token. */
static bool from_elsewhere(const web_req *r)
{
	const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *mode = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Mode");
	const char *dest = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Dest");
	const char *user = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-User");

	if (!site || !strcmp(site, "same-origin") || !strcmp(site, "none"))
		return false;
	if (strcmp(r->method, "GET") || !mode || strcmp(mode, "navigate") ||
	    (dest && strcmp(dest, "document")))
		return true;
	return !(user && !strcmp(user, "?1")) && writes_log(r);
}

/* The first call of a request: the language, the Host, where it came from, then a POST's size
 * and its form reader. */
static bool begin(web_req *r)
{
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	const char *lang = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, WEB_COOKIE_LANG);
	const char *clen, *ctype, *cookie;

	r->en = lang && !strcmp(lang, "en"); /* every page, error pages too */
	web_speak(r);

	if (!host_ok(r->w, host)) {
		web_error(r, 421, "This address is not the station's.", NULL);
		return false;
	}
	if (from_elsewhere(r)) {
		web_error(r, 403, "This form has expired or did not come from this station.", NULL);
		return false;
	}
	if (strcmp(r->method, "POST"))
		return true;
	clen = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
	if (clen && strtoull(clen, NULL, 10) > WEB_POST_MAX) {
		web_error(r, 413, "What was sent is too large.", NULL);
		return false;
	}
	/* Only a form of this station's pages (urlencoded: none is multipart) from a live
	 * session is read: anything else has no csrf field, and admit refuses it unread, so
	 * libmicrohttpd's form readers see nothing from a stranger. */
	ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, WEB_COOKIE_SESSION);
	if (ctype && !strncasecmp(ctype, FORM_TYPE, strlen(FORM_TYPE)) &&
	    (!ctype[strlen(FORM_TYPE)] || ctype[strlen(FORM_TYPE)] == ';') && cookie &&
	    web_session_find(r->w->sessions, cookie))
		r->pp = MHD_create_post_processor(r->conn, 16 * 1024, post_field, r);
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	web_req *r = *con_cls;

	(void)version;
	if (!r) {
		if (!(r = req_new(cls, conn, method, url)))
			return MHD_NO;
		*con_cls = r;
		return begin(r) ? MHD_YES : send_response(r);
	}
	if (*upload_size) {
		r->body_bytes += *upload_size;
		if (r->body_bytes > WEB_POST_MAX)
			r->body_too_big = true;
		else if (r->pp && MHD_post_process(r->pp, upload, *upload_size) != MHD_YES &&
		         !r->fields_failed)
			r->body_too_big = r->nfields == WEB_FIELDS_MAX;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->pp) { /* a form's last value is handed over only now */
		if (MHD_destroy_post_processor(r->pp) != MHD_YES && !r->fields_failed)
			r->body_too_big = true;
		r->pp = NULL;
	}
	if (!r->done) {
		web_speak(r);
		dispatch(r);
	}
	return send_response(r);
}

/* ---- start and stop ---- */

static void on_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	(void)cls, (void)file, (void)line, (void)reason;
	abort(); /* a library never prints: the core dump says where */
}

static hm_err start_daemon(hm_web *w, const listen_addr *a)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | (a->v6 ? MHD_USE_IPv6 : 0);
	/* Served to other machines, one of them cannot hold every connection (64) open. On
	 * loopback every account of the machine is 127.0.0.1, the clerk's browser too: no limit
	 * per address (0) there. */
	unsigned per_ip = w->o.any_address && !a->loopback ? WEB_PER_IP : 0;
	const union MHD_DaemonInfo *info;

	MHD_set_panic_func(on_panic, NULL);
	w->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a->ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(64 * 1024), MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_END);
	if (!w->d)
		return hm_node_fail(w->o.node, HM_ERR_NET, "cannot serve the interface on %s: %s",
		                    w->o.listen,
		                    errno ? strerror(errno) : "the address is not ours");
	info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->port = info && info->port ? info->port : a->port;
	return HM_OK;
}

/* Build each report once, for the node's region and today, so that what they read is kept
 * (w->keep) before the first page asks: a report that cannot be built is built again, and
 * says why, when a page asks for it. */
static void warm_reports(hm_web *w)
{
	const char *const *names = hm_report_names();
	hm_ledger l;

	hm_ledger_init(&l, w->o.node);
	l.clock = w->o.clock, l.clock_arg = w->o.clock_arg;
	l.clock_offset_ms = w->o.clock_offset_ms;
	l.keep = w->keep;
	for (size_t i = 0; names[i]; i++) {
		hm_report_params p = {.name = names[i], .rows = 1}; /* what it reads is the point */
		hm_report r;
		hm_err err = hm_report_build(&l, &p, &r);
		(void)err; /* a node with no person in its region, say: the page will say */
		hm_report_release(&r);
	}
}

/* Read the node's records into memory before the first page, so that no page waits for it; a
 * store that cannot be read whole is said in the log and the pages say it again. */
static hm_err keep_records(hm_web *w)
{
	hm_node *n = w->o.node;
	hm_cache_stats st;
	struct timespec t0, t1;
	hm_err err;

	if (w->o.lock)
		pthread_mutex_lock(w->o.lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!(err = hm_node_audit_keep(n)) && /* the audit page verifies only what came since */
	    !(err = hm_node_cache_records(n, w->o.records_bytes ? w->o.records_bytes
	                                                        : HM_WEB_RECORDS_BYTES)) &&
	    (err = hm_node_cache_warm(n))) {
		char msg[700];
		snprintf(msg, sizeof(msg), "reading the records: %s", hm_node_errmsg(n));
		if (w->o.log)
			w->o.log(w->o.log_arg, "warning", msg);
		err = HM_OK; /* the pages will say it again */
	}
	warm_reports(w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	hm_node_cache_stats(n, &st);
	if (w->o.lock)
		pthread_mutex_unlock(w->o.lock);
	if (!err && w->o.log && st.on) {
		char msg[200];
		snprintf(msg, sizeof(msg),
		         "%zu records kept in memory (%zu MB), read with the reports' in %lld ms",
		         st.records, st.bytes >> 20,
		         (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
		                     (t1.tv_nsec - t0.tv_nsec) / 1000000));
		w->o.log(w->o.log_arg, "info", msg);
	}
	return err;
}

hm_err hm_web_start(const hm_web_opts *o, hm_web **out)
{
	listen_addr a;
	hm_web *w;
	hm_err err;

	if (!o->listen || !parse_listen(o->listen, &a))
		return hm_node_fail(o->node, HM_ERR_INVALID,
		                    "the interface's address '%s' is not ADDR:PORT "
		                    "(127.0.0.1:8080, [::1]:8080)",
		                    o->listen ? o->listen : "");
	if (!a.loopback && !o->any_address)
		return hm_node_fail(o->node, HM_ERR_INVALID,
		                    "%s is not a loopback address: the interface serves other "
		                    "machines only when told so (--any-address)",
		                    o->listen);
	if (!(w = calloc(1, sizeof(*w))))
		return hm_node_fail(o->node, HM_ERR_NOMEM, "out of memory");
	w->o = *o;
	languages(w);
	snprintf(w->host, sizeof(w->host), "%s", a.host);
	if ((err = web_sessions_new(o->session_idle_ms ? o->session_idle_ms : 30 * 60 * 1000,
	                            &w->sessions)) ||
	    (err = web_cache_new(&w->cache)) ||
	    (err = hm_report_keep_new(o->records_bytes ? o->records_bytes : HM_WEB_RECORDS_BYTES,
	                              &w->keep))) {
		err = hm_node_fail(o->node, err, "out of memory");
		goto out;
	}
	if ((err = keep_records(w)) || (err = start_daemon(w, &a)))
		goto out;
	snprintf(w->url, sizeof(w->url), "http://%s:%u/", w->host, w->port);
	*out = w; /* owned by the caller: hm_web_stop */
out:
	if (err)
		hm_web_stop(w);
	return err;
}

void hm_web_stop(hm_web *w)
{
	if (!w)
		return;
	if (w->d)
		MHD_stop_daemon(w->d);
	web_sessions_free(w->sessions);
	web_cache_free(w->cache);
	hm_report_keep_free(w->keep);
	uselocale(LC_GLOBAL_LOCALE);
	if (w->zh)
		freelocale(w->zh);
	if (w->en)
		freelocale(w->en);
	free(w);
}

const char *hm_web_url(const hm_web *w)
{
	return w->url;
}
