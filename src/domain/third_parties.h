/*
 * src/domain/third_parties.h — third parties members' data is provided to,
 * and the records of those provisions.
 *
 * The policy: "Cerego shall not provide to a third party personal
 * information ... without the consent of the user" (with the statutory
 * exceptions).  So third parties are registered by an officer with the
 * purpose of the provision and the fields that may go to them; a provision
 * goes through the door (access.h, cu_access_provide) and is recorded, and
 * records are kept at least three years.  Subcontractors entrusted with
 * data are subcontractors.h; a member's own shares, kept apart from
 * provisions, are shares.h.
 *
 * Every change here is audited (("third_party_register",
 * "provision_purge")) in the same transaction as the
 * change, naming ids and field names, never values.  These functions join
 * the caller's cu_tx_begin transaction when there is one.
 *
 * Who may: registering, an officer (or the operator); purging records, the
 * operator.  Others get CU_ERR_FORBIDDEN.
 */
#ifndef CUSTODIAN_THIRD_PARTIES_H
#define CUSTODIAN_THIRD_PARTIES_H

#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "store/third_party.h"

/* ---- third parties ------------------------------------------------------ */

typedef struct cu_third_party_input {
	const char *id;            /* a-z 0-9 _ -, 1..40: the consent target */
	const char *name;          /* 1..200 bytes, one line */
	const char *contact;       /* 1..400 bytes, newlines allowed */
	const char *purpose;       /* the purpose of provision, 1..2000 bytes */
	const char *const *fields; /* policy field names, at least one, no repeats */
	size_t nfields;
} cu_third_party_input;

/*
 * Registers a third party.  CU_ERR_INVALID_FIELD with errs naming each bad
 * input ("id", "name", "contact", "purpose", "fields"); CU_ERR_CONFLICT if
 * the id is taken.  *out (may be NULL) receives the row.
 */
CU_WARN_UNUSED cu_result cu_third_party_register(cu_ctx *ctx, const cu_actor *actor,
                                                 const cu_third_party_input *in,
                                                 cu_third_party_row *out, cu_errors *errs);

/* ---- provisions --------------------------------------------------------- */

/*
 * Deletes records of provisions made before `before_us` (operator only).
 * CU_ERR_INVALID_ARGUMENT for a cut-off within the last three years
 * (CU_PROVISION_KEEP_US): records are kept at least that long.  Audited.
 */
CU_WARN_UNUSED cu_result cu_provision_purge(cu_ctx *ctx, const cu_actor *actor, int64_t before_us,
                                            uint64_t *n);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* Every third party, by id. */
CU_WARN_UNUSED cu_result cu_third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud);

/* One third party; CU_ERR_NOT_FOUND if none has this id. */
CU_WARN_UNUSED cu_result cu_third_party_get(cu_store *s, const char *id, cu_third_party_row *out);

/* The provisions of a member's data to third parties. */
CU_WARN_UNUSED cu_result cu_provision_list(cu_store *s, const char *member,
                                           cu_store_provision_fn fn, void *ud);

#endif
