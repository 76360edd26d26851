/*
 * src/domain/versions.c — publishing policy versions, and what changed (reading them: access/policy_version.c).
 */
#include "domain/versions.h"
#include "domain/notify.h"
#include "util/file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP_PATH_BYTES (CU_DATA_PATH_MAX + 100) /* the file's path and ".new", with room */
#define SUBJECT_BYTES  160                      /* "Our privacy policy has changed (version <v>)" */
#define BODY_BYTES     900                      /* the notice of a new version */

static int may_publish(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_ADMIN ||
	             a->role == CU_ROLE_OPERATOR);
}

/* Replaces DATA/<policy file> atomically: a reader sees the old or the new file, never half. */
static cu_result replace_file(const char *dir, const char *name, const char *doc, size_t len)
{
	char path[CU_DATA_PATH_MAX], tmp[TMP_PATH_BYTES];
	size_t off = 0;
	int fd;

	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return CU_ERR_IO;
	while (off < len) {
		ssize_t w = write(fd, doc + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return CU_ERR_IO;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return CU_ERR_IO;
	}
	return CU_OK;
}

#define NOTIFY_PAGE 512 /* member ids read per page while notifying them all */

/*
 * A notice (and its e-mail) to every live member.  The text names the
 * version and where to see the changes — no personal value (notify.h).
 * One notice per member: with a million members this is a million rows in
 * one transaction, the price of "members are notified" being atomic with
 * the publication.
 */
static cu_result notify_members(cu_ctx *ctx, const char *version)
{
	char subject[SUBJECT_BYTES], body[BODY_BYTES], after[CU_ID_LEN + 1] = "";
	char(*ids)[CU_ID_LEN + 1] = malloc(NOTIFY_PAGE * sizeof(*ids));
	size_t n;
	cu_result rc = ids ? CU_OK : CU_ERR_NOMEM;

	snprintf(subject, sizeof(subject), "Our privacy policy has changed (version %s)", version);
	snprintf(body, sizeof(body),
	         "We have published version %s of our privacy policy.\n\n"
	         "You can see what changed, side by side with the version you accepted, in your\n"
	         "account (Privacy policy > What changed).  Your information is not used for a\n"
	         "purpose the version you accepted did not name until you accept the new version\n"
	         "or consent to that purpose.\n",
	         version);
	while (!rc) {
		rc = cu_store_member_ids(ctx->store, after, ids, NOTIFY_PAGE, &n);
		for (size_t i = 0; !rc && i < n; i++)
			rc = cu_notify_member(ctx, ids[i], "policy", subject, body);
		if (rc || n < NOTIFY_PAGE)
			break;
		memcpy(after, ids[n - 1], sizeof(after));
	}
	free(ids);
	return rc;
}

cu_result cu_versions_publish(cu_ctx *ctx, const cu_actor *actor, const char *doc, size_t len,
                              cu_policy **out, char *err, size_t errlen)
{
	const cu_policy *have = NULL;
	cu_policy *p = NULL;
	cu_audit_entry e = {0};
	cu_result rc;

	*out = NULL;
	if (!may_publish(actor))
		return CU_ERR_FORBIDDEN;
	rc = cu_policy_load_buffer("policy", doc, len, &p, err, errlen);
	if (rc)
		return rc;
	if (cu_versions_get(ctx->store, p->version, &have) == CU_OK) {
		snprintf(err, errlen,
		         "version '%s' is already published; give the new policy a "
		         "new version",
		         p->version);
		cu_policy_free(p);
		return CU_ERR_CONFLICT;
	}
	rc = cu_tx_begin(ctx);
	if (rc)
		goto fail;
	rc = cu_store_policy_put(ctx->store, p->version, p->digest, doc, len,
	                         actor->name ? actor->name : "", cu_now_us());
	if (!rc) {
		e.actor = actor->name ? actor->name : "";
		e.role = cu_role_name(actor->role);
		e.action = "policy_publish";
		e.decision = "done";
		e.reason = p->version;
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	}
	/* Every member is told, in the same transaction as the publication. */
	if (!rc)
		rc = notify_members(ctx, p->version);
	/* The file changes last, inside the transaction: if it cannot, nothing is published. */
	if (!rc)
		rc = replace_file(ctx->dir, ctx->config.policy, doc, len);
	if (rc) {
		cu_tx_rollback(ctx);
		snprintf(err, errlen, "cannot publish: %s", cu_strerror(rc));
		goto fail;
	}
	rc = cu_tx_commit(ctx);
	if (rc) {
		snprintf(err, errlen, "cannot publish: %s", cu_strerror(rc));
		goto fail;
	}
	*out = p;
	return CU_OK;
fail:
	cu_policy_free(p);
	return rc;
}

/* ---- diff ---------------------------------------------------------------- */

static json_t *names(const cu_policy *p, cu_fieldset set)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->nfields; i++)
		if ((set >> i) & 1)
			json_array_append_new(a, json_string(p->fields[i].name));
	return a;
}

/* The fields of `set` (indices of p) as a set of indices of q, by name. */
static cu_fieldset remap(const cu_policy *p, cu_fieldset set, const cu_policy *q)
{
	cu_fieldset out = 0;

	for (size_t i = 0; i < p->nfields; i++) {
		int j = (set >> i) & 1 ? cu_policy_field_index(q, p->fields[i].name) : -1;

		if (j >= 0)
			out |= (cu_fieldset)1 << j;
	}
	return out;
}

static json_t *roles(uint32_t set)
{
	json_t *a = json_array();

	for (int r = 0; r < CU_ROLE_COUNT_; r++)
		if ((set >> r) & 1)
			json_array_append_new(a, json_string(cu_role_name((cu_role)r)));
	return a;
}

json_t *cu_versions_diff(const cu_policy *from, const cu_policy *to)
{
	json_t *d = json_object(), *added = json_array(), *removed = json_array(),
	       *changed = json_array(), *fa = json_array(), *fr = json_array();

	for (size_t i = 0; i < to->npurposes; i++) {
		const cu_policy_purpose *n = &to->purposes[i];
		const cu_policy_purpose *o = cu_policy_purpose_find(from, n->id);

		if (!o) {
			json_array_append_new(added, json_pack("{s:s,s:s,s:o,s:o,s:b}", "id", n->id,
			                                       "text", n->text, "fields",
			                                       names(to, n->fields), "roles",
			                                       roles(n->roles), "consent_required",
			                                       n->consent_required));
			continue;
		}
		cu_fieldset of = remap(from, o->fields, to);
		if (of != n->fields || o->roles != n->roles || strcmp(o->text, n->text) ||
		    o->requires_case != n->requires_case ||
		    o->aggregate_only != n->aggregate_only ||
		    o->consent_required != n->consent_required || o->diaries != n->diaries)
			json_array_append_new(
			    changed,
			    json_pack("{s:s,s:{s:s,s:o,s:o,s:b},s:{s:s,s:o,s:o,s:b},s:o,s:o}", "id",
			              n->id, "before", "text", o->text, "fields",
			              names(from, o->fields), "roles", roles(o->roles),
			              "consent_required", o->consent_required, "after", "text",
			              n->text, "fields", names(to, n->fields), "roles",
			              roles(n->roles), "consent_required", n->consent_required,
			              "fields_added", names(to, n->fields & ~of), "fields_removed",
			              names(to, of & ~n->fields)));
	}
	for (size_t i = 0; i < from->npurposes; i++)
		if (!cu_policy_purpose_find(to, from->purposes[i].id))
			json_array_append_new(removed,
			                      json_pack("{s:s,s:s}", "id", from->purposes[i].id,
			                                "text", from->purposes[i].text));
	for (size_t i = 0; i < to->nfields; i++)
		if (!cu_policy_field_find(from, to->fields[i].name))
			json_array_append_new(fa, json_string(to->fields[i].name));
	for (size_t i = 0; i < from->nfields; i++)
		if (!cu_policy_field_find(to, from->fields[i].name))
			json_array_append_new(fr, json_string(from->fields[i].name));
	json_object_set_new(d, "from", json_string(from->version));
	json_object_set_new(d, "to", json_string(to->version));
	json_object_set_new(d, "text_changed", json_boolean(strcmp(from->text, to->text) != 0));
	json_object_set_new(d, "purposes_added", added);
	json_object_set_new(d, "purposes_removed", removed);
	json_object_set_new(d, "purposes_changed", changed);
	json_object_set_new(d, "fields_added", fa);
	json_object_set_new(d, "fields_removed", fr);
	return d;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_versions_list(cu_store *s, cu_store_policy_fn fn, void *ud)
{
	return cu_store_policy_list(s, fn, ud);
}

cu_result cu_versions_document(cu_store *s, const char *version, char **doc, size_t *len,
                               int64_t *published_us)
{
	return cu_store_policy_get(s, version, doc, len, published_us);
}
