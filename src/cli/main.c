/* imapsh: argv, modes, exit codes. */
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
#include "cli/output.h"
#include "imapsh/dns.h"
#include "imapsh/transport.h"

enum { ARG_NONE, ARG_REQ };

struct gopt {
	const char *lng;
	char shrt;
	int arg;
	int id;
};

enum {
	O_USER = 1,
	O_PORT,
	O_ACCOUNT,
	O_STARTTLS,
	O_CA_FILE,
	O_CA_PATH,
	O_PIN,
	O_INSECURE,
	O_TLS_MIN,
	O_COMPRESS,
	O_CLIENT_CERT,
	O_CLIENT_KEY,
	O_AUTH,
	O_PASSWORD_COMMAND,
	O_OAUTH_COMMAND,
	O_NETRC,
	O_NETRC_FILE,
	O_FOLDER,
	O_OUTPUT,
	O_JSON,
	O_RESOLVE,
	O_TIMEOUT,
	O_VERBOSE,
	O_TRACE,
	O_CONFIG,
	O_NO_COLOR,
	O_QUIET,
	O_HELP,
	O_VERSION,
	O_KEEP_GOING,
	O_SCRIPT,
	O_COMMANDS,
	O_COMPLETION,
	O_DNS_SERVER,
	O_ISPDB_URL
};

static const struct gopt gopts[] = {{"user", 'u', ARG_REQ, O_USER},
                                    {"port", 'p', ARG_REQ, O_PORT},
                                    {"account", 'a', ARG_REQ, O_ACCOUNT},
                                    {"starttls", 0, ARG_NONE, O_STARTTLS},
                                    {"ca-file", 0, ARG_REQ, O_CA_FILE},
                                    {"ca-path", 0, ARG_REQ, O_CA_PATH},
                                    {"cacert", 0, ARG_REQ, O_CA_FILE}, /* curl's names */
                                    {"capath", 0, ARG_REQ, O_CA_PATH},
                                    {"cert", 0, ARG_REQ, O_CLIENT_CERT},
                                    {"key", 0, ARG_REQ, O_CLIENT_KEY},
                                    {"connect-timeout", 0, ARG_REQ, O_TIMEOUT},
                                    {"pin", 0, ARG_REQ, O_PIN},
                                    {"insecure", 'k', ARG_NONE, O_INSECURE},
                                    {"tls-min", 0, ARG_REQ, O_TLS_MIN},
                                    {"compress", 0, ARG_REQ, O_COMPRESS},
                                    {"client-cert", 0, ARG_REQ, O_CLIENT_CERT},
                                    {"client-key", 0, ARG_REQ, O_CLIENT_KEY},
                                    {"auth", 0, ARG_REQ, O_AUTH},
                                    {"password-command", 0, ARG_REQ, O_PASSWORD_COMMAND},
                                    {"oauth-token-command", 0, ARG_REQ, O_OAUTH_COMMAND},
                                    {"netrc", 0, ARG_NONE, O_NETRC},
                                    {"netrc-file", 0, ARG_REQ, O_NETRC_FILE},
                                    {"folder", 'f', ARG_REQ, O_FOLDER},
                                    {"output", 'o', ARG_REQ, O_OUTPUT},
                                    {"json", 0, ARG_NONE, O_JSON},
                                    {"resolve", 0, ARG_REQ, O_RESOLVE},
                                    {"dns-server", 0, ARG_REQ, O_DNS_SERVER},
                                    {"ispdb-url", 0, ARG_REQ, O_ISPDB_URL},
                                    {"timeout", 0, ARG_REQ, O_TIMEOUT},
                                    {"verbose", 'v', ARG_NONE, O_VERBOSE},
                                    {"trace", 0, ARG_NONE, O_TRACE},
                                    {"config", 0, ARG_REQ, O_CONFIG},
                                    {"no-color", 0, ARG_NONE, O_NO_COLOR},
                                    {"quiet", 'q', ARG_NONE, O_QUIET},
                                    {"help", 'h', ARG_NONE, O_HELP},
                                    {"version", 'V', ARG_NONE, O_VERSION},
                                    {"keep-going", 0, ARG_NONE, O_KEEP_GOING},
                                    {"script", 0, ARG_REQ, O_SCRIPT},
                                    {NULL, 'c', ARG_REQ, O_COMMANDS},
                                    {"completion", 0, ARG_REQ, O_COMPLETION},
                                    {NULL, 0, 0, 0}};

const char *cli_global_opt(size_t i, int *arg_r, char *short_r)
{
	const struct gopt *g;

	for (g = gopts; g->id != 0; g++) {
		if (g->lng == NULL || g->id == O_HELP || g->id == O_VERSION || g->id == O_SCRIPT ||
		    g->id == O_KEEP_GOING || g->id == O_CONFIG || g->id == O_COMPLETION)
			continue;
		if (i-- == 0) {
			*arg_r = g->arg == ARG_REQ;
			*short_r = g->shrt;
			return g->lng;
		}
	}
	return NULL;
}

const char *cli_global_opt_all(size_t i, int *arg_r, char *short_r)
{
	const struct gopt *g;

	for (g = gopts; g->id != 0; g++) {
		if (i-- == 0) {
			*arg_r = g->arg == ARG_REQ;
			*short_r = g->shrt;
			return g->lng != NULL ? g->lng : "";
		}
	}
	return NULL;
}

int cli_exit_code(ims_err e)
{
	switch (e) {
	case IMS_OK: return 0;
	case IMS_ERR_NO: return 1;
	case IMS_ERR_USAGE: return 2;
	case IMS_ERR_NET:
	case IMS_ERR_PROTOCOL:
	case IMS_ERR_LIMIT:
	case IMS_ERR_CANCELLED: return 3;
	case IMS_ERR_TLS: return 4;
	case IMS_ERR_AUTH: return 5;
	case IMS_ERR_IO:
	case IMS_ERR_NOMEM: return 6;
	}
	return 3;
}

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
	      "Options:\n"
	      "  -u, --user USER            login name\n"
	      "  -p, --port PORT            port (default 993, or 143 with STARTTLS)\n"
	      "  -a, --account NAME         an account from the config file\n"
	      "      --starttls             plaintext then STARTTLS (never falls back)\n"
	      "      --ca-file FILE         trust anchors (PEM)\n"
	      "      --ca-path DIR          directory of trust anchors\n"
	      "      --pin sha256//BASE64   SPKI pin (repeatable; may replace CA trust)\n"
	      "  -k, --insecure             skip certificate verification (warns every time)\n"
	      "      --tls-min 1.2|1.3      lowest TLS version (default 1.2)\n"
	      "      --compress auto|yes|no COMPRESS=DEFLATE after login: auto where "
	      "offered (default no)\n"
	      "      --client-cert FILE, --client-key FILE   TLS client authentication\n"
	      "      --auth MECH            plain, login, scram-sha-256, xoauth2, oauthbearer, "
	      "external\n"
	      "      --password-command CMD first line of CMD's output is the password\n"
	      "      --oauth-token-command CMD   likewise for an OAuth 2.0 token\n"
	      "      --netrc, --netrc-file FILE  credentials from netrc\n"
	      "  -f, --folder FOLDER        select FOLDER before the command\n"
	      "  -o, --output PATH          where fetch, save and export write\n"
	      "      --json                 machine-readable output\n"
	      "      --resolve HOST:PORT:ADDR[,ADDR...]  connect to ADDR for HOST:PORT\n"
	      "      --dns-server ADDR[:PORT]   every DNS lookup asks this server\n"
	      "      --ispdb-url URL        setup: the ISPDB's base URL (the domain is "
	      "appended)\n"
	      "      --timeout SECONDS      connect and inactivity timeout (default 30)\n"
	      "  -v, --verbose              progress and connection details on stderr\n"
	      "      --trace                the IMAP exchange on stderr, secrets redacted\n"
	      "      --config FILE          default $XDG_CONFIG_HOME/imapsh/config\n"
	      "  -c 'CMD; CMD'              several commands over one connection\n"
	      "      --script FILE          batch commands from FILE\n"
	      "      --keep-going           in batch mode, go on after a failure\n"
	      "      --completion bash|zsh  print the shell completion script\n"
	      "      --no-color, -q/--quiet, -h/--help, -V/--version\n\n"
	      "Commands:\n",
	      stdout);
	for (i = 0; i < n; i++)
		printf("  %-34s %s\n", t[i].usage, t[i].summary);
	fputs("\nExit codes: 0 ok, 1 server said NO/BAD, 2 usage, 3 network, 4 TLS, 5 "
	      "authentication,\n"
	      "6 local I/O; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	      stdout);
}

static const struct gopt *find_long(const char *name, size_t len)
{
	const struct gopt *g;

	for (g = gopts; g->id != 0; g++)
		if (g->lng != NULL && strlen(g->lng) == len && strncmp(g->lng, name, len) == 0)
			return g;
	return NULL;
}

static const struct gopt *find_short(char c)
{
	const struct gopt *g;

	for (g = gopts; g->id != 0; g++)
		if (g->shrt == c)
			return g;
	return NULL;
}

/* Apply one global option; IMS_OK or a usage error. */
static ims_err apply(struct cli *c, const struct gopt *g, const char *val)
{
	struct cli_opts *o = &c->o;
	uint64_t v;

	switch (g->id) {
	case O_USER: o->user = val; break;
	case O_PORT:
		if (cli_number(c, "--port", val, 1, 65535, &v) != IMS_OK)
			return c->err.code;
		o->port = (unsigned)v;
		break;
	case O_ACCOUNT: o->account = val; break;
	case O_STARTTLS: o->starttls = 1; break;
	case O_CA_FILE: o->ca_file = val; break;
	case O_CA_PATH: o->ca_path = val; break;
	case O_PIN:
		if (strncmp(val, "sha256//", 8) != 0 || strlen(val) < 9)
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "--pin: expected sha256//BASE64, got '%s'", val);
		if (o->n_pins == CLI_MAX_PINS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "--pin: at most %d pins",
			                     CLI_MAX_PINS);
		o->pins[o->n_pins++] = val;
		break;
	case O_INSECURE: o->insecure = 1; break;
	case O_TLS_MIN:
		if (strcmp(val, "1.2") == 0)
			o->tls_min = 12;
		else if (strcmp(val, "1.3") == 0)
			o->tls_min = 13;
		else
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "--tls-min: expected 1.2 or 1.3, got '%s'", val);
		break;
	case O_COMPRESS:
		o->compress = cfg_compress_parse(val);
		if (o->compress == 0)
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "--compress: expected auto, yes or no, got '%s'", val);
		break;
	case O_CLIENT_CERT: o->client_cert = val; break;
	case O_CLIENT_KEY: o->client_key = val; break;
	case O_AUTH: o->auth = val; break;
	case O_PASSWORD_COMMAND: o->password_command = val; break;
	case O_OAUTH_COMMAND: o->oauth_token_command = val; break;
	case O_NETRC: o->netrc = 1; break;
	case O_NETRC_FILE:
		o->netrc = 1;
		o->netrc_file = val;
		break;
	case O_FOLDER: o->folder = val; break;
	case O_OUTPUT: o->output = val; break;
	case O_JSON: o->json = 1; break;
	case O_RESOLVE:
		if (o->n_resolve == CLI_MAX_RESOLVE)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "--resolve: at most %d",
			                     CLI_MAX_RESOLVE);
		o->resolve[o->n_resolve++] = val;
		break;
	case O_DNS_SERVER:
		if (ims_dns_server_check(val, &c->err) != IMS_OK)
			return c->err.code;
		o->dns_server = val;
		break;
	case O_ISPDB_URL:
		if (strncmp(val, "https://", 8) != 0 || val[8] == '\0')
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "--ispdb-url: expected an https:// URL, got '%s'",
			                     val);
		o->ispdb_url = val;
		break;
	case O_TIMEOUT:
		if (cli_number(c, "--timeout", val, 1, 86400, &v) != IMS_OK)
			return c->err.code;
		o->timeout_s = (int)v;
		break;
	case O_VERBOSE: o->verbose = 1; break;
	case O_TRACE: o->trace = 1; break;
	case O_CONFIG: o->config = val; break;
	case O_NO_COLOR: o->no_color = 1; break;
	case O_QUIET: o->quiet = 1; break;
	case O_KEEP_GOING: o->keep_going = 1; break;
	case O_SCRIPT: o->script = val; break;
	case O_COMPLETION: o->completion = val; break;
	case O_COMMANDS:
		if (o->n_commands == CLI_MAX_COMMANDS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "-c: at most %d",
			                     CLI_MAX_COMMANDS);
		o->commands[o->n_commands++] = val;
		break;
	}
	return IMS_OK;
}

/* Global options may stand anywhere before "--"; an option we do not know
 * that follows the command belongs to the command (check --login). */
static ims_err parse_args(struct cli *c, int argc, char **argv, int *nargs_r, char **args,
                          int *help_r, int *version_r)
{
	int i, n = 0, dashdash = 0, have_cmd = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct gopt *g = NULL;
		const char *val = NULL;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (!have_cmd && cli_cmd_find(a) != NULL)
				have_cmd = 1;
			args[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);

			g = find_long(a + 2, len);
			if (g != NULL && eq != NULL) {
				if (g->arg == ARG_NONE)
					return ims_error_set(&c->err, IMS_ERR_USAGE,
					                     "option --%s takes no value", g->lng);
				val = eq + 1;
			}
		} else if (a[2] == '\0') {
			g = find_short(a[1]);
		}
		if (g == NULL) {
			if (have_cmd) {
				args[n++] = argv[i];
				continue;
			}
			return ims_error_set(&c->err, IMS_ERR_USAGE, "unknown option '%s'", a);
		}
		if (g->id == O_HELP) {
			*help_r = 1;
			continue;
		}
		if (g->id == O_VERSION) {
			*version_r = 1;
			continue;
		}
		if (g->arg == ARG_REQ && val == NULL) {
			if (i + 1 >= argc)
				return ims_error_set(&c->err, IMS_ERR_USAGE,
				                     "option '%s' needs a value", a);
			val = argv[++i];
		}
		if (apply(c, g, val) != IMS_OK)
			return c->err.code;
	}
	*nargs_r = n;
	return IMS_OK;
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

int main(int argc, char **argv)
{
	struct cli c;
	char **args;
	int n = 0, help = 0, version = 0, first = 0, no_account = 0;
	ims_err e;

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
	memset(&c, 0, sizeof(c));
	ims_error_init(&c.err);
	c.out_tty = isatty(STDOUT_FILENO);
	c.err_tty = isatty(STDERR_FILENO);
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (args == NULL) {
		cli_warn("out of memory");
		return 6;
	}
	e = parse_args(&c, argc, argv, &n, args, &help, &version);
	if (e != IMS_OK) {
		(void)fail(&c, e, c.err.msg);
		usage_short(stderr);
		free(args);
		return 2;
	}
	if (version) {
		printf("imapsh %s (mbedTLS %s)\n", IMAPSH_VERSION, ims_tls_library_version());
		printf("tls: 1.2 yes, 1.3 %s\n", ims_tls_has_tls13() ? "yes" : "no");
		printf("features: COMPRESS=DEFLATE (zlib %s), SASL PLAIN LOGIN SCRAM-SHA-256 "
		       "XOAUTH2 OAUTHBEARER EXTERNAL\n",
		       ims_zlib_version());
		free(args);
		return 0;
	}
	if (c.o.completion != NULL) {
		e = cli_completion_script(c.o.completion, stdout, &c.err);
		free(args);
		if (e != IMS_OK)
			return fail(&c, e, c.err.msg);
		return fflush(stdout) == 0 ? 0 : 6;
	}
	if (help) {
		/* imapsh [TARGET] COMMAND --help: that command's help */
		const struct cli_cmd *cmd = NULL;

		for (first = 0; first < n && first < 2 && cmd == NULL; first++)
			cmd = cli_cmd_find(args[first]);
		if (cmd != NULL)
			cli_cmd_help(cmd, stdout);
		else
			usage_long();
		free(args);
		return fflush(stdout) == 0 ? 0 : 6;
	}
	c.color = c.out_tty && !c.o.no_color && getenv("NO_COLOR") == NULL;
	cfg_init(&c.cfg);
	no_account = n > 0 && cli_cmd_find(args[0]) != NULL &&
	             (cli_cmd_find(args[0])->flags & CMD_NO_ACCOUNT);
	/* setup may name a config file it is about to make */
	if (no_account && c.o.config != NULL && access(c.o.config, F_OK) != 0 && errno == ENOENT) {
		/* nothing to read yet */
	} else if (cfg_load(&c.cfg, c.o.config, &c.err) != IMS_OK) {
		cfg_release(&c.cfg);
		free(args);
		return fail(&c, c.err.code, c.err.msg);
	}

	/* TARGET (a server or an account name), unless the first word is a
	 * command.  A word that is neither, and does not look like a host, is
	 * a typo: a cron job's "imapsh lsit" must fail, not succeed quietly. */
	if (n > 0 && cli_cmd_find(args[0]) == NULL) {
		if (!first_word_is_target(&c, args[0])) {
			(void)fail(&c, IMS_ERR_USAGE, c.err.msg);
			usage_short(stderr);
			free(args);
			cfg_release(&c.cfg);
			return 2;
		}
		first = 1;
	}
	if (!no_account && cli_setup_target(&c, first ? args[0] : NULL) != IMS_OK) {
		free(args);
		cfg_release(&c.cfg);
		return fail(&c, c.err.code, c.err.msg);
	}
	if (first >= n && c.t.uid != 0 && c.o.n_commands == 0 && c.o.script == NULL) {
		/* A URL with ;UID= and no command means fetch (RFC 5092). */
		char uid[16];
		char *fa[4] = {"fetch", uid, c.t.section[0] != '\0' ? c.t.section : NULL, NULL};

		snprintf(uid, sizeof(uid), "%u", (unsigned)c.t.uid);
		e = cli_cmd_run(&c, fa[2] != NULL ? 3 : 2, fa);
		free(args);
		if (e == IMS_OK)
			e = cli_stdout_check(&c);
		if (e != IMS_OK && e != IMS_ERR_CANCELLED && !c.out_closed && c.err.msg[0] != '\0')
			(void)fail(&c, e, c.err.msg);
		cli_close(&c);
		cfg_release(&c.cfg);
		return cli_exit_code(e);
	}
	if (first >= n) {
		/* No COMMAND: -c, a script, standard input, or the shell. */
		free(args);
		if (c.o.n_commands != 0 && c.o.script != NULL) {
			cfg_release(&c.cfg);
			return fail(&c, IMS_ERR_USAGE, "-c and --script cannot be combined");
		}
		if (c.o.n_commands != 0) {
			e = cli_run_strings(&c, c.o.commands, c.o.n_commands);
		} else if (c.o.script != NULL && strcmp(c.o.script, "-") != 0) {
			FILE *f = fopen(c.o.script, "r");

			if (f == NULL) {
				char msg[1100];

				snprintf(msg, sizeof(msg), "--script %s: %s", c.o.script,
				         strerror(errno));
				cfg_release(&c.cfg);
				return fail(&c, IMS_ERR_USAGE, msg);
			}
			e = cli_batch(&c, f);
			fclose(f);
		} else if (c.o.script != NULL || !isatty(STDIN_FILENO)) {
			e = cli_batch(&c, stdin);
		} else {
			e = cli_repl(&c);
		}
		/* The modes have printed their errors. */
		cli_close(&c);
		cfg_release(&c.cfg);
		if (c.exit_set) /* a failing check's monitoring-plugin code */
			return c.exit;
		return cli_exit_code(e);
	}
	if (c.o.n_commands != 0 || c.o.script != NULL) {
		free(args);
		cfg_release(&c.cfg);
		return fail(&c, IMS_ERR_USAGE,
		            c.o.n_commands != 0
		                ? "-c cannot be combined with a command on the command line"
		                : "--script cannot be combined with a command on the command line");
	}
	e = cli_cmd_run(&c, n - first, args + first);
	free(args);
	if (e == IMS_OK)
		e = cli_stdout_check(&c); /* a closed or full output is not success */
	if (e != IMS_OK && e != IMS_ERR_CANCELLED && !c.out_closed && c.err.msg[0] != '\0')
		(void)fail(&c, e, c.err.msg);
	cli_close(&c);
	cfg_release(&c.cfg);
	if (c.exit_set) /* check's monitoring-plugin codes */
		return c.exit;
	return cli_exit_code(e);
}
