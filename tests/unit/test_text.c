/*
 * test_text.c — the one UTF-8 decoder (cu_utf8_decode) and the checks built
 * on it: every length decodes to its code point; overlong forms, surrogates,
 * code points past U+10FFFF, stray continuations, bad lead bytes and
 * sequences cut short (by the end or by a NUL) are refused; control
 * characters decode (the callers judge them), and cu_text_check refuses
 * them unless allowed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/email.h"
#include "util/text.h"

static void test_decodes_each_length(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		uint32_t cp;
	} good[] = {
	    {"A", 1, 0x41},
	    {"\x7f", 1, 0x7f},
	    {"\xc2\x80", 2, 0x80},
	    {"\xc3\xa9", 2, 0xe9}, /* é */
	    {"\xdf\xbf", 2, 0x7ff},
	    {"\xe0\xa0\x80", 3, 0x800},
	    {"\xe6\x97\xa5", 3, 0x65e5}, /* 日 */
	    {"\xed\x9f\xbf", 3, 0xd7ff}, /* just below the surrogates */
	    {"\xee\x80\x80", 3, 0xe000}, /* just above them */
	    {"\xef\xbb\xbf", 3, 0xfeff},
	    {"\xf0\x90\x80\x80", 4, 0x10000},
	    {"\xf0\x9f\x98\x80", 4, 0x1f600}, /* 😀 */
	    {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t cp = 0;

		assert_int_equal(cu_utf8_decode(good[i].s, strlen(good[i].s), &cp), good[i].len);
		assert_int_equal(cp, good[i].cp);
	}
	/* A NUL within the bytes given is a code point like any other. */
	{
		uint32_t cp = 1;

		assert_int_equal(cu_utf8_decode("\0x", 2, &cp), 1);
		assert_int_equal(cp, 0);
	}
	/* Only the first code point is read. */
	{
		uint32_t cp = 0;

		assert_int_equal(cu_utf8_decode("\xc3\xa9tude", 6, &cp), 2);
		assert_int_equal(cp, 0xe9);
	}
}

static void test_refuses_what_is_not_utf8(void **state)
{
	static const char *const bad[] = {
	    "\x80", /* a stray continuation */
	    "\xbf",
	    "\xc0\x80",         /* overlong NUL */
	    "\xc1\xbf",         /* overlong */
	    "\xe0\x80\x80",     /* overlong */
	    "\xe0\x9f\xbf",     /* overlong */
	    "\xf0\x8f\xbf\xbf", /* overlong */
	    "\xed\xa0\x80",     /* a surrogate */
	    "\xed\xbf\xbf",
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xf5\x80\x80\x80", /* lead bytes that never start a sequence */
	    "\xff",
	    "\xc3", /* cut short by the end */
	    "\xe6\x97",
	    "\xf0\x9f\x98",
	    "\xc3"
	    "A", /* a lead byte then no continuation */
	    "\xe6\x97"
	    "A",
	};
	uint32_t cp = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cu_utf8_decode(bad[i], strlen(bad[i]), &cp), 0);
	/* Cut short by a NUL, and by the bytes the caller says are there. */
	assert_int_equal(cu_utf8_decode("\xc3\0", 2, &cp), 0);
	assert_int_equal(cu_utf8_decode("\xc3\xa9", 1, &cp), 0);
	assert_int_equal(cu_utf8_decode("\xf0\x9f\x98\x80", 3, &cp), 0);
	assert_int_equal(cu_utf8_decode("A", 0, &cp), 0);
}

static void test_text_check_on_the_decoder(void **state)
{
	(void)state;
	assert_null(cu_text_check("caf\xc3\xa9 \xe6\x97\xa5", 9, ""));
	assert_string_equal(cu_text_check("caf\xc3", 4, ""), "invalid_utf8");
	assert_string_equal(cu_text_check("a\nb", 3, ""), "malformed");
	assert_null(cu_text_check("a\nb", 3, "\n"));
	assert_string_equal(cu_text_check("a\0b", 3, "\n"), "malformed"); /* NUL never */
	assert_string_equal(cu_text_check("\x7f", 1, ""), "malformed");
	assert_string_equal(cu_text_check("\xc2\x85", 2, "\n"), "malformed"); /* C1 (NEL) */
	assert_null(cu_text_check("\xc2\xa0", 2, ""));
	assert_string_equal(cu_text_free_problem("  \n", 10, true), "required");
	assert_string_equal(cu_text_free_problem("abcdef", 5, false), "too_long");
}

static void test_email_normalise(void **state)
{
	char out[CU_EMAIL_MAX + 1];

	(void)state;
	assert_int_equal(cu_email_normalise("  Alice.B+x@Mail.Example.COM\t", out, sizeof(out)),
	                 CU_OK);
	assert_string_equal(out, "alice.b+x@mail.example.com");
	assert_int_equal(cu_email_normalise("alice@example", out, sizeof(out)),
	                 CU_ERR_INVALID_FIELD); /* one label */
	assert_int_equal(cu_email_normalise("a..b@example.com", out, sizeof(out)),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(cu_email_normalise("a@b@example.com", out, sizeof(out)),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(cu_email_normalise("a@-example.com", out, sizeof(out)),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(cu_email_normalise("a@example.com.", out, sizeof(out)),
	                 CU_ERR_INVALID_FIELD);
	/* Does not fit the caller's buffer: refused, not cut. */
	assert_int_equal(cu_email_normalise("alice@example.com", out, 8), CU_ERR_INVALID_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decodes_each_length),
	    cmocka_unit_test(test_refuses_what_is_not_utf8),
	    cmocka_unit_test(test_text_check_on_the_decoder),
	    cmocka_unit_test(test_email_normalise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
