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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cfgedit.h"
#include "cli/cli.h"
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

#define DEFAULT_ISPDB      "https://autoconfig.thunderbird.net/v1.1/"
#define DEFAULT_DEADLINE_S 20 /* discovery as a whole, unless --timeout says */
#define MAX_FOUND          (2 * IMS_CAP_AUTOCONFIG_SRV)
#define MAX_RESOLVE        (CLI_MAX_RESOLVE + 2)
#define NSRC               6 /* threads: SRV imaps, SRV imap, autoconfig, well-known, ISPDB, MX */

/* What one place said (a DNS name asked, a URL fetched). */
struct report {
	enum ims_disc_source src;
	char asked[600]; /* the name or URL, sanitised */
	char result[300];
	int ok;
	int asked_set;
};

struct found {
	enum ims_disc_source src;
	char host[IMS_CAP_DNS_NAME + 1];
	unsigned port;
	enum ims_disc_tls tls;
	char user[256];
	unsigned auth;
};

/* One source thread's inputs (read only) and results (its own). */
struct source {
	struct cli *c;
	const struct ims_disc *d;
	const char *ispdb;
	int which; /* run_srv: 0 _imaps, 1 _imap */
	int64_t deadline;
	void *(*run)(void *);
	pthread_t th;
	int started;
	struct report rep[2];
	size_t n_rep;
	struct found found[MAX_FOUND];
	size_t n_found;
	struct ims_ac_oauth2 oauth2;
};

/* ---- helpers ----------------------------------------------------------- */

static int64_t left_ms(int64_t deadline)
{
	int64_t l = deadline - ims_now_ms();

	return l > 0 ? l : 0;
}

static struct report *report_new(struct source *s, enum ims_disc_source src, const char *asked)
{
	struct report *r = &s->rep[s->n_rep < 2 ? s->n_rep++ : 1];

	memset(r, 0, sizeof(*r));
	r->src = src;
	r->asked_set = 1;
	ims_sanitize_fixed(asked, strlen(asked), r->asked, sizeof(r->asked));
	return r;
}

static void report_set(struct report *r, int ok, const char *words)
{
	r->ok = ok;
	ims_sanitize_fixed(words, strlen(words), r->result, sizeof(r->result));
}

static void add_found(struct source *s, enum ims_disc_source src, const char *host, unsigned port,
                      enum ims_disc_tls tls, const char *user, unsigned auth)
{
	struct found *f;

	if (s->n_found == MAX_FOUND)
		return;
	f = &s->found[s->n_found++];
	memset(f, 0, sizeof(*f));
	f->src = src;
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->port = port;
	f->tls = tls;
	snprintf(f->user, sizeof(f->user), "%s", user != NULL ? user : "");
	f->auth = auth;
}

/* "HOST:443:ADDR,ADDR" entries for an HTTPS fetch of host: the --resolve
 * entries for it, else (with --dns-server) its addresses from there. */
static size_t https_resolve(struct cli *c, const char *host, int64_t deadline,
                            char store[][IMS_CAP_DNS_NAME + 400], const char **v, char *why,
                            size_t why_n)
{
	size_t i, n = 0;

	for (i = 0; i < c->o.n_resolve && n + 1 < MAX_RESOLVE; i++) {
		struct ims_resolve r;
		struct ims_error e;
		size_t k, o;

		if (ims_resolve_parse(&r, c->o.resolve[i], &e) != IMS_OK ||
		    (strcmp(r.host, "*") != 0 && strcasecmp(r.host, host) != 0) ||
		    (r.port != 0 && r.port != 443))
			continue;
		o = (size_t)snprintf(store[n], sizeof(store[n]), "%s:443:", host);
		for (k = 0; k < r.n_addrs && o < sizeof(store[n]); k++)
			o += (size_t)snprintf(store[n] + o, sizeof(store[n]) - o,
			                      strchr(r.addrs[k], ':') ? "%s[%s]" : "%s%s",
			                      k > 0 ? "," : "", r.addrs[k]);
		v[n] = store[n];
		n++;
	}
	if (n == 0 && c->o.dns_server != NULL) {
		struct ims_dns d = {c->o.dns_server, deadline};
		char addrs[8][IMS_DNS_ADDR_MAX];
		struct ims_error e;
		size_t na = 0, k, o;

		if (ims_dns_addrs(&d, host, addrs, 8, &na, &e) != IMS_OK)
			snprintf(why, why_n, "%s", e.msg);
		if (na > 0) {
			o = (size_t)snprintf(store[0], sizeof(store[0]), "%s:443:", host);
			for (k = 0; k < na && o < sizeof(store[0]); k++)
				o += (size_t)snprintf(store[0] + o, sizeof(store[0]) - o,
				                      strchr(addrs[k], ':') ? "%s[%s]" : "%s%s",
				                      k > 0 ? "," : "", addrs[k]);
			v[0] = store[0];
			n = 1;
		}
	}
	v[n] = NULL;
	return n;
}

/* Percent-encode s for a query value. */
static void url_encode(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* Fetch one autoconfig document and take its IMAP servers.  1 when it
 * gave a document (even one with no usable server). */
static int fetch_autoconfig(struct source *s, enum ims_disc_source src, const char *url,
                            const char *host)
{
	char store[MAX_RESOLVE][IMS_CAP_DNS_NAME + 400];
	const char *resolve[MAX_RESOLVE + 1];
	struct ims_http_opts o;
	struct ims_http_reply r;
	struct ims_autoconfig *ac;
	struct ims_error e;
	struct report *rep = report_new(s, src, url);
	char words[300];
	size_t i;
	int64_t left;

	words[0] = '\0';
	if (https_resolve(s->c, host, s->deadline, store, resolve, words, sizeof(words)) == 0 &&
	    s->c->o.dns_server != NULL) {
		/* every lookup goes to --dns-server: never the system's */
		report_set(rep, 0, words[0] != '\0' ? words : "dns: no address");
		return 0;
	}
	left = left_ms(s->deadline);
	if (left == 0) {
		report_set(rep, 0, "not asked: no time left");
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.ca_file = s->c->o.ca_file;
	o.resolve = resolve;
	o.timeout_ms = (unsigned)left;
	o.max_body = IMS_CAP_AUTOCONFIG_XML;
	o.accept = "application/xml, text/xml";
	ims_http_reply_init(&r);
	if (ims_http_get(url, &o, &r, &e) != IMS_OK) {
		report_set(rep, 0,
		           e.code == IMS_ERR_LIMIT
		               ? "refused: the document is larger than the most imapsh reads"
		               : e.msg);
		ims_http_reply_release(&r);
		return 0;
	}
	if (r.status != 200) {
		snprintf(words, sizeof(words), "HTTP %ld%s", r.status,
		         r.status >= 300 && r.status < 400 ? " (a redirect, not followed)" : "");
		report_set(rep, 0, words);
		ims_http_reply_release(&r);
		return 0;
	}
	ac = calloc(1, sizeof(*ac));
	if (ac == NULL) {
		report_set(rep, 0, "out of memory");
		ims_http_reply_release(&r);
		return 0;
	}
	if (ims_autoconfig_parse(s->d->email, r.body.data, r.body.len, ac, &e) != IMS_OK) {
		report_set(rep, 0, e.msg);
		ims_http_reply_release(&r);
		free(ac);
		return 1;
	}
	ims_http_reply_release(&r);
	for (i = 0; i < ac->n_servers; i++) {
		const struct ims_ac_server *v = &ac->servers[i];
		enum ims_disc_tls tls = v->socket == IMS_AC_SSL        ? IMS_DISC_IMPLICIT
		                        : v->socket == IMS_AC_STARTTLS ? IMS_DISC_STARTTLS
		                                                       : IMS_DISC_PLAIN;

		add_found(s, src, v->hostname, v->port, tls, v->username, v->auth);
	}
	if (ac->oauth2.present && !s->oauth2.present)
		s->oauth2 = ac->oauth2;
	snprintf(words, sizeof(words), "%zu IMAP server%s%s%s%s", ac->n_servers,
	         ac->n_servers == 1 ? "" : "s", ac->n_skipped > 0 ? "; skipped: " : "",
	         ac->n_skipped > 0 ? ac->skipped : "",
	         ac->oauth2.present ? "; an oAuth2 block" : "");
	report_set(rep, ac->n_servers > 0, words);
	free(ac);
	return 1;
}

static void ispdb_url(const struct source *s, const char *domain, char *out, size_t n)
{
	size_t bl = strlen(s->ispdb);

	snprintf(out, n, "%s%s%s", s->ispdb, bl > 0 && s->ispdb[bl - 1] == '/' ? "" : "/", domain);
}

/* The host of an https:// URL, for the resolve entries. */
static void url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");
	size_t len;

	h = h != NULL ? h + 3 : url;
	len = strcspn(h, ":/?#");
	snprintf(out, n, "%.*s", (int)len, h);
}

/* ---- the sources ------------------------------------------------------- */

static void *run_srv(void *arg)
{
	struct source *s = arg;
	static const char *const names[2] = {"_imaps._tcp.", "_imap._tcp."};
	struct ims_dns d = {s->c->o.dns_server, s->deadline};
	struct ims_dns_srv v[IMS_CAP_DNS_ANSWERS];
	struct ims_error e;
	char name[IMS_CAP_DNS_NAME + 16], words[300];
	struct report *rep;
	size_t n = 0, k, used = 0;

	snprintf(name, sizeof(name), "%s%s", names[s->which], s->d->domain);
	rep = report_new(s, IMS_SRC_SRV, name);
	if (ims_dns_srv(&d, name, v, IMS_CAP_DNS_ANSWERS, &n, &e) != IMS_OK) {
		report_set(rep, 0, e.msg);
		return NULL;
	}
	if (ims_dns_srv_none(v, n)) {
		report_set(rep, 0, "the domain says there is no such service (target \".\")");
		return NULL;
	}
	for (k = 0; k < n; k++) {
		if (v[k].port == 0 || !ims_tls_host_ok(v[k].target, strlen(v[k].target)))
			continue;
		add_found(s, IMS_SRC_SRV, v[k].target, v[k].port,
		          s->which == 0 ? IMS_DISC_IMPLICIT : IMS_DISC_STARTTLS, NULL, 0);
		used++;
	}
	snprintf(words, sizeof(words), "%zu record%s", used, used == 1 ? "" : "s");
	report_set(rep, used > 0, words);
	return NULL;
}

static void *run_autoconfig(void *arg)
{
	struct source *s = arg;
	char enc[800], url[1200], host[IMS_CAP_DNS_NAME + 16];

	url_encode(s->d->email, enc, sizeof(enc));
	snprintf(host, sizeof(host), "autoconfig.%s", s->d->domain);
	snprintf(url, sizeof(url), "https://%s/mail/config-v1.1.xml?emailaddress=%s", host, enc);
	fetch_autoconfig(s, IMS_SRC_AUTOCONFIG, url, host);
	return NULL;
}

/* Asked at the same time as autoconfig.DOMAIN, used after it (discover.h's
 * order), so a slow first URL does not leave the second no time. */
static void *run_wellknown(void *arg)
{
	struct source *s = arg;
	char url[1200];

	snprintf(url, sizeof(url), "https://%s/.well-known/autoconfig/mail/config-v1.1.xml",
	         s->d->domain);
	fetch_autoconfig(s, IMS_SRC_WELLKNOWN, url, s->d->domain);
	return NULL;
}

static void *run_ispdb(void *arg)
{
	struct source *s = arg;
	char url[1200], host[IMS_CAP_DNS_NAME + 1];

	ispdb_url(s, s->d->domain, url, sizeof(url));
	url_host(url, host, sizeof(host));
	fetch_autoconfig(s, IMS_SRC_ISPDB, url, host);
	return NULL;
}

static void *run_mx(void *arg)
{
	struct source *s = arg;
	struct ims_dns d = {s->c->o.dns_server, s->deadline};
	struct ims_dns_mx v[IMS_CAP_DNS_ANSWERS];
	struct ims_error e;
	char url[1200], host[IMS_CAP_DNS_NAME + 1], words[600];
	const char *mxdom;
	size_t n = 0;

	if (ims_dns_mx(&d, s->d->domain, v, IMS_CAP_DNS_ANSWERS, &n, &e) != IMS_OK) {
		report_set(report_new(s, IMS_SRC_MX_ISPDB, s->d->domain), 0, e.msg);
		return NULL;
	}
	mxdom = ims_disc_mx_domain(v[0].host);
	if (ims_disc_in_domain(mxdom, s->d->domain)) {
		snprintf(words, sizeof(words), "the MX host %s is in the domain itself", v[0].host);
		report_set(report_new(s, IMS_SRC_MX_ISPDB, s->d->domain), 0, words);
		return NULL;
	}
	ispdb_url(s, mxdom, url, sizeof(url));
	url_host(url, host, sizeof(host));
	fetch_autoconfig(s, IMS_SRC_MX_ISPDB, url, host);
	return NULL;
}

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
	int64_t left = left_ms(deadline);
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

/* The OAuth half of issue 15 joins here: the account is written with auth
 * = oauth; when an `oauth` command exists, offer to run `oauth login NAME`
 * at once (never unasked: it opens a browser). */
static ims_err offer_oauth_login(struct cli *c, const char *path, const char *name)
{
	const struct cli_cmd *cmd = cli_cmd_find("oauth");
	char q[600];
	char *av[4] = {"oauth", "login", NULL, NULL};

	fprintf(stdout,
	        "this server takes OAuth 2.0 only: set oauth-client-id in [account %s], "
	        "then run: imapsh -a '%s' oauth login\n",
	        name, name);
	if (cmd == NULL || !(c->interactive || isatty(STDIN_FILENO)))
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
	av[2] = (char *)name;
	return cli_cmd_run(c, 3, av);
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

static ims_err cmd_setup(struct cli *c, int argc, char **argv)
{
	struct ims_disc *d;
	struct source src[NSRC];
	void *(*runs[NSRC])(void *) = {run_srv,       run_srv,   run_autoconfig,
	                               run_wellknown, run_ispdb, run_mx};
	const struct report *reps[8];
	const struct ims_ac_oauth2 *o2 = NULL;
	const char *name = cli_opt_str(&c->args, "name");
	int yes = cli_opt_flag(&c->args, "yes");
	int trust = cli_opt_flag(&c->args, "trust-discovery");
	int json = c->o.json;
	char path[CFG_STR], target[4096], comment[300], buf[100], q[900], namebuf[400];
	struct ims_buf body;
	int64_t deadline;
	size_t i, k, nr = 0;
	int chosen = -1, oauth = 0, replace = 0, written = 0;
	ims_err e = IMS_OK;

	(void)argc;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ims_error_nomem(&c->err);
	if (c->o.insecure) {
		free(d);
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "setup verifies every certificate: --insecure is not taken "
		                     "(give --ca-file for a private CA)");
	}
	if (ims_disc_init(d, argv[1], &c->err) != IMS_OK) {
		free(d);
		return IMS_ERR_USAGE;
	}
	snprintf(namebuf, sizeof(namebuf), "%s", name != NULL ? name : d->email);
	name = namebuf;
	if (!cfgedit_name_ok(name)) {
		e = ims_error_set(&c->err, IMS_ERR_USAGE,
		                  "setup: '%s' cannot name an account: use --name NAME (fewer than "
		                  "64 bytes, no '[', ']', '#', ';' or control character)",
		                  name);
		free(d);
		return e;
	}
	if (c->o.config != NULL)
		snprintf(path, sizeof(path), "%s", c->o.config);
	else if (cfg_user_path("CONFIG", "config", 1, path, sizeof(path), &c->err) != IMS_OK) {
		free(d);
		return c->err.code;
	}
	/* a config that is a link (a dotfile manager's) is edited where it
	 * points: the user's choice, as the reader follows it */
	if (realpath(path, target) == NULL) {
		if (errno != ENOENT) {
			e = ims_error_set(&c->err, IMS_ERR_IO, "setup: %s: %s", path,
			                  strerror(errno));
			free(d);
			return e;
		}
		snprintf(target, sizeof(target), "%s", path);
	}

	/* the sources, at once, under one deadline */
	deadline = ims_now_ms() +
	           (int64_t)(c->o.timeout_s > 0 ? c->o.timeout_s : DEFAULT_DEADLINE_S) * 1000;
	memset(src, 0, sizeof(src));
	for (i = 0; i < NSRC; i++) {
		src[i].c = c;
		src[i].d = d;
		src[i].deadline = deadline;
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
	/* merged in the order of preference (discover.h) */
	{
		static const enum ims_disc_source order[] = {IMS_SRC_AUTOCONFIG, IMS_SRC_WELLKNOWN,
		                                             IMS_SRC_ISPDB, IMS_SRC_SRV,
		                                             IMS_SRC_MX_ISPDB};
		size_t oi;

		for (oi = 0; oi < sizeof(order) / sizeof(order[0]); oi++)
			for (i = 0; i < NSRC; i++)
				for (k = 0; k < src[i].n_found; k++)
					if (src[i].found[k].src == order[oi])
						ims_disc_add(
						    d, order[oi], src[i].found[k].host,
						    src[i].found[k].port, src[i].found[k].tls,
						    src[i].found[k].user, src[i].found[k].auth);
		for (i = 0; i < NSRC; i++) {
			for (k = 0; k < src[i].n_rep && nr < 8; k++)
				reps[nr++] = &src[i].rep[k];
			if (src[i].oauth2.present && o2 == NULL)
				o2 = &src[i].oauth2;
		}
	}
	ims_disc_sort(d);
	for (i = 0; i < d->n; i++) /* reported, never used */
		if (d->c[i].tls == IMS_DISC_PLAIN)
			probe(c, &d->c[i], deadline);
	for (i = 0; i < d->n && chosen < 0; i++) {
		if (d->c[i].probed)
			continue;
		probe(c, &d->c[i], deadline);
		if (d->c[i].usable)
			chosen = (int)i;
	}
	if (chosen < 0) { /* the guesses, last, and only if TLS-verified */
		static const char *const pre[2] = {"imap.", "mail."};
		char host[IMS_CAP_DNS_NAME + 8];
		size_t first = d->n;

		for (i = 0; i < 2; i++) {
			snprintf(host, sizeof(host), "%s%s", pre[i], d->domain);
			if (ims_tls_host_ok(host, strlen(host))) {
				ims_disc_add(d, IMS_SRC_GUESS, host, 993, IMS_DISC_IMPLICIT, NULL,
				             0);
				ims_disc_add(d, IMS_SRC_GUESS, host, 143, IMS_DISC_STARTTLS, NULL,
				             0);
			}
		}
		for (i = first; i < d->n && chosen < 0; i++) {
			if (d->c[i].probed)
				continue;
			probe(c, &d->c[i], deadline);
			if (d->c[i].usable)
				chosen = (int)i;
		}
	}
	if (chosen >= 0) {
		const struct ims_disc_cand *ch = &d->c[chosen];

		oauth =
		    ch->oauth_only || ((ch->auth & IMS_AC_AUTH_OAUTH2) && o2 != NULL && o2->usable);
	}
	if (!json)
		print_report(d, reps, nr, chosen);
	if (chosen < 0) {
		if (json)
			print_json(c, d, reps, nr, chosen, name, path, 0, 0);
		e = ims_error_set(&c->err, IMS_ERR_NO,
		                  "setup: no usable IMAP server found for %s (every candidate "
		                  "and its probe are listed above%s); give the server yourself: "
		                  "imapsh imaps://HOST",
		                  argv[1], json ? " in the JSON" : "");
		free(d);
		return e;
	}

	/* the trust rule, then the user's word */
	{
		const struct ims_disc_cand *ch = &d->c[chosen];
		int needs = ims_disc_needs_confirm(ch) && !trust;

		if (needs) {
			snprintf(
			    q, sizeof(q),
			    "%s is outside %s and only plain DNS (%s) named it: use it anyway?",
			    ch->host, d->domain, ims_disc_sources(ch, buf, sizeof(buf)));
			if (!ask(c, q, 1)) {
				if (json)
					print_json(c, d, reps, nr, chosen, name, path, 0, oauth);
				e = ims_error_set(
				    &c->err, IMS_ERR_NO,
				    "setup: not written: %s is outside %s and came from an "
				    "unauthenticated source; answer yes, or give --trust-discovery",
				    ch->host, d->domain);
				free(d);
				return e;
			}
		} else if (!yes) {
			snprintf(q, sizeof(q), "write [account %s] for %s://%s:%u to %s?", name,
			         ch->tls == IMS_DISC_IMPLICIT ? "imaps" : "imap", ch->host,
			         ch->port, path);
			if (!ask(c, q, 0)) {
				if (json)
					print_json(c, d, reps, nr, chosen, name, path, 0, oauth);
				e = ims_error_set(&c->err, IMS_ERR_NO,
				                  "setup: not written (declined; --yes writes "
				                  "without asking)");
				free(d);
				return e;
			}
		}
	}
	{
		struct ims_buf cur;
		char base[IMS_FS_NAME_MAX];
		int found = 0, dfd = ims_fs_parent_open(target, base, sizeof(base), &c->err);

		ims_buf_init(&cur, IMS_CAP_CONFIG_FILE);
		if (dfd >= 0 &&
		    ims_fs_read_all(dfd, base, IMS_CAP_CONFIG_FILE, &cur, &found, &c->err) ==
		        IMS_OK &&
		    found && cfgedit_has_account(cur.data, cur.len, name)) {
			snprintf(q, sizeof(q), "%s has [account %s] already: replace it?", path,
			         name);
			replace = ask(c, q, 1); /* never silently: --yes does not answer this */
			if (!replace) {
				ims_buf_release(&cur);
				close(dfd);
				if (json)
					print_json(c, d, reps, nr, chosen, name, path, 0, oauth);
				e = ims_error_set(
				    &c->err, IMS_ERR_NO,
				    "setup: not written: %s has [account %s] already; "
				    "choose another --name, or answer yes to replace it",
				    path, name);
				free(d);
				return e;
			}
		}
		ims_buf_release(&cur);
		if (dfd >= 0)
			close(dfd);
		ims_error_init(&c->err);
	}
	ims_buf_init(&body, 0);
	{
		time_t now = time(NULL);
		struct tm tm;
		char date[32] = "";

		if (gmtime_r(&now, &tm) != NULL)
			strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		snprintf(comment, sizeof(comment), "written by imapsh setup on %s, found by %s",
		         date, ims_disc_sources(&d->c[chosen], buf, sizeof(buf)));
	}
	e = section_body(c, d, &d->c[chosen], oauth, o2, &body);
	if (e == IMS_OK)
		e = write_section(c, target, name, comment, body.data, replace);
	else
		ims_error_nomem(&c->err);
	ims_buf_release(&body);
	written = e == IMS_OK;
	if (json)
		print_json(c, d, reps, nr, chosen, name, path, written, oauth);
	else if (written)
		printf("wrote [account %s] to %s; try: imapsh -a '%s' folders\n", name, path, name);
	if (written && oauth && !json)
		e = offer_oauth_login(c, path, name);
	free(d);
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
