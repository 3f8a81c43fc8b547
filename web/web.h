/*
 * web.h - the station's own screen: a web interface served by the node's own process, on
 * loopback unless told otherwise (issue #12; docs/development.md, "The web interface", and
 * docs/security.md, "The web interface").
 *
 * hm_web_start serves HTTP/1.1 (GNU libmicrohttpd) from one thread of its own. Every request is
 * answered under the caller's lock (hm_web_opts.lock), so the node is never used by the web
 * and by anything else at once. What the interface guarantees, whatever a browser sends:
 * - a request whose Host header is not this server's address (or localhost, 127.0.0.1, [::1]
 *   with its port) is answered 421 and nothing else (no DNS rebinding);
 * - every response carries a strict Content-Security-Policy (no inline script or style, nothing
 *   from elsewhere), X-Content-Type-Options nosniff, Referrer-Policy no-referrer;
 * - a page asked for without a session leads to /login; a session ends after session_idle_ms
 *   without a request; its cookie is HttpOnly and SameSite=Strict;
 * - every POST carries its session's CSRF token or is refused 403, and a body over a cap is
 *   refused 413; five wrong passwords for a name slow the next tries (429);
 * - every text shown is escaped by the ledger's one rule (hm_text_html_write).
 * It adds no rule of its own: every page calls the ledger's, sync's and node's functions.
 *
 * Nothing here prints or reads the environment: it reports through opts->log and, on start,
 * through hm_node_fail(opts->node).
 */
#ifndef HM_WEB_H
#define HM_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "sync.h"

typedef struct hm_web hm_web;

/* A line for the operator's log: level "info", "warning" or "error"; msg borrowed for the call,
 * one line, already escaped by hm_text's rule. Called from the web's own thread. */
typedef void (*hm_web_log_fn)(void *arg, const char *level, const char *msg);

/* The pages read the node's records from memory (hm_node_cache_records), read whole when the
 * interface starts and kept current as the store changes: up to this many bytes of them. */
#define HM_WEB_RECORDS_BYTES ((size_t)2 << 30)

typedef struct hm_web_opts {
	const char *dir;       /* the node directory (users, peers); borrowed for the web's life */
	hm_node *node;         /* open with its keys; borrowed for the web's life */
	const char *listen;    /* "127.0.0.1:8080" or "[::1]:8080"; port 0: any free port */
	bool any_address;      /* allow an address other than loopback */
	pthread_mutex_t *lock; /* may be NULL; held around every use of node */
	hm_ledger_clock clock; /* as hm_ledger: NULL, the system clock plus clock_offset_ms */
	void *clock_arg;
	int64_t clock_offset_ms;
	uint64_t session_idle_ms; /* 0: 30 minutes */
	size_t records_bytes;     /* records kept decoded in memory: hm_node_cache_records; 0:
	                             HM_WEB_RECORDS_BYTES */
	hm_web_log_fn log;        /* may be NULL */
	void *log_arg;
} hm_web_opts;

/* Start serving as o says; *out is owned by the caller (hm_web_stop). o is copied; the strings
 * and objects it points to are borrowed until hm_web_stop. Errors, through
 * hm_node_fail(o->node): HM_ERR_INVALID (listen is not ADDR:PORT, or not a loopback address
 * without any_address), HM_ERR_NET (the address cannot be bound: in use, not ours),
 * HM_ERR_NOMEM. */
hm_err hm_web_start(const hm_web_opts *o, hm_web **out) HM_MUST_CHECK;

/* Stop serving: waits for the request being answered, closes every connection, ends every
 * session (their secrets wiped) and frees w. NULL is accepted. */
void hm_web_stop(hm_web *w);

/* "http://127.0.0.1:8080/" (the port bound, when 0 was asked); borrowed, valid until
 * hm_web_stop. Never NULL for a started w. */
const char *hm_web_url(const hm_web *w);

#endif
