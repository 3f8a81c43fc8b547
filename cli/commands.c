/*
 * commands.c - the table of `hamlet`'s commands: name, function, one-line summary, and the text
 * of its --help beyond what the option table gives (positionals, paragraphs, examples); and
 * `hamlet help`, which prints exactly what `hamlet COMMAND [VERB] --help` prints.
 */
#include "cli.h"

#include <string.h>

static int cmd_help(cli *c, int argc, char **argv);

const command *hm_command(const char *name)
{
	for (const command *c = hm_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cli_parse_cmd(cli *c, const cli_opt *opts, int min_pos, int max_pos, int argc, char **argv,
                  char **pos, int *npos)
{
	const command *cmd = hm_command(argv[0]);
	cli_spec s = {cmd->name, cmd->args, cmd->summary, opts, cmd->more, min_pos, max_pos};
	return cli_parse(c, &s, argc, argv, pos, npos);
}

/* `hamlet help X [Y]`: run X [Y] --help, so the two cannot differ. */
static int cmd_help(cli *c, int argc, char **argv)
{
	const command *cmd;
	char *args[4];
	int n = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs("usage: hamlet help COMMAND [VERB]\n\nPrint the help of COMMAND (or of VERB "
		      "of a "
		      "command group), exactly as `hamlet COMMAND [VERB] --help` does.\n",
		      stdout);
		return EXIT_OK;
	}
	if (argc > 3)
		return cli_fail(c, EXIT_USAGE,
		                "too many arguments (usage: hamlet help COMMAND [VERB])");
	if (!(cmd = hm_command(argv[1])) || cmd->run == cmd_help)
		return cli_fail(c, EXIT_USAGE, "no command '%s' (`hamlet --help` lists them)",
		                argv[1]);
	args[n++] = (char *)cmd->name;
	if (argc == 3)
		args[n++] = argv[2];
	args[n++] = "--help";
	args[n] = NULL;
	c->cmd = cmd->name;
	return cmd->run(c, n, args);
}

const command hm_commands[] = {
    {"init", cmd_init, N_("create a node: its id, role and region"), NULL, NULL,
     "Create a new node in DIR and print its id. PATH is the node's region, one part per level:\n"
     "a county node `lin`, a township `lin/east`, a village `lin/east/elm`.\n"
     "\n"
     "example: hamlet -d elm init --role village --region lin/east/elm --name \"Elm village\"\n"},
    {"put", cmd_put, N_("write fields of a record (one change set)"), NULL,
     "COLLECTION ID FIELD=VALUE...",
     "Set fields of record ID. Values are typed by the schema (text, numbers, dates\n"
     "YYYY-MM-DD, times YYYY-MM-DDTHH:MM, regions a/b/c). FIELD+=N and FIELD-=N change a\n"
     "counter; FIELD= clears an optional field. A new record gets its region field "
     "(person.village,\n"
     "stock.site, ...) from the node's region unless given. All fields go into one change set.\n"
     "\n"
     "`hamlet schema list` names every collection and field (and the words a field allows).\n"
     "The field commands (`hamlet person add`, `hamlet followup add`, ...) are the usual way in.\n"
     "\n"
     "examples:\n"
     "  hamlet put person p-0012 name=\"Li Wei\" phone=13800000000 arrival_date=2026-11-20\n"
     "  hamlet put followup f-0012-1 person=p-0012 time=2026-11-21T08:30 temperature=36.8\n"
     "  hamlet put stock masks item=N95 unit=piece quantity+=500\n"},
    {"person", cmd_person, N_("register, edit, show, find and merge persons"),
     "usage: hamlet [-d DIR] person add|edit|show|find|dups|merge|unmerge ...\n"
     "\n"
     "`hamlet person VERB --help` tells more.\n"},
    {"return", cmd_field, N_("record a returnee's journey"),
     "usage: hamlet [-d DIR] return add PERSON [--FIELD VALUE...]\n"},
    {"contact", cmd_field, N_("record a contact between two persons"),
     "usage: hamlet [-d DIR] contact add SOURCE CONTACT [--degree 1|2] [--mode MODE]\n"},
    {"episode", cmd_field, N_("start, extend and end isolation or monitoring"),
     "usage: hamlet [-d DIR] episode start|extend|end ...\n"},
    {"followup", cmd_field, N_("record a temperature check or visit"),
     "usage: hamlet [-d DIR] followup add PERSON --temp T --method visit|phone|self\n"},
    {"checkpoint", cmd_field, N_("record a checkpoint shift's tally"),
     "usage: hamlet [-d DIR] checkpoint tally CHECKPOINT --shift 1|2|3 ...\n"},
    {"stock", cmd_field,
     N_("supplies: receive, issue, transfer, intercept, consume, count, request"),
     "usage: hamlet [-d DIR] stock VERB ITEM QUANTITY --store S ...\n"},
    {"tip", cmd_field, N_("tip-offs: add, verify, pay"),
     "usage: hamlet [-d DIR] tip add|verify|pay ...\n"},
    {"site", cmd_field, N_("register isolation points, clinics, checkpoints, stores"),
     "usage: hamlet [-d DIR] site add --name NAME --kind KIND ...\n"},
    {"notice", cmd_field, N_("record that a compound was told"),
     "usage: hamlet [-d DIR] notice add COMPOUND --audience property|residents\n"},
    {"penalty", cmd_field, N_("record a returnee a village missed"),
     "usage: hamlet [-d DIR] penalty add PERSON ...\n"},
    {"setting", cmd_setting, N_("the county's settings (rewards, penalties, fever threshold)"),
     "usage: hamlet [-d DIR] setting list|set ...\n"},
    {"schema", cmd_schema, N_("the collections and fields; the county adds fields"), NULL, NULL,
     NULL},
    {"user", cmd_user, N_("the accounts of this station's people (its web interface)"), NULL, NULL,
     NULL},
    {"purge", cmd_purge, N_("clear personal fields of persons whose monitoring ended"),
     "usage: hamlet [-d DIR] purge --ended-before YYYY-MM-DD [--dry-run] [--json]\n"},
    {"get", cmd_get, N_("show one record"), NULL, "COLLECTION ID",
     "Print the fields of one record. Personal fields (names, ID numbers, phones, addresses)\n"
     "are masked; --show-pii shows them and records who saw what in the access log.\n"
     "A record is its collection, id and region: when two villages use one id, --region names\n"
     "which (without it, the one in this node's own region, else an error listing them).\n"},
    {"list", cmd_list, N_("list the records of a collection"), NULL, "COLLECTION",
     "Print every live record of COLLECTION in id order, or those whose FIELD equals VALUE.\n"
     "Personal fields are masked unless --show-pii (recorded in the access log).\n"},
    {"del", cmd_del, N_("delete a record"), NULL, "COLLECTION ID",
     "Delete a record. A delete clears the fields written before it everywhere; a field\n"
     "written after it (on any node) brings the record back. Append-only collections\n"
     "(followup) are never deleted: add a correcting record instead.\n"},
    {"move", cmd_move, N_("move a record to another region (a township or the county)"), NULL,
     "COLLECTION ID",
     "Move a record to another village: a new record at REGION with its current values and a\n"
     "delete of the old one, in one write. A record belongs to its region, and no station\n"
     "writes outside its own, so only a node whose region holds both (their township, or\n"
     "the county) can move it: a village clerk asks the township. The records that refer to\n"
     "it (follow-ups, episodes, contacts) stay where they were written.\n"
     "\n"
     "example: hamlet -d east move person p-0012 --to lin/east/oak\n"},
    {"import-csv", cmd_import_csv, N_("bulk-import a register from a CSV file (all rows or none)"),
     NULL, NULL, NULL},
    {"export", cmd_export, N_("write change sets to a bundle file"), NULL, NULL,
     "Write the change sets this node holds to FILE, all of them or only those beyond\n"
     "VERSION_VECTOR (ORIGIN:SEQ,... as `hamlet status` prints it on the receiving node).\n"
     "The file is sealed: each change set encrypted for the recipient - every node of this\n"
     "county by default, one node (--to NODE), or the holders of a township's key (--scope\n"
     "county/township) - and the whole signed by this node, with a checksum frame at the end so\n"
     "a copy cut short is detected on import.\n"},
    {"import", cmd_import, N_("apply a bundle file"), NULL, "FILE",
     "Verify FILE whole, then apply its change sets. Prints how many were new, duplicate\n"
     "(already held), pending (waiting for an earlier change set of their origin) and refused.\n"
     "A damaged or truncated file is refused entirely and nothing changes.\n"},
    {"digest", cmd_digest, N_("print the state digest"), NULL, NULL,
     "Print a hash of the current state: equal on replicas holding the same change sets.\n"
     "--scope limits it to the records of region PATH.\n"},
    {"status", cmd_status, N_("node id, role, region, counts, version vector"), NULL, NULL,
     "Node id, role, region, records, keys, change sets, conflicts, the version vector, and each\n"
     "peer's last success and failure and the change sets waiting to be sent. --probe contacts\n"
     "each peer (3 s at most) and asks how many change sets wait each way, moving nothing.\n"},
    {"log", cmd_log, N_("list the change sets held"), NULL, NULL, NULL},
    {"blame", cmd_blame, N_("who set each field of a record, and what lost"), NULL, "COLLECTION ID",
     "For each field: its value, the change set (origin:seq) and clock that set it, and the\n"
     "values of other nodes that lost to it.\n"},
    {"conflicts", cmd_conflicts, N_("values overwritten by other nodes' writes"), NULL,
     "[COLLECTION ID]",
     "Values that lost to another node's write. Personal values are masked unless --show-pii\n"
     "(recorded in the access log).\n"},
    {"check", cmd_check, N_("verify the store end to end (--repair rebuilds the records)"), NULL,
     NULL,
     "Check that every origin's change sets run 1..seq with an unbroken hash chain matching\n"
     "the version vector, that every change set verifies again (signature, certificate,\n"
     "revocation, region), and that every record opens and equals a rebuild from the oplog\n"
     "(a trial: nothing changes). Exit 0 when all holds, 1 with the first problem.\n"
     "\n"
     "Before any of it, every page of every tree of data.mdb is read as LMDB lays it out, so\n"
     "that a damaged page is named instead of stopping LMDB.\n"
     "\n"
     "--repair first rebuilds the records and the conflict log from the oplog: the way back\n"
     "from a record damaged at rest. Before that (with every other process stopped): an older\n"
     "LMDB meta page damaged while the last commit is whole is written again from it; damaged\n"
     "pages that lose nothing (of the records, or keys that only guide LMDB's search) are left\n"
     "behind by writing data.mdb again into a new file, the old one kept beside it as\n"
     "data.mdb.damaged-TIME. A damaged oplog cannot be rebuilt here: make a new node and\n"
     "import its region from the hub (docs/running.md).\n"},
    {"enroll", cmd_enroll, N_("join the county's network (request, sign, accept)"), NULL, NULL,
     "Enrollment by files carried by hand. On the new node, `request` writes its public keys,\n"
     "role and region, signed. On the county (or a township allowed to enroll villages of\n"
     "its township: --may-enroll when the county enrolls that township), `sign` checks the\n"
     "request and writes a certificate (valid --days, default 730) with the root key and the\n"
     "data keys the node is entitled to. On the new node, `accept` verifies and installs it;\n"
     "--root pins the county's root key (from `hamlet status` on the county).\n"},
    {"revoke", cmd_revoke, N_("shut a node out from a seq on (county)"), NULL, "NODE",
     "On the county: change sets of NODE with seq above N are refused everywhere, whatever\n"
     "clock they claim, and withdrawn where already held. The data keys of NODE's township and\n"
     "of the county move to a new epoch that NODE never receives.\n"},
    {"audit", cmd_audit, N_("verify every change set held; exit 1 with findings"), NULL, NULL,
     "Re-verify every stored change set: signature, certificate, hash chain, revocation,\n"
     "region, clock; report per origin (role, region, seq range, gaps, last heard from) and\n"
     "every finding (bad signatures, broken chains, equivocation, writes outside scope,\n"
     "activity after revocation, clock anomalies). Exit 0 when clean, 1 with findings.\n"
     "--sign writes the report signed by the county (verify it with `verify-report`).\n"},
    {"verify-report", cmd_verify_report, N_("check a signed audit report"), NULL, "REPORT",
     "Check that REPORT was signed by the county whose root key is HEX and is unaltered.\n"
     "Needs no node.\n"},
    {"serve", cmd_serve, N_("serve peers and sync with configured ones (the daemon)"), NULL, NULL,
     "Answer sync sessions from many peers at once on each URL of --listen, and sync with\n"
     "each configured peer (`hamlet peer add`) every SECONDS (default 60), retrying a link that\n"
     "is down with exponential backoff and jitter (within 5 s, then doubling to 10 minutes).\n"
     "--limit-rate caps each scheduled sync as `sync --limit-rate` does. Logs to stderr\n"
     "with timestamps and levels; stops cleanly on SIGTERM or SIGINT after the request in hand.\n"
     "Peer outcomes are in DIR/peers.state (shown by `peer list --json`). A hub whose villages\n"
     "reach it over links with round trips near a second or more (2G, satellite) listens on a\n"
     "ws:// URL too, e.g. --listen tcp://0.0.0.0:7000,ws://0.0.0.0:7001, and those villages\n"
     "sync with the ws:// one (tcp:// cuts the opening exchange at 1 s, ws:// at 5 s).\n"},
    {"ui", cmd_ui, N_("the station's web interface, Chinese first, on 127.0.0.1"), NULL, NULL,
     "Serve the station's own screen from this process until SIGTERM or SIGINT, the key\n"
     "unlocked once at start. Log in at http://ADDR:PORT/login with an account of\n"
     "`hamlet user add`. Only loopback unless --any-address. `hamlet serve --ui ADDR:PORT`\n"
     "runs it beside the sync daemon.\n"},
    {"sync", cmd_sync, N_("sync now with a peer or URL"), NULL, "PEER|URL",
     "One mutually authenticated, encrypted session: exchange version vectors, send what the\n"
     "peer lacks and may hold, receive what this node lacks and may hold, each batch committed\n"
     "before it is acknowledged. Batches fit the link (a few seconds each). --limit-rate caps\n"
     "the bytes moved both ways to BYTES_PER_S on average (suffix k: KiB, m: MiB; at least\n"
     "1024), to leave a shared link to others. A peer that accepts no connection fails at\n"
     "once, one that does not answer in 5 s fails then. Progress on stderr (rate, time left);\n"
     "--json prints a summary. URL is tcp://HOST:PORT, ws://HOST:PORT (for a round trip near\n"
     "a second or more) or ipc://PATH.\n"},
    {"peer", cmd_peer, N_("configure peers (add, list, remove)"), NULL, NULL, NULL},
    {"report", cmd_report, N_("the county's reports: daily, monitoring, contacts, supplies, ..."),
     NULL, NULL, NULL},
    {"help", cmd_help, N_("help on a command (as COMMAND --help)"), NULL, "COMMAND [VERB]", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
