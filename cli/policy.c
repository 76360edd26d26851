/*
 * cli/policy.c — the policy and what members agree to: `custodian policy
 * check|publish|versions`, `receipt verify` (consent receipts and erasure
 * certificates) and `consent set` (a choice made on paper).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/file_read.h"
#include "domain/consent.h"
#include "domain/requests.h"
#include "domain/versions.h"
#include "policy/policy.h"

/* The largest receipt or certificate file `receipt verify` reads. */
#define RECEIPT_FILE_MAX ((size_t)1 << 20)
/* Room for what is wrong with a receipt, and for a valid one's summary. */
#define RECEIPT_WHAT_MAX    256
#define RECEIPT_SUMMARY_MAX 300

enum { OPT_KIND = 'k', OPT_TARGET = 't', OPT_GRANTED = 'g' };

/* The one FILE of check, publish and verify; NULL after a usage error line. */
static const char *one_file(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *file = NULL;
	struct cu_cli_args a;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != CU_CLI_ARG || file || a.value[0] == '-')
			break;
		file = a.value;
	}
	if (c != CU_CLI_END || !file) {
		cu_cli_usage_error(cmd, "expected one FILE");
		return NULL;
	}
	return file;
}

/* ---- policy ------------------------------------------------------------------- */

static int check(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "";
	const char *file = one_file(cmd, argc, argv);
	cu_policy *p = NULL;
	cu_result rc;

	if (!file)
		return CU_CLI_EXIT_USAGE;
	rc = cu_policy_load_file(file, &p, err, sizeof(err));
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("policy '%s' ok: version %s, %zu fields, %zu purposes, %zu services\n", file,
	       p->version, p->nfields, p->npurposes, p->nservices);
	cu_policy_free(p);
	return 0;
}

static int publish(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "", *doc;
	const char *file = one_file(cmd, argc, argv);
	cu_policy *p = NULL;
	size_t len;
	cu_ctx *ctx;
	cu_result rc;

	if (!file)
		return CU_CLI_EXIT_USAGE;
	doc = cu_file_read_bounded(file, CU_POLICY_READ_MAX, &len);
	if (!doc) {
		cu_cli_error("cannot read '%s'", file);
		return CU_CLI_EXIT_NO;
	}
	ctx = cu_cli_open();
	if (!ctx) {
		free(doc);
		return CU_CLI_EXIT_NO;
	}
	rc = cu_versions_publish(ctx, &cu_cli_operator, doc, len, &p, err, sizeof(err));
	free(doc);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("published policy %s; a running server puts it in force on SIGHUP\n", p->version);
	cu_policy_free(p);
	return 0;
}

static int print_version(void *ud, const char *version, int64_t published_us, const char *by)
{
	char ts[CU_CLI_TIME_MAX];

	(void)ud;
	printf("%s\t%s\t%s\n", version, cu_cli_format_time(published_us, ts, sizeof(ts)), by);
	return 0;
}

static int versions(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	if (cu_cli_args_next(&a) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("VERSION\tPUBLISHED\tBY\n");
	rc = cu_versions_list(ctx->store, print_version, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("cannot list policy versions: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_command policy_commands[] = {
    {.name = "check",
     .run = check,
     .usage = "custodian policy check FILE",
     .help = "Validates a policy file; prints one line naming what is wrong, or a summary."},
    {.name = "publish",
     .run = publish,
     .usage = "custodian [--data DIR] policy publish FILE",
     .help = "Publishes FILE as a new policy version: validates it, refuses a version\n"
             "already published, keeps it in the store and replaces DIR's policy file.\n"
             "Members are held to the version they accepted until they accept this one\n"
             "or consent to its new purposes.  Audited."},
    {.name = "versions",
     .run = versions,
     .usage = "custodian [--data DIR] policy versions",
     .help = "Lists every published policy version, when and by whom."},
    {0},
};

const struct cu_cli_command cu_cli_policy = {
    .name = "policy",
    .usage = "custodian [--data DIR] policy (check|publish|versions) ...",
    .help = "Validates, publishes or lists policy versions.",
    .sub = policy_commands,
};

/* ---- receipt ------------------------------------------------------------------- */

/* A receipt as the API returns it may be wrapped: {"consent":..., "receipt":{...}}. */
static void unwrap_receipt(char **doc, size_t *len)
{
	json_t *j = json_loadb(*doc, *len, 0, NULL), *inner = json_object_get(j, "receipt");
	char *text = NULL;

	if (json_is_object(inner) && json_object_get(inner, "signature"))
		text = json_dumps(inner, 0);
	json_decref(j);
	if (text) {
		free(*doc);
		*doc = text;
		*len = strlen(text);
	}
}

static bool is_certificate(const char *doc, size_t len)
{
	json_t *j = json_loadb(doc, len, 0, NULL);
	bool certificate = json_is_object(json_object_get(j, "certificate"));

	json_decref(j);
	return certificate;
}

static int verify(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char what[RECEIPT_WHAT_MAX] = "", summary[RECEIPT_SUMMARY_MAX] = "", *doc,
	     err[CU_CLI_ERR_MAX] = "";
	static const char unchecked_key[] =
	    "; signature checked (no data directory to check the key against)";
	const char *file = one_file(cmd, argc, argv);
	cu_ctx *ctx = NULL;
	size_t len;
	cu_result rc;

	if (!file)
		return CU_CLI_EXIT_USAGE;
	doc = cu_file_read_bounded(file, RECEIPT_FILE_MAX, &len);
	if (!doc) {
		cu_cli_error("cannot read '%s'", file);
		return CU_CLI_EXIT_NO;
	}
	/* With a data directory, the key must also be this custodian's; without, only the
	 * signature. */
	if (cu_ctx_open(cu_cli_data_dir, &ctx, err, sizeof(err)) != CU_OK)
		ctx = NULL;
	unwrap_receipt(&doc, &len);
	/* An erasure certificate (requests.h) is signed the same way: checked here too. */
	if (is_certificate(doc, len)) {
		rc = cu_request_certificate_verify(doc, len, ctx ? ctx->vault : NULL, what,
		                                   sizeof(what));
		free(doc);
		if (rc) {
			cu_cli_error("certificate not valid: %s", what);
			cu_ctx_close(ctx);
			return CU_CLI_EXIT_NO;
		}
		printf("certificate valid: erasure%s\n",
		       ctx ? "; signed by this custodian" : unchecked_key);
		cu_ctx_close(ctx);
		return 0;
	}
	rc = cu_consent_receipt_verify(doc, len, ctx ? ctx->vault : NULL, what, sizeof(what),
	                               summary, sizeof(summary));
	free(doc);
	if (rc) {
		cu_cli_error("receipt not valid: %s", what);
		cu_ctx_close(ctx);
		return CU_CLI_EXIT_NO;
	}
	printf("receipt valid: consent %s%s\n", summary,
	       ctx ? "; signed by this custodian" : unchecked_key);
	cu_ctx_close(ctx);
	return 0;
}

static const struct cu_cli_command receipt_commands[] = {
    {.name = "verify",
     .run = verify,
     .usage = "custodian [--data DIR] receipt verify FILE",
     .help = "Checks a consent receipt: its Ed25519 signature over the receipt, and —\n"
             "when DIR is a data directory — that the key is this custodian's.  Exit 0\n"
             "and a summary when valid; exit 1 naming the problem otherwise.  An erasure\n"
             "certificate ({\"certificate\": ..., \"signature\": ...}) is checked the same way."},
    {0},
};

const struct cu_cli_command cu_cli_receipt = {
    .name = "receipt",
    .usage = "custodian [--data DIR] receipt verify FILE",
    .help = "Checks a signed consent receipt.",
    .sub = receipt_commands,
};

/* ---- consent ------------------------------------------------------------------- */

static const struct cu_cli_option set_options[] = {
    {"kind", "K", OPT_KIND, "purpose, third_party or cookie (required)"},
    {"target", "T", OPT_TARGET, "the purpose, third party or cookie category (required)"},
    {"granted", "yes|no", OPT_GRANTED, "granted or withdrawn (required)"},
    {0},
};

static int set(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *member = NULL, *kind_arg = NULL, *target = NULL, *granted_arg = NULL;
	char *receipt = NULL, words[CU_CLI_WORDS_MAX];
	cu_consent_row row = {0};
	struct cu_cli_args a;
	cu_consent_kind kind;
	bool granted;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_KIND)
			kind_arg = a.value;
		else if (c == OPT_TARGET)
			target = a.value;
		else if (c == OPT_GRANTED)
			granted_arg = a.value;
		else if (c == CU_CLI_ARG && !member)
			member = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!member || !kind_arg || !target || !granted_arg)
		return cu_cli_usage_error(cmd, "expected MEMBER, --kind, --target and --granted");
	if (cu_consent_kind_parse(kind_arg, &kind) != CU_OK) {
		cu_cli_error("unknown --kind '%s' (one of purpose, third_party, cookie)", kind_arg);
		return CU_CLI_EXIT_USAGE;
	}
	if (!strcmp(granted_arg, "yes")) {
		granted = true;
	} else if (!strcmp(granted_arg, "no")) {
		granted = false;
	} else {
		cu_cli_error("--granted must be yes or no");
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_consent_set(ctx, &cu_cli_operator, member, kind, target, granted, &row, &errs);
	if (!rc) {
		rc = cu_consent_receipt(ctx->store, ctx->vault, &row, &receipt);
		cu_ctx_close(ctx);
		if (rc) {
			cu_cli_error("consent %s recorded, but its receipt could not be made: %s",
			             row.id, cu_strerror(rc));
			return CU_CLI_EXIT_NO;
		}
		puts(receipt);
		free(receipt);
		return 0;
	}
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_errors_words(&errs, "", words, sizeof(words));
		cu_cli_error("consent refused: %s", words);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		return CU_CLI_EXIT_NO;
	}
	cu_cli_error("consent set failed: %s", cu_strerror(rc));
	return CU_CLI_EXIT_NO;
}

static const struct cu_cli_command consent_commands[] = {
    {.name = "set",
     .run = set,
     .usage = "custodian consent set MEMBER --kind purpose|third_party|cookie --target T "
              "--granted yes|no",
     .help = "Records a consent choice MEMBER made on paper (granted or withdrawn) for a\n"
             "purpose needing consent, a registered third party or a cookie category.\n"
             "Prints the signed receipt as JSON: give it to the member ('receipt verify'\n"
             "checks it).  Audited.",
     .options = set_options},
    {0},
};

const struct cu_cli_command cu_cli_consent = {
    .name = "consent",
    .usage = "custodian [--data DIR] consent set MEMBER ...",
    .help = "Record a consent choice made on paper.",
    .sub = consent_commands,
};
