/*
 * render.c - one report model (report.h), four ways to print it: aligned text for a clerk's
 * terminal, CSV and JSON for scripts and spreadsheets, and one self-contained HTML page (inline
 * CSS, bar charts as inline SVG, no script and nothing fetched) that opens offline.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- building the model ---- */

void rp_report_init(rp_report *r, const char *name, const char *title, const char *region,
                    const char *date)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->title = title;
	snprintf(r->region, sizeof(r->region), "%s", region);
	snprintf(r->date, sizeof(r->date), "%s", date);
}

static void cell_release(rp_cell *c)
{
	if (c->kind == RP_TEXT)
		free(c->text);
}

void rp_report_release(rp_report *r)
{
	for (size_t i = 0; i < r->ntables; i++) {
		rp_table *t = r->tables[i];
		for (size_t j = 0; j < t->nrows; j++)
			for (size_t k = 0; k < t->ncols; k++)
				cell_release(&t->rows[j].cells[k]);
		free(t->rows);
		free(t);
	}
	free(r->tables);
	memset(r, 0, sizeof(*r));
}

void rp_param_add(rp_report *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (r->nparams >= RP_PARAMS_MAX)
		return;
	r->params[r->nparams].name = name;
	va_start(ap, fmt);
	vsnprintf(r->params[r->nparams].value, sizeof(r->params[0].value), fmt, ap);
	va_end(ap);
	r->nparams++;
}

rp_table *rp_table_add(rp_report *r, const char *name, const char *title, const char *const *cols)
{
	rp_table *t;

	if (r->nomem)
		return NULL;
	if (r->ntables == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		rp_table **v = realloc(r->tables, cap * sizeof(*v));
		if (!v)
			goto nomem;
		r->tables = v, r->cap = cap;
	}
	if (!(t = calloc(1, sizeof(*t))))
		goto nomem;
	t->name = name, t->title = title;
	t->chart = t->chart_label = t->chart_label2 = -1;
	while (t->ncols < RP_COLS_MAX && cols[t->ncols])
		t->cols[t->ncols] = cols[t->ncols], t->ncols++;
	r->tables[r->ntables++] = t;
	return t;
nomem:
	r->nomem = true;
	return NULL;
}

void rp_row_add(rp_report *r, rp_table *t, rp_row_kind kind, const char *spec, ...)
{
	va_list ap;
	rp_row *row;

	if (r->nomem || !t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		rp_row *v = realloc(t->rows, cap * sizeof(*v));
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
		rp_cell *c = &row->cells[i];
		const char *s;
		double f;
		switch (spec[i]) {
		case 's':
			if ((s = va_arg(ap, const char *))) {
				c->kind = RP_TEXT;
				if (!(c->text = strdup(s)))
					c->kind = RP_NULL, r->nomem = true;
			}
			break;
		case 'd':
			c->kind = RP_NUM, c->num = (double)va_arg(ap, long long);
			break;
		case 'f':
			f = va_arg(ap, double);
			if (!isnan(f))
				c->kind = RP_NUM, c->num = f, c->decimals = 1;
			break;
		default: /* 'n' */
			break;
		}
	}
	va_end(ap);
}

/* ---- cells as text ---- */

/* A number as all formats print it: fixed decimals, never "-0". */
static void num_text(const rp_cell *c, char *buf, size_t cap)
{
	double v = c->num;
	if (v > -0.05 && v < 0.05)
		v = 0; /* -0 */
	snprintf(buf, cap, "%.*f", c->decimals, v);
}

/* The cell as plain text; buf holds numbers. Borrowed from the cell or buf. */
static const char *cell_text(const rp_cell *c, char *buf, size_t cap, const char *null)
{
	switch (c->kind) {
	case RP_TEXT:
		return c->text;
	case RP_NUM:
		num_text(c, buf, cap);
		return buf;
	default:
		return null;
	}
}

/* ---- text ---- */

/* Whether column k holds numbers: then it is aligned right, header included. */
static bool numeric_column(const rp_table *t, size_t k)
{
	for (size_t j = 0; j < t->nrows; j++)
		if (t->rows[j].cells[k].kind == RP_NUM)
			return true;
	return false;
}

static void text_cell(const char *s, size_t width, bool right, bool last, FILE *f)
{
	size_t pad = width - out_text_width(s);
	fputs("  ", f);
	if (right)
		fprintf(f, "%*s", (int)pad, "");
	out_text_cstr(f, s);
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
}

static void text_table(const rp_table *t, FILE *f)
{
	size_t width[RP_COLS_MAX];
	bool right[RP_COLS_MAX];
	char buf[64];

	fprintf(f, "\n%s\n", t->title);
	for (size_t k = 0; k < t->ncols; k++) {
		width[k] = out_text_width(t->cols[k]);
		right[k] = numeric_column(t, k);
		for (size_t j = 0; j < t->nrows; j++) {
			size_t w =
			    out_text_width(cell_text(&t->rows[j].cells[k], buf, sizeof(buf), "-"));
			width[k] = w > width[k] ? w : width[k];
		}
	}
	for (size_t k = 0; k < t->ncols; k++)
		text_cell(t->cols[k], width[k], right[k], k + 1 == t->ncols, f);
	fputc('\n', f);
	if (t->nrows == 0)
		fputs("  (none)\n", f);
	for (size_t j = 0; j < t->nrows; j++) {
		for (size_t k = 0; k < t->ncols; k++)
			text_cell(cell_text(&t->rows[j].cells[k], buf, sizeof(buf), "-"), width[k],
			          right[k], k + 1 == t->ncols, f);
		fputc('\n', f);
	}
}

static void render_text(const rp_report *r, FILE *f)
{
	fprintf(f, "%s: region %s, date %s\n", r->title, r->region, r->date);
	for (size_t i = 0; i < r->nparams; i++) {
		fprintf(f, "%s%s ", i ? ", " : "", r->params[i].name);
		out_text_cstr(f, r->params[i].value);
	}
	if (r->nparams)
		fputc('\n', f);
	for (size_t i = 0; i < r->ntables; i++)
		text_table(r->tables[i], f);
}

/* ---- CSV (RFC 4180 quoting) ---- */

static void csv_field(const char *s, FILE *f);

/* A text cell a spreadsheet would run as a formula (=, +, - or @ first) gets a leading ' (shown
 * as text by spreadsheets; docs/reports.md). Numbers are written as they are. */
static void csv_text(const char *s, FILE *f)
{
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@') {
		size_t n = strlen(s);
		char *p = malloc(n + 2);
		if (p) {
			p[0] = '\'';
			memcpy(p + 1, s, n + 1);
			csv_field(p, f);
			free(p);
			return;
		}
	}
	csv_field(s, f);
}

static void csv_field(const char *s, FILE *f)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void render_csv(const rp_report *r, FILE *f)
{
	char buf[64];

	for (size_t i = 0; i < r->ntables; i++) {
		const rp_table *t = r->tables[i];
		fprintf(f, "%s# %s\n", i ? "\n" : "", t->name);
		for (size_t k = 0; k < t->ncols; k++) {
			fputs(k ? "," : "", f);
			csv_field(t->cols[k], f);
		}
		fputc('\n', f);
		for (size_t j = 0; j < t->nrows; j++) {
			for (size_t k = 0; k < t->ncols; k++) {
				const rp_cell *cell = &t->rows[j].cells[k];
				fputs(k ? "," : "", f);
				if (cell->kind == RP_NUM)
					csv_field(cell_text(cell, buf, sizeof(buf), ""), f);
				else
					csv_text(cell_text(cell, buf, sizeof(buf), ""), f);
			}
			fputc('\n', f);
		}
	}
}

/* ---- JSON ---- */

static void render_json(const rp_report *r, FILE *f)
{
	char buf[64];

	fputs("{\"report\":", f);
	out_json_cstr(f, r->name);
	fputs(",\"region\":", f);
	out_json_cstr(f, r->region);
	fputs(",\"date\":", f);
	out_json_cstr(f, r->date);
	fputs(",\"parameters\":{", f);
	for (size_t i = 0; i < r->nparams; i++) {
		fputs(i ? "," : "", f);
		out_json_cstr(f, r->params[i].name);
		fputc(':', f);
		out_json_cstr(f, r->params[i].value);
	}
	fputs("},\"tables\":[", f);
	for (size_t i = 0; i < r->ntables; i++) {
		const rp_table *t = r->tables[i];
		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
		out_json_cstr(f, t->name);
		fputs(",\"title\":", f);
		out_json_cstr(f, t->title);
		fputs(",\"columns\":[", f);
		for (size_t k = 0; k < t->ncols; k++) {
			fputs(k ? "," : "", f);
			out_json_cstr(f, t->cols[k]);
		}
		fputs("],\"rows\":[", f);
		for (size_t j = 0; j < t->nrows; j++) {
			fputs(j ? ",[" : "[", f);
			for (size_t k = 0; k < t->ncols; k++) {
				const rp_cell *c = &t->rows[j].cells[k];
				fputs(k ? "," : "", f);
				if (c->kind == RP_TEXT)
					out_json_cstr(f, c->text);
				else
					fputs(cell_text(c, buf, sizeof(buf), "null"), f);
			}
			fputc(']', f);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
}

/* ---- HTML ---- */

static void html_text(const char *s, FILE *f)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

#define BAR_H     22
#define LABEL_W   220
#define BAR_MAX_W 360

/* One horizontal bar per data row, labelled with the row's name and its value. */
static void html_chart(const rp_table *t, FILE *f)
{
	double max = 0;
	size_t bars = 0, y = 0;
	char buf[64];

	for (size_t j = 0; j < t->nrows; j++) {
		const rp_cell *c = &t->rows[j].cells[t->chart];
		if (t->rows[j].kind != RP_ROW_DATA)
			continue;
		bars++;
		if (c->kind == RP_NUM && c->num > max)
			max = c->num;
	}
	if (bars == 0)
		return;
	fprintf(f,
	        "<figure><svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%zu\" "
	        "viewBox=\"0 0 %d %zu\"><title>",
	        LABEL_W + BAR_MAX_W + 80, bars * BAR_H + 4, LABEL_W + BAR_MAX_W + 80,
	        bars * BAR_H + 4);
	html_text(t->cols[t->chart], f);
	fputs("</title>\n", f);
	for (size_t j = 0; j < t->nrows; j++) {
		const rp_row *row = &t->rows[j];
		const rp_cell *c = &row->cells[t->chart];
		double w;
		if (row->kind != RP_ROW_DATA)
			continue;
		w = c->kind == RP_NUM && max > 0 && c->num > 0 ? c->num / max * BAR_MAX_W : 0;
		fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", LABEL_W - 8,
		        y + BAR_H - 7);
		html_text(cell_text(&row->cells[t->chart_label], buf, sizeof(buf), "-"), f);
		if (t->chart_label2 >= 0) {
			fputs(" @ ", f);
			html_text(cell_text(&row->cells[t->chart_label2], buf, sizeof(buf), "-"),
			          f);
		}
		fprintf(f,
		        "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\"/>"
		        "<text x=\"%.1f\" y=\"%zu\">",
		        LABEL_W, y + 3, w, BAR_H - 6, LABEL_W + w + 6, y + BAR_H - 7);
		html_text(cell_text(c, buf, sizeof(buf), "-"), f);
		fputs("</text>\n", f);
		y += BAR_H;
	}
	fprintf(f, "</svg><figcaption>");
	html_text(t->cols[t->chart], f);
	fputs("</figcaption></figure>\n", f);
}

static void html_table(const rp_table *t, FILE *f)
{
	static const char *const row_class[] = {"", " class=\"subtotal\"", " class=\"total\""};
	char buf[64];

	fputs("<section><h2>", f);
	html_text(t->title, f);
	fputs("</h2>\n", f);
	if (t->chart >= 0)
		html_chart(t, f);
	fputs("<table><thead><tr>", f);
	for (size_t k = 0; k < t->ncols; k++) {
		fputs("<th>", f);
		html_text(t->cols[k], f);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	if (t->nrows == 0)
		fprintf(f, "<tr><td colspan=\"%zu\" class=\"none\">none</td></tr>\n", t->ncols);
	for (size_t j = 0; j < t->nrows; j++) {
		fprintf(f, "<tr%s>", row_class[t->rows[j].kind]);
		for (size_t k = 0; k < t->ncols; k++) {
			const rp_cell *c = &t->rows[j].cells[k];
			fputs(c->kind == RP_NUM ? "<td class=\"num\">" : "<td>", f);
			html_text(cell_text(c, buf, sizeof(buf), "-"), f);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static const char html_style[] =
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left}"
    "th{background:#eee}td.num{text-align:right}"
    "tr.subtotal td{background:#f4f4f4;font-weight:bold}"
    "tr.total td{background:#e4e4e4;font-weight:bold}"
    "td.none{color:#888;font-style:italic}"
    "svg.chart rect{fill:#3b6ea8}svg.chart text{font-size:12px;fill:#222}"
    "figure{margin:.5em 0}figcaption{font-size:.9em;color:#555}"
    "dl.params{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
    "dl.params dt{font-weight:bold}dl.params dd{margin:0}";

static void render_html(const rp_report *r, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_text(r->title, f);
	fputs(" - ", f);
	html_text(r->region, f);
	fputs(" - ", f);
	html_text(r->date, f);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", html_style);
	html_text(r->title, f);
	fputs("</h1>\n<dl class=\"params\"><dt>report</dt><dd>", f);
	html_text(r->name, f);
	fputs("</dd><dt>region</dt><dd>", f);
	html_text(r->region, f);
	fputs("</dd><dt>date</dt><dd>", f);
	html_text(r->date, f);
	fputs("</dd>", f);
	for (size_t i = 0; i < r->nparams; i++) {
		fputs("<dt>", f);
		html_text(r->params[i].name, f);
		fputs("</dt><dd>", f);
		html_text(r->params[i].value, f);
		fputs("</dd>", f);
	}
	fputs("</dl>\n", f);
	for (size_t i = 0; i < r->ntables; i++)
		html_table(r->tables[i], f);
	fputs("</body></html>\n", f);
}

int rp_render(const rp_report *r, rp_format fmt, FILE *f)
{
	switch (fmt) {
	case RP_FMT_CSV:
		render_csv(r, f);
		break;
	case RP_FMT_JSON:
		render_json(r, f);
		break;
	case RP_FMT_HTML:
		render_html(r, f);
		break;
	default:
		render_text(r, f);
		break;
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
