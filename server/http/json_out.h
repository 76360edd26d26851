/*
 * server/http/json_out.h — compact JSON text written straight into one buffer,
 * for answers on the hot path (a member read), without building a jansson
 * tree first (private).
 *
 * The text is byte for byte what json_dumps(..., JSON_COMPACT) makes of the
 * same members in the same order: the same escapes ("\u001F" in capitals,
 * '/' and DEL left alone, UTF-8 passed through), and a member whose key or
 * string value is not valid UTF-8 is left out, as json_object_set_new would
 * leave it out.  tests/unit/test_json_out.c holds it to that.
 *
 * The buffer has a fixed capacity, computed by the caller from the lengths
 * it will write (cu_jw_str_max); it never grows, so no copy of the
 * plaintext is left behind in memory that realloc gave back.  Overflowing
 * it is a failure, not a truncation.
 */
#ifndef CU_JSON_OUT_H
#define CU_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cu_jw {
	char *buf;
	size_t len, cap;
	bool failed;
} cu_jw;

/* The most a string of n bytes can take quoted and escaped. */
static inline size_t cu_jw_str_max(size_t n)
{
	return 6 * n + 2;
}

/* Allocates cap bytes (plus the terminating NUL). */
void cu_jw_init(cu_jw *w, size_t cap);
/* Appends text as it is (punctuation, literal keys the caller knows to be plain). */
void cu_jw_raw(cu_jw *w, const char *text);
/* Appends s (n bytes) as a quoted JSON string; -1 (nothing appended) if it is not valid UTF-8. */
int cu_jw_str(cu_jw *w, const char *s, size_t n);
/*
 * Appends "key":"value" to an object, after a comma unless *first (which it
 * clears).  Leaves the member out when key or value is not valid UTF-8.
 */
void cu_jw_member(cu_jw *w, bool *first, const char *key, const char *value, size_t n);
/*
 * The NUL-terminated text (malloc'd; the caller frees it, wiping it first
 * when it holds personal data), or NULL when anything failed; then the
 * buffer has been wiped and freed.
 */
char *cu_jw_finish(cu_jw *w);

/* Whether s (n bytes) is UTF-8 as jansson accepts it (no overlongs, surrogates, > U+10FFFF). */
bool cu_jw_utf8_ok(const char *s, size_t n);

#endif
