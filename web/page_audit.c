/*
 * page_audit.c - /audit: the audit of the station's store (what `hamlet audit` shows), built
 * from the ledger's one audit document (hm_audit_json, kept until the store changes): its
 * findings first, each in plain words (or "no finding"), then each origin, what it wrote and
 * whether every write of it verified. For a user who may export, the document itself
 * (/audit.json, as `hamlet audit --json` prints it) and, on the county, its signed audit report
 * (/audit/report, hm_audit_sign, as `hamlet audit --sign` writes it). The document names
 * stations, regions and change sets, never a person: neither download is a personal-data export
 * and neither goes to the access log.
 */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_KEY "audit %s" /* the date: "audited at" is the day's */

/* A finding's kind (hm_audit_finding_name) in plain words: an English msgid. */
static const char *finding_words(const char *kind)
{
	static const char *const words[][2] = {
	    {"bad-signature", N_("A write whose signature does not verify: altered on the way, or "
	                         "not written by the station it names.")},
	    {"broken-chain", N_("A write that does not follow its station's write before it.")},
	    {"equivocation",
	     N_("Forked: the station wrote two different writes under one number.")},
	    {"out-of-scope", N_("A write outside the region its station may write.")},
	    {"after-revocation", N_("A write made after its station's certificate was revoked.")},
	    {"clock", N_("A write stamped with a time its station's clock cannot have had.")},
	    {"refused", N_("A write this station refused.")},
	    {"gap", N_("Writes missing: later ones of the station arrived, earlier ones did not.")},
	    {"unknown-origin", N_("A write of a station whose certificate is not known here.")},
	    {"revoked-issuer", N_("A station enrolled by a station that was revoked.")},
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i][0], kind))
			return words[i][1];
	return N_("Another finding.");
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long int_of(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The origin object of hex id origin in doc, or NULL. */
static const json_t *origin_of(const json_t *doc, const char *origin)
{
	const json_t *origins = json_object_get(doc, "origins");

	for (size_t i = 0; i < json_array_size(origins); i++)
		if (!strcmp(str_of(json_array_get(origins, i), "origin"), origin))
			return json_array_get(origins, i);
	return NULL;
}

/* An ISO time of the audit ("2026-12-06T08:30:00.000Z") as the station's local time. */
static void iso_when(char *out, size_t cap, const char *iso)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, s;

	if (sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) {
		snprintf(out, cap, "%s", *iso ? iso : "-");
		return;
	}
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
	web_when(out, cap, (uint64_t)timegm(&tm) * 1000);
}

static void station_cell(web_req *r, const json_t *doc, const char *origin)
{
	const json_t *o = origin_of(doc, origin);

	web_raw(r, "<code>");
	web_esc(r, origin);
	web_raw(r, "</code>");
	if (o && *str_of(o, N_("region"))) {
		web_raw(r, "<br>");
		web_esc(r, str_of(o, N_("region")));
	}
}

static void findings_section(web_req *r, const json_t *doc)
{
	static const char *const cols[] = {N_("What was found"), N_("Station"), N_("Write no."),
	                                   N_("Detail")};
	const json_t *findings = json_object_get(doc, "findings");

	web_raw(r, "<section class=\"findings\"><h2>");
	web_esc(r, web_t(r, "Findings"));
	web_raw(r, "</h2>\n");
	if (!json_array_size(findings)) {
		web_raw(r, "<p class=\"notice ok\" role=\"status\">");
		web_esc(r, web_t(r, "No finding: every write held here verifies."));
		web_raw(r, "</p></section>\n");
		return;
	}
	web_raw(r, "<p class=\"notice error\" role=\"status\">");
	web_rawf(r, "%zu ", json_array_size(findings));
	web_esc(r, web_t(r, "finding(s): look into each below."));
	web_raw(r, "</p>\n<table><thead><tr>");
	web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
	web_raw(r, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < json_array_size(findings); i++) {
		const json_t *f = json_array_get(findings, i);
		web_raw(r, "<tr data-kind=\"");
		web_esc(r, str_of(f, "kind"));
		web_rawf(r, "\" data-seq=\"%lld\"><td>", int_of(f, "seq"));
		web_esc(r, web_t(r, finding_words(str_of(f, "kind"))));
		web_raw(r, "</td><td>");
		station_cell(r, doc, str_of(f, "origin"));
		web_rawf(r, "</td><td class=\"num\">%lld</td><td>", int_of(f, "seq"));
		web_esc(r, str_of(f, "reason"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

/* What the audit says of one origin's writes: verified, or a gap, a revocation, findings. */
static void origin_check(web_req *r, const json_t *o)
{
	long long to = int_of(o, "seq_to"), pending = int_of(o, "pending_from");
	long long findings = int_of(o, "findings");
	bool revoked = json_is_true(json_object_get(o, "revoked"));

	if (!findings && !revoked && !pending) {
		web_esc(r, web_t(r, "every write verified"));
		return;
	}
	if (pending) {
		web_esc(r, web_t(r, "missing writes"));
		web_rawf(r, " %lld&ndash;%lld ", to + 1, pending - 1);
		web_esc(r, web_t(r, "(not arrived yet)."));
		web_raw(r, " ");
	}
	if (revoked) {
		web_esc(r, web_t(r, "revoked: its writes after"));
		web_rawf(r, " %lld ", int_of(o, "revoked_after"));
		web_esc(r, web_t(r, "are withdrawn."));
		web_raw(r, " ");
	}
	if (findings) {
		web_rawf(r, "%lld ", findings);
		web_esc(r, web_t(r, "finding(s)"));
	}
}

static void origin_row(web_req *r, const json_t *o)
{
	const char *role = str_of(o, "role");
	char when[32];

	web_raw(r, "<tr data-origin=\"");
	web_esc(r, str_of(o, "origin"));
	web_raw(r, "\"><td><code>");
	web_esc(r, str_of(o, "origin"));
	web_raw(r, "</code></td><td>");
	web_esc(r, web_t(r, *role ? role : "unknown"));
	web_raw(r, "</td><td>");
	web_esc(r, str_of(o, N_("region")));
	if (int_of(o, "seq_to"))
		web_rawf(r, "</td><td class=\"num\">%lld&ndash;%lld</td><td>",
		         int_of(o, "seq_from"), int_of(o, "seq_to"));
	else
		web_raw(r, "</td><td class=\"num\">-</td><td>");
	iso_when(when, sizeof(when), str_of(o, "last_heard"));
	web_esc(r, when);
	web_raw(r, json_is_true(json_object_get(o, "revoked")) || int_of(o, "findings") ||
	                   int_of(o, "pending_from")
	               ? "</td><td class=\"error\">"
	               : "</td><td>");
	origin_check(r, o);
	web_raw(r, "</td></tr>\n");
}

static void origins_section(web_req *r, const json_t *doc)
{
	static const char *const cols[] = {N_("Station"), N_("Role"),          "Region",
	                                   N_("Writes"),  N_("Last write at"), N_("Verification")};
	const json_t *origins = json_object_get(doc, "origins");

	web_raw(r, "<section class=\"origins\"><h2>");
	web_esc(r, web_t(r, "Stations whose writes are held here"));
	web_raw(r, "</h2>\n<table><thead><tr>");
	web_th(r, cols, sizeof(cols) / sizeof(cols[0]));
	web_raw(r, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < json_array_size(origins); i++)
		origin_row(r, json_array_get(origins, i));
	web_raw(r, "</tbody></table></section>\n");
}

/* Who audited, when; the downloads for a user who may export. */
static void audit_head(web_req *r, const json_t *doc)
{
	hm_node_info self;
	char when[32];

	web_when(when, sizeof(when), (uint64_t)int_of(doc, "at") * 1000);
	web_raw(r, "<p class=\"about\">");
	web_esc(r, web_t(r, "Audited by this station"));
	web_raw(r, " <code>");
	web_esc(r, str_of(doc, "auditor"));
	web_raw(r, "</code> (");
	web_esc(r, str_of(doc, N_("region")));
	web_raw(r, "), ");
	web_esc(r, when);
	web_raw(r, "</p>\n");
	if (!web_may(r, HM_RIGHT_EXPORT))
		return;
	hm_node_ident(r->led.node, &self);
	web_raw(r, "<p class=\"links noprint\"><a href=\"/audit.json\" download>");
	web_esc(r, web_t(r, "Download the audit (JSON)"));
	web_raw(r, "</a>");
	if (self.role == HM_ROLE_COUNTY && self.trust) {
		web_raw(r, " · <a href=\"/audit/report\" download>");
		web_esc(r, web_t(r, "Download the county's signed audit report"));
		web_raw(r, "</a>");
	}
	web_raw(r, "</p>\n");
}

static void doc_free(void *doc)
{
	json_decref(doc);
}

hm_err web_page_audit(web_req *r)
{
	uint64_t stamp = hm_node_stamp(r->led.node);
	char key[32], today[11];
	json_t *doc, *own = NULL;
	size_t nfindings;
	hm_err err;

	hm_ledger_today(&r->led, today);
	snprintf(key, sizeof(key), AUDIT_KEY, today);
	if (!(doc = web_cache_get(web_cache_of(r), key, stamp))) {
		if ((err = hm_audit_json(&r->led, &doc, &nfindings)))
			return err;
		/* a document weighs about 300 bytes per origin and finding */
		if (!web_cache_put(
		        web_cache_of(r), key, stamp, doc,
		        300 * (json_array_size(json_object_get(doc, "origins")) + nfindings + 1),
		        false, doc_free))
			own = doc;
	}
	web_page_begin(r, "Audit");
	audit_head(r, doc);
	findings_section(r, doc);
	origins_section(r, doc);
	web_page_end(r);
	json_decref(own);
	return HM_OK;
}

/* The Content-Disposition of the file audit-REGION-DATE.EXT, the region's '/' as '-'. */
static void file_name(web_req *r, const char *ext, char *out, size_t cap)
{
	char name[HM_REGION_MAX + 32], today[11];
	hm_node_info self;

	hm_node_ident(r->led.node, &self);
	hm_ledger_today(&r->led, today);
	snprintf(name, sizeof(name), "audit-%s-%s.%s", self.region, today, ext);
	for (char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
	snprintf(out, cap, "attachment; filename=\"%s\"", name);
}

hm_err web_page_audit_json(web_req *r)
{
	char disp[HM_REGION_MAX + 64];
	size_t nfindings;

	file_name(r, "json", disp, sizeof(disp));
	web_type(r, "application/json");
	if (!web_header(r, "Content-Disposition", disp))
		return hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	return hm_audit_render(&r->led, HM_REPORT_FMT_JSON, r->out, &nfindings);
}

hm_err web_page_audit_report(web_req *r)
{
	char disp[HM_REGION_MAX + 64], *doc = NULL;
	size_t len, nfindings;
	hm_node_info self;
	hm_err err;

	hm_node_ident(r->led.node, &self);
	if (self.role != HM_ROLE_COUNTY || !self.trust) {
		web_error(r, 404, "Only the county signs audit reports.", NULL);
		return HM_OK;
	}
	if ((err = hm_audit_sign(&r->led, NULL, &doc, &len, &nfindings)))
		return err;
	file_name(r, N_("report"), disp, sizeof(disp));
	web_type(r, "text/plain; charset=utf-8");
	if (!web_header(r, "Content-Disposition", disp))
		err = hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	else if (fwrite(doc, 1, len, r->out) != len)
		err = hm_node_fail(r->led.node, HM_ERR_NOMEM, "out of memory");
	free(doc);
	if (!err)
		web_log(r, "info", "%s took the signed audit report (%zu findings)", r->user->name,
		        nfindings);
	return err;
}
