/*
 * server/http/jobs.c — what a handler reaches from its network thread: a read-only store
 * handle per thread, the policy in force, and the suspension of the connection
 * while a writer or hashing job runs.
 */
#include "http/http.h"

#include <pthread.h>

#include "domain/handles.h"

/* ---- readers: one read-only store handle per network thread -------------- */

void cu_http_reader_close(void *p)
{
	cu_handle_close(p);
}

cu_store *cu_http_reader(cu_server *srv)
{
	cu_store *s = pthread_getspecific(srv->reader_key);
	char err[CU_SERVER_ERR_MAX];

	if (s)
		return s;
	if (cu_handle_open(srv->store_url, &s, err, sizeof(err)) != CU_OK)
		return NULL;
	if (cu_handle_set_cache_kib(s, CU_READER_CACHE_KIB) != CU_OK) {
		cu_handle_close(s);
		return NULL;
	}
	pthread_setspecific(srv->reader_key, s);
	return s;
}

cu_policy *cu_http_policy(cu_server *srv)
{
	return atomic_load(&srv->policy);
}

/* ---- jobs: suspend the connection until the job is done ------------------ */

static void job_done(cu_job *job)
{
	cu_request *r = job->arg;

	/* Resuming calls the handler again; it finds r->phase advanced. */
	MHD_resume_connection(r->conn);
}

static enum MHD_Result wait_writer(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *), bool whole)
{
	r->job.whole = whole;
	r->job.run = run;
	r->job.hash = NULL;
	r->job.done = job_done;
	r->job.arg = r;
	r->job.rc = CU_OK;
	r->phase++;
	MHD_suspend_connection(r->conn);
	if (cu_writer_submit(r->srv->writer, &r->job) != CU_OK) {
		MHD_resume_connection(r->conn);
		r->job.rc = CU_ERR_STORE;
	}
	return MHD_YES;
}

enum MHD_Result cu_http_wait_writer(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *))
{
	return wait_writer(r, run, false);
}

enum MHD_Result cu_http_wait_writer_whole(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *))
{
	return wait_writer(r, run, true);
}

enum MHD_Result cu_http_wait_hasher(cu_request *r, cu_result (*hash)(cu_job *))
{
	r->job.whole = false;
	r->job.run = NULL;
	r->job.hash = hash;
	r->job.done = job_done;
	r->job.arg = r;
	r->job.rc = CU_OK;
	r->phase++;
	MHD_suspend_connection(r->conn);
	if (cu_hasher_submit(r->srv->hasher, &r->job) != CU_OK) {
		MHD_resume_connection(r->conn);
		r->job.rc = CU_ERR_INTERNAL;
	}
	return MHD_YES;
}
