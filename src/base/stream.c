#include "imapsh/stream.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

ims_err ims_stream_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	ims_err e;

	*got_r = 0;
	if (s->deadline_ms != 0 && ims_now_ms() >= s->deadline_ms)
		return ims_error_set(&s->err, IMS_ERR_NET,
		                     "timed out: the operation took too long");
	e = s->ops->read(s, p, len, got_r);
	if (e == IMS_OK)
		s->bytes_in += *got_r;
	return e;
}

ims_err ims_stream_write(struct ims_stream *s, const void *p, size_t len)
{
	ims_err e = s->ops->write(s, p, len);

	if (e == IMS_OK)
		s->bytes_out += len;
	return e;
}

size_t ims_stream_pending(struct ims_stream *s)
{
	return s->ops->pending != NULL ? s->ops->pending(s) : 0;
}

void ims_stream_close(struct ims_stream **s)
{
	if (*s != NULL)
		(*s)->ops->close(*s);
	*s = NULL;
}

int64_t ims_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ims_stream_wait_ms(const struct ims_stream *s)
{
	int64_t left;
	int wait = s->timeout_ms > 0 ? s->timeout_ms : -1;

	if (s->deadline_ms == 0)
		return wait;
	left = s->deadline_ms - ims_now_ms();
	if (left <= 0)
		return 0;
	if (wait < 0 || left < wait)
		wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
	return wait;
}

struct mem_stream {
	struct ims_stream base;
	const unsigned char *in;
	size_t len, pos, chunk;
	struct ims_buf *out;
};

static ims_err mem_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	struct mem_stream *m = (struct mem_stream *)s;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	if (m->chunk != 0 && n > m->chunk)
		n = m->chunk;
	if (n > 0) /* in may be NULL for an empty stream */
		memcpy(p, m->in + m->pos, n);
	m->pos += n;
	*got_r = n;
	return IMS_OK;
}

static ims_err mem_write(struct ims_stream *s, const void *p, size_t len)
{
	struct mem_stream *m = (struct mem_stream *)s;

	if (m->out == NULL)
		return IMS_OK;
	if (ims_buf_append(m->out, p, len) != IMS_OK)
		return ims_error_set(&s->err, IMS_ERR_NOMEM, "memory stream full");
	return IMS_OK;
}

static size_t mem_pending(struct ims_stream *s)
{
	struct mem_stream *m = (struct mem_stream *)s;

	return m->len - m->pos;
}

static void mem_close(struct ims_stream *s)
{
	free(s);
}

static const struct ims_stream_ops mem_ops = {mem_read, mem_write, mem_pending, mem_close};

struct ims_stream *ims_stream_memory_new(const void *input, size_t len, size_t chunk,
                                         struct ims_buf *written)
{
	struct mem_stream *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->base.ops = &mem_ops;
	ims_error_init(&m->base.err);
	m->in = input;
	m->len = len;
	m->chunk = chunk;
	m->out = written;
	return &m->base;
}
