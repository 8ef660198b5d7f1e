/* autoconfig.  Properties: whole and split at any point the same answer;
 * every server kept has a host name, a port from 1 to 65535 and a known
 * socket type; an error always carries words; no DTD is ever accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/autoconfig.h"
#include "imapsh/tlsname.h"

static int has(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ims_autoconfig a, b;
	struct ims_error e1, e2;
	struct ims_ac_parser *p;
	ims_err r1, r2 = IMS_OK;
	size_t cut = size > 0 ? data[0] % (size + 1) : 0, i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	r1 = ims_autoconfig_parse("alice@example.com", data, size, &a, &e1);
	if (r1 != IMS_OK && e1.msg[0] == '\0')
		abort();
	p = ims_ac_parser_new("alice@example.com");
	if (p == NULL)
		return 0;
	r2 = ims_ac_parser_feed(p, data, cut, &e2);
	if (r2 == IMS_OK)
		r2 = ims_ac_parser_feed(p, data + cut, size - cut, &e2);
	if (r2 == IMS_OK)
		r2 = ims_ac_parser_finish(p, &b, &e2);
	ims_ac_parser_free(&p);
	if (r1 != r2)
		abort();
	if (r1 != IMS_OK)
		return 0;
	if (a.n_servers != b.n_servers || a.n_skipped != b.n_skipped)
		abort();
	if (has(data, size, "<!DOCTYPE"))
		abort();
	for (i = 0; i < a.n_servers; i++) {
		const struct ims_ac_server *s = &a.servers[i];

		if (!ims_tls_host_ok(s->hostname, strlen(s->hostname)) || s->port == 0 ||
		    s->port > 65535 || s->socket < IMS_AC_SSL || s->socket > IMS_AC_PLAIN)
			abort();
		if (strcmp(s->hostname, b.servers[i].hostname) != 0)
			abort();
	}
	return 0;
}
