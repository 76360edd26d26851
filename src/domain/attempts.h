/*
 * src/domain/attempts.h — attempt limits that every server on one store
 * shares (logins, public sign-ups, e-mail changes): the domain's door to
 * store/limits.h, whose rules hold here word for word.
 *
 * The server keeps its own table of attempts in flight
 * (server/http/ratelimit.h) and, when cu_attempts_shared() says the store
 * may be shared by several server processes (PostgreSQL), counts each
 * attempt here too, so that N servers do not give a client N times the
 * limit.  Keys are keyed hashes (an account's blind index, an address's
 * keyed hash): nothing here names a person or an address.
 */
#ifndef CUSTODIAN_DOMAIN_ATTEMPTS_H
#define CUSTODIAN_DOMAIN_ATTEMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/limits.h"

#define CU_ATTEMPT_KEY_LEN  CU_LIMITS_KEY_LEN
#define CU_ATTEMPT_KEYS_MAX CU_LIMITS_KEYS_MAX

typedef cu_store_limit_key cu_attempt_key;

enum cu_attempt_outcome {
	CU_ATTEMPT_COUNT = CU_STORE_LIMIT_COUNT,     /* a failure: counted, may lock out */
	CU_ATTEMPT_RELEASE = CU_STORE_LIMIT_RELEASE, /* as if never tried */
	CU_ATTEMPT_CLEAR = CU_STORE_LIMIT_CLEAR      /* the key starts over */
};

/* Whether several servers may share this store (then attempts are counted in it). */
bool cu_attempts_shared(const cu_store *s);
/* cu_store_limit_reserve: one attempt against keys[0..n), every key or none. */
CU_WARN_UNUSED cu_result cu_attempts_reserve(cu_store *s, const cu_attempt_key *keys, size_t n,
                                             int64_t now_us,
                                             int64_t window_start[CU_ATTEMPT_KEYS_MAX],
                                             int64_t *retry_after_us);
/* cu_store_limit_finish: one key of a reserved attempt. */
CU_WARN_UNUSED cu_result cu_attempts_finish(cu_store *s, const cu_attempt_key *key,
                                            int64_t window_start, enum cu_attempt_outcome outcome,
                                            int64_t now_us);

#endif
