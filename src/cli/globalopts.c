/* The global options: their table (completion reads it too) and the
 * parser of imapsh's own command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/globalopts.h"

enum { ARG_NONE, ARG_REQ };

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
	O_COMPLETION
};

struct gopt {
	const char *lng;
	char shrt;
	int arg;
	int id;
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

ims_err cli_global_parse(struct cli *c, int argc, char **argv, int *nargs_r, char **args,
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
