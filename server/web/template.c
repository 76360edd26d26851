/*
 * server/web/template.c — the HTML renderer (template.h): a parser that
 * turns the text into a flat list of nodes once, and a renderer that walks
 * the list with a bounded stack of contexts.
 */
#include "web/template.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for any integer or "%.15g" real as text. */
#define NUMBER_MAX 40
/* The first allocation of an output buffer. */
#define OUT_FIRST_CAP 256

typedef enum node_kind { NODE_TEXT, NODE_VAR, NODE_SECTION, NODE_INVERTED } node_kind;

typedef struct node {
	node_kind kind;
	size_t off, len; /* text: the run; a tag: its name; both in t->text */
	size_t end;      /* a section: the index of the node after its block */
	size_t line;     /* where the tag is, for "unclosed section" */
} node;

struct cu_template {
	char *name;
	char *text;
	node *nodes;
	size_t n, cap;
};

void cu_template_out_init(cu_template_out *o, size_t max)
{
	o->buf = NULL;
	o->len = o->cap = 0;
	o->max = max ? max : CU_TEMPLATE_OUT_MAX;
}

void cu_template_out_release(cu_template_out *o)
{
	if (!o)
		return;
	if (o->buf) {
		sodium_memzero(o->buf, o->cap);
		free(o->buf);
	}
	o->buf = NULL;
	o->len = o->cap = 0;
}

const char *cu_template_name(const cu_template *t)
{
	return t->name;
}

void cu_template_free(cu_template *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->text);
	free(t->nodes);
	free(t);
}

/* ---- parsing */

/* err := "template 'NAME' line N: " + the message, on one line whatever NAME holds. */
static void parse_error(const cu_template *t, size_t line, char *err, size_t errlen,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void parse_error(const cu_template *t, size_t line, char *err, size_t errlen,
                        const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!err || !errlen)
		return;
	k = snprintf(err, errlen, "template '%s' line %zu: ", t->name, line);
	if (k >= 0 && (size_t)k < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* What may mark a kind of tag: ASCII punctuation but '.' and '_' (those begin names). */
static bool punctuation(char c)
{
	return c > ' ' && c < 0x7f && !name_char(c) && !(c >= 'A' && c <= 'Z') && c != '.';
}

/* "." or [a-z0-9_]+ segments joined by single dots, at most CU_TEMPLATE_NAME_MAX bytes. */
static bool name_ok(const char *s, size_t n)
{
	bool want_char = true;

	if (n == 0 || n > CU_TEMPLATE_NAME_MAX)
		return false;
	if (n == 1 && s[0] == '.')
		return true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (want_char)
				return false;
			want_char = true;
		} else if (name_char(s[i])) {
			want_char = false;
		} else {
			return false;
		}
	}
	return !want_char;
}

static size_t newlines(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/* Appends a node; its index in *at.  false when out of memory. */
static bool add_node(cu_template *t, node_kind kind, size_t off, size_t len, size_t line,
                     size_t *at)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		node *nodes = realloc(t->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return false;
		t->nodes = nodes;
		t->cap = cap;
	}
	t->nodes[t->n] = (node){kind, off, len, 0, line};
	if (at)
		*at = t->n;
	t->n++;
	return true;
}

static const char *find2(const char *s, size_t from, size_t len, char c)
{
	for (size_t i = from; i + 1 < len; i++)
		if (s[i] == c && s[i + 1] == c)
			return s + i;
	return NULL;
}

cu_template *cu_template_parse(const char *name, const char *text, size_t len, char *err,
                               size_t errlen)
{
	size_t open[CU_TEMPLATE_DEPTH_MAX];
	size_t depth = 0, p = 0, line = 1;
	cu_template *t = calloc(1, sizeof(*t));

	if (err && errlen)
		err[0] = '\0';
	if (!t || !(t->name = strdup(name ? name : "?"))) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (len > CU_TEMPLATE_SIZE_MAX) {
		parse_error(t, 1, err, errlen, "over %d bytes", CU_TEMPLATE_SIZE_MAX);
		goto fail;
	}
	if (memchr(text, '\0', len)) {
		parse_error(
		    t, 1 + newlines(text, (size_t)((const char *)memchr(text, '\0', len) - text)),
		    err, errlen, "a NUL byte");
		goto fail;
	}
	if (!(t->text = malloc(len + 1)))
		goto nomem;
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	text = t->text;

	while (p < len) {
		const char *q = find2(text, p, len, '{'), *r;
		size_t tag, inner, n, at;
		node_kind kind;

		if (!q) {
			if (!add_node(t, NODE_TEXT, p, len - p, line, NULL))
				goto nomem;
			break;
		}
		tag = (size_t)(q - text);
		if (tag > p && !add_node(t, NODE_TEXT, p, tag - p, line, NULL))
			goto nomem;
		line += newlines(text + p, tag - p);
		r = find2(text, tag + 2, len, '}');
		if (!r) {
			parse_error(t, line, err, errlen, "a tag without its '}}'");
			goto fail;
		}
		inner = tag + 2;
		n = (size_t)(r - text) - inner;
		p = (size_t)(r - text) + 2;
		if (n > 0 && text[inner] == '!') {
			line += newlines(text + tag, p - tag);
			continue;
		}
		if (n > 0 && (text[inner] == '{' || text[inner] == '&')) {
			parse_error(t, line, err, errlen,
			            "'{{%c' (unescaped output is not offered)", text[inner]);
			goto fail;
		}
		kind = NODE_VAR;
		if (n > 0 && (text[inner] == '#' || text[inner] == '^' || text[inner] == '/')) {
			kind = text[inner] == '#' ? NODE_SECTION : NODE_INVERTED;
			if (text[inner] == '/')
				kind = NODE_TEXT; /* a close: no node of its own */
			inner++;
			n--;
		} else if (n > 0 && punctuation(text[inner])) {
			parse_error(t, line, err, errlen, "an unknown kind of tag");
			goto fail;
		}
		while (n > 0 && (text[inner] == ' ' || text[inner] == '\t'))
			inner++, n--;
		while (n > 0 && (text[inner + n - 1] == ' ' || text[inner + n - 1] == '\t'))
			n--;
		if (!name_ok(text + inner, n)) {
			parse_error(
			    t, line, err, errlen,
			    "a bad name (want '.' or [a-z0-9_]+ joined by dots, at most %d bytes)",
			    CU_TEMPLATE_NAME_MAX);
			goto fail;
		}
		if (kind == NODE_TEXT) {
			const node *o;

			if (depth == 0) {
				parse_error(t, line, err, errlen, "'{{/%.*s}}' closes no section",
				            (int)n, text + inner);
				goto fail;
			}
			o = &t->nodes[open[depth - 1]];
			if (o->len != n || memcmp(text + o->off, text + inner, n)) {
				parse_error(t, line, err, errlen,
				            "'{{/%.*s}}' closes section '%.*s'", (int)n,
				            text + inner, (int)o->len, text + o->off);
				goto fail;
			}
			t->nodes[open[--depth]].end = t->n;
		} else if (kind == NODE_VAR) {
			if (!add_node(t, kind, inner, n, line, NULL))
				goto nomem;
		} else {
			if (depth == CU_TEMPLATE_DEPTH_MAX) {
				parse_error(t, line, err, errlen, "sections nested over %d deep",
				            CU_TEMPLATE_DEPTH_MAX);
				goto fail;
			}
			if (!add_node(t, kind, inner, n, line, &at))
				goto nomem;
			open[depth++] = at;
		}
		line += newlines(text + tag, p - tag);
	}
	if (depth > 0) {
		const node *o = &t->nodes[open[depth - 1]];

		parse_error(t, o->line, err, errlen, "unclosed section '%.*s'", (int)o->len,
		            text + o->off);
		goto fail;
	}
	return t;
nomem:
	parse_error(t, line, err, errlen, "out of memory");
fail:
	cu_template_free(t);
	return NULL;
}

/* ---- rendering */

typedef struct render {
	const cu_template *t;
	cu_template_out *out;
	const json_t *ctx[CU_TEMPLATE_DEPTH_MAX + 1];
	size_t depth; /* contexts on the stack; ctx[depth - 1] is the innermost */
	size_t steps;
} render;

static cu_result out_append(cu_template_out *o, const char *s, size_t n)
{
	if (n > o->max - o->len)
		return CU_ERR_TOO_LARGE;
	if (!o->buf || o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : OUT_FIRST_CAP;
		char *buf;

		while (cap < o->len + n + 1 && cap <= o->max)
			cap *= 2;
		if (cap > o->max + 1)
			cap = o->max + 1;
		if (!(buf = malloc(cap)))
			return CU_ERR_NOMEM;
		if (o->buf) {
			memcpy(buf, o->buf, o->len);
			sodium_memzero(o->buf, o->cap);
			free(o->buf);
		}
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return CU_OK;
}

/* The escape of one byte, or NULL when it stands for itself. */
static const char *escape_of(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '`':
		return "&#96;";
	case '=':
		return "&#61;";
	case '\0':
		return "&#65533;"; /* a NUL (JSON's \u0000) is what HTML parses it as: U+FFFD */
	default:
		return NULL;
	}
}

static cu_result out_escaped(cu_template_out *o, const char *s, size_t n)
{
	size_t from = 0;
	cu_result rc;

	for (size_t i = 0; i < n; i++) {
		const char *e = escape_of((unsigned char)s[i]);

		if (!e)
			continue;
		if ((rc = out_append(o, s + from, i - from)) != CU_OK ||
		    (rc = out_append(o, e, strlen(e))) != CU_OK)
			return rc;
		from = i + 1;
	}
	return out_append(o, s + from, n - from);
}

/* The value a name stands for in the current contexts, or NULL when missing. */
static const json_t *lookup(const render *r, const char *name, size_t n)
{
	const json_t *v = NULL;
	size_t seg = 0;

	if (n == 1 && name[0] == '.')
		return r->ctx[r->depth - 1];
	while (seg < n && name[seg] != '.')
		seg++;
	for (size_t k = r->depth; k-- > 0;)
		if (json_is_object(r->ctx[k]) && (v = json_object_getn(r->ctx[k], name, seg)))
			break;
	while (v && seg < n) {
		size_t from = seg + 1;

		seg = from;
		while (seg < n && name[seg] != '.')
			seg++;
		v = json_is_object(v) ? json_object_getn(v, name + from, seg - from) : NULL;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	default:
		return false;
	}
}

static cu_result print_value(cu_template_out *o, const json_t *v)
{
	char num[NUMBER_MAX];

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return out_escaped(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return out_escaped(o, num, strlen(num));
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		return out_escaped(o, num, strlen(num));
	case JSON_TRUE:
		return out_append(o, "true", strlen("true"));
	case JSON_FALSE:
		return out_append(o, "false", strlen("false"));
	case JSON_NULL:
		return CU_OK;
	default:
		return CU_ERR_INVALID_ARGUMENT; /* an object or array is no printable value */
	}
}

static cu_result step(render *r)
{
	return ++r->steps > CU_TEMPLATE_STEPS_MAX ? CU_ERR_TOO_LARGE : CU_OK;
}

/* Renders nodes [from, to) with the contexts the stack holds; recursion is one level per section. */
static cu_result render_range(render *r, size_t from, size_t to)
{
	const cu_template *t = r->t;
	cu_result rc = CU_OK;
	size_t i = from;

	while (i < to) {
		const node *nd = &t->nodes[i];
		const json_t *v;

		if ((rc = step(r)) != CU_OK)
			return rc;
		switch (nd->kind) {
		case NODE_TEXT:
			rc = out_append(r->out, t->text + nd->off, nd->len);
			i++;
			break;
		case NODE_VAR:
			rc = print_value(r->out, lookup(r, t->text + nd->off, nd->len));
			i++;
			break;
		case NODE_SECTION:
			v = lookup(r, t->text + nd->off, nd->len);
			if (json_is_array(v)) {
				for (size_t k = 0; rc == CU_OK && k < json_array_size(v); k++) {
					r->ctx[r->depth++] = json_array_get(v, k);
					if ((rc = step(r)) == CU_OK)
						rc = render_range(r, i + 1, nd->end);
					r->depth--;
				}
			} else if (truthy(v)) {
				r->ctx[r->depth++] = v;
				rc = render_range(r, i + 1, nd->end);
				r->depth--;
			}
			i = nd->end;
			break;
		case NODE_INVERTED:
			if (!truthy(lookup(r, t->text + nd->off, nd->len)))
				rc = render_range(r, i + 1, nd->end);
			i = nd->end;
			break;
		}
		if (rc != CU_OK)
			return rc;
	}
	return CU_OK;
}

cu_result cu_template_render(const cu_template *t, const json_t *data, cu_template_out *out)
{
	render r = {.t = t, .out = out, .depth = 1};
	size_t start = out->len;
	cu_result rc;

	r.ctx[0] = data;
	rc = render_range(&r, 0, t->n);
	if (rc == CU_OK && !out->buf)
		rc = out_append(out, "", 0);
	if (rc != CU_OK && out->buf) {
		sodium_memzero(out->buf + start, out->cap - start);
		out->len = start;
	}
	return rc;
}
