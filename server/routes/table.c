/*
 * route_tables.c — every area's route table, as one list.
 *
 * The core routes are in routes.c; each area of the API keeps its own table
 * in routes_<area>.c and adds one line below.  The list is flattened once,
 * so a route is an index everywhere else (logs, metrics, the router).
 */
#include "http.h"

#include <pthread.h>

#define ROUTES_MAX 128

extern const cu_route cu_routes_core[];
extern const size_t cu_routes_core_count;
extern const cu_route cu_routes_consent[];
extern const size_t cu_routes_consent_count;
extern const cu_route cu_routes_notify[];
extern const size_t cu_routes_notify_count;
extern const cu_route cu_routes_diary[];
extern const size_t cu_routes_diary_count;
extern const cu_route cu_routes_partner[];
extern const size_t cu_routes_partner_count;
extern const cu_route cu_routes_request[];
extern const size_t cu_routes_request_count;

static const struct {
	const cu_route *table;
	const size_t *count;
} tables[] = {
	{cu_routes_core, &cu_routes_core_count},
	/* areas: one line each */
	{cu_routes_consent, &cu_routes_consent_count},
	{cu_routes_notify, &cu_routes_notify_count},
	{cu_routes_diary, &cu_routes_diary_count},
	{cu_routes_partner, &cu_routes_partner_count},
	{cu_routes_request, &cu_routes_request_count},
};

static cu_route all[ROUTES_MAX];
static size_t nall;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void flatten(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t i = 0; i < *tables[t].count && nall < ROUTES_MAX; i++)
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
