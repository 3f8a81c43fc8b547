/*
 * user_cmds.c - `hamlet user`: the accounts of the people of this station (ledger/users.c),
 * with which they log in to its web interface.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PW_CAP (HM_PASSWORD_MAX_BYTES + 2)
#define PW_MORE                                                                                    \
	"The password is asked twice on the terminal, without echo, or is the first line of\n"     \
	"standard input when that is not a terminal. At least 8 characters, 4 different ones,\n"   \
	"and not a keyboard row, a run such as 12345678 or a common password.\n"

static const cli_spec passwd_spec = {
    "user passwd", "NAME", N_("set a new password for an account"), NULL, PW_MORE, 1, 1};
static const cli_spec remove_spec = {
    "user remove", "NAME", N_("remove an account"), NULL, NULL, 1, 1};

/* Check name, open the node, read the new password (when pw), then add (role), set the
 * password, or remove the account (no pw). */
static int run(cli *c, const char *name, char *pw, hm_user_role role, const char *done)
{
	char question[HM_USER_NAME_MAX + 32];
	const char *why;
	hm_node *n;
	hm_err err;
	int rc;

	if (hm_user_name_check(name, &why))
		return cli_fail(c, EXIT_USAGE, "the name %s", why);
	if ((rc = cli_open(c, &n)))
		return rc;
	snprintf(question, sizeof(question), "new password for %s: ", name);
	if (pw && (rc = cli_secret(c, "password", question, true, pw, PW_CAP)))
		goto out;
	err = !pw    ? hm_user_remove(&c->led, c->dir, name)
	      : role ? hm_user_add(&c->led, c->dir, name, role, pw)
	             : hm_user_passwd(&c->led, c->dir, name, pw);
	if (err)
		rc = cli_node_fail(c, n, err);
	else
		printf("%s ", done), out_text_cstr(stdout, name), fputc('\n', stdout);
out:
	if (pw)
		hm_wipe(pw, PW_CAP);
	hm_node_close(n);
	return rc;
}

static int user_add(cli *c, int argc, char **argv)
{
	const char *role_s = NULL;
	const cli_opt opts[] = {
	    {"role", 0, &role_s, NULL, "ROLE", N_("clerk, doctor, officer or auditor (required)")},
	    {NULL}};
	const cli_spec spec = {
	    "user add", "NAME", N_("add an account for a person of this station"), opts, PW_MORE,
	    1,          1};
	hm_user_role role;
	char *pos[1], pw[PW_CAP];
	int npos;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if (!role_s || !hm_user_role_parse(role_s, &role))
		return cli_fail(c, EXIT_USAGE, "--role must be clerk, doctor, officer or auditor");
	return run(c, pos[0], pw, role, "added");
}

/* passwd and remove: NAME alone. */
static int user_name_verb(cli *c, int argc, char **argv)
{
	bool passwd = !strcmp(argv[0], "passwd");
	char *pos[1], pw[PW_CAP];
	int npos;

	CLI_PARSE_SPEC(passwd ? &passwd_spec : &remove_spec, pos, &npos);
	return run(c, pos[0], passwd ? pw : NULL, 0,
	           passwd ? "changed the password of" : "removed");
}

static void print_user(const hm_user *u, json_t *arr)
{
	char when[32];
	time_t t = (time_t)(u->changed_ms / 1000);
	struct tm tm;

	if (arr) {
		json_array_append_new(arr, json_pack("{s:o, s:s, s:I, s:I}", "name",
		                                     hm_json_cstr(u->name), "role",
		                                     hm_user_role_name(u->role), "created_ms",
		                                     (json_int_t)u->created_ms, "changed_ms",
		                                     (json_int_t)u->changed_ms));
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
	hm_text_pad(stdout, u->name, 20);
	printf(" %-8s changed %s\n", hm_user_role_name(u->role), when);
}

static int user_list(cli *c, int argc, char **argv)
{
	bool json = false;
	const cli_opt opts[] = {{"json", 0, NULL, &json, NULL, N_("print the accounts as JSON")},
	                        {NULL}};
	const cli_spec spec = {
	    "user list", NULL, N_("the accounts of this station, by name"), opts, NULL, 0, 0};
	hm_user *us = NULL;
	json_t *arr = NULL;
	size_t count = 0;
	char *pos[1];
	int npos, rc;
	hm_node *n;
	hm_err err;

	CLI_PARSE_SPEC(&spec, pos, &npos);
	if ((rc = cli_open(c, &n)))
		return rc;
	if ((err = hm_user_list(&c->led, c->dir, &us, &count)))
		rc = cli_node_fail(c, n, err);
	else if (json && (arr = json_array()))
		for (size_t i = 0; i < count; i++)
			print_user(&us[i], arr);
	else if (!count)
		printf("no accounts yet (`hamlet user add NAME --role ROLE` adds one)\n");
	for (size_t i = 0; !json && i < count; i++)
		print_user(&us[i], NULL);
	if (!rc && json && cj_print(stdout, json_incref(arr)))
		rc = cli_fail(c, EXIT_FAIL, "writing failed");
	json_decref(arr);
	free(us);
	hm_node_close(n);
	return rc;
}

int cmd_user(cli *c, int argc, char **argv)
{
	static const cli_verb verbs[] = {
	    {"add", user_add, N_("add an account for a person of this station")},
	    {"passwd", user_name_verb, N_("set a new password for an account")},
	    {"list", user_list, N_("the accounts of this station, by name")},
	    {"remove", user_name_verb, N_("remove an account")},
	    {NULL, NULL, NULL}};
	return cli_group(c, verbs, argc, argv);
}
