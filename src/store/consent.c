/*
 * src/store/consent.c — dispatches the consent area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/consent_backend.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->consent ? (s)->ops->consent : NULL)

void cu_exception_row_release(cu_exception_row *row)
{
	if (!row)
		return;
	free(row->justification);
	free(row->review);
	row->justification = row->review = NULL;
	row->justification_len = row->review_len = 0;
}

cu_result cu_store_consent_insert(cu_store *s, const cu_consent_row *row)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->consent_insert(s, row);
}

cu_result cu_store_consent_current(cu_store *s, const char *member, const char *kind,
                                   const char *target, cu_consent_row *out)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!member || !kind || !target || !out)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->consent_current(s, member, kind, target, out);
}

cu_result cu_store_member_context(cu_store *s, const char *id, const char *kind, const char *target,
                                  cu_member_row *row, cu_member_context *out)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (!row || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(row, 0, sizeof(*row));
	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if (!id || !id[0] || !memchr(id, '\0', CU_ID_LEN + 1) || !kind || !target)
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->member_context(s, id, kind, target, row, out);
	if (rc) {
		cu_member_row_release(row);
		memset(row, 0, sizeof(*row));
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

cu_result cu_store_consent_get(cu_store *s, const char *id, cu_consent_row *out)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : (!id || !out) ? CU_ERR_INVALID_ARGUMENT : ops->consent_get(s, id, out);
}

cu_result cu_store_consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	return (!member || !fn) ? CU_ERR_INVALID_ARGUMENT : ops->consent_list(s, member, fn, ud);
}

cu_result cu_store_accepted_set(cu_store *s, const char *member, const char *version,
                                int64_t when_us)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!member || !version || strlen(version) > CU_VERSION_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->accepted_set(s, member, version, when_us);
}

cu_result cu_store_accepted_get(cu_store *s, const char *member, char version[CU_VERSION_MAX + 1],
                                int64_t *when_us)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	return (!member || !version) ? CU_ERR_INVALID_ARGUMENT
	                             : ops->accepted_get(s, member, version, when_us);
}

cu_result cu_store_policy_put(cu_store *s, const char *version,
                              const unsigned char digest[CU_POLICY_DIGESTBYTES], const char *doc,
                              size_t len, const char *by, int64_t when_us)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!version || strlen(version) > CU_VERSION_MAX || !digest || !doc || !by)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->policy_put(s, version, digest, doc, len, by, when_us);
}

cu_result cu_store_policy_get(cu_store *s, const char *version, char **doc, size_t *len,
                              int64_t *published_us)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!version || !doc || !len)
		return CU_ERR_INVALID_ARGUMENT;
	*doc = NULL;
	return ops->policy_get(s, version, doc, len, published_us);
}

cu_result cu_store_policy_at(cu_store *s, int64_t when_us, char version[CU_VERSION_MAX + 1])
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : !version ? CU_ERR_INVALID_ARGUMENT : ops->policy_at(s, when_us, version);
}

cu_result cu_store_policy_list(cu_store *s, cu_store_policy_fn fn, void *ud)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : !fn ? CU_ERR_INVALID_ARGUMENT : ops->policy_list(s, fn, ud);
}

cu_result cu_store_exception_insert(cu_store *s, const cu_exception_row *row)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->exception_insert(s, row);
}

cu_result cu_store_exception_get(cu_store *s, const char *id, cu_exception_row *out)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	return ops->exception_get(s, id, out);
}

cu_result cu_store_exception_close(cu_store *s, const char *id, const char *by,
                                   const unsigned char *review, size_t review_len, int64_t when_us)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!id || !by || !review)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->exception_close(s, id, by, review, review_len, when_us);
}

cu_result cu_store_exception_list(cu_store *s, bool open_only, cu_store_exception_fn fn, void *ud)
{
	const struct cu_store_consent_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : !fn ? CU_ERR_INVALID_ARGUMENT : ops->exception_list(s, open_only, fn, ud);
}
