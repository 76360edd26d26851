/*
 * src/store/third_party_backend.h — the third-party area's backend
 * interface (private): third parties, provisions, members' shares.
 */
#ifndef CU_STORE_THIRD_PARTY_BACKEND_H
#define CU_STORE_THIRD_PARTY_BACKEND_H

#include "store/third_party.h"

struct cu_store_third_party_ops {
	cu_result (*third_party_insert)(cu_store *s, const cu_third_party_row *row);
	cu_result (*third_party_get)(cu_store *s, const char *id, cu_third_party_row *out);
	cu_result (*third_party_list)(cu_store *s, cu_store_third_party_fn fn, void *ud);
	cu_result (*provision_insert)(cu_store *s, const cu_provision_row *row);
	cu_result (*provision_list)(cu_store *s, const char *member, cu_store_provision_fn fn,
	                            void *ud);
	cu_result (*provision_purge)(cu_store *s, int64_t before_us, uint64_t *n);
	/* *n and *oldest_us are never NULL here. */
	cu_result (*provision_census)(cu_store *s, int64_t before_us, uint64_t *n,
	                              int64_t *oldest_us);
	cu_result (*share_insert)(cu_store *s, const cu_share_row *row);
	cu_result (*share_get_by_hash)(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
	                               cu_share_row *out);
	cu_result (*share_revoke)(cu_store *s, const char *member, const char *id, int64_t when_us);
	cu_result (*share_list)(cu_store *s, const char *member, cu_store_share_fn fn, void *ud);
};

#endif
