/*
 * src/store/sqlite/consent.c — the consent area on SQLite: consents, accepted
 * policy versions, published policy documents, legal exceptions.
 */
#include "store/consent_backend.h"
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

const char cu_sqlite_migration_consent[] =
    /* Append-only history: the latest row per (member, kind, target) is the choice. */
    "CREATE TABLE consents ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  kind TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  granted INTEGER NOT NULL,"
    "  policy_version TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX consents_current ON consents(member, kind, target, rowid);"
    "CREATE TABLE accepted ("
    "  member TEXT PRIMARY KEY REFERENCES members(id),"
    "  version TEXT NOT NULL,"
    "  accepted_us INTEGER NOT NULL"
    ");"
    "CREATE TABLE policy_versions ("
    "  version TEXT PRIMARY KEY,"
    "  digest BLOB NOT NULL,"
    "  document TEXT NOT NULL,"
    "  published_us INTEGER NOT NULL,"
    "  published_by TEXT NOT NULL"
    ");"
    "CREATE TABLE exceptions ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  officer TEXT NOT NULL,"
    "  exception TEXT NOT NULL,"
    "  purpose TEXT NOT NULL,"
    "  justification BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  closed_us INTEGER,"
    "  closed_by TEXT,"
    "  review BLOB"
    ");"
    "CREATE INDEX exceptions_open ON exceptions(closed_us, rowid);";

enum {
	S_CONSENT_INSERT = CU_SQLITE_SLOTS_CONSENT,
	S_CONSENT_CURRENT,
	S_CONSENT_GET,
	S_CONSENT_LIST,
	S_ACCEPTED_SET,
	S_ACCEPTED_GET,
	S_POLICY_PUT,
	S_POLICY_DIGEST,
	S_POLICY_GET,
	S_POLICY_LIST,
	S_POLICY_AT,
	S_EXC_INSERT,
	S_EXC_GET,
	S_EXC_CLOSE,
	S_EXC_LIST_ALL,
	S_EXC_LIST_OPEN,
	S_MEMBER_CONTEXT,
};

#define CONSENT_COLS "id, member, kind, target, granted, policy_version, time_us"
#define EXC_COLS                                                                                   \
	"id, member, officer, exception, purpose, justification, created_us, closed_us, "          \
	"closed_by, review, fields"

static cu_result read_consent(sqlite3_stmt *st, cu_consent_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->kind, sizeof(out->kind) - 1);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->target, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 5, out->policy_version, CU_VERSION_MAX);
	out->granted = sqlite3_column_int(st, 4) != 0;
	out->time_us = sqlite3_column_int64(st, 6);
	return rc;
}

static cu_result read_consent_v(sqlite3_stmt *st, void *out)
{
	return read_consent(st, out);
}

static cu_result consent_insert(cu_store *s, const cu_consent_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CONSENT_INSERT,
	    "INSERT INTO consents (" CONSENT_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7)", &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->kind);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->target);
	b = b ? b : sqlite3_bind_int(st, 5, row->granted ? 1 : 0);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->policy_version);
	b = b ? b : sqlite3_bind_int64(st, 7, row->time_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result consent_current(cu_store *s, const char *member, const char *kind,
                                 const char *target, cu_consent_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_CONSENT_CURRENT,
	                                   "SELECT " CONSENT_COLS
	                                   " FROM consents WHERE member = ?1 AND kind = ?2"
	                                   " AND target = ?3 ORDER BY rowid DESC LIMIT 1",
	                                   &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member) || cu_sqlite_bind_text(st, 2, kind) ||
	    cu_sqlite_bind_text(st, 3, target)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_consent_v, out);
}

/* The member's row and the three lookups of a purpose read in one statement (store/consent.h). */
static cu_result member_context(cu_store *s, const char *id, const char *kind, const char *target,
                                cu_member_row *row, cu_member_context *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_MEMBER_CONTEXT,
	    "SELECT m.id, m.key_id, m.wrapped, m.email_bidx, m.phone_bidx, m.fields, m.present,"
	    " m.password_hash, m.created_us, m.updated_us, m.erased_us,"
	    " (SELECT c.granted FROM consents c WHERE c.member = m.id AND c.kind = ?2"
	    "  AND c.target = ?3 ORDER BY c.rowid DESC LIMIT 1),"
	    " (SELECT a.version FROM accepted a WHERE a.member = m.id),"
	    " (SELECT v.version FROM policy_versions v WHERE v.published_us <= m.created_us"
	    "  ORDER BY v.published_us DESC, v.rowid DESC LIMIT 1)"
	    " FROM members m WHERE m.id = ?1",
	    &st);
	int r;

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id) || cu_sqlite_bind_text(st, 2, kind) ||
	    cu_sqlite_bind_text(st, 3, target)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		cu_sqlite_done(st);
		return r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	}
	rc = cu_sqlite_read_member(st, row);
	if (!rc && sqlite3_column_type(st, 11) != SQLITE_NULL) {
		out->consent_found = true;
		out->consent_granted = sqlite3_column_int64(st, 11) != 0;
	}
	/* The versions as the lookups read them (NULL: none). */
	if (!rc && sqlite3_column_type(st, 12) != SQLITE_NULL)
		rc = cu_sqlite_copy_text(st, 12, out->accepted, CU_VERSION_MAX);
	if (!rc && sqlite3_column_type(st, 13) != SQLITE_NULL)
		rc = cu_sqlite_copy_text(st, 13, out->at_registration, CU_VERSION_MAX);
	cu_sqlite_done(st);
	return rc;
}

static cu_result consent_get(cu_store *s, const char *id, cu_consent_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CONSENT_GET, "SELECT " CONSENT_COLS " FROM consents WHERE id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_consent_v, out);
}

static cu_result consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_consent_row row;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CONSENT_LIST,
	    "SELECT " CONSENT_COLS " FROM consents WHERE member = ?1 ORDER BY rowid", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_WALK(st, read_consent, row, fn, ud, rc);
	return rc;
}

static cu_result accepted_set(cu_store *s, const char *member, const char *version, int64_t when_us)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_ACCEPTED_SET,
	    "INSERT INTO accepted (member, version, accepted_us) VALUES (?1,?2,?3)"
	    " ON CONFLICT(member) DO UPDATE SET version = excluded.version,"
	    " accepted_us = excluded.accepted_us",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, member);
	b = b ? b : cu_sqlite_bind_text(st, 2, version);
	b = b ? b : sqlite3_bind_int64(st, 3, when_us);
	return cu_sqlite_run_bound(st, b);
}

struct accepted_out {
	char *version;
	int64_t *when;
};

static cu_result read_accepted(sqlite3_stmt *st, void *p)
{
	struct accepted_out *o = p;

	if (o->when)
		*o->when = sqlite3_column_int64(st, 1);
	return cu_sqlite_copy_text(st, 0, o->version, CU_VERSION_MAX);
}

static cu_result accepted_get(cu_store *s, const char *member, char version[CU_VERSION_MAX + 1],
                              int64_t *when_us)
{
	struct accepted_out o = {version, when_us};
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_ACCEPTED_GET, "SELECT version, accepted_us FROM accepted WHERE member = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_accepted, &o);
}

static cu_result same_digest(sqlite3_stmt *st, void *p)
{
	const unsigned char *digest = p;
	const void *have = sqlite3_column_blob(st, 0);

	return sqlite3_column_bytes(st, 0) == 32 && have && !memcmp(have, digest, 32)
	           ? CU_OK
	           : CU_ERR_CONFLICT;
}

static cu_result policy_put(cu_store *s, const char *version,
                            const unsigned char digest[CU_POLICY_DIGESTBYTES], const char *doc,
                            size_t len, const char *by, int64_t when_us)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_POLICY_DIGEST, "SELECT digest FROM policy_versions WHERE version = ?1", &st);
	int b;

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, version)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	/* A version is published once: the same document again is no change, another is refused. */
	rc = cu_sqlite_one_row(st, same_digest, (void *)digest);
	if (rc != CU_ERR_NOT_FOUND)
		return rc;
	rc = cu_sqlite_area_stmt(
	    s, S_POLICY_PUT,
	    "INSERT INTO policy_versions (version, digest, document, published_us,"
	    " published_by) VALUES (?1,?2,?3,?4,?5)",
	    &st);
	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, version);
	b = b ? b : sqlite3_bind_blob(st, 2, digest, 32, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_text64(st, 3, doc, len, SQLITE_STATIC, SQLITE_UTF8);
	b = b ? b : sqlite3_bind_int64(st, 4, when_us);
	b = b ? b : cu_sqlite_bind_text(st, 5, by);
	return cu_sqlite_run_bound(st, b);
}

struct doc_out {
	char **doc;
	size_t *len;
	int64_t *published;
};

static cu_result read_doc(sqlite3_stmt *st, void *p)
{
	struct doc_out *o = p;
	const unsigned char *text = sqlite3_column_text(st, 0);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);

	if (!text)
		return CU_ERR_STORE;
	*o->doc = malloc(n + 1);
	if (!*o->doc)
		return CU_ERR_NOMEM;
	memcpy(*o->doc, text, n);
	(*o->doc)[n] = '\0';
	*o->len = n;
	if (o->published)
		*o->published = sqlite3_column_int64(st, 1);
	return CU_OK;
}

static cu_result policy_get(cu_store *s, const char *version, char **doc, size_t *len,
                            int64_t *published_us)
{
	struct doc_out o = {doc, len, published_us};
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_POLICY_GET,
	    "SELECT document, published_us FROM policy_versions WHERE version = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, version)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_doc, &o);
}

static cu_result policy_list(cu_store *s, cu_store_policy_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_POLICY_LIST,
	                        "SELECT version, published_us, published_by FROM policy_versions"
	                        " ORDER BY published_us, version",
	                        &st);
	int r;

	if (rc)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		const char *by = (const char *)sqlite3_column_text(st, 2);

		if (fn(ud, v ? v : "", sqlite3_column_int64(st, 1), by ? by : ""))
			break;
	}
	rc = r == SQLITE_ROW || r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result read_version(sqlite3_stmt *st, void *out)
{
	return cu_sqlite_copy_text(st, 0, out, CU_VERSION_MAX);
}

static cu_result policy_at(cu_store *s, int64_t when_us, char version[CU_VERSION_MAX + 1])
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_POLICY_AT,
	                        "SELECT version FROM policy_versions WHERE published_us <= ?1"
	                        " ORDER BY published_us DESC, rowid DESC LIMIT 1",
	                        &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, when_us)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_version, version);
}

static cu_result copy_blob(sqlite3_stmt *st, int col, unsigned char **out, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	*out = NULL;
	*len = 0;
	if (!p)
		return CU_OK;
	*out = malloc(n ? n : 1);
	if (!*out)
		return CU_ERR_NOMEM;
	memcpy(*out, p, n);
	*len = n;
	return CU_OK;
}

static cu_result read_exception(sqlite3_stmt *st, cu_exception_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->officer, sizeof(out->officer) - 1);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->exception, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 4, out->purpose, sizeof(out->purpose) - 1);
	if (!rc)
		rc = copy_blob(st, 5, &out->justification, &out->justification_len);
	out->created_us = sqlite3_column_int64(st, 6);
	out->closed_us =
	    sqlite3_column_type(st, 7) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 7);
	if (!rc && sqlite3_column_type(st, 8) != SQLITE_NULL)
		rc = cu_sqlite_copy_text(st, 8, out->closed_by, sizeof(out->closed_by) - 1);
	if (!rc)
		rc = copy_blob(st, 9, &out->review, &out->review_len);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 10, out->fields, CU_EXCEPTION_FIELDS_MAX);
	if (rc)
		cu_exception_row_release(out);
	return rc;
}

static cu_result read_exception_v(sqlite3_stmt *st, void *out)
{
	return read_exception(st, out);
}

static cu_result exception_insert(cu_store *s, const cu_exception_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_EXC_INSERT,
	    "INSERT INTO exceptions (id, member, officer, exception, purpose,"
	    " justification, created_us, fields) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->officer);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->exception);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->purpose);
	b = b ? b
	      : sqlite3_bind_blob64(st, 6, row->justification, row->justification_len,
	                            SQLITE_STATIC);
	b = b ? b : sqlite3_bind_int64(st, 7, row->created_us);
	b = b ? b : cu_sqlite_bind_text(st, 8, row->fields);
	return cu_sqlite_run_bound(st, b);
}

static cu_result exception_get(cu_store *s, const char *id, cu_exception_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_EXC_GET, "SELECT " EXC_COLS " FROM exceptions WHERE id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_exception_v, out);
}

static cu_result exception_close(cu_store *s, const char *id, const char *by,
                                 const unsigned char *review, size_t review_len, int64_t when_us)
{
	cu_exception_row row;
	sqlite3_stmt *st;
	cu_result rc = exception_get(s, id, &row);
	int b;

	if (rc)
		return rc;
	b = row.closed_us != 0;
	cu_exception_row_release(&row);
	if (b)
		return CU_ERR_CONFLICT;
	rc = cu_sqlite_area_stmt(s, S_EXC_CLOSE,
	                         "UPDATE exceptions SET closed_us = ?2, closed_by = ?3, review = ?4"
	                         " WHERE id = ?1 AND closed_us IS NULL",
	                         &st);
	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, id);
	b = b ? b : sqlite3_bind_int64(st, 2, when_us);
	b = b ? b : cu_sqlite_bind_text(st, 3, by);
	b = b ? b : sqlite3_bind_blob64(st, 4, review, review_len, SQLITE_STATIC);
	return cu_sqlite_run_bound(st, b);
}

static cu_result exception_list(cu_store *s, bool open_only, cu_store_exception_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    open_only
	        ? cu_sqlite_area_stmt(s, S_EXC_LIST_OPEN,
	                              "SELECT " EXC_COLS " FROM exceptions WHERE closed_us IS NULL"
	                              " ORDER BY rowid",
	                              &st)
	        : cu_sqlite_area_stmt(s, S_EXC_LIST_ALL,
	                              "SELECT " EXC_COLS " FROM exceptions ORDER BY rowid", &st);

	if (rc)
		return rc;
	CU_SQLITE_LIST_LOOP(rc, st, cu_exception_row, read_exception, cu_exception_row_release, fn,
	                    ud);
	return rc;
}

const struct cu_store_consent_ops cu_sqlite_consent_ops = {
    .consent_insert = consent_insert,
    .consent_current = consent_current,
    .consent_get = consent_get,
    .member_context = member_context,
    .consent_list = consent_list,
    .accepted_set = accepted_set,
    .accepted_get = accepted_get,
    .policy_put = policy_put,
    .policy_get = policy_get,
    .policy_list = policy_list,
    .policy_at = policy_at,
    .exception_insert = exception_insert,
    .exception_get = exception_get,
    .exception_close = exception_close,
    .exception_list = exception_list,
};
