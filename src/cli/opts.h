/* A command's options, declared once and read back by name.
 *
 * Each command lists its options in the command table (struct cli_cmd's
 * .options, an array ended by an entry whose name is NULL), as Dovecot's
 * doveadm declares DOVEADM_CMD_PARAM: the long name, an optional short
 * form, the kind of value and a one-line help text.  One parser reads a
 * command line against that declaration (the shell, one-shot, -c and
 * batch all come through cli_cmd_run); help COMMAND, COMMAND --help and
 * every completion (the shell's Tab, imapsh --completion) are made from
 * the same declaration, so they cannot drift from what is accepted.
 *
 * The rules: "--name", "--name=VALUE", "--name VALUE", "-x", "-x VALUE";
 * "--" ends the options (every later word is an operand); "-" alone is an
 * operand; "-h" and "--help" ask for the command's help.  A word that
 * starts with '-' and is not declared is a usage error naming the nearest
 * declared option, unless the command takes such words as operands
 * (CLI_OPTS_DASH_OPERANDS: search keys, raw IMAP).  Numbers go through
 * ims_number_parse with the declared range; a WORD option takes one of the
 * words of its metavariable ("maildir|mbox").
 *
 * Pure: no I/O, no global state, so a unit test links it alone.
 * Ownership: the parse result points into argv and into the declaration;
 * it owns nothing and needs no release. */
#ifndef IMAPSH_CLI_OPTS_H
#define IMAPSH_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

enum cli_opt_kind {
	CLI_OPT_FLAG,   /* no value */
	CLI_OPT_STRING, /* any word */
	CLI_OPT_NUMBER, /* digits, from min to max */
	CLI_OPT_WORD,   /* one of the '|'-separated words of meta */
	CLI_OPT_FOLDER, /* a folder name (completion offers folders) */
	CLI_OPT_FILE,   /* a file (completion offers files) */
	CLI_OPT_DIR,    /* a directory */
	CLI_OPT_TIME    /* a time, checked by the command */
};

struct cli_opt {
	const char *name; /* long name without its dashes; NULL ends the list */
	char shrt;        /* one-letter form, or 0 */
	enum cli_opt_kind kind;
	const char *meta;    /* the value's metavariable ("N", "FILE", "maildir|mbox") */
	uint64_t min, max;   /* CLI_OPT_NUMBER */
	const char *help;    /* one line */
	unsigned flags;      /* CLI_OPTF_* (the global options use them) */
	const char *same_as; /* another name of this option (curl's --cacert) */
};

/* Option flags. */
#define CLI_OPTF_MODE                                                                              \
	1u                 /* chooses what imapsh does (--help, -c...): not                        \
	                      offered after a command */
#define CLI_OPTF_REPEAT 2u /* may be given more than once */
#define CLI_OPTF_HIDDEN 4u /* not listed in help (another name of one that is) */
#define CLI_OPTF_OPTVAL 8u /* a flag that may take =VALUE (--share[=DURATION]) */

/* Declarations read more easily with these. */
#define CLI_FLAG(n, s, h)                                                                          \
	{                                                                                          \
		(n), (s), CLI_OPT_FLAG, NULL, 0, 0, (h), 0, NULL                                   \
	}
#define CLI_VALUE(n, s, kind, m, h)                                                                \
	{                                                                                          \
		(n), (s), (kind), (m), 0, 0, (h), 0, NULL                                          \
	}
#define CLI_NUMBER(n, s, m, lo, hi, h)                                                             \
	{                                                                                          \
		(n), (s), CLI_OPT_NUMBER, (m), (lo), (hi), (h), 0, NULL                            \
	}
#define CLI_OPT_LIST_END                                                                           \
	{                                                                                          \
		NULL, 0, CLI_OPT_FLAG, NULL, 0, 0, NULL, 0, NULL                                   \
	}

/* The options that share a name with a global option: given on a
 * command's own line (in the shell there is no other place) they hold for
 * that command only (the dispatcher sets them in cli_opts and restores
 * them after). */
#define CLI_OPT_JSON          CLI_FLAG("json", 0, "machine-readable output (JSON)")
#define CLI_OPT_OUTPUT(m, h)  CLI_VALUE("output", 'o', CLI_OPT_FILE, (m), (h))
#define CLI_OPT_OUTPUT_DIR(h) CLI_VALUE("output", 'o', CLI_OPT_DIR, "DIR", (h))

#define CLI_OPTS_MAX 16 /* options one command may declare */

/* Parser flags. */
#define CLI_OPTS_DASH_OPERANDS 1u /* undeclared "-x" words are operands */
#define CLI_OPTS_RAW                                                                               \
	2u /* every word is an operand ("--" too), but a                                           \
	      lone -h or --help asks for help */

struct cli_parsed {
	const struct cli_opt *decl;
	const char *val[CLI_OPTS_MAX]; /* by declaration index: the value, "" for a
	                                  flag given, NULL when not given */
	uint64_t num[CLI_OPTS_MAX];    /* CLI_OPT_NUMBER values */
	char **operands;               /* the caller's array (argc entries at least) */
	int n_operands;
	int help; /* -h or --help was given */
};

/* Read argv[1..argc) (argv[0] is the command's name, used in messages)
 * against decl (may be NULL: no options).  operands must have room for
 * argc pointers; it receives the operands in order, NULL-terminated.
 * 0, or -1 with a usage message (lowercase, no full stop) in
 * why[0..why_n).  Values are checked as they are read; the first bad one
 * is reported. */
int cli_opts_parse(const struct cli_opt *decl, unsigned flags, int argc, char **argv,
                   char **operands, struct cli_parsed *p, char *why, size_t why_n);

/* The declaration named name, or NULL. */
const struct cli_opt *cli_opts_find(const struct cli_opt *decl, const char *name);
/* The declaration whose long name is name[0..len) (an option with only
 * a short form, whose name is "", never matches), or the one whose short
 * form is c; NULL for none.  For a parser of its own (the global
 * options'). */
const struct cli_opt *cli_opts_find_long(const struct cli_opt *decl, const char *name, size_t len);
const struct cli_opt *cli_opts_find_short(const struct cli_opt *decl, char c);

/* Read back by long name (a name the command did not declare reads as
 * not given). */
int cli_opt_flag(const struct cli_parsed *p, const char *name);
const char *cli_opt_str(const struct cli_parsed *p, const char *name);
/* The number given, or dflt. */
uint64_t cli_opt_num(const struct cli_parsed *p, const char *name, uint64_t dflt);

/* "--name META" or "-x, --name META" for help and completion, into
 * buf[0..n); returns buf. */
const char *cli_opt_synopsis(const struct cli_opt *o, char *buf, size_t n);
/* Whether the option takes a value. */
int cli_opt_takes_value(const struct cli_opt *o);

#endif
