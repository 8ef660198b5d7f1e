/* DNS lookups through c-ares: SRV (RFC 2782, for RFC 6186 discovery), MX,
 * and the addresses of a host, against one server the user names
 * (--dns-server ADDR[:PORT]) or the system's resolver.
 *
 * Bounded: every lookup ends by one deadline (struct ims_dns), an answer
 * of more than IMS_CAP_DNS_ANSWERS records is refused (IMS_ERR_LIMIT), and
 * a name longer than IMS_CAP_DNS_NAME or holding anything but letters,
 * digits, '-', '_' and '.' is skipped (it could not be a host to connect
 * to, and its bytes never reach a message).
 *
 * Errors: IMS_ERR_NO when the name has no record of the type asked
 * (NXDOMAIN, no data), IMS_ERR_NET when the server did not answer in time
 * or failed, IMS_ERR_USAGE for a malformed server or name.
 *
 * Part of the net library (src/net/).  Thread-safe: each call makes its
 * own c-ares channel.  Ownership: results are copied into the caller's
 * arrays; nothing is kept. */
#ifndef IMAPSH_DNS_H
#define IMAPSH_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/caps.h"
#include "imapsh/error.h"

#define IMS_DNS_ADDR_MAX 48 /* an address as text, with room to spare */

struct ims_dns {
	const char *server;  /* "ADDR", "ADDR:PORT", "[V6]:PORT"; NULL: the system's */
	int64_t deadline_ms; /* absolute, ims_now_ms(); 0: IMS_CAP_DNS_TIMEOUT_MS from now */
};

struct ims_dns_srv {
	char target[IMS_CAP_DNS_NAME + 1]; /* without a final dot; "." means no service */
	unsigned priority, weight, port;
};

struct ims_dns_mx {
	char host[IMS_CAP_DNS_NAME + 1];
	unsigned preference;
};

/* Whether spec is a server --dns-server takes: an IPv4 or IPv6 address,
 * with an optional port (IPv6 in brackets then).  IMS_ERR_USAGE with words. */
ims_err ims_dns_server_check(const char *spec, struct ims_error *err) IMS_MUST_CHECK;

/* The SRV records of name (such as "_imaps._tcp.example.com"), in the
 * order RFC 2782 says to try them (ims_dns_srv_order with random weights).
 * A single record whose target is "." is returned as it is: the domain
 * says the service is not offered (ims_dns_srv_none). */
ims_err ims_dns_srv(const struct ims_dns *d, const char *name, struct ims_dns_srv *v, size_t max,
                    size_t *n_r, struct ims_error *err) IMS_MUST_CHECK;

/* The MX records of domain, lowest preference first. */
ims_err ims_dns_mx(const struct ims_dns *d, const char *domain, struct ims_dns_mx *v, size_t max,
                   size_t *n_r, struct ims_error *err) IMS_MUST_CHECK;

/* The IPv4 and IPv6 addresses of host (A and AAAA), as text.  A host
 * that is an address already is returned as it is. */
ims_err ims_dns_addrs(const struct ims_dns *d, const char *host, char (*v)[IMS_DNS_ADDR_MAX],
                      size_t max, size_t *n_r, struct ims_error *err) IMS_MUST_CHECK;

/* Pure.  Order SRV records as RFC 2782 says: by priority, lowest first;
 * within one priority, by weighted random choice (records of weight 0
 * first in the running sum, as the RFC puts them).  rnd returns a random
 * number; tests give their own. */
void ims_dns_srv_order(struct ims_dns_srv *v, size_t n, uint32_t (*rnd)(void *ctx), void *ctx);

/* Pure.  1 when the answer says "no service" (RFC 2782: one record, its
 * target "."). */
int ims_dns_srv_none(const struct ims_dns_srv *v, size_t n);

/* Pure.  1 when s is a usable host name: 1 to IMS_CAP_DNS_NAME bytes of
 * letters, digits, '-', '_' and '.', no empty label (a final dot is
 * allowed). */
int ims_dns_name_ok(const char *s, size_t len);

#endif
