/*
 * server/http/ratelimit.h — attempt limits for logins, public sign-ups and
 * e-mail changes (kept by ratelimit.c; private to the server).
 */
#ifndef CU_HTTP_RATELIMIT_H
#define CU_HTTP_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/result.h"

/*
 * Attempts are counted per key: an account's blind index, or a hash of the
 * client's address (one per use, so sign-ups and logins are counted apart).
 *
 *  1. An attempt is reserved BEFORE the work it limits is done (the
 *     Argon2id hash of a login, the existence check of a sign-up), for all of
 *     its keys at once: every key admits it, or none is charged.
 *  2. A key admits an attempt while the attempts it counted in its window
 *     plus those in flight stay below its limit; so no concurrency gets more
 *     than `limit` attempts past a key in one window.
 *  3. Each held key is then finished once: COUNT (a failed login, any
 *     sign-up; the limit'th locks the key out for window_us), RELEASE (as if
 *     never tried: a login that succeeded, for its address) or CLEAR (the
 *     count starts over: a login that succeeded, for its account).
 *  4. Windows are fixed: a key's window opens when the key is first seen
 *     and starts over window_us later, unless a lockout still runs.
 *  5. The table is fixed-size: a key lives in one of 8 slots from its hash.
 *     A new key takes over the probed slot whose window opened first, never
 *     one with attempts in flight or a lockout in force; when all 8 are such,
 *     the attempt is refused (the table fails closed, it never forgets a
 *     lockout to make room).
 * The caller passes `now` (microseconds), so tests can move the clock.
 */
#define CU_RATELIMIT_KEY_LEN       32
#define CU_RATELIMIT_HOLD_MAX      2               /* keys per attempt: account and address */
#define CU_RATELIMIT_BUSY_RETRY_US (1LL * 1000000) /* Retry-After when attempts are in flight */

typedef struct cu_ratelimit {
	pthread_mutex_t mu;
	struct cu_rl_slot *slots;
	uint64_t gen;
} cu_ratelimit;

typedef struct cu_ratelimit_key {
	unsigned char id[CU_RATELIMIT_KEY_LEN];
	unsigned limit;    /* attempts per window, >= 1 */
	int64_t window_us; /* > 0 */
} cu_ratelimit_key;

/* What an admitted attempt holds until it is finished; zeroed = holds nothing. */
typedef struct cu_ratelimit_hold {
	size_t n;
	struct {
		size_t slot;
		uint64_t gen; /* 0 once finished */
		unsigned limit;
		int64_t window_us;
	} held[CU_RATELIMIT_HOLD_MAX];
} cu_ratelimit_hold;

enum cu_ratelimit_outcome { CU_RATELIMIT_COUNT, CU_RATELIMIT_RELEASE, CU_RATELIMIT_CLEAR };

/* 0, or -1 when out of memory.  cu_ratelimit_release() on a released table is a no-op. */
int cu_ratelimit_init(cu_ratelimit *rl);
void cu_ratelimit_release(cu_ratelimit *rl);
/*
 * Reserves one attempt against keys[0..n) (1 <= n <= CU_RATELIMIT_HOLD_MAX),
 * atomically.  CU_OK: *hold holds it, to be finished with
 * cu_ratelimit_finish(); CU_ERR_RATE_LIMITED: nothing is charged, *hold holds
 * nothing and *retry_after_us (if not NULL) says when to try again (> 0).
 */
CU_WARN_UNUSED cu_result cu_ratelimit_reserve(cu_ratelimit *rl, const cu_ratelimit_key *keys,
                                              size_t n, int64_t now_us, cu_ratelimit_hold *hold,
                                              int64_t *retry_after_us);
/* Finishes the attempt for the hold's i-th key (rule 3); again, or on an empty hold, a no-op. */
void cu_ratelimit_finish(cu_ratelimit *rl, cu_ratelimit_hold *hold, size_t i,
                         enum cu_ratelimit_outcome outcome, int64_t now_us);
/* The same outcome for every key the hold still holds. */
void cu_ratelimit_finish_all(cu_ratelimit *rl, cu_ratelimit_hold *hold,
                             enum cu_ratelimit_outcome outcome, int64_t now_us);
/* Whether any key of the hold is still unfinished. */
bool cu_ratelimit_held(const cu_ratelimit_hold *hold);

/*
 * The key of a client address for one use (CU_RATELIMIT_LOGIN_ADDRESS,
 * CU_RATELIMIT_SIGNUP_ADDRESS), so each use counts apart and the table holds
 * no address: BLAKE2b keyed with a secret no client knows (below), so none
 * can tell which slots another address's key takes.  An IPv4 address counts
 * whole; an IPv4-mapped IPv6 address as that IPv4 address; any other IPv6
 * address by its /64, the block one customer is given (else each of its
 * 2^64 addresses would get limits of its own).  sa NULL or of another
 * family: one key for all such clients.
 */
void cu_ratelimit_address_key(const struct sockaddr *sa, const char *use,
                              unsigned char out[CU_RATELIMIT_KEY_LEN]);
/*
 * Sets the secret of the address keys, once, before any key is made (the
 * server, from its master keys: cu_vault_mac), so that every server with the
 * same keys gives an address the same key and the counts they share in the
 * store (store/limits.h) meet.  Without it the secret is random per process.
 */
void cu_ratelimit_set_address_secret(const unsigned char secret[CU_RATELIMIT_KEY_LEN]);
#define CU_RATELIMIT_LOGIN_ADDRESS  "cu-ratelimit-login-address"
#define CU_RATELIMIT_SIGNUP_ADDRESS "cu-ratelimit-signup-address" /* and e-mail changes */

#define CU_LOGIN_ACCOUNT_LIMIT 5  /* failures per account per window */
#define CU_LOGIN_ADDRESS_LIMIT 20 /* failures per address per window */
#define CU_LOGIN_WINDOW_US     (15LL * 60 * 1000000)
/* Public sign-ups per address per window: [security] signups_per_hour (config.h). */
#define CU_SIGNUP_WINDOW_US (60LL * 60 * 1000000)

#endif
