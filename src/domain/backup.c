/*
 * src/domain/backup.c — backups: create, verify, restore, prune (backup.h).
 *
 * Creating one is one pass: the store streams its database online
 * (store/backup.h) and every block it hands over is hashed (BLAKE2b-256),
 * compressed (zstd's streaming API, with worker threads when [backup]
 * threads > 0) and sealed chunk by chunk (vault/stream.h).  Nothing of the
 * database touches the disk outside the backup file.  Reading one is the
 * reverse, also in one pass.
 *
 * The stream's order is the store's: the database file from its second
 * page on, then its first page (store/backup.h).  The checksum is over the
 * bytes in that order; a reader writes them back in place.
 */
#define _XOPEN_SOURCE 700 /* nftw (removing what a failed restore wrote) */
#include "domain/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "audit/checkpoint.h"
#include "domain/erasure.h"
#include "vault/stream.h"

#define IO_BLOCK        (1u << 20) /* bytes decompressed at a time */
#define CHUNK_BYTES     (1u << 20) /* plaintext bytes of one sealed chunk */
#define PAGES_PER_STEP  4096       /* pages copied between progress reports (16 MiB) */
#define NAME_MAX_TRIES  100        /* "-2" .. "-99" for backups taken in one second */
#define COPY_DEPTH_MAX  8
#define ZSTD_LEVEL_MIN  (-131072) /* ZSTD_minCLevel() of zstd 1.5 */
#define ZSTD_LEVEL_MAX  22        /* directories deep in keyring, at most */
#define TIME_TEXT_BYTES 32
#define REASON_BYTES    160    /* an audit reason: words, an id and counts */
#define PRUNE_MAX       100000 /* backups in one directory, at most */
#define US_PER_S        1000000LL
#define US_PER_DAY      (86400LL * US_PER_S)

_Static_assert(CHUNK_BYTES <= CU_STREAM_CHUNK_MAX, "a chunk fits the container's bound");

static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void progress(cu_backup_progress_fn fn, void *ud, const char *phase, uint64_t done,
                     uint64_t total)
{
	if (fn)
		fn(ud, phase, done, total);
}

static int path_join(char out[CU_DATA_PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, CU_DATA_PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= CU_DATA_PATH_MAX ? -1 : 0;
}

static void sync_dir(const char *path)
{
	char dir[CU_FILE_PATH_MAX + 1];
	int fd;

	cu_file_dir_of(path, dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

void cu_backup_dir(const cu_ctx *ctx, char out[CU_DATA_PATH_MAX])
{
	const char *d = ctx->config.backup_dir[0] ? ctx->config.backup_dir : "backups";

	if (d[0] == '/')
		snprintf(out, CU_DATA_PATH_MAX, "%s", d);
	else
		snprintf(out, CU_DATA_PATH_MAX, "%s/%s", ctx->dir, d);
}

/* ---- the manifest -------------------------------------------------------------- */

static void format_time(int64_t us, char out[TIME_TEXT_BYTES], bool compact)
{
	time_t t = (time_t)(us / US_PER_S);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, TIME_TEXT_BYTES, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *manifest_text(const cu_backup_manifest *m)
{
	char created[TIME_TEXT_BYTES], hex[2 * CU_BACKUP_CHECKSUMBYTES + 1], sum[sizeof(hex) + 16];
	json_t *ids = json_array(), *trees = json_array(), *j;
	char *text;

	format_time(m->created_us, created, false);
	sodium_bin2hex(hex, sizeof(hex), m->checksum, sizeof(m->checksum));
	snprintf(sum, sizeof(sum), "blake2b-256:%s", hex);
	for (size_t i = 0; ids && i < m->n_master_key_ids; i++)
		json_array_append_new(ids, json_integer(m->master_key_ids[i]));
	for (size_t i = 0; trees && i < m->n_tree_ids; i++)
		json_array_append_new(trees, json_integer(m->tree_ids[i]));
	j = json_pack("{s:s, s:i, s:s, s:s, s:I, s:i, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, "
	              "s:s, s:i, s:s, s:s, s:s}",
	              "format", CU_BACKUP_FORMAT, "version", CU_STREAM_VERSION, "id", m->id,
	              "created", created, "created_us", (json_int_t)m->created_us, "schema_version",
	              m->schema_version, "members", (json_int_t)m->members, "audit_entries",
	              (json_int_t)m->audit_entries, "audit_head_seq", (json_int_t)m->audit_head_seq,
	              "master_key_ids", ids, "tree_ids", trees, "backup_key_id",
	              (json_int_t)m->backup_key_id, "database_bytes", (json_int_t)m->database_bytes,
	              "page_size", (json_int_t)m->page_size, "stored_bytes",
	              (json_int_t)m->stored_bytes, "compression", "zstd", "compression_level",
	              (int)m->level, "cipher", "xchacha20poly1305-secretstream", "checksum", sum,
	              "checksum_order", "pages 2..N, then page 1");
	if (!j)
		return NULL;
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return text;
}

static bool get_u64(json_t *j, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* A JSON array of key ids (1 .. 2^32-1, at most CU_STORE_KEY_IDS_MAX); -1 if not. */
static int id_list(json_t *a, uint32_t *out, size_t *n)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a) || json_array_size(a) > CU_STORE_KEY_IDS_MAX)
		return -1;
	json_array_foreach(a, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 1 ||
		    json_integer_value(e) > UINT32_MAX)
			return -1;
		out[(*n)++] = (uint32_t)json_integer_value(e);
	}
	return 0;
}

cu_result cu_backup_manifest_parse(const char *text, cu_backup_manifest *m)
{
	static const char sum_prefix[] = "blake2b-256:";
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *ids, *trees;
	const char *format, *id, *sum;
	uint64_t v, version, schema, created, key_id;
	json_int_t level;
	size_t binlen = 0;
	cu_result rc = CU_ERR_CRYPTO;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(j))
		goto out;
	format = json_string_value(json_object_get(j, "format"));
	id = json_string_value(json_object_get(j, "id"));
	sum = json_string_value(json_object_get(j, "checksum"));
	ids = json_object_get(j, "master_key_ids");
	trees = json_object_get(j, "tree_ids");
	if (!format || strcmp(format, CU_BACKUP_FORMAT) || !id || !cu_vault_id_well_formed(id) ||
	    !sum || strncmp(sum, sum_prefix, sizeof(sum_prefix) - 1) ||
	    !get_u64(j, "version", &version) || version != CU_STREAM_VERSION ||
	    !get_u64(j, "created_us", &created) || !get_u64(j, "schema_version", &schema) ||
	    schema > INT_MAX || !get_u64(j, "members", &m->members) ||
	    !get_u64(j, "audit_entries", &m->audit_entries) ||
	    !get_u64(j, "audit_head_seq", &m->audit_head_seq) ||
	    !get_u64(j, "backup_key_id", &key_id) || key_id > UINT32_MAX ||
	    !get_u64(j, "database_bytes", &m->database_bytes) ||
	    !get_u64(j, "page_size", &m->page_size) ||
	    !get_u64(j, "stored_bytes", &m->stored_bytes) ||
	    !json_is_integer(json_object_get(j, "compression_level")))
		goto out;
	if (sodium_hex2bin(m->checksum, sizeof(m->checksum), sum + sizeof(sum_prefix) - 1,
	                   strlen(sum + sizeof(sum_prefix) - 1), NULL, &binlen, NULL) ||
	    binlen != sizeof(m->checksum))
		goto out;
	if (id_list(ids, m->master_key_ids, &m->n_master_key_ids) ||
	    id_list(trees, m->tree_ids, &m->n_tree_ids))
		goto out;
	v = created;
	m->created_us = (int64_t)v;
	m->schema_version = (int)schema;
	m->backup_key_id = (uint32_t)key_id;
	level = json_integer_value(json_object_get(j, "compression_level"));
	if (level < ZSTD_LEVEL_MIN || level > ZSTD_LEVEL_MAX)
		goto out;
	m->level = (int)level;
	snprintf(m->id, sizeof(m->id), "%s", id);
	rc = CU_OK;
out:
	json_decref(j);
	return rc;
}

/* ---- keys ---------------------------------------------------------------------- */

static cu_result open_keys(const char *dir, bool create, cu_vault **keys, char *err, size_t errlen)
{
	char path[CU_DATA_PATH_MAX];
	cu_result rc;

	if (path_join(path, dir, CU_BACKUP_KEY_FILE)) {
		errf(err, errlen, "data directory path too long");
		return CU_ERR_INVALID_ARGUMENT;
	}
	if (create) {
		rc = cu_stream_key_file_create(path);
		if (rc && rc != CU_ERR_EXISTS) {
			errf(err, errlen, "cannot create backup key file '%s'", path);
			return rc;
		}
	}
	return cu_stream_key_file_open(path, keys, err, errlen);
}

cu_result cu_backup_key_rotate(const char *dir, char *err, size_t errlen)
{
	char path[CU_DATA_PATH_MAX];
	cu_result rc;

	if (!dir || path_join(path, dir, CU_BACKUP_KEY_FILE)) {
		errf(err, errlen, "data directory path too long");
		return CU_ERR_INVALID_ARGUMENT;
	}
	rc = cu_stream_key_file_create(path);
	if (rc && rc != CU_ERR_EXISTS) {
		errf(err, errlen, "cannot create backup key file '%s'", path);
		return rc;
	}
	if (!rc)
		return CU_OK; /* a new file's key is new */
	return cu_stream_key_file_rotate(path, NULL, err, errlen);
}

/* ---- create -------------------------------------------------------------------- */

/* Hashes, compresses and seals what the store streams (the sink). */
struct sealer {
	ZSTD_CCtx *z;
	cu_stream_writer *w;
	unsigned char *out;
	ZSTD_outBuffer o;
	crypto_generichash_state h;
	uint64_t total;
	char why[CU_ERR_MSG_MAX]; /* the first failure, in words */
};

/* Seals the compressed bytes when the buffer is full (or, with all, whatever is there). */
static cu_result seal_out(struct sealer *s, bool all)
{
	cu_result rc = CU_OK;

	if (s->o.pos && (all || s->o.pos == s->o.size)) {
		rc = cu_stream_write(s->w, s->out, s->o.pos);
		if (rc)
			snprintf(s->why, sizeof(s->why), "cannot write the backup: %s",
			         strerror(errno));
		s->o.pos = 0;
	}
	return rc;
}

static cu_result compress(struct sealer *s, const unsigned char *buf, size_t len,
                          ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {buf, len, 0};
	size_t left;
	cu_result rc;

	do {
		left = ZSTD_compressStream2(s->z, &s->o, &in, mode);
		if (ZSTD_isError(left)) {
			snprintf(s->why, sizeof(s->why), "zstd: %s", ZSTD_getErrorName(left));
			return CU_ERR_INTERNAL;
		}
		rc = seal_out(s, mode == ZSTD_e_end && left == 0);
		if (rc)
			return rc;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return CU_OK;
}

static cu_result on_bytes(void *ud, const unsigned char *buf, size_t len)
{
	struct sealer *s = ud;

	crypto_generichash_update(&s->h, buf, len);
	s->total += len;
	return compress(s, buf, len, ZSTD_e_continue);
}

static cu_result unused_name(const char *dir, int64_t now_us, char out[CU_DATA_PATH_MAX])
{
	char t[TIME_TEXT_BYTES], name[TIME_TEXT_BYTES + 32];
	struct stat st;

	format_time(now_us, t, true);
	for (int i = 1; i < NAME_MAX_TRIES; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "custodian-%s%s", t, CU_BACKUP_SUFFIX);
		else
			snprintf(name, sizeof(name), "custodian-%s-%d%s", t, i, CU_BACKUP_SUFFIX);
		if (path_join(out, dir, name))
			return CU_ERR_INVALID_ARGUMENT;
		if (lstat(out, &st) && errno == ENOENT)
			return CU_OK;
	}
	return CU_ERR_EXISTS;
}

static cu_result audit_entry(cu_ctx *ctx, const char *action, const char *reason)
{
	cu_audit_entry e = {0};
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	e.actor = operator_actor.name;
	e.role = cu_role_name(operator_actor.role);
	e.action = action;
	e.member = "";
	e.purpose = "";
	e.fields = "";
	e.decision = "done";
	e.reason = reason;
	e.case_ref = "";
	rc = cu_audit_append(ctx->audit, ctx->store, &e);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

struct copy_progress {
	cu_backup_progress_fn fn;
	void *ud;
};

static void on_copy(void *ud, uint64_t done, uint64_t total)
{
	struct copy_progress *p = ud;

	progress(p->fn, p->ud, "copying", done, total);
}

cu_result cu_backup_create(cu_ctx *ctx, const char *to, cu_backup_progress_fn fn, void *ud,
                           char *path_out, cu_backup_manifest *m_out, char *err, size_t errlen)
{
	char dir[CU_DATA_PATH_MAX], path[CU_DATA_PATH_MAX], partial[CU_DATA_PATH_MAX + 16],
	    reason[REASON_BYTES];
	struct copy_progress cp = {fn, ud};
	cu_store_backup_stats stats;
	struct sealer s = {0};
	cu_backup_manifest m = {0};
	cu_vault *keys = NULL;
	struct stat st;
	char *text = NULL;
	int out = -1;
	bool made_partial = false;
	size_t zr;
	int level;
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	m.created_us = cu_now_us();
	rc = open_keys(ctx->dir, true, &keys, err, errlen);
	if (rc)
		goto out;
	if (to) {
		if (strlen(to) >= CU_DATA_PATH_MAX) {
			errf(err, errlen, "backup path too long");
			rc = CU_ERR_INVALID_ARGUMENT;
			goto out;
		}
		snprintf(path, sizeof(path), "%s", to);
		if (!lstat(path, &st)) {
			errf(err, errlen, "'%s' exists: a backup never overwrites a file", path);
			rc = CU_ERR_EXISTS;
			goto out;
		}
	} else {
		cu_backup_dir(ctx, dir);
		if (mkdir(dir, 0700) && errno != EEXIST) {
			errf(err, errlen, "cannot create backup directory '%s': %s", dir,
			     strerror(errno));
			rc = CU_ERR_IO;
			goto out;
		}
		rc = unused_name(dir, m.created_us, path);
		if (rc) {
			errf(err, errlen, "no free backup name in '%s'", dir);
			goto out;
		}
	}
	snprintf(partial, sizeof(partial), "%s.partial", path);
	out = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		errf(err, errlen, "cannot create '%s': %s", partial, strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}
	made_partial = true;

	/* 1. The sealer: zstd into 1 MiB chunks, sealed as they fill. */
	rc = CU_ERR_NOMEM;
	s.z = ZSTD_createCCtx();
	s.out = malloc(CHUNK_BYTES);
	if (!s.z || !s.out)
		goto out;
	s.o = (ZSTD_outBuffer){s.out, CHUNK_BYTES, 0};
	level =
	    ctx->config.backup_fast ? -(int)ctx->config.backup_fast : (int)ctx->config.backup_level;
	zr = ZSTD_CCtx_setParameter(s.z, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(zr))
		zr = ZSTD_CCtx_setParameter(s.z, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(zr) && ctx->config.backup_threads)
		zr = ZSTD_CCtx_setParameter(s.z, ZSTD_c_nbWorkers, (int)ctx->config.backup_threads);
	if (ZSTD_isError(zr)) {
		errf(err, errlen, "zstd: %s", ZSTD_getErrorName(zr));
		rc = CU_ERR_INTERNAL;
		goto out;
	}
	rc = cu_stream_writer_new(keys, out, &s.w);
	if (rc) {
		errf(err, errlen, "cannot start the backup file: %s", cu_strerror(rc));
		goto out;
	}
	crypto_generichash_init(&s.h, NULL, 0, CU_BACKUP_CHECKSUMBYTES);

	/* 2. The store streams one committed state into it. */
	rc = cu_store_backup_stream(ctx->store, PAGES_PER_STEP, on_bytes, &s, on_copy, &cp, &stats,
	                            err, errlen);
	if (!rc)
		rc = compress(&s, NULL, 0, ZSTD_e_end);
	if (rc) {
		if (s.why[0])
			errf(err, errlen, "%s", s.why);
		goto out;
	}
	crypto_generichash_final(&s.h, m.checksum, sizeof(m.checksum));

	/* 3. The manifest, the end of the stream, durable, then the name. */
	snprintf(m.id, sizeof(m.id), "%s", cu_stream_writer_id(s.w));
	m.schema_version = stats.schema_version;
	m.members = stats.members;
	m.audit_entries = stats.audit_head_seq;
	m.audit_head_seq = stats.audit_head_seq;
	memcpy(m.master_key_ids, stats.key_ids, stats.n_key_ids * sizeof(stats.key_ids[0]));
	m.n_master_key_ids = stats.n_key_ids;
	memcpy(m.tree_ids, stats.tree_ids, stats.n_tree_ids * sizeof(stats.tree_ids[0]));
	m.n_tree_ids = stats.n_tree_ids;
	m.backup_key_id = cu_stream_writer_key_id(s.w);
	m.database_bytes = s.total;
	m.page_size = stats.page_size;
	m.level = level;
	m.stored_bytes = cu_stream_writer_bytes(s.w);
	text = manifest_text(&m);
	if (!text) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	rc = cu_stream_writer_finish(s.w, text, strlen(text));
	if (!rc && fsync(out))
		rc = CU_ERR_IO;
	if (!rc && close(out))
		rc = CU_ERR_IO;
	out = -1;
	if (rc) {
		errf(err, errlen, "cannot write the backup: %s", strerror(errno));
		goto out;
	}
	/* link() refuses an existing name where rename() would replace it. */
	if (link(partial, path)) {
		errf(err, errlen, "cannot name the backup '%s': %s", path, strerror(errno));
		rc = errno == EEXIST ? CU_ERR_EXISTS : CU_ERR_IO;
		goto out;
	}
	unlink(partial);
	made_partial = false;
	sync_dir(path);
	if (path_out)
		snprintf(path_out, CU_DATA_PATH_MAX, "%s", path);
	if (m_out)
		*m_out = m;
	snprintf(reason, sizeof(reason), "backup id=%s members=%llu audit_head=%llu", m.id,
	         (unsigned long long)m.members, (unsigned long long)m.audit_head_seq);
	rc = audit_entry(ctx, "backup", reason);
	if (rc)
		errf(err, errlen, "backup written to '%s' but not audited: %s", path,
		     cu_strerror(rc));
out:
	if (out >= 0)
		close(out);
	if (made_partial)
		unlink(partial);
	cu_stream_writer_free(s.w);
	ZSTD_freeCCtx(s.z);
	free(s.out);
	free(text);
	cu_vault_free(keys);
	return rc;
}

/* ---- reading: verify and restore ------------------------------------------------- */

/*
 * Puts the stream's bytes back in place: from offset page_size on, the last
 * page (the database's first) at offset 0 (store/backup.h).
 */
struct placer {
	int fd;
	uint64_t pos, body, psz; /* body: the bytes before the first page in the stream */
	unsigned char page1[CU_BACKUP_PAGE_MAX];
};

static int pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
	ssize_t r;

	while (n) {
		r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* 0, -1 on a write error, 1 when the stream is longer than the manifest says. */
static int place(struct placer *pl, const unsigned char *buf, size_t n)
{
	while (n) {
		size_t take;

		if (pl->pos < pl->body) {
			take = pl->body - pl->pos < n ? (size_t)(pl->body - pl->pos) : n;
			if (pwrite_all(pl->fd, buf, take, pl->psz + pl->pos))
				return -1;
		} else if (pl->pos < pl->body + pl->psz) {
			take = pl->body + pl->psz - pl->pos < n
			           ? (size_t)(pl->body + pl->psz - pl->pos)
			           : n;
			memcpy(pl->page1 + (pl->pos - pl->body), buf, take);
		} else {
			return 1;
		}
		pl->pos += take;
		buf += take;
		n -= take;
	}
	return 0;
}

static bool layout_ok(const cu_backup_manifest *m)
{
	return m->page_size >= 512 && m->page_size <= CU_BACKUP_PAGE_MAX &&
	       !(m->page_size & (m->page_size - 1)) && m->database_bytes >= m->page_size &&
	       m->database_bytes % m->page_size == 0;
}

/*
 * Opens, decompresses and checks the backup in file, writing the database
 * to db_fd.  *m gets the manifest (trusted once this returns CU_OK).
 */
static cu_result unseal(const char *data_dir, const char *file, int db_fd, cu_backup_progress_fn fn,
                        void *ud, const char *phase, cu_backup_manifest *m, char *err,
                        size_t errlen)
{
	unsigned char *chunk = NULL, *out = NULL, sum[CU_BACKUP_CHECKSUMBYTES];
	crypto_generichash_state h;
	cu_stream_reader *r = NULL;
	struct placer *pl = NULL;
	ZSTD_DCtx *z = NULL;
	cu_vault *keys = NULL;
	size_t len, left = 1;
	bool done = false;
	int fd, w;
	cu_result rc;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, errlen, "cannot open backup '%s': %s", file, strerror(errno));
		return CU_ERR_IO;
	}
	rc = open_keys(data_dir, false, &keys, err, errlen);
	if (!rc)
		rc = cu_stream_reader_new(keys, fd, &r, err, errlen);
	if (rc)
		goto out;
	/* The layout is read before it is authenticated; the end checks it. */
	rc = CU_ERR_CRYPTO;
	if (cu_backup_manifest_parse(cu_stream_reader_manifest(r), m) || !layout_ok(m)) {
		errf(err, errlen, "backup is damaged: its manifest is not a backup manifest");
		goto out;
	}
	rc = CU_ERR_NOMEM;
	chunk = malloc(CU_STREAM_CHUNK_MAX);
	out = malloc(IO_BLOCK);
	pl = malloc(sizeof(*pl));
	z = ZSTD_createDCtx();
	if (!chunk || !out || !pl || !z)
		goto out;
	pl->fd = db_fd;
	pl->pos = 0;
	pl->psz = m->page_size;
	pl->body = m->database_bytes - m->page_size;
	crypto_generichash_init(&h, NULL, 0, sizeof(sum));
	for (;;) {
		rc = cu_stream_read(r, chunk, &len, &done, err, errlen);
		if (rc || done)
			break;
		ZSTD_inBuffer in = {chunk, len, 0};
		while (in.pos < in.size) {
			ZSTD_outBuffer o = {out, IO_BLOCK, 0};

			left = ZSTD_decompressStream(z, &o, &in);
			if (ZSTD_isError(left)) {
				errf(err, errlen, "backup does not decompress: %s",
				     ZSTD_getErrorName(left));
				rc = CU_ERR_CRYPTO;
				goto out;
			}
			crypto_generichash_update(&h, out, o.pos);
			w = place(pl, out, o.pos);
			if (w) {
				errf(err, errlen,
				     w < 0 ? "cannot write the database"
				           : "backup is damaged: longer than its manifest says");
				rc = w < 0 ? CU_ERR_IO : CU_ERR_CRYPTO;
				goto out;
			}
		}
		progress(fn, ud, phase, cu_stream_reader_offset(r), cu_stream_reader_size(r));
	}
	if (rc)
		goto out;
	/* Flush what zstd still holds. */
	for (;;) {
		ZSTD_inBuffer in = {NULL, 0, 0};
		ZSTD_outBuffer o = {out, IO_BLOCK, 0};

		if (!left)
			break;
		left = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(left) || !o.pos)
			break;
		crypto_generichash_update(&h, out, o.pos);
		if (place(pl, out, o.pos)) {
			errf(err, errlen, "backup is damaged: longer than its manifest says");
			rc = CU_ERR_CRYPTO;
			goto out;
		}
	}
	rc = CU_ERR_CRYPTO;
	if (left) {
		errf(err, errlen, "backup is damaged: the compressed stream ends early");
		goto out;
	}
	if (strcmp(m->id, cu_stream_reader_id(r)) ||
	    m->backup_key_id != cu_stream_reader_key_id(r)) {
		errf(err, errlen, "backup is damaged: its manifest does not match its header");
		goto out;
	}
	crypto_generichash_final(&h, sum, sizeof(sum));
	if (pl->pos != m->database_bytes || sodium_memcmp(sum, m->checksum, sizeof(sum))) {
		errf(err, errlen, "backup is damaged: the database's checksum does not match");
		goto out;
	}
	if (pwrite_all(db_fd, pl->page1, pl->psz, 0)) {
		errf(err, errlen, "cannot write the database: %s", strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}
	rc = CU_OK;
out:
	free(pl);
	ZSTD_freeDCtx(z);
	free(chunk);
	free(out);
	cu_stream_reader_free(r);
	cu_vault_free(keys);
	close(fd);
	return rc;
}

cu_result cu_backup_verify(const char *data_dir, const char *file, cu_backup_progress_fn fn,
                           void *ud, cu_backup_manifest *m_out, char *err, size_t errlen)
{
	char tmp[CU_DATA_PATH_MAX];
	cu_backup_manifest m;
	int fd;
	cu_result rc;

	if (!data_dir || !file)
		return CU_ERR_INVALID_ARGUMENT;
	if (path_join(tmp, data_dir, ".verify-XXXXXX"))
		return CU_ERR_INVALID_ARGUMENT;
	fd = mkstemp(tmp);
	if (fd < 0) {
		errf(err, errlen, "cannot create a temporary file in '%s': %s", data_dir,
		     strerror(errno));
		return CU_ERR_IO;
	}
	rc = unseal(data_dir, file, fd, fn, ud, "checking", &m, err, errlen);
	if (close(fd) && !rc)
		rc = CU_ERR_IO;
	if (!rc)
		rc = cu_store_file_check(tmp, err, errlen);
	unlink(tmp);
	if (!rc && m_out)
		*m_out = m;
	return rc;
}

/* Copies the regular file src to a new file dst, mode 0600, synced. */
static cu_result copy_one(const char *src, const char *dst, char *err, size_t errlen)
{
	unsigned char *buf = malloc(IO_BLOCK);
	int in = -1, out = -1;
	uint64_t off = 0;
	ssize_t n = 0;
	cu_result rc = CU_ERR_IO;

	if (!buf)
		return CU_ERR_NOMEM;
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (in < 0 || out < 0) {
		errf(err, errlen, "cannot copy '%s': %s", src, strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(in, buf, IO_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (pwrite_all(out, buf, (size_t)n, off)) {
			n = -1;
			break;
		}
		off += (uint64_t)n;
	}
	if (n < 0 || fsync(out)) {
		errf(err, errlen, "cannot copy '%s': %s", src, strerror(errno));
		goto out;
	}
	rc = CU_OK;
out:
	/* Key files pass through this buffer. */
	sodium_memzero(buf, IO_BLOCK);
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) && !rc) {
		errf(err, errlen, "cannot copy '%s': %s", src, strerror(errno));
		rc = CU_ERR_IO;
	}
	return rc;
}

/* Copies src (a file, or a directory of files and directories) to dst; no links. */
static cu_result copy_tree(const char *src, const char *dst, int depth, char *err, size_t errlen)
{
	char s2[CU_DATA_PATH_MAX], d2[CU_DATA_PATH_MAX];
	struct dirent *e;
	struct stat st;
	cu_result rc = CU_OK;
	DIR *d;

	if (lstat(src, &st)) {
		errf(err, errlen, "cannot copy '%s': %s", src, strerror(errno));
		return CU_ERR_IO;
	}
	if (S_ISREG(st.st_mode))
		return copy_one(src, dst, err, errlen);
	if (!S_ISDIR(st.st_mode) || depth > COPY_DEPTH_MAX) {
		errf(err, errlen, "cannot copy '%s': not a file or a directory of files", src);
		return CU_ERR_IO;
	}
	if (mkdir(dst, 0700) || !(d = opendir(src))) {
		errf(err, errlen, "cannot copy '%s': %s", src, strerror(errno));
		return CU_ERR_IO;
	}
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (path_join(s2, src, e->d_name) || path_join(d2, dst, e->d_name))
			rc = CU_ERR_INVALID_ARGUMENT;
		else
			rc = copy_tree(s2, d2, depth + 1, err, errlen);
	}
	closedir(d);
	return rc;
}

/* Copies src_dir/name to dst_dir/name; *copied counts it.  Absent: ok if optional. */
static cu_result copy_entry(const char *src_dir, const char *dst_dir, const char *name,
                            bool optional, size_t *copied, char *err, size_t errlen)
{
	char src[CU_DATA_PATH_MAX], dst[CU_DATA_PATH_MAX];
	struct stat st;
	cu_result rc;

	if (path_join(src, src_dir, name) || path_join(dst, dst_dir, name))
		return CU_ERR_INVALID_ARGUMENT;
	if (optional && lstat(src, &st) && errno == ENOENT)
		return CU_OK;
	rc = copy_tree(src, dst, 0, err, errlen);
	if (!rc)
		(*copied)++;
	return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	if (ftw->level == 0)
		return 0; /* NEWDIR itself: its caller decides */
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes what a failed restore wrote: everything in into (empty or new before). */
static void remove_restored(const char *into, bool made_dir)
{
	(void)nftw(into, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (made_dir)
		rmdir(into);
}

static cu_result prepare_into(const char *into, bool *made_dir, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d;

	*made_dir = false;
	if (!mkdir(into, 0700)) {
		*made_dir = true;
		return CU_OK;
	}
	if (errno != EEXIST) {
		errf(err, errlen, "cannot create '%s': %s", into, strerror(errno));
		return CU_ERR_IO;
	}
	d = opendir(into);
	if (!d) {
		errf(err, errlen, "'%s' exists and is not a directory", into);
		return CU_ERR_EXISTS;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			closedir(d);
			errf(err, errlen,
			     "'%s' is not empty: restore writes only into a new directory", into);
			return CU_ERR_EXISTS;
		}
	closedir(d);
	return CU_OK;
}

cu_result cu_backup_restore(const char *data_dir, const char *file, const char *into,
                            cu_backup_progress_fn fn, void *ud, cu_backup_restore_report *rep,
                            char *err, size_t errlen)
{
	char conf_path[CU_DATA_PATH_MAX], db[CU_DATA_PATH_MAX], reason[REASON_BYTES],
	    why[CU_ERR_MSG_MAX] = "", cp_path[CU_FILE_PATH_MAX];
	cu_backup_restore_report r = {0};
	cu_config conf;
	cu_ctx *ctx = NULL;
	bool made_dir = false, started = false;
	int fd = -1;
	cu_result rc;

	if (!data_dir || !file || !into || !*into)
		return CU_ERR_INVALID_ARGUMENT;
	if (path_join(conf_path, data_dir, "custodian.conf") || path_join(db, into, "custodian.db"))
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_config_load(conf_path, &conf, err, errlen);
	if (rc)
		return rc;
	if (conf.store[0]) {
		errf(err, errlen,
		     "'%s' names a store URL: restore writes NEWDIR/custodian.db, "
		     "set store empty in a copy of the directory first",
		     conf_path);
		return CU_ERR_CONFIG;
	}
	rc = prepare_into(into, &made_dir, err, errlen);
	if (rc)
		return rc;
	started = true;
	fd = open(db, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		errf(err, errlen, "cannot create '%s': %s", db, strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}
	rc = unseal(data_dir, file, fd, fn, ud, "restoring", &r.manifest, err, errlen);
	if (!rc && fsync(fd))
		rc = CU_ERR_IO;
	if (close(fd) && !rc)
		rc = CU_ERR_IO;
	fd = -1;
	if (rc)
		goto out;
	/*
	 * No integrity check here: the checksum proves these are the bytes the
	 * store copied, and a whole check of a large database takes longer than
	 * the restore (`backup verify` runs it; docs/backup.md).
	 */
	rc = copy_entry(data_dir, into, "custodian.conf", false, &r.files_copied, err, errlen);
	if (!rc)
		rc = copy_entry(data_dir, into, conf.policy, false, &r.files_copied, err, errlen);
	if (!rc)
		rc = copy_entry(data_dir, into, "master.key", false, &r.files_copied, err, errlen);
	if (!rc)
		rc = copy_entry(data_dir, into, CU_BACKUP_KEY_FILE, false, &r.files_copied, err,
		                errlen);
	if (!rc)
		rc = copy_entry(data_dir, into, "keyring", true, &r.files_copied, err, errlen);
	if (rc)
		goto out;
	sync_dir(db);

	/* The restored directory, opened as any other; then the erasures since the backup. */
	rc = cu_ctx_open(into, &ctx, why, sizeof(why));
	if (rc) {
		errf(err, errlen, "cannot open the restored directory: %s", why);
		goto out;
	}
	rc = cu_erasure_replay(ctx, &r.replayed);
	if (rc) {
		errf(err, errlen, "erasure replay failed: %s", cu_strerror(rc));
		goto out;
	}
	snprintf(reason, sizeof(reason), "backup id=%s replayed=%zu", r.manifest.id, r.replayed);
	rc = audit_entry(ctx, "restore", reason);
	if (rc) {
		errf(err, errlen, "cannot audit the restore: %s", cu_strerror(rc));
		goto out;
	}
	/*
	 * The live directory's checkpoint file covers entries the backup does not
	 * hold, so it is not copied: the restored chain starts a file of its own.
	 */
	cu_ctx_audit_checkpoint_path(ctx, cp_path, sizeof(cp_path));
	rc = cu_audit_checkpoint_save(ctx->store, ctx->vault, ctx->audit, cp_path, true, NULL, NULL,
	                              why, sizeof(why));
	if (rc)
		errf(err, errlen, "cannot sign the restored audit head: %s", why);
out:
	if (fd >= 0)
		close(fd);
	cu_ctx_close(ctx);
	if (rc && started)
		remove_restored(into, made_dir);
	if (!rc && rep)
		*rep = r;
	return rc;
}

/* ---- prune and key use ------------------------------------------------------------ */

struct found {
	char name[NAME_MAX + 1];
	int64_t created_us;
	uint32_t key_id;
	cu_backup_manifest m;
};

static bool is_backup_name(const char *n)
{
	size_t len = strlen(n), sl = sizeof(CU_BACKUP_SUFFIX) - 1;

	return len > sl && !strcmp(n + len - sl, CU_BACKUP_SUFFIX) && n[0] != '.';
}

/* Reads the manifest of dir/name without a key. */
static cu_result peek(const char *dir, const char *name, struct found *f)
{
	char p[CU_DATA_PATH_MAX], *text = NULL;
	int fd;
	cu_result rc;

	if (path_join(p, dir, name))
		return CU_ERR_INVALID_ARGUMENT;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return CU_ERR_IO;
	rc = cu_stream_manifest_read(fd, &text, NULL, &f->key_id, NULL, NULL, 0);
	close(fd);
	if (!rc)
		rc = cu_backup_manifest_parse(text, &f->m);
	free(text);
	if (!rc) {
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->created_us = f->m.created_us;
	}
	return rc;
}

/* Lists dir's backups; *unreadable counts names whose manifest could not be read. */
static cu_result list_backups(const char *dir, struct found **out, size_t *n, size_t *unreadable,
                              char *bad, size_t badlen)
{
	struct found *v = NULL, *grown;
	size_t cap = 0;
	struct dirent *e;
	DIR *d;

	*out = NULL;
	*n = 0;
	*unreadable = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? CU_OK : CU_ERR_IO;
	while ((e = readdir(d))) {
		if (!is_backup_name(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if (cap > PRUNE_MAX || !(grown = realloc(v, cap * sizeof(*v)))) {
				closedir(d);
				free(v);
				return CU_ERR_NOMEM;
			}
			v = grown;
		}
		if (peek(dir, e->d_name, &v[*n])) {
			if (!*unreadable && bad)
				snprintf(bad, badlen, "%s", e->d_name);
			(*unreadable)++;
			continue;
		}
		(*n)++;
	}
	closedir(d);
	*out = v;
	return CU_OK;
}

static int newest_first(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? 1 : -1;
	return strcmp(y->name, x->name);
}

cu_result cu_backup_prune(cu_ctx *ctx, int64_t now_us, cu_backup_prune_report *rep, char *err,
                          size_t errlen)
{
	char dir[CU_DATA_PATH_MAX], p[CU_DATA_PATH_MAX], reason[REASON_BYTES];
	cu_backup_prune_report r = {0};
	struct found *v = NULL;
	size_t n = 0;
	int64_t horizon;
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	cu_backup_dir(ctx, dir);
	rc = list_backups(dir, &v, &n, &r.unreadable, NULL, 0);
	if (rc) {
		errf(err, errlen, "cannot read backup directory '%s'", dir);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), newest_first);
	horizon = now_us - (int64_t)ctx->config.backup_keep_days * US_PER_DAY;
	for (size_t i = 0; i < n; i++) {
		if (i < ctx->config.backup_keep_count || v[i].created_us > horizon) {
			r.kept++;
			continue;
		}
		if (path_join(p, dir, v[i].name) || unlink(p)) {
			errf(err, errlen, "cannot remove backup '%s': %s", v[i].name,
			     strerror(errno));
			rc = CU_ERR_IO;
			break;
		}
		r.removed++;
	}
	free(v);
	if (r.removed) {
		cu_result a;

		sync_dir(p);
		snprintf(reason, sizeof(reason), "kept=%zu removed=%zu", r.kept, r.removed);
		a = audit_entry(ctx, "backup_prune", reason);
		if (a && !rc) {
			errf(err, errlen, "backups pruned but not audited: %s", cu_strerror(a));
			rc = a;
		}
	}
	if (rep)
		*rep = r;
	return rc;
}

static void add_id(uint32_t *ids, size_t *n, uint32_t id)
{
	size_t i = 0;

	while (i < *n && ids[i] < id)
		i++;
	if ((i < *n && ids[i] == id) || *n == CU_BACKUP_IDS_MAX)
		return;
	memmove(ids + i + 1, ids + i, (*n - i) * sizeof(*ids));
	ids[i] = id;
	(*n)++;
}

cu_result cu_backup_key_ids_in_use(const cu_ctx *ctx, cu_backup_key_use *out, char *err,
                                   size_t errlen)
{
	char dir[CU_DATA_PATH_MAX], bad[NAME_MAX + 1] = "";
	struct found *v = NULL;
	size_t n = 0, unreadable = 0;
	cu_result rc;

	if (!ctx || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	cu_backup_dir(ctx, dir);
	rc = list_backups(dir, &v, &n, &unreadable, bad, sizeof(bad));
	if (rc) {
		errf(err, errlen, "cannot read backup directory '%s'", dir);
		return rc;
	}
	if (unreadable) {
		free(v);
		errf(err, errlen, "backup '%s' in '%s' has no readable manifest", bad, dir);
		return CU_ERR_CRYPTO;
	}
	for (size_t i = 0; i < n; i++) {
		add_id(out->backup_key_ids, &out->n_backup_key_ids, v[i].key_id);
		for (size_t k = 0; k < v[i].m.n_master_key_ids; k++)
			add_id(out->master_key_ids, &out->n_master_key_ids,
			       v[i].m.master_key_ids[k]);
		for (size_t k = 0; k < v[i].m.n_tree_ids; k++)
			add_id(out->tree_ids, &out->n_tree_ids, v[i].m.tree_ids[k]);
	}
	out->backups = n;
	free(v);
	return CU_OK;
}
