/*
 * src/ctx/ctx.c — a data directory opened as one unit, and transactions that keep
 * the store and the audit chain's head in step.
 */
#include "ctx/ctx.h"
#include "audit/checkpoint.h"
#include "store/consent.h"
#include "util/file_atomic.h"
#include "util/file_read.h"
#include "vault/keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "audit checkpoint not written: " and the error (CU_ERR_MSG_MAX), with its NUL. */
#define WARN_LINE_BYTES       600
#define CU_KEYRING_META_BYTES 8 /* the meta value "1" that says a keyring was made */

int64_t cu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void join(char *out, size_t outlen, const char *dir, const char *name)
{
	if (name[0] == '/')
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "%s/%s", dir, name);
}

/*
 * Whether dir exists with anything in it (or is something other than a
 * directory).  A path that does not exist, under a parent that is not a
 * directory either, is not in use: mkdir then says what is wrong with it.
 */
static int dir_in_use(const char *dir)
{
	struct stat st;
	struct dirent *e;
	int used = 0;
	DIR *d;

	if (stat(dir, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : 1;
	d = opendir(dir);
	if (!d)
		return 1;
	while (!used && (e = readdir(d)))
		used = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return used;
}

static cu_result write_file(const char *path, const char *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		return errno == EEXIST ? CU_ERR_EXISTS : CU_ERR_IO;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return CU_ERR_IO;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		close(fd);
		return CU_ERR_IO;
	}
	return close(fd) == 0 ? CU_OK : CU_ERR_IO;
}


cu_result cu_ctx_init_dir(const char *dir, const char *policy_src, char *err, size_t errlen)
{
	char path[CU_FILE_PATH_MAX], perr[CU_ERR_MSG_MAX] = "";
	char cfg_chain[CU_CONFIG_CHAIN_MAX + 1] = CU_AUDIT_CHAIN_MAIN;
	const char *pbuf = cu_default_policy_json;
	size_t plen = cu_default_policy_json_len;
	char *owned = NULL;
	cu_policy *policy = NULL;
	cu_store *store = NULL;
	cu_audit *audit = NULL;
	FILE *f;
	int made_dir = 0;
	cu_result rc;

	rc = cu_vault_global_init();
	if (rc)
		return rc;
	if (dir_in_use(dir)) {
		snprintf(err, errlen, "'%s' already exists and is not empty; refusing to overwrite",
		         dir);
		return CU_ERR_EXISTS;
	}
	if (policy_src) {
		owned = cu_file_read_bounded(policy_src, CU_POLICY_READ_MAX, &plen);
		if (!owned) {
			snprintf(err, errlen, "cannot read policy '%s'", policy_src);
			return CU_ERR_IO;
		}
		pbuf = owned;
	}
	rc = cu_policy_load_buffer(policy_src ? policy_src : "default policy", pbuf, plen, &policy,
	                           perr, sizeof(perr));
	if (rc) {
		snprintf(err, errlen, "%s", perr);
		goto out;
	}
	if (mkdir(dir, 0700) == 0) {
		made_dir = 1;
	} else if (errno != EEXIST || chmod(dir, 0700) != 0) {
		/* An existing empty directory is used, but only the owner may enter it. */
		snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}

	join(path, sizeof(path), dir, "custodian.conf");
	f = fopen(path, "wx");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}
	cu_config_write_default(f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write '%s'", path);
		rc = CU_ERR_IO;
		goto out;
	}

	join(path, sizeof(path), dir, "policy.json");
	rc = write_file(path, pbuf, plen, 0600);
	if (rc) {
		snprintf(err, errlen, "cannot write '%s'", path);
		goto out;
	}

	join(path, sizeof(path), dir, "master.key");
	rc = cu_vault_create_file(path);
	if (rc) {
		snprintf(err, errlen, "cannot create master key '%s': %s", path, cu_strerror(rc));
		goto out;
	}

	/*
	 * The store the directory will open: custodian.store when the environment
	 * names one (CUSTODIAN_CUSTODIAN_STORE, e.g. a PostgreSQL url), so its
	 * chain starts with the birth entry below; else the SQLite file.
	 */
	{
		cu_config cfg;
		char conf[CU_FILE_PATH_MAX];

		join(conf, sizeof(conf), dir, "custodian.conf");
		rc = cu_config_resolve(conf, NULL, &cfg, perr, sizeof(perr));
		if (rc) {
			snprintf(err, errlen, "%s", perr);
			goto out;
		}
		if (cfg.store[0])
			snprintf(path, sizeof(path), "%s", cfg.store);
		else
			snprintf(path, sizeof(path), "sqlite:%s/custodian.db", dir);
		snprintf(cfg_chain, sizeof(cfg_chain), "%s", cfg.audit_chain);
	}
	rc = cu_store_open(path, &store, perr, sizeof(perr));
	if (rc) {
		snprintf(err, errlen, "%s", perr);
		goto out;
	}
	rc = cu_audit_open_chain(store, cfg_chain, &audit);
	if (rc)
		goto out;
	/* The first entry of every chain records the directory's birth. */
	rc = cu_store_begin(store);
	if (!rc) {
		cu_audit_entry e = {.actor = "operator",
		                    .role = "operator",
		                    .action = "init",
		                    .decision = "done",
		                    .reason = policy->version};
		uint64_t entries = 0;

		/*
		 * A store named by url (a PostgreSQL schema, another directory's
		 * file) may be another directory's already, its chain under that
		 * directory's keys: not joined, nothing written to it.  Counted
		 * under the write lock, so two inits at once cannot both begin it.
		 */
		rc = cu_store_audit_count(store, &entries);
		if (!rc && entries > 0) {
			cu_store_rollback(store);
			snprintf(
			    err, errlen,
			    "the store custodian.store names already holds another data directory's "
			    "audit chain (%llu entries); refusing to initialise on it",
			    (unsigned long long)entries);
			rc = CU_ERR_EXISTS;
			goto out;
		}
		if (!rc)
			rc = cu_audit_append(audit, store, &e);
		if (!rc)
			rc = cu_store_commit(store);
		if (rc)
			cu_store_rollback(store);
	}
	if (rc)
		snprintf(err, errlen, "cannot initialise the store: %s", cu_strerror(rc));
out:
	cu_audit_free(audit);
	cu_store_close(store);
	cu_policy_free(policy);
	free(owned);
	if (rc) {
		/* Nothing half-written: take back what this call made. */
		static const char *const made[] = {"custodian.db-wal", "custodian.db-shm",
		                                   "custodian.db",     "master.key",
		                                   "policy.json",      "custodian.conf"};

		for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
			join(path, sizeof(path), dir, made[i]);
			unlink(path);
		}
		if (made_dir)
			rmdir(dir);
	}
	return rc;
}

/*
 * Opens DIR/keyring and hands it to the vault.  A directory from before the
 * keyring gets one; a directory whose store says it had one and that has
 * none now is refused: its members' keys cannot be opened without it.
 */
static cu_result open_keyring(cu_ctx *ctx, char *err, size_t errlen)
{
	char path[CU_FILE_PATH_MAX], had[CU_KEYRING_META_BYTES] = "";
	cu_keyring *ring = NULL;
	cu_result rc;
	struct stat st;

	join(path, sizeof(path), ctx->dir, CU_KEYRING_FILE);
	bool found = false;

	rc = cu_store_meta_get(ctx->store, "keyring", had, sizeof(had), &found);
	if (rc)
		return rc;
	if (stat(path, &st) != 0 && had[0]) {
		snprintf(err, errlen,
		         "the keyring '%s' is missing: without it no member's data key opens; put "
		         "back its replica (docs/keys.md)",
		         path);
		return CU_ERR_CRYPTO;
	}
	rc = cu_keyring_open(ctx->vault, path, true, &ring, err, errlen);
	if (rc)
		return rc;
	rc = cu_vault_attach_keyring(ctx->vault, ring);
	if (rc) {
		cu_keyring_free(ring);
		return rc;
	}
	if (!had[0]) {
		rc = cu_tx_begin(ctx);
		if (!rc)
			rc = cu_store_meta_set(ctx->store, "keyring", "1");
		if (!rc)
			rc = cu_tx_commit(ctx);
		else if (ctx->tx_depth)
			cu_tx_rollback(ctx);
	}
	return rc;
}

cu_result cu_ctx_open(const char *dir, cu_ctx **out, char *err, size_t errlen)
{
	return cu_ctx_open_with(dir, NULL, out, err, errlen);
}

cu_result cu_ctx_open_with(const char *dir, const cu_config_flags *flags, cu_ctx **out, char *err,
                           size_t errlen)
{
	char path[CU_FILE_PATH_MAX], url[CU_DATA_PATH_MAX], *policy_doc = NULL;
	size_t policy_len = 0;
	cu_ctx *ctx;
	cu_result rc;
	struct stat st;

	*out = NULL;
	rc = cu_vault_global_init();
	if (rc)
		return rc;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no data directory at '%s'; run 'custodian init' first", dir);
		return CU_ERR_NOT_FOUND;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->dir = strdup(dir))) {
		free(ctx);
		return CU_ERR_NOMEM;
	}
	join(path, sizeof(path), dir, "custodian.conf");
	rc = cu_config_resolve(path, flags, &ctx->config, err, errlen);
	if (rc)
		goto fail;
	join(path, sizeof(path), dir, ctx->config.policy);
	policy_doc = cu_file_read_bounded(path, CU_POLICY_READ_MAX, &policy_len);
	if (!policy_doc) {
		snprintf(err, errlen, "cannot read policy '%s'", path);
		rc = CU_ERR_IO;
		goto fail;
	}
	rc = cu_policy_load_buffer(path, policy_doc, policy_len, &ctx->policy, err, errlen);
	if (rc)
		goto fail;
	join(path, sizeof(path), dir, "master.key");
	rc = cu_vault_open_file(path, &ctx->vault, err, errlen);
	if (rc)
		goto fail;
	if (ctx->config.store[0])
		snprintf(url, sizeof(url), "%s", ctx->config.store);
	else
		snprintf(url, sizeof(url), "sqlite:%s/custodian.db", dir);
	rc = cu_store_open(url, &ctx->store, err, errlen);
	if (rc)
		goto fail;
	rc = cu_audit_open_chain(ctx->store, ctx->config.audit_chain, &ctx->audit);
	if (rc) {
		snprintf(err, errlen, "cannot read the audit head: %s", cu_strerror(rc));
		goto fail;
	}
	rc = open_keyring(ctx, err, errlen);
	if (rc)
		goto fail;
	/* The policy in force is a published version from now on (domain/versions.h). */
	rc = cu_ctx_policy_record(ctx, ctx->policy, policy_doc, policy_len);
	if (rc) {
		if (rc == CU_ERR_CONFLICT)
			snprintf(err, errlen,
			         "policy version '%s' was published before with other content; "
			         "a changed policy needs a new version",
			         ctx->policy->version);
		else
			snprintf(err, errlen, "cannot record the policy version: %s",
			         cu_strerror(rc));
		goto fail;
	}
	free(policy_doc);
	*out = ctx;
	return CU_OK;
fail:
	free(policy_doc);
	cu_ctx_close(ctx);
	return rc;
}

cu_result cu_ctx_policy_record(cu_ctx *ctx, const cu_policy *p, const char *doc, size_t len)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = cu_store_policy_put(ctx->store, p->version, p->digest, doc, len, "operator",
	                         cu_now_us());
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

void cu_ctx_audit_checkpoint_path(const cu_ctx *ctx, char *out, size_t outlen)
{
	join(out, outlen, ctx->dir, CU_AUDIT_CHECKPOINT_FILE);
}

void cu_ctx_close(cu_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->tx_depth) {
		/* Whatever was left open is undone whole, not one level. */
		ctx->tx_depth = 1;
		cu_tx_rollback(ctx);
	}
	if (ctx->audit_checkpoint_at_close && ctx->store && ctx->vault) {
		char path[CU_FILE_PATH_MAX], err[CU_ERR_MSG_MAX] = "";
		cu_result rc;

		cu_ctx_audit_checkpoint_path(ctx, path, sizeof(path));
		rc = cu_audit_checkpoint_save(ctx->store, ctx->vault, ctx->audit, path, false, NULL,
		                              NULL, err, sizeof(err));
		if (rc && ctx->warn) {
			char line[WARN_LINE_BYTES];

			snprintf(line, sizeof(line), "audit checkpoint not written: %s",
			         err[0] ? err : cu_strerror(rc));
			ctx->warn(line);
		}
	}
	cu_audit_free(ctx->audit);
	cu_store_close(ctx->store);
	cu_vault_free(ctx->vault);
	cu_policy_free(ctx->policy);
	free(ctx->shred);
	free(ctx->dir);
	free(ctx);
}

cu_result cu_tx_begin(cu_ctx *ctx)
{
	cu_result rc;

	if (ctx->tx_depth > CU_STORE_SAVEPOINTS_MAX)
		return CU_ERR_INTERNAL;
	if (ctx->tx_depth == 0) {
		ctx->tx_failed = 0;
		rc = cu_store_begin(ctx->store);
		/* Holding the write lock now: catch up with any other writer's entries. */
		if (!rc) {
			rc = cu_audit_sync(ctx->audit, ctx->store);
			if (rc)
				cu_store_rollback(ctx->store);
		}
	} else {
		rc = cu_store_savepoint(ctx->store);
	}
	if (rc)
		return rc;
	cu_audit_mark_get(ctx->audit, &ctx->marks[ctx->tx_depth]);
	ctx->tx_depth++;
	return CU_OK;
}

cu_result cu_ctx_shred_after_commit(cu_ctx *ctx, const char *member)
{
	if (!ctx || !member || strlen(member) > CU_ID_LEN || ctx->tx_depth <= 0)
		return CU_ERR_INVALID_ARGUMENT;
	if (ctx->nshred == ctx->shred_cap) {
		size_t cap = ctx->shred_cap ? 2 * ctx->shred_cap : 8;
		char(*grown)[CU_ID_LEN + 1] = realloc(ctx->shred, cap * sizeof(*grown));

		if (!grown)
			return CU_ERR_NOMEM;
		ctx->shred = grown;
		ctx->shred_cap = cap;
	}
	snprintf(ctx->shred[ctx->nshred++], CU_ID_LEN + 1, "%s", member);
	return CU_OK;
}

/*
 * After the outermost commit: punctures the keyring leaves of the members
 * this transaction erased (an erasure undone by a savepoint is not erased
 * in the store, and is skipped).  The erasure stands either way; a failure
 * here is reported, and cu_erasure_reconcile (domain/erasure.h) finishes
 * the work at the next start.
 */
static void shred_committed(cu_ctx *ctx)
{
	const char **ids;
	size_t n = 0;
	char err[CU_ERR_MSG_MAX] = "";
	cu_result rc = CU_OK;

	if (!ctx->nshred)
		return;
	ids = calloc(ctx->nshred, sizeof(*ids));
	if (!ids) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < ctx->nshred; i++) {
		cu_member_row row;

		if (cu_store_member_get(ctx->store, ctx->shred[i], &row) != CU_OK)
			continue;
		if (row.erased)
			ids[n++] = ctx->shred[i];
		cu_member_row_release(&row);
	}
	rc = cu_keyring_puncture(cu_vault_keyring(ctx->vault), ids, n, NULL, err, sizeof(err));
out:
	free(ids);
	ctx->nshred = 0;
	if (rc && ctx->warn) {
		char line[WARN_LINE_BYTES];

		snprintf(line, sizeof(line), "keyring not punctured after an erasure: %s",
		         err[0] ? err : cu_strerror(rc));
		ctx->warn(line);
	}
}

cu_result cu_tx_commit(cu_ctx *ctx)
{
	cu_result rc;

	if (ctx->tx_depth <= 0)
		return CU_ERR_INTERNAL;
	if (--ctx->tx_depth > 0) {
		if (ctx->tx_failed)
			return CU_ERR_STORE;
		rc = cu_store_savepoint_release(ctx->store);
		if (rc)
			ctx->tx_failed = 1;
		return rc;
	}
	if (ctx->tx_failed) {
		cu_store_rollback(ctx->store);
		cu_audit_rollback(ctx->audit);
		return CU_ERR_STORE;
	}
	rc = cu_store_commit(ctx->store);
	if (rc) {
		cu_store_rollback(ctx->store);
		cu_audit_rollback(ctx->audit);
		return rc;
	}
	cu_audit_commit(ctx->audit);
	shred_committed(ctx);
	if (ctx->checkpoint_due) {
		/*
		 * The erasure is committed either way; if a reader holds the log
		 * now, the next checkpoint overwrites those pages instead.
		 */
		ctx->checkpoint_due = false;
		(void)!cu_store_checkpoint(ctx->store);
	}
	return CU_OK;
}

void cu_tx_rollback(cu_ctx *ctx)
{
	if (ctx->tx_depth <= 0)
		return;
	if (--ctx->tx_depth > 0) {
		/* Undo this level only: its writes and its audit entries. */
		if (ctx->tx_failed || cu_store_savepoint_rollback(ctx->store) != CU_OK) {
			ctx->tx_failed = 1;
			return;
		}
		cu_audit_rollback_to(ctx->audit, &ctx->marks[ctx->tx_depth]);
		return;
	}
	cu_store_rollback(ctx->store);
	cu_audit_rollback(ctx->audit);
	ctx->checkpoint_due = false;
	ctx->nshred = 0;
}
