/* The certificate name matcher (tlsname.h) against a reference written
 * here the plain way: split both names into labels, check every byte of
 * every label against the allowed set, compare label by label.  Input:
 * the first byte is the host's length (taken modulo what is left), the
 * host's bytes, then the certificate name's bytes.  Any disagreement, in
 * the match or in ims_tls_host_ok, aborts.  Links the base library alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/tlsname.h"

#define MAX_LABELS 128

struct labels {
	int n;
	char text[MAX_LABELS][64];
	size_t len[MAX_LABELS];
};

static const char allowed[] = "abcdefghijklmnopqrstuvwxyz0123456789-";

/* 1 and the lowercase labels when p[0..len) is a DNS name: one trailing
 * dot dropped, 1..253 bytes, labels of 1..63 bytes from `allowed` (after
 * lowercasing A-Z only), the last label not all digits. */
static int split(const unsigned char *p, size_t len, struct labels *out)
{
	char buf[256];
	size_t i, start = 0;

	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		buf[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : (char)p[i];
	out->n = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || buf[i] == '.') {
			size_t l = i - start;

			if (l == 0 || l > 63 || out->n >= MAX_LABELS)
				return 0;
			memcpy(out->text[out->n], buf + start, l);
			out->len[out->n] = l;
			out->n++;
			start = i + 1;
		} else if (buf[i] == '\0' || strchr(allowed, buf[i]) == NULL) {
			return 0;
		}
	}
	for (i = 0; i < out->len[out->n - 1]; i++)
		if (out->text[out->n - 1][i] < '0' || out->text[out->n - 1][i] > '9')
			return 1;
	return 0; /* an IP address written as a DNS name */
}

static int same_label(const struct labels *a, int i, const struct labels *b, int k)
{
	return a->len[i] == b->len[k] && memcmp(a->text[i], b->text[k], a->len[i]) == 0;
}

static int reference(const unsigned char *host, size_t hl, const unsigned char *name, size_t nl)
{
	static struct labels h, n;
	int i;

	if (!split(host, hl, &h))
		return 0;
	if (nl >= 2 && name[0] == '*' && name[1] == '.') {
		/* "*" stands for the host's first label; the rest, two labels
		 * at least, must be the host's other labels. */
		if (!split(name + 2, nl - 2, &n) || n.n < 2 || h.n != n.n + 1)
			return 0;
		for (i = 0; i < n.n; i++)
			if (!same_label(&h, i + 1, &n, i))
				return 0;
		return 1;
	}
	if (!split(name, nl, &n) || n.n != h.n)
		return 0;
	for (i = 0; i < n.n; i++)
		if (!same_label(&h, i, &n, i))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct labels scratch;
	const unsigned char *host, *name;
	size_t hl, nl;

	if (size == 0)
		return 0;
	hl = data[0] % size; /* 0 .. size-1 bytes for the host */
	host = data + 1;
	name = host + hl;
	nl = size - 1 - hl;
	if (ims_tls_name_match((const char *)host, hl, name, nl) != reference(host, hl, name, nl))
		abort();
	if (ims_tls_host_ok((const char *)host, hl) != split(host, hl, &scratch))
		abort();
	/* the name as a host, too (a host never holds '*') */
	if (ims_tls_host_ok((const char *)name, nl) != split(name, nl, &scratch))
		abort();
	if (ims_tls_name_match((const char *)name, nl, host, hl) != reference(name, nl, host, hl))
		abort();
	return 0;
}
