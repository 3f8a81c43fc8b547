/*
 * report_model.c - the model every report is built into and every front end renders
 * (ledger.h, Reports): tables of cells, owned by the report, built without failing halfway.
 */
#include "ledger_int.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hm_report_init(hm_report *r, const char *name, const char *title, const char *region,
                    const char *date)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->title = title;
	snprintf(r->region, sizeof(r->region), "%s", region);
	snprintf(r->date, sizeof(r->date), "%s", date);
}

/* The rows' cells and their texts are kept in blocks of 64 KiB (a county's report has hundreds
 * of thousands of them: one allocation each, and one free each, were a good part of building
 * it), each row only as wide as its table. */
#define TEXT_BLOCK 65536

struct hm_report_chunk {
	struct hm_report_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

/* n bytes at a multiple of align (a power of two) from the report's blocks. */
static void *block_take(hm_report *r, size_t n, size_t align)
{
	struct hm_report_chunk *c = r->texts;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
	char *p;

	if (!c || at > c->cap || c->cap - at < n) {
		size_t cap = n > TEXT_BLOCK ? n : TEXT_BLOCK;
		if (!(c = malloc(sizeof(*c) + cap)))
			return NULL;
		c->next = r->texts, c->used = 0, c->cap = cap;
		r->texts = c;
		at = 0;
	}
	p = (char *)c->data + at;
	c->used = at + n;
	return p;
}

static char *text_copy(hm_report *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = block_take(r, n, 1);

	return p ? memcpy(p, s, n) : NULL;
}

void hm_report_release(hm_report *r)
{
	for (size_t i = 0; i < r->ntables; i++) {
		hm_report_table *t = r->tables[i];
		free(t->rows);
		free(t);
	}
	free(r->tables);
	while (r->texts) {
		struct hm_report_chunk *next = r->texts->next;
		free(r->texts);
		r->texts = next;
	}
	memset(r, 0, sizeof(*r));
}

size_t hm_report_bytes(const hm_report *r)
{
	size_t b = sizeof(*r) + r->cap * sizeof(*r->tables);

	for (size_t i = 0; i < r->ntables; i++)
		b += sizeof(*r->tables[i]) + r->tables[i]->cap * sizeof(hm_report_row);
	for (const struct hm_report_chunk *c = r->texts; c; c = c->next)
		b += sizeof(*c) + c->cap;
	return b;
}

void hm_report_param_add(hm_report *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (r->nparams >= HM_REPORT_PARAMS_MAX)
		return;
	r->params[r->nparams].name = name;
	va_start(ap, fmt);
	vsnprintf(r->params[r->nparams].value, sizeof(r->params[0].value), fmt, ap);
	va_end(ap);
	r->nparams++;
}

hm_report_table *hm_report_table_add(hm_report *r, const char *name, const char *title,
                                     const char *const *cols)
{
	hm_report_table *t;

	if (r->nomem)
		return NULL;
	if (r->ntables == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		hm_report_table **v = realloc(r->tables, cap * sizeof(*v));
		if (!v)
			goto nomem;
		r->tables = v, r->cap = cap;
	}
	if (!(t = calloc(1, sizeof(*t))))
		goto nomem;
	t->name = name, t->title = title;
	t->chart = t->chart_label = t->chart_label2 = t->tree_depth = -1;
	while (t->ncols < HM_REPORT_COLS_MAX && cols[t->ncols])
		t->cols[t->ncols] = cols[t->ncols], t->ncols++;
	r->tables[r->ntables++] = t;
	return t;
nomem:
	r->nomem = true;
	return NULL;
}

bool hm_report_rows_full(const hm_report *r, const hm_report_table *t)
{
	/* a table drawn as a chart holds every row: its bars are scaled against the largest */
	return t && r->rows_max && t->chart < 0 && t->nrows >= r->rows_max;
}

bool hm_report_row_wanted(hm_report *r, hm_report_table *t)
{
	if (!hm_report_rows_full(r, t))
		return true;
	t->rows_more++;
	return false;
}

void hm_report_row_add(hm_report *r, hm_report_table *t, hm_report_row_kind kind, const char *spec,
                       ...)
{
	va_list ap;
	hm_report_row *row;

	if (r->nomem || !t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		hm_report_row *v = realloc(t->rows, cap * sizeof(*v));
		if (!v) {
			r->nomem = true;
			return;
		}
		t->rows = v, t->cap = cap;
	}
	row = &t->rows[t->nrows];
	if (!(row->cells =
	          block_take(r, t->ncols * sizeof(*row->cells), _Alignof(hm_report_cell)))) {
		r->nomem = true;
		return;
	}
	t->nrows++;
	memset(row->cells, 0, t->ncols * sizeof(*row->cells));
	row->kind = kind;
	va_start(ap, spec);
	for (size_t i = 0; spec[i] && i < t->ncols; i++) {
		hm_report_cell *c = &row->cells[i];
		const char *s;
		double f;
		switch (spec[i]) {
		case 's':
			if ((s = va_arg(ap, const char *))) {
				c->kind = HM_REPORT_TEXT;
				if (!(c->text = text_copy(r, s)))
					c->kind = HM_REPORT_NULL, r->nomem = true;
			}
			break;
		case 'd':
			c->kind = HM_REPORT_NUM, c->num = (double)va_arg(ap, long long);
			break;
		case 'f':
			f = va_arg(ap, double);
			if (!isnan(f))
				c->kind = HM_REPORT_NUM, c->num = f, c->decimals = 1;
			break;
		default: /* 'n' */
			break;
		}
	}
	va_end(ap);
}
