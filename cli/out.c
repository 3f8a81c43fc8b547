/* out.c - how the `hamlet` command prints text from outside and JSON documents; values,
 * records, ids and stamps are the ledger's (hm_text_*, hm_json_*). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
	hm_text_cstr(f, s);
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

/* ---- JSON, built with jansson ---- */

/* jansson says nothing when an allocation fails inside json_pack or json_object_set_new: the
 * value is just missing. Its allocations come here, so a document that lost a part is never
 * printed as if whole (cj_print refuses it, main fails the command). */
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
	if (!v || cj_nomem) { /* a NULL document: a part of it could not be made */
		cj_nomem = true;
		json_decref(v);
		errno = ENOMEM;
		return -1;
	}
	/* As the ledger writes JSON: jansson escapes C0 and the JSON syntax; DEL, C1, bidi controls
	 * and line separators are valid JSON as they are, but never reach a terminal raw. */
	return hm_json_write(f, v) ? -1 : 0;
}
