/*
 * test_writer.c — group commit: many jobs share commits, a failing job
 * undoes only itself, and nothing is reported done before it is durable.
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
	if (--*s->pending == 0)
		pthread_cond_signal(s->cv);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_stop_drains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
