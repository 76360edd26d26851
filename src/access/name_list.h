/*
 * src/access/name_list.h — the comma-joined lists of policy names that
 * registry rows keep: a third party's fields, a contract's fields and
 * purposes ("email,name").  The door reads them to decide.
 */
#ifndef CUSTODIAN_NAME_LIST_H
#define CUSTODIAN_NAME_LIST_H

#include <stdbool.h>

#include "policy/policy.h"

/* Whether the comma-joined list holds name exactly. */
bool cu_name_list_has(const char *list, const char *name);
/* The fields a comma-joined list names, as a set under p (names p lacks are left out). */
cu_fieldset cu_name_list_fieldset(const cu_policy *p, const char *list);

#endif
