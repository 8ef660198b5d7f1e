/* The command table and the dispatcher that enforces its flags. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cmd/oauth.h"
#include "cli/trust.h"
#include "imapsh/number.h"
#include "imapsh/sanitize.h"
#include "imapsh/url.h"
#include "imapsh/words.h"

/* clang-format off */
static const struct cli_opt cert_opts[] = {
	CLI_VALUE("chain", 0, CLI_OPT_FILE, "FILE",
	          "judge the PEM chain in FILE offline, as a connection would"),
	CLI_VALUE("host", 0, CLI_OPT_STRING, "NAME", "with --chain: the name the chain must match"),
	CLI_VALUE("at", 0, CLI_OPT_TIME, "TIME",
	          "with --chain: judge at TIME (unix seconds or 2027-01-31T12:00:00Z)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt check_opts[] = {
	CLI_FLAG("login", 0, "also authenticate (never after a failed certificate)"),
	CLI_VALUE("folder", 'f', CLI_OPT_FOLDER, "FOLDER",
	          "with --login: also examine FOLDER and report its message count"),
	CLI_NUMBER("warn-days", 0, "N", 0, 36500,
	           "WARNING when the certificate expires in fewer than N days (default 21)"),
	CLI_NUMBER("crit-days", 0, "N", 0, 36500,
	           "CRITICAL when it expires in fewer than N days (default 7)"),
	CLI_NUMBER("warn-ms", 0, "N", 0, 86400000, "WARNING when the check takes longer than N ms"),
	CLI_NUMBER("crit-ms", 0, "N", 0, 86400000, "CRITICAL when the check takes longer than N ms"),
	CLI_FLAG("nagios", 0, "one monitoring-plugin line with performance data"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* clang-format off */
static const struct cli_cmd core_cmds[] = {
	{ .name = "connect", .aliases = { "open" }, .usage = "connect [TARGET]",
	  .summary = "connect to a server (and log out of the current one)",
	  .max_args = 1, .run = cmd_connect },
	{ .name = "login", .usage = "login [USER]", .summary = "authenticate",
	  .max_args = 1, .flags = CMD_CONNECT, .run = cmd_login },
	{ .name = "logout", .aliases = { "quit", "exit" }, .usage = "logout",
	  .summary = "log out and close the connection", .run = cmd_logout },
	{ .name = "capability", .aliases = { "caps" }, .usage = "capability",
	  .summary = "the server's capabilities", .flags = CMD_CONNECT, .run = cmd_capability,
	  .options = cli_opts_json },
	{ .name = "id", .usage = "id", .summary = "RFC 2971 ID exchange: what the server says it is",
	  .flags = CMD_CONNECT, .run = cmd_id, .options = cli_opts_json },
	{ .name = "namespace", .usage = "namespace", .summary = "the server's namespaces",
	  .flags = CMD_LOGIN, .run = cmd_namespace, .options = cli_opts_json },
	{ .name = "cert", .usage = "cert [HOST[:PORT]] | cert --chain FILE --host NAME [--at TIME]",
	  .summary = "the server's certificate chain, TLS version and verification result; "
	             "--chain: a PEM chain judged offline as a connection would",
	  .max_args = 1, .run = cmd_cert, .options = cert_opts },
	{ .name = "check", .usage = "check [HOST[:PORT]]",
	  .summary = "connectivity check (DNS, TCP, TLS, certificate, greeting)",
	  .max_args = 1, .flags = CMD_PLUGIN, .run = cmd_check, .options = check_opts },
	{ .name = "quote", .usage = "quote IMAP-COMMAND",
	  .summary = "send one raw command and print every response (expert use)",
	  .min_args = 1, .max_args = -1, .flags = CMD_CONNECT | CMD_ARGS_FIRST | CMD_RAW,
	  .run = cmd_quote },
	{ .name = "trust", .usage = "trust [list | add HOST[:PORT] PIN | rm HOST[:PORT] [PIN]]",
	  .summary = "public-key pins in known_hosts (no PORT: 993 to add, every port to rm)",
	  .max_args = 3, .run = cmd_trust, .options = cli_opts_json },
	{ .name = "help", .usage = "help [COMMAND]", .summary = "list commands, or explain one",
	  .max_args = 1, .run = cmd_help },
};
/* clang-format on */

const struct cli_cmd_group cli_group_core = {core_cmds, sizeof(core_cmds) / sizeof(core_cmds[0])};

/* Every group of commands, in the order help lists them. */
static const struct cli_cmd_group *const groups[] = {
    &cli_group_core, &cli_group_folders, &cli_group_messages, &cli_group_reading,
    &cli_group_bulk, &cli_group_oauth,   &cli_group_setup,
};

const struct cli_cmd *cli_cmd_table(size_t *n_r)
{
	static struct cli_cmd *flat;
	static size_t n;

	if (flat == NULL) {
		size_t g, i, total = 0;

		for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
			total += groups[g]->n;
		flat = calloc(total, sizeof(*flat));
		if (flat == NULL) {
			*n_r = 0;
			return NULL;
		}
		for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
			for (i = 0; i < groups[g]->n; i++)
				flat[n++] = groups[g]->cmds[i];
	}
	*n_r = n;
	return flat;
}

const struct cli_cmd *cli_cmd_find(const char *name)
{
	size_t i, k, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	for (i = 0; i < n; i++) {
		if (strcasecmp(t[i].name, name) == 0)
			return &t[i];
		for (k = 0; k < 3 && t[i].aliases[k] != NULL; k++)
			if (strcasecmp(t[i].aliases[k], name) == 0)
				return &t[i];
	}
	return NULL;
}

const char *cli_cmd_suggest(const char *word)
{
	size_t i, k, n, nc = 0;
	const struct cli_cmd *t = cli_cmd_table(&n);
	const char *cands[256];
	const char *near;

	for (i = 0; i < n; i++) {
		const char *names[4] = {t[i].name, t[i].aliases[0], t[i].aliases[1],
		                        t[i].aliases[2]};

		for (k = 0; k < 4 && names[k] != NULL && nc < 256; k++)
			cands[nc++] = names[k];
	}
	near = ims_words_nearest(word, cands, nc);
	/* an alias's command is named by its own name */
	return near != NULL ? cli_cmd_find(near)->name : NULL;
}

ims_err cli_cmd_unknown(struct cli *c, const char *word)
{
	const char *near = cli_cmd_suggest(word);

	if (near != NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "unknown command '%s': did you mean '%s'? (try 'help')", word,
		                     near);
	return ims_error_set(&c->err, IMS_ERR_USAGE, "unknown command '%s' (try 'help')", word);
}

/* The command's options into c->args and its operands into ops[1..]
 * (ops[0] is the name as typed); a usage error names the command. */
static ims_err read_args(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv,
                         char **ops, int *nops_r)
{
	char why[sizeof(c->err.msg)];
	unsigned pf = ((cmd->flags & CMD_DASH_OPERANDS) ? CLI_OPTS_DASH_OPERANDS : 0) |
	              ((cmd->flags & CMD_RAW) ? CLI_OPTS_RAW : 0);

	ops[0] = argv[0];
	if (cli_opts_parse(cmd->options, pf, argc, argv, ops + 1, &c->args, why, sizeof(why)) != 0)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "%s", why);
	*nops_r = c->args.n_operands;
	if (c->args.help)
		return IMS_OK;
	if (*nops_r < cmd->min_args || (cmd->max_args >= 0 && *nops_r > cmd->max_args))
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s ('%s --help' for more)",
		                     cmd->usage, cmd->name);
	return IMS_OK;
}

ims_err cli_cmd_run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = cli_cmd_find(argv[0]);
	char **ops;
	int nops = 0;
	ims_err e;

	if (cmd == NULL)
		return cli_cmd_unknown(c, argv[0]);
	ims_error_init(&c->err);
	ops = calloc((size_t)argc + 1, sizeof(*ops));
	if (ops == NULL)
		return ims_error_set(&c->err, IMS_ERR_NOMEM, "out of memory");
	e = read_args(c, cmd, argc, argv, ops, &nops);
	if (e == IMS_OK && c->args.help) {
		cli_cmd_help(cmd, stdout);
		free(ops);
		memset(&c->args, 0, sizeof(c->args));
		return cli_stdout_check(c);
	}
	if (e != IMS_OK && (cmd->flags & CMD_PLUGIN)) {
		c->exit_set = 1; /* a monitoring plugin's usage error is UNKNOWN */
		c->exit = 3;
	}
	if (e == IMS_OK && (cmd->flags & CMD_NAMES)) {
		int i;

		for (i = 1; i <= nops && e == IMS_OK; i++)
			if (!ims_utf8_valid(ops[i], strlen(ops[i]))) {
				char safe[512];

				e = ims_error_set(&c->err, IMS_ERR_USAGE,
				                  "%s: '%s' is not UTF-8 (folder names are typed "
				                  "in UTF-8)",
				                  cmd->name, cli_safe(ops[i], safe, sizeof(safe)));
			}
	}
	c->ready_flags = cmd->flags;
	if (e == IMS_OK && (cmd->flags & (CMD_CONNECT | CMD_LOGIN | CMD_FOLDER)) &&
	    !(cmd->flags & CMD_ARGS_FIRST))
		e = cli_need(c, cmd->flags);
	if (e == IMS_OK) {
		/* --json and -o given on the command's own line hold for it only */
		int json = c->o.json;
		const char *output = c->o.output;

		if (cli_opt_flag(&c->args, "json"))
			c->o.json = 1;
		if (cli_opt_str(&c->args, "output") != NULL)
			c->o.output = cli_opt_str(&c->args, "output");
		e = cmd->run(c, nops + 1, ops);
		c->o.json = json;
		c->o.output = output;
	}
	free(ops);
	memset(&c->args, 0, sizeof(c->args)); /* it pointed into ops */
	return e;
}

void cli_cmd_help(const struct cli_cmd *cmd, FILE *f)
{
	const struct cli_opt *o;
	char syn[128];
	size_t k;

	fprintf(f, "%s\n    %s\n", cmd->usage, cmd->summary);
	if (cmd->aliases[0] != NULL) {
		fputs("aliases:", f);
		for (k = 0; k < 3 && cmd->aliases[k] != NULL; k++)
			fprintf(f, " %s", cmd->aliases[k]);
		fputc('\n', f);
	}
	fputs("options:\n", f);
	for (o = cmd->options; o != NULL && o->name != NULL; o++)
		fprintf(f, "  %-28s %s\n", cli_opt_synopsis(o, syn, sizeof(syn)), o->help);
	fprintf(f, "  %-28s %s\n", "-h, --help", "this help");
	if (cmd->flags & CMD_RAW)
		fputs("  (every other word is sent as it is)\n", f);
	else if (cmd->flags & CMD_DASH_OPERANDS)
		fputs("  (other words that start with '-' are operands)\n", f);
	else
		fputs("  (-- ends the options: an operand after it may start with '-')\n", f);
}

ims_err cmd_help(struct cli *c, int argc, char **argv)
{
	size_t i, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	if (argc > 1) {
		const struct cli_cmd *cmd = cli_cmd_find(argv[1]);

		if (cmd == NULL)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "no command '%s'", argv[1]);
		cli_cmd_help(cmd, stdout);
		return IMS_OK;
	}
	for (i = 0; i < n; i++)
		printf("%-34s %s\n", t[i].usage, t[i].summary);
	return IMS_OK;
}
