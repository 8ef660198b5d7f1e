/* netrc (as ftp(1) and curl read it): the tokens machine NAME, default,
 * login NAME, password SECRET, account X and macdef NAME (its body, up to
 * a blank line, skipped), separated by any white space.  A token may be
 * written in double quotes, with \" \\ \n \r \t inside, so a password
 * with spaces is "correct horse" (curl's rule); outside quotes a token
 * ends at white space.
 *
 * Lookup: the first entry whose machine is host (ASCII case ignored), or
 * the default entry, that has a password and, when user is non-empty,
 * whose login is user.  Its login is returned too, so a netrc entry can
 * give the user name when none was given (curl does the same).
 *
 * Strict where a quiet guess would be wrong: a token longer than
 * IMS_NETRC_TOKEN_MAX, an unterminated quote, a NUL byte, or a keyword
 * without its value is an error naming the line, never a cut.
 *
 * Pure: no I/O.  Ownership: the results are copied into the caller's
 * buffers; the caller wipes them.
 *
 * Part of the front-end library (src/front/): pure, uses base only; only the
 * front end and the fs layer use it. */
#ifndef IMAPSH_NETRC_H
#define IMAPSH_NETRC_H

#include <stddef.h>

#include "imapsh/error.h"

#define IMS_NETRC_TOKEN_MAX 1023

/* IMS_OK with login_r and password_r filled (NUL-terminated, at most
 * IMS_NETRC_TOKEN_MAX bytes each: the buffers hold IMS_NETRC_TOKEN_MAX +
 * 1); IMS_ERR_NO when no entry matches; IMS_ERR_USAGE with words on a
 * syntax error. */
ims_err ims_netrc_lookup(const char *text, size_t len, const char *host, const char *user,
                         char *login_r, char *password_r, struct ims_error *err) IMS_MUST_CHECK;

#endif
