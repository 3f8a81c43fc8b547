/*
 * main.c - `hamlet [-d DIR] COMMAND ...`: global options, the environment, dispatch.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_fail(cli *c, int code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hamlet: %s: %s\n", c->cmd ? c->cmd : "error", msg);
	/* A script that asked for JSON reads the failure from stdout, as JSON. */
	if (c->json)
		cj_print(stdout, json_pack("{s:o, s:i}", "error", cj_cstr(msg), "exit", code));
	return code;
}

void cli_warn(cli *c, const char *kind, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hamlet: %s: %s: %s\n", c->cmd ? c->cmd : "-", kind, msg);
}

int cli_node_fail(cli *c, hm_node *n, hm_err err)
{
	const char *why = hm_node_errmsg(n);
	char buf[2048];

	/* A call that ran out of memory may have left no reason of its own: an earlier one
	 * ("no record ...") must not stand for it. */
	if (err == HM_ERR_NOMEM && !strstr(why, "out of memory"))
		why = hm_strerror(err);
	/* The node's message may quote what came from outside (an id, a field, a reason). */
	return cli_fail(c, EXIT_FAIL, "%s",
	                out_text_str(*why ? why : hm_strerror(err), buf, sizeof(buf)));
}

bool cli_is_tty(FILE *f)
{
	return isatty(fileno(f));
}

static void log_stderr(void *ctx, hm_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	cli *c = ctx;
	char buf[2048];
	if ((int)level > c->verbosity + 1)
		return;
	/* The library's messages may quote what came from outside (an id, a field, a reason):
	 * escaped here, once for every command and for serve's log. */
	msg = out_text_str(msg, buf, sizeof(buf));
	if (level == HM_LOG_ERROR && c->no_key_file && c->opening && strstr(msg, "sealed")) {
		/* A node whose key file is gone: say which file, not what the store could not do.
		 */
		fprintf(stderr,
		        "hamlet: %s: %s/node.key is missing: this node's records are sealed "
		        "and open only with it\n",
		        c->cmd ? c->cmd : "-", c->dir);
		return;
	}
	if (level == HM_LOG_ERROR && c->json)
		cli_fail(c, EXIT_FAIL, "%s", msg);
	else if (level == HM_LOG_ERROR)
		fprintf(stderr, "hamlet: %s: %s\n", c->cmd ? c->cmd : "-", msg);
	else
		fprintf(stderr, "hamlet: %s: %s: %s\n", c->cmd ? c->cmd : "-", names[level], msg);
}

static uint64_t offset_clock(void *ctx)
{
	cli *c = ctx;
	return hm_ledger_now_ms(&c->led);
}

int cli_open(cli *c, hm_node **out)
{
	int rc = cli_unlock(c, &c->keys);
	hm_err err;

	if (rc > 0)
		return rc;
	c->no_key_file = rc < 0;
	if (rc == 0) {
		c->opts.identity = &c->keys.ident;
		c->opts.storage_key = c->keys.storage_key;
	}
	c->opening = true;
	err = hm_node_open(c->dir, &c->opts, out);
	c->opening = false;
	c->led.node = err ? NULL : *out;
	/* The node keeps its own copy; ours goes now. */
	hm_keyfile_secrets_release(&c->keys);
	c->opts.identity = NULL, c->opts.storage_key = NULL;
	/* On failure hm_node_open has said why through our logger. */
	return err ? EXIT_FAIL : EXIT_OK;
}

static void usage(FILE *f)
{
	fputs("usage: hamlet [-d DIR] [-v] [--passphrase-file FILE] COMMAND [ARGS...]\n\n"
	      "A node of the county's epidemic-prevention ledger. DIR is the node directory\n"
	      "(default: $HAMLET_DIR, else ./hamlet-data).\n\ncommands:\n",
	      f);
	for (const command *c = hm_commands; c->name; c++)
		fprintf(f, "  %-13s %s\n", c->name, c->summary);
	fputs(
	    "\n`hamlet COMMAND --help` tells more. Exit status: 0 ok, 1 failure, 2 usage error.\n",
	    f);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	*out = strtoull(s, &end, 10);
	return *end == '\0';
}

/* Tuning and testing knobs read from the environment (documented in docs/cli.md). */
static int read_env(cli *c)
{
	const char *s;
	uint64_t v;

	if ((s = getenv("HAMLET_MAP_MAX"))) {
		if (!parse_u64(s, &v) || v < (1u << 16))
			return cli_fail(c, EXIT_USAGE,
			                "HAMLET_MAP_MAX must be a byte count >= 65536");
		c->opts.map_max = (size_t)v;
	}
	if ((s = getenv("HAMLET_MAP_INITIAL"))) {
		if (!parse_u64(s, &v) || v < (1u << 16))
			return cli_fail(c, EXIT_USAGE,
			                "HAMLET_MAP_INITIAL must be a byte count >= 65536");
		c->opts.map_initial = (size_t)v;
	}
	if ((s = getenv("HAMLET_MAX_DRIFT_MS"))) {
		if (!parse_u64(s, &v) || v == 0)
			return cli_fail(c, EXIT_USAGE,
			                "HAMLET_MAX_DRIFT_MS must be a positive number");
		c->opts.max_drift_ms = v;
	}
	if ((s = getenv("HAMLET_CLOCK_OFFSET_MS"))) {
		char *end;
		c->led.clock_offset_ms = strtoll(s, &end, 10);
		if (*end)
			return cli_fail(c, EXIT_USAGE, "HAMLET_CLOCK_OFFSET_MS must be a number");
		c->opts.clock = offset_clock;
		c->opts.clock_ctx = c;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {"passphrase-file", required_argument, NULL, 'P'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	cli c = {0};
	int ch, rc;

	c.dir = getenv("HAMLET_DIR");
	if (!c.dir || !*c.dir)
		c.dir = "./hamlet-data";
	/* '+': stop at the command, whose own options follow it; its errors are ours. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:d:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			c.dir = optarg;
			break;
		case 'v':
			c.verbosity++;
			break;
		case 'P':
			c.passphrase_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("hamlet 0.1.0\n");
			return EXIT_OK;
		case ':':
			fprintf(stderr, "hamlet: option '%s' needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "hamlet: unknown option '%s' (see `hamlet --help`)\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "hamlet: which command? (`hamlet --help` lists them)\n");
		return EXIT_USAGE;
	}
	cj_init();
	c.opts.log.fn = log_stderr;
	c.opts.log.ctx = &c;
	if (hm_crypto_init()) {
		fprintf(stderr, "hamlet: libsodium failed to initialise\n");
		return EXIT_FAIL;
	}
	for (const command *cmd = hm_commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) != 0)
			continue;
		c.cmd = cmd->name;
		if ((rc = read_env(&c)))
			return rc;
		argv[optind] = (char *)cmd->name;
		rc = cmd->run(&c, argc - optind, argv + optind);
		if (rc == EXIT_OK && cj_failed())
			rc = cli_fail(&c, EXIT_FAIL,
			              "out of memory: the output was not printed whole");
		if (fflush(stdout) != 0 || ferror(stdout))
			return cli_fail(&c, EXIT_FAIL, "writing the output failed");
		return rc;
	}
	fprintf(stderr, "hamlet: unknown command '%s' (`hamlet --help` lists them)\n",
	        argv[optind]);
	return EXIT_USAGE;
}
