/* The global options: declared once, as a command's options are (opts.h),
 * in cli_global_opts[]; the parser of imapsh's own command line below,
 * imapsh --help (main.c) and the completion scripts (completion.c) read
 * that one table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/globalopts.h"
#include "imapsh/dns.h"
#include "cli/share.h"
#include "imapsh/sharewire.h"

#define G(n, s, kind, m, fl, same, h)                                                              \
	{                                                                                          \
		(n), (s), (kind), (m), 0, 0, (h), (fl), (same)                                     \
	}

/* In the order --help lists them.  CLI_OPTF_MODE: chooses what imapsh
 * does, so it is not offered after a command; CLI_OPTF_HIDDEN: another
 * name (curl's) of an option listed. */
/* clang-format off */
const struct cli_opt cli_global_opts[] = {
	G("user", 'u', CLI_OPT_STRING, "USER", 0, NULL, "login name"),
	G("port", 'p', CLI_OPT_STRING, "PORT", 0, NULL, "port (default 993, or 143 with STARTTLS)"),
	G("account", 'a', CLI_OPT_STRING, "NAME", 0, NULL, "an account from the config file"),
	G("starttls", 0, CLI_OPT_FLAG, NULL, 0, NULL, "plaintext then STARTTLS (never falls back)"),
	G("ca-file", 0, CLI_OPT_FILE, "FILE", 0, NULL, "trust anchors (PEM)"),
	G("ca-path", 0, CLI_OPT_DIR, "DIR", 0, NULL, "directory of trust anchors"),
	G("cacert", 0, CLI_OPT_FILE, "FILE", CLI_OPTF_HIDDEN, "ca-file", "same as --ca-file"),
	G("capath", 0, CLI_OPT_DIR, "DIR", CLI_OPTF_HIDDEN, "ca-path", "same as --ca-path"),
	G("cert", 0, CLI_OPT_FILE, "FILE", CLI_OPTF_HIDDEN, "client-cert", "same as --client-cert"),
	G("key", 0, CLI_OPT_FILE, "FILE", CLI_OPTF_HIDDEN, "client-key", "same as --client-key"),
	G("connect-timeout", 0, CLI_OPT_STRING, "SECONDS", CLI_OPTF_HIDDEN, "timeout",
	  "same as --timeout"),
	G("pin", 0, CLI_OPT_STRING, "sha256//BASE64", CLI_OPTF_REPEAT, NULL,
	  "SPKI pin (repeatable; may replace CA trust)"),
	G("insecure", 'k', CLI_OPT_FLAG, NULL, 0, NULL,
	  "skip certificate verification (warns every time)"),
	G("tls-min", 0, CLI_OPT_WORD, "1.2|1.3", 0, NULL, "lowest TLS version (default 1.2)"),
	G("compress", 0, CLI_OPT_WORD, "auto|yes|no", 0, NULL,
	  "COMPRESS=DEFLATE; auto: where export/import measure it pays (default no)"),
	G("client-cert", 0, CLI_OPT_FILE, "FILE", 0, NULL, "TLS client authentication: the certificate"),
	G("client-key", 0, CLI_OPT_FILE, "FILE", 0, NULL, "TLS client authentication: its key"),
	G("auth", 0, CLI_OPT_WORD,
	  "plain|login|scram-sha-256|scram-sha-1|scram-sha-256-plus|scram-sha-1-plus|xoauth2|"
	  "oauthbearer|external",
	  0, NULL,
	  "the SASL mechanism"),
	G("password-command", 0, CLI_OPT_STRING, "CMD", 0, NULL,
	  "first line of CMD's output is the password"),
	G("oauth-token-command", 0, CLI_OPT_STRING, "CMD", 0, NULL,
	  "likewise for an OAuth 2.0 token"),
	G("netrc", 0, CLI_OPT_FLAG, NULL, 0, NULL, "credentials from netrc"),
	G("netrc-file", 0, CLI_OPT_FILE, "FILE", 0, NULL, "credentials from netrc FILE"),
	G("folder", 'f', CLI_OPT_FOLDER, "FOLDER", 0, NULL, "select FOLDER before the command"),
	G("output", 'o', CLI_OPT_FILE, "PATH", 0, NULL, "where fetch, save and export write"),
	G("json", 0, CLI_OPT_FLAG, NULL, 0, NULL, "machine-readable output"),
	G("resolve", 0, CLI_OPT_STRING, "HOST:PORT:ADDR[,ADDR...]", CLI_OPTF_REPEAT, NULL,
	  "connect to ADDR for HOST:PORT"),
	G("dns-server", 0, CLI_OPT_STRING, "ADDR[:PORT]", 0, NULL,
	  "every DNS lookup asks this server"),
	G("ispdb-url", 0, CLI_OPT_STRING, "URL", 0, NULL,
	  "setup: the ISPDB's base URL (the domain is appended)"),
	G("timeout", 0, CLI_OPT_STRING, "SECONDS", 0, NULL,
	  "connect and inactivity timeout (default 30)"),
	G("verbose", 'v', CLI_OPT_FLAG, NULL, 0, NULL, "progress and connection details on stderr"),
	G("trace", 0, CLI_OPT_FLAG, NULL, 0, NULL, "the IMAP exchange on stderr, secrets redacted"),
	G("config", 0, CLI_OPT_FILE, "FILE", CLI_OPTF_MODE, NULL,
	  "default $XDG_CONFIG_HOME/imapsh/config"),
	G("share", 0, CLI_OPT_FLAG, "DURATION", CLI_OPTF_OPTVAL, NULL,
	  "keep the session for later one-shots (default 10m; =stop ends it)"),
	G("no-share", 0, CLI_OPT_FLAG, NULL, 0, NULL, "not this time, whatever the config says"),
	G("no-color", 0, CLI_OPT_FLAG, NULL, 0, NULL, "no colour (also when NO_COLOR is set)"),
	G("quiet", 'q', CLI_OPT_FLAG, NULL, 0, NULL, "less output"),
	G("help", 'h', CLI_OPT_FLAG, NULL, CLI_OPTF_MODE, NULL, "this help, or COMMAND's"),
	G("version", 'V', CLI_OPT_FLAG, NULL, CLI_OPTF_MODE, NULL, "the version and features"),
	G("keep-going", 0, CLI_OPT_FLAG, NULL, CLI_OPTF_MODE, NULL,
	  "in batch mode, go on after a failure"),
	G("script", 0, CLI_OPT_FILE, "FILE", CLI_OPTF_MODE, NULL, "batch commands from FILE"),
	G("", 'c', CLI_OPT_STRING, "'CMD; CMD'", CLI_OPTF_MODE | CLI_OPTF_REPEAT, NULL,
	  "several commands over one connection"),
	G("completion", 0, CLI_OPT_STRING, "bash|zsh", CLI_OPTF_MODE, NULL,
	  "print the shell completion script"),
	CLI_OPT_LIST_END,
};
/* clang-format on */

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
	O_ISPDB_URL,
	O_SHARE,
	O_NO_SHARE
};

/* What apply() does for each option, by its (canonical) name. */
static const struct {
	const char *name;
	int id;
} ids[] = {
    {"user", O_USER},
    {"port", O_PORT},
    {"account", O_ACCOUNT},
    {"starttls", O_STARTTLS},
    {"ca-file", O_CA_FILE},
    {"ca-path", O_CA_PATH},
    {"pin", O_PIN},
    {"insecure", O_INSECURE},
    {"tls-min", O_TLS_MIN},
    {"compress", O_COMPRESS},
    {"client-cert", O_CLIENT_CERT},
    {"client-key", O_CLIENT_KEY},
    {"auth", O_AUTH},
    {"password-command", O_PASSWORD_COMMAND},
    {"oauth-token-command", O_OAUTH_COMMAND},
    {"netrc", O_NETRC},
    {"netrc-file", O_NETRC_FILE},
    {"folder", O_FOLDER},
    {"output", O_OUTPUT},
    {"json", O_JSON},
    {"resolve", O_RESOLVE},
    {"timeout", O_TIMEOUT},
    {"verbose", O_VERBOSE},
    {"trace", O_TRACE},
    {"config", O_CONFIG},
    {"no-color", O_NO_COLOR},
    {"quiet", O_QUIET},
    {"help", O_HELP},
    {"version", O_VERSION},
    {"keep-going", O_KEEP_GOING},
    {"script", O_SCRIPT},
    {"", O_COMMANDS},
    {"completion", O_COMPLETION},
    {"dns-server", O_DNS_SERVER},
    {"ispdb-url", O_ISPDB_URL},
    {"share", O_SHARE},
    {"no-share", O_NO_SHARE},
};

static int id_of(const struct cli_opt *o)
{
	const char *name = o->same_as != NULL ? o->same_as : o->name;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i].name, name) == 0)
			return ids[i].id;
	return 0;
}

const char *cli_global_opt(size_t i, int *arg_r, char *short_r)
{
	const struct cli_opt *o;

	for (o = cli_global_opts; o->name != NULL; o++) {
		if (o->name[0] == '\0' || (o->flags & CLI_OPTF_MODE))
			continue;
		if (i-- == 0) {
			*arg_r = cli_opt_takes_value(o);
			*short_r = o->shrt;
			return o->name;
		}
	}
	return NULL;
}

const char *cli_global_opt_all(size_t i, int *arg_r, char *short_r)
{
	const struct cli_opt *o;

	for (o = cli_global_opts; o->name != NULL; o++) {
		if (i-- == 0) {
			*arg_r = cli_opt_takes_value(o);
			*short_r = o->shrt;
			return o->name;
		}
	}
	return NULL;
}

/* --share[=DURATION|stop]; a later --no-share wins, as a later option
 * does. */
static ims_err apply_share(struct cli *c, const char *val)
{
	unsigned s;

	if (val != NULL && strcmp(val, "stop") == 0) {
		c->o.share_stop = 1;
		return IMS_OK;
	}
	if (val == NULL)
		s = CLI_SHARE_DEFAULT_S;
	else if (ims_share_duration_parse(val, &s) != 0)
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "--share: '%s' is not a duration such as 90, 5m or 1h (1 second "
		    "to 7 days), nor stop",
		    val);
	c->o.share = (int)s;
	return IMS_OK;
}

/* Apply one global option; IMS_OK or a usage error. */
static ims_err apply(struct cli *c, int id, const char *val)
{
	struct cli_opts *o = &c->o;
	uint64_t v;

	switch (id) {
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
		else if (strcmp(val, "1.3") == 0 && !ims_tls_has_tls13())
			return ims_error_set(
			    &c->err, IMS_ERR_USAGE,
			    "--tls-min 1.3: this imapsh is built on mbedTLS %s, which speaks "
			    "TLS 1.2 only; use --tls-min 1.2 (the default), or an imapsh built "
			    "on mbedTLS 3.6 ('imapsh --version' shows the TLS versions a build "
			    "offers)",
			    ims_tls_library_version());
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
	case O_SHARE: return apply_share(c, val);
	case O_NO_SHARE: o->share = -1; break;
	case O_COMMANDS:
		if (o->n_commands == CLI_MAX_COMMANDS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "-c: at most %d",
			                     CLI_MAX_COMMANDS);
		o->commands[o->n_commands++] = val;
		break;
	}
	return IMS_OK;
}

ims_err cli_global_parse(struct cli *c, int argc, char **argv, int *nargs_r, char **args,
                         int *help_r, int *version_r)
{
	int i, n = 0, dashdash = 0, have_cmd = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *g = NULL;
		const char *val = NULL;
		int id;

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

			g = cli_opts_find_long(cli_global_opts, a + 2, len);
			if (g != NULL && eq != NULL) {
				if (!cli_opt_takes_value(g) && (g->flags & CLI_OPTF_OPTVAL) == 0)
					return ims_error_set(&c->err, IMS_ERR_USAGE,
					                     "option --%s takes no value", g->name);
				val = eq + 1;
			}
		} else if (a[2] == '\0') {
			g = cli_opts_find_short(cli_global_opts, a[1]);
		}
		if (g == NULL) {
			if (have_cmd) {
				args[n++] = argv[i];
				continue;
			}
			return ims_error_set(&c->err, IMS_ERR_USAGE, "unknown option '%s'", a);
		}
		id = id_of(g);
		if (id == O_HELP) {
			*help_r = 1;
			continue;
		}
		if (id == O_VERSION) {
			*version_r = 1;
			continue;
		}
		if (cli_opt_takes_value(g) && val == NULL) {
			if (i + 1 >= argc)
				return ims_error_set(&c->err, IMS_ERR_USAGE,
				                     "option '%s' needs a value", a);
			val = argv[++i];
		}
		if (apply(c, id, val) != IMS_OK)
			return c->err.code;
	}
	*nargs_r = n;
	return IMS_OK;
}

void cli_global_help(FILE *f)
{
	const struct cli_opt *o;
	char syn[128], col[160];

	for (o = cli_global_opts; o->name != NULL; o++) {
		if (o->flags & CLI_OPTF_HIDDEN)
			continue;
		if (o->name[0] == '\0')
			snprintf(syn, sizeof(syn), "-%c %s", o->shrt, o->meta);
		else
			cli_opt_synopsis(o, syn, sizeof(syn));
		snprintf(col, sizeof(col), "%s%s", o->shrt != 0 ? "  " : "      ", syn);
		/* the help lines in one column; a long synopsis has its own line */
		if (strlen(col) > 28)
			fprintf(f, "%s\n%-29s%s\n", col, "", o->help);
		else
			fprintf(f, "%-29s%s\n", col, o->help);
	}
}
