/*
 * src/domain/members.c — registration, change, lookup and eligibility (erasure is
 * erasure.c's alone: cu_erasure_carry_out).
 *
 * Plaintext arrives from the caller, is validated, sealed field by field
 * under the member's own data key and leaves this file only as ciphertext.
 * Reads of sealed fields belong to access.c; this file never opens a field
 * except to carry an unchanged one across an update, and even then it copies
 * the sealed bytes without opening them.
 */
#include "domain/members.h"
#include "audit/audit.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/diary.h"
#include "vault/record.h"
#include "util/email.h"
#include "util/text.h"

/* The digits of a phone number as typed, before CU_PHONE_MAX is checked. */
#define PHONE_DIGITS_BYTES 32
/* An amendment's audit reason: "request=<id>; before=..; after=..; amended=..; added=..;
 * deleted=..", five field lists (CU_FIELDSET_TEXT_MAX + 1 each) and their labels. */
#define CHANGE_REASON_BYTES 5400

/* ---- validation ------------------------------------------------------ */

static int blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

cu_result cu_member_normalise_email(const char *in, char *out, size_t outlen)
{
	return cu_email_normalise(in, out, outlen);
}

cu_result cu_member_normalise_phone(const char *in, char *out, size_t outlen)
{
	char digits[PHONE_DIGITS_BYTES];
	size_t nd = 0;
	int plus = 0;
	const char *p = in;

	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '+') {
		plus = 1;
		p++;
	}
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= '0' && c <= '9') {
			if (nd >= sizeof(digits) - 1)
				return CU_ERR_INVALID_FIELD;
			digits[nd++] = (char)c;
		} else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
			return CU_ERR_INVALID_FIELD;
		}
	}
	digits[nd] = '\0';
	if (plus) {
		if (nd < 8 || nd > 15 || digits[0] == '0' || outlen < nd + 2)
			return CU_ERR_INVALID_FIELD;
		snprintf(out, outlen, "+%s", digits);
		return CU_OK;
	}
	/* Japanese domestic: trunk prefix 0, then 9 or 10 digits. */
	if (digits[0] != '0' || nd < 10 || nd > 11 || digits[1] == '0' || outlen < nd + 3)
		return CU_ERR_INVALID_FIELD;
	snprintf(out, outlen, "+81%s", digits + 1);
	return CU_OK;
}

static int leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static const char *check_date(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return "malformed";
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return "malformed";
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (y < 1000 || m < 1 || m > 12 || d < 1)
		return "malformed";
	if (d > mdays[m - 1] + (m == 2 && leap(y)))
		return "malformed";
	return NULL;
}

static const char *check_integer(const char *s, const cu_policy_field *f)
{
	char *end;
	long long v;

	if (!*s || isspace((unsigned char)*s))
		return "not_a_number";
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return "not_a_number";
	if (v < f->min || v > f->max)
		return "out_of_range";
	return NULL;
}

static const char *check_value(const cu_policy_field *f, const char *v)
{
	char norm[CU_EMAIL_MAX + 1];
	const char *why;

	if (strlen(v) > f->max_length)
		return "too_long";
	why = cu_text_check(v, strlen(v),
	                    f->kind == CU_FIELD_ADDRESS || f->kind == CU_FIELD_TEXT ? "\n" : "");
	if (why)
		return why;
	switch (f->kind) {
	case CU_FIELD_EMAIL:
		return cu_member_normalise_email(v, norm, sizeof(norm)) ? "malformed" : NULL;
	case CU_FIELD_PHONE:
		return cu_member_normalise_phone(v, norm, sizeof(norm)) ? "malformed" : NULL;
	case CU_FIELD_DATE:
		return check_date(v);
	case CU_FIELD_INTEGER:
		return check_integer(v, f);
	default:
		return NULL;
	}
}

cu_result cu_member_validate(const cu_policy *p, const cu_kv *kv, size_t n, bool registration,
                             cu_errors *errs)
{
	cu_fieldset seen = 0;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = kv[i].name ? kv[i].name : "";
		int idx = cu_policy_field_index(p, name);
		const cu_policy_field *f;
		const char *why;

		if (idx < 0) {
			/*
			 * An unknown name may be anything a client typed, an e-mail
			 * address among them: repeat it only if it has a field name's
			 * form, else report a fixed label.
			 */
			cu_errors_add(errs, cu_policy_id_form(name) ? name : "(field name)",
			              "unknown_field");
			bad = 1;
			continue;
		}
		f = &p->fields[idx];
		if ((seen >> idx) & 1) {
			cu_errors_add(errs, f->name, "duplicate");
			bad = 1;
			continue;
		}
		seen |= (cu_fieldset)1 << idx;
		if (!kv[i].value || blank(kv[i].value)) {
			if (f->required) {
				cu_errors_add(errs, f->name, "required");
				bad = 1;
			}
			continue;
		}
		why = check_value(f, kv[i].value);
		if (why) {
			cu_errors_add(errs, f->name, why);
			bad = 1;
		}
	}
	if (registration) {
		for (size_t i = 0; i < p->nfields; i++) {
			if (p->fields[i].required && !((seen >> i) & 1)) {
				cu_errors_add(errs, p->fields[i].name, "required");
				bad = 1;
			}
		}
	}
	return bad ? CU_ERR_INVALID_FIELD : CU_OK;
}

/* ---- sealing --------------------------------------------------------- */

/* The sealed entries of one member under construction. */
struct sealed {
	size_t n;
	cu_record_entry e[CU_POLICY_FIELDS_MAX];
	unsigned char *owned[CU_POLICY_FIELDS_MAX];
};

static void sealed_release(struct sealed *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->owned[i]);
	s->n = 0;
}

static cu_result seal_into(struct sealed *s, const cu_data_key *dk, const char *id,
                           const char *name, const char *value)
{
	size_t len = strlen(value);
	unsigned char *buf = malloc(len + CU_VAULT_SEAL_OVERHEAD);
	cu_result rc;

	if (!buf)
		return CU_ERR_NOMEM;
	rc = cu_vault_seal(dk, id, name, (const unsigned char *)value, len, buf);
	if (rc) {
		free(buf);
		return rc;
	}
	s->owned[s->n] = buf;
	s->e[s->n].name = name;
	s->e[s->n].name_len = strlen(name);
	s->e[s->n].sealed = buf;
	s->e[s->n].sealed_len = len + CU_VAULT_SEAL_OVERHEAD;
	s->n++;
	return CU_OK;
}

static cu_result pack(const struct sealed *s, cu_member_row *row)
{
	size_t sz = cu_record_packed_size(s->e, s->n);

	row->fields = malloc(sz);
	if (!row->fields)
		return CU_ERR_NOMEM;
	cu_record_pack(s->e, s->n, row->fields);
	row->fields_len = sz;
	return CU_OK;
}

static cu_result blind(const cu_vault *v, uint32_t key_id, const char *kind, const char *value,
                       unsigned char out[CU_VAULT_BIDXBYTES])
{
	char norm[CU_EMAIL_MAX + 1];
	cu_result rc;

	rc = !strcmp(kind, "email") ? cu_member_normalise_email(value, norm, sizeof(norm))
	                            : cu_member_normalise_phone(value, norm, sizeof(norm));
	if (!rc)
		rc = cu_vault_blind_index(v, key_id, kind, norm, out);
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

/* Finds live members by blind index under every loaded key (rotation). */
static cu_result find_any_key(const cu_vault *v, cu_store *store, const char *kind,
                              const char *value, char id[CU_ID_LEN + 1])
{
	unsigned char bidx[CU_VAULT_BIDXBYTES];
	char ids[1][CU_ID_LEN + 1];
	size_t n = 0;
	cu_result rc = CU_OK;

	for (size_t k = cu_vault_key_count(v); k-- > 0 && !rc;) {
		rc = blind(v, cu_vault_key_id_at(v, k), kind, value, bidx);
		if (!rc)
			rc = cu_store_member_find(store, kind, bidx, ids, 1, &n);
		if (!rc && n) {
			memcpy(id, ids[0], CU_ID_LEN + 1);
			return CU_OK;
		}
	}
	return rc ? rc : CU_ERR_NOT_FOUND;
}

static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                       const char *purpose, const char *fields, const char *decision,
                       const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor && actor->name ? actor->name : "";
	e.role = actor ? cu_role_name(actor->role) : "";
	e.action = action;
	e.member = member ? member : "";
	e.purpose = purpose ? purpose : "";
	e.fields = fields ? fields : "";
	e.decision = decision;
	e.reason = reason ? reason : "";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

/* Audits a refusal in its own transaction; the refusal stands whatever happens. */
static cu_result audit_refusal(cu_ctx *ctx, const cu_actor *actor, const char *action,
                               const char *member, const char *purpose, const char *fields,
                               cu_result why)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = audit(ctx, actor, action, member, purpose, fields, "deny", cu_result_code(why));
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	return rc ? rc : why;
}

/* ---- register -------------------------------------------------------- */

static int may_register(cu_role r)
{
	return r == CU_ROLE_SERVICE || r == CU_ROLE_STAFF || r == CU_ROLE_OFFICER ||
	       r == CU_ROLE_ADMIN || r == CU_ROLE_OPERATOR || r == CU_ROLE_MEMBER;
}

cu_result cu_member_prepare(const cu_policy *p, const cu_vault *v, const cu_config *c,
                            const cu_actor *actor, const cu_kv *kv, size_t n, const char *password,
                            cu_registration *reg, cu_errors *errs)
{
	cu_member_row *row = &reg->row;
	struct sealed s = {0};
	cu_data_key dk;
	const char *email = NULL, *phone = NULL;
	cu_result rc;

	memset(reg, 0, sizeof(*reg));
	if (!actor || !may_register(actor->role))
		return CU_ERR_FORBIDDEN;
	/* Every field's problem at once, the password's among them: a form shows them together. */
	rc = cu_member_validate(p, kv, n, true, errs);
	if (password && (strlen(password) < 8 || strlen(password) > 1024)) {
		cu_errors_add(errs, "password", strlen(password) < 8 ? "too_short" : "too_long");
		rc = CU_ERR_INVALID_FIELD;
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const cu_policy_field *f = cu_policy_field_find(p, kv[i].name);

		if (!kv[i].value || blank(kv[i].value))
			continue;
		if (f->kind == CU_FIELD_EMAIL && !email)
			email = kv[i].value;
		else if (f->kind == CU_FIELD_PHONE && !phone)
			phone = kv[i].value;
		row->present |= (cu_fieldset)1 << cu_policy_field_index(p, kv[i].name);
	}
	if (email) {
		rc = cu_member_normalise_email(email, reg->email, sizeof(reg->email));
		if (rc)
			goto out;
	}
	if (password) {
		row->password_hash = malloc(CU_VAULT_PWHASH_MAX);
		if (!row->password_hash) {
			rc = CU_ERR_NOMEM;
			goto out;
		}
		rc = cu_vault_password_hash(password, c->argon2_opslimit,
		                            c->argon2_memlimit_kib * 1024, row->password_hash);
		if (rc)
			goto out;
	}

	cu_vault_random_id(row->id);
	cu_vault_data_key_new(&dk);
	rc = cu_vault_wrap(v, row->id, &dk, row->wrapped, &row->key_id);
	for (size_t i = 0; !rc && i < n; i++)
		if (kv[i].value && !blank(kv[i].value))
			rc = seal_into(&s, &dk, row->id, cu_policy_field_find(p, kv[i].name)->name,
			               kv[i].value);
	cu_vault_data_key_wipe(&dk);
	if (!rc)
		rc = pack(&s, row);
	if (!rc && email) {
		row->has_email_bidx = true;
		rc = blind(v, cu_vault_current_key_id(v), "email", email, row->email_bidx);
	}
	if (!rc && phone) {
		row->has_phone_bidx = true;
		rc = blind(v, cu_vault_current_key_id(v), "phone", phone, row->phone_bidx);
	}
	if (rc)
		goto out;
	row->created_us = row->updated_us = cu_now_us();
	cu_policy_fieldset_format(p, row->present, reg->names, sizeof(reg->names));
	snprintf(reg->actor, sizeof(reg->actor), "%s", actor->name ? actor->name : "");
	snprintf(reg->role, sizeof(reg->role), "%s", cu_role_name(actor->role));
	reg->with_password = password != NULL;
out:
	sealed_release(&s);
	if (rc)
		cu_registration_release(reg);
	return rc;
}

void cu_registration_release(cu_registration *reg)
{
	cu_member_row_release(&reg->row);
	sodium_memzero(reg->email, sizeof(reg->email));
}

/*
 * Refuses an address another live member holds under an older key: the
 * unique index sees only the current key's blind index.  Reads only.
 */
static cu_result refuse_old_key_duplicate(cu_ctx *ctx, const cu_registration *reg, cu_errors *errs)
{
	char other[CU_ID_LEN + 1];
	cu_result rc;

	if (!reg->email[0] || cu_vault_key_count(ctx->vault) <= 1)
		return CU_OK;
	rc = find_any_key(ctx->vault, ctx->store, "email", reg->email, other);
	if (rc == CU_OK) {
		cu_errors_add(errs, "email", "duplicate");
		return CU_ERR_CONFLICT;
	}
	return rc == CU_ERR_NOT_FOUND ? CU_OK : rc;
}

/*
 * The registration's writes in the open transaction: the member row, then
 * its audit entry.  *wrote says whether the member row went in, so whether
 * a failure has left something of this registration behind.  The member
 * INSERT is one statement and fails whole (SQLite undoes a refused
 * statement's changes), so a duplicate e-mail writes nothing.
 */
static cu_result write_registration(cu_ctx *ctx, cu_registration *reg, bool *wrote)
{
	cu_audit_entry e = {0};
	cu_result rc;

	*wrote = false;
	rc = cu_store_member_insert(ctx->store, &reg->row);
	if (rc)
		return rc;
	*wrote = true;
	e.actor = reg->actor;
	e.role = reg->role;
	e.action = "register";
	e.member = reg->row.id;
	e.fields = reg->names;
	e.decision = "done";
	e.reason = reg->with_password ? "registered with a password" : "registered";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

cu_result cu_member_apply(cu_ctx *ctx, cu_registration *reg, cu_errors *errs)
{
	cu_result rc;
	bool wrote;

	rc = refuse_old_key_duplicate(ctx, reg, errs);
	if (rc)
		return rc;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = write_registration(ctx, reg, &wrote);
	if (rc) {
		/* Inside a caller's batch this undoes only this registration. */
		cu_tx_rollback(ctx);
		if (rc == CU_ERR_CONFLICT)
			cu_errors_add(errs, "email", "duplicate");
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_member_apply_in_batch(cu_ctx *ctx, cu_registration *reg, cu_errors *errs)
{
	cu_result rc;
	bool wrote;

	if (ctx->tx_depth <= 0)
		return CU_ERR_INTERNAL;
	rc = refuse_old_key_duplicate(ctx, reg, errs);
	if (rc)
		return rc;
	rc = write_registration(ctx, reg, &wrote);
	if (rc == CU_ERR_CONFLICT && !wrote) {
		cu_errors_add(errs, "email", "duplicate");
		return CU_ERR_CONFLICT;
	}
	/*
	 * A collision after the member row (the audit entry's sequence number
	 * taken: another writer, or a damaged chain) is no refusal of this row:
	 * the row is in the batch, which must not be committed.
	 */
	if (rc == CU_ERR_CONFLICT)
		return CU_ERR_STORE;
	return rc;
}

cu_result cu_member_register(cu_ctx *ctx, const cu_actor *actor, const cu_kv *kv, size_t n,
                             const char *password, char id[CU_ID_LEN + 1], cu_errors *errs)
{
	cu_registration reg;
	cu_result rc;

	id[0] = '\0';
	rc = cu_member_prepare(ctx->policy, ctx->vault, &ctx->config, actor, kv, n, password, &reg,
	                       errs);
	if (rc)
		return rc;
	rc = cu_member_apply(ctx, &reg, errs);
	if (!rc)
		memcpy(id, reg.row.id, CU_ID_LEN + 1);
	cu_registration_release(&reg);
	return rc;
}

/* ---- update ---------------------------------------------------------- */

/* Whether actor may change these fields of member id under purpose. */
static cu_result may_change(const cu_ctx *ctx, const cu_actor *actor, const char *purpose,
                            const char *id, cu_fieldset changed)
{
	const cu_policy_purpose *pp;

	if (!actor)
		return CU_ERR_FORBIDDEN;
	if (actor->role == CU_ROLE_MEMBER)
		return actor->member && !strcmp(actor->member, id) ? CU_OK : CU_ERR_FORBIDDEN;
	pp = purpose ? cu_policy_purpose_find(ctx->policy, purpose) : NULL;
	if (!pp)
		return CU_ERR_PURPOSE_UNKNOWN;
	if (actor->role != CU_ROLE_OPERATOR && !cu_policy_purpose_allows_role(pp, actor->role))
		return CU_ERR_PURPOSE_NOT_ALLOWED;
	if (pp->aggregate_only)
		return CU_ERR_AGGREGATE_ONLY;
	if (changed & ~pp->fields)
		return CU_ERR_PURPOSE_NOT_ALLOWED;
	return CU_OK;
}

/*
 * How a change is recorded: an update names its purpose ("self" for the
 * member); an amendment names the request it carries out and which of the
 * fields held a value before and after (names only), so the audit tells
 * an amendment from an addition or a deletion without any value.
 */
struct change_audit {
	const char *action; /* "update" | "amend" */
	const char *purpose;
	const char *request; /* an amendment's request id, or NULL */
};

static cu_result change(cu_ctx *ctx, const cu_actor *actor, const char *id, const cu_kv *kv,
                        size_t n, cu_fieldset changed, const char *names,
                        const struct change_audit *how, cu_errors *errs);

/*
 * A live member's row, its parsed record entries (pointing into row->fields)
 * and its data key: what changing a member's stored record starts from.
 * CU_ERR_ERASED for an erased member.  On failure the row is released and
 * the key wiped; on success the caller does both.
 */
static cu_result open_record(cu_ctx *ctx, const char *id, cu_member_row *row,
                             cu_record_entry e[CU_POLICY_FIELDS_MAX], size_t *n, cu_data_key *dk)
{
	cu_result rc = cu_store_member_get(ctx->store, id, row);

	*n = 0;
	if (rc)
		return rc;
	rc = row->erased
	         ? CU_ERR_ERASED
	         : cu_record_parse(row->fields, row->fields_len, e, CU_POLICY_FIELDS_MAX, n);
	if (!rc)
		rc = cu_vault_unwrap(ctx->vault, row->id, row->key_id, row->wrapped, dk);
	if (rc) {
		cu_vault_data_key_wipe(dk);
		cu_member_row_release(row);
	}
	return rc;
}

cu_result cu_member_update(cu_ctx *ctx, const cu_actor *actor, const char *purpose, const char *id,
                           const cu_kv *kv, size_t n, cu_errors *errs)
{
	const cu_policy *p = ctx->policy;
	struct change_audit how = {"update", NULL, NULL};
	cu_fieldset changed = 0;
	char names[CU_FIELDSET_TEXT_MAX + 1];
	cu_result rc;

	rc = cu_member_validate(p, kv, n, false, errs);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		changed |= (cu_fieldset)1 << cu_policy_field_index(p, kv[i].name);
	cu_policy_fieldset_format(p, changed, names, sizeof(names));
	rc = may_change(ctx, actor, purpose, id, changed);
	/* A purpose the policy does not know is not repeated in the audit (audit.h). */
	if (rc)
		return audit_refusal(ctx, actor, "update", id,
		                     purpose && *purpose && !cu_policy_purpose_find(p, purpose)
		                         ? CU_AUDIT_MALFORMED
		                         : purpose,
		                     names, rc);
	how.purpose = actor->role == CU_ROLE_MEMBER ? "self" : purpose;
	return change(ctx, actor, id, kv, n, changed, names, &how, errs);
}

cu_result cu_member_amend(cu_ctx *ctx, const cu_actor *actor, const char *id, const char *request,
                          const cu_kv *kv, size_t n, cu_errors *errs)
{
	const cu_policy *p = ctx->policy;
	struct change_audit how = {"amend", "amendment", request};
	cu_fieldset changed = 0;
	char names[CU_FIELDSET_TEXT_MAX + 1];
	cu_result rc;

	if (!request || !*request || strlen(request) > CU_ID_LEN || n == 0)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_member_validate(p, kv, n, false, errs);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		changed |= (cu_fieldset)1 << cu_policy_field_index(p, kv[i].name);
	cu_policy_fieldset_format(p, changed, names, sizeof(names));
	/* The member's request is the basis, not a purpose of use: only an officer carries it out. */
	if (!actor || !(actor->role == CU_ROLE_OFFICER || actor->role == CU_ROLE_OPERATOR))
		return audit_refusal(ctx, actor, "amend", id, "amendment", names, CU_ERR_FORBIDDEN);
	return change(ctx, actor, id, kv, n, changed, names, &how, errs);
}

static cu_result change(cu_ctx *ctx, const cu_actor *actor, const char *id, const cu_kv *kv,
                        size_t n, cu_fieldset changed, const char *names,
                        const struct change_audit *how, cu_errors *errs)
{
	const cu_policy *p = ctx->policy;
	cu_member_row row = {0};
	cu_record_entry old[CU_POLICY_FIELDS_MAX];
	struct sealed s = {0};
	cu_fieldset before;
	cu_data_key dk;
	char name[CU_POLICY_ID_MAX + 1], reason[CHANGE_REASON_BYTES];
	size_t nold = 0;
	cu_result rc;

	rc = open_record(ctx, id, &row, old, &nold, &dk);
	if (rc)
		return rc;
	before = row.present;
	/* Unchanged fields keep their sealed bytes; changed ones are sealed anew. */
	for (size_t i = 0; i < nold && !rc; i++) {
		int idx;

		if (old[i].name_len > CU_POLICY_ID_MAX)
			continue;
		memcpy(name, old[i].name, old[i].name_len);
		name[old[i].name_len] = '\0';
		idx = cu_policy_field_index(p, name);
		if (idx >= 0 && ((changed >> idx) & 1))
			continue;
		s.e[s.n] = old[i];
		s.owned[s.n] = NULL;
		s.n++;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const cu_policy_field *f = cu_policy_field_find(p, kv[i].name);
		int idx = cu_policy_field_index(p, kv[i].name);
		int clear = !kv[i].value || blank(kv[i].value);

		if (clear) {
			row.present &= ~((cu_fieldset)1 << idx);
			if (f->kind == CU_FIELD_PHONE)
				row.has_phone_bidx = false;
			if (f->kind == CU_FIELD_EMAIL)
				row.has_email_bidx = false;
			continue;
		}
		row.present |= (cu_fieldset)1 << idx;
		rc = seal_into(&s, &dk, row.id, f->name, kv[i].value);
		if (!rc && f->kind == CU_FIELD_EMAIL) {
			row.has_email_bidx = true;
			rc = blind(ctx->vault, cu_vault_current_key_id(ctx->vault), "email",
			           kv[i].value, row.email_bidx);
		} else if (!rc && f->kind == CU_FIELD_PHONE) {
			row.has_phone_bidx = true;
			rc = blind(ctx->vault, cu_vault_current_key_id(ctx->vault), "phone",
			           kv[i].value, row.phone_bidx);
		}
	}
	cu_vault_data_key_wipe(&dk);
	if (rc)
		goto out;
	{
		unsigned char *old_fields = row.fields;

		rc = pack(&s, &row); /* entries may point into old_fields */
		free(old_fields);
		if (rc) {
			row.fields = NULL;
			goto out;
		}
	}
	row.updated_us = cu_now_us();
	if (how->request) {
		char b[CU_FIELDSET_TEXT_MAX + 1], a[CU_FIELDSET_TEXT_MAX + 1],
		    am[CU_FIELDSET_TEXT_MAX + 1], ad[CU_FIELDSET_TEXT_MAX + 1],
		    de[CU_FIELDSET_TEXT_MAX + 1];

		cu_policy_fieldset_format(p, before & changed, b, sizeof(b));
		cu_policy_fieldset_format(p, row.present & changed, a, sizeof(a));
		cu_policy_fieldset_format(p, before & row.present & changed, am, sizeof(am));
		cu_policy_fieldset_format(p, ~before & row.present & changed, ad, sizeof(ad));
		cu_policy_fieldset_format(p, before & ~row.present & changed, de, sizeof(de));
		snprintf(reason, sizeof(reason),
		         "request=%s; before=%s; after=%s; amended=%s; added=%s; deleted=%s",
		         how->request, b, a, am, ad, de);
	} else {
		snprintf(reason, sizeof(reason), "fields changed");
	}
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_member_update(ctx->store, &row);
	if (!rc)
		rc = audit(ctx, actor, how->action, id, how->purpose, names, "done", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		if (rc == CU_ERR_CONFLICT)
			cu_errors_add(errs, "email", "duplicate");
		goto out;
	}
	rc = cu_tx_commit(ctx);
out:
	sealed_release(&s);
	cu_member_row_release(&row);
	return rc;
}

/* ---- find, eligibility ----------------------------------------------- */

static int may_find(cu_role r)
{
	return r == CU_ROLE_STAFF || r == CU_ROLE_SERVICE || r == CU_ROLE_OFFICER ||
	       r == CU_ROLE_ADMIN || r == CU_ROLE_OPERATOR;
}

cu_result cu_member_find(cu_ctx *ctx, const cu_actor *actor, const char *kind, const char *value,
                         char id[CU_ID_LEN + 1])
{
	char norm[CU_EMAIL_MAX + 1];
	cu_result rc;

	id[0] = '\0';
	if (!kind || (strcmp(kind, "email") && strcmp(kind, "phone")))
		return CU_ERR_INVALID_ARGUMENT;
	if (!actor || !may_find(actor->role))
		return audit_refusal(ctx, actor, "find", "", "", kind, CU_ERR_FORBIDDEN);
	if (!value || strlen(value) > CU_EMAIL_MAX ||
	    (!strcmp(kind, "email") ? cu_member_normalise_email(value, norm, sizeof(norm))
	                            : cu_member_normalise_phone(value, norm, sizeof(norm))))
		return CU_ERR_INVALID_FIELD;
	sodium_memzero(norm, sizeof(norm));
	rc = find_any_key(ctx->vault, ctx->store, kind, value, id);
	if (rc && rc != CU_ERR_NOT_FOUND)
		return rc;
	{
		cu_result arc = cu_tx_begin(ctx);

		if (!arc) {
			arc = audit(ctx, actor, "find", rc ? "" : id, "", kind,
			            rc ? "deny" : "allow", rc ? "no match" : "match");
			if (arc)
				cu_tx_rollback(ctx);
			else
				arc = cu_tx_commit(ctx);
		}
		if (arc) {
			id[0] = '\0';
			return arc;
		}
	}
	return rc;
}

cu_result cu_member_lookup(const cu_vault *v, cu_store *store, const char *kind, const char *value,
                           char id[CU_ID_LEN + 1])
{
	char norm[CU_EMAIL_MAX + 1];
	cu_result rc;

	id[0] = '\0';
	if (!kind || (strcmp(kind, "email") && strcmp(kind, "phone")))
		return CU_ERR_INVALID_ARGUMENT;
	if (!value || strlen(value) > CU_EMAIL_MAX)
		return CU_ERR_INVALID_FIELD;
	rc = !strcmp(kind, "email") ? cu_member_normalise_email(value, norm, sizeof(norm))
	                            : cu_member_normalise_phone(value, norm, sizeof(norm));
	sodium_memzero(norm, sizeof(norm));
	if (rc)
		return rc;
	return find_any_key(v, store, kind, value, id);
}

cu_result cu_member_eligibility(cu_ctx *ctx, const cu_actor *actor, const char *service,
                                const char *id, cu_fieldset *missing)
{
	const cu_policy_service *sv;
	cu_member_row row = {0};
	char names[CU_FIELDSET_TEXT_MAX + 1] = "";
	cu_result rc, arc;

	*missing = 0;
	if (!actor)
		return CU_ERR_FORBIDDEN;
	if (actor->role == CU_ROLE_MEMBER
	        ? !actor->member || strcmp(actor->member, id)
	        : !(actor->role == CU_ROLE_SERVICE || actor->role == CU_ROLE_STAFF ||
	            actor->role == CU_ROLE_OFFICER || actor->role == CU_ROLE_OPERATOR))
		return audit_refusal(ctx, actor, "eligibility", id, "membership", "",
		                     CU_ERR_FORBIDDEN);
	sv = service ? cu_policy_service_find(ctx->policy, service) : NULL;
	if (!sv)
		return CU_ERR_NOT_FOUND;
	rc = cu_store_member_get(ctx->store, id, &row);
	if (rc)
		return rc;
	if (row.erased) {
		cu_member_row_release(&row);
		return CU_ERR_ERASED;
	}
	*missing = sv->requires & ~row.present;
	cu_member_row_release(&row);
	cu_policy_fieldset_format(ctx->policy, *missing, names, sizeof(names));
	arc = cu_tx_begin(ctx);
	if (!arc) {
		arc = audit(ctx, actor, "eligibility", id, "membership", names,
		            *missing ? "deny" : "allow", sv->id);
		if (arc)
			cu_tx_rollback(ctx);
		else
			arc = cu_tx_commit(ctx);
	}
	if (arc)
		*missing = 0;
	return arc;
}

/* ---- password ------------------------------------------------- */

cu_result cu_member_set_password(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                 const char *password)
{
	cu_member_row row = {0};
	char hash[CU_VAULT_PWHASH_MAX];
	cu_result rc;

	if (!actor || (actor->role == CU_ROLE_MEMBER ? !actor->member || strcmp(actor->member, id)
	                                             : actor->role != CU_ROLE_OPERATOR))
		return CU_ERR_FORBIDDEN;
	if (!password || strlen(password) < 8 || strlen(password) > 1024)
		return CU_ERR_INVALID_FIELD;
	rc = cu_vault_password_hash(password, ctx->config.argon2_opslimit,
	                            ctx->config.argon2_memlimit_kib * 1024, hash);
	if (rc)
		return rc;
	rc = cu_store_member_get(ctx->store, id, &row);
	if (rc)
		return rc;
	if (row.erased) {
		rc = CU_ERR_ERASED;
		goto out;
	}
	free(row.password_hash);
	row.password_hash = strdup(hash);
	if (!row.password_hash) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	row.updated_us = cu_now_us();
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_member_update(ctx->store, &row);
	if (!rc)
		rc = audit(ctx, actor, "set_password", id, "", "", "done", "");
	if (rc)
		cu_tx_rollback(ctx);
	else
		rc = cu_tx_commit(ctx);
out:
	cu_member_row_release(&row);
	return rc;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_member_get(cu_store *s, const char *id, cu_member_row *out)
{
	return cu_store_member_get(s, id, out);
}

cu_result cu_member_reindex(cu_ctx *ctx, const char *id)
{
	cu_member_row row = {0};
	cu_record_entry e[CU_POLICY_FIELDS_MAX];
	char name[CU_POLICY_ID_MAX + 1];
	unsigned char *pt = NULL;
	size_t n = 0, ptlen;
	cu_data_key dk;
	cu_result rc;

	rc = open_record(ctx, id, &row, e, &n, &dk);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		const cu_policy_field *f;

		if (e[i].name_len > CU_POLICY_ID_MAX || e[i].sealed_len < CU_VAULT_SEAL_OVERHEAD)
			continue;
		memcpy(name, e[i].name, e[i].name_len);
		name[e[i].name_len] = '\0';
		f = cu_policy_field_find(ctx->policy, name);
		if (!f || (f->kind != CU_FIELD_EMAIL && f->kind != CU_FIELD_PHONE))
			continue;
		pt = sodium_malloc(e[i].sealed_len - CU_VAULT_SEAL_OVERHEAD + 1);
		if (!pt) {
			rc = CU_ERR_NOMEM;
			break;
		}
		rc = cu_vault_open(&dk, row.id, name, e[i].sealed, e[i].sealed_len, pt, &ptlen);
		if (!rc && f->kind == CU_FIELD_EMAIL)
			rc = blind(ctx->vault, cu_vault_current_key_id(ctx->vault), "email",
			           (const char *)pt, row.email_bidx);
		else if (!rc)
			rc = blind(ctx->vault, cu_vault_current_key_id(ctx->vault), "phone",
			           (const char *)pt, row.phone_bidx);
		sodium_free(pt); /* wipes */
		pt = NULL;
	}
	cu_vault_data_key_wipe(&dk);
	/* The same fields, hash and times: only the indexes change. */
	if (!rc)
		rc = cu_store_member_update(ctx->store, &row);
	cu_member_row_release(&row);
	return rc;
}
