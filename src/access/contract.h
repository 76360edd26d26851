/*
 * src/access/contract.h — a subcontractor's contract, as the door reads it.
 *
 * A subcontractor's token is bound to its contract (domain/tokens.h); the
 * door keeps it inside the contract's fields, purposes and term (access.h
 * rule 1a).  Registering contracts and supervising them is the domain's
 * (the subcontractors module).
 */
#ifndef CUSTODIAN_CONTRACT_H
#define CUSTODIAN_CONTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"

/* Whether a contract is in force at now_us: start_us <= now_us < end_us. */
bool cu_subcontract_in_force(const cu_subcontractor_row *c, int64_t now_us);

/*
 * The contract of a subcontractor actor, for the door (access.h rule 1a):
 * CU_OK with *out when it is bound to one in force at now_us; else
 * CU_ERR_FORBIDDEN with *why in a few static words (no contract, no such
 * contract, not in force), or the store's failure.
 */
CU_WARN_UNUSED cu_result cu_subcontract_load(cu_store *s, const cu_actor *a, int64_t now_us,
                                             cu_subcontractor_row *out, const char **why);

#endif
