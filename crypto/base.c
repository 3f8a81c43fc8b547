/* base.c - errors, logging and hex: the plumbing every layer shares. */
#include "crypto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const hm_err_text[HM_ERR__COUNT] = {
    [HM_OK] = "success",
    [HM_ERR_NOMEM] = "out of memory",
    [HM_ERR_IO] = "I/O error",
    [HM_ERR_INVALID] = "invalid argument",
    [HM_ERR_CORRUPT] = "data is corrupt or malformed",
    [HM_ERR_TRUNCATED] = "data ends too early (truncated)",
    [HM_ERR_TOO_BIG] = "a length or count exceeds the allowed maximum",
    [HM_ERR_VERSION] = "unsupported format or protocol version",
    [HM_ERR_NOT_FOUND] = "not found",
    [HM_ERR_EXISTS] = "already exists",
    [HM_ERR_SCHEMA] = "not allowed by the schema",
    [HM_ERR_TYPE] = "value has the wrong type for its field",
    [HM_ERR_FULL] = "the disk is full, or the store reached its size cap",
    [HM_ERR_STORE] = "storage error",
    [HM_ERR_FUTURE] = "clock stamp too far in the future",
    [HM_ERR_FORK] = "origin equivocated (two change sets for one seq)",
    [HM_ERR_CRYPTO] = "cryptographic check failed",
    [HM_ERR_BUSY] = "resource busy",
    [HM_ERR_NET] = "network error",
    [HM_ERR_AMBIGUOUS] = "the id names records in more than one region",
};

const char *hm_strerror(hm_err err)
{
	if ((unsigned)err >= HM_ERR__COUNT || !hm_err_text[err])
		return "unknown error";
	return hm_err_text[err];
}

const char *hm_strerrno(int errnum)
{
	switch (errnum) {
	case ENOSPC:
		return "the disk is full";
	case EDQUOT:
		return "the disk is full (the account's quota is used up)";
	case EIO:
		return "I/O error (the disk failed)";
	case ENOMEM:
		return "out of memory";
	default:
		return strerror(errnum);
	}
}

void hm_logf(const hm_logger *log, hm_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log || !log->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, level, msg);
}

void hm_hex_encode(char *out, const void *bin, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = bin;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

hm_err hm_hex_decode(void *bin, size_t len, const char *hex)
{
	uint8_t *p = bin;

	if (strlen(hex) != 2 * len)
		return HM_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return HM_ERR_INVALID;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return HM_OK;
}
