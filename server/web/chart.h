/*
 * server/web/chart.h — the console's charts (docs/web.md, "Statistics"):
 * a bar chart of labelled counts and a time series of daily figures,
 * drawn as inline SVG by the page's template from a model this module
 * computes.
 *
 * Why a model and not SVG text: every page goes through the template
 * engine (template.h), which has no way to print a value unescaped, and
 * must keep having none.  So this module decides every coordinate, class
 * and label, and the template writes each shape with the engine's own
 * escaping: a category's name (words members typed), a page's name or a
 * day are escaped like any value, inside SVG as in HTML.  No script, no
 * style attribute (the CSP has no 'unsafe-inline'): looks come from
 * classes in web/static/site.css.
 *
 * The model (a JSON object):
 *
 *   width, height   the drawing's size in user units (view_box "0 0 W H")
 *   view_box        "0 0 W H"
 *   title, desc     the chart's accessible name and description (given)
 *   empty           true when there is nothing to draw (the page says so)
 *   shapes          an array of shapes, in drawing order; each an object
 *                   with exactly one of these keys, whose members are all
 *                   present (so a template's lookup never falls outward):
 *     svg_rect {x, y, w, h, cls, tip}
 *     svg_text {x, y, anchor ("start"|"middle"|"end"), cls, s, tip}
 *     svg_line {x1, y1, x2, y2, cls}
 *     svg_path {d, cls}
 *     svg_dot  {cx, cy, r, cls, tip}
 *   tip is a tooltip (an SVG <title> child) or "" for none.
 *
 * Rules the charts keep:
 *
 *  1. A suppressed figure is never drawn as a bar or a point of any
 *     size: a bar chart's suppressed cell is a small hatched swatch
 *     (class "suppressed") followed by the caller's note, e.g.
 *     "suppressed (< 10)"; a suppressed day is a hatched band across the
 *     plot (class "gap") and a break in every line.
 *  2. Scales start at zero and end at a round number at or above the
 *     largest figure; a chart whose figures are all zero (or all
 *     suppressed) has no scale and draws no bars.
 *  3. Counts up to INT64_MAX draw and print exactly (digits grouped by
 *     commas); a negative count (noise can make one) draws no bar and
 *     prints as it is.
 *  4. A label over CU_CHART_LABEL_CHARS characters is cut (at a
 *     character, not a byte) with "…", the whole of it in the tooltip;
 *     the page's table beside the chart always holds it all.
 *  5. At most CU_CHART_BARS_MAX bars and CU_CHART_DAYS_MAX days are
 *     drawn; the rest are in the table (the caller says so).
 *
 * Ownership: the model is the caller's (json_decref); the inputs are
 * copied.  NULL only when out of memory.
 */
#ifndef CU_WEB_CHART_H
#define CU_WEB_CHART_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CU_CHART_BARS_MAX    200 /* bars one chart draws */
#define CU_CHART_DAYS_MAX    400 /* days one time series draws */
#define CU_CHART_SERIES_MAX  4   /* lines in one time series */
#define CU_CHART_LABEL_CHARS 28  /* characters of a bar's label before it is cut */
#define CU_CHART_NUMBER_MAX  32  /* a count as text, grouped: "-9,223,372,036,854,775,808" */

/* One bar: a label and its count, or a suppressed cell with its note. */
typedef struct cu_chart_bar {
	const char *label; /* UTF-8; NULL is "" */
	int64_t count;     /* when !suppressed */
	bool suppressed;
	const char *note; /* shown for a suppressed cell, e.g. "suppressed (< 10)" */
} cu_chart_bar;

/* One day of a time series: a value per series, each known or not. */
typedef struct cu_chart_day {
	const char *day; /* "YYYY-MM-DD" (shown as MM-DD); NULL is "" */
	int64_t value[CU_CHART_SERIES_MAX];
	bool known[CU_CHART_SERIES_MAX]; /* false: a gap in that line */
	bool suppressed;                 /* the whole day is withheld: marked, every line breaks */
} cu_chart_day;

/*
 * The model of a horizontal bar chart of bars[0..n) (at most
 * CU_CHART_BARS_MAX drawn), titled title and described by desc.
 */
json_t *cu_chart_bars(const cu_chart_bar *bars, size_t n, const char *title, const char *desc);

/*
 * The model of a time series of days[0..n) (at most CU_CHART_DAYS_MAX
 * drawn) with nseries lines (1..CU_CHART_SERIES_MAX) named names[] in
 * the legend; note is the tooltip of a suppressed day.  Line k has class
 * "series-k".
 */
json_t *cu_chart_series(const cu_chart_day *days, size_t n, size_t nseries,
                        const char *const *names, const char *note, const char *title,
                        const char *desc);

/*
 * v as text with its digits grouped by commas ("1,234,567") into
 * buf[CU_CHART_NUMBER_MAX]; returns buf.
 */
const char *cu_chart_number(int64_t v, char buf[CU_CHART_NUMBER_MAX]);

#endif
