/* Editing the config file as text, for setup: an [account NAME] section
 * added (or, when the user said so, replaced), every other line kept as
 * it was, comments included.
 *
 * Pure: no I/O, no global state, so a unit test links it alone.
 * Ownership: results are appended to the caller's buffer. */
#ifndef IMAPSH_CLI_CFGEDIT_H
#define IMAPSH_CLI_CFGEDIT_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* 1 when text[0..len) has the header [account NAME] (white space around
 * it ignored, as the config reader does). */
int cfgedit_has_account(const char *text, size_t len, const char *name);

/* text[0..len), with the section [account NAME] taken out when replace
 * is set (its header and every line up to the next section header), then
 * a blank line, comment (a "# ..." line, may be NULL), the header and
 * body (KEY = VALUE lines, each ending in '\n'), appended to out.
 * IMS_ERR_USAGE when the section is there and replace is not set;
 * IMS_ERR_NOMEM. */
ims_err cfgedit_put_account(const char *text, size_t len, const char *name, const char *comment,
                            const char *body, int replace, struct ims_buf *out,
                            struct ims_error *err) IMS_MUST_CHECK;

/* 1 when s can be written as a value and read back the same: not empty,
 * one line, valid UTF-8 without a control (C0, DEL, C1), bidi or
 * invisible character (sanitize.h: it would act on a terminal that shows
 * it later), no white space at either end, no '#' or ';' (the reader
 * would take what follows white space for a comment). */
int cfgedit_value_ok(const char *s);
/* 1 when s can name an account: a value (cfgedit_value_ok) without ']' and
 * shorter than 64 bytes. */
int cfgedit_name_ok(const char *s);

#endif
