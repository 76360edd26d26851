/*
 * ratelimit.c — failed logins, counted per account and per address.
 *
 * A fixed table keyed by a 32-byte hash (the account's blind index, or a
 * hash of the address): bounded memory whatever a client sends.  A lockout
 * applies to a key whether or not an account stands behind it, so the
 * answer never tells whether an e-mail address is registered.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 8192

struct cu_rl_slot {
	unsigned char key[32];
	unsigned failures;
	int64_t window_start, locked_until;
};

int cu_ratelimit_init(cu_ratelimit *rl)
{
	rl->slots = calloc(SLOTS, sizeof(*rl->slots));
	if (!rl->slots)
		return -1;
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

static struct cu_rl_slot *slot(cu_ratelimit *rl, const unsigned char key[32])
{
	size_t i;

	memcpy(&i, key, sizeof(i));
	return &rl->slots[i % SLOTS];
}

bool cu_ratelimit_locked(cu_ratelimit *rl, const unsigned char key[32], int64_t now_us)
{
	struct cu_rl_slot *s;
	bool locked;

	pthread_mutex_lock(&rl->mu);
	s = slot(rl, key);
	locked = !memcmp(s->key, key, 32) && s->locked_until > now_us;
	pthread_mutex_unlock(&rl->mu);
	return locked;
}

void cu_ratelimit_fail(cu_ratelimit *rl, const unsigned char key[32], unsigned limit,
		       int64_t now_us)
{
	struct cu_rl_slot *s;

	pthread_mutex_lock(&rl->mu);
	s = slot(rl, key);
	/* A colliding key takes the slot over: the table forgets, it never blocks wrongly long. */
	if (memcmp(s->key, key, 32) || now_us - s->window_start > CU_LOGIN_WINDOW_US) {
		memcpy(s->key, key, 32);
		s->failures = 0;
		s->window_start = now_us;
		s->locked_until = 0;
	}
	if (++s->failures >= limit)
		s->locked_until = now_us + CU_LOGIN_WINDOW_US;
	pthread_mutex_unlock(&rl->mu);
}

void cu_ratelimit_clear(cu_ratelimit *rl, const unsigned char key[32])
{
	struct cu_rl_slot *s;

	pthread_mutex_lock(&rl->mu);
	s = slot(rl, key);
	if (!memcmp(s->key, key, 32))
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&rl->mu);
}
