/* flag and unflag: set or clear flags on messages (UID STORE). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/words.h"
#include "imapsh/textwidth.h"
#include "imapsh/search.h"
#include "imapsh/units.h"

static ims_err flag_common(struct cli *c, int argc, char **argv, enum ims_store_op op)
{
	const char *u = op == IMS_STORE_ADD ? "flag UIDS FLAG..." : "unflag UIDS FLAG...";
	const char *flags[MAX_FLAGS];
	struct ims_search_result res;
	struct ims_buf set;
	struct lopts lo;
	struct cli_msgarg m;
	size_t nf = 0, i;
	int k;
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos < 2)
		return cmd_usage(c, u);
	for (k = 1; k < lo.npos; k++) {
		if (nf == MAX_FLAGS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "at most %d flags", MAX_FLAGS);
		if (cmd_flag_word(c, lo.pos[k], &flags[nf++]) != IMS_OK)
			return c->err.code;
	}
	if (cmd_msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	ims_search_result_init(&res);
	ims_buf_init(&set, 0);
	e = cli_ready(c);
	if (e == IMS_OK)
		e = cmd_resolve_uids(c, argv[0], &m, &res);
	if (e == IMS_OK)
		e = cmd_uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK)
		e = ims_session_uid_store(c->sess, set.data, op, flags, nf, 1, NULL, &c->err);
	if (e == IMS_OK && lo.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		cmd_json_uids(&j, "uids", res.uids, res.n);
		json_key(&j, op == IMS_STORE_ADD ? "added" : "removed");
		json_begin_array(&j);
		for (i = 0; i < nf; i++)
			json_str(&j, flags[i]);
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else if (e == IMS_OK && c->out_tty && !c->o.quiet) {
		printf("%s %zu message%s:", op == IMS_STORE_ADD ? "flagged" : "unflagged", res.n,
		       res.n == 1 ? "" : "s");
		for (i = 0; i < nf; i++)
			printf(" %s", flags[i]);
		putchar('\n');
	}
	ims_buf_release(&set);
	ims_search_result_release(&res);
	cli_msgarg_release(&m);
	if (e == IMS_OK)
		e = cli_stdout_check(c);
	return e;
}

ims_err cmd_flag(struct cli *c, int argc, char **argv)
{
	return flag_common(c, argc, argv, IMS_STORE_ADD);
}

ims_err cmd_unflag(struct cli *c, int argc, char **argv)
{
	return flag_common(c, argc, argv, IMS_STORE_REMOVE);
}
