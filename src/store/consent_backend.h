/*
 * src/store/consent_backend.h — the consent area's backend interface (private).
 */
#ifndef CU_STORE_CONSENT_IMPL_H
#define CU_STORE_CONSENT_IMPL_H

#include "store/consent.h"

struct cu_store_consent_ops {
	cu_result (*consent_insert)(cu_store *s, const cu_consent_row *row);
	cu_result (*consent_current)(cu_store *s, const char *member, const char *kind,
	                             const char *target, cu_consent_row *out);
	cu_result (*consent_get)(cu_store *s, const char *id, cu_consent_row *out);
	/* One statement: the member's row and the three lookups of a purpose read. */
	cu_result (*member_context)(cu_store *s, const char *id, const char *kind,
	                            const char *target, cu_member_row *row, cu_member_context *out);
	cu_result (*consent_list)(cu_store *s, const char *member, cu_store_consent_fn fn,
	                          void *ud);
	cu_result (*accepted_set)(cu_store *s, const char *member, const char *version,
	                          int64_t when_us);
	cu_result (*accepted_get)(cu_store *s, const char *member, char version[CU_VERSION_MAX + 1],
	                          int64_t *when_us);
	cu_result (*policy_put)(cu_store *s, const char *version,
	                        const unsigned char digest[CU_POLICY_DIGESTBYTES], const char *doc,
	                        size_t len, const char *by, int64_t when_us);
	cu_result (*policy_get)(cu_store *s, const char *version, char **doc, size_t *len,
	                        int64_t *published_us);
	cu_result (*policy_list)(cu_store *s, cu_store_policy_fn fn, void *ud);
	cu_result (*policy_at)(cu_store *s, int64_t when_us, char version[CU_VERSION_MAX + 1]);
	cu_result (*exception_insert)(cu_store *s, const cu_exception_row *row);
	cu_result (*exception_get)(cu_store *s, const char *id, cu_exception_row *out);
	cu_result (*exception_close)(cu_store *s, const char *id, const char *by,
	                             const unsigned char *review, size_t review_len,
	                             int64_t when_us);
	cu_result (*exception_list)(cu_store *s, bool open_only, cu_store_exception_fn fn,
	                            void *ud);
};

#endif
