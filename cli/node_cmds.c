/*
 * node_cmds.c - the commands about the node as a whole: `init`, `export` and `import` of
 * bundles, `digest`, `status`, `log` and `check`. Each parses its options, opens the node, calls
 * node/ or sync/, and prints text or, with --json, one JSON document.
 */
#include "peers.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef cli_opt opt;

/* ---- init ---- */

int cmd_init(cli *c, int argc, char **argv)
{
	const char *role_s = NULL, *region = NULL, *name = NULL;
	bool json = false;
	opt opts[] = {
	    {"role", 0, &role_s, NULL, "ROLE", N_("county, township or village")},
	    {"region", 0, &region, NULL, "PATH",
	     N_("the node's region: lin, lin/east or lin/east/elm")},
	    {"name", 0, &name, NULL, "NAME", N_("the station's name, e.g. \"Elm village\"")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_role role;
	hm_node_id id;
	char path[4200], pass[1024], why[512];
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if (!role_s || !region || !name)
		return cli_fail(c, EXIT_USAGE, "--role, --region and --name are all required");
	{
		/* Checked before anything is created, so a refused init leaves nothing behind. */
		size_t len = strlen(name);
		bool printable = len > 0 && len <= HM_NAME_MAX;
		for (size_t i = 0; i < len; i++)
			printable &= (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
		if (!printable)
			return cli_fail(c, EXIT_USAGE, "--name must be 1 to %u printable bytes",
			                HM_NAME_MAX);
	}
	if (hm_role_parse(role_s, &role))
		return cli_fail(c, EXIT_USAGE,
		                "--role must be county, township or village, not '%s'", role_s);
	if (!hm_region_valid(region))
		return cli_fail(c, EXIT_USAGE,
		                "--region '%s' is not a region path like county/township/village "
		                "(1-3 parts of a-z, 0-9, _ and -)",
		                region);
	if ((int)role != hm_region_depth(region))
		return cli_fail(c, EXIT_USAGE, "a %s node's region has %d part(s); '%s' has %d",
		                hm_role_name(role), (int)role, region, hm_region_depth(region));
	cli_key_path(c, path, sizeof(path));
	if (access(path, F_OK) == 0) /* before asking for a passphrase */
		return cli_fail(c, EXIT_FAIL,
		                "'%s' already holds a hamlet node; nothing was changed", c->dir);
	if ((rc = cli_passphrase(c, true, pass, sizeof(pass))))
		return rc;
	err = hm_node_init(c->dir, role, region, name, pass, strlen(pass), &c->opts, &id, why,
	                   sizeof(why));
	hm_wipe(pass, sizeof(pass));
	if (err && why[0])
		return cli_fail(c, err == HM_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL, "%s", why);
	if (err) /* hm_node_create has said why through our logger */
		return err == HM_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
	if (json) {
		cj_print(stdout, json_pack("{s:o, s:s, s:o}", "node_id",
		                           hm_json_hex(id.b, HM_NODE_ID_BYTES), "role",
		                           hm_role_name(role), "region", hm_json_cstr(region)));
	} else {
		hm_text_node_id(stdout, &id);
		fputc('\n', stdout);
	}
	return EXIT_OK;
}

/* ---- export / import ---- */

int cmd_export(cli *c, int argc, char **argv)
{
	const char *out = NULL, *since_s = NULL, *to = NULL, *scope = NULL;
	bool json = false, force = false;
	opt opts[] = {
	    {"output", 'o', &out, NULL, "FILE", N_("the bundle file to write (created 0600)")},
	    {"since", 0, &since_s, NULL, "VERSION_VECTOR",
	     N_("only change sets beyond this version vector (ORIGIN:SEQ,...)")},
	    {"to", 0, &to, NULL, "NODE", N_("seal it for this one node only")},
	    {"scope", 0, &scope, NULL, "PATH",
	     N_("seal it for the holders of this township's key")},
	    {"force", 'f', NULL, &force, NULL, N_("replace FILE when it exists")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL, 0, NULL, NULL}};
	hm_recipient rcpt = {0};
	char *pos[1];
	int npos, rc;
	hm_vv since = {0};
	hm_node *n;
	hm_bundle_stats st;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if (!out)
		return cli_fail(c, EXIT_USAGE, "-o FILE is required");
	if (to && scope)
		return cli_fail(c, EXIT_USAGE, "--to and --scope are alternatives");
	if (to && hm_node_id_parse(to, &rcpt.node))
		return cli_fail(c, EXIT_USAGE, "--to must be a node id (32 hex digits)");
	if (scope && !hm_region_valid(scope))
		return cli_fail(c, EXIT_USAGE, "--scope '%s' is not a region path", scope);
	rcpt.to_node = to != NULL;
	if (scope)
		snprintf(rcpt.scope, sizeof(rcpt.scope), "%s", scope);
	if (since_s && hm_vv_parse(since_s, &since))
		return cli_fail(c, EXIT_USAGE,
		                "--since must be a version vector ORIGIN:SEQ,... as printed by "
		                "`hamlet status`");
	if ((rc = cli_open(c, &n))) {
		hm_vv_release(&since);
		return rc;
	}
	err = hm_bundle_export(n, since_s ? &since : NULL, out, force, to || scope ? &rcpt : NULL,
	                       &st);
	if (err) {
		char why[1024];
		rc = cli_fail(c, EXIT_FAIL, "%s",
		              out_text_str(hm_bundle_errmsg(), why, sizeof(why)));
	} else if (json) {
		cj_print(stdout,
		         json_pack("{s:o, s:I, s:I}", "file", hm_json_cstr(out), "changesets",
		                   (json_int_t)st.changesets, "bytes", (json_int_t)st.bytes));
	} else {
		printf("exported %zu change set%s (%zu bytes) to %s\n", st.changesets,
		       st.changesets == 1 ? "" : "s", st.bytes, out);
	}
	hm_vv_release(&since);
	hm_node_close(n);
	return rc;
}

static void import_progress(void *ctx, size_t done, size_t total)
{
	(void)ctx;
	if (total)
		fprintf(stderr, "\rhamlet: import: %zu/%zu change sets (%zu%%)", done, total,
		        done * 100 / total);
	if (done == total)
		fputc('\n', stderr);
}

int cmd_import(cli *c, int argc, char **argv)
{
	bool json = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_bundle_stats st;
	hm_err err;

	CLI_PARSE_CMD(opts, 1, 1);
	if ((rc = cli_open(c, &n)))
		return rc;
	err = hm_bundle_import(n, pos[0], cli_is_tty(stderr) ? import_progress : NULL, NULL, &st);
	if (err) {
		/* The message says whether anything was applied before the failure. */
		char buf[1024];
		const char *why = out_text_str(hm_bundle_errmsg(), buf, sizeof(buf));
		rc = cli_fail(c, EXIT_FAIL, "%s%s", why,
		              st.changesets || strstr(why, "nothing was imported") ||
		                      strstr(why, _("nothing was imported"))
		                  ? ""
		                  : _("; nothing was imported"));
	} else if (json) {
		cj_print(stdout,
		         json_pack(
		             "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "file",
		             hm_json_cstr(pos[0]), "changesets", (json_int_t)st.changesets, "new",
		             (json_int_t)st.apply.new_, "duplicate", (json_int_t)st.apply.duplicate,
		             "pending", (json_int_t)st.apply.pending, "quarantined",
		             (json_int_t)st.apply.quarantined, "refused",
		             (json_int_t)st.apply.refused, "forks", (json_int_t)st.apply.forks,
		             "ops", (json_int_t)st.apply.ops, "out_of_scope",
		             (json_int_t)st.out_of_scope, "certificates", (json_int_t)st.certs));
	} else {
		printf("imported %s: %zu new, %zu duplicate, %zu pending, %zu refused", pos[0],
		       st.apply.new_, st.apply.duplicate, st.apply.pending, st.apply.refused);
		if (st.apply.quarantined)
			printf(", %zu quarantined (clock ahead or no data key yet)",
			       st.apply.quarantined);
		if (st.apply.forks)
			printf(", %zu forks (an origin signed two versions of one change set)",
			       st.apply.forks);
		if (st.out_of_scope)
			printf(", %zu outside this node's area (not kept)", st.out_of_scope);
		putchar('\n');
	}
	hm_node_close(n);
	return rc;
}

/* ---- digest / status / log ---- */

int cmd_digest(cli *c, int argc, char **argv)
{
	const char *scope = NULL;
	bool json = false;
	opt opts[] = {{"scope", 0, &scope, NULL, "PATH", N_("only the records of region PATH")},
	              {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_hash h;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if (scope && !hm_region_valid(scope))
		return cli_fail(c, EXIT_USAGE, "--scope '%s' is not a region path", scope);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_digest(n, scope, &h))) {
		rc = cli_node_fail(c, n, err);
	} else if (json) {
		cj_print(stdout, json_pack("{s:o, s:o}", "digest", hm_json_hex(h.b, HM_HASH_BYTES),
		                           "scope", hm_json_cstr(scope)));
	} else {
		hm_text_hex(stdout, h.b, HM_HASH_BYTES);
		fputc('\n', stdout);
	}
	hm_node_close(n);
	return rc;
}

int cmd_status(cli *c, int argc, char **argv)
{
	bool json = false, probe = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"probe", 0, NULL, &probe, NULL,
	               N_("ask each peer how many change sets wait each way (3 s at most)")},
	              {NULL, 0, NULL, NULL}};
	char *pos[1], warning[256];
	int npos, rc;
	hm_status s;
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_status_read(&c->led, c->dir, probe, &s))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	if (hm_status_clock_warning(&s.clock, warning, sizeof(warning)))
		cli_warn(c, _("warning"), "%s", warning);
	if (!s.peers_loaded)
		cli_fail(c, EXIT_FAIL, "%s",
		         s.peers_error); /* said; the rest of the status stands */
	if (json && cj_print(stdout, hm_status_json(&s)))
		rc = cli_fail(c, EXIT_FAIL, "writing the status failed");
	else if (!json && hm_status_write(&s, now_ms(), stdout))
		rc = cli_fail(c, EXIT_FAIL, "writing the status failed");
out:
	hm_status_release(&s);
	hm_node_close(n);
	return rc;
}

int cmd_log(cli *c, int argc, char **argv)
{
	bool json = false;
	const char *since_s = NULL;
	json_t *arr;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"since", 0, &since_s, NULL, "VERSION_VECTOR",
	               N_("only change sets beyond this version vector (ORIGIN:SEQ,...)")},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_vv since = {0};
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if (since_s && hm_vv_parse(since_s, &since))
		return cli_fail(c, EXIT_USAGE, "--since must be a version vector ORIGIN:SEQ,...");
	if ((rc = cli_open(c, &n))) {
		hm_vv_release(&since);
		return rc;
	}
	if (json && !(err = hm_log_json(&c->led, since_s ? &since : NULL, &arr)))
		rc = cj_print(stdout, arr) ? cli_fail(c, EXIT_FAIL, "writing the log failed")
		                           : EXIT_OK;
	else if (json || (err = hm_log_write(&c->led, since_s ? &since : NULL, stdout)))
		rc = cli_node_fail(c, n, err);
	hm_vv_release(&since);
	hm_node_close(n);
	return rc;
}

/* Before the store is opened through LMDB (opening reads two trees): with --repair, an older
 * meta page damaged is written again, and a store whose damage loses nothing is written again
 * into a new file; then every page is walked, so that check names damage LMDB would stop on. */
static int check_before_open(cli *c, bool repair, bool json)
{
	char why[1024];
	bool fixed;
	hm_err err;
	int rc;

	if (repair) {
		if ((err = hm_store_meta_repair(c->dir, &fixed, why, sizeof(why))) &&
		    err != HM_ERR_NOT_FOUND)
			return cli_fail(c, EXIT_FAIL, "the store in %s: %s", c->dir, why);
		if (fixed)
			fprintf(stderr, "hamlet: check: %s\n", why);
		if ((rc = cli_keys_ready(c))) /* the new file's records are sealed with them */
			return rc;
		if ((err = hm_store_salvage(c->dir, &c->opts, &fixed, why, sizeof(why))) &&
		    err != HM_ERR_NOT_FOUND)
			return cli_fail(c, EXIT_FAIL, "the store in %s: %s", c->dir, why);
		if (fixed)
			fprintf(stderr, "hamlet: check: %s\n", why);
	}
	err = hm_store_pages_check_dir(c->dir, why, sizeof(why));
	if (err == HM_ERR_CORRUPT && json) {
		cj_print(stdout, json_pack("{s:b, s:o}", "ok", 0, "problem", hm_json_cstr(why)));
		return EXIT_FAIL;
	}
	if (err == HM_ERR_CORRUPT)
		return cli_fail(c, EXIT_FAIL, "%s", why);
	if (err && err != HM_ERR_NOT_FOUND)
		return cli_fail(c, EXIT_FAIL, "the store in %s: %s", c->dir, why);
	return EXIT_OK;
}

int cmd_check(cli *c, int argc, char **argv)
{
	bool json = false, repair = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"repair", 0, NULL, &repair, NULL,
	               N_("first rebuild the records and the conflict log from the oplog")},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = check_before_open(c, repair, json)))
		return rc;
	if ((rc = cli_open(c, &n)))
		return rc;
	err = repair ? hm_node_repair(n) : HM_OK;
	if (!err)
		err = hm_node_check(n);
	if (json) {
		cj_print(stdout, json_pack("{s:b, s:o}", "ok", !err, "problem",
		                           err ? hm_json_cstr(hm_node_errmsg(n)) : json_null()));
	} else if (!err) {
		printf(
		    "ok: %sthe oplog and the version vector agree, every change set verifies, and "
		    "the records equal a rebuild from the oplog\n",
		    repair ? "records rebuilt; " : "");
	}
	rc = err ? (json ? EXIT_FAIL : cli_node_fail(c, n, err)) : EXIT_OK;
	hm_node_close(n);
	return rc;
}
