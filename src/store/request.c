/*
 * src/store/request.c — dispatches the request area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/request_backend.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->request ? (s)->ops->request : NULL)

/* A sealed text is never shorter than a seal's overhead: no seal produces that. */
static bool sealed_ok(const unsigned char *p, size_t n)
{
	return p ? n >= CU_VAULT_SEAL_OVERHEAD : n == 0;
}

void cu_request_row_release(cu_request_row *row)
{
	if (!row)
		return;
	free(row->details);
	free(row->certificate);
	row->details = NULL;
	row->details_len = 0;
	row->certificate = NULL;
}

void cu_request_event_row_release(cu_request_event_row *row)
{
	if (!row)
		return;
	free(row->reasons);
	row->reasons = NULL;
	row->reasons_len = 0;
}

void cu_complaint_row_release(cu_complaint_row *row)
{
	if (!row)
		return;
	free(row->text);
	row->text = NULL;
	row->text_len = 0;
}

void cu_complaint_response_row_release(cu_complaint_response_row *row)
{
	if (!row)
		return;
	free(row->text);
	row->text = NULL;
	row->text_len = 0;
}

cu_result cu_store_request_insert(cu_store *s, const cu_request_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->id) || !cu_store_valid_id(row->member) ||
	    !row->type[0] || !row->state[0] || !sealed_ok(row->details, row->details_len))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->request_insert(s, row);
}

cu_result cu_store_request_get(cu_store *s, const char *id, cu_request_row *out)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!cu_store_valid_id(id))
		return CU_ERR_NOT_FOUND;
	return ops->request_get(s, id, out);
}

cu_result cu_store_request_update(cu_store *s, const cu_request_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->id) || !row->state[0])
		return CU_ERR_INVALID_ARGUMENT;
	return ops->request_update(s, row);
}

cu_result cu_store_request_list_open(cu_store *s, int64_t due_before_us, cu_store_request_fn fn,
                                     void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc    ? rc
	       : !fn ? CU_ERR_INVALID_ARGUMENT
	             : ops->request_list_open(s, due_before_us, fn, ud);
}

cu_result cu_store_request_list_member(cu_store *s, const char *member, cu_store_request_fn fn,
                                       void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->request_list_member(s, member, fn, ud);
}

cu_result cu_store_request_event_insert(cu_store *s, const cu_request_event_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->request) || !row->state[0] ||
	    !sealed_ok(row->reasons, row->reasons_len))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->event_insert(s, row);
}

cu_result cu_store_request_event_list(cu_store *s, const char *request,
                                      cu_store_request_event_fn fn, void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(request) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->event_list(s, request, fn, ud);
}

cu_result cu_store_complaint_insert(cu_store *s, const cu_complaint_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->id) || !cu_store_valid_id(row->member) ||
	    !row->about[0] || !row->state[0] || !row->text || !sealed_ok(row->text, row->text_len))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->complaint_insert(s, row);
}

cu_result cu_store_complaint_get(cu_store *s, const char *id, cu_complaint_row *out)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!cu_store_valid_id(id))
		return CU_ERR_NOT_FOUND;
	return ops->complaint_get(s, id, out);
}

cu_result cu_store_complaint_update(cu_store *s, const cu_complaint_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->id) || !row->state[0])
		return CU_ERR_INVALID_ARGUMENT;
	return ops->complaint_update(s, row);
}

cu_result cu_store_complaint_list_open(cu_store *s, int64_t due_before_us, cu_store_complaint_fn fn,
                                       void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	return rc    ? rc
	       : !fn ? CU_ERR_INVALID_ARGUMENT
	             : ops->complaint_list_open(s, due_before_us, fn, ud);
}

cu_result cu_store_complaint_list_member(cu_store *s, const char *member, cu_store_complaint_fn fn,
                                         void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->complaint_list_member(s, member, fn, ud);
}

cu_result cu_store_complaint_response_insert(cu_store *s, const cu_complaint_response_row *row)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !cu_store_valid_id(row->id) || !cu_store_valid_id(row->complaint) ||
	    !row->officer[0] || !row->text || !sealed_ok(row->text, row->text_len))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->response_insert(s, row);
}

cu_result cu_store_complaint_response_list(cu_store *s, const char *complaint,
                                           cu_store_complaint_response_fn fn, void *ud)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(complaint) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->response_list(s, complaint, fn, ud);
}

cu_result cu_store_complaint_response_count(cu_store *s, const char *complaint, uint64_t *n)
{
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(complaint) || !n)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->response_count(s, complaint, n);
}

cu_result cu_store_request_forget_member(cu_store *s, const char *member, uint64_t *n)
{
	uint64_t count = 0;
	const struct cu_store_request_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member))
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->forget_member(s, member, &count);
	if (n)
		*n = rc ? 0 : count;
	return rc;
}
