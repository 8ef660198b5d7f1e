/* The text view of a message "for a person". */
#include "imapsh/caps.h"
#include "imapsh/mime.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/cte.h"
#include "imapsh/rfc2047.h"
#include "mime_int.h"

#define WALK_MAX_DEPTH (IMS_MIME_MAX_DEPTH + 8)

static ims_err buf_fail(struct ims_buf *out, size_t start, ims_err e, struct ims_error *err)
{
	ims_buf_truncate(out, start);
	return ims_error_set(err, e, "mime: %s",
	                     e == IMS_ERR_NOMEM ? "out of memory" : "message view too long");
}

/* ---- roles ---- */

static int is_attachment_disp(const struct ims_mime_part *p)
{
	return p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
}

static int is_inline_text(const struct ims_mime_part *p, const char *sub)
{
	return ims_mime_part_is(p, "text", sub) && !is_attachment_disp(p) && p->filename == NULL;
}

static int is_multipart(const struct ims_mime_part *p)
{
	return ims_mime_part_is(p, "multipart", NULL);
}

/* Next child of parent after index 'after' (parent itself to start). */
static size_t next_child(const struct ims_mime_part *parts, size_t n, size_t parent, size_t after)
{
	size_t j;

	for (j = after + 1; j < n; j++)
		if (parts[j].parent == parent)
			return j;
	return n;
}

static int contains_text(const struct ims_mime_part *parts, size_t n, size_t i, const char *sub,
                         unsigned depth)
{
	size_t c;

	if (depth > WALK_MAX_DEPTH)
		return 0;
	if (!is_multipart(&parts[i]))
		return is_inline_text(&parts[i], sub);
	for (c = next_child(parts, n, i, i); c < n; c = next_child(parts, n, i, c))
		if (contains_text(parts, n, c, sub, depth + 1))
			return 1;
	return 0;
}

static void mark_attachments(const struct ims_mime_part *parts, size_t n, size_t i,
                             unsigned char *roles, unsigned depth)
{
	size_t c;

	if (depth > WALK_MAX_DEPTH)
		return;
	if (!is_multipart(&parts[i]) || next_child(parts, n, i, i) >= n) {
		roles[i] = IMS_MIME_ROLE_ATTACHMENT;
		return;
	}
	for (c = next_child(parts, n, i, i); c < n; c = next_child(parts, n, i, c))
		mark_attachments(parts, n, c, roles, depth + 1);
}

static void walk(const struct ims_mime_part *parts, size_t n, size_t i, unsigned char *roles,
                 unsigned depth)
{
	const struct ims_mime_part *p = &parts[i];
	size_t c, first, best = n;

	if (depth > WALK_MAX_DEPTH)
		return;
	if (is_multipart(p)) {
		first = next_child(parts, n, i, i);
		if (first >= n) {
			roles[i] = IMS_MIME_ROLE_ATTACHMENT;
			return;
		}
		if (ims_mime_part_is(p, "multipart", "alternative")) {
			for (c = first; c < n && best == n; c = next_child(parts, n, i, c))
				if (is_inline_text(&parts[c], "plain"))
					best = c;
			for (c = first; c < n && best == n; c = next_child(parts, n, i, c))
				if (is_multipart(&parts[c]) &&
				    contains_text(parts, n, c, "plain", depth + 1))
					best = c;
			for (c = first; c < n && best == n; c = next_child(parts, n, i, c))
				if (is_inline_text(&parts[c], "html") ||
				    (is_multipart(&parts[c]) &&
				     contains_text(parts, n, c, "html", depth + 1)))
					best = c;
			walk(parts, n, best < n ? best : first, roles, depth + 1);
			return;
		}
		if (ims_mime_part_is(p, "multipart", "related")) {
			walk(parts, n, first, roles, depth + 1);
			for (c = next_child(parts, n, i, first); c < n;
			     c = next_child(parts, n, i, c))
				mark_attachments(parts, n, c, roles, depth + 1);
			return;
		}
		for (c = first; c < n; c = next_child(parts, n, i, c))
			walk(parts, n, c, roles, depth + 1);
		return;
	}
	if (is_inline_text(p, "plain") || is_inline_text(p, "html"))
		roles[i] = IMS_MIME_ROLE_TEXT;
	else
		roles[i] = IMS_MIME_ROLE_ATTACHMENT;
}

void ims_mime_roles(const struct ims_mime_part *parts, size_t n, unsigned char *roles_r)
{
	size_t i;

	for (i = 0; i < n; i++)
		roles_r[i] = IMS_MIME_ROLE_NONE;
	for (i = 0; i < n; i++)
		if (parts[i].parent == IMS_MIME_NO_PARENT || parts[i].parent >= i)
			walk(parts, n, i, roles_r, 0);
}

/* ---- headers ---- */

/* Append s[0..n) with CR and LF shown as U+240D and U+240A, so that a
 * value cannot start a new line of the view. */
static ims_err put_line_safe(struct ims_buf *out, const char *s, size_t n)
{
	size_t i, run = 0;
	ims_err e;

	for (i = 0; i < n; i++) {
		if (s[i] != '\n' && s[i] != '\r')
			continue;
		e = ims_buf_append(out, s + run, i - run);
		if (e == IMS_OK)
			e = ims_buf_puts(out, s[i] == '\n' ? "\xe2\x90\x8a" : "\xe2\x90\x8d");
		if (e != IMS_OK)
			return e;
		run = i + 1;
	}
	return ims_buf_append(out, s + run, n - run);
}

static const char *const shown[] = {"Date", "From", "To", "Cc", "Subject"};
#define NSHOWN (sizeof(shown) / sizeof(shown[0]))

struct hv {
	const char *hdr;
	unsigned flags;
	struct ims_buf *out;
	size_t off[NSHOWN], len[NSHOWN];
	int have[NSHOWN];
	ims_err e;
};

static ims_err put_field(struct ims_buf *out, const char *name, size_t nl, const char *v, size_t vl)
{
	struct ims_buf dec;
	ims_err e;

	ims_buf_init(&dec, 0);
	e = ims_rfc2047_decode(v, vl > IMS_MIME_MAX_FIELD ? IMS_MIME_MAX_FIELD : vl, &dec, NULL,
	                       NULL);
	if (e == IMS_OK && vl > IMS_MIME_MAX_FIELD)
		e = ims_buf_puts(&dec, " [...]");
	if (e == IMS_OK)
		e = put_line_safe(out, name, nl);
	if (e == IMS_OK)
		e = ims_buf_puts(out, ": ");
	if (e == IMS_OK)
		e = put_line_safe(out, dec.data != NULL ? dec.data : "", dec.len);
	if (e == IMS_OK)
		e = ims_buf_putc(out, '\n');
	ims_buf_release(&dec);
	return e;
}

static int header_cb(void *ctx, size_t no, size_t nl, size_t vo, size_t vl)
{
	struct hv *h = ctx;
	size_t k;

	if (h->flags & IMS_MIME_VIEW_ALL_HEADERS) {
		struct ims_buf name;

		/* the name may hold 8-bit junk: repair it */
		ims_buf_init(&name, 0);
		h->e = ims_utf8_repair(h->hdr + no, nl, &name, NULL, NULL);
		if (h->e == IMS_OK)
			h->e = put_field(h->out, name.data, name.len, h->hdr + vo, vl);
		ims_buf_release(&name);
		return h->e != IMS_OK;
	}
	for (k = 0; k < NSHOWN; k++) {
		if (!h->have[k] && ims__mime_eq_nocase(h->hdr + no, nl, shown[k])) {
			h->have[k] = 1;
			h->off[k] = vo;
			h->len[k] = vl;
		}
	}
	return 0;
}

ims_err ims_mime_view_headers(const char *hdr, size_t len, unsigned flags, struct ims_buf *out,
                              struct ims_error *err)
{
	struct hv h;
	size_t start = out->len, k;

	memset(&h, 0, sizeof(h));
	h.hdr = hdr;
	h.flags = flags;
	h.out = out;
	h.e = IMS_OK;
	ims__mime_headers_walk(hdr, len, header_cb, &h);
	if (!(flags & IMS_MIME_VIEW_ALL_HEADERS)) {
		for (k = 0; k < NSHOWN && h.e == IMS_OK; k++)
			if (h.have[k])
				h.e = put_field(out, shown[k], strlen(shown[k]), hdr + h.off[k],
				                h.len[k]);
	}
	if (h.e != IMS_OK)
		return buf_fail(out, start, h.e, err);
	return IMS_OK;
}

/* ---- one text part ---- */

struct capsink {
	struct ims_buf *b;
	size_t cap;
	int truncated;
};

static ims_err capsink_write(void *ctx, const void *p, size_t n)
{
	struct capsink *c = ctx;
	ims_err e;

	if (c->b->len + n > c->cap) {
		e = ims_buf_append(c->b, p, c->cap - c->b->len);
		c->truncated = 1;
		return e == IMS_OK ? IMS_ERR_LIMIT : e;
	}
	return ims_buf_append(c->b, p, n);
}

static ims_err crlf_to_lf(const char *s, size_t n, struct ims_buf *out)
{
	size_t i, run = 0;
	ims_err e;

	for (i = 0; i + 1 < n; i++) {
		if (s[i] != '\r' || s[i + 1] != '\n')
			continue;
		e = ims_buf_append(out, s + run, i - run);
		if (e != IMS_OK)
			return e;
		run = i + 1;
	}
	return ims_buf_append(out, s + run, n - run);
}

/* A charset label fit for a note: printable ASCII only. */
static ims_err put_label(struct ims_buf *out, const char *s)
{
	ims_err e = IMS_OK;

	for (; *s != '\0' && e == IMS_OK; s++)
		e = ims_buf_putc(out, (*s >= 0x20 && *s < 0x7f) ? *s : '?');
	return e;
}

static ims_err put_notes(struct ims_buf *out, const struct ims_charset_info *ci, unsigned cte_flags,
                         enum ims_cte kind)
{
	ims_err e = IMS_OK;

	if (ci->flags & IMS_CHARSET_FALLBACK) {
		if (ci->declared[0] == '\0') {
			e = ims_buf_puts(out, "[charset: none declared, shown as ");
		} else {
			e = ims_buf_puts(out, (ci->flags & IMS_CHARSET_UNKNOWN)
			                          ? "[charset: unknown \""
			                          : "[charset: declared \"");
			if (e == IMS_OK)
				e = put_label(out, ci->declared);
			if (e == IMS_OK)
				e = ims_buf_puts(out, "\", shown as ");
		}
		if (e == IMS_OK)
			e = put_label(out, ci->used);
		if (e == IMS_OK)
			e = ims_buf_puts(out, "]\n");
	}
	if ((ci->flags & IMS_CHARSET_LOSSY) && e == IMS_OK) {
		e = ims_buf_puts(out, "[charset: bytes not valid in ");
		if (e == IMS_OK)
			e = put_label(out, ci->used);
		if (e == IMS_OK)
			e = ims_buf_puts(out, " were replaced]\n");
	}
	if (kind == IMS_CTE_BASE64 && (cte_flags & (IMS_CTE_GARBAGE | IMS_CTE_TRUNCATED)) &&
	    e == IMS_OK)
		e = ims_buf_puts(out, "[transfer encoding: invalid base64 skipped]\n");
	return e;
}

static int param_is(const struct ims_mime_part *p, const char *name, const char *want)
{
	const char *v = ims_mime_params_get(&p->params, name);

	return v != NULL && ims__mime_eq_nocase(v, strlen(v), want);
}

ims_err ims_mime_part_text(const struct ims_mime_part *p, const void *body, size_t len,
                           unsigned flags, struct ims_buf *out, struct ims_charset_info *info_r,
                           struct ims_error *err)
{
	struct ims_charset_info tmp;
	struct ims_charset_info *ci = info_r != NULL ? info_r : &tmp;
	struct ims_buf dec, utf, lf;
	struct capsink cs;
	struct ims_cte_dec d;
	enum ims_cte kind = ims_cte_from_name(p->encoding);
	size_t start = out->len;
	ims_err e;

	ims_charset_info_init(ci);
	ims_buf_init(&dec, 0);
	ims_buf_init(&utf, 0);
	ims_buf_init(&lf, 0);
	cs.b = &dec;
	cs.cap = IMS_MIME_TEXT_MAX;
	cs.truncated = 0;
	{
		struct ims_sink sink = {capsink_write, &cs};

		ims_cte_dec_init(&d, kind, sink);
	}
	e = ims_cte_dec_feed(&d, body, len);
	if (e == IMS_OK)
		e = ims_cte_dec_finish(&d);
	if (e == IMS_ERR_LIMIT && cs.truncated)
		e = IMS_OK;
	if (e == IMS_OK)
		e = ims_charset_decode(ims_mime_params_get(&p->params, "charset"),
		                       dec.data != NULL ? dec.data : "", dec.len,
		                       cs.truncated ? IMS_CHARSET_TRUNCATED : 0, &utf, ci, NULL);
	if (e == IMS_OK)
		e = crlf_to_lf(utf.data != NULL ? utf.data : "", utf.len, &lf);
	if (e == IMS_OK) {
		const char *s = lf.data != NULL ? lf.data : "";

		if (ims_mime_part_is(p, "text", "html"))
			e = ims_html_to_text(s, lf.len, out, NULL);
		else if (param_is(p, "format", "flowed"))
			e = ims_flowed_decode(s, lf.len, param_is(p, "delsp", "yes"), out, NULL);
		else
			e = ims_buf_append(out, s, lf.len);
	}
	if (e == IMS_OK && out->len > start && out->data[out->len - 1] != '\n')
		e = ims_buf_putc(out, '\n');
	if (e == IMS_OK && cs.truncated)
		e = ims_buf_puts(out, "[... truncated]\n");
	if (e == IMS_OK && (flags & IMS_MIME_TEXT_NOTES))
		e = put_notes(out, ci, d.flags, kind);
	ims_buf_release(&dec);
	ims_buf_release(&utf);
	ims_buf_release(&lf);
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	return IMS_OK;
}

/* ---- attachments ---- */

static ims_err put_size(struct ims_buf *out, uint64_t v, int approx)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	uint64_t div = 1024;
	size_t u = 0;

	if (v < 1024)
		return ims_buf_printf(out, "%s%" PRIu64 " B", approx ? "~" : "", v);
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v / div >= 1024) {
		div *= 1024;
		u++;
	}
	/* one decimal, rounded */
	{
		uint64_t tenths = (v / div) * 10 + ((v % div) * 10 + div / 2) / div;

		return ims_buf_printf(out, "%s%" PRIu64 ".%" PRIu64 " %s", approx ? "~" : "",
		                      tenths / 10, tenths % 10, units[u]);
	}
}

static ims_err put_attachment(struct ims_buf *out, const struct ims_mime_part *p)
{
	enum ims_cte kind = ims_cte_from_name(p->encoding);
	uint64_t size = p->decoded_size;
	int approx = 0;
	ims_err e;

	if (size == IMS_MIME_SIZE_UNKNOWN) {
		size = p->size;
		if (kind == IMS_CTE_BASE64) {
			uint64_t lines = (size + 77) / 78;
			uint64_t data = size > 2 * lines ? size - 2 * lines : 0;

			size = data / 4 * 3;
			approx = 1;
		} else if (kind == IMS_CTE_QP || kind == IMS_CTE_UNKNOWN) {
			approx = 1;
		}
	}
	e = ims_buf_putc(out, '[');
	if (e == IMS_OK)
		e = put_line_safe(out, p->section, strlen(p->section));
	if (e == IMS_OK)
		e = ims_buf_puts(out, "] ");
	if (e == IMS_OK && p->filename != NULL) {
		e = put_line_safe(out, p->filename, strlen(p->filename));
		if (e == IMS_OK)
			e = ims_buf_putc(out, ' ');
	}
	if (e == IMS_OK)
		e = ims_buf_putc(out, '(');
	if (e == IMS_OK)
		e = put_line_safe(out, p->type != NULL ? p->type : "text",
		                  strlen(p->type != NULL ? p->type : "text"));
	if (e == IMS_OK)
		e = ims_buf_putc(out, '/');
	if (e == IMS_OK)
		e = put_line_safe(out, p->subtype != NULL ? p->subtype : "plain",
		                  strlen(p->subtype != NULL ? p->subtype : "plain"));
	if (e == IMS_OK)
		e = ims_buf_puts(out, ", ");
	if (e == IMS_OK)
		e = put_size(out, size, approx);
	if (e == IMS_OK)
		e = ims_buf_puts(out, ")\n");
	return e;
}

ims_err ims_mime_attachments_format(const struct ims_mime_part *parts, size_t n,
                                    const unsigned char *roles, struct ims_buf *out,
                                    struct ims_error *err)
{
	size_t start = out->len, i;
	int any = 0;
	ims_err e = IMS_OK;

	for (i = 0; i < n && e == IMS_OK; i++) {
		struct ims_buf tmp;

		if (roles != NULL ? roles[i] != IMS_MIME_ROLE_ATTACHMENT : is_multipart(&parts[i]))
			continue;
		if (!any) {
			e = ims_buf_puts(out, "Attachments:\n");
			any = 1;
		}
		/* names are UTF-8 already, but be sure */
		ims_buf_init(&tmp, 0);
		if (e == IMS_OK)
			e = put_attachment(&tmp, &parts[i]);
		if (e == IMS_OK)
			e = ims_utf8_repair(tmp.data, tmp.len, out, NULL, NULL);
		ims_buf_release(&tmp);
	}
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	return IMS_OK;
}

/* ---- the whole view ---- */

ims_err ims_mime_view(const struct ims_mime_msg *m, unsigned flags, struct ims_buf *out,
                      struct ims_error *err)
{
	unsigned char *roles = NULL;
	size_t start = out->len, i;
	int texts = 0;
	ims_err e = IMS_OK;

	if (m->nparts == 0)
		return IMS_OK;
	e = ims_mime_view_headers(m->raw + m->parts[0].hdr_off, m->parts[0].hdr_len, flags, out,
	                          err);
	if (e != IMS_OK)
		return e;
	e = ims_buf_putc(out, '\n');
	if (e == IMS_OK) {
		roles = calloc(m->nparts, 1);
		if (roles == NULL)
			e = IMS_ERR_NOMEM;
	}
	if (e == IMS_OK)
		ims_mime_roles(m->parts, m->nparts, roles);
	for (i = 0; i < m->nparts && e == IMS_OK; i++) {
		const struct ims_mime_part *p = &m->parts[i];

		if (roles[i] != IMS_MIME_ROLE_TEXT)
			continue;
		if (texts++ > 0)
			e = ims_buf_putc(out, '\n');
		if (e == IMS_OK)
			e = ims_mime_part_text(p, m->raw + p->body_off, p->body_len,
			                       IMS_MIME_TEXT_NOTES, out, NULL, NULL);
	}
	if (e == IMS_OK && (m->flags & (IMS_MIME_MSG_TOO_MANY_PARTS | IMS_MIME_MSG_TOO_DEEP)))
		e = ims_buf_puts(out, "[message structure too large: not all parts are shown]\n");
	if (e == IMS_OK) {
		int any = 0;

		for (i = 0; i < m->nparts; i++)
			any |= roles[i] == IMS_MIME_ROLE_ATTACHMENT;
		if (any && texts > 0)
			e = ims_buf_putc(out, '\n');
		if (e == IMS_OK)
			e = ims_mime_attachments_format(m->parts, m->nparts, roles, out, NULL);
	}
	free(roles);
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	return IMS_OK;
}
