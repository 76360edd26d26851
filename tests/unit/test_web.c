/*
 * test_web.c — what the web pages take from a browser and from their own
 * files (server/web/page.c, server/web/site.c): forms, the cookie choice
 * with Global Privacy Control, Accept-Language, and the site directory
 * (every template parses, every language says everything English says,
 * anything wrong stops the start with one line).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/web.h"

#define PATH_LEN 512

static json_t *form(const char *s)
{
	return cu_web_form_parse(s, strlen(s));
}

static void form_fields_decode(void **state)
{
	json_t *f = form("csrf=abc&email=hanako%40example.org&name=Hanako+Yamada&empty=&flag");

	(void)state;
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "email")), "hanako@example.org");
	assert_string_equal(json_string_value(json_object_get(f, "name")), "Hanako Yamada");
	assert_string_equal(json_string_value(json_object_get(f, "empty")), "");
	assert_string_equal(json_string_value(json_object_get(f, "flag")), "");
	json_decref(f);
	/* UTF-8 percent-encoded, line breaks kept. */
	f = form("note=%E6%97%A5%E8%A8%98%0D%0Aline");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "note")), "日記\r\nline");
	json_decref(f);
	/* An empty body is an empty form; stray ampersands are nothing. */
	f = form("&&");
	assert_non_null(f);
	assert_int_equal(json_object_size(f), 0);
	json_decref(f);
}

static void form_repeated_fields_are_lists(void **state)
{
	json_t *f = form("hobbies=chess&hobbies=go&hobbies=origami&x=1");
	json_t *h;

	(void)state;
	assert_non_null(f);
	h = json_object_get(f, "hobbies");
	assert_true(json_is_array(h));
	assert_int_equal(json_array_size(h), 3);
	assert_string_equal(json_string_value(json_array_get(h, 2)), "origami");
	json_decref(f);
}

static void form_malformed_is_refused(void **state)
{
	static const char *const bad[] = {
	    "a=%",      "a=%4",        "a=%zz", "=value", "a=%00",
	    "a=%C3%28", "a=%ED%A0%80", "%=1",   "a=%1B",  "a=ok&b=%E3%81",
	};
	char many[CU_WEB_FIELDS_MAX * 4 + 16] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (form(bad[i]))
			fail_msg("accepted %s", bad[i]);
	for (int i = 0; i <= CU_WEB_FIELDS_MAX; i++)
		memcpy(many + 4 * i, "a=1&", 4);
	assert_null(form(many));
}

static void choice_cookie_and_gpc(void **state)
{
	cu_web_choice c;

	(void)state;
	/* No choice: only necessary cookies, and the banner. */
	cu_web_choice_parse(NULL, NULL, &c);
	assert_false(c.made);
	assert_true(c.allowed[CU_COOKIE_NECESSARY]);
	assert_false(c.allowed[CU_COOKIE_PREFERENCES] || c.allowed[CU_COOKIE_STATISTICS] ||
	             c.allowed[CU_COOKIE_ADVERTISING]);
	/* A choice as made. */
	cu_web_choice_parse("n1p1s0a1", NULL, &c);
	assert_true(c.made);
	assert_true(c.allowed[CU_COOKIE_PREFERENCES] && c.allowed[CU_COOKIE_ADVERTISING]);
	assert_false(c.allowed[CU_COOKIE_STATISTICS]);
	/* Refusing necessary cookies is a choice too. */
	cu_web_choice_parse("n0p0s0a0", NULL, &c);
	assert_true(c.made);
	assert_false(c.allowed[CU_COOKIE_NECESSARY]);
	/* GPC refuses advertising whatever was chosen; statistics stay if chosen. */
	cu_web_choice_parse("n1p1s1a1", "1", &c);
	assert_true(c.gpc);
	assert_false(c.allowed[CU_COOKIE_ADVERTISING]);
	assert_true(c.chosen[CU_COOKIE_ADVERTISING]);
	assert_true(c.allowed[CU_COOKIE_STATISTICS]);
	/* GPC and no choice: no statistics either. */
	cu_web_choice_parse(NULL, "1", &c);
	assert_false(c.allowed[CU_COOKIE_STATISTICS] || c.allowed[CU_COOKIE_ADVERTISING]);
	/* A malformed cookie is no choice. */
	static const char *const bad[] = {"n1p1s1", "x1p1s1a1", "n2p0s0a0", "n1p0s0a0x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cu_web_choice_parse(bad[i], NULL, &c);
		assert_false(c.made);
		assert_false(c.allowed[CU_COOKIE_ADVERTISING]);
	}
}

static void accept_language(void **state)
{
	(void)state;
	assert_int_equal(cu_web_lang_accept(NULL), 0);
	assert_int_equal(cu_web_lang_accept(""), 0);
	assert_int_equal(cu_web_lang_accept("ja"), 1);
	assert_int_equal(cu_web_lang_accept("ja-JP,ja;q=0.9,en;q=0.8"), 1);
	assert_int_equal(cu_web_lang_accept("en-US,en;q=0.9,ja;q=0.8"), 0);
	assert_int_equal(cu_web_lang_accept("fr, ja;q=0.5"), 1);
	assert_int_equal(cu_web_lang_accept("fr, de"), 0);
	assert_int_equal(cu_web_lang_accept("ja;q=0, en;q=0.1"), 0);
	assert_int_equal(cu_web_lang_accept("jav, en;q=0.2"), 0);
	assert_int_equal(cu_web_lang_accept("  ja-jp ; q=0.7 , en;q=0.6"), 1);
}

/* ---- the site directory ------------------------------------------------------------------- */

static void the_repository_site_loads(void **state)
{
	char dir[PATH_LEN], err[CU_WEB_ERR_MAX] = "";
	const char *src = getenv("CU_SOURCE_DIR");
	cu_web_site *site;
	const char *type;
	size_t len;

	(void)state;
	assert_non_null(src);
	snprintf(dir, sizeof(dir), "%s/web", src);
	if (cu_web_site_load(dir, &site, err, sizeof(err)) != CU_OK)
		fail_msg("%s", err);
	assert_non_null(cu_web_template(site, "_head"));
	assert_non_null(cu_web_template(site, "home"));
	assert_null(cu_web_template(site, "no-such-page"));
	assert_non_null(cu_web_static(site, "site.css", &len, &type));
	assert_string_equal(type, "text/css; charset=utf-8");
	assert_null(cu_web_static(site, "../web/static/site.css", &len, &type));
	assert_string_equal(
	    json_string_value(json_object_get(cu_web_messages(site, 1), "nav_login")), "ログイン");
	cu_web_site_free(site);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_LEN];
	FILE *f;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A minimal site in a temporary directory; returns its path (static). */
static const char *small_site(void)
{
	static char dir[PATH_LEN];
	char sub[PATH_LEN + 32];

	snprintf(dir, sizeof(dir), "/tmp/cu-web-site-XXXXXX");
	assert_non_null(mkdtemp(dir));
	static const char *const subs[] = {"templates", "locales", "locales/en", "locales/ja",
	                                   "static"};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	snprintf(sub, sizeof(sub), "%s/templates", dir);
	put(sub, "_head.html", "<html lang=\"{{lang}}\">");
	put(sub, "_foot.html", "</html>");
	put(sub, "home.html", "<h1>{{t.hello}}</h1>");
	snprintf(sub, sizeof(sub), "%s/locales/en", dir);
	put(sub, "a.json", "{\"hello\": \"Hello\"}");
	snprintf(sub, sizeof(sub), "%s/locales/ja", dir);
	put(sub, "a.json", "{\"hello\": \"こんにちは\"}");
	return dir;
}

static void expect_refused(const char *dir, const char *want)
{
	char err[CU_WEB_ERR_MAX] = "";
	cu_web_site *site = NULL;

	assert_int_not_equal(cu_web_site_load(dir, &site, err, sizeof(err)), CU_OK);
	assert_null(site);
	if (!strstr(err, want))
		fail_msg("expected '%s' in: %s", want, err);
	assert_null(strchr(err, '\n'));
}

static void a_broken_site_is_refused_with_one_line(void **state)
{
	char sub[PATH_LEN + 32], err[CU_WEB_ERR_MAX];
	const char *dir = small_site();
	cu_web_site *site;

	(void)state;
	if (cu_web_site_load(dir, &site, err, sizeof(err)) != CU_OK)
		fail_msg("%s", err);
	cu_web_site_free(site);
	/* Japanese lacks a message English has. */
	snprintf(sub, sizeof(sub), "%s/locales/en", dir);
	put(sub, "b.json", "{\"bye\": \"Goodbye\"}");
	expect_refused(dir, "locale 'ja' lacks message 'bye'");
	/* A message defined in two files. */
	snprintf(sub, sizeof(sub), "%s/locales/ja", dir);
	put(sub, "b.json", "{\"bye\": \"さようなら\", \"hello\": \"やあ\"}");
	expect_refused(dir, "message 'hello' is defined twice");
	put(sub, "b.json", "{\"bye\": \"さようなら\"}");
	/* A message that is not a string; a file that is not JSON. */
	put(sub, "c.json", "{\"n\": 1}");
	expect_refused(dir, "is not a string");
	put(sub, "c.json", "{\"n\": ");
	expect_refused(dir, "c.json");
	put(sub, "c.json", "{}");
	/* A template that does not parse names its file and line. */
	snprintf(sub, sizeof(sub), "%s/templates", dir);
	put(sub, "bad.html", "line one\n{{#open}}");
	expect_refused(dir, "template 'bad.html' line");
	put(sub, "bad.html", "fine");
	/* The frame is required. */
	snprintf(sub, sizeof(sub), "%s/templates/_foot.html", dir);
	unlink(sub);
	expect_refused(dir, "lacks _head.html or _foot.html");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(form_fields_decode),
	    cmocka_unit_test(form_repeated_fields_are_lists),
	    cmocka_unit_test(form_malformed_is_refused),
	    cmocka_unit_test(choice_cookie_and_gpc),
	    cmocka_unit_test(accept_language),
	    cmocka_unit_test(the_repository_site_loads),
	    cmocka_unit_test(a_broken_site_is_refused_with_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
