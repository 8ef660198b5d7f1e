/* The loopback redirect of `oauth login` (oauth_loopback.h). */
#include "cli/cmd/oauth_loopback.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/output.h"
#include "imapsh/caps.h"
#include "imapsh/fsafe.h"
#include "imapsh/oauth.h"
#include "imapsh/sanitize.h"

static const char page_ok[] =
    "<!doctype html><meta charset=utf-8><title>imapsh</title>"
    "<p>imapsh has received the authorization. You can close this tab.</p>\n";
static const char page_denied[] = "<!doctype html><meta charset=utf-8><title>imapsh</title>"
                                  "<p>The login was refused; see the terminal.</p>\n";
static const char page_bad[] =
    "<!doctype html><meta charset=utf-8><title>imapsh</title>"
    "<p>This request does not belong to the login imapsh is waiting for.</p>\n";

static void answer(int fd, int status, const char *page)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	                 "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	                 "Connection: close\r\n\r\n",
	                 status,
	                 status == 200   ? "OK"
	                 : status == 404 ? "Not Found"
	                                 : "Bad Request",
	                 strlen(page));

	(void)ims_fs_write_all(fd, head, (size_t)n, NULL);
	(void)ims_fs_write_all(fd, page, strlen(page), NULL);
}

long long cmd_oauth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one request head (to the blank line, at most IMS_CAP_OAUTH_REQUEST
 * bytes, for at most 5 s) into buf; its length, or -1. */
static long read_head(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	long long end = cmd_oauth_now_ms() + 5000;

	while (len + 1 < cap) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = end - cmd_oauth_now_ms();
		ssize_t r;

		if (left <= 0 || cli_interrupted)
			return -1;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			return (long)len;
	}
	return -1;
}

/* The Host header's value of a request head, into out; "" when none. */
static void host_header(const char *head, char *out, size_t n)
{
	const char *p = strchr(head, '\n');

	out[0] = '\0';
	while (p != NULL && p[1] != '\0') {
		p++;
		if (strncasecmp(p, "Host:", 5) == 0) {
			size_t k;

			p += 5;
			while (*p == ' ' || *p == '\t')
				p++;
			k = strcspn(p, "\r\n");
			while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
				k--;
			if (k < n) {
				memcpy(out, p, k);
				out[k] = '\0';
			}
			return;
		}
		p = strchr(p, '\n');
	}
}

/* Wait for the browser: the code into code[0..n).  Every request that is
 * not the expected one is answered and refused, and the wait goes on. */
ims_err cmd_oauth_wait_redirect(struct cli *c, int lfd, unsigned port, const char *state,
                                char *code, size_t n)
{
	int wait_s = c->o.timeout_s > 0 ? c->o.timeout_s : REDIRECT_WAIT_S;
	long long end = cmd_oauth_now_ms() + (long long)wait_s * 1000;
	int refused_state = 0, refused_other = 0;
	char *head = malloc(IMS_CAP_OAUTH_REQUEST);

	if (head == NULL)
		return ims_error_nomem(&c->err);
	for (;;) {
		struct pollfd p = {lfd, POLLIN, 0};
		long long left = end - cmd_oauth_now_ms();
		enum ims_oauth_redirect r;
		char why[300], host[300];
		long len;
		int fd;

		if (cli_interrupted) {
			free(head);
			return ims_error_set(&c->err, IMS_ERR_CANCELLED, "oauth: interrupted");
		}
		if (left <= 0)
			break;
		if (poll(&p, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		len = read_head(fd, head, IMS_CAP_OAUTH_REQUEST);
		if (len < 0) {
			close(fd);
			continue;
		}
		host_header(head, host, sizeof(host));
		r = ims_oauth_redirect_parse(head, strcspn(head, "\r\n"), "/", state, code, n, why,
		                             sizeof(why));
		if (!ims_oauth_redirect_host_ok(host, port) && r != IMS_OAUTH_REDIRECT_NOT_OURS) {
			ims_wipe(code, n);
			answer(fd, 400, page_bad);
			close(fd);
			refused_other = 1;
			cli_warn("oauth: refused a request for another host name (%s) at the "
			         "redirect listener; still waiting",
			         cli_safe(host, why, 64));
			continue;
		}
		switch (r) {
		case IMS_OAUTH_REDIRECT_CODE:
			answer(fd, 200, page_ok);
			close(fd);
			ims_wipe(head, IMS_CAP_OAUTH_REQUEST);
			free(head);
			return IMS_OK;
		case IMS_OAUTH_REDIRECT_DENIED:
			answer(fd, 200, page_denied);
			close(fd);
			ims_wipe(head, IMS_CAP_OAUTH_REQUEST);
			free(head);
			{
				struct ims_oauth_token t;
				char words[1024];

				ims_oauth_token_init(&t);
				snprintf(t.error, sizeof(t.error), "%.*s", (int)strcspn(why, ":"),
				         why);
				ims_oauth_error_words(&t, NULL, words, sizeof(words));
				return ims_error_set(&c->err, IMS_ERR_AUTH,
				                     "oauth: the authorization server said %s: %s",
				                     why, words);
			}
		case IMS_OAUTH_REDIRECT_BAD_STATE:
			answer(fd, 400, page_bad);
			refused_state = 1;
			cli_warn("oauth: refused a redirect at the listener: %s; still waiting",
			         why);
			break;
		case IMS_OAUTH_REDIRECT_NOT_OURS: answer(fd, 404, page_bad); break;
		case IMS_OAUTH_REDIRECT_MALFORMED:
			answer(fd, 400, page_bad);
			refused_other = 1;
			break;
		}
		close(fd);
	}
	ims_wipe(head, IMS_CAP_OAUTH_REQUEST);
	free(head);
	return ims_error_set(&c->err, IMS_ERR_NET,
	                     "oauth: the browser's redirect never came within %d s%s; run "
	                     "'imapsh oauth login' again (--timeout SECONDS waits longer; "
	                     "--device logs in without a browser on this machine)",
	                     wait_s,
	                     refused_state   ? " (a redirect carrying another request's state "
	                                       "was refused)"
	                     : refused_other ? " (requests that were not the redirect were refused)"
	                                     : "");
}

/* xdg-open URL, when there is a display; never waited for long. */
