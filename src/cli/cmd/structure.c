/* structure: a message's MIME tree, one line a part. */
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

ims_err cmd_structure(struct cli *c, int argc, char **argv)
{
	static const char u[] = "structure UID";
	struct ropts ro;
	struct tree t;
	struct ims_buf out;
	uint32_t uid = 0;
	size_t i;
	ims_err e = IMS_OK;

	cmd_read_ropts(c, argc, argv, &ro);
	if (ro.npos != 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	if (cmd_parse_uid(c, "structure", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	if ((e = cmd_fetch_structure(c, "structure", uid, &t)) != IMS_OK)
		return e;
	if (ro.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_array(&j);
		for (i = 0; i < t.n; i++) {
			const struct ims_mime_part *p = &t.v[i];
			const char *cs = ims_mime_params_get(&p->params, "charset");
			char type[256];

			snprintf(type, sizeof(type), "%s/%s", p->type, p->subtype);
			json_begin_object(&j);
			cmd_json_safe(&j, "part", p->section, strlen(p->section),
			              IMS_SANITIZE_LINE);
			json_kv_int(&j, "depth", p->depth);
			cmd_json_safe(&j, "type", type, strlen(type), IMS_SANITIZE_LINE);
			cmd_json_opt(&j, "charset", cs);
			cmd_json_opt(&j, "encoding", p->encoding);
			json_key(&j, "size");
			(void)ims_json_uint(&j.w, p->size);
			cmd_json_opt(&j, "disposition", p->disposition);
			cmd_json_opt(&j, "name", p->filename);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_finish(&j);
		cmd_tree_release(&t);
		return cli_stdout_check(c);
	}
	ims_buf_init(&out, 0);
	for (i = 0; i < t.n && e == IMS_OK; i++) {
		const struct ims_mime_part *p = &t.v[i];
		const char *cs = ims_mime_params_get(&p->params, "charset");
		char type[256], hs[32];
		unsigned d;

		snprintf(type, sizeof(type), "%s/%s", p->type, p->subtype);
		if (c->out_tty) {
			for (d = 0; d < p->depth; d++)
				e = ims_buf_puts(&out, "  ");
			if (e == IMS_OK)
				e = cmd_put_safe(&out, p->section[0] != '\0' ? p->section : "-",
				                 p->section[0] != '\0' ? strlen(p->section) : 1,
				                 IMS_SANITIZE_LINE);
			if (e == IMS_OK)
				e = ims_buf_puts(&out, "  ");
			if (e == IMS_OK)
				e = cmd_put_safe(&out, type, strlen(type), IMS_SANITIZE_LINE);
			if (e == IMS_OK && cs != NULL &&
			    (e = ims_buf_puts(&out, "  charset=")) == IMS_OK)
				e = cmd_put_safe(&out, cs, strlen(cs), IMS_SANITIZE_LINE);
			if (e == IMS_OK && p->encoding != NULL &&
			    (e = ims_buf_puts(&out, "  ")) == IMS_OK)
				e = cmd_put_safe(&out, p->encoding, strlen(p->encoding),
				                 IMS_SANITIZE_LINE);
			if (e == IMS_OK && !cmd_is_multipart(p))
				e = ims_buf_printf(&out, "  %s",
				                   ims_size_iec(p->size, hs, sizeof(hs)));
			if (e == IMS_OK && p->disposition != NULL &&
			    (e = ims_buf_puts(&out, "  ")) == IMS_OK)
				e = cmd_put_safe(&out, p->disposition, strlen(p->disposition),
				                 IMS_SANITIZE_LINE);
			if (e == IMS_OK && p->filename != NULL &&
			    (e = ims_buf_puts(&out, "  \"")) == IMS_OK &&
			    (e = cmd_put_safe(&out, p->filename, strlen(p->filename),
			                      IMS_SANITIZE_LINE)) == IMS_OK)
				e = ims_buf_putc(&out, '"');
		} else {
			/* part TAB type TAB charset TAB encoding TAB size TAB name */
			struct tsv r;

			tsv_begin(&r, stdout);
			tsv_field(&r, p->section);
			tsv_field(&r, type);
			tsv_field(&r, cs);
			tsv_field(&r, p->encoding);
			tsv_fieldf(&r, "%" PRIu64, p->size);
			tsv_field(&r, p->filename);
			(void)tsv_end(&r);
			continue;
		}
		if (e == IMS_OK)
			e = ims_buf_putc(&out, '\n');
	}
	cmd_tree_release(&t);
	if (e != IMS_OK) {
		ims_buf_release(&out);
		return ims_error_nomem(&c->err);
	}
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	ims_buf_release(&out);
	return cli_stdout_check(c);
}
