/*
 * test_keys_refusals.c — retiring a member key tree (domain/keys.h) is
 * refused while a retained backup needs it, while it is current, while a
 * member's data key is still wrapped under it, and for a tree the keyring
 * does not hold; each refusal says why and drops nothing.  After the rewrap
 * (erased members skipped, progress reported) the old tree goes, audited.
 * The reindex skips erased members too.
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

#include "domain/breach.h"
#include "domain/erasure.h"
#include "domain/keys.h"
#include "domain/members.h"
#include "support.h"
#include "vault/keyring.h"

#define MEMBERS 4

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

struct progress {
	unsigned calls;
	uint64_t last;
};

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct progress *p = ud;

	(void)total;
	p->calls++;
	p->last = done;
}

static bool holds_tree(cu_ctx *ctx, uint32_t tree)
{
	cu_keys_status st;

	assert_int_equal(cu_keys_status_get(ctx, &st), CU_OK);
	for (size_t i = 0; i < st.ntrees; i++)
		if (st.trees[i].id == tree)
			return true;
	return false;
}

static void test_retire_refusals(void **state)
{
	char *tmp, ids[MEMBERS][CU_ID_LEN + 1], err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	uint32_t old_tree, new_tree = 0, needed[1];
	struct progress p = {0};
	unsigned long long before;
	cu_keys_status st;
	uint64_t moved = 0, done = 0;

	(void)state;
	for (int i = 0; i < MEMBERS; i++) {
		char email[64], phone[32];
		cu_kv kv[] = {{"name", "Keyed Memberq"},
		              {"address", "10 Key Street"},
		              {"phone", phone},
		              {"email", email}};
		cu_errors errs;

		snprintf(email, sizeof(email), "keyed%d@example.org", i);
		snprintf(phone, sizeof(phone), "0366%06d", i);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, ids[i], &errs),
		                 CU_OK);
	}
	assert_int_equal(
	    cu_erasure_carry_out(ctx, &cu_test_operator, ids[0], NULL, cu_now_us(), NULL), CU_OK);
	old_tree = cu_keyring_current_tree(ring);
	/* A new current tree, the members not yet moved to it. */
	assert_int_equal(cu_keyring_add_tree(ring, &new_tree, err, sizeof(err)), CU_OK);
	assert_int_not_equal(new_tree, old_tree);
	assert_int_equal(cu_keys_status_get(ctx, &st), CU_OK);
	assert_int_equal(st.live, MEMBERS - 1);
	assert_int_equal(st.erased, 1);

	before = cu_test_audit_count(ctx);
	needed[0] = old_tree;
	err[0] = '\0';
	assert_int_equal(
	    cu_keys_retire_tree(ctx, &cu_test_operator, old_tree, needed, 1, err, sizeof(err)),
	    CU_ERR_CONFLICT);
	assert_non_null(strstr(err, "needed by a retained backup"));
	err[0] = '\0';
	assert_int_equal(
	    cu_keys_retire_tree(ctx, &cu_test_operator, new_tree, NULL, 0, err, sizeof(err)),
	    CU_ERR_CONFLICT);
	assert_non_null(strstr(err, "current one"));
	err[0] = '\0';
	assert_int_equal(
	    cu_keys_retire_tree(ctx, &cu_test_operator, old_tree, NULL, 0, err, sizeof(err)),
	    CU_ERR_CONFLICT);
	assert_non_null(strstr(err, "still wraps 3 members"));
	err[0] = '\0';
	assert_int_not_equal(
	    cu_keys_retire_tree(ctx, &cu_test_operator, new_tree + 100, NULL, 0, err, sizeof(err)),
	    CU_OK);
	assert_true(err[0] != '\0');
	/* Nothing dropped, nothing audited. */
	assert_true(holds_tree(ctx, old_tree));
	assert_true(holds_tree(ctx, new_tree));
	assert_int_equal(cu_test_audit_count(ctx), before);

	/* The rewrap moves the three live members, not the erased one. */
	assert_int_equal(cu_keys_rewrap(ctx, &cu_test_operator, on_progress, &p, &moved), CU_OK);
	assert_int_equal(moved, MEMBERS - 1);
	assert_true(p.calls >= 1);
	assert_int_equal(cu_keys_status_get(ctx, &st), CU_OK);
	assert_int_equal(st.nusage, 1);
	assert_int_equal(st.usage[0].key_id, new_tree);
	assert_int_equal(st.usage[0].members, MEMBERS - 1);
	/* A second rewrap has nothing to move. */
	assert_int_equal(cu_keys_rewrap(ctx, &cu_test_operator, NULL, NULL, &moved), CU_OK);
	assert_int_equal(moved, 0);

	/* Now the old tree goes, audited. */
	before = cu_test_audit_count(ctx);
	assert_int_equal(
	    cu_keys_retire_tree(ctx, &cu_test_operator, old_tree, NULL, 0, err, sizeof(err)),
	    CU_OK);
	assert_false(holds_tree(ctx, old_tree));
	assert_int_equal(cu_test_audit_count(ctx), before + 1);

	/* The reindex recomputes the live members' indexes only. */
	assert_int_equal(cu_keys_reindex(ctx, &cu_test_operator, NULL, NULL, &done), CU_OK);
	assert_int_equal(done, MEMBERS - 1);
	/* And a member is still found by e-mail afterwards. */
	{
		char id[CU_ID_LEN + 1];

		assert_int_equal(
		    cu_member_lookup(ctx->vault, ctx->store, "email", "keyed2@example.org", id),
		    CU_OK);
		assert_string_equal(id, ids[2]);
	}
	assert_int_equal(
	    cu_keys_rotate_tree(ctx, &cu_test_operator, NULL, NULL, NULL, NULL, err, sizeof(err)),
	    CU_ERR_INVALID_ARGUMENT);
	cu_test_ctx_free(ctx, tmp);
}

/*
 * After a master key rotation, before the reindex, the blind indexes are
 * still under the old key: an e-mail registered then is found under it, so
 * a second registration of it is a duplicate, and a lookup finds the member.
 */
static void test_duplicate_under_the_old_master_key(void **state)
{
	char *tmp, id[CU_ID_LEN + 1], again[CU_ID_LEN + 1], found[CU_ID_LEN + 1],
	    err[CU_ERR_MSG_MAX] = "", dir[4200];
	cu_kv kv[] = {{"name", "Rotated Memberq"},
	              {"address", "14 Key Street"},
	              {"phone", "0366123456"},
	              {"email", "rotated@example.org"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_errors errs;
	uint32_t key = 0;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, id, &errs), CU_OK);
	snprintf(dir, sizeof(dir), "%s", ctx->dir);
	cu_ctx_close(ctx);
	ctx = NULL;
	if (cu_keys_rotate_master(dir, &key, err, sizeof(err)))
		fail_msg("rotate: %s", err);
	assert_true(key > 1);
	if (cu_ctx_open(dir, &ctx, err, sizeof(err)))
		fail_msg("open: %s", err);

	assert_int_equal(
	    cu_member_lookup(ctx->vault, ctx->store, "email", "Rotated@Example.org", found), CU_OK);
	assert_string_equal(found, id);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, again, &errs),
	                 CU_ERR_CONFLICT);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.e[0].field, "email");
	assert_string_equal(errs.e[0].reason, "duplicate");
	/* An address nobody holds is not found under either key. */
	assert_int_equal(
	    cu_member_lookup(ctx->vault, ctx->store, "email", "nobody@example.org", found),
	    CU_ERR_NOT_FOUND);
	cu_test_ctx_free(ctx, tmp);
}

/* More members than a page: status, rewrap and reindex go page by page and miss none. */
static void test_pages_of_members(void **state)
{
	enum { MANY = 600 }; /* over the keys' pages (256) and the breach key scan's (512) */
	char *tmp, err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	struct progress p = {0};
	cu_keys_status st;
	uint64_t moved = 0, done = 0;
	uint32_t tree = 0;

	(void)state;
	for (int i = 0; i < MANY; i++) {
		char email[64], phone[32], id[CU_ID_LEN + 1];
		cu_kv kv[] = {{"name", "Paged Keyq"},
		              {"address", "16 Key Street"},
		              {"phone", phone},
		              {"email", email}};
		cu_errors errs;

		snprintf(email, sizeof(email), "pagedkey%d@example.org", i);
		snprintf(phone, sizeof(phone), "0377%06d", i);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, id, &errs), CU_OK);
	}
	assert_int_equal(cu_keys_status_get(ctx, &st), CU_OK);
	assert_int_equal(st.live, MANY);
	assert_int_equal(st.usage[0].members, MANY);
	assert_int_equal(cu_keys_rotate_tree(ctx, &cu_test_operator, &tree, on_progress, &p, &moved,
	                                     err, sizeof(err)),
	                 CU_OK);
	assert_int_equal(moved, MANY);
	assert_true(p.calls >= 3);
	assert_int_equal(p.last, MANY);
	assert_int_equal(cu_keyring_current_tree(ring), tree);
	assert_int_equal(cu_keys_reindex(ctx, &cu_test_operator, NULL, NULL, &done), CU_OK);
	assert_int_equal(done, MANY);
	/* A breach assessment of the new tree lists every member, across its pages. */
	{
		cu_breach_query q = {0, cu_now_us(), CU_BREACH_KEY, NULL, tree};
		json_t *rep = NULL;

		assert_int_equal(cu_breach_assess(ctx, &cu_test_operator, &q, &rep), CU_OK);
		assert_int_equal(json_array_size(json_object_get(rep, "members")), MANY);
		json_decref(rep);
	}
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retire_refusals),
	    cmocka_unit_test(test_duplicate_under_the_old_master_key),
	    cmocka_unit_test(test_pages_of_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
