/* The HTTPS client's policy (http.h): form encoding byte by byte, and
 * real requests to a one-shot server on 127.0.0.1 (plain http, allowed
 * only when asked; TLS is exercised by the login and setup integration
 * tests against the test bed's HTTPS servers). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "imapsh/http.h"

static void test_form(void **state)
{
	struct ims_buf b;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_http_form_add(&b, "grant_type", "authorization_code"), IMS_OK);
	assert_string_equal(b.data, "grant_type=authorization_code");
	assert_int_equal(ims_http_form_add(&b, "redirect_uri", "http://127.0.0.1:5/cb?a=b c"),
	                 IMS_OK);
	assert_string_equal(b.data, "grant_type=authorization_code&redirect_uri="
	                            "http%3A%2F%2F127.0.0.1%3A5%2Fcb%3Fa%3Db%20c");
	ims_buf_reset(&b);
	assert_int_equal(ims_http_form_add(&b, "k", "-._~+&=\xe9"), IMS_OK);
	assert_string_equal(b.data, "k=-._~%2B%26%3D%E9");
	ims_buf_reset(&b);
	assert_int_equal(ims_http_form_add(&b, "", ""), IMS_OK);
	assert_string_equal(b.data, "=");
	ims_buf_release(&b);
}

static void test_url_host(void **state)
{
	char h[64];

	(void)state;
	assert_string_equal(ims_http_url_host("https://a.example/x?y", h, sizeof(h)), "a.example");
	assert_string_equal(ims_http_url_host("https://u:secret@b.example:8443/", h, sizeof(h)),
	                    "b.example:8443");
	assert_string_equal(ims_http_url_host("http://c.example", h, sizeof(h)), "c.example");
	assert_string_equal(ims_http_url_host("https://\x1b[31mx/", h, sizeof(h)), "^[[31mx");
	assert_string_equal(ims_http_url_host("", h, sizeof(h)), "");
}

/* One connection: read the request, answer with reply, close. */
struct server {
	int fd;
	int port;
	const char *reply;
	size_t reply_len;
	char request[4096];
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	size_t got = 0;
	ssize_t n;

	if (c < 0)
		return NULL;
	while (got < sizeof(s->request) - 1 &&
	       (n = read(c, s->request + got, sizeof(s->request) - 1 - got)) > 0) {
		got += (size_t)n;
		s->request[got] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		if (end != NULL) {
			const char *cl = strstr(s->request, "Content-Length: ");
			size_t want =
			    (size_t)(end + 4 - s->request) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
			if (got >= want)
				break;
		}
	}
	for (size_t off = 0; off < s->reply_len; off += (size_t)n)
		if ((n = write(c, s->reply + off, s->reply_len - off)) <= 0)
			break;
	close(c);
	return NULL;
}

static void start(struct server *s, pthread_t *t, const char *reply, size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->reply = reply, s->reply_len = len;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(t, NULL, serve, s), 0);
}

static void stop(struct server *s, pthread_t t)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(s->fd);
}

static void test_plain_http_only_when_allowed(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\x1b]0;x\x07\r\n"
	                         "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
	struct ims_http_opts o = {.allow_http = 1};
	struct ims_http_reply r;
	struct ims_error err;
	struct server s;
	pthread_t t;
	char url[64];

	(void)state;
	ims_http_reply_init(&r);
	ims_error_init(&err);
	assert_int_equal(ims_http_get("http://127.0.0.1:9/", NULL, &r, &err), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "127.0.0.1:9"));
	start(&s, &t, ok, sizeof(ok) - 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mail/config-v1.1.xml?e=a%%40b", s.port);
	assert_int_equal(ims_http_get(url, &o, &r, &err), IMS_OK);
	stop(&s, t);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 5);
	assert_string_equal(r.body.data, "hello");
	/* the header is sanitised: no ESC or BEL reaches a caller */
	assert_null(strchr(r.content_type, '\x1b'));
	assert_null(strchr(r.content_type, '\x07'));
	assert_true(strncmp(r.content_type, "text/xml", 8) == 0);
	assert_non_null(strstr(s.request, "GET /mail/config-v1.1.xml?e=a%40b HTTP/1.1\r\n"));
	ims_http_reply_release(&r);
}

static void test_post_redirect_not_followed(void **state)
{
	static const char moved[] = "HTTP/1.1 302 Found\r\nLocation: https://evil.example/\r\n"
	                            "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct ims_http_opts o = {.allow_http = 1, .accept = "application/json"};
	struct ims_http_reply r;
	struct ims_error err;
	struct server s;
	pthread_t t;
	char url[64];

	(void)state;
	ims_http_reply_init(&r);
	ims_error_init(&err);
	start(&s, &t, moved, sizeof(moved) - 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/token", s.port);
	assert_int_equal(ims_http_post_form(url, "a=1&b=2", &o, &r, &err), IMS_OK);
	stop(&s, t);
	assert_int_equal(r.status, 302);
	assert_string_equal(r.location, "https://evil.example/");
	assert_int_equal(r.body.len, 0);
	assert_non_null(strstr(s.request, "POST /token HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "Accept: application/json\r\n"));
	assert_non_null(strstr(s.request, "application/x-www-form-urlencoded"));
	assert_non_null(strstr(s.request, "\r\n\r\na=1&b=2"));
	ims_http_reply_release(&r);
}

static void test_body_cap(void **state)
{
	struct ims_http_opts o = {.allow_http = 1, .max_body = 1000};
	struct ims_http_reply r;
	struct ims_error err;
	struct server s;
	pthread_t t;
	char url[64], *big;
	size_t hl, n = 5000;

	(void)state;
	/* no Content-Length: the cap is enforced as bytes arrive */
	big = malloc(n + 100);
	assert_non_null(big);
	hl = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	memset(big + hl, 'x', n);
	ims_http_reply_init(&r);
	ims_error_init(&err);
	start(&s, &t, big, hl + n);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	assert_int_equal(ims_http_get(url, &o, &r, &err), IMS_ERR_LIMIT);
	stop(&s, t);
	assert_non_null(strstr(err.msg, "more than 1000 bytes"));
	assert_int_equal(r.body.len, 0);
	free(big);
	ims_http_reply_release(&r);
}

static void test_refused_and_not_tls(void **state)
{
	static const char plain[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct ims_http_reply r;
	struct ims_error err;
	struct server s;
	pthread_t t;
	char url[64];
	int port;

	(void)state;
	ims_http_reply_init(&r);
	ims_error_init(&err);
	/* a port nobody listens on (bound, then closed) */
	start(&s, &t, plain, sizeof(plain) - 1);
	port = s.port;
	stop(&s, t);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	assert_int_equal(ims_http_get(url, NULL, &r, &err), IMS_ERR_NET);
	/* a plain HTTP server where https was asked: never read as an answer */
	start(&s, &t, plain, sizeof(plain) - 1);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", s.port);
	assert_int_not_equal(ims_http_get(url, NULL, &r, &err), IMS_OK);
	stop(&s, t);
	assert_int_equal(r.status, 0);
	ims_http_reply_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form),
	    cmocka_unit_test(test_url_host),
	    cmocka_unit_test(test_plain_http_only_when_allowed),
	    cmocka_unit_test(test_post_redirect_not_followed),
	    cmocka_unit_test(test_body_cap),
	    cmocka_unit_test(test_refused_and_not_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
