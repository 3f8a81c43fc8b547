/*
 * schema_cmds.c - `hamlet schema`: the collections and fields this node knows (the built-in
 * schema and the fields the county added), and adding a field on the county.
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static int schema_list(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the fields as JSON")},
	                        {NULL}};
	const cli_spec spec = {
	    "schema list",
	    "[COLLECTION]",
	    N_("the collections and their fields"),
	    opts,
	    "For each field: its type, merge rule (lww: the latest write wins; counter: the sum "
	    "of\n"
	    "every change; max: the greatest value wins), required, personal (masked, purged),\n"
	    "identity (a concurrent change is put to a person), the allowed words; and the fields\n"
	    "the county added.\n",
	    0,
	    1};
	char *pos[1];
	int npos, rc;
	json_t *arr;
	hm_node *n;
	hm_err err;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (npos && !hm_schema_collection(pos[0]))
		return cli_fail(c, EXIT_FAIL,
		                "no collection '%s' (`hamlet schema list` names them)", pos[0]);
	if ((rc = cli_open(c, &n)))
		return rc;
	if (json && !(err = hm_schema_fields_json(&c->led, npos ? pos[0] : NULL, &arr)))
		rc = cj_print(stdout, arr) ? cli_fail(c, EXIT_FAIL, "writing failed") : EXIT_OK;
	else if (json || (err = hm_schema_fields_write(&c->led, npos ? pos[0] : NULL, stdout)))
		rc = cli_node_fail(c, n, err);
	hm_node_close(n);
	return rc;
}

static int schema_add_field(cli *c, int argc, char **argv)
{
	bool json = false;
	const char *help = NULL;
	const cli_opt opts[] = {
	    {"help-text", 0, &help, NULL, "TEXT", N_("what the field holds, shown by schema list")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL}};
	const cli_spec spec = {
	    "schema add-field",
	    "COLLECTION FIELD TYPE",
	    N_("add a field to a collection (on the county)"),
	    opts,
	    "TYPE is text, int, number, bool, date or time. The field reaches every node by sync;\n"
	    "from then on `hamlet put` and the field commands (`--FIELD VALUE`) write it there. A\n"
	    "node that has not received it yet keeps and passes on records that carry it.\n\n"
	    "example: hamlet -d county schema add-field person vaccinated bool\n",
	    3,
	    3};
	char *pos[3];
	int npos, rc;
	hm_changeset_info info;
	hm_node *n;
	hm_err err;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!hm_schema_collection(pos[0]))
		return cli_fail(c, EXIT_FAIL,
		                "no collection '%s' (`hamlet schema list` names them)", pos[0]);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_add_field(n, pos[0], pos[1], pos[2], help, &info)))
		rc = cli_node_fail(c, n, err);
	else if (json)
		cj_print(stdout,
		         json_pack("{s:o, s:o, s:o, s:I}", "collection", hm_json_cstr(pos[0]),
		                   "field", hm_json_cstr(pos[1]), "type", hm_json_cstr(pos[2]),
		                   "seq", (json_int_t)info.seq));
	else
		printf("added %s.%s (%s) in change set %" PRIu64 "\n", pos[0], pos[1], pos[2],
		       info.seq);
	hm_node_close(n);
	return rc;
}

int cmd_schema(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"list", schema_list, N_("the collections and their fields")},
	    {"add-field", schema_add_field, N_("add a field to a collection (on the county)")},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}
