/* base.c - errors, logging and hex: the plumbing every layer shares. */
#include "crypto.h"
#include "i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Marked N_: translated where they are handed out, so the table stays constant. */
static const char *const hm_err_text[HM_ERR__COUNT] = {
    [HM_OK] = N_("success"),
    [HM_ERR_NOMEM] = N_("out of memory"),
    [HM_ERR_IO] = N_("I/O error"),
    [HM_ERR_INVALID] = N_("invalid argument"),
    [HM_ERR_CORRUPT] = N_("data is corrupt or malformed"),
    [HM_ERR_TRUNCATED] = N_("data ends too early (truncated)"),
    [HM_ERR_TOO_BIG] = N_("a length or count exceeds the allowed maximum"),
    [HM_ERR_VERSION] = N_("unsupported format or protocol version"),
    [HM_ERR_NOT_FOUND] = N_("not found"),
    [HM_ERR_EXISTS] = N_("already exists"),
    [HM_ERR_SCHEMA] = N_("not allowed by the schema"),
    [HM_ERR_TYPE] = N_("value has the wrong type for its field"),
    [HM_ERR_FULL] = N_("the disk is full, or the store reached its size cap"),
    [HM_ERR_STORE] = N_("storage error"),
    [HM_ERR_FUTURE] = N_("clock stamp too far in the future"),
    [HM_ERR_FORK] = N_("origin equivocated (two change sets for one seq)"),
    [HM_ERR_CRYPTO] = N_("cryptographic check failed"),
    [HM_ERR_BUSY] = N_("resource busy"),
    [HM_ERR_NET] = N_("network error"),
    [HM_ERR_AMBIGUOUS] = N_("the id names records in more than one region"),
};

const char *hm_strerror(hm_err err)
{
	if ((unsigned)err >= HM_ERR__COUNT || !hm_err_text[err])
		return _("unknown error");
	return _(hm_err_text[err]);
}

const char *hm_strerrno(int errnum)
{
	switch (errnum) {
	case ENOSPC:
		return _("the disk is full");
	case EDQUOT:
		return _("the disk is full (the account's quota is used up)");
	case EIO:
		return _("I/O error (the disk failed)");
	case ENOMEM:
		return _("out of memory");
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
