/*
 * fuzz_template — the web pages' renderer (server/web/template.c).  The
 * input is a template, a NUL byte, then JSON data (no NUL: all template).
 *
 * 1. The template as given is parsed (a refusal must be one line naming
 *    it) and rendered over the data and over a data object whose strings
 *    are the fuzz bytes themselves: nothing may crash, leak or run away.
 * 2. The same template with every byte that HTML gives meaning to
 *    (& < > " ' ` =) removed is rendered over the same data: then no such
 *    byte can come from the template's own text, so the output must hold
 *    no < > " ' ` = or NUL at all, and every & must begin one of the renderer's
 *    escapes.  A value that got through unescaped breaks this.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "web/template.h"

/* A small bound keeps each input fast; the bound itself is under test too. */
#define FUZZ_OUT_MAX (64 * 1024)

static const char *const escapes[] = {"&amp;", "&lt;",  "&gt;",  "&quot;",
                                      "&#39;", "&#96;", "&#61;", "&#65533;"};

static void check_inert(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		if (s[i] == '\0' || strchr("<>\"'`=", s[i]))
			abort();
		if (s[i] != '&')
			continue;
		for (size_t k = 0; k < sizeof(escapes) / sizeof(escapes[0]); k++)
			if (!strncmp(s + i, escapes[k], strlen(escapes[k])))
				known = true;
		if (!known)
			abort();
	}
}

static void render_all(const cu_template *t, json_t *const *data, size_t ndata, bool inert)
{
	for (size_t d = 0; d < ndata; d++) {
		cu_template_out out;
		cu_result rc;

		if (!data[d])
			continue;
		cu_template_out_init(&out, FUZZ_OUT_MAX);
		rc = cu_template_render(t, data[d], &out);
		if (rc == CU_OK) {
			if (!out.buf || out.len > FUZZ_OUT_MAX || out.buf[out.len] != '\0')
				abort();
			if (inert)
				check_inert(out.buf, out.len);
		} else if (rc != CU_ERR_INVALID_ARGUMENT && rc != CU_ERR_TOO_LARGE &&
		           rc != CU_ERR_NOMEM) {
			abort();
		} else if (out.len != 0) {
			abort();
		}
		cu_template_out_release(&out);
	}
}

static cu_template *parse(const char *text, size_t len)
{
	char err[CU_TEMPLATE_ERR_MAX];
	cu_template *t = cu_template_parse("fuzz.html", text, len, err, sizeof(err));

	if (!t &&
	    (strncmp(err, "template 'fuzz.html' line ", strlen("template 'fuzz.html' line ")) ||
	     strchr(err, '\n')))
		abort();
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	json_t *d[2] = {NULL, NULL}, *s, *str;
	char *stripped = malloc(tlen + 1);
	size_t slen = 0;
	json_error_t jerr;
	cu_template *t;

	if (!stripped)
		abort();
	if (nul)
		d[0] = json_loadb((const char *)nul + 1, size - tlen - 1,
		                  JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	/* The fuzz bytes as strings, at every name the template might use and in arrays. */
	str = json_stringn(nul ? (const char *)nul + 1 : text, nul ? size - tlen - 1 : tlen);
	if (!str)
		str = json_string("\"><script>alert(1)</script>&'`=");
	s = json_object();
	for (size_t i = 0; i < tlen; i++) {
		/* Every run of name characters in the template is a key. */
		size_t j = i;

		while (j < tlen && ((text[j] >= 'a' && text[j] <= 'z') ||
		                    (text[j] >= '0' && text[j] <= '9') || text[j] == '_'))
			j++;
		if (j > i && j - i <= CU_TEMPLATE_NAME_MAX)
			json_object_setn(s, text + i, j - i, str);
		i = j;
	}
	json_object_set_new(s, "list", json_pack("[OO]", str, str));
	json_object_set_new(s, "obj", json_pack("{sO}", "s", str));
	d[1] = s;

	if ((t = parse(text, tlen))) {
		render_all(t, d, 2, false);
		cu_template_free(t);
	}
	for (size_t i = 0; i < tlen; i++)
		if (!strchr("&<>\"'`=", text[i]))
			stripped[slen++] = text[i];
	if ((t = parse(stripped, slen))) {
		render_all(t, d, 2, true);
		cu_template_free(t);
	}
	json_decref(d[0]);
	json_decref(d[1]);
	json_decref(str);
	free(stripped);
	return 0;
}
