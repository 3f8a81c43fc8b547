/*
 * cli.h - internals of the `hamlet` command. Only cli/ talks to the terminal: it reads argv and
 * the environment, prints results to stdout and errors to stderr as "hamlet: COMMAND: reason".
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
#ifndef HM_CLI_H
#define HM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "i18n.h" /* _(): messages in the user's language */
#include "ledger.h"
#include "sync.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The `hamlet` command, whole: what main() runs (cli/hamlet.c); returns the exit code. */
int cli_main(int argc, char **argv);

typedef struct cli {
	const char *dir; /* node directory */
	const char *cmd; /* the command being run, for messages */
	hm_node_opts opts;
	int verbosity; /* 0 warnings and errors, 1 info, 2 debug */
	const char *passphrase_file;
	const char *kept_passphrase; /* serve keeps it for the syncs it runs as child processes */
	hm_keyfile_secrets keys;     /* unlocked by cli_open; wiped at exit */
	bool keys_held;              /* keys unlocked into opts, for the next cli_open */
	bool no_key_file, opening;   /* for the message of a node whose node.key is gone */
	hm_ledger led;   /* the ledger over the open node; its clock set from the start */
	bool json;       /* the command was asked for JSON: its errors are JSON on stdout too */
	char cmdbuf[64]; /* "GROUP VERB", where cmd points while a verb of a group runs */
} cli;

typedef struct command {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
	const char *summary;
	const char *usage; /* a --help text written whole; NULL when generated from args and more */
	const char *args;  /* positionals as the usage line shows them; may be NULL */
	const char *more;  /* paragraphs after the options in --help; may be NULL */
} command;

/* commands.c: the table, and the commands' functions (in cmds.c, node_cmds.c, ...) */
extern const command hm_commands[];
const command *hm_command(const char *name);
int cmd_init(cli *c, int argc, char **argv);
int cmd_put(cli *c, int argc, char **argv);
int cmd_get(cli *c, int argc, char **argv);
int cmd_list(cli *c, int argc, char **argv);
int cmd_del(cli *c, int argc, char **argv);
int cmd_move(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_digest(cli *c, int argc, char **argv);
int cmd_status(cli *c, int argc, char **argv);
int cmd_log(cli *c, int argc, char **argv);
int cmd_blame(cli *c, int argc, char **argv);
int cmd_conflicts(cli *c, int argc, char **argv);
int cmd_check(cli *c, int argc, char **argv);
int cmd_enroll(cli *c, int argc, char **argv);
int cmd_revoke(cli *c, int argc, char **argv);
int cmd_audit(cli *c, int argc, char **argv);
int cmd_verify_report(cli *c, int argc, char **argv);
int cmd_peer(cli *c, int argc, char **argv);
int cmd_sync(cli *c, int argc, char **argv);
int cmd_serve(cli *c, int argc, char **argv);
int cmd_import_csv(cli *c, int argc, char **argv);
int cmd_report(cli *c, int argc, char **argv);
int cmd_ui(cli *c, int argc, char **argv);
/* ui_cmds.c: a session's idle time, s seconds of option flag (NULL: *ms 0, the default), in ms.
 * EXIT_OK, or EXIT_USAGE reported. */
int cli_ui_idle(cli *c, const char *flag, const char *s, uint64_t *ms);
/* ui_cmds.c: start the web interface over n on listen (web.h), under lock (may be NULL), its
 * URL said on stderr; idle_ms 0: the default. EXIT_OK, or a reported failure. */
struct hm_web;
int cli_ui_start(cli *c, hm_node *n, const char *listen, bool any, uint64_t idle_ms,
                 pthread_mutex_t *lock, struct hm_web **out);

/* Report an error as "hamlet: CMD: message" and return the exit code. */
int cli_fail(cli *c, int code, const char *fmt, ...) HM_PRINTF(3, 4);
/* A warning or a note on stderr, as "hamlet: CMD: warning: message" (kind "warning" or
 * "note"); never a failure. */
void cli_warn(cli *c, const char *kind, const char *fmt, ...) HM_PRINTF(3, 4);
/* Report the node's last error (or err's text) as a failure; returns EXIT_FAIL. */
int cli_node_fail(cli *c, hm_node *n, hm_err err);
/* Open the node of c->dir or report why not. */
int cli_open(cli *c, hm_node **out);
/* Unlock the node's keys into c->opts (identity and storage key) ahead of cli_open, which then
 * uses them: for a command that needs them before the store opens (check --repair). */
int cli_keys_ready(cli *c);
bool cli_is_tty(FILE *f);

/* args.c: the one argument parser, as git's parse-options: each command describes its options
 * in a table, and its usage line and --help are generated from the table, so they cannot drift
 * apart. An option is a flag (flag set) or takes a value (val set). */
typedef struct cli_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 for none */
	const char **val; /* set for options that take a value */
	bool *flag;       /* set for flags */
	const char *arg;  /* what the value is, for --help ("FILE", "N"); NULL: "VALUE" */
	const char *help; /* one line for --help; NULL: the option is not listed */
} cli_opt;

/* A command: its place ("sync", "person find"), its positionals as the usage line shows them
 * ("PEER|URL", "[ID...]"), a one-line summary, the options (ended by {NULL}), and paragraphs
 * shown after the options. --help and -h are every command's. */
typedef struct cli_spec {
	const char *path;
	const char *args;    /* may be NULL */
	const char *summary; /* one line */
	const cli_opt *opts; /* may be NULL */
	const char *more;    /* may be NULL */
	int min_pos, max_pos;
} cli_spec;

#define ARGS_HELP (-1)

/* Print the command's help: usage line, summary, options, more. */
void cli_help(FILE *f, const cli_spec *s);
/* Print the usage line alone ("usage: hamlet [-d DIR] PATH [OPTIONS] ARGS"); on stderr, as
 * cli_usage_note does ("hamlet: PATH: usage: hamlet ..."). */
void cli_usage_line(FILE *f, const cli_spec *s);
void cli_usage_note(cli *c, const cli_spec *s);
/* Parse argv[1..] (argv[0] is the command, or the verb of a command group) into the options of
 * s and at most s->max_pos positionals. Returns EXIT_OK, EXIT_USAGE (reported, naming c->cmd)
 * or ARGS_HELP (help printed to stdout). A flag named "json" also sets c->json, so that errors
 * of the command are JSON too. */
int cli_parse(cli *c, const cli_spec *s, int argc, char **argv, char **pos, int *npos);
/* In a command: parse, and return from it on help or a usage error. */
#define CLI_PARSE_SPEC(spec, pos, npos)                                                            \
	do {                                                                                       \
		int prc_ = cli_parse(c, spec, argc, argv, pos, npos);                              \
		if (prc_)                                                                          \
			return prc_ == ARGS_HELP ? EXIT_OK : prc_;                                 \
	} while (0)

/* cli_parse with the spec of command argv[0] from the table and the options opts. */
int cli_parse_cmd(cli *c, const cli_opt *opts, int min_pos, int max_pos, int argc, char **argv,
                  char **pos, int *npos);
/* In a command of the table: parse into pos/npos, and return on help or a usage error. */
#define CLI_PARSE_CMD(opts, min, max)                                                              \
	do {                                                                                       \
		int prc_ = cli_parse_cmd(c, opts, min, max, argc, argv, pos, &npos);               \
		if (prc_)                                                                          \
			return prc_ == ARGS_HELP ? EXIT_OK : prc_;                                 \
	} while (0)

/* A command group (enroll, peer, ...): its verbs, each run with argv[0] the verb. */
typedef struct cli_verb {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
	const char *summary;
} cli_verb;
/* Run the verb argv[1] of the group argv[0] (a command of the table), c->cmd naming both
 * ("enroll sign") for its messages. No verb: the group's help on stderr, EXIT_USAGE; --help:
 * on stdout; an unknown verb: EXIT_USAGE naming the verbs. */
int cli_group(cli *c, const cli_verb *verbs, int argc, char **argv);
/* The help of a group: usage line, summary, its verbs, the table's more. */
void cli_group_help(FILE *f, const command *cmd, const cli_verb *verbs);

/* keys.c: the key file and its passphrase */
int cli_passphrase(cli *c, bool confirm, char *buf, size_t cap);
void cli_key_path(const cli *c, char *out, size_t cap);
/* Another secret than the node's passphrase (a person's password, named what in messages):
 * one line of standard input when it is not a terminal, else asked on the terminal without
 * echo (question), a second time when twice. EXIT_OK, or a reported failure (buf wiped). */
int cli_secret(cli *c, const char *what, const char *question, bool twice, char *buf, size_t cap);

/* Unlock DIR/node.key into *keys: EXIT_OK, a reported failure, or -1 when there is none. */
int cli_unlock(cli *c, hm_keyfile_secrets *keys);

/* The ledger's commands: field_cmds.c (every verb of field work) and person_cmds.c. */
int cmd_field(cli *c, int argc, char **argv);
/* A group of field verbs (argv[0]), with extra verbs of its own (may be NULL): as cli_group. */
int cli_field_group(cli *c, const cli_verb *extra, int argc, char **argv);
int cmd_person(cli *c, int argc, char **argv);
int cmd_setting(cli *c, int argc, char **argv);
int cmd_purge(cli *c, int argc, char **argv);
int cmd_schema(cli *c, int argc, char **argv);
int cmd_user(cli *c, int argc, char **argv);

/* access.c: the ledger's shared rules, as the commands report them */
/* Whether id, given as WHAT (an argument or option), is a record id by the one id rule
 * (hm_id_check): EXIT_OK, or EXIT_USAGE reported. An id is refused, never cut to fit. */
int cli_id_arg(cli *c, const char *what, const char *id);
/* hm_ledger_record_access, reported: EXIT_OK or EXIT_FAIL with the reason; on failure the
 * caller must not show the data. */
int cli_record_access(cli *c, hm_node *n, const char *action, const char *what, size_t records);

/* outfile.c: a file written for the user (-o) or for this node (peers): created 0600 and
 * exclusive, never replacing an existing file unless force (then written beside it and renamed
 * over it when whole). Open, write to o.f, then close with keep (false, or any failure: what
 * was created is removed). Both return EXIT_OK or a reported failure. */
typedef struct cli_outfile {
	FILE *f;
	const char *path; /* borrowed */
	char tmp[4200];   /* with force: where it is written until it is whole */
} cli_outfile;
int cli_outfile_open(cli *c, cli_outfile *o, const char *path, bool force);
int cli_outfile_close(cli *c, cli_outfile *o, bool keep);
/* The whole file at path into *out (owned by the caller: free; *len bytes and a NUL after
 * them), at most max bytes: EXIT_OK, a reported failure (cannot open or read it, a directory,
 * out of memory), or -1 when it is larger than max (the caller says so in its words). */
int cli_read_file(cli *c, const char *path, size_t max, char **out, size_t *len);
/* p[0..n) as the whole of a new file, as above. */
int cli_write_file(cli *c, const char *path, const void *p, size_t n, bool force);

/* out.c: formatting. Text that came from outside (values, ids, names, field names, reasons)
 * is printed only through the ledger's hm_text_* (ledger.h, "Text shown to people"), out_text*
 * or cj_print: control characters (C0, DEL, C1), bidi overrides and isolates, line separators
 * and bytes that are not UTF-8 are shown escaped (\n, \x1b, \u202e), never sent to the terminal. */
void out_text(FILE *f, const char *s, size_t n);
void out_text_cstr(FILE *f, const char *s);
/* s escaped as out_text prints it into buf (cut at a whole character); returns buf. */
const char *out_text_str(const char *s, char *buf, size_t cap);
/* JSON values built with jansson (a new reference, NULL only when memory ran out; every
 * jansson function that steals a reference takes NULL). Text that is not UTF-8 shows its bad
 * bytes as U+FFFD; hm_json_cstr(NULL) is null. cj_print writes v compact on one line, with DEL, C1,
 * bidi controls and line separators escaped as \uXXXX, and releases v; 0, or -1 when it could
 * not be written. */
int cj_print(FILE *f, json_t *v);
/* Route jansson's allocations through ours (main calls it first), and whether one failed: then
 * cj_print refuses to print (-1, errno ENOMEM) and the command fails "out of memory". */
void cj_init(void);
bool cj_failed(void);
#endif
