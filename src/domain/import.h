/*
 * src/domain/import.h — bulk registration from a file.
 *
 * CSV (RFC 4180, libcsv) with a header row naming policy fields, or JSON
 * Lines when the file name ends in ".jsonl" (one object per line, string
 * values; integers are accepted for integer fields).  Every valid row is
 * registered exactly as cu_member_register would; an invalid row is refused
 * whole and reported by line number and field name — never by value.
 * Rows are committed in batches (config import_batch) so a million rows cost
 * a few hundred commits, not a million.
 *
 * A header naming a column the policy does not know, an unreadable file or a
 * store failure stops the import: CU_ERR_INVALID_ARGUMENT / CU_ERR_IO /
 * CU_ERR_STORE with a one-line message; batches already committed stay.
 *
 * Rows of a file of cu_import_thread_from bytes or more are parsed, validated
 * and sealed (cu_member_prepare) on a helper thread that the call starts and
 * joins, while the caller's thread writes
 * them (cu_member_apply_in_batch: no savepoint per row, and a refused row
 * leaves nothing written); the store and both callbacks are used on the
 * caller's thread only, in file order.  The helper reads ctx's policy, vault
 * and configuration, which must not change during the call.  At most a few
 * hundred sealed rows wait between the two, whatever the file's size.  A
 * smaller file is read and written on the caller's thread alone, with the
 * same outcome.
 */
#ifndef CUSTODIAN_IMPORT_H
#define CUSTODIAN_IMPORT_H

#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "util/result.h"

typedef struct cu_import_report {
	uint64_t imported; /* rows registered and committed */
	uint64_t rejected; /* rows refused */
} cu_import_report;

/* Called for each refused row: its line, why (rc) and, for input errors, which fields. */
typedef void (*cu_import_reject_fn)(void *ud, uint64_t line, cu_result rc, const cu_errors *errs);
/* Called now and then with bytes read so far and the file size (0 if unknown). */
typedef void (*cu_import_progress_fn)(void *ud, uint64_t done, uint64_t total);

/*
 * The file size from which the helper thread runs: 64 KiB.  Only tests
 * change it (0: every file through the thread), before any import starts.
 */
extern uint64_t cu_import_thread_from;

CU_WARN_UNUSED cu_result cu_import_file(cu_ctx *ctx, const cu_actor *actor, const char *path,
                                        cu_import_report *report, cu_import_reject_fn reject,
                                        cu_import_progress_fn progress, void *ud, char *err,
                                        size_t errlen);

#endif
