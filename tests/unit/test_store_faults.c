/*
 * test_store_faults.c — the store's backend when its database fails under it
 * (SQLite, and PostgreSQL with CU_TEST_STORE=pg: docs/postgresql.md,
 * "Conformance"; the cases about SQLite alone say so where they skip).
 *
 * Every store function (core and areas) is run with valid arguments while
 * the database misbehaves in one way at a time:
 *
 *   - its tables vanished before a statement was first prepared (another
 *     program altered the schema): the prepare fails;
 *   - its tables vanished after the statements were prepared: the step fails;
 *   - SQLite dropped the open transaction by itself (as it does after a full
 *     disk or an I/O error): a write must be refused, never autocommitted;
 *   - a value is over SQLite's length limit: the bind fails, and the write
 *     must fail rather than store NULL;
 *   - another connection holds the write lock: begin fails, no write;
 *   - an allocation fails (SQLite's allocator, and malloc where the build
 *     lets alloc_fault.h replace it), at each allocation in turn.
 *
 * Each answer must be the store error the header promises (never CU_OK,
 * never a wrong "not found"), and no failed run may leave a row behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/backend.h"
#include "store/backup.h"
#include "store/consent.h"
#include "store/diary.h"
#include "store/notify.h"
#include "store/request.h"
#include "store/sqlite/sqlite.h"
#include "store/store.h"
#include "store/subcontractor.h"
#include "store/third_party.h"
#include "alloc_fault.h"
#include "support.h"

struct fx {
	char *dir;
	char path[512]; /* SQLite's file */
	char url[1024]; /* the store: sqlite:PATH, or a schema of the test database */
	cu_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	assert_non_null(f->dir);
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
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

/* The store's tables: SQLite's schema table, or PostgreSQL's catalogue of the store's schema. */
static const char *tables_sql(void)
{
	return cu_test_store_is_pg()
	           ? "SELECT table_name FROM information_schema.tables WHERE"
	             " table_schema = current_schema() AND table_type = 'BASE TABLE'"
	           : "SELECT name FROM sqlite_master WHERE type = 'table' AND"
	             " name NOT LIKE 'sqlite_%'";
}

struct sum_sql {
	char sql[4096];
	size_t used;
};

static void add_count(void *ud, const char *table)
{
	struct sum_sql *q = ud;

	q->used += (size_t)snprintf(q->sql + q->used, sizeof(q->sql) - q->used,
	                            " + (SELECT count(*) FROM \"%s\")", table);
	assert_true(q->used < sizeof(q->sql));
}

/* Rows in every table, through a connection of our own (committed state only). */
static uint64_t total_rows(struct fx *f)
{
	struct sum_sql q = {.sql = "SELECT 0", .used = strlen("SELECT 0")};

	cu_test_store_sql_rows(f->url, tables_sql(), add_count, &q);
	return (uint64_t)cu_test_store_sql_int(f->url, q.sql);
}

/* Drops every table but meta, those that name another (foreign keys) first. */
static void drop_tables(struct fx *f)
{
	static const char *const tables[] = {
	    "consents",        "accepted",
	    "policy_versions", "exceptions",
	    "diaries",         "outbox",
	    "notices",         "request_events",
	    "requests",        "complaint_responses",
	    "complaints",      "audit_checkpoints",
	    "audit",           "sessions",
	    "token_contracts", "tokens",
	    "provisions",      "shares",
	    "third_parties",   "subcontractor_reviews",
	    "subcontractors",  "members",
	};
	char sql[128];

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", tables[i]);
		cu_test_store_sql(f->url, sql);
	}
}

/* ---- every store function, with valid arguments ------------------------ */

static unsigned char sealed[CU_VAULT_SEAL_OVERHEAD + 8];
static unsigned char hash[CU_STORE_HASHBYTES];
static unsigned char wrapped[CU_VAULT_WRAPPEDBYTES];

static int keep_going(void *ud, const void *row)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}
static int seen;
#define FN(type) ((type)(void (*)(void))keep_going), &seen

static cu_result sink(void *ud, const unsigned char *buf, size_t len)
{
	(void)ud;
	(void)buf;
	(void)len;
	return CU_OK;
}

/* Core. */
static cu_result op_member_insert(cu_store *s)
{
	cu_member_row r = {.id = "m1", .key_id = 1, .created_us = 1, .updated_us = 1};

	memcpy(r.wrapped, wrapped, sizeof(wrapped));
	r.has_email_bidx = true;
	r.fields = sealed;
	r.fields_len = sizeof(sealed);
	return cu_store_member_insert(s, &r);
}
static cu_result op_member_update(cu_store *s)
{
	cu_member_row r = {.id = "m1", .key_id = 1, .updated_us = 2};

	r.fields = sealed;
	r.fields_len = sizeof(sealed);
	return cu_store_member_update(s, &r);
}
static cu_result op_member_erase(cu_store *s)
{
	return cu_store_member_erase(s, "m1", 3);
}
static cu_result op_member_rewrap(cu_store *s)
{
	return cu_store_member_rewrap(s, "m1", wrapped, wrapped, 2);
}
static cu_result op_member_get(cu_store *s)
{
	cu_member_row r;
	cu_result rc = cu_store_member_get(s, "m1", &r);

	cu_member_row_release(&r);
	return rc;
}
static cu_result op_member_find(cu_store *s)
{
	char ids[2][CU_ID_LEN + 1];
	size_t n;

	return cu_store_member_find(s, "email", hash, ids, 2, &n);
}
static cu_result op_member_count(cu_store *s)
{
	uint64_t n;

	return cu_store_member_count(s, &n);
}
static cu_result op_member_ids(cu_store *s)
{
	char ids[2][CU_ID_LEN + 1];
	size_t n;

	return cu_store_member_ids(s, "", ids, 2, &n);
}
static cu_result op_member_keys(cu_store *s)
{
	cu_member_key k[2];
	size_t n;

	return cu_store_member_keys(s, "", k, 2, &n);
}
static cu_result op_audit_append(cu_store *s)
{
	cu_audit_entry e = {.seq = 1,
	                    .time_us = 1,
	                    .actor = "operator",
	                    .role = "admin",
	                    .action = "read",
	                    .member = "",
	                    .purpose = "",
	                    .fields = "",
	                    .decision = "done",
	                    .reason = "",
	                    .case_ref = ""};

	return cu_store_audit_append(s, &e);
}
static cu_result op_audit_last(cu_store *s)
{
	uint64_t seq;

	return cu_store_audit_last(s, &seq, hash);
}
static cu_result op_audit_count(cu_store *s)
{
	uint64_t n;

	return cu_store_audit_count(s, &n);
}
static int audit_cb(void *ud, const cu_audit_entry *e)
{
	(void)e;
	(*(int *)ud)++;
	return 0;
}
static cu_result op_audit_scan(cu_store *s)
{
	return cu_store_audit_scan(s, 1, NULL, audit_cb, &seen);
}
static cu_result op_audit_scan_member(cu_store *s)
{
	return cu_store_audit_scan(s, 1, "m1", audit_cb, &seen);
}
static cu_result op_audit_hash_at(cu_store *s)
{
	unsigned char h[CU_AUDIT_HASHBYTES];
	bool found;

	return cu_store_audit_hash_at(s, 1, h, &found);
}
static cu_result op_checkpoint_insert(cu_store *s)
{
	cu_audit_checkpoint cp = {.seq = 1, .time_us = 1, .key_id = 1};

	return cu_store_audit_checkpoint_insert(s, &cp);
}
static cu_result op_checkpoint_last(cu_store *s)
{
	cu_audit_checkpoint cp;
	bool found;

	return cu_store_audit_checkpoint_last(s, &cp, &found);
}
static int cp_cb(void *ud, const cu_audit_checkpoint *cp)
{
	(void)cp;
	(*(int *)ud)++;
	return 0;
}
static cu_result op_checkpoint_scan(cu_store *s)
{
	return cu_store_audit_checkpoint_scan(s, cp_cb, &seen);
}
static cu_result op_token_insert(cu_store *s)
{
	cu_token_row t = {.id = "t1", .role = CU_ROLE_STAFF, .name = "desk", .created_us = 1};

	memcpy(t.hash, hash, sizeof(hash));
	return cu_store_token_insert(s, &t);
}
static cu_result op_token_get_by_hash(cu_store *s)
{
	cu_token_row t;

	return cu_store_token_get_by_hash(s, hash, &t);
}
static cu_result op_token_get(cu_store *s)
{
	cu_token_row t;

	return cu_store_token_get(s, "t1", &t);
}
static int token_cb(void *ud, const cu_token_row *t)
{
	(void)t;
	(*(int *)ud)++;
	return 0;
}
static cu_result op_token_list(cu_store *s)
{
	return cu_store_token_list(s, token_cb, &seen);
}
static cu_result op_token_revoke(cu_store *s)
{
	return cu_store_token_revoke(s, "t1", 5);
}
static cu_result op_session_insert(cu_store *s)
{
	cu_session_row r = {.member = "m1", .created_us = 1, .expires_us = 9};

	memcpy(r.hash, hash, sizeof(hash));
	return cu_store_session_insert(s, &r);
}
static cu_result op_session_get(cu_store *s)
{
	cu_session_row r;

	return cu_store_session_get(s, hash, &r);
}
static cu_result op_session_delete(cu_store *s)
{
	return cu_store_session_delete(s, hash);
}
static cu_result op_session_delete_member(cu_store *s)
{
	return cu_store_session_delete_member(s, "m1", NULL);
}
static cu_result op_session_purge(cu_store *s)
{
	return cu_store_session_purge_expired(s, 5, NULL);
}

/* Requests and complaints. */
static cu_result op_request_insert(cu_store *s)
{
	cu_request_row r = {.id = "rq1",
	                    .member = "m1",
	                    .type = "erasure",
	                    .state = "received",
	                    .received_us = 1,
	                    .due_us = 2,
	                    .hard_due_us = 3,
	                    .updated_us = 1};

	r.details = sealed;
	r.details_len = sizeof(sealed);
	return cu_store_request_insert(s, &r);
}
static cu_result op_request_update(cu_store *s)
{
	cu_request_row r = {.id = "rq1",
	                    .member = "m1",
	                    .type = "erasure",
	                    .state = "applied",
	                    .updated_us = 2,
	                    .decided_us = 2,
	                    .decided_by = "operator"};

	r.certificate = "{}";
	return cu_store_request_update(s, &r);
}
static cu_result op_request_get(cu_store *s)
{
	cu_request_row r;
	cu_result rc = cu_store_request_get(s, "rq1", &r);

	cu_request_row_release(&r);
	return rc;
}
static cu_result op_request_list_open(cu_store *s)
{
	return cu_store_request_list_open(s, 9, FN(cu_store_request_fn));
}
static cu_result op_request_list_member(cu_store *s)
{
	return cu_store_request_list_member(s, "m1", FN(cu_store_request_fn));
}
static cu_result op_event_insert(cu_store *s)
{
	cu_request_event_row e = {.request = "rq1",
	                          .state = "received",
	                          .actor = "operator",
	                          .role = "admin",
	                          .time_us = 1};

	e.reasons = sealed;
	e.reasons_len = sizeof(sealed);
	return cu_store_request_event_insert(s, &e);
}
static cu_result op_event_list(cu_store *s)
{
	return cu_store_request_event_list(s, "rq1", FN(cu_store_request_event_fn));
}
static cu_result op_complaint_insert(cu_store *s)
{
	cu_complaint_row c = {.id = "c1",
	                      .member = "m1",
	                      .about = "use",
	                      .state = "received",
	                      .received_us = 1,
	                      .due_us = 2,
	                      .updated_us = 1};

	c.text = sealed;
	c.text_len = sizeof(sealed);
	return cu_store_complaint_insert(s, &c);
}
static cu_result op_complaint_update(cu_store *s)
{
	cu_complaint_row c = {.id = "c1",
	                      .state = "closed",
	                      .updated_us = 2,
	                      .closed_us = 2,
	                      .closed_by = "officer",
	                      .note = "answered"};

	return cu_store_complaint_update(s, &c);
}
static cu_result op_complaint_get(cu_store *s)
{
	cu_complaint_row c;
	cu_result rc = cu_store_complaint_get(s, "c1", &c);

	cu_complaint_row_release(&c);
	return rc;
}
static cu_result op_complaint_list_open(cu_store *s)
{
	return cu_store_complaint_list_open(s, 9, FN(cu_store_complaint_fn));
}
static cu_result op_complaint_list_member(cu_store *s)
{
	return cu_store_complaint_list_member(s, "m1", FN(cu_store_complaint_fn));
}
static cu_result op_response_insert(cu_store *s)
{
	cu_complaint_response_row r = {
	    .id = "cr1", .complaint = "c1", .officer = "officer", .time_us = 1};

	r.text = sealed;
	r.text_len = sizeof(sealed);
	return cu_store_complaint_response_insert(s, &r);
}
static cu_result op_response_list(cu_store *s)
{
	return cu_store_complaint_response_list(s, "c1", FN(cu_store_complaint_response_fn));
}
static cu_result op_response_count(cu_store *s)
{
	uint64_t n;

	return cu_store_complaint_response_count(s, "c1", &n);
}
static cu_result op_request_forget(cu_store *s)
{
	return cu_store_request_forget_member(s, "m1", NULL);
}

/* Consent, acceptance, policy versions, exceptions. */
static cu_result op_consent_insert(cu_store *s)
{
	cu_consent_row c = {.id = "cs1",
	                    .member = "m1",
	                    .kind = "purpose",
	                    .target = "news",
	                    .granted = true,
	                    .policy_version = "1",
	                    .time_us = 1};

	return cu_store_consent_insert(s, &c);
}
static cu_result op_consent_current(cu_store *s)
{
	cu_consent_row c;

	return cu_store_consent_current(s, "m1", "purpose", "news", &c);
}
static cu_result op_consent_get(cu_store *s)
{
	cu_consent_row c;

	return cu_store_consent_get(s, "cs1", &c);
}
static cu_result op_consent_list(cu_store *s)
{
	return cu_store_consent_list(s, "m1", FN(cu_store_consent_fn));
}
static cu_result op_accepted_set(cu_store *s)
{
	return cu_store_accepted_set(s, "m1", "1", 1);
}
static cu_result op_accepted_get(cu_store *s)
{
	char v[CU_VERSION_MAX + 1];
	int64_t when;

	return cu_store_accepted_get(s, "m1", v, &when);
}
static cu_result op_policy_put(cu_store *s)
{
	return cu_store_policy_put(s, "1", hash, "{\"v\":1}", 7, "operator", 1);
}
static cu_result op_policy_get(cu_store *s)
{
	char *doc = NULL;
	size_t len;
	int64_t when;
	cu_result rc = cu_store_policy_get(s, "1", &doc, &len, &when);

	free(doc);
	return rc;
}
static cu_result op_policy_at(cu_store *s)
{
	char v[CU_VERSION_MAX + 1];

	return cu_store_policy_at(s, 5, v);
}
static int policy_cb(void *ud, const char *version, int64_t when, const char *by)
{
	(void)version;
	(void)when;
	(void)by;
	(*(int *)ud)++;
	return 0;
}
static cu_result op_policy_list(cu_store *s)
{
	return cu_store_policy_list(s, policy_cb, &seen);
}
static cu_result op_exception_insert(cu_store *s)
{
	cu_exception_row e = {.id = "e1",
	                      .member = "m1",
	                      .officer = "officer",
	                      .exception = "law",
	                      .purpose = "billing",
	                      .created_us = 1};

	e.justification = sealed;
	e.justification_len = sizeof(sealed);
	return cu_store_exception_insert(s, &e);
}
static cu_result op_exception_get(cu_store *s)
{
	cu_exception_row e;
	cu_result rc = cu_store_exception_get(s, "e1", &e);

	cu_exception_row_release(&e);
	return rc;
}
static cu_result op_exception_close(cu_store *s)
{
	return cu_store_exception_close(s, "e1", "officer", sealed, sizeof(sealed), 2);
}
static cu_result op_exception_list(cu_store *s)
{
	return cu_store_exception_list(s, false, FN(cu_store_exception_fn));
}

/* Notices and the outbox. */
static cu_result op_notice_insert(cu_store *s)
{
	cu_notice_row n = {.id = "n1",
	                   .member = "m1",
	                   .kind = "test",
	                   .subject = "s",
	                   .body = "b",
	                   .created_us = 1};

	return cu_store_notice_insert(s, &n);
}
static cu_result op_notice_get(cu_store *s)
{
	cu_notice_row n;

	return cu_store_notice_get(s, "n1", &n);
}
static cu_result op_notice_list(cu_store *s)
{
	return cu_store_notice_list(s, "m1", 5, FN(cu_store_notice_fn));
}
static cu_result op_notice_mark_read(cu_store *s)
{
	return cu_store_notice_mark_read(s, "m1", "n1", 2);
}
static cu_result op_outbox_insert(cu_store *s)
{
	cu_outbox_row o = {.id = "o1",
	                   .member = "m1",
	                   .notice = "n1",
	                   .kind = "test",
	                   .status = CU_OUTBOX_PENDING,
	                   .created_us = 1,
	                   .next_attempt_us = 1};

	return cu_store_outbox_insert(s, &o);
}
static cu_result op_outbox_get(cu_store *s)
{
	cu_outbox_row o;

	return cu_store_outbox_get(s, "o1", &o);
}
static cu_result op_outbox_due(cu_store *s)
{
	return cu_store_outbox_due(s, 5, false, 5, FN(cu_store_outbox_fn));
}
static cu_result op_outbox_claim(cu_store *s)
{
	return cu_store_outbox_claim(s, "o1", 5, 9, false);
}
static cu_result op_outbox_settle(cu_store *s)
{
	cu_outbox_row o = {.id = "o1",
	                   .member = "m1",
	                   .notice = "n1",
	                   .kind = "test",
	                   .status = CU_OUTBOX_SENT,
	                   .attempts = 1,
	                   .created_us = 1,
	                   .sent_us = 6};

	return cu_store_outbox_settle(s, &o);
}
static cu_result op_outbox_counts(cu_store *s)
{
	uint64_t c[CU_OUTBOX_STATUS_COUNT_];

	return cu_store_outbox_counts(s, c);
}
static cu_result op_outbox_list(cu_store *s)
{
	return cu_store_outbox_list(s, false, CU_OUTBOX_PENDING, 5, FN(cu_store_outbox_fn));
}
static cu_result op_outbox_drop(cu_store *s)
{
	return cu_store_outbox_drop_member(s, "m1", NULL);
}

/* Third parties, provisions, shares. */
static cu_result op_third_party_insert(cu_store *s)
{
	cu_third_party_row t = {.id = "acme",
	                        .name = "Acme",
	                        .contact = "c",
	                        .purpose = "p",
	                        .fields_text = "email",
	                        .created_by = "operator",
	                        .created_us = 1};

	return cu_store_third_party_insert(s, &t);
}
static cu_result op_third_party_get(cu_store *s)
{
	cu_third_party_row t;

	return cu_store_third_party_get(s, "acme", &t);
}
static cu_result op_third_party_list(cu_store *s)
{
	return cu_store_third_party_list(s, FN(cu_store_third_party_fn));
}
static cu_result op_provision_insert(cu_store *s)
{
	cu_provision_row p = {.id = "p1",
	                      .third_party = "acme",
	                      .member = "m1",
	                      .nfields = 1,
	                      .basis = "consent",
	                      .actor = "operator",
	                      .role = "admin",
	                      .time_us = 1};

	snprintf(p.fields[0], sizeof(p.fields[0]), "%s", "email");
	return cu_store_provision_insert(s, &p);
}
static cu_result op_provision_list(cu_store *s)
{
	return cu_store_provision_list(s, "m1", FN(cu_store_provision_fn));
}
static cu_result op_provision_purge(cu_store *s)
{
	return cu_store_provision_purge(s, 0, CU_PROVISION_KEEP_US, NULL);
}
static cu_result op_provision_census(cu_store *s)
{
	uint64_t n;
	int64_t oldest;

	return cu_store_provision_census(s, 5, &n, &oldest);
}
static cu_result op_share_insert(cu_store *s)
{
	cu_share_row r = {
	    .id = "sh1", .member = "m1", .fields_text = "email", .created_us = 1, .expires_us = 9};

	memcpy(r.hash, hash, sizeof(hash));
	return cu_store_share_insert(s, &r);
}
static cu_result op_share_get(cu_store *s)
{
	cu_share_row r;

	return cu_store_share_get_by_hash(s, hash, &r);
}
static cu_result op_share_revoke(cu_store *s)
{
	return cu_store_share_revoke(s, "m1", "sh1", 2);
}
static cu_result op_share_list(cu_store *s)
{
	return cu_store_share_list(s, "m1", FN(cu_store_share_fn));
}

/* Subcontractors, reviews, token contracts. */
static cu_result op_sub_insert(cu_store *s)
{
	cu_subcontractor_row r = {.id = "mailer",
	                          .name = "Mailer",
	                          .contact = "c",
	                          .fields_text = "email",
	                          .purposes_text = "news",
	                          .measures = "tls",
	                          .start_us = 1,
	                          .end_us = 9,
	                          .created_by = "operator",
	                          .created_us = 1};

	return cu_store_subcontractor_insert(s, &r);
}
static cu_result op_sub_get(cu_store *s)
{
	cu_subcontractor_row r;

	return cu_store_subcontractor_get(s, "mailer", &r);
}
static cu_result op_sub_list(cu_store *s)
{
	return cu_store_subcontractor_list(s, FN(cu_store_subcontractor_fn));
}
static cu_result op_review_insert(cu_store *s)
{
	cu_review_row r = {.id = "rv1",
	                   .subcontractor = "mailer",
	                   .due_us = 5,
	                   .created_by = "operator",
	                   .created_us = 1};

	return cu_store_review_insert(s, &r);
}
static cu_result op_review_get(cu_store *s)
{
	cu_review_row r;

	return cu_store_review_get(s, "rv1", &r);
}
static cu_result op_review_update(cu_store *s)
{
	return cu_store_review_update(s, "rv1", "ok", 6);
}
static cu_result op_review_list(cu_store *s)
{
	return cu_store_review_list(s, "mailer", FN(cu_store_review_fn));
}
static cu_result op_review_overdue(cu_store *s)
{
	return cu_store_review_overdue(s, 9, FN(cu_store_review_fn));
}
static cu_result op_contract_set(cu_store *s)
{
	return cu_store_token_contract_set(s, "t1", "mailer");
}
static cu_result op_contract_get(cu_store *s)
{
	char c[CU_REGISTRY_ID_MAX + 1];

	return cu_store_token_contract_get(s, "t1", c);
}

/* Diaries. */
static cu_result op_diary_insert(cu_store *s)
{
	cu_diary_row d = {.id = "d1", .member = "m1", .created_us = 1, .updated_us = 1};

	d.title = d.body = sealed;
	d.title_len = d.body_len = sizeof(sealed);
	return cu_store_diary_insert(s, &d);
}
static cu_result op_diary_update(cu_store *s)
{
	cu_diary_row d = {.id = "d1", .member = "m1", .updated_us = 2};

	d.title = d.body = sealed;
	d.title_len = d.body_len = sizeof(sealed);
	return cu_store_diary_update(s, &d);
}
static cu_result op_diary_get(cu_store *s)
{
	cu_diary_row d;
	cu_result rc = cu_store_diary_get(s, "m1", "d1", &d);

	cu_diary_row_release(&d);
	return rc;
}
static cu_result op_diary_list(cu_store *s)
{
	return cu_store_diary_list(s, "m1", NULL, 5, FN(cu_store_diary_fn));
}
static cu_result op_diary_list_before(cu_store *s)
{
	return cu_store_diary_list(s, "m1", "d1", 5, FN(cu_store_diary_fn));
}
static cu_result op_diary_count(cu_store *s)
{
	uint64_t n;

	return cu_store_diary_count(s, "m1", &n);
}
static cu_result op_diary_delete(cu_store *s)
{
	return cu_store_diary_delete(s, "m1", "d1");
}
static cu_result op_diary_delete_member(cu_store *s)
{
	return cu_store_diary_delete_member(s, "m1", NULL);
}

/* Backup's reads. */
static cu_result op_key_ids(cu_store *s)
{
	uint32_t m[4], t[4];
	size_t nm, nt;

	return cu_store_wrapping_key_ids(s, m, &nm, t, &nt, 4);
}
static cu_result op_erased_ids(cu_store *s)
{
	char ids[2][CU_ID_LEN + 1];
	size_t n;

	return cu_store_member_erased_ids(s, "", ids, 2, &n);
}

struct op {
	const char *name;
	bool write;
	cu_result (*fn)(cu_store *s);
};
#define W(name)                                                                                    \
	{                                                                                          \
#name, true, op_##name                                                             \
	}
#define R(name)                                                                                    \
	{                                                                                          \
#name, false, op_##name                                                            \
	}

/* Writes in an order that would succeed on a healthy store (parents first). */
static const struct op ops[] = {
    W(member_insert),
    W(member_update),
    W(member_rewrap),
    W(audit_append),
    W(checkpoint_insert),
    W(token_insert),
    W(token_revoke),
    W(session_insert),
    W(request_insert),
    W(request_update),
    W(event_insert),
    W(complaint_insert),
    W(complaint_update),
    W(response_insert),
    W(consent_insert),
    W(accepted_set),
    W(policy_put),
    W(exception_insert),
    W(exception_close),
    W(notice_insert),
    W(notice_mark_read),
    W(outbox_insert),
    W(outbox_claim),
    W(outbox_settle),
    W(third_party_insert),
    W(provision_insert),
    W(share_insert),
    W(share_revoke),
    W(sub_insert),
    W(review_insert),
    W(review_update),
    W(contract_set),
    W(diary_insert),
    W(diary_update),
    R(member_get),
    R(member_find),
    R(member_count),
    R(member_ids),
    R(member_keys),
    R(audit_last),
    R(audit_count),
    R(audit_scan),
    R(audit_scan_member),
    R(audit_hash_at),
    R(checkpoint_last),
    R(checkpoint_scan),
    R(token_get_by_hash),
    R(token_get),
    R(token_list),
    R(session_get),
    R(request_get),
    R(request_list_open),
    R(request_list_member),
    R(event_list),
    R(complaint_get),
    R(complaint_list_open),
    R(complaint_list_member),
    R(response_list),
    R(response_count),
    R(consent_current),
    R(consent_get),
    R(consent_list),
    R(accepted_get),
    R(policy_get),
    R(policy_at),
    R(policy_list),
    R(exception_get),
    R(exception_list),
    R(notice_get),
    R(notice_list),
    R(outbox_get),
    R(outbox_due),
    R(outbox_counts),
    R(outbox_list),
    R(third_party_get),
    R(third_party_list),
    R(provision_list),
    R(provision_census),
    R(share_get),
    R(share_list),
    R(sub_get),
    R(sub_list),
    R(review_get),
    R(review_list),
    R(review_overdue),
    R(contract_get),
    R(diary_get),
    R(diary_list),
    R(diary_list_before),
    R(diary_count),
    R(key_ids),
    R(erased_ids),
    /* Deletions last, so the rows above were there to read. */
    W(diary_delete),
    W(diary_delete_member),
    W(outbox_drop),
    W(request_forget),
    W(provision_purge),
    W(session_delete),
    W(session_delete_member),
    W(session_purge),
    W(member_erase),
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/*
 * Runs the ops (writes, reads or both) inside one transaction and checks
 * each answer with want(); lists every op that answered otherwise.
 */
static void run_ops(cu_store *s, bool writes, bool reads,
                    bool (*want)(const struct op *, cu_result))
{
	char bad[4096] = "";
	size_t used = 0;

	assert_int_equal(cu_store_begin(s), CU_OK);
	for (size_t i = 0; i < NOPS; i++) {
		cu_result rc;

		if (ops[i].write ? !writes : !reads)
			continue;
		rc = ops[i].fn(s);
		if (!want(&ops[i], rc) && used < sizeof(bad) - 64)
			used += (size_t)snprintf(bad + used, sizeof(bad) - used, " %s=%d",
			                         ops[i].name, (int)rc);
	}
	cu_store_rollback(s);
	if (used)
		fail_msg("unexpected answers:%s", bad);
}

static bool any(const struct op *op, cu_result rc)
{
	(void)op;
	(void)rc;
	return true;
}
static bool store_error(const struct op *op, cu_result rc)
{
	(void)op;
	return rc == CU_ERR_STORE;
}

/* The tables went before any statement was prepared: each prepare fails. */
static void test_tables_gone_before_prepare(void **state)
{
	struct fx *f = *state;

	drop_tables(f);
	run_ops(f->s, true, true, store_error);
	/* A backup cannot count what is not there either (PostgreSQL has no backup stream). */
	if (!cu_test_store_is_pg())
		assert_int_equal(
		    cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, NULL, 0),
		    CU_ERR_STORE);
}

/* The tables went after every statement was prepared: each step fails. */
static void test_tables_gone_after_prepare(void **state)
{
	struct fx *f = *state;

	run_ops(f->s, true, true, any);
	drop_tables(f);
	run_ops(f->s, true, true, store_error);
	/* PostgreSQL has no backup stream (docs/postgresql.md, "Backups"). */
	if (!cu_test_store_is_pg()) {
		char err[256] = "";

		assert_int_equal(
		    cu_store_backup_stream(f->s, 8, sink, NULL, NULL, NULL, NULL, err, sizeof(err)),
		    CU_ERR_STORE);
		assert_non_null(strstr(err, "cannot count the store"));
	}
}

/*
 * The database ended the transaction by itself (SQLite after a full disk, a
 * PostgreSQL transaction rolled back under the store): every write is
 * refused, and nothing is autocommitted.
 */
static void test_transaction_lost(void **state)
{
	struct fx *f = *state;
	uint64_t rows = total_rows(f);
	char bad[4096] = "";
	size_t used = 0;

	/* The statements are prepared, so the refusal is the lost transaction's. */
	run_ops(f->s, true, true, any);
	/* An exception to close, so closing gets past reading it. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_member_insert(f->s), CU_OK);
	assert_int_equal(op_exception_insert(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	rows = total_rows(f);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_true(cu_test_store_own_sql(f->s, "ROLLBACK"));
	for (size_t i = 0; i < NOPS; i++) {
		cu_result rc;

		if (!ops[i].write)
			continue;
		rc = ops[i].fn(f->s);
		if (rc != CU_ERR_STORE && used < sizeof(bad) - 64)
			used += (size_t)snprintf(bad + used, sizeof(bad) - used, " %s=%d",
			                         ops[i].name, (int)rc);
	}
	cu_store_rollback(f->s);
	if (used)
		fail_msg("writes not refused:%s", bad);
	assert_int_equal(total_rows(f), rows);
}

/* A value over SQLite's length limit fails its bind: the write fails whole. */
static bool binds_nothing_long(const char *name)
{
	/* These bind only numbers, "" or the one-byte version "1". */
	static const char *const names[] = {
	    "provision_purge",   "session_purge",       "member_count",    "member_ids",
	    "member_keys",       "audit_last",          "audit_count",     "audit_scan",
	    "audit_hash_at",     "checkpoint_last",     "checkpoint_scan", "token_list",
	    "request_list_open", "complaint_list_open", "policy_get",      "policy_at",
	    "policy_list",       "exception_list",      "outbox_due",      "outbox_counts",
	    "third_party_list",  "provision_census",    "sub_list",        "review_overdue",
	    "key_ids",           "erased_ids",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static bool too_large_or_store(const struct op *op, cu_result rc)
{
	/* The store is empty: what binds nothing long finds nothing, rightly. */
	if (binds_nothing_long(op->name))
		return rc == CU_OK || rc == CU_ERR_NOT_FOUND;
	/* Never "not found" or "none": the value was not looked for. */
	return rc == CU_ERR_TOO_LARGE || rc == CU_ERR_STORE;
}

static void test_value_over_limit(void **state)
{
	struct fx *f = *state;
	uint64_t rows;

	/* SQLite's length limit: PostgreSQL has none to lower per connection. */
	if (cu_test_store_is_pg())
		skip();
	rows = total_rows(f);
	/* Statements prepared first, so it is their binds that meet the limit. */
	run_ops(f->s, true, true, any);
	/* Every id and text bound here is longer than one byte. */
	sqlite3_limit(cu_sqlite(f->s)->db, SQLITE_LIMIT_LENGTH, 1);
	run_ops(f->s, true, false, too_large_or_store);
	run_ops(f->s, false, true, too_large_or_store);
	assert_int_equal(total_rows(f), rows);
}

/* Another connection holds the write lock: begin fails, nothing is written. */
static void test_locked_out(void **state)
{
	struct fx *f = *state;
	uint64_t rows = total_rows(f);
	struct cu_test_lock *l = cu_test_store_lock(f->url);

	/* The store waits a moment, not its usual 5 s. */
	assert_true(cu_test_store_own_sql(f->s, cu_test_store_is_pg() ? "SET lock_timeout = 1"
	                                                              : "PRAGMA busy_timeout = 1"));
	assert_int_equal(cu_store_begin(f->s), CU_ERR_STORE);
	assert_false(cu_store_in_transaction(f->s));
	assert_int_equal(op_member_insert(f->s), CU_ERR_INTERNAL);
	cu_test_store_unlock(l);
	assert_int_equal(total_rows(f), rows);
	/* Let go, it writes. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_member_insert(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(total_rows(f), rows + 1);
}

/* ---- rows damaged on disk ---------------------------------------------- */

/* The columns the store looks rows up by stay intact, so the row is found. */
static const char *const key_columns[] = {
    "id",      "member",    "kind",          "target", "version", "hash",
    "request", "complaint", "subcontractor", "token",  "key"};
#define N_KEYS (sizeof(key_columns) / sizeof(key_columns[0]))

static bool is_key(const char *col)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(col, key_columns[i]))
			return true;
	return false;
}

/*
 * PostgreSQL's damage, from below SQL as an owner of the database would do
 * it: replica mode (no trigger fires, no foreign key is checked), the CHECK
 * constraints dropped, then the columns `which` selects (an SQL condition
 * on information_schema.columns) overwritten: texts with 400 characters,
 * bytes with 200 random ones (a typed column holds nothing else).
 */
static void damage_pg(struct fx *f, const char *which)
{
	char sql[2048];

	snprintf(
	    sql, sizeof(sql),
	    "DO $f$ DECLARE r record; BEGIN"
	    " PERFORM set_config('session_replication_role', 'replica', true);"
	    " FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint"
	    "  WHERE contype = 'c' AND connamespace = current_schema()::regnamespace LOOP"
	    "  EXECUTE format('ALTER TABLE %%s DROP CONSTRAINT %%I', r.t, r.conname);"
	    " END LOOP;"
	    " FOR r IN SELECT table_name, column_name, data_type FROM information_schema.columns"
	    "  WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea')"
	    "  AND table_name NOT IN ('meta', 'audit', 'audit_checkpoints') AND (%s) LOOP"
	    "  EXECUTE format('UPDATE %%I SET %%I = %%s', r.table_name, r.column_name,"
	    "   CASE r.data_type WHEN 'text' THEN 'hex(randomblob(200))'"
	    "   ELSE 'randomblob(200)' END);"
	    " END LOOP; END $f$",
	    which);
	cu_test_store_sql(f->url, sql);
}

/*
 * Overwrites every text and blob column but the keys, in every table but
 * meta and the append-only audit, with 400 characters no column may hold;
 * or (ids) only the ids.  On PostgreSQL only the ids (test_damaged_rows says why).
 */
static void damage_rows(struct fx *f, bool ids)
{
	sqlite3 *db;
	sqlite3_stmt *tables, *cols;
	char sql[512];

	if (cu_test_store_is_pg()) {
		char keys[512] = "";

		/* The keys of is_key, as an SQL list. */
		for (size_t i = 0; i < N_KEYS; i++)
			snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s'%s'",
			         i ? ", " : "", key_columns[i]);
		snprintf(sql, sizeof(sql), ids ? "column_name = 'id'" : "column_name NOT IN (%s)",
		         keys);
		damage_pg(f, sql);
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON", NULL, NULL, NULL),
	                 SQLITE_OK);
	/* The damage comes from below SQL: the append-only triggers do not see it. */
	for (;;) {
		sqlite3_stmt *trg;
		bool more;

		assert_int_equal(sqlite3_prepare_v2(db,
		                                    "SELECT 'DROP TRIGGER \"' || name || '\"' FROM "
		                                    "sqlite_master WHERE type = 'trigger' LIMIT 1",
		                                    -1, &trg, NULL),
		                 SQLITE_OK);
		more = sqlite3_step(trg) == SQLITE_ROW;
		if (more)
			snprintf(sql, sizeof(sql), "%s", (const char *)sqlite3_column_text(trg, 0));
		sqlite3_finalize(trg);
		if (!more)
			break;
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table' "
	                                    "AND name NOT LIKE 'sqlite_%' AND name NOT IN "
	                                    "('meta', 'audit', 'audit_checkpoints')",
	                                    -1, &tables, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(tables, 0);

		snprintf(sql, sizeof(sql), "SELECT name, type FROM pragma_table_info('%s')", t);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			const char *c = (const char *)sqlite3_column_text(cols, 0);
			const char *type = (const char *)sqlite3_column_text(cols, 1);

			if (ids ? strcmp(c, "id") != 0
			        : is_key(c) || (!strstr(type, "TEXT") && !strstr(type, "BLOB")))
				continue;
			snprintf(sql, sizeof(sql),
			         "UPDATE \"%s\" SET \"%s\" = hex(randomblob(200))", t, c);
			if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
				fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		}
		sqlite3_finalize(cols);
	}
	sqlite3_finalize(tables);
	sqlite3_close(db);
}

static bool ok(const struct op *op, cu_result rc)
{
	(void)op;
	return rc == CU_OK;
}

/*
 * What reads the damaged rows answers CU_ERR_STORE.  These read nothing
 * damaged (counts, numbers, the keys, sealed bytes of any length, or a
 * match the damage undid) and still answer CU_OK.
 */
static bool damage_unseen(const char *name)
{
	static const char *const names[] = {
	    "member_find",         "member_count",      "member_ids",
	    "member_keys",         "audit_last",        "audit_count",
	    "audit_scan",          "audit_scan_member", "audit_hash_at",
	    "checkpoint_last",     "checkpoint_scan",   "request_list_open",
	    "complaint_list_open", "response_count",    "accepted_get",
	    "policy_get",          "policy_at",         "policy_list",
	    "outbox_due",          "outbox_list",       "provision_census",
	    "share_get",           "share_list",        "review_overdue",
	    "diary_get",           "diary_list",        "diary_list_before",
	    "diary_count",         "key_ids",           "erased_ids",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static bool damaged(const struct op *op, cu_result rc)
{
	return rc == (damage_unseen(op->name) ? CU_OK : CU_ERR_STORE);
}

/* Every row written whole; then its stored columns damaged: reads refuse them. */
static void test_damaged_rows(void **state)
{
	struct fx *f = *state;
	size_t nwrites = 0;

	/* A healthy store takes every write (parents before children). */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	while (ops[nwrites].write) {
		cu_result rc = ops[nwrites].fn(f->s);

		if (rc != CU_OK)
			fail_msg("%s=%d on a healthy store", ops[nwrites].name, (int)rc);
		nwrites++;
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	run_ops(f->s, false, true, ok);

	damage_rows(f, false);
	run_ops(f->s, false, true, damaged);
}

/* ---- opening a damaged store, and a store in memory -------------------- */

/* A schema version that is not a number in range refuses the store, never re-migrates it. */
static void test_damaged_schema_version(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"abc", "0", "-3", "12x", "2000000", ""};
	char err[256], sql[128];
	cu_store *s;

	cu_store_close(f->s);
	f->s = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sql, sizeof(sql),
		         "UPDATE meta SET value = '%s' WHERE key = 'schema_version'", bad[i]);
		assert_int_equal(cu_test_store_sql(f->url, sql), 1);
		s = (cu_store *)1;
		err[0] = '\0';
		assert_int_equal(cu_store_open(f->url, &s, err, sizeof(err)), CU_ERR_STORE);
		assert_null(s);
		assert_non_null(strstr(err, "schema version"));
	}
	/* No error buffer: the same refusal. */
	assert_int_equal(cu_store_open(f->url, &s, NULL, 0), CU_ERR_STORE);
	/* Set right again (the latest is the same number on both stores), it opens as it was. */
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = 'schema_version'",
	         cu_sqlite_schema_latest());
	cu_test_store_sql(f->url, sql);
	assert_int_equal(cu_store_open(f->url, &f->s, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_schema_version(f->s), cu_sqlite_schema_latest());
}

/* ":memory:" is a store of its own: migrated, writable, gone when closed. */
static void test_memory_store(void **state)
{
	cu_store *s;
	char err[256];
	uint64_t n;

	(void)state;
	/* SQLite's own kind of store: PostgreSQL has no ":memory:". */
	if (cu_test_store_is_pg())
		skip();
	assert_int_equal(cu_store_open("sqlite::memory:", &s, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_schema_version(s), cu_sqlite_schema_latest());
	assert_int_equal(cu_store_begin(s), CU_OK);
	assert_int_equal(op_member_insert(s), CU_OK);
	assert_int_equal(cu_store_commit(s), CU_OK);
	assert_int_equal(cu_store_member_count(s, &n), CU_OK);
	assert_int_equal(n, 1);
	cu_store_close(s);
	assert_int_equal(cu_store_open("sqlite::memory:", &s, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_member_count(s, &n), CU_OK);
	assert_int_equal(n, 0);
	cu_store_close(s);
}

/* ---- scans: no nesting, early stop ---------------------------------------- */

struct nest {
	cu_store *s;
	int calls;
	cu_result inner;
};

static int audit_nests(void *ud, const cu_audit_entry *e)
{
	struct nest *n = ud;

	(void)e;
	n->calls++;
	n->inner = cu_store_audit_scan(n->s, 1, NULL, audit_cb, &seen);
	return 0;
}

static int checkpoint_nests(void *ud, const cu_audit_checkpoint *cp)
{
	struct nest *n = ud;

	(void)cp;
	n->calls++;
	n->inner = cu_store_audit_checkpoint_scan(n->s, cp_cb, &seen);
	return 1; /* and stop after the first */
}

static int diary_nests(void *ud, const cu_diary_row *row)
{
	struct nest *n = ud;

	(void)row;
	n->calls++;
	n->inner = cu_store_diary_list(n->s, "m1", NULL, 5, FN(cu_store_diary_fn));
	return 0;
}

/* A scan's callback may not start another (each owns a statement); fn may stop it early. */
static void test_scans_do_not_nest(void **state)
{
	struct fx *f = *state;
	cu_audit_checkpoint cp = {.time_us = 1, .key_id = 1};
	struct nest n = {.s = f->s};

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_member_insert(f->s), CU_OK);
	assert_int_equal(op_audit_append(f->s), CU_OK);
	for (int i = 1; i <= 3; i++) {
		cp.seq = (uint64_t)i;
		assert_int_equal(cu_store_audit_checkpoint_insert(f->s, &cp), CU_OK);
	}
	assert_int_equal(op_diary_insert(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, audit_nests, &n), CU_OK);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.inner, CU_ERR_INTERNAL);

	n.calls = 0;
	n.inner = CU_OK;
	assert_int_equal(cu_store_audit_checkpoint_scan(f->s, checkpoint_nests, &n), CU_OK);
	assert_int_equal(n.calls, 1); /* of three: stopped */
	assert_int_equal(n.inner, CU_ERR_INTERNAL);

	n.calls = 0;
	n.inner = CU_OK;
	assert_int_equal(cu_store_diary_list(f->s, "m1", NULL, 5, diary_nests, &n), CU_OK);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.inner, CU_ERR_INTERNAL);

	/* After the scans, scanning is allowed again. */
	seen = 0;
	assert_int_equal(cu_store_audit_checkpoint_scan(f->s, cp_cb, &seen), CU_OK);
	assert_int_equal(seen, 3);
}

/* ---- member rows: rewrap races, erased rows ------------------------------ */

static void test_rewrap_and_erased(void **state)
{
	struct fx *f = *state;
	unsigned char other[CU_VAULT_WRAPPEDBYTES];
	cu_member_key k[2];
	size_t n;

	memset(other, 0x77, sizeof(other));
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_member_insert(f->s), CU_OK);
	/* Someone rewrapped since it was read: the old wrap no longer matches. */
	assert_int_equal(cu_store_member_rewrap(f->s, "m1", other, other, 2), CU_ERR_CONFLICT);
	assert_int_equal(cu_store_member_rewrap(f->s, "m1", wrapped, other, 2), CU_OK);
	assert_int_equal(cu_store_member_rewrap(f->s, "m1", wrapped, other, 3), CU_ERR_CONFLICT);
	assert_int_equal(cu_store_member_rewrap(f->s, "nobody", other, other, 2), CU_ERR_CONFLICT);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_member_keys(f->s, "", k, 2, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_int_equal(k[0].key_id, 2);
	assert_true(k[0].has_wrapped);
	assert_memory_equal(k[0].wrapped, other, sizeof(other));

	/* Erased: no key left to rewrap, no fields to update; erasing again is harmless. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_member_erase(f->s), CU_OK);
	assert_int_equal(cu_store_member_rewrap(f->s, "m1", other, other, 2), CU_ERR_CONFLICT);
	assert_int_equal(op_member_update(f->s), CU_ERR_ERASED);
	assert_int_equal(op_member_erase(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_member_keys(f->s, "", k, 2, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_true(k[0].erased);
	assert_false(k[0].has_wrapped);
	/* Checkpointing with nobody else reading: both counts given, or neither wanted. */
	{
		int lf = -7, ck = -7;

		assert_int_equal(cu_store_checkpoint_passive(f->s, &lf, &ck), CU_OK);
		assert_true(lf >= 0 && ck >= 0 && ck <= lf);
		assert_int_equal(cu_store_checkpoint_passive(f->s, NULL, NULL), CU_OK);
	}
}

/* ---- allocation failures ---------------------------------------------- */

static bool resource_error(cu_result rc)
{
	return rc == CU_ERR_NOMEM || rc == CU_ERR_STORE || rc == CU_ERR_INTERNAL ||
	       rc == CU_ERR_TOO_LARGE;
}

#define MAX_POINTS 2000

/*
 * Runs op with allocation n = 1, 2, ... failing (once), until a run no
 * longer reaches n: that run must answer as the healthy one did (`want`).
 * A run that met a failure answers `want` (the failure was absorbed) or a
 * resource error, never another answer ("not found", "conflict"), and a
 * write's transaction is rolled back, so the store is as before.
 */
static unsigned long sweep(struct fx *f, const struct op *op, cu_fault_kind kind, cu_result want)
{
	uint64_t rows = total_rows(f);
	unsigned long n;

	for (n = 1; n <= MAX_POINTS; n++) {
		cu_result rc;
		bool hit;

		if (op->write)
			assert_int_equal(cu_store_begin(f->s), CU_OK);
		cu_fault_arm(kind, n, false);
		rc = op->fn(f->s);
		hit = cu_fault_disarm();
		if (op->write)
			cu_store_rollback(f->s);
		assert_false(cu_store_in_transaction(f->s));
		if (!hit) {
			if (rc != want)
				fail_msg("%s: %d with no failure, %d before", op->name, (int)rc,
				         (int)want);
			break;
		}
		if (rc != want && !resource_error(rc))
			fail_msg("%s: allocation %lu failed -> %d", op->name, n, (int)rc);
	}
	if (n > MAX_POINTS)
		fail_msg("%s: still reaching allocation %d", op->name, MAX_POINTS);
	assert_int_equal(total_rows(f), rows);
	return n - 1;
}

/*
 * Every store function in turn, each on the state the ones before it left
 * (parents before children): swept, then run for real to move on.
 */
static void sweep_all(void **state, cu_fault_kind kind)
{
	struct fx *f = *state;
	unsigned long points = 0;

	if (kind == CU_FAULT_LIBC && !cu_fault_libc_available())
		skip();
	for (size_t i = 0; i < NOPS; i++) {
		cu_result want;

		/* The healthy answer, from a run rolled back. */
		if (ops[i].write)
			assert_int_equal(cu_store_begin(f->s), CU_OK);
		want = ops[i].fn(f->s);
		if (ops[i].write)
			cu_store_rollback(f->s);
		if (want != CU_OK)
			fail_msg("%s: %d on a healthy store", ops[i].name, (int)want);
		points += sweep(f, &ops[i], kind, want);
		if (ops[i].write) {
			assert_int_equal(cu_store_begin(f->s), CU_OK);
			assert_int_equal(ops[i].fn(f->s), CU_OK);
			assert_int_equal(cu_store_commit(f->s), CU_OK);
		}
	}
	/* Each function allocates somewhere: the sweep reached something. */
	assert_true(points >= NOPS);
	/* And the store still works whole: a write and a read. */
	{
		cu_member_row r = {.id = "m2", .key_id = 1, .created_us = 1, .updated_us = 1};
		cu_member_row back;

		assert_int_equal(cu_store_begin(f->s), CU_OK);
		assert_int_equal(cu_store_member_insert(f->s, &r), CU_OK);
		assert_int_equal(cu_store_commit(f->s), CU_OK);
		assert_int_equal(cu_store_member_get(f->s, "m2", &back), CU_OK);
		assert_int_equal(back.key_id, 1);
		cu_member_row_release(&back);
	}
	if (getenv("CU_FAULT_VERBOSE"))
		fprintf(stderr, "store faults: %lu injection points\n", points);
}

static void test_alloc_sqlite(void **state)
{
	/* SQLite's allocator: the PostgreSQL store makes no allocation of it. */
	if (cu_test_store_is_pg())
		skip();
	sweep_all(state, CU_FAULT_SQLITE);
}

static void test_alloc_libc(void **state)
{
	sweep_all(state, CU_FAULT_LIBC);
}

/* Standard error sent to a file of the fixture's directory until quiet_end. */
static int quiet_begin(struct fx *f, char *path, size_t len)
{
	int saved = dup(STDERR_FILENO), fd;

	assert_true(saved >= 0);
	snprintf(path, len, "%s/stderr", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	return saved;
}

/* Standard error back; fails the test if anything was written to it meanwhile. */
static void quiet_end(int saved, const char *path)
{
	struct stat st;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_int_equal(stat(path, &st), 0);
	if (st.st_size != 0)
		fail_msg("the store wrote %lld bytes to standard error (a library never prints)",
		         (long long)st.st_size);
}

/*
 * Opening under allocation failures, an existing store and a new one (whose
 * migrations then run): each failed open answers a resource error and
 * hands back no store; the first open that meets no failure succeeds.
 */
/* One open with allocation n failing; answers whether the failure was met. */
static bool open_failing(const char *url, cu_fault_kind kind, unsigned long n, bool fresh)
{
	char err[256] = "";
	cu_store *s = (cu_store *)1;
	cu_result rc;
	bool hit;

	if (fresh)
		cu_test_store_empty(url);
	cu_fault_arm(kind, n, false);
	rc = cu_store_open(url, &s, err, sizeof(err));
	hit = cu_fault_disarm();
	if (rc == CU_OK) {
		/* Unhit, or absorbed (SQLite retries some): a whole store all the same. */
		assert_int_equal(cu_store_schema_version(s), cu_sqlite_schema_latest());
		cu_store_close(s);
	} else {
		if (!hit || (rc != CU_ERR_NOMEM && rc != CU_ERR_STORE))
			fail_msg("open: allocation %lu failed -> %d (%s)", n, (int)rc, err);
		assert_null(s);
	}
	return hit;
}

static void open_sweep(struct fx *f, cu_fault_kind kind, bool fresh)
{
	char url[1100], err[256];
	unsigned long total, stride;
	cu_store *s;

	/* The fixture's store (closed), or a new one beside it. */
	if (fresh) {
		char dir[700];

		snprintf(dir, sizeof(dir), "%s/fresh", f->dir);
		assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
		cu_test_store_url(dir, url, sizeof(url));
	} else {
		snprintf(url, sizeof(url), "%s", f->url);
	}
	/*
	 * libpq's GSSAPI probe (gssencmode=prefer) crashes inside libgssapi_krb5
	 * when a malloc there fails; the test cluster speaks no GSSAPI.
	 */
	if (cu_test_store_is_pg())
		snprintf(url + strlen(url), sizeof(url) - strlen(url), "&gssencmode=disable");
	/* How many allocations a whole open makes; a new store's (migrations) are sampled. */
	if (fresh)
		cu_test_store_empty(url);
	cu_fault_arm(kind, ULONG_MAX, false);
	assert_int_equal(cu_store_open(url, &s, err, sizeof(err)), CU_OK);
	assert_false(cu_fault_disarm());
	total = cu_fault_seen();
	cu_store_close(s);
	assert_true(total > 0);
	/* A new store syncs each migration: fewer samples keep this quick. */
	stride = total / (fresh ? 60 : 300) + 1;
	/* (The count drifts by a few between opens: SQLite's caches warm up.) */
	for (unsigned long n = 1; n + 16 <= total; n += stride)
		assert_true(open_failing(url, kind, n, fresh));
	/* Well past the last allocation: met by nothing, and the open succeeds. */
	assert_false(open_failing(url, kind, 2 * total, fresh));
	if (fresh)
		cu_test_store_drop(url);
}

static void test_alloc_open(void **state)
{
	struct fx *f = *state;
	char errfile[600];
	int saved;

	cu_store_close(f->s);
	f->s = NULL;
	/* Whatever failed, the store said nothing on standard error: it answered. */
	saved = quiet_begin(f, errfile, sizeof(errfile));
	/* SQLite's allocator: the PostgreSQL store makes no allocation of it. */
	if (!cu_test_store_is_pg()) {
		open_sweep(f, CU_FAULT_SQLITE, false);
		open_sweep(f, CU_FAULT_SQLITE, true);
	}
	if (cu_fault_libc_available()) {
		open_sweep(f, CU_FAULT_LIBC, false);
		open_sweep(f, CU_FAULT_LIBC, true);
	}
	quiet_end(saved, errfile);
}

/* A policy version is published once: the same document again is no change, another refused. */
static void test_policy_published_once(void **state)
{
	struct fx *f = *state;
	unsigned char other[CU_POLICY_DIGESTBYTES];
	uint64_t rows;
	char *doc = NULL;
	size_t len = 0;

	memset(other, 0x99, sizeof(other));
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_policy_put(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	rows = total_rows(f);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(op_policy_put(f->s), CU_OK);
	assert_int_equal(cu_store_policy_put(f->s, "1", other, "{}", 2, "operator", 2),
	                 CU_ERR_CONFLICT);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(total_rows(f), rows);
	/* The first document stays; the publication time is optional to ask for. */
	assert_int_equal(cu_store_policy_get(f->s, "1", &doc, &len, NULL), CU_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(doc, "{\"v\":1}", 7);
	free(doc);
	assert_int_equal(cu_store_policy_get(f->s, "2", &doc, &len, NULL), CU_ERR_NOT_FOUND);
	assert_null(doc);
}

/* Opening what cannot be a store: the reason in err, or no message at all when none is wanted. */
static void test_open_failures(void **state)
{
	struct fx *f = *state;
	char url[640], err[256] = "";
	cu_store *s = (cu_store *)1;

	/* SQLite's files where none can be (on both: these urls are SQLite's). */
	snprintf(url, sizeof(url), "sqlite:%s/no/such/dir/store.db", f->dir);
	assert_int_equal(cu_store_open(url, &s, err, sizeof(err)), CU_ERR_STORE);
	assert_null(s);
	assert_true(err[0] != '\0');
	assert_int_equal(cu_store_open(url, &s, NULL, 0), CU_ERR_STORE);
	assert_null(s);
	/* A directory is not a database file. */
	snprintf(url, sizeof(url), "sqlite:%s", f->dir);
	assert_int_equal(cu_store_open(url, &s, NULL, 0), CU_ERR_STORE);
	assert_null(s);
	/* A newer schema than this build knows: refused, with or without words. */
	{
		char sql[128];

		snprintf(sql, sizeof(sql),
		         "UPDATE meta SET value = '%d' WHERE key = 'schema_version'",
		         cu_sqlite_schema_latest() + 1);
		cu_store_close(f->s);
		f->s = NULL;
		cu_test_store_sql(f->url, sql);
		assert_int_not_equal(cu_store_open(f->url, &s, NULL, 0), CU_OK);
		assert_null(s);
	}
}

/*
 * The transaction lost under the dispatcher's own bookkeeping: a deferred
 * meta value, a savepoint.  Each step that needs the transaction fails
 * and the store ends outside it, having written nothing.
 */
static void test_transaction_lost_core(void **state)
{
	struct fx *f = *state;
	uint64_t rows = total_rows(f);
	char val[8], errfile[600];
	bool found;
	int saved = quiet_begin(f, errfile, sizeof(errfile));

	/* Commit writes the deferred value first: that fails, and so does the commit. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "ka", "1"), CU_OK);
	assert_true(cu_test_store_own_sql(f->s, "ROLLBACK"));
	assert_int_equal(cu_store_commit(f->s), CU_ERR_STORE);
	assert_false(cu_store_in_transaction(f->s));

	/* Deferring another key writes the pending one at once: refused. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "ka", "1"), CU_OK);
	assert_true(cu_test_store_own_sql(f->s, "ROLLBACK"));
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "kb", "2"), CU_ERR_STORE);
	cu_store_rollback(f->s);

	/* A savepoint that no longer exists can be neither released nor undone. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_savepoint(f->s), CU_OK);
	assert_true(cu_test_store_own_sql(f->s, "ROLLBACK"));
	assert_int_not_equal(cu_store_savepoint_release(f->s), CU_OK);
	assert_true(cu_store_in_transaction(f->s)); /* the caller decides */
	assert_int_not_equal(cu_store_savepoint_rollback(f->s), CU_OK);
	assert_false(cu_store_in_transaction(f->s)); /* nothing left to trust */

	assert_int_equal(cu_store_meta_get(f->s, "ka", val, sizeof(val), &found), CU_OK);
	assert_false(found);
	assert_int_equal(total_rows(f), rows);
	/* Through all this, the store said nothing on standard error: it answered. */
	quiet_end(saved, errfile);
	/* And the store begins afresh. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "ka", "1"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "ka", val, sizeof(val), &found), CU_OK);
	assert_true(found);
}

/*
 * With only the ids damaged, a list meets a row it cannot name (a store
 * error) and a lookup by id finds nothing (the id it knew is gone); the
 * rest reads no id and answers as before.
 */
static bool ids_damaged(const struct op *op, cu_result rc)
{
	static const char *const unnamed[] = {
	    "member_ids",     "member_keys",         "token_get_by_hash",
	    "token_list",     "request_list_member", "complaint_list_member",
	    "response_list",  "consent_current",     "consent_list",
	    "exception_list", "notice_list",         "third_party_list",
	    "provision_list", "share_get",           "share_list",
	    "sub_list",       "review_list",         "diary_list",
	};
	static const char *const gone[] = {
	    "member_get",    "token_get",  "request_get",       "complaint_get",   "consent_get",
	    "exception_get", "notice_get", "outbox_get",        "third_party_get", "sub_get",
	    "review_get",    "diary_get",  "diary_list_before",
	};

	for (size_t i = 0; i < sizeof(unnamed) / sizeof(unnamed[0]); i++)
		if (!strcmp(op->name, unnamed[i]))
			return rc == CU_ERR_STORE;
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (!strcmp(op->name, gone[i]))
			return rc == CU_ERR_NOT_FOUND;
	return rc == CU_OK;
}

/* Only the ids damaged: what lists rows meets a row it cannot name. */
static void test_damaged_ids(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (size_t i = 0; ops[i].write; i++)
		assert_int_equal(ops[i].fn(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	damage_rows(f, true);
	run_ops(f->s, false, true, ids_damaged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tables_gone_before_prepare, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tables_gone_after_prepare, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_over_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_locked_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_schema_version, setup, teardown),
	    cmocka_unit_test(test_memory_store),
	    cmocka_unit_test_setup_teardown(test_scans_do_not_nest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rewrap_and_erased, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_sqlite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_libc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_published_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_lost_core, setup, teardown),
	};

	memset(sealed, 0x5a, sizeof(sealed));
	memset(hash, 0x11, sizeof(hash));
	memset(wrapped, 0x22, sizeof(wrapped));
	cu_fault_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
