#include "imapsh/url.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapsh/sanitize.h"
#include "imapsh/textutil.h"

/* What is being parsed, for the words of an error. */
struct pctx {
	struct ims_url *u; /* released on failure; NULL for --resolve */
	struct ims_error *err;
	const char *what; /* "bad URL", "bad target", "bad --resolve" */
	ims_err e;        /* set once failed */
};

static ims_err fail(struct pctx *c, const char *fmt, ...) IMS_PRINTF(2, 3);

static ims_err fail(struct pctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->u != NULL)
		ims_url_release(c->u);
	c->e = IMS_ERR_USAGE;
	return ims_error_set(c->err, IMS_ERR_USAGE, "%s: %s", c->what, msg);
}

static ims_err nomem(struct pctx *c)
{
	if (c->u != NULL)
		ims_url_release(c->u);
	c->e = IMS_ERR_NOMEM;
	return ims_error_set(c->err, IMS_ERR_NOMEM, "%s: out of memory", c->what);
}

/* "'x'" or "byte 0xNN", for error words. */
static const char *show(unsigned char ch, char *w, size_t n)
{
	if (ch >= 0x20 && ch < 0x7f)
		snprintf(w, n, "'%c'", ch);
	else
		snprintf(w, n, "byte 0x%02x", ch);
	return w;
}

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static const char *memchr_last(const char *s, size_t n, char ch)
{
	while (n > 0)
		if (s[--n] == ch)
			return s + n;
	return NULL;
}

void ims_url_init(struct ims_url *u)
{
	memset(u, 0, sizeof(*u));
	u->kind = IMS_TARGET_NONE;
}

void ims_url_release(struct ims_url *u)
{
	free(u->user);
	free(u->auth);
	free(u->host);
	free(u->mailbox);
	free(u->section);
	free(u->word);
	ims_url_init(u);
}

/* NULL if s[0..n) is a valid DNS host name, else why not. */
static const char *hostname_problem(const char *s, size_t n, char *w, size_t wn)
{
	size_t i, label = 0;

	if (n == 0)
		return "empty host name";
	if (n > 1 && s[n - 1] == '.')
		n--; /* a trailing dot is allowed */
	if (n > 253)
		return "host name longer than 253 bytes";
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return "empty label in host name";
			label = 0;
			continue;
		}
		if (ch >= 0x80)
			return "non-ASCII host name (give it in its xn-- form)";
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			char t[24];

			snprintf(w, wn, "invalid character %s in host name",
			         show(ch, t, sizeof(t)));
			return w;
		}
		if (++label > 63)
			return "host name label longer than 63 bytes";
	}
	if (label == 0)
		return "empty label in host name";
	return NULL;
}

/* 1..65535 from s[0..n). */
static ims_err parse_port(struct pctx *c, const char *s, size_t n, unsigned *port_r)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return fail(c, "empty port after ':'");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(c, "port \"%.*s\" is not a number", (int)(n > 16 ? 16 : n), s);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(c, "port %.*s is out of range (1-65535)", (int)(n > 16 ? 16 : n), s);
	*port_r = (unsigned)v;
	return IMS_OK;
}

/* An IPv6 literal without brackets, into a NUL-terminated copy. */
static ims_err check_ipv6(struct pctx *c, const char *s, size_t n, char *out, size_t out_n)
{
	struct in6_addr a;

	if (memchr(s, '%', n) != NULL)
		return fail(c, "IPv6 zone identifiers are not supported");
	if (n == 0 || n >= out_n)
		return fail(c, "invalid IPv6 address");
	memcpy(out, s, n);
	out[n] = '\0';
	if (inet_pton(AF_INET6, out, &a) != 1)
		return fail(c, "invalid IPv6 address \"%s\"", out);
	return IMS_OK;
}

/* HOST[:PORT] or [IPv6][:PORT] into u. */
static ims_err parse_hostport(struct pctx *c, const char *s, size_t n)
{
	struct ims_url *u = c->u;
	const char *colon, *close;
	char w[64], v6[IMS_RESOLVE_ADDR_MAX];
	const char *why;
	size_t hn;

	if (n == 0)
		return fail(c, "empty host name");
	if (s[0] == '[') {
		close = memchr(s, ']', n);
		if (close == NULL)
			return fail(c, "'[' without ']' around the IPv6 address");
		if (check_ipv6(c, s + 1, (size_t)(close - s - 1), v6, sizeof(v6)) != IMS_OK)
			return c->e;
		u->host = dupn(v6, strlen(v6));
		if (u->host == NULL)
			return nomem(c);
		u->host_ipv6 = 1;
		if ((size_t)(close - s) + 1 == n)
			return IMS_OK;
		if (close[1] != ':')
			return fail(c, "unexpected %s after the IPv6 address",
			            show((unsigned char)close[1], w, sizeof(w)));
		u->port_given = 1;
		return parse_port(c, close + 2, n - (size_t)(close - s) - 2, &u->port);
	}
	colon = memchr(s, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) != NULL)
		return fail(c, "an IPv6 address must be in brackets, as [::1]:993");
	hn = colon != NULL ? (size_t)(colon - s) : n;
	why = hostname_problem(s, hn, w, sizeof(w));
	if (why != NULL)
		return fail(c, "%s", why);
	u->host = dupn(s, hn);
	if (u->host == NULL)
		return nomem(c);
	if (colon == NULL)
		return IMS_OK;
	u->port_given = 1;
	return parse_port(c, colon + 1, n - hn - 1, &u->port);
}

/* Percent-decode s[0..n) into a new UTF-8 string without controls. */
static ims_err pct_decode(struct pctx *c, const char *s, size_t n, const char *what, char **out_r)
{
	char *p = malloc(n + 1);
	size_t i, k = 0;
	int hi, lo;
	unsigned char ch;

	if (p == NULL)
		return nomem(c);
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '%') {
			hi = i + 2 < n ? ims_hex_digit((unsigned char)s[i + 1]) : -1;
			lo = hi >= 0 ? ims_hex_digit((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(p);
				return fail(c,
				            "bad percent-encoding in the %s ('%%' needs two hex "
				            "digits; write '%%' as %%25)",
				            what);
			}
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (ch < 0x20 || ch == 0x7f) {
				free(p);
				return fail(c, "control character (%%%02X) in the %s", ch, what);
			}
		}
		p[k++] = (char)ch;
	}
	p[k] = '\0';
	if (!ims_utf8_valid(p, k)) {
		free(p);
		return fail(c, "the %s is not valid UTF-8", what);
	}
	*out_r = p;
	return IMS_OK;
}

/* nz-number: 1..4294967295 without leading zeros. */
static ims_err parse_nz(struct pctx *c, const char *s, size_t n, const char *what, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || s[0] == '0')
		return fail(c, "%s must be a number from 1 to 4294967295", what);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(c, "%s must be a number from 1 to 4294967295", what);
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > 4294967295u)
			return fail(c, "%s must be a number from 1 to 4294967295", what);
	}
	*v_r = (uint32_t)v;
	return IMS_OK;
}

/* USER[;AUTH=MECH] of a URL. */
static ims_err parse_userinfo(struct pctx *c, const char *s, size_t n)
{
	struct ims_url *u = c->u;
	const char *semi = memchr(s, ';', n);
	size_t un = semi != NULL ? (size_t)(semi - s) : n, i;
	const char *m;
	size_t mn;

	if (memchr(s, ':', n) != NULL)
		return fail(c, "a password in the URL is not accepted (use --password-command, "
		               "IMAPSH_PASSWORD, netrc or the prompt)");
	if (memchr(s, '[', n) != NULL || memchr(s, ']', n) != NULL)
		return fail(c, "'[' and ']' must be percent-encoded in the user name");
	if (semi != NULL) {
		if (n - un < 6 || strncasecmp(semi, ";AUTH=", 6) != 0)
			return fail(c, "unknown parameter after the user name (only ;AUTH=)");
		m = semi + 6;
		mn = n - un - 6;
		if (mn == 0)
			return fail(c, "empty ;AUTH= mechanism");
		if (!(mn == 1 && m[0] == '*')) {
			if (pct_decode(c, m, mn, "AUTH mechanism", &u->auth) != IMS_OK)
				return c->e;
			for (i = 0; u->auth[i] != '\0'; i++) {
				unsigned char ch = (unsigned char)u->auth[i];

				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
					return fail(c, "invalid ;AUTH= mechanism");
			}
		}
	}
	if (un == 0) {
		if (semi == NULL)
			return fail(c, "empty user name before '@'");
		return IMS_OK; /* ";AUTH=X@host": no user */
	}
	if (pct_decode(c, s, un, "user name", &u->user) != IMS_OK)
		return c->e;
	if (u->user[0] == '\0')
		return fail(c, "empty user name before '@'");
	return IMS_OK;
}

enum { P_MAILBOX, P_UIDVALIDITY, P_UID, P_SECTION };

/* The path after HOST[:PORT], starting at '/' (n > 0). */
static ims_err parse_path(struct pctx *c, const char *s, size_t n)
{
	struct ims_url *u = c->u;
	const char *end = s + n, *semi, *q, *eq, *next;
	size_t mn, vn;
	int state = P_MAILBOX;

	if (memchr(s, '?', n) != NULL)
		return fail(c, "search URLs are not supported (write '?' as %%3F)");
	if (memchr(s, '#', n) != NULL)
		return fail(c, "'#' must be written %%23 in a URL");
	s++; /* the '/' */
	semi = memchr(s, ';', (size_t)(end - s));
	mn = (size_t)((semi != NULL ? semi : end) - s);
	if (mn > 0 && s[mn - 1] == '/')
		mn--;
	if (mn > 0 && pct_decode(c, s, mn, "mailbox name", &u->mailbox) != IMS_OK)
		return c->e;
	for (q = semi; q != NULL && q < end; q = next) {
		q++; /* the ';' */
		next = memchr(q, ';', (size_t)(end - q));
		if (next == NULL)
			next = end;
		eq = memchr(q, '=', (size_t)(next - q));
		if (eq == NULL)
			return fail(c, "URL parameter \";%.*s\" without '='",
			            (int)((next - q) > 32 ? 32 : (next - q)), q);
		vn = (size_t)(next - eq - 1);
		if (next < end && vn > 0 && eq[vn] == '/')
			vn--; /* the "/" of "/;UID=" */
#define IS(name) ((size_t)(eq - q) == strlen(name) && strncasecmp(q, name, strlen(name)) == 0)
		if (IS("UIDVALIDITY")) {
			if (state != P_MAILBOX)
				return fail(c, ";UIDVALIDITY= must come right after the mailbox");
			if (parse_nz(c, eq + 1, vn, "UIDVALIDITY", &u->uidvalidity) != IMS_OK)
				return c->e;
			state = P_UIDVALIDITY;
		} else if (IS("UID")) {
			if (state >= P_UID)
				return fail(c, ";UID= given twice or after ;SECTION=");
			if (parse_nz(c, eq + 1, vn, "UID", &u->uid) != IMS_OK)
				return c->e;
			state = P_UID;
		} else if (IS("SECTION")) {
			if (state != P_UID)
				return fail(c, ";SECTION= needs a ;UID= before it");
			if (vn == 0)
				return fail(c, "empty ;SECTION=");
			if (pct_decode(c, eq + 1, vn, "section", &u->section) != IMS_OK)
				return c->e;
			state = P_SECTION;
		} else if (IS("PARTIAL")) {
			return fail(c, "partial fetch URLs (;PARTIAL=) are not supported");
		} else if (IS("URLAUTH") || IS("EXPIRE")) {
			return fail(c, "URLAUTH URLs are not supported");
		} else {
			return fail(c, "unknown URL parameter \";%.*s\"",
			            (int)((eq - q) > 32 ? 32 : (eq - q)), q);
		}
#undef IS
	}
	if (state != P_MAILBOX && u->mailbox == NULL)
		return fail(c, ";UID= and ;UIDVALIDITY= need a mailbox");
	return IMS_OK;
}

static ims_err parse_url(struct pctx *c, const char *s, size_t n)
{
	size_t an = strcspn(s, "/?#");
	const char *at;

	if (an > n)
		an = n;
	at = memchr_last(s, an, '@');
	if (at != NULL && parse_userinfo(c, s, (size_t)(at - s)) != IMS_OK)
		return c->e;
	if (at != NULL)
		at++;
	else
		at = s;
	if (at == s + an)
		return fail(c, "empty host name");
	if (parse_hostport(c, at, (size_t)(s + an - at)) != IMS_OK)
		return c->e;
	if (an < n && parse_path(c, s + an, n - an) != IMS_OK)
		return c->e;
	return IMS_OK;
}

static ims_err parse_plain(struct pctx *c, const char *s, size_t n)
{
	struct ims_url *u = c->u;
	const char *at = memchr_last(s, n, '@');
	char w[64];

	if (!ims_utf8_valid(s, n))
		return fail(c, "not valid UTF-8");
	if (at == NULL && strcspn(s, ":.[") == n) {
		u->kind = IMS_TARGET_WORD;
		u->word = dupn(s, n);
		if (u->word == NULL)
			return nomem(c);
		if (hostname_problem(s, n, w, sizeof(w)) == NULL) {
			u->host = dupn(s, n);
			if (u->host == NULL)
				return nomem(c);
		}
		return IMS_OK;
	}
	u->kind = IMS_TARGET_HOST;
	if (at != NULL) {
		if (at == s)
			return fail(c, "empty user name before '@'");
		u->user = dupn(s, (size_t)(at - s));
		if (u->user == NULL)
			return nomem(c);
		n -= (size_t)(at + 1 - s);
		s = at + 1;
		if (n == 0)
			return fail(c, "empty host name after '@'");
	}
	return parse_hostport(c, s, n);
}

ims_err ims_url_parse(struct ims_url *u, const char *target, struct ims_error *err)
{
	struct pctx c = {u, err, "bad target", IMS_OK};
	size_t n, i;
	const char *sep;
	char w[24];

	ims_url_release(u);
	n = strlen(target);
	if (n == 0)
		return fail(&c, "empty");
	if (n > IMS_TARGET_MAX)
		return fail(&c, "longer than %d bytes", IMS_TARGET_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f)
			return fail(&c, "control character (%s) at position %zu",
			            show((unsigned char)target[i], w, sizeof(w)), i + 1);
	sep = strstr(target, "://");
	if (sep == NULL) {
		u->port = IMS_PORT_IMAPS;
		if (parse_plain(&c, target, n) != IMS_OK)
			return c.e;
		return IMS_OK;
	}
	c.what = "bad URL";
	if ((size_t)(sep - target) == 5 && strncasecmp(target, "imaps", 5) == 0) {
		u->starttls = 0;
	} else if ((size_t)(sep - target) == 4 && strncasecmp(target, "imap", 4) == 0) {
		u->starttls = 1;
	} else {
		i = (size_t)(sep - target);
		return fail(&c, "unsupported scheme \"%.*s://\" (imaps:// or imap://)",
		            (int)(i > 16 ? 16 : i), target);
	}
	u->kind = IMS_TARGET_URL;
	u->port = u->starttls ? IMS_PORT_IMAP : IMS_PORT_IMAPS;
	if (parse_url(&c, sep + 3, n - (size_t)(sep + 3 - target)) != IMS_OK)
		return c.e;
	return IMS_OK;
}

ims_err ims_resolve_parse(struct ims_resolve *r, const char *spec, struct ims_error *err)
{
	struct pctx c = {NULL, err, "bad --resolve", IMS_OK};
	const char *c1, *c2, *p, *item_end, *end;
	size_t n = strlen(spec), i, in;
	char w[64], v4[16];
	const char *why;
	struct in_addr a4;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f)
			return fail(&c, "control character at position %zu", i + 1);
	if (n > 0 && (spec[0] == '+' || spec[0] == '-'))
		return fail(&c, "the '+' and '-' forms are not supported");
	c1 = memchr(spec, ':', n);
	c2 = c1 != NULL ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - spec)) : NULL;
	if (c2 == NULL)
		return fail(&c, "expected HOST:PORT:ADDR[,ADDR...]");
	/* "*" stands for every host, as in curl */
	why = c1 - spec == 1 && spec[0] == '*'
	          ? NULL
	          : hostname_problem(spec, (size_t)(c1 - spec), w, sizeof(w));
	if (why != NULL)
		return fail(&c, "%s", why);
	memcpy(r->host, spec, (size_t)(c1 - spec));
	r->host[c1 - spec] = '\0';
	if (parse_port(&c, c1 + 1, (size_t)(c2 - c1 - 1), &r->port) != IMS_OK) {
		memset(r, 0, sizeof(*r));
		return c.e;
	}
	end = spec + n;
	for (p = c2 + 1;; p = item_end + 1) {
		item_end = memchr(p, ',', (size_t)(end - p));
		if (item_end == NULL)
			item_end = end;
		in = (size_t)(item_end - p);
		if (in == 0) {
			memset(r, 0, sizeof(*r));
			return fail(&c, "empty address");
		}
		if (r->n_addrs == IMS_RESOLVE_MAX) {
			memset(r, 0, sizeof(*r));
			return fail(&c, "more than %d addresses", IMS_RESOLVE_MAX);
		}
		if (p[0] == '[') {
			if (p[in - 1] != ']' || in < 3) {
				memset(r, 0, sizeof(*r));
				return fail(&c, "'[' without ']' around an IPv6 address");
			}
			if (check_ipv6(&c, p + 1, in - 2, r->addrs[r->n_addrs],
			               IMS_RESOLVE_ADDR_MAX) != IMS_OK) {
				memset(r, 0, sizeof(*r));
				return c.e;
			}
		} else {
			if (memchr(p, ':', in) != NULL) {
				memset(r, 0, sizeof(*r));
				return fail(&c, "an IPv6 address must be in brackets, as [::1]");
			}
			if (in >= sizeof(v4)) {
				memset(r, 0, sizeof(*r));
				return fail(&c, "invalid IPv4 address");
			}
			memcpy(v4, p, in);
			v4[in] = '\0';
			if (inet_pton(AF_INET, v4, &a4) != 1) {
				memset(r, 0, sizeof(*r));
				return fail(&c, "invalid IPv4 address \"%s\"", v4);
			}
			memcpy(r->addrs[r->n_addrs], v4, in + 1);
		}
		r->n_addrs++;
		if (item_end == end)
			break;
	}
	return IMS_OK;
}
