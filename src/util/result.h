/*
 * src/util/result.h — one result code for the whole library.
 *
 * Every function that can fail returns a cu_result.  CU_OK is zero, so
 * `if (rc) goto out;` reads naturally.  The numbers never move: a retired
 * code stays as a placeholder so that logs and clients keep their meaning.
 *
 * Each code has three faces, all from one table in src/util/result.c:
 *   cu_strerror()         words for a person ("a field is missing or malformed")
 *   cu_result_code()      a stable machine string for the API ("invalid_field")
 *   cu_result_http()      the HTTP status the API answers with (422)
 *
 * Input errors carry field-level detail in a cu_errors list: the field's
 * name and a short reason code, never the offending value (it may be
 * personal data).  The library never prints and never exits.
 */
#ifndef CUSTODIAN_RESULT_H
#define CUSTODIAN_RESULT_H

#include <stddef.h>

#if defined(__GNUC__)
#define CU_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CU_WARN_UNUSED
#endif

typedef enum cu_result {
	CU_OK = 0,                       /* success */
	CU_ERR_INTERNAL = 1,             /* a bug or an unexpected library failure */
	CU_ERR_NOMEM = 2,                /* out of memory */
	CU_ERR_IO = 3,                   /* a file could not be read or written */
	CU_ERR_STORE = 4,                /* the database failed */
	CU_ERR_CRYPTO = 5,               /* a key could not be used, or a seal failed */
	CU_ERR_INVALID_ARGUMENT = 6,     /* a malformed argument (CLI, query, body) */
	CU_ERR_INVALID_FIELD = 7,        /* field-level input errors; see cu_errors */
	CU_ERR_NOT_FOUND = 8,            /* no such member, purpose, service, ... */
	CU_ERR_CONFLICT = 9,             /* duplicate (e.g. an e-mail already registered) */
	CU_ERR_PURPOSE_UNKNOWN = 10,     /* the purpose is not in the policy */
	CU_ERR_PURPOSE_NOT_ALLOWED = 11, /* this role may not use this purpose */
	CU_ERR_CONSENT_REQUIRED = 12,    /* the use needs the member's consent */
	CU_ERR_CASE_REQUIRED = 13,       /* the purpose needs a case reference */
	CU_ERR_AGGREGATE_ONLY = 14,      /* the purpose sees aggregates, not members */
	CU_ERR_ERASED = 15,              /* the member was erased (crypto-shredded) */
	CU_ERR_POLICY_INVALID = 16,      /* a policy file failed validation */
	CU_ERR_AUDIT_BROKEN = 17,        /* the audit chain does not verify */
	CU_ERR_EXISTS = 18,              /* refusing to overwrite (e.g. init on a used dir) */
	CU_ERR_UNAUTHENTICATED = 19,     /* no or bad credentials */
	CU_ERR_FORBIDDEN = 20,           /* authenticated, but not allowed */
	CU_ERR_TOO_LARGE = 21,           /* a body or value over its limit */
	CU_ERR_UNSUPPORTED_MEDIA = 22,   /* wrong Content-Type */
	CU_ERR_METHOD_NOT_ALLOWED = 23,
	CU_ERR_RATE_LIMITED = 24, /* too many attempts; try later */
	CU_ERR_CONFIG = 25,       /* a configuration file failed validation */
	CU_ERR_CASE_INVALID = 26, /* a case reference given, not well-formed (access.h) */
	/* a standing refusal of a disclosure suspends the member's self-service export (requests.h) */
	CU_ERR_DISCLOSURE_REFUSED = 27,
	CU_ERR_INVALID_JSON = 28,    /* a request body that is not one JSON object */
	CU_ERR_CSRF_REQUIRED = 29,   /* a cookie-authenticated change without its CSRF token */
	CU_ERR_NOT_READY = 30,       /* the server cannot serve yet (or any more): /readyz */
	CU_ERR_INVALID_FRAMING = 31, /* conflicting Content-Length / Transfer-Encoding headers */
	CU_ERR_TOO_MANY_PARAMETERS = 32, /* a query string over CU_QUERY_PARAMS_MAX parameters */
	CU_ERR_PERSONAL_DATA_IN_URL =
	    33,                       /* personal data asked for in a URL, never accepted there */
	CU_ERR_PURPOSE_REQUIRED = 34, /* a read through the door names no purpose */
	CU_ERR_TOO_FEW_MEMBERS = 35,  /* a statistic's population is below k (statistics.h) */
	CU_ERR_BUDGET_EXHAUSTED = 36, /* a release would spend more ε than the period has left */
	CU_ERR_NOISE_REQUIRED = 37,   /* a statistic without noise where the policy needs it */
	CU_RESULT_COUNT_              /* not a code: the size of the table */
} cu_result;

/* Words for a person; never NULL, never contains personal data. */
const char *cu_strerror(cu_result rc);

/* Stable machine code for the API, e.g. "invalid_field"; never NULL. */
const char *cu_result_code(cu_result rc);

/* HTTP status for the API (400..429, 500 or 503 for CU_ERR_INTERNAL and friends). */
int cu_result_http(cu_result rc);

/*
 * Field-level detail for CU_ERR_INVALID_FIELD.  A bounded list: after
 * CU_ERRORS_MAX entries further errors are counted in `dropped` only.
 * `reason` points at a static string such as "required", "malformed",
 * "too_long", "invalid_utf8", "unknown_field", "duplicate", "not_a_number".
 * A caller-allocated struct: cu_errors_init() before use, no release needed.
 */
#define CU_ERRORS_MAX     16
#define CU_ERR_MSG_MAX    512 /* an error message a function composes, with its NUL */
#define CU_FIELD_NAME_MAX 48

typedef struct cu_field_error {
	char field[CU_FIELD_NAME_MAX];
	const char *reason;
} cu_field_error;

typedef struct cu_errors {
	size_t n;
	size_t dropped;
	cu_field_error e[CU_ERRORS_MAX];
} cu_errors;

void cu_errors_init(cu_errors *errs);
/* Adds one entry (field truncated to fit).  NULL errs is a no-op. */
void cu_errors_add(cu_errors *errs, const char *field, const char *reason);

#endif
