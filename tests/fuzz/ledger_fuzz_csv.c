/* ledger_fuzz_csv.c - libFuzzer target for the CSV reader (hm_csv_check, hm_csv_next), the GBK
 * look check and the clerk's words (hm_ledger_value_parse) on every cell it reads.
 * Properties: no crash or sanitizer report on any input; every cell is a NUL-terminated string
 * inside the buffer; rows start on lines that never go back and never pass the text's line
 * count; the reader ends (a row consumes at least one byte); a UTF-8 text's cells are UTF-8;
 * a value parsed as a date or time is stored as the schema's form. */
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const hm_field_def fuzz_fields[] = {
    {"sex", HM_T_STR, HM_MERGE_LWW, false, 0, "male|female"},
    {"method", HM_T_STR, HM_MERGE_LWW, false, 0, "visit|phone|self"},
    {"arrival_date", HM_T_DATE, HM_MERGE_LWW, false, 0, NULL},
    {"time", HM_T_TIME, HM_MERGE_LWW, false, 0, NULL},
    {"id_number", HM_T_STR, HM_MERGE_LWW, false, HM_F_PII, NULL},
    {"birth_year", HM_T_INT, HM_MERGE_LWW, false, 0, NULL},
};

static void check_cell(hm_ledger *l, const char *cell, const char *buf, size_t len, bool utf8)
{
	size_t n = strlen(cell);
	char gbk[64];
	hm_value v;
	const char *why;

	if (cell < buf || cell + n > buf + len) /* inside, its NUL at most at buf[len] */
		abort();
	if (utf8 && hm_utf8_prefix(cell, n) != n)
		abort();
	if (utf8)
		(void)hm_csv_looks_gbk(cell, n, gbk, sizeof(gbk));
	for (size_t i = 0; i < sizeof(fuzz_fields) / sizeof(fuzz_fields[0]); i++) {
		const hm_field_def *f = &fuzz_fields[i];
		if (hm_ledger_value_parse(l, f, cell, &v, &why) != HM_OK)
			continue;
		if (f->type == HM_T_DATE && (v.kind != HM_V_STR || v.u.s.n != 10))
			abort();
		if (f->type == HM_T_TIME &&
		    (v.kind != HM_V_STR || (v.u.s.n != 16 && v.u.s.n != 19)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	size_t lines = 1, last = 0, rows = 0;
	hm_ledger l = {0};
	hm_csv_reader r;
	hm_csv_row row;
	bool utf8;
	int got;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\x7f'; /* the spare byte: the reader may write a NUL there, nothing else */
	for (size_t i = 0; i < size; i++)
		lines +=
		    data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
	utf8 = hm_csv_check(buf, size, NULL) == HM_CSV_UTF8;
	hm_csv_reader_init(&r, buf, size);
	while ((got = hm_csv_next(&r, &row)) == 1) {
		if (row.line < last || row.line > lines || row.ncols == 0 || ++rows > size)
			abort();
		last = row.line;
		(void)hm_csv_row_blank(&row);
		for (size_t i = 0; i < row.ncols && i < HM_CSV_COLS_MAX; i++)
			check_cell(&l, row.cell[i], buf, size, utf8);
	}
	if (got < 0 && (row.line < last || row.line > lines))
		abort();
	if (buf[size] != '\x7f' && buf[size] != '\0')
		abort();
	free(buf);
	return 0;
}
