/*
 * trust_cmds.c - enrollment, revocation, the audit and signed audit reports.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1u << 20)

/* Read a whole small file (at most FILE_MAX bytes). *out owned. */
static int read_file(cli *c, const char *path, uint8_t **out, size_t *len)
{
	int rc = cli_read_file(c, path, FILE_MAX, (char **)out, len);
	return rc < 0 ? cli_fail(c, EXIT_FAIL, "%s is larger than %u bytes", path, FILE_MAX) : rc;
}

static void print_info(const hm_enroll_info *i, bool json)
{
	if (json)
		cj_print(stdout, hm_enroll_info_json(i));
	else
		hm_enroll_info_write(i, stdout);
}

static int enroll_request(cli *c, const char *out, bool force)
{
	hm_node *n;
	uint8_t *req = NULL;
	size_t len;
	hm_err err;
	int rc;

	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_enroll_request(n, &req, &len)))
		rc = cli_node_fail(c, n, err);
	else if (!(rc = cli_write_file(c, out, req, len, force)))
		printf("wrote the enrollment request to %s: carry it to the county (or your "
		       "township) to be signed\n",
		       out);
	free(req);
	hm_node_close(n);
	return rc;
}

static int enroll_sign(cli *c, const char *req_path, const char *out, uint32_t days,
                       bool may_enroll, bool force, bool json)
{
	hm_node *n;
	uint8_t *req = NULL, *ans = NULL;
	size_t len, alen;
	hm_enroll_info info;
	hm_err err;
	int rc;

	if ((rc = read_file(c, req_path, &req, &len)))
		return rc;
	if ((rc = cli_open(c, &n))) {
		free(req);
		return rc;
	}
	if ((err = hm_enroll_sign(n, req, len, days, may_enroll, &ans, &alen, &info)))
		rc = cli_node_fail(c, n, err);
	else if (!(rc = cli_write_file(c, out, ans, alen, force))) {
		print_info(&info, json);
		if (!json)
			printf("wrote the certificate and keys to %s: carry it back to the node\n",
			       out);
	}
	free(req);
	free(ans);
	hm_node_close(n);
	return rc;
}

static int enroll_accept(cli *c, const char *path, const char *root_hex, bool json)
{
	hm_node *n;
	uint8_t *ans = NULL;
	size_t len;
	hm_sign_pub pin;
	hm_enroll_info info;
	hm_err err;
	int rc;

	if (root_hex && hm_hex_decode(pin.b, sizeof(pin.b), root_hex))
		return cli_fail(c, EXIT_USAGE, "--root must be 64 hex digits");
	if ((rc = read_file(c, path, &ans, &len)))
		return rc;
	if ((rc = cli_open(c, &n))) {
		free(ans);
		return rc;
	}
	if ((err = hm_enroll_accept(n, ans, len, root_hex ? &pin : NULL, &info))) {
		rc = cli_node_fail(c, n, err);
	} else {
		print_info(&info, json);
		if (!json && !root_hex)
			printf("check the root key above with the county before trusting it\n");
	}
	free(ans);
	hm_node_close(n);
	return rc;
}

static int verb_request(cli *c, int argc, char **argv)
{
	const char *out = NULL;
	bool force = false;
	const cli_opt opts[] = {
	    {"output", 'o', &out, NULL, "REQUEST", N_("the request file to write (required)")},
	    {"force", 'f', NULL, &force, NULL, N_("replace REQUEST when it exists")},
	    {NULL}};
	const cli_spec spec = {"enroll request",
	                       NULL,
	                       N_("write this node's enrollment request (its public keys, role and "
	                          "region, signed)"),
	                       opts,
	                       NULL,
	                       0,
	                       0};
	char *pos[1];
	int npos;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!out)
		return cli_fail(c, EXIT_USAGE, "-o REQUEST is required");
	return enroll_request(c, out, force);
}

static int verb_sign(cli *c, int argc, char **argv)
{
	const char *out = NULL, *days_s = NULL;
	bool json = false, force = false, may_enroll = false;
	const cli_opt opts[] = {
	    {"output", 'o', &out, NULL, "ANSWER", N_("the answer file to write (required)")},
	    {"days", 0, &days_s, NULL, "N",
	     N_("days the certificate is valid (1-3650, default 730)")},
	    {"may-enroll", 0, NULL, &may_enroll, NULL,
	     N_("a township that may enroll the villages of its township")},
	    {"force", 'f', NULL, &force, NULL, N_("replace ANSWER when it exists")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL}};
	const cli_spec spec = {
	    "enroll sign",
	    "REQUEST",
	    N_("check a request and write its certificate (county, or a township "
	       "that may enroll)"),
	    opts,
	    NULL,
	    1,
	    1};
	char *pos[1], *end = NULL;
	unsigned long days;
	int npos;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!out)
		return cli_fail(c, EXIT_USAGE, "-o ANSWER is required");
	days = days_s ? strtoul(days_s, &end, 10) : 730;
	if ((days_s && (*end || !*days_s)) || days == 0 || days > 3650)
		return cli_fail(c, EXIT_USAGE, "--days must be 1 to 3650");
	return enroll_sign(c, pos[0], out, (uint32_t)days, may_enroll, force, json);
}

static int verb_accept(cli *c, int argc, char **argv)
{
	const char *root = NULL;
	bool json = false;
	const cli_opt opts[] = {{"root", 0, &root, NULL, "HEX",
	                         N_("pin the county's root key (from its `hamlet status`)")},
	                        {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	                        {NULL}};
	const cli_spec spec = {"enroll accept",
	                       "ANSWER",
	                       N_("verify and install this node's certificate"),
	                       opts,
	                       NULL,
	                       1,
	                       1};
	char *pos[1];
	int npos;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	return enroll_accept(c, pos[0], root, json);
}

int cmd_enroll(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"request", verb_request, N_("write this node's enrollment request")},
	    {"sign", verb_sign, N_("check a request and write its certificate")},
	    {"accept", verb_accept, N_("verify and install this node's certificate")},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}

int cmd_revoke(cli *c, int argc, char **argv)
{
	const char *node_s = NULL, *after_s = NULL, *reason = NULL;
	bool json = false;
	hm_node_id id;
	uint64_t after;
	char *end;
	hm_node *n;
	hm_changeset_info info;
	hm_err err;
	int rc;

	const cli_opt opts[] = {
	    {"after-seq", 0, &after_s, NULL, "N", N_("the last seq of NODE that stays (required)")},
	    {"reason", 0, &reason, NULL, "TEXT", N_("why, for the audit (required)")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 1, 1);
	node_s = pos[0];
	if (!after_s || !reason)
		return cli_fail(c, EXIT_USAGE, "--after-seq N and --reason TEXT are required");
	if (hm_node_id_parse(node_s, &id))
		return cli_fail(c, EXIT_USAGE, "NODE must be a node id (32 hex digits)");
	after = strtoull(after_s, &end, 10);
	if (!*after_s || *end || after_s[0] == '-')
		return cli_fail(c, EXIT_USAGE, "--after-seq must be a whole number");
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_node_revoke(n, &id, after, reason, &info))) {
		rc = cli_node_fail(c, n, err);
	} else if (json) {
		cj_print(stdout,
		         json_pack("{s:o, s:I, s:I}", "node_id", hm_json_cstr(node_s), "after_seq",
		                   (json_int_t)after, "seq", (json_int_t)info.seq));
	} else {
		printf("revoked %s after seq %" PRIu64 " in change set %" PRIu64
		       "; new data keys issued to the other nodes\n",
		       node_s, after, info.seq);
	}
	hm_node_close(n);
	return rc;
}

/* ---- audit ---- */

/* audit --sign: the county's signed report (hm_audit_sign) written to out, then said. EXIT_OK,
 * or EXIT_FAIL with findings (the report is written either way) or a reported failure. */
static int write_signed(cli *c, hm_node *n, const char *out, bool force)
{
	char *doc = NULL;
	size_t len, findings;
	hm_err err;
	int rc;

	if ((err = hm_audit_sign(&c->led, &c->keys.ident, &doc, &len, &findings)))
		return cli_node_fail(c, n, err);
	rc = cli_write_file(c, out, doc, len, force);
	free(doc);
	if (rc)
		return rc;
	printf("wrote a signed audit report to %s (%zu finding%s)\n", out, findings,
	       findings == 1 ? "" : "s");
	return findings ? EXIT_FAIL : EXIT_OK;
}

int cmd_audit(cli *c, int argc, char **argv)
{
	bool json = false, sign = false, force = false;
	const char *out = NULL;
	hm_node *n;
	size_t findings = 0;
	json_t *doc;
	hm_err err;
	int rc;

	const cli_opt opts[] = {
	    {"sign", 0, NULL, &sign, NULL, N_("write the report signed by the county (with -o)")},
	    {"output", 'o', &out, NULL, "REPORT", N_("the signed report to write")},
	    {"force", 'f', NULL, &force, NULL, N_("replace REPORT when it exists")},
	    {"json", 0, NULL, &json, NULL, N_("print the result as JSON")},
	    {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 0, 0);
	if (sign != (out != NULL))
		return cli_fail(c, EXIT_USAGE, "--sign and -o REPORT go together");
	/* The keys, unlocked once: cli_open takes the same (reading the passphrase twice would find
	 * a pipe it came from empty the second time). */
	if (sign && (rc = cli_keys_ready(c)))
		return rc;
	if (sign && c->no_key_file)
		return cli_fail(c, EXIT_FAIL, "this node has no keys to sign with");
	{
		hm_keyfile_secrets keep = c->keys; /* cli_open wipes c->keys */
		if ((rc = cli_open(c, &n))) {
			hm_keyfile_secrets_release(&keep);
			return rc;
		}
		c->keys = keep;
		hm_wipe(&keep, sizeof(keep));
	}
	if (sign)
		rc = write_signed(c, n, out, force);
	else if (json && !(err = hm_audit_json(&c->led, &doc, &findings)))
		rc = cj_print(stdout, doc) ? cli_fail(c, EXIT_FAIL, "writing the audit failed")
		     : findings            ? EXIT_FAIL
		                           : EXIT_OK;
	else if (!json && !(err = hm_audit_render(&c->led, HM_REPORT_FMT_TEXT, stdout, &findings)))
		rc = findings ? EXIT_FAIL : EXIT_OK;
	else
		rc = cli_node_fail(c, n, err);
	hm_keyfile_secrets_release(&c->keys);
	hm_node_close(n);
	return rc;
}

int cmd_verify_report(cli *c, int argc, char **argv)
{
	const char *path = NULL, *root_hex = NULL;
	uint8_t *doc = NULL;
	size_t len;
	hm_sign_pub root;
	int rc;

	const cli_opt opts[] = {
	    {"root", 0, &root_hex, NULL, "HEX", N_("the county's root key (required)")}, {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 1, 1);
	path = pos[0];
	if (!root_hex)
		return cli_fail(c, EXIT_USAGE, "--root HEX is required");
	if (hm_hex_decode(root.b, sizeof(root.b), root_hex))
		return cli_fail(c, EXIT_USAGE, "--root must be 64 hex digits");
	if ((rc = read_file(c, path, &doc, &len))) /* NUL-terminated */
		return rc;
	switch (hm_audit_verify((const char *)doc, len, &root)) {
	case HM_AUDIT_NOT_REPORT:
		rc = cli_fail(c, EXIT_FAIL, "%s is not a signed hamlet audit report", path);
		break;
	case HM_AUDIT_MALFORMED:
		rc = cli_fail(c, EXIT_FAIL, "%s: the signature line is malformed", path);
		break;
	case HM_AUDIT_OTHER_SIGNER:
		rc = cli_fail(c, EXIT_FAIL, "%s was not signed by the county of that root key",
		              path);
		break;
	case HM_AUDIT_ALTERED:
		rc = cli_fail(c, EXIT_FAIL,
		              "%s: the signature does not verify: the report was altered", path);
		break;
	case HM_AUDIT_INTACT:
		printf("%s: signed by the county (root key %.16s...), contents intact\n", path,
		       root_hex);
		break;
	}
	free(doc);
	return rc;
}
