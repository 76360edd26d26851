/*
 * src/util/file_read.h — a whole file read into memory, up to a bound.
 *
 * The one bounded reader for the small files Custodian reads whole (the
 * audit checkpoint file, a policy, a receipt or certificate given on the
 * command line): a file longer than the caller's bound is refused rather
 * than cut, so no file can make a reader grow without bound.
 */
#ifndef CU_FILE_READ_H
#define CU_FILE_READ_H

#include <stddef.h>

/*
 * Reads the file at path whole into a new buffer (malloc'd; the caller
 * frees it) of *len bytes and a NUL after them; the file may hold NULs
 * itself.  len may be NULL.  NULL with errno set when it cannot:
 *   what fopen says   the file cannot be opened (ENOENT: absent)
 *   ENOMEM            no memory for max + 1 bytes
 *   the read's error  a read error (EISDIR for a directory; EIO when the
 *                     read left none)
 *   EFBIG             the file is longer than max bytes
 * *len is left alone on failure.
 */
char *cu_file_read_bounded(const char *path, size_t max, size_t *len);

#endif
