/* test_args.c - the one parser of every command (cli/args.c): values given as `--opt V`,
 * `--opt=V` and `-o V`, flags, positionals and their bounds, `--` and negative numbers, unknown
 * options and missing values refused with exit 2, --json anywhere, and the --help text generated
 * from the same option table (every listed option with its value's name, the hidden one not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static const char *temp, *method, *json_s;
static bool dry, json;

static const cli_opt opts[] = {{"temp", 't', &temp, NULL, "CELSIUS", "the temperature taken"},
                               {"method", 0, &method, NULL, NULL, "visit, phone or self"},
                               {"dry-run", 'n', NULL, &dry, NULL, "write nothing"},
                               {"json", 0, NULL, &json, NULL, "print JSON"},
                               {"secret", 0, &json_s, NULL, NULL, NULL}, /* accepted, not listed */
                               {NULL}};
static const cli_spec spec = {
    "followup add", "PERSON [ID]", "record a check", opts, "More words.\n", 1, 2};

static int run(cli *c, char **pos, int *npos, int argc, ...)
{
	char *argv[16];
	va_list ap;

	temp = method = json_s = NULL, dry = json = false;
	memset(c, 0, sizeof(*c));
	c->cmd = "followup add";
	va_start(ap, argc);
	argv[0] = "add";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return cli_parse(c, &spec, argc, argv, pos, npos);
}

static void test_values(void **state)
{
	cli c;
	char *pos[2];
	int n;
	(void)state;

	assert_int_equal(run(&c, pos, &n, 5, "p-1", "--temp", "36.5", "--dry-run"), EXIT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(pos[0], "p-1");
	assert_string_equal(temp, "36.5");
	assert_true(dry);
	assert_int_equal(run(&c, pos, &n, 4, "--method=phone", "p-1", "f-9"), EXIT_OK);
	assert_string_equal(method, "phone");
	assert_int_equal(n, 2);
	assert_string_equal(pos[1], "f-9");
	assert_int_equal(run(&c, pos, &n, 5, "-t", "37.1", "-n", "p-2"), EXIT_OK);
	assert_string_equal(temp, "37.1");
	assert_true(dry);
	/* a negative number is a value, not an option; after "--" everything is */
	assert_int_equal(run(&c, pos, &n, 3, "p-1", "-5"), EXIT_OK);
	assert_string_equal(pos[1], "-5");
	assert_int_equal(run(&c, pos, &n, 4, "--", "--temp", "x"), EXIT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(pos[0], "--temp");
	assert_null(temp);
	/* the hidden option still parses */
	assert_int_equal(run(&c, pos, &n, 3, "p-1", "--secret=s"), EXIT_OK);
	assert_string_equal(json_s, "s");
}

static void test_refused(void **state)
{
	cli c;
	char *pos[2];
	int n;
	(void)state;

	assert_int_equal(run(&c, pos, &n, 3, "p-1", "--tmp"), EXIT_USAGE);      /* unknown */
	assert_int_equal(run(&c, pos, &n, 3, "p-1", "--temp"), EXIT_USAGE);     /* no value */
	assert_int_equal(run(&c, pos, &n, 4, "a", "b", "c"), EXIT_USAGE);       /* too many */
	assert_int_equal(run(&c, pos, &n, 2, "--dry-run"), EXIT_USAGE);         /* too few */
	assert_int_equal(run(&c, pos, &n, 5, "--", "a", "b", "c"), EXIT_USAGE); /* too many */
	/* --json anywhere, even after the bad argument, asks for the error as JSON */
	assert_int_equal(run(&c, pos, &n, 4, "--bad", "p-1", "--json"), EXIT_USAGE);
	assert_true(c.json);
	assert_int_equal(run(&c, pos, &n, 3, "--bad", "p-1"), EXIT_USAGE);
	assert_false(c.json);
}

static void test_help(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cli c;
	char *pos[2];
	int n;
	(void)state;

	assert_non_null(f);
	cli_help(f, &spec);
	fclose(f);
	assert_non_null(strstr(text, "usage: hamlet"));
	assert_non_null(strstr(text, "followup add"));
	assert_non_null(strstr(text, "PERSON [ID]"));
	assert_non_null(strstr(text, "record a check"));
	assert_non_null(strstr(text, "--temp CELSIUS"));
	assert_non_null(strstr(text, "-t"));
	assert_non_null(strstr(text, "--method VALUE"));
	assert_non_null(strstr(text, "--dry-run"));
	assert_non_null(strstr(text, "write nothing"));
	assert_null(strstr(text, "--secret")); /* not listed */
	assert_non_null(strstr(text, "More words."));
	free(text);
	/* --help and -h stop the parse wherever they stand */
	assert_int_equal(run(&c, pos, &n, 3, "p-1", "--help"), ARGS_HELP);
	assert_int_equal(run(&c, pos, &n, 3, "-h", "--tmp"), ARGS_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
