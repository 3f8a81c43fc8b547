/*
 * report.c - `hamlet report NAME`: the options parsed, the report built by the ledger
 * (hm_report_build: every figure is the library's), its reading recorded in the access log, and
 * the model rendered by the ledger (hm_report_render) as text, CSV, JSON or HTML, on stdout or
 * into a new file.
 */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct report_args {
	const char *date, *region, *days, *person, *depth, *out;
	bool csv, json, html, show_pii, force;
} report_args;

static const char report_more[] =
    "Compute a report from the records this node holds, for one day (--date, default today)\n"
    "and one region (--region, default the node's): records placed in PATH or below it.\n"
    "Figures are per village, with a subtotal per township and a total for PATH. A region\n"
    "this node does not hold, or one inside its region with no record, is an error (exit 1).\n"
    "docs/reports.md defines every figure.\n\n"
    "reports:\n"
    "  daily       under monitoring by kind and reason, started and ended today, returnees\n"
    "              registered (today, to date, by origin), fevers found\n"
    "  monitoring  twice-daily check compliance, phone-only share, persons not seen for\n"
    "              --days N (default 2), fever alerts and whether anyone acted, contacts\n"
    "              of key persons with no temperature taken\n"
    "  contacts    exposures per village; with --person ID the contact graph from ID (to\n"
    "              --depth N, default unlimited); close contacts whose contacts are not\n"
    "              listed; second-degree contacts not under monitoring; chains by size, and\n"
    "              each chain as a tree of who infected whom\n"
    "  supplies    stock on hand per item and store, daily use over --days N (default 7),\n"
    "              days of cover, gap against requests, shipments, intercepted quantities\n"
    "  compounds   persons under monitoring per compound; compounds whose property\n"
    "              management or residents have not been told\n"
    "  rewards     tips verified, rewards owed and paid; penalties per village by state\n\n"
    "output: aligned text; --csv (each table after a line `# NAME`), --json, or --html (one\n"
    "self-contained page with bar charts, for opening offline and printing on A4). -o FILE\n"
    "writes it to a new FILE, readable by its owner only (0600; --force replaces an existing\n"
    "one), and records the export in the access log. Names are masked unless --show-pii,\n"
    "which is recorded in the access log (once, and only when the report is shown or its\n"
    "file created) first.\n\n"
    "examples:\n"
    "  hamlet report daily --date 2026-02-03 --region lin/east\n"
    "  hamlet report monitoring --days 3 --json\n"
    "  hamlet report contacts --person p-0012 --depth 2\n"
    "  hamlet report supplies --html -o supplies.html\n";

#define REPORT_OPTS 12 /* the options of report_spec and its end */

/* The option table over a, and the command it describes. */
static void report_spec(report_args *a, cli_opt *opts, cli_spec *s)
{
	const cli_opt o[] = {
	    {"date", 0, &a->date, NULL, "YYYY-MM-DD", N_("the day reported (default today)")},
	    {"region", 0, &a->region, NULL, "PATH", N_("the region reported (default the node's)")},
	    {"days", 0, &a->days, NULL, "N",
	     N_("monitoring (default 2), supplies (default 7): the window")},
	    {"person", 0, &a->person, NULL, "ID",
	     N_("contacts: the contact graph from this person")},
	    {"depth", 0, &a->depth, NULL, "N",
	     N_("contacts --person: how far (default unlimited)")},
	    {"csv", 0, NULL, &a->csv, NULL, N_("CSV: each table after a line `# NAME`")},
	    {"json", 0, NULL, &a->json, NULL, N_("JSON")},
	    {"html", 0, NULL, &a->html, NULL, N_("one self-contained HTML page")},
	    {"output", 'o', &a->out, NULL, "FILE",
	     N_("write to a new FILE (0600); an export on record")},
	    {"force", 0, NULL, &a->force, NULL, N_("with -o: replace an existing FILE")},
	    {"show-pii", 0, NULL, &a->show_pii, NULL,
	     N_("names in clear; recorded in the access log")},
	    {NULL, 0, NULL, NULL, NULL, NULL},
	};
	_Static_assert(sizeof(o) == REPORT_OPTS * sizeof(cli_opt), "REPORT_OPTS");
	memcpy(opts, o, sizeof(o));
	*s = (cli_spec){"report",
	                "NAME",
	                "the county's reports: daily, monitoring, contacts, "
	                "supplies, compounds, rewards",
	                opts,
	                report_more,
	                0,
	                1};
}

void cmd_report_help(FILE *f)
{
	report_args a;
	cli_opt opts[REPORT_OPTS];
	cli_spec s;
	report_spec(&a, opts, &s);
	cli_help(f, &s);
}

/* A whole number from min to max, or false. */
static bool parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool known_report(const char *name)
{
	for (const char *const *n = hm_report_names(); *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

/* Parse argv into a and p; the rest (what needs the ledger) the library checks. */
static int report_parse(cli *c, int argc, char **argv, report_args *a, hm_report_params *p)
{
	cli_opt opts[REPORT_OPTS];
	cli_spec spec;
	char *pos[1];
	int npos, rc;

	report_spec(a, opts, &spec);
	if ((rc = cli_parse(c, &spec, argc, argv, pos, &npos)))
		return rc; /* ARGS_HELP: the help is printed */
	if (npos == 0)
		return cli_fail(c, EXIT_USAGE, "which report? %s (see `hamlet report --help`)",
		                "daily, monitoring, contacts, supplies, compounds or rewards");
	if (!known_report(pos[0]))
		return cli_fail(
		    c, EXIT_USAGE,
		    "no report '%s': daily, monitoring, contacts, supplies, compounds or "
		    "rewards",
		    pos[0]);
	if (a->csv + a->json + a->html > 1)
		return cli_fail(c, EXIT_USAGE, "--csv, --json and --html are alternatives");
	if (a->days && !parse_count(a->days, 1, 3660, &p->days))
		return cli_fail(c, EXIT_USAGE, "--days must be a whole number from 1 to 3660");
	if (a->depth && !parse_count(a->depth, 0, 1000000, &p->depth))
		return cli_fail(c, EXIT_USAGE, "--depth must be a whole number, 0 or more");
	if (a->person && cli_id_arg(c, "--person", a->person))
		return EXIT_USAGE;
	p->name = pos[0];
	p->date = a->date, p->region = a->region, p->person = a->person;
	p->depth_set = a->depth != NULL;
	p->show_pii = a->show_pii;
	return EXIT_OK;
}

/* The access log entry, then the report: so the log never lacks a reveal that happened. */
static int report_access(cli *c, const hm_report *r, const report_args *a)
{
	hm_err err = hm_report_record_access(&c->led, r, a->out);
	const char *why = hm_node_errmsg(c->led.node);
	if (!err)
		return EXIT_OK;
	return cli_fail(c, EXIT_FAIL,
	                "could not record the %s in the access log (%s): nothing shown",
	                a->out ? _("export") : _("reveal"), *why ? why : hm_strerror(err));
}

/* The output file is created first (a missing folder or a file already there fails here, with
 * nothing recorded), then the access is recorded (if that fails the file is removed and nothing
 * is shown), then the report is written. So the access log never lacks a reveal that happened,
 * and holds one only for a report that was at least begun on the way to its reader. */
/* Write r to f as the options ask; the errno of a failure (ENOMEM: the JSON document could not
 * be built), or 0. */
static int report_render(const hm_report *r, const report_args *a, FILE *f)
{
	hm_report_format fmt = a->csv    ? HM_REPORT_FMT_CSV
	                       : a->json ? HM_REPORT_FMT_JSON
	                       : a->html ? HM_REPORT_FMT_HTML
	                                 : HM_REPORT_FMT_TEXT;
	hm_err err = hm_report_render(r, fmt, HM_REPORT_LOCAL, f);
	return !err ? 0 : err == HM_ERR_NOMEM ? ENOMEM : errno ? errno : EIO;
}

static int report_write(cli *c, const hm_report *r, const report_args *a)
{
	cli_outfile o = {0};
	int rc, e;

	if (a->out && (rc = cli_outfile_open(c, &o, a->out, a->force)))
		return rc;
	if ((rc = report_access(c, r, a))) {
		cli_outfile_close(c, &o, false);
		return rc;
	}
	if (!a->out) {
		if ((e = report_render(r, a, stdout)))
			return cli_fail(c, EXIT_FAIL, "cannot write the report: %s",
			                hm_strerrno(e));
		return EXIT_OK;
	}
	if ((e = report_render(r, a, o.f))) {
		cli_outfile_close(c, &o, false);
		return cli_fail(c, EXIT_FAIL, "cannot write %s: %s", a->out, hm_strerrno(e));
	}
	return cli_outfile_close(c, &o, true);
}

int cmd_report(cli *c, int argc, char **argv)
{
	report_args a = {0};
	hm_report_params p = {0};
	hm_report r = {0};
	hm_node *n = NULL;
	hm_err err;
	int rc;

	if ((rc = report_parse(c, argc, argv, &a, &p)))
		return rc == ARGS_HELP ? EXIT_OK : rc;
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_report_build(&c->led, &p, &r)))
		rc = err == HM_ERR_INVALID ? cli_fail(c, EXIT_USAGE, "%s", hm_node_errmsg(n))
		                           : cli_node_fail(c, n, err);
	else
		rc = report_write(c, &r, &a);
	hm_report_release(&r);
	hm_node_close(n);
	return rc;
}
