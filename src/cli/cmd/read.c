/* The reading commands' table: structure, show and save (one file each in
 * src/cli/cmd/; mimetree.c the MIME tree they share, read_util.c the
 * rest).
 *
 * Each starts with UID FETCH (UID BODYSTRUCTURE), turns the tree into the
 * MIME layer's flat array of parts (mime.h), and fetches only what it
 * needs with BODY.PEEK: show the header and the text parts (never an
 * attachment), save the attachments, each streamed through a transfer
 * decoder into a file.  The folder is EXAMINEd; only show --mark-read
 * selects it read-write to add \Seen.
 *
 * Everything from the server that reaches stdout goes through
 * ims_sanitize(), on a terminal and on a pipe alike; --json values too.
 * Files are created only inside the output directory (fsafe.h: openat
 * on its descriptor, which is never a link), under names from
 * ims_sanitize_filename(), and never replace anything: a temporary file
 * is linked to its final name, which fails when that name exists (a
 * file, a directory or a planted symlink), and "name (1).ext", "name
 * (2).ext"... are tried next. */
#include "cli/cli.h"
#include "cli/cmd/cmd.h"

/* clang-format off */
static const struct cli_opt show_opts[] = {
	CLI_VALUE("headers", 0, CLI_OPT_WORD, "all|default",
	          "every header field, or the usual few (default)"),
	CLI_FLAG("mark-read", 0, "set \\Seen on the message"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt save_opts[] = {
	CLI_OPT_OUTPUT_DIR("the directory to save into (default: the current one)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* clang-format off */
static const struct cli_cmd reading_cmds[] = {
	{ .name = "show", .aliases = { "read" }, .usage = "show UID [--headers all] [--mark-read]",
	  .summary = "the message for a person: decoded headers, the text, the attachments",
	  .min_args = 1, .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_show,
	  .options = show_opts },
	{ .name = "structure", .usage = "structure UID",
	  .summary = "the MIME tree: part numbers, types, charsets, encodings, sizes, names",
	  .min_args = 1, .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_structure,
	  .options = cli_opts_json },
	{ .name = "save", .usage = "save UID [PART...] [-o DIR]",
	  .summary = "attachments (or the parts given) to -o DIR, decoded; never overwrites",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_save,
	  .options = save_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_reading = {reading_cmds,
                                                sizeof(reading_cmds) / sizeof(reading_cmds[0])};
