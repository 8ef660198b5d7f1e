/* What the folder commands share: failures named by the folder as typed,
 * records, and the folder a command without FOLDER works on. */
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

ims_err cmd_folder_fail(struct cli *c, ims_err e, const char *verb, const char *name)
{
	char why[IMS_ERROR_MAX];
	char safe[512];
	const char *p;

	if (e == IMS_OK)
		return e;
	p = strstr(c->err.msg, "the server said");
	if (p == NULL)
		return e;
	snprintf(why, sizeof(why), "%s", p);
	if (name != NULL)
		return ims_error_set(&c->err, e, "%s %s: %s", verb,
		                     cli_safe(name, safe, sizeof(safe)), why);
	return ims_error_set(&c->err, e, "%s: %s", verb, why);
}

void cmd_kv_u64(FILE *f, const char *key, uint64_t v)
{
	struct tsv t;

	tsv_begin(&t, f);
	tsv_field(&t, key);
	tsv_fieldf(&t, "%llu", (unsigned long long)v);
	(void)tsv_end(&t);
}

void cmd_pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

void cmd_json_kv_u64(struct json_out *j, const char *k, int have, uint64_t v)
{
	json_key(j, k);
	if (have)
		(void)ims_json_uint(&j->w, v);
	else
		json_null(j);
}

const char *cmd_default_folder(struct cli *c)
{
	if (c->folder[0] != '\0')
		return c->folder;
	if (c->o.folder != NULL)
		return c->o.folder;
	return "INBOX";
}

ims_err cmd_folder_encode(struct cli *c, const char *name, struct ims_buf *wire)
{
	ims_buf_init(wire, 0);
	return cli_mbox_encode(c, name, wire);
}
