/*
 * test_chart.c — the console's charts (server/web/chart.h): what each
 * shape of a bar chart and a time series says, and the SVG the site's own
 * templates (stat_members.html, stat_traffic.html) draw from them —
 * escaping, suppressed figures marked and never drawn as a size, empty
 * data, long labels, huge counts, all-zero figures.
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

#include "web/chart.h"
#include "web/site.h"
#include "web/template.h"

#define PATH_LEN 512

/* The shapes of kind ("svg_rect", ...) whose cls is cls (NULL: any), as a new array. */
static json_t *shapes_of(const json_t *model, const char *kind, const char *cls)
{
	json_t *out = json_array(), *s, *v;
	size_t i;

	json_array_foreach(json_object_get(model, "shapes"), i, s)
	{
		if (!(v = json_object_get(s, kind)))
			continue;
		if (cls && strcmp(json_string_value(json_object_get(v, "cls")), cls))
			continue;
		json_array_append(out, v);
	}
	return out;
}

/* Whether a text shape says s. */
static bool says(const json_t *model, const char *s)
{
	json_t *texts = shapes_of(model, "svg_text", NULL), *t;
	bool found = false;
	size_t i;

	json_array_foreach(texts, i, t) found |=
	    !strcmp(json_string_value(json_object_get(t, "s")), s);
	json_decref(texts);
	return found;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* The page template name rendered over {"result": {"chart": chart}} with the site's files (chart is borrowed). */
static char *render(const char *name, json_t *chart)
{
	char dir[PATH_LEN], err[CU_WEB_ERR_MAX] = "";
	const char *src = getenv("CU_SOURCE_DIR");
	cu_web_site *site;
	cu_template_out out;
	json_t *data;
	char *s;

	assert_non_null(src);
	snprintf(dir, sizeof(dir), "%s/web", src);
	if (cu_web_site_load(dir, &site, err, sizeof(err)) != CU_OK)
		fail_msg("%s", err);
	data = json_pack("{s:{s:O,s:[]}}", "result", "chart", chart, "rows");
	cu_template_out_init(&out, 0);
	assert_int_equal(cu_template_render(cu_web_template(site, name), data, &out), CU_OK);
	s = strdup(out.buf);
	cu_template_out_release(&out);
	json_decref(data);
	cu_web_site_free(site);
	return s;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void bars_scale_and_mark_suppressed(void **state)
{
	const cu_chart_bar bars[] = {
	    {"25–34", 321, false, NULL},
	    {"35–44", 120, false, NULL},
	    {"65+", 0, true, "suppressed (< 10)"},
	    {"55–64", 0, true, "suppressed (complementary)"},
	};
	json_t *m = cu_chart_bars(bars, 4, "Members: age band", "Cells: 4");
	json_t *bar, *sup;

	(void)state;
	assert_non_null(m);
	assert_false(json_is_true(json_object_get(m, "empty")));
	assert_string_equal(json_string_value(json_object_get(m, "title")), "Members: age band");
	bar = shapes_of(m, "svg_rect", "bar");
	sup = shapes_of(m, "svg_rect", "bar suppressed");
	/* Two bars for the two released cells, proportional; the longer ends inside the plot. */
	assert_int_equal(json_array_size(bar), 2);
	assert_true(num(json_array_get(bar, 0), "w") > num(json_array_get(bar, 1), "w"));
	assert_true(num(json_array_get(bar, 0), "w") / num(json_array_get(bar, 1), "w") > 2.5);
	assert_true(num(json_array_get(bar, 0), "x") + num(json_array_get(bar, 0), "w") <=
	            num(m, "width"));
	/* Rule 1: each suppressed cell is the same small swatch, whatever its count was, with its note. */
	assert_int_equal(json_array_size(sup), 2);
	assert_true(num(json_array_get(sup, 0), "w") == num(json_array_get(sup, 1), "w"));
	assert_true(num(json_array_get(sup, 0), "w") < num(json_array_get(bar, 1), "w"));
	assert_true(says(m, "suppressed (< 10)"));
	assert_true(says(m, "suppressed (complementary)"));
	assert_true(says(m, "321"));
	/* The scale is round: 0 to 400 by 100 for a largest count of 321. */
	assert_true(says(m, "0"));
	assert_true(says(m, "100"));
	assert_true(says(m, "400"));
	assert_false(says(m, "500"));
	json_decref(bar);
	json_decref(sup);
	json_decref(m);
}

static void bars_empty_and_all_zero(void **state)
{
	const cu_chart_bar zero[] = {{"a", 0, false, NULL}, {"b", 0, false, NULL}};
	const cu_chart_bar hidden[] = {{"a", 5, true, "suppressed (< 10)"}};
	json_t *m, *bar;

	(void)state;
	m = cu_chart_bars(NULL, 0, "t", "d");
	assert_non_null(m);
	assert_true(json_is_true(json_object_get(m, "empty")));
	assert_int_equal(json_array_size(json_object_get(m, "shapes")), 0);
	json_decref(m);
	/* Zero total: no bars, no scale to divide by, the zeros printed. */
	m = cu_chart_bars(zero, 2, "t", "d");
	bar = shapes_of(m, "svg_rect", "bar");
	assert_int_equal(json_array_size(bar), 0);
	assert_true(says(m, "0"));
	json_decref(bar);
	json_decref(m);
	/* All suppressed: a count given with a suppressed cell is never drawn or printed. */
	m = cu_chart_bars(hidden, 1, "t", "d");
	bar = shapes_of(m, "svg_rect", "bar");
	assert_int_equal(json_array_size(bar), 0);
	assert_false(says(m, "5"));
	json_decref(bar);
	json_decref(m);
}

static void bars_huge_counts_and_long_labels(void **state)
{
	const char *longer = "Nihon Keizai Shimbun Morning and Evening Editions (digital)";
	const cu_chart_bar bars[] = {
	    {longer, INT64_MAX, false, NULL},
	    {"日本語のとても長い職業の名前がここに入りますがまだ続きますよ", 1, false, NULL},
	    {"negative", -3, false, NULL},
	};
	char buf[CU_CHART_NUMBER_MAX];
	json_t *m, *bar, *texts, *t;
	size_t i;
	bool cut_found = false;

	(void)state;
	assert_string_equal(cu_chart_number(INT64_MAX, buf), "9,223,372,036,854,775,807");
	assert_string_equal(cu_chart_number(INT64_MIN, buf), "-9,223,372,036,854,775,808");
	assert_string_equal(cu_chart_number(0, buf), "0");
	assert_string_equal(cu_chart_number(999, buf), "999");
	assert_string_equal(cu_chart_number(1000, buf), "1,000");
	m = cu_chart_bars(bars, 3, "t", "d");
	assert_non_null(m);
	assert_true(says(m, "9,223,372,036,854,775,807"));
	assert_true(says(m, "-3"));
	bar = shapes_of(m, "svg_rect", "bar");
	/* The largest bar stays inside the drawing; a count of 1 beside it is still seen. */
	assert_int_equal(json_array_size(bar), 2);
	assert_true(num(json_array_get(bar, 0), "x") + num(json_array_get(bar, 0), "w") <=
	            num(m, "width"));
	assert_true(num(json_array_get(bar, 1), "w") >= 1);
	/* Long labels are cut at a character with "…", the whole in the tooltip; UTF-8 stays valid. */
	texts = shapes_of(m, "svg_text", "label");
	json_array_foreach(texts, i, t)
	{
		const char *s = json_string_value(json_object_get(t, "s"));
		const char *tip = json_string_value(json_object_get(t, "tip"));

		assert_non_null(s); /* jansson refuses invalid UTF-8: a byte cut would be NULL */
		if (strstr(s, "\xE2\x80\xA6")) {
			cut_found = true;
			assert_true(strlen(tip) > strlen(s) - 3);
		}
	}
	assert_true(cut_found);
	assert_string_equal(json_string_value(json_object_get(json_array_get(texts, 0), "tip")),
	                    longer);
	json_decref(texts);
	json_decref(bar);
	json_decref(m);
}

static void bars_drawn_through_the_template_are_escaped(void **state)
{
	const cu_chart_bar bars[] = {
	    {"<script>alert(1)</script>", 40, false, NULL},
	    {"\"><svg onload=alert(2)>", 12, false, NULL},
	    {"a&b 'c' `d`", 0, true, "suppressed (< 10)"},
	};
	json_t *m = cu_chart_bars(bars, 3, "Members: \"<b>\"", "desc </desc><script>");
	char *svg;

	(void)state;
	svg = render("stat_members", m);
	assert_non_null(strstr(svg, "<svg class=\"chart bars\""));
	assert_non_null(strstr(svg, "role=\"img\""));
	assert_non_null(
	    strstr(svg, "<title id=\"chart-title\">Members: &quot;&lt;b&gt;&quot;</title>"));
	assert_non_null(strstr(svg, "desc &lt;/desc&gt;&lt;script&gt;"));
	/* Labels a member typed are text, never markup, in SVG as in HTML. */
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "<svg onload"));
	assert_non_null(strstr(svg, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(svg, "&quot;&gt;&lt;svg onload&#61;alert(2)&gt;"));
	assert_non_null(strstr(svg, "a&amp;b &#39;c&#39; &#96;d&#96;"));
	/* Two bars, one hatched mark with its note; no style attribute anywhere (the CSP). */
	assert_int_equal(count(svg, "class=\"bar\""), 2);
	assert_int_equal(count(svg, "class=\"bar suppressed\""), 1);
	assert_non_null(strstr(svg, "suppressed (&lt; 10)"));
	assert_null(strstr(svg, "style="));
	free(svg);
	json_decref(m);
}

static void series_gaps_at_suppressed_days(void **state)
{
	const char *names[] = {"Page views", "Visitors"};
	const cu_chart_day days[] = {
	    {"2026-12-01", {120, 40}, {true, true}, false},
	    {"2026-12-02", {999, 999}, {true, true}, true},
	    {"2026-12-03", {90, 31}, {true, true}, false},
	    {"2026-12-04", {70, 0}, {true, false}, false},
	    {"2026-12-05", {80, 30}, {true, true}, false},
	};
	json_t *m = cu_chart_series(days, 5, 2, names, "suppressed (< 10)", "Traffic", "Days: 5");
	json_t *gaps, *paths, *dots, *g;
	const char *d0, *d1;
	char *svg;

	(void)state;
	assert_non_null(m);
	gaps = shapes_of(m, "svg_rect", "gap");
	paths = shapes_of(m, "svg_path", NULL);
	dots = shapes_of(m, "svg_dot", NULL);
	/* The suppressed day is a hatched band with its note; none of its figures is a point. */
	assert_int_equal(json_array_size(gaps), 1);
	g = json_array_get(gaps, 0);
	assert_string_equal(json_string_value(json_object_get(g, "tip")),
	                    "2026-12-02: suppressed (< 10)");
	assert_int_equal(json_array_size(dots), 4 + 3);
	assert_false(says(m, "999"));
	/* Each line breaks at the gap (a second M); visitors break again at the unknown day. */
	assert_int_equal(json_array_size(paths), 2);
	d0 = json_string_value(json_object_get(json_array_get(paths, 0), "d"));
	d1 = json_string_value(json_object_get(json_array_get(paths, 1), "d"));
	assert_int_equal(count(d0, "M"), 2);
	assert_int_equal(count(d1, "M"), 3);
	/* Days are labelled MM-DD with the whole day as a tooltip; a round y scale (0..150). */
	assert_true(says(m, "12-01"));
	assert_true(says(m, "150"));
	assert_true(says(m, "Visitors"));
	svg = render("stat_traffic", m);
	assert_non_null(strstr(svg, "<svg class=\"chart series\""));
	assert_int_equal(count(svg, "<path d=\"M"), 2);
	assert_int_equal(count(svg, "class=\"gap\""), 1);
	assert_null(strstr(svg, "style="));
	free(svg);
	json_decref(gaps);
	json_decref(paths);
	json_decref(dots);
	json_decref(m);
}

static void series_empty_zero_and_huge(void **state)
{
	const char *names[] = {"<views>"};
	const cu_chart_day zero[] = {{"2026-12-01", {0}, {true}, false},
	                             {"2026-12-02", {0}, {true}, false}};
	const cu_chart_day huge[] = {{"2026-12-01", {INT64_MAX}, {true}, false},
	                             {"2026-12-02", {1}, {true}, false}};
	json_t *m, *dots;
	char *svg;

	(void)state;
	m = cu_chart_series(NULL, 0, 1, names, "n", "t", "d");
	assert_true(json_is_true(json_object_get(m, "empty")));
	json_decref(m);
	/* All zero: the points lie on the axis, nothing divides by zero. */
	m = cu_chart_series(zero, 2, 1, names, "n", "t", "d");
	dots = shapes_of(m, "svg_dot", NULL);
	assert_int_equal(json_array_size(dots), 2);
	assert_true(num(json_array_get(dots, 0), "cy") == num(json_array_get(dots, 1), "cy"));
	json_decref(dots);
	json_decref(m);
	/* Huge: the top point inside the plot, the small one on the axis; the legend escaped. */
	m = cu_chart_series(huge, 2, 1, names, "n", "t", "d");
	dots = shapes_of(m, "svg_dot", NULL);
	assert_true(num(json_array_get(dots, 0), "cy") >= 0);
	assert_true(num(json_array_get(dots, 0), "cy") < num(json_array_get(dots, 1), "cy"));
	svg = render("stat_traffic", m);
	assert_non_null(strstr(svg, "&lt;views&gt;"));
	assert_null(strstr(svg, "<views>"));
	free(svg);
	json_decref(dots);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bars_scale_and_mark_suppressed),
	    cmocka_unit_test(bars_empty_and_all_zero),
	    cmocka_unit_test(bars_huge_counts_and_long_labels),
	    cmocka_unit_test(bars_drawn_through_the_template_are_escaped),
	    cmocka_unit_test(series_gaps_at_suppressed_days),
	    cmocka_unit_test(series_empty_zero_and_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
