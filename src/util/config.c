/*
 * config.c — custodian.conf: one declarative table drives parsing,
 * defaults, validation, the default file and the reference.
 */
#include "util/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Production refuses an Argon2id cost below these (OWASP's floor for Argon2id). */
#define PROD_OPSLIMIT_MIN 2ULL
#define PROD_MEMLIMIT_KIB_MIN 19456

enum kind { K_STR, K_U64, K_SIZE, K_UINT };

static const struct setting {
	const char *section, *name;
	enum kind kind;
	size_t off, size;
	const char *def;
	unsigned long long min, max;
	/*
	 * 1: SIGHUP applies a changed value to the running server (serve.c
	 * reloads the file; cu_config_reload_check).  Only session_ttl_minutes
	 * is: every login reads it.  Not the others: the policy file's name
	 * (its content is what SIGHUP reloads; the writer uses the name),
	 * Argon2id's costs (read on the network and hashing threads without a
	 * lock, and the dummy hash of unknown accounts is made at start with
	 * them), import.batch (the command line's, read anew by every import).
	 */
	int reloadable;
	const char *help;
} settings[] = {
#define STR(s, n, f, d, r, h) {s, #n, K_STR, offsetof(cu_config, f), sizeof(((cu_config *)0)->f), d, 0, 0, r, h}
#define NUM(s, n, k, f, d, lo, hi, r, h) {s, #n, k, offsetof(cu_config, f), sizeof(((cu_config *)0)->f), d, lo, hi, r, h}
	STR("custodian", mode, mode, "development", 0,
	    "development or production; production enforces minimum costs"),
	STR("custodian", policy, policy, "policy.json", 0,
	    "policy file, relative to the data directory"),
	STR("custodian", store, store, "", 0,
	    "store url; empty means sqlite:DATA/custodian.db"),
	STR("server", listen, listen, "127.0.0.1:8080", 0,
	    "address:port that `custodian serve` listens on"),
	NUM("server", threads, K_UINT, threads, "4", 1, 64, 0,
	    "network threads of `custodian serve`"),
	NUM("server", hash_threads, K_UINT, hash_threads, "2", 1, 8, 0,
	    "threads that run Argon2id for logins, off the network threads"),
	NUM("server", session_ttl_minutes, K_UINT, session_ttl_min, "720", 5, 525600, 1,
	    "lifetime of a member's login session, in minutes"),
	NUM("server", max_connections, K_UINT, max_connections, "1024", 16, 65536, 0,
	    "open connections `custodian serve` accepts at once"),
	NUM("server", connections_per_address, K_UINT, connections_per_address, "64", 0, 65536, 0,
	    "open connections from one client address at once; 0: no limit (behind a proxy)"),
	NUM("server", request_timeout_seconds, K_UINT, request_timeout_s, "10", 1, 3600, 0,
	    "seconds a connection has to deliver a whole request; activity does not extend it"),
	NUM("security", argon2_opslimit, K_U64, argon2_opslimit, "3", 1, 64, 0,
	    "Argon2id passes for member passwords"),
	NUM("security", argon2_memlimit_kib, K_SIZE, argon2_memlimit_kib, "65536", 8,
	    4194304, 0, "Argon2id memory in KiB"),
	NUM("security", signups_per_hour, K_UINT, signups_per_hour, "10", 1, 1000000, 0,
	    "public sign-ups and e-mail changes (each can answer 409) from one client address per hour"),
	NUM("import", batch, K_UINT, import_batch, "10000", 1, 1000000, 0,
	    "rows per import transaction"),
	STR("notify", mode, notify_mode, "files", 0,
	    "files (development: DATA/outbox/*.eml), smtp, or off (keep pending)"),
	STR("notify", smtp_url, notify_smtp_url, "smtp://127.0.0.1:25", 0,
	    "the SMTP server, smtp://HOST:PORT or smtps://HOST:PORT"),
	STR("notify", from, notify_from, "custodian@localhost", 0,
	    "the From address of notification e-mails"),
	STR("notify", purpose, notify_purpose, "support", 0,
	    "the purpose under which a member's e-mail address is read to send"),
	NUM("notify", max_attempts, K_UINT, notify_max_attempts, "8", 1, 100, 0,
	    "delivery attempts before a notification is marked failed"),
	NUM("notify", interval_ms, K_UINT, notify_interval_ms, "1000", 10, 3600000, 0,
	    "how often the server's notifier looks for due notifications"),
	NUM("requests", target_days, K_UINT, request_target_days, "14", 1, 365, 0,
	    "days within which a request is answered (the policy's \"without delay\")"),
	NUM("requests", hard_days, K_UINT, request_hard_days, "30", 1, 365, 0,
	    "days after which an unanswered request is past the outer limit"),
	NUM("complaints", due_days, K_UINT, complaint_due_days, "30", 1, 365, 0,
	    "days within which a complaint is answered and closed"),
#undef STR
#undef NUM
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static int set_value(cu_config *c, const struct setting *s, const char *val,
		     char *why, size_t whylen)
{
	char *p = (char *)c + s->off;

	if (s->kind == K_STR) {
		size_t n = strlen(val);

		if (n >= s->size) {
			snprintf(why, whylen, "value longer than %zu bytes", s->size - 1);
			return -1;
		}
		memcpy(p, val, n + 1);
		return 0;
	}

	char *end;
	unsigned long long v;

	errno = 0;
	if (*val == '-' || *val == '\0') {
		snprintf(why, whylen, "expected a non-negative integer");
		return -1;
	}
	v = strtoull(val, &end, 10);
	if (errno || *end) {
		snprintf(why, whylen, "expected a non-negative integer");
		return -1;
	}
	if (v < s->min || v > s->max) {
		snprintf(why, whylen, "out of range %llu..%llu", s->min, s->max);
		return -1;
	}
	switch (s->kind) {
	case K_U64:
		*(unsigned long long *)p = v;
		break;
	case K_SIZE:
		*(size_t *)p = (size_t)v;
		break;
	case K_UINT:
		*(unsigned *)p = (unsigned)v;
		break;
	case K_STR:
		break;
	}
	return 0;
}

void cu_config_defaults(cu_config *c)
{
	char why[128];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NSETTINGS; i++) {
		int rc = set_value(c, &settings[i], settings[i].def, why, sizeof(why));

		(void)rc; /* the defaults are in range by construction */
	}
}

struct load {
	cu_config *c;
	const char *path;
	char *err;
	size_t errlen;
	int failed;
	FILE *f;
	int line;                /* lines read so far, counted as inih counts them */
	int failed_line;         /* where on_item refused a key */
};

/* fgets for inih, counting lines so that the first error in the file wins. */
static char *read_line(char *str, int num, void *stream)
{
	struct load *l = stream;
	char *s = fgets(str, num, l->f);

	if (s)
		l->line++;
	return s;
}

/* Debian's inih is built without line numbers in the handler; messages name the key. */
static int on_item(void *ud, const char *section, const char *name, const char *value)
{
	struct load *l = ud;
	char why[128];

	if (l->failed)
		return 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(section, settings[i].section) || strcmp(name, settings[i].name))
			continue;
		if (set_value(l->c, &settings[i], value, why, sizeof(why)) == 0)
			return 1;
		snprintf(l->err, l->errlen, "%s: key '%s.%s': %s", l->path, section, name,
			 why);
		l->failed = 1;
		l->failed_line = l->line;
		return 0;
	}
	snprintf(l->err, l->errlen, "%s: unknown key '%s.%s'", l->path, section, name);
	l->failed = 1;
	l->failed_line = l->line;
	return 0;
}

/* Whether s holds a byte of set, or a control or non-ASCII byte. */
static int has_any(const char *s, const char *set)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr(set, *s))
			return 1;
	return 0;
}

/*
 * [notify]: these values go into SMTP commands and mail headers, so a
 * stray space or line break must be refused here, not sent.
 */
static int check_notify(const cu_config *c, const char *path, char *err, size_t errlen)
{
	const char *at = strchr(c->notify_from, '@');

	if (strcmp(c->notify_mode, "files") && strcmp(c->notify_mode, "smtp") &&
	    strcmp(c->notify_mode, "off")) {
		snprintf(err, errlen, "%s: key 'notify.mode': expected files, smtp or off", path);
		return -1;
	}
	if ((strncmp(c->notify_smtp_url, "smtp://", 7) && strncmp(c->notify_smtp_url, "smtps://", 8)) ||
	    has_any(c->notify_smtp_url, "")) {
		snprintf(err, errlen, "%s: key 'notify.smtp_url': expected smtp://HOST:PORT or "
			 "smtps://HOST:PORT", path);
		return -1;
	}
	if (!at || at == c->notify_from || !at[1] || strchr(at + 1, '@') ||
	    has_any(c->notify_from, "<>()[]\\,;:\"")) {
		snprintf(err, errlen, "%s: key 'notify.from': expected a plain address, "
			 "like custodian@example.org", path);
		return -1;
	}
	if (!c->notify_purpose[0] || has_any(c->notify_purpose, "")) {
		snprintf(err, errlen, "%s: key 'notify.purpose': expected a purpose id", path);
		return -1;
	}
	return 0;
}

cu_result cu_config_load(const char *path, cu_config *c, char *err, size_t errlen)
{
	struct load l = {c, path, err, errlen, 0, NULL, 0, 0};
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return errno == ENOENT ? CU_OK : (snprintf(err, errlen, "%s: cannot read: %s",
							   path, strerror(errno)),
						  CU_ERR_CONFIG);
	l.f = f;
	rc = ini_parse_stream(read_line, &l, on_item, &l);
	if (ferror(f)) {
		/* e.g. a directory: unreadable is not the same as absent. */
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		return CU_ERR_CONFIG;
	}
	fclose(f);
	/*
	 * inih goes on after an error and returns the first one's line.  A key
	 * refused after a syntax error (say, under an unclosed "[section") is a
	 * consequence of it: report the syntax error.
	 */
	if (l.failed && !(rc > 0 && rc < l.failed_line))
		return CU_ERR_CONFIG;
	if (rc > 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
		return CU_ERR_CONFIG;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot parse", path);
		return CU_ERR_CONFIG;
	}
	if (strcmp(c->mode, "development") && strcmp(c->mode, "production")) {
		snprintf(err, errlen, "%s: key 'custodian.mode': expected development or production",
			 path);
		return CU_ERR_CONFIG;
	}
	if (check_notify(c, path, err, errlen))
		return CU_ERR_CONFIG;
	/* A target past the outer limit would make every late request look on time. */
	if (c->request_target_days > c->request_hard_days) {
		snprintf(err, errlen, "%s: key 'requests.target_days': more than requests.hard_days",
			 path);
		return CU_ERR_CONFIG;
	}
	if (!strcmp(c->mode, "production") &&
	    (c->argon2_opslimit < PROD_OPSLIMIT_MIN ||
	     c->argon2_memlimit_kib < PROD_MEMLIMIT_KIB_MIN)) {
		snprintf(err, errlen,
			 "%s: production mode needs argon2_opslimit >= %llu and "
			 "argon2_memlimit_kib >= %d",
			 path, PROD_OPSLIMIT_MIN, PROD_MEMLIMIT_KIB_MIN);
		return CU_ERR_CONFIG;
	}
	return CU_OK;
}

void cu_config_write_default(FILE *f)
{
	const char *section = "";

	fputs("# custodian.conf — see docs/configuration.md (or `custodian config --help`).\n", f);
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(section, settings[i].section)) {
			section = settings[i].section;
			fprintf(f, "\n[%s]\n", section);
		}
		fprintf(f, "# %s\n%s = %s\n", settings[i].help, settings[i].name, settings[i].def);
	}
}

cu_result cu_config_reload_check(const cu_config *live, const cu_config *fresh, char *err,
				 size_t errlen)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *st = &settings[i];
		const char *a = (const char *)live + st->off, *b = (const char *)fresh + st->off;
		bool same = st->kind == K_STR ? !strcmp(a, b) : !memcmp(a, b, st->size);

		if (!same && !st->reloadable) {
			snprintf(err, errlen, "'%s.%s' changes only at a restart", st->section,
				 st->name);
			return CU_ERR_CONFIG;
		}
	}
	return CU_OK;
}

void cu_config_describe(FILE *f)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		fprintf(f, "  %-10s %-23s default %-14s %s%s\n", settings[i].section,
			settings[i].name, *settings[i].def ? settings[i].def : "\"\"",
			settings[i].help, settings[i].reloadable ? " (reloadable)" : "");
}
