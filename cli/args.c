/*
 * args.c - the one argument parser of every command: options (--name, --name=value, -x) and
 * positionals, --help, and usage errors worded alike everywhere.
 */
#include "cli.h"

#include <string.h>

int cli_args_parse(cli *c, const char *usage, int argc, char **argv, const cli_opt *opts,
                   char **pos, int min_pos, int max_pos, int *npos)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const cli_opt *o = NULL;
		const char *inline_val = NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return ARGS_HELP;
		}
		if (!strcmp(a, "--")) {
			while (++i < argc && *npos < max_pos)
				pos[(*npos)++] = argv[i];
			if (i < argc)
				goto too_many;
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (*npos >= max_pos)
				goto too_many;
			pos[(*npos)++] = a;
			continue;
		}
		for (const cli_opt *p = opts; p && p->name; p++) {
			size_t n = strlen(p->name);
			if (a[1] == '-' && !strncmp(a + 2, p->name, n) &&
			    (a[2 + n] == '\0' || (a[2 + n] == '=' && p->val))) {
				o = p;
				inline_val = a[2 + n] == '=' ? a + 3 + n : NULL;
				break;
			}
			if (a[1] != '-' && p->short_name && a[1] == p->short_name && a[2] == '\0') {
				o = p;
				break;
			}
		}
		if (!o)
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
	if (*npos < min_pos)
		return cli_fail(c, EXIT_USAGE, "missing arguments; usage:\n%s", usage);
	return EXIT_OK;
too_many:
	return cli_fail(c, EXIT_USAGE, "too many arguments; usage:\n%s", usage);
}
