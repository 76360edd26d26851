/*
 * src/store/limits_backend.h — the attempt limits' backend interface
 * (private).  The rules are the dispatcher's (store/limits.c); a backend
 * reads and writes rows.
 */
#ifndef CU_STORE_LIMITS_IMPL_H
#define CU_STORE_LIMITS_IMPL_H

#include "store/limits.h"

/* One key's row. */
typedef struct cu_store_limit_row {
	unsigned char key[CU_LIMITS_KEY_LEN];
	int64_t window_start_us;
	int64_t attempts;
	int64_t locked_until_us; /* 0: not locked */
	int64_t expires_us;      /* when the row may go: its window's end or its lockout's */
} cu_store_limit_row;

struct cu_store_limits_ops {
	bool shared; /* several processes may open the store */
	/*
	 * A transaction of its own, without the audit chain's write lock (the
	 * dispatcher then commits or rolls back with the store's own calls).
	 */
	cu_result (*begin)(cu_store *s);
	/* Deletes the rows that expired before now_us. */
	cu_result (*purge)(cu_store *s, int64_t now_us);
	/*
	 * The key's row, made (window at now_us, no attempts, expiring at
	 * expires_us) when there is none, and held until the transaction ends:
	 * a second transaction asking the same key waits.
	 */
	cu_result (*lock)(cu_store *s, const unsigned char key[CU_LIMITS_KEY_LEN], int64_t now_us,
	                  int64_t expires_us, cu_store_limit_row *out);
	/* Writes the row back (its key names it). */
	cu_result (*put)(cu_store *s, const cu_store_limit_row *row);
};

#endif
