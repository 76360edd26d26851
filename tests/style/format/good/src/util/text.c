/* Formatted as .clang-format wants: tabs, Linux braces, 100 columns. */
#include <stddef.h>

#define TEXT_MAX 64
#define TEXT_MIN 1

static int count(const char *s, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len && i < TEXT_MAX; i++) {
		if (s[i] == ' ')
			n++;
	}
	return n >= TEXT_MIN ? n : 0;
}
