/* node_fuzz_changeset.c - libFuzzer target for the decoders of bytes that come from outside a
 * node: the msgpack bounds check, the change-set envelope (frame, header, body and its schema
 * checks) and the stored-record decoder. Property: no crash, leak or sanitizer report, and
 * whatever hm_mp_check accepts msgpack-c decodes without asking for more memory than a small
 * multiple of the input. */
#include "node_int.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone;
	hm_envelope env;
	const char *why = NULL;
	hm_rec *rec = malloc(sizeof(*rec));

	if (!rec || !msgpack_zone_init(&zone, 4096)) {
		free(rec);
		return 0;
	}
	if (hm_envelope_open(data, size, &zone, &env, &why) == HM_OK) {
		if (why)
			abort(); /* success never leaves a reason */
		if (hm_envelope_open_body(&env, &zone, &why) != HM_OK && !why)
			abort();
	} else if (!why) {
		abort(); /* every refusal says why */
	}
	msgpack_zone_clear(&zone);
	if (hm_rec_decode(data, size, &zone, rec) == HM_OK && rec->nf > HM_FIELDS_MAX)
		abort();
	msgpack_zone_destroy(&zone);
	free(rec);
	return 0;
}
