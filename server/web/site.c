/*
 * server/web/site.c — the site directory loaded at start: templates,
 * messages per language, static files (rules in site.h).
 */
#include "web/site.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file_read.h"

#define PATH_MAX_LEN 1024

struct static_file {
	char name[CU_WEB_NAME_MAX];
	char *data;
	size_t len;
	const char *type;
};

struct cu_web_site {
	char names[CU_WEB_TEMPLATES_MAX][CU_WEB_NAME_MAX];
	cu_template *templates[CU_WEB_TEMPLATES_MAX];
	size_t ntemplates;
	json_t *messages[CU_WEB_LANGS];
	struct static_file statics[CU_WEB_STATIC_MAX];
	size_t nstatics;
};

static const char *const langs[CU_WEB_LANGS] = CU_WEB_LANG_LIST;

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* A file name the site accepts: [A-Za-z0-9_.-], not starting with a dot, short enough. */
static bool plain_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) >= CU_WEB_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* The sorted plain names in dir ending in suffix ("" for any); -1 when dir cannot be read. */
static int list_dir(const char *dir, const char *suffix, char (*out)[CU_WEB_NAME_MAX], size_t max,
                    size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!plain_name(e->d_name) || (*suffix && !ends_with(e->d_name, suffix)))
			continue;
		if (*n == max) {
			closedir(d);
			errno = EMFILE;
			return -1;
		}
		/* plain_name checked the length: it fits, with its NUL. */
		memcpy(out[(*n)++], e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	qsort(out, *n, CU_WEB_NAME_MAX, (int (*)(const void *, const void *))strcmp);
	return 0;
}

static cu_result load_templates(cu_web_site *s, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX_LEN];
	size_t n;

	snprintf(path, sizeof(path), "%s/templates", dir);
	if (list_dir(path, ".html", s->names, CU_WEB_TEMPLATES_MAX, &n)) {
		snprintf(err, errlen, "web: cannot list %s: %s", path, strerror(errno));
		return CU_ERR_IO;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *text;

		snprintf(path, sizeof(path), "%s/templates/%s", dir, s->names[i]);
		text = cu_file_read_bounded(path, CU_TEMPLATE_SIZE_MAX, &len);
		if (!text) {
			snprintf(err, errlen, "web: cannot read %s: %s", path, strerror(errno));
			return CU_ERR_IO;
		}
		s->templates[i] = cu_template_parse(s->names[i], text, len, err, errlen);
		free(text);
		if (!s->templates[i])
			return CU_ERR_INVALID_ARGUMENT;
		s->names[i][strlen(s->names[i]) - strlen(".html")] = '\0';
		s->ntemplates = i + 1;
	}
	if (!cu_web_template(s, "_head") || !cu_web_template(s, "_foot")) {
		snprintf(err, errlen, "web: %s/templates lacks _head.html or _foot.html", dir);
		return CU_ERR_INVALID_ARGUMENT;
	}
	return CU_OK;
}

/* Merges every dir/locales/LANG/NAME.json into one object of strings. */
static cu_result load_locale(cu_web_site *s, const char *dir, int lang, char *err, size_t errlen)
{
	char path[PATH_MAX_LEN];
	char names[CU_WEB_TEMPLATES_MAX][CU_WEB_NAME_MAX];
	size_t n;

	s->messages[lang] = json_object();
	if (!s->messages[lang])
		return CU_ERR_NOMEM;
	snprintf(path, sizeof(path), "%s/locales/%s", dir, langs[lang]);
	if (list_dir(path, ".json", names, CU_WEB_TEMPLATES_MAX, &n)) {
		snprintf(err, errlen, "web: cannot list %s: %s", path, strerror(errno));
		return CU_ERR_IO;
	}
	for (size_t i = 0; i < n; i++) {
		json_error_t jerr;
		const char *msg;
		json_t *file, *v;
		size_t len;
		char *text;

		snprintf(path, sizeof(path), "%s/locales/%s/%s", dir, langs[lang], names[i]);
		text = cu_file_read_bounded(path, CU_WEB_LOCALE_SIZE, &len);
		if (!text) {
			snprintf(err, errlen, "web: cannot read %s: %s", path, strerror(errno));
			return CU_ERR_IO;
		}
		file = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		free(text);
		if (!json_is_object(file)) {
			snprintf(err, errlen, "web: %s: %s", path,
			         file ? "expected an object of strings" : jerr.text);
			json_decref(file);
			return CU_ERR_INVALID_ARGUMENT;
		}
		json_object_foreach(file, msg, v)
		{
			if (!json_is_string(v) || json_object_get(s->messages[lang], msg)) {
				snprintf(err, errlen, "web: %s: message '%.64s' %s", path, msg,
				         json_is_string(v) ? "is defined twice"
				                           : "is not a string");
				json_decref(file);
				return CU_ERR_INVALID_ARGUMENT;
			}
			json_object_set(s->messages[lang], msg, v);
		}
		json_decref(file);
	}
	return CU_OK;
}

static const char *static_type(const char *name)
{
	static const struct {
		const char *suffix, *type;
	} types[] = {
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (ends_with(name, types[i].suffix))
			return types[i].type;
	return NULL;
}

static cu_result load_statics(cu_web_site *s, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX_LEN];
	char names[CU_WEB_STATIC_MAX][CU_WEB_NAME_MAX];
	size_t n;

	snprintf(path, sizeof(path), "%s/static", dir);
	if (list_dir(path, "", names, CU_WEB_STATIC_MAX, &n)) {
		snprintf(err, errlen, "web: cannot list %s: %s", path, strerror(errno));
		return CU_ERR_IO;
	}
	for (size_t i = 0; i < n; i++) {
		struct static_file *f = &s->statics[s->nstatics];

		f->type = static_type(names[i]);
		if (!f->type)
			continue;
		snprintf(path, sizeof(path), "%s/static/%s", dir, names[i]);
		f->data = cu_file_read_bounded(path, CU_WEB_STATIC_SIZE, &f->len);
		if (!f->data) {
			snprintf(err, errlen, "web: cannot read %s: %s", path, strerror(errno));
			return CU_ERR_IO;
		}
		snprintf(f->name, sizeof(f->name), "%s", names[i]);
		s->nstatics++;
	}
	return CU_OK;
}

cu_result cu_web_site_load(const char *dir, cu_web_site **out, char *err, size_t errlen)
{
	cu_web_site *s = calloc(1, sizeof(*s));
	cu_result rc;

	*out = NULL;
	if (!s)
		return CU_ERR_NOMEM;
	rc = load_templates(s, dir, err, errlen);
	for (int l = 0; rc == CU_OK && l < CU_WEB_LANGS; l++)
		rc = load_locale(s, dir, l, err, errlen);
	/* Every language says everything English says. */
	for (int l = 1; rc == CU_OK && l < CU_WEB_LANGS; l++) {
		const char *msg;
		json_t *v;

		json_object_foreach(s->messages[0], msg, v)
		{
			if (!json_object_get(s->messages[l], msg)) {
				snprintf(err, errlen, "web: locale '%s' lacks message '%.64s'",
				         langs[l], msg);
				rc = CU_ERR_INVALID_ARGUMENT;
				break;
			}
		}
	}
	if (rc == CU_OK)
		rc = load_statics(s, dir, err, errlen);
	if (rc) {
		cu_web_site_free(s);
		return rc;
	}
	*out = s;
	return CU_OK;
}

void cu_web_site_free(cu_web_site *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntemplates; i++)
		cu_template_free(s->templates[i]);
	for (int l = 0; l < CU_WEB_LANGS; l++)
		json_decref(s->messages[l]);
	for (size_t i = 0; i < s->nstatics; i++)
		free(s->statics[i].data);
	free(s);
}

const cu_template *cu_web_template(const cu_web_site *s, const char *name)
{
	for (size_t i = 0; i < s->ntemplates; i++)
		if (!strcmp(s->names[i], name))
			return s->templates[i];
	return NULL;
}

const json_t *cu_web_messages(const cu_web_site *s, int lang)
{
	return s->messages[lang >= 0 && lang < CU_WEB_LANGS ? lang : 0];
}

const char *cu_web_static(const cu_web_site *s, const char *name, size_t *len, const char **type)
{
	for (size_t i = 0; i < s->nstatics; i++)
		if (!strcmp(s->statics[i].name, name)) {
			*len = s->statics[i].len;
			*type = s->statics[i].type;
			return s->statics[i].data;
		}
	return NULL;
}
