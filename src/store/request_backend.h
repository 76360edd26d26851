/*
 * src/store/request_backend.h — the request area's backend interface (private).
 */
#ifndef CU_STORE_REQUEST_IMPL_H
#define CU_STORE_REQUEST_IMPL_H

#include "store/request.h"

struct cu_store_request_ops {
	cu_result (*request_insert)(cu_store *s, const cu_request_row *row);
	cu_result (*request_get)(cu_store *s, const char *id, cu_request_row *out);
	cu_result (*request_update)(cu_store *s, const cu_request_row *row);
	cu_result (*request_list_open)(cu_store *s, int64_t due_before_us, cu_store_request_fn fn,
	                               void *ud);
	cu_result (*request_list_member)(cu_store *s, const char *member, cu_store_request_fn fn,
	                                 void *ud);
	cu_result (*event_insert)(cu_store *s, const cu_request_event_row *row);
	cu_result (*event_list)(cu_store *s, const char *request, cu_store_request_event_fn fn,
	                        void *ud);
	cu_result (*complaint_insert)(cu_store *s, const cu_complaint_row *row);
	cu_result (*complaint_get)(cu_store *s, const char *id, cu_complaint_row *out);
	cu_result (*complaint_update)(cu_store *s, const cu_complaint_row *row);
	cu_result (*complaint_list_open)(cu_store *s, int64_t due_before_us,
	                                 cu_store_complaint_fn fn, void *ud);
	cu_result (*complaint_list_member)(cu_store *s, const char *member,
	                                   cu_store_complaint_fn fn, void *ud);
	cu_result (*response_insert)(cu_store *s, const cu_complaint_response_row *row);
	cu_result (*response_list)(cu_store *s, const char *complaint,
	                           cu_store_complaint_response_fn fn, void *ud);
	cu_result (*response_count)(cu_store *s, const char *complaint, uint64_t *n);
	/* *n is never NULL here: the dispatcher passes its own counter. */
	cu_result (*forget_member)(cu_store *s, const char *member, uint64_t *n);
};

#endif
