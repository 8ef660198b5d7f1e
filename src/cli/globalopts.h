/* The global options (globalopts.c). */
#ifndef IMAPSH_CLI_GLOBALOPTS_H
#define IMAPSH_CLI_GLOBALOPTS_H

#include <stdio.h>

#include "cli/cli.h"

/* imapsh's own command line: the global options into c->o, the other
 * words (TARGET, COMMAND and its words) into args[0..*nargs_r).  Global
 * options may stand anywhere before "--"; an option that is not global
 * and follows the command belongs to the command (check --login).
 * -h/--help and -V/--version set *help_r and *version_r.  IMS_OK or a
 * usage error in c->err. */
ims_err cli_global_parse(struct cli *c, int argc, char **argv, int *nargs_r, char **args,
                         int *help_r, int *version_r) IMS_MUST_CHECK;

/* The global options, declared once (opts.h's struct cli_opt; the one
 * with only a short form, -c, has the long name ""). */
extern const struct cli_opt cli_global_opts[];

/* The options part of imapsh --help, from cli_global_opts[]: one line an
 * option, its synopsis and help line. */
void cli_global_help(FILE *f);

#endif
