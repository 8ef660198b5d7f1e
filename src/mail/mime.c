/* The whole-message MIME parser. */
#include "imapsh/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/cte.h"
#include "mime_int.h"

#define BOUNDARY_MAX 200 /* RFC 2046 allows 70; be generous, not unbounded */

static ims_err nomem(struct ims_error *err)
{
	return ims_error_set(err, IMS_ERR_NOMEM, "mime: out of memory");
}

/* ---- header fields ---- */

static int name_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != ':';
}

void ims__mime_headers_walk(const char *hdr, size_t len, ims__mime_hdr_fn fn, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(hdr + i, '\n', len - i);
		size_t le = nl != NULL ? (size_t)(nl - hdr) : len; /* at '\n' or len */
		size_t nb = i, ne, vb, ve, k;

		if (le == i || (le == i + 1 && hdr[i] == '\r'))
			return; /* the blank line */
		if (hdr[i] == ' ' || hdr[i] == '\t') {
			i = le + 1; /* a continuation of nothing */
			continue;
		}
		for (k = i; k < le && name_char((unsigned char)hdr[k]); k++)
			;
		ne = k;
		while (k < le && (hdr[k] == ' ' || hdr[k] == '\t'))
			k++;
		if (ne == nb || k >= le || hdr[k] != ':') {
			i = le + 1;
			continue;
		}
		vb = k + 1;
		/* the value runs over continuation lines */
		ve = le;
		while (ve < len) {
			size_t next = ve + 1, e2;
			const char *nl2;

			if (next >= len || (hdr[next] != ' ' && hdr[next] != '\t'))
				break;
			nl2 = memchr(hdr + next, '\n', len - next);
			e2 = nl2 != NULL ? (size_t)(nl2 - hdr) : len;
			ve = e2;
		}
		i = ve + 1;
		if (ve > vb && hdr[ve - 1] == '\r')
			ve--;
		if (fn(ctx, nb, ne - nb, vb, ve - vb))
			return;
	}
}

/* ---- the parser ---- */

struct pctx {
	struct ims_mime_msg *m;
	struct ims_error *err;
};

struct hdr_pick {
	struct pctx *c;
	size_t base; /* offset of the header block in the message */
	size_t part;
	size_t ct_off, ct_len, cte_off, cte_len, cd_off, cd_len;
	int ct, cte, cd;
	ims_err e;
};

static int pick_header(void *ctx, size_t no, size_t nl, size_t vo, size_t vl)
{
	struct hdr_pick *h = ctx;
	struct ims_mime_msg *m = h->c->m;
	const char *name = m->raw + h->base + no;

	if (ims__mime_eq_nocase(name, nl, "content-type") && !h->ct) {
		h->ct = 1;
		h->ct_off = h->base + vo;
		h->ct_len = vl;
	} else if (ims__mime_eq_nocase(name, nl, "content-transfer-encoding") && !h->cte) {
		h->cte = 1;
		h->cte_off = h->base + vo;
		h->cte_len = vl;
	} else if (ims__mime_eq_nocase(name, nl, "content-disposition") && !h->cd) {
		h->cd = 1;
		h->cd_off = h->base + vo;
		h->cd_len = vl;
	}
	if (m->nhdrs >= IMS_MIME_MAX_HEADERS) {
		m->flags |= IMS_MIME_MSG_TOO_MANY_HEADERS;
		return 0; /* keep looking for Content-* */
	}
	if (m->nhdrs == m->hcap) {
		size_t ncap = m->hcap != 0 ? m->hcap * 2 : 32;
		struct ims_mime_header *v = realloc(m->hdrs, ncap * sizeof(*v));

		if (v == NULL) {
			h->e = IMS_ERR_NOMEM;
			return 1;
		}
		m->hdrs = v;
		m->hcap = ncap;
	}
	m->hdrs[m->nhdrs].part = h->part;
	m->hdrs[m->nhdrs].name_off = h->base + no;
	m->hdrs[m->nhdrs].name_len = nl;
	m->hdrs[m->nhdrs].value_off = h->base + vo;
	m->hdrs[m->nhdrs].value_len = vl;
	m->nhdrs++;
	return 0;
}

/* Where the header block of the entity at [off, end) ends and its body
 * begins. */
static void split_entity(const char *raw, size_t off, size_t end, size_t *hdr_len_r,
                         size_t *body_off_r)
{
	size_t i = off;
	int first = 1;

	while (i < end) {
		const char *nl = memchr(raw + i, '\n', end - i);
		size_t le = nl != NULL ? (size_t)(nl - raw) : end;

		if (le == i || (le == i + 1 && raw[i] == '\r')) {
			*hdr_len_r = i - off;
			*body_off_r = le < end ? le + 1 : end;
			return;
		}
		if (first) {
			/* a first line that is no field: no header at all */
			size_t k = i;

			while (k < le && name_char((unsigned char)raw[k]))
				k++;
			while (k < le && (raw[k] == ' ' || raw[k] == '\t'))
				k++;
			if (k == i || k >= le || raw[k] != ':') {
				*hdr_len_r = 0;
				*body_off_r = off;
				return;
			}
			first = 0;
		}
		i = le + 1;
	}
	*hdr_len_r = end - off;
	*body_off_r = end;
}

/* Find the next delimiter line "--b" or "--b--" at or after pos (a line
 * start); returns its offset (end when none). */
static size_t find_delim(const char *raw, size_t pos, size_t end, const char *b, size_t blen,
                         int *close_r, size_t *after_r)
{
	size_t p = pos;

	while (p < end) {
		if (end - p >= 2 + blen && raw[p] == '-' && raw[p + 1] == '-' &&
		    memcmp(raw + p + 2, b, blen) == 0) {
			size_t q = p + 2 + blen;
			int close = 0;

			if (end - q >= 2 && raw[q] == '-' && raw[q + 1] == '-') {
				close = 1;
				q += 2;
			}
			while (q < end && (raw[q] == ' ' || raw[q] == '\t'))
				q++;
			if (q == end || raw[q] == '\n' ||
			    (raw[q] == '\r' && (q + 1 == end || raw[q + 1] == '\n'))) {
				if (q == end)
					*after_r = end;
				else if (raw[q] == '\n')
					*after_r = q + 1;
				else
					*after_r = q + 1 == end ? end : q + 2;
				*close_r = close;
				return p;
			}
		}
		{
			const char *nl = memchr(raw + p, '\n', end - p);

			if (nl == NULL)
				break;
			p = (size_t)(nl - raw) + 1;
		}
	}
	return end;
}

static ims_err set_text_plain(struct ims_mime_part *p, struct ims_error *err)
{
	free(p->type);
	free(p->subtype);
	p->type = ims__mime_dupn("text", 4);
	p->subtype = ims__mime_dupn("plain", 5);
	if (p->type == NULL || p->subtype == NULL)
		return nomem(err);
	return IMS_OK;
}

static ims_err parse_entity(struct pctx *c, size_t off, size_t end, unsigned depth,
                            const char *section, int encapsulated, size_t parent, int digest,
                            int top);

static ims_err parse_multipart(struct pctx *c, size_t idx, unsigned depth)
{
	struct ims_mime_msg *m = c->m;
	const char *raw = m->raw;
	const char *bnd = ims_mime_params_get(&m->parts[idx].params, "boundary");
	char sec[IMS_MIME_SECTION_MAX];
	char child[IMS_MIME_SECTION_MAX];
	size_t blen, body = m->parts[idx].body_off, end = body + m->parts[idx].body_len;
	size_t pos, d, after, cend, k = 0;
	int close, digest;
	ims_err e;

	memcpy(sec, m->parts[idx].section, sizeof(sec));
	digest = ims_mime_part_is(&m->parts[idx], "multipart", "digest");
	blen = bnd != NULL ? strlen(bnd) : 0;
	if (blen == 0 || blen > BOUNDARY_MAX ||
	    find_delim(raw, body, end, bnd, blen, &close, &after) == end) {
		m->parts[idx].flags |= IMS_MIME_PART_NO_PARTS;
		return set_text_plain(&m->parts[idx], c->err);
	}
	if (close)
		return IMS_OK; /* an empty multipart */
	pos = after;
	for (;;) {
		if (m->nparts >= IMS_MIME_MAX_PARTS) {
			m->flags |= IMS_MIME_MSG_TOO_MANY_PARTS;
			return IMS_OK;
		}
		d = find_delim(raw, pos, end, bnd, blen, &close, &after);
		cend = d;
		if (d < end && cend > pos && raw[cend - 1] == '\n') {
			cend--;
			if (cend > pos && raw[cend - 1] == '\r')
				cend--;
		}
		k++;
		if (sec[0] == '\0')
			snprintf(child, sizeof(child), "%zu", k);
		else
			snprintf(child, sizeof(child), "%s.%zu", sec, k);
		e = parse_entity(c, pos, cend, depth + 1, child, 0, idx, digest, 0);
		if (e != IMS_OK)
			return e;
		if (d >= end) {
			m->parts[idx].flags |= IMS_MIME_PART_NO_END;
			return IMS_OK;
		}
		if (close)
			return IMS_OK;
		pos = after;
	}
}

/* The IMAP part number: an encapsulated message's parts number on from
 * its own; a top-level part that is not multipart is "1". */
static void part_section(struct ims_mime_part *p, const char *section, int encapsulated, int top)
{
	if (encapsulated && ims_mime_part_is(p, "multipart", NULL))
		snprintf(p->section, sizeof(p->section), "%s", section);
	else if (encapsulated)
		snprintf(p->section, sizeof(p->section), "%s.1", section);
	else if (top && !ims_mime_part_is(p, "multipart", NULL))
		snprintf(p->section, sizeof(p->section), "1");
	else
		snprintf(p->section, sizeof(p->section), "%s", section);
}

/* A new part at the end of the list (the caller checked the count). */
static ims_err new_part(struct pctx *c, size_t parent, unsigned depth, size_t *idx_r)
{
	struct ims_mime_msg *m = c->m;

	if (m->nparts == m->pcap) {
		size_t ncap = m->pcap != 0 ? m->pcap * 2 : 8;
		struct ims_mime_part *v = realloc(m->parts, ncap * sizeof(*v));

		if (v == NULL)
			return nomem(c->err);
		m->parts = v;
		m->pcap = ncap;
	}
	*idx_r = m->nparts++;
	ims_mime_part_init(&m->parts[*idx_r]);
	m->parts[*idx_r].parent = parent;
	m->parts[*idx_r].depth = depth;
	return IMS_OK;
}

/* The part's fields from its header: Content-Type (text/plain, or
 * message/rfc822 in a digest, when there is none), Content-Disposition,
 * Content-Transfer-Encoding and the file name. */
static ims_err part_fields(struct pctx *c, struct ims_mime_part *p, const struct hdr_pick *h,
                           int digest)
{
	struct ims_mime_field f;
	const char *raw = c->m->raw;
	ims_err e;

	ims_mime_field_init(&f);
	if (h->ct) {
		e = ims_mime_content_type_parse(&f, raw + h->ct_off, h->ct_len, c->err);
	} else {
		f.type = ims__mime_dupn(digest ? "message" : "text", digest ? 7 : 4);
		f.subtype = ims__mime_dupn(digest ? "rfc822" : "plain", digest ? 6 : 5);
		e = f.type != NULL && f.subtype != NULL ? IMS_OK : nomem(c->err);
	}
	if (e != IMS_OK) {
		ims_mime_field_release(&f);
		return e;
	}
	p->type = f.type;
	p->subtype = f.subtype;
	p->params = f.params;
	ims_mime_field_init(&f);
	if (h->cd) {
		e = ims_mime_disposition_parse(&f, raw + h->cd_off, h->cd_len, c->err);
		if (e != IMS_OK) {
			ims_mime_field_release(&f);
			return e;
		}
		p->disposition = f.type;
		p->disp_params = f.params;
		free(f.subtype);
	}
	if (h->cte) {
		size_t b = h->cte_off, k2 = h->cte_off + h->cte_len, t;

		while (b < k2 && (raw[b] == ' ' || raw[b] == '\t' || raw[b] == '\r' ||
		                  raw[b] == '\n' || raw[b] == '"'))
			b++;
		for (t = b; t < k2 && raw[t] > ' ' && raw[t] != '"' && raw[t] != '(' &&
		            raw[t] != ';' && (unsigned char)raw[t] < 0x7f;
		     t++)
			;
		if (t > b) {
			p->encoding = ims__mime_dup_lower(raw + b, t - b);
			if (p->encoding == NULL)
				return nomem(c->err);
		}
	}
	return ims__mime_part_fill_filename(p, c->err);
}

static ims_err parse_entity(struct pctx *c, size_t off, size_t end, unsigned depth,
                            const char *section, int encapsulated, size_t parent, int digest,
                            int top)
{
	struct ims_mime_msg *m = c->m;
	const char *raw = m->raw;
	struct ims_mime_part *p;
	struct hdr_pick h;
	size_t idx = 0, hdr_len, body_off;
	ims_err e;

	if (m->nparts >= IMS_MIME_MAX_PARTS) {
		m->flags |= IMS_MIME_MSG_TOO_MANY_PARTS;
		return IMS_OK;
	}
	if ((e = new_part(c, parent, depth, &idx)) != IMS_OK)
		return e;
	p = &m->parts[idx];

	if (top && end - off >= 5 && memcmp(raw + off, "From ", 5) == 0) {
		const char *nl = memchr(raw + off, '\n', end - off);

		off = nl != NULL ? (size_t)(nl - raw) + 1 : end;
	}
	split_entity(raw, off, end, &hdr_len, &body_off);
	p->hdr_off = off;
	p->hdr_len = hdr_len;
	p->body_off = body_off;
	p->body_len = end - body_off;
	p->size = p->body_len;

	memset(&h, 0, sizeof(h));
	h.c = c;
	h.base = off;
	h.part = idx;
	h.e = IMS_OK;
	ims__mime_headers_walk(raw + off, hdr_len, pick_header, &h);
	if (h.e != IMS_OK)
		return nomem(c->err);

	if ((e = part_fields(c, p, &h, digest)) != IMS_OK)
		return e;

	part_section(p, section, encapsulated, top);

	if (ims_mime_part_is(p, "multipart", NULL)) {
		if (depth >= IMS_MIME_MAX_DEPTH) {
			p->flags |= IMS_MIME_PART_TOO_DEEP;
			m->flags |= IMS_MIME_MSG_TOO_DEEP;
			return IMS_OK;
		}
		return parse_multipart(c, idx, depth);
	}
	if ((ims_mime_part_is(p, "message", "rfc822") ||
	     ims_mime_part_is(p, "message", "global")) &&
	    ims_cte_from_name(p->encoding) == IMS_CTE_IDENTITY) {
		char sec[IMS_MIME_SECTION_MAX];

		if (depth >= IMS_MIME_MAX_DEPTH) {
			p->flags |= IMS_MIME_PART_TOO_DEEP;
			m->flags |= IMS_MIME_MSG_TOO_DEEP;
			return IMS_OK;
		}
		memcpy(sec, p->section, sizeof(sec));
		p->decoded_size = p->body_len;
		return parse_entity(c, p->body_off, p->body_off + p->body_len, depth + 1, sec, 1,
		                    idx, 0, 0);
	}
	p->decoded_size =
	    ims_cte_decoded_size(ims_cte_from_name(p->encoding), raw + p->body_off, p->body_len);
	return IMS_OK;
}

void ims_mime_msg_init(struct ims_mime_msg *m)
{
	m->raw = NULL;
	m->raw_len = 0;
	m->parts = NULL;
	m->nparts = 0;
	m->pcap = 0;
	m->hdrs = NULL;
	m->nhdrs = 0;
	m->hcap = 0;
	m->flags = 0;
}

void ims_mime_msg_release(struct ims_mime_msg *m)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		ims_mime_part_release(&m->parts[i]);
	free(m->parts);
	free(m->hdrs);
	ims_mime_msg_init(m);
}

ims_err ims_mime_parse(struct ims_mime_msg *m, const char *raw, size_t len, struct ims_error *err)
{
	struct pctx c;
	ims_err e;

	ims_mime_msg_release(m);
	m->raw = raw != NULL ? raw : "";
	m->raw_len = raw != NULL ? len : 0;
	c.m = m;
	c.err = err;
	e = parse_entity(&c, 0, m->raw_len, 0, "", 0, IMS_MIME_NO_PARENT, 0, 1);
	if (e != IMS_OK) {
		ims_mime_msg_release(m);
		return e;
	}
	return IMS_OK;
}

const char *ims_mime_msg_header(const struct ims_mime_msg *m, size_t part, const char *name,
                                size_t *len_r)
{
	size_t i;

	for (i = 0; i < m->nhdrs; i++) {
		const struct ims_mime_header *h = &m->hdrs[i];

		if (h->part == part &&
		    ims__mime_eq_nocase(m->raw + h->name_off, h->name_len, name)) {
			if (len_r != NULL)
				*len_r = h->value_len;
			return m->raw + h->value_off;
		}
	}
	return NULL;
}
