#include "imapsh/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ims_buf_init(struct ims_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max != 0 ? max : SIZE_MAX / 2;
}

void ims_buf_release(struct ims_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void ims_buf_reset(struct ims_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

ims_err ims_buf_reserve(struct ims_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return IMS_ERR_LIMIT;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return IMS_OK;
	ncap = b->cap != 0 ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return IMS_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return IMS_OK;
}

ims_err ims_buf_append(struct ims_buf *b, const void *p, size_t n)
{
	ims_err e = ims_buf_reserve(b, n);

	if (e != IMS_OK)
		return e;
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return IMS_OK;
}

ims_err ims_buf_puts(struct ims_buf *b, const char *s)
{
	return ims_buf_append(b, s, strlen(s));
}

ims_err ims_buf_putc(struct ims_buf *b, char c)
{
	return ims_buf_append(b, &c, 1);
}

ims_err ims_buf_printf(struct ims_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	ims_err e;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return IMS_ERR_USAGE;
	e = ims_buf_reserve(b, (size_t)n);
	if (e != IMS_OK)
		return e;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return IMS_OK;
}

void ims_buf_truncate(struct ims_buf *b, size_t len)
{
	if (b->len > len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void ims_buf_consume(struct ims_buf *b, size_t n)
{
	if (n >= b->len) {
		ims_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *ims_buf_take(struct ims_buf *b, size_t *len_r)
{
	char *p = b->data;

	if (p == NULL) {
		p = calloc(1, 1);
		if (p == NULL)
			return NULL;
	}
	if (len_r != NULL)
		*len_r = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

static ims_err sink_buf_write(void *ctx, const void *p, size_t n)
{
	return ims_buf_append(ctx, p, n);
}

struct ims_sink ims_sink_buf(struct ims_buf *b)
{
	struct ims_sink s = {sink_buf_write, b};
	return s;
}

void ims_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}
