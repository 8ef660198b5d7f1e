/* A server's host name against a certificate's names, as bytes.
 *
 * The rules (RFC 6125 and the CA/Browser baseline, stricter where they
 * leave room):
 *  - a name is compared as the length-counted bytes the certificate holds
 *    (a dNSName straight from the DER), never as a C string: a NUL, a
 *    control byte, a space, a non-ASCII byte or any byte but a letter, a
 *    digit, '-' and '.' makes the name match no host at all;
 *  - labels are 1 to 63 bytes, the name at most 253 bytes, one trailing
 *    dot is ignored (in the host and in the name), case is ignored;
 *  - a wildcard only as the whole left-most label ("*.example.test"),
 *    standing for exactly one non-empty label, and never over a
 *    single-label suffix ("*.test");
 *  - a name whose last label is all digits (an IP address written as a
 *    DNS name) never matches: addresses match iPAddress entries only.
 * A host outside the same grammar (no '*') matches nothing.
 *
 * Pure: no I/O, no allocation; the transport calls it for each dNSName of
 * the server's certificate, in addition to mbedTLS's own check.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_TLSNAME_H
#define IMAPSH_TLSNAME_H

#include <stddef.h>

/* 1 when host[0..len) is a DNS host name by the rules above. */
int ims_tls_host_ok(const char *host, size_t len);

/* 1 when the certificate name name[0..name_len) (raw bytes) covers
 * host[0..host_len). */
int ims_tls_name_match(const char *host, size_t host_len, const unsigned char *name,
                       size_t name_len);

#endif
