/*
 * report_model.c - the model every report is built into and every front end renders
 * (ledger.h, Reports): tables of cells, owned by the report, built without failing halfway.
 */
#include "ledger_int.h"

#include <math.h>
#include <stdarg.h>
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

static void cell_release(hm_report_cell *c)
{
	if (c->kind == HM_REPORT_TEXT)
		free(c->text);
}

void hm_report_release(hm_report *r)
{
	for (size_t i = 0; i < r->ntables; i++) {
		hm_report_table *t = r->tables[i];
		for (size_t j = 0; j < t->nrows; j++)
			for (size_t k = 0; k < t->ncols; k++)
				cell_release(&t->rows[j].cells[k]);
		free(t->rows);
		free(t);
	}
	free(r->tables);
	memset(r, 0, sizeof(*r));
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
	row = &t->rows[t->nrows++];
	memset(row, 0, sizeof(*row));
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
				if (!(c->text = strdup(s)))
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
