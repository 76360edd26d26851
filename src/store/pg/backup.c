/*
 * src/store/pg/backup.c — the backup area on PostgreSQL (store/backup.h).
 *
 * SQLite's backup streams the database file's pages into the sealed backup
 * format, and a restore writes that file back.  A PostgreSQL store has no
 * such file: it is backed up with the server's own tools (pg_basebackup
 * and WAL archiving, or pg_dump), encrypted at rest by the operator
 * (docs/postgresql.md, "Backups").  stream() therefore refuses, with words
 * saying so; the key and erasure listings that the keyring rotation and the
 * erasure check read work as on SQLite.
 */
#include "store/backup_backend.h"
#include "store/pg/pg.h"

#include <stdio.h>
#include <string.h>

enum {
	S_KEY_IDS = CU_PG_SLOTS_BACKUP,
	S_ERASED_IDS,
};

/* The wrap's first byte says its format (vault.h): 2 a keyring tree, else a master key. */
static cu_result key_ids(cu_store *s, uint32_t *master, size_t *nm, uint32_t *trees, size_t *nt,
                         size_t max)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, S_KEY_IDS,
	                          "SELECT DISTINCT key_id, substr(wrapped, 1, 1) = '\\x02'::bytea"
	                          " FROM members WHERE wrapped IS NOT NULL ORDER BY 2, 1",
	                          NULL, &res);

	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		bool tree = cu_pg_int(res, i, 1) != 0;
		size_t *n = tree ? nt : nm;

		if (*n == max) {
			rc = CU_ERR_TOO_LARGE;
			break;
		}
		(tree ? trees : master)[(*n)++] = (uint32_t)cu_pg_int(res, i, 0);
	}
	PQclear(res);
	return rc;
}

static cu_result erased_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1], size_t max,
                            size_t *n)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, after);
	cu_pg_param_int(&p, cu_pg_limit(max));
	rc = cu_pg_exec(s, S_ERASED_IDS,
	                "SELECT id FROM members WHERE id > $1 AND erased_us IS NOT NULL"
	                " ORDER BY id LIMIT $2",
	                &p, &res);
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

static cu_result stream(cu_store *s, unsigned pages_per_step, cu_store_sink_fn sink, void *sink_ud,
                        cu_store_progress_fn fn, void *ud, cu_store_backup_stats *stats, char *err,
                        size_t errlen)
{
	(void)s;
	(void)pages_per_step;
	(void)sink;
	(void)sink_ud;
	(void)fn;
	(void)ud;
	(void)stats;
	if (err && errlen)
		snprintf(err, errlen,
		         "a PostgreSQL store is backed up with the server's tools"
		         " (pg_basebackup or pg_dump; docs/postgresql.md), not custodian backup");
	return CU_ERR_INTERNAL;
}

const struct cu_store_backup_ops cu_pg_backup_ops = {
    .stream = stream,
    .key_ids = key_ids,
    .erased_ids = erased_ids,
};
