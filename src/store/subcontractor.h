/*
 * src/store/subcontractor.h — the store's area for subcontractors: their
 * contracts, supervision reviews and contract-bound tokens.  Part of the
 * store (store.h's rules hold); the domain is subcontractors.h, and the
 * door reads contracts through access/contract.h.
 *
 * Rows are inline (they own no memory, need no release).  A list's callback
 * may read other areas and other kinds of row, but not list the same kind
 * again (its statement is in use).
 */
#ifndef CUSTODIAN_STORE_SUBCONTRACTOR_H
#define CUSTODIAN_STORE_SUBCONTRACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "store/registry.h"
#include "store/store.h"

/* ---- subcontractors ----------------------------------------------------- */

typedef struct cu_subcontractor_row {
	char id[CU_REGISTRY_ID_MAX + 1];
	char name[CU_REGISTRY_NAME_MAX + 1];
	char contact[CU_REGISTRY_CONTACT_MAX + 1];
	char fields_text[CU_REGISTRY_LIST_MAX + 1];   /* field names in scope, joined with ',' */
	char purposes_text[CU_REGISTRY_LIST_MAX + 1]; /* purpose ids in scope, joined with ',' */
	char measures[CU_REGISTRY_MEASURES_MAX + 1];  /* safety measures required, one per line */
	int64_t start_us, end_us;                     /* in force when start_us <= now < end_us */
	char created_by[CU_REGISTRY_ACTOR_MAX + 1];
	int64_t created_us;
} cu_subcontractor_row;

/* CU_ERR_CONFLICT if the id is taken. */
CU_WARN_UNUSED cu_result cu_store_subcontractor_insert(cu_store *s,
                                                       const cu_subcontractor_row *row);
/* CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_subcontractor_get(cu_store *s, const char *id,
                                                    cu_subcontractor_row *out);
typedef int (*cu_store_subcontractor_fn)(void *ud, const cu_subcontractor_row *row);
/* Every subcontractor, by id. */
CU_WARN_UNUSED cu_result cu_store_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn,
                                                     void *ud);

typedef struct cu_review_row {
	char id[CU_ID_LEN + 1];
	char subcontractor[CU_REGISTRY_ID_MAX + 1];
	int64_t due_us;                          /* 00:00 UTC of the due day */
	char findings[CU_REGISTRY_TEXT_MAX + 1]; /* "" until written */
	int64_t done_us;                         /* 0 while not done */
	char created_by[CU_REGISTRY_ACTOR_MAX + 1];
	int64_t created_us;
} cu_review_row;

CU_WARN_UNUSED cu_result cu_store_review_insert(cu_store *s, const cu_review_row *row);
CU_WARN_UNUSED cu_result cu_store_review_get(cu_store *s, const char *id, cu_review_row *out);
/* Replaces findings and done_us of review id; CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_review_update(cu_store *s, const char *id, const char *findings,
                                                int64_t done_us);
typedef int (*cu_store_review_fn)(void *ud, const cu_review_row *row);
/* A subcontractor's reviews, by due date. */
CU_WARN_UNUSED cu_result cu_store_review_list(cu_store *s, const char *subcontractor,
                                              cu_store_review_fn fn, void *ud);
/* Every review not done and due before due_before_us, oldest due first. */
CU_WARN_UNUSED cu_result cu_store_review_overdue(cu_store *s, int64_t due_before_us,
                                                 cu_store_review_fn fn, void *ud);

/* A token's contract (subcontractor tokens).  get: CU_ERR_NOT_FOUND if unbound. */
CU_WARN_UNUSED cu_result cu_store_token_contract_set(cu_store *s, const char *token_id,
                                                     const char *contract);
CU_WARN_UNUSED cu_result cu_store_token_contract_get(cu_store *s, const char *token_id,
                                                     char contract[CU_REGISTRY_ID_MAX + 1]);

#endif
