/*
 * server/workers/notifier.h — the server's notification worker (private).
 *
 * One thread with its own cu_ctx on the server's data directory (a cu_ctx
 * is one thread's; the writer's stays the writer's).  Every interval_ms it
 * runs cu_notify_deliver; its writes (claims, outcomes, the audit entries
 * of address reads) are ordinary transactions, and the writer catches up
 * with its audit entries at its next batch (cu_audit_sync).
 */
#ifndef CU_NOTIFIER_H
#define CU_NOTIFIER_H

#include "util/config.h"
#include "util/result.h"

typedef struct cu_notifier cu_notifier;

/*
 * Opens the data directory again, with the server's flags (may be NULL;
 * cu_ctx_open_with), and starts the thread.  With [notify] mode = off
 * nothing starts: *out is NULL and the answer CU_OK.  err gets one line on
 * failure (no personal data).
 */
CU_WARN_UNUSED cu_result cu_notifier_start(const char *data_dir, const cu_config_flags *flags,
                                           cu_notifier **out, char *err, size_t errlen);
/*
 * Stops promptly: a send in progress is abandoned (it does not count as an
 * attempt, and the row is due again), then joins and closes.  NULL is a
 * harmless no-op.
 */
void cu_notifier_stop(cu_notifier *n);

#endif
