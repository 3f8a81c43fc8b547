/*
 * field_cmds.c - the commands of field work: `hamlet person add|edit`, `return`, `contact`,
 * `episode`, `followup`, `checkpoint`, `stock`, `tip`, `site`, `notice`, `penalty`.
 *
 * Each verb is a row of the ledger's verb table (ledger.h, hm_verb); its options are generated
 * here from that row and the schema: every field the verb accepts is an option (`--birth-year
 * 1980` sets birth_year), so `--help` lists them all. This file parses, calls hm_verb_run and
 * prints; the rules are the ledger's.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64

/* One verb's generated command line: its option table and where the values land. */
typedef struct verb_cli {
	const hm_verb *v;
	const hm_collection_def *cd;
	cli_opt opts[MAX_OPTS];
	const char *field[MAX_OPTS]; /* the field each option sets (NULL: not a field) */
	const char *val[MAX_OPTS];
	char names[MAX_OPTS][HM_NAME_MAX + 1];
	char helps[MAX_OPTS][160];
	int nopts;
	bool json, reject;
	const char *id, *days, *to;
} verb_cli;

static cli_opt *add_opt(verb_cli *b, const char *name, const char *arg, const char *help)
{
	cli_opt *o = &b->opts[b->nopts];

	snprintf(b->names[b->nopts], sizeof(b->names[0]), "%s", name);
	snprintf(b->helps[b->nopts], sizeof(b->helps[0]), "%s", help);
	*o = (cli_opt){b->names[b->nopts], 0, &b->val[b->nopts], NULL, arg, b->helps[b->nopts]};
	b->nopts++;
	return o;
}

/* What the value of a field looks like, for --help. */
static const char *arg_word(const hm_field_def *f)
{
	static const char *const words[] = {
	    [HM_T_STR] = "TEXT",        [HM_T_INT] = "N",     [HM_T_FLOAT] = "NUMBER",
	    [HM_T_BOOL] = "true|false", [HM_T_DATE] = "DATE", [HM_T_TIME] = "TIME",
	    [HM_T_REGION] = "PATH"};
	if (f->help && strchr(f->help, '|'))
		return f->help;
	return (size_t)f->type < sizeof(words) / sizeof(words[0]) && words[f->type] ? words[f->type]
	                                                                            : "VALUE";
}

static void field_help(const hm_field_def *f, char *buf, size_t cap)
{
	static const char *const forms[] = {[HM_T_DATE] = " (YYYY-MM-DD)",
	                                    [HM_T_TIME] = " (YYYY-MM-DDTHH:MM)",
	                                    [HM_T_REGION] = " (a region: county/township/village)"};
	const char *form = (size_t)f->type < sizeof(forms) / sizeof(forms[0]) && forms[f->type]
	                       ? forms[f->type]
	                       : "";
	size_t n = (size_t)snprintf(buf, cap, "%s", f->name);
	for (size_t i = 0; i < n && i < cap; i++)
		buf[i] = buf[i] == '_' ? ' ' : buf[i];
	if (n < cap)
		snprintf(buf + n, cap - n, "%s", form);
}

/* The option that sets field f: its name with '-' for '_', or the verb's short alias. */
static const char *opt_name(const verb_cli *b, const hm_field_def *f, char *buf)
{
	size_t i;
	if (!strcmp(f->name, "temperature"))
		return "temp";
	if (!strcmp(f->name, "to_store") && !(b->v->flags & HM_VERB_TO))
		return "to";
	for (i = 0; f->name[i] && i < HM_NAME_MAX; i++)
		buf[i] = f->name[i] == '_' ? '-' : f->name[i];
	buf[i] = '\0';
	return buf;
}

static bool is_pos(const hm_verb *v, const char *field)
{
	for (int i = 0; i < v->npos; i++)
		if (!strcmp(v->pos[i], field))
			return true;
	return false;
}

static void add_field_opts(verb_cli *b)
{
	for (size_t i = 0; i < b->cd->nfields && b->nopts < MAX_OPTS - 8; i++) {
		const hm_field_def *f = &b->cd->fields[i];
		char name[HM_NAME_MAX + 1], help[160];
		if (!hm_verb_accepts(b->v, f) || is_pos(b->v, f->name))
			continue;
		field_help(f, help, sizeof(help));
		b->field[b->nopts] = f->name;
		add_opt(b, opt_name(b, f, name), arg_word(f), help);
		if (!strcmp(f->name, "temperature")) {
			b->field[b->nopts] = f->name;
			add_opt(b, "temperature", "NUMBER", "the same as --temp");
		}
	}
}

static void build_opts(verb_cli *b)
{
	cli_opt *o;

	add_field_opts(b);
	if (b->v->prefix)
		add_opt(b, "id", "ID", "the new record's id (default: a new time-ordered id)")
		    ->val = &b->id;
	if (b->v->flags & HM_VERB_DAYS)
		add_opt(b, "days", "N", "the planned end, N days on (1 to 365)")->val = &b->days;
	if (b->v->flags & HM_VERB_TO)
		add_opt(b, "to", "DATE", "the new planned end (YYYY-MM-DD)")->val = &b->to;
	if (b->v->flags & HM_VERB_REJECT) {
		o = add_opt(b, "reject", NULL, "mark it rejected instead");
		o->val = NULL, o->flag = &b->reject;
	}
	o = add_opt(b, "json", NULL, "print the result as JSON");
	o->val = NULL, o->flag = &b->json;
}

/* --FIELD options the schema does not name may be fields the county added: taken here, left
 * out of --help, and resolved by the ledger once the node is open. */
static void add_unknown_opts(verb_cli *b, int argc, char **argv)
{
	for (int i = 1; i < argc && b->nopts < MAX_OPTS - 1; i++) {
		char name[HM_NAME_MAX + 1], *a = argv[i];
		size_t n;
		bool known = false;
		if (strncmp(a, "--", 2) || !a[2] || !strcmp(a, "--help"))
			continue;
		n = strcspn(a + 2, "=");
		if (n > HM_NAME_MAX)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)n, a + 2);
		for (int k = 0; k < b->nopts && !known; k++)
			known = !strcmp(b->opts[k].name, name);
		if (known)
			continue;
		int k = b->nopts;
		cli_opt *o = add_opt(b, name, NULL, "");
		o->help = NULL; /* not listed */
		if (!(o->name = strndup(a + 2, n))) {
			b->nopts--;
			continue;
		}
		for (char *p = b->names[k]; *p; p++) /* the field: '_' for '-' */
			*p = *p == '-' ? '_' : *p;
		b->field[k] = b->names[k];
	}
}

static void make_spec(const verb_cli *b, cli_spec *s, char *path, size_t cap)
{
	snprintf(path, cap, "%s %s", b->v->cmd, b->v->sub);
	*s = (cli_spec){path, b->v->args, b->v->summary, b->opts, b->v->more, 0, 0};
	s->min_pos = s->max_pos = b->v->npos + (b->v->prefix ? 0 : 1);
}

/* The request: positionals first, then every option given, in the table's order. */
static int make_req(cli *c, verb_cli *b, char **pos, int npos, hm_verb_value *vals,
                    hm_verb_req *req)
{
	size_t n = 0;
	int first = b->v->prefix ? 0 : 1;

	*req = (hm_verb_req){.id = b->v->prefix ? b->id : pos[0],
	                     .values = vals,
	                     .days = b->days,
	                     .to = b->to,
	                     .reject = b->reject};
	if (req->id && cli_id_arg(c, b->v->prefix ? "--id" : "ID", req->id))
		return EXIT_USAGE;
	for (int i = first; i < npos; i++) {
		/* every positional field names a record by id, an item or a quantity */
		if (cli_id_arg(c, b->v->pos[i - first], pos[i]))
			return EXIT_USAGE;
		vals[n++] = (hm_verb_value){b->v->pos[i - first], pos[i]};
	}
	for (int i = 0; i < b->nopts; i++) {
		if (!b->field[i] || !b->val[i])
			continue;
		if (n == HM_VERB_VALUES_MAX)
			return cli_fail(c, EXIT_USAGE, "at most %d fields in one command",
			                HM_VERB_VALUES_MAX);
		vals[n++] = (hm_verb_value){b->field[i], b->val[i]};
	}
	req->nvalues = n;
	return EXIT_OK;
}

static void print_result(cli *c, const hm_verb *v, const hm_verb_result *r)
{
	if (r->warning[0])
		cli_warn(c, _("warning"), "%s", r->warning);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:o, s:I, s:o}", "collection", v->collection, "id",
		                      hm_json_cstr(r->id), "seq", (json_int_t)r->info.seq,
		                      "changeset", hm_json_hex(r->info.id.b, HM_HASH_BYTES));
		if (o && r->note[0])
			json_object_set_new(o, "note", hm_json_cstr(r->note));
		cj_print(stdout, o);
		return;
	}
	printf("%s %s: %s ", v->cmd, v->sub, v->collection);
	hm_text_cstr(stdout, r->id);
	printf(_(" (change set %" PRIu64 ")\n"), r->info.seq);
	if (r->note[0]) {
		hm_text_cstr(stdout, r->note);
		fputc('\n', stdout);
	}
}

/* A refusal: a malformed request is a usage error and shows the usage line. */
static int verb_refused(cli *c, hm_node *n, const cli_spec *s, const hm_verb_result *r, hm_err err)
{
	char buf[2048];
	if (!r->usage)
		return cli_node_fail(c, n, err);
	cli_fail(c, EXIT_USAGE, "%s", out_text_str(hm_node_errmsg(n), buf, sizeof(buf)));
	cli_usage_note(c, s);
	return EXIT_USAGE;
}

static int run_verb(cli *c, verb_cli *b, int argc, char **argv)
{
	hm_verb_value vals[HM_VERB_VALUES_MAX];
	hm_verb_result res;
	hm_verb_req req;
	cli_spec spec;
	char path[64], why[1024], shown[2048], *pos[4];
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	build_opts(b);
	add_unknown_opts(b, argc, argv);
	make_spec(b, &spec, path, sizeof(path));
	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = make_req(c, b, pos, npos, vals, &req)))
		return rc;
	/* Types first: a mistyped value is named before anything is opened. */
	if ((err = hm_verb_check(b->v, &req, why, sizeof(why))))
		return cli_fail(c, EXIT_USAGE, "%s", /* a malformed value, as for any option */
		                out_text_str(why, shown, sizeof(shown)));
	if ((rc = cli_open(c, &n)))
		return rc;
	for (int i = 0; i < b->nopts; i++) {
		hm_field_def def;
		char name[HM_NAME_MAX + 1];
		if (b->opts[i].help || !b->val[i] ||
		    !hm_node_field(n, b->cd, b->field[i], &def, name))
			continue;
		rc = cli_fail(
		    c, EXIT_USAGE,
		    "unknown option '--%s' (a %s has no such field; see `hamlet %s --help`)",
		    b->opts[i].name, b->cd->name, path);
		goto out;
	}
	if ((err = hm_verb_run(&c->led, b->v, &req, &res)))
		rc = verb_refused(c, n, &spec, &res, err);
	else
		print_result(c, b->v, &res);
out:
	hm_node_close(n);
	return rc;
}

/* The help of a group of field verbs (and of extra verbs of its own: person show, find, ...). */
static void print_group_usage(FILE *f, const char *cmd, const cli_verb *extra)
{
	size_t count;
	const hm_verb *verbs = hm_verbs(&count);

	fprintf(f, "usage: hamlet [-d DIR] %s VERB [OPTIONS] ...\n\n%s\n\nverbs:\n", cmd,
	        _(hm_command(cmd)->summary));
	for (size_t i = 0; i < count; i++)
		if (!strcmp(verbs[i].cmd, cmd))
			fprintf(f, "  %-10s %s\n", verbs[i].sub, _(verbs[i].summary));
	for (const cli_verb *v = extra; v && v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, _(v->summary));
	fprintf(f, _("\n`hamlet %s VERB --help` tells more.\n"), cmd);
}

int cmd_field(cli *c, int argc, char **argv)
{
	return cli_field_group(c, NULL, argc, argv);
}

int cli_field_group(cli *c, const cli_verb *extra, int argc, char **argv)
{
	static char name[64];
	const char *cmd = argv[0];
	const hm_verb *v;
	verb_cli *b;
	int rc;

	if (argc < 2)
		return cli_fail(c, EXIT_USAGE, "which verb? (see `hamlet %s --help`)", cmd);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_group_usage(stdout, cmd, extra);
		return EXIT_OK;
	}
	snprintf(name, sizeof(name), "%s %s", cmd, argv[1]); /* for messages */
	for (const cli_verb *x = extra; x && x->name; x++)
		if (!strcmp(x->name, argv[1])) {
			c->cmd = name;
			return x->run(c, argc - 1, argv + 1);
		}
	if (!(v = hm_verb_find(cmd, argv[1])))
		return cli_fail(c, EXIT_USAGE, "no verb '%s' (see `hamlet %s --help`)", argv[1],
		                cmd);
	c->cmd = name;
	if (!(b = calloc(1, sizeof(*b))))
		return cli_fail(c, EXIT_FAIL, "out of memory");
	b->v = v, b->cd = hm_schema_collection(v->collection);
	rc = run_verb(c, b, argc - 1, argv + 1);
	for (int i = 0; i < b->nopts; i++)
		if (!b->opts[i].help)
			free((char *)b->opts[i].name);
	free(b);
	return rc;
}
