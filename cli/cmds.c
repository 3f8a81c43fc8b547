/*
 * cmds.c - the commands of `hamlet`. Each parses its own arguments (parse_args), opens the node,
 * calls node/ or sync/, and prints text or, with --json, one JSON document.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

typedef cli_opt opt;

/* ---- init ---- */

/* mkdir -p for the node directory, so the key file can go in before the store. The first
 * directory it had to make goes into made ("" when DIR was there already), so that a refused
 * init can take away what it made. */
static int make_dir(cli *c, char made[4096])
{
	char path[4096];
	size_t len = strlen(c->dir);

	made[0] = '\0';

	if (len == 0 || len >= sizeof(path))
		return cli_fail(c, EXIT_USAGE, "the directory name is empty or too long");
	memcpy(path, c->dir, len + 1);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char was = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			if (!made[0])
				memcpy(made, path, strlen(path) + 1);
		} else if (errno != EEXIST) {
			return cli_fail(c, EXIT_FAIL, "cannot create %s: %s", path,
			                hm_strerrno(errno));
		}
		if (!(*p = was))
			break;
	}
	return EXIT_OK;
}

/* A refused init leaves nothing behind: when make_dir made DIR (made is the first directory it
 * made), everything in it is ours: the key file, the store's files, and the directories from
 * DIR up to made. (A DIR that was there is left as it was: the caller removes its own key.) */
static void init_undo(cli *c, const char *made)
{
	static const char *const files[] = {"node.key", "data.mdb", "lock.mdb"};
	char path[4200];
	size_t top = strlen(made), len;

	if (!top)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s", c->dir);
	while ((len = strlen(path)) > top && path[len - 1] == '/')
		path[len - 1] = '\0';
	for (len = strlen(path); len >= top; len = strlen(path)) {
		char *slash;
		if (rmdir(path) != 0 || len == top || !(slash = strrchr(path, '/')))
			break;
		*slash = '\0';
	}
}

/* New keys for a new node, sealed into DIR/node.key under a passphrase asked twice. */
static int create_keys(cli *c, hm_keyfile_secrets *keys, char made[4096])
{
	char path[4200], pass[1024];
	int rc;
	hm_err err;

	memset(keys, 0, sizeof(*keys));
	if ((rc = make_dir(c, made)))
		return rc;
	cli_key_path(c, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return cli_fail(c, EXIT_FAIL,
		                "'%s' already holds a hamlet node; nothing was changed", c->dir);
	if ((rc = cli_passphrase(c, true, pass, sizeof(pass))))
		return rc;
	if ((err = hm_identity_init(&keys->ident))) {
		hm_wipe(pass, sizeof(pass));
		return cli_fail(c, EXIT_FAIL, "cannot make keys: %s", hm_strerror(err));
	}
	hm_random_bytes(keys->storage_key, sizeof(keys->storage_key));
	keys->has_storage_key = 1;
	err = hm_keyfile_write(path, &keys->ident, keys->storage_key, pass, strlen(pass), NULL);
	hm_wipe(pass, sizeof(pass));
	if (err) {
		hm_keyfile_secrets_release(keys);
		return cli_fail(c, EXIT_FAIL, "cannot write the key file %s: %s", path,
		                hm_strerror(err));
	}
	return EXIT_OK;
}

int cmd_init(cli *c, int argc, char **argv)
{
	const char *role_s = NULL, *region = NULL, *name = NULL;
	bool json = false;
	opt opts[] = {{"role", 0, &role_s, NULL, "ROLE", "county, township or village"},
	              {"region", 0, &region, NULL, "PATH",
	               "the node's region: lin, lin/east or lin/east/elm"},
	              {"name", 0, &name, NULL, "NAME", "the station's name, e.g. \"Elm village\""},
	              {"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_role role;
	hm_node_id id;
	hm_keyfile_secrets keys;
	hm_err err;
	char made[4096];

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
	if ((rc = create_keys(c, &keys, made))) {
		init_undo(c, made);
		return rc;
	}
	c->opts.identity = &keys.ident;
	c->opts.storage_key = keys.storage_key;
	err = hm_node_create(c->dir, role, region, name, &c->opts, &id);
	c->opts.identity = NULL, c->opts.storage_key = NULL;
	hm_keyfile_secrets_release(&keys);
	if (err) { /* hm_node_create has said why through our logger */
		char path[4200];
		cli_key_path(c, path, sizeof(path));
		unlink(path); /* ours: create_keys made it exclusively */
		init_undo(c, made);
		return err == HM_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
	}
	if (json) {
		cj_print(stdout,
		         json_pack("{s:o, s:s, s:o}", "node_id", cj_hex(id.b, HM_NODE_ID_BYTES),
		                   "role", hm_role_name(role), "region", cj_cstr(region)));
	} else {
		out_node_id(stdout, &id);
		fputc('\n', stdout);
	}
	return EXIT_OK;
}

/* ---- put / del ---- */

static int print_changeset(const hm_changeset_info *info, bool json, const char *what)
{
	if (json) {
		cj_print(stdout,
		         json_pack("{s:o, s:I, s:o, s:I, s:I, s:I}", "origin",
		                   cj_hex(info->origin.b, HM_NODE_ID_BYTES), "seq",
		                   (json_int_t)info->seq, "id", cj_hex(info->id.b, HM_HASH_BYTES),
		                   "hlc", (json_int_t)info->hlc, "ops", (json_int_t)info->nops,
		                   "bytes", (json_int_t)info->bytes));
	} else {
		printf("%s in change set %" PRIu64 " (", what, info->seq);
		out_hex(stdout, info->id.b, 8);
		printf(")\n");
	}
	return EXIT_OK;
}

/* A max field only moves up (planned_end: extended, never shortened): a lower value would be
 * written and then lose, so it is refused here, where someone typed it. */
static int max_not_lower(cli *c, hm_node *n, const char *coll, const char *id,
                         const hm_field_def *f, const hm_value *v)
{
	hm_record *r;
	const hm_field *held;
	int rc = EXIT_OK;

	if (hm_node_get(n, coll, id, &r))
		return EXIT_OK;
	held = hm_record_field(r, f->name);
	if (held && held->value.kind == HM_V_STR &&
	    (v->kind != HM_V_STR ||
	     memcmp(v->u.s.p, held->value.u.s.p,
	            v->u.s.n < held->value.u.s.n ? v->u.s.n : held->value.u.s.n) < 0))
		rc = cli_fail(c, EXIT_FAIL,
		              "%s.%s only moves later: '%.*s' is before its %.*s (it would lose)",
		              coll, f->name, v->kind == HM_V_STR ? (int)v->u.s.n : 0,
		              v->kind == HM_V_STR ? v->u.s.p : "", (int)held->value.u.s.n,
		              held->value.u.s.p);
	hm_record_free(r);
	return rc;
}

static int put_field(cli *c, hm_node *n, hm_write *w, const char *coll, const char *id, char *arg)
{
	char *eq = strchr(arg, '='), fname[HM_NAME_MAX + 1];
	const hm_collection_def *cd = hm_schema_collection(coll);
	hm_field_def fdef;
	const hm_field_def *f = &fdef;
	hm_value v;
	const char *why;
	hm_err err;
	int rc;

	if (!eq || eq == arg)
		return cli_fail(c, EXIT_USAGE, "'%s' is not FIELD=VALUE or FIELD+=N", arg);
	if (eq[-1] == '+' || (eq[-1] == '-' && eq - 1 > arg)) {
		bool minus = eq[-1] == '-';
		char *end;
		long long delta;
		eq[-1] = '\0';
		delta = strtoll(eq + 1, &end, 10);
		if (!eq[1] || *end)
			return cli_fail(c, EXIT_USAGE, "'%s%c=%s': N must be a whole number", arg,
			                minus ? '-' : '+', eq + 1);
		err = hm_write_add(w, coll, id, arg, minus ? -delta : delta);
	} else {
		*eq = '\0';
		if ((err = hm_node_field(n, cd, arg, &fdef, fname)))
			return err == HM_ERR_SCHEMA
			           ? cli_fail(c, EXIT_FAIL, "collection '%s' has no field '%s'",
			                      coll, arg)
			           : cli_node_fail(c, n, err);
		if (f->merge == HM_MERGE_COUNTER)
			return cli_fail(c, EXIT_FAIL,
			                "%s.%s is a counter: change it with %s+=N or %s-=N", coll,
			                arg, arg, arg);
		if (eq[1] == '\0' && f->required)
			return cli_fail(c, EXIT_FAIL, "%s.%s is required and cannot be empty", coll,
			                arg);
		if (eq[1] == '\0')
			v.kind = HM_V_NIL; /* FIELD= clears an optional field */
		else if ((err = hm_value_parse(f, eq + 1, &v, &why)) ||
		         (err = hm_ledger_check(cd, f, &v, &why)))
			return cli_fail(c, EXIT_FAIL, "%s.%s must be %s, not '%s'", coll, arg, why,
			                eq + 1);
		if (f->merge == HM_MERGE_MAX && (rc = max_not_lower(c, n, coll, id, f, &v)))
			return rc;
		err = hm_write_set(w, coll, id, arg, &v);
	}
	return err ? cli_node_fail(c, n, err) : EXIT_OK;
}

/* Commit w (consumed) and say which change set it became. */
static int commit_write(cli *c, hm_node *n, hm_write *w, bool json, const char *verb,
                        const char *coll, const char *id)
{
	hm_changeset_info info;
	char what[256];
	hm_err err = hm_write_commit(w, &info);

	if (err)
		return cli_node_fail(c, n, err);
	snprintf(what, sizeof(what), "%s %s/%s", verb, coll, id);
	return print_changeset(&info, json, what);
}

/* Commit w (consumed) unless err says why it was not built; either way n is closed. */
static int finish_write(cli *c, hm_node *n, hm_write *w, hm_err err, bool json, const char *verb,
                        const char *coll, const char *id)
{
	int rc;

	if (err) {
		rc = cli_node_fail(c, n, err);
		hm_write_abort(w);
	} else {
		rc = commit_write(c, n, w, json, verb, coll, id);
	}
	hm_node_close(n);
	return rc;
}

int cmd_put(cli *c, int argc, char **argv)
{
	bool json = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2 + HM_FIELDS_MAX];
	int npos, rc;
	hm_node *n = NULL;
	hm_write *w = NULL;
	hm_err err;

	CLI_PARSE_CMD(opts, 3, 2 + HM_FIELDS_MAX);
	if ((rc = cli_id_arg(c, "ID", pos[1])))
		return rc;
	if (!hm_schema_collection(pos[0]))
		return cli_fail(c, EXIT_FAIL, "unknown collection '%s' (see `hamlet put --help`)",
		                pos[0]);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_write_begin(n, &w))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	for (int i = 2; i < npos; i++)
		if ((rc = put_field(c, n, w, pos[0], pos[1], pos[i])))
			goto out;
	rc = commit_write(c, n, w, json, "wrote", pos[0], pos[1]);
	w = NULL; /* consumed */
out:
	hm_write_abort(w);
	hm_node_close(n);
	return rc;
}

int cmd_del(cli *c, int argc, char **argv)
{
	bool json = false;
	const char *region = NULL;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"region", 0, &region, NULL, "REGION",
	               "the record's region, when two villages use one id"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2];
	int npos, rc;
	hm_node *n = NULL;
	hm_write *w = NULL;
	hm_err err;

	CLI_PARSE_CMD(opts, 2, 2);
	if (region && !hm_region_valid(region))
		return cli_fail(c, EXIT_USAGE, "--region '%s' is not a region path", region);
	if ((rc = cli_id_arg(c, "ID", pos[1])) || (rc = cli_open(c, &n)))
		return rc;
	if (!(err = hm_write_begin(n, &w)))
		err = hm_write_del_at(w, pos[0], pos[1], region);
	return finish_write(c, n, w, err, json, "deleted", pos[0], pos[1]);
}

int cmd_move(cli *c, int argc, char **argv)
{
	bool json = false;
	const char *from = NULL, *to = NULL;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"from", 0, &from, NULL, "REGION",
	               "the region the record is in now (when two hold its id)"},
	              {"to", 0, &to, NULL, "REGION", "the region to move it to"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2];
	int npos, rc;
	hm_node *n = NULL;
	hm_write *w = NULL;
	hm_err err;

	CLI_PARSE_CMD(opts, 2, 2);
	if (!to)
		return cli_fail(c, EXIT_USAGE, "--to REGION is required");
	if (!hm_region_valid(to) || (from && !hm_region_valid(from)))
		return cli_fail(c, EXIT_USAGE, "'%s' is not a region path",
		                !hm_region_valid(to) ? to : from);
	if ((rc = cli_open(c, &n)))
		return rc;
	if (!(err = hm_write_begin(n, &w)))
		err = hm_write_move(w, pos[0], pos[1], from, to);
	return finish_write(c, n, w, err, json, "moved", pos[0], pos[1]);
}

/* ---- get / list ---- */

int cmd_get(cli *c, int argc, char **argv)
{
	bool json = false, show_pii = false;
	const char *region = NULL;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"show-pii", 0, NULL, &show_pii, NULL,
	               "show personal fields (recorded in the access log first)"},
	              {"region", 0, &region, NULL, "REGION",
	               "the record's region, when two villages use one id"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2], what[256];
	int npos, rc;
	hm_node *n;
	hm_record *r;
	hm_err err;

	CLI_PARSE_CMD(opts, 2, 2);
	if ((rc = cli_id_arg(c, "ID", pos[1])) || (rc = cli_open(c, &n)))
		return rc;
	snprintf(what, sizeof(what), "get %s %s", pos[0], pos[1]);
	if ((err = hm_node_get_at(n, pos[0], pos[1], region, &r))) {
		rc = cli_node_fail(c, n, err);
	} else if (show_pii && (rc = cli_record_access(c, n, "reveal", what, 1))) {
		hm_record_free(r);
	} else {
		out_record(stdout, r, json, !show_pii);
		if (json)
			fputc('\n', stdout);
		hm_record_free(r);
	}
	hm_node_close(n);
	return rc;
}

typedef struct list_ctx {
	bool json, show_pii, counting;
	size_t count;
	const char *where_field;
	hm_value where;
	bool has_where;
} list_ctx;

static int list_one(void *arg, const hm_record *r)
{
	list_ctx *l = arg;
	if (l->has_where) {
		const hm_field *f = hm_record_field(r, l->where_field);
		hm_value nil = {HM_V_NIL};
		if (!hm_value_equal(f ? &f->value : &nil, &l->where))
			return 0;
	}
	if (!l->counting) {
		if (l->json)
			fputs(l->count ? ",\n " : "", stdout);
		out_record(stdout, r, l->json, !l->show_pii);
	}
	l->count++;
	return 0;
}

int cmd_list(cli *c, int argc, char **argv)
{
	const char *where = NULL;
	list_ctx l = {0};
	opt opts[] = {{"json", 0, NULL, &l.json, NULL, "print the result as JSON"},
	              {"where", 'w', &where, NULL, "FIELD=VALUE",
	               "only the records whose FIELD equals VALUE"},
	              {"show-pii", 0, NULL, &l.show_pii, NULL,
	               "show personal fields (recorded in the access log first)"},
	              {NULL, 0, NULL, NULL}};
	char *pos[1], *wcopy = NULL, what[512];
	int npos, rc;
	hm_node *n;
	const hm_collection_def *cd;
	hm_err err;

	CLI_PARSE_CMD(opts, 1, 1);
	if (!(cd = hm_schema_collection(pos[0])))
		return cli_fail(c, EXIT_FAIL, "unknown collection '%s'", pos[0]);
	if (where) {
		const hm_field_def *f;
		const char *why;
		char *eq;
		if (!(wcopy = strdup(where)) || !(eq = strchr(wcopy, '='))) {
			free(wcopy);
			return cli_fail(c, EXIT_USAGE, "--where takes FIELD=VALUE");
		}
		*eq = '\0';
		if (!(f = hm_schema_field(cd, wcopy))) {
			rc = cli_fail(c, EXIT_FAIL, "collection '%s' has no field '%s'", pos[0],
			              wcopy);
			free(wcopy);
			return rc;
		}
		if (hm_value_parse(f, eq + 1, &l.where, &why)) {
			rc = cli_fail(c, EXIT_FAIL, "--where %s must be %s", wcopy, why);
			free(wcopy);
			return rc;
		}
		l.where_field = wcopy;
		l.has_where = true;
	}
	if ((rc = cli_open(c, &n))) {
		free(wcopy);
		return rc;
	}
	if (l.show_pii) {
		/* Count what will be revealed, and record it, before showing anything. */
		l.counting = true;
		if ((err = hm_node_list(n, pos[0], list_one, &l))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
		/* The access log is replicated: a personal value searched for stays out of it. */
		snprintf(what, sizeof(what), "list %s%s%s%s", pos[0], where ? " --where " : "",
		         where ? l.where_field : "",
		         !where ? ""
		         : (hm_schema_field(cd, l.where_field)->flags & HM_F_PII)
		             ? "=..."
		             : strchr(where, '='));
		if ((rc = cli_record_access(c, n, "reveal", what, l.count)))
			goto out;
		l.counting = false, l.count = 0;
	}
	if (l.json)
		fputs("[", stdout);
	err = hm_node_list(n, pos[0], list_one, &l);
	if (l.json)
		fputs("]\n", stdout);
	rc = err ? cli_node_fail(c, n, err) : EXIT_OK;
	if (!err && !l.json && cli_is_tty(stdout))
		printf("(%zu record%s)\n", l.count, l.count == 1 ? "" : "s");
out:
	hm_node_close(n);
	free(wcopy);
	return rc;
}

/* ---- export / import ---- */

int cmd_export(cli *c, int argc, char **argv)
{
	const char *out = NULL, *since_s = NULL, *to = NULL, *scope = NULL;
	bool json = false, force = false;
	opt opts[] = {
	    {"output", 'o', &out, NULL, "FILE", "the bundle file to write (created 0600)"},
	    {"since", 0, &since_s, NULL, "VERSION_VECTOR",
	     "only change sets beyond this version vector (ORIGIN:SEQ,...)"},
	    {"to", 0, &to, NULL, "NODE", "seal it for this one node only"},
	    {"scope", 0, &scope, NULL, "PATH", "seal it for the holders of this township's key"},
	    {"force", 'f', NULL, &force, NULL, "replace FILE when it exists"},
	    {"json", 0, NULL, &json, NULL, "print the result as JSON"},
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
		         json_pack("{s:o, s:I, s:I}", "file", cj_cstr(out), "changesets",
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
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
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
		              st.changesets || strstr(why, "nothing was imported")
		                  ? ""
		                  : "; nothing was imported");
	} else if (json) {
		cj_print(stdout,
		         json_pack(
		             "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "file",
		             cj_cstr(pos[0]), "changesets", (json_int_t)st.changesets, "new",
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
	opt opts[] = {{"scope", 0, &scope, NULL, "PATH", "only the records of region PATH"},
	              {"json", 0, NULL, &json, NULL, "print the result as JSON"},
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
		cj_print(stdout, json_pack("{s:o, s:o}", "digest", cj_hex(h.b, HM_HASH_BYTES),
		                           "scope", cj_cstr(scope)));
	} else {
		out_hex(stdout, h.b, HM_HASH_BYTES);
		fputc('\n', stdout);
	}
	hm_node_close(n);
	return rc;
}

typedef struct count_ctx {
	size_t n;
} count_ctx;

static int count_one(void *arg, const hm_record *r)
{
	(void)r;
	((count_ctx *)arg)->n++;
	return 0;
}

/* The clock line of status: how far this station's clock was from its peer's at the last sync,
 * against the drift bound; beyond it, also a warning on stderr. */
static void status_clock(const hm_clock_report *k, json_t *json)
{
	char span[48], bound[48];
	uint64_t mag =
	    k->offset_ms < 0 ? (uint64_t)0 - (uint64_t)k->offset_ms : (uint64_t)k->offset_ms;
	const char *side = k->offset_ms > 0 ? "behind" : "ahead of";

	hm_clock_span(span, sizeof(span), mag);
	hm_clock_span(bound, sizeof(bound), k->max_drift_ms);
	if (k->off)
		fprintf(stderr,
		        "hamlet: status: warning: this station's clock is %s %s its peer's, more "
		        "than the allowed drift (%s): set it right (docs/running.md)\n",
		        span, side, bound);
	if (json) {
		json_object_set_new(
		    json, "clock",
		    json_pack("{s:I, s:b, s:o, s:o, s:o}", "max_drift_ms",
		              (json_int_t)k->max_drift_ms, "off", k->off, "offset_ms",
		              k->known ? json_integer(k->offset_ms) : json_null(), "peer",
		              k->known ? cj_hex(k->peer.b, HM_NODE_ID_BYTES) : json_null(),
		              "measured_ms",
		              k->known ? json_integer((json_int_t)k->measured_ms) : json_null()));
		return;
	}
	if (!k->known) {
		printf("clock     not measured yet (a sync measures it against the peer); allowed "
		       "drift %s\n",
		       bound);
		return;
	}
	printf("clock     %s%s %s peer ", k->off ? "WRONG: " : "", span, side);
	out_node_id(stdout, &k->peer);
	fputs(" (measured at ", stdout);
	out_hlc(stdout, (hm_hlc)k->measured_ms << 16);
	fputs(" by this station's clock)", stdout);
	if (k->off)
		printf(", more than the allowed drift (%s): set it right; until then %s\n", bound,
		       k->offset_ms > 0
		           ? "it may hold back change sets from right clocks in quarantine"
		           : "its writes wait in quarantine at stations whose clocks are right");
	else
		printf(", within the allowed drift (%s)\n", bound);
}

int cmd_status(cli *c, int argc, char **argv)
{
	bool json = false, probe = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"probe", 0, NULL, &probe, NULL,
	               "ask each peer how many change sets wait each way (3 s at most)"},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_node_info info;
	hm_vv vv = {0};
	size_t ncoll;
	const hm_collection_def *colls = hm_schema_collections(&ncoll);
	count_ctx counts[16] = {0};
	char *vvs = NULL;
	hm_clock_report clock;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_info_get(n, &info)) || (err = hm_node_version_vector(n, &vv)) ||
	    (err = hm_vv_format(&vv, &vvs)) || (err = hm_node_clock_get(n, &clock))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	for (size_t i = 0; i < ncoll && i < 16; i++)
		if ((err = hm_node_list(n, colls[i].name, count_one, &counts[i]))) {
			rc = cli_node_fail(c, n, err);
			goto out;
		}
	if (json) {
		json_t *o =
		    json_pack("{s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:I}", "node_id",
		              cj_hex(info.id.b, HM_NODE_ID_BYTES), "role", hm_role_name(info.role),
		              "region", cj_cstr(info.region), "name", cj_cstr(info.name), "trust",
		              info.trust, "enrolled", info.enrolled, "root",
		              info.enrolled ? cj_hex(info.root.b, HM_SIGN_PUB_BYTES) : json_null(),
		              "seq", (json_int_t)info.seq);
		json_t *recs = json_object(), *vvj = json_array();
		for (size_t i = 0; i < ncoll && i < 16; i++)
			if (colls[i].name[0] != '_')
				json_object_set_new(recs, colls[i].name,
				                    json_integer((json_int_t)counts[i].n));
		for (size_t i = 0; i < vv.n; i++)
			json_array_append_new(vvj,
			                      json_pack("{s:o, s:I, s:o}", "origin",
			                                cj_hex(vv.v[i].origin.b, HM_NODE_ID_BYTES),
			                                "seq", (json_int_t)vv.v[i].seq, "hash",
			                                cj_hex(vv.v[i].hash.b, HM_HASH_BYTES)));
		json_object_set_new(o, "records", recs);
		json_object_update_new(
		    o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "changesets",
		                 (json_int_t)info.changesets, "pending", (json_int_t)info.pending,
		                 "quarantined", (json_int_t)info.quarantined, "refused",
		                 (json_int_t)info.refused, "forks", (json_int_t)info.forks,
		                 "conflicts", (json_int_t)info.conflicts));
		json_object_set_new(o, "version_vector", vvj);
		json_object_set_new(o, "version_vector_text", cj_cstr(vvs));
		status_clock(&clock, o);
		json_object_set_new(o, "disk", cli_disk_json(c));
		json_object_set_new(o, "peers", cli_peers_json(c, n, probe));
		if (cj_print(stdout, o))
			rc = cli_fail(c, EXIT_FAIL, "writing the status failed");
		goto out;
	}
	printf("node      ");
	out_node_id(stdout, &info.id);
	printf("\nname      ");
	out_text_cstr(stdout, info.name);
	printf("\nrole      %s\nregion    %s\nseq       %" PRIu64 "\nrecords  ",
	       hm_role_name(info.role), info.region, info.seq);
	for (size_t i = 0; i < ncoll && i < 16; i++)
		if (colls[i].name[0] != '_')
			printf(" %s %zu", colls[i].name, counts[i].n);
	printf("\nkeys      %s", !info.trust     ? "none (a node for tests)"
	                         : info.enrolled ? "enrolled, root key "
	                                         : "not enrolled yet (hamlet enroll request)");
	if (info.enrolled)
		out_hex(stdout, info.root.b, HM_SIGN_PUB_BYTES);
	printf("\nchange sets %zu held, %zu pending, %zu quarantined, %zu refused, %zu forks\n",
	       info.changesets, info.pending, info.quarantined, info.refused, info.forks);
	printf("conflicts %zu\nversion vector (%zu origin%s):\n", info.conflicts, vv.n,
	       vv.n == 1 ? "" : "s");
	for (size_t i = 0; i < vv.n; i++) {
		printf("  ");
		out_node_id(stdout, &vv.v[i].origin);
		printf("  seq %-8" PRIu64 " last ", vv.v[i].seq);
		out_hlc(stdout, vv.v[i].hlc);
		fputc('\n', stdout);
	}
	printf("as text: %s\n", *vvs ? vvs : "(empty)");
	status_clock(&clock, NULL);
	cli_disk_status(c);
	cli_peers_status(c, n, probe);
out:
	free(vvs);
	hm_vv_release(&vv);
	hm_node_close(n);
	return rc;
}

typedef struct log_ctx {
	bool json;
	size_t count;
	json_t *arr; /* with json */
} log_ctx;

static int log_one(void *arg, const hm_changeset_view *cs)
{
	log_ctx *l = arg;
	if (l->json) {
		if (json_array_append_new(
		        l->arr,
		        json_pack("{s:o, s:I, s:o, s:o, s:I, s:o, s:I, s:I}", "origin",
		                  cj_hex(cs->origin.b, HM_NODE_ID_BYTES), "seq",
		                  (json_int_t)cs->seq, "id", cj_hex(cs->id.b, HM_HASH_BYTES),
		                  "prev", cj_hex(cs->prev.b, HM_HASH_BYTES), "hlc",
		                  (json_int_t)cs->hlc, "time", cj_hlc(cs->hlc), "ops",
		                  (json_int_t)cs->nops, "bytes", (json_int_t)cs->envelope.n)))
			return -1;
	} else {
		out_node_id(stdout, &cs->origin);
		printf(":%-6" PRIu64 " ", cs->seq);
		out_hlc(stdout, cs->hlc);
		printf("  %4zu op%s  %6zu B  ", cs->nops, cs->nops == 1 ? " " : "s",
		       cs->envelope.n);
		out_hex(stdout, cs->id.b, 8);
		fputc('\n', stdout);
	}
	l->count++;
	return 0;
}

int cmd_log(cli *c, int argc, char **argv)
{
	log_ctx l = {0};
	const char *since_s = NULL;
	opt opts[] = {{"json", 0, NULL, &l.json, NULL, "print the result as JSON"},
	              {"since", 0, &since_s, NULL, "VERSION_VECTOR",
	               "only change sets beyond this version vector (ORIGIN:SEQ,...)"},
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
	l.arr = l.json ? json_array() : NULL;
	err = hm_node_changesets(n, since_s ? &since : NULL, log_one, &l);
	rc = err ? cli_node_fail(c, n, err) : EXIT_OK;
	if (l.json && !err && cj_print(stdout, json_incref(l.arr)))
		rc = cli_fail(c, EXIT_FAIL, "writing the log failed");
	json_decref(l.arr);
	hm_vv_release(&since);
	hm_node_close(n);
	return rc;
}

/* ---- blame / conflicts / check ---- */

typedef struct conflict_ctx {
	bool json;
	size_t count;
	const char *field; /* only this field, when set */
	const char *indent;
	bool show_pii;
	bool counting; /* count only (what a reveal will show) */
	json_t *arr;   /* with json */
} conflict_ctx;

static int conflict_one(void *arg, const hm_conflict *cf)
{
	conflict_ctx *x = arg;
	if (x->field && strcmp(x->field, cf->field) != 0)
		return 0;
	if (x->counting) {
		x->count++;
		return 0;
	}
	if (x->json) {
		json_t *o = json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "collection", cj_cstr(cf->collection),
		    "id", cj_cstr(cf->id), "field", cj_cstr(cf->field), "lost",
		    cj_value_of(cf->collection, cf->field, &cf->loser, !x->show_pii), "lost_stamp",
		    cj_stamp(&cf->loser_stamp), "winner_stamp", cj_stamp(&cf->winner_stamp),
		    "by_delete", cf->by_delete);
		if (json_array_append_new(x->arr, o))
			return -1;
	} else {
		printf("%s", x->indent);
		if (!x->field) {
			out_ref(stdout, cf->collection, cf->id);
			fputc(' ', stdout);
			out_text_cstr(stdout, cf->field);
			fputs(": ", stdout);
		}
		printf("lost '");
		out_value_of(stdout, cf->collection, cf->field, &cf->loser, false, !x->show_pii);
		printf("' (");
		out_node_id(stdout, &cf->loser_stamp.origin);
		printf(":%" PRIu64 " at ", cf->loser_stamp.seq);
		out_hlc(stdout, cf->loser_stamp.hlc);
		printf(") to %s", cf->by_delete ? "a delete by " : "");
		out_node_id(stdout, &cf->winner_stamp.origin);
		printf(":%" PRIu64 " at ", cf->winner_stamp.seq);
		out_hlc(stdout, cf->winner_stamp.hlc);
		fputc('\n', stdout);
	}
	x->count++;
	return 0;
}

int cmd_blame(cli *c, int argc, char **argv)
{
	bool json = false, show_pii = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"show-pii", 0, NULL, &show_pii, NULL,
	               "show personal fields (recorded in the access log first)"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2], what[256];
	int npos, rc;
	hm_node *n;
	hm_record *r = NULL;
	json_t *doc = NULL, *fields = NULL;
	hm_err err;

	CLI_PARSE_CMD(opts, 2, 2);
	if ((rc = cli_id_arg(c, "ID", pos[1])) || (rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_get(n, pos[0], pos[1], &r))) {
		rc = cli_node_fail(c, n, err);
		goto out;
	}
	snprintf(what, sizeof(what), "blame %s %s", pos[0], pos[1]);
	if (show_pii && (rc = cli_record_access(c, n, "reveal", what, 1)))
		goto out;
	if (json)
		doc = json_pack("{s:o, s:o, s:o}", "collection", cj_cstr(r->collection), "id",
		                cj_cstr(r->id), "fields", fields = json_array());
	else
		out_ref(stdout, r->collection, r->id), fputc('\n', stdout);
	for (size_t i = 0; i < r->nfields && !err; i++) {
		const hm_field *f = &r->fields[i];
		conflict_ctx x = {json, 0, f->name, "      ", show_pii, false, NULL};
		if (json) {
			x.arr = json_array();
			json_array_append_new(
			    fields,
			    json_pack("{s:o, s:o, s:o, s:o}", "field", cj_cstr(f->name), "value",
			              cj_value_of(r->collection, f->name, &f->value, !show_pii),
			              "set_by", cj_stamp(&f->stamp), "lost", x.arr));
		} else {
			fputs("  ", stdout);
			out_text_pad(stdout, f->name, 14);
			fputc(' ', stdout);
			out_value_of(stdout, r->collection, f->name, &f->value, false, !show_pii);
			printf("\n      set by ");
			out_node_id(stdout, &f->stamp.origin);
			printf(":%" PRIu64 " at ", f->stamp.seq);
			out_hlc(stdout, f->stamp.hlc);
			fputc('\n', stdout);
		}
		err = hm_node_conflicts(n, pos[0], pos[1], conflict_one, &x);
	}
	if (err)
		rc = cli_node_fail(c, n, err);
	else if (json && cj_print(stdout, json_incref(doc)))
		rc = cli_fail(c, EXIT_FAIL, "writing the result failed");
	json_decref(doc);
out:
	hm_record_free(r);
	hm_node_close(n);
	return rc;
}

int cmd_conflicts(cli *c, int argc, char **argv)
{
	conflict_ctx x = {0};
	opt opts[] = {{"json", 0, NULL, &x.json, NULL, "print the result as JSON"},
	              {"show-pii", 0, NULL, &x.show_pii, NULL,
	               "show personal fields (recorded in the access log first)"},
	              {NULL, 0, NULL, NULL}};
	char *pos[2], what[256];
	int npos, rc;
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 2);
	if (npos == 1)
		return cli_fail(c, EXIT_USAGE, "give both COLLECTION and ID, or neither");
	if (npos == 2 && (rc = cli_id_arg(c, "ID", pos[1])))
		return rc;
	x.indent = "";
	if ((rc = cli_open(c, &n)))
		return rc;
	snprintf(what, sizeof(what), "conflicts %s %s", npos ? pos[0] : "", npos ? pos[1] : "");
	if (x.show_pii) {
		x.counting = true;
		err = hm_node_conflicts(n, npos ? pos[0] : NULL, npos ? pos[1] : NULL, conflict_one,
		                        &x);
		x.counting = false;
		if (err || (rc = cli_record_access(c, n, "reveal", what, x.count))) {
			rc = err ? cli_node_fail(c, n, err) : rc;
			hm_node_close(n);
			return rc;
		}
		x.count = 0;
	}
	x.arr = x.json ? json_array() : NULL;
	err = hm_node_conflicts(n, npos ? pos[0] : NULL, npos ? pos[1] : NULL, conflict_one, &x);
	if (!x.json && !err && x.count == 0)
		printf("no conflicts\n");
	rc = err ? cli_node_fail(c, n, err) : EXIT_OK;
	if (x.json && !err && cj_print(stdout, json_incref(x.arr)))
		rc = cli_fail(c, EXIT_FAIL, "writing the conflicts failed");
	json_decref(x.arr);
	hm_node_close(n);
	return rc;
}

int cmd_check(cli *c, int argc, char **argv)
{
	bool json = false, repair = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, "print the result as JSON"},
	              {"repair", 0, NULL, &repair, NULL,
	               "first rebuild the records and the conflict log from the oplog"},
	              {NULL, 0, NULL, NULL}};
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = cli_open(c, &n)))
		return rc;
	err = repair ? hm_node_repair(n) : HM_OK;
	if (!err)
		err = hm_node_check(n);
	if (json) {
		cj_print(stdout, json_pack("{s:b, s:o}", "ok", !err, "problem",
		                           err ? cj_cstr(hm_node_errmsg(n)) : json_null()));
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
