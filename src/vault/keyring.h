/*
 * src/vault/keyring.h — the member key tree: what wraps members' data keys,
 * kept outside the database so that an erasure reaches old backups too.
 *
 * The problem it solves: erasure destroys a member's wrapped data key in the
 * live database, but a backup taken before the erasure still holds that
 * wrapped key.  Were it wrapped under a key the operator still holds (the
 * master key), the old backup and the live keys together would open the
 * erased member again.  So a member's data key is wrapped under a key that
 * exists only for that member and that erasure destroys outside the
 * database: a leaf of a puncturable key tree (a GGM tree).
 *
 *   tree (id, random path key, random root)
 *     a node's child 0 or 1 is HChaCha20 keyed with the node over an input
 *     naming the child (the GGM construction over a PRF); a member's leaf
 *     is at depth 64, at the path BLAKE2b-64(path key, member id).  The leaf is the key-encryption key
 *     (KEK) that wraps the member's data key (vault.h, wrapped format 2).
 *
 *   The keyring does not store the tree: it stores a set of nodes that
 *   covers every leaf still alive (at first the root alone).  Puncturing a
 *   leaf (erasure) replaces the node that covers it by the siblings of its
 *   path below that node (at most 64 nodes) and wipes the node: every other
 *   leaf can still be derived, that one no longer can, by anyone, from
 *   anything the keyring holds now.
 *
 * An erasure punctures the member in every tree of the keyring (an older
 * tree is kept while a retained backup may hold keys wrapped under it), so
 * a backup taken before the erasure, opened with the live master key and
 * the live keyring, still cannot open the member.  Only a copy of the
 * keyring older than the erasure could: the keyring is replicated, never
 * archived (docs/keys.md says exactly what an attacker can read).
 *
 * The keyring file (DIR/keyring, mode 0600):
 *   "CUKR" | version(1)=1 | sealed note (vault.h, context "keyring") of
 *   generation(4) | current tree(4) | next id(4) | trees(4) |
 *   per tree: id(4) | path key(32) | nodes(4) |
 *             per node: depth(1) | prefix(8) | key(32)
 * all integers big-endian; a node's prefix holds its path's first `depth`
 * bits, left-aligned, the rest zero.
 *
 * Writers (puncture, a new tree, dropping a tree) hold an exclusive flock
 * on DIR/keyring.lock, re-read the file, change it and replace it
 * atomically (write, fsync, rename, fsync the directory), so several
 * processes on one data directory never lose each other's changes.  In
 * memory the keyring is shared by threads under a read-write lock.  A
 * process notices another's change when it next wraps (a stat of the
 * file), meets an unknown tree id (it re-reads and tries again), or at the
 * first read a second after it last looked — so a server drops an erased
 * member's leaf (and its cached copy) within a second of another process's
 * erasure.
 */
#ifndef CUSTODIAN_KEYRING_H
#define CUSTODIAN_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"
#include "vault/vault.h"

#define CU_KEYRING_FILE      "keyring"
#define CU_KEYRING_LOCK_FILE "keyring.lock"
#define CU_KEYRING_TREES_MAX 8
#define CU_KEYRING_DEPTH     64

typedef struct cu_keyring cu_keyring;

/*
 * Opens the keyring at path, sealed under a key of v.  When the file does
 * not exist and `create` is set, creates it with one new tree whose id is
 * above every master key id.  err gets one line on failure (never a key).
 */
CU_WARN_UNUSED cu_result cu_keyring_open(const cu_vault *v, const char *path, bool create,
                                         cu_keyring **out, char *err, size_t errlen);
/* Wipes and frees.  NULL is a harmless no-op. */
void cu_keyring_free(cu_keyring *r);

/* The tree new data keys are wrapped under. */
uint32_t cu_keyring_current_tree(cu_keyring *r);

/*
 * The key-encryption key of member_id in tree `tree` into kek (wipe it after
 * use).  CU_ERR_NOT_FOUND when the tree is not in the keyring (after one
 * re-read of the file), CU_ERR_ERASED when the member's leaf is punctured.
 */
CU_WARN_UNUSED cu_result cu_keyring_member_kek(cu_keyring *r, uint32_t tree, const char *member_id,
                                               unsigned char kek[CU_VAULT_KEYBYTES]);
/* Whether member_id's leaf is punctured in tree (false if the tree is unknown). */
bool cu_keyring_punctured(cu_keyring *r, uint32_t tree, const char *member_id);

/*
 * Punctures the leaves of n members in every tree and writes the keyring.
 * Idempotent: a leaf already punctured is left as it is.  *changed (may be
 * NULL) gets how many leaves were punctured now.
 */
CU_WARN_UNUSED cu_result cu_keyring_puncture(cu_keyring *r, const char *const *member_ids, size_t n,
                                             size_t *changed, char *err, size_t errlen);

/*
 * Adds a new tree and makes it current (rotation); *id gets its id.  The old
 * trees stay until cu_keyring_drop_tree.
 */
CU_WARN_UNUSED cu_result cu_keyring_add_tree(cu_keyring *r, uint32_t *id, char *err, size_t errlen);
/* Removes a tree that is not current (CU_ERR_CONFLICT if it is). */
CU_WARN_UNUSED cu_result cu_keyring_drop_tree(cu_keyring *r, uint32_t id, char *err, size_t errlen);
/*
 * Writes the keyring again, sealed under v's current master key (after a
 * master key rotation; v must also hold the key the file is sealed under).
 */
CU_WARN_UNUSED cu_result cu_keyring_reseal(cu_keyring *r, const cu_vault *v, char *err,
                                           size_t errlen);

/* What `keys status` shows: no key material. */
typedef struct cu_keyring_tree_info {
	uint32_t id;
	bool current;
	size_t nodes;
} cu_keyring_tree_info;
/* Fills up to max entries, oldest first; returns how many trees there are. */
size_t cu_keyring_trees(cu_keyring *r, cu_keyring_tree_info *out, size_t max);
/* The master key id the file is sealed under, and the file's generation. */
void cu_keyring_file_info(cu_keyring *r, uint32_t *sealed_under, uint32_t *generation);

#endif
