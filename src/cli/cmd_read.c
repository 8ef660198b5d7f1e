/* The reading commands: structure, show and save.
 *
 * Each starts with UID FETCH (UID BODYSTRUCTURE), turns the tree into the
 * MIME layer's flat array of parts (mime.h), and fetches only what it
 * needs with BODY.PEEK: show the header and the text parts (never an
 * attachment), save the attachments, each streamed through a transfer
 * decoder into a file.  The folder is EXAMINEd; only show --mark-read
 * selects it read-write to add \Seen.
 *
 * Everything from the server that reaches stdout goes through
 * ims_sanitize(), on a terminal and on a pipe alike; --json values too.
 * Files are created only inside the output directory (fsafe.h: openat
 * on its descriptor, which is never a link), under names from
 * ims_sanitize_filename(), and never replace anything: a temporary file
 * is linked to its final name, which fails when that name exists (a
 * file, a directory or a planted symlink), and "name (1).ext", "name
 * (2).ext"... are tried next. */
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

#define MAX_TEXTS  64   /* text parts shown */
#define SAVE_TRIES 1000 /* "name (N).ext" attempts */

/* clang-format off */
static const struct cli_opt show_opts[] = {
	CLI_VALUE("headers", 0, CLI_OPT_WORD, "all|default",
	          "every header field, or the usual few (default)"),
	CLI_FLAG("mark-read", 0, "set \\Seen on the message"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt save_opts[] = {
	CLI_OPT_OUTPUT_DIR("the directory to save into (default: the current one)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* ---- helpers ------------------------------------------------------------ */

struct ropts {
	int json;
	const char *output;
	int all_headers;
	int mark_read;
	char **pos;
	int npos;
};

/* The command's operands and its options, read by the dispatcher
 * against the table's declaration (--json and -o/--output are set in
 * c->o for the command). */
static void read_ropts(struct cli *c, int argc, char **argv, struct ropts *ro)
{
	const char *h = cli_opt_str(&c->args, "headers");

	memset(ro, 0, sizeof(*ro));
	ro->json = c->o.json;
	ro->output = c->o.output;
	ro->all_headers = h != NULL && strcmp(h, "all") == 0;
	ro->mark_read = cli_opt_flag(&c->args, "mark-read");
	ro->pos = argv + 1;
	ro->npos = argc - 1;
}

static const char *cur_folder(struct cli *c, char *buf, size_t n)
{
	return cli_safe(c->folder[0] != '\0' ? c->folder : "the folder", buf, n);
}

/* One message in the one message-argument grammar (msgarg.h): a UID,
 * "*" (the newest), "#N" or "#*" (sequence numbers), turned into its UID
 * with a UID SEARCH in the open folder where it is not a UID already.
 * The caller checks every other word first: this connects. */
static ims_err parse_uid(struct cli *c, const char *what, const char *s, uint32_t *uid_r)
{
	struct cli_msgarg m;
	ims_err e;

	cli_msgarg_init(&m);
	if (cli_msgarg_parse_one(what, s, &m, &c->err) != IMS_OK)
		return c->err.code;
	/* The last word checked: now the connection (CMD_ARGS_FIRST); the
	 * first command (SEARCH or FETCH) needs nothing from the SELECT's
	 * answer, so the SELECT goes in its flight. */
	e = cli_ready_ahead(c);
	if (e == IMS_OK && !m.seq && m.single != 0) {
		*uid_r = m.single;
	} else if (e == IMS_OK) {
		char fold[512];
		struct ims_arg key[2] = {{IMS_ARG_RAW, "UID", 0}, {IMS_ARG_RAW, m.set.data, 0}};
		struct ims_search_result sr;

		ims_search_result_init(&sr);
		e = m.seq ? ims_session_uid_search(c->sess, &key[1], 1, &sr, &c->err)
		          : ims_session_uid_search(c->sess, key, 2, &sr, &c->err);
		if (e == IMS_OK && sr.n == 0 && m.star)
			e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message in %s (it is empty)",
			                  what, cur_folder(c, fold, sizeof(fold)));
		else if (e == IMS_OK && sr.n == 0)
			e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message #%s in %s", what,
			                  m.set.data, cur_folder(c, fold, sizeof(fold)));
		if (e == IMS_OK)
			*uid_r = sr.uids[sr.n - 1];
		ims_search_result_release(&sr);
	}
	cli_msgarg_release(&m);
	return e;
}

/* Append the sanitised s[0..len) to out. */
static ims_err put_safe(struct ims_buf *out, const char *s, size_t len, unsigned mode)
{
	struct ims_error e;

	return ims_sanitize(s != NULL ? s : "", s != NULL ? len : 0, mode, out, &e);
}

/* A sanitised copy as a JSON string value. */
static void json_safe(struct json_out *j, const char *k, const char *s, size_t len, unsigned mode)
{
	struct ims_buf b;

	ims_buf_init(&b, 0);
	json_key(j, k);
	if (put_safe(&b, s, len, mode) != IMS_OK)
		json_null(j);
	else
		(void)ims_json_string_n(&j->w, b.data != NULL ? b.data : "", b.len);
	ims_buf_release(&b);
}

/* k: the sanitised s, or null when s is NULL. */
static void json_opt(struct json_out *j, const char *k, const char *s)
{
	if (s != NULL) {
		json_safe(j, k, s, strlen(s), IMS_SANITIZE_LINE);
	} else {
		json_key(j, k);
		json_null(j);
	}
}

static ims_err stdout_check(struct cli *c)
{
	return cli_stdout_check(c);
}

/* ---- the MIME tree from BODYSTRUCTURE ------------------------------------------- */

struct tree {
	struct ims_mime_part *v;
	size_t n, cap;
	int capped;
};

static void tree_release(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		ims_mime_part_release(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static ims_err raw_params(const struct ims_body_param *bp, size_t n,
                          struct ims_mime_rawparam **raw_r, size_t *n_r)
{
	struct ims_mime_rawparam *raw;
	size_t i, k = 0;

	*raw_r = NULL;
	*n_r = 0;
	if (n == 0 || bp == NULL)
		return IMS_OK;
	if (n > IMS_MIME_MAX_PARAMS)
		n = IMS_MIME_MAX_PARAMS;
	raw = calloc(n, sizeof(*raw));
	if (raw == NULL)
		return IMS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (bp[i].name == NULL)
			continue;
		raw[k].name = bp[i].name;
		raw[k].name_len = strlen(bp[i].name);
		raw[k].value = bp[i].value != NULL ? bp[i].value : "";
		raw[k].value_len = strlen(raw[k].value);
		k++;
	}
	*raw_r = raw;
	*n_r = k;
	return IMS_OK;
}

static ims_err tree_add(struct tree *t, const struct ims_body *b, size_t parent, unsigned depth,
                        struct ims_error *err)
{
	struct ims_mime_rawparam *cp = NULL, *dp = NULL;
	size_t ncp = 0, ndp = 0, idx, i;
	struct ims_mime_part *p;
	const char *type;
	ims_err e;

	if (t->n >= IMS_MIME_MAX_PARTS) {
		t->capped = 1;
		return IMS_OK;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ims_mime_part *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return ims_error_nomem(err);
		t->v = v;
		t->cap = cap;
	}
	idx = t->n++;
	p = &t->v[idx];
	ims_mime_part_init(p);
	snprintf(p->section, sizeof(p->section), "%s", b->part != NULL ? b->part : "");
	p->parent = parent;
	p->depth = depth;
	if (raw_params(b->params, b->n_params, &cp, &ncp) != IMS_OK ||
	    raw_params(b->disp_params, b->n_disp_params, &dp, &ndp) != IMS_OK) {
		free(cp);
		return ims_error_nomem(err);
	}
	type = b->type;
	if (b->multipart && type == NULL)
		type = "multipart";
	e = ims_mime_part_set(p, type, b->subtype, cp, ncp, b->encoding, b->disposition, dp, ndp,
	                      err);
	free(cp);
	free(dp);
	if (e != IMS_OK)
		return e;
	p->size = b->size;
	p->decoded_size = IMS_MIME_SIZE_UNKNOWN;
	if (b->n_parts > 0 && depth + 1 >= IMS_MIME_MAX_DEPTH) {
		t->v[idx].flags |= IMS_MIME_PART_TOO_DEEP;
		return IMS_OK;
	}
	for (i = 0; i < b->n_parts; i++)
		if ((e = tree_add(t, &b->parts[i], idx, depth + 1, err)) != IMS_OK)
			return e;
	return IMS_OK;
}

struct bs_ctx {
	uint32_t uid;
	int found;
	struct tree t;
};

static ims_err bs_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct bs_ctx *x = ctx;

	if (x->found || !(f->have & IMS_FETCH_UID) || f->uid != x->uid ||
	    !(f->have & IMS_FETCH_BODY) || f->body == NULL)
		return IMS_OK;
	x->found = 1;
	return tree_add(&x->t, f->body, IMS_MIME_NO_PARENT, 0, err);
}

/* UID FETCH uid (UID BODYSTRUCTURE) into t; no such message is
 * IMS_ERR_NO with words. */
static ims_err fetch_structure(struct cli *c, const char *what, uint32_t uid, struct tree *t)
{
	struct bs_ctx x;
	struct ims_fetch_handler h;
	char set[16], safe[512];
	ims_err e;

	memset(&x, 0, sizeof(x));
	x.uid = uid;
	h.literal = NULL;
	h.message = bs_message;
	h.ctx = &x;
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	e = ims_session_uid_fetch(c->sess, set, "(UID BODYSTRUCTURE)", &h, &c->err);
	if (e == IMS_OK && !x.found)
		e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message with UID %" PRIu32 " in %s",
		                  what, uid, cur_folder(c, safe, sizeof(safe)));
	if (e != IMS_OK) {
		tree_release(&x.t);
		return e;
	}
	if (x.t.capped)
		cli_warn("%s: more than %d parts: the rest are left out", what, IMS_MIME_MAX_PARTS);
	*t = x.t;
	return IMS_OK;
}

static int is_multipart(const struct ims_mime_part *p)
{
	return ims_mime_part_is(p, "multipart", NULL);
}

/* ---- structure ---------------------------------------------------------------------- */

static ims_err cmd_structure(struct cli *c, int argc, char **argv)
{
	static const char u[] = "structure UID";
	struct ropts ro;
	struct tree t;
	struct ims_buf out;
	uint32_t uid = 0;
	size_t i;
	ims_err e = IMS_OK;

	read_ropts(c, argc, argv, &ro);
	if (ro.npos != 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	if (parse_uid(c, "structure", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	if ((e = fetch_structure(c, "structure", uid, &t)) != IMS_OK)
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
			json_safe(&j, "part", p->section, strlen(p->section), IMS_SANITIZE_LINE);
			json_kv_int(&j, "depth", p->depth);
			json_safe(&j, "type", type, strlen(type), IMS_SANITIZE_LINE);
			json_opt(&j, "charset", cs);
			json_opt(&j, "encoding", p->encoding);
			json_key(&j, "size");
			(void)ims_json_uint(&j.w, p->size);
			json_opt(&j, "disposition", p->disposition);
			json_opt(&j, "name", p->filename);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_finish(&j);
		tree_release(&t);
		return stdout_check(c);
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
				e = put_safe(&out, p->section[0] != '\0' ? p->section : "-",
				             p->section[0] != '\0' ? strlen(p->section) : 1,
				             IMS_SANITIZE_LINE);
			if (e == IMS_OK)
				e = ims_buf_puts(&out, "  ");
			if (e == IMS_OK)
				e = put_safe(&out, type, strlen(type), IMS_SANITIZE_LINE);
			if (e == IMS_OK && cs != NULL &&
			    (e = ims_buf_puts(&out, "  charset=")) == IMS_OK)
				e = put_safe(&out, cs, strlen(cs), IMS_SANITIZE_LINE);
			if (e == IMS_OK && p->encoding != NULL &&
			    (e = ims_buf_puts(&out, "  ")) == IMS_OK)
				e = put_safe(&out, p->encoding, strlen(p->encoding),
				             IMS_SANITIZE_LINE);
			if (e == IMS_OK && !is_multipart(p))
				e = ims_buf_printf(&out, "  %s",
				                   ims_size_iec(p->size, hs, sizeof(hs)));
			if (e == IMS_OK && p->disposition != NULL &&
			    (e = ims_buf_puts(&out, "  ")) == IMS_OK)
				e = put_safe(&out, p->disposition, strlen(p->disposition),
				             IMS_SANITIZE_LINE);
			if (e == IMS_OK && p->filename != NULL &&
			    (e = ims_buf_puts(&out, "  \"")) == IMS_OK &&
			    (e = put_safe(&out, p->filename, strlen(p->filename),
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
	tree_release(&t);
	if (e != IMS_OK) {
		ims_buf_release(&out);
		return ims_error_nomem(&c->err);
	}
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	ims_buf_release(&out);
	return stdout_check(c);
}

/* ---- show --------------------------------------------------------------------------- */

struct want {
	char section[IMS_MIME_SECTION_MAX + 8]; /* "HEADER", "1.2", "TEXT" */
	size_t part;                            /* index into the tree; (size_t)-1 for HEADER */
	struct ims_buf data;
	size_t cap;
	int truncated;
	int got;
};

struct show_ctx {
	uint32_t uid;
	struct want *w;
	size_t n;
	struct want *cur; /* the literal being streamed */
	/* for --json, the same date and from as list: */
	int64_t internaldate;
	int have_from;
	struct ims_buf from_name, from_addr;
};

/* "BODY[1.2]<0>" -> want whose section is "1.2", or NULL. */
static struct want *want_for(struct show_ctx *x, const char *item)
{
	const char *lb, *rb;
	size_t i, len;

	if (item == NULL || strncasecmp(item, "BODY[", 5) != 0)
		return NULL;
	lb = item + 5;
	rb = strchr(lb, ']');
	if (rb == NULL)
		return NULL;
	len = (size_t)(rb - lb);
	for (i = 0; i < x->n; i++)
		if (strlen(x->w[i].section) == len && strncasecmp(x->w[i].section, lb, len) == 0)
			return &x->w[i];
	return NULL;
}

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

static ims_err show_write(void *ctx, const void *p, size_t n)
{
	struct show_ctx *x = ctx;

	return x->cur != NULL ? want_put(x->cur, p, n) : IMS_OK;
}

static ims_err show_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                            struct ims_error *err)
{
	struct show_ctx *x = ctx;
	struct want *w;

	(void)err;
	if (li->kind != IMS_DATA_FETCH || li->nested || (li->uid != 0 && li->uid != x->uid))
		return IMS_OK;
	w = want_for(x, li->item);
	if (w == NULL || w->got)
		return IMS_OK;
	w->got = 1;
	x->cur = w;
	sink_r->write = show_write;
	sink_r->ctx = x;
	return IMS_OK;
}

static ims_err show_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct show_ctx *x = ctx;
	size_t i;

	x->cur = NULL;
	if (!(f->have & IMS_FETCH_UID) || f->uid != x->uid)
		return IMS_OK;
	if (f->have & IMS_FETCH_INTERNALDATE)
		x->internaldate = f->internaldate_epoch;
	if ((f->have & IMS_FETCH_ENVELOPE) && f->envelope != NULL && f->envelope->from.n > 0) {
		const struct ims_address *a = &f->envelope->from.v[0];
		struct ims_error e;

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
	}
	for (i = 0; i < f->n_sections; i++) {
		const struct ims_value *v = f->sections[i].value;
		struct want *w;

		if (f->sections[i].binary)
			continue;
		w = want_for(x, f->sections[i].item);
		if (w == NULL)
			continue;
		if (v != NULL && !(v->flags & IMS_VF_STREAMED) && v->s != NULL && !w->got &&
		    want_put(w, v->s, v->len) != IMS_OK)
			return ims_error_nomem(err);
		w->got = 1;
	}
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
		return stdout_check(c);
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
		return stdout_check(c);
	}
	/* the user may quit the pager early: EPIPE, SIGPIPE is ignored */
	fwrite(s, 1, len, f);
	fclose(f);
	st = child_wait(pid);
	if (st == -1 || (WIFEXITED(st) && WEXITSTATUS(st) == 127)) {
		cli_warn("show: the pager '%s' did not run; writing to the terminal", pager);
		fwrite(s, 1, len, stdout);
		return stdout_check(c);
	}
	return IMS_OK;
}

/* The sections show asks for: the header, then every text part (never an
 * attachment), each with its cap; then one UID FETCH for all of them. */
static ims_err show_fetch(struct cli *c, struct show_ctx *x, const struct tree *t,
                          const unsigned char *roles, int json)
{
	struct ims_fetch_handler h;
	struct ims_buf items;
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
		nw++;
	}
	x->n = nw;
	ims_buf_init(&items, 0);
	e = ims_buf_puts(&items, json ? "(UID INTERNALDATE ENVELOPE" : "(UID");
	for (i = 0; i < nw && e == IMS_OK; i++) {
		uint64_t size = x->w[i].part != (size_t)-1 ? t->v[x->w[i].part].size : 0;

		if (size > IMS_CAP_TEXT_FETCH)
			e = ims_buf_printf(&items, " BODY.PEEK[%s]<0.%u>", x->w[i].section,
			                   IMS_CAP_TEXT_FETCH);
		else
			e = ims_buf_printf(&items, " BODY.PEEK[%s]", x->w[i].section);
	}
	if (e == IMS_OK)
		e = ims_buf_putc(&items, ')');
	if (e != IMS_OK) {
		ims_buf_release(&items);
		return ims_error_nomem(&c->err);
	}
	h.literal = show_literal;
	h.message = show_message;
	h.ctx = x;
	snprintf(set, sizeof(set), "%" PRIu32, x->uid);
	e = ims_session_uid_fetch(c->sess, set, items.data, &h, &c->err);
	ims_buf_release(&items);
	if (e == IMS_OK && !x->w[0].got)
		e = ims_error_set(&c->err, IMS_ERR_NO,
		                  "show: no message with UID %" PRIu32 " in %s", x->uid,
		                  cur_folder(c, fold, sizeof(fold)));
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
			json_safe(j, key, val, vl, IMS_SANITIZE_LINE);
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
			json_safe(j, "name", p, (size_t)(colon - p), IMS_SANITIZE_LINE);
			json_safe(j, "value", val, (size_t)(eol - val), IMS_SANITIZE_LINE);
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
		json_safe(j, "part", p->section, strlen(p->section), IMS_SANITIZE_LINE);
		json_safe(j, "type", type, strlen(type), IMS_SANITIZE_LINE);
		json_key(j, "size");
		(void)ims_json_uint(&j->w, p->size);
		json_opt(j, "name", p->filename);
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
	json_safe(&j, "text", v->text.data + v->text_start, v->text_end - v->text_start,
	          IMS_SANITIZE_TEXT);
	show_json_attachments(&j, t, roles);
	if (v->fallback) {
		json_key(&j, "charset_fallback");
		json_begin_object(&j);
		json_safe(&j, "declared", v->fb.declared, strlen(v->fb.declared),
		          IMS_SANITIZE_LINE);
		json_safe(&j, "used", v->fb.used, strlen(v->fb.used), IMS_SANITIZE_LINE);
		json_kv_bool(&j, "lossy", (v->fb.flags & IMS_CHARSET_LOSSY) != 0);
		json_end_object(&j);
	}
	json_end_object(&j);
	json_finish(&j);
	return stdout_check(c);
}

/* Nothing raw reaches the terminal or the pipe. */
static ims_err show_text(struct cli *c, const struct show_view *v)
{
	struct ims_buf safe;
	ims_err e;

	ims_buf_init(&safe, 0);
	if (put_safe(&safe, v->text.data, v->text.len, IMS_SANITIZE_TEXT) != IMS_OK)
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

static ims_err cmd_show(struct cli *c, int argc, char **argv)
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

	read_ropts(c, argc, argv, &ro);
	if (ro.npos != 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	if (parse_uid(c, "show", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	if ((e = fetch_structure(c, "show", uid, &t)) != IMS_OK)
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
	tree_release(&t);
	return e;
}

/* ---- save --------------------------------------------------------------------------- */

struct saver {
	struct cli *c;
	int fd;
	int errnum;
	struct ims_cte_dec dec;
	uint64_t bytes;
};

static ims_err save_fd_write(void *ctx, const void *p, size_t n)
{
	struct saver *s = ctx;

	if (ims_fs_write_all(s->fd, p, n, &cli_interrupted) != 0) {
		s->errnum = errno;
		return IMS_ERR_IO;
	}
	s->bytes += n;
	return IMS_OK;
}

static ims_err save_feed(void *ctx, const void *p, size_t n)
{
	struct saver *s = ctx;

	return ims_cte_dec_feed(&s->dec, p, n);
}

/* Give the finished temporary file its name without replacing anything
 * (not a file, a directory or a planted link): "name", then "name
 * (1).ext", ...; the name used goes into final. */
static int publish(int dfd, const char *tmp, const char *safe, char *final, size_t n)
{
	const char *dot = strrchr(safe, '.');
	size_t stem = dot != NULL && dot != safe ? (size_t)(dot - safe) : strlen(safe);
	struct ims_error e;
	int k;

	for (k = 0; k < SAVE_TRIES; k++) {
		if (k == 0)
			snprintf(final, n, "%s", safe);
		else
			snprintf(final, n, "%.*s (%d)%s", (int)stem, safe, k, safe + stem);
		ims_error_init(&e);
		if (ims_fs_place(dfd, tmp, dfd, final, IMS_FS_NOREPLACE | IMS_FS_SYNC, &e) ==
		    IMS_OK)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static ims_err save_part(struct cli *c, int dfd, const char *dir, uint32_t uid,
                         const struct ims_mime_part *p, struct ims_buf *saved_path,
                         uint64_t *bytes_r)
{
	struct saver s;
	struct ims_body_fetch b;
	struct ims_buf name;
	char tmp[64], final[IMS_FILENAME_MAX + 64], set[16];
	char fallback[IMS_MIME_SECTION_MAX + 16], safe[512];
	ims_err e;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.fd = ims_fs_tmp_create(dfd, ".imapsh-save-", 0, tmp, sizeof(tmp), &c->err);
	if (s.fd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "save: cannot create a file in %s: %s",
		                     cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	ims_cte_dec_init(&s.dec, ims_cte_from_name(p->encoding),
	                 (struct ims_sink){save_fd_write, &s});
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	memset(&b, 0, sizeof(b));
	b.set = set;
	b.want = uid;
	b.section = p->section[0] != '\0' ? p->section : "TEXT";
	b.sink = (struct ims_sink){save_feed, &s};
	e = ims_session_fetch_body(c->sess, &b, &c->err);
	if (e == IMS_OK)
		e = ims_cte_dec_finish(&s.dec);
	if (e == IMS_ERR_IO && s.errnum != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(s.errnum));
	if (e == IMS_OK && !b.found)
		e = ims_error_set(&c->err, IMS_ERR_NO, "save: no part %s in message %" PRIu32,
		                  p->section, uid);
	if (e == IMS_OK && fsync(s.fd) != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	if (close(s.fd) != 0 && e == IMS_OK)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	if (e != IMS_OK) {
		(void)unlinkat(dfd, tmp, 0);
		return e;
	}
	if (s.dec.flags & (IMS_CTE_GARBAGE | IMS_CTE_TRUNCATED))
		cli_warn("save: part %s: the transfer encoding was damaged; saved what decoded",
		         p->section);
	ims_buf_init(&name, 0);
	snprintf(fallback, sizeof(fallback), "part-%s%s", p->section[0] ? p->section : "1",
	         ims_mime_part_is(p, "message", "rfc822") ? ".eml" : "");
	if (ims_sanitize_filename(p->filename, p->filename != NULL ? strlen(p->filename) : 0,
	                          fallback, &name, &c->err) != IMS_OK) {
		ims_buf_release(&name);
		(void)unlinkat(dfd, tmp, 0);
		return ims_error_nomem(&c->err);
	}
	if (publish(dfd, tmp, name.data, final, sizeof(final)) != 0) {
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: %s/%s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), name.data, strerror(errno));
		ims_buf_release(&name);
		(void)unlinkat(dfd, tmp, 0);
		return e;
	}
	ims_buf_release(&name);
	ims_buf_reset(saved_path);
	if (ims_buf_printf(saved_path, "%s%s%s", dir,
	                   dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
	                   final) != IMS_OK)
		return ims_error_nomem(&c->err);
	*bytes_r = s.bytes;
	return IMS_OK;
}

/* The parts save writes: the ones named, or every attachment. */
static ims_err save_pick(struct cli *c, const struct tree *t, const unsigned char *roles,
                         uint32_t uid, const char *const *parts, size_t nparts, unsigned char *pick)
{
	size_t i, k, npick = 0;

	if (nparts == 0) {
		for (i = 0; i < t->n; i++)
			if (roles[i] == IMS_MIME_ROLE_ATTACHMENT) {
				pick[i] = 1;
				npick++;
			}
		if (npick == 0)
			return ims_error_set(&c->err, IMS_ERR_NO,
			                     "save: message %" PRIu32 " has no attachments", uid);
		return IMS_OK;
	}
	for (k = 0; k < nparts; k++) {
		for (i = 0; i < t->n; i++)
			if (!is_multipart(&t->v[i]) && strcmp(t->v[i].section, parts[k]) == 0)
				break;
		if (i == t->n)
			return ims_error_set(&c->err, IMS_ERR_NO,
			                     "save: message %" PRIu32 " has no part %s (see "
			                     "'structure %" PRIu32 "')",
			                     uid, parts[k], uid);
		pick[i] = 1;
	}
	return IMS_OK;
}

/* Write each picked part into dir and say where: a line a file, or one
 * JSON array. */
static ims_err save_picked(struct cli *c, int dfd, const char *dir, uint32_t uid,
                           const struct tree *t, const unsigned char *pick, int json)
{
	struct ims_buf path, line;
	struct json_out j;
	size_t i;
	ims_err e = IMS_OK;

	ims_buf_init(&path, 0);
	ims_buf_init(&line, 0);
	if (json) {
		json_init(&j, stdout);
		json_begin_array(&j);
	}
	for (i = 0; i < t->n && e == IMS_OK; i++) {
		uint64_t bytes = 0;

		if (!pick[i])
			continue;
		e = save_part(c, dfd, dir, uid, &t->v[i], &path, &bytes);
		if (e != IMS_OK)
			break;
		if (json) {
			json_begin_object(&j);
			json_safe(&j, "part", t->v[i].section, strlen(t->v[i].section),
			          IMS_SANITIZE_LINE);
			json_safe(&j, "file", path.data, path.len, IMS_SANITIZE_LINE);
			json_key(&j, "size");
			(void)ims_json_uint(&j.w, bytes);
			json_end_object(&j);
		} else {
			ims_buf_reset(&line);
			if (put_safe(&line, path.data, path.len, IMS_SANITIZE_LINE) != IMS_OK ||
			    ims_buf_putc(&line, '\n') != IMS_OK) {
				e = ims_error_nomem(&c->err);
				break;
			}
			fwrite(line.data, 1, line.len, stdout);
			fflush(stdout);
		}
	}
	if (json) {
		json_end_array(&j);
		json_finish(&j);
	}
	ims_buf_release(&path);
	ims_buf_release(&line);
	return e;
}

static ims_err cmd_save(struct cli *c, int argc, char **argv)
{
	static const char u[] = "save UID [PART...] [-o DIR]";
	struct ropts ro;
	struct tree t;
	unsigned char *roles = NULL, *pick = NULL;
	const char *dir;
	uint32_t uid = 0;
	int k, dfd;
	char safe[512];
	ims_err e = IMS_OK;

	read_ropts(c, argc, argv, &ro);
	if (ro.npos < 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	for (k = 1; k < ro.npos; k++) {
		const char *q = ro.pos[k];
		int ok = *q >= '1' && *q <= '9';

		for (; ok && *q != '\0'; q++)
			ok = (*q >= '0' && *q <= '9') || (*q == '.' && q[1] >= '1' && q[1] <= '9');
		if (!ok || strlen(ro.pos[k]) >= IMS_MIME_SECTION_MAX)
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "save: '%s' is not a part number (1, 2.1, ...)",
			                     cli_safe(ro.pos[k], safe, sizeof(safe)));
	}
	if (parse_uid(c, "save", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	dir = ro.output != NULL && ro.output[0] != '\0' ? ro.output : ".";
	/* Files are made only through this descriptor; DIR is not a link,
	 * and is made (0700) where missing, as export makes its folder. */
	dfd = ims_fs_dir_open(dir, 1, &c->err);
	if (dfd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "save: %s",
		                     cli_safe(c->err.msg, safe, sizeof(safe)));
	if ((e = fetch_structure(c, "save", uid, &t)) != IMS_OK) {
		close(dfd);
		return e;
	}
	roles = calloc(t.n + 1, 1);
	pick = calloc(t.n + 1, 1);
	if (roles == NULL || pick == NULL) {
		e = ims_error_nomem(&c->err);
		goto out;
	}
	ims_mime_roles(t.v, t.n, roles);
	e = save_pick(c, &t, roles, uid, (const char *const *)ro.pos + 1, (size_t)ro.npos - 1,
	              pick);
	if (e == IMS_OK)
		e = save_picked(c, dfd, dir, uid, &t, pick, ro.json);
	if (e == IMS_OK)
		e = stdout_check(c);
out:
	close(dfd);
	free(roles);
	free(pick);
	tree_release(&t);
	return e;
}

/* ---- the table ---------------------------------------------------------------------- */

/* clang-format off */
static const struct cli_cmd reading_cmds[] = {
	{ .name = "show", .aliases = { "read" }, .usage = "show UID [--headers all] [--mark-read]",
	  .summary = "the message for a person: decoded headers, the text, the attachments",
	  .min_args = 1, .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_show,
	  .options = show_opts },
	{ .name = "structure", .usage = "structure UID",
	  .summary = "the MIME tree: part numbers, types, charsets, encodings, sizes, names",
	  .min_args = 1, .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_structure,
	  .options = cli_opts_json },
	{ .name = "save", .usage = "save UID [PART...] [-o DIR]",
	  .summary = "attachments (or the parts given) to -o DIR, decoded; never overwrites",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_save,
	  .options = save_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_reading = {reading_cmds,
                                                sizeof(reading_cmds) / sizeof(reading_cmds[0])};
