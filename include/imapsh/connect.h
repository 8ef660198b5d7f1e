/* Open a connection to an IMAP server, ready for the session: TCP (every
 * address in turn), then implicit TLS (imaps) or STARTTLS (imap://,
 * --starttls; never plaintext), verified as transport.h says.
 *
 * With implicit TLS the greeting is still unread on the returned stream;
 * with STARTTLS it was read in plaintext and is returned in
 * result->greeting, and the server sends no second one (RFC 3501). */
#ifndef IMAPSH_CONNECT_H
#define IMAPSH_CONNECT_H

#include "imapsh/transport.h"

enum ims_tls_mode { IMS_TLS_IMPLICIT = 0, IMS_TLS_STARTTLS = 1 };

struct ims_connect_params {
	const char *host;
	unsigned port; /* 0: 993 implicit, 143 STARTTLS */
	enum ims_tls_mode mode;
	const char *const *resolve_addrs; /* --resolve for this host:port */
	size_t n_resolve;
	struct ims_tls_opts tls;
	int timeout_ms;
};

struct ims_connect_result {
	struct ims_connect_report net;
	struct ims_tls_info tls;
	int64_t starttls_ms; /* plaintext exchange, STARTTLS only */
	char greeting[1024]; /* STARTTLS: the plaintext greeting */
	int greeting_read;   /* 1 when greeting holds it */
	int tls_started;     /* the handshake was attempted */
};

/* On success *s_r is a verified TLS stream.  result (required) records
 * every stage, also on failure. */
ims_err ims_connect(const struct ims_connect_params *p, struct ims_stream **s_r,
                    struct ims_connect_result *result, struct ims_error *err) IMS_MUST_CHECK;

#endif
