/*
 * test_template.c — the web pages' renderer (server/web/template.c): every
 * value escaped, sections and inverted sections as Mustache has them, every
 * malformed template refused with one line, and the bounds hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web/template.h"

/* Renders text over the JSON data; returns the result, the output in *got (malloc'd, or NULL). */
static cu_result render_max(const char *text, const char *data, size_t max, char **got)
{
	char err[CU_TEMPLATE_ERR_MAX];
	cu_template *t = cu_template_parse("t.html", text, strlen(text), err, sizeof(err));
	json_error_t jerr;
	json_t *j = json_loads(data, JSON_ALLOW_NUL, &jerr);
	cu_template_out out;
	cu_result rc;

	if (!t)
		fail_msg("%s", err);
	assert_non_null(j);
	cu_template_out_init(&out, max);
	rc = cu_template_render(t, j, &out);
	*got = rc == CU_OK ? strdup(out.buf) : NULL;
	if (rc != CU_OK)
		assert_int_equal(out.len, 0);
	cu_template_out_release(&out);
	json_decref(j);
	cu_template_free(t);
	return rc;
}

static void renders(const char *text, const char *data, const char *want)
{
	char *got = NULL;

	assert_int_equal(render_max(text, data, 0, &got), CU_OK);
	assert_string_equal(got, want);
	free(got);
}

/* The template is refused; the message is one line naming the template and the line. */
static void refused(const char *text, size_t line, const char *part)
{
	char err[CU_TEMPLATE_ERR_MAX], head[CU_TEMPLATE_ERR_MAX];

	assert_null(cu_template_parse("page.html", text, strlen(text), err, sizeof(err)));
	snprintf(head, sizeof(head), "template 'page.html' line %zu: ", line);
	if (strncmp(err, head, strlen(head)) != 0 || !strstr(err, part))
		fail_msg("for %s: got \"%s\", want \"%s...%s\"", text, err, head, part);
	assert_null(strchr(err, '\n'));
}

static void test_escapes_each_character(void **state)
{
	(void)state;
	renders("{{v}}", "{\"v\":\"&\"}", "&amp;");
	renders("{{v}}", "{\"v\":\"<\"}", "&lt;");
	renders("{{v}}", "{\"v\":\">\"}", "&gt;");
	renders("{{v}}", "{\"v\":\"\\\"\"}", "&quot;");
	renders("{{v}}", "{\"v\":\"'\"}", "&#39;");
	renders("{{v}}", "{\"v\":\"`\"}", "&#96;");
	renders("{{v}}", "{\"v\":\"=\"}", "&#61;");
	renders("{{v}}", "{\"v\":\"a\\u0000b\"}", "a&#65533;b");
	renders("<p>{{v}}</p>", "{\"v\":\"a&b<c>d\\\"e'f`g=h\"}",
	        "<p>a&amp;b&lt;c&gt;d&quot;e&#39;f&#96;g&#61;h</p>");
	/* In an attribute value, quoted either way: the quote cannot be closed. */
	renders("<a title=\"{{v}}\" href='{{v}}'>", "{\"v\":\"x\\\" onclick='y' z=\"}",
	        "<a title=\"x&quot; onclick&#61;&#39;y&#39; z&#61;\" href='x&quot; "
	        "onclick&#61;&#39;y&#39; z&#61;'>");
}

static void test_script_is_inert(void **state)
{
	char *got = NULL;

	(void)state;
	assert_int_equal(render_max("<div>{{v}}</div><input value=\"{{v}}\">",
	                            "{\"v\":\"\\\"><script>alert(1)</script>\"}", 0, &got),
	                 CU_OK);
	assert_string_equal(got,
	                    "<div>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</div>"
	                    "<input value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">");
	assert_null(strstr(got, "<script"));
	free(got);
}

static void test_scalars(void **state)
{
	(void)state;
	renders("{{s}}|{{i}}|{{r}}|{{t}}|{{f}}|{{n}}|{{missing}}|",
	        "{\"s\":\"x\",\"i\":-42,\"r\":1.5,\"t\":true,\"f\":false,\"n\":null}",
	        "x|-42|1.5|true|false|||");
	renders("{{ s }}{{a.b.c}}{{a.x.c}}", "{\"s\":\"1\",\"a\":{\"b\":{\"c\":2}}}", "12");
	renders("no tags at all\n", "{}", "no tags at all\n");
	renders("", "{}", "");
	renders("{{! a comment\n over lines }}x", "{}", "x");
}

static void test_object_as_value(void **state)
{
	char *got = NULL;

	(void)state;
	assert_int_equal(render_max("a{{o}}b", "{\"o\":{\"k\":1}}", 0, &got),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(render_max("a{{o}}b", "{\"o\":[1]}", 0, &got), CU_ERR_INVALID_ARGUMENT);
	assert_null(got);
}

static void test_sections(void **state)
{
	(void)state;
	/* An array repeats, each element the innermost context. */
	renders("<ul>{{#items}}<li>{{name}}</li>{{/items}}</ul>",
	        "{\"items\":[{\"name\":\"a\"},{\"name\":\"<b>\"}]}",
	        "<ul><li>a</li><li>&lt;b&gt;</li></ul>");
	renders("{{#tags}}[{{.}}]{{/tags}}", "{\"tags\":[\"x\",\"y&\",3]}", "[x][y&amp;][3]");
	/* An object enters once. */
	renders("{{#member}}{{name}} ({{age}}){{/member}}",
	        "{\"member\":{\"name\":\"Ann\",\"age\":40}}", "Ann (40)");
	/* Truthy scalars show once; falsy ones hide. */
	renders("{{#t}}T{{/t}}{{#s}}S{{.}}{{/s}}{{#i}}I{{/i}}",
	        "{\"t\":true,\"s\":\"yes\",\"i\":7}", "TSyesI");
	renders("{{#f}}F{{/f}}{{#n}}N{{/n}}{{#m}}M{{/m}}{{#e}}E{{/e}}{{#z}}Z{{/z}}{{#es}}S{{/es}}-",
	        "{\"f\":false,\"n\":null,\"e\":[],\"z\":0,\"es\":\"\"}", "-");
	/* Nested sections. */
	renders("{{#a}}{{#b}}{{c}}{{/b}};{{/a}}",
	        "{\"a\":[{\"b\":[{\"c\":1},{\"c\":2}]},{\"b\":[]}]}", "12;;");
}

static void test_inverted(void **state)
{
	(void)state;
	renders("{{^items}}none{{/items}}", "{\"items\":[]}", "none");
	renders("{{^items}}none{{/items}}", "{\"items\":[1]}", "");
	renders("{{^f}}F{{/f}}{{^n}}N{{/n}}{{^m}}M{{/m}}{{^t}}T{{/t}}{{^o}}O{{/o}}",
	        "{\"f\":false,\"n\":null,\"t\":true,\"o\":{}}", "FNM");
	renders("{{#a}}x{{/a}}{{^a}}y{{/a}}", "{\"a\":0}", "y");
}

static void test_context_fallback(void **state)
{
	(void)state;
	/* A name not in the element is looked up outward; an inner name shadows. */
	renders("{{#items}}{{name}}@{{site}} {{/items}}",
	        "{\"site\":\"S\",\"name\":\"outer\",\"items\":[{\"name\":\"a\"},{\"site\":\"T\"}]}",
	        "a@S outer@T ");
	/* Dotted names start from the first context holding the first segment only. */
	renders("{{#o}}{{p.q}}{{/o}}", "{\"p\":{\"q\":\"top\"},\"o\":{\"p\":{}}}", "");
	renders("{{#o}}{{p.q}}{{/o}}", "{\"p\":{\"q\":\"top\"},\"o\":{}}", "top");
}

static void test_utf8_passes(void **state)
{
	(void)state;
	renders("こんにちは {{n}} ✓\n", "{\"n\":\"山田 <花子> é\"}",
	        "こんにちは 山田 &lt;花子&gt; é ✓\n");
}

static void test_parse_errors(void **state)
{
	char big_name[CU_TEMPLATE_NAME_MAX + 2 + 4 + 1];
	char deep[(CU_TEMPLATE_DEPTH_MAX + 1) * 16 + 1];
	size_t k = 0;
	char *huge;
	char err[CU_TEMPLATE_ERR_MAX];

	(void)state;
	refused("a\nb\n{{#items}}x", 3, "unclosed section 'items'");
	refused("{{#a}}\n{{/b}}", 2, "'{{/b}}' closes section 'a'");
	refused("x\n\n\n{{/a}}", 4, "closes no section");
	refused("{{#a}}{{#b}}{{/a}}{{/b}}", 1, "closes section 'b'");
	refused("ok\n{{{raw}}}", 2, "unescaped output is not offered");
	refused("{{&raw}}", 1, "unescaped output is not offered");
	refused("{{>partial}}", 1, "unknown kind of tag");
	refused("{{=<% %>=}}", 1, "unknown kind of tag");
	refused("\n{{Name}}", 2, "bad name");
	refused("{{a-b}}", 1, "bad name");
	refused("{{a..b}}", 1, "bad name");
	refused("{{.a}}", 1, "bad name");
	refused("{{a.}}", 1, "bad name");
	refused("{{}}", 1, "bad name");
	refused("{{#}}{{/}}", 1, "bad name");
	refused("{{a b}}", 1, "bad name");
	refused("a\n{{name", 2, "without its '}}'");
	refused("{{! comment", 1, "without its '}}'");
	memset(big_name, 'a', sizeof(big_name) - 1);
	memcpy(big_name, "{{", 2);
	memcpy(big_name + sizeof(big_name) - 3, "}}", 2);
	big_name[sizeof(big_name) - 1] = '\0';
	refused(big_name, 1, "bad name");
	for (int i = 0; i <= CU_TEMPLATE_DEPTH_MAX; i++)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "{{#a}}\n");
	refused(deep, CU_TEMPLATE_DEPTH_MAX + 1, "nested over");
	huge = calloc(CU_TEMPLATE_SIZE_MAX + 2, 1);
	assert_non_null(huge);
	memset(huge, 'x', CU_TEMPLATE_SIZE_MAX + 1);
	refused(huge, 1, "over");
	free(huge);
	assert_null(cu_template_parse("page.html", "a\0b", 3, err, sizeof(err)));
	assert_string_equal(err, "template 'page.html' line 1: a NUL byte");
	/* A name with a newline in it still gives one line. */
	assert_null(cu_template_parse("bad\nname", "{{/x}}", 6, err, sizeof(err)));
	assert_null(strchr(err, '\n'));
}

static void test_nesting_at_the_bound(void **state)
{
	char text[CU_TEMPLATE_DEPTH_MAX * 16 + 1];
	size_t k = 0;
	cu_template *t;
	char err[CU_TEMPLATE_ERR_MAX];

	(void)state;
	for (int i = 0; i < CU_TEMPLATE_DEPTH_MAX; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, "{{#a}}");
	for (int i = 0; i < CU_TEMPLATE_DEPTH_MAX; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, "{{/a}}");
	t = cu_template_parse("deep", text, k, err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(cu_template_name(t), "deep");
	cu_template_free(t);
}

static void test_output_bound(void **state)
{
	char *got = NULL;

	(void)state;
	/* Exactly at the bound is fine; one byte over is not. */
	assert_int_equal(render_max("{{v}}", "{\"v\":\"<<\"}", 8, &got), CU_OK);
	assert_string_equal(got, "&lt;&lt;");
	free(got);
	assert_int_equal(render_max("{{v}}", "{\"v\":\"<<\"}", 7, &got), CU_ERR_TOO_LARGE);
	assert_null(got);
	/* A data value cannot grow the page past the default bound either. */
	{
		json_t *a = json_array();
		cu_template_out out;
		cu_template *t = cu_template_parse("t", "{{#a}}{{.}}{{/a}}", 17, NULL, 0);
		json_t *d;
		char *s = malloc(1024 * 1024 + 1);

		assert_non_null(s);
		memset(s, '<', 1024 * 1024);
		s[1024 * 1024] = '\0';
		json_array_append_new(a, json_string(s));
		json_array_append_new(a, json_string(s));
		d = json_pack("{s:o}", "a", a);
		cu_template_out_init(&out, 0);
		assert_int_equal(cu_template_render(t, d, &out), CU_ERR_TOO_LARGE);
		assert_int_equal(out.len, 0);
		cu_template_out_release(&out);
		json_decref(d);
		cu_template_free(t);
		free(s);
	}
}

static void test_step_bound(void **state)
{
	/* Nested sections over a long array do no visible work but end. */
	json_t *a = json_array(), *d;
	cu_template *t;
	cu_template_out out;
	const char *text = "{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}";

	(void)state;
	for (int i = 0; i < 1000; i++)
		json_array_append_new(a, json_true());
	d = json_pack("{s:o}", "a", a);
	t = cu_template_parse("t", text, strlen(text), NULL, 0);
	assert_non_null(t);
	cu_template_out_init(&out, 0);
	assert_int_equal(cu_template_render(t, d, &out), CU_ERR_TOO_LARGE);
	cu_template_out_release(&out);
	cu_template_free(t);
	json_decref(d);
}

static void test_appends(void **state)
{
	/* Render appends: two templates into one buffer. */
	cu_template *t = cu_template_parse("t", "<b>{{v}}</b>", 12, NULL, 0);
	json_t *d = json_pack("{s:s}", "v", "&");
	cu_template_out out;

	(void)state;
	cu_template_out_init(&out, 0);
	assert_int_equal(cu_template_render(t, d, &out), CU_OK);
	assert_int_equal(cu_template_render(t, d, &out), CU_OK);
	assert_string_equal(out.buf, "<b>&amp;</b><b>&amp;</b>");
	cu_template_out_release(&out);
	cu_template_out_release(NULL);
	cu_template_free(NULL);
	cu_template_free(t);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes_each_character),
	    cmocka_unit_test(test_script_is_inert),
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_object_as_value),
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_inverted),
	    cmocka_unit_test(test_context_fallback),
	    cmocka_unit_test(test_utf8_passes),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_nesting_at_the_bound),
	    cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_step_bound),
	    cmocka_unit_test(test_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
