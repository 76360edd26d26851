/*
 * test_casework.c — the casework machine requests and complaints share:
 * the kinds' open states, the clock (due dates, whole days left rounded
 * down, overdue strictly after the due date, what the overdue list asks
 * for), who may file and read, the growing history, and closing a member's
 * open cases on erasure (the erasure request being carried out left alone,
 * closed cases not closed twice, each closing recorded).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/casework.h"
#include "domain/complaints.h"
#include "domain/members.h"
#include "domain/requests.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY  CU_CASE_DAY_US
#define T0   ((int64_t)1796083200 * 1000000) /* 2026-12-01T00:00:00Z */

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"privacy officer", CU_ROLE_OFFICER, NULL, NULL};
static const cu_actor desk = {"support desk", CU_ROLE_STAFF, NULL, NULL};

/* ---- the clock ----------------------------------------------------------- */

static void test_due_dates(void **state)
{
	(void)state;
	assert_true(cu_case_due(T0, 14) == T0 + 14 * DAY);
	assert_true(cu_case_due(T0, 0) == T0);
	/* Far dates do not wrap: the days are widened before they are multiplied. */
	assert_true(cu_case_due(T0, 100000) == T0 + 100000 * DAY);
}

static void test_days_left_round_down(void **state)
{
	(void)state;
	assert_int_equal(cu_case_days_left(T0 + 14 * DAY, T0), 14);
	assert_int_equal(cu_case_days_left(T0 + 27 * DAY / 2, T0), 13); /* 13.5 days */
	assert_int_equal(cu_case_days_left(T0, T0), 0);
	assert_int_equal(cu_case_days_left(T0 + 1, T0), 0);
	assert_int_equal(cu_case_days_left(T0, T0 + 1), -1);       /* a moment late: a day */
	assert_int_equal(cu_case_days_left(T0, T0 + DAY / 2), -1); /* half a day late */
	assert_int_equal(cu_case_days_left(T0, T0 + DAY), -1);
	assert_int_equal(cu_case_days_left(T0, T0 + DAY + 1), -2);
	/* The requests' name for it says the same. */
	assert_int_equal(cu_case_days_left(T0, T0 + DAY / 2), -1);
}

static void test_overdue(void **state)
{
	(void)state;
	assert_false(cu_case_overdue(T0, T0 - 1));
	assert_false(cu_case_overdue(T0, T0)); /* due today is not late yet */
	assert_true(cu_case_overdue(T0, T0 + 1));
	/* The officer's lists: every open case, or those due before now. */
	assert_true(cu_case_due_before(false, T0) == 0);
	assert_true(cu_case_due_before(true, T0) == T0);
}

static void test_day_and_time(void **state)
{
	char day[CU_CASE_DAY_BYTES], t[CU_CASE_TIME_BYTES];
	json_t *o = json_object();

	(void)state;
	cu_case_day(T0 + 14 * DAY + 3600 * 1000000LL, day);
	assert_string_equal(day, "2026-12-15");
	cu_case_time(T0 + 61 * 1000000LL, t);
	assert_string_equal(t, "2026-12-01T00:01:01Z");
	assert_non_null(o);
	cu_case_json_time(o, "due", T0);
	cu_case_json_days_left(o, "days_left", T0 + 3 * DAY, T0 + DAY / 2);
	assert_string_equal(json_string_value(json_object_get(o, "due")), "2026-12-01T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(o, "days_left")), 2);
	json_decref(o);
}

/* ---- kinds and who ------------------------------------------------------- */

static void test_open_states(void **state)
{
	(void)state;
	assert_true(cu_case_state_open(CU_CASE_REQUEST, "received"));
	assert_true(cu_case_state_open(CU_CASE_REQUEST, "investigating"));
	assert_false(cu_case_state_open(CU_CASE_REQUEST, "applied"));
	assert_false(cu_case_state_open(CU_CASE_REQUEST, "refused"));
	assert_false(cu_case_state_open(CU_CASE_REQUEST, "closed"));
	assert_false(cu_case_state_open(CU_CASE_REQUEST, "assigned"));
	assert_true(cu_case_state_open(CU_CASE_COMPLAINT, "received"));
	assert_true(cu_case_state_open(CU_CASE_COMPLAINT, "assigned"));
	assert_true(cu_case_state_open(CU_CASE_COMPLAINT, "answered"));
	assert_false(cu_case_state_open(CU_CASE_COMPLAINT, "closed"));
	assert_false(cu_case_state_open(CU_CASE_COMPLAINT, NULL));
	assert_false(cu_case_state_open((cu_case_kind)CU_CASE_KINDS, "received"));
	assert_string_equal(cu_case_kinds[CU_CASE_REQUEST].read_action, "read_request");
	assert_string_equal(cu_case_kinds[CU_CASE_COMPLAINT].read_action, "read_complaint");
}

static void test_who(void **state)
{
	const cu_actor alice = {"m1", CU_ROLE_MEMBER, "m1", NULL};

	(void)state;
	assert_true(cu_case_may_file(&alice, "m1"));
	assert_false(cu_case_may_file(&alice, "m2"));
	assert_true(cu_case_may_file(&cu_test_operator, "m2"));
	assert_false(cu_case_may_file(&officer, "m1"));
	assert_false(cu_case_may_file(NULL, "m1"));
	assert_true(cu_case_may_read(&alice, "m1"));
	assert_false(cu_case_may_read(&alice, "m2"));
	assert_true(cu_case_may_read(&officer, "m2"));
	assert_false(cu_case_may_read(&desk, "m1"));
	assert_false(cu_case_may_read(NULL, "m1"));
	assert_string_equal(cu_case_actor_name(NULL), "");
	assert_string_equal(cu_case_actor_name(&officer), "privacy officer");
}

static void test_history_grows(void **state)
{
	struct step {
		int k;
		char *text;
	} *items = NULL;
	void *p = NULL, *slot;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 3 * CU_CASE_GROW + 1; i++) {
		assert_int_equal(cu_case_append(&p, &n, sizeof(*items), &slot), CU_OK);
		items = p;
		assert_ptr_equal(slot, &items[i]);
		assert_int_equal(items[i].k, 0); /* zeroed */
		assert_null(items[i].text);
		items[i].k = i;
		items[i].text = i % 2 ? strdup("opened") : NULL;
	}
	assert_int_equal(n, 3 * CU_CASE_GROW + 1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].k, (int)i);
	cu_case_history_wipe(p, n, sizeof(*items), offsetof(struct step, text));
	cu_case_history_wipe(NULL, 0, sizeof(*items), offsetof(struct step, text));
}

/* ---- closing on erasure -------------------------------------------------- */

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1], bob[CU_ID_LEN + 1];
	cu_actor a;
};

/*
 * The keys of a request's and a complaint's JSON come in the order they
 * always had (jansson keeps insertion order and replies are not sorted).
 */
static void keys_in_order(json_t *o, const char *const *want)
{
	size_t n = 0;

	assert_non_null(o);
	for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), n++) {
		assert_non_null(want[n]);
		assert_string_equal(json_object_iter_key(it), want[n]);
	}
	assert_null(want[n]);
	json_decref(o);
}

static void test_json_key_order(void **state)
{
	static const char *const open_request[] = {
	    "id",      "member",    "type",           "state",   "decided_by",
	    "ground",  "fields",    "received",       "due",     "hard_due",
	    "updated", "days_left", "hard_days_left", "overdue", NULL};
	static const char *const decided_request[] = {
	    "id",       "member", "type",     "state",   "decided_by", "ground", "fields",
	    "received", "due",    "hard_due", "updated", "decided",    NULL};
	cu_request_row rq = {
	    .received_us = DAY, .due_us = 15 * DAY, .hard_due_us = 31 * DAY, .updated_us = 2 * DAY};
	cu_complaint_row cp = {.received_us = DAY, .due_us = 31 * DAY, .updated_us = 2 * DAY};
	json_t *c;

	(void)state;
	keys_in_order(cu_request_row_json(&rq, 3 * DAY), open_request);
	rq.decided_us = 4 * DAY;
	keys_in_order(cu_request_row_json(&rq, 5 * DAY), decided_request);
	c = cu_complaint_row_json(&cp, 3 * DAY);
	assert_non_null(c);
	assert_null(json_object_get(c, "hard_due"));
	assert_null(json_object_get(c, "hard_days_left"));
	assert_non_null(json_object_get(c, "days_left"));
	json_decref(c);
}

static void register_one(cu_ctx *ctx, const char *name, const char *email, char id[CU_ID_LEN + 1])
{
	const cu_kv kv[] = {
	    {"name", name},
	    {"address", "3 Casework Lane"},
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

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	register_one(f->ctx, "Alice Casework", "alice@casework.example", f->alice);
	register_one(f->ctx, "Bob Casework", "bob@casework.example", f->bob);
	f->a = (cu_actor){f->alice, CU_ROLE_MEMBER, f->alice, NULL};
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

static void file_request(struct fx *f, cu_request_type type, char id[CU_ID_LEN + 1])
{
	cu_request_input in = {type, NULL, 0, NULL};
	char token[CU_REQUEST_TOKEN_LEN + 1];
	cu_request_row row;
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->a, f->alice, &in, T0, &row, token, &errs),
	                 CU_OK);
	memcpy(id, row.id, CU_ID_LEN + 1);
	cu_request_row_release(&row);
}

static void file_complaint(struct fx *f, char id[CU_ID_LEN + 1])
{
	cu_complaint_row row;
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->a, f->alice, "use", "Why was I called?", T0, &row, &errs),
	    CU_OK);
	memcpy(id, row.id, CU_ID_LEN + 1);
	cu_complaint_row_release(&row);
}

static cu_result close_member(struct fx *f, const char *member, const char *except, int64_t now,
                              uint64_t *nreq, uint64_t *ncompl)
{
	cu_result rc = cu_tx_begin(f->ctx);

	if (rc)
		return rc;
	rc = cu_case_close_member(f->ctx, &officer, member, except, now, nreq, ncompl);
	return cu_case_end(f->ctx, rc);
}

struct last_step {
	int n;
	cu_request_event_row last;
};

static int keep_last(void *ud, const cu_request_event_row *row)
{
	struct last_step *l = ud;

	l->n++;
	memcpy(l->last.state, row->state, sizeof(row->state));
	memcpy(l->last.note, row->note, sizeof(row->note));
	memcpy(l->last.actor, row->actor, sizeof(row->actor));
	memcpy(l->last.role, row->role, sizeof(row->role));
	l->last.time_us = row->time_us;
	return 0;
}

static void test_closing_on_erasure(void **state)
{
	struct fx *f = *state;
	char disclosure[CU_ID_LEN + 1], erasure[CU_ID_LEN + 1], answered[CU_ID_LEN + 1],
	    open[CU_ID_LEN + 1];
	const int64_t now = T0 + 3 * DAY;
	cu_request_decision decide = {CU_REQUEST_REJECT, NULL, "Not something we hold."};
	struct last_step steps = {0};
	uint64_t nreq = 99, ncompl = 99;
	cu_request_row req;
	cu_complaint_row c;
	cu_errors errs;

	file_request(f, CU_REQUEST_DISCLOSURE, disclosure);
	file_request(f, CU_REQUEST_ERASURE, erasure);
	file_complaint(f, answered);
	file_complaint(f, open);
	/* A decided request and a closed complaint are not closed again. */
	{
		char rejected[CU_ID_LEN + 1];

		file_request(f, CU_REQUEST_DISCLOSURE, rejected);
		cu_errors_init(&errs);
		assert_int_equal(cu_request_decide(f->ctx, &officer, rejected, &decide, T0 + DAY,
		                                   NULL, NULL, &errs),
		                 CU_OK);
	}
	cu_errors_init(&errs);
	assert_int_equal(cu_complaint_respond(f->ctx, &officer, answered, "We called to confirm.",
	                                      true, T0 + DAY, NULL, &errs),
	                 CU_OK);

	assert_int_equal(close_member(f, f->alice, erasure, now, &nreq, &ncompl), CU_OK);
	assert_int_equal(nreq, 1);   /* the disclosure; the erasure being carried out is left */
	assert_int_equal(ncompl, 1); /* the open complaint */

	assert_int_equal(cu_store_request_get(f->ctx->store, disclosure, &req), CU_OK);
	assert_string_equal(req.state, "closed");
	assert_true(req.decided_us == now && req.updated_us == now);
	assert_string_equal(req.decided_by, "privacy officer");
	cu_request_row_release(&req);
	assert_int_equal(cu_store_request_event_list(f->ctx->store, disclosure, keep_last, &steps),
	                 CU_OK);
	assert_int_equal(steps.n, 2); /* received, closed */
	assert_string_equal(steps.last.state, "closed");
	assert_string_equal(steps.last.note, CU_CASE_NOTE_ERASED);
	assert_string_equal(steps.last.actor, "privacy officer");
	assert_string_equal(steps.last.role, "officer");
	assert_true(steps.last.time_us == now);

	assert_int_equal(cu_store_request_get(f->ctx->store, erasure, &req), CU_OK);
	assert_string_equal(req.state, "received");
	cu_request_row_release(&req);

	assert_int_equal(cu_store_complaint_get(f->ctx->store, open, &c), CU_OK);
	assert_string_equal(c.state, "closed");
	assert_string_equal(c.note, CU_CASE_NOTE_ERASED);
	assert_string_equal(c.closed_by, "privacy officer");
	assert_true(c.closed_us == now);
	cu_complaint_row_release(&c);
	assert_int_equal(cu_store_complaint_get(f->ctx->store, answered, &c), CU_OK);
	assert_string_equal(c.note, "answered");
	assert_true(c.closed_us == T0 + DAY);
	cu_complaint_row_release(&c);

	/* Nothing is left open: a second pass closes nothing; another member is untouched. */
	assert_int_equal(close_member(f, f->alice, NULL, now + DAY, &nreq, &ncompl), CU_OK);
	assert_int_equal(nreq, 1); /* now the erasure request, no longer excepted */
	assert_int_equal(ncompl, 0);
	assert_int_equal(close_member(f, f->alice, NULL, now + DAY, &nreq, &ncompl), CU_OK);
	assert_int_equal(nreq, 0);
	assert_int_equal(ncompl, 0);
	assert_int_equal(close_member(f, f->bob, NULL, now, &nreq, &ncompl), CU_OK);
	assert_int_equal(nreq, 0);
	assert_int_equal(ncompl, 0);
	assert_int_equal(cu_case_close_member(f->ctx, &officer, NULL, NULL, now, &nreq, &ncompl),
	                 CU_ERR_INVALID_ARGUMENT);
}

static void test_reading_is_for_the_member_and_officers(void **state)
{
	struct fx *f = *state;
	const cu_actor bob = {f->bob, CU_ROLE_MEMBER, f->bob, NULL};
	cu_member_row m = {0};
	char id[CU_ID_LEN + 1];
	unsigned long long before;

	file_complaint(f, id);
	before = cu_test_audit_count(f->ctx);
	/* Another member and staff are told it does not exist, and nothing is audited. */
	assert_int_equal(cu_case_read(f->ctx, &bob, CU_CASE_COMPLAINT, id, f->alice, &m),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_case_read(f->ctx, &desk, CU_CASE_COMPLAINT, id, f->alice, &m),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	/* The member reads it, audited once, and gets their row. */
	assert_int_equal(cu_case_read(f->ctx, &f->a, CU_CASE_COMPLAINT, id, f->alice, &m), CU_OK);
	assert_string_equal(m.id, f->alice);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
	cu_member_row_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due_dates),
	    cmocka_unit_test(test_days_left_round_down),
	    cmocka_unit_test(test_overdue),
	    cmocka_unit_test(test_day_and_time),
	    cmocka_unit_test(test_open_states),
	    cmocka_unit_test(test_who),
	    cmocka_unit_test(test_history_grows),
	    cmocka_unit_test(test_json_key_order),
	    cmocka_unit_test_setup_teardown(test_closing_on_erasure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reading_is_for_the_member_and_officers, setup,
	                                    teardown),
	};

	assert_int_equal(cu_vault_global_init(), CU_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
