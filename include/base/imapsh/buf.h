/* A growable byte buffer with a hard cap, and the byte-sink interface that
 * streams (literals, message bodies) are written through.
 *
 * The buffer owns data; it is always NUL-terminated when data != NULL so it
 * can be used as a C string, but may hold NUL bytes inside (use len).
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_BUF_H
#define IMAPSH_BUF_H

#include <stddef.h>

#include "imapsh/error.h"

struct ims_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* growth beyond this is IMS_ERR_LIMIT; 0 = SIZE_MAX/2 */
};

/* Cannot fail; allocates nothing. */
void ims_buf_init(struct ims_buf *b, size_t max);
/* Frees data and leaves an empty buffer with the same max. */
void ims_buf_release(struct ims_buf *b);
/* Keeps the memory, sets len to 0. */
void ims_buf_reset(struct ims_buf *b);
ims_err ims_buf_reserve(struct ims_buf *b, size_t extra) IMS_MUST_CHECK;
ims_err ims_buf_append(struct ims_buf *b, const void *p, size_t n) IMS_MUST_CHECK;
ims_err ims_buf_puts(struct ims_buf *b, const char *s) IMS_MUST_CHECK;
ims_err ims_buf_putc(struct ims_buf *b, char c) IMS_MUST_CHECK;
ims_err ims_buf_printf(struct ims_buf *b, const char *fmt, ...) IMS_PRINTF(2, 3) IMS_MUST_CHECK;
/* Cut to len bytes if longer (keeps the NUL terminator). */
void ims_buf_truncate(struct ims_buf *b, size_t len);
/* Drop the first n bytes. */
void ims_buf_consume(struct ims_buf *b, size_t n);
/* The only way to steal the memory: returns data (never NULL; an empty
 * string when nothing was added), sets *len_r, and leaves b empty. The
 * caller frees the result. Returns NULL only when out of memory. */
char *ims_buf_take(struct ims_buf *b, size_t *len_r);

/* Where streamed bytes go.  write returns IMS_OK or an error it has
 * recorded in its own context. */
struct ims_sink {
	ims_err (*write)(void *ctx, const void *p, size_t n);
	void *ctx;
};

/* A sink that appends to an ims_buf (honouring its max). */
struct ims_sink ims_sink_buf(struct ims_buf *b);

/* Overwrite memory in a way the compiler will not elide (secrets). */
void ims_wipe(void *p, size_t n);

#endif
