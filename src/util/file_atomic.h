/*
 * src/util/file_atomic.h — a file written whole or not at all (private; the audit
 * checkpoint file, audit/checkpoint.c, and the outbox's .eml files, notify.c).
 */
#ifndef CU_FILE_ATOMIC_H
#define CU_FILE_ATOMIC_H

#include <stddef.h>

#include "util/result.h"

#define CU_FILE_PATH_MAX 4096 /* longest path these functions take, NUL excluded */
/* A path under a data directory: the directory (CU_FILE_PATH_MAX) with a file name or a
 * store URL's scheme added, and its NUL. */
#define CU_DATA_PATH_MAX 4200

/* The directory part of path into out ("." when there is none, "/" for the root). */
void cu_file_dir_of(const char *path, char out[CU_FILE_PATH_MAX + 1]);

/*
 * Writes len bytes of data to path, mode 0600, so that a reader (and a
 * crash) sees either the old file or the whole new one: a new temporary file
 * beside it with a random name (O_EXCL, never following a link), fsync,
 * rename over path, fsync of the directory.  On a failure before the rename
 * the temporary file is gone and path is as it was; if only the directory's
 * fsync fails, path already holds the new file but its rename may not survive
 * a crash.  Either way CU_ERR_IO (and CU_ERR_INVALID_ARGUMENT for a path over
 * CU_FILE_PATH_MAX).
 */
CU_WARN_UNUSED cu_result cu_file_write_atomic(const char *path, const void *data, size_t len);

#endif
