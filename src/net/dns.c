/* DNS through c-ares: one channel a call, run by poll() until its answer
 * or the deadline. */
#include "imapsh/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "imapsh/stream.h"

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_SUCCESS;

static void lib_init(void)
{
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int ims_dns_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len > 1 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > IMS_CAP_DNS_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

ims_err ims_dns_server_check(const char *spec, struct ims_error *err)
{
	char addr[IMS_DNS_ADDR_MAX];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *port = NULL, *end;
	size_t n;

	if (spec == NULL || spec[0] == '\0')
		goto bad;
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL)
			goto bad;
		n = (size_t)(end - spec - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		spec++;
	} else {
		end = strchr(spec, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL)
			end = NULL; /* a bare IPv6 address, no port */
		n = end != NULL ? (size_t)(end - spec) : strlen(spec);
		if (end != NULL)
			port = end + 1;
	}
	if (n == 0 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, spec, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
		goto bad;
	if (port != NULL) {
		unsigned long v = 0;
		size_t i;

		for (i = 0; port[i] != '\0'; i++) {
			if (port[i] < '0' || port[i] > '9' || i > 5)
				goto bad;
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (i == 0 || v == 0 || v > 65535)
			goto bad;
	}
	return IMS_OK;
bad:
	return ims_error_set(err, IMS_ERR_USAGE,
	                     "--dns-server: expected ADDR or ADDR:PORT (an IPv6 address as "
	                     "[ADDR]:PORT), got '%s'",
	                     spec != NULL ? spec : "");
}

/* ---- one lookup -------------------------------------------------------- */

struct lookup {
	int done;
	int status;
	unsigned char *abuf; /* a copy of the answer (query) */
	int alen;
	struct ares_addrinfo *ai; /* getaddrinfo */
};

static void on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct lookup *l = arg;

	(void)timeouts;
	if (l->done)
		return;
	l->done = 1;
	l->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		l->abuf = malloc((size_t)alen);
		if (l->abuf == NULL) {
			l->status = ARES_ENOMEM;
			return;
		}
		memcpy(l->abuf, abuf, (size_t)alen);
		l->alen = alen;
	}
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *l = arg;

	(void)timeouts;
	if (l->done) {
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	l->done = 1;
	l->status = status;
	l->ai = res;
}

static int64_t deadline_of(const struct ims_dns *d)
{
	return d != NULL && d->deadline_ms > 0 ? d->deadline_ms
	                                       : ims_now_ms() + IMS_CAP_DNS_TIMEOUT_MS;
}

static ims_err channel_open(const struct ims_dns *d, int64_t deadline, ares_channel *ch,
                            struct ims_error *err)
{
	struct ares_options opts;
	int64_t left = deadline - ims_now_ms();
	int r;

	pthread_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS)
		return ims_error_set(err, IMS_ERR_NET, "dns: %s", ares_strerror(lib_status));
	if (left <= 0)
		return ims_error_set(err, IMS_ERR_NET, "dns: no time left for the lookup");
	memset(&opts, 0, sizeof(opts));
	/* Each try gets a share of the time, so one lost packet is retried
	 * before the deadline. */
	opts.timeout = left > 6000 ? 2000 : (int)(left / 3 > 0 ? left / 3 : 1);
	opts.tries = 3;
	/* With a named server every lookup goes to it: no hosts file. */
	opts.lookups = (char *)(d != NULL && d->server != NULL ? "b" : "fb");
	r = ares_init_options(ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
	if (r != ARES_SUCCESS)
		return ims_error_set(err, r == ARES_ENOMEM ? IMS_ERR_NOMEM : IMS_ERR_NET, "dns: %s",
		                     ares_strerror(r));
	if (d != NULL && d->server != NULL) {
		if (ims_dns_server_check(d->server, err) != IMS_OK) {
			ares_destroy(*ch);
			return IMS_ERR_USAGE;
		}
		r = ares_set_servers_ports_csv(*ch, d->server);
		if (r != ARES_SUCCESS) {
			ares_destroy(*ch);
			return ims_error_set(err, IMS_ERR_USAGE, "--dns-server %s: %s", d->server,
			                     ares_strerror(r));
		}
	}
	return IMS_OK;
}

/* Drive ch until l->done or the deadline (then the lookup is cancelled). */
static void channel_run(ares_channel ch, struct lookup *l, int64_t deadline)
{
	while (!l->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tv, *tvp;
		int bits, i, n = 0, ms, r;
		int64_t left = deadline - ims_now_ms();

		if (left <= 0) {
			ares_cancel(ch);
			break;
		}
		bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* c-ares's own macros shift a signed 1 into the sign bit */
			if ((unsigned)bits & (1u << i))
				ev |= POLLIN;
			if ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		maxtv.tv_sec = (time_t)(left / 1000);
		maxtv.tv_usec = (suseconds_t)((left % 1000) * 1000);
		tvp = ares_timeout(ch, &maxtv, &tv);
		ms = (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
		if (ms < 1)
			ms = 1;
		r = poll(pfd, (nfds_t)n, ms);
		if (r < 0 && errno != EINTR) {
			ares_cancel(ch);
			break;
		}
		if (r <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++) {
			ares_socket_t rd = ARES_SOCKET_BAD, wr = ARES_SOCKET_BAD;

			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				rd = pfd[i].fd;
			if (pfd[i].revents & POLLOUT)
				wr = pfd[i].fd;
			if (rd != ARES_SOCKET_BAD || wr != ARES_SOCKET_BAD)
				ares_process_fd(ch, rd, wr);
		}
	}
}

/* The failure of a lookup in words. */
static ims_err lookup_error(const struct lookup *l, const char *what, const char *name,
                            const struct ims_dns *d, struct ims_error *err)
{
	const char *via = d != NULL && d->server != NULL ? d->server : NULL;

	switch (l->done ? l->status : ARES_ETIMEOUT) {
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return ims_error_set(err, IMS_ERR_NO, "dns: no %s record for %s", what, name);
	case ARES_ENOMEM: return ims_error_nomem(err);
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return ims_error_set(err, IMS_ERR_NET,
		                     "dns: no answer for %s (%s) in time%s%s; check the network "
		                     "or name another server with --dns-server",
		                     name, what, via != NULL ? " from " : "",
		                     via != NULL ? via : "");
	default:
		return ims_error_set(err, IMS_ERR_NET, "dns: %s (%s): %s%s%s", name, what,
		                     ares_strerror(l->status), via != NULL ? " from " : "",
		                     via != NULL ? via : "");
	}
}

static ims_err query(const struct ims_dns *d, const char *name, int type, const char *what,
                     struct lookup *l, struct ims_error *err)
{
	ares_channel ch;
	int64_t deadline = deadline_of(d);
	ims_err e;

	memset(l, 0, sizeof(*l));
	if (!ims_dns_name_ok(name, strlen(name)))
		return ims_error_set(err, IMS_ERR_USAGE, "dns: '%s' is not a host name", name);
	e = channel_open(d, deadline, &ch, err);
	if (e != IMS_OK)
		return e;
	ares_query(ch, name, ns_c_in, type, on_query, l);
	channel_run(ch, l, deadline);
	ares_destroy(ch);
	if (l->done && l->status == ARES_SUCCESS)
		return IMS_OK;
	free(l->abuf);
	l->abuf = NULL;
	return lookup_error(l, what, name, d, err);
}

/* A name from an answer copied out: the final dot dropped; 0 when it is
 * not a usable host name (then it is skipped). */
static int copy_name(char *out, size_t n, const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0) { /* the root: "." */
		snprintf(out, n, ".");
		return 1;
	}
	if (!ims_dns_name_ok(name, len) || len >= n)
		return 0;
	memcpy(out, name, len);
	out[len] = '\0';
	return 1;
}

static uint32_t sys_random(void *ctx)
{
	uint32_t v = 0;

	(void)ctx;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)ims_now_ms();
	return v;
}

ims_err ims_dns_srv(const struct ims_dns *d, const char *name, struct ims_dns_srv *v, size_t max,
                    size_t *n_r, struct ims_error *err)
{
	struct ares_srv_reply *srv = NULL, *p;
	struct lookup l;
	size_t n = 0, total = 0;
	ims_err e;
	int r;

	*n_r = 0;
	e = query(d, name, ns_t_srv, "SRV", &l, err);
	if (e != IMS_OK)
		return e;
	r = ares_parse_srv_reply(l.abuf, l.alen, &srv);
	free(l.abuf);
	if (r == ARES_ENODATA || (r == ARES_SUCCESS && srv == NULL))
		return ims_error_set(err, IMS_ERR_NO, "dns: no SRV record for %s", name);
	if (r != ARES_SUCCESS)
		return ims_error_set(err, IMS_ERR_PROTOCOL, "dns: %s (SRV): a malformed answer: %s",
		                     name, ares_strerror(r));
	for (p = srv; p != NULL; p = p->next)
		total++;
	if (total > max || total > IMS_CAP_DNS_ANSWERS) {
		ares_free_data(srv);
		return ims_error_set(err, IMS_ERR_LIMIT,
		                     "dns: %s has %zu SRV records, more than the %zu imapsh reads",
		                     name, total,
		                     max < IMS_CAP_DNS_ANSWERS ? max : IMS_CAP_DNS_ANSWERS);
	}
	for (p = srv; p != NULL; p = p->next) {
		if (!copy_name(v[n].target, sizeof(v[n].target), p->host))
			continue;
		v[n].priority = p->priority;
		v[n].weight = p->weight;
		v[n].port = p->port;
		n++;
	}
	ares_free_data(srv);
	if (n == 0)
		return ims_error_set(err, IMS_ERR_NO, "dns: no usable SRV record for %s", name);
	ims_dns_srv_order(v, n, sys_random, NULL);
	*n_r = n;
	return IMS_OK;
}

ims_err ims_dns_mx(const struct ims_dns *d, const char *domain, struct ims_dns_mx *v, size_t max,
                   size_t *n_r, struct ims_error *err)
{
	struct ares_mx_reply *mx = NULL, *p;
	struct lookup l;
	size_t n = 0, total = 0, i, k;
	ims_err e;
	int r;

	*n_r = 0;
	e = query(d, domain, ns_t_mx, "MX", &l, err);
	if (e != IMS_OK)
		return e;
	r = ares_parse_mx_reply(l.abuf, l.alen, &mx);
	free(l.abuf);
	if (r == ARES_ENODATA || (r == ARES_SUCCESS && mx == NULL))
		return ims_error_set(err, IMS_ERR_NO, "dns: no MX record for %s", domain);
	if (r != ARES_SUCCESS)
		return ims_error_set(err, IMS_ERR_PROTOCOL, "dns: %s (MX): a malformed answer: %s",
		                     domain, ares_strerror(r));
	for (p = mx; p != NULL; p = p->next)
		total++;
	if (total > max || total > IMS_CAP_DNS_ANSWERS) {
		ares_free_data(mx);
		return ims_error_set(err, IMS_ERR_LIMIT,
		                     "dns: %s has %zu MX records, more than the %zu imapsh reads",
		                     domain, total,
		                     max < IMS_CAP_DNS_ANSWERS ? max : IMS_CAP_DNS_ANSWERS);
	}
	for (p = mx; p != NULL; p = p->next) {
		if (!copy_name(v[n].host, sizeof(v[n].host), p->host) ||
		    strcmp(v[n].host, ".") == 0)
			continue;
		v[n].preference = p->priority;
		n++;
	}
	ares_free_data(mx);
	if (n == 0)
		return ims_error_set(err, IMS_ERR_NO, "dns: no usable MX record for %s", domain);
	for (i = 1; i < n; i++) /* stable: equal preferences keep the server's order */
		for (k = i; k > 0 && v[k - 1].preference > v[k].preference; k--) {
			struct ims_dns_mx t = v[k];

			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	*n_r = n;
	return IMS_OK;
}

ims_err ims_dns_addrs(const struct ims_dns *d, const char *host, char (*v)[IMS_DNS_ADDR_MAX],
                      size_t max, size_t *n_r, struct ims_error *err)
{
	struct ares_addrinfo_hints hints;
	struct ares_addrinfo_node *p;
	unsigned char bin[sizeof(struct in6_addr)];
	char fq[IMS_CAP_DNS_NAME + 2];
	ares_channel ch;
	struct lookup l;
	int64_t deadline = deadline_of(d);
	size_t n = 0, len = strlen(host);
	ims_err e;

	*n_r = 0;
	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
		if (max == 0 || len >= IMS_DNS_ADDR_MAX)
			return ims_error_set(err, IMS_ERR_LIMIT, "dns: no room for %s", host);
		memcpy(v[0], host, len + 1);
		*n_r = 1;
		return IMS_OK;
	}
	if (!ims_dns_name_ok(host, len))
		return ims_error_set(err, IMS_ERR_USAGE, "dns: '%s' is not a host name", host);
	/* Fully qualified: the resolver's search list is never tried. */
	snprintf(fq, sizeof(fq), "%s%s", host, host[len - 1] == '.' ? "" : ".");
	e = channel_open(d, deadline, &ch, err);
	if (e != IMS_OK)
		return e;
	memset(&l, 0, sizeof(l));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = ARES_AI_NOSORT;
	ares_getaddrinfo(ch, fq, NULL, &hints, on_addrinfo, &l);
	channel_run(ch, &l, deadline);
	ares_destroy(ch);
	if (!l.done || l.status != ARES_SUCCESS || l.ai == NULL) {
		if (l.ai != NULL)
			ares_freeaddrinfo(l.ai);
		return lookup_error(&l, "A/AAAA", host, d, err);
	}
	for (p = l.ai->nodes; p != NULL; p = p->ai_next) {
		const void *a;
		size_t k;
		int dup = 0;

		if (p->ai_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)p->ai_addr)->sin_addr;
		else if (p->ai_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)p->ai_addr)->sin6_addr;
		else
			continue;
		if (n == max || n == IMS_CAP_DNS_ANSWERS) {
			ares_freeaddrinfo(l.ai);
			return ims_error_set(err, IMS_ERR_LIMIT,
			                     "dns: %s has more addresses than the %zu imapsh reads",
			                     host, n);
		}
		if (inet_ntop(p->ai_family, a, v[n], IMS_DNS_ADDR_MAX) == NULL)
			continue;
		for (k = 0; k < n; k++)
			dup |= strcmp(v[k], v[n]) == 0;
		if (!dup)
			n++;
	}
	ares_freeaddrinfo(l.ai);
	if (n == 0)
		return ims_error_set(err, IMS_ERR_NO, "dns: no address for %s", host);
	*n_r = n;
	return IMS_OK;
}

/* ---- RFC 2782 order ---------------------------------------------------- */

static int by_priority(const void *a, const void *b)
{
	const struct ims_dns_srv *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* weight 0 first, so the running sum puts them first (RFC 2782) */
	return (x->weight != 0) - (y->weight != 0);
}

void ims_dns_srv_order(struct ims_dns_srv *v, size_t n, uint32_t (*rnd)(void *ctx), void *ctx)
{
	size_t start = 0;

	qsort(v, n, sizeof(*v), by_priority);
	while (start < n) {
		size_t end = start, i;

		while (end < n && v[end].priority == v[start].priority)
			end++;
		/* choose each place of the group in turn from those left */
		for (i = start; i + 1 < end; i++) {
			uint64_t sum = 0, pick, run = 0;
			size_t k, chosen = i;

			for (k = i; k < end; k++)
				sum += v[k].weight;
			pick = sum > 0 ? (uint64_t)rnd(ctx) % (sum + 1) : 0;
			for (k = i; k < end; k++) {
				run += v[k].weight;
				if (run >= pick) {
					chosen = k;
					break;
				}
			}
			if (chosen != i) {
				struct ims_dns_srv t = v[chosen];

				memmove(&v[i + 1], &v[i], (chosen - i) * sizeof(*v));
				v[i] = t;
			}
		}
		start = end;
	}
}

int ims_dns_srv_none(const struct ims_dns_srv *v, size_t n)
{
	return n == 1 && strcmp(v[0].target, ".") == 0;
}
