/*
 * cmds.c - the commands on records: `put`, `del`, `move`, `get`, `list`, `blame` and
 * `conflicts`. Each parses its options, opens the node, calls node/, and prints text or, with
 * --json, one JSON document.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef cli_opt opt;

/* ---- put / del ---- */

static int print_changeset(const hm_changeset_info *info, bool json, const char *what)
{
	if (json) {
		cj_print(stdout, json_pack("{s:o, s:I, s:o, s:I, s:I, s:I}", "origin",
		                           hm_json_hex(info->origin.b, HM_NODE_ID_BYTES), "seq",
		                           (json_int_t)info->seq, "id",
		                           hm_json_hex(info->id.b, HM_HASH_BYTES), "hlc",
		                           (json_int_t)info->hlc, "ops", (json_int_t)info->nops,
		                           "bytes", (json_int_t)info->bytes));
	} else {
		printf("%s in change set %" PRIu64 " (", what, info->seq);
		hm_text_hex(stdout, info->id.b, 8);
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
			return cli_fail(c, EXIT_USAGE, "%s.%s must be %s, not '%s'", coll, arg, why,
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
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
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
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"region", 0, &region, NULL, "REGION",
	               N_("the record's region, when two villages use one id")},
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
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"from", 0, &from, NULL, "REGION",
	               N_("the region the record is in now (when two hold its id)")},
	              {"to", 0, &to, NULL, "REGION", N_("the region to move it to")},
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
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"show-pii", 0, NULL, &show_pii, NULL,
	               N_("show personal fields (recorded in the access log first)")},
	              {"region", 0, &region, NULL, "REGION",
	               N_("the record's region, when two villages use one id")},
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
		if (json)
			cj_print(stdout, hm_json_record(r, !show_pii));
		else
			hm_text_record(stdout, r, !show_pii);
		hm_record_free(r);
	}
	hm_node_close(n);
	return rc;
}

typedef struct list_ctx {
	bool json, show_pii;
	size_t count;
	const char *where_field;
	hm_value where;
	bool has_where;
} list_ctx;

/* The records of coll as text, or as one JSON array printed only when whole (a failure halfway
 * prints the error alone, never half a document). */
static int list_print(cli *c, hm_node *n, const char *coll, list_ctx *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = l->json ? open_memstream(&buf, &len) : stdout;
	hm_err err;

	if (!f)
		return cli_fail(c, EXIT_FAIL, "out of memory");
	err = hm_records_write(&c->led, coll, l->where_field, l->has_where ? &l->where : NULL,
	                       !l->show_pii, l->json, f, &l->count);
	if (l->json) {
		if ((hm_stream_close(f) != 0 || !buf) && !err)
			err = HM_ERR_NOMEM;
		if (!err && !cj_failed())
			fwrite(buf, 1, len, stdout);
		free(buf);
	}
	return err ? cli_node_fail(c, n, err) : EXIT_OK;
}

int cmd_list(cli *c, int argc, char **argv)
{
	const char *where = NULL;
	list_ctx l = {0};
	opt opts[] = {{"json", 0, NULL, &l.json, NULL, N_("print the result as JSON")},
	              {"where", 'w', &where, NULL, "FIELD=VALUE",
	               N_("only the records whose FIELD equals VALUE")},
	              {"show-pii", 0, NULL, &l.show_pii, NULL,
	               N_("show personal fields (recorded in the access log first)")},
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
		if ((err = hm_records_write(&c->led, pos[0], l.where_field,
		                            l.has_where ? &l.where : NULL, false, false, NULL,
		                            &l.count))) {
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
		l.count = 0;
	}
	rc = list_print(c, n, pos[0], &l);
	if (!err && !l.json && cli_is_tty(stdout))
		printf("(%zu record%s)\n", l.count, l.count == 1 ? "" : "s");
out:
	hm_node_close(n);
	free(wcopy);
	return rc;
}

/* ---- blame / conflicts / check ---- */

int cmd_blame(cli *c, int argc, char **argv)
{
	bool json = false, show_pii = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"show-pii", 0, NULL, &show_pii, NULL,
	               N_("show personal fields (recorded in the access log first)")},
	              {NULL, 0, NULL, NULL}};
	char *pos[2], what[256];
	int npos, rc;
	hm_node *n;
	hm_record *r = NULL;
	json_t *doc;
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
	if (json && !(err = hm_blame_json(&c->led, r, !show_pii, &doc)))
		rc = cj_print(stdout, doc) ? cli_fail(c, EXIT_FAIL, "writing the result failed")
		                           : EXIT_OK;
	else if (json || (err = hm_blame_write(&c->led, r, !show_pii, stdout)))
		rc = cli_node_fail(c, n, err);
out:
	hm_record_free(r);
	hm_node_close(n);
	return rc;
}

int cmd_conflicts(cli *c, int argc, char **argv)
{
	bool json = false, show_pii = false;
	opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	              {"show-pii", 0, NULL, &show_pii, NULL,
	               N_("show personal fields (recorded in the access log first)")},
	              {NULL, 0, NULL, NULL}};
	char *pos[2], what[256];
	const char *coll, *id;
	size_t count = 0;
	int npos, rc;
	json_t *arr;
	hm_node *n;
	hm_err err;

	CLI_PARSE_CMD(opts, 0, 2);
	if (npos == 1)
		return cli_fail(c, EXIT_USAGE, "give both COLLECTION and ID, or neither");
	if (npos == 2 && (rc = cli_id_arg(c, "ID", pos[1])))
		return rc;
	if ((rc = cli_open(c, &n)))
		return rc;
	coll = npos ? pos[0] : NULL;
	id = npos ? pos[1] : NULL;
	snprintf(what, sizeof(what), "conflicts %s %s", npos ? pos[0] : "", npos ? pos[1] : "");
	/* A reveal is logged with the number of values it will show, before they are shown. */
	if (show_pii && ((err = hm_conflicts_write(&c->led, coll, id, false, NULL, &count)) ||
	                 (rc = cli_record_access(c, n, "reveal", what, count))))
		rc = rc ? rc : cli_node_fail(c, n, err);
	else if (json && !(err = hm_conflicts_json(&c->led, coll, id, !show_pii, &arr, &count)))
		rc = cj_print(stdout, arr) ? cli_fail(c, EXIT_FAIL, "writing the conflicts failed")
		                           : EXIT_OK;
	else if (json || (err = hm_conflicts_write(&c->led, coll, id, !show_pii, stdout, &count)))
		rc = cli_node_fail(c, n, err);
	hm_node_close(n);
	return rc;
}
