/*
 * src/store/beacon.c — dispatches the beacon area to the backend, with the
 * store's shared rules: arguments checked, writes only inside a transaction.
 */
#include "store/beacon_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->beacon ? (s)->ops->beacon : NULL)

static bool valid_day(const char *day)
{
	return day && strnlen(day, CU_BEACON_DAY_LEN + 1) == CU_BEACON_DAY_LEN;
}

static bool valid_name(const char *n, size_t max)
{
	size_t len = n ? strnlen(n, max + 1) : 0;

	return len > 0 && len <= max;
}

cu_result cu_store_beacon_salt_get(cu_store *s, const char *day, unsigned char *sealed, size_t cap,
                                   size_t *len, bool *found)
{
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!valid_day(day) || !sealed || !len || !found)
		return CU_ERR_INVALID_ARGUMENT;
	*len = 0;
	*found = false;
	return ops->salt_get(s, day, sealed, cap, len, found);
}

cu_result cu_store_beacon_salt_put(cu_store *s, const char *day, const unsigned char *sealed,
                                   size_t len)
{
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!valid_day(day) || !sealed || !len || len > CU_BEACON_SEALED_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->salt_put(s, day, sealed, len);
}

cu_result cu_store_beacon_salt_purge(cu_store *s, const char *keep, uint64_t *n)
{
	uint64_t count = 0;
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!valid_day(keep))
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->salt_purge(s, keep, &count);
	if (n)
		*n = rc ? 0 : count;
	return rc;
}

cu_result cu_store_beacon_insert(cu_store *s, const cu_beacon_row *row)
{
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !valid_day(row->day) || !valid_name(row->page, CU_BEACON_NAME_MAX) ||
	    !valid_name(row->event, CU_BEACON_NAME_MAX) ||
	    !valid_name(row->category, CU_BEACON_CATEGORY_MAX))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->insert(s, row);
}

cu_result cu_store_beacon_rollup(cu_store *s, const char *today, uint64_t *days)
{
	uint64_t count = 0;
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!valid_day(today))
		return CU_ERR_INVALID_ARGUMENT;
	rc = ops->rollup(s, today, &count);
	if (days)
		*days = rc ? 0 : count;
	return rc;
}

cu_result cu_store_beacon_expire(cu_store *s, int64_t cutoff_us, uint64_t *n)
{
	uint64_t count = 0;
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	rc = ops->expire(s, cutoff_us, &count);
	if (n)
		*n = rc ? 0 : count;
	return rc;
}

cu_result cu_store_beacon_counts(cu_store *s, uint64_t *hits, uint64_t *salts)
{
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!hits || !salts)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->counts(s, hits, salts);
}

cu_result cu_store_beacon_daily(cu_store *s, const char *from, const char *to,
                                cu_store_beacon_daily_fn fn, void *ud)
{
	const struct cu_store_beacon_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!valid_day(from) || !valid_day(to) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = ops->daily(s, from, to, fn, ud);
	s->scanning = false;
	return rc;
}
