/*
 * text.c - text from outside, made safe for a terminal and for JSON: the one rule every front
 * end escapes by (ledger.h, "Text shown to people").
 *
 * Every value, id, name and reason that came from outside (a record, a change set, a peer, the
 * evidence of a refusal) goes through hm_text_next before it reaches a terminal or a JSON
 * document. What would act on a terminal or forge a line is escaped: C0 controls (\n, \t, \r,
 * \x1b, ...), DEL, the C1 controls U+0080-U+009F (\u009b is a CSI of its own), the bidi
 * embeddings and overrides U+202A-U+202E and isolates U+2066-U+2069 (they reorder what follows),
 * the line and paragraph separators U+2028-U+2029, and every byte that is not part of valid
 * UTF-8.
 */
#include "ledger_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool hm_text_next(const char *s, size_t n, size_t *len, int32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t valid = hm_utf8_prefix(s, n < 4 ? n : 4);
	unsigned c = p[0];
	size_t more = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

	if (valid == 0) { /* a stray or truncated byte */
		*len = 1, *cp = -1;
		return true;
	}
	*len = more + 1;
	*cp = (int32_t)(more ? c & (0x3f >> more) : c);
	for (size_t i = 1; i <= more; i++)
		*cp = *cp << 6 | (p[i] & 0x3f);
	return *cp < 0x20 || (*cp >= 0x7f && *cp <= 0x9f) || (*cp >= 0x2028 && *cp <= 0x202e) ||
	       (*cp >= 0x2066 && *cp <= 0x2069);
}

size_t hm_text_escape(const char *s, int32_t cp, char out[8])
{
	if (cp == '\n' || cp == '\t' || cp == '\r')
		return (size_t)snprintf(out, 8, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
	if (cp < 0 || cp <= 0x7f)
		return (size_t)snprintf(out, 8, "\\x%02x",
		                        cp < 0 ? (unsigned)(unsigned char)s[0] : (unsigned)cp);
	return (size_t)snprintf(out, 8, "\\u%04x", (unsigned)cp);
}

/* Columns a printed character takes: two for East Asian wide characters (Chinese names and
 * compounds), else one. */
static size_t cp_width(int32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	               (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	               (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	               (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd)
	           ? 2
	           : 1;
}

void hm_text_write(FILE *f, const char *s, size_t n)
{
	size_t len, run = 0;
	int32_t cp;
	char esc[8];

	for (size_t i = 0; i < n; i += len) {
		if (!hm_text_next(s + i, n - i, &len, &cp))
			continue;
		fwrite(s + run, 1, i - run, f);
		fwrite(esc, 1, hm_text_escape(s + i, cp, esc), f);
		run = i + len;
	}
	fwrite(s + run, 1, n - run, f);
}

size_t hm_text_width(const char *s)
{
	size_t n = strlen(s), w = 0, len;
	int32_t cp;
	char esc[8];

	for (size_t i = 0; i < n; i += len)
		w += hm_text_next(s + i, n - i, &len, &cp) ? hm_text_escape(s + i, cp, esc)
		                                           : cp_width(cp);
	return w;
}

char *hm_text_utf8_dup(const char *s, size_t n, size_t *outlen)
{
	char *buf, *o;
	size_t len;
	int32_t cp;

	/* A byte that is not UTF-8 becomes U+FFFD: 3 bytes for 1. */
	if (!(buf = o = malloc(3 * n + 1)))
		return NULL;
	for (size_t i = 0; i < n; i += len) {
		hm_text_next(s + i, n - i, &len, &cp);
		if (cp < 0)
			memcpy(o, "\xef\xbf\xbd", 3), o += 3;
		else
			memcpy(o, s + i, len), o += len;
	}
	*o = '\0';
	*outlen = (size_t)(o - buf);
	return buf;
}

void hm_text_json_write(FILE *f, const char *json, size_t n)
{
	size_t len;
	int32_t cp;

	for (size_t i = 0; i < n; i += len) {
		if (hm_text_next(json + i, n - i, &len, &cp) && cp >= 0x7f)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(json + i, 1, len, f);
	}
}

void hm_text_html_write(FILE *f, const char *s, size_t n)
{
	size_t len;
	int32_t cp;

	for (size_t i = 0; i < n; i += len) {
		char esc[8];
		if (hm_text_next(s + i, n - i, &len, &cp)) {
			fwrite(esc, 1, hm_text_escape(s + i, cp, esc), f);
			continue;
		}
		switch (s[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fwrite(s + i, 1, len, f);
		}
	}
}

/* ---- values, records, ids and stamps as text ---- */

void hm_text_cstr(FILE *f, const char *s)
{
	hm_text_write(f, s, strlen(s));
}

void hm_text_pad(FILE *f, const char *s, size_t width)
{
	size_t w = hm_text_width(s);
	hm_text_cstr(f, s);
	if (w < width)
		fprintf(f, "%*s", (int)(width - w), "");
}

void hm_text_hex(FILE *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

void hm_text_node_id(FILE *f, const hm_node_id *id)
{
	hm_text_hex(f, id->b, HM_NODE_ID_BYTES);
}

void hm_text_hlc(FILE *f, hm_hlc h)
{
	json_t *s = hm_json_hlc(h);
	fputs(s ? json_string_value(s) : "?", f);
	json_decref(s);
}

void hm_text_ref(FILE *f, const char *collection, const char *id)
{
	hm_text_cstr(f, collection);
	fputc('/', f);
	hm_text_cstr(f, id);
}

static void text_value(FILE *f, const hm_value *v)
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
		hm_text_write(f, v->u.s.p, v->u.s.n);
		break;
	}
}

void hm_text_value_of(FILE *f, const char *coll, const char *field, const hm_value *v, bool mask)
{
	const hm_collection_def *c = mask ? hm_schema_collection(coll) : NULL;
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	char buf[4 * HM_STR_MAX + 1];

	if (d && (d->flags & HM_F_PII) && v->kind == HM_V_STR) {
		hm_text_write(f, buf, hm_ledger_mask(v->u.s.p, v->u.s.n, buf, sizeof(buf)));
		return;
	}
	text_value(f, v);
}

void hm_text_record(FILE *f, const hm_record *r, bool mask)
{
	hm_text_ref(f, r->collection, r->id);
	fputc('\n', f);
	for (size_t i = 0; i < r->nfields; i++) {
		if (strstr(r->fields[i].name, "_seen"))
			continue; /* bookkeeping for identity questions (docs/data-model.md) */
		fputs("  ", f);
		hm_text_pad(f, r->fields[i].name, 14);
		fputc(' ', f);
		hm_text_value_of(f, r->collection, r->fields[i].name, &r->fields[i].value, mask);
		fputc('\n', f);
	}
}
