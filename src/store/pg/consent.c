/*
 * src/store/pg/consent.c — consents, accepted versions, policy versions and
 * legal exceptions on PostgreSQL (store/consent.h; the SQL of
 * store/sqlite/consent.c).
 */
#include "store/consent_backend.h"
#include "store/pg/pg.h"

#include <stdlib.h>
#include <string.h>

enum {
	S_CONSENT_INSERT = CU_PG_SLOTS_CONSENT,
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

static cu_result read_consent(const PGresult *r, int i, cu_consent_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->kind, sizeof(out->kind) - 1);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->target, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 5, out->policy_version, CU_VERSION_MAX);
	out->granted = cu_pg_int(r, i, 4) != 0;
	out->time_us = cu_pg_int(r, i, 6);
	return rc;
}

static cu_result read_consent_v(const PGresult *r, int i, void *out)
{
	return read_consent(r, i, out);
}

static cu_result consent_insert(cu_store *s, const cu_consent_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->kind);
	cu_pg_param_text(&p, row->target);
	cu_pg_param_int(&p, row->granted ? 1 : 0);
	cu_pg_param_text(&p, row->policy_version);
	cu_pg_param_int(&p, row->time_us);
	return cu_pg_insert(s, S_CONSENT_INSERT,
	                    "INSERT INTO consents (" CONSENT_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result consent_current(cu_store *s, const char *member, const char *kind,
                                 const char *target, cu_consent_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	cu_pg_param_text(&p, kind);
	cu_pg_param_text(&p, target);
	return cu_pg_one_row(s, S_CONSENT_CURRENT,
	                     "SELECT " CONSENT_COLS " FROM consents WHERE member = $1 AND kind = $2"
	                     " AND target = $3 ORDER BY rowid DESC LIMIT 1",
	                     &p, read_consent_v, out);
}

/* One statement where the four lookups it stands for were four round trips (store/consent.h). */
static cu_result member_context(cu_store *s, const char *id, const char *kind, const char *target,
                                cu_member_row *row, cu_member_context *out)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, id);
	cu_pg_param_text(&p, kind);
	cu_pg_param_text(&p, target);
	rc = cu_pg_exec(
	    s, S_MEMBER_CONTEXT,
	    "SELECT m.id, m.key_id, m.wrapped, m.email_bidx, m.phone_bidx, m.fields, m.present,"
	    " m.password_hash, m.created_us, m.updated_us, m.erased_us,"
	    " (SELECT c.granted FROM consents c WHERE c.member = m.id AND c.kind = $2"
	    "  AND c.target = $3 ORDER BY c.rowid DESC LIMIT 1),"
	    " (SELECT a.version FROM accepted a WHERE a.member = m.id),"
	    " (SELECT v.version FROM policy_versions v WHERE v.published_us <= m.created_us"
	    "  ORDER BY v.published_us DESC, v.rowid DESC LIMIT 1)"
	    " FROM members m WHERE m.id = $1",
	    &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return CU_ERR_NOT_FOUND;
	}
	rc = cu_pg_read_member(res, row);
	if (!rc && !cu_pg_null(res, 0, 11)) {
		out->consent_found = true;
		out->consent_granted = cu_pg_int(res, 0, 11) != 0;
	}
	/* A version present but empty is damage, as the lookups themselves say. */
	if (!rc && !cu_pg_null(res, 0, 12))
		rc = cu_pg_copy_text(res, 0, 12, out->accepted, CU_VERSION_MAX);
	if (!rc && !cu_pg_null(res, 0, 13))
		rc = cu_pg_copy_text(res, 0, 13, out->at_registration, CU_VERSION_MAX);
	PQclear(res);
	return rc;
}

static cu_result consent_get(cu_store *s, const char *id, cu_consent_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_CONSENT_GET,
	                     "SELECT " CONSENT_COLS " FROM consents WHERE id = $1", &p,
	                     read_consent_v, out);
}

static cu_result consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, member);
	rc = cu_pg_exec(s, S_CONSENT_LIST,
	                "SELECT " CONSENT_COLS " FROM consents WHERE member = $1 ORDER BY rowid",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_consent_row, read_consent, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result accepted_set(cu_store *s, const char *member, const char *version, int64_t when_us)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	cu_pg_param_text(&p, version);
	cu_pg_param_int(&p, when_us);
	return cu_pg_write_guarded(
	    s, S_ACCEPTED_SET,
	    "INSERT INTO accepted (member, version, accepted_us)"
	    " VALUES ($1,$2,$3) ON CONFLICT (member) DO UPDATE SET"
	    " version = excluded.version, accepted_us = excluded.accepted_us",
	    &p, NULL);
}

struct accepted_out {
	char *version;
	int64_t *when;
};

static cu_result read_accepted(const PGresult *r, int i, void *out)
{
	struct accepted_out *o = out;

	if (o->when)
		*o->when = cu_pg_int(r, i, 1);
	return cu_pg_copy_text(r, i, 0, o->version, CU_VERSION_MAX);
}

static cu_result accepted_get(cu_store *s, const char *member, char version[CU_VERSION_MAX + 1],
                              int64_t *when_us)
{
	struct accepted_out o = {version, when_us};
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	return cu_pg_one_row(s, S_ACCEPTED_GET,
	                     "SELECT version, accepted_us FROM accepted WHERE member = $1", &p,
	                     read_accepted, &o);
}

static cu_result same_digest(const PGresult *r, int i, void *out)
{
	const unsigned char *digest = out;

	return !cu_pg_null(r, i, 0) && PQgetlength(r, i, 0) == CU_POLICY_DIGESTBYTES &&
	               !memcmp(PQgetvalue(r, i, 0), digest, CU_POLICY_DIGESTBYTES)
	           ? CU_OK
	           : CU_ERR_CONFLICT;
}

static cu_result policy_put(cu_store *s, const char *version,
                            const unsigned char digest[CU_POLICY_DIGESTBYTES], const char *doc,
                            size_t len, const char *by, int64_t when_us)
{
	cu_pg_params p = {0};
	cu_result rc;

	cu_pg_param_text(&p, version);
	/* A version is published once: the same document again is no change, another is refused. */
	rc = cu_pg_one_row(s, S_POLICY_DIGEST,
	                   "SELECT digest FROM policy_versions WHERE version = $1", &p, same_digest,
	                   (void *)digest);
	if (rc != CU_ERR_NOT_FOUND)
		return rc;
	cu_pg_param_bytes(&p, digest, CU_POLICY_DIGESTBYTES);
	cu_pg_param_textn(&p, doc, len);
	cu_pg_param_int(&p, when_us);
	cu_pg_param_text(&p, by);
	return cu_pg_insert(s, S_POLICY_PUT,
	                    "INSERT INTO policy_versions (version, digest, document, published_us,"
	                    " published_by) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
	                    &p);
}

struct doc_out {
	char **doc;
	size_t *len;
	int64_t *published;
};

static cu_result read_doc(const PGresult *r, int i, void *out)
{
	struct doc_out *o = out;
	size_t n = (size_t)PQgetlength(r, i, 0);

	if (cu_pg_null(r, i, 0))
		return CU_ERR_STORE;
	*o->doc = malloc(n + 1);
	if (!*o->doc)
		return CU_ERR_NOMEM;
	memcpy(*o->doc, PQgetvalue(r, i, 0), n);
	(*o->doc)[n] = '\0';
	*o->len = n;
	if (o->published)
		*o->published = cu_pg_int(r, i, 1);
	return CU_OK;
}

static cu_result policy_get(cu_store *s, const char *version, char **doc, size_t *len,
                            int64_t *published_us)
{
	struct doc_out o = {doc, len, published_us};
	cu_pg_params p = {0};

	cu_pg_param_text(&p, version);
	return cu_pg_one_row(
	    s, S_POLICY_GET,
	    "SELECT document, published_us FROM policy_versions WHERE version = $1", &p, read_doc,
	    &o);
}

static cu_result policy_list(cu_store *s, cu_store_policy_fn fn, void *ud)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, S_POLICY_LIST,
	                          "SELECT version, published_us, published_by FROM policy_versions"
	                          " ORDER BY published_us, version",
	                          NULL, &res);

	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		if (fn(ud, cu_pg_str(res, i, 0), cu_pg_int(res, i, 1), cu_pg_str(res, i, 2)))
			break;
	PQclear(res);
	return CU_OK;
}

static cu_result read_version(const PGresult *r, int i, void *out)
{
	return cu_pg_copy_text(r, i, 0, out, CU_VERSION_MAX);
}

static cu_result policy_at(cu_store *s, int64_t when_us, char version[CU_VERSION_MAX + 1])
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, when_us);
	return cu_pg_one_row(s, S_POLICY_AT,
	                     "SELECT version FROM policy_versions WHERE published_us <= $1"
	                     " ORDER BY published_us DESC, rowid DESC LIMIT 1",
	                     &p, read_version, version);
}

/* A bytea column that may be NULL (nothing) or empty (an allocation of one byte, length 0). */
static cu_result copy_opt_blob(const PGresult *r, int i, int col, unsigned char **out, size_t *len)
{
	size_t n;

	*out = NULL;
	*len = 0;
	if (cu_pg_null(r, i, col))
		return CU_OK;
	n = (size_t)PQgetlength(r, i, col);
	*out = malloc(n ? n : 1);
	if (!*out)
		return CU_ERR_NOMEM;
	memcpy(*out, PQgetvalue(r, i, col), n);
	*len = n;
	return CU_OK;
}

static cu_result read_exception(const PGresult *r, int i, cu_exception_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->officer, sizeof(out->officer) - 1);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->exception, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 4, out->purpose, sizeof(out->purpose) - 1);
	if (!rc)
		rc = copy_opt_blob(r, i, 5, &out->justification, &out->justification_len);
	out->created_us = cu_pg_int(r, i, 6);
	out->closed_us = cu_pg_int(r, i, 7);
	if (!rc && !cu_pg_null(r, i, 8))
		rc = cu_pg_copy_text(r, i, 8, out->closed_by, sizeof(out->closed_by) - 1);
	if (!rc)
		rc = copy_opt_blob(r, i, 9, &out->review, &out->review_len);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 10, out->fields, CU_EXCEPTION_FIELDS_MAX);
	if (rc)
		cu_exception_row_release(out);
	return rc;
}

static cu_result read_exception_v(const PGresult *r, int i, void *out)
{
	return read_exception(r, i, out);
}

static cu_result exception_insert(cu_store *s, const cu_exception_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->officer);
	cu_pg_param_text(&p, row->exception);
	cu_pg_param_text(&p, row->purpose);
	cu_pg_param_bytes(&p, row->justification ? row->justification : (const void *)"",
	                  row->justification_len);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_text(&p, row->fields);
	return cu_pg_insert(s, S_EXC_INSERT,
	                    "INSERT INTO exceptions (id, member, officer, exception, purpose,"
	                    " justification, created_us, fields) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result exception_get(cu_store *s, const char *id, cu_exception_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_EXC_GET, "SELECT " EXC_COLS " FROM exceptions WHERE id = $1", &p,
	                     read_exception_v, out);
}

static cu_result exception_close(cu_store *s, const char *id, const char *by,
                                 const unsigned char *review, size_t review_len, int64_t when_us)
{
	cu_exception_row row;
	cu_pg_params p = {0};
	cu_result rc = exception_get(s, id, &row);
	bool closed;

	if (rc)
		return rc;
	closed = row.closed_us != 0;
	cu_exception_row_release(&row);
	if (closed)
		return CU_ERR_CONFLICT;
	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, when_us);
	cu_pg_param_text(&p, by);
	cu_pg_param_bytes(&p, review, review_len);
	return cu_pg_write(s, S_EXC_CLOSE,
	                   "UPDATE exceptions SET closed_us = $2, closed_by = $3, review = $4"
	                   " WHERE id = $1 AND closed_us IS NULL",
	                   &p, NULL);
}

static cu_result exception_list(cu_store *s, bool open_only, cu_store_exception_fn fn, void *ud)
{
	PGresult *res;
	cu_result rc =
	    open_only
	        ? cu_pg_exec(s, S_EXC_LIST_OPEN,
	                     "SELECT " EXC_COLS " FROM exceptions WHERE closed_us IS NULL"
	                     " ORDER BY rowid",
	                     NULL, &res)
	        : cu_pg_exec(s, S_EXC_LIST_ALL,
	                     "SELECT " EXC_COLS " FROM exceptions ORDER BY rowid", NULL, &res);

	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_exception_row, read_exception, cu_exception_row_release, fn,
	                ud);
	return rc;
}

const struct cu_store_consent_ops cu_pg_consent_ops = {
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
