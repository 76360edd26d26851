/*
 * src/store/diary_backend.h — the diary area's backend interface (private).
 */
#ifndef CU_STORE_DIARY_IMPL_H
#define CU_STORE_DIARY_IMPL_H

#include "store/diary.h"

struct cu_store_diary_ops {
	cu_result (*insert)(cu_store *s, const cu_diary_row *row);
	cu_result (*get)(cu_store *s, const char *member, const char *id, cu_diary_row *out);
	cu_result (*update)(cu_store *s, const cu_diary_row *row);
	cu_result (*remove)(cu_store *s, const char *member, const char *id);
	/* *n is never NULL here: the dispatcher passes its own counter. */
	cu_result (*remove_member)(cu_store *s, const char *member, uint64_t *n);
	cu_result (*list)(cu_store *s, const char *member, const char *before, size_t limit,
	                  cu_store_diary_fn fn, void *ud);
	cu_result (*count)(cu_store *s, const char *member, uint64_t *n);
};

#endif
