/*
 * server/web/pages_officer.h — what the privacy officer's console pages
 * share (private to pages_officer*.c): the queues (requests, complaints,
 * exception reviews) in pages_officer.c, the registries (subcontractors,
 * third parties, policy versions) in pages_officer_registry.c, one page
 * table (cu_pages_officer, in pages_officer.c).
 *
 * Every page is a CU_WEB_STAFF page that reads and changes only through
 * the API's officer routes, so the API decides who may use it: when a call
 * is refused for the role (401, or 403 "forbidden"), the page shows the
 * polite "not for your role" page (cu_off_refused).  The policy pages are
 * the one exception: the policy's versions are public in the API, so those
 * pages check the viewer's role themselves (officer or admin, the roles
 * that may publish).
 *
 * A change is a POST form; success is a 303 to the item's page with
 * ?done=KEY (one of a fixed list, cu_off_done), failure the same page
 * again with the API's status, the message next to the field and the
 * input kept.
 */
#ifndef CU_WEB_PAGES_OFFICER_H
#define CU_WEB_PAGES_OFFICER_H

#include "web/web.h"

#define CU_OFF_PATH_MAX 192 /* an API path or a page's location with one or two ids */
#define CU_OFF_KEY_MAX  64  /* a message key built from a prefix and an API word */

/* Whether s may stand in a path: 1..CU_HTTP_PARAM_MAX-1 of [A-Za-z0-9_.-], not "." or "..". */
bool cu_off_id_ok(const char *s);

/*
 * Whether a call was refused for the viewer's role: 401 (the console's
 * token no longer holds), or 403 with code "forbidden".
 */
bool cu_off_role_refused(const cu_http_capture *c);

/*
 * The error page for a call that did not succeed: "not for your role" for
 * a role refusal, "no such item" for 404, "not available" otherwise.
 */
enum MHD_Result cu_off_refused(cu_request *r, const cu_http_capture *c);

/*
 * The field errors of a failed call: field -> message, the officer's own
 * words (off_err_REASON) where it has them, else cu_web_field_errors'.
 * A new object (empty when none); NULL when out of memory.
 */
json_t *cu_off_errors(cu_request *r, const cu_http_capture *c);

/*
 * The one-line message above a form that failed: "check the fields" when
 * the reply names fields, "already decided/closed" for 409, else the API's
 * own message (never personal data), else "not available".
 */
const char *cu_off_message(cu_request *r, const cu_http_capture *c);

/* A form field as a list of strings (a repeated field, one value, or none): a new array. */
json_t *cu_off_form_list(const cu_web_page *pg, const char *name);

/* [{name, checked}] for each string of names, checked when in chosen (an array, or NULL). */
json_t *cu_off_checks(const json_t *names, const json_t *chosen);

/*
 * Sets o[key + "_text"] to the message prefix + o[key] (e.g. "off_state_"
 * + "received"), or to the API's word itself when there is no message.
 */
void cu_off_label(cu_request *r, json_t *o, const char *key, const char *prefix);

/* Sets model.done to the confirmation of ?done=KEY when KEY is one of the pages' own. */
void cu_off_done(cu_request *r, json_t *model);

/* The registries' handlers (pages_officer_registry.c), listed in cu_pages_officer. */
enum MHD_Result cu_off_subcontractors(cu_request *r);
enum MHD_Result cu_off_subcontractor_add(cu_request *r);
enum MHD_Result cu_off_subcontractor(cu_request *r);
enum MHD_Result cu_off_review_add(cu_request *r);
enum MHD_Result cu_off_review_update(cu_request *r);
enum MHD_Result cu_off_third_parties(cu_request *r);
enum MHD_Result cu_off_third_party_add(cu_request *r);
enum MHD_Result cu_off_third_party(cu_request *r);
enum MHD_Result cu_off_provision(cu_request *r);
enum MHD_Result cu_off_policy(cu_request *r);
enum MHD_Result cu_off_policy_publish(cu_request *r);
enum MHD_Result cu_off_policy_version(cu_request *r);

#endif
