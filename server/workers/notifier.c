/*
 * server/workers/notifier.c — the server's notification worker: a thread that delivers
 * due notifications every interval, and stops promptly when asked.
 */
#include "workers/notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctx/ctx.h"
#include "domain/notify.h"

#define PASS_MAX 100 /* rows per pass; the next pass follows at once if there were more */

struct cu_notifier {
	cu_ctx *ctx;
	cu_notify_config cfg;
	unsigned interval_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stopping;
	bool failed_last; /* the last pass failed: say so once, not every interval */
};

static int is_stopping(void *ud)
{
	cu_notifier *n = ud;

	return atomic_load(&n->stopping);
}

/* Sleeps up to ms, or until stopped. */
static void pause_ms(cu_notifier *n, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&n->mu);
	while (!atomic_load(&n->stopping) &&
	       pthread_cond_timedwait(&n->cv, &n->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&n->mu);
}

static void *notifier_main(void *arg)
{
	cu_notifier *n = arg;

	while (!atomic_load(&n->stopping)) {
		cu_notify_report rep;
		cu_result rc = cu_notify_deliver(n->ctx, &n->cfg, cu_now_us(), PASS_MAX, &rep);
		size_t done = rep.sent + rep.failed + rep.dropped;

		/* Counts and codes only: never a member id, never an address. */
		if (rc && !n->failed_last)
			fprintf(stderr, "custodian: notify: delivery pass failed: %s\n",
			        cu_strerror(rc));
		else if (!rc && n->failed_last)
			fprintf(stderr, "custodian: notify: delivery passes work again\n");
		n->failed_last = rc != CU_OK;
		/* Counts only; the officer's outbox view names the rows and their error codes. */
		if (!rc && rep.failed)
			fprintf(stderr,
			        "custodian: notify: %zu delivery attempt(s) failed, %zu given up "
			        "(GET /v1/notify/outbox)\n",
			        rep.failed, rep.gave_up);
		/* A full pass may have left more due rows: go again at once. */
		if (!rc && done >= PASS_MAX)
			continue;
		pause_ms(n, n->interval_ms);
	}
	return NULL;
}

cu_result cu_notifier_start(const char *data_dir, const cu_config_flags *flags, cu_notifier **out,
                            char *err, size_t errlen)
{
	cu_notifier *n;
	cu_result rc;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return CU_ERR_NOMEM;
	rc = cu_ctx_open_with(data_dir, flags, &n->ctx, err, errlen);
	if (rc) {
		free(n);
		return rc;
	}
	cu_notify_config_from_ctx(n->ctx, &n->cfg);
	if (n->cfg.mode == CU_NOTIFY_OFF) {
		cu_ctx_close(n->ctx);
		free(n);
		return CU_OK;
	}
	n->interval_ms = n->ctx->config.notify_interval_ms;
	n->cfg.cancelled = is_stopping;
	n->cfg.cancel_ud = n;
	atomic_init(&n->stopping, false);
	pthread_mutex_init(&n->mu, NULL);
	{
		pthread_condattr_t ca;

		/* Monotonic: a wall-clock step must not stall or rush the poll. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&n->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
		snprintf(err, errlen, "cannot start the notifier thread");
		pthread_cond_destroy(&n->cv);
		pthread_mutex_destroy(&n->mu);
		cu_ctx_close(n->ctx);
		free(n);
		return CU_ERR_INTERNAL;
	}
	*out = n;
	return CU_OK;
}

void cu_notifier_stop(cu_notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	atomic_store(&n->stopping, true);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	cu_ctx_close(n->ctx);
	free(n);
}
