/*
 * server/web/chart.c — the geometry of the console's charts (chart.h is
 * the manual): where each bar, line, point, tick and label goes, as a
 * model the page templates draw as SVG.
 */
#include "web/chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sizes, in the drawing's user units --------------------------------------------------- */

#define WIDTH 720 /* every chart; CSS scales it to the page */

/* Bar chart: a label column, the plot, room for the count after the longest bar. */
#define BAR_LABEL_W  210 /* the labels' column; they end (text-anchor end) at its right */
#define BAR_GAP      8   /* between the labels and the plot */
#define BAR_VALUE_W  150 /* after the plot: a count, or a suppressed cell's note */
#define BAR_TOP      8
#define BAR_ROW      26 /* one bar's row */
#define BAR_H        18 /* a bar within it */
#define BAR_AXIS_H   28 /* the tick labels under the plot */
#define BAR_SWATCH_W 18 /* a suppressed cell's hatched swatch */
#define BAR_PLOT_X   (BAR_LABEL_W + BAR_GAP)
#define BAR_PLOT_W   (WIDTH - BAR_PLOT_X - BAR_VALUE_W)

/* Time series: tick labels left of the plot, day labels and the legend under it. */
#define SER_LEFT       64
#define SER_RIGHT      16
#define SER_TOP        12
#define SER_PLOT_H     220
#define SER_AXIS_H     30
#define SER_LEGEND_H   26
#define SER_PLOT_W     (WIDTH - SER_LEFT - SER_RIGHT)
#define SER_HEIGHT     (SER_TOP + SER_PLOT_H + SER_AXIS_H + SER_LEGEND_H)
#define SER_DAY_LABELS 12 /* at most this many day labels under the axis */
#define SER_DOT_R      3
#define SER_LEGEND_W   150 /* one legend entry */

#define TICKS_WANTED 5
/* One "L123.4 567.8" of a path. */
#define PATH_POINT_MAX 32
/* A label cut at CU_CHART_LABEL_CHARS UTF-8 characters, "…" and the NUL. */
#define LABEL_CUT_MAX (CU_CHART_LABEL_CHARS * 4 + 4)
/* A tooltip: a label, ": ", a count. */
#define TIP_MAX 512
/* "0 0 W H" of two ints. */
#define VIEW_BOX_MAX 32
/* A shape's classes: "line series-K", K a size_t as the compiler counts it. */
#define CLS_MAX 48

_Static_assert(BAR_PLOT_W > 100, "the bar plot has room");
_Static_assert(SER_PLOT_W / CU_CHART_DAYS_MAX >= 1, "a day has a unit of width at least");

/* ---- numbers --------------------------------------------------------------------------- */

const char *cu_chart_number(int64_t v, char buf[CU_CHART_NUMBER_MAX])
{
	char digits[CU_CHART_NUMBER_MAX];
	/* The magnitude as unsigned: INT64_MIN has no positive int64_t. */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n, o = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, u);
	if (v < 0)
		buf[o++] = '-';
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* One decimal is enough for a drawing 720 units wide. */
static double tenth(double v)
{
	return round(v * 10.0) / 10.0;
}

/*
 * A round step (1, 2 or 5 times a power of ten) that covers max in about
 * TICKS_WANTED steps; *top is the first multiple of it at or above max.
 * Unsigned: a scale over INT64_MAX ends above it.
 */
static uint64_t nice_step(uint64_t max, uint64_t *top)
{
	uint64_t raw = max / TICKS_WANTED + (max % TICKS_WANTED != 0), p = 1, step;

	if (raw == 0)
		raw = 1;
	while (p <= raw / 10)
		p *= 10;
	if (p >= raw)
		step = p;
	else if (2 * p >= raw)
		step = 2 * p;
	else if (5 * p >= raw)
		step = 5 * p;
	else
		step = 10 * p;
	*top = (max / step + (max % step != 0)) * step;
	if (*top == 0)
		*top = step;
	return step;
}

/* ---- shapes ------------------------------------------------------------------------------ */

static bool add(json_t *shapes, const char *kind, json_t *shape)
{
	return shape && !json_array_append_new(shapes, json_pack("{s:o}", kind, shape));
}

static bool rect(json_t *shapes, double x, double y, double w, double h, const char *cls,
                 const char *tip)
{
	return add(shapes, "svg_rect",
	           json_pack("{s:f,s:f,s:f,s:f,s:s,s:s}", "x", tenth(x), "y", tenth(y), "w",
	                     tenth(w), "h", tenth(h), "cls", cls, "tip", tip ? tip : ""));
}

static bool text(json_t *shapes, double x, double y, const char *anchor, const char *cls,
                 const char *s, const char *tip)
{
	return add(shapes, "svg_text",
	           json_pack("{s:f,s:f,s:s,s:s,s:s,s:s}", "x", tenth(x), "y", tenth(y), "anchor",
	                     anchor, "cls", cls, "s", s ? s : "", "tip", tip ? tip : ""));
}

static bool line(json_t *shapes, double x1, double y1, double x2, double y2, const char *cls)
{
	return add(shapes, "svg_line",
	           json_pack("{s:f,s:f,s:f,s:f,s:s}", "x1", tenth(x1), "y1", tenth(y1), "x2",
	                     tenth(x2), "y2", tenth(y2), "cls", cls));
}

static bool dot(json_t *shapes, double cx, double cy, const char *cls, const char *tip)
{
	return add(shapes, "svg_dot",
	           json_pack("{s:f,s:f,s:i,s:s,s:s}", "cx", tenth(cx), "cy", tenth(cy), "r",
	                     SER_DOT_R, "cls", cls, "tip", tip ? tip : ""));
}

static json_t *model(int height, const char *title, const char *desc, bool empty)
{
	char box[VIEW_BOX_MAX];

	snprintf(box, sizeof(box), "0 0 %d %d", WIDTH, height);
	return json_pack("{s:i,s:i,s:s,s:s,s:s,s:b,s:[]}", "width", WIDTH, "height", height,
	                 "view_box", box, "title", title ? title : "", "desc", desc ? desc : "",
	                 "empty", empty, "shapes");
}

/*
 * label cut to CU_CHART_LABEL_CHARS characters with "…" into out; true
 * when it was cut.  Characters are counted as UTF-8 lead bytes.
 */
static bool cut_label(const char *label, char out[LABEL_CUT_MAX])
{
	size_t chars = 0, i = 0;

	for (; label[i]; i++) {
		if (((unsigned char)label[i] & 0xC0) != 0x80 && chars++ == CU_CHART_LABEL_CHARS)
			break;
	}
	if (!label[i]) {
		snprintf(out, LABEL_CUT_MAX, "%s", label);
		return false;
	}
	snprintf(out, LABEL_CUT_MAX, "%.*s\xE2\x80\xA6", (int)i, label); /* U+2026 … */
	return true;
}

/* The vertical grid and tick labels of a bar chart's scale 0..top by step. */
static bool bar_scale(json_t *shapes, uint64_t step, uint64_t top, double plot_bottom)
{
	char num[CU_CHART_NUMBER_MAX];
	bool ok = true;

	for (uint64_t v = 0; ok; v += step) {
		double x = BAR_PLOT_X + (double)v / (double)top * BAR_PLOT_W;

		/* v is at most INT64_MAX here unless top is above it, when it prints as unsigned. */
		if (v <= INT64_MAX)
			cu_chart_number((int64_t)v, num);
		else
			snprintf(num, sizeof(num), "%" PRIu64, v);
		ok = line(shapes, x, BAR_TOP, x, plot_bottom, v ? "grid" : "axis") &&
		     text(shapes, x, plot_bottom + 18, "middle", "tick", num, NULL);
		if (v >= top || top - v < step)
			break;
	}
	return ok;
}

json_t *cu_chart_bars(const cu_chart_bar *bars, size_t n, const char *title, const char *desc)
{
	size_t drawn = n < CU_CHART_BARS_MAX ? n : CU_CHART_BARS_MAX;
	int height = BAR_TOP + (int)drawn * BAR_ROW + BAR_AXIS_H;
	uint64_t max = 0, step = 0, top = 0;
	json_t *m, *shapes;
	bool ok = true;

	for (size_t i = 0; i < drawn; i++)
		if (!bars[i].suppressed && bars[i].count > 0 && (uint64_t)bars[i].count > max)
			max = (uint64_t)bars[i].count;
	m = model(drawn ? height : BAR_TOP + BAR_AXIS_H, title, desc, drawn == 0);
	if (!m || drawn == 0)
		return m;
	shapes = json_object_get(m, "shapes");
	/* Rule 2: no scale when there is nothing above zero to scale. */
	if (max > 0) {
		step = nice_step(max, &top);
		ok = bar_scale(shapes, step, top, BAR_TOP + (double)drawn * BAR_ROW);
	} else {
		ok = line(shapes, BAR_PLOT_X, BAR_TOP, BAR_PLOT_X,
		          BAR_TOP + (double)drawn * BAR_ROW, "axis");
	}
	for (size_t i = 0; ok && i < drawn; i++) {
		const cu_chart_bar *b = &bars[i];
		const char *label = b->label ? b->label : "";
		double y = BAR_TOP + (double)i * BAR_ROW + (BAR_ROW - BAR_H) / 2.0;
		double mid = y + BAR_H / 2.0 + 4; /* a text's baseline, centred on the bar */
		char cut[LABEL_CUT_MAX], num[CU_CHART_NUMBER_MAX], tip[TIP_MAX];
		bool was_cut = cut_label(label, cut);

		/* Rule 4: a cut label has the whole of it as its tooltip. */
		ok = text(shapes, BAR_LABEL_W, mid, "end", "label", cut, was_cut ? label : NULL);
		if (!ok)
			break;
		if (b->suppressed) {
			/* Rule 1: a mark, never a bar of some size. */
			snprintf(tip, sizeof(tip), "%s: %s", label, b->note ? b->note : "");
			ok = rect(shapes, BAR_PLOT_X, y, BAR_SWATCH_W, BAR_H, "bar suppressed",
			          tip) &&
			     text(shapes, BAR_PLOT_X + BAR_SWATCH_W + 6, mid, "start", "note",
			          b->note ? b->note : "", NULL);
			continue;
		}
		cu_chart_number(b->count, num);
		snprintf(tip, sizeof(tip), "%s: %s", label, num);
		if (b->count > 0) {
			double w = (double)b->count / (double)top * BAR_PLOT_W;

			if (w < 1)
				w = 1; /* a count above zero is seen */
			ok = rect(shapes, BAR_PLOT_X, y, w, BAR_H, "bar", tip) &&
			     text(shapes, BAR_PLOT_X + w + 6, mid, "start", "value", num, NULL);
		} else {
			ok = text(shapes, BAR_PLOT_X + 6, mid, "start", "value", num, tip);
		}
	}
	if (!ok) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* ---- time series ------------------------------------------------------------------------ */

/* "MM-DD" of "YYYY-MM-DD", else the day as given. */
static const char *short_day(const char *day)
{
	return strlen(day) == 10 && day[4] == '-' ? day + 5 : day;
}

json_t *cu_chart_series(const cu_chart_day *days, size_t n, size_t nseries,
                        const char *const *names, const char *note, const char *title,
                        const char *desc)
{
	size_t drawn = n < CU_CHART_DAYS_MAX ? n : CU_CHART_DAYS_MAX, every;
	const double bottom = SER_TOP + SER_PLOT_H;
	double dx;
	uint64_t max = 0, step, top;
	char *path = NULL, num[CU_CHART_NUMBER_MAX], tip[TIP_MAX];
	json_t *m, *shapes;
	bool ok = true;

	if (nseries < 1 || nseries > CU_CHART_SERIES_MAX)
		nseries = nseries < 1 ? 1 : CU_CHART_SERIES_MAX;
	m = model(SER_HEIGHT, title, desc, drawn == 0);
	if (!m || drawn == 0)
		return m;
	shapes = json_object_get(m, "shapes");
	for (size_t i = 0; i < drawn; i++)
		for (size_t k = 0; k < nseries; k++)
			if (!days[i].suppressed && days[i].known[k] && days[i].value[k] > 0 &&
			    (uint64_t)days[i].value[k] > max)
				max = (uint64_t)days[i].value[k];
	/* The y scale: 0..top; with nothing above zero, 0..1 so the zeros lie on the axis. */
	step = max ? nice_step(max, &top) : (top = 1);
	for (uint64_t v = 0; ok; v += step) {
		double y = bottom - (double)v / (double)top * SER_PLOT_H;

		if (v <= INT64_MAX)
			cu_chart_number((int64_t)v, num);
		else
			snprintf(num, sizeof(num), "%" PRIu64, v);
		ok = line(shapes, SER_LEFT, y, SER_LEFT + SER_PLOT_W, y, v ? "grid" : "axis") &&
		     text(shapes, SER_LEFT - 6, y + 4, "end", "tick", num, NULL);
		if (v >= top || top - v < step)
			break;
	}
	dx = drawn > 1 ? (double)SER_PLOT_W / (double)(drawn - 1) : 0;
	/* Suppressed days first, under the lines: a hatched band (rule 1). */
	for (size_t i = 0; ok && i < drawn; i++) {
		double x = drawn > 1 ? SER_LEFT + (double)i * dx : SER_LEFT + SER_PLOT_W / 2.0;
		double w = drawn > 1 ? dx : 24;

		if (w < 4)
			w = 4;
		if (!days[i].suppressed)
			continue;
		snprintf(tip, sizeof(tip), "%s: %s", days[i].day ? days[i].day : "",
		         note ? note : "");
		ok = rect(shapes, x - w / 2, SER_TOP, w, SER_PLOT_H, "gap", tip);
	}
	/* Day labels: about SER_DAY_LABELS of them, the first and every `every`-th. */
	every = (drawn + SER_DAY_LABELS - 1) / SER_DAY_LABELS;
	for (size_t i = 0; ok && i < drawn; i += every) {
		double x = drawn > 1 ? SER_LEFT + (double)i * dx : SER_LEFT + SER_PLOT_W / 2.0;

		ok = line(shapes, x, bottom, x, bottom + 4, "axis") &&
		     text(shapes, x, bottom + 18, "middle", "tick",
		          short_day(days[i].day ? days[i].day : ""), days[i].day);
	}
	if (ok && !(path = malloc(drawn * PATH_POINT_MAX + 1)))
		ok = false;
	for (size_t k = 0; ok && k < nseries; k++) {
		char cls[CLS_MAX];
		size_t len = 0;
		bool pen = false; /* the pen is down: the last day drew a point of this line */

		for (size_t i = 0; i < drawn; i++) {
			const cu_chart_day *d = &days[i];
			double x =
			    drawn > 1 ? SER_LEFT + (double)i * dx : SER_LEFT + SER_PLOT_W / 2.0;
			double v = d->value[k] > 0 ? (double)d->value[k] : 0;

			if (d->suppressed || !d->known[k]) {
				pen = false; /* a gap: the line breaks */
				continue;
			}
			len += (size_t)snprintf(path + len, PATH_POINT_MAX, "%c%.1f %.1f",
			                        pen ? 'L' : 'M', x,
			                        bottom - v / (double)top * SER_PLOT_H);
			pen = true;
		}
		path[len] = '\0';
		snprintf(cls, sizeof(cls), "line series-%zu", k);
		ok = len == 0 ||
		     add(shapes, "svg_path", json_pack("{s:s,s:s}", "d", path, "cls", cls));
	}
	/* The points over the lines, each with its figure. */
	for (size_t k = 0; ok && k < nseries; k++) {
		char cls[CLS_MAX];

		snprintf(cls, sizeof(cls), "dot series-%zu", k);
		for (size_t i = 0; ok && i < drawn; i++) {
			const cu_chart_day *d = &days[i];
			double x =
			    drawn > 1 ? SER_LEFT + (double)i * dx : SER_LEFT + SER_PLOT_W / 2.0;
			double v = d->value[k] > 0 ? (double)d->value[k] : 0;

			if (d->suppressed || !d->known[k])
				continue;
			snprintf(tip, sizeof(tip), "%s: %s %s", d->day ? d->day : "",
			         cu_chart_number(d->value[k], num),
			         names && names[k] ? names[k] : "");
			ok = dot(shapes, x, bottom - v / (double)top * SER_PLOT_H, cls, tip);
		}
	}
	/* The legend: a sample of each line and its name. */
	for (size_t k = 0; ok && k < nseries; k++) {
		double x = SER_LEFT + (double)k * SER_LEGEND_W, y = SER_HEIGHT - 10;
		char cls[CLS_MAX];

		snprintf(cls, sizeof(cls), "line series-%zu", k);
		ok = line(shapes, x, y - 4, x + 24, y - 4, cls) &&
		     text(shapes, x + 30, y, "start", "legend", names && names[k] ? names[k] : "",
		          NULL);
	}
	free(path);
	if (!ok) {
		json_decref(m);
		return NULL;
	}
	return m;
}
