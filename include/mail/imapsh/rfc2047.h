/* Header text for a person: unfolding (RFC 5322 2.2.3) and encoded words
 * (RFC 2047), decoded to UTF-8.
 *
 * - "=?charset?B?...?=" and "=?charset?Q?...?=" anywhere in the text
 *   (also inside quoted strings and glued to other text, as in the wild),
 *   any charset ims_charset_decode() knows, with an RFC 2231 language
 *   suffix ("=?UTF-8*ja?B?...?=") ignored;
 * - linear white space between two encoded words is dropped, and the
 *   bytes of neighbouring words in the same charset are joined before
 *   conversion, so a character split across two words comes out whole;
 * - a malformed word (bad base64, unknown encoding, missing "?=") is
 *   shown as it was;
 * - raw 8-bit text (common in Japanese mail) and 7-bit ISO-2022-JP
 *   outside encoded words are decoded as UTF-8 when valid, else guessed
 *   (see charset.h).
 * The output is valid UTF-8; controls decoded from a word (ESC, BEL, CR,
 * LF, NUL) are kept: the terminal sanitiser neutralises them.
 *
 * Part of the mail library (src/mail/): uses base and iconv, never the protocol. */
#ifndef IMAPSH_RFC2047_H
#define IMAPSH_RFC2047_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* Append the unfolded in[0..len) to out: every CRLF or LF followed by a
 * space or TAB goes, and that TAB becomes a space; blanks at both ends are
 * dropped.  Fails only when out cannot grow (out keeps its length). */
ims_err ims_header_unfold(const char *in, size_t len, struct ims_buf *out,
                          struct ims_error *err) IMS_MUST_CHECK;

/* Append the decoded form of the header value in[0..len) to out
 * (unfolding it first).  *cs_flags_r (may be NULL) gets the
 * IMS_CHARSET_* flags of all the conversions ORed together.  Fails only
 * when out cannot grow (IMS_ERR_LIMIT, IMS_ERR_NOMEM); out then keeps its
 * previous length. */
ims_err ims_rfc2047_decode(const char *in, size_t len, struct ims_buf *out, unsigned *cs_flags_r,
                           struct ims_error *err) IMS_MUST_CHECK;

#endif
