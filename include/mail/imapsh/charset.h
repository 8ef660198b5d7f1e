/* Bytes in a named charset -> UTF-8, for reading mail.
 *
 * Pure functions over glibc iconv.  The charset name comes from a message
 * and is never handed to iconv_open() as it is: it is looked up, ignoring
 * case, in a table of labels (aliases such as "x-sjis", "csShiftJIS",
 * "ms932", "unicode-1-1-utf-7", "ks_c_5601-1987") that leads to one of a
 * fixed set of converters.  Labels are widened the way real mail needs:
 *
 *   Shift_JIS and friends       CP932 (NEC/IBM extensions: ① ㈱ 髙)
 *   EUC-JP                      EUC-JP, then EUC-JP-MS when that fails
 *   ISO-2022-JP, -1, -2, -3,    a decoder of our own (glibc's passes
 *   CP50220/1/2                 unknown escapes through and has no NEC
 *                               row 13): JIS X 0208 via EUC-JP, NEC row 13
 *                               and IBM rows 89..92 via CP932, half-width
 *                               katakana (ESC ( I and SO/SI), JIS X 0212,
 *                               GB 2312, KS C 5601, JIS X 0213, the
 *                               ISO-2022-JP-2 single shifts (ESC N)
 *   GB2312, GBK, EUC-CN         GB18030
 *   EUC-KR, KS_C_5601-1987      CP949
 *   Big5                        BIG5-HKSCS
 *   ISO-8859-1, US-ASCII 8-bit  windows-1252 (undefined bytes -> C1)
 *   UTF-16 without a BOM        big-endian (RFC 2781)
 *   UTF-8                       validated strictly (no overlongs or
 *                               surrogates)
 *
 * A charset that is unknown, or that the bytes are not valid in, falls
 * back, and says so in struct ims_charset_info:
 *   1. the declared charset, strictly; with the known lies: a single-byte
 *      charset (ISO-8859-*, windows-125x, ...) whose bytes are valid UTF-8
 *      with at least one multi-byte character is taken as UTF-8;
 *      Shift_JIS that reads as EUC-JP kana misread (runs of U+FF64/U+FF65,
 *      private use) while EUC-JP decodes plausibly is taken as EUC-JP;
 *      7-bit text with ISO-2022-JP designations declared as nothing,
 *      US-ASCII or UTF-8 is ISO-2022-JP;
 *   2. (not for the Japanese charsets) the declared charset with U+FFFD
 *      for the bad bytes, when they are at most 1 in 32 of the non-ASCII
 *      bytes;
 *   3. UTF-8;
 *   4. a Japanese guess: ISO-2022-JP when it has designations, else
 *      Shift_JIS (CP932) or EUC-JP, whichever decodes and looks like
 *      Japanese; undeclared bytes that Shift_JIS reads as half-width
 *      katakana only, without a voiced mark in place, and EUC-JP as kanji
 *      are taken as EUC-JP;
 *   5. the declared charset with U+FFFD replacements, or windows-1252
 *      when the declared one is unknown or US-ASCII (or none).
 * Pure ASCII (no ESC designation) is copied as it is, whatever the label
 * says (but UTF-7, UTF-16 and ISO-2022-KR are always decoded).
 *
 * The output is always valid UTF-8 (strict: as ims_utf8_valid()); control
 * characters, ESC included, are kept as they were: the terminal sanitiser
 * neutralises them later.  Output size is bounded by out's max; each
 * input byte gives at most 3 bytes (U+FFFD).
 *
 * Part of the mail library (src/mail/): uses base and iconv, never the protocol. */
#ifndef IMAPSH_CHARSET_H
#define IMAPSH_CHARSET_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* struct ims_charset_info flags */
#define IMS_CHARSET_FALLBACK 1u /* not decoded as declared (or guessed: none declared) */
#define IMS_CHARSET_LOSSY    2u /* some bytes were invalid and became U+FFFD */
#define IMS_CHARSET_UNKNOWN  4u /* the declared name is not a charset we know */

#define IMS_CHARSET_NAME_MAX 32

struct ims_charset_info {
	unsigned flags;
	/* The canonical lower-case name of what the bytes were decoded as
	 * ("utf-8", "shift_jis", "iso-2022-jp", "windows-1252", ...). */
	char used[IMS_CHARSET_NAME_MAX];
	/* The declared label, lower-cased and cut to fit ("" when none). */
	char declared[IMS_CHARSET_NAME_MAX];
};

/* Cannot fail: no flags, empty names. */
void ims_charset_info_init(struct ims_charset_info *ci);

/* ims_charset_decode() flags */
#define IMS_CHARSET_STRICT    1u /* the declared charset only; no fallback, no U+FFFD */
#define IMS_CHARSET_TRUNCATED 2u /* input was cut short: drop an incomplete last character */

/* Decode in[0..len) from the charset named charset (NUL-terminated,
 * surrounding quotes and blanks ignored; NULL or "" = none declared) and
 * append UTF-8 to out.  info_r (may be NULL) says what was used.
 * Errors: IMS_ERR_USAGE only with IMS_CHARSET_STRICT, when the name is
 * unknown or the bytes are invalid in it; IMS_ERR_LIMIT / IMS_ERR_NOMEM
 * when out cannot grow.  On error out keeps its previous length. */
ims_err ims_charset_decode(const char *charset, const void *in, size_t len, unsigned flags,
                           struct ims_buf *out, struct ims_charset_info *info_r,
                           struct ims_error *err) IMS_MUST_CHECK;

/* The canonical name for a label ("X-SJIS" -> "shift_jis"), or NULL when
 * it is not known.  The result is a static string. */
const char *ims_charset_canonical(const char *label);

/* Append p[0..len) to out with every byte sequence that is not strict
 * UTF-8 replaced by U+FFFD (one per maximal invalid subpart).  *bad_r
 * (may be NULL) counts the replacements.  Fails only when out cannot
 * grow; out then keeps its previous length. */
ims_err ims_utf8_repair(const void *p, size_t len, struct ims_buf *out, size_t *bad_r,
                        struct ims_error *err) IMS_MUST_CHECK;

#endif
