/* The shell's Tab completion (tabcomplete.c). */
#ifndef IMAPSH_CLI_TABCOMPLETE_H
#define IMAPSH_CLI_TABCOMPLETE_H

struct cli;

/* The shell's session the completion reads (folders, the command being
 * typed), from cli_tab_begin() to cli_tab_end(). */
void cli_tab_begin(struct cli *c);
void cli_tab_end(void);
/* readline's attempted-completion function (rl_completion_func_t). */
char **cli_tab_complete(const char *text, int start, int end);

#endif
