/* The bulk commands' table (export, import, idle) and export's command:
 * its words, then export.c's driver or export_all.c's.  Apart from the
 * driver so that what the drivers share (export.c) is called only from
 * above, never the other way. */
#include <string.h>

#include "cli/cmd/export.h"
#include "cli/cmd/import.h"
#include "cli/opts.h"
#include "cli/output.h"

static ims_err cmd_export(struct cli *c, int argc, char **argv)
{
	struct export x;
	struct xp_signals sig;
	const char *fmt_word = cli_opt_str(&c->args, "format");
	enum fmt fmt = fmt_word != NULL && strcmp(fmt_word, "mbox") == 0 ? FMT_MBOX : FMT_MAILDIR;
	ims_err e;

	if (cli_opt_flag(&c->args, "all")) {
		if (cli_opt_flag(&c->args, "mirror") && fmt == FMT_MBOX)
			return ims_error_set(
			    &c->err, IMS_ERR_USAGE,
			    "export: --mirror works on a Maildir (an mbox keeps what "
			    "the server expunged)");
		if (argc > 2 || (argc == 1 && c->o.output == NULL))
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "usage: export --all DIR [--folders PATTERNS] "
			                     "[--exclude PATTERNS] [--format maildir|mbox]");
		return xp_export_all(c, argc == 2 ? argv[1] : c->o.output, fmt);
	}
	if (cli_opt_str(&c->args, "folders") != NULL || cli_opt_str(&c->args, "exclude") != NULL ||
	    cli_opt_num(&c->args, "jobs", 0) != 0)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "export: --folders, --exclude and --jobs go with --all");
	if (argc != 3 && !(argc == 2 && c->o.output != NULL))
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "usage: export FOLDER DIR [--format maildir|mbox] [--restart]");
	if (cli_opt_flag(&c->args, "mirror") && fmt == FMT_MBOX)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "export: --mirror works on a Maildir (an mbox keeps what the "
		                     "server expunged)");
	xp_init(&x, c, fmt, cli_opt_flag(&c->args, "restart"));
	x.mirror = cli_opt_flag(&c->args, "mirror");
	x.folder = argv[1];
	x.dir = argc == 3 ? argv[2] : c->o.output;
	xp_signals_begin(&sig, c);
	x.t0 = ims_now_ms();
	e = xp_run(&x);
	if (x.progress && x.fetched == 0)
		fputs("\r\033[K", stderr);
	if (e == IMS_OK)
		xp_summary(&x, (double)(ims_now_ms() - x.t0) / 1000.0);
	else
		e = xp_stopped(&x, e);
	xp_signals_end(&sig);
	xp_release(&x);
	return e;
}

/* ---- the table ------------------------------------------------------------------ */

/* clang-format off */
static const struct cli_opt export_opts[] = {
	CLI_VALUE("format", 0, CLI_OPT_WORD, "maildir|mbox", "the kind of DIR (default maildir)"),
	CLI_FLAG("restart", 0, "when UIDVALIDITY changed: forget the state, fetch everything again"),
	CLI_FLAG("all", 0, "every folder, each into its own Maildir or mbox under DIR"),
	CLI_NUMBER("jobs", 'j', "N", 1, XP_JOBS_MAX,
	           "with --all: N folders at once, each over its own connection (default 1)"),
	CLI_FLAG("mirror", 0, "remove the messages the server expunged (Maildir; kept by default)"),
	CLI_VALUE("folders", 0, CLI_OPT_STRING, "PATTERNS",
	          "with --all: only the folders matching these patterns (* and %, space-separated)"),
	CLI_VALUE("exclude", 0, CLI_OPT_STRING, "PATTERNS",
	          "with --all: leave out the folders matching these patterns"),
	CLI_OPT_OUTPUT_DIR("DIR when it is not given as an operand"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* clang-format off */
static const struct cli_cmd bulk_cmds[] = {
	{ .name = "export", .usage = "export FOLDER DIR | export --all DIR [--folders PATTERNS] "
	                             "[--exclude PATTERNS]",
	  .summary = "download every message into a Maildir or an mbox (--all: every folder); "
	             "a second run fetches only what is new",
	  .min_args = 1, .max_args = 2, .run = cmd_export, /* logs in after checking its words */
	  .options = export_opts },
	{ .name = "import", .usage = "import SOURCE FOLDER | import --all DIR [--dry-run] "
	                             "[--max-rate BYTES]",
	  .summary = "upload a Maildir or an mbox (--all: an export --all tree) with flags and "
	             "dates; a rerun uploads only what is missing",
	  .min_args = 1, .max_args = 2, .run = cli_cmd_import, /* logs in after checking */
	  .options = cli_import_opts },
	{ .name = "idle", .aliases = { "watch" }, .usage = "idle [SECONDS]",
	  .summary = "wait for new mail and print each new message (SECONDS: exit 1 if none came)",
	  .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cli_cmd_idle,
	  .options = cli_opts_json },
};
/* clang-format on */

const struct cli_cmd_group cli_group_bulk = {bulk_cmds, sizeof(bulk_cmds) / sizeof(bulk_cmds[0])};