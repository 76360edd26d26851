/*
 * src/ctx/ctx.h — one open data directory: configuration, policy, master
 * keys, store and audit chain together.
 *
 * A data directory (default ./var, or $CUSTODIAN_DATA) holds:
 *   custodian.conf   settings (config.h)
 *   policy.json      the machine policy in force (policy.h)
 *   master.key       master keys, mode 0600 (vault.h)
 *   custodian.db     the SQLite store (+ -wal, -shm)
 *   audit.checkpoint the newest signed checkpoint of the audit head
 *                    (audit/checkpoint.h)
 *   keyring          the member key tree, sealed under the master key
 *                    (vault/keyring.h); made at the first open, and its
 *                    making recorded in the store, which from then on
 *                    refuses to open without it
 *
 * Transactions: cu_tx_begin / cu_tx_commit / cu_tx_rollback wrap the store
 * transaction and the audit chain's pending head together, and nest: an
 * inner level is a savepoint, so an inner rollback undoes only its own
 * writes and audit entries and the batch around it goes on; only the
 * outermost commit commits.  Library functions that write open their own
 * level, so a caller can batch many registrations — or, in the server's
 * writer, many requests — into one durable commit.
 *
 * A cu_ctx belongs to one thread.
 */
#ifndef CUSTODIAN_CTX_H
#define CUSTODIAN_CTX_H

#include "audit/audit.h"
#include "util/config.h"
#include "policy/policy.h"
#include "util/result.h"
#include "store/store.h"
#include "vault/vault.h"

typedef struct cu_ctx {
	char *dir;
	cu_config config;
	cu_policy *policy;
	cu_vault *vault;
	cu_store *store;
	cu_audit *audit;
	int tx_depth;
	int tx_failed; /* a savepoint could not be undone: the commit must fail */
	/*
	 * An erasure was written: the outermost commit checkpoints the log so
	 * the erased row's old pages do not linger in it (members.h).
	 */
	bool checkpoint_due;
	/*
	 * Set by a front end that appends entries (the command line, the
	 * server): cu_ctx_close then signs a checkpoint of the audit head if
	 * the chain moved since the newest one, into the store and into
	 * CU_AUDIT_CHECKPOINT_FILE in dir (audit/checkpoint.h).  A failure is
	 * handed to `warn` (may be NULL) as one line without personal data.
	 */
	bool audit_checkpoint_at_close;
	void (*warn)(const char *line);
	cu_audit_mark marks[CU_STORE_SAVEPOINTS_MAX + 1];
	/* Members erased in the open transaction (cu_ctx_shred_after_commit). */
	char (*shred)[CU_ID_LEN + 1];
	size_t nshred, shred_cap;
} cu_ctx;

/*
 * Creates DIR (mode 0700) with a default config, the given policy file copied
 * in (or the built-in default when policy_src is NULL), a new master key
 * (0600) and an empty, migrated store.  CU_ERR_EXISTS if DIR exists and is
 * not empty, or if the store custodian.store names (the environment's) holds
 * an audit chain already: another directory's, left as it was.  err gets one
 * line on failure.
 */
CU_WARN_UNUSED cu_result cu_ctx_init_dir(const char *dir, const char *policy_src, char *err,
                                         size_t errlen);
/*
 * Opens an initialised DIR.  Free with cu_ctx_close().  The settings are
 * DIR/custodian.conf under the CUSTODIAN_SECTION_KEY environment variables
 * (cu_config_resolve); a refused one is CU_ERR_CONFIG, err naming its source.
 */
CU_WARN_UNUSED cu_result cu_ctx_open(const char *dir, cu_ctx **out, char *err, size_t errlen);
/* The same, with flags over the environment (`custodian serve --server.threads 8`); may be NULL. */
CU_WARN_UNUSED cu_result cu_ctx_open_with(const char *dir, const cu_config_flags *flags,
                                          cu_ctx **out, char *err, size_t errlen);
/* NULL is a harmless no-op. */
void cu_ctx_close(cu_ctx *ctx);
/*
 * Records `doc` (the text of p, the policy in force) as a published
 * version, now, if its version is new: CU_OK if already recorded with the
 * same content, CU_ERR_CONFLICT if recorded with other content (a changed
 * policy needs a new version).  cu_ctx_open calls it, so editing
 * policy.json and restarting publishes; the server calls it when SIGHUP
 * reloads the policy.  Publishing by an officer (members notified) is
 * cu_versions_publish (domain/versions.h).
 */
CU_WARN_UNUSED cu_result cu_ctx_policy_record(cu_ctx *ctx, const cu_policy *p, const char *doc,
                                              size_t len);
/* The path of DIR's audit checkpoint file into out. */
void cu_ctx_audit_checkpoint_path(const cu_ctx *ctx, char *out, size_t outlen);

/*
 * Inside a transaction: once the outermost commit has made the erasure of
 * `member` durable, puncture the member's leaves in the keyring
 * (vault/keyring.h), so no key left anywhere opens the member's data key,
 * in this store or in any backup of it.  A rollback forgets it.
 */
CU_WARN_UNUSED cu_result cu_ctx_shred_after_commit(cu_ctx *ctx, const char *member);

CU_WARN_UNUSED cu_result cu_tx_begin(cu_ctx *ctx);
CU_WARN_UNUSED cu_result cu_tx_commit(cu_ctx *ctx);
void cu_tx_rollback(cu_ctx *ctx);

/* Microseconds since the epoch (wall clock). */
int64_t cu_now_us(void);

#endif
