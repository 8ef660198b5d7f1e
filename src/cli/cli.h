/* The front end: options, the command table, output.  Only this layer
 * reads argv, talks to readline, prints or calls exit(). */
#ifndef IMAPSH_CLI_H
#define IMAPSH_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "imapsh/buf.h"
#include "imapsh/connect.h"
#include "imapsh/error.h"
#include "cli/config.h"
#include "cli/opts.h"

#define CLI_MAX_PINS          16
#define CLI_MAX_RESOLVE       16
#define CLI_MAX_COMMANDS      64 /* -c */
#define CLI_MAX_RESOLVE_ADDRS 64
#define CLI_MAX_KNOWN_PINS    16 /* known_hosts pins used for one host:port */

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
	int compress; /* CFG_COMPRESS_* (config.h); 0 = not given */
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
	const char *dns_server; /* --dns-server ADDR[:PORT] */
	const char *ispdb_url;  /* --ispdb-url URL (setup) */
	int timeout_s;
	int verbose;
	int trace;
	const char *config;
	int no_color;
	int quiet;
	int keep_going;
	const char *script;
	const char *commands[CLI_MAX_COMMANDS]; /* -c, each in order */
	size_t n_commands;
	const char *completion; /* --completion SHELL */
	int share;              /* --share: seconds; -1 --no-share; 0 not given */
	int share_stop;         /* --share=stop */
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

struct ims_session;

struct cli {
	struct cli_opts o;
	struct cfg cfg;                 /* the config file */
	const struct cfg_account *acct; /* the account in use, or NULL */
	struct ims_session *sess;       /* NULL until connected */
	int folder_rw;                  /* the selected folder is read-write */
	struct cli_target t;
	int out_tty; /* stdout is a terminal */
	int err_tty;
	int color;
	const char *resolve_addrs[CLI_MAX_RESOLVE_ADDRS]; /* for this target */
	char resolve_store[CLI_MAX_RESOLVE_ADDRS][48];
	size_t n_resolve_addrs;
	unsigned ready_flags;   /* the running command's flags, for cli_ready() */
	struct cli_parsed args; /* the running command's options (cli_opt_flag...) */
	int out_closed;         /* stdout's reader has gone: stop, log out */
	int exit_set;           /* a command chose its own exit code (check) */
	int exit;
	struct ims_error err;

	/* The shell (repl.c).  interactive: cli_repl() is running, so
	 * commands may ask questions (cli_confirm, cli_offer_trust).  The
	 * session glue keeps connected, t.user, t.host and folder current
	 * for the prompt "user@host:FOLDER> ", and fills the folder cache
	 * for Tab completion with cli_folders_set(). */
	int interactive;
	int connected;
	int zauto_done;   /* --compress auto has decided for this session (compress_auto.c) */
	char folder[512]; /* the selected folder (UTF-8), empty when none */
	char **folders;   /* owned; UTF-8 names from LIST */
	size_t n_folders;
	int folders_asked; /* cli_folders_fill() has asked the server */

	/* Pins for the connection being made (cli_connect_params): --pin,
	 * the known_hosts pins for its host:port, and a key the user
	 * trusted "once" in this shell session (cli_offer_trust). */
	const char *conn_pins[CLI_MAX_PINS + CLI_MAX_KNOWN_PINS + 1];
	char known_pins[CLI_MAX_KNOWN_PINS][64];
	char known_pins_at[1100];       /* "FILE:LINE" of the first, "" when none */
	unsigned long json_docs_before; /* cli_json_docs() as the command began */
	struct {
		char host[256];
		unsigned port;
		char pin[64];
	} trust_once;
};

/* Command flags, enforced by the dispatcher. */
enum {
	CMD_CONNECT = 1 << 0,   /* needs a verified connection */
	CMD_LOGIN = 1 << 1,     /* needs an authenticated session */
	CMD_FOLDER = 1 << 2,    /* needs a selected folder */
	CMD_SENSITIVE = 1 << 3, /* the line may carry a secret: never in history */
	CMD_DESTRUCTIVE = 1 << 4,
	CMD_WRITE = 1 << 5, /* with CMD_FOLDER: SELECT (read-write), else EXAMINE */
	/* The handler checks all its words first, then calls cli_ready(),
	 * which connects, logs in and selects as the flags above say: a
	 * usage error never waits for (or depends on) the server. */
	CMD_ARGS_FIRST = 1 << 6,
	/* Every operand is a folder name or pattern: the dispatcher checks
	 * that each is UTF-8 before connecting. */
	CMD_NAMES = 1 << 7,
	/* A word that starts with '-' and is not a declared option is an
	 * operand (search keys, raw IMAP), not a usage error. */
	CMD_DASH_OPERANDS = 1 << 8,
	/* A monitoring plugin (check): its usage errors exit 3 (UNKNOWN). */
	CMD_PLUGIN = 1 << 9,
	/* Every word is an operand (quote's raw IMAP), but a lone -h or
	 * --help asks for help. */
	CMD_RAW = 1 << 10,
	/* Not in a table: set by cli_ready_ahead() for a command whose first
	 * IMAP command does not need the SELECT's answer, so the SELECT goes
	 * out in the same flight as it (one round trip fewer). */
	CMD_SELECT_AHEAD = 1 << 11,
	/* The command names its own servers (setup): the default account is
	 * not applied at start, and a --config file it names may be missing. */
	CMD_NO_ACCOUNT = 1 << 12
};

struct cli_cmd {
	const char *name;
	const char *aliases[3];
	const char *usage; /* operands in capitals; FOLDER, OLD and NEW name
	                      folders (Tab completes them), COMMAND a command */
	const char *summary;
	int min_args, max_args; /* -1: no limit */
	unsigned flags;
	/* Called with the operands only (argv[0] the name as typed): the
	 * dispatcher has read the options into c->args (opts.h). */
	ims_err (*run)(struct cli *c, int argc, char **argv);
	/* The command's own options (opts.h), ended by CLI_OPT_LIST_END, or
	 * NULL for none.  The one declaration: the parser, help COMMAND,
	 * COMMAND --help and every completion are made from it. */
	const struct cli_opt *options;
};

/* Commands come in groups, one a module (cmd_*.c), listed in commands.c. */
struct cli_cmd_group {
	const struct cli_cmd *cmds;
	size_t n;
};

/* {--json}: the declaration of a command whose only option is --json. */
extern const struct cli_opt cli_opts_json[];

extern const struct cli_cmd_group cli_group_core;
extern const struct cli_cmd_group cli_group_reading;
extern const struct cli_cmd_group cli_group_bulk;
extern const struct cli_cmd_group cli_group_folders;
extern const struct cli_cmd_group cli_group_messages;
extern const struct cli_cmd_group cli_group_setup;

const struct cli_cmd *cli_cmd_find(const char *name);
const struct cli_cmd *cli_cmd_table(size_t *n_r);
/* The command name nearest to WORD (a typo's likely meaning), or NULL. */
const char *cli_cmd_suggest(const char *word);
/* Sets c->err to the usage error for an unknown command WORD, with the
 * nearest command suggested; returns IMS_ERR_USAGE. */
ims_err cli_cmd_unknown(struct cli *c, const char *word);
/* Run one command line (argv[0] is the command name): its options are
 * read against the command's declaration into c->args, -h/--help prints
 * the command's help, the operands are counted, then the handler runs. */
ims_err cli_cmd_run(struct cli *c, int argc, char **argv);
/* The help of one command, from the table: usage, summary, aliases and
 * each option with its help line. */
void cli_cmd_help(const struct cli_cmd *cmd, FILE *f);

/* Connection parameters from the options and target (the --resolve
 * addresses live in c). */
ims_err cli_connect_params(struct cli *c, const struct cli_target *t,
                           struct ims_connect_params *p) IMS_MUST_CHECK;
/* The server a command names (arg, parsed as cli_parse_target does) or,
 * with arg NULL, the one the shell or the command line chose; a usage
 * error when there is none. */
ims_err cli_target_or_current(struct cli *c, const char *arg, struct cli_target *t) IMS_MUST_CHECK;
/* Parse HOST, HOST:PORT, USER@HOST, imaps://... into t. */
ims_err cli_parse_target(const char *s, struct cli_target *t, struct ims_error *err);

/* The documented exit status for an error (main.c). */
int cli_exit_code(ims_err e);
/* A number typed by the user (an option's value or an operand): digits
 * only, from min to max, or a usage error "WHAT: 'S' is not a number from
 * MIN to MAX".  The one parser for every number the user gives. */
ims_err cli_number(struct cli *c, const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *v_r) IMS_MUST_CHECK;

/* For a CMD_ARGS_FIRST command, once its words are checked: what the
 * command's flags need (connection, login, folder). */
ims_err cli_ready(struct cli *c) IMS_MUST_CHECK;
/* --compress auto in a bulk transfer (compress_auto.c): cli_zauto_pending() says
 * whether this session still waits for the decision; cli_zauto_decide()
 * takes the rate measured so far (bytes in ms, left bytes to go, the
 * sending end's deflate in bytes a second or 0) and, when it pays, sends
 * COMPRESS: the caller has no command in flight.  *measure_r: 1 while
 * too little is measured to tell (ask again later). */
int cli_zauto_pending(const struct cli *c);
ims_err cli_zauto_decide(struct cli *c, uint64_t bytes, int64_t ms, uint64_t left,
                         uint64_t deflate_bps, int *measure_r) IMS_MUST_CHECK;
/* The same for a command that sends its first IMAP command without
 * reading the folder's state: the SELECT goes ahead in the same flight,
 * and its failure is the result of that first command. */
ims_err cli_ready_ahead(struct cli *c) IMS_MUST_CHECK;

/* The one place a failed write to standard output is judged: EPIPE (the
 * reader is gone, as with | head) sets out_closed and gives a quiet
 * IMS_ERR_IO (exit 6, nothing on stderr; the work stops and imapsh logs
 * out); any other errno (ENOSPC...) an IMS_ERR_IO with words. */
ims_err cli_out_error(struct cli *c, int errnum) IMS_MUST_CHECK;
/* Flush stdout and judge any write that failed so far (cli_out_error). */
ims_err cli_stdout_check(struct cli *c) IMS_MUST_CHECK;
/* Cheap test for loops that print as data arrives: a write failed. */
int cli_stdout_failed(void);
/* For loops that wait (idle): 1, with out_closed set and the quiet error
 * in c->err, when stdout's reader has gone even though nothing was
 * written. */
int cli_stdout_closed(struct cli *c);

/* Output helpers (output.c; output.h has the record and JSON writers). */
/* "imapsh: " and the message on stderr, the whole message made safe by
 * the sanitiser's line rule: one line, nothing raw. */
void cli_warn(const char *fmt, ...) IMS_PRINTF(1, 2);
/* Server text made safe for a terminal or a pipe (ims_sanitize_fixed:
 * the line rule, cut with "..." to fit buf[0..n)); returns buf. */
const char *cli_safe(const char *in, char *buf, size_t n);

/* The global options (globalopts.c) for completion: the i-th long name
 * without its dashes, NULL past the end; *arg_r says whether it takes a
 * value and *short_r is its one-letter form or 0.  Options that choose a
 * mode (--help, --script, -c ...) are left out. */
const char *cli_global_opt(size_t i, int *arg_r, char *short_r);
/* Every global option, as cli_global_opt(), "" as the long name of one
 * that has only a short form (-c). */
const char *cli_global_opt_all(size_t i, int *arg_r, char *short_r);
/* imapsh --completion SHELL (completion.c): the bash or zsh completion
 * script, made from the command and option tables, written to f. */
ims_err cli_completion_script(const char *shell, FILE *f, struct ims_error *err) IMS_MUST_CHECK;

/* ---- modes (repl.c) ----
 *
 * Every mode runs commands with cli_cmd_run(), so a command behaves the
 * same wherever it was typed.  A line may hold several commands split by
 * ';' or line ends (words.h); the whole line is checked before any of
 * it runs, and the rest of a line is skipped after a command fails (in
 * batch and -c not with --keep-going) or is interrupted.  "exit" and
 * "quit" end the shell, a -c string or a script (with success so far). */

/* Set by SIGINT (and SIGTERM, SIGHUP) while the shell runs a command;
 * the shell clears it before each command.  Long operations poll it and
 * return IMS_ERR_CANCELLED (a blocking read or poll sees EINTR: no
 * SA_RESTART).  One-shot and batch modes keep the default SIGINT (the
 * process ends). */
extern volatile sig_atomic_t cli_interrupted;

/* The interactive shell on the terminal (GNU readline): prompt, history
 * in $XDG_STATE_HOME/imapsh/history (mode 0600; never a line that may
 * carry a secret), Tab completion, Ctrl-C clears the line at the prompt
 * and interrupts a running command, Ctrl-Z suspends, Ctrl-D / exit /
 * quit / SIGTERM / SIGHUP leave (history saved, terminal restored).
 * Errors are printed as they happen; returns IMS_OK.  Clears the folder
 * cache on the way out. */
ims_err cli_repl(struct cli *c) IMS_MUST_CHECK;
/* Batch: one command line a line from f, '#' comments, blank lines
 * skipped; errors printed as "imapsh: NAME:LINE: why".  Stops at the
 * first failure and returns its error, unless c->o.keep_going (then the
 * first failure's error is returned at the end).  A check that grades
 * WARNING or worse counts as a failure and leaves c->exit_set/c->exit. */
ims_err cli_batch(struct cli *c, FILE *f) IMS_MUST_CHECK;
/* -c 'CMD; CMD' (repeatable): as cli_batch, each string a line, in order
 * over one session ("imapsh: why", or "imapsh: -c #N: why" when there are
 * several).  A failure stops the rest unless --keep-going. */
ims_err cli_run_strings(struct cli *c, const char *const *v, size_t n) IMS_MUST_CHECK;

/* Ask a yes/no question on the terminal (readline, default no); 1 yes,
 * 0 no, Ctrl-C or end of input.  Outside the shell (one-shot, -c,
 * batch) it asks nothing and returns 1: a script that runs a
 * destructive command has asked for it explicitly. */
int cli_confirm(struct cli *c, const char *question);
/* Read one line at the terminal with readline (no history); NULL at end
 * of input or Ctrl-C.  For questions asked in the shell only.  The
 * caller frees the line. */
char *cli_readline(struct cli *c, const char *prompt);
/* Replace the folder cache used for completion; takes ownership of
 * names (an array of n malloc'd UTF-8 strings, itself malloc'd; NULL to
 * empty the cache). */
void cli_folders_set(struct cli *c, char **names, size_t n);
/* Keep the cache current (a command made, removed or renamed folders):
 * with replace, the names in add become the cache; otherwise they are
 * added to it and drop (may be NULL) is taken out.  Out of memory leaves
 * the cache as it was.  Only in the shell (which frees it at its end). */
void cli_folders_update(struct cli *c, const char *const *add, size_t n_add, const char *drop,
                        int replace);
/* Fill the folder cache with one LIST when the shell has a logged-in
 * session and the cache was never filled (the first Tab that completes
 * a folder); quiet: completion never prints. */
void cli_folders_fill(struct cli *c);

/* The session glue (conn.c). */
/* Choose the server: TARGET word (an account name or a server; may be
 * NULL), -a, or the config's default account; fills c->t and c->acct. */
ims_err cli_setup_target(struct cli *c, const char *word) IMS_MUST_CHECK;
/* Make sure what a command needs is there: a connection, a login, a
 * selected folder (CMD_* flags); reconnects a lost session. */
/* A keeper of the session between commands (--share's master): adopt
 * gives a command that needs a login (flags) the kept session when it has
 * none; hold takes it back at cli_close (1) instead of its being closed. */
struct cli_conn_keeper {
	void (*adopt)(struct cli *c, unsigned flags);
	int (*hold)(struct cli *c);
};
void cli_conn_set_keeper(const struct cli_conn_keeper *k);
ims_err cli_need(struct cli *c, unsigned flags) IMS_MUST_CHECK;
/* Select (or examine) a folder by its UTF-8 name. */
ims_err cli_select(struct cli *c, const char *folder, int read_write) IMS_MUST_CHECK;
/* Log in as user_arg (NULL: the user the target, options or config
 * name), with the password sources the man page lists under SECURITY. */
ims_err cli_login(struct cli *c, const char *user_arg) IMS_MUST_CHECK;
/* LOGOUT and close (quietly; for the end of a run). */
void cli_close(struct cli *c);
/* Folder names: UTF-8 (the user's) to the wire (modified UTF-7, or UTF-8
 * after ENABLE UTF8=ACCEPT) and back.  The result is appended to out.
 * ":ROLE" (one of cli_folder_roles: ":sent", ":trash"...) names the
 * folder the server marks with that special-use role (one LIST); "::x"
 * is the folder ":x". */
extern const char *const cli_folder_roles[]; /* NULL-terminated */
ims_err cli_mbox_encode(struct cli *c, const char *utf8, struct ims_buf *out) IMS_MUST_CHECK;
ims_err cli_mbox_decode(struct cli *c, const char *raw, size_t len, struct ims_buf *out);
/* A folder name from the server (LIST) as the UTF-8 name the user will
 * type and imapsh will send back: IMS_ERR_PROTOCOL (nothing appended) when
 * it cannot make that round trip (a NUL, not modified UTF-7, or not UTF-8
 * under UTF8=ACCEPT); the caller skips that one item with a warning and
 * goes on.  IMS_ERR_NOMEM when out of memory. */
ims_err cli_mbox_from_server(struct cli *c, const char *raw, size_t len,
                             struct ims_buf *out) IMS_MUST_CHECK;

ims_err cmd_connect(struct cli *c, int argc, char **argv);
ims_err cmd_login(struct cli *c, int argc, char **argv);
ims_err cmd_logout(struct cli *c, int argc, char **argv);
ims_err cmd_capability(struct cli *c, int argc, char **argv);
ims_err cmd_id(struct cli *c, int argc, char **argv);
ims_err cmd_namespace(struct cli *c, int argc, char **argv);
ims_err cmd_quote(struct cli *c, int argc, char **argv);
ims_err cmd_cert(struct cli *c, int argc, char **argv);
ims_err cmd_check(struct cli *c, int argc, char **argv);
ims_err cmd_help(struct cli *c, int argc, char **argv);

#endif
