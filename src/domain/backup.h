/*
 * src/domain/backup.h — backups of a data directory, checked and restored
 * (docs/backup.md).
 *
 * A backup is one file: the store's database, copied online as one
 * committed state (store/backup.h), compressed with zstd and sealed in the
 * container of vault/stream.h under a random file key wrapped by the
 * current backup key (DIR/backup.key).  Its manifest, in the clear and
 * authenticated by the container's final message, says what it holds —
 * counts, key ids, sizes and a BLAKE2b-256 checksum of the database, never
 * a personal value:
 *
 *   {"format": "custodian-backup", "version": 1, "id": "<backup id>",
 *    "created": "2026-12-06T18:30:00Z", "created_us": N,
 *    "schema_version": N, "members": N, "audit_entries": N,
 *    "audit_head_seq": N, "master_key_ids": [1, ...], "tree_ids": [2, ...],
 *    "backup_key_id": N,
 *    "database_bytes": N, "page_size": N, "stored_bytes": N,
 *    "compression": "zstd", "compression_level": N (negative: zstd --fast),
 *    "cipher": "xchacha20poly1305-secretstream",
 *    "checksum": "blake2b-256:<hex>", "checksum_order": "pages 2..N, then page 1"}
 *
 * members counts member rows, erased ones included; audit_entries is the
 * head's seq (the chain runs 1..head without gaps).  The checksum is over
 * the database's bytes in the order the stream holds them: from the second
 * page to the end, then the first page (store/backup.h says why).
 *
 * What restoring needs: the backup file, the backup key that wrapped it
 * (backup_key_id) and the master keys its members' data keys are wrapped
 * under (master_key_ids), and the keyring trees theirs are wrapped under
 * (tree_ids, vault/keyring.h) — none of them is in the backup.
 */
#ifndef CUSTODIAN_BACKUP_H
#define CUSTODIAN_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx/ctx.h"
#include "store/backup.h"
#include "util/file_atomic.h"
#include "util/result.h"

#define CU_BACKUP_KEY_FILE      "backup.key"
#define CU_BACKUP_SUFFIX        ".cubackup"
#define CU_BACKUP_FORMAT        "custodian-backup"
#define CU_BACKUP_CHECKSUMBYTES 32
#define CU_BACKUP_IDS_MAX       CU_STORE_KEY_IDS_MAX
#define CU_BACKUP_PAGE_MAX      65536 /* SQLite's largest page */

/* A manifest, parsed. */
typedef struct cu_backup_manifest {
	char id[CU_ID_LEN + 1];
	int64_t created_us;
	int schema_version;
	uint64_t members, audit_entries, audit_head_seq;
	uint32_t master_key_ids[CU_STORE_KEY_IDS_MAX]; /* members wrapped under a master key */
	size_t n_master_key_ids;
	uint32_t tree_ids[CU_STORE_KEY_IDS_MAX]; /* members wrapped under a keyring tree */
	size_t n_tree_ids;
	uint32_t backup_key_id;
	uint64_t database_bytes, page_size, stored_bytes;
	int level; /* zstd's: negative for its fast mode */
	unsigned char checksum[CU_BACKUP_CHECKSUMBYTES];
} cu_backup_manifest;

/*
 * Progress of a long step: phase is "copying" (pages), "checking" or
 * "restoring" (bytes of the backup file read); done and total.  Called from the calling
 * thread.
 */
typedef void (*cu_backup_progress_fn)(void *ud, const char *phase, uint64_t done, uint64_t total);

/*
 * The backup directory of ctx (the [backup] dir setting, relative to the
 * data directory unless absolute) into out.
 */
void cu_backup_dir(const cu_ctx *ctx, char out[CU_DATA_PATH_MAX]);

/*
 * Writes a backup of ctx's store to `to`, or when to is NULL into the
 * backup directory (created 0700) as custodian-YYYYMMDDTHHMMSSZ.cubackup
 * (UTC; "-2", "-3", ... when taken in the same second).  A file that
 * exists is never overwritten (CU_ERR_EXISTS): the backup is written
 * beside it as NAME.partial, synced and renamed.  Creates DIR/backup.key
 * when it is missing.  The database is streamed from one read transaction
 * while writers go on; nothing else is written to disk.  One
 * audit entry, action "backup", reason "backup id=ID members=N
 * audit_head=N".  *path_out (CU_DATA_PATH_MAX, may be NULL) receives the
 * file written, *m (may be NULL) its manifest.  err: one line.
 */
CU_WARN_UNUSED cu_result cu_backup_create(cu_ctx *ctx, const char *to, cu_backup_progress_fn fn,
                                          void *ud, char *path_out, cu_backup_manifest *m,
                                          char *err, size_t errlen);

/*
 * Checks the backup in file with the backup keys of data directory
 * data_dir: every chunk authenticates, the manifest authenticates, the
 * stream decompresses to database_bytes whose BLAKE2b-256 is the
 * manifest's checksum, and SQLite's integrity check passes on the
 * restored bytes (a temporary file in data_dir, removed after).
 * CU_ERR_CRYPTO (damaged, altered, cut, or not ours to open) or
 * CU_ERR_STORE (integrity) with one line in err.  *m (may be NULL) receives
 * the manifest.
 */
CU_WARN_UNUSED cu_result cu_backup_verify(const char *data_dir, const char *file,
                                          cu_backup_progress_fn fn, void *ud, cu_backup_manifest *m,
                                          char *err, size_t errlen);

/* What a restore did. */
typedef struct cu_backup_restore_report {
	cu_backup_manifest manifest;
	size_t files_copied; /* custodian.conf, the policy, master.key, backup.key, keyring */
	size_t replayed;     /* members erased by the erasure replay */
} cu_backup_restore_report;

/*
 * Restores the backup in file into a new data directory `into` (which must
 * not exist, or be an empty directory): every chunk, the manifest and the
 * checksum are checked as cu_backup_verify does while the database is
 * written to into/custodian.db (SQLite's integrity check is left to
 * verify: the checksum already proves the bytes are the copy's); custodian.conf, the policy file, master.key,
 * backup.key and keyring (when present) are copied from data_dir (the
 * live directory, whose backup key opens the backup); then the erasure
 * replay (erasure.h, cu_erasure_replay) erases in the restored store every
 * member erased since the backup was taken, and one audit entry is written
 * (action "restore", reason "backup id=ID replayed=N").  A data_dir whose
 * custodian.conf names a store URL is refused (the restored directory
 * would share it).  On any failure what was written into `into` is
 * removed.  err: one line.
 */
CU_WARN_UNUSED cu_result cu_backup_restore(const char *data_dir, const char *file, const char *into,
                                           cu_backup_progress_fn fn, void *ud,
                                           cu_backup_restore_report *rep, char *err, size_t errlen);

/* What pruning did. */
typedef struct cu_backup_prune_report {
	size_t kept, removed;
	size_t unreadable; /* files named like backups whose manifest cannot be read: left alone */
} cu_backup_prune_report;

/*
 * Applies [backup] keep_count and keep_days to the backups in the backup
 * directory (files named *.cubackup, their age from the manifest's
 * created_us): the newest keep_count are kept, and every one created less
 * than keep_days days before now_us; the others are deleted.  One audit
 * entry (action "backup_prune", reason "kept=N removed=M") when one was
 * removed.
 */
CU_WARN_UNUSED cu_result cu_backup_prune(cu_ctx *ctx, int64_t now_us, cu_backup_prune_report *rep,
                                         char *err, size_t errlen);

/*
 * Appends a new backup key to DIR/backup.key (created if missing), which
 * later backups use; older keys stay to open older backups.
 */
CU_WARN_UNUSED cu_result cu_backup_key_rotate(const char *dir, char *err, size_t errlen);

/* Which keys the retained backups need (for `keys rotate --backup`). */
typedef struct cu_backup_key_use {
	size_t backups;                             /* backups read */
	uint32_t backup_key_ids[CU_BACKUP_IDS_MAX]; /* ascending, distinct */
	size_t n_backup_key_ids;
	uint32_t master_key_ids[CU_BACKUP_IDS_MAX]; /* ascending, distinct */
	size_t n_master_key_ids;
	uint32_t tree_ids[CU_BACKUP_IDS_MAX]; /* keyring trees: `needed` of cu_keys_retire_tree */
	size_t n_tree_ids;
} cu_backup_key_use;

/*
 * The backup key ids, master key ids and keyring tree ids that the manifests of the backups
 * in ctx's backup directory name (read without a key: what the files say).
 * A file named like a backup whose manifest cannot be read is an error
 * (CU_ERR_CRYPTO, named in err): a key must not be retired on a guess.
 */
CU_WARN_UNUSED cu_result cu_backup_key_ids_in_use(const cu_ctx *ctx, cu_backup_key_use *out,
                                                  char *err, size_t errlen);

/* Parses a manifest's text; CU_ERR_CRYPTO when it is not one. */
CU_WARN_UNUSED cu_result cu_backup_manifest_parse(const char *text, cu_backup_manifest *m);

#endif
