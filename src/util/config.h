/*
 * src/util/config.h — the configuration: DIR/custodian.conf (INI, inih), the
 * environment and the flags of `custodian serve`.
 *
 * All settings are one declarative table in src/util/config.c (name, type, where
 * it lands, default, bounds, whether SIGHUP may change it); the same table
 * validates every source, fills the defaults, writes the default file, prints
 * `custodian config --help`, generates docs/configuration.md and the
 * CONFIGURATION section of custodian(1).  A setting "section.key" may come
 * from, highest first:
 *   1. a flag:        --section.key VALUE  (`custodian serve` only; its
 *                     --listen is --server.listen);
 *   2. the environment: CUSTODIAN_SECTION_KEY, the key in upper case
 *                     (server.listen: CUSTODIAN_SERVER_LISTEN; every command
 *                     that opens the data directory reads them);
 *   3. the file DIR/custodian.conf;
 *   4. the table's default.
 * Every source is checked alike; a refused value is one line naming its
 * source (the file's path, "environment variable NAME" or "flag --KEY") and
 * the key, never the value (a store URL may hold a password).  Unknown keys
 * in the file are errors; a misspelled environment variable is not seen
 * (other CUSTODIAN_ variables exist: CUSTODIAN_DATA, CUSTODIAN_MASTER_KEY).
 */
#ifndef CUSTODIAN_CONFIG_H
#define CUSTODIAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/result.h"

#define CU_CONFIG_WORD_BYTES    16  /* a word setting (mode) and its NUL */
#define CU_CONFIG_PATH_BYTES    256 /* a file name relative to the data dir, and its NUL */
#define CU_CONFIG_URL_BYTES     512 /* a store or SMTP URL, and its NUL */
#define CU_CONFIG_LISTEN_BYTES  128 /* address:port, and its NUL */
#define CU_CONFIG_ADDRESS_BYTES 256 /* an e-mail address (From), and its NUL */
#define CU_CONFIG_PURPOSE_BYTES 48  /* a policy purpose id (CU_POLICY_ID_MAX), with room */
#define CU_CONFIG_KEY_BYTES     64  /* "section.key" or a section, and its NUL */
#define CU_CONFIG_ENV_BYTES     80  /* "CUSTODIAN_SECTION_KEY" and its NUL */
#define CU_CONFIG_FLAGS_MAX     32  /* distinct --section.key flags on one command line */
#define CU_CONFIG_CHAIN_MAX     32  /* an audit chain's name (CU_AUDIT_CHAIN_MAX) */

typedef struct cu_config {
	char mode[CU_CONFIG_WORD_BYTES];           /* "development" or "production" */
	char policy[CU_CONFIG_PATH_BYTES];         /* policy file, relative to the data dir */
	char store[CU_CONFIG_URL_BYTES];           /* store url; "" = sqlite:DIR/custodian.db */
	char audit_chain[CU_CONFIG_CHAIN_MAX + 1]; /* the audit chain of this process's entries */
	char listen[CU_CONFIG_LISTEN_BYTES];       /* serve: address:port */
	unsigned threads;                          /* serve: network threads */
	unsigned session_ttl_min;                  /* serve: member session lifetime, minutes */
	unsigned hash_threads;                     /* serve: Argon2id threads */
	unsigned max_connections;                  /* serve: open connections at once */
	unsigned connections_per_address; /* serve: from one address at once; 0 = no limit */
	unsigned request_timeout_s;       /* serve: seconds to deliver a whole request */
	unsigned long long argon2_opslimit;
	size_t argon2_memlimit_kib;
	unsigned signups_per_hour; /* serve: public sign-ups per client address per hour */
	unsigned import_batch;     /* rows per import transaction */
	char notify_mode[8];       /* notify: "files", "smtp" or "off" */
	char notify_smtp_url
	    [CU_CONFIG_URL_BYTES]; /* notify: smtp://host:port or smtps://host:port */
	char notify_from[CU_CONFIG_ADDRESS_BYTES]; /* notify: the From address */
	char notify_purpose
	    [CU_CONFIG_PURPOSE_BYTES]; /* notify: the purpose an address is read under */
	unsigned notify_max_attempts;  /* notify: attempts before a message is given up */
	unsigned notify_interval_ms;   /* notify: the server's delivery poll interval */
	unsigned request_target_days;  /* requests: the "without delay" target, in days */
	unsigned request_hard_days;    /* requests: the outer limit (one month), in days */
	unsigned complaint_due_days;   /* complaints: days to answer and close */
	unsigned retention_interval_s; /* retention: the server's worker's interval; 0 = off */
	unsigned beacon_raw_hours;     /* beacon: hours raw hits are kept (docs/beacons.md) */
	char backup_dir
	    [CU_CONFIG_PATH_BYTES]; /* backup: where backups go, relative to the data dir */
	unsigned backup_keep_count; /* backup: prune keeps the newest this many */
	unsigned backup_keep_days;  /* backup: and every one younger than this */
	unsigned backup_level;      /* backup: zstd compression level (when backup_fast is 0) */
	unsigned backup_fast;       /* backup: zstd fast mode N (level -N); 0 = off */
	unsigned backup_threads;    /* backup: zstd worker threads; 0 = in the caller */
} cu_config;

/* Fills the defaults. */
void cu_config_defaults(cu_config *c);
/*
 * Reads path over what c holds (the file alone: no environment, no flags;
 * cu_config_resolve is the whole).  A missing file is not an error (defaults
 * stand).  CU_ERR_CONFIG with "FILE: key 'section.k': what" (or "FILE:LINE: syntax error").
 * Production mode refuses an Argon2id cost below the documented minimum.
 */
CU_WARN_UNUSED cu_result cu_config_load(const char *path, cu_config *c, char *err, size_t errlen);
/*
 * Settings given as flags ("server.threads" → "8"); the strings are the
 * caller's (argv) and must outlive every cu_config_resolve that reads them.
 */
typedef struct cu_config_flags {
	size_t n;
	struct {
		const char *key, *value;
	} v[CU_CONFIG_FLAGS_MAX];
} cu_config_flags;

/* Whether key ("section.name") names a setting of the table. */
bool cu_config_is_setting(const char *key);
/* The environment variable of key into out ("" when key names no setting). */
void cu_config_env_name(const char *key, char *out, size_t len);
/*
 * Adds a flag (a repeated key: the last value counts).  CU_ERR_INVALID_ARGUMENT when
 * key names no setting or CU_CONFIG_FLAGS_MAX are there; the value is
 * checked by cu_config_resolve, which can name it as a flag.
 */
CU_WARN_UNUSED cu_result cu_config_flags_add(cu_config_flags *f, const char *key,
                                             const char *value);
/*
 * The whole configuration: the defaults, then the file at path (a missing
 * file is not an error), then the environment, then flags (may be NULL).
 * CU_ERR_CONFIG with one line in err naming the source of the refused value
 * ("PATH: key 'server.threads': out of range 1..64", "environment variable
 * CUSTODIAN_SERVER_THREADS: key ...", "flag --server.threads: key ...").
 */
CU_WARN_UNUSED cu_result cu_config_resolve(const char *path, const cu_config_flags *flags,
                                           cu_config *c, char *err, size_t errlen);
/*
 * SIGHUP: whether a running server may take fresh (a file loaded anew)
 * in place of live.  CU_OK when every setting the table does not mark
 * reloadable is the same in both; else CU_ERR_CONFIG with "'section.key'
 * changes only at a restart" in err (the first such setting), and the
 * server keeps live whole.  Applying the reloadable ones is the server's.
 */
CU_WARN_UNUSED cu_result cu_config_reload_check(const cu_config *live, const cu_config *fresh,
                                                char *err, size_t errlen);
/* Writes the commented default file (used by `custodian init`). */
void cu_config_write_default(FILE *f);
/* The forms cu_config_describe writes. */
enum cu_config_format {
	CU_CONFIG_TEXT,     /* for `custodian config --help`: two lines a setting */
	CU_CONFIG_MARKDOWN, /* the whole of docs/configuration.md (`config --markdown`) */
	CU_CONFIG_MAN,      /* troff (man(7)): one .TP paragraph a setting, for custodian(1) */
};
/*
 * Writes the reference of every setting, from the one table: section.key,
 * type (string, or integer with its bounds), default, whether SIGHUP may
 * change it, its environment variable and flag, and what it means.  The Markdown form is the committed
 * docs/configuration.md, introduction included (ctest docs/configuration
 * fails when the two differ).
 */
void cu_config_describe(FILE *f, enum cu_config_format format);

#endif
