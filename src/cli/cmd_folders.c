/* The folder commands: folders, select/examine, status, mkdir, rmdir,
 * rename, subscribe, unsubscribe and quota.
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
#include "cli/output.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/textwidth.h"
#include "imapsh/units.h"

#define BOLD (c->color ? "\033[1m" : "")
#define NORM (c->color ? "\033[0m" : "")

/* ---- helpers ------------------------------------------------------------ */

/* Rewrite a session failure that carries the server's words as "VERB NAME:
 * the server said ...": the session names the folder in its wire form
 * (modified UTF-7), the user wants the name as typed.  Other failures (a
 * lost connection, a refusal made before sending) keep their words. */
static ims_err folder_fail(struct cli *c, ims_err e, const char *verb, const char *name)
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

/* A "key TAB number" record. */
static void kv_u64(FILE *f, const char *key, uint64_t v)
{
	struct tsv t;

	tsv_begin(&t, f);
	tsv_field(&t, key);
	tsv_fieldf(&t, "%llu", (unsigned long long)v);
	(void)tsv_end(&t);
}

/* A name for the output, made safe, appended to out (see the file
 * comment). */
static ims_err name_out(struct cli *c, const char *s, size_t len, struct ims_buf *out)
{
	struct ims_error e;

	(void)c;
	return ims_sanitize(s, len, IMS_SANITIZE_LINE, out, &e);
}

static void pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

static void json_kv_u64(struct json_out *j, const char *k, int have, uint64_t v)
{
	json_key(j, k);
	if (have)
		(void)ims_json_uint(&j->w, v);
	else
		json_null(j);
}

/* The folder a command without FOLDER works on: the selected one, -f, or
 * INBOX. */
static const char *default_folder(struct cli *c)
{
	if (c->folder[0] != '\0')
		return c->folder;
	if (c->o.folder != NULL)
		return c->o.folder;
	return "INBOX";
}

/* One folder name from the user, on the wire. */
static ims_err encode(struct cli *c, const char *name, struct ims_buf *wire)
{
	ims_buf_init(wire, 0);
	return cli_mbox_encode(c, name, wire);
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
		json_kv_u64(&j, "messages", r->have_counts, r->messages);
		json_kv_u64(&j, "unseen", r->have_counts, r->unseen);
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
		pad(ims_text_width(shown[i].data), wn + 2);
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

static ims_err cmd_folders(struct cli *c, int argc, char **argv)
{
	const char *pattern = argc > 1 ? argv[1] : "*";
	struct ims_list_result res;
	struct ims_buf wire;
	struct frow *rows = NULL;
	const char **names = NULL;
	size_t i, k, n = 0, cut, skipped = 0;
	int local = 0;
	ims_err e;

	/* Without UTF8=ACCEPT a pattern with non-ASCII characters cannot be
	 * matched on the wire (modified UTF-7 groups characters in base64
	 * runs, so "送信*" is not a prefix of "送信済み"): ask for everything
	 * under its ASCII beginning and match the decoded names here. */
	cut = strlen(pattern);
	if (!ims_session_utf8(c->sess)) {
		for (i = 0; pattern[i] != '\0'; i++)
			if ((unsigned char)pattern[i] >= 0x80)
				break;
		if (pattern[i] != '\0') {
			cut = i;
			local = 1;
		}
	}
	ims_buf_init(&wire, 0);
	if (local) {
		char *head = strdup(pattern);

		if (head == NULL)
			return ims_error_nomem(&c->err);
		head[cut] = '\0';
		e = cli_mbox_encode(c, head, &wire);
		free(head);
		if (e == IMS_OK && ims_buf_putc(&wire, '*') != IMS_OK)
			e = ims_error_nomem(&c->err);
	} else {
		e = cli_mbox_encode(c, pattern, &wire);
	}
	if (e != IMS_OK) {
		ims_buf_release(&wire);
		return e;
	}
	ims_list_result_init(&res);
	e = ims_session_list(c->sess, "", wire.data, IMS_LISTF_STATUS | IMS_LISTF_SPECIAL_USE, &res,
	                     &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK) {
		e = folder_fail(c, e, "folders", argc > 1 ? pattern : NULL);
		goto out;
	}
	rows = calloc(res.n + 1, sizeof(*rows));
	names = calloc(res.n + 1, sizeof(*names));
	if (rows == NULL || names == NULL) {
		e = ims_error_nomem(&c->err);
		goto out;
	}
	for (i = 0; i < res.n; i++) {
		const struct ims_mailbox_info *mi = &res.v[i];
		struct frow *r = &rows[n];
		struct ims_buf b;

		ims_buf_init(&b, 0);
		e = cli_mbox_from_server(c, mi->name, mi->name_len, &b);
		if (e == IMS_ERR_PROTOCOL) {
			/* One name that cannot be used is skipped, not the list. */
			warn_unusable("folders", mi->name, mi->name_len);
			ims_buf_release(&b);
			skipped++;
			continue;
		}
		if (e != IMS_OK || (r->name = ims_buf_take(&b, NULL)) == NULL) {
			ims_buf_release(&b);
			e = ims_error_nomem(&c->err);
			goto out;
		}
		if (local && !glob_match(pattern, r->name, mi->delim)) {
			free(r->name);
			r->name = NULL;
			continue;
		}
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
		n++;
	}
	e = folders_status(c, rows, n);
	if (e != IMS_OK)
		goto out;
	qsort(rows, n, sizeof(*rows), frow_cmp);
	if (c->o.json)
		folders_json(rows, n);
	else
		e = folders_text(c, rows, n);
	if (e != IMS_OK)
		goto out;
	for (i = 0; i < n; i++)
		names[i] = rows[i].name;
	cli_folders_update(c, names, n, NULL, argc == 1 || strcmp(pattern, "*") == 0);
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

/* ---- select, examine ----------------------------------------------------- */

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
		return folder_fail(c, e, verb, name);
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
		json_kv_u64(&j, "messages", 1, f->exists);
		json_kv_u64(&j, "recent", 1, f->recent);
		json_kv_u64(&j, "unseen", have_unseen, unseen);
		json_kv_u64(&j, "uidvalidity", f->have & IMS_FOLDER_UIDVALIDITY, f->uidvalidity);
		json_kv_u64(&j, "uidnext", f->have & IMS_FOLDER_UIDNEXT, f->uidnext);
		if (f->have & IMS_FOLDER_HIGHESTMODSEQ)
			json_kv_u64(&j, "highestmodseq", 1, f->highestmodseq);
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
	kv_u64(stdout, "messages", f->exists);
	kv_u64(stdout, "recent", f->recent);
	if (have_unseen)
		kv_u64(stdout, "unseen", unseen);
	if (f->have & IMS_FOLDER_UIDVALIDITY)
		kv_u64(stdout, "uidvalidity", f->uidvalidity);
	if (f->have & IMS_FOLDER_UIDNEXT)
		kv_u64(stdout, "uidnext", f->uidnext);
	return IMS_OK;
}

static ims_err cmd_select(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return open_folder(c, "select", argv[1], 1);
}

static ims_err cmd_examine(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return open_folder(c, "examine", argv[1], 0);
}

/* ---- status -------------------------------------------------------------- */

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

static ims_err cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct {
		unsigned bit;
		const char *name;
	} items[] = {
	    {IMS_STATUS_MESSAGES, "messages"},       {IMS_STATUS_RECENT, "recent"},
	    {IMS_STATUS_UNSEEN, "unseen"},           {IMS_STATUS_UIDNEXT, "uidnext"},
	    {IMS_STATUS_UIDVALIDITY, "uidvalidity"}, {IMS_STATUS_SIZE, "size"},
	};
	const char *name = argc > 1 ? argv[1] : default_folder(c);
	struct ims_status_values v;
	struct ims_buf wire;
	char folder[512];
	size_t i;
	ims_err e;

	/* name may point at c->folder, which a failure below would clear. */
	snprintf(folder, sizeof(folder), "%s", name);
	e = encode(c, folder, &wire);
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
		return folder_fail(c, e, "status", folder);
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "name", folder);
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			json_kv_u64(&j, items[i].name, (v.have & items[i].bit) != 0,
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
			kv_u64(stdout, items[i].name, x);
		else if (items[i].bit == IMS_STATUS_SIZE)
			printf("%-12s %s (%llu bytes)\n", items[i].name,
			       ims_size_iec(x, hs, sizeof(hs)), (unsigned long long)x);
		else
			printf("%-12s %llu\n", items[i].name, (unsigned long long)x);
	}
	return IMS_OK;
}

/* ---- mkdir, rmdir, rename, subscribe, unsubscribe ------------------------ */

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

static ims_err cmd_mkdir(struct cli *c, int argc, char **argv)
{
	const char *name = argv[1];
	struct ims_buf wire;
	ims_err e;

	(void)argc;
	e = encode(c, name, &wire);
	if (e == IMS_OK)
		e = ims_session_create(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return folder_fail(c, e, "mkdir", name);
	cli_folders_update(c, &name, 1, NULL, 0);
	done(c, "name", name, "created", 1, "created");
	return IMS_OK;
}

static ims_err cmd_rmdir(struct cli *c, int argc, char **argv)
{
	const char *name = argv[1];
	struct ims_buf wire;
	char safe[512];
	ims_err e;

	(void)argc;
	e = encode(c, name, &wire);
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
			return folder_fail(c, e, "rmdir: examine", "INBOX");
		}
	}
	e = ims_session_delete(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return folder_fail(c, e, "rmdir", name);
	cli_folders_update(c, NULL, 0, name, 0);
	done(c, "name", name, "deleted", 1, "deleted");
	return IMS_OK;
}

static ims_err cmd_rename(struct cli *c, int argc, char **argv)
{
	const char *from = argv[1], *to = argv[2];
	struct ims_buf w1, w2;
	ims_err e;

	(void)argc;
	ims_buf_init(&w2, 0);
	e = encode(c, from, &w1);
	if (e == IMS_OK)
		e = cli_mbox_encode(c, to, &w2);
	if (e == IMS_OK)
		e = ims_session_rename(c->sess, w1.data, w1.len, w2.data, w2.len, &c->err);
	ims_buf_release(&w1);
	ims_buf_release(&w2);
	if (e != IMS_OK)
		return folder_fail(c, e, "rename", from);
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

	e = encode(c, name, &wire);
	if (e == IMS_OK)
		e = on ? ims_session_subscribe(c->sess, wire.data, wire.len, &c->err)
		       : ims_session_unsubscribe(c->sess, wire.data, wire.len, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return folder_fail(c, e, on ? "subscribe" : "unsubscribe", name);
	done(c, "name", name, "subscribed", on, on ? "subscribed to" : "unsubscribed from");
	return IMS_OK;
}

static ims_err cmd_subscribe(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return subscription(c, argv[1], 1);
}

static ims_err cmd_unsubscribe(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return subscription(c, argv[1], 0);
}

/* ---- quota --------------------------------------------------------------- */

static ims_err cmd_quota(struct cli *c, int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : default_folder(c);
	struct ims_quota_result q;
	struct ims_buf wire;
	char folder[512];
	size_t i, k, wr = 0, wn = 0;
	ims_err e;

	snprintf(folder, sizeof(folder), "%s", name);
	ims_quota_result_init(&q);
	e = encode(c, folder, &wire);
	if (e == IMS_OK)
		e = ims_session_getquotaroot(c->sess, wire.data, wire.len, &q, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK) {
		ims_quota_result_release(&q);
		return folder_fail(c, e, "quota", folder);
	}
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "name", folder);
		json_key(&j, "roots");
		json_begin_array(&j);
		for (i = 0; i < q.n; i++) {
			json_begin_object(&j);
			json_kv_str(&j, "root", q.v[i].root);
			json_key(&j, "resources");
			json_begin_array(&j);
			for (k = 0; k < q.v[i].n; k++) {
				json_begin_object(&j);
				json_kv_str(&j, "name", q.v[i].res[k].name);
				json_kv_u64(&j, "usage", 1, q.v[i].res[k].usage);
				json_kv_u64(&j, "limit", 1, q.v[i].res[k].limit);
				json_end_object(&j);
			}
			json_end_array(&j);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		ims_quota_result_release(&q);
		return IMS_OK;
	}
	for (i = 0; i < q.n; i++) {
		char s[512];

		if (ims_text_width(cli_safe(q.v[i].root, s, sizeof(s))) > wr)
			wr = ims_text_width(s);
		for (k = 0; k < q.v[i].n; k++)
			if (strlen(cli_safe(q.v[i].res[k].name, s, sizeof(s))) > wn)
				wn = strlen(s);
	}
	if (c->out_tty && q.n == 0 && !c->o.quiet) {
		char s[512];

		printf("%s: no quota\n", cli_safe(folder, s, sizeof(s)));
	}
	for (i = 0; i < q.n; i++) {
		for (k = 0; k < q.v[i].n; k++) {
			const struct ims_quota_resource_info *r = &q.v[i].res[k];
			char s1[512], s2[512], u[32], l[32];
			int storage = strcasecmp(r->name, "STORAGE") == 0;

			if (!c->out_tty) {
				struct tsv t;

				tsv_begin(&t, stdout);
				tsv_field(&t, q.v[i].root);
				tsv_field(&t, r->name);
				tsv_fieldf(&t, "%llu", (unsigned long long)r->usage);
				tsv_fieldf(&t, "%llu", (unsigned long long)r->limit);
				(void)tsv_end(&t);
				continue;
			}
			cli_safe(q.v[i].root, s1, sizeof(s1));
			fputs(s1, stdout);
			pad(ims_text_width(s1), wr + 2);
			if (storage) {
				ims_size_iec(r->usage * 1024, u, sizeof(u));
				ims_size_iec(r->limit * 1024, l, sizeof(l));
			} else {
				snprintf(u, sizeof(u), "%llu", (unsigned long long)r->usage);
				snprintf(l, sizeof(l), "%llu", (unsigned long long)r->limit);
			}
			printf("%-*s  %10s of %-10s", (int)wn, cli_safe(r->name, s2, sizeof(s2)), u,
			       l);
			if (r->limit > 0) {
				unsigned pct = (unsigned)(r->usage * 100 / r->limit);

				printf("  %s%3u%%%s", pct >= 90 ? BOLD : "", pct,
				       pct >= 90 ? NORM : "");
			}
			putchar('\n');
		}
	}
	ims_quota_result_release(&q);
	return IMS_OK;
}

/* ---- the table ------------------------------------------------------------ */

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
