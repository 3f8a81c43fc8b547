/*
 * iorecord.c - an LD_PRELOAD shim that records every write and sync a process makes to the
 * files under one folder, for the power-loss replay (tests/io/powerloss.sh and powerloss.py,
 * docs/reliability.md "Power loss").
 *
 * Environment (read once, at load):
 *   HM_IOREC_LOG  the log, appended one line per call (one write(2) each, O_APPEND, so that
 *                 the processes and threads of a run interleave whole lines)
 *   HM_IOREC_DIR  an absolute folder: only files whose path starts with it are recorded
 *
 * Lines (fields separated by one space; PID is the calling process, FD its descriptor):
 *   O PID FD KIND FLAGS PATH   an open of a file (KIND f) or a folder (KIND d), FLAGS in hex
 *   W PID FD OFFSET HEX        a write of the bytes HEX at OFFSET (pwrite, write, writev, ...)
 *   T PID FD LENGTH            ftruncate
 *   S PID FD                   fsync or fdatasync returned: what came before is on the disk
 *   F PID FD HEX               fsync of a file whose writes went through stdio (they happen
 *                              inside libc, where a preload cannot see them): its whole
 *                              content as the sync found it
 *   R PID FROM TO              rename
 *   U PID PATH                 unlink
 *   M PID                      msync (hamlet's LMDB does not map for writing: noted only)
 *
 * A call is recorded after it returned successfully. A descriptor is known by the open that
 * made it and by its file's device and inode, so a number that stdio closed behind the shim's
 * back and that a socket or eventfd took over is not mistaken for the file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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

#define MAX_FDS  4096
#define MAX_PATH 1024
#define SNAP_MAX ((off_t)64 << 20)

typedef struct tracked {
	bool on, wrote;
	dev_t dev;
	ino_t ino;
	char path[MAX_PATH];
} tracked;

static tracked fds[MAX_FDS];
static const char *log_path, *dir;
static size_t dir_len;

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

__attribute__((constructor)) static void iorecord_init(void)
{
	log_path = getenv("HM_IOREC_LOG");
	dir = getenv("HM_IOREC_DIR");
	if (!log_path || !dir || dir[0] != '/')
		log_path = NULL, dir = NULL;
	dir_len = dir ? strlen(dir) : 0;
}

/* One line, written whole: O_APPEND puts it after every other process's lines. */
static void emit(const char *line, size_t len)
{
	int fd = REAL("open", int (*)(const char *, int, ...))(
	    log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		abort(); /* a record with holes would test nothing */
	if (REAL("write", ssize_t(*)(int, const void *, size_t))(fd, line, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void emitf(const char *fmt, ...)
{
	char line[2 * MAX_PATH + 128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		abort();
	emit(line, (size_t)n);
}

/* "W PID FD OFFSET " or "F PID FD ", then the bytes of iov in hex, then a newline. */
static void emit_data(const char *head, const struct iovec *iov, int cnt, size_t total)
{
	static const char hex[] = "0123456789abcdef";
	size_t hl = strlen(head), at = hl;
	char *line = malloc(hl + 2 * total + 1);

	if (!line)
		abort();
	memcpy(line, head, hl);
	for (int i = 0; i < cnt && total > 0; i++) {
		const unsigned char *p = iov[i].iov_base;
		size_t n = iov[i].iov_len < total ? iov[i].iov_len : total;
		for (size_t j = 0; j < n; j++) {
			line[at++] = hex[p[j] >> 4];
			line[at++] = hex[p[j] & 15];
		}
		total -= n;
	}
	line[at++] = '\n';
	emit(line, at);
	free(line);
}

/* The absolute path of path opened relative to the working folder (or dirfd, AT_FDCWD only). */
static bool absolute(const char *path, char out[MAX_PATH])
{
	char cwd[MAX_PATH];
	if (path[0] == '/')
		return (size_t)snprintf(out, MAX_PATH, "%s", path) < MAX_PATH;
	if (!getcwd(cwd, sizeof(cwd)))
		return false;
	return (size_t)snprintf(out, MAX_PATH, "%s/%s", cwd, path) < MAX_PATH;
}

static bool under_dir(const char *abs)
{
	return dir && strncmp(abs, dir, dir_len) == 0;
}

static void after_open(int fd, const char *path, int flags)
{
	char abs[MAX_PATH];
	struct stat st;

	if (fd < 0 || fd >= MAX_FDS)
		return;
	fds[fd].on = false;
	if (!absolute(path, abs) || !under_dir(abs) || fstat(fd, &st) != 0)
		return;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return;
	fds[fd] = (tracked){true, false, st.st_dev, st.st_ino, ""};
	snprintf(fds[fd].path, sizeof(fds[fd].path), "%s", abs);
	emitf("O %ld %d %c %x %s\n", (long)getpid(), fd, S_ISDIR(st.st_mode) ? 'd' : 'f', flags,
	      abs);
}

/* fd still the file its open named (not a number reused behind stdio's close). */
static bool known(int fd)
{
	struct stat st;
	if (!dir || fd < 0 || fd >= MAX_FDS || !fds[fd].on)
		return false;
	if (fstat(fd, &st) != 0 || st.st_dev != fds[fd].dev || st.st_ino != fds[fd].ino) {
		fds[fd].on = false;
		return false;
	}
	return true;
}

static off_t position(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	struct stat st;
	if (fl >= 0 && (fl & O_APPEND) && fstat(fd, &st) == 0)
		return st.st_size;
	return lseek(fd, 0, SEEK_CUR);
}

static void record_write(int fd, off_t off, const struct iovec *iov, int cnt, ssize_t done)
{
	char head[96];
	if (done <= 0)
		return;
	fds[fd].wrote = true;
	snprintf(head, sizeof(head), "W %ld %d %lld ", (long)getpid(), fd, (long long)off);
	emit_data(head, iov, cnt, (size_t)done);
}

/* A synced file whose writes the shim did not see (stdio): its content, read back by path. */
static void record_snapshot(int fd)
{
	char head[64];
	struct stat st;
	struct iovec iov;
	int rfd;

	if (fds[fd].wrote || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SNAP_MAX)
		return;
	rfd = REAL("open", int (*)(const char *, int, ...))(fds[fd].path, O_RDONLY | O_CLOEXEC);
	iov.iov_base = malloc((size_t)st.st_size + 1);
	if (rfd < 0 || !iov.iov_base ||
	    pread(rfd, iov.iov_base, (size_t)st.st_size, 0) != st.st_size)
		abort();
	close(rfd);
	iov.iov_len = (size_t)st.st_size;
	snprintf(head, sizeof(head), "F %ld %d ", (long)getpid(), fd);
	emit_data(head, &iov, 1, iov.iov_len);
	free(iov.iov_base);
}

static void record_sync(int fd)
{
	if (!known(fd))
		return;
	record_snapshot(fd);
	emitf("S %ld %d\n", (long)getpid(), fd);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	fd = REAL("open", int (*)(const char *, int, ...))(path, flags, mode);
	after_open(fd, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	fd = REAL("open64", int (*)(const char *, int, ...))(path, flags, mode);
	after_open(fd, path, flags);
	return fd;
}

/* Relative to the working folder only (hamlet opens nothing relative to another folder). */
int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	fd = REAL("openat", int (*)(int, const char *, int, ...))(dirfd, path, flags, mode);
	if (dirfd == AT_FDCWD || path[0] == '/')
		after_open(fd, path, flags);
	else if (fd >= 0 && fd < MAX_FDS)
		fds[fd].on = false;
	return fd;
}

int creat(const char *path, mode_t mode)
{
	int fd = REAL("creat", int (*)(const char *, mode_t))(path, mode);
	after_open(fd, path, O_CREAT | O_WRONLY | O_TRUNC);
	return fd;
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		fds[fd].on = false;
	return REAL("close", int (*)(int))(fd);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	bool rec = known(fd);
	off_t off = rec ? position(fd) : 0;
	ssize_t done = REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, n);
	struct iovec iov = {(void *)buf, n};
	if (rec)
		record_write(fd, off, &iov, 1, done);
	return done;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	bool rec = known(fd);
	off_t off = rec ? position(fd) : 0;
	ssize_t done = REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov, cnt);
	if (rec)
		record_write(fd, off, iov, cnt, done);
	return done;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t done =
	    REAL("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
	struct iovec iov = {(void *)buf, n};
	if (known(fd))
		record_write(fd, off, &iov, 1, done);
	return done;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t done =
	    REAL("pwrite64", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
	struct iovec iov = {(void *)buf, n};
	if (known(fd))
		record_write(fd, off, &iov, 1, done);
	return done;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t done =
	    REAL("pwritev", ssize_t(*)(int, const struct iovec *, int, off_t))(fd, iov, cnt, off);
	if (known(fd))
		record_write(fd, off, iov, cnt, done);
	return done;
}

int ftruncate(int fd, off_t len)
{
	int rc = REAL("ftruncate", int (*)(int, off_t))(fd, len);
	if (rc == 0 && known(fd))
		emitf("T %ld %d %lld\n", (long)getpid(), fd, (long long)len);
	return rc;
}

int ftruncate64(int fd, off_t len)
{
	int rc = REAL("ftruncate64", int (*)(int, off_t))(fd, len);
	if (rc == 0 && known(fd))
		emitf("T %ld %d %lld\n", (long)getpid(), fd, (long long)len);
	return rc;
}

int fsync(int fd)
{
	int rc = REAL("fsync", int (*)(int))(fd);
	if (rc == 0)
		record_sync(fd);
	return rc;
}

int fdatasync(int fd)
{
	int rc = REAL("fdatasync", int (*)(int))(fd);
	if (rc == 0)
		record_sync(fd);
	return rc;
}

int msync(void *addr, size_t len, int flags)
{
	int rc = REAL("msync", int (*)(void *, size_t, int))(addr, len, flags);
	if (rc == 0 && dir)
		emitf("M %ld\n", (long)getpid());
	return rc;
}

static void record_rename(const char *from, const char *to)
{
	char a[MAX_PATH], b[MAX_PATH];
	if (dir && absolute(from, a) && absolute(to, b) && (under_dir(a) || under_dir(b)))
		emitf("R %ld %s %s\n", (long)getpid(), a, b);
}

int rename(const char *from, const char *to)
{
	int rc = REAL("rename", int (*)(const char *, const char *))(from, to);
	if (rc == 0)
		record_rename(from, to);
	return rc;
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	int rc =
	    REAL("renameat", int (*)(int, const char *, int, const char *))(fd1, from, fd2, to);
	if (rc == 0 && fd1 == AT_FDCWD && fd2 == AT_FDCWD)
		record_rename(from, to);
	return rc;
}

int unlink(const char *path)
{
	char a[MAX_PATH];
	int rc = REAL("unlink", int (*)(const char *))(path);
	if (rc == 0 && dir && absolute(path, a) && under_dir(a))
		emitf("U %ld %s\n", (long)getpid(), a);
	return rc;
}
