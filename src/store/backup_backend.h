/*
 * src/store/backup_backend.h — the backup area's backend interface (private).
 */
#ifndef CU_STORE_BACKUP_BACKEND_H
#define CU_STORE_BACKUP_BACKEND_H

#include "store/backup.h"

struct cu_store_backup_ops {
	cu_result (*stream)(cu_store *s, unsigned pages_per_step, cu_store_sink_fn sink,
	                    void *sink_ud, cu_store_progress_fn fn, void *ud,
	                    cu_store_backup_stats *stats, char *err, size_t errlen);
	cu_result (*key_ids)(cu_store *s, uint32_t *master, size_t *nm, uint32_t *trees, size_t *nt,
	                     size_t max);
	cu_result (*erased_ids)(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
	                        size_t max, size_t *n);
};

#endif
