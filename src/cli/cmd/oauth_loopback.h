/* The loopback redirect of `oauth login` (RFC 8252): the one request the
 * browser brings back, with the expected path and state; every other is
 * answered with a short page and refused, and the wait goes on. */
#ifndef IMAPSH_CLI_CMD_OAUTH_LOOPBACK_H
#define IMAPSH_CLI_CMD_OAUTH_LOOPBACK_H

#include <stddef.h>

#include "cli/cli.h"

#define REDIRECT_WAIT_S 300 /* the browser's redirect, when --timeout is not given */

/* Monotonic milliseconds. */
long long cmd_oauth_now_ms(void);

/* Wait on the listening socket lfd (127.0.0.1:port) for the browser: the
 * authorization code into code[0..n).  --timeout seconds, else
 * REDIRECT_WAIT_S. */
ims_err cmd_oauth_wait_redirect(struct cli *c, int lfd, unsigned port, const char *state,
                                char *code, size_t n) IMS_MUST_CHECK;

#endif
