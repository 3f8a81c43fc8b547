/*
 * csv_cmds.c - `hamlet import-csv COLLECTION FILE`: a station's existing register, read from a
 * CSV file, checked row by row and written in one write (one transaction), or not at all.
 *
 * The file is read whole (at most CSV_FILE_MAX bytes) and parsed in place by a small RFC 4180
 * reader that keeps the physical line each row starts on, so a bad row is named by the line a
 * person sees in an editor. Every row is checked before anything is written: the good rows go
 * into one hm_write as they are checked, and that write is committed only when no row is bad
 * (or with --skip-bad), so the store gets all of them or none.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CSV_FILE_MAX (256u << 20) /* bytes; a county's largest register is far smaller */
#define CSV_COLS_MAX HM_FIELDS_MAX
#define CSV_MAPS_MAX 128u       /* COLUMN=FIELD pairs over every --map */
#define CSV_PROGRESS 10000u     /* rows between progress reports */
#define CSV_LARGE    (8u << 20) /* a file this big reports progress even off a terminal */
#define CSV_SHOW_MAX 60u        /* bytes of a bad value quoted in a message */
#define CSV_ID_TRIES 64         /* new ids drawn before giving up on a unique one */

/* ---- the CSV reader ---- */

typedef struct csv_reader {
	char *buf; /* owned: the file, decoded in place; buf[len] is spare for the last NUL */
	size_t len, pos;
	size_t line; /* the physical line of pos, from 1 */
} csv_reader;

typedef struct csv_row {
	size_t line;              /* the physical line the row starts on */
	size_t ncols;             /* cells in the row, counted past CSV_COLS_MAX */
	char *cell[CSV_COLS_MAX]; /* the first CSV_COLS_MAX, NUL-terminated and trimmed, in buf */
	const char *malformed;    /* why the row is not well-formed CSV, or NULL */
} csv_row;

static bool is_sep(char ch)
{
	return ch == ',' || ch == '\r' || ch == '\n';
}

/* Consume a line end at pos (CRLF, LF, or an old Mac's lone CR), if there is one. */
static void csv_eol(csv_reader *r)
{
	if (r->pos >= r->len || (r->buf[r->pos] != '\r' && r->buf[r->pos] != '\n'))
		return;
	if (r->buf[r->pos] == '\r' && r->pos + 1 < r->len && r->buf[r->pos + 1] == '\n')
		r->pos++;
	r->pos++;
	r->line++;
}

/* Spaces around a value are a spreadsheet's, not the register's: dropped. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A quoted cell, from the opening quote at pos, written at *w (never past pos: decoding only
 * shrinks). A line end inside the quotes is part of the value, as "\n". Returns false when the
 * file ends inside the quotes. */
static bool csv_quoted(csv_reader *r, char **w, csv_row *row)
{
	char *o = *w;

	r->pos++;
	for (;;) {
		if (r->pos >= r->len)
			return false;
		if (r->buf[r->pos] == '"') {
			if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
				*o++ = '"';
				r->pos += 2;
				continue;
			}
			r->pos++;
			break;
		}
		if (r->buf[r->pos] == '\r' || r->buf[r->pos] == '\n') {
			csv_eol(r);
			*o++ = '\n';
			continue;
		}
		*o++ = r->buf[r->pos++];
	}
	/* RFC 4180 has nothing between the closing quote and the separator: kept, but flagged. */
	while (r->pos < r->len && !is_sep(r->buf[r->pos])) {
		row->malformed = "text after the closing quote of a quoted field";
		*o++ = r->buf[r->pos++];
	}
	*w = o;
	return true;
}

/* The next row: 1 with a row, 0 at the end of the file, -1 when the file ends inside a quoted
 * field (row->line says where that row starts). */
static int csv_next(csv_reader *r, csv_row *row)
{
	row->line = r->line;
	row->ncols = 0;
	row->malformed = NULL;
	if (r->pos >= r->len)
		return 0;
	for (;;) {
		char *start = r->buf + r->pos, *w = start;
		bool more;

		if (r->pos < r->len && *start == '"') {
			if (!csv_quoted(r, &w, row))
				return -1;
		} else {
			while (r->pos < r->len && !is_sep(r->buf[r->pos]))
				*w++ = r->buf[r->pos++];
		}
		more = r->pos < r->len && r->buf[r->pos] == ',';
		if (more)
			r->pos++;
		else
			csv_eol(r);
		*w = '\0'; /* w is before pos: the separator it overwrites is consumed */
		if (row->ncols < CSV_COLS_MAX)
			row->cell[row->ncols] = trim(start);
		row->ncols++;
		if (!more)
			return 1;
	}
}

/* A blank line, or a spreadsheet's row of empty cells: not a row of the register. */
static bool row_blank(const csv_row *row)
{
	if (row->malformed || row->ncols > CSV_COLS_MAX)
		return false;
	for (size_t i = 0; i < row->ncols; i++)
		if (row->cell[i][0])
			return false;
	return true;
}

static size_t line_at(const char *buf, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* Read the whole file into r, capped at CSV_FILE_MAX, and refuse what is not UTF-8 text: a
 * spreadsheet saved as UTF-16 or in a local code page would otherwise fail row by row. */
static int csv_load(cli *c, const char *path, csv_reader *r)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t cap, len = 0, bad;
	char *buf = NULL;
	int rc = EXIT_FAIL;

	memset(r, 0, sizeof(*r));
	if (!f)
		return cli_fail(c, EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0) {
		rc = cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cli_fail(c, EXIT_FAIL, "cannot read %s: it is a directory", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CSV_FILE_MAX)
		goto too_big;
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1u << 16;
	for (;;) {
		size_t n;
		if (len == cap) { /* a file that grew, or a pipe */
			char *p;
			if (cap > CSV_FILE_MAX)
				goto too_big;
			cap = cap * 2 > CSV_FILE_MAX + 1u ? CSV_FILE_MAX + 1u : cap * 2;
			if (!(p = realloc(buf, cap))) {
				rc = cli_fail(c, EXIT_FAIL, "out of memory reading %s", path);
				goto out;
			}
			buf = p;
		}
		if (!buf && !(buf = malloc(cap))) {
			rc = cli_fail(c, EXIT_FAIL, "out of memory reading %s", path);
			goto out;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (len > CSV_FILE_MAX)
		goto too_big;
	buf[len] = '\0'; /* len < cap: the loop ends only on a read that fitted */
	if (len >= 2 && (((uint8_t)buf[0] == 0xff && (uint8_t)buf[1] == 0xfe) ||
	                 ((uint8_t)buf[0] == 0xfe && (uint8_t)buf[1] == 0xff))) {
		rc = cli_fail(c, EXIT_FAIL,
		              "%s is UTF-16 text: save it as \"CSV UTF-8\" and import that", path);
		goto out;
	}
	if (memchr(buf, 0, len)) {
		rc = cli_fail(c, EXIT_FAIL,
		              "%s: line %zu holds a NUL byte: it is not a CSV text file (a "
		              "spreadsheet must be saved as \"CSV UTF-8\")",
		              path, line_at(buf, (size_t)((char *)memchr(buf, 0, len) - buf)));
		goto out;
	}
	r->pos = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0; /* a UTF-8 BOM */
	if ((bad = hm_utf8_prefix(buf, len)) < len) {
		rc = cli_fail(c, EXIT_FAIL,
		              "%s: line %zu is not UTF-8 text (a file in a local code page such as "
		              "GBK): save it as \"CSV UTF-8\" and import that",
		              path, line_at(buf, bad));
		goto out;
	}
	r->buf = buf, r->len = len, r->line = 1;
	buf = NULL; /* owned by r now */
	rc = EXIT_OK;
	goto out;
too_big:
	rc = cli_fail(c, EXIT_FAIL, "%s is larger than %u MiB, the most import-csv reads: split it",
	              path, CSV_FILE_MAX >> 20);
out:
	free(buf);
	fclose(f);
	return rc;
}

/* ---- checking and writing the rows ---- */

typedef struct csv_map {
	const char *from, *to; /* borrowed from the --map arguments' copies */
	bool used;
} csv_map;

typedef struct csv_bad {
	size_t line;
	char *field;  /* owned; NULL for the row as a whole */
	char *column; /* owned; the header's name for field, NULL when they are the same */
	char *reason; /* owned */
} csv_bad;

typedef struct csv_seen {
	const char *id; /* borrowed from the file's buffer or im->made; NULL: an empty slot */
	size_t line;
} csv_seen;

typedef struct csv_import {
	cli *c;
	hm_node *n;
	const hm_collection_def *cd;
	hm_node_info self;
	hm_write *w; /* NULL in a dry run */
	size_t ncols;
	const char *header[CSV_COLS_MAX];
	const hm_field_def *field[CSV_COLS_MAX]; /* NULL: the id column, or ignored */
	int id_col;                              /* -1: every row gets a new id */
	char prefix[8];
	csv_seen *seen; /* the file's ids: open addressing, a power of two slots */
	size_t nseen, seencap;
	char **made; /* owned: the ids made for rows without one */
	size_t nmade, madecap;
	csv_bad *bad; /* owned */
	size_t nbad, badcap;
	size_t rows, good, bad_rows;
	size_t nset;   /* good rows that give a value: an id alone changes nothing */
	uint64_t body; /* bytes the good rows take in the change set's body, at most */
	bool hash_off; /* the node lacks the key of person.id_hash: warned once */
} csv_import;

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* The slot of id: where it is, or the empty one where it would go. */
static csv_seen *seen_slot(csv_import *im, const char *id)
{
	size_t mask = im->seencap - 1, i = (size_t)fnv1a(id) & mask;
	while (im->seen[i].id && strcmp(im->seen[i].id, id) != 0)
		i = (i + 1) & mask;
	return &im->seen[i];
}

static bool seen_grow(csv_import *im)
{
	size_t cap = im->seencap ? im->seencap * 2 : 1024;
	csv_seen *old = im->seen;
	size_t oldcap = im->seencap;

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
static size_t seen_line(csv_import *im, const char *id)
{
	csv_seen *s = im->seencap ? seen_slot(im, id) : NULL;
	return s && s->id ? s->line : 0;
}

static bool seen_add(csv_import *im, const char *id, size_t line)
{
	csv_seen *s;
	if (2 * (im->nseen + 1) > im->seencap && !seen_grow(im))
		return false;
	s = seen_slot(im, id);
	s->id = id, s->line = line;
	im->nseen++;
	return true;
}

static int out_of_memory(csv_import *im)
{
	return cli_fail(im->c, EXIT_FAIL, "out of memory: nothing was written");
}

/* Note a problem of the row on line: field NULL for the row as a whole. */
static int bad_add(csv_import *im, size_t line, const char *field, const char *column,
                   const char *fmt, ...) HM_PRINTF(5, 6);
static int bad_add(csv_import *im, size_t line, const char *field, const char *column,
                   const char *fmt, ...)
{
	csv_bad *b;
	va_list ap;
	int n;

	if (im->nbad == im->badcap) {
		size_t cap = im->badcap ? im->badcap * 2 : 16;
		csv_bad *p = realloc(im->bad, cap * sizeof(*p));
		if (!p)
			return out_of_memory(im);
		im->bad = p, im->badcap = cap;
	}
	b = &im->bad[im->nbad];
	memset(b, 0, sizeof(*b));
	b->line = line;
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
	im->nbad++;
	return EXIT_OK;
}

/* A value as a message may quote it: personal fields masked as lists mask them, long text cut,
 * control characters (a quoted newline) shown as spaces so the listing stays one line a row. */
static const char *shown(const hm_field_def *f, const char *text, char *buf, size_t cap)
{
	size_t n = strlen(text), o = 0;

	if (f && (f->flags & HM_F_PII)) {
		out_mask(text, n, buf, cap);
		return buf;
	}
	if (n > CSV_SHOW_MAX) {
		n = CSV_SHOW_MAX;
		while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--; /* never half a character */
	}
	for (size_t i = 0; i < n && o + 4 < cap; i++)
		buf[o++] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
	if (n < strlen(text))
		memcpy(buf + o, "...", 3), o += 3;
	buf[o] = '\0';
	return buf;
}

/* Parse and check one cell against its field's type and the ledger's rules (words, resident ID
 * number, body temperature); a problem is noted and *ok stays false. */
static int check_value(csv_import *im, size_t line, size_t col, const char *text, hm_value *v,
                       bool *ok)
{
	const hm_field_def *f = im->field[col];
	const char *why = NULL, *name = f->name, *column = im->header[col];
	char show[4 * CSV_SHOW_MAX + 8];

	*ok = false;
	if (strlen(text) > HM_STR_MAX)
		return bad_add(im, line, name, column, "longer than %u bytes", HM_STR_MAX);
	shown(f, text, show, sizeof(show));
	if (hm_value_parse(f, text, v, &why))
		return bad_add(im, line, name, column, "must be %s, not '%s'", why, show);
	if (hm_ledger_check(im->cd, f, v, &why))
		return bad_add(im, line, name, column, "must be %s%s, not '%s'",
		               why == f->help ? "one of " : "", why, show);
	*ok = true;
	return EXIT_OK;
}

static int column_of(const csv_import *im, const hm_field_def *f)
{
	for (size_t i = 0; i < im->ncols; i++)
		if (im->field[i] == f)
			return (int)i;
	return -1;
}

/* The date of field name: from the row when given there, else from the record as it is. */
static bool date_in(const csv_import *im, const csv_row *row, const bool *given,
                    const hm_record *cur, const char *name, char out[11])
{
	const hm_field *fl;

	for (size_t i = 0; i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, name)) {
			snprintf(out, 11, "%s", row->cell[i]);
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

static bool id_valid(const char *id)
{
	const char *why;
	return hm_id_check(id, &why) == HM_OK;
}

/* What a row's record needs beyond its values: a unique and valid id, the required fields of a
 * new record, no change to an append-only one, a region inside this node's, and for an episode
 * an end not before its start. */
static int check_record(csv_import *im, const csv_row *row, const bool *given, const char *id,
                        bool id_bad, const hm_record *cur)
{
	const hm_collection_def *cd = im->cd;
	const char *idcol = im->id_col >= 0 ? im->header[im->id_col] : NULL;
	char start[11], end[11];
	int rc = EXIT_OK;

	if (cur && cd->append_only)
		rc = bad_add(im, row->line, "id", idcol,
		             "%s/%s already exists, and %s records are never changed "
		             "(append-only): give this row a new id",
		             cd->name, id, cd->name);
	/* A bad id says nothing of whether the record exists: no guess at what it needs. */
	for (size_t i = 0; !cur && !id_bad && !rc && i < cd->nfields; i++) {
		const hm_field_def *f = &cd->fields[i];
		int col = column_of(im, f);
		if (f->required && (col < 0 || !row->cell[col][0]))
			rc = bad_add(im, row->line, f->name, col < 0 ? NULL : im->header[col],
			             "required for a new %s, and %s", cd->name,
			             col < 0 ? "the file has no column for it" : "empty");
	}
	for (size_t i = 0; im->self.trust && !rc && i < im->ncols; i++)
		if (given[i] && !strcmp(im->field[i]->name, cd->region_field) &&
		    !hm_region_contains(im->self.region, row->cell[i]))
			rc = bad_add(im, row->line, im->field[i]->name, im->header[i],
			             "%s lies outside this node's region %s", row->cell[i],
			             im->self.region);
	if (!rc && !strcmp(cd->name, "episode") && date_in(im, row, given, cur, "start", start) &&
	    date_in(im, row, given, cur, "end", end) && strcmp(end, start) < 0) {
		int col = column_of(im, hm_schema_field(cd, "end"));
		rc = bad_add(im, row->line, "end", col < 0 ? NULL : im->header[col],
		             "%s is before the start %s", end, start);
	}
	return rc;
}

/* Check one row; problems are noted in im->bad. *idp is the row's id (NULL: to be made). */
static int check_row(csv_import *im, const csv_row *row, hm_value *val, bool *given,
                     const char **idp)
{
	hm_record *cur = NULL;
	const char *id = NULL;
	char show[4 * CSV_SHOW_MAX + 8];
	size_t other;
	bool id_bad = false;
	int rc = EXIT_OK;
	hm_err err;

	*idp = NULL;
	if (row->malformed)
		return bad_add(im, row->line, NULL, NULL, "%s", row->malformed);
	if (row->ncols != im->ncols)
		return bad_add(im, row->line, NULL, NULL, "has %zu column%s; the header has %zu",
		               row->ncols, row->ncols == 1 ? "" : "s", im->ncols);
	for (size_t i = 0; i < im->ncols; i++) {
		given[i] = false;
		if (im->field[i] && row->cell[i][0] &&
		    (rc = check_value(im, row->line, i, row->cell[i], &val[i], &given[i])))
			return rc;
	}
	if (im->id_col >= 0 && row->cell[im->id_col][0]) {
		const char *idcol = im->header[im->id_col];
		id = row->cell[im->id_col];
		shown(NULL, id, show, sizeof(show));
		if (!id_valid(id)) {
			rc = bad_add(im, row->line, "id", idcol,
			             "must be 1 to %u bytes with no control characters, not '%s'",
			             HM_ID_MAX, show);
			id = NULL, id_bad = true;
		} else if ((other = seen_line(im, id))) {
			rc = bad_add(im, row->line, "id", idcol, "'%s' is also on line %zu", show,
			             other);
			id = NULL, id_bad = true;
		} else if (!seen_add(im, id, row->line)) {
			rc = out_of_memory(im);
		}
		if (rc)
			return rc;
		/* Whether the record exists decides what the row must hold. */
		if (id && (err = hm_node_get(im->n, im->cd->name, id, &cur)) &&
		    err != HM_ERR_NOT_FOUND)
			return cli_node_fail(im->c, im->n, err);
	}
	rc = check_record(im, row, given, id, id_bad, cur);
	hm_record_free(cur);
	*idp = id;
	return rc;
}

/* A new time-ordered id for a row without one, unused in the file and in the store. */
static int new_id(csv_import *im, size_t line, const char **out)
{
	char id[HM_ID_MAX + 1];

	for (int t = 0; t < CSV_ID_TRIES; t++) {
		hm_record *r;
		hm_err err;
		/* Rows made in the same millisecond differ only in 16 random bits: check. */
		hm_ledger_new_id(&im->c->led, im->prefix, id, sizeof(id));
		if (seen_line(im, id))
			continue;
		if ((err = hm_node_get(im->n, im->cd->name, id, &r)) == HM_OK) {
			hm_record_free(r);
			continue;
		}
		if (err != HM_ERR_NOT_FOUND)
			return cli_node_fail(im->c, im->n, err);
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
		return seen_add(im, *out, line) ? EXIT_OK : out_of_memory(im);
	}
	return cli_fail(im->c, EXIT_FAIL, "line %zu: no unused new id found: nothing was written",
	                line);
}

/* person.id_hash from the ID number, so one person registered by two villages is found. A node
 * without the county's first data key cannot make it: said once, and the rows go in without. */
static int set_id_hash(csv_import *im, const char *id, const char *idnum)
{
	char h[2 * HM_ID_HASH_BYTES + 1];
	hm_value v = {HM_V_STR, {.s = {h, 2 * HM_ID_HASH_BYTES}}};
	hm_err err;

	if (im->hash_off)
		return EXIT_OK;
	if ((err = hm_node_id_hash(im->n, idnum, h)) == HM_ERR_NOT_FOUND) {
		im->hash_off = true;
		fprintf(stderr,
		        "hamlet: %s: warning: %s: person.id_hash is left empty, so these persons "
		        "are not found when another village registers them too\n",
		        im->c->cmd, hm_node_errmsg(im->n));
		return EXIT_OK;
	}
	if (err || (err = hm_write_set(im->w, "person", id, "id_hash", &v)))
		return cli_node_fail(im->c, im->n, err);
	return EXIT_OK;
}

/* The bytes of a string in msgpack: its header and its text. */
static uint64_t mp_str(size_t n)
{
	return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

/* At most the bytes a good row takes in the change set's body, packed as node/write.c's
 * pack_body packs it, so a file too big for one change set is refused before anything is
 * written, with a hint at how to split it. */
static uint64_t row_bytes(const csv_import *im, const csv_row *row, const hm_value *val,
                          const bool *given, const char *id)
{
	uint64_t n = 2 + mp_str(strlen(im->cd->name)) +
	             (id ? mp_str(strlen(id)) : mp_str(strlen(im->prefix) + 22)) + 5;
	bool region = false;

	for (size_t i = 0; i < im->ncols; i++) {
		if (!given[i])
			continue;
		n += mp_str(strlen(im->field[i]->name));
		n += val[i].kind == HM_V_STR ? mp_str(strlen(row->cell[i])) : 9;
		region |= !strcmp(im->field[i]->name, im->cd->region_field);
	}
	if (!region) /* every op names its region */
		n += mp_str(strlen(im->cd->region_field)) + mp_str(strlen(im->self.region));
	if (!strcmp(im->cd->name, "person"))
		n += mp_str(strlen("id_hash")) + mp_str(2 * HM_ID_HASH_BYTES);
	return n;
}

/* Add a good row to the write: one hm_write_set per value given. */
static int write_row(csv_import *im, const csv_row *row, const hm_value *val, const bool *given,
                     const char *id)
{
	int rc;
	hm_err err;

	if (!id && (rc = new_id(im, row->line, &id)))
		return rc;
	for (size_t i = 0; i < im->ncols; i++) {
		if (!given[i])
			continue;
		if ((err = hm_write_set(im->w, im->cd->name, id, im->field[i]->name, &val[i])))
			return cli_fail(im->c, EXIT_FAIL, "line %zu: %s: nothing was written",
			                row->line, hm_node_errmsg(im->n));
		if (!strcmp(im->cd->name, "person") && !strcmp(im->field[i]->name, "id_number") &&
		    (rc = set_id_hash(im, id, row->cell[i])))
			return rc;
	}
	return EXIT_OK;
}

/* ---- the header: which column is the id, which field each other one is ---- */

/* Fields a file may set: not a counter (a sum of movements), not person.id_hash (hamlet's). */
static bool importable(const hm_collection_def *cd, const hm_field_def *f)
{
	return f->merge != HM_MERGE_COUNTER &&
	       !(!strcmp(cd->name, "person") && !strcmp(f->name, "id_hash"));
}

static const char *field_names(const hm_collection_def *cd, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cd->nfields && o < cap; i++)
		if (importable(cd, &cd->fields[i]))
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "",
			                      cd->fields[i].name);
	return buf;
}

static const char *target_of(const csv_map *maps, size_t nmaps, const char *column)
{
	for (size_t i = 0; i < nmaps; i++)
		if (!strcmp(maps[i].from, column))
			return maps[i].to;
	return column;
}

/* One column of the header: the id, ignored ("-"), or a field of the collection. */
static int header_column(csv_import *im, size_t i, const char *to, const char *path)
{
	cli *c = im->c;
	const hm_collection_def *cd = im->cd;
	const char *col = im->header[i];
	const hm_field_def *f;
	char names[1024];

	if (!strcmp(to, "-"))
		return EXIT_OK;
	if (!strcmp(to, "id")) {
		if (im->id_col >= 0)
			return cli_fail(c, EXIT_FAIL, "%s: columns '%s' and '%s' both give the id",
			                path, im->header[im->id_col], col);
		im->id_col = (int)i;
		return EXIT_OK;
	}
	if (!(f = hm_schema_field(cd, to))) {
		if (strcmp(to, col) != 0)
			return cli_fail(c, EXIT_FAIL,
			                "--map %s=%s: %s has no field '%s' (its fields: %s)", col,
			                to, cd->name, to, field_names(cd, names, sizeof(names)));
		return cli_fail(c, EXIT_FAIL,
		                "%s: column '%s' is not a field of %s (its fields: %s); name its "
		                "field with --map '%s=FIELD', or skip it with --map '%s=-'",
		                path, col, cd->name, field_names(cd, names, sizeof(names)), col,
		                col);
	}
	if (!importable(cd, f))
		return cli_fail(c, EXIT_FAIL, "%s: column '%s': %s.%s is %s, not imported", path,
		                col, cd->name, f->name,
		                f->merge == HM_MERGE_COUNTER
		                    ? "a counter (change it with `hamlet put ... FIELD+=N`)"
		                    : "made by hamlet from id_number");
	for (size_t j = 0; j < i; j++)
		if (im->field[j] == f)
			return cli_fail(c, EXIT_FAIL, "%s: columns '%s' and '%s' are both %s.%s",
			                path, im->header[j], col, cd->name, f->name);
	im->field[i] = f;
	return EXIT_OK;
}

static int read_header(csv_import *im, csv_reader *r, csv_map *maps, size_t nmaps,
                       const char *id_column, const char *path)
{
	cli *c = im->c;
	csv_row row;
	int got, rc;

	while ((got = csv_next(r, &row)) == 1 && row_blank(&row))
		;
	if (got < 0)
		return cli_fail(c, EXIT_FAIL, "%s: line %zu: a quoted field is never closed", path,
		                row.line);
	if (got == 0)
		return cli_fail(c, EXIT_FAIL, "%s is empty: its first row must name the columns",
		                path);
	if (row.malformed)
		return cli_fail(c, EXIT_FAIL, "%s: line %zu: the header is not well-formed: %s",
		                path, row.line, row.malformed);
	if (row.ncols > CSV_COLS_MAX)
		return cli_fail(c, EXIT_FAIL,
		                "%s: the header has %zu columns; import-csv reads at most %u", path,
		                row.ncols, CSV_COLS_MAX);
	im->ncols = row.ncols;
	im->id_col = -1;
	for (size_t i = 0; i < row.ncols; i++) {
		im->header[i] = row.cell[i];
		if (!row.cell[i][0])
			return cli_fail(c, EXIT_FAIL,
			                "%s: column %zu of the header has no name: name it, or "
			                "delete the column",
			                path, i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(row.cell[j], row.cell[i]))
				return cli_fail(c, EXIT_FAIL, "%s: two columns are named '%s'",
				                path, row.cell[i]);
	}
	for (size_t m = 0; m < nmaps; m++) {
		for (size_t i = 0; i < row.ncols; i++)
			maps[m].used |= !strcmp(maps[m].from, row.cell[i]);
		if (!maps[m].used)
			return cli_fail(c, EXIT_FAIL, "--map %s=%s: %s has no column '%s'",
			                maps[m].from, maps[m].to, path, maps[m].from);
		if (id_column && !strcmp(maps[m].from, id_column))
			return cli_fail(c, EXIT_FAIL,
			                "--map %s=%s: '%s' is the id column (--id-column)",
			                maps[m].from, maps[m].to, id_column);
	}
	if (id_column) {
		for (size_t i = 0; i < row.ncols; i++)
			if (!strcmp(row.cell[i], id_column))
				im->id_col = (int)i;
		if (im->id_col < 0)
			return cli_fail(c, EXIT_FAIL, "--id-column %s: %s has no column '%s'",
			                id_column, path, id_column);
	}
	for (size_t i = 0; i < row.ncols; i++)
		if ((int)i != im->id_col &&
		    (rc = header_column(im, i, target_of(maps, nmaps, row.cell[i]), path)))
			return rc;
	/* Every row is a new record then: a required field without a column fails them all. */
	for (size_t f = 0; im->id_col < 0 && f < im->cd->nfields; f++)
		if (im->cd->fields[f].required && column_of(im, &im->cd->fields[f]) < 0)
			return cli_fail(
			    c, EXIT_FAIL,
			    "%s: a new %s needs the field '%s', and no column is it (name "
			    "one with --map COLUMN=%s)",
			    path, im->cd->name, im->cd->fields[f].name, im->cd->fields[f].name);
	return EXIT_OK;
}

/* ---- reporting ---- */

static void list_bad(const csv_import *im)
{
	for (size_t i = 0; i < im->nbad; i++) {
		const csv_bad *b = &im->bad[i];
		fprintf(stderr, "hamlet: %s: line %zu: ", im->c->cmd, b->line);
		if (b->field && b->column)
			fprintf(stderr, "%s (column %s): ", b->field, b->column);
		else if (b->field)
			fprintf(stderr, "%s: ", b->field);
		fprintf(stderr, "%s\n", b->reason);
	}
}

static void json_str_or_null(const char *s)
{
	if (s)
		out_json_cstr(stdout, s);
	else
		fputs("null", stdout);
}

static void print_json(const csv_import *im, bool dry_run, size_t written, uint64_t first,
                       uint64_t last)
{
	fputs("{\"collection\":", stdout);
	out_json_cstr(stdout, im->cd->name);
	printf(",\"rows\":%zu,\"written\":%zu,\"bad_rows\":%zu,\"bad\":[", im->rows, written,
	       im->bad_rows);
	for (size_t i = 0; i < im->nbad; i++) {
		const csv_bad *b = &im->bad[i];
		printf("%s{\"line\":%zu,\"field\":", i ? "," : "", b->line);
		json_str_or_null(b->field);
		fputs(",\"column\":", stdout);
		json_str_or_null(b->column ? b->column : b->field);
		fputs(",\"reason\":", stdout);
		out_json_cstr(stdout, b->reason);
		fputc('}', stdout);
	}
	printf("],\"dry_run\":%s,\"changesets\":[", dry_run ? "true" : "false");
	for (uint64_t s = first; first && s <= last; s++)
		printf("%s%" PRIu64, s > first ? "," : "", s);
	fputs("]}\n", stdout);
}

static void progress(const csv_import *im, bool tty, bool done)
{
	if (tty)
		fprintf(stderr, "\rhamlet: %s: %zu rows checked%s", im->c->cmd, im->rows,
		        done ? "\n" : "");
	else if (!done)
		fprintf(stderr, "hamlet: %s: %zu rows checked\n", im->c->cmd, im->rows);
}

/* Commit the good rows (w consumed) and say what was written. */
static int commit_rows(csv_import *im, bool json)
{
	hm_changeset_info info;
	hm_vv vv;
	uint64_t before;
	hm_err err;

	if ((err = hm_node_version_vector(im->n, &vv)))
		return cli_node_fail(im->c, im->n, err);
	before = hm_vv_get(&vv, hm_node_self(im->n));
	hm_vv_release(&vv);
	err = hm_write_commit(im->w, &info);
	im->w = NULL; /* consumed */
	if (err)
		return cli_fail(im->c, EXIT_FAIL,
		                "could not write the %zu good rows: %s; nothing "
		                "was written",
		                im->nset,
		                *hm_node_errmsg(im->n) ? hm_node_errmsg(im->n) : hm_strerror(err));
	if (json) {
		print_json(im, false, im->nset, before + 1, info.seq);
		return EXIT_OK;
	}
	printf("%zu row%s read: %zu written to %s", im->rows, im->rows == 1 ? "" : "s", im->nset,
	       im->cd->name);
	if (im->good > im->nset)
		printf(", %zu with nothing but an id (unchanged)", im->good - im->nset);
	if (im->bad_rows)
		printf(", %zu bad (skipped, listed on stderr)", im->bad_rows);
	if (info.seq > before + 1)
		printf("\nchange sets %" PRIu64 "-%" PRIu64 " (last ", before + 1, info.seq);
	else
		printf("\nchange set %" PRIu64 " (", info.seq);
	out_hex(stdout, info.id.b, 8);
	printf(")\n");
	return EXIT_OK;
}

/* What to do once every row is checked: write, or say why not. */
static int finish(csv_import *im, bool dry_run, bool skip_bad, bool json)
{
	cli *c = im->c;

	if (!json)
		list_bad(im);
	if (im->body > HM_ENVELOPE_MAX && (dry_run || skip_bad || !im->bad_rows)) {
		if (json)
			print_json(im, dry_run, 0, 0, 0);
		/* The node would refuse it at commit, and say why in its own terms. */
		return cli_fail(c, EXIT_FAIL,
		                "the %zu good rows would make a change set of about %.1f MiB, more "
		                "than the %u MiB one write holds: split the file into parts of at "
		                "most %" PRIu64 " rows; nothing was written",
		                im->good, (double)im->body / (1u << 20), HM_ENVELOPE_MAX >> 20,
		                (uint64_t)im->good * (HM_ENVELOPE_MAX / 10 * 9) / im->body);
	}
	if (dry_run) {
		if (json)
			print_json(im, true, 0, 0, 0);
		else
			printf("dry run: %zu row%s read, %zu good, %zu bad; nothing written\n",
			       im->rows, im->rows == 1 ? "" : "s", im->good, im->bad_rows);
		return im->bad_rows ? cli_fail(c, EXIT_FAIL, "dry run: %zu of %zu rows are bad",
		                               im->bad_rows, im->rows)
		                    : EXIT_OK;
	}
	if (im->bad_rows && !skip_bad) {
		if (json)
			print_json(im, false, 0, 0, 0);
		return cli_fail(c, EXIT_FAIL,
		                "%zu of %zu rows are bad: nothing was written (fix them, or "
		                "--skip-bad writes the %zu good one%s)",
		                im->bad_rows, im->rows, im->good, im->good == 1 ? "" : "s");
	}
	if (im->nset == 0) {
		if (json)
			print_json(im, false, 0, 0, 0);
		else
			printf("%zu row%s read, %zu bad, %zu with nothing but an id: nothing to "
			       "write\n",
			       im->rows, im->rows == 1 ? "" : "s", im->bad_rows, im->good);
		return EXIT_OK;
	}
	return commit_rows(im, json);
}

/* ---- the command ---- */

/* --name VALUE or --name=VALUE at argv[*i]: 1 with *val set, 0 not this option, -1 no value. */
static int opt_value(char **argv, int argc, int *i, const char *name, char **val)
{
	size_t n = strlen(name);
	char *a = argv[*i];

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

/* Split "A=B,C=D" (in place: argv is ours) into maps. */
static int add_maps(cli *c, char *spec, csv_map *maps, size_t *n)
{
	for (char *p = spec;;) {
		char *comma = strchr(p, ','), *eq;
		if (comma)
			*comma = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p || !eq[1])
			return cli_fail(c, EXIT_USAGE,
			                "--map takes COLUMN=FIELD[,COLUMN=FIELD...], not '%s'", p);
		*eq = '\0';
		if (*n == CSV_MAPS_MAX)
			return cli_fail(c, EXIT_USAGE, "more than %u --map pairs", CSV_MAPS_MAX);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(maps[i].from, trim(p)))
				return cli_fail(c, EXIT_USAGE, "--map: column '%s' is mapped twice",
				                maps[i].from);
		maps[*n].from = trim(p);
		maps[*n].to = trim(eq + 1);
		maps[*n].used = false;
		(*n)++;
		if (!comma)
			return EXIT_OK;
		p = comma + 1;
	}
}

static void import_release(csv_import *im)
{
	for (size_t i = 0; i < im->nbad; i++) {
		free(im->bad[i].field);
		free(im->bad[i].column);
		free(im->bad[i].reason);
	}
	free(im->bad);
	for (size_t i = 0; i < im->nmade; i++)
		free(im->made[i]);
	free(im->made);
	free(im->seen);
	hm_write_abort(im->w);
	hm_node_close(im->n);
}

/* Every row checked, the good ones added to one write as they pass. */
static int import_rows(csv_import *im, csv_reader *r, const char *path)
{
	bool tty = cli_is_tty(stderr), report = tty || r->len > CSV_LARGE;
	hm_value val[CSV_COLS_MAX];
	bool given[CSV_COLS_MAX];
	csv_row row;
	int got, rc = EXIT_OK;

	while ((got = csv_next(r, &row)) == 1) {
		const char *id;
		size_t nbad = im->nbad;
		if (row_blank(&row))
			continue;
		im->rows++;
		if ((rc = check_row(im, &row, val, given, &id)))
			return rc;
		if (im->nbad > nbad) {
			im->bad_rows++;
			continue;
		}
		if (++im->good > HM_OPS_MAX)
			return cli_fail(
			    im->c, EXIT_FAIL,
			    "%s holds more than %u good rows, the most one write takes: "
			    "split it; nothing was written",
			    path, HM_OPS_MAX);
		im->body += row_bytes(im, &row, val, given, id);
		for (size_t i = 0; i < im->ncols; i++)
			if (given[i]) {
				im->nset++;
				break;
			}
		if (im->w && (rc = write_row(im, &row, val, given, id)))
			return rc;
		if (report && im->rows % CSV_PROGRESS == 0)
			progress(im, tty, false);
	}
	if (report && im->rows >= CSV_PROGRESS)
		progress(im, tty, true);
	if (got < 0)
		return cli_fail(im->c, EXIT_FAIL,
		                "%s: line %zu: a quoted field of the row that starts here is never "
		                "closed; nothing was written",
		                path, row.line);
	return EXIT_OK;
}

int cmd_import_csv(cli *c, int argc, char **argv);
int cmd_import_csv(cli *c, int argc, char **argv)
{
	const command *self = hm_command("import-csv");
	csv_import im = {0};
	csv_reader r = {0};
	csv_map maps[CSV_MAPS_MAX];
	char *pos[2], *val, *id_column = NULL;
	size_t nmaps = 0, npos = 0, o = 0;
	bool dry_run = false, skip_bad = false, json = false, rest = false;
	int rc, got;
	hm_err err;

	im.c = c;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (rest || a[0] != '-' || !a[1]) {
			if (npos == 2)
				return cli_fail(c, EXIT_USAGE, "too many arguments; usage:\n%s",
				                self->usage);
			pos[npos++] = a;
		} else if (!strcmp(a, "--")) {
			rest = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(self->usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--dry-run")) {
			dry_run = true;
		} else if (!strcmp(a, "--skip-bad")) {
			skip_bad = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if ((got = opt_value(argv, argc, &i, "--map", &val)) > 0) {
			if ((rc = add_maps(c, val, maps, &nmaps)))
				return rc;
		} else if (got == 0 && (got = opt_value(argv, argc, &i, "--id-column", &val)) > 0) {
			id_column = val;
		} else {
			return cli_fail(
			    c, EXIT_USAGE,
			    got < 0 ? "option '%s' needs a value"
			            : "unknown option '%s' (see `hamlet import-csv --help`)",
			    a);
		}
	}
	if (npos < 2)
		return cli_fail(c, EXIT_USAGE, "missing arguments; usage:\n%s", self->usage);
	if (pos[0][0] == '_')
		return cli_fail(
		    c, EXIT_FAIL,
		    "'%s' is a system collection, written by hamlet itself: it cannot be "
		    "imported",
		    pos[0]);
	if (!(im.cd = hm_schema_collection(pos[0])))
		return cli_fail(c, EXIT_FAIL,
		                "unknown collection '%s' (see `hamlet import-csv --help`)", pos[0]);
	/* The first letter of each word: person p-..., stock_txn st-... */
	for (const char *p = im.cd->name; *p && o + 1 < sizeof(im.prefix); p++)
		if (p == im.cd->name || p[-1] == '_')
			im.prefix[o++] = *p;
	if ((rc = csv_load(c, pos[1], &r)))
		return rc;
	if ((rc = read_header(&im, &r, maps, nmaps, id_column, pos[1])) ||
	    (rc = cli_open(c, &im.n)))
		goto out;
	hm_node_ident(im.n, &im.self);
	if (!dry_run && (err = hm_write_begin(im.n, &im.w))) {
		rc = cli_node_fail(c, im.n, err);
		goto out;
	}
	if (!(rc = import_rows(&im, &r, pos[1])))
		rc = finish(&im, dry_run, skip_bad, json);
out:
	import_release(&im);
	free(r.buf);
	return rc;
}
