/*
 * server/workers/checkpointer.h — the server's WAL checkpointer (private).
 *
 * The writer's connection checkpoints only past CU_WAL_BOUND_PAGES
 * (cu_handle_set_autocheckpoint_pages), not at SQLite's 1000 pages, so its
 * COMMITs seldom also copy the log into the main file; this thread does
 * that instead, on a store handle of its own, with PASSIVE checkpoints that
 * never wait for or block the writer or the readers.  Durability does not
 * depend on it: a commit is durable once its log frames are synced.
 * It also signs the audit head (audit/checkpoint.h) every
 * CU_AUDIT_CHECKPOINT_INTERVAL_MS while the chain moves: that one small
 * write transaction of its own can make the writer wait for it, briefly.
 * Erasure's TRUNCATE checkpoint (cu_erasure_carry_out) is separate and stays on
 * the writer.
 */
#ifndef CU_CHECKPOINTER_H
#define CU_CHECKPOINTER_H

#include <stddef.h>

#include "util/result.h"
#include "vault/vault.h"

typedef struct cu_checkpointer cu_checkpointer;

/*
 * Opens store_url again and starts the thread: a PASSIVE checkpoint every
 * 100 ms and, every CU_AUDIT_CHECKPOINT_INTERVAL_MS when the audit chain
 * moved, a signed checkpoint of its head (audit/checkpoint.h) into the
 * store and audit_file — after a link in `chain`, the server's chain, when
 * the store holds others — signed with `vault` (borrowed; it must outlive the
 * thread).  Both run here, off the writer and every request: a signature,
 * one small transaction and a file replaced — a few milliseconds every few
 * seconds.  The server's last checkpoint, after the writer's last commit,
 * is cu_ctx_close's (ctx.h).  err gets one line on failure (no personal
 * data).
 */
CU_WARN_UNUSED cu_result cu_checkpointer_start(const char *store_url, const cu_vault *vault,
                                               const char *chain, const char *audit_file,
                                               cu_checkpointer **out, char *err, size_t errlen);
/* Asks for a pass now rather than at the end of the interval.  NULL: no-op. */
void cu_checkpointer_wake(cu_checkpointer *c);
/* Stops (a pass in progress finishes), joins and closes.  NULL: no-op. */
void cu_checkpointer_stop(cu_checkpointer *c);

#endif
