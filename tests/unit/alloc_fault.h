/*
 * tests/unit/alloc_fault.h — allocation failure on demand, for the fault tests.
 *
 * Two injectors, each counting allocations only while armed:
 *
 *   CU_FAULT_SQLITE  SQLite's own allocator (sqlite3_config SQLITE_CONFIG_MALLOC
 *                    with a wrapper around the default methods).  Works in
 *                    every build, sanitizers included.
 *   CU_FAULT_LIBC    malloc, calloc and realloc of the whole process (the test
 *                    binary defines them over glibc's __libc_* functions), so the
 *                    library's own allocations, jansson's, libcsv's, glibc's
 *                    (strdup, fopen, pthread_create, ...) and SQLite's fail too.
 *                    Only where the test binary is built without a sanitizer
 *                    (ASan owns malloc there): see cu_fault_libc_available().
 *
 * cu_fault_arm(kind, n, sticky) makes the nth allocation after arming fail
 * (n >= 1) and, when sticky, every one after it too; cu_fault_disarm() stops
 * counting and says whether a failure was injected.  The counter is shared by
 * every thread (the library's helper threads are part of the operation).
 */
#ifndef CU_TEST_ALLOC_FAULT_H
#define CU_TEST_ALLOC_FAULT_H

#include <stdbool.h>

typedef enum cu_fault_kind { CU_FAULT_SQLITE, CU_FAULT_LIBC } cu_fault_kind;

/* Installs the SQLite wrapper; call before anything opens a database. */
void cu_fault_install(void);
/* Whether CU_FAULT_LIBC is compiled into this binary. */
bool cu_fault_libc_available(void);
void cu_fault_arm(cu_fault_kind kind, unsigned long n, bool sticky);
/* Stops; true if at least one allocation was made to fail since arming. */
bool cu_fault_disarm(void);
/* Allocations counted since arming (for the report). */
unsigned long cu_fault_seen(void);

/* The libc side, in alloc_fault_libc.c (or a stub): the same as above, for malloc & co. */
bool cu_fault_libc_compiled(void);
void cu_fault_libc_arm(unsigned long n, bool sticky);
bool cu_fault_libc_disarm(unsigned long *seen);

#endif
