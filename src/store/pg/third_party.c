/*
 * src/store/pg/third_party.c — third parties, provisions and members' shares
 * on PostgreSQL (store/third_party.h; the SQL of store/sqlite/third_party.c).
 */
#include "store/pg/pg.h"
#include "store/third_party_backend.h"

#include <stdio.h>
#include <string.h>

enum {
	S_TP_INSERT = CU_PG_SLOTS_THIRD_PARTIES,
	S_TP_GET,
	S_TP_LIST,
	S_PROV_INSERT,
	S_PROV_LIST,
	S_PROV_PURGE,
	S_PROV_CENSUS,
	S_SHARE_INSERT,
	S_SHARE_GET,
	S_SHARE_REVOKE,
	S_SHARE_LIST,
	S_END_
};

_Static_assert((int)S_END_ <= (int)CU_PG_SLOTS_SUBCONTRACTORS,
               "third-party statements overflow their slots");

#define TP_COLS "id, name, contact, purpose, fields, created_by, created_us"
#define PROV_COLS                                                                                  \
	"id, third_party, member, fields, basis, exception, exception_record, actor, role, time_us"
#define SHARE_COLS "id, member, hash, fields, created_us, expires_us, revoked_us"

/* Policy field names joined with ',', as a provision stores them. */
#define FIELDS_TEXT_BYTES (CU_POLICY_FIELDS_MAX * (CU_POLICY_ID_MAX + 1) + 1)

static cu_result read_tp(const PGresult *r, int i, cu_third_party_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->name, CU_REGISTRY_NAME_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->contact, CU_REGISTRY_CONTACT_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->purpose, CU_REGISTRY_TEXT_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 4, out->fields_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 5, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = cu_pg_int(r, i, 6);
	return rc;
}

static cu_result read_tp_v(const PGresult *r, int i, void *out)
{
	return read_tp(r, i, out);
}

static cu_result third_party_insert(cu_store *s, const cu_third_party_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->name);
	cu_pg_param_text(&p, row->contact);
	cu_pg_param_text(&p, row->purpose);
	cu_pg_param_text(&p, row->fields_text);
	cu_pg_param_text(&p, row->created_by);
	cu_pg_param_int(&p, row->created_us);
	return cu_pg_insert(s, S_TP_INSERT,
	                    "INSERT INTO third_parties (" TP_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result third_party_get(cu_store *s, const char *id, cu_third_party_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_TP_GET, "SELECT " TP_COLS " FROM third_parties WHERE id = $1", &p,
	                     read_tp_v, out);
}

static cu_result third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(s, S_TP_LIST, "SELECT " TP_COLS " FROM third_parties ORDER BY id",
	                          NULL, &res);

	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_third_party_row, read_tp, cu_pg_release_none, fn, ud);
	return rc;
}

/* "a,b,c" -> the row's array of names. */
static cu_result split_fields(const char *text, cu_provision_row *out)
{
	out->nfields = 0;
	while (*text) {
		size_t n = strcspn(text, ",");

		if (n == 0 || n > CU_POLICY_ID_MAX || out->nfields >= CU_POLICY_FIELDS_MAX)
			return CU_ERR_STORE;
		memcpy(out->fields[out->nfields], text, n);
		out->fields[out->nfields][n] = '\0';
		out->nfields++;
		text += n;
		if (*text == ',')
			text++;
	}
	return out->nfields ? CU_OK : CU_ERR_STORE;
}

static cu_result join_fields(const cu_provision_row *row, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < row->nfields; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? "," : "", row->fields[i]);

		if (n < 0 || (size_t)n >= len - o || !row->fields[i][0] ||
		    strchr(row->fields[i], ','))
			return CU_ERR_INVALID_ARGUMENT;
		o += (size_t)n;
	}
	return CU_OK;
}

static cu_result read_prov(const PGresult *r, int i, cu_provision_row *out)
{
	char fields[FIELDS_TEXT_BYTES];
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->third_party, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, fields, sizeof(fields) - 1);
	if (!rc)
		rc = split_fields(fields, out);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 4, out->basis, sizeof(out->basis) - 1);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 5, out->exception, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 6, out->exception_record, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 7, out->actor, CU_REGISTRY_ACTOR_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 8, out->role, sizeof(out->role) - 1);
	out->time_us = cu_pg_int(r, i, 9);
	return rc;
}

static cu_result provision_insert(cu_store *s, const cu_provision_row *row)
{
	char fields[FIELDS_TEXT_BYTES];
	cu_pg_params p = {0};
	cu_result rc = join_fields(row, fields, sizeof(fields));

	if (rc)
		return rc;
	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->third_party);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, fields);
	cu_pg_param_text(&p, row->basis);
	cu_pg_param_text(&p, row->exception);
	cu_pg_param_text(&p, row->exception_record);
	cu_pg_param_text(&p, row->actor);
	cu_pg_param_text(&p, row->role);
	cu_pg_param_int(&p, row->time_us);
	return cu_pg_insert(s, S_PROV_INSERT,
	                    "INSERT INTO provisions (" PROV_COLS ")"
	                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result provision_list(cu_store *s, const char *member, cu_store_provision_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, member);
	rc = cu_pg_exec(s, S_PROV_LIST,
	                "SELECT " PROV_COLS " FROM provisions WHERE member = $1 ORDER BY rowid", &p,
	                &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_provision_row, read_prov, cu_pg_release_none, fn, ud);
	return rc;
}

/* The keep trigger refuses a younger row: that fails the purge, not the transaction. */
static cu_result provision_purge(cu_store *s, int64_t before_us, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, before_us);
	return cu_pg_write_guarded(s, S_PROV_PURGE, "DELETE FROM provisions WHERE time_us < $1", &p,
	                           n);
}

static cu_result provision_census(cu_store *s, int64_t before_us, uint64_t *n, int64_t *oldest_us)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	*n = 0;
	*oldest_us = 0;
	cu_pg_param_int(&p, before_us);
	rc = cu_pg_exec(s, S_PROV_CENSUS,
	                "SELECT count(*) FILTER (WHERE time_us < $1), min(time_us) FROM provisions",
	                &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		*n = (uint64_t)cu_pg_int(res, 0, 0);
		*oldest_us = cu_pg_int(res, 0, 1); /* NULL over no rows: 0 */
	} else {
		rc = CU_ERR_STORE;
	}
	PQclear(res);
	return rc;
}

static cu_result read_share(const PGresult *r, int i, cu_share_row *out)
{
	bool has = false;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_fixed(r, i, 2, out->hash, CU_STORE_HASHBYTES, &has);
	if (!rc && !has)
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->fields_text, CU_REGISTRY_LIST_MAX);
	out->created_us = cu_pg_int(r, i, 4);
	out->expires_us = cu_pg_int(r, i, 5);
	out->revoked_us = cu_pg_int(r, i, 6);
	return rc;
}

static cu_result read_share_v(const PGresult *r, int i, void *out)
{
	return read_share(r, i, out);
}

static cu_result share_insert(cu_store *s, const cu_share_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_bytes(&p, row->hash, CU_STORE_HASHBYTES);
	cu_pg_param_text(&p, row->fields_text);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_int(&p, row->expires_us);
	cu_pg_param_time(&p, row->revoked_us);
	return cu_pg_insert(s, S_SHARE_INSERT,
	                    "INSERT INTO shares (" SHARE_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result share_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                   cu_share_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_bytes(&p, hash, CU_STORE_HASHBYTES);
	return cu_pg_one_row(s, S_SHARE_GET, "SELECT " SHARE_COLS " FROM shares WHERE hash = $1",
	                     &p, read_share_v, out);
}

static cu_result share_revoke(cu_store *s, const char *member, const char *id, int64_t when_us)
{
	cu_pg_params p = {0};

	/* Revoking twice keeps the first time. */
	cu_pg_param_text(&p, member);
	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, when_us);
	return cu_pg_write_one(s, S_SHARE_REVOKE,
	                       "UPDATE shares SET revoked_us = COALESCE(revoked_us, $3)"
	                       " WHERE member = $1 AND id = $2",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, member);
	rc = cu_pg_exec(s, S_SHARE_LIST,
	                "SELECT " SHARE_COLS " FROM shares WHERE member = $1 ORDER BY rowid DESC",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_share_row, read_share, cu_pg_release_none, fn, ud);
	return rc;
}

const struct cu_store_third_party_ops cu_pg_third_party_ops = {
    .third_party_insert = third_party_insert,
    .third_party_get = third_party_get,
    .third_party_list = third_party_list,
    .provision_insert = provision_insert,
    .provision_list = provision_list,
    .provision_purge = provision_purge,
    .provision_census = provision_census,
    .share_insert = share_insert,
    .share_get_by_hash = share_get_by_hash,
    .share_revoke = share_revoke,
    .share_list = share_list,
};
