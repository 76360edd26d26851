/*
 * src/store/stats_backend.h — the statistics area's backend interface (private).
 */
#ifndef CU_STORE_STATS_IMPL_H
#define CU_STORE_STATS_IMPL_H

#include "store/stats.h"

struct cu_store_stats_ops {
	cu_result (*secret_get)(cu_store *s, unsigned char *sealed, size_t cap, size_t *len,
	                        bool *found);
	cu_result (*secret_put)(cu_store *s, const unsigned char *sealed, size_t len);
	cu_result (*ledger_insert)(cu_store *s, const cu_stats_ledger_row *row);
	cu_result (*spent)(cu_store *s, const char *dataset, const char *period, double *epsilon);
	cu_result (*ledger_list)(cu_store *s, const char *period, cu_store_stats_ledger_fn fn,
	                         void *ud);
	cu_result (*release_insert)(cu_store *s, const cu_stats_release_row *row, const char *json);
	cu_result (*release_find)(cu_store *s, const char *dataset, const char *period,
	                          const char *key, const char *release, cu_stats_release_row *out,
	                          char **json, bool *found);
	cu_result (*member_count)(cu_store *s, uint64_t *n);
	cu_result (*member_scan)(cu_store *s, cu_store_stats_member_fn fn, void *ud);
};

#endif
