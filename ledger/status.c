/* status.c - a node's status as `hamlet status` and the web's sync page show it: who it is, what
 * it holds, its clock against its peer's, the disk, and each peer's last exchanges. */
#include "ledger_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

#define PROBE_MS 3000

void hm_status_bytes_text(char *out, size_t cap, uint64_t b)
{
	if (b >= (uint64_t)10 << 30)
		snprintf(out, cap, "%.1f GiB", (double)b / (double)(1u << 30));
	else if (b >= (uint64_t)1 << 20)
		snprintf(out, cap, "%.1f MiB", (double)b / (double)(1u << 20));
	else
		snprintf(out, cap, "%" PRIu64 " KiB", b >> 10);
}

/* Each peer's state, and with probe what waits each way now. */
static hm_err read_peers(hm_node *n, const char *dir, bool probe, hm_status *s)
{
	hm_peers ps;

	if (hm_peers_load(dir, &ps)) {
		snprintf(s->peers_error, sizeof(s->peers_error), "%s", hm_sync_errmsg());
		return HM_OK; /* the rest of the status stands */
	}
	s->peers_loaded = true;
	if (ps.n && !(s->peers = calloc(ps.n, sizeof(*s->peers))))
		return hm_node_fail(n, HM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ps.n; i++) {
		hm_status_peer *p = &s->peers[s->npeers++];
		uint64_t count;
		p->link = ps.p[i];
		p->waiting = hm_link_waiting(dir, n, &p->link, &count) ? -1 : (long)count;
		if (!(p->probed = probe))
			continue;
		p->reachable = !hm_link_probe(n, &p->link, PROBE_MS, &p->to_send, &p->to_receive);
		if (!p->reachable)
			snprintf(p->probe_error, sizeof(p->probe_error), "%s", hm_sync_errmsg());
	}
	return HM_OK;
}

static hm_err status_read(hm_ledger *l, const char *dir, bool probe, bool counts, hm_status *out)
{
	hm_node *n = l->node;
	hm_err err;

	memset(out, 0, sizeof(*out));
	out->colls = hm_schema_collections(&out->ncoll);
	if (out->ncoll > HM_STATUS_COLLS)
		out->ncoll = HM_STATUS_COLLS;
	if (!counts)
		hm_node_ident(n, &out->info);
	if ((counts && (err = hm_node_info_counts(n, &out->info, out->counts, out->ncoll))) ||
	    (err = hm_node_version_vector(n, &out->vv)) ||
	    (err = hm_vv_format(&out->vv, &out->vv_text)) ||
	    (err = hm_node_clock_get(n, &out->clock)))
		goto out;
	out->disk_full = hm_disk_full(dir, &out->disk_free);
	err = read_peers(n, dir, probe, out);
out:
	if (err)
		hm_status_release(out);
	return err;
}

hm_err hm_status_read(hm_ledger *l, const char *dir, bool probe, hm_status *out)
{
	return status_read(l, dir, probe, true, out);
}

hm_err hm_status_read_links(hm_ledger *l, const char *dir, bool probe, hm_status *out)
{
	return status_read(l, dir, probe, false, out);
}

void hm_status_release(hm_status *s)
{
	if (!s)
		return;
	free(s->vv_text);
	hm_vv_release(&s->vv);
	free(s->peers);
	s->vv_text = NULL;
	s->peers = NULL;
	s->npeers = 0;
}

/* The words of the clock line: how far, which side, the bound. */
static void clock_words(const hm_clock_report *k, char span[48], char bound[48], const char **side)
{
	uint64_t mag =
	    k->offset_ms < 0 ? (uint64_t)0 - (uint64_t)k->offset_ms : (uint64_t)k->offset_ms;

	*side = k->offset_ms > 0 ? "behind" : "ahead of";
	hm_clock_span(span, 48, mag);
	hm_clock_span(bound, 48, k->max_drift_ms);
}

bool hm_status_clock_warning(const hm_clock_report *k, char *buf, size_t cap)
{
	char span[48], bound[48];
	const char *side;

	if (!k->off)
		return false;
	clock_words(k, span, bound, &side);
	snprintf(buf, cap,
	         "this station's clock is %s %s its peer's, more than the allowed drift (%s): set "
	         "it right (docs/running.md)",
	         span, side, bound);
	return true;
}

/* ---- JSON ---- */

static json_t *clock_json(const hm_clock_report *k)
{
	return json_pack(
	    "{s:I, s:b, s:o, s:o, s:o}", "max_drift_ms", (json_int_t)k->max_drift_ms, "off", k->off,
	    "offset_ms", k->known ? json_integer(k->offset_ms) : json_null(), "peer",
	    k->known ? hm_json_hex(k->peer.b, HM_NODE_ID_BYTES) : json_null(), "measured_ms",
	    k->known ? json_integer((json_int_t)k->measured_ms) : json_null());
}

json_t *hm_status_peer_json(const hm_status_peer *sp)
{
	const hm_link *p = &sp->link;
	json_t *o = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name",
	                      hm_json_cstr(p->name), "url", hm_json_cstr(p->url), "last_ok_ms",
	                      (json_int_t)p->last_ok, "last_error_ms", (json_int_t)p->last_err,
	                      "failures", (json_int_t)p->failures, "sent", (json_int_t)p->sent,
	                      "received", (json_int_t)p->received, "waiting_to_send",
	                      (json_int_t)sp->waiting, "last_error", hm_json_cstr(p->reason));
	if (sp->probed && !sp->reachable)
		json_object_set_new(o, "probe",
		                    json_pack("{s:o}", "error", hm_json_cstr(sp->probe_error)));
	else if (sp->probed)
		json_object_set_new(o, "probe",
		                    json_pack("{s:I, s:I}", "to_send", (json_int_t)sp->to_send,
		                              "to_receive", (json_int_t)sp->to_receive));
	return o;
}

/* The records held per collection, and the version vector. */
static void add_holdings(json_t *o, const hm_status *s)
{
	json_t *recs = json_object(), *vvj = json_array();

	for (size_t i = 0; i < s->ncoll; i++)
		if (s->colls[i].name[0] != '_')
			json_object_set_new(recs, s->colls[i].name,
			                    json_integer((json_int_t)s->counts[i]));
	for (size_t i = 0; i < s->vv.n; i++)
		json_array_append_new(vvj,
		                      json_pack("{s:o, s:I, s:o}", "origin",
		                                hm_json_hex(s->vv.v[i].origin.b, HM_NODE_ID_BYTES),
		                                "seq", (json_int_t)s->vv.v[i].seq, "hash",
		                                hm_json_hex(s->vv.v[i].hash.b, HM_HASH_BYTES)));
	json_object_set_new(o, "records", recs);
	json_object_update_new(
	    o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "changesets",
	                 (json_int_t)s->info.changesets, "pending", (json_int_t)s->info.pending,
	                 "quarantined", (json_int_t)s->info.quarantined, "refused",
	                 (json_int_t)s->info.refused, "forks", (json_int_t)s->info.forks,
	                 "conflicts", (json_int_t)s->info.conflicts));
	json_object_set_new(o, "version_vector", vvj);
	json_object_set_new(o, "version_vector_text", hm_json_cstr(s->vv_text));
}

json_t *hm_status_json(const hm_status *s)
{
	const hm_node_info *info = &s->info;
	json_t *o =
	    json_pack("{s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:I}", "node_id",
	              hm_json_hex(info->id.b, HM_NODE_ID_BYTES), "role", hm_role_name(info->role),
	              "region", hm_json_cstr(info->region), "name", hm_json_cstr(info->name),
	              "trust", info->trust, "enrolled", info->enrolled, "root",
	              info->enrolled ? hm_json_hex(info->root.b, HM_SIGN_PUB_BYTES) : json_null(),
	              "seq", (json_int_t)info->seq);
	json_t *peers = json_array();

	add_holdings(o, s);
	json_object_set_new(o, "clock", clock_json(&s->clock));
	/* Free bytes stay out of the JSON: they change with every file written anywhere on the
	 * disk, and status --json is compared before and after to tell "nothing changed". */
	json_object_set_new(o, "disk", json_pack("{s:b}", "full", s->disk_full));
	for (size_t i = 0; i < s->npeers; i++)
		json_array_append_new(peers, hm_status_peer_json(&s->peers[i]));
	json_object_set_new(o, "peers", peers);
	return o;
}

/* ---- text ---- */

static void write_clock(FILE *f, const hm_clock_report *k)
{
	char span[48], bound[48];
	const char *side;

	clock_words(k, span, bound, &side);
	if (!k->known) {
		fprintf(f,
		        "clock     not measured yet (a sync measures it against the peer); allowed "
		        "drift %s\n",
		        bound);
		return;
	}
	fprintf(f, "clock     %s%s %s peer ", k->off ? "WRONG: " : "", span, side);
	hm_text_hex(f, k->peer.b, HM_NODE_ID_BYTES);
	fputs(" (measured at ", f);
	hm_text_hlc(f, (hm_hlc)k->measured_ms << 16);
	fputs(" by this station's clock)", f);
	if (k->off)
		fprintf(f, ", more than the allowed drift (%s): set it right; until then %s\n",
		        bound,
		        k->offset_ms > 0
		            ? "it may hold back change sets from right clocks in quarantine"
		            : "its writes wait in quarantine at stations whose clocks are right");
	else
		fprintf(f, ", within the allowed drift (%s)\n", bound);
}

static void write_disk(FILE *f, const hm_status *s)
{
	char text[32];

	if (s->disk_free == UINT64_MAX)
		return;
	hm_status_bytes_text(text, sizeof(text), s->disk_free);
	if (s->disk_full)
		fprintf(
		    f,
		    "disk      full: %s free; writes fail until space is freed (reads and syncs "
		    "that only pull go on)\n",
		    text);
	else
		fprintf(f, "disk      %s free\n", text);
}

/* "never", "12 s ago", "5 min ago", "3 h ago" */
static void fmt_ago(char *out, size_t cap, uint64_t now, uint64_t then)
{
	uint64_t s = then && now > then ? (now - then) / 1000 : 0;
	if (!then)
		snprintf(out, cap, "never");
	else if (s < 120)
		snprintf(out, cap, "%llu s ago", (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, cap, "%llu min ago", (unsigned long long)s / 60);
	else
		snprintf(out, cap, "%llu h ago", (unsigned long long)s / 3600);
}

static void write_peer(FILE *f, const hm_status_peer *sp, uint64_t now)
{
	const hm_link *p = &sp->link;
	char ok[32], er[32];

	fmt_ago(ok, sizeof(ok), now, p->last_ok);
	fmt_ago(er, sizeof(er), now, p->last_err);
	fprintf(f, "  %-12s ", p->name);
	hm_text_pad(f, p->url, 28);
	fprintf(f, " last ok %-12s sent %zu, received %zu", ok, p->sent, p->received);
	if (sp->waiting >= 0)
		fprintf(f, ", %ld waiting to send", sp->waiting);
	if (p->failures) {
		fprintf(f, "; %u failure%s, last %s: ", p->failures, p->failures == 1 ? "" : "s",
		        er);
		hm_text_cstr(f, p->reason);
	}
	fputc('\n', f);
	if (sp->probed && !sp->reachable) {
		fputs("               now: unreachable: ", f);
		hm_text_cstr(f, sp->probe_error);
		fputc('\n', f);
	} else if (sp->probed)
		fprintf(f,
		        "               now: %" PRIu64 " waiting to send, %" PRIu64
		        " waiting to receive\n",
		        sp->to_send, sp->to_receive);
}

/* Who the node is, what it holds, its version vector. */
static void write_holdings(FILE *f, const hm_status *s)
{
	const hm_node_info *info = &s->info;

	fputs("node      ", f);
	hm_text_hex(f, info->id.b, HM_NODE_ID_BYTES);
	fputs("\nname      ", f);
	hm_text_cstr(f, info->name);
	fprintf(f, "\nrole      %s\nregion    %s\nseq       %" PRIu64 "\nrecords  ",
	        hm_role_name(info->role), info->region, info->seq);
	for (size_t i = 0; i < s->ncoll; i++)
		if (s->colls[i].name[0] != '_')
			fprintf(f, " %s %zu", s->colls[i].name, s->counts[i]);
	fprintf(f, "\nkeys      %s",
	        !info->trust     ? "none (a node for tests)"
	        : info->enrolled ? "enrolled, root key "
	                         : "not enrolled yet (hamlet enroll request)");
	if (info->enrolled)
		hm_text_hex(f, info->root.b, HM_SIGN_PUB_BYTES);
	fprintf(f, "\nchange sets %zu held, %zu pending, %zu quarantined, %zu refused, %zu forks\n",
	        info->changesets, info->pending, info->quarantined, info->refused, info->forks);
	fprintf(f, "conflicts %zu\nversion vector (%zu origin%s):\n", info->conflicts, s->vv.n,
	        s->vv.n == 1 ? "" : "s");
	for (size_t i = 0; i < s->vv.n; i++) {
		fputs("  ", f);
		hm_text_hex(f, s->vv.v[i].origin.b, HM_NODE_ID_BYTES);
		fprintf(f, "  seq %-8" PRIu64 " last ", s->vv.v[i].seq);
		hm_text_hlc(f, s->vv.v[i].hlc);
		fputc('\n', f);
	}
	fprintf(f, "as text: %s\n", *s->vv_text ? s->vv_text : "(empty)");
}

hm_err hm_status_write(const hm_status *s, uint64_t now_ms, FILE *f)
{
	write_holdings(f, s);
	write_clock(f, &s->clock);
	write_disk(f, s);
	if (s->peers_loaded) {
		fprintf(f, "peers (%zu):\n", s->npeers);
		for (size_t i = 0; i < s->npeers; i++)
			write_peer(f, &s->peers[i], now_ms);
	}
	return fflush(f) || ferror(f) ? HM_ERR_IO : HM_OK;
}
