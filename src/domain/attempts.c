/*
 * src/domain/attempts.c — the shared attempt limits (domain/attempts.h):
 * the store keeps the rules; this is the door the server goes through.
 */
#include "domain/attempts.h"

bool cu_attempts_shared(const cu_store *s)
{
	return cu_store_limits_shared(s);
}

cu_result cu_attempts_reserve(cu_store *s, const cu_attempt_key *keys, size_t n, int64_t now_us,
                              int64_t window_start[CU_ATTEMPT_KEYS_MAX], int64_t *retry_after_us)
{
	return cu_store_limit_reserve(s, keys, n, now_us, window_start, retry_after_us);
}

cu_result cu_attempts_finish(cu_store *s, const cu_attempt_key *key, int64_t window_start,
                             enum cu_attempt_outcome outcome, int64_t now_us)
{
	return cu_store_limit_finish(s, key, window_start, (enum cu_store_limit_outcome)outcome,
	                             now_us);
}
