/* What the reading commands share: their options read back, the one
 * message they read, sanitised text for the output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/charset.h"
#include "imapsh/cte.h"
#include "imapsh/mime.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/units.h"

void cmd_read_ropts(struct cli *c, int argc, char **argv, struct ropts *ro)
{
	const char *h = cli_opt_str(&c->args, "headers");

	memset(ro, 0, sizeof(*ro));
	ro->json = c->o.json;
	ro->output = c->o.output;
	ro->all_headers = h != NULL && strcmp(h, "all") == 0;
	ro->mark_read = cli_opt_flag(&c->args, "mark-read");
	ro->pos = argv + 1;
	ro->npos = argc - 1;
}

ims_err cmd_parse_uid(struct cli *c, const char *what, const char *s, uint32_t *uid_r)
{
	struct cli_msgarg m;
	ims_err e;

	cli_msgarg_init(&m);
	if (cli_msgarg_parse_one(what, s, &m, &c->err) != IMS_OK)
		return c->err.code;
	/* The last word checked: now the connection (CMD_ARGS_FIRST); the
	 * first command (SEARCH or FETCH) needs nothing from the SELECT's
	 * answer, so the SELECT goes in its flight. */
	e = cli_ready_ahead(c);
	if (e == IMS_OK && !m.seq && m.single != 0) {
		*uid_r = m.single;
	} else if (e == IMS_OK) {
		char fold[512];
		struct ims_arg key[2] = {{IMS_ARG_RAW, "UID", 0}, {IMS_ARG_RAW, m.set.data, 0}};
		struct ims_search_result sr;

		ims_search_result_init(&sr);
		e = m.seq ? ims_session_uid_search(c->sess, &key[1], 1, &sr, &c->err)
		          : ims_session_uid_search(c->sess, key, 2, &sr, &c->err);
		if (e == IMS_OK && sr.n == 0 && m.star)
			e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message in %s (it is empty)",
			                  what, cmd_cur_folder(c, fold, sizeof(fold)));
		else if (e == IMS_OK && sr.n == 0)
			e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message #%s in %s", what,
			                  m.set.data, cmd_cur_folder(c, fold, sizeof(fold)));
		if (e == IMS_OK)
			*uid_r = sr.uids[sr.n - 1];
		ims_search_result_release(&sr);
	}
	cli_msgarg_release(&m);
	return e;
}

ims_err cmd_put_safe(struct ims_buf *out, const char *s, size_t len, unsigned mode)
{
	struct ims_error e;

	return ims_sanitize(s != NULL ? s : "", s != NULL ? len : 0, mode, out, &e);
}

void cmd_json_safe(struct json_out *j, const char *k, const char *s, size_t len, unsigned mode)
{
	struct ims_buf b;

	ims_buf_init(&b, 0);
	json_key(j, k);
	if (cmd_put_safe(&b, s, len, mode) != IMS_OK)
		json_null(j);
	else
		(void)ims_json_string_n(&j->w, b.data != NULL ? b.data : "", b.len);
	ims_buf_release(&b);
}

void cmd_json_opt(struct json_out *j, const char *k, const char *s)
{
	if (s != NULL) {
		cmd_json_safe(j, k, s, strlen(s), IMS_SANITIZE_LINE);
	} else {
		json_key(j, k);
		json_null(j);
	}
}
