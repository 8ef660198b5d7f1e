/* Every program imapsh starts (the pager, a password or token command)
 * is started here, with an environment imapsh chose: the one it was given
 * minus every variable that can carry a secret, plus what the caller adds.
 * Secrets given in the environment are read once, at start, and removed
 * from imapsh's own environment, so no later fork can pass them on.
 *
 * Ownership: child_secrets_take() keeps its copies in static storage
 * until child_secrets_wipe(); the caller owns nothing it returns. */
#ifndef IMAPSH_CLI_CHILD_H
#define IMAPSH_CLI_CHILD_H

#include <sys/types.h>

#include "imapsh/error.h"

/* Call first thing in main(): copy IMAPSH_PASSWORD (and any other
 * variable that carries a secret) away and unset it.  0, or -1 when out
 * of memory. */
int child_secrets_take(void);
/* The IMAPSH_PASSWORD given at start, or NULL (unset or empty). */
const char *child_env_password(void);
/* Wipe and free the copies (at exit). */
void child_secrets_wipe(void);

/* Start /bin/sh -c cmd with stdin from in_fd and stdout to out_fd (-1:
 * imapsh's own), default signal dispositions, and the chosen environment
 * with each of extra_env ("NAME=value", NULL-terminated, may be NULL)
 * added or replacing the inherited value.  what names it in errors. */
ims_err child_start(const char *what, const char *cmd, const char *const *extra_env, int in_fd,
                    int out_fd, pid_t *pid_r, struct ims_error *err) IMS_MUST_CHECK;
/* Wait for pid; its wait status, or -1. */
int child_wait(pid_t pid);

#endif
