/* records.c - the records of a collection as `hamlet list` and the front ends show them: text
 * (hm_text_record) or JSON (hm_json_record), optionally only those whose field equals a value. */
#include "ledger_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct list_out {
	FILE *f; /* NULL: count only */
	bool json, mask, nomem;
	const char *field;     /* with where: the field compared */
	const hm_value *where; /* NULL: every record */
	size_t count;
} list_out;

/* A record's JSON, compact, as hm_json_write writes it but without the newline. */
static bool write_json(FILE *f, const hm_record *r, bool mask)
{
	json_t *v = hm_json_record(r, mask);
	char *s = hm_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));

	json_decref(v);
	if (!s)
		return false;
	hm_text_json_write(f, s, strlen(s));
	free(s);
	return true;
}

static int list_one(void *arg, const hm_record *r)
{
	list_out *o = arg;

	if (o->where) {
		const hm_field *fd = hm_record_field(r, o->field);
		hm_value nil = {HM_V_NIL};
		if (!hm_value_equal(fd ? &fd->value : &nil, o->where))
			return 0;
	}
	if (o->f && o->json) {
		fputs(o->count ? ",\n " : "", o->f);
		if (!write_json(o->f, r, o->mask))
			o->nomem = true;
	} else if (o->f)
		hm_text_record(o->f, r, o->mask);
	o->count++;
	return o->nomem ? -1 : 0;
}

hm_err hm_records_write(hm_ledger *l, const char *coll, const char *field, const hm_value *where,
                        bool mask, bool json, FILE *f, size_t *count)
{
	list_out o = {f, json, mask, false, field, where, 0};
	hm_err err;

	if (f && json)
		fputc('[', f);
	err = hm_node_list(l->node, coll, list_one, &o);
	if (!err && o.nomem)
		err = hm_node_fail(l->node, HM_ERR_NOMEM, "out of memory");
	if (f && json)
		fputs("]\n", f);
	*count = o.count;
	return err;
}
