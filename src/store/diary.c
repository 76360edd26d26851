/*
 * src/store/diary.c — dispatches the diary area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/diary_backend.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->diary ? (s)->ops->diary : NULL)

/* Both parts sealed: never an empty or truncated blob, which no seal produces. */
static cu_result check_row(const cu_diary_row *row)
{
	if (!row || !cu_store_valid_id(row->id) || !cu_store_valid_id(row->member))
		return CU_ERR_INVALID_ARGUMENT;
	if (!row->title || row->title_len < CU_VAULT_SEAL_OVERHEAD || !row->body ||
	    row->body_len < CU_VAULT_SEAL_OVERHEAD)
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

void cu_diary_row_release(cu_diary_row *row)
{
	if (!row)
		return;
	free(row->title);
	free(row->body);
	row->title = row->body = NULL;
	row->title_len = row->body_len = 0;
}

cu_result cu_store_diary_insert(cu_store *s, const cu_diary_row *row)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (!rc)
		rc = check_row(row);
	return rc ? rc : ops->insert(s, row);
}

cu_result cu_store_diary_get(cu_store *s, const char *member, const char *id, cu_diary_row *out)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !cu_store_valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->get(s, member, id, out);
}

cu_result cu_store_diary_update(cu_store *s, const cu_diary_row *row)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (!rc)
		rc = check_row(row);
	return rc ? rc : ops->update(s, row);
}

cu_result cu_store_diary_delete(cu_store *s, const char *member, const char *id)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !cu_store_valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->remove(s, member, id);
}

cu_result cu_store_diary_delete_member(cu_store *s, const char *member, uint64_t *n)
{
	uint64_t count = 0;
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member))
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->remove_member(s, member, &count);
	if (n)
		*n = rc ? 0 : count;
	return rc;
}

cu_result cu_store_diary_list(cu_store *s, const char *member, const char *before, size_t limit,
                              cu_store_diary_fn fn, void *ud)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || (before && !cu_store_valid_id(before)) || !limit || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	/* The list owns a prepared statement; a callback may not start another scan. */
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = ops->list(s, member, before, limit, fn, ud);
	s->scanning = false;
	return rc;
}

cu_result cu_store_diary_count(cu_store *s, const char *member, uint64_t *n)
{
	const struct cu_store_diary_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !n)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->count(s, member, n);
}
