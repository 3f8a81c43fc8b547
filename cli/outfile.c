/*
 * outfile.c - every file the `hamlet` command writes for its user or for itself (a report or
 * an audit with -o, an enrollment request or answer, peers and peers.state) is made here.
 *
 * What such a file may hold (names and phones, peer addresses, data keys sealed to a node) is
 * for its owner alone: it is created 0600 whatever the umask, exclusively (O_EXCL, O_NOFOLLOW,
 * so never through a planted link), and an existing file is never replaced without force.
 * With force the new file is written beside it (0600, exclusive) and renamed over it once it
 * is whole, so the old file's mode does not carry over and a failure leaves the old file as it
 * was. A file that fails halfway is removed: a command that fails leaves nothing behind.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_outfile_open(cli *c, cli_outfile *o, const char *path, bool force)
{
	const char *at = path;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (force) {
		if ((size_t)snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%ld", path, (long)getpid()) >=
		    sizeof(o->tmp))
			return cli_fail(c, EXIT_FAIL, "cannot create %s: the name is too long",
			                path);
		at = o->tmp;
	}
	fd = open(at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, EXIT_FAIL, "cannot create %s: %s%s", at, hm_strerrno(errno),
		                errno == EEXIST && !force ? " (use --force to replace it)" : "");
	/* The umask can only narrow the mode; fchmod makes it exactly 0600 regardless. */
	if (fchmod(fd, 0600) != 0 || !(o->f = fdopen(fd, "wb"))) {
		int e = errno;
		close(fd);
		unlink(at);
		return cli_fail(c, EXIT_FAIL, "cannot create %s: %s", at, hm_strerrno(e));
	}
	return EXIT_OK;
}

int cli_outfile_close(cli *c, cli_outfile *o, bool keep)
{
	const char *at = o->tmp[0] ? o->tmp : o->path;
	int e = 0;

	if (!o->f)
		return keep ? EXIT_FAIL : EXIT_OK;
	if (keep && (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0))
		e = errno ? errno : EIO;
	if (fclose(o->f) != 0 && keep && !e)
		e = errno;
	o->f = NULL;
	if (keep && !e && o->tmp[0] && rename(o->tmp, o->path) != 0)
		e = errno;
	/* The new name is durable only once its folder is synced: a report said "written" must
	 * survive a power cut (docs/reliability.md). */
	if (keep && !e && hm_file_sync_parent(o->path))
		e = errno ? errno : EIO;
	if (!keep || e) {
		unlink(at);
		return keep ? cli_fail(c, EXIT_FAIL, "cannot write %s: %s", o->path, hm_strerrno(e))
		            : EXIT_OK;
	}
	return EXIT_OK;
}

int cli_write_file(cli *c, const char *path, const void *p, size_t n, bool force)
{
	cli_outfile o;
	int rc = cli_outfile_open(c, &o, path, force);
	if (rc)
		return rc;
	fwrite(p, 1, n, o.f); /* a short write leaves the stream's error set: close reports it */
	return cli_outfile_close(c, &o, true);
}

/* ---- reading a file given on the command line ---- */

/* Read from f until the end into *buf (len bytes, one spare after them), capped. */
static int read_all(cli *c, FILE *f, const char *path, size_t max, size_t cap, char **buf,
                    size_t *len)
{
	for (;;) {
		size_t n;
		if (*len == cap) { /* a file that grew, or a pipe */
			char *p;
			if (cap > max)
				return -1;
			cap = cap * 2 > max + 1u ? max + 1u : cap * 2;
			if (!(p = realloc(*buf, cap)))
				return cli_fail(c, EXIT_FAIL, "out of memory reading %s", path);
			*buf = p;
		}
		if (!*buf && !(*buf = malloc(cap)))
			return cli_fail(c, EXIT_FAIL, "out of memory reading %s", path);
		n = fread(*buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		return cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, hm_strerrno(errno));
	if (*len > max)
		return -1;
	(*buf)[*len] = '\0'; /* len < cap: the loop ends only on a read that fitted */
	return EXIT_OK;
}

int cli_read_file(cli *c, const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	int rc;

	*out = NULL, *len = 0;
	if (!f)
		return cli_fail(c, EXIT_FAIL, "cannot open %s: %s", path, hm_strerrno(errno));
	if (fstat(fileno(f), &st) != 0)
		rc = cli_fail(c, EXIT_FAIL, "cannot read %s: %s", path, hm_strerrno(errno));
	else if (S_ISDIR(st.st_mode))
		rc = cli_fail(c, EXIT_FAIL, "cannot read %s: it is a directory", path);
	else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		rc = -1;
	else
		rc = read_all(c, f, path, max,
		              S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1u << 16, &buf, len);
	fclose(f);
	if (rc)
		free(buf);
	else
		*out = buf; /* owned by the caller */
	return rc;
}
