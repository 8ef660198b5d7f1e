/* TCP: resolve, connect to each address in turn with a timeout, and a
 * plaintext stream over the socket (used only before STARTTLS). */
#include "imapsh/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/net_int.h"

static void format_addr(const struct sockaddr *sa, char *out, size_t n, int with_port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		if (with_port)
			snprintf(out, n, "%s:%u", host, port);
		else
			snprintf(out, n, "%s", host);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		if (with_port)
			snprintf(out, n, "[%s]:%u", host, port);
		else
			snprintf(out, n, "%s", host);
	} else {
		snprintf(out, n, "?");
	}
}

static const volatile sig_atomic_t *cancel_flag;

void ims_transport_set_cancel_flag(const volatile sig_atomic_t *flag)
{
	cancel_flag = flag;
}

int ims_transport_cancelled(void)
{
	return cancel_flag != NULL && *cancel_flag != 0;
}

/* Wait for fd to become readable/writable; returns 1 ready, 0 timeout, -1
 * error, -2 cancelled (the cancel flag was set, e.g. by Ctrl-C). */
int ims_net_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p;
	int r;

	p.fd = fd;
	p.events = events;
	p.revents = 0;
	for (;;) {
		if (ims_transport_cancelled())
			return -2;
		r = poll(&p, 1, timeout_ms);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0)
		return -1;
	return r > 0 ? 1 : 0;
}

static int try_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms, char *why,
                       size_t why_len)
{
	int fd, r, soerr = 0, one = 1;
	socklen_t sl = sizeof(soerr);

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, sa, len);
	if (r < 0 && errno != EINPROGRESS) {
		snprintf(why, why_len, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (r < 0) {
		r = ims_net_wait(fd, POLLOUT, timeout_ms);
		if (r == -2) {
			snprintf(why, why_len, "interrupted");
			close(fd);
			return -1;
		}
		if (r == 0) {
			snprintf(why, why_len, "timed out after %d ms", timeout_ms);
			close(fd);
			return -1;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			snprintf(why, why_len, "%s", strerror(soerr != 0 ? soerr : errno));
			close(fd);
			return -1;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

ims_err ims_tcp_connect(const struct ims_connect_opts *o, int *fd_r, struct ims_connect_report *rep,
                        struct ims_error *err)
{
	struct ims_connect_report local;
	struct addrinfo hints, *res = NULL, *ai;
	struct addrinfo *list[IMS_MAX_ADDRS];
	struct sockaddr_storage fixed[IMS_MAX_ADDRS];
	socklen_t fixed_len[IMS_MAX_ADDRS];
	size_t n = 0, i;
	char port[16];
	int64_t t0, t1;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	int fd = -1;

	*fd_r = -1;
	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	snprintf(port, sizeof(port), "%u", o->port);
	t0 = ims_now_ms();

	if (o->n_addrs > 0) {
		for (i = 0; i < o->n_addrs && n < IMS_MAX_ADDRS; i++) {
			struct sockaddr_in *in = (struct sockaddr_in *)&fixed[n];
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&fixed[n];

			memset(&fixed[n], 0, sizeof(fixed[n]));
			if (inet_pton(AF_INET, o->addrs[i], &in->sin_addr) == 1) {
				in->sin_family = AF_INET;
				in->sin_port = htons((uint16_t)o->port);
				fixed_len[n] = sizeof(*in);
			} else if (inet_pton(AF_INET6, o->addrs[i], &in6->sin6_addr) == 1) {
				in6->sin6_family = AF_INET6;
				in6->sin6_port = htons((uint16_t)o->port);
				fixed_len[n] = sizeof(*in6);
			} else {
				return ims_error_set(err, IMS_ERR_USAGE,
				                     "resolve: '%s' is not a numeric address",
				                     o->addrs[i]);
			}
			n++;
		}
	} else {
		int r;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_ADDRCONFIG;
		r = getaddrinfo(o->host, port, &hints, &res);
		if (r == EAI_NONAME) {
			/* AI_ADDRCONFIG hides loopback-only setups; ask again. */
			hints.ai_flags = 0;
			r = getaddrinfo(o->host, port, &hints, &res);
		}
		if (r != 0) {
			rep->resolve_ms = ims_now_ms() - t0;
			return ims_error_set(err, IMS_ERR_NET, "resolve %s: %s", o->host,
			                     r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		}
		for (ai = res; ai != NULL && n < IMS_MAX_ADDRS; ai = ai->ai_next)
			list[n++] = ai;
	}
	t1 = ims_now_ms();
	rep->resolve_ms = t1 - t0;
	rep->n_addrs = n;
	for (i = 0; i < n; i++) {
		const struct sockaddr *sa =
		    o->n_addrs > 0 ? (const struct sockaddr *)&fixed[i] : list[i]->ai_addr;
		format_addr(sa, rep->addrs[i], sizeof(rep->addrs[i]), 0);
	}

	for (i = 0; i < n && fd < 0; i++) {
		const struct sockaddr *sa;
		socklen_t len;
		struct ims_addr_attempt *at = &rep->attempts[rep->n_attempts++];
		int64_t a0 = ims_now_ms();

		if (o->n_addrs > 0) {
			sa = (const struct sockaddr *)&fixed[i];
			len = fixed_len[i];
		} else {
			sa = list[i]->ai_addr;
			len = list[i]->ai_addrlen;
		}
		format_addr(sa, at->addr, sizeof(at->addr), 1);
		fd = try_connect(sa, len, timeout, at->why, sizeof(at->why));
		at->ms = ims_now_ms() - a0;
		at->ok = fd >= 0;
		if (fd >= 0)
			snprintf(rep->peer, sizeof(rep->peer), "%s", at->addr);
	}
	if (res != NULL)
		freeaddrinfo(res);
	rep->connect_ms = ims_now_ms() - t1;
	if (fd < 0) {
		if (rep->n_attempts == 1)
			return ims_error_set(err, IMS_ERR_NET, "connect %s: %s",
			                     rep->attempts[0].addr, rep->attempts[0].why);
		if (rep->n_attempts == 0)
			return ims_error_set(err, IMS_ERR_NET, "resolve %s: no address", o->host);
		return ims_error_set(
		    err, IMS_ERR_NET, "connect %s port %u: all %zu addresses failed (last %s: %s)",
		    o->host, o->port, rep->n_attempts, rep->attempts[rep->n_attempts - 1].addr,
		    rep->attempts[rep->n_attempts - 1].why);
	}
	*fd_r = fd;
	return IMS_OK;
}

/* Plain socket stream. */
struct fd_stream {
	struct ims_stream base;
	int fd;
};

ims_err ims_net_read(struct ims_stream *s, int fd, void *p, size_t len, size_t *got_r)
{
	for (;;) {
		ssize_t r = recv(fd, p, len, 0);
		int w;

		if (r >= 0) {
			*got_r = (size_t)r;
			return IMS_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return ims_error_set(&s->err, IMS_ERR_NET, "connection lost: %s",
			                     strerror(errno));
		w = ims_net_wait(fd, POLLIN, ims_stream_wait_ms(s));
		if (w == -2)
			return ims_error_set(&s->err, IMS_ERR_CANCELLED, "interrupted");
		if (w == 0)
			return ims_error_set(&s->err, IMS_ERR_NET,
			                     "timed out waiting for the server");
		if (w < 0)
			return ims_error_set(&s->err, IMS_ERR_NET, "poll: %s", strerror(errno));
	}
}

ims_err ims_net_write(struct ims_stream *s, int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t r = send(fd, c, len, MSG_NOSIGNAL);
		int w;

		if (r > 0) {
			c += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return ims_error_set(&s->err, IMS_ERR_NET, "connection lost: %s",
			                     strerror(errno));
		w = ims_net_wait(fd, POLLOUT, ims_stream_wait_ms(s));
		if (w == -2)
			return ims_error_set(&s->err, IMS_ERR_CANCELLED, "interrupted");
		if (w == 0)
			return ims_error_set(&s->err, IMS_ERR_NET,
			                     "timed out sending to the server");
		if (w < 0)
			return ims_error_set(&s->err, IMS_ERR_NET, "poll: %s", strerror(errno));
	}
	return IMS_OK;
}

static ims_err fd_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	return ims_net_read(s, ((struct fd_stream *)s)->fd, p, len, got_r);
}

static ims_err fd_write(struct ims_stream *s, const void *p, size_t len)
{
	return ims_net_write(s, ((struct fd_stream *)s)->fd, p, len);
}

static size_t fd_pending(struct ims_stream *s)
{
	char c;
	ssize_t r = recv(((struct fd_stream *)s)->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return r > 0 ? 1 : 0;
}

static void fd_close(struct ims_stream *s)
{
	struct fd_stream *f = (struct fd_stream *)s;

	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static const struct ims_stream_ops fd_ops = {fd_read, fd_write, fd_pending, fd_close};

struct ims_stream *ims_stream_fd_new(int fd, int timeout_ms)
{
	struct fd_stream *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		close(fd);
		return NULL;
	}
	f->base.ops = &fd_ops;
	ims_error_init(&f->base.err);
	f->base.timeout_ms = timeout_ms;
	f->fd = fd;
	return &f->base;
}

int ims_stream_socket(const struct ims_stream *s)
{
	if (s != NULL && s->ops == &fd_ops)
		return ((const struct fd_stream *)s)->fd;
	return ims_tls__socket(s);
}

int ims_stream_fd_release(struct ims_stream **s)
{
	struct fd_stream *f;
	int fd;

	if (*s == NULL || (*s)->ops != &fd_ops)
		return -1;
	f = (struct fd_stream *)*s;
	fd = f->fd;
	f->fd = -1;
	ims_stream_close(s);
	return fd;
}
