/*
 * src/domain/keys.c — key rotation, blind-index recomputation and retirement
 * (keys.h).
 */
#include "domain/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/backup.h"
#include "domain/change.h"
#include "domain/members.h"
#include "store/store.h"
#include "util/file_atomic.h"

#define PAGE       256 /* members read, and rewritten in one transaction */
#define PASSES_MAX 8   /* rewrap passes before giving up on a busy store */
#define REASON_MAX 96
#define KEYFILE    "master.key"

static cu_result no_write(cu_store *s, const void *arg)
{
	(void)s;
	(void)arg;
	return CU_OK;
}

static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *reason)
{
	const struct cu_change c = {
	    .actor = actor, .action = action, .reason = reason, .write = no_write};

	return cu_change_write(ctx, &c);
}

/* Calls fn on every page of member keys. */
typedef cu_result (*page_fn)(cu_ctx *ctx, const cu_member_key *page, size_t n, void *arg);

static cu_result each_page(cu_ctx *ctx, page_fn fn, void *arg, cu_keys_progress_fn progress,
                           void *ud)
{
	char after[CU_ID_LEN + 1] = "";
	cu_member_key *page = calloc(PAGE, sizeof(*page));
	uint64_t total = 0, done = 0;
	size_t n;
	cu_result rc;

	if (!page)
		return CU_ERR_NOMEM;
	rc = cu_store_member_count(ctx->store, &total);
	do {
		if (!rc)
			rc = cu_store_member_keys(ctx->store, after, page, PAGE, &n);
		if (!rc && n)
			rc = fn(ctx, page, n, arg);
		if (!rc && n) {
			snprintf(after, sizeof(after), "%s", page[n - 1].id);
			done += n;
			if (progress)
				progress(ud, done, total);
		}
	} while (!rc && n == PAGE);
	free(page);
	return rc;
}

/* ---- status ---------------------------------------------------------------- */

static cu_result count_page(cu_ctx *ctx, const cu_member_key *page, size_t n, void *arg)
{
	cu_keys_status *st = arg;

	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		const cu_member_key *k = &page[i];
		int format;
		size_t j;

		if (k->erased || !k->has_wrapped) {
			st->erased++;
			continue;
		}
		st->live++;
		format = k->wrapped[0];
		for (j = 0; j < st->nusage; j++)
			if (st->usage[j].key_id == k->key_id && st->usage[j].format == format)
				break;
		if (j == st->nusage) {
			if (st->nusage == CU_KEYS_USAGE_MAX)
				return CU_ERR_INTERNAL;
			st->usage[st->nusage++] = (cu_keys_usage){k->key_id, format, 0};
		}
		st->usage[j].members++;
	}
	return CU_OK;
}

cu_result cu_keys_status_get(cu_ctx *ctx, cu_keys_status *out)
{
	cu_keyring *ring = cu_vault_keyring(ctx->vault);

	memset(out, 0, sizeof(*out));
	out->nmaster = cu_vault_key_count(ctx->vault);
	for (size_t i = 0; i < out->nmaster && i < CU_VAULT_KEYS_MAX; i++)
		out->master[i] = cu_vault_key_id_at(ctx->vault, i);
	if (ring) {
		out->ntrees = cu_keyring_trees(ring, out->trees, CU_KEYRING_TREES_MAX);
		cu_keyring_file_info(ring, &out->keyring_sealed_under, &out->keyring_generation);
	}
	return each_page(ctx, count_page, out, NULL, NULL);
}

/* ---- rewrap ------------------------------------------------------------------ */

struct rewrap {
	uint32_t tree;
	uint64_t moved, conflicts;
};

static cu_result rewrap_page(cu_ctx *ctx, const cu_member_key *page, size_t n, void *arg)
{
	struct rewrap *w = arg;
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES];
	cu_data_key dk;
	uint32_t key_id;
	cu_result rc = cu_tx_begin(ctx);

	for (size_t i = 0; !rc && i < n; i++) {
		const cu_member_key *k = &page[i];

		if (k->erased || !k->has_wrapped)
			continue;
		if (k->wrapped[0] == CU_VAULT_WRAP_TREE && k->key_id == w->tree)
			continue;
		rc = cu_vault_unwrap(ctx->vault, k->id, k->key_id, k->wrapped, &dk);
		if (!rc)
			rc = cu_vault_wrap(ctx->vault, k->id, &dk, wrapped, &key_id);
		cu_vault_data_key_wipe(&dk);
		/* Wrapped under a tree another process made current since: next pass. */
		if (!rc && key_id != w->tree) {
			w->conflicts++;
			continue;
		}
		if (!rc)
			rc = cu_store_member_rewrap(ctx->store, k->id, k->wrapped, wrapped, key_id);
		if (rc == CU_ERR_CONFLICT) {
			/* Changed (or erased) since it was read: the next pass looks again. */
			w->conflicts++;
			rc = CU_OK;
			continue;
		}
		if (!rc)
			w->moved++;
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_keys_rewrap(cu_ctx *ctx, const cu_actor *actor, cu_keys_progress_fn progress, void *ud,
                         uint64_t *moved)
{
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	struct rewrap w = {0};
	char reason[REASON_MAX];
	uint64_t total = 0;
	cu_result rc = CU_OK;
	int pass;

	if (moved)
		*moved = 0;
	if (!ring)
		return CU_ERR_INVALID_ARGUMENT;
	for (pass = 0; pass < PASSES_MAX; pass++) {
		w.tree = cu_keyring_current_tree(ring);
		w.moved = w.conflicts = 0;
		rc = each_page(ctx, rewrap_page, &w, progress, ud);
		total += w.moved;
		if (rc || (w.moved == 0 && w.conflicts == 0))
			break;
	}
	if (!rc && pass == PASSES_MAX)
		rc = CU_ERR_CONFLICT;
	snprintf(reason, sizeof(reason), "tree=%u rewrapped=%llu%s", (unsigned)w.tree,
	         (unsigned long long)total, rc ? " unfinished" : "");
	{
		cu_result arc = audit(ctx, actor, "keys_rewrap", reason);

		if (!rc)
			rc = arc;
	}
	if (moved)
		*moved = total;
	return rc;
}

cu_result cu_keys_rotate_tree(cu_ctx *ctx, const cu_actor *actor, uint32_t *tree,
                              cu_keys_progress_fn progress, void *ud, uint64_t *moved, char *err,
                              size_t errlen)
{
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	cu_result rc;

	if (!ring || !tree)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_keyring_add_tree(ring, tree, err, errlen);
	if (rc)
		return rc;
	return cu_keys_rewrap(ctx, actor, progress, ud, moved);
}

/* ---- master key ------------------------------------------------------------- */

cu_result cu_keys_rotate_master(const char *dir, uint32_t *id, char *err, size_t errlen)
{
	char path[CU_DATA_PATH_MAX], ring_path[CU_DATA_PATH_MAX];
	cu_keyring *ring = NULL, *probe = NULL;
	cu_vault *v = NULL;
	uint32_t min_id = 1;
	cu_keyring_tree_info info[CU_KEYRING_TREES_MAX];
	size_t nt;
	cu_result rc;

	snprintf(path, sizeof(path), "%s/%s", dir, KEYFILE);
	snprintf(ring_path, sizeof(ring_path), "%s/%s", dir, CU_KEYRING_FILE);
	/* Above every tree id too: a key id names one key. */
	rc = cu_vault_open_file(path, &v, err, errlen);
	if (!rc)
		rc = cu_keyring_open(v, ring_path, false, &probe, err, errlen);
	if (rc) {
		cu_vault_free(v);
		return rc;
	}
	nt = cu_keyring_trees(probe, info, CU_KEYRING_TREES_MAX);
	for (size_t i = 0; i < nt && i < CU_KEYRING_TREES_MAX; i++)
		if (info[i].id >= min_id)
			min_id = info[i].id + 1;
	cu_keyring_free(probe);
	cu_vault_free(v);
	v = NULL;
	rc = cu_vault_file_add_key(path, min_id, id, err, errlen);
	if (rc)
		return rc;
	/* The file now holds old and new keys: open the keyring with both, seal with the new. */
	rc = cu_vault_open_file(path, &v, err, errlen);
	if (!rc)
		rc = cu_keyring_open(v, ring_path, false, &ring, err, errlen);
	if (!rc)
		rc = cu_keyring_reseal(ring, v, err, errlen);
	cu_keyring_free(ring);
	cu_vault_free(v);
	return rc;
}

struct reindex {
	uint64_t done;
};

static cu_result reindex_page(cu_ctx *ctx, const cu_member_key *page, size_t n, void *arg)
{
	struct reindex *x = arg;
	cu_result rc = cu_tx_begin(ctx);

	for (size_t i = 0; !rc && i < n; i++) {
		if (page[i].erased || !page[i].has_wrapped)
			continue;
		rc = cu_member_reindex(ctx, page[i].id);
		if (rc == CU_ERR_ERASED)
			rc = CU_OK; /* erased since the page was read */
		else if (!rc)
			x->done++;
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_keys_reindex(cu_ctx *ctx, const cu_actor *actor, cu_keys_progress_fn progress,
                          void *ud, uint64_t *done)
{
	struct reindex x = {0};
	char reason[REASON_MAX];
	cu_result rc = each_page(ctx, reindex_page, &x, progress, ud), arc;

	snprintf(reason, sizeof(reason), "master=%u reindexed=%llu%s",
	         (unsigned)cu_vault_current_key_id(ctx->vault), (unsigned long long)x.done,
	         rc ? " unfinished" : "");
	arc = audit(ctx, actor, "keys_reindex", reason);
	if (done)
		*done = x.done;
	return rc ? rc : arc;
}

/* ---- retirement ------------------------------------------------------------- */

cu_result cu_keys_retire_tree(cu_ctx *ctx, const cu_actor *actor, uint32_t tree,
                              const uint32_t *needed, size_t n, char *err, size_t errlen)
{
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	cu_keys_status st;
	char reason[REASON_MAX];
	cu_result rc;

	if (!ring)
		return CU_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++) {
		if (needed[i] == tree) {
			snprintf(err, errlen, "tree %u is needed by a retained backup",
			         (unsigned)tree);
			return CU_ERR_CONFLICT;
		}
	}
	rc = cu_keys_status_get(ctx, &st);
	if (rc)
		return rc;
	for (size_t i = 0; i < st.ntrees && i < CU_KEYRING_TREES_MAX; i++) {
		if (st.trees[i].id == tree && st.trees[i].current) {
			snprintf(err, errlen, "tree %u is the current one", (unsigned)tree);
			return CU_ERR_CONFLICT;
		}
	}
	for (size_t i = 0; i < st.nusage; i++) {
		if (st.usage[i].format == CU_VAULT_WRAP_TREE && st.usage[i].key_id == tree) {
			snprintf(err, errlen,
			         "tree %u still wraps %llu members: run keys rotate --tree",
			         (unsigned)tree, (unsigned long long)st.usage[i].members);
			return CU_ERR_CONFLICT;
		}
	}
	rc = cu_keyring_drop_tree(ring, tree, err, errlen);
	if (rc)
		return rc;
	snprintf(reason, sizeof(reason), "tree=%u", (unsigned)tree);
	return audit(ctx, actor, "keys_retire", reason);
}

cu_result cu_keys_rotate_backup(cu_ctx *ctx, const cu_actor *actor, char *err, size_t errlen)
{
	cu_result rc = cu_backup_key_rotate(ctx->dir, err, errlen);

	return rc ? rc : audit(ctx, actor, "keys_rotate_backup", "backup.key");
}
