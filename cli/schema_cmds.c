/*
 * schema_cmds.c - `hamlet schema`: the collections and fields this node knows (the built-in
 * schema and the fields the county added), and adding a field on the county.
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char *merge_word(const hm_field_def *f)
{
	return f->merge == HM_MERGE_COUNTER ? "counter" : f->merge == HM_MERGE_MAX ? "max" : "lww";
}

typedef struct added_ctx {
	const char *coll; /* only this collection, or all */
	json_t *arr;      /* with --json */
	size_t count;
} added_ctx;

static void field_line(added_ctx *a, const char *coll, const char *name, const char *type,
                       const char *merge, bool required, unsigned flags, const char *help,
                       bool added)
{
	a->count++;
	if (a->arr) {
		json_array_append_new(
		    a->arr, json_pack("{s:o, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:o}", "collection",
		                      hm_json_cstr(coll), "field", hm_json_cstr(name), "type", type,
		                      "merge", merge, "required", required, "personal",
		                      !!(flags & HM_F_PII), "identity", !!(flags & HM_F_IDENTITY),
		                      "added_by_county", added, "words", hm_json_cstr(help)));
		return;
	}
	printf("  %-16s %-6s %-7s%s%s%s%s", name, type, merge, required ? " required" : "",
	       flags & HM_F_PII ? " personal" : "", flags & HM_F_IDENTITY ? " identity" : "",
	       added ? " (added by the county)" : "");
	if (help)
		fputs("  ", stdout), hm_text_cstr(stdout, help);
	fputc('\n', stdout);
}

static int added_one(void *arg, const hm_record *r)
{
	added_ctx *a = arg;
	char coll[HM_NAME_MAX + 1], name[HM_NAME_MAX + 1], type[16], help[HM_STR_MAX + 1];

	hm_rec_text(r, "collection", coll, sizeof(coll));
	hm_rec_text(r, "name", name, sizeof(name));
	hm_rec_text(r, "type", type, sizeof(type));
	hm_rec_text(r, "help", help, sizeof(help));
	if (!a->coll || !strcmp(a->coll, coll))
		field_line(a, coll, name, type, "lww", false, 0, help[0] ? help : NULL, true);
	return 0;
}

static void builtin_fields(added_ctx *a)
{
	size_t ncoll;
	const hm_collection_def *cs = hm_schema_collections(&ncoll);

	for (size_t i = 0; i < ncoll; i++) {
		if (a->coll ? strcmp(a->coll, cs[i].name) != 0 : cs[i].name[0] == '_')
			continue;
		if (!a->arr)
			printf("%s: %s\n", cs[i].name, cs[i].help);
		for (size_t f = 0; f < cs[i].nfields; f++) {
			const hm_field_def *d = &cs[i].fields[f];
			if (strstr(d->name, "_seen") || !strcmp(d->name, "id_hash"))
				continue; /* written by hamlet itself */
			field_line(a, cs[i].name, d->name,
			           d->type == HM_T_REGION ? "region" : hm_type_word(d->type),
			           merge_word(d), d->required, d->flags, d->help, false);
		}
	}
}

static int schema_list(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, "print the fields as JSON"}, {NULL}};
	const cli_spec spec = {
	    "schema list",
	    "[COLLECTION]",
	    "the collections and their fields",
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
	size_t builtin;
	added_ctx a = {0};
	hm_node *n;
	hm_err err;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (npos && !hm_schema_collection(pos[0]))
		return cli_fail(c, EXIT_FAIL,
		                "no collection '%s' (`hamlet schema list` names them)", pos[0]);
	if ((rc = cli_open(c, &n)))
		return rc;
	a.coll = npos ? pos[0] : NULL;
	a.arr = json ? json_array() : NULL;
	builtin_fields(&a);
	builtin = a.count;
	if (!json)
		printf("added by the county:\n");
	if ((err = hm_node_list(n, "_field", added_one, &a)))
		rc = cli_node_fail(c, n, err);
	else if (json)
		rc = cj_print(stdout, json_incref(a.arr)) ? cli_fail(c, EXIT_FAIL, "writing failed")
		                                          : EXIT_OK;
	else if (a.count == builtin)
		printf("  (none)\n");
	json_decref(a.arr);
	hm_node_close(n);
	return rc;
}

static int schema_add_field(cli *c, int argc, char **argv)
{
	bool json = false;
	const char *help = NULL;
	const cli_opt opts[] = {
	    {"help-text", 0, &help, NULL, "TEXT", "what the field holds, shown by schema list"},
	    {"json", 0, NULL, &json, NULL, "print the result as JSON"},
	    {NULL}};
	const cli_spec spec = {
	    "schema add-field",
	    "COLLECTION FIELD TYPE",
	    "add a field to a collection (on the county)",
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
	    {"list", schema_list, "the collections and their fields"},
	    {"add-field", schema_add_field, "add a field to a collection (on the county)"},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}
