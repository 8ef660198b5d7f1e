#include "imapsh/connect.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imapsh/starttls.h"
#include "session_int.h"

/* How long a plaintext server may keep quiet before imapsh asks whether
 * the port speaks TLS instead: an IMAP server greets at once. */
#define QUIET_PROBE_MS 1000

/* host as a URL writes it: an IPv6 address in brackets. */
static const char *url_host(const char *host, char *buf, size_t n)
{
	snprintf(buf, n, strchr(host, ':') != NULL ? "[%s]" : "%s", host);
	return buf;
}

/* 1 when fd has something to read within ms. */
static int readable_within(int fd, int ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	int r;

	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	return r != 0;
}

/* A second connection to the address the first one reached (the last
 * attempt of rep), for a probe: a socket, or -1. */
static int probe_connect(const struct ims_connect_opts *co, const struct ims_connect_report *rep,
                         int timeout)
{
	struct ims_connect_opts po = *co;
	struct ims_error e;
	const char *addr;
	int fd = -1;

	if (rep->n_attempts == 0)
		return -1;
	addr = rep->addrs[rep->n_attempts - 1];
	po.addrs = &addr;
	po.n_addrs = 1;
	po.timeout_ms = timeout;
	if (ims_tcp_connect(&po, &fd, NULL, &e) != IMS_OK)
		return -1;
	return fd;
}

/* A STARTTLS connection whose server has said nothing for a second may
 * have reached an implicit-TLS port (993), which waits for the client's
 * hello.  Ask on a second connection to the same address: a TLS handshake
 * that completes (nothing is verified, nothing is sent after it) shows the
 * port speaks TLS, so the user hears "use imaps://" now instead of a
 * timeout later.  1 when it does. */
static int port_speaks_tls(const struct ims_connect_opts *co, const struct ims_connect_report *rep,
                           const char *host, int timeout)
{
	struct ims_tls_opts to;
	struct ims_stream *s = NULL;
	struct ims_error e;
	int fd = probe_connect(co, rep, timeout);

	if (fd < 0)
		return 0;
	memset(&to, 0, sizeof(to));
	to.insecure_noverify = 1; /* a probe: nothing is sent over it */
	to.timeout_ms = timeout;
	if (ims_tls_wrap(fd, host, &to, &s, NULL, &e) != IMS_OK)
		return 0;
	ims_stream_close(&s);
	return 1;
}

/* A TLS handshake that failed before any certificate arrived may have
 * met a plaintext IMAP port (143), which greets first.  Read the first line
 * of a second connection to the same address for up to a second; 1 when it
 * is an IMAP greeting, copied (cut, as the server's words) to line. */
static int port_greets_plaintext(const struct ims_connect_opts *co,
                                 const struct ims_connect_report *rep, char *line, size_t n)
{
	struct ims_stream *s;
	struct ims_error e;
	char buf[512];
	int fd = probe_connect(co, rep, QUIET_PROBE_MS), ok;

	if (fd < 0)
		return 0;
	s = ims_stream_fd_new(fd, QUIET_PROBE_MS);
	if (s == NULL) {
		close(fd);
		return 0;
	}
	s->deadline_ms = ims_now_ms() + QUIET_PROBE_MS;
	ok = ims_read_line_exact(s, buf, sizeof(buf), &e) == IMS_OK &&
	     (strncmp(buf, "* OK", 4) == 0 || strncmp(buf, "* PREAUTH", 9) == 0 ||
	      strncmp(buf, "* BYE", 5) == 0);
	ims_stream_close(&s);
	if (ok)
		ims__server_words(buf, line, n);
	return ok;
}

ims_err ims_connect(const struct ims_connect_params *p, struct ims_stream **s_r,
                    struct ims_connect_result *res, struct ims_error *err)
{
	struct ims_connect_opts co;
	struct ims_tls_opts to = p->tls;
	int fd = -1;
	int timeout = p->timeout_ms > 0 ? p->timeout_ms : 30000;
	char h[300];
	ims_err e;

	*s_r = NULL;
	memset(res, 0, sizeof(*res));
	memset(&co, 0, sizeof(co));
	co.host = p->host;
	co.port = p->port != 0 ? p->port : (p->mode == IMS_TLS_STARTTLS ? 143 : 993);
	co.addrs = p->resolve_addrs;
	co.n_addrs = p->n_resolve;
	co.timeout_ms = timeout;
	e = ims_tcp_connect(&co, &fd, &res->net, err);
	if (e != IMS_OK)
		return e;

	if (p->mode == IMS_TLS_STARTTLS) {
		struct ims_stream *plain = ims_stream_fd_new(fd, timeout);
		int64_t t0 = ims_now_ms();

		if (plain == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		/* The whole plaintext exchange must finish within the timeout. */
		plain->deadline_ms = t0 + timeout;
		if (!readable_within(fd, timeout < QUIET_PROBE_MS ? timeout : QUIET_PROBE_MS) &&
		    port_speaks_tls(&co, &res->net, p->host, timeout)) {
			ims_stream_close(&plain);
			return ims_error_set(
			    err, IMS_ERR_TLS,
			    "starttls: %s port %u speaks TLS from the first byte "
			    "(implicit TLS, as on port 993), not plaintext IMAP: use "
			    "imaps://%s:%u (without --starttls)",
			    p->host, co.port, url_host(p->host, h, sizeof(h)), co.port);
		}
		e = ims_starttls_negotiate(plain, res->greeting, sizeof(res->greeting), err);
		res->greeting_read = res->greeting[0] != '\0';
		res->starttls_ms = ims_now_ms() - t0;
		if (e != IMS_OK) {
			ims_stream_close(&plain);
			return e;
		}
		fd = ims_stream_fd_release(&plain);
	}
	if (to.timeout_ms <= 0)
		to.timeout_ms = timeout;
	res->tls_started = 1;
	e = ims_tls_wrap(fd, p->host, &to, s_r, &res->tls, err);
	if (e == IMS_ERR_TLS && p->mode != IMS_TLS_STARTTLS && res->tls.n_chain == 0) {
		char greeting[72];

		if (port_greets_plaintext(&co, &res->net, greeting, sizeof(greeting)))
			return ims_error_set(
			    err, IMS_ERR_TLS,
			    "tls: %s port %u speaks plaintext IMAP, not TLS (it greets "
			    "\"%s\"): use imap://%s:%u or --starttls to upgrade it "
			    "with STARTTLS",
			    p->host, co.port, greeting, url_host(p->host, h, sizeof(h)), co.port);
	}
	return e;
}
