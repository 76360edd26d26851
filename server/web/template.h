/*
 * server/web/template.h — the web pages' one HTML renderer: a small subset
 * of Mustache over jansson values, escaping every value by construction.
 *
 * Why our own and not a library: the only C template library Debian
 * packages, ClearSilver (clearsilver-dev 0.10.5), has not been maintained
 * upstream since about 2011, and its escaping is a global mode that a
 * template or a caller can switch off, not a property of the syntax.  Here
 * there is no syntax that prints a value unescaped: no {{{name}}}, no
 * {{&name}}, no partials, no lambdas, no changing of delimiters.
 *
 * The syntax (a template is parsed once, at server start, from its file):
 *
 *   text            copied to the output byte for byte: it is the template
 *                   author's (UTF-8 and all; nothing is trimmed, so the
 *                   newline after a section tag is output too).
 *   {{name}}        the value at name, HTML-escaped: & < > " ' ` = become
 *                   &amp; &lt; &gt; &quot; &#39; &#96; &#61;, so a value is
 *                   inert in text and in a quoted attribute alike (and a
 *                   NUL, "\u0000" in JSON, becomes &#65533;).  Strings
 *                   print as they are, integers in decimal, reals as
 *                   "%.15g", true and false as the words; null or a missing
 *                   name prints nothing; an object or array is an error
 *                   (CU_ERR_INVALID_ARGUMENT), never printed.
 *   {{#name}}...{{/name}}
 *                   a section: an array repeats the block once per element,
 *                   the element being the innermost context; an object, true,
 *                   a non-empty string or a non-zero number shows the block
 *                   once with the value as the innermost context; false,
 *                   null, missing, an empty array, an empty string and zero
 *                   hide it.
 *   {{^name}}...{{/name}}
 *                   the inverse: shown once (the context unchanged) exactly
 *                   when {{#name}} would hide it.
 *   {{! comment }}  prints nothing (may span lines; may not contain "}}").
 *
 * A name is "." (the innermost context itself, e.g. each string of an
 * array) or segments of [a-z0-9_]+ joined by dots ("member.name"): the
 * first segment is looked up in the innermost context that is an object
 * holding it, falling back outward to the data given to render, as
 * Mustache does; the rest walk down from there.  Spaces inside the braces
 * around the name are allowed ("{{ name }}").
 *
 * Bounds, so neither a template nor hostile data can make unbounded work:
 * a template is at most CU_TEMPLATE_SIZE_MAX bytes with sections nested at
 * most CU_TEMPLATE_DEPTH_MAX deep and names of at most CU_TEMPLATE_NAME_MAX
 * bytes; a rendering writes at most the buffer's maximum (by default
 * CU_TEMPLATE_OUT_MAX bytes) and takes at most CU_TEMPLATE_STEPS_MAX steps
 * (a step is one tag or text run visited, so nested sections over large
 * arrays end); either one exceeded is CU_ERR_TOO_LARGE.  Rendering recurses
 * once per open section, so never deeper than CU_TEMPLATE_DEPTH_MAX.
 *
 * A parsed template is read-only: many threads may render it at once.
 */
#ifndef CU_WEB_TEMPLATE_H
#define CU_WEB_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "util/result.h"

/* The largest template text parse accepts, in bytes. */
#define CU_TEMPLATE_SIZE_MAX (256 * 1024)
/* The deepest nesting of sections ({{#a}}{{#b}}...: two). */
#define CU_TEMPLATE_DEPTH_MAX 16
/* The longest name inside a tag, dots included. */
#define CU_TEMPLATE_NAME_MAX 64
/* The default bound on one rendering's output, in bytes. */
#define CU_TEMPLATE_OUT_MAX (4 * 1024 * 1024)
/* The most tags and text runs one rendering visits. */
#define CU_TEMPLATE_STEPS_MAX (1000 * 1000)
/* A buffer for parse's error message that always holds it whole (with a name that fits). */
#define CU_TEMPLATE_ERR_MAX 256

typedef struct cu_template cu_template;

/*
 * A growable output buffer with a maximum.  Invariant: len < cap whenever
 * buf is not NULL, and buf[len] is NUL after a successful render.  It grows
 * by copying into a new allocation and wiping the old one, so no copy of
 * a rendered page (which may hold personal data) is left in freed memory.
 */
typedef struct cu_template_out {
	char *buf;  /* the text, NUL-terminated; NULL until something is written */
	size_t len; /* bytes written, the NUL not counted */
	size_t cap; /* bytes allocated */
	size_t max; /* the most len may reach */
} cu_template_out;

/* Sets o empty (allocating nothing) with the given maximum; 0 means CU_TEMPLATE_OUT_MAX. */
void cu_template_out_init(cu_template_out *o, size_t max);
/* Wipes and frees o's text and sets it empty again (max kept).  NULL is a no-op. */
void cu_template_out_release(cu_template_out *o);

/*
 * Parses len bytes of text (NUL bytes are refused) as the template called
 * name (a file name, used only in error messages).  Returns a template the
 * caller frees with cu_template_free, or NULL with one line in err (errlen
 * bytes, CU_TEMPLATE_ERR_MAX is enough) naming the template and the line:
 *   template 'page.html' line 3: unclosed section 'items'
 * Refused: a tag without its "}}", an unknown tag kind ({{>...}}, {{=...}},
 * ...), {{{ and {{& (unescaped output is not offered), a name that is not
 * "." or dotted [a-z0-9_]+ segments or is over CU_TEMPLATE_NAME_MAX, a
 * {{/name}} that closes no section or not the innermost one, a section left
 * open at the end, nesting over CU_TEMPLATE_DEPTH_MAX, text over
 * CU_TEMPLATE_SIZE_MAX.  Out of memory is also NULL ("out of memory").
 */
cu_template *cu_template_parse(const char *name, const char *text, size_t len, char *err,
                               size_t errlen);

/*
 * Renders t over data (any jansson value; usually an object) and appends
 * the text to out, which the caller initialised.  On CU_OK out->buf holds
 * the whole text, NUL-terminated.  On failure what was appended is wiped
 * and out->len is back where it was:
 *   CU_ERR_INVALID_ARGUMENT  an object or array printed as a value;
 *   CU_ERR_TOO_LARGE         the output over out->max, or over CU_TEMPLATE_STEPS_MAX steps;
 *   CU_ERR_NOMEM             out of memory.
 * Neither t nor data is changed.
 */
CU_WARN_UNUSED cu_result cu_template_render(const cu_template *t, const json_t *data,
                                            cu_template_out *out);

/* The name t was parsed under. */
const char *cu_template_name(const cu_template *t);

/* Frees t.  NULL is a no-op. */
void cu_template_free(cu_template *t);

#endif
