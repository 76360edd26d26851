/*
 * src/store/subcontractor.c — dispatches the subcontractor area to the backend, with
 * the store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/subcontractor_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->subcontractor ? (s)->ops->subcontractor : NULL)

cu_result cu_store_subcontractor_insert(cu_store *s, const cu_subcontractor_row *row)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->subcontractor_insert(s, row);
}

cu_result cu_store_subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(id, CU_REGISTRY_ID_MAX))
		return CU_ERR_NOT_FOUND;
	return ops->subcontractor_get(s, id, out);
}

cu_result cu_store_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc ? rc : !fn ? CU_ERR_INVALID_ARGUMENT : ops->subcontractor_list(s, fn, ud);
}

cu_result cu_store_review_insert(cu_store *s, const cu_review_row *row)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !row ? CU_ERR_INVALID_ARGUMENT : ops->review_insert(s, row);
}

cu_result cu_store_review_get(cu_store *s, const char *id, cu_review_row *out)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(id, CU_ID_LEN))
		return CU_ERR_NOT_FOUND;
	return ops->review_get(s, id, out);
}

cu_result cu_store_review_update(cu_store *s, const char *id, const char *findings, int64_t done_us)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!id || !findings || strlen(findings) > CU_REGISTRY_TEXT_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_id_fits(id, CU_ID_LEN))
		return CU_ERR_NOT_FOUND;
	return ops->review_update(s, id, findings, done_us);
}

cu_result cu_store_review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn,
                               void *ud)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!subcontractor || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->review_list(s, subcontractor, fn, ud);
}

cu_result cu_store_review_overdue(cu_store *s, int64_t due_before_us, cu_store_review_fn fn,
                                  void *ud)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	return !fn ? CU_ERR_INVALID_ARGUMENT : ops->review_overdue(s, due_before_us, fn, ud);
}

cu_result cu_store_token_contract_set(cu_store *s, const char *token_id, const char *contract)
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_id_fits(token_id, CU_ID_LEN) ||
	    !cu_store_id_fits(contract, CU_REGISTRY_ID_MAX))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->token_contract_set(s, token_id, contract);
}

cu_result cu_store_token_contract_get(cu_store *s, const char *token_id,
                                      char contract[CU_REGISTRY_ID_MAX + 1])
{
	const struct cu_store_subcontractor_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!token_id || !contract)
		return CU_ERR_INVALID_ARGUMENT;
	contract[0] = '\0';
	if (!cu_store_id_fits(token_id, CU_ID_LEN))
		return CU_ERR_NOT_FOUND;
	return ops->token_contract_get(s, token_id, contract);
}
