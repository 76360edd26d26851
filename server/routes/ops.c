/*
 * server/routes/ops.c — the operator's routes: /healthz, /readyz (a real write through the
 * writer), /metrics, /openapi.json.
 */
#include "routes/routes.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openapi/openapi.h"

static enum MHD_Result h_healthz(cu_request *r)
{
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result h_readyz(cu_request *r)
{
	/* A real write through the writer, at most once per CU_WRITER_PROBE_MS (server.h). */
	if (r->phase == 0 && r->srv->ready && cu_http_reader(r->srv) &&
	    cu_writer_probe_due(r->srv->writer))
		return cu_http_wait_writer(r, cu_writer_probe);
	if (r->srv->ready && cu_writer_ready(r->srv->writer) && cu_http_reader(r->srv))
		return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"));
	return cu_http_reply_error(r, CU_ERR_NOT_READY,
	                           r->srv->ready ? "the store cannot be written or read"
	                                         : "the server is starting or stopping",
	                           NULL);
}

static enum MHD_Result h_metrics(cu_request *r)
{
	const char *names[CU_ROUTES_MAX], *methods[CU_ROUTES_MAX];
	size_t n = cu_routes_count < CU_ROUTES_MAX ? cu_routes_count : CU_ROUTES_MAX;

	for (size_t i = 0; i < n; i++) {
		names[i] = cu_routes[i].name;
		methods[i] = cu_routes[i].method;
	}
	return cu_http_reply_text(
	    r, MHD_HTTP_OK, "text/plain; version=0.0.4",
	    cu_metrics_render(methods, names, n, cu_writer_audit_head(r->srv->writer)));
}

static enum MHD_Result h_openapi(cu_request *r)
{
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", cu_openapi_document(NULL, 0));
}

const cu_route cu_routes_ops[] = {
    {"GET", "/healthz", "/healthz", h_healthz, 0, true, true, false},
    {"GET", "/readyz", "/readyz", h_readyz, 0, true, true, false},
    {"GET", "/metrics", "/metrics", h_metrics, 0, true, true, false},
    {"GET", "/openapi.json", "/openapi.json", h_openapi, 0, true, true, false},
};

const size_t cu_routes_ops_count = sizeof(cu_routes_ops) / sizeof(cu_routes_ops[0]);
