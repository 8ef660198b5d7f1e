/* TARGET and --resolve parsing.  Properties: no crash; whatever is
 * accepted has no control characters, valid UTF-8 strings, a host where
 * one is required, a port in range, and --resolve addresses that are
 * numeric. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/sanitize.h"
#include "imapsh/url.h"

static void check_str(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (!ims_utf8_valid(s, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_url u;
	struct ims_resolve r;
	struct ims_error err;
	unsigned char a[16];
	char *s = malloc(size + 1);
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	ims_url_init(&u);
	if (ims_url_parse(&u, s, &err) == IMS_OK) {
		if (u.kind == IMS_TARGET_NONE)
			abort();
		if (u.kind != IMS_TARGET_WORD && (u.host == NULL || u.host[0] == '\0'))
			abort();
		if (u.kind == IMS_TARGET_WORD && u.word == NULL)
			abort();
		if (u.port < 1 || u.port > 65535)
			abort();
		if (u.user != NULL && u.user[0] == '\0')
			abort();
		if ((u.uid != 0 || u.uidvalidity != 0) && u.mailbox == NULL)
			abort();
		if (u.section != NULL && u.uid == 0)
			abort();
		if (u.host_ipv6 && inet_pton(AF_INET6, u.host, a) != 1)
			abort();
		check_str(u.user);
		check_str(u.auth);
		check_str(u.host);
		check_str(u.mailbox);
		check_str(u.section);
		check_str(u.word);
	} else if (u.host != NULL || u.user != NULL || u.mailbox != NULL || u.word != NULL) {
		abort();
	}
	ims_url_release(&u);

	if (ims_resolve_parse(&r, s, &err) == IMS_OK) {
		if (r.n_addrs < 1 || r.n_addrs > IMS_RESOLVE_MAX || r.port < 1 || r.port > 65535 ||
		    r.host[0] == '\0')
			abort();
		for (i = 0; i < r.n_addrs; i++)
			if (inet_pton(AF_INET, r.addrs[i], a) != 1 &&
			    inet_pton(AF_INET6, r.addrs[i], a) != 1)
				abort();
		check_str(r.host);
	}
	free(s);
	return 0;
}
