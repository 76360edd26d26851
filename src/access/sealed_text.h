/*
 * src/access/sealed_text.h — a person's free text sealed under their member key
 * (private; shared by requests.c and complaints.c).
 */
#ifndef CU_SEALED_TEXT_H
#define CU_SEALED_TEXT_H

#include "store/store.h"
#include "vault/vault.h"

/*
 * Seals the NUL-terminated text under m's data key, bound to `field`, into
 * a new buffer *out of *outlen bytes (NULL, 0 on failure).  CU_ERR_ERASED
 * for an erased member.
 */
cu_result cu_sealed_text_seal(const cu_vault *v, const cu_member_row *m, const char *field,
                              const char *text, unsigned char **out, size_t *outlen);

/*
 * Opens a text sealed by cu_sealed_text_seal into a new NUL-terminated
 * buffer *out (the caller wipes and frees it: cu_wipe_free).  On failure
 * *out is NULL and nothing opened is left in memory.
 */
cu_result cu_sealed_text_open(const cu_data_key *dk, const char *member, const char *field,
                              const unsigned char *sealed, size_t len, char **out);

/* Wipes a NUL-terminated string, then frees it; NULL is fine. */
void cu_wipe_free(char *s);

#endif
