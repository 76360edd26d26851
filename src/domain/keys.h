/*
 * src/domain/keys.h — key rotation and what uses each key (`custodian keys`).
 *
 * The keys (docs/keys.md): master keys (DIR/master.key) seal the keyring and
 * staff notes, derive the blind-index and signing keys, and wrapped the
 * data keys of members registered before the keyring (format 1); the
 * keyring's trees wrap every other member's data key (format 2).
 *
 * Rotation of the trees is online: a new tree is added and made current
 * (every process wraps new members under it from its next registration on),
 * then every live member's data key is unwrapped and wrapped again under it,
 * in small transactions, each row replaced only if nobody changed it since
 * it was read; passes repeat until one moves nothing.  Sealed fields are
 * never touched: only the 73-byte wrapped key changes.  The old tree stays
 * in the keyring while a retained backup may need it (cu_keys_retire_tree).
 *
 * Rotation of the master key appends a new key to master.key, seals the
 * keyring under it and — once the data directory is opened again with it —
 * moves members still in format 1 into the tree and recomputes every blind
 * index under the new key (cu_keys_reindex), so the old master key then
 * wraps nothing and indexes nothing.  A running server keeps the keys it
 * started with: restart it after a master key rotation.
 */
#ifndef CUSTODIAN_KEYS_H
#define CUSTODIAN_KEYS_H

#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "vault/keyring.h"

/* Members whose data key is wrapped under one key. */
typedef struct cu_keys_usage {
	uint32_t key_id;
	int format; /* CU_VAULT_WRAP_MASTER or CU_VAULT_WRAP_TREE */
	uint64_t members;
} cu_keys_usage;

#define CU_KEYS_USAGE_MAX (CU_VAULT_KEYS_MAX + CU_KEYRING_TREES_MAX + 1)

typedef struct cu_keys_status {
	size_t nmaster;
	uint32_t master[CU_VAULT_KEYS_MAX]; /* oldest first; the last is current */
	uint32_t keyring_sealed_under, keyring_generation;
	size_t ntrees;
	cu_keyring_tree_info trees[CU_KEYRING_TREES_MAX];
	size_t nusage;
	cu_keys_usage usage[CU_KEYS_USAGE_MAX];
	uint64_t live, erased;
} cu_keys_status;

/* Counts what uses each key (a pass over every member's key, no data opened). */
CU_WARN_UNUSED cu_result cu_keys_status_get(cu_ctx *ctx, cu_keys_status *out);

/* Called after each page of members: done so far, of about total. */
typedef void (*cu_keys_progress_fn)(void *ud, uint64_t done, uint64_t total);

/*
 * Wraps every live member's data key under the keyring's current tree that
 * is not already (format 1, or an older tree).  *moved (may be NULL) counts
 * them.  One audit entry ("keys_rewrap", the tree and the count).
 */
CU_WARN_UNUSED cu_result cu_keys_rewrap(cu_ctx *ctx, const cu_actor *actor,
                                        cu_keys_progress_fn progress, void *ud, uint64_t *moved);

/* A new current tree, then cu_keys_rewrap.  *tree gets its id. */
CU_WARN_UNUSED cu_result cu_keys_rotate_tree(cu_ctx *ctx, const cu_actor *actor, uint32_t *tree,
                                             cu_keys_progress_fn progress, void *ud,
                                             uint64_t *moved, char *err, size_t errlen);

/*
 * Appends a new master key to DIR/master.key and seals DIR/keyring under it.
 * The caller then opens DIR again and runs cu_keys_rewrap and
 * cu_keys_reindex.  *id gets the new key's id.
 */
CU_WARN_UNUSED cu_result cu_keys_rotate_master(const char *dir, uint32_t *id, char *err,
                                               size_t errlen);

/*
 * Recomputes every live member's blind indexes (e-mail, telephone) under
 * the current master key: the member's data key opens the two sealed
 * values inside this call, which wipes them at once.  *done (may be NULL)
 * counts members.  One audit entry ("keys_reindex").
 */
CU_WARN_UNUSED cu_result cu_keys_reindex(cu_ctx *ctx, const cu_actor *actor,
                                         cu_keys_progress_fn progress, void *ud, uint64_t *done);

/* A new backup key (cu_backup_key_rotate, domain/backup.h), audited. */
CU_WARN_UNUSED cu_result cu_keys_rotate_backup(cu_ctx *ctx, const cu_actor *actor, char *err,
                                               size_t errlen);

/*
 * Drops an old tree from the keyring, for good: refused (CU_ERR_CONFLICT,
 * err says why) while it is current, while a member's data key is wrapped
 * under it, or while it is one of `needed` (the trees a retained backup
 * names, n of them).  Audited ("keys_retire").
 */
CU_WARN_UNUSED cu_result cu_keys_retire_tree(cu_ctx *ctx, const cu_actor *actor, uint32_t tree,
                                             const uint32_t *needed, size_t n, char *err,
                                             size_t errlen);

#endif
