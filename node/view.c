/* view.c - looking at change sets from outside without applying them: what sync needs to route
 * them, and the msgpack bounds check for its own messages. */
#include "node_int.h"

#include <stdio.h>
#include <string.h>

hm_err hm_envelope_peek(const uint8_t *p, size_t n, hm_changeset_view *view)
{
	msgpack_zone zone;
	hm_envelope env;
	const char *why;
	hm_err err;

	if (!msgpack_zone_init(&zone, 1024))
		return HM_ERR_NOMEM;
	if (!(err = hm_envelope_open(p, n, &zone, &env, &why))) {
		memset(view, 0, sizeof(*view));
		view->origin = env.h.origin;
		view->seq = env.h.seq;
		view->id = env.id;
		view->prev = env.h.prev;
		view->hlc = env.h.hlc;
		view->nops = env.h.nops;
		snprintf(view->region, sizeof(view->region), "%s", env.h.region);
		view->envelope.p = p;
		view->envelope.n = n;
	}
	msgpack_zone_destroy(&zone);
	return err;
}

bool hm_region_visible(const char *holder, const char *r)
{
	return hm_region_contains(r, holder) || hm_region_contains(holder, r);
}

hm_err hm_msgpack_check(const uint8_t *buf, size_t len, unsigned depth, uint64_t max_objects)
{
	hm_mp_caps caps = {depth, UINT64_MAX, UINT64_MAX,
	                   max_objects < HM_DECODED_OBJECTS_MAX ? max_objects
	                                                        : HM_DECODED_OBJECTS_MAX};
	return hm_mp_check_caps(buf, len, &caps);
}
