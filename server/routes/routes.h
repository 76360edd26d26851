/*
 * server/routes/routes.h — what the handlers of server/routes/ share
 * (private to them): role bits for the route tables, each resource's table
 * (flattened by table.c), and the helpers of pipeline.c and audit.c that more
 * than one resource uses.  The request, the replies and the door's read
 * pipeline are in http/http.h.
 */
#ifndef CU_ROUTES_H
#define CU_ROUTES_H

#include "http/http.h"
#include "domain/attempts.h"

/* A route's roles: a bit per cu_role (cu_route.who). */
#define R(role)  (1u << CU_ROLE_##role)
#define STAFFISH (R(STAFF) | R(ANALYST) | R(SERVICE) | R(SUBCONTRACTOR) | R(OFFICER) | R(ADMIN))

/* One table per resource, in the order table.c lists them. */
#define CU_ROUTE_TABLE(name)                                                                       \
	extern const cu_route cu_routes_##name[];                                                  \
	extern const size_t cu_routes_##name##_count
CU_ROUTE_TABLE(ops);
CU_ROUTE_TABLE(members);
CU_ROUTE_TABLE(sessions);
CU_ROUTE_TABLE(audit);
CU_ROUTE_TABLE(consent);
CU_ROUTE_TABLE(notify);
CU_ROUTE_TABLE(diary);
CU_ROUTE_TABLE(third_parties);
CU_ROUTE_TABLE(subcontractors);
CU_ROUTE_TABLE(request);
CU_ROUTE_TABLE(tokens);
CU_ROUTE_TABLE(beacon);
CU_ROUTE_TABLE(statistics);

/* The client's address as a rate-limit key for one use (rules in http/ratelimit.h). */
void cu_route_address_key(cu_request *r, const char *use, unsigned char out[CU_RATELIMIT_KEY_LEN]);
/* 429 rate_limited with Retry-After: whole seconds, rounded up. */
enum MHD_Result cu_route_reply_rate_limited(cu_request *r, int64_t retry_us, const char *message);

/*
 * One attempt under the attempt limits: the server's own table
 * (http/ratelimit.h), which holds attempts in flight in this process, and,
 * on a store that several servers share, the store's (domain/attempts.h),
 * where every server counts.  Reserved together, finished together.
 */
typedef struct cu_route_limit {
	cu_ratelimit_hold local;
	size_t n;
	bool shared; /* the store's part was reserved */
	cu_attempt_key keys[CU_RATELIMIT_HOLD_MAX];
	int64_t window[CU_RATELIMIT_HOLD_MAX]; /* the store's window each was counted in */
	bool open[CU_RATELIMIT_HOLD_MAX];      /* the store's part still to finish */
} cu_route_limit;

/*
 * Reserves one attempt against keys[0..n) in both.  CU_OK: *lim holds it;
 * CU_ERR_RATE_LIMITED: *retry_us says when to try again; any other error:
 * the shared store could not be asked (answer 503).  On every error nothing
 * is charged and *lim holds nothing.
 */
CU_WARN_UNUSED cu_result cu_route_limit_reserve(cu_request *r, const cu_ratelimit_key *keys,
                                                size_t n, int64_t now, cu_route_limit *lim,
                                                int64_t *retry_us);
/* Finishes key i (rule 3 of ratelimit.h, 2 of store/limits.h); again: a no-op. */
void cu_route_limit_finish(cu_request *r, cu_route_limit *lim, size_t i,
                           enum cu_ratelimit_outcome outcome, int64_t now);
/* The same outcome for every key still held. */
void cu_route_limit_finish_all(cu_request *r, cu_route_limit *lim,
                               enum cu_ratelimit_outcome outcome, int64_t now);
/* A ?limit= value: def when s is NULL; 0, or -1 unless 1 <= value <= max. */
int cu_route_parse_limit(const char *s, size_t def, size_t max, size_t *out);
/* An audit entry as JSON; full adds the member, the reason and the hash. NULL when out of memory. */
json_t *cu_route_audit_entry_json(const cu_audit_entry *e, bool full);

/* ---- body.c: query strings, JSON bodies, answers ---- */

/* Whether the request carries any query parameter; no_query is its 400 answer. */
bool cu_route_has_query(cu_request *r);
enum MHD_Result cu_route_no_query(cu_request *r);
/* Whether every key of body is one of keys (NULL-terminated). */
bool cu_route_only_keys(json_t *body, const char *const *keys);
/* A string member, or NULL; *bad when present but not a string. */
const char *cu_route_opt_string(json_t *body, const char *key, bool *bad);
/*
 * An array of strings into out (borrowed from the body); *n = 0 when the
 * key is absent.  -1 when present but not an array of at most max strings.
 */
int cu_route_string_list(json_t *body, const char *key, const char **out, size_t max, size_t *n);
/* "a,b" (or lines, with sep '\n') as a JSON array of strings. */
json_t *cu_route_list_json(const char *text, char sep);
/* A time (microseconds) as an ISO 8601 UTC string; a day as YYYY-MM-DD. */
json_t *cu_route_iso(int64_t us);
json_t *cu_route_day(int64_t us);
/* A request's cleanup for a state whose first member is its parsed body (json_t *). */
void cu_route_body_cleanup(cu_request *r);

#endif
