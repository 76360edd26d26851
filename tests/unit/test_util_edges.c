/*
 * test_util_edges.c — the edges of the small utilities (src/util/, and
 * signed_json and case_ref that build on them): dates and times refused for
 * each malformation, e-mail addresses refused for each rule, the atomic
 * writer's refusals and what it leaves behind, the bounded reader, the
 * result table off its end, troff escaping, justifications, case
 * references made of hidden or space characters, wiping JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/case_ref.h"
#include "support.h"
#include "util/date.h"
#include "util/email.h"
#include "util/file_atomic.h"
#include "util/file_read.h"
#include "util/json_wipe.h"
#include "util/result.h"
#include "util/text.h"
#include "vault/signed_json.h"
#include "vault/vault.h"

/* ---- dates and times ---------------------------------------------------- */

static void test_date_parse_refusals(void **state)
{
	static const char *const bad[] = {"",           "2024-1-01",  "2024/01/01", "2024-01-0x",
	                                  "1969-12-31", "2024-00-10", "2024-13-01", "2024-01-00",
	                                  "2024-01-32", "2023-02-29", "2100-02-29", "2024-04-31",
	                                  "20240101xx", "2024-01-011"};
	int64_t us = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cu_date_parse(bad[i], &us) != CU_ERR_INVALID_ARGUMENT)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(us, 7);
	assert_int_equal(cu_date_parse(NULL, &us), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_date_parse("2024-01-01", NULL), CU_ERR_INVALID_ARGUMENT);
	/* Leap days: every fourth year, not every hundredth, every four hundredth. */
	assert_int_equal(cu_date_parse("2024-02-29", &us), CU_OK);
	assert_int_equal(cu_date_parse("2000-02-29", &us), CU_OK);
	assert_int_equal(us, (int64_t)11016 * CU_DAY_US);
	assert_int_equal(cu_date_parse("1970-01-01", &us), CU_OK);
	assert_int_equal(us, 0);
	assert_int_equal(cu_date_parse("1970-03-01", &us), CU_OK);
	assert_int_equal(us, (int64_t)59 * CU_DAY_US);
}

static void test_date_and_time_format_edges(void **state)
{
	char day[CU_DATE_LEN + 1], t[CU_TIME_BYTES];

	(void)state;
	cu_date_format(0, day);
	assert_string_equal(day, "1970-01-01");
	/* A year that needs more than four digits cannot be a date here. */
	cu_date_format(INT64_MAX, day);
	assert_string_equal(day, "0000-00-00");
	cu_time_format(-1, t);
	assert_string_equal(t, "0000-00-00T00:00:00Z");
	cu_time_format(1500000, t);
	assert_string_equal(t, "1970-01-01T00:00:01.500000Z");
	cu_time_format(86400000000, t);
	assert_string_equal(t, "1970-01-02T00:00:00Z");
}

static void test_time_parse_refusals(void **state)
{
	static const char *const bad[] = {
	    "2024-01-0",
	    "2024-13-01T00:00:00Z",
	    "2024-01-01X00:00:00Z",
	    "2024-01-01T00:00Z",
	    "2024-01-01T00-00:00Z",
	    "2024-01-01T00:00-00Z",
	    "2024-01-01T0a:00:00Z",
	    "2024-01-01T24:00:00Z",
	    "2024-01-01T00:60:00Z",
	    "2024-01-01T00:00:60Z",
	    "2024-01-01T00:00:00.Z",
	    "2024-01-01T00:00:00.1234567890Z",
	    "2024-01-01T00:00:00+01:00",
	    "2024-01-01T00:00:00",
	    "2024-01-01T00:00:00Zjunk",
	};
	int64_t us = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cu_time_parse(bad[i], &us) != CU_ERR_INVALID_ARGUMENT)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(us, 7);
	assert_int_equal(cu_time_parse(NULL, &us), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_time_parse("2024-01-01", NULL), CU_ERR_INVALID_ARGUMENT);

	/* A date alone is its midnight; UTC in each spelling; fractions past six digits cut. */
	assert_int_equal(cu_time_parse("1970-01-02", &us), CU_OK);
	assert_int_equal(us, CU_DAY_US);
	assert_int_equal(cu_time_parse("1970-01-01t00:00:01z", &us), CU_OK);
	assert_int_equal(us, 1000000);
	assert_int_equal(cu_time_parse("1970-01-01T00:00:01+00:00", &us), CU_OK);
	assert_int_equal(us, 1000000);
	assert_int_equal(cu_time_parse("1970-01-01T00:00:01-00:00", &us), CU_OK);
	assert_int_equal(cu_time_parse("1970-01-01T00:01:00.123456789Z", &us), CU_OK);
	assert_int_equal(us, 60123456);
	assert_int_equal(cu_time_parse("1970-01-01T01:00:00.5Z", &us), CU_OK);
	assert_int_equal(us, 3600500000);
}

/* ---- e-mail -------------------------------------------------------------------- */

static void test_email_refusals(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "no-at.example.com",
	    "a@b@example.com",
	    "@example.com",
	    ".a@example.com",
	    "a.@example.com",
	    "a..b@example.com",
	    "a(b)@example.com",
	    "\xc3\xa9@example.com",
	    "a@-example.com",
	    "a@example-.com",
	    "a@exa_mple.com",
	    "a@example..com",
	    "a@example.com.",
	    "a@localhost",
	    "a@.example.com",
	    "a@\xc3\xa9xample.com",
	    "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
	};
	char out[CU_EMAIL_MAX + 1], tiny[8];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cu_email_normalise(bad[i], out, sizeof(out)) != CU_ERR_INVALID_FIELD)
			fail_msg("'%s' was accepted", bad[i]);
	/* Trimmed and lowered; the atext a local part may hold; inner hyphens. */
	assert_int_equal(
	    cu_email_normalise("  O'Brien+tag{1}@Mail-Host.Example.COM \t", out, sizeof(out)),
	    CU_OK);
	assert_string_equal(out, "o'brien+tag{1}@mail-host.example.com");
	/* No room for the answer is a refusal, not a cut address. */
	assert_int_equal(cu_email_normalise("a@example.com", tiny, sizeof(tiny)),
	                 CU_ERR_INVALID_FIELD);
}

/* ---- the atomic writer and the bounded reader ------------------------------------ */

static size_t files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_atomic_writer(void **state)
{
	char *dir = cu_test_tmpdir(), path[PATH_MAX], cwd[PATH_MAX], out[CU_FILE_PATH_MAX + 1];
	static char long_path[CU_FILE_PATH_MAX + 2];
	struct stat st;
	size_t len = 0;
	char *back;

	(void)state;
	cu_file_dir_of("name", out);
	assert_string_equal(out, ".");
	cu_file_dir_of("/name", out);
	assert_string_equal(out, "/");
	cu_file_dir_of("a/b/name", out);
	assert_string_equal(out, "a/b");

	assert_int_equal(cu_file_write_atomic(NULL, "x", 1), CU_ERR_INVALID_ARGUMENT);
	memset(long_path, 'a', sizeof(long_path) - 1);
	assert_int_equal(cu_file_write_atomic(long_path, "x", 1), CU_ERR_INVALID_ARGUMENT);
	/* No directory to write in. */
	snprintf(path, sizeof(path), "%s/none/f", dir);
	assert_int_equal(cu_file_write_atomic(path, "x", 1), CU_ERR_IO);
	/* A directory in the way of the rename: refused, and no temporary file left. */
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/d/inner", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(cu_file_write_atomic(path, "x", 1), CU_ERR_IO);
	assert_int_equal(files_in(dir), 1);
	/* Written whole, mode 0600, replacing what was there; relative to the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cu_file_write_atomic("f", "first", 5), CU_OK);
	assert_int_equal(cu_file_write_atomic("f", "second", 6), CU_OK);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	back = cu_file_read_bounded(path, 6, &len);
	assert_non_null(back);
	assert_int_equal(len, 6);
	assert_string_equal(back, "second");
	free(back);
	assert_int_equal(files_in(dir), 2);

	/* The reader: one byte over is too large; no room for max + 1 is out of memory. */
	errno = 0;
	assert_null(cu_file_read_bounded(path, 5, &len));
	assert_int_equal(errno, EFBIG);
	assert_null(cu_file_read_bounded(path, (size_t)-1, &len));
	assert_int_equal(errno, ENOMEM);
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_null(cu_file_read_bounded(path, 5, &len));
	assert_int_equal(errno, ENOENT);
	assert_null(cu_file_read_bounded(dir, 5, NULL));
	assert_int_equal(errno, EISDIR);
	assert_int_equal(len, 6); /* untouched by the failures */
	cu_test_rmdir(dir);
}

/* ---- results --------------------------------------------------------------------- */

static void test_result_table_off_its_end(void **state)
{
	cu_errors errs;

	(void)state;
	assert_string_equal(cu_strerror((cu_result)-1), "unknown error");
	assert_string_equal(cu_strerror(CU_RESULT_COUNT_), "unknown error");
	assert_string_equal(cu_result_code((cu_result)-1), "internal");
	assert_int_equal(cu_result_http(CU_RESULT_COUNT_ + 5), 500);

	cu_errors_add(NULL, "f", "required"); /* harmless */
	cu_errors_init(&errs);
	cu_errors_add(&errs, NULL, "required");
	assert_string_equal(errs.e[0].field, "");
	for (int i = 1; i < CU_ERRORS_MAX + 3; i++)
		cu_errors_add(&errs, "field", "malformed");
	assert_int_equal(errs.n, CU_ERRORS_MAX);
	assert_int_equal(errs.dropped, 3);
}

/* ---- text -------------------------------------------------------------------------- */

static char *troff(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cu_text_troff(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_troff_and_justification(void **state)
{
	char *t, just[2100];

	(void)state;
	t = troff(".TH at the start\n'quoted\nmid.dle a-b c\\d \xc3\xa9 \xff.");
	assert_string_equal(t, "\\&.TH at the start\n\\&'quoted\nmid.dle a\\-b c\\ed \\[u00E9] "
	                       "\\[uFFFD].");
	free(t);

	assert_false(cu_text_justification_ok(NULL));
	assert_false(cu_text_justification_ok("too short"));
	assert_true(cu_text_justification_ok("a reason of twenty b"));
	assert_true(cu_text_justification_ok("a reason\nover two lines"));
	assert_false(cu_text_justification_ok("a reason with a\ttab in it"));
	assert_false(cu_text_justification_ok("a reason with a\x7f in it"));
	memset(just, 'j', sizeof(just) - 1);
	just[sizeof(just) - 1] = '\0';
	assert_false(cu_text_justification_ok(just));
	just[2000] = '\0';
	assert_true(cu_text_justification_ok(just));
}

static void test_case_ref_hidden_and_blank(void **state)
{
	static const char *const blank[] = {
	    " ",
	    "\xc2\xa0",         /* U+00A0 */
	    "\xe1\x9a\x80",     /* U+1680 */
	    "\xe2\x80\x80 ",    /* U+2000 */
	    "\xe2\x80\x8a",     /* U+200A */
	    "\xe2\x80\xaf",     /* U+202F */
	    "\xe2\x81\x9f",     /* U+205F */
	    "\xe3\x80\x80\x20", /* U+3000 */
	};
	static const char *const hidden[] = {
	    "case\xe2\x80\x8b"
	    "1", /* U+200B zero width space */
	    "case\xe2\x80\x8f"
	    "1", /* U+200F */
	    "case\xe2\x80\xa8"
	    "1", /* U+2028 line separator */
	    "case\xe2\x80\xa9"
	    "1", /* U+2029 */
	    "case\xe2\x80\xae"
	    "1", /* U+202E right-to-left override */
	    "case\xe2\x81\xa6"
	    "1", /* U+2066 */
	    "case\xe2\x81\xa9"
	    "1", /* U+2069 */
	    "case\xef\xbb\xbf"
	    "1", /* U+FEFF */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++)
		if (!cu_case_ref_problem(blank[i]) ||
		    strcmp(cu_case_ref_problem(blank[i]), "blank"))
			fail_msg("blank case %zu not called blank", i);
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (!cu_case_ref_problem(hidden[i]) ||
		    strcmp(cu_case_ref_problem(hidden[i]), "malformed"))
			fail_msg("hidden case %zu not called malformed", i);
	assert_string_equal(cu_case_ref_problem(NULL), "required");
	assert_null(cu_case_ref_problem("case\xe2\x80\x90"
	                                "1")); /* U+2010, a hyphen: seen */
	assert_null(cu_case_ref_problem("\xe3\x80\x80"
	                                "CASE-7"));
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void test_json_wipe_and_signed_json(void **state)
{
	json_t *doc = json_pack("{s:s,s:[s,i,{s:s}],s:n}", "name", "Orla", "list", "secret", 7,
	                        "deep", "hidden", "none");
	const char *name_bytes, *list_bytes, *deep_bytes;
	cu_vault *v = NULL;
	char err[128], pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1], *out = (char *)1;
	uint32_t kid = 0;

	(void)state;
	assert_non_null(doc);
	name_bytes = json_string_value(json_object_get(doc, "name"));
	list_bytes = json_string_value(json_array_get(json_object_get(doc, "list"), 0));
	deep_bytes = json_string_value(
	    json_object_get(json_array_get(json_object_get(doc, "list"), 2), "deep"));
	cu_json_wipe(doc);
	assert_true(sodium_is_zero((const unsigned char *)name_bytes, 4));
	assert_true(sodium_is_zero((const unsigned char *)list_bytes, 6));
	assert_true(sodium_is_zero((const unsigned char *)deep_bytes, 6));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(doc, "list"), 1)), 7);
	cu_json_wipe(NULL);
	json_decref(doc);

	assert_int_equal(
	    cu_vault_open_text("3 "
	                       "000102030405060708090a0b0c0d0e0f101112131415161718191a1"
	                       "b1c1d1e1f\n",
	                       &v, err, sizeof(err)),
	    CU_OK);
	assert_int_equal(cu_signed_json_key(v, &kid, pkhex), CU_OK);
	assert_int_equal(kid, 3);
	assert_int_equal(strlen(pkhex), 64);
	assert_int_equal(cu_signed_json_key(NULL, &kid, pkhex), CU_ERR_INVALID_ARGUMENT);
	/* No body to sign, or no key to sign with: nothing handed out. */
	assert_int_equal(cu_signed_json_seal(v, "receipt", NULL, &out), CU_ERR_NOMEM);
	assert_null(out);
	doc = json_pack("{s:i}", "n", 1);
	out = (char *)1;
	assert_int_equal(cu_signed_json_seal(NULL, "receipt", doc, &out), CU_ERR_INVALID_ARGUMENT);
	assert_null(out);
	assert_int_equal(cu_signed_json_seal(v, "receipt", doc, &out), CU_OK);
	assert_non_null(strstr(out, "\"receipt\": {"));
	assert_non_null(strstr(out, "\"signature\": \""));
	free(out);
	json_decref(doc);
	cu_vault_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_date_parse_refusals),
	    cmocka_unit_test(test_date_and_time_format_edges),
	    cmocka_unit_test(test_time_parse_refusals),
	    cmocka_unit_test(test_email_refusals),
	    cmocka_unit_test(test_atomic_writer),
	    cmocka_unit_test(test_result_table_off_its_end),
	    cmocka_unit_test(test_troff_and_justification),
	    cmocka_unit_test(test_case_ref_hidden_and_blank),
	    cmocka_unit_test(test_json_wipe_and_signed_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
