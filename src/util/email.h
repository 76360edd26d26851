/*
 * src/util/email.h — e-mail addresses as text: checking and normalising.
 *
 * Policy-free text work shared by members (the blind index and duplicate
 * detection) and notify (the address a notice is sent to).  The rules:
 * trimmed of white space; one '@'; local part 1..64 bytes of ASCII letters,
 * digits and !#$%&'*+/=?^_`{|}~.- with no leading, trailing or doubled dot;
 * domain of dot-separated labels (1..63 bytes) of ASCII letters, digits and
 * inner hyphens, at least two labels, no trailing dot; CU_EMAIL_MAX bytes at
 * most.  Normalised by lower-casing the whole address.
 */
#ifndef CU_EMAIL_H
#define CU_EMAIL_H

#include <stddef.h>

#include "util/result.h"

#define CU_EMAIL_MAX       254 /* bytes of an address, trimmed */
#define CU_EMAIL_LOCAL_MAX 64  /* bytes of the part before '@' */
#define CU_EMAIL_LABEL_MAX 63  /* bytes of one label of the domain */

/*
 * Checks the address `in` by the rules above and writes its normalised form
 * into out (outlen bytes, NUL-terminated).  CU_ERR_INVALID_FIELD when it
 * breaks a rule or does not fit out.
 */
CU_WARN_UNUSED cu_result cu_email_normalise(const char *in, char *out, size_t outlen);

#endif
