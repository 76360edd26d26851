/*
 * src/util/email.c — checking and normalising e-mail addresses (email.h).
 */
#include "util/email.h"

#include <ctype.h>
#include <string.h>

cu_result cu_email_normalise(const char *in, char *out, size_t outlen)
{
	static const char atext[] = "!#$%&'*+/=?^_`{|}~.-";
	const char *b = in, *e = in + strlen(in), *at;
	size_t len, local;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	len = (size_t)(e - b);
	if (len == 0 || len > CU_EMAIL_MAX || len >= outlen)
		return CU_ERR_INVALID_FIELD;
	at = memchr(b, '@', len);
	if (!at || memchr(at + 1, '@', (size_t)(e - at - 1)))
		return CU_ERR_INVALID_FIELD;
	local = (size_t)(at - b);
	if (local == 0 || local > CU_EMAIL_LOCAL_MAX || b[0] == '.' || at[-1] == '.')
		return CU_ERR_INVALID_FIELD;
	for (const char *p = b; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(isalnum(c) && c < 0x80) && !strchr(atext, c))
			return CU_ERR_INVALID_FIELD;
		if (c == '.' && p[1] == '.')
			return CU_ERR_INVALID_FIELD;
	}
	/* Domain: labels of letters, digits and inner hyphens, at least two. */
	{
		const char *p = at + 1;
		int labels = 0;

		while (p < e) {
			const char *q = p;

			while (q < e && *q != '.') {
				unsigned char c = (unsigned char)*q;

				if (!((isalnum(c) && c < 0x80) || c == '-'))
					return CU_ERR_INVALID_FIELD;
				q++;
			}
			if (q == p || q - p > CU_EMAIL_LABEL_MAX || *p == '-' || q[-1] == '-')
				return CU_ERR_INVALID_FIELD;
			labels++;
			if (q == e)
				break;
			p = q + 1;
			if (p == e)
				return CU_ERR_INVALID_FIELD; /* trailing dot */
		}
		if (labels < 2)
			return CU_ERR_INVALID_FIELD;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)b[i]);
	out[len] = '\0';
	return CU_OK;
}
