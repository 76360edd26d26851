/*
 * test_json_out.c — the member read's answer is written without jansson
 * (server/http/json_out.c); it must be what json_dumps(JSON_COMPACT) would
 * print for the same members, escapes, invalid UTF-8 and all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "http/json_out.h"

/* The same object both ways; values[i] may hold any bytes (lens[i] of them). */
static void same_as_jansson(const char *const *keys, const char *const *values, const size_t *lens,
                            size_t n)
{
	json_t *o = json_object();
	char *want, *got;
	size_t cap = 2;
	bool first = true;
	cu_jw w;

	for (size_t i = 0; i < n; i++) {
		/* json_object_set_new drops a member with a NULL (refused) value or key. */
		json_object_set_new(o, keys[i], json_stringn(values[i], lens[i]));
		cap += 2 + cu_jw_str_max(strlen(keys[i])) + cu_jw_str_max(lens[i]);
	}
	want = json_dumps(o, JSON_COMPACT);
	cu_jw_init(&w, cap);
	cu_jw_raw(&w, "{");
	for (size_t i = 0; i < n; i++)
		cu_jw_member(&w, &first, keys[i], values[i], lens[i]);
	cu_jw_raw(&w, "}");
	got = cu_jw_finish(&w);
	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
	free(got);
	json_decref(o);
}

static void test_plain_and_escapes(void **state)
{
	static const char *const keys[] = {"id", "name", "quote", "ctl", "utf8", "empty", "slash"};
	static const char *const values[] = {
	    "ZGg8BMQbY4G6-hg_Rusf4w",
	    "Hanako Yamada 山田花子",
	    "say \"hi\" \\ back",
	    "\x01\x1f\b\f\n\r\t\x7f end",
	    "\xe2\x80\xa8 \xf0\x9f\x98\x80 é",
	    "",
	    "a/b</script>",
	};
	size_t lens[7];

	(void)state;
	for (size_t i = 0; i < 7; i++)
		lens[i] = strlen(values[i]);
	same_as_jansson(keys, values, lens, 7);
}

static void test_nul_inside(void **state)
{
	static const char *const keys[] = {"a"};
	static const char *const values[] = {"x\0y"};
	static const size_t lens[] = {3};

	(void)state;
	same_as_jansson(keys, values, lens, 1);
}

static void test_invalid_utf8_left_out(void **state)
{
	static const char *const keys[] = {"ok", "bad1", "bad2", "bad3", "bad4", "bad5", "tail"};
	static const char *const values[] = {
	    "fine",
	    "\xc0\xaf",         /* overlong */
	    "\xed\xa0\x80",     /* a surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "abc\xe2\x82",      /* cut short */
	    "\x80",             /* a lone continuation byte */
	    "still here",
	};
	size_t lens[7];

	(void)state;
	for (size_t i = 0; i < 7; i++)
		lens[i] = strlen(values[i]);
	same_as_jansson(keys, values, lens, 7);
	/* Only invalid members: an empty object, as jansson would print. */
	same_as_jansson(keys + 1, values + 1, lens + 1, 5);
}

static void test_random_bytes(void **state)
{
	char buf[64];
	const char *keys[1] = {"k"};
	const char *values[1] = {buf};
	size_t lens[1];
	unsigned x = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		lens[0] = (size_t)(round % 40);
		for (size_t i = 0; i < lens[0]; i++) {
			x = x * 1103515245u + 12345u;
			/* Mostly ASCII and controls, sometimes UTF-8 lead and continuation bytes.
			 */
			buf[i] =
			    (char)((x >> 16) % 7 == 0 ? 0x80 + (x >> 8) % 0x80 : (x >> 8) % 0x80);
		}
		same_as_jansson(keys, values, lens, 1);
	}
}

static void test_overflow_fails(void **state)
{
	cu_jw w;

	(void)state;
	cu_jw_init(&w, 4);
	assert_int_equal(cu_jw_str(&w, "too long", 8), 0);
	assert_null(cu_jw_finish(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_and_escapes),     cmocka_unit_test(test_nul_inside),
	    cmocka_unit_test(test_invalid_utf8_left_out), cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_overflow_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
