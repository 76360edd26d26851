/*
 * domain/partner_reads.c — third parties, provisions, shares, subcontractors and reviews, read (see partner_reads.h).
 */
#include "domain/partner_reads.h"

cu_result cu_third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud)
{
	return cu_store_third_party_list(s, fn, ud);
}

cu_result cu_third_party_get(cu_store *s, const char *id, cu_third_party_row *out)
{
	return cu_store_third_party_get(s, id, out);
}

cu_result cu_provision_list(cu_store *s, const char *member, cu_store_provision_fn fn, void *ud)
{
	return cu_store_provision_list(s, member, fn, ud);
}

cu_result cu_share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud)
{
	return cu_store_share_list(s, member, fn, ud);
}

cu_result cu_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud)
{
	return cu_store_subcontractor_list(s, fn, ud);
}

cu_result cu_subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out)
{
	return cu_store_subcontractor_get(s, id, out);
}

cu_result cu_review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn, void *ud)
{
	return cu_store_review_list(s, subcontractor, fn, ud);
}
