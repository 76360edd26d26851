/*
 * src/access/consent_state.c — the consent in force (consent_state.h).
 */
#include "access/consent_state.h"

#include <string.h>

#include "store/consent.h"

static const char *const kinds[] = {"purpose", "third_party", "cookie"};

const char *cu_consent_kind_name(cu_consent_kind kind)
{
	return (unsigned)kind < 3 ? kinds[kind] : NULL;
}

cu_result cu_consent_kind_parse(const char *name, cu_consent_kind *out)
{
	for (unsigned i = 0; name && i < 3; i++) {
		if (!strcmp(name, kinds[i])) {
			*out = (cu_consent_kind)i;
			return CU_OK;
		}
	}
	return CU_ERR_INVALID_ARGUMENT;
}

cu_result cu_consent_granted(cu_store *s, const cu_policy *p, const char *member,
                             cu_consent_kind kind, const char *target, bool *granted)
{
	cu_consent_row row;
	cu_result rc;

	*granted = false;
	if (kind == CU_CONSENT_COOKIE) {
		for (size_t i = 0; i < p->ncookies; i++)
			if (!strcmp(p->cookies[i].id, target) && p->cookies[i].required) {
				*granted = true;
				return CU_OK;
			}
	}
	rc = cu_store_consent_current(s, member, cu_consent_kind_name(kind), target, &row);
	if (rc == CU_ERR_NOT_FOUND)
		return CU_OK;
	if (!rc)
		*granted = row.granted;
	return rc;
}
