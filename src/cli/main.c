/* imapsh: argv and the mode it asks for (one command, -c, a script, the
 * shell). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/globalopts.h"
#include "cli/output.h"
#include "cli/share.h"
#include "imapsh/transport.h"

static void usage_short(FILE *f)
{
	fputs("usage: imapsh [OPTIONS] [TARGET] [COMMAND [ARG...]]\n"
	      "       imapsh check HOST[:PORT]      connectivity check\n"
	      "       imapsh cert HOST[:PORT]       the server's certificate chain\n"
	      "Try 'imapsh --help' or 'man imapsh'.\n",
	      f);
}

static void usage_long(void)
{
	size_t n, i;
	const struct cli_cmd *t = cli_cmd_table(&n);

	fputs("imapsh - an IMAPS client: shell, one-shot commands and connectivity checks\n\n"
	      "usage: imapsh [OPTIONS] [TARGET] [COMMAND [ARG...]]\n\n"
	      "TARGET: imaps://[USER@]HOST[:PORT][/MAILBOX], imap://... (STARTTLS), USER@HOST,\n"
	      "        HOST, HOST:PORT, or an account name from the config file\n\n"
	      "Options:\n",
	      stdout);
	cli_global_help(stdout);
	fputs("\nCommands:\n", stdout);
	for (i = 0; i < n; i++)
		printf("  %-34s %s\n", t[i].usage, t[i].summary);
	fputs("\nExit codes: 0 ok, 1 server said NO/BAD, 2 usage, 3 network, 4 TLS, 5 "
	      "authentication,\n"
	      "6 local I/O; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	      stdout);
}

/* A failure of the run: the words on stderr and, with --json, one JSON
 * error object on stdout too, so a program reading stdout sees it. */
static int fail(struct cli *c, ims_err e, const char *msg)
{
	cli_warn("%s", msg);
	if (c->o.json)
		cli_json_error(stdout, NULL, e, cli_exit_code(e), msg, 0);
	return cli_exit_code(e);
}

/* Whether WORD can name a server: a URL, USER@HOST, HOST:PORT, a name with
 * a dot, an address, or localhost.  A bare word such as "mail" must be
 * written mail:993 or imaps://mail. */
static int looks_like_host(const char *word)
{
	return strpbrk(word, ".:@[") != NULL || strcasecmp(word, "localhost") == 0;
}

/* The first word is not a command: is it the TARGET?  With -a the target
 * is named already, so the word is a mistyped command; otherwise an
 * account name or something that looks like a host.  Sets c->err. */
static int first_word_is_target(struct cli *c, const char *word)
{
	const char *near;

	if (c->o.account == NULL && (cfg_find(&c->cfg, word) != NULL || looks_like_host(word)))
		return 1;
	if (c->o.account != NULL || c->cfg.default_account[0] != '\0') {
		(void)cli_cmd_unknown(c, word);
		return 0;
	}
	near = cli_cmd_suggest(word);
	ims_error_set(&c->err, IMS_ERR_USAGE,
	              "'%s' is not a command, an account in the config file, or a host name "
	              "(write a host with a dot, a port or imaps://, e.g. '%s:993')%s%s%s",
	              word, word, near != NULL ? "; did you mean '" : "", near != NULL ? near : "",
	              near != NULL ? "'?" : "");
	return 0;
}

/* imapsh --version */
static int print_version(void)
{
	printf("imapsh %s (mbedTLS %s)\n", IMAPSH_VERSION, ims_tls_library_version());
	printf("tls: 1.2 yes, 1.3 %s\n", ims_tls_has_tls13() ? "yes" : "no");
	printf("features: COMPRESS=DEFLATE (zlib %s), SASL PLAIN LOGIN SCRAM-SHA-256 "
	       "SCRAM-SHA-1 SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS XOAUTH2 OAUTHBEARER EXTERNAL, "
	       "OAuth 2.0 login, setup by DNS and autoconfig, --share\n",
	       ims_zlib_version());
	return 0;
}

/* imapsh --help, or imapsh [TARGET] COMMAND --help: that command's help. */
static int print_help(char **args, int n)
{
	const struct cli_cmd *cmd = NULL;
	int first;

	for (first = 0; first < n && first < 2 && cmd == NULL; first++)
		cmd = cli_cmd_find(args[first]);
	if (cmd != NULL)
		cli_cmd_help(cmd, stdout);
	else
		usage_long();
	return fflush(stdout) == 0 ? 0 : 6;
}

/* The end of a run that ran commands: the last failure said (unless the
 * reader of stdout has gone or it was an interruption), the session
 * closed, the exit status (a check's monitoring-plugin code when set). */
static int finish(struct cli *c, ims_err e, int say)
{
	if (say && e != IMS_OK && e != IMS_ERR_CANCELLED && !c->out_closed && c->err.msg[0] != '\0')
		(void)fail(c, e, c->err.msg);
	cli_share_leave(c); /* --share: the session to a master */
	cli_close(c);
	cfg_release(&c->cfg);
	if (c->exit_set)
		return c->exit;
	return cli_exit_code(e);
}

/* One command from the command line (argv[0] its name); a closed or full
 * output is not success. */
static int run_one(struct cli *c, int argc, char **argv)
{
	ims_err e = cli_cmd_run(c, argc, argv);

	if (e == IMS_OK)
		e = cli_stdout_check(c);
	return finish(c, e, 1);
}

/* A URL with ;UID= and no command means fetch (RFC 5092). */
static int run_url_fetch(struct cli *c)
{
	char uid[16];
	char *fa[4] = {"fetch", uid, c->t.section[0] != '\0' ? c->t.section : NULL, NULL};

	snprintf(uid, sizeof(uid), "%u", (unsigned)c->t.uid);
	return run_one(c, fa[2] != NULL ? 3 : 2, fa);
}

/* No COMMAND: -c, a script, standard input, or the shell.  The modes
 * print their own errors. */
static int run_mode(struct cli *c)
{
	ims_err e;

	if (c->o.n_commands != 0 && c->o.script != NULL) {
		cfg_release(&c->cfg);
		return fail(c, IMS_ERR_USAGE, "-c and --script cannot be combined");
	}
	if (c->o.n_commands != 0) {
		e = cli_run_strings(c, c->o.commands, c->o.n_commands);
	} else if (c->o.script != NULL && strcmp(c->o.script, "-") != 0) {
		FILE *f = fopen(c->o.script, "r");

		if (f == NULL) {
			char msg[1100];

			snprintf(msg, sizeof(msg), "--script %s: %s", c->o.script, strerror(errno));
			cfg_release(&c->cfg);
			return fail(c, IMS_ERR_USAGE, msg);
		}
		e = cli_batch(c, f);
		fclose(f);
	} else if (c->o.script != NULL || !isatty(STDIN_FILENO)) {
		e = cli_batch(c, stdin);
	} else {
		e = cli_repl(c);
	}
	return finish(c, e, 0);
}

/* The config file and the server: the TARGET word when the first word is
 * not a command (*first_r 1 then).  A word that is neither, and does not
 * look like a host, is a typo: a cron job's "imapsh lsit" must fail, not
 * succeed quietly.  0, or the exit status with the error said. */
static int setup(struct cli *c, char **args, int n, int *first_r)
{
	const struct cli_cmd *cmd = n > 0 ? cli_cmd_find(args[0]) : NULL;
	int no_account = cmd != NULL && (cmd->flags & CMD_NO_ACCOUNT);

	*first_r = 0;
	cfg_init(&c->cfg);
	/* setup may name a config file it is about to make */
	if (no_account && c->o.config != NULL && access(c->o.config, F_OK) != 0 &&
	    errno == ENOENT) {
		/* nothing to read yet */
	} else if (cfg_load(&c->cfg, c->o.config, &c->err) != IMS_OK) {
		cfg_release(&c->cfg);
		return fail(c, c->err.code, c->err.msg);
	}
	if (n > 0 && cli_cmd_find(args[0]) == NULL) {
		if (!first_word_is_target(c, args[0])) {
			(void)fail(c, IMS_ERR_USAGE, c->err.msg);
			usage_short(stderr);
			cfg_release(&c->cfg);
			return 2;
		}
		*first_r = 1;
	}
	if (!no_account && cli_setup_target(c, *first_r ? args[0] : NULL) != IMS_OK) {
		cfg_release(&c->cfg);
		return fail(c, c->err.code, c->err.msg);
	}
	return 0;
}

/* What the words ask for, once the options are read. */
static int run(struct cli *c, char **args, int n)
{
	int first, st = setup(c, args, n, &first);

	if (st != 0)
		return st;
	if (c->o.share_stop) {
		st = cli_share_stop(c);
		cfg_release(&c->cfg);
		return st;
	}
	if (first >= n && c->t.uid != 0 && c->o.n_commands == 0 && c->o.script == NULL)
		return run_url_fetch(c);
	if (first >= n)
		return run_mode(c);
	if (c->o.n_commands != 0 || c->o.script != NULL) {
		cfg_release(&c->cfg);
		return fail(c, IMS_ERR_USAGE,
		            c->o.n_commands != 0
		                ? "-c cannot be combined with a command on the command line"
		                : "--script cannot be combined with a command on the command line");
	}
	st = cli_share_client(c, args[first]); /* --share: through the master, if any */
	if (st >= 0) {
		cfg_release(&c->cfg);
		return st;
	}
	return run_one(c, n - first, args + first);
}

int main(int argc, char **argv)
{
	/* Secrets from the environment are taken now and removed from it, so
	 * no program imapsh starts can inherit them (cli/child.h). */
	if (child_secrets_take() != 0) {
		cli_warn("out of memory");
		return 6;
	}
	atexit(child_secrets_wipe);
	/* A closed output is a write error (EPIPE) that ends the work with a
	 * LOGOUT, never a signal that kills imapsh mid-protocol. */
	signal(SIGPIPE, SIG_IGN);
	cli_share_note_argv(argc, argv, cli_main);
	return cli_main(argc, argv);
}

int cli_main(int argc, char **argv)
{
	struct cli c;
	char **args;
	int n = 0, help = 0, version = 0, st;
	ims_err e;

	memset(&c, 0, sizeof(c));
	ims_error_init(&c.err);
	c.out_tty = isatty(STDOUT_FILENO);
	c.err_tty = isatty(STDERR_FILENO);
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (args == NULL) {
		cli_warn("out of memory");
		return 6;
	}
	e = cli_global_parse(&c, argc, argv, &n, args, &help, &version);
	if (e != IMS_OK) {
		(void)fail(&c, e, c.err.msg);
		usage_short(stderr);
		st = 2;
	} else if (version) {
		st = print_version();
	} else if (c.o.completion != NULL) {
		e = cli_completion_script(c.o.completion, stdout, &c.err);
		st = e != IMS_OK ? fail(&c, e, c.err.msg) : fflush(stdout) == 0 ? 0 : 6;
	} else if (help) {
		st = print_help(args, n);
	} else {
		c.color = c.out_tty && !c.o.no_color && getenv("NO_COLOR") == NULL;
		st = run(&c, args, n);
	}
	free(args);
	return st;
}
