/* support_field.h - what the tests of field work, persons, stock and purge share: a real node in
 * a scratch directory with a frozen clock, the ledger over it, and one-line verb calls. */
#ifndef HM_TEST_SUPPORT_FIELD_H
#define HM_TEST_SUPPORT_FIELD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger.h"

/* 2026-11-26 12:00 UTC: the last day of the scripted week. */
#define FIELD_T0_MS 1795694400000ull

typedef struct field_env {
	hm_node *n;
	hm_ledger l;
	uint64_t now_ms; /* the clock of both the node and the ledger */
	char dir[1024];
} field_env;

/* A node of role (HM_ROLE_VILLAGE, ...) for region in a fresh scratch directory named name,
 * its clock frozen at FIELD_T0_MS. */
void field_env_open(field_env *e, const char *name, hm_role role, const char *region);
void field_env_close(field_env *e);

/* Run `cmd sub` with the id (may be NULL) and "field=text" values (NULL-terminated list);
 * returns the verb's result code, with *out filled (out may be NULL). */
hm_err field_run(field_env *e, const char *cmd, const char *sub, const char *id,
                 hm_verb_result *out, ...);
/* The same with days/to/reject options. */
hm_err field_run_opts(field_env *e, const char *cmd, const char *sub, const hm_verb_req *opts,
                      hm_verb_result *out, ...);
/* The text of coll/id.field into buf ("" when unset); returns buf. Fails the test when the
 * record is missing. */
const char *field_get(field_env *e, const char *coll, const char *id, const char *field, char *buf,
                      size_t cap);
/* Whether hm_node_errmsg holds text. */
void field_assert_msg(field_env *e, const char *text);

#endif
