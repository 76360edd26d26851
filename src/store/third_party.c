/*
 * src/store/third_party.c — dispatches the third-party area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/third_party_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->third_party ? (s)->ops->third_party : NULL)

cu_result cu_store_third_party_insert(cu_store *s, const cu_third_party_row *row)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->third_party_insert(s, row);
}

cu_result cu_store_third_party_get(cu_store *s, const char *id, cu_third_party_row *out)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(id, CU_REGISTRY_ID_MAX))
		return CU_ERR_NOT_FOUND;
	return ops->third_party_get(s, id, out);
}

cu_result cu_store_third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : !fn ? CU_ERR_INVALID_ARGUMENT : ops->third_party_list(s, fn, ud);
}

cu_result cu_store_provision_insert(cu_store *s, const cu_provision_row *row)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || row->nfields == 0 || row->nfields > CU_POLICY_FIELDS_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->provision_insert(s, row);
}

cu_result cu_store_provision_list(cu_store *s, const char *member, cu_store_provision_fn fn,
                                  void *ud)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!member || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(member, CU_ID_LEN))
		return CU_OK; /* no member has that id: no provisions */
	return ops->provision_list(s, member, fn, ud);
}

cu_result cu_store_provision_purge(cu_store *s, int64_t before_us, int64_t now_us, uint64_t *n)
{
	uint64_t dummy;
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	/* Records of provision are kept three years: a younger cut-off is refused. */
	if (before_us > now_us - CU_PROVISION_KEEP_US)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->provision_purge(s, before_us, n ? n : &dummy);
}

cu_result cu_store_provision_census(cu_store *s, int64_t before_us, uint64_t *n, int64_t *oldest_us)
{
	uint64_t count = 0;
	int64_t oldest = 0;
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (!rc)
		rc = ops->provision_census(s, before_us, &count, &oldest);
	if (n)
		*n = rc ? 0 : count;
	if (oldest_us)
		*oldest_us = rc ? 0 : oldest;
	return rc;
}

cu_result cu_store_share_insert(cu_store *s, const cu_share_row *row)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->share_insert(s, row);
}

cu_result cu_store_share_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                     cu_share_row *out)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc                ? rc
	       : (!hash || !out) ? CU_ERR_INVALID_ARGUMENT
	                         : ops->share_get_by_hash(s, hash, out);
}

cu_result cu_store_share_revoke(cu_store *s, const char *member, const char *id, int64_t when_us)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!member || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(member, CU_ID_LEN) || !cu_store_id_fits(id, CU_ID_LEN))
		return CU_ERR_NOT_FOUND;
	return ops->share_revoke(s, member, id, when_us);
}

cu_result cu_store_share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud)
{
	const struct cu_store_third_party_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!member || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(member, CU_ID_LEN))
		return CU_OK;
	return ops->share_list(s, member, fn, ud);
}
