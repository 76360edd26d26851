/*
 * server/http/service.c — sd_notify messages to systemd (service.h).
 */
#include "http/service.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

/* Microseconds in a second and nanoseconds in a microsecond, for MONOTONIC_USEC. */
#define US_PER_S  1000000ULL
#define NS_PER_US 1000ULL

/* "READY=1\nSTATUS=..." or "STATUS=...": prefix, then the formatted status. */
__attribute__((format(printf, 2, 0))) static void notify_status(const char *prefix, const char *fmt,
                                                                va_list ap)
{
	char status[CU_SERVICE_STATUS_MAX];

	vsnprintf(status, sizeof(status), fmt, ap);
	/* A failure to tell the manager is not the server's failure: nothing to do about it. */
	(void)sd_notifyf(0, "%sSTATUS=%s", prefix, status);
}

void cu_service_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify_status("", fmt, ap);
	va_end(ap);
}

void cu_service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify_status("READY=1\n", fmt, ap);
	va_end(ap);
}

void cu_service_reloading(void)
{
	struct timespec ts;
	unsigned long long usec = 0;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		usec = (unsigned long long)ts.tv_sec * US_PER_S +
		       (unsigned long long)ts.tv_nsec / NS_PER_US;
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", usec);
}

void cu_service_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void cu_service_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

uint64_t cu_service_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
