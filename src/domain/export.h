/*
 * src/domain/export.h — disclosure: everything Custodian holds on a member,
 * for that member, as one JSON document or one CSV document.
 *
 * The policy: "If a user requests Cerego to disclose its personal
 * information, Cerego shall respond to that request without delay".  The
 * self-service export is that response, at once.  It holds:
 *
 *   member          id, registered, updated
 *   fields          the profile fields, opened through the access door as
 *                   "self" (audited "read")
 *   survey          the survey answers, likewise
 *   accepted_policy the policy version the member is held to, as
 *                   GET /v1/me/consents names it (versions.h:
 *                   cu_versions_accepted): {version, time, basis}, basis
 *                   "accepted" (their explicit acceptance, and when) or
 *                   "registration" (the version in force when they
 *                   registered; time: the registration); null only when no
 *                   policy version was ever recorded
 *   consents        every choice (kind, target, granted, policy version, time)
 *   provisions      every provision of their data to a third party (third-party
 *                   area: who, which field names, on what basis, when)
 *   shares          the links the member made to share their own fields
 *   diaries         every entry, opened through the door's diary section as
 *                   the author (audited "read_diaries"), page by page
 *   requests        their disclosure, amendment and erasure requests, with
 *                   details, history and the officer's reasons (requests.h)
 *   complaints      their complaints with every response (complaints.h)
 *   notices         what they were told
 *   errors          what could not be served, one item each, the rest being
 *                   complete: {section, id, error, message}, e.g. a diary
 *                   entry whose sealed text is damaged ("unreadable"; the
 *                   entry is listed with title and body null); [] normally
 *   access_history  every audit entry about them made by someone else, as
 *                   GET /v1/me/access-log shows it, and their own sign-up
 *                   (actor "self"): actors labelled by cu_export_actor_label
 * and nothing about anyone else: every list is read by the member's id.
 *
 * Steps, like the door's (access.h): prepare decides on a reader; record
 * writes the audit entries — the fields read, the diary read, and one
 * "export" entry (purpose "self", reason "format=json|csv") — in one
 * transaction level; collect opens and builds, only after those entries
 * are committed.  cu_export_member does the three in order.  Only the
 * member themself exports (CU_ERR_FORBIDDEN otherwise, audited), and not
 * while a refusal of their disclosure request that suspends the export
 * stands (CU_ERR_DISCLOSURE_REFUSED, audited; requests.h, "Refusals and
 * the export": plan->refusal and plan->refusal_ground name it).
 *
 * The document holds plaintext personal data: wipe it with
 * cu_export_free when done.
 */
#ifndef CUSTODIAN_EXPORT_H
#define CUSTODIAN_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "domain/diaries.h"

typedef enum cu_export_format {
	CU_EXPORT_JSON = 0,
	CU_EXPORT_CSV = 1,
} cu_export_format;

/* "json" | "csv"; CU_ERR_INVALID_ARGUMENT otherwise. */
CU_WARN_UNUSED cu_result cu_export_format_parse(const char *name, cu_export_format *out);
const char *cu_export_format_name(cu_export_format f);

/*
 * An export in the making.  Caller-allocated; the audit entries point
 * into the struct, so it must not move between prepare and record.
 * Release it in every case.
 */
/* The export's audit reason: "format=<f>; <code> request=<id> ground=<id>", and its NUL. */
#define CU_EXPORT_REASON_BYTES 96

typedef struct cu_export_plan {
	char member[CU_ID_LEN + 1];
	char actor_name[CU_ACTOR_MAX + 1];
	cu_actor actor;
	cu_export_format format;
	cu_result rc; /* the decision: CU_OK when the export may go ahead */
	/* the profile fields, through the door */
	cu_access_request req;
	cu_access_decision d;
	cu_access_audit au;
	cu_member_row row;
	bool have_row;
	/* the diary, through the door's diary section */
	cu_diary_request dreq;
	cu_diary_decision dd;
	cu_access_audit dau;
	cu_member_row drow;
	bool have_drow;
	/* a standing refusal that suspends the export: its request id and ground, or "" */
	char refusal[CU_ID_LEN + 1];
	char refusal_ground[CU_POLICY_ID_MAX + 1];
	/* the export itself */
	cu_audit_entry entry;
	char reason[CU_EXPORT_REASON_BYTES];
} cu_export_plan;

/* Decides (on a reader); plan->rc is the answer, and is also returned. */
CU_WARN_UNUSED cu_result cu_export_prepare(const cu_policy *p, cu_store *reader,
                                           const cu_actor *actor, const char *member,
                                           cu_export_format format, cu_export_plan *plan);
/* Writes the plan's audit entries in one transaction level of ctx (the writer's job). */
CU_WARN_UNUSED cu_result cu_export_record(cu_ctx *ctx, cu_export_plan *plan);
/*
 * Builds the document (only for a plan whose rc is CU_OK and whose entries
 * are committed).  Reads in one snapshot when `reader` is outside a
 * transaction, so the parts agree.  *doc is a new reference.
 */
CU_WARN_UNUSED cu_result cu_export_collect(const cu_policy *p, const cu_vault *v, cu_store *reader,
                                           cu_export_plan *plan, int64_t now_us, json_t **doc);
void cu_export_plan_release(cu_export_plan *plan);

/* prepare, record (committed), collect. */
CU_WARN_UNUSED cu_result cu_export_member(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                          cu_export_format format, int64_t now_us, json_t **doc);

/*
 * The document as one CSV document (RFC 4180, every field quoted, CRLF
 * line ends) with the header section,item,key,value: one row per value.
 * `section` is a top-level key of the document; `item` the id of an
 * element of a list section (or its position when it has none), empty for
 * the object sections; `key` the path of the value inside it ("details.
 * changes.address", "history.1.state").  Null is written as the empty
 * string.  *out is malloc'd (wipe it when done), *len its length.
 */
CU_WARN_UNUSED cu_result cu_export_csv(const json_t *doc, char **out, size_t *len);

/*
 * How the member's own access history names the actor of entry e about
 * `member`, the same in the export and GET /v1/me/access-log: "self" for
 * the member's own acts, including their public sign-up (actor "signup",
 * role member, action "register": the member themself, before they had an
 * id); "another member" for any other member (their id is theirs, not this
 * member's to see); otherwise the actor as recorded (a token's name,
 * "operator").  The returned pointer is static or e->actor.
 */
const char *cu_export_actor_label(const cu_audit_entry *e, const char *member);

/* Overwrites every string of doc, then frees it.  NULL is a harmless no-op. */
void cu_export_free(json_t *doc);

#endif
