/*
 * src/store/diary.h — the store's area for members' diary entries.
 * Part of the store (store.h's rules hold: writes only inside a
 * transaction, no SQL outside the store); the domain is diaries.h, and
 * reads by anyone go through the access door (access.h, "diaries").
 *
 * The store sees sealed bytes only: an entry's title and body are each
 * sealed under the member's data key (vault.h) before they get here, so an
 * erased member's entries could not be opened even where a copy survived.
 * What stays readable is the entry's random id, its member, and when it
 * was written and last changed.
 *
 * Entries are listed newest first, a page at a time: `before` names the
 * entry the previous page ended with (NULL for the newest).
 */
#ifndef CUSTODIAN_STORE_DIARY_H
#define CUSTODIAN_STORE_DIARY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* A sealed part's field name, "diary-<part>.<id>" (at most 40 bytes, as the vault takes), with
 * its NUL and room. */
#define CU_DIARY_PART_NAME_BYTES 48

/*
 * One entry.  Rows read from the store own `title` and `body` (release with
 * cu_diary_row_release); rows passed in are only read.
 */
typedef struct cu_diary_row {
	char id[CU_ID_LEN + 1];     /* random (cu_vault_random_id) */
	char member[CU_ID_LEN + 1]; /* the author */
	unsigned char *title;       /* sealed, field "diary-title." id */
	size_t title_len;
	unsigned char *body; /* sealed, field "diary-body." id */
	size_t body_len;
	int64_t created_us, updated_us;
} cu_diary_row;

/* Frees title and body.  NULL is a harmless no-op. */
void cu_diary_row_release(cu_diary_row *row);

/* Refuses an id already held (CU_ERR_CONFLICT); `member` must name a member row. */
CU_WARN_UNUSED cu_result cu_store_diary_insert(cu_store *s, const cu_diary_row *row);
/*
 * The entry `id` of `member`.  CU_ERR_NOT_FOUND if there is none — also
 * when the id exists but belongs to another member, so ids do not leak.
 */
CU_WARN_UNUSED cu_result cu_store_diary_get(cu_store *s, const char *member, const char *id,
                                            cu_diary_row *out);
/*
 * Replaces title, body and updated_us of the entry (row->id, row->member);
 * CU_ERR_NOT_FOUND if that member has no such entry.
 */
CU_WARN_UNUSED cu_result cu_store_diary_update(cu_store *s, const cu_diary_row *row);
/* Deletes one entry of `member`; CU_ERR_NOT_FOUND as for get. */
CU_WARN_UNUSED cu_result cu_store_diary_delete(cu_store *s, const char *member, const char *id);
/*
 * Deletes every entry of `member` (erasure).  *n (may be NULL) receives
 * how many; none is not an error.
 */
CU_WARN_UNUSED cu_result cu_store_diary_delete_member(cu_store *s, const char *member, uint64_t *n);
/*
 * Calls fn for up to `limit` (>= 1) entries of `member`, newest first;
 * with `before` non-NULL, only entries older than that one (which must be
 * the member's: CU_ERR_NOT_FOUND otherwise).  The row is valid during the
 * call only; fn returns non-zero to stop early, and may not call the store.
 */
typedef int (*cu_store_diary_fn)(void *ud, const cu_diary_row *row);
CU_WARN_UNUSED cu_result cu_store_diary_list(cu_store *s, const char *member, const char *before,
                                             size_t limit, cu_store_diary_fn fn, void *ud);
/* Number of entries of `member`. */
CU_WARN_UNUSED cu_result cu_store_diary_count(cu_store *s, const char *member, uint64_t *n);

#endif
