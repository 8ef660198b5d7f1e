/* The folder commands' table (folders, select/examine, status, mkdir,
 * rmdir, rename, subscribe, unsubscribe and quota: one file each or a
 * close family in src/cli/cmd/) and folders itself.
 *
 * Folder names from the user are UTF-8 and go to the wire through
 * cli_mbox_encode(); names from the server are decoded with
 * cli_mbox_decode() and shown sanitised, on a terminal and on a pipe (a
 * field of a tab-separated record, output.h): controls in caret notation
 * ("^I", "^J", "^?"), C1, bidi and invisible characters as "<U+202E>",
 * so a name can never break a record or act on a terminal; --json is the
 * lossless form. */
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

/* A name for the output, made safe, appended to out (see the file
 * comment). */
static ims_err name_out(struct cli *c, const char *s, size_t len, struct ims_buf *out)
{
	struct ims_error e;

	(void)c;
	return ims_sanitize(s, len, IMS_SANITIZE_LINE, out, &e);
}

/* ---- folders ------------------------------------------------------------ */

struct frow {
	char *name; /* UTF-8, decoded */
	const struct ims_mailbox_info *mi;
	int have_counts;
	uint32_t messages, unseen;
	char role[16];
};

/* INBOX first, then by name, a hierarchy delimiter sorting before any
 * other character so that children follow their parent. */
static int frow_cmp(const void *a, const void *b)
{
	const struct frow *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name;
	const unsigned char *q = (const unsigned char *)y->name;
	int xi = strcasecmp(x->name, "INBOX") == 0, yi = strcasecmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return yi - xi;
	for (; *p != '\0' && *p == *q; p++, q++)
		;
	if (*p == *q)
		return 0;
	if (*p != '\0' && *p == (unsigned char)x->mi->delim)
		return *q == '\0' ? 1 : -1;
	if (*q != '\0' && *q == (unsigned char)y->mi->delim)
		return *p == '\0' ? -1 : 1;
	return (int)*p - (int)*q;
}

/* IMAP LIST wildcards over decoded names: '*' matches anything, '%'
 * anything but the hierarchy delimiter. */
static int glob_match(const char *p, const char *s, char delim)
{
	for (; *p != '\0'; p++) {
		if (*p == '*' || *p == '%') {
			int star = *p == '*';

			for (;;) {
				if (glob_match(p + 1, s, delim))
					return 1;
				if (*s == '\0' || (!star && delim != 0 && *s == delim))
					return 0;
				s++;
			}
		}
		if (*s != *p)
			return 0;
		s++;
	}
	return *s == '\0';
}

static const struct {
	unsigned bit;
	const char *name;
} list_attr_names[] = {
    {IMS_LIST_NOINFERIORS, "\\Noinferiors"}, {IMS_LIST_NOSELECT, "\\Noselect"},
    {IMS_LIST_MARKED, "\\Marked"},           {IMS_LIST_UNMARKED, "\\Unmarked"},
    {IMS_LIST_HASCHILDREN, "\\HasChildren"}, {IMS_LIST_HASNOCHILDREN, "\\HasNoChildren"},
    {IMS_LIST_NONEXISTENT, "\\NonExistent"}, {IMS_LIST_SUBSCRIBED, "\\Subscribed"},
    {IMS_LIST_REMOTE, "\\Remote"},
};

static int selectable(const struct ims_mailbox_info *mi)
{
	return (mi->attrs & (IMS_LIST_NOSELECT | IMS_LIST_NONEXISTENT)) == 0;
}

static void folders_json(struct frow *rows, size_t n)
{
	struct json_out j;
	size_t i, k;

	json_init(&j, stdout);
	json_begin_array(&j);
	for (i = 0; i < n; i++) {
		const struct frow *r = &rows[i];
		char d[2] = {r->mi->delim, 0};

		json_begin_object(&j);
		json_kv_str(&j, "name", r->name);
		json_key(&j, "delimiter");
		if (d[0] != 0)
			json_str(&j, d);
		else
			json_null(&j);
		json_key(&j, "role");
		if (r->role[0] != '\0')
			json_str(&j, r->role);
		else
			json_null(&j);
		cmd_json_kv_u64(&j, "messages", r->have_counts, r->messages);
		cmd_json_kv_u64(&j, "unseen", r->have_counts, r->unseen);
		json_kv_bool(&j, "selectable", selectable(r->mi));
		json_key(&j, "attributes");
		json_begin_array(&j);
		for (k = 0; k < sizeof(list_attr_names) / sizeof(list_attr_names[0]); k++)
			if (r->mi->attrs & list_attr_names[k].bit)
				json_str(&j, list_attr_names[k].name);
		json_end_array(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_finish(&j);
}

static ims_err folders_text(struct cli *c, struct frow *rows, size_t n)
{
	struct ims_buf *shown = calloc(n + 1, sizeof(*shown));
	size_t i, wn = strlen("Folder"), wr = strlen("Role"), wm = strlen("Messages");
	size_t wu = strlen("Unseen");
	ims_err e = IMS_OK;

	if (shown == NULL)
		return ims_error_nomem(&c->err);
	for (i = 0; i < n && e == IMS_OK; i++) {
		char num[24];

		ims_buf_init(&shown[i], 0);
		e = name_out(c, rows[i].name, strlen(rows[i].name), &shown[i]);
		if (e == IMS_OK && shown[i].data == NULL)
			e = ims_buf_puts(&shown[i], "");
		if (e != IMS_OK || !c->out_tty)
			continue;
		if (ims_text_width(shown[i].data) > wn)
			wn = ims_text_width(shown[i].data);
		if (strlen(rows[i].role) > wr)
			wr = strlen(rows[i].role);
		if (rows[i].have_counts) {
			if ((size_t)snprintf(num, sizeof(num), "%u", (unsigned)rows[i].messages) >
			    wm)
				wm = strlen(num);
			if ((size_t)snprintf(num, sizeof(num), "%u", (unsigned)rows[i].unseen) > wu)
				wu = strlen(num);
		}
	}
	if (e == IMS_OK && c->out_tty && n > 0) {
		printf("%s%-*s  %-*s  %*s  %*s%s\n", BOLD, (int)wn, "Folder", (int)wr, "Role",
		       (int)wm, "Messages", (int)wu, "Unseen", NORM);
	}
	for (i = 0; i < n && e == IMS_OK; i++) {
		const struct frow *r = &rows[i];

		if (!c->out_tty) {
			struct tsv t;

			tsv_begin(&t, stdout);
			tsv_field(&t, rows[i].name);
			tsv_field(&t, r->role);
			if (r->have_counts) {
				tsv_fieldf(&t, "%u", (unsigned)r->messages);
				tsv_fieldf(&t, "%u", (unsigned)r->unseen);
			} else {
				tsv_field(&t, NULL);
				tsv_field(&t, NULL);
			}
			(void)tsv_end(&t);
			continue;
		}
		fputs(shown[i].data, stdout);
		cmd_pad(ims_text_width(shown[i].data), wn + 2);
		printf("%-*s  ", (int)wr, r->role);
		if (!r->have_counts) {
			printf("%*s  %*s\n", (int)wm, "-", (int)wu, "-");
			continue;
		}
		printf("%*u  %s%*u%s\n", (int)wm, (unsigned)r->messages, r->unseen > 0 ? BOLD : "",
		       (int)wu, (unsigned)r->unseen, r->unseen > 0 ? NORM : "");
	}
	for (i = 0; i < n; i++)
		ims_buf_release(&shown[i]);
	free(shown);
	return e == IMS_OK ? IMS_OK : ims_error_nomem(&c->err);
}

/* STATUS (MESSAGES UNSEEN), pipelined, for the folders LIST-STATUS did
 * not answer for.  A folder the server refuses keeps no counts. */
static ims_err folders_status(struct cli *c, struct frow *rows, size_t n)
{
	const char **names = calloc(n + 1, sizeof(*names));
	size_t *lens = calloc(n + 1, sizeof(*lens));
	size_t *idx = calloc(n + 1, sizeof(*idx));
	struct ims_status_values *vals = calloc(n + 1, sizeof(*vals));
	ims_err *errs = calloc(n + 1, sizeof(*errs));
	size_t i, k = 0;
	ims_err e = IMS_OK;

	if (names == NULL || lens == NULL || idx == NULL || vals == NULL || errs == NULL) {
		e = ims_error_nomem(&c->err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (rows[i].have_counts || !selectable(rows[i].mi))
			continue;
		names[k] = rows[i].mi->name;
		lens[k] = rows[i].mi->name_len;
		idx[k++] = i;
	}
	if (k == 0)
		goto out;
	e = ims_session_status_many(c->sess, names, lens, k,
	                            IMS_STATUS_MESSAGES | IMS_STATUS_UNSEEN, vals, errs, &c->err);
	if (e == IMS_ERR_NO) {
		ims_error_init(&c->err);
		e = IMS_OK;
	}
	for (i = 0; e == IMS_OK && i < k; i++) {
		struct frow *r = &rows[idx[i]];

		if (errs[i] != IMS_OK || (vals[i].have & IMS_STATUS_MESSAGES) == 0)
			continue;
		r->have_counts = 1;
		r->messages = vals[i].messages;
		r->unseen = vals[i].unseen;
	}
out:
	free(names);
	free(lens);
	free(idx);
	free(vals);
	free(errs);
	return e;
}

/* The warning for a server's folder name that cannot be used: the name
 * shown sanitised, with its length (a NUL shows as ^@). */
static void warn_unusable(const char *what, const char *raw, size_t len)
{
	struct ims_buf b;
	struct ims_error e;

	ims_buf_init(&b, 0);
	if (ims_sanitize(raw, len > 200 ? 200 : len, IMS_SANITIZE_LINE, &b, &e) != IMS_OK ||
	    b.data == NULL)
		ims_buf_reset(&b);
	cli_warn("%s: skipped the folder name '%s%s' from the server: it holds a NUL or is not "
	         "modified UTF-7, so it could not be sent back",
	         what, b.data != NULL ? b.data : "", len > 200 ? "..." : "");
	ims_buf_release(&b);
}

/* The LIST pattern on the wire.  Without UTF8=ACCEPT a pattern with
 * non-ASCII characters cannot be matched on the wire (modified UTF-7
 * groups characters in base64 runs, so "送信*" is not a prefix of
 * "送信済み"): ask for everything under its ASCII beginning (*local_r
 * set) and match the decoded names here. */
static ims_err folders_pattern(struct cli *c, const char *pattern, struct ims_buf *wire,
                               int *local_r)
{
	size_t i, cut = strlen(pattern);
	char *head;
	ims_err e;

	*local_r = 0;
	if (!ims_session_utf8(c->sess)) {
		for (i = 0; pattern[i] != '\0'; i++)
			if ((unsigned char)pattern[i] >= 0x80)
				break;
		if (pattern[i] != '\0') {
			cut = i;
			*local_r = 1;
		}
	}
	if (!*local_r)
		return cli_mbox_encode(c, pattern, wire);
	head = strdup(pattern);
	if (head == NULL)
		return ims_error_nomem(&c->err);
	head[cut] = '\0';
	e = cli_mbox_encode(c, head, wire);
	free(head);
	if (e == IMS_OK && ims_buf_putc(wire, '*') != IMS_OK)
		e = ims_error_nomem(&c->err);
	return e;
}

/* A row's counts (LIST-STATUS) and special-use role, in lower case. */
static void frow_fill(struct frow *r, const struct ims_mailbox_info *mi)
{
	size_t k;

	r->mi = mi;
	if (mi->has_status && (mi->status.have & IMS_STATUS_MESSAGES)) {
		r->have_counts = 1;
		r->messages = mi->status.messages;
		r->unseen = mi->status.unseen;
	}
	if (mi->special_use != NULL) {
		const char *s = mi->special_use + (mi->special_use[0] == '\\');

		for (k = 0; s[k] != '\0' && k + 1 < sizeof(r->role); k++)
			r->role[k] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
		r->role[k] = '\0';
	}
}

/* The rows of the LIST answer, names decoded (and matched here when
 * local); a name that cannot be used is skipped with a warning and
 * counted in *skipped_r, not the list. */
static ims_err folders_rows(struct cli *c, const struct ims_list_result *res, const char *pattern,
                            int local, struct frow *rows, size_t *n_r, size_t *skipped_r)
{
	size_t i, n = 0;
	ims_err e;

	for (i = 0; i < res->n; i++) {
		const struct ims_mailbox_info *mi = &res->v[i];
		struct frow *r = &rows[n];
		struct ims_buf b;

		ims_buf_init(&b, 0);
		e = cli_mbox_from_server(c, mi->name, mi->name_len, &b);
		if (e == IMS_ERR_PROTOCOL) {
			warn_unusable("folders", mi->name, mi->name_len);
			ims_buf_release(&b);
			(*skipped_r)++;
			continue;
		}
		if (e != IMS_OK || (r->name = ims_buf_take(&b, NULL)) == NULL) {
			ims_buf_release(&b);
			*n_r = n;
			return ims_error_nomem(&c->err);
		}
		if (local && !glob_match(pattern, r->name, mi->delim)) {
			free(r->name);
			r->name = NULL;
			continue;
		}
		frow_fill(r, mi);
		n++;
	}
	*n_r = n;
	return IMS_OK;
}

/* The rows counted, sorted and printed; the names become the shell's
 * folder cache (all of it when the pattern was "*"). */
static ims_err folders_show(struct cli *c, struct frow *rows, size_t n, const char **names, int all)
{
	size_t i;
	ims_err e = folders_status(c, rows, n);

	if (e != IMS_OK)
		return e;
	qsort(rows, n, sizeof(*rows), frow_cmp);
	if (c->o.json)
		folders_json(rows, n);
	else
		e = folders_text(c, rows, n);
	if (e != IMS_OK)
		return e;
	for (i = 0; i < n; i++)
		names[i] = rows[i].name;
	cli_folders_update(c, names, n, NULL, all);
	return IMS_OK;
}

static ims_err cmd_folders(struct cli *c, int argc, char **argv)
{
	const char *pattern = argc > 1 ? argv[1] : "*";
	struct ims_list_result res;
	struct ims_buf wire;
	struct frow *rows = NULL;
	const char **names = NULL;
	size_t i, n = 0, skipped = 0;
	int local = 0;
	ims_err e;

	ims_buf_init(&wire, 0);
	e = folders_pattern(c, pattern, &wire, &local);
	if (e != IMS_OK) {
		ims_buf_release(&wire);
		return e;
	}
	ims_list_result_init(&res);
	e = ims_session_list(c->sess, "", wire.data, IMS_LISTF_STATUS | IMS_LISTF_SPECIAL_USE, &res,
	                     &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK) {
		e = cmd_folder_fail(c, e, "folders", argc > 1 ? pattern : NULL);
		goto out;
	}
	rows = calloc(res.n + 1, sizeof(*rows));
	names = calloc(res.n + 1, sizeof(*names));
	if (rows == NULL || names == NULL) {
		e = ims_error_nomem(&c->err);
		goto out;
	}
	e = folders_rows(c, &res, pattern, local, rows, &n, &skipped);
	if (e == IMS_OK)
		e = folders_show(c, rows, n, names, argc == 1 || strcmp(pattern, "*") == 0);
	if (e != IMS_OK)
		goto out;
	if (n == 0 && argc > 1) {
		char safe[512];

		e = ims_error_set(&c->err, IMS_ERR_NO, "folders %s: no folder matches",
		                  cli_safe(pattern, safe, sizeof(safe)));
	}
	if (e == IMS_OK && skipped > 0)
		e = ims_error_set(&c->err, IMS_ERR_PROTOCOL,
		                  "folders: the server sent %zu folder name%s that cannot be used; "
		                  "the others are listed",
		                  skipped, skipped == 1 ? "" : "s");
out:
	if (rows != NULL)
		for (i = 0; i < res.n; i++)
			free(rows[i].name);
	free(rows);
	free(names);
	ims_list_result_release(&res);
	return e;
}

/* clang-format off */
static const struct cli_cmd folder_cmds[] = {
	{ .name = "folders", .aliases = { "ls" }, .usage = "folders [PATTERN]",
	  .summary = "folders: name, special-use role, messages, unseen (PATTERN: * and %)",
	  .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_folders,
	  .options = cli_opts_json },
	{ .name = "select", .aliases = { "cd" }, .usage = "select FOLDER",
	  .summary = "open a folder read-write", .min_args = 1, .max_args = 1,
	  .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_select,
	  .options = cli_opts_json },
	{ .name = "examine", .usage = "examine FOLDER", .summary = "open a folder read-only",
	  .min_args = 1, .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_examine,
	  .options = cli_opts_json },
	{ .name = "status", .usage = "status [FOLDER]",
	  .summary = "messages, recent, unseen, uidnext, uidvalidity, size where offered",
	  .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_status,
	  .options = cli_opts_json },
	{ .name = "mkdir", .usage = "mkdir FOLDER", .summary = "create a folder",
	  .min_args = 1, .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_mkdir,
	  .options = cli_opts_json },
	{ .name = "rmdir", .usage = "rmdir FOLDER",
	  .summary = "delete a folder and the messages in it", .min_args = 1, .max_args = 1,
	  .flags = CMD_LOGIN | CMD_DESTRUCTIVE | CMD_NAMES, .run = cmd_rmdir,
	  .options = cli_opts_json },
	{ .name = "rename", .usage = "rename OLD NEW", .summary = "rename a folder",
	  .min_args = 2, .max_args = 2, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_rename,
	  .options = cli_opts_json },
	{ .name = "subscribe", .usage = "subscribe FOLDER", .summary = "subscribe to a folder",
	  .min_args = 1, .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_subscribe,
	  .options = cli_opts_json },
	{ .name = "unsubscribe", .usage = "unsubscribe FOLDER",
	  .summary = "unsubscribe from a folder", .min_args = 1, .max_args = 1,
	  .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_unsubscribe,
	  .options = cli_opts_json },
	{ .name = "quota", .usage = "quota [FOLDER]",
	  .summary = "storage use and limits of the folder's quota roots (QUOTA)",
	  .max_args = 1, .flags = CMD_LOGIN | CMD_NAMES, .run = cmd_quota,
	  .options = cli_opts_json },
};
/* clang-format on */

const struct cli_cmd_group cli_group_folders = {folder_cmds,
                                                sizeof(folder_cmds) / sizeof(folder_cmds[0])};
