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
	bool json;
	size_t count;
} added_ctx;

static void field_line(bool json, size_t *count, const char *coll, const char *name,
                       const char *type, const char *merge, bool required, unsigned flags,
                       const char *help, bool added)
{
	if (json) {
		fputs((*count)++ ? ",{\"collection\":" : "{\"collection\":", stdout);
		out_json_cstr(stdout, coll);
		fputs(",\"field\":", stdout);
		out_json_cstr(stdout, name);
		printf(",\"type\":\"%s\",\"merge\":\"%s\",\"required\":%s,\"personal\":%s,"
		       "\"identity\":%s,\"added_by_county\":%s,\"words\":",
		       type, merge, required ? "true" : "false",
		       flags & HM_F_PII ? "true" : "false",
		       flags & HM_F_IDENTITY ? "true" : "false", added ? "true" : "false");
		help ? out_json_cstr(stdout, help) : (void)fputs("null", stdout);
		fputs("}", stdout);
		return;
	}
	printf("  %-16s %-6s %-7s%s%s%s%s%s%s\n", name, type, merge, required ? " required" : "",
	       flags & HM_F_PII ? " personal" : "", flags & HM_F_IDENTITY ? " identity" : "",
	       added ? " (added by the county)" : "", help ? "  " : "", help ? help : "");
	(*count)++;
}

static int added_one(void *arg, const hm_record *r)
{
	added_ctx *a = arg;
	char coll[HM_NAME_MAX + 1] = "", name[HM_NAME_MAX + 1] = "", type[16] = "",
	                        help[HM_STR_MAX + 1] = "";
	const hm_field *f;

#define TEXT(field, buf)                                                                           \
	if ((f = hm_record_field(r, field)) && f->value.kind == HM_V_STR)                          \
	snprintf(buf, sizeof(buf), "%.*s", (int)f->value.u.s.n, f->value.u.s.p)
	TEXT("collection", coll);
	TEXT("name", name);
	TEXT("type", type);
	TEXT("help", help);
#undef TEXT
	if (!a->coll || !strcmp(a->coll, coll))
		field_line(a->json, &a->count, coll, name, type, "lww", false, 0,
		           help[0] ? help : NULL, true);
	return 0;
}

int cmd_schema(cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: hamlet [-d DIR] schema list [COLLECTION] [--json]\n"
	    "       hamlet [-d DIR] schema add-field COLLECTION FIELD TYPE [--help-text TEXT]\n\n"
	    "list: the collections and their fields: type, merge rule (lww: the latest write "
	    "wins;\n"
	    "counter: the sum of every change; max: the greatest value wins), required, personal\n"
	    "(masked, purged), identity (a concurrent change is put to a person), the allowed\n"
	    "words, and the fields the county added.\n\n"
	    "add-field (on the county): add FIELD to COLLECTION, of TYPE text, int, number, bool,\n"
	    "date or time. It reaches every node by sync; from then on `hamlet put` and the field\n"
	    "commands (`--FIELD VALUE`) write it there. A node that has not received it yet keeps\n"
	    "and passes on records that carry it.\n\n"
	    "example: hamlet -d county schema add-field person vaccinated bool\n";
	bool json = false;
	const char *pos[4], *help = NULL;
	int npos = 0, rc;
	hm_node *n = NULL;
	hm_err err;

	const cli_opt opts[] = {
	    {"json", 0, NULL, &json}, {"help-text", 0, &help, NULL}, {NULL, 0, NULL, NULL}};

	if ((rc = cli_args_parse(c, usage, argc, argv, opts, (char **)pos, 1, 4, &npos)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	if (!(npos >= 1 && !strcmp(pos[0], "list") && npos <= 2) &&
	    !(npos == 4 && !strcmp(pos[0], "add-field")))
		return cli_fail(c, EXIT_USAGE, "usage:\n%s", usage);
	if (npos >= 2 && !hm_schema_collection(pos[1]))
		return cli_fail(c, EXIT_FAIL,
		                "no collection '%s' (`hamlet schema list` names them)", pos[1]);
	if ((rc = cli_open(c, &n)))
		return rc;
	if (npos == 4) {
		hm_changeset_info info;
		if ((err = hm_node_add_field(n, pos[1], pos[2], pos[3], help, &info)))
			rc = cli_node_fail(c, n, err);
		else if (json)
			printf("{\"collection\":\"%s\",\"field\":", pos[1]),
			    out_json_cstr(stdout, pos[2]),
			    printf(",\"type\":\"%s\",\"seq\":%" PRIu64 "}\n", pos[3], info.seq);
		else
			printf("added %s.%s (%s) in change set %" PRIu64 "\n", pos[1], pos[2],
			       pos[3], info.seq);
	} else {
		size_t ncoll, count = 0;
		const hm_collection_def *cs = hm_schema_collections(&ncoll);
		added_ctx a = {npos == 2 ? pos[1] : NULL, json, 0};
		if (json)
			fputs("[", stdout);
		for (size_t i = 0; i < ncoll; i++) {
			if (a.coll ? strcmp(a.coll, cs[i].name) != 0 : cs[i].name[0] == '_')
				continue;
			if (!json)
				printf("%s: %s\n", cs[i].name, cs[i].help);
			for (size_t f = 0; f < cs[i].nfields; f++) {
				const hm_field_def *d = &cs[i].fields[f];
				if (strstr(d->name, "_seen") || !strcmp(d->name, "id_hash"))
					continue; /* written by hamlet itself */
				field_line(json, &count, cs[i].name, d->name,
				           d->type == HM_T_REGION ? "region"
				                                  : hm_type_word(d->type),
				           merge_word(d), d->required, d->flags, d->help, false);
			}
		}
		a.count = count;
		if (!json)
			printf("added by the county:\n");
		if ((err = hm_node_list(n, "_field", added_one, &a)))
			rc = cli_node_fail(c, n, err);
		if (json)
			fputs("]\n", stdout);
		else if (a.count == count)
			printf("  (none)\n");
	}
	hm_node_close(n);
	return rc;
}
