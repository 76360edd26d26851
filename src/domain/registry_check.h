/*
 * src/domain/registry_check.h — what the registries of third parties
 * (third_parties.h) and of subcontractors (subcontractors.h) check alike
 * (private to the domain).
 */
#ifndef CUSTODIAN_REGISTRY_CHECK_H
#define CUSTODIAN_REGISTRY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "access/access.h"
#include "store/registry.h"

/* A registry id: lower-case letters, digits, '_' and '-', 1..CU_REGISTRY_ID_MAX (as consent.c's). */
bool cu_registry_id_form(const char *s);
/* Adds field's reason to errs and sets *bad when s is not 1..max bytes of free text (util/text.h). */
void cu_registry_check_text(cu_errors *errs, const char *field, const char *s, size_t max,
                            bool multiline, bool *bad);
/*
 * Joins names into buf with ',', each passing ok(p, name); "required" for
 * none, `unknown` / "duplicate" / "too_long" as they come.  Returns the
 * reason or NULL.
 */
const char *cu_registry_join_names(const char *const *names, size_t n,
                                   bool (*ok)(const cu_policy *, const char *), const cu_policy *p,
                                   const char *unknown, char *buf, size_t len);
/* Whether p has a field of this name (for cu_registry_join_names). */
bool cu_registry_field_ok(const cu_policy *p, const char *name);
/* Registries and their reviews are the privacy officer's (or the operator's on the host). */
bool cu_registry_officer_or_operator(const cu_actor *a);
/* The actor's name into a row's created_by. */
void cu_registry_copy_actor(char dst[CU_REGISTRY_ACTOR_MAX + 1], const cu_actor *a);

#endif
