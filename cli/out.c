/* out.c - how the `hamlet` command prints values, records and stamps, as text and as JSON. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void out_json_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void out_json_cstr(FILE *f, const char *s)
{
	out_json_str(f, s, strlen(s));
}

void out_value(FILE *f, const hm_value *v, bool json)
{
	switch (v->kind) {
	case HM_V_NIL:
		fputs(json ? "null" : "(empty)", f);
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
		if (json)
			out_json_str(f, v->u.s.p, v->u.s.n);
		else
			fwrite(v->u.s.p, 1, v->u.s.n, f);
		break;
	}
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

void out_stamp_json(FILE *f, const hm_stamp *s)
{
	fputs("{\"origin\":\"", f);
	out_node_id(f, &s->origin);
	fprintf(f, "\",\"seq\":%" PRIu64 ",\"hlc\":%" PRIu64 ",\"time\":\"", s->seq, s->hlc);
	out_hlc(f, s->hlc);
	fputs("\"}", f);
}

size_t out_mask(const char *s, size_t n, char *buf, size_t cap)
{
	size_t o = 0, digits = 0;

	for (size_t i = 0; i < n; i++)
		digits += (s[i] >= '0' && s[i] <= '9') || s[i] == 'X' || s[i] == 'x';
	if (cap == 0)
		return 0;
	if (n >= 7 && digits == n) {
		/* A phone or ID number: the first 3 and last 2 say which, not who. */
		for (size_t i = 0; i < n && o + 1 < cap; i++)
			buf[o++] = i < 3 || i >= n - 2 ? s[i] : '*';
	} else {
		/* Text: its first character (one UTF-8 sequence), then a star per character. */
		size_t cp = 0;
		for (size_t i = 0; i < n && o + 4 < cap; i++) {
			bool lead = ((unsigned char)s[i] & 0xc0) != 0x80;
			cp += lead;
			if (cp <= 1)
				buf[o++] = s[i];
			else if (lead)
				buf[o++] = '*';
		}
	}
	buf[o] = '\0';
	return o;
}

bool out_field_masked(const hm_record *r, const char *field)
{
	const hm_collection_def *c = hm_schema_collection(r->collection);
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	return d && (d->flags & HM_F_PII);
}

void out_value_of(FILE *f, const char *coll, const char *field, const hm_value *v, bool json,
                  bool mask)
{
	const hm_collection_def *c = mask ? hm_schema_collection(coll) : NULL;
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	char buf[4 * HM_STR_MAX + 1];

	if (d && (d->flags & HM_F_PII) && v->kind == HM_V_STR) {
		size_t n = out_mask(v->u.s.p, v->u.s.n, buf, sizeof(buf));
		if (json)
			out_json_str(f, buf, n);
		else
			fputs(buf, f);
		return;
	}
	out_value(f, v, json);
}

static void out_field_value(FILE *f, const hm_record *r, const hm_field *fl, bool json, bool mask)
{
	out_value_of(f, r->collection, fl->name, &fl->value, json, mask);
}

void out_record(FILE *f, const hm_record *r, bool json, bool mask)
{
	if (json) {
		fputs("{\"collection\":", f);
		out_json_cstr(f, r->collection);
		fputs(",\"id\":", f);
		out_json_cstr(f, r->id);
		fputs(",\"region\":", f);
		out_json_cstr(f, r->region);
		fputs(",\"fields\":{", f);
		for (size_t i = 0; i < r->nfields; i++) {
			fputs(i ? "," : "", f);
			out_json_cstr(f, r->fields[i].name);
			fputc(':', f);
			out_field_value(f, r, &r->fields[i], true, mask);
		}
		fputs("}}", f);
		return;
	}
	fprintf(f, "%s/%s\n", r->collection, r->id);
	for (size_t i = 0; i < r->nfields; i++) {
		if (strstr(r->fields[i].name, "_seen"))
			continue; /* bookkeeping for identity questions (docs/data-model.md) */
		fprintf(f, "  %-14s ", r->fields[i].name);
		out_field_value(f, r, &r->fields[i], false, mask);
		fputc('\n', f);
	}
}
