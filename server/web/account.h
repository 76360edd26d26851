/*
 * server/web/account.h — what the member portal's account pages share
 * (pages_account.c, pages_me.c, and the cookie choice of pages_public.c):
 * the form of a member's record built from the policy in force, field
 * errors in the page's language, and a member's cookie choice kept as
 * consent records.
 *
 * The form is the policy's, not the code's: every field of GET /v1/policy
 * is asked, in policy order, with an input for its kind, so a field a new
 * policy version adds appears on the sign-up and "my data" pages without a
 * change here.  Its label is the policy's own words; a language other than
 * English shows the message "acc_field_<name>" when the locale has one
 * (services likewise, "acc_service_<id>").
 */
#ifndef CU_WEB_ACCOUNT_H
#define CU_WEB_ACCOUNT_H

#include "web/web.h"

/* A form field's id in the page ("f-" + a policy field's name) and its hint's and error's. */
#define CU_ACCOUNT_ID_MAX (CU_POLICY_ID_MAX + 8)
/* The longest value of a field we compare or format (a policy field is bounded well below). */
#define CU_ACCOUNT_VALUE_MAX 32

/*
 * The form of a member's record for the policy (GET /v1/policy's reply):
 *
 *   {"main":   [field, ...],   the fields not in the survey (required first as the policy orders them)
 *    "survey": [field, ...],   the survey's questions, each saying which services need it
 *    "services": [{"id", "name", "needs", "needs_nothing"}, ...]}
 *
 * and a field is {"name", "label", "input" (text|email|tel|date|number),
 * "textarea", "autocomplete", "required", "maxlength", "min", "max",
 * "value", "hint", "error", "describedby"} — value from values (field name
 * -> string or integer; NULL for none), error from errors (field name ->
 * message; NULL for none).  Returns a new object, or NULL when out of memory.
 */
json_t *cu_account_form(cu_request *r, const json_t *policy, const json_t *values,
                        const json_t *errors);

/* Field `name`'s label in the page's language (see above); name itself when the policy lacks it. */
const char *cu_account_label(cu_request *r, const json_t *policy, const char *name);
/* Service `id`'s name in the page's language; id itself when the policy lacks it. */
const char *cu_account_service_name(cu_request *r, const json_t *policy, const char *id);
/* The labels of an array of field names, joined with the language's list separator. */
json_t *cu_account_labels(cu_request *r, const json_t *policy, const json_t *names);

/*
 * The field errors of a call's 4xx reply (cu_web_field_errors), with this
 * area's messages ("acc_err_<reason>") where the shared ones lack the reason.
 */
json_t *cu_account_errors(cu_request *r, const cu_http_capture *c);

/*
 * Records a logged-in member's cookie choice (allowed: as in force, after
 * Sec-GPC) as consent records, kind "cookie": one PUT /v1/me/consents per
 * refusable category of the policy whose recorded choice differs (or was
 * never recorded), after one GET /v1/me/consents — at most
 * CU_COOKIE_CATEGORIES calls in all.  Returns true when done (or nothing
 * to do); false with *ret set while a call waits (return *ret: the page
 * runs again) or when it could not be made.
 */
bool cu_account_record_cookies(cu_request *r, const bool allowed[CU_COOKIE_CATEGORIES],
                               enum MHD_Result *ret);

/* The cookie category names, indexed by enum cu_web_category, as the policy and the choice name them. */
extern const char *const cu_account_cookie_names[CU_COOKIE_CATEGORIES];

/* Sets the cu_cookies choice cookie to allowed (a member's choice made on /me/consents). */
void cu_account_set_choice_cookie(cu_request *r, const bool chosen[CU_COOKIE_CATEGORIES]);

#endif
