/*
 * src/policy/policy.h — the privacy policy as data.
 *
 * A policy file (JSON, see docs/policy-file.md and policy/default.json) lists
 * the personal fields, the purposes of use and which roles may use each and
 * which fields each allows, the services and the survey fields they require,
 * the legal exceptions, the cookie categories and the policy text itself,
 * under a version string.  It is validated whole on load; a bad file is
 * refused with a message naming the file, the JSON path and what is wrong
 * ("policy/default.json: purposes[3].fields[1]: unknown field 'emial'").
 *
 * A loaded cu_policy is immutable and may be shared between threads.  Field
 * sets are bitmasks over field indices (at most CU_POLICY_FIELDS_MAX fields),
 * so "which fields may this purpose see" is one AND.
 */
#ifndef CUSTODIAN_POLICY_H
#define CUSTODIAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define CU_POLICY_FIELDS_MAX  64
#define CU_POLICY_ID_MAX      40            /* longest id of a field, purpose, service */
#define CU_POLICY_FILE_MAX    (1024 * 1024) /* bytes of JSON a policy may hold */
#define CU_POLICY_DIGESTBYTES 32 /* BLAKE2b-256 of a policy file (crypto_generichash_BYTES) */
/* The field names of a field set joined with ',' (cu_policy_fieldset_format), NUL excluded. */
#define CU_FIELDSET_TEXT_MAX 1023
/* What an audit entry names as its purpose: a purpose id, or "provision:" and a third
 * party id; with its NUL and room. */
#define CU_PURPOSE_TEXT_BYTES 64
#define CU_ROLE_NAME_BYTES    16 /* a role's name (cu_role_name) and its NUL */
#define CU_ACTOR_MAX          127 /* bytes of an actor's name: a token name, "operator" or a member id */
/* What a reader of a policy file reads whole before the loader judges it: more than
 * CU_POLICY_FILE_MAX, so a file somewhat too large gets the loader's "too large". */
#define CU_POLICY_READ_MAX (4 * CU_POLICY_FILE_MAX)

typedef uint64_t cu_fieldset; /* bit i = field index i */

/* Roles are fixed in code; the policy grants purposes to them by name. */
typedef enum cu_role {
	CU_ROLE_MEMBER = 0,        /* the member, about themselves */
	CU_ROLE_STAFF = 1,         /* support and other staff with a token */
	CU_ROLE_ANALYST = 2,       /* research and analysis staff */
	CU_ROLE_SERVICE = 3,       /* an application backend */
	CU_ROLE_SUBCONTRACTOR = 4, /* a trustee bound to a contract */
	CU_ROLE_OFFICER = 5,       /* the privacy officer */
	CU_ROLE_ADMIN = 6,         /* the site administrator */
	CU_ROLE_OPERATOR = 7,      /* the `custodian` command on the host */
	CU_ROLE_COUNT_
} cu_role;

/* "staff", ...; NULL for an out-of-range value. */
const char *cu_role_name(cu_role role);
/* Parses a role name; CU_ERR_INVALID_ARGUMENT if unknown. */
CU_WARN_UNUSED cu_result cu_role_parse(const char *name, cu_role *out);

typedef enum cu_field_kind {
	CU_FIELD_TEXT = 0, /* free UTF-8 text, bounded by max_length */
	CU_FIELD_NAME,     /* a person's name: text without control chars */
	CU_FIELD_ADDRESS,  /* a postal address: text, newlines allowed */
	CU_FIELD_EMAIL,    /* an e-mail address (see members.h for rules) */
	CU_FIELD_PHONE,    /* a telephone number, E.164 or Japanese domestic */
	CU_FIELD_DATE,     /* YYYY-MM-DD, a real calendar date */
	CU_FIELD_INTEGER,  /* a decimal integer within [min, max] */
	CU_FIELD_LIST      /* a list of short texts, stored comma-separated */
} cu_field_kind;

/* The kind's word in the policy file ("integer"); NULL for an out-of-range value. */
const char *cu_field_kind_name(cu_field_kind kind);

typedef struct cu_policy_field {
	const char *name;  /* "email" */
	const char *label; /* "E-mail address" */
	cu_field_kind kind;
	bool required;      /* must be present at registration */
	bool identifier;    /* a direct identifier (name, address, phone, email) */
	bool survey;        /* one of the optional survey questions */
	size_t max_length;  /* in bytes of UTF-8 */
	long long min, max; /* for CU_FIELD_INTEGER */
	/* retention.fields.<name>.after_last_activity_days, or CU_RETENTION_NONE */
	int retention_days;
} cu_policy_field;

typedef struct cu_policy_purpose {
	const char *id;        /* "support" */
	int number;            /* its number in the policy text, 1..9 */
	const char *text;      /* the policy's own sentence */
	uint32_t roles;        /* bit r = cu_role r may use this purpose */
	cu_fieldset fields;    /* fields it allows */
	bool requires_case;    /* needs a case reference (tos_review) */
	bool aggregate_only;   /* sees aggregates only, never one member */
	bool consent_required; /* a use outside the published purposes of use:
				    only with the member's consent (or a legal exception) */
	bool diaries;          /* may read members' diaries (needs requires_case) */
	/* retention.purposes.<id>: each CU_RETENTION_NONE when not given */
	int retention_days;  /* after_last_activity_days */
	int withdrawal_days; /* after_withdrawal_days (consent_required purposes only) */
} cu_policy_purpose;

typedef struct cu_policy_service {
	const char *id; /* "live_classes" */
	const char *name;
	cu_fieldset requires; /* survey fields a member must have answered */
} cu_policy_service;

typedef struct cu_policy_exception {
	const char *id; /* "law", "life_body_assets", "government" */
	const char *text;
} cu_policy_exception;

typedef struct cu_policy_cookie {
	const char *id; /* "necessary", "preferences", ... */
	const char *text;
	bool required; /* cannot be refused (strictly necessary) */
} cu_policy_cookie;

/*
 * The policy's "retention" section (docs/policy-file.md, docs/retention.md),
 * in days.  CU_RETENTION_NONE: no such rule (kept while the membership
 * lasts; provision records kept for ever; no inactive-account rule).  The
 * per-purpose and per-field periods sit on cu_policy_purpose and
 * cu_policy_field.  The loader refuses a provision period shorter than
 * CU_RETENTION_PROVISION_MIN_DAYS: records of provision are kept at least
 * three years (store/third_party.h keeps the same floor).
 */
#define CU_RETENTION_NONE               (-1)
#define CU_RETENTION_DAYS_MAX           36500 /* a hundred years: longer is a typo */
#define CU_RETENTION_GRACE_DEFAULT      30    /* dropped_field_grace_days when absent */
#define CU_RETENTION_PROVISION_MIN_DAYS 1098  /* three years of 366 days */

typedef struct cu_policy_retention {
	int dropped_field_grace_days; /* default CU_RETENTION_GRACE_DEFAULT */
	int provision_records_days;   /* or CU_RETENTION_NONE */
	int inactive_notice_days;     /* inactive_accounts.notice_after_days, or NONE */
	int inactive_erase_days;      /* inactive_accounts.erase_after_notice_days */
} cu_policy_retention;

/*
 * The policy's "statistics" section (docs/statistics.md): every released
 * cell rests on at least k members; differential privacy spends at most
 * epsilon_budget per dataset ("members", "beacons") per calendar month (the
 * only budget_period).  Absent: the defaults below.
 */
#define CU_STATS_K_DEFAULT              10
#define CU_STATS_K_MIN                  2
#define CU_STATS_K_MAX                  1000000
#define CU_STATS_EPSILON_BUDGET_DEFAULT 5.0
#define CU_STATS_EPSILON_BUDGET_MAX     1000.0
/*
 * A member statistic that names no noise gets default_noise ("laplace" or
 * "gaussian") with default_epsilon (and, for gaussian, default_delta); a
 * release without noise (cell-key perturbation only) is refused unless
 * allow_unnoised is true.
 */
#define CU_STATS_DEFAULT_EPSILON 0.25
#define CU_STATS_DEFAULT_DELTA   1e-6

typedef struct cu_policy_statistics {
	int k;                  /* CU_STATS_K_MIN..CU_STATS_K_MAX */
	double epsilon_budget;  /* > 0, per dataset and calendar month */
	bool default_gaussian;  /* default_noise: false "laplace", true "gaussian" */
	double default_epsilon; /* (0, 10]; at most 1 for gaussian */
	double default_delta;   /* gaussian: (0, 0.001] */
	bool allow_unnoised;    /* noise=none may be asked (the weaker, cell-key only release) */
} cu_policy_statistics;

typedef struct cu_policy {
	char *version; /* "2026-11-29.1" */
	char *title;
	char *text; /* the policy text shown to members */
	size_t nfields;
	cu_policy_field *fields;
	size_t npurposes;
	cu_policy_purpose *purposes;
	size_t nservices;
	cu_policy_service *services;
	size_t nexceptions;
	cu_policy_exception *exceptions;
	size_t ncookies;
	cu_policy_cookie *cookies;
	cu_policy_retention retention;
	cu_policy_statistics statistics;
	unsigned char digest[CU_POLICY_DIGESTBYTES]; /* BLAKE2b-256 of the file's bytes */
	void *priv_;                                 /* owned storage; do not touch */
} cu_policy;

/*
 * Loads and validates a policy file.  On success *out is a new policy the
 * caller frees with cu_policy_free().  On failure returns
 * CU_ERR_POLICY_INVALID (or CU_ERR_IO), *out is NULL and `err` holds one
 * line: "FILE: PATH: what is wrong".
 */
CU_WARN_UNUSED cu_result cu_policy_load_file(const char *path, cu_policy **out, char *err,
                                             size_t errlen);
/* As above, from memory; `name` stands in for the file name in messages. */
CU_WARN_UNUSED cu_result cu_policy_load_buffer(const char *name, const char *buf, size_t len,
                                               cu_policy **out, char *err, size_t errlen);
/* Frees a policy.  NULL is a harmless no-op. */
void cu_policy_free(cu_policy *policy);

/*
 * Whether s has the form of a policy id (a field, purpose, service or
 * exception): a lowercase letter, then lowercase letters, digits or '_', at
 * most CU_POLICY_ID_MAX bytes.  Whether the policy has such an id is the
 * lookups' business; this is what may be repeated back or recorded of a
 * name a client typed (NULL is not of the form).
 */
bool cu_policy_id_form(const char *s);

/* Lookups; NULL / -1 when absent. */
int cu_policy_field_index(const cu_policy *p, const char *name);
const cu_policy_field *cu_policy_field_find(const cu_policy *p, const char *name);
const cu_policy_purpose *cu_policy_purpose_find(const cu_policy *p, const char *id);
const cu_policy_service *cu_policy_service_find(const cu_policy *p, const char *id);
const cu_policy_exception *cu_policy_exception_find(const cu_policy *p, const char *id);

/* The set of all fields the policy defines. */
cu_fieldset cu_policy_all_fields(const cu_policy *p);
/* Whether `role` may use `purpose` at all. */
bool cu_policy_purpose_allows_role(const cu_policy_purpose *purpose, cu_role role);

/*
 * Writes the names of the fields in `set`, comma-separated in policy order,
 * into buf (always NUL-terminated, truncated if it does not fit).  Returns
 * the length it would have needed, like snprintf.
 */
size_t cu_policy_fieldset_format(const cu_policy *p, cu_fieldset set, char *buf, size_t buflen);

/*
 * policy/default.json as it was at build time (compiled in, so `custodian
 * init` needs no other file): cu_default_policy_json_len bytes, then a NUL.
 */
extern const char cu_default_policy_json[];
extern const size_t cu_default_policy_json_len;

#endif
