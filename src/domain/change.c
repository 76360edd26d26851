/*
 * src/domain/change.c — a change and its audit entry together (change.h).
 */
#include "domain/change.h"

cu_result cu_change_write(cu_ctx *ctx, const struct cu_change *c)
{
	cu_audit_entry e = {0};
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = c->write(ctx->store, c->arg);
	if (!rc) {
		e.actor = c->actor->name ? c->actor->name : "";
		e.role = cu_role_name(c->actor->role);
		e.action = c->action;
		e.member = c->member ? c->member : "";
		e.fields = c->fields ? c->fields : "";
		e.decision = "done";
		e.reason = c->reason;
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}
