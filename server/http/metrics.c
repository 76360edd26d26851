/*
 * server/http/metrics.c — counters for /metrics (Prometheus text format 0.0.4).
 *
 * Labels are route templates and status codes only: never an id, a query
 * value or anything a client chose, so no personal data can reach a metric.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENDER_START 8192 /* the exposition's first buffer; it grows as needed */


static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

static const double latency_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NLAT (sizeof(latency_le) / sizeof(latency_le[0]))

static const unsigned batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096};
#define NBATCH (sizeof(batch_le) / sizeof(batch_le[0]))

static _Atomic uint64_t requests[CU_ROUTES_MAX + 1][NSTATUS + 1];
static _Atomic uint64_t latency[NLAT + 1];
static _Atomic uint64_t latency_count;
static _Atomic uint64_t latency_sum_us;
static _Atomic uint64_t batches[NBATCH + 1];
static _Atomic uint64_t batch_count, batch_jobs, audit_entries;
static _Atomic int64_t connections;
static _Atomic uint64_t deadlines_missed;

void cu_metrics_request(int route, int status, double seconds)
{
	size_t s = NSTATUS, l = NLAT;

	if (route < 0 || route > CU_ROUTES_MAX)
		route = CU_ROUTES_MAX;
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i] == status)
			s = i;
	atomic_fetch_add(&requests[route][s], 1);
	for (size_t i = 0; i < NLAT; i++)
		if (seconds <= latency_le[i]) {
			l = i;
			break;
		}
	atomic_fetch_add(&latency[l], 1);
	atomic_fetch_add(&latency_count, 1);
	atomic_fetch_add(&latency_sum_us, (uint64_t)(seconds * 1e6));
}

void cu_metrics_batch(size_t jobs, size_t entries)
{
	size_t b = NBATCH;

	for (size_t i = 0; i < NBATCH; i++)
		if (jobs <= batch_le[i]) {
			b = i;
			break;
		}
	atomic_fetch_add(&batches[b], 1);
	atomic_fetch_add(&batch_count, 1);
	atomic_fetch_add(&batch_jobs, jobs);
	atomic_fetch_add(&audit_entries, entries);
}

void cu_metrics_connection(int delta)
{
	atomic_fetch_add(&connections, delta);
}

void cu_metrics_deadline_missed(void)
{
	atomic_fetch_add(&deadlines_missed, 1);
}

struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *nb = realloc(o->buf, o->cap * 2);

		if (!nb) {
			o->failed = 1;
			return;
		}
		o->buf = nb;
		o->cap *= 2;
	}
}

char *cu_metrics_render(const char *const *methods, const char *const *route_names, size_t nroutes,
                        uint64_t audit_head)
{
	struct out o = {malloc(RENDER_START), 0, RENDER_START, 0};
	uint64_t cum = 0;

	if (!o.buf)
		return NULL;
	o.buf[0] = '\0';
	put(&o,
	    "# HELP custodian_http_requests_total HTTP requests by method, route template and status.\n"
	    "# TYPE custodian_http_requests_total counter\n");
	for (size_t r = 0; r <= nroutes && r <= CU_ROUTES_MAX; r++) {
		const char *name = r < nroutes ? route_names[r] : "unmatched";
		const char *method = r < nroutes ? methods[r] : "";

		for (size_t s = 0; s <= NSTATUS; s++) {
			uint64_t v = atomic_load(&requests[r == nroutes ? CU_ROUTES_MAX : r][s]);

			if (v)
				put(&o,
				    "custodian_http_requests_total{method=\"%s\",route=\"%s\","
				    "status=\"%s%d\"} %llu\n",
				    method, name, s < NSTATUS ? "" : "other",
				    s < NSTATUS ? statuses[s] : 0, (unsigned long long)v);
		}
	}
	put(&o, "# HELP custodian_http_request_duration_seconds Time from request to response.\n"
	        "# TYPE custodian_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NLAT; i++) {
		cum += atomic_load(&latency[i]);
		put(&o, "custodian_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    latency_le[i], (unsigned long long)cum);
	}
	cum += atomic_load(&latency[NLAT]);
	put(&o,
	    "custodian_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "custodian_http_request_duration_seconds_sum %.6f\n"
	    "custodian_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)atomic_load(&latency_sum_us) / 1e6,
	    (unsigned long long)atomic_load(&latency_count));
	put(&o, "# HELP custodian_commit_batch_jobs Jobs per group commit.\n"
	        "# TYPE custodian_commit_batch_jobs histogram\n");
	cum = 0;
	for (size_t i = 0; i < NBATCH; i++) {
		cum += atomic_load(&batches[i]);
		put(&o, "custodian_commit_batch_jobs_bucket{le=\"%u\"} %llu\n", batch_le[i],
		    (unsigned long long)cum);
	}
	cum += atomic_load(&batches[NBATCH]);
	put(&o,
	    "custodian_commit_batch_jobs_bucket{le=\"+Inf\"} %llu\n"
	    "custodian_commit_batch_jobs_sum %llu\n"
	    "custodian_commit_batch_jobs_count %llu\n",
	    (unsigned long long)cum, (unsigned long long)atomic_load(&batch_jobs),
	    (unsigned long long)atomic_load(&batch_count));
	put(&o,
	    "# HELP custodian_audit_entries_total Audit entries committed by this process.\n"
	    "# TYPE custodian_audit_entries_total counter\n"
	    "custodian_audit_entries_total %llu\n"
	    "# HELP custodian_audit_head_seq Sequence number of the audit chain's head.\n"
	    "# TYPE custodian_audit_head_seq gauge\n"
	    "custodian_audit_head_seq %llu\n"
	    "# HELP custodian_open_connections Open HTTP connections.\n"
	    "# TYPE custodian_open_connections gauge\n"
	    "custodian_open_connections %lld\n"
	    "# HELP custodian_request_deadline_missed_total Connections closed because a "
	    "request did not arrive whole within request_timeout_seconds.\n"
	    "# TYPE custodian_request_deadline_missed_total counter\n"
	    "custodian_request_deadline_missed_total %llu\n",
	    (unsigned long long)atomic_load(&audit_entries), (unsigned long long)audit_head,
	    (long long)atomic_load(&connections),
	    (unsigned long long)atomic_load(&deadlines_missed));
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
