/*
 * web_int.h - inside libhm_web: the request, the page builder, sessions, the route table.
 *
 * A page is a handler of the route table (routes.c): it receives a web_req whose user has the
 * route's right (server.c checked the Host, the session, the CSRF token and the right before),
 * calls the ledger, and writes its page through the builder below. Every text that is not the
 * page's own markup goes through web_esc (the ledger's one escaping rule); every visible word
 * through web_t. The node lock is held for the whole handler. A handler returns HM_OK when it
 * built a response (a page, a redirect, an error page of its own), or an error whose reason is
 * in hm_node_errmsg(r->led.node): server.c then answers 500 with that reason.
 */
#ifndef HM_WEB_INT_H
#define HM_WEB_INT_H

#include <stdio.h>

#include "web.h"

#define WEB_COOKIE_SESSION "hamlet_session"
#define WEB_COOKIE_LANG    "hamlet_lang"
#define WEB_POST_MAX       (256u << 10) /* bytes of a POST body */
#define WEB_FIELDS_MAX     512u         /* fields of one POST */
#define WEB_HEADERS_MAX    8u           /* headers a handler adds */
#define WEB_TOKEN_HEX      64           /* a session id or CSRF token, in hex */

typedef struct web_session web_session;

/* One field of a POST body: both NUL-terminated (a NUL inside a value cuts it there). */
typedef struct web_field {
	char *name, *value;
	size_t len;
} web_field;

/* One request, from its first byte to its response. */
typedef struct web_req {
	hm_web *w;
	struct MHD_Connection *conn;
	const char *method;  /* "GET", "POST" (MHD's, borrowed) */
	const char *path;    /* the URL's path, decoded (MHD's, borrowed) */
	web_session *sess;   /* NULL: none; may be a session with no user yet (the login form) */
	const hm_user *user; /* NULL: not logged in */
	hm_ledger led;       /* over the node, actor = the user's name */
	bool en;             /* English asked for (the lang cookie); else Chinese */
	/* the POST body */
	void *pp; /* struct MHD_PostProcessor */
	size_t body_bytes;
	bool body_too_big;
	web_field fields[WEB_FIELDS_MAX];
	size_t nfields;
	bool fields_failed; /* memory ran out while reading them */
	/* the response being built */
	FILE *out; /* open_memstream over buf/len */
	char *buf;
	size_t len;
	unsigned status;  /* 200 unless set */
	const char *type; /* Content-Type, static; NULL: text/html; charset=utf-8 */
	char *headers[WEB_HEADERS_MAX][2]; /* owned */
	size_t nheaders;
	bool done; /* a response was chosen (web_redirect, web_error) */
} web_req;

/* ---- The page builder (html.c) ---- */

/* The serving thread speaks the request's language from now on (its messages locale: zh_CN.UTF-8
 * or C), so that web_t and the libraries' reasons (hm_node_errmsg) are in it. server.c calls it
 * before any page or error page is built. */
void web_speak(const web_req *r);
/* The word msgid (English) in the request's language: Chinese by default, English when the
 * hamlet_lang cookie says en. Static; never NULL (msgid itself when no word is known). */
const char *web_t(const web_req *r, const char *msgid);
/* The page's head and the top bar (the user, the language switch, logout), then <main> and
 * <h1>: title is an English msgid, shown through web_t. */
void web_page_begin(web_req *r, const char *title);
/* The links of the top bar (nav.c): each page the user may open (its GET route exists and the
 * user has its right), the current one aria-current="page". */
void web_nav(web_req *r);
/* Closes <main>, the body and the page. */
void web_page_end(web_req *r);
/* text, escaped by the ledger's rule (hm_text_html_write): for element content and for quoted
 * attribute values alike. NULL writes nothing. */
void web_esc(web_req *r, const char *text);
/* The page's own markup, as is: never a value that came from outside. */
void web_raw(web_req *r, const char *html);
/* The page's own markup with printf's numbers (%d, %zu, %.1f); never %s of outside text. */
void web_rawf(web_req *r, const char *fmt, ...) HM_PRINTF(2, 3);
/* text percent-encoded for a URL's query (every byte but A-Z a-z 0-9 - . _ ~), which is also
 * safe inside a quoted attribute. */
void web_esc_query(web_req *r, const char *text);
/* s percent-encoded as web_esc_query writes it, into out (NUL-terminated): false when it does
 * not fit in cap bytes. */
bool web_query_encode(const char *s, char *out, size_t cap);
/* <form method="post" action="ACTION"> and the hidden csrf field of the session; action is the
 * page's own path (escaped). web_form_end closes it. */
void web_form_begin(web_req *r, const char *action);
void web_form_end(web_req *r);
/* ms since the epoch as the station's local time, as people write it ("2026-12-06 08:30"), or
 * "-" for 0 (never), into out (cap bytes). */
void web_when(char *out, size_t cap, uint64_t ms);
/* The field a ledger reason starts with ("id_number: must be ...", in Chinese "id_number（身份证
 * 号）：应为 ...", or "--days must be ..."): true with its name in word (cap bytes, '-' as '_')
 * and *rest the reason after "NAME: " (why itself when no colon follows); false (word "", *rest
 * why) when the reason starts with no name. */
bool web_reason_field(const char *why, char *word, size_t cap, const char **rest);
/* One <th> per column name (an English msgid, through web_t; "" an empty cell), for a table's
 * head row. */
void web_th(web_req *r, const char *const *cols, size_t n);
/* A notice box: kind "ok" or "error"; text escaped. */
void web_notice(web_req *r, const char *kind, const char *text);

/* ---- The request (server.c) ---- */

/* The query argument name of a GET (or POST) URL, or NULL. Borrowed for the request. */
const char *web_arg(web_req *r, const char *name);
/* The POST field name (the first of that name), or NULL. Borrowed for the request. */
const char *web_field_get(const web_req *r, const char *name);
/* Whether the user may do what (hm_role_may); false without a user. */
bool web_may(const web_req *r, hm_right what);
/* The response's status (200 unless set), Content-Type (static: "text/csv; charset=utf-8"), and
 * one more header (name and value copied; false when WEB_HEADERS_MAX are set or memory ran
 * out). */
void web_status(web_req *r, unsigned status);
void web_type(web_req *r, const char *type);
bool web_header(web_req *r, const char *name, const char *value);
/* Answer 303 See Other to location (a local path, copied); what was written is dropped. */
void web_redirect(web_req *r, const char *location);
/* Answer status with a page of its own ("Not possible"): the message msgid through web_t,
 * detail (may be NULL) escaped beneath; what was written is dropped, the headers stay. */
void web_error(web_req *r, unsigned status, const char *msgid, const char *detail);
/* Whether path is a path of this server (starts with one '/', no scheme, no host, printable
 * ASCII only): what a next= or back= may redirect to. */
bool web_local_path(const char *path);
/* The server's node directory and its log. */
const char *web_dir(const web_req *r);
void web_log(const web_req *r, const char *level, const char *fmt, ...) HM_PRINTF(3, 4);

/* ---- Sessions (session.c) ---- */

typedef struct web_sessions web_sessions;
hm_err web_sessions_new(uint64_t idle_ms, web_sessions **out) HM_MUST_CHECK;
void web_sessions_free(web_sessions *t);
/* The live session whose id is the cookie's value, or NULL (none, unknown or idle too long:
 * then it is ended). Its idle time starts again. */
web_session *web_session_find(web_sessions *t, const char *cookie);
/* A new session (a user, or NULL for the login form's): *cookie_out gets its id (hex) for the
 * Set-Cookie. When the table is full the least recently used gives way, of the login forms'
 * for a login form's (never a user's), of the user's own once a user has eight, else of the
 * users'. Never NULL. */
web_session *web_session_new(web_sessions *t, const hm_user *user,
                             char cookie_out[WEB_TOKEN_HEX + 1]);
void web_session_end(web_sessions *t, web_session *s);
/* End every user's session whose account is not in users[0..n) (sorted by name, as
 * hm_user_list gives them; NULL when n is 0) as it was at login: removed (or removed and added
 * again), or given a new password or role since. server.c calls it when the users file
 * changed. */
void web_sessions_recheck(web_sessions *t, const hm_user *users, size_t n);
const hm_user *web_session_user(const web_session *s); /* NULL: no one logged in */
const char *web_session_csrf(const web_session *s);    /* hex, for forms */
/* What a save said that its record does not (a verb's note and warning), kept from the POST
 * for the page it redirects to: set, then taken once by the GET of the same key. */
void web_session_flash_set(web_session *s, const char *key, const char *note, const char *warning);
bool web_session_flash_take(web_session *s, const char *key, char *note, size_t ncap, char *warning,
                            size_t wcap);
/* Whether token is s's CSRF token (compared in constant time); false for NULL. */
bool web_session_csrf_ok(const web_session *s, const char *token);
/* Login throttle: whether name (or the station as a whole) must wait before another try: true
 * and *wait_s the seconds left. web_login_failed counts a wrong password, web_login_ok forgets
 * the name's. */
bool web_login_wait(web_sessions *t, const char *name, unsigned *wait_s);
void web_login_failed(web_sessions *t, const char *name);
void web_login_ok(web_sessions *t, const char *name);
/* The Set-Cookie value of a session (HttpOnly; SameSite=Strict; Path=/), or of its end. */
void web_session_cookie(char *out, size_t cap, const char *id);

/* ---- Forms over the ledger's field verbs (form.c) ---- */

/* A number of a macro as a literal text (a page's attribute from a ledger's limit). */
#define WEB_STR_(x) #x
#define WEB_STR(x)  WEB_STR_(x)

/* N_("text") marks a word of a table, shown later through web_t, for the gettext catalogue's
 * extraction (the same definition as the catalogue's own). */
#ifndef N_
#define N_(s) s
#endif

/* A form for one verb of the ledger's table (hm_verb): one input per field the page names,
 * built from the schema (a field's allowed words as a <select> showing their Chinese words,
 * dates as <input type=date>, times as datetime-local), labelled through web_t. A POST runs the
 * verb with the values as typed (the ledger's hm_ledger_value_parse takes 男, 2026/12/6): each
 * value is checked first and its error shown beside its field; anything refused writes
 * nothing and keeps the values in the form. The form adds no rule: the verb's and the
 * ledger's checks decide. */
#define WEB_FORM_FIELDS 12
enum {
	WEB_FF_REQUIRED = 1, /* the page asks for it (a verb's positionals always are) */
	WEB_FF_TEXTAREA = 2, /* several lines */
};
/* "id" names the record a verb without a prefix edits (the tip to verify); "reject" the
 * checkbox of a verb with HM_VERB_REJECT. Any other name is a field of the verb's collection. */
typedef struct web_ff {
	const char *field;
	unsigned flags; /* WEB_FF_* */
} web_ff;
/* One choice of a field picked from a list (a store, a tip): value and what is shown. A value
 * not listed is refused ("Choose one from the list.") unless the pick has a check of its own or
 * names a record the ledger checks (a person, the record a verb edits). */
typedef struct web_choice {
	char value[HM_ID_MAX + 1];
	char label[160];
} web_choice;
typedef struct web_pick {
	const char *field;   /* NULL: none */
	const web_choice *v; /* borrowed from the page for the form's life */
	size_t n;
	hm_err (*check)(hm_ledger *l, const char *value); /* why a value is refused; may be NULL */
	bool suggest; /* a text input suggesting them (<datalist>): any value the checks take */
} web_pick;
typedef struct web_form {
	/* set by the page */
	const hm_verb *v;
	const char *action;             /* the path it posts to (borrowed) */
	const char *title;              /* msgid of its heading; may be NULL */
	const char *button;             /* msgid of its button */
	web_ff fields[WEB_FORM_FIELDS]; /* in order, ended by a NULL field */
	const char *fixed[2][2];        /* {field, value} the page gives (borrowed): not shown */
	web_pick picks[2];
	/* set by web_form_post; released by web_form_release */
	bool posted, refused;
	char *vals[WEB_FORM_FIELDS]; /* the values posted, trimmed */
	char *errs[WEB_FORM_FIELDS]; /* the error beside each field, or NULL */
	char error[1024];            /* the refusal no field names, or "" */
	char saved[640];             /* set by web_form_outcome: what was saved, in words, or "" */
	hm_verb_result res;          /* what was written */
} web_form;

/* Whether r's POST is f's: its hidden field "verb" names f's verb ("stock receive"). */
bool web_form_is(const web_req *r, const web_form *f);
/* Run f's verb with the values of r's POST (f->vals, f->errs, f->res set; f->refused when
 * anything was refused, then nothing is written). Fields whose value is empty are not given
 * (the verb's defaults apply). Returns HM_OK when the form was answered (written or refused),
 * or a store error (reason in hm_node_errmsg). */
hm_err web_form_post(web_req *r, web_form *f) HM_MUST_CHECK;
/* Write f: its heading, the outcome of a POST (the note, or the refusal no field names), each
 * field with its value (kept when refused) and its error, the button. */
void web_form_write(web_req *r, const web_form *f);
/* After f's POST was written (posted, not refused): answer 303 See Other to page (a local
 * path without a query) carrying the outcome as ?saved=CMD-SUB&id=ID, so that a reload sends
 * nothing twice; true when it did. Nothing but the verb's words and the record's id goes into
 * the URL. */
bool web_form_done(web_req *r, const web_form *f, const char *page);
/* On a GET: the outcome web_form_done carried, set on the one of forms[0..n) whose verb it
 * names (f->saved: the record read back and named in words, the person's name, the item and
 * quantity); a verb or id that is none of ours is ignored. */
void web_form_outcome(web_req *r, web_form *forms, size_t n);
/* Frees what web_form_post kept. */
void web_form_release(web_form *f);
/* The English label (a msgid for web_t) of a field: "Item" for item. Static. */
const char *web_field_label(const char *field);
/* web_word (words.c), and the words of a number field the ledger's table does not hold (an
 * exposure's degree 1 or 2: "1: close contact"). Static or word. */
const char *web_value_word(const web_req *r, const char *coll, const char *field, const char *word);
/* The sites of kind store on this node as choices (value: the id, label: "name (id)"), at most
 * cap; *n set. Errors: those of hm_node_list. */
hm_err web_stores(web_req *r, web_choice *out, size_t cap, size_t *n) HM_MUST_CHECK;
/* The values of field in the records of coll, each once, in the node's order (the first cap),
 * as choices for suggestions: the items stock moved, the compounds persons live in; *n set.
 * Errors: those of hm_node_list. */
hm_err web_distinct(web_req *r, const char *coll, const char *field, web_choice *out, size_t cap,
                    size_t *n) HM_MUST_CHECK;
/* WEB_PERSONS_MAX persons of this node as choices (value: the id, label: the name), for
 * suggestions; *n set. near (may be NULL: the first by id): not that person, and those who live
 * nearest to them first (their household, their compound, their village, then the others, each
 * by id), the contacts a clerk most often adds. Errors: those of hm_node_list, HM_ERR_NOMEM. */
#define WEB_PERSONS_MAX 300
hm_err web_persons(web_req *r, const hm_record *near, web_choice *out, size_t *n) HM_MUST_CHECK;

/* ---- Records in tables (records.c) ---- */

/* A table's head: each column's label (web_field_label through web_t); web_records_end closes
 * it. */
void web_records_head(web_req *r, const char *const *cols, size_t n);
void web_records_end(web_req *r);
/* One row of rec: each column's value ("id": the record's id) as web_value_write writes it. */
void web_records_row(web_req *r, const hm_record *rec, const char *const *cols, size_t n,
                     bool mask);
/* The value of field in rec, escaped: a word in the clerk's words (web_value_word), a field naming
 * a person as a link to /person/ID, personal text (HM_F_PII) masked by hm_ledger_mask when mask;
 * nothing when rec has no such field. */
void web_value_write(web_req *r, const hm_record *rec, const char *field, bool mask);
/* The same of a value of a library model's JSON (a record's "fields" member): a string, a
 * number or true/false; nothing for null or another kind. */
void web_json_value_write(web_req *r, const char *coll, const char *field, const json_t *v,
                          bool mask);
/* One row of a record of a library model's JSON ({collection, id, region, fields}), as
 * web_records_row writes an hm_record. */
void web_json_row(web_req *r, const json_t *rec, const char *const *cols, size_t n, bool mask);
/* A link to /person/ID showing text (NULL: the id). */
void web_person_link(web_req *r, const char *id, const char *text);
/* Every record of coll, in the node's (id, so time) order, at most max rows, or "None yet.".
 * Errors: those of hm_node_list. */
hm_err web_records_table(web_req *r, const char *coll, const char *const *cols, size_t n,
                         size_t max, bool mask) HM_MUST_CHECK;

/* ---- Routes (routes.c) and pages (page_*.c) ---- */

typedef hm_err (*web_handler)(web_req *r);
enum {
	WEB_PUBLIC = 1, /* no login needed (/login, /lang, /static/) */
	WEB_PREFIX = 2, /* path is a prefix: /person/ matches /person/ID */
};
typedef struct web_route {
	const char *method, *path;
	hm_right right; /* 0: any logged-in user */
	unsigned flags;
	web_handler run;
} web_route;
/* The route of method and path: *out, or NULL with *path_known telling whether another method
 * has that path (405) or none (404). */
const web_route *web_route_find(const char *method, const char *path, bool *path_known);

/* The files of web/assets, compiled in (assets.c, generated by web/embed.cmake). */
typedef struct web_asset {
	const char *path, *type;
	const unsigned char *data;
	size_t len;
} web_asset;
extern const web_asset web_assets[];
extern const size_t web_nassets;

hm_err web_page_login(web_req *r);
hm_err web_page_login_post(web_req *r);
hm_err web_page_logout(web_req *r);
hm_err web_page_lang(web_req *r);
hm_err web_page_home(web_req *r); /* nav.c: the pages the user may open, as buttons */
hm_err web_page_sync(web_req *r);
hm_err web_page_sync_now(web_req *r);
hm_err web_page_sync_bundle(web_req *r);
/* the field-work forms: /stock, /tips, /notices (page_stock.c, page_tips.c), /person/ID
 * (page_person.c: POST /person/ID/reveal|contact|followup, each with its own right) */
hm_err web_page_stock(web_req *r);
hm_err web_page_stock_post(web_req *r);
hm_err web_page_tips(web_req *r);
hm_err web_page_tips_post(web_req *r);
hm_err web_page_notices(web_req *r);
hm_err web_page_notices_post(web_req *r);
hm_err web_page_person(web_req *r);
hm_err web_page_person_post(web_req *r);
/* /today, /today/print (page_today.c), /register (page_register.c) */
hm_err web_page_today(web_req *r);
hm_err web_page_today_post(web_req *r);
hm_err web_page_today_print(web_req *r);
hm_err web_page_register(web_req *r);
hm_err web_page_register_post(web_req *r);
hm_err web_page_reports(web_req *r);         /* page_reports.c */
hm_err web_page_report(web_req *r);          /* /reports/NAME, /reports/NAME.csv */
hm_err web_page_questions(web_req *r);       /* page_questions.c */
hm_err web_page_questions_merge(web_req *r); /* POST keep, drop */
hm_err web_page_questions_apart(web_req *r); /* POST keep, drop: this session only */
/* /audit, /audit.json, /audit/report (page_audit.c), /peers (page_peers.c) */
hm_err web_page_audit(web_req *r);
hm_err web_page_audit_json(web_req *r);
hm_err web_page_audit_report(web_req *r);
hm_err web_page_peers(web_req *r);

/* ---- Stored words as a person reads them (words.c) ---- */

/* The words shown for word, a stored word of field coll.field ("male" of person.sex): its
 * Chinese from the ledger's one table (hm_ledger_word_zh), or word itself in English or when the
 * table has none. Static or word; never NULL. */
const char *web_word(const web_req *r, const char *coll, const char *field, const char *word);
/* <select name="NAME"> of the allowed words of coll.field (the schema's list, or words "a|b"
 * when not NULL), each option's value the stored word and its label web_word's; the one equal
 * to selected (may be NULL) selected; an empty first option when blank. */
void web_word_select(web_req *r, const char *name, const char *coll, const char *field,
                     const char *words, const char *selected, bool blank);

/* ---- What pages built from the store, kept until it changes (cache.c) ---- */

typedef struct web_cache web_cache;
typedef void (*web_cache_free_fn)(void *val);
hm_err web_cache_new(web_cache **out) HM_MUST_CHECK;
void web_cache_free(web_cache *c); /* NULL ok */
/* The value kept under key when it was built at stamp (hm_node_stamp of the store now), else
 * NULL (an entry of another stamp is dropped). Borrowed until the next web_cache_put. */
void *web_cache_get(web_cache *c, const char *key, uint64_t stamp);
/* Keep val under key, built at stamp; bytes is what it weighs. restamp: val shows nothing an
 * access-log record changes (Today, a report), so it stays valid over web_cache_restamp; false
 * for a value that counts or shows the station's own change sets (the audit). true: val is the
 * cache's from now on (released with free_fn when it gives way). false when it cannot be kept (a
 * key over 240 bytes, too heavy): val stays the caller's. */
bool web_cache_put(web_cache *c, const char *key, uint64_t stamp, void *val, size_t bytes,
                   bool restamp, web_cache_free_fn free_fn);
/* This thread's own write moved the stamp from before to after and wrote nothing but an
 * access-log record: entries of stamp before put with restamp stay valid at after (the others
 * are stale from now on). Does nothing unless after is before + 1 (no other write landed
 * between). */
void web_cache_restamp(web_cache *c, uint64_t before, uint64_t after);
/* The server's cache, for the pages. */
web_cache *web_cache_of(const web_req *r);
/* hm_ledger_record_access under the user's name, keeping the cache's entries valid over this
 * one write (it adds an access record, which nothing kept shows). Errors as that function's. */
hm_err web_record_access(web_req *r, const char *action, const char *what,
                         size_t records) HM_MUST_CHECK;

/* The server's sessions (server.c), for the login pages. */
web_sessions *web_sessions_of(const web_req *r);

#endif
