/*
 * server/http/service.h — telling a service manager (systemd) how the
 * server is doing, through libsystemd's sd_notify (private).
 *
 * Every call is a no-op when $NOTIFY_SOCKET is unset (the server run by
 * hand, or by a manager that does not listen): the messages are
 * information for the manager, never a condition of serving.
 *
 * The sequence `custodian serve` sends (docs/operations.md):
 *   1. STATUS= lines while it starts (opening, starting workers);
 *   2. READY=1 with a STATUS= once it listens, after every piece of startup
 *      work (the store opened and migrated, the workers running): from then
 *      on /healthz and /readyz answer;
 *   3. on SIGHUP, RELOADING=1 with MONOTONIC_USEC= (what Type=notify-reload
 *      asks), then READY=1 with a STATUS= once the reload is done, applied
 *      or refused (the status then ends "the last reload was refused, see
 *      the log": the settings and policy in force stay);
 *   4. STOPPING=1 when SIGTERM or SIGINT arrives, before in-flight requests
 *      finish;
 *   5. WATCHDOG=1 every half of $WATCHDOG_USEC, when the manager asks for
 *      it (WatchdogSec=), and only while the writer thread answers
 *      (serve.c): a hung writer stops the pings and the manager restarts
 *      the service.
 * No message carries personal data: the data directory, the address and
 * the policy version only.
 */
#ifndef CU_HTTP_SERVICE_H
#define CU_HTTP_SERVICE_H

#include <stdint.h>

/* A STATUS= line alone (printf-style; at most CU_SERVICE_STATUS_MAX bytes are sent). */
void cu_service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* READY=1 and a STATUS= line. */
void cu_service_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 and MONOTONIC_USEC= (now, CLOCK_MONOTONIC). */
void cu_service_reloading(void);
/* STOPPING=1 and STATUS=stopping. */
void cu_service_stopping(void);
/* WATCHDOG=1. */
void cu_service_watchdog(void);
/*
 * The watchdog interval the manager asked for, in microseconds, or 0 when
 * none ($WATCHDOG_USEC unset, or meant for another process).
 */
uint64_t cu_service_watchdog_usec(void);

#define CU_SERVICE_STATUS_MAX 256

#endif
