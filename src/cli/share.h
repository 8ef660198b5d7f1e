/* --share: one authenticated session for many one-shots, behind a Unix
 * socket, in the manner of ssh's ControlMaster (share.c; the wire format
 * is sharewire.h; man imapsh, SHARED CONNECTION). */
#ifndef IMAPSH_CLI_SHARE_H
#define IMAPSH_CLI_SHARE_H

#include "cli/cli.h"

#define CLI_SHARE_DEFAULT_S 600 /* --share without a duration: 10 minutes */

/* main.c's run of one command line (argv[0] "imapsh"), from the options
 * to the exit status: what a one-shot does, and what the master does
 * for each request. */
int cli_main(int argc, char **argv);

/* Remember the command line as typed (main), for the master, and the
 * function that runs one (cli_main): handed down, so that share.c never
 * calls up into main.c. */
void cli_share_note_argv(int argc, char **argv, int (*run)(int argc, char **argv));

/* Before a one-shot runs COMMAND (its target known): when sharing is asked for
 * (--share, or the share key and no --no-share), run the command through
 * the master for this connection if there is one.  The command's exit
 * status, or -1: run it here (and, with sharing on, leave the session
 * behind afterwards, cli_share_leave).  A socket that is not safely ours
 * is refused: the exit status of that error, said on stderr. */
int cli_share_client(struct cli *c, const char *command);

/* imapsh --share=stop: end the master for this connection; exit status. */
int cli_share_stop(struct cli *c);

/* At the end of a one-shot that ran here, before cli_close: with
 * sharing asked for and a healthy authenticated session, hand the session
 * to a detached master that serves later one-shots; this process keeps
 * no part of it (c->sess is NULL after). */
void cli_share_leave(struct cli *c);

/* Inside the master, the session it holds is lent to each command through
 * conn.c's keeper hooks (cli_conn_set_keeper), set when the master starts:
 * a command that needs a login takes it (cli_need), and cli_close gives it
 * back instead of closing it. */

#endif
