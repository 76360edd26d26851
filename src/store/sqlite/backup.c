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
 *
 * The copy's destination is not a file: it is a database opened on a VFS of
 * this file's own ("cu-backup-stream", no journal, no sync) whose one file
 * hands what the pager writes to the caller's sink.  The backup API dirties
 * the destination's pages in ascending order and the pager writes them out
 * (when its cache spills, and at the commit, sorted) in that order, except
 * page 1, which the backup and the commit rewrite at the end (the schema
 * cookie, the change counter): page 1 is kept in memory and handed over
 * last.  A page never written (SQLite skips the lock-byte page at 1 GiB)
 * reads as zeros in a file and is streamed as zeros.  A write anywhere else
 * out of order, or a read of a page already handed on, fails the copy
 * (SQLITE_IOERR) rather than produce a wrong stream.
 */
#include <pthread.h>
#include <stdbool.h>
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
	S_SLOTS_END_
};
_Static_assert(S_SLOTS_END_ <= CU_SQLITE_LAZY_MAX, "backup area: too many statements");

/* The wrap's first byte says its format (vault.h): 2 a keyring tree, else a master key. */
static const char sql_key_ids[] = "SELECT DISTINCT key_id, substr(wrapped, 1, 1) = x'02'"
                                  " FROM members WHERE wrapped IS NOT NULL ORDER BY 2, 1";
static const char sql_erased_ids[] =
    "SELECT id FROM members WHERE id > ?1 AND erased_us IS NOT NULL"
    " ORDER BY id LIMIT ?2";
/* count(*) walks the smallest index; the chain's seq runs 1..head, so max(seq) counts it. */
static const char sql_member_counts[] = "SELECT count(*), 0 FROM members";
static const char sql_audit_counts[] = "SELECT coalesce(max(seq), 0), 0 FROM audit";

static cu_result failf(char *err, size_t errlen, const char *what, sqlite3 *db, int rc)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return CU_ERR_STORE;
}

static cu_result key_ids(cu_store *s, uint32_t *master, size_t *nm, uint32_t *trees, size_t *nt,
                         size_t max)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_KEY_IDS, sql_key_ids, &st);
	int r;

	if (rc)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		bool tree = sqlite3_column_int(st, 1) != 0;
		size_t *n = tree ? nt : nm;

		if (*n == max) {
			rc = CU_ERR_TOO_LARGE;
			break;
		}
		(tree ? trees : master)[(*n)++] = (uint32_t)sqlite3_column_int64(st, 0);
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
	uint64_t zero;
	cu_result rc = two(s, S_MEMBER_COUNTS, sql_member_counts, &stats->members, &zero);

	if (!rc)
		rc = two(s, S_AUDIT_COUNTS, sql_audit_counts, &stats->audit_head_seq, &zero);
	if (!rc)
		rc = key_ids(s, stats->key_ids, &stats->n_key_ids, stats->tree_ids,
		             &stats->n_tree_ids, CU_STORE_KEY_IDS_MAX);
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

/* ---- the streaming destination ------------------------------------------------ */

#define STREAM_VFS_NAME "cu-backup-stream"
#define STREAM_BUF      (1u << 20) /* bytes handed to the sink at a time */
#define PAGE_MAX        65536      /* SQLite's largest page */

struct sink_state {
	cu_store_sink_fn sink;
	void *ud;
	cu_result failed;   /* the sink's refusal, kept */
	bool disorder;      /* a write or read the stream cannot serve */
	unsigned page_size; /* the source's, which the copy keeps */
	sqlite3_int64 next; /* the next file offset the stream expects (after page 1) */
	sqlite3_int64 size; /* the file's size as the pager sees it */
	unsigned char page1[PAGE_MAX];
	unsigned char *buf;
	size_t used;
};

struct stream_file {
	sqlite3_file base;
	struct sink_state *st;
};

/* The copy in progress on this thread (one at a time per thread). */
static _Thread_local struct sink_state *current;

static int flush(struct sink_state *st)
{
	if (st->used && !st->failed) {
		st->failed = st->sink(st->ud, st->buf, st->used);
		st->used = 0;
	}
	return st->failed ? SQLITE_IOERR_WRITE : SQLITE_OK;
}

static int put(struct sink_state *st, const unsigned char *p, size_t n)
{
	while (n) {
		size_t take = STREAM_BUF - st->used < n ? STREAM_BUF - st->used : n;

		if (p)
			memcpy(st->buf + st->used, p, take);
		else
			memset(st->buf + st->used, 0, take);
		st->used += take;
		if (p)
			p += take;
		n -= take;
		if (st->used == STREAM_BUF && flush(st))
			return SQLITE_IOERR_WRITE;
	}
	return SQLITE_OK;
}

static int s_close(sqlite3_file *f)
{
	(void)f;
	return SQLITE_OK;
}

static int s_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
	struct sink_state *st = ((struct stream_file *)f)->st;

	if (off >= st->size) {
		memset(out, 0, (size_t)n);
		return SQLITE_IOERR_SHORT_READ;
	}
	if (off + n <= (sqlite3_int64)st->page_size) {
		memcpy(out, st->page1 + off, (size_t)n);
		return SQLITE_OK;
	}
	st->disorder = true; /* already handed on */
	return SQLITE_IOERR_READ;
}

static int s_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct sink_state *st = ((struct stream_file *)f)->st;
	int rc;

	if (off == 0) {
		if ((unsigned)n != st->page_size) {
			st->disorder = true;
			return SQLITE_IOERR_WRITE;
		}
		memcpy(st->page1, p, (size_t)n);
	} else {
		if (off < st->next) {
			st->disorder = true;
			return SQLITE_IOERR_WRITE;
		}
		/* A page never written (the lock-byte page) is zeros, as in a file. */
		rc = put(st, NULL, (size_t)(off - st->next));
		if (!rc)
			rc = put(st, p, (size_t)n);
		if (rc)
			return rc;
		st->next = off + n;
	}
	if (off + n > st->size)
		st->size = off + n;
	return SQLITE_OK;
}

static int s_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct sink_state *st = ((struct stream_file *)f)->st;

	if (size < st->next && size != 0) {
		st->disorder = true;
		return SQLITE_IOERR_TRUNCATE;
	}
	return SQLITE_OK;
}

static int s_sync(sqlite3_file *f, int flags)
{
	(void)f;
	(void)flags;
	return SQLITE_OK;
}

static int s_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = ((struct stream_file *)f)->st->size;
	return SQLITE_OK;
}

static int s_lock(sqlite3_file *f, int level)
{
	(void)f;
	(void)level;
	return SQLITE_OK;
}

static int s_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0;
	return SQLITE_OK;
}

static int s_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int s_sector(sqlite3_file *f)
{
	(void)f;
	return 4096;
}

static int s_device(sqlite3_file *f)
{
	(void)f;
	return 0;
}

static const sqlite3_io_methods stream_methods = {
    .iVersion = 1,
    .xClose = s_close,
    .xRead = s_read,
    .xWrite = s_write,
    .xTruncate = s_truncate,
    .xSync = s_sync,
    .xFileSize = s_size,
    .xLock = s_lock,
    .xUnlock = s_lock,
    .xCheckReservedLock = s_reserved,
    .xFileControl = s_control,
    .xSectorSize = s_sector,
    .xDeviceCharacteristics = s_device,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct stream_file *sf = (struct stream_file *)f;

	(void)vfs;
	(void)name;
	/* Only the main database: with journal_mode=OFF there is nothing else. */
	if (!(flags & SQLITE_OPEN_MAIN_DB) || !current) {
		f->pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	sf->st = current;
	f->pMethods = &stream_methods;
	if (out)
		*out = flags;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs;
	(void)name;
	(void)sync;
	return SQLITE_OK;
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	(void)name;
	(void)flags;
	*out = 0; /* no journal, no log: nothing exists beside the stream */
	return SQLITE_OK;
}

static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return snprintf(out, (size_t)n, "%s", name) < n ? SQLITE_OK : SQLITE_CANTOPEN;
}

static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)vfs;
	return d->xRandomness(d, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)vfs;
	return d->xSleep(d, us);
}

static int v_time(sqlite3_vfs *vfs, double *out)
{
	sqlite3_vfs *d = sqlite3_vfs_find(NULL);

	(void)vfs;
	return d->xCurrentTime(d, out);
}

static int v_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (n > 0)
		out[0] = '\0';
	return 0;
}

static sqlite3_vfs stream_vfs = {
    .iVersion = 1,
    .szOsFile = sizeof(struct stream_file),
    .mxPathname = 256,
    .zName = STREAM_VFS_NAME,
    .xOpen = v_open,
    .xDelete = v_delete,
    .xAccess = v_access,
    .xFullPathname = v_full,
    .xRandomness = v_random,
    .xSleep = v_sleep,
    .xCurrentTime = v_time,
    .xGetLastError = v_error,
};

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_rc;

static void vfs_register(void)
{
	vfs_rc = sqlite3_vfs_register(&stream_vfs, 0);
}

static cu_result stream(cu_store *s, unsigned pages_per_step, cu_store_sink_fn sink, void *sink_ud,
                        cu_store_progress_fn fn, void *ud, cu_store_backup_stats *stats, char *err,
                        size_t errlen)
{
	struct sqlite_store *q = cu_sqlite(s);
	struct sink_state *st = NULL;
	sqlite3 *d = NULL;
	sqlite3_backup *b = NULL;
	cu_result rc;
	int r;

	pthread_once(&vfs_once, vfs_register);
	if (vfs_rc)
		return failf(err, errlen, "cannot register the backup stream", NULL, vfs_rc);
	st = calloc(1, sizeof(*st));
	if (st)
		st->buf = malloc(STREAM_BUF);
	if (!st || !st->buf) {
		if (st)
			free(st->buf);
		free(st);
		return CU_ERR_NOMEM;
	}
	st->sink = sink;
	st->ud = sink_ud;
	r = sqlite3_exec(q->db, "BEGIN DEFERRED", NULL, NULL, NULL);
	if (r) {
		rc = failf(err, errlen, "cannot begin the read transaction", q->db, r);
		goto out;
	}
	/* The first read fixes the state: the counts and the copy see the same one. */
	rc = counts(s, stats);
	if (rc) {
		failf(err, errlen, "cannot count the store", q->db, SQLITE_ERROR);
		goto out;
	}
	st->page_size = (unsigned)page_size(q->db);
	st->next = st->page_size;
	if (st->page_size < 512 || st->page_size > PAGE_MAX) {
		rc = failf(err, errlen, "cannot read the page size", q->db, SQLITE_ERROR);
		goto out;
	}
	current = st;
	r = sqlite3_open_v2("backup-stream", &d,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    STREAM_VFS_NAME);
	current = NULL;
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
	r = r == SQLITE_DONE ? sqlite3_backup_finish(b) : (sqlite3_backup_finish(b), r);
	b = NULL;
	if (r || st->failed || st->disorder) {
		rc = st->failed     ? st->failed
		     : st->disorder ? failf(err, errlen, "cannot copy the store", NULL,
		                            SQLITE_IOERR) /* words below */
		                    : failf(err, errlen, "cannot copy the store", d, r);
		if (st->disorder && err && errlen)
			snprintf(err, errlen, "cannot copy the store: the copy wrote out of order");
		goto out;
	}
	/* Everything after page 1, then page 1 as the commit left it. */
	if ((uint64_t)st->size != stats->pages * st->page_size) {
		rc = failf(err, errlen, "cannot copy the store: the copy is not whole", NULL,
		           SQLITE_IOERR);
		goto out;
	}
	if (put(st, NULL, (size_t)(st->size - st->next)) || put(st, st->page1, st->page_size) ||
	    flush(st)) {
		rc = st->failed ? st->failed : CU_ERR_STORE;
		goto out;
	}
	stats->page_size = st->page_size;
	rc = CU_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	sqlite3_close(d);
	/* A read transaction: ending it changes nothing. */
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	free(st->buf);
	free(st);
	return rc;
}

const struct cu_store_backup_ops cu_sqlite_backup_ops = {
    .stream = stream,
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
