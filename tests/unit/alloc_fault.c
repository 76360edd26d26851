/*
 * tests/unit/alloc_fault.c — the SQLite side of alloc_fault.h.
 */
#include "alloc_fault.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static sqlite3_mem_methods real;
static atomic_int armed_kind = -1;
static atomic_ulong seen, fail_at;
static atomic_bool sticky_on, injected;

static bool should_fail(void)
{
	unsigned long k;

	if (atomic_load(&armed_kind) != CU_FAULT_SQLITE)
		return false;
	k = atomic_fetch_add(&seen, 1) + 1;
	if (k == atomic_load(&fail_at) || (atomic_load(&sticky_on) && k > atomic_load(&fail_at))) {
		atomic_store(&injected, true);
		return true;
	}
	return false;
}

static void *fault_malloc(int n)
{
	return should_fail() ? NULL : real.xMalloc(n);
}

static void *fault_realloc(void *p, int n)
{
	return should_fail() ? NULL : real.xRealloc(p, n);
}

void cu_fault_install(void)
{
	static sqlite3_mem_methods mine;

	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real) != SQLITE_OK) {
		fprintf(stderr, "alloc_fault: SQLITE_CONFIG_GETMALLOC failed\n");
		abort();
	}
	mine = real;
	mine.xMalloc = fault_malloc;
	mine.xRealloc = fault_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK) {
		fprintf(stderr,
		        "alloc_fault: SQLITE_CONFIG_MALLOC failed (SQLite already initialised?)\n");
		abort();
	}
}

bool cu_fault_libc_available(void)
{
	return cu_fault_libc_compiled();
}

void cu_fault_arm(cu_fault_kind kind, unsigned long n, bool sticky)
{
	if (kind == CU_FAULT_LIBC) {
		cu_fault_libc_arm(n, sticky);
		atomic_store(&armed_kind, CU_FAULT_LIBC);
		return;
	}
	atomic_store(&seen, 0);
	atomic_store(&fail_at, n);
	atomic_store(&sticky_on, sticky);
	atomic_store(&injected, false);
	atomic_store(&armed_kind, (int)kind);
}

static unsigned long last_seen;

bool cu_fault_disarm(void)
{
	int kind = atomic_exchange(&armed_kind, -1);

	if (kind == CU_FAULT_LIBC)
		return cu_fault_libc_disarm(&last_seen);
	last_seen = atomic_load(&seen);
	return atomic_load(&injected);
}

unsigned long cu_fault_seen(void)
{
	return last_seen;
}
