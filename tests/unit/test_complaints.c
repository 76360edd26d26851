/*
 * test_complaints.c — complaints: filing checks its input first, the
 * lifecycle to a closed state with a response the member reads, no closing
 * without a response, assignment only to an officer, the due-date clock
 * (time injected), texts sealed on disk and out of the audit and notices.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/complaints.h"
#include "domain/members.h"
#include "domain/requests.h"
#include "store/notify.h"
#include "domain/tokens.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY  CU_CASE_DAY_US
#define T0   ((int64_t)1796083200 * 1000000) /* 2026-12-01T00:00:00Z */

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"privacy officer", CU_ROLE_OFFICER, NULL, NULL};
static const cu_actor desk = {"support desk", CU_ROLE_STAFF, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1], bob[CU_ID_LEN + 1];
	cu_actor a, b;
};

static void register_one(cu_ctx *ctx, const char *name, const char *email, char id[CU_ID_LEN + 1])
{
	const cu_kv kv[] = {
	    {"name", name},
	    {"address", "3 Complaint Row"},
	    {"phone", "+81312345678"},
	    {"email", email},
	};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char secret[CU_TOKEN_SECRET_LEN + 1], tid[CU_ID_LEN + 1];

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	register_one(f->ctx, "Alice Plaintiff", "alice@complaints.example", f->alice);
	register_one(f->ctx, "Bob Plaintiff", "bob@complaints.example", f->bob);
	f->a = (cu_actor){f->alice, CU_ROLE_MEMBER, f->alice, NULL};
	f->b = (cu_actor){f->bob, CU_ROLE_MEMBER, f->bob, NULL};
	/* The officers a complaint can be assigned to: holders of officer tokens. */
	assert_int_equal(
	    cu_token_create(f->ctx, NULL, CU_ROLE_OFFICER, "privacy officer", 0, secret, tid),
	    CU_OK);
	assert_int_equal(
	    cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, "support desk", 0, secret, tid), CU_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f);
	return 0;
}

static void file_ok(struct fx *f, const char *about, const char *text, int64_t now,
                    cu_complaint_row *out)
{
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_file(f->ctx, &f->a, f->alice, about, text, now, out, &errs),
	                 CU_OK);
}

static cu_result respond(struct fx *f, const char *id, const char *text, bool close, int64_t now,
                         cu_errors *errs)
{
	cu_complaint_row row;
	cu_result rc;

	cu_errors_init(errs);
	rc = cu_complaint_respond(f->ctx, &officer, id, text, close, now, &row, errs);
	cu_complaint_row_release(&row);
	return rc;
}

struct subjects {
	char s[8][CU_NOTIFY_SUBJECT_MAX + 1];
	char b[8][CU_NOTIFY_BODY_MAX + 1];
	int n;
};

static int keep_subject(void *ud, const cu_notice_row *row)
{
	struct subjects *l = ud;

	if (l->n < 8) {
		memcpy(l->s[l->n], row->subject, sizeof(row->subject));
		memcpy(l->b[l->n], row->body, sizeof(row->body));
	}
	l->n++;
	return 0;
}

static struct subjects *notices(struct fx *f)
{
	static struct subjects l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(cu_store_notice_list(f->ctx->store, f->alice, 100, keep_subject, &l),
	                 CU_OK);
	return &l;
}

struct scan {
	const char *needle;
	int leaks, closes;
};

static int scan_entry(void *ud, const cu_audit_entry *e)
{
	struct scan *x = ud;

	if (strstr(e->reason, x->needle) || strstr(e->fields, x->needle))
		x->leaks++;
	if (!strcmp(e->action, "complaint_respond") && strstr(e->reason, "closed"))
		x->closes++;
	return 0;
}

static struct scan audit_scan(cu_ctx *ctx, const char *needle)
{
	struct scan x = {needle, 0, 0};

	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, scan_entry, &x), CU_OK);
	return x;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_filing_checks_first(void **state)
{
	struct fx *f = *state;
	unsigned long long before = cu_test_audit_count(f->ctx);
	char big[CU_COMPLAINT_TEXT_MAX + 2];
	cu_complaint_row row;
	cu_errors errs;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->a, f->alice, "weather", "It rains.", T0, &row, &errs),
	    CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "about");
	assert_string_equal(errs.e[0].reason, "unknown");
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_file(f->ctx, &f->a, f->alice, "use", " \n ", T0, &row, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "text");
	assert_string_equal(errs.e[0].reason, "required");
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_file(f->ctx, &f->a, f->alice, "use", big, T0, &row, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "too_long");
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->a, f->alice, "use", "bell\x07", T0, &row, &errs),
	    CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "malformed");
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	/* A member complains for themself only. */
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->b, f->alice, "use", "not mine", T0, &row, &errs),
	    CU_ERR_FORBIDDEN);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &desk, f->alice, "use", "not mine", T0, &row, &errs),
	    CU_ERR_FORBIDDEN);
	assert_true(cu_complaint_about_valid("provision"));
	assert_false(cu_complaint_about_valid("Provision"));
	assert_false(cu_complaint_about_valid(NULL));
}

static void test_lifecycle_to_closed_with_a_response(void **state)
{
	struct fx *f = *state;
	cu_complaint_row row, after;
	cu_complaint_view v;
	cu_errors errs;

	file_ok(f, "provision", "My data went to Frobisher Ltd without consent.", T0, &row);
	assert_string_equal(row.state, "received");
	assert_string_equal(row.about, "provision");
	assert_true(row.due_us == T0 + 30 * DAY);
	assert_non_null(strstr(notices(f)->s[0], "was received"));

	/* Assigned to an officer, and only to one. */
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_assign(f->ctx, &officer, row.id, "support desk", T0, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "not_an_officer");
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_assign(f->ctx, &officer, row.id, "nobody at all", T0, &errs),
	                 CU_ERR_INVALID_FIELD);
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_assign(f->ctx, &desk, row.id, "privacy officer", T0, &errs),
	                 CU_ERR_FORBIDDEN);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_assign(f->ctx, &officer, row.id, "privacy officer", T0, &errs), CU_OK);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, row.id, &after), CU_OK);
	assert_string_equal(after.state, "assigned");
	assert_string_equal(after.assigned, "privacy officer");
	cu_complaint_row_release(&after);

	/* A response the member reads; still open. */
	assert_int_equal(
	    respond(f, row.id, "We are asking Frobisher Ltd to delete it.", false, T0 + DAY, &errs),
	    CU_OK);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, row.id, &after), CU_OK);
	assert_string_equal(after.state, "answered");
	assert_true(after.closed_us == 0);
	cu_complaint_row_release(&after);
	assert_non_null(strstr(notices(f)->s[0], "response"));
	/* Staff do not answer complaints. */
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_respond(f->ctx, &desk, row.id, "hello", true, T0, NULL, &errs),
	    CU_ERR_FORBIDDEN);

	/* Closed with a final response: the member sees the whole thread. */
	assert_int_equal(
	    respond(f, row.id, "Frobisher Ltd confirmed the deletion.", true, T0 + 2 * DAY, &errs),
	    CU_OK);
	cu_complaint_view_init(&v);
	assert_int_equal(cu_complaint_get(f->ctx, &f->a, row.id, &v), CU_OK);
	assert_string_equal(v.row.state, "closed");
	assert_string_equal(v.row.note, "answered");
	assert_string_equal(v.row.closed_by, "privacy officer");
	assert_string_equal(v.text, "My data went to Frobisher Ltd without consent.");
	assert_int_equal(v.nresponses, 2);
	assert_false(v.responses[0].closing);
	assert_true(v.responses[1].closing);
	assert_string_equal(v.responses[1].text, "Frobisher Ltd confirmed the deletion.");
	assert_string_equal(v.responses[1].officer, "privacy officer");
	cu_complaint_view_wipe(&v);
	assert_non_null(strstr(notices(f)->s[0], "closed"));
	/* Notices name the complaint, never its words. */
	for (int i = 0; i < notices(f)->n && i < 8; i++)
		assert_null(strstr(notices(f)->b[i], "Frobisher"));

	/* Closed is final. */
	assert_int_equal(respond(f, row.id, "One more thing.", false, T0 + 3 * DAY, &errs),
	                 CU_ERR_CONFLICT);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_assign(f->ctx, &officer, row.id, "privacy officer", T0, &errs),
	    CU_ERR_CONFLICT);

	/* Another member, or staff, cannot read it; the officer can, audited. */
	cu_complaint_view_init(&v);
	assert_int_equal(cu_complaint_get(f->ctx, &f->b, row.id, &v), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_complaint_get(f->ctx, &desk, row.id, &v), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_complaint_get(f->ctx, &officer, row.id, &v), CU_OK);
	cu_complaint_view_wipe(&v);
	assert_int_equal(audit_scan(f->ctx, "Frobisher").leaks, 0);
	assert_int_equal(audit_scan(f->ctx, "Frobisher").closes, 1);
	cu_complaint_row_release(&row);
}

static void test_no_closing_without_a_response(void **state)
{
	struct fx *f = *state;
	cu_complaint_row row, after;
	cu_errors errs;

	file_ok(f, "other", "Nobody answers my letters.", T0, &row);
	/* Closing with nothing to read: refused, still open. */
	assert_int_equal(respond(f, row.id, NULL, true, T0, &errs), CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "text");
	assert_string_equal(errs.e[0].reason, "response_required");
	assert_int_equal(respond(f, row.id, "", true, T0, &errs), CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "required");
	assert_int_equal(respond(f, row.id, NULL, false, T0, &errs), CU_ERR_INVALID_FIELD);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, row.id, &after), CU_OK);
	assert_true(after.closed_us == 0);
	assert_string_equal(after.state, "received");
	cu_complaint_row_release(&after);
	/* Once answered, it can close without another word. */
	assert_int_equal(
	    respond(f, row.id, "Your letters reached us; here is our answer.", false, T0, &errs),
	    CU_OK);
	assert_int_equal(respond(f, row.id, NULL, true, T0 + DAY, &errs), CU_OK);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, row.id, &after), CU_OK);
	assert_string_equal(after.state, "closed");
	cu_complaint_row_release(&after);
	/* Unknown ids. */
	assert_int_equal(respond(f, "AAAAAAAAAAAAAAAAAAAAAA", "x", false, T0, &errs),
	                 CU_ERR_NOT_FOUND);
	cu_complaint_row_release(&row);
}

struct listed {
	char ids[8][CU_ID_LEN + 1];
	int n;
};

static int keep_id(void *ud, const cu_complaint_row *row)
{
	struct listed *l = ud;

	if (l->n < 8)
		memcpy(l->ids[l->n], row->id, CU_ID_LEN + 1);
	l->n++;
	return 0;
}

static struct listed list(struct fx *f, bool overdue, int64_t now)
{
	struct listed l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(cu_complaint_list(f->ctx->store, &officer, overdue, now, keep_id, &l),
	                 CU_OK);
	return l;
}

static void test_clock(void **state)
{
	struct fx *f = *state;
	cu_complaint_row early, late;
	cu_errors errs;
	json_t *j;

	f->ctx->config.complaint_due_days = 10;
	file_ok(f, "use", "First.", T0, &early);
	file_ok(f, "disclosure", "Second.", T0 + 5 * DAY, &late);
	assert_true(early.due_us == T0 + 10 * DAY);
	assert_int_equal(list(f, false, T0).n, 2);
	assert_int_equal(list(f, true, T0 + 9 * DAY).n, 0);
	assert_int_equal(list(f, true, T0 + 11 * DAY).n, 1);
	assert_string_equal(list(f, true, T0 + 11 * DAY).ids[0], early.id);
	assert_int_equal(list(f, true, T0 + 16 * DAY).n, 2);
	j = cu_complaint_row_json(&early, T0 + 12 * DAY);
	assert_int_equal(json_integer_value(json_object_get(j, "days_left")), -2);
	assert_true(json_is_true(json_object_get(j, "overdue")));
	json_decref(j);
	/* Closed: off the lists. */
	assert_int_equal(
	    respond(f, early.id, "Answered late, with apologies.", true, T0 + 12 * DAY, &errs),
	    CU_OK);
	assert_int_equal(list(f, true, T0 + 16 * DAY).n, 1);
	assert_int_equal(
	    cu_complaint_list(f->ctx->store, &desk, false, T0, keep_id, &(struct listed){0}),
	    CU_ERR_FORBIDDEN);
	cu_complaint_row_release(&early);
	cu_complaint_row_release(&late);
}

static void test_sealed_on_disk(void **state)
{
	struct fx *f = *state;
	cu_complaint_row row;
	cu_errors errs;
	char path[600];

	file_ok(f, "amendment", "Saffronwick never amended my address.", T0, &row);
	assert_int_equal(respond(f, row.id, "Marzipanova reply from the officer.", true, T0, &errs),
	                 CU_OK);
	snprintf(path, sizeof(path), "%s/var", f->dir);
	assert_false(cu_test_store_files_contain_text(path, "Saffronwick"));
	assert_false(cu_test_store_files_contain_text(path, "Marzipanova"));
	assert_true(cu_test_store_files_contain_text(path, row.id));
	assert_int_equal(audit_scan(f->ctx, "Saffronwick").leaks, 0);
	cu_complaint_row_release(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_filing_checks_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lifecycle_to_closed_with_a_response, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_no_closing_without_a_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_on_disk, setup, teardown),
	};

	assert_int_equal(cu_vault_global_init(), CU_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
