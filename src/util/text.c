/*
 * src/util/text.c — checks of text that people type (see text.h).
 */
#include "util/text.h"

#include <string.h>

size_t cu_utf8_decode(const char *s, size_t avail, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t len;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

const char *cu_text_check(const char *s, size_t len, const char *ctl_ok)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = cu_utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return "invalid_utf8";
		if ((cp < 0x20 && !(cp && strchr(ctl_ok, (int)cp))) || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f))
			return "malformed";
		i += n;
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

void cu_text_troff(FILE *f, const char *s)
{
	bool line_start = true;
	size_t left = strlen(s);

	while (left) {
		uint32_t cp;
		size_t n = 1;

		if (line_start && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		line_start = *s == '\n';
		if ((unsigned char)*s >= 0x80) {
			n = cu_utf8_decode(s, left, &cp);
			if (n == 0) {
				n = 1;
				cp = 0xFFFD;
			}
			fprintf(f, "\\[u%04X]", (unsigned)cp);
		} else if (*s == '\\') {
			fputs("\\e", f);
		} else if (*s == '-') {
			fputs("\\-", f);
		} else {
			fputc(*s, f);
		}
		s += n;
		left -= n;
	}
}
