/*
 * src/domain/breach.c — breach triage (breach.h): the audit trail scanned for
 * the window, the hits merged per member, their keys looked up, the report
 * built as JSON and written as a Markdown draft.
 */
#include "domain/breach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit_log.h"
#include "domain/members.h"
#include "domain/subcontractors.h"
#include "domain/tokens.h"
#include "store/backend.h"
#include "util/date.h"

/* Field names an old entry may name that the policy in force no longer has. */
#define RETIRED_MAX 32
/* Member ids asked of the store at a time when listing a key's members. */
#define KEY_PAGE 512
/* Room for the assessment's audit reason. */
#define REASON_BYTES 256
/* Room for "contract " and a registry id, and the NUL. */
#define CONTRACT_MARK_BYTES (sizeof("contract ") + CU_REGISTRY_ID_MAX)

/* What an allowed read opens besides policy fields: the bit in a hit's `extra`. */
enum { X_DIARIES, X_REQUEST_TEXTS, X_COMPLAINT_TEXTS, X_N };

static const struct {
	const char *name, *label, *action;
} extras[X_N] = {
    [X_DIARIES] = {"diaries", "Diary entries", "read_diaries"},
    [X_REQUEST_TEXTS] = {"request_texts", "Texts of requests", "read_request"},
    [X_COMPLAINT_TEXTS] = {"complaint_texts", "Texts of complaints", "read_complaint"},
};

/* The actions whose allowed entries opened what their fields name. */
static const char *const field_actions[] = {"read", "share_read", "provide"};

struct hit {
	char member[CU_ID_LEN + 1];
	cu_fieldset fields;
	uint32_t extra, retired; /* bits: extras, and the scan's retired names */
	uint64_t events;
	bool have_key, erased;
	uint32_t key_id;
};

struct scan {
	const cu_policy *p;
	const cu_breach_query *q;
	const char *actor, *role;           /* CU_BREACH_TOKEN: whose reads */
	char contract[CONTRACT_MARK_BYTES]; /* CU_BREACH_SUBCONTRACTOR: "contract ID" */
	struct hit *hits;                   /* one per event, then one per member */
	size_t n, cap;
	json_t *timeline;
	uint64_t events, omitted;
	int64_t first_us, last_us;
	char retired[RETIRED_MAX][CU_POLICY_ID_MAX + 1];
	size_t nretired;
	cu_result rc;
};

static int by_member(const void *a, const void *b)
{
	return strcmp(((const struct hit *)a)->member, ((const struct hit *)b)->member);
}

static struct hit *hit_add(struct scan *s, const char *member)
{
	struct hit *h;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct hit *grown = realloc(s->hits, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->hits = grown;
		s->cap = cap;
	}
	h = &s->hits[s->n++];
	memset(h, 0, sizeof(*h));
	snprintf(h->member, sizeof(h->member), "%s", member);
	return h;
}

/* Whether reason names "contract ID" whole (then the end or "; ..."). */
static bool names_contract(const char *reason, const char *mark)
{
	size_t n = strlen(mark);

	for (const char *at = reason ? strstr(reason, mark) : NULL; at; at = strstr(at + 1, mark))
		if ((at == reason || at[-1] == ' ') && (at[n] == '\0' || at[n] == ';'))
			return true;
	return false;
}

/* What the entry opened, if it is an allowed read: 1 and *extra, else 0. */
static int opened(const cu_audit_entry *e, uint32_t *extra)
{
	if (strcmp(e->decision ? e->decision : "", "allow") &&
	    strcmp(e->decision ? e->decision : "", "partial"))
		return 0;
	*extra = 0;
	for (size_t i = 0; i < sizeof(field_actions) / sizeof(field_actions[0]); i++)
		if (!strcmp(e->action, field_actions[i]))
			return 1;
	for (int x = 0; x < X_N; x++)
		if (!strcmp(e->action, extras[x].action)) {
			*extra = 1u << x;
			return 1;
		}
	return 0;
}

/* The policy fields (into *set) and retired names (into *retired) an entry's fields name. */
static void parse_fields(struct scan *s, const char *text, cu_fieldset *set, uint32_t *retired)
{
	const char *p = text;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[CU_POLICY_ID_MAX + 1];
		int i;

		if (n && n <= CU_POLICY_ID_MAX) {
			memcpy(name, p, n);
			name[n] = '\0';
			i = cu_policy_field_index(s->p, name);
			if (i >= 0) {
				*set |= (cu_fieldset)1 << i;
			} else if (strcmp(name, extras[X_DIARIES].name)) {
				size_t j;

				for (j = 0; j < s->nretired && strcmp(s->retired[j], name); j++)
					;
				if (j == s->nretired && j < RETIRED_MAX)
					snprintf(s->retired[s->nretired++], sizeof(s->retired[0]),
					         "%s", name);
				if (j < RETIRED_MAX)
					*retired |= 1u << j;
			}
		}
		p = comma ? comma + 1 : NULL;
	}
}

static void timeline_add(struct scan *s, const cu_audit_entry *e)
{
	char t[CU_TIME_BYTES];
	json_t *fields, *ev;

	if (!s->first_us || e->time_us < s->first_us)
		s->first_us = e->time_us;
	if (e->time_us > s->last_us)
		s->last_us = e->time_us;
	s->events++;
	if (json_array_size(s->timeline) >= CU_BREACH_TIMELINE_MAX) {
		s->omitted++;
		return;
	}
	cu_time_format(e->time_us, t);
	fields = json_array();
	for (const char *p = e->fields; fields && p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n)
			json_array_append_new(fields, json_stringn(p, n));
		p = comma ? comma + 1 : NULL;
	}
	ev = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "seq", (json_int_t)e->seq, "time", t,
	               "action", e->action ? e->action : "", "role", e->role ? e->role : "",
	               "member", e->member ? e->member : "", "purpose",
	               e->purpose ? e->purpose : "", "fields", fields);
	if (!ev || json_array_append_new(s->timeline, ev))
		s->rc = CU_ERR_NOMEM;
}

/* One audit entry: an event of the assessment or not. */
static int on_entry(void *ud, const cu_audit_entry *e)
{
	struct scan *s = ud;
	uint32_t extra = 0, retired = 0;
	cu_fieldset set = 0;
	struct hit *h, key;

	if (e->time_us < s->q->since_us || e->time_us > s->q->until_us || !e->member ||
	    !cu_vault_id_well_formed(e->member))
		return 0;
	if (s->q->by == CU_BREACH_KEY) {
		/* What happened to the key's members in the window: every effective entry. */
		if (!s->n || !strcmp(e->decision ? e->decision : "", "deny"))
			return 0;
		snprintf(key.member, sizeof(key.member), "%s", e->member);
		h = bsearch(&key, s->hits, s->n, sizeof(*s->hits), by_member);
		if (!h)
			return 0;
		h->events++;
		timeline_add(s, e);
		return s->rc != CU_OK;
	}
	if (!opened(e, &extra))
		return 0;
	if (s->q->by == CU_BREACH_TOKEN &&
	    (strcmp(e->actor ? e->actor : "", s->actor) || strcmp(e->role ? e->role : "", s->role)))
		return 0;
	if (s->q->by == CU_BREACH_SUBCONTRACTOR &&
	    (strcmp(e->role ? e->role : "", cu_role_name(CU_ROLE_SUBCONTRACTOR)) ||
	     !names_contract(e->reason, s->contract)))
		return 0;
	if (!extra)
		parse_fields(s, e->fields, &set, &retired);
	h = hit_add(s, e->member);
	if (!h) {
		s->rc = CU_ERR_NOMEM;
		return 1;
	}
	h->fields = set;
	h->extra = extra;
	h->retired = retired;
	h->events = 1;
	timeline_add(s, e);
	return s->rc != CU_OK;
}

/* Sorts the per-event hits by member and folds each member's into one. */
static void merge(struct scan *s)
{
	size_t out = 0;

	if (!s->n)
		return;
	qsort(s->hits, s->n, sizeof(*s->hits), by_member);
	for (size_t i = 1; i < s->n; i++) {
		struct hit *a = &s->hits[out], *b = &s->hits[i];

		if (!strcmp(a->member, b->member)) {
			a->fields |= b->fields;
			a->extra |= b->extra;
			a->retired |= b->retired;
			a->events += b->events;
		} else {
			s->hits[++out] = *b;
		}
	}
	s->n = out + 1;
}

/* Each member's key and whether they were erased since (not for CU_BREACH_KEY). */
static cu_result lookup_keys(cu_ctx *ctx, struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		cu_member_row row = {0};
		cu_result rc = cu_member_get(ctx->store, s->hits[i].member, &row);

		if (rc == CU_ERR_NOT_FOUND)
			continue;
		if (rc)
			return rc;
		s->hits[i].erased = row.erased;
		s->hits[i].have_key = !row.erased;
		s->hits[i].key_id = row.key_id;
		cu_member_row_release(&row);
	}
	return CU_OK;
}

/*
 * Whether a leak of key `key_id` opens this member's data key: the member is
 * wrapped under that very key (a tree of the keyring, or a master key in
 * format 1), or the key is a master key and the member is wrapped under a
 * tree — the keyring holding every tree is sealed under the master key
 * (vault/keyring.h), so a master key and the keyring file open them all.
 */
static bool key_exposes(const cu_vault *v, uint32_t key_id, const cu_member_row *row)
{
	if (row->key_id == key_id)
		return true;
	if (row->wrapped[0] != CU_VAULT_WRAP_TREE)
		return false;
	for (size_t i = 0; i < cu_vault_key_count(v); i++)
		if (cu_vault_key_id_at(v, i) == key_id)
			return true;
	return false;
}

/* The live members whose data key a leak of q->key_id opens, in id order. */
static cu_result key_members(cu_ctx *ctx, struct scan *s)
{
	char(*ids)[CU_ID_LEN + 1] = malloc(KEY_PAGE * sizeof(*ids));
	char after[CU_ID_LEN + 1] = "";
	cu_result rc = ids ? CU_OK : CU_ERR_NOMEM;
	size_t n = KEY_PAGE;

	while (!rc && n == KEY_PAGE) {
		rc = cu_store_member_ids(ctx->store, after, ids, KEY_PAGE, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			cu_member_row row = {0};
			struct hit *h;

			rc = cu_member_get(ctx->store, ids[i], &row);
			if (rc == CU_ERR_NOT_FOUND) {
				rc = CU_OK;
				continue;
			}
			if (!rc && !row.erased && key_exposes(ctx->vault, s->q->key_id, &row)) {
				h = hit_add(s, ids[i]);
				if (h) {
					h->fields = row.present;
					h->have_key = true;
					h->key_id = row.key_id;
				} else {
					rc = CU_ERR_NOMEM;
				}
			}
			cu_member_row_release(&row);
		}
		if (n)
			snprintf(after, sizeof(after), "%s", ids[n - 1]);
	}
	free(ids);
	return rc;
}

/* ---- the report --------------------------------------------------------------- */

static json_t *names_of(const struct scan *s, const struct hit *h)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->p->nfields; i++)
		if ((h->fields >> i) & 1)
			json_array_append_new(a, json_string(s->p->fields[i].name));
	for (int x = 0; a && x < X_N; x++)
		if ((h->extra >> x) & 1)
			json_array_append_new(a, json_string(extras[x].name));
	for (size_t j = 0; a && j < s->nretired; j++)
		if ((h->retired >> j) & 1)
			json_array_append_new(a, json_string(s->retired[j]));
	return a;
}

static json_t *categories_of(const struct scan *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->p->nfields; i++) {
		const cu_policy_field *f = &s->p->fields[i];
		json_int_t n = 0;

		for (size_t k = 0; k < s->n; k++)
			n += (s->hits[k].fields >> i) & 1;
		if (n)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "field", f->name,
			                                   "label", f->label ? f->label : f->name,
			                                   "category",
			                                   f->identifier ? "identifier"
			                                   : f->survey   ? "survey"
			                                                 : "other",
			                                   "members", n));
	}
	for (int x = 0; a && x < X_N; x++) {
		json_int_t n = 0;

		for (size_t k = 0; k < s->n; k++)
			n += (s->hits[k].extra >> x) & 1;
		if (n)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "field",
			                                   extras[x].name, "label", extras[x].label,
			                                   "category", "other", "members", n));
	}
	for (size_t j = 0; a && j < s->nretired; j++) {
		json_int_t n = 0;

		for (size_t k = 0; k < s->n; k++)
			n += (s->hits[k].retired >> j) & 1;
		if (n)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "field",
			                                   s->retired[j], "label", s->retired[j],
			                                   "category", "no longer in the policy",
			                                   "members", n));
	}
	return a;
}

struct key_count {
	bool erased;
	uint32_t key_id;
	json_int_t members;
};

static json_t *keys_of(const struct scan *s)
{
	struct key_count k[CU_VAULT_KEYS_MAX + 2];
	size_t nk = 0;
	json_t *a = json_array();

	memset(k, 0, sizeof(k));
	for (size_t i = 0; i < s->n; i++) {
		const struct hit *h = &s->hits[i];
		size_t j;

		for (j = 0; j < nk; j++)
			if (k[j].erased == !h->have_key &&
			    (!h->have_key || k[j].key_id == h->key_id))
				break;
		if (j == nk && nk < sizeof(k) / sizeof(k[0])) {
			k[nk].erased = !h->have_key;
			k[nk].key_id = h->key_id;
			nk++;
		}
		if (j < nk)
			k[j].members++;
	}
	/* By key id, the erased (no key) last. */
	for (size_t i = 1; i < nk; i++)
		for (size_t j = i; j > 0; j--) {
			struct key_count *x = &k[j - 1], *y = &k[j];

			if (x->erased > y->erased ||
			    (x->erased == y->erased && x->key_id > y->key_id)) {
				struct key_count t = *x;

				*x = *y;
				*y = t;
			}
		}
	for (size_t i = 0; a && i < nk; i++)
		json_array_append_new(
		    a, json_pack("{s:o, s:I}", "key_id",
		                 k[i].erased ? json_null() : json_integer(k[i].key_id), "members",
		                 k[i].members));
	return a;
}

static json_t *members_of(const struct scan *s, json_int_t *erased)
{
	json_t *a = json_array();

	*erased = 0;
	for (size_t i = 0; a && i < s->n; i++) {
		const struct hit *h = &s->hits[i];

		*erased += h->erased;
		json_array_append_new(
		    a, json_pack("{s:s, s:o, s:o, s:b, s:I}", "id", h->member, "fields",
		                 names_of(s, h), "key_id",
		                 h->have_key ? json_integer(h->key_id) : json_null(), "erased",
		                 h->erased, "events", (json_int_t)h->events));
	}
	return a;
}

static const char *const limits_all[] = {
    "Only what went through Custodian is in the audit trail: a copy of the database, of "
    "master.key or of a backup taken outside Custodian, and anything a reader did with data "
    "after it was shown to them, are not.",
    "An allowed read shows which fields were opened for the reader, not what the reader "
    "kept, copied or passed on.",
    "The audit trail is only as trustworthy as 'custodian audit verify' (with a checkpoint "
    "kept off the host) says it is: run it before relying on this report.",
};

static json_t *limits_of(const cu_breach_query *q, json_int_t sharing)
{
	json_t *a = json_array();
	char line[REASON_BYTES];

	for (size_t i = 0; a && i < sizeof(limits_all) / sizeof(limits_all[0]); i++)
		json_array_append_new(a, json_string(limits_all[i]));
	if (!a)
		return NULL;
	if (q->by == CU_BREACH_TOKEN) {
		json_array_append_new(
		    a, json_string(
		           "The audit trail names a token's holder by the token's name and "
		           "role, not by its id: the reads of every token of that name and role "
		           "are counted here."));
		if (sharing) {
			snprintf(
			    line, sizeof(line),
			    "%lld other token(s) share this token's name and role; their reads "
			    "cannot be told apart from its own.",
			    (long long)sharing);
			json_array_append_new(a, json_string(line));
		}
	} else if (q->by == CU_BREACH_KEY) {
		json_array_append_new(
		    a,
		    json_string("Whether and when the key leaked is not in the audit trail. Every "
		                "field listed is sealed under a data key wrapped by this key: with "
		                "the key and a copy of the database, all of them can be opened."));
		json_array_append_new(
		    a, json_string(
		           "Members erased before this assessment are not listed: their row "
		           "no longer holds a wrapped key. A copy or backup taken before their "
		           "erasure still holds it (docs/keys.md)."));
	} else if (q->by == CU_BREACH_SUBCONTRACTOR) {
		json_array_append_new(
		    a,
		    json_string("Only the subcontractor's reads through its contract-bound tokens "
		                "are known; data handed to it any other way is not."));
	} else {
		json_array_append_new(
		    a,
		    json_string("Every allowed read is counted, members' reads of their own data "
		                "included."));
	}
	return a;
}

static const char *statement_of(const cu_breach_query *q)
{
	if (q->by == CU_BREACH_KEY)
		return "Every field is encrypted at rest (XChaCha20-Poly1305 under a per-member data "
		       "key). These members' data keys are wrapped under the key assessed: if it "
		       "leaked together with a copy of the database, the encryption does not protect "
		       "them.";
	return "Every field is encrypted at rest (XChaCha20-Poly1305 under a per-member data key "
	       "wrapped by a master key kept outside the database). The events listed were reads "
	       "through the access door, which decrypted the fields listed for the reader: for "
	       "that reader, encryption at rest did not protect them.";
}

static json_t *selector_of(cu_ctx *ctx, const cu_breach_query *q, const cu_token_info *tok,
                           json_int_t sharing)
{
	cu_subcontractor_row sub;

	switch (q->by) {
	case CU_BREACH_TOKEN:
		return json_pack("{s:s, s:s, s:s, s:I}", "kind", "token", "id", tok->id, "role",
		                 cu_role_name(tok->role), "tokens_sharing_name", sharing);
	case CU_BREACH_SUBCONTRACTOR: {
		char start[CU_DATE_LEN + 1], end[CU_DATE_LEN + 1];
		json_t *ps, *fs;

		if (cu_subcontractor_get(ctx->store, q->id, &sub))
			return NULL;
		cu_date_format(sub.start_us, start);
		cu_date_format(sub.end_us - CU_DAY_US, end);
		ps = json_array();
		fs = json_array();
		for (const char *p = sub.purposes_text; ps && *p;) {
			size_t n = strcspn(p, ",");

			json_array_append_new(ps, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		for (const char *p = sub.fields_text; fs && *p;) {
			size_t n = strcspn(p, ",");

			json_array_append_new(fs, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		return json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "kind", "subcontractor", "id",
		                 sub.id, "purposes", ps, "fields", fs, "start", start, "end", end);
	}
	case CU_BREACH_KEY:
		return json_pack("{s:s, s:I}", "kind", "key", "key_id", (json_int_t)q->key_id);
	default:
		return json_pack("{s:s}", "kind", "all");
	}
}

static const char *const by_names[] = {"all", "token", "subcontractor", "key"};

/* Writes the assessment's entry (or a refusal) in a transaction of its own. */
static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *fields, const char *decision,
                       const char *reason)
{
	cu_audit_entry e = {0};
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	e.actor = actor && actor->name ? actor->name : "";
	e.role = actor ? cu_role_name(actor->role) : "";
	e.action = "breach_assess";
	e.member = "";
	e.purpose = "";
	e.fields = fields;
	e.decision = decision;
	e.reason = reason;
	rc = cu_audit_append(ctx->audit, ctx->store, &e);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

struct same_name {
	const cu_token_info *t;
	json_int_t n;
};

static int count_same(void *ud, const cu_token_info *t)
{
	struct same_name *s = ud;

	if (strcmp(t->id, s->t->id) && t->role == s->t->role && !strcmp(t->name, s->t->name))
		s->n++;
	return 0;
}

/* Checks q and what it names; fills the scan's matching rules. */
static cu_result prepare(cu_ctx *ctx, const cu_breach_query *q, struct scan *s, cu_token_info *tok,
                         json_int_t *sharing)
{
	cu_subcontractor_row sub;
	cu_result rc;

	if (q->since_us > q->until_us || (unsigned)q->by > CU_BREACH_KEY)
		return CU_ERR_INVALID_ARGUMENT;
	if ((q->by == CU_BREACH_TOKEN || q->by == CU_BREACH_SUBCONTRACTOR) && (!q->id || !*q->id))
		return CU_ERR_INVALID_ARGUMENT;
	if (q->by == CU_BREACH_KEY && q->key_id == 0)
		return CU_ERR_INVALID_ARGUMENT;
	if (q->by == CU_BREACH_TOKEN) {
		struct same_name same = {tok, 0};

		if (!cu_vault_id_well_formed(q->id))
			return CU_ERR_NOT_FOUND;
		rc = cu_token_get(ctx->store, q->id, tok);
		if (rc)
			return rc;
		rc = cu_token_list(ctx->store, count_same, &same);
		if (rc)
			return rc;
		*sharing = same.n;
		s->actor = tok->name;
		s->role = cu_role_name(tok->role);
	} else if (q->by == CU_BREACH_SUBCONTRACTOR) {
		if (strlen(q->id) > CU_REGISTRY_ID_MAX)
			return CU_ERR_NOT_FOUND;
		rc = cu_subcontractor_get(ctx->store, q->id, &sub);
		if (rc)
			return rc;
		snprintf(s->contract, sizeof(s->contract), "contract %s", sub.id);
	}
	return CU_OK;
}

cu_result cu_breach_assess(cu_ctx *ctx, const cu_actor *actor, const cu_breach_query *q,
                           json_t **out)
{
	char since[CU_TIME_BYTES], until[CU_TIME_BYTES], first[CU_TIME_BYTES], last[CU_TIME_BYTES];
	char reason[REASON_BYTES], fields[CU_FIELDSET_TEXT_MAX + 1];
	struct scan s;
	cu_token_info tok;
	json_int_t sharing = 0, erased = 0;
	cu_fieldset all = 0;
	json_t *rep = NULL, *members = NULL;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!ctx || !q)
		return CU_ERR_INVALID_ARGUMENT;
	if (!actor || (actor->role != CU_ROLE_OFFICER && actor->role != CU_ROLE_OPERATOR)) {
		rc = audit(ctx, actor, "", "deny", cu_result_code(CU_ERR_FORBIDDEN));
		return rc ? rc : CU_ERR_FORBIDDEN;
	}
	memset(&s, 0, sizeof(s));
	memset(&tok, 0, sizeof(tok));
	s.p = ctx->policy;
	s.q = q;
	rc = prepare(ctx, q, &s, &tok, &sharing);
	if (rc)
		return rc;
	s.timeline = json_array();
	if (!s.timeline) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	/* One snapshot for the members and the trail, so they agree. */
	rc = cu_store_snapshot_begin(ctx->store);
	if (rc)
		goto out;
	if (q->by == CU_BREACH_KEY)
		rc = key_members(ctx, &s);
	if (!rc)
		rc = cu_audit_log_scan(ctx->store, 1, NULL, on_entry, &s);
	if (!rc)
		rc = s.rc;
	if (!rc && q->by != CU_BREACH_KEY) {
		merge(&s);
		rc = lookup_keys(ctx, &s);
	}
	cu_store_snapshot_end(ctx->store);
	if (rc)
		goto out;

	for (size_t i = 0; i < s.n; i++)
		all |= s.hits[i].fields;
	cu_policy_fieldset_format(s.p, all, fields, sizeof(fields));
	cu_time_format(q->since_us, since);
	cu_time_format(q->until_us, until);
	cu_time_format(s.first_us, first);
	cu_time_format(s.last_us, last);
	members = members_of(&s, &erased);
	rep = json_pack(
	    "{s:{s:s, s:s}, s:o, s:{s:I, s:I, s:I, s:o, s:o}, s:{s:b, s:s, s:o}, s:o, s:o, s:o, "
	    "s:I, s:o}",
	    "window", "since", since, "until", until, "selector",
	    selector_of(ctx, q, &tok, sharing), "summary", "members", (json_int_t)s.n, "events",
	    (json_int_t)s.events, "erased", erased, "first_event",
	    s.events ? json_string(first) : json_null(), "last_event",
	    s.events ? json_string(last) : json_null(), "encryption", "at_rest", 1, "statement",
	    statement_of(q), "keys", keys_of(&s), "categories", categories_of(&s), "members",
	    members, "timeline", s.timeline, "timeline_omitted", (json_int_t)s.omitted, "limits",
	    limits_of(q, sharing));
	members = NULL;
	s.timeline = NULL;
	if (!rep) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	snprintf(reason, sizeof(reason), "window %s..%s; by %s%s%s; members %zu; events %llu",
	         since, until, by_names[q->by],
	         q->by == CU_BREACH_TOKEN || q->by == CU_BREACH_SUBCONTRACTOR ? " " : "",
	         q->by == CU_BREACH_TOKEN || q->by == CU_BREACH_SUBCONTRACTOR ? q->id : "", s.n,
	         (unsigned long long)s.events);
	if (q->by == CU_BREACH_KEY)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "; key %u",
		         (unsigned)q->key_id);
	rc = audit(ctx, actor, fields, "done", reason);
	if (rc)
		goto out;
	*out = rep;
	rep = NULL;
out:
	json_decref(rep);
	json_decref(members);
	json_decref(s.timeline);
	free(s.hits);
	return rc;
}

/* ---- Markdown -------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void list(FILE *f, const json_t *a)
{
	size_t i, n = json_array_size(a);

	if (!n)
		fputs("—", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", json_string_value(json_array_get(a, i)));
}

static void md_scope(FILE *f, const json_t *sel)
{
	const char *kind = str(sel, "kind");

	if (!strcmp(kind, "token"))
		fprintf(f, "the reads of token `%s` (role %s)", str(sel, "id"), str(sel, "role"));
	else if (!strcmp(kind, "subcontractor")) {
		fprintf(f, "the reads of subcontractor `%s` under its contract (purposes ",
		        str(sel, "id"));
		list(f, json_object_get(sel, "purposes"));
		fputs("; fields ", f);
		list(f, json_object_get(sel, "fields"));
		fprintf(f, "; in force %s to %s)", str(sel, "start"), str(sel, "end"));
	} else if (!strcmp(kind, "key"))
		fprintf(f, "the members whose data key is wrapped under master key %lld",
		        num(sel, "key_id"));
	else
		fputs("every allowed read of members' data", f);
}

static void md_members(FILE *f, const json_t *rep)
{
	const json_t *a = json_object_get(rep, "members"), *m;
	size_t i;

	fputs("\n## Members\n\n", f);
	if (!json_array_size(a)) {
		fputs("None.\n", f);
		return;
	}
	fputs("| member id | fields | key | events |\n|---|---|---|---|\n", f);
	json_array_foreach(a, i, m)
	{
		const json_t *k = json_object_get(m, "key_id");

		if (i >= CU_BREACH_MD_MEMBERS_MAX) {
			fprintf(f, "\n… and %zu more: `--json` lists every one.\n",
			        json_array_size(a) - i);
			break;
		}
		fprintf(f, "| `%s` | ", str(m, "id"));
		list(f, json_object_get(m, "fields"));
		if (json_is_integer(k))
			fprintf(f, " | %lld", (long long)json_integer_value(k));
		else
			fputs(json_is_true(json_object_get(m, "erased")) ? " | erased since"
			                                                 : " | —",
			      f);
		fprintf(f, " | %lld |\n", num(m, "events"));
	}
}

static void md_timeline(FILE *f, const json_t *rep)
{
	const json_t *a = json_object_get(rep, "timeline"), *e;
	long long omitted = num(rep, "timeline_omitted");
	size_t i;

	fputs("\n## Timeline\n\n", f);
	if (!json_array_size(a)) {
		fputs("No event in the window.\n", f);
		return;
	}
	fputs("| time (UTC) | audit entry | action | role | member id | purpose | fields |\n"
	      "|---|---|---|---|---|---|---|\n",
	      f);
	json_array_foreach(a, i, e)
	{
		if (i >= CU_BREACH_MD_TIMELINE_MAX) {
			omitted += (long long)(json_array_size(a) - i);
			break;
		}
		fprintf(f, "| %s | %lld | %s | %s | `%s` | %s | ", str(e, "time"), num(e, "seq"),
		        str(e, "action"), str(e, "role"), str(e, "member"), str(e, "purpose"));
		list(f, json_object_get(e, "fields"));
		fputs(" |\n", f);
	}
	if (omitted)
		fprintf(f, "\n… and %lld more events (the counts above include them).\n", omitted);
}

cu_result cu_breach_markdown(const json_t *rep, char **out, size_t *len)
{
	const json_t *win = json_object_get(rep, "window"), *sum = json_object_get(rep, "summary"),
	             *enc = json_object_get(rep, "encryption"), *x;
	size_t i;
	FILE *f;

	if (!out || !len)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	*len = 0;
	if (!json_is_object(win) || !json_is_object(sum) || !json_is_object(enc))
		return CU_ERR_INVALID_ARGUMENT;
	f = open_memstream(out, len);
	if (!f)
		return CU_ERR_NOMEM;
	fprintf(f,
	        "# Breach assessment (draft report)\n\n- Window: %s to %s (UTC, both included)\n",
	        str(win, "since"), str(win, "until"));
	fputs("- Scope: ", f);
	md_scope(f, json_object_get(rep, "selector"));
	fprintf(f, "\n- Members whose data could have been exposed: %lld", num(sum, "members"));
	if (num(sum, "erased"))
		fprintf(f, " (%lld of them erased since)", num(sum, "erased"));
	fprintf(f, "\n- Events: %lld", num(sum, "events"));
	if (num(sum, "events"))
		fprintf(f, ", the first at %s, the last at %s", str(sum, "first_event"),
		        str(sum, "last_event"));
	fprintf(f, "\n- Encrypted at rest: %s. %s\n",
	        json_is_true(json_object_get(enc, "at_rest")) ? "yes" : "no",
	        str(enc, "statement"));
	json_array_foreach(json_object_get(enc, "keys"), i, x)
	{
		const json_t *k = json_object_get(x, "key_id");

		if (json_is_integer(k))
			fprintf(f, "  - master key %lld: %lld members\n",
			        (long long)json_integer_value(k), num(x, "members"));
		else
			fprintf(f, "  - erased since (no key left): %lld members\n",
			        num(x, "members"));
	}
	fputs("\n## Categories of data\n\n", f);
	if (!json_array_size(json_object_get(rep, "categories")))
		fputs("None.\n", f);
	else
		fputs("| field | what it is | category | members |\n|---|---|---|---|\n", f);
	json_array_foreach(json_object_get(rep, "categories"), i, x)
	    fprintf(f, "| `%s` | %s | %s | %lld |\n", str(x, "field"), str(x, "label"),
	            str(x, "category"), num(x, "members"));
	md_timeline(f, rep);
	md_members(f, rep);
	fputs("\n## What this assessment cannot know\n\n", f);
	json_array_foreach(json_object_get(rep, "limits"), i, x)
	    fprintf(f, "- %s\n", json_string_value(x));
	fprintf(f,
	        "\n## Draft notification\n\n"
	        "> Between %s and %s (UTC), the personal data of %lld members held by "
	        "[organisation] may have been exposed: ",
	        str(win, "since"), str(win, "until"), num(sum, "members"));
	json_array_foreach(json_object_get(rep, "categories"), i, x)
	    fprintf(f, "%s%s", i ? ", " : "", str(x, "label"));
	if (!json_array_size(json_object_get(rep, "categories")))
		fputs("no category of data", f);
	fputs(".\n> The data was held encrypted at rest. [What happened, how it was discovered, "
	      "and when.]\n> [What has been done: tokens revoked, keys rotated, ...] [What members "
	      "should do.]\n> Contact: [the privacy officer].\n",
	      f);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		*len = 0;
		return CU_ERR_NOMEM;
	}
	return CU_OK;
}
