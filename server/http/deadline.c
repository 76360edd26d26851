/*
 * server/http/deadline.c — the request-arrival deadline and its reaper (deadline.h).
 */
#include "http/deadline.h"

#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct cu_conn_deadline {
	cu_conn_deadline *prev, *next;
	int fd;
	bool shut;              /* shut down once; the registry's lock guards it */
	_Atomic int64_t due_ms; /* monotonic; 0: no deadline (a request is being answered) */
};

struct cu_deadlines {
	unsigned timeout_ms;
	pthread_t thread;
	pthread_mutex_t mu; /* the list, `shut` and `stopping` */
	pthread_cond_t cv;
	cu_conn_deadline *head;
	bool stopping;
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *reaper_main(void *arg)
{
	cu_deadlines *d = arg;

	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		struct timespec until;
		int64_t now = now_ms();

		for (cu_conn_deadline *c = d->head; c; c = c->next) {
			int64_t due = atomic_load(&c->due_ms);

			if (due && now >= due && !c->shut) {
				/* libmicrohttpd reads the end of the stream and closes it itself. */
				(void)shutdown(c->fd, SHUT_RDWR);
				c->shut = true;
				cu_metrics_deadline_missed();
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)CU_DEADLINE_TICK_MS * 1000000;
		while (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!d->stopping && pthread_cond_timedwait(&d->cv, &d->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

cu_result cu_deadlines_start(unsigned timeout_ms, cu_deadlines **out)
{
	cu_deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	*out = NULL;
	if (!d)
		return CU_ERR_NOMEM;
	d->timeout_ms = timeout_ms;
	pthread_mutex_init(&d->mu, NULL);
	/* Monotonic: a wall-clock step must not stall the reaper or rush it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->thread, NULL, reaper_main, d) != 0) {
		pthread_cond_destroy(&d->cv);
		pthread_mutex_destroy(&d->mu);
		free(d);
		return CU_ERR_INTERNAL;
	}
	*out = d;
	return CU_OK;
}

void cu_deadlines_stop(cu_deadlines *d)
{
	cu_conn_deadline *c, *next;

	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	/* libmicrohttpd has stopped: whatever it did not report closed is ours to free. */
	for (c = d->head; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

cu_conn_deadline *cu_deadlines_add(cu_deadlines *d, int fd)
{
	cu_conn_deadline *c;

	if (!d || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->fd = fd;
	atomic_init(&c->due_ms, now_ms() + d->timeout_ms);
	pthread_mutex_lock(&d->mu);
	c->next = d->head;
	if (d->head)
		d->head->prev = c;
	d->head = c;
	pthread_mutex_unlock(&d->mu);
	return c;
}

void cu_deadlines_remove(cu_deadlines *d, cu_conn_deadline *c)
{
	if (!d || !c)
		return;
	pthread_mutex_lock(&d->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&d->mu);
	free(c);
}

void cu_deadlines_stop_clock(cu_conn_deadline *c)
{
	if (c)
		atomic_store(&c->due_ms, 0);
}

void cu_deadlines_restart(cu_deadlines *d, cu_conn_deadline *c)
{
	if (d && c)
		atomic_store(&c->due_ms, now_ms() + d->timeout_ms);
}
