/*
 * src/store/partner_backend.h — the partner area's backend interface (private):
 * third parties, provisions, members' shares, subcontractors, their
 * reviews and contract-bound tokens.
 */
#ifndef CU_STORE_PARTNER_IMPL_H
#define CU_STORE_PARTNER_IMPL_H

#include "store/partner.h"

struct cu_store_partner_ops {
	cu_result (*third_party_insert)(cu_store *s, const cu_third_party_row *row);
	cu_result (*third_party_get)(cu_store *s, const char *id, cu_third_party_row *out);
	cu_result (*third_party_list)(cu_store *s, cu_store_third_party_fn fn, void *ud);
	cu_result (*provision_insert)(cu_store *s, const cu_provision_row *row);
	cu_result (*provision_list)(cu_store *s, const char *member, cu_store_provision_fn fn,
				    void *ud);
	cu_result (*provision_purge)(cu_store *s, int64_t before_us, uint64_t *n);
	cu_result (*share_insert)(cu_store *s, const cu_share_row *row);
	cu_result (*share_get_by_hash)(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
				       cu_share_row *out);
	cu_result (*share_revoke)(cu_store *s, const char *member, const char *id, int64_t when_us);
	cu_result (*share_list)(cu_store *s, const char *member, cu_store_share_fn fn, void *ud);
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
					char contract[CU_PARTNER_ID_MAX + 1]);
};

#endif
