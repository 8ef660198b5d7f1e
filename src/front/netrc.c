#include "imapsh/netrc.h"

#include <string.h>
#include <strings.h>

#include "imapsh/buf.h"

struct lexer {
	const char *p, *end;
	unsigned line;
	struct ims_error *err;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Append c to tok[0..*n): -1 with words for a NUL or a token over the
 * limit (never a cut), else 0. */
static int put(struct lexer *l, char *tok, size_t *n, char c)
{
	if (c == '\0') {
		ims_error_set(l->err, IMS_ERR_USAGE, "line %u: a NUL byte", l->line);
		return -1;
	}
	if (*n == IMS_NETRC_TOKEN_MAX) {
		ims_error_set(l->err, IMS_ERR_USAGE, "line %u: a token longer than %d bytes",
		              l->line, IMS_NETRC_TOKEN_MAX);
		return -1;
	}
	tok[(*n)++] = c;
	return 0;
}

/* The next token into tok (IMS_NETRC_TOKEN_MAX + 1 bytes).  1 a token, 0
 * the end, -1 an error (err set). */
static int next_token(struct lexer *l, char *tok)
{
	size_t n = 0;

	while (l->p < l->end && is_space(*l->p)) {
		if (*l->p == '\n')
			l->line++;
		l->p++;
	}
	if (l->p == l->end)
		return 0;
	if (*l->p == '"') {
		unsigned start = l->line;

		for (l->p++;; l->p++) {
			char c;

			if (l->p == l->end) {
				ims_error_set(l->err, IMS_ERR_USAGE,
				              "line %u: a quoted token without its closing quote",
				              start);
				return -1;
			}
			c = *l->p;
			if (c == '"') {
				l->p++;
				break;
			}
			if (c == '\\' && l->p + 1 < l->end) {
				c = *++l->p;
				c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
			} else if (c == '\n') {
				l->line++;
			}
			if (put(l, tok, &n, c) != 0)
				return -1;
		}
	} else {
		for (; l->p < l->end && !is_space(*l->p); l->p++)
			if (put(l, tok, &n, *l->p) != 0)
				return -1;
	}
	tok[n] = '\0';
	return 1;
}

/* The value after keyword kw: 1, or -1 with words. */
static int value(struct lexer *l, const char *kw, char *tok)
{
	int r = next_token(l, tok);

	if (r == 0)
		ims_error_set(l->err, IMS_ERR_USAGE, "line %u: '%s' without its value", l->line,
		              kw);
	return r == 1 ? 1 : -1;
}

/* Skip a macdef body: to the first empty line. */
static void skip_macro(struct lexer *l)
{
	while (l->p < l->end && *l->p != '\n')
		l->p++;
	while (l->p < l->end) {
		l->p++;
		l->line++;
		if (l->p < l->end && *l->p == '\n')
			return;
		while (l->p < l->end && *l->p != '\n')
			l->p++;
	}
}

ims_err ims_netrc_lookup(const char *text, size_t len, const char *host, const char *user,
                         char *login_r, char *password_r, struct ims_error *err)
{
	struct lexer l = {text, text + len, 1, err};
	char tok[IMS_NETRC_TOKEN_MAX + 1];
	char login[IMS_NETRC_TOKEN_MAX + 1] = "", pass[IMS_NETRC_TOKEN_MAX + 1] = "";
	int in_entry = 0, match = 0, have_pass = 0, r;
	ims_err e = IMS_ERR_NO;

	for (;;) {
		r = next_token(&l, tok);
		if (r < 0) {
			e = IMS_ERR_USAGE;
			break;
		}
		/* an entry ends at the next one, or at the end */
		if (r == 0 || strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0) {
			if (in_entry && match && have_pass &&
			    (user == NULL || user[0] == '\0' || strcmp(user, login) == 0)) {
				memcpy(login_r, login, strlen(login) + 1);
				memcpy(password_r, pass, strlen(pass) + 1);
				e = IMS_OK;
				break;
			}
			if (r == 0)
				break;
			in_entry = 1;
			login[0] = pass[0] = '\0';
			have_pass = 0;
			if (strcmp(tok, "default") == 0) {
				match = 1;
			} else {
				if (value(&l, "machine", tok) < 0) {
					e = IMS_ERR_USAGE;
					break;
				}
				match = strcasecmp(tok, host) == 0;
			}
		} else if (strcmp(tok, "login") == 0) {
			if (value(&l, "login", login) < 0) {
				e = IMS_ERR_USAGE;
				break;
			}
		} else if (strcmp(tok, "password") == 0) {
			if (value(&l, "password", pass) < 0) {
				e = IMS_ERR_USAGE;
				break;
			}
			have_pass = 1;
		} else if (strcmp(tok, "account") == 0) {
			if (value(&l, "account", tok) < 0) {
				e = IMS_ERR_USAGE;
				break;
			}
		} else if (strcmp(tok, "macdef") == 0) {
			if (value(&l, "macdef", tok) < 0) {
				e = IMS_ERR_USAGE;
				break;
			}
			skip_macro(&l);
		}
		/* anything else (a word ftp(1) does not know) is passed over */
	}
	ims_wipe(tok, sizeof(tok));
	ims_wipe(pass, sizeof(pass));
	ims_wipe(login, sizeof(login));
	return e;
}
