/*
 * args.c - the one argument parser of every command: options (--name, --name=value, -x) and
 * positionals, --help generated from the command's table, and usage errors worded alike
 * everywhere.
 */
#include "cli.h"

#include <string.h>

/* "hamlet [-d DIR] PATH [OPTIONS] ARGS" into buf. */
static const char *usage_text(const cli_spec *s, char *buf, size_t cap)
{
	bool any = false;
	for (const cli_opt *o = s->opts; o && o->name; o++)
		any |= o->help != NULL;
	snprintf(buf, cap, "hamlet [-d DIR] %s%s%s%s", s->path, any ? " [OPTIONS]" : "",
	         s->args ? " " : "", s->args ? s->args : "");
	return buf;
}

void cli_usage_line(FILE *f, const cli_spec *s)
{
	char buf[512];
	fprintf(f, "usage: %s\n", usage_text(s, buf, sizeof(buf)));
}

void cli_usage_note(cli *c, const cli_spec *s)
{
	char buf[512];
	cli_warn(c, _("usage"), "%s", usage_text(s, buf, sizeof(buf)));
}

/* "  -o, --out FILE" into buf; returns its length. */
static int opt_label(const cli_opt *o, char *buf, size_t cap)
{
	int n = o->short_name ? snprintf(buf, cap, "  -%c, --%s", o->short_name, o->name)
	                      : snprintf(buf, cap, "      --%s", o->name);
	if (n < 0 || (size_t)n >= cap)
		return (int)cap - 1; /* cut: never written past buf */
	if (o->val)
		n += snprintf(buf + n, cap - (size_t)n, " %s", o->arg ? o->arg : "VALUE");
	return n;
}

void cli_help(FILE *f, const cli_spec *s)
{
	char label[96];
	int width = 12; /* "  -h, --help" */

	cli_usage_line(f, s);
	fprintf(f, "\n%s\n", _(s->summary));
	for (const cli_opt *o = s->opts; o && o->name; o++) {
		int n = o->help ? opt_label(o, label, sizeof(label)) : 0;
		width = n > width ? n : width;
	}
	width = width > 34 ? 34 : width;
	fputs("\noptions:\n", f);
	for (const cli_opt *o = s->opts; o && o->name; o++) {
		if (!o->help)
			continue;
		opt_label(o, label, sizeof(label));
		fprintf(f, "%-*s  %s\n", width, label, _(o->help));
	}
	fprintf(f, "%-*s  %s\n", width, "  -h, --help", _("this help"));
	if (s->more)
		fprintf(f, "\n%s", s->more);
}

static const cli_opt *opt_find(const cli_opt *opts, const char *a, const char **inline_val)
{
	*inline_val = NULL;
	for (const cli_opt *p = opts; p && p->name; p++) {
		size_t n = strlen(p->name);
		if (a[1] == '-' && !strncmp(a + 2, p->name, n) &&
		    (a[2 + n] == '\0' || (a[2 + n] == '=' && p->val))) {
			*inline_val = a[2 + n] == '=' ? a + 3 + n : NULL;
			return p;
		}
		if (a[1] != '-' && p->short_name && a[1] == p->short_name && a[2] == '\0')
			return p;
	}
	return NULL;
}

/* The parsing loop of cli_parse; help prints the command's help. */
static int parse(cli *c, const cli_opt *opts, int argc, char **argv, char **pos, int max_pos,
                 int *npos, void (*help)(const void *), const void *arg)
{
	*npos = 0;
	/* --json anywhere asks for JSON errors too, even of an argument before it. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		c->json |=
		    !strcmp(argv[i], "--json") && opt_find(opts, argv[i], &(const char *){0});
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const char *inline_val;
		const cli_opt *o;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help(arg);
			return ARGS_HELP;
		}
		if (!strcmp(a, "--")) {
			while (++i < argc && *npos < max_pos)
				pos[(*npos)++] = argv[i];
			if (i < argc)
				return cli_fail(c, EXIT_USAGE,
				                "too many arguments: '%s' (see `hamlet %s --help`)",
				                argv[i], c->cmd);
			break;
		}
		/* "-5" is a number (a quantity the ledger refuses with a reason), not an option */
		if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
			if (*npos >= max_pos)
				return cli_fail(c, EXIT_USAGE,
				                "too many arguments: '%s' (see `hamlet %s --help`)",
				                a, c->cmd);
			pos[(*npos)++] = a;
			continue;
		}
		if (!(o = opt_find(opts, a, &inline_val)))
			return cli_fail(c, EXIT_USAGE,
			                "unknown option '%s' (see `hamlet %s --help`)", a, c->cmd);
		if (o->flag) {
			*o->flag = true;
			continue;
		}
		if (!inline_val && i + 1 >= argc)
			return cli_fail(c, EXIT_USAGE, "option '%s' needs a value", a);
		*o->val = inline_val ? inline_val : argv[++i];
	}
	return EXIT_OK;
}

static void spec_help(const void *arg)
{
	cli_help(stdout, arg);
}

int cli_parse(cli *c, const cli_spec *s, int argc, char **argv, char **pos, int *npos)
{
	int rc = parse(c, s->opts, argc, argv, pos, s->max_pos, npos, spec_help, s);
	if (rc)
		return rc;
	if (*npos < s->min_pos) {
		cli_fail(c, EXIT_USAGE, "missing arguments (see `hamlet %s --help`)", s->path);
		cli_usage_note(c, s);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void cli_group_help(FILE *f, const command *cmd, const cli_verb *verbs)
{
	fprintf(f, "usage: hamlet [-d DIR] %s VERB [OPTIONS] ...\n\n%s\n\nverbs:\n", cmd->name,
	        _(cmd->summary));
	for (const cli_verb *v = verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, _(v->summary));
	fprintf(f, _("\n`hamlet %s VERB --help` tells more.\n"), cmd->name);
	if (cmd->more)
		fprintf(f, "\n%s", cmd->more);
}

int cli_group(cli *c, const cli_verb *verbs, int argc, char **argv)
{
	const command *cmd = hm_command(argv[0]);

	if (argc < 2) {
		char names[256] = "";
		for (const cli_verb *v = verbs; v->name; v++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			         v == verbs  ? ""
			         : v[1].name ? ", "
			                     : " or ",
			         v->name);
		return cli_fail(c, EXIT_USAGE, "which verb? %s (see `hamlet %s --help`)", names,
		                cmd->name);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_group_help(stdout, cmd, verbs);
		return EXIT_OK;
	}
	for (const cli_verb *v = verbs; v->name; v++) {
		if (strcmp(v->name, argv[1]) != 0)
			continue;
		snprintf(c->cmdbuf, sizeof(c->cmdbuf), "%s %s", cmd->name, v->name);
		c->cmd = c->cmdbuf;
		return v->run(c, argc - 1, argv + 1);
	}
	return cli_fail(c, EXIT_USAGE, "no verb '%s' (see `hamlet %s --help`)", argv[1], cmd->name);
}
