/* show: the message for a person: decoded headers, the text parts (never
 * an attachment), the list of attachments; paged on a terminal. */
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

#define MAX_TEXTS 64 /* text parts shown */

struct want {
	char section[IMS_MIME_SECTION_MAX + 8]; /* "HEADER", "1.2", "TEXT" */
	size_t part;                            /* index into the tree; (size_t)-1 for HEADER */
	struct ims_buf data;
	size_t cap;
	int truncated;
};

struct show_ctx {
	uint32_t uid;
	struct want *w;
	size_t n;
	/* for --json, the same date and from as list: */
	int64_t internaldate;
	int have_from;
	struct ims_buf from_name, from_addr;
};

static ims_err want_put(struct want *w, const void *p, size_t n)
{
	size_t room = w->cap > w->data.len ? w->cap - w->data.len : 0;

	if (n > room) {
		w->truncated = 1;
		n = room;
	}
	if (n == 0)
		return IMS_OK;
	return ims_buf_append(&w->data, p, n);
}

/* Each section's sink: its bytes up to its cap. */
static ims_err want_write(void *ctx, const void *p, size_t n)
{
	return want_put(ctx, p, n);
}

/* The message's other items (with --json): the same date and from as
 * list shows. */
static ims_err show_meta(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct show_ctx *x = ctx;
	const struct ims_address *a;
	struct ims_error e;

	(void)err;
	if (f->have & IMS_FETCH_INTERNALDATE)
		x->internaldate = f->internaldate_epoch;
	if (!(f->have & IMS_FETCH_ENVELOPE) || f->envelope == NULL || f->envelope->from.n == 0)
		return IMS_OK;
	a = &f->envelope->from.v[0];
	x->have_from = 1;
	ims_buf_reset(&x->from_name);
	ims_buf_reset(&x->from_addr);
	if (a->name != NULL &&
	    ims_rfc2047_decode(a->name, strlen(a->name), &x->from_name, NULL, &e) != IMS_OK)
		ims_buf_reset(&x->from_name);
	if (a->mailbox != NULL &&
	    ims_buf_printf(&x->from_addr, "%s%s%s", a->mailbox, a->host != NULL ? "@" : "",
	                   a->host != NULL ? a->host : "") != IMS_OK)
		ims_buf_reset(&x->from_addr);
	return IMS_OK;
}

/* Decoded header lines "Name: value\n" -> the value of name, or NULL. */
static const char *hdr_value(const char *view, size_t len, const char *name, size_t *vlen_r)
{
	const char *p = view, *end = view + len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) >= nl + 2 && strncasecmp(p, name, nl) == 0 && p[nl] == ':' &&
		    p[nl + 1] == ' ') {
			*vlen_r = (size_t)(eol - p) - nl - 2;
			return p + nl + 2;
		}
		p = eol + 1;
	}
	return NULL;
}

/* Write buf to $PAGER (default less, LESS=FRX when unset) on a terminal,
 * else to stdout. */
static ims_err page_out(struct cli *c, const char *s, size_t len)
{
	const char *pager = getenv("PAGER");
	/* LESS=FRX unless the user set LESS: in the pager's environment only */
	const char *const less_frx[] = {"LESS=FRX", NULL};
	const char *const *less = getenv("LESS") == NULL ? less_frx : NULL;
	struct ims_error why;
	int pfd[2] = {-1, -1};
	pid_t pid = -1;
	FILE *f;
	int st;

	if (!c->out_tty || (pager != NULL && pager[0] == '\0')) {
		fwrite(s, 1, len, stdout);
		return cli_stdout_check(c);
	}
	if (pager == NULL)
		pager = "less";
	ims_error_init(&why);
	fflush(stdout);
	if (pipe(pfd) == 0) {
		(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
		(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
		if (child_start("show: the pager", pager, less, pfd[0], -1, &pid, &why) != IMS_OK) {
			close(pfd[1]);
			pfd[1] = -1;
		}
		close(pfd[0]);
	}
	f = pfd[1] >= 0 ? fdopen(pfd[1], "w") : NULL;
	if (f == NULL) {
		if (pfd[1] >= 0)
			close(pfd[1]);
		if (pid > 0)
			(void)child_wait(pid);
		fwrite(s, 1, len, stdout);
		return cli_stdout_check(c);
	}
	/* the user may quit the pager early: EPIPE, SIGPIPE is ignored */
	fwrite(s, 1, len, f);
	fclose(f);
	st = child_wait(pid);
	if (st == -1 || (WIFEXITED(st) && WEXITSTATUS(st) == 127)) {
		cli_warn("show: the pager '%s' did not run; writing to the terminal", pager);
		fwrite(s, 1, len, stdout);
		return cli_stdout_check(c);
	}
	return IMS_OK;
}

/* The sections show asks for: the header, then every text part (never an
 * attachment), each with its cap; then one UID FETCH for all of them
 * (ims_session_fetch_body, each section to its own sink). */
static ims_err show_fetch(struct cli *c, struct show_ctx *x, const struct tree *t,
                          const unsigned char *roles, int json)
{
	struct ims_body_part more[MAX_TEXTS];
	struct ims_body_fetch b;
	size_t i, nw = 0;
	char set[16], fold[512];
	ims_err e;

	snprintf(x->w[nw].section, sizeof(x->w[nw].section), "HEADER");
	x->w[nw].part = (size_t)-1;
	x->w[nw].cap = IMS_CAP_HEADER_FETCH;
	ims_buf_init(&x->w[nw].data, 0);
	nw++;
	for (i = 0; i < t->n && nw <= MAX_TEXTS; i++) {
		if (roles[i] != IMS_MIME_ROLE_TEXT)
			continue;
		/* A single-part message: its body is BODY[1] (RFC 9051 6.4.5);
		 * a top-level part without a number is BODY[TEXT]. */
		snprintf(x->w[nw].section, sizeof(x->w[nw].section), "%s",
		         t->v[i].section[0] != '\0' ? t->v[i].section : "TEXT");
		x->w[nw].part = i;
		x->w[nw].cap = IMS_CAP_TEXT_FETCH;
		ims_buf_init(&x->w[nw].data, 0);
		memset(&more[nw - 1], 0, sizeof(more[0]));
		more[nw - 1].section = x->w[nw].section;
		more[nw - 1].max = t->v[i].size > IMS_CAP_TEXT_FETCH ? IMS_CAP_TEXT_FETCH : 0;
		more[nw - 1].sink = (struct ims_sink){want_write, &x->w[nw]};
		nw++;
	}
	x->n = nw;
	snprintf(set, sizeof(set), "%" PRIu32, x->uid);
	memset(&b, 0, sizeof(b));
	b.set = set;
	b.want = x->uid;
	b.section = x->w[0].section;
	b.sink = (struct ims_sink){want_write, &x->w[0]};
	b.more = more;
	b.n_more = nw - 1;
	b.items = json ? "INTERNALDATE ENVELOPE" : NULL;
	b.message = show_meta;
	b.ctx = x;
	e = ims_session_fetch_body(c->sess, &b, &c->err);
	if (e == IMS_OK && !b.found && !b.nil)
		e = ims_error_set(&c->err, IMS_ERR_NO,
		                  "show: no message with UID %" PRIu32 " in %s", x->uid,
		                  cmd_cur_folder(c, fold, sizeof(fold)));
	return e;
}

/* What show shows: the headers, a blank line, the texts, the attachment
 * list (not in JSON, which lists them itself), with where each begins. */
struct show_view {
	struct ims_buf text;
	size_t hdr_end, text_start, text_end;
	int fallback; /* a text was decoded with another charset: fb says */
	struct ims_charset_info fb;
};

static ims_err show_build(struct cli *c, const struct show_ctx *x, const struct tree *t,
                          const unsigned char *roles, int all_headers, int json,
                          struct show_view *v)
{
	struct ims_buf att;
	size_t i;
	int ntext = 0;
	ims_err e;

	e = ims_mime_view_headers(x->w[0].data.data != NULL ? x->w[0].data.data : "",
	                          x->w[0].data.len, all_headers ? IMS_MIME_VIEW_ALL_HEADERS : 0,
	                          &v->text, &c->err);
	if (e != IMS_OK)
		return e;
	v->hdr_end = v->text.len;
	if (ims_buf_putc(&v->text, '\n') != IMS_OK)
		return ims_error_nomem(&c->err);
	v->text_start = v->text.len;
	for (i = 1; i < x->n; i++) {
		const struct ims_mime_part *p = &t->v[x->w[i].part];
		struct ims_charset_info ci;

		ims_charset_info_init(&ci);
		if (ntext++ > 0 && ims_buf_putc(&v->text, '\n') != IMS_OK)
			return ims_error_nomem(&c->err);
		e = ims_mime_part_text(p, x->w[i].data.data != NULL ? x->w[i].data.data : "",
		                       x->w[i].data.len, IMS_MIME_TEXT_NOTES, &v->text, &ci,
		                       &c->err);
		if (e != IMS_OK)
			return e;
		if (x->w[i].truncated && ims_buf_puts(&v->text, "[... truncated]\n") != IMS_OK)
			return ims_error_nomem(&c->err);
		if ((ci.flags & (IMS_CHARSET_FALLBACK | IMS_CHARSET_LOSSY)) && !v->fallback) {
			v->fallback = 1;
			v->fb = ci;
		}
	}
	v->text_end = v->text.len;
	ims_buf_init(&att, 0);
	e = ims_mime_attachments_format(t->v, t->n, roles, &att, &c->err);
	if (e == IMS_OK && att.len > 0 && !json) {
		if ((e = ims_buf_putc(&v->text, '\n')) == IMS_OK)
			e = ims_buf_append(&v->text, att.data, att.len);
	}
	ims_buf_release(&att);
	return e == IMS_OK ? IMS_OK : ims_error_nomem(&c->err);
}

/* JSON: the five usual header fields, each or null. */
static void show_json_headers(struct json_out *j, const struct show_view *v)
{
	static const char *const five[] = {"Date", "From", "To", "Cc", "Subject"};
	size_t i;

	json_key(j, "headers");
	json_begin_object(j);
	for (i = 0; i < sizeof(five) / sizeof(five[0]); i++) {
		size_t vl = 0;
		const char *val = hdr_value(v->text.data, v->hdr_end, five[i], &vl);
		char key[16];
		size_t k;

		for (k = 0; five[i][k] != '\0' && k + 1 < sizeof(key); k++)
			key[k] = (char)(five[i][k] | 0x20);
		key[k] = '\0';
		if (val != NULL) {
			cmd_json_safe(j, key, val, vl, IMS_SANITIZE_LINE);
		} else {
			json_key(j, key);
			json_null(j);
		}
	}
	json_end_object(j);
}

/* JSON: every header field as {name, value}, in order. */
static void show_json_all_headers(struct json_out *j, const struct show_view *v)
{
	const char *p = v->text.data, *end = v->text.data + v->hdr_end;

	json_key(j, "all_headers");
	json_begin_array(j);
	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;

		if (eol == NULL)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon != NULL) {
			const char *val = colon + 1;

			if (val < eol && *val == ' ')
				val++;
			json_begin_object(j);
			cmd_json_safe(j, "name", p, (size_t)(colon - p), IMS_SANITIZE_LINE);
			cmd_json_safe(j, "value", val, (size_t)(eol - val), IMS_SANITIZE_LINE);
			json_end_object(j);
		}
		p = eol + 1;
	}
	json_end_array(j);
}

/* JSON: the attachments, as the attachment list names them. */
static void show_json_attachments(struct json_out *j, const struct tree *t,
                                  const unsigned char *roles)
{
	size_t i;

	json_key(j, "attachments");
	json_begin_array(j);
	for (i = 0; i < t->n; i++) {
		const struct ims_mime_part *p = &t->v[i];
		char type[256];

		if (roles[i] != IMS_MIME_ROLE_ATTACHMENT)
			continue;
		snprintf(type, sizeof(type), "%s/%s", p->type, p->subtype);
		json_begin_object(j);
		cmd_json_safe(j, "part", p->section, strlen(p->section), IMS_SANITIZE_LINE);
		cmd_json_safe(j, "type", type, strlen(type), IMS_SANITIZE_LINE);
		json_key(j, "size");
		(void)ims_json_uint(&j->w, p->size);
		cmd_json_opt(j, "name", p->filename);
		json_end_object(j);
	}
	json_end_array(j);
}

static ims_err show_json(struct cli *c, const struct show_ctx *x, const struct tree *t,
                         const unsigned char *roles, const struct show_view *v, int all_headers)
{
	struct json_out j;

	json_init(&j, stdout);
	json_begin_object(&j);
	json_key(&j, "uid");
	(void)ims_json_uint(&j.w, x->uid);
	json_key(&j, "date");
	cli_json_date(&j.w, x->internaldate);
	json_key(&j, "from");
	cli_json_from(&j.w, x->have_from, x->from_name.data, x->from_name.len, x->from_addr.data,
	              x->from_addr.len);
	show_json_headers(&j, v);
	if (all_headers)
		show_json_all_headers(&j, v);
	cmd_json_safe(&j, "text", v->text.data + v->text_start, v->text_end - v->text_start,
	              IMS_SANITIZE_TEXT);
	show_json_attachments(&j, t, roles);
	if (v->fallback) {
		json_key(&j, "charset_fallback");
		json_begin_object(&j);
		cmd_json_safe(&j, "declared", v->fb.declared, strlen(v->fb.declared),
		              IMS_SANITIZE_LINE);
		cmd_json_safe(&j, "used", v->fb.used, strlen(v->fb.used), IMS_SANITIZE_LINE);
		json_kv_bool(&j, "lossy", (v->fb.flags & IMS_CHARSET_LOSSY) != 0);
		json_end_object(&j);
	}
	json_end_object(&j);
	json_finish(&j);
	return cli_stdout_check(c);
}

/* Nothing raw reaches the terminal or the pipe. */
static ims_err show_text(struct cli *c, const struct show_view *v)
{
	struct ims_buf safe;
	ims_err e;

	ims_buf_init(&safe, 0);
	if (cmd_put_safe(&safe, v->text.data, v->text.len, IMS_SANITIZE_TEXT) != IMS_OK)
		e = ims_error_nomem(&c->err);
	else
		e = page_out(c, safe.data != NULL ? safe.data : "", safe.len);
	ims_buf_release(&safe);
	return e;
}

/* --mark-read: \Seen, in the folder opened for writing if it was not. */
static ims_err show_mark_read(struct cli *c, uint32_t uid)
{
	static const char *const seen[] = {"\\Seen"};
	char set[16], fold[512];
	ims_err e = IMS_OK;

	if (!c->folder_rw && c->folder[0] != '\0') {
		snprintf(fold, sizeof(fold), "%s", c->folder);
		e = cli_select(c, fold, 1);
	}
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	if (e == IMS_OK)
		e = ims_session_uid_store(c->sess, set, IMS_STORE_ADD, seen, 1, 1, NULL, &c->err);
	return e;
}

ims_err cmd_show(struct cli *c, int argc, char **argv)
{
	static const char u[] = "show UID [--headers all] [--mark-read]";
	struct ropts ro;
	struct tree t;
	struct show_ctx x;
	struct show_view v;
	unsigned char *roles = NULL;
	size_t i;
	uint32_t uid = 0;
	ims_err e;

	cmd_read_ropts(c, argc, argv, &ro);
	if (ro.npos != 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	if (cmd_parse_uid(c, "show", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	if ((e = cmd_fetch_structure(c, "show", uid, &t)) != IMS_OK)
		return e;
	memset(&x, 0, sizeof(x));
	memset(&v, 0, sizeof(v));
	x.uid = uid;
	ims_buf_init(&x.from_name, IMS_CAP_SHOW_FROM);
	ims_buf_init(&x.from_addr, IMS_CAP_SHOW_FROM);
	ims_buf_init(&v.text, 0);
	ims_charset_info_init(&v.fb);
	roles = calloc(t.n + 1, 1);
	x.w = calloc(MAX_TEXTS + 1, sizeof(*x.w));
	if (roles == NULL || x.w == NULL) {
		e = ims_error_nomem(&c->err);
	} else {
		ims_mime_roles(t.v, t.n, roles);
		e = show_fetch(c, &x, &t, roles, ro.json);
	}
	if (e == IMS_OK)
		e = show_build(c, &x, &t, roles, ro.all_headers, ro.json, &v);
	if (e == IMS_OK)
		e = ro.json ? show_json(c, &x, &t, roles, &v, ro.all_headers) : show_text(c, &v);
	if (e == IMS_OK && ro.mark_read)
		e = show_mark_read(c, uid);
	if (x.w != NULL)
		for (i = 0; i < x.n; i++)
			ims_buf_release(&x.w[i].data);
	free(x.w);
	free(roles);
	ims_buf_release(&x.from_name);
	ims_buf_release(&x.from_addr);
	ims_buf_release(&v.text);
	cmd_tree_release(&t);
	return e;
}
