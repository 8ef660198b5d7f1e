/* HTTPS requests for login and discovery: OAuth 2.0 endpoints, autoconfig
 * documents, the ISPDB.  A thin layer over libcurl that fixes the policy
 * in one place: certificates always verified (peer and name), TLS 1.2 at
 * least, https only unless the caller allows plain http, no redirect
 * followed, no proxy or cookie or .netrc taken from the environment, and
 * a cap on what a server may send back.
 *
 * Part of the net library (src/net/): on base and libcurl. */
#ifndef IMAPSH_HTTP_H
#define IMAPSH_HTTP_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

struct ims_http_opts {
	const char *ca_file;        /* PEM file of trusted CAs; NULL: the system's store */
	const char *const *resolve; /* "HOST:PORT:ADDR" entries, NULL-terminated; NULL: none */
	unsigned timeout_ms;        /* the whole request; 0: IMS_CAP_HTTP_TIMEOUT_MS */
	size_t max_body;            /* body bytes kept; 0: IMS_CAP_HTTP_BODY; over: IMS_ERR_LIMIT */
	int allow_http;             /* 1: plain http:// allowed too (autoconfig) */
	const char *accept;         /* an Accept header, or NULL */
};

struct ims_http_reply {
	long status;            /* the HTTP status; a 3xx is returned, never followed */
	struct ims_buf body;    /* the body, NUL-terminated after body.len */
	char content_type[128]; /* sanitised; "" when none */
	char location[512];     /* a 3xx's Location, sanitised; "" when none */
};

/* Cannot fail. */
void ims_http_reply_init(struct ims_http_reply *r);
/* Wipes and frees the body. */
void ims_http_reply_release(struct ims_http_reply *r);

/* A status other than 2xx is not an error: read r->status and r->body.
 * Errors: IMS_ERR_NET (resolve, connect, timeout), IMS_ERR_TLS (not
 * trusted, wrong name, handshake), IMS_ERR_USAGE (a URL or scheme not
 * allowed), IMS_ERR_LIMIT (the body is over the cap), IMS_ERR_PROTOCOL
 * (not HTTP).  The words name the host, never the query or the body.
 * r must be initialised; its old body is dropped. */
ims_err ims_http_get(const char *url, const struct ims_http_opts *o, struct ims_http_reply *r,
                     struct ims_error *err) IMS_MUST_CHECK;

/* POST application/x-www-form-urlencoded (form as made by
 * ims_http_form_add).  The form often holds a secret: the caller wipes
 * it; nothing of it reaches an error or a trace. */
ims_err ims_http_post_form(const char *url, const char *form, const struct ims_http_opts *o,
                           struct ims_http_reply *r, struct ims_error *err) IMS_MUST_CHECK;

/* Appends "key=value" to b, preceded by "&" when b is not empty, both
 * percent-encoded by the form rules (unreserved kept, space as %20). */
ims_err ims_http_form_add(struct ims_buf *b, const char *key, const char *value) IMS_MUST_CHECK;

/* The host of an http(s) URL, for words ("the ISPDB at HOST"); "" when
 * there is none.  out is sanitised; n at least 4. */
const char *ims_http_url_host(const char *url, char *out, size_t n);

#endif
