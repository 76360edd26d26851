/*
 * server/routes/table.c — the route table: every resource's table, as one list.
 *
 * Each resource keeps its own table in server/routes/<resource>.c (declared
 * in routes.h) and adds one line below, in the order routes are tried.  The list is flattened once,
 * so a route is an index everywhere else (logs, metrics, the router).
 */
#include "routes/routes.h"
#include "web/web.h"

#include <pthread.h>

static const struct {
	const cu_route *table;
	const size_t *count;
} tables[] = {
    {cu_routes_ops, &cu_routes_ops_count},
    {cu_routes_members, &cu_routes_members_count},
    {cu_routes_sessions, &cu_routes_sessions_count},
    {cu_routes_audit, &cu_routes_audit_count},
    /* areas: one line each */
    {cu_routes_consent, &cu_routes_consent_count},
    {cu_routes_notify, &cu_routes_notify_count},
    {cu_routes_diary, &cu_routes_diary_count},
    {cu_routes_third_parties, &cu_routes_third_parties_count},
    {cu_routes_subcontractors, &cu_routes_subcontractors_count},
    {cu_routes_request, &cu_routes_request_count},
    {cu_routes_tokens, &cu_routes_tokens_count},
    {cu_routes_beacon, &cu_routes_beacon_count},
    {cu_routes_statistics, &cu_routes_statistics_count},
    /* web pages (server/web/): one line each */
    {cu_pages_public, &cu_pages_public_count},
    {cu_pages_account, &cu_pages_account_count},
    {cu_pages_officer, &cu_pages_officer_count},
    {cu_pages_me, &cu_pages_me_count},
    {cu_pages_console, &cu_pages_console_count},
    {cu_pages_console_admin, &cu_pages_console_admin_count},
    {cu_pages_casework, &cu_pages_casework_count},
    {cu_pages_policy, &cu_pages_policy_count},
    {cu_pages_statistics, &cu_pages_statistics_count},
};

static cu_route all[CU_ROUTES_MAX];
static size_t nall;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void flatten(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t i = 0; i < *tables[t].count && nall < CU_ROUTES_MAX; i++)
			all[nall++] = tables[t].table[i];
}

const cu_route *cu_route_list(void)
{
	pthread_once(&once, flatten);
	return all;
}

size_t cu_route_count(void)
{
	pthread_once(&once, flatten);
	return nall;
}
