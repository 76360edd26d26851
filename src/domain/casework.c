/*
 * src/domain/casework.c — what requests and complaints share (casework.h): the kinds,
 * the clock, who may do what, audit entries, opening sealed texts, history
 * steps, JSON pieces, and closing a member's open cases on erasure.
 */
#include "domain/casework.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/sealed_text.h"
#include "audit/audit.h"

#define REFUSAL_BYTES 160 /* "<code>: <reason>" of an audited refusal */
#define REASON_BYTES  80  /* "<kind>=<id>[ closed member_erased]" */

/* ---- 1. kinds ------------------------------------------------------------ */

const cu_case_kind_info cu_case_kinds[CU_CASE_KINDS] = {
    [CU_CASE_REQUEST] = {"request", "read_request", {"received", "investigating", NULL}},
    [CU_CASE_COMPLAINT] = {"complaint",
                           "read_complaint",
                           {"received", "assigned", "answered", NULL}},
};

bool cu_case_state_open(cu_case_kind kind, const char *state)
{
	if (!state || (unsigned)kind >= CU_CASE_KINDS)
		return false;
	for (const char *const *s = cu_case_kinds[kind].open_states; *s; s++)
		if (!strcmp(*s, state))
			return true;
	return false;
}

/* ---- 2. clock ------------------------------------------------------------ */

int64_t cu_case_due(int64_t now_us, unsigned days)
{
	return now_us + (int64_t)days * CU_CASE_DAY_US;
}

long cu_case_days_left(int64_t due_us, int64_t now_us)
{
	int64_t d = due_us - now_us;

	/* Floor, not truncation: half a day late is a day late. */
	return (long)(d >= 0 ? d / CU_CASE_DAY_US : -((-d + CU_CASE_DAY_US - 1) / CU_CASE_DAY_US));
}

bool cu_case_overdue(int64_t due_us, int64_t now_us)
{
	return now_us > due_us;
}

int64_t cu_case_due_before(bool overdue, int64_t now_us)
{
	return overdue ? now_us : 0;
}

static struct tm utc(int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm;
}

void cu_case_day(int64_t us, char out[CU_CASE_DAY_BYTES])
{
	struct tm tm = utc(us);

	strftime(out, CU_CASE_DAY_BYTES, "%Y-%m-%d", &tm);
}

void cu_case_time(int64_t us, char out[CU_CASE_TIME_BYTES])
{
	struct tm tm = utc(us);

	strftime(out, CU_CASE_TIME_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- 3. who -------------------------------------------------------------- */

bool cu_case_officer(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_OPERATOR);
}

const char *cu_case_actor_name(const cu_actor *a)
{
	return a && a->name ? a->name : "";
}

static bool is_member(const cu_actor *a, const char *member)
{
	return a && a->role == CU_ROLE_MEMBER && a->member && member && !strcmp(a->member, member);
}

bool cu_case_may_file(const cu_actor *a, const char *member)
{
	return a && (a->role == CU_ROLE_OPERATOR || is_member(a, member));
}

bool cu_case_may_read(const cu_actor *a, const char *member)
{
	return cu_case_officer(a) || is_member(a, member);
}

cu_result cu_case_member_live(cu_store *s, const char *member, cu_member_row *m)
{
	cu_result rc = cu_store_member_get(s, member, m);

	if (!rc && m->erased) {
		cu_member_row_release(m);
		rc = CU_ERR_ERASED;
	}
	return rc;
}

/* ---- 4. audit ------------------------------------------------------------ */

cu_result cu_case_audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                        const char *fields, const char *decision, const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = cu_case_actor_name(actor);
	e.role = actor ? cu_role_name(actor->role) : "";
	e.action = action;
	e.member = member ? member : "";
	e.fields = fields ? fields : "";
	e.decision = decision;
	e.reason = reason ? reason : "";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

cu_result cu_case_refuse(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                         const char *reason, cu_result why)
{
	char r[REFUSAL_BYTES];
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	if (reason)
		snprintf(r, sizeof(r), "%s: %s", cu_result_code(why), reason);
	else
		snprintf(r, sizeof(r), "%s", cu_result_code(why));
	rc = cu_case_end(ctx, cu_case_audit(ctx, actor, action, member, NULL, "deny", r));
	return rc ? rc : why;
}

cu_result cu_case_read(cu_ctx *ctx, const cu_actor *actor, cu_case_kind kind, const char *id,
                       const char *member, cu_member_row *m)
{
	char reason[REASON_BYTES];
	cu_result rc;

	if ((unsigned)kind >= CU_CASE_KINDS)
		return CU_ERR_INVALID_ARGUMENT;
	/* Another member's case answers like one that does not exist. */
	if (!cu_case_may_read(actor, member))
		return CU_ERR_NOT_FOUND;
	rc = cu_store_member_get(ctx->store, member, m);
	if (rc)
		return rc;
	snprintf(reason, sizeof(reason), "%s=%s", cu_case_kinds[kind].name, id);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_case_audit(ctx, actor, cu_case_kinds[kind].read_action, member, NULL, "allow",
	                   reason);
	return cu_case_end(ctx, rc);
}

cu_result cu_case_end(cu_ctx *ctx, cu_result rc)
{
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

/* ---- 5. sealed texts ----------------------------------------------------- */

cu_result cu_case_key_get(const cu_vault *v, const cu_member_row *m, cu_case_key *k)
{
	cu_result rc;

	memset(k, 0, sizeof(*k));
	k->member = m->id;
	if (m->erased)
		return CU_OK;
	rc = cu_vault_unwrap(v, m->id, m->key_id, m->wrapped, &k->dk);
	k->have = rc == CU_OK;
	return rc;
}

cu_result cu_case_text_open(const cu_case_key *k, const char *field, const unsigned char *sealed,
                            size_t len, char **out)
{
	*out = NULL;
	if (!k->have || !sealed)
		return CU_OK;
	return cu_sealed_text_open(&k->dk, k->member, field, sealed, len, out);
}

void cu_case_key_wipe(cu_case_key *k)
{
	if (k->have)
		cu_vault_data_key_wipe(&k->dk);
	k->have = false;
}

cu_result cu_case_open(const cu_vault *v, const cu_member_row *m, const char *field,
                       const unsigned char *sealed, size_t len, char **text, cu_case_walk_fn walk,
                       cu_case_history *h)
{
	cu_case_key key;
	cu_result rc;

	*text = NULL;
	rc = cu_case_key_get(v, m, &key);
	if (!rc)
		rc = cu_case_text_open(&key, field, sealed, len, text);
	if (!rc) {
		h->key = &key;
		h->rc = CU_OK;
		rc = walk(h);
		if (!rc)
			rc = h->rc;
		h->key = NULL;
	}
	cu_case_key_wipe(&key);
	if (rc) {
		cu_wipe_free(*text);
		*text = NULL;
	}
	return rc;
}

/* ---- 6. events ----------------------------------------------------------- */

cu_result cu_case_append(void **items, size_t *n, size_t size, void **slot)
{
	unsigned char *base;

	if (*n % CU_CASE_GROW == 0) {
		void *p = realloc(*items, (*n + CU_CASE_GROW) * size);

		if (!p)
			return CU_ERR_NOMEM;
		*items = p;
	}
	base = *items;
	*slot = base + *n * size;
	memset(*slot, 0, size);
	(*n)++;
	return CU_OK;
}

void *cu_case_history_add(cu_case_history *h)
{
	void *slot = NULL;

	h->rc = cu_case_append(&h->items, &h->n, h->size, &slot);
	return h->rc ? NULL : slot;
}

int cu_case_history_open(cu_case_history *h, const char *field, const unsigned char *sealed,
                         size_t len, char **out)
{
	h->rc = cu_case_text_open(h->key, field, sealed, len, out);
	return h->rc != CU_OK;
}

void cu_case_history_wipe(void *items, size_t n, size_t size, size_t text_at)
{
	unsigned char *p = items;

	for (size_t i = 0; p && i < n; i++) {
		char *text;

		memcpy(&text, p + i * size + text_at, sizeof(text));
		cu_wipe_free(text);
	}
	free(items);
}

void cu_case_event_init(cu_request_event_row *ev, const char *request, const char *state,
                        const cu_actor *actor, int64_t now_us)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->request, sizeof(ev->request), "%s", request);
	snprintf(ev->state, sizeof(ev->state), "%s", state);
	snprintf(ev->actor, sizeof(ev->actor), "%s", cu_case_actor_name(actor));
	snprintf(ev->role, sizeof(ev->role), "%s", actor ? cu_role_name(actor->role) : "");
	ev->time_us = now_us;
}

/* ---- 7. JSON ------------------------------------------------------------- */

void cu_case_json_time(json_t *o, const char *key, int64_t us)
{
	char t[CU_CASE_TIME_BYTES];

	cu_case_time(us, t);
	json_object_set_new(o, key, json_string(t));
}

json_t *cu_case_json_opt(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

void cu_case_json_days_left(json_t *o, const char *key, int64_t due_us, int64_t now_us)
{
	json_object_set_new(o, key, json_integer(cu_case_days_left(due_us, now_us)));
}

void cu_case_json_clock(json_t *o, int64_t received_us, int64_t due_us, int64_t hard_due_us,
                        int64_t updated_us, const char *ended_key, int64_t ended_us, int64_t now_us)
{
	cu_case_json_time(o, "received", received_us);
	cu_case_json_time(o, "due", due_us);
	if (hard_due_us)
		cu_case_json_time(o, "hard_due", hard_due_us);
	cu_case_json_time(o, "updated", updated_us);
	if (ended_us) {
		cu_case_json_time(o, ended_key, ended_us);
	} else {
		cu_case_json_days_left(o, "days_left", due_us, now_us);
		if (hard_due_us)
			cu_case_json_days_left(o, "hard_days_left", hard_due_us, now_us);
		json_object_set_new(o, "overdue", json_boolean(cu_case_overdue(due_us, now_us)));
	}
}

/* ---- 8. closing on erasure ----------------------------------------------- */

/* Ids collected from a listing (the rows are changed after the walk). */
struct ids {
	const char *except; /* a request id to leave alone, or NULL */
	char (*id)[CU_ID_LEN + 1];
	size_t n, cap;
	cu_result rc;
};

static int ids_add(struct ids *o, const char *id)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : CU_CASE_GROW;
		void *p = realloc(o->id, cap * sizeof(*o->id));

		if (!p) {
			o->rc = CU_ERR_NOMEM;
			return 1;
		}
		o->id = p;
		o->cap = cap;
	}
	memcpy(o->id[o->n++], id, CU_ID_LEN + 1);
	return 0;
}

static int open_request(void *ud, const cu_request_row *row)
{
	struct ids *o = ud;

	if (!cu_case_state_open(CU_CASE_REQUEST, row->state) ||
	    (o->except && !strcmp(row->id, o->except)))
		return 0;
	return ids_add(o, row->id);
}

static int open_complaint(void *ud, const cu_complaint_row *row)
{
	return row->closed_us ? 0 : ids_add(ud, row->id);
}

static cu_result close_requests(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                const char *except, int64_t now_us, uint64_t *closed)
{
	struct ids o = {except, NULL, 0, 0, CU_OK};
	cu_result rc = cu_store_request_list_member(ctx->store, member, open_request, &o);

	if (!rc)
		rc = o.rc;
	for (size_t i = 0; !rc && i < o.n; i++) {
		cu_request_row row;
		cu_request_event_row ev;

		rc = cu_store_request_get(ctx->store, o.id[i], &row);
		if (rc)
			break;
		snprintf(row.state, sizeof(row.state), "closed");
		row.updated_us = row.decided_us = now_us;
		snprintf(row.decided_by, sizeof(row.decided_by), "%s", cu_case_actor_name(actor));
		rc = cu_store_request_update(ctx->store, &row);
		cu_case_event_init(&ev, row.id, "closed", actor, now_us);
		snprintf(ev.note, sizeof(ev.note), CU_CASE_NOTE_ERASED);
		if (!rc)
			rc = cu_store_request_event_insert(ctx->store, &ev);
		cu_request_row_release(&row);
	}
	if (!rc)
		*closed = o.n;
	free(o.id);
	return rc;
}

static cu_result close_complaints(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                  int64_t now_us, uint64_t *closed)
{
	struct ids o = {NULL, NULL, 0, 0, CU_OK};
	char reason[REASON_BYTES];
	cu_result rc = cu_store_complaint_list_member(ctx->store, member, open_complaint, &o);

	if (!rc)
		rc = o.rc;
	for (size_t i = 0; !rc && i < o.n; i++) {
		cu_complaint_row row;

		rc = cu_store_complaint_get(ctx->store, o.id[i], &row);
		if (rc)
			break;
		snprintf(row.state, sizeof(row.state), "closed");
		row.updated_us = row.closed_us = now_us;
		snprintf(row.closed_by, sizeof(row.closed_by), "%s", cu_case_actor_name(actor));
		snprintf(row.note, sizeof(row.note), CU_CASE_NOTE_ERASED);
		snprintf(reason, sizeof(reason), "complaint=%s closed " CU_CASE_NOTE_ERASED,
		         row.id);
		rc = cu_store_complaint_update(ctx->store, &row);
		if (!rc)
			rc = cu_case_audit(ctx, actor, "complaint_close", row.member, NULL, "done",
			                   reason);
		cu_complaint_row_release(&row);
	}
	if (!rc)
		*closed = o.n;
	free(o.id);
	return rc;
}

cu_result cu_case_close_member(cu_ctx *ctx, const cu_actor *actor, const char *member,
                               const char *except, int64_t now_us, uint64_t *requests,
                               uint64_t *complaints)
{
	cu_result rc;

	if (!ctx || !member || !requests || !complaints)
		return CU_ERR_INVALID_ARGUMENT;
	rc = close_requests(ctx, actor, member, except, now_us, requests);
	if (!rc)
		rc = close_complaints(ctx, actor, member, now_us, complaints);
	return rc;
}
