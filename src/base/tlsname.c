/* Certificate name matching on length-counted bytes (tlsname.h). */
#include "imapsh/tlsname.h"

#include <string.h>

static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* The length of s without its one trailing dot when s is a well-formed
 * DNS name (letters, digits and '-' in labels of 1..63 bytes joined by
 * single dots, at most 253 bytes, the last label not all digits); 0 when
 * it is not. */
static size_t dns_shape(const unsigned char *s, size_t len)
{
	size_t i, label = 0, digits = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			digits = 0;
			continue;
		}
		if (!is_ldh(s[i]) || ++label > 63)
			return 0;
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
	}
	if (label == 0 || digits == label)
		return 0;
	return len;
}

static int same_nocase(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

int ims_tls_host_ok(const char *host, size_t len)
{
	return host != NULL && dns_shape((const unsigned char *)host, len) != 0;
}

int ims_tls_name_match(const char *host_in, size_t host_len, const unsigned char *name,
                       size_t name_len)
{
	const unsigned char *host = (const unsigned char *)host_in;
	const unsigned char *dot;
	size_t h, n;

	if (host == NULL || name == NULL)
		return 0;
	h = dns_shape(host, host_len);
	if (h == 0)
		return 0;
	if (name_len >= 2 && name[0] == '*' && name[1] == '.') {
		/* "*." and then a name of two labels at least */
		n = dns_shape(name + 2, name_len - 2);
		if (n == 0 || memchr(name + 2, '.', n) == NULL)
			return 0;
		dot = memchr(host, '.', h);
		if (dot == NULL)
			return 0;
		dot++;
		return (size_t)(host + h - dot) == n && same_nocase(dot, name + 2, n);
	}
	n = dns_shape(name, name_len);
	return n != 0 && n == h && same_nocase(host, name, n);
}
