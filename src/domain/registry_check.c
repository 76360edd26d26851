/*
 * src/domain/registry_check.c — what the third parties' and the subcontractors'
 * registries check alike (registry_check.h).
 */
#include "domain/registry_check.h"

#include <stdio.h>
#include <string.h>

#include "util/text.h"

bool cu_registry_id_form(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CU_REGISTRY_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

void cu_registry_check_text(cu_errors *errs, const char *field, const char *s, size_t max,
                            bool multiline, bool *bad)
{
	const char *why = cu_text_free_problem(s, max, multiline);

	if (why) {
		cu_errors_add(errs, field, why);
		*bad = true;
	}
}

const char *cu_registry_join_names(const char *const *names, size_t n,
                                   bool (*ok)(const cu_policy *, const char *), const cu_policy *p,
                                   const char *unknown, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (!names || n == 0)
		return "required";
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!names[i] || !ok(p, names[i]))
			return unknown;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return "duplicate";
		w = snprintf(buf + o, len - o, "%s%s", i ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= len - o)
			return "too_long";
		o += (size_t)w;
	}
	return NULL;
}

bool cu_registry_field_ok(const cu_policy *p, const char *name)
{
	return cu_policy_field_index(p, name) >= 0;
}

bool cu_registry_officer_or_operator(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_OPERATOR);
}

void cu_registry_copy_actor(char dst[CU_REGISTRY_ACTOR_MAX + 1], const cu_actor *a)
{
	snprintf(dst, CU_REGISTRY_ACTOR_MAX + 1, "%s", a->name ? a->name : "");
}
