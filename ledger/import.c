/*
 * import.c - a station's register, as CSV text, into a collection: every row checked by the
 * ledger's rules before anything is written, the good rows in one write (one change set, or
 * consecutive ones when large), committed only when no row is bad (or with skip_bad), so the
 * store gets all of them or none. Bad rows are collected with the physical line they start on.
 */
#include "ledger_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_SHOW_MAX 60u /* bytes of a bad value quoted in a message */
#define CSV_ID_TRIES 64  /* new ids drawn before giving up on a unique one */

/* ---- the ids of the file ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* The slot of id: where it is, or the empty one where it would go. */
static hm_csv_seen *seen_slot(hm_csv_import_ctx *im, const char *id)
{
	size_t mask = im->seencap - 1, i = (size_t)fnv1a(id) & mask;
	while (im->seen[i].id && strcmp(im->seen[i].id, id) != 0)
		i = (i + 1) & mask;
	return &im->seen[i];
}

static bool seen_grow(hm_csv_import_ctx *im)
{
	size_t cap = im->seencap ? im->seencap * 2 : 1024, oldcap = im->seencap;
	hm_csv_seen *old = im->seen;

	if (!(im->seen = calloc(cap, sizeof(*im->seen)))) {
		im->seen = old;
		return false;
	}
	im->seencap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].id)
			*seen_slot(im, old[i].id) = old[i];
	free(old);
	return true;
}

/* The line id was first seen on, or 0. */
static size_t seen_line(hm_csv_import_ctx *im, const char *id)
{
	hm_csv_seen *s = im->seencap ? seen_slot(im, id) : NULL;
	return s && s->id ? s->line : 0;
}

static bool seen_add(hm_csv_import_ctx *im, const char *id, size_t line)
{
	hm_csv_seen *s;
	if (2 * (im->nseen + 1) > im->seencap && !seen_grow(im))
		return false;
	s = seen_slot(im, id);
	s->id = id, s->line = line;
	im->nseen++;
	return true;
}

static hm_err out_of_memory(hm_csv_import_ctx *im)
{
	return hm_node_fail(im->n, HM_ERR_NOMEM, "out of memory: nothing was written");
}

/* ---- problems of rows ---- */

/* Note a problem of the row on line: field NULL for the row as a whole. */
static hm_err bad_add(hm_csv_import_ctx *im, size_t line, const char *field, const char *column,
                      const char *fmt, ...) HM_PRINTF(5, 6);
static hm_err bad_add(hm_csv_import_ctx *im, size_t line, const char *field, const char *column,
                      const char *fmt, ...)
{
	hm_csv_result *res = im->res;
	hm_csv_bad *b;
	va_list ap;
	int n;

	im->problems++;
	if (res->nbad == HM_CSV_BAD_MAX) {
		res->bad_more++;
		return HM_OK;
	}
	if (res->nbad == im->badcap) {
		size_t cap = im->badcap ? im->badcap * 2 : 16;
		hm_csv_bad *p = realloc(res->bad, cap * sizeof(*p));
		if (!p)
			return out_of_memory(im);
		res->bad = p, im->badcap = cap;
	}
	b = &res->bad[res->nbad];
	memset(b, 0, sizeof(*b));
	b->line = line;
	fmt = _(fmt);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(b->reason = malloc((size_t)n + 1)))
		return out_of_memory(im);
	va_start(ap, fmt);
	vsnprintf(b->reason, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if ((field && !(b->field = strdup(field))) ||
	    (column && field && strcmp(column, field) != 0 && !(b->column = strdup(column)))) {
		free(b->reason);
		free(b->field);
		return out_of_memory(im);
	}
	res->nbad++;
	return HM_OK;
}

/* Whether what (a referenced collection, or "store") id exists: hm_ledger_need_record or
 * hm_stock_store_check, their answer remembered when yes. Errors as theirs. */
static hm_err known(hm_csv_import_ctx *im, const char *what, const char *id)
{
	char key[HM_CSV_KNOWN_KEY];
	char *slot = NULL;
	hm_err err;

	if ((size_t)snprintf(key, sizeof(key), "%s:%s", what, id) < sizeof(key) &&
	    (im->known || (im->known = calloc(HM_CSV_KNOWN_SLOTS, sizeof(*im->known))))) {
		slot = im->known[fnv1a(key) & (HM_CSV_KNOWN_SLOTS - 1)];
		if (!strcmp(slot, key))
			return HM_OK;
	}
	err = !strcmp(what, "store") ? hm_stock_store_check(im->l, id)
	                             : hm_ledger_need_record(im->l, what, id, NULL);
	if (!err && slot)
		strcpy(slot, key);
	return err;
}

/* A value as a message may quote it: personal fields masked, long text cut, control characters
 * (a quoted newline) shown as spaces so the listing stays one line a row. */
static const char *shown(const hm_field_def *f, const char *text, char *buf, size_t cap)
{
	size_t n = strlen(text), o = 0;

	if (f && (f->flags & HM_F_PII)) {
		hm_ledger_mask(text, n, buf, cap);
		return buf;
	}
	if (n > CSV_SHOW_MAX) {
		n = CSV_SHOW_MAX;
		while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--; /* never half a character */
	}
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		const unsigned char *p = (const unsigned char *)text + i;
		/* C0, DEL, C1 (U+0080-009F: C2 80-9F) and bidi controls, line separators
		 * (U+2028-202E, U+2066-2069: E2 80 A8-AE, E2 81 A6-A9) become a space */
		size_t skip = p[0] < 0x20 || p[0] == 0x7f                                 ? 1
		              : p[0] == 0xc2 && i + 1 < n && p[1] >= 0x80 && p[1] <= 0x9f ? 2
		              : p[0] == 0xe2 && i + 2 < n &&
		                      ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
		                       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))
		                  ? 3
		                  : 0;
		if (skip) {
			buf[o++] = ' ';
			i += skip - 1;
		} else {
			buf[o++] = text[i];
		}
	}
	if (n < strlen(text))
		memcpy(buf + o, "...", 3), o += 3;
	buf[o] = '\0';
	return buf;
}

hm_err hm_csv_gbk_check(hm_csv_import_ctx *im, const char *s, size_t line, const char *column)
{
	char gbk[256], show[4 * CSV_SHOW_MAX + 8], show_gbk[4 * CSV_SHOW_MAX + 8];
	const hm_field_def *f = NULL;

	if (im->o->utf8_known || !hm_csv_looks_gbk(s, strlen(s), gbk, sizeof(gbk)))
		return HM_OK;
	for (size_t i = 0; column && i < im->ncols; i++)
		if (im->header[i] == column)
			f = im->field[i];
	im->res->gbk = true;
	return hm_node_fail(im->n, HM_ERR_INVALID,
	                    "%s: line %zu%s%s%s: '%s' looks like GBK text read as UTF-8 (as GBK it "
	                    "reads '%s'): the file is in GBK, import it with --encoding gbk (or "
	                    "--encoding utf-8 if the text is meant as it is); nothing was written",
	                    im->name, line, column ? ", column '" : "", column ? column : "",
	                    column ? "'" : "", shown(f, s, show, sizeof(show)),
	                    shown(f, gbk, show_gbk, sizeof(show_gbk)));
}

/* ---- checking a row ---- */

/* Parse and check one cell against its field's type and the ledger's rules (words, resident ID
 * number, body temperature, the record a field names); a problem is noted and *ok stays
 * false. */
static hm_err check_value(hm_csv_import_ctx *im, size_t line, size_t col, const char *text,
                          hm_value *v, bool *ok)
{
	const hm_field_def *f = im->field[col];
	const char *why = NULL, *name = f->name, *column = im->header[col], *coll;
	char show[4 * CSV_SHOW_MAX + 8];
	hm_err err;

	*ok = false;
	if (strlen(text) > HM_STR_MAX)
		return bad_add(im, line, name, column, "longer than %u bytes", HM_STR_MAX);
	shown(f, text, show, sizeof(show));
	if ((err = hm_ledger_value_parse(im->l, f, text, v, &why)) == HM_ERR_INVALID)
		return bad_add(im, line, name, column, "%s, not '%s'", why, show);
	if (err)
		return bad_add(im, line, name, column, "must be %s, not '%s'", why, show);
	if (hm_ledger_check(im->cd, f, v, &why))
		return bad_add(im, line, name, column, "must be %s%s, not '%s'",
		               why == f->help ? _("one of ") : "", why, show);
	if ((coll = hm_ledger_field_refers(im->cd, f)) && (err = known(im, coll, text))) {
		if (err != HM_ERR_NOT_FOUND && err != HM_ERR_INVALID)
			return err;
		return bad_add(im, line, name, column, "%s", hm_node_errmsg(im->n));
	}
	*ok = true;
	return HM_OK;
}

/* The date of field name: from the row when given there, else from the record as it is. */
static bool date_in(const hm_csv_import_ctx *im, const hm_value *val, const bool *given,
                    const hm_record *cur, const char *name, char out[11])
{
	const hm_field *fl;

	for (size_t i = 0; i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, name) && val[i].kind == HM_V_STR) {
			snprintf(out, 11, "%.*s", (int)val[i].u.s.n, val[i].u.s.p);
			return true;
		}
	if (cur && (fl = hm_record_field(cur, name)) && fl->value.kind == HM_V_STR &&
	    fl->value.u.s.n == 10) {
		memcpy(out, fl->value.u.s.p, 10);
		out[10] = '\0';
		return true;
	}
	return false;
}

/* Whether region, a value given, lies inside this node's region. */
static bool inside(const hm_csv_import_ctx *im, const hm_value *v)
{
	char region[HM_REGION_MAX + 1];
	snprintf(region, sizeof(region), "%.*s", (int)v->u.s.n, v->u.s.p);
	return hm_region_contains(im->self.region, region);
}

/* A new record's required fields: given and not empty. */
static hm_err check_required(hm_csv_import_ctx *im, const hm_csv_row *row)
{
	const hm_collection_def *cd = im->cd;
	hm_err err = HM_OK;

	for (size_t i = 0; !err && i < cd->nfields; i++) {
		const hm_field_def *f = &cd->fields[i];
		int col = hm_csv_column_of(im, f);
		if (f->required && (col < 0 || !row->cell[col][0]))
			err = bad_add(im, row->line, f->name, col < 0 ? NULL : im->header[col],
			              "required for a new %s, and %s", cd->name,
			              col < 0 ? _("the file has no column for it") : _("empty"));
	}
	return err;
}

/* What a row's record needs beyond its values: the required fields of a new record, no change
 * to an append-only one, a region inside this node's, and for an episode an end not before its
 * start. */
/* A problem with field name of the row: its column's header, when it has one. */
static hm_err bad_field(hm_csv_import_ctx *im, const hm_csv_row *row, const char *name,
                        const char *msg)
{
	int col = hm_csv_column_of(im, hm_schema_field(im->cd, name));
	return bad_add(im, row->line, name, col < 0 ? NULL : im->header[col], "%s", msg);
}

/* The value of field name in the row (or the record it changes), or NULL. */
static const hm_value *value_in(const hm_csv_import_ctx *im, const hm_value *val, const bool *given,
                                const hm_record *cur, const char *name)
{
	const hm_field *fl;
	for (size_t i = 0; i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, name))
			return &val[i];
	return cur && (fl = hm_record_field(cur, name)) ? &fl->value : NULL;
}

static bool text_is(const hm_value *v, const char *s)
{
	return v && v->kind == HM_V_STR && v->u.s.n == strlen(s) && !memcmp(v->u.s.p, s, v->u.s.n);
}

/* The rules of field work the verbs apply (ledger/field_rules.c), for rows that write the same
 * records: a follow-up has a result, a stock movement a positive quantity at a known store (a
 * count is the verb's: it stores the correction against the books), a contact is another
 * person, nothing ends before it starts. */
static hm_err check_rules(hm_csv_import_ctx *im, const hm_csv_row *row, const hm_value *val,
                          const bool *given, const hm_record *cur)
{
	const char *coll = im->cd->name;
	char a[11], b[11], text[HM_STR_MAX + 1];
	const hm_value *v, *w;
	hm_err err;

	if (!strcmp(coll, "followup") && !value_in(im, val, given, cur, "temperature") &&
	    !((v = value_in(im, val, given, cur, "result")) && v->kind == HM_V_STR && v->u.s.n))
		return bad_field(im, row, "temperature",
		                 "a follow-up needs its result: a temperature, or a result when "
		                 "there was none (not at home, refused)");
	if (!strcmp(coll, "stock_txn")) {
		v = value_in(im, val, given, cur, "quantity");
		if (text_is(value_in(im, val, given, cur, "movement"), "counted"))
			return bad_field(
			    im, row, "movement",
			    "a count is recorded with `hamlet stock count`, which stores "
			    "the correction against the books");
		if (v && v->kind == HM_V_INT && v->u.i <= 0)
			return bad_field(im, row, "quantity", "the quantity must be positive");
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "to_store" : "store";
			if (!(w = value_in(im, val, given, cur, f)) || w->kind != HM_V_STR)
				continue;
			snprintf(text, sizeof(text), "%.*s", (int)w->u.s.n, w->u.s.p);
			if ((err = known(im, "store", text)) == HM_ERR_NOT_FOUND)
				return bad_field(im, row, f, hm_node_errmsg(im->l->node));
			if (err)
				return err;
		}
	}
	if (!strcmp(coll, "exposure") && (v = value_in(im, val, given, cur, "source")) &&
	    (w = value_in(im, val, given, cur, "contact")) && v->kind == HM_V_STR &&
	    w->kind == HM_V_STR && v->u.s.n == w->u.s.n && !memcmp(v->u.s.p, w->u.s.p, v->u.s.n))
		return bad_field(im, row, "contact", "a person is not their own contact");
	if (!strcmp(coll, "episode") && date_in(im, val, given, cur, "start", a) &&
	    date_in(im, val, given, cur, "planned_end", b) && strcmp(b, a) < 0)
		return bad_field(im, row, "planned_end", "the planned end is before the start");
	if (!strcmp(coll, "return") && date_in(im, val, given, cur, "departure_date", a) &&
	    date_in(im, val, given, cur, "arrival_date", b) && strcmp(b, a) < 0)
		return bad_field(im, row, "arrival_date", "the arrival is before the departure");
	return HM_OK;
}

static hm_err check_record(hm_csv_import_ctx *im, const hm_csv_row *row, const hm_value *val,
                           const bool *given, const char *id, bool id_bad, const hm_record *cur)
{
	const hm_collection_def *cd = im->cd;
	const char *idcol = im->id_col >= 0 ? im->header[im->id_col] : NULL;
	char start[11], end[11];
	hm_err err = HM_OK;

	if (cur && cd->append_only)
		err = bad_add(im, row->line, "id", idcol,
		              "%s/%s already exists, and %s records are never changed "
		              "(append-only): give this row a new id",
		              cd->name, id, cd->name);
	/* A bad id says nothing of whether the record exists: no guess at what it needs. */
	if (!err && !cur && !id_bad)
		err = check_required(im, row);
	for (size_t i = 0; im->self.trust && !err && i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, cd->region_field) &&
		    !inside(im, &val[i]))
			err = bad_add(im, row->line, im->field[i]->name, im->header[i],
			              "%s lies outside this node's region %s", row->cell[i],
			              im->self.region);
	if (!err && !strcmp(cd->name, "episode") && date_in(im, val, given, cur, "start", start) &&
	    date_in(im, val, given, cur, "end", end) && strcmp(end, start) < 0) {
		int col = hm_csv_column_of(im, hm_schema_field(cd, "end"));
		err = bad_add(im, row->line, "end", col < 0 ? NULL : im->header[col],
		              "%s is before the start %s", end, start);
	}
	/* the rules judge a row whose values are all good; a bad value is said once */
	return err || im->problems > im->row_first ? err : check_rules(im, row, val, given, cur);
}

/* The row's id, when it has one: valid, once in the file. *idp NULL: to be made, or bad. */
static hm_err check_id(hm_csv_import_ctx *im, const hm_csv_row *row, const char **idp, bool *id_bad)
{
	const char *idcol = im->header[im->id_col], *id = row->cell[im->id_col], *why;
	char show[4 * CSV_SHOW_MAX + 8];
	size_t other;

	*idp = NULL;
	shown(NULL, id, show, sizeof(show));
	if (hm_id_check(id, &why)) {
		*id_bad = true;
		return bad_add(im, row->line, "id", idcol,
		               "must be 1 to %u bytes with no control characters, not '%s'",
		               HM_ID_MAX, show);
	}
	if ((other = seen_line(im, id))) {
		*id_bad = true;
		return bad_add(im, row->line, "id", idcol, "'%s' is also on line %zu", show, other);
	}
	if (!seen_add(im, id, row->line))
		return out_of_memory(im);
	*idp = id;
	return HM_OK;
}

/* Check one row; problems are noted in res->bad. *idp is the row's id (NULL: to be made). */
static hm_err check_row(hm_csv_import_ctx *im, const hm_csv_row *row, hm_value *val, bool *given,
                        const char **idp)
{
	hm_record *cur = NULL;
	bool id_bad = false;
	hm_err err;

	*idp = NULL;
	if (row->malformed)
		return bad_add(im, row->line, NULL, NULL, "%s", row->malformed);
	if (row->ncols != im->ncols)
		return bad_add(im, row->line, NULL, NULL, "has %zu column%s; the header has %zu",
		               row->ncols, row->ncols == 1 ? "" : "s", im->ncols);
	/* Columns that go in (and the id column): one skipped with --map COL=- is not read,
	 * and never quoted unmasked in a refusal. */
	for (size_t i = 0; i < im->ncols; i++)
		if ((im->field[i] || (int)i == im->id_col) &&
		    (err = hm_csv_gbk_check(im, row->cell[i], row->line, im->header[i])))
			return err;
	for (size_t i = 0; i < im->ncols; i++) {
		given[i] = false;
		if (im->field[i] && row->cell[i][0] &&
		    (err = check_value(im, row->line, i, row->cell[i], &val[i], &given[i])))
			return err;
	}
	if (im->id_col >= 0 && row->cell[im->id_col][0]) {
		if ((err = check_id(im, row, idp, &id_bad)))
			return err;
		/* Whether the record exists decides what the row must hold. */
		if (*idp && (err = hm_node_get(im->n, im->cd->name, *idp, &cur)) &&
		    err != HM_ERR_NOT_FOUND)
			return err;
	}
	err = check_record(im, row, val, given, *idp, id_bad, cur);
	im->row_exists = cur != NULL;
	hm_record_free(cur);
	return err;
}

/* ---- writing the good rows ---- */

/* A new time-ordered id for a row without one, unused in the file and in the store. */
static hm_err new_id(hm_csv_import_ctx *im, size_t line, const char **out)
{
	char id[HM_ID_MAX + 1];

	for (int t = 0; t < CSV_ID_TRIES; t++) {
		hm_record *r;
		hm_err err;
		/* Rows made in the same millisecond differ only in 16 random bits: check. */
		hm_ledger_new_id(im->l, im->prefix, id, sizeof(id));
		if (seen_line(im, id))
			continue;
		if ((err = hm_node_get(im->n, im->cd->name, id, &r)) == HM_OK) {
			hm_record_free(r);
			continue;
		}
		if (err != HM_ERR_NOT_FOUND)
			return err;
		if (im->nmade == im->madecap) {
			size_t cap = im->madecap ? im->madecap * 2 : 64;
			char **p = realloc(im->made, cap * sizeof(*p));
			if (!p)
				return out_of_memory(im);
			im->made = p, im->madecap = cap;
		}
		if (!(im->made[im->nmade] = strdup(id)))
			return out_of_memory(im);
		*out = im->made[im->nmade++]; /* owned by im->made */
		return seen_add(im, *out, line) ? HM_OK : out_of_memory(im);
	}
	return hm_node_fail(im->n, HM_ERR_EXISTS,
	                    "line %zu: no unused new id found: nothing was written", line);
}

/* person.id_hash from the ID number, so one person registered by two villages is found. A node
 * without the county's first data key cannot make it: noted once, the rows go in without. */
static hm_err set_id_hash(hm_csv_import_ctx *im, const char *id, const hm_value *idnum)
{
	char h[2 * HM_ID_HASH_BYTES + 1], num[32];
	hm_value v = {HM_V_STR, {.s = {h, 2 * HM_ID_HASH_BYTES}}};
	hm_err err;

	if (im->hash_off)
		return HM_OK;
	snprintf(num, sizeof(num), "%.*s", (int)idnum->u.s.n, idnum->u.s.p);
	if ((err = hm_node_id_hash(im->n, num, h)) == HM_ERR_NOT_FOUND) {
		im->hash_off = true;
		snprintf(im->res->note, sizeof(im->res->note),
		         "%s: person.id_hash is left empty, so these persons are not found when "
		         "another village registers them too",
		         hm_node_errmsg(im->n));
		return HM_OK;
	}
	return err ? err : hm_write_set(im->w, "person", id, "id_hash", &v);
}

/* The bytes of a string in msgpack: its header and its text. */
static uint64_t mp_str(size_t n)
{
	return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

/* At most the bytes a good row takes in the change set's body, packed as node/write.c's
 * pack_body packs it, so a file too big for one write is refused before anything is written,
 * with a hint at how to split it. */
static uint64_t row_bytes(const hm_csv_import_ctx *im, const hm_value *val, const bool *given,
                          const char *id)
{
	uint64_t n = 2 + mp_str(strlen(im->cd->name)) +
	             (id ? mp_str(strlen(id)) : mp_str(strlen(im->prefix) + 22)) + 5;
	bool region = false;

	for (size_t i = 0; i < im->ncols; i++) {
		if (!given[i])
			continue;
		n += mp_str(strlen(im->field[i]->name));
		n += val[i].kind == HM_V_STR ? mp_str(val[i].u.s.n) : 9;
		region |= !strcmp(im->field[i]->name, im->cd->region_field);
	}
	if (!region) /* every op names its region: the node's, or the person's village */
		n += mp_str(strlen(im->cd->region_field)) + mp_str(HM_REGION_MAX);
	if (!strcmp(im->cd->name, "person"))
		n += mp_str(strlen("id_hash")) + mp_str(2 * HM_ID_HASH_BYTES);
	return n;
}

/* A new record of field work that names a person but no region of its own is placed in the
 * person's village, as the verbs place it (a follow-up imported at a township goes where the
 * village station will hold it, not at the township). */
static hm_err region_of_person(hm_csv_import_ctx *im, const hm_value *val, const bool *given,
                               const char *id)
{
	const hm_field_def *rf = hm_schema_field(im->cd, im->cd->region_field);
	char person[HM_ID_MAX + 1];
	hm_record *r = NULL;
	hm_value v;
	hm_err err;

	if (!rf || rf->type != HM_T_REGION || !strcmp(im->cd->name, "person"))
		return HM_OK;
	for (size_t i = 0; i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, im->cd->region_field))
			return HM_OK; /* the row says where */
	person[0] = '\0';
	for (size_t i = 0; i < im->ncols && !person[0]; i++)
		if (given[i] && val[i].kind == HM_V_STR && val[i].u.s.n <= HM_ID_MAX &&
		    hm_ledger_field_refers(im->cd, im->field[i]))
			snprintf(person, sizeof(person), "%.*s", (int)val[i].u.s.n, val[i].u.s.p);
	if (!person[0] || im->row_exists) /* an existing record stays where it is */
		return HM_OK;
	if ((err = hm_node_get(im->n, "person", person, &r)))
		return err == HM_ERR_NOT_FOUND ? HM_OK : err; /* said by check_rules */
	v = (hm_value){HM_V_STR, {.s = {r->region, (uint32_t)strlen(r->region)}}};
	err = hm_write_set(im->w, im->cd->name, id, im->cd->region_field, &v);
	hm_record_free(r);
	return err;
}

/* Add a good row to the write: one hm_write_set per value given. */
static hm_err write_row(hm_csv_import_ctx *im, size_t line, const hm_value *val, const bool *given,
                        const char *id)
{
	hm_err err;

	if (!id && (err = new_id(im, line, &id)))
		return err;
	for (size_t i = 0; i < im->ncols; i++) {
		if (!given[i])
			continue;
		if ((err = hm_write_set(im->w, im->cd->name, id, im->field[i]->name, &val[i]))) {
			char why[512];
			snprintf(why, sizeof(why), "%s", hm_node_errmsg(im->n));
			return hm_node_fail(im->n, err, "line %zu: %s: nothing was written", line,
			                    why[0] ? why : hm_strerror(err));
		}
		if (!strcmp(im->cd->name, "person") && !strcmp(im->field[i]->name, "id_number") &&
		    (err = set_id_hash(im, id, &val[i])))
			return err;
	}
	return region_of_person(im, val, given, id);
}

/* One row: checked, and when good counted and added to the write. */
static hm_err import_row(hm_csv_import_ctx *im, const hm_csv_row *row)
{
	hm_csv_result *res = im->res;
	hm_value val[HM_CSV_COLS_MAX];
	bool given[HM_CSV_COLS_MAX];
	size_t problems = im->problems;
	const char *id;
	hm_err err;

	res->rows++;
	im->row_first = im->problems;
	im->row_exists = false;
	if ((err = check_row(im, row, val, given, &id)))
		return err;
	if (im->problems > problems) {
		res->bad_rows++;
		return HM_OK;
	}
	if (++res->good > HM_OPS_MAX)
		return hm_node_fail(im->n, HM_ERR_TOO_BIG,
		                    "%s holds more than %u good rows, the most one write takes: "
		                    "split it; nothing was written",
		                    im->name, HM_OPS_MAX);
	res->body += row_bytes(im, val, given, id);
	for (size_t i = 0; i < im->ncols; i++)
		if (given[i]) {
			res->written++;
			break;
		}
	return im->w ? write_row(im, row->line, val, given, id) : HM_OK;
}

/* Every row checked, the good ones added to one write as they pass. */
static hm_err import_rows(hm_csv_import_ctx *im, hm_csv_reader *r)
{
	const hm_csv_import_opts *o = im->o;
	hm_csv_row row;
	int got;
	hm_err err;

	while ((got = hm_csv_next(r, &row)) == 1) {
		if (hm_csv_row_blank(&row))
			continue;
		if ((err = import_row(im, &row)))
			return err;
		if (o->progress && im->res->rows % HM_CSV_PROGRESS == 0)
			o->progress(o->progress_arg, im->res->rows, false);
	}
	if (o->progress && im->res->rows >= HM_CSV_PROGRESS)
		o->progress(o->progress_arg, im->res->rows, true);
	if (got < 0)
		return hm_node_fail(
		    im->n, HM_ERR_INVALID,
		    "%s: line %zu: a quoted field of the row that starts here is never "
		    "closed; nothing was written",
		    im->name, row.line);
	return HM_OK;
}

/* Commit the good rows (im->w consumed). */
static hm_err commit_rows(hm_csv_import_ctx *im)
{
	hm_csv_result *res = im->res;
	hm_changeset_info info;
	hm_vv vv;
	hm_err err;

	if ((err = hm_node_version_vector(im->n, &vv)))
		return err;
	res->first_seq = hm_vv_get(&vv, hm_node_self(im->n)) + 1;
	hm_vv_release(&vv);
	err = hm_write_commit(im->w, &info);
	im->w = NULL; /* consumed */
	if (err) {
		char why[512];
		snprintf(why, sizeof(why), "%s", hm_node_errmsg(im->n));
		return hm_node_fail(im->n, err,
		                    "could not write the %zu good rows: %s; nothing was written",
		                    res->written, why[0] ? why : hm_strerror(err));
	}
	res->last_seq = info.seq;
	res->last_id = info.id;
	res->verdict = HM_CSV_WRITTEN;
	return HM_OK;
}

/* What to do once every row is checked: write, or say why not. */
static hm_err finish(hm_csv_import_ctx *im)
{
	hm_csv_result *res = im->res;
	const hm_csv_import_opts *o = im->o;

	if (res->body > HM_ENVELOPE_MAX && (o->dry_run || o->skip_bad || !res->bad_rows)) {
		res->verdict = HM_CSV_TOO_LARGE;
		res->rows_per_write = (uint64_t)res->good * (HM_ENVELOPE_MAX / 10 * 9) / res->body;
		return HM_OK;
	}
	if (o->dry_run)
		res->verdict = HM_CSV_CHECKED;
	else if (res->bad_rows && !o->skip_bad)
		res->verdict = HM_CSV_REFUSED;
	else if (res->written == 0)
		res->verdict = HM_CSV_NOTHING;
	else
		return commit_rows(im);
	return HM_OK;
}

/* The prefix of the ids made for coll: the one its field verb makes (hm_verbs: stock_txn t-,
 * exposure x-), else the first letter of each word of its name. */
static void id_prefix(const char *coll, char *out, size_t cap)
{
	size_t count, o = 0;
	const hm_verb *v = hm_verbs(&count);

	for (size_t i = 0; i < count; i++)
		if (v[i].prefix && !strcmp(v[i].collection, coll)) {
			snprintf(out, cap, "%s", v[i].prefix);
			return;
		}
	for (const char *p = coll; *p && o + 1 < cap; p++)
		if (p == coll || p[-1] == '_')
			out[o++] = *p;
	out[o] = '\0';
}

/* The collection, importable, and the prefix of the ids made for it. */
static hm_err start(hm_csv_import_ctx *im, const char *coll)
{
	if (coll[0] == '_')
		return hm_node_fail(
		    im->n, HM_ERR_SCHEMA,
		    "'%s' is a system collection, written by hamlet itself: it cannot "
		    "be imported",
		    coll);
	if (!(im->cd = im->res->cd = hm_schema_collection(coll)))
		return hm_node_fail(im->n, HM_ERR_SCHEMA, "unknown collection '%s'", coll);
	id_prefix(im->cd->name, im->prefix, sizeof(im->prefix));
	hm_node_ident(im->n, &im->self);
	return HM_OK;
}

/* The text is UTF-8, or a clear reason why not. */
static hm_err check_text(hm_csv_import_ctx *im, const char *buf, size_t len)
{
	size_t line;

	switch (hm_csv_check(buf, len, &line)) {
	case HM_CSV_UTF16:
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s is UTF-16 text: save it as \"CSV UTF-8\" and import that",
		                    im->name);
	case HM_CSV_BINARY:
		return hm_node_fail(im->n, HM_ERR_INVALID,
		                    "%s: line %zu holds a NUL byte: it is not a CSV text file (a "
		                    "spreadsheet must be saved as \"CSV UTF-8\")",
		                    im->name, line);
	case HM_CSV_NOT_UTF8:
		return hm_node_fail(
		    im->n, HM_ERR_INVALID,
		    "%s: line %zu is not UTF-8 text (a file in a local code page such "
		    "as GBK): import it with --encoding gbk, or save it as \"CSV "
		    "UTF-8\" and import that",
		    im->name, line);
	case HM_CSV_UTF8:
		break;
	}
	return HM_OK;
}

hm_err hm_csv_import(hm_ledger *l, const char *coll, char *buf, size_t len,
                     const hm_csv_import_opts *o, hm_csv_result *res)
{
	hm_csv_import_ctx im = {.l = l, .n = l->node, .o = o, .res = res};
	hm_csv_reader r;
	hm_err err;

	memset(res, 0, sizeof(*res));
	im.name = o->name ? o->name : "the file";
	if ((err = start(&im, coll)) || (err = check_text(&im, buf, len)))
		goto out;
	hm_csv_reader_init(&r, buf, len);
	if ((err = hm_csv_read_header(&im, &r)))
		goto out;
	if (!o->dry_run && (err = hm_write_begin(im.n, &im.w)))
		goto out;
	if (!(err = import_rows(&im, &r)))
		err = finish(&im);
out:
	for (size_t i = 0; i < im.nmade; i++)
		free(im.made[i]);
	free(im.made);
	free(im.seen);
	free(im.known);
	hm_write_abort(im.w);
	return err;
}

void hm_csv_result_release(hm_csv_result *res)
{
	for (size_t i = 0; i < res->nbad; i++) {
		free(res->bad[i].field);
		free(res->bad[i].column);
		free(res->bad[i].reason);
	}
	free(res->bad);
	res->bad = NULL;
	res->nbad = 0;
	res->bad_more = 0;
}
