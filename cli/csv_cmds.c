/*
 * csv_cmds.c - `hamlet import-csv COLLECTION FILE`: read the file (and convert it from GBK when
 * asked), hand it to the ledger's import (ledger.h: hm_csv_import), print what it found and
 * did; `hamlet import-csv --template COLLECTION` prints the header of an empty file.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CSV_FILE_MAX (256u << 20) /* bytes; a county's largest register is far smaller */
#define CSV_MAPS_MAX 128u         /* COLUMN=FIELD pairs over every --map */
#define CSV_LARGE    (8u << 20)   /* a file this big reports progress even off a terminal */

/* ---- reading the file ---- */

/* The whole file into *out (owned by the caller; *len bytes and a spare one). */
static int csv_load(cli *c, const char *path, char **out, size_t *len)
{
	int rc = cli_read_file(c, path, CSV_FILE_MAX, out, len);
	if (rc < 0)
		rc = cli_fail(c, EXIT_FAIL,
		              "%s is larger than %u MiB, the most import-csv reads: split it", path,
		              CSV_FILE_MAX >> 20);
	return rc;
}

/* --encoding gbk: the file's text as UTF-8, in place of *buf. */
static int from_gbk(cli *c, const char *path, char **buf, size_t *len)
{
	size_t bad_line;
	char *utf8;
	hm_err err = hm_csv_from_gbk(*buf, *len, &utf8, len, &bad_line);

	if (err == HM_ERR_INVALID)
		return cli_fail(c, EXIT_FAIL,
		                "%s: line %zu is not GBK text (--encoding gbk): is the file "
		                "UTF-8? then import it without --encoding",
		                path, bad_line);
	if (err)
		return cli_fail(c, EXIT_FAIL, "out of memory converting %s from GBK", path);
	free(*buf);
	*buf = utf8;
	return EXIT_OK;
}

/* ---- what the import found and did ---- */

static void list_bad(cli *c, const hm_csv_result *res)
{
	for (size_t i = 0; i < res->nbad; i++) {
		const hm_csv_bad *b = &res->bad[i];
		if (b->field && b->column)
			cli_fail(c, EXIT_FAIL, "line %zu: %s (column %s): %s", b->line, b->field,
			         b->column, b->reason);
		else if (b->field)
			cli_fail(c, EXIT_FAIL, "line %zu: %s: %s", b->line, b->field, b->reason);
		else
			cli_fail(c, EXIT_FAIL, "line %zu: %s", b->line, b->reason);
	}
	if (res->bad_more)
		cli_fail(c, EXIT_FAIL, "and %zu more problem%s not listed", res->bad_more,
		         res->bad_more == 1 ? "" : "s");
}

/* Say what the import found and did: the problems on stderr, the summary on stdout, or one JSON
 * document; a failure's reason on stderr. */
static int report(cli *c, const hm_csv_result *res, bool dry_run, bool json)
{
	char msg[512];
	bool failed = hm_csv_result_failure(res, msg, sizeof(msg));
	json_t *o;

	if (!json)
		list_bad(c, res);
	if (!res->verdict)
		return cli_fail(c, EXIT_FAIL, "%s", msg);
	if (!json) {
		hm_csv_result_write(res, stdout);
	} else {
		o = hm_csv_result_json(res, dry_run);
		if (o && failed) {
			json_object_set_new(o, "error", hm_json_cstr(msg));
			json_object_set_new(o, "exit", json_integer(EXIT_FAIL));
		}
		cj_print(stdout, o);
		c->json = !failed; /* a failure is in the document: its reason on stderr only */
	}
	return failed ? cli_fail(c, EXIT_FAIL, "%s", msg) : EXIT_OK;
}

/* ---- the command ---- */

typedef struct csv_args {
	const char *map, *id_column, *encoding, *template;
	bool dry_run, skip_bad, json;
	hm_csv_map maps[CSV_MAPS_MAX];
	size_t nmaps;
	char *map_text[CSV_MAPS_MAX]; /* owned: the --map values, split in place */
	size_t nmap_text;
} csv_args;

/* The command's options, parsed into csv (one import per process). */
static csv_args csv;

static const cli_opt import_opts[] = {
    {"map", 0, &csv.map, NULL, "COLUMN=FIELD[,...]",
     N_("the field a column is (COLUMN=- skips it); may be given several times")},
    {"id-column", 0, &csv.id_column, NULL, "COLUMN", N_("the column of the record id")},
    {"encoding", 0, &csv.encoding, NULL, "gbk|utf-8",
     N_("the file's encoding (default: UTF-8, refusing text that looks like GBK)")},
    {"dry-run", 0, NULL, &csv.dry_run, NULL, N_("check every row, write nothing")},
    {"skip-bad", 0, NULL, &csv.skip_bad, NULL, N_("write the good rows even if some are bad")},
    {"json", 0, NULL, &csv.json, NULL, N_("print the result as JSON")},
    {"template", 0, &csv.template, NULL, "COLLECTION",
     N_("print the header row of an empty file for COLLECTION (no FILE)")},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

static const cli_spec import_spec = {
    "import-csv",
    "COLLECTION FILE",
    N_("bulk-import a register from a CSV file (all rows or none)"),
    import_opts,
    "Read FILE (CSV, its first row naming the columns) into COLLECTION. A column is the\n"
    "field of the same name or of its Chinese header (as --template prints them: 姓名,\n"
    "性别, ...); --map renames (--map '名字=name,电话=phone', or --map given several\n"
    "times); COLUMN=- skips a column. Any other column that is not a field is an error.\n"
    "The record id comes from the column named by --id-column, else the column `id` or\n"
    "编号 (or the one mapped to id); a row without one gets a new id. An empty cell is\n"
    "\"not given\". Values may be a clerk's words: 男/女, 上门/电话, 返乡人员, ...; dates\n"
    "as spreadsheets write them (2026/12/6, 2026-12-06 08:00) (docs/ledger.md).\n\n"
    "Every row is checked before anything is written: types, allowed words, resident ID\n"
    "numbers, temperatures 34-43, required fields of a new record, the persons a record\n"
    "names (they must exist), ids (valid, once in the file), the number of columns, an\n"
    "episode's end not before its start. Bad rows are listed on stderr with their line in\n"
    "FILE. If any row is bad nothing is written (exit 1), unless --skip-bad: then the good\n"
    "rows are written and the bad ones listed. --dry-run checks and lists only. The good\n"
    "rows are one write: all of them or, on any failure, none. A person's id_number also\n"
    "sets id_hash, which finds one person registered by two villages.\n\n"
    "A file saved in GBK (a Chinese Excel's \"CSV\") is read with --encoding gbk; without\n"
    "it, a file whose text looks like GBK read as UTF-8 is refused.\n\n"
    "example (persons.csv):\n"
    "  id,name,id_number,sex,category,arrival_date\n"
    "  elm-001,Wang Fang,11010519491231002X,female,returnee,2026-11-20\n"
    "  elm-002,\"Li, Wei\",,男,close,2026/11/21\n"
    "  $ hamlet import-csv person persons.csv --dry-run\n"
    "  $ hamlet import-csv person persons.csv\n"
    "  $ hamlet import-csv --template person >persons.csv\n",
    0,
    2};

/* Split "A=B,C=D" (a copy, kept in a) into maps. */
static int add_maps(cli *c, csv_args *a, const char *spec)
{
	char *p;

	if (a->nmap_text == CSV_MAPS_MAX)
		return cli_fail(c, EXIT_USAGE, "more than %u --map options", CSV_MAPS_MAX);
	if (!(p = strdup(spec)))
		return cli_fail(c, EXIT_FAIL, "out of memory");
	a->map_text[a->nmap_text++] = p; /* owned by a */
	for (;;) {
		char *comma = strchr(p, ','), *eq, *from, *to;
		if (comma)
			*comma = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p || !eq[1])
			return cli_fail(c, EXIT_USAGE,
			                "--map takes COLUMN=FIELD[,COLUMN=FIELD...], not '%s'", p);
		*eq = '\0';
		from = p + strspn(p, " \t");
		to = eq + 1 + strspn(eq + 1, " \t");
		for (char *e = from + strlen(from); e > from && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		for (char *e = to + strlen(to); e > to && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (a->nmaps == CSV_MAPS_MAX)
			return cli_fail(c, EXIT_USAGE, "more than %u --map pairs", CSV_MAPS_MAX);
		for (size_t i = 0; i < a->nmaps; i++)
			if (!strcmp(a->maps[i].from, from))
				return cli_fail(c, EXIT_USAGE, "--map: column '%s' is mapped twice",
				                from);
		a->maps[a->nmaps].from = from, a->maps[a->nmaps++].to = to;
		if (!comma)
			return EXIT_OK;
		p = comma + 1;
	}
}

/* --map may be given several times, and the parser keeps the last value of an option: every
 * one is collected here, the parser having checked the command line as a whole. */
static int collect_maps(cli *c, csv_args *a, int argc, char **argv)
{
	int rc;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--map") && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--map=", 6))
			v = argv[i] + 6;
		else if (!strcmp(argv[i], "--id-column") || !strcmp(argv[i], "--encoding") ||
		         !strcmp(argv[i], "--template"))
			i++; /* its value is no option */
		if (v && (rc = add_maps(c, a, v)))
			return rc;
	}
	return EXIT_OK;
}

/* `import-csv --template COLLECTION`: the header row of an empty file, on stdout. */
static int print_template(cli *c, const char *coll)
{
	const hm_collection_def *cd = hm_schema_collection(coll);
	char buf[4096];

	if (!cd || coll[0] == '_')
		return cli_fail(
		    c, EXIT_FAIL, "--template %s: %s (see `hamlet import-csv --help`)", coll,
		    cd ? "a system collection cannot be imported" : "unknown collection");
	if (hm_csv_template(cd, buf, sizeof(buf)) >= sizeof(buf))
		return cli_fail(c, EXIT_FAIL, "--template %s: the header is too long", coll);
	fputs(buf, stdout);
	return EXIT_OK;
}

static void progress(void *arg, size_t rows, bool done)
{
	cli *c = arg;
	if (cli_is_tty(stderr))
		fprintf(stderr, "\rhamlet: %s: %zu rows checked%s", c->cmd, rows, done ? "\n" : "");
	else if (!done)
		cli_warn(c, _("note"), "%zu rows checked", rows);
}

/* Read FILE and import it; the node opened here. */
static int import_file(cli *c, csv_args *a, const char *coll, const char *path)
{
	hm_csv_import_opts o = {.name = path,
	                        .map = a->maps,
	                        .nmap = a->nmaps,
	                        .id_column = a->id_column,
	                        .dry_run = a->dry_run,
	                        .skip_bad = a->skip_bad,
	                        .progress_arg = c};
	hm_csv_result res = {0};
	hm_node *n = NULL;
	char *buf = NULL;
	size_t len;
	int rc;
	hm_err err;

	if ((rc = csv_load(c, path, &buf, &len)))
		return rc;
	if (a->encoding && !strcmp(a->encoding, "gbk") && (rc = from_gbk(c, path, &buf, &len)))
		goto out;
	o.utf8_known = a->encoding != NULL;
	o.progress = cli_is_tty(stderr) || len > CSV_LARGE ? progress : NULL;
	if ((rc = cli_open(c, &n)))
		goto out;
	err = hm_csv_import(&c->led, coll, buf, len, &o, &res);
	if (res.note[0])
		cli_warn(c, _("warning"), "%s", res.note);
	rc = err ? cli_node_fail(c, n, err) : report(c, &res, a->dry_run, a->json);
out:
	hm_csv_result_release(&res);
	hm_node_close(n);
	free(buf);
	return rc;
}

int cmd_import_csv(cli *c, int argc, char **argv);
int cmd_import_csv(cli *c, int argc, char **argv)
{
	csv_args *a = &csv;
	char *pos[2];
	int npos, rc;

	memset(a, 0, sizeof(*a));
	CLI_PARSE_SPEC(&import_spec, pos, &npos);
	if ((rc = collect_maps(c, a, argc, argv)))
		goto out;
	if (a->encoding && strcmp(a->encoding, "gbk") && strcmp(a->encoding, "utf-8")) {
		rc =
		    cli_fail(c, EXIT_USAGE, "--encoding takes gbk or utf-8, not '%s'", a->encoding);
		goto out;
	}
	if (a->template) {
		rc = npos ? cli_fail(c, EXIT_USAGE, "--template takes no other argument: '%s'",
		                     pos[0])
		          : print_template(c, a->template);
		goto out;
	}
	if (npos < 2) {
		rc = cli_fail(c, EXIT_USAGE, "missing arguments (see `hamlet import-csv --help`)");
		cli_usage_note(c, &import_spec);
		goto out;
	}
	rc = import_file(c, a, pos[0], pos[1]);
out:
	for (size_t i = 0; i < a->nmap_text; i++)
		free(a->map_text[i]);
	return rc;
}
