/* Modified UTF-7 (RFC 3501 section 5.1.3), the encoding of IMAP mailbox
 * names, to and from UTF-8.
 *
 * Printable US-ASCII (0x20..0x7e) stands for itself except '&', which is
 * written "&-"; every other character is UTF-16BE in base64 between '&' and
 * '-'.  That base64 uses the MODIFIED alphabet A-Z a-z 0-9 + and ','
 * (where RFC 4648 has '/', which is the IMAP hierarchy delimiter) and has
 * no '=' padding; it is not interchangeable with standard base64, so this
 * module carries its own.
 *
 * Both directions are strict, so that a decoded name encodes back to the
 * very same bytes:
 * - encode refuses invalid UTF-8 (overlong forms, surrogates, truncated
 *   sequences, above U+10FFFF) and U+0000;
 * - decode refuses raw bytes outside 0x20..0x7e, '&' without '-', bad
 *   base64 characters (also '/' and '='), runs whose length is not that of
 *   whole UTF-16 units or whose padding bits are not zero, printable ASCII
 *   (including '&') written in base64, two base64 runs back to back
 *   ("&AGE-&AGI-"), unpaired surrogates, and U+0000.
 *
 * Ownership: both append to an ims_buf owned by the caller; on failure the
 * buffer keeps its previous length and err says what and where (byte
 * offset into the input).
 *
 * Part of the IMAP protocol library (src/imap/): uses base only. */
#ifndef IMAPSH_UTF7_H
#define IMAPSH_UTF7_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* UTF-8 utf8[0..len) -> modified UTF-7, appended to out.  Errors:
 * IMS_ERR_USAGE (invalid input), IMS_ERR_LIMIT/IMS_ERR_NOMEM (out). */
ims_err ims_utf7_encode(const char *utf8, size_t len, struct ims_buf *out,
                        struct ims_error *err) IMS_MUST_CHECK;

/* Modified UTF-7 mutf7[0..len) -> UTF-8, appended to out.  Errors:
 * IMS_ERR_USAGE (malformed or non-canonical input: the caller grades it,
 * e.g. shows a server's name sanitised as it came), IMS_ERR_LIMIT,
 * IMS_ERR_NOMEM. */
ims_err ims_utf7_decode(const char *mutf7, size_t len, struct ims_buf *out,
                        struct ims_error *err) IMS_MUST_CHECK;

#endif
