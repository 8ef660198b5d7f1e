/* Trace redaction: one function decides what of a client command may be
 * shown.  See include/imapsh/redact.h. */
#include "imapsh/redact.h"

#include <stdint.h>
#include <strings.h>

static int blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* A byte that ends a bare word: a blank, a quote, a parenthesis, or the
 * start of a literal's header. */
static int word_end(unsigned char ch)
{
	return blank(ch) || ch == '"' || ch == '(' || ch == ')';
}

/* A character of a SASL mechanism name (RFC 4422: 1 to 20 of A-Z, 0-9,
 * '-' and '_'; any case here). */
static int mech_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

static int word_is(const char *w, size_t n, const char *name)
{
	size_t k;

	for (k = 0; name[k] != '\0'; k++)
		if (k >= n)
			return 0;
	return k == n && strncasecmp(w, name, n) == 0;
}

/* A literal header "{N}", "{N+}", "{N-}" or "~{N}..." at w (n bytes, a
 * whole word) followed by a line end: its size, or -1. */
static int64_t literal_size(const char *w, size_t n)
{
	size_t k = 0;
	uint64_t v = 0;

	if (k < n && w[k] == '~')
		k++;
	if (k >= n || w[k] != '{')
		return -1;
	k++;
	if (k >= n || w[k] < '0' || w[k] > '9')
		return -1;
	for (; k < n && w[k] >= '0' && w[k] <= '9'; k++) {
		if (v > (UINT64_C(1) << 40))
			return -1; /* never a real literal: no payload to skip */
		v = v * 10 + (uint64_t)(w[k] - '0');
	}
	if (k < n && (w[k] == '+' || w[k] == '-'))
		k++;
	if (k + 1 != n || w[k] != '}')
		return -1;
	return (int64_t)v;
}

size_t ims_redact_visible(const char *cmd, size_t len)
{
	const unsigned char *p = (const unsigned char *)cmd;
	size_t i = 0;

	while (i < len) {
		size_t start, n;
		int64_t lit;

		while (i < len && blank(p[i]))
			i++;
		if (i >= len)
			break;
		if (p[i] == '(' || p[i] == ')') {
			i++;
			continue;
		}
		if (p[i] == '"') { /* a quoted string is one word, never a command */
			for (i++; i < len && p[i] != '"'; i++)
				if (p[i] == '\\' && i + 1 < len)
					i++;
			i++;
			continue;
		}
		start = i;
		while (i < len && !word_end(p[i]))
			i++;
		n = i - start;
		if (word_is(cmd + start, n, "LOGIN"))
			return i;
		if (word_is(cmd + start, n, "AUTHENTICATE")) {
			size_t m = i;

			while (m < len && (p[m] == ' ' || p[m] == '\t'))
				m++;
			start = m;
			while (m < len && mech_char(p[m]))
				m++;
			/* the mechanism, when it is a whole mechanism name */
			if (m > start && m - start <= 20 && (m == len || blank(p[m])))
				return m;
			return i;
		}
		lit = literal_size(cmd + start, n);
		if (lit >= 0) {
			/* the header's line end, then the payload: data, not words */
			if (i < len && p[i] == '\r')
				i++;
			if (i < len && p[i] == '\n') {
				i++;
				i = (uint64_t)lit >= len - i ? len : i + (size_t)lit;
			}
		}
	}
	return len;
}
