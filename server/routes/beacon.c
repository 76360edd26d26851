/*
 * server/routes/beacon.c — web beacons over HTTP (domain/beacon.h,
 * docs/beacons.md): GET /b.gif?p=PAGE&e=EVENT&c=CATEGORY answers a 1x1 GIF
 * whatever happens, so it never tells whether it stored; POST /v1/beacon
 * takes {"page", "event", "category"} and answers 204, or 400 for a bad
 * body.  Neither authenticates (a beacon reads no one's data, and is not
 * audited); what the visitor allows is read from the cookie choice
 * (cu_cookies), Sec-GPC and DNT.  A hit that may be stored goes through the
 * writer like every write; the full address and the user agent never leave
 * this request: the domain hashes a truncated address.
 *
 * Durability: POST /v1/beacon answers 204 once the hit is durable, like
 * every 2xx write.  GET /b.gif answers its image whatever happens -- the
 * image says nothing about storing, so it promises nothing -- and does not
 * wait for the commit: the hit goes to the writer as a job of its own.  At
 * most CU_BEACON_QUEUED_MAX wait so; past them a GIF waits for its own
 * commit as any write does (back-pressure: a flood slows down instead of
 * growing the queue, and no hit is dropped).  The throughput is then the
 * writer's, not fsync latency times the connections.
 */
#include "routes/routes.h"
#include "web/web.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/beacon.h"

/* GIF89a, 1x1, one transparent pixel (43 bytes). */
static const unsigned char pixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};
_Static_assert(sizeof(pixel) == 43, "the smallest transparent GIF");

/* GIF hits handed to the writer and not yet committed, at most. */
#define CU_BEACON_QUEUED_MAX 4096

/* A GIF's hit on its way through the writer, owned by the job (freed when done). */
struct queued_hit {
	cu_job job;
	cu_beacon_hit hit;
};

static atomic_uint queued;

/* A known page: the template of a GET web page (server/web/), e.g. "/me/diaries/{id}". */
static bool known_page(const char *page)
{
	const cu_route *routes = cu_route_list();
	size_t n = cu_route_count();

	for (size_t i = 0; i < n; i++)
		if (routes[i].page && !strcmp(routes[i].method, "GET") &&
		    !strcmp(routes[i].name, page))
			return true;
	return false;
}

static bool header_is_one(cu_request *r, const char *name)
{
	const char *v = cu_http_header_value(r, name);

	return v && !strcmp(v, "1");
}

/* What this visitor allows: the cookie choice as chosen; GPC and DNT apart (domain rule 1). */
static void choice_of(cu_request *r, cu_beacon_choice *out)
{
	cu_web_choice wc;

	cu_web_choice_parse(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, CU_CHOICE_COOKIE),
	                    NULL, &wc);
	out->statistics = wc.made && wc.chosen[CU_COOKIE_STATISTICS];
	out->advertising = wc.made && wc.chosen[CU_COOKIE_ADVERTISING];
	out->gpc = header_is_one(r, "Sec-GPC");
	out->dnt = header_is_one(r, "DNT");
}

/* The visitor's truncated address and user agent, into the hit the writer will hash. */
static void visitor_of(cu_request *r, cu_beacon_hit *hit)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *ua = cu_http_header_value(r, "User-Agent");

	cu_beacon_address(ci ? ci->client_addr : NULL, hit->addr, &hit->addr_len);
	snprintf(hit->ua, sizeof(hit->ua), "%s", ua ? ua : "");
}

static cu_result run_record(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return cu_beacon_record(ctx, r->state, cu_now_us(), NULL);
}

/*
 * Checks, decides and, when the hit may be stored, hands it to the writer
 * (1: the handler waits).  0: nothing to store (refused or not allowed);
 * -1: out of memory.
 */
static int take(cu_request *r, const char *page, const char *event, const char *category,
                cu_errors *errs, cu_result *bad)
{
	cu_beacon_choice choice;
	cu_beacon_hit *hit = cu_arena_alloc(&r->arena, sizeof(*hit));

	if (!hit)
		return -1;
	*bad = cu_beacon_parse(page, event, category, known_page, hit, errs);
	if (*bad)
		return 0;
	choice_of(r, &choice);
	if (!cu_beacon_may_store(&choice, hit->category))
		return 0;
	visitor_of(r, hit);
	r->state = hit;
	return 1;
}

static cu_result run_queued(cu_ctx *ctx, cu_job *job)
{
	struct queued_hit *q = job->arg;

	return cu_beacon_record(ctx, &q->hit, cu_now_us(), NULL);
}

/* The copy holds the truncated address and the user agent: wiped before it is freed. */
static void queued_free(struct queued_hit *q)
{
	sodium_memzero(q, sizeof(*q));
	free(q);
}

static void queued_done(cu_job *job)
{
	queued_free(job->arg);
	atomic_fetch_sub(&queued, 1);
}

/*
 * Hands the request's hit (r->state) to the writer without waiting: true.
 * False when CU_BEACON_QUEUED_MAX hits wait already: the caller waits for
 * this one's commit instead (back-pressure, nothing dropped).  A hit that
 * cannot be queued otherwise (no memory, the writer stopping) is dropped.
 */
static bool enqueue(cu_request *r)
{
	struct queued_hit *q;

	if (atomic_fetch_add(&queued, 1) >= CU_BEACON_QUEUED_MAX) {
		atomic_fetch_sub(&queued, 1);
		return false;
	}
	q = malloc(sizeof(*q));
	if (!q)
		goto drop;
	memset(&q->job, 0, sizeof(q->job));
	q->hit = *(const cu_beacon_hit *)r->state;
	q->job.run = run_queued;
	q->job.done = queued_done;
	q->job.arg = q;
	if (cu_writer_submit(r->srv->writer, &q->job) == CU_OK)
		return true;
	queued_free(q);
drop:
	atomic_fetch_sub(&queued, 1);
	return true;
}

static enum MHD_Result gif(cu_request *r)
{
	return cu_http_reply_static(r, MHD_HTTP_OK, "image/gif", pixel, sizeof(pixel));
}

/* GET /b.gif: the image, always (a bad or refused hit is not stored, and not told). */
static enum MHD_Result h_gif(cu_request *r)
{
	cu_errors errs;
	cu_result bad;

	if (r->phase > 0)
		return gif(r);
	cu_errors_init(&errs);
	if (take(r, cu_http_query(r, "p"), cu_http_query(r, "e"), cu_http_query(r, "c"), &errs,
	         &bad) == 1 &&
	    !enqueue(r))
		return cu_http_wait_writer(r, run_record);
	return gif(r);
}

/* POST /v1/beacon: 204 once stored (or when not to be stored); 400 for a bad body. */
static enum MHD_Result h_post(cu_request *r)
{
	static const char *const keys[] = {"page", "event", "category", NULL};
	enum MHD_Result reply;
	cu_errors errs;
	cu_result bad = CU_OK;
	json_t *body;
	bool wrong = false;
	const char *page, *event, *category;
	int took;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_empty(r, MHD_HTTP_NO_CONTENT);
	}
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	body = cu_http_body_json(r, &reply);
	if (!body)
		return reply;
	cu_errors_init(&errs);
	if (!cu_route_only_keys(body, keys)) {
		json_decref(body);
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "only page, event and category are taken", NULL);
	}
	page = cu_route_opt_string(body, "page", &wrong);
	event = cu_route_opt_string(body, "event", &wrong);
	category = cu_route_opt_string(body, "category", &wrong);
	took = wrong ? 0 : take(r, page, event, category, &errs, &bad);
	json_decref(body);
	if (took < 0)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (wrong)
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "page, event and category are strings", NULL);
	if (bad)
		return cu_http_reply_error(r, bad, NULL, &errs);
	if (took)
		return cu_http_wait_writer(r, run_record);
	return cu_http_reply_empty(r, MHD_HTTP_NO_CONTENT);
}

const cu_route cu_routes_beacon[] = {
    {"GET", "/b.gif", "/b.gif", h_gif, 0, true, true, false},
    {"POST", "/v1/beacon", "/v1/beacon", h_post, 0, true, true, false},
};
const size_t cu_routes_beacon_count = sizeof(cu_routes_beacon) / sizeof(cu_routes_beacon[0]);
