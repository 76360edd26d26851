/*
 * src/audit/case_ref.c — the one check of a case reference's form (case_ref.h).
 */
#include "audit/case_ref.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/text.h"

/* Unicode's space separators (general category Zs). */
static bool space_cp(uint32_t c)
{
	return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Characters that end a line or change how the rest reads without being seen. */
static bool hidden_cp(uint32_t c)
{
	return (c >= 0x200b && c <= 0x200f) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

const char *cu_case_ref_problem(const char *case_ref)
{
	size_t n = case_ref ? strnlen(case_ref, CU_CASE_REF_MAX + 1) : 0;
	bool blank = true;
	const char *why;

	if (n == 0)
		return "required";
	if (n > CU_CASE_REF_MAX)
		return "too_long";
	why = cu_text_check(case_ref, n, "");
	if (why)
		return why;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len = cu_utf8_decode(case_ref + i, n - i, &c);

		if (!len || hidden_cp(c))
			return "malformed";
		blank &= space_cp(c);
		i += len;
	}
	return blank ? "blank" : NULL;
}
