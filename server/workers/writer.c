/*
 * server/workers/writer.c — group commit, and the hashing pool.
 *
 * The writer drains whatever is queued into one transaction: each job runs
 * in its own savepoint (a refused duplicate undoes only itself), then one
 * COMMIT makes the whole batch durable, then every job's done() fires.  A
 * job's answer is never given before its batch is on disk: a read's audit
 * entry is committed before the read's data leaves, and a write is
 * acknowledged only when durable.
 */
#include "server.h"

#include "domain/handles.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 4096
/*
 * The per-member audit index (store.h: cu_store_audit_index) is the
 * writer's to fill, off the request path: after INDEX_IDLE_MS with nothing
 * queued, in a transaction of its own; under load, once the tail reaches
 * INDEX_BATCH_MIN entries, at the end of a batch (sharing its COMMIT).  The
 * store's own bound (CU_STORE_AUDIT_TAIL_MAX) is then never reached by a
 * request.
 */
#define INDEX_IDLE_MS     100
#define INDEX_BATCH_MIN   (CU_STORE_AUDIT_TAIL_MAX / 2)
#define CU_PROBE_TIME_LEN 24 /* the probe's value: a time in microseconds, as text */

struct cu_writer {
	cu_ctx *ctx;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cu_job *head, *tail;
	bool stopping;
	atomic_bool healthy;
	_Atomic uint64_t audit_head; /* the audit chain's committed head, for /metrics */
	cu_policy *_Atomic next_policy;
	_Atomic int64_t probe_claimed_ms; /* monotonic; when the last probe was claimed */
	atomic_bool probe_ok;             /* whether the last probe's batch was durable */
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

cu_result cu_writer_probe(cu_ctx *ctx, cu_job *job)
{
	char now[CU_PROBE_TIME_LEN];

	(void)job;
	/* A time, not a counter: nothing about members or requests. */
	snprintf(now, sizeof(now), "%" PRId64, cu_now_us());
	return cu_handle_meta_set(ctx->store, CU_WRITER_PROBE_KEY, now);
}

bool cu_writer_probe_due(cu_writer *w)
{
	int64_t now = now_ms(), last = atomic_load(&w->probe_claimed_ms);

	if (last && now - last < CU_WRITER_PROBE_MS)
		return false;
	/* One claimant per interval: the others answer from the last result. */
	return atomic_compare_exchange_strong(&w->probe_claimed_ms, &last, now);
}

bool cu_writer_ready(const cu_writer *w)
{
	cu_writer *m = (cu_writer *)w;

	return atomic_load(&m->probe_ok) && atomic_load(&m->healthy);
}

/* Entries appended since the per-member index's mark, as far as this writer knows. */
static uint64_t audit_tail(cu_writer *w)
{
	uint64_t head = cu_audit_head_seq(w->ctx->audit),
	         mark = cu_store_audit_indexed(w->ctx->store);

	return head > mark ? head - mark : 0;
}

/*
 * Indexes the audit tail in a savepoint of the batch or a transaction of
 * its own.  A failure only leaves the tail for the next try: the scan
 * after the mark finds those entries meanwhile.
 */
static void index_tail(cu_ctx *ctx)
{
	if (cu_tx_begin(ctx) != CU_OK)
		return;
	if (cu_store_audit_index(ctx->store, NULL) != CU_OK) {
		cu_tx_rollback(ctx);
		return;
	}
	(void)!cu_tx_commit(ctx);
}

static void run_batch(cu_writer *w, cu_job *jobs)
{
	cu_ctx *ctx = w->ctx;
	uint64_t before = cu_audit_appended(ctx->audit);
	size_t n = 0;
	cu_result rc, st;
	cu_job *j, *next;

	rc = cu_tx_begin(ctx);
	for (j = jobs; j; j = j->next) {
		n++;
		if (rc) {
			j->rc = rc;
			continue;
		}
		if (j->whole) {
			/* No savepoint: a failure takes the batch with it (writer.h). */
			j->rc = CU_OK;
			st = j->run(ctx, j);
			if (st) {
				j->rc = st;
				rc = st;
				cu_tx_rollback(ctx);
			}
			continue;
		}
		j->rc = cu_tx_begin(ctx);
		if (j->rc)
			continue;
		/* A job may answer "refused" and still keep what it wrote (the refusal's audit entry). */
		st = j->run(ctx, j);
		if (st) {
			cu_tx_rollback(ctx);
			j->rc = st;
		} else {
			st = cu_tx_commit(ctx);
			if (st)
				j->rc = st;
		}
	}
	if (!rc) {
		if (audit_tail(w) >= INDEX_BATCH_MIN)
			index_tail(ctx);
		rc = cu_tx_commit(ctx);
	}
	if (rc) {
		/* Nothing of the batch is durable: no job may report success. */
		for (j = jobs; j; j = j->next)
			if (!j->rc)
				j->rc = rc;
	}
	atomic_store(&w->healthy, rc == CU_OK);
	for (j = jobs; j; j = j->next)
		if (j->run == cu_writer_probe)
			atomic_store(&w->probe_ok, j->rc == CU_OK);
	atomic_store(&w->audit_head, cu_audit_head_seq(ctx->audit));
	cu_metrics_batch(n, rc ? 0 : (size_t)(cu_audit_appended(ctx->audit) - before));
	for (j = jobs; j; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j);
	}
}

static void *writer_main(void *arg)
{
	cu_writer *w = arg;

	for (;;) {
		cu_job *batch, *last;
		size_t n = 0;
		cu_policy *p;

		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping) {
			struct timespec until;

			if (!audit_tail(w)) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += INDEX_IDLE_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0 && !w->head &&
			    !w->stopping) {
				/* Idle: the writer's own time, no request waits on it. */
				pthread_mutex_unlock(&w->mu);
				index_tail(w->ctx);
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->head && w->stopping) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		/* Take up to BATCH_MAX jobs; the rest wait for the next commit. */
		batch = last = w->head;
		for (n = 1; last->next && n < BATCH_MAX; n++)
			last = last->next;
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&w->mu);

		p = atomic_exchange(&w->next_policy, NULL);
		if (p)
			w->ctx->policy = p;
		run_batch(w, batch);
	}
	return NULL;
}

cu_result cu_writer_start(cu_ctx *ctx, cu_writer **out)
{
	cu_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return CU_ERR_NOMEM;
	w->ctx = ctx;
	/* Requests' commits leave the audit tail to the writer's idle time (index_tail). */
	cu_store_audit_index_defer(ctx->store, true);
	atomic_init(&w->healthy, true);
	atomic_init(&w->audit_head, cu_audit_head_seq(ctx->audit));
	atomic_init(&w->next_policy, NULL);
	atomic_init(&w->probe_claimed_ms, 0);
	atomic_init(&w->probe_ok, false);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return CU_ERR_INTERNAL;
	}
	*out = w;
	return CU_OK;
}

cu_result cu_writer_submit(cu_writer *w, cu_job *job)
{
	job->next = NULL;
	job->rc = CU_OK;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return CU_ERR_STORE;
	}
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return CU_OK;
}

void cu_writer_stop(cu_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

bool cu_writer_healthy(const cu_writer *w)
{
	return atomic_load(&((cu_writer *)w)->healthy);
}

uint64_t cu_writer_audit_head(const cu_writer *w)
{
	return atomic_load(&((cu_writer *)w)->audit_head);
}

void cu_writer_set_policy(cu_writer *w, cu_policy *p)
{
	atomic_store(&w->next_policy, p);
	/* Wake the writer so the next batch already uses it. */
	pthread_mutex_lock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* ---- hashing pool ------------------------------------------------------ */

#define HASHERS_MAX 8

struct cu_hasher {
	pthread_t threads[HASHERS_MAX];
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cu_job *head, *tail;
	bool stopping;
};

static void *hasher_main(void *arg)
{
	cu_hasher *h = arg;

	for (;;) {
		cu_job *j;

		pthread_mutex_lock(&h->mu);
		while (!h->head && !h->stopping)
			pthread_cond_wait(&h->cv, &h->mu);
		if (!h->head) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		j = h->head;
		h->head = j->next;
		if (!h->head)
			h->tail = NULL;
		pthread_mutex_unlock(&h->mu);
		j->next = NULL;
		j->rc = j->hash(j);
		j->done(j);
	}
	return NULL;
}

cu_result cu_hasher_start(int threads, cu_hasher **out)
{
	cu_hasher *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return CU_ERR_NOMEM;
	if (threads < 1)
		threads = 1;
	if (threads > HASHERS_MAX)
		threads = HASHERS_MAX;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	for (h->n = 0; h->n < threads; h->n++)
		if (pthread_create(&h->threads[h->n], NULL, hasher_main, h) != 0)
			break;
	if (h->n == 0) {
		free(h);
		return CU_ERR_INTERNAL;
	}
	*out = h;
	return CU_OK;
}

cu_result cu_hasher_submit(cu_hasher *h, cu_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&h->mu);
	if (h->stopping) {
		pthread_mutex_unlock(&h->mu);
		return CU_ERR_INTERNAL;
	}
	if (h->tail)
		h->tail->next = job;
	else
		h->head = job;
	h->tail = job;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return CU_OK;
}

void cu_hasher_stop(cu_hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->n; i++)
		pthread_join(h->threads[i], NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}
