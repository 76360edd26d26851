/*
 * fuzz_path — the router's path matcher (cu_http_match, server/http/router.c)
 * against every route pattern, as libmicrohttpd hands over the URL: a C
 * string without the query.  What matches must be the pattern with each
 * {} replaced by a captured segment — nothing more, nothing less — and a
 * capture is 1..CU_HTTP_PARAM_MAX-1 bytes without a '/'.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http.h"

static void check(const char *pattern, const char *path, char params[2][CU_HTTP_PARAM_MAX])
{
	size_t np = 0;

	while (*pattern) {
		if (!strncmp(pattern, "{}", 2)) {
			size_t n = strlen(params[np]);

			if (np >= 2 || n == 0 || n >= CU_HTTP_PARAM_MAX ||
			    strchr(params[np], '/') || strncmp(path, params[np], n))
				abort();
			path += n;
			pattern += 2;
			np++;
		} else if (*pattern++ != *path++) {
			abort();
		}
	}
	if (*path)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_cstr(data, size);
	const cu_route *routes = cu_route_list();
	size_t matched = 0;

	for (size_t i = 0; i < cu_route_count(); i++) {
		char params[2][CU_HTTP_PARAM_MAX];

		memset(params, 0, sizeof(params));
		if (cu_http_match(routes[i].pattern, path, params)) {
			check(routes[i].pattern, path, params);
			matched++;
		}
	}
	/* One path, one route for each method at most: GET, HEAD, POST, PUT, PATCH, DELETE. */
	if (matched > 6)
		abort();
	free(path);
	return 0;
}
