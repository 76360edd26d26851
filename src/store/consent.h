/*
 * src/store/consent.h — the store's area for consents, accepted policy
 * versions, published policy documents and legal exceptions.  Part of the
 * store (store.h's rules hold: writes only inside a transaction, no SQL
 * outside the store); the domain is consent.h.
 */
#ifndef CUSTODIAN_STORE_CONSENT_H
#define CUSTODIAN_STORE_CONSENT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define CU_VERSION_MAX        64 /* a policy version string */
#define CU_CONSENT_KIND_BYTES 16 /* "purpose" | "third_party" | "cookie", and its NUL, with room */
/* The vault context an exception's note is sealed under: "exception:" and its id, and a NUL. */
#define CU_EXCEPTION_CONTEXT_BYTES 64

/* One recorded choice.  Rows are never changed: the latest per target counts. */
typedef struct cu_consent_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	char kind[CU_CONSENT_KIND_BYTES]; /* "purpose" | "third_party" | "cookie" */
	char target[CU_POLICY_ID_MAX + 1];
	bool granted;
	char policy_version[CU_VERSION_MAX + 1];
	int64_t time_us;
} cu_consent_row;

CU_WARN_UNUSED cu_result cu_store_consent_insert(cu_store *s, const cu_consent_row *row);
/* The latest choice for (member, kind, target); CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_consent_current(cu_store *s, const char *member, const char *kind,
                                                  const char *target, cu_consent_row *out);
CU_WARN_UNUSED cu_result cu_store_consent_get(cu_store *s, const char *id, cu_consent_row *out);
/* Every choice of a member, oldest first.  fn returns non-zero to stop. */
typedef int (*cu_store_consent_fn)(void *ud, const cu_consent_row *row);
CU_WARN_UNUSED cu_result cu_store_consent_list(cu_store *s, const char *member,
                                               cu_store_consent_fn fn, void *ud);

/*
 * What the access door needs of one member for a read under a purpose, in
 * one statement where it was four lookups (on PostgreSQL four round trips):
 * the member's row, as cu_store_member_get gives it, and
 *   - consent: the latest choice for (member, kind, target), as
 *     cu_store_consent_current finds it: found or not, and whether it grants;
 *   - accepted: the version the member accepted ("" if none), as
 *     cu_store_accepted_get;
 *   - at_registration: the version in force when the member registered
 *     ("" if none), as cu_store_policy_at(row.created_us).
 * For an erased member only the row is certain.  CU_ERR_NOT_FOUND if no
 * such member.  On any failure *row is empty (safe to release) and *out
 * says nothing; on success the caller releases *row (cu_member_row_release).
 */
typedef struct cu_member_context {
	bool consent_found, consent_granted;
	char accepted[CU_VERSION_MAX + 1];
	char at_registration[CU_VERSION_MAX + 1];
} cu_member_context;
CU_WARN_UNUSED cu_result cu_store_member_context(cu_store *s, const char *id, const char *kind,
                                                 const char *target, cu_member_row *row,
                                                 cu_member_context *out);

/* The policy version a member accepted (at registration, or later). */
CU_WARN_UNUSED cu_result cu_store_accepted_set(cu_store *s, const char *member, const char *version,
                                               int64_t when_us);
/* CU_ERR_NOT_FOUND if the member never accepted one. */
CU_WARN_UNUSED cu_result cu_store_accepted_get(cu_store *s, const char *member,
                                               char version[CU_VERSION_MAX + 1], int64_t *when_us);

/*
 * Published policy documents, by version.  The document is the policy file
 * itself (no personal data).  Insert refuses a version already published
 * with other content (CU_ERR_CONFLICT); the same content again is CU_OK.
 * get: *doc is malloc'd (the caller frees).
 */
CU_WARN_UNUSED cu_result cu_store_policy_put(cu_store *s, const char *version,
                                             const unsigned char digest[CU_POLICY_DIGESTBYTES],
                                             const char *doc, size_t len, const char *by,
                                             int64_t when_us);
CU_WARN_UNUSED cu_result cu_store_policy_get(cu_store *s, const char *version, char **doc,
                                             size_t *len, int64_t *published_us);
/* The version in force at `when_us` (the latest published at or before it). */
CU_WARN_UNUSED cu_result cu_store_policy_at(cu_store *s, int64_t when_us,
                                            char version[CU_VERSION_MAX + 1]);
typedef int (*cu_store_policy_fn)(void *ud, const char *version, int64_t published_us,
                                  const char *by);
CU_WARN_UNUSED cu_result cu_store_policy_list(cu_store *s, cu_store_policy_fn fn, void *ud);

/* A legal exception invoked by an officer: open until an officer closes its review. */
#define CU_EXCEPTION_FIELDS_MAX CU_FIELDSET_TEXT_MAX /* as the audit entry's fields (access.h) */

typedef struct cu_exception_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	char officer[CU_ACTOR_MAX + 1];
	char exception[CU_POLICY_ID_MAX + 1];
	char purpose[CU_PURPOSE_TEXT_BYTES]; /* a purpose, or "provision:" and a third party */
	/* the fields the exception opened, by name, comma-separated ("" before they were kept) */
	char fields[CU_EXCEPTION_FIELDS_MAX + 1];
	unsigned char *justification; /* sealed (vault notes); owned when read */
	size_t justification_len;
	int64_t created_us;
	int64_t closed_us; /* 0 while open */
	char closed_by[CU_ACTOR_MAX + 1];
	unsigned char *review; /* sealed; NULL while open; owned when read */
	size_t review_len;
} cu_exception_row;

void cu_exception_row_release(cu_exception_row *row);
CU_WARN_UNUSED cu_result cu_store_exception_insert(cu_store *s, const cu_exception_row *row);
CU_WARN_UNUSED cu_result cu_store_exception_get(cu_store *s, const char *id, cu_exception_row *out);
/* Closes an open one; CU_ERR_NOT_FOUND if none, CU_ERR_CONFLICT if already closed. */
CU_WARN_UNUSED cu_result cu_store_exception_close(cu_store *s, const char *id, const char *by,
                                                  const unsigned char *review, size_t review_len,
                                                  int64_t when_us);
/* Every exception (only the open ones when open_only), oldest first. */
typedef int (*cu_store_exception_fn)(void *ud, const cu_exception_row *row);
CU_WARN_UNUSED cu_result cu_store_exception_list(cu_store *s, bool open_only,
                                                 cu_store_exception_fn fn, void *ud);

#endif
