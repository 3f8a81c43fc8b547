/*
 * person.c - persons: the one rule for a reference to a person, finding them, and the open
 * questions about a person's identity.
 */
#include "ledger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hm_err hm_ledger_need_person(hm_ledger *l, const char *id, hm_record **out)
{
	hm_record *r = NULL;
	hm_err err = hm_node_get(l->node, "person", id, out ? out : &r);

	hm_record_free(r);
	if (err == HM_ERR_NOT_FOUND)
		return hm_node_fail(
		    l->node, err,
		    "unknown person '%s' (register them with `hamlet person add`, or "
		    "find their id with `hamlet person find`)",
		    id);
	return err;
}
