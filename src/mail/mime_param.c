/* MIME header fields with parameters: Content-Type, Content-Disposition,
 * RFC 2231 and RFC 2047 in parameter values. */
#include "imapsh/mime.h"

#include <stdlib.h>
#include <string.h>

#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "mime_int.h"
#include "imapsh/textutil.h"

char *ims__mime_dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (n != 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ims__mime_dup_lower(const char *s, size_t n)
{
	char *p = ims__mime_dupn(s, n);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] + 32);
	return p;
}

int ims__mime_eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		char x = a[i], y = b[i];

		if (y == '\0')
			return 0;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return b[alen] == '\0';
}

static ims_err nomem(struct ims_error *err)
{
	return ims_error_set(err, IMS_ERR_NOMEM, "mime: out of memory");
}

void ims_mime_params_init(struct ims_mime_params *ps)
{
	ps->v = NULL;
	ps->n = 0;
	ps->cap = 0;
	ps->cs_flags = 0;
}

void ims_mime_params_release(struct ims_mime_params *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		free(ps->v[i].value);
	}
	free(ps->v);
	ims_mime_params_init(ps);
}

const char *ims_mime_params_get(const struct ims_mime_params *ps, const char *name)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ims__mime_eq_nocase(name, strlen(name), ps->v[i].name))
			return ps->v[i].value;
	return NULL;
}

/* Takes name and value (freed on failure). */
static ims_err params_push(struct ims_mime_params *ps, char *name, char *value,
                           struct ims_error *err)
{
	if (ps->n == ps->cap) {
		size_t ncap = ps->cap != 0 ? ps->cap * 2 : 4;
		struct ims_mime_param *v = realloc(ps->v, ncap * sizeof(*v));

		if (v == NULL) {
			free(name);
			free(value);
			return nomem(err);
		}
		ps->v = v;
		ps->cap = ncap;
	}
	ps->v[ps->n].name = name;
	ps->v[ps->n].value = value;
	ps->n++;
	return IMS_OK;
}

/* ---- RFC 2231 ---- */

struct rp {
	const char *base;
	size_t base_len;
	long section; /* -1: none */
	int ext;      /* value is charset'lang'%XX (section 0) or %XX */
	const char *val;
	size_t vlen;
};

static void analyse(const struct ims_mime_rawparam *r, struct rp *p)
{
	const char *n = r->name;
	size_t len = r->name_len, k, star;

	while (len > 0 && (n[0] == ' ' || n[0] == '\t')) {
		n++;
		len--;
	}
	while (len > 0 && (n[len - 1] == ' ' || n[len - 1] == '\t'))
		len--;
	p->ext = 0;
	p->section = -1;
	if (len > 0 && n[len - 1] == '*') {
		p->ext = 1;
		len--;
	}
	for (star = len; star > 0 && n[star - 1] != '*'; star--)
		;
	if (star > 0 && star < len && len - star <= 3) {
		long sec = 0;

		for (k = star; k < len && n[k] >= '0' && n[k] <= '9'; k++)
			sec = sec * 10 + (n[k] - '0');
		if (k == len) {
			p->section = sec;
			len = star - 1;
		}
	}
	p->base = n;
	p->base_len = len;
	p->val = r->value != NULL ? r->value : "";
	p->vlen = r->value != NULL ? r->value_len : 0;
}

static int same_base(const struct rp *a, const struct rp *b)
{
	size_t i;

	if (a->base_len != b->base_len)
		return 0;
	for (i = 0; i < a->base_len; i++) {
		char x = a->base[i], y = b->base[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

static ims_err percent_decode(const char *s, size_t n, struct ims_buf *out)
{
	size_t i, run = 0;
	ims_err e;

	for (i = 0; i < n; i++) {
		char c;

		if (s[i] != '%' || i + 2 >= n || ims_hex_digit((unsigned char)s[i + 1]) < 0 ||
		    ims_hex_digit((unsigned char)s[i + 2]) < 0)
			continue;
		e = ims_buf_append(out, s + run, i - run);
		if (e != IMS_OK)
			return e;
		c = (char)(ims_hex_digit((unsigned char)s[i + 1]) << 4 |
		           ims_hex_digit((unsigned char)s[i + 2]));
		e = ims_buf_append(out, &c, 1);
		if (e != IMS_OK)
			return e;
		i += 2;
		run = i + 1;
	}
	return ims_buf_append(out, s + run, n - run);
}

static int has_word(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '=' && s[i + 1] == '?')
			return 1;
	return 0;
}

/* Cut b to at most max bytes on a UTF-8 character boundary. */
static void cut_utf8(struct ims_buf *b, size_t max)
{
	size_t n = b->len;

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
		n--;
	b->len = n;
	b->data[n] = '\0';
}

/* Decode one parameter (its parts in ps[0..n), all of one base name). */
static ims_err decode_one(const struct rp *ps, size_t n, struct ims_buf *out, unsigned *csf)
{
	const struct rp *plain = NULL, *star = NULL;
	struct ims_buf bytes;
	struct ims_charset_info ci;
	char cs[IMS_CHARSET_NAME_MAX + 1] = "";
	size_t i;
	long k;
	int any_ext = 0, have0 = 0;
	ims_err e = IMS_OK;

	for (i = 0; i < n; i++) {
		if (ps[i].section < 0 && !ps[i].ext && plain == NULL)
			plain = &ps[i];
		if (ps[i].section < 0 && ps[i].ext && star == NULL)
			star = &ps[i];
		if (ps[i].section == 0)
			have0 = 1;
	}
	ims_buf_init(&bytes, 0);
	if (star == NULL && !have0) {
		unsigned f = 0;

		if (plain == NULL)
			return IMS_OK;
		if (has_word(plain->val, plain->vlen)) {
			e = ims_rfc2047_decode(plain->val, plain->vlen, out, &f, NULL);
			*csf |= f;
			return e;
		}
		e = ims_charset_decode(NULL, plain->val, plain->vlen, 0, out, &ci, NULL);
		*csf |= ci.flags;
		return e;
	}
	for (k = 0; e == IMS_OK; k++) {
		const struct rp *p = NULL;
		const char *v;
		size_t vl;

		if (star != NULL) {
			if (k > 0)
				break;
			p = star;
		} else {
			for (i = 0; i < n && p == NULL; i++)
				if (ps[i].section == k)
					p = &ps[i];
			if (p == NULL)
				break;
		}
		v = p->val;
		vl = p->vlen;
		if (!p->ext) {
			e = ims_buf_append(&bytes, v, vl);
			continue;
		}
		any_ext = 1;
		if (k == 0) {
			const char *q1 = memchr(v, '\'', vl), *q2 = NULL;

			if (q1 != NULL)
				q2 = memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v));
			if (q2 != NULL) {
				size_t cl = (size_t)(q1 - v);

				if (cl > IMS_CHARSET_NAME_MAX)
					cl = IMS_CHARSET_NAME_MAX;
				memcpy(cs, v, cl);
				cs[cl] = '\0';
				vl -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		e = percent_decode(v, vl, &bytes);
	}
	if (e == IMS_OK) {
		const char *b = bytes.data != NULL ? bytes.data : "";

		if (!any_ext && has_word(b, bytes.len)) {
			unsigned f = 0;

			e = ims_rfc2047_decode(b, bytes.len, out, &f, NULL);
			*csf |= f;
		} else {
			e = ims_charset_decode(cs[0] != '\0' ? cs : NULL, b, bytes.len, 0, out, &ci,
			                       NULL);
			*csf |= ci.flags;
		}
	}
	ims_buf_release(&bytes);
	return e;
}

ims_err ims_mime_params_decode(struct ims_mime_params *ps, const struct ims_mime_rawparam *raw,
                               size_t n, struct ims_error *err)
{
	struct rp *rps, *group;
	struct ims_buf val;
	size_t i, j, ng;
	unsigned char *done;
	ims_err e = IMS_OK;

	if (n == 0)
		return IMS_OK;
	if (n > IMS_MIME_MAX_PARAMS)
		n = IMS_MIME_MAX_PARAMS;
	rps = calloc(n, sizeof(*rps));
	group = calloc(n, sizeof(*group));
	done = calloc(n, 1);
	if (rps == NULL || group == NULL || done == NULL) {
		free(rps);
		free(group);
		free(done);
		return nomem(err);
	}
	for (i = 0; i < n; i++) {
		analyse(&raw[i], &rps[i]);
		/* a name with controls (NUL) or blanks inside is no name */
		for (j = 0; j < rps[i].base_len; j++)
			if ((unsigned char)rps[i].base[j] <= ' ' || rps[i].base[j] == 0x7f)
				rps[i].base_len = 0;
	}
	ims_buf_init(&val, 0);
	for (i = 0; i < n && e == IMS_OK; i++) {
		char *name, *value;

		if (done[i] || rps[i].base_len == 0)
			continue;
		ng = 0;
		for (j = i; j < n; j++) {
			if (!done[j] && same_base(&rps[i], &rps[j])) {
				group[ng++] = rps[j];
				done[j] = 1;
			}
		}
		name = ims__mime_dup_lower(rps[i].base, rps[i].base_len);
		if (name == NULL) {
			e = nomem(err);
			break;
		}
		if (ims_mime_params_get(ps, name) != NULL) {
			free(name);
			continue;
		}
		ims_buf_reset(&val);
		e = decode_one(group, ng, &val, &ps->cs_flags);
		if (e != IMS_OK) {
			free(name);
			e = e == IMS_ERR_NOMEM ? nomem(err)
			                       : ims_error_set(err, e, "mime: parameter too long");
			break;
		}
		cut_utf8(&val, IMS_MIME_MAX_VALUE);
		value = ims_buf_take(&val, NULL);
		if (value == NULL) {
			free(name);
			e = nomem(err);
			break;
		}
		e = params_push(ps, name, value, err);
	}
	ims_buf_release(&val);
	free(rps);
	free(group);
	free(done);
	return e;
}

/* ---- field syntax ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_cfws(const char *s, size_t len, size_t *ip)
{
	size_t i = *ip;

	for (;;) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i < len && s[i] == '(') {
			unsigned depth = 0;

			for (; i < len; i++) {
				if (s[i] == '\\' && i + 1 < len) {
					i++;
				} else if (s[i] == '(') {
					depth++;
				} else if (s[i] == ')') {
					if (--depth == 0) {
						i++;
						break;
					}
				}
			}
			continue;
		}
		break;
	}
	*ip = i;
}

static int is_tspecial_or_blank(char c)
{
	return (unsigned char)c <= ' ' || c == 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static size_t token(const char *s, size_t len, size_t i)
{
	while (i < len && !is_tspecial_or_blank(s[i]))
		i++;
	return i;
}

/* Skip to the next ';' outside quoted strings and comments. */
static size_t to_semicolon(const char *s, size_t len, size_t i)
{
	int q = 0;

	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && q)
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (s[i] == ';' && !q)
			break;
	}
	return i;
}

struct rawlist {
	struct ims_buf scratch;
	size_t off[IMS_MIME_MAX_PARAMS][4]; /* name off, len, value off, len */
	size_t n;
};

/* Parse "; name=value; ..." starting at s[i] into rl. */
static ims_err parse_params(const char *s, size_t len, size_t i, struct rawlist *rl)
{
	ims_err e;

	i = to_semicolon(s, len, i);
	while (i < len && rl->n < IMS_MIME_MAX_PARAMS) {
		size_t nb, ne, vb;

		i++; /* ';' */
		skip_cfws(s, len, &i);
		nb = i;
		while (i < len && s[i] != '=' && s[i] != ';' && !is_blank(s[i]) && s[i] != '"' &&
		       s[i] != '(')
			i++;
		ne = i;
		skip_cfws(s, len, &i);
		if (ne == nb || i >= len || s[i] != '=') {
			i = to_semicolon(s, len, i);
			continue;
		}
		i++;
		skip_cfws(s, len, &i);
		rl->off[rl->n][0] = rl->scratch.len;
		rl->off[rl->n][1] = ne - nb;
		e = ims_buf_append(&rl->scratch, s + nb, ne - nb);
		if (e != IMS_OK)
			return e;
		vb = rl->scratch.len;
		if (i < len && s[i] == '"') {
			size_t run;

			i++;
			run = i;
			for (; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < len) {
					e = ims_buf_append(&rl->scratch, s + run, i - run);
					if (e != IMS_OK)
						return e;
					i++;
					run = i;
				}
			}
			e = ims_buf_append(&rl->scratch, s + run, i - run);
			if (e != IMS_OK)
				return e;
			i = to_semicolon(s, len, i < len ? i + 1 : i);
		} else {
			size_t b = i, end = to_semicolon(s, len, i), k;

			/* cut a trailing comment, then blanks */
			for (k = b; k < end; k++)
				if (s[k] == '(' && k > b && is_blank(s[k - 1]))
					break;
			while (k > b && is_blank(s[k - 1]))
				k--;
			e = ims_buf_append(&rl->scratch, s + b, k - b);
			if (e != IMS_OK)
				return e;
			i = end;
		}
		rl->off[rl->n][2] = vb;
		rl->off[rl->n][3] = rl->scratch.len - vb;
		rl->n++;
	}
	return IMS_OK;
}

void ims_mime_field_init(struct ims_mime_field *f)
{
	f->type = NULL;
	f->subtype = NULL;
	ims_mime_params_init(&f->params);
	f->invalid = 0;
}

void ims_mime_field_release(struct ims_mime_field *f)
{
	free(f->type);
	free(f->subtype);
	ims_mime_params_release(&f->params);
	ims_mime_field_init(f);
}

static ims_err field_parse(struct ims_mime_field *f, const char *s0, size_t len0, int ctype,
                           struct ims_error *err)
{
	struct rawlist *rl;
	struct ims_mime_rawparam raw[IMS_MIME_MAX_PARAMS];
	struct ims_buf unf;
	const char *s;
	size_t len, i = 0, tb, te, sb = 0, se = 0, k;
	ims_err e;

	ims_mime_field_release(f);
	ims_buf_init(&unf, 0);
	rl = malloc(sizeof(*rl));
	if (rl == NULL)
		return nomem(err);
	ims_buf_init(&rl->scratch, 0);
	rl->n = 0;
	e = ims_header_unfold(s0, len0, &unf, NULL);
	if (e != IMS_OK)
		goto fail;
	s = unf.data != NULL ? unf.data : "";
	len = unf.len;

	skip_cfws(s, len, &i);
	tb = i;
	te = i = token(s, len, i);
	if (ctype) {
		skip_cfws(s, len, &i);
		if (i < len && s[i] == '/') {
			i++;
			skip_cfws(s, len, &i);
			sb = i;
			se = i = token(s, len, i);
		}
		if (te == tb || se == sb) {
			f->invalid = 1;
			f->type = ims__mime_dupn("text", 4);
			f->subtype = ims__mime_dupn("plain", 5);
		} else {
			f->type = ims__mime_dup_lower(s + tb, te - tb);
			f->subtype = ims__mime_dup_lower(s + sb, se - sb);
		}
		if (f->type == NULL || f->subtype == NULL)
			goto nomem;
	} else if (te > tb) {
		f->type = ims__mime_dup_lower(s + tb, te - tb);
		if (f->type == NULL)
			goto nomem;
	} else {
		f->invalid = 1;
	}
	e = parse_params(s, len, i, rl);
	if (e != IMS_OK)
		goto fail;
	for (k = 0; k < rl->n; k++) {
		raw[k].name = rl->scratch.data + rl->off[k][0];
		raw[k].name_len = rl->off[k][1];
		raw[k].value = rl->scratch.data + rl->off[k][2];
		raw[k].value_len = rl->off[k][3];
	}
	e = ims_mime_params_decode(&f->params, raw, rl->n, err);
	ims_buf_release(&rl->scratch);
	free(rl);
	ims_buf_release(&unf);
	return e;
nomem:
	e = IMS_ERR_NOMEM;
fail:
	ims_buf_release(&rl->scratch);
	free(rl);
	ims_buf_release(&unf);
	return e == IMS_ERR_NOMEM ? nomem(err) : ims_error_set(err, e, "mime: field too long");
}

ims_err ims_mime_content_type_parse(struct ims_mime_field *f, const char *s, size_t len,
                                    struct ims_error *err)
{
	return field_parse(f, s, len, 1, err);
}

ims_err ims_mime_disposition_parse(struct ims_mime_field *f, const char *s, size_t len,
                                   struct ims_error *err)
{
	return field_parse(f, s, len, 0, err);
}

/* ---- parts ---- */

void ims_mime_part_init(struct ims_mime_part *p)
{
	p->section[0] = '\0';
	p->parent = IMS_MIME_NO_PARENT;
	p->depth = 0;
	p->type = NULL;
	p->subtype = NULL;
	ims_mime_params_init(&p->params);
	p->encoding = NULL;
	p->disposition = NULL;
	ims_mime_params_init(&p->disp_params);
	p->filename = NULL;
	p->size = 0;
	p->decoded_size = IMS_MIME_SIZE_UNKNOWN;
	p->hdr_off = p->hdr_len = p->body_off = p->body_len = 0;
	p->flags = 0;
}

void ims_mime_part_release(struct ims_mime_part *p)
{
	free(p->type);
	free(p->subtype);
	ims_mime_params_release(&p->params);
	free(p->encoding);
	free(p->disposition);
	ims_mime_params_release(&p->disp_params);
	free(p->filename);
	p->type = p->subtype = p->encoding = p->disposition = p->filename = NULL;
}

int ims_mime_part_is(const struct ims_mime_part *p, const char *type, const char *subtype)
{
	if (p->type == NULL || !ims__mime_eq_nocase(type, strlen(type), p->type))
		return 0;
	if (subtype == NULL)
		return 1;
	return p->subtype != NULL && ims__mime_eq_nocase(subtype, strlen(subtype), p->subtype);
}

/* A lower-case copy of s without blanks and quotes around; NULL in,
 * or nothing left, gives *r NULL.  Returns 0 for memory. */
static int dup_word(const char *s, char **r)
{
	size_t b = 0, e;

	*r = NULL;
	if (s == NULL)
		return 1;
	e = strlen(s);
	while (b < e && (is_blank(s[b]) || s[b] == '"'))
		b++;
	while (e > b && (is_blank(s[e - 1]) || s[e - 1] == '"'))
		e--;
	if (e == b)
		return 1;
	*r = ims__mime_dup_lower(s + b, e - b);
	return *r != NULL;
}

ims_err ims__mime_part_fill_filename(struct ims_mime_part *p, struct ims_error *err)
{
	const char *fn = ims_mime_params_get(&p->disp_params, "filename");

	if (fn == NULL || fn[0] == '\0')
		fn = ims_mime_params_get(&p->params, "name");
	free(p->filename);
	p->filename = NULL;
	if (fn == NULL || fn[0] == '\0')
		return IMS_OK;
	p->filename = ims__mime_dupn(fn, strlen(fn));
	return p->filename != NULL ? IMS_OK : nomem(err);
}

ims_err ims_mime_part_set(struct ims_mime_part *p, const char *type, const char *subtype,
                          const struct ims_mime_rawparam *params, size_t n_params,
                          const char *encoding, const char *disposition,
                          const struct ims_mime_rawparam *disp_params, size_t n_disp_params,
                          struct ims_error *err)
{
	ims_err e;

	free(p->type);
	free(p->subtype);
	free(p->encoding);
	free(p->disposition);
	p->type = p->subtype = p->encoding = p->disposition = NULL;
	ims_mime_params_release(&p->params);
	ims_mime_params_release(&p->disp_params);
	if (!dup_word(type, &p->type) || !dup_word(subtype, &p->subtype) ||
	    !dup_word(encoding, &p->encoding) || !dup_word(disposition, &p->disposition))
		return nomem(err);
	if (p->type == NULL || p->subtype == NULL) {
		free(p->type);
		free(p->subtype);
		p->type = ims__mime_dupn("text", 4);
		p->subtype = ims__mime_dupn("plain", 5);
		if (p->type == NULL || p->subtype == NULL)
			return nomem(err);
	}
	e = ims_mime_params_decode(&p->params, params, n_params, err);
	if (e == IMS_OK)
		e = ims_mime_params_decode(&p->disp_params, disp_params, n_disp_params, err);
	if (e == IMS_OK)
		e = ims__mime_part_fill_filename(p, err);
	return e;
}
