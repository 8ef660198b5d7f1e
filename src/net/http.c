#include "imapsh/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imapsh/caps.h"
#include "imapsh/sanitize.h"
#include "curl_load.h"

void ims_http_reply_init(struct ims_http_reply *r)
{
	memset(r, 0, sizeof(*r));
	ims_buf_init(&r->body, 0);
}

void ims_http_reply_release(struct ims_http_reply *r)
{
	if (r->body.data != NULL)
		ims_wipe(r->body.data, r->body.cap);
	ims_buf_release(&r->body);
	r->status = 0;
	r->content_type[0] = r->location[0] = '\0';
}

const char *ims_http_url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p != NULL ? p + 3 : url;
	len = strcspn(p, "/?#");
	/* user:pass@ never shown */
	for (size_t i = len; i > 0; i--)
		if (p[i - 1] == '@') {
			p += i;
			len -= i;
			break;
		}
	return ims_sanitize_fixed(p, len, out, n);
}

/* A request's state while libcurl runs it. */
struct req {
	struct ims_http_reply *r;
	int over; /* the body went over the cap */
};

/* The IMAP connection's TLS profile (transport/tls.c) for the HTTPS
 * fetches too, in OpenSSL's words (libcurl.so.4 is built on OpenSSL):
 * in TLS 1.2 forward-secret AEAD suites only (ECDHE or DHE with AES-GCM
 * or ChaCha20-Poly1305; no static RSA key exchange, no CBC, no SHA-1);
 * TLS 1.3's suites are all AEAD and left as they are. */
#define HTTPS_TLS12_SUITES                                                                         \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"     \
	"DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256"
static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct req *q = ctx;
	size_t n = size * nmemb;

	if (ims_buf_append(&q->r->body, p, n) != IMS_OK) {
		q->over = 1;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	return n;
}

/* The one value of a header line "Name: value\r\n" if its name is name. */
static int header_value(const char *p, size_t n, const char *name, const char **v_r, size_t *vn_r)
{
	size_t k = strlen(name);

	if (n <= k || p[k] != ':' || strncasecmp(p, name, k) != 0)
		return 0;
	p += k + 1, n -= k + 1;
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	*v_r = p, *vn_r = n;
	return 1;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct req *q = ctx;
	size_t n = size * nmemb;
	const char *v;
	size_t vn;

	/* a new status line (after a 100 Continue) starts the headers over */
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0)
		q->r->content_type[0] = q->r->location[0] = '\0';
	else if (header_value(p, n, "Content-Type", &v, &vn))
		ims_sanitize_fixed(v, vn, q->r->content_type, sizeof(q->r->content_type));
	else if (header_value(p, n, "Location", &v, &vn))
		ims_sanitize_fixed(v, vn, q->r->location, sizeof(q->r->location));
	return n;
}

/* Words for a failed transfer, graded as the header says. */
static ims_err fail(const struct ims_curl_api *C, CURLcode rc, const struct req *q,
                    const char *host, const char *detail, struct ims_error *err)
{
	const char *why = detail[0] != '\0' ? detail : C->easy_strerror(rc);
	char safe[256];

	ims_sanitize_fixed(why, strlen(why), safe, sizeof(safe));
	if (q->over)
		return ims_error_set(
		    err, IMS_ERR_LIMIT,
		    "%s sent more than %zu bytes: not read further (is the URL right?)", host,
		    q->r->body.max);
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return ims_error_set(err, IMS_ERR_USAGE, "not an allowed https URL for %s: %s",
		                     host, safe);
	case CURLE_COULDNT_RESOLVE_HOST:
		return ims_error_set(err, IMS_ERR_NET,
		                     "cannot resolve %s (check the name, or give --resolve)", host);
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING: return ims_error_set(err, IMS_ERR_NET, "%s: %s", host, safe);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return ims_error_set(
		    err, IMS_ERR_TLS,
		    "%s: certificate not trusted or TLS failed (%s); next: give the "
		    "right CA with --ca-file, or check the host name",
		    host, safe);
	case CURLE_FILESIZE_EXCEEDED:
		return ims_error_set(err, IMS_ERR_LIMIT, "%s: reply too large: %s", host, safe);
	case CURLE_WEIRD_SERVER_REPLY:
		return ims_error_set(err, IMS_ERR_PROTOCOL, "%s does not speak HTTP: %s", host,
		                     safe);
	default: return ims_error_set(err, IMS_ERR_NET, "%s: %s", host, safe);
	}
}

/* The options every request has: the policy of the header comment. */
static ims_err setup(const struct ims_curl_api *C, CURL *h, const char *url,
                     const struct ims_http_opts *o, struct req *q, struct curl_slist **res_r,
                     char *errbuf)
{
	long timeout = (long)(o->timeout_ms != 0 ? o->timeout_ms : IMS_CAP_HTTP_TIMEOUT_MS);
	const char *protos = o->allow_http ? "https,http" : "https";
	int bad = 0;

	if (o->resolve != NULL)
		for (const char *const *e = o->resolve; *e != NULL; e++) {
			struct curl_slist *n = C->slist_append(*res_r, *e);
			if (n == NULL)
				return IMS_ERR_NOMEM;
			*res_r = n;
		}
	bad |= C->easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, HTTPS_TLS12_SUITES) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_SSL_EC_CURVES, "X25519:P-256:P-384:P-521") != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->r->body.max) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_USERAGENT, "imapsh") != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_WRITEDATA, q) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_HEADERDATA, q) != CURLE_OK;
	bad |= C->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	if (*res_r != NULL)
		bad |= C->easy_setopt(h, CURLOPT_RESOLVE, *res_r) != CURLE_OK;
	if (o->ca_file != NULL)
		bad |= C->easy_setopt(h, CURLOPT_CAINFO, o->ca_file) != CURLE_OK;
	return bad ? IMS_ERR_USAGE : IMS_OK;
}

static ims_err perform(const char *url, const char *form, const struct ims_http_opts *o,
                       struct ims_http_reply *r, struct ims_error *err)
{
	static const struct ims_http_opts none;
	char host[256], errbuf[CURL_ERROR_SIZE] = "", accept[256];
	struct curl_slist *res = NULL, *hdrs = NULL;
	struct req q = {r, 0};
	const struct ims_curl_api *C = ims_curl(err);
	CURL *h;
	CURLcode rc;
	ims_err e;

	if (o == NULL)
		o = &none;
	ims_http_url_host(url, host, sizeof(host));
	ims_http_reply_release(r);
	ims_buf_init(&r->body, o->max_body != 0 ? o->max_body : IMS_CAP_HTTP_BODY);
	if (C == NULL)
		return IMS_ERR_USAGE;
	if ((h = C->easy_init()) == NULL)
		return ims_error_nomem(err);
	e = setup(C, h, url, o, &q, &res, errbuf);
	if (e == IMS_OK && o->accept != NULL) {
		snprintf(accept, sizeof(accept), "Accept: %s", o->accept);
		if ((hdrs = C->slist_append(NULL, accept)) == NULL)
			e = IMS_ERR_NOMEM;
		else if (C->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK)
			e = IMS_ERR_USAGE;
	}
	if (e == IMS_OK && form != NULL &&
	    (C->easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form)) != CURLE_OK ||
	     C->easy_setopt(h, CURLOPT_POSTFIELDS, form) != CURLE_OK))
		e = IMS_ERR_USAGE;
	if (e != IMS_OK) {
		ims_error_set(err, e, "cannot set up the request to %s", host);
		goto out;
	}
	rc = C->easy_perform(h);
	if (rc != CURLE_OK) {
		e = fail(C, rc, &q, host, errbuf, err);
		ims_http_reply_release(r);
		goto out;
	}
	if (ims_buf_append(&r->body, "", 0) != IMS_OK) /* NUL-terminated even when empty */
		e = ims_error_nomem(err);
	C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
out:
	C->slist_free_all(hdrs);
	C->slist_free_all(res);
	C->easy_cleanup(h);
	return e;
}

ims_err ims_http_get(const char *url, const struct ims_http_opts *o, struct ims_http_reply *r,
                     struct ims_error *err)
{
	return perform(url, NULL, o, r, err);
}

ims_err ims_http_post_form(const char *url, const char *form, const struct ims_http_opts *o,
                           struct ims_http_reply *r, struct ims_error *err)
{
	return perform(url, form != NULL ? form : "", o, r, err);
}

static ims_err put_encoded(struct ims_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		ims_err e;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			e = ims_buf_putc(b, (char)c);
		} else {
			char t[3] = {'%', hex[c >> 4], hex[c & 15]};
			e = ims_buf_append(b, t, 3);
		}
		if (e != IMS_OK)
			return e;
	}
	return IMS_OK;
}

ims_err ims_http_form_add(struct ims_buf *b, const char *key, const char *value)
{
	ims_err e = IMS_OK;

	if (b->len > 0)
		e = ims_buf_putc(b, '&');
	if (e == IMS_OK)
		e = put_encoded(b, key);
	if (e == IMS_OK)
		e = ims_buf_putc(b, '=');
	if (e == IMS_OK)
		e = put_encoded(b, value);
	return e;
}
