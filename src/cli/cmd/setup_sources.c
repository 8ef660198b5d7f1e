/* setup's sources (setup_sources.h). */
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
#include "cli/cmd/setup_sources.h"

/* ---- helpers ----------------------------------------------------------- */

int64_t setup_left_ms(int64_t deadline)
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
	left = setup_left_ms(s->deadline);
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

void *setup_run_srv(void *arg)
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

void *setup_run_autoconfig(void *arg)
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
void *setup_run_wellknown(void *arg)
{
	struct source *s = arg;
	char url[1200];

	snprintf(url, sizeof(url), "https://%s/.well-known/autoconfig/mail/config-v1.1.xml",
	         s->d->domain);
	fetch_autoconfig(s, IMS_SRC_WELLKNOWN, url, s->d->domain);
	return NULL;
}

void *setup_run_ispdb(void *arg)
{
	struct source *s = arg;
	char url[1200], host[IMS_CAP_DNS_NAME + 1];

	ispdb_url(s, s->d->domain, url, sizeof(url));
	url_host(url, host, sizeof(host));
	fetch_autoconfig(s, IMS_SRC_ISPDB, url, host);
	return NULL;
}

void *setup_run_mx(void *arg)
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
