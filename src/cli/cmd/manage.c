/* mkdir, rmdir, rename, subscribe and unsubscribe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/output.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/textwidth.h"
#include "imapsh/units.h"

/* The result of a command that changes a folder: a JSON object, or a
 * word on a terminal; nothing on a pipe. */
static void done(struct cli *c, const char *key, const char *name, const char *bkey, int bval,
                 const char *words)
{
	char safe[512];

	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, key, name);
		json_kv_bool(&j, bkey, bval);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty && !c->o.quiet) {
		printf("%s %s\n", words, cli_safe(name, safe, sizeof(safe)));
	}
}

ims_err cmd_mkdir(struct cli *c, int argc, char **argv)
{
	const char *name = argv[1];
	struct ims_buf wire;
	ims_err e;

	(void)argc;
	e = cmd_folder_encode(c, name, &wire);
	if (e == IMS_OK)
		e = ims_session_create(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, "mkdir", name);
	cli_folders_update(c, &name, 1, NULL, 0);
	done(c, "name", name, "created", 1, "created");
	return IMS_OK;
}

ims_err cmd_rmdir(struct cli *c, int argc, char **argv)
{
	const char *name = argv[1];
	struct ims_buf wire;
	char safe[512];
	ims_err e;

	(void)argc;
	e = cmd_folder_encode(c, name, &wire);
	if (e != IMS_OK) {
		ims_buf_release(&wire);
		return e;
	}
	if (c->interactive) {
		struct ims_status_values v;
		struct ims_error serr;
		char q[700];

		cli_safe(name, safe, sizeof(safe));
		e = ims_session_status(c->sess, wire.data, wire.len, IMS_STATUS_MESSAGES, &v,
		                       &serr);
		if (e == IMS_OK && v.messages > 0)
			snprintf(q, sizeof(q), "delete folder %s and its %u message%s?", safe,
			         (unsigned)v.messages, v.messages == 1 ? "" : "s");
		else
			snprintf(q, sizeof(q), "delete folder %s?", safe);
		if (e != IMS_OK && e != IMS_ERR_NO) {
			ims_buf_release(&wire);
			ims_error_copy(&c->err, &serr);
			return e;
		}
		if (!cli_confirm(c, q)) {
			ims_buf_release(&wire);
			return ims_error_set(&c->err, IMS_ERR_CANCELLED, "rmdir %s: not deleted",
			                     safe);
		}
	}
	/* Servers may drop a connection whose selected folder is deleted
	 * (Dovecot does): step out to INBOX first, as one leaves a directory
	 * before removing it. */
	if (c->folder[0] != '\0' && strcmp(c->folder, name) == 0 &&
	    ims_session_folder(c->sess) != NULL && strcasecmp(name, "INBOX") != 0) {
		e = cli_select(c, "INBOX", 0);
		if (e != IMS_OK) {
			ims_buf_release(&wire);
			return cmd_folder_fail(c, e, "rmdir: examine", "INBOX");
		}
	}
	e = ims_session_delete(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, "rmdir", name);
	cli_folders_update(c, NULL, 0, name, 0);
	done(c, "name", name, "deleted", 1, "deleted");
	return IMS_OK;
}

ims_err cmd_rename(struct cli *c, int argc, char **argv)
{
	const char *from = argv[1], *to = argv[2];
	struct ims_buf w1, w2;
	ims_err e;

	(void)argc;
	ims_buf_init(&w2, 0);
	e = cmd_folder_encode(c, from, &w1);
	if (e == IMS_OK)
		e = cli_mbox_encode(c, to, &w2);
	if (e == IMS_OK)
		e = ims_session_rename(c->sess, w1.data, w1.len, w2.data, w2.len, &c->err);
	ims_buf_release(&w1);
	ims_buf_release(&w2);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, "rename", from);
	cli_folders_update(c, &to, 1, strcasecmp(from, "INBOX") == 0 ? NULL : from, 0);
	if (strcmp(c->folder, from) == 0 && strcasecmp(from, "INBOX") != 0)
		snprintf(c->folder, sizeof(c->folder), "%s", to);
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "from", from);
		json_kv_str(&j, "to", to);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty && !c->o.quiet) {
		char s1[512], s2[512];

		printf("renamed %s to %s\n", cli_safe(from, s1, sizeof(s1)),
		       cli_safe(to, s2, sizeof(s2)));
	}
	return IMS_OK;
}

static ims_err subscription(struct cli *c, const char *name, int on)
{
	struct ims_buf wire;
	ims_err e;

	e = cmd_folder_encode(c, name, &wire);
	if (e == IMS_OK)
		e = on ? ims_session_subscribe(c->sess, wire.data, wire.len, &c->err)
		       : ims_session_unsubscribe(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, on ? "subscribe" : "unsubscribe", name);
	done(c, "name", name, "subscribed", on, on ? "subscribed to" : "unsubscribed from");
	return IMS_OK;
}

ims_err cmd_subscribe(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return subscription(c, argv[1], 1);
}

ims_err cmd_unsubscribe(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return subscription(c, argv[1], 0);
}
