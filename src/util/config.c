/*
 * src/util/config.c — custodian.conf: one declarative table drives parsing,
 * defaults, validation, the default file and the reference.
 */
#include "util/config.h"

#include "util/text.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Production refuses an Argon2id cost below these (OWASP's floor for Argon2id). */
#define WHY_BYTES             128 /* why one setting's value is refused: its bounds or its words */
#define ORIGIN_BYTES          320 /* where a value came from: the file's path, a variable, a flag */
#define PROD_OPSLIMIT_MIN     2ULL
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
	 * is (every login reads it), and retention.interval_seconds (its
	 * worker reads the file anew).  Not the others: the policy file's name
	 * (its content is what SIGHUP reloads; the writer uses the name),
	 * Argon2id's costs (read on the network and hashing threads without a
	 * lock, and the dummy hash of unknown accounts is made at start with
	 * them), import.batch (the command line's, read anew by every import).
	 */
	int reloadable;
	const char *help; /* one line: the default file's comment, `config --help` */
	const char *doc;  /* the manual's words (docs/configuration.md), Markdown */
} settings[] = {
#define STR(s, n, f, d, r, h, doc)                                                                 \
	{                                                                                          \
		s, #n, K_STR, offsetof(cu_config, f), sizeof(((cu_config *)0)->f), d, 0, 0, r, h,  \
		    doc                                                                            \
	}
#define NUM(s, n, k, f, d, lo, hi, r, h, doc)                                                      \
	{                                                                                          \
		s, #n, k, offsetof(cu_config, f), sizeof(((cu_config *)0)->f), d, lo, hi, r, h,    \
		    doc                                                                            \
	}
    STR("custodian", mode, mode, "development", 0,
        "development or production; production enforces minimum costs",
        "`development` or `production`; production refuses an Argon2id cost below "
        "opslimit 2 / 19456 KiB"),
    STR("custodian", policy, policy, "policy.json", 0,
        "policy file, relative to the data directory",
        "the policy file, relative to the data directory"),
    STR("custodian", store, store, "", 0, "store url; empty means sqlite:DATA/custodian.db",
        "the store URL; empty means `sqlite:DATA/custodian.db`"),
    STR("audit", chain, audit_chain, "main", 0,
        "the audit chain this process's entries go to: [a-z0-9_-], 1 to 32 characters",
        "the audit chain this process's entries go to (`[a-z0-9_-]`, 1 to 32 characters). "
        "Servers that share one database give each its own name (`web1`, `web2`) so no "
        "writer follows another's head; `custodian audit verify` checks every chain and the "
        "links between them. See `docs/scaling.md`"),
    STR("server", listen, listen, "127.0.0.1:8080", 0,
        "address:port that `custodian serve` listens on",
        "where `custodian serve` listens: a numeric ADDRESS:PORT (`[::1]:8080` for IPv6), "
        "port 1..65535; anything else, or an address in use, is one line on stderr and "
        "exit 1"),
    NUM("server", threads, K_UINT, threads, "4", 1, 64, 0, "network threads of `custodian serve`",
        "network threads (libmicrohttpd's epoll pool)"),
    NUM("server", hash_threads, K_UINT, hash_threads, "2", 1, 8, 0,
        "threads that run Argon2id for logins, off the network threads",
        "threads that run Argon2id for logins and sign-ups, off the network threads"),
    NUM("server", session_ttl_minutes, K_UINT, session_ttl_min, "720", 5, 525600, 1,
        "lifetime of a member's login session, in minutes",
        "lifetime of a member's login session, in minutes"),
    NUM("server", max_connections, K_UINT, max_connections, "1024", 16, 65536, 0,
        "open connections `custodian serve` accepts at once",
        "open connections `custodian serve` accepts at once; more wait in the kernel's "
        "backlog. Keep the process's open-file limit above it (systemd: `LimitNOFILE=`)"),
    NUM("server", connections_per_address, K_UINT, connections_per_address, "64", 0, 65536, 0,
        "open connections from one client address at once; 0: no limit (behind a proxy)",
        "open connections from one client address at once (0: no limit); the one over is "
        "closed at once. Behind a proxy every connection comes from the proxy: set 0. See "
        "`docs/operations.md`"),
    NUM("server", request_timeout_seconds, K_UINT, request_timeout_s, "10", 1, 3600, 0,
        "seconds a connection has to deliver a whole request; activity does not extend it",
        "seconds a connection has, from accept or from its previous response, to deliver "
        "a whole request — line, headers and body; activity does not extend it. An idle "
        "kept-alive connection is closed then too"),
    NUM("security", argon2_opslimit, K_U64, argon2_opslimit, "3", 1, 64, 0,
        "Argon2id passes for member passwords", "Argon2id passes for member passwords"),
    NUM("security", argon2_memlimit_kib, K_SIZE, argon2_memlimit_kib, "65536", 8, 4194304, 0,
        "Argon2id memory in KiB", "Argon2id memory in KiB"),
    NUM("security", signups_per_hour, K_UINT, signups_per_hour, "10", 1, 1000000, 0,
        "public sign-ups and e-mail changes (each can answer 409) from one client address per hour",
        "public sign-ups (`POST /v1/members` without a token) and members' e-mail address "
        "changes (`PATCH /v1/me`), together, from one client address (an IPv6 /64) per "
        "hour; past it, `429` with `Retry-After`. Raise it when many members sign up from "
        "behind one address (a campus or carrier NAT, a front proxy that hides clients' "
        "addresses). See `docs/auth.md`"),
    NUM("import", batch, K_UINT, import_batch, "10000", 1, 1000000, 0,
        "rows per import transaction", "rows per import transaction"),
    STR("notify", mode, notify_mode, "files", 0,
        "files (development: DATA/outbox/*.eml), smtp, or off (keep pending)",
        "`files` (development: each e-mail is written to `DATA/outbox/<id>.eml`, "
        "addressed to `<member-id>@members.invalid`), `smtp` (sent to `smtp_url`), or "
        "`off` (notices are kept pending, nothing is sent). See `docs/notifications.md`"),
    STR("notify", smtp_url, notify_smtp_url, "smtp://127.0.0.1:25", 0,
        "the SMTP server, smtp://HOST:PORT or smtps://HOST:PORT",
        "the SMTP server: `smtp://HOST:PORT` (STARTTLS when the server offers it) or "
        "`smtps://HOST:PORT`"),
    STR("notify", from, notify_from, "custodian@localhost", 0,
        "the From address of notification e-mails",
        "the `From:` address of notification e-mails (a plain address, no display name)"),
    STR("notify", purpose, notify_purpose, "support", 0,
        "the purpose under which a member's e-mail address is read to send",
        "the purpose of use under which the notifier reads a member's e-mail address "
        "through the access door (audited like any read)"),
    NUM("notify", max_attempts, K_UINT, notify_max_attempts, "8", 1, 100, 0,
        "delivery attempts before a notification is marked failed",
        "delivery attempts before a notification is marked `failed`; retries back off 30 "
        "s, 1 min, 2 min, ... up to 1 h"),
    NUM("notify", interval_ms, K_UINT, notify_interval_ms, "1000", 10, 3600000, 0,
        "how often the server's notifier looks for due notifications",
        "how often the server's notifier looks for due notifications"),
    NUM("requests", target_days, K_UINT, request_target_days, "14", 1, 365, 0,
        "days within which a request is answered (the policy's \"without delay\")",
        "days within which a disclosure, amendment or erasure request is answered: the "
        "policy's \"without delay\". Fixed on each request when it is filed. See "
        "`docs/requests.md`"),
    NUM("requests", hard_days, K_UINT, request_hard_days, "30", 1, 365, 0,
        "days after which an unanswered request is past the outer limit",
        "days after which an unanswered request is past the outer limit, one month (not "
        "less than `target_days`)"),
    NUM("complaints", due_days, K_UINT, complaint_due_days, "30", 1, 365, 0,
        "days within which a complaint is answered and closed",
        "days within which a complaint is answered and closed. See `docs/complaints.md`"),
    NUM("retention", interval_seconds, K_UINT, retention_interval_s, "3600", 0, 604800, 1,
        "how often the server carries out what the retention plan says is due; 0: never",
        "how often `custodian serve` carries out what the retention plan says is due (as "
        "`custodian retention run` does): dropped fields past their grace, fields whose "
        "purposes ended, inactive accounts, old records of provision; 0: never (run it "
        "from a timer instead). The rules are the policy file's `retention` section. Each "
        "pass also punctures this data directory's keyring for members erased through "
        "another machine (`docs/postgresql.md`). SIGHUP applies a change at the worker's "
        "next wake-up (within a minute). See `docs/retention.md`"),
    NUM("beacon", raw_hours, K_UINT, beacon_raw_hours, "48", 24, 720, 1,
        "hours a raw web-beacon hit is kept before only its day's aggregates remain",
        "hours a raw web-beacon hit (`GET /b.gif`, `POST /v1/beacon`) is kept; once its "
        "UTC day is over and rolled up into the daily aggregates, the retention worker "
        "deletes it past this age (at least 24, so a day is always rolled up whole). The "
        "worker runs every `[retention] interval_seconds`. See `docs/beacons.md`"),
    STR("backup", dir, backup_dir, "backups", 0,
        "where `custodian backup` writes, relative to the data directory",
        "where `custodian backup` writes without `--to` and what `custodian backup prune` "
        "prunes: a directory, relative to the data directory unless absolute (created "
        "mode 0700). See `docs/backup.md`"),
    NUM("backup", keep_count, K_UINT, backup_keep_count, "7", 1, 100000, 0,
        "`backup prune` keeps at least the newest this many backups",
        "`custodian backup prune` keeps the newest this many backups, whatever their age"),
    NUM("backup", keep_days, K_UINT, backup_keep_days, "30", 0, 36500, 0,
        "`backup prune` also keeps every backup younger than this many days",
        "`custodian backup prune` also keeps every backup younger than this many days (0: "
        "none by age); older ones beyond `keep_count` are deleted"),
    NUM("backup", level, K_UINT, backup_level, "1", 1, 19, 0,
        "zstd compression level of backups, when fast is 0",
        "the zstd compression level of backups (1 fastest .. 19 smallest) when `fast` is 0; "
        "sealed fields do not compress, so a high level costs time for little. See "
        "`docs/performance.md`"),
    NUM("backup", fast, K_UINT, backup_fast, "1", 0, 7, 0,
        "zstd's fast mode for backups (zstd --fast=N); 0: off, level applies",
        "zstd's fast mode for backups, its negative levels (`zstd --fast=N`): 1..7, faster "
        "and larger as N grows; 0 turns it off and `level` applies. 1 (the default) was "
        "10 % faster than level 1 for the same size on 1,000,000 members "
        "(`docs/performance.md`)"),
    NUM("backup", threads, K_UINT, backup_threads, "1", 0, 16, 0,
        "zstd worker threads of `custodian backup`; 0 compresses in the calling thread",
        "zstd worker threads of `custodian backup`; 0 compresses in the calling thread, "
        "1 or more overlap compression with reading and sealing"),
#undef STR
#undef NUM
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/*
 * Where each setting's value came from, so that a refusal names it: the
 * file's path, the environment variable, or the flag.  Checks that look at
 * the whole configuration (check_values) name the source of the setting
 * they refuse.
 */
enum origin { O_DEFAULT, O_FILE, O_ENV, O_FLAG };

struct origins {
	const char *path; /* the file's */
	enum origin o[NSETTINGS];
	char text[ORIGIN_BYTES]; /* origin_of's answer */
};

static void env_name(const struct setting *s, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "CUSTODIAN_%s_%s", s->section, s->name);

	for (size_t i = 0; i < o && i < len; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

static const char *origin_text(struct origins *w, size_t i)
{
	char env[CU_CONFIG_ENV_BYTES];

	switch (w->o[i]) {
	case O_ENV:
		env_name(&settings[i], env, sizeof(env));
		snprintf(w->text, sizeof(w->text), "environment variable %s", env);
		break;
	case O_FLAG:
		snprintf(w->text, sizeof(w->text), "flag --%s.%s", settings[i].section,
		         settings[i].name);
		break;
	case O_FILE:
	case O_DEFAULT:
		/* A default is refused only beside a value from the file (a cross check). */
		snprintf(w->text, sizeof(w->text), "%s", w->path);
		break;
	}
	return w->text;
}

static size_t index_of(const char *section, const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(section, settings[i].section) && !strcmp(name, settings[i].name))
			return i;
	return NSETTINGS;
}

/* "section.name" → its index, or NSETTINGS. */
static size_t index_of_key(const char *key)
{
	const char *dot = strchr(key, '.');
	char section[CU_CONFIG_KEY_BYTES];
	size_t n;

	if (!dot || (n = (size_t)(dot - key)) >= sizeof(section))
		return NSETTINGS;
	memcpy(section, key, n);
	section[n] = '\0';
	return index_of(section, dot + 1);
}

/* Where the value of section.name came from (for a message). */
static const char *origin_of(struct origins *w, const char *section, const char *name)
{
	size_t i = index_of(section, name);

	return i < NSETTINGS ? origin_text(w, i) : w->path;
}

bool cu_config_is_setting(const char *key)
{
	return index_of_key(key) < NSETTINGS;
}

void cu_config_env_name(const char *key, char *out, size_t len)
{
	size_t i = index_of_key(key);

	if (i < NSETTINGS)
		env_name(&settings[i], out, len);
	else if (len)
		out[0] = '\0';
}

cu_result cu_config_flags_add(cu_config_flags *f, const char *key, const char *value)
{
	size_t i = index_of_key(key);

	if (i == NSETTINGS || f->n == CU_CONFIG_FLAGS_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	/* A flag given twice: the last one counts, as in the file. */
	for (size_t k = 0; k < f->n; k++)
		if (!strcmp(f->v[k].key, key)) {
			f->v[k].value = value;
			return CU_OK;
		}
	f->v[f->n].key = key;
	f->v[f->n].value = value;
	f->n++;
	return CU_OK;
}

static int set_value(cu_config *c, const struct setting *s, const char *val, char *why,
                     size_t whylen)
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
	char why[WHY_BYTES];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NSETTINGS; i++) {
		int rc = set_value(c, &settings[i], settings[i].def, why, sizeof(why));

		(void)rc; /* the defaults are in range by construction */
	}
}

struct load {
	cu_config *c;
	struct origins *w;
	const char *path;
	char *err;
	size_t errlen;
	int failed;
	FILE *f;
	int line;        /* lines read so far, counted as inih counts them */
	int failed_line; /* where on_item refused a key */
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
	char why[WHY_BYTES];

	if (l->failed)
		return 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(section, settings[i].section) || strcmp(name, settings[i].name))
			continue;
		if (set_value(l->c, &settings[i], value, why, sizeof(why)) == 0) {
			l->w->o[i] = O_FILE;
			return 1;
		}
		snprintf(l->err, l->errlen, "%s: key '%s.%s': %s", l->path, section, name, why);
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
static int check_notify(const cu_config *c, struct origins *w, char *err, size_t errlen)
{
	const char *at = strchr(c->notify_from, '@');

	if (strcmp(c->notify_mode, "files") && strcmp(c->notify_mode, "smtp") &&
	    strcmp(c->notify_mode, "off")) {
		snprintf(err, errlen, "%s: key 'notify.mode': expected files, smtp or off",
		         origin_of(w, "notify", "mode"));
		return -1;
	}
	if ((strncmp(c->notify_smtp_url, "smtp://", 7) &&
	     strncmp(c->notify_smtp_url, "smtps://", 8)) ||
	    has_any(c->notify_smtp_url, "")) {
		snprintf(err, errlen,
		         "%s: key 'notify.smtp_url': expected smtp://HOST:PORT or "
		         "smtps://HOST:PORT",
		         origin_of(w, "notify", "smtp_url"));
		return -1;
	}
	if (!at || at == c->notify_from || !at[1] || strchr(at + 1, '@') ||
	    has_any(c->notify_from, "<>()[]\\,;:\"")) {
		snprintf(err, errlen,
		         "%s: key 'notify.from': expected a plain address, "
		         "like custodian@example.org",
		         origin_of(w, "notify", "from"));
		return -1;
	}
	if (!c->notify_purpose[0] || has_any(c->notify_purpose, "")) {
		snprintf(err, errlen, "%s: key 'notify.purpose': expected a purpose id",
		         origin_of(w, "notify", "purpose"));
		return -1;
	}
	return 0;
}

/* The file over what c holds (its values' origins marked in w); 0 or -1 with err set. */
static int load_file(const char *path, cu_config *c, struct origins *w, char *err, size_t errlen)
{
	struct load l = {c, w, path, err, errlen, 0, NULL, 0, 0};
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	l.f = f;
	rc = ini_parse_stream(read_line, &l, on_item, &l);
	if (ferror(f)) {
		/* e.g. a directory: unreadable is not the same as absent. */
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	/*
	 * inih goes on after an error and returns the first one's line.  A key
	 * refused after a syntax error (say, under an unclosed "[section") is a
	 * consequence of it: report the syntax error.
	 */
	if (l.failed && !(rc > 0 && rc < l.failed_line))
		return -1;
	if (rc > 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot parse", path);
		return -1;
	}
	return 0;
}

/* The environment's CUSTODIAN_SECTION_KEY variables over c. */
static int load_env(cu_config *c, struct origins *w, char *err, size_t errlen)
{
	char name[CU_CONFIG_ENV_BYTES], why[WHY_BYTES];

	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *v;

		env_name(&settings[i], name, sizeof(name));
		v = getenv(name);
		if (!v)
			continue;
		w->o[i] = O_ENV;
		if (set_value(c, &settings[i], v, why, sizeof(why))) {
			snprintf(err, errlen, "%s: key '%s.%s': %s", origin_text(w, i),
			         settings[i].section, settings[i].name, why);
			return -1;
		}
	}
	return 0;
}

/* The flags over c, in their order (cu_config_flags_add kept the last of a repeated one). */
static int load_flags(const cu_config_flags *flags, cu_config *c, struct origins *w, char *err,
                      size_t errlen)
{
	char why[WHY_BYTES];

	for (size_t k = 0; flags && k < flags->n; k++) {
		size_t i = index_of_key(flags->v[k].key);

		if (i == NSETTINGS) {
			snprintf(err, errlen,
			         "flag --%s: no such setting", /* checksrc: ok a setting's name */
			         flags->v[k].key);
			return -1;
		}
		w->o[i] = O_FLAG;
		if (set_value(c, &settings[i], flags->v[k].value, why, sizeof(why))) {
			snprintf(err, errlen, "%s: key '%s.%s': %s", origin_text(w, i),
			         settings[i].section, settings[i].name, why);
			return -1;
		}
	}
	return 0;
}

/* What no one value's bounds say: words, and settings that must agree. */
static int check_values(const cu_config *c, struct origins *w, char *err, size_t errlen)
{
	if (strcmp(c->mode, "development") && strcmp(c->mode, "production")) {
		snprintf(err, errlen,
		         "%s: key 'custodian.mode': expected development or production",
		         origin_of(w, "custodian", "mode"));
		return -1;
	}
	if (check_notify(c, w, err, errlen))
		return -1;
	/* audit/audit.h: cu_audit_chain_valid, which this layer cannot call. */
	if (!c->audit_chain[0] || strlen(c->audit_chain) > CU_CONFIG_CHAIN_MAX ||
	    strspn(c->audit_chain, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
	        strlen(c->audit_chain)) {
		snprintf(err, errlen,
		         "%s: key 'audit.chain': expected 1 to %d of a-z, 0-9, '_' and '-'",
		         origin_of(w, "audit", "chain"), CU_CONFIG_CHAIN_MAX);
		return -1;
	}
	/* A target past the outer limit would make every late request look on time. */
	if (c->request_target_days > c->request_hard_days) {
		size_t t = index_of("requests", "target_days");

		/* Named by the source of target_days, or of hard_days when target_days is the default. */
		snprintf(err, errlen,
		         "%s: key 'requests.target_days': more than requests.hard_days",
		         w->o[t] != O_DEFAULT ? origin_text(w, t)
		                              : origin_of(w, "requests", "hard_days"));
		return -1;
	}
	if (!strcmp(c->mode, "production") && (c->argon2_opslimit < PROD_OPSLIMIT_MIN ||
	                                       c->argon2_memlimit_kib < PROD_MEMLIMIT_KIB_MIN)) {
		snprintf(err, errlen,
		         "%s: production mode needs argon2_opslimit >= %llu and "
		         "argon2_memlimit_kib >= %d",
		         c->argon2_opslimit < PROD_OPSLIMIT_MIN
		             ? origin_of(w, "security", "argon2_opslimit")
		             : origin_of(w, "security", "argon2_memlimit_kib"),
		         PROD_OPSLIMIT_MIN, PROD_MEMLIMIT_KIB_MIN);
		return -1;
	}
	return 0;
}

cu_result cu_config_load(const char *path, cu_config *c, char *err, size_t errlen)
{
	struct origins w = {.path = path};

	if (load_file(path, c, &w, err, errlen) || check_values(c, &w, err, errlen))
		return CU_ERR_CONFIG;
	return CU_OK;
}

cu_result cu_config_resolve(const char *path, const cu_config_flags *flags, cu_config *c, char *err,
                            size_t errlen)
{
	struct origins w = {.path = path};

	cu_config_defaults(c);
	if (load_file(path, c, &w, err, errlen) || load_env(c, &w, err, errlen) ||
	    load_flags(flags, c, &w, err, errlen) || check_values(c, &w, err, errlen))
		return CU_ERR_CONFIG;
	return CU_OK;
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

/* The manual's words around the table (docs/configuration.md is this function's output). */
static const char doc_header[] =
    "# Configuration: `DATA/custodian.conf`, the environment, flags\n"
    "\n"
    "<!-- Generated by `custodian config --markdown` from the settings table in\n"
    "     src/util/config.c; edit the table, not this file (ctest docs/configuration). -->\n"
    "\n"
    "An INI file (parsed by inih) written with defaults by `custodian init`. Every setting is one row of the\n"
    "table in `src/util/config.c`, which also validates the file, writes the default file and prints this\n"
    "list (`custodian config --help`; this page is `custodian config --markdown`). An unknown key, a value\n"
    "out of range or a malformed number is an error naming the file and the key; a missing file means the\n"
    "defaults. A setting marked reloadable takes effect in a running server on `SIGHUP`, which re-reads\n"
    "this file (and the policy); a file that does not load, or that changes a setting not marked\n"
    "reloadable, is refused with one line on stderr and the running settings stay as they were.\n"
    "\n"
    "## Where a setting comes from\n"
    "\n"
    "Each setting `section.key` may be given in four places; the first that gives it wins:\n"
    "\n"
    "1. a flag of `custodian serve`: `--section.key VALUE` (`custodian serve --server.threads 8`;\n"
    "   `--listen ADDR:PORT` is `--server.listen`);\n"
    "2. an environment variable, `CUSTODIAN_SECTION_KEY` in upper case (the column below;\n"
    "   `CUSTODIAN_SERVER_THREADS=8`). Every command that opens the data directory reads them, not\n"
    "   only `serve`;\n"
    "3. the file `DATA/custodian.conf`;\n"
    "4. the default below.\n"
    "\n"
    "The same table checks every source alike. A refused value is one line naming where it came\n"
    "from and the key — the file's path, `environment variable CUSTODIAN_SERVER_THREADS` or\n"
    "`flag --server.threads` — never the value itself (a store URL may hold a password); `custodian\n"
    "serve` then exits with status 2 before it opens anything, another command with status 1 (as for\n"
    "any data directory it cannot open). A flag that names no setting is a usage\n"
    "error (exit 2); a misspelled environment variable is not seen, since other `CUSTODIAN_` variables\n"
    "exist (`CUSTODIAN_DATA`, `CUSTODIAN_MASTER_KEY`). On `SIGHUP` the server reads the file anew and\n"
    "puts the same environment and flags over it: they still win.\n"
    "\n"
    "| setting | type | default | reloadable | environment | meaning |\n"
    "|---|---|---|---|---|---|\n";
static const char doc_footer[] =
    "\n"
    "The master key is not configuration: it lives in `DATA/master.key` (mode 0600; a file readable by group\n"
    "or others is refused) or in the environment variable `CUSTODIAN_MASTER_KEY`. See `docs/keys.md`.\n";

/* "string", or "integer, 1..64": the kind and the bounds a value is checked against. */
static void describe_type(FILE *f, const struct setting *s)
{
	if (s->kind == K_STR)
		fputs("string", f);
	else
		fprintf(f, "integer, %llu..%llu", s->min, s->max);
}

static void describe_man(FILE *f, const struct setting *s, const char *env)
{
	fprintf(f, ".TP\n.B %s.%s\n", s->section, s->name);
	describe_type(f, s);
	fputs("; default ", f);
	cu_text_troff(f, *s->def ? s->def : "\"\"");
	fprintf(f, "; %s; environment \\fB%s\\fR, flag \\fB\\-\\-%s.%s\\fR.\n",
	        s->reloadable ? "reloadable" : "not reloadable", env, s->section, s->name);
	cu_text_troff(f, s->help);
	fputc('\n', f);
}

void cu_config_describe(FILE *f, enum cu_config_format format)
{
	char env[CU_CONFIG_ENV_BYTES];

	if (format == CU_CONFIG_MARKDOWN)
		fputs(doc_header, f);
	else if (format == CU_CONFIG_TEXT)
		fputs("settings in DATA/custodian.conf ([section] key = value), each also an\n"
		      "environment variable and a flag of `custodian serve` (flag > environment >\n"
		      "file > default):\n",
		      f);
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		env_name(s, env, sizeof(env));
		if (format == CU_CONFIG_MARKDOWN) {
			fprintf(f, "| %s.%s | ", s->section, s->name);
			describe_type(f, s);
			fprintf(f, " | %s | %s | `%s` | %s |\n", *s->def ? s->def : "(empty)",
			        s->reloadable ? "yes" : "no", env, s->doc);
			continue;
		}
		if (format == CU_CONFIG_MAN) {
			describe_man(f, s, env);
			continue;
		}
		fprintf(f, "\n  %s.%s (", s->section, s->name);
		describe_type(f, s);
		fprintf(f, "; default %s; %s)\n      %s\n      %s, --%s.%s\n",
		        *s->def ? s->def : "\"\"", s->reloadable ? "reloadable" : "not reloadable",
		        s->help, env, s->section, s->name);
	}
	if (format == CU_CONFIG_MARKDOWN)
		fputs(doc_footer, f);
}
