/*
 * json.c - values, records and stamps as JSON (jansson), as every front end shows them: text
 * that is not UTF-8 with U+FFFD for its bad bytes, personal fields masked on request.
 */
#include "ledger_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *hm_json_str(const char *s, size_t n)
{
	char *buf;
	size_t len;
	json_t *j;

	if (hm_utf8_prefix(s, n) == n)
		return json_stringn(s, n);
	/* JSON is UTF-8: a byte that is not is shown as U+FFFD. */
	if (!(buf = hm_text_utf8_dup(s, n, &len)))
		return NULL;
	j = json_stringn(buf, len);
	free(buf);
	return j;
}

json_t *hm_json_cstr(const char *s)
{
	return s ? hm_json_str(s, strlen(s)) : json_null();
}

json_t *hm_json_value(const hm_value *v)
{
	switch (v->kind) {
	case HM_V_BOOL:
		return json_boolean(v->u.b);
	case HM_V_INT:
		return json_integer(v->u.i);
	case HM_V_FLOAT:
		return json_real(v->u.f);
	case HM_V_STR:
		return hm_json_str(v->u.s.p, v->u.s.n);
	case HM_V_NIL:
		break;
	}
	return json_null();
}

json_t *hm_json_value_of(const char *coll, const char *field, const hm_value *v, bool mask)
{
	const hm_collection_def *c = mask ? hm_schema_collection(coll) : NULL;
	const hm_field_def *d = c ? hm_schema_field(c, field) : NULL;
	char buf[4 * HM_STR_MAX + 1];

	if (d && (d->flags & HM_F_PII) && v->kind == HM_V_STR)
		return hm_json_str(buf, hm_ledger_mask(v->u.s.p, v->u.s.n, buf, sizeof(buf)));
	return hm_json_value(v);
}

json_t *hm_json_record(const hm_record *r, bool mask)
{
	json_t *fields = json_object();
	for (size_t i = 0; fields && i < r->nfields; i++)
		json_object_set_new(
		    fields, r->fields[i].name,
		    hm_json_value_of(r->collection, r->fields[i].name, &r->fields[i].value, mask));
	return json_pack("{s:o, s:o, s:o, s:o}", "collection", hm_json_cstr(r->collection), "id",
	                 hm_json_cstr(r->id), "region", hm_json_cstr(r->region), "fields", fields);
}

json_t *hm_json_hex(const void *p, size_t n)
{
	char buf[2 * 64 + 1];
	const uint8_t *b = p;
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	buf[2 * n] = '\0';
	return json_string(buf);
}

json_t *hm_json_hlc(hm_hlc h)
{
	time_t secs = (time_t)(HM_HLC_MS(h) / 1000);
	struct tm tm;
	char buf[32], out[48];

	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (h & 0xffff)
		snprintf(out, sizeof(out), "%s.%03uZ+%u", buf, (unsigned)(HM_HLC_MS(h) % 1000),
		         (unsigned)(h & 0xffff));
	else
		snprintf(out, sizeof(out), "%s.%03uZ", buf, (unsigned)(HM_HLC_MS(h) % 1000));
	return json_string(out);
}

json_t *hm_json_stamp(const hm_stamp *s)
{
	return json_pack("{s:o, s:I, s:I, s:o}", "origin",
	                 hm_json_hex(s->origin.b, HM_NODE_ID_BYTES), "seq", (json_int_t)s->seq,
	                 "hlc", (json_int_t)s->hlc, "time", hm_json_hlc(s->hlc));
}

/* The text being dumped; failed sticks once an append found no memory. */
typedef struct dump_buf {
	char *p;
	size_t n, cap;
	bool failed;
} dump_buf;

static int dump_append(const char *s, size_t n, void *arg)
{
	dump_buf *b = arg;

	if (b->failed)
		return -1;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = true;
			return -1;
		}
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

char *hm_json_dumps(const json_t *v, size_t flags)
{
	dump_buf b = {0};

	if (!v || json_dump_callback(v, dump_append, &b, flags) != 0 || b.failed || !b.p) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

hm_err hm_json_write(FILE *f, json_t *v)
{
	char *s = hm_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));

	json_decref(v);
	if (!s) {
		errno = ENOMEM;
		return HM_ERR_NOMEM;
	}
	hm_text_json_write(f, s, strlen(s));
	fputc('\n', f);
	free(s);
	return ferror(f) ? HM_ERR_IO : HM_OK;
}

hm_err lj_give(hm_node *n, hm_err err, bool nomem, json_t *v, json_t **out)
{
	if (!err && (nomem || !v))
		err = HM_ERR_NOMEM;
	if (err == HM_ERR_NOMEM)
		hm_node_fail(n, err, "out of memory");
	if (err) {
		json_decref(v);
		v = NULL;
	}
	*out = v; /* the caller's */
	return err;
}
