/*
 * src/store/backup.h — what a backup needs of the store (domain/backup.h):
 * a consistent copy of the database streamed while others write, its
 * counts, the master key ids its wrapped keys use, erased member ids (the
 * restore's erasure replay) and a check of a database file.
 *
 * The copy is the SQLite backend's own business (the online backup API
 * from inside one read transaction); a backend that keeps no database file
 * answers CU_ERR_INTERNAL.
 */
#ifndef CUSTODIAN_STORE_BACKUP_H
#define CUSTODIAN_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Distinct master key ids a store's wrapped keys may use, at most. */
#define CU_STORE_KEY_IDS_MAX 64

/* What the copy held, counted in the same read transaction as the copy. */
typedef struct cu_store_backup_stats {
	uint64_t members;        /* member rows, erased included */
	uint64_t erased;         /* of which erased */
	uint64_t audit_entries;  /* audit rows */
	uint64_t audit_head_seq; /* the last entry's seq (0: empty) */
	/* The keys members' data keys are wrapped under (vault.h: the wrap's first byte). */
	uint32_t
	    key_ids[CU_STORE_KEY_IDS_MAX]; /* master key ids (CU_VAULT_WRAP_MASTER), ascending */
	size_t n_key_ids;
	uint32_t tree_ids[CU_STORE_KEY_IDS_MAX]; /* keyring trees (CU_VAULT_WRAP_TREE), ascending */
	size_t n_tree_ids;
	int schema_version;
	uint64_t pages, page_size; /* of the copy */
} cu_store_backup_stats;

typedef void (*cu_store_progress_fn)(void *ud, uint64_t done, uint64_t total);

/*
 * Receives the database's bytes: `len` bytes at a time, in the order
 * cu_store_backup_stream says.  Non-zero CU_... stops the copy with it.
 */
typedef cu_result (*cu_store_sink_fn)(void *ud, const unsigned char *buf, size_t len);

/*
 * Streams the database, as one committed state, to sink: the bytes of the
 * database file from offset page_size to its end, then its first page
 * (page_size bytes; its header is final only when the copy ends).  So a
 * reader rebuilds the file by writing the stream from offset page_size and
 * its last page_size bytes at offset 0.  Writers on other connections go
 * on meanwhile; they are not in the copy.  Nothing is written to disk.
 * pages_per_step pages are copied between calls of fn (may be NULL) with
 * pages done and the total.  *stats (may be NULL) receives the counts of
 * that state; stats->page_size and stats->pages say the layout.  Outside a
 * transaction.  CU_ERR_STORE with one line in err on failure, or the
 * sink's own result.
 */
CU_WARN_UNUSED cu_result cu_store_backup_stream(cu_store *s, unsigned pages_per_step,
                                                cu_store_sink_fn sink, void *sink_ud,
                                                cu_store_progress_fn fn, void *ud,
                                                cu_store_backup_stats *stats, char *err,
                                                size_t errlen);
/*
 * The key ids the wrapped data keys of members use (SELECT DISTINCT key_id
 * FROM members WHERE wrapped IS NOT NULL), split by the wrap's format: master
 * key ids into master (*nm of them), keyring tree ids into trees (*nt),
 * each ascending, at most max each.  CU_ERR_TOO_LARGE when there are more.
 */
CU_WARN_UNUSED cu_result cu_store_wrapping_key_ids(cu_store *s, uint32_t *master, size_t *nm,
                                                   uint32_t *trees, size_t *nt, size_t max);
/*
 * Erased member ids in the order the rows were written, after the member
 * `after` ("" = from the start), at most max into ids; *n how many.  One
 * pass over the table however few are erased.
 */
CU_WARN_UNUSED cu_result cu_store_member_erased_ids(cu_store *s, const char *after,
                                                    char (*ids)[CU_ID_LEN + 1], size_t max,
                                                    size_t *n);
/*
 * Checks the database file at path, opened read-only and immutable:
 * SQLite's PRAGMA integrity_check.  CU_OK when it answers "ok"; else
 * CU_ERR_STORE with its first finding (table and page numbers, no values)
 * in err.
 */
CU_WARN_UNUSED cu_result cu_store_file_check(const char *path, char *err, size_t errlen);

#endif
