/*
 * src/domain/erasure_replay.c — the erasure replay of a restore (erasure.h):
 * members erased in the source store since the backup are erased in the
 * restored one.
 */
#include <string.h>
#include <unistd.h>

#include "domain/erasure.h"
#include "store/backup.h"
#include "util/file_atomic.h"

#define REPLAY_PAGE   512
#define SQLITE_SCHEME "sqlite:"

static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

/* Opens the recorded source store; never creates one that is gone. */
static cu_result open_source(cu_ctx *ctx, cu_store **src)
{
	char url[CU_DATA_PATH_MAX], why[CU_ERR_MSG_MAX];
	bool found = false;
	cu_result rc;

	*src = NULL;
	rc = cu_store_meta_get(ctx->store, CU_ERASURE_REPLAY_SOURCE_KEY, url, sizeof(url), &found);
	if (rc)
		return rc;
	if (!found)
		return CU_ERR_NOT_FOUND;
	if (!strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) &&
	    access(url + strlen(SQLITE_SCHEME), R_OK))
		return CU_ERR_NOT_FOUND;
	rc = cu_store_open(url, src, why, sizeof(why));
	return rc ? CU_ERR_NOT_FOUND : CU_OK;
}

cu_result cu_erasure_replay(cu_ctx *ctx, size_t *replayed)
{
	char ids[REPLAY_PAGE][CU_ID_LEN + 1];
	char after[CU_ID_LEN + 1] = "";
	cu_store *src = NULL;
	size_t n, count = 0;
	int64_t now = cu_now_us();
	cu_result rc;

	if (!ctx || !replayed)
		return CU_ERR_INVALID_ARGUMENT;
	*replayed = 0;
	rc = open_source(ctx, &src);
	if (rc)
		return rc;
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	do {
		rc = cu_store_member_erased_ids(src, after, ids, REPLAY_PAGE, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			rc = cu_erasure_carry_out(ctx, &operator_actor, ids[i], NULL, now, NULL);
			if (!rc)
				count++;
			else if (rc == CU_ERR_ERASED || rc == CU_ERR_NOT_FOUND)
				rc = CU_OK; /* erased before the backup, or registered after it */
		}
		if (n)
			memcpy(after, ids[n - 1], sizeof(after));
	} while (!rc && n == REPLAY_PAGE);
	if (rc) {
		cu_tx_rollback(ctx);
		goto out;
	}
	rc = cu_tx_commit(ctx);
	if (!rc)
		*replayed = count;
out:
	cu_store_close(src);
	return rc;
}
