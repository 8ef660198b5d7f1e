/* The message commands' table: list and search (list.c), fetch, flag and
 * unflag, copy and move, delete and expunge, append: one file each or a
 * close family in src/cli/cmd/, what they share in msg_util.c.
 *
 * Message arguments are UIDs ("42", "1:100", "1,5,9:12", "*"); "#N" (or a
 * set after '#') means message sequence numbers.  Commands that change
 * messages first ask the server which of the given messages exist (UID
 * SEARCH), so a UID that is not there is an error (exit 1) and the command
 * then works on explicit UIDs only.
 *
 * list and search print one line a message: UID, flags, date, from,
 * subject, size.  Flags are the letters of the Maildir info field, in its
 * order: D \Draft, F \Flagged, R \Answered (replied), S \Seen, T \Deleted
 * (trashed), and '+' when keywords are set; '-' when none.  The date is
 * INTERNALDATE (when the server received the message) in local time.  On a
 * terminal: aligned columns, from and subject cut to the width, sizes in
 * K/M; elsewhere the six fields tab-separated with the date in ISO 8601
 * and the size in bytes; with --json one object a line.  Server text is
 * sanitised in both text forms (a TAB or LF in a subject shows as ^I or
 * ^J, so a record is always one line); --json is the lossless form. */
#include "cli/cli.h"
#include "cli/cmd/cmd.h"

/* clang-format off */
static const struct cli_opt fetch_opts[] = {
	CLI_OPT_OUTPUT("FILE", "write to FILE (made safely, never over another), - for stdout"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt delete_opts[] = {
	CLI_FLAG("expunge", 0, "remove just these messages at once (UID EXPUNGE)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt append_opts[] = {
	CLI_VALUE("flags", 0, CLI_OPT_STRING, "FLAG,...", "set these flags on the new message"),
	CLI_VALUE("date", 0, CLI_OPT_STRING, "DATE", "its internal date (default: now)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* clang-format off */
static const struct cli_cmd message_cmds[] = {
	{ .name = "list", .aliases = { "headers" }, .usage = "list [UIDS]",
	  .summary = "one line a message: UID, flags, date, from, subject, size (default: the newest)",
	  .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_list, .options = cli_opts_json },
	{ .name = "search", .aliases = { "find" }, .usage = "search KEY...",
	  .summary = "messages that match: from x, since 2026-01-01, unread, larger 1M, IMAP keys",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST | CMD_DASH_OPERANDS, .run = cmd_search,
	  .options = cli_opts_json },
	{ .name = "fetch", .aliases = { "cat" }, .usage = "fetch UID [SECTION]",
	  .summary = "the raw message (or a section: 1.2, HEADER, TEXT) to stdout or -o FILE",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_fetch,
	  .options = fetch_opts },
	{ .name = "flag", .usage = "flag UIDS FLAG...",
	  .summary = "set flags: seen, flagged, answered, deleted, draft or a keyword",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_flag,
	  .options = cli_opts_json },
	{ .name = "unflag", .usage = "unflag UIDS FLAG...", .summary = "clear flags",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_unflag,
	  .options = cli_opts_json },
	{ .name = "copy", .aliases = { "cp" }, .usage = "copy UIDS FOLDER",
	  .summary = "copy messages to a folder", .min_args = 2, .max_args = -1,
	  .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_copy, .options = cli_opts_json },
	{ .name = "move", .aliases = { "mv" }, .usage = "move UIDS FOLDER",
	  .summary = "move messages to a folder (MOVE, or COPY and expunge just those)",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_move,
	  .options = cli_opts_json },
	{ .name = "delete", .aliases = { "rm" }, .usage = "delete UIDS [--expunge]",
	  .summary = "flag messages deleted; --expunge removes just those at once",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST,
	  .run = cmd_delete, .options = delete_opts },
	{ .name = "expunge", .usage = "expunge",
	  .summary = "remove the messages flagged deleted from the folder",
	  .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST, .run = cmd_expunge,
	  .options = cli_opts_json },
	{ .name = "append", .usage = "append FOLDER FILE",
	  .summary = "upload a message from FILE (- for stdin); --flags, --date",
	  .min_args = 2, .max_args = -1, .flags = CMD_LOGIN | CMD_ARGS_FIRST, .run = cmd_append,
	  .options = append_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_messages = {message_cmds,
                                                 sizeof(message_cmds) / sizeof(message_cmds[0])};
