/* Socket helpers shared by the plain and TLS streams (transport only). */
#ifndef IMAPSH_NET_INT_H
#define IMAPSH_NET_INT_H

#include "imapsh/stream.h"

/* 1 ready, 0 timed out, -1 error. */
int ims_net_wait(int fd, short events, int timeout_ms);
/* Non-blocking socket I/O honouring the stream's timeout and deadline. */
ims_err ims_net_read(struct ims_stream *s, int fd, void *p, size_t len, size_t *got_r);
ims_err ims_net_write(struct ims_stream *s, int fd, const void *p, size_t len);
/* The socket of a TLS stream (tls.c), or -1 when s is not one. */
int ims_tls__socket(const struct ims_stream *s);

#endif
