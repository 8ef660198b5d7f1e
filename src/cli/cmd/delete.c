/* delete (flag messages deleted; --expunge removes just those) and
 * expunge. */
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

ims_err cmd_delete(struct cli *c, int argc, char **argv)
{
	static const char u[] = "delete UIDS [--expunge]";
	static const char *const deleted[] = {"\\Deleted"};
	struct ims_search_result res;
	struct ims_buf set;
	struct lopts lo;
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos != 1)
		return cmd_usage(c, u);
	if (cmd_msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	if ((e = cli_ready(c)) != IMS_OK) {
		cli_msgarg_release(&m);
		return e;
	}
	if (lo.expunge && !ims_session_has_cap(c->sess, "UIDPLUS") &&
	    !ims_session_has_cap(c->sess, "IMAP4rev2")) {
		cli_msgarg_release(&m);
		return ims_error_set(&c->err, IMS_ERR_NO,
		                     "delete --expunge: the server cannot expunge single messages "
		                     "(no UIDPLUS); delete, then expunge the folder");
	}
	ims_search_result_init(&res);
	ims_buf_init(&set, 0);
	e = cmd_resolve_uids(c, "delete", &m, &res);
	if (e == IMS_OK)
		e = cmd_uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK && c->interactive) {
		char q[700];

		snprintf(q, sizeof(q), "%s %zu message%s in %s?",
		         lo.expunge ? "delete and expunge" : "delete", res.n, res.n == 1 ? "" : "s",
		         cmd_cur_folder(c, safe, sizeof(safe)));
		if (!cli_confirm(c, q))
			e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "delete: nothing deleted");
	}
	if (e == IMS_OK)
		e = ims_session_uid_store(c->sess, set.data, IMS_STORE_ADD, deleted, 1, 1, NULL,
		                          &c->err);
	if (e == IMS_OK && lo.expunge)
		e = ims_session_uid_expunge(c->sess, set.data, &c->err);
	if (e == IMS_OK) {
		if (lo.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			cmd_json_uids(&j, "uids", res.uids, res.n);
			json_kv_bool(&j, "expunged", lo.expunge);
			json_end_object(&j);
			json_finish(&j);
		} else if (c->out_tty && !c->o.quiet) {
			printf("%s %zu message%s%s\n", lo.expunge ? "deleted" : "flagged", res.n,
			       res.n == 1 ? "" : "s",
			       lo.expunge ? "" : " \\Deleted ('expunge' removes them)");
		}
		e = cli_stdout_check(c);
	}
	ims_buf_release(&set);
	ims_search_result_release(&res);
	cli_msgarg_release(&m);
	return e;
}

ims_err cmd_expunge(struct cli *c, int argc, char **argv)
{
	static const char u[] = "expunge";
	struct lopts lo;
	uint64_t n = 0;
	char safe[512];
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos != 0)
		return cmd_usage(c, u);
	if ((e = cli_ready(c)) != IMS_OK)
		return e;
	cmd_cur_folder(c, safe, sizeof(safe));
	if (c->interactive) {
		char q[700];

		snprintf(q, sizeof(q), "remove every message flagged \\Deleted from %s?", safe);
		if (!cli_confirm(c, q))
			return ims_error_set(&c->err, IMS_ERR_CANCELLED,
			                     "expunge: nothing removed");
	}
	e = ims_session_expunge(c->sess, &n, &c->err);
	if (e != IMS_OK)
		return e;
	if (lo.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "folder", c->folder);
		json_kv_int(&j, "expunged", (int64_t)n);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty && !c->o.quiet) {
		printf("expunged %llu message%s from %s\n", (unsigned long long)n,
		       n == 1 ? "" : "s", safe);
	}
	return cli_stdout_check(c);
}
