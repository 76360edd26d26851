/*
 * server/openapi/openapi.c — merges the OpenAPI frame and its area fragments.
 */
#include "openapi/openapi.h"

#include <jansson.h>
#include <stdio.h>

extern const char cu_openapi_json[];
extern const size_t cu_openapi_json_len;

/* Adds src's members to dst; -1 if a name is already there. */
static int add_all(json_t *dst, json_t *src)
{
	const char *key;
	json_t *v;

	if (!src)
		return 0;
	if (!json_is_object(src) || !json_is_object(dst))
		return -1;
	json_object_foreach(src, key, v)
	{
		if (json_object_get(dst, key))
			return -1;
		json_object_set(dst, key, v);
	}
	return 0;
}

char *cu_openapi_document(char *err, size_t errlen)
{
	json_t *doc =
	    json_loadb(cu_openapi_json, cu_openapi_json_len, JSON_REJECT_DUPLICATES, NULL);
	char *text = NULL;

	if (!doc) {
		if (err)
			snprintf(err, errlen, "openapi.json does not parse");
		return NULL;
	}
	for (const cu_openapi_fragment *f = cu_openapi_fragments; f->name; f++) {
		json_t *frag = json_loadb(f->text, f->len, JSON_REJECT_DUPLICATES, NULL);
		int bad = !frag ||
		          add_all(json_object_get(doc, "paths"), json_object_get(frag, "paths")) ||
		          add_all(json_object_get(json_object_get(doc, "components"), "schemas"),
		                  json_object_get(json_object_get(frag, "components"), "schemas"));

		json_decref(frag);
		if (bad) {
			if (err)
				snprintf(err, errlen, "openapi/%s does not parse or repeats a name",
				         f->name);
			json_decref(doc);
			return NULL;
		}
	}
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}
