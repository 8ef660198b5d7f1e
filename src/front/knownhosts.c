/* The known-hosts pin store (knownhosts.h). */
#include "imapsh/knownhosts.h"
#include "imapsh/textutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PIN_PREFIX  "sha256//"
#define PIN_B64_LEN 44 /* base64 of 32 bytes, with one '=' */

void ims_kh_init(struct ims_kh *kh)
{
	memset(kh, 0, sizeof(*kh));
}

void ims_kh_release(struct ims_kh *kh)
{
	size_t i;

	for (i = 0; i < kh->n; i++)
		free(kh->v[i].text);
	free(kh->v);
	ims_kh_init(kh);
}

int ims_kh_pin_valid(const char *pin)
{
	const char *b = pin + strlen(PIN_PREFIX);
	size_t i;

	if (strncmp(pin, PIN_PREFIX, strlen(PIN_PREFIX)) != 0 || strlen(b) != PIN_B64_LEN)
		return 0;
	for (i = 0; i + 1 < PIN_B64_LEN; i++)
		if (ims_b64_digit((unsigned char)b[i], '/') < 0)
			return 0;
	/* 32 bytes: 42 full characters and one carrying 2 bits plus 4 zero
	 * bits (canonical), then '='. */
	return b[PIN_B64_LEN - 1] == '=' &&
	       (ims_b64_digit((unsigned char)b[PIN_B64_LEN - 2], '/') & 3) == 0;
}

/* Host without trailing dot, compared blind to case. */
static size_t host_len(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && h[n - 1] == '.' ? n - 1 : n;
}

int ims_kh_host_equal(const char *a, const char *b)
{
	size_t la = host_len(a), lb = host_len(b);

	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Check and normalise s[0..len) into out: a DNS name (letters, digits,
 * '-', '_', '.', no empty label, one trailing dot dropped) or, when ipv6,
 * an IPv6 literal (hex digits, ':' and '.'). */
static const char *host_norm(const char *s, size_t len, int ipv6, char *out, size_t n)
{
	size_t i;

	if (!ipv6 && len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty host";
	if (len > 253 || len + 1 > n)
		return "host name too long";
	for (i = 0; i < len; i++) {
		char ch = s[i];
		int ok;

		if (ipv6)
			ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			     (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.';
		else
			ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_' ||
			     (ch == '.' && i > 0 && s[i - 1] != '.');
		if (!ok)
			return ipv6 ? "bad IPv6 address" : "bad host name";
		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	if (ipv6 && memchr(s, ':', len) == NULL)
		return "bad IPv6 address";
	out[len] = '\0';
	return NULL;
}

ims_err ims_kh_hostport_parse(const char *s, unsigned default_port, char *host_r, size_t n,
                              unsigned *port_r, struct ims_error *err)
{
	const char *h = s, *colon, *why;
	size_t hl;
	int ipv6 = 0;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			return ims_error_set(err, IMS_ERR_USAGE, "'%s': missing ']'", s);
		h = s + 1;
		hl = (size_t)(rb - h);
		ipv6 = 1;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			return ims_error_set(err, IMS_ERR_USAGE, "'%s': text after ']'", s);
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "'%s': write an IPv6 address in brackets, [%s]", s, s);
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	why = host_norm(h, hl, ipv6, host_r, n);
	if (why != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "'%s': %s", s, why);
	*port_r = default_port;
	if (colon != NULL) {
		const char *p = colon + 1;
		unsigned long v = 0;

		if (*p == '\0')
			return ims_error_set(err, IMS_ERR_USAGE, "'%s': empty port", s);
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9' || v > 65535)
				break;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (*p != '\0' || v == 0 || v > 65535)
			return ims_error_set(err, IMS_ERR_USAGE, "'%s': port must be 1 to 65535",
			                     s);
		*port_r = (unsigned)v;
	}
	return IMS_OK;
}

static struct ims_kh_entry *entry_new(struct ims_kh *kh)
{
	struct ims_kh_entry *e;

	if (kh->n == kh->cap) {
		size_t nc = kh->cap ? kh->cap * 2 : 16;
		struct ims_kh_entry *nv = realloc(kh->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		kh->v = nv;
		kh->cap = nc;
	}
	e = &kh->v[kh->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static void truncate_to(struct ims_kh *kh, size_t n0)
{
	while (kh->n > n0)
		free(kh->v[--kh->n].text);
}

/* One line (without its end) into kh. */
static ims_err parse_line(struct ims_kh *kh, const char *line, size_t len, const char *name,
                          unsigned lineno, struct ims_error *err)
{
	struct ims_kh_entry *e;
	const char *p = line, *end = line + len;
	char hp[IMS_KH_HOST_MAX + 16], pin[IMS_KH_PIN_MAX];
	size_t hl, pl;
	struct ims_error sub;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (memchr(line, '\0', len) != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: NUL byte", name, lineno);
	if (p == end || *p == '#') {
		e = entry_new(kh);
		if (e == NULL || (e->text = malloc(len + 1)) == NULL) {
			if (e != NULL)
				kh->n--;
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		}
		memcpy(e->text, line, len);
		e->text[len] = '\0';
		return IMS_OK;
	}
	for (hl = 0; p + hl < end && p[hl] != ' ' && p[hl] != '\t'; hl++)
		;
	if (hl >= sizeof(hp))
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: host name too long", name, lineno);
	memcpy(hp, p, hl);
	hp[hl] = '\0';
	p += hl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (pl = 0; p + pl < end && p[pl] != ' ' && p[pl] != '\t'; pl++)
		;
	if (pl == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: expected HOST:PORT sha256//BASE64",
		                     name, lineno);
	memcpy(pin, p, pl < sizeof(pin) ? pl : 0);
	pin[pl < sizeof(pin) ? pl : 0] = '\0'; /* too long: not a valid pin */
	p += pl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end)
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: text after the pin", name, lineno);
	e = entry_new(kh);
	if (e == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	ims_error_init(&sub);
	if (ims_kh_hostport_parse(hp, 0, e->host, sizeof(e->host), &e->port, &sub) != IMS_OK) {
		kh->n--;
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: %s", name, lineno, sub.msg);
	}
	if (e->port == 0) {
		kh->n--;
		return ims_error_set(err, IMS_ERR_USAGE, "%s:%u: '%s' has no port", name, lineno,
		                     hp);
	}
	if (!ims_kh_pin_valid(pin)) {
		kh->n--;
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "%s:%u: bad pin (want sha256// and 44 base64 characters)",
		                     name, lineno);
	}
	memcpy(e->pin, pin, strlen(pin) + 1);
	return IMS_OK;
}

ims_err ims_kh_parse(struct ims_kh *kh, const char *text, size_t len, const char *name,
                     struct ims_error *err)
{
	size_t n0 = kh->n, off = 0;
	unsigned lineno = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		size_t next = off + ll + (nl != NULL);

		lineno++;
		if (ll > 0 && text[off + ll - 1] == '\r')
			ll--;
		if (parse_line(kh, text + off, ll, name, lineno, err) != IMS_OK) {
			truncate_to(kh, n0);
			return err->code;
		}
		off = next;
	}
	return IMS_OK;
}

ims_err ims_kh_format(const struct ims_kh *kh, struct ims_buf *out, struct ims_error *err)
{
	size_t i;
	ims_err e = IMS_OK;

	for (i = 0; i < kh->n && e == IMS_OK; i++) {
		const struct ims_kh_entry *en = &kh->v[i];

		if (en->text != NULL)
			e = ims_buf_printf(out, "%s\n", en->text);
		else if (strchr(en->host, ':') != NULL)
			e = ims_buf_printf(out, "[%s]:%u %s\n", en->host, en->port, en->pin);
		else
			e = ims_buf_printf(out, "%s:%u %s\n", en->host, en->port, en->pin);
	}
	if (e != IMS_OK)
		return ims_error_set(err, e, "known hosts: out of memory");
	return IMS_OK;
}

size_t ims_kh_lookup(const struct ims_kh *kh, const char *host, unsigned port, const char **pins,
                     size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < kh->n; i++) {
		const struct ims_kh_entry *e = &kh->v[i];

		if (e->text != NULL || e->port != port || !ims_kh_host_equal(e->host, host))
			continue;
		if (n < max)
			pins[n] = e->pin;
		n++;
	}
	return n;
}

ims_err ims_kh_add(struct ims_kh *kh, const char *host, unsigned port, const char *pin,
                   int *added_r, struct ims_error *err)
{
	char norm[IMS_KH_HOST_MAX];
	struct ims_kh_entry *e;
	const char *why;
	size_t i;

	if (added_r != NULL)
		*added_r = 0;
	why = host_norm(host, strlen(host), strchr(host, ':') != NULL, norm, sizeof(norm));
	if (why != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "'%s': %s", host, why);
	if (port == 0 || port > 65535)
		return ims_error_set(err, IMS_ERR_USAGE, "port must be 1 to 65535");
	if (!ims_kh_pin_valid(pin))
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "'%s' is not a pin (want sha256// and 44 base64 characters)",
		                     pin);
	for (i = 0; i < kh->n; i++) {
		e = &kh->v[i];
		if (e->text == NULL && e->port == port && ims_kh_host_equal(e->host, norm) &&
		    strcmp(e->pin, pin) == 0)
			return IMS_OK;
	}
	e = entry_new(kh);
	if (e == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	memcpy(e->host, norm, strlen(norm) + 1);
	e->port = port;
	memcpy(e->pin, pin, strlen(pin) + 1);
	if (added_r != NULL)
		*added_r = 1;
	return IMS_OK;
}

size_t ims_kh_remove(struct ims_kh *kh, const char *host, unsigned port, const char *pin)
{
	size_t i, k = 0, gone = 0;

	for (i = 0; i < kh->n; i++) {
		struct ims_kh_entry *e = &kh->v[i];

		if (e->text == NULL && (port == 0 || e->port == port) &&
		    ims_kh_host_equal(e->host, host) && (pin == NULL || strcmp(e->pin, pin) == 0)) {
			gone++;
			continue;
		}
		if (k != i)
			kh->v[k] = *e;
		k++;
	}
	kh->n = k;
	return gone;
}
