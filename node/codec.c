/*
 * codec.c - compressing change-set bodies (zstd) before they are sealed. Change sets travel on
 * thin village links and sit in every oplog; a body of many records of the same shape shrinks
 * several times. A body is compressed only when that makes it smaller, and marked so in the
 * header's codec (HM_CODEC_ZSTD); decompression refuses any frame that does not declare its
 * size or declares more than the caller's cap (an envelope's 16 MiB, or less: what the header's
 * operation count can take, hm_body_max), before allocating.
 */
#include "node_int.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#define ZSTD_LEVEL   3
#define COMPRESS_MIN 256 /* smaller bodies gain nothing */

hm_err hm_body_compress(const void *body, size_t n, msgpack_sbuffer *out, bool *compressed)
{
	size_t bound = ZSTD_compressBound(n), got;

	*compressed = false;
	if (n < COMPRESS_MIN)
		return HM_OK;
	if (out->alloc < bound) {
		char *p = realloc(out->data, bound);
		if (!p)
			return HM_ERR_NOMEM;
		out->data = p, out->alloc = bound;
	}
	got = ZSTD_compress(out->data, out->alloc, body, n, ZSTD_LEVEL);
	if (ZSTD_isError(got) || got >= n)
		return HM_OK; /* keep it plain */
	out->size = got;
	*compressed = true;
	return HM_OK;
}

hm_err hm_body_decompress(const uint8_t *z, size_t n, size_t max, msgpack_sbuffer *out,
                          const char **why)
{
	unsigned long long size = ZSTD_getFrameContentSize(z, n);
	size_t got;

	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
		*why = "the compressed body is not a zstd frame with its size";
		return HM_ERR_CORRUPT;
	}
	if (size > HM_ENVELOPE_MAX || size > max) {
		*why = "the compressed body would expand beyond what its operation count can take "
		       "(or beyond the envelope cap)";
		return HM_ERR_TOO_BIG;
	}
	if (out->alloc < size + 1) {
		char *p = realloc(out->data, size + 1);
		if (!p)
			return HM_ERR_NOMEM;
		out->data = p, out->alloc = size + 1;
	}
	got = ZSTD_decompress(out->data, out->alloc, z, n);
	if (ZSTD_isError(got) && ZSTD_getErrorCode(got) == ZSTD_error_memory_allocation) {
		*why = "decompressing the body: out of memory"; /* the body may be whole */
		return HM_ERR_NOMEM;
	}
	if (ZSTD_isError(got) || got != size) {
		*why = "the compressed body does not decompress";
		return HM_ERR_CORRUPT;
	}
	out->size = got;
	return HM_OK;
}
