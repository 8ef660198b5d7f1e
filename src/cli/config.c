#include "cli/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/child.h"
#include "imapsh/buf.h"
#include "imapsh/number.h"

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
}

void cfg_release(struct cfg *c)
{
	free(c->accounts);
	c->accounts = NULL;
	c->n_accounts = 0;
}

const struct cfg_account *cfg_find(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_accounts; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

int cfg_compress_parse(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return CFG_COMPRESS_AUTO;
	if (strcmp(s, "yes") == 0)
		return CFG_COMPRESS_YES;
	if (strcmp(s, "no") == 0)
		return CFG_COMPRESS_NO;
	return 0;
}

struct load_ctx {
	struct cfg *c;
	struct ims_error *err;
	int bad;
};

static int set_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return 0;
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

static int set_key(struct load_ctx *l, struct cfg_account *a, const char *k, const char *v)
{
	if (strcmp(k, "host") == 0)
		return set_str(a->host, sizeof(a->host), v);
	if (strcmp(k, "port") == 0) {
		uint64_t p;

		if (ims_number_parse(v, strlen(v), 1, 65535, &p) != 0)
			return 0;
		a->port = (unsigned)p;
		return 1;
	}
	if (strcmp(k, "user") == 0)
		return set_str(a->user, sizeof(a->user), v);
	if (strcmp(k, "tls") == 0) {
		a->tls_set = 1;
		if (strcasecmp(v, "imaps") == 0)
			a->starttls = 0;
		else if (strcasecmp(v, "starttls") == 0)
			a->starttls = 1;
		else
			return 0;
		return 1;
	}
	if (strcmp(k, "ca-file") == 0)
		return set_str(a->ca_file, sizeof(a->ca_file), v);
	if (strcmp(k, "pin") == 0)
		return set_str(a->pin, sizeof(a->pin), v);
	if (strcmp(k, "auth") == 0)
		return set_str(a->auth, sizeof(a->auth), v);
	if (strcmp(k, "password-command") == 0)
		return set_str(a->password_command, sizeof(a->password_command), v);
	if (strcmp(k, "oauth-token-command") == 0)
		return set_str(a->oauth_token_command, sizeof(a->oauth_token_command), v);
	if (strcmp(k, "folder") == 0)
		return set_str(a->folder, sizeof(a->folder), v);
	if (strcmp(k, "compress") == 0)
		return (a->compress = cfg_compress_parse(v)) != 0;
	(void)l;
	return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	struct cfg *c = l->c;

	if (l->bad)
		return 0;
	if (section[0] == '\0') {
		if (strcmp(name, "default") == 0 &&
		    set_str(c->default_account, sizeof(c->default_account), value))
			return 1;
		ims_error_set(l->err, IMS_ERR_USAGE, "config %s: unknown top-level key '%s'",
		              c->path, name);
		l->bad = 1;
		return 0;
	}
	if (strcmp(section, "defaults") == 0) {
		if (set_key(l, &c->defaults, name, value))
			return 1;
	} else if (strncmp(section, "account ", 8) == 0 && section[8] != '\0') {
		struct cfg_account *a = NULL;
		size_t i;

		for (i = 0; i < c->n_accounts; i++)
			if (strcmp(c->accounts[i].name, section + 8) == 0)
				a = &c->accounts[i];
		if (a == NULL) {
			struct cfg_account *na =
			    realloc(c->accounts, (c->n_accounts + 1) * sizeof(*na));

			if (na == NULL || strlen(section + 8) >= sizeof(na->name)) {
				if (na != NULL)
					c->accounts = na;
				ims_error_set(l->err, IMS_ERR_USAGE, "config %s: bad account [%s]",
				              c->path, section);
				l->bad = 1;
				return 0;
			}
			c->accounts = na;
			a = &na[c->n_accounts++];
			memset(a, 0, sizeof(*a));
			memcpy(a->name, section + 8, strlen(section + 8) + 1);
		}
		if (set_key(l, a, name, value))
			return 1;
	} else {
		ims_error_set(l->err, IMS_ERR_USAGE, "config %s: unknown section [%s]", c->path,
		              section);
		l->bad = 1;
		return 0;
	}
	ims_error_set(l->err, IMS_ERR_USAGE, "config %s: [%s] %s: unknown key or bad value",
	              c->path, section, name);
	l->bad = 1;
	return 0;
}

ims_err cfg_user_path(const char *kind, const char *file, int mkdirs, char *out, size_t n,
                      struct ims_error *err)
{
	char var[32], dir[1024];
	const char *base, *home = getenv("HOME");
	const char *fallback = strcmp(kind, "CONFIG") == 0  ? ".config"
	                       : strcmp(kind, "STATE") == 0 ? ".local/state"
	                                                    : ".local/share";

	snprintf(var, sizeof(var), "XDG_%s_HOME", kind);
	base = getenv(var);
	if (base != NULL && base[0] == '/') {
		snprintf(dir, sizeof(dir), "%s/imapsh", base);
	} else {
		if (home == NULL || home[0] != '/')
			return ims_error_set(err, IMS_ERR_IO, "neither $%s nor $HOME is set", var);
		snprintf(dir, sizeof(dir), "%s/%s/imapsh", home, fallback);
	}
	if (mkdirs) {
		char tmp[1024];
		char *p;

		snprintf(tmp, sizeof(tmp), "%s", dir);
		for (p = tmp + 1; *p != '\0'; p++) {
			if (*p == '/') {
				*p = '\0';
				if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
					return ims_error_set(err, IMS_ERR_IO, "mkdir %s: %s", tmp,
					                     strerror(errno));
				*p = '/';
			}
		}
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return ims_error_set(err, IMS_ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
	}
	if ((size_t)snprintf(out, n, "%s/%s", dir, file) >= n)
		return ims_error_set(err, IMS_ERR_IO, "path too long");
	return IMS_OK;
}

/* inih's line reader (fgets-like) over a FILE, which stops at a NUL
 * instead of letting the line be cut there: "host = a<NUL>.evil" must
 * not read as "host = a". */
struct cfg_reader {
	FILE *f;
	unsigned long line; /* lines read */
	int nul;            /* a NUL was met on line `line` */
};

static char *cfg_read_line(char *str, int num, void *stream)
{
	struct cfg_reader *r = stream;
	int n = 0, ch = EOF;

	if (num < 2)
		return NULL;
	while (n < num - 1 && (ch = getc(r->f)) != EOF) {
		if (ch == '\0') {
			r->nul = 1;
			r->line++;
			return NULL;
		}
		str[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	if (ch == '\n' || ch == EOF)
		r->line++;
	str[n] = '\0';
	return str;
}

ims_err cfg_load(struct cfg *c, const char *path, struct ims_error *err)
{
	struct load_ctx l = {c, err, 0};
	struct cfg_reader rd = {NULL, 0, 0};
	int r;

	if (path == NULL) {
		if (cfg_user_path("CONFIG", "config", 0, c->path, sizeof(c->path), NULL) !=
		        IMS_OK ||
		    access(c->path, F_OK) != 0) {
			c->path[0] = '\0';
			return IMS_OK;
		}
	} else {
		snprintf(c->path, sizeof(c->path), "%s", path);
	}
	rd.f = fopen(c->path, "r");
	if (rd.f == NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "config %s: %s", c->path, strerror(errno));
	r = ini_parse_stream(cfg_read_line, &rd, on_entry, &l);
	fclose(rd.f);
	if (l.bad)
		return err->code;
	if (rd.nul)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "config %s: line %lu holds a NUL byte; remove it", c->path,
		                     rd.line);
	if (r != 0)
		return ims_error_set(err, IMS_ERR_USAGE, "config %s: syntax error on line %d",
		                     c->path, r);
	return IMS_OK;
}

ims_err secret_from_command(const char *what, const char *cmd, char *out, size_t n,
                            struct ims_error *err)
{
	int pfd[2], status;
	pid_t pid;
	size_t len = 0;
	int overflow = 0;

	if (pipe(pfd) != 0)
		return ims_error_set(err, IMS_ERR_IO, "%s: pipe: %s", what, strerror(errno));
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	if (child_start(what, cmd, NULL, -1, pfd[1], &pid, err) != IMS_OK) {
		close(pfd[0]);
		close(pfd[1]);
		return err->code;
	}
	close(pfd[1]);
	for (;;) {
		char buf[512];
		ssize_t r = read(pfd[0], buf, sizeof(buf));
		ssize_t i;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < r; i++) {
			if (len + 1 < n)
				out[len++] = buf[i];
			else
				overflow = 1;
		}
		ims_wipe(buf, sizeof(buf));
	}
	close(pfd[0]);
	status = child_wait(pid);
	out[len] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ims_wipe(out, n);
		return ims_error_set(err, IMS_ERR_AUTH, "%s failed (exit status %d)", what,
		                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (overflow && strlen(out) + 1 >= n) {
		ims_wipe(out, n);
		return ims_error_set(err, IMS_ERR_AUTH, "%s: the first line is too long", what);
	}
	if (out[0] == '\0')
		return ims_error_set(err, IMS_ERR_AUTH, "%s printed nothing", what);
	return IMS_OK;
}

/* netrc tokens: machine NAME, default, login NAME, password SECRET,
 * account, macdef (skipped to the blank line). */
ims_err secret_from_netrc(const char *path, const char *host, char *user_r, size_t un,
                          char *password_r, size_t pn, struct ims_error *err)
{
	char def[1024];
	FILE *f;
	char tok[1024];
	int in_match = 0, found = 0;
	char login[512] = "", pass[512] = "";

	if (path == NULL) {
		const char *home = getenv("HOME");

		if (home == NULL)
			return ims_error_set(err, IMS_ERR_NO, "netrc: $HOME is not set");
		snprintf(def, sizeof(def), "%s/.netrc", home);
		path = def;
	}
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd < 0)
			return ims_error_set(err, IMS_ERR_NO, "netrc %s: %s", path,
			                     strerror(errno));
		/* As ftp(1): a file of passwords that others can read (or
		 * change) is refused, before a byte of it is read. */
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return ims_error_set(err, IMS_ERR_AUTH, "netrc %s: not a regular file",
			                     path);
		}
		if (st.st_uid != getuid()) {
			close(fd);
			return ims_error_set(err, IMS_ERR_AUTH,
			                     "netrc %s: owned by another user; it must be yours "
			                     "and private (chmod 600 %s)",
			                     path, path);
		}
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			close(fd);
			return ims_error_set(
			    err, IMS_ERR_AUTH,
			    "netrc %s: others can read or change it (mode %03o); run chmod "
			    "600 %s",
			    path, (unsigned)(st.st_mode & 0777), path);
		}
		f = fdopen(fd, "r");
		if (f == NULL) {
			close(fd);
			return ims_error_set(err, IMS_ERR_NO, "netrc %s: %s", path,
			                     strerror(errno));
		}
	}
	while (fscanf(f, "%1023s", tok) == 1) {
		if (strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0) {
			if (in_match && pass[0] != '\0' &&
			    (user_r[0] == '\0' || strcmp(user_r, login) == 0)) {
				found = 1;
				break;
			}
			login[0] = pass[0] = '\0';
			if (strcmp(tok, "default") == 0) {
				in_match = 1;
			} else {
				in_match =
				    fscanf(f, "%1023s", tok) == 1 && strcasecmp(tok, host) == 0;
			}
		} else if (strcmp(tok, "login") == 0) {
			if (fscanf(f, "%511s", login) != 1)
				break;
		} else if (strcmp(tok, "password") == 0) {
			if (fscanf(f, "%511s", pass) != 1)
				break;
		} else if (strcmp(tok, "account") == 0) {
			if (fscanf(f, "%1023s", tok) != 1)
				break;
		} else if (strcmp(tok, "macdef") == 0) {
			int ch, prev = 0;

			while ((ch = fgetc(f)) != EOF && !(ch == '\n' && prev == '\n'))
				prev = ch;
		}
	}
	if (!found && in_match && pass[0] != '\0' &&
	    (user_r[0] == '\0' || strcmp(user_r, login) == 0))
		found = 1;
	fclose(f);
	ims_wipe(tok, sizeof(tok));
	if (!found) {
		ims_wipe(pass, sizeof(pass));
		return ims_error_set(err, IMS_ERR_NO, "netrc %s: no entry for %s", path, host);
	}
	if (user_r[0] == '\0')
		snprintf(user_r, un, "%s", login);
	snprintf(password_r, pn, "%s", pass);
	ims_wipe(pass, sizeof(pass));
	return IMS_OK;
}

ims_err secret_prompt(const char *prompt, char *out, size_t n, struct ims_error *err)
{
	struct termios old, noecho;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	size_t len = 0;
	int restore;

	if (fd < 0)
		return ims_error_set(err, IMS_ERR_NO, "no terminal to ask for a password");
	/* Echo off before the prompt appears, and without flushing: a
	 * password typed (or pasted) the moment the prompt shows must be
	 * neither echoed nor lost. */
	restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		tcsetattr(fd, TCSANOW, &noecho);
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		if (restore)
			tcsetattr(fd, TCSANOW, &old);
		close(fd);
		return ims_error_set(err, IMS_ERR_IO, "cannot write the prompt");
	}
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n' || ch == '\r')
			break;
		if (len + 1 < n)
			out[len++] = ch;
	}
	out[len] = '\0';
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	close(fd);
	return IMS_OK;
}
