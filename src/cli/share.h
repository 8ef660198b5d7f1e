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

/* Remember the command line as typed (main), for the master. */
void cli_share_note_argv(int argc, char **argv);

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

/* Inside the master.  cli_share_adopt (cli_need): a command that needs a
 * login (flags) and has no session takes the held one.  cli_share_hold (cli_close): 1 when the
 * session went back to the master instead of being closed. */
void cli_share_adopt(struct cli *c, unsigned flags);
int cli_share_hold(struct cli *c);

#endif
