/* The commands that manage the connection itself: connect, login, logout,
 * capability, id, namespace and quote (raw IMAP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"

ims_err cmd_connect(struct cli *c, int argc, char **argv)
{
	cli_close(c);
	if (argc > 1) {
		memset(&c->t, 0, sizeof(c->t));
		c->acct = NULL;
		if (cli_setup_target(c, argv[1]) != IMS_OK)
			return c->err.code;
	}
	return cli_need(c, CMD_CONNECT);
}

ims_err cmd_login(struct cli *c, int argc, char **argv)
{
	ims_err e = cli_need(c, CMD_CONNECT);

	if (e != IMS_OK)
		return e;
	if (ims_session_state(c->sess) != IMS_STATE_NOT_AUTHENTICATED)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "already logged in (logout first)");
	if (argc > 1)
		snprintf(c->t.user, sizeof(c->t.user), "%s", argv[1]);
	return cli_login(c, argc > 1 ? argv[1] : NULL);
}

ims_err cmd_logout(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_close(c);
	return IMS_OK;
}

ims_err cmd_capability(struct cli *c, int argc, char **argv)
{
	const char *const *caps;
	size_t n, i;
	ims_err e = cli_need(c, CMD_CONNECT);

	(void)argc;
	(void)argv;
	if (e != IMS_OK)
		return e;
	e = ims_session_capability(c->sess, &c->err);
	if (e != IMS_OK)
		return e;
	n = ims_session_caps(c->sess, &caps);
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_array(&j);
		for (i = 0; i < n; i++)
			json_str(&j, caps[i]);
		json_end_array(&j);
		json_finish(&j);
		return IMS_OK;
	}
	for (i = 0; i < n; i++)
		(void)tsv_row(stdout, 1, (const char *const[]){caps[i]});
	return IMS_OK;
}

ims_err cmd_id(struct cli *c, int argc, char **argv)
{
	static const char *const mine[] = {"name", "imapsh", "version", IMAPSH_VERSION};
	struct ims_id_result r;
	size_t i;
	ims_err e = cli_need(c, CMD_CONNECT);

	(void)argc;
	(void)argv;
	if (e != IMS_OK)
		return e;
	ims_id_result_init(&r);
	e = ims_session_id(c->sess, mine, 2, &r, &c->err);
	if (e == IMS_OK) {
		if (c->o.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			for (i = 0; i < r.n; i++) {
				json_key(&j, r.names[i]);
				if (r.values[i] != NULL)
					json_str(&j, r.values[i]);
				else
					json_null(&j);
			}
			json_end_object(&j);
			json_finish(&j);
		} else {
			for (i = 0; i < r.n; i++)
				tsv_kv(stdout, c->out_tty, r.names[i],
				       r.values[i] != NULL ? r.values[i] : "NIL");
		}
	}
	ims_id_result_release(&r);
	return e;
}

ims_err cmd_namespace(struct cli *c, int argc, char **argv)
{
	static const char *const kinds[3] = {"personal", "other", "shared"};
	struct ims_namespace_result r;
	size_t k, i;
	ims_err e = cli_need(c, CMD_LOGIN);
	struct json_out j;

	(void)argc;
	(void)argv;
	if (e != IMS_OK)
		return e;
	ims_namespace_result_init(&r);
	e = ims_session_namespace(c->sess, &r, &c->err);
	if (e == IMS_OK) {
		if (c->o.json) {
			json_init(&j, stdout);
			json_begin_object(&j);
		}
		for (k = 0; k < 3; k++) {
			if (c->o.json) {
				json_key(&j, kinds[k]);
				json_begin_array(&j);
			}
			for (i = 0; i < r.n[k]; i++) {
				struct ims_buf b;
				char d[2] = {r.v[k][i].delim, 0};
				char safe[1024], dsafe[16];

				ims_buf_init(&b, 0);
				(void)cli_mbox_decode(c, r.v[k][i].prefix, strlen(r.v[k][i].prefix),
				                      &b);
				if (c->o.json) {
					json_begin_object(&j);
					json_kv_str(&j, "prefix", b.data != NULL ? b.data : "");
					json_kv_str(&j, "delimiter", d);
					json_end_object(&j);
				} else if (c->out_tty) {
					printf("%-9s %-20s %s\n", kinds[k],
					       cli_safe(b.data != NULL ? b.data : "", safe,
					                sizeof(safe)),
					       cli_safe(d, dsafe, sizeof(dsafe)));
				} else {
					(void)tsv_row(stdout, 3,
					              (const char *const[]){kinds[k], b.data, d});
				}
				ims_buf_release(&b);
			}
			if (c->o.json)
				json_end_array(&j);
		}
		if (c->o.json) {
			json_end_object(&j);
			json_finish(&j);
		}
	}
	ims_namespace_result_release(&r);
	return e;
}

static ims_err quote_cb(void *ctx, const struct ims_response *r, const char *raw, size_t raw_len,
                        struct ims_error *err)
{
	struct cli *c = ctx;

	(void)r;
	(void)err;
	if (c->out_tty) {
		struct ims_buf b;
		struct ims_error e;

		ims_buf_init(&b, 0);
		if (ims_sanitize(raw, raw_len, IMS_SANITIZE_TEXT, &b, &e) == IMS_OK &&
		    b.data != NULL)
			fwrite(b.data, 1, b.len, stdout);
		ims_buf_release(&b);
		if (raw_len == 0 || raw[raw_len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		/* On a pipe, the bytes as the server sent them. */
		fwrite(raw, 1, raw_len, stdout);
	}
	return IMS_OK;
}

/* Commands that make sense before authentication. */
static int preauth_verb(const char *w)
{
	static const char *const verbs[] = {"LOGIN", "AUTHENTICATE", "CAPABILITY", "ID",
	                                    "NOOP",  "LOGOUT",       "STARTTLS",   "ENABLE"};
	size_t i, n = strcspn(w, " ");

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i]) == n && strncasecmp(w, verbs[i], n) == 0)
			return 1;
	return 0;
}

ims_err cmd_quote(struct cli *c, int argc, char **argv)
{
	struct ims_buf line;
	ims_err e;
	int i;

	e = IMS_OK;
	/* One word is the command line as the user wrote it (imapsh quote
	 * 'LIST "" *'); several words (the shell split them) are joined, and
	 * a word that was quoted for a reason (empty, a space, a quote) is
	 * quoted again for IMAP. */
	ims_buf_init(&line, IMS_CAP_RAW_COMMAND);
	for (i = 1; i < argc && e == IMS_OK; i++) {
		const char *w = argv[i];
		int q = argc > 2 && i > 1 && (w[0] == '\0' || strpbrk(w, " \"\\") != NULL);

		if (i > 1 && ims_buf_putc(&line, ' ') != IMS_OK)
			e = IMS_ERR_LIMIT;
		else if (!q && ims_buf_puts(&line, w) != IMS_OK)
			e = IMS_ERR_LIMIT;
		else if (q) {
			e = ims_buf_putc(&line, '"');
			for (; *w != '\0' && e == IMS_OK; w++) {
				if (*w == '"' || *w == '\\')
					e = ims_buf_putc(&line, '\\');
				if (e == IMS_OK)
					e = ims_buf_putc(&line, *w);
			}
			if (e == IMS_OK)
				e = ims_buf_putc(&line, '"');
		}
	}
	if (e != IMS_OK) {
		ims_buf_release(&line);
		return ims_error_set(&c->err, IMS_ERR_USAGE, "quote: the command is too long");
	}
	/* The line is checked before connecting; then log in first when we
	 * know who, unless the command is one for before authentication (an
	 * expert may send LOGIN by hand). */
	e = ims_quote_check(line.data != NULL ? line.data : "", &c->err);
	if (e == IMS_OK)
		e = cli_need(c,
		             !preauth_verb(argv[1]) && (c->t.user[0] != '\0' || c->o.user != NULL)
		                 ? CMD_LOGIN
		                 : CMD_CONNECT);
	if (e != IMS_OK) {
		ims_wipe(line.data, line.len);
		ims_buf_release(&line);
		return e;
	}
	e = ims_session_quote(c->sess, line.data, quote_cb, c, &c->err);
	ims_wipe(line.data, line.len);
	ims_buf_release(&line);
	fflush(stdout);
	return e;
}
