/* --share: one authenticated session for many one-shots (share.h).
 *
 * The first one-shot with --share runs its command as usual; at its end,
 * with a healthy authenticated session, it binds a Unix socket (0600) in
 * a private directory (0700, ours: $XDG_RUNTIME_DIR/imapsh, or
 * /tmp/imapsh-UID), forks a detached master that keeps the session, and
 * exits with the command's status.  Later one-shots with the same
 * connection identity (a hash of host, port, TLS and authentication
 * settings, user, account: the socket's name; never a secret) connect to
 * the socket and send their words (sharewire.h) with their cwd, stdin,
 * stdout and stderr as SCM_RIGHTS; the master runs the command with those
 * as its own, one at a time, and sends back the exit status.  The master
 * checks every peer's uid (SO_PEERCRED), ends when idle for the duration,
 * when the server closes the connection, when a command breaks the
 * session, on --share=stop, or when its socket is replaced or removed. */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/share.h"
#include "imapsh/caps.h"
#include "imapsh/compress.h"
#include "imapsh/crypto.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/sharewire.h"
#include "imapsh/transport.h"

static struct {
	int argc;
	char **argv;
	unsigned leave_s;         /* this one-shot should leave its session behind */
	int master;               /* this process is a master */
	struct ims_session *held; /* the master's session between commands */
	int broken;               /* a command broke it: the master ends */
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char base[80];                     /* the socket's name without ".sock" */
	int (*run)(int argc, char **argv); /* main.c's cli_main */
} sh;

void cli_share_note_argv(int argc, char **argv, int (*run)(int argc, char **argv))
{
	sh.argc = argc;
	sh.argv = argv;
	sh.run = run;
}

/* ---- where the socket lives ------------------------------------------ */

/* The duration asked for, 0 for none. */
static unsigned wanted(const struct cli *c)
{
	if (c->o.share < 0)
		return 0;
	if (c->o.share > 0)
		return (unsigned)c->o.share;
	if (c->acct != NULL && c->acct->share_s != 0)
		return c->acct->share_s;
	return c->cfg.defaults.share_s;
}

/* A directory that is ours alone: a real directory (not a link), owned
 * by us, no access for group or others.  Made 0700 when missing. */
static int private_dir(struct cli *c, const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		ims_error_set(&c->err, IMS_ERR_IO, "--share: cannot make %s: %s", path,
		              strerror(errno));
		return -1;
	}
	if (lstat(path, &st) != 0) {
		ims_error_set(&c->err, IMS_ERR_IO, "--share: %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		ims_error_set(&c->err, IMS_ERR_IO,
		              "--share: %s is not a private directory of yours (%s, owner uid %u, "
		              "mode %03o); remove it, or run with --no-share",
		              path,
		              S_ISLNK(st.st_mode)   ? "a symbolic link"
		              : S_ISDIR(st.st_mode) ? "a directory"
		                                    : "not a directory",
		              (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

static int add(struct ims_buf *b, const char *tag, const char *v)
{
	return ims_buf_printf(b, "%s=%s", tag, v != NULL ? v : "") == IMS_OK &&
	       ims_buf_putc(b, '\0') == IMS_OK;
}

/* The connection's identity: everything that decides which session a
 * login gives, hashed.  No secret is in it (only the names of the
 * commands that give them). */
static int identity(struct cli *c, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[IMS_SHA256_LEN];
	struct ims_buf b;
	char num[32];
	size_t i;
	int ok;

	ims_buf_init(&b, 0);
	snprintf(num, sizeof(num), "%u",
	         c->o.port != 0 ? c->o.port : c->t.port); /* 0: the mode's default */
	ok =
	    add(&b, "v", "1") && add(&b, "host", c->t.host) && add(&b, "port", num) &&
	    add(&b, "tls", c->o.starttls || c->t.mode == IMS_TLS_STARTTLS ? "starttls" : "imaps") &&
	    add(&b, "user", c->o.user != NULL ? c->o.user : c->t.user) &&
	    add(&b, "auth", c->o.auth != NULL ? c->o.auth : c->t.auth) &&
	    add(&b, "account", c->acct != NULL ? c->acct->name : "") &&
	    add(&b, "config", c->cfg.path) && add(&b, "ca-file", c->o.ca_file) &&
	    add(&b, "ca-path", c->o.ca_path) && add(&b, "client-cert", c->o.client_cert) &&
	    add(&b, "client-key", c->o.client_key) &&
	    add(&b, "password-command", c->o.password_command) &&
	    add(&b, "oauth-token-command", c->o.oauth_token_command) &&
	    add(&b, "netrc-file", c->o.netrc ? (c->o.netrc_file ? c->o.netrc_file : "~") : "") &&
	    add(&b, "insecure", c->o.insecure ? "1" : "0") &&
	    add(&b, "trace", c->o.trace ? "1" : "0") &&
	    ims_buf_printf(&b, "tls-min=%d%ccompress=%d", c->o.tls_min, 0, c->o.compress) ==
	        IMS_OK &&
	    ims_buf_putc(&b, '\0') == IMS_OK;
	for (i = 0; ok && i < c->o.n_pins; i++)
		ok = add(&b, "pin", c->o.pins[i]);
	for (i = 0; ok && i < c->o.n_resolve; i++)
		ok = add(&b, "resolve", c->o.resolve[i]);
	ok = ok && ims_sha256(b.data, b.len, h) == IMS_OK;
	ims_buf_release(&b);
	if (!ok || n < 2 * 16 + 1)
		return -1;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

/* The directory and the socket's path for c's connection.  0, or -1 with
 * the reason in c->err (the socket must not be used). */
static int locate(struct cli *c)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char id[40];
	int len;

	if (rt != NULL && rt[0] == '/')
		len = snprintf(sh.dir, sizeof(sh.dir), "%s/imapsh", rt);
	else
		len = snprintf(sh.dir, sizeof(sh.dir), "/tmp/imapsh-%u", (unsigned)geteuid());
	if (identity(c, id, sizeof(id)) != 0)
		return ims_error_nomem(&c->err), -1;
	snprintf(sh.base, sizeof(sh.base), "%s", id);
	if (len < 0 || (size_t)len + 1 + strlen(sh.base) + 6 >= sizeof(sh.path)) {
		ims_error_set(&c->err, IMS_ERR_IO,
		              "--share: the socket's path under %s is too long for a Unix socket; "
		              "set XDG_RUNTIME_DIR to a shorter directory, or run with --no-share",
		              sh.dir);
		return -1;
	}
	snprintf(sh.path, sizeof(sh.path), "%s/%s.sock", sh.dir, sh.base);
	return private_dir(c, sh.dir);
}

/* What stands at the socket's path: 0 nothing, 1 a socket of ours, -1 a
 * thing that is not (refused, c->err set). */
static int path_state(struct cli *c, struct stat *st)
{
	if (lstat(sh.path, st) != 0) {
		if (errno == ENOENT)
			return 0;
		ims_error_set(&c->err, IMS_ERR_IO, "--share: %s: %s", sh.path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 077) != 0) {
		ims_error_set(&c->err, IMS_ERR_IO,
		              "--share: %s is not a socket of yours (%s, owner uid %u, mode %03o); "
		              "remove it, or run with --no-share",
		              sh.path,
		              S_ISLNK(st->st_mode)    ? "a symbolic link"
		              : S_ISSOCK(st->st_mode) ? "a socket"
		                                      : "not a socket",
		              (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777));
		return -1;
	}
	return 1;
}

static int peer_uid_ok(int fd, uid_t *uid_r)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	*uid_r = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof(cr))
		return 0;
	*uid_r = cr.uid;
	return cr.uid == geteuid();
}

/* Connect to the master: the fd, -1 when there is none (a stale socket
 * is removed), -2 refused (c->err set). */
static int dial(struct cli *c)
{
	struct sockaddr_un a;
	struct stat st;
	uid_t uid = 0;
	int fd, s = path_state(c, &st);

	if (s <= 0)
		return s < 0 ? -2 : -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, sh.path, strlen(sh.path) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int why = errno;

		close(fd);
		if (why == ECONNREFUSED) /* a master that died: its socket is left */
			(void)unlink(sh.path);
		return -1;
	}
	if (!peer_uid_ok(fd, &uid)) {
		close(fd);
		ims_error_set(&c->err, IMS_ERR_IO,
		              "--share: the process behind %s is not yours (uid %u); remove the "
		              "socket, or run with --no-share",
		              sh.path, (unsigned)uid);
		return -2;
	}
	return fd;
}

/* ---- the client -------------------------------------------------------- */

/* Send the request with our cwd and standard descriptors. */
static int send_request(int fd, int kind, int with_fds)
{
	struct ims_buf b;
	struct msghdr m;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	int fds[4], rc = -1;
	ssize_t w;

	ims_buf_init(&b, IMS_CAP_SHARE_MSG);
	if (ims_share_req_encode(kind, kind == IMS_SHARE_RUN ? (size_t)(sh.argc - 1) : 0,
	                         (const char *const *)sh.argv + 1, &b) != IMS_OK)
		goto out;
	memset(&m, 0, sizeof(m));
	iov.iov_base = b.data;
	iov.iov_len = b.len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (with_fds) {
		struct cmsghdr *h;

		fds[0] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[0] < 0)
			goto out;
		fds[1] = STDIN_FILENO;
		fds[2] = STDOUT_FILENO;
		fds[3] = STDERR_FILENO;
		memset(&u, 0, sizeof(u));
		m.msg_control = u.space;
		m.msg_controllen = sizeof(u.space);
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(h), fds, sizeof(fds));
	}
	do
		w = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (with_fds)
		close(fds[0]);
	rc = w == (ssize_t)b.len ? 0 : -1;
out:
	ims_buf_release(&b);
	return rc;
}

/* The master's reply: 0 with kind and code, -1 when the master went. */
static int get_reply(int fd, int *kind_r, int *code_r)
{
	unsigned char r[IMS_SHARE_REPLY_LEN + 1];
	ssize_t n;

	do
		n = recv(fd, r, sizeof(r), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 || ims_share_reply_parse(r, (size_t)n, kind_r, code_r) != IMS_OK)
		return -1;
	return 0;
}

static int std_fds_open(void)
{
	int i;

	for (i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			return 0;
	return 1;
}

int cli_share_client(struct cli *c, const char *command)
{
	const struct cli_cmd *cmd = cli_cmd_find(command);
	unsigned secs = wanted(c);
	int fd, kind, code;

	/* Only a command that works in a logged-in session shares it: one
	 * that looks at a connection of its own (check, cert, capability
	 * before login, login) makes its own, here. */
	if (sh.master || secs == 0 || sh.argv == NULL || cmd == NULL ||
	    (cmd->flags & (CMD_LOGIN | CMD_FOLDER)) == 0)
		return -1;
	/* show's pager on a terminal needs that terminal as its own (its
	 * keys, Ctrl-C, the window): a master in another session cannot
	 * give it, so show there runs here (and may leave a master). */
	if (strcmp(cmd->name, "show") == 0 && isatty(STDOUT_FILENO)) {
		if (locate(c) == 0) {
			fd = dial(c);
			if (fd >= 0)
				close(fd);
			else if (fd == -1)
				sh.leave_s = secs;
		}
		return -1;
	}
	if (locate(c) != 0) {
		cli_warn("%s", c->err.msg);
		return cli_exit_code(c->err.code);
	}
	fd = dial(c);
	if (fd == -2) {
		cli_warn("%s", c->err.msg);
		return cli_exit_code(c->err.code);
	}
	if (fd >= 0 && std_fds_open() && send_request(fd, IMS_SHARE_RUN, 1) == 0) {
		if (get_reply(fd, &kind, &code) != 0) {
			/* The request went out: the command may have run in part,
			 * so it is not run again here. */
			close(fd);
			cli_warn("the shared connection to %s ended during the command; run it "
			         "again to see its result",
			         c->t.host);
			return 3;
		}
		close(fd);
		if (kind == IMS_SHARE_DONE)
			return code;
		fd = -1; /* IMS_SHARE_GONE: the server went; nothing ran */
	}
	if (fd >= 0)
		close(fd);
	sh.leave_s = std_fds_open() ? secs : 0;
	return -1;
}

int cli_share_stop(struct cli *c)
{
	int fd, kind, code;

	if (locate(c) != 0) {
		cli_warn("%s", c->err.msg);
		return cli_exit_code(c->err.code);
	}
	fd = dial(c);
	if (fd == -2) {
		cli_warn("%s", c->err.msg);
		return cli_exit_code(c->err.code);
	}
	if (fd < 0) {
		if (c->o.verbose)
			cli_warn("no shared connection to %s was open", c->t.host);
		return 0;
	}
	if (send_request(fd, IMS_SHARE_STOP, 0) != 0 || get_reply(fd, &kind, &code) != 0) {
		close(fd);
		cli_warn("--share=stop: the master for %s did not answer", c->t.host);
		return 3;
	}
	close(fd);
	if (c->o.verbose)
		cli_warn("the shared connection to %s is closed", c->t.host);
	return 0;
}

/* ---- the master ------------------------------------------------------- */

static int session_fd(struct ims_session *s)
{
	struct ims_stream *st = ims_session_stream(s);
	struct ims_stream *inner = st != NULL ? ims_stream_compress_inner(st) : NULL;

	return ims_stream_socket(inner != NULL ? inner : st);
}

/* Authenticated, not broken, nothing unread from the server (a BYE or a
 * closed connection: the master's cue to end). */
static int healthy(struct ims_session *s)
{
	struct ims_error e;
	struct pollfd p;
	enum ims_state st;

	if (s == NULL || ims_session_broken(s, &e) != IMS_OK)
		return 0;
	st = ims_session_state(s);
	if (st != IMS_STATE_AUTHENTICATED && st != IMS_STATE_SELECTED)
		return 0;
	if (ims_stream_pending(ims_session_stream(s)) != 0)
		return 0;
	p.fd = session_fd(s);
	p.events = POLLIN;
	p.revents = 0;
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

static void share_adopt(struct cli *c, unsigned flags)
{
	if (sh.master && c->sess == NULL && sh.held != NULL &&
	    (flags & (CMD_LOGIN | CMD_FOLDER)) != 0) {
		c->sess = sh.held;
		sh.held = NULL;
		c->connected = 1;
	}
}

static int share_hold(struct cli *c)
{
	/* a session the command made itself, beside the held one: closed */
	if (!sh.master || c->sess == NULL || sh.held != NULL)
		return 0;
	if (!healthy(c->sess)) {
		sh.broken = 1;
		return 0;
	}
	sh.held = c->sess;
	c->sess = NULL;
	c->connected = 0;
	c->folder[0] = '\0';
	return 1;
}

/* One line of the master's log (its stderr, between commands), made safe
 * as a whole by the sanitiser's line rule: it may quote a server. */
static void IMS_PRINTF(1, 2) say(const char *fmt, ...)
{
	char when[32], line[1024], shown[2048];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		line[0] = '\0';
	fprintf(stderr, "%s imapsh[%ld]: %s\n", when, (long)getpid(),
	        ims_sanitize_fixed(line, strlen(line), shown, sizeof(shown)));
	fflush(stderr);
}

/* Whether the socket at our path is still the one we bound. */
static int still_ours(const struct stat *bound)
{
	struct stat st;

	return lstat(sh.path, &st) == 0 && st.st_ino == bound->st_ino && st.st_dev == bound->st_dev;
}

/* The client of the command running: when it goes (Ctrl-C, killed), its
 * socket signals SIGIO and the command is cancelled as Ctrl-C cancels one
 * in the shell; the master then ends (the session may be mid-command). */
static volatile sig_atomic_t client_fd = -1, client_gone;

static void on_sigio(int sig)
{
	struct pollfd p;
	int saved = errno;

	(void)sig;
	p.fd = client_fd;
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if (p.fd >= 0 && poll(&p, 1, 0) > 0) {
		client_gone = 1;
		cli_interrupted = 1;
	}
	errno = saved;
}

static void watch_client(int fd, int on)
{
	static struct sigaction old;
	struct sigaction sa;
	int fl = fcntl(fd, F_GETFL);

	if (on) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigio; /* no SA_RESTART: a wait sees EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGIO, &sa, &old);
		client_gone = 0;
		cli_interrupted = 0;
		client_fd = fd;
		ims_transport_set_cancel_flag(&cli_interrupted);
		if (fcntl(fd, F_SETOWN, getpid()) == 0 && fl >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_ASYNC);
		on_sigio(SIGIO); /* gone already? */
	} else {
		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl & ~O_ASYNC);
		ims_transport_set_cancel_flag(NULL);
		client_fd = -1;
		sigaction(SIGIO, &old, NULL);
		cli_interrupted = 0;
	}
}

/* Run one request's words with the client's descriptors as ours. */
static int run_request(struct ims_share_req *r, const int fds[4], int cfd)
{
	char **argv = calloc(r->argc + 2, sizeof(*argv));
	int saved[3], i, st;

	if (argv == NULL)
		return 6;
	argv[0] = (char *)"imapsh";
	for (i = 0; i < (int)r->argc; i++)
		argv[i + 1] = r->argv[i];
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 3; i++) {
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
		(void)dup2(fds[i + 1], i);
	}
	if (fchdir(fds[0]) != 0) {
		st = 6;
	} else {
		__fpurge(stdin);
		clearerr(stdin);
		clearerr(stdout);
		clearerr(stderr);
		setvbuf(stdout, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
		watch_client(cfd, 1);
		st = sh.run((int)r->argc + 1, argv);
		watch_client(cfd, 0);
	}
	fflush(stdout);
	fflush(stderr);
	__fpurge(stdin);
	clearerr(stdin);
	clearerr(stdout);
	clearerr(stderr);
	for (i = 0; i < 3; i++) {
		(void)dup2(saved[i], i);
		close(saved[i]);
	}
	if (chdir("/") != 0) {
		/* "/" is always there */
	}
	free(argv);
	return st;
}

/* One connection on the socket: 1 to go on, 0 to end the master. */
static int serve_one(int lfd)
{
	unsigned char *msg = malloc(IMS_CAP_SHARE_MSG + 1);
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct ims_share_req r;
	struct msghdr m;
	struct iovec iov;
	struct cmsghdr *h;
	unsigned char reply[IMS_SHARE_REPLY_LEN];
	int fd, fds[4] = {-1, -1, -1, -1}, nfds = 0, go_on = 1, i;
	uid_t uid = 0;
	ssize_t n;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0 || msg == NULL) {
		if (fd >= 0)
			close(fd);
		free(msg);
		return 1;
	}
	if (!peer_uid_ok(fd, &uid)) {
		say("refused a connection from uid %u: not the owner", (unsigned)uid);
		close(fd);
		free(msg);
		return 1;
	}
	memset(&m, 0, sizeof(m));
	iov.iov_base = msg;
	iov.iov_len = IMS_CAP_SHARE_MSG + 1;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.space;
	m.msg_controllen = sizeof(u.space);
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (h = CMSG_FIRSTHDR(&m); n >= 0 && h != NULL; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int)), got[4];

			if (k > 4 || nfds != 0) { /* close what came, refuse */
				int *p = (int *)CMSG_DATA(h);

				for (i = 0; i < k; i++)
					close(p[i]);
				nfds = -1;
				continue;
			}
			memcpy(got, CMSG_DATA(h), (size_t)k * sizeof(int));
			for (i = 0; i < k; i++)
				fds[i] = got[i];
			nfds = k;
		}
	if (n < 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    ims_share_req_parse(msg, (size_t)n, &r) != IMS_OK) {
		say("refused a malformed request");
	} else if (r.kind == IMS_SHARE_STOP) {
		say("asked to stop");
		ims_share_reply_encode(IMS_SHARE_DONE, 0, reply);
		(void)send(fd, reply, sizeof(reply), MSG_NOSIGNAL);
		go_on = 0;
		ims_share_req_release(&r);
	} else if (nfds != 4) {
		say("refused a request without its descriptors");
		ims_share_req_release(&r);
	} else if (!healthy(sh.held)) {
		/* The server went: the client runs the command itself (and
		 * leaves a new master); the socket goes first. */
		say("the session is gone: the client runs the command itself");
		(void)unlink(sh.path);
		ims_share_reply_encode(IMS_SHARE_GONE, 0, reply);
		(void)send(fd, reply, sizeof(reply), MSG_NOSIGNAL);
		go_on = 0;
		ims_share_req_release(&r);
	} else {
		int st = run_request(&r, fds, fd);

		ims_share_req_release(&r);
		if (client_gone) {
			say("the client went away during its command: ending");
			(void)unlink(sh.path);
			go_on = 0;
		} else if (sh.broken || !healthy(sh.held)) {
			say("the command left the session unusable: ending");
			(void)unlink(sh.path); /* before the client hears: no race */
			go_on = 0;
		}
		ims_share_reply_encode(IMS_SHARE_DONE, st, reply);
		(void)send(fd, reply, sizeof(reply), MSG_NOSIGNAL);
	}
	for (i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(fd);
	free(msg);
	return go_on;
}

/* The master's life: requests until idle for secs, the server's close, a
 * stop, or its socket is no longer at its path. */
static void serve(int lfd, unsigned secs, const struct stat *bound)
{
	int64_t last = ims_now_ms();

	for (;;) {
		struct pollfd p[2];
		int64_t left = (int64_t)secs * 1000 - (ims_now_ms() - last);
		int r;

		if (left <= 0) {
			say("idle for %u s: ending", secs);
			break;
		}
		if (!healthy(sh.held) || !still_ours(bound)) {
			say(!still_ours(bound) ? "the socket was removed or replaced: ending"
			                       : "the session is no longer usable: ending");
			break;
		}
		p[0].fd = lfd;
		p[0].events = POLLIN;
		p[1].fd = session_fd(sh.held);
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		/* wake at least once a second to see the socket is still ours */
		r = poll(p, 2, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (p[1].revents != 0) {
			say("the server closed the connection");
			break;
		}
		if (p[0].revents != 0) {
			if (!serve_one(lfd))
				break;
			last = ims_now_ms();
		}
	}
	if (still_ours(bound))
		(void)unlink(sh.path);
}

/* The master's stdio: nothing from a terminal, stdout and stderr to its
 * private log beside the socket. */
static void detach_stdio(int dfd)
{
	char name[100];
	int in, log;

	snprintf(name, sizeof(name), "%s.log", sh.base);
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log = openat(dfd, name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in >= 0)
		(void)dup2(in, STDIN_FILENO);
	if (log >= 0) {
		(void)dup2(log, STDOUT_FILENO);
		(void)dup2(log, STDERR_FILENO);
	} else if (in >= 0) {
		(void)dup2(in, STDOUT_FILENO);
		(void)dup2(in, STDERR_FILENO);
	}
	if (in >= 0)
		close(in);
	if (log >= 0)
		close(log);
}

/* Close every descriptor but the standard ones, the listener and the
 * session's socket. */
static void close_others(int keep1, int keep2)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2)
			(void)close(fd);
}

/* A listening socket at a temporary name, then renamed to the path:
 * mode 0600 from the start.  The fd, or -1. */
static int listen_at_path(struct stat *bound)
{
	struct sockaddr_un a;
	char tmp[sizeof(a.sun_path)];
	mode_t old;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", sh.dir, sh.base, (long)getpid()) >=
	    sizeof(tmp))
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, tmp, strlen(tmp) + 1);
	(void)unlink(tmp);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(tmp, 0600) != 0 || listen(fd, 16) != 0 || rename(tmp, sh.path) != 0 ||
	    lstat(sh.path, bound) != 0) {
		(void)unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

void cli_share_leave(struct cli *c)
{
	struct stat bound;
	int lfd, sfd, dfd;
	pid_t pid;

	if (sh.master || sh.leave_s == 0 || !healthy(c->sess))
		return;
	sfd = session_fd(c->sess);
	dfd = open(sh.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || dfd < 0 || private_dir(c, sh.dir) != 0 ||
	    (lfd = listen_at_path(&bound)) < 0) {
		if (dfd >= 0)
			close(dfd);
		if (c->o.verbose)
			cli_warn("--share: cannot leave the session behind %s", sh.path);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		(void)unlink(sh.path);
		close(lfd);
		close(dfd);
		return;
	}
	if (pid > 0) {
		/* This process keeps nothing of the session: its socket goes
		 * before the session is freed, so nothing reaches the server
		 * (no LOGOUT, no close_notify: the master's TLS state stays). */
		close(lfd);
		close(dfd);
		(void)close(sfd);
		ims_session_free(&c->sess);
		c->connected = 0;
		return;
	}
	/* The master: a session of its own, no terminal, no secrets. */
	(void)setsid();
	child_secrets_wipe();
	detach_stdio(dfd);
	close(dfd);
	close_others(lfd, sfd);
	if (chdir("/") != 0) {
		/* "/" is always there */
	}
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	sh.master = 1;
	{
		static const struct cli_conn_keeper keeper = {share_adopt, share_hold};

		cli_conn_set_keeper(&keeper);
	}
	sh.held = c->sess;
	c->sess = NULL;
	say("holding the session to %s for later one-shots, %u s idle at most", c->t.host,
	    sh.leave_s);
	cfg_release(&c->cfg);
	serve(lfd, sh.leave_s, &bound);
	close(lfd);
	if (sh.held != NULL) {
		struct ims_error e;

		if (healthy(sh.held) && ims_session_logout_nowait(sh.held, &e) != IMS_OK)
			say("logout: %s", e.msg);
		ims_session_free(&sh.held);
	}
	say("ended");
	exit(0);
}
