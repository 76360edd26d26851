/*
 * src/util/text.h — checks of text that people type (private).
 *
 * The one UTF-8 decoder (cu_utf8_decode) every check of text uses, and one
 * UTF-8 and control-character check shared by the areas that take free
 * text (members' fields, diaries, requests, complaints, third parties,
 * subcontractors).
 */
#ifndef CU_TEXT_H
#define CU_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CU_UTF8_MAX_BYTES 4 /* bytes of one code point, at most */

/*
 * Decodes the code point at s (avail bytes there) into *cp and returns its
 * length, 1..CU_UTF8_MAX_BYTES; 0 when the bytes are not valid UTF-8 there:
 * a stray continuation or invalid lead byte, a sequence cut short (by avail
 * or by a byte that is not a continuation, NUL included), an overlong form,
 * a surrogate (U+D800..U+DFFF) or a code point past U+10FFFF.  avail 0
 * returns 0.  Control characters are valid here: the callers judge them.
 */
size_t cu_utf8_decode(const char *s, size_t avail, uint32_t *cp);

/*
 * Checks len bytes of s: valid UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF) and no control characters (C0, DEL, C1), except the C0 ones
 * listed in ctl_ok (e.g. "\n", "\n\r\t"; "" for none; NUL is never allowed).
 * Returns NULL, "invalid_utf8" or "malformed".
 */
const char *cu_text_check(const char *s, size_t len, const char *ctl_ok);

/*
 * Free text from a person: 1..max bytes of clean UTF-8, not blank (only
 * spaces, tabs, CRs and newlines); newline, CR and tab allowed in it when
 * multiline.  Returns NULL, "required", "too_long" or a reason from
 * cu_text_check.
 */
const char *cu_text_free_problem(const char *s, size_t max, bool multiline);

/*
 * A justification of an exceptional access: 20..2000 bytes of text,
 * newlines allowed, no other C0 control character nor DEL.
 */
bool cu_text_justification_ok(const char *j);

/*
 * Writes s as troff text (man(7)), line breaks kept: a backslash as \e, a
 * hyphen as \- (options copy and paste as typed), a dot or quote that
 * begins a line guarded by \&, and every non-ASCII code point as \[uXXXX]
 * (an invalid byte as \[uFFFD]).  For the manual page (cli/help.c).
 */
void cu_text_troff(FILE *f, const char *s);

#endif
