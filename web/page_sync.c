/*
 * page_sync.c - /sync: each peer of the station with its last exchange and what waits to be
 * sent to it, from the station's status (hm_status_read, the figures of /peers and `hamlet
 * status`); "sync now" with one peer (POST /sync/now, as `hamlet sync PEER`
 * does: hm_sync_run, then the outcome in peers.state); "write a bundle" to a path on this
 * machine (POST /sync/bundle, as `hamlet export -o PATH` does: hm_bundle_export).
 */
#include "web_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void peer_row(web_req *r, const hm_status_peer *sp)
{
	const hm_link *p = &sp->link;
	char when[32];

	web_raw(r, "<tr><td>");
	web_esc(r, p->name);
	web_raw(r, "</td><td><code>");
	web_esc(r, p->url);
	web_raw(r, "</code></td><td>");
	web_when(when, sizeof(when), p->last_ok);
	web_esc(r, when);
	web_rawf(r, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">",
	         p->sent, p->received);
	if (sp->waiting >= 0)
		web_rawf(r, "%ld", sp->waiting);
	else
		web_esc(r, web_t(r, "unknown (no sync yet)"));
	web_raw(r, "</td><td>");
	if (p->failures) {
		web_when(when, sizeof(when), p->last_err);
		web_rawf(r, "%u &times; ", p->failures);
		web_esc(r, when);
		web_raw(r, ": ");
		web_esc(r, p->reason);
	}
	web_raw(r, "</td><td class=\"noprint\">");
	web_form_begin(r, "/sync/now");
	web_raw(r, "<input type=\"hidden\" name=\"peer\" value=\"");
	web_esc(r, p->name);
	web_raw(r, "\"><button type=\"submit\">");
	web_esc(r, web_t(r, "Sync now"));
	web_raw(r, "</button>");
	web_form_end(r);
	web_raw(r, "</td></tr>\n");
}

static void bundle_form(web_req *r)
{
	web_raw(r, "<section class=\"noprint\"><h2>");
	web_esc(r, web_t(r, "Write a bundle"));
	web_raw(r, "</h2><p>");
	web_esc(r, web_t(r, "A sealed file of everything this station holds, for a USB stick."));
	web_raw(r, "</p>");
	web_form_begin(r, "/sync/bundle");
	web_raw(r, "<p><label>");
	web_esc(r, web_t(r, "File (a full path on this machine)"));
	web_raw(r, "<br><input name=\"path\" required size=\"50\" "
	           "placeholder=\"/media/usb/station.bundle\"></label> <button type=\"submit\">");
	web_esc(r, web_t(r, "Write the bundle"));
	web_raw(r, "</button></p>");
	web_form_end(r);
	web_raw(r, "</section>\n");
}

/* The page, with the outcome of what was just done on top (kind "ok" or "error"; may be NULL).
 * The figures are the station's status (hm_status_read), as `hamlet status` and /peers show
 * them. */
static hm_err sync_page(web_req *r, const char *kind, const char *outcome)
{
	static const char *const cols[] = {N_("Peer"),    "Address",      N_("Last exchange"),
	                                   N_("Sent"),    N_("Received"), N_("Waiting to send"),
	                                   N_("Failures")};
	hm_status st;
	hm_err err;

	if ((err = hm_status_read_links(&r->led, web_dir(r), false, &st)))
		return err;
	web_page_begin(r, "Sync");
	if (outcome)
		web_notice(r, kind, outcome);
	if (!st.peers_loaded)
		web_notice(r, "error", st.peers_error);
	if (!st.npeers) {
		web_raw(r, "<p>");
		web_esc(r, web_t(r, "This station has no peers yet (hamlet peer add)."));
		web_raw(r, "</p>\n");
	} else {
		web_raw(r, "<table><thead><tr>");
		web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
		web_raw(r, "<th class=\"noprint\"></th></tr></thead><tbody>\n");
		for (size_t i = 0; i < st.npeers; i++)
			peer_row(r, &st.peers[i]);
		web_raw(r, "</tbody></table>\n");
	}
	bundle_form(r);
	web_page_end(r);
	hm_status_release(&st);
	return HM_OK;
}

/* A count of the query's argument name: digits only (else 0). */
static size_t count_arg(web_req *r, const char *name)
{
	const char *s = web_arg(r, name);

	return s && *s && strlen(s) < 16 && strspn(s, "0123456789") == strlen(s)
	           ? (size_t)strtoull(s, NULL, 10)
	           : 0;
}

/* The outcome a 303 of a POST carried (?done=synced&peer=NAME&sent=N&received=N or
 * ?done=bundle&changesets=N&bytes=N) in words; "" for none. Only a peer this station has is
 * named (and escaped when shown, as every text is). */
static void done_words(web_req *r, char *msg, size_t cap)
{
	const char *done = web_arg(r, "done"), *peer = web_arg(r, "peer");
	hm_peers ps;

	msg[0] = 0;
	if (!done)
		return;
	if (!strcmp(done, "bundle"))
		snprintf(msg, cap, "%s: %zu %s, %zu %s.", web_t(r, "Bundle written"),
		         count_arg(r, "changesets"), web_t(r, "change sets"), count_arg(r, "bytes"),
		         web_t(r, "bytes"));
	else if (!strcmp(done, "synced") && peer && !hm_peers_load(web_dir(r), &ps) &&
	         hm_peers_find(&ps, peer))
		snprintf(msg, cap, "%s %s: %s %zu, %s %zu.", web_t(r, "Synced with"), peer,
		         web_t(r, "sent"), count_arg(r, "sent"), web_t(r, "received"),
		         count_arg(r, "received"));
}

hm_err web_page_sync(web_req *r)
{
	char msg[600];

	done_words(r, msg, sizeof(msg));
	return sync_page(r, msg[0] ? "ok" : NULL, msg[0] ? msg : NULL);
}

/* One sync with p, its outcome kept in peers.state as `hamlet sync` keeps it. */
static void sync_with(web_req *r, hm_peers *ps, hm_link *p, char *msg, size_t cap, bool *ok,
                      size_t sent_recv[2])
{
	hm_sync_opts o = {.timeout_ms = 10000};
	const char *why = NULL;
	hm_sync_stats st;
	hm_transport t;
	hm_peers disk;
	hm_err err;

	memset(&st, 0, sizeof(st));
	if (!(err = hm_net_connect_within(p->url, HM_CONNECT_TIMEOUT_MS, &t, &why))) {
		if ((err = hm_sync_run(r->led.node, &t, &o, &st)))
			why = hm_sync_errmsg();
		t.close(t.ctx);
	}
	if (err) {
		hm_link_failed(p, hm_ledger_now_ms(&r->led), why ? why : hm_strerror(err));
		snprintf(msg, cap, "%s %s: %s", web_t(r, "The sync failed with"), p->name,
		         p->reason);
	} else {
		hm_link_succeeded(p, hm_ledger_now_ms(&r->led), st.sent, st.received, 0);
		snprintf(msg, cap, "%s %s: %s %zu, %s %zu.", web_t(r, "Synced with"), p->name,
		         web_t(r, "sent"), st.sent, web_t(r, "received"), st.received);
		if (hm_link_remember(web_dir(r), r->led.node, p, st.peer.region))
			web_log(r, "warning", "sync with %s: %s", p->name, hm_sync_errmsg());
	}
	*ok = !err;
	sent_recv[0] = st.sent, sent_recv[1] = st.received;
	/* the daemon (serve) beside us may have synced other links meanwhile: keep its outcomes,
	 * from the peers file as it is now, and this link's own from here */
	if (!hm_peers_load(web_dir(r), &disk))
		hm_peers_adopt(ps, &disk, p);
	if (hm_peers_save(web_dir(r), ps, HM_PEERS_STATE))
		web_log(r, "warning", "sync with %s: %s", p->name, hm_sync_errmsg());
	web_log(r, err ? "warning" : "info", "%s asked for a sync with %s: %s", r->user->name,
	        p->name, err ? p->reason : "done");
}

hm_err web_page_sync_now(web_req *r)
{
	const char *name = web_field_get(r, "peer");
	char msg[600], name_q[3 * HM_PEER_NAME_MAX + 1], to[3 * HM_PEER_NAME_MAX + 96];
	size_t sent_recv[2] = {0, 0};
	bool ok = false;
	hm_peers ps;
	hm_link *p;

	if (hm_peers_load(web_dir(r), &ps))
		return sync_page(r, "error", hm_sync_errmsg());
	if (!name || !(p = hm_peers_find(&ps, name))) {
		web_status(r, 400);
		return sync_page(r, "error", web_t(r, "There is no such peer."));
	}
	sync_with(r, &ps, p, msg, sizeof(msg), &ok, sent_recv);
	if (ok && web_query_encode(p->name, name_q, sizeof(name_q))) {
		/* 303 back to /sync (a reload syncs nothing again), the outcome in known words */
		snprintf(to, sizeof(to), "/sync?done=synced&peer=%s&sent=%zu&received=%zu", name_q,
		         sent_recv[0], sent_recv[1]);
		web_redirect(r, to);
		return HM_OK;
	}
	web_status(r, 502); /* nothing was saved: the page answers here, as a refused form */
	return sync_page(r, "error", msg);
}

/* Whether path may take a bundle (else *why, a msgid): a full path, its folder one that
 * exists, outside the station's own folder (a file put there, such as a peers file the station
 * has not made yet, would be read as the station's own). */
static bool bundle_path_ok(web_req *r, const char *path, const char **why)
{
	char dir[PATH_MAX], real[PATH_MAX], node[PATH_MAX];
	const char *slash = path ? strrchr(path, '/') : NULL;
	size_t n, k;

	*why = N_("Give the bundle's full path, from /.");
	if (!path || path[0] != '/' || strpbrk(path, "\n\r\t") || !slash[1] ||
	    (size_t)(slash - path) >= sizeof(dir))
		return false;
	n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n), dir[n] = 0;
	*why = N_("The bundle's folder does not exist on this machine.");
	if (!realpath(dir, real))
		return false;
	*why = N_("A bundle cannot be written into the station's own folder.");
	if (!realpath(web_dir(r), node))
		return false;
	k = strlen(node);
	return strncmp(real, node, k) || (real[k] != '/' && real[k] != 0);
}

/* The bundle's file, made new here (O_EXCL: never one that exists, whatever a check before
 * would have seen; O_NOFOLLOW: never a link's target) and 0600; the export then fills it.
 * false and msg set (the status too) when it cannot be made. */
static bool bundle_reserve(web_req *r, const char *path, char *msg, size_t cap)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	web_status(r, errno == EEXIST ? 409 : 400);
	snprintf(msg, cap, "%s: %s", web_t(r, "The bundle was not written"),
	         errno == EEXIST ? web_t(r, "that file exists already; choose another name")
	                         : strerror(errno));
	return false;
}

hm_err web_page_sync_bundle(web_req *r)
{
	const char *path = web_field_get(r, "path"), *why;
	hm_bundle_stats st;
	char msg[600];
	hm_err err;

	if (!bundle_path_ok(r, path, &why)) {
		web_status(r, 400);
		return sync_page(r, "error", web_t(r, why));
	}
	if (!bundle_reserve(r, path, msg, sizeof(msg)))
		return sync_page(r, "error", msg);
	if ((err = hm_bundle_export(r->led.node, NULL, path, true, NULL, &st))) {
		unlink(path); /* the empty file made above */
		snprintf(msg, sizeof(msg), "%s: %s", web_t(r, "The bundle was not written"),
		         hm_bundle_errmsg());
		web_status(r, 500);
		return sync_page(r, "error", msg);
	}
	web_log(r, "info", "%s wrote a bundle to %s (%zu change sets)", r->user->name, path,
	        st.changesets);
	/* 303 back to /sync (a reload writes no second bundle), the outcome in numbers */
	snprintf(msg, sizeof(msg), "/sync?done=bundle&changesets=%zu&bytes=%zu", st.changesets,
	         st.bytes);
	web_redirect(r, msg);
	return HM_OK;
}
