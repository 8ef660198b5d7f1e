/* select, examine (open a folder) and status (a folder's counters). */
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

#define BOLD (c->color ? "\033[1m" : "")
#define NORM (c->color ? "\033[0m" : "")

static ims_err open_folder(struct cli *c, const char *verb, const char *name, int rw)
{
	const struct ims_folder *f;
	struct ims_search_result sr;
	struct ims_arg key = {IMS_ARG_RAW, "UNSEEN", 0};
	struct ims_error serr;
	int have_unseen = 0;
	uint32_t unseen = 0, exists;
	char safe[512];
	size_t i;
	ims_err e;

	e = cli_select(c, name, rw);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, verb, name);
	f = ims_session_folder(c->sess);
	if (f == NULL)
		return ims_error_set(&c->err, IMS_ERR_PROTOCOL, "%s %s: no folder selected", verb,
		                     cli_safe(name, safe, sizeof(safe)));
	exists = f->exists;
	/* SELECT gives the first unseen message, not how many: count them. */
	if (exists == 0) {
		have_unseen = 1;
	} else {
		ims_search_result_init(&sr);
		e = ims_session_uid_search(c->sess, &key, 1, &sr, &serr);
		if (e == IMS_OK) {
			have_unseen = 1;
			unseen = (uint32_t)sr.n;
		}
		ims_search_result_release(&sr);
		if (e != IMS_OK && e != IMS_ERR_NO) {
			ims_error_copy(&c->err, &serr);
			return e;
		}
	}
	f = ims_session_folder(c->sess);
	if (f == NULL)
		return ims_error_set(&c->err, IMS_ERR_NO, "%s %s: the folder was closed", verb,
		                     cli_safe(name, safe, sizeof(safe)));
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "name", name);
		json_kv_bool(&j, "read_only", f->read_only);
		cmd_json_kv_u64(&j, "messages", 1, f->exists);
		cmd_json_kv_u64(&j, "recent", 1, f->recent);
		cmd_json_kv_u64(&j, "unseen", have_unseen, unseen);
		cmd_json_kv_u64(&j, "uidvalidity", f->have & IMS_FOLDER_UIDVALIDITY,
		                f->uidvalidity);
		cmd_json_kv_u64(&j, "uidnext", f->have & IMS_FOLDER_UIDNEXT, f->uidnext);
		if (f->have & IMS_FOLDER_HIGHESTMODSEQ)
			cmd_json_kv_u64(&j, "highestmodseq", 1, f->highestmodseq);
		json_key(&j, "flags");
		json_begin_array(&j);
		for (i = 0; i < f->n_flags; i++)
			json_str(&j, f->flags[i]);
		json_end_array(&j);
		json_key(&j, "permanentflags");
		if (f->have & IMS_FOLDER_PERMANENTFLAGS) {
			json_begin_array(&j);
			for (i = 0; i < f->n_permanentflags; i++)
				json_str(&j, f->permanentflags[i]);
			json_end_array(&j);
		} else {
			json_null(&j);
		}
		json_end_object(&j);
		json_finish(&j);
		return IMS_OK;
	}
	if (c->o.quiet)
		return IMS_OK;
	if (c->out_tty) {
		printf("%s%s%s: %u message%s, ", BOLD, cli_safe(name, safe, sizeof(safe)), NORM,
		       (unsigned)f->exists, f->exists == 1 ? "" : "s");
		if (have_unseen)
			printf("%u unseen, ", (unsigned)unseen);
		printf("%u recent; %s", (unsigned)f->recent,
		       f->read_only ? "read-only" : "read-write");
		if (f->have & IMS_FOLDER_UIDVALIDITY)
			printf("; uidvalidity %u", (unsigned)f->uidvalidity);
		if (f->have & IMS_FOLDER_UIDNEXT)
			printf(", uidnext %u", (unsigned)f->uidnext);
		putchar('\n');
		return IMS_OK;
	}
	tsv_kv(stdout, 0, "name", name);
	tsv_kv(stdout, 0, "access", f->read_only ? "read-only" : "read-write");
	cmd_kv_u64(stdout, "messages", f->exists);
	cmd_kv_u64(stdout, "recent", f->recent);
	if (have_unseen)
		cmd_kv_u64(stdout, "unseen", unseen);
	if (f->have & IMS_FOLDER_UIDVALIDITY)
		cmd_kv_u64(stdout, "uidvalidity", f->uidvalidity);
	if (f->have & IMS_FOLDER_UIDNEXT)
		cmd_kv_u64(stdout, "uidnext", f->uidnext);
	return IMS_OK;
}

ims_err cmd_select(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return open_folder(c, "select", argv[1], 1);
}

ims_err cmd_examine(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return open_folder(c, "examine", argv[1], 0);
}

static uint64_t status_value(const struct ims_status_values *v, unsigned bit)
{
	switch (bit) {
	case IMS_STATUS_MESSAGES: return v->messages;
	case IMS_STATUS_RECENT: return v->recent;
	case IMS_STATUS_UNSEEN: return v->unseen;
	case IMS_STATUS_UIDNEXT: return v->uidnext;
	case IMS_STATUS_UIDVALIDITY: return v->uidvalidity;
	case IMS_STATUS_SIZE: return v->size;
	}
	return 0;
}

ims_err cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct {
		unsigned bit;
		const char *name;
	} items[] = {
	    {IMS_STATUS_MESSAGES, "messages"},       {IMS_STATUS_RECENT, "recent"},
	    {IMS_STATUS_UNSEEN, "unseen"},           {IMS_STATUS_UIDNEXT, "uidnext"},
	    {IMS_STATUS_UIDVALIDITY, "uidvalidity"}, {IMS_STATUS_SIZE, "size"},
	};
	const char *name = argc > 1 ? argv[1] : cmd_default_folder(c);
	struct ims_status_values v;
	struct ims_buf wire;
	char folder[512];
	size_t i;
	ims_err e;

	/* name may point at c->folder, which a failure below would clear. */
	snprintf(folder, sizeof(folder), "%s", name);
	e = cmd_folder_encode(c, folder, &wire);
	if (e == IMS_OK)
		e = ims_session_status(c->sess, wire.data, wire.len, 0, &v, &c->err);
	if (e == IMS_OK && folder[0] == ':') { /* a role: show the folder's own name */
		struct ims_buf b;

		ims_buf_init(&b, 0);
		if (cli_mbox_decode(c, wire.data, wire.len, &b) == IMS_OK &&
		    ims_buf_putc(&b, '\0') == IMS_OK)
			snprintf(folder, sizeof(folder), "%s", b.data);
		ims_buf_release(&b);
	}
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return cmd_folder_fail(c, e, "status", folder);
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "name", folder);
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			cmd_json_kv_u64(&j, items[i].name, (v.have & items[i].bit) != 0,
			                status_value(&v, items[i].bit));
		}
		json_end_object(&j);
		json_finish(&j);
		return IMS_OK;
	}
	tsv_kv(stdout, c->out_tty, "name", folder);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		uint64_t x = status_value(&v, items[i].bit);
		char hs[32];

		if ((v.have & items[i].bit) == 0)
			continue;
		if (!c->out_tty)
			cmd_kv_u64(stdout, items[i].name, x);
		else if (items[i].bit == IMS_STATUS_SIZE)
			printf("%-12s %s (%llu bytes)\n", items[i].name,
			       ims_size_iec(x, hs, sizeof(hs)), (unsigned long long)x);
		else
			printf("%-12s %llu\n", items[i].name, (unsigned long long)x);
	}
	return IMS_OK;
}
