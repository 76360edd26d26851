/*
 * src/access/consent_state.h — the consent in force, as the door reads it.
 *
 * A member's choices are kept as history (domain/consent.h records them and
 * issues receipts); the latest choice per target is in force.  The door
 * (access.h rule 7, provisions) asks only whether that choice grants, so
 * the question lives here, beside the door, and the domain's consent module
 * builds on it.
 */
#ifndef CUSTODIAN_CONSENT_STATE_H
#define CUSTODIAN_CONSENT_STATE_H

#include <stdbool.h>

#include "policy/policy.h"
#include "store/store.h"
#include "util/result.h"

/* What a choice is about (domain/consent.h says when each can be chosen). */
typedef enum cu_consent_kind {
	CU_CONSENT_PURPOSE = 0,
	CU_CONSENT_THIRD_PARTY = 1,
	CU_CONSENT_COOKIE = 2,
} cu_consent_kind;

/* "purpose", "third_party", "cookie". */
const char *cu_consent_kind_name(cu_consent_kind kind);
CU_WARN_UNUSED cu_result cu_consent_kind_parse(const char *name, cu_consent_kind *out);

/* Whether member's choice in force grants target (required cookie categories always do). */
CU_WARN_UNUSED cu_result cu_consent_granted(cu_store *s, const cu_policy *p, const char *member,
                                            cu_consent_kind kind, const char *target,
                                            bool *granted);

#endif
