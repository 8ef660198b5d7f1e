/* imapsh --completion bash|zsh: completion for the one-shot command line,
 * generated from the command table and the option table, so it cannot
 * drift from what imapsh accepts.  The installed files are this output
 * (CMakeLists.txt runs the built binary). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/globalopts.h"

/* The global options whose value is a file (CLI_OPT_FILE) or a folder of
 * files (CLI_OPT_DIR), long and short: "--a|--b|-o".  An account (-a)
 * and one of a few words (global_words) complete too; every other value
 * completes nothing. */
static void global_paths(FILE *f, enum cli_opt_kind kind)
{
	const struct cli_opt *o;
	const char *sep = "";

	for (o = cli_global_opts; o->name != NULL; o++) {
		if (o->kind != kind)
			continue;
		if (o->name[0] != '\0') {
			fprintf(f, "%s--%s", sep, o->name);
			sep = "|";
		}
		if (o->shrt != 0) {
			fprintf(f, "%s-%c", sep, o->shrt);
			sep = "|";
		}
	}
}

/* The arm of an option that takes one of a few words (CLI_OPT_WORD):
 * "--tls-min) WORDS", the words space-separated between pre and post. */
static void word_arm(FILE *f, const struct cli_opt *o, const char *open, const char *pre,
                     const char *post)
{
	const char *w;

	fprintf(f, "        %s--%s) %s", open, o->name, pre);
	for (w = o->meta; *w != '\0'; w++)
		fputc(*w == '|' ? ' ' : *w, f);
	fputs(post, f);
}

/* An arm for each global option that takes one of a few words. */
static void global_words(FILE *f, const char *open, const char *pre, const char *post)
{
	const struct cli_opt *o;

	for (o = cli_global_opts; o->name != NULL; o++)
		if (o->kind == CLI_OPT_WORD)
			word_arm(f, o, open, pre, post);
}

/* Every command name and alias, space-separated. */
static void commands(FILE *f)
{
	size_t i, k, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	for (i = 0; i < n; i++) {
		fprintf(f, "%s%s", i ? " " : "", t[i].name);
		for (k = 0; k < 3 && t[i].aliases[k] != NULL; k++)
			fprintf(f, " %s", t[i].aliases[k]);
	}
}

/* The global options, long and short; with_arg 1: only those taking a
 * value. */
static void options(FILE *f, int with_arg)
{
	const char *g;
	size_t i;
	int arg, first = 1;
	char sh;

	for (i = 0; (g = cli_global_opt_all(i, &arg, &sh)) != NULL; i++) {
		if (with_arg && !arg)
			continue;
		if (g[0] != '\0') {
			fprintf(f, "%s--%s", first ? "" : " ", g);
			first = 0;
		}
		if (sh != 0) {
			fprintf(f, "%s-%c", first ? "" : " ", sh);
			first = 0;
		}
	}
}

/* Whether the global option table has this long name or short form
 * among those main.c takes after a command too (cli_global_opt). */
static int is_global(const struct cli_opt *o)
{
	const char *g;
	size_t i;
	int arg;
	char sh;

	for (i = 0; (g = cli_global_opt(i, &arg, &sh)) != NULL; i++)
		if (strcmp(g, o->name) == 0 || (o->shrt != 0 && o->shrt == sh))
			return 1;
	return 0;
}

/* The global options accepted after a command (main.c takes them
 * anywhere), long and short, and --help (the command's help there). */
static void options_after_command(FILE *f)
{
	const char *g;
	size_t i;
	int arg;
	char sh;

	fputs("--help -h", f);
	for (i = 0; (g = cli_global_opt(i, &arg, &sh)) != NULL; i++) {
		fprintf(f, " --%s", g);
		if (sh != 0)
			fprintf(f, " -%c", sh);
	}
}

/* The words naming a command: "name|alias|alias". */
static void arm_names(FILE *f, const struct cli_cmd *cmd)
{
	size_t k;

	fputs(cmd->name, f);
	for (k = 0; k < 3 && cmd->aliases[k] != NULL; k++)
		fprintf(f, "|%s", cmd->aliases[k]);
}

/* A shell `case` arm for each command with options of its own: o= its
 * options (those not global already), a= those that take a value. */
static void command_options(FILE *f, const char *open, const char *arm_end)
{
	size_t i, n;
	const struct cli_cmd *t = cli_cmd_table(&n);
	const struct cli_opt *o;

	for (i = 0; i < n; i++) {
		int first = 1;

		if (t[i].options == NULL)
			continue;
		fprintf(f, "        %s", open);
		arm_names(f, &t[i]);
		fputs(") o=\"", f);
		for (o = t[i].options; o->name != NULL; o++) {
			if (is_global(o))
				continue;
			fprintf(f, "%s--%s", first ? "" : " ", o->name);
			if (o->shrt != 0)
				fprintf(f, " -%c", o->shrt);
			first = 0;
		}
		fputs("\" a=\"", f);
		first = 1;
		for (o = t[i].options; o->name != NULL; o++) {
			if (is_global(o) || !cli_opt_takes_value(o))
				continue;
			fprintf(f, "%s--%s", first ? "" : " ", o->name);
			if (o->shrt != 0)
				fprintf(f, " -%c", o->shrt);
			first = 0;
		}
		fprintf(f, "\" %s\n", arm_end);
	}
}

/* The commands' own options (those not global) whose value is a file
 * (kind CLI_OPT_FILE) or a folder of files (CLI_OPT_DIR): "|--a|--b". */
static void command_paths(FILE *f, enum cli_opt_kind kind)
{
	size_t i, n;
	const struct cli_cmd *t = cli_cmd_table(&n);
	const struct cli_opt *o;

	for (i = 0; i < n; i++)
		for (o = t[i].options; o != NULL && o->name != NULL; o++)
			if (o->kind == kind && !is_global(o))
				fprintf(f, "|--%s", o->name);
}

/* An arm for each command option that takes one of a few words:
 * "--format) WORDS", the words space-separated between pre and post. */
static void command_words(FILE *f, const char *open, const char *pre, const char *post)
{
	size_t i, n;
	const struct cli_cmd *t = cli_cmd_table(&n);
	const struct cli_opt *o;

	for (i = 0; i < n; i++)
		for (o = t[i].options; o != NULL && o->name != NULL; o++)
			if (o->kind == CLI_OPT_WORD && !is_global(o))
				word_arm(f, o, open, pre, post);
}

static void bash(FILE *f)
{
	fputs("# bash completion for imapsh, made by 'imapsh --completion bash'\n"
	      "# (install as bash-completion/completions/imapsh, or eval it).\n",
	      f);
	fputs("_imapsh_commands='", f);
	commands(f);
	fputs("'\n_imapsh_options='", f);
	options(f, 0);
	fputs("'\n_imapsh_options_arg='", f);
	options(f, 1);
	fputs("'\n_imapsh_options_cmd='", f);
	options_after_command(f);
	fputs("'\n", f);
	fputs("_imapsh_accounts() {\n"
	      "    local cfg=\"${XDG_CONFIG_HOME:-$HOME/.config}/imapsh/config\" i\n"
	      "    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do\n"
	      "        [[ ${COMP_WORDS[i]} == --config ]] && cfg=${COMP_WORDS[i+1]}\n"
	      "    done\n"
	      "    [[ -r $cfg ]] && sed -n "
	      "'s/^[[:space:]]*\\[account[[:space:]]\\{1,\\}\\([^]]*\\)\\].*/\\1/p' \"$cfg\"\n"
	      "}\n"
	      "_imapsh() {\n"
	      "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "    local i w cmd='' o='' a=''\n"
	      "    COMPREPLY=()\n"
	      "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "        w=${COMP_WORDS[i]}\n"
	      "        if [[ \" $_imapsh_options_arg \" == *\" $w \"* ]]; then ((i++)); continue; "
	      "fi\n"
	      "        [[ $w == -* ]] && continue\n"
	      "        if [[ \" $_imapsh_commands \" == *\" $w \"* ]]; then cmd=$w; break; fi\n"
	      "    done\n"
	      "    case $cmd in\n",
	      f);
	command_options(f, "", ";;");
	fputs(
	    "    esac\n"
	    "    case $prev in\n"
	    "        -a|--account) COMPREPLY=($(compgen -W \"$(_imapsh_accounts)\" -- \"$cur\")); "
	    "return ;;\n        ",
	    f);
	global_paths(f, CLI_OPT_FILE);
	command_paths(f, CLI_OPT_FILE);
	fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n        ", f);
	global_paths(f, CLI_OPT_DIR);
	command_paths(f, CLI_OPT_DIR);
	fputs(") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", f);
	global_words(f, "", "COMPREPLY=($(compgen -W '", "' -- \"$cur\")); return ;;\n");
	command_words(f, "", "COMPREPLY=($(compgen -W '", "' -- \"$cur\")); return ;;\n");
	fputs("    esac\n"
	      "    if [[ \" $_imapsh_options_arg $a \" == *\" $prev \"* ]]; then return; fi\n"
	      "    if [[ $cur == -* && -n $cmd ]]; then\n"
	      "        COMPREPLY=($(compgen -W \"$_imapsh_options_cmd $o\" -- \"$cur\"))\n"
	      "        return\n"
	      "    fi\n"
	      "    if [[ $cur == -* ]]; then\n"
	      "        COMPREPLY=($(compgen -W \"$_imapsh_options\" -- \"$cur\"))\n"
	      "        return\n"
	      "    fi\n"
	      "    if [[ -z $cmd ]]; then\n"
	      "        COMPREPLY=($(compgen -W \"$_imapsh_commands $(_imapsh_accounts)\" -- "
	      "\"$cur\"))\n"
	      "    fi\n"
	      "}\n"
	      "complete -F _imapsh imapsh\n",
	      f);
}

static void zsh(FILE *f)
{
	fputs("#compdef imapsh\n"
	      "# zsh completion for imapsh, made by 'imapsh --completion zsh'\n"
	      "# (install as _imapsh in $fpath, or source it after compinit).\n",
	      f);
	fputs("_imapsh_commands=(", f);
	commands(f);
	fputs(")\n_imapsh_options=(", f);
	options(f, 0);
	fputs(")\n_imapsh_options_arg=(", f);
	options(f, 1);
	fputs(")\n_imapsh_options_cmd=(", f);
	options_after_command(f);
	fputs(")\n", f);
	fputs("_imapsh_accounts() {\n"
	      "    local cfg=${XDG_CONFIG_HOME:-$HOME/.config}/imapsh/config\n"
	      "    local i=${words[(i)--config]}\n"
	      "    (( i < CURRENT - 1 )) && cfg=${words[i+1]}\n"
	      "    [[ -r $cfg ]] && sed -n "
	      "'s/^[[:space:]]*\\[account[[:space:]]\\{1,\\}\\([^]]*\\)\\].*/\\1/p' \"$cfg\"\n"
	      "}\n"
	      "_imapsh() {\n"
	      "    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd= o= a= i w\n"
	      "    for (( i = 2; i < CURRENT; i++ )); do\n"
	      "        w=${words[i]}\n"
	      "        if (( ${_imapsh_options_arg[(Ie)$w]} )); then (( i++ )); continue; fi\n"
	      "        [[ $w == -* ]] && continue\n"
	      "        if (( ${_imapsh_commands[(Ie)$w]} )); then cmd=$w; break; fi\n"
	      "    done\n"
	      "    case $cmd in\n",
	      f);
	command_options(f, "(", ";;");
	fputs(
	    "    esac\n"
	    "    case $prev in\n"
	    "        (-a|--account) compadd -- ${(f)\"$(_imapsh_accounts)\"}; return ;;\n        (",
	    f);
	global_paths(f, CLI_OPT_FILE);
	command_paths(f, CLI_OPT_FILE);
	fputs(") _files; return ;;\n        (", f);
	global_paths(f, CLI_OPT_DIR);
	command_paths(f, CLI_OPT_DIR);
	fputs(") _files -/; return ;;\n", f);
	global_words(f, "(", "compadd -- ", "; return ;;\n");
	command_words(f, "(", "compadd -- ", "; return ;;\n");
	fputs("    esac\n"
	      "    (( ${_imapsh_options_arg[(Ie)$prev]} )) && return\n"
	      "    (( ${${=a}[(Ie)$prev]} )) && return\n"
	      "    if [[ $cur == -* && -n $cmd ]]; then\n"
	      "        compadd -- $_imapsh_options_cmd ${=o}\n"
	      "        return\n"
	      "    fi\n"
	      "    if [[ $cur == -* ]]; then\n"
	      "        compadd -- $_imapsh_options\n"
	      "        return\n"
	      "    fi\n"
	      "    [[ -z $cmd ]] && compadd -- $_imapsh_commands ${(f)\"$(_imapsh_accounts)\"}\n"
	      "}\n"
	      "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
	      "    _imapsh \"$@\"\n"
	      "else\n"
	      "    compdef _imapsh imapsh\n"
	      "fi\n",
	      f);
}

ims_err cli_completion_script(const char *shell, FILE *f, struct ims_error *err)
{
	if (strcmp(shell, "bash") == 0)
		bash(f);
	else if (strcmp(shell, "zsh") == 0)
		zsh(f);
	else
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "--completion: expected bash or zsh, got '%s'", shell);
	return IMS_OK;
}
