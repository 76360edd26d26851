/*
 * src/util/json_wipe.c — wiping jansson values that held personal data.
 */
#include "util/json_wipe.h"

#include <sodium.h>

void cu_json_wipe(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		/* jansson owns the bytes and hands them out const; they are ours to clear. */
		sodium_memzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v) cu_json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) cu_json_wipe(v);
	}
}
