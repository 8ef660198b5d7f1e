/* The terminal: the signals the shell handles and the line editor.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>

#include <readline/readline.h>

#include "cli/cli.h"
#include "cli/term.h"

volatile sig_atomic_t cli_interrupted;

static volatile sig_atomic_t got_winch;
static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_tstp;
static cli_term_completer *completer; /* the shell's Tab (cli_term_set_completer) */

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
void cli_term_setup(void)
{
	rl_readline_name = "imapsh";
	rl_instream = stdin;
	rl_outstream = stderr; /* prompts and echo; stdout carries results */
	rl_catch_signals = 0;  /* our handlers, see the top of the file */
	rl_catch_sigwinch = 0;
	rl_change_environment = 0; /* leave LINES and COLUMNS alone */
	rl_attempted_completion_function = completer;
	rl_completer_word_break_characters = " \t;";
	rl_completer_quote_characters = "\"'";
	rl_filename_quote_characters = " \t;#'\"\\";
}

/* One line with editing.  At the main prompt (question 0) Ctrl-C clears
 * the line; for a question it ends the read. */
char *cli_term_read_line(const char *prompt, int question, int *status_r)
{
	struct sigaction sa, old_tstp;
	sigset_t block, old;
	int fd;

	*status_r = RD_LINE;
	cli_term_setup();
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
	line = cli_term_read_line(prompt, 1, &st);
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

void cli_term_signals_install(struct cli_term_signals *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocking wait sees EINTR */
	sa.sa_handler = on_sigint;
	got_term = 0;
	got_winch = 0;
	sigaction(SIGINT, &sa, &s->intr);
	sa.sa_handler = on_sigwinch;
	sigaction(SIGWINCH, &sa, &s->winch);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, &s->term);
	sigaction(SIGHUP, &sa, &s->hup);
}

void cli_term_signals_restore(const struct cli_term_signals *s)
{
	sigaction(SIGINT, &s->intr, NULL);
	sigaction(SIGWINCH, &s->winch, NULL);
	sigaction(SIGTERM, &s->term, NULL);
	sigaction(SIGHUP, &s->hup, NULL);
}

void cli_term_set_completer(cli_term_completer *f)
{
	completer = f;
}

int cli_term_terminated(void)
{
	return got_term != 0;
}
