/*
 * src/store/third_party.h — the store's area for third parties, the
 * provisions made to them and members' own shares.  Part of the store
 * (store.h's rules hold: writes only inside a transaction, no SQL outside
 * the store); the domain is third_parties.h and shares.h.  Subcontractors
 * are the area next door (subcontractor.h).
 *
 * Nothing here holds personal data in the clear: a provision records which
 * fields went to whom, never their values; a share holds the hash of its
 * link token and the names of the fields it opens.
 *
 * Rows are inline (they own no memory, need no release).  A list's callback
 * may read other areas and other kinds of row, but not list the same kind
 * again (its statement is in use).
 */
#ifndef CUSTODIAN_STORE_THIRD_PARTY_H
#define CUSTODIAN_STORE_THIRD_PARTY_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "store/registry.h"
#include "store/store.h"

#define CU_PROVISION_BASIS_BYTES 16 /* "consent" | "exception", and its NUL, with room */

/* ---- third parties ------------------------------------------------------ */

typedef struct cu_third_party_row {
	char id[CU_REGISTRY_ID_MAX + 1];
	char name[CU_REGISTRY_NAME_MAX + 1];
	char contact[CU_REGISTRY_CONTACT_MAX + 1];
	char purpose[CU_REGISTRY_TEXT_MAX + 1];     /* purpose of provision, as told to members */
	char fields_text[CU_REGISTRY_LIST_MAX + 1]; /* field names that may be provided, ',' */
	char created_by[CU_REGISTRY_ACTOR_MAX + 1];
	int64_t created_us;
} cu_third_party_row;

/* CU_ERR_CONFLICT if the id is taken. */
CU_WARN_UNUSED cu_result cu_store_third_party_insert(cu_store *s, const cu_third_party_row *row);
/* CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_third_party_get(cu_store *s, const char *id,
                                                  cu_third_party_row *out);
typedef int (*cu_store_third_party_fn)(void *ud, const cu_third_party_row *row);
/* Every third party, by id.  fn returns non-zero to stop. */
CU_WARN_UNUSED cu_result cu_store_third_party_list(cu_store *s, cu_store_third_party_fn fn,
                                                   void *ud);

/* ---- provisions ---------------------------------------------------------
 *
 * One row per provision actually made (a refused one is only audited).
 * Rows are kept at least three years (CU_PROVISION_KEEP_US) and never
 * changed; cu_store_provision_purge refuses a cut-off younger than that,
 * and so does the table itself.
 */
#define CU_PROVISION_KEEP_US ((int64_t)3 * 366 * 24 * 3600 * 1000000)

typedef struct cu_provision_row {
	char id[CU_ID_LEN + 1];
	char third_party[CU_REGISTRY_ID_MAX + 1]; /* the recipient */
	char member[CU_ID_LEN + 1];
	size_t nfields;
	char fields[CU_POLICY_FIELDS_MAX][CU_POLICY_ID_MAX + 1]; /* field names provided */
	char basis[CU_PROVISION_BASIS_BYTES];                    /* "consent" | "exception" */
	char exception[CU_POLICY_ID_MAX + 1];  /* the legal exception invoked, or "" */
	char exception_record[CU_ID_LEN + 1];  /* its review (store/consent.h), or "" */
	char actor[CU_REGISTRY_ACTOR_MAX + 1]; /* who made it: token name or "operator" */
	char role[CU_ROLE_NAME_BYTES];         /* the actor's role */
	int64_t time_us;
} cu_provision_row;

CU_WARN_UNUSED cu_result cu_store_provision_insert(cu_store *s, const cu_provision_row *row);
/*
 * Every provision of a member's data, oldest first.  fn returns non-zero to
 * stop.  Called by the member's own view and by the export (disclosure).
 */
typedef int (*cu_store_provision_fn)(void *ud, const cu_provision_row *row);
CU_WARN_UNUSED cu_result cu_store_provision_list(cu_store *s, const char *member,
                                                 cu_store_provision_fn fn, void *ud);
/*
 * Deletes provisions made before `before_us`; *n receives how many (may be
 * NULL).  CU_ERR_INVALID_ARGUMENT if before_us > now_us - CU_PROVISION_KEEP_US:
 * records are kept three years.
 */
CU_WARN_UNUSED cu_result cu_store_provision_purge(cu_store *s, int64_t before_us, int64_t now_us,
                                                  uint64_t *n);
/*
 * What a purge at before_us would delete, without deleting: *n (may be
 * NULL) the provisions made before before_us, *oldest_us (may be NULL) the
 * time of the oldest provision kept, 0 when there is none.  For the
 * retention plan (domain/retention.h).
 */
CU_WARN_UNUSED cu_result cu_store_provision_census(cu_store *s, int64_t before_us, uint64_t *n,
                                                   int64_t *oldest_us);

/* ---- members' own shares ------------------------------------------------ */

typedef struct cu_share_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	unsigned char hash[CU_STORE_HASHBYTES];     /* of the link token; the token is never kept */
	char fields_text[CU_REGISTRY_LIST_MAX + 1]; /* field names joined with ',' */
	int64_t created_us;
	int64_t expires_us;
	int64_t revoked_us; /* 0 unless revoked */
} cu_share_row;

CU_WARN_UNUSED cu_result cu_store_share_insert(cu_store *s, const cu_share_row *row);
/* CU_ERR_NOT_FOUND if no share has that hash (expired or revoked ones are returned). */
CU_WARN_UNUSED cu_result cu_store_share_get_by_hash(cu_store *s,
                                                    const unsigned char hash[CU_STORE_HASHBYTES],
                                                    cu_share_row *out);
/*
 * Revokes a member's share (revoking twice keeps the first time);
 * CU_ERR_NOT_FOUND if that member has none with this id.
 */
CU_WARN_UNUSED cu_result cu_store_share_revoke(cu_store *s, const char *member, const char *id,
                                               int64_t when_us);
typedef int (*cu_store_share_fn)(void *ud, const cu_share_row *row);
/* A member's shares, newest first. */
CU_WARN_UNUSED cu_result cu_store_share_list(cu_store *s, const char *member, cu_store_share_fn fn,
                                             void *ud);

#endif
