/* The byte stream the IMAP session talks through: a small vtable so the
 * session runs over TLS, a plain socket (STARTTLS phase only) or memory
 * (tests) alike.
 *
 * Ownership: a stream is created by one of the constructors and freed by
 * ims_stream_close(), which sets the caller's pointer to NULL.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_STREAM_H
#define IMAPSH_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

struct ims_stream;

struct ims_stream_ops {
	/* Read 1..len bytes, blocking until data arrives, the inactivity
	 * timeout passes, or the deadline passes.  *got_r == 0 with IMS_OK
	 * means the peer closed the stream cleanly. */
	ims_err (*read)(struct ims_stream *s, void *p, size_t len, size_t *got_r);
	/* Write all len bytes or fail. */
	ims_err (*write)(struct ims_stream *s, const void *p, size_t len);
	/* Bytes already received and buffered below this layer, not yet
	 * returned by read (0 when unknown). */
	size_t (*pending)(struct ims_stream *s);
	/* Release everything, including s itself. */
	void (*close)(struct ims_stream *s);
};

struct ims_stream {
	const struct ims_stream_ops *ops;
	struct ims_error err; /* why the last call failed */
	int timeout_ms;       /* inactivity timeout per read/write; <=0 none */
	int64_t deadline_ms;  /* absolute ims_now_ms() bound; 0 = none */
	uint64_t bytes_in;    /* counted by the implementation */
	uint64_t bytes_out;
};

ims_err ims_stream_read(struct ims_stream *s, void *p, size_t len, size_t *got_r) IMS_MUST_CHECK;
ims_err ims_stream_write(struct ims_stream *s, const void *p, size_t len) IMS_MUST_CHECK;
size_t ims_stream_pending(struct ims_stream *s);
void ims_stream_close(struct ims_stream **s);

/* Milliseconds on a monotonic clock. */
int64_t ims_now_ms(void);

/* The milliseconds a blocking wait may take now, given the inactivity
 * timeout and the deadline: -1 = forever, 0 = expired. */
int ims_stream_wait_ms(const struct ims_stream *s);

/* An in-memory stream for tests: reads return the bytes of `input` (at
 * most `chunk` bytes per read; 0 = no limit), then EOF; writes are
 * appended to `written` (owned by the caller, must outlive the stream). */
struct ims_stream *ims_stream_memory_new(const void *input, size_t len, size_t chunk,
                                         struct ims_buf *written);

#endif
