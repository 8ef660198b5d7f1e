/* COMPRESS=DEFLATE (RFC 4978): a stream that compresses what is written
 * to it and decompresses what is read from it, over another stream (TLS
 * in real use, memory in tests).  Raw deflate (RFC 1951, no zlib or gzip
 * header) both ways; every write ends with a sync flush, so each command
 * reaches the server whole and at once.
 *
 * Bounded: a read inflates into the caller's buffer only (plus a fixed
 * 4 KB for pending()), so a "zip bomb" from the server costs time, never
 * memory.  Memory is fixed at creation: zlib's state (about 300 KB) and
 * the buffers.  Data that does not inflate is IMS_ERR_PROTOCOL ("the
 * server's compressed stream is corrupt"), and every later read or write
 * fails the same way.  Timeouts and errors of the inner stream pass
 * through: the stream's timeout_ms and deadline_ms are handed to the
 * inner stream before each call, and its error words are copied.
 *
 * Counters: bytes_in and bytes_out count the uncompressed bytes (what the
 * session reads and writes), starting from the inner stream's counts at
 * the switch, so they cover the whole connection; the inner stream's own
 * counters are the bytes on the wire (under TLS).
 *
 * pending() is the inflated bytes ready to read plus what the inner
 * stream has buffered (compressed bytes), or 1 after corrupt data (a read
 * returns the error at once).
 *
 * Ownership: the new stream owns inner and closes it with itself. */
#ifndef IMAPSH_COMPRESS_H
#define IMAPSH_COMPRESS_H

#include <stddef.h>

#include "imapsh/error.h"
#include "imapsh/stream.h"

/* A compressing stream over inner.  initial[0..n) are compressed bytes
 * already read from inner (read past the tagged OK of COMPRESS): they are
 * inflated before anything more is read from inner (NULL/0 for none).
 * NULL when out of memory (err says so); inner is then left to the
 * caller. */
struct ims_stream *ims_stream_compress_new(struct ims_stream *inner, const void *initial, size_t n,
                                           struct ims_error *err);

/* The inner stream of a compressing stream (borrowed), or NULL when s is
 * not one. */
struct ims_stream *ims_stream_compress_inner(struct ims_stream *s);

#endif
