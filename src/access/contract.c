/*
 * src/access/contract.c — a subcontractor's contract, as the door reads it (contract.h).
 */
#include "access/contract.h"

bool cu_subcontract_in_force(const cu_subcontractor_row *c, int64_t now_us)
{
	return c->start_us <= now_us && now_us < c->end_us;
}

cu_result cu_subcontract_load(cu_store *s, const cu_actor *a, int64_t now_us,
                              cu_subcontractor_row *out, const char **why)
{
	cu_result rc;

	if (!a || !a->contract || !*a->contract) {
		*why = "a subcontractor acts only under a contract";
		return CU_ERR_FORBIDDEN;
	}
	rc = cu_store_subcontractor_get(s, a->contract, out);
	if (rc == CU_ERR_NOT_FOUND) {
		*why = "no such contract";
		return CU_ERR_FORBIDDEN;
	}
	if (rc) {
		*why = "store failed";
		return rc;
	}
	if (!cu_subcontract_in_force(out, now_us)) {
		*why = "contract not in force";
		return CU_ERR_FORBIDDEN;
	}
	return CU_OK;
}
