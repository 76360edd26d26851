/*
 * server/workers/retention.h — the server's retention worker (private).
 *
 * One thread that, every [retention] interval_seconds, opens the data
 * directory anew (so the policy in force and the setting are the files' of
 * the moment: a publication or a SIGHUP is seen at the next pass) and runs
 * cu_retention_run (domain/retention.h), the function `custodian retention
 * run` calls, as actor "retention" (role operator), then the beacons' upkeep
 * and cu_erasure_reconcile (domain/erasure.h): a server on another machine
 * with its own copy of the keyring punctures the leaves of members erased
 * through the others within one interval, not at its next start.  Its writes are
 * ordinary transactions; the writer catches up with its audit entries at
 * its next batch (cu_audit_sync), as with the notifier.  With the interval
 * 0 it only wakes each minute to read the setting again.  What it says on
 * stderr is counts and error words, never an id or a value.
 */
#ifndef CU_RETENTION_WORKER_H
#define CU_RETENTION_WORKER_H

#include "util/result.h"

typedef struct cu_retention_worker cu_retention_worker;

/*
 * Starts the thread: the first pass a minute after the start (or one
 * interval, if shorter), then one every interval.  err gets one line on failure.
 */
CU_WARN_UNUSED cu_result cu_retention_worker_start(const char *data_dir, cu_retention_worker **out,
                                                   char *err, size_t errlen);
/* Stops: a pass in progress finishes its member, then the thread is joined.  NULL: no-op. */
void cu_retention_worker_stop(cu_retention_worker *w);

#endif
