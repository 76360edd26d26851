/*
 * test_config.c — custodian.conf: defaults, overrides, and refusals that
 * name the file and the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/config.h"
#include "support.h"

struct fixture {
	char *dir;
	char path[600];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = cu_test_tmpdir();
	assert_non_null(fx->dir);
	snprintf(fx->path, sizeof(fx->path), "%s/custodian.conf", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cu_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static void write_conf(const struct fixture *fx, const char *text)
{
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void assert_defaults(const cu_config *c)
{
	assert_string_equal(c->mode, "development");
	assert_string_equal(c->policy, "policy.json");
	assert_string_equal(c->store, "");
	assert_string_equal(c->listen, "127.0.0.1:8080");
	assert_int_equal(c->argon2_opslimit, 3);
	assert_int_equal(c->argon2_memlimit_kib, 65536);
	assert_int_equal(c->import_batch, 10000);
}

/*
 * Loads text over the defaults and expects CU_ERR_CONFIG with a message
 * naming the file and every string in `names` (NULL-terminated).
 */
static void expect_refused(const struct fixture *fx, const char *text, const char *const *names)
{
	cu_config c;
	char err[512] = "";

	write_conf(fx, text);
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_ERR_CONFIG);
	if (!strstr(err, fx->path))
		fail_msg("message does not name the file: '%s'", err);
	for (const char *const *n = names; *n; n++)
		if (!strstr(err, *n))
			fail_msg("message does not name '%s': '%s' (for: %s)", *n, err, text);
	assert_null(strchr(err, '\n'));
}

static void test_defaults(void **state)
{
	cu_config c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	cu_config_defaults(&c);
	assert_defaults(&c);
}

static void test_missing_file_keeps_defaults(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[256] = "";

	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_defaults(&c);
	assert_string_equal(err, "");
}

/* A config path that cannot be read is an error, not a silent fall-back to defaults. */
static void test_unreadable_file_refused(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[512] = "";

	assert_int_equal(mkdir(fx->path, 0700), 0);
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_ERR_CONFIG);
	assert_non_null(strstr(err, fx->path));
	assert_int_equal(rmdir(fx->path), 0);
}

static void test_valid_file_overrides(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[256] = "";

	write_conf(fx, "# a comment\n"
	               "[custodian]\n"
	               "mode = production\n"
	               "policy = /etc/custodian/policy.json\n"
	               "store = sqlite:/srv/custodian/db\n"
	               "\n"
	               "; another comment\n"
	               "[server]\n"
	               "listen = 0.0.0.0:9443\n"
	               "[security]\n"
	               "argon2_opslimit = 4\n"
	               "argon2_memlimit_kib = 131072\n"
	               "[import]\n"
	               "batch = 500\n");
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_string_equal(c.mode, "production");
	assert_string_equal(c.policy, "/etc/custodian/policy.json");
	assert_string_equal(c.store, "sqlite:/srv/custodian/db");
	assert_string_equal(c.listen, "0.0.0.0:9443");
	assert_int_equal(c.argon2_opslimit, 4);
	assert_int_equal(c.argon2_memlimit_kib, 131072);
	assert_int_equal(c.import_batch, 500);
}

static void test_partial_file_keeps_other_defaults(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[256] = "";

	write_conf(fx, "[import]\nbatch = 1\n");
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.import_batch, 1);
	c.import_batch = 10000;
	assert_defaults(&c);
}

static void test_bounds_are_inclusive(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[256] = "";

	write_conf(fx, "[security]\nargon2_opslimit = 64\nargon2_memlimit_kib = 8\n"
	               "[import]\nbatch = 1000000\n");
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.argon2_opslimit, 64);
	assert_int_equal(c.argon2_memlimit_kib, 8);
	assert_int_equal(c.import_batch, 1000000);
}

/* The file `custodian init` writes loads back to exactly the defaults. */
static void test_default_file_round_trips(void **state)
{
	struct fixture *fx = *state;
	cu_config c;
	char err[256] = "";
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	cu_config_write_default(f);
	assert_int_equal(fclose(f), 0);
	memset(&c, 0, sizeof(c));
	cu_config_defaults(&c);
	c.import_batch = 7; /* the file must set it back */
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_defaults(&c);
}

static void test_unknown_key(void **state)
{
	const char *const k1[] = {"custodian.mood", NULL};
	const char *const k2[] = {"nosuch.batch", NULL};
	const char *const k3[] = {"security.batch", NULL};

	expect_refused(*state, "[custodian]\nmood = development\n", k1);
	/* A known key in an unknown section, or in the wrong one. */
	expect_refused(*state, "[nosuch]\nbatch = 5\n", k2);
	expect_refused(*state, "[security]\nbatch = 5\n", k3);
}

static void test_not_a_number(void **state)
{
	const char *const k[] = {"import.batch", NULL};
	const char *const o[] = {"security.argon2_opslimit", NULL};

	expect_refused(*state, "[import]\nbatch = lots\n", k);
	expect_refused(*state, "[import]\nbatch = 12abc\n", k);
	expect_refused(*state, "[import]\nbatch = 0x10\n", k);
	expect_refused(*state, "[import]\nbatch = 1.5\n", k);
	expect_refused(*state, "[import]\nbatch =\n", k);
	expect_refused(*state, "[security]\nargon2_opslimit = three\n", o);
}

static void test_negative(void **state)
{
	const char *const k[] = {"import.batch", NULL};
	const char *const m[] = {"security.argon2_memlimit_kib", NULL};

	expect_refused(*state, "[import]\nbatch = -1\n", k);
	/* strtoull would wrap -5 to a huge positive value; it must not. */
	expect_refused(*state, "[security]\nargon2_memlimit_kib = -65536\n", m);
}

static void test_out_of_range(void **state)
{
	const char *const b[] = {"import.batch", NULL};
	const char *const o[] = {"security.argon2_opslimit", NULL};
	const char *const m[] = {"security.argon2_memlimit_kib", NULL};

	expect_refused(*state, "[import]\nbatch = 0\n", b);
	expect_refused(*state, "[import]\nbatch = 1000001\n", b);
	expect_refused(*state, "[security]\nargon2_opslimit = 0\n", o);
	expect_refused(*state, "[security]\nargon2_opslimit = 65\n", o);
	expect_refused(*state, "[security]\nargon2_memlimit_kib = 7\n", m);
	/* Larger than unsigned long long: refused, not wrapped. */
	expect_refused(*state, "[import]\nbatch = 99999999999999999999999\n", b);
}

static void test_string_too_long(void **state)
{
	const char *const k[] = {"server.listen", NULL};
	char text[400];

	snprintf(text, sizeof(text), "[server]\nlisten = %0200d\n", 7);
	expect_refused(*state, text, k);
}

static void test_bad_mode(void **state)
{
	const char *const k[] = {"custodian.mode", NULL};

	expect_refused(*state, "[custodian]\nmode = staging\n", k);
	expect_refused(*state, "[custodian]\nmode = Production\n", k);
	expect_refused(*state, "[custodian]\nmode =\n", k);
}

static void test_syntax_error(void **state)
{
	struct fixture *fx = *state;
	const char *const l3[] = {":3: syntax error", NULL};
	const char *const l1[] = {":1: syntax error", NULL};
	const char *const key[] = {"import.batch", NULL};

	expect_refused(fx, "[import]\nbatch = 5\nthis line has no equals sign\n", l3);
	/* The first error in the file is the one reported, not its consequences. */
	expect_refused(fx, "[import\nbatch = 5\n", l1);
	expect_refused(fx, "nonsense\n[custodian]\nmood = x\n", l1);
	expect_refused(fx, "[import]\nbatch = lots\nnonsense\n", key);
}

static void test_production_refuses_low_cost(void **state)
{
	struct fixture *fx = *state;
	const char *const o[] = {"production", "argon2_opslimit", NULL};
	const char *const m[] = {"production", "argon2_memlimit_kib", NULL};
	cu_config c;
	char err[256] = "";

	expect_refused(fx, "[custodian]\nmode = production\n[security]\nargon2_opslimit = 1\n", o);
	expect_refused(
	    fx, "[custodian]\nmode = production\n[security]\nargon2_memlimit_kib = 1024\n", m);
	/* The same cost is fine for development. */
	write_conf(fx, "[custodian]\nmode = development\n[security]\nargon2_opslimit = 1\n"
	               "argon2_memlimit_kib = 8\n");
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.argon2_opslimit, 1);
	/* And production with the defaults is fine. */
	write_conf(fx, "[custodian]\nmode = production\n");
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_string_equal(c.mode, "production");
}

static void test_describe_lists_every_key(void **state)
{
	struct fixture *fx = *state;
	static const char *const keys[] = {
	    "mode", "policy", "store", "listen", "argon2_opslimit", "argon2_memlimit_kib", "batch"};
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	cu_config_describe(f, CU_CONFIG_TEXT);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!cu_test_file_contains(fx->path, keys[i]))
			fail_msg("describe does not mention '%s'", keys[i]);
}

/* SIGHUP: only a setting marked reloadable may differ; the first other one is named. */
static void test_reload_check(void **state)
{
	cu_config live, fresh;
	char err[256] = "";

	(void)state;
	cu_config_defaults(&live);
	cu_config_defaults(&fresh);
	assert_int_equal(cu_config_reload_check(&live, &fresh, err, sizeof(err)), CU_OK);
	fresh.session_ttl_min = 5;
	assert_int_equal(cu_config_reload_check(&live, &fresh, err, sizeof(err)), CU_OK);
	fresh.threads = 3;
	assert_int_equal(cu_config_reload_check(&live, &fresh, err, sizeof(err)), CU_ERR_CONFIG);
	assert_non_null(strstr(err, "'server.threads' changes only at a restart"));
	cu_config_defaults(&fresh);
	snprintf(fresh.policy, sizeof(fresh.policy), "other.json");
	assert_int_equal(cu_config_reload_check(&live, &fresh, err, sizeof(err)), CU_ERR_CONFIG);
	assert_non_null(strstr(err, "'custodian.policy'"));
}

/*
 * Precedence: flag > environment > file > default, for each setting on its
 * own, from the one table.
 */
static void test_resolve_precedence(void **state)
{
	struct fixture *fx = *state;
	cu_config_flags flags = {0};
	cu_config c;
	char err[512] = "";

	write_conf(fx, "[server]\nthreads = 3\nhash_threads = 3\nmax_connections = 100\n"
	               "[notify]\nmode = off\n");
	/* File over default. */
	assert_int_equal(cu_config_resolve(fx->path, NULL, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.threads, 3);
	assert_int_equal(c.hash_threads, 3);
	assert_int_equal(c.max_connections, 100);
	assert_int_equal(c.request_timeout_s, 10); /* default */
	assert_string_equal(c.notify_mode, "off");

	/* Environment over file; flag over environment; the rest stays where it was. */
	setenv("CUSTODIAN_SERVER_THREADS", "5", 1);
	setenv("CUSTODIAN_SERVER_HASH_THREADS", "4", 1);
	setenv("CUSTODIAN_SERVER_REQUEST_TIMEOUT_SECONDS", "20", 1);
	setenv("CUSTODIAN_CUSTODIAN_STORE", "sqlite:/elsewhere/x.db", 1);
	assert_int_equal(cu_config_flags_add(&flags, "server.threads", "8"), CU_OK);
	assert_int_equal(cu_config_flags_add(&flags, "notify.mode", "files"), CU_OK);
	assert_int_equal(cu_config_flags_add(&flags, "server.listen", "127.0.0.1:1"), CU_OK);
	assert_int_equal(cu_config_flags_add(&flags, "server.listen", "127.0.0.1:9"), CU_OK);
	assert_int_equal(flags.n, 3); /* a repeated flag: the last counts */
	assert_int_equal(cu_config_resolve(fx->path, &flags, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.threads, 8);              /* flag > environment > file */
	assert_int_equal(c.hash_threads, 4);         /* environment > file */
	assert_int_equal(c.request_timeout_s, 20);   /* environment > default */
	assert_int_equal(c.max_connections, 100);    /* file */
	assert_string_equal(c.notify_mode, "files"); /* flag > file */
	assert_string_equal(c.listen, "127.0.0.1:9");
	assert_string_equal(c.store, "sqlite:/elsewhere/x.db");
	assert_int_equal(c.import_batch, 10000); /* default */

	/* cu_config_load is the file alone: no environment. */
	cu_config_defaults(&c);
	assert_int_equal(cu_config_load(fx->path, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.threads, 3);
	assert_int_equal(c.hash_threads, 3);
	unsetenv("CUSTODIAN_SERVER_THREADS");
	unsetenv("CUSTODIAN_SERVER_HASH_THREADS");
	unsetenv("CUSTODIAN_SERVER_REQUEST_TIMEOUT_SECONDS");
	unsetenv("CUSTODIAN_CUSTODIAN_STORE");

	/* No file at all: the environment and flags still apply over the defaults. */
	unlink(fx->path);
	assert_int_equal(cu_config_resolve(fx->path, &flags, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.hash_threads, 2);
}

/* Flags name settings of the table only; the names are derived from it. */
static void test_flags_and_names(void **state)
{
	cu_config_flags flags = {0};
	char env[CU_CONFIG_ENV_BYTES];

	(void)state;
	assert_true(cu_config_is_setting("server.listen"));
	assert_true(cu_config_is_setting("notify.smtp_url"));
	assert_false(cu_config_is_setting("server.thread"));
	assert_false(cu_config_is_setting("server"));
	assert_false(cu_config_is_setting("threads"));
	assert_false(cu_config_is_setting(".threads"));
	assert_int_equal(cu_config_flags_add(&flags, "server.nope", "1"), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(flags.n, 0);
	cu_config_env_name("server.listen", env, sizeof(env));
	assert_string_equal(env, "CUSTODIAN_SERVER_LISTEN");
	cu_config_env_name("security.argon2_memlimit_kib", env, sizeof(env));
	assert_string_equal(env, "CUSTODIAN_SECURITY_ARGON2_MEMLIMIT_KIB");
	cu_config_env_name("nope.nope", env, sizeof(env));
	assert_string_equal(env, "");
}

/* Resolves and expects one line naming `source` and `key`, and never the value. */
static void expect_source(const char *path, const cu_config_flags *flags, const char *source,
                          const char *key, const char *value)
{
	cu_config c;
	char err[512] = "";

	assert_int_equal(cu_config_resolve(path, flags, &c, err, sizeof(err)), CU_ERR_CONFIG);
	if (!strstr(err, source) || !strstr(err, key))
		fail_msg("'%s' does not name %s and %s", err, source, key);
	if (value && strstr(err, value))
		fail_msg("'%s' shows the value", err);
	assert_null(strchr(err, '\n'));
}

/* A bad value from any source: refused, naming the source and the key, not the value. */
static void test_resolve_bad_values_name_their_source(void **state)
{
	struct fixture *fx = *state;
	cu_config_flags flags = {0};

	write_conf(fx, "[server]\nthreads = 3\n");
	setenv("CUSTODIAN_SERVER_THREADS", "lots", 1);
	expect_source(fx->path, NULL, "environment variable CUSTODIAN_SERVER_THREADS",
	              "'server.threads'", "lots");
	/* A good flag over a bad environment value: the environment is still refused. */
	assert_int_equal(cu_config_flags_add(&flags, "server.threads", "8"), CU_OK);
	expect_source(fx->path, &flags, "environment variable CUSTODIAN_SERVER_THREADS",
	              "'server.threads'", NULL);
	unsetenv("CUSTODIAN_SERVER_THREADS");

	flags.n = 0;
	assert_int_equal(cu_config_flags_add(&flags, "server.threads", "65"), CU_OK);
	expect_source(fx->path, &flags, "flag --server.threads", "out of range 1..64", NULL);

	flags.n = 0;
	assert_int_equal(cu_config_flags_add(&flags, "notify.mode", "carrier-pigeon"), CU_OK);
	expect_source(fx->path, &flags, "flag --notify.mode", "'notify.mode'", "carrier-pigeon");

	flags.n = 0;
	setenv("CUSTODIAN_NOTIFY_SMTP_URL", "http://user:secret@mail", 1);
	expect_source(fx->path, NULL, "environment variable CUSTODIAN_NOTIFY_SMTP_URL",
	              "'notify.smtp_url'", "secret");
	unsetenv("CUSTODIAN_NOTIFY_SMTP_URL");

	/* Cross checks name the source of the setting they refuse. */
	setenv("CUSTODIAN_CUSTODIAN_MODE", "staging", 1);
	expect_source(fx->path, NULL, "environment variable CUSTODIAN_CUSTODIAN_MODE",
	              "'custodian.mode'", "staging");
	unsetenv("CUSTODIAN_CUSTODIAN_MODE");
	write_conf(fx, "[custodian]\nmode = production\n[security]\nargon2_opslimit = 1\n");
	expect_source(fx->path, NULL, fx->path, "argon2_opslimit", NULL);
	write_conf(fx, "[custodian]\nmode = production\n");
	assert_int_equal(cu_config_flags_add(&flags, "security.argon2_opslimit", "1"), CU_OK);
	expect_source(fx->path, &flags, "flag --security.argon2_opslimit", "argon2_opslimit", NULL);
	flags.n = 0;
	write_conf(fx, "[requests]\nhard_days = 20\n");
	assert_int_equal(cu_config_flags_add(&flags, "requests.target_days", "25"), CU_OK);
	expect_source(fx->path, &flags, "flag --requests.target_days", "'requests.target_days'",
	              NULL);
	flags.n = 0;
	setenv("CUSTODIAN_REQUESTS_HARD_DAYS", "7", 1);
	expect_source(fx->path, NULL, "environment variable CUSTODIAN_REQUESTS_HARD_DAYS",
	              "'requests.target_days'", NULL);
	unsetenv("CUSTODIAN_REQUESTS_HARD_DAYS");

	/* The file's own errors still name the file. */
	write_conf(fx, "[server]\nthreads = 0\n");
	expect_source(fx->path, NULL, fx->path, "'server.threads'", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test_setup_teardown(test_resolve_precedence, setup, teardown),
	    cmocka_unit_test(test_flags_and_names),
	    cmocka_unit_test_setup_teardown(test_resolve_bad_values_name_their_source, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file_keeps_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_file_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_valid_file_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_file_keeps_other_defaults, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bounds_are_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_file_round_trips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_number, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_negative, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_string_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_production_refuses_low_cost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_describe_lists_every_key, setup, teardown),
	    cmocka_unit_test(test_reload_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
