/* test_report_render.c - hm_report_render: a small report built by hand, written in each form
 * and compared byte for byte: values from outside escaped (text, JSON) or quoted and defused
 * (CSV) or entity-encoded (HTML), no figure as "-", empty or null, subtotal and total rows, the
 * Chinese CSV for Excel (BOM and headers), the HTML page's lang="zh-CN" and its bars of a
 * percentage drawn against 100%, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

/* Two villages at 50% and one at 25%, their township's subtotal and the county's total (no
 * percentage: NaN), then a list whose values came from outside: a terminal escape, a bidi
 * override, DEL, a byte that is not UTF-8, a formula, a quote and a comma. */
static void build(hm_report *r)
{
	static const char *const cols[] = {"region", "level", "done", "compliance_pct", NULL};
	static const char *const list_cols[] = {"person", "name", "village", NULL};
	hm_report_table *t;

	hm_report_init(r, "monitoring", "Monitoring report", "lin", "2026-12-06");
	hm_report_param_add(r, "days", "%d", 2);
	hm_report_param_add(r, "note", "%s", "red\x1b[31m");
	t = hm_report_table_add(r, "compliance", "Check compliance", cols);
	t->chart = 3, t->chart_label = 0, t->chart_max = 100;
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssdf", "lin/east/上村", "village", 2LL, 50.0);
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssdf", "lin/east/b", "village", 1LL, 50.0);
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssdf", "lin/east/c", "village", 1LL, 25.0);
	hm_report_row_add(r, t, HM_REPORT_ROW_SUBTOTAL, "ssdf", "lin/east", "township", 4LL, 41.7);
	hm_report_row_add(r, t, HM_REPORT_ROW_TOTAL, "ssdf", "lin", "county", 4LL, (double)NAN);
	t = hm_report_table_add(r, "not_seen", "Not seen", list_cols);
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "sss", "p1", "=HYPERLINK(\"x\")", "a,b");
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssn", "p2", "x\xe2\x80\xaey\x7f\xff", NULL);
	assert_false(r->nomem);
}

static char *render(const hm_report *r, hm_report_format fmt, unsigned flags)
{
	char *out = NULL;
	size_t len = 0;
	hm_err err = hm_report_render_mem(r, fmt, flags, &out, &len);
	if (err)
		fail_msg("render %d: %s", (int)fmt, hm_strerror(err));
	assert_int_equal(len, strlen(out));
	return out;
}

static void same(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
}

/* The report of build() rendered in fmt with flags is want; with after, only what follows the
 * first occurrence of after is compared, and what precedes it must start with before. */
static void check(hm_report_format fmt, unsigned flags, const char *before, const char *after,
                  const char *want)
{
	hm_report r;
	char *s;
	const char *from;

	build(&r);
	s = render(&r, fmt, flags);
	from = s;
	if (after) {
		assert_memory_equal(s, before, strlen(before));
		assert_non_null(from = strstr(s, after));
		from += strlen(after);
	}
	same(from, want);
	free(s);
	hm_report_release(&r);
}

static void test_render_text(void **state)
{
	(void)state;
	/* Aligned by display width (上村 takes four columns), escaped, no figure as "-". */
	check(HM_REPORT_FMT_TEXT, 0, NULL, NULL,
	      "Monitoring report: region lin, date 2026-12-06\n"
	      "days 2, note red\\x1b[31m\n"
	      "\n"
	      "Check compliance\n"
	      "  region         level     done  compliance_pct\n"
	      "  lin/east/上村  village      2            50.0\n"
	      "  lin/east/b     village      1            50.0\n"
	      "  lin/east/c     village      1            25.0\n"
	      "  lin/east       township     4            41.7\n"
	      "  lin            county       4               -\n"
	      "\n"
	      "Not seen\n"
	      "  person  name              village\n"
	      "  p1      =HYPERLINK(\"x\")   a,b\n"
	      "  p2      x\\u202ey\\x7f\\xff  -\n");
}

/* The rows of the CSV, the same with Chinese headers: written as they are but for quoting and
 * the formula's leading '; no figure: empty. */
#define CSV_COMPLIANCE                                                                             \
	"lin/east/上村,village,2,50.0\n"                                                         \
	"lin/east/b,village,1,50.0\n"                                                              \
	"lin/east/c,village,1,25.0\n"                                                              \
	"lin/east,township,4,41.7\n"                                                               \
	"lin,county,4,\n"
#define CSV_NOT_SEEN                                                                               \
	"p1,\"'=HYPERLINK(\"\"x\"\")\",\"a,b\"\n"                                                  \
	"p2,x\xe2\x80\xaey\x7f\xff,\n"

static void test_render_csv(void **state)
{
	(void)state;
	check(HM_REPORT_FMT_CSV, 0, NULL, NULL,
	      "# compliance\n"
	      "region,level,done,compliance_pct\n" CSV_COMPLIANCE "\n"
	      "# not_seen\n"
	      "person,name,village\n" CSV_NOT_SEEN);
	/* For Excel: a BOM, and the headers in Chinese. */
	check(HM_REPORT_FMT_CSV, HM_REPORT_CSV_ZH, NULL, NULL,
	      "\xef\xbb\xbf# compliance\n"
	      "地区,级别,已随访,随访完成率%\n" CSV_COMPLIANCE "\n"
	      "# not_seen\n"
	      "人员编号,姓名,村\n" CSV_NOT_SEEN);
}

/* CSV injection: a name that came by sync, opened by the county in Excel. Every cell a
 * spreadsheet could run as a formula starts with ' (a tab, CR or LF first, as Excel skips them;
 * the full-width = + - @ of an input method), a ; is quoted (a list separator in many
 * locales), a figure stays a figure. */
static void test_render_csv_formulas(void **state)
{
	static const char *const cols[] = {"person", "name", "done", NULL};
	static const char *const names[] = {"\t=cmd|' /C calc'!A0",
	                                    "\r=1+1",
	                                    "\n@SUM(A1)",
	                                    "\xef\xbc\x9d"
	                                    "1+1",
	                                    "\xef\xbc\x8b"
	                                    "1",
	                                    "\xef\xbc\x8d"
	                                    "1",
	                                    "\xef\xbc\xa0"
	                                    "A1",
	                                    "x;=1+1",
	                                    "-2+3",
	                                    "Li =1",
	                                    "\xe6\x9d\x8e"};
	hm_report r;
	hm_report_table *t;
	char *s;

	(void)state;
	hm_report_init(&r, "monitoring", "Monitoring report", "lin", "2026-12-06");
	t = hm_report_table_add(&r, "not_seen", "Not seen", cols);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		hm_report_row_add(&r, t, HM_REPORT_ROW_DATA, "ssd", "p", names[i], -(long long)i);
	assert_false(r.nomem);
	s = render(&r, HM_REPORT_FMT_CSV, 0);
	same(s, "# not_seen\n"
	        "person,name,done\n"
	        "p,'\t=cmd|' /C calc'!A0,0\n"
	        "p,\"'\r=1+1\",-1\n"
	        "p,\"'\n@SUM(A1)\",-2\n"
	        "p,'\xef\xbc\x9d"
	        "1+1,-3\n"
	        "p,'\xef\xbc\x8b"
	        "1,-4\n"
	        "p,'\xef\xbc\x8d"
	        "1,-5\n"
	        "p,'\xef\xbc\xa0"
	        "A1,-6\n"
	        "p,\"x;=1+1\",-7\n"
	        "p,'-2+3,-8\n"
	        "p,Li =1,-9\n"
	        "p,\xe6\x9d\x8e,-10\n");
	free(s);
	hm_report_release(&r);
}

static void test_render_json(void **state)
{
	(void)state;
	/* C0 escaped by jansson, DEL and the bidi override by hm_text_json_write, the byte that
	 * is not UTF-8 as U+FFFD; no figure: null; numbers as numbers. */
	check(HM_REPORT_FMT_JSON, 0, NULL, NULL,
	      "{\"report\":\"monitoring\",\"region\":\"lin\",\"date\":\"2026-12-06\","
	      "\"parameters\":{\"days\":\"2\",\"note\":\"red\\u001B[31m\"},"
	      "\"tables\":[{\"name\":\"compliance\",\"title\":\"Check compliance\","
	      "\"columns\":[\"region\",\"level\",\"done\",\"compliance_pct\"],"
	      "\"rows\":[[\"lin/east/上村\",\"village\",2,50.0],"
	      "[\"lin/east/b\",\"village\",1,50.0],"
	      "[\"lin/east/c\",\"village\",1,25.0],"
	      "[\"lin/east\",\"township\",4,41.7],"
	      "[\"lin\",\"county\",4,null]]},"
	      "{\"name\":\"not_seen\",\"title\":\"Not seen\","
	      "\"columns\":[\"person\",\"name\",\"village\"],"
	      "\"rows\":[[\"p1\",\"=HYPERLINK(\\\"x\\\")\",\"a,b\"],"
	      "[\"p2\",\"x\\u202ey\\u007f\xef\xbf\xbd\",null]]}]}\n");
}

static void test_render_html(void **state)
{
	(void)state;
	/* Bars of a percentage against 100% (360 wide): 50% is 180, 25% is 90, whatever the
	 * largest; one bar per data row (no subtotal, no total); lang="zh-CN" where the text is
	 * Chinese; entities for the markup's characters; no figure: "-". The style sheet between
	 * head and body is one constant, not compared. */
	check(HM_REPORT_FMT_HTML, 0,
	      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>Monitoring report - lin - 2026-12-06</title>\n<style>",
	      "</style></head>\n",
	      "<body>\n"
	      "<h1>Monitoring report</h1>\n"
	      "<dl class=\"params\">"
	      "<dt>report</dt><dd>monitoring</dd><dt>region</dt><dd>lin</dd>"
	      "<dt>date</dt><dd>2026-12-06</dd><dt>days</dt><dd>2</dd>"
	      "<dt>note</dt><dd>red\\x1b[31m</dd></dl>\n" /* shown, not obeyed */
	      "<section><h2>Check compliance</h2>\n"
	      "<figure><svg class=\"chart\" role=\"img\" width=\"660\" height=\"70\" "
	      "viewBox=\"0 0 660 70\"><title>compliance_pct</title>\n"
	      "<text x=\"212\" y=\"15\" text-anchor=\"end\" lang=\"zh-CN\">lin/east/上村</text>"
	      "<rect x=\"220\" y=\"3\" width=\"180.0\" height=\"16\"/>"
	      "<text x=\"406.0\" y=\"15\">50.0</text>\n"
	      "<text x=\"212\" y=\"37\" text-anchor=\"end\">lin/east/b</text>"
	      "<rect x=\"220\" y=\"25\" width=\"180.0\" height=\"16\"/>"
	      "<text x=\"406.0\" y=\"37\">50.0</text>\n"
	      "<text x=\"212\" y=\"59\" text-anchor=\"end\">lin/east/c</text>"
	      "<rect x=\"220\" y=\"47\" width=\"90.0\" height=\"16\"/>"
	      "<text x=\"316.0\" y=\"59\">25.0</text>\n"
	      "</svg><figcaption>compliance_pct (a full bar is 100%)</figcaption></figure>\n"
	      "<table><thead><tr>"
	      "<th>region</th><th>level</th><th>done</th><th>compliance_pct</th>"
	      "</tr></thead>\n"
	      "<tbody>\n"
	      "<tr><td lang=\"zh-CN\">lin/east/上村</td><td>village</td>"
	      "<td class=\"num\">2</td><td class=\"num\">50.0</td></tr>\n"
	      "<tr><td>lin/east/b</td><td>village</td>"
	      "<td class=\"num\">1</td><td class=\"num\">50.0</td></tr>\n"
	      "<tr><td>lin/east/c</td><td>village</td>"
	      "<td class=\"num\">1</td><td class=\"num\">25.0</td></tr>\n"
	      "<tr class=\"subtotal\"><td>lin/east</td><td>township</td>"
	      "<td class=\"num\">4</td><td class=\"num\">41.7</td></tr>\n"
	      "<tr class=\"total\"><td>lin</td><td>county</td>"
	      "<td class=\"num\">4</td><td>-</td></tr>\n"
	      "</tbody></table></section>\n"
	      "<section><h2>Not seen</h2>\n"
	      "<table><thead><tr><th>person</th><th>name</th><th>village</th></tr></thead>\n"
	      "<tbody>\n"
	      "<tr><td>p1</td><td>=HYPERLINK(&quot;x&quot;)</td><td>a,b</td></tr>\n"
	      "<tr><td>p2</td><td>x\\u202ey\\x7f\\xff</td><td>-</td></tr>\n"
	      "</tbody></table></section>\n"
	      "</body></html>\n");
}

/* The words and links of a web page's body: Chinese titles and a row's level by the caller, a
 * link on each region but the total's, none on the others. */
static const char *zh_word(void *arg, const char *en)
{
	(void)arg;
	return !strcmp(en, "Check compliance") ? "随访完成情况"
	       : !strcmp(en, "region")         ? "地区"
	       : !strcmp(en, "township")       ? "乡镇"
	       : !strcmp(en, "p1")             ? "not a word"
	                                       : NULL;
}

static bool region_link(void *arg, const hm_report_table *t, size_t row, size_t col, char *href,
                        size_t cap)
{
	(void)arg;
	if (strcmp(t->cols[col], "region") || t->rows[row].kind == HM_REPORT_ROW_TOTAL)
		return false;
	snprintf(href, cap, "/r?region=%s&x=\"", t->rows[row].cells[col].text);
	return true;
}

/* The body alone (HM_REPORT_HTML_BODY): what the whole page holds between <h1> and </body>, no
 * style, no head; with hm_report_render_body, the caller's words, the Chinese headers and the
 * links, escaped. */
static void test_render_html_body(void **state)
{
	hm_report r;
	hm_report_html h = {HM_REPORT_CSV_ZH, zh_word, region_link, NULL};
	char *whole, *body, *s = NULL;
	const char *from;
	size_t n = 0;
	FILE *f;
	(void)state;

	build(&r);
	whole = render(&r, HM_REPORT_FMT_HTML, 0);
	body = render(&r, HM_REPORT_FMT_HTML, HM_REPORT_HTML_BODY);
	assert_null(strstr(body, "<style"));
	assert_null(strstr(body, "<html"));
	assert_non_null(from = strstr(whole, "</h1>\n"));
	assert_int_equal(strlen(from + 6), strlen(body) + strlen("</body></html>\n"));
	assert_memory_equal(from + 6, body, strlen(body));

	assert_non_null(f = open_memstream(&s, &n));
	assert_int_equal(hm_report_render_body(&r, &h, f), HM_OK);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(s, "<dt lang=\"zh-CN\">地区</dt><dd>lin</dd>"));
	assert_non_null(strstr(s, "<section><h2 lang=\"zh-CN\">随访完成情况</h2>"));
	assert_non_null(strstr(s, "<th lang=\"zh-CN\">地区</th><th lang=\"zh-CN\">级别</th>"));
	assert_non_null(strstr(s, "<title>随访完成率%</title>"));
	assert_non_null(strstr(s, "<tr><td><a href=\"/r?region=lin/east/b&amp;x=&quot;\">"
	                          "lin/east/b</a></td><td>village</td>"));
	assert_non_null(strstr(s, "<tr class=\"total\"><td>lin</td>"));
	assert_non_null(strstr(s, "<tr><td>p1</td>")); /* only the ledger's words are words */
	assert_non_null(strstr(s, "<td lang=\"zh-CN\">乡镇</td><td class=\"num\">4</td>"));
	free(s);

	h.flags = 8;
	assert_int_equal(hm_report_render_body(&r, &h, stdout), HM_ERR_INVALID);
	assert_int_equal(hm_report_render(&r, HM_REPORT_FMT_CSV, HM_REPORT_HTML_BODY, stdout),
	                 HM_ERR_INVALID);
	free(whole);
	free(body);
	hm_report_release(&r);
}

/* A FILE* gets the same bytes; a write that fails is HM_ERR_IO with errno; an unknown form or
 * flag is refused before anything is written. */
static void test_render_errors(void **state)
{
	hm_report r;
	char *s = NULL, *m;
	size_t n = 0;
	FILE *f;
	(void)state;
	build(&r);

	assert_non_null(f = open_memstream(&s, &n));
	assert_int_equal(hm_report_render(&r, HM_REPORT_FMT_CSV, HM_REPORT_CSV_ZH, f), HM_OK);
	assert_int_equal(fclose(f), 0);
	m = render(&r, HM_REPORT_FMT_CSV, HM_REPORT_CSV_ZH);
	same(s, m);
	free(m);
	free(s);

	if ((f = fopen("/dev/full", "w"))) {
		errno = 0;
		assert_int_equal(hm_report_render(&r, HM_REPORT_FMT_HTML, 0, f), HM_ERR_IO);
		assert_int_equal(errno, ENOSPC);
		fclose(f);
	}

	m = (char *)"untouched";
	assert_int_equal(hm_report_render_mem(&r, (hm_report_format)7, 0, &m, NULL),
	                 HM_ERR_INVALID);
	assert_null(m);
	assert_int_equal(hm_report_render(&r, HM_REPORT_FMT_TEXT, 8, stdout), HM_ERR_INVALID);
	hm_report_release(&r);
}

/* ---- a window of rows (hm_report_html.rows_max) ---- */

/* A county's table of 25 villages (v1 to v25, done 1 to 25), a township's subtotal and the
 * total, charted against the largest value; then a list of 1,234 persons. */
static void build_long(hm_report *r)
{
	static const char *const cols[] = {"region", "level", "done", NULL};
	static const char *const list_cols[] = {"person", "village", NULL};
	hm_report_table *t;
	char name[32];

	hm_report_init(r, "monitoring", "Monitoring report", "lin", "2026-12-06");
	t = hm_report_table_add(r, "compliance", "Check compliance", cols);
	t->chart = 2, t->chart_label = 0;
	for (long long i = 1; i <= 25; i++) {
		snprintf(name, sizeof(name), "lin/t/v%lld", i);
		hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssd", name, "village", i);
	}
	hm_report_row_add(r, t, HM_REPORT_ROW_SUBTOTAL, "ssd", "lin/t", "subtotal", 325LL);
	hm_report_row_add(r, t, HM_REPORT_ROW_TOTAL, "ssd", "lin", "total", 325LL);
	t = hm_report_table_add(r, "not_seen", "Not seen", list_cols);
	for (int i = 0; i < 1234; i++) {
		snprintf(name, sizeof(name), "p%04d", i);
		hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ss", name, "lin/x");
	}
	assert_false(r->nomem);
}

/* The window asked for: the first row of compliance from arg, every other table from 0. */
static size_t window_first(void *arg, const hm_report_table *t)
{
	return strcmp(t->name, "compliance") ? 0 : *(const size_t *)arg;
}

static bool window_page(void *arg, const hm_report_table *t, size_t first, char *href, size_t cap)
{
	(void)arg;
	snprintf(href, cap, "/p?t=%s&first=%zu", t->name, first);
	return true;
}

static const char *window_word(void *arg, const char *en)
{
	(void)arg;
	return !strcmp(en, "rows %s-%s of %s") ? "第 %s-%s 行，共 %s 行<%d>" : NULL;
}

static char *body_of(const hm_report *r, const hm_report_html *h)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	assert_int_equal(hm_report_render_body(r, h, f), HM_OK);
	assert_int_equal(fclose(f), 0);
	return s;
}

/* Whether s holds the table row of region v. */
static bool has_row(const char *s, const char *v)
{
	char want[64];
	snprintf(want, sizeof(want), "<td>%s</td>", v);
	return strstr(s, want) != NULL;
}

/* Rows 11-20 of 26: those rows, the total (not the subtotal, on the next window), ten bars
 * against the whole table's largest value (20 of 25: 288 of 360), the pager above and below
 * with both links (escaped); the next window holds the subtotal; past the end, the last
 * window; a window larger than the table, the whole body; the list's pager counts in groups
 * of three digits; a caller's word is filled in, never given to printf. */
static void test_render_window(void **state)
{
	hm_report r;
	size_t first = 10;
	hm_report_html h = {0, NULL, NULL, &first};
	char *s, *next, *last, *whole;
	const char *pager =
	    "<p class=\"pager\">rows 11-20 of 26 <span><a href=\"/p?t=compliance&amp;"
	    "first=0\">previous</a></span> <span><a href=\"/p?t=compliance&amp;"
	    "first=20\">next</a></span></p>\n";
	(void)state;

	build_long(&r);
	whole = body_of(&r, &h);
	h.rows_max = 10, h.first = window_first, h.page = window_page;
	s = body_of(&r, &h);
	for (int i = 1; i <= 25; i++) {
		char v[24];
		snprintf(v, sizeof(v), "lin/t/v%d", i);
		if (has_row(s, v) != (i >= 11 && i <= 20))
			fail_msg("row %s %s", v, has_row(s, v) ? "shown" : "not shown");
	}
	assert_true(has_row(s, "lin") && !has_row(s, "lin/t"));
	assert_non_null(strstr(s, "<tr class=\"total\"><td>lin</td>"));
	assert_non_null(strstr(s, "height=\"224\""));
	assert_non_null(strstr(s, "<rect x=\"220\" y=\"201\" width=\"288.0\" height=\"16\"/>"));
	assert_non_null(strstr(s, "<section><h2>Check compliance</h2>\n"));
	assert_non_null(strstr(strstr(s, pager) + 1, pager));
	assert_non_null(strstr(s, "<p class=\"pager\">rows 1-10 of 1,234 <span><a href=\"/p?"
	                          "t=not_seen&amp;first=10\">next</a></span></p>\n"));
	assert_non_null(strstr(s, "<td>p0009</td>"));
	assert_null(strstr(s, "<td>p0010</td>"));

	first = 20;
	next = body_of(&r, &h);
	assert_true(has_row(next, "lin/t/v21") && has_row(next, "lin/t") && has_row(next, "lin"));
	assert_non_null(strstr(next, "<p class=\"pager\">rows 21-26 of 26 <span><a href=\"/p?"
	                             "t=compliance&amp;first=10\">previous</a></span></p>\n"));
	first = 1000;
	last = body_of(&r, &h);
	same(last, next);
	free(s);

	h.rows_max = 2000;
	s = body_of(&r, &h);
	same(s, whole);
	free(s);

	h.rows_max = 10, h.word = window_word, h.page = NULL;
	s = body_of(&r, &h);
	assert_non_null(strstr(s,
	                       "<p class=\"pager\" lang=\"zh-CN\">第 21-26 行，共 26 行&lt;%d&gt;"
	                       "</p>\n"));
	free(s);
	free(next);
	free(last);
	free(whole);
	hm_report_release(&r);
}

/* What a report weighs (hm_report_bytes, the web's cache counts it): at least its rows and their
 * texts, more with more of them, and its texts whole however long (kept in blocks). */
static void test_report_bytes(void **state)
{
	static const char *const cols[] = {"person", "name", NULL};
	char name[3000];
	hm_report r;
	hm_report_table *t;
	size_t empty, small, big;
	(void)state;

	hm_report_init(&r, "monitoring", "Monitoring", "lin", "2026-12-06");
	t = hm_report_table_add(&r, "not_seen", "Not seen", cols);
	empty = hm_report_bytes(&r);
	for (int i = 0; i < 1000; i++)
		hm_report_row_add(&r, t, HM_REPORT_ROW_DATA, "ss", "p-0123456789", "Li Wei");
	small = hm_report_bytes(&r);
	assert_true(small >=
	            empty + 1000 * (sizeof(hm_report_row) + 2 * sizeof(hm_report_cell) + 2 * 7));
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < 100; i++) /* 300 KB of texts: several blocks */
		hm_report_row_add(&r, t, HM_REPORT_ROW_DATA, "ss", "p-1", name);
	big = hm_report_bytes(&r);
	/* less the room the last block had left (64 KiB at most), already counted */
	assert_true(big + 65536 >= small + 100 * sizeof(name));
	assert_true(big > small);
	{ /* a text longer than a block has one of its own */
		char *huge = malloc(70001);
		assert_non_null(huge);
		memset(huge, 'y', 70000);
		huge[70000] = '\0';
		hm_report_row_add(&r, t, HM_REPORT_ROW_DATA, "ss", "p-2", huge);
		assert_true(hm_report_bytes(&r) >= big + 70001);
		assert_string_equal(t->rows[1100].cells[1].text, huge);
		free(huge);
	}
	assert_false(r.nomem);
	assert_string_equal(t->rows[1099].cells[1].text, name);
	assert_string_equal(t->rows[0].cells[0].text, "p-0123456789");
	hm_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_text),         cmocka_unit_test(test_render_csv),
	    cmocka_unit_test(test_render_json),         cmocka_unit_test(test_render_html),
	    cmocka_unit_test(test_render_html_body),    cmocka_unit_test(test_render_errors),
	    cmocka_unit_test(test_render_csv_formulas), cmocka_unit_test(test_render_window),
	    cmocka_unit_test(test_report_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
