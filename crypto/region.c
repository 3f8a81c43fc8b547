/* region.c - region paths ("county/township/village"): validity, depth and containment. */
#include "crypto.h"

#include <string.h>

static int region_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int hm_region_depth(const char *path)
{
	int depth = 1;
	size_t seg = 0;

	if (!path)
		return 0;
	for (const char *p = path;; p++) {
		if (*p == '\0' || *p == '/') {
			if (seg == 0)
				return 0; /* empty segment: leading, trailing or doubled '/' */
			if (*p == '\0')
				return depth;
			if (++depth > HM_REGION_DEPTH_MAX)
				return 0;
			seg = 0;
			continue;
		}
		if (!region_char_ok(*p) || ++seg > HM_REGION_SEGMENT_MAX)
			return 0;
	}
}

int hm_region_valid(const char *path)
{
	return hm_region_depth(path) != 0;
}

int hm_region_contains(const char *outer, const char *inner)
{
	size_t n;

	if (!hm_region_valid(outer) || !hm_region_valid(inner))
		return 0;
	n = strlen(outer);
	/* A prefix counts only if it ends on a segment boundary of inner. */
	return strncmp(outer, inner, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}
