/* Candidate servers for setup: merge, order, and the trust rule. */
#include "imapsh/discover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapsh/tlsname.h"

ims_err ims_disc_init(struct ims_disc *d, const char *email, struct ims_error *err)
{
	const char *at;
	size_t i, llen;

	memset(d, 0, sizeof(*d));
	at = email != NULL ? strchr(email, '@') : NULL;
	if (at == NULL || strchr(at + 1, '@') != NULL || at == email)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "setup: '%s' is not an e-mail address: expected LOCAL@DOMAIN",
		                     email != NULL ? email : "");
	llen = (size_t)(at - email);
	for (i = 0; email[i] != '\0'; i++)
		if ((unsigned char)email[i] <= 0x20 || email[i] == 0x7f)
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "setup: the address holds a space or a control "
			                     "character: expected LOCAL@DOMAIN");
	if (!ims_tls_host_ok(at + 1, strlen(at + 1)) || strchr(at + 1, '.') == NULL)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "setup: '%s' is not a mail domain (expected a name such as "
		                     "example.com)",
		                     at + 1);
	if (strlen(email) >= sizeof(d->email) || llen >= sizeof(d->local) ||
	    strlen(at + 1) >= sizeof(d->domain))
		return ims_error_set(err, IMS_ERR_USAGE, "setup: the address is too long");
	memcpy(d->email, email, strlen(email) + 1);
	memcpy(d->local, email, llen);
	d->local[llen] = '\0';
	memcpy(d->domain, at + 1, strlen(at + 1) + 1);
	if (d->domain[strlen(d->domain) - 1] == '.')
		d->domain[strlen(d->domain) - 1] = '\0';
	return IMS_OK;
}

int ims_disc_in_domain(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || hl < dl)
		return 0;
	if (strncasecmp(host + hl - dl, domain, dl) != 0)
		return 0;
	return hl == dl || host[hl - dl - 1] == '.';
}

int ims_disc_source_authenticated(enum ims_disc_source src)
{
	return src != IMS_SRC_SRV && src != IMS_SRC_MX_ISPDB;
}

int ims_disc_needs_confirm(const struct ims_disc_cand *c)
{
	int s;

	if (!c->outside)
		return 0;
	for (s = 0; s < IMS_SRC_N; s++)
		if ((c->sources & (1u << s)) && ims_disc_source_authenticated(s))
			return 0;
	return 1;
}

const char *ims_disc_source_name(enum ims_disc_source src)
{
	static const char *const names[IMS_SRC_N] = {"autoconfig", "well-known", "ispdb",
	                                             "srv",        "mx-ispdb",   "guess"};

	return (unsigned)src < IMS_SRC_N ? names[src] : "?";
}

const char *ims_disc_sources(const struct ims_disc_cand *c, char *buf, size_t n)
{
	size_t o = 0;
	int s;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	for (s = 0; s < IMS_SRC_N; s++) {
		if (!(c->sources & (1u << s)))
			continue;
		o += (size_t)snprintf(buf + o, n - o, "%s%s", o > 0 ? "," : "",
		                      ims_disc_source_name(s));
		if (o >= n)
			break;
	}
	return buf;
}

void ims_disc_add(struct ims_disc *d, enum ims_disc_source src, const char *host, unsigned port,
                  enum ims_disc_tls tls, const char *user, unsigned auth)
{
	struct ims_disc_cand *c = NULL;
	size_t i, hl = strlen(host);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl == 0 || hl >= sizeof(c->host))
		return;
	for (i = 0; i < d->n; i++)
		if (strlen(d->c[i].host) == hl && strncasecmp(d->c[i].host, host, hl) == 0 &&
		    d->c[i].port == port && d->c[i].tls == tls)
			c = &d->c[i];
	if (c == NULL) {
		if (d->n == IMS_CAP_SETUP_CANDIDATES) {
			d->dropped++;
			return;
		}
		c = &d->c[d->n++];
		memset(c, 0, sizeof(*c));
		for (i = 0; i < hl; i++) /* host names are compared without case */
			c->host[i] =
			    (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
		c->host[hl] = '\0';
		c->port = port;
		c->tls = tls;
		c->outside = !ims_disc_in_domain(c->host, d->domain);
	}
	c->sources |= 1u << src;
	if (c->user[0] == '\0' && user != NULL && strlen(user) < sizeof(c->user))
		memcpy(c->user, user, strlen(user) + 1);
	c->auth |= auth;
}

static int best_source(const struct ims_disc_cand *c)
{
	int s;

	for (s = 0; s < IMS_SRC_N; s++)
		if (c->sources & (1u << s))
			return s;
	return IMS_SRC_N;
}

void ims_disc_sort(struct ims_disc *d)
{
	size_t i, k;

	/* insertion sort: stable, and there are few */
	for (i = 1; i < d->n; i++) {
		for (k = i; k > 0; k--) {
			const struct ims_disc_cand *a = &d->c[k - 1], *b = &d->c[k];
			int ka = (a->tls == IMS_DISC_PLAIN) * 100 + best_source(a);
			int kb = (b->tls == IMS_DISC_PLAIN) * 100 + best_source(b);
			struct ims_disc_cand t;

			if (ka <= kb)
				break;
			t = d->c[k];
			d->c[k] = d->c[k - 1];
			d->c[k - 1] = t;
		}
	}
}

const char *ims_disc_mx_domain(const char *mx_host)
{
	size_t len = strlen(mx_host);
	int dots = 0;

	if (len > 0 && mx_host[len - 1] == '.')
		len--;
	while (len > 0) {
		len--;
		if (mx_host[len] == '.' && ++dots == 2)
			return mx_host + len + 1;
	}
	return mx_host;
}
