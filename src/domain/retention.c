/*
 * src/domain/retention.c — the retention plan and its run (retention.h): the
 * rules applied member by member, the same function for both, so a run
 * does what the plan said.
 */
#include "domain/retention.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "domain/erasure.h"
#include "domain/notify.h"
#include "domain/third_parties.h"
#include "store/consent.h"
#include "store/store.h"
#include "store/third_party.h"
#include "util/date.h"
#include "vault/record.h"

#define FOREVER INT64_MAX
#define PAGE    256 /* member ids read per page; a run's members per transaction */
/* Entries read of one record: the policy's fields and those of past versions, with room. */
#define ENTRIES_MAX   (16 * CU_POLICY_FIELDS_MAX)
#define ITEMS_MAX     (ENTRIES_MAX + 2) /* a member's items: one per entry, a notice, an erasure */
#define REASON_BYTES  400               /* an audit reason of retention's */
#define FIELDS_BYTES  (CU_FIELDSET_TEXT_MAX + 1) /* the audit entry's field names */
#define SUBJECT_BYTES 120                        /* the inactive-account notice's subject */
#define BODY_BYTES    900                        /* ... and its body */
#define NAMES_MIN     64                         /* the name history's first allocation */

_Static_assert(CU_RETENTION_NAME_BYTES == UINT8_MAX + 1, "a record name's length is a u8");

static const char *const kind_names[] = {
    [CU_RETENTION_DROPPED_FIELD] = "dropped_field",
    [CU_RETENTION_FIELD_ENDED] = "field_ended",
    [CU_RETENTION_INACTIVE_NOTICE] = "inactive_notice",
    [CU_RETENTION_INACTIVE_ERASE] = "inactive_erase",
    [CU_RETENTION_PROVISIONS] = "provision_records",
};

const char *cu_retention_kind_name(cu_retention_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

/* ---- what the published versions say of each field name ------------------ */

/* A field name some version had, and since when it has been out. */
struct name_hist {
	char name[CU_RETENTION_NAME_BYTES];
	cu_field_kind kind; /* its kind in the last version that had it */
	int index;          /* its position there: a bit of `present` in rows of that time */
	int64_t absent_us;  /* publication of the first version of the run without it; 0 = in */
	char version[CU_VERSION_MAX + 1]; /* that version */
};

struct version_ref {
	char version[CU_VERSION_MAX + 1];
	int64_t published_us;
};

struct walk {
	cu_ctx *ctx;
	const cu_policy *p;
	int64_t now;
	struct name_hist *names;
	size_t nnames, cap;
	int64_t in_force_us; /* publication of the version in force (0 if not recorded) */
	bool need_activity;  /* a rule counts from the member's last activity */
	cu_record_entry *entries;
	cu_retention_item *items;
	size_t nitems;
};

struct versions {
	struct version_ref *v;
	size_t n, cap;
	bool nomem;
};

static int collect_version(void *ud, const char *version, int64_t published_us, const char *by)
{
	struct versions *vs = ud;

	(void)by;
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? 2 * vs->cap : 16;
		struct version_ref *v = realloc(vs->v, cap * sizeof(*v));

		if (!v) {
			vs->nomem = true;
			return 1;
		}
		vs->v = v;
		vs->cap = cap;
	}
	snprintf(vs->v[vs->n].version, sizeof(vs->v[vs->n].version), "%s", version);
	vs->v[vs->n].published_us = published_us;
	vs->n++;
	return 0;
}

static struct name_hist *name_find(const struct walk *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->nnames; i++)
		if (strlen(w->names[i].name) == len && memcmp(w->names[i].name, name, len) == 0)
			return &w->names[i];
	return NULL;
}

/* One version's fields: those it has are in; the others are out from its publication. */
static cu_result name_history_step(struct walk *w, const cu_policy *v, const struct version_ref *r)
{
	for (size_t i = 0; i < w->nnames; i++)
		if (!w->names[i].absent_us && !cu_policy_field_find(v, w->names[i].name)) {
			w->names[i].absent_us = r->published_us;
			memcpy(w->names[i].version, r->version, sizeof(w->names[i].version));
		}
	for (size_t i = 0; i < v->nfields; i++) {
		struct name_hist *h = name_find(w, v->fields[i].name, strlen(v->fields[i].name));

		if (!h) {
			if (w->nnames == w->cap) {
				size_t cap = w->cap ? 2 * w->cap : NAMES_MIN;
				struct name_hist *n = realloc(w->names, cap * sizeof(*n));

				if (!n)
					return CU_ERR_NOMEM;
				w->names = n;
				w->cap = cap;
			}
			h = &w->names[w->nnames++];
			snprintf(h->name, sizeof(h->name), "%s", v->fields[i].name);
		}
		h->kind = v->fields[i].kind;
		h->index = (int)i;
		h->absent_us = 0;
		h->version[0] = '\0';
	}
	return CU_OK;
}

/* Walks every published version, oldest first. */
static cu_result name_history(struct walk *w)
{
	struct versions vs = {0};
	char err[CU_ERR_MSG_MAX];
	cu_result rc;

	rc = cu_store_policy_list(w->ctx->store, collect_version, &vs);
	if (!rc && vs.nomem)
		rc = CU_ERR_NOMEM;
	for (size_t i = 0; !rc && i < vs.n; i++) {
		cu_policy *v = NULL;
		char *doc = NULL;
		size_t len = 0;

		rc = cu_store_policy_get(w->ctx->store, vs.v[i].version, &doc, &len, NULL);
		if (!rc)
			rc = cu_policy_load_buffer(vs.v[i].version, doc, len, &v, err, sizeof(err));
		/* A stored version that no longer loads (an older loader's rules) tells nothing. */
		if (rc == CU_ERR_POLICY_INVALID)
			rc = CU_OK;
		else if (!rc)
			rc = name_history_step(w, v, &vs.v[i]);
		cu_policy_free(v);
		free(doc);
		if (!rc && strcmp(vs.v[i].version, w->p->version) == 0)
			w->in_force_us = vs.v[i].published_us;
	}
	free(vs.v);
	return rc;
}

static bool needs_activity(const cu_policy *p)
{
	if (p->retention.inactive_notice_days != CU_RETENTION_NONE)
		return true;
	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i].retention_days != CU_RETENTION_NONE)
			return true;
	for (size_t i = 0; i < p->npurposes; i++)
		if (p->purposes[i].retention_days != CU_RETENTION_NONE)
			return true;
	return false;
}

static cu_result walk_init(struct walk *w, cu_ctx *ctx, int64_t now_us)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->p = ctx->policy;
	w->now = now_us;
	w->need_activity = needs_activity(w->p);
	w->entries = malloc(ENTRIES_MAX * sizeof(*w->entries));
	w->items = malloc(ITEMS_MAX * sizeof(*w->items));
	if (!w->entries || !w->items)
		return CU_ERR_NOMEM;
	return name_history(w);
}

static void walk_release(struct walk *w)
{
	free(w->names);
	free(w->entries);
	free(w->items);
	memset(w, 0, sizeof(*w));
}

/* ---- one member ----------------------------------------------------------- */

/* What the audit log knows of the member acting, and of retention's notice. */
struct activity {
	const char *member;
	int64_t last_us;   /* newest entry they wrote themselves */
	int64_t notice_us; /* newest "retention_notice" about them */
};

static int scan_activity(void *ud, const cu_audit_entry *e)
{
	struct activity *a = ud;

	if (e->actor && strcmp(e->actor, a->member) == 0 && e->time_us > a->last_us)
		a->last_us = e->time_us;
	if (e->action && strcmp(e->action, "retention_notice") == 0 && e->time_us > a->notice_us)
		a->notice_us = e->time_us;
	return 0;
}

static int64_t add_days(int64_t from_us, int days)
{
	int64_t d = (int64_t)days * CU_DAY_US;

	return from_us > FOREVER - d ? FOREVER : from_us + d;
}

static cu_retention_item *item_new(struct walk *w, cu_retention_kind kind, const char *member)
{
	cu_retention_item *it;

	if (w->nitems >= ITEMS_MAX)
		return NULL;
	it = &w->items[w->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->count = 1;
	snprintf(it->member, sizeof(it->member), "%s", member);
	return it;
}

/* Appends to an item's reason (cut, never overrun). */
static void why_add(cu_retention_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why_add(cu_retention_item *it, const char *fmt, ...)
{
	size_t used = strlen(it->why);
	va_list ap;

	if (used + 1 >= sizeof(it->why))
		return;
	va_start(ap, fmt);
	vsnprintf(it->why + used, sizeof(it->why) - used, fmt, ap);
	va_end(ap);
}

/*
 * When purpose pu stops holding the member's data (FOREVER: while the
 * membership lasts); what it is noted in the item's reason.
 */
static cu_result purpose_end(struct walk *w, const cu_member_row *row, const cu_policy_purpose *pu,
                             int64_t last_us, int64_t *end, char *note, size_t notelen)
{
	char day[CU_DATE_LEN + 1];

	*end = FOREVER;
	note[0] = '\0';
	if (pu->consent_required && pu->withdrawal_days != CU_RETENTION_NONE) {
		cu_consent_row c;
		cu_result rc =
		    cu_store_consent_current(w->ctx->store, row->id, "purpose", pu->id, &c);

		if (rc == CU_ERR_NOT_FOUND) {
			*end = row->created_us;
			snprintf(note, notelen, "%s (consent never given)", pu->id);
			return CU_OK;
		}
		if (rc)
			return rc;
		if (!c.granted) {
			*end = add_days(c.time_us, pu->withdrawal_days);
			cu_date_format(c.time_us, day);
			snprintf(note, notelen, "%s (consent withdrawn %s + %d d)", pu->id, day,
			         pu->withdrawal_days);
			return CU_OK;
		}
	}
	if (pu->retention_days != CU_RETENTION_NONE) {
		*end = add_days(last_us, pu->retention_days);
		snprintf(note, notelen, "%s (%d d after last activity)", pu->id,
		         pu->retention_days);
	}
	return CU_OK;
}

/* Rule 2 for field fi, present in the member's record. */
static cu_result field_rule(struct walk *w, const cu_member_row *row, size_t fi, int64_t last_us)
{
	const cu_policy_field *f = &w->p->fields[fi];
	int64_t by_purposes = FOREVER, cap = FOREVER, end;
	char notes[CU_RETENTION_WHY_BYTES] = "", note[CU_RETENTION_WHY_BYTES], day[CU_DATE_LEN + 1];
	bool granted = false;
	cu_retention_item *it;
	cu_result rc;

	for (size_t i = 0; i < w->p->npurposes; i++) {
		const cu_policy_purpose *pu = &w->p->purposes[i];
		int64_t e;
		size_t used = strlen(notes);

		if (!((pu->fields >> fi) & 1))
			continue;
		rc = purpose_end(w, row, pu, last_us, &e, note, sizeof(note));
		if (rc)
			return rc;
		if (!granted || e > by_purposes)
			by_purposes = e;
		granted = true;
		if (used + 1 < sizeof(notes))
			snprintf(notes + used, sizeof(notes) - used, "%s%s", used ? ", " : "",
			         note);
		if (by_purposes == FOREVER)
			break;
	}
	if (!granted)
		by_purposes = FOREVER; /* the member's own: no purpose, no end */
	if (f->retention_days != CU_RETENTION_NONE)
		cap = add_days(last_us, f->retention_days);
	end = cap < by_purposes ? cap : by_purposes;
	if (end == FOREVER)
		return CU_OK;
	it = item_new(w, CU_RETENTION_FIELD_ENDED, row->id);
	if (!it)
		return CU_ERR_TOO_LARGE;
	snprintf(it->field, sizeof(it->field), "%s", f->name);
	it->due_us = end;
	it->since_us = last_us;
	cu_date_format(last_us, day);
	if (cap <= by_purposes)
		why_add(it, "field period: %d d after last activity %s", f->retention_days, day);
	else
		why_add(it, "every purpose ended, last activity %s: %s", day, notes);
	return CU_OK;
}

/* Rule 1 for the record entry e, a name the policy in force lacks. */
static cu_result dropped_rule(struct walk *w, const cu_member_row *row, const cu_record_entry *e)
{
	const struct name_hist *h = name_find(w, e->name, e->name_len);
	int grace = w->p->retention.dropped_field_grace_days;
	char day[CU_DATE_LEN + 1];
	cu_retention_item *it = item_new(w, CU_RETENTION_DROPPED_FIELD, row->id);

	if (!it)
		return CU_ERR_TOO_LARGE;
	memcpy(it->field, e->name, e->name_len);
	it->field[e->name_len] = '\0';
	if (h && h->absent_us) {
		it->since_us = h->absent_us;
		cu_date_format(h->absent_us, day);
		why_add(it, "not in the policy since version %s (%s); grace %d d", h->version, day,
		        grace);
	} else {
		it->since_us = w->in_force_us;
		cu_date_format(w->in_force_us, day);
		why_add(it, "not in the policy in force, version %s (%s); grace %d d",
		        w->p->version, day, grace);
	}
	it->due_us = add_days(it->since_us, grace);
	return CU_OK;
}

/* Rule 3: the notice, or the erasure after it. */
static cu_result inactive_rule(struct walk *w, const cu_member_row *row, const struct activity *a)
{
	const cu_policy_retention *r = &w->p->retention;
	char last[CU_DATE_LEN + 1], sent[CU_DATE_LEN + 1];
	cu_retention_item *it;

	cu_date_format(a->last_us, last);
	if (a->notice_us > a->last_us) {
		it = item_new(w, CU_RETENTION_INACTIVE_ERASE, row->id);
		if (!it)
			return CU_ERR_TOO_LARGE;
		it->since_us = a->notice_us;
		it->due_us = add_days(a->notice_us, r->inactive_erase_days);
		cu_date_format(a->notice_us, sent);
		why_add(it, "no activity since %s; notice sent %s; erased %d d after it", last,
		        sent, r->inactive_erase_days);
	} else {
		it = item_new(w, CU_RETENTION_INACTIVE_NOTICE, row->id);
		if (!it)
			return CU_ERR_TOO_LARGE;
		it->since_us = a->last_us;
		it->due_us = add_days(a->last_us, r->inactive_notice_days);
		why_add(it, "no activity since %s; notice after %d d, erasure %d d later", last,
		        r->inactive_notice_days, r->inactive_erase_days);
	}
	return CU_OK;
}

/*
 * Every item of one member into w->items (w->nitems); *nentries and
 * w->entries the record's entries (pointing into row->fields).
 */
static cu_result member_items(struct walk *w, const cu_member_row *row, size_t *nentries)
{
	struct activity a = {.member = row->id};
	cu_result rc;

	w->nitems = 0;
	*nentries = 0;
	if (row->erased)
		return CU_OK;
	if (row->fields && row->fields_len) {
		rc = cu_record_parse(row->fields, row->fields_len, w->entries, ENTRIES_MAX,
		                     nentries);
		if (rc)
			return rc;
	}
	if (w->need_activity) {
		rc = cu_store_audit_scan(w->ctx->store, 0, row->id, scan_activity, &a);
		if (rc)
			return rc;
	}
	if (a.last_us < row->created_us)
		a.last_us = row->created_us;
	if (w->p->retention.inactive_notice_days != CU_RETENTION_NONE) {
		rc = inactive_rule(w, row, &a);
		if (rc)
			return rc;
		/* An erasure due takes everything with it: nothing else to list. */
		if (w->items[0].kind == CU_RETENTION_INACTIVE_ERASE && w->items[0].due_us <= w->now)
			return CU_OK;
	}
	for (size_t i = 0; i < *nentries; i++) {
		const cu_record_entry *e = &w->entries[i];
		char name[CU_RETENTION_NAME_BYTES];
		int fi;

		memcpy(name, e->name, e->name_len);
		name[e->name_len] = '\0';
		fi = cu_policy_field_index(w->p, name);
		/*
		 * Every name written is a field's id; one of another form was put
		 * there by hand (the door never opens it): not listed, not printed.
		 */
		if (fi < 0 && !cu_policy_id_form(name))
			continue;
		if (fi < 0)
			rc = dropped_rule(w, row, e);
		else
			rc = field_rule(w, row, (size_t)fi, a.last_us);
		if (rc)
			return rc;
	}
	return CU_OK;
}

/* ---- provision records (rule 4) ------------------------------------------- */

/*
 * The cut-off at w->now: provision_records_days before it, and never later
 * than the store's floor on the wall clock (store/third_party.h).
 */
static int64_t provision_cutoff(const struct walk *w)
{
	int64_t cut = w->now - (int64_t)w->p->retention.provision_records_days * CU_DAY_US;
	int64_t floor = cu_now_us() - CU_PROVISION_KEEP_US;

	return cut < floor ? cut : floor;
}

/* *it filled, *have false when there is nothing to list. */
static cu_result provision_item(struct walk *w, cu_retention_item *it, bool *have)
{
	int days = w->p->retention.provision_records_days;
	char day[CU_DATE_LEN + 1];
	int64_t oldest = 0, cut;
	uint64_t n = 0;
	cu_result rc;

	*have = false;
	if (days == CU_RETENTION_NONE)
		return CU_OK;
	cut = provision_cutoff(w);
	rc = cu_store_provision_census(w->ctx->store, cut, &n, &oldest);
	if (rc || !oldest)
		return rc;
	memset(it, 0, sizeof(*it));
	it->kind = CU_RETENTION_PROVISIONS;
	it->since_us = oldest;
	if (n) {
		it->count = n;
		it->due_us = add_days(oldest, days) < w->now ? add_days(oldest, days) : w->now;
		cu_date_format(cut, day);
		why_add(it, "records of provisions made before %s: kept %d d", day, days);
	} else {
		/* The next to go: those made at the oldest time, when their period ends. */
		rc = cu_store_provision_census(w->ctx->store, oldest + 1, &n, NULL);
		if (rc)
			return rc;
		it->count = n;
		/* days is at least the store's floor (the loader's check): no earlier. */
		it->due_us = add_days(oldest, days);
		cu_date_format(oldest, day);
		why_add(it, "the oldest record of provision, made %s: kept %d d", day, days);
	}
	*have = true;
	return CU_OK;
}

/* ---- the plan ---------------------------------------------------------------- */

/*
 * A member's activity is read through the per-member audit index, then a
 * scan of the tail after its mark (store.h: cu_store_audit_index): indexing
 * that tail before a page of members keeps each member's scan short.  In a
 * transaction of its own or a savepoint of the caller's; best effort (a
 * failure leaves the scans longer, not wrong).
 */
static void index_audit_tail(cu_ctx *ctx)
{
	if (cu_tx_begin(ctx) != CU_OK)
		return;
	if (cu_store_audit_index(ctx->store, NULL) != CU_OK) {
		cu_tx_rollback(ctx);
		return;
	}
	(void)!cu_tx_commit(ctx);
}

cu_result cu_retention_plan(cu_ctx *ctx, int64_t now_us, cu_retention_fn fn, void *ud)
{
	char after[CU_ID_LEN + 1] = "";
	char(*ids)[CU_ID_LEN + 1] = NULL;
	cu_retention_item prov;
	struct walk w;
	bool have, stop = false;
	size_t n = 0;
	cu_result rc;

	if (!ctx || !fn)
		return CU_ERR_INVALID_ARGUMENT;
	rc = walk_init(&w, ctx, now_us);
	ids = rc ? NULL : malloc(PAGE * sizeof(*ids));
	if (!rc && !ids)
		rc = CU_ERR_NOMEM;
	while (!rc && !stop) {
		if (w.need_activity)
			index_audit_tail(ctx);
		rc = cu_store_member_ids(ctx->store, after, ids, PAGE, &n);
		for (size_t i = 0; !rc && !stop && i < n; i++) {
			cu_member_row row = {0};
			size_t ne;

			rc = cu_store_member_get(ctx->store, ids[i], &row);
			if (rc == CU_ERR_NOT_FOUND) {
				rc = CU_OK; /* erased and gone between the pages: nothing to do */
				continue;
			}
			if (!rc)
				rc = member_items(&w, &row, &ne);
			for (size_t k = 0; !rc && !stop && k < w.nitems; k++)
				stop = fn(ud, &w.items[k]) != 0;
			cu_member_row_release(&row);
		}
		if (rc || n < PAGE)
			break;
		memcpy(after, ids[n - 1], sizeof(after));
	}
	if (!rc && !stop)
		rc = provision_item(&w, &prov, &have);
	if (!rc && !stop && have)
		(void)fn(ud, &prov);
	free(ids);
	walk_release(&w);
	return rc;
}

/* ---- the run --------------------------------------------------------------------- */

static cu_result audit_entry(cu_ctx *ctx, const cu_actor *actor, const char *action,
                             const char *member, const char *fields, const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor->name ? actor->name : "";
	e.role = cu_role_name(actor->role);
	e.action = action;
	e.member = member ? member : "";
	e.fields = fields ? fields : "";
	e.decision = "done";
	e.reason = reason;
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

/* The notice an inactive member is sent: dates and days, never a value (notify.h). */
static cu_result send_notice(struct walk *w, const cu_actor *actor, const cu_retention_item *it)
{
	const cu_policy_retention *r = &w->p->retention;
	char subject[SUBJECT_BYTES], body[BODY_BYTES], last[CU_DATE_LEN + 1], when[CU_DATE_LEN + 1];
	cu_result rc;

	cu_date_format(it->since_us, last);
	cu_date_format(add_days(w->now, r->inactive_erase_days), when);
	snprintf(subject, sizeof(subject), "Your account will be closed on %s unless you use it",
	         when);
	snprintf(body, sizeof(body),
	         "We have not seen you use your account since %s.\n\n"
	         "Under our privacy policy, an account unused for %d days is closed and the\n"
	         "information it holds is erased.  If you do not log in or use your account\n"
	         "by %s, it will be erased then.  To keep it, simply log in.\n",
	         last, r->inactive_notice_days, when);
	rc = cu_notify_member(w->ctx, it->member, "retention", subject, body);
	if (!rc)
		rc = audit_entry(w->ctx, actor, "retention_notice", it->member, NULL, it->why);
	return rc;
}

static bool is_field_kind(cu_retention_kind k)
{
	return k == CU_RETENTION_DROPPED_FIELD || k == CU_RETENTION_FIELD_ENDED;
}

/* Whether item k is a due field item naming entry e. */
static bool cuts_entry(const struct walk *w, const bool *cut, size_t k, const cu_record_entry *e)
{
	const cu_retention_item *it = &w->items[k];

	return cut[k] && is_field_kind(it->kind) && strlen(it->field) == e->name_len &&
	       memcmp(it->field, e->name, e->name_len) == 0;
}

/*
 * The row's `present` after the cut.  The door refuses a row whose entries
 * are not as many as its bits (access.c: an entry dropped by hand), so each
 * entry cut takes one bit: an ended field its own; a dropped one the bit it
 * had in the last version that had it, or else the highest bit no
 * remaining field of the policy in force holds.
 */
static cu_fieldset present_after(const struct walk *w, cu_fieldset present, size_t keep,
                                 const bool *cut)
{
	cu_fieldset held = 0;

	for (size_t i = 0; i < keep; i++) {
		char name[CU_RETENTION_NAME_BYTES];
		int fi;

		memcpy(name, w->entries[i].name, w->entries[i].name_len);
		name[w->entries[i].name_len] = '\0';
		fi = cu_policy_field_index(w->p, name);
		if (fi >= 0)
			held |= (cu_fieldset)1 << fi;
	}
	for (size_t k = 0; k < w->nitems; k++) {
		const cu_retention_item *it = &w->items[k];
		int bit = -1;

		if (!cut[k] || !is_field_kind(it->kind))
			continue;
		if (it->kind == CU_RETENTION_FIELD_ENDED) {
			bit = cu_policy_field_index(w->p, it->field);
		} else {
			const struct name_hist *h = name_find(w, it->field, strlen(it->field));

			if (h && ((present >> h->index) & 1) && !((held >> h->index) & 1))
				bit = h->index;
			for (int b = CU_POLICY_FIELDS_MAX - 1; bit < 0 && b >= 0; b--)
				if (((present >> b) & 1) && !((held >> b) & 1))
					bit = b;
		}
		if (bit >= 0)
			present &= ~((cu_fieldset)1 << bit);
	}
	return present;
}

/* Cuts the due field entries out of the record and writes the row, audited. */
static cu_result cut_fields(struct walk *w, const cu_actor *actor, cu_member_row *row,
                            size_t nentries, const bool *cut, uint64_t *ncut)
{
	char fields[FIELDS_BYTES] = "", reason[REASON_BYTES];
	uint64_t dropped = 0, ended = 0;
	size_t keep = 0, used = 0, len;
	unsigned char *packed;
	cu_result rc;

	for (size_t k = 0; k < w->nitems; k++) {
		const cu_retention_item *it = &w->items[k];

		if (!cut[k] || !is_field_kind(it->kind))
			continue;
		if (it->kind == CU_RETENTION_DROPPED_FIELD) {
			const struct name_hist *h = name_find(w, it->field, strlen(it->field));

			dropped++;
			if (h && h->kind == CU_FIELD_EMAIL)
				row->has_email_bidx = false;
			if (h && h->kind == CU_FIELD_PHONE)
				row->has_phone_bidx = false;
		} else {
			ended++;
		}
		if (used + strlen(it->field) + 2 < sizeof(fields))
			used += (size_t)snprintf(fields + used, sizeof(fields) - used, "%s%s",
			                         used ? "," : "", it->field);
	}
	/* Keep every entry no due item names, in their order. */
	for (size_t i = 0; i < nentries; i++) {
		bool go = false;

		for (size_t k = 0; !go && k < w->nitems; k++)
			go = cuts_entry(w, cut, k, &w->entries[i]);
		if (!go)
			w->entries[keep++] = w->entries[i];
	}
	row->present = present_after(w, row->present, keep, cut);
	len = cu_record_packed_size(w->entries, keep);
	packed = malloc(len);
	if (!packed)
		return CU_ERR_NOMEM;
	cu_record_pack(w->entries, keep, packed);
	{
		unsigned char *old = row->fields;

		row->fields = packed;
		row->fields_len = len;
		row->updated_us = w->now > row->updated_us ? w->now : row->updated_us;
		rc = cu_store_member_update(w->ctx->store, row);
		row->fields = old; /* released with the row; entries point into it */
		free(packed);
	}
	if (rc)
		return rc;
	snprintf(reason, sizeof(reason), "fields cut: dropped=%llu ended=%llu",
	         (unsigned long long)dropped, (unsigned long long)ended);
	rc = audit_entry(w->ctx, actor, "retention_delete", row->id, fields, reason);
	if (!rc)
		*ncut = dropped + ended;
	return rc;
}

/* What a batch of members did: kept until its transaction commits. */
struct batch {
	cu_retention_item *done;
	size_t n, cap;
	cu_retention_report rep;
};

static cu_result batch_keep(struct batch *b, const cu_retention_item *it)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : PAGE;
		cu_retention_item *d = realloc(b->done, cap * sizeof(*d));

		if (!d)
			return CU_ERR_NOMEM;
		b->done = d;
		b->cap = cap;
	}
	b->done[b->n++] = *it;
	return CU_OK;
}

static void report_add(cu_retention_report *to, const cu_retention_report *from)
{
	to->members += from->members;
	to->fields += from->fields;
	to->notices += from->notices;
	to->erasures += from->erasures;
	to->provisions += from->provisions;
	to->later += from->later;
}

/*
 * One member, in a savepoint of the batch's transaction: read again, apply
 * the rules, carry out what is due; what was done goes into b.
 */
static cu_result run_member(struct walk *w, const cu_actor *actor, const char *id, bool *done,
                            struct batch *b)
{
	cu_member_row row = {0};
	uint64_t ncut = 0, later = 0;
	bool any_cut = false, erase = false, notice = false;
	char reason[REASON_BYTES];
	size_t ne = 0;
	cu_result rc;

	rc = cu_tx_begin(w->ctx);
	if (rc)
		return rc;
	rc = cu_store_member_get(w->ctx->store, id, &row);
	if (rc == CU_ERR_NOT_FOUND)
		rc = CU_OK; /* gone since the page was read: nothing to do */
	else if (!rc)
		rc = member_items(w, &row, &ne);
	for (size_t k = 0; !rc && k < w->nitems; k++) {
		const cu_retention_item *it = &w->items[k];

		done[k] = it->due_us <= w->now;
		if (!done[k])
			later++;
		else if (it->kind == CU_RETENTION_INACTIVE_ERASE)
			erase = true;
		else if (it->kind == CU_RETENTION_INACTIVE_NOTICE)
			notice = true;
		else
			any_cut = true;
	}
	/* The one erasure (erasure.h), and retention's own entry beside its "erase". */
	if (!rc && erase) {
		rc = cu_erasure_carry_out(w->ctx, actor, row.id, NULL, w->now, NULL);
		if (!rc) {
			snprintf(reason, sizeof(reason), "inactive account erased: %s",
			         w->items[0].why);
			rc = audit_entry(w->ctx, actor, "retention_delete", row.id, NULL, reason);
		}
	}
	if (!rc && !erase && any_cut) {
		rc = cut_fields(w, actor, &row, ne, done, &ncut);
		/* The old row's pages must not linger in the log: the outer commit checkpoints. */
		w->ctx->checkpoint_due = true;
	}
	for (size_t k = 0; !rc && !erase && notice && k < w->nitems; k++)
		if (done[k] && w->items[k].kind == CU_RETENTION_INACTIVE_NOTICE)
			rc = send_notice(w, actor, &w->items[k]);
	for (size_t k = 0; !rc && k < w->nitems; k++)
		if (done[k])
			rc = batch_keep(b, &w->items[k]);
	cu_member_row_release(&row);
	if (rc) {
		cu_tx_rollback(w->ctx);
		return rc;
	}
	rc = cu_tx_commit(w->ctx);
	if (rc)
		return rc;
	b->rep.erasures += erase;
	b->rep.notices += notice;
	b->rep.fields += ncut;
	b->rep.members += ncut > 0;
	b->rep.later += later;
	return CU_OK;
}

static cu_result run_provisions(struct walk *w, const cu_actor *actor, cu_retention_item *it,
                                bool *did, cu_retention_report *rep)
{
	char reason[REASON_BYTES], day[CU_DATE_LEN + 1];
	int64_t cut = provision_cutoff(w);
	uint64_t n = 0;
	bool have;
	cu_result rc;

	*did = false;
	rc = provision_item(w, it, &have);
	if (rc || !have)
		return rc;
	if (it->due_us > w->now) {
		rep->later++;
		return CU_OK;
	}
	rc = cu_tx_begin(w->ctx);
	if (rc)
		return rc;
	/* The one way records of provision are deleted (audited "provision_purge"). */
	rc = cu_provision_purge(w->ctx, actor, cut, &n);
	if (!rc) {
		cu_date_format(cut, day);
		snprintf(reason, sizeof(reason),
		         "provision records deleted=%llu made before %s (kept %d d)",
		         (unsigned long long)n, day, w->p->retention.provision_records_days);
		rc = audit_entry(w->ctx, actor, "retention_delete", NULL, NULL, reason);
	}
	if (rc) {
		cu_tx_rollback(w->ctx);
		return rc;
	}
	rc = cu_tx_commit(w->ctx);
	if (rc)
		return rc;
	it->count = n;
	rep->provisions += n;
	*did = true;
	return CU_OK;
}

cu_result cu_retention_run(cu_ctx *ctx, const cu_actor *actor, int64_t now_us, cu_retention_fn done,
                           int (*cancelled)(void *ud), void *ud, cu_retention_report *rep)
{
	char after[CU_ID_LEN + 1] = "";
	char(*ids)[CU_ID_LEN + 1] = NULL;
	cu_retention_report local = {0};
	struct batch b = {0};
	cu_retention_item prov;
	bool *did = NULL, stop = false, pdid = false;
	struct walk w;
	size_t n = 0;
	cu_result rc;

	if (rep)
		memset(rep, 0, sizeof(*rep));
	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	/* Deleting on schedule is the host's act (the command line, the server's worker). */
	if (!actor || actor->role != CU_ROLE_OPERATOR)
		return CU_ERR_FORBIDDEN;
	rc = walk_init(&w, ctx, now_us);
	ids = rc ? NULL : malloc(PAGE * sizeof(*ids));
	did = rc ? NULL : calloc(ITEMS_MAX, sizeof(*did));
	if (!rc && (!ids || !did))
		rc = CU_ERR_NOMEM;
	/* A page of members a transaction: one durable commit for up to PAGE of them. */
	while (!rc && !stop) {
		rc = cu_store_member_ids(ctx->store, after, ids, PAGE, &n);
		if (rc || n == 0)
			break;
		rc = cu_tx_begin(ctx);
		if (!rc && w.need_activity)
			index_audit_tail(ctx);
		for (size_t i = 0; !rc && i < n; i++) {
			if (cancelled && cancelled(ud)) {
				stop = true;
				break;
			}
			rc = run_member(&w, actor, ids[i], did, &b);
		}
		if (rc) {
			cu_tx_rollback(ctx);
			break;
		}
		rc = cu_tx_commit(ctx);
		if (rc)
			break;
		report_add(&local, &b.rep);
		for (size_t k = 0; done && !stop && k < b.n; k++)
			stop = done(ud, &b.done[k]) != 0;
		b.n = 0;
		memset(&b.rep, 0, sizeof(b.rep));
		if (n < PAGE)
			break;
		memcpy(after, ids[n - 1], sizeof(after));
	}
	if (!rc && !stop && !(cancelled && cancelled(ud)))
		rc = run_provisions(&w, actor, &prov, &pdid, &local);
	if (!rc && pdid && done && !stop)
		(void)done(ud, &prov);
	if (rep)
		*rep = local;
	free(b.done);
	free(ids);
	free(did);
	walk_release(&w);
	return rc;
}
