/* copy and move: messages to another folder (COPY, MOVE, or COPY and
 * expunge just those where MOVE is not offered). */
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

/* Walk a sequence set as the server wrote it, in its order (COPYUID pairs
 * the source and destination sets element by element). */
struct set_walk {
	const char *p;
	uint32_t cur, end;
	int active;
};

static int set_next(struct set_walk *w, uint32_t *v_r)
{
	if (!w->active) {
		uint64_t a, b;
		const char *end;

		if (*w->p == ',')
			w->p++;
		end = w->p + strspn(w->p, "0123456789");
		if (ims_number_parse(w->p, (size_t)(end - w->p), 1, IMS_SEQ_MAXNUM, &a) != 0)
			return 0;
		b = a;
		if (*end == ':') {
			const char *q = end + 1;

			end = q + strspn(q, "0123456789");
			if (ims_number_parse(q, (size_t)(end - q), 1, IMS_SEQ_MAXNUM, &b) != 0)
				return 0;
		}
		w->p = end;
		w->cur = (uint32_t)(a < b ? a : b);
		w->end = (uint32_t)(a < b ? b : a);
		w->active = 1;
	}
	*v_r = w->cur;
	if (w->cur == w->end)
		w->active = 0;
	else
		w->cur++;
	return 1;
}

static ims_err copy_common(struct cli *c, int argc, char **argv, int move)
{
	const char *u = move ? "move UIDS FOLDER" : "copy UIDS FOLDER";
	struct ims_search_result res;
	struct ims_copy_result cr;
	struct ims_buf set, wire;
	struct lopts lo;
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos != 2)
		return cmd_usage(c, u);
	if (cmd_msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	ims_search_result_init(&res);
	ims_copy_result_init(&cr);
	ims_buf_init(&set, 0);
	ims_buf_init(&wire, 0);
	cli_safe(lo.pos[1], safe, sizeof(safe));
	e = cli_ready(c);
	if (e == IMS_OK)
		e = cli_mbox_encode(c, lo.pos[1], &wire);
	if (e == IMS_OK)
		e = cmd_resolve_uids(c, move ? "move" : "copy", &m, &res);
	if (e == IMS_OK)
		e = cmd_uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK) {
		if (move)
			e = ims_session_uid_move(c->sess, set.data, wire.data, wire.len, &cr,
			                         &c->err);
		else
			e = ims_session_uid_copy(c->sess, set.data, wire.data, wire.len, &cr,
			                         &c->err);
		e = cmd_folder_hint(c, e);
	}
	if (e == IMS_OK) {
		struct set_walk ws = {cr.src_uids, 0, 0, 0}, wd = {cr.dst_uids, 0, 0, 0};
		uint32_t s, d;
		struct json_out j;

		if (lo.json) {
			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "folder", lo.pos[1]);
			cmd_json_uids(&j, "uids", res.uids, res.n);
			json_kv_bool(&j, "moved", cr.moved);
			json_kv_bool(&j, "left_deleted", cr.left_deleted);
			json_key(&j, "uidvalidity");
			if (cr.have_uids)
				(void)ims_json_uint(&j.w, cr.uidvalidity);
			else
				json_null(&j);
			json_key(&j, "map");
			json_begin_array(&j);
		} else if (c->out_tty && !c->o.quiet) {
			printf("%s %zu message%s to %s\n", move ? "moved" : "copied", res.n,
			       res.n == 1 ? "" : "s", safe);
		}
		while (cr.have_uids && set_next(&ws, &s) && set_next(&wd, &d)) {
			if (lo.json) {
				json_begin_object(&j);
				json_kv_int(&j, "uid", s);
				json_kv_int(&j, "new_uid", d);
				json_end_object(&j);
			} else if (c->out_tty) {
				if (!c->o.quiet)
					printf("  %u -> %u\n", (unsigned)s, (unsigned)d);
			} else {
				struct tsv t;

				tsv_begin(&t, stdout);
				tsv_fieldf(&t, "%u", (unsigned)s);
				tsv_fieldf(&t, "%u", (unsigned)d);
				(void)tsv_end(&t);
			}
		}
		if (lo.json) {
			json_end_array(&j);
			json_end_object(&j);
			json_finish(&j);
		}
		if (cr.left_deleted)
			cli_warn("move: the originals are flagged \\Deleted but still there: the "
			         "server cannot expunge single messages (no UIDPLUS); 'expunge' "
			         "removes them");
		e = cli_stdout_check(c);
	}
	ims_buf_release(&set);
	ims_buf_release(&wire);
	ims_copy_result_release(&cr);
	ims_search_result_release(&res);
	cli_msgarg_release(&m);
	return e;
}

ims_err cmd_copy(struct cli *c, int argc, char **argv)
{
	return copy_common(c, argc, argv, 0);
}

ims_err cmd_move(struct cli *c, int argc, char **argv)
{
	return copy_common(c, argc, argv, 1);
}
