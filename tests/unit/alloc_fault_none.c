/*
 * tests/unit/alloc_fault_none.c — the libc side of alloc_fault.h in a
 * sanitizer build, where the sanitizer runtime owns malloc: not available.
 */
#include "alloc_fault.h"

bool cu_fault_libc_compiled(void)
{
	return false;
}

void cu_fault_libc_arm(unsigned long n, bool sticky)
{
	(void)n;
	(void)sticky;
}

bool cu_fault_libc_disarm(unsigned long *seen_out)
{
	*seen_out = 0;
	return false;
}
