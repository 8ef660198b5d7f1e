/* The modes that read commands: the interactive shell (GNU readline),
 * batch (a script or standard input) and -c.  All of them end in
 * cli_cmd_run(), as one-shot mode does.  The terminal (signals, the line
 * editor) is term.c's, Tab completion tabcomplete.c's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli/cli.h"
#include "imapsh/session.h"
#include "cli/output.h"
#include "cli/tabcomplete.h"
#include "cli/term.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "imapsh/transport.h"
#include "cli/config.h"
#include "imapsh/words.h"

#define HISTORY_MAX 1000

/* ---- running command lines ------------------------------------------- */

struct line_cmds {
	struct ims_words *v;
	size_t n;
};

static void line_cmds_release(struct line_cmds *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		ims_words_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Split a whole line into its commands (empty ones dropped) before any
 * of it runs. */
static ims_err line_parse(const char *line, struct line_cmds *l, struct ims_error *err)
{
	const char *p = line, *rest;

	l->v = NULL;
	l->n = 0;
	do {
		struct ims_words w;
		struct ims_words *nv;

		ims_words_init(&w);
		if (ims_words_split(p, &rest, &w, err) != IMS_OK) {
			ims_words_release(&w);
			line_cmds_release(l);
			return err->code;
		}
		if (w.n == 0) {
			ims_words_release(&w);
			continue;
		}
		nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
		if (nv == NULL) {
			ims_words_release(&w);
			line_cmds_release(l);
			return ims_error_nomem(err);
		}
		l->v = nv;
		l->v[l->n++] = w;
	} while ((p = rest) != NULL);
	return IMS_OK;
}

static int is_exit(const char *w)
{
	return strcasecmp(w, "exit") == 0 || strcasecmp(w, "quit") == 0;
}

/* The outcome of a run of commands: the first failure, and the exit code
 * a failing check chose. */
struct run_state {
	int failed;
	ims_err first;
	int exit_set, exit;
	int quit;
};

static void report(struct cli *c, const char *where, ims_err e)
{
	const char *msg = c->err.msg;
	struct ims_error why;

	if (c->out_closed)
		return; /* nobody reads the output: stop quietly */
	if (e == IMS_ERR_CANCELLED && c->sess != NULL &&
	    ims_session_broken(c->sess, &why) != IMS_OK)
		/* Ctrl-C in the middle of an answer: what is left of it cannot
		 * be told from the next one, so the connection went with it */
		msg = "interrupted while the server was still answering: the connection is closed, "
		      "and the next command connects again";
	else if (e == IMS_ERR_CANCELLED && msg[0] == '\0')
		msg = "interrupted";
	if (msg[0] == '\0')
		msg = ims_err_name(e);
	if (where != NULL)
		cli_warn("%s: %s", where, msg);
	else
		cli_warn("%s", msg);
	if (c->o.json && !c->interactive)
		cli_json_error(stdout, where, e, cli_exit_code(e), msg, c->json_docs_before);
}

/* Run the commands of one line (len bytes), stopping after the first
 * failure unless keep_going.  A line that holds a NUL is refused whole,
 * never cut short at it: "rmdir Archive<NUL>-old" must not remove
 * Archive.  Returns 0 when all went well. */
static int run_line(struct cli *c, const char *line, size_t len, const char *where, int keep_going,
                    struct run_state *rs)
{
	struct line_cmds l;
	size_t i;
	int bad = 0;

	ims_error_init(&c->err);
	if (memchr(line, '\0', len) != NULL)
		ims_error_set(&c->err, IMS_ERR_USAGE,
		              "a NUL byte in the line; nothing of it was run");
	if (c->err.code != IMS_OK || line_parse(line, &l, &c->err) != IMS_OK) {
		report(c, where, c->err.code);
		if (!rs->failed) {
			rs->failed = 1;
			rs->first = c->err.code;
			rs->exit_set = 0;
		}
		return -1;
	}
	for (i = 0; i < l.n && (!bad || keep_going); i++) {
		ims_err e;
		int check_failed;

		if (is_exit(l.v[i].v[0])) {
			rs->quit = 1;
			break;
		}
		c->exit_set = 0;
		c->exit = 0;
		cli_interrupted = 0;
		ims_error_init(&c->err);
		c->json_docs_before = cli_json_docs();
		e = cli_cmd_run(c, (int)l.v[i].n, l.v[i].v);
		if (e == IMS_OK)
			e = cli_stdout_check(c);
		else
			(void)fflush(stdout);
		check_failed = c->exit_set && c->exit != 0;
		if (e != IMS_OK)
			report(c, where, e);
		if (e != IMS_OK || check_failed) {
			bad = 1;
			if (!rs->failed) {
				rs->failed = 1;
				rs->first = e != IMS_OK ? e : IMS_ERR_NO;
				rs->exit_set = c->exit_set;
				rs->exit = c->exit;
			}
		}
		if (c->interactive && cli_interrupted) {
			bad = 1; /* Ctrl-C also cancels the rest of the line */
			break;
		}
		if (c->out_closed) { /* the reader is gone: no more commands */
			rs->quit = 1;
			break;
		}
	}
	line_cmds_release(&l);
	return bad ? -1 : 0;
}

static ims_err run_finish(struct cli *c, const struct run_state *rs)
{
	if (!rs->failed) {
		c->exit_set = 0;
		return IMS_OK;
	}
	c->exit_set = rs->exit_set;
	c->exit = rs->exit;
	return rs->first;
}

ims_err cli_run_strings(struct cli *c, const char *const *v, size_t n)
{
	struct run_state rs;
	char where[32];
	size_t i;

	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < n && !rs.quit; i++) {
		snprintf(where, sizeof(where), "-c #%zu", i + 1);
		if (run_line(c, v[i], strlen(v[i]), n > 1 ? where : NULL, c->o.keep_going, &rs) !=
		        0 &&
		    !c->o.keep_going)
			break;
	}
	return run_finish(c, &rs);
}

ims_err cli_batch(struct cli *c, FILE *f)
{
	const char *name =
	    c->o.script != NULL && strcmp(c->o.script, "-") != 0 ? c->o.script : "stdin";
	struct run_state rs;
	char *line = NULL, where[1100];
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t len;

	memset(&rs, 0, sizeof(rs));
	while (!rs.quit && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		snprintf(where, sizeof(where), "%s:%lu", name, lineno);
		if (run_line(c, line, (size_t)len, where, c->o.keep_going, &rs) != 0 &&
		    !c->o.keep_going)
			break;
	}
	if (ferror(f) && !rs.failed) {
		ims_error_set(&c->err, IMS_ERR_IO, "%s: read error", name);
		report(c, NULL, IMS_ERR_IO);
		rs.failed = 1;
		rs.first = IMS_ERR_IO;
	}
	free(line);
	return run_finish(c, &rs);
}

/* ---- secrets stay out of history --------------------------------------- */

/* 1 if the raw IMAP text of a quote line names LOGIN or AUTHENTICATE as
 * any token (with or without a tag, in any case, also after an
 * embedded line end or a "\r\n" the quote command may expand). */
static int imap_text_is_auth(const char *s)
{
	const char *p = s;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		       (*p == '\\' && (p[1] == 'r' || p[1] == 'n')))
			p += *p == '\\' ? 2 : 1;
		for (n = 0; p[n] != '\0' && p[n] != ' ' && p[n] != '\t' && p[n] != '\r' &&
		            p[n] != '\n' && !(p[n] == '\\' && (p[n + 1] == 'r' || p[n + 1] == 'n'));
		     n++)
			;
		if ((n == 5 && strncasecmp(p, "LOGIN", 5) == 0) ||
		    (n == 12 && strncasecmp(p, "AUTHENTICATE", 12) == 0))
			return 1;
		p += n;
	}
	return 0;
}

/* 1 if line may carry a secret: a line that does not parse, a command
 * marked CMD_SENSITIVE, a quote of LOGIN or AUTHENTICATE, and every
 * quote line after one of those (its literal or SASL continuations)
 * until a line with another command. */
static int line_sensitive(const char *line, int *auth_pending)
{
	struct line_cmds l;
	struct ims_error err;
	size_t i, k;
	int sens = 0;

	ims_error_init(&err);
	if (line_parse(line, &l, &err) != IMS_OK)
		return 1;
	for (i = 0; i < l.n; i++) {
		const struct cli_cmd *cmd = cli_cmd_find(l.v[i].v[0]);
		const char *name = cmd != NULL ? cmd->name : l.v[i].v[0];

		if (cmd != NULL && (cmd->flags & CMD_SENSITIVE))
			sens = 1;
		if (strcasecmp(name, "quote") != 0) {
			*auth_pending = 0;
			continue;
		}
		for (k = 1; k < l.v[i].n && !*auth_pending; k++)
			if (imap_text_is_auth(l.v[i].v[k]))
				*auth_pending = 1;
		if (*auth_pending)
			sens = 1;
	}
	line_cmds_release(&l);
	return sens;
}

/* ---- history file ------------------------------------------------------- */

/* The history file is read and written here, never by readline (which
 * follows a symbolic link at the file's name): read through fsafe.h (a
 * regular file, never a link or a FIFO), written as a new file of mode
 * 0600 renamed over it.  One command a line; a line holding a NUL byte is
 * skipped with a warning naming it, never cut short. */

/* The lines of the history file at path into *lines (appended; each
 * NUL-terminated in b).  Returns 0, or -1 with a warning given. */
static int history_read(const char *path, struct ims_buf *b, size_t *n_r)
{
	char base[IMS_FS_NAME_MAX];
	struct ims_error err;
	unsigned long lineno = 0;
	size_t off = 0, out = 0, end;
	int dfd, found;
	ims_err e;

	*n_r = 0;
	ims_error_init(&err);
	dfd = ims_fs_parent_open(path, base, sizeof(base), &err);
	if (dfd < 0) {
		cli_warn("history %s: %s", path, err.msg);
		return -1;
	}
	e = ims_fs_read_all(dfd, base, IMS_CAP_HISTORY_FILE, b, &found, &err);
	close(dfd);
	if (e != IMS_OK) {
		cli_warn("history %s: %s", path, err.msg);
		return -1;
	}
	/* In place: lines without their end, each followed by a NUL. */
	end = b->len;
	while (off < end) {
		const char *nl = memchr(b->data + off, '\n', end - off);
		size_t ll = nl != NULL ? (size_t)(nl - (b->data + off)) : end - off;

		lineno++;
		if (memchr(b->data + off, '\0', ll) != NULL) {
			cli_warn("history %s:%lu: a NUL byte in the line: skipped", path, lineno);
		} else if (ll > 0) {
			memmove(b->data + out, b->data + off, ll);
			b->data[out + ll] = '\0';
			out += ll + 1;
			++*n_r;
		}
		off += ll + 1;
	}
	b->len = out;
	return 0;
}

static int history_load(char *path, size_t n)
{
	struct ims_error err;
	struct ims_buf b;
	size_t i, k, off = 0;

	ims_error_init(&err);
	if (cfg_user_path("STATE", "history", 1, path, n, &err) != IMS_OK) {
		cli_warn("history: %s", err.msg);
		return -1;
	}
	ims_buf_init(&b, 0);
	if (history_read(path, &b, &k) != 0) {
		ims_buf_release(&b);
		return -1;
	}
	for (i = 0; i < k; i++) {
		add_history(b.data + off);
		off += strlen(b.data + off) + 1;
	}
	ims_buf_release(&b);
	return 0;
}

/* The file as it is now (another shell may have added to it), then the
 * added lines of this session, the last HISTORY_MAX kept. */
static void history_save(const char *path, int added)
{
	char base[IMS_FS_NAME_MAX];
	struct ims_error err;
	struct ims_buf b, out;
	size_t k, skip, off = 0, i;
	int dfd, lfd, j;
	ims_err e = IMS_OK;

	if (added <= 0)
		return;
	ims_error_init(&err);
	if (added > history_length)
		added = history_length;
	/* two shells that end at once must not lose each other's lines */
	lfd = ims_fs_lock_beside(path, &err);
	if (lfd < 0) {
		cli_warn("history %s: %s", path, err.msg);
		return;
	}
	ims_buf_init(&b, 0);
	ims_buf_init(&out, 0);
	if (history_read(path, &b, &k) != 0) {
		ims_buf_release(&b);
		close(lfd);
		return;
	}
	skip = k + (size_t)added > HISTORY_MAX ? k + (size_t)added - HISTORY_MAX : 0;
	for (i = 0; i < k && e == IMS_OK; i++) {
		if (i >= skip)
			e = ims_buf_printf(&out, "%s\n", b.data + off);
		off += strlen(b.data + off) + 1;
	}
	for (j = history_length - added; j < history_length && e == IMS_OK; j++) {
		HIST_ENTRY *h = history_get(history_base + j);

		if (h != NULL && h->line != NULL)
			e = ims_buf_printf(&out, "%s\n", h->line);
	}
	ims_buf_release(&b);
	ims_error_init(&err);
	if (e != IMS_OK) {
		cli_warn("history %s: out of memory", path);
	} else if ((dfd = ims_fs_parent_open(path, base, sizeof(base), &err)) < 0) {
		cli_warn("history %s: %s", path, err.msg);
	} else {
		if (ims_fs_write_file(dfd, base, out.data != NULL ? out.data : "", out.len,
		                      IMS_FS_SYNC, &err) != IMS_OK)
			cli_warn("history %s: %s", path, err.msg);
		close(dfd);
	}
	close(lfd);
	ims_buf_release(&out);
}

/* ---- the shell ------------------------------------------------------------------ */

static void make_prompt(struct cli *c, char *out, size_t n)
{
	char u[300], h[300], f[600];
	const char *user = c->t.user[0] != '\0' ? c->t.user : c->o.user != NULL ? c->o.user : "";

	if (!c->connected || c->t.host[0] == '\0') {
		snprintf(out, n, "imapsh> ");
		return;
	}
	cli_safe(user, u, sizeof(u));
	cli_safe(c->t.host, h, sizeof(h));
	cli_safe(c->folder, f, sizeof(f));
	snprintf(out, n, "%s%s%s%s%s> ", u, u[0] != '\0' ? "@" : "", h, f[0] != '\0' ? ":" : "", f);
}

ims_err cli_repl(struct cli *c)
{
	struct cli_term_signals ss;
	char hpath[1024], prompt[1400];
	int have_history, added = 0, auth_pending = 0;

	cli_tab_begin(c);
	cli_term_set_completer(cli_tab_complete);
	cli_term_setup();
	using_history();
	stifle_history(HISTORY_MAX);
	have_history = history_load(hpath, sizeof(hpath)) == 0;
	cli_term_signals_install(&ss);
	ims_transport_set_cancel_flag(&cli_interrupted);
	c->interactive = 1;
	/* With a server given, connect (and log in when the user is known)
	 * at once, as psql does: problems show before the first command. */
	if (c->t.set) {
		ims_err ce = cli_need(c, (c->t.user[0] != '\0' || c->o.user != NULL) ? CMD_LOGIN
		                                                                     : CMD_CONNECT);

		if (ce != IMS_OK && c->err.msg[0] != '\0')
			cli_warn("%s", c->err.msg);
	}
	for (;;) {
		struct run_state rs;
		char *line;
		const char *p;
		int st;

		make_prompt(c, prompt, sizeof(prompt));
		line = cli_term_read_line(prompt, 0, &st);
		if (line == NULL) {
			if (st == RD_EOF)
				fputc('\n', rl_outstream);
			break;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0') {
			free(line);
			continue;
		}
		if (!line_sensitive(line, &auth_pending)) {
			HIST_ENTRY *last = history_length > 0
			                       ? history_get(history_base + history_length - 1)
			                       : NULL;

			if (last == NULL || strcmp(last->line, line) != 0) {
				add_history(line);
				added++;
			}
		}
		memset(&rs, 0, sizeof(rs));
		(void)run_line(c, line, strlen(line), NULL, 0, &rs);
		free(line);
		if (rs.quit || cli_term_terminated())
			break;
	}
	c->interactive = 0;
	cli_term_signals_restore(&ss);
	if (have_history)
		history_save(hpath, added);
	cli_tab_end();
	cli_folders_set(c, NULL, 0);
	c->exit_set = 0;
	return IMS_OK;
}
