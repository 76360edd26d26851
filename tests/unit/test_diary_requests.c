/*
 * test_diary_requests.c — diary reads (access/access.h) refused for the shape
 * of the request itself: an overlong actor name, purpose or member, a
 * `before` that is empty or longer than an id, a page larger than the
 * largest, a request missing its member or purpose; and the lower-level
 * calls given nothing.  Each refusal opens nothing; the decided ones are
 * audited as denials.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "domain/diaries.h"
#include "domain/members.h"
#include "domain/subcontractors.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

static void test_requests_refused_by_shape(void **state)
{
	char *tmp, member[CU_ID_LEN + 1], entry[CU_ID_LEN + 1], longname[CU_ACTOR_MAX + 8],
	    longword[80], longid[CU_ID_LEN + 4];
	cu_kv kv[] = {{"name", "Diary Shapeq"},
	              {"address", "11 Diary Close"},
	              {"phone", "+81312340011"},
	              {"email", "shape@diary.example"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_actor self, longactor;
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, member, &errs), CU_OK);
	self = (cu_actor){member, CU_ROLE_MEMBER, member, NULL};
	assert_int_equal(cu_diary_write(ctx, &self, member, "Shape", "Body", entry, &errs), CU_OK);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longword, 'p', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	longactor = (cu_actor){longname, CU_ROLE_MEMBER, member, NULL};

	{
		struct {
			cu_diary_request req;
			cu_result want;
		} cases[] = {
		    {{&longactor, "self", member, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, longword, member, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, "self", longword, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, "self", member, NULL, "", 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, "self", member, NULL, longid, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, "self", member, NULL, NULL, CU_DIARY_PAGE_MAX + 1},
		     CU_ERR_INVALID_ARGUMENT},
		    {{&self, NULL, member, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{&self, "self", NULL, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		    {{NULL, "self", member, NULL, NULL, 0}, CU_ERR_INVALID_ARGUMENT},
		};

		for (size_t i = 0; i < N(cases); i++) {
			cu_diary_decision d;
			cu_diary_list out;
			cu_result rc;

			cu_diary_list_init(&out);
			rc = cu_access_read_diaries(ctx, &cases[i].req, &d, &out);
			if (rc != cases[i].want)
				fail_msg("case %zu: %d", i, (int)rc);
			assert_int_equal(out.n, 0);
			assert_string_equal(d.decision, "deny");
			cu_diary_list_wipe(&out);
		}
	}
	/* The same request, well formed, is served. */
	{
		cu_diary_request req = {&self, "self", member, NULL, NULL, 0};
		cu_diary_decision d;
		cu_diary_list out;

		cu_diary_list_init(&out);
		assert_int_equal(cu_access_read_diaries(ctx, &req, &d, &out), CU_OK);
		assert_int_equal(out.n, 1);
		cu_diary_list_wipe(&out);
		/* Nothing to read with. */
		assert_int_equal(cu_access_read_diaries(NULL, &req, &d, &out),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_access_read_diaries(ctx, NULL, &d, &out),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_access_diaries_open(NULL, ctx->store, NULL, &req, &out),
		                 CU_ERR_INVALID_ARGUMENT);
	}
	cu_diary_list_wipe(NULL);
	cu_test_ctx_free(ctx, tmp);
}

/* A subcontractor reads diaries only within its contract, and never without one. */
static void test_subcontractor_outside_its_contract(void **state)
{
	const char *fields[] = {"email"}, *purposes[] = {"product_news"};
	const char *measures[] = {"encryption at rest"};
	cu_subcontractor_input in = {
	    "cc", "Call Centre KK", "sec@cc.example", fields, 1, purposes, 1, measures,
	    1,    "2026-01-01",     "2999-12-31"};
	static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};
	char *tmp, member[CU_ID_LEN + 1];
	cu_kv kv[] = {{"name", "Diary Contractq"},
	              {"address", "20 Diary Close"},
	              {"phone", "+81312340020"},
	              {"email", "contract@diary.example"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_actor bound = {"cc desk", CU_ROLE_SUBCONTRACTOR, NULL, "cc"};
	cu_actor unbound = {"cc desk", CU_ROLE_SUBCONTRACTOR, NULL, NULL};
	cu_actor unknown = {"cc desk", CU_ROLE_SUBCONTRACTOR, NULL, "nobody"};
	const cu_actor *who[] = {&bound, &unbound, &unknown};
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, member, &errs), CU_OK);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &in, NULL, &errs), CU_OK);
	for (size_t i = 0; i < N(who); i++) {
		cu_diary_request req = {who[i], "support", member, "C-2026-0001", NULL, 0};
		cu_diary_decision d;
		cu_diary_list out;

		cu_diary_list_init(&out);
		assert_int_not_equal(cu_access_read_diaries(ctx, &req, &d, &out), CU_OK);
		assert_string_equal(d.decision, "deny");
		assert_int_equal(out.n, 0);
		if (i == 0) {
			assert_int_equal(d.rc, CU_ERR_PURPOSE_NOT_ALLOWED);
			assert_string_equal(d.reason, "purpose outside the subcontract");
		}
		cu_diary_list_wipe(&out);
	}
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_refused_by_shape),
	    cmocka_unit_test(test_subcontractor_outside_its_contract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
