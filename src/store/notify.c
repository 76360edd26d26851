/*
 * src/store/notify.c — dispatches the notify area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/notify_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->notify ? (s)->ops->notify : NULL)

static const char *const status_names[CU_OUTBOX_STATUS_COUNT_] = {
    [CU_OUTBOX_PENDING] = "pending",
    [CU_OUTBOX_SENT] = "sent",
    [CU_OUTBOX_FAILED] = "failed",
    [CU_OUTBOX_DROPPED] = "dropped",
};

const char *cu_outbox_status_name(cu_outbox_status st)
{
	return (unsigned)st < CU_OUTBOX_STATUS_COUNT_ ? status_names[st] : NULL;
}

cu_result cu_outbox_status_parse(const char *name, cu_outbox_status *out)
{
	for (int i = 0; name && i < CU_OUTBOX_STATUS_COUNT_; i++) {
		if (!strcmp(name, status_names[i])) {
			*out = (cu_outbox_status)i;
			return CU_OK;
		}
	}
	return CU_ERR_INVALID_ARGUMENT;
}

/* Every text of a row NUL-terminated within its array (rows come from callers). */
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static bool notice_ok(const cu_notice_row *row)
{
	return row && cu_store_valid_id(row->id) && cu_store_valid_id(row->member) &&
	       row->kind[0] && TERMINATED(row->kind) && TERMINATED(row->subject) &&
	       TERMINATED(row->body);
}

static bool outbox_ok(const cu_outbox_row *row)
{
	return row && cu_store_valid_id(row->id) && cu_store_valid_id(row->member) &&
	       cu_store_valid_id(row->notice) && row->kind[0] && TERMINATED(row->kind) &&
	       TERMINATED(row->last_error) && (unsigned)row->status < CU_OUTBOX_STATUS_COUNT_;
}

cu_result cu_store_notice_insert(cu_store *s, const cu_notice_row *row)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !notice_ok(row) ? CU_ERR_INVALID_ARGUMENT : ops->notice_insert(s, row);
}

cu_result cu_store_notice_get(cu_store *s, const char *id, cu_notice_row *out)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(id) || !out)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->notice_get(s, id, out);
}

cu_result cu_store_notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn,
                               void *ud)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	return limit ? ops->notice_list(s, member, limit, fn, ud) : CU_OK;
}

cu_result cu_store_notice_mark_read(cu_store *s, const char *member, const char *id,
                                    int64_t when_us)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member) || !cu_store_valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->notice_mark_read(s, member, id, when_us);
}

cu_result cu_store_outbox_insert(cu_store *s, const cu_outbox_row *row)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !outbox_ok(row) ? CU_ERR_INVALID_ARGUMENT : ops->outbox_insert(s, row);
}

cu_result cu_store_outbox_get(cu_store *s, const char *id, cu_outbox_row *out)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(id) || !out)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->outbox_get(s, id, out);
}

cu_result cu_store_outbox_due(cu_store *s, int64_t now_us, bool ignore_backoff, size_t max,
                              cu_store_outbox_fn fn, void *ud)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!fn)
		return CU_ERR_INVALID_ARGUMENT;
	return max ? ops->outbox_due(s, now_us, ignore_backoff, max, fn, ud) : CU_OK;
}

cu_result cu_store_outbox_claim(cu_store *s, const char *id, int64_t now_us, int64_t until_us,
                                bool ignore_backoff)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(id) || until_us <= now_us)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->outbox_claim(s, id, now_us, until_us, ignore_backoff);
}

cu_result cu_store_outbox_settle(cu_store *s, const cu_outbox_row *row)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	return rc ? rc : !outbox_ok(row) ? CU_ERR_INVALID_ARGUMENT : ops->outbox_settle(s, row);
}

cu_result cu_store_outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_])
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!counts)
		return CU_ERR_INVALID_ARGUMENT;
	memset(counts, 0, sizeof(uint64_t) * CU_OUTBOX_STATUS_COUNT_);
	return ops->outbox_counts(s, counts);
}

cu_result cu_store_outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit,
                               cu_store_outbox_fn fn, void *ud)
{
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!fn || (!all && (unsigned)status >= CU_OUTBOX_STATUS_COUNT_))
		return CU_ERR_INVALID_ARGUMENT;
	return limit ? ops->outbox_list(s, all, status, limit, fn, ud) : CU_OK;
}

cu_result cu_store_outbox_drop_member(cu_store *s, const char *member, uint64_t *n)
{
	uint64_t dropped = 0;
	const struct cu_store_notify_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!cu_store_valid_id(member))
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->outbox_drop_member(s, member, &dropped);
	if (n)
		*n = rc ? 0 : dropped;
	return rc;
}
