/* IMAP response parser: framing, tokens and the generic value tree.  The
 * typed layer is in parser_typed.c.  See include/imapsh/parser.h.
 *
 * Bytes are cut into lines; each line is tokenised whole (a token never
 * spans lines: only a literal's data comes between two lines of one
 * response), appending to a tree of nodes linked by index.  Open lists are
 * kept on an explicit stack, so nesting costs no C stack.  When the
 * response is complete the tree is laid out as arrays of struct ims_value
 * (breadth first, so each list's items are contiguous) and handed to the
 * typed layer. */
#include "parser_int.h"

#include <inttypes.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

struct ims__ablock {
	struct ims__ablock *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK (64u * 1024)
#define ARENA_ALIGN (alignof(max_align_t))

void ims__arena_init(struct ims__arena *a, size_t max)
{
	a->head = NULL;
	a->total = 0;
	a->max = max;
}

void ims__arena_release(struct ims__arena *a)
{
	while (a->head != NULL) {
		struct ims__ablock *b = a->head;

		a->head = b->next;
		free(b);
	}
	a->total = 0;
}

void *ims__arena_alloc(struct ims__arena *a, size_t n)
{
	struct ims__ablock *b = a->head;
	size_t need;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / 2)
		return NULL;
	need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (b == NULL || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		if (a->max != 0 && a->total + size > a->max)
			return NULL;
		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->total += size;
	}
	p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

char *ims__arena_strndup(struct ims__arena *a, const char *s, size_t n)
{
	char *p = ims__arena_alloc(a, n + 1);

	if (p != NULL) {
		if (n != 0)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ---- the parser ---- */

struct pnode {
	uint8_t type;
	uint8_t flags;
	uint32_t first, last, next, count; /* children; 0 = none (0 is the root) */
	size_t off, len;                   /* into text */
	uint64_t num;
};

enum pstate { PS_LINE, PS_LITERAL, PS_BROKEN };

struct ims_parser {
	struct ims_parser_limits lim;
	ims_literal_fn lit_fn;
	void *lit_ctx;
	ims_line_fn line_fn;
	void *line_ctx;
	int keep_raw;
	int lenient_all; /* ims_parser_lenient */
	struct ims_buf raw;

	enum pstate state;
	struct ims_error broken;
	int done;    /* the last feed returned a response */
	int in_resp; /* bytes of a response seen */
	struct ims_buf line;
	int cr;               /* the last byte was CR */
	size_t text_total;    /* bytes of this response outside literal data */
	size_t no_close_from; /* no ']' in the line at or after this offset */

	/* the literal being received */
	uint64_t lit_left;
	struct ims_sink lit_sink;
	uint32_t lit_node;
	size_t lit_mem;

	/* the tree */
	struct pnode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t stack[IMS_PARSER_DEPTH_CEILING + 1];
	size_t depth;
	struct ims_buf text;

	/* the head */
	int head_done;
	enum ims_resp_type type;
	enum ims_cond cond;
	enum ims_data_kind kind;
	size_t tag_off, kw_off, rtext_off, rtext_len, code_name_off, code_raw_off;
	int has_kw, has_code;
	uint32_t number;
	int has_number;

	struct ims__arena arena;
	struct ims_response resp;
};

void ims_parser_limits_init(struct ims_parser_limits *l)
{
	l->max_line = IMS_PARSER_DEFAULT_MAX_LINE;
	l->max_literal = IMS_PARSER_DEFAULT_MAX_LITERAL;
	l->max_literal_mem = IMS_PARSER_DEFAULT_MAX_LITERAL_MEM;
	l->max_depth = IMS_PARSER_DEFAULT_MAX_DEPTH;
	l->max_items = IMS_PARSER_DEFAULT_MAX_ITEMS;
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static void root_init(struct ims_parser *p)
{
	memset(&p->nodes[0], 0, sizeof(p->nodes[0]));
	p->nodes[0].type = IMS_V_LIST;
	p->n_nodes = 1;
	p->depth = 0;
	p->stack[0] = 0;
}

struct ims_parser *ims_parser_new(const struct ims_parser_limits *limits)
{
	struct ims_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (limits != NULL)
		p->lim = *limits;
	else
		ims_parser_limits_init(&p->lim);
	if (p->lim.max_line == 0)
		p->lim.max_line = IMS_PARSER_DEFAULT_MAX_LINE;
	if (p->lim.max_depth == 0 || p->lim.max_depth > IMS_PARSER_DEPTH_CEILING)
		p->lim.max_depth =
		    p->lim.max_depth == 0 ? IMS_PARSER_DEFAULT_MAX_DEPTH : IMS_PARSER_DEPTH_CEILING;
	if (p->lim.max_items == 0 || p->lim.max_items > UINT32_MAX - 2)
		p->lim.max_items = IMS_PARSER_DEFAULT_MAX_ITEMS;
	ims_buf_init(&p->raw, sat_add(sat_add(p->lim.max_line, p->lim.max_line / 8 + 64),
	                              p->lim.max_literal_mem));
	ims_buf_init(&p->line, p->lim.max_line + 1);
	ims_buf_init(&p->text, sat_add(sat_add(p->lim.max_line, p->lim.max_line),
	                               sat_add(p->lim.max_literal_mem, 4096)));
	ims_error_init(&p->broken);
	ims__arena_init(&p->arena, 0);
	p->cap_nodes = 64;
	p->nodes = malloc(p->cap_nodes * sizeof(*p->nodes));
	if (p->nodes == NULL) {
		free(p);
		return NULL;
	}
	root_init(p);
	p->no_close_from = SIZE_MAX;
	return p;
}

void ims_parser_free(struct ims_parser **pp)
{
	struct ims_parser *p = *pp;

	if (p == NULL)
		return;
	ims_buf_release(&p->raw);
	ims_buf_release(&p->line);
	ims_buf_release(&p->text);
	ims__arena_release(&p->arena);
	free(p->nodes);
	free(p);
	*pp = NULL;
}

void ims_parser_set_literal_fn(struct ims_parser *p, ims_literal_fn fn, void *ctx)
{
	p->lit_fn = fn;
	p->lit_ctx = ctx;
}

void ims_parser_set_line_fn(struct ims_parser *p, ims_line_fn fn, void *ctx)
{
	p->line_fn = fn;
	p->line_ctx = ctx;
}

void ims_parser_lenient(struct ims_parser *p, int all)
{
	p->lenient_all = all;
}

void ims_parser_keep_raw(struct ims_parser *p, int on)
{
	p->keep_raw = on;
}

const char *ims_parser_raw(const struct ims_parser *p, size_t *len_r)
{
	*len_r = p->raw.len;
	return p->raw.data != NULL ? p->raw.data : "";
}

/* Forget the current response, keeping moderate amounts of memory. */
static void response_reset(struct ims_parser *p)
{
	if (p->text.cap > (1u << 20))
		ims_buf_release(&p->text);
	else
		ims_buf_reset(&p->text);
	if (p->raw.cap > (1u << 20))
		ims_buf_release(&p->raw);
	else
		ims_buf_reset(&p->raw);
	if (p->line.cap > (1u << 20))
		ims_buf_release(&p->line);
	else
		ims_buf_reset(&p->line);
	if (p->cap_nodes > 4096) {
		struct pnode *n = realloc(p->nodes, 64 * sizeof(*n));

		if (n != NULL) {
			p->nodes = n;
			p->cap_nodes = 64;
		}
	}
	root_init(p);
	ims__arena_release(&p->arena);
	memset(&p->resp, 0, sizeof(p->resp));
	p->cr = 0;
	p->text_total = 0;
	p->no_close_from = SIZE_MAX;
	p->lit_left = 0;
	p->lit_mem = 0;
	p->lit_sink.write = NULL;
	p->lit_sink.ctx = NULL;
	p->head_done = 0;
	p->has_kw = 0;
	p->has_code = 0;
	p->has_number = 0;
	p->number = 0;
	p->cond = IMS_COND_NONE;
	p->kind = IMS_DATA_NONE;
	p->in_resp = 0;
	p->done = 0;
}

void ims_parser_reset(struct ims_parser *p)
{
	response_reset(p);
	p->state = PS_LINE;
	ims_error_init(&p->broken);
}

int ims_parser_between(const struct ims_parser *p)
{
	return p->state != PS_BROKEN && (p->done || !p->in_resp);
}

/* ---- small helpers ---- */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char up(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* s[0..n) equals the upper-case word w, ignoring ASCII case. */
int ims__eq_ci(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || up((unsigned char)s[i]) != (unsigned char)w[i])
			return 0;
	return w[n] == '\0';
}

/* A run of digits to a number; *big_r set when above UINT64_MAX. */
static uint64_t digits_value(const char *s, size_t n, int *big_r)
{
	uint64_t v = 0;
	size_t i;

	*big_r = 0;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			*big_r = 1;
			return UINT64_MAX;
		}
		v = v * 10 + d;
	}
	return v;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

static ims_err buf_fail(ims_err e, struct ims_error *err, const char *what)
{
	if (e == IMS_ERR_LIMIT)
		return ims_error_set(err, IMS_ERR_LIMIT, "server response too large (%s)", what);
	return ims_error_set(err, IMS_ERR_NOMEM, "out of memory (%s)", what);
}

/* Append s[0..n) and a NUL to text. */
static ims_err text_add(struct ims_parser *p, const char *s, size_t n, size_t *off_r,
                        struct ims_error *err)
{
	ims_err e = ims_buf_reserve(&p->text, sat_add(n, 1));

	if (e != IMS_OK)
		return buf_fail(e, err, "text");
	*off_r = p->text.len;
	if (n != 0)
		memcpy(p->text.data + p->text.len, s, n);
	p->text.len += n;
	p->text.data[p->text.len++] = '\0';
	return IMS_OK;
}

static const char *text_at(const struct ims_parser *p, size_t off)
{
	return p->text.data + off;
}

static ims_err add_node(struct ims_parser *p, enum ims_vtype type, size_t off, size_t len,
                        uint64_t num, unsigned flags, uint32_t *idx_r, struct ims_error *err)
{
	struct pnode *n, *parent;
	uint32_t idx;

	if (p->n_nodes - 1 >= p->lim.max_items)
		return ims_error_set(err, IMS_ERR_LIMIT, "server response has more than %zu values",
		                     p->lim.max_items);
	if (p->n_nodes == p->cap_nodes) {
		size_t ncap = p->cap_nodes * 2;
		struct pnode *nn;

		if (ncap > p->lim.max_items + 1)
			ncap = p->lim.max_items + 1;
		nn = realloc(p->nodes, ncap * sizeof(*nn));
		if (nn == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory (response values)");
		p->nodes = nn;
		p->cap_nodes = ncap;
	}
	idx = (uint32_t)p->n_nodes++;
	n = &p->nodes[idx];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->flags = (uint8_t)flags;
	n->off = off;
	n->len = len;
	n->num = num;
	parent = &p->nodes[p->stack[p->depth]];
	if (parent->last != 0)
		p->nodes[parent->last].next = idx;
	else
		parent->first = idx;
	parent->last = idx;
	parent->count++;
	if (idx_r != NULL)
		*idx_r = idx;
	return IMS_OK;
}

static ims_err proto(struct ims_error *err, const char *what)
{
	return ims_error_set(err, IMS_ERR_PROTOCOL, "malformed server response: %s", what);
}

/* ---- tokens ---- */

struct lit_hdr {
	int present;
	int binary;
	uint64_t size;
};

/* Where the ']' closing the '[' at s[j] is, or 0.  No nesting: the first
 * ']' after it, which keeps the scan linear. */
static size_t close_bracket(struct ims_parser *p, const char *s, size_t n, size_t j)
{
	const char *e;

	if (j >= p->no_close_from)
		return 0;
	e = memchr(s + j + 1, ']', n - j - 1);
	if (e == NULL) {
		p->no_close_from = j;
		return 0;
	}
	return (size_t)(e - s);
}

static int atom_end(unsigned char c)
{
	return c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || c < 0x20 || c == 0x7f;
}

static ims_err tok_quoted(struct ims_parser *p, const char *s, size_t n, size_t *i_r,
                          struct ims_error *err)
{
	size_t j = *i_r + 1, off, k;
	char *out;
	ims_err e = ims_buf_reserve(&p->text, sat_add(n - j, 1));

	if (e != IMS_OK)
		return buf_fail(e, err, "quoted string");
	off = p->text.len;
	out = p->text.data + off;
	k = 0;
	while (j < n && s[j] != '"') {
		if (s[j] == '\\') {
			if (j + 1 >= n)
				break;
			if (s[j + 1] == '"' || s[j + 1] == '\\') {
				out[k++] = s[j + 1];
				j += 2;
				continue;
			}
		}
		out[k++] = s[j++];
	}
	if (j >= n)
		return proto(err, "unterminated quoted string");
	out[k] = '\0';
	p->text.len += k + 1;
	*i_r = j + 1;
	return add_node(p, IMS_V_QUOTED, off, k, 0, 0, NULL, err);
}

static ims_err tok_literal(struct ims_parser *p, const char *s, size_t n, size_t i, int allow,
                           struct lit_hdr *lit, struct ims_error *err)
{
	int binary = s[i] == '~';
	size_t j = i + (size_t)binary + 1, start = j, ndig;
	uint64_t v;
	int big;

	while (j < n && is_digit((unsigned char)s[j]))
		j++;
	ndig = j - start;
	if (ndig == 0)
		return proto(err, "literal header without a size");
	v = digits_value(s + start, ndig, &big);
	if (j < n && s[j] == '+')
		j++;
	if (j >= n || s[j] != '}')
		return proto(err, "malformed literal header");
	j++;
	if (j != n)
		return proto(err, "literal header not at the end of a line");
	if (!allow)
		return proto(err, "literal where none is allowed");
	if (big)
		return ims_error_set(err, IMS_ERR_LIMIT, "server literal size %.*s is too large",
		                     (int)(ndig > 40 ? 40 : ndig), s + start);
	if (v > p->lim.max_literal)
		return ims_error_set(err, IMS_ERR_LIMIT,
		                     "server literal of %" PRIu64
		                     " bytes exceeds the limit of %" PRIu64 " bytes",
		                     v, p->lim.max_literal);
	lit->present = 1;
	lit->binary = binary;
	lit->size = v;
	return IMS_OK;
}

static ims_err tok_atom(struct ims_parser *p, const char *s, size_t n, size_t *i_r,
                        struct ims_error *err)
{
	size_t i = *i_r, j = i, off;
	enum ims_vtype type = IMS_V_ATOM;
	uint64_t num = 0;
	unsigned flags = 0;
	ims_err e;

	while (j < n) {
		unsigned char c = (unsigned char)s[j];

		if (atom_end(c))
			break;
		if (c == '[') {
			size_t k = close_bracket(p, s, n, j);

			if (k != 0) {
				j = k + 1;
				continue;
			}
		}
		j++;
	}
	if (all_digits(s + i, j - i)) {
		int big;

		type = IMS_V_NUMBER;
		num = digits_value(s + i, j - i, &big);
		if (big)
			flags |= IMS_VF_BIG;
	} else if (ims__eq_ci(s + i, j - i, "NIL")) {
		type = IMS_V_NIL;
	}
	e = text_add(p, s + i, j - i, &off, err);
	if (e != IMS_OK)
		return e;
	*i_r = j;
	return add_node(p, type, off, j - i, num, flags, NULL, err);
}

/* Tokenise s[i..n) into the tree.  A literal header, which must end the
 * line, is reported in *lit. */
static ims_err tokenize(struct ims_parser *p, const char *s, size_t n, size_t i, int allow_lit,
                        struct lit_hdr *lit, struct ims_error *err)
{
	ims_err e;

	lit->present = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ') {
			i++;
		} else if (c == '(') {
			uint32_t idx;

			if (p->depth >= p->lim.max_depth)
				return ims_error_set(err, IMS_ERR_LIMIT,
				                     "server response nests lists deeper than %zu",
				                     p->lim.max_depth);
			e = add_node(p, IMS_V_LIST, 0, 0, 0, 0, &idx, err);
			if (e != IMS_OK)
				return e;
			p->stack[++p->depth] = idx;
			i++;
		} else if (c == ')') {
			if (p->depth == 0)
				return proto(err, "unbalanced ')'");
			p->depth--;
			i++;
		} else if (c == '"') {
			e = tok_quoted(p, s, n, &i, err);
			if (e != IMS_OK)
				return e;
		} else if (c == '{' || (c == '~' && i + 1 < n && s[i + 1] == '{')) {
			return tok_literal(p, s, n, i, allow_lit, lit, err);
		} else if (c < 0x20 || c == 0x7f) {
			return proto(err, "control character in a response");
		} else {
			e = tok_atom(p, s, n, &i, err);
			if (e != IMS_OK)
				return e;
		}
	}
	return IMS_OK;
}

/* ---- the head of a response ---- */

static const struct {
	const char *word;
	enum ims_cond cond;
} conds[] = {
    {"OK", IMS_COND_OK},   {"NO", IMS_COND_NO},           {"BAD", IMS_COND_BAD},
    {"BYE", IMS_COND_BYE}, {"PREAUTH", IMS_COND_PREAUTH},
};

static int keyword_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"' && c != '[' &&
	       c != ']' && c != '\\' && c != '%' && c != '*';
}

static int tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"' && c != '\\' &&
	       c != '%' && c != '*' && c != '+';
}

/* resp-text from s[k] (at a space or the end): [code] and text. */
static ims_err resp_text(struct ims_parser *p, const char *s, size_t n, size_t k,
                         struct ims_error *err)
{
	ims_err e;

	if (k < n)
		k++; /* the space */
	if (k < n && s[k] == '[') {
		const char *close = memchr(s + k, ']', n - k);

		if (close != NULL) {
			size_t e_at = (size_t)(close - s), a = k + 1, b = a;
			struct lit_hdr lit;
			struct ims_error terr;

			while (b < e_at && s[b] != ' ')
				b++;
			e = text_add(p, s + a, b - a, &p->code_name_off, err);
			if (e != IMS_OK)
				return e;
			if (b < e_at)
				b++;
			e = text_add(p, s + b, e_at - b, &p->code_raw_off, err);
			if (e != IMS_OK)
				return e;
			p->has_code = 1;
			ims_error_init(&terr);
			e = tokenize(p, s, e_at, b, 0, &lit, &terr);
			if (e == IMS_OK && p->depth != 0)
				e = proto(&terr, "unbalanced '(' in a response code");
			if (e != IMS_OK) {
				if (e != IMS_ERR_PROTOCOL)
					return ims_error_copy(err, &terr);
				/* Kept raw; the typed layer judges known codes. */
				root_init(p);
				p->nodes[0].flags = 1; /* code args unparsable */
			}
			k = e_at + 1;
			if (k < n && s[k] == ' ')
				k++;
		}
	}
	p->rtext_len = n - k;
	return text_add(p, s + k, n - k, &p->rtext_off, err);
}

/* The first line's head: tag, condition or number and keyword.  Sets
 * *data_at to where data values start, or *complete_r for responses that
 * end with this line. */
static ims_err parse_head(struct ims_parser *p, const char *s, size_t n, size_t *data_at,
                          int *complete_r, struct ims_error *err)
{
	size_t i, j, k;
	int untagged;
	ims_err e;

	*complete_r = 0;
	p->head_done = 1;
	if (n == 0)
		return proto(err, "empty line");
	if (s[0] == '+') {
		p->type = IMS_RESP_CONTINUATION;
		e = text_add(p, "+", 1, &p->tag_off, err);
		if (e != IMS_OK)
			return e;
		i = 1;
		if (i < n && s[i] == ' ')
			i++;
		p->rtext_len = n - i;
		*complete_r = 1;
		return text_add(p, s + i, n - i, &p->rtext_off, err);
	}
	for (j = 0; j < n && s[j] != ' '; j++)
		if (!(j == 0 && s[j] == '*' && (j + 1 == n || s[j + 1] == ' ')) &&
		    !tag_char((unsigned char)s[j]))
			return proto(err, "bad character in a tag");
	if (j == n)
		return proto(err, "a line with a tag and nothing else");
	untagged = j == 1 && s[0] == '*';
	p->type = untagged ? IMS_RESP_UNTAGGED : IMS_RESP_TAGGED;
	e = text_add(p, s, j, &p->tag_off, err);
	if (e != IMS_OK)
		return e;
	i = j + 1;
	for (k = i; k < n && s[k] != ' '; k++)
		;
	if (k == i)
		return proto(err, "nothing after the tag");

	if (untagged && all_digits(s + i, k - i)) {
		int big;
		uint64_t v = digits_value(s + i, k - i, &big);
		size_t a, b;

		if (big || v > UINT32_MAX)
			return ims_error_set(
			    err, IMS_ERR_PROTOCOL,
			    "malformed server response: message number %.*s out of range",
			    (int)(k - i > 30 ? 30 : k - i), s + i);
		p->number = (uint32_t)v;
		p->has_number = 1;
		if (k == n)
			return proto(err, "a number without a keyword");
		a = k + 1;
		for (b = a; b < n && s[b] != ' '; b++)
			if (!keyword_char((unsigned char)s[b]))
				return proto(err, "bad character in a keyword");
		if (b == a)
			return proto(err, "a number without a keyword");
		e = text_add(p, s + a, b - a, &p->kw_off, err);
		if (e != IMS_OK)
			return e;
		p->has_kw = 1;
		p->kind = ims__data_kind(s + a, b - a);
		switch (p->kind) {
		case IMS_DATA_EXISTS:
		case IMS_DATA_RECENT: break;
		case IMS_DATA_EXPUNGE:
		case IMS_DATA_FETCH:
			if (p->number == 0)
				return ims_error_set(
				    err, IMS_ERR_PROTOCOL,
				    "malformed server response: message number 0 in %s",
				    text_at(p, p->kw_off));
			break;
		default: p->kind = IMS_DATA_OTHER; break;
		}
		*data_at = b;
		return IMS_OK;
	}
	for (j = 0; j < sizeof(conds) / sizeof(conds[0]); j++)
		if (ims__eq_ci(s + i, k - i, conds[j].word))
			break;
	if (j < sizeof(conds) / sizeof(conds[0])) {
		p->cond = conds[j].cond;
		if (!untagged && p->cond != IMS_COND_OK && p->cond != IMS_COND_NO &&
		    p->cond != IMS_COND_BAD)
			return proto(err, "a tagged BYE or PREAUTH");
		*complete_r = 1;
		return resp_text(p, s, n, k, err);
	}
	if (!untagged)
		return proto(err, "a tagged response that is not OK, NO or BAD");
	for (j = i; j < k; j++)
		if (!keyword_char((unsigned char)s[j]))
			return proto(err, "bad character in a keyword");
	e = text_add(p, s + i, k - i, &p->kw_off, err);
	if (e != IMS_OK)
		return e;
	p->has_kw = 1;
	p->kind = ims__data_kind(s + i, k - i);
	switch (p->kind) {
	case IMS_DATA_EXISTS:
	case IMS_DATA_RECENT:
	case IMS_DATA_EXPUNGE:
	case IMS_DATA_FETCH:
		return ims_error_set(err, IMS_ERR_PROTOCOL,
		                     "malformed server response: %s without a message number",
		                     text_at(p, p->kw_off));
	default: break;
	}
	*data_at = k;
	return IMS_OK;
}

/* ---- literals ---- */

static void literal_context(struct ims_parser *p, struct ims_literal_info *li)
{
	uint32_t fl, c, prev = 0, target;
	size_t pos = 0;

	li->type = p->type;
	li->kind = p->kind;
	li->keyword = p->has_kw ? text_at(p, p->kw_off) : NULL;
	li->number = p->number;
	if (p->kind != IMS_DATA_FETCH || p->depth < 1)
		return;
	fl = p->stack[1];
	target = p->depth == 1 ? p->lit_node : p->stack[2];
	li->nested = p->depth > 1;
	for (c = p->nodes[fl].first; c != 0; c = p->nodes[c].next, pos++) {
		const struct pnode *pn = &p->nodes[prev];

		if (pos % 2 == 1 && prev != 0 && pn->type == IMS_V_ATOM) {
			if (c == target) {
				li->item = text_at(p, pn->off);
				break;
			}
			if (p->nodes[c].type == IMS_V_NUMBER &&
			    ims__eq_ci(text_at(p, pn->off), pn->len, "UID") &&
			    p->nodes[c].num <= UINT32_MAX)
				li->uid = (uint32_t)p->nodes[c].num;
		}
		prev = c;
	}
}

static ims_err literal_start(struct ims_parser *p, const struct lit_hdr *lit, struct ims_error *err)
{
	struct ims_literal_info li;
	ims_err e;

	e = add_node(p, IMS_V_LITERAL, 0, 0, lit->size, lit->binary ? IMS_VF_BINARY : 0,
	             &p->lit_node, err);
	if (e != IMS_OK)
		return e;
	memset(&li, 0, sizeof(li));
	li.size = lit->size;
	li.binary = lit->binary;
	literal_context(p, &li);
	p->lit_sink.write = NULL;
	p->lit_sink.ctx = NULL;
	if (p->lit_fn != NULL) {
		e = p->lit_fn(p->lit_ctx, &li, &p->lit_sink, err);
		if (e != IMS_OK) {
			if (err != NULL && err->code == IMS_OK)
				ims_error_set(err, e, "the literal callback failed");
			return e;
		}
	}
	if (p->lit_sink.write != NULL) {
		p->nodes[p->lit_node].flags |= IMS_VF_STREAMED;
		p->nodes[p->lit_node].off = 0;
	} else {
		size_t room = p->lim.max_literal_mem - p->lit_mem;

		if (lit->size > room)
			return ims_error_set(err, IMS_ERR_LIMIT,
			                     "server literal of %" PRIu64
			                     " bytes exceeds the memory limit of %zu bytes",
			                     lit->size, p->lim.max_literal_mem);
		e = ims_buf_reserve(&p->text, (size_t)lit->size + 1);
		if (e != IMS_OK)
			return buf_fail(e, err, "literal");
		p->lit_mem += (size_t)lit->size;
		p->nodes[p->lit_node].off = p->text.len;
		p->nodes[p->lit_node].len = (size_t)lit->size;
	}
	p->lit_left = lit->size;
	p->state = PS_LITERAL;
	return IMS_OK;
}

static ims_err literal_data(struct ims_parser *p, const char *d, size_t n, struct ims_error *err)
{
	ims_err e;

	if (p->lit_sink.write != NULL) {
		e = p->lit_sink.write(p->lit_sink.ctx, d, n);
		if (e != IMS_OK)
			return ims_error_set(err, e, "cannot write a literal to its destination");
		return IMS_OK;
	}
	memcpy(p->text.data + p->text.len, d, n);
	p->text.len += n;
	if (p->keep_raw) {
		e = ims_buf_append(&p->raw, d, n);
		if (e != IMS_OK)
			return buf_fail(e, err, "raw response");
	}
	return IMS_OK;
}

static void literal_end(struct ims_parser *p)
{
	if (p->lit_sink.write == NULL)
		p->text.data[p->text.len++] = '\0';
	p->lit_sink.write = NULL;
	p->state = PS_LINE;
}

/* ---- completion ---- */

static ims_err finish(struct ims_parser *p, struct ims_error *err)
{
	struct ims_response *r = &p->resp;
	struct ims_value *vals;
	uint32_t *idx;
	size_t q, next = 1;
	ims_err e;

	vals = ims__arena_alloc(&p->arena, p->n_nodes * sizeof(*vals));
	idx = ims__arena_alloc(&p->arena, p->n_nodes * sizeof(*idx));
	if (vals == NULL || idx == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory (response values)");
	idx[0] = 0;
	for (q = 0; q < next; q++) {
		const struct pnode *pn = &p->nodes[idx[q]];
		struct ims_value *v = &vals[q];
		uint32_t c;

		v->type = (enum ims_vtype)pn->type;
		v->flags = pn->flags;
		v->num = pn->num;
		if (pn->type == IMS_V_LIST) {
			v->flags = 0;
			v->n = pn->count;
			v->v = &vals[next];
			for (c = pn->first; c != 0; c = p->nodes[c].next)
				idx[next++] = c;
		} else if (!(pn->flags & IMS_VF_STREAMED)) {
			v->s = text_at(p, pn->off);
			v->len = pn->len;
		}
	}
	memset(r, 0, sizeof(*r));
	r->type = p->type;
	r->tag = text_at(p, p->tag_off);
	r->cond = p->cond;
	r->kind = p->kind;
	r->keyword = p->has_kw ? text_at(p, p->kw_off) : NULL;
	r->number = p->number;
	r->has_number = p->has_number;
	r->args = &vals[0];
	r->text = "";
	if (p->type == IMS_RESP_CONTINUATION || p->cond != IMS_COND_NONE) {
		r->text = text_at(p, p->rtext_off);
		r->text_len = p->rtext_len;
	}
	r->code.name = "";
	r->code.raw = "";
	if (p->has_code) {
		r->code.name = text_at(p, p->code_name_off);
		r->code.raw = text_at(p, p->code_raw_off);
		e = ims__parse_code(&p->arena, r, p->nodes[0].flags == 1, err);
		if (e != IMS_OK)
			return e;
	}
	if (p->cond == IMS_COND_NONE && p->type == IMS_RESP_UNTAGGED)
		return ims__parse_typed(&p->arena, r, p->lenient_all, err);
	return IMS_OK;
}

/* A line is complete: parse it.  *complete_r when the response ends. */
static ims_err end_of_line(struct ims_parser *p, int *complete_r, struct ims_error *err)
{
	const char *s = p->line.data != NULL ? p->line.data : "";
	size_t n = p->line.len, at = 0;
	struct lit_hdr lit;
	ims_err e;

	*complete_r = 0;
	if (p->line_fn != NULL)
		p->line_fn(p->line_ctx, s, n);
	if (p->keep_raw) {
		e = ims_buf_append(&p->raw, s, n);
		if (e == IMS_OK)
			e = ims_buf_append(&p->raw, "\r\n", 2);
		if (e != IMS_OK)
			return buf_fail(e, err, "raw response");
	}
	p->no_close_from = SIZE_MAX;
	if (!p->head_done) {
		int done;

		e = parse_head(p, s, n, &at, &done, err);
		if (e != IMS_OK)
			return e;
		if (done) {
			*complete_r = 1;
			goto out;
		}
	}
	e = tokenize(p, s, n, at, 1, &lit, err);
	if (e != IMS_OK)
		return e;
	if (lit.present) {
		e = literal_start(p, &lit, err);
		if (e != IMS_OK)
			return e;
		if (p->lit_left == 0)
			literal_end(p);
		goto out;
	}
	if (p->depth != 0)
		return proto(err, "a list is not closed at the end of the response");
	*complete_r = 1;
out:
	ims_buf_reset(&p->line);
	return IMS_OK;
}

ims_err ims_parser_feed(struct ims_parser *p, const void *data, size_t len, size_t *used_r,
                        const struct ims_response **resp_r, struct ims_error *err)
{
	const char *d = data;
	size_t i = 0;
	struct ims_error local;
	ims_err e = IMS_OK;

	*used_r = 0;
	*resp_r = NULL;
	if (p->state == PS_BROKEN)
		return ims_error_copy(err, &p->broken);
	if (p->done)
		response_reset(p);
	ims_error_init(&local);
	while (i < len) {
		int eol = 0, complete;

		if (p->state == PS_LITERAL) {
			size_t take = len - i;

			if (take > p->lit_left)
				take = (size_t)p->lit_left;
			e = literal_data(p, d + i, take, &local);
			if (e != IMS_OK)
				goto fail;
			i += take;
			p->lit_left -= take;
			if (p->lit_left == 0)
				literal_end(p);
			continue;
		}
		p->in_resp = 1;
		while (i < len && !eol) {
			unsigned char c = (unsigned char)d[i];
			size_t j;

			if (p->cr) {
				if (c != '\n') {
					e = proto(&local, "bare CR in a line");
					goto fail;
				}
				p->cr = 0;
				eol = 1;
				i++;
				break;
			}
			if (c == '\r') {
				p->cr = 1;
				i++;
				continue;
			}
			if (c == '\n') {
				e = proto(&local, "bare LF in a line");
				goto fail;
			}
			if (c == '\0') {
				e = proto(&local, "NUL byte in a line");
				goto fail;
			}
			for (j = i; j < len && d[j] != '\r' && d[j] != '\n' && d[j] != '\0'; j++)
				;
			if (j - i > p->lim.max_line - p->text_total) {
				e = ims_error_set(
				    &local, IMS_ERR_LIMIT,
				    "server response longer than %zu bytes (not counting literals)",
				    p->lim.max_line);
				goto fail;
			}
			e = ims_buf_append(&p->line, d + i, j - i);
			if (e != IMS_OK) {
				e = buf_fail(e, &local, "line");
				goto fail;
			}
			p->text_total += j - i;
			i = j;
		}
		if (!eol)
			break;
		e = end_of_line(p, &complete, &local);
		if (e != IMS_OK)
			goto fail;
		if (complete) {
			e = finish(p, &local);
			if (e != IMS_OK)
				goto fail;
			p->done = 1;
			*used_r = i;
			*resp_r = &p->resp;
			return IMS_OK;
		}
	}
	*used_r = i;
	return IMS_OK;
fail:
	if (local.code == IMS_OK)
		ims_error_set(&local, e, "server response rejected");
	p->state = PS_BROKEN;
	ims_error_copy(&p->broken, &local);
	*used_r = i;
	return ims_error_copy(err, &local);
}

/* ---- helpers ---- */

int ims_value_is_string(const struct ims_value *v)
{
	return v != NULL && (v->type == IMS_V_QUOTED || (v->type == IMS_V_LITERAL && v->s != NULL));
}

int ims_value_is_atom(const struct ims_value *v, const char *word)
{
	return v != NULL && (v->type == IMS_V_ATOM || v->type == IMS_V_NUMBER) &&
	       ims__eq_ci(v->s, v->len, word);
}

const char *ims_cond_name(enum ims_cond c)
{
	switch (c) {
	case IMS_COND_NONE: return "";
	case IMS_COND_OK: return "OK";
	case IMS_COND_NO: return "NO";
	case IMS_COND_BAD: return "BAD";
	case IMS_COND_BYE: return "BYE";
	case IMS_COND_PREAUTH: return "PREAUTH";
	}
	return "";
}

static const char *const months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int num_at(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return 0;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 1;
}

ims_err ims_parse_date_time(const char *s, int64_t *epoch_r)
{
	/* dd-Mon-yyyy hh:mm:ss +zzzz, dd may be " d" or "d" */
	unsigned day, mon, year, hh, mm, ss, zh, zm;
	size_t i = 0;
	int sign;
	const char *p;
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	*epoch_r = 0;
	if (s[0] == ' ')
		s++;
	for (i = 0; is_digit((unsigned char)s[i]) && i < 2; i++)
		;
	if (i == 0 || !num_at(s, i, &day) || s[i] != '-')
		return IMS_ERR_USAGE;
	p = s + i + 1;
	if (strlen(p) < 3 + 1 + 4 + 1 + 8 + 1 + 5)
		return IMS_ERR_USAGE;
	for (mon = 0; mon < 12; mon++)
		if (up((unsigned char)p[0]) == months[mon][0] &&
		    up((unsigned char)p[1]) == months[mon][1] &&
		    up((unsigned char)p[2]) == months[mon][2])
			break;
	if (mon == 12 || p[3] != '-' || !num_at(p + 4, 4, &year) || p[8] != ' ' ||
	    !num_at(p + 9, 2, &hh) || p[11] != ':' || !num_at(p + 12, 2, &mm) || p[14] != ':' ||
	    !num_at(p + 15, 2, &ss) || p[17] != ' ' || (p[18] != '+' && p[18] != '-') ||
	    !num_at(p + 19, 2, &zh) || !num_at(p + 21, 2, &zm) || p[23] != '\0')
		return IMS_ERR_USAGE;
	if (day < 1 || day > mdays[mon] || hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return IMS_ERR_USAGE;
	sign = p[18] == '-' ? -1 : 1;
	*epoch_r = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss -
	           sign * (int64_t)(zh * 3600 + zm * 60);
	return IMS_OK;
}
