/*
 * src/util/file_atomic.c — a file written whole or not at all: see file_atomic.h.
 */
#include "util/file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TMP_RANDOM 8 /* bytes of randomness in a temporary file's name */

void cu_file_dir_of(const char *path, char out[CU_FILE_PATH_MAX + 1])
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, CU_FILE_PATH_MAX + 1, ".");
	else if (slash == path)
		snprintf(out, CU_FILE_PATH_MAX + 1, "/");
	else
		snprintf(out, CU_FILE_PATH_MAX + 1, "%.*s", (int)(slash - path), path);
}

static cu_result write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return CU_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return CU_OK;
}

cu_result cu_file_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[CU_FILE_PATH_MAX + 2 * TMP_RANDOM + 16], dir[CU_FILE_PATH_MAX + 1];
	char rndhex[2 * TMP_RANDOM + 1];
	unsigned char rnd[TMP_RANDOM];
	cu_result rc;
	int fd, dfd;

	if (!path || strlen(path) > CU_FILE_PATH_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rndhex, sizeof(rndhex), rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, rndhex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return CU_ERR_IO;
	rc = write_all(fd, data, len);
	if (!rc && fsync(fd) != 0)
		rc = CU_ERR_IO;
	if (close(fd) != 0 && !rc)
		rc = CU_ERR_IO;
	if (!rc && rename(tmp, path) != 0)
		rc = CU_ERR_IO;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* The rename itself is durable only once the directory is. */
	cu_file_dir_of(path, dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return CU_ERR_IO;
	if (fsync(dfd) != 0)
		rc = CU_ERR_IO;
	close(dfd);
	return rc;
}
