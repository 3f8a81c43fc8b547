/* audit.c - the audit document of a node (what `hamlet audit` prints and the web's audit page
 * shows): its origins and findings as text or JSON, and the county's signed copy. */
#include "ledger_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAGIC "hamlet audit report v1\n"
#define SIG_PREFIX   "signature "

const char *hm_audit_finding_name(hm_finding_kind k)
{
	switch (k) {
	case HM_FINDING_BAD_SIGNATURE:
		return "bad-signature";
	case HM_FINDING_BROKEN_CHAIN:
		return "broken-chain";
	case HM_FINDING_FORK:
		return "equivocation";
	case HM_FINDING_OUT_OF_SCOPE:
		return "out-of-scope";
	case HM_FINDING_AFTER_REVOCATION:
		return "after-revocation";
	case HM_FINDING_CLOCK:
		return "clock";
	case HM_FINDING_REFUSED:
		return "refused";
	case HM_FINDING_GAP:
		return "gap";
	case HM_FINDING_UNKNOWN_ORIGIN:
		return "unknown-origin";
	case HM_FINDING_REVOKED_ISSUER:
		return "revoked-issuer";
	}
	return "other";
}

typedef struct audit_out {
	FILE *f;                    /* text, or NULL */
	json_t *origins, *findings; /* JSON, or NULL */
	bool nomem;                 /* a part of the JSON could not be made */
} audit_out;

/* Append v to arr; a value that could not be made stops the audit (hm_node_audit then returns
 * HM_OK: nomem says why it stopped). */
static int append(audit_out *a, json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, v))
		a->nomem = true;
	return a->nomem ? -1 : 0;
}

static int audit_origin_cb(void *ctx, const hm_audit_origin *o)
{
	audit_out *a = ctx;
	if (!a->f)
		return append(a, a->origins,
		              json_pack("{s:o, s:s, s:o, s:i, s:I, s:I, s:o, s:b, s:I, s:I}",
		                        "origin", hm_json_hex(o->origin.b, HM_NODE_ID_BYTES),
		                        "role", o->has_cert ? hm_role_name(o->role) : "", "region",
		                        hm_json_cstr(o->region), "seq_from", o->seq ? 1 : 0,
		                        "seq_to", (json_int_t)o->seq, "pending_from",
		                        (json_int_t)o->pending_from, "last_heard",
		                        hm_json_hlc(o->last), "revoked", o->revoked,
		                        "revoked_after", (json_int_t)o->revoked_after, "findings",
		                        (json_int_t)o->findings));
	hm_text_hex(a->f, o->origin.b, HM_NODE_ID_BYTES);
	fprintf(a->f, "  %-8s ", o->has_cert ? hm_role_name(o->role) : "?");
	hm_text_pad(a->f, o->region, 24);
	fprintf(a->f, " seq 1..%-6" PRIu64 " last ", o->seq);
	hm_text_hlc(a->f, o->last);
	if (o->pending_from)
		fprintf(a->f, "  GAP %" PRIu64 "..%" PRIu64, o->seq + 1, o->pending_from - 1);
	if (o->revoked)
		fprintf(a->f, "  REVOKED after %" PRIu64, o->revoked_after);
	fprintf(a->f, "  %zu finding%s\n", o->findings, o->findings == 1 ? "" : "s");
	return 0;
}

static int audit_finding_cb(void *ctx, const hm_audit_finding *f)
{
	audit_out *a = ctx;
	if (!a->f)
		return append(
		    a, a->findings,
		    json_pack("{s:s, s:o, s:I, s:o, s:o}", "kind", hm_audit_finding_name(f->kind),
		              "origin", hm_json_hex(f->origin.b, HM_NODE_ID_BYTES), "seq",
		              (json_int_t)f->seq, "id", hm_json_hex(f->id.b, HM_HASH_BYTES),
		              "reason", hm_json_cstr(f->reason)));
	fprintf(a->f, "FINDING %-16s ", hm_audit_finding_name(f->kind));
	hm_text_hex(a->f, f->origin.b, HM_NODE_ID_BYTES);
	fprintf(a->f, ":%" PRIu64 "  ", f->seq);
	hm_text_cstr(a->f, f->reason);
	fputc('\n', a->f);
	return 0;
}

/* The text's head: who audited, and the origins' heading. */
static void write_head(FILE *f, const hm_node_info *info)
{
	fputs("audit by ", f);
	hm_text_cstr(f, info->name);
	fputs(" (", f);
	hm_text_hex(f, info->id.b, HM_NODE_ID_BYTES);
	fprintf(f, ") of %s\n\norigins:\n", info->region);
}

/* Both passes of the audit: origins, then findings (a blank line between them in text). */
static hm_err audit_run(hm_ledger *l, audit_out *a, size_t *nfindings)
{
	hm_audit_cb only_origins = {audit_origin_cb, NULL, a},
	            only_findings = {NULL, audit_finding_cb, a};
	hm_err err;

	if ((err = hm_node_audit(l->node, &only_origins, NULL)))
		return err;
	if (a->f)
		fputc('\n', a->f);
	if ((err = hm_node_audit(l->node, &only_findings, nfindings)))
		return err;
	return a->nomem ? HM_ERR_NOMEM : HM_OK;
}

hm_err hm_audit_json(hm_ledger *l, json_t **out, size_t *nfindings)
{
	audit_out a = {NULL, json_array(), json_array(), false};
	hm_node_info info;
	json_t *doc;
	hm_err err = HM_ERR_NOMEM;

	*out = NULL;
	*nfindings = 0;
	hm_node_ident(l->node, &info);
	doc = json_pack("{s:o, s:o, s:I, s:O, s:O}", "auditor",
	                hm_json_hex(info.id.b, HM_NODE_ID_BYTES), "region",
	                hm_json_cstr(info.region), "at", (json_int_t)(hm_ledger_now_ms(l) / 1000),
	                "origins", a.origins, "findings", a.findings);
	if (doc && !(err = audit_run(l, &a, nfindings)) &&
	    json_object_set_new(doc, "clean", json_boolean(*nfindings == 0)))
		err = HM_ERR_NOMEM;
	json_decref(a.origins);
	json_decref(a.findings);
	if (err) {
		json_decref(doc);
		*nfindings = 0;
		return err == HM_ERR_NOMEM ? hm_node_fail(l->node, err, "out of memory") : err;
	}
	*out = doc; /* the caller's */
	return HM_OK;
}

hm_err hm_audit_render(hm_ledger *l, hm_report_format fmt, FILE *f, size_t *nfindings)
{
	audit_out a = {f, NULL, NULL, false};
	hm_node_info info;
	json_t *doc;
	hm_err err;

	*nfindings = 0;
	if (fmt == HM_REPORT_FMT_JSON) {
		if ((err = hm_audit_json(l, &doc, nfindings)))
			return err;
		err = hm_json_write(f, doc);
	} else if (fmt == HM_REPORT_FMT_TEXT) {
		hm_node_ident(l->node, &info);
		write_head(f, &info);
		if ((err = audit_run(l, &a, nfindings)))
			return err;
		fprintf(f, "%s: %zu finding%s\n", *nfindings ? "NOT CLEAN" : "clean", *nfindings,
		        *nfindings == 1 ? "" : "s");
	} else
		return hm_node_fail(l->node, HM_ERR_INVALID, "the audit is text or JSON");
	if (!err && (fflush(f) || ferror(f)))
		err = HM_ERR_IO;
	if (err)
		hm_node_fail(l->node, err, "writing the audit failed: %s",
		             err == HM_ERR_NOMEM ? "out of memory" : strerror(errno));
	return err;
}

/* The signature line of text, by ident, or without one by l's node itself (hm_node_sign) whose
 * key, a county's, is its root: "signature HEX by PUBHEX\n". */
static hm_err sign_line(hm_ledger *l, const hm_identity *ident, const hm_node_info *info,
                        const char *text, size_t len, char *line, size_t cap)
{
	char sighex[2 * HM_SIGNATURE_BYTES + 1], pubhex[2 * HM_SIGN_PUB_BYTES + 1];
	hm_signature sig;
	hm_hash h;
	hm_err err;

	hm_hash_buf(text, len, &h);
	if ((err = ident ? hm_sign_hash(&sig, ident, &h) : hm_node_sign(l->node, &h, &sig)))
		return err;
	hm_hex_encode(sighex, sig.b, sizeof(sig.b));
	hm_hex_encode(pubhex, ident ? ident->sign_pub.b : info->root.b, HM_SIGN_PUB_BYTES);
	snprintf(line, cap, SIG_PREFIX "%s by %s\n", sighex, pubhex);
	return HM_OK;
}

hm_err hm_audit_sign(hm_ledger *l, const hm_identity *ident, char **out, size_t *len,
                     size_t *nfindings)
{
	char line[256];
	hm_node_info info;
	FILE *f = NULL;
	hm_err err;

	*out = NULL;
	*len = 0;
	*nfindings = 0;
	hm_node_ident(l->node, &info);
	if (info.role != HM_ROLE_COUNTY)
		return hm_node_fail(l->node, HM_ERR_INVALID, "only the county signs audit reports");
	if (!(f = open_memstream(out, len)))
		return hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	fputs(REPORT_MAGIC, f);
	if ((err = hm_audit_render(l, HM_REPORT_FMT_JSON, f, nfindings)))
		goto out;
	if (fflush(f) != 0 || ferror(f)) { /* what is signed must be whole */
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!ident && !info.enrolled) {
		err = hm_node_fail(l->node, HM_ERR_CRYPTO, "this node has no keys to sign with");
		goto out;
	}
	if ((err = sign_line(l, ident, &info, *out, *len, line, sizeof(line)))) {
		hm_node_fail(l->node, err, "signing failed: %s", hm_strerror(err));
		goto out;
	}
	if (fputs(line, f) < 0)
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
out:
	if (hm_stream_close(f) != 0 && !err)
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	if (err) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return err;
}

hm_audit_verdict hm_audit_verify(const char *doc, size_t len, const hm_sign_pub *root)
{
	char sighex[2 * HM_SIGNATURE_BYTES + 1], pubhex[2 * HM_SIGN_PUB_BYTES + 1];
	const char *sigline = strstr(doc, "\n" SIG_PREFIX);
	hm_sign_pub signer;
	hm_signature sig;
	hm_hash h;

	if (len < strlen(REPORT_MAGIC) || memcmp(doc, REPORT_MAGIC, strlen(REPORT_MAGIC)) != 0 ||
	    !sigline)
		return HM_AUDIT_NOT_REPORT;
	sigline++;
	if (sscanf(sigline, SIG_PREFIX "%128s by %64s", sighex, pubhex) != 2 ||
	    hm_hex_decode(sig.b, sizeof(sig.b), sighex) ||
	    hm_hex_decode(signer.b, sizeof(signer.b), pubhex) ||
	    strchr(sigline, '\n') != doc + len - 1)
		return HM_AUDIT_MALFORMED;
	hm_hash_buf(doc, (size_t)(sigline - doc), &h);
	if (!hm_sign_pub_equal(&signer, root))
		return HM_AUDIT_OTHER_SIGNER;
	return hm_verify_hash(&sig, root, &h) ? HM_AUDIT_ALTERED : HM_AUDIT_INTACT;
}

/* ---- a certificate (enroll sign, enroll accept) ---- */

json_t *hm_enroll_info_json(const hm_enroll_info *i)
{
	return json_pack("{s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:o}", "node_id",
	                 hm_json_hex(i->node.b, HM_NODE_ID_BYTES), "role", hm_role_name(i->role),
	                 "region", hm_json_cstr(i->region), "name", hm_json_cstr(i->name), "serial",
	                 (json_int_t)i->serial, "not_before", (json_int_t)i->not_before,
	                 "not_after", (json_int_t)i->not_after, "root",
	                 hm_json_hex(i->root.b, HM_SIGN_PUB_BYTES));
}

void hm_enroll_info_write(const hm_enroll_info *i, FILE *f)
{
	fputs("node      ", f);
	hm_text_node_id(f, &i->node);
	fprintf(f, "\nrole      %s\nregion    ", hm_role_name(i->role));
	hm_text_cstr(f, i->region);
	fputs("\nname      ", f);
	hm_text_cstr(f, i->name);
	fputc('\n', f);
	if (i->not_after) {
		/* Its start is set back by the clock tolerance (two drifts): show both ends. */
		fputs("valid     from ", f);
		hm_text_hlc(f, (hm_hlc)(i->not_before * 1000) << 16);
		fputs(" to ", f);
		hm_text_hlc(f, (hm_hlc)(i->not_after * 1000) << 16);
		fputs("\nroot key  ", f);
		hm_text_hex(f, i->root.b, HM_SIGN_PUB_BYTES);
		fputc('\n', f);
	}
}
