/*
 * ui_cmds.c - `hamlet ui`: the station's web interface alone (web/web.h), the key unlocked once
 * at start; and cli_ui_start, which `serve --ui` calls to run it beside the sync daemon.
 */
#include "cli.h"
#include "web.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The interface's log lines (already escaped by the web library) on stderr. */
static void ui_log(void *arg, const char *level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "hamlet: ui: %s: %s\n", level, msg);
}

int cli_ui_start(cli *c, hm_node *n, const char *listen, bool any, uint64_t idle_ms,
                 pthread_mutex_t *lock, hm_web **out)
{
	hm_web_opts o = {.dir = c->dir,
	                 .node = n,
	                 .listen = listen,
	                 .any_address = any,
	                 .lock = lock,
	                 .clock = c->led.clock,
	                 .clock_arg = c->led.clock_arg,
	                 .clock_offset_ms = c->led.clock_offset_ms,
	                 .session_idle_ms = idle_ms,
	                 .log = ui_log};
	char why[600];

	if (hm_web_start(&o, out))
		return cli_fail(c, EXIT_FAIL, "%s",
		                out_text_str(hm_node_errmsg(n), why, sizeof(why)));
	fprintf(stderr, "hamlet: ui: serving %s\n", hm_web_url(*out));
	return EXIT_OK;
}

int cli_ui_idle(cli *c, const char *flag, const char *s, uint64_t *ms)
{
	char *end;
	unsigned long v;

	*ms = 0;
	if (!s)
		return EXIT_OK;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v == 0 || v > 7 * 86400)
		return cli_fail(c, EXIT_USAGE, "%s takes 1 to 604800 seconds", flag);
	*ms = (uint64_t)v * 1000;
	return EXIT_OK;
}

int cmd_ui(cli *c, int argc, char **argv)
{
	const char *listen = "127.0.0.1:8080", *idle_s = NULL;
	bool any = false;
	uint64_t idle_ms = 0;
	hm_web *web = NULL;
	hm_node *n;
	sigset_t set;
	int rc, sig;

	const cli_opt opts[] = {
	    {"listen", 0, &listen, NULL, "ADDR:PORT",
	     N_("where to serve (default 127.0.0.1:8080; port 0: any free one)")},
	    {"any-address", 0, NULL, &any, NULL,
	     N_("allow an address other than loopback (other machines)")},
	    {"session-idle", 0, &idle_s, NULL, "SECONDS",
	     N_("end a session after this long without a request (default 1800)")},
	    {NULL}};
	char *pos[1];
	int npos;

	CLI_PARSE_CMD(opts, 0, 0);
	if ((rc = cli_ui_idle(c, "--session-idle", idle_s, &idle_ms)))
		return rc;
	if ((rc = cli_open(c, &n)))
		return rc;
	/* Blocked before the web's thread starts (after the passphrase prompt, which Ctrl-C may
	 * leave), so that the thread inherits the mask and sigwait below takes the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = cli_ui_start(c, n, listen, any, idle_ms, NULL, &web)) == EXIT_OK) {
		while (sigwait(&set, &sig) != 0)
			;
		fprintf(stderr, "hamlet: ui: stopped\n");
	}
	hm_web_stop(web);
	hm_node_close(n);
	return rc;
}
