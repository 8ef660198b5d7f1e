/* What the command handlers in src/cli/cmd/ share, and the handlers the
 * command tables name.  Only src/cli/cmd/ includes this file. */
#ifndef IMAPSH_CLI_CMD_H
#define IMAPSH_CLI_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/output.h"

/* ---- folders (folder_util.c) ---- */

/* Rewrite a session failure that carries the server's words as "VERB NAME:
 * the server said ...": the session names the folder in its wire form
 * (modified UTF-7), the user wants the name as typed.  Other failures (a
 * lost connection, a refusal made before sending) keep their words. */
ims_err cmd_folder_fail(struct cli *c, ims_err e, const char *verb, const char *name);
/* A "key TAB number" record. */
void cmd_kv_u64(FILE *f, const char *key, uint64_t v);
/* Spaces from column have to column want. */
void cmd_pad(size_t have, size_t want);
/* "k": v, or null when not have. */
void cmd_json_kv_u64(struct json_out *j, const char *k, int have, uint64_t v);
/* The folder a command without FOLDER works on: the selected one, -f, or
 * INBOX. */
const char *cmd_default_folder(struct cli *c);
/* One folder name from the user, on the wire (wire is initialised here). */
ims_err cmd_folder_encode(struct cli *c, const char *name, struct ims_buf *wire);

ims_err cmd_select(struct cli *c, int argc, char **argv);
ims_err cmd_examine(struct cli *c, int argc, char **argv);
ims_err cmd_status(struct cli *c, int argc, char **argv);
ims_err cmd_mkdir(struct cli *c, int argc, char **argv);
ims_err cmd_rmdir(struct cli *c, int argc, char **argv);
ims_err cmd_rename(struct cli *c, int argc, char **argv);
ims_err cmd_subscribe(struct cli *c, int argc, char **argv);
ims_err cmd_unsubscribe(struct cli *c, int argc, char **argv);
ims_err cmd_quota(struct cli *c, int argc, char **argv);

/* ---- messages (msg_util.c) ---- */

#define MAX_FLAGS 32 /* flags in one flag/unflag/append */

struct cli_msgarg;
struct ims_search_result;

/* A message command's operands and options, read by the dispatcher
 * against the table's declaration (--json and -o/--output are set in c->o
 * for the command; "-o -" is standard output). */
struct lopts {
	int json;
	const char *output;
	int expunge;
	const char *flags;
	const char *date;
	char **pos;
	int npos;
};

/* The usage error "usage: U". */
ims_err cmd_usage(struct cli *c, const char *u);
/* The running command's operands and options into lo. */
void cmd_read_lopts(struct cli *c, int argc, char **argv, struct lopts *lo);
/* The folder the command works on, for messages ("INBOX"), made safe. */
const char *cmd_cur_folder(struct cli *c, char *buf, size_t n);
/* A message argument (msgarg.h: the one grammar); m is initialised here. */
ims_err cmd_msgarg_parse(struct cli *c, const char *word, struct cli_msgarg *m);

/* The UIDs of the messages m names that exist now (UID SEARCH), ascending.
 * None is IMS_ERR_NO with words. */
ims_err cmd_resolve_uids(struct cli *c, const char *what, const struct cli_msgarg *m,
                         struct ims_search_result *res);

/* UIDs as a compact sequence set ("1:5,9"). */
ims_err cmd_uids_format(struct cli *c, const uint32_t *uids, size_t n, struct ims_buf *out);

/* A flag word: seen, flagged, answered, deleted, draft (any case) or the
 * system flag itself (\Seen), else a keyword of atom characters. */
ims_err cmd_flag_word(struct cli *c, const char *w, const char **flag_r);

/* A session failure about FOLDER, with a hint for TRYCREATE. */
ims_err cmd_folder_hint(struct cli *c, ims_err e);

/* "key": [UID, ...] */
void cmd_json_uids(struct json_out *j, const char *key, const uint32_t *v, size_t n);

ims_err cmd_list(struct cli *c, int argc, char **argv);
ims_err cmd_search(struct cli *c, int argc, char **argv);
ims_err cmd_fetch(struct cli *c, int argc, char **argv);
ims_err cmd_flag(struct cli *c, int argc, char **argv);
ims_err cmd_unflag(struct cli *c, int argc, char **argv);
ims_err cmd_copy(struct cli *c, int argc, char **argv);
ims_err cmd_move(struct cli *c, int argc, char **argv);
ims_err cmd_delete(struct cli *c, int argc, char **argv);
ims_err cmd_expunge(struct cli *c, int argc, char **argv);
ims_err cmd_append(struct cli *c, int argc, char **argv);

/* ---- reading (read_util.c, mimetree.c) ---- */

struct ims_mime_part;

/* A reading command's operands and options. */
struct ropts {
	int json;
	const char *output;
	int all_headers;
	int mark_read;
	char **pos;
	int npos;
};

/* The MIME tree of one message (mimetree.c). */
struct tree {
	struct ims_mime_part *v;
	size_t n, cap;
	int capped;
};

/* The command's operands and its options, read by the dispatcher
 * against the table's declaration (--json and -o/--output are set in
 * c->o for the command). */
void cmd_read_ropts(struct cli *c, int argc, char **argv, struct ropts *ro);

/* One message in the one message-argument grammar (msgarg.h): a UID,
 * "*" (the newest), "#N" or "#*" (sequence numbers), turned into its UID
 * with a UID SEARCH in the open folder where it is not a UID already.
 * The caller checks every other word first: this connects. */
ims_err cmd_parse_uid(struct cli *c, const char *what, const char *s, uint32_t *uid_r);

/* Append the sanitised s[0..len) to out. */
ims_err cmd_put_safe(struct ims_buf *out, const char *s, size_t len, unsigned mode);

/* A sanitised copy as a JSON string value. */
void cmd_json_safe(struct json_out *j, const char *k, const char *s, size_t len, unsigned mode);

/* k: the sanitised s, or null when s is NULL. */
void cmd_json_opt(struct json_out *j, const char *k, const char *s);

/* Free what t holds. */
void cmd_tree_release(struct tree *t);

/* UID FETCH uid (UID BODYSTRUCTURE) into t; no such message is
 * IMS_ERR_NO with words. */
ims_err cmd_fetch_structure(struct cli *c, const char *what, uint32_t uid, struct tree *t);

/* A multipart/... part. */
int cmd_is_multipart(const struct ims_mime_part *p);

ims_err cmd_structure(struct cli *c, int argc, char **argv);
ims_err cmd_show(struct cli *c, int argc, char **argv);
ims_err cmd_save(struct cli *c, int argc, char **argv);

#endif
