/* The IMAP command writer.  See include/imapsh/writer.h. */
#include "imapsh/writer.h"
#include "imapsh/caps.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ims_cmd_init(struct ims_cmd *c, const struct ims_writer_opts *o)
{
	memset(c, 0, sizeof(*c));
	if (o != NULL)
		c->opts = *o;
	if (c->opts.max_quoted == 0)
		c->opts.max_quoted = IMS_CAP_WRITER_QUOTED;
	ims_buf_init(&c->out, 0);
	ims_buf_init(&c->trace, 0);
	ims_error_init(&c->err);
}

static void wipe_buf(struct ims_buf *b)
{
	if (b->data != NULL)
		ims_wipe(b->data, b->cap);
}

void ims_cmd_release(struct ims_cmd *c)
{
	wipe_buf(&c->out);
	wipe_buf(&c->trace);
	ims_buf_release(&c->out);
	ims_buf_release(&c->trace);
	free(c->segs);
	c->segs = NULL;
	c->n_segs = c->cap_segs = 0;
}

void ims_cmd_reset(struct ims_cmd *c)
{
	wipe_buf(&c->out);
	wipe_buf(&c->trace);
	ims_buf_reset(&c->out);
	ims_buf_reset(&c->trace);
	c->n_segs = 0;
	c->seg_start = 0;
	c->need_space = 0;
	c->depth = 0;
	c->secret = 0;
	c->ended = 0;
	c->code = IMS_OK;
	ims_error_init(&c->err);
}

static ims_err fail(struct ims_cmd *c, ims_err code, const char *what)
{
	if (c->code == IMS_OK) {
		c->code = code;
		ims_error_set(&c->err, code, "cannot write the command: %s", what);
	}
	return c->code;
}

static ims_err put(struct ims_cmd *c, const void *p, size_t n)
{
	ims_err e = ims_buf_append(&c->out, p, n);

	if (e != IMS_OK)
		return fail(c, e, "out of memory");
	return IMS_OK;
}

static ims_err tput(struct ims_cmd *c, const void *p, size_t n)
{
	ims_err e = ims_buf_append(&c->trace, p, n);

	if (e != IMS_OK)
		return fail(c, e, "out of memory");
	return IMS_OK;
}

static ims_err tputs(struct ims_cmd *c, const char *s)
{
	return tput(c, s, strlen(s));
}

static ims_err add_seg(struct ims_cmd *c, enum ims_seg_kind kind, uint64_t size)
{
	struct ims_segment *s;

	if (c->n_segs == c->cap_segs) {
		size_t ncap = c->cap_segs ? c->cap_segs * 2 : 4;

		s = realloc(c->segs, ncap * sizeof(*s));
		if (s == NULL)
			return fail(c, IMS_ERR_NOMEM, "out of memory");
		c->segs = s;
		c->cap_segs = ncap;
	}
	s = &c->segs[c->n_segs++];
	s->kind = kind;
	s->size = size;
	if (kind == IMS_SEG_STREAM) {
		s->off = c->out.len;
		s->len = 0;
	} else {
		s->off = c->seg_start;
		s->len = c->out.len - c->seg_start;
		c->seg_start = c->out.len;
	}
	return IMS_OK;
}

/* Ready for another argument: sticky error, not ended, a space. */
static ims_err arg_start(struct ims_cmd *c)
{
	if (c->code != IMS_OK)
		return c->code;
	if (c->ended)
		return fail(c, IMS_ERR_USAGE, "an argument after the end");
	if (c->out.len == 0)
		return fail(c, IMS_ERR_USAGE, "an argument before the tag");
	if (c->need_space) {
		if (put(c, " ", 1) != IMS_OK || tput(c, " ", 1) != IMS_OK)
			return c->code;
	}
	c->need_space = 1;
	return IMS_OK;
}

static int atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' && ch != '{' && ch != '%' &&
	       ch != '*' && ch != '"' && ch != '\\' && ch != ']';
}

ims_err ims_cmd_begin(struct ims_cmd *c, const char *tag, const char *verb)
{
	size_t i;

	if (c->code != IMS_OK)
		return c->code;
	if (c->out.len != 0)
		return fail(c, IMS_ERR_USAGE, "the command was already begun");
	if (tag[0] == '\0')
		return fail(c, IMS_ERR_USAGE, "an empty tag");
	for (i = 0; tag[i] != '\0'; i++)
		if (!atom_char((unsigned char)tag[i]) || tag[i] == '+')
			return fail(c, IMS_ERR_USAGE, "a bad character in the tag");
	if (verb[0] == '\0' || verb[0] == ' ')
		return fail(c, IMS_ERR_USAGE, "an empty command name");
	for (i = 0; verb[i] != '\0'; i++)
		if (!(atom_char((unsigned char)verb[i]) ||
		      (verb[i] == ' ' && verb[i + 1] != ' ' && verb[i + 1] != '\0')))
			return fail(c, IMS_ERR_USAGE, "a bad character in the command name");
	if (put(c, tag, strlen(tag)) != IMS_OK || put(c, " ", 1) != IMS_OK ||
	    put(c, verb, strlen(verb)) != IMS_OK)
		return c->code;
	if (tputs(c, tag) != IMS_OK || tputs(c, " ") != IMS_OK || tputs(c, verb) != IMS_OK)
		return c->code;
	c->need_space = 1;
	return IMS_OK;
}

static ims_err trace_secret(struct ims_cmd *c)
{
	return tputs(c, "***");
}

ims_err ims_cmd_atom(struct ims_cmd *c, const char *atom)
{
	size_t i, n = strlen(atom);

	if (arg_start(c) != IMS_OK)
		return c->code;
	if (n == 0)
		return fail(c, IMS_ERR_USAGE, "an empty atom");
	for (i = 0; i < n; i++)
		if (!atom_char((unsigned char)atom[i]))
			return fail(c, IMS_ERR_USAGE, "a character that cannot be in an atom");
	if (put(c, atom, n) != IMS_OK)
		return c->code;
	return c->secret ? trace_secret(c) : tput(c, atom, n);
}

ims_err ims_cmd_raw(struct ims_cmd *c, const char *text)
{
	size_t i, n = strlen(text);

	if (arg_start(c) != IMS_OK)
		return c->code;
	if (n == 0)
		return fail(c, IMS_ERR_USAGE, "an empty argument");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\r' || ch == '\n')
			return fail(c, IMS_ERR_USAGE,
			            "a line break in an argument that cannot be a literal");
		if (ch < 0x20 || ch >= 0x7f)
			return fail(
			    c, IMS_ERR_USAGE,
			    "a control or 8-bit character in an argument that cannot be a literal");
	}
	if (put(c, text, n) != IMS_OK)
		return c->code;
	return c->secret ? trace_secret(c) : tput(c, text, n);
}

/* 0 atom, 1 quoted, 2 literal, -1 impossible (NUL). */
static int form(const struct ims_writer_opts *o, const unsigned char *p, size_t n, int allow_atom)
{
	size_t i, maxq = o->max_quoted ? o->max_quoted : IMS_CAP_WRITER_QUOTED;
	int atom = allow_atom && n > 0, quoted = n <= maxq;

	for (i = 0; i < n; i++) {
		unsigned char ch = p[i];

		if (ch == 0)
			return -1;
		/* ']' may be in an astring atom and '[' in any atom, but some
		 * servers stumble over them: quote ("[Gmail]/Sent Mail") */
		if (!atom_char(ch) || ch == '[')
			atom = 0;
		if (ch == '\r' || ch == '\n' || (ch >= 0x80 && !o->utf8))
			quoted = 0;
	}
	if (atom && n == 3 && (p[0] | 0x20) == 'n' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'l')
		atom = 0;
	if (atom)
		return 0;
	return quoted ? 1 : 2;
}

int ims_cmd_astring_form(const struct ims_writer_opts *o, const void *p, size_t n)
{
	return form(o, p, n, 1);
}

static ims_err literal_header(struct ims_cmd *c, uint64_t n, int binary)
{
	char hdr[48];
	int sync = c->opts.literal == IMS_LITERAL_SYNC ||
	           (c->opts.literal == IMS_LITERAL_MINUS && n > IMS_LITERAL_MINUS_MAX);
	int len = snprintf(hdr, sizeof(hdr), "%s{%" PRIu64 "%s}\r\n", binary ? "~" : "", n,
	                   sync ? "" : "+");

	if (put(c, hdr, (size_t)len) != IMS_OK)
		return c->code;
	if (sync)
		return add_seg(c, IMS_SEG_SYNC, 0);
	return IMS_OK;
}

static ims_err write_literal(struct ims_cmd *c, const unsigned char *p, size_t n)
{
	char t[48];

	if (literal_header(c, n, 0) != IMS_OK || put(c, p, n) != IMS_OK)
		return c->code;
	if (c->secret)
		return trace_secret(c);
	snprintf(t, sizeof(t), "{%zu}<%zu bytes>", n, n);
	return tputs(c, t);
}

static ims_err write_quoted(struct ims_cmd *c, const unsigned char *p, size_t n)
{
	size_t i;

	if (put(c, "\"", 1) != IMS_OK)
		return c->code;
	for (i = 0; i < n; i++) {
		if ((p[i] == '"' || p[i] == '\\') && put(c, "\\", 1) != IMS_OK)
			return c->code;
		if (put(c, &p[i], 1) != IMS_OK)
			return c->code;
	}
	return put(c, "\"", 1);
}

static ims_err write_string(struct ims_cmd *c, const void *pv, size_t n, int allow_atom)
{
	const unsigned char *p = pv;
	size_t before;
	int f;

	if (arg_start(c) != IMS_OK)
		return c->code;
	f = form(&c->opts, p, n, allow_atom);
	if (f < 0)
		return fail(c, IMS_ERR_USAGE, "a NUL byte in an argument");
	before = c->out.len;
	switch (f) {
	case 0:
		if (put(c, p, n) != IMS_OK)
			return c->code;
		break;
	case 1:
		if (write_quoted(c, p, n) != IMS_OK)
			return c->code;
		break;
	default: return write_literal(c, p, n);
	}
	if (c->secret)
		return trace_secret(c);
	return tput(c, c->out.data + before, c->out.len - before);
}

ims_err ims_cmd_astring(struct ims_cmd *c, const void *p, size_t n)
{
	return write_string(c, p, n, 1);
}

ims_err ims_cmd_string(struct ims_cmd *c, const void *p, size_t n)
{
	return write_string(c, p, n, 0);
}

ims_err ims_cmd_nstring(struct ims_cmd *c, const char *s)
{
	if (s == NULL) {
		if (arg_start(c) != IMS_OK || put(c, "NIL", 3) != IMS_OK)
			return c->code;
		return tputs(c, "NIL");
	}
	return write_string(c, s, strlen(s), 0);
}

ims_err ims_cmd_literal(struct ims_cmd *c, const void *p, size_t n)
{
	if (arg_start(c) != IMS_OK)
		return c->code;
	if (memchr(p, 0, n) != NULL)
		return fail(c, IMS_ERR_USAGE, "a NUL byte in an argument");
	return write_literal(c, p, n);
}

ims_err ims_cmd_literal_stream(struct ims_cmd *c, uint64_t size, int binary)
{
	char t[64];

	if (arg_start(c) != IMS_OK)
		return c->code;
	if (literal_header(c, size, binary) != IMS_OK)
		return c->code;
	if (c->seg_start != c->out.len && add_seg(c, IMS_SEG_DATA, 0) != IMS_OK)
		return c->code;
	if (add_seg(c, IMS_SEG_STREAM, size) != IMS_OK)
		return c->code;
	snprintf(t, sizeof(t), "%s{%" PRIu64 "}<%" PRIu64 " bytes>", binary ? "~" : "", size, size);
	return tputs(c, t);
}

ims_err ims_cmd_list_begin(struct ims_cmd *c)
{
	if (arg_start(c) != IMS_OK)
		return c->code;
	if (put(c, "(", 1) != IMS_OK || tput(c, "(", 1) != IMS_OK)
		return c->code;
	c->depth++;
	c->need_space = 0;
	return IMS_OK;
}

ims_err ims_cmd_list_end(struct ims_cmd *c)
{
	if (c->code != IMS_OK)
		return c->code;
	if (c->depth == 0)
		return fail(c, IMS_ERR_USAGE, "a list closed that was not open");
	if (put(c, ")", 1) != IMS_OK || tput(c, ")", 1) != IMS_OK)
		return c->code;
	c->depth--;
	c->need_space = 1;
	return IMS_OK;
}

void ims_cmd_secret(struct ims_cmd *c, int on)
{
	c->secret = on;
}

ims_err ims_cmd_end(struct ims_cmd *c)
{
	if (c->code != IMS_OK)
		return c->code;
	if (c->ended)
		return fail(c, IMS_ERR_USAGE, "the command was ended twice");
	if (c->out.len == 0)
		return fail(c, IMS_ERR_USAGE, "an empty command");
	if (c->depth != 0)
		return fail(c, IMS_ERR_USAGE, "a list left open");
	if (put(c, "\r\n", 2) != IMS_OK)
		return c->code;
	if (add_seg(c, IMS_SEG_DATA, 0) != IMS_OK)
		return c->code;
	c->ended = 1;
	return IMS_OK;
}

size_t ims_cmd_segments(const struct ims_cmd *c, const struct ims_segment **segs_r)
{
	*segs_r = c->segs;
	return c->ended ? c->n_segs : 0;
}

const char *ims_cmd_segment_data(const struct ims_cmd *c, const struct ims_segment *s)
{
	return c->out.data + s->off;
}

const char *ims_cmd_trace(const struct ims_cmd *c)
{
	return c->trace.data != NULL ? c->trace.data : "";
}
