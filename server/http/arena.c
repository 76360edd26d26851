/*
 * server/http/arena.c — the per-request arena (server.h): chunks wiped whole when the request ends,
 * and freed but for one that the next request on the thread uses.
 */
#include "http/http.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------- */

struct cu_arena_chunk {
	struct cu_arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void *cu_arena_alloc(cu_arena *a, size_t n)
{
	struct cu_arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (need < n || a->used + need > CU_ARENA_MAX)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t size = need > CU_ARENA_CHUNK ? need : CU_ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;

	c->used += need;
	a->used += need;
	return p;
}

char *cu_arena_strdup(cu_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = cu_arena_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

void cu_arena_release(cu_arena *a)
{
	struct cu_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		sodium_memzero(c->data, c->used);
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

void cu_arena_reset(cu_arena *a)
{
	struct cu_arena_chunk *c = a->head, *next, *kept = NULL;

	for (; c; c = next) {
		next = c->next;
		sodium_memzero(c->data, c->used);
		if (!kept && c->size == CU_ARENA_CHUNK) {
			kept = c;
			kept->used = 0;
			kept->next = NULL;
		} else {
			free(c);
		}
	}
	a->head = kept;
	a->used = 0;
}
