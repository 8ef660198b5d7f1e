/* Make server text safe for a terminal, and server file names safe for a
 * file system.  Pure functions: bytes in, bytes appended to an ims_buf.
 *
 * Text (ims_sanitize): the input is UTF-8, possibly invalid.  The output
 * is valid UTF-8 in which nothing can act on a terminal; every character
 * that could is shown as a visible marker instead:
 *
 *   ESC and the other C0 controls    caret notation: ESC -> "^[", BEL -> "^G",
 *                                    NUL -> "^@", CR -> "^M"; DEL -> "^?"
 *   C1 controls U+0080..U+009F,      "<U+009B>" (four or more hex digits,
 *   bidi controls (U+061C, U+200E,   upper case)
 *   U+200F, U+202A..U+202E,
 *   U+2066..U+2069), zero-width and
 *   invisible characters (U+180E,
 *   U+200B..U+200D, U+2060..U+2065,
 *   U+206A..U+206F, U+FEFF, tags
 *   U+E0000..U+E007F), line and
 *   paragraph separators U+2028/9,
 *   interlinear annotations
 *   U+FFF9..U+FFFB
 *   bytes that are not UTF-8         "\x9B" (each byte; upper-case hex), so a
 *   (incl. raw 8-bit C1 such as      raw 8-bit CSI never reaches the terminal
 *   0x9B, overlongs, surrogates)
 *
 * An escape sequence (CSI, OSC incl. OSC 8 hyperlinks and OSC 52 clipboard
 * writes, DCS, APC, PM, SOS) is neutralised as a whole: its introducer, any
 * BEL/ST terminator and any control inside it become markers and the rest
 * is inert printable text, so "\e]52;c;..\a" shows as "^[]52;c;..^G".  The
 * markers are plain text: input that already contains "^[" looks the same.
 *
 * Modes: IMS_SANITIZE_LINE (a folder name, a header line) marks every
 * control, TAB and LF too; IMS_SANITIZE_TEXT (a body) keeps TAB and LF and
 * drops the CR of a CRLF pair (a lone CR, which could overwrite the line,
 * is still shown as "^M").  The two flags may be combined as wanted.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_SANITIZE_H
#define IMAPSH_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_SANITIZE_KEEP_TAB 1u /* TAB passes */
#define IMS_SANITIZE_KEEP_LF  2u /* LF passes; CR before LF is dropped */
#define IMS_SANITIZE_LINE     0u
#define IMS_SANITIZE_TEXT     (IMS_SANITIZE_KEEP_TAB | IMS_SANITIZE_KEEP_LF)

/* Append the sanitised form of p[0..len) to out.  Fails only when out
 * cannot grow (IMS_ERR_LIMIT, IMS_ERR_NOMEM); out then keeps its previous
 * length. */
ims_err ims_sanitize(const void *p, size_t len, unsigned flags, struct ims_buf *out,
                     struct ims_error *err) IMS_MUST_CHECK;

/* 1 if ims_sanitize() would copy p[0..len) unchanged (a fast path for
 * callers printing mostly clean text), else 0. */
int ims_sanitize_is_clean(const void *p, size_t len, unsigned flags);

/* Text of known length that will be shown, cut to a fixed buffer: the
 * one rule for certificate text (every string of struct ims_cert_info is
 * made by it) and for a field of a tab-separated record.  out[0..n)
 * receives the IMS_SANITIZE_LINE form of p[0..len) with a NUL after it,
 * so the result has no control character at all (no TAB, CR, LF, NUL,
 * ESC, C1), no bidi or invisible character and only valid UTF-8: it
 * can go to a terminal, a TSV field, a Nagios line or a JSON string as
 * it is.  When it does not fit it is cut on a character boundary and
 * ends with "...".  n must be at least 4.  Returns out. */
const char *ims_sanitize_fixed(const void *p, size_t len, char *out, size_t n);

/* File names (attachments): the longest result in bytes. */
#define IMS_FILENAME_MAX 200

/* Append to out a file name made from the untrusted name[0..len) (UTF-8,
 * already decoded from RFC 2047/2231 by the caller):
 * - basename only: everything up to the last '/' or '\' is dropped;
 * - control characters, DEL, C1, the bidi and invisible characters listed
 *   above and bytes that are not UTF-8 become '_';
 * - a run of dots becomes one dot (no ".." anywhere); leading dots,
 *   dashes and spaces and trailing spaces are removed (no hidden files,
 *   nothing that reads as an option);
 * - at most IMS_FILENAME_MAX bytes, cut on a character boundary, keeping
 *   an extension of up to 32 bytes ("long...name.pdf");
 * - never empty, "." or "..": when nothing is left, fallback (made safe
 *   the same way; NULL allowed) is used, and then "attachment".
 * Fails only when out cannot grow; out then keeps its previous length. */
ims_err ims_sanitize_filename(const char *name, size_t len, const char *fallback,
                              struct ims_buf *out, struct ims_error *err) IMS_MUST_CHECK;

/* Decode one UTF-8 character at p (len > 0 bytes available), strictly: no
 * overlong forms, no surrogates, nothing above U+10FFFF.  Returns the
 * number of bytes used (1..4) and sets *cp_r, or 0 when p does not start a
 * valid character.  Shared by the codecs (utf7, json). */
size_t ims_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp_r);

/* 1 if the character cp (above U+007F) must not reach a terminal as it is:
 * C1, and the bidi, invisible and separator characters listed above. */
int ims_sanitize_is_invisible(uint32_t cp);

/* 1 if p[0..len) is entirely valid UTF-8 (as ims_utf8_decode), else 0. */
int ims_utf8_valid(const void *p, size_t len);

#endif
