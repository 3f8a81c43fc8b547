/*
 * page_peers.c - /peers: each peer's state for a township officer and a county auditor, from
 * the station's status (hm_status_read: the figures of `hamlet status` and of /sync): its
 * address, last success and failure, change sets sent and received, what waits to be sent,
 * failures in a row and why the last one failed; the station's clock against its peers' (and
 * the warning when it is off) and its disk. With ?probe=1 each peer is asked now what waits
 * each way (3 s at most each). /sync stays the clerk's page, with its buttons.
 */
#include "web_int.h"

#include <inttypes.h>
#include <string.h>

/* A span of ms in the request's words: "3 days", "5 h", "12 min", "40 s". */
static void span_text(web_req *r, char *out, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s >= 2 * 86400)
		snprintf(out, cap, "%" PRIu64 " %s", s / 86400, web_t(r, "day(s)"));
	else if (s >= 2 * 3600)
		snprintf(out, cap, "%" PRIu64 " %s", s / 3600, web_t(r, "h"));
	else if (s >= 120)
		snprintf(out, cap, "%" PRIu64 " %s", s / 60, web_t(r, "min"));
	else
		snprintf(out, cap, "%" PRIu64 ".%03" PRIu64 " %s", s, ms % 1000, web_t(r, "s"));
}

/* The clock line: not measured yet, or how far from the peer of the last sync, and the
 * warning when it is off (hm_status_clock_warning). */
static void clock_part(web_req *r, const hm_clock_report *k)
{
	uint64_t mag =
	    k->offset_ms < 0 ? (uint64_t)0 - (uint64_t)k->offset_ms : (uint64_t)k->offset_ms;
	char span[48], bound[48], warning[512], peer[2 * HM_NODE_ID_BYTES + 1];

	span_text(r, bound, sizeof(bound), k->max_drift_ms);
	web_raw(r, "<p class=\"clock\">");
	web_esc(r, web_t(r, "Clock"));
	web_raw(r, ": ");
	if (!k->known) {
		web_esc(r, web_t(r, "not measured yet (a sync measures it)"));
	} else {
		span_text(r, span, sizeof(span), mag);
		web_esc(r, web_t(r, k->offset_ms > 0   ? "behind its peer by"
		                    : k->offset_ms < 0 ? N_("ahead of its peer by")
		                                       : N_("the same as its peer's, off by")));
		web_rawf(r, " <span data-offset-ms=\"%lld\">", (long long)k->offset_ms);
		web_esc(r, span);
		hm_hex_encode(peer, k->peer.b, HM_NODE_ID_BYTES);
		web_raw(r, "</span> (<code>");
		web_esc(r, peer);
		web_raw(r, "</code>; ");
		web_esc(r, web_t(r, "allowed drift"));
		web_raw(r, " ");
		web_esc(r, bound);
		web_raw(r, ")");
	}
	web_raw(r, "</p>\n");
	if (hm_status_clock_warning(k, warning, sizeof(warning)))
		web_notice(r, "error",
		           r->en ? warning
		                 : web_t(r, "This station's clock is off by more than the allowed "
		                            "drift: set it right (docs/running.md)."));
}

/* The station: its clock, its disk, and why its peers could not be read. */
static void station_part(web_req *r, const hm_status *st)
{
	char free_text[32];

	clock_part(r, &st->clock);
	if (st->disk_free != UINT64_MAX) {
		hm_status_bytes_text(free_text, sizeof(free_text), st->disk_free);
		web_raw(r, "<p class=\"disk\">");
		web_esc(r, web_t(r, "Disk"));
		web_raw(r, ": ");
		web_esc(r, free_text);
		web_raw(r, " ");
		web_esc(r, web_t(r, "free"));
		web_raw(r, "</p>\n");
	}
	if (st->disk_full)
		web_notice(r, "error",
		           web_t(r, "The disk is full: writes fail until space is freed."));
	if (!st->peers_loaded)
		web_notice(r, "error", st->peers_error);
}

static void when_cell(web_req *r, uint64_t ms)
{
	char when[32];

	web_when(when, sizeof(when), ms);
	web_rawf(r, "<td data-ms=\"%" PRIu64 "\">", ms);
	web_esc(r, when);
	web_raw(r, "</td>");
}

static void peer_row(web_req *r, const hm_status_peer *sp)
{
	const hm_link *p = &sp->link;

	web_raw(r, "<tr data-peer=\"");
	web_esc(r, p->name);
	web_raw(r, "\"><td>");
	web_esc(r, p->name);
	web_raw(r, "</td><td><code>");
	web_esc(r, p->url);
	web_raw(r, "</code></td>");
	when_cell(r, p->last_ok);
	when_cell(r, p->last_err);
	web_rawf(r, "<td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">",
	         p->sent, p->received);
	if (sp->waiting >= 0)
		web_rawf(r, "%ld", sp->waiting);
	else
		web_esc(r, web_t(r, "unknown (no sync yet)"));
	web_rawf(r, "</td><td class=\"num\">%u</td><td>", p->failures);
	web_esc(r, p->reason);
	web_raw(r, "</td>");
	if (sp->probed) {
		web_raw(r, "<td>");
		if (sp->reachable)
			web_rawf(r, "%" PRIu64 " / %" PRIu64, sp->to_send, sp->to_receive);
		else {
			web_esc(r, web_t(r, "unreachable:"));
			web_raw(r, " ");
			web_esc(r, sp->probe_error);
		}
		web_raw(r, "</td>");
	}
	web_raw(r, "</tr>\n");
}

static void peers_table(web_req *r, const hm_status *st, bool probe)
{
	static const char *const cols[] = {
	    N_("Peer"),       "Address",      N_("Last success"),    N_("Last failure"),
	    N_("Sent"),       N_("Received"), N_("Waiting to send"), N_("Failures"),
	    N_("Last error"),
	};

	if (!st->npeers) {
		web_raw(r, "<p>");
		web_esc(r, web_t(r, "This station has no peers yet (hamlet peer add)."));
		web_raw(r, "</p>\n");
		return;
	}
	web_raw(r, "<table class=\"peers\"><thead><tr>");
	web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
	if (probe) {
		web_raw(r, "<th>");
		web_esc(r, web_t(r, "Now: to send / to receive"));
		web_raw(r, "</th>");
	}
	web_raw(r, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < st->npeers; i++)
		peer_row(r, &st->peers[i]);
	web_raw(r, "</tbody></table>\n");
}

hm_err web_page_peers(web_req *r)
{
	const char *probe_arg = web_arg(r, "probe");
	bool probe = probe_arg && !strcmp(probe_arg, "1");
	hm_status st;
	hm_err err;

	if ((err = hm_status_read_links(&r->led, web_dir(r), probe, &st)))
		return err;
	web_page_begin(r, "Peers");
	station_part(r, &st);
	peers_table(r, &st, probe);
	if (!probe && st.npeers) {
		web_raw(r, "<p class=\"links noprint\"><a href=\"/peers?probe=1\">");
		web_esc(r, web_t(r, "Ask each peer now what waits (up to 3 s each)"));
		web_raw(r, "</a></p>\n");
	}
	web_page_end(r);
	hm_status_release(&st);
	return HM_OK;
}
