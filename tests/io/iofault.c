/*
 * iofault.c - an LD_PRELOAD shim that fails exactly the N-th disk call of one kind, for the
 * failing-disk loop (tests/io/io_faults.sh, docs/reliability.md).
 *
 * Why our own and not libfiu's POSIX preload (docs/dependencies.md): libfiu fails a call by
 * probability or always, and its external callback does not see the file descriptor, so it
 * cannot fail "the 3rd write to a file" without also failing writes to sockets, pipes and
 * nanomsg's eventfds (which nanomsg asserts on: a crash, not a disk fault).
 *
 * Environment (read once, at load):
 *   HM_IOFAULT        the kind of call: write, pwrite, fsync, fdatasync, rename, open, msync
 *   HM_IOFAULT_N      fail the N-th call of that kind (1-based); 0 or unset: only count
 *   HM_IOFAULT_ERRNO  ENOSPC (default) or EIO, or a number
 *   HM_IOFAULT_STICKY 1: every call of that kind from the N-th on fails (a disk that stays full)
 *   HM_IOFAULT_COUNT  a file to which, at exit, "KIND CALLS FAILED" is appended
 *   HM_IOFAULT_LOG    a file to which each failed call appends one line naming it
 *
 * What counts: calls on regular files other than stdin, stdout and stderr (fd > 2), and opens
 * and renames of any path. Each kind takes in its relatives: write takes writev, fwrite and
 * fflush (stdio's own write() calls are inside libc, where a preload cannot reach them);
 * pwrite takes pwrite64 and pwritev; open takes open64, openat, creat and fopen; rename takes
 * renameat. A failed call does nothing and returns -1 (NULL, a short count, EOF) with errno set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { K_NONE = -1, K_WRITE, K_PWRITE, K_FSYNC, K_FDATASYNC, K_RENAME, K_OPEN, K_MSYNC };
static const char *const kind_names[] = {"write",  "pwrite", "fsync", "fdatasync",
                                         "rename", "open",   "msync"};

static enum kind target = K_NONE;
static unsigned long fail_at, calls, failed;
static int fail_errno = ENOSPC, sticky;
static const char *count_path, *log_path;

__attribute__((constructor)) static void iofault_init(void)
{
	const char *k = getenv("HM_IOFAULT"), *v;

	for (int i = 0; k && i < (int)(sizeof(kind_names) / sizeof(*kind_names)); i++)
		if (strcmp(k, kind_names[i]) == 0)
			target = (enum kind)i;
	if ((v = getenv("HM_IOFAULT_N")))
		fail_at = strtoul(v, NULL, 10);
	if ((v = getenv("HM_IOFAULT_ERRNO")))
		fail_errno = strcmp(v, "EIO") == 0      ? EIO
		             : strcmp(v, "ENOSPC") == 0 ? ENOSPC
		                                        : atoi(v);
	sticky = (v = getenv("HM_IOFAULT_STICKY")) && *v == '1';
	count_path = getenv("HM_IOFAULT_COUNT");
	log_path = getenv("HM_IOFAULT_LOG");
}

/* Appends with the real libc calls (fopen is wrapped below: use the underlying one). */
static void append_line(const char *path, const char *line)
{
	static int (*real_open)(const char *, int, ...);
	static ssize_t (*real_write)(int, const void *, size_t);
	int fd;

	if (!real_open)
		real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	if (!real_write)
		real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if ((fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return;
	if (real_write(fd, line, strlen(line)) < 0) {
		/* a test's bookkeeping: nothing to do */
	}
	close(fd);
}

__attribute__((destructor)) static void iofault_fini(void)
{
	char line[128];

	if (target == K_NONE || !count_path)
		return;
	snprintf(line, sizeof(line), "%s %lu %lu\n", kind_names[target], calls, failed);
	append_line(count_path, line);
}

static bool is_disk_fd(int fd)
{
	struct stat st;
	return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Counts a call of kind k; true when this one must fail (errno is then set). */
static bool hit(enum kind k, const char *what)
{
	char line[4200];

	if (k != target)
		return false;
	calls++;
	if (fail_at == 0 || calls < fail_at || (calls > fail_at && !sticky))
		return false;
	failed++;
	if (log_path) {
		snprintf(line, sizeof(line), "%s #%lu failed (%s): %s\n", kind_names[k], calls,
		         strerror(fail_errno), what);
		append_line(log_path, line);
	}
	errno = fail_errno;
	return true;
}

static bool hit_fd(enum kind k, int fd)
{
	char what[32];
	if (k != target || !is_disk_fd(fd))
		return false;
	snprintf(what, sizeof(what), "fd %d", fd);
	return hit(k, what);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t write(int fd, const void *buf, size_t n)
{
	if (hit_fd(K_WRITE, fd))
		return -1;
	return REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (hit_fd(K_WRITE, fd))
		return -1;
	return REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov, cnt);
}

/* A real failed write inside stdio leaves the stream's error indicator set, which callers may
 * rely on (ferror after a run of unchecked fwrites): set it too. glibc keeps it in _flags. */
static void set_stream_error(FILE *f)
{
#ifdef __GLIBC__
	f->_flags |= 0x0020; /* _IO_ERR_SEEN */
#else
	(void)f;
#endif
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	if (hit_fd(K_WRITE, fileno(f))) {
		set_stream_error(f);
		return 0;
	}
	return REAL("fwrite", size_t(*)(const void *, size_t, size_t, FILE *))(p, size, n, f);
}

int fflush(FILE *f)
{
	if (f && hit_fd(K_WRITE, fileno(f))) {
		set_stream_error(f);
		return EOF;
	}
	return REAL("fflush", int (*)(FILE *))(f);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (hit_fd(K_PWRITE, fd))
		return -1;
	return REAL("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (hit_fd(K_PWRITE, fd))
		return -1;
	return REAL("pwrite64", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (hit_fd(K_PWRITE, fd))
		return -1;
	return REAL("pwritev", ssize_t(*)(int, const struct iovec *, int, off_t))(fd, iov, cnt,
	                                                                          off);
}

int fsync(int fd)
{
	if (hit_fd(K_FSYNC, fd))
		return -1;
	return REAL("fsync", int (*)(int))(fd);
}

int fdatasync(int fd)
{
	if (hit_fd(K_FDATASYNC, fd))
		return -1;
	return REAL("fdatasync", int (*)(int))(fd);
}

int msync(void *addr, size_t len, int flags)
{
	if (hit(K_MSYNC, "a mapping"))
		return -1;
	return REAL("msync", int (*)(void *, size_t, int))(addr, len, flags);
}

int rename(const char *from, const char *to)
{
	if (hit(K_RENAME, to))
		return -1;
	return REAL("rename", int (*)(const char *, const char *))(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	if (hit(K_RENAME, to))
		return -1;
	return REAL("renameat", int (*)(int, const char *, int, const char *))(fd1, from, fd2, to);
}

/* The opens that count: paths outside the system's own folders (libc and the loader read
 * /etc, /usr, /proc and /dev on their own, at moments no test controls). */
static bool hit_path(const char *path)
{
	static const char *const system[] = {"/etc/", "/usr/", "/lib", "/proc/", "/sys/", "/dev/"};
	if (target != K_OPEN)
		return false;
	for (size_t i = 0; i < sizeof(system) / sizeof(*system); i++)
		if (strncmp(path, system[i], strlen(system[i])) == 0)
			return false;
	return hit(K_OPEN, path);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (hit_path(path))
		return -1;
	return REAL("open", int (*)(const char *, int, ...))(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (hit_path(path))
		return -1;
	return REAL("open64", int (*)(const char *, int, ...))(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (hit_path(path))
		return -1;
	return REAL("openat", int (*)(int, const char *, int, ...))(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
	if (hit_path(path))
		return -1;
	return REAL("creat", int (*)(const char *, mode_t))(path, mode);
}

FILE *fopen(const char *path, const char *how)
{
	if (hit_path(path))
		return NULL;
	return REAL("fopen", FILE * (*)(const char *, const char *))(path, how);
}

FILE *fopen64(const char *path, const char *how)
{
	if (hit_path(path))
		return NULL;
	return REAL("fopen64", FILE * (*)(const char *, const char *))(path, how);
}
