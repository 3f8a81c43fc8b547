/*
 * csv.c - the CSV reader: RFC 4180 text to rows, in place, over a buffer the caller owns; what
 * a file's bytes are (UTF-8, UTF-16, binary, a local code page); GBK to UTF-8; and whether
 * valid UTF-8 text is GBK read as UTF-8. No file I/O here: the fuzz target drives every
 * function of this file.
 */
#include "ledger_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the bytes are ---- */

static size_t line_at(const char *buf, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

hm_csv_text hm_csv_check(const char *buf, size_t len, size_t *line)
{
	const char *nul;
	size_t bad, skip;

	if (line)
		*line = 0;
	if (len >= 2 && (((uint8_t)buf[0] == 0xff && (uint8_t)buf[1] == 0xfe) ||
	                 ((uint8_t)buf[0] == 0xfe && (uint8_t)buf[1] == 0xff)))
		return HM_CSV_UTF16;
	if ((nul = memchr(buf, 0, len))) {
		if (line)
			*line = line_at(buf, (size_t)(nul - buf));
		return HM_CSV_BINARY;
	}
	skip = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
	if ((bad = skip + hm_utf8_prefix(buf + skip, len - skip)) < len) {
		if (line)
			*line = line_at(buf, bad);
		return HM_CSV_NOT_UTF8;
	}
	return HM_CSV_UTF8;
}

/* ---- the reader ---- */

static bool is_sep(char ch)
{
	return ch == ',' || ch == '\r' || ch == '\n';
}

/* Consume a line end at pos (CRLF, LF, or an old Mac's lone CR), if there is one. */
static void csv_eol(hm_csv_reader *r)
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
 * text ends inside the quotes. */
static bool csv_quoted(hm_csv_reader *r, char **w, hm_csv_row *row)
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

void hm_csv_reader_init(hm_csv_reader *r, char *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0; /* a UTF-8 BOM */
	r->line = 1;
}

int hm_csv_next(hm_csv_reader *r, hm_csv_row *row)
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
		*w = '\0'; /* w is before pos (or at len): what it overwrites is consumed */
		if (row->ncols < HM_CSV_COLS_MAX)
			row->cell[row->ncols] = trim(start);
		row->ncols++;
		if (!more)
			return 1;
	}
}

bool hm_csv_row_blank(const hm_csv_row *row)
{
	if (row->malformed || row->ncols > HM_CSV_COLS_MAX)
		return false;
	for (size_t i = 0; i < row->ncols; i++)
		if (row->cell[i][0])
			return false;
	return true;
}

/* ---- GBK ---- */

/* in[0..len) from GB18030 into out (cap bytes, NUL-terminated): the bytes written, or
 * (size_t)-1 with *bad the offset of the first byte that is not GBK (or len when out is too
 * small: E2BIG). */
static size_t gbk_convert(const char *in, size_t len, char *out, size_t cap, size_t *bad)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	char *ip = (char *)in, *op = out;
	size_t il = len, ol = cap - 1, rc;

	*bad = 0;
	if (cd == (iconv_t)-1)
		return (size_t)-1;
	rc = iconv(cd, &ip, &il, &op, &ol);
	if (rc != (size_t)-1)
		rc = iconv(cd, NULL, NULL, &op, &ol); /* an incomplete sequence at the end */
	iconv_close(cd);
	if (rc == (size_t)-1 || il) {
		*bad = errno == E2BIG ? len : (size_t)(ip - in);
		return (size_t)-1;
	}
	*op = '\0';
	return (size_t)(op - out);
}

hm_err hm_csv_from_gbk(const char *buf, size_t len, char **out, size_t *outlen, size_t *bad_line)
{
	/* A GB18030 character of two bytes is at most four in UTF-8 (glibc maps a few two-byte
	 * codes outside the BMP), one of four at most four, a byte one. */
	size_t cap = 2 * len + 4, n, bad;
	char *o = malloc(cap);

	*out = NULL, *outlen = 0, *bad_line = 0;
	if (!o)
		return HM_ERR_NOMEM;
	if ((n = gbk_convert(buf, len, o, cap, &bad)) == (size_t)-1) {
		free(o);
		if (bad >= len)
			return HM_ERR_NOMEM;
		*bad_line = line_at(buf, bad);
		return HM_ERR_INVALID;
	}
	*out = o, *outlen = n; /* owned by the caller now */
	return HM_OK;
}

/* The code point of the UTF-8 sequence at s (valid), its length in *len. */
static uint32_t utf8_at(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80)
		return *len = 1, s[0];
	if (s[0] < 0xe0)
		return *len = 2, (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	if (s[0] < 0xf0)
		return *len = 3,
		       (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	return *len = 4, (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	                     (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Letters with pinyin's tone marks (ā ǎ ē ě ī ǐ ō ǒ ū ǔ ǖ ǘ ǚ ǜ): a name in pinyin holds them. */
static bool pinyin(uint32_t c)
{
	static const uint16_t marks[] = {0x101, 0x113, 0x11b, 0x12b, 0x14d, 0x16b, 0x1ce, 0x1d0,
	                                 0x1d2, 0x1d4, 0x1d6, 0x1d8, 0x1da, 0x1dc, 0x144, 0x148};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (c == marks[i])
			return true;
	return false;
}

/* A character GBK read as UTF-8 makes and a Chinese register never holds: Latin Extended
 * (but pinyin), IPA, combining marks, Greek, Cyrillic, Armenian, Hebrew, Arabic, Syriac, Thaana,
 * NKo (the lead bytes C4-DF of GBK), or private use (EE, EF). */
static bool odd_char(uint32_t c)
{
	return (c >= 0x100 && c <= 0x7ff && !pinyin(c)) || (c >= 0xe000 && c <= 0xf8ff);
}

bool hm_csv_looks_gbk(const char *s, size_t n, char *as_gbk, size_t cap)
{
	char buf[4 * 256 + 1];
	size_t len, bad, odd = 0;

	if (as_gbk && cap)
		as_gbk[0] = '\0';
	for (size_t i = 0; i < n; i += len)
		odd += odd_char(utf8_at((const unsigned char *)s + i, &len));
	if (!odd || n > 512)
		return false;
	/* Text that is not GBK is not GBK read as UTF-8. */
	if (gbk_convert(s, n, buf, sizeof(buf), &bad) == (size_t)-1)
		return false;
	if (as_gbk && cap)
		snprintf(as_gbk, cap, "%s", buf);
	return true;
}
