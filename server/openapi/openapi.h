/*
 * server/openapi/openapi.h — the OpenAPI document, assembled (private).
 *
 * server/openapi/openapi.json holds the frame (info, security schemes, shared
 * schemas) and the core routes; each area of the API adds its paths and
 * schemas in the other server/openapi/<area>.json files.  All are compiled in and merged
 * once: "paths" and "components.schemas" of a fragment are added to the
 * frame's (a name defined twice is an error, caught by test_openapi).
 */
#ifndef CU_OPENAPI_H
#define CU_OPENAPI_H

#include <stddef.h>

typedef struct cu_openapi_fragment {
	const char *name;
	const char *text;
	size_t len;
} cu_openapi_fragment;

extern const cu_openapi_fragment cu_openapi_fragments[];

/*
 * The whole document as compact JSON, malloc'd (the caller frees), or NULL
 * if a fragment does not parse or defines a path or schema twice; then
 * `err` (if not NULL) names the fragment.
 */
char *cu_openapi_document(char *err, size_t errlen);

#endif
