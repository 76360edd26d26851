/*
 * test_writer.c — group commit: many jobs share commits, a failing job
 * undoes only itself (a whole one, its batch), and nothing is reported done
 * before it is durable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "domain/members.h"
#include "server.h"
#include "support.h"

#define THREADS    8
#define PER_THREAD 50

struct slot {
	cu_job job;
	int fail; /* this job refuses after writing */
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	int *pending;
	char member[CU_ID_LEN + 1];
};

static cu_result run_append(cu_ctx *ctx, cu_job *job)
{
	struct slot *s = job->arg;
	cu_audit_entry e = {.actor = "test",
	                    .role = "operator",
	                    .action = "test",
	                    .member = s->member,
	                    .decision = "done"};
	cu_result rc = cu_audit_append(ctx->audit, ctx->store, &e);

	if (rc)
		return rc;
	/* Written, then refused: the savepoint must take the entry back. */
	return s->fail ? CU_ERR_CONFLICT : CU_OK;
}

static void on_done(cu_job *job)
{
	struct slot *s = job->arg;

	pthread_mutex_lock(s->mu);
	--*s->pending;
	pthread_cond_broadcast(s->cv);
	pthread_mutex_unlock(s->mu);
}

struct submitter {
	cu_writer *w;
	struct slot *slots;
};

static void *submit_all(void *arg)
{
	struct submitter *sub = arg;

	for (int i = 0; i < PER_THREAD; i++)
		assert_int_equal(cu_writer_submit(sub->w, &sub->slots[i].job), CU_OK);
	return NULL;
}

static void test_group_commit(void **state)
{
	static struct slot slots[THREADS * PER_THREAD];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	int pending = THREADS * PER_THREAD, failed = 0;
	struct submitter subs[THREADS];
	pthread_t th[THREADS];
	char *dir;
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	unsigned long long before = cu_test_audit_count(ctx);
	cu_writer *w;
	cu_audit_report rep;

	(void)state;
	for (int i = 0; i < THREADS * PER_THREAD; i++) {
		slots[i].job = (cu_job){.run = run_append, .done = on_done, .arg = &slots[i]};
		slots[i].fail = i % 7 == 3;
		failed += slots[i].fail;
		slots[i].mu = &mu;
		slots[i].cv = &cv;
		slots[i].pending = &pending;
		snprintf(slots[i].member, sizeof(slots[i].member), "m%d", i);
	}
	assert_int_equal(cu_writer_start(ctx, &w), CU_OK);
	for (int t = 0; t < THREADS; t++) {
		subs[t] = (struct submitter){w, &slots[t * PER_THREAD]};
		assert_int_equal(pthread_create(&th[t], NULL, submit_all, &subs[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_lock(&mu);
	while (pending)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	cu_writer_stop(w);

	for (int i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(slots[i].job.rc, slots[i].fail ? CU_ERR_CONFLICT : CU_OK);
	/* Exactly the jobs that succeeded left an entry, and the chain holds. */
	assert_int_equal(cu_test_audit_count(ctx), before + THREADS * PER_THREAD - failed);
	assert_int_equal(cu_audit_verify(ctx->store, &rep, NULL, NULL), CU_OK);
	assert_int_equal(rep.checked, before + THREADS * PER_THREAD - failed);
	assert_int_equal(cu_audit_head_seq(ctx->audit), rep.checked);
	cu_test_ctx_free(ctx, dir);
}

/* Jobs queued while stopping still run; after stop, submissions are refused. */
static void test_stop_drains(void **state)
{
	static struct slot slots[20];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	int pending = 20;
	char *dir;
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	unsigned long long before = cu_test_audit_count(ctx);
	cu_writer *w;

	(void)state;
	assert_int_equal(cu_writer_start(ctx, &w), CU_OK);
	for (int i = 0; i < 20; i++) {
		slots[i] =
		    (struct slot){.job = {.run = run_append, .done = on_done, .arg = &slots[i]},
		                  .mu = &mu,
		                  .cv = &cv,
		                  .pending = &pending};
		snprintf(slots[i].member, sizeof(slots[i].member), "s%d", i);
		assert_int_equal(cu_writer_submit(w, &slots[i].job), CU_OK);
	}
	cu_writer_stop(w);
	assert_int_equal(pending, 0);
	assert_int_equal(cu_test_audit_count(ctx), before + 20);
	cu_test_ctx_free(ctx, dir);
}

/* Holds the writer in its first batch until released, so that what follows queues as one batch. */
struct gate {
	cu_job job;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered, open;
};

static cu_result run_gate(cu_ctx *ctx, cu_job *job)
{
	struct gate *g = job->arg;

	(void)ctx;
	pthread_mutex_lock(&g->mu);
	g->entered = 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	return CU_OK;
}

static void gate_done(cu_job *job)
{
	(void)job;
}

/*
 * A job marked whole runs with no savepoint: when it succeeds its entry is
 * kept like any other; when it fails after writing, nothing of its batch is
 * kept and every job of the batch answers its error, the chain intact.
 */
static void test_whole_jobs(void **state)
{
	static struct slot slots[6];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	int pending = 6;
	char *dir;
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	unsigned long long before = cu_test_audit_count(ctx);
	cu_writer *w;
	cu_audit_report rep;

	(void)state;
	g.job = (cu_job){.run = run_gate, .done = gate_done, .arg = &g};
	for (int i = 0; i < 6; i++) {
		slots[i] =
		    (struct slot){.job = {.run = run_append, .done = on_done, .arg = &slots[i]},
		                  .mu = &mu,
		                  .cv = &cv,
		                  .pending = &pending};
		snprintf(slots[i].member, sizeof(slots[i].member), "w%d", i);
	}
	/* Batch 2: a plain job, two whole ones, all succeed. */
	slots[1].job.whole = slots[2].job.whole = true;
	/* Batch 3 (after the gate again): plain, whole and failing, plain. */
	slots[4].job.whole = true;
	slots[4].fail = 1;
	assert_int_equal(cu_writer_start(ctx, &w), CU_OK);
	for (int batch = 0; batch < 2; batch++) {
		g.entered = g.open = 0;
		assert_int_equal(cu_writer_submit(w, &g.job), CU_OK);
		pthread_mutex_lock(&g.mu);
		while (!g.entered)
			pthread_cond_wait(&g.cv, &g.mu);
		pthread_mutex_unlock(&g.mu);
		for (int i = 3 * batch; i < 3 * batch + 3; i++)
			assert_int_equal(cu_writer_submit(w, &slots[i].job), CU_OK);
		pthread_mutex_lock(&g.mu);
		g.open = 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
		pthread_mutex_lock(&mu);
		while (pending > 6 - 3 * (batch + 1))
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(slots[i].job.rc, CU_OK);
	for (int i = 3; i < 6; i++)
		assert_int_equal(slots[i].job.rc, CU_ERR_CONFLICT);
	assert_false(cu_writer_healthy(w));
	/* The next batch commits again. */
	pending = 1;
	slots[5].fail = 0;
	slots[5].job.whole = true;
	assert_int_equal(cu_writer_submit(w, &slots[5].job), CU_OK);
	cu_writer_stop(w);
	assert_int_equal(slots[5].job.rc, CU_OK);
	assert_int_equal(cu_test_audit_count(ctx), before + 4);
	assert_int_equal(cu_audit_verify(ctx->store, &rep, NULL, NULL), CU_OK);
	assert_int_equal(rep.checked, before + 4);
	assert_int_equal(cu_audit_head_seq(ctx->audit), rep.checked);
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_stop_drains),
	    cmocka_unit_test(test_whole_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
