/*
 * tests/unit/support.h — helpers shared by the unit tests.
 */
#ifndef CU_TEST_SUPPORT_H
#define CU_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx/ctx.h"

/* A fresh empty directory under $TMPDIR; the caller frees the string. */
char *cu_test_tmpdir(void);
/* rm -rf of a directory made by cu_test_tmpdir.  NULL is a no-op. */
void cu_test_rmdir(char *dir);
/* Path to a file in the source tree ($CU_SOURCE_DIR/rel); static buffer. */
const char *cu_test_source_path(const char *rel);
/* Initialises a data directory in a new tmpdir (low Argon2id cost) and opens it. */
cu_ctx *cu_test_ctx_new(char **dir_out);
/* Closes and removes. */
void cu_test_ctx_free(cu_ctx *ctx, char *dir);
/* Whether the bytes of needle occur in file path (false if no such file). */
bool cu_test_file_contains(const char *path, const char *needle);
/* As above for n arbitrary bytes. */
bool cu_test_file_contains_bytes(const char *path, const void *needle, size_t n);
/* Number of audit entries in the store. */
unsigned long long cu_test_audit_count(cu_ctx *ctx);
/* The operator, as the command line acts. */
extern const struct cu_actor cu_test_operator;

#endif
