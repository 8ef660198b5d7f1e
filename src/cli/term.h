/* The terminal (term.c): the shell's signal handlers and readline.
 * cli_interrupted, cli_readline() and cli_confirm() are in cli.h. */
#ifndef IMAPSH_CLI_TERM_H
#define IMAPSH_CLI_TERM_H

#include <signal.h>

/* How cli_term_read_line() ended. */
enum { RD_LINE, RD_EOF, RD_INTERRUPTED, RD_TERMINATED, RD_ERROR };

/* A readline completion function (rl_completion_func_t). */
typedef char **cli_term_completer(const char *text, int start, int end);

/* The handlers the shell installs while it runs (SIGINT, SIGWINCH,
 * SIGTERM, SIGHUP; no SA_RESTART) and the ones they replaced. */
struct cli_term_signals {
	struct sigaction intr, winch, term, hup;
};
void cli_term_signals_install(struct cli_term_signals *s);
void cli_term_signals_restore(const struct cli_term_signals *s);
/* SIGTERM or SIGHUP arrived since the handlers were installed. */
int cli_term_terminated(void);

/* Readline as the shell and its questions use it (idempotent): prompts
 * on stderr, our signal handlers, the completer set below. */
void cli_term_setup(void);
void cli_term_set_completer(cli_term_completer *f);
/* One line with editing (the caller frees it), NULL at the end with
 * *status_r saying why.  At the main prompt (question 0) Ctrl-C clears
 * the line; for a question it ends the read. */
char *cli_term_read_line(const char *prompt, int question, int *status_r);

#endif
