/*
 * src/store/pg/pg.c — the PostgreSQL backend of the store (docs/postgresql.md).
 *
 * One connection per handle (a cu_store is used by one thread at a time),
 * as SQLite's backend has one.  The semantics are SQLite's, answer for
 * answer (store/sqlite/sqlite.c is the reference):
 *
 *  - A write transaction takes a transaction-level advisory lock at BEGIN,
 *    as SQLite's BEGIN IMMEDIATE takes the write lock: writers follow one
 *    another, so the audit chain's head read inside one is the head.  A
 *    lock held elsewhere is waited for up to 5 s (lock_timeout, SQLite's
 *    busy timeout), then the begin fails with CU_ERR_STORE.
 *  - A read snapshot is REPEATABLE READ READ ONLY.
 *  - A unique key already taken is CU_ERR_CONFLICT.  Inserts say ON
 *    CONFLICT DO NOTHING and count the rows, so a duplicate does not abort
 *    the transaction (in SQLite a failed statement leaves it open).  Any
 *    other error does abort it on the server; everything after it is then
 *    refused here (CU_ERR_STORE) and COMMIT rolls back and fails: nothing
 *    half-done is ever committed.
 *  - Commits are durable when they return (synchronous_commit is set on at
 *    connect, whatever the server's default).
 *  - SQLite's checkpoints have no counterpart: the server checkpoints its
 *    own log.  checkpoint() answers CU_OK and checkpoint_passive() reports an
 *    empty log.
 *
 * No error message carries a statement's values: only fixed words, and at
 * open the first line of libpq's connection message (host, port, user).
 */
#include "store/pg/pg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cu_pg_schema_latest(void)
{
	return cu_pg_migrations_count;
}

/* ---- parameters ------------------------------------------------------------ */

static int next_param(cu_pg_params *p)
{
	if (p->n >= CU_PG_PARAMS_MAX) {
		p->bad = true;
		return -1;
	}
	return p->n++;
}

void cu_pg_param_text(cu_pg_params *p, const char *t)
{
	int i = next_param(p);

	if (i < 0)
		return;
	p->values[i] = t ? t : "";
	p->lengths[i] = 0;
	p->formats[i] = 0;
	p->types[i] = CU_PG_TEXT;
}

void cu_pg_param_textn(cu_pg_params *p, const char *t, size_t n)
{
	int i = next_param(p);

	if (i < 0)
		return;
	if (n > (size_t)INT_MAX) {
		p->bad = true;
		n = 0;
	}
	p->values[i] = n ? t : "";
	p->lengths[i] = (int)n;
	p->formats[i] = 1; /* binary text: the bytes as they are */
	p->types[i] = CU_PG_TEXT;
}

void cu_pg_param_text_or_null(cu_pg_params *p, const char *t)
{
	int i = next_param(p);

	if (i < 0)
		return;
	p->values[i] = t;
	p->lengths[i] = 0;
	p->formats[i] = 0;
	p->types[i] = CU_PG_TEXT;
}

void cu_pg_param_int(cu_pg_params *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i = next_param(p);

	if (i < 0)
		return;
	for (int k = 7; k >= 0; k--) {
		p->ints[i][k] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	p->values[i] = (const char *)p->ints[i];
	p->lengths[i] = 8;
	p->formats[i] = 1;
	p->types[i] = CU_PG_INT8;
}

void cu_pg_param_time(cu_pg_params *p, int64_t us)
{
	int i;

	if (us) {
		cu_pg_param_int(p, us);
		return;
	}
	i = next_param(p);
	if (i < 0)
		return;
	p->values[i] = NULL;
	p->lengths[i] = 0;
	p->formats[i] = 1;
	p->types[i] = CU_PG_INT8;
}

void cu_pg_param_bytes(cu_pg_params *p, const void *b, size_t n)
{
	int i = next_param(p);

	if (i < 0)
		return;
	if (b && n > (size_t)INT_MAX) {
		p->bad = true;
		n = 0;
	}
	p->values[i] = b ? (n ? (const char *)b : "") : NULL;
	p->lengths[i] = (int)n;
	p->formats[i] = 1;
	p->types[i] = CU_PG_BYTEA;
}

/* A prepared statement's name: "cu" and its slot number. */
#define STMT_NAME_MAX 16

static cu_result simple(struct pg_store *q, const char *text);

/* ---- running statements ------------------------------------------------------ */

/* A failed result's SQLSTATE -> cu_result. */
static cu_result map_result(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!res)
		return CU_ERR_STORE; /* no result at all: the connection failed (or memory) */
	if (!state)
		return CU_ERR_STORE;
	if (strcmp(state, "23505") == 0)
		return CU_ERR_CONFLICT;
	if (strcmp(state, "54000") == 0 || strcmp(state, "54001") == 0 ||
	    strcmp(state, "22001") == 0)
		return CU_ERR_TOO_LARGE;
	if (strcmp(state, "53200") == 0)
		return CU_ERR_NOMEM;
	return CU_ERR_STORE;
}

static cu_result session_setup(struct pg_store *q);

/*
 * A connection that broke while no transaction was open is opened again
 * before the next statement: its prepared statements and its session
 * settings went with it, so the settings are made again before anything
 * runs on the new connection.  PQreset tries the url's hosts in order, as
 * the first connect did: with several hosts and
 * target_session_attrs=read-write, a promoted standby is found.  Inside a
 * transaction a broken connection is the transaction's failure; a reset
 * that finds no server leaves the connection broken, and the next call
 * tries again.
 */
static cu_result ensure_connection(struct pg_store *q)
{
	if (PQstatus(q->conn) == CONNECTION_OK && !q->unset)
		return CU_OK;
	if (q->base.in_tx || q->base.in_snapshot)
		return CU_ERR_STORE;
	memset(q->prepared, 0, sizeof(q->prepared));
	PQreset(q->conn);
	if (PQstatus(q->conn) != CONNECTION_OK)
		return CU_ERR_STORE;
	/* Without its settings (a commit might not be durable) it is not used: reset again. */
	q->unset = session_setup(q) != CU_OK;
	return q->unset ? CU_ERR_STORE : CU_OK;
}

/*
 * Whether a statement that just failed may be sent again on a new
 * connection: the connection broke, no transaction or snapshot was open
 * (a statement alone, outside a transaction, is a read: writes need one),
 * and not already retried.  A server restarted or failed over while this
 * connection sat idle then costs no failed request.
 */
static bool idle_loss(struct pg_store *q, bool *retried)
{
	if (*retried || PQstatus(q->conn) != CONNECTION_BAD || q->base.in_tx || q->base.in_snapshot)
		return false;
	*retried = true;
	return true;
}

cu_result cu_pg_exec(cu_store *s, int slot, const char *sql, const cu_pg_params *p, PGresult **out)
{
	struct pg_store *q = cu_pg(s);
	char name[STMT_NAME_MAX];
	PGresult *res;
	ExecStatusType st;
	cu_result rc;
	int n = p ? p->n : 0;
	bool retried = false;

	if (out)
		*out = NULL;
	if (slot < 0 || slot >= CU_PG_SLOTS_MAX)
		return CU_ERR_INTERNAL;
	if (p && p->bad)
		return CU_ERR_TOO_LARGE;
again:
	rc = ensure_connection(q);
	if (rc)
		return rc;
	if (PQtransactionStatus(q->conn) == PQTRANS_INERROR)
		return CU_ERR_STORE; /* an earlier error aborted the transaction */
	snprintf(name, sizeof(name), "cu%d", slot);
	if (!q->prepared[slot]) {
		res = PQprepare(q->conn, name, sql, n, p ? p->types : NULL);
		st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		rc = st == PGRES_COMMAND_OK ? CU_OK : map_result(res);
		PQclear(res);
		if (rc && idle_loss(q, &retried))
			goto again;
		if (rc)
			return rc == CU_ERR_CONFLICT ? CU_ERR_STORE : rc;
		q->prepared[slot] = true;
	}
	res = PQexecPrepared(q->conn, name, n, p ? p->values : NULL, p ? p->lengths : NULL,
	                     p ? p->formats : NULL, 1);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = map_result(res);
		PQclear(res);
		if (idle_loss(q, &retried))
			goto again;
		return rc;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return CU_OK;
}

cu_result cu_pg_write(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                      uint64_t *changed)
{
	PGresult *res = NULL;
	cu_result rc;

	if (changed)
		*changed = 0;
	/* No write outside a transaction: it would autocommit. */
	if (PQtransactionStatus(cu_pg(s)->conn) != PQTRANS_INTRANS)
		return CU_ERR_STORE;
	rc = cu_pg_exec(s, slot, sql, p, &res);
	if (rc)
		return rc;
	if (changed) {
		const char *t = PQcmdTuples(res);

		*changed = t && *t ? strtoull(t, NULL, 10) : 0;
	}
	PQclear(res);
	return CU_OK;
}

cu_result cu_pg_write_guarded(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                              uint64_t *changed)
{
	struct pg_store *q = cu_pg(s);
	cu_result rc, undo;

	if (changed)
		*changed = 0;
	if (PQtransactionStatus(q->conn) != PQTRANS_INTRANS)
		return CU_ERR_STORE;
	rc = simple(q, "SAVEPOINT cu_w");
	if (rc)
		return rc;
	rc = cu_pg_write(s, slot, sql, p, changed);
	if (rc) {
		undo = simple(q, "ROLLBACK TO SAVEPOINT cu_w; RELEASE SAVEPOINT cu_w");
		return undo ? undo : rc;
	}
	return simple(q, "RELEASE SAVEPOINT cu_w");
}

cu_result cu_pg_write_one(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                          cu_result none)
{
	uint64_t n = 0;
	cu_result rc = cu_pg_write(s, slot, sql, p, &n);

	return rc ? rc : n > 0 ? CU_OK : none;
}

cu_result cu_pg_insert(cu_store *s, int slot, const char *sql, const cu_pg_params *p)
{
	uint64_t n = 0;
	cu_result rc = cu_pg_write_guarded(s, slot, sql, p, &n);

	return rc ? rc : n ? CU_OK : CU_ERR_CONFLICT;
}

cu_result cu_pg_one_row(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                        cu_result (*fn)(const PGresult *, int, void *), void *out)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, slot, sql, p, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) > 0 ? fn(res, 0, out) : CU_ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

cu_result cu_pg_sealed(cu_store *s, int slot, const char *sql, const cu_pg_params *p,
                       unsigned char *out, size_t cap, size_t *len, bool *found)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, slot, sql, p, &res);

	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		size_t n = cu_pg_null(res, 0, 0) ? 0 : (size_t)PQgetlength(res, 0, 0);

		if (!n) {
			rc = CU_ERR_STORE;
		} else if (n > cap) {
			rc = CU_ERR_TOO_LARGE;
		} else {
			memcpy(out, PQgetvalue(res, 0, 0), n);
			*len = n;
			*found = true;
		}
	}
	PQclear(res);
	return rc;
}

cu_result cu_pg_count(cu_store *s, int slot, const char *sql, const cu_pg_params *p, uint64_t *n)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, slot, sql, p, &res);

	*n = 0;
	if (rc)
		return rc;
	if (PQntuples(res) == 1)
		*n = (uint64_t)cu_pg_int(res, 0, 0);
	else
		rc = CU_ERR_STORE;
	PQclear(res);
	return rc;
}

/* ---- reading columns ------------------------------------------------------------ */

bool cu_pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

int64_t cu_pg_int(const PGresult *r, int row, int col)
{
	const unsigned char *p;
	int n;
	uint64_t u = 0;

	if (PQgetisnull(r, row, col))
		return 0;
	p = (const unsigned char *)PQgetvalue(r, row, col);
	n = PQgetlength(r, row, col);
	if (n != 1 && n != 2 && n != 4 && n != 8)
		return 0;
	/* Big-endian, sign-extended from its width. */
	for (int i = 0; i < n; i++)
		u = (u << 8) | p[i];
	if (n < 8 && (p[0] & 0x80) && n != 1)
		u |= ~(uint64_t)0 << (n * 8);
	return (int64_t)u;
}

const char *cu_pg_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

cu_result cu_pg_copy_text(const PGresult *r, int row, int col, char *dst, size_t max)
{
	const char *t;
	size_t n;

	if (PQgetisnull(r, row, col))
		return CU_ERR_STORE;
	t = PQgetvalue(r, row, col);
	n = (size_t)PQgetlength(r, row, col);
	if (n == 0 || n > max || memchr(t, '\0', n))
		return CU_ERR_STORE;
	memcpy(dst, t, n);
	dst[n] = '\0';
	return CU_OK;
}

cu_result cu_pg_copy_opt_text(const PGresult *r, int row, int col, char *dst, size_t max)
{
	dst[0] = '\0';
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) == 0)
		return CU_OK;
	return cu_pg_copy_text(r, row, col, dst, max);
}

cu_result cu_pg_copy_blob(const PGresult *r, int row, int col, unsigned char **out, size_t *len)
{
	size_t n;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return CU_ERR_STORE;
	n = (size_t)PQgetlength(r, row, col);
	if (!n)
		return CU_ERR_STORE;
	*out = malloc(n);
	if (!*out)
		return CU_ERR_NOMEM;
	memcpy(*out, PQgetvalue(r, row, col), n);
	*len = n;
	return CU_OK;
}

cu_result cu_pg_copy_fixed(const PGresult *r, int row, int col, unsigned char *dst, size_t n,
                           bool *has)
{
	if (has)
		*has = false;
	if (PQgetisnull(r, row, col))
		return CU_OK;
	if ((size_t)PQgetlength(r, row, col) != n)
		return CU_ERR_STORE;
	memcpy(dst, PQgetvalue(r, row, col), n);
	if (has)
		*has = true;
	return CU_OK;
}

/*
 * A hash column of the wrong size (only tampering makes one) is passed on
 * zero-padded or cut to size; the chain check then fails on it.
 */
static void column_hash(const PGresult *r, int row, int col, unsigned char out[CU_AUDIT_HASHBYTES])
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	memset(out, 0, CU_AUDIT_HASHBYTES);
	if (n)
		memcpy(out, PQgetvalue(r, row, col),
		       n < CU_AUDIT_HASHBYTES ? n : CU_AUDIT_HASHBYTES);
}

/* ---- the core's statements ------------------------------------------------------ */

enum stmt {
	ST_MEMBER_INSERT = CU_PG_SLOTS_CORE,
	ST_MEMBER_GET,
	ST_MEMBER_UPDATE,
	ST_MEMBER_ERASE,
	ST_MEMBER_STATE,
	ST_FIND_EMAIL,
	ST_FIND_PHONE,
	ST_MEMBER_COUNT,
	ST_MEMBER_IDS,
	ST_MEMBER_KEYS,
	ST_MEMBER_REWRAP,
	ST_AUDIT_APPEND,
	ST_AUDIT_LAST,
	ST_AUDIT_COUNT,
	ST_AUDIT_SCAN,
	ST_AUDIT_SCAN_INDEXED,
	ST_AUDIT_SCAN_TAIL,
	ST_AUDIT_MARK,
	ST_AUDIT_INDEX,
	ST_AUDIT_INDEX_SCAN,
	ST_AUDIT_INDEX_MISSING,
	ST_AUDIT_INDEX_EXTRA,
	ST_AUDIT_HASH_AT,
	ST_AUDIT_CKPT_INSERT,
	ST_AUDIT_CKPT_LAST,
	ST_AUDIT_CKPT_SCAN,
	ST_AUDIT_CHAIN_LAST,
	ST_AUDIT_MAIN_LAST,
	ST_META_GET,
	ST_META_SCAN,
	ST_META_SET,
	ST_TOKEN_INSERT,
	ST_TOKEN_BY_HASH,
	ST_TOKEN_GET,
	ST_TOKEN_LIST,
	ST_TOKEN_REVOKE,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_DELETE,
	ST_SESSION_DELETE_MEMBER,
	ST_SESSION_PURGE,
	ST_COUNT_
};

_Static_assert((int)ST_COUNT_ <= (int)CU_PG_SLOTS_CONSENT, "the core's statements fit their slots");

#define AUDIT_COLUMNS                                                                              \
	"seq, time_us, actor, role, action, member, purpose, fields, decision, reason, "           \
	"case_ref, prev, hash, chain"
#define TOKEN_COLUMNS "id, hash, role, name, created_us, expires_us, revoked_us"

/* Rows of a long scan fetched per statement: memory stays bounded, whatever the table's size. */
#define SCAN_PAGE 1000

static const char *const sql[ST_COUNT_] = {
    [ST_MEMBER_INSERT] = "INSERT INTO members (id, key_id, wrapped, email_bidx, phone_bidx, fields,"
                         " present, password_hash, created_us, updated_us, erased_us)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                         " ON CONFLICT DO NOTHING",
    [ST_MEMBER_GET] =
        "SELECT id, key_id, wrapped, email_bidx, phone_bidx, fields, present,"
        " password_hash, created_us, updated_us, erased_us FROM members WHERE id = $1",
    [ST_MEMBER_UPDATE] =
        "UPDATE members SET email_bidx = $2, phone_bidx = $3, fields = $4, present = $5,"
        " password_hash = $6, updated_us = $7 WHERE id = $1 AND erased_us IS NULL",
    [ST_MEMBER_ERASE] = "UPDATE members SET key_id = NULL, wrapped = NULL, email_bidx = NULL,"
                        " phone_bidx = NULL, fields = NULL, password_hash = NULL, present = 0,"
                        " erased_us = $2, updated_us = $2 WHERE id = $1 AND erased_us IS NULL",
    [ST_MEMBER_STATE] = "SELECT erased_us IS NOT NULL FROM members WHERE id = $1",
    [ST_FIND_EMAIL] = "SELECT id FROM members WHERE email_bidx = $1 AND erased_us IS NULL"
                      " ORDER BY rowid LIMIT $2",
    [ST_FIND_PHONE] = "SELECT id FROM members WHERE phone_bidx = $1 AND erased_us IS NULL"
                      " ORDER BY rowid LIMIT $2",
    [ST_MEMBER_COUNT] = "SELECT count(*) FROM members",
    [ST_MEMBER_IDS] = "SELECT id FROM members WHERE id > $1 AND erased_us IS NULL ORDER BY id"
                      " LIMIT $2",
    [ST_MEMBER_KEYS] = "SELECT id, key_id, wrapped, erased_us IS NOT NULL FROM members"
                       " WHERE id > $1 ORDER BY id LIMIT $2",
    [ST_MEMBER_REWRAP] = "UPDATE members SET key_id = $2, wrapped = $3"
                         " WHERE id = $1 AND wrapped = $4 AND erased_us IS NULL",
    [ST_AUDIT_APPEND] = "INSERT INTO audit (" AUDIT_COLUMNS ")"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                        " ON CONFLICT DO NOTHING",
    [ST_AUDIT_LAST] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit",
    /* Scans go by pages of $2 (or $4) rows, each from the seq after the last one read. */
    [ST_AUDIT_SCAN] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq >= $1 ORDER BY seq"
                      " LIMIT $2",
    [ST_AUDIT_SCAN_INDEXED] = "SELECT a.seq, a.time_us, a.actor, a.role, a.action, a.member,"
                              " a.purpose, a.fields, a.decision, a.reason, a.case_ref, a.prev,"
                              " a.hash, a.chain FROM audit_member m JOIN audit a ON a.seq = m.seq"
                              " WHERE m.member = $2 AND m.seq >= $1 AND m.seq <= $3"
                              " ORDER BY m.seq LIMIT $4",
    [ST_AUDIT_SCAN_TAIL] = "SELECT " AUDIT_COLUMNS " FROM audit"
                           " WHERE seq > $3 AND seq >= $1 AND member = $2 ORDER BY seq LIMIT $4",
    [ST_AUDIT_MARK] = "SELECT value FROM meta WHERE key = '" CU_PG_AUDIT_MARK "'",
    [ST_AUDIT_INDEX] = "INSERT INTO audit_member (member, seq)"
                       " SELECT member, seq FROM audit WHERE seq > $1 AND member <> ''"
                       " ORDER BY member, seq ON CONFLICT DO NOTHING",
    [ST_AUDIT_INDEX_SCAN] = "SELECT member, seq FROM audit_member WHERE seq <= $1"
                            " AND (member, seq) > ($2, $3) ORDER BY member, seq LIMIT $4",
    [ST_AUDIT_INDEX_MISSING] = "SELECT count(*), coalesce(min(a.seq), 0) FROM audit a"
                               " WHERE a.seq <= $1 AND a.member <> '' AND NOT EXISTS"
                               " (SELECT 1 FROM audit_member m WHERE m.member = a.member"
                               " AND m.seq = a.seq)",
    [ST_AUDIT_INDEX_EXTRA] = "SELECT count(*), coalesce(min(m.seq), 0) FROM audit_member m"
                             " WHERE m.seq <= $1 AND NOT EXISTS"
                             " (SELECT 1 FROM audit a WHERE a.seq = m.seq AND a.member = m.member)",
    [ST_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE seq = $1",
    [ST_AUDIT_CKPT_INSERT] = "INSERT INTO audit_checkpoints (seq, head, time_us, key_id, sig)"
                             " VALUES ($1, $2, $3, $4, $5)",
    [ST_AUDIT_CKPT_LAST] = "SELECT seq, head, time_us, key_id, sig FROM audit_checkpoints"
                           " ORDER BY seq DESC, rowid DESC LIMIT 1",
    [ST_AUDIT_CKPT_SCAN] = "SELECT seq, head, time_us, key_id, sig, rowid FROM audit_checkpoints"
                           " WHERE rowid > $1 ORDER BY rowid LIMIT $2",
    /*
     * A chain's last entry: the main chain's by the seq key from the end (it
     * writes most entries, and its index would cost every append a second
     * index row), another's through the partial index, which the statement
     * must imply (chain <> 'main') to be used.
     */
    [ST_AUDIT_CHAIN_LAST] = "SELECT seq, hash FROM audit WHERE chain = $1 AND chain <> 'main'"
                            " ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_MAIN_LAST] = "SELECT seq, hash FROM audit WHERE chain = 'main'"
                           " ORDER BY seq DESC LIMIT 1",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = $1",
    [ST_META_SCAN] = "SELECT key, value FROM meta WHERE left(key, length($1)) = $1 ORDER BY key",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES ($1, $2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (" TOKEN_COLUMNS ")"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    [ST_TOKEN_BY_HASH] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = $1",
    [ST_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = $1",
    [ST_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY rowid",
    /* COALESCE keeps the first revocation time. */
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_us = COALESCE(revoked_us, $2) WHERE id = $1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (hash, member, csrf_hash, created_us, expires_us)"
                          " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    [ST_SESSION_GET] = "SELECT hash, member, csrf_hash, created_us, expires_us"
                       " FROM sessions WHERE hash = $1",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = $1",
    [ST_SESSION_DELETE_MEMBER] = "DELETE FROM sessions WHERE member = $1",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_us <= $1",
};

static cu_result run(cu_store *s, int st, const cu_pg_params *p, PGresult **out)
{
	return cu_pg_exec(s, st, sql[st], p, out);
}

static cu_result write_one(cu_store *s, int st, const cu_pg_params *p, cu_result none)
{
	return cu_pg_write_one(s, st, sql[st], p, none);
}

static cu_result write_counted(cu_store *s, int st, const cu_pg_params *p, uint64_t *n)
{
	return cu_pg_write(s, st, sql[st], p, n);
}

/* A query of one bigint row (count(*)). */
static cu_result single_int(cu_store *s, int st, uint64_t *n)
{
	PGresult *res;
	cu_result rc = run(s, st, NULL, &res);

	*n = 0;
	if (rc)
		return rc;
	if (PQntuples(res) == 1)
		*n = (uint64_t)cu_pg_int(res, 0, 0);
	else
		rc = CU_ERR_STORE;
	PQclear(res);
	return rc;
}

/* ---- open, migrate, close --------------------------------------------------------- */

/* Runs a statement without values (transaction control, DDL): CU_OK or the mapped error. */
static cu_result simple(struct pg_store *q, const char *text)
{
	PGresult *res = PQexec(q->conn, text);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	cu_result rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CU_OK : map_result(res);

	PQclear(res);
	return rc;
}

/* The first line of libpq's message (no values: connection and server words only). */
static void conn_fail(char *err, size_t errlen, const char *what, PGconn *conn)
{
	const char *m = conn ? PQerrorMessage(conn) : "out of memory";
	size_t n = strcspn(m, "\n");

	if (err && errlen)
		snprintf(err, errlen, "%s: %.*s", what, (int)(n > 200 ? 200 : n), m);
}

static void set_err(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
}

/* The schema version in the database: 0 when it has no meta table yet. */
static cu_result read_version(struct pg_store *q, int *version)
{
	PGresult *res;
	cu_result rc = CU_OK;

	*version = 0;
	res = PQexec(q->conn, "SELECT to_regclass('meta') IS NOT NULL");
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = map_result(res);
		PQclear(res);
		return rc;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return CU_OK;
	}
	PQclear(res);
	res = PQexec(q->conn, "SELECT value FROM meta WHERE key = 'schema_version'");
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = map_result(res);
	} else if (PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < 1 || n > 1000000)
			rc = CU_ERR_STORE;
		else
			*version = (int)n;
	}
	PQclear(res);
	return rc;
}

/* The statement that records a schema version, with its number. */
#define MIGRATION_VERSION_SQL_MAX 160

/*
 * Applies the next missing migration in its own transaction.  The version
 * is read again under an advisory lock, so two processes opening a new
 * database at once do not both apply it.
 */
static cu_result migrate_one(struct pg_store *q, int *version, char *err, size_t errlen)
{
	char text[MIGRATION_VERSION_SQL_MAX];
	cu_result rc;
	int next;

	rc = simple(q, "BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()))");
	if (rc) {
		conn_fail(err, errlen, "cannot begin a migration", q->conn);
		(void)simple(q, "ROLLBACK");
		return rc;
	}
	rc = read_version(q, version);
	if (!rc && *version < cu_pg_migrations_count) {
		next = *version + 1;
		rc = simple(q, cu_pg_migrations[next - 1]);
		if (!rc) {
			snprintf(text, sizeof(text),
			         "INSERT INTO meta (key, value) VALUES ('schema_version', '%d')"
			         " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			         next);
			rc = simple(q, text);
		}
		if (!rc)
			*version = next;
	}
	if (!rc)
		rc = simple(q, "COMMIT");
	if (rc) {
		conn_fail(err, errlen, "cannot migrate the schema", q->conn);
		(void)simple(q, "ROLLBACK");
		return rc;
	}
	return CU_OK;
}

static cu_result migrate(struct pg_store *q, int *version, char *err, size_t errlen)
{
	cu_result rc = read_version(q, version);

	if (rc) {
		conn_fail(err, errlen, "cannot read the schema version", q->conn);
		return rc;
	}
	while (*version < cu_pg_migrations_count) {
		rc = migrate_one(q, version, err, errlen);
		if (rc)
			return rc;
	}
	if (*version > cu_pg_migrations_count) {
		if (err && errlen)
			snprintf(err, errlen,
			         "store schema version %d is newer than this build knows (%d)",
			         *version, cu_pg_migrations_count);
		return CU_ERR_STORE;
	}
	return CU_OK;
}

static void pg_close(cu_store *s)
{
	struct pg_store *q = cu_pg(s);

	/* Closing the connection rolls back an open transaction on the server. */
	if (q->conn)
		PQfinish(q->conn);
	free(q);
}

static const cu_store_ops pg_ops;

/* The oldest server the SQL here is written for (EXECUTE FUNCTION, identity columns). */
#define MIN_SERVER_VERSION 110000

/*
 * Session settings: commits durable when they return, waits for a lock as
 * SQLite's busy timeout does, UTC, and bytea sent back raw (binary results
 * need no escape format, but a text result would).
 */
static const char session_settings[] = "SET synchronous_commit = on;"
                                       "SET lock_timeout = '5s';"
                                       "SET TIME ZONE 'UTC';"
                                       "SET client_min_messages = warning;";

/* The settings above, on a connection just made (at open, and after a reset). */
static cu_result session_setup(struct pg_store *q)
{
	if (PQsetClientEncoding(q->conn, "UTF8") != 0)
		return CU_ERR_STORE;
	return simple(q, session_settings);
}

cu_result cu_store_pg_open(const char *url, cu_store **out, char *err, size_t errlen);

/*
 * The server's notices and warnings (a ROLLBACK after a BEGIN that never
 * reached the server: "there is no transaction in progress") carry nothing
 * the store acts on, and a library never prints: libpq's default processor
 * would write them to standard error.  Kept across PQreset.
 */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

cu_result cu_store_pg_open(const char *url, cu_store **out, char *err, size_t errlen)
{
	struct pg_store *q;
	cu_result rc;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return CU_ERR_NOMEM;
	q->base.ops = &pg_ops;
	q->conn = PQconnectdb(url);
	if (!q->conn) {
		set_err(err, errlen, "cannot connect to the PostgreSQL store: out of memory");
		rc = CU_ERR_NOMEM;
		goto fail;
	}
	PQsetNoticeProcessor(q->conn, ignore_notice, NULL);
	if (PQstatus(q->conn) != CONNECTION_OK) {
		conn_fail(err, errlen, "cannot connect to the PostgreSQL store", q->conn);
		rc = CU_ERR_STORE;
		goto fail;
	}
	if (PQserverVersion(q->conn) < MIN_SERVER_VERSION) {
		if (err && errlen)
			snprintf(err, errlen,
			         "the PostgreSQL server is version %d; the store needs 11 or later",
			         PQserverVersion(q->conn));
		rc = CU_ERR_STORE;
		goto fail;
	}
	if (session_setup(q) != CU_OK) {
		conn_fail(err, errlen, "cannot set up the PostgreSQL session", q->conn);
		rc = CU_ERR_STORE;
		goto fail;
	}
	rc = migrate(q, &q->base.schema_version, err, errlen);
	if (rc)
		goto fail;
	*out = &q->base;
	return CU_OK;
fail:
	pg_close(&q->base);
	return rc;
}

/* ---- transactions ------------------------------------------------------------------ */

static void pg_rollback(cu_store *s)
{
	struct pg_store *q = cu_pg(s);

	if (PQtransactionStatus(q->conn) != PQTRANS_IDLE)
		(void)simple(q, "ROLLBACK");
}

/* BEGIN (and whatever `text` adds) on a live connection; nothing open on failure. */
static cu_result begin_with(cu_store *s, const char *text)
{
	struct pg_store *q = cu_pg(s);
	bool retried = false;
	cu_result rc;

	do {
		rc = ensure_connection(q);
		if (rc)
			return rc;
		rc = simple(q, text);
		if (rc)
			pg_rollback(s);
		/* A connection found broken at BEGIN had nothing of ours open: a new one. */
	} while (rc && idle_loss(q, &retried));
	return rc;
}

/*
 * The write lock: one advisory lock per schema (a database may hold
 * several stores, one per schema, as the tests' do), released by the
 * transaction's end.
 */
static cu_result pg_begin(cu_store *s)
{
	return begin_with(s, "BEGIN ISOLATION LEVEL READ COMMITTED;"
	                     " SELECT pg_advisory_xact_lock(hashtext(current_schema()))");
}

cu_result cu_pg_begin_unlocked(cu_store *s)
{
	return begin_with(s, "BEGIN ISOLATION LEVEL READ COMMITTED");
}

static cu_result pg_commit(cu_store *s)
{
	struct pg_store *q = cu_pg(s);
	PGresult *res;
	cu_result rc;

	/* An aborted transaction "commits" as a rollback: that is a failure here. */
	if (PQtransactionStatus(q->conn) != PQTRANS_INTRANS) {
		pg_rollback(s);
		return CU_ERR_STORE;
	}
	res = PQexec(q->conn, "COMMIT");
	if (res && PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0)
		rc = CU_OK;
	else
		rc = map_result(res) ? map_result(res) : CU_ERR_STORE;
	PQclear(res);
	/* A failed COMMIT leaves no transaction behind: the contract is "out". */
	if (rc)
		pg_rollback(s);
	return rc;
}

static cu_result pg_savepoint(cu_store *s)
{
	if (PQtransactionStatus(cu_pg(s)->conn) != PQTRANS_INTRANS)
		return CU_ERR_STORE;
	return simple(cu_pg(s), "SAVEPOINT cu_sp");
}

static cu_result pg_savepoint_release(cu_store *s)
{
	if (PQtransactionStatus(cu_pg(s)->conn) != PQTRANS_INTRANS)
		return CU_ERR_STORE;
	return simple(cu_pg(s), "RELEASE SAVEPOINT cu_sp");
}

/* Undoes the innermost savepoint (an aborted one too) and releases it. */
static cu_result pg_savepoint_rollback(cu_store *s)
{
	return simple(cu_pg(s), "ROLLBACK TO SAVEPOINT cu_sp; RELEASE SAVEPOINT cu_sp");
}

static cu_result pg_snapshot_begin(cu_store *s)
{
	return begin_with(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static void pg_snapshot_end(cu_store *s)
{
	pg_rollback(s);
}

/* ---- members ---------------------------------------------------------------------- */

static cu_result pg_member_insert(cu_store *s, const cu_member_row *row)
{
	bool live = !row->erased;
	cu_pg_params p = {0};

	/* An erased row (a restore replaying an erasure) carries no key or data. */
	cu_pg_param_text(&p, row->id);
	if (live)
		cu_pg_param_int(&p, row->key_id);
	else
		cu_pg_param_time(&p, 0);
	cu_pg_param_bytes(&p, live ? row->wrapped : NULL, sizeof(row->wrapped));
	cu_pg_param_bytes(&p, live && row->has_email_bidx ? row->email_bidx : NULL,
	                  sizeof(row->email_bidx));
	cu_pg_param_bytes(&p, live && row->has_phone_bidx ? row->phone_bidx : NULL,
	                  sizeof(row->phone_bidx));
	cu_pg_param_bytes(&p, live && row->fields ? row->fields : NULL, row->fields_len);
	cu_pg_param_int(&p, live ? (int64_t)row->present : 0);
	cu_pg_param_text_or_null(&p, live ? row->password_hash : NULL);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_int(&p, row->updated_us);
	if (live)
		cu_pg_param_time(&p, 0);
	else
		cu_pg_param_int(&p, row->erased_us);
	return write_one(s, ST_MEMBER_INSERT, &p, CU_ERR_CONFLICT);
}

cu_result cu_pg_read_member(const PGresult *r, cu_member_row *out)
{
	cu_result rc;
	size_t n;

	rc = cu_pg_copy_text(r, 0, 0, out->id, CU_ID_LEN);
	if (rc)
		return rc;
	out->erased = !cu_pg_null(r, 0, 10);
	out->erased_us = cu_pg_int(r, 0, 10);
	out->created_us = cu_pg_int(r, 0, 8);
	out->updated_us = cu_pg_int(r, 0, 9);
	if (out->erased)
		return CU_OK;
	out->key_id = (uint32_t)cu_pg_int(r, 0, 1);
	rc = cu_pg_copy_fixed(r, 0, 2, out->wrapped, sizeof(out->wrapped), NULL);
	if (!rc)
		rc = cu_pg_copy_fixed(r, 0, 3, out->email_bidx, sizeof(out->email_bidx),
		                      &out->has_email_bidx);
	if (!rc)
		rc = cu_pg_copy_fixed(r, 0, 4, out->phone_bidx, sizeof(out->phone_bidx),
		                      &out->has_phone_bidx);
	if (rc)
		return rc;
	out->present = (cu_fieldset)cu_pg_int(r, 0, 6);
	if (!cu_pg_null(r, 0, 5) && PQgetlength(r, 0, 5) > 0) {
		rc = cu_pg_copy_blob(r, 0, 5, &out->fields, &out->fields_len);
		if (rc)
			return rc;
	}
	if (!cu_pg_null(r, 0, 7)) {
		n = (size_t)PQgetlength(r, 0, 7);
		out->password_hash = malloc(n + 1);
		if (!out->password_hash)
			return CU_ERR_NOMEM;
		memcpy(out->password_hash, PQgetvalue(r, 0, 7), n);
		out->password_hash[n] = '\0';
	}
	return CU_OK;
}

static cu_result pg_member_get(cu_store *s, const char *id, cu_member_row *out)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, id);
	rc = run(s, ST_MEMBER_GET, &p, &res);
	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? cu_pg_read_member(res, out) : CU_ERR_NOT_FOUND;
	PQclear(res);
	if (rc) {
		cu_member_row_release(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* Why an update or erase touched no row: no such member, or erased. */
static cu_result member_state(cu_store *s, const char *id, bool *erased)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, id);
	rc = run(s, ST_MEMBER_STATE, &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1)
		*erased = cu_pg_int(res, 0, 0) != 0;
	else
		rc = CU_ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static cu_result pg_member_update(cu_store *s, const cu_member_row *row)
{
	cu_pg_params p = {0};
	bool erased = false;
	uint64_t n = 0;
	cu_result rc;

	cu_pg_param_text(&p, row->id);
	cu_pg_param_bytes(&p, row->has_email_bidx ? row->email_bidx : NULL,
	                  sizeof(row->email_bidx));
	cu_pg_param_bytes(&p, row->has_phone_bidx ? row->phone_bidx : NULL,
	                  sizeof(row->phone_bidx));
	cu_pg_param_bytes(&p, row->fields, row->fields_len);
	cu_pg_param_int(&p, (int64_t)row->present);
	cu_pg_param_text_or_null(&p, row->password_hash);
	cu_pg_param_int(&p, row->updated_us);
	/* An e-mail index another member holds: CU_ERR_CONFLICT, the transaction still open. */
	rc = cu_pg_write_guarded(s, ST_MEMBER_UPDATE, sql[ST_MEMBER_UPDATE], &p, &n);
	if (rc || n > 0)
		return rc;
	rc = member_state(s, row->id, &erased);
	return rc ? rc : erased ? CU_ERR_ERASED : CU_ERR_INTERNAL;
}

static cu_result pg_member_erase(cu_store *s, const char *id, int64_t when_us)
{
	cu_pg_params p = {0};
	bool erased = false;
	uint64_t n = 0;
	cu_result rc;

	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, when_us);
	rc = write_counted(s, ST_MEMBER_ERASE, &p, &n);
	if (rc || n > 0)
		return rc;
	/* Erasing twice is harmless and keeps the first erasure time. */
	rc = member_state(s, id, &erased);
	return rc ? rc : erased ? CU_OK : CU_ERR_INTERNAL;
}

static cu_result pg_member_find(cu_store *s, enum cu_store_bidx_kind kind,
                                const unsigned char bidx[CU_VAULT_BIDXBYTES],
                                char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_bytes(&p, bidx, CU_VAULT_BIDXBYTES);
	cu_pg_param_int(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	rc = run(s, kind == CU_STORE_BIDX_EMAIL ? ST_FIND_EMAIL : ST_FIND_PHONE, &p, &res);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		rc = cu_pg_copy_text(res, i, 0, ids[*n], CU_ID_LEN);
		if (rc)
			break;
		(*n)++;
	}
	PQclear(res);
	if (rc)
		*n = 0;
	return rc;
}

static cu_result pg_member_count(cu_store *s, uint64_t *n)
{
	return single_int(s, ST_MEMBER_COUNT, n);
}

static cu_result pg_member_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
                               size_t max, size_t *n)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, after);
	cu_pg_param_int(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	rc = run(s, ST_MEMBER_IDS, &p, &res);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		rc = cu_pg_copy_text(res, i, 0, ids[*n], CU_ID_LEN);
		if (rc)
			break;
		(*n)++;
	}
	PQclear(res);
	return rc;
}

static cu_result pg_member_keys(cu_store *s, const char *after, cu_member_key *keys, size_t max,
                                size_t *n)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, after);
	cu_pg_param_int(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	rc = run(s, ST_MEMBER_KEYS, &p, &res);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		cu_member_key *k = &keys[*n];

		memset(k, 0, sizeof(*k));
		rc = cu_pg_copy_text(res, i, 0, k->id, CU_ID_LEN);
		if (rc)
			break;
		k->key_id = (uint32_t)cu_pg_int(res, i, 1);
		k->erased = cu_pg_int(res, i, 3) != 0;
		if (!cu_pg_null(res, i, 2) && PQgetlength(res, i, 2) == CU_VAULT_WRAPPEDBYTES) {
			memcpy(k->wrapped, PQgetvalue(res, i, 2), CU_VAULT_WRAPPEDBYTES);
			k->has_wrapped = true;
		}
		(*n)++;
	}
	PQclear(res);
	return rc;
}

static cu_result pg_member_rewrap(cu_store *s, const char *id,
                                  const unsigned char old[CU_VAULT_WRAPPEDBYTES],
                                  const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
                                  uint32_t key_id)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, key_id);
	cu_pg_param_bytes(&p, wrapped, CU_VAULT_WRAPPEDBYTES);
	cu_pg_param_bytes(&p, old, CU_VAULT_WRAPPEDBYTES);
	return write_one(s, ST_MEMBER_REWRAP, &p, CU_ERR_CONFLICT);
}

/* ---- audit ---------------------------------------------------------------------- */

static cu_result pg_audit_append(cu_store *s, const cu_audit_entry *e)
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, (int64_t)e->seq);
	cu_pg_param_int(&p, e->time_us);
	cu_pg_param_text(&p, e->actor);
	cu_pg_param_text(&p, e->role);
	cu_pg_param_text(&p, e->action);
	cu_pg_param_text(&p, e->member);
	cu_pg_param_text(&p, e->purpose);
	cu_pg_param_text(&p, e->fields);
	cu_pg_param_text(&p, e->decision);
	cu_pg_param_text(&p, e->reason);
	cu_pg_param_text(&p, e->case_ref);
	cu_pg_param_bytes(&p, e->prev, CU_AUDIT_HASHBYTES);
	cu_pg_param_bytes(&p, e->hash, CU_AUDIT_HASHBYTES);
	cu_pg_param_text(&p, e->chain ? e->chain : CU_AUDIT_CHAIN_MAIN);
	return write_one(s, ST_AUDIT_APPEND, &p, CU_ERR_CONFLICT);
}

/* (seq, hash) of the one row statement st answers; seq 0 and a zero hash when none. */
static cu_result seq_hash_row(cu_store *s, int st, const cu_pg_params *p, uint64_t *seq,
                              unsigned char hash[CU_AUDIT_HASHBYTES])
{
	PGresult *res;
	cu_result rc = run(s, st, p, &res);

	*seq = 0;
	memset(hash, 0, CU_AUDIT_HASHBYTES);
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		*seq = (uint64_t)cu_pg_int(res, 0, 0);
		column_hash(res, 0, 1, hash);
	}
	PQclear(res);
	return CU_OK;
}

static cu_result pg_audit_last(cu_store *s, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	return seq_hash_row(s, ST_AUDIT_LAST, NULL, seq, hash);
}

static cu_result pg_audit_chain_last(cu_store *s, const char *chain, uint64_t *seq,
                                     unsigned char hash[CU_AUDIT_HASHBYTES])
{
	cu_pg_params p = {0};

	if (!strcmp(chain, CU_AUDIT_CHAIN_MAIN))
		return seq_hash_row(s, ST_AUDIT_MAIN_LAST, NULL, seq, hash);
	cu_pg_param_text(&p, chain);
	return seq_hash_row(s, ST_AUDIT_CHAIN_LAST, &p, seq, hash);
}

static cu_result pg_audit_count(cu_store *s, uint64_t *n)
{
	return single_int(s, ST_AUDIT_COUNT, n);
}

/* A uint64_t in decimal and its NUL. */
#define U64_TEXT 21

/* The per-member index's high-water mark: 0 when absent or not a number (all is tail). */
static cu_result read_mark(cu_store *s, uint64_t *mark)
{
	PGresult *res;
	cu_result rc = run(s, ST_AUDIT_MARK, NULL, &res);

	*mark = 0;
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		long long v = strtoll(cu_pg_str(res, 0, 0), NULL, 10);

		if (v > 0)
			*mark = (uint64_t)v;
	}
	PQclear(res);
	return CU_OK;
}

static cu_result pg_audit_mark(cu_store *s, uint64_t *mark)
{
	return read_mark(s, mark);
}

static cu_result pg_meta_set(cu_store *s, const char *key, const char *val);

static cu_result pg_audit_index(cu_store *s, uint64_t *mark)
{
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char text[U64_TEXT];
	uint64_t from, head;
	cu_pg_params p = {0};
	cu_result rc;

	if (PQtransactionStatus(cu_pg(s)->conn) != PQTRANS_INTRANS)
		return CU_ERR_STORE;
	rc = read_mark(s, &from);
	if (!rc)
		rc = pg_audit_last(s, &head, hash);
	if (rc)
		return rc;
	*mark = from;
	if (head <= from)
		return CU_OK;
	cu_pg_param_int(&p, (int64_t)from);
	rc = write_counted(s, ST_AUDIT_INDEX, &p, NULL);
	if (rc)
		return rc;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)head);
	rc = pg_meta_set(s, CU_PG_AUDIT_MARK, text);
	if (!rc)
		*mark = head;
	return rc;
}

static cu_result check_query(cu_store *s, int st, uint64_t mark, uint64_t *n, uint64_t *first)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_int(&p, (int64_t)mark);
	rc = run(s, st, &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		*n = (uint64_t)cu_pg_int(res, 0, 0);
		*first = (uint64_t)cu_pg_int(res, 0, 1);
	} else {
		rc = CU_ERR_STORE;
	}
	PQclear(res);
	return rc;
}

static cu_result pg_audit_index_check(cu_store *s, cu_audit_index_check *out)
{
	cu_result rc = read_mark(s, &out->mark);
	uint64_t mark = out->mark > (uint64_t)INT64_MAX ? INT64_MAX : out->mark;

	if (!rc)
		rc = check_query(s, ST_AUDIT_INDEX_MISSING, mark, &out->missing,
		                 &out->first_missing);
	if (!rc)
		rc = check_query(s, ST_AUDIT_INDEX_EXTRA, mark, &out->extra, &out->first_extra);
	return rc;
}

/* The index's rows up to `upto`, a page at a time in key order. */
static cu_result pg_audit_index_scan(cu_store *s, uint64_t upto, cu_store_audit_index_fn fn,
                                     void *ud)
{
	char member[CU_ID_LEN + 1] = "";
	int64_t seq = -1;
	int64_t lim = upto > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)upto;

	for (;;) {
		cu_pg_params p = {0};
		PGresult *res;
		cu_result rc;
		int rows;

		cu_pg_param_int(&p, lim);
		cu_pg_param_text(&p, member);
		cu_pg_param_int(&p, seq);
		cu_pg_param_int(&p, SCAN_PAGE);
		rc = run(s, ST_AUDIT_INDEX_SCAN, &p, &res);
		if (rc)
			return rc;
		rows = PQntuples(res);
		for (int i = 0; i < rows; i++) {
			if (fn(ud, cu_pg_str(res, i, 0), (uint64_t)cu_pg_int(res, i, 1))) {
				PQclear(res);
				return CU_OK;
			}
		}
		if (rows > 0) {
			snprintf(member, sizeof(member), "%.*s", CU_ID_LEN,
			         cu_pg_str(res, rows - 1, 0));
			seq = cu_pg_int(res, rows - 1, 1);
		}
		PQclear(res);
		if (rows < SCAN_PAGE)
			return CU_OK;
	}
}

/*
 * One page of audit rows to fn; the entry's strings point into the result,
 * valid for the callback.  *last is the page's last seq, *rows its size.
 */
static bool walk_rows(const PGresult *res, cu_store_audit_fn fn, void *ud, int64_t *last)
{
	cu_audit_entry e;

	for (int i = 0; i < PQntuples(res); i++) {
		e.seq = (uint64_t)cu_pg_int(res, i, 0);
		e.time_us = cu_pg_int(res, i, 1);
		e.actor = cu_pg_str(res, i, 2);
		e.role = cu_pg_str(res, i, 3);
		e.action = cu_pg_str(res, i, 4);
		e.member = cu_pg_str(res, i, 5);
		e.purpose = cu_pg_str(res, i, 6);
		e.fields = cu_pg_str(res, i, 7);
		e.decision = cu_pg_str(res, i, 8);
		e.reason = cu_pg_str(res, i, 9);
		e.case_ref = cu_pg_str(res, i, 10);
		column_hash(res, i, 11, e.prev);
		column_hash(res, i, 12, e.hash);
		e.chain = cu_pg_str(res, i, 13);
		*last = (int64_t)e.seq;
		if (fn(ud, &e))
			return true;
	}
	return false;
}

/*
 * Pages of statement st from `from`: its parameters are ($1 from, [$2
 * member, $3 mark,] limit).  Rows are never deleted and seqs only grow, so
 * pages read at different moments still give each row once, in order.
 */
static cu_result scan_pages(cu_store *s, int st, int64_t from, const char *member, int64_t mark,
                            cu_store_audit_fn fn, void *ud, bool *stopped)
{
	for (;;) {
		cu_pg_params p = {0};
		PGresult *res;
		int64_t last = from;
		cu_result rc;
		int rows;

		cu_pg_param_int(&p, from);
		if (member) {
			cu_pg_param_text(&p, member);
			cu_pg_param_int(&p, mark);
		}
		cu_pg_param_int(&p, SCAN_PAGE);
		rc = run(s, st, &p, &res);
		if (rc)
			return rc;
		rows = PQntuples(res);
		*stopped = walk_rows(res, fn, ud, &last);
		PQclear(res);
		if (*stopped || rows < SCAN_PAGE || last == INT64_MAX)
			return CU_OK;
		from = last + 1;
	}
}

/*
 * A member's entries: the indexed ones up to the mark, then the tail (as
 * SQLite's backend reads them; its comment says why no common snapshot is
 * needed).
 */
static cu_result scan_member(cu_store *s, int64_t from, const char *member, cu_store_audit_fn fn,
                             void *ud)
{
	bool stopped = false;
	uint64_t mark;
	cu_result rc;

	if (!*member)
		return CU_OK; /* entries about no one are nobody's */
	rc = read_mark(s, &mark);
	if (mark > (uint64_t)INT64_MAX)
		mark = INT64_MAX;
	if (!rc)
		rc = scan_pages(s, ST_AUDIT_SCAN_INDEXED, from, member, (int64_t)mark, fn, ud,
		                &stopped);
	if (!rc && !stopped)
		rc = scan_pages(s, ST_AUDIT_SCAN_TAIL, from, member, (int64_t)mark, fn, ud,
		                &stopped);
	return rc;
}

static cu_result pg_audit_scan(cu_store *s, uint64_t from, const char *member, cu_store_audit_fn fn,
                               void *ud)
{
	int64_t f = from > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)from;
	bool stopped = false;

	if (member)
		return scan_member(s, f, member, fn, ud);
	return scan_pages(s, ST_AUDIT_SCAN, f, NULL, 0, fn, ud, &stopped);
}

static cu_result pg_audit_hash_at(cu_store *s, uint64_t seq, unsigned char hash[CU_AUDIT_HASHBYTES],
                                  bool *found)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_int(&p, (int64_t)seq);
	rc = run(s, ST_AUDIT_HASH_AT, &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		column_hash(res, 0, 0, hash);
		*found = true;
	}
	PQclear(res);
	return CU_OK;
}

static cu_result pg_audit_checkpoint_insert(cu_store *s, const cu_audit_checkpoint *cp)
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, (int64_t)cp->seq);
	cu_pg_param_bytes(&p, cp->head, CU_AUDIT_HASHBYTES);
	cu_pg_param_int(&p, cp->time_us);
	cu_pg_param_int(&p, (int64_t)cp->key_id);
	cu_pg_param_bytes(&p, cp->sig, CU_VAULT_SIGBYTES);
	return write_counted(s, ST_AUDIT_CKPT_INSERT, &p, NULL);
}

/* A row as stored; a bytea of the wrong size is zero-padded or cut (its signature then fails). */
static void column_checkpoint(const PGresult *r, int row, cu_audit_checkpoint *cp)
{
	size_t n = cu_pg_null(r, row, 4) ? 0 : (size_t)PQgetlength(r, row, 4);

	memset(cp, 0, sizeof(*cp));
	cp->seq = (uint64_t)cu_pg_int(r, row, 0);
	column_hash(r, row, 1, cp->head);
	cp->time_us = cu_pg_int(r, row, 2);
	cp->key_id = (uint32_t)cu_pg_int(r, row, 3);
	if (n)
		memcpy(cp->sig, PQgetvalue(r, row, 4),
		       n < CU_VAULT_SIGBYTES ? n : CU_VAULT_SIGBYTES);
}

static cu_result pg_audit_checkpoint_last(cu_store *s, cu_audit_checkpoint *out, bool *found)
{
	PGresult *res;
	cu_result rc = run(s, ST_AUDIT_CKPT_LAST, NULL, &res);

	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		column_checkpoint(res, 0, out);
		*found = true;
	}
	PQclear(res);
	return CU_OK;
}

static cu_result pg_audit_checkpoint_scan(cu_store *s, cu_store_audit_checkpoint_fn fn, void *ud)
{
	cu_audit_checkpoint cp;
	int64_t after = 0;

	for (;;) {
		cu_pg_params p = {0};
		PGresult *res;
		cu_result rc;
		int rows;

		cu_pg_param_int(&p, after);
		cu_pg_param_int(&p, SCAN_PAGE);
		rc = run(s, ST_AUDIT_CKPT_SCAN, &p, &res);
		if (rc)
			return rc;
		rows = PQntuples(res);
		for (int i = 0; i < rows; i++) {
			column_checkpoint(res, i, &cp);
			after = cu_pg_int(res, i, 5);
			if (fn(ud, &cp)) {
				PQclear(res);
				return CU_OK;
			}
		}
		PQclear(res);
		if (rows < SCAN_PAGE)
			return CU_OK;
	}
}

/* ---- meta ------------------------------------------------------------------------ */

static cu_result pg_meta_get(cu_store *s, const char *key, char *val, size_t vallen, bool *found)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, key);
	rc = run(s, ST_META_GET, &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		size_t n = (size_t)PQgetlength(res, 0, 0);

		if (cu_pg_null(res, 0, 0)) {
			rc = CU_ERR_STORE;
		} else if (n >= vallen) {
			rc = CU_ERR_TOO_LARGE;
		} else {
			memcpy(val, PQgetvalue(res, 0, 0), n);
			val[n] = '\0';
			*found = true;
		}
	}
	PQclear(res);
	return rc;
}

static cu_result pg_meta_scan(cu_store *s, const char *prefix, cu_store_meta_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, prefix);
	rc = run(s, ST_META_SCAN, &p, &res);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		if (fn(ud, cu_pg_str(res, i, 0), cu_pg_str(res, i, 1)))
			break;
	PQclear(res);
	return CU_OK;
}

static cu_result pg_meta_set(cu_store *s, const char *key, const char *val)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, key);
	cu_pg_param_text(&p, val);
	return write_counted(s, ST_META_SET, &p, NULL);
}

/*
 * SQLite's checkpoints copy its log into the database file; the server
 * does that by itself (checkpoint_timeout, max_wal_size).  Nothing to do,
 * and nothing a caller waits for: the log counts as empty.
 */
static cu_result pg_checkpoint(cu_store *s)
{
	(void)s;
	return CU_OK;
}

static cu_result pg_set_autocheckpoint(cu_store *s, unsigned pages)
{
	(void)s;
	(void)pages;
	return CU_OK;
}

static cu_result pg_set_cache_kib(cu_store *s, unsigned kib)
{
	(void)s;
	(void)kib;
	return CU_OK;
}

static cu_result pg_checkpoint_passive(cu_store *s, int *log_frames, int *checkpointed)
{
	(void)s;
	*log_frames = 0;
	*checkpointed = 0;
	return CU_OK;
}

/* ---- tokens ------------------------------------------------------------------------ */

static cu_result read_token(const PGresult *r, int row, cu_token_row *out)
{
	bool has = false;
	cu_result rc;

	rc = cu_pg_copy_text(r, row, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_fixed(r, row, 1, out->hash, sizeof(out->hash), &has);
	if (!rc && !has)
		rc = CU_ERR_STORE;
	/* A role this build does not know is a damaged row, not a guess. */
	if (!rc && cu_role_parse(cu_pg_str(r, row, 2), &out->role) != CU_OK)
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_pg_copy_text(r, row, 3, out->name, CU_STORE_TOKEN_NAME_BYTES);
	if (rc)
		return rc;
	out->created_us = cu_pg_int(r, row, 4);
	out->expires_us = cu_pg_int(r, row, 5);
	out->revoked_us = cu_pg_int(r, row, 6);
	return CU_OK;
}

static cu_result token_lookup(cu_store *s, int st, const cu_pg_params *p, cu_token_row *out)
{
	PGresult *res;
	cu_result rc = run(s, st, p, &res);

	if (!rc) {
		rc = PQntuples(res) == 1 ? read_token(res, 0, out) : CU_ERR_NOT_FOUND;
		PQclear(res);
	}
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static cu_result pg_token_insert(cu_store *s, const cu_token_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_bytes(&p, row->hash, sizeof(row->hash));
	cu_pg_param_text(&p, cu_role_name(row->role));
	cu_pg_param_text(&p, row->name);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_time(&p, row->expires_us);
	cu_pg_param_time(&p, row->revoked_us);
	return write_one(s, ST_TOKEN_INSERT, &p, CU_ERR_CONFLICT);
}

static cu_result pg_token_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                      cu_token_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_bytes(&p, hash, CU_STORE_HASHBYTES);
	return token_lookup(s, ST_TOKEN_BY_HASH, &p, out);
}

static cu_result pg_token_get(cu_store *s, const char *id, cu_token_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return token_lookup(s, ST_TOKEN_GET, &p, out);
}

static cu_result pg_token_list(cu_store *s, cu_store_token_fn fn, void *ud)
{
	cu_token_row row;
	PGresult *res;
	cu_result rc = run(s, ST_TOKEN_LIST, NULL, &res);

	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		memset(&row, 0, sizeof(row));
		rc = read_token(res, i, &row);
		if (rc || fn(ud, &row))
			break;
	}
	PQclear(res);
	return rc;
}

static cu_result pg_token_revoke(cu_store *s, const char *id, int64_t when_us)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, when_us);
	return write_one(s, ST_TOKEN_REVOKE, &p, CU_ERR_NOT_FOUND);
}

/* ---- sessions ---------------------------------------------------------------------- */

static cu_result pg_session_insert(cu_store *s, const cu_session_row *row)
{
	cu_pg_params p = {0};
	uint64_t n = 0;
	cu_result rc;

	cu_pg_param_bytes(&p, row->hash, sizeof(row->hash));
	cu_pg_param_text(&p, row->member);
	cu_pg_param_bytes(&p, row->csrf_hash, sizeof(row->csrf_hash));
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_int(&p, row->expires_us);
	/* A member that is not there fails the insert, not the transaction (as in SQLite). */
	rc = cu_pg_write_guarded(s, ST_SESSION_INSERT, sql[ST_SESSION_INSERT], &p, &n);
	return rc ? rc : n ? CU_OK : CU_ERR_CONFLICT;
}

static cu_result pg_session_get(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                cu_session_row *out)
{
	bool has_hash = false, has_csrf = false;
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_bytes(&p, hash, CU_STORE_HASHBYTES);
	rc = run(s, ST_SESSION_GET, &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		rc = CU_ERR_NOT_FOUND;
	} else {
		rc = cu_pg_copy_fixed(res, 0, 0, out->hash, sizeof(out->hash), &has_hash);
		if (!rc)
			rc = cu_pg_copy_text(res, 0, 1, out->member, CU_ID_LEN);
		if (!rc)
			rc = cu_pg_copy_fixed(res, 0, 2, out->csrf_hash, sizeof(out->csrf_hash),
			                      &has_csrf);
		if (!rc && !(has_hash && has_csrf))
			rc = CU_ERR_STORE;
		out->created_us = cu_pg_int(res, 0, 3);
		out->expires_us = cu_pg_int(res, 0, 4);
	}
	PQclear(res);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static cu_result pg_session_delete(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES])
{
	cu_pg_params p = {0};

	cu_pg_param_bytes(&p, hash, CU_STORE_HASHBYTES);
	return write_one(s, ST_SESSION_DELETE, &p, CU_ERR_NOT_FOUND);
}

static cu_result pg_session_delete_member(cu_store *s, const char *member, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	return write_counted(s, ST_SESSION_DELETE_MEMBER, &p, n);
}

static cu_result pg_session_purge_expired(cu_store *s, int64_t now_us, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, now_us);
	return write_counted(s, ST_SESSION_PURGE, &p, n);
}

static const cu_store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .savepoint_release = pg_savepoint_release,
    .savepoint_rollback = pg_savepoint_rollback,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .snapshot_per_statement = true,
    .member_insert = pg_member_insert,
    .member_get = pg_member_get,
    .member_update = pg_member_update,
    .member_erase = pg_member_erase,
    .member_find = pg_member_find,
    .member_count = pg_member_count,
    .member_ids = pg_member_ids,
    .member_keys = pg_member_keys,
    .member_rewrap = pg_member_rewrap,
    .audit_append = pg_audit_append,
    .audit_last = pg_audit_last,
    .audit_chain_last = pg_audit_chain_last,
    .audit_count = pg_audit_count,
    .audit_scan = pg_audit_scan,
    .audit_hash_at = pg_audit_hash_at,
    .audit_mark = pg_audit_mark,
    .audit_index = pg_audit_index,
    .audit_index_check = pg_audit_index_check,
    .audit_index_scan = pg_audit_index_scan,
    .audit_checkpoint_insert = pg_audit_checkpoint_insert,
    .audit_checkpoint_last = pg_audit_checkpoint_last,
    .audit_checkpoint_scan = pg_audit_checkpoint_scan,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .meta_scan = pg_meta_scan,
    .checkpoint = pg_checkpoint,
    .set_autocheckpoint = pg_set_autocheckpoint,
    .set_cache_kib = pg_set_cache_kib,
    .checkpoint_passive = pg_checkpoint_passive,
    .token_insert = pg_token_insert,
    .token_get_by_hash = pg_token_get_by_hash,
    .token_get = pg_token_get,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
    .session_insert = pg_session_insert,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .session_delete_member = pg_session_delete_member,
    .session_purge_expired = pg_session_purge_expired,
    .consent = &cu_pg_consent_ops,
    .notify = &cu_pg_notify_ops,
    .diary = &cu_pg_diary_ops,
    .third_party = &cu_pg_third_party_ops,
    .subcontractor = &cu_pg_subcontractor_ops,
    .request = &cu_pg_request_ops,
    .beacon = &cu_pg_beacon_ops,
    .stats = &cu_pg_stats_ops,
    .limits = &cu_pg_limits_ops,
    .backup = &cu_pg_backup_ops,
};
