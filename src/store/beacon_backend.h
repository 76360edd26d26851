/*
 * src/store/beacon_backend.h — the beacon area's backend interface (private).
 */
#ifndef CU_STORE_BEACON_IMPL_H
#define CU_STORE_BEACON_IMPL_H

#include "store/beacon.h"

/* Counters are never NULL here: the dispatcher passes its own. */
struct cu_store_beacon_ops {
	cu_result (*salt_get)(cu_store *s, const char *day, unsigned char *sealed, size_t cap,
	                      size_t *len, bool *found);
	cu_result (*salt_put)(cu_store *s, const char *day, const unsigned char *sealed,
	                      size_t len);
	cu_result (*salt_purge)(cu_store *s, const char *keep, uint64_t *n);
	cu_result (*insert)(cu_store *s, const cu_beacon_row *row);
	cu_result (*rollup)(cu_store *s, const char *today, uint64_t *days);
	cu_result (*expire)(cu_store *s, int64_t cutoff_us, uint64_t *n);
	cu_result (*counts)(cu_store *s, uint64_t *hits, uint64_t *salts);
	cu_result (*daily)(cu_store *s, const char *from, const char *to,
	                   cu_store_beacon_daily_fn fn, void *ud);
};

#endif
