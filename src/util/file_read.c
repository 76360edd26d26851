/*
 * src/util/file_read.c — a whole file read into memory, up to a bound (file_read.h).
 */
#include "util/file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

char *cu_file_read_bounded(const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int e = 0;

	errno = 0;
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	/* One byte more than allowed tells "too large" from "exactly the limit". */
	buf = max < (size_t)-1 ? malloc(max + 1) : NULL;
	if (!buf) {
		e = ENOMEM;
		goto out;
	}
	errno = 0;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		/* The read's own error where it left one (EISDIR for a directory). */
		e = !ferror(f) ? EFBIG : errno ? errno : EIO;
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
out:
	fclose(f);
	if (e)
		errno = e;
	return buf;
}
