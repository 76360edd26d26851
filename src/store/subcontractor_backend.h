/*
 * src/store/subcontractor_backend.h — the subcontractor area's backend
 * interface (private): subcontractors, their reviews and contract-bound tokens.
 */
#ifndef CU_STORE_SUBCONTRACTOR_BACKEND_H
#define CU_STORE_SUBCONTRACTOR_BACKEND_H

#include "store/subcontractor.h"

struct cu_store_subcontractor_ops {
	cu_result (*subcontractor_insert)(cu_store *s, const cu_subcontractor_row *row);
	cu_result (*subcontractor_get)(cu_store *s, const char *id, cu_subcontractor_row *out);
	cu_result (*subcontractor_list)(cu_store *s, cu_store_subcontractor_fn fn, void *ud);
	cu_result (*review_insert)(cu_store *s, const cu_review_row *row);
	cu_result (*review_get)(cu_store *s, const char *id, cu_review_row *out);
	cu_result (*review_update)(cu_store *s, const char *id, const char *findings,
	                           int64_t done_us);
	cu_result (*review_list)(cu_store *s, const char *subcontractor, cu_store_review_fn fn,
	                         void *ud);
	cu_result (*review_overdue)(cu_store *s, int64_t due_before_us, cu_store_review_fn fn,
	                            void *ud);
	cu_result (*token_contract_set)(cu_store *s, const char *token_id, const char *contract);
	cu_result (*token_contract_get)(cu_store *s, const char *token_id,
	                                char contract[CU_REGISTRY_ID_MAX + 1]);
};

#endif
