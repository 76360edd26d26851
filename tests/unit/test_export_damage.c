/*
 * test_export_damage.c — the member's own export (domain/export.h) when
 * what it opens is damaged or large: more diary entries than one page (all
 * served, in pages); a diary entry whose sealed body was altered on disk
 * (listed as unreadable and named in `errors`, the rest served, the CSV
 * still made); the member's own sealed record altered (the export refused,
 * no document); an export asked for by someone else or in a format that is
 * not one.
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

#include "domain/diaries.h"
#include "domain/export.h"
#include "domain/members.h"
#include "support.h"

#define N(a)    (sizeof(a) / sizeof((a)[0]))
#define ENTRIES (CU_DIARY_PAGE_MAX + 5)

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char member[CU_ID_LEN + 1];
	cu_actor self;
	char first_entry[CU_ID_LEN + 1];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_kv kv[] = {{"name", "Damaged Exportq"},
	              {"address", "8 Export Row"},
	              {"phone", "+81312340088"},
	              {"email", "damaged@export.example"}};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, kv, N(kv), NULL, f->member, &errs),
	                 CU_OK);
	f->self = (cu_actor){f->member, CU_ROLE_MEMBER, f->member, NULL};
	for (int i = 0; i < ENTRIES; i++) {
		char title[32], id[CU_ID_LEN + 1];

		snprintf(title, sizeof(title), "Entry %03d", i);
		assert_int_equal(
		    cu_diary_write(f->ctx, &f->self, f->member, title, "Kept body text", id, &errs),
		    CU_OK);
		if (i == 0)
			snprintf(f->first_entry, sizeof(f->first_entry), "%s", id);
	}
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

/* Overwrites a sealed column of the row with id in the store with zeros, on a connection of its own. */
static void alter(struct fx *f, const char *table, const char *col, const char *id)
{
	char url[1024], sql[512];

	cu_test_ctx_store_url(f->ctx, url, sizeof(url));
	snprintf(sql, sizeof(sql), "UPDATE %s SET %s = zeroblob(length(%s)) WHERE id = '%s'", table,
	         col, col, id);
	assert_int_equal(cu_test_store_sql(url, sql), 1);
}

static void test_every_page_and_a_damaged_entry(void **state)
{
	struct fx *f = *state;
	json_t *doc = NULL, *diaries, *errors, *e;
	size_t i, unreadable = 0;
	char *csv = NULL;
	size_t len = 0;

	/* Whole: every entry, across pages, and no errors. */
	assert_int_equal(
	    cu_export_member(f->ctx, &f->self, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_OK);
	assert_int_equal(json_array_size(json_object_get(doc, "diaries")), ENTRIES);
	assert_int_equal(json_array_size(json_object_get(doc, "errors")), 0);
	cu_export_free(doc);
	doc = NULL;

	/* One entry's sealed body altered on disk. */
	alter(f, "diaries", "body", f->first_entry);
	assert_int_equal(
	    cu_export_member(f->ctx, &f->self, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_OK);
	diaries = json_object_get(doc, "diaries");
	errors = json_object_get(doc, "errors");
	assert_int_equal(json_array_size(diaries), ENTRIES);
	json_array_foreach(diaries, i, e)
	{
		if (json_is_true(json_object_get(e, "unreadable"))) {
			unreadable++;
			assert_string_equal(json_string_value(json_object_get(e, "id")),
			                    f->first_entry);
			assert_true(json_is_null(json_object_get(e, "body")));
		} else {
			assert_string_equal(json_string_value(json_object_get(e, "body")),
			                    "Kept body text");
		}
	}
	assert_int_equal(unreadable, 1);
	assert_int_equal(json_array_size(errors), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(errors, 0), "section")), "diaries");
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "id")),
	                    f->first_entry);
	/* The CSV of the same document is made too. */
	assert_int_equal(cu_export_csv(doc, &csv, &len), CU_OK);
	assert_non_null(strstr(csv, "unreadable"));
	free(csv);
	cu_export_free(doc);
}

static void test_damaged_record_refused(void **state)
{
	struct fx *f = *state;
	json_t *doc = (json_t *)1;

	alter(f, "members", "fields", f->member);
	assert_int_not_equal(
	    cu_export_member(f->ctx, &f->self, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_OK);
	assert_null(doc);
}

static void test_who_and_which_format(void **state)
{
	struct fx *f = *state;
	cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
	cu_actor other = {"AAAAAAAAAAAAAAAAAAAAAA", CU_ROLE_MEMBER, "AAAAAAAAAAAAAAAAAAAAAA", NULL};
	cu_export_format fmt;
	json_t *doc = NULL;

	assert_int_equal(
	    cu_export_member(f->ctx, &staff, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_ERR_FORBIDDEN);
	assert_null(doc);
	assert_int_equal(
	    cu_export_member(f->ctx, &other, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_ERR_FORBIDDEN);
	assert_null(doc);
	assert_int_equal(
	    cu_export_member(f->ctx, NULL, f->member, CU_EXPORT_JSON, cu_now_us(), &doc),
	    CU_ERR_FORBIDDEN);
	assert_int_equal(cu_export_format_parse("json", &fmt), CU_OK);
	assert_int_equal(fmt, CU_EXPORT_JSON);
	assert_int_equal(cu_export_format_parse("csv", &fmt), CU_OK);
	assert_int_equal(fmt, CU_EXPORT_CSV);
	assert_int_not_equal(cu_export_format_parse("xml", &fmt), CU_OK);
	assert_int_not_equal(cu_export_format_parse(NULL, &fmt), CU_OK);
	assert_string_equal(cu_export_format_name(CU_EXPORT_CSV), "csv");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_page_and_a_damaged_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_record_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_who_and_which_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
