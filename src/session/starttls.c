#include "imapsh/starttls.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "session_int.h"

ims_err ims_read_line_exact(struct ims_stream *s, char *line, size_t n, struct ims_error *err)
{
	size_t len = 0;

	for (;;) {
		char c;
		size_t got;

		if (ims_stream_read(s, &c, 1, &got) != IMS_OK)
			return ims_error_copy(err, &s->err);
		if (got == 0)
			return ims_error_set(err, IMS_ERR_NET, "the server closed the connection");
		if (c == '\n') {
			if (len == 0 || line[len - 1] != '\r')
				return ims_error_set(err, IMS_ERR_PROTOCOL,
				                     "bare LF in a server line");
			line[len - 1] = '\0';
			return IMS_OK;
		}
		if (c == '\0')
			return ims_error_set(err, IMS_ERR_PROTOCOL, "NUL byte in a server line");
		if (len > 0 && line[len - 1] == '\r')
			return ims_error_set(err, IMS_ERR_PROTOCOL, "bare CR in a server line");
		if (len + 1 >= n)
			return ims_error_set(err, IMS_ERR_LIMIT,
			                     "server line longer than %zu bytes", n - 1);
		line[len++] = c;
		line[len] = '\0';
	}
}

/* Does a CAPABILITY list (space-separated atoms) hold name? */
static int has_atom(const char *list, const char *name)
{
	size_t nl = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		size_t l;

		while (*p == ' ')
			p++;
		l = strcspn(p, " ]");
		if (l == nl && strncasecmp(p, name, nl) == 0)
			return 1;
		p += l;
		if (*p == ']')
			break;
	}
	return 0;
}

/* line: plaintext server text, shown sanitised (never raw escapes). */
static ims_err fail(struct ims_error *err, const char *why, const char *line)
{
	char w[400];

	if (line != NULL) {
		ims__server_words(line, w, 200);
		return ims_error_set(err, IMS_ERR_TLS, "starttls: %s (server said: %s)", why, w);
	}
	return ims_error_set(err, IMS_ERR_TLS, "starttls: %s", why);
}

ims_err ims_starttls_negotiate(struct ims_stream *s, char *greeting_r, size_t gn,
                               struct ims_error *err)
{
	char line[8192];
	const char *caps = NULL;
	int offered = 0;
	ims_err e;

	/* The greeting: OK only.  PREAUTH cannot be upgraded (RFC 3501). */
	e = ims_read_line_exact(s, line, sizeof(line), err);
	if (e != IMS_OK)
		return e;
	if (greeting_r != NULL)
		snprintf(greeting_r, gn, "%s", line);
	if (strncasecmp(line, "* PREAUTH", 9) == 0)
		return fail(
		    err,
		    "the server sent a PREAUTH greeting, which cannot be upgraded to TLS; refusing",
		    NULL);
	if (strncasecmp(line, "* BYE", 5) == 0 || strncasecmp(line, "* NO", 4) == 0) {
		char w[400];

		ims__server_words(line, w, 200);
		return ims_error_set(err, IMS_ERR_NET, "the server refused the connection: %s", w);
	}
	if (strncasecmp(line, "* OK", 4) != 0)
		return fail(err, "this is not an IMAP greeting", line);
	if (strncasecmp(line, "* OK [CAPABILITY ", 17) == 0) {
		caps = line + 17;
		offered = has_atom(caps, "STARTTLS");
	} else {
		if (ims_stream_write(s, "S1 CAPABILITY\r\n", 15) != IMS_OK)
			return ims_error_copy(err, &s->err);
		for (;;) {
			e = ims_read_line_exact(s, line, sizeof(line), err);
			if (e != IMS_OK)
				return e;
			if (strncasecmp(line, "* CAPABILITY ", 13) == 0) {
				offered = offered || has_atom(line + 13, "STARTTLS");
				continue;
			}
			if (strncmp(line, "S1 ", 3) == 0) {
				if (strncasecmp(line + 3, "OK", 2) != 0)
					return fail(err, "the server refused CAPABILITY", line);
				break;
			}
			if (line[0] != '*')
				return fail(err, "unexpected reply to CAPABILITY", line);
			/* Other untagged data before TLS is dropped unread. */
		}
	}
	if (!offered)
		return fail(
		    err, "the server does not offer STARTTLS; imapsh never falls back to plaintext",
		    NULL);
	if (ims_stream_write(s, "S2 STARTTLS\r\n", 13) != IMS_OK)
		return ims_error_copy(err, &s->err);
	e = ims_read_line_exact(s, line, sizeof(line), err);
	if (e != IMS_OK)
		return e;
	/* Not quoted: untrusted plaintext (an [ALERT], say) is never shown. */
	if (line[0] == '*' || line[0] == '+')
		return fail(
		    err,
		    "the server sent data before its STARTTLS reply (possible injection); refusing",
		    NULL);
	if (strncmp(line, "S2 ", 3) != 0)
		return fail(err, "unexpected reply to STARTTLS", line);
	if (strncasecmp(line + 3, "OK", 2) != 0 || (line[5] != ' ' && line[5] != '\0'))
		return fail(err, "the server refused STARTTLS", line);
	if (ims_stream_pending(s) != 0)
		return fail(err,
		            "the server sent data after its STARTTLS reply, before TLS (possible "
		            "injection); refusing",
		            NULL);
	return IMS_OK;
}
