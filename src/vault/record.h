/*
 * src/vault/record.h — the packed record of a member's sealed fields (private).
 *
 * A member row holds all its sealed fields in one blob, so a read is one
 * row and a purpose opens only the fields it allows:
 *
 *   record = "CUR1" | count(u16 le) | entry*
 *   entry  = name_len(u8) | name | sealed_len(u32 le) | sealed (vault.h format)
 *
 * Entries are keyed by field name, not index, so a new policy version that
 * reorders fields does not misread old rows.  The parser is bounded and
 * rejects any malformed or truncated record (CU_ERR_STORE).
 */
#ifndef CU_RECORD_H
#define CU_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

typedef struct cu_record_entry {
	const char *name; /* not NUL-terminated when parsed: use name_len */
	size_t name_len;
	const unsigned char *sealed;
	size_t sealed_len;
} cu_record_entry;

/* Bytes needed to pack n entries. */
size_t cu_record_packed_size(const cu_record_entry *e, size_t n);
/* Packs into out (cu_record_packed_size bytes). */
void cu_record_pack(const cu_record_entry *e, size_t n, unsigned char *out);
/*
 * Parses; entries point into buf.  At most max entries.  CU_ERR_STORE if
 * malformed.
 */
CU_WARN_UNUSED cu_result cu_record_parse(const unsigned char *buf, size_t len, cu_record_entry *e,
                                         size_t max, size_t *n);

#endif
