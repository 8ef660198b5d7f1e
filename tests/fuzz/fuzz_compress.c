/* The COMPRESS=DEFLATE stream, fed hostile "server" bytes.  The first
 * byte chooses how many of the rest arrive as bytes read past the OK
 * (initial) and the read size of the inner stream.  Properties: reads end
 * in EOF or an error with words, and an error sticks; no read returns
 * more than asked; and whatever is written through a compressing stream
 * reads back identical through another. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/compress.h"
#include "imapsh/stream.h"

#define OUT_CAP (8u << 20) /* inflate at most this much per input */

static void hostile(const uint8_t *data, size_t size)
{
	struct ims_stream *inner, *s;
	struct ims_buf written;
	struct ims_error err;
	size_t k, total = 0;
	char buf[3000];

	if (size < 1)
		return;
	k = (size_t)(data[0] & 0x3f);
	if (k > size - 1)
		k = size - 1;
	ims_buf_init(&written, 0);
	inner = ims_stream_memory_new(size - 1 - k > 0 ? data + 1 + k : (const uint8_t *)"",
	                              size - 1 - k, (size_t)(data[0] >> 6) * 7 + 1, &written);
	if (inner == NULL)
		abort();
	s = ims_stream_compress_new(inner, data + 1, k, &err);
	if (s == NULL)
		abort();
	for (;;) {
		size_t want = 1 + (total % sizeof(buf)), got = 0;
		ims_err e = ims_stream_read(s, buf, want, &got);

		if (e != IMS_OK) {
			if (s->err.msg[0] == '\0')
				abort();
			/* an error sticks */
			if (ims_stream_read(s, buf, sizeof(buf), &got) == IMS_OK)
				abort();
			break;
		}
		if (got > want)
			abort();
		if (got == 0)
			break;
		total += got;
		if (total > OUT_CAP)
			break;
	}
	ims_stream_close(&s);
	ims_buf_release(&written);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct ims_stream *w, *r;
	struct ims_buf wire, none;
	struct ims_error err;
	size_t off = 0, i;
	char *back;

	ims_buf_init(&wire, 0);
	ims_buf_init(&none, 0);
	w = ims_stream_compress_new(ims_stream_memory_new("", 0, 0, &wire), NULL, 0, &err);
	if (w == NULL)
		abort();
	/* written in pieces whose sizes come from the data itself */
	for (i = 0; i < size;) {
		size_t n = 1 + data[i] % 97;

		if (n > size - i)
			n = size - i;
		if (ims_stream_write(w, data + i, n) != IMS_OK)
			abort();
		i += n;
	}
	ims_stream_close(&w);
	r = ims_stream_compress_new(
	    ims_stream_memory_new(wire.len ? wire.data : "", wire.len, 5, &none), NULL, 0, &err);
	back = malloc(size + 1);
	if (r == NULL || back == NULL)
		abort();
	while (off < size) {
		size_t got = 0;

		if (ims_stream_read(r, back + off, size - off, &got) != IMS_OK || got == 0)
			abort();
		off += got;
	}
	if (size > 0 && memcmp(back, data, size) != 0)
		abort();
	free(back);
	ims_stream_close(&r);
	ims_buf_release(&wire);
	ims_buf_release(&none);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hostile(data, size);
	round_trip(data, size);
	return 0;
}
