/* oauth status and oauth logout (oauth_int.h). */
#include "cli/cmd/oauth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/output.h"
#include "imapsh/fsafe.h"
#include "imapsh/sanitize.h"

/* ---- status and logout ---------------------------------------------------------- */

ims_err cmd_oauth_status(struct cli *c, const struct cfg_account *a)
{
	struct oconf oc;
	struct ims_oauth_saved s;
	char name[300], path[1100], exp[64], when[64];
	int found, dfd;
	long long now = (long long)time(NULL);
	ims_err e;

	if (cmd_oauth_conf(c, a, 0, &oc) != IMS_OK)
		return c->err.code;
	dfd = cmd_oauth_state_dir(c, &oc, 0, name, sizeof(name), path, sizeof(path));
	if (dfd >= 0)
		close(dfd);
	ims_oauth_saved_init(&s);
	e = cmd_oauth_saved_load(c, &oc, &s, &found);
	if (e != IMS_OK) {
		ims_oauth_saved_release(&s);
		return e;
	}
	if (s.expires_at == 0 || s.access_token == NULL)
		snprintf(exp, sizeof(exp), "%s", oc.store_command != NULL ? "not kept" : "none");
	else
		cli_iso_date(s.expires_at, exp, sizeof(exp));
	if (s.obtained_at != 0)
		cli_iso_date(s.obtained_at, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "never");
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "account", oc.account);
		json_kv_str(&j, "provider", oc.provider);
		json_kv_bool(&j, "logged_in", found && s.refresh_token != NULL);
		json_kv_str(&j, "store", oc.store_command != NULL ? "token-store-command" : path);
		json_kv_bool(&j, "refresh_token", s.refresh_token != NULL);
		if (s.access_token != NULL && s.expires_at != 0) {
			json_kv_int(&j, "access_token_expires", s.expires_at);
			json_kv_bool(&j, "access_token_valid", s.expires_at > now);
		}
		json_kv_str(&j, "scope", s.scope);
		if (s.obtained_at != 0)
			json_kv_int(&j, "obtained", s.obtained_at);
		json_end_object(&j);
		json_finish(&j);
	} else {
		char acc[128];

		tsv_kv(stdout, c->out_tty, "account", oc.account);
		tsv_kv(stdout, c->out_tty, "provider", oc.provider);
		tsv_kv(stdout, c->out_tty, "store",
		       oc.store_command != NULL ? "token-store-command" : path);
		tsv_kv(stdout, c->out_tty, "refresh-token",
		       s.refresh_token != NULL ? "stored" : "none");
		if (s.access_token != NULL && s.expires_at != 0)
			snprintf(acc, sizeof(acc), "%s until %s",
			         s.expires_at > now ? "valid" : "expired", exp);
		else
			snprintf(acc, sizeof(acc), "%s", exp);
		tsv_kv(stdout, c->out_tty, "access-token", acc);
		tsv_kv(stdout, c->out_tty, "scope", s.scope[0] != '\0' ? s.scope : "-");
		tsv_kv(stdout, c->out_tty, "logged-in", when);
	}
	if (!found || s.refresh_token == NULL) {
		ims_oauth_saved_release(&s);
		return ims_error_set(
		    &c->err, IMS_ERR_NO,
		    "oauth: account %s is not logged in; run 'imapsh oauth login %s'", oc.account,
		    oc.account);
	}
	ims_oauth_saved_release(&s);
	return IMS_OK;
}

ims_err cmd_oauth_logout(struct cli *c, const struct cfg_account *a)
{
	struct oconf oc;
	struct ims_oauth_saved s;
	char name[300], path[1100];
	int found, dfd, revoked = 0;
	ims_err e;

	if (cmd_oauth_conf(c, a, 0, &oc) != IMS_OK)
		return c->err.code;
	ims_oauth_saved_init(&s);
	e = cmd_oauth_saved_load(c, &oc, &s, &found);
	if (e != IMS_OK) {
		ims_oauth_saved_release(&s);
		return e;
	}
	/* Revoke first (RFC 7009), where the server offers it: the refresh
	 * token takes its access tokens with it.  A failure is told, and the
	 * local copy is deleted all the same. */
	if (oc.revoke_url != NULL && (s.refresh_token != NULL || s.access_token != NULL)) {
		struct http_ctx h;
		struct ims_http_reply r;
		struct ims_buf form;
		struct ims_error why;
		ims_err re;

		cmd_oauth_http(c, &h);
		ims_buf_init(&form, 0);
		ims_http_reply_init(&r);
		ims_error_init(&why);
		if (ims_http_form_add(&form, "token",
		                      s.refresh_token != NULL ? s.refresh_token : s.access_token) !=
		        IMS_OK ||
		    ims_http_form_add(&form, "token_type_hint",
		                      s.refresh_token != NULL ? "refresh_token" : "access_token") !=
		        IMS_OK ||
		    ims_http_form_add(&form, "client_id", oc.client_id) != IMS_OK)
			re = ims_error_nomem(&why);
		else
			re = ims_http_post_form(oc.revoke_url, form.data, &h.o, &r, &why);
		cmd_oauth_form_wipe(&form);
		if (re == IMS_OK && r.status >= 200 && r.status <= 299)
			revoked = 1;
		else if (re == IMS_OK)
			cli_warn("oauth: the revocation endpoint answered HTTP %ld; the token may "
			         "stay valid at the server until it expires",
			         r.status);
		else
			cli_warn("oauth: revocation failed (%s); the token may stay valid at the "
			         "server until it expires",
			         why.msg);
		ims_http_reply_release(&r);
	}
	ims_oauth_saved_release(&s);
	if (oc.store_command != NULL && found) {
		e = cmd_oauth_store_command(c, &oc, "erase", NULL, NULL, 0);
		if (e != IMS_OK)
			return e;
	}
	dfd = cmd_oauth_state_dir(c, &oc, 0, name, sizeof(name), path, sizeof(path));
	if (dfd == -1)
		return c->err.code;
	if (dfd >= 0) {
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
			e = ims_error_set(&c->err, IMS_ERR_IO, "oauth: %s: %s", path,
			                  strerror(errno));
			close(dfd);
			return e;
		}
		close(dfd);
	}
	if (!c->o.quiet)
		cli_warn("oauth: account %s: %s", oc.account,
		         !found    ? "was not logged in"
		         : revoked ? "logged out; the token was revoked at the server"
		                   : "logged out; the saved tokens are deleted");
	return IMS_OK;
}
