/*
 * domain/consent_reads.c — members' choices, member rows and published policy versions, read (see consent_reads.h).
 */
#include "domain/consent_reads.h"

cu_result cu_consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud)
{
	return cu_store_consent_list(s, member, fn, ud);
}

cu_result cu_consent_get(cu_store *s, const char *id, cu_consent_row *out)
{
	return cu_store_consent_get(s, id, out);
}

cu_result cu_member_get(cu_store *s, const char *id, cu_member_row *out)
{
	return cu_store_member_get(s, id, out);
}

cu_result cu_versions_list(cu_store *s, cu_store_policy_fn fn, void *ud)
{
	return cu_store_policy_list(s, fn, ud);
}

cu_result cu_versions_document(cu_store *s, const char *version, char **doc, size_t *len, int64_t *published_us)
{
	return cu_store_policy_get(s, version, doc, len, published_us);
}
