/*
 * person_cmds.c - reading about persons (`person show`, `person find`), one person registered
 * twice (`person dups`, `merge`, `unmerge`), the county's settings and `purge`. The rules are
 * the ledger's (ledger.h, Persons); this file parses, calls them and prints.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- person find ---- */

/* The access log is replicated: it says a search was made, not what for. */
static int find_reveal(cli *c, hm_node *n, const hm_person_query *q)
{
	char what[256];
	size_t count = 0;
	hm_err err = hm_person_find(&c->led, q, NULL, NULL, &count);

	if (err)
		return cli_node_fail(c, n, err);
	snprintf(what, sizeof(what), "person find%s%s%s%s%s%s%s", q->text ? " TEXT" : "",
	         q->village ? " --village " : "", q->village ? q->village : "",
	         q->category ? " --category " : "", q->category ? q->category : "",
	         q->compound ? " --compound " : "", q->id_number ? " --id-number" : "");
	return cli_record_access(c, n, "reveal", what, count);
}

static int person_find(cli *c, int argc, char **argv)
{
	hm_person_query q = {0};
	bool json = false, show_pii = false;
	const cli_opt opts[] = {
	    {"village", 0, &q.village, NULL, "PATH",
	     N_("living in this region (village, township)")},
	    {"category", 0, &q.category, NULL, "C", N_("returnee|close|second|case|other")},
	    {"compound", 0, &q.compound, NULL, "X", N_("living in this compound")},
	    {"id-number", 0, &q.id_number, NULL, "N", N_("by ID number (its keyed hash)")},
	    {"show-pii", 0, NULL, &show_pii, NULL, N_("names and phones in clear (logged)")},
	    {"json", 0, NULL, &json, NULL, N_("print a JSON array")},
	    {NULL}};
	const cli_spec spec = {
	    "person find",
	    "[TEXT]",
	    N_("search persons"),
	    opts,
	    "List persons whose id, code, name or phone holds TEXT, and who match every other\n"
	    "option. --id-number finds a person by the keyed hash of the number (the number "
	    "itself\n"
	    "is not searched in clear). Names and phones are masked unless --show-pii (recorded "
	    "in\n"
	    "the access log). A --village outside this node's region, or in which it knows no\n"
	    "person, is refused (exit 1).\n\n"
	    "example: hamlet person find Li --village lin/east/elm --category close\n",
	    0,
	    1};
	json_t *list;
	char *pos[1];
	size_t count = 0;
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	q.text = npos ? pos[0] : NULL;
	if (q.village && !hm_region_valid(q.village))
		return cli_fail(c, EXIT_USAGE, "--village '%s' is not a region", q.village);
	if ((rc = cli_open(c, &n)))
		return rc;
	/* A search for TEXT matches names and phones, masked or not: that it matched says
	 * something of a person, so it is logged too (one entry, not what was searched for). */
	if ((show_pii || q.text) && (rc = find_reveal(c, n, &q)))
		goto out;
	if (json && !(err = hm_person_find_json(&c->led, &q, !show_pii, &list, &count)))
		cj_print(stdout, list);
	else if (json || (err = hm_person_find_write(&c->led, &q, !show_pii, stdout, &count)))
		rc = cli_node_fail(c, n, err);
	else if (cli_is_tty(stdout))
		printf("(%zu person%s)\n", count, count == 1 ? "" : "s");
out:
	hm_node_close(n);
	return rc;
}

/* ---- person show ---- */

static int person_show(cli *c, int argc, char **argv)
{
	bool json = false, show_pii = false;
	const cli_opt opts[] = {
	    {"show-pii", 0, NULL, &show_pii, NULL, N_("personal fields in clear (logged)")},
	    {"json", 0, NULL, &json, NULL, N_("print one JSON object")},
	    {NULL}};
	const cli_spec spec = {
	    "person show",
	    "ID",
	    N_("a person with journeys, contacts, episodes, follow-ups"),
	    opts,
	    "Show a person with their journeys, contacts (both ways), episodes and follow-ups, "
	    "and\n"
	    "any open question about their identity (a name or ID number two stations changed at\n"
	    "once). Personal fields are masked unless --show-pii (recorded in the access log).\n",
	    1,
	    1};
	char *pos[1], what[256];
	hm_node *n = NULL;
	hm_record *p = NULL;
	json_t *doc = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = cli_id_arg(c, "ID", pos[0])) || (rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_get(n, "person", pos[0], &p))) {
		rc = err == HM_ERR_NOT_FOUND
		         ? cli_fail(c, EXIT_FAIL, "unknown person '%s' (see `hamlet person find`)",
		                    pos[0])
		         : cli_node_fail(c, n, err);
		goto out;
	}
	snprintf(what, sizeof(what), "person show %s", pos[0]);
	if (show_pii && (rc = cli_record_access(c, n, "reveal", what, 1)))
		goto out;
	if (json)
		err = hm_person_show_json(&c->led, p, !show_pii, &doc);
	else
		err = hm_person_show_write(&c->led, p, !show_pii, stdout);
	if (err)
		rc = cli_node_fail(c, n, err);
	else if (doc)
		cj_print(stdout, doc), doc = NULL;
out:
	json_decref(doc);
	hm_record_free(p);
	hm_node_close(n);
	return rc;
}

/* ---- duplicates and merges ---- */

static int person_dups(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print a JSON array of groups")},
	                        {NULL}};
	const cli_spec spec = {
	    "person dups",
	    NULL,
	    N_("persons registered twice (merge proposals)"),
	    opts,
	    "Find persons registered more than once: records whose ID numbers are the same\n"
	    "(compared by their keyed hash, never in clear), not yet merged nor kept apart. Each\n"
	    "group is a merge proposal: `hamlet person merge KEEP DROP` on a node whose region\n"
	    "holds both (their township, or the county), or `hamlet person apart KEEP DROP` when\n"
	    "they are two persons after all.\n",
	    0,
	    0};
	json_t *list;
	char *pos[1];
	size_t groups = 0;
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = cli_open(c, &n)))
		return rc;
	if (json && !(err = hm_person_dups_json(&c->led, &list, &groups)))
		cj_print(stdout, list);
	else if (json || (err = hm_person_dups_write(&c->led, stdout, &groups)))
		rc = cli_node_fail(c, n, err);
	hm_node_close(n);
	return rc;
}

/* A pair's answer: one person (merge), not after all (unmerge), or two persons (apart). */
enum pair_answer { PAIR_MERGE, PAIR_UNMERGE, PAIR_APART };

static int person_pair(cli *c, int argc, char **argv, enum pair_answer a)
{
	static const char *const names[] = {"person merge", "person unmerge", "person apart"};
	static const char *const summaries[] = {"record that two registrations are one person",
	                                        "undo a merge",
	                                        "record that two registrations are two persons"};
	static const char *const helps[] = {
	    "Merge: person DROP is the same person as KEEP (found by `hamlet person dups`); "
	    "reports\n"
	    "count them once and follow-ups of either belong to KEEP. Nothing is deleted, so\n"
	    "`unmerge` undoes it. Run it on a node whose region holds both persons' villages.\n",
	    "Unmerge: undo `person merge KEEP DROP`; the pair is proposed again by `person dups`.\n"
	    "Run it on a node whose region holds both persons' villages.\n",
	    "Keep apart: persons KEEP and DROP, proposed by `hamlet person dups` (the same ID\n"
	    "number), are two persons; the pair is no longer proposed, and a merge of them is\n"
	    "undone. `person merge KEEP DROP` merges them after all. Run it on a node whose "
	    "region\n"
	    "holds both persons' villages.\n"};
	static const char *const states[] = {"merged", "undone", "apart"};
	const char *reason = NULL;
	bool json = false;
	const cli_opt opts[] = {
	    {"reason", 0, &reason, NULL, "TEXT",
	     a == PAIR_APART ? N_("why they are two persons") : N_("why they are one person")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL}};
	const cli_spec spec = {
	    names[a], "KEEP DROP", summaries[a], a == PAIR_UNMERGE ? opts + 1 : opts, helps[a], 2,
	    2};
	hm_merge_result res;
	char *pos[2];
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = cli_id_arg(c, "KEEP", pos[0])) || (rc = cli_id_arg(c, "DROP", pos[1])))
		return rc;
	if (!strcmp(pos[0], pos[1]))
		return cli_fail(c, EXIT_FAIL, "KEEP and DROP are the same person");
	if ((rc = cli_open(c, &n)))
		return rc;
	err = a == PAIR_APART
	          ? hm_person_apart(&c->led, pos[0], pos[1], reason, &res)
	          : hm_person_merge(&c->led, pos[0], pos[1], reason, a == PAIR_UNMERGE, &res);
	if (err)
		rc = cli_node_fail(c, n, err);
	else if (json)
		cj_print(stdout, json_pack("{s:o, s:s, s:I}", "merge", hm_json_cstr(res.id),
		                           "state", states[a], "seq", (json_int_t)res.info.seq));
	else if (a == PAIR_APART)
		printf(_("kept %s apart from %s (merge %s, change set %llu)\n"), pos[1], pos[0],
		       res.id, (unsigned long long)res.info.seq);
	else if (a == PAIR_UNMERGE)
		printf(_("unmerged %s from %s (merge %s, change set %llu)\n"), pos[1], pos[0],
		       res.id, (unsigned long long)res.info.seq);
	else
		printf(_("merged %s into %s (merge %s, change set %llu)\n"), pos[1], pos[0], res.id,
		       (unsigned long long)res.info.seq);
	hm_node_close(n);
	return rc;
}

static int person_unmerge(cli *c, int argc, char **argv)
{
	return person_pair(c, argc, argv, PAIR_UNMERGE);
}

static int person_apart(cli *c, int argc, char **argv)
{
	return person_pair(c, argc, argv, PAIR_APART);
}

static int person_merge_do(cli *c, int argc, char **argv)
{
	return person_pair(c, argc, argv, PAIR_MERGE);
}

int cmd_person(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"show", person_show, N_("a person with journeys, contacts, episodes, follow-ups")},
	    {"find", person_find, N_("search persons")},
	    {"dups", person_dups, N_("persons registered twice (merge proposals)")},
	    {"merge", person_merge_do, N_("record that two registrations are one person")},
	    {"unmerge", person_unmerge, N_("undo a merge")},
	    {"apart", person_apart, N_("record that two registrations are two persons")},
	    {NULL, NULL, NULL}};
	/* add and edit are field verbs (the verb table); these are the person's own */
	return cli_field_group(c, verbs, argc, argv);
}

/* ---- settings ---- */

/* "Known settings (default):" and one line each, from the ledger's table. */
static const char *setting_more(void)
{
	static char buf[2048];
	size_t n, len;
	const hm_setting_def *s = hm_ledger_settings(&n);

	len = (size_t)snprintf(buf, sizeof(buf),
	                       "The county's settings, which reach every node by sync. Set them on "
	                       "the county node.\nKnown settings (default):\n");
	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "  %-16s %-11s %s\n",
		                        s[i].name, s[i].dflt, s[i].meaning);
	return buf;
}

static int setting_set(cli *c, hm_node *n, const char *name, const char *value, bool json)
{
	hm_changeset_info info;
	hm_err err = hm_ledger_setting_set(&c->led, name, value, &info);

	if (err)
		return cli_node_fail(c, n, err);
	if (json)
		cj_print(stdout, json_pack("{s:o, s:I}", "setting", hm_json_cstr(name), "seq",
		                           (json_int_t)info.seq));
	else
		printf("%s = %s (change set %" PRIu64 ")\n", name, value, info.seq);
	return EXIT_OK;
}

int cmd_setting(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print JSON")}, {NULL}};
	const cli_spec spec = {"setting", "list | set NAME VALUE", N_("the county's settings"),
	                       opts,      setting_more(),          1,
	                       3};
	char *pos[3], why[512];
	json_t *o;
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!((npos == 1 && !strcmp(pos[0], "list")) || (npos == 3 && !strcmp(pos[0], "set")))) {
		cli_fail(c, EXIT_USAGE, "say `list` or `set NAME VALUE`");
		cli_usage_note(c, &spec);
		return EXIT_USAGE;
	}
	if (npos == 3 && (err = hm_ledger_setting_check(pos[1], pos[2], why, sizeof(why))))
		return cli_fail(c, err == HM_ERR_SCHEMA ? EXIT_USAGE : EXIT_FAIL, "%s", why);
	if ((rc = cli_open(c, &n)))
		return rc;
	if (npos == 3) {
		rc = setting_set(c, n, pos[1], pos[2], json);
		goto out;
	}
	if (json && !(err = hm_ledger_settings_json(&c->led, &o)))
		cj_print(stdout, o);
	else if (json || (err = hm_ledger_settings_write(&c->led, stdout)))
		rc = cli_node_fail(c, n, err);
out:
	hm_node_close(n);
	return rc;
}

/* ---- purge ---- */

int cmd_purge(cli *c, int argc, char **argv)
{
	const char *before = NULL;
	bool json = false, dry = false;
	const cli_opt opts[] = {
	    {"ended-before", 0, &before, NULL, "DATE", N_("(required) monitoring ended before it")},
	    {"dry-run", 0, NULL, &dry, NULL, N_("list who would be purged, change nothing")},
	    {"json", 0, NULL, &json, NULL, N_("print JSON")},
	    {NULL}};
	const cli_spec spec = {
	    "purge",
	    NULL,
	    N_("clear personal fields of persons whose monitoring ended"),
	    opts,
	    "Clear the personal fields (those the schema marks personal: name, ID number, phone,\n"
	    "address, and the ID hash) of every person whose monitoring ended before the date:\n"
	    "every episode of theirs has ended, and before it. The clearing reaches every "
	    "replica;\n"
	    "the records, their counts and every signature stay (docs/privacy.md says exactly "
	    "what\n"
	    "remains).\n",
	    0,
	    0};
	hm_purge_plan plan = {0};
	size_t writes = 0;
	char *pos[1];
	hm_node *n = NULL;
	hm_err err;
	int npos, rc;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!before) {
		cli_fail(c, EXIT_USAGE, "say --ended-before YYYY-MM-DD");
		cli_usage_note(c, &spec);
		return EXIT_USAGE;
	}
	if (!hm_date_valid(before))
		return cli_fail(c, EXIT_USAGE, "--ended-before must be a date YYYY-MM-DD");
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_purge_plan_make(&c->led, before, &plan)))
		rc = err == HM_ERR_INVALID
		         ? cli_fail(c, EXIT_FAIL, "--ended-before %s", hm_node_errmsg(n))
		         : cli_node_fail(c, n, err);
	else if (!dry && (err = hm_purge_apply(&c->led, &plan, &writes)))
		rc = writes ? cli_fail(c, EXIT_FAIL,
		                       "%s; %zu write%s of the purge were made and stand: run it "
		                       "again to finish",
		                       hm_node_errmsg(n), writes, writes == 1 ? "" : "s")
		            : cli_node_fail(c, n, err);
	else if (json)
		cj_print(stdout, hm_purge_json(&plan, dry, writes));
	else
		hm_purge_write(&plan, dry, writes, stdout);
	hm_purge_plan_release(&plan);
	hm_node_close(n);
	return rc;
}
