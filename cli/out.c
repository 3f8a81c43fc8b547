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

void out_record(FILE *f, const hm_record *r, bool json)
{
	if (json) {
		fputs("{\"collection\":", f);
		out_json_cstr(f, r->collection);
		fputs(",\"id\":", f);
		out_json_cstr(f, r->id);
		fputs(",\"fields\":{", f);
		for (size_t i = 0; i < r->nfields; i++) {
			fputs(i ? "," : "", f);
			out_json_cstr(f, r->fields[i].name);
			fputc(':', f);
			out_value(f, &r->fields[i].value, true);
		}
		fputs("}}", f);
		return;
	}
	fprintf(f, "%s/%s\n", r->collection, r->id);
	for (size_t i = 0; i < r->nfields; i++) {
		fprintf(f, "  %-14s ", r->fields[i].name);
		out_value(f, &r->fields[i].value, false);
		fputc('\n', f);
	}
}
