/* The typed layer of the response parser: from the value tree of one
 * response to struct ims_fetch, ims_list_entry, ... and typed response
 * codes.  Recursion (BODYSTRUCTURE) is bounded by the tree's depth, which
 * the tokenizer capped (limits.max_depth). */
#include "parser_int.h"

#include <stdio.h>
#include <string.h>

static int prefix_ci(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	return n >= wl && ims__eq_ci(s, wl, w);
}

static const struct {
	const char *kw;
	enum ims_data_kind kind;
} kinds[] = {
    {"EXISTS", IMS_DATA_EXISTS},
    {"RECENT", IMS_DATA_RECENT},
    {"EXPUNGE", IMS_DATA_EXPUNGE},
    {"FETCH", IMS_DATA_FETCH},
    {"LIST", IMS_DATA_LIST},
    {"LSUB", IMS_DATA_LSUB},
    {"STATUS", IMS_DATA_STATUS},
    {"SEARCH", IMS_DATA_SEARCH},
    {"ESEARCH", IMS_DATA_ESEARCH},
    {"FLAGS", IMS_DATA_FLAGS},
    {"CAPABILITY", IMS_DATA_CAPABILITY},
    {"ENABLED", IMS_DATA_ENABLED},
    {"QUOTA", IMS_DATA_QUOTA},
    {"QUOTAROOT", IMS_DATA_QUOTAROOT},
    {"NAMESPACE", IMS_DATA_NAMESPACE},
    {"ID", IMS_DATA_ID},
    {"VANISHED", IMS_DATA_VANISHED},
};

enum ims_data_kind ims__data_kind(const char *kw, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (ims__eq_ci(kw, len, kinds[i].kw))
			return kinds[i].kind;
	return IMS_DATA_OTHER;
}

/* ---- value helpers ---- */

struct ctx {
	struct ims__arena *a;
	const char *kw; /* for messages */
	struct ims_error *err;
};

static ims_err bad(struct ctx *c, const char *what)
{
	return ims_error_set(c->err, IMS_ERR_PROTOCOL, "malformed %s response from the server: %s",
	                     c->kw, what);
}

static ims_err nomem(struct ctx *c)
{
	return ims_error_set(c->err, IMS_ERR_NOMEM, "out of memory (parsing %s)", c->kw);
}

static void *alloc(struct ctx *c, size_t n, size_t size)
{
	if (n != 0 && size > SIZE_MAX / 2 / n)
		return NULL;
	return ims__arena_alloc(c->a, n * size);
}

/* astring: atom, number, NIL as text, quoted, literal in memory. */
static int astr(const struct ims_value *v, const char **s, size_t *n)
{
	if (v == NULL || v->type == IMS_V_LIST || v->s == NULL)
		return 0;
	*s = v->s;
	if (n != NULL)
		*n = v->len;
	return 1;
}

/* string: quoted or literal in memory. */
static int str(const struct ims_value *v, const char **s, size_t *n)
{
	if (!ims_value_is_string(v))
		return 0;
	return astr(v, s, n);
}

/* nstring: NIL gives NULL.  Atoms are taken too (lenient). */
static int nstr(const struct ims_value *v, const char **s, size_t *n)
{
	if (v != NULL && v->type == IMS_V_NIL) {
		*s = NULL;
		if (n != NULL)
			*n = 0;
		return 1;
	}
	return astr(v, s, n);
}

static int num_u32(const struct ims_value *v, uint32_t *r, int nz)
{
	if (v == NULL || v->type != IMS_V_NUMBER || (v->flags & IMS_VF_BIG) ||
	    v->num > UINT32_MAX || (nz && v->num == 0))
		return 0;
	*r = (uint32_t)v->num;
	return 1;
}

static int num_u63(const struct ims_value *v, uint64_t *r, int nz)
{
	if (v == NULL || v->type != IMS_V_NUMBER || (v->flags & IMS_VF_BIG) ||
	    v->num > (uint64_t)INT64_MAX || (nz && v->num == 0))
		return 0;
	*r = v->num;
	return 1;
}

/* A sequence set as an atom (or a lone number). */
static int seqset_text(const struct ims_value *v, const char **s)
{
	if (v == NULL || (v->type != IMS_V_ATOM && v->type != IMS_V_NUMBER))
		return 0;
	*s = v->s;
	return 1;
}

static int is_list(const struct ims_value *v)
{
	return v != NULL && v->type == IMS_V_LIST;
}

/* Items of a list (or, with whole, of the args) as strings. */
static ims_err strings(struct ctx *c, const struct ims_value *l, size_t from, int allow_strings,
                       struct ims_strings *out)
{
	const char **v;
	size_t i, k = 0;

	out->v = NULL;
	out->n = 0;
	if (l->n <= from)
		return IMS_OK;
	v = alloc(c, l->n - from, sizeof(*v));
	if (v == NULL)
		return nomem(c);
	for (i = from; i < l->n; i++) {
		const struct ims_value *x = &l->v[i];

		if (x->type == IMS_V_LIST || x->s == NULL)
			return bad(c, "a list where a word belongs");
		if (!allow_strings && (x->type == IMS_V_QUOTED || x->type == IMS_V_LITERAL))
			return bad(c, "a string where an atom belongs");
		v[k++] = x->s;
	}
	out->v = v;
	out->n = k;
	return IMS_OK;
}

/* ---- ENVELOPE ---- */

static ims_err addresses(struct ctx *c, const struct ims_value *v, struct ims_addresses *out)
{
	struct ims_address *a;
	size_t i;

	out->v = NULL;
	out->n = 0;
	if (v->type == IMS_V_NIL)
		return IMS_OK;
	if (!is_list(v))
		return bad(c, "an ENVELOPE address list is not a list");
	if (v->n == 0)
		return IMS_OK;
	a = alloc(c, v->n, sizeof(*a));
	if (a == NULL)
		return nomem(c);
	for (i = 0; i < v->n; i++) {
		const struct ims_value *x = &v->v[i];

		if (!is_list(x) || x->n != 4 || !nstr(&x->v[0], &a[i].name, NULL) ||
		    !nstr(&x->v[1], &a[i].adl, NULL) || !nstr(&x->v[2], &a[i].mailbox, NULL) ||
		    !nstr(&x->v[3], &a[i].host, NULL))
			return bad(c, "an ENVELOPE address is not four strings");
	}
	out->v = a;
	out->n = v->n;
	return IMS_OK;
}

static ims_err envelope(struct ctx *c, const struct ims_value *v, const struct ims_envelope **out)
{
	struct ims_envelope *e;
	ims_err r;

	if (!is_list(v) || v->n != 10)
		return bad(c, "ENVELOPE is not a list of ten fields");
	e = alloc(c, 1, sizeof(*e));
	if (e == NULL)
		return nomem(c);
	if (!nstr(&v->v[0], &e->date, NULL) || !nstr(&v->v[1], &e->subject, NULL) ||
	    !nstr(&v->v[8], &e->in_reply_to, NULL) || !nstr(&v->v[9], &e->message_id, NULL))
		return bad(c, "an ENVELOPE field is not a string");
	if ((r = addresses(c, &v->v[2], &e->from)) != IMS_OK ||
	    (r = addresses(c, &v->v[3], &e->sender)) != IMS_OK ||
	    (r = addresses(c, &v->v[4], &e->reply_to)) != IMS_OK ||
	    (r = addresses(c, &v->v[5], &e->to)) != IMS_OK ||
	    (r = addresses(c, &v->v[6], &e->cc)) != IMS_OK ||
	    (r = addresses(c, &v->v[7], &e->bcc)) != IMS_OK)
		return r;
	*out = e;
	return IMS_OK;
}

/* ---- BODY / BODYSTRUCTURE ---- */

static ims_err params(struct ctx *c, const struct ims_value *v, const struct ims_body_param **out,
                      size_t *n_out)
{
	struct ims_body_param *p;
	size_t i;

	*out = NULL;
	*n_out = 0;
	if (v->type == IMS_V_NIL)
		return IMS_OK;
	if (!is_list(v) || v->n % 2 != 0)
		return bad(c, "body parameters are not name-value pairs");
	if (v->n == 0)
		return IMS_OK;
	p = alloc(c, v->n / 2, sizeof(*p));
	if (p == NULL)
		return nomem(c);
	for (i = 0; i < v->n / 2; i++)
		if (!astr(&v->v[2 * i], &p[i].name, NULL) ||
		    !nstr(&v->v[2 * i + 1], &p[i].value, NULL))
			return bad(c, "a body parameter is not a string");
	*out = p;
	*n_out = v->n / 2;
	return IMS_OK;
}

/* body-fld-dsp, body-fld-lang, body-fld-loc from v[i...]. */
static ims_err body_ext(struct ctx *c, const struct ims_value *v, size_t i, struct ims_body *b)
{
	ims_err r;

	if (i >= v->n)
		return IMS_OK;
	b->extended = 1;
	{
		const struct ims_value *d = &v->v[i];

		if (is_list(d)) {
			if (d->n < 1 || !astr(&d->v[0], &b->disposition, NULL))
				return bad(c, "a body disposition without a type");
			if (d->n >= 2) {
				r = params(c, &d->v[1], &b->disp_params, &b->n_disp_params);
				if (r != IMS_OK)
					return r;
			}
		} else if (!nstr(d, &b->disposition, NULL)) {
			return bad(c, "a malformed body disposition");
		}
	}
	if (++i >= v->n)
		return IMS_OK;
	{
		const struct ims_value *l = &v->v[i];

		if (is_list(l)) {
			struct ims_strings s;

			r = strings(c, l, 0, 1, &s);
			if (r != IMS_OK)
				return r;
			b->language = s.v;
			b->n_language = s.n;
		} else {
			const char *one;

			if (!nstr(l, &one, NULL))
				return bad(c, "a malformed body language");
			if (one != NULL) {
				const char **lv = alloc(c, 1, sizeof(*lv));

				if (lv == NULL)
					return nomem(c);
				lv[0] = one;
				b->language = lv;
				b->n_language = 1;
			}
		}
	}
	if (++i >= v->n)
		return IMS_OK;
	if (!nstr(&v->v[i], &b->location, NULL))
		return bad(c, "a malformed body location");
	return IMS_OK; /* further extensions are ignored */
}

static const char *part_id(struct ctx *c, const char *parent, size_t n)
{
	size_t len = strlen(parent) + 24;
	char *s = alloc(c, len, 1);

	if (s == NULL)
		return NULL;
	if (parent[0] == '\0')
		snprintf(s, len, "%zu", n);
	else
		snprintf(s, len, "%s.%zu", parent, n);
	return s;
}

/* v is a body; id is its section number, or with container the number of
 * the message that holds it ("" for the top). */
static ims_err body(struct ctx *c, const struct ims_value *v, const char *id, int container,
                    struct ims_body *b)
{
	ims_err r;
	size_t i, k;

	if (!is_list(v) || v->n == 0)
		return bad(c, "a body structure that is not a list");
	if (is_list(&v->v[0])) {
		struct ims_body *parts;

		for (k = 0; k < v->n && is_list(&v->v[k]); k++)
			;
		if (k == v->n || !astr(&v->v[k], &b->subtype, NULL))
			return bad(c, "a multipart body without a subtype");
		b->multipart = 1;
		b->type = "MULTIPART";
		b->part = id;
		parts = alloc(c, k, sizeof(*parts));
		if (parts == NULL)
			return nomem(c);
		for (i = 0; i < k; i++) {
			const char *cid = part_id(c, id, i + 1);

			if (cid == NULL)
				return nomem(c);
			r = body(c, &v->v[i], cid, 0, &parts[i]);
			if (r != IMS_OK)
				return r;
		}
		b->parts = parts;
		b->n_parts = k;
		i = k + 1;
		if (i < v->n) {
			b->extended = 1;
			r = params(c, &v->v[i], &b->params, &b->n_params);
			if (r != IMS_OK)
				return r;
			return body_ext(c, v, i + 1, b);
		}
		return IMS_OK;
	}
	if (container) {
		id = part_id(c, id, 1);
		if (id == NULL)
			return nomem(c);
	}
	b->part = id;
	if (v->n < 7)
		return bad(c, "a body part with fewer than seven fields");
	if (!astr(&v->v[0], &b->type, NULL) || !astr(&v->v[1], &b->subtype, NULL))
		return bad(c, "a body part without a type");
	r = params(c, &v->v[2], &b->params, &b->n_params);
	if (r != IMS_OK)
		return r;
	if (!nstr(&v->v[3], &b->id, NULL) || !nstr(&v->v[4], &b->description, NULL) ||
	    !nstr(&v->v[5], &b->encoding, NULL))
		return bad(c, "a body field is not a string");
	if (!num_u63(&v->v[6], &b->size, 0))
		return bad(c, "a body size is not a number");
	i = 7;
	if (ims__eq_ci(b->type, strlen(b->type), "MESSAGE") &&
	    (ims__eq_ci(b->subtype, strlen(b->subtype), "RFC822") ||
	     ims__eq_ci(b->subtype, strlen(b->subtype), "GLOBAL")) &&
	    v->n >= 10 && is_list(&v->v[7]) && is_list(&v->v[8])) {
		struct ims_body *inner = alloc(c, 1, sizeof(*inner));

		if (inner == NULL)
			return nomem(c);
		r = envelope(c, &v->v[7], &b->envelope);
		if (r != IMS_OK)
			return r;
		r = body(c, &v->v[8], id, 1, inner);
		if (r != IMS_OK)
			return r;
		b->parts = inner;
		b->n_parts = 1;
		if (!num_u63(&v->v[9], &b->lines, 0))
			return bad(c, "a message part's line count is not a number");
		i = 10;
	} else if (ims__eq_ci(b->type, strlen(b->type), "TEXT")) {
		if (!num_u63(&v->v[7], &b->lines, 0))
			return bad(c, "a text part's line count is not a number");
		i = 8;
	}
	if (i < v->n) {
		b->extended = 1;
		if (!nstr(&v->v[i], &b->md5, NULL))
			return bad(c, "a malformed body MD5");
		return body_ext(c, v, i + 1, b);
	}
	return IMS_OK;
}

/* ---- FETCH ---- */

static int section_item(const char *s, size_t n, int *binary, size_t *pre)
{
	*binary = 0;
	if (prefix_ci(s, n, "BODY[")) {
		*pre = 5;
		return 1;
	}
	if (prefix_ci(s, n, "BINARY[")) {
		*binary = 1;
		*pre = 7;
		return 1;
	}
	if (ims__eq_ci(s, n, "RFC822")) {
		*pre = 6;
		return 1;
	}
	if (ims__eq_ci(s, n, "RFC822.HEADER") || ims__eq_ci(s, n, "RFC822.TEXT")) {
		*pre = 7;
		return 1;
	}
	return 0;
}

static ims_err fetch_section(struct ctx *c, const struct ims_value *nm, const struct ims_value *val,
                             int binary, size_t pre, struct ims_fetch_section *fs)
{
	const char *s = nm->s;
	size_t n = nm->len, close;

	fs->item = s;
	fs->binary = binary;
	fs->value = val;
	if (val->type != IMS_V_NIL && val->type != IMS_V_QUOTED && val->type != IMS_V_LITERAL)
		return bad(c, "a body section's value is not a string");
	if (prefix_ci(s, n, "RFC822")) {
		fs->section = n > 7 ? ims__arena_strndup(c->a, s + 7, n - 7) : "";
		return fs->section == NULL ? nomem(c) : IMS_OK;
	}
	for (close = n; close > pre; close--)
		if (s[close - 1] == ']')
			break;
	if (close == pre)
		return bad(c, "a body section without ']'");
	fs->section = ims__arena_strndup(c->a, s + pre, close - 1 - pre);
	if (fs->section == NULL)
		return nomem(c);
	if (close < n) {
		size_t i;
		uint64_t o = 0;

		if (s[close] != '<' || s[n - 1] != '>' || n - close < 3 || n - close > 12)
			return bad(c, "a malformed body section origin");
		for (i = close + 1; i < n - 1; i++) {
			if (s[i] < '0' || s[i] > '9')
				return bad(c, "a malformed body section origin");
			o = o * 10 + (uint64_t)(s[i] - '0');
		}
		if (o > UINT32_MAX)
			return bad(c, "a body section origin out of range");
		fs->has_origin = 1;
		fs->origin = (uint32_t)o;
	}
	return IMS_OK;
}

static ims_err typed_fetch(struct ctx *c, struct ims_response *r)
{
	struct ims_fetch *f = &r->u.fetch;
	const struct ims_value *l;
	struct ims_fetch_section *secs = NULL;
	size_t i, n_secs = 0, pre;
	int binary;
	ims_err e;

	f->seq = r->number;
	if (r->args->n != 1 || !is_list(&r->args->v[0]))
		return bad(c, "no list of items");
	l = &r->args->v[0];
	if (l->n % 2 != 0)
		return bad(c, "an item without a value");
	f->items = l;
	for (i = 0; i < l->n; i += 2)
		if (l->v[i].type == IMS_V_ATOM &&
		    section_item(l->v[i].s, l->v[i].len, &binary, &pre))
			n_secs++;
	if (n_secs != 0) {
		secs = alloc(c, n_secs, sizeof(*secs));
		if (secs == NULL)
			return nomem(c);
	}
	for (i = 0; i < l->n; i += 2) {
		const struct ims_value *nm = &l->v[i], *val = &l->v[i + 1];
		const char *s = nm->s;
		size_t n = nm->len;

		if (nm->type != IMS_V_ATOM)
			return bad(c, "an item name that is not an atom");
		if (ims__eq_ci(s, n, "UID")) {
			if (!num_u32(val, &f->uid, 1))
				return bad(c, "UID is not a number from 1 to 4294967295");
			f->have |= IMS_FETCH_UID;
		} else if (ims__eq_ci(s, n, "FLAGS")) {
			if (!is_list(val))
				return bad(c, "FLAGS is not a list");
			e = strings(c, val, 0, 0, &f->flags);
			if (e != IMS_OK)
				return e;
			f->have |= IMS_FETCH_FLAGS;
		} else if (ims__eq_ci(s, n, "INTERNALDATE")) {
			if (!str(val, &f->internaldate, NULL))
				return bad(c, "INTERNALDATE is not a string");
			if (ims_parse_date_time(f->internaldate, &f->internaldate_epoch) != IMS_OK)
				f->internaldate_epoch = 0;
			f->have |= IMS_FETCH_INTERNALDATE;
		} else if (ims__eq_ci(s, n, "RFC822.SIZE")) {
			if (!num_u63(val, &f->rfc822_size, 0))
				return bad(c, "RFC822.SIZE is not a number");
			f->have |= IMS_FETCH_SIZE;
		} else if (ims__eq_ci(s, n, "MODSEQ")) {
			if (!is_list(val) || val->n != 1 || !num_u63(&val->v[0], &f->modseq, 1))
				return bad(c, "MODSEQ is not a number in parentheses");
			f->have |= IMS_FETCH_MODSEQ;
		} else if (ims__eq_ci(s, n, "ENVELOPE")) {
			e = envelope(c, val, &f->envelope);
			if (e != IMS_OK)
				return e;
			f->have |= IMS_FETCH_ENVELOPE;
		} else if (ims__eq_ci(s, n, "BODY") || ims__eq_ci(s, n, "BODYSTRUCTURE")) {
			struct ims_body *b = alloc(c, 1, sizeof(*b));

			if (b == NULL)
				return nomem(c);
			e = body(c, val, "", 1, b);
			if (e != IMS_OK)
				return e;
			f->body = b;
			f->body_extended = n == 13;
			f->have |= IMS_FETCH_BODY;
		} else if (section_item(s, n, &binary, &pre)) {
			e = fetch_section(c, nm, val, binary, pre, &secs[f->n_sections]);
			if (e != IMS_OK)
				return e;
			f->n_sections++;
		}
	}
	f->sections = secs;
	return IMS_OK;
}

/* ---- LIST / LSUB ---- */

static const struct {
	const char *name;
	unsigned bit;
} list_attrs[] = {
    {"\\NOINFERIORS", IMS_LIST_NOINFERIORS}, {"\\NOSELECT", IMS_LIST_NOSELECT},
    {"\\MARKED", IMS_LIST_MARKED},           {"\\UNMARKED", IMS_LIST_UNMARKED},
    {"\\HASCHILDREN", IMS_LIST_HASCHILDREN}, {"\\HASNOCHILDREN", IMS_LIST_HASNOCHILDREN},
    {"\\NONEXISTENT", IMS_LIST_NONEXISTENT}, {"\\SUBSCRIBED", IMS_LIST_SUBSCRIBED},
    {"\\REMOTE", IMS_LIST_REMOTE},
};

static const char *const special_uses[] = {"\\ALL",  "\\ARCHIVE", "\\DRAFTS", "\\FLAGGED",
                                           "\\JUNK", "\\SENT",    "\\TRASH",  "\\IMPORTANT"};

static int delimiter(const struct ims_value *v, char *d)
{
	if (v->type == IMS_V_NIL) {
		*d = 0;
		return 1;
	}
	if (v->type != IMS_V_QUOTED || v->len != 1)
		return 0;
	*d = v->s[0];
	return 1;
}

static ims_err typed_list(struct ctx *c, struct ims_response *r)
{
	struct ims_list_entry *le = &r->u.list;
	const struct ims_value *a = r->args;
	size_t i, j;
	ims_err e;

	if (a->n < 3 || a->n > 4 || !is_list(&a->v[0]))
		return bad(c, "not (attributes) delimiter name");
	e = strings(c, &a->v[0], 0, 0, &le->attrs);
	if (e != IMS_OK)
		return e;
	for (i = 0; i < le->attrs.n; i++) {
		const char *at = le->attrs.v[i];
		size_t n = strlen(at);

		for (j = 0; j < sizeof(list_attrs) / sizeof(list_attrs[0]); j++)
			if (ims__eq_ci(at, n, list_attrs[j].name))
				le->attr_bits |= list_attrs[j].bit;
		for (j = 0; j < sizeof(special_uses) / sizeof(special_uses[0]); j++)
			if (le->special_use == NULL && ims__eq_ci(at, n, special_uses[j]))
				le->special_use = at;
	}
	if (!delimiter(&a->v[1], &le->delim))
		return bad(c, "the hierarchy delimiter is not one character");
	if (!astr(&a->v[2], &le->name, &le->name_len))
		return bad(c, "the mailbox name is not a string");
	if (a->n == 4) {
		const struct ims_value *x = &a->v[3];

		if (!is_list(x) || x->n % 2 != 0)
			return bad(c, "malformed extended data");
		le->ext = x;
		for (i = 0; i < x->n; i += 2) {
			const struct ims_value *t = &x->v[i], *val = &x->v[i + 1];

			if (ims_value_is_atom(t, "OLDNAME") ||
			    (t->type == IMS_V_QUOTED && ims__eq_ci(t->s, t->len, "OLDNAME"))) {
				if (!is_list(val) || val->n != 1 ||
				    !astr(&val->v[0], &le->oldname, &le->oldname_len))
					return bad(c, "malformed OLDNAME");
			} else if (ims_value_is_atom(t, "CHILDINFO") ||
			           (t->type == IMS_V_QUOTED &&
			            ims__eq_ci(t->s, t->len, "CHILDINFO"))) {
				if (is_list(val))
					for (j = 0; j < val->n; j++)
						if (val->v[j].s != NULL &&
						    ims__eq_ci(val->v[j].s, val->v[j].len,
						               "SUBSCRIBED"))
							le->child_subscribed = 1;
			}
		}
	}
	return IMS_OK;
}

/* ---- STATUS ---- */

static ims_err typed_status(struct ctx *c, struct ims_response *r)
{
	struct ims_mbox_status *st = &r->u.status;
	const struct ims_value *a = r->args, *l;
	size_t i;

	if (a->n != 2 || !astr(&a->v[0], &st->name, &st->name_len) || !is_list(&a->v[1]))
		return bad(c, "not mailbox (items)");
	l = &a->v[1];
	if (l->n % 2 != 0)
		return bad(c, "an item without a value");
	for (i = 0; i < l->n; i += 2) {
		const struct ims_value *nm = &l->v[i], *val = &l->v[i + 1];
		int ok = 1;

		if (nm->type != IMS_V_ATOM)
			return bad(c, "an item name that is not an atom");
		if (ims_value_is_atom(nm, "MESSAGES")) {
			ok = num_u32(val, &st->messages, 0);
			st->have |= IMS_STATUS_MESSAGES;
		} else if (ims_value_is_atom(nm, "RECENT")) {
			ok = num_u32(val, &st->recent, 0);
			st->have |= IMS_STATUS_RECENT;
		} else if (ims_value_is_atom(nm, "UIDNEXT")) {
			ok = num_u32(val, &st->uidnext, 0);
			st->have |= IMS_STATUS_UIDNEXT;
		} else if (ims_value_is_atom(nm, "UIDVALIDITY")) {
			ok = num_u32(val, &st->uidvalidity, 0);
			st->have |= IMS_STATUS_UIDVALIDITY;
		} else if (ims_value_is_atom(nm, "UNSEEN")) {
			ok = num_u32(val, &st->unseen, 0);
			st->have |= IMS_STATUS_UNSEEN;
		} else if (ims_value_is_atom(nm, "DELETED")) {
			ok = num_u32(val, &st->deleted, 0);
			st->have |= IMS_STATUS_DELETED;
		} else if (ims_value_is_atom(nm, "SIZE")) {
			ok = num_u63(val, &st->size, 0);
			st->have |= IMS_STATUS_SIZE;
		} else if (ims_value_is_atom(nm, "HIGHESTMODSEQ")) {
			ok = num_u63(val, &st->highestmodseq, 0);
			st->have |= IMS_STATUS_HIGHESTMODSEQ;
		}
		if (!ok)
			return bad(c, "a status item out of range");
	}
	return IMS_OK;
}

/* ---- SEARCH / ESEARCH ---- */

static ims_err typed_search(struct ctx *c, struct ims_response *r)
{
	struct ims_search *s = &r->u.search;
	const struct ims_value *a = r->args;
	size_t n = a->n, i;
	uint32_t *nums;

	if (n > 0 && is_list(&a->v[n - 1])) {
		const struct ims_value *m = &a->v[n - 1];

		if (m->n != 2 || !ims_value_is_atom(&m->v[0], "MODSEQ") ||
		    !num_u63(&m->v[1], &s->modseq, 0))
			return bad(c, "malformed (MODSEQ n)");
		n--;
	}
	if (n == 0)
		return IMS_OK;
	nums = alloc(c, n, sizeof(*nums));
	if (nums == NULL)
		return nomem(c);
	for (i = 0; i < n; i++)
		if (!num_u32(&a->v[i], &nums[i], 1))
			return bad(c, "a result that is not a number from 1 to 4294967295");
	s->nums = nums;
	s->n = n;
	return IMS_OK;
}

static ims_err typed_esearch(struct ctx *c, struct ims_response *r)
{
	struct ims_esearch *es = &r->u.esearch;
	const struct ims_value *a = r->args;
	size_t i = 0, j;

	if (i < a->n && is_list(&a->v[i])) {
		const struct ims_value *corr = &a->v[i];

		if (corr->n % 2 != 0)
			return bad(c, "a malformed correlator");
		for (j = 0; j < corr->n; j += 2)
			if (ims_value_is_atom(&corr->v[j], "TAG") &&
			    !str(&corr->v[j + 1], &es->tag, NULL))
				return bad(c, "a malformed TAG correlator");
		i++;
	}
	if (i < a->n && ims_value_is_atom(&a->v[i], "UID")) {
		es->uid = 1;
		i++;
	}
	for (; i < a->n; i += 2) {
		const struct ims_value *nm = &a->v[i], *val;
		int ok = 1;

		if (i + 1 >= a->n || nm->type != IMS_V_ATOM)
			return bad(c, "a result without a value");
		val = &a->v[i + 1];
		if (ims_value_is_atom(nm, "MIN")) {
			ok = num_u32(val, &es->min, 1);
			es->have |= IMS_ESEARCH_MIN;
		} else if (ims_value_is_atom(nm, "MAX")) {
			ok = num_u32(val, &es->max, 1);
			es->have |= IMS_ESEARCH_MAX;
		} else if (ims_value_is_atom(nm, "COUNT")) {
			ok = num_u32(val, &es->count, 0);
			es->have |= IMS_ESEARCH_COUNT;
		} else if (ims_value_is_atom(nm, "ALL")) {
			ok = seqset_text(val, &es->all);
			es->have |= IMS_ESEARCH_ALL;
		} else if (ims_value_is_atom(nm, "MODSEQ")) {
			ok = num_u63(val, &es->modseq, 0);
			es->have |= IMS_ESEARCH_MODSEQ;
		}
		if (!ok)
			return bad(c, "a result out of range");
	}
	return IMS_OK;
}

/* ---- QUOTA, QUOTAROOT, NAMESPACE, ID, VANISHED ---- */

static ims_err typed_quota(struct ctx *c, struct ims_response *r)
{
	struct ims_quota *q = &r->u.quota;
	const struct ims_value *a = r->args, *l;
	struct ims_quota_resource *res;
	size_t i;

	if (a->n == 1 && astr(&a->v[0], &q->root, NULL)) {
		/* Courier-IMAP: `* QUOTA "ROOT"`, the root without its list */
		r->lenient = "a QUOTA response without its resource list (read as no limits)";
		return IMS_OK;
	}
	if (a->n != 2 || !astr(&a->v[0], &q->root, NULL) || !is_list(&a->v[1]))
		return bad(c, "not root (resources)");
	l = &a->v[1];
	if (l->n % 3 != 0)
		return bad(c, "resources are not name usage limit");
	if (l->n == 0)
		return IMS_OK;
	res = alloc(c, l->n / 3, sizeof(*res));
	if (res == NULL)
		return nomem(c);
	for (i = 0; i < l->n / 3; i++)
		if (l->v[3 * i].type != IMS_V_ATOM || !astr(&l->v[3 * i], &res[i].name, NULL) ||
		    !num_u63(&l->v[3 * i + 1], &res[i].usage, 0) ||
		    !num_u63(&l->v[3 * i + 2], &res[i].limit, 0))
			return bad(c, "a malformed resource");
	q->res = res;
	q->n = l->n / 3;
	return IMS_OK;
}

static ims_err typed_quotaroot(struct ctx *c, struct ims_response *r)
{
	struct ims_quotaroot *q = &r->u.quotaroot;
	const struct ims_value *a = r->args;
	size_t i;

	if (a->n < 1 || !astr(&a->v[0], &q->mailbox, &q->mailbox_len))
		return bad(c, "no mailbox name");
	for (i = 1; i < a->n; i++)
		if (is_list(&a->v[i]) || a->v[i].s == NULL)
			return bad(c, "a quota root that is not a string");
	return strings(c, a, 1, 1, &q->roots);
}

static ims_err ns_list(struct ctx *c, const struct ims_value *v, struct ims_ns_list *out)
{
	struct ims_ns_entry *e;
	size_t i;

	out->v = NULL;
	out->n = 0;
	if (v->type == IMS_V_NIL)
		return IMS_OK;
	if (!is_list(v) || v->n == 0)
		return bad(c, "a namespace is neither NIL nor a list");
	e = alloc(c, v->n, sizeof(*e));
	if (e == NULL)
		return nomem(c);
	for (i = 0; i < v->n; i++) {
		const struct ims_value *x = &v->v[i];

		if (!is_list(x) || x->n < 2 || !str(&x->v[0], &e[i].prefix, &e[i].prefix_len) ||
		    !delimiter(&x->v[1], &e[i].delim))
			return bad(c, "a namespace is not (prefix delimiter)");
	}
	out->v = e;
	out->n = v->n;
	return IMS_OK;
}

static ims_err typed_namespace(struct ctx *c, struct ims_response *r)
{
	const struct ims_value *a = r->args;
	ims_err e;

	if (a->n != 3)
		return bad(c, "not three namespace lists");
	if ((e = ns_list(c, &a->v[0], &r->u.ns.personal)) != IMS_OK ||
	    (e = ns_list(c, &a->v[1], &r->u.ns.other)) != IMS_OK ||
	    (e = ns_list(c, &a->v[2], &r->u.ns.shared)) != IMS_OK)
		return e;
	return IMS_OK;
}

static ims_err typed_id(struct ctx *c, struct ims_response *r)
{
	const struct ims_value *a = r->args, *l;
	struct ims_body_param *p;
	size_t i;

	if (a->n != 1)
		return bad(c, "not NIL or one list");
	l = &a->v[0];
	if (l->type == IMS_V_NIL)
		return IMS_OK;
	if (!is_list(l) || l->n % 2 != 0)
		return bad(c, "not a list of name-value pairs");
	if (l->n == 0)
		return IMS_OK;
	p = alloc(c, l->n / 2, sizeof(*p));
	if (p == NULL)
		return nomem(c);
	for (i = 0; i < l->n / 2; i++)
		if (!str(&l->v[2 * i], &p[i].name, NULL) ||
		    !nstr(&l->v[2 * i + 1], &p[i].value, NULL))
			return bad(c, "a field is not a string");
	r->u.id.v = p;
	r->u.id.n = l->n / 2;
	return IMS_OK;
}

static ims_err typed_vanished(struct ctx *c, struct ims_response *r)
{
	const struct ims_value *a = r->args;
	size_t i = 0;

	if (a->n >= 1 && is_list(&a->v[0])) {
		if (a->v[0].n != 1 || !ims_value_is_atom(&a->v[0].v[0], "EARLIER"))
			return bad(c, "unknown modifier");
		r->u.vanished.earlier = 1;
		i = 1;
	}
	if (a->n != i + 1 || !seqset_text(&a->v[i], &r->u.vanished.uids))
		return bad(c, "no UID set");
	return IMS_OK;
}

static ims_err typed(struct ctx *c, struct ims_response *r);

/* Kinds whose content informs and changes no state: a slip in one leaves
 * the session sound. */
static int harmless(enum ims_data_kind k)
{
	return k == IMS_DATA_QUOTA || k == IMS_DATA_QUOTAROOT || k == IMS_DATA_ID ||
	       k == IMS_DATA_NAMESPACE;
}

/* Keep r as IMS_DATA_OTHER, the typed failure's words in r->lenient. */
static ims_err forgive(struct ctx *c, struct ims_response *r)
{
	char *w = ims__arena_strndup(c->a, c->err->msg, strlen(c->err->msg));

	if (w == NULL)
		return nomem(c);
	memset(&r->u, 0, sizeof(r->u));
	r->kind = IMS_DATA_OTHER;
	r->lenient = w;
	ims_error_init(c->err);
	return IMS_OK;
}

ims_err ims__parse_typed(struct ims__arena *a, struct ims_response *r, int lenient_all,
                         struct ims_error *err)
{
	struct ctx c = {a, r->keyword != NULL ? r->keyword : "untagged", err};
	ims_err e = typed(&c, r);

	if (e == IMS_ERR_PROTOCOL && (lenient_all || harmless(r->kind)))
		return forgive(&c, r);
	return e;
}

static ims_err typed(struct ctx *c0, struct ims_response *r)
{
	struct ctx c = *c0;

	switch (r->kind) {
	case IMS_DATA_EXISTS:
	case IMS_DATA_RECENT:
	case IMS_DATA_EXPUNGE:
		if (r->args->n != 0)
			return bad(&c, "unexpected data after the keyword");
		return IMS_OK;
	case IMS_DATA_FETCH: return typed_fetch(&c, r);
	case IMS_DATA_LIST:
	case IMS_DATA_LSUB: return typed_list(&c, r);
	case IMS_DATA_STATUS: return typed_status(&c, r);
	case IMS_DATA_SEARCH: return typed_search(&c, r);
	case IMS_DATA_ESEARCH: return typed_esearch(&c, r);
	case IMS_DATA_FLAGS:
		if (r->args->n != 1 || !is_list(&r->args->v[0]))
			return bad(&c, "not a list of flags");
		return strings(&c, &r->args->v[0], 0, 0, &r->u.strings);
	case IMS_DATA_CAPABILITY:
	case IMS_DATA_ENABLED: return strings(&c, r->args, 0, 0, &r->u.strings);
	case IMS_DATA_QUOTA: return typed_quota(&c, r);
	case IMS_DATA_QUOTAROOT: return typed_quotaroot(&c, r);
	case IMS_DATA_NAMESPACE: return typed_namespace(&c, r);
	case IMS_DATA_ID: return typed_id(&c, r);
	case IMS_DATA_VANISHED: return typed_vanished(&c, r);
	case IMS_DATA_NONE:
	case IMS_DATA_OTHER: break;
	}
	return IMS_OK;
}

/* ---- response codes ---- */

static const struct {
	const char *name;
	enum ims_code_kind kind;
} codes[] = {
    {"ALERT", IMS_CODE_ALERT},
    {"CAPABILITY", IMS_CODE_CAPABILITY},
    {"PERMANENTFLAGS", IMS_CODE_PERMANENTFLAGS},
    {"UIDNEXT", IMS_CODE_UIDNEXT},
    {"UIDVALIDITY", IMS_CODE_UIDVALIDITY},
    {"UNSEEN", IMS_CODE_UNSEEN},
    {"READ-ONLY", IMS_CODE_READ_ONLY},
    {"READ-WRITE", IMS_CODE_READ_WRITE},
    {"TRYCREATE", IMS_CODE_TRYCREATE},
    {"APPENDUID", IMS_CODE_APPENDUID},
    {"COPYUID", IMS_CODE_COPYUID},
    {"UIDNOTSTICKY", IMS_CODE_UIDNOTSTICKY},
    {"HIGHESTMODSEQ", IMS_CODE_HIGHESTMODSEQ},
    {"NOMODSEQ", IMS_CODE_NOMODSEQ},
    {"MODIFIED", IMS_CODE_MODIFIED},
    {"CLOSED", IMS_CODE_CLOSED},
    {"PARSE", IMS_CODE_PARSE},
    {"BADCHARSET", IMS_CODE_BADCHARSET},
    {"REFERRAL", IMS_CODE_REFERRAL},
    {"AUTHENTICATIONFAILED", IMS_CODE_AUTHENTICATIONFAILED},
    {"AUTHORIZATIONFAILED", IMS_CODE_AUTHORIZATIONFAILED},
    {"EXPIRED", IMS_CODE_EXPIRED},
    {"UNAVAILABLE", IMS_CODE_UNAVAILABLE},
    {"PRIVACYREQUIRED", IMS_CODE_PRIVACYREQUIRED},
    {"CONTACTADMIN", IMS_CODE_CONTACTADMIN},
    {"NOPERM", IMS_CODE_NOPERM},
    {"INUSE", IMS_CODE_INUSE},
    {"EXPUNGEISSUED", IMS_CODE_EXPUNGEISSUED},
    {"CORRUPTION", IMS_CODE_CORRUPTION},
    {"SERVERBUG", IMS_CODE_SERVERBUG},
    {"CLIENTBUG", IMS_CODE_CLIENTBUG},
    {"CANNOT", IMS_CODE_CANNOT},
    {"LIMIT", IMS_CODE_LIMIT},
    {"OVERQUOTA", IMS_CODE_OVERQUOTA},
    {"ALREADYEXISTS", IMS_CODE_ALREADYEXISTS},
    {"NONEXISTENT", IMS_CODE_NONEXISTENT},
    {"HASCHILDREN", IMS_CODE_HASCHILDREN},
    {"WEBALERT", IMS_CODE_WEBALERT},
};

const char *ims_code_name(enum ims_code_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].kind == k)
			return codes[i].name;
	return k == IMS_CODE_NONE ? "" : "OTHER";
}

static ims_err parse_code(struct ims__arena *a, struct ims_response *r, int args_bad,
                          struct ims_error *err);

/* A known code whose arguments cannot be read is kept as IMS_CODE_OTHER
 * with words in r->lenient: what the code would have told is left out,
 * and the response (an OK, a NO) keeps its meaning. */
ims_err ims__parse_code(struct ims__arena *a, struct ims_response *r, int args_bad,
                        struct ims_error *err)
{
	ims_err e = parse_code(a, r, args_bad, err);
	char *w;

	/* what sync and integrity rest on stays strict */
	if (e != IMS_ERR_PROTOCOL || r->code.kind == IMS_CODE_UIDVALIDITY ||
	    r->code.kind == IMS_CODE_UIDNEXT || r->code.kind == IMS_CODE_HIGHESTMODSEQ ||
	    r->code.kind == IMS_CODE_APPENDUID || r->code.kind == IMS_CODE_COPYUID ||
	    r->code.kind == IMS_CODE_MODIFIED)
		return e;
	if ((w = ims__arena_strndup(a, err->msg, strlen(err->msg))) == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	r->code.kind = IMS_CODE_OTHER;
	r->code.num = 0;
	r->code.modseq = 0;
	r->code.list = NULL;
	r->code.n_list = 0;
	r->code.set1 = r->code.set2 = NULL;
	r->lenient = w;
	ims_error_init(err);
	return IMS_OK;
}

static ims_err parse_code(struct ims__arena *a, struct ims_response *r, int args_bad,
                          struct ims_error *err)
{
	struct ims_code *cd = &r->code;
	const struct ims_value *v = r->args;
	struct ctx c = {a, "", err};
	char kwbuf[64];
	size_t i, n = strlen(cd->name);
	int ok = 1;

	snprintf(kwbuf, sizeof(kwbuf), "[%.40s] code", cd->name);
	c.kw = kwbuf;
	cd->kind = IMS_CODE_OTHER;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (ims__eq_ci(cd->name, n, codes[i].name))
			cd->kind = codes[i].kind;
	switch (cd->kind) {
	case IMS_CODE_CAPABILITY:
	case IMS_CODE_PERMANENTFLAGS:
	case IMS_CODE_UIDNEXT:
	case IMS_CODE_UIDVALIDITY:
	case IMS_CODE_UNSEEN:
	case IMS_CODE_APPENDUID:
	case IMS_CODE_COPYUID:
	case IMS_CODE_HIGHESTMODSEQ:
	case IMS_CODE_MODIFIED:
	case IMS_CODE_BADCHARSET:
		if (args_bad)
			return bad(&c, "arguments that cannot be parsed");
		break;
	default: return IMS_OK; /* no arguments interpreted */
	}
	switch (cd->kind) {
	case IMS_CODE_CAPABILITY: {
		struct ims_strings s;
		ims_err e = strings(&c, v, 0, 0, &s);

		if (e != IMS_OK)
			return e;
		cd->list = s.v;
		cd->n_list = s.n;
		return IMS_OK;
	}
	case IMS_CODE_PERMANENTFLAGS:
	case IMS_CODE_BADCHARSET: {
		struct ims_strings s = {NULL, 0};
		ims_err e;

		if (cd->kind == IMS_CODE_BADCHARSET && v->n == 0)
			return IMS_OK;
		if (v->n != 1 || !is_list(&v->v[0]))
			return bad(&c, "not a list");
		e = strings(&c, &v->v[0], 0, cd->kind == IMS_CODE_BADCHARSET, &s);
		if (e != IMS_OK)
			return e;
		cd->list = s.v;
		cd->n_list = s.n;
		return IMS_OK;
	}
	case IMS_CODE_UIDNEXT:
	case IMS_CODE_UIDVALIDITY:
	case IMS_CODE_UNSEEN: ok = v->n == 1 && num_u32(&v->v[0], &cd->num, 1); break;
	case IMS_CODE_APPENDUID:
		ok =
		    v->n == 2 && num_u32(&v->v[0], &cd->num, 1) && seqset_text(&v->v[1], &cd->set1);
		break;
	case IMS_CODE_COPYUID:
		ok = v->n == 3 && num_u32(&v->v[0], &cd->num, 1) &&
		     seqset_text(&v->v[1], &cd->set1) && seqset_text(&v->v[2], &cd->set2);
		break;
	case IMS_CODE_HIGHESTMODSEQ: ok = v->n == 1 && num_u63(&v->v[0], &cd->modseq, 0); break;
	case IMS_CODE_MODIFIED: ok = v->n == 1 && seqset_text(&v->v[0], &cd->set1); break;
	default: break;
	}
	if (!ok)
		return bad(&c, "arguments out of range or missing");
	return IMS_OK;
}
