/*
 * text.c — checks of text that people type (see text.h).
 */
#include "util/text.h"

#include <string.h>

const char *cu_text_check(const char *s, size_t len, const char *ctl_ok)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p, cp;
		int extra;

		if (c < 0x80) {
			if ((c < 0x20 && !(c && strchr(ctl_ok, (int)c))) || c == 0x7f)
				return "malformed";
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return "invalid_utf8";
		}
		if (end - p <= extra)
			return "invalid_utf8";
		for (int i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return "invalid_utf8";
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return "invalid_utf8";
		if (cp >= 0x80 && cp <= 0x9f)
			return "malformed";
		p += extra + 1;
	}
	return NULL;
}

const char *cu_text_free_problem(const char *s, size_t max, bool multiline)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || strspn(s, " \t\r\n") == n)
		return "required";
	if (n > max)
		return "too_long";
	return cu_text_check(s, n, multiline ? "\n\r\t" : "");
}

bool cu_text_justification_ok(const char *j)
{
	size_t n = j ? strlen(j) : 0;

	if (n < 20 || n > 2000)
		return false;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)j[i] < 0x20 && j[i] != '\n') || j[i] == 0x7f)
			return false;
	return true;
}
