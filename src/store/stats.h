/*
 * src/store/stats.h — the store's area for released statistics
 * (domain/statistics.h).  Part of the store (store.h's rules hold: writes
 * only inside a transaction, no SQL outside the store).
 *
 * Three tables, and one read over the members table:
 *   1. the stats secret: one row, the key of the record keys of the cell-key
 *      method, sealed under the master key (a vault note); made once, never
 *      rotated (a new key would redraw every cell's noise, and two draws of
 *      the same cell can be averaged).
 *   2. the ledger: one row per release that spent differential-privacy ε:
 *      its release id, dataset, period (YYYY-MM), ε, δ, mechanism, the
 *      token (or "operator") that asked, and when.  Written in the same
 *      transaction as the release's audit entry.
 *   3. the kept releases (migration 14): one row per member release —
 *      its release id, dataset, period, the canonical query's key (a hash),
 *      the released JSON (the noisy, suppressed cells: never a true count)
 *      and when.  The same question in the same period is answered from
 *      here (domain/statistics.h, "reuse").  Append-only, like the ledger.
 *   4. the member scan: every live member in id order in one statement,
 *      with what a statistic needs to decide (the policy version the
 *      member accepted, their latest choice per purpose) and to open
 *      (the wrapped key and the sealed fields) — no row at a time.
 */
#ifndef CUSTODIAN_STORE_STATS_H
#define CUSTODIAN_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CU_STATS_SEALED_MAX    128 /* a sealed secret, bytes */
#define CU_STATS_DATASET_MAX   16  /* "members" / "beacons" */
#define CU_STATS_PERIOD_LEN    7   /* "YYYY-MM" */
#define CU_STATS_MECHANISM_MAX 16  /* "laplace" / "gaussian" */
#define CU_STATS_TOKEN_MAX     CU_ID_LEN
#define CU_STATS_KEY_LEN       64         /* the query key: hex of 32 bytes */
#define CU_STATS_RELEASE_MAX   (1u << 20) /* bytes of a kept release's JSON */

/* One ledger row. */
typedef struct cu_stats_ledger_row {
	char release[CU_ID_LEN + 1];
	char dataset[CU_STATS_DATASET_MAX + 1];
	char period[CU_STATS_PERIOD_LEN + 1];
	double epsilon;
	double delta; /* 0 when the mechanism has none */
	char mechanism[CU_STATS_MECHANISM_MAX + 1];
	char token[CU_STATS_TOKEN_MAX + 1]; /* the token id, or "operator" */
	int64_t at_us;
} cu_stats_ledger_row;

/*
 * The sealed secret into sealed (cap bytes), *len its length; *found false
 * (and CU_OK) when there is none yet.  CU_ERR_TOO_LARGE if it does not fit.
 */
CU_WARN_UNUSED cu_result cu_store_stats_secret_get(cu_store *s, unsigned char *sealed, size_t cap,
                                                   size_t *len, bool *found);
/* Stores the sealed secret; CU_ERR_CONFLICT if one is stored (it is never replaced). */
CU_WARN_UNUSED cu_result cu_store_stats_secret_put(cu_store *s, const unsigned char *sealed,
                                                   size_t len);
/* Appends a ledger row; CU_ERR_CONFLICT for a release id already held. */
CU_WARN_UNUSED cu_result cu_store_stats_ledger_insert(cu_store *s, const cu_stats_ledger_row *row);
/* The ε spent on dataset in period (0 when none). */
CU_WARN_UNUSED cu_result cu_store_stats_spent(cu_store *s, const char *dataset, const char *period,
                                              double *epsilon);
/*
 * Calls fn for each ledger row of period (NULL: every period), oldest
 * first.  The row is valid during the call only; fn returns non-zero to
 * stop, and may not call the store.
 */
typedef int (*cu_store_stats_ledger_fn)(void *ud, const cu_stats_ledger_row *row);
CU_WARN_UNUSED cu_result cu_store_stats_ledger_list(cu_store *s, const char *period,
                                                    cu_store_stats_ledger_fn fn, void *ud);

/* A kept release (store side: the JSON is text the domain made). */
typedef struct cu_stats_release_row {
	char release[CU_ID_LEN + 1];
	char dataset[CU_STATS_DATASET_MAX + 1];
	char period[CU_STATS_PERIOD_LEN + 1];
	char key[CU_STATS_KEY_LEN + 1];
	int64_t at_us;
} cu_stats_release_row;

/*
 * Keeps a release: row and its JSON (NUL-terminated, at most
 * CU_STATS_RELEASE_MAX bytes).  CU_ERR_CONFLICT for a release id already
 * kept.  Inside a transaction.
 */
CU_WARN_UNUSED cu_result cu_store_stats_release_insert(cu_store *s, const cu_stats_release_row *row,
                                                       const char *json);
/*
 * The latest kept release of (dataset, period, key) — or, with release
 * non-NULL, the one of that id (dataset, period and key then unused) —
 * into *out and *json (malloc'd, the caller frees it; NULL when not
 * found).  *found false and CU_OK when there is none.
 */
CU_WARN_UNUSED cu_result cu_store_stats_release_find(cu_store *s, const char *dataset,
                                                     const char *period, const char *key,
                                                     const char *release, cu_stats_release_row *out,
                                                     char **json, bool *found);

/* Live (not erased) members. */
CU_WARN_UNUSED cu_result cu_store_stats_member_count(cu_store *s, uint64_t *n);

/*
 * One live member as the scan hands it over.  Every pointer is borrowed
 * from the store for the call only.  consents: the member's latest choice
 * for each purpose they ever chose on, "target=1" (granted) or "target=0"
 * (withdrawn) joined with ','; "" when none.  accepted: the policy version
 * they accepted, or NULL (then the version in force when they registered
 * holds them).
 */
typedef struct cu_stats_member {
	const char *id;
	uint32_t key_id;
	const unsigned char *wrapped; /* CU_VAULT_WRAPPEDBYTES */
	const unsigned char *fields;  /* the sealed record (vault/record.h) */
	size_t fields_len;
	int64_t created_us;
	const char *accepted;
	const char *consents;
} cu_stats_member;
/*
 * Calls fn for every live member, in id order, in one statement (run it
 * inside a snapshot for one consistent view).  fn returns non-zero to stop
 * and may not call the store.  A row without a wrapped key of the right
 * size is damage: CU_ERR_STORE.
 */
typedef int (*cu_store_stats_member_fn)(void *ud, const cu_stats_member *m);
CU_WARN_UNUSED cu_result cu_store_stats_member_scan(cu_store *s, cu_store_stats_member_fn fn,
                                                    void *ud);

#endif
