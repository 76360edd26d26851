/*
 * src/domain/handles.c — the server's own store handles and what it runs on them (see handles.h).
 */
#include "domain/handles.h"

cu_result cu_handle_open(const char *url, cu_store **out, char *err, size_t errlen)
{
	return cu_store_open(url, out, err, errlen);
}

cu_result cu_handle_set_cache_kib(cu_store *s, unsigned kib)
{
	return cu_store_set_cache_kib(s, kib);
}

cu_result cu_handle_set_autocheckpoint_pages(cu_store *s, unsigned pages)
{
	return cu_store_set_autocheckpoint_pages(s, pages);
}

cu_result cu_handle_checkpoint_passive(cu_store *s, int *log_frames, int *checkpointed)
{
	return cu_store_checkpoint_passive(s, log_frames, checkpointed);
}

cu_result cu_handle_audit_hash_at(cu_store *s, uint64_t seq, unsigned char hash[CU_AUDIT_HASHBYTES],
                                  bool *found)
{
	return cu_store_audit_hash_at(s, seq, hash, found);
}

cu_result cu_handle_meta_set(cu_store *s, const char *key, const char *value)
{
	return cu_store_meta_set(s, key, value);
}
void cu_handle_close(cu_store *s)
{
	cu_store_close(s);
}
