/* test_csv_reader.c - the CSV reader over a buffer: quoted fields, CRLF, a BOM, separators,
 * blank rows, the line each row starts on; what a file's bytes are; GBK to UTF-8 and the look
 * of GBK read as UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"

/* Rows of text, each "cell|cell|...@line", joined by ";"; a quoted field never closed ends
 * with "!line". */
static void read_all(const char *text, char *out, size_t cap)
{
	size_t len = strlen(text), o = 0;
	char *buf = malloc(len + 1);
	hm_csv_reader r;
	hm_csv_row row;
	int got;

	assert_non_null(buf);
	memcpy(buf, text, len + 1);
	hm_csv_reader_init(&r, buf, len);
	out[0] = '\0';
	while ((got = hm_csv_next(&r, &row)) == 1) {
		for (size_t i = 0; i < row.ncols && i < HM_CSV_COLS_MAX; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" : "", row.cell[i]);
		o += (size_t)snprintf(out + o, cap - o, "@%zu%s;", row.line,
		                      row.malformed ? "(malformed)" : "");
	}
	if (got < 0)
		snprintf(out + o, cap - o, "!%zu", row.line);
	free(buf);
}

static void test_plain_and_quoted(void **state)
{
	char out[512];
	(void)state;
	read_all("id,name\na-1,Wang\n", out, sizeof(out));
	assert_string_equal(out, "id|name@1;a-1|Wang@2;");
	read_all("a,b\n\"Li, \"\"Big\"\" Wei\",\"x\ny\"\nc,d", out, sizeof(out));
	assert_string_equal(out, "a|b@1;Li, \"Big\" Wei|x\ny@2;c|d@4;");
	read_all("a,b\n  spaced ,\t tab\t\n", out, sizeof(out));
	assert_string_equal(out, "a|b@1;spaced|tab@2;");
	read_all("a,,\n", out, sizeof(out));
	assert_string_equal(out, "a||@1;");
}

static void test_line_ends_and_bom(void **state)
{
	char out[512];
	(void)state;
	read_all("\xef\xbb\xbfid,name\r\nb-1,\"L1\r\nL2\"\r\nb-2,x\r\n", out, sizeof(out));
	assert_string_equal(out, "id|name@1;b-1|L1\nL2@2;b-2|x@4;");
	read_all("a,b\rc,d\re,f", out, sizeof(out));
	assert_string_equal(out, "a|b@1;c|d@2;e|f@3;");
	read_all("a\n\nb\n", out, sizeof(out));
	assert_string_equal(out, "a@1;@2;b@3;");
}

static void test_malformed_and_unclosed(void **state)
{
	char out[512];
	(void)state;
	read_all("a,b\n\"x\"y,z\n", out, sizeof(out));
	assert_string_equal(out, "a|b@1;xy|z@2(malformed);");
	read_all("id,name\nu-1,ok\nu-2,\"never\nclosed\n", out, sizeof(out));
	assert_string_equal(out, "id|name@1;u-1|ok@2;!3");
	read_all("", out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_wide_and_blank(void **state)
{
	char text[1024], *buf;
	size_t o = 0;
	hm_csv_reader r;
	hm_csv_row row;
	(void)state;

	for (int i = 0; i < 70; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%sc%d", i ? "," : "", i);
	buf = strdup(text);
	assert_non_null(buf);
	hm_csv_reader_init(&r, buf, o);
	assert_int_equal(hm_csv_next(&r, &row), 1);
	assert_int_equal(row.ncols, 70);
	assert_string_equal(row.cell[HM_CSV_COLS_MAX - 1], "c63");
	assert_false(hm_csv_row_blank(&row)); /* too wide is not blank */
	free(buf);
	buf = strdup(" , ,\n");
	hm_csv_reader_init(&r, buf, strlen(buf));
	assert_int_equal(hm_csv_next(&r, &row), 1);
	assert_true(hm_csv_row_blank(&row));
	free(buf);
}

static void test_check(void **state)
{
	size_t line;
	(void)state;
	assert_int_equal(hm_csv_check("a,b\n", 4, &line), HM_CSV_UTF8);
	assert_int_equal(hm_csv_check("\xef\xbb\xbf"
	                              "a\n",
	                              5, &line),
	                 HM_CSV_UTF8);
	assert_int_equal(hm_csv_check("\xff\xfe"
	                              "a\0",
	                              4, &line),
	                 HM_CSV_UTF16);
	assert_int_equal(hm_csv_check("a\nb\0c", 5, &line), HM_CSV_BINARY);
	assert_int_equal(line, 2);
	assert_int_equal(hm_csv_check("name\n\xd5\xc5\xc8\xfd\n", 10, &line), HM_CSV_NOT_UTF8);
	assert_int_equal(line, 2);
}

static void test_gbk(void **state)
{
	/* 谢伟 in GBK: D0 BB CE B0, valid UTF-8 that reads "лΰ" */
	const char gbk[] = "id,name\ngb-1,\xd0\xbb\xce\xb0\n";
	char as[64], *out;
	size_t len, line;
	(void)state;

	assert_int_equal(hm_csv_check(gbk, strlen(gbk), NULL), HM_CSV_UTF8);
	assert_true(hm_csv_looks_gbk("\xd0\xbb\xce\xb0", 4, as, sizeof(as)));
	assert_string_equal(as, "谢伟");
	assert_false(hm_csv_looks_gbk("谢伟", strlen("谢伟"), as, sizeof(as)));
	assert_false(hm_csv_looks_gbk("Wang Fang", 9, NULL, 0));
	assert_false(hm_csv_looks_gbk("Wáng Fāng", strlen("Wáng Fāng"), NULL, 0)); /* pinyin */
	assert_false(hm_csv_looks_gbk("阿·买", strlen("阿·买"), NULL, 0));
	assert_int_equal(hm_csv_from_gbk(gbk, strlen(gbk), &out, &len, &line), HM_OK);
	assert_string_equal(out, "id,name\ngb-1,谢伟\n");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_int_equal(hm_csv_from_gbk("a\nb\n\x80\n", 6, &out, &len, &line), HM_ERR_INVALID);
	assert_null(out);
	assert_int_equal(line, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_and_quoted),
	    cmocka_unit_test(test_line_ends_and_bom),
	    cmocka_unit_test(test_malformed_and_unclosed),
	    cmocka_unit_test(test_wide_and_blank),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_gbk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
