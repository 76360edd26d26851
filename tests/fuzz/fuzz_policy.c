/*
 * fuzz_policy — the policy file (cu_policy_load_buffer): what `custodian
 * policy check`, `init --policy` and the server's reload read.  A policy
 * that loads is also walked the way the door and the API use it.
 */
#include <stdlib.h>

#include "policy/policy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cu_policy *p = NULL;
	char err[512];

	if (cu_policy_load_buffer("fuzz.json", (const char *)data, size, &p, err, sizeof(err)) !=
	    CU_OK)
		return 0;
	/* Every lookup by a name the policy itself gives must find that entry. */
	for (size_t i = 0; i < p->nfields; i++)
		if (cu_policy_field_index(p, p->fields[i].name) != (int)i)
			abort();
	for (size_t i = 0; i < p->npurposes; i++) {
		char list[2048];

		if (cu_policy_purpose_find(p, p->purposes[i].id) != &p->purposes[i])
			abort();
		cu_policy_fieldset_format(p, p->purposes[i].fields, list, sizeof(list));
	}
	for (size_t i = 0; i < p->nservices; i++)
		if (cu_policy_service_find(p, p->services[i].id) != &p->services[i])
			abort();
	for (size_t i = 0; i < p->nexceptions; i++)
		if (cu_policy_exception_find(p, p->exceptions[i].id) != &p->exceptions[i])
			abort();
	cu_policy_free(p);
	return 0;
}
