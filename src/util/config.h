/*
 * src/util/config.h — the configuration file, DIR/custodian.conf (INI, inih).
 *
 * All settings are one declarative table in src/util/config.c (name, type, where
 * it lands, default, bounds, whether SIGHUP may change it); the same table
 * validates the file, fills the defaults, writes the default file, prints
 * `custodian config --help` and generates docs/configuration.md.  Unknown keys and out-of-range
 * values are errors naming the file and the key.
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

typedef struct cu_config {
	char mode[CU_CONFIG_WORD_BYTES];     /* "development" or "production" */
	char policy[CU_CONFIG_PATH_BYTES];   /* policy file, relative to the data dir */
	char store[CU_CONFIG_URL_BYTES];     /* store url; "" = sqlite:DIR/custodian.db */
	char listen[CU_CONFIG_LISTEN_BYTES]; /* serve: address:port */
	unsigned threads;                    /* serve: network threads */
	unsigned session_ttl_min;            /* serve: member session lifetime, minutes */
	unsigned hash_threads;               /* serve: Argon2id threads */
	unsigned max_connections;            /* serve: open connections at once */
	unsigned connections_per_address;    /* serve: from one address at once; 0 = no limit */
	unsigned request_timeout_s;          /* serve: seconds to deliver a whole request */
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
	char backup_dir
	    [CU_CONFIG_PATH_BYTES]; /* backup: where backups go, relative to the data dir */
	unsigned backup_keep_count; /* backup: prune keeps the newest this many */
	unsigned backup_keep_days;  /* backup: and every one younger than this */
	unsigned backup_level;      /* backup: zstd compression level */
	unsigned backup_threads;    /* backup: zstd worker threads; 0 = in the caller */
} cu_config;

/* Fills the defaults. */
void cu_config_defaults(cu_config *c);
/*
 * Reads path over the defaults.  A missing file is not an error (defaults
 * stand).  CU_ERR_CONFIG with "FILE: key 'section.k': what" (or "FILE:LINE: syntax error").
 * Production mode refuses an Argon2id cost below the documented minimum.
 */
CU_WARN_UNUSED cu_result cu_config_load(const char *path, cu_config *c, char *err, size_t errlen);
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
};
/*
 * Writes the reference of every setting, from the one table: section.key,
 * type (string, or integer with its bounds), default, whether SIGHUP may
 * change it, and what it means.  The Markdown form is the committed
 * docs/configuration.md, introduction included (ctest docs/configuration
 * fails when the two differ).
 */
void cu_config_describe(FILE *f, enum cu_config_format format);

#endif
