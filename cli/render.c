/*
 * render.c - one report model (report.h), four ways to print it: aligned text for a clerk's
 * terminal, CSV and JSON for scripts and spreadsheets, and one self-contained HTML page (inline
 * CSS, bar charts as inline SVG, no script and nothing fetched) that opens offline.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- cells as text ---- */

/* A number as all formats print it: fixed decimals, never "-0". */
static void num_text(const hm_report_cell *c, char *buf, size_t cap)
{
	double v = c->num;
	if (v > -0.05 && v < 0.05)
		v = 0; /* -0 */
	snprintf(buf, cap, "%.*f", c->decimals, v);
}

/* The cell as plain text; buf holds numbers. Borrowed from the cell or buf. */
static const char *cell_text(const hm_report_cell *c, char *buf, size_t cap, const char *null)
{
	switch (c->kind) {
	case HM_REPORT_TEXT:
		return c->text;
	case HM_REPORT_NUM:
		num_text(c, buf, cap);
		return buf;
	default:
		return null;
	}
}

/* ---- text ---- */

/* Whether column k holds numbers: then it is aligned right, header included. */
static bool numeric_column(const hm_report_table *t, size_t k)
{
	for (size_t j = 0; j < t->nrows; j++)
		if (t->rows[j].cells[k].kind == HM_REPORT_NUM)
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

static void text_table(const hm_report_table *t, FILE *f)
{
	size_t width[HM_REPORT_COLS_MAX];
	bool right[HM_REPORT_COLS_MAX];
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

static void render_text(const hm_report *r, FILE *f)
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

static void render_csv(const hm_report *r, FILE *f)
{
	char buf[64];

	for (size_t i = 0; i < r->ntables; i++) {
		const hm_report_table *t = r->tables[i];
		fprintf(f, "%s# %s\n", i ? "\n" : "", t->name);
		for (size_t k = 0; k < t->ncols; k++) {
			fputs(k ? "," : "", f);
			csv_field(t->cols[k], f);
		}
		fputc('\n', f);
		for (size_t j = 0; j < t->nrows; j++) {
			for (size_t k = 0; k < t->ncols; k++) {
				const hm_report_cell *cell = &t->rows[j].cells[k];
				fputs(k ? "," : "", f);
				if (cell->kind == HM_REPORT_NUM)
					csv_field(cell_text(cell, buf, sizeof(buf), ""), f);
				else
					csv_text(cell_text(cell, buf, sizeof(buf), ""), f);
			}
			fputc('\n', f);
		}
	}
}

/* ---- JSON ---- */

/* v rounded to the nearest whole number (no libm). */
static double whole(double v)
{
	return (double)(long long)(v < 0 ? v - 0.5 : v + 0.5);
}

static json_t *json_cell(const hm_report_cell *c)
{
	double v = c->num, scale = 1;

	switch (c->kind) {
	case HM_REPORT_TEXT:
		return cj_cstr(c->text);
	case HM_REPORT_NUM:
		if (c->decimals == 0)
			return json_integer((json_int_t)whole(v));
		for (int i = 0; i < c->decimals; i++)
			scale *= 10;
		v = whole(v * scale) / scale; /* the figure as text and CSV print it */
		return json_real(v == 0 ? 0 : v);
	default:
		return json_null();
	}
}

static json_t *json_table(const hm_report_table *t)
{
	json_t *cols = json_array(), *rows = json_array();

	for (size_t k = 0; k < t->ncols; k++)
		json_array_append_new(cols, cj_cstr(t->cols[k]));
	for (size_t j = 0; j < t->nrows; j++) {
		json_t *row = json_array();
		for (size_t k = 0; k < t->ncols; k++)
			json_array_append_new(row, json_cell(&t->rows[j].cells[k]));
		json_array_append_new(rows, row);
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "name", cj_cstr(t->name), "title",
	                 cj_cstr(t->title), "columns", cols, "rows", rows);
}

static int render_json(const hm_report *r, FILE *f)
{
	json_t *params = json_object(), *tables = json_array();

	for (size_t i = 0; i < r->nparams; i++)
		json_object_set_new(params, r->params[i].name, cj_cstr(r->params[i].value));
	for (size_t i = 0; i < r->ntables; i++)
		json_array_append_new(tables, json_table(r->tables[i]));
	return cj_print(f, json_pack("{s:o, s:o, s:o, s:o, s:o}", "report", cj_cstr(r->name),
	                             "region", cj_cstr(r->region), "date", cj_cstr(r->date),
	                             "parameters", params, "tables", tables));
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

/* Whether s holds Chinese (CJK ideographs, radicals, punctuation, full-width forms): then its
 * element says lang="zh-CN", so a browser picks a Chinese font and line breaking. */
static bool has_cjk(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned cp;
		if (*p < 0xe0 || *p >= 0xf8)
			continue; /* CJK starts at U+2E80: three bytes or four */
		if (*p < 0xf0 && p[1] && p[2])
			cp = (unsigned)(*p & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 |
			     (p[2] & 0x3f);
		else if (p[1] && p[2] && p[3])
			cp = (unsigned)(*p & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12 |
			     (unsigned)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
		else
			return false;
		if ((cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
		    (cp >= 0xff00 && cp <= 0xffef) || (cp >= 0x20000 && cp <= 0x3ffff))
			return true;
	}
	return false;
}

/* s escaped inside an element of tag, with lang="zh-CN" when s is Chinese. */
static void html_elem(FILE *f, const char *tag, const char *attrs, const char *s)
{
	fprintf(f, "<%s%s%s>", tag, attrs, has_cjk(s) ? " lang=\"zh-CN\"" : "");
	html_text(s, f);
	fprintf(f, "</%s>", tag);
}

#define BAR_H     22
#define LABEL_W   220
#define BAR_MAX_W 360

/* The value of a full bar: the table's (100 for a percentage), else the largest drawn. */
static double chart_max(const hm_report_table *t, size_t *bars)
{
	double max = 0;

	*bars = 0;
	for (size_t j = 0; j < t->nrows; j++) {
		const hm_report_cell *c = &t->rows[j].cells[t->chart];
		if (t->rows[j].kind != HM_REPORT_ROW_DATA)
			continue;
		(*bars)++;
		if (c->kind == HM_REPORT_NUM && c->num > max)
			max = c->num;
	}
	return t->chart_max > 0 ? t->chart_max : max;
}

static void html_bar(const hm_report_table *t, const hm_report_row *row, double max, size_t y,
                     FILE *f)
{
	const hm_report_cell *c = &row->cells[t->chart];
	char buf[64], label[256];
	double w = c->kind == HM_REPORT_NUM && max > 0 && c->num > 0 ? c->num / max * BAR_MAX_W : 0;

	if (w > BAR_MAX_W)
		w = BAR_MAX_W;
	snprintf(label, sizeof(label), "%s",
	         cell_text(&row->cells[t->chart_label], buf, sizeof(buf), "-"));
	if (t->chart_label2 >= 0)
		snprintf(label + strlen(label), sizeof(label) - strlen(label), " @ %s",
		         cell_text(&row->cells[t->chart_label2], buf, sizeof(buf), "-"));
	fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\"%s>", LABEL_W - 8, y + BAR_H - 7,
	        has_cjk(label) ? " lang=\"zh-CN\"" : "");
	html_text(label, f);
	fprintf(f,
	        "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\"/>"
	        "<text x=\"%.1f\" y=\"%zu\">",
	        LABEL_W, y + 3, w, BAR_H - 6, LABEL_W + w + 6, y + BAR_H - 7);
	html_text(cell_text(c, buf, sizeof(buf), "-"), f);
	fputs("</text>\n", f);
}

/* One horizontal bar per data row, labelled with the row's name and its value; a percentage
 * is drawn against 100%, so two villages at 50% draw half bars. */
static void html_chart(const hm_report_table *t, FILE *f)
{
	size_t bars, y = 0;
	double max = chart_max(t, &bars);

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
		if (t->rows[j].kind != HM_REPORT_ROW_DATA)
			continue;
		html_bar(t, &t->rows[j], max, y, f);
		y += BAR_H;
	}
	fprintf(f, "</svg><figcaption>");
	html_text(t->cols[t->chart], f);
	fputs(t->chart_max > 0 ? " (a full bar is 100%)" : "", f);
	fputs("</figcaption></figure>\n", f);
}

/* One tree item: the row's label cell (column 1), and the names of its yes/no columns after
 * the depth that say yes ("p4 (case)"). */
static void tree_item(const hm_report_table *t, const hm_report_row *row, FILE *f)
{
	char buf[64];

	fputs("<li>", f);
	html_elem(f, "span", "", cell_text(&row->cells[1], buf, sizeof(buf), "-"));
	for (size_t k = (size_t)t->tree_depth + 1; k < t->ncols; k++)
		if (row->cells[k].kind == HM_REPORT_TEXT && !strcmp(row->cells[k].text, "yes")) {
			fputs(" <em>(", f);
			html_text(t->cols[k], f);
			fputs(")</em>", f);
		}
}

/* A tree table (rows in pre-order, each with its depth) as nested lists, one per value of its
 * first column (a chain): who infected whom, each under the one who exposed them. */
static void html_tree(const hm_report_table *t, FILE *f)
{
	char buf[64], group[64] = "";
	size_t open = 0;

	fputs("<ul class=\"tree\">\n", f);
	for (size_t j = 0; j < t->nrows; j++) {
		const hm_report_row *row = &t->rows[j];
		const char *g = cell_text(&row->cells[0], buf, sizeof(buf), "-");
		size_t d = (size_t)row->cells[t->tree_depth].num;
		if (j == 0 || strcmp(g, group) != 0) {
			for (; open; open--)
				fputs("</li></ul>", f);
			fprintf(f, "%s<li><span class=\"group\">", j ? "</li>\n" : "");
			html_text(t->cols[0], f);
			fputc(' ', f);
			html_text(g, f);
			fputs("</span>", f);
			snprintf(group, sizeof(group), "%s", g);
		}
		if (d + 1 > open) {
			fputs("<ul>", f);
			open++;
		} else {
			fputs("</li>", f);
			for (; open > d + 1; open--)
				fputs("</ul></li>", f);
		}
		tree_item(t, row, f);
	}
	for (; open; open--)
		fputs("</li></ul>", f);
	fputs(t->nrows ? "</li>\n</ul>\n" : "<li class=\"none\">none</li></ul>\n", f);
}

static void html_rows(const hm_report_table *t, FILE *f)
{
	static const char *const row_class[] = {"", " class=\"subtotal\"", " class=\"total\""};
	char buf[64];

	if (t->nrows == 0)
		fprintf(f, "<tr><td colspan=\"%zu\" class=\"none\">none</td></tr>\n", t->ncols);
	for (size_t j = 0; j < t->nrows; j++) {
		fprintf(f, "<tr%s>", row_class[t->rows[j].kind]);
		for (size_t k = 0; k < t->ncols; k++) {
			const hm_report_cell *c = &t->rows[j].cells[k];
			html_elem(f, "td", c->kind == HM_REPORT_NUM ? " class=\"num\"" : "",
			          cell_text(c, buf, sizeof(buf), "-"));
		}
		fputs("</tr>\n", f);
	}
}

/* Tables of more than this many columns are printed on a landscape page. */
#define HTML_PORTRAIT_COLS 8

static void html_table(const hm_report_table *t, FILE *f)
{
	fputs(t->ncols > HTML_PORTRAIT_COLS ? "<section class=\"wide\"><h2>" : "<section><h2>", f);
	html_text(t->title, f);
	fputs("</h2>\n", f);
	if (t->chart >= 0)
		html_chart(t, f);
	if (t->tree_depth >= 0) {
		html_tree(t, f);
		fputs("</section>\n", f);
		return;
	}
	fputs("<table><thead><tr>", f);
	for (size_t k = 0; k < t->ncols; k++)
		html_elem(f, "th", "", t->cols[k]);
	fputs("</tr></thead>\n<tbody>\n", f);
	html_rows(t, f);
	fputs("</tbody></table></section>\n", f);
}

/* On screen as before; in print, A4 with every table within the page: wide tables on a
 * landscape page, small type, headers repeated on every page a table spans. */
static const char html_style[] =
    "body{font-family:\"Noto Sans CJK SC\",\"Noto Sans SC\",\"Source Han Sans SC\","
    "\"WenQuanYi Micro Hei\",sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left}"
    "th{background:#eee}td.num{text-align:right}"
    "tr.subtotal td{background:#f4f4f4;font-weight:bold}"
    "tr.total td{background:#e4e4e4;font-weight:bold}"
    "td.none,li.none{color:#888;font-style:italic}"
    "svg.chart{max-width:100%;height:auto}"
    "svg.chart rect{fill:#3b6ea8}svg.chart text{font-size:12px;fill:#222;font-family:inherit}"
    "figure{margin:.5em 0}figcaption{font-size:.9em;color:#555}"
    "dl.params{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
    "dl.params dt{font-weight:bold}dl.params dd{margin:0}"
    "ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.4em}"
    "ul.tree ul{border-left:1px solid #bbb}ul.tree li{margin:.15em 0}"
    "ul.tree span.group{font-weight:bold}"
    "@page{size:A4 portrait;margin:12mm}"
    "@page wide{size:A4 landscape;margin:10mm}"
    "@media print{body{margin:0;font-size:9pt}section.wide{page:wide}"
    "table{width:100%;font-size:8pt;page-break-inside:auto}"
    "thead{display:table-header-group}tr{page-break-inside:avoid}"
    "th,td{padding:.1em .3em;overflow-wrap:anywhere}"
    "h2{page-break-after:avoid}figure{page-break-inside:avoid}}";

static void html_param(FILE *f, const char *name, const char *value)
{
	html_elem(f, "dt", "", name);
	html_elem(f, "dd", "", value);
}

static void render_html(const hm_report *r, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_text(r->title, f);
	fputs(" - ", f);
	html_text(r->region, f);
	fputs(" - ", f);
	html_text(r->date, f);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", html_style);
	html_text(r->title, f);
	fputs("</h1>\n<dl class=\"params\">", f);
	html_param(f, "report", r->name);
	html_param(f, "region", r->region);
	html_param(f, "date", r->date);
	for (size_t i = 0; i < r->nparams; i++)
		html_param(f, r->params[i].name, r->params[i].value);
	fputs("</dl>\n", f);
	for (size_t i = 0; i < r->ntables; i++)
		html_table(r->tables[i], f);
	fputs("</body></html>\n", f);
}

int rp_render(const hm_report *r, rp_format fmt, FILE *f)
{
	switch (fmt) {
	case RP_FMT_CSV:
		render_csv(r, f);
		break;
	case RP_FMT_JSON:
		if (render_json(r, f) != 0 && !ferror(f)) {
			errno = ENOMEM; /* the JSON could not be built */
			return -1;
		}
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
