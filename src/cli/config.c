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
#include "imapsh/sharewire.h"
#include "imapsh/buf.h"
#include "imapsh/caps.h"
#include "imapsh/netrc.h"
#include "imapsh/number.h"
#include "imapsh/words.h"
#include "imapsh/fsafe.h"

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
	int lineno; /* the line the reader gave inih last */
	int bad;
	FILE *f;
	char *line; /* getline's buffer */
	size_t cap;
};

static const char *const account_keys[] = {"host",
                                           "port",
                                           "user",
                                           "tls",
                                           "ca-file",
                                           "pin",
                                           "auth",
                                           "password-command",
                                           "oauth-token-command",
                                           "oauth-provider",
                                           "oauth-client-id",
                                           "oauth-client-secret-command",
                                           "oauth-authorize-url",
                                           "oauth-token-url",
                                           "oauth-device-url",
                                           "oauth-revoke-url",
                                           "oauth-scope",
                                           "token-store-command",
                                           "folder",
                                           "compress",
                                           "share"};

/* A section header, checked where it stands: [defaults] or [account NAME]. */
static int section_ok(struct load_ctx *l, const char *p, size_t len)
{
	const char *end = memchr(p, ']', len);
	size_t n;

	if (end == NULL) {
		ims_error_set(l->err, IMS_ERR_USAGE,
		              "config %s:%d: a section header without its closing ']'", l->c->path,
		              l->lineno);
		l->bad = 1;
		return 0;
	}
	n = (size_t)(end - p - 1);
	if ((n == 8 && memcmp(p + 1, "defaults", 8) == 0) ||
	    (n > 8 && memcmp(p + 1, "account ", 8) == 0 && p[9] != ' '))
		return 1;
	ims_error_set(l->err, IMS_ERR_USAGE,
	              "config %s:%d: unknown section [%.*s]; the sections are [defaults] and "
	              "[account NAME]",
	              l->c->path, l->lineno, (int)n, p + 1);
	l->bad = 1;
	return 0;
}

/* One line for inih: its length known, so a NUL inside is refused, never a
 * cut; no line end; leading white space dropped (so a block pasted with an
 * indent is read as written, not as inih's value continuations); an inline
 * comment (';' or '#' after white space) removed; a line longer than inih
 * takes is an error, never split. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *l = stream;
	ssize_t n = getline(&l->line, &l->cap, l->f);
	size_t len, i, start = 0;

	if (n < 0 || l->bad)
		return NULL;
	l->lineno++;
	len = (size_t)n;
	if (memchr(l->line, '\0', len) != NULL) {
		ims_error_set(l->err, IMS_ERR_USAGE, "config %s:%d: a NUL byte in the line",
		              l->c->path, l->lineno);
		l->bad = 1;
		return NULL;
	}
	while (len > 0 && (l->line[len - 1] == '\n' || l->line[len - 1] == '\r'))
		len--;
	while (start < len && (l->line[start] == ' ' || l->line[start] == '\t'))
		start++;
	if (start < len && l->line[start] != '#' && l->line[start] != ';') {
		for (i = start + 1; i < len; i++) {
			if ((l->line[i] == '#' || l->line[i] == ';') &&
			    (l->line[i - 1] == ' ' || l->line[i - 1] == '\t')) {
				len = i;
				break;
			}
		}
	}
	while (len > start && (l->line[len - 1] == ' ' || l->line[len - 1] == '\t'))
		len--;
	if (len - start + 2 > (size_t)num) {
		ims_error_set(l->err, IMS_ERR_USAGE,
		              "config %s:%d: the line is longer than %d bytes, the most a config "
		              "line may have",
		              l->c->path, l->lineno, num - 2);
		l->bad = 1;
		return NULL;
	}
	if (start < len && l->line[start] == '[' && !section_ok(l, l->line + start, len - start))
		return NULL;
	memcpy(str, l->line + start, len - start);
	str[len - start] = '\n';
	str[len - start + 1] = '\0';
	return str;
}

static int parse_port(const char *v, unsigned *port_r)
{
	uint64_t p;

	if (ims_number_parse(v, strlen(v), 1, 65535, &p) != 0)
		return 0;
	*port_r = (unsigned)p;
	return 1;
}

enum { KEY_OK, KEY_UNKNOWN, KEY_BAD };

/* Sets one key of an account (or of [defaults]); on KEY_BAD l->err says
 * what a good value is. */
static int set_key(struct load_ctx *l, struct cfg_account *a, const char *k, const char *v)
{
	const char *want = NULL;
	char *dst = NULL;
	size_t n = 0;

	if (strcmp(k, "host") == 0) {
		dst = a->host, n = sizeof(a->host);
	} else if (strcmp(k, "port") == 0) {
		if (parse_port(v, &a->port))
			return KEY_OK;
		want = "is not a port number from 1 to 65535";
	} else if (strcmp(k, "user") == 0) {
		dst = a->user, n = sizeof(a->user);
	} else if (strcmp(k, "tls") == 0) {
		a->tls_set = 1;
		if (strcasecmp(v, "imaps") == 0)
			a->starttls = 0;
		else if (strcasecmp(v, "starttls") == 0)
			a->starttls = 1;
		else
			want = "is not imaps or starttls";
		if (want == NULL)
			return KEY_OK;
	} else if (strcmp(k, "ca-file") == 0) {
		dst = a->ca_file, n = sizeof(a->ca_file);
	} else if (strcmp(k, "pin") == 0) {
		if (strncmp(v, "sha256//", 8) != 0 || v[8] == '\0')
			want = "is not a pin: expected sha256//BASE64";
		dst = a->pin, n = sizeof(a->pin);
	} else if (strcmp(k, "auth") == 0) {
		dst = a->auth, n = sizeof(a->auth);
	} else if (strcmp(k, "password-command") == 0) {
		dst = a->password_command, n = sizeof(a->password_command);
	} else if (strcmp(k, "oauth-token-command") == 0) {
		dst = a->oauth_token_command, n = sizeof(a->oauth_token_command);
	} else if (strcmp(k, "oauth-provider") == 0) {
		if (strcmp(v, "google") != 0 && strcmp(v, "microsoft") != 0 &&
		    strcmp(v, "custom") != 0)
			want = "is not google, microsoft or custom";
		dst = a->oauth_provider, n = sizeof(a->oauth_provider);
	} else if (strcmp(k, "oauth-client-id") == 0) {
		dst = a->oauth_client_id, n = sizeof(a->oauth_client_id);
	} else if (strcmp(k, "oauth-client-secret-command") == 0) {
		dst = a->oauth_client_secret_command, n = sizeof(a->oauth_client_secret_command);
	} else if (strcmp(k, "oauth-authorize-url") == 0) {
		dst = a->oauth_authorize_url, n = sizeof(a->oauth_authorize_url);
	} else if (strcmp(k, "oauth-token-url") == 0) {
		dst = a->oauth_token_url, n = sizeof(a->oauth_token_url);
	} else if (strcmp(k, "oauth-device-url") == 0) {
		dst = a->oauth_device_url, n = sizeof(a->oauth_device_url);
	} else if (strcmp(k, "oauth-revoke-url") == 0) {
		dst = a->oauth_revoke_url, n = sizeof(a->oauth_revoke_url);
	} else if (strcmp(k, "oauth-scope") == 0) {
		dst = a->oauth_scope, n = sizeof(a->oauth_scope);
	} else if (strcmp(k, "token-store-command") == 0) {
		dst = a->token_store_command, n = sizeof(a->token_store_command);
	} else if (strcmp(k, "folder") == 0) {
		dst = a->folder, n = sizeof(a->folder);
	} else if (strcmp(k, "compress") == 0) {
		if ((a->compress = cfg_compress_parse(v)) != 0)
			return KEY_OK;
		want = "is not auto, yes or no";
	} else if (strcmp(k, "share") == 0) {
		if (ims_share_duration_parse(v, &a->share_s) == 0)
			return KEY_OK;
		want = "is not a duration such as 90, 5m or 1h (1 second to 7 days)";
	} else {
		return KEY_UNKNOWN;
	}
	if (want == NULL && dst != NULL) {
		if (strlen(v) < n) {
			memcpy(dst, v, strlen(v) + 1);
			return KEY_OK;
		}
		ims_error_set(l->err, IMS_ERR_USAGE,
		              "config %s:%d: %s: the value is longer than %zu bytes", l->c->path,
		              l->lineno, k, n - 1);
		return KEY_BAD;
	}
	ims_error_set(l->err, IMS_ERR_USAGE, "config %s:%d: %s: '%s' %s", l->c->path, l->lineno, k,
	              v, want);
	return KEY_BAD;
}

static int fail_unknown_key(struct load_ctx *l, const char *section, const char *name)
{
	size_t n_keys = sizeof(account_keys) / sizeof(account_keys[0]);
	const char *near = ims_words_nearest(name, account_keys, n_keys);

	l->bad = 1;
	if (section[0] == '\0') {
		if (near != NULL && strcmp(near, name) == 0) {
			ims_error_set(
			    l->err, IMS_ERR_USAGE,
			    "config %s:%d: '%s' belongs in a [defaults] or [account NAME] "
			    "section",
			    l->c->path, l->lineno, name);
			return 0;
		}
		near = ims_words_nearest(name, (const char *const[]){"default", "ispdb-url"}, 2);
	}
	if (near != NULL)
		ims_error_set(l->err, IMS_ERR_USAGE,
		              "config %s:%d: unknown key '%s'%s%s%s; did you mean '%s'?",
		              l->c->path, l->lineno, name, section[0] != '\0' ? " in [" : "",
		              section, section[0] != '\0' ? "]" : "", near);
	else
		ims_error_set(
		    l->err, IMS_ERR_USAGE,
		    "config %s:%d: unknown key '%s'%s%s%s (the keys are listed under FILES "
		    "in man imapsh)",
		    l->c->path, l->lineno, name, section[0] != '\0' ? " in [" : "", section,
		    section[0] != '\0' ? "]" : "");
	l->bad = 1;
	return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	struct cfg *c = l->c;
	struct cfg_account *a = NULL;
	int r;

	if (l->bad)
		return 0;
	if (section[0] == '\0') {
		if (strcmp(name, "ispdb-url") == 0) {
			if (strncmp(value, "https://", 8) == 0 && value[8] != '\0' &&
			    strlen(value) < sizeof(c->ispdb_url)) {
				memcpy(c->ispdb_url, value, strlen(value) + 1);
				return 1;
			}
			ims_error_set(l->err, IMS_ERR_USAGE,
			              "config %s:%d: ispdb-url: expected an https:// URL", c->path,
			              l->lineno);
			l->bad = 1;
			return 0;
		}
		if (strcmp(name, "default") != 0)
			return fail_unknown_key(l, section, name);
		if (strlen(value) < sizeof(c->default_account)) {
			memcpy(c->default_account, value, strlen(value) + 1);
			return 1;
		}
		ims_error_set(l->err, IMS_ERR_USAGE, "config %s:%d: default: the name is too long",
		              c->path, l->lineno);
		l->bad = 1;
		return 0;
	}
	if (strcmp(section, "defaults") == 0) {
		a = &c->defaults;
	} else if (strncmp(section, "account ", 8) == 0 && section[8] != '\0') {
		size_t i;

		for (i = 0; i < c->n_accounts; i++)
			if (strcmp(c->accounts[i].name, section + 8) == 0)
				a = &c->accounts[i];
		if (a == NULL) {
			struct cfg_account *na;

			if (strlen(section + 8) >= sizeof(na->name)) {
				ims_error_set(l->err, IMS_ERR_USAGE,
				              "config %s:%d: the account name in [%s] is too long",
				              c->path, l->lineno, section);
				l->bad = 1;
				return 0;
			}
			na = realloc(c->accounts, (c->n_accounts + 1) * sizeof(*na));
			if (na == NULL) {
				ims_error_nomem(l->err);
				l->bad = 1;
				return 0;
			}
			c->accounts = na;
			a = &na[c->n_accounts++];
			memset(a, 0, sizeof(*a));
			memcpy(a->name, section + 8, strlen(section + 8) + 1);
		}
	} else {
		ims_error_set(l->err, IMS_ERR_USAGE,
		              "config %s:%d: unknown section [%s]; the sections are [defaults] and "
		              "[account NAME]",
		              c->path, l->lineno, section);
		l->bad = 1;
		return 0;
	}
	r = set_key(l, a, name, value);
	if (r == KEY_UNKNOWN)
		return fail_unknown_key(l, section, name);
	if (r == KEY_BAD) {
		l->bad = 1;
		return 0;
	}
	return 1;
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
		/* Made 0700 where missing.  One that is there may be a link (a
		 * dotfile manager's) to a directory of the user's own: it is the
		 * user's choice, like every directory above it; the files in it
		 * are still made and opened only through fsafe. */
		struct stat st;

		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
			int fd = ims_fs_dir_open(dir, 1, err);

			if (fd < 0)
				return err != NULL ? err->code : IMS_ERR_IO;
			close(fd);
		}
	}
	if ((size_t)snprintf(out, n, "%s/%s", dir, file) >= n)
		return ims_error_set(err, IMS_ERR_IO, "path too long");
	return IMS_OK;
}

ims_err cfg_load(struct cfg *c, const char *path, struct ims_error *err)
{
	struct load_ctx l;
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
	memset(&l, 0, sizeof(l));
	l.c = c;
	l.err = err;
	/* The user's own file, so a symbolic link is followed (dotfile
	 * managers make them); but only a regular file is read, so a FIFO
	 * planted there cannot make imapsh wait. */
	{
		struct stat st;
		int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0)
			return ims_error_set(err, IMS_ERR_USAGE, "config %s: %s", c->path,
			                     strerror(errno));
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return ims_error_set(err, IMS_ERR_USAGE, "config %s: not a regular file",
			                     c->path);
		}
		(void)fcntl(fd, F_SETFL, 0);
		l.f = fdopen(fd, "r");
		if (l.f == NULL) {
			close(fd);
			return ims_error_nomem(err);
		}
	}
	r = ini_parse_stream(read_line, &l, on_entry, &l);
	if (!l.bad && r > 0) /* the sections were checked as read: a line without '=' */
		ims_error_set(err, IMS_ERR_USAGE,
		              "config %s:%d: expected KEY = VALUE, a [section] or a comment",
		              c->path, r);
	else if (!l.bad && r != 0)
		ims_error_set(err, IMS_ERR_NOMEM, "config %s: out of memory", c->path);
	free(l.line);
	fclose(l.f);
	if (l.bad || r != 0)
		return err->code;
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
	{
		struct ims_buf text;
		char buf[4096], login[IMS_NETRC_TOKEN_MAX + 1], pass[IMS_NETRC_TOKEN_MAX + 1];
		size_t got;
		ims_err e = IMS_OK;

		ims_buf_init(&text, 0);
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0 && e == IMS_OK) {
			if (text.len + got > IMS_CAP_NETRC_FILE)
				e = ims_error_set(err, IMS_ERR_USAGE,
				                  "netrc %s: larger than %d bytes", path,
				                  IMS_CAP_NETRC_FILE);
			else if (ims_buf_append(&text, buf, got) != IMS_OK)
				e = ims_error_nomem(err);
		}
		if (e == IMS_OK && ferror(f))
			e = ims_error_set(err, IMS_ERR_IO, "netrc %s: read error", path);
		fclose(f);
		ims_wipe(buf, sizeof(buf));
		if (e == IMS_OK) {
			e = ims_netrc_lookup(text.data != NULL ? text.data : "", text.len, host,
			                     user_r, login, pass, err);
			if (e == IMS_ERR_USAGE)
				ims_error_prefix(err, "netrc %s", path);
			else if (e == IMS_ERR_NO)
				ims_error_set(err, IMS_ERR_NO, "netrc %s: no entry for %s%s%s",
				              path, user_r[0] != '\0' ? user_r : "",
				              user_r[0] != '\0' ? "@" : "", host);
		}
		if (text.data != NULL)
			ims_wipe(text.data, text.cap);
		ims_buf_release(&text);
		if (e == IMS_OK) {
			if (strlen(pass) >= pn || (user_r[0] == '\0' && strlen(login) >= un))
				e = ims_error_set(
				    err, IMS_ERR_USAGE,
				    "netrc %s: the login or password for %s is too long", path,
				    host);
			else {
				if (user_r[0] == '\0')
					memcpy(user_r, login, strlen(login) + 1);
				memcpy(password_r, pass, strlen(pass) + 1);
			}
		}
		ims_wipe(pass, sizeof(pass));
		ims_wipe(login, sizeof(login));
		return e;
	}
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
