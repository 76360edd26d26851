/*
 * src/domain/subcontractors.h — subcontractors entrusted with members' data,
 * their contracts and the supervision of them.
 *
 * The policy: "when entrusting the handling of personal information to a
 * subcontractor, Cerego shall ... supervise" it.  So subcontractors are
 * registered with a contract: the fields and purposes in scope, a term, the
 * safety measures required; their tokens are bound to it (tokens.h) and the
 * door keeps them inside it (access/contract.h); an officer records
 * supervision reviews, and the overdue ones are listed.
 *
 * Every change here is audited (("subcontractor_register",
 * "subcontractor_review")) in the same transaction as the
 * change, naming ids and field names, never values.  These functions join
 * the caller's cu_tx_begin transaction when there is one.
 *
 * Who may: an officer (or the operator).  Others get CU_ERR_FORBIDDEN.
 */
#ifndef CUSTODIAN_SUBCONTRACTORS_H
#define CUSTODIAN_SUBCONTRACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "access/contract.h"
#include "ctx/ctx.h"
#include "store/subcontractor.h"
#include "util/date.h"

#define CU_SUBCONTRACTOR_MEASURE_MAX 500 /* bytes of one safety measure (one line) */
#define CU_SUBCONTRACTOR_MEASURES_N  32  /* safety measures per contract */

/* ---- subcontractors ----------------------------------------------------- */

typedef struct cu_subcontractor_input {
	const char *id;             /* as a third party's */
	const char *name, *contact; /* as a third party's */
	const char *const *fields;  /* policy field names in scope, at least one */
	size_t nfields;
	const char *const *purposes; /* policy purposes in scope, at least one */
	size_t npurposes;
	const char *const *measures; /* safety measures required: 1..32, one line each */
	size_t nmeasures;
	const char *start, *end; /* YYYY-MM-DD, end >= start: in force through end's day */
} cu_subcontractor_input;

/* As cu_third_party_register; errs may also name "purposes", "measures", "start", "end". */
CU_WARN_UNUSED cu_result cu_subcontractor_register(cu_ctx *ctx, const cu_actor *actor,
                                                   const cu_subcontractor_input *in,
                                                   cu_subcontractor_row *out, cu_errors *errs);

/*
 * Adds a supervision review of subcontractor `sub`: due (YYYY-MM-DD),
 * findings (NULL or up to 2000 bytes), done (then done now).
 * CU_ERR_NOT_FOUND for an unknown subcontractor.
 */
CU_WARN_UNUSED cu_result cu_subcontractor_review_add(cu_ctx *ctx, const cu_actor *actor,
                                                     const char *sub, const char *due,
                                                     const char *findings, bool done,
                                                     cu_review_row *out, cu_errors *errs);
/*
 * Updates review `id` of `sub`: findings (NULL keeps them), done (-1 keeps,
 * 0 reopens, 1 marks done now; done twice keeps the first time).
 * CU_ERR_NOT_FOUND when sub has no such review.
 */
CU_WARN_UNUSED cu_result cu_subcontractor_review_update(cu_ctx *ctx, const cu_actor *actor,
                                                        const char *sub, const char *id,
                                                        const char *findings, int done,
                                                        cu_review_row *out, cu_errors *errs);
/* Reviews not done whose due day ended before now_us's, oldest due first. */
CU_WARN_UNUSED cu_result cu_subcontractor_reviews_overdue(cu_store *s, int64_t now_us,
                                                          cu_store_review_fn fn, void *ud);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* Every subcontractor, by id. */
CU_WARN_UNUSED cu_result cu_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud);

/* One subcontractor; CU_ERR_NOT_FOUND if none has this id. */
CU_WARN_UNUSED cu_result cu_subcontractor_get(cu_store *s, const char *id,
                                              cu_subcontractor_row *out);

/* The supervision reviews of one subcontractor. */
CU_WARN_UNUSED cu_result cu_review_list(cu_store *s, const char *subcontractor,
                                        cu_store_review_fn fn, void *ud);

#endif
