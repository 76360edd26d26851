/*
 * src/domain/change.h — a registry change or a member's share written with
 * its audit entry in one transaction level, or neither (private to the
 * domain: third_parties.c, subcontractors.c, shares.c).
 */
#ifndef CUSTODIAN_CHANGE_H
#define CUSTODIAN_CHANGE_H

#include "access/access.h"
#include "ctx/ctx.h"

/* What to write (write(store, arg)) and how to audit it ("done"). */
struct cu_change {
	const cu_actor *actor;
	const char *action, *member, *fields, *reason;
	cu_result (*write)(cu_store *s, const void *arg);
	const void *arg;
};

/*
 * Opens a transaction level (joining the caller's), calls c->write and
 * appends the entry; commits both or rolls both back.
 */
CU_WARN_UNUSED cu_result cu_change_write(cu_ctx *ctx, const struct cu_change *c);

#endif
