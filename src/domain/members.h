/*
 * src/domain/members.h — members: registration, change, survey answers,
 * eligibility and lookup (erasure is erasure.h's alone).
 *
 * Input is a list of (field name, value) pairs as UTF-8 strings.  Validation
 * is whole before anything is written: a registration with one bad field
 * stores nothing, and the cu_errors list names every bad field with a reason
 * code (never the value).  The checks:
 *   - every field name is one the policy defines        ("unknown_field";
 *     an unknown name is repeated only when it has a field name's form,
 *     cu_policy_id_form, else as "(field name)": a typed key may be an
 *     e-mail address)
 *   - each field at most once                           ("duplicate")
 *   - required fields present and non-blank             ("required")
 *   - valid UTF-8, no NUL/control characters except
 *     newline in addresses                              ("invalid_utf8", "malformed")
 *   - at most max_length bytes                          ("too_long")
 *   - kind rules: email, phone, date, integer range     ("malformed", "out_of_range")
 *
 * E-mail rules: trimmed; one '@'; local part 1..64 bytes of letters, digits
 * and !#$%&'*+/=?^_`{|}~.- with no leading, trailing or doubled dot; domain
 * of dot-separated labels of letters, digits and inner hyphens, at least two
 * labels; 254 bytes at most.  Normalised (for the blind index and duplicate
 * detection) by lower-casing the whole address.
 *
 * Telephone rules: spaces, hyphens, dots and parentheses are separators and
 * are dropped.  "+" then 8..15 digits (E.164, first digit not 0) is kept as
 * is; a Japanese domestic number — "0" then 9 or 10 more digits, e.g.
 * 090-1234-5678 or 03-1234-5678 — becomes +81 without the leading 0
 * (+819012345678).  Anything else is "malformed".  The stored value is what
 * the member wrote; the blind index is over the normalised form.
 */
#ifndef CUSTODIAN_MEMBERS_H
#define CUSTODIAN_MEMBERS_H

#include <stddef.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "util/email.h"
#include "util/result.h"

typedef struct cu_kv {
	const char *name;
	const char *value; /* NULL or "" in an update clears an optional field */
} cu_kv;

#define CU_PHONE_MAX 16 /* "+" and up to 15 digits */

/*
 * Normalises into out (NUL-terminated).  CU_ERR_INVALID_FIELD if malformed.
 * E-mail: cu_email_normalise (util/email.h), the one source of its rules.
 */
CU_WARN_UNUSED cu_result cu_member_normalise_email(const char *in, char *out, size_t outlen);
CU_WARN_UNUSED cu_result cu_member_normalise_phone(const char *in, char *out, size_t outlen);

/*
 * Validates fields against the policy.  `registration` demands the required
 * fields; an update (false) demands only that required fields are not
 * cleared.  CU_OK or CU_ERR_INVALID_FIELD with errs filled.
 */
CU_WARN_UNUSED cu_result cu_member_validate(const cu_policy *p, const cu_kv *kv, size_t n,
                                            bool registration, cu_errors *errs);

/*
 * Registers a member: validates, refuses a duplicate e-mail (CU_ERR_CONFLICT,
 * errs names "email"), creates and wraps a data key, seals each field,
 * writes the row and its audit entry in one transaction.  password may be
 * NULL (no login yet).  id receives the new member id.
 */
CU_WARN_UNUSED cu_result cu_member_register(cu_ctx *ctx, const cu_actor *actor, const cu_kv *kv,
                                            size_t n, const char *password, char id[CU_ID_LEN + 1],
                                            cu_errors *errs);

/*
 * Registration in two steps, for a server that seals on its request threads
 * and writes on one writer thread (group commit).  cu_member_register is
 * exactly prepare then apply.
 *
 * cu_member_prepare validates, hashes the password, creates and wraps the
 * data key and seals every field: all the slow work, touching no store.
 * cu_member_apply refuses a duplicate e-mail and writes the row and its
 * audit entry in one transaction level of ctx (joining the caller's batch
 * when one is open).  Release the registration in every case.
 */
typedef struct cu_registration {
	cu_member_row row;
	char email[CU_EMAIL_MAX + 1];         /* normalised; wiped on release */
	char names[CU_FIELDSET_TEXT_MAX + 1]; /* the field names registered */
	char actor[CU_ACTOR_MAX + 1], role[CU_ROLE_NAME_BYTES];
	bool with_password;
} cu_registration;

CU_WARN_UNUSED cu_result cu_member_prepare(const cu_policy *p, const cu_vault *v,
                                           const cu_config *c, const cu_actor *actor,
                                           const cu_kv *kv, size_t n, const char *password,
                                           cu_registration *reg, cu_errors *errs);
CU_WARN_UNUSED cu_result cu_member_apply(cu_ctx *ctx, cu_registration *reg, cu_errors *errs);

/*
 * cu_member_apply for a bulk writer's batch (the import): the row and its
 * audit entry go straight into the caller's open transaction, with no
 * transaction level (savepoint) of its own — a savepoint per row costs the
 * writer about a seventh of its time.  What it may refuse, it refuses
 * before writing anything:
 *
 *   CU_OK            the row and its audit entry are in the transaction;
 *   CU_ERR_CONFLICT  a duplicate e-mail (errs names "email"): nothing of
 *                    this registration was written, the transaction goes on;
 *   anything else    a store failure (CU_ERR_INTERNAL without an open
 *                    transaction): part of the registration may be written,
 *                    so the caller must roll its transaction back whole.
 *
 * The registration is the caller's to release in every case.
 */
CU_WARN_UNUSED cu_result cu_member_apply_in_batch(cu_ctx *ctx, cu_registration *reg,
                                                  cu_errors *errs);
void cu_registration_release(cu_registration *reg);

/*
 * Changes fields (set, or clear optional ones with NULL/"").  The member
 * changing their own record, or an actor with a purpose that allows every
 * changed field (e.g. an applied amendment).  Audited with field names.
 */
CU_WARN_UNUSED cu_result cu_member_update(cu_ctx *ctx, const cu_actor *actor, const char *purpose,
                                          const char *id, const cu_kv *kv, size_t n,
                                          cu_errors *errs);

/*
 * Carries out an applied amendment request (requests.h): the change the
 * member asked for, made by an officer (or the operator) on the member's
 * behalf.  The basis is the member's request, not a purpose of use, so no
 * purpose's field list limits it; any other role is refused (audited).
 * Validated like an update.  Audited as action "amend", purpose
 * "amendment", fields the names changed, reason "request=ID; before=...;
 * after=...; amended=...; added=...; deleted=..." — which of those fields
 * held a value before and after, names only, never a value.
 */
CU_WARN_UNUSED cu_result cu_member_amend(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                         const char *request, const cu_kv *kv, size_t n,
                                         cu_errors *errs);

/*
 * Finds a live member by e-mail ("email") or telephone ("phone") through the
 * blind index.  CU_ERR_NOT_FOUND when none; CU_ERR_INVALID_FIELD if the value
 * is malformed.  Audited ("find", decision allow/deny, no value recorded).
 */
CU_WARN_UNUSED cu_result cu_member_find(cu_ctx *ctx, const cu_actor *actor, const char *kind,
                                        const char *value, char id[CU_ID_LEN + 1]);

/*
 * The member a login names, through the blind index, without an audit
 * entry: this is a person identifying themselves, not a read of anyone's
 * data (the login itself is audited when it succeeds).  Live members only.
 */
CU_WARN_UNUSED cu_result cu_member_lookup(const cu_vault *v, cu_store *store, const char *kind,
                                          const char *value, char id[CU_ID_LEN + 1]);

/*
 * Whether member `id` may use service `service`: *missing receives exactly
 * the survey fields the service requires that the member has not answered
 * (0 = eligible).  CU_ERR_NOT_FOUND for an unknown service or member.
 * Reads only which fields are present, never their values; audited.
 */
CU_WARN_UNUSED cu_result cu_member_eligibility(cu_ctx *ctx, const cu_actor *actor,
                                               const char *service, const char *id,
                                               cu_fieldset *missing);

/*
 * Sets or replaces the member's password (Argon2id, cost from config).
 */
CU_WARN_UNUSED cu_result cu_member_set_password(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                                const char *password);

/*
 * Erasure is not here: erasure.h (cu_erasure_carry_out) is the one erasure
 * operation, for the command line and the erasure request alike.
 */

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/*
 * A member's row (sealed fields; release with cu_member_row_release).  CU_ERR_NOT_FOUND
 * if no such id; an erased member is returned with erased=true.
 */
CU_WARN_UNUSED cu_result cu_member_get(cu_store *s, const char *id, cu_member_row *out);

/*
 * Recomputes member id's blind indexes under the current master key (key
 * rotation, domain/keys.h): opens the sealed e-mail and telephone inside
 * this call only, wipes them, and writes the new indexes, nothing else.
 * CU_ERR_ERASED for an erased member.  The caller holds a transaction.
 */
CU_WARN_UNUSED cu_result cu_member_reindex(cu_ctx *ctx, const char *id);

#endif
