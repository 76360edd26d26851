/*
 * server/web/site.h — the web site's files, loaded once when the server
 * starts: the page templates, the messages of each language, the static
 * files (style sheet, scripts, images).
 *
 * A site directory (CU_WEB_DIR, the repository's web/, unless
 * [server] web_dir names another) holds:
 *
 *   templates/NAME.html   page templates (server/web/template.h's syntax);
 *                         _head.html and _foot.html frame every page
 *   locales/LANG/NAME.json messages: flat objects of key -> text, merged per
 *                         language; a key defined twice is an error, and
 *                         every language must define the keys of English
 *   static/NAME           served as /static/NAME (.css .js .svg .png .ico)
 *
 * Anything wrong (a template that does not parse, a message missing in one
 * language, a file over its bound) stops the start with one line naming
 * the file.  After loading, the site is read-only: any thread may use it.
 */
#ifndef CU_WEB_SITE_H
#define CU_WEB_SITE_H

#include <jansson.h>
#include <stddef.h>

#include "util/result.h"
#include "web/template.h"

#define CU_WEB_TEMPLATES_MAX 128          /* template files in one site */
#define CU_WEB_STATIC_MAX    32           /* static files in one site */
#define CU_WEB_STATIC_SIZE   (512 * 1024) /* the largest static file */
#define CU_WEB_LOCALE_SIZE   (256 * 1024) /* the largest messages file */
#define CU_WEB_NAME_MAX      64           /* a file name in the site, with its NUL */
#define CU_WEB_ERR_MAX       512          /* a load error: one line */

/* The languages pages come in, English first (the default and the reference). */
#define CU_WEB_LANGS 2
#define CU_WEB_LANG_LIST                                                                           \
	{                                                                                          \
		"en", "ja"                                                                         \
	}

typedef struct cu_web_site cu_web_site;

/*
 * Loads the site in dir.  CU_OK with *out set (free with cu_web_site_free),
 * or an error with one line in err.
 */
CU_WARN_UNUSED cu_result cu_web_site_load(const char *dir, cu_web_site **out, char *err,
                                          size_t errlen);
void cu_web_site_free(cu_web_site *site);

/* The template called name ("home" for templates/home.html), or NULL. */
const cu_template *cu_web_template(const cu_web_site *site, const char *name);
/* The messages of language lang (an index into CU_WEB_LANG_LIST). */
const json_t *cu_web_messages(const cu_web_site *site, int lang);
/*
 * The static file called name: its bytes, length and Content-Type; NULL
 * when there is none.
 */
const char *cu_web_static(const cu_web_site *site, const char *name, size_t *len,
                          const char **type);

#endif
