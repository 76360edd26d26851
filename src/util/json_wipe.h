/*
 * src/util/json_wipe.h — overwriting the strings of a jansson value (private).
 */
#ifndef CU_JSON_WIPE_H
#define CU_JSON_WIPE_H

#include <jansson.h>

/*
 * Overwrites every string (and object key's value) in j with zeros before
 * it is freed: documents built here may hold opened personal data.  NULL
 * is a harmless no-op.  The value is unusable afterwards.
 */
void cu_json_wipe(json_t *j);

#endif
