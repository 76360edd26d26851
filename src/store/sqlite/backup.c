/*
 * src/store/sqlite/backup.c — the backup area of the SQLite backend
 * (store/backup.h): the online copy, its counts, key ids, erased ids and a
 * file's integrity check.
 *
 * The copy is SQLite's online backup API run from inside a read
 * transaction of the store's own connection: in WAL mode that transaction
 * holds one committed state (the log frames it may read are fixed when it
 * begins) while writers on other connections append to the log, so the
 * copy is consistent and nobody waits for it.  Without the enclosing
 * transaction each sqlite3_backup_step would take a new snapshot and start
 * over whenever another connection had committed meanwhile.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/backup_backend.h"
#include "store/sqlite/sqlite.h"

enum {
	S_KEY_IDS = CU_SQLITE_SLOTS_BACKUP,
	S_ERASED_IDS,
	S_MEMBER_COUNTS,
	S_AUDIT_COUNTS,
};

static const char sql_key_ids[] =
    "SELECT DISTINCT key_id FROM members WHERE wrapped IS NOT NULL ORDER BY key_id";
static const char sql_erased_ids[] =
    "SELECT id FROM members WHERE id > ?1 AND erased_us IS NOT NULL"
    " ORDER BY id LIMIT ?2";
static const char sql_member_counts[] = "SELECT count(*), count(erased_us) FROM members";
static const char sql_audit_counts[] = "SELECT count(*), coalesce(max(seq), 0) FROM audit";

static cu_result failf(char *err, size_t errlen, const char *what, sqlite3 *db, int rc)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return CU_ERR_STORE;
}

static cu_result key_ids(cu_store *s, uint32_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_KEY_IDS, sql_key_ids, &st);
	int r;

	if (rc)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			rc = CU_ERR_TOO_LARGE;
			break;
		}
		ids[(*n)++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	if (!rc && r != SQLITE_DONE)
		rc = cu_sqlite_map_rc(r) ? cu_sqlite_map_rc(r) : CU_ERR_STORE;
	cu_sqlite_done(st);
	return rc;
}

static cu_result erased_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1], size_t max,
                            size_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_ERASED_IDS, sql_erased_ids, &st);
	int r;

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, after) || sqlite3_bind_int64(st, 2, (sqlite3_int64)max)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		rc = cu_sqlite_copy_text(st, 0, ids[*n], CU_ID_LEN);
		if (rc)
			break;
		(*n)++;
	}
	if (!rc && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = cu_sqlite_map_rc(r) ? cu_sqlite_map_rc(r) : CU_ERR_STORE;
	cu_sqlite_done(st);
	return rc;
}

/* Two integers of a one-row query. */
static cu_result two(cu_store *s, int slot, const char *text, uint64_t *a, uint64_t *b)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, slot, text, &st);
	int r;

	if (rc)
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*a = (uint64_t)sqlite3_column_int64(st, 0);
		*b = (uint64_t)sqlite3_column_int64(st, 1);
	}
	cu_sqlite_done(st);
	return r == SQLITE_ROW ? CU_OK : CU_ERR_STORE;
}

static cu_result counts(cu_store *s, cu_store_backup_stats *stats)
{
	cu_result rc = two(s, S_MEMBER_COUNTS, sql_member_counts, &stats->members, &stats->erased);

	if (!rc)
		rc = two(s, S_AUDIT_COUNTS, sql_audit_counts, &stats->audit_entries,
		         &stats->audit_head_seq);
	if (!rc)
		rc = key_ids(s, stats->key_ids, CU_STORE_KEY_IDS_MAX, &stats->n_key_ids);
	stats->schema_version = s->schema_version;
	return rc;
}

static uint64_t page_size(sqlite3 *d)
{
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;

	if (!sqlite3_prepare_v2(d, "PRAGMA page_size", -1, &st, NULL) &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static cu_result copy(cu_store *s, const char *dest, unsigned pages_per_step,
                      cu_store_progress_fn fn, void *ud, cu_store_backup_stats *stats, char *err,
                      size_t errlen)
{
	struct sqlite_store *q = cu_sqlite(s);
	sqlite3 *d = NULL;
	sqlite3_backup *b = NULL;
	cu_result rc;
	int r, fd;

	/* Mode 0600 before SQLite creates it with the umask's mode. */
	fd = open(dest, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot create '%s'", dest);
		return CU_ERR_IO;
	}
	close(fd);
	r = sqlite3_exec(q->db, "BEGIN DEFERRED", NULL, NULL, NULL);
	if (r)
		return failf(err, errlen, "cannot begin the read transaction", q->db, r);
	/* The first read fixes the state: the counts and the copy see the same one. */
	rc = counts(s, stats);
	if (rc) {
		failf(err, errlen, "cannot count the store", q->db, SQLITE_ERROR);
		goto out;
	}
	r = sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (!r)
		r = sqlite3_exec(d, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", NULL, NULL,
		                 NULL);
	if (r) {
		rc = failf(err, errlen, "cannot open the copy", d, r);
		goto out;
	}
	b = sqlite3_backup_init(d, "main", q->db, "main");
	if (!b) {
		rc = failf(err, errlen, "cannot start the copy", d, SQLITE_ERROR);
		goto out;
	}
	do {
		r = sqlite3_backup_step(b, (int)pages_per_step);
		if (fn)
			fn(ud,
			   (uint64_t)(sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b)),
			   (uint64_t)sqlite3_backup_pagecount(b));
	} while (r == SQLITE_OK);
	stats->pages = (uint64_t)sqlite3_backup_pagecount(b);
	if (r != SQLITE_DONE) {
		rc = failf(err, errlen, "cannot copy the store", d, r);
		goto out;
	}
	r = sqlite3_backup_finish(b);
	b = NULL;
	if (r) {
		rc = failf(err, errlen, "cannot finish the copy", d, r);
		goto out;
	}
	stats->page_size = page_size(d);
	rc = CU_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	if (d && sqlite3_close(d) && !rc)
		rc = failf(err, errlen, "cannot close the copy", NULL, SQLITE_IOERR);
	/* A read transaction: ending it changes nothing. */
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

const struct cu_store_backup_ops cu_sqlite_backup_ops = {
    .copy = copy,
    .key_ids = key_ids,
    .erased_ids = erased_ids,
};

/* path as a URI path: '%', '?' and '#' escaped (SQLite decodes them). */
static int uri_path(const char *path, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = path; *p; p++) {
		if (o + 4 >= cap)
			return -1;
		if (*p == '%' || *p == '?' || *p == '#')
			o += (size_t)snprintf(out + o, cap - o, "%%%02X", (unsigned char)*p);
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

cu_result cu_store_file_check(const char *path, char *err, size_t errlen)
{
	static const char prefix[] = "file:";
	static const char suffix[] = "?immutable=1";
	sqlite3_stmt *st = NULL;
	sqlite3 *d = NULL;
	size_t cap;
	char *uri;
	cu_result rc = CU_ERR_STORE;
	int r;

	if (!path || !*path)
		return CU_ERR_INVALID_ARGUMENT;
	cap = sizeof(prefix) + 3 * strlen(path) + sizeof(suffix) + 1;
	uri = malloc(cap);
	if (!uri)
		return CU_ERR_NOMEM;
	memcpy(uri, prefix, sizeof(prefix) - 1);
	if (uri_path(path, uri + sizeof(prefix) - 1, cap - sizeof(prefix) - sizeof(suffix))) {
		free(uri);
		return CU_ERR_INVALID_ARGUMENT;
	}
	memcpy(uri + strlen(uri), suffix, sizeof(suffix)); /* room reserved above */
	r = sqlite3_open_v2(uri, &d, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
	                    NULL);
	free(uri);
	if (!r)
		r = sqlite3_prepare_v2(d, "PRAGMA integrity_check(1)", -1, &st, NULL);
	if (!r)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && !strcmp(t, "ok"))
			rc = CU_OK;
		else if (err && errlen)
			snprintf(err, errlen, "integrity check: %.200s", t ? t : "no answer");
	} else {
		failf(err, errlen, "integrity check", d, r);
	}
	sqlite3_finalize(st);
	sqlite3_close(d);
	return rc;
}
