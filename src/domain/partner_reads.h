/*
 * domain/partner_reads.h — third parties, provisions, shares, subcontractors and reviews, read.
 *
 * Reads for the front ends on any handle (a network thread's reader, say): each
 * is the store function of the same name, so the store stays private to the
 * domain.  Rows passed to fn are valid during the call only; fn returns
 * non-zero to stop.
 */
#ifndef CU_DOMAIN_PARTNER_READS_H
#define CU_DOMAIN_PARTNER_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/partner.h"

/* Every third party, by id. */
CU_WARN_UNUSED cu_result cu_third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud);

/* One third party; CU_ERR_NOT_FOUND if none has this id. */
CU_WARN_UNUSED cu_result cu_third_party_get(cu_store *s, const char *id, cu_third_party_row *out);

/* The provisions of a member's data to third parties. */
CU_WARN_UNUSED cu_result cu_provision_list(cu_store *s, const char *member, cu_store_provision_fn fn, void *ud);

/* A member's own shares (links to their data). */
CU_WARN_UNUSED cu_result cu_share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud);

/* Every subcontractor, by id. */
CU_WARN_UNUSED cu_result cu_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud);

/* One subcontractor; CU_ERR_NOT_FOUND if none has this id. */
CU_WARN_UNUSED cu_result cu_subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out);

/* The supervision reviews of one subcontractor. */
CU_WARN_UNUSED cu_result cu_review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn, void *ud);

#endif
