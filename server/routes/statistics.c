/*
 * server/routes/statistics.c — released statistics (issue 13; docs/statistics.md):
 *   GET /v1/stats/members  counts of members by a survey answer, eligibility or consent
 *   GET /v1/stats/beacons  page views and visitors per day
 *   GET /v1/stats/budget   the ε budget of this month and its ledger (officer)
 *
 * A member statistic is the door's steps (domain/statistics.h): the plan on
 * this thread's reader; reuse decided, the ledger and the ONE audit entry
 * through the writer; then — once durable — the scan on the reader (or the
 * kept release read back); then a new release kept through the writer
 * before it is answered.  The scan of a
 * large store takes this network thread for its length (about 20 s for a
 * million members on a quiet 2-core machine): so one member statistic
 * runs at a time in a server, and another asked meanwhile gets 429 with
 * Retry-After before anything is planned, audited or spent — the other
 * network threads stay free for members.
 */
#include "routes/routes.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/statistics.h"

/* ---- GET /v1/stats/members ----------------------------------------------- */

struct members_state {
	cu_stats_plan plan;
	cu_stats_table table;
	bool running; /* holds srv->stats_running */
};

#define STATS_RETRY_US (5LL * 1000000) /* Retry-After while another statistic runs */

static void members_cleanup(cu_request *r)
{
	struct members_state *st = r->state;

	if (!st)
		return;
	cu_stats_table_release(&st->table);
	cu_access_audit_wipe(&st->plan.au);
	if (st->running)
		atomic_store(&r->srv->stats_running, false);
	free(st);
	r->state = NULL;
}

static cu_result run_record(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct members_state *st = r->state;

	/* A refusal (the door's, the budget's) keeps its audit entry: an answer, not a failure. */
	return cu_http_answer(job, cu_stats_record(ctx, &st->plan));
}

static cu_result run_keep(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct members_state *st = r->state;

	job->rc = cu_stats_keep(ctx, &st->plan, &st->table);
	return job->rc;
}

/* A number of ε or δ: digits, at most one '.', finite; -1 otherwise. */
static int parse_number(const char *s, double *out)
{
	char *end;

	*out = 0;
	if (!s)
		return 0;
	if (!*s || strlen(s) > 24 || strspn(s, "0123456789.eE-") != strlen(s))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno || !isfinite(*out) ? -1 : 0;
}

static enum MHD_Result h_stats_members(cu_request *r)
{
	static const char *const allowed[] = {"by",      "purpose", "where", "noise",
	                                      "epsilon", "delta",   "fresh", NULL};
	struct members_state *st = r->state;
	cu_store *reader = cu_http_reader(r->srv);
	const char *noise, *fresh, *msg = NULL;
	cu_stats_query q;
	cu_result rc;

	if (r->phase > 1) {
		/* The release is kept (or was reused): now it may be answered. */
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(r, MHD_HTTP_OK,
		                          cu_stats_members_json(&st->plan, &st->table));
	}
	if (r->phase > 0) {
		/* Fail closed: no committed audit entry, no count. */
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc,
			                           r->job.rc == CU_ERR_BUDGET_EXHAUSTED
			                               ? "this release would exceed the period's "
			                                 "epsilon budget; nothing was spent"
			                               : st->plan.why,
			                           NULL);
		if (!reader)
			return cu_http_store_unavailable(r);
		rc = cu_stats_members_compute(&st->plan, r->srv->ctx->vault, reader, &st->table);
		if (rc == CU_ERR_TOO_FEW_MEMBERS)
			return cu_http_reply_error(
			    r, rc,
			    "the where filter leaves fewer than k members: nothing is released",
			    NULL);
		if (rc)
			return cu_http_reply_error(r, rc, NULL, NULL);
		if (st->plan.reused)
			return cu_http_reply_json(r, MHD_HTTP_OK,
			                          cu_stats_members_json(&st->plan, &st->table));
		return cu_http_wait_writer(r, run_keep);
	}
	if (cu_http_query_only(r, allowed))
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "expected by, purpose, where, noise, epsilon, delta and fresh", NULL);
	memset(&q, 0, sizeof(q));
	q.actor = &r->actor;
	q.by = cu_http_query(r, "by");
	q.purpose = cu_http_query(r, "purpose");
	q.where = cu_http_query(r, "where");
	q.token = r->auth == CU_AUTH_TOKEN ? r->token.id : NULL;
	noise = cu_http_query(r, "noise");
	if (noise && !strcmp(noise, "laplace"))
		q.noise = CU_STATS_NOISE_LAPLACE;
	else if (noise && !strcmp(noise, "gaussian"))
		q.noise = CU_STATS_NOISE_GAUSSIAN;
	else if (noise && !strcmp(noise, "none"))
		q.noise = CU_STATS_NOISE_NONE;
	else if (noise)
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "noise is laplace, gaussian or none", NULL);
	fresh = cu_http_query(r, "fresh");
	if (fresh && strcmp(fresh, "true") && strcmp(fresh, "false"))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "fresh is true or false",
		                           NULL);
	q.fresh = fresh && !strcmp(fresh, "true");
	if (parse_number(cu_http_query(r, "epsilon"), &q.epsilon) ||
	    parse_number(cu_http_query(r, "delta"), &q.delta))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "epsilon and delta are decimal numbers", NULL);
	if ((q.noise == CU_STATS_NOISE_LAPLACE || q.noise == CU_STATS_NOISE_GAUSSIAN) &&
	    !cu_http_query(r, "epsilon"))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "noise needs an epsilon",
		                           NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	st = calloc(1, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	r->state = st;
	r->cleanup = members_cleanup;
	cu_stats_table_init(&st->table);
	if (atomic_exchange(&r->srv->stats_running, true))
		return cu_route_reply_rate_limited(r, STATS_RETRY_US,
		                                   "another statistic is being computed; "
		                                   "nothing was released or spent");
	st->running = true;
	rc = cu_stats_members_plan(cu_http_policy(r->srv), reader, &q, &st->plan, &msg);
	if (rc == CU_ERR_INVALID_ARGUMENT || rc == CU_ERR_PURPOSE_REQUIRED ||
	    rc == CU_ERR_NOISE_REQUIRED)
		return cu_http_reply_error(r, rc, msg, NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	/* Allowed or not, the decision is audited before anything is opened. */
	return cu_http_wait_writer(r, run_record);
}

/* ---- GET /v1/stats/beacons ----------------------------------------------- */

static cu_result run_beacons(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return cu_http_answer(job, cu_stats_beacons_record(ctx, &r->actor, r->state));
}

static void beacons_cleanup(cu_request *r)
{
	free(r->state);
	r->state = NULL;
}

static enum MHD_Result h_stats_beacons(cu_request *r)
{
	static const char *const allowed[] = {"from", "to", "page", "event", NULL};
	cu_store *reader = cu_http_reader(r->srv);
	cu_stats_beacons *b = r->state;
	const char *msg = NULL;
	cu_result rc;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(r, MHD_HTTP_OK, cu_stats_beacons_json(b));
	}
	if (cu_http_query_only(r, allowed))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected from, to, page and event", NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	b = calloc(1, sizeof(*b));
	if (!b)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	r->state = b;
	r->cleanup = beacons_cleanup;
	/* page and event point into the query, which lives as long as the request. */
	rc = cu_stats_beacons_compute(cu_http_policy(r->srv), reader, cu_http_query(r, "from"),
	                              cu_http_query(r, "to"), cu_http_query(r, "page"),
	                              cu_http_query(r, "event"), b, &msg);
	if (rc)
		return cu_http_reply_error(r, rc, msg, NULL);
	return cu_http_wait_writer(r, run_beacons);
}

/* ---- GET /v1/stats/budget ------------------------------------------------ */

static enum MHD_Result h_stats_budget(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	json_t *body = NULL;
	cu_result rc;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_stats_budget_json(cu_http_policy(r->srv), reader, cu_now_us(), &body);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return cu_http_reply_json(r, MHD_HTTP_OK, body);
}

const cu_route cu_routes_statistics[] = {
    {"GET", "/v1/stats/members", "/v1/stats/members", h_stats_members, R(ANALYST) | R(STAFF), false,
     false, false},
    {"GET", "/v1/stats/beacons", "/v1/stats/beacons", h_stats_beacons, R(ANALYST) | R(STAFF), false,
     false, false},
    {"GET", "/v1/stats/budget", "/v1/stats/budget", h_stats_budget, R(OFFICER), false, false,
     false},
};

const size_t cu_routes_statistics_count =
    sizeof(cu_routes_statistics) / sizeof(cu_routes_statistics[0]);
