/*
 * test_requests.c — disclosure, amendment and erasure requests, and the
 * export: the clock (time injected), refusals only on the policy's three
 * grounds, an applied amendment that changes the data with an audit naming
 * fields and a notice, an applied erasure that leaves nothing readable and
 * a certificate that verifies, texts sealed on disk, and an export that
 * holds exactly one member's data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/complaints.h"
#include "domain/diaries.h"
#include "domain/erasure.h"
#include "domain/export.h"
#include "domain/members.h"
#include "domain/notify.h"
#include "domain/requests.h"
#include "domain/sessions.h"
#include "store/diary.h"
#include "store/notify.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY  CU_CASE_DAY_US
#define T0   ((int64_t)1796083200 * 1000000) /* 2026-12-01T00:00:00Z: a fixed clock */

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"privacy officer", CU_ROLE_OFFICER, NULL, NULL};
static const cu_actor desk = {"support desk", CU_ROLE_STAFF, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1], bob[CU_ID_LEN + 1];
	cu_actor a, b;
};

/* Distinctive values: found anywhere they should not be, something leaked. */
static void register_one(cu_ctx *ctx, const char *who, char id[CU_ID_LEN + 1])
{
	char name[64], address[96], email[96], hobbies[64];
	cu_kv kv[] = {
	    {"name", name},   {"address", address}, {"phone", "+81312345678"},
	    {"email", email}, {"hobbies", hobbies},
	};
	cu_errors errs;

	snprintf(name, sizeof(name), "%s Quasarwright", who);
	snprintf(address, sizeof(address), "7 %s-Gingko Alley, Kyoto", who);
	snprintf(email, sizeof(email), "%s.quasar@requests.example", who);
	snprintf(hobbies, sizeof(hobbies), "%s-origami", who);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), "a password 123", id, &errs),
	                 CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	register_one(f->ctx, "Alicia", f->alice);
	register_one(f->ctx, "Bertram", f->bob);
	f->a = (cu_actor){f->alice, CU_ROLE_MEMBER, f->alice, NULL};
	f->b = (cu_actor){f->bob, CU_ROLE_MEMBER, f->bob, NULL};
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

static void file_ok(struct fx *f, const cu_actor *who, const char *member,
                    const cu_request_input *in, int64_t now, cu_request_row *out,
                    char token[CU_REQUEST_TOKEN_LEN + 1])
{
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, who, member, in, now, out, token, &errs), CU_OK);
	assert_int_equal(strlen(out->id), CU_ID_LEN);
}

static cu_result decide(struct fx *f, const char *id, cu_request_action action, const char *ground,
                        const char *reasons, int64_t now, cu_errors *errs, char **cert)
{
	cu_request_decision dec = {action, ground, reasons};
	cu_request_row row;
	cu_result rc;

	cu_errors_init(errs);
	rc = cu_request_decide(f->ctx, &officer, id, &dec, now, &row, cert, errs);
	cu_request_row_release(&row);
	return rc;
}

static const char *state_of(struct fx *f, const char *id, char out[CU_REQUEST_WORD_MAX + 1])
{
	cu_request_row row;

	assert_int_equal(cu_store_request_get(f->ctx->store, id, &row), CU_OK);
	memcpy(out, row.state, CU_REQUEST_WORD_MAX + 1);
	cu_request_row_release(&row);
	return out;
}

/* ---- the audit and the notices -------------------------------------------- */

struct found {
	const char *action; /* the entry looked for */
	char fields[256], reason[400], purpose[48], decision[16];
	int n;
	const char *needle; /* must appear in no entry */
	int leaks;
};

static int scan_entry(void *ud, const cu_audit_entry *e)
{
	struct found *x = ud;
	const char *texts[] = {e->actor, e->action, e->member, e->purpose, e->fields, e->reason};

	for (size_t i = 0; x->needle && i < N(texts); i++)
		if (strstr(texts[i], x->needle))
			x->leaks++;
	if (x->action && !strcmp(e->action, x->action)) {
		snprintf(x->fields, sizeof(x->fields), "%s", e->fields);
		snprintf(x->reason, sizeof(x->reason), "%s", e->reason);
		snprintf(x->purpose, sizeof(x->purpose), "%s", e->purpose);
		snprintf(x->decision, sizeof(x->decision), "%s", e->decision);
		x->n++;
	}
	return 0;
}

static struct found audit_find(cu_ctx *ctx, const char *member, const char *action)
{
	struct found x;

	memset(&x, 0, sizeof(x));
	x.action = action;
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, member, scan_entry, &x), CU_OK);
	return x;
}

static int audit_leaks(cu_ctx *ctx, const char *needle)
{
	struct found x;

	memset(&x, 0, sizeof(x));
	x.needle = needle;
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, scan_entry, &x), CU_OK);
	return x.leaks;
}

struct notices {
	char subject[8][CU_NOTIFY_SUBJECT_MAX + 1];
	char body[8][CU_NOTIFY_BODY_MAX + 1];
	char kind[8][CU_NOTIFY_KIND_MAX + 1];
	int n;
};

static int keep_notice(void *ud, const cu_notice_row *row)
{
	struct notices *l = ud;

	if (l->n < 8) {
		memcpy(l->subject[l->n], row->subject, sizeof(row->subject));
		memcpy(l->body[l->n], row->body, sizeof(row->body));
		memcpy(l->kind[l->n], row->kind, sizeof(row->kind));
	}
	l->n++;
	return 0;
}

/* The member's notices, newest first. */
static struct notices *notices_of(cu_ctx *ctx, const char *member)
{
	static struct notices l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(cu_store_notice_list(ctx->store, member, 100, keep_notice, &l), CU_OK);
	return &l;
}

static void read_self(struct fx *f, const cu_actor *who, const char *member, cu_record *rec,
                      cu_result want)
{
	cu_access_request req = {who, "self", member, 0, NULL, NULL, NULL};
	cu_access_decision d;

	cu_record_init(rec);
	assert_int_equal(cu_access_read(f->ctx, &req, &d, rec), want);
}

/* ---- filing ---------------------------------------------------------------- */

static void test_filing_validates_first(void **state)
{
	struct fx *f = *state;
	const cu_kv bad[] = {{"email", "not an address"}};
	const cu_kv unknown[] = {{"shoe_size", "44"}};
	const cu_kv ok[] = {{"address", "9 New Street"}};
	cu_request_input in = {CU_REQUEST_AMENDMENT, NULL, 0, "moved"};
	unsigned long long before = cu_test_audit_count(f->ctx);
	char token[CU_REQUEST_TOKEN_LEN + 1];
	cu_request_row row;
	cu_errors errs;

	/* No changes, then a malformed value, an unknown field, a missing reason. */
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "changes");
	assert_string_equal(errs.e[0].reason, "required");
	in.changes = bad;
	in.nchanges = 1;
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "email");
	assert_string_equal(errs.e[0].reason, "malformed");
	in.changes = unknown;
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "unknown_field");
	in.changes = ok;
	in.text = "   ";
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "reason");
	/* A disclosure takes no changes. */
	in = (cu_request_input){CU_REQUEST_DISCLOSURE, ok, 1, NULL};
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "changes");
	/* Nothing was written, nothing audited. */
	assert_int_equal(cu_test_audit_count(f->ctx), before);

	/* Only the member files their own request. */
	in = (cu_request_input){CU_REQUEST_DISCLOSURE, NULL, 0, NULL};
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->b, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_request_file(f->ctx, &desk, f->alice, &in, T0, &row, token, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(audit_find(f->ctx, NULL, "request_file").n, 2);
	assert_string_equal(audit_find(f->ctx, NULL, "request_file").decision, "deny");

	/* Filed: received, a notice, an audit entry; a token only for an erasure. */
	file_ok(f, &f->a, f->alice, &in, T0, &row, token);
	assert_string_equal(row.state, "received");
	assert_string_equal(row.type, "disclosure");
	assert_int_equal(token[0], '\0');
	assert_string_equal(notices_of(f->ctx, f->alice)->kind[0], "request");
	assert_non_null(strstr(notices_of(f->ctx, f->alice)->body[0], "2026-12-15"));
	assert_string_equal(audit_find(f->ctx, f->alice, "request_file").decision, "done");
	cu_request_row_release(&row);
	in.type = CU_REQUEST_ERASURE;
	file_ok(f, &f->a, f->alice, &in, T0, &row, token);
	assert_int_equal(strlen(token), CU_REQUEST_TOKEN_LEN);
	assert_true(row.has_token);
	cu_request_row_release(&row);
}

/* ---- the clock ------------------------------------------------------------- */

struct listed {
	char ids[8][CU_ID_LEN + 1];
	int n;
};

static int keep_id(void *ud, const cu_request_row *row)
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
	assert_int_equal(cu_request_list(f->ctx->store, &officer, overdue, now, keep_id, &l),
	                 CU_OK);
	return l;
}

static void test_clock(void **state)
{
	struct fx *f = *state;
	cu_request_input in = {CU_REQUEST_DISCLOSURE, NULL, 0, NULL};
	cu_request_row first, second;
	cu_errors errs;
	json_t *j;

	assert_int_equal(f->ctx->config.request_target_days, 14);
	assert_int_equal(f->ctx->config.request_hard_days, 30);
	file_ok(f, &f->a, f->alice, &in, T0, &first, NULL);
	assert_true(first.due_us == T0 + 14 * DAY);
	assert_true(first.hard_due_us == T0 + 30 * DAY);
	/* A configuration change moves later requests only. */
	f->ctx->config.request_target_days = 5;
	file_ok(f, &f->b, f->bob, &in, T0 + DAY, &second, NULL);
	assert_true(second.due_us == T0 + 6 * DAY);

	/* Days left, rounded down; negative once late. */
	assert_int_equal(cu_case_days_left(first.due_us, T0), 14);
	assert_int_equal(cu_case_days_left(first.due_us, T0 + DAY / 2), 13);
	assert_int_equal(cu_case_days_left(first.due_us, first.due_us), 0);
	assert_int_equal(cu_case_days_left(first.due_us, first.due_us + DAY / 2), -1);
	j = cu_request_row_json(&first, T0 + 20 * DAY);
	assert_int_equal(json_integer_value(json_object_get(j, "days_left")), -6);
	assert_int_equal(json_integer_value(json_object_get(j, "hard_days_left")), 10);
	assert_true(json_is_true(json_object_get(j, "overdue")));
	json_decref(j);

	/* The officer's lists: open by target date; overdue as time moves. */
	assert_int_equal(list(f, false, T0).n, 2);
	assert_string_equal(list(f, false, T0).ids[0], second.id);
	assert_int_equal(list(f, true, T0 + 2 * DAY).n, 0);
	assert_int_equal(list(f, true, T0 + 7 * DAY).n, 1);
	assert_string_equal(list(f, true, T0 + 7 * DAY).ids[0], second.id);
	assert_int_equal(list(f, true, T0 + 15 * DAY).n, 2);
	/* Decided: off both lists, late or not. */
	assert_int_equal(
	    decide(f, second.id, CU_REQUEST_APPLY, NULL, NULL, T0 + 7 * DAY, &errs, NULL), CU_OK);
	assert_int_equal(list(f, true, T0 + 15 * DAY).n, 1);
	assert_int_equal(list(f, false, T0 + 15 * DAY).n, 1);
	/* Only an officer sees the lists. */
	assert_int_equal(
	    cu_request_list(f->ctx->store, &desk, false, T0, keep_id, &(struct listed){0}),
	    CU_ERR_FORBIDDEN);
	cu_request_row_release(&first);
	cu_request_row_release(&second);
}

/* ---- refusals -------------------------------------------------------------- */

static void test_refusal_needs_a_ground(void **state)
{
	struct fx *f = *state;
	const cu_kv change[] = {{"hobbies", "chess"}};
	cu_request_input in = {CU_REQUEST_DISCLOSURE, NULL, 0, "please send everything"};
	cu_request_input am = {CU_REQUEST_AMENDMENT, change, 1, "I gave up origami"};
	cu_request_row d, a;
	char st[CU_REQUEST_WORD_MAX + 1];
	struct notices *nl;
	cu_errors errs;

	file_ok(f, &f->a, f->alice, &in, T0, &d, NULL);
	file_ok(f, &f->a, f->alice, &am, T0, &a, NULL);

	/* No ground, an unknown ground, no reasons: 422, nothing changes. */
	assert_int_equal(
	    decide(f, d.id, CU_REQUEST_REFUSE, NULL, "Lopsided reasons", T0, &errs, NULL),
	    CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "ground");
	assert_string_equal(errs.e[0].reason, "required");
	assert_int_equal(
	    decide(f, d.id, CU_REQUEST_REFUSE, "too_busy", "Lopsided reasons", T0, &errs, NULL),
	    CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "unknown");
	assert_int_equal(decide(f, d.id, CU_REQUEST_REFUSE, "breach_of_law", NULL, T0, &errs, NULL),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "reasons");
	/* The three grounds are for disclosures; an amendment is rejected, not refused. */
	assert_int_equal(decide(f, a.id, CU_REQUEST_REFUSE, "breach_of_law", "Lopsided reasons", T0,
	                        &errs, NULL),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "action");
	assert_string_equal(errs.e[0].reason, "refuse_is_for_disclosure");
	assert_int_equal(decide(f, a.id, CU_REQUEST_REJECT, NULL, NULL, T0, &errs, NULL),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "reasons");
	assert_string_equal(state_of(f, d.id, st), "received");
	/* Staff do not decide. */
	{
		cu_request_decision dec = {CU_REQUEST_APPLY, NULL, NULL};

		assert_int_equal(
		    cu_request_decide(f->ctx, &desk, d.id, &dec, T0, NULL, NULL, &errs),
		    CU_ERR_FORBIDDEN);
	}

	/* Investigate once, then refuse on ground 3 with reasons: final. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_INVESTIGATE, NULL, NULL, T0 + DAY, &errs, NULL),
	                 CU_OK);
	assert_int_equal(decide(f, d.id, CU_REQUEST_INVESTIGATE, NULL, NULL, T0 + DAY, &errs, NULL),
	                 CU_ERR_CONFLICT);
	assert_int_equal(decide(f, d.id, CU_REQUEST_REFUSE, "breach_of_law",
	                        "Lopsided reasons: a court order", T0 + 2 * DAY, &errs, NULL),
	                 CU_OK);
	assert_string_equal(state_of(f, d.id, st), "refused");
	assert_int_equal(decide(f, d.id, CU_REQUEST_APPLY, NULL, NULL, T0 + 3 * DAY, &errs, NULL),
	                 CU_ERR_CONFLICT);
	/* The member is told the ground in the policy's words, never the reasons. */
	nl = notices_of(f->ctx, f->alice);
	assert_non_null(strstr(nl->subject[0], "refused"));
	assert_non_null(strstr(nl->body[0], "breach"));
	assert_non_null(strstr(nl->body[0], "law or ordinance"));
	assert_null(strstr(nl->body[0], "Lopsided"));
	assert_non_null(
	    strstr(audit_find(f->ctx, f->alice, "request_decide").reason, "ground=breach_of_law"));
	assert_int_equal(audit_leaks(f->ctx, "Lopsided"), 0);

	/* The member reads the reasons in their request; another member cannot. */
	{
		cu_request_view v;

		cu_request_view_init(&v);
		assert_int_equal(cu_request_get(f->ctx, &f->b, d.id, &v), CU_ERR_NOT_FOUND);
		assert_int_equal(cu_request_get(f->ctx, &f->a, d.id, &v), CU_OK);
		assert_int_equal(v.nevents, 3);
		assert_string_equal(v.events[2].state, "refused");
		assert_string_equal(v.events[2].ground, "breach_of_law");
		assert_string_equal(v.events[2].reasons, "Lopsided reasons: a court order");
		assert_non_null(strstr(v.details, "please send everything"));
		cu_request_view_wipe(&v);
		assert_int_equal(audit_find(f->ctx, f->alice, "read_request").n, 1);
	}
	cu_request_row_release(&d);
	cu_request_row_release(&a);
}

/* ---- amendment ------------------------------------------------------------- */

static void test_amendment_applied(void **state)
{
	struct fx *f = *state;
	const cu_kv changes[] = {
	    {"address", "12 Zephyrine Terrace, Nara"},
	    {"occupation", "Lampwright"},
	    {"hobbies", NULL},
	};
	cu_request_input in = {CU_REQUEST_AMENDMENT, changes, N(changes), "I moved to Nara"};
	int addr = cu_policy_field_index(f->ctx->policy, "address");
	int occ = cu_policy_field_index(f->ctx->policy, "occupation");
	int hob = cu_policy_field_index(f->ctx->policy, "hobbies");
	cu_request_row row;
	struct found e;
	struct notices *nl;
	cu_record rec;
	cu_errors errs;

	file_ok(f, &f->a, f->alice, &in, T0, &row, NULL);
	assert_string_equal(row.fields, "address,occupation,hobbies");
	/* Filing changes nothing yet. */
	read_self(f, &f->a, f->alice, &rec, CU_OK);
	assert_string_equal(cu_record_get(&rec, addr), "7 Alicia-Gingko Alley, Kyoto");
	cu_record_wipe(&rec);

	assert_int_equal(decide(f, row.id, CU_REQUEST_APPLY, NULL, NULL, T0 + DAY, &errs, NULL),
	                 CU_OK);
	read_self(f, &f->a, f->alice, &rec, CU_OK);
	assert_string_equal(cu_record_get(&rec, addr), "12 Zephyrine Terrace, Nara");
	assert_string_equal(cu_record_get(&rec, occ), "Lampwright");
	assert_null(cu_record_get(&rec, hob));
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(f->ctx->policy, "name")),
	                    "Alicia Quasarwright");
	cu_record_wipe(&rec);
	/* Bob is untouched. */
	read_self(f, &f->b, f->bob, &rec, CU_OK);
	assert_string_equal(cu_record_get(&rec, addr), "7 Bertram-Gingko Alley, Kyoto");
	cu_record_wipe(&rec);

	/* Audited with field names before and after, by the officer, never a value. */
	e = audit_find(f->ctx, f->alice, "amend");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.purpose, "amendment");
	assert_string_equal(e.fields, "address,occupation,hobbies");
	assert_non_null(strstr(e.reason, row.id));
	assert_non_null(strstr(e.reason, "before=address,hobbies"));
	assert_non_null(strstr(e.reason, "after=address,occupation"));
	assert_non_null(strstr(e.reason, "amended=address"));
	assert_non_null(strstr(e.reason, "added=occupation"));
	assert_non_null(strstr(e.reason, "deleted=hobbies"));
	assert_int_equal(audit_leaks(f->ctx, "Zephyrine"), 0);
	assert_int_equal(audit_leaks(f->ctx, "Lampwright"), 0);

	/* The member is told what was amended, by name; no value in the notice. */
	nl = notices_of(f->ctx, f->alice);
	assert_string_equal(nl->kind[0], "amendment");
	assert_non_null(strstr(nl->subject[0], "applied"));
	assert_non_null(strstr(nl->body[0], "Amended: address"));
	assert_non_null(strstr(nl->body[0], "Added: occupation"));
	assert_non_null(strstr(nl->body[0], "Deleted: hobbies"));
	assert_null(strstr(nl->body[0], "Zephyrine"));

	/* Only an officer carries out an amendment. */
	cu_errors_init(&errs);
	assert_int_equal(cu_member_amend(f->ctx, &desk, f->alice, row.id, changes, 1, &errs),
	                 CU_ERR_FORBIDDEN);
	cu_request_row_release(&row);
}

static void test_amendment_that_no_longer_fits(void **state)
{
	struct fx *f = *state;
	const cu_kv take_bobs[] = {{"email", "bertram.quasar@requests.example"}};
	cu_request_input in = {CU_REQUEST_AMENDMENT, take_bobs, 1, "typo in my address"};
	char st[CU_REQUEST_WORD_MAX + 1];
	cu_request_row row;
	cu_errors errs;

	/* Bob's address, asked for by Alice: the store refuses it when applied, and nothing moves.
	 */
	file_ok(f, &f->a, f->alice, &in, T0, &row, NULL);
	assert_int_equal(decide(f, row.id, CU_REQUEST_APPLY, NULL, NULL, T0, &errs, NULL),
	                 CU_ERR_CONFLICT);
	assert_string_equal(errs.e[0].field, "email");
	assert_string_equal(state_of(f, row.id, st), "received");
	assert_int_equal(
	    decide(f, row.id, CU_REQUEST_REJECT, NULL, "That address is taken.", T0, &errs, NULL),
	    CU_OK);
	assert_string_equal(state_of(f, row.id, st), "rejected");
	cu_request_row_release(&row);
}

/* ---- erasure --------------------------------------------------------------- */

static void test_erasure_applied(void **state)
{
	struct fx *f = *state;
	const cu_kv change[] = {{"occupation", "Glassblower"}};
	cu_request_input er = {CU_REQUEST_ERASURE, NULL, 0, "Forget me, Pellucid"};
	cu_request_input am = {CU_REQUEST_AMENDMENT, change, 1, "new trade"};
	char token[CU_REQUEST_TOKEN_LEN + 1], wrong[CU_REQUEST_TOKEN_LEN + 1];
	char st[CU_REQUEST_WORD_MAX + 1], what[200], path[600], diary[CU_ID_LEN + 1];
	cu_request_row erasure, other;
	cu_complaint_row complaint;
	cu_errors errs;
	char *cert = NULL, *again = NULL;
	cu_record rec;
	json_t *doc;

	cu_errors_init(&errs);
	assert_int_equal(
	    cu_diary_write(f->ctx, &f->a, f->alice, "Pellucid diary", "a secret", diary, &errs),
	    CU_OK);
	assert_int_equal(cu_complaint_file(f->ctx, &f->a, f->alice, "use",
	                                   "Pellucid complaint text", T0, &complaint, &errs),
	                 CU_OK);
	file_ok(f, &f->a, f->alice, &am, T0, &other, NULL);
	file_ok(f, &f->a, f->alice, &er, T0, &erasure, token);
	/* Before it is applied there is no certificate. */
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, erasure.id, token, &again),
	                 CU_ERR_NOT_FOUND);

	assert_int_equal(
	    decide(f, erasure.id, CU_REQUEST_APPLY, NULL, NULL, T0 + DAY, &errs, &cert), CU_OK);
	assert_non_null(cert);

	/* The member is unreadable, by themself and by staff; lookups find nothing. */
	read_self(f, &f->a, f->alice, &rec, CU_ERR_ERASED);
	{
		cu_access_request req = {&desk, "support", f->alice, 0, NULL, NULL, NULL};
		cu_access_decision d;

		cu_record_init(&rec);
		assert_int_equal(cu_access_read(f->ctx, &req, &d, &rec), CU_ERR_ERASED);
	}
	{
		char id[CU_ID_LEN + 1];

		assert_int_equal(
		    cu_member_find(f->ctx, &desk, "email", "alicia.quasar@requests.example", id),
		    CU_ERR_NOT_FOUND);
	}
	assert_string_equal(state_of(f, erasure.id, st), "applied");
	/* The member's other open request and complaint closed with the erasure. */
	assert_string_equal(state_of(f, other.id, st), "closed");
	{
		cu_complaint_row c;

		assert_int_equal(cu_store_complaint_get(f->ctx->store, complaint.id, &c), CU_OK);
		assert_string_equal(c.state, "closed");
		assert_string_equal(c.note, "member_erased");
		assert_null(c.text);
		cu_complaint_row_release(&c);
	}
	assert_int_equal(list(f, false, T0 + 2 * DAY).n, 0);
	/* The member was told before; the notice stays, the e-mail does not go. */
	assert_non_null(strstr(notices_of(f->ctx, f->alice)->subject[0], "carried out"));

	/* The certificate verifies, names what went, and an altered one does not. */
	assert_int_equal(
	    cu_request_certificate_verify(cert, strlen(cert), f->ctx->vault, what, sizeof(what)),
	    CU_OK);
	doc = json_loads(cert, 0, NULL);
	assert_non_null(doc);
	{
		json_t *c = json_object_get(doc, "certificate");
		json_t *d = json_object_get(c, "destroyed");
		char *altered;

		assert_string_equal(json_string_value(json_object_get(c, "member")), f->alice);
		assert_string_equal(json_string_value(json_object_get(c, "request")), erasure.id);
		assert_true(json_is_true(json_object_get(d, "data_key")));
		assert_int_equal(json_integer_value(json_object_get(d, "diary_entries")), 1);
		assert_true(json_array_size(json_object_get(d, "fields")) >= 4);
		json_object_set_new(c, "member", json_string(f->bob));
		altered = json_dumps(doc, 0);
		assert_int_equal(cu_request_certificate_verify(altered, strlen(altered),
		                                               f->ctx->vault, what, sizeof(what)),
		                 CU_ERR_CRYPTO);
		free(altered);
	}
	json_decref(doc);
	/* No personal value in it. */
	assert_null(strstr(cert, "Quasarwright"));
	assert_null(strstr(cert, "Pellucid"));

	/* Fetched with the token (no login any more), not with another. */
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, erasure.id, token, &again),
	                 CU_OK);
	assert_string_equal(again, cert);
	free(again);
	memcpy(wrong, token, sizeof(wrong));
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, erasure.id, wrong, &again),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, other.id, token, &again),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_request_certificate(f->ctx->store, &f->b, erasure.id, NULL, &again),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_request_certificate(f->ctx->store, &officer, erasure.id, NULL, &again),
	                 CU_OK);
	free(again);

	/* Nothing readable is left on disk: the texts were sealed and are gone. */
	snprintf(path, sizeof(path), "%s/var", f->dir);
	assert_false(cu_test_store_files_contain_text(path, "Pellucid"));
	assert_false(cu_test_store_files_contain_text(path, "Glassblower"));
	assert_false(cu_test_store_files_contain_text(path, "Alicia Quasarwright"));
	assert_true(cu_test_store_files_contain_text(path, erasure.id));
	/* The row after erasure opens no text. */
	{
		cu_request_view v;

		cu_request_view_init(&v);
		assert_int_equal(cu_request_get(f->ctx, &officer, other.id, &v), CU_OK);
		assert_true(v.erased);
		assert_null(v.details);
		cu_request_view_wipe(&v);
	}
	/* Deciding anything more for an erased member: no. */
	assert_int_equal(decide(f, erasure.id, CU_REQUEST_APPLY, NULL, NULL, T0, &errs, NULL),
	                 CU_ERR_CONFLICT);
	free(cert);
	cu_request_row_release(&erasure);
	cu_request_row_release(&other);
	cu_complaint_row_release(&complaint);
}

/* A refusal on a ground about the data suspends the export until it is lifted (requests.h). */
static void test_refusal_suspends_export(void **state)
{
	struct fx *f = *state;
	cu_request_input dis = {CU_REQUEST_DISCLOSURE, NULL, 0, NULL};
	cu_request_row a, b, standing;
	cu_errors errs;
	json_t *doc = NULL;

	file_ok(f, &f->a, f->alice, &dis, T0, &a, NULL);
	file_ok(f, &f->a, f->alice, &dis, T0, &b, NULL);
	/* business_interference: the export goes on. */
	assert_int_equal(decide(f, a.id, CU_REQUEST_REFUSE, "business_interference", "busy",
	                        T0 + DAY, &errs, NULL),
	                 CU_OK);
	assert_int_equal(cu_request_refusal_standing(f->ctx->store, f->alice, NULL),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_export_member(f->ctx, &f->a, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_OK);
	cu_export_free(doc);
	assert_int_equal(decide(f, a.id, CU_REQUEST_LIFT, NULL, NULL, T0 + DAY, &errs, NULL),
	                 CU_ERR_CONFLICT);
	/* breach_of_law: suspended, for this member only; lifted, it works again. */
	assert_int_equal(decide(f, b.id, CU_REQUEST_REFUSE, "breach_of_law", "a court order",
	                        T0 + DAY, &errs, NULL),
	                 CU_OK);
	assert_int_equal(cu_request_refusal_standing(f->ctx->store, f->alice, &standing), CU_OK);
	assert_string_equal(standing.id, b.id);
	cu_request_row_release(&standing);
	assert_int_equal(cu_export_member(f->ctx, &f->a, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_ERR_DISCLOSURE_REFUSED);
	assert_null(doc);
	assert_int_equal(cu_export_member(f->ctx, &f->b, f->bob, CU_EXPORT_JSON, T0, &doc), CU_OK);
	cu_export_free(doc);
	assert_int_equal(decide(f, b.id, CU_REQUEST_LIFT, NULL, NULL, T0 + 2 * DAY, &errs, NULL),
	                 CU_OK);
	assert_int_equal(decide(f, b.id, CU_REQUEST_LIFT, NULL, NULL, T0 + 2 * DAY, &errs, NULL),
	                 CU_ERR_CONFLICT);
	assert_int_equal(cu_export_member(f->ctx, &f->a, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_OK);
	cu_export_free(doc);
	cu_request_row_release(&a);
	cu_request_row_release(&b);
}

/*
 * Erasure has one operation (erasure.h) and two ways in: the officer
 * applying an erasure request, the operator's `member erase`.  Both leave
 * the same state behind; before erasure.c, the direct way left the
 * member's open requests and complaints "received".
 */
struct erased_state {
	bool erased, has_password, has_fields;
	char request_state[CU_REQUEST_WORD_MAX + 1], request_note[CU_REQUEST_WORD_MAX + 1];
	char complaint_state[CU_REQUEST_WORD_MAX + 1], complaint_note[CU_REQUEST_WORD_MAX + 1];
	bool complaint_text, request_text, session_live;
	uint64_t diaries, pending_mail;
	int erase_audits;
	char erase_reason[400];
};

struct pending {
	const char *member;
	uint64_t n;
};

static int count_pending(void *ud, const cu_outbox_row *row)
{
	struct pending *p = ud;

	if (!strcmp(row->member, p->member) && row->status == CU_OUTBOX_PENDING)
		p->n++;
	return 0;
}

/* What a member has open before erasure: a request, a complaint, a diary, a session, mail. */
struct open_things {
	cu_request_row request;
	cu_complaint_row complaint;
	char session[CU_SESSION_SECRET_LEN + 1];
};

static void open_everything(struct fx *f, const cu_actor *who, const char *member,
                            struct open_things *o)
{
	const cu_kv change[] = {{"occupation", "Glassblower"}};
	cu_request_input am = {CU_REQUEST_AMENDMENT, change, 1, "new trade"};
	char csrf[CU_SESSION_CSRF_LEN + 1], diary[CU_ID_LEN + 1];
	struct pending p = {member, 0};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(
	    cu_diary_write(f->ctx, who, member, "Opal diary", "a secret", diary, &errs), CU_OK);
	assert_int_equal(cu_complaint_file(f->ctx, who, member, "use", "Opal complaint text", T0,
	                                   &o->complaint, &errs),
	                 CU_OK);
	file_ok(f, who, member, &am, T0, &o->request, NULL);
	assert_int_equal(cu_session_create(f->ctx, member, DAY, o->session, csrf), CU_OK);
	/* Filing wrote notices: there is mail waiting to go. */
	assert_int_equal(
	    cu_store_outbox_list(f->ctx->store, false, CU_OUTBOX_PENDING, 1000, count_pending, &p),
	    CU_OK);
	assert_true(p.n > 0);
}

static void erased_state_of(struct fx *f, const char *member, struct open_things *o,
                            struct erased_state *e)
{
	cu_member_row m = {0};
	cu_request_row r;
	cu_complaint_row c;
	cu_request_view v;
	cu_session_info si;
	struct pending p = {member, 0};
	struct found x;

	memset(e, 0, sizeof(*e));
	assert_int_equal(cu_store_member_get(f->ctx->store, member, &m), CU_OK);
	e->erased = m.erased;
	e->has_password = m.password_hash != NULL;
	e->has_fields = m.present != 0;
	cu_member_row_release(&m);
	assert_int_equal(cu_store_request_get(f->ctx->store, o->request.id, &r), CU_OK);
	memcpy(e->request_state, r.state, sizeof(e->request_state));
	e->request_text = r.details != NULL;
	cu_request_row_release(&r);
	cu_request_view_init(&v);
	assert_int_equal(cu_request_get(f->ctx, &officer, o->request.id, &v), CU_OK);
	assert_true(v.nevents > 0);
	memcpy(e->request_note, v.events[v.nevents - 1].note, sizeof(e->request_note));
	cu_request_view_wipe(&v);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, o->complaint.id, &c), CU_OK);
	memcpy(e->complaint_state, c.state, sizeof(e->complaint_state));
	memcpy(e->complaint_note, c.note, sizeof(e->complaint_note));
	e->complaint_text = c.text != NULL;
	cu_complaint_row_release(&c);
	assert_int_equal(cu_store_diary_count(f->ctx->store, member, &e->diaries), CU_OK);
	e->session_live = cu_session_check(f->ctx->store, o->session, T0, &si) == CU_OK;
	assert_int_equal(
	    cu_store_outbox_list(f->ctx->store, false, CU_OUTBOX_PENDING, 1000, count_pending, &p),
	    CU_OK);
	e->pending_mail = p.n;
	x = audit_find(f->ctx, member, "erase");
	e->erase_audits = x.n;
	/* The reason up to the request id (which only the request path has). */
	{
		const char *rq = strstr(x.reason, " request=");

		snprintf(e->erase_reason, sizeof(e->erase_reason), "%.*s",
		         (int)(rq ? (size_t)(rq - x.reason) : strlen(x.reason)), x.reason);
	}
}

static void test_erasure_same_state_every_way(void **state)
{
	struct fx *f = *state;
	cu_request_input er = {CU_REQUEST_ERASURE, NULL, 0, NULL};
	struct open_things oa, ob;
	struct erased_state ea, eb;
	cu_request_row erasure;
	char token[CU_REQUEST_TOKEN_LEN + 1], *cert = NULL, what[200];
	cu_errors errs;
	json_t *doc;

	open_everything(f, &f->a, f->alice, &oa);
	open_everything(f, &f->b, f->bob, &ob);
	/* Alice: at her request, applied by the officer. */
	file_ok(f, &f->a, f->alice, &er, T0, &erasure, token);
	assert_int_equal(decide(f, erasure.id, CU_REQUEST_APPLY, NULL, NULL, T0 + DAY, &errs, NULL),
	                 CU_OK);
	/* Bob: directly, as the command line's `member erase` does. */
	assert_int_equal(
	    cu_erasure_carry_out(f->ctx, &cu_test_operator, f->bob, NULL, T0 + DAY, &cert), CU_OK);

	erased_state_of(f, f->alice, &oa, &ea);
	erased_state_of(f, f->bob, &ob, &eb);
	assert_true(ea.erased);
	assert_false(ea.has_password);
	assert_false(ea.has_fields);
	assert_string_equal(ea.request_state, "closed");
	assert_string_equal(ea.request_note, "member_erased");
	assert_string_equal(ea.complaint_state, "closed");
	assert_string_equal(ea.complaint_note, "member_erased");
	assert_false(ea.request_text);
	assert_false(ea.complaint_text);
	assert_false(ea.session_live);
	assert_int_equal(ea.diaries, 0);
	assert_int_equal(ea.pending_mail, 0);
	assert_int_equal(ea.erase_audits, 1);
	assert_string_equal(ea.erase_reason,
	                    "crypto-shredded requests_closed=1 complaints_closed=1");
	/* And the direct way leaves exactly the same. */
	assert_int_equal(ea.erased, eb.erased);
	assert_int_equal(ea.has_password, eb.has_password);
	assert_int_equal(ea.has_fields, eb.has_fields);
	assert_string_equal(ea.request_state, eb.request_state);
	assert_string_equal(ea.request_note, eb.request_note);
	assert_string_equal(ea.complaint_state, eb.complaint_state);
	assert_string_equal(ea.complaint_note, eb.complaint_note);
	assert_int_equal(ea.request_text, eb.request_text);
	assert_int_equal(ea.complaint_text, eb.complaint_text);
	assert_int_equal(ea.session_live, eb.session_live);
	assert_int_equal(ea.diaries, eb.diaries);
	assert_int_equal(ea.pending_mail, eb.pending_mail);
	assert_int_equal(ea.erase_audits, eb.erase_audits);
	assert_string_equal(ea.erase_reason, eb.erase_reason);

	/* The direct way's certificate verifies and names no request. */
	assert_non_null(cert);
	assert_int_equal(
	    cu_request_certificate_verify(cert, strlen(cert), f->ctx->vault, what, sizeof(what)),
	    CU_OK);
	doc = json_loads(cert, 0, NULL);
	assert_non_null(doc);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "certificate"), "request")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "certificate"), "member")),
	    f->bob);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(json_object_get(doc, "certificate"), "closed"), "complaints")),
	    1);
	json_decref(doc);
	free(cert);
	/* A second erasure finds nothing to erase, whichever way; staff may not erase. */
	assert_int_equal(cu_erasure_carry_out(f->ctx, &cu_test_operator, f->alice, NULL, T0, NULL),
	                 CU_ERR_ERASED);
	assert_int_equal(cu_erasure_carry_out(f->ctx, &desk, f->bob, NULL, T0, NULL),
	                 CU_ERR_FORBIDDEN);
	cu_request_row_release(&erasure);
	cu_request_row_release(&oa.request);
	cu_request_row_release(&ob.request);
	cu_complaint_row_release(&oa.complaint);
	cu_complaint_row_release(&ob.complaint);
}

/* ---- texts sealed ---------------------------------------------------------- */

static void test_texts_sealed_on_disk(void **state)
{
	struct fx *f = *state;
	const cu_kv change[] = {{"occupation", "Vermilion cartographer"}};
	cu_request_input in = {CU_REQUEST_AMENDMENT, change, 1, "Obsidian reason text"};
	cu_request_row row;
	cu_errors errs;
	char path[600];

	file_ok(f, &f->a, f->alice, &in, T0, &row, NULL);
	assert_int_equal(
	    decide(f, row.id, CU_REQUEST_REJECT, NULL, "Tamarind officer reasons", T0, &errs, NULL),
	    CU_OK);
	snprintf(path, sizeof(path), "%s/var", f->dir);
	assert_false(cu_test_store_files_contain_text(path, "Vermilion"));
	assert_false(cu_test_store_files_contain_text(path, "Obsidian"));
	assert_false(cu_test_store_files_contain_text(path, "Tamarind"));
	assert_true(cu_test_store_files_contain_text(path, row.id));
	assert_int_equal(audit_leaks(f->ctx, "Obsidian"), 0);
	assert_int_equal(audit_leaks(f->ctx, "Tamarind"), 0);
	cu_request_row_release(&row);
}

/* ---- the export ------------------------------------------------------------ */

static void test_export_is_exactly_this_member(void **state)
{
	struct fx *f = *state;
	const cu_kv change[] = {{"occupation", "Alicia-Tinsmith"}};
	cu_request_input am = {CU_REQUEST_AMENDMENT, change, 1, "Alicia-reason"};
	const cu_kv bchange[] = {{"occupation", "Bertram-Tinsmith"}};
	cu_request_input bam = {CU_REQUEST_AMENDMENT, bchange, 1, "Bertram-reason"};
	static const char *const bobs[] = {
	    "Bertram",          "Bertram.quasar", "Bertram-origami",   "Bertram-diary",
	    "Bertram-Tinsmith", "Bertram-reason", "Bertram-complaint",
	};
	static const char *const alices[] = {
	    "Alicia Quasarwright",
	    "7 Alicia-Gingko Alley, Kyoto",
	    "Alicia.quasar@requests.example",
	    "Alicia-origami",
	    "Alicia-diary title",
	    "Alicia-diary body",
	    "Alicia-Tinsmith",
	    "Alicia-reason",
	    "Alicia-complaint",
	    "Alicia-officer reasons",
	};
	char id[CU_ID_LEN + 1], *text, *csv;
	cu_request_row row;
	cu_complaint_row c;
	cu_errors errs;
	struct found e;
	size_t len;
	json_t *doc;

	cu_errors_init(&errs);
	/* Both members hold something of every kind. */
	assert_int_equal(cu_diary_write(f->ctx, &f->a, f->alice, "Alicia-diary title",
	                                "Alicia-diary body", id, &errs),
	                 CU_OK);
	assert_int_equal(cu_diary_write(f->ctx, &f->b, f->bob, "Bertram-diary", "x", id, &errs),
	                 CU_OK);
	file_ok(f, &f->a, f->alice, &am, T0, &row, NULL);
	assert_int_equal(
	    decide(f, row.id, CU_REQUEST_REJECT, NULL, "Alicia-officer reasons", T0, &errs, NULL),
	    CU_OK);
	cu_request_row_release(&row);
	file_ok(f, &f->b, f->bob, &bam, T0, &row, NULL);
	cu_request_row_release(&row);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->a, f->alice, "other", "Alicia-complaint", T0, &c, &errs),
	    CU_OK);
	cu_complaint_row_release(&c);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->b, f->bob, "other", "Bertram-complaint", T0, &c, &errs),
	    CU_OK);
	cu_complaint_row_release(&c);
	/* Someone else read Alice: it is in her access history. */
	{
		cu_access_request req = {&desk, "support", f->alice, 0, NULL, NULL, NULL};
		cu_access_decision d;
		cu_record rec;

		cu_record_init(&rec);
		assert_int_equal(cu_access_read(f->ctx, &req, &d, &rec), CU_OK);
		cu_record_wipe(&rec);
	}

	/* Only Alice exports Alice (audited as refused). */
	assert_int_equal(cu_export_member(f->ctx, &f->b, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_ERR_FORBIDDEN);
	assert_null(doc);
	assert_int_equal(cu_export_member(f->ctx, &desk, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_ERR_FORBIDDEN);
	e = audit_find(f->ctx, f->alice, "export");
	assert_int_equal(e.n, 2);
	assert_string_equal(e.decision, "deny");

	assert_int_equal(cu_export_member(f->ctx, &f->a, f->alice, CU_EXPORT_JSON, T0, &doc),
	                 CU_OK);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	for (size_t i = 0; i < N(alices); i++)
		if (!strstr(text, alices[i]))
			fail_msg("the export lacks %s", alices[i]);
	for (size_t i = 0; i < N(bobs); i++)
		if (strstr(text, bobs[i]))
			fail_msg("the export holds another member's %s", bobs[i]);
	assert_null(strstr(text, f->bob));
	/* Every part is there. */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "fields"), "name")),
	    "Alicia Quasarwright");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "survey"), "hobbies")),
	    "Alicia-origami");
	assert_int_equal(json_array_size(json_object_get(doc, "diaries")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "requests")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "complaints")), 1);
	assert_true(json_array_size(json_object_get(doc, "notices")) >= 3);
	assert_true(json_is_array(json_object_get(doc, "consents")));
	assert_true(json_is_array(json_object_get(doc, "provisions")));
	assert_non_null(strstr(text, "\"actor\":\"support desk\""));
	free(text);

	/* CSV: one document, a section column, the same values, nothing of Bob. */
	assert_int_equal(cu_export_csv(doc, &csv, &len), CU_OK);
	assert_int_equal(len, strlen(csv));
	assert_int_equal(strncmp(csv, "\"section\",\"item\",\"key\",\"value\"\r\n", 32), 0);
	assert_non_null(strstr(csv, "\"fields\",\"\",\"name\",\"Alicia Quasarwright\"\r\n"));
	assert_non_null(strstr(csv, "\"survey\",\"\",\"hobbies\",\"Alicia-origami\"\r\n"));
	assert_non_null(strstr(csv, "\"details.changes.occupation\",\"Alicia-Tinsmith\""));
	for (size_t i = 0; i < N(bobs); i++)
		assert_null(strstr(csv, bobs[i]));
	free(csv);
	cu_export_free(doc);

	/* Audited: the reads it made and the export itself, never a value. */
	e = audit_find(f->ctx, f->alice, "export");
	assert_int_equal(e.n, 3);
	assert_string_equal(e.decision, "allow");
	assert_string_equal(e.reason, "format=json");
	assert_int_equal(audit_leaks(f->ctx, "Alicia-diary"), 0);
	assert_int_equal(audit_leaks(f->ctx, "Tinsmith"), 0);
}

/* The clock's settings: defaults, bounds, and a target that may not pass the outer limit. */
static void test_clock_settings(void **state)
{
	struct fx *f = *state;
	char path[600], err[512];
	cu_config c;
	FILE *fp;

	cu_config_defaults(&c);
	assert_int_equal(c.request_target_days, 14);
	assert_int_equal(c.request_hard_days, 30);
	assert_int_equal(c.complaint_due_days, 30);
	snprintf(path, sizeof(path), "%s/clock.conf", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[requests]\ntarget_days = 40\nhard_days = 30\n", fp);
	fclose(fp);
	assert_int_equal(cu_config_load(path, &c, err, sizeof(err)), CU_ERR_CONFIG);
	assert_non_null(strstr(err, "requests.target_days"));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[complaints]\ndue_days = 0\n", fp);
	fclose(fp);
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(path, &c, err, sizeof(err)), CU_ERR_CONFIG);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[requests]\ntarget_days = 7\nhard_days = 21\n[complaints]\ndue_days = 10\n", fp);
	fclose(fp);
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(path, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.request_target_days, 7);
	assert_int_equal(c.request_hard_days, 21);
	assert_int_equal(c.complaint_due_days, 10);
}

static void test_csv_quotes(void **state)
{
	json_t *doc = json_pack("{s:{s:s,s:s},s:[{s:s,s:[i,b,n]}]}", "fields", "name",
	                        "Ann \"The\" Quill, Jr.", "address", "1 Line\n2 Line", "list", "id",
	                        "X1", "v", 7, 1);
	char *csv;
	size_t len;

	(void)state;
	assert_int_equal(cu_export_csv(doc, &csv, &len), CU_OK);
	assert_non_null(strstr(csv, "\"fields\",\"\",\"name\",\"Ann \"\"The\"\" Quill, Jr.\"\r\n"));
	assert_non_null(strstr(csv, "\"fields\",\"\",\"address\",\"1 Line\n2 Line\"\r\n"));
	assert_non_null(strstr(csv, "\"list\",\"X1\",\"v.0\",\"7\"\r\n"));
	assert_non_null(strstr(csv, "\"list\",\"X1\",\"v.1\",\"true\"\r\n"));
	assert_non_null(strstr(csv, "\"list\",\"X1\",\"v.2\",\"\"\r\n"));
	free(csv);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_filing_validates_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusal_needs_a_ground, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_amendment_applied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_amendment_that_no_longer_fits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erasure_applied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erasure_same_state_every_way, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusal_suspends_export, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_texts_sealed_on_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_is_exactly_this_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock_settings, setup, teardown),
	    cmocka_unit_test(test_csv_quotes),
	};

	assert_int_equal(cu_vault_global_init(), CU_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
