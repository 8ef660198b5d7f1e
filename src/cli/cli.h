/* The front end: options, the command table, output.  Only this layer
 * reads argv, talks to readline, prints or calls exit(). */
#ifndef IMAPSH_CLI_H
#define IMAPSH_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "imapsh/buf.h"
#include "imapsh/connect.h"
#include "imapsh/error.h"

#define CLI_MAX_PINS 16
#define CLI_MAX_RESOLVE 16
#define CLI_MAX_RESOLVE_ADDRS 64

struct cli_opts {
	const char *user;
	unsigned port;
	const char *account;
	int starttls;
	const char *ca_file, *ca_path;
	const char *pins[CLI_MAX_PINS];
	size_t n_pins;
	int insecure;
	int tls_min;
	const char *client_cert, *client_key;
	const char *auth;
	const char *password_command;
	const char *oauth_token_command;
	int netrc;
	const char *netrc_file;
	const char *folder;
	const char *output;
	int json;
	const char *resolve[CLI_MAX_RESOLVE];
	size_t n_resolve;
	int timeout_s;
	int verbose;
	int trace;
	const char *config;
	int no_color;
	int quiet;
	int keep_going;
	const char *script;
	const char *commands; /* -c */
};

/* Where we connect: from TARGET, the config file and options. */
struct cli_target {
	char host[256];
	unsigned port;
	enum ims_tls_mode mode;
	char user[256];
	char mailbox[512];
	uint32_t uid, uidvalidity;
	char section[128];
	char auth[32];
	int set;
};

struct cli {
	struct cli_opts o;
	struct cli_target t;
	int out_tty;   /* stdout is a terminal */
	int err_tty;
	int color;
	const char *resolve_addrs[CLI_MAX_RESOLVE_ADDRS]; /* for this target */
	char resolve_store[CLI_MAX_RESOLVE_ADDRS][48];
	size_t n_resolve_addrs;
	int exit_set; /* a command chose its own exit code (check) */
	int exit;
	struct ims_error err;
};

/* Command flags, enforced by the dispatcher. */
enum {
	CMD_CONNECT = 1 << 0,   /* needs a verified connection */
	CMD_LOGIN = 1 << 1,     /* needs an authenticated session */
	CMD_FOLDER = 1 << 2,    /* needs a selected folder */
	CMD_SENSITIVE = 1 << 3, /* the line may carry a secret: never in history */
	CMD_DESTRUCTIVE = 1 << 4
};

struct cli_cmd {
	const char *name;
	const char *aliases[3];
	const char *usage;
	const char *summary;
	int min_args, max_args; /* -1: no limit */
	unsigned flags;
	ims_err (*run)(struct cli *c, int argc, char **argv);
};

const struct cli_cmd *cli_cmd_find(const char *name);
const struct cli_cmd *cli_cmd_table(size_t *n_r);
/* Run one command line (argv[0] is the command name). */
ims_err cli_cmd_run(struct cli *c, int argc, char **argv);

/* Connection parameters from the options and target (the --resolve
 * addresses live in c). */
ims_err cli_connect_params(struct cli *c, const struct cli_target *t,
			   struct ims_connect_params *p) IMS_MUST_CHECK;
/* Parse HOST, HOST:PORT, USER@HOST, imaps://... into t. */
ims_err cli_parse_target(const char *s, struct cli_target *t, struct ims_error *err);

/* Output helpers. */
void cli_warn(const char *fmt, ...) IMS_PRINTF(1, 2);
/* Server text made safe for a terminal or a pipe; returns buf. */
const char *cli_safe(const char *in, char *buf, size_t n);

ims_err cmd_cert(struct cli *c, int argc, char **argv);
ims_err cmd_check(struct cli *c, int argc, char **argv);
ims_err cmd_help(struct cli *c, int argc, char **argv);

#endif
