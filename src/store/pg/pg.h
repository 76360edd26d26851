/*
 * src/store/pg/pg.h — the PostgreSQL backend's insides, shared by its files
 * (private; docs/postgresql.md).
 *
 * store/pg/pg.c holds the connection, the migrations (numbered as SQLite's,
 * one table of each kind) and the core tables; each later area lives in its
 * own store/pg/<area>.c.  Every statement is prepared once per connection,
 * on first use, under a slot number of its own (below), and run with its
 * values as parameters: bytea and integers in binary, texts as texts.
 * Results come back in binary (libpq's resultFormat 1).
 */
#ifndef CU_STORE_PG_H
#define CU_STORE_PG_H

#include <libpq-fe.h>

#include "store/backend.h"

/* The meta key of the per-member audit index's high-water mark (as SQLite's). */
#define CU_PG_AUDIT_MARK "audit_member_indexed"

/* Statement slots: the core's first, then 32 per area. */
enum {
	CU_PG_SLOTS_CORE = 0,
	CU_PG_SLOTS_CONSENT = 64,
	CU_PG_SLOTS_NOTIFY = 96,
	CU_PG_SLOTS_DIARY = 128,
	CU_PG_SLOTS_THIRD_PARTIES = 160,
	CU_PG_SLOTS_SUBCONTRACTORS = 176,
	CU_PG_SLOTS_REQUESTS = 192,
	CU_PG_SLOTS_BEACON = 224,
	CU_PG_SLOTS_BACKUP = 240,
	CU_PG_SLOTS_STATS = 248, /* 16 */
	CU_PG_SLOTS_LIMITS = 264,
	CU_PG_SLOTS_MAX = 272
};

struct pg_store {
	struct cu_store base;
	PGconn *conn;
	bool prepared[CU_PG_SLOTS_MAX]; /* on this connection (a reset forgets them) */
	bool unset; /* reconnected, but the session settings failed: reset again before use */
};

static inline struct pg_store *cu_pg(cu_store *s)
{
	return (struct pg_store *)s;
}

/* PostgreSQL's type oids, as pg_type.h numbers them (the server header is not needed). */
#define CU_PG_BOOL  16
#define CU_PG_BYTEA 17
#define CU_PG_INT8  20
#define CU_PG_TEXT  25

#define CU_PG_PARAMS_MAX 20

/*
 * A statement's parameters, built in order by the cu_pg_param_* functions.
 * Nothing is copied: texts and bytes are borrowed until the statement ran.
 */
typedef struct cu_pg_params {
	int n;
	bool bad; /* more parameters than fit, or a value too long to send */
	const char *values[CU_PG_PARAMS_MAX];
	int lengths[CU_PG_PARAMS_MAX];
	int formats[CU_PG_PARAMS_MAX];
	unsigned int types[CU_PG_PARAMS_MAX];
	unsigned char ints[CU_PG_PARAMS_MAX][8];
} cu_pg_params;

/* A text; NULL is sent as "" (as SQLite's backend binds it). */
void cu_pg_param_text(cu_pg_params *p, const char *t);
/* n bytes of text (not NUL-terminated), sent as they are. */
void cu_pg_param_textn(cu_pg_params *p, const char *t, size_t n);
/* A text, NULL as SQL NULL. */
void cu_pg_param_text_or_null(cu_pg_params *p, const char *t);
/* A bigint. */
void cu_pg_param_int(cu_pg_params *p, int64_t v);
/* A time in microseconds, 0 ("not yet") as NULL. */
void cu_pg_param_time(cu_pg_params *p, int64_t us);
/* bytea of n bytes; b NULL is SQL NULL. */
void cu_pg_param_bytes(cu_pg_params *p, const void *b, size_t n);

/*
 * Runs the statement of `slot` (prepared from `sql` on first use on this
 * connection) with p (NULL: none).  On success *out (when not NULL) holds the
 * result, which the caller PQclear()s; on failure *out is NULL.  Inside a
 * transaction that an earlier error aborted nothing is sent: CU_ERR_STORE.
 * Errors: a unique violation is CU_ERR_CONFLICT, a value over the server's
 * limits CU_ERR_TOO_LARGE, out of memory CU_ERR_NOMEM, everything else
 * (connection lost, lock timeout, constraint) CU_ERR_STORE.
 */
cu_result cu_pg_exec(cu_store *s, int slot, const char *sql, const cu_pg_params *p, PGresult **out);
/* cu_pg_exec of a write: CU_ERR_STORE outside a live transaction; *changed rows touched. */
cu_result cu_pg_write(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                      uint64_t *changed);
/*
 * cu_pg_write inside a savepoint of its own: an error other than a duplicate
 * (a foreign key, a trigger's refusal) fails the statement and leaves the
 * transaction usable, as SQLite does.  Two more round trips.
 */
cu_result cu_pg_write_guarded(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                              uint64_t *changed);
/* A write that must touch a row: none (CU_ERR_NOT_FOUND, CU_ERR_CONFLICT, ...) when it did not. */
cu_result cu_pg_write_one(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                          cu_result none);

/* An INSERT ... ON CONFLICT DO NOTHING, guarded: CU_ERR_CONFLICT when it inserted nothing. */
cu_result cu_pg_insert(cu_store *s, int slot, const char *sql, const cu_pg_params *p);
/*
 * A query of at most one row: reads it with fn (r, 0, out) or answers
 * CU_ERR_NOT_FOUND when there is none.
 */
cu_result cu_pg_one_row(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                        cu_result (*fn)(const PGresult *, int, void *), void *out);
/*
 * A query for at most one sealed value (its first column, a non-empty
 * bytea) into out (cap bytes), *len its length and *found true; none found
 * leaves *found as it was (CU_OK).  An empty value is damage (CU_ERR_STORE),
 * one over cap CU_ERR_TOO_LARGE.
 */
cu_result cu_pg_sealed(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                       unsigned char *out, size_t cap, size_t *len, bool *found);
/* A query whose one row's first column is a count. */
cu_result cu_pg_count(cu_store *s, int slot, const char *sql, const cu_pg_params *p, uint64_t *n);
/* A limit or count as a bigint parameter. */
static inline int64_t cu_pg_limit(size_t n)
{
	return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/*
 * Hands each row of res to fn (ud, &row) after reading it with readfn (res,
 * i, &row), then frees it with releasefn; stops when fn returns non-zero or
 * a read fails (into rc, which must be CU_OK on entry).  Clears res.
 */
#define CU_PG_LIST_LOOP(rc, res, rowtype, readfn, releasefn, fn, ud)                               \
	do {                                                                                       \
		for (int i_ = 0; i_ < PQntuples(res); i_++) {                                      \
			rowtype row_;                                                              \
			int stop_;                                                                 \
                                                                                                   \
			(rc) = readfn(res, i_, &row_);                                             \
			if (rc)                                                                    \
				break;                                                             \
			stop_ = fn(ud, &row_);                                                     \
			releasefn(&row_);                                                          \
			if (stop_)                                                                 \
				break;                                                             \
		}                                                                                  \
		PQclear(res);                                                                      \
	} while (0)

/* A release for rows that own nothing (CU_PG_LIST_LOOP). */
static inline void cu_pg_release_none(const void *row)
{
	(void)row;
}

/* Column readers of a binary result.  NULL reads as 0, "" or absent. */
bool cu_pg_null(const PGresult *r, int row, int col);
int64_t cu_pg_int(const PGresult *r, int row, int col);
/* A text of 1..max bytes into dst (max + 1 bytes); CU_ERR_STORE if empty, NULL or longer. */
cu_result cu_pg_copy_text(const PGresult *r, int row, int col, char *dst, size_t max);
/* Like cu_pg_copy_text, but "" and NULL are values here (both ""). */
cu_result cu_pg_copy_opt_text(const PGresult *r, int row, int col, char *dst, size_t max);
/* A text column as a C string pointing into r ("" when NULL). */
const char *cu_pg_str(const PGresult *r, int row, int col);
/* A malloc'd copy of a bytea column; NULL or empty is a damaged row (CU_ERR_STORE). */
cu_result cu_pg_copy_blob(const PGresult *r, int row, int col, unsigned char **out, size_t *len);
/* A bytea column of exactly n bytes into dst; *has false when NULL; CU_ERR_STORE if another size. */
cu_result cu_pg_copy_fixed(const PGresult *r, int row, int col, unsigned char *dst, size_t n,
                           bool *has);

/*
 * A members row of a result's row 0 whose columns 0-10 are, in order: id,
 * key_id, wrapped, email_bidx, phone_bidx, fields, present, password_hash,
 * created_us, updated_us, erased_us (the member get's own statement).
 */
cu_result cu_pg_read_member(const PGresult *r, cu_member_row *out);

/* The schema version this build migrates to (the same number as SQLite's). */
int cu_pg_schema_latest(void);

/*
 * The numbered migrations (store/pg/schema.c): entry N-1 takes the schema
 * from version N-1 to N, as SQLite's entry N-1 does there.
 */
extern const char *const cu_pg_migrations[];
extern const int cu_pg_migrations_count;

/* The areas' ops tables (store/pg/<area>.c). */
extern const struct cu_store_consent_ops cu_pg_consent_ops;
extern const struct cu_store_notify_ops cu_pg_notify_ops;
extern const struct cu_store_diary_ops cu_pg_diary_ops;
extern const struct cu_store_third_party_ops cu_pg_third_party_ops;
extern const struct cu_store_subcontractor_ops cu_pg_subcontractor_ops;
extern const struct cu_store_request_ops cu_pg_request_ops;
extern const struct cu_store_beacon_ops cu_pg_beacon_ops;
extern const struct cu_store_stats_ops cu_pg_stats_ops;
extern const struct cu_store_limits_ops cu_pg_limits_ops;

/* BEGIN without the write lock (pg_begin's advisory lock): for the attempt limits' rows only. */
cu_result cu_pg_begin_unlocked(cu_store *s);
extern const struct cu_store_backup_ops cu_pg_backup_ops;

#endif
