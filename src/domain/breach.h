/*
 * src/domain/breach.h — breach triage: which members and which fields could
 * have been exposed in a window of time, from the audit trail and the keys
 * members' data keys are wrapped under, and the draft of the report an
 * officer must send (docs/breach.md).
 *
 * What is assessed, by selector (the window [since, until] includes both
 * ends; times are the audit entries'):
 *   CU_BREACH_ALL            every allowed read in the window;
 *   CU_BREACH_TOKEN          the allowed reads in the window whose actor is
 *                            the token's holder (the audit names a token by
 *                            its name and role: other tokens of the same name
 *                            and role are counted in "tokens_sharing_name",
 *                            and their reads cannot be told apart);
 *   CU_BREACH_SUBCONTRACTOR  the allowed reads in the window made under the
 *                            subcontractor's contract (entries of the
 *                            subcontractor role naming "contract ID");
 *   CU_BREACH_KEY            every live member whose data key a leak of key
 *                            key_id opens: wrapped under that key (a tree of
 *                            the keyring, or a master key in format 1), or,
 *                            for a master key, wrapped under any tree (the
 *                            keyring is sealed under the master key),
 *                            whenever registered (a leaked key opens later
 *                            copies of the database too): every field they
 *                            hold is potentially exposed; the timeline is
 *                            what the audit says of them in the window.
 * An allowed read is an entry with decision "allow" or "partial" of action
 * "read", "share_read", "provide" (its fields), "read_diaries" (diaries),
 * "read_request" (request texts) or "read_complaint" (complaint texts).
 *
 * The report names members by id and fields by name, never a value; the
 * actor of an event by role only.  It is a JSON document (sections below);
 * cu_breach_markdown writes the draft report from it.
 *   "window"      since, until (RFC 3339 UTC)
 *   "selector"    kind ("all", "token", "subcontractor", "key") and what
 *                 it names (id, role, contract scope, key id)
 *   "summary"     members, events, erased (members listed who have been
 *                 erased since), first_event, last_event (or null)
 *   "encryption"  at_rest (true: Custodian seals every field), statement,
 *                 keys [{key_id, members}] (key_id null for erased members)
 *   "categories"  per field name found: label, category, members
 *   "members"     by id: fields, key_id (or null), erased, events
 *   "timeline"    the events in seq order, at most CU_BREACH_TIMELINE_MAX:
 *                 seq, time, action, role, member, purpose, fields;
 *                 "timeline_omitted" counts the rest
 *   "limits"      what this assessment cannot know
 *
 * Assessing is an officer's (or the operator's) act and is audited
 * ("breach_assess": the window, the selector and the counts, no member id);
 * anyone else gets CU_ERR_FORBIDDEN, audited as a refusal.
 */
#ifndef CU_DOMAIN_BREACH_H
#define CU_DOMAIN_BREACH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "util/result.h"

/* Most timeline events a report lists (the counts cover them all). */
#define CU_BREACH_TIMELINE_MAX 10000
/* Most member rows the Markdown report lists (the JSON lists every one). */
#define CU_BREACH_MD_MEMBERS_MAX 1000
/* Most timeline events the Markdown report lists. */
#define CU_BREACH_MD_TIMELINE_MAX 1000

typedef enum cu_breach_by {
	CU_BREACH_ALL = 0,
	CU_BREACH_TOKEN = 1,
	CU_BREACH_SUBCONTRACTOR = 2,
	CU_BREACH_KEY = 3,
} cu_breach_by;

typedef struct cu_breach_query {
	int64_t since_us, until_us; /* microseconds since the epoch, since <= until */
	cu_breach_by by;
	const char *id;  /* CU_BREACH_TOKEN: a token id; CU_BREACH_SUBCONTRACTOR: its id */
	uint32_t key_id; /* CU_BREACH_KEY: a master key or tree id, 1.. */
} cu_breach_query;

/*
 * Assesses q and writes the assessment's audit entry.  On success *out is a
 * new report the caller frees (json_decref).  CU_ERR_INVALID_ARGUMENT for
 * since > until, a missing id, key id 0; CU_ERR_NOT_FOUND for a token or
 * subcontractor no one registered; CU_ERR_FORBIDDEN for an actor neither
 * officer nor operator.  Runs in one read of the store, then one
 * transaction for the entry.
 */
CU_WARN_UNUSED cu_result cu_breach_assess(cu_ctx *ctx, const cu_actor *actor,
                                          const cu_breach_query *q, json_t **out);

/*
 * The draft report, as Markdown, from a report cu_breach_assess made, into
 * *out (NUL-terminated, *len bytes; the caller frees).  At most
 * CU_BREACH_MD_MEMBERS_MAX members and CU_BREACH_MD_TIMELINE_MAX events are
 * listed, saying how many more the JSON holds.
 */
CU_WARN_UNUSED cu_result cu_breach_markdown(const json_t *report, char **out, size_t *len);

#endif
