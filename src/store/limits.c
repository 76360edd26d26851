/*
 * src/store/limits.c — the rules of the shared attempt limits
 * (store/limits.h), once for every backend: a backend only locks, reads and
 * writes a key's row inside a transaction of its own.
 */
#include "store/limits_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->limits ? (s)->ops->limits : NULL)

bool cu_store_limits_shared(const cu_store *s)
{
	const struct cu_store_limits_ops *ops = OPS(s);

	return ops && ops->shared;
}

static bool valid_key(const cu_store_limit_key *k)
{
	return k && k->limit >= 1 && k->window_us > 0;
}

static cu_result begin(cu_store *s, const struct cu_store_limits_ops *ops)
{
	cu_result rc;

	if (!ops)
		return s ? CU_ERR_INTERNAL : CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	rc = ops->begin(s);
	if (rc)
		return rc;
	s->in_tx = true;
	s->later = false;
	s->audit_appended = false;
	return CU_OK;
}

static cu_result end(cu_store *s, cu_result rc)
{
	if (rc) {
		cu_store_rollback(s);
		return rc;
	}
	return cu_store_commit(s);
}

/* The row as of now: a window that ran out (and no lockout) starts over. */
static void roll(cu_store_limit_row *row, const cu_store_limit_key *k, int64_t now_us)
{
	if (row->window_start_us + k->window_us <= now_us && row->locked_until_us <= now_us) {
		row->window_start_us = now_us;
		row->attempts = 0;
		row->locked_until_us = 0;
	}
}

static void set_expiry(cu_store_limit_row *row, const cu_store_limit_key *k)
{
	int64_t end = row->window_start_us + k->window_us;

	row->expires_us = row->locked_until_us > end ? row->locked_until_us : end;
}

cu_result cu_store_limit_reserve(cu_store *s, const cu_store_limit_key *keys, size_t n,
                                 int64_t now_us, int64_t window_start[CU_LIMITS_KEYS_MAX],
                                 int64_t *retry_after_us)
{
	const struct cu_store_limits_ops *ops = OPS(s);
	size_t order[CU_LIMITS_KEYS_MAX];
	int64_t retry = 0;
	cu_result rc;

	if (retry_after_us)
		*retry_after_us = 0;
	if (!keys || n < 1 || n > CU_LIMITS_KEYS_MAX || !window_start || now_us <= 0)
		return CU_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++) {
		if (!valid_key(&keys[i]))
			return CU_ERR_INVALID_ARGUMENT;
		order[i] = i;
	}
	/* Rows are locked in key order, so two reservations never wait on each other in a ring. */
	if (n == 2 && memcmp(keys[0].id, keys[1].id, CU_LIMITS_KEY_LEN) > 0) {
		order[0] = 1;
		order[1] = 0;
	}
	if ((rc = begin(s, ops)))
		return rc;
	rc = ops->purge(s, now_us);
	for (size_t j = 0; !rc && j < n; j++) {
		const cu_store_limit_key *k = &keys[order[j]];
		cu_store_limit_row row;

		rc = ops->lock(s, k->id, now_us, now_us + k->window_us, &row);
		if (rc)
			break;
		roll(&row, k, now_us);
		if (row.locked_until_us > now_us) {
			retry = row.locked_until_us - now_us;
			rc = CU_ERR_RATE_LIMITED;
		} else if (row.attempts >= (int64_t)k->limit) {
			retry = row.window_start_us + k->window_us - now_us;
			rc = CU_ERR_RATE_LIMITED;
		} else {
			row.attempts++;
			set_expiry(&row, k);
			rc = ops->put(s, &row);
			window_start[order[j]] = row.window_start_us;
		}
	}
	if (rc == CU_ERR_RATE_LIMITED && retry_after_us)
		*retry_after_us = retry > 0 ? retry : 1;
	return end(s, rc);
}

cu_result cu_store_limit_finish(cu_store *s, const cu_store_limit_key *key, int64_t window_start,
                                enum cu_store_limit_outcome outcome, int64_t now_us)
{
	const struct cu_store_limits_ops *ops = OPS(s);
	cu_store_limit_row row;
	bool same;
	cu_result rc;

	if (!valid_key(key) || now_us <= 0 ||
	    (outcome != CU_STORE_LIMIT_COUNT && outcome != CU_STORE_LIMIT_RELEASE &&
	     outcome != CU_STORE_LIMIT_CLEAR))
		return CU_ERR_INVALID_ARGUMENT;
	if ((rc = begin(s, ops)))
		return rc;
	rc = ops->lock(s, key->id, now_us, now_us + key->window_us, &row);
	if (rc)
		return end(s, rc);
	/* The window the attempt was counted in; a later one owes it nothing. */
	same = row.window_start_us == window_start;
	switch (outcome) {
	case CU_STORE_LIMIT_COUNT:
		if (same && row.attempts >= (int64_t)key->limit && row.locked_until_us <= now_us)
			row.locked_until_us = now_us + key->window_us;
		break;
	case CU_STORE_LIMIT_RELEASE:
		if (same && row.attempts > 0)
			row.attempts--;
		break;
	case CU_STORE_LIMIT_CLEAR:
		row.window_start_us = now_us;
		row.attempts = 0;
		row.locked_until_us = 0;
		break;
	}
	set_expiry(&row, key);
	return end(s, ops->put(s, &row));
}
