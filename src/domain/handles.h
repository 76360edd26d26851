/*
 * src/domain/handles.h — the server's own store handles and what it runs on them.
 *
 * The front ends never call the store; what a long-running server needs of a
 * handle beyond the domain's operations is here: a read-only handle per network
 * thread, the checkpointer's handle and its passive WAL checkpoint, the writer's
 * checkpoint threshold, the readiness probe's write, the stored hash of an
 * audit entry (for the checkpointer's check that the chain still holds what it
 * signed).  Each is the store function of the same name (store/store.h).
 */
#ifndef CU_DOMAIN_HANDLES_H
#define CU_DOMAIN_HANDLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Opens a handle on the store at url (as cu_ctx does for its own); err holds one line.
 * Free with cu_handle_close(). */
CU_WARN_UNUSED cu_result cu_handle_open(const char *url, cu_store **out, char *err, size_t errlen);

/* The most memory (KiB) this handle's page cache may hold (store.h). */
CU_WARN_UNUSED cu_result cu_handle_set_cache_kib(cu_store *s, unsigned kib);

/* The log size (pages) past which a COMMIT on this handle checkpoints itself. */
CU_WARN_UNUSED cu_result cu_handle_set_autocheckpoint_pages(cu_store *s, unsigned pages);

/* One PASSIVE checkpoint, never waiting for readers: the log's frames and how many
 * were copied into the main file. */
CU_WARN_UNUSED cu_result cu_handle_checkpoint_passive(cu_store *s, int *log_frames,
                                                      int *checkpointed);

/* The stored hash of audit entry seq; *found false (hash zeros) when there is none. */
CU_WARN_UNUSED cu_result cu_handle_audit_hash_at(cu_store *s, uint64_t seq,
                                                 unsigned char hash[CU_AUDIT_HASHBYTES],
                                                 bool *found);

/* Writes one meta row (key, value) in the handle's transaction: the readiness
 * probe's real write. */
CU_WARN_UNUSED cu_result cu_handle_meta_set(cu_store *s, const char *key, const char *value);

/* NULL is a harmless no-op. */
void cu_handle_close(cu_store *s);

#endif
