/*
 * keys.c - the node's key file and its passphrase, as the command line handles them.
 *
 * A node directory holds `node.key`: the node's Ed25519 and X25519 keys and its storage key,
 * sealed with a passphrase (crypto/keyfile.c). The passphrase comes from --passphrase-file,
 * else $HAMLET_PASSPHRASE, else a prompt on the terminal; never from anywhere it could be
 * logged. Secrets are wiped as soon as the node has its own copy.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PASS_MAX 1024

/* The descriptor a path names that is this process's own ("-" and /dev/stdin: 0, /dev/fd/N: N),
 * or -1. Such a file is read from the descriptor, not opened again: a pipe root made cannot be
 * opened again by another account, only read (`cat /etc/hamlet/passphrase | runuser -u hamlet
 * -- hamlet --passphrase-file /dev/stdin ...`, docs/running.md). */
static int own_fd(const char *path)
{
	char *end;
	long fd;

	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdin"))
		return 0;
	if (strncmp(path, "/dev/fd/", 8) || !isdigit((unsigned char)path[8]))
		return -1;
	fd = strtol(path + 8, &end, 10);
	return *end || fd > 65535 ? -1 : (int)fd;
}

/* The first line of descriptor fd into buf, leaving the descriptor as it was for whoever shares
 * it: a regular file read from its start without moving its offset (pread, as opening it again
 * would), anything else (a pipe, a terminal) a byte at a time up to the end of that line only,
 * so the rest stays for the command. -1 and errno on failure. */
static ssize_t read_own_fd(int fd, char *buf, size_t cap)
{
	struct stat st;
	size_t n = 0;

	if (fstat(fd, &st) != 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return pread(fd, buf, cap - 1, 0);
	while (n < cap - 1) {
		ssize_t got = read(fd, buf + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0 || buf[n] == '\n')
			break;
		n++;
	}
	return (ssize_t)n;
}

static int read_file_pass(cli *c, char *buf, size_t cap)
{
	int fd = own_fd(c->passphrase_file);
	ssize_t got;

	if (fd >= 0) {
		got = read_own_fd(fd, buf, cap);
	} else {
		FILE *f = fopen(c->passphrase_file, "r");
		got = f ? (ssize_t)fread(buf, 1, cap - 1, f) : -1;
		if (f)
			fclose(f);
	}
	if (got < 0)
		return cli_fail(c, EXIT_FAIL, "cannot read the passphrase file %s: %s",
		                c->passphrase_file, hm_strerrno(errno));
	buf[got] = 0;
	buf[strcspn(buf, "\r\n")] = 0; /* the first line */
	return EXIT_OK;
}

static int prompt(cli *c, const char *question, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return cli_fail(c, EXIT_FAIL,
		                "a passphrase is needed: give --passphrase-file FILE or set "
		                "HAMLET_PASSPHRASE (no terminal to ask on)");
	if (write(fd, question, strlen(question)) < 0 || tcgetattr(fd, &old) != 0) {
		close(fd);
		return cli_fail(c, EXIT_FAIL, "cannot ask for the passphrase on the terminal");
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	n = read(fd, buf, cap - 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		n = -1;
	close(fd);
	if (n < 0)
		return cli_fail(c, EXIT_FAIL, "cannot read the passphrase");
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return EXIT_OK;
}

int cli_passphrase(cli *c, bool confirm, char *buf, size_t cap)
{
	const char *env = getenv("HAMLET_PASSPHRASE");
	char again[PASS_MAX];
	int rc;

	if (c->kept_passphrase) {
		snprintf(buf, cap, "%s", c->kept_passphrase);
		rc = EXIT_OK;
	} else if (c->passphrase_file)
		rc = read_file_pass(c, buf, cap);
	else if (env) {
		snprintf(buf, cap, "%s", env);
		rc = EXIT_OK;
	} else {
		rc = prompt(c, "passphrase for this node's key file: ", buf, cap);
		if (!rc && confirm &&
		    !(rc = prompt(c, "the same passphrase again: ", again, sizeof(again))) &&
		    strcmp(buf, again) != 0)
			rc = cli_fail(c, EXIT_FAIL,
			              "the two passphrases differ; nothing was created");
		hm_wipe(again, sizeof(again));
	}
	if (!rc && !buf[0])
		rc = cli_fail(c, EXIT_FAIL, "the passphrase is empty");
	/* A new key file is sealed only with a passphrase worth the Argon2id around it; an
	 * existing one opens with whatever it was sealed with. */
	if (!rc && confirm) {
		const char *why;
		if (hm_passphrase_check(buf, strlen(buf), &why))
			rc = cli_fail(c, EXIT_FAIL,
			              "the passphrase is too weak: %s; nothing was created", why);
	}
	return rc;
}

int cli_secret(cli *c, const char *what, const char *question, bool twice, char *buf, size_t cap)
{
	char again[PASS_MAX];
	int rc = EXIT_OK;

	if (!cli_is_tty(stdin)) { /* one line: the first, its newline not part of it */
		setvbuf(stdin, NULL, _IONBF, 0); /* no copy of it left in stdio's buffer */
		if (!fgets(buf, (int)cap, stdin))
			buf[0] = '\0';
		else if (!strchr(buf, '\n') && !feof(stdin))
			rc = cli_fail(c, EXIT_FAIL, "the %s on standard input is too long", what);
		buf[strcspn(buf, "\r\n")] = '\0';
	} else if (!(rc = prompt(c, question, buf, cap)) && twice &&
	           !(rc = prompt(c, "the same again: ", again, sizeof(again))) &&
	           strcmp(buf, again))
		rc = cli_fail(c, EXIT_FAIL, "the two %ss differ; nothing was changed", what);
	hm_wipe(again, sizeof(again));
	if (!rc && !buf[0])
		rc = cli_fail(c, EXIT_FAIL, "the %s is empty; nothing was changed", what);
	if (rc)
		hm_wipe(buf, cap);
	return rc;
}

void cli_key_path(const cli *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s/node.key", c->dir);
}

int cli_unlock(cli *c, hm_keyfile_secrets *keys)
{
	char path[4200], pass[PASS_MAX];
	int rc;
	hm_err err;

	cli_key_path(c, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return -1; /* no key file: a node created without keys */
	if ((rc = cli_passphrase(c, false, pass, sizeof(pass))))
		return rc;
	err = hm_keyfile_read(keys, path, pass, strlen(pass));
	hm_wipe(pass, sizeof(pass));
	switch (err) {
	case HM_OK:
		return EXIT_OK;
	case HM_ERR_CRYPTO:
		return cli_fail(c, EXIT_FAIL,
		                "wrong passphrase for %s (or the key file was altered)", path);
	case HM_ERR_TRUNCATED:
	case HM_ERR_CORRUPT:
	case HM_ERR_TOO_BIG:
	case HM_ERR_VERSION:
		return cli_fail(c, EXIT_FAIL, "the key file %s is damaged: %s", path,
		                hm_strerror(err));
	default:
		return cli_fail(c, EXIT_FAIL, "cannot read the key file %s: %s", path,
		                hm_strerror(err));
	}
}
