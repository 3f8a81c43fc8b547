/*
 * access.c - the ledger's shared rules as the commands report them: an id given on the command
 * line, and the access log entry that must be written before personal data is shown.
 */
#include "cli.h"

#include <string.h>

int cli_id_arg(cli *c, const char *what, const char *id)
{
	const char *why;
	char shown[64];
	if (!hm_id_check(id, &why))
		return EXIT_OK;
	out_text_str(id, shown, sizeof(shown));
	return cli_fail(c, EXIT_USAGE, "%s '%s%s': the record id %s", what, shown,
	                strlen(shown) < strlen(id) ? "..." : "", why);
}

int cli_record_access(cli *c, hm_node *n, const char *action, const char *what, size_t records)
{
	hm_err err;
	c->led.node = n;
	if (!(err = hm_ledger_record_access(&c->led, action, what, records)))
		return EXIT_OK;
	return cli_fail(c, EXIT_FAIL,
	                "could not record the %s in the access log (%s): nothing shown",
	                !strcmp(action, "export") ? _("export") : _("reveal"),
	                *hm_node_errmsg(n) ? hm_node_errmsg(n) : hm_strerror(err));
}
