/* The COMPRESS=DEFLATE stream (RFC 4978) over zlib: raw deflate out with a
 * sync flush after every write, raw inflate in, straight into the
 * caller's buffer. */
#define ZLIB_CONST
#include "imapsh/compress.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IN_SIZE    16384 /* compressed bytes read from inner at a time */
#define OUT_SIZE   16384 /* compressed bytes written to inner at a time */
#define AHEAD_SIZE 4096  /* inflated by pending(), not yet read */
#define ZCHUNK     (1u << 30)

struct comp_stream {
	struct ims_stream base;
	struct ims_stream *inner;
	z_stream inf, def;
	int inf_init, def_init;
	unsigned char *in; /* inf.next_in points into it */
	size_t in_cap;
	unsigned char out[OUT_SIZE];
	unsigned char ahead[AHEAD_SIZE];
	size_t ahead_pos, ahead_len;
	int more;       /* the last inflate filled its output: it may give more without input */
	int ended;      /* the server's deflate stream ended (final block) */
	ims_err broken; /* corrupt data or a failed write: every later call fails */
};

static ims_err fail(struct comp_stream *c, ims_err code, const char *what, const char *zmsg)
{
	c->broken = code;
	if (zmsg != NULL)
		return ims_error_set(&c->base.err, code, "%s (%s)", what, zmsg);
	return ims_error_set(&c->base.err, code, "%s", what);
}

/* The inner stream waits as long as this one may. */
static void hand_down(struct comp_stream *c)
{
	c->inner->timeout_ms = c->base.timeout_ms;
	c->inner->deadline_ms = c->base.deadline_ms;
}

static ims_err inner_failed(struct comp_stream *c)
{
	ims_error_copy(&c->base.err, &c->inner->err);
	if (c->base.err.code == IMS_OK)
		ims_error_set(&c->base.err, IMS_ERR_NET, "the connection failed");
	return c->base.err.code;
}

/* Inflate the buffered input into p[0..len): *got_r bytes (0 when the
 * input is used up and more is needed).  Corrupt data after some good
 * bytes gives those bytes first: the error is kept for the next call. */
static ims_err inflate_some(struct comp_stream *c, unsigned char *p, size_t len, size_t *got_r)
{
	uInt room = len > ZCHUNK ? ZCHUNK : (uInt)len;
	int r;

	*got_r = 0;
	if (c->inf.avail_in == 0 && !c->more)
		return IMS_OK;
	if (c->ended)
		return fail(c, IMS_ERR_PROTOCOL, "the server's compressed stream is corrupt",
		            "data after its final block");
	c->inf.next_out = p;
	c->inf.avail_out = room;
	r = inflate(&c->inf, Z_SYNC_FLUSH);
	*got_r = room - c->inf.avail_out;
	c->more = c->inf.avail_out == 0;
	switch (r) {
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible: needs input */ break;
	case Z_STREAM_END:
		c->ended = 1;
		c->more = 0;
		break;
	case Z_MEM_ERROR: return fail(c, IMS_ERR_NOMEM, "out of memory", NULL);
	default:
		fail(c, IMS_ERR_PROTOCOL, "the server's compressed stream is corrupt",
		     c->inf.msg != NULL ? c->inf.msg : "bad data");
		return *got_r > 0 ? IMS_OK : c->broken;
	}
	if (*got_r == 0 && c->inf.avail_in != 0)
		return fail(c, IMS_ERR_PROTOCOL, "the server's compressed stream is corrupt",
		            c->ended ? "data after its final block" : "no progress");
	return IMS_OK;
}

static ims_err comp_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	struct comp_stream *c = (struct comp_stream *)s;

	*got_r = 0;
	if (len == 0)
		return IMS_OK;
	if (c->ahead_pos < c->ahead_len) {
		size_t n = c->ahead_len - c->ahead_pos;

		if (n > len)
			n = len;
		memcpy(p, c->ahead + c->ahead_pos, n);
		c->ahead_pos += n;
		*got_r = n;
		return IMS_OK;
	}
	if (c->broken != IMS_OK)
		return c->broken;
	for (;;) {
		size_t got;

		if (inflate_some(c, p, len, &got) != IMS_OK)
			return c->broken;
		if (got > 0) {
			*got_r = got;
			return IMS_OK;
		}
		/* Everything buffered is inflated: more from the server. */
		hand_down(c);
		if (ims_stream_read(c->inner, c->in, c->in_cap, &got) != IMS_OK)
			return inner_failed(c);
		if (got == 0)
			return IMS_OK; /* the server closed the connection */
		c->inf.next_in = c->in;
		c->inf.avail_in = (uInt)got;
	}
}

static ims_err comp_write(struct ims_stream *s, const void *p, size_t len)
{
	struct comp_stream *c = (struct comp_stream *)s;
	const unsigned char *q = p;

	if (c->broken != IMS_OK)
		return c->broken;
	if (len == 0)
		return IMS_OK;
	do {
		uInt part = len > ZCHUNK ? ZCHUNK : (uInt)len;

		c->def.next_in = q;
		c->def.avail_in = part;
		q += part;
		len -= part;
		do {
			size_t n;
			int r;

			c->def.next_out = c->out;
			c->def.avail_out = sizeof(c->out);
			r = deflate(&c->def, Z_SYNC_FLUSH);
			if (r != Z_OK && r != Z_BUF_ERROR)
				return fail(c, IMS_ERR_PROTOCOL, "cannot compress",
				            c->def.msg != NULL ? c->def.msg : "deflate failed");
			n = sizeof(c->out) - c->def.avail_out;
			if (n == 0)
				continue;
			hand_down(c);
			if (ims_stream_write(c->inner, c->out, n) != IMS_OK) {
				/* half a flush went out: the stream cannot go on */
				c->broken = inner_failed(c);
				return c->broken;
			}
		} while (c->def.avail_out == 0 || c->def.avail_in != 0);
	} while (len > 0);
	return IMS_OK;
}

static size_t comp_pending(struct ims_stream *s)
{
	struct comp_stream *c = (struct comp_stream *)s;

	if (c->ahead_pos == c->ahead_len && c->broken == IMS_OK) {
		size_t got = 0;

		c->ahead_pos = c->ahead_len = 0;
		if (inflate_some(c, c->ahead, sizeof(c->ahead), &got) == IMS_OK)
			c->ahead_len = got;
	}
	if (c->ahead_pos < c->ahead_len)
		return c->ahead_len - c->ahead_pos + ims_stream_pending(c->inner);
	if (c->broken != IMS_OK)
		return 1; /* a read fails at once */
	return ims_stream_pending(c->inner);
}

static void comp_free(struct comp_stream *c)
{
	if (c->inf_init)
		inflateEnd(&c->inf);
	if (c->def_init)
		deflateEnd(&c->def);
	free(c->in);
	free(c);
}

static void comp_close(struct ims_stream *s)
{
	struct comp_stream *c = (struct comp_stream *)s;

	ims_stream_close(&c->inner);
	comp_free(c);
}

static const struct ims_stream_ops comp_ops = {comp_read, comp_write, comp_pending, comp_close};

struct ims_stream *ims_stream_compress_new(struct ims_stream *inner, const void *initial, size_t n,
                                           struct ims_error *err)
{
	struct comp_stream *c;

	if (n > ZCHUNK) {
		ims_error_set(err, IMS_ERR_USAGE, "compress: too much initial data");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->in_cap = n > IN_SIZE ? n : IN_SIZE;
	c->in = malloc(c->in_cap);
	if (c->in == NULL)
		goto nomem;
	/* windowBits -15: raw deflate with a 32 KB window (RFC 4978 section 3) */
	if (inflateInit2(&c->inf, -15) != Z_OK)
		goto nomem;
	c->inf_init = 1;
	if (deflateInit2(&c->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		goto nomem;
	c->def_init = 1;
	if (n > 0)
		memcpy(c->in, initial, n);
	c->inf.next_in = c->in;
	c->inf.avail_in = (uInt)n;
	c->base.ops = &comp_ops;
	ims_error_init(&c->base.err);
	c->base.timeout_ms = inner->timeout_ms;
	c->base.deadline_ms = inner->deadline_ms;
	/* The initial bytes were counted compressed by inner: count them
	 * once, inflated, as they are read. */
	c->base.bytes_in = inner->bytes_in >= n ? inner->bytes_in - n : 0;
	c->base.bytes_out = inner->bytes_out;
	c->inner = inner;
	return &c->base;
nomem:
	if (c != NULL)
		comp_free(c);
	ims_error_set(err, IMS_ERR_NOMEM, "compress: out of memory");
	return NULL;
}

struct ims_stream *ims_stream_compress_inner(struct ims_stream *s)
{
	if (s == NULL || s->ops != &comp_ops)
		return NULL;
	return ((struct comp_stream *)s)->inner;
}
