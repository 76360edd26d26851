/*
 * src/domain/export.c — disclosure: one member's everything, as JSON or CSV.
 *
 * Every part is read by the member's own id, through the door where the
 * door applies (fields, diaries), and opened only after the export's audit
 * entries are committed (export.h).
 */
#include "domain/export.h"

#include <csv.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/complaints.h"
#include "domain/consent.h"
#include "domain/requests.h"
#include "store/consent.h"
#include "store/notify.h"
#include "store/third_party.h"
#include "store/request.h"
#include "domain/versions.h"
#include "util/json_wipe.h"
#include "util/date.h"
#include "store/backend.h"

#define NOTICES_MAX      100000 /* a member's notices; far more than a lifetime's */
#define NUM_TEXT_BYTES   64     /* "%.17g" of a JSON real, or a JSON integer, and its NUL */
#define CSV_PATH_BYTES   512 /* a scalar's path below its item ("address.lines[2]"), and its NUL */
#define INDEX_TEXT_BYTES 24  /* "%zu" of an item's position, and its NUL */

cu_result cu_export_format_parse(const char *name, cu_export_format *out)
{
	if (name && !strcmp(name, "json"))
		*out = CU_EXPORT_JSON;
	else if (name && !strcmp(name, "csv"))
		*out = CU_EXPORT_CSV;
	else
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

const char *cu_export_format_name(cu_export_format f)
{
	return f == CU_EXPORT_CSV ? "csv" : "json";
}

void cu_export_free(json_t *doc)
{
	cu_json_wipe(doc);
	json_decref(doc);
}

static void iso(int64_t us, char out[CU_TIME_BYTES])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, CU_TIME_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *time_json(int64_t us)
{
	char t[CU_TIME_BYTES];

	if (!us)
		return json_null();
	iso(us, t);
	return json_string(t);
}

/* ---- the steps ----------------------------------------------------------- */

void cu_export_plan_release(cu_export_plan *plan)
{
	if (!plan)
		return;
	if (plan->have_row)
		cu_member_row_release(&plan->row);
	if (plan->have_drow)
		cu_member_row_release(&plan->drow);
	plan->have_row = plan->have_drow = false;
	cu_access_audit_wipe(&plan->au);
	cu_access_audit_wipe(&plan->dau);
}

cu_result cu_export_prepare(const cu_policy *p, cu_store *reader, const cu_actor *actor,
                            const char *member, cu_export_format format, cu_export_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	snprintf(plan->member, sizeof(plan->member), "%s", member ? member : "");
	snprintf(plan->actor_name, sizeof(plan->actor_name), "%s",
	         actor && actor->name ? actor->name : "");
	plan->actor.name = plan->actor_name;
	plan->actor.role = actor ? actor->role : CU_ROLE_COUNT_;
	plan->actor.member = actor && actor->member ? plan->member : NULL;
	plan->format = format;

	/* Only the member discloses to themself; anyone else reads through a purpose. */
	plan->rc = actor && actor->role == CU_ROLE_MEMBER && actor->member && member &&
	                   !strcmp(actor->member, member) && strlen(member) <= CU_ID_LEN
	               ? CU_OK
	               : CU_ERR_FORBIDDEN;
	/* A standing refusal on a ground about the data itself suspends the export (requests.h). */
	if (!plan->rc) {
		cu_request_row refusal;
		cu_result r = cu_request_refusal_standing(reader, member, &refusal);

		if (!r) {
			memcpy(plan->refusal, refusal.id, sizeof(plan->refusal));
			memcpy(plan->refusal_ground, refusal.ground, sizeof(plan->refusal_ground));
			plan->rc = CU_ERR_DISCLOSURE_REFUSED;
			cu_request_row_release(&refusal);
		} else if (r != CU_ERR_NOT_FOUND) {
			plan->rc = r;
		}
	}
	if (!plan->rc) {
		plan->req.actor = &plan->actor;
		plan->req.purpose = "self";
		plan->req.member = plan->member;
		plan->d.rc =
		    cu_access_prepare(p, reader, &plan->req, &plan->d, &plan->row, &plan->have_row);
		cu_access_audit_fill(p, &plan->req, &plan->d, &plan->au);
		plan->dreq.actor = &plan->actor;
		plan->dreq.purpose = "self";
		plan->dreq.member = plan->member;
		plan->dreq.limit = CU_DIARY_PAGE_MAX;
		plan->dd.rc = cu_access_diaries_prepare(p, reader, &plan->dreq, &plan->dd,
		                                        &plan->drow, &plan->have_drow);
		cu_access_diaries_audit_fill(p, &plan->dreq, &plan->dd, &plan->dau);
		plan->rc = plan->d.rc ? plan->d.rc : plan->dd.rc;
	}
	snprintf(plan->reason, sizeof(plan->reason), "format=%s%s%s%s%s%s%s",
	         cu_export_format_name(format), plan->rc ? "; " : "",
	         plan->rc ? cu_result_code(plan->rc) : "", plan->refusal[0] ? " request=" : "",
	         plan->refusal, plan->refusal[0] ? " ground=" : "", plan->refusal_ground);
	plan->entry.actor = plan->actor_name;
	plan->entry.role = actor ? cu_role_name(actor->role) : "";
	plan->entry.action = "export";
	plan->entry.member = plan->member;
	plan->entry.purpose = "self";
	plan->entry.decision = plan->rc ? "deny" : "allow";
	plan->entry.reason = plan->reason;
	return plan->rc;
}

cu_result cu_export_record(cu_ctx *ctx, cu_export_plan *plan)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	/* A refused export leaves one entry; an allowed one, the reads it makes as well. */
	if (plan->req.actor) {
		rc = cu_access_record(ctx, &plan->au);
		if (!rc)
			rc = cu_audit_append(ctx->audit, ctx->store, &plan->dau.entry);
	}
	if (!rc)
		rc = cu_audit_append(ctx->audit, ctx->store, &plan->entry);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

/* ---- the parts ----------------------------------------------------------- */

struct part {
	json_t *list;
	const char *member; /* for the access history: the member's own acts are left out */
	cu_result rc;
};

static int add_consent(void *ud, const cu_consent_row *row)
{
	struct part *pt = ud;

	json_array_append_new(
	    pt->list, json_pack("{s:s,s:s,s:s,s:b,s:s,s:o}", "id", row->id, "kind", row->kind,
	                        "target", row->target, "granted", row->granted, "policy_version",
	                        row->policy_version, "time", time_json(row->time_us)));
	return 0;
}

static int add_notice(void *ud, const cu_notice_row *row)
{
	struct part *pt = ud;

	json_array_append_new(
	    pt->list, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "id", row->id, "kind", row->kind,
	                        "subject", row->subject, "body", row->body, "created",
	                        time_json(row->created_us), "read", time_json(row->read_us)));
	return 0;
}

const char *cu_export_actor_label(const cu_audit_entry *e, const char *member)
{
	if (strcmp(e->role, "member"))
		return e->actor;
	if (!strcmp(e->actor, member) ||
	    (!strcmp(e->actor, "signup") && !strcmp(e->action, "register")))
		return "self";
	return "another member";
}

static int add_access(void *ud, const cu_audit_entry *e)
{
	struct part *pt = ud;

	/* What others did with the member's data, as their access log shows it. */
	if (!strcmp(e->actor, pt->member) && !strcmp(e->role, "member"))
		return 0;
	json_array_append_new(pt->list,
	                      json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq",
	                                (json_int_t)e->seq, "time", time_json(e->time_us), "actor",
	                                cu_export_actor_label(e, pt->member), "role", e->role,
	                                "action", e->action, "purpose", e->purpose, "fields",
	                                e->fields, "decision", e->decision, "case", e->case_ref));
	return 0;
}

/* ---- third-party area: provisions and shares ------------------------------
 *
 * The third parties' area (store/third_party.h) keeps what was provided to whom
 * and the member's own shares.  Both are disclosed; both are metadata (field
 * names, never values).
 */
static int add_provision(void *ud, const cu_provision_row *row)
{
	struct part *pt = ud;
	json_t *fields = json_array();

	for (size_t i = 0; fields && i < row->nfields; i++)
		json_array_append_new(fields, json_string(row->fields[i]));
	json_array_append_new(pt->list,
	                      json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:o}", "id", row->id,
	                                "third_party", row->third_party, "fields", fields, "basis",
	                                row->basis, "exception", row->exception, "by", row->actor,
	                                "time", time_json(row->time_us)));
	return 0;
}

static int add_share(void *ud, const cu_share_row *row)
{
	struct part *pt = ud;

	json_array_append_new(
	    pt->list, json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", row->id, "fields", row->fields_text,
	                        "created", time_json(row->created_us), "expires",
	                        time_json(row->expires_us), "revoked", time_json(row->revoked_us)));
	return 0;
}

static cu_result add_third_party_records(cu_store *s, const char *member, json_t *doc)
{
	struct part prov = {json_array(), member, CU_OK}, shares = {json_array(), member, CU_OK};
	cu_result rc;

	rc = cu_store_provision_list(s, member, add_provision, &prov);
	if (!rc)
		rc = cu_store_share_list(s, member, add_share, &shares);
	json_object_set_new(doc, "provisions", prov.list);
	json_object_set_new(doc, "shares", shares.list);
	return rc;
}

/* ---- requests and complaints, opened as the member's own ------------------ */

struct ids {
	char (*v)[CU_ID_LEN + 1];
	size_t n, cap;
	cu_result rc;
};

static int push_id(struct ids *ids, const char *id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 16;
		void *p = realloc(ids->v, cap * sizeof(*ids->v));

		if (!p) {
			ids->rc = CU_ERR_NOMEM;
			return 1;
		}
		ids->v = p;
		ids->cap = cap;
	}
	memcpy(ids->v[ids->n++], id, CU_ID_LEN + 1);
	return 0;
}

static int request_id(void *ud, const cu_request_row *row)
{
	return push_id(ud, row->id);
}

static int complaint_id(void *ud, const cu_complaint_row *row)
{
	return push_id(ud, row->id);
}

static cu_result add_requests(const cu_vault *v, cu_store *s, const cu_member_row *m,
                              int64_t now_us, json_t *list)
{
	struct ids ids = {NULL, 0, 0, CU_OK};
	cu_result rc = cu_store_request_list_member(s, m->id, request_id, &ids);

	if (!rc)
		rc = ids.rc;
	for (size_t i = 0; !rc && i < ids.n; i++) {
		cu_request_row row;
		cu_request_view view;

		cu_request_view_init(&view);
		rc = cu_store_request_get(s, ids.v[i], &row);
		if (!rc)
			rc = cu_request_open(v, s, m, &row, &view);
		if (!rc)
			json_array_append_new(list, cu_request_view_json(&view, now_us));
		cu_request_view_wipe(&view);
		cu_request_row_release(&row);
	}
	free(ids.v);
	return rc;
}

static cu_result add_complaints(const cu_vault *v, cu_store *s, const cu_member_row *m,
                                int64_t now_us, json_t *list)
{
	struct ids ids = {NULL, 0, 0, CU_OK};
	cu_result rc = cu_store_complaint_list_member(s, m->id, complaint_id, &ids);

	if (!rc)
		rc = ids.rc;
	for (size_t i = 0; !rc && i < ids.n; i++) {
		cu_complaint_row row;
		cu_complaint_view view;

		cu_complaint_view_init(&view);
		rc = cu_store_complaint_get(s, ids.v[i], &row);
		if (!rc)
			rc = cu_complaint_open(v, s, m, &row, &view);
		if (!rc)
			json_array_append_new(list, cu_complaint_view_json(&view, now_us));
		cu_complaint_view_wipe(&view);
		cu_complaint_row_release(&row);
	}
	free(ids.v);
	return rc;
}

/*
 * Every diary entry, a page at a time, through the door the plan's entry was
 * audited for.  A damaged entry is listed as unreadable and reported in
 * `errors`; the rest are served.
 */
static cu_result add_diaries(const cu_vault *v, cu_store *s, cu_export_plan *plan, json_t *list,
                             json_t *errors)
{
	cu_diary_request req = plan->dreq;
	char before[CU_ID_LEN + 1];
	cu_diary_list page;
	cu_result rc;

	cu_diary_list_init(&page);
	for (;;) {
		char created[CU_TIME_BYTES], updated[CU_TIME_BYTES];

		rc = cu_access_diaries_open(v, s, &plan->drow, &req, &page);
		if (rc)
			break;
		for (size_t i = 0; i < page.n; i++) {
			const cu_diary_entry *e = &page.v[i];

			iso(e->created_us, created);
			iso(e->updated_us, updated);
			if (e->unreadable) {
				json_array_append_new(list, json_pack("{s:s,s:n,s:n,s:b,s:s,s:s}",
				                                      "id", e->id, "title", "body",
				                                      "unreadable", 1, "created",
				                                      created, "updated", updated));
				json_array_append_new(
				    errors,
				    json_pack(
				        "{s:s,s:s,s:s,s:s}", "section", "diaries", "id", e->id,
				        "error", "unreadable", "message",
				        "this entry's sealed text is damaged and could not be "
				        "opened; the rest of the export is complete"));
				continue;
			}
			json_array_append_new(
			    list, json_pack("{s:s,s:s%,s:s%,s:s,s:s}", "id", e->id, "title",
			                    e->title, e->title_len, "body", e->body, e->body_len,
			                    "created", created, "updated", updated));
		}
		if (!page.more || page.n == 0)
			break;
		memcpy(before, page.v[page.n - 1].id, sizeof(before));
		req.before = before;
		cu_diary_list_wipe(&page);
		cu_diary_list_init(&page);
	}
	cu_diary_list_wipe(&page);
	return rc;
}

cu_result cu_export_collect(const cu_policy *p, const cu_vault *v, cu_store *reader,
                            cu_export_plan *plan, int64_t now_us, json_t **doc)
{
	json_t *o, *fields, *survey, *consents, *diaries, *requests, *complaints, *notices, *access,
	    *errors;
	struct part pt;
	char version[CU_VERSION_MAX + 1];
	int64_t accepted_us = 0;
	bool snapshot = false;
	cu_record rec;
	cu_result rc;

	*doc = NULL;
	if (plan->rc || !plan->have_row || !plan->have_drow)
		return plan->rc ? plan->rc : CU_ERR_INTERNAL;
	/* One consistent view: a write landing half-way would make the parts disagree. */
	if (!cu_store_in_transaction(reader)) {
		rc = cu_store_snapshot_begin(reader);
		if (rc)
			return rc;
		snapshot = true;
	}
	cu_record_init(&rec);
	o = json_object();
	fields = json_object();
	survey = json_object();
	consents = json_array();
	diaries = json_array();
	requests = json_array();
	complaints = json_array();
	notices = json_array();
	access = json_array();
	errors = json_array();
	json_object_set_new(o, "export",
	                    json_pack("{s:s,s:o,s:s,s:i}", "member", plan->member, "generated",
	                              time_json(now_us), "policy_version", p->version,
	                              "format_version", 1));
	json_object_set_new(o, "member",
	                    json_pack("{s:s,s:o,s:o}", "id", plan->row.id, "registered",
	                              time_json(plan->row.created_us), "updated",
	                              time_json(plan->row.updated_us)));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "survey", survey);
	json_object_set_new(o, "consents", consents);
	json_object_set_new(o, "diaries", diaries);
	json_object_set_new(o, "requests", requests);
	json_object_set_new(o, "complaints", complaints);
	json_object_set_new(o, "notices", notices);
	json_object_set_new(o, "access_history", access);
	/* What could not be served, one item each (a damaged entry): never the whole export. */
	json_object_set_new(o, "errors", errors);

	rc = cu_access_open(p, v, &plan->row, plan->d.allowed, &rec);
	for (size_t i = 0; !rc && i < rec.n; i++) {
		const cu_policy_field *f = &p->fields[rec.v[i].field];

		json_object_set_new(f->survey ? survey : fields, f->name,
		                    json_stringn(rec.v[i].value, rec.v[i].len));
	}
	/* The version GET /v1/me/consents names: the acceptance, else the one registered under. */
	if (!rc) {
		const char *basis = "accepted";

		rc = cu_store_accepted_get(reader, plan->member, version, &accepted_us);
		if (rc == CU_ERR_NOT_FOUND) {
			basis = "registration";
			accepted_us = plan->row.created_us;
			rc = cu_versions_accepted(reader, plan->member, plan->row.created_us,
			                          version);
		}
		if (rc == CU_ERR_NOT_FOUND) {
			rc = CU_OK;
			json_object_set_new(o, "accepted_policy", json_null());
		} else if (!rc) {
			json_object_set_new(o, "accepted_policy",
			                    json_pack("{s:s,s:o,s:s}", "version", version, "time",
			                              time_json(accepted_us), "basis", basis));
		}
	}
	if (!rc) {
		pt = (struct part){consents, plan->member, CU_OK};
		rc = cu_store_consent_list(reader, plan->member, add_consent, &pt);
	}
	if (!rc)
		rc = add_third_party_records(reader, plan->member, o);
	if (!rc)
		rc = add_diaries(v, reader, plan, diaries, errors);
	if (!rc)
		rc = add_requests(v, reader, &plan->row, now_us, requests);
	if (!rc)
		rc = add_complaints(v, reader, &plan->row, now_us, complaints);
	if (!rc) {
		pt = (struct part){notices, plan->member, CU_OK};
		rc = cu_store_notice_list(reader, plan->member, NOTICES_MAX, add_notice, &pt);
	}
	if (!rc) {
		pt = (struct part){access, plan->member, CU_OK};
		rc = cu_store_audit_scan(reader, 1, plan->member, add_access, &pt);
	}
	cu_record_wipe(&rec);
	if (snapshot)
		cu_store_snapshot_end(reader);
	if (rc) {
		cu_export_free(o);
		return rc;
	}
	*doc = o;
	return CU_OK;
}

cu_result cu_export_member(cu_ctx *ctx, const cu_actor *actor, const char *member,
                           cu_export_format format, int64_t now_us, json_t **doc)
{
	cu_export_plan *plan = malloc(sizeof(*plan));
	cu_result rc, decided;

	*doc = NULL;
	if (!plan)
		return CU_ERR_NOMEM;
	decided = cu_export_prepare(ctx->policy, ctx->store, actor, member, format, plan);
	/* Allowed or not, the decision is audited first; unaudited, nothing is opened. */
	rc = cu_export_record(ctx, plan);
	if (!rc)
		rc = decided;
	if (!rc)
		rc = cu_export_collect(ctx->policy, ctx->vault, ctx->store, plan, now_us, doc);
	cu_export_plan_release(plan);
	sodium_memzero(plan, sizeof(*plan));
	free(plan);
	return rc;
}

/* ---- CSV ----------------------------------------------------------------- */

struct csv_out {
	FILE *f;
	const char *section;
	const char *item;
	int failed;
};

static void cell(struct csv_out *c, const char *s, size_t n, bool last)
{
	if (csv_fwrite(c->f, s, n) != 0 || fputs(last ? "\r\n" : ",", c->f) == EOF)
		c->failed = 1;
}

static void row4(struct csv_out *c, const char *key, const char *value, size_t vlen)
{
	cell(c, c->section, strlen(c->section), false);
	cell(c, c->item, strlen(c->item), false);
	cell(c, key, strlen(key), false);
	cell(c, value, vlen, true);
}

/* Writes every scalar under j, keyed by its path below the item. */
static void flatten(struct csv_out *c, const json_t *j, char *path, size_t len, size_t cap)
{
	char num[NUM_TEXT_BYTES];
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, key, v)
		{
			int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);

			if (n < 0 || (size_t)n >= cap - len) {
				c->failed = 1;
				return;
			}
			flatten(c, v, path, len + (size_t)n, cap);
			path[len] = '\0';
		}
		return;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
		{
			int n = snprintf(path + len, cap - len, "%s%zu", len ? "." : "", i);

			if (n < 0 || (size_t)n >= cap - len) {
				c->failed = 1;
				return;
			}
			flatten(c, v, path, len + (size_t)n, cap);
			path[len] = '\0';
		}
		return;
	case JSON_STRING:
		row4(c, path, json_string_value(j), json_string_length(j));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		row4(c, path, num, strlen(num));
		return;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		row4(c, path, num, strlen(num));
		return;
	case JSON_TRUE:
		row4(c, path, "true", 4);
		return;
	case JSON_FALSE:
		row4(c, path, "false", 5);
		return;
	case JSON_NULL:
		row4(c, path, "", 0);
		return;
	}
}

cu_result cu_export_csv(const json_t *doc, char **out, size_t *len)
{
	struct csv_out c = {NULL, "", "", 0};
	char path[CSV_PATH_BYTES], pos[INDEX_TEXT_BYTES];
	const char *section;
	json_t *part, *el;
	size_t i;

	*out = NULL;
	*len = 0;
	if (!json_is_object(doc))
		return CU_ERR_INVALID_ARGUMENT;
	c.f = open_memstream(out, len);
	if (!c.f)
		return CU_ERR_NOMEM;
	c.section = "section";
	c.item = "item";
	row4(&c, "key", "value", 5);
	json_object_foreach((json_t *)doc, section, part)
	{
		c.section = section;
		path[0] = '\0';
		if (json_is_array(part)) {
			json_array_foreach(part, i, el)
			{
				const char *id = json_string_value(json_object_get(el, "id"));

				snprintf(pos, sizeof(pos), "%zu", i);
				c.item = id ? id : pos;
				path[0] = '\0';
				flatten(&c, el, path, 0, sizeof(path));
			}
		} else {
			c.item = "";
			flatten(&c, part, path, 0, sizeof(path));
		}
	}
	if (fclose(c.f) != 0)
		c.failed = 1;
	if (c.failed) {
		if (*out) {
			sodium_memzero(*out, *len);
			free(*out);
		}
		*out = NULL;
		*len = 0;
		return CU_ERR_NOMEM;
	}
	return CU_OK;
}
