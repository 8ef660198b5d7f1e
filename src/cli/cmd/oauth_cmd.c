/* The oauth command and its table: login in oauth.c, status and logout in
 * oauth_status.c. */
#include <string.h>

#include "cli/cmd/oauth.h"
#include "cli/cmd/oauth_int.h"
#include "cli/opts.h"

/* ---- the command ---------------------------------------------------------------- */

static ims_err cmd_oauth(struct cli *c, int argc, char **argv)
{
	const char *sub = argv[1];
	const char *account = argc > 2 ? argv[2] : NULL;
	const struct cfg_account *a = cmd_oauth_account(c, account);
	int device = cli_opt_flag(&c->args, "device");
	int no_browser = cli_opt_flag(&c->args, "no-browser");

	if (strcmp(sub, "login") != 0 && (device || no_browser))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth %s: --device and --no-browser are for 'oauth login'",
		                     sub);
	if (strcmp(sub, "login") != 0 && strcmp(sub, "status") != 0 && strcmp(sub, "logout") != 0)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth: '%s' is not login, status or logout (usage: oauth "
		                     "login|status|logout [ACCOUNT])",
		                     sub);
	if (a == NULL && account != NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth: no [account %s] in the config file%s%s", account,
		                     c->cfg.path[0] != '\0' ? " " : "", c->cfg.path);
	if (strcmp(sub, "login") == 0)
		return cli_oauth_login_account(c, account,
		                               (device ? CLI_OAUTH_DEVICE : 0) |
		                                   (no_browser ? CLI_OAUTH_NO_BROWSER : 0));
	if (strcmp(sub, "status") == 0)
		return cmd_oauth_status(c, a);
	return cmd_oauth_logout(c, a);
}

/* clang-format off */
static const struct cli_opt oauth_opts[] = {
	CLI_FLAG("device", 0, "login: the device grant (a code to enter on another device)"),
	CLI_FLAG("no-browser", 0, "login: print the URL only, never start a browser"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};

static const struct cli_cmd oauth_cmds[] = {
	{ .name = "oauth", .usage = "oauth login|status|logout [ACCOUNT]",
	  .summary = "OAuth 2.0: log an account in (browser with PKCE, or --device), show or "
	             "delete its tokens",
	  .min_args = 1, .max_args = 2, .run = cmd_oauth,
	  .options = oauth_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_oauth = {oauth_cmds,
                                              sizeof(oauth_cmds) / sizeof(oauth_cmds[0])};
