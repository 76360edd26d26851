/*
 * src/access/aggregate.c — the door for aggregates: who may release a
 * statistic under which purpose, its one audit entry, and which members
 * count (access.h, "aggregates").
 */
#include "access/access.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "access/policy_version.h"
#include "vault/record.h"

cu_result cu_access_aggregate_decide(const cu_policy *p, const cu_aggregate_request *req,
                                     const char **why)
{
	const cu_policy_purpose *pp;
	const cu_actor *a = req ? req->actor : NULL;

	*why = NULL;
	if (!a || !req->purpose || !req->statistic) {
		*why = "incomplete request";
		return CU_ERR_INVALID_ARGUMENT;
	}
	if (a->role == CU_ROLE_MEMBER || a->role == CU_ROLE_SUBCONTRACTOR) {
		*why = "this role releases no statistics";
		return CU_ERR_FORBIDDEN;
	}
	pp = cu_policy_purpose_find(p, req->purpose);
	if (!pp) {
		*why = "unknown purpose";
		return CU_ERR_PURPOSE_UNKNOWN;
	}
	if (a->role != CU_ROLE_OPERATOR && !cu_policy_purpose_allows_role(pp, a->role)) {
		*why = "role may not use this purpose";
		return CU_ERR_PURPOSE_NOT_ALLOWED;
	}
	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i].identifier && ((pp->fields >> i) & 1)) {
			*why = "not a statistical purpose: it grants a direct identifier";
			return CU_ERR_PURPOSE_NOT_ALLOWED;
		}
	if (pp->requires_case || pp->consent_required || pp->diaries) {
		*why = "not a statistical purpose";
		return CU_ERR_PURPOSE_NOT_ALLOWED;
	}
	if (req->fields & ~pp->fields) {
		*why = "a field the statistic uses is not allowed for this purpose";
		return CU_ERR_PURPOSE_NOT_ALLOWED;
	}
	return CU_OK;
}

void cu_access_aggregate_audit_fill(const cu_policy *p, const cu_aggregate_request *req,
                                    cu_result rc, const char *why, cu_access_audit *au)
{
	const cu_actor *a = req->actor;
	cu_audit_entry *e = &au->entry;

	memset(au, 0, sizeof(*au));
	cu_policy_fieldset_format(p, req->fields, au->fields, sizeof(au->fields));
	if (rc)
		snprintf(au->reason, sizeof(au->reason), "%s: %s; %.200s; release %.40s",
		         cu_result_code(rc), why ? why : "denied",
		         req->statistic ? req->statistic : "", req->release ? req->release : "");
	else
		snprintf(au->reason, sizeof(au->reason),
		         "%.200s; %llu members read; release %.40s%s%.80s", req->statistic,
		         (unsigned long long)req->members, req->release ? req->release : "",
		         req->noise ? "; noise " : "", req->noise ? req->noise : "");
	snprintf(au->actor, sizeof(au->actor), "%s", a && a->name ? a->name : "");
	snprintf(au->role, sizeof(au->role), "%s", a ? cu_role_name(a->role) : "");
	/* The purpose is named only when the policy knows it (access.h's rule for entries). */
	cu_access_audit_names(p, NULL, req->purpose, NULL, au);
	e->actor = au->actor;
	e->role = au->role;
	e->action = "statistic";
	e->member = au->member;
	e->purpose = au->purpose;
	e->fields = au->fields;
	e->decision = rc ? "deny" : "allow";
	e->reason = au->reason;
	e->case_ref = au->case_ref;
}

/* Whether version q's purpose (by id) allowed this use: not consent-only, every field by name. */
static bool version_allows(const cu_policy *now, const cu_policy *q, const char *purpose,
                           cu_fieldset fields)
{
	const cu_policy_purpose *then = cu_policy_purpose_find(q, purpose);

	if (!then || then->consent_required)
		return false;
	for (size_t i = 0; i < now->nfields; i++) {
		int j;

		if (!((fields >> i) & 1))
			continue;
		j = cu_policy_field_index(q, now->fields[i].name);
		if (j < 0 || !((then->fields >> j) & 1))
			return false;
	}
	return true;
}

struct versions_read {
	cu_aggregate_scope *sc;
};

static int take_version(void *ud, const char *version, int64_t published_us, const char *by)
{
	cu_aggregate_scope *sc = ud;

	(void)by;
	if (sc->nversions >= CU_AGGREGATE_VERSIONS_MAX)
		return 1;
	snprintf(sc->v[sc->nversions].version, sizeof(sc->v[0].version), "%s", version);
	sc->v[sc->nversions].published_us = published_us;
	sc->nversions++;
	return 0;
}

cu_result cu_access_aggregate_scope(const cu_policy *p, cu_store *reader, const char *purpose,
                                    cu_fieldset fields, cu_aggregate_scope *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	out->policy = p;
	out->fields = fields;
	out->purpose = cu_policy_purpose_find(p, purpose);
	if (!out->purpose)
		return CU_ERR_PURPOSE_UNKNOWN;
	out->allows_now = version_allows(p, p, purpose, fields);
	rc = cu_store_policy_list(reader, take_version, out);
	for (size_t i = 0; !rc && i < out->nversions; i++) {
		const cu_policy *q = NULL;

		if (!strcmp(out->v[i].version, p->version)) {
			out->v[i].allows = version_allows(p, p, purpose, fields);
			continue;
		}
		rc = cu_versions_get(reader, out->v[i].version, &q);
		if (!rc)
			out->v[i].allows = version_allows(p, q, purpose, fields);
	}
	return rc;
}

/* The member's latest choice on purpose in consents ("a=1,b=0"): 1, 0, or -1 for none. */
static int choice(const char *consents, const char *purpose)
{
	size_t n = strlen(purpose);

	for (const char *c = consents; c && *c;) {
		const char *end = strchr(c, ',');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		if (len == n + 2 && !strncmp(c, purpose, n) && c[n] == '=')
			return c[n + 1] == '1';
		c = end ? end + 1 : NULL;
	}
	return -1;
}

bool cu_access_aggregate_counts(const cu_aggregate_scope *sc, const cu_stats_member *m)
{
	const char *version = m->accepted;
	size_t i;

	if (choice(m->consents, sc->purpose->id) == 1)
		return true;
	if (sc->purpose->consent_required)
		return false;
	if (!version) {
		/* The version in force when they registered, else the earliest (policy_version.c). */
		size_t at = sc->nversions;

		for (i = 0; i < sc->nversions; i++)
			if (sc->v[i].published_us <= m->created_us &&
			    (at == sc->nversions ||
			     sc->v[i].published_us >= sc->v[at].published_us))
				at = i;
		if (at == sc->nversions) {
			for (i = 0; i < sc->nversions; i++)
				if (at == sc->nversions ||
				    sc->v[i].published_us < sc->v[at].published_us)
					at = i;
		}
		if (at == sc->nversions)
			/* No version recorded at all: the door holds them to the one in force. */
			return sc->allows_now;
		version = sc->v[at].version;
	}
	if (!strcmp(version, sc->policy->version))
		return sc->allows_now;
	for (i = 0; i < sc->nversions; i++)
		if (!strcmp(sc->v[i].version, version))
			return sc->v[i].allows;
	return false;
}

cu_result cu_access_aggregate_open(const cu_policy *p, const cu_vault *v, const cu_stats_member *m,
                                   cu_fieldset open, cu_aggregate_values *out)
{
	cu_record_entry ents[CU_POLICY_FIELDS_MAX];
	char name[CU_POLICY_ID_MAX + 1];
	cu_data_key dk;
	size_t n = 0;
	cu_result rc;

	out->n = 0;
	out->present = 0;
	if (__builtin_popcountll((unsigned long long)open) > CU_AGGREGATE_OPEN_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (m->fields_len)
		rc = cu_record_parse(m->fields, m->fields_len, ents, CU_POLICY_FIELDS_MAX, &n);
	else
		rc = CU_OK;
	if (rc)
		return rc;
	/* Which fields hold a value: the framing's names, outside the seal. */
	for (size_t i = 0; i < n; i++) {
		int idx;

		if (ents[i].name_len > CU_POLICY_ID_MAX)
			return CU_ERR_STORE;
		memcpy(name, ents[i].name, ents[i].name_len);
		name[ents[i].name_len] = '\0';
		idx = cu_policy_field_index(p, name);
		if (idx < 0)
			continue;
		if ((out->present >> idx) & 1)
			return CU_ERR_STORE;
		out->present |= (cu_fieldset)1 << idx;
	}
	if (!(open & out->present))
		return CU_OK;
	rc = cu_vault_unwrap(v, m->id, m->key_id, m->wrapped, &dk);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		size_t len;
		int idx;

		memcpy(name, ents[i].name, ents[i].name_len);
		name[ents[i].name_len] = '\0';
		idx = cu_policy_field_index(p, name);
		if (idx < 0 || !((open >> idx) & 1))
			continue;
		if (ents[i].sealed_len < CU_VAULT_SEAL_OVERHEAD) {
			rc = CU_ERR_STORE;
			break;
		}
		if (ents[i].sealed_len - CU_VAULT_SEAL_OVERHEAD > CU_AGGREGATE_VALUE_MAX) {
			rc = CU_ERR_TOO_LARGE;
			break;
		}
		rc = cu_vault_open(&dk, m->id, name, ents[i].sealed, ents[i].sealed_len,
		                   (unsigned char *)out->v[out->n].value, &len);
		if (rc)
			break;
		out->v[out->n].value[len] = '\0';
		out->v[out->n].len = len;
		out->v[out->n].field = idx;
		out->n++;
	}
	cu_vault_data_key_wipe(&dk);
	if (rc)
		cu_aggregate_values_wipe(out);
	return rc;
}

const char *cu_aggregate_value(const cu_aggregate_values *vals, int field, size_t *len)
{
	for (size_t i = 0; i < vals->n; i++)
		if (vals->v[i].field == field) {
			if (len)
				*len = vals->v[i].len;
			return vals->v[i].value;
		}
	return NULL;
}

void cu_aggregate_values_wipe(cu_aggregate_values *vals)
{
	for (size_t i = 0; i < vals->n; i++)
		sodium_memzero(vals->v[i].value, vals->v[i].len + 1);
	vals->n = 0;
}
