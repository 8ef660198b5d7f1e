#include "imapsh/connect.h"

#include <string.h>
#include <unistd.h>

#include "imapsh/starttls.h"

ims_err ims_connect(const struct ims_connect_params *p, struct ims_stream **s_r,
                    struct ims_connect_result *res, struct ims_error *err)
{
	struct ims_connect_opts co;
	struct ims_tls_opts to = p->tls;
	int fd = -1;
	int timeout = p->timeout_ms > 0 ? p->timeout_ms : 30000;
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
	return ims_tls_wrap(fd, p->host, &to, s_r, &res->tls, err);
}
