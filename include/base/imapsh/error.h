/* imapsh error codes and the error context every layer carries.
 *
 * Functions that can fail return enum ims_err and write the words of the
 * failure into a struct ims_error owned by their context (transport,
 * session) or passed by the caller.  Only the front end maps an ims_err to
 * a process exit code.
 *
 * Part of the base library (src/base/): no external library, uses no other. */
#ifndef IMAPSH_ERROR_H
#define IMAPSH_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define IMS_MUST_CHECK   __attribute__((warn_unused_result))
#define IMS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IMS_MUST_CHECK
#define IMS_PRINTF(a, b)
#endif

/* Graded by what survives (message, folder, connection, protocol). */
typedef enum ims_err {
	IMS_OK = 0,
	IMS_ERR_NO,       /* the server answered NO or BAD, or nothing matched */
	IMS_ERR_USAGE,    /* the caller asked for something malformed */
	IMS_ERR_NET,      /* resolve, connect, timeout, connection lost */
	IMS_ERR_TLS,      /* handshake, verification, STARTTLS unavailable */
	IMS_ERR_AUTH,     /* authentication failed */
	IMS_ERR_IO,       /* local I/O: cannot write a file, disk full */
	IMS_ERR_PROTOCOL, /* the server broke the protocol; connection is gone */
	IMS_ERR_LIMIT,    /* a bound on server data was exceeded */
	IMS_ERR_NOMEM,    /* out of memory */
	IMS_ERR_CANCELLED /* the user interrupted the operation */
} ims_err;

#define IMS_ERROR_MAX 1024

struct ims_error {
	ims_err code;
	char msg[IMS_ERROR_MAX]; /* lowercase words, no full stop */
};

/* Cannot fail; leaves code IMS_OK and an empty message. */
void ims_error_init(struct ims_error *e);

/* Record a failure and return its code, so callers can write
 * `return ims_error_set(e, IMS_ERR_NET, "connect %s: %s", ...)`. */
ims_err ims_error_set(struct ims_error *e, ims_err code, const char *fmt, ...) IMS_PRINTF(3, 4);

/* The one out-of-memory failure: IMS_ERR_NOMEM, "out of memory". */
ims_err ims_error_nomem(struct ims_error *e);

/* Put "what: " in front of the existing message (keeps the code). */
ims_err ims_error_prefix(struct ims_error *e, const char *fmt, ...) IMS_PRINTF(2, 3);

/* Copy src into dst (both may be NULL-safe; returns src->code). */
ims_err ims_error_copy(struct ims_error *dst, const struct ims_error *src);

/* A short name for a code ("network", "tls", ...). */
const char *ims_err_name(ims_err code);

#endif
