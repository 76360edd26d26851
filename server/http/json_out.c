/*
 * server/http/json_out.c — compact JSON text without a tree (see json_out.h).
 */
#include "http/json_out.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

void cu_jw_init(cu_jw *w, size_t cap)
{
	w->len = 0;
	w->cap = cap;
	w->failed = false;
	w->buf = cap < SIZE_MAX ? malloc(cap + 1) : NULL;
	if (!w->buf)
		w->failed = true;
}

static void put(cu_jw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (n > w->cap - w->len) {
		w->failed = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void cu_jw_raw(cu_jw *w, const char *text)
{
	put(w, text, strlen(text));
}

/* Valid UTF-8 over a whole string, as jansson checks it (util/text.h). */
bool cu_jw_utf8_ok(const char *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = cu_utf8_decode(s + i, n - i, &cp)))
			return false;
	return true;
}

int cu_jw_str(cu_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	if (!cu_jw_utf8_ok(s, n))
		return -1;
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t el = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		put(w, esc, el);
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
	return 0;
}

void cu_jw_member(cu_jw *w, bool *first, const char *key, const char *value, size_t n)
{
	size_t kl = strlen(key);

	if (!cu_jw_utf8_ok(key, kl) || !cu_jw_utf8_ok(value, n))
		return;
	if (!*first)
		put(w, ",", 1);
	*first = false;
	cu_jw_str(w, key, kl);
	put(w, ":", 1);
	cu_jw_str(w, value, n);
}

char *cu_jw_finish(cu_jw *w)
{
	char *out;

	if (w->failed) {
		if (w->buf) {
			sodium_memzero(w->buf, w->len);
			free(w->buf);
		}
		w->buf = NULL;
		return NULL;
	}
	w->buf[w->len] = '\0';
	out = w->buf;
	w->buf = NULL;
	return out;
}
