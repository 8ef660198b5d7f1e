/* The session glue: which server, connecting (with trust on first use in
 * the shell), logging in with the password sources the man page lists under SECURITY, selecting
 * folders; and what a command says it needs (cli_ready). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/cmd/oauth.h"
#include "cli/output.h"
#include "cli/trust.h"
#include "imapsh/compress.h"
#include "imapsh/dns.h"
#include "imapsh/stream.h"
#include "imapsh/caps.h"
#include "imapsh/sanitize.h"
#include "imapsh/knownhosts.h"
#include "imapsh/session.h"
#include "imapsh/url.h"
#include "imapsh/utf7.h"

/* ---- which server ---------------------------------------------------- */

/* Who keeps a session between commands (--share's master, share.c), or
 * NULL: set from above, so that conn.c never calls up into share.c. */
static const struct cli_conn_keeper *keeper;

void cli_conn_set_keeper(const struct cli_conn_keeper *k)
{
	keeper = k;
}

static const char *pick(const char *opt, const char *acct_v, const char *def_v)
{
	if (opt != NULL)
		return opt;
	if (acct_v != NULL && acct_v[0] != '\0')
		return acct_v;
	if (def_v != NULL && def_v[0] != '\0')
		return def_v;
	return NULL;
}

static void apply_account(struct cli *c, const struct cfg_account *a)
{
	const struct cfg_account *d = &c->cfg.defaults;
	struct cli_opts *o = &c->o;

	c->acct = a;
	if (!c->t.set) {
		const char *host = a->host[0] != '\0' ? a->host : d->host;

		snprintf(c->t.host, sizeof(c->t.host), "%s", host);
		c->t.port = a->port != 0 ? a->port : d->port;
		c->t.mode =
		    (a->tls_set ? a->starttls : d->starttls) ? IMS_TLS_STARTTLS : IMS_TLS_IMPLICIT;
		c->t.set = c->t.host[0] != '\0';
	}
	if (c->t.user[0] == '\0' && o->user == NULL) {
		const char *u = pick(NULL, a->user, d->user);

		if (u != NULL)
			snprintf(c->t.user, sizeof(c->t.user), "%s", u);
	}
	o->ca_file = pick(o->ca_file, a->ca_file, d->ca_file);
	o->auth = pick(o->auth, a->auth, d->auth);
	o->password_command = pick(o->password_command, a->password_command, d->password_command);
	o->oauth_token_command =
	    pick(o->oauth_token_command, a->oauth_token_command, d->oauth_token_command);
	o->folder = pick(o->folder, a->folder, d->folder);
	if (o->compress == 0)
		o->compress = a->compress != 0 ? a->compress : d->compress;
	if (o->n_pins < CLI_MAX_PINS) {
		const char *pin = pick(NULL, a->pin, d->pin);

		if (pin != NULL)
			o->pins[o->n_pins++] = pin;
	}
}

ims_err cli_setup_target(struct cli *c, const char *word)
{
	const struct cfg_account *a = NULL;

	if (word != NULL && (a = cfg_find(&c->cfg, word)) == NULL) {
		if (cli_parse_target(word, &c->t, &c->err) != IMS_OK)
			return c->err.code;
	}
	if (a == NULL && c->o.account != NULL) {
		a = cfg_find(&c->cfg, c->o.account);
		if (a == NULL)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "no account '%s' in %s",
			                     c->o.account,
			                     c->cfg.path[0] ? c->cfg.path : "the config file");
	}
	if (a == NULL && !c->t.set && c->cfg.default_account[0] != '\0') {
		a = cfg_find(&c->cfg, c->cfg.default_account);
		if (a == NULL)
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "%s: default account '%s' is not defined", c->cfg.path,
			                     c->cfg.default_account);
	}
	if (a != NULL)
		apply_account(c, a);
	if (c->o.folder == NULL && c->t.mailbox[0] != '\0')
		c->o.folder = c->t.mailbox;
	return IMS_OK;
}

/* ---- connecting ------------------------------------------------------- */

static void show_line(const char *prefix, const char *line, size_t len)
{
	struct ims_buf b;
	struct ims_error e;

	ims_buf_init(&b, 0);
	if (ims_sanitize(line, len, IMS_SANITIZE_LINE, &b, &e) == IMS_OK && b.data != NULL)
		fprintf(stderr, "%s%s\n", prefix, b.data);
	ims_buf_release(&b);
}

static void on_trace(void *ctx, enum ims_trace_dir dir, const char *line, size_t len)
{
	(void)ctx;
	show_line(dir == IMS_TRACE_SEND ? "C: " : dir == IMS_TRACE_RECV ? "S: " : "-- ", line, len);
}

static void on_alert(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	show_line("imapsh: server alert: ", text, len);
}

static void on_warning(void *ctx, const char *text)
{
	(void)ctx;
	cli_warn("warning: %s", text);
}

/* COMPRESS=DEFLATE once authenticated: yes or fail, no (the default)
 * never, auto later, where a bulk transfer measures that it pays.  With
 * yes a session that cannot compress is closed, so no later command runs
 * without.  Off by default: it mixes mail an attacker can send with the
 * user's other mail in one compressed stream, and on a fast link the
 * server's deflate costs more time than the bytes it saves (the bench:
 * export 4.1 s compressed, 2.5 s not, on loopback). */
static ims_err start_compression(struct cli *c)
{
	int mode = c->o.compress != 0 ? c->o.compress : CFG_COMPRESS_NO;
	struct ims_error why;
	ims_err e;

	c->zauto_done = 0;
	/* auto decides in a bulk transfer, from the rate it measures
	 * (compress_auto.c); a small command spends no round trip on COMPRESS. */
	if (mode == CFG_COMPRESS_NO || mode == CFG_COMPRESS_AUTO || ims_session_compressed(c->sess))
		return IMS_OK;
	if (!ims_session_has_cap(c->sess, "COMPRESS=DEFLATE")) {
		cli_close(c);
		return ims_error_set(&c->err, IMS_ERR_NO,
		                     "--compress yes: the server does not offer COMPRESS=DEFLATE");
	}
	e = ims_session_compress(c->sess, &why);
	if (e == IMS_OK) {
		if (c->o.verbose)
			fprintf(stderr, "imapsh: compression: deflate on\n");
		return IMS_OK;
	}
	ims_error_copy(&c->err, &why);
	ims_error_prefix(&c->err, "--compress yes");
	cli_close(c);
	return e;
}

static ims_err connect_session(struct cli *c)
{
	struct ims_connect_params p;
	struct ims_connect_result *r;
	struct ims_stream *s = NULL;
	struct ims_session_opts so;
	ims_err e;
	int tries;

	if (!c->t.set)
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "no server: give a TARGET, -a ACCOUNT, or a default account in "
		    "the config file");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ims_error_nomem(&c->err);
	for (tries = 0;; tries++) {
		if (cli_connect_params(c, &c->t, &p) != IMS_OK) {
			free(r);
			return c->err.code;
		}
		if (c->o.insecure)
			cli_warn(
			    "warning: --insecure: the certificate of %s is not verified; anyone on "
			    "the path can read and change this connection",
			    c->t.host);
		e = ims_connect(&p, &s, r, &c->err);
		if (e == IMS_ERR_TLS && tries == 0 && c->interactive &&
		    (r->tls.verify_class == IMS_VERIFY_UNTRUSTED ||
		     r->tls.verify_class == IMS_VERIFY_SELF_SIGNED ||
		     r->tls.verify_class == IMS_VERIFY_MISSING_INTERMEDIATE)) {
			struct ims_error saved;

			ims_error_copy(&saved, &c->err);
			if (cli_offer_trust(c, c->t.host, p.port, &r->tls) > 0)
				continue;
			ims_error_copy(&c->err, &saved);
		}
		break;
	}
	if (e == IMS_ERR_TLS)
		cli_tls_next_step(c, c->t.host, p.port, &r->tls);
	if (e != IMS_OK) {
		free(r);
		return e;
	}
	if (c->o.verbose)
		cli_warn("connected to %s (%s), %s %s, certificate %s", c->t.host, r->net.peer,
		         r->tls.version, r->tls.cipher,
		         r->tls.verified ? (r->tls.pinned ? "pinned" : "verified")
		                         : "NOT verified");
	ims_session_opts_init(&so);
	if (c->o.trace)
		so.hooks.trace = on_trace;
	so.hooks.alert = on_alert;
	so.hooks.warning = on_warning;
	so.hooks.ctx = c;
	/* A one-shot's first command follows a SCRAM login in its last flight
	 * (the shell waits: a failure there is shown at once). */
	so.pipeline_login = !c->interactive;
	so.greeting_timeout_ms = p.timeout_ms;
	/* Authentication as a whole: twice --timeout (60 s by default), so a
	 * server dribbling a byte at a time cannot hold a login forever. */
	if (p.timeout_ms > 0)
		so.login_timeout_ms = p.timeout_ms > INT_MAX / 2 ? INT_MAX : 2 * p.timeout_ms;
	c->sess = ims_session_new(s, &so);
	if (c->sess == NULL) {
		free(r);
		return ims_error_nomem(&c->err);
	}
	e = ims_session_start(c->sess, r->greeting_read ? r->greeting : NULL, &c->err);
	free(r);
	if (e != IMS_OK) {
		ims_session_free(&c->sess);
		return e;
	}
	c->connected = 1;
	c->folder_rw = 0;
	if (ims_session_state(c->sess) == IMS_STATE_AUTHENTICATED)
		return start_compression(c); /* PREAUTH */
	return IMS_OK;
}

/* ---- logging in -------------------------------------------------------- */

static ims_err get_password(struct cli *c, const char *user, char *pw, size_t n)
{
	const char *env;
	char netrc_user[256];
	ims_err e;

	if (c->o.password_command != NULL)
		return secret_from_command("--password-command", c->o.password_command, pw, n,
		                           &c->err);
	env = child_env_password(); /* IMAPSH_PASSWORD, taken at start */
	if (env != NULL && env[0] != '\0') {
		if (strlen(env) >= n)
			return ims_error_set(&c->err, IMS_ERR_AUTH, "IMAPSH_PASSWORD is too long");
		memcpy(pw, env, strlen(env) + 1);
		return IMS_OK;
	}
	snprintf(netrc_user, sizeof(netrc_user), "%s", user);
	e = secret_from_netrc(c->o.netrc_file, c->t.host, netrc_user, sizeof(netrc_user), pw, n,
	                      &c->err);
	if (e == IMS_OK)
		return IMS_OK;
	if (e == IMS_ERR_AUTH) /* a netrc that is not private: never skipped */
		return e;
	if (c->o.netrc && c->o.netrc_file != NULL)
		return ims_error_set(&c->err, IMS_ERR_AUTH, "%s", c->err.msg);
	{
		char prompt[600];

		snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", user, c->t.host);
		e = secret_prompt(prompt, pw, n, &c->err);
		if (e != IMS_OK)
			return ims_error_set(
			    &c->err, IMS_ERR_AUTH,
			    "no password: use --password-command, IMAPSH_PASSWORD, "
			    "netrc, or run on a terminal");
	}
	return IMS_OK;
}

ims_err cli_login(struct cli *c, const char *user_arg)
{
	struct ims_auth a;
	char user[256];
	char *secret;
	enum ims_auth_mech mech = IMS_AUTH_AUTO;
	const char *mech_name = c->o.auth != NULL ? c->o.auth : c->t.auth[0] ? c->t.auth : NULL;
	int token = 0, from_netrc = 0;
	int builtin = cli_oauth_wanted(c, mech_name); /* auth = oauth (cli/cmd/oauth.h) */
	ims_err e;

	if (mech_name != NULL && strcasecmp(mech_name, "oauth") == 0)
		mech_name = NULL; /* the token decides: OAUTHBEARER, else XOAUTH2 */
	if (user_arg != NULL)
		snprintf(user, sizeof(user), "%s", user_arg);
	else if (c->o.user != NULL)
		snprintf(user, sizeof(user), "%s", c->o.user);
	else
		snprintf(user, sizeof(user), "%s", c->t.user);
	if (mech_name != NULL && ims_auth_mech_parse(mech_name, &mech) != IMS_OK)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "--auth: unknown mechanism '%s'",
		                     mech_name);
	secret = calloc(1, IMS_CAP_SECRET);
	if (secret == NULL)
		return ims_error_nomem(&c->err);
	/* No user name: a netrc entry for the host gives its login with the
	 * password, as curl takes it. */
	if (user[0] == '\0' && mech != IMS_AUTH_EXTERNAL && c->o.oauth_token_command == NULL &&
	    mech != IMS_AUTH_XOAUTH2 && mech != IMS_AUTH_OAUTHBEARER && !builtin) {
		struct ims_error why;

		e = secret_from_netrc(c->o.netrc_file, c->t.host, user, sizeof(user), secret,
		                      IMS_CAP_SECRET, &why);
		if (e == IMS_OK && user[0] != '\0') {
			from_netrc = 1;
		} else {
			ims_wipe(secret, IMS_CAP_SECRET);
			free(secret);
			if (e == IMS_ERR_AUTH || e == IMS_ERR_USAGE) /* a netrc to fix */
				return ims_error_copy(&c->err, &why);
			return ims_error_set(
			    &c->err, IMS_ERR_USAGE,
			    "no user name: use -u USER, USER@HOST, 'login USER', or "
			    "a netrc entry with a login");
		}
	}
	ims_auth_init(&a);
	a.mech = mech;
	a.user = user;
	a.host = c->t.host;
	a.port = c->t.port;
	if (builtin) {
		e = cli_oauth_access_token(c, 0, secret, IMS_CAP_SECRET);
		a.token = secret;
		token = 1;
	} else if (mech == IMS_AUTH_XOAUTH2 || mech == IMS_AUTH_OAUTHBEARER ||
	           (mech == IMS_AUTH_AUTO && c->o.oauth_token_command != NULL)) {
		if (c->o.oauth_token_command == NULL) {
			free(secret);
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "--auth %s needs --oauth-token-command", mech_name);
		}
		e = secret_from_command("--oauth-token-command", c->o.oauth_token_command, secret,
		                        IMS_CAP_SECRET, &c->err);
		a.token = secret;
		token = 1;
	} else if (mech == IMS_AUTH_EXTERNAL) {
		e = IMS_OK;
	} else {
		e = from_netrc ? IMS_OK : get_password(c, user, secret, IMS_CAP_SECRET);
		a.password = secret;
	}
	if (e == IMS_OK) {
		e = ims_session_login(c->sess, &a, &c->err);
		if (e == IMS_ERR_AUTH && builtin &&
		    ims_session_last_code(c->sess) == IMS_CODE_AUTHENTICATIONFAILED) {
			/* Refused before its time: refresh once, then give up. */
			ims_wipe(secret, IMS_CAP_SECRET);
			e = cli_oauth_access_token(c, 1, secret, IMS_CAP_SECRET);
			if (e == IMS_OK)
				e = ims_session_login(c->sess, &a, &c->err);
			if (e == IMS_ERR_AUTH && strstr(c->err.msg, "oauth login") == NULL)
				ims_error_prefix(&c->err,
				                 "a freshly refreshed access token was refused too "
				                 "(run 'imapsh oauth login' to log in again)");
		} else if (e == IMS_ERR_AUTH && token &&
		           ims_session_last_code(c->sess) == IMS_CODE_AUTHENTICATIONFAILED) {
			/* The token may have expired: ask for a fresh one once. */
			ims_wipe(secret, IMS_CAP_SECRET);
			e = secret_from_command("--oauth-token-command", c->o.oauth_token_command,
			                        secret, IMS_CAP_SECRET, &c->err);
			if (e == IMS_OK)
				e = ims_session_login(c->sess, &a, &c->err);
			if (e == IMS_ERR_AUTH)
				ims_error_prefix(&c->err,
				                 "a fresh token from --oauth-token-command was "
				                 "refused too");
		}
	}
	ims_wipe(secret, IMS_CAP_SECRET);
	free(secret);
	if (e == IMS_OK && c->t.user[0] == '\0')
		snprintf(c->t.user, sizeof(c->t.user), "%s", user);
	if (e == IMS_OK)
		e = start_compression(c);
	return e;
}

/* ---- folders ----------------------------------------------------------- */

const char *const cli_folder_roles[] = {"all",   "archive", "drafts", "flagged", "important",
                                        "inbox", "junk",    "sent",   "trash",   NULL};

/* ":sent" -> the wire name of the folder with the \Sent role (RFC 6154),
 * asked of the server with LIST (SPECIAL-USE); ":inbox" is INBOX.
 * IMS_ERR_NO with words when no folder has that role. */
static ims_err role_folder(struct cli *c, const char *role, struct ims_buf *out)
{
	struct ims_list_result res;
	ims_err e;
	size_t i;

	if (strcasecmp(role, "inbox") == 0)
		return ims_buf_puts(out, "INBOX") == IMS_OK ? IMS_OK : ims_error_nomem(&c->err);
	if (c->sess == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "':%s' needs a connection", role);
	ims_list_result_init(&res);
	e = ims_session_list(c->sess, "", "*", IMS_LISTF_SPECIAL_USE, &res, &c->err);
	if (e == IMS_OK) {
		e = IMS_ERR_NO;
		for (i = 0; i < res.n && e == IMS_ERR_NO; i++) {
			const char *su = res.v[i].special_use;

			if (su != NULL && su[0] == '\\' && strcasecmp(su + 1, role) == 0)
				e = ims_buf_append(out, res.v[i].name, res.v[i].name_len) == IMS_OK
				        ? IMS_OK
				        : ims_error_nomem(&c->err);
		}
		if (e == IMS_ERR_NO)
			ims_error_set(&c->err, IMS_ERR_NO,
			              "no folder on this server has the \\%c%s role for ':%s' "
			              "('folders' shows each folder's role)",
			              role[0] - 'a' + 'A', role + 1, role);
	}
	ims_list_result_release(&res);
	return e;
}

/* Printable ASCII without '&' is the same in modified UTF-7 and UTF-8:
 * its encoding does not wait for ENABLE's answer. */
static int plain_name(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '&')
			return 0;
	return 1;
}

ims_err cli_mbox_encode(struct cli *c, const char *utf8, struct ims_buf *out)
{
	struct ims_error e;
	size_t i;

	/* ":sent", ":drafts"...: the folder with that special-use role; "::x"
	 * is a folder whose name is ":x". */
	if (utf8[0] == ':' && utf8[1] == ':') {
		utf8++;
	} else if (utf8[0] == ':') {
		for (i = 0; cli_folder_roles[i] != NULL; i++)
			if (strcasecmp(utf8 + 1, cli_folder_roles[i]) == 0)
				return role_folder(c, cli_folder_roles[i], out);
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "'%s': no such folder role (the roles are :all, :archive, "
		                     ":drafts, :flagged, :important, :inbox, :junk, :sent, :trash; "
		                     "write '::%s' for a folder named '%s')",
		                     utf8, utf8 + 1, utf8);
	}
	if (plain_name(utf8))
		return ims_buf_puts(out, utf8) == IMS_OK
		           ? IMS_OK
		           : ims_error_set(&c->err, IMS_ERR_NOMEM, "out of memory");
	if (c->sess != NULL && ims_session_utf8(c->sess)) {
		/* sent as it is: never bytes that are not UTF-8 */
		if (!ims_utf8_valid(utf8, strlen(utf8))) {
			char safe[512];

			return ims_error_set(&c->err, IMS_ERR_USAGE, "folder name '%s': not UTF-8",
			                     cli_safe(utf8, safe, sizeof(safe)));
		}
		return ims_buf_puts(out, utf8) == IMS_OK ? IMS_OK : ims_error_nomem(&c->err);
	}
	if (ims_utf7_encode(utf8, strlen(utf8), out, &e) != IMS_OK)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "folder name '%s': %s", utf8, e.msg);
	return IMS_OK;
}

ims_err cli_mbox_from_server(struct cli *c, const char *raw, size_t len, struct ims_buf *out)
{
	struct ims_error e;

	if (len == 0 || memchr(raw, '\0', len) != NULL)
		return IMS_ERR_PROTOCOL;
	if (c->sess != NULL && ims_session_utf8(c->sess)) {
		if (!ims_utf8_valid(raw, len))
			return IMS_ERR_PROTOCOL;
		return ims_buf_append(out, raw, len);
	}
	/* strict: a name that decodes is one that encodes back the same */
	switch (ims_utf7_decode(raw, len, out, &e)) {
	case IMS_OK: return IMS_OK;
	case IMS_ERR_USAGE: return IMS_ERR_PROTOCOL;
	default: return IMS_ERR_NOMEM;
	}
}

ims_err cli_mbox_decode(struct cli *c, const char *raw, size_t len, struct ims_buf *out)
{
	struct ims_error e;
	size_t before = out->len;

	if (c->sess != NULL && ims_session_utf8(c->sess))
		return ims_buf_append(out, raw, len);
	if (ims_utf7_decode(raw, len, out, &e) == IMS_OK)
		return IMS_OK;
	/* Not valid modified UTF-7: show the raw bytes (sanitised later). */
	out->len = before;
	return ims_buf_append(out, raw, len);
}

static ims_err select_folder(struct cli *c, const char *folder, int read_write, int ahead)
{
	struct ims_buf wire;
	ims_err e;

	ims_buf_init(&wire, 0);
	e = cli_mbox_encode(c, folder, &wire);
	if (e == IMS_OK && ahead)
		e = ims_session_select_ahead(c->sess, wire.data, wire.len, !read_write, &c->err);
	else if (e == IMS_OK)
		e = ims_session_select(c->sess, wire.data, wire.len, !read_write, &c->err);
	if (e == IMS_OK) {
		struct ims_buf name;

		/* a role (":sent") is shown by the folder's own name */
		ims_buf_init(&name, 0);
		if (folder[0] == ':' && cli_mbox_decode(c, wire.data, wire.len, &name) == IMS_OK &&
		    ims_buf_putc(&name, '\0') == IMS_OK)
			folder = name.data;
		snprintf(c->folder, sizeof(c->folder), "%s", folder);
		ims_buf_release(&name);
		c->folder_rw = read_write;
	} else {
		c->folder[0] = '\0';
		if (e == IMS_ERR_NO)
			ims_error_prefix(&c->err, "select %s", folder);
	}
	ims_buf_release(&wire);
	return e;
}

ims_err cli_select(struct cli *c, const char *folder, int read_write)
{
	return select_folder(c, folder, read_write, 0);
}

ims_err cli_need(struct cli *c, unsigned flags)
{
	ims_err e;

	if ((flags & (CMD_CONNECT | CMD_LOGIN | CMD_FOLDER)) == 0)
		return IMS_OK;
	if (keeper != NULL) /* --share's master: its session */
		keeper->adopt(c, flags);
	if (c->sess != NULL) {
		struct ims_error why;

		if (ims_session_broken(c->sess, &why) != IMS_OK ||
		    ims_session_state(c->sess) == IMS_STATE_LOGOUT) {
			if (c->interactive)
				cli_warn("the connection was lost (%s); connecting again", why.msg);
			ims_session_free(&c->sess);
			c->connected = 0;
		}
	}
	if (c->sess == NULL) {
		char keep[512];

		snprintf(keep, sizeof(keep), "%s", c->folder);
		e = connect_session(c);
		if (e != IMS_OK)
			return e;
		/* After a reconnect the shell returns to the folder it was in. */
		if (keep[0] != '\0' && (flags & (CMD_LOGIN | CMD_FOLDER)) != 0) {
			e = cli_login(c, NULL);
			if (e != IMS_OK)
				return e;
			e = cli_select(c, keep, c->folder_rw);
			if (e != IMS_OK)
				return e;
		}
	}
	if ((flags & (CMD_LOGIN | CMD_FOLDER)) != 0 &&
	    ims_session_state(c->sess) == IMS_STATE_NOT_AUTHENTICATED) {
		e = cli_login(c, NULL);
		if (e != IMS_OK)
			return e;
	}
	if ((flags & CMD_FOLDER) != 0) {
		int rw = (flags & CMD_WRITE) != 0;
		const struct ims_folder *f = ims_session_folder(c->sess);

		if (f == NULL || c->folder[0] == '\0' || (rw && !c->folder_rw)) {
			const char *name = c->folder[0] != '\0'  ? c->folder
			                   : c->o.folder != NULL ? c->o.folder
			                                         : "INBOX";
			char tmp[512];

			snprintf(tmp, sizeof(tmp), "%s", name);
			e = select_folder(c, tmp, rw, (flags & CMD_SELECT_AHEAD) != 0);
			if (e != IMS_OK)
				return e;
		}
	}
	return IMS_OK;
}

void cli_close(struct cli *c)
{
	if (keeper != NULL && keeper->hold(c)) /* --share's master keeps it for the next */
		return;
	if (c->sess != NULL) {
		struct ims_stream *s = ims_session_stream(c->sess);
		struct ims_stream *wire = ims_stream_compress_inner(s);
		struct ims_error e;

		/* Every command has completed: a one-shot sends LOGOUT and closes
		 * (nothing can be lost); the shell waits for the server's answer. */
		if (ims_session_broken(c->sess, &e) == IMS_OK &&
		    ims_session_state(c->sess) != IMS_STATE_LOGOUT &&
		    (c->interactive ? ims_session_logout(c->sess, &e)
		                    : ims_session_logout_nowait(c->sess, &e)) != IMS_OK &&
		    c->o.verbose)
			cli_warn("logout: %s", e.msg);
		if (wire != NULL && c->o.verbose)
			fprintf(stderr,
			        "imapsh: compression: received %llu bytes for %llu, sent %llu "
			        "for %llu\n",
			        (unsigned long long)wire->bytes_in, (unsigned long long)s->bytes_in,
			        (unsigned long long)wire->bytes_out,
			        (unsigned long long)s->bytes_out);
		ims_session_free(&c->sess);
	}
	c->connected = 0;
	c->folder[0] = '\0';
}

ims_err cli_ready(struct cli *c)
{
	return cli_need(c, c->ready_flags);
}

ims_err cli_ready_ahead(struct cli *c)
{
	return cli_need(c, c->ready_flags | CMD_SELECT_AHEAD);
}

ims_err cli_parse_target(const char *s, struct cli_target *t, struct ims_error *err)
{
	struct ims_url u;

	memset(t, 0, sizeof(*t));
	ims_url_init(&u);
	if (ims_url_parse(&u, s, err) != IMS_OK)
		return err->code;
	if (u.kind == IMS_TARGET_WORD && u.host == NULL) {
		ims_url_release(&u);
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "'%s' is neither a server nor a configured account", s);
	}
	snprintf(t->host, sizeof(t->host), "%s", u.host);
	t->port = u.port_given ? u.port : 0;
	t->mode = u.starttls ? IMS_TLS_STARTTLS : IMS_TLS_IMPLICIT;
	if (u.user != NULL)
		snprintf(t->user, sizeof(t->user), "%s", u.user);
	if (u.mailbox != NULL)
		snprintf(t->mailbox, sizeof(t->mailbox), "%s", u.mailbox);
	t->uid = u.uid;
	t->uidvalidity = u.uidvalidity;
	if (u.section != NULL)
		snprintf(t->section, sizeof(t->section), "%s", u.section);
	if (u.auth != NULL)
		snprintf(t->auth, sizeof(t->auth), "%s", u.auth);
	t->set = 1;
	ims_url_release(&u);
	return IMS_OK;
}

static void strip_dot(char *h)
{
	size_t n = strlen(h);

	if (n > 0 && h[n - 1] == '.')
		h[n - 1] = '\0';
}

ims_err cli_connect_params(struct cli *c, const struct cli_target *t, struct ims_connect_params *p)
{
	size_t i, k;
	unsigned port;

	memset(p, 0, sizeof(*p));
	p->host = t->host;
	p->mode = c->o.starttls ? IMS_TLS_STARTTLS : t->mode;
	port = c->o.port != 0 ? c->o.port : t->port;
	if (port == 0)
		port = p->mode == IMS_TLS_STARTTLS ? 143 : 993;
	p->port = port;
	/* --resolve HOST:PORT:ADDR[,ADDR...] entries for this host and port. */
	c->n_resolve_addrs = 0;
	for (i = 0; i < c->o.n_resolve; i++) {
		struct ims_resolve r;
		char h1[256], h2[256];

		if (ims_resolve_parse(&r, c->o.resolve[i], &c->err) != IMS_OK)
			return c->err.code;
		snprintf(h1, sizeof(h1), "%s", r.host);
		snprintf(h2, sizeof(h2), "%s", t->host);
		strip_dot(h1);
		strip_dot(h2);
		if ((strcmp(h1, "*") != 0 && strcasecmp(h1, h2) != 0) ||
		    (r.port != 0 && r.port != port))
			continue;
		for (k = 0; k < r.n_addrs && c->n_resolve_addrs < CLI_MAX_RESOLVE_ADDRS; k++) {
			memcpy(c->resolve_store[c->n_resolve_addrs], r.addrs[k],
			       sizeof(r.addrs[k]));
			c->resolve_addrs[c->n_resolve_addrs] = c->resolve_store[c->n_resolve_addrs];
			c->n_resolve_addrs++;
		}
	}
	/* --dns-server: the host's addresses from that server (dns.h), handed
	 * to the transport as --resolve's are; a --resolve entry wins. */
	if (c->n_resolve_addrs == 0 && c->o.dns_server != NULL) {
		struct ims_dns d = {c->o.dns_server,
		                    ims_now_ms() +
		                        (c->o.timeout_s > 0 ? c->o.timeout_s : 30) * 1000};
		size_t n = 0;

		if (ims_dns_addrs(&d, t->host, c->resolve_store, CLI_MAX_RESOLVE_ADDRS, &n,
		                  &c->err) != IMS_OK) {
			char why[sizeof(c->err.msg)];

			if (c->err.code != IMS_ERR_NO)
				return c->err.code;
			/* no address is a network failure here, as getaddrinfo's */
			snprintf(why, sizeof(why), "%s", c->err.msg);
			return ims_error_set(&c->err, IMS_ERR_NET,
			                     "%s (asked %s): check the name, or give --resolve "
			                     "HOST:PORT:ADDR",
			                     why, c->o.dns_server);
		}
		for (k = 0; k < n; k++)
			c->resolve_addrs[k] = c->resolve_store[k];
		c->n_resolve_addrs = n;
	}
	p->resolve_addrs = c->n_resolve_addrs > 0 ? c->resolve_addrs : NULL;
	p->n_resolve = c->n_resolve_addrs;
	p->timeout_ms = (c->o.timeout_s > 0 ? c->o.timeout_s : 30) * 1000;
	p->tls.ca_file = c->o.ca_file;
	p->tls.ca_path = c->o.ca_path;
	/* --pin, then what known_hosts and the shell's "trust once" say for
	 * this host and port: a recorded key that changes is refused. */
	{
		size_t np = 0, nk = 0;

		for (i = 0; i < c->o.n_pins; i++)
			c->conn_pins[np++] = c->o.pins[i];
		if (cli_trust_lookup(t->host, port, c->known_pins, CLI_MAX_KNOWN_PINS, &nk,
		                     c->known_pins_at, sizeof(c->known_pins_at), &c->err) != IMS_OK)
			return c->err.code;
		for (i = 0; i < nk; i++)
			c->conn_pins[np++] = c->known_pins[i];
		if (c->trust_once.pin[0] != '\0' && c->trust_once.port == port &&
		    ims_kh_host_equal(c->trust_once.host, t->host))
			c->conn_pins[np++] = c->trust_once.pin;
		c->conn_pins[np] = NULL;
		p->tls.pins = np > 0 ? c->conn_pins : NULL;
		p->tls.n_pins = np;
	}
	p->tls.insecure_noverify = c->o.insecure;
	p->tls.tls_min = c->o.tls_min;
	p->tls.client_cert = c->o.client_cert;
	p->tls.client_key = c->o.client_key;
	p->tls.timeout_ms = p->timeout_ms;
	return IMS_OK;
}

ims_err cli_target_or_current(struct cli *c, const char *arg, struct cli_target *t)
{
	if (arg != NULL)
		return cli_parse_target(arg, t, &c->err);
	if (!c->t.set)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "no server given (imapsh cert HOST[:PORT])");
	*t = c->t;
	return IMS_OK;
}
