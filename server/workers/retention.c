/*
 * server/workers/retention.c — the server's retention worker: a thread that
 * carries out what the retention plan says is due every interval, and
 * stops promptly when asked.
 */
#include "workers/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx/ctx.h"
#include "domain/beacon.h"
#include "domain/erasure.h"
#include "domain/retention.h"

#define DIR_BYTES      4096  /* the data directory's path, as the server keeps it */
#define ERR_BYTES      512   /* one line of cu_ctx_open's */
#define WAKE_MAX_MS    60000 /* the setting is read again at least this often */
#define MS_PER_S       1000u
#define CONF_FILE      "custodian.conf"
#define CONF_PATH_ROOM 32 /* "/custodian.conf" and its NUL, with room */
#define BEACON_HOUR_US ((int64_t)3600 * 1000000)

struct cu_retention_worker {
	char dir[DIR_BYTES];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stopping;
	bool failed_last; /* the last pass failed: say so once, not every interval */
};

static const cu_actor worker_actor = {"retention", CU_ROLE_OPERATOR, NULL, NULL};

static int is_stopping(void *ud)
{
	cu_retention_worker *w = ud;

	return atomic_load(&w->stopping);
}

/* Sleeps up to ms, or until stopped. */
static void pause_ms(cu_retention_worker *w, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / MS_PER_S;
	until.tv_nsec += (long)(ms % MS_PER_S) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	while (!atomic_load(&w->stopping) &&
	       pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->mu);
}

/* The interval in seconds as the file says now (0: off; the last good value if unreadable). */
static unsigned interval_now(cu_retention_worker *w, unsigned last)
{
	char path[DIR_BYTES + CONF_PATH_ROOM], err[ERR_BYTES];
	cu_config c;

	snprintf(path, sizeof(path), "%s/%s", w->dir, CONF_FILE);
	cu_config_defaults(&c);
	if (cu_config_load(path, &c, err, sizeof(err)))
		return last;
	return c.retention_interval_s;
}

/* One pass: a ctx of its own, opened for the pass (the policy of the moment). */
static void pass(cu_retention_worker *w)
{
	char err[ERR_BYTES] = "";
	cu_retention_report rep = {0};
	cu_ctx *ctx = NULL;
	size_t punctured = 0;
	cu_result rc = cu_ctx_open(w->dir, &ctx, err, sizeof(err));

	if (!rc) {
		rc = cu_retention_run(ctx, &worker_actor, cu_now_us(), NULL, is_stopping, w, &rep);
		/*
		 * Beacons, whatever the members' pass did: the days over rolled up, raw
		 * hits past the window and old salts gone.
		 */
		cu_result brc = cu_beacon_maintain(
		    ctx, cu_now_us(), (int64_t)ctx->config.beacon_raw_hours * BEACON_HOUR_US, NULL);

		if (!rc)
			rc = brc;
		/*
		 * Erasures another machine made (its own keyring punctured, this one's
		 * not: docs/postgresql.md, "Several servers"): this data directory's
		 * keyring drops their leaves now, and the server within a second.
		 */
		brc = cu_erasure_reconcile(ctx, &punctured);
		if (!rc)
			rc = brc;
		cu_ctx_close(ctx);
	}
	/* Counts and error words only: never a member id, never a value. */
	if (rc && !w->failed_last)
		fprintf(stderr, "custodian: retention: pass failed: %s\n", cu_strerror(rc));
	else if (!rc && w->failed_last)
		fprintf(stderr, "custodian: retention: passes work again\n");
	w->failed_last = rc != CU_OK;
	if (!rc && (rep.fields || rep.notices || rep.erasures || rep.provisions))
		fprintf(
		    stderr,
		    "custodian: retention: cut %llu field(s) of %llu member(s), %llu notice(s), "
		    "%llu erasure(s), %llu provision record(s)\n",
		    (unsigned long long)rep.fields, (unsigned long long)rep.members,
		    (unsigned long long)rep.notices, (unsigned long long)rep.erasures,
		    (unsigned long long)rep.provisions);
	if (!rc && punctured)
		fprintf(stderr,
		        "custodian: retention: %zu keyring leaves of members erased elsewhere "
		        "punctured\n",
		        punctured);
	fflush(stderr);
}

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * MS_PER_S + t.tv_nsec / 1000000;
}

/*
 * A pass every interval after the last one; the first a minute after the
 * start at most (or one interval, if shorter), so a server restarted more
 * often than its interval still runs retention.
 */
static void *worker_main(void *arg)
{
	cu_retention_worker *w = arg;
	unsigned interval = interval_now(w, 0);
	long long first = interval ? (long long)interval * MS_PER_S : 0;
	long long last = mono_ms() - first + (first < WAKE_MAX_MS ? first : WAKE_MAX_MS);

	while (!atomic_load(&w->stopping)) {
		long long now = mono_ms(), wait = WAKE_MAX_MS;

		if (interval && now - last >= (long long)interval * MS_PER_S) {
			pass(w);
			last = now = mono_ms();
		}
		if (interval && last + (long long)interval * MS_PER_S - now < wait)
			wait = last + (long long)interval * MS_PER_S - now;
		pause_ms(w, wait > 0 ? (unsigned)wait : 0);
		interval = interval_now(w, interval);
	}
	return NULL;
}

cu_result cu_retention_worker_start(const char *data_dir, cu_retention_worker **out, char *err,
                                    size_t errlen)
{
	cu_retention_worker *w;

	*out = NULL;
	if (strlen(data_dir) >= DIR_BYTES) {
		snprintf(err, errlen, "the data directory's path is too long");
		return CU_ERR_INVALID_ARGUMENT;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return CU_ERR_NOMEM;
	snprintf(w->dir, sizeof(w->dir), "%s", data_dir);
	atomic_init(&w->stopping, false);
	pthread_mutex_init(&w->mu, NULL);
	{
		pthread_condattr_t ca;

		/* Monotonic: a wall-clock step must not stall or rush the interval. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start the retention thread");
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return CU_ERR_INTERNAL;
	}
	*out = w;
	return CU_OK;
}

void cu_retention_worker_stop(cu_retention_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stopping, true);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
