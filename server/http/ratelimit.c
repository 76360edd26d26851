/*
 * server/http/ratelimit.c — attempts counted per key (an account's blind index, a hash
 * of a client address), reserved before the work they limit is done.
 *
 * A fixed table keyed by a 32-byte hash: bounded memory whatever a client
 * sends.  A limit applies to a key whether or not an account stands behind
 * it, so the answer never tells whether an e-mail address is registered.
 * The rules are in ratelimit.h; one mutex guards the whole table (a reservation
 * is a few comparisons, next to the Argon2id hash it guards).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS  8192
#define PROBES 8 /* slots a key may occupy: its own and the next seven */

_Static_assert(PROBES <= SLOTS, "a probe sequence fits in the table");
_Static_assert(CU_RATELIMIT_KEY_LEN >= crypto_generichash_BYTES_MIN &&
                   CU_RATELIMIT_KEY_LEN <= crypto_generichash_BYTES_MAX,
               "a key is a BLAKE2b digest");

struct cu_rl_slot {
	unsigned char key[CU_RATELIMIT_KEY_LEN];
	uint64_t gen; /* 0: free; new whenever a key takes the slot */
	unsigned count, inflight;
	int64_t window_start, locked_until;
};

int cu_ratelimit_init(cu_ratelimit *rl)
{
	rl->slots = calloc(SLOTS, sizeof(*rl->slots));
	if (!rl->slots)
		return -1;
	rl->gen = 0;
	pthread_mutex_init(&rl->mu, NULL);
	return 0;
}

void cu_ratelimit_release(cu_ratelimit *rl)
{
	if (!rl->slots)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	rl->slots = NULL;
}

static size_t home(const unsigned char key[CU_RATELIMIT_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h % SLOTS);
}

static bool evictable(const struct cu_rl_slot *s, int64_t now_us)
{
	return s->inflight == 0 && s->locked_until <= now_us;
}

/*
 * The key's slot, or a slot taken over for it, or NULL when every probed slot
 * has attempts in flight or a lockout in force (rule 5: never forget those).
 * Among the others the one whose window opened first goes (free slots have
 * never opened one).  Called with the mutex held.
 */
static struct cu_rl_slot *find(cu_ratelimit *rl, const unsigned char key[CU_RATELIMIT_KEY_LEN],
                               int64_t now_us, size_t *index)
{
	struct cu_rl_slot *victim = NULL;
	size_t h = home(key), vi = 0;

	for (size_t p = 0; p < PROBES; p++) {
		size_t i = (h + p) % SLOTS;
		struct cu_rl_slot *s = &rl->slots[i];

		if (s->gen && !memcmp(s->key, key, CU_RATELIMIT_KEY_LEN)) {
			*index = i;
			return s;
		}
		if (evictable(s, now_us) && (!victim || s->window_start < victim->window_start)) {
			victim = s;
			vi = i;
		}
	}
	if (!victim)
		return NULL;
	memcpy(victim->key, key, CU_RATELIMIT_KEY_LEN);
	victim->gen = ++rl->gen;
	victim->count = victim->inflight = 0;
	victim->window_start = now_us;
	victim->locked_until = 0;
	*index = vi;
	return victim;
}

/* A window that has passed starts over, unless a lockout still runs. */
static void roll_window(struct cu_rl_slot *s, int64_t window_us, int64_t now_us)
{
	if (now_us - s->window_start >= window_us && s->locked_until <= now_us) {
		s->count = 0;
		s->window_start = now_us;
		s->locked_until = 0;
	}
}

/* Whether s admits one more attempt; if not, *retry_us says when to ask again. */
static bool admits(const struct cu_rl_slot *s, const cu_ratelimit_key *k, int64_t now_us,
                   int64_t *retry_us)
{
	if (s->locked_until > now_us) {
		*retry_us = s->locked_until - now_us;
		return false;
	}
	if (s->count + s->inflight < k->limit)
		return true;
	/* Full of attempts in flight: one of them may yet free its place. */
	*retry_us =
	    s->inflight ? CU_RATELIMIT_BUSY_RETRY_US : s->window_start + k->window_us - now_us;
	return false;
}

static void undo(cu_ratelimit *rl, cu_ratelimit_hold *hold)
{
	for (size_t j = 0; j < hold->n; j++)
		rl->slots[hold->held[j].slot].inflight--;
	hold->n = 0;
}

cu_result cu_ratelimit_reserve(cu_ratelimit *rl, const cu_ratelimit_key *keys, size_t n,
                               int64_t now_us, cu_ratelimit_hold *hold, int64_t *retry_after_us)
{
	cu_result rc = CU_OK;
	int64_t retry = 0;

	assert(n >= 1 && n <= CU_RATELIMIT_HOLD_MAX);
	memset(hold, 0, sizeof(*hold));
	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < n; i++) {
		const cu_ratelimit_key *k = &keys[i];
		struct cu_rl_slot *s;
		size_t idx;

		assert(k->limit >= 1 && k->window_us > 0);
		s = find(rl, k->id, now_us, &idx);
		if (!s) {
			retry = CU_RATELIMIT_BUSY_RETRY_US;
			rc = CU_ERR_RATE_LIMITED;
			break;
		}
		roll_window(s, k->window_us, now_us);
		if (!admits(s, k, now_us, &retry)) {
			rc = CU_ERR_RATE_LIMITED;
			break;
		}
		/* Counted as in flight at once, so a later key of this call sees it. */
		s->inflight++;
		hold->held[hold->n].slot = idx;
		hold->held[hold->n].gen = s->gen;
		hold->held[hold->n].limit = k->limit;
		hold->held[hold->n].window_us = k->window_us;
		hold->n++;
	}
	if (rc)
		undo(rl, hold); /* all keys or none */
	pthread_mutex_unlock(&rl->mu);
	if (retry_after_us)
		*retry_after_us = rc ? (retry > 0 ? retry : 1) : 0;
	return rc;
}

void cu_ratelimit_finish(cu_ratelimit *rl, cu_ratelimit_hold *hold, size_t i,
                         enum cu_ratelimit_outcome outcome, int64_t now_us)
{
	struct cu_rl_slot *s;

	if (i >= hold->n || !hold->held[i].gen)
		return;
	pthread_mutex_lock(&rl->mu);
	s = &rl->slots[hold->held[i].slot];
	/* A slot another key took over no longer holds this attempt. */
	if (s->gen == hold->held[i].gen) {
		assert(s->inflight > 0);
		s->inflight--;
		switch (outcome) {
		case CU_RATELIMIT_COUNT:
			roll_window(s, hold->held[i].window_us, now_us);
			if (++s->count >= hold->held[i].limit)
				s->locked_until = now_us + hold->held[i].window_us;
			break;
		case CU_RATELIMIT_CLEAR:
			s->count = 0;
			s->window_start = now_us;
			s->locked_until = 0;
			break;
		case CU_RATELIMIT_RELEASE:
			break;
		}
	}
	pthread_mutex_unlock(&rl->mu);
	hold->held[i].gen = 0;
}

void cu_ratelimit_finish_all(cu_ratelimit *rl, cu_ratelimit_hold *hold,
                             enum cu_ratelimit_outcome outcome, int64_t now_us)
{
	for (size_t i = 0; i < hold->n; i++)
		cu_ratelimit_finish(rl, hold, i, outcome, now_us);
}

bool cu_ratelimit_held(const cu_ratelimit_hold *hold)
{
	for (size_t i = 0; i < hold->n; i++)
		if (hold->held[i].gen)
			return true;
	return false;
}

/*
 * The address keys' secret: with a key anyone could compute, a client could
 * search out addresses whose keys land in another address's slots and fill
 * them with lockouts it earned itself.  Random in every process unless the
 * server sets it (cu_ratelimit_set_address_secret) before its first request.
 */
static unsigned char address_secret[crypto_generichash_KEYBYTES];
static pthread_once_t address_secret_once = PTHREAD_ONCE_INIT;
static bool address_secret_set;

static void address_secret_init(void)
{
	if (!address_secret_set)
		randombytes_buf(address_secret, sizeof(address_secret));
}

void cu_ratelimit_set_address_secret(const unsigned char secret[CU_RATELIMIT_KEY_LEN])
{
	_Static_assert(CU_RATELIMIT_KEY_LEN == crypto_generichash_KEYBYTES, "secret size");
	memcpy(address_secret, secret, sizeof(address_secret));
	address_secret_set = true;
	pthread_once(&address_secret_once, address_secret_init);
}

void cu_ratelimit_address_key(const struct sockaddr *sa, const char *use,
                              unsigned char out[CU_RATELIMIT_KEY_LEN])
{
	crypto_generichash_state st;

	unsigned char who[1 + 8] = {0}; /* family (0: unknown, 4, 6), then the bytes that count */
	size_t len = 1;

	if (sa && sa->sa_family == AF_INET) {
		who[0] = 4;
		memcpy(who + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		len += 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			who[0] = 4;
			memcpy(who + 1, a->s6_addr + 12, 4);
			len += 4;
		} else {
			who[0] = 6;
			memcpy(who + 1, a->s6_addr, 8);
			len += 8;
		}
	}
	pthread_once(&address_secret_once, address_secret_init);
	crypto_generichash_init(&st, address_secret, sizeof(address_secret), CU_RATELIMIT_KEY_LEN);
	crypto_generichash_update(&st, (const unsigned char *)use, strlen(use) + 1);
	crypto_generichash_update(&st, who, len);
	crypto_generichash_final(&st, out, CU_RATELIMIT_KEY_LEN);
}
