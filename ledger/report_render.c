/*
 * report_render.c - one report model (ledger.h, Reports), four ways to write it: aligned text for
 * a clerk's terminal, CSV and JSON for scripts and spreadsheets, and one self-contained HTML page
 * (inline CSS, bar charts as inline SVG, no script and nothing fetched) that opens offline, or
 * that page's body alone for a page that brings its own head and style sheet (the web
 * interface, whose CSP allows no inline style). The caller says where (a FILE*, or memory);
 * nothing here prints on its own.
 */
#include "ledger_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the words of a rendering ---- */

/* The words are those of the model (English), or a caller's (hm_report_html.word, the web's),
 * or with HM_REPORT_LOCAL the reader's: titles and sentences through the catalogue, and when the
 * catalogue in use is Chinese the columns' Chinese headers and the stored words of cells
 * (returnee, home, on_road, a row's level) from the ledger's tables (column_zh below,
 * words.c), the one place those words are kept. TEXT and HTML use the same hooks. */
static const hm_report_html html_plain = {0, NULL, NULL, NULL};
static const char *column_zh(const char *table, const char *col);

/* The word en in the caller's language (hm_report_html.word), or en. */
static const char *hw(const hm_report_html *h, const char *en)
{
	const char *w = h->word ? h->word(h->arg, en) : NULL;
	return w ? w : en;
}

/* The header of column k of t: its Chinese header with HM_REPORT_CSV_ZH, else its name. */
static const char *hcol(const hm_report_html *h, const hm_report_table *t, size_t k)
{
	return h->flags & HM_REPORT_CSV_ZH ? column_zh(t->name, t->cols[k]) : t->cols[k];
}

/* HM_REPORT_LOCAL's word hook: the ledger's Chinese word (a level, a parameter's name) when the
 * catalogue is Chinese, else the catalogue's (a title, "none", "yes"). */
static const char *local_word(void *arg, const char *en)
{
	const char *zh = *(const bool *)arg ? column_zh("", en) : en;

	if (zh != en)
		return zh;
	if (!strcmp(en, "yes") || !strcmp(en, "no")) /* the yes/no columns */
		return !strcmp(en, "yes") ? _("yes") : _("no");
	return _(en);
}

/* Whether column col holds the ledger's own words (a row's level, yes or no), which the
 * caller's word hook may put in the page's language; every other cell is shown as it is, but
 * for the stored words of a field with HM_REPORT_LOCAL in Chinese. */
static bool word_column(const char *col)
{
	static const char *const cols[] = {"level",         "case",           "acted",
	                                   "property_told", "residents_told", "last_followup"};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(cols[i], col))
			return true;
	return false;
}

/* The cell as shown: cell_text, a word column's text in the caller's words, a stored word in
 * Chinese (HM_REPORT_LOCAL with HM_REPORT_CSV_ZH). */
static const char *body_cell(const hm_report_html *h, const hm_report_table *t, size_t k,
                             const hm_report_cell *c, char *buf, size_t cap)
{
	const char *s = cell_text(c, buf, cap, "-"), *zh;

	if (c->kind != HM_REPORT_TEXT)
		return s;
	if (h->word && word_column(t->cols[k]))
		return hw(h, s);
	if ((h->flags & HM_REPORT_LOCAL) && (h->flags & HM_REPORT_CSV_ZH) &&
	    (zh = hm_ledger_field_word_zh(t->cols[k], s)))
		return zh;
	return s;
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
	size_t pad = width - hm_text_width(s);
	fputs("  ", f);
	if (right)
		fprintf(f, "%*s", (int)pad, "");
	hm_text_write(f, s, strlen(s));
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
}

static void text_table(const hm_report_html *h, const hm_report_table *t, FILE *f)
{
	size_t width[HM_REPORT_COLS_MAX];
	bool right[HM_REPORT_COLS_MAX];
	char buf[64];

	fprintf(f, "\n%s\n", hw(h, t->title));
	for (size_t k = 0; k < t->ncols; k++) {
		width[k] = hm_text_width(hcol(h, t, k));
		right[k] = numeric_column(t, k);
		for (size_t j = 0; j < t->nrows; j++) {
			size_t w = hm_text_width(
			    body_cell(h, t, k, &t->rows[j].cells[k], buf, sizeof(buf)));
			width[k] = w > width[k] ? w : width[k];
		}
	}
	for (size_t k = 0; k < t->ncols; k++)
		text_cell(hcol(h, t, k), width[k], right[k], k + 1 == t->ncols, f);
	fputc('\n', f);
	if (t->nrows == 0)
		fprintf(f, "  %s\n", hw(h, N_("(none)")));
	for (size_t j = 0; j < t->nrows; j++) {
		for (size_t k = 0; k < t->ncols; k++)
			text_cell(body_cell(h, t, k, &t->rows[j].cells[k], buf, sizeof(buf)),
			          width[k], right[k], k + 1 == t->ncols, f);
		fputc('\n', f);
	}
}

static void render_text(const hm_report *r, const hm_report_html *h, FILE *f)
{
	fprintf(f, h->word ? _("%s: region %s, date %s\n") : "%s: region %s, date %s\n",
	        hw(h, r->title), r->region, r->date);
	for (size_t i = 0; i < r->nparams; i++) {
		fprintf(f, "%s%s ", i ? ", " : "", r->params[i].name);
		hm_text_write(f, r->params[i].value, strlen(r->params[i].value));
	}
	if (r->nparams)
		fputc('\n', f);
	for (size_t i = 0; i < r->ntables; i++)
		text_table(h, r->tables[i], f);
}

/* ---- CSV (RFC 4180 quoting) ---- */

/* Whether a spreadsheet could take text as a formula: =, +, - or @ first, their full-width
 * forms (an input method types them), or a tab, CR or LF first (Excel skips them and reads the
 * formula after). */
static bool csv_formula(const char *s)
{
	static const char *const wide[] = {"\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
	                                   "\xef\xbc\xa0"}; /* = + - @ */
	if (*s && strchr("=+-@\t\r\n", *s))
		return true;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (!strncmp(s, wide[i], 3))
			return true;
	return false;
}

/* s as one field, after pre (which needs no quoting): quoted when it holds a comma, a quote, a
 * line break, or a ; (Excel splits at it where it is the list separator, in many locales). */
static void csv_put(const char *pre, const char *s, FILE *f)
{
	bool quote = strpbrk(s, ",;\"\r\n") != NULL;

	fputs(quote ? "\"" : "", f);
	fputs(pre, f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(quote ? "\"" : "", f);
}

static void csv_field(const char *s, FILE *f)
{
	csv_put("", s, f);
}

/* A text cell a spreadsheet could run as a formula (csv_formula) gets a leading ' (shown as
 * text by spreadsheets; docs/reports.md). Numbers are written as they are. */
static void csv_text(const char *s, FILE *f)
{
	csv_put(csv_formula(s) ? "'" : "", s, f);
}

/* The Chinese header of column col of table (HM_REPORT_CSV_ZH, HM_REPORT_LOCAL in Chinese): the
 * first entry for this table, else the first for every table (NULL), else col as it is. Also
 * the words of a row's level and of the HTML page's parameters. */
static const struct {
	const char *table, *col, *zh;
} col_zh[] = {
    {"fevers", "followups", "随访发现"},
    {"fevers", "checkpoints", "卡口发现"},
    {"stock", "received", "入库"},
    {"shipments", "received", "签收"},
    {"tips", "received", "收到举报"},
    {"penalties", "paid", "已缴纳"},
    {"penalties", "paid_amount", "已缴纳金额"},
    {NULL, "region", "地区"},
    {NULL, "level", "级别"},
    {NULL, "county", "县"},
    {NULL, "township", "乡镇"},
    {NULL, "subtotal", "小计"},
    {NULL, "report", "报表"},
    {NULL, "date", "日期"},
    {NULL, "person", "人员编号"},
    {NULL, "name", "姓名"},
    {NULL, "village", "村"},
    {NULL, "compound", "小区"},
    {NULL, "time", "时间"},
    {NULL, "temperature", "体温"},
    {NULL, "action", "处理"},
    {NULL, "acted", "已处理"},
    {NULL, "monitored", "在管人数"},
    {NULL, "home", "居家隔离"},
    {NULL, "central", "集中隔离"},
    {NULL, "monitoring", "健康监测"},
    {NULL, "returnee", "返乡人员"},
    {NULL, "close", "密切接触者"},
    {NULL, "second", "次密切接触者"},
    {NULL, "case", "病例"},
    {NULL, "fever", "发热"},
    {NULL, "other", "其他"},
    {NULL, "new", "新增"},
    {NULL, "released", "解除"},
    {NULL, "cumulative", "累计"},
    {NULL, "wuhan", "武汉"},
    {NULL, "hubei", "湖北"},
    {NULL, "followups", "随访次数"},
    {NULL, "total", "合计"},
    {NULL, "expected", "应随访"},
    {NULL, "done", "已随访"},
    {NULL, "compliance_pct", "随访完成率%"},
    {NULL, "phone", "电话随访"},
    {NULL, "phone_pct", "电话随访率%"},
    {NULL, "last_followup", "最近随访"},
    {NULL, "exposures", "接触记录"},
    {NULL, "distance", "距离"},
    {NULL, "path", "传播路径"},
    {NULL, "chain", "传播链"},
    {NULL, "size", "人数"},
    {NULL, "persons", "人员"},
    {NULL, "infected_by", "感染来源"},
    {NULL, "depth", "代数"},
    {NULL, "unlimited", "不限"},
    {NULL, "fever.threshold", "发热体温标准"},
    {NULL, "reward.tip", "举报奖励金额"},
    {NULL, "penalty.before", "截止日前处罚金额"},
    {NULL, "penalty.after", "截止日后处罚金额"},
    {NULL, "penalty.cutoff", "处罚标准调整日期"},
    {NULL, "item", "物资"},
    {NULL, "store", "仓库"},
    {NULL, "received", "收到"},
    {NULL, "transfer_in", "调入"},
    {NULL, "issued", "发放"},
    {NULL, "transfer_out", "调出"},
    {NULL, "consumed", "消耗"},
    {NULL, "counted", "盘点调整"},
    {NULL, "on_hand", "库存"},
    {NULL, "daily_use", "日均消耗"},
    {NULL, "days_of_cover", "可用天数"},
    {NULL, "requested", "申领"},
    {NULL, "gap", "缺口"},
    {NULL, "shipment", "运单"},
    {NULL, "from", "发出地"},
    {NULL, "to", "目的地"},
    {NULL, "status", "状态"},
    {NULL, "dispatched", "发出"},
    {NULL, "intercepted", "拦截"},
    {NULL, "compounds", "小区数"},
    {NULL, "property_not_told", "未告知物业"},
    {NULL, "residents_not_told", "未告知居民"},
    {NULL, "property_told", "已告知物业"},
    {NULL, "residents_told", "已告知居民"},
    {NULL, "verified", "已核实"},
    {NULL, "rejected", "不属实"},
    {NULL, "owed", "应奖励"},
    {NULL, "paid", "已支付"},
    {NULL, "paid_amount", "已支付金额"},
    {NULL, "outstanding", "未支付"},
    {NULL, "penalties", "处罚"},
    {NULL, "amount", "金额"},
    {NULL, "proposed", "拟处罚"},
    {NULL, "proposed_amount", "拟处罚金额"},
    {NULL, "imposed", "已处罚"},
    {NULL, "imposed_amount", "已处罚金额"},
    {NULL, "waived", "免罚"},
    {NULL, "waived_amount", "免罚金额"},
};

static const char *column_zh(const char *table, const char *col)
{
	for (size_t i = 0; i < sizeof(col_zh) / sizeof(col_zh[0]); i++)
		if ((!col_zh[i].table || !strcmp(col_zh[i].table, table)) &&
		    !strcmp(col_zh[i].col, col))
			return col_zh[i].zh;
	return col;
}

const char *hm_report_word_zh(const char *table, const char *word)
{
	const char *zh = column_zh(table ? table : "", word);
	return zh == word ? NULL : zh;
}

static void render_csv(const hm_report *r, unsigned flags, FILE *f)
{
	bool zh = flags & HM_REPORT_CSV_ZH;
	char buf[64];

	if (zh)
		fputs("\xef\xbb\xbf", f); /* a BOM: Excel reads UTF-8, not the local code page */
	for (size_t i = 0; i < r->ntables; i++) {
		const hm_report_table *t = r->tables[i];
		fprintf(f, "%s# %s\n", i ? "\n" : "", t->name);
		for (size_t k = 0; k < t->ncols; k++) {
			fputs(k ? "," : "", f);
			csv_field(zh ? column_zh(t->name, t->cols[k]) : t->cols[k], f);
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

/* jansson says nothing when an allocation fails inside an append or a set (the part is just
 * missing): each step is checked here, and a document that lost a part is never written. */
typedef struct jdoc {
	bool nomem;
} jdoc;

static json_t *jd_keep(jdoc *d, json_t *v)
{
	if (!v)
		d->nomem = true;
	return v;
}

static void jd_append(jdoc *d, json_t *array, json_t *v)
{
	if (json_array_append_new(array, v) != 0) /* consumes v, also on failure */
		d->nomem = true;
}

static void jd_set(jdoc *d, json_t *object, const char *key, json_t *v)
{
	if (json_object_set_new(object, key, v) != 0) /* consumes v, also on failure */
		d->nomem = true;
}

/* s as a JSON string; a byte that is not UTF-8 becomes U+FFFD. NULL: null. */
static json_t *jd_str(jdoc *d, const char *s)
{
	size_t n, len;
	char *fixed;
	json_t *v;

	if (!s)
		return jd_keep(d, json_null());
	n = strlen(s);
	if (hm_utf8_prefix(s, n) == n)
		return jd_keep(d, json_stringn(s, n));
	if (!(fixed = hm_text_utf8_dup(s, n, &len)))
		return jd_keep(d, NULL);
	v = json_stringn(fixed, len);
	free(fixed);
	return jd_keep(d, v);
}

/* v rounded to the nearest whole number (no libm). */
static double whole(double v)
{
	return (double)(long long)(v < 0 ? v - 0.5 : v + 0.5);
}

static json_t *json_cell(jdoc *d, const hm_report_cell *c)
{
	double v = c->num, scale = 1;

	switch (c->kind) {
	case HM_REPORT_TEXT:
		return jd_str(d, c->text);
	case HM_REPORT_NUM:
		if (c->decimals == 0)
			return jd_keep(d, json_integer((json_int_t)whole(v)));
		for (int i = 0; i < c->decimals; i++)
			scale *= 10;
		v = whole(v * scale) / scale; /* the figure as text and CSV print it */
		return jd_keep(d, json_real(v == 0 ? 0 : v));
	default:
		return jd_keep(d, json_null());
	}
}

static json_t *json_table(jdoc *d, const hm_report_table *t)
{
	json_t *o = jd_keep(d, json_object()), *cols = jd_keep(d, json_array()),
	       *rows = jd_keep(d, json_array());

	for (size_t k = 0; k < t->ncols; k++)
		jd_append(d, cols, jd_str(d, t->cols[k]));
	for (size_t j = 0; j < t->nrows; j++) {
		json_t *row = jd_keep(d, json_array());
		for (size_t k = 0; k < t->ncols; k++)
			jd_append(d, row, json_cell(d, &t->rows[j].cells[k]));
		jd_append(d, rows, row);
	}
	jd_set(d, o, "name", jd_str(d, t->name));
	jd_set(d, o, "title", jd_str(d, t->title));
	jd_set(d, o, "columns", cols);
	jd_set(d, o, "rows", rows);
	return o;
}

/* The document, compact on one line as the command line writes all its JSON. */
static hm_err render_json(const hm_report *r, FILE *f)
{
	jdoc d = {false};
	json_t *doc = jd_keep(&d, json_object()), *params = jd_keep(&d, json_object()),
	       *tables = jd_keep(&d, json_array());

	jd_set(&d, doc, "report", jd_str(&d, r->name));
	jd_set(&d, doc, "region", jd_str(&d, r->region));
	jd_set(&d, doc, "date", jd_str(&d, r->date));
	for (size_t i = 0; i < r->nparams; i++)
		jd_set(&d, params, r->params[i].name, jd_str(&d, r->params[i].value));
	jd_set(&d, doc, "parameters", params);
	for (size_t i = 0; i < r->ntables; i++)
		jd_append(&d, tables, json_table(&d, r->tables[i]));
	jd_set(&d, doc, "tables", tables);
	if (d.nomem) {
		json_decref(doc);
		errno = ENOMEM;
		return HM_ERR_NOMEM;
	}
	return hm_json_write(f, doc);
}

/* ---- HTML ---- */

/* How the HTML is written: the whole page (html_plain: no hooks, English words, the columns'
 * own names; or HM_REPORT_LOCAL's) or a page's body (hm_report_render_body: the caller's words,
 * Chinese headers, links). The hooks are above, with the text's. */

/* s as HTML text, by the one rule (hm_text_html_write). */
static void html_text(const char *s, FILE *f)
{
	hm_text_html_write(f, s, strlen(s));
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

/* s escaped inside an element of tag, with lang="zh-CN" when s is Chinese; inside a link to
 * href when href is not NULL. */
static void html_link_elem(FILE *f, const char *tag, const char *attrs, const char *s,
                           const char *href)
{
	fprintf(f, "<%s%s%s>", tag, attrs, has_cjk(s) ? " lang=\"zh-CN\"" : "");
	if (href) {
		fputs("<a href=\"", f);
		html_text(href, f);
		fputs("\">", f);
	}
	html_text(s, f);
	fprintf(f, "%s</%s>", href ? "</a>" : "", tag);
}

static void html_elem(FILE *f, const char *tag, const char *attrs, const char *s)
{
	html_link_elem(f, tag, attrs, s, NULL);
}

/* The link of cell (j, k) of t from the caller's hook, into buf; NULL when none. */
static const char *cell_link(const hm_report_html *h, const hm_report_table *t, size_t j, size_t k,
                             char *buf, size_t cap)
{
	if (!h->link || t->rows[j].cells[k].kind != HM_REPORT_TEXT)
		return NULL;
	buf[0] = 0;
	return h->link(h->arg, t, j, k, buf, cap) && buf[0] ? buf : NULL;
}

#define BAR_H     22
#define LABEL_W   220
#define BAR_MAX_W 360
#define HREF_MAX  1024

/* ---- a window of rows (hm_report_html.rows_max) ---- */

/* The rows of a table written: those at [from, to) of t->rows, and every total row. n counts
 * the rows that are not totals; first and shown say which of them the window holds. */
typedef struct window {
	size_t from, to, first, shown, n;
} window;

static void window_of(const hm_report_html *h, const hm_report_table *t, window *w)
{
	size_t first = h->rows_max && h->first ? h->first(h->arg, t) : 0, k = 0, held = 0;

	for (size_t j = 0; j < t->nrows; j++)
		held += t->rows[j].kind != HM_REPORT_ROW_TOTAL;
	w->n = held + t->rows_more;
	w->from = 0, w->to = t->nrows, w->first = 0, w->shown = held;
	if (!h->rows_max || w->n <= h->rows_max)
		return;
	if (first >= w->n) /* past the end: the last window */
		first = (w->n - 1) / h->rows_max * h->rows_max;
	w->first = first;
	w->shown = w->n - first < h->rows_max ? w->n - first : h->rows_max;
	if (first + w->shown > held) /* a window past the rows held: what there is of it */
		w->shown = first < held ? held - first : 0;
	if (!w->shown) {
		w->from = w->to = 0;
		return;
	}
	for (size_t j = 0; j < t->nrows; j++) {
		if (t->rows[j].kind == HM_REPORT_ROW_TOTAL)
			continue;
		if (k == first)
			w->from = j;
		if (k++ == first + w->shown - 1) {
			w->to = j + 1;
			break;
		}
	}
}

/* Whether row j of t is written: in the window, or a total (which sums every row). */
static bool window_has(const window *w, const hm_report_table *t, size_t j)
{
	return (j >= w->from && j < w->to) || t->rows[j].kind == HM_REPORT_ROW_TOTAL;
}

/* n in groups of three digits: 12,345. */
static void group_digits(size_t n, char *buf, size_t cap)
{
	char d[32];
	size_t len = (size_t)snprintf(d, sizeof(d), "%zu", n), o = 0;

	for (size_t i = 0; i < len && o + 2 < cap; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = 0;
}

/* The word fmt, escaped, each %s in it replaced by the next of args (then ""). A word may come
 * from a catalogue: it is never given to printf. */
static void html_fill(FILE *f, const char *fmt, const char *const *args, size_t nargs)
{
	size_t i = 0;

	for (const char *p = fmt, *q;; p = q + 2) {
		q = strstr(p, "%s");
		hm_text_html_write(f, p, q ? (size_t)(q - p) : strlen(p));
		if (!q)
			return;
		html_text(i < nargs ? args[i++] : "", f);
	}
}

/* A link to the window of t from row first, named word, when the caller's hook gives one. */
static void pager_link(const hm_report_html *h, const hm_report_table *t, size_t first,
                       const char *word, FILE *f)
{
	char href[HREF_MAX] = "";

	if (!h->page || !h->page(h->arg, t, first, href, sizeof(href)) || !href[0])
		return;
	fputc(' ', f);
	html_link_elem(f, "span", "", hw(h, word), href);
}

/* Which rows are shown of how many ("rows 1-200 of 12,345"), and the links to the previous and
 * next windows; nothing when the table fits in one. */
static void html_pager(const hm_report_html *h, const hm_report_table *t, const window *w, FILE *f)
{
	char a[32], b[32], c[32];
	const char *const args[] = {a, b, c};
	const char *words = hw(h, N_("rows %s-%s of %s"));

	if (!h->rows_max || w->n <= h->rows_max)
		return;
	group_digits(w->first + 1, a, sizeof(a));
	group_digits(w->first + w->shown, b, sizeof(b));
	group_digits(w->n, c, sizeof(c));
	fprintf(f, "<p class=\"pager\"%s>", has_cjk(words) ? " lang=\"zh-CN\"" : "");
	html_fill(f, words, args, 3);
	if (w->first > 0)
		pager_link(h, t, w->first > h->rows_max ? w->first - h->rows_max : 0,
		           N_("previous"), f);
	if (w->first + w->shown < w->n)
		pager_link(h, t, w->first + w->shown, N_("next"), f);
	fputs("</p>\n", f);
}

/* The value of a full bar: the table's (100 for a percentage), else the largest of the whole
 * table (so that windows compare); *bars: the data rows of the window. */
static double chart_max(const hm_report_table *t, const window *w, size_t *bars)
{
	double max = 0;

	*bars = 0;
	for (size_t j = 0; j < t->nrows; j++) {
		const hm_report_cell *c = &t->rows[j].cells[t->chart];
		if (t->rows[j].kind != HM_REPORT_ROW_DATA)
			continue;
		*bars += window_has(w, t, j);
		if (c->kind == HM_REPORT_NUM && c->num > max)
			max = c->num;
	}
	return t->chart_max > 0 ? t->chart_max : max;
}

static void html_bar(const hm_report_html *h, const hm_report_table *t, const hm_report_row *row,
                     double max, size_t y, FILE *f)
{
	const hm_report_cell *c = &row->cells[t->chart];
	char buf[64], label[256];
	double w = c->kind == HM_REPORT_NUM && max > 0 && c->num > 0 ? c->num / max * BAR_MAX_W : 0;

	if (w > BAR_MAX_W)
		w = BAR_MAX_W;
	snprintf(
	    label, sizeof(label), "%s",
	    body_cell(h, t, (size_t)t->chart_label, &row->cells[t->chart_label], buf, sizeof(buf)));
	if (t->chart_label2 >= 0)
		snprintf(label + strlen(label), sizeof(label) - strlen(label), " @ %s",
		         body_cell(h, t, (size_t)t->chart_label2, &row->cells[t->chart_label2], buf,
		                   sizeof(buf)));
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
static void html_chart(const hm_report_html *h, const hm_report_table *t, const window *w, FILE *f)
{
	size_t bars, y = 0;
	double max = chart_max(t, w, &bars);

	if (bars == 0)
		return;
	fprintf(f,
	        "<figure><svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%zu\" "
	        "viewBox=\"0 0 %d %zu\"><title>",
	        LABEL_W + BAR_MAX_W + 80, bars * BAR_H + 4, LABEL_W + BAR_MAX_W + 80,
	        bars * BAR_H + 4);
	html_text(hcol(h, t, (size_t)t->chart), f);
	fputs("</title>\n", f);
	for (size_t j = w->from; j < w->to; j++) {
		if (t->rows[j].kind != HM_REPORT_ROW_DATA)
			continue;
		html_bar(h, t, &t->rows[j], max, y, f);
		y += BAR_H;
	}
	fprintf(f, "</svg><figcaption>");
	html_text(hcol(h, t, (size_t)t->chart), f);
	if (t->chart_max > 0) {
		fputc(' ', f);
		html_text(hw(h, N_("(a full bar is 100%)")), f);
	}
	fputs("</figcaption></figure>\n", f);
}

/* One tree item: the row's label cell (column 1), and the names of its yes/no columns after
 * the depth that say yes ("p4 (case)"). */
static void tree_item(const hm_report_html *h, const hm_report_table *t, size_t j, FILE *f)
{
	const hm_report_row *row = &t->rows[j];
	char buf[64], href[HREF_MAX];

	fputs("<li>", f);
	html_link_elem(f, "span", "", body_cell(h, t, 1, &row->cells[1], buf, sizeof(buf)),
	               cell_link(h, t, j, 1, href, sizeof(href)));
	for (size_t k = (size_t)t->tree_depth + 1; k < t->ncols; k++)
		if (row->cells[k].kind == HM_REPORT_TEXT && !strcmp(row->cells[k].text, "yes")) {
			fputs(" <em>(", f);
			html_text(hcol(h, t, k), f);
			fputs(")</em>", f);
		}
}

/* A tree table (rows in pre-order, each with its depth) as nested lists, one per value of its
 * first column (a chain): who infected whom, each under the one who exposed them. */
static void html_tree(const hm_report_html *h, const hm_report_table *t, const window *w, FILE *f)
{
	char buf[64], group[64] = "";
	size_t open = 0;

	fputs("<ul class=\"tree\">\n", f);
	for (size_t j = w->from; j < w->to; j++) {
		const hm_report_row *row = &t->rows[j];
		const char *g = cell_text(&row->cells[0], buf, sizeof(buf), "-");
		size_t d = (size_t)row->cells[t->tree_depth].num;
		if (j == w->from || strcmp(g, group) != 0) {
			for (; open; open--)
				fputs("</li></ul>", f);
			fprintf(f, "%s<li><span class=\"group\">", j > w->from ? "</li>\n" : "");
			html_text(hcol(h, t, 0), f);
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
		tree_item(h, t, j, f);
	}
	for (; open; open--)
		fputs("</li></ul>", f);
	if (w->to > w->from)
		fputs("</li>\n</ul>\n", f);
	else {
		fputs("<li class=\"none\">", f);
		html_text(hw(h, N_("none")), f);
		fputs("</li></ul>\n", f);
	}
}

static void html_rows(const hm_report_html *h, const hm_report_table *t, const window *w, FILE *f)
{
	static const char *const row_class[] = {"", " class=\"subtotal\"", " class=\"total\""};
	char buf[64], href[HREF_MAX];

	if (t->nrows == 0) {
		fprintf(f, "<tr><td colspan=\"%zu\" class=\"none\">", t->ncols);
		html_text(hw(h, N_("none")), f);
		fputs("</td></tr>\n", f);
	}
	for (size_t j = 0; j < t->nrows; j++) {
		if (!window_has(w, t, j))
			continue;
		fprintf(f, "<tr%s>", row_class[t->rows[j].kind]);
		for (size_t k = 0; k < t->ncols; k++) {
			const hm_report_cell *c = &t->rows[j].cells[k];
			html_link_elem(f, "td", c->kind == HM_REPORT_NUM ? " class=\"num\"" : "",
			               body_cell(h, t, k, c, buf, sizeof(buf)),
			               cell_link(h, t, j, k, href, sizeof(href)));
		}
		fputs("</tr>\n", f);
	}
}

/* Tables of more than this many columns are printed on a landscape page. */
#define HTML_PORTRAIT_COLS 8

static void html_table(const hm_report_html *h, const hm_report_table *t, FILE *f)
{
	window w;

	window_of(h, t, &w);
	fputs(t->ncols > HTML_PORTRAIT_COLS ? "<section class=\"wide\">" : "<section>", f);
	html_elem(f, "h2", "", hw(h, t->title));
	fputc('\n', f);
	html_pager(h, t, &w, f);
	if (t->chart >= 0)
		html_chart(h, t, &w, f);
	if (t->tree_depth >= 0) {
		html_tree(h, t, &w, f);
	} else {
		fputs("<table><thead><tr>", f);
		for (size_t k = 0; k < t->ncols; k++)
			html_elem(f, "th", "", hcol(h, t, k));
		fputs("</tr></thead>\n<tbody>\n", f);
		html_rows(h, t, &w, f);
		fputs("</tbody></table>", f);
	}
	html_pager(h, t, &w, f);
	fputs("</section>\n", f);
}

/* The whole page's style sheet. The web interface carries the same rules in
 * web/assets/style.css (its pages may hold no inline style): keep the two alike. On screen as
 * before; in print, A4 with every table within the page: wide tables on a landscape page, small
 * type, headers repeated on every page a table spans. */
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

static void html_param(const hm_report_html *h, FILE *f, const char *name, const char *value)
{
	html_elem(f, "dt", "", hw(h, name));
	html_elem(f, "dd", "", value);
}

/* The parameters and the tables: what the page and a web page's body share. */
static void html_body(const hm_report *r, const hm_report_html *h, FILE *f)
{
	fputs("<dl class=\"params\">", f);
	html_param(h, f, "report", r->name);
	html_param(h, f, "region", r->region);
	html_param(h, f, "date", r->date);
	for (size_t i = 0; i < r->nparams; i++)
		html_param(h, f, r->params[i].name, r->params[i].value);
	fputs("</dl>\n", f);
	for (size_t i = 0; i < r->ntables; i++)
		html_table(h, r->tables[i], f);
}

static void render_html(const hm_report *r, const hm_report_html *h, FILE *f)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
	        h->flags & HM_REPORT_CSV_ZH ? "zh-CN" : "en");
	html_text(hw(h, r->title), f);
	fputs(" - ", f);
	html_text(r->region, f);
	fputs(" - ", f);
	html_text(r->date, f);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", html_style);
	html_elem(f, "h1", "", hw(h, r->title));
	fputc('\n', f);
	html_body(r, h, f);
	fputs("</body></html>\n", f);
}

/* Whether every table holds all its rows (no report built for a window only). */
static bool rows_all_held(const hm_report *r)
{
	for (size_t i = 0; i < r->ntables; i++)
		if (r->tables[i]->rows_more)
			return false;
	return true;
}

hm_err hm_report_render_body(const hm_report *r, const hm_report_html *h, FILE *f)
{
	if (h && (h->flags & ~(unsigned)(HM_REPORT_CSV_ZH | HM_REPORT_LOCAL))) {
		errno = EINVAL;
		return HM_ERR_INVALID;
	}
	if (!(h && h->rows_max) && !rows_all_held(r)) { /* all rows, of a report of a window */
		errno = EINVAL;
		return HM_ERR_INVALID;
	}
	html_body(r, h ? h : &html_plain, f);
	return fflush(f) == 0 && !ferror(f) ? HM_OK : HM_ERR_IO;
}

hm_err hm_report_render(const hm_report *r, hm_report_format fmt, unsigned flags, FILE *f)
{
	hm_err err = HM_OK;
	bool zh = (flags & HM_REPORT_LOCAL) && hm_i18n_zh();
	hm_report_html local = {zh ? HM_REPORT_CSV_ZH | HM_REPORT_LOCAL : 0, local_word, NULL, &zh};
	const hm_report_html *h = flags & HM_REPORT_LOCAL ? &local : &html_plain;

	if ((unsigned)fmt > HM_REPORT_FMT_HTML ||
	    (flags & ~(unsigned)(HM_REPORT_CSV_ZH | HM_REPORT_HTML_BODY | HM_REPORT_LOCAL)) ||
	    ((flags & HM_REPORT_HTML_BODY) && fmt != HM_REPORT_FMT_HTML) ||
	    !rows_all_held(r)) { /* (one built for a window: hm_report_params.rows) */
		errno = EINVAL;
		return HM_ERR_INVALID;
	}
	if (flags & HM_REPORT_HTML_BODY) {
		hm_report_html body = {flags & HM_REPORT_CSV_ZH, NULL, NULL, NULL};
		return hm_report_render_body(r, &body, f);
	}
	switch (fmt) {
	case HM_REPORT_FMT_CSV:
		render_csv(r, flags, f);
		break;
	case HM_REPORT_FMT_JSON:
		err = render_json(r, f);
		break;
	case HM_REPORT_FMT_HTML:
		render_html(r, h, f);
		break;
	case HM_REPORT_FMT_TEXT:
		render_text(r, h, f);
		break;
	}
	if (err)
		return err;
	return fflush(f) == 0 && !ferror(f) ? HM_OK : HM_ERR_IO;
}

hm_err hm_report_render_mem(const hm_report *r, hm_report_format fmt, unsigned flags, char **out,
                            size_t *len)
{
	size_t n = 0;
	FILE *f;
	hm_err err;

	*out = NULL;
	if (!(f = open_memstream(out, &n)))
		return HM_ERR_NOMEM;
	err = hm_report_render(r, fmt, flags, f);
	if ((hm_stream_close(f) != 0 || !*out) && !err)
		err = HM_ERR_NOMEM;
	if (err == HM_ERR_IO)
		err = HM_ERR_NOMEM; /* a stream in memory fails only for want of memory */
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	if (len)
		*len = n;
	return HM_OK;
}
