/*
 * src/store/stats.c — dispatches the statistics area to the backend, with
 * the store's shared rules: arguments checked, writes only inside a
 * transaction, no nested scans.
 */
#include "store/stats_backend.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->stats ? (s)->ops->stats : NULL)

static bool valid_text(const char *t, size_t max)
{
	size_t len = t ? strnlen(t, max + 1) : 0;

	return len > 0 && len <= max;
}

static bool valid_period(const char *p)
{
	return p && strnlen(p, CU_STATS_PERIOD_LEN + 1) == CU_STATS_PERIOD_LEN;
}

cu_result cu_store_stats_secret_get(cu_store *s, unsigned char *sealed, size_t cap, size_t *len,
                                    bool *found)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!sealed || !len || !found)
		return CU_ERR_INVALID_ARGUMENT;
	*len = 0;
	*found = false;
	return ops->secret_get(s, sealed, cap, len, found);
}

cu_result cu_store_stats_secret_put(cu_store *s, const unsigned char *sealed, size_t len)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!sealed || !len || len > CU_STATS_SEALED_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->secret_put(s, sealed, len);
}

cu_result cu_store_stats_ledger_insert(cu_store *s, const cu_stats_ledger_row *row)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !valid_text(row->release, CU_ID_LEN) ||
	    !valid_text(row->dataset, CU_STATS_DATASET_MAX) || !valid_period(row->period) ||
	    !valid_text(row->mechanism, CU_STATS_MECHANISM_MAX) ||
	    !valid_text(row->token, CU_STATS_TOKEN_MAX) || !(row->epsilon > 0) || row->delta < 0)
		return CU_ERR_INVALID_ARGUMENT;
	return ops->ledger_insert(s, row);
}

cu_result cu_store_stats_spent(cu_store *s, const char *dataset, const char *period,
                               double *epsilon)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!valid_text(dataset, CU_STATS_DATASET_MAX) || !valid_period(period) || !epsilon)
		return CU_ERR_INVALID_ARGUMENT;
	*epsilon = 0;
	return ops->spent(s, dataset, period, epsilon);
}

cu_result cu_store_stats_ledger_list(cu_store *s, const char *period, cu_store_stats_ledger_fn fn,
                                     void *ud)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if ((period && !valid_period(period)) || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = ops->ledger_list(s, period, fn, ud);
	s->scanning = false;
	return rc;
}

cu_result cu_store_stats_release_insert(cu_store *s, const cu_stats_release_row *row,
                                        const char *json)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_writable(s, ops);

	if (rc)
		return rc;
	if (!row || !json || !valid_text(row->release, CU_ID_LEN) ||
	    !valid_text(row->dataset, CU_STATS_DATASET_MAX) || !valid_period(row->period) ||
	    strnlen(row->key, CU_STATS_KEY_LEN + 1) != CU_STATS_KEY_LEN ||
	    !valid_text(json, CU_STATS_RELEASE_MAX))
		return CU_ERR_INVALID_ARGUMENT;
	return ops->release_insert(s, row, json);
}

cu_result cu_store_stats_release_find(cu_store *s, const char *dataset, const char *period,
                                      const char *key, const char *release,
                                      cu_stats_release_row *out, char **json, bool *found)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!out || !json || !found ||
	    (release ? !valid_text(release, CU_ID_LEN)
	             : !valid_text(dataset, CU_STATS_DATASET_MAX) || !valid_period(period) ||
	                   !key || strnlen(key, CU_STATS_KEY_LEN + 1) != CU_STATS_KEY_LEN))
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	*json = NULL;
	*found = false;
	rc = ops->release_find(s, dataset, period, key, release, out, json, found);
	if (rc) {
		free(*json);
		*json = NULL;
		*found = false;
	}
	return rc;
}

cu_result cu_store_stats_member_count(cu_store *s, uint64_t *n)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!n)
		return CU_ERR_INVALID_ARGUMENT;
	*n = 0;
	return ops->member_count(s, n);
}

cu_result cu_store_stats_member_scan(cu_store *s, cu_store_stats_member_fn fn, void *ud)
{
	const struct cu_store_stats_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = ops->member_scan(s, fn, ud);
	s->scanning = false;
	return rc;
}
