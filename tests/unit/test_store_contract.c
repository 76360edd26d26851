/*
 * test_store_contract.c — the store's argument contract, area by area.
 *
 * The headers under src/store/ promise that a NULL store, a NULL or
 * impossible argument (an empty or over-long id, a sealed text shorter than
 * any seal, an unknown enum value) is refused with CU_ERR_INVALID_ARGUMENT,
 * that a write outside a transaction (or inside a read snapshot) is refused
 * with CU_ERR_INTERNAL, and that a backend lacking an area answers
 * CU_ERR_INTERNAL rather than crashing.  Each refusal is checked here, and
 * a refused write must leave every table exactly as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/backup.h"
#include "store/consent.h"
#include "store/diary.h"
#include "store/notify.h"
#include "store/request.h"
#include "store/store.h"
#include "store/subcontractor.h"
#include "store/third_party.h"
#include "support.h"

#define BAD      CU_ERR_INVALID_ARGUMENT
#define INTERNAL CU_ERR_INTERNAL

/* An id one byte longer than any stored id can be. */
static char long_id[CU_ID_LEN + 2];
static char long_registry_id[CU_REGISTRY_ID_MAX + 2];
static char long_version[CU_VERSION_MAX + 2];

struct fx {
	char *dir;
	char path[512];
	char url[700];
	cu_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	memset(long_id, 'a', sizeof(long_id) - 1);
	memset(long_registry_id, 'a', sizeof(long_registry_id) - 1);
	memset(long_version, '1', sizeof(long_version) - 1);
	f->dir = cu_test_tmpdir();
	assert_non_null(f->dir);
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("cannot open the store: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_store_close(f->s);
	cu_test_store_drop(f->url);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Rows in every table, through a connection of our own (committed state only). */
static uint64_t total_rows(const struct fx *f)
{
	const char *path = f->path;
	sqlite3 *db;
	sqlite3_stmt *st, *cnt;
	uint64_t total = 0;
	char sql[300];

	if (cu_test_store_is_pg()) {
		char v[32];

		cu_test_pg_value(f->url,
		                 "SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml("
		                 "format('SELECT count(*) AS c FROM %I', table_name), false, true,"
		                 " '')))[1]::text::bigint), 0) FROM information_schema.tables"
		                 " WHERE table_schema = current_schema()",
		                 v, sizeof(v));
		return strtoull(v, NULL, 10);
	}
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table' "
	                                    "AND name NOT LIKE 'sqlite_%'",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"",
		         (const char *)sqlite3_column_text(st, 0));
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cnt, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(cnt), SQLITE_ROW);
		total += (uint64_t)sqlite3_column_int64(cnt, 0);
		sqlite3_finalize(cnt);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return total;
}

/* The meta table's whole content, so a refused meta write shows. */
static void meta_digest(const struct fx *f, char *out, size_t outlen)
{
	const char *path = f->path;
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t used = 0;

	out[0] = '\0';
	if (cu_test_store_is_pg()) {
		cu_test_pg_value(
		    f->url,
		    "SELECT coalesce(string_agg(key || '=' || value || ';', '' ORDER BY key),"
		    " '') FROM meta",
		    out, outlen);
		return;
	}
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int n = snprintf(out + used, outlen - used, "%s=%s;", sqlite3_column_text(st, 0),
		                 sqlite3_column_text(st, 1));

		assert_true(n > 0 && (size_t)n < outlen - used);
		used += (size_t)n;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int any_fn(void *ud, const void *row)
{
	(void)ud;
	(void)row;
	fail_msg("a refused call reached its callback");
	return 1;
}
#define FN(type) ((type)(void (*)(void))any_fn)

static cu_result sink(void *ud, const unsigned char *buf, size_t len)
{
	(void)ud;
	(void)buf;
	(void)len;
	return CU_OK;
}

/* ---- a backend without the later areas --------------------------------- */

/*
 * A backend that implements none of the areas: every area function must
 * refuse with CU_ERR_INTERNAL (the store exists, the backend lacks the
 * area), and with a NULL store CU_ERR_INVALID_ARGUMENT, without touching
 * anything.
 */
static const cu_store_ops bare_ops = {.name = "bare"};

static void check_areas(cu_store *s, cu_result want)
{
	unsigned char buf[64] = {0};
	char ids[2][CU_ID_LEN + 1];
	char version[CU_VERSION_MAX + 1], contract[CU_REGISTRY_ID_MAX + 1];
	uint64_t n = 7, counts[CU_OUTBOX_STATUS_COUNT_];
	int64_t when = 7;
	uint32_t keys[4];
	size_t nm, nt, nn;
	char *doc = NULL;
	size_t len;
	cu_request_row rq = {0};
	cu_request_event_row ev = {0};
	cu_complaint_row cp = {0};
	cu_complaint_response_row cr = {0};
	cu_consent_row cs = {0};
	cu_exception_row ex = {0};
	cu_notice_row nt_row = {0};
	cu_outbox_row ob = {0};
	cu_third_party_row tp = {0};
	cu_provision_row pv = {0};
	cu_share_row sh = {0};
	cu_subcontractor_row sc = {0};
	cu_review_row rv = {0};
	cu_diary_row dr = {0};
	cu_store_backup_stats stats;

	/* request.c */
	assert_int_equal(cu_store_request_insert(s, &rq), want);
	assert_int_equal(cu_store_request_get(s, "r", &rq), want);
	assert_int_equal(cu_store_request_update(s, &rq), want);
	assert_int_equal(cu_store_request_list_open(s, 0, FN(cu_store_request_fn), NULL), want);
	assert_int_equal(cu_store_request_list_member(s, "m", FN(cu_store_request_fn), NULL), want);
	assert_int_equal(cu_store_request_event_insert(s, &ev), want);
	assert_int_equal(cu_store_request_event_list(s, "r", FN(cu_store_request_event_fn), NULL),
	                 want);
	assert_int_equal(cu_store_complaint_insert(s, &cp), want);
	assert_int_equal(cu_store_complaint_get(s, "c", &cp), want);
	assert_int_equal(cu_store_complaint_update(s, &cp), want);
	assert_int_equal(cu_store_complaint_list_open(s, 0, FN(cu_store_complaint_fn), NULL), want);
	assert_int_equal(cu_store_complaint_list_member(s, "m", FN(cu_store_complaint_fn), NULL),
	                 want);
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), want);
	assert_int_equal(
	    cu_store_complaint_response_list(s, "c", FN(cu_store_complaint_response_fn), NULL),
	    want);
	assert_int_equal(cu_store_complaint_response_count(s, "c", &n), want);
	assert_int_equal(cu_store_request_forget_member(s, "m", &n), want);
	/* consent.c */
	assert_int_equal(cu_store_consent_insert(s, &cs), want);
	assert_int_equal(cu_store_consent_current(s, "m", "purpose", "t", &cs), want);
	assert_int_equal(cu_store_consent_get(s, "c", &cs), want);
	assert_int_equal(cu_store_consent_list(s, "m", FN(cu_store_consent_fn), NULL), want);
	assert_int_equal(cu_store_accepted_set(s, "m", "1", 1), want);
	assert_int_equal(cu_store_accepted_get(s, "m", version, &when), want);
	assert_int_equal(cu_store_policy_put(s, "1", buf, "{}", 2, "op", 1), want);
	assert_int_equal(cu_store_policy_get(s, "1", &doc, &len, &when), want);
	assert_null(doc);
	assert_int_equal(cu_store_policy_at(s, 1, version), want);
	assert_int_equal(cu_store_policy_list(s, FN(cu_store_policy_fn), NULL), want);
	assert_int_equal(cu_store_exception_insert(s, &ex), want);
	assert_int_equal(cu_store_exception_get(s, "e", &ex), want);
	assert_int_equal(cu_store_exception_close(s, "e", "op", buf, sizeof(buf), 1), want);
	assert_int_equal(cu_store_exception_list(s, true, FN(cu_store_exception_fn), NULL), want);
	/* notify.c */
	assert_int_equal(cu_store_notice_insert(s, &nt_row), want);
	assert_int_equal(cu_store_notice_get(s, "n", &nt_row), want);
	assert_int_equal(cu_store_notice_list(s, "m", 5, FN(cu_store_notice_fn), NULL), want);
	assert_int_equal(cu_store_notice_mark_read(s, "m", "n", 1), want);
	assert_int_equal(cu_store_outbox_insert(s, &ob), want);
	assert_int_equal(cu_store_outbox_get(s, "o", &ob), want);
	assert_int_equal(cu_store_outbox_due(s, 1, false, 5, FN(cu_store_outbox_fn), NULL), want);
	assert_int_equal(cu_store_outbox_claim(s, "o", 1, 2, false), want);
	assert_int_equal(cu_store_outbox_settle(s, &ob), want);
	assert_int_equal(cu_store_outbox_counts(s, counts), want);
	assert_int_equal(
	    cu_store_outbox_list(s, true, CU_OUTBOX_SENT, 5, FN(cu_store_outbox_fn), NULL), want);
	assert_int_equal(cu_store_outbox_drop_member(s, "m", &n), want);
	/* third_party.c */
	assert_int_equal(cu_store_third_party_insert(s, &tp), want);
	assert_int_equal(cu_store_third_party_get(s, "t", &tp), want);
	assert_int_equal(cu_store_third_party_list(s, FN(cu_store_third_party_fn), NULL), want);
	assert_int_equal(cu_store_provision_insert(s, &pv), want);
	assert_int_equal(cu_store_provision_list(s, "m", FN(cu_store_provision_fn), NULL), want);
	assert_int_equal(cu_store_provision_purge(s, 0, 1, &n), want);
	n = 7;
	when = 7;
	assert_int_equal(cu_store_provision_census(s, 0, &n, &when), want);
	assert_int_equal(n, 0);
	assert_int_equal(when, 0);
	assert_int_equal(cu_store_share_insert(s, &sh), want);
	assert_int_equal(cu_store_share_get_by_hash(s, buf, &sh), want);
	assert_int_equal(cu_store_share_revoke(s, "m", "sh", 1), want);
	assert_int_equal(cu_store_share_list(s, "m", FN(cu_store_share_fn), NULL), want);
	/* subcontractor.c */
	assert_int_equal(cu_store_subcontractor_insert(s, &sc), want);
	assert_int_equal(cu_store_subcontractor_get(s, "s", &sc), want);
	assert_int_equal(cu_store_subcontractor_list(s, FN(cu_store_subcontractor_fn), NULL), want);
	assert_int_equal(cu_store_review_insert(s, &rv), want);
	assert_int_equal(cu_store_review_get(s, "r", &rv), want);
	assert_int_equal(cu_store_review_update(s, "r", "", 1), want);
	assert_int_equal(cu_store_review_list(s, "s", FN(cu_store_review_fn), NULL), want);
	assert_int_equal(cu_store_review_overdue(s, 1, FN(cu_store_review_fn), NULL), want);
	assert_int_equal(cu_store_token_contract_set(s, "t", "c"), want);
	assert_int_equal(cu_store_token_contract_get(s, "t", contract), want);
	/* diary.c */
	assert_int_equal(cu_store_diary_insert(s, &dr), want);
	assert_int_equal(cu_store_diary_get(s, "m", "d", &dr), want);
	assert_int_equal(cu_store_diary_update(s, &dr), want);
	assert_int_equal(cu_store_diary_delete(s, "m", "d"), want);
	assert_int_equal(cu_store_diary_delete_member(s, "m", &n), want);
	assert_int_equal(cu_store_diary_list(s, "m", NULL, 5, FN(cu_store_diary_fn), NULL), want);
	assert_int_equal(cu_store_diary_count(s, "m", &n), want);
	/* backup.c */
	assert_int_equal(cu_store_backup_stream(s, 8, sink, NULL, NULL, NULL, &stats, NULL, 0),
	                 want);
	assert_int_equal(cu_store_wrapping_key_ids(s, keys, &nm, keys, &nt, 4), want);
	assert_int_equal(cu_store_member_erased_ids(s, "", ids, 2, &nn), want);
}

static void test_area_missing_or_no_store(void **state)
{
	struct cu_store bare = {.ops = &bare_ops, .in_tx = true};

	(void)state;
	check_areas(NULL, BAD);
	check_areas(&bare, INTERNAL);
	/* Outside a transaction the answer does not change. */
	bare.in_tx = false;
	check_areas(&bare, INTERNAL);
	/* Nor does the core's checkpointing, which this backend lacks too. */
	assert_int_equal(cu_store_set_autocheckpoint(&bare, false), INTERNAL);
	assert_int_equal(cu_store_checkpoint_passive(&bare, NULL, NULL), INTERNAL);
}

/* The core functions with no store: refused, never dereferenced. */
static void test_core_no_store(void **state)
{
	cu_member_row row = {.id = "m"};
	cu_member_key key;
	cu_audit_entry e = {.seq = 1};
	cu_audit_checkpoint cp = {0};
	cu_token_row tok = {0};
	cu_session_row ses = {0};
	unsigned char hash[CU_STORE_HASHBYTES] = {0}, wrapped[CU_VAULT_WRAPPEDBYTES] = {0};
	char ids[2][CU_ID_LEN + 1], val[8], err[64];
	uint64_t n = 7, seq;
	size_t sn = 7;
	bool found = true;
	int lf, ck;

	(void)state;
	assert_int_equal(cu_store_schema_version(NULL), 0);
	assert_false(cu_store_in_transaction(NULL));
	cu_store_close(NULL);
	cu_store_rollback(NULL);
	cu_store_snapshot_end(NULL);
	cu_member_row_release(NULL);
	assert_int_equal(cu_store_open("x", NULL, err, sizeof(err)), BAD);
	assert_int_equal(cu_store_begin(NULL), BAD);
	assert_int_equal(cu_store_commit(NULL), BAD);
	assert_int_equal(cu_store_savepoint(NULL), BAD);
	assert_int_equal(cu_store_savepoint_release(NULL), BAD);
	assert_int_equal(cu_store_savepoint_rollback(NULL), BAD);
	assert_int_equal(cu_store_snapshot_begin(NULL), BAD);
	assert_int_equal(cu_store_member_insert(NULL, &row), BAD);
	assert_int_equal(cu_store_member_get(NULL, "m", &row), BAD);
	assert_int_equal(cu_store_member_get(NULL, "m", NULL), BAD);
	assert_int_equal(cu_store_member_update(NULL, &row), BAD);
	assert_int_equal(cu_store_member_erase(NULL, "m", 1), BAD);
	assert_int_equal(cu_store_member_find(NULL, "email", hash, ids, 2, &sn), BAD);
	assert_int_equal(sn, 0);
	assert_int_equal(cu_store_member_find(NULL, "email", hash, ids, 2, NULL), BAD);
	assert_int_equal(cu_store_member_keys(NULL, "", &key, 1, &sn), BAD);
	assert_int_equal(cu_store_member_rewrap(NULL, "m", wrapped, wrapped, 1), BAD);
	assert_int_equal(cu_store_member_ids(NULL, "", ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_count(NULL, &n), BAD);
	assert_int_equal(cu_store_audit_append(NULL, &e), BAD);
	assert_int_equal(cu_store_audit_last(NULL, &seq, hash), BAD);
	assert_int_equal(cu_store_audit_count(NULL, &n), BAD);
	assert_int_equal(cu_store_audit_scan(NULL, 0, NULL, (cu_store_audit_fn)any_fn, NULL), BAD);
	assert_int_equal(cu_store_audit_hash_at(NULL, 1, hash, &found), BAD);
	assert_int_equal(cu_store_audit_checkpoint_insert(NULL, &cp), BAD);
	assert_int_equal(cu_store_audit_checkpoint_last(NULL, &cp, &found), BAD);
	assert_int_equal(
	    cu_store_audit_checkpoint_scan(NULL, (cu_store_audit_checkpoint_fn)any_fn, NULL), BAD);
	assert_int_equal(cu_store_token_insert(NULL, &tok), BAD);
	assert_int_equal(cu_store_token_get_by_hash(NULL, hash, &tok), BAD);
	assert_int_equal(cu_store_token_get_by_hash(NULL, hash, NULL), BAD);
	assert_int_equal(cu_store_token_get(NULL, "t", &tok), BAD);
	assert_int_equal(cu_store_token_get(NULL, "t", NULL), BAD);
	assert_int_equal(cu_store_token_list(NULL, (cu_store_token_fn)any_fn, NULL), BAD);
	assert_int_equal(cu_store_token_revoke(NULL, "t", 1), BAD);
	assert_int_equal(cu_store_session_insert(NULL, &ses), BAD);
	assert_int_equal(cu_store_session_get(NULL, hash, &ses), BAD);
	assert_int_equal(cu_store_session_get(NULL, hash, NULL), BAD);
	assert_int_equal(cu_store_session_delete(NULL, hash), BAD);
	n = 7;
	assert_int_equal(cu_store_session_delete_member(NULL, "m", &n), BAD);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(cu_store_session_purge_expired(NULL, 1, &n), BAD);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_meta_get(NULL, "k", val, sizeof(val), &found), BAD);
	assert_false(found);
	assert_int_equal(cu_store_meta_set(NULL, "k", "v"), BAD);
	assert_int_equal(cu_store_meta_set_at_commit(NULL, "k", "v"), BAD);
	assert_int_equal(cu_store_checkpoint(NULL), BAD);
	assert_int_equal(cu_store_set_autocheckpoint(NULL, true), BAD);
	lf = ck = 7;
	assert_int_equal(cu_store_checkpoint_passive(NULL, &lf, &ck), BAD);
}

/* ---- a real store: every documented refusal, and nothing written ------- */

static void test_core_refusals(void **state)
{
	struct fx *f = *state;
	cu_member_row row;
	cu_member_key key;
	cu_audit_entry e = {.seq = 1, .actor = "a"};
	cu_audit_checkpoint cp = {0};
	cu_token_row tok;
	cu_session_row ses;
	unsigned char hash[CU_STORE_HASHBYTES] = {0}, wrapped[CU_VAULT_WRAPPEDBYTES] = {0};
	char ids[2][CU_ID_LEN + 1], val[8], bigkey[CU_STORE_LATER_KEY_MAX + 1];
	char bigval[CU_STORE_LATER_VAL_MAX + 1], meta_before[4096], meta_after[4096];
	uint64_t rows = total_rows(f), n = 7;
	size_t sn = 7;
	bool found = true;

	memset(bigkey, 'k', sizeof(bigkey) - 1);
	bigkey[sizeof(bigkey) - 1] = '\0';
	memset(bigval, 'v', sizeof(bigval) - 1);
	bigval[sizeof(bigval) - 1] = '\0';
	meta_digest(f, meta_before, sizeof(meta_before));

	/* Opening: no url, no path, an unknown scheme. */
	{
		cu_store *s = (cu_store *)1;
		char err[128];

		assert_int_equal(cu_store_open(NULL, &s, err, sizeof(err)), BAD);
		assert_null(s);
		assert_string_equal(err, "no store url given");
		assert_int_equal(cu_store_open("sqlite:", &s, err, sizeof(err)), BAD);
		assert_string_equal(err, "no store path given");
		assert_int_equal(cu_store_open("mysql://x", &s, NULL, 0), BAD);
		assert_null(s);
		/* No room for a message: still refused, the buffer untouched. */
		err[0] = 'x';
		assert_int_equal(cu_store_open(NULL, &s, err, 0), BAD);
		assert_int_equal(err[0], 'x');
	}

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	/* Member rows: no row, no id, an id filling the whole buffer, fields without bytes. */
	assert_int_equal(cu_store_member_insert(f->s, NULL), BAD);
	memset(&row, 0, sizeof(row));
	assert_int_equal(cu_store_member_insert(f->s, &row), BAD);
	memset(row.id, 'a', sizeof(row.id));
	assert_int_equal(cu_store_member_insert(f->s, &row), BAD);
	memset(&row, 0, sizeof(row));
	snprintf(row.id, sizeof(row.id), "%s", "m1");
	row.fields_len = 4;
	assert_int_equal(cu_store_member_insert(f->s, &row), BAD);
	assert_int_equal(cu_store_member_update(f->s, &row), BAD);
	assert_int_equal(cu_store_member_erase(f->s, "", 1), BAD);
	assert_int_equal(cu_store_member_erase(f->s, long_id, 1), BAD);
	assert_int_equal(cu_store_member_get(f->s, long_id, &row), BAD);
	assert_null(row.fields);
	assert_int_equal(cu_store_member_find(f->s, "fax", hash, ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_find(f->s, NULL, hash, ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_find(f->s, "email", NULL, ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_find(f->s, "email", hash, NULL, 2, &sn), BAD);
	assert_int_equal(cu_store_member_find(f->s, "phone", hash, NULL, 0, &sn), CU_OK);
	assert_int_equal(sn, 0);
	assert_int_equal(cu_store_member_keys(f->s, long_id, &key, 1, &sn), BAD);
	assert_int_equal(cu_store_member_keys(f->s, NULL, &key, 1, &sn), BAD);
	assert_int_equal(cu_store_member_ids(f->s, long_id, ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_ids(f->s, "", NULL, 2, &sn), BAD);
	assert_int_equal(cu_store_member_rewrap(f->s, NULL, wrapped, wrapped, 1), BAD);
	assert_int_equal(cu_store_member_rewrap(f->s, "m", NULL, wrapped, 1), BAD);
	assert_int_equal(cu_store_member_count(f->s, NULL), BAD);
	assert_int_equal(cu_store_member_keys(f->s, "", NULL, 1, &sn), BAD);
	assert_int_equal(cu_store_member_keys(f->s, "", &key, 1, NULL), BAD);
	assert_int_equal(cu_store_member_ids(f->s, NULL, ids, 2, &sn), BAD);
	assert_int_equal(cu_store_member_ids(f->s, "", ids, 2, NULL), BAD);
	assert_int_equal(cu_store_member_rewrap(f->s, "m", wrapped, NULL, 1), BAD);

	/* Audit rows: seq 0 and a seq no signed column holds. */
	assert_int_equal(cu_store_audit_append(f->s, NULL), BAD);
	e.seq = 0;
	assert_int_equal(cu_store_audit_append(f->s, &e), BAD);
	e.seq = (uint64_t)INT64_MAX + 1;
	assert_int_equal(cu_store_audit_append(f->s, &e), BAD);
	assert_int_equal(cu_store_audit_last(f->s, NULL, hash), BAD);
	assert_int_equal(cu_store_audit_count(f->s, NULL), BAD);
	assert_int_equal(cu_store_audit_scan(f->s, 0, NULL, NULL, NULL), BAD);
	assert_int_equal(cu_store_audit_hash_at(f->s, 1, hash, NULL), BAD);
	assert_int_equal(cu_store_audit_hash_at(f->s, 1, NULL, &found), BAD);
	assert_int_equal(cu_store_audit_last(f->s, &n, NULL), BAD);
	assert_int_equal(cu_store_audit_checkpoint_last(f->s, &cp, NULL), BAD);
	/* Out-of-range seqs name no entry: found is false, not an error. */
	memset(hash, 0xff, sizeof(hash));
	assert_int_equal(cu_store_audit_hash_at(f->s, 0, hash, &found), CU_OK);
	assert_false(found);
	assert_int_equal(hash[0], 0);
	assert_int_equal(cu_store_audit_hash_at(f->s, (uint64_t)INT64_MAX + 1, hash, &found),
	                 CU_OK);
	assert_false(found);
	assert_int_equal(cu_store_audit_checkpoint_insert(f->s, NULL), BAD);
	cp.seq = (uint64_t)INT64_MAX + 1;
	assert_int_equal(cu_store_audit_checkpoint_insert(f->s, &cp), BAD);
	assert_int_equal(cu_store_audit_checkpoint_last(f->s, NULL, &found), BAD);
	assert_int_equal(cu_store_audit_checkpoint_scan(f->s, NULL, NULL), BAD);

	/* Tokens: no name, a name filling its buffer, a role out of range, negative times. */
	memset(&tok, 0, sizeof(tok));
	snprintf(tok.id, sizeof(tok.id), "%s", "tok1");
	assert_int_equal(cu_store_token_insert(f->s, NULL), BAD);
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	tok.id[0] = '\0';
	snprintf(tok.name, sizeof(tok.name), "%s", "name");
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	snprintf(tok.id, sizeof(tok.id), "%s", "tok1");
	memset(tok.name, 'n', sizeof(tok.name));
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	snprintf(tok.name, sizeof(tok.name), "%s", "name");
	tok.role = CU_ROLE_COUNT_;
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	tok.role = (cu_role)-1;
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	tok.role = 0;
	tok.expires_us = -1;
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	tok.expires_us = 0;
	tok.revoked_us = -1;
	assert_int_equal(cu_store_token_insert(f->s, &tok), BAD);
	assert_int_equal(cu_store_token_get_by_hash(f->s, NULL, &tok), BAD);
	assert_int_equal(cu_store_token_get(f->s, long_id, &tok), BAD);
	assert_int_equal(cu_store_token_list(f->s, NULL, NULL), BAD);
	assert_int_equal(cu_store_token_revoke(f->s, long_id, 1), BAD);
	assert_int_equal(cu_store_token_revoke(f->s, "tok1", -1), BAD);

	/* Sessions: no row, no member, expiring before created. */
	memset(&ses, 0, sizeof(ses));
	assert_int_equal(cu_store_session_insert(f->s, NULL), BAD);
	assert_int_equal(cu_store_session_insert(f->s, &ses), BAD);
	snprintf(ses.member, sizeof(ses.member), "%s", "m1");
	ses.created_us = 10;
	ses.expires_us = 9;
	assert_int_equal(cu_store_session_insert(f->s, &ses), BAD);
	assert_int_equal(cu_store_session_get(f->s, NULL, &ses), BAD);
	assert_int_equal(cu_store_session_delete(f->s, NULL), BAD);
	n = 7;
	assert_int_equal(cu_store_session_delete_member(f->s, long_id, &n), BAD);
	assert_int_equal(n, 0);

	/* Meta: no key, an empty key, no value, a deferred key or value too large. */
	assert_int_equal(cu_store_meta_get(f->s, "", val, sizeof(val), &found), BAD);
	assert_int_equal(cu_store_meta_get(f->s, NULL, val, sizeof(val), &found), BAD);
	assert_int_equal(cu_store_meta_get(f->s, "k", NULL, sizeof(val), &found), BAD);
	val[0] = 'x';
	assert_int_equal(cu_store_meta_get(f->s, "k", val, 0, &found), BAD);
	assert_int_equal(val[0], 'x'); /* no room: not even the terminator written */
	assert_int_equal(cu_store_meta_set(f->s, "", "v"), BAD);
	assert_int_equal(cu_store_meta_get(f->s, "k", NULL, 0, &found), BAD);
	assert_int_equal(cu_store_meta_get(f->s, "k", val, sizeof(val), NULL), BAD);
	assert_int_equal(cu_store_meta_set(f->s, NULL, "v"), BAD);
	assert_int_equal(cu_store_meta_set(f->s, "k", NULL), BAD);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "", "v"), BAD);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "k", NULL), BAD);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, bigkey, "v"), CU_ERR_TOO_LARGE);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "k", bigval), CU_ERR_TOO_LARGE);
	/* A deferred value that does not fit the reader's buffer. */
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "contract_k", "0123456789"), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "contract_k", val, sizeof(val), &found),
	                 CU_ERR_TOO_LARGE);
	/* A plain set of the same key cancels the deferred one; a rollback drops both. */
	assert_int_equal(cu_store_meta_set(f->s, "contract_k", "x"), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "contract_k", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "x");
	cu_store_rollback(f->s);

	/* Savepoints need a transaction, and one to release or undo. */
	assert_int_equal(cu_store_savepoint(f->s), INTERNAL);
	assert_int_equal(cu_store_savepoint_release(f->s), INTERNAL);
	assert_int_equal(cu_store_savepoint_rollback(f->s), INTERNAL);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_savepoint_release(f->s), INTERNAL);
	assert_int_equal(cu_store_savepoint_rollback(f->s), INTERNAL);
	for (int i = 0; i < CU_STORE_SAVEPOINTS_MAX; i++)
		assert_int_equal(cu_store_savepoint(f->s), CU_OK);
	assert_int_equal(cu_store_savepoint(f->s), INTERNAL);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_false(cu_store_in_transaction(f->s));

	/* In a snapshot: no transaction, no checkpoint; a snapshot inside is the same one. */
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	assert_int_equal(cu_store_begin(f->s), INTERNAL);
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	cu_store_snapshot_end(f->s); /* the inner one: still in the outer */
	assert_int_equal(cu_store_begin(f->s), INTERNAL);
	assert_int_equal(cu_store_checkpoint(f->s), INTERNAL);
	assert_int_equal(cu_store_set_autocheckpoint_pages(f->s, 5), INTERNAL);
	assert_int_equal(cu_store_checkpoint_passive(f->s, NULL, NULL), INTERNAL);
	cu_store_snapshot_end(f->s);
	cu_store_snapshot_end(f->s); /* harmless twice */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_snapshot_begin(f->s), INTERNAL);
	assert_int_equal(cu_store_set_autocheckpoint(f->s, true), INTERNAL);
	assert_int_equal(cu_store_checkpoint_passive(f->s, NULL, NULL), INTERNAL);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(total_rows(f), rows);
	meta_digest(f, meta_after, sizeof(meta_after));
	assert_string_equal(meta_after, meta_before);
}

/*
 * Deferred meta values: one key at a time, so deferring another writes the
 * pending one at once; deferring the same key again replaces it; a plain
 * set of another key leaves it pending.  All land at commit.
 */
static void test_meta_deferred(void **state)
{
	struct fx *f = *state;
	char val[16];
	bool found;

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "ka", "1"), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "kb", "2"), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "kb", "3"), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "kc", "4"), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "kb", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "3");
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "ka", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "1");
	assert_int_equal(cu_store_meta_get(f->s, "kb", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "3");
	assert_int_equal(cu_store_meta_get(f->s, "kc", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "4");
	/* A rollback drops what was pending. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "kb", "9"), CU_OK);
	cu_store_rollback(f->s);
	assert_int_equal(cu_store_meta_get(f->s, "kb", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "3");
}

/* Calls every area write with a valid-looking but refused argument set. */
static void area_write_refusals(cu_store *s)
{
	unsigned char sealed[CU_VAULT_SEAL_OVERHEAD] = {0}, digest[CU_POLICY_DIGESTBYTES] = {0};
	char big_text[CU_REGISTRY_TEXT_MAX + 2];
	uint64_t n;
	cu_request_row rq;
	cu_request_event_row ev;
	cu_complaint_row cp;
	cu_complaint_response_row cr;
	cu_notice_row nt;
	cu_outbox_row ob;
	cu_provision_row pv;
	cu_diary_row dr;

	memset(big_text, 'x', sizeof(big_text) - 1);
	big_text[sizeof(big_text) - 1] = '\0';

	/* Requests: each required part missing in turn, a sealed text shorter than a seal. */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(cu_store_request_insert(s, NULL), BAD);
	assert_int_equal(cu_store_request_insert(s, &rq), BAD);
	snprintf(rq.id, sizeof(rq.id), "%s", "rq1");
	assert_int_equal(cu_store_request_insert(s, &rq), BAD);
	snprintf(rq.member, sizeof(rq.member), "%s", "m1");
	assert_int_equal(cu_store_request_insert(s, &rq), BAD);
	snprintf(rq.type, sizeof(rq.type), "%s", "erasure");
	assert_int_equal(cu_store_request_insert(s, &rq), BAD);
	snprintf(rq.state, sizeof(rq.state), "%s", "received");
	rq.details = sealed;
	rq.details_len = CU_VAULT_SEAL_OVERHEAD - 1;
	assert_int_equal(cu_store_request_insert(s, &rq), BAD);
	rq.details = NULL;
	assert_int_equal(cu_store_request_insert(s, &rq), BAD); /* a length without bytes */
	assert_int_equal(cu_store_request_update(s, NULL), BAD);
	rq.state[0] = '\0';
	assert_int_equal(cu_store_request_update(s, &rq), BAD);
	memcpy(rq.id, long_id, sizeof(rq.id));
	assert_int_equal(cu_store_request_update(s, &rq), BAD);

	memset(&ev, 0, sizeof(ev));
	assert_int_equal(cu_store_request_event_insert(s, NULL), BAD);
	assert_int_equal(cu_store_request_event_insert(s, &ev), BAD);
	snprintf(ev.request, sizeof(ev.request), "%s", "rq1");
	assert_int_equal(cu_store_request_event_insert(s, &ev), BAD);
	snprintf(ev.state, sizeof(ev.state), "%s", "received");
	ev.reasons = sealed;
	ev.reasons_len = 3;
	assert_int_equal(cu_store_request_event_insert(s, &ev), BAD);

	memset(&cp, 0, sizeof(cp));
	assert_int_equal(cu_store_complaint_insert(s, NULL), BAD);
	snprintf(cp.id, sizeof(cp.id), "%s", "c1");
	snprintf(cp.member, sizeof(cp.member), "%s", "m1");
	assert_int_equal(cu_store_complaint_insert(s, &cp), BAD); /* no about */
	snprintf(cp.about, sizeof(cp.about), "%s", "use");
	assert_int_equal(cu_store_complaint_insert(s, &cp), BAD); /* no state */
	snprintf(cp.state, sizeof(cp.state), "%s", "received");
	assert_int_equal(cu_store_complaint_insert(s, &cp), BAD); /* no text */
	cp.text = sealed;
	cp.text_len = 1;
	assert_int_equal(cu_store_complaint_insert(s, &cp), BAD); /* text shorter than a seal */
	assert_int_equal(cu_store_complaint_update(s, NULL), BAD);
	cp.state[0] = '\0';
	assert_int_equal(cu_store_complaint_update(s, &cp), BAD);
	cp.id[0] = '\0';
	assert_int_equal(cu_store_complaint_update(s, &cp), BAD);

	memset(&cr, 0, sizeof(cr));
	assert_int_equal(cu_store_complaint_response_insert(s, NULL), BAD);
	snprintf(cr.id, sizeof(cr.id), "%s", "cr1");
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), BAD); /* no complaint */
	snprintf(cr.complaint, sizeof(cr.complaint), "%s", "c1");
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), BAD); /* no officer */
	snprintf(cr.officer, sizeof(cr.officer), "%s", "officer");
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), BAD); /* no text */
	cr.text = sealed;
	cr.text_len = 2;
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), BAD);
	n = 7;
	assert_int_equal(cu_store_request_forget_member(s, long_id, &n), BAD);

	/* Consent: no row, no member or version, a version longer than any. */
	assert_int_equal(cu_store_consent_insert(s, NULL), BAD);
	assert_int_equal(cu_store_accepted_set(s, NULL, "1", 1), BAD);
	assert_int_equal(cu_store_accepted_set(s, "m1", NULL, 1), BAD);
	assert_int_equal(cu_store_accepted_set(s, "m1", long_version, 1), BAD);
	assert_int_equal(cu_store_policy_put(s, NULL, digest, "{}", 2, "op", 1), BAD);
	assert_int_equal(cu_store_policy_put(s, long_version, digest, "{}", 2, "op", 1), BAD);
	assert_int_equal(cu_store_policy_put(s, "1", NULL, "{}", 2, "op", 1), BAD);
	assert_int_equal(cu_store_policy_put(s, "1", digest, NULL, 2, "op", 1), BAD);
	assert_int_equal(cu_store_policy_put(s, "1", digest, "{}", 2, NULL, 1), BAD);
	assert_int_equal(cu_store_exception_insert(s, NULL), BAD);
	assert_int_equal(cu_store_exception_close(s, NULL, "op", sealed, sizeof(sealed), 1), BAD);
	assert_int_equal(cu_store_exception_close(s, "e1", NULL, sealed, sizeof(sealed), 1), BAD);
	assert_int_equal(cu_store_exception_close(s, "e1", "op", NULL, 0, 1), BAD);

	/* Notices: ids, kind, text buffers that are not terminated. */
	memset(&nt, 0, sizeof(nt));
	assert_int_equal(cu_store_notice_insert(s, NULL), BAD);
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD);
	snprintf(nt.id, sizeof(nt.id), "%s", "n1");
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD);
	snprintf(nt.member, sizeof(nt.member), "%s", "m1");
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD); /* no kind */
	memset(nt.kind, 'k', sizeof(nt.kind));
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD);
	snprintf(nt.kind, sizeof(nt.kind), "%s", "test");
	memset(nt.subject, 's', sizeof(nt.subject));
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD);
	nt.subject[0] = '\0';
	memset(nt.body, 'b', sizeof(nt.body));
	assert_int_equal(cu_store_notice_insert(s, &nt), BAD);
	assert_int_equal(cu_store_notice_mark_read(s, long_id, "n1", 1), BAD);
	assert_int_equal(cu_store_notice_mark_read(s, "m1", "", 1), BAD);

	/* Outbox rows: each id, the kind, the error text, the status. */
	memset(&ob, 0, sizeof(ob));
	assert_int_equal(cu_store_outbox_insert(s, NULL), BAD);
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD);
	snprintf(ob.id, sizeof(ob.id), "%s", "o1");
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD);
	snprintf(ob.member, sizeof(ob.member), "%s", "m1");
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD);
	snprintf(ob.notice, sizeof(ob.notice), "%s", "n1");
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD); /* no kind */
	memset(ob.kind, 'k', sizeof(ob.kind));
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD);
	snprintf(ob.kind, sizeof(ob.kind), "%s", "test");
	memset(ob.last_error, 'e', sizeof(ob.last_error));
	assert_int_equal(cu_store_outbox_settle(s, &ob), BAD);
	ob.last_error[0] = '\0';
	ob.status = CU_OUTBOX_STATUS_COUNT_;
	assert_int_equal(cu_store_outbox_insert(s, &ob), BAD);
	assert_int_equal(cu_store_outbox_settle(s, NULL), BAD);
	assert_int_equal(cu_store_outbox_claim(s, "", 1, 2, false), BAD);
	assert_int_equal(cu_store_outbox_claim(s, "o1", 2, 2, false), BAD); /* an empty claim */
	n = 7;
	assert_int_equal(cu_store_outbox_drop_member(s, long_id, &n), BAD);

	/* Third parties, provisions, shares. */
	assert_int_equal(cu_store_third_party_insert(s, NULL), BAD);
	memset(&pv, 0, sizeof(pv));
	assert_int_equal(cu_store_provision_insert(s, NULL), BAD);
	assert_int_equal(cu_store_provision_insert(s, &pv), BAD); /* no fields */
	pv.nfields = CU_POLICY_FIELDS_MAX + 1;
	assert_int_equal(cu_store_provision_insert(s, &pv), BAD);
	/* Records of provision are kept three years: a younger cut-off is refused. */
	assert_int_equal(cu_store_provision_purge(s, 1, 1 + CU_PROVISION_KEEP_US - 1, &n), BAD);
	assert_int_equal(cu_store_share_insert(s, NULL), BAD);
	assert_int_equal(cu_store_share_revoke(s, NULL, "sh1", 1), BAD);
	assert_int_equal(cu_store_share_revoke(s, "m1", NULL, 1), BAD);
	/* An id that cannot exist names no share. */
	assert_int_equal(cu_store_share_revoke(s, long_id, "sh1", 1), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_share_revoke(s, "m1", "", 1), CU_ERR_NOT_FOUND);

	/* Subcontractors, reviews, token contracts. */
	assert_int_equal(cu_store_subcontractor_insert(s, NULL), BAD);
	assert_int_equal(cu_store_review_insert(s, NULL), BAD);
	assert_int_equal(cu_store_review_update(s, NULL, "", 1), BAD);
	assert_int_equal(cu_store_review_update(s, "r1", NULL, 1), BAD);
	assert_int_equal(cu_store_review_update(s, "r1", big_text, 1), BAD);
	assert_int_equal(cu_store_review_update(s, long_id, "ok", 1), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_token_contract_set(s, NULL, "c"), BAD);
	assert_int_equal(cu_store_token_contract_set(s, long_id, "c"), BAD);
	assert_int_equal(cu_store_token_contract_set(s, "t1", ""), BAD);
	assert_int_equal(cu_store_token_contract_set(s, "t1", long_registry_id), BAD);

	/* Diaries: ids, a title or body shorter than a seal or missing. */
	memset(&dr, 0, sizeof(dr));
	assert_int_equal(cu_store_diary_insert(s, NULL), BAD);
	assert_int_equal(cu_store_diary_insert(s, &dr), BAD);
	snprintf(dr.id, sizeof(dr.id), "%s", "d1");
	assert_int_equal(cu_store_diary_insert(s, &dr), BAD);
	snprintf(dr.member, sizeof(dr.member), "%s", "m1");
	assert_int_equal(cu_store_diary_insert(s, &dr), BAD); /* no title */
	dr.title = sealed;
	dr.title_len = CU_VAULT_SEAL_OVERHEAD - 1;
	assert_int_equal(cu_store_diary_insert(s, &dr), BAD);
	dr.title_len = CU_VAULT_SEAL_OVERHEAD;
	assert_int_equal(cu_store_diary_update(s, &dr), BAD); /* no body */
	dr.body = sealed;
	dr.body_len = 1;
	assert_int_equal(cu_store_diary_update(s, &dr), BAD);
	assert_int_equal(cu_store_diary_delete(s, long_id, "d1"), BAD);
	assert_int_equal(cu_store_diary_delete(s, "m1", NULL), BAD);
	n = 7;
	assert_int_equal(cu_store_diary_delete_member(s, "", &n), BAD);
}

static void test_area_write_refusals(void **state)
{
	struct fx *f = *state;
	uint64_t rows = total_rows(f);
	cu_request_row rq = {.id = "rq1", .member = "m1", .type = "erasure", .state = "received"};
	struct cu_store shadow;

	/* Outside a transaction every area write is an internal error. */
	assert_int_equal(cu_store_request_insert(f->s, &rq), INTERNAL);
	assert_int_equal(cu_store_diary_delete(f->s, "m1", "d1"), INTERNAL);
	assert_int_equal(cu_store_review_update(f->s, "r1", "ok", 1), INTERNAL);

	/*
	 * In a read snapshot too.  The public door never lets a transaction
	 * and a snapshot overlap, so the state is built on a copy of the
	 * handle's shared part: the refusal comes before the backend is asked.
	 */
	memcpy(&shadow, f->s, sizeof(shadow));
	shadow.in_tx = true;
	shadow.in_snapshot = true;
	assert_int_equal(cu_store_request_insert(&shadow, &rq), INTERNAL);
	assert_int_equal(cu_store_outbox_drop_member(&shadow, "m1", NULL), INTERNAL);

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	area_write_refusals(f->s);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(total_rows(f), rows);
}

static void test_area_read_refusals(void **state)
{
	struct fx *f = *state;
	char version[CU_VERSION_MAX + 1], contract[CU_REGISTRY_ID_MAX + 1] = "junk";
	char ids[2][CU_ID_LEN + 1];
	uint64_t n = 7, counts[CU_OUTBOX_STATUS_COUNT_];
	uint32_t keys[4];
	size_t nm = 7, nt = 7, nn = 7, len;
	char *doc = (char *)1;
	int64_t when;
	unsigned char hash[CU_STORE_HASHBYTES] = {0};
	cu_request_row rq;
	cu_complaint_row cp;
	cu_consent_row cs;
	cu_exception_row ex;
	cu_notice_row nt_row;
	cu_outbox_row ob;
	cu_third_party_row tp;
	cu_share_row sh;
	cu_subcontractor_row sc;
	cu_review_row rv;
	cu_diary_row dr;
	cu_store_backup_stats stats;

	/* request.c: an id that cannot exist is simply not found. */
	assert_int_equal(cu_store_request_get(f->s, "rq1", NULL), BAD);
	assert_int_equal(cu_store_request_get(f->s, long_id, &rq), CU_ERR_NOT_FOUND);
	assert_null(rq.details);
	assert_int_equal(cu_store_request_list_open(f->s, 0, NULL, NULL), BAD);
	assert_int_equal(cu_store_request_list_member(f->s, long_id, FN(cu_store_request_fn), NULL),
	                 BAD);
	assert_int_equal(cu_store_request_list_member(f->s, "m1", NULL, NULL), BAD);
	assert_int_equal(cu_store_request_event_list(f->s, "", FN(cu_store_request_event_fn), NULL),
	                 BAD);
	assert_int_equal(cu_store_request_event_list(f->s, "rq1", NULL, NULL), BAD);
	assert_int_equal(cu_store_complaint_get(f->s, "c1", NULL), BAD);
	assert_int_equal(cu_store_complaint_get(f->s, "", &cp), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_complaint_list_open(f->s, 0, NULL, NULL), BAD);
	assert_int_equal(
	    cu_store_complaint_list_member(f->s, long_id, FN(cu_store_complaint_fn), NULL), BAD);
	assert_int_equal(cu_store_complaint_list_member(f->s, "m1", NULL, NULL), BAD);
	assert_int_equal(
	    cu_store_complaint_response_list(f->s, NULL, FN(cu_store_complaint_response_fn), NULL),
	    BAD);
	assert_int_equal(cu_store_complaint_response_list(f->s, "c1", NULL, NULL), BAD);
	assert_int_equal(cu_store_complaint_response_count(f->s, long_id, &n), BAD);
	assert_int_equal(cu_store_complaint_response_count(f->s, "c1", NULL), BAD);

	/* consent.c */
	assert_int_equal(cu_store_consent_current(f->s, NULL, "purpose", "t", &cs), BAD);
	assert_int_equal(cu_store_consent_current(f->s, "m1", NULL, "t", &cs), BAD);
	assert_int_equal(cu_store_consent_current(f->s, "m1", "purpose", NULL, &cs), BAD);
	assert_int_equal(cu_store_consent_current(f->s, "m1", "purpose", "t", NULL), BAD);
	assert_int_equal(cu_store_consent_get(f->s, NULL, &cs), BAD);
	assert_int_equal(cu_store_consent_get(f->s, "c1", NULL), BAD);
	assert_int_equal(cu_store_consent_list(f->s, NULL, FN(cu_store_consent_fn), NULL), BAD);
	assert_int_equal(cu_store_consent_list(f->s, "m1", NULL, NULL), BAD);
	assert_int_equal(cu_store_accepted_get(f->s, NULL, version, &when), BAD);
	assert_int_equal(cu_store_accepted_get(f->s, "m1", NULL, &when), BAD);
	assert_int_equal(cu_store_policy_get(f->s, NULL, &doc, &len, &when), BAD);
	assert_int_equal(cu_store_policy_get(f->s, "1", NULL, &len, &when), BAD);
	assert_int_equal(cu_store_policy_get(f->s, "1", &doc, NULL, &when), BAD);
	assert_int_equal(cu_store_policy_at(f->s, 1, NULL), BAD);
	assert_int_equal(cu_store_policy_list(f->s, NULL, NULL), BAD);
	assert_int_equal(cu_store_exception_get(f->s, NULL, &ex), BAD);
	assert_int_equal(cu_store_exception_get(f->s, "e1", NULL), BAD);
	assert_int_equal(cu_store_exception_list(f->s, false, NULL, NULL), BAD);

	/* notify.c: a zero limit or max asks for nothing and gets nothing. */
	assert_int_equal(cu_store_notice_get(f->s, long_id, &nt_row), BAD);
	assert_int_equal(cu_store_notice_get(f->s, "n1", NULL), BAD);
	assert_int_equal(cu_store_notice_list(f->s, "", 5, FN(cu_store_notice_fn), NULL), BAD);
	assert_int_equal(cu_store_notice_list(f->s, "m1", 5, NULL, NULL), BAD);
	assert_int_equal(cu_store_notice_list(f->s, "m1", 0, FN(cu_store_notice_fn), NULL), CU_OK);
	assert_int_equal(cu_store_outbox_get(f->s, "", &ob), BAD);
	assert_int_equal(cu_store_outbox_get(f->s, "o1", NULL), BAD);
	assert_int_equal(cu_store_outbox_due(f->s, 1, false, 5, NULL, NULL), BAD);
	assert_int_equal(cu_store_outbox_due(f->s, 1, false, 0, FN(cu_store_outbox_fn), NULL),
	                 CU_OK);
	assert_int_equal(cu_store_outbox_counts(f->s, NULL), BAD);
	assert_int_equal(cu_store_outbox_list(f->s, true, CU_OUTBOX_SENT, 5, NULL, NULL), BAD);
	assert_int_equal(cu_store_outbox_list(f->s, false, CU_OUTBOX_STATUS_COUNT_, 5,
	                                      FN(cu_store_outbox_fn), NULL),
	                 BAD);
	assert_int_equal(
	    cu_store_outbox_list(f->s, false, CU_OUTBOX_SENT, 0, FN(cu_store_outbox_fn), NULL),
	    CU_OK);
	/* The empty store counts nothing in every status. */
	memset(counts, 0xff, sizeof(counts));
	assert_int_equal(cu_store_outbox_counts(f->s, counts), CU_OK);
	for (int i = 0; i < CU_OUTBOX_STATUS_COUNT_; i++)
		assert_int_equal(counts[i], 0);

	/* third_party.c: an id that cannot exist is not found; a member that cannot, has none. */
	assert_int_equal(cu_store_third_party_get(f->s, NULL, &tp), BAD);
	assert_int_equal(cu_store_third_party_get(f->s, "t1", NULL), BAD);
	assert_int_equal(cu_store_third_party_get(f->s, long_registry_id, &tp), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_third_party_get(f->s, "", &tp), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_third_party_list(f->s, NULL, NULL), BAD);
	assert_int_equal(cu_store_provision_list(f->s, NULL, FN(cu_store_provision_fn), NULL), BAD);
	assert_int_equal(cu_store_provision_list(f->s, "m1", NULL, NULL), BAD);
	assert_int_equal(cu_store_provision_list(f->s, long_id, FN(cu_store_provision_fn), NULL),
	                 CU_OK);
	assert_int_equal(cu_store_share_get_by_hash(f->s, NULL, &sh), BAD);
	assert_int_equal(cu_store_share_get_by_hash(f->s, hash, NULL), BAD);
	assert_int_equal(cu_store_share_list(f->s, NULL, FN(cu_store_share_fn), NULL), BAD);
	assert_int_equal(cu_store_share_list(f->s, "m1", NULL, NULL), BAD);
	assert_int_equal(cu_store_share_list(f->s, long_id, FN(cu_store_share_fn), NULL), CU_OK);
	assert_int_equal(cu_store_provision_census(f->s, 1, NULL, NULL), CU_OK);

	/* subcontractor.c */
	assert_int_equal(cu_store_subcontractor_get(f->s, NULL, &sc), BAD);
	assert_int_equal(cu_store_subcontractor_get(f->s, "s1", NULL), BAD);
	assert_int_equal(cu_store_subcontractor_get(f->s, long_registry_id, &sc), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_subcontractor_list(f->s, NULL, NULL), BAD);
	assert_int_equal(cu_store_review_get(f->s, NULL, &rv), BAD);
	assert_int_equal(cu_store_review_get(f->s, "r1", NULL), BAD);
	assert_int_equal(cu_store_review_get(f->s, long_id, &rv), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_review_list(f->s, NULL, FN(cu_store_review_fn), NULL), BAD);
	assert_int_equal(cu_store_review_list(f->s, "s1", NULL, NULL), BAD);
	assert_int_equal(cu_store_review_overdue(f->s, 1, NULL, NULL), BAD);
	assert_int_equal(cu_store_token_contract_get(f->s, NULL, contract), BAD);
	assert_int_equal(cu_store_token_contract_get(f->s, "t1", NULL), BAD);
	assert_int_equal(cu_store_token_contract_get(f->s, long_id, contract), CU_ERR_NOT_FOUND);
	assert_string_equal(contract, "");

	/* diary.c */
	assert_int_equal(cu_store_diary_get(f->s, "m1", "d1", NULL), BAD);
	assert_int_equal(cu_store_diary_get(f->s, long_id, "d1", &dr), BAD);
	assert_null(dr.title);
	assert_int_equal(cu_store_diary_get(f->s, "m1", "", &dr), BAD);
	assert_int_equal(cu_store_diary_list(f->s, "", NULL, 5, FN(cu_store_diary_fn), NULL), BAD);
	assert_int_equal(cu_store_diary_list(f->s, "m1", long_id, 5, FN(cu_store_diary_fn), NULL),
	                 BAD);
	assert_int_equal(cu_store_diary_list(f->s, "m1", NULL, 0, FN(cu_store_diary_fn), NULL),
	                 BAD);
	assert_int_equal(cu_store_diary_list(f->s, "m1", NULL, 5, NULL, NULL), BAD);
	assert_int_equal(cu_store_diary_count(f->s, long_id, &n), BAD);
	assert_int_equal(cu_store_diary_count(f->s, "m1", NULL), BAD);

	/* backup.c: a stream needs a sink and a step, and no open transaction. */
	assert_int_equal(cu_store_backup_stream(f->s, 8, NULL, NULL, NULL, NULL, &stats, NULL, 0),
	                 BAD);
	assert_int_equal(cu_store_backup_stream(f->s, 0, sink, NULL, NULL, NULL, &stats, NULL, 0),
	                 BAD);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, NULL, 0),
	                 INTERNAL);
	cu_store_rollback(f->s);
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	assert_int_equal(cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, NULL, 0),
	                 INTERNAL);
	cu_store_snapshot_end(f->s);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, NULL, &nm, keys, &nt, 4), BAD);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, keys, NULL, keys, &nt, 4), BAD);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, keys, &nm, NULL, &nt, 4), BAD);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, keys, &nm, keys, NULL, 4), BAD);
	assert_int_equal(cu_store_member_erased_ids(f->s, NULL, ids, 2, &nn), BAD);
	assert_int_equal(cu_store_member_erased_ids(f->s, "", NULL, 2, &nn), BAD);
	assert_int_equal(cu_store_member_erased_ids(f->s, "", ids, 2, NULL), BAD);
	assert_int_equal(cu_store_member_erased_ids(f->s, long_id, ids, 2, &nn), BAD);
	/*
	 * A backup with no stats to fill still streams the (empty) store whole;
	 * a PostgreSQL store is backed up with the server's tools, and says so.
	 */
	if (cu_test_store_is_pg()) {
		char err[256] = "";

		assert_int_equal(
		    cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, err, sizeof(err)),
		    INTERNAL);
		assert_non_null(strstr(err, "pg_basebackup"));
		return;
	}
	assert_int_equal(cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, NULL, 0),
	                 CU_OK);
}

/* The enum names of the outbox: both ways, and nothing for out-of-range values. */
static void test_outbox_status_names(void **state)
{
	cu_outbox_status st = CU_OUTBOX_PENDING;

	(void)state;
	for (int i = 0; i < CU_OUTBOX_STATUS_COUNT_; i++) {
		const char *name = cu_outbox_status_name((cu_outbox_status)i);

		assert_non_null(name);
		assert_int_equal(cu_outbox_status_parse(name, &st), CU_OK);
		assert_int_equal(st, i);
	}
	assert_null(cu_outbox_status_name(CU_OUTBOX_STATUS_COUNT_));
	assert_null(cu_outbox_status_name((cu_outbox_status)-1));
	st = CU_OUTBOX_SENT;
	assert_int_equal(cu_outbox_status_parse("delivered", &st), BAD);
	assert_int_equal(cu_outbox_status_parse(NULL, &st), BAD);
	assert_int_equal(st, CU_OUTBOX_SENT);
}

/* Releasing a row that owns nothing, or no row, is harmless. */
static void test_release_noop(void **state)
{
	cu_request_row rq = {0};
	cu_request_event_row ev = {0};
	cu_complaint_row cp = {0};
	cu_complaint_response_row cr = {0};
	cu_exception_row ex = {0};
	cu_diary_row dr = {0};

	(void)state;
	cu_request_row_release(NULL);
	cu_request_event_row_release(NULL);
	cu_complaint_row_release(NULL);
	cu_complaint_response_row_release(NULL);
	cu_exception_row_release(NULL);
	cu_diary_row_release(NULL);
	cu_request_row_release(&rq);
	cu_request_event_row_release(&ev);
	cu_complaint_row_release(&cp);
	cu_complaint_response_row_release(&cr);
	cu_exception_row_release(&ex);
	cu_diary_row_release(&dr);
	assert_null(rq.details);
	assert_null(dr.title);
	assert_null(ex.review);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_area_missing_or_no_store),
	    cmocka_unit_test(test_core_no_store),
	    cmocka_unit_test_setup_teardown(test_core_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta_deferred, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_area_write_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_area_read_refusals, setup, teardown),
	    cmocka_unit_test(test_outbox_status_names),
	    cmocka_unit_test(test_release_noop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
