/*
 * src/util/result.c — the one table of result codes: words, API code, HTTP status.
 */
#include "util/result.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *code;
	int http;
	const char *words;
} table[CU_RESULT_COUNT_] = {
    [CU_OK] = {"ok", 200, "success"},
    [CU_ERR_INTERNAL] = {"internal", 500, "internal error"},
    [CU_ERR_NOMEM] = {"out_of_memory", 503, "out of memory"},
    [CU_ERR_IO] = {"io_error", 500, "a file could not be read or written"},
    [CU_ERR_STORE] = {"store_error", 503, "the store failed"},
    [CU_ERR_CRYPTO] = {"crypto_error", 500, "a key could not be used"},
    [CU_ERR_INVALID_ARGUMENT] = {"invalid_argument", 400, "invalid argument"},
    [CU_ERR_INVALID_FIELD] = {"invalid_field", 422, "a field is missing or malformed"},
    [CU_ERR_NOT_FOUND] = {"not_found", 404, "not found"},
    [CU_ERR_CONFLICT] = {"conflict", 409, "already exists"},
    [CU_ERR_PURPOSE_UNKNOWN] = {"purpose_unknown", 400, "unknown purpose"},
    [CU_ERR_PURPOSE_NOT_ALLOWED] = {"purpose_not_allowed", 403, "the purpose does not allow this"},
    [CU_ERR_CONSENT_REQUIRED] = {"consent_required", 403, "the member's consent is required"},
    [CU_ERR_CASE_REQUIRED] = {"case_required", 403, "a case reference is required"},
    [CU_ERR_AGGREGATE_ONLY] = {"aggregate_only", 403, "the purpose allows aggregates only"},
    [CU_ERR_ERASED] = {"erased", 404, "the member was erased"},
    [CU_ERR_POLICY_INVALID] = {"policy_invalid", 422, "invalid policy"},
    [CU_ERR_AUDIT_BROKEN] = {"audit_broken", 409, "the audit chain is broken"},
    [CU_ERR_EXISTS] = {"exists", 409, "already exists; refusing to overwrite"},
    [CU_ERR_UNAUTHENTICATED] = {"unauthenticated", 401, "authentication required"},
    [CU_ERR_FORBIDDEN] = {"forbidden", 403, "forbidden"},
    [CU_ERR_TOO_LARGE] = {"too_large", 413, "too large"},
    [CU_ERR_UNSUPPORTED_MEDIA] = {"unsupported_media_type", 415, "unsupported media type"},
    [CU_ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405, "method not allowed"},
    [CU_ERR_RATE_LIMITED] = {"rate_limited", 429, "too many attempts; try again later"},
    [CU_ERR_CONFIG] = {"config_invalid", 500, "invalid configuration"},
    [CU_ERR_CASE_INVALID] = {"case_invalid", 400,
                             "the case reference is blank, too long or not one line of text"},
    [CU_ERR_DISCLOSURE_REFUSED] = {"disclosure_refused", 403,
                                   "disclosure was refused: the self-service export is suspended "
                                   "while the refusal stands"},
    [CU_ERR_INVALID_JSON] = {"invalid_json", 400, "the body is not a JSON object"},
    [CU_ERR_CSRF_REQUIRED] = {"csrf_required", 403,
                              "a cookie-authenticated change needs its CSRF token"},
    [CU_ERR_NOT_READY] = {"not_ready", 503, "not ready"},
    [CU_ERR_INVALID_FRAMING] = {"invalid_framing", 400,
                                "conflicting Content-Length or Transfer-Encoding headers"},
    [CU_ERR_TOO_MANY_PARAMETERS] = {"too_many_parameters", 414,
                                    "the query string has too many parameters"},
    [CU_ERR_PERSONAL_DATA_IN_URL] = {"personal_data_in_url", 400,
                                     "personal data never goes in a URL"},
    [CU_ERR_PURPOSE_REQUIRED] = {"purpose_required", 400, "every read names its purpose"},
    [CU_ERR_TOO_FEW_MEMBERS] = {"too_few_members", 403,
                                "the statistic rests on too few members to be released"},
    [CU_ERR_BUDGET_EXHAUSTED] = {"budget_exhausted", 403,
                                 "the privacy budget of this period would be exceeded"},
    [CU_ERR_NOISE_REQUIRED] = {"noise_required", 403,
                               "the policy releases statistics only with noise"},
};

static int valid(cu_result rc)
{
	return (int)rc >= 0 && rc < CU_RESULT_COUNT_ && table[rc].code;
}

const char *cu_strerror(cu_result rc)
{
	return valid(rc) ? table[rc].words : "unknown error";
}

const char *cu_result_code(cu_result rc)
{
	return valid(rc) ? table[rc].code : "internal";
}

int cu_result_http(cu_result rc)
{
	return valid(rc) ? table[rc].http : 500;
}

void cu_errors_init(cu_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
}

void cu_errors_add(cu_errors *errs, const char *field, const char *reason)
{
	if (!errs)
		return;
	if (errs->n == CU_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	snprintf(errs->e[errs->n].field, sizeof(errs->e[errs->n].field), "%s", field ? field : "");
	errs->e[errs->n].reason = reason;
	errs->n++;
}
