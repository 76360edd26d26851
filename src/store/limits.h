/*
 * src/store/limits.h — attempt limits kept in the store, so that every
 * server on one database counts a login or a sign-up against the same
 * numbers (issue 14).  Part of the store (store.h's rules hold).
 *
 * The server keeps its own table too (server/http/ratelimit.h): that one
 * holds attempts in flight inside one process; this one is what several
 * processes share.  One row per key (an account's blind index, or a keyed
 * hash of a client address — never the address or the e-mail): the start
 * of the key's window, the attempts counted in it, and the end of a
 * lockout.  The rules:
 *
 *  1. An attempt is counted when it is reserved, before the work it limits
 *     (an Argon2id hash) is done, for all its keys in one transaction: every
 *     key admits it or none is charged.  A key admits it while it is not
 *     locked out and fewer than `limit` attempts were counted in its window.
 *     So no number of processes and requests at once gets more than `limit`
 *     attempts past a key in one window.
 *  2. Finishing it: COUNT keeps it counted and, when the window's attempts
 *     reached the limit, locks the key out for `window_us`; RELEASE takes it
 *     back (if the window it was counted in still runs); CLEAR starts the
 *     key over (a login that succeeded, for its account).  A process that
 *     dies between the two leaves the attempt counted: the safe side.
 *  3. A window opens at a key's first attempt and starts over `window_us`
 *     later, unless a lockout still runs.  A row whose window and lockout
 *     are over is deleted by the next reservation: the table keeps a key no
 *     longer than its window or lockout.
 *
 * Each call is a transaction of its own, which takes no part of the audit
 * chain's write lock: call it outside a transaction.  Errors: the store's
 * (CU_ERR_STORE, ...); CU_ERR_INTERNAL inside a transaction.
 */
#ifndef CUSTODIAN_STORE_LIMITS_H
#define CUSTODIAN_STORE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CU_LIMITS_KEY_LEN  32 /* bytes of a key */
#define CU_LIMITS_KEYS_MAX 2  /* keys of one attempt: an account and an address */

typedef struct cu_store_limit_key {
	unsigned char id[CU_LIMITS_KEY_LEN];
	unsigned limit;    /* attempts per window, >= 1 */
	int64_t window_us; /* > 0 */
} cu_store_limit_key;

enum cu_store_limit_outcome { CU_STORE_LIMIT_COUNT, CU_STORE_LIMIT_RELEASE, CU_STORE_LIMIT_CLEAR };

/*
 * Whether this store may be shared by several server processes (then the
 * server counts attempts here as well as in its own table).  SQLite: no, one
 * server owns the file; PostgreSQL: yes.
 */
bool cu_store_limits_shared(const cu_store *s);

/*
 * Reserves one attempt against keys[0..n) (1 <= n <= CU_LIMITS_KEYS_MAX)
 * at now_us.  CU_OK: counted, and window_start[i] says which window of
 * keys[i] it was counted in (give it back to cu_store_limit_finish).
 * CU_ERR_RATE_LIMITED: nothing charged, *retry_after_us (> 0) says when
 * one of the refusing keys admits again.
 */
CU_WARN_UNUSED cu_result cu_store_limit_reserve(cu_store *s, const cu_store_limit_key *keys,
                                                size_t n, int64_t now_us,
                                                int64_t window_start[CU_LIMITS_KEYS_MAX],
                                                int64_t *retry_after_us);
/* Finishes one key of a reserved attempt (rule 2). */
CU_WARN_UNUSED cu_result cu_store_limit_finish(cu_store *s, const cu_store_limit_key *key,
                                               int64_t window_start,
                                               enum cu_store_limit_outcome outcome, int64_t now_us);

#endif
