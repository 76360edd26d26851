/*
 * src/store/backup.c — dispatches the backup area to the backend (backup.h).
 */
#include "store/backup_backend.h"

#include <string.h>

#include "store/backend.h"

#define OPS(s) ((s) && (s)->ops->backup ? (s)->ops->backup : NULL)

cu_result cu_store_backup_stream(cu_store *s, unsigned pages_per_step, cu_store_sink_fn sink,
                                 void *sink_ud, cu_store_progress_fn fn, void *ud,
                                 cu_store_backup_stats *stats, char *err, size_t errlen)
{
	cu_store_backup_stats ignored;
	const struct cu_store_backup_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!sink || !pages_per_step)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	if (!stats)
		stats = &ignored;
	memset(stats, 0, sizeof(*stats));
	return ops->stream(s, pages_per_step, sink, sink_ud, fn, ud, stats, err, errlen);
}

cu_result cu_store_wrapping_key_ids(cu_store *s, uint32_t *master, size_t *nm, uint32_t *trees,
                                    size_t *nt, size_t max)
{
	const struct cu_store_backup_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!master || !nm || !trees || !nt)
		return CU_ERR_INVALID_ARGUMENT;
	*nm = 0;
	*nt = 0;
	return ops->key_ids(s, master, nm, trees, nt, max);
}

cu_result cu_store_member_erased_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
                                     size_t max, size_t *n)
{
	const struct cu_store_backup_ops *ops = OPS(s);
	cu_result rc = cu_store_area_readable(s, ops);

	if (rc)
		return rc;
	if (!after || !ids || !n || strlen(after) > CU_ID_LEN)
		return CU_ERR_INVALID_ARGUMENT;
	*n = 0;
	return ops->erased_ids(s, after, ids, max, n);
}
