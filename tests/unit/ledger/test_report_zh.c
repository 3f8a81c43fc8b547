/* test_report_zh.c - a report in the reader's words (HM_REPORT_LOCAL) and the Chinese CSV for
 * Excel (HM_REPORT_CSV_ZH), against the real catalogue of the build (HAMLET_LOCALEDIR, set by
 * CMake) under the real zh_CN.UTF-8 and C locales:
 * - in the C locale, the CSV still has its Chinese headers (they come from the ledger's tables,
 *   not from the catalogue), and TEXT and HTML with HM_REPORT_LOCAL are byte for byte those
 *   without it (English);
 * - under zh_CN.UTF-8, TEXT and HTML say the titles, the column headers and the stored words
 *   (a row's level, a shipment's status) in Chinese, the page says lang="zh-CN", while CSV and
 *   JSON, which are data, stay as they are;
 * - with the catalogue missing, the Chinese locale renders English: nothing fails;
 * - with the process in the C locale, one thread under a zh_CN.UTF-8 locale_t (uselocale, as a
 *   web request in Chinese would be) renders Chinese, and back under the global locale English.
 * Skipped when the machine has no zh_CN.UTF-8 locale (scripts/install-deps generates it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

static void build(hm_report *r)
{
	static const char *const cols[] = {"region", "level", "done", NULL};
	static const char *const ship_cols[] = {"shipment", "status", "received", NULL};
	hm_report_table *t;

	hm_report_init(r, "daily", "Daily report", "lin", "2026-12-06");
	t = hm_report_table_add(
	    r, "fevers",
	    "Fevers found today: at followups (at or above the threshold) and at checkpoints",
	    cols);
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssd", "lin/east/elm", "village", 2LL);
	hm_report_row_add(r, t, HM_REPORT_ROW_SUBTOTAL, "ssd", "lin/east", "township", 2LL);
	hm_report_row_add(r, t, HM_REPORT_ROW_TOTAL, "ssd", "lin", "total", 2LL);
	t = hm_report_table_add(r, "shipments",
	                        "Shipments: quantities dispatched, received and intercepted",
	                        ship_cols);
	hm_report_row_add(r, t, HM_REPORT_ROW_DATA, "ssd", "sh1", "on_road", 5LL);
	t = hm_report_table_add(r, "intercepted", "Intercepted quantities per item", cols);
	assert_false(r->nomem);
}

static char *render(hm_report_format fmt, unsigned flags)
{
	hm_report r;
	char *out = NULL;

	build(&r);
	assert_int_equal(hm_report_render_mem(&r, fmt, flags, &out, NULL), HM_OK);
	hm_report_release(&r);
	return out;
}

static void has(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("'%s' is not in:\n%s", part, s);
}

static void has_not(const char *s, const char *part)
{
	if (strstr(s, part))
		fail_msg("'%s' is in:\n%s", part, s);
}

static int zh_locale(void **state)
{
	const char *dir = getenv("HAMLET_LOCALEDIR");
	(void)state;
	if (!dir || !setlocale(LC_ALL, "zh_CN.UTF-8")) {
		print_message("skipped: %s\n", !dir ? "HAMLET_LOCALEDIR is not set (ctest sets it)"
		                                    : "no zh_CN.UTF-8 locale (scripts/install-deps "
		                                      "generates it)");
		return -1;
	}
	bindtextdomain("hamlet", dir);
	bind_textdomain_codeset("hamlet", "UTF-8");
	return 0;
}

/* The catalogue's words reach the libraries only through setlocale and bindtextdomain (the
 * command's job): C is as if there were no catalogue at all. */
static void test_c_locale(void **state)
{
	char *csv, *text, *text0, *html, *html0;
	(void)state;

	assert_non_null(setlocale(LC_ALL, "C"));
	csv = render(HM_REPORT_FMT_CSV, HM_REPORT_CSV_ZH);
	has(csv, "\xef\xbb\xbf# fevers\n地区,级别,已随访\n");
	has(csv, "# shipments\n运单,状态,签收\nsh1,on_road,5\n");
	text = render(HM_REPORT_FMT_TEXT, HM_REPORT_LOCAL);
	text0 = render(HM_REPORT_FMT_TEXT, 0);
	assert_string_equal(text, text0);
	has(text, "Daily report: region lin, date 2026-12-06\n");
	html = render(HM_REPORT_FMT_HTML, HM_REPORT_LOCAL);
	html0 = render(HM_REPORT_FMT_HTML, 0);
	assert_string_equal(html, html0);
	has(html, "<html lang=\"en\">");
	free(csv), free(text), free(text0), free(html), free(html0);
}

static void test_zh_locale(void **state)
{
	char *text, *html, *csv, *json, *text0;
	(void)state;

	if (zh_locale(state))
		skip();
	text = render(HM_REPORT_FMT_TEXT, HM_REPORT_LOCAL);
	has(text, "每日报表：地区 lin，日期 2026-12-06\n");
	has(text, "今日发现的发热人员：随访发现（达到或超过发热标准）和卡口发现\n");
	has(text, "  地区          级别  已随访\n");
	has(text, "  lin/east/elm  村         2\n");
	has(text, "  lin/east      乡镇       2\n");
	has(text, "  lin           合计       2\n");
	has(text, "  sh1   在途     5\n");
	has(text, "各物资被拦截的数量\n  地区  级别  已随访\n  （无）\n");
	html = render(HM_REPORT_FMT_HTML, HM_REPORT_LOCAL);
	has(html, "<html lang=\"zh-CN\">");
	has(html, "<h1 lang=\"zh-CN\">每日报表</h1>");
	has(html, "<th lang=\"zh-CN\">级别</th>");
	has(html, "<td lang=\"zh-CN\">乡镇</td>");
	has(html, "<td colspan=\"3\" class=\"none\">无</td>");
	/* Data stays data; without the flag, English whatever the locale. */
	csv = render(HM_REPORT_FMT_CSV, HM_REPORT_LOCAL);
	has(csv, "region,level,done\nlin/east/elm,village,2\n");
	json = render(HM_REPORT_FMT_JSON, HM_REPORT_LOCAL);
	has(json, "\"village\"");
	has_not(json, "村");
	text0 = render(HM_REPORT_FMT_TEXT, 0);
	has(text0, "Daily report: region lin, date 2026-12-06\n");
	has_not(text0, "村");
	free(text), free(html), free(csv), free(json), free(text0);
}

/* A catalogue that is not there: English, silently. */
static void test_zh_no_catalogue(void **state)
{
	char *text, *html;
	(void)state;

	if (zh_locale(state))
		skip();
	bindtextdomain("hamlet", "/nonexistent/locale");
	text = render(HM_REPORT_FMT_TEXT, HM_REPORT_LOCAL);
	has(text, "Daily report: region lin, date 2026-12-06\n");
	has(text, "  lin/east/elm  village      2\n");
	html = render(HM_REPORT_FMT_HTML, HM_REPORT_LOCAL);
	has(html, "<html lang=\"en\">");
	free(text), free(html);
	bindtextdomain("hamlet", getenv("HAMLET_LOCALEDIR"));
}

/* The language is the calling thread's: uselocale, not setlocale. */
static void test_thread_locale(void **state)
{
	locale_t zh;
	char *text, *text0;
	(void)state;

	if (zh_locale(state))
		skip();
	assert_non_null(setlocale(LC_ALL, "C"));
	assert_non_null(zh = newlocale(LC_ALL_MASK, "zh_CN.UTF-8", (locale_t)0));
	uselocale(zh);
	text = render(HM_REPORT_FMT_TEXT, HM_REPORT_LOCAL);
	uselocale(LC_GLOBAL_LOCALE);
	text0 = render(HM_REPORT_FMT_TEXT, HM_REPORT_LOCAL);
	freelocale(zh);
	has(text, "每日报表：地区 lin，日期 2026-12-06\n");
	has(text, "  lin/east      乡镇       2\n");
	has(text0, "Daily report: region lin, date 2026-12-06\n");
	free(text), free(text0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_c_locale),
	    cmocka_unit_test(test_zh_locale),
	    cmocka_unit_test(test_zh_no_catalogue),
	    cmocka_unit_test(test_thread_locale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
