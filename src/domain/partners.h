/*
 * custodian/partners.h — who else handles members' data: third parties
 * data is provided to, subcontractors entrusted with it, and the links a
 * member makes to share their own data.
 *
 * The policy: "Cerego shall not provide to a third party personal
 * information ... without the consent of the user" (with the statutory
 * exceptions), and "when entrusting the handling of personal information to
 * a subcontractor, Cerego shall ... supervise" it.  So:
 *
 *   - third parties are registered by an officer with the purpose of the
 *     provision and the fields that may go to them; a provision goes
 *     through the door (access.h, cu_access_provide) and is recorded;
 *   - subcontractors are registered with a contract: the fields and
 *     purposes in scope, a term, the safety measures required; their tokens
 *     are bound to it and the door keeps them inside it; an officer records
 *     supervision reviews, and the overdue ones are listed;
 *   - a member may share chosen fields of their own through a link that
 *     expires (at most seven days).  That is the member's own act: Cerego is
 *     "not liable if a user uses the functions of the service ... to provide
 *     or release personal information to a third party", and the record of
 *     shares is kept apart from provisions.
 *
 * Every change here is audited ("third_party_register",
 * "subcontractor_register", "subcontractor_review", "share_create",
 * "share_revoke", "provision_purge") in the same transaction as the change,
 * naming ids and field names, never values.  These functions join the
 * caller's cu_tx_begin transaction when there is one.
 *
 * Who may: registries and reviews, an officer (or the operator); shares,
 * the member themself.  Others get CU_ERR_FORBIDDEN.
 */
#ifndef CUSTODIAN_PARTNERS_H
#define CUSTODIAN_PARTNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "store/partner.h"

#define CU_PARTNER_MEASURE_MAX  500   /* bytes of one safety measure (one line) */
#define CU_PARTNER_MEASURES_N   32    /* safety measures per contract */
#define CU_SHARE_TOKEN_LEN      43    /* 256 random bits, base64url */
#define CU_SHARE_TTL_MAX_US     ((int64_t)7 * 24 * 3600 * 1000000)
#define CU_DAY_US               ((int64_t)24 * 3600 * 1000000)

/* ---- helpers ------------------------------------------------------------ */

/* YYYY-MM-DD (a real date, 1970..9999) to 00:00 UTC of that day; CU_ERR_INVALID_ARGUMENT else. */
CU_WARN_UNUSED cu_result cu_partner_date_parse(const char *s, int64_t *out_us);
/* The UTC date of us as YYYY-MM-DD. */
void cu_partner_date_format(int64_t us, char out[11]);
/* Whether the comma-joined list holds name exactly. */
bool cu_partner_list_has(const char *list, const char *name);
/* The fields a comma-joined list names, as a set under p (names p lacks are left out). */
cu_fieldset cu_partner_fieldset(const cu_policy *p, const char *list);
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

/* ---- subcontractors ----------------------------------------------------- */

typedef struct cu_subcontractor_input {
	const char *id;              /* as a third party's */
	const char *name, *contact;  /* as a third party's */
	const char *const *fields;   /* policy field names in scope, at least one */
	size_t nfields;
	const char *const *purposes; /* policy purposes in scope, at least one */
	size_t npurposes;
	const char *const *measures; /* safety measures required: 1..32, one line each */
	size_t nmeasures;
	const char *start, *end;     /* YYYY-MM-DD, end >= start: in force through end's day */
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

/* ---- provisions --------------------------------------------------------- */

/*
 * Deletes records of provisions made before `before_us` (operator only).
 * CU_ERR_INVALID_ARGUMENT for a cut-off within the last three years
 * (CU_PROVISION_KEEP_US): records are kept at least that long.  Audited.
 */
CU_WARN_UNUSED cu_result cu_provision_purge(cu_ctx *ctx, const cu_actor *actor, int64_t before_us,
					    uint64_t *n);

/* ---- a member's own shares ---------------------------------------------- */

/*
 * Creates a link to `fields` (non-empty) of the member's own record,
 * valid for ttl_us (1 minute .. CU_SHARE_TTL_MAX_US).  token receives the
 * link's secret — shown once; only its hash is kept — and *out (may be NULL)
 * the row.  CU_ERR_INVALID_FIELD ("fields", "expires_in_minutes").
 */
CU_WARN_UNUSED cu_result cu_share_create(cu_ctx *ctx, const cu_actor *actor, cu_fieldset fields,
					 int64_t ttl_us, char token[CU_SHARE_TOKEN_LEN + 1],
					 cu_share_row *out, cu_errors *errs);
/* Revokes the member's own share; CU_ERR_NOT_FOUND if they have none with this id. */
CU_WARN_UNUSED cu_result cu_share_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id);
/*
 * The share a link token opens at now_us.  CU_ERR_NOT_FOUND alike for a
 * malformed, unknown, expired or revoked token: a link tells nothing about
 * the links that do not work.  Reads only.
 */
CU_WARN_UNUSED cu_result cu_share_find(cu_store *s, const char *token, int64_t now_us,
				       cu_share_row *out);
/*
 * A share's read through the door is the member's own act: actor the
 * member (role member), purpose "self", the share's fields.  This fills
 * actor and req for it (req->actor points at actor; both borrow from sh).
 */
void cu_share_access(const cu_policy *p, const cu_share_row *sh, cu_actor *actor,
		     cu_access_request *req);
/* Marks a share read's audit entry: action "share_read", the share named in the reason. */
void cu_share_audit_mark(cu_access_audit *au, const cu_share_row *sh);
/* The whole read: find, decide, audit ("share_read"), open into out (cu_record_init'd). */
CU_WARN_UNUSED cu_result cu_share_read(cu_ctx *ctx, const char *token, cu_access_decision *d,
				       cu_record *out, cu_share_row *sh);

/*
 * The registered third parties, in id order, and the subcontractors with
 * their contracts: fn(ud, row) for each (the front ends list them; a row
 * borrows from the walk).  fn's non-zero return stops the walk.  Reads only.
 */
CU_WARN_UNUSED cu_result cu_third_party_list(cu_ctx *ctx, cu_store_third_party_fn fn, void *ud);
CU_WARN_UNUSED cu_result cu_subcontractor_list(cu_ctx *ctx, cu_store_subcontractor_fn fn,
					       void *ud);

#endif
