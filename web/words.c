/*
 * words.c - stored words as a person reads them: 男 for male, 上门 for visit, each through the
 * ledger's one table (ledger/words.c, hm_ledger_word_zh), and a <select> of a field's allowed
 * words whose values are the stored words and whose labels are those words.
 */
#include "web_int.h"

#include <string.h>

const char *web_word(const web_req *r, const char *coll, const char *field, const char *word)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	const hm_field_def *f = cd ? hm_schema_field(cd, field) : NULL;
	const char *zh = f && !r->en ? hm_ledger_word_zh(f, word) : NULL;

	return zh ? zh : word;
}

/* One <option> of word (n bytes of it), selected when it is selected. */
static void option(web_req *r, const char *coll, const char *field, const char *word, size_t n,
                   const char *selected)
{
	char w[64];

	if (n >= sizeof(w))
		return;
	memcpy(w, word, n), w[n] = 0;
	web_raw(r, "<option value=\"");
	web_esc(r, w);
	web_raw(r, selected && !strcmp(selected, w) ? "\" selected>" : "\">");
	web_esc(r, web_word(r, coll, field, w));
	web_raw(r, "</option>");
}

void web_word_select(web_req *r, const char *name, const char *coll, const char *field,
                     const char *words, const char *selected, bool blank)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	const hm_field_def *f = cd ? hm_schema_field(cd, field) : NULL;
	const char *list = words ? words : f ? f->help : NULL;

	web_raw(r, "<select name=\"");
	web_esc(r, name);
	web_raw(r, "\">");
	if (blank)
		web_raw(r, "<option value=\"\"></option>");
	for (const char *p = list; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		option(r, coll, field, p, n, selected);
		p = bar ? bar + 1 : NULL;
	}
	web_raw(r, "</select>");
}
