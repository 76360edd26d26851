/*
 * fail_writes.c — an LD_PRELOAD shim for the fault tests (tests/api/test_faults.py):
 * a full or read-only disk on demand, without root, a tmpfs or a mount.
 *
 * While the file named by CU_FAULT_CONTROL exists, every write, sync,
 * truncation and allocation on a file under the directory CU_FAULT_DIR fails
 * with the error the control file names: "ENOSPC" (the default, also for an
 * empty file), "EROFS" or "EIO".  Sockets, pipes and files elsewhere (the
 * access log, say) are untouched, so the server can still answer.  Remove
 * the control file and the disk "comes back".
 *
 *   LD_PRELOAD=build/fail_writes.so CU_FAULT_DIR=/data CU_FAULT_CONTROL=/tmp/x \
 *       custodian --data /data serve
 *
 * Reads and memory-mapped writes (SQLite's -shm index) pass through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* A call before the constructor ran (another library's) finds them first. */
#define NEXT(name) (real_##name ? real_##name : (find_real(), real_##name))
static void find_real(void);

/* The errno to fail with, or 0: the control file exists and fd is a file under the directory. */
static int fault(int fd)
{
	const char *control = getenv("CU_FAULT_CONTROL"), *dir = getenv("CU_FAULT_DIR");
	char link[64], path[PATH_MAX], word[16] = "";
	size_t dlen;
	ssize_t n;
	int saved = errno, cfd, err = ENOSPC;

	if (!control || !dir || access(control, F_OK) != 0) {
		errno = saved;
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (n <= 0 || (size_t)n <= dlen || strncmp(path, dir, dlen) || path[dlen] != '/') {
		errno = saved;
		return 0;
	}
	cfd = open(control, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		n = read(cfd, word, sizeof(word) - 1);
		close(cfd);
		word[n > 0 ? n : 0] = '\0';
		if (!strncmp(word, "EROFS", 5))
			err = EROFS;
		else if (!strncmp(word, "EIO", 3))
			err = EIO;
	}
	errno = saved;
	return err;
}

#define FAIL_IF_FAULTED(fd, ret)                                                                   \
	do {                                                                                       \
		int e_ = fault(fd);                                                                \
		if (e_) {                                                                          \
			errno = e_;                                                                \
			return ret;                                                                \
		}                                                                                  \
	} while (0)

/* Exported, so every prototype is this file's own (-Wmissing-prototypes). */
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off);
ssize_t writev(int fd, const struct iovec *iov, int cnt);
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off);
int fsync(int fd);
int fdatasync(int fd);
int ftruncate(int fd, off_t len);
int ftruncate64(int fd, off64_t len);
int fallocate(int fd, int mode, off_t off, off_t len);
int fallocate64(int fd, int mode, off64_t off, off64_t len);
int posix_fallocate(int fd, off_t off, off_t len);
int posix_fallocate64(int fd, off64_t off, off64_t len);

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);

/* The real functions, found once before main (and before any thread). */
__attribute__((constructor)) static void find_real(void)
{
#define FIND(name) real_##name = dlsym(RTLD_NEXT, #name)
	FIND(write);
	FIND(pwrite);
	FIND(pwrite64);
	FIND(writev);
	FIND(pwritev);
	FIND(pwritev64);
	FIND(fsync);
	FIND(fdatasync);
	FIND(ftruncate);
	FIND(ftruncate64);
	FIND(fallocate);
	FIND(fallocate64);
	FIND(posix_fallocate);
	FIND(posix_fallocate64);
#undef FIND
}

ssize_t write(int fd, const void *buf, size_t n)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(pwritev)(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(pwritev64)(fd, iov, cnt, off);
}

int fsync(int fd)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(fsync)(fd);
}

int fdatasync(int fd)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(fdatasync)(fd);
}

int ftruncate(int fd, off_t len)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(ftruncate)(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(ftruncate64)(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(fallocate)(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	FAIL_IF_FAULTED(fd, -1);
	return NEXT(fallocate64)(fd, mode, off, len);
}

/* posix_fallocate returns the error rather than setting errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
	int e = fault(fd);

	return e ? e : NEXT(posix_fallocate)(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	int e = fault(fd);

	return e ? e : NEXT(posix_fallocate64)(fd, off, len);
}
