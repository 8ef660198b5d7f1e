/* oauth login|status|logout [ACCOUNT], and the access tokens of accounts
 * with auth = oauth (cli/cmd/oauth.h). */
#include "cli/cmd/oauth.h"
#include "cli/cmd/oauth_int.h"
#include "cli/cmd/oauth_loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/output.h"
#include "imapsh/caps.h"
#include "imapsh/fsafe.h"
#include "imapsh/http.h"
#include "imapsh/oauth.h"
#include "imapsh/sanitize.h"

/* ---- the account's settings ---------------------------------------------------- */

static const char *pick(const char *a, const char *d, const char *preset)
{
	if (a[0] != '\0')
		return a;
	if (d[0] != '\0')
		return d;
	return preset;
}

const struct cfg_account *cmd_oauth_account(struct cli *c, const char *account)
{
	if (account == NULL)
		return c->acct;
	return cfg_find(&c->cfg, account);
}

/* The settings of account a; IMS_ERR_USAGE with the next step when one
 * that is needed is missing. */
ims_err cmd_oauth_conf(struct cli *c, const struct cfg_account *a, int need_authorize,
                       struct oconf *oc)
{
	const struct cfg_account *d = &c->cfg.defaults;
	const struct ims_oauth_provider *p;

	memset(oc, 0, sizeof(*oc));
	if (a == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth: no account: name one (imapsh oauth login ACCOUNT or "
		                     "-a ACCOUNT), or set default = ACCOUNT in the config file");
	oc->account = a->name;
	oc->provider = pick(a->oauth_provider, d->oauth_provider, "custom");
	p = ims_oauth_provider_find(oc->provider);
	oc->client_id = pick(a->oauth_client_id, d->oauth_client_id, NULL);
	oc->secret_command =
	    pick(a->oauth_client_secret_command, d->oauth_client_secret_command, NULL);
	oc->authorize_url = pick(a->oauth_authorize_url, d->oauth_authorize_url,
	                         p != NULL ? p->authorize_url : NULL);
	oc->token_url =
	    pick(a->oauth_token_url, d->oauth_token_url, p != NULL ? p->token_url : NULL);
	oc->device_url =
	    pick(a->oauth_device_url, d->oauth_device_url, p != NULL ? p->device_url : NULL);
	oc->revoke_url =
	    pick(a->oauth_revoke_url, d->oauth_revoke_url, p != NULL ? p->revoke_url : NULL);
	oc->scope = pick(a->oauth_scope, d->oauth_scope, p != NULL ? p->scope : NULL);
	oc->redirect_host = p != NULL ? p->redirect_host : "127.0.0.1";
	oc->store_command = pick(a->token_store_command, d->token_store_command, NULL);
	oc->user = pick(a->user, d->user, NULL);
	if (oc->client_id == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth: account %s has no oauth-client-id; register a client "
		                     "with the provider (man imapsh, OAUTH) and add "
		                     "oauth-client-id = ID to [account %s]",
		                     a->name, a->name);
	if (oc->token_url == NULL || (need_authorize && oc->authorize_url == NULL))
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "oauth: account %s has no %s; set oauth-provider = google or "
		    "microsoft, or give the endpoints (oauth-authorize-url, "
		    "oauth-token-url)",
		    a->name, oc->token_url == NULL ? "oauth-token-url" : "oauth-authorize-url");
	return IMS_OK;
}

static int has_oauth_settings(const struct cli *c)
{
	const struct cfg_account *a = c->acct, *d = &c->cfg.defaults;

	if (a == NULL)
		return 0;
	return a->oauth_client_id[0] != '\0' || a->oauth_provider[0] != '\0' ||
	       d->oauth_client_id[0] != '\0';
}

int cli_oauth_wanted(const struct cli *c, const char *mech_name)
{
	if (mech_name != NULL && strcasecmp(mech_name, "oauth") == 0)
		return 1;
	if (c->o.oauth_token_command != NULL || !has_oauth_settings(c))
		return 0;
	return mech_name != NULL &&
	       (strcasecmp(mech_name, "xoauth2") == 0 || strcasecmp(mech_name, "oauthbearer") == 0);
}

/* ---- HTTPS ------------------------------------------------------------------------- */

void cmd_oauth_http(struct cli *c, struct http_ctx *h)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < c->o.n_resolve; i++)
		h->resolve[i] = c->o.resolve[i];
	h->resolve[i] = NULL;
	h->o.ca_file = c->o.ca_file;
	h->o.resolve = c->o.n_resolve > 0 ? h->resolve : NULL;
	h->o.timeout_ms = c->o.timeout_s > 0 ? (unsigned)c->o.timeout_s * 1000u : 0;
	h->o.max_body = IMS_CAP_OAUTH_BODY;
	h->o.accept = "application/json";
}

/* The client secret, when the account has a command for it. */
static ims_err client_secret(struct cli *c, const struct oconf *oc, char *out, size_t n)
{
	out[0] = '\0';
	if (oc->secret_command == NULL)
		return IMS_OK;
	return secret_from_command("oauth-client-secret-command", oc->secret_command, out, n,
	                           &c->err);
}

/* POST form to the token endpoint and read the answer into t: IMS_OK with
 * an access token, else an error with words (IMS_ERR_AUTH for an error
 * answer: t->error says which). */
static ims_err token_post(struct cli *c, const struct oconf *oc, const char *url, const char *what,
                          struct ims_buf *form, struct ims_oauth_token *t)
{
	struct http_ctx h;
	struct ims_http_reply r;
	char host[256], words[1024];
	ims_err e;

	cmd_oauth_http(c, &h);
	ims_http_url_host(url, host, sizeof(host));
	ims_http_reply_init(&r);
	e = ims_http_post_form(url, form->data != NULL ? form->data : "", &h.o, &r, &c->err);
	if (e == IMS_ERR_LIMIT) {
		e = ims_error_set(&c->err, IMS_ERR_LIMIT,
		                  "oauth: the %s at %s answered with more than %u KiB, which no "
		                  "token answer needs; check oauth-token-url, or try later",
		                  what, host, IMS_CAP_OAUTH_BODY / 1024);
	} else if (e != IMS_OK) {
		ims_error_prefix(&c->err, "oauth: the %s", what);
	} else {
		e = ims_oauth_token_parse(r.body.data != NULL ? r.body.data : "", r.body.len, t,
		                          &c->err);
		if (e != IMS_OK) {
			ims_error_prefix(&c->err, "oauth: %s (HTTP %ld)", host, r.status);
			if (strlen(c->err.msg) + 60 < sizeof(c->err.msg))
				strcat(c->err.msg, "; check the endpoint's URL, or try later");
		} else if (t->error[0] != '\0') {
			ims_oauth_error_words(t, oc->provider, words, sizeof(words));
			e = ims_error_set(&c->err, IMS_ERR_AUTH, "oauth: %s: %s", host, words);
		} else if (r.status < 200 || r.status > 299) {
			e = ims_error_set(&c->err, IMS_ERR_PROTOCOL,
			                  "oauth: the %s at %s answered HTTP %ld with a token",
			                  what, host, r.status);
		}
	}
	ims_http_reply_release(&r);
	if (e != IMS_OK && e != IMS_ERR_AUTH)
		ims_oauth_token_release(t);
	return e;
}

/* The form's common tail: client_id and, when there is one, the secret. */
static ims_err form_client(struct cli *c, const struct oconf *oc, struct ims_buf *form)
{
	char secret[1024];
	ims_err e = client_secret(c, oc, secret, sizeof(secret));

	if (e != IMS_OK)
		return e;
	if (ims_http_form_add(form, "client_id", oc->client_id) != IMS_OK ||
	    (secret[0] != '\0' && ims_http_form_add(form, "client_secret", secret) != IMS_OK))
		e = ims_error_nomem(&c->err);
	ims_wipe(secret, sizeof(secret));
	return e;
}

void cmd_oauth_form_wipe(struct ims_buf *form)
{
	if (form->data != NULL)
		ims_wipe(form->data, form->cap);
	ims_buf_release(form);
}

/* ---- the saved tokens ------------------------------------------------------------- */

/* "oauth-NAME.json", the name's bytes outside [A-Za-z0-9@+_-] and a
 * leading dot written %XX. */
static void token_file_name(const char *account, char *out, size_t n)
{
	size_t o = 0;
	const char *p;

	o = (size_t)snprintf(out, n, "oauth-");
	for (p = account; *p != '\0' && o + 8 < n; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '@' || ch == '+' || ch == '_' || ch == '-' ||
		    (ch == '.' && p != account))
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", ch);
	}
	snprintf(out + o, n - o, ".json");
}

/* The state folder, opened (made 0700 when missing), and the file's name
 * and path for words. */
int cmd_oauth_state_dir(struct cli *c, const struct oconf *oc, int create, char *name, size_t nn,
                        char *path, size_t pn)
{
	char dir[1100];
	char *slash;
	int fd;

	token_file_name(oc->account, name, nn);
	if (cfg_user_path("STATE", name, create, path, pn, &c->err) != IMS_OK)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	if (!create && access(dir, F_OK) != 0 && errno == ENOENT)
		return -2; /* never logged in: not an error */
	fd = ims_fs_dir_open(dir, create, &c->err);
	return fd;
}

/* Run the token-store-command with IMAPSH_TOKEN_OP=op: in (a token) on
 * its standard input, or its first output line into out[0..n). */
ims_err cmd_oauth_store_command(struct cli *c, const struct oconf *oc, const char *op,
                                const char *in, char *out, size_t n)
{
	char opv[32], acct[128];
	const char *env[] = {opv, acct, NULL};
	int inp[2] = {-1, -1}, outp[2] = {-1, -1}, status;
	pid_t pid;
	size_t len = 0;
	ims_err e;

	snprintf(opv, sizeof(opv), "IMAPSH_TOKEN_OP=%s", op);
	snprintf(acct, sizeof(acct), "IMAPSH_ACCOUNT=%s", oc->account);
	if (pipe(inp) != 0 || pipe(outp) != 0) {
		if (inp[0] >= 0) {
			close(inp[0]);
			close(inp[1]);
		}
		return ims_error_set(&c->err, IMS_ERR_IO, "token-store-command: pipe: %s",
		                     strerror(errno));
	}
	(void)fcntl(inp[1], F_SETFD, FD_CLOEXEC);
	(void)fcntl(outp[0], F_SETFD, FD_CLOEXEC);
	e = child_start("token-store-command", oc->store_command, env, inp[0], outp[1], &pid,
	                &c->err);
	close(inp[0]);
	close(outp[1]);
	if (e != IMS_OK) {
		close(inp[1]);
		close(outp[0]);
		return e;
	}
	if (in != NULL) {
		(void)ims_fs_write_all(inp[1], in, strlen(in), NULL);
		(void)ims_fs_write_all(inp[1], "\n", 1, NULL);
	}
	close(inp[1]);
	for (;;) {
		char buf[512];
		ssize_t r = read(outp[0], buf, sizeof(buf));
		ssize_t i;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < r && out != NULL; i++)
			if (len + 1 < n)
				out[len++] = buf[i];
		ims_wipe(buf, sizeof(buf));
	}
	close(outp[0]);
	status = child_wait(pid);
	if (out != NULL) {
		out[len] = '\0';
		out[strcspn(out, "\r\n")] = '\0';
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (out != NULL)
			ims_wipe(out, n);
		return ims_error_set(&c->err, IMS_ERR_AUTH,
		                     "token-store-command (IMAPSH_TOKEN_OP=%s) failed (exit status "
		                     "%d)",
		                     op, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	return IMS_OK;
}

/* Read the saved tokens; *found_r 0 when there is no file. */
ims_err cmd_oauth_saved_load(struct cli *c, const struct oconf *oc, struct ims_oauth_saved *s,
                             int *found_r)
{
	char name[300], path[1100];
	struct ims_buf b;
	int dfd = cmd_oauth_state_dir(c, oc, 0, name, sizeof(name), path, sizeof(path));
	ims_err e;

	*found_r = 0;
	if (dfd == -2)
		return IMS_OK;
	if (dfd < 0)
		return c->err.code;
	ims_buf_init(&b, IMS_CAP_OAUTH_SAVED);
	e = ims_fs_read_all(dfd, name, IMS_CAP_OAUTH_SAVED, &b, found_r, &c->err);
	close(dfd);
	if (e == IMS_OK && *found_r)
		e = ims_oauth_saved_parse(b.data != NULL ? b.data : "", b.len, s, &c->err);
	if (e != IMS_OK)
		ims_error_prefix(&c->err, "oauth: %s", path);
	if (b.data != NULL)
		ims_wipe(b.data, b.cap);
	ims_buf_release(&b);
	if (e == IMS_OK && *found_r && oc->store_command != NULL) {
		char *rt = calloc(1, IMS_OAUTH_TOKEN_MAX + 2);

		if (rt == NULL)
			return ims_error_nomem(&c->err);
		e = cmd_oauth_store_command(c, oc, "load", NULL, rt, IMS_OAUTH_TOKEN_MAX + 2);
		if (e == IMS_OK && rt[0] != '\0') {
			free(s->refresh_token);
			s->refresh_token = strdup(rt);
			if (s->refresh_token == NULL)
				e = ims_error_nomem(&c->err);
		}
		ims_wipe(rt, IMS_OAUTH_TOKEN_MAX + 2);
		free(rt);
	}
	return e;
}

/* Write s (its refresh token to the store command when there is one). */
static ims_err saved_store(struct cli *c, const struct oconf *oc, struct ims_oauth_saved *s,
                           int refresh_changed)
{
	char name[300], path[1100];
	struct ims_buf b;
	char *rt = NULL, *at = NULL;
	int dfd;
	ims_err e = IMS_OK;

	if (oc->store_command != NULL) {
		if (refresh_changed && s->refresh_token != NULL)
			e = cmd_oauth_store_command(c, oc, "store", s->refresh_token, NULL, 0);
		if (e != IMS_OK)
			return e;
		/* The file keeps no token: the store command has the one that
		 * lasts, the access token lives only in this process. */
		rt = s->refresh_token, at = s->access_token;
		s->refresh_token = s->access_token = NULL;
	}
	dfd = cmd_oauth_state_dir(c, oc, 1, name, sizeof(name), path, sizeof(path));
	if (dfd < 0) {
		e = c->err.code;
	} else {
		ims_buf_init(&b, 0);
		e = ims_oauth_saved_dump(s, &b);
		if (e != IMS_OK)
			e = ims_error_nomem(&c->err);
		else
			e = ims_fs_write_file(dfd, name, b.data, b.len, IMS_FS_SYNC, &c->err);
		if (b.data != NULL)
			ims_wipe(b.data, b.cap);
		ims_buf_release(&b);
		close(dfd);
		if (e != IMS_OK)
			ims_error_prefix(&c->err, "oauth: %s", path);
	}
	if (oc->store_command != NULL) {
		s->refresh_token = rt;
		s->access_token = at;
	}
	return e;
}

/* Keep what the token endpoint gave; a refresh answer may leave the old
 * refresh token in place (most do). */
static ims_err keep_tokens(struct cli *c, const struct oconf *oc, struct ims_oauth_saved *s,
                           struct ims_oauth_token *t, int login)
{
	int changed = login;
	time_t now = time(NULL);

	free(s->access_token);
	s->access_token = t->access_token;
	t->access_token = NULL;
	if (t->refresh_token != NULL) {
		changed = 1;
		if (s->refresh_token != NULL) {
			ims_wipe(s->refresh_token, strlen(s->refresh_token));
			free(s->refresh_token);
		}
		s->refresh_token = t->refresh_token;
		t->refresh_token = NULL;
	}
	s->expires_at = t->expires_in >= 0 ? (long long)now + t->expires_in : 0;
	if (login)
		s->obtained_at = (long long)now;
	if (t->scope[0] != '\0' || login)
		snprintf(s->scope, sizeof(s->scope), "%s",
		         t->scope[0] != '\0' ? t->scope : (oc->scope != NULL ? oc->scope : ""));
	snprintf(s->token_url, sizeof(s->token_url), "%s", oc->token_url);
	return saved_store(c, oc, s, changed);
}

/* ---- the access token for a login ---------------------------------------------- */

ims_err cli_oauth_access_token(struct cli *c, int refresh, char *out, size_t n)
{
	struct oconf oc;
	struct ims_oauth_saved s;
	struct ims_oauth_token t;
	struct ims_buf form;
	int found;
	ims_err e;

	if (cmd_oauth_conf(c, c->acct, 0, &oc) != IMS_OK)
		return c->err.code;
	ims_oauth_saved_init(&s);
	e = cmd_oauth_saved_load(c, &oc, &s, &found);
	if (e != IMS_OK)
		goto out;
	if (!refresh && s.access_token != NULL && s.expires_at > (long long)time(NULL) + 60) {
		if (strlen(s.access_token) >= n)
			e = ims_error_set(&c->err, IMS_ERR_LIMIT,
			                  "oauth: the access token is "
			                  "too long");
		else
			memcpy(out, s.access_token, strlen(s.access_token) + 1);
		goto out;
	}
	if (s.refresh_token == NULL) {
		e = ims_error_set(&c->err, IMS_ERR_AUTH,
		                  "oauth: account %s has %s; run 'imapsh oauth login %s'",
		                  oc.account,
		                  found ? "no refresh token (its login has expired)"
		                        : "not logged in with OAuth yet",
		                  oc.account);
		goto out;
	}
	ims_buf_init(&form, 0);
	ims_oauth_token_init(&t);
	if (ims_http_form_add(&form, "grant_type", "refresh_token") != IMS_OK ||
	    ims_http_form_add(&form, "refresh_token", s.refresh_token) != IMS_OK)
		e = ims_error_nomem(&c->err);
	else
		e = form_client(c, &oc, &form);
	if (e == IMS_OK)
		e = token_post(c, &oc, oc.token_url, "token endpoint", &form, &t);
	cmd_oauth_form_wipe(&form);
	if (e == IMS_OK)
		e = keep_tokens(c, &oc, &s, &t, 0);
	ims_oauth_token_release(&t);
	if (e == IMS_OK) {
		if (strlen(s.access_token) >= n)
			e = ims_error_set(&c->err, IMS_ERR_LIMIT,
			                  "oauth: the access token is "
			                  "too long");
		else
			memcpy(out, s.access_token, strlen(s.access_token) + 1);
	} else if (e == IMS_ERR_AUTH && strstr(c->err.msg, "imapsh oauth login") == NULL &&
	           strlen(c->err.msg) + 64 < sizeof(c->err.msg)) {
		strcat(c->err.msg, "; run 'imapsh oauth login' if it persists");
	}
out:
	ims_oauth_saved_release(&s);
	return e;
}

static void open_browser(const char *url, pid_t *pid_r)
{
	char env[4200];
	const char *extra[] = {env, NULL};
	struct ims_error err;
	int null_fd;

	*pid_r = -1;
	if ((getenv("DISPLAY") == NULL || getenv("DISPLAY")[0] == '\0') &&
	    (getenv("WAYLAND_DISPLAY") == NULL || getenv("WAYLAND_DISPLAY")[0] == '\0'))
		return;
	if ((size_t)snprintf(env, sizeof(env), "IMAPSH_OAUTH_URL=%s", url) >= sizeof(env))
		return;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ims_error_init(&err);
	if (child_start("xdg-open", "exec xdg-open \"$IMAPSH_OAUTH_URL\" 2>/dev/null", extra,
	                null_fd, null_fd, pid_r, &err) != IMS_OK)
		*pid_r = -1;
	if (null_fd >= 0)
		close(null_fd);
}

static ims_err login_browser(struct cli *c, const struct oconf *oc, unsigned flags,
                             struct ims_oauth_token *t)
{
	char verifier[IMS_OAUTH_B64_43], challenge[IMS_OAUTH_B64_43], state[IMS_OAUTH_STATE_LEN];
	char redirect[128], code[4096];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct ims_oauth_authz az;
	struct ims_buf url, form;
	unsigned port;
	pid_t browser = -1;
	int lfd;
	ims_err e;

	if (ims_oauth_pkce_new(verifier, challenge) != IMS_OK ||
	    ims_oauth_state_new(state) != IMS_OK)
		return ims_error_set(&c->err, IMS_ERR_IO, "oauth: no random bytes for PKCE");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		e = ims_error_set(&c->err, IMS_ERR_IO, "oauth: cannot listen on 127.0.0.1: %s",
		                  strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return e;
	}
	port = ntohs(sa.sin_port);
	snprintf(redirect, sizeof(redirect), "http://%s:%u/", oc->redirect_host, port);
	memset(&az, 0, sizeof(az));
	az.authorize_url = oc->authorize_url;
	az.client_id = oc->client_id;
	az.redirect_uri = redirect;
	az.scope = oc->scope;
	az.state = state;
	az.challenge = challenge;
	az.login_hint = oc->user;
	ims_buf_init(&url, 0);
	e = ims_oauth_authorize_url(&az, &url, &c->err);
	if (e != IMS_OK) {
		ims_error_prefix(&c->err, "oauth: account %s", oc->account);
		close(lfd);
		ims_buf_release(&url);
		return e;
	}
	cli_warn("oauth: open this URL in a browser and allow access for account %s (waiting "
	         "for the redirect to %s):",
	         oc->account, redirect);
	fprintf(stdout, "%s\n", url.data);
	fflush(stdout);
	if (!(flags & CLI_OAUTH_NO_BROWSER))
		open_browser(url.data, &browser);
	ims_buf_release(&url);
	e = cmd_oauth_wait_redirect(c, lfd, port, state, code, sizeof(code));
	close(lfd);
	if (browser > 0)
		(void)waitpid(browser, NULL, WNOHANG);
	if (e != IMS_OK)
		return e;
	ims_buf_init(&form, 0);
	if (ims_http_form_add(&form, "grant_type", "authorization_code") != IMS_OK ||
	    ims_http_form_add(&form, "code", code) != IMS_OK ||
	    ims_http_form_add(&form, "redirect_uri", redirect) != IMS_OK ||
	    ims_http_form_add(&form, "code_verifier", verifier) != IMS_OK)
		e = ims_error_nomem(&c->err);
	else
		e = form_client(c, oc, &form);
	ims_wipe(code, sizeof(code));
	ims_wipe(verifier, sizeof(verifier));
	if (e == IMS_OK)
		e = token_post(c, oc, oc->token_url, "token endpoint", &form, t);
	cmd_oauth_form_wipe(&form);
	return e;
}

/* Sleep s seconds, or less when interrupted (then IMS_ERR_CANCELLED). */
static ims_err nap(struct cli *c, long long s)
{
	long long end = cmd_oauth_now_ms() + s * 1000;

	while (cmd_oauth_now_ms() < end) {
		long long left = end - cmd_oauth_now_ms();

		if (cli_interrupted)
			return ims_error_set(&c->err, IMS_ERR_CANCELLED, "oauth: interrupted");
		(void)poll(NULL, 0, left > 500 ? 500 : (int)left);
	}
	return IMS_OK;
}

static ims_err login_device(struct cli *c, const struct oconf *oc, struct ims_oauth_token *t)
{
	struct ims_oauth_device d;
	struct http_ctx h;
	struct ims_http_reply r;
	struct ims_buf form;
	char host[256];
	long long interval, end;
	ims_err e;

	if (oc->device_url == NULL)
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "oauth: account %s has no oauth-device-url for --device; set it, "
		    "or log in without --device",
		    oc->account);
	cmd_oauth_http(c, &h);
	ims_http_url_host(oc->device_url, host, sizeof(host));
	ims_buf_init(&form, 0);
	e = form_client(c, oc, &form);
	if (e == IMS_OK && oc->scope != NULL &&
	    ims_http_form_add(&form, "scope", oc->scope) != IMS_OK)
		e = ims_error_nomem(&c->err);
	ims_http_reply_init(&r);
	ims_oauth_device_init(&d);
	if (e == IMS_OK)
		e = ims_http_post_form(oc->device_url, form.data, &h.o, &r, &c->err);
	cmd_oauth_form_wipe(&form);
	if (e == IMS_ERR_LIMIT)
		e = ims_error_set(
		    &c->err, IMS_ERR_LIMIT,
		    "oauth: the device endpoint at %s answered with more than %u KiB; "
		    "check oauth-device-url",
		    host, IMS_CAP_OAUTH_BODY / 1024);
	else if (e != IMS_OK)
		ims_error_prefix(&c->err, "oauth: the device endpoint");
	else if ((e = ims_oauth_device_parse(r.body.data != NULL ? r.body.data : "", r.body.len, &d,
	                                     &c->err)) != IMS_OK)
		ims_error_prefix(&c->err, "oauth: %s (HTTP %ld)", host, r.status);
	ims_http_reply_release(&r);
	if (e != IMS_OK) {
		ims_oauth_device_release(&d);
		return e;
	}
	cli_warn("oauth: on any device, open this URL and enter the code below to allow access "
	         "for account %s:",
	         oc->account);
	printf("%s\n%s\n", d.verification_uri, d.user_code);
	fflush(stdout);
	interval = d.interval;
	end = cmd_oauth_now_ms() + d.expires_in * 1000;
	for (;;) {
		if (cmd_oauth_now_ms() + interval * 1000 > end) {
			e = ims_error_set(
			    &c->err, IMS_ERR_AUTH,
			    "oauth: the device code expired after %lld s before the "
			    "sign-in was completed; run 'imapsh oauth login --device' "
			    "again",
			    d.expires_in);
			break;
		}
		if ((e = nap(c, interval)) != IMS_OK)
			break;
		ims_buf_init(&form, 0);
		if (ims_http_form_add(&form, "grant_type",
		                      "urn:ietf:params:oauth:grant-type:device_code") != IMS_OK ||
		    ims_http_form_add(&form, "device_code", d.device_code) != IMS_OK)
			e = ims_error_nomem(&c->err);
		else
			e = form_client(c, oc, &form);
		if (e == IMS_OK)
			e = token_post(c, oc, oc->token_url, "token endpoint", &form, t);
		cmd_oauth_form_wipe(&form);
		if (e == IMS_ERR_AUTH && strcmp(t->error, "authorization_pending") == 0) {
			ims_oauth_token_release(t);
			continue;
		}
		if (e == IMS_ERR_AUTH && strcmp(t->error, "slow_down") == 0) {
			interval += 5; /* RFC 8628 3.5 */
			ims_oauth_token_release(t);
			continue;
		}
		break;
	}
	ims_oauth_device_release(&d);
	return e;
}

ims_err cli_oauth_login_account(struct cli *c, const char *account, unsigned flags)
{
	const struct cfg_account *a = cmd_oauth_account(c, account);
	struct oconf oc;
	struct ims_oauth_token t;
	struct ims_oauth_saved s;
	ims_err e;

	if (a == NULL && account != NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "oauth: no [account %s] in the config file%s%s", account,
		                     c->cfg.path[0] != '\0' ? " " : "", c->cfg.path);
	if (cmd_oauth_conf(c, a, !(flags & CLI_OAUTH_DEVICE), &oc) != IMS_OK)
		return c->err.code;
	ims_oauth_token_init(&t);
	e = (flags & CLI_OAUTH_DEVICE) ? login_device(c, &oc, &t)
	                               : login_browser(c, &oc, flags, &t);
	if (e == IMS_OK && t.refresh_token == NULL)
		cli_warn("oauth: the server gave no refresh token (for Microsoft, the scope needs "
		         "offline_access): you will have to log in again when the access token "
		         "expires");
	if (e == IMS_OK) {
		ims_oauth_saved_init(&s);
		e = keep_tokens(c, &oc, &s, &t, 1);
		ims_oauth_saved_release(&s);
	}
	ims_oauth_token_release(&t);
	if (e == IMS_OK && !c->o.quiet)
		cli_warn("oauth: account %s is logged in; imapsh refreshes its access token as "
		         "needed",
		         oc.account);
	return e;
}
