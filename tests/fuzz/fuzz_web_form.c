/*
 * fuzz_web_form — what a browser sends the web pages (server/web/page.c):
 * a form body (application/x-www-form-urlencoded), the cookie-choice cookie
 * with Sec-GPC, and Accept-Language.  The input is "body\ncookie\nlanguage".
 *
 * The form parser returns NULL or an object whose values are strings or
 * arrays of strings, valid UTF-8 without NUL, at most CU_WEB_FIELDS_MAX
 * fields; the choice never allows what it does not choose, and with GPC
 * never advertising; the language is one of the site's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/text.h"
#include "web/web.h"

static void check_string(json_t *v)
{
	if (!json_is_string(v))
		abort();
	if (cu_text_check(json_string_value(v), json_string_length(v), "\n\r\t"))
		abort();
}

static void check_form(const char *body, size_t len)
{
	json_t *form = cu_web_form_parse(body, len), *v, *e;
	const char *key;
	size_t n = 0, i;

	if (!form)
		return;
	if (!json_is_object(form))
		abort();
	json_object_foreach(form, key, v)
	{
		if (!*key)
			abort();
		if (json_is_array(v)) {
			if (json_array_size(v) < 2)
				abort();
			json_array_foreach(v, i, e) check_string(e);
			n += json_array_size(v);
		} else {
			check_string(v);
			n++;
		}
	}
	if (n > CU_WEB_FIELDS_MAX)
		abort();
	json_decref(form);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *cookie = memchr(s, '\n', size), *lang = NULL;
	size_t body_len = cookie ? (size_t)(cookie - s) : size;
	cu_web_choice ch;

	check_form(s, body_len);
	if (cookie) {
		*cookie++ = '\0';
		lang = strchr(cookie, '\n');
		if (lang)
			*lang++ = '\0';
		for (int gpc = 0; gpc < 2; gpc++) {
			cu_web_choice_parse(cookie, gpc ? "1" : NULL, &ch);
			for (int c = 0; c < CU_COOKIE_CATEGORIES; c++)
				if (ch.allowed[c] && !ch.chosen[c])
					abort();
			if (gpc && ch.allowed[CU_COOKIE_ADVERTISING])
				abort();
		}
	}
	{
		int l = cu_web_lang_accept(lang);

		if (l < 0 || l >= CU_WEB_LANGS)
			abort();
	}
	free(s);
	return 0;
}
