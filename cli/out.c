/* out.c - how the `hamlet` command prints values, records and stamps, as text and as JSON. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- text from outside, made safe for a terminal and for JSON ----
 *
 * Every value, id, name and reason that came from outside goes through the ledger's one rule
 * (ledger.h, "Text shown to people": hm_text_next) before it reaches a terminal or a JSON
 * document: controls, DEL, C1, bidi controls, line separators and bytes that are not UTF-8. */

void out_text(FILE *f, const char *s, size_t n)
{
	hm_text_write(f, s, n);
}

void out_text_cstr(FILE *f, const char *s)
{
	out_text(f, s, strlen(s));
}

void out_text_pad(FILE *f, const char *s, size_t width)
{
	size_t w = hm_text_width(s);
	out_text_cstr(f, s);
	if (w < width)
		fprintf(f, "%*s", (int)(width - w), "");
}

const char *out_text_str(const char *s, char *buf, size_t cap)
{
	size_t n = strlen(s), o = 0, len;
	int32_t cp;
	char esc[8];

	for (size_t i = 0; i < n && cap; i += len) {
		const char *piece = s + i;
		size_t k = 0;
		if (hm_text_next(s + i, n - i, &len, &cp))
			piece = esc, k = hm_text_escape(s + i, cp, esc);
		else
			k = len;
		if (o + k >= cap)
			break; /* cut at a whole character or escape */
		memcpy(buf + o, piece, k);
		o += k;
	}
	if (cap)
		buf[o] = '\0';
	return buf;
}

/* v as text: personal text is masked by the caller (out_value_of) */
static void out_value(FILE *f, const hm_value *v)
{
	switch (v->kind) {
	case HM_V_NIL:
		fputs("(empty)", f);
		break;
	case HM_V_BOOL:
		fputs(v->u.b ? "true" : "false", f);
		break;
	case HM_V_INT:
		fprintf(f, "%" PRId64, v->u.i);
		break;
	case HM_V_FLOAT:
		fprintf(f, "%.15g", v->u.f);
		break;
	case HM_V_STR:
		out_text(f, v->u.s.p, v->u.s.n);
		break;
	}
}

void out_ref(FILE *f, const char *collection, const char *id)
{
	out_text_cstr(f, collection);
	fputc('/', f);
	out_text_cstr(f, id);
}

void out_hlc(FILE *f, hm_hlc h)
{
	time_t secs = (time_t)(HM_HLC_MS(h) / 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03uZ", buf, (unsigned)(HM_HLC_MS(h) % 1000));
	if (h & 0xffff)
		fprintf(f, "+%u", (unsigned)(h & 0xffff));
}

void out_hex(FILE *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

void out_node_id(FILE *f, const hm_node_id *id)
{
	out_hex(f, id->b, HM_NODE_ID_BYTES);
}

bool out_field_masked(const hm_record *r, const char *field)
{
	const hm_collection_def *c = hm_schema_collection(r->collection);
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	return d && (d->flags & HM_F_PII);
}

void out_value_of(FILE *f, const char *coll, const char *field, const hm_value *v, bool mask)
{
	const hm_collection_def *c = mask ? hm_schema_collection(coll) : NULL;
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	char buf[4 * HM_STR_MAX + 1];

	if (d && (d->flags & HM_F_PII) && v->kind == HM_V_STR) {
		out_text(f, buf, hm_ledger_mask(v->u.s.p, v->u.s.n, buf, sizeof(buf)));
		return;
	}
	out_value(f, v);
}

void out_record(FILE *f, const hm_record *r, bool json, bool mask)
{
	if (json) {
		cj_write(f, hm_json_record(r, mask), false);
		return;
	}
	out_ref(f, r->collection, r->id);
	fputc('\n', f);
	for (size_t i = 0; i < r->nfields; i++) {
		if (strstr(r->fields[i].name, "_seen"))
			continue; /* bookkeeping for identity questions (docs/data-model.md) */
		fputs("  ", f);
		out_text_pad(f, r->fields[i].name, 14);
		fputc(' ', f);
		out_value_of(f, r->collection, r->fields[i].name, &r->fields[i].value, mask);
		fputc('\n', f);
	}
}

/* ---- JSON, built with jansson ---- */

/* jansson says nothing when an allocation fails inside json_pack or json_object_set_new: the
 * value is just missing. Its allocations come here, so a document that lost a part is never
 * printed as if whole (cj_write refuses it, main fails the command). */
static bool cj_nomem;

static void *cj_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		cj_nomem = true;
	return p;
}

void cj_init(void)
{
	json_set_alloc_funcs(cj_malloc, free);
}

bool cj_failed(void)
{
	return cj_nomem;
}

int cj_print(FILE *f, json_t *v)
{
	return cj_write(f, v, true);
}

int cj_write(FILE *f, json_t *v, bool newline)
{
	char *s;
	int rc = -1;

	if (!v || cj_nomem) { /* a NULL document: a part of it could not be made */
		cj_nomem = true;
		json_decref(v);
		errno = ENOMEM;
		return -1;
	}
	/* jansson escapes C0 and the JSON syntax; DEL, C1, bidi controls and line separators are
	 * valid JSON as they are, but never reach a terminal raw (hm_text_json_write). */
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)))) {
		hm_text_json_write(f, s, strlen(s));
		if (newline)
			fputc('\n', f);
		rc = ferror(f) ? -1 : 0;
		free(s);
	}
	json_decref(v);
	return rc;
}
