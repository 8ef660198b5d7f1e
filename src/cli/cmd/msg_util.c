/* What the message commands share: their options read back, message
 * arguments (msgarg.h) resolved to the UIDs that exist, flag words,
 * the TRYCREATE hint. */
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

ims_err cmd_usage(struct cli *c, const char *u)
{
	return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
}

void cmd_read_lopts(struct cli *c, int argc, char **argv, struct lopts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->json = c->o.json;
	lo->output = c->o.output;
	lo->expunge = cli_opt_flag(&c->args, "expunge");
	lo->flags = cli_opt_str(&c->args, "flags");
	lo->date = cli_opt_str(&c->args, "date");
	lo->pos = argv + 1;
	lo->npos = argc - 1;
	if (lo->output != NULL && strcmp(lo->output, "-") == 0)
		lo->output = NULL;
}

const char *cmd_cur_folder(struct cli *c, char *buf, size_t n)
{
	return cli_safe(c->folder[0] != '\0' ? c->folder : "the folder", buf, n);
}

ims_err cmd_msgarg_parse(struct cli *c, const char *word, struct cli_msgarg *m)
{
	cli_msgarg_init(m);
	return cli_msgarg_parse(word, m, &c->err);
}

ims_err cmd_resolve_uids(struct cli *c, const char *what, const struct cli_msgarg *m,
                         struct ims_search_result *res)
{
	struct ims_arg keys[2];
	size_t n = 0;
	char safe[512];
	ims_err e;

	if (!m->seq)
		keys[n++] = (struct ims_arg){IMS_ARG_RAW, "UID", 0};
	keys[n++] = (struct ims_arg){IMS_ARG_RAW, m->set.data, 0};
	e = ims_session_uid_search(c->sess, keys, n, res, &c->err);
	if (e != IMS_OK)
		return e;
	if (res->n == 0)
		return ims_error_set(&c->err, IMS_ERR_NO, "%s: no message %s%s in %s", what,
		                     m->seq ? "#" : "with UID ", m->set.data,
		                     cmd_cur_folder(c, safe, sizeof(safe)));
	return IMS_OK;
}

ims_err cmd_uids_format(struct cli *c, const uint32_t *uids, size_t n, struct ims_buf *out)
{
	struct ims_seqset s;
	struct ims_error e;
	ims_err r;

	ims_seqset_init(&s);
	r = ims_seqset_add_list(&s, uids, n, &e);
	if (r == IMS_OK)
		r = ims_seqset_format(&s, out, &e);
	ims_seqset_release(&s);
	if (r != IMS_OK)
		return ims_error_set(&c->err, r, "%s", e.msg);
	return IMS_OK;
}

ims_err cmd_flag_word(struct cli *c, const char *w, const char **flag_r)
{
	static const char *const sys[][2] = {{"seen", "\\Seen"},
	                                     {"flagged", "\\Flagged"},
	                                     {"answered", "\\Answered"},
	                                     {"deleted", "\\Deleted"},
	                                     {"draft", "\\Draft"}};
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strcasecmp(w, sys[i][0]) == 0 || strcasecmp(w, sys[i][1]) == 0) {
			*flag_r = sys[i][1];
			return IMS_OK;
		}
	if (w[0] == '\\')
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "'%s' is not a flag that can be set (seen, flagged, answered, "
		                     "deleted, draft, or a keyword)",
		                     w);
	if (w[0] == '\0')
		return ims_error_set(&c->err, IMS_ERR_USAGE, "an empty flag");
	for (p = w; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
			return ims_error_set(
			    &c->err, IMS_ERR_USAGE,
			    "keyword '%s': only printable ASCII without spaces and "
			    "(){%%*\"\\]",
			    ch >= 0x20 && ch < 0x7f ? w : "(unprintable)");
	}
	*flag_r = w;
	return IMS_OK;
}

ims_err cmd_folder_hint(struct cli *c, ims_err e)
{
	if (e == IMS_ERR_NO && c->sess != NULL &&
	    ims_session_last_code(c->sess) == IMS_CODE_TRYCREATE) {
		char msg[IMS_ERROR_MAX];

		snprintf(msg, sizeof(msg), "%s", c->err.msg);
		return ims_error_set(&c->err, e,
		                     "%s (the folder does not exist: create it with mkdir)", msg);
	}
	return e;
}

void cmd_json_uids(struct json_out *j, const char *key, const uint32_t *v, size_t n)
{
	size_t i;

	json_key(j, key);
	json_begin_array(j);
	for (i = 0; i < n; i++)
		(void)ims_json_uint(&j->w, v[i]);
	json_end_array(j);
}
