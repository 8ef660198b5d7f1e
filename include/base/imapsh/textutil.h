/* Small text helpers shared by the libraries (base, imap, mail, front);
 * not for the front end, which has its own.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_TEXTUTIL_H
#define IMAPSH_TEXTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"

/* The value of a base64 digit: A-Z a-z 0-9 '+' and c63 ('/' in standard
 * base64, ',' in IMAP's modified UTF-7); -1 for anything else. */
int ims_b64_digit(unsigned char c, unsigned char c63);
/* The value of a hex digit (either case), or -1. */
int ims_hex_digit(unsigned char c);
/* The UTF-8 form of cp in u (1..4 bytes, returned).  Surrogates and values
 * above U+10FFFF become U+FFFD, so the result is always valid UTF-8. */
size_t ims_utf8_encode(uint32_t cp, char u[4]);
/* Append the UTF-8 form of cp to out. */
ims_err ims_buf_put_utf8(struct ims_buf *out, uint32_t cp) IMS_MUST_CHECK;

#endif
