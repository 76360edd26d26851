/*
 * src/audit/case_ref.h — the form of a case reference.
 *
 * It sits at the audit's layer because the audit writer refuses to record a
 * malformed one (audit.h) as well as the door (access.h).
 */
#ifndef CUSTODIAN_CASE_REF_H
#define CUSTODIAN_CASE_REF_H

/*
 * A case reference: what a reader under a purpose that requires a case
 * (tos_review) cites, e.g. "TOS-2024-0012".  It is recorded in the audit
 * entry and shown to the member in their access log, so it must be
 * something a person can read and cite on one line.  Well-formed means:
 *   - 1..CU_CASE_REF_MAX bytes of valid UTF-8 (no overlongs, surrogates);
 *   - not blank: something besides spaces (ASCII, no-break, ideographic and
 *     the other Unicode space separators);
 *   - no control character (C0 including tab and newline, DEL, C1), no
 *     line or paragraph separator (U+2028, U+2029), no bidirectional
 *     control (U+202A..U+202E, U+2066..U+2069) and no zero-width or BOM
 *     character (U+200B..U+200F, U+FEFF), which would let an entry read
 *     as something it is not.
 * Returns NULL when well-formed, else why not: "required" (NULL or ""),
 * "blank", "too_long", "invalid_utf8" or "malformed".  This is the one
 * check; every place a case reference enters (the door, the HTTP routes,
 * the command line through cu_case_ref_problem, and the audit writer)
 * calls it.
 */
#define CU_CASE_REF_MAX 128
const char *cu_case_ref_problem(const char *case_ref);

#endif
