/*
 * main.c - `hamlet [-d DIR] COMMAND ...`: global options, the environment, dispatch.
 */
#define _GNU_SOURCE /* REG_RIP: where a fault happened, for the crash handler */
#include "cli.h"

#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

/* The store a command has open (or is opening), for the crash guard below. */
static const char *store_dir, *store_cmd;

int cli_fail(cli *c, int code, const char *fmt, ...)
{
	char msg[4096], shown[4 * 4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	/* What a message quotes (a CSV header, a value, a peer's words) never drives the terminal:
	 * escaped here, for every message at once. */
	fprintf(stderr, "hamlet: %s: %s\n", c->cmd ? c->cmd : "error",
	        out_text_str(msg, shown, sizeof(shown)));
	/* A script that asked for JSON reads the failure from stdout, as JSON. */
	if (c->json)
		cj_print(stdout, json_pack("{s:o, s:i}", "error", hm_json_cstr(msg), "exit", code));
	return code;
}

void cli_warn(cli *c, const char *kind, const char *fmt, ...)
{
	char msg[4096], shown[4 * 4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	fprintf(stderr, "hamlet: %s: %s: %s\n", c->cmd ? c->cmd : "-", kind,
	        out_text_str(msg, shown, sizeof(shown)));
}

/* How far a damaged store still goes: the way back depends on it. */
enum damage { DAMAGE_RECORDS, DAMAGE_OPLOG, DAMAGE_OPEN };

/* A message already said the way back (the open guard's goes through the log). */
static bool way_back_said;

/* Say that the store in c->dir is damaged, and the way back (docs/reliability.md, "Damaged
 * media"): check --repair when the oplog is whole, else a new node restored from the hub. */
static void way_back(cli *c, enum damage d)
{
	if (way_back_said)
		return;
	way_back_said = true;
	if (d == DAMAGE_RECORDS)
		cli_fail(
		    c, EXIT_FAIL,
		    "the store in %s is damaged: `hamlet -d %s check --repair` rebuilds the "
		    "records from the oplog; if check still fails, make a new node and restore "
		    "it from the hub (docs/reliability.md, \"Damaged media\")",
		    c->dir, c->dir);
	else
		cli_fail(
		    c, EXIT_FAIL,
		    "the store in %s is damaged %s: make a new node and restore it from the hub "
		    "(docs/reliability.md, \"Damaged media\")",
		    c->dir,
		    d == DAMAGE_OPEN ? _("and does not open")
		                     : _("in its oplog, which check --repair cannot rebuild"));
}

int cli_node_fail(cli *c, hm_node *n, hm_err err)
{
	const char *why = hm_node_errmsg(n);
	char buf[2048];

	/* A call that ran out of memory may have left no reason of its own: an earlier one
	 * ("no record ...") must not stand for it. */
	if (err == HM_ERR_NOMEM && !strstr(why, _("out of memory")))
		why = hm_strerror(err);
	/* The node's message may quote what came from outside (an id, a field, a reason). */
	cli_fail(c, EXIT_FAIL, "%s", out_text_str(*why ? why : hm_strerror(err), buf, sizeof(buf)));
	/* The store itself is damaged: say the way back, unless the message did, and whether the
	 * oplog it would be rebuilt from is whole. Damaged: every failure of check, a value
	 * altered at rest, LMDB's word on its pages (HM_ERR_CORRUPT is also a bad file given from
	 * outside, whose message never quotes LMDB), and a store error the oplog confirms. */
	if (strstr(why, "docs/reliability.md") || strstr(why, "check --repair"))
		return EXIT_FAIL;
	if (strstr(why, _("the store was altered at rest")) ||
	    (c->cmd && !strcmp(c->cmd, "check")) ||
	    (err == HM_ERR_CORRUPT && (!*why || strstr(why, "MDB_"))))
		way_back(c, hm_node_check_log(n) == HM_OK ? DAMAGE_RECORDS : DAMAGE_OPLOG);
	else if (err == HM_ERR_STORE && hm_node_check_log(n) != HM_OK)
		way_back(c, DAMAGE_OPLOG);
	return EXIT_FAIL;
}

/* ---- a crash inside a damaged store ----
 *
 * LMDB keeps no checksums: a damaged page below the roots the open guard checks (node/guard.c)
 * can send it, or hamlet reading what it returned, outside the map (check reads every page
 * itself first, node/pages.c; other commands do not). While a store is open, a
 * SIGSEGV or SIGBUS (or LMDB's assertion, SIGABRT) ends the command with a message naming the
 * store and the way back, and exit status 1, instead of a crash; one outside the store's map while
 * a nanomsg socket is open says what nanomsg does when it cannot allocate memory instead. Only
 * async-signal-safe calls below (open, read, write). */

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing left to tell it with */
	}
}

static uintptr_t hex_field(const char **p)
{
	uintptr_t v = 0;
	for (;; (*p)++) {
		char ch = **p;
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
		        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		                                 : -1;
		if (d < 0)
			return v;
		v = v << 4 | (uintptr_t)d;
	}
}

/* Whether addr lies in a mapping of a file whose path holds name (/proc/self/maps). */
static bool in_map_named(uintptr_t addr, const char *name)
{
	char buf[4096 + 512];
	size_t have = 0;
	ssize_t got;
	bool found = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (!found && (got = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *nl;
		have += (size_t)got;
		buf[have] = '\0';
		while (!found && (nl = strchr(line, '\n'))) {
			const char *p = line;
			uintptr_t lo = hex_field(&p), hi = (*p == '-' ? p++, hex_field(&p) : 0);
			*nl = '\0';
			found = addr && addr >= lo && addr < hi && strstr(line, name);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have >= sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: not ours */
	}
	close(fd);
	return found;
}

/* A crash that is no damage of the store, with a nanomsg socket open: nanomsg stops the process
 * when it cannot allocate memory (SIGABRT after a line naming one of its files; at some points
 * a fault inside it first). */
static const char net_abort_why[] =
    ": stopped (SIGABRT) with a network socket open, not by LMDB. nanomsg, the network library, "
    "stops the process so when it cannot allocate memory: its line above then names one of its "
    "files, as \"Cannot allocate memory [12] (./src/utils/chunkref.c:55)\". If it does, free "
    "memory and run it again: nothing committed is lost, every batch is committed before it is "
    "acknowledged. If not, this is a bug: please report it with the lines above; `hamlet -d ";
static const char net_fault_why[] =
    ": stopped on a fault inside nanomsg, the network library, which it meets at some points "
    "when it cannot allocate memory: free memory and run it again; nothing committed is lost, "
    "every batch is committed before it is acknowledged. If memory was not short, this is a "
    "bug: please report it; `hamlet -d ";

static void net_crash(int sig)
{
	say("hamlet: ");
	say(store_cmd ? store_cmd : "-");
	say(sig == SIGABRT ? net_abort_why : net_fault_why);
	say(store_dir);
	say(" check` says whether the store is whole.\n");
	_exit(EXIT_FAIL);
}

/* Where the faulting instruction was, when this machine's context says (0: not known). */
static uintptr_t fault_ip(const void *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.pc;
#else
	(void)uc;
	return 0;
#endif
}

static void store_crash(int sig, siginfo_t *si, void *uc)
{
	/* an abort has no fault address; LMDB's assertions say so before they abort */
	bool in_map = sig != SIGABRT && in_map_named((uintptr_t)si->si_addr, "/data.mdb");
	bool lmdb = sig == SIGABRT && hm_node_lmdb_asserted();

	if (!in_map && !lmdb && hm_net_socket_count() > 0 &&
	    (sig == SIGABRT || in_map_named(fault_ip(uc), "/libnanomsg.")))
		net_crash(sig);
	say("hamlet: ");
	say(store_cmd ? store_cmd : "-");
	say(sig == SIGBUS    ? ": stopped on a bad read (SIGBUS"
	    : sig == SIGSEGV ? ": stopped on a bad read (SIGSEGV"
	                     : ": stopped by a failed internal check (SIGABRT");
	say(in_map ? " in the store's map)" : ")");
	say(" while using the store in ");
	say(store_dir);
	say(": the store is damaged. See docs/reliability.md, \"Damaged media\": `hamlet -d ");
	say(store_dir);
	say(" check` names the damage, `hamlet check --repair` rebuilds the records from the "
	    "oplog; or make a new node and restore it from the hub.");
	if (!in_map)
		say(" (If check passes on this store, this is a bug in hamlet: please report it.)");
	say("\n");
	_exit(EXIT_FAIL);
}

static void crash_guard_install(void)
{
	/* a stack of its own: a damaged tree can also mean a recursion that ran out of stack */
	static char alt[64 * 1024];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
	struct sigaction sa = {0};

	sa.sa_sigaction = store_crash;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) == 0) {
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		sigaction(SIGABRT, &sa, NULL); /* LMDB's assertions on what it read */
	}
}
#else
/* Sanitizer builds keep their own handlers, which say more. */
static void crash_guard_install(void)
{
}
#endif

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
	if (level == HM_LOG_ERROR && strstr(msg, "docs/reliability.md"))
		way_back_said = true;
	if (level == HM_LOG_ERROR && c->no_key_file && c->opening &&
	    (strstr(msg, "sealed") || strstr(msg, "node.key"))) {
		/* A node whose key file is gone: say which file, not what the store could not do.
		 */
		fprintf(stderr,
		        _("hamlet: %s: %s/node.key is missing: this node's records are sealed "
		          "and open only with it\n"),
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

int cli_keys_ready(cli *c)
{
	int rc;

	if (c->keys_held)
		return EXIT_OK;
	if ((rc = cli_unlock(c, &c->keys)) > 0)
		return rc;
	c->no_key_file = rc < 0;
	if (rc == 0) {
		c->opts.identity = &c->keys.ident;
		c->opts.storage_key = c->keys.storage_key;
	}
	c->keys_held = true;
	return EXIT_OK;
}

int cli_open(cli *c, hm_node **out)
{
	int rc = cli_keys_ready(c);
	hm_err err;

	if (rc)
		return rc;
	c->opening = true;
	if (!store_dir) {
		store_dir = c->dir, store_cmd = c->cmd;
		crash_guard_install();
	}
	err = hm_node_open(c->dir, &c->opts, out);
	c->opening = false;
	/* LMDB's own word on a damaged store (the guard's message names the way back itself) */
	if (err == HM_ERR_CORRUPT)
		way_back(c, DAMAGE_OPEN);
	c->led.node = err ? NULL : *out;
	/* The node keeps its own copy; ours goes now. */
	hm_keyfile_secrets_release(&c->keys);
	c->opts.identity = NULL, c->opts.storage_key = NULL, c->keys_held = false;
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
		fprintf(f, "  %-13s %s\n", c->name, _(c->summary));
	fputs(_("\n`hamlet COMMAND --help` tells more. Exit status: 0 ok, 1 failure, 2 usage "
	        "error.\n"),
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
	/* The least Argon2id that still needs memory: a new key file opens in a few ms, not 45 */
	static const hm_pwhash_params low = {HM_PWHASH_OPSLIMIT_MIN, 8u << 20};
	const char *s;
	uint64_t v;

	if ((s = getenv("HAMLET_KEY_COST"))) {
		if (strcmp(s, "low") != 0 && strcmp(s, "normal") != 0)
			return cli_fail(c, EXIT_USAGE, "HAMLET_KEY_COST must be low or normal");
		c->opts.key_cost = strcmp(s, "low") == 0 ? &low : NULL;
	}
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

/* A hamlet process holds the node's secret keys (and serve its passphrase, kept for restarts):
 * none of it may reach the disk or another process. No core dump is written, by a crash or a
 * SIGQUIT (under systemd-coredump one would land in /var/lib/systemd/coredump, which a stolen
 * laptop gives up with the rest), and no other process of the same account may read this one's
 * memory (ptrace, /proc/PID/mem): not dumpable. Sanitizer builds stay dumpable: LeakSanitizer
 * reads the process through ptrace. docs/security.md, "Secrets in memory". */
static void secrets_stay_in(void)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	const struct rlimit none = {0, 0};
	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
#endif
}

/* Messages in the user's language (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), from HAMLET_LOCALEDIR,
 * else the build tree's catalogue when this is the build tree's binary, else the installed one.
 * Numbers stay C: 37.5 is data, read and written with a point. */
static void cli_locale(void)
{
	char exe[4096] = "";
	const char *dir = getenv("HAMLET_LOCALEDIR");

	if (readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 && !strcmp(exe, HM_EXE_BUILD))
		dir = dir && *dir ? dir : HM_LOCALEDIR_BUILD;
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	bindtextdomain(HM_TEXTDOMAIN, dir && *dir ? dir : HM_LOCALEDIR);
	bind_textdomain_codeset(HM_TEXTDOMAIN, "UTF-8");
}

int cli_main(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {"passphrase-file", required_argument, NULL, 'P'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	cli c = {0};
	int ch, rc;

	secrets_stay_in();
	cli_locale();
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
			fprintf(stderr, _("hamlet: option '%s' needs a value\n"), argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, _("hamlet: unknown option '%s' (see `hamlet --help`)\n"),
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(_("hamlet: which command? (`hamlet --help` lists them)\n"), stderr);
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
	fprintf(stderr, _("hamlet: unknown command '%s' (`hamlet --help` lists them)\n"),
	        argv[optind]);
	return EXIT_USAGE;
}
