/*
 * src/store/store.c — the store's front door: picks a backend from the url, checks
 * arguments and enforces the transaction rules shared by every backend,
 * then dispatches through the backend's ops table (see store/backend.h).
 */
#include "store/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/secret.h"

/* Tokens, sessions and shares keep the hash cu_secret_hash makes. */
_Static_assert(CU_STORE_HASHBYTES == CU_SECRET_HASHBYTES,
               "the store keeps the secret's hash whole");

#ifdef CU_HAVE_POSTGRES
cu_result cu_store_pg_open(const char *url, cu_store **out, char *err, size_t errlen);
#define PG_OPEN cu_store_pg_open
#else
#define PG_OPEN NULL
#endif

/*
 * Url schemes, tried in order.  A NULL open names a backend this build
 * knows of but does not include, so the operator gets a clear refusal
 * rather than a database file called "postgresql:".
 */
static const struct backend {
	const char *prefix;
	bool whole_url; /* the backend wants the url, not what follows the prefix */
	cu_store_open_fn open;
	const char *name;
} backends[] = {
    {"postgresql://", true, PG_OPEN, "postgresql"},
    {"postgres://", true, PG_OPEN, "postgresql"},
    {"sqlite:", false, cu_store_sqlite_open, "sqlite"},
};

/* A url without a scheme is a path for the embedded default. */
static const struct backend *bare_path_backend(void)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i].name, "sqlite") == 0)
			return &backends[i];
	return NULL;
}

static void set_err(char *err, size_t errlen, const char *what, const char *name)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s", what, name ? name : "");
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A member id: 1..CU_ID_LEN characters. */
static bool valid_id(const char *id)
{
	return id && id[0] && memchr(id, '\0', CU_ID_LEN + 1);
}

static cu_result check_row(const cu_member_row *row)
{
	if (!row || !row->id[0] || !memchr(row->id, '\0', sizeof(row->id)))
		return CU_ERR_INVALID_ARGUMENT;
	if (row->fields_len && !row->fields)
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

/* Writes need an open transaction: there is no autocommit door. */
static cu_result writable(const cu_store *s)
{
	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	return s->in_tx ? CU_OK : CU_ERR_INTERNAL;
}

void cu_member_row_release(cu_member_row *row)
{
	if (!row)
		return;
	free(row->fields);
	row->fields = NULL;
	row->fields_len = 0;
	free(row->password_hash);
	row->password_hash = NULL;
}

cu_result cu_store_open(const char *url, cu_store **out, char *err, size_t errlen)
{
	const struct backend *b = NULL;
	const char *target = url;
	cu_store *s = NULL;
	cu_result rc;

	set_err(err, errlen, "", NULL);
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!url || !*url) {
		set_err(err, errlen, "no store url given", NULL);
		return CU_ERR_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (starts_with(url, backends[i].prefix)) {
			b = &backends[i];
			break;
		}
	}
	if (b) {
		if (!b->open) {
			set_err(err, errlen, b->name, " store not built yet");
			return CU_ERR_INVALID_ARGUMENT;
		}
		if (!b->whole_url)
			target = url + strlen(b->prefix);
	} else if (strstr(url, "://")) {
		/* Some other scheme: refuse rather than create a file by that name. */
		set_err(err, errlen, "unknown store url scheme", NULL);
		return CU_ERR_INVALID_ARGUMENT;
	} else {
		b = bare_path_backend();
	}
	if (!*target) {
		set_err(err, errlen, "no store path given", NULL);
		return CU_ERR_INVALID_ARGUMENT;
	}
	rc = b->open(target, &s, err, errlen);
	if (rc)
		return rc;
	*out = s;
	return CU_OK;
}

void cu_store_close(cu_store *s)
{
	if (s)
		s->ops->close(s);
}

int cu_store_schema_version(cu_store *s)
{
	return s ? s->schema_version : 0;
}

cu_result cu_store_begin(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	rc = s->ops->begin(s);
	if (!rc)
		s->in_tx = true;
	s->later = false;
	s->audit_appended = false;
	return rc;
}

/*
 * After a rollback the mark this handle moved may not stand: read it again
 * before trusting it.  (Too low is harmless; too high would loosen the
 * tail's bound.)
 */
static void forget_mark(cu_store *s)
{
	s->audit_mark_known = false;
	s->audit_mark = 0;
}

cu_result cu_store_commit(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (!s->in_tx)
		return CU_ERR_INTERNAL;
	if (s->audit_appended && !s->audit_defer) {
		s->audit_appended = false;
		rc = s->ops->audit_index(s, &s->audit_mark);
		if (rc) {
			s->ops->rollback(s);
			s->in_tx = false;
			s->sp_depth = 0;
			s->later = false;
			forget_mark(s);
			return rc;
		}
		s->audit_mark_known = true;
	}
	if (s->later) {
		s->later = false;
		rc = s->ops->meta_set(s, s->later_key, s->later_val);
		if (rc) {
			s->ops->rollback(s);
			s->in_tx = false;
			s->sp_depth = 0;
			forget_mark(s);
			return rc;
		}
	}
	rc = s->ops->commit(s);
	s->in_tx = false;
	s->sp_depth = 0;
	if (rc)
		forget_mark(s);
	return rc;
}

void cu_store_rollback(cu_store *s)
{
	if (!s)
		return;
	s->later = false;
	s->sp_depth = 0;
	if (!s->in_tx)
		return;
	s->ops->rollback(s);
	s->in_tx = false;
	forget_mark(s);
}

cu_result cu_store_savepoint(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (!s->in_tx || s->sp_depth >= CU_STORE_SAVEPOINTS_MAX)
		return CU_ERR_INTERNAL;
	rc = s->ops->savepoint(s);
	if (rc)
		return rc;
	s->sp_saved[s->sp_depth].later = s->later;
	memcpy(s->sp_saved[s->sp_depth].later_key, s->later_key, sizeof(s->later_key));
	memcpy(s->sp_saved[s->sp_depth].later_val, s->later_val, sizeof(s->later_val));
	s->sp_depth++;
	return CU_OK;
}

cu_result cu_store_savepoint_release(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (!s->in_tx || s->sp_depth <= 0)
		return CU_ERR_INTERNAL;
	rc = s->ops->savepoint_release(s);
	if (rc)
		return rc;
	s->sp_depth--;
	return CU_OK;
}

cu_result cu_store_savepoint_rollback(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (!s->in_tx || s->sp_depth <= 0)
		return CU_ERR_INTERNAL;
	rc = s->ops->savepoint_rollback(s);
	if (rc) {
		/* A savepoint that cannot be undone leaves nothing to trust. */
		cu_store_rollback(s);
		return rc;
	}
	s->sp_depth--;
	forget_mark(s);
	s->later = s->sp_saved[s->sp_depth].later;
	memcpy(s->later_key, s->sp_saved[s->sp_depth].later_key, sizeof(s->later_key));
	memcpy(s->later_val, s->sp_saved[s->sp_depth].later_val, sizeof(s->later_val));
	return CU_OK;
}

bool cu_store_in_transaction(const cu_store *s)
{
	return s && s->in_tx;
}

cu_result cu_store_snapshot_begin(cu_store *s)
{
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx)
		return CU_ERR_INTERNAL;
	if (s->in_snapshot) {
		/* Inside one already: the same snapshot, ended by the matching end. */
		s->snapshot_inner++;
		return CU_OK;
	}
	rc = s->ops->snapshot_begin(s);
	if (!rc)
		s->in_snapshot = true;
	return rc;
}

cu_result cu_store_view_begin(cu_store *s, bool *held)
{
	cu_result rc;

	*held = false;
	if (cu_store_in_transaction(s))
		return CU_OK;
	rc = cu_store_snapshot_begin(s);
	*held = rc == CU_OK;
	return rc;
}

cu_result cu_store_lookups_begin(cu_store *s, bool *held)
{
	*held = false;
	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->snapshot_per_statement ? CU_OK : cu_store_view_begin(s, held);
}

void cu_store_snapshot_end(cu_store *s)
{
	if (!s || !s->in_snapshot)
		return;
	if (s->snapshot_inner > 0) {
		s->snapshot_inner--;
		return;
	}
	s->ops->snapshot_end(s);
	s->in_snapshot = false;
}

cu_result cu_store_member_insert(cu_store *s, const cu_member_row *row)
{
	cu_result rc = writable(s);

	if (!rc)
		rc = check_row(row);
	return rc ? rc : s->ops->member_insert(s, row);
}

cu_result cu_store_member_get(cu_store *s, const char *id, cu_member_row *out)
{
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	/* A failed get leaves a row that is safe to release. */
	memset(out, 0, sizeof(*out));
	if (!s || !valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->member_get(s, id, out);
}

cu_result cu_store_member_update(cu_store *s, const cu_member_row *row)
{
	cu_result rc = writable(s);

	if (!rc)
		rc = check_row(row);
	return rc ? rc : s->ops->member_update(s, row);
}

cu_result cu_store_member_erase(cu_store *s, const char *id, int64_t when_us)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->member_erase(s, id, when_us);
}

cu_result cu_store_member_find(cu_store *s, const char *kind,
                               const unsigned char bidx[CU_VAULT_BIDXBYTES],
                               char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n)
{
	enum cu_store_bidx_kind k;

	if (!n)
		return CU_ERR_INVALID_ARGUMENT;
	*n = 0;
	if (!s || !kind || !bidx || (max && !ids))
		return CU_ERR_INVALID_ARGUMENT;
	if (strcmp(kind, "email") == 0)
		k = CU_STORE_BIDX_EMAIL;
	else if (strcmp(kind, "phone") == 0)
		k = CU_STORE_BIDX_PHONE;
	else
		return CU_ERR_INVALID_ARGUMENT;
	if (!max)
		return CU_OK;
	return s->ops->member_find(s, k, bidx, ids, max, n);
}

cu_result cu_store_member_keys(cu_store *s, const char *after, cu_member_key *keys, size_t max,
                               size_t *n)
{
	if (!s || !after || !keys || !n || strlen(after) > CU_ID_LEN)
		return CU_ERR_INVALID_ARGUMENT;
	*n = 0;
	return s->ops->member_keys(s, after, keys, max, n);
}

cu_result cu_store_member_rewrap(cu_store *s, const char *id,
                                 const unsigned char old[CU_VAULT_WRAPPEDBYTES],
                                 const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
                                 uint32_t key_id)
{
	if (!s || !id || !old || !wrapped)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->member_rewrap(s, id, old, wrapped, key_id);
}

cu_result cu_store_member_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
                              size_t max, size_t *n)
{
	if (!s || !after || !ids || !n || strlen(after) > CU_ID_LEN)
		return CU_ERR_INVALID_ARGUMENT;
	*n = 0;
	return s->ops->member_ids(s, after, ids, max, n);
}

cu_result cu_store_member_count(cu_store *s, uint64_t *n)
{
	if (!s || !n)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->member_count(s, n);
}

cu_result cu_store_audit_append(cu_store *s, const cu_audit_entry *e)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!e || e->seq == 0 || e->seq > (uint64_t)INT64_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	rc = s->ops->audit_append(s, e);
	if (rc)
		return rc;
	s->audit_appended = true;
	if (e->seq - s->audit_mark <= CU_STORE_AUDIT_TAIL_MAX)
		return CU_OK;
	/* The tail looks too long: as this handle last saw the mark, or it has not seen it. */
	if (!s->audit_mark_known) {
		rc = s->ops->audit_mark(s, &s->audit_mark);
		if (rc)
			return rc;
		s->audit_mark_known = true;
		if (e->seq - s->audit_mark <= CU_STORE_AUDIT_TAIL_MAX)
			return CU_OK;
	}
	return cu_store_audit_index(s, NULL);
}

cu_result cu_store_audit_index(cu_store *s, uint64_t *mark)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	rc = s->ops->audit_index(s, &s->audit_mark);
	if (rc)
		return rc;
	s->audit_mark_known = true;
	if (mark)
		*mark = s->audit_mark;
	return CU_OK;
}

void cu_store_audit_index_defer(cu_store *s, bool defer)
{
	if (s)
		s->audit_defer = defer;
}

uint64_t cu_store_audit_indexed(const cu_store *s)
{
	return s ? s->audit_mark : 0;
}

cu_result cu_store_audit_mark(cu_store *s, uint64_t *mark)
{
	if (!s || !mark)
		return CU_ERR_INVALID_ARGUMENT;
	*mark = 0;
	return s->ops->audit_mark(s, mark);
}

cu_result cu_store_audit_index_scan(cu_store *s, uint64_t upto, cu_store_audit_index_fn fn,
                                    void *ud)
{
	cu_result rc;

	if (!s || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = s->ops->audit_index_scan(s, upto, fn, ud);
	s->scanning = false;
	return rc;
}

cu_result cu_store_audit_index_check(cu_store *s, cu_audit_index_check *out)
{
	if (!s || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	return s->ops->audit_index_check(s, out);
}

cu_result cu_store_audit_last(cu_store *s, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	if (!s || !seq || !hash)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->audit_last(s, seq, hash);
}

cu_result cu_store_audit_chain_last(cu_store *s, const char *chain, uint64_t *seq,
                                    unsigned char hash[CU_AUDIT_HASHBYTES])
{
	if (!s || !chain || !seq || !hash)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->audit_chain_last(s, chain, seq, hash);
}

cu_result cu_store_audit_count(cu_store *s, uint64_t *n)
{
	if (!s || !n)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->audit_count(s, n);
}

cu_result cu_store_audit_scan(cu_store *s, uint64_t from, const char *member, cu_store_audit_fn fn,
                              void *ud)
{
	cu_result rc;

	if (!s || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	/* Each scan owns a prepared statement; a callback may not start another. */
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = s->ops->audit_scan(s, from, member, fn, ud);
	s->scanning = false;
	return rc;
}

cu_result cu_store_audit_hash_at(cu_store *s, uint64_t seq, unsigned char hash[CU_AUDIT_HASHBYTES],
                                 bool *found)
{
	if (!s || !hash || !found)
		return CU_ERR_INVALID_ARGUMENT;
	*found = false;
	memset(hash, 0, CU_AUDIT_HASHBYTES);
	if (seq == 0 || seq > (uint64_t)INT64_MAX)
		return CU_OK;
	return s->ops->audit_hash_at(s, seq, hash, found);
}

cu_result cu_store_audit_checkpoint_insert(cu_store *s, const cu_audit_checkpoint *cp)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!cp || cp->seq > (uint64_t)INT64_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->audit_checkpoint_insert(s, cp);
}

cu_result cu_store_audit_checkpoint_last(cu_store *s, cu_audit_checkpoint *out, bool *found)
{
	if (!s || !out || !found)
		return CU_ERR_INVALID_ARGUMENT;
	*found = false;
	memset(out, 0, sizeof(*out));
	return s->ops->audit_checkpoint_last(s, out, found);
}

cu_result cu_store_audit_checkpoint_scan(cu_store *s, cu_store_audit_checkpoint_fn fn, void *ud)
{
	cu_result rc;

	if (!s || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = s->ops->audit_checkpoint_scan(s, fn, ud);
	s->scanning = false;
	return rc;
}

/* ---- tokens and sessions ---- */

static bool terminated(const char *buf, size_t size)
{
	return memchr(buf, '\0', size) != NULL;
}

static cu_result check_token_row(const cu_token_row *row)
{
	if (!row || !valid_id(row->id) || !terminated(row->name, sizeof(row->name)) ||
	    !row->name[0])
		return CU_ERR_INVALID_ARGUMENT;
	if ((int)row->role < 0 || row->role >= CU_ROLE_COUNT_)
		return CU_ERR_INVALID_ARGUMENT;
	if (row->expires_us < 0 || row->revoked_us < 0)
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

cu_result cu_store_token_insert(cu_store *s, const cu_token_row *row)
{
	cu_result rc = writable(s);

	if (!rc)
		rc = check_token_row(row);
	return rc ? rc : s->ops->token_insert(s, row);
}

cu_result cu_store_token_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                     cu_token_row *out)
{
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!s || !hash)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->token_get_by_hash(s, hash, out);
}

cu_result cu_store_token_get(cu_store *s, const char *id, cu_token_row *out)
{
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!s || !valid_id(id))
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->token_get(s, id, out);
}

cu_result cu_store_token_list(cu_store *s, cu_store_token_fn fn, void *ud)
{
	cu_result rc;

	if (!s || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->scanning)
		return CU_ERR_INTERNAL;
	s->scanning = true;
	rc = s->ops->token_list(s, fn, ud);
	s->scanning = false;
	return rc;
}

cu_result cu_store_token_revoke(cu_store *s, const char *id, int64_t when_us)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!valid_id(id) || when_us < 0)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->token_revoke(s, id, when_us);
}

cu_result cu_store_session_insert(cu_store *s, const cu_session_row *row)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!row || !valid_id(row->member) || row->expires_us < row->created_us)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->session_insert(s, row);
}

cu_result cu_store_session_get(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                               cu_session_row *out)
{
	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!s || !hash)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->session_get(s, hash, out);
}

cu_result cu_store_session_delete(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES])
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!hash)
		return CU_ERR_INVALID_ARGUMENT;
	return s->ops->session_delete(s, hash);
}

cu_result cu_store_session_delete_member(cu_store *s, const char *member, uint64_t *n)
{
	uint64_t count = 0;
	cu_result rc = writable(s);

	if (n)
		*n = 0;
	if (rc)
		return rc;
	if (!valid_id(member))
		return CU_ERR_INVALID_ARGUMENT;
	rc = s->ops->session_delete_member(s, member, &count);
	if (!rc && n)
		*n = count;
	return rc;
}

cu_result cu_store_session_purge_expired(cu_store *s, int64_t now_us, uint64_t *n)
{
	uint64_t count = 0;
	cu_result rc = writable(s);

	if (n)
		*n = 0;
	if (rc)
		return rc;
	rc = s->ops->session_purge_expired(s, now_us, &count);
	if (!rc && n)
		*n = count;
	return rc;
}

cu_result cu_store_meta_get(cu_store *s, const char *key, char *val, size_t vallen, bool *found)
{
	if (found)
		*found = false;
	if (val && vallen)
		val[0] = '\0';
	if (!s || !key || !*key || !val || !vallen || !found)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->later && strcmp(key, s->later_key) == 0) {
		size_t n = strlen(s->later_val);

		if (n >= vallen)
			return CU_ERR_TOO_LARGE;
		memcpy(val, s->later_val, n + 1);
		*found = true;
		return CU_OK;
	}
	return s->ops->meta_get(s, key, val, vallen, found);
}

cu_result cu_store_meta_set(cu_store *s, const char *key, const char *val)
{
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!key || !*key || !val)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->later && strcmp(key, s->later_key) == 0)
		s->later = false;
	return s->ops->meta_set(s, key, val);
}

/* The stored rows with the value pending for commit in place of its key's. */
struct meta_scan {
	cu_store *s;
	cu_store_meta_fn fn;
	void *ud;
	bool later_seen, stopped;
};

static int meta_row(void *ud, const char *key, const char *val)
{
	struct meta_scan *m = ud;

	if (m->s->later && strcmp(key, m->s->later_key) == 0) {
		m->later_seen = true;
		val = m->s->later_val;
	}
	m->stopped = m->fn(m->ud, key, val) != 0;
	return m->stopped;
}

cu_result cu_store_meta_scan(cu_store *s, const char *prefix, cu_store_meta_fn fn, void *ud)
{
	struct meta_scan m = {.s = s, .fn = fn, .ud = ud};
	cu_result rc;

	if (!s || !prefix || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	rc = s->ops->meta_scan(s, prefix, meta_row, &m);
	if (!rc && s->later && !m.later_seen && !m.stopped &&
	    strncmp(s->later_key, prefix, strlen(prefix)) == 0)
		(void)fn(ud, s->later_key, s->later_val);
	return rc;
}

cu_result cu_store_meta_set_at_commit(cu_store *s, const char *key, const char *val)
{
	size_t klen, vlen;
	cu_result rc = writable(s);

	if (rc)
		return rc;
	if (!key || !*key || !val)
		return CU_ERR_INVALID_ARGUMENT;
	klen = strlen(key);
	vlen = strlen(val);
	if (klen >= sizeof(s->later_key) || vlen >= sizeof(s->later_val))
		return CU_ERR_TOO_LARGE;
	if (s->later && strcmp(key, s->later_key) != 0) {
		rc = s->ops->meta_set(s, s->later_key, s->later_val);
		if (rc)
			return rc;
	}
	memcpy(s->later_key, key, klen + 1);
	memcpy(s->later_val, val, vlen + 1);
	s->later = true;
	return CU_OK;
}

cu_result cu_store_checkpoint(cu_store *s)
{
	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	return s->ops->checkpoint(s);
}

cu_result cu_store_set_autocheckpoint_pages(cu_store *s, unsigned pages)
{
	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	if (!s->ops->set_autocheckpoint)
		return CU_ERR_INTERNAL;
	return s->ops->set_autocheckpoint(s, pages);
}

cu_result cu_store_set_cache_kib(cu_store *s, unsigned kib)
{
	if (!s || kib < CU_STORE_CACHE_KIB_MIN || kib > CU_STORE_CACHE_KIB_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	if (!s->ops->set_cache_kib)
		return CU_ERR_INTERNAL;
	return s->ops->set_cache_kib(s, kib);
}

cu_result cu_store_set_autocheckpoint(cu_store *s, bool on)
{
	return cu_store_set_autocheckpoint_pages(s, on ? CU_STORE_AUTOCHECKPOINT_DEFAULT : 0);
}

cu_result cu_store_checkpoint_passive(cu_store *s, int *log_frames, int *checkpointed)
{
	int lf = 0, ck = 0;
	cu_result rc;

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	if (!s->ops->checkpoint_passive)
		return CU_ERR_INTERNAL;
	rc = s->ops->checkpoint_passive(s, &lf, &ck);
	if (log_frames)
		*log_frames = lf;
	if (checkpointed)
		*checkpointed = ck;
	return rc;
}
