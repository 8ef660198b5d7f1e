/* The modes that read commands: the interactive shell (GNU readline),
 * batch (a script or standard input) and -c.  All of them end in
 * cli_cmd_run(), as one-shot mode does.
 *
 * The shell reads with readline's callback interface and pselect(), with
 * its own signal handlers (rl_catch_signals = 0): SIGINT at the prompt
 * clears the line and shows a fresh prompt; during a command it only sets
 * cli_interrupted; SIGTERM and SIGHUP end the shell cleanly (history
 * saved, terminal restored); SIGTSTP at the prompt restores the terminal
 * before stopping; SIGWINCH resizes.  The signals are blocked
 * while readline runs and delivered only inside pselect(), so none is
 * lost between the check and the wait. */
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
#include "cli/output.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "imapsh/transport.h"
#include "cli/config.h"
#include "imapsh/words.h"

#define HISTORY_MAX 1000

volatile sig_atomic_t cli_interrupted;

static volatile sig_atomic_t got_winch;
static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_tstp;

static struct cli *repl_cli; /* for the completion callbacks */

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

	if (c->out_closed)
		return; /* nobody reads the output: stop quietly */
	if (e == IMS_ERR_CANCELLED && msg[0] == '\0')
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

/* ---- reading a line ------------------------------------------------------ */

static void on_sigint(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

static void on_sigwinch(int sig)
{
	(void)sig;
	got_winch = 1;
}

static void on_sigtstp(int sig)
{
	(void)sig;
	got_tstp = 1;
}

static void on_term(int sig)
{
	got_term = sig;
	cli_interrupted = 1;
}

enum { RD_LINE, RD_EOF, RD_INTERRUPTED, RD_TERMINATED, RD_ERROR };

static char *rd_line;
static int rd_done;

static void on_line(char *line)
{
	rd_line = line;
	rd_done = 1;
	rl_callback_handler_remove();
}

/* Drop what was typed and leave readline's callback mode, the terminal
 * restored, the cursor on a fresh line. */
static void cancel_input(int echo_sigint)
{
	rl_free_line_state();
	rl_callback_sigcleanup(); /* ends an incremental search, say */
	rl_point = rl_end;        /* "^C" after what was typed, as bash */
	rl_redisplay();
	if (echo_sigint)
		rl_echo_signal_char(SIGINT);
	rl_crlf();
	rl_callback_handler_remove();
}

static char **complete(const char *text, int start, int end);

/* Stop for Ctrl-Z with the terminal as the shell expects it, and take
 * the line up again after fg. */
static void suspend(void)
{
	struct sigaction dfl, mine;
	sigset_t tstp;

	rl_echo_signal_char(SIGTSTP);
	rl_cleanup_after_signal();
	memset(&dfl, 0, sizeof(dfl));
	sigemptyset(&dfl.sa_mask);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &mine);
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	raise(SIGTSTP); /* pending until unblocked */
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	sigaction(SIGTSTP, &mine, NULL);
	rl_reset_after_signal();
	rl_forced_update_display();
}

/* Readline as the shell and its questions use it (idempotent). */
static void readline_setup(void)
{
	rl_readline_name = "imapsh";
	rl_instream = stdin;
	rl_outstream = stderr; /* prompts and echo; stdout carries results */
	rl_catch_signals = 0;  /* our handlers, see the top of the file */
	rl_catch_sigwinch = 0;
	rl_change_environment = 0; /* leave LINES and COLUMNS alone */
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t;";
	rl_completer_quote_characters = "\"'";
	rl_filename_quote_characters = " \t;#'\"\\";
}

/* One line with editing.  At the main prompt (question 0) Ctrl-C clears
 * the line; for a question it ends the read. */
static char *read_line(const char *prompt, int question, int *status_r)
{
	struct sigaction sa, old_tstp;
	sigset_t block, old;
	int fd;

	*status_r = RD_LINE;
	readline_setup();
	fd = fileno(rl_instream);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &old);
	/* Ctrl-Z at the prompt: put the terminal back first (suspend()).
	 * While a command runs, the default (the terminal is in its normal
	 * state then). */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigtstp;
	sigaction(SIGTSTP, &sa, &old_tstp);
	got_tstp = 0;
	rd_line = NULL;
	rd_done = 0;
	cli_interrupted = 0;
	rl_callback_handler_install(prompt, on_line);
	while (!rd_done) {
		fd_set fds;
		int r;

		if (got_term) {
			cancel_input(0);
			*status_r = RD_TERMINATED;
			break;
		}
		if (got_winch) {
			got_winch = 0;
			rl_resize_terminal();
		}
		if (got_tstp) {
			got_tstp = 0;
			suspend();
			continue;
		}
		if (cli_interrupted) {
			cli_interrupted = 0;
			cancel_input(1);
			if (question) {
				*status_r = RD_INTERRUPTED;
				break;
			}
			rl_callback_handler_install(prompt, on_line);
			continue;
		}
		FD_ZERO(&fds);
		FD_SET(fd, &fds);
		r = pselect(fd + 1, &fds, NULL, NULL, NULL, &old);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cancel_input(0);
			*status_r = RD_ERROR;
			break;
		}
		rl_callback_read_char();
	}
	sigaction(SIGTSTP, &old_tstp, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rd_done && rd_line == NULL)
		*status_r = RD_EOF;
	return rd_line;
}

char *cli_readline(struct cli *c, const char *prompt)
{
	int st;
	char *line;

	if (!c->interactive)
		return NULL;
	line = read_line(prompt, 1, &st);
	if (st == RD_EOF)
		fputc('\n', rl_outstream);
	return line;
}

/* Outside the shell a destructive command runs without asking: whoever
 * wrote it in a script or on the command line asked for it. */
int cli_confirm(struct cli *c, const char *question)
{
	char prompt[1024];
	char *ans, *a;
	int yes;

	if (!c->interactive)
		return 1;
	snprintf(prompt, sizeof(prompt), "%s [y/N] ", question);
	ans = cli_readline(c, prompt);
	if (ans == NULL)
		return 0;
	for (a = ans; *a == ' ' || *a == '\t'; a++)
		;
	a[strcspn(a, " \t")] = '\0';
	yes = strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0;
	free(ans);
	return yes;
}

/* ---- completion ------------------------------------------------------------ */

void cli_folders_set(struct cli *c, char **names, size_t n)
{
	size_t i;

	for (i = 0; i < c->n_folders; i++)
		free(c->folders[i]);
	free(c->folders);
	c->folders = names;
	c->n_folders = names != NULL ? n : 0;
	if (names == NULL)
		c->folders_asked = 0;
}

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_add(struct strv *s, const char *str, size_t len)
{
	size_t i;
	char *d;

	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && strncmp(s->v[i], str, len) == 0)
			return;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		char **nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		s->v = nv;
		s->cap = nc;
	}
	d = malloc(len + 1);
	if (d == NULL)
		return;
	memcpy(d, str, len);
	d[len] = '\0';
	s->v[s->n++] = d;
}

static void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static struct strv comp; /* the candidates of the completion under way */
static size_t comp_next;

static char *comp_gen(const char *text, int state)
{
	(void)text;
	if (state == 0)
		comp_next = 0;
	if (comp_next < comp.n)
		return strdup(comp.v[comp_next++]);
	return NULL;
}

static void add_if_prefix(struct strv *s, const char *cand, size_t clen, const char *text, int fold)
{
	size_t tl = strlen(text);

	if (clen < tl)
		return;
	if (fold ? strncasecmp(cand, text, tl) != 0 : strncmp(cand, text, tl) != 0)
		return;
	strv_add(s, cand, clen);
}

static void add_commands(const char *text)
{
	size_t i, k, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	for (i = 0; i < n; i++) {
		add_if_prefix(&comp, t[i].name, strlen(t[i].name), text, 1);
		for (k = 0; k < 3 && t[i].aliases[k] != NULL; k++)
			add_if_prefix(&comp, t[i].aliases[k], strlen(t[i].aliases[k]), text, 1);
	}
	add_if_prefix(&comp, "exit", 4, text, 1);
	add_if_prefix(&comp, "quit", 4, text, 1);
}

/* The options cmd declares (opts.h) and --help: nothing else is
 * accepted on a shell command's line, so nothing else is offered. */
static void add_options(const struct cli_cmd *cmd, const char *text)
{
	const struct cli_opt *o;
	char buf[64];

	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		snprintf(buf, sizeof(buf), "--%s", o->name);
		add_if_prefix(&comp, buf, strlen(buf), text, 0);
	}
	add_if_prefix(&comp, "--help", 6, text, 0);
}

/* A folder name as a word: within the quote the user opened, or in
 * double quotes when any candidate needs them. */
static int needs_quotes(const char *s)
{
	return s[0] == '\0' || strpbrk(s, " \t;#'\"\\") != NULL;
}

static void add_quoted(const char *name, char inq, int force)
{
	size_t len = strlen(name), i, o = 0;
	char *d = malloc(2 * len + 3);

	if (d == NULL)
		return;
	if (inq == '\'') {
		strv_add(&comp, name, len);
		free(d);
		return;
	}
	if (inq == 0 && force)
		d[o++] = '"';
	for (i = 0; i < len; i++) {
		if ((inq == '"' || force) && (name[i] == '"' || name[i] == '\\'))
			d[o++] = '\\';
		d[o++] = name[i];
	}
	if (inq == 0 && force)
		d[o++] = '"';
	strv_add(&comp, d, o);
	free(d);
}

static void add_folders(struct cli *c, const char *text, char inq)
{
	size_t i, tl = strlen(text);
	int force = 0;

	/* the special-use roles: ":sent", ":trash"... */
	for (i = 0; text[0] == ':' && cli_folder_roles[i] != NULL; i++) {
		char role[32];

		snprintf(role, sizeof(role), ":%s", cli_folder_roles[i]);
		if (strncasecmp(role, text, tl) == 0)
			add_quoted(role, inq, 0);
	}

	for (i = 0; i < c->n_folders; i++) {
		const char *f = c->folders[i];
		int fold = strcasecmp(f, "INBOX") == 0;

		if (fold ? strncasecmp(f, text, tl) == 0 : strncmp(f, text, tl) == 0)
			force |= inq == 0 && needs_quotes(f);
	}
	for (i = 0; i < c->n_folders; i++) {
		const char *f = c->folders[i];
		int fold = strcasecmp(f, "INBOX") == 0;

		if (fold ? strncasecmp(f, text, tl) == 0 : strncmp(f, text, tl) == 0)
			add_quoted(f, inq, force);
	}
}

enum arg_kind { ARG_NOTHING, ARG_FOLDER, ARG_COMMAND, ARG_FILE };

static enum arg_kind metavar_kind(const char *m, size_t len)
{
	if (len >= 3 && strncmp(m + len - 3, "...", 3) == 0)
		len -= 3;
	if ((len == 6 && strncmp(m, "FOLDER", 6) == 0) || (len == 3 && strncmp(m, "OLD", 3) == 0) ||
	    (len == 3 && strncmp(m, "NEW", 3) == 0))
		return ARG_FOLDER;
	if (len == 7 && strncmp(m, "COMMAND", 7) == 0)
		return ARG_COMMAND;
	if ((len == 4 && (strncmp(m, "FILE", 4) == 0 || strncmp(m, "PATH", 4) == 0)) ||
	    (len == 3 && strncmp(m, "DIR", 3) == 0))
		return ARG_FILE;
	return ARG_NOTHING;
}

/* Whether the option word a takes a value, and what kind of value. */
static int option_value(const struct cli_cmd *cmd, const char *a, enum arg_kind *kind_r)
{
	const struct cli_opt *o;

	if (strchr(a, '=') != NULL)
		return 0;
	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		if (!((a[1] == '-' && strcmp(a + 2, o->name) == 0) ||
		      (o->shrt != 0 && a[1] == o->shrt && a[2] == '\0')))
			continue;
		if (!cli_opt_takes_value(o))
			return 0;
		switch (o->kind) {
		case CLI_OPT_FOLDER: *kind_r = ARG_FOLDER; break;
		case CLI_OPT_FILE:
		case CLI_OPT_DIR: *kind_r = ARG_FILE; break;
		case CLI_OPT_WORD: *kind_r = ARG_NOTHING; break;
		default: *kind_r = ARG_NOTHING; break;
		}
		return 1;
	}
	return 0;
}

/* The words of a WORD option's value ("maildir|mbox"). */
static void add_option_words(const struct cli_cmd *cmd, const char *a, const char *text)
{
	const struct cli_opt *o;

	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		const char *w;

		if (o->kind != CLI_OPT_WORD || !((a[1] == '-' && strcmp(a + 2, o->name) == 0) ||
		                                 (o->shrt != 0 && a[1] == o->shrt && a[2] == '\0')))
			continue;
		for (w = o->meta; *w != '\0';) {
			size_t l = strcspn(w, "|");

			add_if_prefix(&comp, w, l, text, 0);
			w += l + (w[l] == '|');
		}
	}
}

/* Operand pos of cmd, from its usage: the words after the name, brackets
 * dropped; '|' separates alternatives ("list | add HOST PIN"), the first
 * word of one in lower case is a keyword that selects it; a last word
 * ending in "..." repeats.  Keywords for pos go into comp. */
static enum arg_kind usage_kind(const struct cli_cmd *cmd, char **ops, size_t pos, const char *text)
{
	char toks[32][64];
	size_t nt = 0, start;
	const char *p = cmd->usage + strcspn(cmd->usage, " ");
	enum arg_kind kind = ARG_NOTHING;

	/* Tokens, brackets and parentheses dropped; "|" kept as its own. */
	while (*p != '\0' && nt < 32) {
		size_t n = 0;

		while (*p == ' ' || *p == '[' || *p == ']' || *p == '(' || *p == ')')
			p++;
		if (*p == '|') {
			snprintf(toks[nt++], 64, "|");
			p++;
			continue;
		}
		while (*p != '\0' && *p != ' ' && *p != '|' && n < 63) {
			if (*p != '[' && *p != ']' && *p != '(' && *p != ')')
				toks[nt][n++] = *p;
			p++;
		}
		if (n > 0) {
			toks[nt][n] = '\0';
			nt++;
		}
	}
	for (start = 0; start <= nt;) {
		size_t end = start, len, k;
		int fits = 1;

		while (end < nt && strcmp(toks[end], "|") != 0)
			end++;
		len = end - start;
		for (k = 0; k < pos && fits; k++) {
			const char *t = k < len ? toks[start + k] : NULL;

			if (t == NULL && len > 0 && strstr(toks[end - 1], "...") != NULL)
				t = toks[end - 1];
			if (t == NULL || (t[0] >= 'a' && t[0] <= 'z' && strcmp(t, ops[k]) != 0))
				fits = 0;
		}
		if (fits) {
			const char *t = pos < len ? toks[start + pos] : NULL;

			if (t == NULL && len > 0 && strstr(toks[end - 1], "...") != NULL)
				t = toks[end - 1];
			if (t != NULL && t[0] >= 'a' && t[0] <= 'z')
				add_if_prefix(&comp, t, strlen(t), text, 0);
			else if (t != NULL && kind == ARG_NOTHING)
				kind = metavar_kind(t, strlen(t));
		}
		start = end + 1;
	}
	return kind;
}

static char **complete(const char *text, int start, int end)
{
	struct cli *c = repl_cli;
	char inq = (char)rl_completion_quote_character;
	struct ims_words w;
	struct ims_error err;
	const struct cli_cmd *cmd;
	enum arg_kind kind = ARG_NOTHING;
	const char *p, *rest, *opt = NULL;
	enum arg_kind vkind = ARG_NOTHING;
	char *prefix, **ops = NULL;
	char **matches = NULL;
	size_t plen = (size_t)start, i, nops = 0;
	int pending = 0;

	(void)end;
	rl_attempted_completion_over = 1;
	strv_free(&comp);
	if (inq != 0 && plen > 0 && rl_line_buffer[plen - 1] == inq)
		plen--;
	prefix = strndup(rl_line_buffer, plen);
	if (prefix == NULL)
		return NULL;
	/* The words of the command being typed: the last ';' part. */
	ims_words_init(&w);
	ims_error_init(&err);
	p = prefix;
	for (;;) {
		ims_words_release(&w);
		if (ims_words_split(p, &rest, &w, &err) != IMS_OK)
			goto out;
		if (rest == NULL)
			break;
		p = rest;
	}
	if (w.n == 0) {
		add_commands(text);
		goto done;
	}
	cmd = cli_cmd_find(w.v[0]);
	if (cmd == NULL)
		goto out;
	ops = calloc(w.n, sizeof(*ops));
	if (ops == NULL)
		goto out;
	for (i = 1; i < w.n; i++) {
		const char *a = w.v[i];

		if (pending) {
			pending = 0;
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			pending = option_value(cmd, a, &vkind);
			opt = a;
			continue;
		}
		ops[nops++] = w.v[i];
	}
	if (pending) {
		kind = vkind;
		add_option_words(cmd, opt, text);
	} else if (text[0] == '-' && inq == 0)
		add_options(cmd, text);
	else
		kind = usage_kind(cmd, ops, nops, text);
	switch (kind) {
	case ARG_FOLDER:
		cli_folders_fill(c); /* the first Tab of a session asks the server */
		add_folders(c, text, inq);
		break;
	case ARG_COMMAND: add_commands(text); break;
	case ARG_FILE:
		rl_attempted_completion_over = 0; /* readline's file names */
		goto out;
	case ARG_NOTHING: break;
	}
done:
	if (comp.n > 0)
		matches = rl_completion_matches(text, comp_gen);
out:
	free(ops);
	ims_words_release(&w);
	free(prefix);
	return matches;
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

struct saved_signals {
	struct sigaction intr, winch, term, hup;
};

static void signals_install(struct saved_signals *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocking wait sees EINTR */
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &s->intr);
	sa.sa_handler = on_sigwinch;
	sigaction(SIGWINCH, &sa, &s->winch);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, &s->term);
	sigaction(SIGHUP, &sa, &s->hup);
}

static void signals_restore(const struct saved_signals *s)
{
	sigaction(SIGINT, &s->intr, NULL);
	sigaction(SIGWINCH, &s->winch, NULL);
	sigaction(SIGTERM, &s->term, NULL);
	sigaction(SIGHUP, &s->hup, NULL);
}

ims_err cli_repl(struct cli *c)
{
	struct saved_signals ss;
	char hpath[1024], prompt[1400];
	int have_history, added = 0, auth_pending = 0;

	repl_cli = c;
	readline_setup();
	using_history();
	stifle_history(HISTORY_MAX);
	have_history = history_load(hpath, sizeof(hpath)) == 0;
	got_term = 0;
	got_winch = 0;
	signals_install(&ss);
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
		line = read_line(prompt, 0, &st);
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
		if (rs.quit || got_term)
			break;
	}
	c->interactive = 0;
	signals_restore(&ss);
	if (have_history)
		history_save(hpath, added);
	strv_free(&comp);
	cli_folders_set(c, NULL, 0);
	c->exit_set = 0;
	repl_cli = NULL;
	return IMS_OK;
}
