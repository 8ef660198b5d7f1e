/* What oauth.c shares with oauth_status.c: an account's OAuth settings,
 * the HTTPS options, the saved tokens' place. */
#ifndef IMAPSH_CLI_CMD_OAUTH_INT_H
#define IMAPSH_CLI_CMD_OAUTH_INT_H

#include "cli/cli.h"
#include "cli/config.h"
#include "imapsh/http.h"
#include "imapsh/oauth.h"

struct oconf {
	const char *account;
	const char *provider; /* "google", "microsoft", "custom" */
	const char *client_id, *secret_command;
	const char *authorize_url, *token_url, *device_url, *revoke_url, *scope;
	const char *redirect_host;
	const char *store_command;
	const char *user; /* login_hint */
};

struct http_ctx {
	struct ims_http_opts o;
	const char *resolve[CLI_MAX_RESOLVE + 1];
};

/* The account named (NULL: the one in use), or NULL. */
const struct cfg_account *cmd_oauth_account(struct cli *c, const char *account);
/* The settings of account a; IMS_ERR_USAGE with the next step when one
 * that is needed is missing. */
ims_err cmd_oauth_conf(struct cli *c, const struct cfg_account *a, int need_authorize,
                       struct oconf *oc) IMS_MUST_CHECK;
/* The HTTPS options of this run (--ca-file, --resolve, --timeout). */
void cmd_oauth_http(struct cli *c, struct http_ctx *h);
/* Wipe and free a form that held a secret. */
void cmd_oauth_form_wipe(struct ims_buf *form);
/* The state folder, opened (made 0700 when missing, with create), and the
 * token file's name and path for words; -1 with c->err when it cannot be. */
int cmd_oauth_state_dir(struct cli *c, const struct oconf *oc, int create, char *name, size_t nn,
                        char *path, size_t pn);
/* Run the token-store-command with IMAPSH_TOKEN_OP=op: in on its standard
 * input, or its first output line into out[0..n). */
ims_err cmd_oauth_store_command(struct cli *c, const struct oconf *oc, const char *op,
                                const char *in, char *out, size_t n) IMS_MUST_CHECK;
/* Read the saved tokens; *found_r 0 when there are none. */
ims_err cmd_oauth_saved_load(struct cli *c, const struct oconf *oc, struct ims_oauth_saved *s,
                             int *found_r) IMS_MUST_CHECK;

/* oauth status / oauth logout of account a (oauth_status.c). */
ims_err cmd_oauth_status(struct cli *c, const struct cfg_account *a) IMS_MUST_CHECK;
ims_err cmd_oauth_logout(struct cli *c, const struct cfg_account *a) IMS_MUST_CHECK;

#endif
