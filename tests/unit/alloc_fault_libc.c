/*
 * tests/unit/alloc_fault_libc.c — the libc side of alloc_fault.h: malloc,
 * calloc and realloc defined in the test binary, so every shared library's
 * calls reach them (ELF interposition, as an LD_PRELOAD shim would), each
 * forwarding to glibc's __libc_* entry points unless a failure is due.
 * free stays glibc's: the memory comes from glibc's heap either way.
 *
 * Built only without sanitizers: ASan and UBSan's runtime owns malloc.
 */
#include "alloc_fault.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);

static atomic_bool armed, sticky_on, injected;
static atomic_ulong seen, fail_at;

static int should_fail(void)
{
	unsigned long k;

	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return 0;
	k = atomic_fetch_add(&seen, 1) + 1;
	if (k == atomic_load(&fail_at) || (atomic_load(&sticky_on) && k > atomic_load(&fail_at))) {
		atomic_store(&injected, true);
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	return should_fail() ? NULL : __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	return should_fail() ? NULL : __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	/* realloc(p, 0) frees: never refuse a release. */
	if (p && n == 0)
		return __libc_realloc(p, n);
	return should_fail() ? NULL : __libc_realloc(p, n);
}

bool cu_fault_libc_compiled(void)
{
	return true;
}

void cu_fault_libc_arm(unsigned long n, bool sticky)
{
	atomic_store(&seen, 0);
	atomic_store(&fail_at, n);
	atomic_store(&sticky_on, sticky);
	atomic_store(&injected, false);
	atomic_store(&armed, true);
}

bool cu_fault_libc_disarm(unsigned long *seen_out)
{
	atomic_store(&armed, false);
	*seen_out = atomic_load(&seen);
	return atomic_load(&injected);
}
