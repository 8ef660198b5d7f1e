/* The config file (INI, read with libinih), credentials and per-user paths.
 *
 *   default = work
 *   [defaults]
 *   ca-file = /etc/ssl/my-ca.pem
 *   [account work]
 *   host = imap.example.com
 *   user = alice
 *   password-command = pass show mail/work
 */
#ifndef IMAPSH_CLI_CONFIG_H
#define IMAPSH_CLI_CONFIG_H

#include <stddef.h>

#include "imapsh/error.h"

#define CFG_STR 512

/* compress = auto|yes|no (and --compress): COMPRESS=DEFLATE after login. */
enum { CFG_COMPRESS_AUTO = 1, CFG_COMPRESS_YES, CFG_COMPRESS_NO };

struct cfg_account {
	char name[64];
	char host[256];
	unsigned port;
	char user[256];
	int tls_set;  /* tls = given */
	int starttls; /* tls = starttls */
	char ca_file[CFG_STR];
	char pin[CFG_STR];
	char auth[32];
	char password_command[CFG_STR];
	char oauth_token_command[CFG_STR];
	/* Built-in OAuth 2.0 (auth = oauth; cli/cmd/oauth.h) */
	char oauth_provider[16]; /* google, microsoft, custom; "" = not set */
	char oauth_client_id[CFG_STR];
	char oauth_client_secret_command[CFG_STR];
	char oauth_authorize_url[CFG_STR];
	char oauth_token_url[CFG_STR];
	char oauth_device_url[CFG_STR];
	char oauth_revoke_url[CFG_STR];
	char oauth_scope[CFG_STR];
	char token_store_command[CFG_STR];
	char folder[CFG_STR];
	int compress;     /* CFG_COMPRESS_*; 0 = not set */
	unsigned share_s; /* share = DURATION (--share); 0 = not set */
};

struct cfg {
	char default_account[64];
	char ispdb_url[CFG_STR]; /* ispdb-url = (setup), "" when not set */
	struct cfg_account defaults;
	struct cfg_account *accounts; /* owned */
	size_t n_accounts;
	char path[CFG_STR]; /* the file read, empty if none */
};

void cfg_init(struct cfg *c);
void cfg_release(struct cfg *c);
/* Read path, or the default $XDG_CONFIG_HOME/imapsh/config when path is
 * NULL (a missing default file is not an error; a missing named one is). */
ims_err cfg_load(struct cfg *c, const char *path, struct ims_error *err) IMS_MUST_CHECK;
const struct cfg_account *cfg_find(const struct cfg *c, const char *name);
/* "auto", "yes", "no" -> CFG_COMPRESS_*; 0 for anything else. */
int cfg_compress_parse(const char *s);

/* $XDG_<kind>_HOME/imapsh/<file> with the usual fallbacks under $HOME;
 * kind is "CONFIG", "STATE" or "DATA".  mkdirs creates the folder 0700. */
ims_err cfg_user_path(const char *kind, const char *file, int mkdirs, char *out, size_t n,
                      struct ims_error *err) IMS_MUST_CHECK;

/* Run CMD with /bin/sh and take the first line of its standard output
 * (without the line end).  The secret is never put in argv: CMD is the
 * user's own command line.  Fails with words if CMD fails or prints
 * nothing. */
ims_err secret_from_command(const char *what, const char *cmd, char *out, size_t n,
                            struct ims_error *err) IMS_MUST_CHECK;
/* Look host (and user, if non-empty) up in a netrc file (path NULL =
 * ~/.netrc); fills user_r when empty and password_r.  IMS_ERR_NO when
 * there is no entry. */
ims_err secret_from_netrc(const char *path, const char *host, char *user_r, size_t un,
                          char *password_r, size_t pn, struct ims_error *err) IMS_MUST_CHECK;
/* Prompt on /dev/tty without echo.  IMS_ERR_NO when there is no terminal. */
ims_err secret_prompt(const char *prompt, char *out, size_t n,
                      struct ims_error *err) IMS_MUST_CHECK;

#endif
