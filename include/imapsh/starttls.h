/* The plaintext part of an imap:// connection: read the greeting, make
 * sure STARTTLS is offered, ask for it, and check that the server sent
 * nothing after its OK (RFC 3501 §6.2.1; the 2021 STARTTLS study's
 * injection attacks).  Nothing learned here is kept: the caller asks for
 * CAPABILITY again over TLS.
 *
 * Also a strict line reader for a greeting, used before the session. */
#ifndef IMAPSH_STARTTLS_H
#define IMAPSH_STARTTLS_H

#include <stddef.h>

#include "imapsh/error.h"
#include "imapsh/stream.h"

/* Read one line ending in CRLF, byte by byte (never reads past it), into
 * line (without CRLF, NUL-terminated).  NUL bytes, a bare LF or a line
 * longer than n-1 are protocol errors. */
ims_err ims_read_line_exact(struct ims_stream *s, char *line, size_t n,
                            struct ims_error *err) IMS_MUST_CHECK;

/* On a plaintext stream just connected: greeting, capability, STARTTLS.
 * On IMS_OK the caller must start TLS on the same socket at once; any
 * failure is IMS_ERR_TLS (exit code 4) or IMS_ERR_NET, and nothing more
 * has been sent. greeting_r (may be NULL) receives the plaintext greeting. */
ims_err ims_starttls_negotiate(struct ims_stream *plain, char *greeting_r, size_t n,
                               struct ims_error *err) IMS_MUST_CHECK;

#endif
