/* Built-in OAuth 2.0: `oauth login|status|logout [ACCOUNT]`, and the
 * access token that every login of an account with `auth = oauth` uses.
 *
 * An account's OAuth settings come from its section (then [defaults],
 * then the preset of oauth-provider): oauth-client-id,
 * oauth-client-secret-command, oauth-authorize-url, oauth-token-url,
 * oauth-device-url, oauth-revoke-url, oauth-scope, token-store-command.
 *
 * The tokens of account NAME live in $XDG_STATE_HOME/imapsh/oauth-NAME.json
 * (mode 0600, made through fsafe.h): the refresh token, the access token
 * and its expiry, the scope.  With token-store-command the refresh token
 * goes to that command instead (IMAPSH_TOKEN_OP=store and the token on
 * its standard input; load prints it; erase forgets it), and the file
 * keeps no token at all.  No token is ever put in argv, a trace or an
 * error message. */
#ifndef IMAPSH_CLI_CMD_OAUTH_H
#define IMAPSH_CLI_CMD_OAUTH_H

#include <stddef.h>

#include "cli/cli.h"

extern const struct cli_cmd_group cli_group_oauth;

/* cli_oauth_login_account() flags */
#define CLI_OAUTH_DEVICE     1u /* the device authorization grant (RFC 8628) */
#define CLI_OAUTH_NO_BROWSER 2u /* print the URL only; never start xdg-open */

/* Log in account (an [account NAME] of c->cfg; NULL: c->acct, the one
 * chosen by -a, TARGET or the config's default) and keep its tokens:
 * the authorization code with PKCE and a loopback redirect, or with
 * CLI_OAUTH_DEVICE the device grant.  The URL to open is printed on
 * stdout on a line of its own; guidance goes to stderr.  Waits for the
 * redirect --timeout seconds (300 when not given).  For `setup`, which
 * offers it after writing an account (reload c->cfg first).  IMS_OK,
 * or an error in c->err with the next step. */
ims_err cli_oauth_login_account(struct cli *c, const char *account, unsigned flags) IMS_MUST_CHECK;

/* Whether a login with mech_name (--auth, auth =, ;AUTH=; may be NULL)
 * takes its token from the built-in OAuth: "oauth", or "xoauth2" /
 * "oauthbearer" for an account that has OAuth settings and no
 * oauth-token-command. */
int cli_oauth_wanted(const struct cli *c, const char *mech_name);

/* An access token for c->acct into out[0..n): the saved one while it has
 * more than a minute left, else (or with refresh set, after the server
 * refused it) a new one from the refresh token, saved.  IMS_ERR_AUTH
 * with words ending in "run 'imapsh oauth login ...'" when there is no
 * login or the refresh token is refused. */
ims_err cli_oauth_access_token(struct cli *c, int refresh, char *out, size_t n) IMS_MUST_CHECK;

#endif
