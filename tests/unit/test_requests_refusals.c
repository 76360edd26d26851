/*
 * test_requests_refusals.c — requests refused on the grounds test_requests.c
 * does not walk: a ground given for an action that is not a refusal, an
 * action or a type that is not one, missing arguments, a lift of a request
 * that is not refused and of a refusal whose ground does not suspend the
 * export, a decision on a closed request, filing with changes where none
 * belong or a note that is not text, a certificate asked for with a wrong
 * token.  Each refusal leaves the request as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/members.h"
#include "domain/requests.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0   1767225600000000LL /* 2026-01-01 */
#define DAY  (86400LL * 1000000LL)

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char member[CU_ID_LEN + 1];
	cu_actor self;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_kv kv[] = {{"name", "Refuso Askerq"},
	              {"address", "6 Request Row"},
	              {"phone", "+81312340077"},
	              {"email", "refuso@requests.example"}};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, kv, N(kv), NULL, f->member, &errs),
	                 CU_OK);
	f->self = (cu_actor){f->member, CU_ROLE_MEMBER, f->member, NULL};
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

static void file(struct fx *f, cu_request_type type, cu_request_row *out,
                 char token[CU_REQUEST_TOKEN_LEN + 1])
{
	cu_request_input in = {type, NULL, 0, NULL};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, out, token, &errs),
	                 CU_OK);
}

static cu_result decide(struct fx *f, const char *id, int action, const char *ground,
                        const char *reasons, cu_errors *errs)
{
	cu_request_decision dec = {(cu_request_action)action, ground, reasons};
	cu_request_row row;
	cu_result rc;

	cu_errors_init(errs);
	rc = cu_request_decide(f->ctx, &officer, id, &dec, T0 + DAY, &row, NULL, errs);
	cu_request_row_release(&row);
	return rc;
}

static const char *state_of(struct fx *f, const char *id, char out[64])
{
	cu_request_row row;

	assert_int_equal(cu_store_request_get(f->ctx->store, id, &row), CU_OK);
	snprintf(out, 64, "%s", row.state);
	cu_request_row_release(&row);
	return out;
}

static void test_decisions_refused(void **state)
{
	struct fx *f = *state;
	cu_request_row d, e;
	cu_errors errs;
	char st[64];

	file(f, CU_REQUEST_DISCLOSURE, &d, NULL);
	file(f, CU_REQUEST_ERASURE, &e, NULL);

	/* A ground is for a refusal only. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_APPLY, "breach_of_law", NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "ground");
	assert_string_equal(errs.e[0].reason, "not_allowed");
	/* Not an action; no such request; missing arguments. */
	assert_int_equal(decide(f, d.id, 99, NULL, NULL, &errs), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(decide(f, d.id, -1, NULL, NULL, &errs), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(decide(f, "AAAAAAAAAAAAAAAAAAAAAA", CU_REQUEST_APPLY, NULL, NULL, &errs),
	                 CU_ERR_NOT_FOUND);
	{
		cu_request_decision dec = {CU_REQUEST_APPLY, NULL, NULL};

		assert_int_equal(
		    cu_request_decide(f->ctx, &officer, NULL, &dec, T0, NULL, NULL, &errs),
		    CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(
		    cu_request_decide(f->ctx, &officer, d.id, NULL, T0, NULL, NULL, &errs),
		    CU_ERR_INVALID_ARGUMENT);
		/* A member does not decide their own request. */
		assert_int_equal(
		    cu_request_decide(f->ctx, &f->self, d.id, &dec, T0, NULL, NULL, &errs),
		    CU_ERR_FORBIDDEN);
	}
	/* Reasons that are not text. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_REFUSE, "breach_of_law", "bad\x01text", &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "reasons");
	/* A lift of a request nobody refused. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_LIFT, NULL, NULL, &errs), CU_ERR_CONFLICT);
	assert_int_equal(decide(f, e.id, CU_REQUEST_LIFT, NULL, NULL, &errs), CU_ERR_CONFLICT);
	assert_string_equal(state_of(f, d.id, st), "received");
	assert_string_equal(state_of(f, e.id, st), "received");

	/* Refused on ground 2, which does not suspend the export: nothing to lift. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_REFUSE, "business_interference",
	                        "It would stop the desk for a month", &errs),
	                 CU_OK);
	assert_int_equal(decide(f, d.id, CU_REQUEST_LIFT, NULL, NULL, &errs), CU_ERR_CONFLICT);
	assert_string_equal(state_of(f, d.id, st), "refused");
	/* And no standing refusal suspends the member's export. */
	assert_int_equal(cu_request_refusal_standing(f->ctx->store, f->member, NULL),
	                 CU_ERR_NOT_FOUND);
	/* Closed: every further decision is a conflict. */
	assert_int_equal(decide(f, d.id, CU_REQUEST_INVESTIGATE, NULL, NULL, &errs),
	                 CU_ERR_CONFLICT);
	assert_int_equal(decide(f, d.id, CU_REQUEST_REJECT, NULL, "Too late", &errs),
	                 CU_ERR_CONFLICT);
	assert_int_equal(cu_request_refusal_standing(f->ctx->store, NULL, NULL),
	                 CU_ERR_INVALID_ARGUMENT);
	cu_request_row_release(&d);
	cu_request_row_release(&e);
}

/* Counts a member's requests. */
static int count_rows(void *ud, const cu_request_row *row)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

static void test_filing_refused(void **state)
{
	struct fx *f = *state;
	const cu_kv change[] = {{"name", "Other Nameq"}};
	unsigned long long before = cu_test_audit_count(f->ctx);
	cu_request_input in = {CU_REQUEST_ERASURE, change, 1, NULL};
	char token[CU_REQUEST_TOKEN_LEN + 1];
	cu_request_row row;
	cu_errors errs;

	/* Changes belong to an amendment only. */
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "changes");
	assert_string_equal(errs.e[0].reason, "not_allowed");
	/* A note that is not text. */
	in = (cu_request_input){CU_REQUEST_DISCLOSURE, NULL, 0, "a\x02note"};
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "note");
	/* An amendment without a reason. */
	in = (cu_request_input){CU_REQUEST_AMENDMENT, change, 1, NULL};
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "reason");
	/* Not a type; no member; no input. */
	in = (cu_request_input){(cu_request_type)7, NULL, 0, NULL};
	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_request_file(f->ctx, &f->self, NULL, &in, T0, &row, token, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, NULL, T0, &row, token, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Nothing was filed. */
	{
		int n = 0;

		assert_int_equal(
		    cu_request_list_member(f->ctx->store, &f->self, f->member, count_rows, &n),
		    CU_OK);
		assert_int_equal(n, 0);
	}
	/* Input errors are not audited. */
	assert_int_equal(cu_test_audit_count(f->ctx), before);
}

static void test_certificate_by_token(void **state)
{
	struct fx *f = *state;
	char token[CU_REQUEST_TOKEN_LEN + 1], wrong[CU_REQUEST_TOKEN_LEN + 1], *json = NULL;
	cu_request_row e;
	cu_errors errs;
	int n = 0;

	file(f, CU_REQUEST_ERASURE, &e, token);
	assert_int_equal(strlen(token), CU_REQUEST_TOKEN_LEN);
	/* Not yet carried out: no certificate, even with the right token. */
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, e.id, token, &json),
	                 CU_ERR_NOT_FOUND);
	assert_null(json);
	assert_int_equal(cu_request_list(f->ctx->store, &officer, false, T0, count_rows, &n),
	                 CU_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(decide(f, e.id, CU_REQUEST_APPLY, NULL, NULL, &errs), CU_OK);
	/* A wrong token, a short one, none, an unknown id: all the same answer. */
	snprintf(wrong, sizeof(wrong), "%s", token);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, e.id, wrong, &json),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, e.id, "short", &json),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, e.id, NULL, &json),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(
	    cu_request_certificate(f->ctx->store, NULL, "AAAAAAAAAAAAAAAAAAAAAA", token, &json),
	    CU_ERR_UNAUTHENTICATED);
	assert_null(json);
	/* The right one. */
	assert_int_equal(cu_request_certificate(f->ctx->store, NULL, e.id, token, &json), CU_OK);
	assert_non_null(json);
	free(json);
	json = NULL;
	/* Carried out, it has left the officer's list of open requests. */
	assert_int_equal(cu_request_list(f->ctx->store, &officer, false, T0, count_rows, &n),
	                 CU_OK);
	assert_int_equal(n, 0);
	cu_request_row_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_decisions_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filing_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certificate_by_token, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
