/*
 * src/domain/requests.c — disclosure, amendment and erasure requests: filing, the
 * officer's decisions on a clock, the changes they carry out, notices,
 * erasure certificates.
 *
 * What the member and the officer write is sealed here under the member's
 * data key and opened here for the two of them (requests.h); the member's
 * profile fields are changed only through members.c (cu_member_amend) and
 * erasure.c (cu_erasure_carry_out), never written from this file.
 */
#include "domain/requests.h"

#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/sealed_text.h"
#include "domain/casework.h"
#include "domain/erasure.h"
#include "domain/notify.h"
#include "util/json_wipe.h"
#include "util/text.h"

/* The notices and audit reasons this file writes, each sized for its text (subjects at most
 * CU_NOTIFY_SUBJECT_MAX). */
#define RECEIVED_SUBJECT_BYTES 160
#define RECEIVED_BODY_BYTES    600
#define DECISION_BODY_BYTES    1800
#define FILE_REASON_BYTES      64   /* "request=<id> type=<type>" */
#define DECIDE_REASON_BYTES    200  /* "request=<id> action=<a> state=<s> ground=<id>" */
#define SUMMARY_BYTES          3200 /* an amendment in words: three field lists and labels */
/* A certificate token is the base64url of this many random bytes. */
#define TOKEN_RANDOM_BYTES 32
_Static_assert(sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   CU_REQUEST_TOKEN_LEN + 1,
               "a certificate token is the base64url of TOKEN_RANDOM_BYTES");

const cu_refusal_ground cu_refusal_grounds[CU_REFUSAL_GROUNDS] = {
    {"harm_to_life_or_rights", 1,
     "the disclosure could damage the life, body, or assets of a user or a third party, or "
     "prejudice other rights or interests of a user or a third party",
     true},
    {"business_interference", 2,
     "the disclosure could significantly interfere with proper performance of Cerego's "
     "business",
     false},
    {"breach_of_law", 3, "the disclosure breaches any law or ordinance", true},
};

static const char *const type_names[] = {"disclosure", "amendment", "erasure"};
static const char *const action_names[CU_REQUEST_ACTIONS] = {"investigate", "apply", "reject",
                                                             "refuse", "lift"};

const char *cu_request_type_name(cu_request_type t)
{
	return (unsigned)t < 3 ? type_names[t] : NULL;
}

cu_result cu_request_type_parse(const char *name, cu_request_type *out)
{
	for (unsigned i = 0; name && i < 3; i++)
		if (!strcmp(name, type_names[i])) {
			*out = (cu_request_type)i;
			return CU_OK;
		}
	return CU_ERR_INVALID_ARGUMENT;
}

const char *cu_request_action_name(cu_request_action a)
{
	return (unsigned)a < CU_REQUEST_ACTIONS ? action_names[a] : NULL;
}

cu_result cu_request_action_parse(const char *name, cu_request_action *out)
{
	for (unsigned i = 0; name && i < CU_REQUEST_ACTIONS; i++)
		if (!strcmp(name, action_names[i])) {
			*out = (cu_request_action)i;
			return CU_OK;
		}
	return CU_ERR_INVALID_ARGUMENT;
}

bool cu_request_state_open(const char *state)
{
	return cu_case_state_open(CU_CASE_REQUEST, state);
}

const cu_refusal_ground *cu_refusal_ground_find(const char *id)
{
	for (size_t i = 0; id && i < CU_REFUSAL_GROUNDS; i++)
		if (!strcmp(cu_refusal_grounds[i].id, id))
			return &cu_refusal_grounds[i];
	return NULL;
}

/* ---- sealing under the member's key --------------------------------------- */

/*
 * The associated data of a sealed text names its request (and, for reasons,
 * the state they explain by its first three letters, unique among the
 * states), so a text cannot be moved to another request or step.  The
 * vault takes names of at most 40 bytes.
 */
static void field_of(char *out, size_t n, const char *what, const char *id, const char *state)
{
	if (state)
		snprintf(out, n, "req-%s.%s.%.3s", what, id, state);
	else
		snprintf(out, n, "req-%s.%s", what, id);
}

/* ---- filing -------------------------------------------------------------- */

/* The member's details as kept (sealed): the changes and reason, or a note. */
static char *details_json(const cu_request_input *in)
{
	json_t *o = json_object(), *changes;
	char *text;

	if (!o)
		return NULL;
	if (in->type == CU_REQUEST_AMENDMENT) {
		changes = json_object();
		for (size_t i = 0; changes && i < in->nchanges; i++) {
			const char *v = in->changes[i].value;

			json_object_set_new(changes, in->changes[i].name,
			                    v && *v ? json_string(v) : json_null());
		}
		json_object_set_new(o, "changes", changes);
		json_object_set_new(o, "reason", json_string(in->text));
	} else if (in->text) {
		json_object_set_new(o, "note", json_string(in->text));
	}
	text = json_object_size(o) ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	cu_json_wipe(o);
	json_decref(o);
	return text;
}

static cu_result validate_input(const cu_policy *p, const cu_request_input *in, cu_errors *errs)
{
	const char *why;
	int bad = 0;

	if (!cu_request_type_name(in->type))
		return CU_ERR_INVALID_ARGUMENT;
	if (in->type == CU_REQUEST_AMENDMENT) {
		if (in->nchanges == 0 || !in->changes) {
			cu_errors_add(errs, "changes", "required");
			bad = 1;
		} else if (cu_member_validate(p, in->changes, in->nchanges, false, errs)) {
			bad = 1;
		}
		why = cu_text_free_problem(in->text, CU_REQUEST_TEXT_MAX, true);
		if (why) {
			cu_errors_add(errs, "reason", why);
			bad = 1;
		}
	} else {
		if (in->nchanges) {
			cu_errors_add(errs, "changes", "not_allowed");
			bad = 1;
		}
		why = in->text ? cu_text_free_problem(in->text, CU_REQUEST_TEXT_MAX, true) : NULL;
		if (why) {
			cu_errors_add(errs, "note", why);
			bad = 1;
		}
	}
	return bad ? CU_ERR_INVALID_FIELD : CU_OK;
}

static const char *notice_kind(const cu_request_row *row)
{
	return !strcmp(row->type, "amendment") ? "amendment" : "request";
}

static cu_result notify_received(cu_ctx *ctx, const cu_request_row *row)
{
	char subject[RECEIVED_SUBJECT_BYTES], body[RECEIVED_BODY_BYTES], due[CU_CASE_DAY_BYTES],
	    hard[CU_CASE_DAY_BYTES], got[CU_CASE_DAY_BYTES];

	cu_case_day(row->received_us, got);
	cu_case_day(row->due_us, due);
	cu_case_day(row->hard_due_us, hard);
	snprintf(subject, sizeof(subject), "Your %s request %s was received", row->type, row->id);
	snprintf(body, sizeof(body),
	         "We received your %s request %s on %s.\n"
	         "We aim to answer it by %s, and at the latest by %s.\n"
	         "You can follow it in your account.",
	         row->type, row->id, got, due, hard);
	return cu_notify_member(ctx, row->member, notice_kind(row), subject, body);
}

cu_result cu_request_file(cu_ctx *ctx, const cu_actor *actor, const char *member,
                          const cu_request_input *in, int64_t now_us, cu_request_row *out,
                          char token[CU_REQUEST_TOKEN_LEN + 1], cu_errors *errs)
{
	cu_request_row row;
	cu_request_event_row ev;
	cu_member_row m = {0};
	cu_fieldset asked = 0;
	unsigned char secret[TOKEN_RANDOM_BYTES];
	char field[CU_CASE_FIELD_BYTES], reason[FILE_REASON_BYTES], *details = NULL;
	cu_result rc;

	memset(&row, 0, sizeof(row));
	memset(&ev, 0, sizeof(ev));
	if (token)
		token[0] = '\0';
	if (out)
		memset(out, 0, sizeof(*out));
	if (!ctx || !in || !member)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_may_file(actor, member))
		return cu_case_refuse(ctx, actor, "request_file", "",
		                      "a member files their own requests", CU_ERR_FORBIDDEN);
	rc = validate_input(ctx->policy, in, errs);
	if (rc)
		return rc;
	rc = cu_case_member_live(ctx->store, member, &m);
	if (rc)
		return rc;

	cu_vault_random_id(row.id);
	memcpy(row.member, m.id, sizeof(row.member));
	snprintf(row.type, sizeof(row.type), "%s", cu_request_type_name(in->type));
	snprintf(row.state, sizeof(row.state), "received");
	row.received_us = row.updated_us = now_us;
	row.due_us = cu_case_due(now_us, ctx->config.request_target_days);
	row.hard_due_us = cu_case_due(now_us, ctx->config.request_hard_days);
	for (size_t i = 0; i < in->nchanges; i++)
		asked |= (cu_fieldset)1 << cu_policy_field_index(ctx->policy, in->changes[i].name);
	cu_policy_fieldset_format(ctx->policy, asked, row.fields, sizeof(row.fields));
	details = details_json(in);
	if (details) {
		field_of(field, sizeof(field), "details", row.id, NULL);
		rc = cu_sealed_text_seal(ctx->vault, &m, field, details, &row.details,
		                         &row.details_len);
		if (rc)
			goto out;
	} else if (in->type == CU_REQUEST_AMENDMENT) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	if (in->type == CU_REQUEST_ERASURE && token) {
		/* The token outlives the login: it fetches the certificate once the member is gone.
		 */
		randombytes_buf(secret, sizeof(secret));
		sodium_bin2base64(token, CU_REQUEST_TOKEN_LEN + 1, secret, sizeof(secret),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(secret, sizeof(secret));
		crypto_generichash(row.token_hash, sizeof(row.token_hash), (unsigned char *)token,
		                   strlen(token), NULL, 0);
		row.has_token = true;
	}
	cu_case_event_init(&ev, row.id, "received", actor, now_us);
	snprintf(reason, sizeof(reason), "request=%s type=%s", row.id, row.type);

	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_request_insert(ctx->store, &row);
	if (!rc)
		rc = cu_store_request_event_insert(ctx->store, &ev);
	if (!rc)
		rc = notify_received(ctx, &row);
	if (!rc)
		rc = cu_case_audit(ctx, actor, "request_file", row.member, row.fields, "done",
		                   reason);
	rc = cu_case_end(ctx, rc);
	if (!rc && out) {
		*out = row;
		row.details = NULL;
		row.details_len = 0;
	}
out:
	if (rc && token)
		sodium_memzero(token, CU_REQUEST_TOKEN_LEN + 1);
	cu_request_row_release(&row);
	cu_wipe_free(details);
	cu_member_row_release(&m);
	return rc;
}

/* ---- deciding ------------------------------------------------------------ */

static cu_result check_decision(const cu_request_row *row, const cu_request_decision *dec,
                                cu_errors *errs)
{
	const char *why;
	int bad = 0;

	if (!cu_request_action_name(dec->action))
		return CU_ERR_INVALID_ARGUMENT;
	if (dec->action == CU_REQUEST_REFUSE) {
		/* The policy lets a disclosure be refused on three grounds, and nothing else. */
		if (strcmp(row->type, "disclosure")) {
			cu_errors_add(errs, "action", "refuse_is_for_disclosure");
			bad = 1;
		}
		if (!dec->ground || !*dec->ground) {
			cu_errors_add(errs, "ground", "required");
			bad = 1;
		} else if (!cu_refusal_ground_find(dec->ground)) {
			cu_errors_add(errs, "ground", "unknown");
			bad = 1;
		}
	} else if (dec->ground) {
		cu_errors_add(errs, "ground", "not_allowed");
		bad = 1;
	}
	if (dec->action == CU_REQUEST_LIFT && strcmp(row->type, "disclosure")) {
		cu_errors_add(errs, "action", "lift_is_for_disclosure");
		bad = 1;
	}
	if (dec->reasons || dec->action == CU_REQUEST_REFUSE || dec->action == CU_REQUEST_REJECT) {
		why = cu_text_free_problem(dec->reasons, CU_REQUEST_TEXT_MAX, true);
		if (why) {
			cu_errors_add(errs, "reasons", why);
			bad = 1;
		}
	}
	return bad ? CU_ERR_INVALID_FIELD : CU_OK;
}

/* Which of the asked fields an amendment amends, adds and deletes, for the notice. */
static void amendment_summary(const cu_policy *p, cu_fieldset before, const cu_kv *kv, size_t n,
                              char *out, size_t outlen)
{
	cu_fieldset set = 0, cleared = 0;
	char am[CU_FIELDSET_TEXT_MAX + 1], ad[CU_FIELDSET_TEXT_MAX + 1],
	    de[CU_FIELDSET_TEXT_MAX + 1];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		cu_fieldset bit = (cu_fieldset)1 << cu_policy_field_index(p, kv[i].name);

		if (kv[i].value && *kv[i].value)
			set |= bit;
		else
			cleared |= bit;
	}
	cu_policy_fieldset_format(p, before & set, am, sizeof(am));
	cu_policy_fieldset_format(p, ~before & set, ad, sizeof(ad));
	cu_policy_fieldset_format(p, before & cleared, de, sizeof(de));
	out[0] = '\0';
	if (am[0])
		len += (size_t)snprintf(out + len, outlen - len, "Amended: %s\n", am);
	if (ad[0] && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, "Added: %s\n", ad);
	if (de[0] && len < outlen)
		snprintf(out + len, outlen - len, "Deleted: %s\n", de);
}

/* The sealed details of an amendment, opened into name/value pairs (kept in *doc). */
static cu_result amendment_changes(const cu_vault *v, const cu_member_row *m,
                                   const cu_request_row *row, json_t **doc, cu_kv *kv, size_t *n)
{
	char field[CU_CASE_FIELD_BYTES], *text = NULL;
	cu_case_key dk;
	json_t *changes, *val;
	const char *key;
	cu_result rc;

	*doc = NULL;
	*n = 0;
	if (!row->details)
		return CU_ERR_CRYPTO;
	field_of(field, sizeof(field), "details", row->id, NULL);
	rc = cu_case_key_get(v, m, &dk);
	if (!rc)
		rc = cu_case_text_open(&dk, field, row->details, row->details_len, &text);
	cu_case_key_wipe(&dk);
	if (!rc && !text)
		rc = CU_ERR_CRYPTO;
	if (rc)
		return rc;
	*doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	cu_wipe_free(text);
	changes = json_object_get(*doc, "changes");
	if (!json_is_object(changes) || json_object_size(changes) == 0 ||
	    json_object_size(changes) > CU_POLICY_FIELDS_MAX)
		return CU_ERR_STORE;
	json_object_foreach(changes, key, val)
	{
		kv[*n].name = key;
		kv[*n].value = json_is_string(val) ? json_string_value(val) : NULL;
		(*n)++;
	}
	return CU_OK;
}

static cu_result notify_decided(cu_ctx *ctx, const cu_request_row *row,
                                const cu_request_decision *dec, const char *summary)
{
	const cu_refusal_ground *g = cu_refusal_ground_find(row->ground);
	char subject[CU_NOTIFY_SUBJECT_MAX], body[DECISION_BODY_BYTES], when[CU_CASE_DAY_BYTES];

	cu_case_day(row->updated_us, when);
	switch (dec->action) {
	case CU_REQUEST_INVESTIGATE:
		snprintf(subject, sizeof(subject), "Your %s request %s is being investigated",
		         row->type, row->id);
		snprintf(body, sizeof(body),
		         "Since %s an officer is investigating your %s request %s.\n"
		         "You can follow it in your account.",
		         when, row->type, row->id);
		break;
	case CU_REQUEST_APPLY:
		if (!strcmp(row->type, "disclosure")) {
			snprintf(subject, sizeof(subject),
			         "Your disclosure request %s was answered", row->id);
			snprintf(body, sizeof(body),
			         "Your disclosure request %s was answered on %s.\n"
			         "Everything held on you can be downloaded in your account "
			         "(export, as JSON or CSV).",
			         row->id, when);
		} else if (!strcmp(row->type, "amendment")) {
			snprintf(subject, sizeof(subject), "Your amendment request %s was applied",
			         row->id);
			snprintf(body, sizeof(body),
			         "The personal information you asked us to amend was amended on "
			         "%s.\n%sRequest: %s",
			         when, summary ? summary : "", row->id);
		} else {
			snprintf(subject, sizeof(subject),
			         "Your erasure request %s was carried out", row->id);
			snprintf(
			    body, sizeof(body),
			    "Your personal information was erased on %s, as you asked in "
			    "request %s.\n"
			    "You cannot log in any more. Your erasure certificate can be fetched "
			    "with the request id and the certificate token you were given when "
			    "you made the request.",
			    when, row->id);
		}
		break;
	case CU_REQUEST_REJECT:
		snprintf(subject, sizeof(subject), "Your %s request %s was rejected", row->type,
		         row->id);
		snprintf(body, sizeof(body),
		         "Your %s request %s was rejected on %s.\n"
		         "The officer's reasons are in your account.",
		         row->type, row->id, when);
		break;
	case CU_REQUEST_REFUSE:
		snprintf(subject, sizeof(subject), "Your disclosure request %s was refused",
		         row->id);
		snprintf(body, sizeof(body),
		         "Your disclosure request %s was refused on %s, on ground %d of the "
		         "privacy policy: %s.\n"
		         "The officer's reasons are in your account.%s",
		         row->id, when, g ? g->number : 0, g ? g->text : "",
		         g && g->suspends_export
		             ? "\nWhile this refusal stands, the download of your data from your "
		               "account is suspended."
		             : "");
		break;
	case CU_REQUEST_LIFT:
		snprintf(subject, sizeof(subject),
		         "The refusal of your disclosure request %s was lifted", row->id);
		snprintf(body, sizeof(body),
		         "The refusal of your disclosure request %s was lifted on %s.\n"
		         "You can download your data from your account again.",
		         row->id, when);
		break;
	}
	return cu_notify_member(ctx, row->member, notice_kind(row), subject, body);
}

/*
 * Carries out an applied erasure inside the decision's transaction (the
 * notice is already written): the one erasure operation (erasure.h), its
 * certificate kept on the request row.
 */
static cu_result erase(cu_ctx *ctx, const cu_actor *actor, cu_request_row *row, int64_t now_us)
{
	cu_result rc =
	    cu_erasure_carry_out(ctx, actor, row->member, row, now_us, &row->certificate);

	if (!rc)
		rc = cu_store_request_update(ctx->store, row);
	return rc;
}

cu_result cu_request_decide(cu_ctx *ctx, const cu_actor *actor, const char *id,
                            const cu_request_decision *dec, int64_t now_us, cu_request_row *out,
                            char **cert, cu_errors *errs)
{
	static const char *const states[CU_REQUEST_ACTIONS] = {"investigating", "applied",
	                                                       "rejected", "refused", "lifted"};
	cu_request_row row = {0};
	cu_request_event_row ev = {0};
	cu_member_row m = {0};
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	size_t n = 0;
	json_t *changes = NULL;
	char field[CU_CASE_FIELD_BYTES], reason[DECIDE_REASON_BYTES], summary[SUMMARY_BYTES] = "";
	cu_result rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (cert)
		*cert = NULL;
	if (!ctx || !id || !dec)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_officer(actor))
		return cu_case_refuse(ctx, actor, "request_decide", "",
		                      "only an officer decides requests", CU_ERR_FORBIDDEN);
	rc = cu_store_request_get(ctx->store, id, &row);
	if (rc)
		return rc;
	if (dec->action == CU_REQUEST_LIFT) {
		const cu_refusal_ground *g = cu_refusal_ground_find(row.ground);

		/* Only a standing refusal that suspends the export is lifted. */
		if (strcmp(row.state, "refused") || !g || !g->suspends_export) {
			rc = CU_ERR_CONFLICT;
			goto out;
		}
	} else if (!cu_request_state_open(row.state) ||
	           (dec->action == CU_REQUEST_INVESTIGATE && !strcmp(row.state, "investigating"))) {
		rc = CU_ERR_CONFLICT;
		goto out;
	}
	rc = check_decision(&row, dec, errs);
	if (rc)
		goto out;
	rc = cu_case_member_live(ctx->store, row.member, &m);
	if (rc)
		goto out;

	cu_case_event_init(&ev, row.id, states[dec->action], actor, now_us);
	if (dec->action == CU_REQUEST_REFUSE)
		snprintf(ev.ground, sizeof(ev.ground), "%s", dec->ground);
	if (dec->reasons) {
		field_of(field, sizeof(field), "why", row.id, ev.state);
		rc = cu_sealed_text_seal(ctx->vault, &m, field, dec->reasons, &ev.reasons,
		                         &ev.reasons_len);
		if (rc)
			goto out;
	}
	if (dec->action == CU_REQUEST_APPLY && !strcmp(row.type, "amendment")) {
		rc = amendment_changes(ctx->vault, &m, &row, &changes, kv, &n);
		if (rc)
			goto out;
		amendment_summary(ctx->policy, m.present, kv, n, summary, sizeof(summary));
	}

	snprintf(row.state, sizeof(row.state), "%s", states[dec->action]);
	row.updated_us = now_us;
	/* A lift keeps who refused and when; the history says who lifted it. */
	if (dec->action != CU_REQUEST_INVESTIGATE && dec->action != CU_REQUEST_LIFT) {
		row.decided_us = now_us;
		snprintf(row.decided_by, sizeof(row.decided_by), "%s", cu_case_actor_name(actor));
	}
	if (dec->action == CU_REQUEST_REFUSE)
		snprintf(row.ground, sizeof(row.ground), "%s", dec->ground);
	snprintf(reason, sizeof(reason), "request=%s action=%s state=%s%s%s", row.id,
	         cu_request_action_name(dec->action), row.state, row.ground[0] ? " ground=" : "",
	         row.ground);

	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	/* The change itself first: an amendment that no longer validates decides nothing. */
	if (n)
		rc = cu_member_amend(ctx, actor, row.member, row.id, kv, n, errs);
	if (!rc)
		rc = cu_store_request_update(ctx->store, &row);
	if (!rc)
		rc = cu_store_request_event_insert(ctx->store, &ev);
	if (!rc)
		rc = notify_decided(ctx, &row, dec, summary);
	if (!rc)
		rc = cu_case_audit(ctx, actor, "request_decide", row.member, row.fields, "done",
		                   reason);
	/*
	 * The decision's notice is queued here, but the erasure below drops the
	 * member's pending mail in the same transaction, and with the key goes the
	 * address: an applied erasure is today told to nobody (issue: send it
	 * before the key goes).
	 */
	if (!rc && dec->action == CU_REQUEST_APPLY && !strcmp(row.type, "erasure"))
		rc = erase(ctx, actor, &row, now_us);
	rc = cu_case_end(ctx, rc);
	if (rc)
		goto out;
	if (cert && row.certificate) {
		*cert = strdup(row.certificate);
		if (!*cert)
			rc = CU_ERR_NOMEM;
	}
	if (!rc && out) {
		*out = row;
		memset(&row, 0, sizeof(row));
	}
out:
	if (changes) {
		cu_json_wipe(changes);
		json_decref(changes);
	}
	cu_request_event_row_release(&ev);
	cu_request_row_release(&row);
	cu_member_row_release(&m);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

void cu_request_view_init(cu_request_view *v)
{
	memset(v, 0, sizeof(*v));
}

void cu_request_view_wipe(cu_request_view *v)
{
	if (!v)
		return;
	cu_wipe_free(v->details);
	cu_case_history_wipe(v->events, v->nevents, sizeof(*v->events),
	                     offsetof(cu_request_event, reasons));
	cu_request_row_release(&v->row);
	cu_request_view_init(v);
}

static int open_event(void *ud, const cu_request_event_row *row)
{
	cu_case_history *h = ud;
	cu_request_event *e = cu_case_history_add(h);
	char field[CU_CASE_FIELD_BYTES];

	if (!e)
		return 1;
	memcpy(e->state, row->state, sizeof(e->state));
	memcpy(e->actor, row->actor, sizeof(e->actor));
	memcpy(e->role, row->role, sizeof(e->role));
	memcpy(e->ground, row->ground, sizeof(e->ground));
	memcpy(e->note, row->note, sizeof(e->note));
	e->time_us = row->time_us;
	field_of(field, sizeof(field), "why", row->request, row->state);
	return cu_case_history_open(h, field, row->reasons, row->reasons_len, &e->reasons);
}

static cu_result walk_events(cu_case_history *h)
{
	return cu_store_request_event_list(h->store, h->id, open_event, h);
}

cu_result cu_request_open(const cu_vault *v, cu_store *s, const cu_member_row *member,
                          const cu_request_row *row, cu_request_view *out)
{
	cu_case_history h = {s, row->id, sizeof(*out->events), NULL, 0, NULL, CU_OK};
	char field[CU_CASE_FIELD_BYTES];
	cu_result rc;

	cu_request_view_wipe(out);
	out->row = *row;
	out->row.details = NULL;
	out->row.details_len = 0;
	out->row.certificate = row->certificate ? strdup(row->certificate) : NULL;
	if (row->certificate && !out->row.certificate)
		return CU_ERR_NOMEM;
	out->erased = member->erased;
	field_of(field, sizeof(field), "details", row->id, NULL);
	rc = cu_case_open(v, member, field, row->details, row->details_len, &out->details,
	                  walk_events, &h);
	out->events = h.items;
	out->nevents = h.n;
	if (rc)
		cu_request_view_wipe(out);
	return rc;
}

cu_result cu_request_get(cu_ctx *ctx, const cu_actor *actor, const char *id, cu_request_view *out)
{
	cu_request_row row;
	cu_member_row m = {0};
	cu_result rc;

	if (!ctx || !id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	cu_request_view_wipe(out);
	rc = cu_store_request_get(ctx->store, id, &row);
	if (rc)
		return rc;
	rc = cu_case_read(ctx, actor, CU_CASE_REQUEST, row.id, row.member, &m);
	if (!rc)
		rc = cu_request_open(ctx->vault, ctx->store, &m, &row, out);
	cu_member_row_release(&m);
	cu_request_row_release(&row);
	return rc;
}

cu_result cu_request_list(cu_store *s, const cu_actor *actor, bool overdue, int64_t now_us,
                          cu_store_request_fn fn, void *ud)
{
	if (!cu_case_officer(actor))
		return CU_ERR_FORBIDDEN;
	/* due_before 0 lists every open request; now those whose target has passed. */
	return cu_store_request_list_open(s, cu_case_due_before(overdue, now_us), fn, ud);
}

cu_result cu_request_list_member(cu_store *s, const cu_actor *actor, const char *member,
                                 cu_store_request_fn fn, void *ud)
{
	if (!cu_case_may_read(actor, member))
		return CU_ERR_FORBIDDEN;
	return cu_store_request_list_member(s, member, fn, ud);
}

/* ---- certificates -------------------------------------------------------- */

/* ---- refusals and the export -------------------------------------------- */

struct standing {
	char id[CU_ID_LEN + 1];
	int64_t decided_us;
};

static int find_standing(void *ud, const cu_request_row *row)
{
	struct standing *st = ud;
	const cu_refusal_ground *g = cu_refusal_ground_find(row->ground);

	if (!strcmp(row->type, "disclosure") && !strcmp(row->state, "refused") && g &&
	    g->suspends_export && (!st->id[0] || row->decided_us >= st->decided_us)) {
		memcpy(st->id, row->id, sizeof(st->id));
		st->decided_us = row->decided_us;
	}
	return 0;
}

cu_result cu_request_refusal_standing(cu_store *s, const char *member, cu_request_row *out)
{
	struct standing st = {"", 0};
	cu_result rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!s || !member)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_store_request_list_member(s, member, find_standing, &st);
	if (rc)
		return rc;
	if (!st.id[0])
		return CU_ERR_NOT_FOUND;
	return out ? cu_store_request_get(s, st.id, out) : CU_OK;
}

cu_result cu_request_certificate(cu_store *s, const cu_actor *actor, const char *id,
                                 const char *token, char **json)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_request_row row;
	cu_result rc;

	*json = NULL;
	rc = cu_store_request_get(s, id, &row);
	if (!actor) {
		/* By token: an unknown id and a wrong token look the same. */
		if (rc && rc != CU_ERR_NOT_FOUND)
			return rc;
		if (!token || strlen(token) != CU_REQUEST_TOKEN_LEN) {
			rc = CU_ERR_UNAUTHENTICATED;
			goto out;
		}
		crypto_generichash(hash, sizeof(hash), (const unsigned char *)token, strlen(token),
		                   NULL, 0);
		if (rc || !row.has_token || sodium_memcmp(hash, row.token_hash, sizeof(hash))) {
			rc = CU_ERR_UNAUTHENTICATED;
			goto out;
		}
	} else if (rc) {
		return rc;
	} else if (!cu_case_may_read(actor, row.member)) {
		rc = CU_ERR_NOT_FOUND;
		goto out;
	}
	if (!row.certificate) {
		rc = CU_ERR_NOT_FOUND;
		goto out;
	}
	*json = row.certificate;
	row.certificate = NULL;
out:
	cu_request_row_release(&row);
	return rc;
}

cu_result cu_request_certificate_verify(const char *json, size_t len, const cu_vault *v, char *what,
                                        size_t whatlen)
{
	unsigned char sig[CU_VAULT_SIGBYTES], pk[CU_VAULT_SIGN_PKBYTES],
	    ours[CU_VAULT_SIGN_PKBYTES];
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *cert;
	const char *sighex, *pkhex;
	char *canon = NULL;
	size_t n;
	cu_result rc = CU_ERR_INVALID_ARGUMENT;

	cert = json_object_get(doc, "certificate");
	sighex = json_string_value(json_object_get(doc, "signature"));
	pkhex = json_string_value(json_object_get(cert, "public_key"));
	if (!json_is_object(cert) || !sighex || !pkhex || json_object_size(doc) != 2 ||
	    strcmp(json_string_value(json_object_get(cert, "type"))
	               ? json_string_value(json_object_get(cert, "type"))
	               : "",
	           "erasure")) {
		snprintf(what, whatlen,
		         "not an erasure certificate: expected {\"certificate\": {...}, "
		         "\"signature\": ...}");
		goto out;
	}
	if (sodium_hex2bin(sig, sizeof(sig), sighex, strlen(sighex), NULL, &n, NULL) ||
	    n != sizeof(sig) ||
	    sodium_hex2bin(pk, sizeof(pk), pkhex, strlen(pkhex), NULL, &n, NULL) ||
	    n != sizeof(pk)) {
		snprintf(what, whatlen, "malformed signature or public key");
		goto out;
	}
	canon = json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	if (cu_vault_verify_signature(pk, (const unsigned char *)canon, strlen(canon), sig)) {
		snprintf(what, whatlen,
		         "the signature does not match the certificate: it was altered");
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	if (v) {
		json_int_t kid = json_integer_value(json_object_get(cert, "key_id"));

		if (kid <= 0 || kid > 2147483647 ||
		    cu_vault_sign_public_key(v, (uint32_t)kid, ours) != CU_OK ||
		    sodium_memcmp(ours, pk, sizeof(pk)) != 0) {
			snprintf(what, whatlen, "signed by a key that is not this custodian's");
			rc = CU_ERR_CRYPTO;
			goto out;
		}
	}
	rc = CU_OK;
out:
	free(canon);
	json_decref(doc);
	return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *names_json(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (a && p && *p) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n;
		if (*p == ',')
			p++;
	}
	return a;
}

json_t *cu_request_row_json(const cu_request_row *row, int64_t now_us)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", row->id, "member", row->member, "type",
	              row->type, "state", row->state, "decided_by", row->decided_by, "ground",
	              cu_case_json_opt(row->ground), "fields", names_json(row->fields));

	if (!o)
		return NULL;
	/* hard_due: the outer limit, one month at the most. */
	cu_case_json_clock(o, row->received_us, row->due_us, row->hard_due_us, row->updated_us,
	                   "decided", row->decided_us, now_us);
	return o;
}

json_t *cu_request_view_json(const cu_request_view *v, int64_t now_us)
{
	json_t *o = cu_request_row_json(&v->row, now_us), *history = json_array(), *details;

	if (!o || !history) {
		json_decref(o);
		json_decref(history);
		return NULL;
	}
	details = v->details ? json_loads(v->details, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_object_set_new(o, "details", details ? details : json_null());
	for (size_t i = 0; i < v->nevents; i++) {
		const cu_request_event *e = &v->events[i];
		json_t *h = json_pack("{s:s,s:s,s:s}", "state", e->state, "actor", e->actor, "role",
		                      e->role);

		if (!h)
			continue;
		cu_case_json_time(h, "time", e->time_us);
		json_object_set_new(h, "ground", cu_case_json_opt(e->ground));
		json_object_set_new(h, "note", cu_case_json_opt(e->note));
		json_object_set_new(h, "reasons", cu_case_json_opt(e->reasons));
		json_array_append_new(history, h);
	}
	json_object_set_new(o, "history", history);
	if (v->row.certificate) {
		json_t *c = json_loads(v->row.certificate, 0, NULL);

		if (c)
			json_object_set_new(o, "certificate", c);
	}
	json_object_set_new(o, "texts_erased", json_boolean(v->erased));
	return o;
}
