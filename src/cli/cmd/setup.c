/* imapsh setup EMAIL: find the IMAP server of an address, probe it, and
 * write an [account NAME] section to the config file.
 *
 * The sources (discover.h lists them and their order) run at once, each in
 * its own thread, under one deadline; each thread fills only its own
 * struct source and reads the options, so they share nothing that
 * changes.  Their candidates are then merged, probed one by one (TLS
 * verified against the candidate's own host, the greeting, CAPABILITY) and
 * the first usable one is offered.  The guesses (imap.DOMAIN,
 * mail.DOMAIN) are probed only when nothing else was usable. */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cfgedit.h"
#include "cli/cli.h"
#include "cli/cmd/oauth.h"
#include "cli/cmd/setup_sources.h"
#include "cli/output.h"
#include "imapsh/autoconfig.h"
#include "imapsh/caps.h"
#include "imapsh/discover.h"
#include "imapsh/dns.h"
#include "imapsh/fsafe.h"
#include "imapsh/http.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/stream.h"
#include "imapsh/tlsname.h"
#include "imapsh/url.h"

/* ---- probing ----------------------------------------------------------- */

static const char *tls_word(enum ims_disc_tls t)
{
	return t == IMS_DISC_IMPLICIT ? "imaps" : t == IMS_DISC_STARTTLS ? "starttls" : "plain";
}

static void probe(struct cli *c, struct ims_disc_cand *k, int64_t deadline)
{
	struct ims_connect_params p;
	struct ims_connect_result *r;
	struct ims_stream *s = NULL;
	struct ims_session_opts so;
	struct ims_session *sess;
	struct cli_target t;
	struct ims_error e;
	const char *const *caps;
	size_t n, i, o = 0, mechs = 0, oauth = 0;
	unsigned saved_port = c->o.port;
	int saved_starttls = c->o.starttls;
	size_t saved_pins = c->o.n_pins;
	int64_t left = setup_left_ms(deadline);
	char words[300];

	k->probed = 1;
	if (k->tls == IMS_DISC_PLAIN) {
		snprintf(k->result, sizeof(k->result), "not used: plaintext, without TLS");
		return;
	}
	if (left == 0) {
		snprintf(k->result, sizeof(k->result), "not probed: no time left");
		return;
	}
	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "%s", k->host);
	t.port = k->port;
	t.mode = k->tls == IMS_DISC_STARTTLS ? IMS_TLS_STARTTLS : IMS_TLS_IMPLICIT;
	t.set = 1;
	/* the candidate's own port and mode, whatever -p or --starttls say */
	c->o.port = 0;
	c->o.starttls = 0;
	c->o.n_pins = 0; /* another account's pin; known_hosts still speaks for this host */
	ims_error_init(&e);
	if (cli_connect_params(c, &t, &p) != IMS_OK) {
		c->o.port = saved_port;
		c->o.starttls = saved_starttls;
		c->o.n_pins = saved_pins;
		ims_sanitize_fixed(c->err.msg, strlen(c->err.msg), k->result, sizeof(k->result));
		ims_error_init(&c->err);
		return;
	}
	c->o.port = saved_port;
	c->o.starttls = saved_starttls;
	c->o.n_pins = saved_pins;
	if (p.timeout_ms > left)
		p.timeout_ms = (int)left;
	p.tls.timeout_ms = p.timeout_ms;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(k->result, sizeof(k->result), "out of memory");
		return;
	}
	if (ims_connect(&p, &s, r, &e) != IMS_OK) {
		ims_sanitize_fixed(e.msg, strlen(e.msg), k->result, sizeof(k->result));
		free(r);
		return;
	}
	ims_session_opts_init(&so);
	so.greeting_timeout_ms = p.timeout_ms;
	sess = ims_session_new(s, &so);
	if (sess == NULL) {
		free(r);
		snprintf(k->result, sizeof(k->result), "out of memory");
		return;
	}
	if (ims_session_start(sess, r->greeting_read ? r->greeting : NULL, &e) != IMS_OK ||
	    (!ims_session_caps_known(sess) && ims_session_capability(sess, &e) != IMS_OK)) {
		ims_sanitize_fixed(e.msg, strlen(e.msg), k->result, sizeof(k->result));
		ims_session_free(&sess);
		free(r);
		return;
	}
	n = ims_session_caps(sess, &caps);
	for (i = 0; i < n; i++) {
		if (strncasecmp(caps[i], "AUTH=", 5) != 0)
			continue;
		mechs++;
		if (strcasecmp(caps[i] + 5, "XOAUTH2") == 0 ||
		    strcasecmp(caps[i] + 5, "OAUTHBEARER") == 0)
			oauth++;
		if (o + strlen(caps[i]) + 2 < sizeof(k->mechs))
			o += (size_t)snprintf(k->mechs + o, sizeof(k->mechs) - o, "%s%s",
			                      o > 0 ? " " : "", caps[i] + 5);
	}
	ims_sanitize_fixed(k->mechs, strlen(k->mechs), words, sizeof(words));
	snprintf(k->mechs, sizeof(k->mechs), "%s", words);
	k->oauth_only = oauth > 0 && oauth == mechs;
	k->usable = 1;
	snprintf(words, sizeof(words), "ok: %s, certificate verified for %s", r->tls.version,
	         k->host);
	ims_sanitize_fixed(words, strlen(words), k->result, sizeof(k->result));
	if (ims_session_logout_nowait(sess, &e) != IMS_OK)
		ims_error_init(&e);
	ims_session_free(&sess);
	free(r);
}

/* ---- asking ------------------------------------------------------------ */

/* The question on stderr and one line of answer: in the shell through
 * readline, otherwise from standard input.  1 for "yes" (or "y" unless
 * word is set), 0 for anything else or no answer. */
static int ask(struct cli *c, const char *question, int word)
{
	char prompt[1200];
	char *line = NULL, *a;
	size_t cap = 0;
	int yes;

	snprintf(prompt, sizeof(prompt), "%s %s ", question, word ? "[type yes]" : "[y/N]");
	if (c->interactive) {
		line = cli_readline(c, prompt);
	} else {
		fprintf(stderr, "imapsh: %s", prompt);
		fflush(stderr);
		if (getline(&line, &cap, stdin) < 0) {
			free(line);
			line = NULL;
			fputc('\n', stderr);
		}
	}
	if (line == NULL)
		return 0;
	for (a = line; *a == ' ' || *a == '\t'; a++)
		;
	a[strcspn(a, " \t\r\n")] = '\0';
	yes = strcasecmp(a, "yes") == 0 || (!word && strcasecmp(a, "y") == 0);
	free(line);
	return yes;
}

/* ---- writing ----------------------------------------------------------- */

static const char *oauth_provider(const struct ims_ac_oauth2 *o)
{
	if (strcasecmp(o->issuer, "accounts.google.com") == 0)
		return "google";
	if (strcasecmp(o->issuer, "login.microsoftonline.com") == 0)
		return "microsoft";
	return "custom";
}

/* The KEY = VALUE lines of the account. */
static ims_err section_body(struct cli *c, const struct ims_disc *d, const struct ims_disc_cand *k,
                            int oauth, const struct ims_ac_oauth2 *o2, struct ims_buf *b)
{
	const char *user = k->user[0] != '\0' && cfgedit_value_ok(k->user) ? k->user : d->email;
	int bad = 0;

	bad |= ims_buf_printf(b, "host = %s\nport = %u\ntls = %s\nuser = %s\n", k->host, k->port,
	                      tls_word(k->tls), user) != IMS_OK;
	if (oauth) {
		bad |= ims_buf_puts(b, "auth = oauth\n") != IMS_OK;
		if (o2 != NULL && o2->usable) {
			bad |= ims_buf_printf(b, "oauth-provider = %s\n", oauth_provider(o2)) !=
			       IMS_OK;
			if (cfgedit_value_ok(o2->auth_url))
				bad |= ims_buf_printf(b, "oauth-authorize-url = %s\n",
				                      o2->auth_url) != IMS_OK;
			if (cfgedit_value_ok(o2->token_url))
				bad |= ims_buf_printf(b, "oauth-token-url = %s\n", o2->token_url) !=
				       IMS_OK;
			if (o2->scope[0] != '\0' && cfgedit_value_ok(o2->scope))
				bad |= ims_buf_printf(b, "oauth-scope = %s\n", o2->scope) != IMS_OK;
		} else {
			bad |= ims_buf_puts(b, "oauth-provider = custom\n") != IMS_OK;
		}
		bad |= ims_buf_puts(
		           b, "# oauth-client-id = (your client id: see OAUTH in man imapsh)\n") !=
		       IMS_OK;
	}
	(void)c;
	return bad ? IMS_ERR_NOMEM : IMS_OK;
}

/* Write the section into the config file: locked, read, edited as text,
 * replaced whole (fsafe.h), so a reader sees the old file or the new. */
static ims_err write_section(struct cli *c, const char *target, const char *name,
                             const char *comment, const char *body, int replace)
{
	char base[IMS_FS_NAME_MAX];
	struct ims_buf old, out;
	int dfd, lock, found = 0;
	ims_err e;

	dfd = ims_fs_parent_open(target, base, sizeof(base), &c->err);
	if (dfd < 0)
		return ims_error_prefix(&c->err, "setup");
	lock = ims_fs_lock_beside(target, &c->err);
	if (lock < 0) {
		close(dfd);
		return ims_error_prefix(&c->err, "setup");
	}
	ims_buf_init(&old, IMS_CAP_CONFIG_FILE);
	ims_buf_init(&out, 0);
	e = ims_fs_read_all(dfd, base, IMS_CAP_CONFIG_FILE, &old, &found, &c->err);
	if (e == IMS_OK)
		e = cfgedit_put_account(old.data != NULL ? old.data : "", old.len, name, comment,
		                        body, replace, &out, &c->err);
	if (e == IMS_OK)
		e = ims_fs_write_file(dfd, base, out.data, out.len, IMS_FS_SYNC, &c->err);
	ims_buf_release(&old);
	ims_buf_release(&out);
	close(lock);
	close(dfd);
	return e;
}

/* An OAuth-only server: the account is written with auth = oauth; offer
 * to run `oauth login NAME` at once (never unasked: it opens a browser). */
static ims_err offer_oauth_login(struct cli *c, const char *path, const char *name)
{
	char q[600];

	fprintf(stdout,
	        "this server takes OAuth 2.0 only: set oauth-client-id in [account %s], "
	        "then run: imapsh -a '%s' oauth login\n",
	        name, name);
	if (!(c->interactive || isatty(STDIN_FILENO)))
		return IMS_OK;
	snprintf(q, sizeof(q), "log in to %s with OAuth 2.0 now?", name);
	if (!ask(c, q, 0))
		return IMS_OK;
	/* the file just written, with the new account as the target */
	c->acct = NULL;
	cfg_release(&c->cfg);
	cfg_init(&c->cfg);
	if (cfg_load(&c->cfg, path, &c->err) != IMS_OK)
		return c->err.code;
	memset(&c->t, 0, sizeof(c->t));
	c->o.account = NULL;
	if (cli_setup_target(c, name) != IMS_OK)
		return c->err.code;
	return cli_oauth_login_account(c, name, 0);
}

/* ---- the command ------------------------------------------------------- */

static void print_report(const struct ims_disc *d, const struct report *const *reps, size_t nr,
                         int chosen)
{
	char buf[100];
	size_t i;

	printf("discovery for %s:\n", d->email);
	for (i = 0; i < nr; i++)
		printf("  %-10s %s: %s\n", ims_disc_source_name(reps[i]->src), reps[i]->asked,
		       reps[i]->result);
	printf("candidates:\n");
	if (d->n == 0)
		printf("  (none)\n");
	for (i = 0; i < d->n; i++) {
		const struct ims_disc_cand *k = &d->c[i];

		printf("  %s %s://%s:%u%s  from %s\n", (int)i == chosen ? "*" : " ",
		       k->tls == IMS_DISC_IMPLICIT ? "imaps" : "imap", k->host, k->port,
		       k->tls == IMS_DISC_STARTTLS ? " (STARTTLS)"
		       : k->tls == IMS_DISC_PLAIN  ? " (plaintext)"
		                                   : "",
		       ims_disc_sources(k, buf, sizeof(buf)));
		if (k->outside)
			printf("      outside %s%s\n", d->domain,
			       ims_disc_needs_confirm(k)
			           ? ", named only by plain DNS: unauthenticated"
			           : "");
		if (k->probed)
			printf("      %s%s%s\n", k->result, k->mechs[0] ? "; mechanisms " : "",
			       k->mechs);
	}
}

static void print_json(struct cli *c, const struct ims_disc *d, const struct report *const *reps,
                       size_t nr, int chosen, const char *name, const char *path, int written,
                       int oauth)
{
	struct json_out j;
	size_t i;
	int s;

	(void)c;
	json_init(&j, stdout);
	json_begin_object(&j);
	json_kv_str(&j, "email", d->email);
	json_kv_str(&j, "domain", d->domain);
	json_key(&j, "sources");
	json_begin_array(&j);
	for (i = 0; i < nr; i++) {
		json_begin_object(&j);
		json_kv_str(&j, "source", ims_disc_source_name(reps[i]->src));
		json_kv_str(&j, "asked", reps[i]->asked);
		json_kv_bool(&j, "ok", reps[i]->ok);
		json_kv_str(&j, "result", reps[i]->result);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_key(&j, "candidates");
	json_begin_array(&j);
	for (i = 0; i < d->n; i++) {
		const struct ims_disc_cand *k = &d->c[i];

		json_begin_object(&j);
		json_kv_str(&j, "host", k->host);
		json_kv_int(&j, "port", k->port);
		json_kv_str(&j, "tls", tls_word(k->tls));
		json_key(&j, "sources");
		json_begin_array(&j);
		for (s = 0; s < IMS_SRC_N; s++)
			if (k->sources & (1u << s))
				json_str(&j, ims_disc_source_name(s));
		json_end_array(&j);
		json_kv_str(&j, "user", k->user);
		json_kv_bool(&j, "outside_domain", k->outside);
		json_kv_bool(&j, "needs_confirmation", ims_disc_needs_confirm(k));
		json_key(&j, "probe");
		if (!k->probed) {
			json_null(&j);
		} else {
			json_begin_object(&j);
			json_kv_bool(&j, "ok", k->usable);
			json_kv_str(&j, "result", k->result);
			json_kv_str(&j, "mechanisms", k->mechs);
			json_kv_bool(&j, "oauth_only", k->oauth_only);
			json_end_object(&j);
		}
		json_kv_bool(&j, "chosen", (int)i == chosen);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_kv_str(&j, "account", name);
	json_kv_str(&j, "config", path);
	json_kv_bool(&j, "written", written);
	json_kv_bool(&j, "oauth", oauth);
	json_end_object(&j);
	json_finish(&j);
}

/* One run of setup, from the address to the written account. */
struct setup_run {
	struct ims_disc *d;
	struct source src[NSRC];
	const struct report *reps[8];
	size_t nr;
	const struct ims_ac_oauth2 *o2;
	const char *name;
	char namebuf[400];
	char path[CFG_STR];
	char target[4096];
	int64_t deadline;
	int chosen, oauth, replace, json;
};

/* The account's name and the config file it goes to (a link is edited
 * where it points: the user's choice, as the reader follows it). */
static ims_err setup_prepare(struct cli *c, const char *email, struct setup_run *r)
{
	const char *name = cli_opt_str(&c->args, "name");

	if (c->o.insecure)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "setup verifies every certificate: --insecure is not taken "
		                     "(give --ca-file for a private CA)");
	if (ims_disc_init(r->d, email, &c->err) != IMS_OK)
		return IMS_ERR_USAGE;
	snprintf(r->namebuf, sizeof(r->namebuf), "%s", name != NULL ? name : r->d->email);
	r->name = r->namebuf;
	if (!cfgedit_name_ok(r->name))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "setup: '%s' cannot name an account: use --name NAME (fewer "
		                     "than 64 bytes, no '[', ']', '#', ';' or control character)",
		                     r->name);
	if (c->o.config != NULL)
		snprintf(r->path, sizeof(r->path), "%s", c->o.config);
	else if (cfg_user_path("CONFIG", "config", 1, r->path, sizeof(r->path), &c->err) != IMS_OK)
		return c->err.code;
	if (realpath(r->path, r->target) == NULL) {
		if (errno != ENOENT)
			return ims_error_set(&c->err, IMS_ERR_IO, "setup: %s: %s", r->path,
			                     strerror(errno));
		snprintf(r->target, sizeof(r->target), "%s", r->path);
	}
	return IMS_OK;
}

/* Every source at once under one deadline, then their candidates merged
 * in the order of preference (discover.h). */
static void setup_gather(struct cli *c, struct setup_run *r)
{
	static void *(*const runs[NSRC])(void *) = {setup_run_srv,        setup_run_srv,
	                                            setup_run_autoconfig, setup_run_wellknown,
	                                            setup_run_ispdb,      setup_run_mx};
	static const enum ims_disc_source order[] = {IMS_SRC_AUTOCONFIG, IMS_SRC_WELLKNOWN,
	                                             IMS_SRC_ISPDB, IMS_SRC_SRV, IMS_SRC_MX_ISPDB};
	struct source *src = r->src;
	size_t i, k, oi;

	r->deadline = ims_now_ms() +
	              (int64_t)(c->o.timeout_s > 0 ? c->o.timeout_s : DEFAULT_DEADLINE_S) * 1000;
	memset(src, 0, sizeof(r->src));
	for (i = 0; i < NSRC; i++) {
		src[i].c = c;
		src[i].d = r->d;
		src[i].deadline = r->deadline;
		src[i].which = i == 1;
		src[i].ispdb = c->o.ispdb_url != NULL        ? c->o.ispdb_url
		               : c->cfg.ispdb_url[0] != '\0' ? c->cfg.ispdb_url
		                                             : DEFAULT_ISPDB;
		src[i].started = pthread_create(&src[i].th, NULL, runs[i], &src[i]) == 0;
		if (!src[i].started)
			runs[i](&src[i]);
	}
	for (i = 0; i < NSRC; i++)
		if (src[i].started)
			pthread_join(src[i].th, NULL);
	for (oi = 0; oi < sizeof(order) / sizeof(order[0]); oi++)
		for (i = 0; i < NSRC; i++)
			for (k = 0; k < src[i].n_found; k++)
				if (src[i].found[k].src == order[oi])
					ims_disc_add(r->d, order[oi], src[i].found[k].host,
					             src[i].found[k].port, src[i].found[k].tls,
					             src[i].found[k].user, src[i].found[k].auth);
	for (i = 0; i < NSRC; i++) {
		for (k = 0; k < src[i].n_rep && r->nr < 8; k++)
			r->reps[r->nr++] = &src[i].rep[k];
		if (src[i].oauth2.present && r->o2 == NULL)
			r->o2 = &src[i].oauth2;
	}
	ims_disc_sort(r->d);
}

/* The first candidate from index first on whose probe passes, or -1. */
static int probe_from(struct cli *c, struct setup_run *r, size_t first)
{
	size_t i;

	for (i = first; i < r->d->n; i++) {
		if (r->d->c[i].probed)
			continue;
		probe(c, &r->d->c[i], r->deadline);
		if (r->d->c[i].usable)
			return (int)i;
	}
	return -1;
}

/* Probe in order (plaintext ones only reported); the guesses last, and
 * only if TLS-verified.  Sets r->chosen and r->oauth. */
static void setup_choose(struct cli *c, struct setup_run *r)
{
	static const char *const pre[2] = {"imap.", "mail."};
	char host[IMS_CAP_DNS_NAME + 8];
	size_t i, first;

	for (i = 0; i < r->d->n; i++) /* reported, never used */
		if (r->d->c[i].tls == IMS_DISC_PLAIN)
			probe(c, &r->d->c[i], r->deadline);
	r->chosen = probe_from(c, r, 0);
	if (r->chosen < 0) {
		first = r->d->n;
		for (i = 0; i < 2; i++) {
			snprintf(host, sizeof(host), "%s%s", pre[i], r->d->domain);
			if (ims_tls_host_ok(host, strlen(host))) {
				ims_disc_add(r->d, IMS_SRC_GUESS, host, 993, IMS_DISC_IMPLICIT,
				             NULL, 0);
				ims_disc_add(r->d, IMS_SRC_GUESS, host, 143, IMS_DISC_STARTTLS,
				             NULL, 0);
			}
		}
		r->chosen = probe_from(c, r, first);
	}
	if (r->chosen >= 0) {
		const struct ims_disc_cand *ch = &r->d->c[r->chosen];

		r->oauth = ch->oauth_only ||
		           ((ch->auth & IMS_AC_AUTH_OAUTH2) && r->o2 != NULL && r->o2->usable);
	}
}

/* A refusal that writes nothing: the JSON (with --json), then the words. */
static ims_err setup_not_written(struct cli *c, struct setup_run *r, const char *fmt, ...)
    IMS_PRINTF(3, 4);
static ims_err setup_not_written(struct cli *c, struct setup_run *r, const char *fmt, ...)
{
	char words[IMS_ERROR_MAX];
	va_list ap;

	if (r->json)
		print_json(c, r->d, r->reps, r->nr, r->chosen, r->name, r->path, 0, r->oauth);
	va_start(ap, fmt);
	vsnprintf(words, sizeof(words), fmt, ap);
	va_end(ap);
	return ims_error_set(&c->err, IMS_ERR_NO, "%s", words);
}

/* The trust rule, then the user's word, then an existing section (never
 * replaced silently: --yes does not answer that). */
static ims_err setup_confirm(struct cli *c, struct setup_run *r)
{
	const struct ims_disc_cand *ch = &r->d->c[r->chosen];
	char q[900], buf[100], base[IMS_FS_NAME_MAX];
	struct ims_buf cur;
	int found = 0, exists = 0, dfd;

	if (ims_disc_needs_confirm(ch) && !cli_opt_flag(&c->args, "trust-discovery")) {
		snprintf(q, sizeof(q),
		         "%s is outside %s and only plain DNS (%s) named it: use it anyway?",
		         ch->host, r->d->domain, ims_disc_sources(ch, buf, sizeof(buf)));
		if (!ask(c, q, 1))
			return setup_not_written(
			    c, r,
			    "setup: not written: %s is outside %s and came from an "
			    "unauthenticated source; answer yes, or give "
			    "--trust-discovery",
			    ch->host, r->d->domain);
	} else if (!cli_opt_flag(&c->args, "yes")) {
		snprintf(q, sizeof(q), "write [account %s] for %s://%s:%u to %s?", r->name,
		         ch->tls == IMS_DISC_IMPLICIT ? "imaps" : "imap", ch->host, ch->port,
		         r->path);
		if (!ask(c, q, 0))
			return setup_not_written(
			    c, r, "setup: not written (declined; --yes writes without asking)");
	}
	dfd = ims_fs_parent_open(r->target, base, sizeof(base), &c->err);
	ims_buf_init(&cur, IMS_CAP_CONFIG_FILE);
	if (dfd >= 0 &&
	    ims_fs_read_all(dfd, base, IMS_CAP_CONFIG_FILE, &cur, &found, &c->err) == IMS_OK &&
	    found && cfgedit_has_account(cur.data, cur.len, r->name)) {
		exists = 1;
		snprintf(q, sizeof(q), "%s has [account %s] already: replace it?", r->path,
		         r->name);
		r->replace = ask(c, q, 1);
	}
	ims_buf_release(&cur);
	if (dfd >= 0)
		close(dfd);
	ims_error_init(&c->err);
	if (exists && !r->replace)
		return setup_not_written(c, r,
		                         "setup: not written: %s has [account %s] already; choose "
		                         "another --name, or answer yes to replace it",
		                         r->path, r->name);
	return IMS_OK;
}

/* The section, written; what was done said; the OAuth login offered. */
static ims_err setup_write(struct cli *c, struct setup_run *r)
{
	char comment[300], buf[100], date[32] = "";
	time_t now = time(NULL);
	struct ims_buf body;
	struct tm tm;
	int written;
	ims_err e;

	if (gmtime_r(&now, &tm) != NULL)
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(comment, sizeof(comment), "written by imapsh setup on %s, found by %s", date,
	         ims_disc_sources(&r->d->c[r->chosen], buf, sizeof(buf)));
	ims_buf_init(&body, 0);
	e = section_body(c, r->d, &r->d->c[r->chosen], r->oauth, r->o2, &body);
	if (e == IMS_OK)
		e = write_section(c, r->target, r->name, comment, body.data, r->replace);
	else
		ims_error_nomem(&c->err);
	ims_buf_release(&body);
	written = e == IMS_OK;
	if (r->json)
		print_json(c, r->d, r->reps, r->nr, r->chosen, r->name, r->path, written, r->oauth);
	else if (written)
		printf("wrote [account %s] to %s; try: imapsh -a '%s' folders\n", r->name, r->path,
		       r->name);
	if (written && r->oauth && !r->json)
		e = offer_oauth_login(c, r->path, r->name);
	return e;
}

static ims_err cmd_setup(struct cli *c, int argc, char **argv)
{
	struct setup_run *r = calloc(1, sizeof(*r));
	ims_err e;

	(void)argc;
	if (r == NULL || (r->d = calloc(1, sizeof(*r->d))) == NULL) {
		free(r);
		return ims_error_nomem(&c->err);
	}
	r->json = c->o.json;
	r->chosen = -1;
	e = setup_prepare(c, argv[1], r);
	if (e == IMS_OK) {
		setup_gather(c, r);
		setup_choose(c, r);
		if (!r->json)
			print_report(r->d, r->reps, r->nr, r->chosen);
		if (r->chosen < 0) {
			if (r->json)
				print_json(c, r->d, r->reps, r->nr, r->chosen, r->name, r->path, 0,
				           0);
			e = ims_error_set(
			    &c->err, IMS_ERR_NO,
			    "setup: no usable IMAP server found for %s (every candidate "
			    "and its probe are listed above%s); give the server "
			    "yourself: imapsh imaps://HOST",
			    argv[1], r->json ? " in the JSON" : "");
		}
	}
	if (e == IMS_OK)
		e = setup_confirm(c, r);
	if (e == IMS_OK)
		e = setup_write(c, r);
	free(r->d);
	free(r);
	return e;
}

/* clang-format off */
static const struct cli_opt setup_opts[] = {
	CLI_VALUE("name", 0, CLI_OPT_STRING, "NAME", "the account's name (default: the address)"),
	CLI_FLAG("yes", 'y', "write without asking (a host outside the domain from plain DNS "
	                     "still asks)"),
	CLI_FLAG("trust-discovery", 0, "accept a host outside the domain named by plain DNS"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};

static const struct cli_cmd setup_cmds[] = {
	{ .name = "setup", .usage = "setup EMAIL",
	  .summary = "find the IMAP server of an address (SRV, autoconfig, ISPDB, MX, guesses), "
	             "probe it and write an account to the config file",
	  .min_args = 1, .max_args = 1, .flags = CMD_NO_ACCOUNT, .run = cmd_setup,
	  .options = setup_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_setup = {setup_cmds,
                                              sizeof(setup_cmds) / sizeof(setup_cmds[0])};
